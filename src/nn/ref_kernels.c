/* Plain-C reference kernels: loops that read like the definitions, so the
 * fast path has something trustworthy to be compared against. */
#include "nn/nn.h"

#include <float.h>
#include <math.h>
#include <string.h>

int fn_out_dim(int in, int k, int s, int pad, int ceil_mode)
{
    int span = in + 2 * pad - k;
    if (span < 0) return 0;
    int o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* PyTorch: the last window must start inside the input or left padding. */
    if (ceil_mode && (o - 1) * s >= in + pad) o--;
    return o;
}

void fn_ref_conv2d(const fn_conv_desc *d, const float *weight, const float *bias,
                   const fn_tensor *in, fn_tensor *out)
{
    int oh = fn_out_dim(in->h, d->kh, d->sh, d->ph, 0);
    int ow = fn_out_dim(in->w, d->kw, d->sw, d->pw, 0);
    int cig = d->cin / d->groups, cog = d->cout / d->groups;
    out->n = in->n; out->c = d->cout; out->h = oh; out->w = ow;
    for (int n = 0; n < in->n; n++)
        for (int o = 0; o < d->cout; o++) {
            int g = o / cog;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double acc = bias ? bias[o] : 0.0;
                    for (int ci = 0; ci < cig; ci++) {
                        int c = g * cig + ci;
                        for (int ky = 0; ky < d->kh; ky++) {
                            int iy = y * d->sh - d->ph + ky;
                            if (iy < 0 || iy >= in->h) continue;
                            for (int kx = 0; kx < d->kw; kx++) {
                                int ix = x * d->sw - d->pw + kx;
                                if (ix < 0 || ix >= in->w) continue;
                                float wv = weight[(((size_t)o * cig + ci) * d->kh + ky) * d->kw + kx];
                                float iv = in->data[(((size_t)n * in->c + c) * in->h + iy) * in->w + ix];
                                acc += (double)wv * iv;
                            }
                        }
                    }
                    out->data[(((size_t)n * d->cout + o) * oh + y) * ow + x] = (float)acc;
                }
        }
}

void fn_fold_batchnorm(float *weight, float *bias, int cout, size_t per_out,
                       const float *gamma, const float *beta,
                       const float *mean, const float *var, float eps)
{
    for (int o = 0; o < cout; o++) {
        double inv = 1.0 / sqrt((double)var[o] + eps);
        double g = gamma ? gamma[o] : 1.0;
        double scale = g * inv;
        for (size_t i = 0; i < per_out; i++) weight[o * per_out + i] = (float)(weight[o * per_out + i] * scale);
        bias[o] = (float)(((double)bias[o] - mean[o]) * scale + (beta ? beta[o] : 0.0));
    }
}

void fn_ref_relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) if (x[i] < 0.0f) x[i] = 0.0f;
}

void fn_ref_prelu(fn_tensor *x, const float *slope, int nslope)
{
    size_t hw = (size_t)x->h * x->w;
    for (int n = 0; n < x->n; n++)
        for (int c = 0; c < x->c; c++) {
            float a = slope[nslope == 1 ? 0 : c];
            float *p = x->data + ((size_t)n * x->c + c) * hw;
            for (size_t i = 0; i < hw; i++) if (p[i] < 0.0f) p[i] *= a;
        }
}

typedef enum { POOL_MAX, POOL_AVG } pool_kind;

static void ref_pool(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode, pool_kind kind)
{
    int oh = fn_out_dim(in->h, k, s, pad, ceil_mode), ow = fn_out_dim(in->w, k, s, pad, ceil_mode);
    out->n = in->n; out->c = in->c; out->h = oh; out->w = ow;
    for (int n = 0; n < in->n; n++)
        for (int c = 0; c < in->c; c++) {
            const float *src = in->data + ((size_t)n * in->c + c) * in->h * in->w;
            float *dst = out->data + ((size_t)n * in->c + c) * oh * ow;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    int y0 = y * s - pad, x0 = x * s - pad;
                    /* count_include_pad: divisor counts padding but not the
                     * overhang that ceil_mode adds past the padded input. */
                    int y1 = y0 + k < in->h + pad ? y0 + k : in->h + pad;
                    int x1 = x0 + k < in->w + pad ? x0 + k : in->w + pad;
                    int div = (y1 - y0) * (x1 - x0);
                    double acc = 0.0;
                    float mx = -FLT_MAX;
                    for (int yy = y0; yy < y0 + k; yy++)
                        for (int xx = x0; xx < x0 + k; xx++) {
                            if (yy < 0 || yy >= in->h || xx < 0 || xx >= in->w) continue;
                            float v = src[(size_t)yy * in->w + xx];
                            acc += v;
                            if (v > mx) mx = v;
                        }
                    dst[(size_t)y * ow + x] = kind == POOL_MAX ? mx : (float)(acc / div);
                }
        }
}

void fn_ref_maxpool2d(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode)
{
    ref_pool(in, out, k, s, pad, ceil_mode, POOL_MAX);
}

void fn_ref_avgpool2d(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode)
{
    ref_pool(in, out, k, s, pad, ceil_mode, POOL_AVG);
}

void fn_ref_linear(const float *in, int n, int k, const float *w, const float *b, int m, float *out)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            double acc = b ? b[j] : 0.0;
            for (int t = 0; t < k; t++) acc += (double)in[(size_t)i * k + t] * w[(size_t)j * k + t];
            out[(size_t)i * m + j] = (float)acc;
        }
}

void fn_ref_softmax_channels(fn_tensor *x)
{
    size_t hw = (size_t)x->h * x->w;
    for (int n = 0; n < x->n; n++)
        for (size_t i = 0; i < hw; i++) {
            float *base = x->data + (size_t)n * x->c * hw + i;
            float mx = -FLT_MAX;
            for (int c = 0; c < x->c; c++) if (base[c * hw] > mx) mx = base[c * hw];
            double sum = 0.0;
            for (int c = 0; c < x->c; c++) sum += exp((double)base[c * hw] - mx);
            for (int c = 0; c < x->c; c++) base[c * hw] = (float)(exp((double)base[c * hw] - mx) / sum);
        }
}

void fn_ref_l2_normalize(float *x, int rows, int d)
{
    for (int r = 0; r < rows; r++) {
        float *v = x + (size_t)r * d;
        double ss = 0.0;
        for (int i = 0; i < d; i++) ss += (double)v[i] * v[i];
        double norm = sqrt(ss);
        if (norm < 1e-12) norm = 1e-12;
        for (int i = 0; i < d; i++) v[i] = (float)(v[i] / norm);
    }
}

void fn_ref_scale_add(float *x, const float *y, float scale, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] += scale * y[i];
}

void fn_ref_concat_channels(const fn_tensor *parts, int nparts, fn_tensor *out)
{
    size_t hw = (size_t)out->h * out->w;
    for (int n = 0; n < out->n; n++) {
        float *dst = out->data + (size_t)n * out->c * hw;
        for (int p = 0; p < nparts; p++) {
            size_t len = (size_t)parts[p].c * hw;
            memcpy(dst, parts[p].data + (size_t)n * len, len * sizeof(float));
            dst += len;
        }
    }
}
