/* align.h — from a detected face to the network's input pixels.
 * Owns: facenet-pytorch's extract_face (box + margin, crop, PIL resize),
 * input standardisation, and the 5-point similarity warp to the ArcFace
 * 112x112 template (least squares, OpenCV-style bilinear warp).
 * Takes boxes and landmarks as plain floats; knows nothing of detectors.
 */
#ifndef FN_ALIGN_H
#define FN_ALIGN_H

#include "image/image.h"
#include "image/resize.h"

/* ---- facenet-pytorch crop (src/align/crop.c) ---- */

/* The integer crop extract_face takes from a w x h image: the box grown by
 * margin output pixels (margin*(x2-x1)/(size-margin) split on both sides),
 * clamped to the image and truncated toward zero as Python's int().
 * Returns FN_ERR_ARG when nothing of the box is left inside the image. */
fn_status fn_face_crop_rect(const float box[4], int img_w, int img_h, int size, float margin, int rect[4]);

/* extract_face(img, box, image_size=out->w, margin): out must be allocated
 * as size x size x 3.  scratch may be NULL (see resize.h). */
fn_status fn_extract_face(const fn_image *img, const float box[4], float margin,
                          fn_image *out, fn_resize_scratch *scratch);

/* fixed_image_standardization: (x - 127.5) / 128 into planar CHW floats,
 * dst holding 3*w*h values (the caller's buffer; nothing is allocated). */
void fn_standardize_chw(const fn_image *face, float *dst);

/* ---- 5-point similarity warp (src/align/warp.c) ---- */

/* ArcFace's reference landmarks for a 112x112 crop: left eye, right eye,
 * nose, left and right mouth corner, as (x, y). */
extern const double fn_arcface_template_112[5][2];

/* 2x3 affine matrix mapping a source point (x, y) to (m[0]x + m[1]y + m[2],
 * m[3]x + m[4]y + m[5]). */
typedef struct fn_affine { double m[6]; } fn_affine;

/* Least-squares similarity (rotation, uniform scale, translation, never a
 * reflection; Umeyama's estimate) taking src[i] onto dst[i], n >= 2.
 * Double points: for a small face the translation moves by ~1e-4 when the
 * landmarks are first rounded to float.
 * FN_ERR_ARG when the source points are all the same. */
fn_status fn_similarity_fit(const double (*src)[2], const double (*dst)[2], int n, fn_affine *out);

/* cv2.warpAffine(src, m, dst size, INTER_LINEAR, BORDER_CONSTANT 0): each
 * destination pixel samples the source at the inverse-mapped point, with
 * OpenCV's 1/32-pixel fixed-point positions and 15-bit weights.
 * dst allocated (same channels as src). */
fn_status fn_warp_affine(const fn_image *src, const fn_affine *m, fn_image *dst);
/* Plain double-precision bilinear with zero border: the reference the
 * fixed-point warp is tested against. */
fn_status fn_warp_affine_ref(const fn_image *src, const fn_affine *m, fn_image *dst);

/* Landmarks (5 x,y in image pixels, MTCNN order) -> 112x112 ArcFace crop.
 * out allocated 112x112x3; matrix (may be NULL) receives the fit. */
fn_status fn_align_arcface(const fn_image *img, const float landmarks[5][2], fn_image *out, fn_affine *matrix);

#endif
