/* bench_cluster — clustering at library scale on synthetic embeddings
 * (192 floats, the MobileFaceNet size).  Two models of a library:
 *  - "like the model's" (default): MobileFaceNet's embeddings of LFW span
 *    58 of their 192 dimensions (the other eigenvalues of X'X sum to 1.6e-6
 *    of the trace), so each person's centre is a random unit vector of a
 *    random 58-dimensional subspace and each photo the centre plus
 *    0.57 x N(0, I/58) in it, normalised: same person 0.70 apart, others
 *    1.41, LFW's averages (bench/lfw_spread.py);
 *  - --isotropic: the same in all 192 dimensions at spread 0.75 (same person
 *    ~0.85, others 1.41; bench_gallery's galleries), a harder case for any
 *    partition of the space than real faces are.
 * n faces of n/5 people.  For each n: the kNN graph (k 64) by the
 * partitioned search (fn_knn_ivf), by FAISS HNSW (fn_knn_hnsw, up to
 * --hnsw-max rows) and by the exact blocked-BLAS search (fn_knn_exact, up
 * to --exact-max rows): time, and the recall against brute force on a
 * sample of 1000 faces (all their exact neighbours, cblas_sgemm over every
 * row); Chinese whispers and DBSCAN at 0.90 on each graph (reused, so their
 * times are the methods' own) with BCubed F1 against the true people; then
 * `facenet cluster`'s own path, end to end: the default method (average
 * linkage at 0.90, k 256) on fn_knn_auto's graph, and peak memory.
 * Then, up to 20000 faces, the incremental step with the default method:
 * the first 95 % clustered, the last 5 % placed by fn_cluster_extend,
 * against the full run on all n measured just before, as a ratio.
 * Usage: bench_cluster [--isotropic] [--exact-max N] [--hnsw-max N] [n ...]
 *        (default 10000 100000 1000000; exact and HNSW up to 100000). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facenet.h"

#define D 192
#define K 64
#define PER 5
#define SAMPLE 1000
#define RANK 58             /* MobileFaceNet on LFW: the span of its embeddings */
#define SPREAD_RANK 0.57f   /* same person 0.70 apart in RANK dimensions */
#define SPREAD_ISO 0.75f    /* bench_gallery's, in all D */
static int isotropic;

static uint64_t rs = 42;
static double urand(void)
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return ((rs >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static float nrand(void) { return (float)(sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand())); }

static double peak_mib(void)
{
    char line[256];
    double kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    if (f) fclose(f);
    return kb / 1024;
}
static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf", &l) != 1) l = -1;
    if (f) fclose(f);
    return l;
}

/* A precomputed graph handed to fn_cluster through the hook. */
typedef struct graph { int k; const int32_t *idx; const float *dist; } graph;
static fn_status reuse(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist)
{
    const graph *g = user;
    if (k != g->k) return fn_fail(FN_ERR_ARG, "bench: graph of k %d asked for k %d", g->k, k);
    for (size_t i = 0; i < (size_t)n * k; i++) {
        int keep = g->dist[i] <= max_dist;
        idx[i] = keep ? g->idx[i] : -1;
        dist[i] = keep ? g->dist[i] : INFINITY;
    }
    return FN_OK;
}

/* Recall of the graph against brute force on SAMPLE rows: of their exact k
 * nearest (and of those within 1.0), the share the graph holds. */
static void sampled_recall(const float *x, int n, const int32_t *idx, double *all, double *near, double *mates)
{
    long mh = 0, mt = 0;   /* same-person pairs within 0.9 (the default threshold) the graph holds */
    enum { B = 100 };
    float *dots = malloc((size_t)B * n * sizeof *dots);
    long hit = 0, tot = 0, hit_n = 0, tot_n = 0;
    for (int s0 = 0; s0 < SAMPLE; s0 += B) {
        float q[B * D];
        int rows[B];
        for (int b = 0; b < B; b++) {
            rows[b] = (int)(((long)(s0 + b) * 7919 % SAMPLE) * (n / SAMPLE));
            memcpy(q + b * D, x + (size_t)rows[b] * D, D * sizeof(float));
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n, D, 1.0f, q, D, x, D, 0.0f, dots, n);
        for (int b = 0; b < B; b++) {
            float *r = dots + (size_t)b * n;
            r[rows[b]] = -INFINITY;
            for (int m = rows[b] / PER * PER; m < rows[b] / PER * PER + PER; m++) {   /* truth: PER rows a person */
                if (m == rows[b] || sqrtf(fmaxf(0.0f, 2 - 2 * r[m])) > 0.9f) continue;
                int got = 0;
                for (int l = 0; l < K; l++) got |= idx[(size_t)rows[b] * K + l] == m;
                mh += got, mt++;
            }
            for (int j = 0; j < K; j++) {   /* the exact k best by repeated selection (k is small) */
                int best = 0;
                for (int c = 1; c < n; c++)
                    if (r[c] > r[best]) best = c;
                float dd = sqrtf(fmaxf(0.0f, 2 - 2 * r[best]));
                int got = 0;
                for (int l = 0; l < K; l++) got |= idx[(size_t)rows[b] * K + l] == best;
                hit += got, tot++;
                if (dd <= 1.0f) hit_n += got, tot_n++;
                r[best] = -INFINITY;
            }
        }
    }
    free(dots);
    *all = (double)hit / tot;
    *near = tot_n ? (double)hit_n / tot_n : 1.0;
    *mates = mt ? (double)mh / mt : 1.0;
}

/* n faces of n/PER people (truth), normalised, by the model chosen. */
static void generate(float *x, int *truth, int n)
{
    int r = isotropic ? D : RANK, g = n / PER;
    float spread = isotropic ? SPREAD_ISO : SPREAD_RANK;
    float *basis = NULL, c[D], v[D];
    if (!isotropic) {   /* a random orthonormal basis of an r-dim subspace (Gram-Schmidt) */
        basis = malloc((size_t)r * D * sizeof *basis);
        for (int i = 0; i < r; i++) {
            float *b = basis + (size_t)i * D;
            for (int j = 0; j < D; j++) b[j] = nrand();
            for (int l = 0; l < i; l++) {
                const float *o = basis + (size_t)l * D;
                double dot = 0;
                for (int j = 0; j < D; j++) dot += (double)b[j] * o[j];
                for (int j = 0; j < D; j++) b[j] -= (float)dot * o[j];
            }
            fn_l2_normalize(b, 1, D);
        }
    }
    for (int p = 0; p < g; p++) {
        for (int i = 0; i < r; i++) c[i] = nrand();
        fn_l2_normalize(c, 1, r);
        for (int j = 0; j < PER; j++) {
            float *out = x + (size_t)(p * PER + j) * D;
            for (int i = 0; i < r; i++) v[i] = c[i] + spread * nrand() / sqrtf((float)r);
            if (isotropic) memcpy(out, v, D * sizeof *v);
            else {
                memset(out, 0, D * sizeof *out);
                for (int i = 0; i < r; i++)
                    for (int l = 0; l < D; l++) out[l] += v[i] * basis[(size_t)i * D + l];
            }
            truth[p * PER + j] = p;
        }
    }
    fn_l2_normalize(x, n, D);
    free(basis);
}

/* Chinese whispers and DBSCAN at 0.90 on a graph already built. */
static void methods(const char *graph_name, const float *x, const int *truth, int n, const int32_t *idx,
                    const float *dist, int *labels)
{
    graph gr = {K, idx, dist};
    fn_cluster_method ms[] = {FN_CLUSTER_WHISPERS, FN_CLUSTER_DBSCAN};
    for (int m = 0; m < 2; m++) {
        fn_cluster_params p;
        fn_cluster_params_init(&p);
        p.method = ms[m];
        p.threshold = 0.90f;
        p.k = K;
        p.knn = reuse;
        p.knn_user = &gr;
        int ng = 0;
        double t0 = fn_now();
        fn_status s = fn_cluster(x, n, D, NULL, &p, labels, &ng);
        double secs = fn_now() - t0;
        fn_cluster_scores sc = {0};
        if (s == FN_OK) fn_cluster_score(truth, labels, n, &sc);
        printf("        %-9s at 0.90 on the %s graph %.2f s, groups %d, BCubed F1 %.4f %s\n",
               fn_cluster_method_name(ms[m]), graph_name, secs, ng, sc.bcubed_f1, s == FN_OK ? "" : fn_last_error());
        fflush(stdout);
    }
}

/* One kNN search (k K, all distances) timed, its recall sampled, its graph
 * clustered; the lists are returned in idx/dist. */
static int one_graph(const char *name, fn_knn_search fn, const float *x, const int *truth, int n, int32_t *idx,
                     float *dist, int *labels)
{
    double t0 = fn_now(), l0 = load1();
    fn_status s = fn(NULL, x, n, D, K, 2.0f, idx, dist);
    double secs = fn_now() - t0;
    if (s != FN_OK) { printf("        %s kNN: %s\n", name, fn_last_error()); return -1; }
    double r_all, r_near, r_mates;
    sampled_recall(x, n, idx, &r_all, &r_near, &r_mates);
    printf("        %-5s kNN %7.2f s (load %.1f-%.1f) | recall vs brute force (%d sampled faces): same person within "
           "0.9 %.4f, all within 1.0 %.4f, all %d %.4f | peak RSS so far %.0f MiB\n", name, secs, l0, load1(), SAMPLE,
           r_mates, r_near, K, r_all, peak_mib());
    fflush(stdout);
    methods(name, x, truth, n, idx, dist, labels);
    return 0;
}

static void run(int n, int exact_max, int hnsw_max)
{
    int g = n / PER;
    float *x = malloc((size_t)n * D * sizeof *x);
    int *truth = malloc((size_t)n * sizeof *truth), *labels = malloc((size_t)n * sizeof *labels);
    generate(x, truth, n);
    printf("n=%d people=%d (%s), k=%d; embeddings %.0f MiB, graph lists %.0f MiB\n", n, g,
           isotropic ? "isotropic, 192 dims, spread 0.75" : "like the model's: 58 of 192 dims, spread 0.57", K,
           (double)n * D * 4 / 1048576.0, (double)n * K * 8 / 1048576.0);
    fflush(stdout);
    int32_t *idx = malloc((size_t)n * K * sizeof *idx);
    float *dist = malloc((size_t)n * K * sizeof *dist);
    fn_status s;
    double t0;
    one_graph("IVF", fn_knn_ivf, x, truth, n, idx, dist, labels);
    if (n <= hnsw_max) one_graph("HNSW", fn_knn_hnsw, x, truth, n, idx, dist, labels);
    if (n <= exact_max) one_graph("exact", fn_knn_exact, x, truth, n, idx, dist, labels);
    free(idx);
    free(dist);
    idx = NULL;
    dist = NULL;
    {   /* facenet cluster's own path: the default method and threshold, fn_knn_auto's graph */
        fn_cluster_params p;
        fn_cluster_params_init(&p);
        p.knn = fn_knn_auto;
        int ng = 0;
        double l0 = load1();
        t0 = fn_now();
        s = fn_cluster(x, n, D, NULL, &p, labels, &ng);
        double secs = fn_now() - t0;
        fn_cluster_scores sc = {0};
        if (s == FN_OK) fn_cluster_score(truth, labels, n, &sc);
        printf("        default (%s at %.2f, k 256, %s kNN): %.2f s end to end (load %.1f-%.1f), groups %d, BCubed F1 "
               "%.4f (P %.4f R %.4f), pairwise F1 %.4f; peak RSS %.0f MiB %s\n", fn_cluster_method_name(p.method),
               (double)p.threshold, n >= FN_KNN_ANN_MIN_ROWS ? "IVF" : "exact", secs, l0, load1(), ng, sc.bcubed_f1,
               sc.bcubed_precision, sc.bcubed_recall, sc.pair_f1, peak_mib(), s == FN_OK ? "" : fn_last_error());
        fflush(stdout);
    }
    if (n <= 20000) {
        fn_cluster_params p;
        fn_cluster_params_init(&p);
        int ng = 0, old = n - n / 20;
        t0 = fn_now();
        s = fn_cluster(x, n, D, NULL, &p, labels, &ng);
        double full_s = fn_now() - t0;
        fn_cluster_scores full = {0};
        if (s == FN_OK) fn_cluster_score(truth, labels, n, &full);
        fn_cluster(x, old, D, NULL, &p, labels, &ng);
        for (int i = old; i < n; i++) labels[i] = -1;
        fn_cluster_extend_stats st = {0};
        t0 = fn_now();
        s = fn_cluster_extend(x, n, D, NULL, &p, labels, &ng, &st);
        double ext = fn_now() - t0;
        fn_cluster_scores sc = {0};
        if (s == FN_OK) fn_cluster_score(truth, labels, n, &sc);
        printf("        incremental (%s, last %d of %d new): extend %.3f s, distances %lld (all pairs %lld), joined %d, "
               "new groups %d, BCubed F1 %.4f; full re-cluster %.2f s, BCubed F1 %.4f; full / extend = %.1fx %s\n",
               fn_cluster_method_name(p.method), n - old, n, ext, (long long)st.distances, (long long)n * n, st.joined,
               st.new_groups, sc.bcubed_f1, full_s, full.bcubed_f1, full_s / (ext > 0 ? ext : 1e-9),
               s == FN_OK ? "" : fn_last_error());
    }
    free(x); free(truth); free(labels); free(idx); free(dist);
}

int main(int argc, char **argv)
{
    int exact_max = 100000, hnsw_max = 100000, any = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--exact-max") && i + 1 < argc) exact_max = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hnsw-max") && i + 1 < argc) hnsw_max = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isotropic")) isotropic = 1;
        else run(atoi(argv[i]), exact_max, hnsw_max), any = 1;
    }
    if (!any) {
        run(10000, exact_max, hnsw_max);
        run(100000, exact_max, hnsw_max);
        run(1000000, exact_max, hnsw_max);
    }
    return 0;
}
