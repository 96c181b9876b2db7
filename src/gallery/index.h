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

typedef struct fn_gindex {
    int dim;
    size_t n, cap;        /* rows used / allocated */
    float *vec;           /* n x dim, each row L2-normalised, FN_ALIGN-aligned */
    int64_t *image_id;    /* per row; rows stay in insertion order */
    int64_t *person_id;   /* per row */
} fn_gindex;

fn_status fn_gindex_init(fn_gindex *x, int dim);
void fn_gindex_release(fn_gindex *x);
/* Grow storage to at least cap rows (never shrinks). */
fn_status fn_gindex_reserve(fn_gindex *x, size_t cap);
/* Room for one more row (grows by doubling). */
fn_status fn_gindex_make_room(fn_gindex *x);
/* Appends a row, L2-normalised; FN_ERR_ARG if v has a non-finite entry or zero norm. */
fn_status fn_gindex_append(fn_gindex *x, int64_t image_id, int64_t person_id, const float *v);
/* Drops every row of a person, keeping the others in order; returns rows removed. */
size_t fn_gindex_remove_person(fn_gindex *x, int64_t person_id);
void fn_gindex_clear(fn_gindex *x);

/* Normalise v (n floats) in place; 0 if it is zero or not finite. */
int fn_l2_normalize_checked(float *v, int n);

struct fn_gallery_scratch {
    int dim, max_queries;
    float *queries;   /* max_queries x dim: the normalised chunk */
    float *scores;    /* max_queries x FN_GINDEX_BLOCK cosine scores */
};
#define FN_GINDEX_BLOCK 1024       /* rows scored per BLAS call: the scores stay in cache */
#define FN_GINDEX_MAX_QUERIES 256  /* queries per chunk; more are done chunk by chunk */

fn_status fn_gscratch_new(int dim, int max_queries, fn_gallery_scratch **out);

/* Fast path: rows scored in blocks by sgemm (sgemv for one query).  matches
 * (names left empty) and topk as in fn_gallery_search; either may be NULL. */
fn_status fn_gindex_search(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                           fn_gallery_match *matches, fn_gallery_hit *topk);
/* Reference: one plain-C dot product per row, same selection.  Also the
 * naive peer the benchmark measures against. */
fn_status fn_gindex_search_ref(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                               fn_gallery_match *matches, fn_gallery_hit *topk);
/* Person-level top-k (fn_gallery_search_people without names). */
fn_status fn_gindex_search_people(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                                  fn_gallery_hit *out);

#endif
