/* warp.c — 5-point similarity fit and OpenCV-compatible affine warp. */
#include "align/align.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

/* insightface's arcface_dst (fixture: aligned112/expected.json "template_112"). */
const double fn_arcface_template_112[5][2] = {
    {38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366}, {41.5493, 92.3655}, {70.7299, 92.2041},
};

/* In 2-D the reflection-free Umeyama estimate has a closed form: with both
 * point sets centred, the best scaled rotation [a -b; b a] is
 * a = sum(p.q)/sum|p|^2, b = sum(p x q)/sum|p|^2. */
fn_status fn_similarity_fit(const double (*src)[2], const double (*dst)[2], int n, fn_affine *out)
{
    if (n < 2) return fn_fail(FN_ERR_ARG, "similarity fit: needs at least 2 points, got %d", n);
    double sx = 0, sy = 0, dx = 0, dy = 0;
    for (int i = 0; i < n; i++) sx += src[i][0], sy += src[i][1], dx += dst[i][0], dy += dst[i][1];
    sx /= n, sy /= n, dx /= n, dy /= n;
    double var = 0, dot = 0, cross = 0;
    for (int i = 0; i < n; i++) {
        double px = src[i][0] - sx, py = src[i][1] - sy, qx = dst[i][0] - dx, qy = dst[i][1] - dy;
        var += px * px + py * py;
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
    }
    if (!(var > 1e-12)) return fn_fail(FN_ERR_ARG, "similarity fit: the source points coincide");
    double a = dot / var, b = cross / var;
    double m[6] = {a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)};
    memcpy(out->m, m, sizeof m);
    return FN_OK;
}

/* OpenCV's invertAffineTransform (a singular matrix maps everything to 0). */
static void invert(const fn_affine *f, double inv[6])
{
    const double *m = f->m;
    double d = m[0] * m[4] - m[1] * m[3];
    d = d != 0 ? 1.0 / d : 0.0;
    double a11 = m[4] * d, a22 = m[0] * d, a12 = -m[1] * d, a21 = -m[3] * d;
    inv[0] = a11, inv[1] = a12, inv[2] = -a11 * m[2] - a12 * m[5];
    inv[3] = a21, inv[4] = a22, inv[5] = -a21 * m[2] - a22 * m[5];
}

static fn_status check_warp_args(const fn_image *src, const fn_affine *m, const fn_image *dst)
{
    if (!src || !src->data || !m || !dst || !dst->data || dst->c != src->c)
        return fn_fail(FN_ERR_ARG, "warp: source and destination must be allocated with the same channels");
    for (int i = 0; i < 6; i++)
        if (!isfinite(m->m[i])) return fn_fail(FN_ERR_ARG, "warp: matrix has a non-finite entry");
    return FN_OK;
}

/* Source sample with zero outside the image (BORDER_CONSTANT 0). */
static int at(const fn_image *s, int x, int y, int ch)
{
    if (x < 0 || y < 0 || x >= s->w || y >= s->h) return 0;
    return fn_image_px(s, x, y)[ch];
}

/* OpenCV's saturate_cast<int>(double): round half to even.  Pinned to
 * +-2^30 (OpenCV: 2^31) so the sums below cannot overflow; such positions
 * are far outside any image we accept either way. */
static int cv_round(double v)
{
    if (v > 1073741824.0) return 1073741824;
    if (v < -1073741824.0) return -1073741824;
    return (int)lrint(v);
}

enum { AB_BITS = 10, INTER_BITS = 5, TAB = 1 << INTER_BITS, COEF_BITS = 15 };

/* Positions are in 1/1024 pixel per step, summed per row and cut to 1/32;
 * the four weights (32-fx)(32-fy)*32 ... are OpenCV's bilinear table, exact
 * in 15 bits. */
fn_status fn_warp_affine(const fn_image *src, const fn_affine *mat, fn_image *dst)
{
    FN_TRY(check_warp_args(src, mat, dst));
    double m[6];
    invert(mat, m);
    const int round_delta = (1 << AB_BITS) / TAB / 2;
    for (int y = 0; y < dst->h; y++) {
        int X0 = cv_round((m[1] * y + m[2]) * (1 << AB_BITS)) + round_delta;
        int Y0 = cv_round((m[4] * y + m[5]) * (1 << AB_BITS)) + round_delta;
        uint8_t *d = fn_image_px(dst, 0, y);
        for (int x = 0; x < dst->w; x++, d += dst->c) {
            int X = (X0 + cv_round(m[0] * x * (1 << AB_BITS))) >> (AB_BITS - INTER_BITS);
            int Y = (Y0 + cv_round(m[3] * x * (1 << AB_BITS))) >> (AB_BITS - INTER_BITS);
            int sx = X >> INTER_BITS, sy = Y >> INTER_BITS, fx = X & (TAB - 1), fy = Y & (TAB - 1);
            int w00 = (TAB - fx) * (TAB - fy) * 32, w01 = fx * (TAB - fy) * 32;
            int w10 = (TAB - fx) * fy * 32, w11 = fx * fy * 32;
            for (int ch = 0; ch < dst->c; ch++) {
                int v = at(src, sx, sy, ch) * w00 + at(src, sx + 1, sy, ch) * w01 +
                        at(src, sx, sy + 1, ch) * w10 + at(src, sx + 1, sy + 1, ch) * w11;
                d[ch] = (uint8_t)((v + (1 << (COEF_BITS - 1))) >> COEF_BITS);
            }
        }
    }
    return FN_OK;
}

fn_status fn_warp_affine_ref(const fn_image *src, const fn_affine *mat, fn_image *dst)
{
    FN_TRY(check_warp_args(src, mat, dst));
    double m[6];
    invert(mat, m);
    for (int y = 0; y < dst->h; y++)
        for (int x = 0; x < dst->w; x++) {
            double X = m[0] * x + m[1] * y + m[2], Y = m[3] * x + m[4] * y + m[5];
            double fx0 = floor(X), fy0 = floor(Y);
            uint8_t *d = fn_image_px(dst, x, y);
            if (!(fabs(fx0) < 1e6 && fabs(fy0) < 1e6)) { memset(d, 0, (size_t)dst->c); continue; }
            int sx = (int)fx0, sy = (int)fy0;
            double fx = X - fx0, fy = Y - fy0;
            for (int ch = 0; ch < dst->c; ch++) {
                double v = (1 - fy) * ((1 - fx) * at(src, sx, sy, ch) + fx * at(src, sx + 1, sy, ch)) +
                           fy * ((1 - fx) * at(src, sx, sy + 1, ch) + fx * at(src, sx + 1, sy + 1, ch));
                d[ch] = (uint8_t)(v + 0.5);
            }
        }
    return FN_OK;
}

fn_status fn_align_arcface(const fn_image *img, const float landmarks[5][2], fn_image *out, fn_affine *matrix)
{
    if (!out || out->w != 112 || out->h != 112)
        return fn_fail(FN_ERR_ARG, "align: the ArcFace crop must be allocated as 112x112");
    double lm[5][2];
    for (int i = 0; i < 5; i++) lm[i][0] = landmarks[i][0], lm[i][1] = landmarks[i][1];
    fn_affine m;
    FN_TRY(fn_similarity_fit((const double (*)[2])lm, fn_arcface_template_112, 5, &m));
    if (matrix) *matrix = m;
    return fn_warp_affine(img, &m, out);
}
