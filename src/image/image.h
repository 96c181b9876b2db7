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

/* fn_image, its files, alloc, gray, crop and flip are public
 * (include/facenet/image.h); this header adds the library's pixel helpers. */

static inline uint8_t *fn_image_px(const fn_image *img, int x, int y)
{
    return img->data + ((size_t)y * img->w + x) * img->c;
}

/* OpenCV's cvtColor(RGB2GRAY) fixed point for one pixel:
 * (4899 R + 9617 G + 1868 B + 8192) >> 14 — the one RGB->gray of the library
 * (fn_image_to_gray, fn_rgb_to_gray, drawing on gray images, the Haar path). */
static inline uint8_t fn_gray_px(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 4899 + g * 9617 + b * 1868 + (1u << 13)) >> 14);
}
/* The same over rows: rgb rows rgb_stride bytes apart, gray rows gray_stride. */
void fn_rgb_to_gray(const uint8_t *rgb, int w, int h, size_t rgb_stride, uint8_t *gray, size_t gray_stride);
/* Copy the w x h pixels at src (rows stride bytes apart, dst->c channels)
 * into dst turned upright for EXIF orientation o (1..8, as PIL's
 * ImageOps.exif_transpose); dst must be allocated at the turned size
 * (w and h swapped for 5..8).  Decoders and the video source share it. */
void fn_image_orient_copy(const uint8_t *src, int w, int h, size_t stride, int o, fn_image *dst);
#endif
