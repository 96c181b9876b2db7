/* Gallery search against a brute-force oracle: every query scored in double
 * precision, all rows sorted by (distance, image id), people by their best
 * image.  Both the BLAS path and the plain-C reference are checked, through
 * the bare index and through a real gallery file, and from several threads. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "t.h"
#include "gallery/gallery.h"
#include "gallery/index.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}
static float nrand(void) { return (float)(sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand())); }
static void rand_vecs(float *v, long n, int dim)
{
    for (long i = 0; i < n * dim; i++) v[i] = nrand();   /* not normalised: the index must do it */
}

/* ---- the oracle ---- */

typedef struct bf_row { double score; int64_t image, person; } bf_row;

static int bf_cmp(const void *a, const void *b)
{
    const bf_row *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->image < y->image ? -1 : x->image > y->image;
}

static double dot_d(const float *a, const float *b, int n, double na, double nb)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s / (na * nb);
}
static double norm_d(const float *a, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * a[i];
    return sqrt(s);
}
static double dist_of(double cosine) { return sqrt(fmax(0.0, 2.0 - 2.0 * cosine)); }

/* Rows sorted best first for one query (raw rows: the oracle normalises itself). */
static void bf_rank(const float *rows, const int64_t *img, const int64_t *per, long n, int dim, const float *q, bf_row *out)
{
    double nq = norm_d(q, dim);
    for (long r = 0; r < n; r++)
        out[r] = (bf_row){dot_d(q, rows + r * dim, dim, nq, norm_d(rows + r * dim, dim)), img[r], per[r]};
    qsort(out, n, sizeof *out, bf_cmp);
}

/* Where does image id sit in the ranking (its score)? */
static double bf_score_of(const bf_row *rk, long n, int64_t image)
{
    for (long i = 0; i < n; i++) if (rk[i].image == image) return rk[i].score;
    return NAN;
}

typedef struct worst { double dist;   /* cosine error */ const char *what; int dim; long n, q, slot; } worst;
static void note(worst *w, double d, const char *what, int dim, long n, long q, long slot)
{
    if (d > w->dist) *w = (worst){d, what, dim, n, q, slot};
}

#define TIE_EPS 2e-6   /* cosines closer than this may legitimately swap (float vs double) */
#define COS_TOL 1e-6   /* float32 cosines of unit vectors: a few ulps of 1 */

/* Error of a float distance measured as the cosine it stands for: near
 * distance 0 the square root magnifies any rounding, the cosine does not. */
static double cos_err(float d, double cosine) { return fabs((1.0 - 0.5 * (double)d * d) - cosine); }

/* Compare one query's results with the oracle ranking. */
static void check_query(const bf_row *rk, long n, int k, const fn_gallery_hit *hits, const fn_gallery_match *m,
                        worst *w, int dim, long q, const char *path)
{
    for (int i = 0; i < k; i++) {
        if (i >= n) {
            T_CHECK(hits[i].image_id == -1 && isinf(hits[i].distance), "%s dim %d n %ld: slot %d past the end has id %lld",
                    path, dim, n, i, (long long)hits[i].image_id);
            continue;
        }
        if (hits[i].image_id != rk[i].image) {
            double s = bf_score_of(rk, n, hits[i].image_id);
            T_CHECK(fabs(s - rk[i].score) < TIE_EPS, "%s dim %d n %ld q %ld: slot %d id %lld (cos %.9f) vs oracle %lld (cos %.9f)",
                    path, dim, n, q, i, (long long)hits[i].image_id, s, (long long)rk[i].image, rk[i].score);
        }
        double e = cos_err(hits[i].distance, rk[i].score);
        note(w, e, path, dim, n, q, i);
        T_CHECK(e < COS_TOL, "%s dim %d n %ld q %ld slot %d: distance %.7f, oracle %.7f", path, dim, n, q, i,
                hits[i].distance, dist_of(rk[i].score));
    }
    if (!m) return;
    /* people: best is the first row; second is the first row of anyone else */
    const bf_row *b = &rk[0], *s2 = NULL;
    for (long i = 1; i < n && !s2; i++) if (rk[i].person != b->person) s2 = &rk[i];
    if (m->best.person_id != b->person)
        T_CHECK(fabs(bf_score_of(rk, n, m->best.image_id) - b->score) < TIE_EPS, "%s dim %d n %ld q %ld: best person %lld, oracle %lld",
                path, dim, n, q, (long long)m->best.person_id, (long long)b->person);
    note(w, cos_err(m->best.distance, b->score), path, dim, n, q, -1);
    T_CHECK(m->second.person_id != m->best.person_id || m->second.person_id == -1,
            "%s: second-best is the best person again (%lld)", path, (long long)m->best.person_id);
    if (!s2) {
        T_CHECK(m->second.person_id == -1 && isinf(m->second.distance), "%s dim %d n %ld: one person, second %lld",
                path, dim, n, (long long)m->second.person_id);
        return;
    }
    if (m->second.person_id != s2->person)
        T_CHECK(fabs(bf_score_of(rk, n, m->second.image_id) - s2->score) < TIE_EPS,
                "%s dim %d n %ld q %ld: second person %lld, oracle %lld", path, dim, n, q,
                (long long)m->second.person_id, (long long)s2->person);
    double e = cos_err(m->second.distance, s2->score);
    note(w, e, path, dim, n, q, -2);
    T_CHECK(e < COS_TOL, "%s dim %d n %ld q %ld: second distance %.7f, oracle %.7f", path, dim, n, q,
            m->second.distance, dist_of(s2->score));
}

/* ---- random galleries through the bare index ---- */

static void test_random_index(void)
{
    static const int dims[] = {3, 128, 192, 512};
    static const long sizes[] = {1, 7, 1000, 2600};   /* 2600 crosses two block boundaries */
    static const int ks[] = {1, 5, 40};
    worst wf = {0}, wr = {0};
    for (size_t di = 0; di < 4; di++)
        for (size_t ni = 0; ni < 4; ni++) {
            int dim = dims[di], nq = 37;
            long n = sizes[ni];
            float *rows = malloc(n * dim * sizeof(float)), *q = malloc(nq * dim * sizeof(float));
            int64_t *img = malloc(n * sizeof(int64_t)), *per = malloc(n * sizeof(int64_t));
            bf_row *rk = malloc(nq * n * sizeof(bf_row));
            rand_vecs(rows, n, dim);
            rand_vecs(q, nq, dim);
            fn_gindex x;
            fn_gindex_init(&x, dim);
            int64_t id = 100;
            for (long r = 0; r < n; r++) {
                img[r] = id += 1 + (int64_t)(urand() * 3);          /* increasing, with gaps */
                per[r] = 1 + (int64_t)(urand() * (n / 3 + 1));      /* about 3 images a person */
                T_CHECK(fn_gindex_append(&x, img[r], per[r], rows + r * dim) == FN_OK, "append: %s", fn_last_error());
            }
            fn_gallery_scratch *s;
            T_CHECK(fn_gscratch_new(dim, 16, &s) == FN_OK, "scratch");   /* 37 queries: 3 chunks */
            for (int i = 0; i < nq; i++) bf_rank(rows, img, per, n, dim, q + i * dim, rk + i * n);
            for (size_t ki = 0; ki < 3; ki++) {
                int k = ks[ki];
                fn_gallery_hit *hf = malloc(nq * k * sizeof *hf), *hr = malloc(nq * k * sizeof *hr);
                fn_gallery_match *mf = malloc(nq * sizeof *mf), *mr = malloc(nq * sizeof *mr);
                T_CHECK(fn_gindex_search(&x, s, q, nq, k, mf, hf) == FN_OK, "search: %s", fn_last_error());
                T_CHECK(fn_gindex_search_ref(&x, s, q, nq, k, mr, hr) == FN_OK, "search_ref: %s", fn_last_error());
                for (int i = 0; i < nq; i++) {
                    check_query(rk + i * n, n, k, hf + i * k, mf + i, &wf, dim, i, "blas");
                    check_query(rk + i * n, n, k, hr + i * k, mr + i, &wr, dim, i, "ref");
                }
                free(hf); free(hr); free(mf); free(mr);
            }
            fn_gallery_scratch_free(s);
            fn_gindex_release(&x);
            free(rows); free(q); free(img); free(per); free(rk);
        }
    printf("random index: worst cosine error (distance as cosine) blas %.3g (dim %d, n %ld, query %ld, slot %ld), ref %.3g (dim %d, n %ld)\n",
           wf.dist, wf.dim, wf.n, wf.q, wf.slot, wr.dist, wr.dim, wr.n);
}

/* ---- exact ties: one-hot rows score exactly 1 or 0 in any summation order ---- */

static void test_ties(void)
{
    enum { DIM = 8, N = 3000 };
    fn_gindex x;
    fn_gindex_init(&x, DIM);
    float e0[DIM] = {1}, e1[DIM] = {0, 1};
    /* ids in a scrambled order (row order must not matter), persons 1..7 */
    for (int r = 0; r < N; r++) {
        int64_t id = 1 + (int64_t)((r * 7919L) % N);
        fn_gindex_append(&x, id, 1 + id % 7, r % 5 == 4 ? e1 : e0);
    }
    fn_gallery_scratch *s;
    fn_gscratch_new(DIM, 4, &s);
    fn_gallery_hit h[6];
    fn_gallery_match m;
    for (int path = 0; path < 2; path++) {
        fn_status st = (path ? fn_gindex_search_ref : fn_gindex_search)(&x, s, e0, 1, 6, &m, h);
        T_CHECK(st == FN_OK, "ties search: %s", fn_last_error());
        /* e0 rows are those at r % 5 != 4; the smallest ids among them */
        int64_t want[6], got = 0;
        for (int64_t id = 1; id <= N && got < 6; id++) {
            long r = -1;
            for (long j = 0; j < N; j++) if (x.image_id[j] == id) { r = j; break; }
            if (r % 5 != 4) want[got++] = id;
        }
        for (int i = 0; i < 6; i++)
            T_CHECK(h[i].image_id == want[i] && h[i].distance == 0.0f, "%s tie slot %d: id %lld d %g, want id %lld d 0",
                    path ? "ref" : "blas", i, (long long)h[i].image_id, h[i].distance, (long long)want[i]);
        T_CHECK(m.best.image_id == want[0] && m.best.person_id == 1 + want[0] % 7, "tie best %lld", (long long)m.best.image_id);
        /* second: the smallest e0 id whose person differs from the best's */
        int64_t w2 = -1;
        for (int i = 1; i < 6 && w2 < 0; i++) if (1 + want[i] % 7 != 1 + want[0] % 7) w2 = want[i];
        T_CHECK(m.second.image_id == w2 && m.second.distance == 0.0f, "tie second %lld want %lld",
                (long long)m.second.image_id, (long long)w2);
    }
    printf("ties: 3000 exact ties resolved by lowest image id on both paths\n");
    fn_gallery_scratch_free(s);
    fn_gindex_release(&x);
}

/* One person dominates the top-k: the second-best must still be someone else. */
static void test_second_person(void)
{
    enum { DIM = 64 };
    fn_gindex x;
    fn_gindex_init(&x, DIM);
    float q[DIM], v[DIM];
    rand_vecs(q, 1, DIM);
    for (int r = 0; r < 20; r++) {   /* person 5: 20 images close to q */
        for (int j = 0; j < DIM; j++) v[j] = q[j] + 0.05f * nrand();
        fn_gindex_append(&x, r + 1, 5, v);
    }
    for (int r = 0; r < 200; r++) {  /* everyone else far away */
        rand_vecs(v, 1, DIM);
        fn_gindex_append(&x, 100 + r, 6 + r % 40, v);
    }
    fn_gallery_scratch *s;
    fn_gscratch_new(DIM, 1, &s);
    fn_gallery_hit h[10];
    fn_gallery_match m;
    fn_gindex_search(&x, s, q, 1, 10, &m, h);
    int all5 = 1;
    for (int i = 0; i < 10; i++) all5 &= h[i].person_id == 5;
    T_CHECK(all5, "top-10 should all be person 5");
    T_CHECK(m.best.person_id == 5 && m.second.person_id != 5 && m.second.person_id >= 6,
            "best %lld second %lld", (long long)m.best.person_id, (long long)m.second.person_id);
    T_CHECK(m.second.distance > h[9].distance, "second person d %.4f should be beyond the top-10 (%.4f)",
            m.second.distance, h[9].distance);
    /* removing person 5 makes the old second the best */
    int64_t second = m.second.person_id;
    T_CHECK(fn_gindex_remove_person(&x, 5) == 20 && x.n == 200, "remove person 5: n %zu", x.n);
    fn_gindex_search(&x, s, q, 1, 0, &m, NULL);
    T_CHECK(m.best.person_id == second, "after removal best %lld want %lld", (long long)m.best.person_id, (long long)second);
    printf("second person: best 5, second %lld at %.4f (top-10 ends at %.4f)\n", (long long)second, m.best.distance, h[9].distance);
    fn_gallery_scratch_free(s);
    fn_gindex_release(&x);
}

static void test_bad_queries(void)
{
    fn_gindex x;
    fn_gindex_init(&x, 4);
    float one[4] = {1, 2, 3, 4}, zero[4] = {0}, nan4[4] = {1, NAN, 0, 0}, inf4[4] = {INFINITY, 0, 0, 0};
    T_CHECK(fn_gindex_append(&x, 1, 1, zero) == FN_ERR_ARG && x.n == 0, "zero row accepted");
    T_CHECK(fn_gindex_append(&x, 1, 1, nan4) == FN_ERR_ARG && x.n == 0, "NaN row accepted");
    fn_gallery_scratch *s;
    fn_gscratch_new(4, 2, &s);
    fn_gallery_match m;
    fn_status st = fn_gindex_search(&x, s, one, 1, 0, &m, NULL);
    T_CHECK(st == FN_ERR_NOT_FOUND && strstr(fn_last_error(), "gallery is empty"), "empty: %d %s", st, fn_last_error());
    fn_gindex_append(&x, 1, 1, one);
    float qs[8];
    memcpy(qs, one, sizeof one);
    memcpy(qs + 4, nan4, sizeof nan4);
    st = fn_gindex_search(&x, s, qs, 2, 0, &m, NULL);
    T_CHECK(st == FN_ERR_ARG && strstr(fn_last_error(), "query 1"), "NaN query: %d %s", st, fn_last_error());
    T_CHECK(fn_gindex_search(&x, s, zero, 1, 0, &m, NULL) == FN_ERR_ARG, "zero query accepted");
    T_CHECK(fn_gindex_search(&x, s, inf4, 1, 0, &m, NULL) == FN_ERR_ARG, "inf query accepted");
    fn_gallery_scratch *s8;
    fn_gscratch_new(8, 1, &s8);
    T_CHECK(fn_gindex_search(&x, s8, one, 1, 0, &m, NULL) == FN_ERR_ARG, "scratch of another dim accepted");
    fn_gallery_hit h[3];
    T_CHECK(fn_gindex_search(&x, s, one, 1, 3, &m, h) == FN_OK && h[0].image_id == 1 && h[1].image_id == -1 &&
            isinf(h[2].distance) && m.second.person_id == -1 && isinf(m.second.distance), "k > n padding");
    T_CHECK(fabsf(h[0].distance) < 1e-3f, "self distance %g", h[0].distance);
    fn_gallery_scratch_free(s);
    fn_gallery_scratch_free(s8);
    fn_gindex_release(&x);
}

/* ---- through a gallery file, and from several threads ---- */

enum { TDIM = 96, TN = 3000, TQ = 24, TK = 7, TTHREADS = 4, TROUNDS = 15 };

typedef struct tjob {
    fn_gallery *g;
    const float *q;
    const fn_gallery_hit *want;
    const fn_gallery_match *want_m;
    int mismatches;
    double worst;
} tjob;

static void *search_thread(void *arg)
{
    tjob *j = arg;
    fn_gallery_scratch *s;
    fn_gallery_hit h[TQ * TK];
    fn_gallery_match m[TQ];
    if (fn_gallery_scratch_new(j->g, 8, &s) != FN_OK) { j->mismatches = -1; return NULL; }
    for (int round = 0; round < TROUNDS; round++) {
        int nq = 1 + (round * 5) % TQ;   /* single queries (sgemv) and batches (sgemm) */
        if (fn_gallery_search(j->g, s, j->q, nq, TK, m, h) != FN_OK) { j->mismatches++; continue; }
        for (int i = 0; i < nq * TK; i++) {
            j->mismatches += h[i].image_id != j->want[i].image_id;
            double e = fabs(h[i].distance - j->want[i].distance);
            if (e > j->worst) j->worst = e;
        }
        for (int i = 0; i < nq; i++)
            j->mismatches += m[i].best.person_id != j->want_m[i].best.person_id ||
                             m[i].second.person_id != j->want_m[i].second.person_id ||
                             strcmp(m[i].best_name, j->want_m[i].best_name) != 0;
    }
    fn_gallery_scratch_free(s);
    return NULL;
}

static void test_gallery_threads(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/threads.db", t_tmpdir());
    fn_gallery_model model = {"test-model@1", TDIM, "none"};
    fn_gallery *g;
    T_CHECK(fn_gallery_open(path, &model, FN_GALLERY_CREATE, &g) == FN_OK, "create: %s", fn_last_error());
    float *rows = malloc(TN * TDIM * sizeof(float)), q[TQ * TDIM];
    int64_t *img = malloc(TN * sizeof(int64_t)), *per = malloc(TN * sizeof(int64_t));
    rand_vecs(rows, TN, TDIM);
    rand_vecs(q, TQ, TDIM);
    fn_gallery_begin(g);
    for (int r = 0; r < TN; r++) {
        char name[32], hash[65], key[32];
        snprintf(name, sizeof name, "person %03d", r % 700);
        snprintf(key, sizeof key, "img%d", r);
        fn_sha256_hex(key, strlen(key), hash);
        fn_gallery_face f = {name, key, hash, {0, 0, 10, 10}, 0.99f, rows + r * TDIM};
        T_CHECK(fn_gallery_add(g, &f, NULL, &img[r]) == FN_OK, "add %d: %s", r, fn_last_error());
    }
    T_CHECK(fn_gallery_commit(g) == FN_OK, "commit: %s", fn_last_error());
    /* person ids: learn them from the gallery's own answers (name -> id) via the oracle check below */
    fn_gallery_scratch *s;
    fn_gallery_scratch_new(g, 8, &s);
    fn_gallery_hit *want = malloc(TQ * TK * sizeof *want);
    fn_gallery_match want_m[TQ];
    T_CHECK(fn_gallery_search(g, s, q, TQ, TK, want_m, want) == FN_OK, "search: %s", fn_last_error());
    /* the file-backed search against the oracle: person ids are first-seen order of names */
    for (int r = 0; r < TN; r++) per[r] = 1 + r % 700;
    bf_row *rk = malloc(TN * sizeof *rk);
    worst w = {0};
    for (int i = 0; i < TQ; i++) {
        bf_rank(rows, img, per, TN, TDIM, q + i * TDIM, rk);
        check_query(rk, TN, TK, want + i * TK, want_m + i, &w, TDIM, i, "gallery");
        char expect[32];
        snprintf(expect, sizeof expect, "person %03d", (int)(rk[0].person - 1));
        T_CHECK(strcmp(want_m[i].best_name, expect) == 0, "query %d best name '%s' want '%s'", i, want_m[i].best_name, expect);
    }
    printf("gallery file search: worst cosine error %.3g (query %ld, slot %ld)\n", w.dist, w.q, w.slot);

    pthread_t th[TTHREADS];
    tjob jobs[TTHREADS];
    for (int t = 0; t < TTHREADS; t++) {
        jobs[t] = (tjob){g, q, want, want_m, 0, 0};
        pthread_create(&th[t], NULL, search_thread, &jobs[t]);
    }
    int bad = 0;
    double worst_t = 0;
    for (int t = 0; t < TTHREADS; t++) {
        pthread_join(th[t], NULL);
        bad += jobs[t].mismatches;
        if (jobs[t].worst > worst_t) worst_t = jobs[t].worst;
    }
    T_CHECK(bad == 0 && worst_t < 1e-6, "concurrent searches differ from the serial one: %d mismatches, worst %.3g", bad, worst_t);
    printf("threads: %d threads x %d rounds on one handle: %d mismatches, worst distance change %.3g\n",
           TTHREADS, TROUNDS, bad, worst_t);
    free(want); free(rk); free(rows); free(img); free(per);
    fn_gallery_scratch_free(s);
    fn_gallery_close(g);
}

int main(void)
{
    test_random_index();
    test_ties();
    test_second_person();
    test_bad_queries();
    test_gallery_threads();
    return T_DONE();
}
