/* Fast NHWC kernels for P-, R- and O-Net.  Output channels are vectorised
 * (16 floats, GCC vector extensions), input values are broadcast; a tile of
 * NP pixels x NV vectors of accumulators stays in registers.  Built for
 * AVX-512 (wide tiles for 32 registers), AVX2+FMA and baseline x86-64
 * (narrow tiles); fn_mk_conv_pack picks one for the running CPU. */
#pragma GCC optimize("fp-contract=fast")   /* a*b+c as one FMA: faster, and more exact */
#include "nn/mtcnn_kernels.h"

#include <string.h>

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
typedef int v16i __attribute__((vector_size(64)));

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Lane-wise mask ? a : b (C has no ?: on vectors); compiles to a blend. */
#define SELECT(mask, a, b) ((v16)(((mask) & (v16i)(a)) | (~(mask) & (v16i)(b))))

#if defined(__x86_64__)
#define FN_MK_X86 1
#else
#define FN_MK_X86 0
#endif
#if FN_MK_X86 && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)   /* no ifuncs under sanitizers */
#define FN_MK_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define FN_MK_CLONES
#endif

static fn_mk_row_fn pick_row_fn(void);

size_t fn_mk_conv_floats(int cin, int cout, int k)
{
    size_t cp = (size_t)fn_mk_pad(cout);
    size_t wf = (size_t)k * k * cin * cp;
    return wf + 2 * cp;    /* every part is a multiple of 16 floats = 64 bytes */
}

void fn_mk_conv_pack(fn_mk_conv *c, float *mem, int cin, int cout, int k,
                     const float *w_oihw, const float *bias, const float *slope,
                     const int *in_perm)
{
    int cp = fn_mk_pad(cout);
    size_t per_out = (size_t)cin * k * k;
    float *w = mem, *b = w + per_out * cp, *a = b + cp;
    memset(mem, 0, fn_mk_conv_floats(cin, cout, k) * sizeof(float));
    for (int o = 0; o < cout; o++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int ci = 0; ci < cin; ci++) {
                    size_t dst = ((size_t)ky * k + kx) * cin + ci;
                    size_t src = in_perm ? (size_t)in_perm[dst] : ((size_t)ci * k + ky) * k + kx;
                    w[dst * cp + o] = w_oihw[o * per_out + src];
                }
    for (int o = 0; o < cout; o++) {
        b[o] = bias ? bias[o] : 0.0f;
        if (slope) a[o] = slope[o];
    }
    c->cin = cin; c->cout = cout; c->cout_pad = cp; c->k = k;
    c->w = w; c->bias = b; c->slope = slope ? a : NULL;
    c->row = pick_row_fn();
}

/* NP output pixels x NV vectors of output channels starting at vector v0.
 * NP and NV are literals (one function per shape) so the accumulators are
 * registers, not a stack array. */
#define UNROLL _Pragma("GCC unroll 16")
#define DEF_TILE(NP, NV)                                                                         \
    ALWAYS_INLINE void tile_##NP##_##NV(const fn_mk_conv *c, const float *const *rows, size_t x0,  \
                                        int in_pix, float *out, int v0)                          \
    {                                                                                            \
        const int cp = c->cout_pad, cin = c->cin, k = c->k;                                      \
        v16 acc[NP][NV];                                                                         \
        UNROLL for (int v = 0; v < NV; v++) {                                                    \
            v16 b = *(const v16 *)(c->bias + (v0 + v) * FN_MK_VEC);                              \
            UNROLL for (int p = 0; p < NP; p++) acc[p][v] = b;                                   \
        }                                                                                        \
        for (int ky = 0; ky < k; ky++)                                                           \
            for (int kx = 0; kx < k; kx++) {                                                     \
                const float *ip = rows[ky] + (x0 + kx) * in_pix;                                 \
                const float *wp = c->w + ((size_t)(ky * k + kx) * cin) * cp + v0 * FN_MK_VEC;    \
                for (int ci = 0; ci < cin; ci++) {                                               \
                    v16 wv[NV];                                                                  \
                    UNROLL for (int v = 0; v < NV; v++)                                          \
                        wv[v] = *(const v16 *)(wp + (size_t)ci * cp + v * FN_MK_VEC);            \
                    UNROLL for (int p = 0; p < NP; p++) {                                        \
                        v16 x = ip[(size_t)p * in_pix + ci] - (v16){0};   /* broadcast */     \
                        UNROLL for (int v = 0; v < NV; v++) acc[p][v] += x * wv[v];              \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
        UNROLL for (int v = 0; v < NV; v++) {                                                    \
            v16 a = c->slope ? *(const v16 *)(c->slope + (v0 + v) * FN_MK_VEC) : (v16){0};       \
            UNROLL for (int p = 0; p < NP; p++) {                                                \
                v16 y = acc[p][v];                                                               \
                if (c->slope) y = SELECT(y < (v16){0}, y * a, y);   /* PReLU */                  \
                *(v16u *)(out + (size_t)p * cp + (v0 + v) * FN_MK_VEC) = y;                      \
            }                                                                                    \
        }                                                                                        \
    }

/* A whole row with one tile shape; the last tile is shifted left to end at
 * ow (recomputing a few pixels identically) so there is no tail code. */
#define DEF_ROW(NP, NV)                                                                          \
    DEF_TILE(NP, NV)                                                                             \
    ALWAYS_INLINE void row_##NP##_##NV(const fn_mk_conv *c, const float *const *rows, int in_pix, \
                                       float *out, int ow, int v0)                               \
    {                                                                                            \
        if (ow < NP) {                                                                           \
            for (int x = 0; x < ow; x++)                                                         \
                tile_1_##NV(c, rows, x, in_pix, out + (size_t)x * c->cout_pad, v0);              \
            return;                                                                              \
        }                                                                                        \
        for (int x = 0;; x += NP) {                                                              \
            if (x > ow - NP) x = ow - NP;                                                        \
            tile_##NP##_##NV(c, rows, x, in_pix, out + (size_t)x * c->cout_pad, v0);             \
            if (x == ow - NP) break;                                                             \
        }                                                                                        \
    }

DEF_TILE(1, 1)
DEF_ROW(1, 2)
DEF_ROW(1, 3)
DEF_ROW(1, 4)
/* Tile widths per vector count: wide ones for P-Net's long rows, and ones
 * that divide R-/O-Net's short rows (22, 9, 3; 46, 21, 8, 3) so that shifted
 * last tiles do not recompute most of a row. */
DEF_ROW(12, 1)
DEF_ROW(8, 2)
DEF_ROW(11, 2)
DEF_ROW(12, 2)
DEF_ROW(8, 3)
DEF_ROW(9, 3)
DEF_ROW(3, 4)
DEF_ROW(4, 4)
DEF_ROW(6, 4)
DEF_ROW(7, 4)
/* narrow shapes for AVX2 and SSE2 */
DEF_ROW(6, 1)
DEF_ROW(3, 1)
DEF_ROW(3, 2)
DEF_ROW(2, 3)

/* The tile width (among the instantiated ones) computing fewest pixels for
 * a row of ow; ties go to the wider tile. */
static int pick_np(const int *nps, int count, int ow)
{
    int best = nps[0], best_cost = 1 << 30;
    for (int i = 0; i < count; i++) {
        int np = nps[i], cost = ow < np ? 4 * ow : (ow + np - 1) / np * np;   /* narrow rows: 1-pixel tiles, slow */
        if (cost < best_cost || (cost == best_cost && np > best)) { best = np; best_cost = cost; }
    }
    return best;
}

/* One block of up to 4 output vectors over a row, per instruction set:
 * every tile shape of a set is inlined once into its function. */
#define ROW_BLOCK_ARGS const fn_mk_conv *c, const float *const *rows, int in_pix, float *out, int ow, int v0, int nv

#if FN_MK_X86
__attribute__((target("avx512f"), noinline))
static void row_block_avx512(ROW_BLOCK_ARGS)
{
    static const int np2[] = {8, 11, 12}, np3[] = {8, 9}, np4[] = {3, 4, 6, 7};
    switch (nv) {
    case 1: row_12_1(c, rows, in_pix, out, ow, v0); return;
    case 2:
        switch (pick_np(np2, 3, ow)) {
        case 11: row_11_2(c, rows, in_pix, out, ow, v0); return;
        case 12: row_12_2(c, rows, in_pix, out, ow, v0); return;
        default: row_8_2(c, rows, in_pix, out, ow, v0); return;
        }
    case 3:
        if (pick_np(np3, 2, ow) == 9) row_9_3(c, rows, in_pix, out, ow, v0);
        else row_8_3(c, rows, in_pix, out, ow, v0);
        return;
    default:
        switch (pick_np(np4, 4, ow)) {
        case 3: row_3_4(c, rows, in_pix, out, ow, v0); return;
        case 4: row_4_4(c, rows, in_pix, out, ow, v0); return;
        case 7: row_7_4(c, rows, in_pix, out, ow, v0); return;
        default: row_6_4(c, rows, in_pix, out, ow, v0); return;
        }
    }
}

/* 16 ymm registers: a vector of 16 floats takes two. */
__attribute__((target("arch=x86-64-v3"), noinline))
static void row_block_avx2(ROW_BLOCK_ARGS)
{
    switch (nv) {
    case 1: row_6_1(c, rows, in_pix, out, ow, v0); return;
    case 2: row_3_2(c, rows, in_pix, out, ow, v0); return;
    case 3: row_2_3(c, rows, in_pix, out, ow, v0); return;
    default: row_1_4(c, rows, in_pix, out, ow, v0); return;
    }
}
#endif

/* Baseline SSE2: a vector takes four of 16 xmm registers. */
__attribute__((noinline))
static void row_block_generic(ROW_BLOCK_ARGS)
{
    switch (nv) {
    case 1: row_3_1(c, rows, in_pix, out, ow, v0); return;
    case 2: row_1_2(c, rows, in_pix, out, ow, v0); return;
    case 3: row_1_3(c, rows, in_pix, out, ow, v0); return;
    default: row_1_4(c, rows, in_pix, out, ow, v0); return;
    }
}

int fn_mk_row_kernels(fn_mk_row_fn *fns, const char **names, int max)
{
    int n = 0;
#define ADD(fn, name) do { if (n < max) { fns[n] = fn; names[n] = name; } n++; } while (0)
#if FN_MK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) ADD(row_block_avx512, "avx512");
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ADD(row_block_avx2, "avx2");
#endif
    ADD(row_block_generic, "generic");
#undef ADD
    return n < max ? n : max;
}

static fn_mk_row_fn pick_row_fn(void)
{
#if FN_MK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return row_block_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return row_block_avx2;
#endif
    return row_block_generic;
}

void fn_mk_conv_row(const fn_mk_conv *c, const float *const *rows, int in_pix,
                    float *out, int ow)
{
    int nv = c->cout_pad / FN_MK_VEC;
    for (int v0 = 0; v0 < nv; v0 += 4) c->row(c, rows, in_pix, out, ow, v0, nv - v0 < 4 ? nv - v0 : 4);
}

FN_MK_CLONES
void fn_mk_maxpool_row(const float *const *in_rows, int nrows, int iw, int cp,
                       int k, int s, float *out, int ow)
{
    for (int x = 0; x < ow; x++) {
        int x0 = x * s, x1 = x0 + k < iw ? x0 + k : iw;
        for (int v = 0; v < cp; v += FN_MK_VEC) {
            v16 m = *(const v16u *)(in_rows[0] + (size_t)x0 * cp + v);
            for (int r = 0; r < nrows; r++)
                for (int xx = x0; xx < x1; xx++) {
                    v16 t = *(const v16u *)(in_rows[r] + (size_t)xx * cp + v);
                    m = SELECT(t > m, t, m);
                }
            *(v16u *)(out + (size_t)x * cp + v) = m;
        }
    }
}
