/* display.h — the live window of `facenet watch` (SDL2): shows annotated
 * frames and tells when the user closes it (Enter, Esc, q, or the window's
 * close button).  Without a display it refuses with a reason, never blocks.
 */
#ifndef FN_CLI_DISPLAY_H
#define FN_CLI_DISPLAY_H

#include <stddef.h>
#include "facenet.h"

typedef struct fn_display fn_display;

/* 0 and a window titled after source; else non-zero and why (no display, SDL failed). */
int fn_display_open(const char *source, int w, int h, fn_display **out, char *why, size_t cap);
/* Show img (the size given at open); 1 when the user asked to quit. */
int fn_display_show(fn_display *d, const fn_image *img);
void fn_display_close(fn_display *d);
/* A small status text in the top-left corner of img. */
void fn_display_label(fn_image *img, const char *text);

#endif
