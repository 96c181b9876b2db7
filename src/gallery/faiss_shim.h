/* faiss_shim.h — the few FAISS calls the gallery makes, as C functions.
 * Debian's libfaiss-dev 1.7.3 ships the C API's headers but its libfaiss.a
 * holds only the C++ library (no faiss_* symbol), so faiss_shim.cpp wraps
 * the C++ API in extern "C" functions (for the gallery's ANN index, ann.c,
 * and the clustering's approximate kNN, src/cluster/knn_hnsw.c): an index from a factory string
 * ("IVF1024,SQ8", "IDMap2,HNSW32", inner product), train, add with ids,
 * search, remove ids, a parameter, and the index to or from an open FILE.
 * Every C++ exception is caught here and becomes FN_ERR_* with its message
 * (fn_fail); nothing throws through C.  Owns no policy: ann.c decides.
 */
#ifndef FN_FAISS_SHIM_H
#define FN_FAISS_SHIM_H

#include <stdint.h>
#include <stdio.h>
#include "facenet/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fn_faiss fn_faiss;   /* a faiss::Index, inner-product metric */

/* factory: faiss::index_factory's description, e.g. "IVF1024,SQ8". */
/* HNSW: efConstruction (> 0) for the nodes added from now on; other kinds: no-op. */
fn_status fn_faiss_set_build(fn_faiss *f, int ef_construction);
fn_status fn_faiss_new(int dim, const char *factory, fn_faiss **out);
void fn_faiss_free(fn_faiss *f);
/* 1 when the index needs train() before add() (IVF), 0 when trained. */
int fn_faiss_is_trained(const fn_faiss *f);
int64_t fn_faiss_ntotal(const fn_faiss *f);
/* n x dim row-major training vectors (IVF: k-means of the coarse centroids). */
fn_status fn_faiss_train(fn_faiss *f, int64_t n, const float *x);
/* ids NULL: the rows are numbered ntotal, ntotal + 1, ... (an index without IDMap). */
fn_status fn_faiss_add(fn_faiss *f, int64_t n, const float *x, const int64_t *ids);
/* n queries, k results each: scores (inner products, approximate) and ids,
 * -1 for empty slots.  Const on the index: safe from several threads. */
fn_status fn_faiss_search(const fn_faiss *f, int64_t n, const float *x, int64_t k, float *scores, int64_t *ids);
/* Removes these ids; *removed (may be NULL) = how many were there.
 * FN_ERR_UNSUPPORTED for an index that cannot remove (HNSW). */
fn_status fn_faiss_remove(fn_faiss *f, int64_t n, const int64_t *ids, int64_t *removed);
/* faiss::ParameterSpace::set_index_parameter: "nprobe", "efSearch", ... */
fn_status fn_faiss_set(fn_faiss *f, const char *name, double value);
/* faiss::write_index / read_index on an open stream at its position. */
fn_status fn_faiss_write(const fn_faiss *f, FILE *fp);
fn_status fn_faiss_read(FILE *fp, fn_faiss **out);
/* Spherical k-means (faiss::Clustering, inner product, centroids
 * normalised): k centroids of the n x d rows x into centroids (k x d), niter
 * iterations on at most max_per_centroid x k rows sampled with seed.  The
 * caller keeps n >= 39 k (FAISS warns on stderr below that). */
fn_status fn_faiss_kmeans(int d, int64_t n, const float *x, int k, int niter, int max_per_centroid, int seed,
                          float *centroids);
/* Approximate bytes the index holds (codes, ids, graph or centroids). */
size_t fn_faiss_bytes(const fn_faiss *f);

#ifdef __cplusplus
}
#endif
#endif
