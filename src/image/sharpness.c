/* sharpness.c — a focus measure (variance of the Laplacian) and a whole-
 * image resize for front ends (contact sheets, working resolutions). */
#include "core/error.h"
#include "image/image.h"
#include "image/resize.h"

double fn_image_sharpness(const fn_image *img)
{
    if (!img || !img->data || img->w < 3 || img->h < 3 || (img->c != 1 && img->c != 3)) return 0;
    int w = img->w, h = img->h, c = img->c;
    double sum = 0, sum2 = 0;
    long n = 0;
#define GRAY(x, y) (c == 1 ? (double)img->data[(size_t)(y) * w + (x)] \
    : (0.299 * img->data[((size_t)(y) * w + (x)) * 3] + 0.587 * img->data[((size_t)(y) * w + (x)) * 3 + 1] \
       + 0.114 * img->data[((size_t)(y) * w + (x)) * 3 + 2]))
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++) {
            double l = GRAY(x - 1, y) + GRAY(x + 1, y) + GRAY(x, y - 1) + GRAY(x, y + 1) - 4 * GRAY(x, y);
            sum += l;
            sum2 += l * l;
            n++;
        }
#undef GRAY
    double m = sum / n;
    return sum2 / n - m * m;
}

fn_status fn_image_resize(const fn_image *src, int w, int h, fn_image *dst)
{
    if (!src || !src->data || !dst || w < 1 || h < 1)
        return fn_fail(FN_ERR_ARG, "resize: an image and a size of at least 1x1 are required (got %dx%d)", w, h);
    FN_TRY(fn_image_alloc(dst, w, h, src->c));
    fn_status s = fn_resize_bilinear_aa(src, 0, 0, src->w, src->h, dst, NULL);
    if (s != FN_OK) fn_image_free(dst);
    return s;
}
