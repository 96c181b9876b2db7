/* image.h — 8-bit images in memory and their files (JPEG, PNG).
 * Owns: the fn_image type, decoding (EXIF orientation applied, everything
 * turned into RGB8), PNG/JPEG writing, and the small pixel helpers (gray,
 * crop, flip).  Knows nothing of faces; resize/draw live beside it.
 */
#ifndef FN_IMAGE_H
#define FN_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "facenet.h"

/* fn_image and fn_image_limits are public (include/facenet.h). */

/* Defaults: a 12000x8000 (96 Mpx) photo loads, a 100000x100000 header is refused. */
#define FN_IMAGE_MAX_SIDE 30000
#define FN_IMAGE_MAX_PIXELS ((int64_t)128 * 1024 * 1024)

/* Allocate w*h*c bytes (uninitialised); out is left empty on failure. */
fn_status fn_image_alloc(fn_image *out, int w, int h, int c);
static inline uint8_t *fn_image_px(const fn_image *img, int x, int y)
{
    return img->data + ((size_t)y * img->w + x) * img->c;
}

/* Decode from memory (as fn_image_load); name_for_errors starts every error sentence. */
fn_status fn_image_decode(const void *buf, size_t len, const char *name_for_errors,
                          const fn_image_limits *lim, fn_image *out);
/* The same, telling what the decoder noticed (notes may be NULL). */
fn_status fn_image_decode_ex(const void *buf, size_t len, const char *name_for_errors,
                             const fn_image_limits *lim, fn_image *out, fn_image_notes *notes);


/* RGB -> 1-channel gray with OpenCV's cvtColor(RGB2GRAY) fixed point:
 * (4899 R + 9617 G + 1868 B + 8192) >> 14.  dst must be w x h x 1 (allocated). */
fn_status fn_image_to_gray(const fn_image *src, fn_image *dst);
/* Copy the rectangle [x, x+w) x [y, y+h) (must lie inside src) into dst,
 * which must already be allocated as w x h x src->c. */
fn_status fn_image_crop(const fn_image *src, int x, int y, int w, int h, fn_image *dst);
/* Copy the w x h pixels at src (rows stride bytes apart, dst->c channels)
 * into dst turned upright for EXIF orientation o (1..8, as PIL's
 * ImageOps.exif_transpose); dst must be allocated at the turned size
 * (w and h swapped for 5..8).  Decoders and the video source share it. */
void fn_image_orient_copy(const uint8_t *src, int w, int h, size_t stride, int o, fn_image *dst);
/* Mirror left-right in place (test-time augmentation, selfie views). */
void fn_image_flip_h(fn_image *img);

#endif
