/* ann.h — approximate nearest-neighbour candidates for big galleries: a
 * FAISS index (faiss_shim.h) over the same rows as the exact index
 * (index.h), kept in step with it, persisted beside the gallery file.
 * Owns: which FAISS index and parameters, building it, adding rows,
 * reconciling it with the rows after a reload or from a stale file, the
 * sidecar file.  It only proposes candidates: index.c re-scores every
 * candidate exactly from its own matrix, so distances stay exact and a
 * candidate whose row is gone is simply skipped.
 */
#ifndef FN_GALLERY_ANN_H
#define FN_GALLERY_ANN_H

#include <stddef.h>
#include <stdint.h>
#include "facenet.h"

struct fn_gindex;
typedef struct fn_faiss fn_faiss;

typedef enum fn_gann_kind { FN_GANN_HNSW = 1, FN_GANN_IVF = 2 } fn_gann_kind;

typedef struct fn_gann_params {
    int64_t min_rows;   /* ANN only for galleries of at least this many rows; < 0: never */
    fn_gann_kind kind;
    int hnsw_m;         /* HNSW: neighbours per node (FAISS "HNSW<M>") */
    int ef_search;      /* HNSW: search breadth */
    int ef_construction; /* HNSW: search breadth while linking a new node (FAISS: 40; ours: 80) */
    int ivf_nlist;      /* IVF: lists; 0 = 4 sqrt(rows) */
    int nprobe;         /* IVF: lists visited per query */
    int candidates;     /* ANN hits re-scored exactly per query (grows when they hold too few people) */
} fn_gann_params;

/* The defaults chosen from bench_gallery's measurements (docs/scale.md). */
fn_gann_params fn_gann_default_params(void);

typedef struct fn_gann {
    fn_faiss *faiss;
    fn_gann_params params;
    int dim;
    /* the ids in the FAISS index, ascending, each with a hash of its vector:
     * what reconciling with the gallery's rows compares */
    int64_t *ids;
    uint64_t *sums;
    size_t n, cap;
    size_t dead;        /* ids whose rows are gone but FAISS still holds (HNSW cannot remove) */
    int dirty;          /* differs from the sidecar file */
} fn_gann;

/* A 64-bit hash of one row's floats (its identity in the sidecar). */
uint64_t fn_gann_row_sum(const float *v, int dim);

/* Builds an index over every row of x (x->n >= 1). */
fn_status fn_gann_build(const struct fn_gindex *x, const fn_gann_params *p, fn_gann **out);
void fn_gann_free(fn_gann *a);
/* Sets efSearch (HNSW) or nprobe (IVF) of a built or loaded index. */
fn_status fn_gann_set_breadth(fn_gann *a, int value);
/* Adds row r of x (its id is larger than every id in a, as appends are). */
fn_status fn_gann_add_row(fn_gann *a, const struct fn_gindex *x, size_t r);
/* Brings a in step with x's rows: adds rows it lacks, removes (IVF) or
 * counts as dead (HNSW) ids that are gone.  *rebuild = 1 when a no longer
 * fits (an id whose vector changed, or more than a fifth dead): the caller
 * then builds anew. */
fn_status fn_gann_reconcile(fn_gann *a, const struct fn_gindex *x, int *rebuild);

/* The sidecar file: our header, the ids with their hashes, FAISS's own
 * serialisation.  Written to path.tmp and renamed, so a crash leaves the
 * old file or the new one.  load: FN_ERR_NOT_FOUND when there is no file;
 * any other failure means "not usable" (the caller rebuilds). */
fn_status fn_gann_save(fn_gann *a, const char *path);
fn_status fn_gann_load(const char *path, int dim, const fn_gann_params *p, fn_gann **out);

/* Candidates of nq normalised queries: k ids each (-1 = none). */
fn_status fn_gann_search(const fn_gann *a, int nq, const float *q, int k, float *scores, int64_t *ids);
/* Bytes held by the FAISS index and the id list. */
size_t fn_gann_bytes(const fn_gann *a);
const char *fn_gann_kind_name(fn_gann_kind k);

#endif
