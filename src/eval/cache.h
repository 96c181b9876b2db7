/* cache.h — an SQLite file of embeddings already computed, so that running an
 * evaluation again skips detection and embedding for unchanged images.
 * Owns: the cache file.  Keyed by (key, model): key is the caller's content
 * hash of the image file (e.g. SHA-256 hex), model names the weights and
 * settings that produced the entry; either changing means a miss.
 */
#ifndef FN_EVAL_CACHE_H
#define FN_EVAL_CACHE_H

#include "facenet.h"

typedef struct fn_cache fn_cache;

#define FN_CACHE_MAX_DIM 4096

typedef struct fn_cache_entry {
    int has_face;     /* 0: the detector found no face; box, prob, embedding unset */
    float box[4];     /* x1, y1, x2, y2 in pixels of the original image */
    float prob;       /* detector probability */
    int dim;          /* embedding length (0 when !has_face) */
} fn_cache_entry;

/* Opens or creates the file.  FN_ERR_DB names the file when it is not an
 * SQLite database or was written by an incompatible version of this cache. */
fn_status fn_cache_open(const char *path, fn_cache **out);
/* Commits what was put and closes; NULL is fine. */
fn_status fn_cache_close(fn_cache *c);

/* FN_OK and the entry when present; FN_ERR_NOT_FOUND when absent (no error
 * sentence is set for a plain miss).  emb receives e->dim floats; emb_cap is
 * its room, FN_ERR_LIMIT if the stored embedding is longer. */
fn_status fn_cache_get(fn_cache *c, const char *key, const char *model, fn_cache_entry *e, float *emb, int emb_cap);
/* Inserts or replaces.  Writes are grouped into transactions of a few
 * hundred (committed on close or fn_cache_flush), which is what makes a
 * first evaluation run not spend its time in fsync. */
fn_status fn_cache_put(fn_cache *c, const char *key, const char *model, const fn_cache_entry *e, const float *emb);
fn_status fn_cache_flush(fn_cache *c);

#endif
