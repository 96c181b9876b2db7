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

#ifdef __cplusplus
}
#endif
#endif
