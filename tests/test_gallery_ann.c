/* The ANN path of gallery search (FAISS HNSW candidates, exact re-scoring)
 * against the exact BLAS scan on the same rows (the oracle), on generated
 * identities: several unit-norm images per person around a random centre.
 * Checks recall@1 and person-level agreement, that every reported distance
 * is the exact one of its image, that a person with hundreds of images does
 * not hide the second-best person, incremental enrol/remove, and the
 * sidecar file: saved at close, reconciled when stale, rebuilt when damaged. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "t.h"
#include "gallery/gallery.h"
#include "gallery/index.h"
#include "core/sha256.h"
#include "gallery/faiss_shim.h"

enum { DIM = 64, PER = 4, PEOPLE = 600, NQ = 200 };
#define SPREAD 0.75f   /* image = centre + SPREAD x N(0, I/dim): same-person distance ~0.85, others ~1.41 */

static uint64_t rng = 0x243F6A8885A308D3ull;
static double urand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}
static float nrand(void) { return (float)(sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand())); }
static void unit(float *v)
{
    double s = 0;
    for (int i = 0; i < DIM; i++) s += (double)v[i] * v[i];
    for (int i = 0; i < DIM; i++) v[i] = (float)(v[i] / sqrt(s));
}
static void centre(float *c) { for (int i = 0; i < DIM; i++) c[i] = nrand(); unit(c); }
static void image_of(float *v, const float *c, float spread)
{
    for (int i = 0; i < DIM; i++) v[i] = c[i] + spread * nrand() / sqrtf(DIM);
    unit(v);
}

static float exact_distance(const fn_gindex *x, int64_t image, const float *q)
{
    for (size_t r = 0; r < x->n; r++)
        if (x->image_id[r] == image) {
            double s = 0, nq = 0;
            for (int i = 0; i < DIM; i++) s += (double)q[i] * x->vec[r * DIM + i], nq += (double)q[i] * q[i];
            return (float)sqrt(fmax(0.0, 2.0 - 2.0 * s / sqrt(nq)));
        }
    return NAN;
}

static fn_gann_params small_params(void)
{
    fn_gann_params p = fn_gann_default_params();
    p.min_rows = 1000;
    return p;
}

/* Queries: fresh images of enrolled people. */
static void make_queries(float *q, const float *centres, int n_people)
{
    for (int i = 0; i < NQ; i++) image_of(q + (size_t)i * DIM, centres + (size_t)(i * 7 % n_people) * DIM, SPREAD);
}

static void compare(const char *what, const fn_gindex *x, fn_gallery_scratch *s, const float *q, double min_recall)
{
    enum { K = 5 };
    static fn_gallery_match ma[NQ], me[NQ];
    static fn_gallery_hit ta[NQ * K], te[NQ * K], pa[NQ * 3], pe[NQ * 3];
    T_CHECK(fn_gindex_uses_ann(x), "%s: the ANN path is on", what);
    T_CHECK(fn_gindex_search(x, s, q, NQ, K, ma, ta) == FN_OK, "%s: ANN search: %s", what, fn_last_error());
    T_CHECK(fn_gindex_search_exact(x, s, q, NQ, K, me, te) == FN_OK, "%s: exact search", what);
    T_CHECK(fn_gindex_search_people(x, s, q, NQ, 3, pa) == FN_OK, "%s: ANN people: %s", what, fn_last_error());
    T_CHECK(fn_gindex_search_people_exact(x, s, q, NQ, 3, pe) == FN_OK, "%s: exact people", what);
    int top1 = 0, best = 0, second = 0, people3 = 0, recall10 = 0;
    float worst = 0;
    for (int i = 0; i < NQ; i++) {
        const float *qi = q + (size_t)i * DIM;
        top1 += ta[i * K].image_id == te[i * K].image_id;
        best += ma[i].best.person_id == me[i].best.person_id;
        second += ma[i].second.person_id == me[i].second.person_id;
        for (int j = 0; j < 3; j++) people3 += pa[i * 3 + j].person_id == pe[i * 3 + j].person_id;
        for (int j = 0; j < K; j++)
            for (int l = 0; l < K; l++) recall10 += ta[i * K + j].image_id == te[i * K + l].image_id;
        /* exact re-scoring: every reported distance is its image's true distance */
        for (int j = 0; j < K; j++) {
            float d = fabsf(ta[i * K + j].distance - exact_distance(x, ta[i * K + j].image_id, qi));
            if (!(d <= worst)) worst = isnan(d) ? INFINITY : d;
        }
        float d = fabsf(ma[i].best.distance - exact_distance(x, ma[i].best.image_id, qi));
        if (!(d <= worst)) worst = isnan(d) ? INFINITY : d;
    }
    printf("%s: recall@1 %.3f, recall@%d %.3f, best person %.3f, second person %.3f, 3 people %.3f; "
           "worst distance error %.2g\n", what, (double)top1 / NQ, K, (double)recall10 / (NQ * K), (double)best / NQ,
           (double)second / NQ, (double)people3 / (NQ * 3), worst);
    T_CHECK(top1 >= min_recall * NQ, "%s: recall@1 %d/%d below %.2f", what, top1, NQ, min_recall);
    T_CHECK(best >= min_recall * NQ, "%s: best person %d/%d below %.2f", what, best, NQ, min_recall);
    T_CHECK(second >= (min_recall - 0.05) * NQ, "%s: second person %d/%d", what, second, NQ);
    T_CHECK(worst < 2e-5f, "%s: a distance differs from the exact one by %g", what, worst);
}

static float *centres_g, *rows_g;
static int64_t n_rows_g;

static void generate(void)
{
    centres_g = malloc((size_t)(PEOPLE + 1) * DIM * sizeof(float));
    rows_g = malloc((size_t)(PEOPLE * PER + 300) * DIM * sizeof(float));
    for (int p = 0; p <= PEOPLE; p++) centre(centres_g + (size_t)p * DIM);
    n_rows_g = 0;
    for (int p = 0; p < PEOPLE; p++)
        for (int j = 0; j < PER; j++) image_of(rows_g + (size_t)n_rows_g++ * DIM, centres_g + (size_t)p * DIM, SPREAD);
}

static void test_index(void)
{
    fn_gindex x;
    T_CHECK(fn_gindex_init(&x, DIM) == FN_OK, "init");
    for (int64_t r = 0; r < n_rows_g; r++) fn_gindex_append(&x, r + 1, r / PER + 1, rows_g + (size_t)r * DIM);
    fn_gann_params p = small_params();
    T_CHECK(fn_gindex_ann_build(&x, &p) == FN_OK && x.ann, "build: %s", fn_last_error());
    fn_gallery_scratch *s;
    fn_gscratch_new(DIM, 64, &s);
    static float q[NQ * DIM];
    make_queries(q, centres_g, PEOPLE);
    compare("HNSW, 2400 rows", &x, s, q, 0.97);

    /* one person with 300 tight images beside the query: the first 64
     * candidates (and 4x as many) are all theirs; the second person and the
     * person-level list must still be the exact scan's (a scan, then) */
    float *crowd = centres_g + (size_t)PEOPLE * DIM, v[DIM];
    for (int j = 0; j < 300; j++) {
        image_of(v, crowd, 0.2f);
        fn_gindex_append(&x, n_rows_g + 1 + j, PEOPLE + 1, v);
    }
    T_CHECK(x.ann && x.ann->n == x.n, "incremental: the ANN index follows the appends (%zu of %zu)",
            x.ann ? x.ann->n : 0, x.n);
    float qc[4 * DIM];
    for (int i = 0; i < 4; i++) image_of(qc + i * DIM, crowd, 0.2f);
    fn_gallery_match ma[4], me[4];
    fn_gallery_hit pa[4 * 5], pe[4 * 5];
    T_CHECK(fn_gindex_search(&x, s, qc, 4, 0, ma, NULL) == FN_OK, "crowd search");
    fn_gindex_search_exact(&x, s, qc, 4, 0, me, NULL);
    T_CHECK(fn_gindex_search_people(&x, s, qc, 4, 5, pa) == FN_OK, "crowd people");
    fn_gindex_search_people_exact(&x, s, qc, 4, 5, pe);
    for (int i = 0; i < 4; i++) {
        T_CHECK(ma[i].best.person_id == PEOPLE + 1, "crowd %d: best is the crowd person (%lld)", i, (long long)ma[i].best.person_id);
        T_CHECK(ma[i].second.person_id == me[i].second.person_id && ma[i].second.image_id == me[i].second.image_id &&
                fabsf(ma[i].second.distance - me[i].second.distance) < 1e-5f,
                "crowd %d: second person %lld (image %lld, %.6f), exact scan says %lld (image %lld, %.6f)", i,
                (long long)ma[i].second.person_id, (long long)ma[i].second.image_id, ma[i].second.distance,
                (long long)me[i].second.person_id, (long long)me[i].second.image_id, me[i].second.distance);
        for (int j = 0; j < 5; j++)
            T_CHECK(pa[i * 5 + j].person_id == pe[i * 5 + j].person_id, "crowd %d: person %d is %lld, exact %lld", i, j,
                    (long long)pa[i * 5 + j].person_id, (long long)pe[i * 5 + j].person_id);
    }

    /* remove the crowd: none of its ids may come back, and the new rows of
     * an incremental add are found (a row's own vector is its nearest) */
    size_t removed = fn_gindex_remove_person(&x, PEOPLE + 1);
    T_CHECK(removed == 300 && x.ann && x.ann->dead == 300, "removed %zu rows, %zu dead in the ANN index", removed,
            x.ann ? x.ann->dead : 0);
    T_CHECK(fn_gindex_search(&x, s, qc, 4, 0, ma, NULL) == FN_OK, "after removal");
    for (int i = 0; i < 4; i++)
        T_CHECK(ma[i].best.person_id != PEOPLE + 1 && ma[i].second.person_id != PEOPLE + 1 && ma[i].best.person_id > 0,
                "after removal %d: best %lld, second %lld", i, (long long)ma[i].best.person_id,
                (long long)ma[i].second.person_id);
    for (int j = 0; j < 20; j++) {
        image_of(v, centres_g + (size_t)(j * 13) * DIM, SPREAD);
        int64_t id = n_rows_g + 1000 + j;
        fn_gindex_append(&x, id, 5000 + j, v);
        fn_gallery_hit h;
        T_CHECK(fn_gindex_search(&x, s, v, 1, 1, NULL, &h) == FN_OK && h.image_id == id && h.distance < 1e-3f,
                "new row %lld found as its own nearest (got %lld at %g)", (long long)id, (long long)h.image_id, h.distance);
    }
    int rebuild = 0;
    T_CHECK(fn_gann_reconcile(x.ann, &x, &rebuild) == FN_OK && !rebuild && x.ann->dead == 300,
            "reconcile after removal: rebuild %d, dead %zu", rebuild, x.ann->dead);
    compare("HNSW after enrol/remove", &x, s, q, 0.97);

    /* an unsorted append (ids not ascending) turns the ANN path off, never wrong */
    fn_gindex_append(&x, 5, 77, v);
    T_CHECK(!fn_gindex_uses_ann(&x) && !x.ann, "an unsorted id drops the ANN index");
    fn_gallery_scratch_free(s);
    fn_gindex_release(&x);
}

/* ---- through a gallery file ---- */

static void add_face(fn_gallery *g, const char *person, int64_t tag, const float *v)
{
    char path[48], hash[65];
    snprintf(path, sizeof path, "img%lld.jpg", (long long)tag);
    fn_sha256_hex(path, strlen(path), hash);
    fn_gallery_face f = {person, path, hash, {0, 0, 100, 100}, 0.99f, v};
    fn_gallery_added r;
    T_CHECK(fn_gallery_add(g, &f, &r, NULL) == FN_OK && r == FN_GALLERY_ADDED, "enrol %s: %s", path, fn_last_error());
}

static void same_answers(const char *what, fn_gallery *g, const float *q)
{
    fn_gallery_scratch *s;
    fn_gallery_scratch_new(g, NQ, &s);
    static fn_gallery_match ma[NQ], me[NQ];
    fn_gallery_ann_info info;
    fn_gallery_get_ann(g, &info);
    T_CHECK(info.active && strcmp(info.kind, "hnsw") == 0 && info.ann_bytes > 0, "%s: ANN active (%s, %lld rows)", what,
            info.kind, (long long)info.rows);
    T_CHECK(fn_gallery_search(g, s, q, NQ, 0, ma, NULL) == FN_OK, "%s: search: %s", what, fn_last_error());
    fn_gallery_set_ann(g, -1);
    fn_gallery_get_ann(g, &info);
    T_CHECK(!info.active, "%s: ANN off", what);
    fn_gallery_search(g, s, q, NQ, 0, me, NULL);
    int same = 0;
    for (int i = 0; i < NQ; i++) same += strcmp(ma[i].best_name, me[i].best_name) == 0;
    printf("%s: %d/%d queries named as by the exact scan\n", what, same, NQ);
    T_CHECK(same >= 0.97 * NQ, "%s: %d/%d names as the exact scan", what, same, NQ);
    fn_gallery_set_ann(g, 1000);
    fn_gallery_scratch_free(s);
}

static void test_gallery_file(void)
{
    char path[256], side[270];
    snprintf(path, sizeof path, "%s/ann.db", t_tmpdir());
    snprintf(side, sizeof side, "%s.ann", path);
    fn_gallery_model m = {"test-net", DIM, NULL};
    fn_gallery *g;
    T_CHECK(fn_gallery_open(path, &m, FN_GALLERY_CREATE, &g) == FN_OK, "create: %s", fn_last_error());
    fn_gallery_begin(g);
    char name[32];
    for (int64_t r = 0; r < n_rows_g; r++) {
        snprintf(name, sizeof name, "person %lld", (long long)(r / PER));
        add_face(g, name, r, rows_g + (size_t)r * DIM);
    }
    fn_gallery_commit(g);
    fn_gallery_ann_info info;
    fn_gallery_get_ann(g, &info);
    T_CHECK(!info.active && info.min_rows == FN_GALLERY_ANN_MIN_ROWS, "below the default threshold: exact");
    T_CHECK(fn_gallery_set_ann(g, 1000) == FN_OK, "set_ann");
    static float q[NQ * DIM];
    make_queries(q, centres_g, PEOPLE);
    same_answers("gallery", g, q);
    fn_gallery_close(g);
    struct stat sb;
    T_CHECK(stat(side, &sb) == 0 && sb.st_size > (off_t)(n_rows_g * DIM * 4), "the sidecar %s was written at close", side);

    /* another handle without ANN enrols and removes: the sidecar is stale */
    T_CHECK(fn_gallery_open(path, &m, 0, &g) == FN_OK, "reopen");
    float v[DIM];
    image_of(v, centres_g + (size_t)PEOPLE * DIM, SPREAD);
    add_face(g, "newcomer", 999999, v);
    T_CHECK(fn_gallery_remove_person(g, "person 3", NULL) == FN_OK, "remove");
    fn_gallery_close(g);
    struct stat sb2;
    T_CHECK(stat(side, &sb2) == 0 && sb2.st_mtime == sb.st_mtime && sb2.st_size == sb.st_size,
            "a handle below its threshold leaves the sidecar alone");

    T_CHECK(fn_gallery_open(path, &m, FN_GALLERY_READONLY, &g) == FN_OK, "reopen read-only");
    T_CHECK(fn_gallery_set_ann(g, 1000) == FN_OK, "set_ann (reads the stale sidecar, reconciles)");
    fn_gallery_scratch *s;
    fn_gallery_scratch_new(g, 4, &s);
    fn_gallery_match mt;
    T_CHECK(fn_gallery_search(g, s, v, 1, 0, &mt, NULL) == FN_OK && strcmp(mt.best_name, "newcomer") == 0 &&
            mt.best.distance < 1e-3f, "stale sidecar: the newcomer is found (%s, %g)", mt.best_name, mt.best.distance);
    const float *gone = rows_g + (size_t)3 * PER * DIM;
    T_CHECK(fn_gallery_search(g, s, gone, 1, 0, &mt, NULL) == FN_OK && strcmp(mt.best_name, "person 3") != 0 &&
            strcmp(mt.second_name, "person 3") != 0, "stale sidecar: the removed person is never named (%s)", mt.best_name);
    same_answers("stale sidecar reconciled", g, q);
    fn_gallery_scratch_free(s);
    fn_gallery_close(g);

    /* a damaged sidecar: rebuilt, same answers */
    FILE *f = fopen(side, "r+b");
    if (f) { fseek(f, 40, SEEK_SET); fputs("garbage garbage garbage", f); fclose(f); }
    T_CHECK(fn_gallery_open(path, &m, 0, &g) == FN_OK, "open with a damaged sidecar");
    T_CHECK(fn_gallery_set_ann(g, 1000) == FN_OK, "set_ann with a damaged sidecar");
    same_answers("damaged sidecar rebuilt", g, q);
    fn_gallery_close(g);
    f = fopen(side, "wb");
    if (f) { fputs("FNANN", f); fclose(f); }
    T_CHECK(fn_gallery_open(path, &m, 0, &g) == FN_OK && fn_gallery_set_ann(g, 1000) == FN_OK, "truncated sidecar");
    fn_gallery_get_ann(g, &info);
    T_CHECK(info.active, "truncated sidecar: rebuilt");
    fn_gallery_close(g);
}

/* faiss_shim's HNSW storage computes inner products with its own
 * vectorised loop (Debian's FAISS has only the scalar one): every score
 * the index returns must be the double-precision dot product of the query
 * and that id's row, at dimensions that leave a tail after the 32- and
 * 8-float steps, before and after the index goes through a file (where the
 * storage is swapped in again). */
static void test_scores(void)
{
    enum { N = 400, K = 50 };
    static const int dims[] = {61, 192, 512};
    for (int di = 0; di < 3; di++) {
        int d = dims[di];
        float *x = malloc((size_t)N * d * sizeof(float)), scores[K];
        int64_t ids[N], got[K];
        for (int i = 0; i < N; i++) {
            double ss = 0;
            for (int j = 0; j < d; j++) x[(size_t)i * d + j] = nrand(), ss += (double)x[(size_t)i * d + j] * x[(size_t)i * d + j];
            for (int j = 0; j < d; j++) x[(size_t)i * d + j] = (float)(x[(size_t)i * d + j] / sqrt(ss));
            ids[i] = 1000 + i;
        }
        fn_faiss *f = NULL;
        T_CHECK(fn_faiss_new(d, "IDMap,HNSW32", &f) == FN_OK, "d %d: new: %s", d, fn_last_error());
        if (!f) { free(x); continue; }
        T_CHECK(fn_faiss_add(f, N, x, ids) == FN_OK, "d %d: add", d);
        for (int round = 0; round < 2; round++) {
            double worst = 0;
            int found = 0, q0 = 7;
            T_CHECK(fn_faiss_search(f, 1, x + (size_t)q0 * d, K, scores, got) == FN_OK, "d %d: search", d);
            for (int k = 0; k < K; k++) {
                if (got[k] < 1000 || got[k] >= 1000 + N) continue;
                found++;
                const float *r = x + (size_t)(got[k] - 1000) * d;
                double dot = 0;
                for (int j = 0; j < d; j++) dot += (double)x[(size_t)q0 * d + j] * r[j];
                if (fabs(dot - scores[k]) > worst) worst = fabs(dot - scores[k]);
            }
            printf("faiss scores, %d-d, %s: %d hits, worst |score - dot| %.2g, first hit %lld (the query's own row %d)\n", d,
                   round ? "read back from a file" : "built", found, worst, (long long)got[0], 1000 + q0);
            T_CHECK(found == K && worst < 1e-5, "d %d: %d hits, worst score error %g", d, found, worst);
            T_CHECK(got[0] == 1000 + q0, "d %d: the query's own row comes first", d);
            if (round) break;
            FILE *tf = tmpfile();
            T_CHECK(tf && fn_faiss_write(f, tf) == FN_OK, "d %d: write", d);
            fn_faiss_free(f);
            f = NULL;
            if (tf) rewind(tf);
            T_CHECK(tf && fn_faiss_read(tf, &f) == FN_OK, "d %d: read: %s", d, fn_last_error());
            if (tf) fclose(tf);
            if (!f) break;
        }
        fn_faiss_free(f);
        free(x);
    }
}

int main(void)
{
    generate();
    test_scores();
    test_index();
    test_gallery_file();
    free(centres_g);
    free(rows_g);
    return T_DONE();
}
