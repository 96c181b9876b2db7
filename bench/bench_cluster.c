/* bench_cluster — clustering at library scale on synthetic embeddings
 * (192 floats, the MobileFaceNet size): n faces of n/20 people, each face
 * its person's random unit centre plus noise, normalised.  Times the exact
 * kNN search (blocked BLAS) and each method on its result, and the memory
 * the neighbour lists take.  No peer is run: the figures are for scale
 * (the LFW quality table is `facenet eval-cluster`, bench/scan.sh).  Then
 * the incremental step with the default method: the first 95 % clustered,
 * the last 5 % placed by fn_cluster_extend, against the full run on all n
 * measured just before (its baseline), as a ratio.
 * Usage: bench_cluster [n ...] (default 10000 30000). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "facenet.h"

#define D 192

static uint64_t rs = 42;
static float urand(void)
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (float)((rs >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

static void run(int n)
{
    int g = n / 20 > 0 ? n / 20 : 1;
    float *c = malloc((size_t)g * D * sizeof *c), *x = malloc((size_t)n * D * sizeof *x);
    int *truth = malloc((size_t)n * sizeof *truth), *labels = malloc((size_t)n * sizeof *labels);
    for (int i = 0; i < g * D; i++) c[i] = urand();
    fn_l2_normalize(c, g, D);
    for (int i = 0; i < n; i++) {
        truth[i] = i % g;
        for (int k = 0; k < D; k++) x[(size_t)i * D + k] = c[(size_t)truth[i] * D + k] + 0.045f * urand();
    }
    fn_l2_normalize(x, n, D);
    int k = 64;
    int32_t *idx = malloc((size_t)n * k * sizeof *idx);
    float *dist = malloc((size_t)n * k * sizeof *dist);
    double t0 = fn_now();
    fn_knn_exact(NULL, x, n, D, k, 2.0f, idx, dist);
    double knn = fn_now() - t0;
    printf("n=%d people=%d knn_exact_s=%.2f knn_mb=%.1f\n", n, g, knn, (double)n * k * 8 / 1e6);
    fn_cluster_method ms[] = {FN_CLUSTER_WHISPERS, FN_CLUSTER_DBSCAN, FN_CLUSTER_AVERAGE};
    double full_s = 0, full_f1 = 0;
    for (int m = 0; m < 3; m++) {
        fn_cluster_params p;
        fn_cluster_params_init(&p);
        p.method = ms[m];
        int ng = 0;
        t0 = fn_now();
        fn_status s = fn_cluster(x, n, D, NULL, &p, labels, &ng);
        double secs = fn_now() - t0;
        fn_cluster_scores sc = {0};
        if (s == FN_OK) fn_cluster_score(truth, labels, n, &sc);
        printf("  %-9s total_s=%.2f (kNN included) groups=%d bcubed_f1=%.4f %s\n", fn_cluster_method_name(ms[m]), secs,
               ng, sc.bcubed_f1, s == FN_OK ? "" : fn_last_error());
        if (ms[m] == FN_CLUSTER_DEFAULT_METHOD) full_s = secs, full_f1 = sc.bcubed_f1;
    }
    int old = n - n / 20, ng = 0;
    fn_cluster_params p;
    fn_cluster_params_init(&p);
    fn_cluster(x, old, D, NULL, &p, labels, &ng);
    for (int i = old; i < n; i++) labels[i] = -1;
    fn_cluster_extend_stats st = {0};
    t0 = fn_now();
    fn_status s = fn_cluster_extend(x, n, D, NULL, &p, labels, &ng, &st);
    double ext = fn_now() - t0;
    fn_cluster_scores sc = {0};
    if (s == FN_OK) fn_cluster_score(truth, labels, n, &sc);
    printf("  incremental (%s, last %d of %d new): extend_s=%.3f distances=%lld (all pairs %lld) joined=%d new_groups=%d "
           "bcubed_f1=%.4f; full re-cluster %.2f s, bcubed_f1=%.4f; ratio full / extend = %.1fx %s\n",
           fn_cluster_method_name(p.method), n - old, n, ext, (long long)st.distances, (long long)n * n, st.joined,
           st.new_groups, sc.bcubed_f1, full_s, full_f1, full_s / (ext > 0 ? ext : 1e-9), s == FN_OK ? "" : fn_last_error());
    free(c); free(x); free(truth); free(labels); free(idx); free(dist);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        for (int i = 1; i < argc; i++) run(atoi(argv[i]));
    else {
        run(10000);
        run(30000);
    }
    return 0;
}
