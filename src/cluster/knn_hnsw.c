/* knn_hnsw.c — approximate k nearest neighbours for clustering big
 * collections (fn_knn_hnsw; include/facenet/cluster.h): a
 * FAISS HNSW graph over the rows (src/gallery/faiss_shim.h, the same
 * vectorised storage as the gallery's index), every row then searched in
 * it.  Owns only the search; fn_knn_exact (knn.c) is its reference.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "facenet/cluster.h"
#include "gallery/faiss_shim.h"
#include "nn/mathlib.h"

#define KNN_HNSW_M 32          /* links per node: the gallery's index's (bench_gallery) */
#define KNN_HNSW_EFC 40        /* efConstruction: FAISS's default */
#define KNN_HNSW_BLOCK 1024    /* rows searched per call: 1024 x (k + 1) scores and ids of scratch */

int fn_faiss_blas_ready(void);   /* src/gallery/faiss_blas.c */

/* efSearch for k neighbours: at least k + 1 (the row itself comes back
 * too) and 1.5 k, 64 at least.  bench_cluster, 100k faces of 20k people,
 * k 64: recall 0.9955 of the exact neighbours within 1.0 (docs/scale.md);
 * the test's bounds are in test_cluster_knn_ann. */
static int ef_for(int k)
{
    int ef = k + k / 2;
    return ef < 64 ? 64 : ef;
}

/* One row's hits (FAISS order: score descending) -> its k nearest other
 * rows within max_dist, nearest first, ties by lower index. */
static void take(const float *sc, const int64_t *id, int kk, int self, int k, float max_dist, int32_t *idx, float *dist)
{
    int m = 0;
    for (int j = 0; j < kk && m < k; j++) {
        if (id[j] < 0 || id[j] == self) continue;
        float d2 = 2.0f - 2.0f * sc[j];
        float dj = sqrtf(d2 > 0 ? d2 : 0);
        if (!(dj <= max_dist)) continue;
        int at = m++;   /* insertion: FAISS's order is already nearly this one */
        while (at > 0 && (dist[at - 1] > dj || (dist[at - 1] == dj && idx[at - 1] > (int32_t)id[j]))) {
            dist[at] = dist[at - 1];
            idx[at] = idx[at - 1];
            at--;
        }
        dist[at] = dj;
        idx[at] = (int32_t)id[j];
    }
    for (; m < k; m++) idx[m] = -1, dist[m] = INFINITY;
}

fn_status fn_knn_hnsw(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist)
{
    if (n < 0 || d < 1 || k < 1 || (n > 0 && (!x || !idx || !dist)))
        return fn_fail(FN_ERR_ARG, "kNN (HNSW): bad arguments (%d rows of %d floats, k %d)", n, d, k);
    /* a graph needs rows to link; FAISS's forwarded BLAS needs OpenBLAS */
    if (n <= k + 1 || !fn_mathlib_have_openblas() || !fn_faiss_blas_ready())
        return fn_knn_exact(user, x, n, d, k, max_dist, idx, dist);
    char factory[32];
    snprintf(factory, sizeof factory, "HNSW%d", KNN_HNSW_M);
    fn_faiss *f = NULL;
    FN_TRY(fn_faiss_new(d, factory, &f));
    int kk = k + 1;
    float *sc = malloc((size_t)KNN_HNSW_BLOCK * kk * sizeof *sc);
    int64_t *id = malloc((size_t)KNN_HNSW_BLOCK * kk * sizeof *id);
    fn_status s = sc && id ? FN_OK : fn_fail(FN_ERR_NOMEM, "kNN (HNSW): out of memory for %d neighbours", k);
    if (s == FN_OK) s = fn_faiss_set_build(f, KNN_HNSW_EFC);
    if (s == FN_OK) s = fn_faiss_add(f, n, x, NULL);
    if (s == FN_OK) s = fn_faiss_set(f, "efSearch", ef_for(kk));
    for (int q0 = 0; s == FN_OK && q0 < n; q0 += KNN_HNSW_BLOCK) {
        int qn = n - q0 < KNN_HNSW_BLOCK ? n - q0 : KNN_HNSW_BLOCK;
        s = fn_faiss_search(f, qn, x + (size_t)q0 * d, kk, sc, id);
        for (int i = 0; s == FN_OK && i < qn; i++)
            take(sc + (size_t)i * kk, id + (size_t)i * kk, kk, q0 + i, k, max_dist, idx + (size_t)(q0 + i) * k,
                 dist + (size_t)(q0 + i) * k);
    }
    free(sc);
    free(id);
    fn_faiss_free(f);
    return s;
}

