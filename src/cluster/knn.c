/* knn.c — exact k nearest neighbours of L2-normalised embeddings with
 * blocked BLAS (fn_knn_exact, include/facenet/cluster.h); the rows of a
 * block are selected in parallel (each row is one thread's).
 * Owns only the search; the graph's users are in cluster.c and average.c.
 */
#include "nn/mathlib.h"   /* OpenBLAS through the table (the reference BLAS without it) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "cluster/cluster.h"

#define KNN_BLOCK 256   /* queries per matrix product: 256 x n floats of scratch */

static void sift_down(float *d, int32_t *id, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && fn_knn_worse(d[l], id[l], d[m], id[m])) m = l;
        if (r < n && fn_knn_worse(d[r], id[r], d[m], id[m])) m = r;
        if (m == i) return;
        float td = d[i]; d[i] = d[m]; d[m] = td;
        int32_t ti = id[i]; id[i] = id[m]; id[m] = ti;
        i = m;
    }
}

int fn_knn_heap_push(float *d, int32_t *id, int *m, int k, float v, int32_t j)
{
    if (*m < k) {
        int i = (*m)++;
        d[i] = v;
        id[i] = j;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!fn_knn_worse(d[i], id[i], d[p], id[p])) break;
            float td = d[i]; d[i] = d[p]; d[p] = td;
            int32_t ti = id[i]; id[i] = id[p]; id[p] = ti;
            i = p;
        }
        return 1;
    }
    if (!fn_knn_worse(d[0], id[0], v, j)) return 0;
    d[0] = v;
    id[0] = j;
    sift_down(d, id, *m, 0);
    return 1;
}

void fn_knn_heap_sort(float *d, int32_t *id, int m, int k)
{
    for (int e = m - 1; e > 0; e--) {   /* pop the worst to the end */
        float td = d[0]; d[0] = d[e]; d[e] = td;
        int32_t ti = id[0]; id[0] = id[e]; id[e] = ti;
        sift_down(d, id, e, 0);
    }
    for (int j = m; j < k; j++) {
        id[j] = -1;
        d[j] = INFINITY;
    }
}

/* One query's row of scores -> its k nearest within max_dist, sorted. */
void fn_knn_select_row(const float *dots, int n, int self, int k, float max_dist, int32_t *idx, float *dist)
{
    int m = 0;
    float lim2 = max_dist * max_dist, top2 = INFINITY;
    for (int j = 0; j < n; j++) {
        if (j == self) continue;
        float d2 = 2.0f - 2.0f * dots[j];
        if (d2 < 0) d2 = 0;
        if (d2 > lim2) continue;
        if (m == k && d2 > top2) continue;   /* farther than the worst kept: no square root */
        if (fn_knn_heap_push(dist, idx, &m, k, sqrtf(d2), j) && m == k)
            top2 = nextafterf(dist[0] * dist[0], INFINITY);   /* a little above: ties still compare */
    }
    fn_knn_heap_sort(dist, idx, m, k);
}

void fn_knn_gemm_nt(int m, int n, int d, const float *a, const float *b, float *c)
{
    if (fn_mathlib_dnnl() == FN_OK && dnnl_sgemm('N', 'T', m, n, d, 1.0f, a, d, b, d, 0.0f, c, n) == dnnl_success)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, 1.0f, a, d, b, d, 0.0f, c, n);
}

fn_status fn_knn_exact(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist)
{
    (void)user;
    if (n < 0 || d < 1 || k < 1 || (n > 0 && (!x || !idx || !dist)))
        return fn_fail(FN_ERR_ARG, "knn: bad arguments (n %d, d %d, k %d)", n, d, k);
    if (n == 0) return FN_OK;
    int block = n < KNN_BLOCK ? n : KNN_BLOCK;
    float *dots = malloc((size_t)block * n * sizeof *dots);
    if (!dots) return fn_fail(FN_ERR_NOMEM, "knn: out of memory for %d x %d scores", block, n);
    for (int q0 = 0; q0 < n; q0 += block) {
        int qn = n - q0 < block ? n - q0 : block;
        fn_knn_gemm_nt(qn, n, d, x + (size_t)q0 * d, x, dots);
#pragma omp parallel for schedule(dynamic, 8)
        for (int q = 0; q < qn; q++)
            fn_knn_select_row(dots + (size_t)q * n, n, q0 + q, k, max_dist, idx + (size_t)(q0 + q) * k,
                       dist + (size_t)(q0 + q) * k);
    }
    free(dots);
    return FN_OK;
}
