/* engine_impl.h — what an fn_engine holds: the detector, one embedding
 * model and how faces are aligned for it.  Private to src/api.
 */
#ifndef FN_API_ENGINE_IMPL_H
#define FN_API_ENGINE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "facenet.h"
#include "image/resize.h"

typedef enum fn_model_kind { FN_MODEL_NONE = 0, FN_MODEL_FACENET, FN_MODEL_MOBILEFACENET } fn_model_kind;

/* A part of the engine loaded on first use (the detector; MobileFaceNet's
 * weights): the load runs once, under the engine's load_lock, and its
 * outcome — FN_OK, or the failure and its sentence — is kept and given to
 * every later call. */
typedef struct fn_lazy {
    atomic_int done;       /* 1 once status/error are final (release/acquire) */
    fn_status status;
    char error[512];
} fn_lazy;

struct fn_irv1;
struct fn_mfn;
struct fn_mtcnn;
struct fn_haar;

struct fn_engine {
    fn_options opts;
    fn_model_kind kind;
    struct fn_irv1 *irv1;
    struct fn_mfn *mfn;
    struct fn_mtcnn *mtcnn;
    struct fn_haar *haar;          /* FN_DETECTOR_HAAR: the cascade (thread-safe) */
    /* mtcnn and haar are loaded by the first fn_detect/fn_refine_face, mfn
     * by the first embedding or alignment (engine.c, fn_engine_lazy). */
    pthread_mutex_t load_lock;
    fn_lazy detector_load, model_load;
    char cascade[4096];            /* FN_DETECTOR_HAAR: the cascade file (a copy of the option's) */
    int dim, input_size;
    float threshold;
    char model_id[96];
    char preprocess_id[64];
    /* Alignment scratch (crop, resize, network input), reused across calls;
     * the lock keeps concurrent callers of one engine off each other's. */
    pthread_mutex_t lock;
    pthread_mutex_t detect_lock;   /* guards idle_det: an fn_mtcnn serves one thread at a time */
    struct fn_mtcnn **idle_det;    /* detectors not in use: mtcnn and its clones (fn_mtcnn_clone) */
    int n_idle_det, cap_idle_det;
    fn_resize_scratch resize;
    fn_image crop;
    float *input;       /* batch x 3 x size x size */
    int input_cap;      /* faces the input buffer holds */
};

/* A detector for this thread's call (mtcnn itself or a clone sharing its
 * weights, so concurrent callers detect at once); give it back after. */
fn_status fn_engine_detector_acquire(fn_engine *e, struct fn_mtcnn **out);
void fn_engine_detector_release(fn_engine *e, struct fn_mtcnn *m);

/* Align face as the model wants into out (allocated input_size square RGB
 * if out->data is NULL) with the caller's resize scratch: no engine lock,
 * so threads with their own out and rs align at once. */
fn_status fn_engine_align_into(const fn_engine *e, const fn_image *img, const fn_face *f, fn_image *out,
                               fn_resize_scratch *rs);
/* 1 when the embedding model may run on several threads at once (each
 * with its own input and workspace): InceptionResnetV1.  MobileFaceNet's
 * handle is not reentrant. */
int fn_engine_embed_reentrant(const fn_engine *e);
/* fn_embed_aligned without the engine lock when fn_engine_embed_reentrant
 * (the input standardised into a buffer of this call's), so threads embed
 * at once; otherwise fn_embed_aligned itself. */
fn_status fn_engine_embed_unlocked(fn_engine *e, const fn_image *crops, int n, float *emb);
/* The detector loaded (once; thread-safe): FN_OK, or the load's failure
 * again.  FN_ERR_ARG for an engine made with embedder_only. */
fn_status fn_engine_need_detector(fn_engine *e);

/* Room for n embeddings of dim floats in f->emb (grown, never shrunk;
 * src/api/faces.c, shared with the batch executor). */
fn_status fn_faces_reserve_emb(fn_faces *f, int n, int dim);

/* fn_detect for FN_DETECTOR_HAAR (src/api/detect_haar.c). */
fn_status fn_engine_detect_haar(fn_engine *e, const fn_image *img, fn_face *faces, int max, int *n);

#endif
