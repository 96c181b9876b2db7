/* draw.h — annotations on 8-bit images: box outlines, filled boxes, text.
 * Owns: clipped rectangle drawing and a built-in 5x7 bitmap font (ASCII
 * 32..126, descenders in an 8th row) scaled by whole factors.  Everything is
 * clipped to the image; nothing allocates.  No external font files.
 */
#ifndef FN_IMAGE_DRAW_H
#define FN_IMAGE_DRAW_H

#include "image/image.h"

/* The drawing API is public (include/facenet/image.h). */

/* The glyph's row as a 5-char string of '#' (set) and '.', for tests;
 * characters outside 32..126 give '?'. */
const char *fn_font_row(int ch, int row);

#endif
