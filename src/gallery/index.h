/* index.h — the in-memory search index: every enrolled embedding as one
 * contiguous row-major matrix, with the image and person id of each row.
 * Owns: scoring queries (BLAS fast path, plain-C reference) and top-k /
 * best-two-people selection.  Knows nothing about SQLite or names.
 */
#ifndef FN_GALLERY_INDEX_H
#define FN_GALLERY_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include "gallery/gallery.h"
#include "gallery/ann.h"

typedef struct fn_gindex {
    int dim;
    size_t n, cap;        /* rows used / allocated */
    float *vec;           /* n x dim, each row L2-normalised, FN_ALIGN-aligned */
    int64_t *image_id;    /* per row; rows stay in insertion order */
    int64_t *person_id;   /* per row */
    int unsorted;         /* an append broke the ascending image ids: the ANN path is off */
    fn_gann *ann;         /* NULL, or candidates for big galleries (ann.h), kept in step by
                             append and remove_person; owned */
} fn_gindex;

fn_status fn_gindex_init(fn_gindex *x, int dim);
void fn_gindex_release(fn_gindex *x);
/* Grow storage to at least cap rows (never shrinks). */
fn_status fn_gindex_reserve(fn_gindex *x, size_t cap);
/* Room for one more row (grows by doubling). */
fn_status fn_gindex_make_room(fn_gindex *x);
/* Appends a row, L2-normalised; FN_ERR_ARG if v has a non-finite entry or zero norm. */
fn_status fn_gindex_append(fn_gindex *x, int64_t image_id, int64_t person_id, const float *v);
/* Drops every row of a person, keeping the others in order; returns rows
 * removed.  The ANN index forgets them (IVF) or counts them dead (HNSW). */
size_t fn_gindex_remove_person(fn_gindex *x, int64_t person_id);
void fn_gindex_clear(fn_gindex *x);

/* Normalise v (n floats) in place; 0 if it is zero or not finite. */
int fn_l2_normalize_checked(float *v, int n);

struct fn_gallery_scratch {
    int dim, max_queries;
    float *queries;   /* max_queries x dim: the normalised chunk */
    float *scores;    /* max_queries x FN_GINDEX_BLOCK cosine scores */
    int64_t *cand;    /* ANN candidates: max_queries x FN_GANN_CAND, then FN_GANN_MAX_CAND for one query's retry */
    float *cand_sc;   /* their approximate scores (unused: everything is re-scored) */
};
#define FN_GANN_CAND 256         /* most candidates per query in a batch (fn_gann_params.candidates) */
#define FN_GANN_MAX_CAND (4 * FN_GANN_CAND)   /* a query whose candidates hold too few people retries
                                                 with 2x and 4x as many, then scans */
#define FN_GINDEX_BLOCK 1024       /* rows scored per BLAS call: the scores stay in cache */
#define FN_GINDEX_MAX_QUERIES 256  /* queries per chunk; more are done chunk by chunk */

fn_status fn_gscratch_new(int dim, int max_queries, fn_gallery_scratch **out);

/* Builds (or drops, when x has fewer than p->min_rows rows or p->min_rows
 * < 0) the ANN index of x. */
fn_status fn_gindex_ann_build(fn_gindex *x, const fn_gann_params *p);
/* 1 when searches of x go through its ANN index. */
int fn_gindex_uses_ann(const fn_gindex *x);

/* Search: through the ANN index when x has one and is big enough (every
 * candidate re-scored exactly; a query whose candidates hold fewer than the
 * people or hits asked for retries with more, then scans), else the exact
 * scan: rows scored in blocks by sgemm (sgemv for one query).  matches
 * (names left empty) and topk as in fn_gallery_search; either may be NULL. */
fn_status fn_gindex_search(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                           fn_gallery_match *matches, fn_gallery_hit *topk);
/* The exact scan alone (BLAS), whatever the size: the ANN path's oracle. */
fn_status fn_gindex_search_exact(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                                 fn_gallery_match *matches, fn_gallery_hit *topk);
fn_status fn_gindex_search_people_exact(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                                        fn_gallery_hit *out);
/* Reference: one plain-C dot product per row, same selection.  Also the
 * naive peer the benchmark measures against. */
fn_status fn_gindex_search_ref(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                               fn_gallery_match *matches, fn_gallery_hit *topk);
/* Person-level top-k (fn_gallery_search_people without names). */
fn_status fn_gindex_search_people(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                                  fn_gallery_hit *out);

#endif
