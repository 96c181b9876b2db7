/* Memory-bound kernels in plain C: loops written so that the compiler
 * vectorises the innermost (contiguous) axis, split across threads with
 * OpenMP.  Semantics match the fn_ref_ twins exactly (same window rules). */
#include "nn/fast.h"

#include "nn/mathlib.h"   /* oneDNN, loaded on first use */
#include <float.h>
#include <math.h>
#include <string.h>

/* ---- pooling ---- */

typedef enum { POOL_MAX, POOL_AVG } pool_kind;

/* Window [y0,y1) x [x0,x1) clipped to the input, and the PyTorch avg divisor
 * (counts padding, not the ceil_mode overhang past the padded input). */
typedef struct win { int y0, y1, x0, x1; float inv_div; } win;

static win window(int y, int x, int k, int s, int pad, int ih, int iw)
{
    int ys = y * s - pad, xs = x * s - pad;
    int ye = ys + k < ih + pad ? ys + k : ih + pad, xe = xs + k < iw + pad ? xs + k : iw + pad;
    win v = {ys < 0 ? 0 : ys, ys + k < ih ? ys + k : ih, xs < 0 ? 0 : xs, xs + k < iw ? xs + k : iw,
             1.0f / (float)((ye - ys) * (xe - xs))};
    return v;
}

static void pool_nchw(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, pool_kind kind)
{
    int oh = out->h, ow = out->w, ih = in->h, iw = in->w;
    long planes = (long)in->n * in->c;
#pragma omp parallel for schedule(static)
    for (long pl = 0; pl < planes; pl++) {
        const float *src = in->data + pl * ih * iw;
        float *dst = out->data + pl * oh * ow;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                win v = window(y, x, k, s, pad, ih, iw);
                float mx = -FLT_MAX, acc = 0.0f;
                for (int yy = v.y0; yy < v.y1; yy++)
                    for (int xx = v.x0; xx < v.x1; xx++) {
                        float t = src[yy * iw + xx];
                        acc += t;
                        mx = t > mx ? t : mx;
                    }
                dst[y * ow + x] = kind == POOL_MAX ? mx : acc * v.inv_div;
            }
    }
}

static void pool_nhwc(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, pool_kind kind)
{
    int oh = out->h, ow = out->w, ih = in->h, iw = in->w, C = in->c;
    long rows = (long)in->n * oh;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        int n = (int)(r / oh), y = (int)(r % oh);
        const float *src = in->data + (size_t)n * ih * iw * C;
        for (int x = 0; x < ow; x++) {
            float *dst = out->data + (((size_t)n * oh + y) * ow + x) * C;
            win v = window(y, x, k, s, pad, ih, iw);
            for (int c = 0; c < C; c++) dst[c] = kind == POOL_MAX ? -FLT_MAX : 0.0f;
            for (int yy = v.y0; yy < v.y1; yy++)
                for (int xx = v.x0; xx < v.x1; xx++) {
                    const float *p = src + ((size_t)yy * iw + xx) * C;
                    if (kind == POOL_MAX)
                        for (int c = 0; c < C; c++) dst[c] = p[c] > dst[c] ? p[c] : dst[c];
                    else
                        for (int c = 0; c < C; c++) dst[c] += p[c];
                }
            if (kind == POOL_AVG)
                for (int c = 0; c < C; c++) dst[c] *= v.inv_div;
        }
    }
}

static void pool(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode, fn_layout l, pool_kind kind)
{
    out->n = in->n; out->c = in->c;
    out->h = fn_out_dim(in->h, k, s, pad, ceil_mode);
    out->w = fn_out_dim(in->w, k, s, pad, ceil_mode);
    if (l == FN_NHWC) pool_nhwc(in, out, k, s, pad, kind);
    else pool_nchw(in, out, k, s, pad, kind);
}

void fn_fast_maxpool2d(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode, fn_layout l)
{
    pool(in, out, k, s, pad, ceil_mode, l, POOL_MAX);
}

void fn_fast_avgpool2d(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode, fn_layout l)
{
    pool(in, out, k, s, pad, ceil_mode, l, POOL_AVG);
}

void fn_fast_global_avgpool(const fn_tensor *in, float *out, fn_layout l)
{
    size_t hw = (size_t)in->h * in->w;
    float inv = 1.0f / (float)hw;
    for (int n = 0; n < in->n; n++) {
        float *o = out + (size_t)n * in->c;
        const float *src = in->data + (size_t)n * in->c * hw;
        if (l == FN_NHWC) {
            for (int c = 0; c < in->c; c++) o[c] = 0.0f;
            for (size_t i = 0; i < hw; i++)
                for (int c = 0; c < in->c; c++) o[c] += src[i * in->c + c];
            for (int c = 0; c < in->c; c++) o[c] *= inv;
        } else {
            for (int c = 0; c < in->c; c++) {
                float acc = 0.0f;
                for (size_t i = 0; i < hw; i++) acc += src[c * hw + i];
                o[c] = acc * inv;
            }
        }
    }
}

/* ---- element-wise ---- */

void fn_fast_relu(float *x, size_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void fn_fast_prelu(fn_tensor *x, const float *slope, int nslope, fn_layout l)
{
    size_t hw = (size_t)x->h * x->w;
    if (l == FN_NHWC) {
        size_t px = (size_t)x->n * hw;
        int C = x->c;
        /* pos + a*(v - pos) with pos = (v + |v|)/2 = max(v, 0): no branch,
         * so it vectorises (a ternary here compiles to a branch, and with
         * unpredictable signs that cost more than the convolution before
         * it).  Bit-exact with the reference for |v| < FLT_MAX/2. */
        for (size_t i = 0; i < px; i++) {
            float *p = x->data + i * C;
            if (nslope == 1) {
                const float a = slope[0];
#pragma omp simd
                for (int c = 0; c < C; c++) {
                    float v = p[c], pos = (v + fabsf(v)) * 0.5f;
                    p[c] = pos + a * (v - pos);
                }
            } else {
#pragma omp simd
                for (int c = 0; c < C; c++) {
                    float v = p[c], pos = (v + fabsf(v)) * 0.5f;
                    p[c] = pos + slope[c] * (v - pos);
                }
            }
        }
        return;
    }
    for (int n = 0; n < x->n; n++)
        for (int c = 0; c < x->c; c++) {
            float a = slope[nslope == 1 ? 0 : c];
            float *p = x->data + ((size_t)n * x->c + c) * hw;
            for (size_t i = 0; i < hw; i++) p[i] = p[i] < 0.0f ? p[i] * a : p[i];
        }
}

void fn_fast_scale_add(float *x, const float *y, float scale, size_t n, int relu)
{
    if (relu) {
#pragma omp parallel for schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) {
            float v = x[i] + scale * y[i];
            x[i] = v > 0.0f ? v : 0.0f;
        }
    } else {
#pragma omp parallel for schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) x[i] += scale * y[i];
    }
}

/* Softmax in float with the max subtracted; exp is the only transcendental. */
static void softmax_strided(float *base, int c, size_t stride)
{
    float mx = -FLT_MAX, sum = 0.0f;
    for (int i = 0; i < c; i++) mx = base[i * stride] > mx ? base[i * stride] : mx;
    for (int i = 0; i < c; i++) { base[i * stride] = expf(base[i * stride] - mx); sum += base[i * stride]; }
    float inv = 1.0f / sum;
    for (int i = 0; i < c; i++) base[i * stride] *= inv;
}

void fn_fast_softmax_channels(fn_tensor *x, fn_layout l)
{
    size_t hw = (size_t)x->h * x->w;
    if (l == FN_NHWC) {
        for (size_t i = 0; i < (size_t)x->n * hw; i++) softmax_strided(x->data + i * x->c, x->c, 1);
        return;
    }
    for (int n = 0; n < x->n; n++)
        for (size_t i = 0; i < hw; i++) softmax_strided(x->data + (size_t)n * x->c * hw + i, x->c, hw);
}

void fn_l2_normalize(float *x, int rows, int d)
{
    for (int r = 0; r < rows; r++) {
        float *v = x + (size_t)r * d;
        double ss = 0.0;   /* double: d can be thousands and the norm sets every output */
        for (int i = 0; i < d; i++) ss += (double)v[i] * v[i];
        double norm = sqrt(ss);
        float inv = (float)(1.0 / (norm < 1e-12 ? 1e-12 : norm));
        for (int i = 0; i < d; i++) v[i] *= inv;
    }
}

void fn_fast_batchnorm1d(float *x, int rows, int d, const float *scale, const float *shift)
{
    for (int r = 0; r < rows; r++) {
        float *v = x + (size_t)r * d;
        for (int i = 0; i < d; i++) v[i] = v[i] * scale[i] + shift[i];
    }
}

/* ---- data movement ---- */

void fn_fast_concat_channels(const fn_tensor *parts, int nparts, fn_tensor *out, fn_layout l)
{
    size_t hw = (size_t)out->h * out->w;
    if (l == FN_NCHW) {
        fn_ref_concat_channels(parts, nparts, out);   /* already one memcpy per part and image */
        return;
    }
    size_t px = (size_t)out->n * hw;
    int C = out->c;
#pragma omp parallel for schedule(static) if (px * C > 65536)
    for (size_t i = 0; i < px; i++) {
        float *dst = out->data + i * C;
        for (int p = 0; p < nparts; p++) {
            memcpy(dst, parts[p].data + i * parts[p].c, (size_t)parts[p].c * sizeof(float));
            dst += parts[p].c;
        }
    }
}

void fn_nchw_to_nhwc(const fn_tensor *in, float *out)
{
    size_t hw = (size_t)in->h * in->w;
    for (int n = 0; n < in->n; n++) {
        const float *s = in->data + (size_t)n * in->c * hw;
        float *d = out + (size_t)n * in->c * hw;
        for (size_t i = 0; i < hw; i++)
            for (int c = 0; c < in->c; c++) d[i * in->c + c] = s[c * hw + i];
    }
}

void fn_nhwc_to_nchw(const fn_tensor *in, float *out)
{
    size_t hw = (size_t)in->h * in->w;
    for (int n = 0; n < in->n; n++) {
        const float *s = in->data + (size_t)n * in->c * hw;
        float *d = out + (size_t)n * in->c * hw;
        for (int c = 0; c < in->c; c++)
            for (size_t i = 0; i < hw; i++) d[c * hw + i] = s[i * in->c + c];
    }
}

/* ---- linear: oneDNN's sgemm (same OpenMP threads as the convolutions) ---- */

void fn_fast_linear(const float *in, int n, int k, const float *w, const float *b, int m, float *out)
{
    /* Row-major out[n x m] = in[n x k] * w^T, w being [m x k]. */
    dnnl_sgemm('N', 'T', n, m, k, 1.0f, in, k, w, k, 0.0f, out, m);
    if (b)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) out[(size_t)i * m + j] += b[j];
}
