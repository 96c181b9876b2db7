/* facenet.h — the whole public API of libfacenet.
 *
 * Face recognition on the FaceNet pipeline: detect (MTCNN) -> align -> embed
 * (InceptionResnetV1 or MobileFaceNet) -> match (gallery).  Handles are opaque;
 * every call returns an fn_status, and fn_last_error() gives a sentence that
 * names the file and the problem of the last failure on the calling thread.
 */
#ifndef FACENET_H
#define FACENET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared in the public headers is exported from libfacenet.so;
 * the library is compiled with -fvisibility=hidden, so nothing else is. */
#pragma GCC visibility push(default)

typedef enum fn_status {
    FN_OK = 0,
    FN_ERR_ARG,       /* a caller passed something invalid */
    FN_ERR_IO,        /* a file could not be opened, read or written */
    FN_ERR_FORMAT,    /* a file is not what it claims, or is truncated/corrupt */
    FN_ERR_UNSUPPORTED, /* valid file, but a feature we do not handle */
    FN_ERR_LIMIT,     /* input exceeds a safety limit (image size, tensor size) */
    FN_ERR_NOMEM,
    FN_ERR_MODEL,     /* weights do not fit the network (missing tensor, shape) */
    FN_ERR_DB,        /* gallery database error */
    FN_ERR_MISMATCH,  /* e.g. gallery built by another model */
    FN_ERR_NOT_FOUND,
    FN_ERR_INTERNAL
} fn_status;

/* The human sentence for the last failure on this thread ("" if none). */
const char *fn_last_error(void);
/* A short constant name for a status code. */
const char *fn_status_name(fn_status s);

/* ---------------------------------------------------------------- images */

/* Interleaved 8-bit pixels, rows packed (stride = w*c); c = 3 (RGB) or 1
 * (gray).  data is owned by the image: release with fn_image_free. */
typedef struct fn_image {
    int w, h, c;
    uint8_t *data;
} fn_image;

/* Checked from the file header before any pixel memory is allocated. */
typedef struct fn_image_limits {
    int max_side;        /* widest/tallest side accepted */
    int64_t max_pixels;  /* w*h accepted */
} fn_image_limits;

/* Decode a JPEG or PNG file into RGB8, EXIF orientation applied.  lim NULL
 * means the defaults (a 12000x8000 photo loads, a 100000x100000 header is
 * refused).  On failure *out is empty and fn_last_error() names the file. */
fn_status fn_image_load(const char *path, const fn_image_limits *lim, fn_image *out);
fn_status fn_image_save_png(const char *path, const fn_image *img);
fn_status fn_image_save_jpeg(const char *path, const fn_image *img, int quality);
/* Frees data and zeroes the struct; safe on a zeroed or freed image. */
void fn_image_free(fn_image *img);

/* ----------------------------------------------------------------- faces */

/* One detected face in pixels of the original image: box x1,y1,x2,y2, the
 * detector's probability, and 5 landmarks (left eye, right eye, nose, left
 * and right mouth corner) as x,y. */
typedef struct fn_face {
    float box[4];
    float prob;
    float landmarks[5][2];
} fn_face;

/* How to choose one face when a caller wants one (facenet-pytorch's
 * selection methods). */
typedef enum fn_select {
    FN_SELECT_PROB = 0,    /* most probable */
    FN_SELECT_LARGEST,     /* largest box area */
    FN_SELECT_CENTER       /* area minus 2 x squared offset from the image centre (FaceNet's LFW choice) */
} fn_select;

/* Index of the chosen face, or -1 when n == 0. */
int fn_select_face(const fn_face *faces, int n, fn_select how, int img_w, int img_h);

/* ---------------------------------------------------------------- engine */

/* Settings of a recognition engine: which models, detector thresholds. */
typedef struct fn_options {
    const char *models_dir;   /* holds the default bundle (see `make models`); required
                                 unless model is a .pt and mtcnn_dir is set */
    const char *model;        /* "mobilefacenet" (default) or a facenet-pytorch .pt path */
    const char *mtcnn_dir;    /* NULL: the bundle's MTCNN; else a dir with pnet.pt, rnet.pt, onet.pt */
    float min_face;           /* MTCNN minimum face size in pixels (20) */
    float thresholds[3];      /* P-, R-, O-Net thresholds (0.6, 0.7, 0.7) */
    float factor;             /* pyramid scale factor (0.709) */
    int detector_only;        /* 1: load no embedding model */
    int embedder_only;        /* 1: load no detector (only aligned crops will be embedded) */
} fn_options;

void fn_options_init(fn_options *o);

/* Detector + embedding model + their alignment.  Thread-safe: one engine
 * may serve several threads at once. */
typedef struct fn_engine fn_engine;

fn_status fn_engine_new(const fn_options *o, fn_engine **out);
void fn_engine_free(fn_engine *e);
/* Embedding length (512 FaceNet, 192 MobileFaceNet; 0 when detector_only). */
int fn_engine_dim(const fn_engine *e);
/* Side of the aligned face the model takes (160 FaceNet, 112 MobileFaceNet). */
int fn_engine_input_size(const fn_engine *e);
/* Stable identity of the model's weights and preprocessing, e.g.
 * "facenet-irv1@1a2b3c..." — galleries and caches are keyed by it. */
const char *fn_engine_model_id(const fn_engine *e);
const char *fn_engine_preprocess_id(const fn_engine *e);
/* Default "unknown" threshold on the Euclidean distance of L2-normalised
 * embeddings, chosen on LFW DevTrain for the model. */
float fn_engine_threshold(const fn_engine *e);

/* Faces in img, most probable first; at most max are written to faces and
 * *n receives how many there are in all (may exceed max). */
fn_status fn_detect(fn_engine *e, const fn_image *img, fn_face *faces, int max, int *n);
/* O-Net alone on a box found elsewhere (a Haar detector, a tracked face's
 * last box): face gets O-Net's probability, refined box and 5 landmarks, so
 * the face can be aligned like an MTCNN detection.  No threshold is applied;
 * FN_ERR_ARG when the box does not overlap the image. */
fn_status fn_refine_face(fn_engine *e, const fn_image *img, const float box[4], fn_face *face);
/* Align each face as the model expects (FaceNet: facenet-pytorch's crop of the
 * box; MobileFaceNet: 5-point warp) and embed: emb gets n x dim floats,
 * L2-normalised. */
fn_status fn_embed_faces(fn_engine *e, const fn_image *img, const fn_face *faces, int n, float *emb);
/* Embed images that are already aligned face crops of input_size x
 * input_size (RGB). */
fn_status fn_embed_aligned(fn_engine *e, const fn_image *crops, int n, float *emb);
/* The aligned crop fn_embed_faces feeds the model (input_size square, RGB). */
fn_status fn_align_face(fn_engine *e, const fn_image *img, const fn_face *face, fn_image *out);
/* facenet-pytorch's extract_face: box grown by margin output pixels, cut,
 * resized to size x size (PIL antialiased bilinear).  out is allocated. */
fn_status fn_crop_face(const fn_image *img, const float box[4], int size, float margin, fn_image *out);

/* Draw a face's box with label under it (green when known, red otherwise). */
void fn_image_draw_face(fn_image *img, const fn_face *f, const char *label, int known);

/* Euclidean and cosine distance of two L2-normalised embeddings. */
float fn_distance(const float *a, const float *b, int dim);
float fn_cosine_distance(const float *a, const float *b, int dim);

/* --------------------------------------------------------------- gallery */

/* A gallery: who is enrolled, from which image files, and their embeddings,
 * in one SQLite file, with nearest-person search in memory. */
#define FN_GALLERY_NAME_MAX 128     /* person names: 1..127 bytes, UTF-8 */

typedef struct fn_gallery fn_gallery;
typedef struct fn_gallery_scratch fn_gallery_scratch;

enum {
    FN_GALLERY_CREATE = 1,   /* create the file (and its tables) when missing */
    FN_GALLERY_READONLY = 2, /* never write: searching, listing */
    FN_GALLERY_CHECK = 4,    /* run fn_gallery_check() before returning the handle */
};

/* What the embeddings were made with.  A gallery refuses a run whose model id
 * or dim differs from the one it was built with (FN_ERR_MISMATCH).  When
 * opening an existing gallery, model_id NULL / dim 0 / preprocess_id NULL mean
 * "whatever is stored" (for list/remove tools that never embed). */
typedef struct fn_gallery_model {
    const char *model_id;       /* e.g. "mobilefacenet-192@sha256:…" */
    int dim;                    /* embedding length */
    const char *preprocess_id;  /* e.g. "arcface112-rgb-127.5/128"; NULL = unchecked */
} fn_gallery_model;

fn_status fn_gallery_open(const char *path, const fn_gallery_model *model, int flags, fn_gallery **out);
void fn_gallery_close(fn_gallery *g);
/* The model the gallery was built with (pointers live as long as g). */
fn_gallery_model fn_gallery_model_of(const fn_gallery *g);

/* Explicit transaction around several adds/removes: all or nothing.  Without
 * one, every add/remove/rename commits on its own.  A failed commit rolls the
 * batch back; searches on this handle see a batch's rows before its commit. */
fn_status fn_gallery_begin(fn_gallery *g);
fn_status fn_gallery_commit(fn_gallery *g);
fn_status fn_gallery_rollback(fn_gallery *g);

typedef struct fn_gallery_face {
    const char *person;        /* who it is */
    const char *image_path;    /* as the user named it; kept for display only */
    const char *hash_hex;      /* fn_hash_file() of the image bytes: its identity */
    float box[4];              /* x1, y1, x2, y2 in pixels of the original image */
    float prob;                /* detector probability */
    const float *embedding;    /* dim floats; stored L2-normalised */
} fn_gallery_face;

typedef enum fn_gallery_added { FN_GALLERY_ADDED = 1, FN_GALLERY_SKIPPED_DUPLICATE = 2 } fn_gallery_added;

/* Enrols one face.  The same person + same file hash again is not duplicated:
 * *result = FN_GALLERY_SKIPPED_DUPLICATE.  image_id may be NULL. */
fn_status fn_gallery_add(fn_gallery *g, const fn_gallery_face *f, fn_gallery_added *result, int64_t *image_id);
/* *yes = 1 when this person already has an image with this hash (lets a
 * caller skip detection and embedding for files it has already enrolled). */
fn_status fn_gallery_has_image(fn_gallery *g, const char *person, const char *hash_hex, int *yes);
/* Removes a person with all their images and embeddings.  *removed_images may be NULL. */
fn_status fn_gallery_remove_person(fn_gallery *g, const char *name, int64_t *removed_images);
/* FN_ERR_NOT_FOUND when old is missing, FN_ERR_ARG when new already exists. */
fn_status fn_gallery_rename_person(fn_gallery *g, const char *old_name, const char *new_name);

typedef struct fn_gallery_person { int64_t id; const char *name; int64_t n_images; } fn_gallery_person;
typedef struct fn_gallery_image {
    int64_t id, person_id;
    const char *path, *hash_hex;
    float box[4], prob;
    int64_t added_unix;
} fn_gallery_image;
/* Visit people in name order; a non-zero return from fn stops the walk.
 * The pointers in the record are valid only during the call, and fn must
 * not call back into g (the handle is locked while it runs). */
fn_status fn_gallery_list(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_person *p), void *ctx);
/* Visit one person's images (all people when person is NULL) in id order. */
fn_status fn_gallery_list_images(fn_gallery *g, const char *person,
                                 int (*fn)(void *ctx, const fn_gallery_image *im), void *ctx);
fn_status fn_gallery_count(fn_gallery *g, int64_t *people, int64_t *images);
/* Visit every enrolled embedding (as the search index holds it:
 * L2-normalised) with its person, in enrolment order; a non-zero return
 * stops the walk.  Pointers are valid only during the call, and fn must not
 * call back into g.  For calibration and evaluation over a whole gallery. */
typedef struct fn_gallery_embedding {
    int64_t image_id, person_id;
    const char *person;
    const float *embedding;
    int dim;
} fn_gallery_embedding;
fn_status fn_gallery_embeddings(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_embedding *e), void *ctx);

/* The decision threshold on Euclidean distance (of L2-normalised embeddings)
 * stored with the gallery, e.g. from calibration.  get: FN_ERR_NOT_FOUND when
 * none is stored. */
fn_status fn_gallery_get_threshold(fn_gallery *g, float *threshold);
fn_status fn_gallery_set_threshold(fn_gallery *g, float threshold);
/* Free-form metadata.  Keys the gallery manages itself (schema_version,
 * model_id, dim, preprocess_id, threshold) are read-only here. */
fn_status fn_gallery_meta_get(fn_gallery *g, const char *key, char *value, size_t cap);
fn_status fn_gallery_meta_set(fn_gallery *g, const char *key, const char *value);

/* Full consistency check: SQLite's integrity_check and foreign_key_check, and
 * every image has exactly one embedding of the right size.  On failure the
 * sentence says what is wrong (FN_ERR_DB). */
fn_status fn_gallery_check(fn_gallery *g);
/* Reloads the in-memory index if another connection changed the file since it
 * was loaded (*reloaded = 1).  reloaded may be NULL. */
fn_status fn_gallery_refresh(fn_gallery *g, int *reloaded);

/* ---- search ---- */

typedef struct fn_gallery_hit {
    int64_t image_id, person_id;   /* -1 when there is no such hit */
    float distance;                /* Euclidean, on L2-normalised vectors: sqrt(2 - 2 cos); INFINITY when absent */
} fn_gallery_hit;

/* Person-level answer for one query: the nearest person (by their nearest
 * image) and the nearest *different* person, with names. */
typedef struct fn_gallery_match {
    fn_gallery_hit best, second;
    char best_name[FN_GALLERY_NAME_MAX], second_name[FN_GALLERY_NAME_MAX];
} fn_gallery_match;

/* Per-thread working memory for search, sized once: queries are scored in
 * chunks of max_queries.  One scratch per calling thread. */
fn_status fn_gallery_scratch_new(const fn_gallery *g, int max_queries, fn_gallery_scratch **out);
void fn_gallery_scratch_free(fn_gallery_scratch *s);

/* Scores nq queries (row-major nq x dim, any norm: normalised on the fly)
 * against every enrolled embedding.  matches: nq results (may be NULL).
 * topk: nq x k image-level hits, nearest first, ties broken by the lower
 * image id (may be NULL; slots beyond the gallery size get id -1).  Safe to
 * call from several threads at once on one handle, each with its own
 * scratch; allocates nothing.  An empty gallery gives FN_ERR_NOT_FOUND. */
fn_status fn_gallery_search(fn_gallery *g, fn_gallery_scratch *s, const float *queries, int nq, int k,
                            fn_gallery_match *matches, fn_gallery_hit *topk);


/* SHA-256 of a file's bytes as lower-case hex: the identity of an enrolled
 * image, so re-enrolling the same file under the same person is a no-op. */
fn_status fn_hash_file(const char *path, char out_hex[65]);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
