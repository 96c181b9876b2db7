/* Naming the faces of one picture jointly (issue 9, kind 9): the Hungarian
 * assignment against brute force over every assignment on random small
 * matrices, the demo's case (two faces nearest to one person), the
 * candidate-list form against the dense one, and person-level top-k search
 * against a brute-force scan of a real gallery file. */
#include <math.h>
#include <string.h>
#include "t.h"
#include "gallery/gallery.h"

static unsigned rng = 12345u;
static double urand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (rng >> 8) / 16777216.0;
}

/* ---- brute force: every assignment of distinct people (or unknown) ---- */

typedef struct bf { const float *d; int nf, np; float t; double best; int used[16], cur[16], arg[16]; } bf;

static void bf_walk(bf *b, int i, double cost)
{
    if (cost >= b->best + 1e-12) return;
    if (i == b->nf) {
        b->best = cost;
        memcpy(b->arg, b->cur, sizeof b->cur);
        return;
    }
    b->cur[i] = -1;
    bf_walk(b, i + 1, cost + b->t);
    for (int j = 0; j < b->np; j++) {
        float x = b->d[i * b->np + j];
        if (b->used[j] || !(x <= b->t)) continue;
        b->used[j] = 1;
        b->cur[i] = j;
        bf_walk(b, i + 1, cost + x);
        b->used[j] = 0;
    }
}

static double cost_of(const float *d, int nf, int np, float t, const int *a, int *valid)
{
    double c = 0;
    int used[16] = {0};
    *valid = 1;
    for (int i = 0; i < nf; i++) {
        if (a[i] < 0) { c += t; continue; }
        if (a[i] >= np || used[a[i]] || !(d[i * np + a[i]] <= t)) *valid = 0;
        else used[a[i]] = 1;
        c += d[i * np + a[i]];
    }
    return c;
}

static void test_brute_force(void)
{
    int trials = 3000, same = 0, worst_i = -1;
    double worst = 0;
    for (int trial = 0; trial < trials; trial++) {
        int nf = 1 + (int)(urand() * 7), np = 1 + (int)(urand() * 7);
        float t = (float)(0.6 + 0.7 * urand()), d[49];
        for (int k = 0; k < nf * np; k++) d[k] = urand() < 0.1 ? INFINITY : (float)(0.2 + 1.4 * urand());
        int a[7];
        T_CHECK(fn_assign_faces(d, nf, np, t, a) == FN_OK, "assign: %s", fn_last_error());
        bf b = {d, nf, np, t, INFINITY, {0}, {0}, {0}};
        bf_walk(&b, 0, 0);
        int valid;
        double c = cost_of(d, nf, np, t, a, &valid);
        T_CHECK(valid, "trial %d: invalid assignment", trial);
        if (fabs(c - b.best) > worst) { worst = fabs(c - b.best); worst_i = trial; }
        same += memcmp(a, b.arg, (size_t)nf * sizeof *a) == 0;
    }
    T_CHECK(worst < 1e-5, "worst cost difference to brute force %.3g (trial %d)", worst, worst_i);
    T_CHECK(same == trials, "%d of %d assignments equal brute force's", same, trials);
    printf("brute force: %d random matrices up to 7 x 7: worst total-cost difference %.2g, %d/%d identical\n", trials,
           worst, same, trials);
}

/* make demo's sample3.jpg: two women both nearest to "Person 3" (0.63 and
 * 1.08, threshold 1.09).  The nearer keeps the name; the other gets her next
 * candidate within the threshold, else unknown. */
static void test_demo_case(void)
{
    const float t = 1.09f;
    float d1[2 * 3] = {1.30f, 1.40f, 0.63f,    /* face 0: Person 3 at 0.63 */
                       1.20f, 1.50f, 1.08f};   /* face 1: Person 3 at 1.08, nobody else within 1.09 */
    int a[2];
    T_CHECK(fn_assign_faces(d1, 2, 3, t, a) == FN_OK && a[0] == 2 && a[1] == -1, "demo: %d %d", a[0], a[1]);
    float d2[2 * 3] = {1.30f, 1.40f, 0.63f,
                       1.20f, 0.95f, 1.08f};   /* face 1's next: Person 2 at 0.95 */
    T_CHECK(fn_assign_faces(d2, 2, 3, t, a) == FN_OK && a[0] == 2 && a[1] == 1, "demo, next candidate: %d %d", a[0], a[1]);
    /* the nearest face is not always the winner: face 0 has a near second choice */
    float d3[2 * 2] = {0.50f, 0.55f,
                       0.60f, 1.50f};
    T_CHECK(fn_assign_faces(d3, 2, 2, t, a) == FN_OK && a[0] == 1 && a[1] == 0, "swap: %d %d", a[0], a[1]);
    /* no face within the threshold of anyone: all unknown; empty cases */
    float d4[2] = {1.5f, 1.6f};
    T_CHECK(fn_assign_faces(d4, 2, 1, t, a) == FN_OK && a[0] == -1 && a[1] == -1, "all unknown");
    T_CHECK(fn_assign_faces(NULL, 0, 5, t, a) == FN_OK && fn_assign_faces(d4, 2, 0, t, a) == FN_OK && a[0] == -1, "empty");
    T_CHECK(fn_assign_faces(d4, 2, 1, NAN, a) == FN_ERR_ARG, "NaN threshold");
    T_CHECK(fn_assign_faces(d4, -1, 1, t, a) == FN_ERR_ARG, "negative size");
    printf("demo case: Person 3 names the face at 0.63; the face at 1.08 gets its next candidate (0.95) or unknown\n");
}

/* Candidate lists of k = n_faces per face give the dense optimum. */
static void test_candidates(void)
{
    int trials = 1000, bad = 0;
    for (int trial = 0; trial < trials; trial++) {
        int nf = 1 + (int)(urand() * 6), np = 1 + (int)(urand() * 12);
        float t = (float)(0.7 + 0.5 * urand()), d[6 * 12];
        for (int k = 0; k < nf * np; k++) d[k] = (float)(0.2 + 1.4 * urand());
        int dense[6], choice[6];
        fn_assign_faces(d, nf, np, t, dense);
        /* each face's nf nearest people, nearest first (person id = column + 100) */
        fn_gallery_hit cand[6 * 6];
        int k = nf;
        for (int i = 0; i < nf; i++) {
            int taken[12] = {0};
            for (int r = 0; r < k; r++) {
                int bj = -1;
                for (int j = 0; j < np; j++)
                    if (!taken[j] && (bj < 0 || d[i * np + j] < d[i * np + bj])) bj = j;
                fn_gallery_hit h = {-1, -1, INFINITY};
                if (bj >= 0) { taken[bj] = 1; h = (fn_gallery_hit){1000 + bj, 100 + bj, d[i * np + bj]}; }
                cand[i * k + r] = h;
            }
        }
        T_CHECK(fn_assign_candidates(cand, nf, k, t, choice) == FN_OK, "candidates: %s", fn_last_error());
        for (int i = 0; i < nf; i++) {
            int person = choice[i] < 0 ? -1 : (int)cand[i * k + choice[i]].person_id - 100;
            bad += person != dense[i];
        }
    }
    T_CHECK(bad == 0, "%d faces named differently from the dense assignment", bad);
    printf("candidates: %d random cases, top-k lists (k = faces) name every face as the dense matrix does\n", trials);
}

/* fn_gallery_search_people against a brute-force scan of the same rows. */
enum { DIM = 8, NP = 30, MAXI = 4, NQ = 40, K = 5 };

static void test_search_people(void)
{
    const fn_gallery_model model = {"test-net@sha256:abc", DIM, "x"};
    char path[512];
    snprintf(path, sizeof path, "%s/people.db", t_tmpdir());
    fn_gallery *g = NULL;
    T_CHECK(fn_gallery_open(path, &model, FN_GALLERY_CREATE, &g) == FN_OK, "open: %s", fn_last_error());
    if (!g) return;
    static float emb[NP * MAXI][DIM];
    int person_of[NP * MAXI];
    int64_t image_of[NP * MAXI];
    int n = 0;
    fn_gallery_begin(g);
    for (int p = 0; p < NP; p++) {
        int ni = 1 + (int)(urand() * MAXI);
        for (int i = 0; i < ni; i++, n++) {
            float nn = 0;
            for (int d = 0; d < DIM; d++) { emb[n][d] = (float)(urand() - 0.5); nn += emb[n][d] * emb[n][d]; }
            for (int d = 0; d < DIM; d++) emb[n][d] /= sqrtf(nn);
            char name[16], tag[32], hash[65];
            snprintf(name, sizeof name, "p%02d", p);
            snprintf(tag, sizeof tag, "%d-%d", p, i);
            fn_sha256_hex(tag, strlen(tag), hash);
            fn_gallery_face f = {name, tag, hash, {0, 0, 10, 10}, 1, emb[n]};
            fn_gallery_add_info info;
            T_CHECK(fn_gallery_add_ex(g, &f, 0, &info) == FN_OK, "add: %s", fn_last_error());
            person_of[n] = p;
            image_of[n] = info.image_id;
        }
    }
    fn_gallery_commit(g);
    static float q[NQ][DIM];
    for (int i = 0; i < NQ; i++)
        for (int d = 0; d < DIM; d++) q[i][d] = (float)(urand() - 0.5);
    fn_gallery_scratch *s = NULL;
    fn_gallery_scratch_new(g, 16, &s);   /* 40 queries: chunks of 16 */
    fn_gallery_hit hits[NQ * K];
    T_CHECK(fn_gallery_search_people(g, s, &q[0][0], NQ, K, hits) == FN_OK, "search: %s", fn_last_error());
    int mism = 0;
    double worst = 0;
    for (int i = 0; i < NQ; i++) {
        float qn[DIM], nn = 0;
        for (int d = 0; d < DIM; d++) nn += q[i][d] * q[i][d];
        for (int d = 0; d < DIM; d++) qn[d] = q[i][d] / sqrtf(nn);
        int best_row[NP];
        double best[NP];
        for (int p = 0; p < NP; p++) { best[p] = INFINITY; best_row[p] = -1; }
        for (int r = 0; r < n; r++) {
            double d = 0;
            for (int c = 0; c < DIM; c++) d += ((double)qn[c] - emb[r][c]) * ((double)qn[c] - emb[r][c]);
            d = sqrt(d);
            if (d < best[person_of[r]]) { best[person_of[r]] = d; best_row[person_of[r]] = r; }
        }
        int taken[NP] = {0};
        for (int k = 0; k < K; k++) {
            int bp = -1;
            for (int p = 0; p < NP; p++)
                if (!taken[p] && (bp < 0 || best[p] < best[bp])) bp = p;
            taken[bp] = 1;
            const fn_gallery_hit *h = &hits[i * K + k];
            mism += h->image_id != image_of[best_row[bp]];
            if (fabs(h->distance - best[bp]) > worst) worst = fabs(h->distance - best[bp]);
        }
        /* one person at most once, and every hit's person id is that of its image */
        for (int k = 0; k < K; k++)
            for (int j = k + 1; j < K; j++) mism += hits[i * K + k].person_id == hits[i * K + j].person_id;
    }
    T_CHECK(mism == 0 && worst < 1e-5, "person top-%d: %d mismatches, worst distance error %.2g", K, mism, worst);
    /* more slots than people: the rest empty */
    fn_gallery_hit many[NP + 3];
    T_CHECK(fn_gallery_search_people(g, s, q[0], 1, NP + 3, many) == FN_OK && many[NP - 1].person_id >= 0 &&
            many[NP].person_id == -1 && isinf(many[NP + 2].distance), "k beyond the people");
    T_CHECK(fn_gallery_search_people(g, s, q[0], 1, 0, many) == FN_ERR_ARG, "k = 0 accepted");
    printf("person-level top-%d: %d queries against %d rows of %d people: %d mismatches, worst distance error %.2g\n",
           K, NQ, n, NP, mism, worst);
    fn_gallery_scratch_free(s);
    fn_gallery_close(g);
}

/* fn_gallery_name_faces on a gallery file: A = e0, B = e1, C = e2.
 * face 0 = e0 (A at 0); face 1 = 0.6 e0 + 0.45 e1 + sqrt(0.4375) e3: A at
 * sqrt(0.8) = 0.894, B at sqrt(1.1) = 1.049; face 2 = e5: everyone at
 * sqrt(2).  Threshold 1.09: jointly A, B (face 1 displaced), unknown; with
 * repeats allowed A, A, unknown. */
static void test_name_faces(void)
{
    const fn_gallery_model model = {"test-net@sha256:abc", DIM, "x"};
    char path[512];
    snprintf(path, sizeof path, "%s/name.db", t_tmpdir());
    fn_gallery *g = NULL;
    T_CHECK(fn_gallery_open(path, &model, FN_GALLERY_CREATE, &g) == FN_OK, "open: %s", fn_last_error());
    if (!g) return;
    const char *names[3] = {"A", "B", "C"};
    for (int p = 0; p < 3; p++) {
        float e[DIM] = {0};
        char hash[65];
        e[p] = 1;
        fn_sha256_hex(names[p], 1, hash);
        fn_gallery_face f = {names[p], names[p], hash, {0, 0, 10, 10}, 1, e};
        fn_gallery_add(g, &f, NULL, NULL);
    }
    float faces[3][DIM] = {{1}, {0.6f, 0.45f, 0, sqrtf(0.4375f)}, {0, 0, 0, 0, 0, 1}};
    fn_gallery_scratch *s = NULL;
    fn_gallery_scratch_new(g, 4, &s);
    fn_gallery_naming out[3];
    T_CHECK(fn_gallery_name_faces(g, s, &faces[0][0], 3, 1.09f, 0, out) == FN_OK, "name: %s", fn_last_error());
    T_CHECK(!strcmp(out[0].name, "A") && !strcmp(out[1].name, "B") && out[2].name[0] == 0 && out[2].named.person_id == -1,
            "joint: '%s' '%s' '%s'", out[0].name, out[1].name, out[2].name);
    T_CHECK(fabsf(out[1].named.distance - sqrtf(1.1f)) < 1e-5f && !strcmp(out[1].nearest.best_name, "A") &&
            fabsf(out[1].nearest.best.distance - sqrtf(0.8f)) < 1e-5f && out[1].displaced && !out[0].displaced,
            "face 1: named %.4f, nearest '%s' %.4f, displaced %d", out[1].named.distance, out[1].nearest.best_name,
            out[1].nearest.best.distance, out[1].displaced);
    T_CHECK(fn_gallery_name_faces(g, s, &faces[0][0], 3, 1.09f, FN_GALLERY_ALLOW_REPEATS, out) == FN_OK &&
            !strcmp(out[0].name, "A") && !strcmp(out[1].name, "A") && !out[2].name[0] && !out[1].displaced,
            "repeats: '%s' '%s' '%s'", out[0].name, out[1].name, out[2].name);
    /* B removed: face 1 has no other candidate within 1.09, so unknown (nearest still A) */
    fn_gallery_remove_person(g, "B", NULL);
    T_CHECK(fn_gallery_name_faces(g, s, &faces[0][0], 3, 1.09f, 0, out) == FN_OK && !strcmp(out[0].name, "A") &&
            !out[1].name[0] && !strcmp(out[1].nearest.best_name, "A") && out[1].displaced, "displaced to unknown: '%s'",
            out[1].name);
    T_CHECK(fn_gallery_name_faces(g, s, &faces[0][0], 3, NAN, 0, out) == FN_ERR_ARG, "NaN threshold");
    printf("name faces: jointly A, B (displaced from A at 0.894 to B at 1.049), unknown; repeats allowed: A, A\n");
    fn_gallery_scratch_free(s);
    fn_gallery_close(g);
}

int main(void)
{
    test_brute_force();
    test_demo_case();
    test_candidates();
    test_search_people();
    test_name_faces();
    return T_DONE();
}
