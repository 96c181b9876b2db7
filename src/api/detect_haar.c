/* detect_haar.c — fn_detect with FN_DETECTOR_HAAR: OpenCV's Haar cascade on
 * the gray image (optionally on a copy reduced to about 640x480), then O-Net
 * on every rectangle for the probability and the 5 landmarks alignment needs.
 * The one Haar path of the library: `detect`, `identify` and `watch` all
 * come through here. */
#include <stdlib.h>
#include <string.h>

#include "api/engine_impl.h"
#include "core/error.h"
#include "detect/haar.h"
#include "image/image.h"

#define HAAR_MAX_RECTS 1024   /* rectangles refined per image; more is a pathological cascade */

/* Whole-number reduction to about 640x480: Haar's cost grows with the
 * pixels; on a reduced frame the smallest face is 24 px times the factor. */
static int reduction(int w, int h)
{
    int s = w / 640 < h / 480 ? w / 640 : h / 480;
    return s < 1 ? 1 : s;
}

/* Mean of each s x s block (rounded): dst is (w / s) x (h / s). */
static void box_reduce(const uint8_t *src, int w, int s, uint8_t *dst, int dw, int dh)
{
    int area = s * s;
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            int sum = 0;
            for (int j = 0; j < s; j++)
                for (int i = 0; i < s; i++) sum += src[(size_t)(y * s + j) * w + x * s + i];
            dst[(size_t)y * dw + x] = (uint8_t)((sum + area / 2) / area);
        }
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

fn_status fn_engine_detect_haar(fn_engine *e, const fn_image *img, fn_face *faces, int max, int *n)
{
    *n = 0;
    int w = img->w, h = img->h;
    int s = e->opts.haar_reduce ? reduction(w, h) : 1, gw = w / s, gh = h / s;
    size_t px = (size_t)w * h;
    uint8_t *gray = malloc(px + (s > 1 ? (size_t)gw * gh : 0));
    fn_rect *rects = malloc(HAAR_MAX_RECTS * sizeof *rects);
    fn_face *found = malloc(HAAR_MAX_RECTS * sizeof *found);
    if (!gray || !rects || !found) {
        free(gray);
        free(rects);
        free(found);
        return fn_fail(FN_ERR_NOMEM, "out of memory for Haar detection on a %dx%d image", w, h);
    }
    fn_rgb_to_gray(img->data, w, h, (size_t)w * 3, gray, (size_t)w);
    const uint8_t *scan = gray;
    if (s > 1) {
        box_reduce(gray, w, s, gray + px, gw, gh);
        scan = gray + px;
    }
    fn_haar_params hp = fn_haar_default_params();
    hp.scale_factor = e->opts.haar_scale;
    hp.min_neighbors = e->opts.haar_min_neighbors;
    int win_w, win_h;
    fn_haar_window(e->haar, &win_w, &win_h);
    int min_side = (int)(e->opts.min_face / (float)s);
    hp.min_w = min_side > win_w ? min_side : win_w;
    hp.min_h = min_side > win_h ? min_side : win_h;
    int nr = 0, nf = 0;
    fn_status st = fn_haar_detect(e->haar, scan, gw, gh, gw, &hp, rects, HAAR_MAX_RECTS, &nr);
    if (nr > HAAR_MAX_RECTS) nr = HAAR_MAX_RECTS;
    for (int i = 0; st == FN_OK && i < nr; i++) {
        float box[4] = {(float)(rects[i].x * s), (float)(rects[i].y * s), (float)((rects[i].x + rects[i].w) * s),
                        (float)((rects[i].y + rects[i].h) * s)};
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
