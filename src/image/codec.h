/* codec.h — internals shared by the decoders in src/image (not public API).
 * Owns: the per-format entry points, the header size check every decoder
 * runs before allocating, and EXIF orientation parsing and application.
 */
#ifndef FN_IMAGE_CODEC_H
#define FN_IMAGE_CODEC_H

#include "image/image.h"

/* notes may be NULL; when given, the decoder fills what it noticed.
 * JPEG: min_side > 0 decodes at libjpeg's largest reduction (1/2, 1/4,
 * 1/8) whose longer side is still >= min_side; *full_w, *full_h (may be
 * NULL) get the upright photo's size at full resolution. */
fn_status fn_jpeg_decode(const uint8_t *buf, size_t len, const char *name, const fn_image_limits *lim,
                         int min_side, fn_image *out, fn_image_notes *notes, int *full_w, int *full_h);
fn_status fn_png_decode(const uint8_t *buf, size_t len, const char *name,
                        const fn_image_limits *lim, fn_image *out, fn_image_notes *notes);

/* FN_ERR_LIMIT with "name: image is WxH, more than the limit of ..." if too big. */
fn_status fn_image_check_limits(const char *name, long w, long h, const fn_image_limits *lim);

/* EXIF orientation (1..8) from an APP1 payload starting "Exif\0\0";
 * 1 when absent, malformed or out of range (nothing to undo). */
int fn_exif_orientation(const uint8_t *app1, size_t len);
/* The same from the TIFF structure itself (a PNG eXIf chunk holds only that). */
int fn_exif_orientation_tiff(const uint8_t *tiff, size_t len);
/* Rotate/flip img so it displays upright for the given EXIF orientation
 * (as PIL's ImageOps.exif_transpose); replaces img->data. */
fn_status fn_image_apply_orientation(fn_image *img, int orientation);

#endif
