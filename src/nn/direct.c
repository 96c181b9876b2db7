/* Direct NHWC convolutions (direct.h).  The dense loop keeps a block of
 * 4 output pixels x 32 output channels in registers (8 vectors of 16
 * floats) and walks the input channels of each tap: 2 weight loads feed 8
 * multiply-adds, and the 4 input rows stay in L1.  The depthwise loop
 * keeps 16 channels of one output pixel in a register across its taps.
 * Explicit vectors, not loops left to the vectoriser: at -O2 GCC 12
 * vectorises only loops of known trip count. */
#include "nn/direct.h"

#include <string.h>

#include "core/error.h"

/* No ifuncs under sanitizers: a clone's resolver runs while the loader
 * relocates, before their runtimes start (as mtcnn_kernels.c). */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define FN_DC_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define FN_DC_CLONES
#endif

/* 16 floats, any alignment: GCC's vector extension lowers it to whatever
 * the clone's ISA has (one zmm, two ymm, four xmm). */
typedef float v16 __attribute__((vector_size(64), aligned(4), may_alias));
typedef int v16i __attribute__((vector_size(64), aligned(4), may_alias));

#define PX 4         /* output pixels per block */
#define CB 32        /* output channels per block (two v16) */
#define MAX_TAPS 49

static int out_size(int in, int k, int s, int pad_before, int out)
{
    /* The last window must start inside the input plus its padding. */
    return out >= 1 && (out - 1) * s - pad_before < in && (out - 1) * s - pad_before + k > 0;
}

fn_status fn_dconv_check(const fn_dconv *c)
{
    if (!c || !c->w) return fn_fail(FN_ERR_ARG, "direct conv: no layer or no weights");
    if (c->cin < 1 || c->cout < 1 || c->k < 1 || c->stride < 1 || c->k * c->k > MAX_TAPS)
        return fn_fail(FN_ERR_ARG, "direct conv: %d -> %d channels, %dx%d kernel, stride %d is not supported",
                       c->cin, c->cout, c->k, c->k, c->stride);
    if (c->depthwise ? c->cin != c->cout : c->cout % CB != 0)
        return fn_fail(FN_ERR_ARG, "direct conv: %s with %d -> %d channels (dense needs a multiple of %d outputs)",
                       c->depthwise ? "depthwise" : "dense", c->cin, c->cout, CB);
    if (c->pad_t < 0 || c->pad_l < 0 || c->pad_t >= c->k || c->pad_l >= c->k ||
        !out_size(c->in_h, c->k, c->stride, c->pad_t, c->out_h) || !out_size(c->in_w, c->k, c->stride, c->pad_l, c->out_w))
        return fn_fail(FN_ERR_ARG, "direct conv: %dx%d -> %dx%d with padding %d,%d does not fit a %dx%d/%d kernel",
                       c->in_h, c->in_w, c->out_h, c->out_w, c->pad_t, c->pad_l, c->k, c->k, c->stride);
    int padded = c->pad_t || c->pad_l || (c->out_h - 1) * c->stride - c->pad_t + c->k > c->in_h ||
                 (c->out_w - 1) * c->stride - c->pad_l + c->k > c->in_w;
    if (!c->depthwise && padded && c->cin > FN_DCONV_MAX_PADDED_CIN)
        return fn_fail(FN_ERR_ARG, "direct conv: a padded dense input of %d channels (at most %d)", c->cin,
                       FN_DCONV_MAX_PADDED_CIN);
    return FN_OK;
}

/* Macros, not functions: a function passing v16 by value would change its
 * ABI with the clone's ISA (GCC's -Wpsabi). */
#define LOAD(p) (*(const v16 *)(p))

/* The epilogue on 16 channels stored at o: bias is already in a, then
 * PReLU, then the shortcut (the order of fn_ref_prelu, fn_ref_scale_add). */
#define FINISH_STORE(o, a, slope, sc)                                          \
    do {                                                                       \
        v16 a_ = (a);                                                          \
        if (slope) {                                                           \
            v16 neg_ = a_ * LOAD(slope);                                       \
            v16i m_ = a_ < 0; /* lane-wise select: C has no vector ?: */       \
            a_ = (v16)((m_ & (v16i)neg_) | (~m_ & (v16i)a_));                  \
        }                                                                      \
        if (sc) a_ += LOAD(sc);                                                \
        *(v16 *)(o) = a_;                                                      \
    } while (0)

/* One block of np (<= PX) pixels, whose taps' input rows are src[r][t]. */
static inline __attribute__((always_inline)) void dense_block(const fn_dconv *c, const float *src[PX][MAX_TAPS], int np, int taps, float *out, const float *sc)
{
    const int cin = c->cin, cout = c->cout;
    for (int co = 0; co < cout; co += CB) {
        v16 b0 = {0}, b1 = {0};
        if (c->b) { b0 = LOAD(c->b + co); b1 = LOAD(c->b + co + 16); }
        v16 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        for (int t = 0; t < taps; t++) {
            const float *wt = c->w + (size_t)t * cin * cout + co;
            const float *s0 = src[0][t], *s1 = src[1][t], *s2 = src[2][t], *s3 = src[3][t];
            for (int ci = 0; ci < cin; ci++) {
                v16 w0 = LOAD(wt + (size_t)ci * cout), w1 = LOAD(wt + (size_t)ci * cout + 16);
                a00 += s0[ci] * w0; a01 += s0[ci] * w1;
                a10 += s1[ci] * w0; a11 += s1[ci] * w1;
                a20 += s2[ci] * w0; a21 += s2[ci] * w1;
                a30 += s3[ci] * w0; a31 += s3[ci] * w1;
            }
        }
        v16 acc[PX][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
        for (int r = 0; r < np; r++) {
            float *o = out + (size_t)r * cout + co;
            const float *s = sc ? sc + (size_t)r * cout + co : NULL;
            const float *sl = c->slope ? c->slope + co : NULL;
            FINISH_STORE(o, acc[r][0], sl, s);
            FINISH_STORE(o + 16, acc[r][1], sl ? sl + 16 : NULL, s ? s + 16 : NULL);
        }
    }
}

FN_DC_CLONES
static void dense(const fn_dconv *c, const float *in, float *out, const float *sc)
{
    float zero[FN_DCONV_MAX_PADDED_CIN];
    int pads = c->cin <= FN_DCONV_MAX_PADDED_CIN;
    if (pads) memset(zero, 0, (size_t)c->cin * sizeof(float));
    const int k = c->k, taps = k * k, npix = c->out_h * c->out_w;
    const float *src[PX][MAX_TAPS];
    for (int p0 = 0; p0 < npix; p0 += PX) {
        int np = npix - p0 < PX ? npix - p0 : PX;
        for (int r = 0; r < PX; r++) {
            int p = p0 + (r < np ? r : 0);   /* spare rows repeat the first; not stored */
            int oy = p / c->out_w, ox = p % c->out_w;
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    int iy = oy * c->stride - c->pad_t + ky, ix = ox * c->stride - c->pad_l + kx;
                    int inside = iy >= 0 && iy < c->in_h && ix >= 0 && ix < c->in_w;
                    /* fn_dconv_check refused padding wider than the zero row. */
                    src[r][ky * k + kx] = inside ? in + ((size_t)iy * c->in_w + ix) * c->cin : (pads ? zero : in);
                }
        }
        dense_block(c, src, np, taps, out + (size_t)p0 * c->cout,
                    sc ? sc + (size_t)p0 * c->cout : NULL);
    }
}

FN_DC_CLONES
static void depthwise(const fn_dconv *c, const float *in, float *out, const float *sc)
{
    const int C = c->cout, k = c->k, C16 = C & ~15;
    const float *taps[MAX_TAPS], *wts[MAX_TAPS];
    for (int oy = 0; oy < c->out_h; oy++)
        for (int ox = 0; ox < c->out_w; ox++) {
            /* The taps inside the image; those in the padding add nothing. */
            int nt = 0;
            for (int ky = 0; ky < k; ky++) {
                int iy = oy * c->stride - c->pad_t + ky;
                if (iy < 0 || iy >= c->in_h) continue;
                for (int kx = 0; kx < k; kx++) {
                    int ix = ox * c->stride - c->pad_l + kx;
                    if (ix < 0 || ix >= c->in_w) continue;
                    taps[nt] = in + ((size_t)iy * c->in_w + ix) * C;
                    wts[nt++] = c->w + ((size_t)ky * k + kx) * C;
                }
            }
            size_t at = ((size_t)oy * c->out_w + ox) * C;
            float *o = out + at;
            const float *s = sc ? sc + at : NULL;
            int ch = 0;
            for (; ch < C16; ch += 16) {
                v16 a = {0};
                if (c->b) a = LOAD(c->b + ch);
                for (int t = 0; t < nt; t++) a += LOAD(taps[t] + ch) * LOAD(wts[t] + ch);
                FINISH_STORE(o + ch, a, c->slope ? c->slope + ch : NULL, s ? s + ch : NULL);
            }
            for (; ch < C; ch++) {   /* channels past the last full vector */
                float a = c->b ? c->b[ch] : 0.0f;
                for (int t = 0; t < nt; t++) a += taps[t][ch] * wts[t][ch];
                if (c->slope && a < 0) a *= c->slope[ch];
                o[ch] = a + (s ? s[ch] : 0.0f);
            }
        }
}

void fn_dconv_run(const fn_dconv *c, const float *in, float *out, const float *shortcut)
{
    if (c->depthwise) depthwise(c, in, out, shortcut);
    else dense(c, in, out, shortcut);
}
