/* resize.c — Pillow's two-pass resampling with the triangle (bilinear) filter.
 * Every step mirrors Pillow's Resample.c so crops match facenet-pytorch's to
 * the level (fixture: the PNGs under mtcnn_crops, tests/test_align.c). */
#include "image/resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define PRECISION_BITS (32 - 8 - 2)   /* Pillow's fixed point for 8-bit images */

typedef struct axis_plan {
    int out, ksize;
    int32_t *kk;   /* out x ksize fixed-point weights */
    int *bounds;   /* out x {first input index, count} */
} axis_plan;

static double triangle(double x)
{
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Downscaling widens the triangle by the scale factor (antialiasing). */
static int axis_ksize(int in, int out)
{
    double scale = (double)in / out;
    double support = scale < 1.0 ? 1.0 : scale;
    return (int)ceil(support) * 2 + 1;
}

/* Weights of one axis; tmp holds ksize doubles.  The arithmetic order is
 * Pillow's (center, rounding of the window ends, normalise, then round to
 * fixed point away from zero) because each step can move a level. */
static void plan_axis(int in, axis_plan *p, double *tmp)
{
    double scale = (double)(float)in / p->out, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale, ss = 1.0 / filterscale;
    for (int xx = 0; xx < p->out; xx++) {
        double center = (xx + 0.5) * scale, ww = 0.0;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in) xmax = in;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            tmp[x] = triangle((x + xmin - center + 0.5) * ss);
            ww += tmp[x];
        }
        int32_t *k = p->kk + (size_t)xx * p->ksize;
        for (int x = 0; x < p->ksize; x++) {
            double v = x < xmax ? (ww != 0.0 ? tmp[x] / ww : tmp[x]) : 0.0;
            k[x] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
        }
        p->bounds[2 * xx] = xmin;
        p->bounds[2 * xx + 1] = xmax;
    }
}

static uint8_t clip8(int64_t v)
{
    if (v >= (int64_t)1 << PRECISION_BITS << 8) return 255;
    if (v <= 0) return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

/* rows: number of output rows; src_row(r) = base + (r + row0) * stride. */
static void pass_horizontal(const uint8_t *base, size_t stride, int row0, int rows, int c,
                            const axis_plan *p, uint8_t *dst)
{
    for (int yy = 0; yy < rows; yy++) {
        const uint8_t *s = base + (size_t)(yy + row0) * stride;
        uint8_t *d = dst + (size_t)yy * p->out * c;
        for (int xx = 0; xx < p->out; xx++) {
            const int32_t *k = p->kk + (size_t)xx * p->ksize;
            const uint8_t *px = s + (size_t)p->bounds[2 * xx] * c;
            int n = p->bounds[2 * xx + 1];
            for (int ch = 0; ch < c; ch++) {
                int64_t acc = 1 << (PRECISION_BITS - 1);
                for (int x = 0; x < n; x++) acc += (int64_t)px[x * c + ch] * k[x];
                d[xx * c + ch] = clip8(acc);
            }
        }
    }
}

static void pass_vertical(const uint8_t *base, size_t stride, int width, int c,
                          const axis_plan *p, uint8_t *dst)
{
    size_t row = (size_t)width * c;
    for (int yy = 0; yy < p->out; yy++) {
        const int32_t *k = p->kk + (size_t)yy * p->ksize;
        const uint8_t *s = base + (size_t)p->bounds[2 * yy] * stride;
        int n = p->bounds[2 * yy + 1];
        uint8_t *d = dst + (size_t)yy * row;
        for (size_t i = 0; i < row; i++) {
            int64_t acc = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < n; y++) acc += (int64_t)s[(size_t)y * stride + i] * k[y];
            d[i] = clip8(acc);
        }
    }
}

void fn_resize_scratch_free(fn_resize_scratch *s)
{
    if (!s) return;
    free(s->p);
    s->p = NULL, s->cap = 0;
}

static fn_status scratch_reserve(fn_resize_scratch *s, size_t bytes)
{
    if (s->cap >= bytes) return FN_OK;
    void *p = realloc(s->p, bytes);
    if (!p) return fn_fail(FN_ERR_NOMEM, "resize: out of memory for %zu bytes of scratch", bytes);
    s->p = p, s->cap = bytes;
    return FN_OK;
}

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

static fn_status resize_with(const fn_image *src, int x, int y, int w, int h, fn_image *dst, fn_resize_scratch *s)
{
    int c = src->c;
    axis_plan ph = {dst->w, axis_ksize(w, dst->w), NULL, NULL};
    axis_plan pv = {dst->h, axis_ksize(h, dst->h), NULL, NULL};
    int kmax = ph.ksize > pv.ksize ? ph.ksize : pv.ksize;
    /* The intermediate holds at most every source row of the rectangle. */
    size_t sz_tmp = round8(sizeof(double) * kmax);
    size_t sz_kh = round8(sizeof(int32_t) * (size_t)ph.out * ph.ksize), sz_bh = round8(sizeof(int) * 2 * (size_t)ph.out);
    size_t sz_kv = round8(sizeof(int32_t) * (size_t)pv.out * pv.ksize), sz_bv = round8(sizeof(int) * 2 * (size_t)pv.out);
    size_t sz_img = (size_t)dst->w * h * c;
    FN_TRY(scratch_reserve(s, sz_tmp + sz_kh + sz_bh + sz_kv + sz_bv + sz_img));
    unsigned char *m = s->p;
    double *tmp = (double *)m;
    ph.kk = (int32_t *)(m += sz_tmp);
    ph.bounds = (int *)(m += sz_kh);
    pv.kk = (int32_t *)(m += sz_bh);
    pv.bounds = (int *)(m += sz_kv);
    uint8_t *mid = (uint8_t *)(m += sz_bv);
    plan_axis(w, &ph, tmp);
    plan_axis(h, &pv, tmp);

    size_t stride = (size_t)src->w * c;
    const uint8_t *base = fn_image_px(src, x, y);
    int need_h = dst->w != w, need_v = dst->h != h;
    if (!need_h && !need_v) {
        for (int r = 0; r < h; r++) memcpy(dst->data + (size_t)r * w * c, base + r * stride, (size_t)w * c);
        return FN_OK;
    }
    if (!need_v) {
        pass_horizontal(base, stride, 0, h, c, &ph, dst->data);
        return FN_OK;
    }
    if (!need_h) {
        pass_vertical(base, stride, w, c, &pv, dst->data);
        return FN_OK;
    }
    /* Only the source rows the vertical pass reads go through the first pass. */
    int first = pv.bounds[0], last = pv.bounds[2 * (pv.out - 1)] + pv.bounds[2 * (pv.out - 1) + 1];
    for (int i = 0; i < pv.out; i++) pv.bounds[2 * i] -= first;
    pass_horizontal(base, stride, first, last - first, c, &ph, mid);
    pass_vertical(mid, (size_t)dst->w * c, dst->w, c, &pv, dst->data);
    return FN_OK;
}

fn_status fn_resize_bilinear_aa(const fn_image *src, int x, int y, int w, int h,
                                fn_image *dst, fn_resize_scratch *scratch)
{
    if (!src || !src->data || !dst || !dst->data || dst->c != src->c || dst->w <= 0 || dst->h <= 0)
        return fn_fail(FN_ERR_ARG, "resize: source and destination must be allocated with the same channels");
    if (w <= 0 || h <= 0 || x < 0 || y < 0 || x > src->w - w || y > src->h - h)
        return fn_fail(FN_ERR_ARG, "resize: rectangle %dx%d at (%d,%d) is empty or outside the %dx%d image",
                       w, h, x, y, src->w, src->h);
    if (scratch) return resize_with(src, x, y, w, h, dst, scratch);
    fn_resize_scratch own = {0};
    fn_status s = resize_with(src, x, y, w, h, dst, &own);
    fn_resize_scratch_free(&own);
    return s;
}
