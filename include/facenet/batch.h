/* facenet/batch.h — the bulk executor: the faces of many image files,
 * pipelined.  Worker threads decode, detect and align files at once (each
 * with its own detector scratch sharing the engine's weights); the faces of
 * many files are embedded in one network call; results come back in input
 * order, one per file.  Memory is bounded by the window of files in flight,
 * whatever the number of inputs.  Every bulk front end (enroll, identify,
 * detect, embed, eval) runs on it; its results equal fn_faces_run's on each
 * file (tests/test_batch.c).
 *
 * Threads: one fn_batch is driven by one thread (the one calling
 * fn_batch_next); its workers are internal.  The engine is shared and may
 * serve other threads meanwhile.
 */
#ifndef FACENET_BATCH_H
#define FACENET_BATCH_H

#include "facenet/core.h"
#include "facenet/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* The input at position index (0, 1, 2, ...), or NULL after the last.
 * Called from the executor's threads, one call at a time, in index order;
 * the string must stay valid until the result of that input was delivered. */
typedef const char *(*fn_batch_source)(void *user, int index);

/* Called from a worker thread (several at once: must be thread-safe) with
 * the file's SHA-256 (hex) before it is decoded, when hash is set; return 1
 * to skip the file (its result then has skipped = 1 and no faces), e.g.
 * because a gallery already holds it. */
typedef int (*fn_batch_skip_fn)(void *user, int index, const char *path, const char *hash);

typedef struct fn_batch_params {
    int workers;      /* threads decoding, detecting and aligning; 0: one per online CPU.
                         Each runs its kernels single-threaded (no oversubscription) */
    int batch;        /* files whose faces are embedded in one network call (0: 32; 1: file by file) */
    int window;       /* files in flight at most (0: 2 x batch + 2 x workers); bounds memory */
    int aligned;      /* 1: each file is already an aligned crop (fn_faces_run's aligned) */
    int embed;        /* 1: embed faces; 0: detect only */
    int max_embed;    /* embed only the first (most probable) max_embed faces of a file; 0: all kept */
    int keep_image;   /* 1: the result keeps the decoded image (annotating, crops); 0: freed early */
    int hash;         /* 1: compute each file's SHA-256 first (fn_batch_result.hash) */
    fn_batch_skip_fn skip;   /* with hash: may skip a file before decoding; NULL: none */
    void *skip_user;
    int max_side;     /* working resolution: detect on a copy whose longer side is at most max_side
                         pixels (PIL-exact antialiased resize); boxes and landmarks are still in
                         the original's pixels and faces are aligned from the original.
                         0: detect at full resolution */
    int reduced_decode;  /* 1 (with max_side, without keep_image): a JPEG is decoded at the largest
                            of libjpeg's 1/2, 1/4, 1/8 keeping its longer side >= max_side
                            (fn_image_load_reduced) and faces are aligned from that; boxes and
                            landmarks are still in the full photo's pixels.  0: full decode */
} fn_batch_params;

void fn_batch_params_init(fn_batch_params *p);

/* One input's outcome.  Valid until the next fn_batch_next or fn_batch_free. */
typedef struct fn_batch_result {
    int index;                /* position in the input */
    const char *path;         /* as the source gave it */
    fn_status status;         /* FN_OK, or why this file failed (the others go on) */
    const char *error;        /* the failure's sentence (names the file); "" when FN_OK */
    int loaded;               /* 1 when the file was decoded (a failure came after decoding) */
    int skipped;              /* 1 when the skip callback said so (nothing else was done) */
    char hash[65];            /* the file's SHA-256 in hex with params.hash, else "" */
    const fn_faces *faces;    /* faces (n, total, boxes, notes); emb holds the first
                                 n_embedded x fn_engine_dim floats; img with keep_image */
    int n_embedded;           /* faces embedded: min(n, max_embed) with embed, else 0 */
    const float *sharpness;   /* n_embedded values: fn_image_sharpness of each aligned face (what the
                                 network saw); NULL when none was embedded */
    int work_w, work_h;       /* the size detection ran at (max_side), 0 when not detected */
    int image_w, image_h;     /* the upright photo's size at full resolution (reduced decode or not),
                                 0 when it was not decoded */
} fn_batch_result;

typedef struct fn_batch fn_batch;

/* Start the executor on engine e (shared, must outlive b) over the inputs
 * src gives.  p NULL: fn_batch_params_init's.  FN_ERR_ARG for a bad
 * parameter or an engine without the needed detector or model. */
fn_status fn_batch_new(fn_engine *e, const fn_batch_params *p, fn_batch_source src, void *src_user,
                       fn_batch **out);
/* The same over an array of n paths (kept by the caller until fn_batch_free). */
fn_status fn_batch_new_paths(fn_engine *e, const fn_batch_params *p, const char *const *paths, int n,
                             fn_batch **out);
/* The next input's result, in input order; *out NULL after the last.
 * A failing file is a result with its status, not a failure of this call;
 * this call fails only when the executor itself cannot go on (memory). */
fn_status fn_batch_next(fn_batch *b, const fn_batch_result **out);
/* Stop the workers (inputs not yet delivered are dropped) and free. */
void fn_batch_free(fn_batch *b);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
