/* detect_haar.c — fn_detect with FN_DETECTOR_HAAR: OpenCV's Haar cascade on
 * the gray image (optionally on a copy reduced to about 640x480, and big
 * windows on copies halved again: haar_reduce 2), then O-Net
 * on every rectangle for the probability and the 5 landmarks alignment needs.
 * The one Haar path of the library: `detect`, `identify` and `watch` all
 * come through here. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/engine_impl.h"
#include "core/error.h"
#include "detect/haar.h"
#include "image/image.h"

#define HAAR_MAX_RECTS 1024   /* rectangles refined per image; more is a pathological cascade */

/* Whole-number reduction to about 640x480: Haar's cost grows with the
 * pixels; on a reduced frame the smallest face is 24 px times the factor. */
#define MULTIRES_MIN_PIXELS (1280 * 720)   /* haar_reduce 2's halved copies from 720p up */

static int reduction(int w, int h)
{
    int s = w / 640 < h / 480 ? w / 640 : h / 480;
    return s < 1 ? 1 : s;
}

/* Gray of each pixel (fn_gray_px), then the mean of each s x s block
 * (rounded): dst is (w / s) x (h / s).  One pass over the RGB rows, the
 * same numbers as fn_rgb_to_gray followed by a block mean. */
static void gray_reduce(const uint8_t *rgb, size_t stride, int s, uint8_t *dst, int dw, int dh)
{
    if (s == 1) {
        fn_rgb_to_gray(rgb, dw, dh, stride, dst, (size_t)dw);
        return;
    }
    int area = s * s;
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            int sum = 0;
            for (int j = 0; j < s; j++) {
                const uint8_t *p = rgb + (size_t)(y * s + j) * stride + (size_t)x * s * 3;
                for (int i = 0; i < s; i++, p += 3) sum += fn_gray_px(p[0], p[1], p[2]);
            }
            dst[(size_t)y * dw + x] = (uint8_t)((sum + area / 2) / area);
        }
}

/* Mean of each 2 x 2 block (rounded): dst is (w / 2) x (h / 2). */
static void halve(const uint8_t *src, int w, uint8_t *dst, int dw, int dh)
{
    for (int y = 0; y < dh; y++) {
        const uint8_t *a = src + (size_t)(2 * y) * w, *b = a + w;
        uint8_t *d = dst + (size_t)y * dw;
        for (int x = 0; x < dw; x++) d[x] = (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) / 4);
    }
}

/* The cascade's rectangles, in pixels of the scanned gray image (gw x gh).
 * haar_reduce 2: OpenCV scans levels of scale >= 2 with a 1-pixel step
 * (below 2 with 2), so on a frame full of pixels the windows of big faces
 * cost as much as those of small ones.  Here only the levels below scale 2
 * run on the image itself; windows of twice the cascade's size and more
 * are the same small windows on copies halved again and again (2-pixel
 * step there: big faces sampled as densely, relative to their size, as
 * OpenCV samples small ones), and the raw windows of every pass are grouped
 * once, as detectMultiScale groups its levels.  The detector is unchanged
 * (tests/test_haar: OpenCV parity); this is a cheaper plan of where to run it. */
typedef struct haar_scan_plan {
    fn_haar_params hp;
    int win;          /* the cascade's window side */
    int min_side;     /* smallest window in scanned-image pixels */
} haar_scan_plan;

static fn_status rects_grow(fn_rect **r, int *cap, int need)
{
    if (need <= *cap) return FN_OK;
    int c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    fn_rect *n = realloc(*r, (size_t)c * sizeof *n);
    if (!n) return fn_fail(FN_ERR_NOMEM, "out of memory for %d Haar windows", need);
    *r = n;
    *cap = c;
    return FN_OK;
}

/* Raw windows of gray (w x h) with windows [min_w, max_w] (0: no limit), scaled by
 * mul and appended to *r. */
static fn_status raw_windows(fn_engine *e, const uint8_t *gray, int w, int h, const haar_scan_plan *pl, int min_w,
                             int max_w, int mul, fn_rect **r, int *n, int *cap)
{
    fn_haar_params hp = pl->hp;
    hp.min_neighbors = 0;
    hp.min_w = hp.min_h = min_w;
    hp.max_w = hp.max_h = max_w;
    int got = 0;
    FN_TRY(rects_grow(r, cap, *n + 256));
    FN_TRY(fn_haar_detect(e->haar, gray, w, h, w, &hp, *r + *n, *cap - *n, &got));
    if (got > *cap - *n) {   /* more than room: once more with room for all */
        FN_TRY(rects_grow(r, cap, *n + got));
        FN_TRY(fn_haar_detect(e->haar, gray, w, h, w, &hp, *r + *n, *cap - *n, &got));
    }
    for (int i = *n; i < *n + got; i++) {
        (*r)[i].x *= mul;
        (*r)[i].y *= mul;
        (*r)[i].w *= mul;
        (*r)[i].h *= mul;
    }
    *n += got;
    return FN_OK;
}

static fn_status scan_multires(fn_engine *e, uint8_t *gray, int gw, int gh, const haar_scan_plan *pl, fn_rect **r,
                               int *n, int *cap)
{
    *n = 0;
    int big = 2 * pl->win - 1;   /* largest window of a pass: scales below 2 */
    FN_TRY(raw_windows(e, gray, gw, gh, pl, pl->min_side, big, 1, r, n, cap));
    uint8_t *src = gray, *dst = gray + (size_t)gw * gh;
    int w = gw, h = gh;
    for (int mul = 2; w / 2 >= pl->win && h / 2 >= pl->win; mul *= 2) {
        halve(src, w, dst, w / 2, h / 2);
        src = dst;
        dst += (size_t)(w / 2) * (h / 2);
        w /= 2;
        h /= 2;
        int min_side = (pl->min_side + mul - 1) / mul;
        if (min_side > big) continue;
        FN_TRY(raw_windows(e, src, w, h, pl, min_side < pl->win ? pl->win : min_side, big, mul, r, n, cap));
    }
    int kept = 0;
    FN_TRY(fn_haar_group(*r, *n, pl->hp.min_neighbors, &kept));
    /* detectMultiScale clips its results to the image */
    int k = 0;
    for (int i = 0; i < kept; i++) {
        fn_rect q = (*r)[i];
        int x0 = q.x > 0 ? q.x : 0, y0 = q.y > 0 ? q.y : 0;
        int x1 = q.x + q.w < gw ? q.x + q.w : gw, y1 = q.y + q.h < gh ? q.y + q.h : gh;
        if (x1 <= x0 || y1 <= y0) continue;
        (*r)[k++] = (fn_rect){x0, y0, x1 - x0, y1 - y0};
    }
    *n = k;
    return FN_OK;
}

/* Stable: faces of equal probability keep the cascade's order. */
static void sort_by_prob(fn_face *f, int n)
{
    for (int i = 1; i < n; i++) {
        fn_face x = f[i];
        int j = i;
        while (j > 0 && f[j - 1].prob < x.prob) {
            f[j] = f[j - 1];
            j--;
        }
        f[j] = x;
    }
}

/* The cascade on the part x0 <= x < x1, y0 <= y < y1 of img (multiples of
 * the reduction s), each rectangle refined by O-Net on the whole image. */
static fn_status detect_in(fn_engine *e, const fn_image *img, int s, const int reg[4], fn_face *faces, int max, int *n)
{
    *n = 0;
    int gw = (reg[2] - reg[0]) / s, gh = (reg[3] - reg[1]) / s;
    if (gw <= 0 || gh <= 0) return FN_OK;
    /* the scanned image, and below it the halved copies of haar_reduce 2 (a third more) */
    uint8_t *gray = malloc((size_t)gw * gh + (size_t)gw * gh / 3 + 16);
    int cap = HAAR_MAX_RECTS, nr = 0, nf = 0;
    fn_rect *rects = malloc((size_t)cap * sizeof *rects);
    fn_face *found = malloc(HAAR_MAX_RECTS * sizeof *found);
    if (!gray || !rects || !found) {
        free(gray);
        free(rects);
        free(found);
        return fn_fail(FN_ERR_NOMEM, "out of memory for Haar detection on a %dx%d image", img->w, img->h);
    }
    size_t stride = (size_t)img->w * 3;
    gray_reduce(img->data + (size_t)reg[1] * stride + (size_t)reg[0] * 3, stride, s, gray, gw, gh);
    haar_scan_plan pl = {fn_haar_default_params(), 0, 0};
    pl.hp.scale_factor = e->opts.haar_scale;
    pl.hp.min_neighbors = e->opts.haar_min_neighbors;
    int win_w, win_h;
    fn_haar_window(e->haar, &win_w, &win_h);
    pl.win = win_w > win_h ? win_w : win_h;
    int min_side = (int)(e->opts.min_face / (float)s);
    pl.hp.min_w = min_side > win_w ? min_side : win_w;
    pl.hp.min_h = min_side > win_h ? min_side : win_h;
    pl.min_side = pl.hp.min_w > pl.hp.min_h ? pl.hp.min_w : pl.hp.min_h;
    fn_status st = FN_OK;
    if (gw >= win_w && gh >= win_h) {
        /* halved copies only where they pay: on a small frame the plain scan
         * is cheap, and the copies' coarser sampling of big windows can leave
         * a big face cut by the border with too few raw hits (test_orientation) */
        if (e->opts.haar_reduce == 2 && win_w == win_h && (int64_t)img->w * img->h >= MULTIRES_MIN_PIXELS)
            st = scan_multires(e, gray, gw, gh, &pl, &rects, &nr, &cap);
        else st = fn_haar_detect(e->haar, gray, gw, gh, gw, &pl.hp, rects, cap, &nr);
    }
    if (nr > HAAR_MAX_RECTS) nr = HAAR_MAX_RECTS;
    for (int i = 0; st == FN_OK && i < nr; i++) {
        float box[4] = {(float)(reg[0] + rects[i].x * s), (float)(reg[1] + rects[i].y * s),
                        (float)(reg[0] + (rects[i].x + rects[i].w) * s), (float)(reg[1] + (rects[i].y + rects[i].h) * s)};
        fn_status r = fn_refine_face(e, img, box, &found[nf]);
        if (r == FN_ERR_ARG) continue;   /* nothing of the box inside the image */
        st = r;
        if (st != FN_OK) break;
        if (!e->opts.haar_refined_box) memcpy(found[nf].box, box, sizeof box);
        nf++;
    }
    if (st == FN_OK) {
        sort_by_prob(found, nf);
        memcpy(faces, found, sizeof *found * (size_t)(nf < max ? nf : max));
        *n = nf;
    }
    free(gray);
    free(rects);
    free(found);
    return st;
}

static int reduction_of(const fn_engine *e, const fn_image *img)
{
    return e->opts.haar_reduce ? reduction(img->w, img->h) : 1;
}

fn_status fn_engine_detect_haar(fn_engine *e, const fn_image *img, fn_face *faces, int max, int *n)
{
    int s = reduction_of(e, img);
    int reg[4] = {0, 0, img->w / s * s, img->h / s * s};
    return detect_in(e, img, s, reg, faces, max, n);
}

fn_status fn_detect_region(fn_engine *e, const fn_image *img, const float region[4], fn_face *faces, int max, int *n)
{
    *n = 0;
    if (!img || img->c != 3) return fn_fail(FN_ERR_ARG, "fn_detect_region: the image must be RGB");
    if (e->opts.detector != FN_DETECTOR_HAAR)
        return fn_fail(FN_ERR_UNSUPPORTED, "fn_detect_region: only a Haar engine detects in a region");
    FN_TRY(fn_engine_need_detector(e));   /* loaded on first use */
    if (!(region[0] < region[2] && region[1] < region[3]))
        return fn_fail(FN_ERR_ARG, "fn_detect_region: region [%g %g %g %g] is empty", region[0], region[1], region[2],
                       region[3]);
    int s = reduction_of(e, img), gw = img->w / s, gh = img->h / s;
    /* on the whole image's grid of s x s blocks, clipped to it */
    float lo[2] = {region[0] / (float)s, region[1] / (float)s}, hi[2] = {region[2] / (float)s, region[3] / (float)s};
    int x0 = lo[0] < 0 ? 0 : (int)lo[0], y0 = lo[1] < 0 ? 0 : (int)lo[1];
    int x1 = hi[0] > (float)gw ? gw : (int)ceilf(hi[0]), y1 = hi[1] > (float)gh ? gh : (int)ceilf(hi[1]);
    if (x1 <= x0 || y1 <= y0) return FN_OK;
    int reg[4] = {x0 * s, y0 * s, x1 * s, y1 * s};
    return detect_in(e, img, s, reg, faces, max, n);
}
