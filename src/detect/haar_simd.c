/* Vectorised window scan: 8 (AVX2) or 16 (AVX-512) neighbouring windows of a
 * row classified in lockstep, with the exact arithmetic of the scalar scan
 * (haar_scan.c): int32 rect sums, float feature values, double stage sums,
 * no fused multiply-add.  Windows of a row sit at x = k * step, so every
 * feature corner is a contiguous (step 1) or every-other (step 2) run of
 * integral entries: plain loads, no gathers.  Chosen at run time with
 * __builtin_cpu_supports; the build itself targets baseline x86-64. */
#include <string.h>

#include "detect/haar_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAAR_HAVE_X86 1
#endif

/* Lanes still alive below this count finish on the scalar cascade: a vector
 * stage costs about as much as a few scalar windows. */
#ifndef SCALAR_BELOW
#define SCALAR_BELOW 2
#endif

int fn_haar_kernel_supported(haar_kernel k)
{
    if (k == HAAR_KERNEL_SCALAR) return 1;
#ifdef HAAR_HAVE_X86
    __builtin_cpu_init();
    if (k == HAAR_KERNEL_AVX2) return __builtin_cpu_supports("avx2");
    if (k == HAAR_KERNEL_AVX512) return __builtin_cpu_supports("avx512f");
#endif
    return 0;
}

/* AVX2 first: 16-lane chunks stay alive longer (one survivor keeps the
 * whole chunk in the vector loop), and bench_haar measured AVX-512 1.2-1.5x
 * slower than AVX2 on an AVX-512 machine. */
haar_kernel fn_haar_kernel_best(void)
{
    if (fn_haar_kernel_supported(HAAR_KERNEL_AVX2)) return HAAR_KERNEL_AVX2;
    if (fn_haar_kernel_supported(HAAR_KERNEL_AVX512)) return HAAR_KERNEL_AVX512;
    return HAAR_KERNEL_SCALAR;
}

const char *fn_haar_kernel_name(haar_kernel k)
{
    return k == HAAR_KERNEL_AVX512 ? "avx512" : k == HAAR_KERNEL_AVX2 ? "avx2" : "scalar";
}

/* Which windows of a chunk the scan visits and which pass stage 0, given
 * stage 0's verdict on all of them: OpenCV visits x left to right and jumps
 * over the window after one rejected at the first stage (not after a flat
 * one).  *skip carries that jump from the previous chunk. */
static unsigned visit_chunk(unsigned first, unsigned lanes, unsigned nonflat, unsigned pass0, int *skip)
{
    unsigned alive = 0;
    for (unsigned b = first; b < lanes; b++) {
        if (*skip) { *skip = 0; continue; }
        if (!(nonflat >> b & 1u)) continue;
        if (pass0 >> b & 1u) alive |= 1u << b;
        else *skip = 1;
    }
    return alive;
}

#ifdef HAAR_HAVE_X86

/* ------------------------------------------------------------ AVX-512 */

#define T512 __attribute__((target("avx512f")))

/* p[o + step*k] for k = 0..15, step 1 or 2, reading nothing past p[o + 15*step]. */
static inline T512 __m512i lanes16(const uint32_t *p, int o, int step)
{
    if (step == 1) return _mm512_loadu_si512((const void *)(p + o));
    __m512i a = _mm512_loadu_si512((const void *)(p + o));          /* entries 0..15 */
    __m512i b = _mm512_loadu_si512((const void *)(p + o + 15));     /* entries 15..30 */
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16 + 1, 16 + 3, 16 + 5, 16 + 7, 16 + 9,
                                          16 + 11, 16 + 13, 16 + 15);
    return _mm512_permutex2var_epi32(a, idx, b);
}

static inline T512 __m512i rect16(const uint32_t *p, const int o[4], int step)
{
    __m512i r = _mm512_sub_epi32(lanes16(p, o[0], step), lanes16(p, o[1], step));
    return _mm512_add_epi32(_mm512_sub_epi32(r, lanes16(p, o[2], step)), lanes16(p, o[3], step));
}

/* window_norm for 16 windows: 1/stddev as float, 0 where the window is flat. */
static T512 __m512 norm16(const haar_plan *pl, const uint32_t *ps, const uint32_t *pq, int step)
{
    __m512i s = rect16(ps, pl->nofs, step), q = rect16(pq, pl->nofs, step);
    __m512d area = _mm512_set1_pd(pl->norm_area), one = _mm512_set1_pd(1.0), tenth = _mm512_set1_pd(1e-1);
    __m256 half[2];
    for (int i = 0; i < 2; i++) {
        __m256i si = i ? _mm512_extracti64x4_epi64(s, 1) : _mm512_castsi512_si256(s);
        __m256i qi = i ? _mm512_extracti64x4_epi64(q, 1) : _mm512_castsi512_si256(q);
        __m512d sd = _mm512_cvtepi32_pd(si), qd = _mm512_cvtepu32_pd(qi);
        __m512d nf = _mm512_sub_pd(_mm512_mul_pd(area, qd), _mm512_mul_pd(sd, sd));
        __mmask8 pos = _mm512_cmp_pd_mask(nf, _mm512_setzero_pd(), _CMP_GT_OQ);
        __m256 v = _mm512_cvtpd_ps(_mm512_div_pd(one, _mm512_sqrt_pd(_mm512_mask_blend_pd(pos, one, nf))));
        __mmask8 ok = pos & _mm512_cmp_pd_mask(_mm512_mul_pd(area, _mm512_cvtps_pd(v)), tenth, _CMP_LT_OQ);
        half[i] = _mm512_castps512_ps256(_mm512_maskz_mov_ps(ok, _mm512_castps256_ps512(v)));
    }
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(half[0])),
                                               _mm256_castps_pd(half[1]), 1));
}

/* One stage on 16 windows: the mask of lanes (within alive) whose sum reaches the threshold. */
static T512 __mmask16 stage16(const haar_fstump *sp, int ntrees, float thr, const uint32_t *p, int step,
                              __m512 vnf, __mmask16 alive)
{
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (int t = 0; t < ntrees; t++, sp++) {
        __m512 f = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(sp->weight[0]), _mm512_cvtepi32_ps(rect16(p, sp->ofs[0], step))),
                                 _mm512_mul_ps(_mm512_set1_ps(sp->weight[1]), _mm512_cvtepi32_ps(rect16(p, sp->ofs[1], step))));
        if (sp->weight[2] != 0.0f)
            f = _mm512_add_ps(f, _mm512_mul_ps(_mm512_set1_ps(sp->weight[2]), _mm512_cvtepi32_ps(rect16(p, sp->ofs[2], step))));
        __mmask16 lt = _mm512_cmp_ps_mask(_mm512_mul_ps(f, vnf), _mm512_set1_ps(sp->threshold), _CMP_LT_OQ);
        __m512 leaf = _mm512_mask_blend_ps(lt, _mm512_set1_ps(sp->leaf[1]), _mm512_set1_ps(sp->leaf[0]));
        lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(leaf)));
        hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(leaf), 1))));
    }
    __m512d th = _mm512_set1_pd((double)thr);
    __mmask16 ok = (__mmask16)(_mm512_cmp_pd_mask(lo, th, _CMP_GE_OQ) | (_mm512_cmp_pd_mask(hi, th, _CMP_GE_OQ) << 8));
    return ok & alive;
}

static T512 int scan_row16(const fn_haar *h, const haar_plan *pl, const haar_level *lv, int y, int n, haar_hits *out)
{
    const int step = lv->ystep;
    const uint32_t *ps = lv->sum + (size_t)y * lv->stride, *pq = lv->sqsum + (size_t)y * lv->stride;
    int skip = 0;
    for (int done = 0; done < n;) {
        int k0 = done + 16 <= n ? done : n - 16;   /* the last chunk overlaps the previous one */
        unsigned first = (unsigned)(done - k0);
        const uint32_t *p = ps + (size_t)k0 * step;
        __m512 vnf = norm16(pl, p, pq + (size_t)k0 * step, step);
        unsigned nonflat = _mm512_cmp_ps_mask(vnf, _mm512_setzero_ps(), _CMP_NEQ_OQ);
        const haar_stage *st = h->stages;
        unsigned pass0 = stage16(pl->stumps, st[0].ntrees, st[0].threshold, p, step, vnf, (__mmask16)nonflat);
        unsigned alive = visit_chunk(first, 16, nonflat, pass0, &skip);
        int s = 1;
        for (; s < h->nstages && alive && __builtin_popcount(alive) >= SCALAR_BELOW; s++)
            alive = stage16(pl->stumps + st[s].tree0, st[s].ntrees, st[s].threshold, p, step, vnf, (__mmask16)alive);
        float vf[16];
        _mm512_storeu_ps(vf, vnf);
        for (; alive; alive &= alive - 1) {
            int b = __builtin_ctz(alive);
            if (fn_haar_stump_stages_from(h, pl, s, p + b * step, vf[b]) > 0 && fn_haar_hits_push(out, (k0 + b) * step, y))
                return -1;
        }
        done = k0 + 16;
    }
    return 0;
}

/* ------------------------------------------------------------ AVX2 */

#define T256 __attribute__((target("avx2")))

/* p[o + step*k] for k = 0..7, reading nothing past p[o + 7*step]. */
static inline T256 __m256i lanes8(const uint32_t *p, int o, int step)
{
    if (step == 1) return _mm256_loadu_si256((const __m256i *)(p + o));
    __m256i a = _mm256_loadu_si256((const __m256i *)(p + o));         /* entries 0..7 */
    __m256i b = _mm256_loadu_si256((const __m256i *)(p + o + 7));     /* entries 7..14 */
    a = _mm256_permutevar8x32_epi32(a, _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0));
    b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 0, 0, 0, 1, 3, 5, 7));
    return _mm256_blend_epi32(a, b, 0xF0);
}

static inline T256 __m256i rect8(const uint32_t *p, const int o[4], int step)
{
    __m256i r = _mm256_sub_epi32(lanes8(p, o[0], step), lanes8(p, o[1], step));
    return _mm256_add_epi32(_mm256_sub_epi32(r, lanes8(p, o[2], step)), lanes8(p, o[3], step));
}

/* Exact uint32 -> double without AVX-512: flip the sign bit, convert, add 2^31. */
static inline T256 __m256d u32_to_pd(__m128i q)
{
    __m128i flipped = _mm_xor_si128(q, _mm_set1_epi32((int)0x80000000u));
    return _mm256_add_pd(_mm256_cvtepi32_pd(flipped), _mm256_set1_pd(2147483648.0));
}

static T256 __m256 norm8(const haar_plan *pl, const uint32_t *ps, const uint32_t *pq, int step)
{
    __m256i s = rect8(ps, pl->nofs, step), q = rect8(pq, pl->nofs, step);
    __m256d area = _mm256_set1_pd(pl->norm_area), one = _mm256_set1_pd(1.0), tenth = _mm256_set1_pd(1e-1);
    __m128 half[2];
    for (int i = 0; i < 2; i++) {
        __m128i si = i ? _mm256_extracti128_si256(s, 1) : _mm256_castsi256_si128(s);
        __m128i qi = i ? _mm256_extracti128_si256(q, 1) : _mm256_castsi256_si128(q);
        __m256d sd = _mm256_cvtepi32_pd(si), qd = u32_to_pd(qi);
        __m256d nf = _mm256_sub_pd(_mm256_mul_pd(area, qd), _mm256_mul_pd(sd, sd));
        __m256d pos = _mm256_cmp_pd(nf, _mm256_setzero_pd(), _CMP_GT_OQ);
        __m128 v = _mm256_cvtpd_ps(_mm256_div_pd(one, _mm256_sqrt_pd(_mm256_blendv_pd(one, nf, pos))));
        __m256d ok = _mm256_and_pd(pos, _mm256_cmp_pd(_mm256_mul_pd(area, _mm256_cvtps_pd(v)), tenth, _CMP_LT_OQ));
        /* ok has 64-bit lanes: keep the low half of each as the float mask. */
        __m128 ok32 = _mm256_castps256_ps128(
            _mm256_permutevar8x32_ps(_mm256_castpd_ps(ok), _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0)));
        half[i] = _mm_and_ps(v, ok32);
    }
    return _mm256_insertf128_ps(_mm256_castps128_ps256(half[0]), half[1], 1);
}

static T256 unsigned stage8(const haar_fstump *sp, int ntrees, float thr, const uint32_t *p, int step, __m256 vnf,
                            unsigned alive)
{
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (int t = 0; t < ntrees; t++, sp++) {
        __m256 f = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(sp->weight[0]), _mm256_cvtepi32_ps(rect8(p, sp->ofs[0], step))),
                                 _mm256_mul_ps(_mm256_set1_ps(sp->weight[1]), _mm256_cvtepi32_ps(rect8(p, sp->ofs[1], step))));
        if (sp->weight[2] != 0.0f)
            f = _mm256_add_ps(f, _mm256_mul_ps(_mm256_set1_ps(sp->weight[2]), _mm256_cvtepi32_ps(rect8(p, sp->ofs[2], step))));
        __m256 lt = _mm256_cmp_ps(_mm256_mul_ps(f, vnf), _mm256_set1_ps(sp->threshold), _CMP_LT_OQ);
        __m256 leaf = _mm256_blendv_ps(_mm256_set1_ps(sp->leaf[1]), _mm256_set1_ps(sp->leaf[0]), lt);
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(leaf)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(leaf, 1)));
    }
    __m256d th = _mm256_set1_pd((double)thr);
    unsigned ok = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(lo, th, _CMP_GE_OQ)) |
                  (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(hi, th, _CMP_GE_OQ)) << 4;
    return ok & alive;
}

static T256 int scan_row8(const fn_haar *h, const haar_plan *pl, const haar_level *lv, int y, int n, haar_hits *out)
{
    const int step = lv->ystep;
    const uint32_t *ps = lv->sum + (size_t)y * lv->stride, *pq = lv->sqsum + (size_t)y * lv->stride;
    int skip = 0;
    for (int done = 0; done < n;) {
        int k0 = done + 8 <= n ? done : n - 8;
        unsigned first = (unsigned)(done - k0);
        const uint32_t *p = ps + (size_t)k0 * step;
        __m256 vnf = norm8(pl, p, pq + (size_t)k0 * step, step);
        unsigned nonflat = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(vnf, _mm256_setzero_ps(), _CMP_NEQ_OQ));
        const haar_stage *st = h->stages;
        unsigned pass0 = stage8(pl->stumps, st[0].ntrees, st[0].threshold, p, step, vnf, nonflat);
        unsigned alive = visit_chunk(first, 8, nonflat, pass0, &skip);
        int s = 1;
        for (; s < h->nstages && alive && __builtin_popcount(alive) >= SCALAR_BELOW; s++)
            alive = stage8(pl->stumps + st[s].tree0, st[s].ntrees, st[s].threshold, p, step, vnf, alive);
        float vf[8];
        _mm256_storeu_ps(vf, vnf);
        for (; alive; alive &= alive - 1) {
            int b = __builtin_ctz(alive);
            if (fn_haar_stump_stages_from(h, pl, s, p + b * step, vf[b]) > 0 && fn_haar_hits_push(out, (k0 + b) * step, y))
                return -1;
        }
        done = k0 + 8;
    }
    return 0;
}

#endif /* HAAR_HAVE_X86 */

int fn_haar_scan_row_simd(haar_kernel k, const fn_haar *h, const haar_plan *pl, const haar_level *lv, int y, int n,
                       haar_hits *out)
{
#ifdef HAAR_HAVE_X86
    if (k == HAAR_KERNEL_AVX512 && n >= 16) return scan_row16(h, pl, lv, y, n, out);
    if (k >= HAAR_KERNEL_AVX2 && n >= 8) return scan_row8(h, pl, lv, y, n, out);
#endif
    (void)k; (void)h; (void)pl; (void)lv; (void)y; (void)n; (void)out;
    return 1;   /* not handled: the caller scans the row in scalar code */
}
