/* resize.h — PIL-compatible antialiased bilinear resize of 8-bit images.
 * Owns: Image.resize(BILINEAR) as Pillow >= 7 does it (filter support grows
 * with the downscale factor, separable, horizontal pass first, 22-bit fixed
 * point with an 8-bit intermediate), which facenet-pytorch's crops rely on.
 */
#ifndef FN_IMAGE_RESIZE_H
#define FN_IMAGE_RESIZE_H

#include "image/image.h"

/* Working memory kept between calls: grows to the largest request and is
 * then reused, so resizing per face allocates nothing in steady state. */
typedef struct fn_resize_scratch {
    void *p;
    size_t cap;
} fn_resize_scratch;

void fn_resize_scratch_free(fn_resize_scratch *s);

/* dst (already allocated, dst->c == src->c) receives the rectangle
 * [x, x+w) x [y, y+h) of src resized to dst->w x dst->h — the same pixels as
 * PIL's img.crop((x, y, x+w, y+h)).resize((dst->w, dst->h), BILINEAR).
 * scratch may be NULL (a temporary is allocated and freed). */
fn_status fn_resize_bilinear_aa(const fn_image *src, int x, int y, int w, int h,
                                fn_image *dst, fn_resize_scratch *scratch);

#endif
