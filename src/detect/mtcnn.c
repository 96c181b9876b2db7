/* MTCNN as facenet-pytorch's detect_face runs it: pyramid -> P-Net proposals
 * (per-scale NMS 0.5, then NMS 0.7) -> regression, squaring -> R-Net on 24x24
 * crops (NMS 0.7) -> O-Net on 48x48 crops -> landmarks, regression, 'Min'
 * NMS 0.7.  Pyramid rows are resampled on demand inside P-Net's row stream,
 * so even a 12000x8000 image never has a float copy of a whole scale. */
#include "detect/mtcnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/arena.h"
#include "core/error.h"
#include "detect/mtcnn_boxes.h"
#include "detect/mtcnn_resample.h"
#include "models/mtcnn_nets.h"

#define MAX_SIDE 65536
#define MAX_PIXELS ((size_t)1 << 30)
#define MAX_SCALES 256
#define MAX_SCALE_PIXELS ((double)(1 << 28))
#define BAND_ROWS 32   /* P-Net output rows per work item: small enough to share out */
/* NMS is quadratic: past this many P-Net proposals in one scale, or after
 * the per-scale NMS, only the most probable are kept, so that no image can
 * make detection hang.  Real photos stay far below (a 1080p frame: ~550 in
 * its largest scale, ~1000 in all); the reference has no such cap. */
#define MAX_PROPOSALS 10000

/* A scratch buffer that only grows (contents are not kept across growth). */
typedef struct mt_buf { void *p; size_t cap; } mt_buf;

/* One thread's P-Net candidates, appended by the row sink. */
typedef struct mt_cands { mt_box *b; size_t n, cap; int failed; } mt_cands;

typedef struct mt_scale {
    double scale;
    int hs, ws, oh, ow;
    int *ylo, *yhi, *xlo, *xhi;
} mt_scale;

typedef struct mt_item { int scale, r0, r1, thread; size_t start, count; } mt_item;

struct fn_mtcnn {
    fn_arena arena;           /* the packed weights; unused (empty) in a clone */
    const fn_mtcnn *parent;   /* a clone reads the nets packed in its parent's arena */
    fn_pnet pnet;
    fn_rnet rnet;
    fn_onet onet;
    int nthreads;
    mt_cands *cands;          /* nthreads */
    mt_buf scales, windows, items, thread_scratch, boxes[2], ints, heads;
    mt_buf padded;            /* the edge retry's bordered copy of the image */
};

fn_mtcnn_params fn_mtcnn_params_default(void)
{
    fn_mtcnn_params p = {20.0, {0.6, 0.7, 0.7}, 0.709, 0.0};
    return p;
}

static fn_status buf_need(mt_buf *b, size_t bytes)
{
    if (bytes <= b->cap) return FN_OK;
    fn_aligned_free(b->p);
    b->cap = 0;
    b->p = fn_aligned_alloc(bytes + bytes / 4);   /* headroom: fewer regrowths */
    if (!b->p) return fn_fail(FN_ERR_NOMEM, "mtcnn: out of memory (%zu bytes of scratch)", bytes);
    b->cap = bytes + bytes / 4;
    return FN_OK;
}

fn_status fn_mtcnn_new(const fn_weights *pnet, const fn_weights *rnet, const fn_weights *onet,
                       fn_mtcnn **out)
{
    *out = NULL;
    if (!pnet || !rnet || !onet) return fn_fail(FN_ERR_ARG, "mtcnn: P-, R- and O-Net weights are all needed");
    fn_mtcnn *m = calloc(1, sizeof *m);
    if (!m) return fn_fail(FN_ERR_NOMEM, "mtcnn: out of memory");
    fn_status st = fn_arena_init(&m->arena, fn_pnet_packed_bytes() + fn_rnet_packed_bytes() + fn_onet_packed_bytes());
    if (st == FN_OK) st = fn_pnet_pack(&m->pnet, pnet, &m->arena);
    if (st == FN_OK) st = fn_rnet_pack(&m->rnet, rnet, &m->arena);
    if (st == FN_OK) st = fn_onet_pack(&m->onet, onet, &m->arena);
    if (st != FN_OK) {
        fn_fail_prefix(st, "mtcnn");
        fn_mtcnn_free(m);
        return st;
    }
    *out = m;
    return FN_OK;
}

fn_status fn_mtcnn_clone(const fn_mtcnn *src, fn_mtcnn **out)
{
    *out = NULL;
    fn_mtcnn *m = calloc(1, sizeof *m);
    if (!m) return fn_fail(FN_ERR_NOMEM, "mtcnn: out of memory for a detector clone");
    m->parent = src->parent ? src->parent : src;
    m->pnet = src->pnet;   /* the packed layers point into the parent's arena, read-only */
    m->rnet = src->rnet;
    m->onet = src->onet;
    *out = m;
    return FN_OK;
}

static void free_cands(fn_mtcnn *m)
{
    for (int t = 0; m->cands && t < m->nthreads; t++) free(m->cands[t].b);
    free(m->cands);
    m->cands = NULL;
    m->nthreads = 0;
}

void fn_mtcnn_free(fn_mtcnn *m)
{
    if (!m) return;
    if (!m->parent) fn_arena_release(&m->arena);
    free_cands(m);
    mt_buf *bufs[] = {&m->scales, &m->windows, &m->items, &m->thread_scratch, &m->boxes[0],
                      &m->boxes[1], &m->ints, &m->heads, &m->padded};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) fn_aligned_free(bufs[i]->p);
    free(m);
}

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static fn_status ensure_threads(fn_mtcnn *m, int nthreads)
{
    if (m->nthreads >= nthreads) return FN_OK;
    free_cands(m);
    m->cands = calloc((size_t)nthreads, sizeof *m->cands);
    if (!m->cands) return fn_fail(FN_ERR_NOMEM, "mtcnn: out of memory");
    m->nthreads = nthreads;
    return FN_OK;
}

static fn_status check_image(const uint8_t *rgb, int w, int h, size_t stride)
{
    if (!rgb || w <= 0 || h <= 0 || stride < (size_t)w * 3)
        return fn_fail(FN_ERR_ARG, "mtcnn: image %dx%d with stride %zu is not a valid RGB8 image", w, h, stride);
    if (w > MAX_SIDE || h > MAX_SIDE || (size_t)w * h > MAX_PIXELS)
        return fn_fail(FN_ERR_LIMIT, "mtcnn: image %dx%d is larger than the %d px / %zu Mpx limit",
                       w, h, MAX_SIDE, MAX_PIXELS >> 20);
    return FN_OK;
}

/* ---- stage 1: pyramid and P-Net ---- */

/* The reference's pyramid: scales m*factor^i while min(h,w)*m*factor^i >= 12,
 * in Python floats; each scale resamples to int(h*s+1) x int(w*s+1). */
static fn_status plan_scales(fn_mtcnn *m, int w, int h, const fn_mtcnn_params *p, int *nscales)
{
    if (!(p->min_face > 0) || !(p->factor > 0 && p->factor < 1))
        return fn_fail(FN_ERR_ARG, "mtcnn: min_face %g must be > 0 and factor %g in (0, 1)", p->min_face, p->factor);
    double s = 12.0 / p->min_face, minl = (w < h ? w : h) * s;
    if ((double)h * s * (double)w * s > MAX_SCALE_PIXELS)
        return fn_fail(FN_ERR_LIMIT, "mtcnn: min_face %g on a %dx%d image needs a pyramid over the size limit",
                       p->min_face, w, h);
    int n = 0;
    size_t nwin = 0;
    FN_TRY(buf_need(&m->scales, MAX_SCALES * sizeof(mt_scale)));
    mt_scale *sc = m->scales.p;
    for (; minl >= 12; s *= p->factor, minl *= p->factor) {
        if (n == MAX_SCALES)
            return fn_fail(FN_ERR_LIMIT, "mtcnn: factor %g gives more than %d pyramid scales", p->factor, MAX_SCALES);
        mt_scale *c = &sc[n++];
        c->scale = s;
        c->hs = (int)(h * s + 1);
        c->ws = (int)(w * s + 1);
        c->oh = fn_pnet_out_dim(c->hs);
        c->ow = fn_pnet_out_dim(c->ws);
        nwin += 2 * ((size_t)c->hs + c->ws);
    }
    FN_TRY(buf_need(&m->windows, nwin * sizeof(int)));
    int *wp = m->windows.p;
    for (int i = 0; i < n; i++) {
        mt_scale *c = &sc[i];
        c->ylo = wp; c->yhi = wp + c->hs; wp += 2 * c->hs;
        c->xlo = wp; c->xhi = wp + c->ws; wp += 2 * c->ws;
        fn_mt_area_windows(h, c->hs, c->ylo, c->yhi);
        fn_mt_area_windows(w, c->ws, c->xlo, c->xhi);
    }
    *nscales = n;
    return FN_OK;
}

/* Resampling scratch for one thread: rows up to w wide, crops up to 48. */
static size_t area_scratch_bytes(int w)
{
    return fn_arena_round(fn_mt_area_scratch(w, w > 48 ? w : 48) * sizeof(uint32_t));
}

typedef struct src_ctx { const mt_rgb *img; const mt_scale *sc; uint32_t *colsum; } src_ctx;

static void pyramid_row(void *ctx, int y, float *row)
{
    const src_ctx *s = ctx;
    fn_mt_area_row(s->img, 0, s->sc->ylo[y], s->sc->yhi[y], s->sc->xlo, s->sc->xhi, s->sc->ws, s->colsum, row);
}

typedef struct sink_ctx { mt_cands *out; float scale, thr; } sink_ctx;

static int cands_push(mt_cands *c, const mt_box *b)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        mt_box *nb = realloc(c->b, cap * sizeof *nb);
        if (!nb) { c->failed = 1; return 0; }
        c->b = nb;
        c->cap = cap;
    }
    c->b[c->n++] = *b;
    return 1;
}

/* generateBoundingBox: cell (x, y) covers [floor((2x+1)/s), floor((2x+12)/s)]
 * in float32, as the reference divides a float tensor by the scale. */
static void proposal_row(void *ctx, int y, const float *head, int ow)
{
    sink_ctx *s = ctx;
    for (int x = 0; x < ow; x++) {
        const float *h = head + (size_t)x * FN_MTCNN_HEAD;
        if (!(h[1] >= s->thr)) continue;
        mt_box b;
        memset(&b, 0, sizeof b);
        b.x1 = floorf((float)(2 * x + 1) / s->scale);
        b.y1 = floorf((float)(2 * y + 1) / s->scale);
        b.x2 = floorf((float)(2 * x + 12) / s->scale);
        b.y2 = floorf((float)(2 * y + 12) / s->scale);
        b.score = h[1];
        memcpy(b.reg, h + 2, sizeof b.reg);
        if (!cands_push(s->out, &b)) return;
    }
}

static fn_status run_pnet(fn_mtcnn *m, const mt_rgb *img, const mt_scale *sc, int nscales, float thr,
                          int nthreads, int *nitems_out)
{
    int nitems = 0;
    for (int i = 0; i < nscales; i++) nitems += (sc[i].oh + BAND_ROWS - 1) / BAND_ROWS;
    FN_TRY(buf_need(&m->items, (size_t)nitems * sizeof(mt_item)));
    mt_item *items = m->items.p;
    for (int i = 0, k = 0; i < nscales; i++)
        for (int r = 0; r < sc[i].oh; r += BAND_ROWS)
            items[k++] = (mt_item){i, r, r + BAND_ROWS < sc[i].oh ? r + BAND_ROWS : sc[i].oh, 0, 0, 0};
    size_t per_thread = fn_arena_round(fn_pnet_scratch_floats(sc[0].ws) * sizeof(float)) +
                        area_scratch_bytes(img->w);
    FN_TRY(buf_need(&m->thread_scratch, per_thread * nthreads));
    for (int t = 0; t < nthreads; t++) { m->cands[t].n = 0; m->cands[t].failed = 0; }

    /* No more threads than items: a woken thread with nothing to do still
     * holds the region's end until it has run, a time slice on busy cores. */
    int team = nitems < nthreads ? (nitems > 0 ? nitems : 1) : nthreads;
#pragma omp parallel for num_threads(team) schedule(dynamic, 1)
    for (int k = 0; k < nitems; k++) {
        int t = thread_num();
        unsigned char *mem = (unsigned char *)m->thread_scratch.p + per_thread * t;
        uint32_t *colsum = (uint32_t *)(mem + per_thread - area_scratch_bytes(img->w));
        const mt_scale *s = &sc[items[k].scale];
        src_ctx src = {img, s, colsum};
        sink_ctx sink = {&m->cands[t], (float)s->scale, thr};
        items[k].thread = t;
        items[k].start = m->cands[t].n;
        fn_pnet_band(&m->pnet, s->hs, s->ws, items[k].r0, items[k].r1, pyramid_row, &src, proposal_row, &sink,
                     (float *)mem);
        items[k].count = m->cands[t].n - items[k].start;
    }
    for (int t = 0; t < nthreads; t++)
        if (m->cands[t].failed) return fn_fail(FN_ERR_NOMEM, "mtcnn: out of memory collecting P-Net proposals");
    *nitems_out = nitems;
    return FN_OK;
}

/* Gather each scale's proposals in row-major order (the reference's
 * nonzero() order), NMS 0.5 within the scale, then NMS 0.7 over all. */
static fn_status merge_proposals(fn_mtcnn *m, int nscales, int nitems, int *nout)
{
    const mt_item *items = m->items.p;
    size_t total = 0, max_scale = 0;
    for (int s = 0, k = 0; s < nscales; s++) {
        size_t n = 0;
        for (; k < nitems && items[k].scale == s; k++) n += items[k].count;
        total += n;
        if (n > max_scale) max_scale = n;
    }
    if (total > (size_t)1 << 26) return fn_fail(FN_ERR_LIMIT, "mtcnn: %zu P-Net proposals is too many", total);
    FN_TRY(buf_need(&m->boxes[0], (max_scale + 1) * sizeof(mt_box)));
    FN_TRY(buf_need(&m->boxes[1], (total + 1) * sizeof(mt_box)));
    FN_TRY(buf_need(&m->ints, (4 * total + 4) * sizeof(int)));
    mt_box *scale_boxes = m->boxes[0].p, *all = m->boxes[1].p;
    int *keep = m->ints.p, *order = keep + total + 1;
    int nall = 0;
    for (int s = 0, k = 0; s < nscales; s++) {
        int n = 0;
        for (; k < nitems && items[k].scale == s; k++) {
            if (items[k].count == 0) continue;   /* its thread may have no buffer yet */
            memcpy(scale_boxes + n, m->cands[items[k].thread].b + items[k].start, items[k].count * sizeof(mt_box));
            n += (int)items[k].count;
        }
        n = fn_mt_keep_top(scale_boxes, n, MAX_PROPOSALS, order);
        int kept = fn_mt_nms_union(scale_boxes, n, 0.5, keep, order);
        for (int i = 0; i < kept; i++) all[nall++] = scale_boxes[keep[i]];
    }
    nall = fn_mt_keep_top(all, nall, MAX_PROPOSALS, order);
    int kept = fn_mt_nms_union(all, nall, 0.7, keep, order);
    FN_TRY(buf_need(&m->boxes[0], ((size_t)kept + 1) * sizeof(mt_box)));
    mt_box *out = m->boxes[0].p;
    for (int i = 0; i < kept; i++) {
        out[i] = all[keep[i]];
        fn_mt_regress_pnet(&out[i]);
        fn_mt_square(&out[i]);
    }
    *nout = kept;
    return FN_OK;
}

/* ---- stages 2 and 3: crops, R-Net, O-Net ---- */

/* Area-resample the crop window to size x size normalised floats. */
static void resample_crop(const mt_rgb *img, int x0, int y0, int x1, int y1, int size, uint32_t *colsum, float *out)
{
    int ylo[48], yhi[48], xlo[48], xhi[48];
    fn_mt_area_windows(y1 - y0, size, ylo, yhi);
    fn_mt_area_windows(x1 - x0, size, xlo, xhi);
    for (int i = 0; i < size; i++)
        fn_mt_area_row(img, x0, y0 + ylo[i], y0 + yhi[i], xlo, xhi, size, colsum, out + (size_t)i * size * 3);
}

/* R-Net or O-Net as one stage: its crop size and chunk forward pass. */
typedef struct mt_stage {
    int size;
    size_t chunk_floats;
    void (*forward)(const fn_mtcnn *m, const float *crops, int n, float *out, float *work);
} mt_stage;

static void rnet_chunk(const fn_mtcnn *m, const float *crops, int n, float *out, float *work)
{
    fn_rnet_forward_chunk(&m->rnet, crops, n, out, work);
}

static void onet_chunk(const fn_mtcnn *m, const float *crops, int n, float *out, float *work)
{
    fn_onet_forward_chunk(&m->onet, crops, n, out, work);
}

/* Crop every box with a non-empty window (the others are dropped; the
 * reference would fail on them) and run the stage's network on the crops:
 * each thread resamples and runs whole chunks, one parallel region. */
static fn_status run_stage(fn_mtcnn *m, const mt_rgb *img, mt_box *b, int *n, const mt_stage *st,
                           int nthreads, float **heads_out)
{
    int kept = 0;
    FN_TRY(buf_need(&m->ints, ((size_t)*n * 4 + 4) * sizeof(int)));
    int *win = m->ints.p;
    for (int i = 0; i < *n; i++) {
        int *wk = win + 4 * kept;
        if (!fn_mt_crop_window(&b[i], img->w, img->h, &wk[0], &wk[1], &wk[2], &wk[3])) continue;
        b[kept++] = b[i];
    }
    *n = kept;
    size_t crop_floats = (size_t)st->size * st->size * 3;
    size_t area_bytes = area_scratch_bytes(img->w);
    size_t per_thread = fn_arena_round(FN_MTCNN_CHUNK * crop_floats * sizeof(float)) +
                        fn_arena_round(st->chunk_floats * sizeof(float)) + area_bytes;
    FN_TRY(buf_need(&m->thread_scratch, per_thread * nthreads));
    FN_TRY(buf_need(&m->heads, ((size_t)kept * FN_MTCNN_HEAD + 16) * sizeof(float)));
    float *heads = m->heads.p;
    int nchunks = (kept + FN_MTCNN_CHUNK - 1) / FN_MTCNN_CHUNK;
    /* One chunk (up to 16 faces, the usual R-/O-Net call of a tracked
     * frame) runs on the calling thread alone: see the P-Net loop. */
    int team = nchunks < nthreads ? (nchunks > 0 ? nchunks : 1) : nthreads;
#pragma omp parallel for num_threads(team) schedule(dynamic, 1)
    for (int k = 0; k < nchunks; k++) {
        unsigned char *mem = (unsigned char *)m->thread_scratch.p + per_thread * thread_num();
        float *crops = (float *)mem;
        float *work = (float *)(mem + fn_arena_round(FN_MTCNN_CHUNK * crop_floats * sizeof(float)));
        uint32_t *area = (uint32_t *)(mem + per_thread - area_bytes);
        int i0 = k * FN_MTCNN_CHUNK, cn = kept - i0 < FN_MTCNN_CHUNK ? kept - i0 : FN_MTCNN_CHUNK;
        for (int i = 0; i < cn; i++) {
            const int *wk = win + 4 * (i0 + i);
            resample_crop(img, wk[0], wk[1], wk[2], wk[3], st->size, area, crops + (size_t)i * crop_floats);
        }
        st->forward(m, crops, cn, heads + (size_t)i0 * FN_MTCNN_HEAD, work);
    }
    *heads_out = heads;
    return FN_OK;
}

/* Landmarks relative to the (squared, unregressed) box, as the reference:
 * x = (x2 - x1 + 1) * p + x1 - 1. */
static void place_landmarks(mt_box *b, const float *pts)
{
    float w = b->x2 - b->x1 + 1, h = b->y2 - b->y1 + 1;
    for (int i = 0; i < 5; i++) {
        b->pts[i] = w * pts[i] + b->x1 - 1;
        b->pts[5 + i] = h * pts[5 + i] + b->y1 - 1;
    }
}

/* Keep the boxes whose stage probability passes thr, in order, with the
 * stage's score and regression; O-Net's also get landmarks (placed on the
 * unregressed box, as the reference) and are regressed here. */
static int keep_passing(mt_box *b, const float *heads, int n, float thr, int onet)
{
    int pass = 0;
    for (int i = 0; i < n; i++) {
        const float *h = heads + (size_t)i * FN_MTCNN_HEAD;
        if (!(h[1] > thr)) continue;
        mt_box c = b[i];
        c.score = h[1];
        memcpy(c.reg, h + 2, sizeof c.reg);
        if (onet) {
            place_landmarks(&c, h + 6);
            fn_mt_regress(&c);
        }
        b[pass++] = c;
    }
    return pass;
}

/* Room for NMS over n boxes: the output boxes and its keep/order lists. */
static fn_status reserve_nms(fn_mtcnn *m, int n, int **keep, int **order)
{
    FN_TRY(buf_need(&m->boxes[1], ((size_t)n + 1) * sizeof(mt_box)));
    FN_TRY(buf_need(&m->ints, ((size_t)n * 4 + 4) * sizeof(int)));
    *keep = m->ints.p;
    *order = *keep + n + 1;
    return FN_OK;
}

static fn_status run_rnet(fn_mtcnn *m, const mt_rgb *img, float thr, int nthreads, int *n)
{
    mt_stage st = {24, fn_rnet_chunk_floats(), rnet_chunk};
    mt_box *b = m->boxes[0].p;
    float *heads;
    FN_TRY(run_stage(m, img, b, n, &st, nthreads, &heads));
    int pass = keep_passing(b, heads, *n, thr, 0), *keep, *order;
    FN_TRY(reserve_nms(m, pass, &keep, &order));
    int kept = fn_mt_nms_union(b, pass, 0.7, keep, order);
    mt_box *out = m->boxes[1].p;
    for (int i = 0; i < kept; i++) {
        out[i] = b[keep[i]];
        fn_mt_regress(&out[i]);
        fn_mt_square(&out[i]);
    }
    /* back into boxes[0] for the next stage */
    if (kept > 0) memcpy(b, out, (size_t)kept * sizeof(mt_box));
    *n = kept;
    return FN_OK;
}

static fn_status run_onet(fn_mtcnn *m, const mt_rgb *img, float thr, int nthreads, int *n)
{
    mt_stage st = {48, fn_onet_chunk_floats(), onet_chunk};
    mt_box *b = m->boxes[0].p;
    float *heads;
    FN_TRY(run_stage(m, img, b, n, &st, nthreads, &heads));
    int pass = keep_passing(b, heads, *n, thr, 1), *keep, *order;
    FN_TRY(reserve_nms(m, pass, &keep, &order));
    int kept = fn_mt_nms_min(b, pass, 0.7f, keep, order);
    mt_box *out = m->boxes[1].p;
    for (int i = 0; i < kept; i++) out[i] = b[keep[i]];
    *n = kept;
    return FN_OK;
}

static void to_face(const mt_box *b, fn_face *f)
{
    f->box[0] = b->x1; f->box[1] = b->y1; f->box[2] = b->x2; f->box[3] = b->y2;
    f->prob = b->score;
    for (int i = 0; i < 5; i++) { f->landmarks[i][0] = b->pts[i]; f->landmarks[i][1] = b->pts[5 + i]; }
}

/* One pass of the reference's detect_face. */
static fn_status detect_once(fn_mtcnn *m, const uint8_t *rgb, int width, int height, size_t stride,
                             const fn_mtcnn_params *p, fn_face *faces, int max_faces, int *nfaces)
{
    mt_rgb img = {rgb, width, height, stride};
    int nthreads = max_threads(), nscales = 0, nitems = 0, n = 0;
    FN_TRY(ensure_threads(m, nthreads));
    FN_TRY(plan_scales(m, width, height, p, &nscales));
    if (nscales == 0) return FN_OK;
    FN_TRY(run_pnet(m, &img, m->scales.p, nscales, (float)p->thresholds[0], nthreads, &nitems));
    FN_TRY(merge_proposals(m, nscales, nitems, &n));
    if (n > 0) FN_TRY(run_rnet(m, &img, (float)p->thresholds[1], nthreads, &n));
    if (n > 0) FN_TRY(run_onet(m, &img, (float)p->thresholds[2], nthreads, &n));
    const mt_box *out = m->boxes[1].p;
    for (int i = 0; i < n && i < max_faces; i++) to_face(&out[i], &faces[i]);
    *nfaces = n;
    return FN_OK;
}

/* The image with pad pixels of mid-gray (127) added on every side.  Gray was
 * measured against replicating the edge pixels outwards on 30 cut Film faces
 * (close-ups, faces 25-45 % off the left or top): gray found 30 with the
 * bundle's weights, replication 26 (tests/test_edge_faces.c prints it). */
#define EDGE_FILL 127
static void pad_gray(const uint8_t *rgb, int w, int h, size_t stride, int pad, uint8_t *dst)
{
    size_t prow = (size_t)(w + 2 * pad) * 3;
    memset(dst, EDGE_FILL, prow * (size_t)pad);
    for (int y = 0; y < h; y++) {
        uint8_t *d = dst + (size_t)(pad + y) * prow;
        memset(d, EDGE_FILL, (size_t)pad * 3);
        memcpy(d + (size_t)pad * 3, rgb + (size_t)y * stride, (size_t)w * 3);
        memset(d + (size_t)(pad + w) * 3, EDGE_FILL, (size_t)pad * 3);
    }
    memset(dst + (size_t)(pad + h) * prow, EDGE_FILL, prow * (size_t)pad);
}

/* Share of a box's area that lies inside the w x h image. */
static double inside_share(const fn_face *f, int w, int h)
{
    double bw = f->box[2] - f->box[0], bh = f->box[3] - f->box[1];
    if (bw <= 0 || bh <= 0) return 0.0;
    double iw = fmin(f->box[2], w) - fmax(f->box[0], 0), ih = fmin(f->box[3], h) - fmax(f->box[1], 0);
    return iw > 0 && ih > 0 ? iw * ih / (bw * bh) : 0.0;
}

/* The edge retry: detect in the padded image, move the faces back into the
 * original's coordinates, drop those that are mostly border. */
static fn_status detect_padded(fn_mtcnn *m, const uint8_t *rgb, int width, int height, size_t stride,
                               const fn_mtcnn_params *p, fn_face *faces, int max_faces, int *nfaces)
{
    int pad = (int)lround(p->edge_pad * (width < height ? width : height));
    if (pad < 1) return FN_OK;
    int pw = width + 2 * pad, ph = height + 2 * pad;
    double s = 12.0 / p->min_face;   /* plan_scales' first scale: its pyramid must fit too */
    if (pw > MAX_SIDE || ph > MAX_SIDE || (size_t)pw * (size_t)ph > MAX_PIXELS ||
        (double)pw * s * (double)ph * s > MAX_SCALE_PIXELS)
        return FN_OK;   /* no room to pad: the first pass stands (a 20000x20000 photo without a face failed
                         * naming the padded 30000x30000 instead of finding none) */
    FN_TRY(buf_need(&m->padded, (size_t)pw * ph * 3));
    pad_gray(rgb, width, height, stride, pad, m->padded.p);
    int n = 0;
    FN_TRY(detect_once(m, m->padded.p, pw, ph, (size_t)pw * 3, p, faces, max_faces, &n));
    int kept = 0;
    for (int i = 0; i < n && i < max_faces; i++) {
        fn_face f = faces[i];
        for (int k = 0; k < 4; k++) f.box[k] -= (float)pad;
        for (int k = 0; k < 5; k++) f.landmarks[k][0] -= (float)pad, f.landmarks[k][1] -= (float)pad;
        if (inside_share(&f, width, height) >= 0.25) faces[kept++] = f;
    }
    /* Faces beyond max_faces were not seen: counted as found, unchecked. */
    *nfaces = kept + (n > max_faces ? n - max_faces : 0);
    return FN_OK;
}

fn_status fn_mtcnn_detect_rgb(fn_mtcnn *m, const uint8_t *rgb, int width, int height, size_t stride,
                              const fn_mtcnn_params *p, fn_face *faces, int max_faces, int *nfaces)
{
    if (!m || !nfaces || max_faces < 0 || (max_faces > 0 && !faces))
        return fn_fail(FN_ERR_ARG, "mtcnn: detect needs a handle, a face count and room for max_faces faces");
    *nfaces = 0;
    FN_TRY(check_image(rgb, width, height, stride));
    fn_mtcnn_params def = fn_mtcnn_params_default();
    if (!p) p = &def;
    if (!(p->edge_pad >= 0.0 && p->edge_pad <= 4.0))
        return fn_fail(FN_ERR_ARG, "mtcnn: edge pad %g is outside 0..4 (a fraction of the short side)", p->edge_pad);
    FN_TRY(detect_once(m, rgb, width, height, stride, p, faces, max_faces, nfaces));
    if (*nfaces == 0 && p->edge_pad > 0.0) FN_TRY(detect_padded(m, rgb, width, height, stride, p, faces, max_faces, nfaces));
    return FN_OK;
}

fn_status fn_mtcnn_refine_rgb(fn_mtcnn *m, const uint8_t *rgb, int width, int height, size_t stride,
                              const float box[4], fn_face *face)
{
    if (!m || !box || !face) return fn_fail(FN_ERR_ARG, "mtcnn: refine needs a handle, a box and a face");
    FN_TRY(check_image(rgb, width, height, stride));
    mt_rgb img = {rgb, width, height, stride};
    FN_TRY(ensure_threads(m, 1));
    FN_TRY(buf_need(&m->boxes[0], sizeof(mt_box)));
    mt_box *b = m->boxes[0].p;
    memset(b, 0, sizeof *b);
    b->x1 = box[0]; b->y1 = box[1]; b->x2 = box[2]; b->y2 = box[3];
    fn_mt_square(b);
    int n = 1;
    mt_stage st = {48, fn_onet_chunk_floats(), onet_chunk};
    float *h;
    FN_TRY(run_stage(m, &img, b, &n, &st, 1, &h));
    if (n == 0)
        return fn_fail(FN_ERR_ARG, "mtcnn: box (%g, %g, %g, %g) does not overlap the %dx%d image",
                       box[0], box[1], box[2], box[3], width, height);
    b->score = h[1];
    memcpy(b->reg, h + 2, sizeof b->reg);
    place_landmarks(b, h + 6);
    fn_mt_regress(b);
    to_face(b, face);
    return FN_OK;
}

static fn_status check_rgb(const fn_image *img)
{
    if (!img || img->c != 3) return fn_fail(FN_ERR_ARG, "mtcnn: faces can only be found in RGB images");
    return FN_OK;
}

fn_status fn_mtcnn_detect(fn_mtcnn *m, const fn_image *img, const fn_mtcnn_params *p,
                          fn_face *faces, int max_faces, int *nfaces)
{
    if (nfaces) *nfaces = 0;
    FN_TRY(check_rgb(img));
    return fn_mtcnn_detect_rgb(m, img->data, img->w, img->h, (size_t)img->w * 3, p, faces, max_faces, nfaces);
}

fn_status fn_mtcnn_refine(fn_mtcnn *m, const fn_image *img, const float box[4], fn_face *face)
{
    FN_TRY(check_rgb(img));
    return fn_mtcnn_refine_rgb(m, img->data, img->w, img->h, (size_t)img->w * 3, box, face);
}

int fn_face_landmarks_inside(const fn_face *face, int w, int h)
{
    if (!face) return 0;
    for (int i = 0; i < 5; i++) {
        float x = face->landmarks[i][0], y = face->landmarks[i][1];
        if (!(x >= 0.0f && y >= 0.0f && x < (float)w && y < (float)h)) return 0;
    }
    return 1;
}

int fn_mtcnn_pick(const fn_face *faces, int n, int width, int height, fn_face_pick how)
{
    int best = -1;
    double best_key = 0;
    for (int i = 0; i < n; i++) {
        const float *b = faces[i].box;
        double area = ((double)b[2] - b[0]) * ((double)b[3] - b[1]), key;
        if (how == FN_PICK_PROBABILITY) key = faces[i].prob;
        else if (how == FN_PICK_LARGEST) key = area;
        else {
            double dx = (b[0] + (double)b[2]) / 2 - width / 2.0, dy = (b[1] + (double)b[3]) / 2 - height / 2.0;
            key = area - (dx * dx + dy * dy) * 2.0;
        }
        /* >=: among equals the later one, as numpy's argsort(...)[::-1][0] */
        if (best < 0 || key >= best_key) { best = i; best_key = key; }
    }
    return best;
}
