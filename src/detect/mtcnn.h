/* mtcnn.h — MTCNN face detection, finding the faces facenet-pytorch finds.
 * Owns: the scale pyramid, the three stages (P-Net proposals, R-Net and
 * O-Net refinement), NMS, box regression, landmarks and face selection.
 * Takes weights only as fn_weights (any loader); knows no file formats.
 *
 * Threads: one fn_mtcnn may be used by one thread at a time (it keeps its
 * scratch buffers, grown to the largest image seen); use one handle per
 * calling thread.  Inside a call, work is split over OpenMP threads
 * (OMP_NUM_THREADS); the result does not depend on how many (it may differ
 * in the last bits between CPUs: AVX-512, AVX2 and baseline kernels round
 * differently).
 *
 * Memory: pyramid rows are resampled on demand inside P-Net's row stream,
 * so beyond the image itself a 12000x8000 photo needs about 30 MB.
 */
#ifndef FN_DETECT_MTCNN_H
#define FN_DETECT_MTCNN_H

#include <stddef.h>
#include <stdint.h>

#include "facenet.h"
#include "io/weights.h"

typedef struct fn_mtcnn fn_mtcnn;

/* Doubles so that 0.709 is the reference's Python float: the pyramid's
 * scales are products of it and decide the scaled image sizes. */
typedef struct fn_mtcnn_params {
    double min_face;        /* smallest face to look for, pixels (20) */
    double thresholds[3];   /* P-, R-, O-Net face probability (0.6, 0.7, 0.7) */
    double factor;          /* pyramid step (0.709) */
    double edge_pad;        /* 0 (default: the reference): one pass.  > 0: when the pass finds no
                               face, run once more on the image padded on every side by
                               edge_pad x its short side (mid-gray), and map the
                               faces back; boxes and landmarks may then lie outside the image
                               (faces with under a quarter of their box inside are dropped) */
} fn_mtcnn_params;

fn_mtcnn_params fn_mtcnn_params_default(void);

/* fn_face (box, prob, 5 landmarks) is public: include/facenet.h. */

/* Pack facenet-pytorch's pnet/rnet/onet tensors (names and shapes checked);
 * the fn_weights may be freed afterwards. */
fn_status fn_mtcnn_new(const fn_weights *pnet, const fn_weights *rnet, const fn_weights *onet,
                       fn_mtcnn **out);
void fn_mtcnn_free(fn_mtcnn *m);
/* A second handle on src's networks for another thread: it shares src's
 * packed weights (read-only) and has its own scratch.  src must outlive
 * every clone; each handle still serves one thread at a time.  Results are
 * bit-identical to src's. */
fn_status fn_mtcnn_clone(const fn_mtcnn *src, fn_mtcnn **out);

/* Detect faces in an interleaved RGB8 image (stride bytes between rows).
 * faces gets up to max_faces faces by descending probability; *nfaces is
 * how many were found (may exceed max_faces).  p NULL means the defaults.
 * An image too small for min_face, or without faces, gives *nfaces = 0.
 * Departure from the reference, only on pathological input: past 10000
 * P-Net proposals (per scale, or after per-scale NMS) the most probable are
 * kept, so that quadratic NMS stays bounded (real photos: ~1000). */
fn_status fn_mtcnn_detect_rgb(fn_mtcnn *m, const uint8_t *rgb, int width, int height, size_t stride,
                              const fn_mtcnn_params *p, fn_face *faces, int max_faces, int *nfaces);

/* The same on an fn_image (RGB, c == 3). */
fn_status fn_mtcnn_detect(fn_mtcnn *m, const fn_image *img, const fn_mtcnn_params *p,
                          fn_face *faces, int max_faces, int *nfaces);

/* O-Net alone on one box from elsewhere (e.g. a Haar detector): the box is
 * squared as MTCNN squares its candidates, then O-Net gives its probability,
 * refined box and landmarks (no threshold applied).  FN_ERR_ARG if the box
 * does not overlap the image. */
fn_status fn_mtcnn_refine_rgb(fn_mtcnn *m, const uint8_t *rgb, int width, int height, size_t stride,
                              const float box[4], fn_face *face);

fn_status fn_mtcnn_refine(fn_mtcnn *m, const fn_image *img, const float box[4], fn_face *face);

/* Which one face to keep, as facenet-pytorch's MTCNN.select_boxes. */
typedef enum fn_face_pick {
    FN_PICK_LARGEST,          /* largest box area */
    FN_PICK_PROBABILITY,      /* most probable */
    FN_PICK_CENTER_WEIGHTED   /* area - 2 * squared distance of box centre to image centre */
} fn_face_pick;

/* Index of the chosen face among n, or -1 if n is 0. */
int fn_mtcnn_pick(const fn_face *faces, int n, int width, int height, fn_face_pick how);

#endif
