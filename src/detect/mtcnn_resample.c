/* Area resampling as torch's adaptive_avg_pool2d computes it.  Sums are
 * taken in integers: exact, so equal to torch's float32 sum whenever that is
 * exact too (any window under 65793 pixels), and separable (columns first). */
#include "detect/mtcnn_resample.h"

void mt_area_windows(int in, int n, int *lo, int *hi)
{
    for (int i = 0; i < n; i++) {
        lo[i] = (int)(((int64_t)i * in) / n);
        hi[i] = (int)(((int64_t)(i + 1) * in + n - 1) / n);
    }
}

/* Sums over source rows [ylo, yhi) of each column in [c0, c1) (x 3 channels). */
static void column_sums(const mt_rgb *img, int c0, int c1, int ylo, int yhi, uint32_t *colsum)
{
    size_t n = (size_t)(c1 - c0) * 3;
    const uint8_t *row = img->px + (size_t)ylo * img->stride + (size_t)c0 * 3;
    for (size_t i = 0; i < n; i++) colsum[i] = row[i];
    for (int y = ylo + 1; y < yhi; y++) {
        row += img->stride;
        for (size_t i = 0; i < n; i++) colsum[i] += row[i];
    }
}

void mt_area_row(const mt_rgb *img, int x0, int ylo, int yhi, const int *xlo, const int *xhi,
                 int ow, uint32_t *colsum, float *out)
{
    int c0 = x0 + xlo[0], c1 = x0 + xhi[ow - 1];
    column_sums(img, c0, c1, ylo, yhi, colsum);
    float kh = (float)(yhi - ylo);
    for (int j = 0; j < ow; j++) {
        uint32_t s[3] = {0, 0, 0};
        const uint32_t *cs = colsum + (size_t)(x0 + xlo[j] - c0) * 3;
        for (int x = xlo[j]; x < xhi[j]; x++, cs += 3) {
            s[0] += cs[0]; s[1] += cs[1]; s[2] += cs[2];
        }
        float kw = (float)(xhi[j] - xlo[j]);
        for (int c = 0; c < 3; c++) out[j * 3 + c] = ((float)s[c] / kh / kw - 127.5f) * 0.0078125f;
    }
}
