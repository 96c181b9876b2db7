/* detectMultiScale: the scale list, OpenCV's bit-exact linear resize of the
 * gray image to every level, integral images, the window scan (levels in
 * parallel), grouping and clipping.  Scratch comes from a per-handle pool. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.h"
#include "detect/haar_internal.h"

#define HAAR_MAX_SIDE   16384
#define HAAR_MAX_SCALES 4096
#define GROUP_EPS       0.2     /* OpenCV's GROUP_EPS in detectMultiScale */
#define HAAR_SMALL_IMAGE (320 * 240)   /* pixels below which one thread scans */

fn_haar_params fn_haar_default_params(void)
{
    fn_haar_params p = {1.1, 3, 0, 0, 0, 0};
    return p;
}

/* ---- OpenCV resize(INTER_LINEAR_EXACT), one 8-bit channel. */

/* interpolationLinear::getCoeffs for one axis: source index and the 8-bit
 * fixed-point weight of the right neighbour; [lo, hi) are the destination
 * positions that interpolate, the rest copy the first/last source pixel. */
static void axis_coeffs(int ssize, int dsize, int *ofs, uint16_t *c1, int *lo, int *hi)
{
    double scale = 1.0 / ((double)dsize / ssize);   /* OpenCV inverts inv_scale = dsize/ssize */
    *lo = 0;
    *hi = dsize;
    for (int d = 0; d < dsize; d++) {
        double f = scale * ((double)d + 0.5) - 0.5;
        int i = (int)floor(f);
        ofs[d] = 0;
        c1[d] = 0;
        if (i >= 0 && ssize > 1) {
            if (i < ssize - 1) {
                ofs[d] = i;
                c1[d] = (uint16_t)lrint((f - i) * 256.0);
            } else {
                ofs[d] = ssize - 1;
                if (d < *hi) *hi = d;
            }
        } else if (d + 1 > *lo) {
            *lo = d + 1;
        }
    }
}

static void hline(const uint8_t *s, int dw, const int *xofs, const uint16_t *c1, int lo, int hi, uint16_t *out)
{
    int d = 0;
    for (; d < lo && d < dw; d++) out[d] = (uint16_t)(s[0] << 8);
    for (; d < hi; d++) {
        const uint8_t *p = s + xofs[d];
        out[d] = (uint16_t)((256 - c1[d]) * p[0] + c1[d] * p[1]);
    }
    uint16_t last = (uint16_t)(s[xofs[dw - 1]] << 8);
    for (; d < dw; d++) out[d] = last;
}

void fn_haar_resize_linear_exact(const uint8_t *src, int sw, int sh, int sstride,
                              uint8_t *dst, int dw, int dh, int dstride,
                              int *xofs, uint16_t *xcoef, uint16_t *line0, uint16_t *line1)
{
    fn_haar_resize_rows(src, sw, sh, sstride, dst, dw, dh, 0, dh, dstride, xofs, xcoef, line0, line1);
}

void fn_haar_resize_rows(const uint8_t *src, int sw, int sh, int sstride,
                      uint8_t *dst, int dw, int dh, int dy0, int dy1, int dstride,
                      int *xofs, uint16_t *xcoef, uint16_t *line0, uint16_t *line1)
{
    int xlo, xhi;
    axis_coeffs(sw, dw, xofs, xcoef, &xlo, &xhi);
    int row0 = -1, row1 = -1;   /* source rows currently held in line0 / line1 */
    double scale = 1.0 / ((double)dh / sh);
    for (int dy = dy0; dy < dy1; dy++) {
        double f = scale * ((double)dy + 0.5) - 0.5;
        int iy = (int)floor(f);
        uint8_t *d = dst + (size_t)(dy - dy0) * dstride;
        if (iy < 0 || sh == 1 || iy >= sh - 1) {
            int r = (iy < 0 || sh == 1) ? 0 : sh - 1;
            if (row0 != r) { hline(src + (size_t)r * sstride, dw, xofs, xcoef, xlo, xhi, line0); row0 = r; }
            for (int x = 0; x < dw; x++) d[x] = (uint8_t)((line0[x] + 128) >> 8);
            continue;
        }
        uint32_t c1 = (uint32_t)lrint((f - iy) * 256.0), c0 = 256 - c1;
        if (row0 != iy) {
            if (row1 == iy) { uint16_t *t = line0; line0 = line1; line1 = t; row0 = iy; row1 = -1; }
            else { hline(src + (size_t)iy * sstride, dw, xofs, xcoef, xlo, xhi, line0); row0 = iy; }
        }
        if (row1 != iy + 1) { hline(src + (size_t)(iy + 1) * sstride, dw, xofs, xcoef, xlo, xhi, line1); row1 = iy + 1; }
        for (int x = 0; x < dw; x++) d[x] = (uint8_t)((line0[x] * c0 + line1[x] * c1 + 32768u) >> 16);
    }
}

void fn_haar_integral(const uint8_t *img, int w, int h, int istride, uint32_t *sum, uint32_t *sqsum, int stride)
{
    memset(sum, 0, (size_t)(w + 1) * sizeof *sum);
    memset(sqsum, 0, (size_t)(w + 1) * sizeof *sqsum);
    for (int y = 0; y < h; y++) {
        const uint8_t *p = img + (size_t)y * istride;
        const uint32_t *s0 = sum + (size_t)y * stride, *q0 = sqsum + (size_t)y * stride;
        uint32_t *s1 = sum + (size_t)(y + 1) * stride, *q1 = sqsum + (size_t)(y + 1) * stride;
        uint32_t rs = 0, rq = 0;
        s1[0] = q1[0] = 0;
        for (int x = 0; x < w; x++) {
            rs += p[x];
            rq += (uint32_t)p[x] * p[x];
            s1[x + 1] = s0[x + 1] + rs;
            q1[x + 1] = q0[x + 1] + rq;
        }
    }
}

/* ---- Scratch: everything a call needs, sized for an image size and thread
 * count, kept in the handle's pool between calls. */

typedef struct haar_thread_buf {
    uint8_t *level;
    uint32_t *sum, *sqsum;
    int *xofs;
    uint16_t *xcoef, *line0, *line1;
    void *scan_work;
    haar_hits hits;
} haar_thread_buf;

typedef struct haar_scale { float scale; int w, h, win_w, win_h; } haar_scale;
/* A band of one level: window origins y0 <= y < y1 (level pixels).  Big
 * levels are cut into bands so both threads share them; a band resizes and
 * integrates only its own rows (window sums are differences, so an integral
 * started at the band's top row gives the same sums). */
typedef struct haar_task { int level, y0, y1, thread, first, count; } haar_task;

struct haar_scratch {
    haar_scratch *next;
    int w, h, nthreads;          /* what the buffers are sized for */
    void *plan_mem;
    haar_plan plan;
    haar_thread_buf *tb;
    haar_scale *scales;
    haar_task *tasks; int tasks_cap;
    fn_rect *rects; int rects_cap;
    void *group_work; size_t group_cap;
};

static void thread_buf_free(haar_thread_buf *b)
{
    fn_aligned_free(b->level); fn_aligned_free(b->sum); fn_aligned_free(b->sqsum);
    fn_aligned_free(b->xofs); fn_aligned_free(b->xcoef); fn_aligned_free(b->line0);
    fn_aligned_free(b->line1); fn_aligned_free(b->scan_work);
    free(b->hits.xy);
    memset(b, 0, sizeof *b);
}

static void scratch_free(haar_scratch *s)
{
    if (!s) return;
    for (int t = 0; t < s->nthreads; t++) thread_buf_free(&s->tb[t]);
    free(s->tb);
    fn_aligned_free(s->plan_mem);
    free(s->scales);
    free(s->tasks);
    free(s->rects);
    fn_aligned_free(s->group_work);
    free(s);
}

static fn_status thread_buf_alloc(haar_thread_buf *b, int w, int h)
{
    size_t ipix = (size_t)(w + 1) * (h + 1);
    b->level = fn_aligned_alloc((size_t)w * h);
    b->sum = fn_aligned_alloc(ipix * sizeof(uint32_t));
    b->sqsum = fn_aligned_alloc(ipix * sizeof(uint32_t));
    b->xofs = fn_aligned_alloc((size_t)w * sizeof(int));
    b->xcoef = fn_aligned_alloc((size_t)w * sizeof(uint16_t));
    b->line0 = fn_aligned_alloc((size_t)w * sizeof(uint16_t));
    b->line1 = fn_aligned_alloc((size_t)w * sizeof(uint16_t));
    b->scan_work = fn_aligned_alloc(fn_haar_scan_work_bytes(w));
    if (!b->level || !b->sum || !b->sqsum || !b->xofs || !b->xcoef || !b->line0 || !b->line1 || !b->scan_work)
        return fn_fail(FN_ERR_NOMEM, "haar: no memory for a %dx%d pyramid level", w, h);
    return FN_OK;
}

/* (Re)sizes s for a w x h image and nthreads; allocates only when it grows. */
static fn_status scratch_fit(const fn_haar *h, haar_scratch *s, int w, int hgt, int nthreads)
{
    if (s->w >= w && s->h >= hgt && s->nthreads >= nthreads && s->plan_mem) {
        if (s->plan.stride != w + 1) fn_haar_plan_build(h, w + 1, s->plan_mem, &s->plan);
        return FN_OK;
    }
    for (int t = 0; t < s->nthreads; t++) thread_buf_free(&s->tb[t]);
    free(s->tb);
    free(s->scales);
    s->tb = NULL; s->scales = NULL; s->nthreads = 0; s->w = s->h = 0;
    int nw = w > s->w ? w : s->w, nh = hgt > s->h ? hgt : s->h;
    s->tb = calloc((size_t)nthreads, sizeof *s->tb);
    s->scales = malloc(HAAR_MAX_SCALES * sizeof *s->scales);
    if (!s->tb || !s->scales) return fn_fail(FN_ERR_NOMEM, "haar: no memory for scratch");
    s->nthreads = nthreads;
    for (int t = 0; t < nthreads; t++) FN_TRY(thread_buf_alloc(&s->tb[t], nw, nh));
    if (!s->plan_mem) {
        s->plan_mem = fn_aligned_alloc(fn_haar_plan_bytes(h));
        if (!s->plan_mem) return fn_fail(FN_ERR_NOMEM, "haar: no memory for feature offsets");
    }
    s->w = nw; s->h = nh;
    fn_haar_plan_build(h, w + 1, s->plan_mem, &s->plan);
    return FN_OK;
}

static haar_scratch *pool_take(fn_haar *h)
{
    pthread_mutex_lock(&h->pool_lock);
    haar_scratch *s = h->pool;
    if (s) h->pool = s->next;
    pthread_mutex_unlock(&h->pool_lock);
    return s ? s : calloc(1, sizeof *s);
}

static void pool_give(fn_haar *h, haar_scratch *s)
{
    pthread_mutex_lock(&h->pool_lock);
    s->next = h->pool;
    h->pool = s;
    pthread_mutex_unlock(&h->pool_lock);
}

void fn_haar_free(fn_haar *h)
{
    if (!h) return;
    while (h->pool) { haar_scratch *s = h->pool; h->pool = s->next; scratch_free(s); }
    pthread_mutex_destroy(&h->pool_lock);
    fn_arena_release(&h->arena);
    free(h);
}

/* ---- Detection. */

/* OpenCV's scale list: factor = scale_factor^k (in double) while the rounded
 * window fits the image and max size; windows under min size are skipped.
 * Levels keep the factor as float, as OpenCV does. */
static int list_scales(const fn_haar *h, int w, int hgt, const fn_haar_params *p, haar_scale *sc)
{
    int maxw = p->max_w > 0 ? p->max_w : w, maxh = p->max_h > 0 ? p->max_h : hgt;
    int n = 0;
    for (double factor = 1.0; n < HAAR_MAX_SCALES; factor *= p->scale_factor) {
        int ww = (int)lrint(h->win_w * factor), wh = (int)lrint(h->win_h * factor);
        if (ww > w || wh > hgt || ww > maxw || wh > maxh) break;
        if (ww < p->min_w || wh < p->min_h) continue;
        float f = (float)factor;
        haar_scale *s = &sc[n++];
        s->scale = f;
        s->w = (int)lrintf((float)w / f);
        s->h = (int)lrintf((float)hgt / f);
        s->win_w = (int)lrintf((float)h->win_w * f);
        s->win_h = (int)lrintf((float)h->win_h * f);
    }
    return n;
}

static fn_status scan_task(const fn_haar *h, haar_scratch *s, haar_task *tk, const uint8_t *gray, int w, int hgt,
                           int stride, int tid, int use_ref)
{
    const haar_scale *sc = &s->scales[tk->level];
    haar_thread_buf *b = &s->tb[tid];
    int rows = sc->h - tk->y0 < tk->y1 - tk->y0 + h->win_h - 1 ? sc->h - tk->y0 : tk->y1 - tk->y0 + h->win_h - 1;
    fn_haar_resize_rows(gray, w, hgt, stride, b->level, sc->w, sc->h, tk->y0, tk->y0 + rows, sc->w,
                     b->xofs, b->xcoef, b->line0, b->line1);
    fn_haar_integral(b->level, sc->w, rows, sc->w, b->sum, b->sqsum, s->plan.stride);
    haar_level lv = {b->sum, b->sqsum, s->plan.stride, sc->w, rows, sc->scale >= 2.0f ? 1 : 2, sc->scale};
    tk->thread = tid;
    tk->first = b->hits.n;
    fn_status st = use_ref ? fn_haar_scan_level_ref(h, &s->plan, &lv, &b->hits)
                           : fn_haar_scan_level_fast(h, &s->plan, &lv, &b->hits, b->scan_work);
    tk->count = b->hits.n - tk->first;
    return st;
}

/* Window-origin rows per band: a multiple of both steps. */
#define BAND_ROWS 48

/* Cuts every level into bands; -1 when out of memory. */
static int plan_tasks(const fn_haar *h, haar_scratch *s, int nscales)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        n = 0;
        for (int i = 0; i < nscales; i++) {
            int origins = s->scales[i].h - h->win_h + 1;
            for (int y0 = 0; y0 < origins; y0 += BAND_ROWS, n++) {
                if (pass == 0) continue;
                haar_task *tk = &s->tasks[n];
                tk->level = i;
                tk->y0 = y0;
                tk->y1 = y0 + BAND_ROWS < origins ? y0 + BAND_ROWS : origins;
                tk->count = 0;
            }
        }
        if (pass == 0 && n > s->tasks_cap) {
            haar_task *t = realloc(s->tasks, (size_t)n * sizeof *t);
            if (!t) return -1;
            s->tasks = t;
            s->tasks_cap = n;
        }
    }
    return n;
}

/* Raw candidate windows of every level in image pixels, level by level. */
static fn_status collect(haar_scratch *s, int ntasks, int *ncand)
{
    int total = 0;
    for (int i = 0; i < ntasks; i++) total += s->tasks[i].count;
    if (total > s->rects_cap) {
        fn_rect *r = realloc(s->rects, (size_t)total * sizeof *r);
        if (!r) return fn_fail(FN_ERR_NOMEM, "haar: no memory for %d candidates", total);
        s->rects = r;
        s->rects_cap = total;
    }
    int n = 0;
    for (int i = 0; i < ntasks; i++) {
        const haar_task *tk = &s->tasks[i];
        if (tk->count == 0) continue;   /* hits.xy may still be NULL: no offset on it */
        const haar_scale *sc = &s->scales[tk->level];
        const int *xy = s->tb[tk->thread].hits.xy + 2 * tk->first;
        for (int k = 0; k < tk->count; k++, n++) {
            s->rects[n].x = (int)lrintf((float)xy[2 * k] * sc->scale);
            s->rects[n].y = (int)lrintf((float)(xy[2 * k + 1] + tk->y0) * sc->scale);
            s->rects[n].w = sc->win_w;
            s->rects[n].h = sc->win_h;
        }
    }
    *ncand = n;
    size_t need = fn_haar_group_work_bytes(n);
    if (need > s->group_cap) {
        fn_aligned_free(s->group_work);
        s->group_work = fn_aligned_alloc(need);
        if (!s->group_work) { s->group_cap = 0; return fn_fail(FN_ERR_NOMEM, "haar: no memory for grouping"); }
        s->group_cap = need;
    }
    return FN_OK;
}

/* CascadeClassifier::detectMultiScale clips every result to the image. */
static int clip_rects(fn_rect *r, int n, int w, int hgt)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int x0 = r[i].x > 0 ? r[i].x : 0, y0 = r[i].y > 0 ? r[i].y : 0;
        int x1 = r[i].x + r[i].w < w ? r[i].x + r[i].w : w, y1 = r[i].y + r[i].h < hgt ? r[i].y + r[i].h : hgt;
        if (x1 - x0 <= 0 || y1 - y0 <= 0) continue;
        r[k].x = x0; r[k].y = y0; r[k].w = x1 - x0; r[k].h = y1 - y0;
        k++;
    }
    return k;
}

static fn_status check_args(const fn_haar *h, const uint8_t *gray, int w, int hgt, int stride,
                            const fn_haar_params *p, const fn_rect *out, int max, const int *n)
{
    if (!h || !gray || !n || (max > 0 && !out) || max < 0) return fn_fail(FN_ERR_ARG, "fn_haar_detect: NULL argument or negative max");
    if (w <= 0 || hgt <= 0 || stride < w) return fn_fail(FN_ERR_ARG, "fn_haar_detect: bad image size %dx%d (stride %d)", w, hgt, stride);
    if (w > HAAR_MAX_SIDE || hgt > HAAR_MAX_SIDE)
        return fn_fail(FN_ERR_LIMIT, "fn_haar_detect: %dx%d is larger than %d pixels a side", w, hgt, HAAR_MAX_SIDE);
    if (!(p->scale_factor > 1.0 && p->scale_factor <= 100.0))
        return fn_fail(FN_ERR_ARG, "fn_haar_detect: scale_factor %g must be in (1, 100]", p->scale_factor);
    if (p->min_neighbors < 0 || p->min_w < 0 || p->min_h < 0 || p->max_w < 0 || p->max_h < 0)
        return fn_fail(FN_ERR_ARG, "fn_haar_detect: negative min_neighbors or size limit");
    return FN_OK;
}

fn_status fn_haar_detect_impl(fn_haar *h, const uint8_t *gray, int w, int hgt, int stride,
                           const fn_haar_params *pp, fn_rect *out, int max, int *n, int use_ref)
{
    fn_haar_params p = pp ? *pp : fn_haar_default_params();
    FN_TRY(check_args(h, gray, w, hgt, stride, &p, out, max, n));
    *n = 0;
    int nthreads = 1;
#ifdef _OPENMP
    nthreads = omp_get_max_threads();
#endif
    /* A small image (a tracked face's neighbourhood, a halved copy) is a
     * few bands: waking a second thread for them costs more than it saves,
     * most of all on busy cores.  The bands' results do not depend on the
     * thread that scanned them. */
    if ((size_t)w * hgt < HAAR_SMALL_IMAGE) nthreads = 1;
    haar_scratch *s = pool_take(h);
    if (!s) return fn_fail(FN_ERR_NOMEM, "haar: no memory for scratch");
    fn_status st = scratch_fit(h, s, w, hgt, nthreads);
    if (st != FN_OK) { scratch_free(s); return st; }
    int nscales = list_scales(h, w, hgt, &p, s->scales);
    for (int t = 0; t < s->nthreads; t++) s->tb[t].hits.n = 0;
    int ntasks = plan_tasks(h, s, nscales);
    int failed = ntasks < 0;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) reduction(| : failed)
    for (int i = 0; i < ntasks; i++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        if (scan_task(h, s, &s->tasks[i], gray, w, hgt, stride, tid, use_ref) != FN_OK) failed = 1;
    }
    int ncand = 0;
    if (failed) st = fn_fail(FN_ERR_NOMEM, "haar: no memory for detections");
    if (st == FN_OK) st = collect(s, ntasks, &ncand);
    if (st == FN_OK) {
        int k = fn_haar_group_rects(s->rects, ncand, p.min_neighbors, GROUP_EPS, s->group_work);
        k = clip_rects(s->rects, k, w, hgt);
        if (k > 0 && max > 0) memcpy(out, s->rects, (size_t)(k < max ? k : max) * sizeof *out);
        *n = k;
    }
    pool_give(h, s);
    return st;
}

fn_status fn_haar_detect(fn_haar *h, const uint8_t *gray, int w, int hgt, int stride,
                         const fn_haar_params *p, fn_rect *out, int max, int *n)
{
    return fn_haar_detect_impl(h, gray, w, hgt, stride, p, out, max, n, 0);
}

fn_status fn_haar_group(fn_rect *r, int n, int min_neighbors, int *kept)
{
    *kept = n;
    if (min_neighbors <= 0 || n <= 0) return FN_OK;
    void *work = fn_aligned_alloc(fn_haar_group_work_bytes(n));
    if (!work) return fn_fail(FN_ERR_NOMEM, "haar: no memory to group %d windows", n);
    *kept = fn_haar_group_rects(r, n, min_neighbors, GROUP_EPS, work);
    fn_aligned_free(work);
    return FN_OK;
}
