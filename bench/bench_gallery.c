/* Gallery benchmark: search time per query on 10k / 100k / 1M synthetic
 * identities (192-d and 512-d), single queries and batches, against the
 * naive peer measured in the same run (one plain-C dot product per row,
 * fn_gindex_search_ref); then the ANN path (FAISS HNSW candidates re-scored
 * exactly) against the exact BLAS scan in the same run: build time, memory,
 * p50/p99 per single query, ms per query in batches of 64, recall@1 and
 * person-level agreement with the exact scan; then enrolment insert
 * throughput into a real file.
 * Usage: bench_gallery [max_rows [ann_max_rows]]   (defaults 1000000, 1000000) */
#define _GNU_SOURCE
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gallery/gallery.h"
#include "gallery/index.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static float urand_pm1(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (2.0 / 16777216.0) - 1.0);
}

static void machine(void)
{
    char line[256], model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) { snprintf(model, sizeof model, "%s", strchr(line, ':') + 2); break; }
    if (f) fclose(f);
    model[strcspn(model, "\n")] = 0;
    printf("machine: %s, %ld cpus online; %s, %d BLAS threads\n", model, sysconf(_SC_NPROCESSORS_ONLN),
           openblas_get_config(), openblas_get_num_threads());
    printf("timings are wall-clock on a shared machine: read them as rough\n\n");
}

typedef fn_status (*search_fn)(const fn_gindex *, fn_gallery_scratch *, const float *, int, int, fn_gallery_match *,
                               fn_gallery_hit *);

/* ms per query: runs calls of nq queries until budget seconds or max_calls. */
static double time_search(search_fn fn, const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq,
                          int k, double budget, int max_calls)
{
    static fn_gallery_hit hits[256 * 10];
    static fn_gallery_match m[256];
    fn(x, s, q, nq, k, m, hits);   /* warm: pages touched, BLAS threads up */
    int calls = 0;
    double t0 = now(), t;
    do {
        fn(x, s, q + (size_t)(calls % 4) * nq * x->dim, nq, k, m, hits);
        calls++;
        t = now() - t0;
    } while (t < budget && calls < max_calls);
    return t * 1e3 / ((double)calls * nq);
}

static void bench_search(int dim, size_t n)
{
    enum { BATCH = 64, K = 10 };
    fn_gindex x;
    fn_gindex_init(&x, dim);
    if (fn_gindex_reserve(&x, n) != FN_OK) { printf("dim %d n %zu: %s\n", dim, n, fn_last_error()); return; }
    float *v = malloc(dim * sizeof(float)), *q = malloc((size_t)4 * BATCH * dim * sizeof(float));
    for (size_t r = 0; r < n; r++) {
        for (int j = 0; j < dim; j++) v[j] = urand_pm1();
        fn_gindex_append(&x, (int64_t)r + 1, (int64_t)r + 1, v);
    }
    for (size_t i = 0; i < (size_t)4 * BATCH * dim; i++) q[i] = urand_pm1();
    fn_gallery_scratch *s;
    fn_gscratch_new(dim, BATCH, &s);
    double budget = 1.0;
    double one = time_search(fn_gindex_search, &x, s, q, 1, K, budget, 200);
    double batch = time_search(fn_gindex_search, &x, s, q, BATCH, K, budget, 50);
    double naive = time_search(fn_gindex_search_ref, &x, s, q, 1, K, budget, 50);
    printf("%4d-d %8zu ids %6.0f MiB | single %8.3f ms/q | batch of %d %8.4f ms/q | naive loop %8.3f ms/q |"
           " naive/single %5.1fx  naive/batch %6.1fx\n",
           dim, n, (double)n * dim * 4 / 1048576.0, one, BATCH, batch, naive, naive / one, naive / batch);
    fflush(stdout);
    fn_gallery_scratch_free(s);
    fn_gindex_release(&x);
    free(v);
    free(q);
}

/* ---- exact vs ANN on galleries made like real ones ---- */

static double gauss(void)
{
    double u = (urand_pm1() + 1.0) * 0.5 + 1e-9, v = (urand_pm1() + 1.0) * 0.5;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
static void unit(float *v, int d)
{
    double s = 0;
    for (int i = 0; i < d; i++) s += (double)v[i] * v[i];
    for (int i = 0; i < d; i++) v[i] = (float)(v[i] / sqrt(s));
}
/* An identity is a random unit centre; its images are centre + 0.75 x
 * N(0, I/dim), normalised: same-person distance ~0.85, other people ~1.41
 * (MobileFaceNet on LFW: ~0.8-1.0 genuine, ~1.3-1.45 impostor). */
#define SPREAD 0.75
static void image_of(float *v, const float *c, int d)
{
    for (int i = 0; i < d; i++) v[i] = c[i] + (float)(SPREAD * gauss() / sqrt(d));
    unit(v, d);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void bench_ann(int dim, size_t n)
{
    enum { PER = 5, NQ = 256, BATCH = 64 };   /* time_search walks 4 batches of queries */
    size_t people = n / PER;
    fn_gindex x;
    fn_gindex_init(&x, dim);
    if (fn_gindex_reserve(&x, n) != FN_OK) { printf("ann %d-d %zu: %s\n", dim, n, fn_last_error()); return; }
    float *c = malloc(dim * sizeof(float)), *v = malloc(dim * sizeof(float));
    float *qc = malloc((size_t)NQ * dim * sizeof(float)), *q = malloc((size_t)NQ * dim * sizeof(float));
    for (size_t p = 0; p < people; p++) {
        for (int j = 0; j < dim; j++) c[j] = (float)gauss();
        unit(c, dim);
        if (p % (people / NQ) == 0 && p / (people / NQ) < NQ) memcpy(qc + p / (people / NQ) * dim, c, dim * sizeof(float));
        for (int i = 0; i < PER; i++) {
            image_of(v, c, dim);
            fn_gindex_append(&x, (int64_t)(p * PER + i) + 1, (int64_t)p + 1, v);
        }
    }
    for (int i = 0; i < NQ; i++) image_of(q + (size_t)i * dim, qc + (size_t)i * dim, dim);   /* a new photo of an enrolled person */
    fn_gann_params prm = fn_gann_default_params();
    prm.min_rows = 1;
    double t0 = now();
    if (fn_gindex_ann_build(&x, &prm) != FN_OK) { printf("ann build: %s\n", fn_last_error()); fn_gindex_release(&x); return; }
    double build = now() - t0;
    fn_gallery_scratch *s;
    fn_gscratch_new(dim, BATCH, &s);
    static fn_gallery_match me[NQ], ma[NQ];
    static double te[NQ], ta[NQ];
    for (int i = 0; i < NQ; i++) {   /* single queries, alternating so both see the same machine */
        t0 = now();
        fn_gindex_search_exact(&x, s, q + (size_t)i * dim, 1, 0, &me[i], NULL);
        te[i] = (now() - t0) * 1e3;
        t0 = now();
        fn_gindex_search(&x, s, q + (size_t)i * dim, 1, 0, &ma[i], NULL);
        ta[i] = (now() - t0) * 1e3;
    }
    int top1 = 0, best = 0, second = 0;
    for (int i = 0; i < NQ; i++) {
        top1 += ma[i].best.image_id == me[i].best.image_id;
        best += ma[i].best.person_id == me[i].best.person_id;
        second += ma[i].second.person_id == me[i].second.person_id;
    }
    qsort(te, NQ, sizeof *te, cmp_double);
    qsort(ta, NQ, sizeof *ta, cmp_double);
    double be = time_search(fn_gindex_search_exact, &x, s, q, BATCH, 10, 1.0, 3);
    double ba = time_search(fn_gindex_search, &x, s, q, BATCH, 10, 1.0, 3);
    double mib_e = (double)x.cap * (dim * 4 + 16) / 1048576.0, mib_a = (double)fn_gann_bytes(x.ann) / 1048576.0;
    printf("%4d-d %8zu rows (%zu people x %d) | build HNSW%d %.1f s | memory exact %.0f MiB, +ANN %.0f MiB |"
           " single p50/p99: exact %.2f/%.2f ms, ANN %.3f/%.3f ms (p50 %.0fx) | batch of %d: exact %.3f, ANN %.3f ms/q |"
           " recall@1 %.3f, best person %.3f, second person %.3f (vs exact, %d queries)\n",
           dim, n, people, PER, prm.hnsw_m, build, mib_e, mib_a, te[NQ / 2], te[NQ * 99 / 100], ta[NQ / 2], ta[NQ * 99 / 100],
           te[NQ / 2] / ta[NQ / 2], BATCH, be, ba, (double)top1 / NQ, (double)best / NQ, (double)second / NQ, NQ);
    fflush(stdout);
    fn_gallery_scratch_free(s);
    fn_gindex_release(&x);
    free(c); free(v); free(qc); free(q);
}

/* Enrolment into a real file, synchronous=FULL: one commit per image, then batches. */
static void bench_enrol(void)
{
    enum { DIM = 512, SINGLES = 300, BATCHES = 20, PER_BATCH = 1000 };
    char dir[] = "/tmp/fn-bench-XXXXXX", path[64];
    if (!mkdtemp(dir)) { perror("mkdtemp"); return; }
    snprintf(path, sizeof path, "%s/g.db", dir);
    fn_gallery_model model = {"bench-net", DIM, NULL};
    fn_gallery *g;
    if (fn_gallery_open(path, &model, FN_GALLERY_CREATE, &g) != FN_OK) { printf("enrol: %s\n", fn_last_error()); return; }
    float e[DIM];
    int id = 0;
    double t0 = now();
    for (int i = 0; i < SINGLES; i++, id++) {
        char tag[32], name[32], hash[65];
        snprintf(tag, sizeof tag, "img%d.jpg", id);
        snprintf(name, sizeof name, "person%d", id / 3);
        fn_sha256_hex(tag, strlen(tag), hash);
        for (int j = 0; j < DIM; j++) e[j] = urand_pm1();
        fn_gallery_face f = {name, tag, hash, {0, 0, 100, 100}, 0.99f, e};
        fn_gallery_add(g, &f, NULL, NULL);
    }
    double t_single = now() - t0;
    t0 = now();
    for (int b = 0; b < BATCHES; b++) {
        fn_gallery_begin(g);
        for (int i = 0; i < PER_BATCH; i++, id++) {
            char tag[32], name[32], hash[65];
            snprintf(tag, sizeof tag, "img%d.jpg", id);
            snprintf(name, sizeof name, "person%d", id / 3);
            fn_sha256_hex(tag, strlen(tag), hash);
            for (int j = 0; j < DIM; j++) e[j] = urand_pm1();
            fn_gallery_face f = {name, tag, hash, {0, 0, 100, 100}, 0.99f, e};
            fn_gallery_add(g, &f, NULL, NULL);
        }
        fn_gallery_commit(g);
    }
    double t_batch = now() - t0;
    fn_gallery_close(g);
    t0 = now();
    fn_status st = fn_gallery_open(path, &model, 0, &g);
    double t_open = now() - t0;
    int64_t ni = 0;
    if (st == FN_OK) fn_gallery_count(g, &ni, NULL), fn_gallery_count(g, NULL, &ni), fn_gallery_close(g);
    printf("\nenrol (512-d, synchronous=FULL, file in %s): commit per image %.0f images/s (%.2f ms each);"
           " batches of %d %.0f images/s\n", dir, SINGLES / t_single, t_single * 1e3 / SINGLES, PER_BATCH,
           BATCHES * PER_BATCH / t_batch);
    printf("reopen + load %lld embeddings into the index: %.0f ms\n", (long long)ni, t_open * 1e3);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    size_t max_rows = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t ann_max = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    machine();
    printf("search: k = 10, person-level best/second too; peer = one plain-C dot product per row, one thread\n");
    static const size_t sizes[] = {10000, 100000, 1000000};
    static const int dims[] = {192, 512};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 3; i++)
            if (sizes[i] <= max_rows) bench_search(dims[d], sizes[i]);
    printf("memory: the index holds rows x dim x 4 bytes plus 16 bytes of ids a row (1M x 512-d: 2 GiB)\n");
    printf("\nexact scan vs ANN (FAISS HNSW, M %d, efSearch %d, %d candidates re-scored exactly), synthetic identities\n",
           fn_gann_default_params().hnsw_m, fn_gann_default_params().ef_search, fn_gann_default_params().candidates);
    static const size_t ann_sizes[][2] = {{192, 100000}, {192, 1000000}, {512, 1000000}, {192, 5000000}};
    for (int i = 0; i < 4; i++)
        if (ann_sizes[i][1] <= ann_max) bench_ann((int)ann_sizes[i][0], ann_sizes[i][1]);
    bench_enrol();
    return 0;
}
