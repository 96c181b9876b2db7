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

/* Heap order: the worst kept neighbour on top (larger distance, then larger index). */
static int worse(float da, int32_t ia, float db, int32_t ib)
{
    return da > db || (da == db && ia > ib);
}

static void sift_down(float *d, int32_t *id, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(d[l], id[l], d[m], id[m])) m = l;
        if (r < n && worse(d[r], id[r], d[m], id[m])) m = r;
        if (m == i) return;
        float td = d[i]; d[i] = d[m]; d[m] = td;
        int32_t ti = id[i]; id[i] = id[m]; id[m] = ti;
        i = m;
    }
}

static void sift_up(float *d, int32_t *id, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!worse(d[i], id[i], d[p], id[p])) return;
        float td = d[i]; d[i] = d[p]; d[p] = td;
        int32_t ti = id[i]; id[i] = id[p]; id[p] = ti;
        i = p;
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
        float dj = sqrtf(d2);
        if (m < k) {
            dist[m] = dj;
            idx[m] = j;
            sift_up(dist, idx, m++);
        } else if (worse(dist[0], idx[0], dj, j)) {
            dist[0] = dj;
            idx[0] = j;
            sift_down(dist, idx, m, 0);
        } else {
            continue;
        }
        if (m == k) top2 = nextafterf(dist[0] * dist[0], INFINITY);   /* a little above: ties still compare */
    }
    /* heap sort in place: pop the worst to the end */
    for (int e = m - 1; e > 0; e--) {
        float td = dist[0]; dist[0] = dist[e]; dist[e] = td;
        int32_t ti = idx[0]; idx[0] = idx[e]; idx[e] = ti;
        sift_down(dist, idx, e, 0);
    }
    for (int j = m; j < k; j++) {
        idx[j] = -1;
        dist[j] = INFINITY;
    }
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, qn, n, d, 1.0f, x + (size_t)q0 * d, d, x, d, 0.0f,
                    dots, n);
#pragma omp parallel for schedule(dynamic, 8)
        for (int q = 0; q < qn; q++)
            fn_knn_select_row(dots + (size_t)q * n, n, q0 + q, k, max_dist, idx + (size_t)(q0 + q) * k,
                       dist + (size_t)(q0 + q) * k);
    }
    free(dots);
    return FN_OK;
}
