/* Area resampling as torch's adaptive_avg_pool2d computes it.  Sums are
 * taken in integers: exact, so equal to torch's float32 sum whenever that is
 * exact too (any window under 65793 pixels), and separable (columns first). */
#pragma GCC optimize("tree-vectorize")   /* the column and scaling loops */
#include "detect/mtcnn_resample.h"

/* No ifuncs under sanitizers: the resolver runs before the sanitizer is up. */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define FN_MR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FN_MR_CLONES
#endif

void fn_mt_area_windows(int in, int n, int *lo, int *hi)
{
    for (int i = 0; i < n; i++) {
        lo[i] = (int)(((int64_t)i * in) / n);
        hi[i] = (int)(((int64_t)(i + 1) * in + n - 1) / n);
    }
}

size_t fn_mt_area_scratch(int span, int ow)
{
    return 3 * ((size_t)span + 1) + 3 * (size_t)ow;
}

/* Sums over source rows [ylo, yhi) of each column in [c0, c1) (x 3 channels). */
FN_MR_CLONES
static void column_sums(const mt_rgb *img, int c0, int c1, int ylo, int yhi, uint32_t *restrict colsum)
{
    size_t n = (size_t)(c1 - c0) * 3;
    const uint8_t *restrict row = img->px + (size_t)ylo * img->stride + (size_t)c0 * 3;
    for (size_t i = 0; i < n; i++) colsum[i] = row[i];
    for (int y = ylo + 1; y < yhi; y++) {
        row += img->stride;
        for (size_t i = 0; i < n; i++) colsum[i] += row[i];
    }
}

/* torch's mean is sum / kh / kw in float32, then the MTCNN scaling. */
FN_MR_CLONES
static void scale_row(float *restrict v, const float *restrict kw, float kh, size_t n)
{
    for (size_t i = 0; i < n; i++) v[i] = (v[i] / kh / kw[i] - 127.5f) * 0.0078125f;
}

void fn_mt_area_row(const mt_rgb *img, int x0, int ylo, int yhi, const int *xlo, const int *xhi,
                 int ow, uint32_t *scratch, float *out)
{
    int c0 = x0 + xlo[0], c1 = x0 + xhi[ow - 1];
    size_t n = (size_t)(c1 - c0) * 3;
    uint32_t *colsum = scratch;
    float *kw = (float *)(scratch + n + 3);
    column_sums(img, c0, c1, ylo, yhi, colsum);
    for (int j = 0; j < ow; j++) {
        /* windows overlap by at most a column: summing each is O(span) */
        const uint32_t *cs = colsum + (size_t)(x0 + xlo[j] - c0) * 3;
        uint32_t s0 = 0, s1 = 0, s2 = 0;
        for (int x = xlo[j]; x < xhi[j]; x++, cs += 3) { s0 += cs[0]; s1 += cs[1]; s2 += cs[2]; }
        float w = (float)(xhi[j] - xlo[j]);
        out[j * 3] = (float)s0; out[j * 3 + 1] = (float)s1; out[j * 3 + 2] = (float)s2;
        kw[j * 3] = kw[j * 3 + 1] = kw[j * 3 + 2] = w;
    }
    scale_row(out, kw, (float)(yhi - ylo), (size_t)ow * 3);
}
