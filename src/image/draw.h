/* draw.h — annotations on 8-bit images: box outlines, filled boxes, text.
 * Owns: clipped rectangle drawing and a built-in 5x7 bitmap font (ASCII
 * 32..126, descenders in an 8th row) scaled by whole factors.  Everything is
 * clipped to the image; nothing allocates.  No external font files.
 */
#ifndef FN_IMAGE_DRAW_H
#define FN_IMAGE_DRAW_H

#include "image/image.h"

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

/* The glyph's row as a 5-char string of '#' (set) and '.', for tests;
 * characters outside 32..126 give '?'. */
const char *fn_font_row(int ch, int row);

#endif
