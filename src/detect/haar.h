/* haar.h — Viola-Jones Haar cascade face detector that reproduces OpenCV 4.6's
 * CascadeClassifier::detectMultiScale (new-format BOOST/HAAR XML cascades).
 * Owns: the cascade (read once into one arena) and per-call scratch; it does not decode images.
 */
#ifndef FN_DETECT_HAAR_H
#define FN_DETECT_HAAR_H

#include <stdint.h>
#include "facenet.h"

#ifndef FN_RECT_DEFINED
#define FN_RECT_DEFINED
/* An axis-aligned box in pixels: top-left corner, width, height. */
typedef struct fn_rect { int x, y, w, h; } fn_rect;
#endif

typedef struct fn_haar fn_haar;

/* FN_HAAR_DEFAULT_CASCADE (Debian opencv-data's frontal-face cascade) is public: facenet/engine.h. */

typedef struct fn_haar_params {
    double scale_factor;  /* pyramid step, > 1 (OpenCV's scaleFactor; default 1.1) */
    int min_neighbors;    /* a group needs more than this many raw hits (default 3) */
    int min_w, min_h;     /* smallest window considered; 0 = no limit */
    int max_w, max_h;     /* largest window considered; 0 = the image size */
} fn_haar_params;

/* OpenCV's defaults: 1.1, 3, no size limits. */
fn_haar_params fn_haar_default_params(void);

/* Read an OpenCV cascade XML file (e.g. haarcascade_frontalface_default.xml). */
fn_status fn_haar_load(const char *path, fn_haar **out);
/* The same from memory; name is used in error messages. */
fn_status fn_haar_load_mem(const char *name, const char *xml, size_t len, fn_haar **out);
void fn_haar_free(fn_haar *h);

/* Window size the cascade was trained on (24x24 for the frontal face cascade). */
void fn_haar_window(const fn_haar *h, int *w, int *hgt);

/* Detect on an 8-bit gray image (row pitch stride bytes).  Writes up to max rects
 * to out and sets *n to how many were found (may exceed max: then out holds the
 * first max).  Safe to call on one handle from several threads; scratch comes
 * from a per-handle pool and is reused, so steady-state calls do not allocate.
 * p may be NULL for the defaults. */
fn_status fn_haar_detect(fn_haar *h, const uint8_t *gray, int w, int hgt, int stride,
                         const fn_haar_params *p, fn_rect *out, int max, int *n);

/* OpenCV's groupRectangles(r, min_neighbors, 0.2), as detectMultiScale ends:
 * for raw windows (fn_haar_detect with min_neighbors 0) gathered from several
 * scans into one coordinate frame.  Rewrites r, *kept = the groups kept
 * (min_neighbors 0: r as it is).  FN_ERR_NOMEM only. */
fn_status fn_haar_group(fn_rect *r, int n, int min_neighbors, int *kept);

/* The gray image the cascade wants is fn_rgb_to_gray (image/image.h). */

#endif
