/* crop.c — facenet-pytorch's extract_face and input standardisation. */
#include "align/align.h"

#include <math.h>

#include "core/error.h"

/* Python's int() on a float already clamped to >= 0 or <= the image size;
 * large magnitudes are pinned first so the C conversion is always defined. */
static int py_int(double v)
{
    if (v > 1e9) v = 1e9;
    if (v < -1e9) v = -1e9;
    return (int)v;
}

fn_status fn_face_crop_rect(const float box[4], int img_w, int img_h, int size, float margin, int rect[4])
{
    for (int i = 0; i < 4; i++)
        if (!isfinite(box[i])) return fn_fail(FN_ERR_ARG, "extract_face: box has a non-finite coordinate");
    if (size <= 0 || !(margin >= 0) || margin >= size)
        return fn_fail(FN_ERR_ARG, "extract_face: margin %g does not fit an output of %d pixels", margin, size);
    double mx = margin * ((double)box[2] - box[0]) / (size - margin);
    double my = margin * ((double)box[3] - box[1]) / (size - margin);
    rect[0] = py_int(fmax(box[0] - mx / 2, 0));
    rect[1] = py_int(fmax(box[1] - my / 2, 0));
    rect[2] = py_int(fmin(box[2] + mx / 2, img_w));
    rect[3] = py_int(fmin(box[3] + my / 2, img_h));
    if (rect[2] <= rect[0] || rect[3] <= rect[1] || rect[0] >= img_w || rect[1] >= img_h)
        return fn_fail(FN_ERR_ARG, "extract_face: box (%g,%g,%g,%g) leaves nothing of the %dx%d image",
                       box[0], box[1], box[2], box[3], img_w, img_h);
    return FN_OK;
}

fn_status fn_extract_face(const fn_image *img, const float box[4], float margin,
                          fn_image *out, fn_resize_scratch *scratch)
{
    if (!img || !img->data || !out || !out->data || out->w != out->h || out->c != img->c)
        return fn_fail(FN_ERR_ARG, "extract_face: needs an image and a square output with its channels");
    int r[4];
    FN_TRY(fn_face_crop_rect(box, img->w, img->h, out->w, margin, r));
    return fn_resize_bilinear_aa(img, r[0], r[1], r[2] - r[0], r[3] - r[1], out, scratch);
}

void fn_standardize_chw(const fn_image *face, float *dst)
{
    size_t n = (size_t)face->w * face->h;
    for (int c = 0; c < face->c; c++) {
        const uint8_t *s = face->data + c;
        float *d = dst + (size_t)c * n;
        for (size_t i = 0; i < n; i++) d[i] = ((float)s[i * face->c] - 127.5f) / 128.0f;
    }
}
