/* cluster.h — what the clustering methods share inside src/cluster: the
 * symmetric neighbour graph built from a kNN search.  Public API:
 * include/facenet/cluster.h.
 */
#ifndef FN_CLUSTER_INTERNAL_H
#define FN_CLUSTER_INTERNAL_H

#include <math.h>

#include "facenet/cluster.h"

/* Compressed rows: the neighbours of i are nbr[start[i] .. start[i+1]), with
 * their distances, sorted by index, each edge present in both rows. */
typedef struct fn_cgraph {
    int n;
    int64_t *start;
    int32_t *nbr;
    float *dist;
} fn_cgraph;

/* The graph of pairs (i, j) with j among i's k nearest (or i among j's)
 * within max_dist, both allowed by seed_ok (NULL: all).  knn_idx/knn_dist:
 * the n x k search result. */
fn_status fn_cgraph_build(int n, int k, const int32_t *knn_idx, const float *knn_dist, float max_dist,
                          const unsigned char *seed_ok, fn_cgraph *g);
void fn_cgraph_free(fn_cgraph *g);

/* Average linkage's merge limit for two groups of na and nb seeding faces
 * (fn_cluster_params.average_limit_ratio): threshold for two single faces,
 * growing toward threshold x ratio as the pairs behind the mean grow. */
static inline double fn_cluster_average_limit(double threshold, double ratio, double na, double nb)
{
    if (!(ratio > 1)) return threshold;
    double top = threshold * ratio;
    return top - (top - threshold) / sqrt(na * nb);
}

/* Agglomerative average linkage on the kNN result (average.c). */
fn_status fn_cluster_average(int n, int k, const int32_t *knn_idx, const float *knn_dist, const unsigned char *seed_ok,
                             float threshold, float limit_ratio, int *labels);

/* A row's k nearest as a bounded heap (knn.c): keys (distances, or any
 * increasing function of them) and row indices, the worst kept on top:
 * larger key, then larger index. */
static inline int fn_knn_worse(float ka, int32_t ia, float kb, int32_t ib)
{
    return ka > kb || (ka == kb && ia > ib);
}
/* Offers (key, j) to the heap of *m of at most k entries; 1 when kept. */
int fn_knn_heap_push(float *key, int32_t *idx, int *m, int k, float v, int32_t j);
/* The heap of m -> nearest first, slots m..k-1 set to -1 / INFINITY. */
void fn_knn_heap_sort(float *key, int32_t *idx, int m, int k);

/* c (m x n) = a (m x d) * b (n x d)^T, row-major, for the scores the
 * searches select from (knn.c).  oneDNN's sgemm when it loads: it runs on
 * the OpenMP threads that then select the rows, where OpenBLAS's own
 * threads, spinning after each product, took a core from the selection
 * (bench_cluster 100000: the exact search 34.9 -> 20.1 s, the partitioned
 * one 11.7 -> 8.1 s).  OpenBLAS (or the reference sgemm) otherwise. */
void fn_knn_gemm_nt(int m, int n, int d, const float *a, const float *b, float *c);

/* One query's row of dot products with the n rows -> its k nearest within
 * max_dist (self: the row to skip, -1 none), sorted, -1/INFINITY padded
 * (knn.c; fn_knn_exact's selection). */
void fn_knn_select_row(const float *dots, int n, int self, int k, float max_dist, int32_t *idx, float *dist);

#endif
