/* facenet/engine.h — from pixels to embeddings: the recognition engine, one
 * handle holding the face detector (MTCNN, or a Haar cascade refined by
 * O-Net), the embedding model (MobileFaceNet or FaceNet's InceptionResnetV1)
 * and the alignment that model was trained with.  Detection, alignment and
 * embedding share one header because they share one handle: the detector's
 * landmarks are what the model's alignment needs.
 */
#ifndef FACENET_ENGINE_H
#define FACENET_ENGINE_H

#include "facenet/core.h"
#include "facenet/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declared here = exported from libfacenet.so (the library is compiled with
 * -fvisibility=hidden; `make check-exports` checks both ways). */
#pragma GCC visibility push(default)

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
/* "prob", "largest" or "center". */
const char *fn_select_name(fn_select s);
/* 1 when all 5 landmarks lie inside a w x h image, 0 when any lies outside
 * (a face cut by the border, found by the edge retry: its box and landmarks
 * are in the image's coordinates but may pass its edges; alignment still
 * works, filling what is outside with black). */
int fn_face_landmarks_inside(const fn_face *face, int w, int h);

/* ---------------------------------------------------------------- engine */

/* Which detector finds faces in fn_detect. */
typedef enum fn_detector {
    FN_DETECTOR_MTCNN = 0,  /* MTCNN's P-, R- and O-Net cascade (Zhang et al. 2016; facenet-pytorch parity) */
    FN_DETECTOR_HAAR        /* Viola-Jones Haar cascade (OpenCV 4.6 detectMultiScale parity), each box
                               then given O-Net's probability and 5 landmarks; cheaper than
                               MTCNN's P-Net pyramid, hence `facenet watch`'s default */
} fn_detector;

/* Where Debian's opencv-data puts OpenCV's frontal-face cascade. */
#define FN_HAAR_DEFAULT_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

/* Settings of a recognition engine: which models, detector thresholds. */
typedef struct fn_options {
    const char *models_dir;   /* holds the default bundle (see `make models`); required
                                 unless model is a .pt and mtcnn_dir is set */
    const char *model;        /* "mobilefacenet" (default) or a facenet-pytorch .pt path */
    const char *mtcnn_dir;    /* NULL: the bundle's MTCNN; else a dir with pnet.pt, rnet.pt, onet.pt */
    float min_face;           /* smallest face in pixels (20); Haar: the smallest window (at least
                                 the cascade's own, 24) */
    float thresholds[3];      /* P-, R-, O-Net thresholds (0.6, 0.7, 0.7) */
    float factor;             /* pyramid scale factor (0.709) */
    int edge_retry;           /* 1 (default): when MTCNN finds no face, look once more in the image
                                 padded with mid-gray (FN_EDGE_PAD of its short side), so a
                                 close-up filling the frame or a face cut by the border is found;
                                 0: the reference's single pass */
    fn_detector detector;     /* FN_DETECTOR_MTCNN (default) or FN_DETECTOR_HAAR */
    const char *cascade;      /* Haar: cascade XML; NULL = FN_HAAR_DEFAULT_CASCADE */
    double haar_scale;        /* Haar pyramid step, > 1 (1.1, OpenCV's scaleFactor) */
    int haar_min_neighbors;   /* Haar: a group needs more than this many raw hits (3, OpenCV's) */
    int haar_reduce;          /* Haar: 1 = scan a copy reduced by a whole factor to about 640x480
                                 (video: cost follows pixels; smallest face = 24 px x factor);
                                 2 = the same, and windows of twice the cascade's size or more
                                 are scanned as small windows on copies halved again (OpenCV
                                 scans those levels with a 1-pixel step: most of the cost of a
                                 big frame; `facenet watch`'s default; frames under 1280x720
                                 are scanned as with 1); 0 (default) = full
                                 resolution, OpenCV's pyramid exactly */
    int haar_refined_box;     /* Haar: 1 = report O-Net's refined box; 0 (default) = the cascade's
                                 rectangle exactly (OpenCV parity); landmarks are O-Net's either way */
    int detector_only;        /* 1: load no embedding model */
    int embedder_only;        /* 1: load no detector (only aligned crops will be embedded) */
} fn_options;

void fn_options_init(fn_options *o);

/* The edge retry's pad on each side, as a fraction of the image's short
 * side (measured on Film close-ups and border-cut faces: tests/test_edge_faces.c). */
#define FN_EDGE_PAD 0.25

/* Detector + embedding model + their alignment.  Thread-safe: one engine
 * may serve several threads at once. */
typedef struct fn_engine fn_engine;

/* o NULL: fn_options_init's defaults.  FN_ERR_IO / FN_ERR_FORMAT / FN_ERR_MODEL
 * name the model or cascade file that cannot be used; FN_ERR_ARG an option
 * out of range (detector, haar_scale in (1, 4], haar_min_neighbors >= 0).
 * Networks load on first use: the detector (MTCNN, the Haar cascade) on the
 * first fn_detect / fn_refine_face, MobileFaceNet's weights on the first
 * embedding or alignment (thread-safe; a command that never embeds never
 * parses the model).  Creation checks that every file can be opened and
 * fails as above when one cannot; a file that opens but is damaged makes
 * that first use (and every later one) fail with the loader's sentence.
 * dim, input size, model and preprocessing ids and threshold are known at
 * creation (MobileFaceNet's id is its file's hash).  A FaceNet .pt is loaded
 * at creation: its id is a digest of its weights. */
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
/* The detector fn_detect runs (fn_options.detector). */
fn_detector fn_engine_detector(const fn_engine *e);

/* Faces in img, most probable first; at most max are written to faces and
 * *n receives how many there are in all (may exceed max).  MTCNN keeps faces
 * whose O-Net probability passes thresholds[2] and whose side is at least
 * min_face; Haar keeps every cascade rectangle (its smallest window is
 * max(24, min_face) pixels), with O-Net's probability unthresholded —
 * callers filter on prob.  FN_ERR_ARG for a non-RGB image. */
fn_status fn_detect(fn_engine *e, const fn_image *img, fn_face *faces, int max, int *n);
/* fn_detect on the part of img inside region (x1,y1,x2,y2 in pixels, clipped
 * to the image): the same scan at the same scale as on the whole image,
 * finding the faces that lie inside the region — around a tracked face, at
 * a fraction of a whole frame's cost.  Haar engines only (FN_ERR_UNSUPPORTED
 * otherwise); FN_ERR_ARG for a non-RGB image or an empty region. */
fn_status fn_detect_region(fn_engine *e, const fn_image *img, const float region[4], fn_face *faces, int max, int *n);
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
/* Scales each of rows vectors of d floats (row-major) to unit Euclidean
 * length in place (a norm below 1e-12 is taken as 1e-12, as PyTorch's
 * F.normalize).  Every embedding the library hands out is normalised so. */
void fn_l2_normalize(float *x, int rows, int d);

/* ------------------------------------------------------- faces of a file */

/* The step every "what faces are in this picture" front end repeats: load
 * one image file, detect its faces (or take the whole image as one aligned
 * face), and embed them.  Reuse one fn_faces for many files: buffers grow
 * and are kept. */
#define FN_FACES_MAX 256   /* faces kept per image (the most probable) */

typedef struct fn_faces {
    fn_image img;             /* the decoded image (RGB) */
    fn_image_notes notes;     /* what decoding noticed: EXIF orientation undone, a repaired
                                 damage's warning ("" if none) for the caller to report */
    fn_face faces[FN_FACES_MAX];
    int n;                    /* faces kept (<= FN_FACES_MAX) */
    int total;                /* faces the detector found */
    float *emb;               /* n x fn_engine_dim(), L2-normalised, when embedded */
    int emb_cap;              /* floats emb holds */
} fn_faces;

/* What this build computes with, one line each into buf (cap bytes,
 * truncated): oneDNN's version (convolutions), the BLAS (OpenBLAS's
 * configuration, or the plain-C reference when OpenBLAS cannot be loaded;
 * gallery search) and SQLite's version (galleries).  Loads oneDNN and
 * OpenBLAS if nothing has yet (they are opened on first use, not linked).
 * FN_ERR_UNSUPPORTED naming oneDNN's library when it cannot be loaded. */
fn_status fn_backends_describe(char *buf, size_t cap);

/* Load path; with aligned, the whole image is one face (box = the image,
 * prob 1) and must be the model's aligned crop; otherwise detect.  Then
 * embed every kept face when embed != 0.  Errors name the file. */
fn_status fn_faces_run(fn_engine *e, const char *path, int aligned, int embed, fn_faces *out);
/* Forget the image and faces; keeps the buffers for the next file. */
void fn_faces_clear(fn_faces *f);
/* Release everything; the struct is zeroed. */
void fn_faces_free(fn_faces *f);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
