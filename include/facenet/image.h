/* facenet/image.h — 8-bit images in memory, their files (JPEG, PNG), and the
 * pixel helpers a front end needs: gray, crop, mirror, and drawing boxes and
 * text (a built-in 5x7 bitmap font; no font files).
 * Knows nothing of faces beyond drawing a box with a label.
 */
#ifndef FACENET_IMAGE_H
#define FACENET_IMAGE_H

#include "facenet/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declared here = exported from libfacenet.so (the library is compiled with
 * -fvisibility=hidden; `make check-exports` checks both ways). */
#pragma GCC visibility push(default)

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

/* The defaults (lim NULL): a 12000x8000 (96 Mpx) photo loads, a
 * 100000x100000 header is refused. */
#define FN_IMAGE_MAX_SIDE 30000
#define FN_IMAGE_MAX_PIXELS ((int64_t)128 * 1024 * 1024)

/* Decode a JPEG or PNG file into RGB8, EXIF orientation applied.  On failure
 * *out is empty and fn_last_error() names the file (FN_ERR_IO unreadable,
 * FN_ERR_FORMAT damaged, FN_ERR_UNSUPPORTED another format, FN_ERR_LIMIT). */
fn_status fn_image_load(const char *path, const fn_image_limits *lim, fn_image *out);
/* The same from memory; name_for_errors starts every error sentence. */
fn_status fn_image_decode(const void *buf, size_t len, const char *name_for_errors,
                          const fn_image_limits *lim, fn_image *out);
/* What a decode noticed besides the pixels. */
typedef struct fn_image_notes {
    int orientation;     /* EXIF orientation found (1..8; 1 = none) and undone */
    char warning[512];   /* damage repaired, "" if none; e.g. "x.jpg: JPEG lacks its
                            end marker (EOI); all image data is present and was used"
                            (deeper truncation is still FN_ERR_FORMAT) */
} fn_image_notes;
/* fn_image_load / fn_image_decode that also fill notes (may be NULL): for
 * callers that report warnings (the CLI prints notes->warning when it is not
 * empty). */
fn_status fn_image_load_ex(const char *path, const fn_image_limits *lim, fn_image *out, fn_image_notes *notes);
fn_status fn_image_decode_ex(const void *buf, size_t len, const char *name_for_errors,
                             const fn_image_limits *lim, fn_image *out, fn_image_notes *notes);
/* fn_image_load_ex at a reduced size where the format allows: a JPEG is
 * decoded with libjpeg's DCT scaling at the largest reduction of 1/2, 1/4
 * or 1/8 whose longer side is still >= min_side pixels (a 6000x4000 photo
 * and min_side 1600: 3000x2000, 4x fewer pixels to decode and resize);
 * PNG and smaller JPEGs: full size.  *full_w, *full_h get the upright
 * photo's size at full resolution, so coordinates found in out map back by
 * full_w / out->w and full_h / out->h.  FN_ERR_ARG for min_side < 1; the
 * other errors as fn_image_load. */
fn_status fn_image_load_reduced(const char *path, const fn_image_limits *lim, int min_side, fn_image *out,
                                fn_image_notes *notes, int *full_w, int *full_h);
fn_status fn_image_save_png(const char *path, const fn_image *img);
/* JPEG of img (RGB or gray) in memory, quality 1..100 (libjpeg's scale):
 * *out gets a malloc'd buffer of *len bytes that the caller frees with
 * free().  For front ends that send images without touching the disk (the
 * HTTP server's thumbnails).  FN_ERR_ARG for an empty image or a quality
 * outside 1..100. */
fn_status fn_image_encode_jpeg(const fn_image *img, int quality, unsigned char **out, size_t *len);
/* quality 1..100 (libjpeg's scale). */
fn_status fn_image_save_jpeg(const char *path, const fn_image *img, int quality);
/* Allocate w*h*c bytes (uninitialised); out is left empty on failure. */
fn_status fn_image_alloc(fn_image *out, int w, int h, int c);
/* Frees data and zeroes the struct; safe on a zeroed or freed image. */
void fn_image_free(fn_image *img);

/* RGB -> 1-channel gray with OpenCV's cvtColor(RGB2GRAY) fixed point,
 * (4899 R + 9617 G + 1868 B + 8192) >> 14; dst must be allocated w x h x 1
 * (fn_image_alloc).  FN_ERR_ARG when the shapes do not fit. */
fn_status fn_image_to_gray(const fn_image *src, fn_image *dst);
/* Copy the rectangle [x, x+w) x [y, y+h) (must lie inside src) into dst,
 * which must already be allocated as w x h x src->c. */
fn_status fn_image_crop(const fn_image *src, int x, int y, int w, int h, fn_image *dst);
/* Mirror left-right in place (test-time augmentation, selfie views). */
void fn_image_flip_h(fn_image *img);
/* Focus measure: the variance of the 4-neighbour Laplacian of the image's
 * gray values (Pech-Pacheco et al. 2000, "variance of Laplacian"), over the
 * interior pixels; 0 for an image under 3x3.  Sharp 112x112 aligned faces
 * score in the hundreds, blurred ones in the tens (README, "Photo library"). */
double fn_image_sharpness(const fn_image *img);
/* Resize all of src into dst (allocated here, w x h, src's channels) with
 * PIL's antialiased bilinear filter.  FN_ERR_ARG for a size under 1. */
fn_status fn_image_resize(const fn_image *src, int w, int h, fn_image *dst);

/* ---------------------------------------------------------------- drawing */
/* Everything is clipped to the image and allocates nothing; on a gray image
 * a colour is drawn as its gray value. */

typedef struct fn_rgb { uint8_t r, g, b; } fn_rgb;

/* Glyph cell: 5x8 pixels drawn, 6 advanced (one column of spacing), lines 9 apart. */
enum { FN_FONT_W = 5, FN_FONT_H = 8, FN_FONT_ADVANCE = 6, FN_FONT_LINE = 9 };

/* Fill the inclusive rectangle (x0,y0)-(x1,y1), corners in any order. */
void fn_draw_fill(fn_image *img, int x0, int y0, int x1, int y1, fn_rgb color);
/* Outline of the inclusive rectangle, thickness pixels growing inward
 * (a box drawn on a face never covers pixels outside it). */
void fn_draw_rect(fn_image *img, int x0, int y0, int x1, int y1, int thickness, fn_rgb color);

/* Width and height in pixels of text at an integer scale (1..64, clamped);
 * '\n' starts a new line; a UTF-8 sequence counts as one glyph ('?'). */
int fn_text_width(const char *text, int scale);
int fn_text_height(const char *text, int scale);
/* Text with its top-left corner at (x, y); only set pixels are written. */
void fn_draw_text(fn_image *img, int x, int y, const char *text, int scale, fn_rgb color);
/* Text on a filled background with scale pixels of padding around it. */
void fn_draw_label(fn_image *img, int x, int y, const char *text, int scale, fn_rgb fg, fn_rgb bg);
/* A face box and its name: the label goes just under the box, or above it
 * (or inside) when the image ends first.  label may be NULL. */
void fn_draw_face_box(fn_image *img, int x0, int y0, int x1, int y1, const char *label,
                      int thickness, int scale, fn_rgb color, fn_rgb text_color);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
