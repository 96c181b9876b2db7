/* Window classification on one pyramid level, reproducing OpenCV 4.6's
 * HaarEvaluator + predictOrdered/predictOrderedStump arithmetic: integer rect
 * sums, float feature values times a float 1/stddev, double stage sums. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "detect/haar_internal.h"

/* OpenCV's CV_SUM_OFS: the four corners of rect (x,y,w,h) in an integral image. */
static void rect_offsets(int x, int y, int w, int h, int stride, int o[4])
{
    o[0] = x + stride * y;
    o[1] = x + w + stride * y;
    o[2] = x + stride * (y + h);
    o[3] = x + w + stride * (y + h);
}

size_t fn_haar_plan_bytes(const fn_haar *h)
{
    return fn_arena_round((size_t)h->nfeatures * sizeof(haar_optfeat)) +
           (h->stumps_only ? fn_arena_round((size_t)h->ntrees * sizeof(haar_fstump)) : 0);
}

void fn_haar_plan_build(const fn_haar *h, int stride, void *mem, haar_plan *pl)
{
    pl->stride = stride;
    rect_offsets(1, 1, h->win_w - 2, h->win_h - 2, stride, pl->nofs);
    pl->norm_area = (double)(h->win_w - 2) * (h->win_h - 2);
    pl->feat = mem;
    for (int i = 0; i < h->nfeatures; i++) {
        const haar_feature *f = &h->features[i];
        for (int k = 0; k < HAAR_MAX_RECTS; k++) {
            rect_offsets(f->x[k], f->y[k], f->w[k], f->h[k], stride, pl->feat[i].ofs[k]);
            pl->feat[i].weight[k] = f->weight[k];
        }
    }
    pl->stumps = NULL;
    if (!h->stumps_only) return;
    pl->stumps = (haar_fstump *)((char *)mem + fn_arena_round((size_t)h->nfeatures * sizeof(haar_optfeat)));
    for (int t = 0; t < h->ntrees; t++) {
        const haar_node *nd = &h->nodes[h->trees[t].node0];
        const float *lv = &h->leaves[h->trees[t].leaf0];
        haar_fstump *s = &pl->stumps[t];
        memcpy(s->ofs, pl->feat[nd->feature].ofs, sizeof s->ofs);
        memcpy(s->weight, pl->feat[nd->feature].weight, sizeof s->weight);
        s->threshold = nd->threshold;
        s->leaf[0] = lv[-nd->left];    /* leaf indices are stored as -index */
        s->leaf[1] = lv[-nd->right];
    }
}

static inline int32_t rect_sum(const uint32_t *p, const int o[4])
{
    /* Wrapping unsigned arithmetic, then the true (small) signed difference. */
    return (int32_t)(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

/* OpenCV's OptFeature::calc: float weights times integer sums, in this order. */
static inline float feature_value(const int ofs[HAAR_MAX_RECTS][4], const float w[HAAR_MAX_RECTS], const uint32_t *p)
{
    float r = w[0] * (float)rect_sum(p, ofs[0]) + w[1] * (float)rect_sum(p, ofs[1]);
    if (w[2] != 0.0f) r += w[2] * (float)rect_sum(p, ofs[2]);
    return r;
}

/* OpenCV's HaarEvaluator::setWindow: 1/stddev*area of the inner rect, and whether
 * the window has enough contrast to classify at all. */
static inline int window_norm(const haar_plan *pl, const uint32_t *ps, const uint32_t *pq, float *vnf)
{
    int32_t s = rect_sum(ps, pl->nofs);
    uint32_t q = pq[pl->nofs[0]] - pq[pl->nofs[1]] - pq[pl->nofs[2]] + pq[pl->nofs[3]];
    double nf = pl->norm_area * (double)q - (double)s * (double)s;
    if (nf > 0.0) {
        *vnf = (float)(1.0 / sqrt(nf));
        return pl->norm_area * (double)*vnf < 1e-1;
    }
    *vnf = 1.0f;
    return 0;
}

static int tree_stages(const fn_haar *h, const haar_plan *pl, const uint32_t *p, float vnf)
{
    for (int s = 0; s < h->nstages; s++) {
        const haar_stage *st = &h->stages[s];
        double sum = 0.0;
        for (int t = st->tree0; t < st->tree0 + st->ntrees; t++) {
            const haar_tree *tr = &h->trees[t];
            int idx = 0;
            do {
                const haar_node *nd = &h->nodes[tr->node0 + idx];
                const haar_optfeat *f = &pl->feat[nd->feature];
                float v = feature_value(f->ofs, f->weight, p) * vnf;
                idx = v < nd->threshold ? nd->left : nd->right;
            } while (idx > 0);
            sum += h->leaves[tr->leaf0 - idx];
        }
        if (sum < st->threshold) return -s;
    }
    return 1;
}

int fn_haar_run_at(const fn_haar *h, const haar_plan *pl, const haar_level *lv, int x, int y)
{
    if (x < 0 || y < 0 || x + h->win_w >= lv->w + 1 || y + h->win_h >= lv->h + 1) return -1;
    size_t base = (size_t)y * lv->stride + x;
    float vnf;
    if (!window_norm(pl, lv->sum + base, lv->sqsum + base, &vnf)) return -1;
    return tree_stages(h, pl, lv->sum + base, vnf);
}

int fn_haar_hits_push(haar_hits *hh, int x, int y)
{
    if (hh->n == hh->cap) {
        int cap = hh->cap ? hh->cap * 2 : 256;
        int *xy = realloc(hh->xy, (size_t)cap * 2 * sizeof(int));
        if (!xy) return -1;
        hh->xy = xy;
        hh->cap = cap;
    }
    hh->xy[2 * hh->n] = x;
    hh->xy[2 * hh->n + 1] = y;
    hh->n++;
    return 0;
}

/* Window x range of a level: origins 0, step, ... while the window fits. */
static int level_cols(const fn_haar *h, const haar_level *lv)
{
    return lv->w >= h->win_w ? lv->w - h->win_w + 1 : 0;
}

fn_status fn_haar_scan_level_ref(const fn_haar *h, const haar_plan *pl, const haar_level *lv, haar_hits *out)
{
    int cols = level_cols(h, lv), rows = lv->h >= h->win_h ? lv->h - h->win_h + 1 : 0;
    for (int y = 0; y < rows; y += lv->ystep)
        for (int x = 0; x < cols; x += lv->ystep) {
            int r = fn_haar_run_at(h, pl, lv, x, y);
            if (r > 0 && fn_haar_hits_push(out, x, y)) return fn_fail(FN_ERR_NOMEM, "haar: no memory for detections");
            if (r == 0) x += lv->ystep;   /* OpenCV skips the next window after a first-stage rejection */
        }
    return FN_OK;
}

size_t fn_haar_scan_work_bytes(int w)
{
    return fn_arena_round((size_t)(w + 1) * sizeof(float));
}

/* feature_value without the branch on the third weight: an unused third
 * rect is empty (sum 0, weight 0) and adding +0 never changes a comparison. */
static inline float feature_value3(const haar_fstump *sp, const uint32_t *p)
{
    float r = sp->weight[0] * (float)rect_sum(p, sp->ofs[0]) + sp->weight[1] * (float)rect_sum(p, sp->ofs[1]);
    return r + sp->weight[2] * (float)rect_sum(p, sp->ofs[2]);
}

/* The stump cascade without data-dependent branches inside a stage: a
 * mispredicted branch per stump costs more than the feature itself. */
int fn_haar_stump_stages_from(const fn_haar *h, const haar_plan *pl, int s0, const uint32_t *p, float vnf)
{
    const haar_fstump *sp = pl->stumps + (s0 < h->nstages ? h->stages[s0].tree0 : 0);
    for (int s = s0; s < h->nstages; s++) {
        const haar_stage *st = &h->stages[s];
        double sum = 0.0;
        for (int t = 0; t < st->ntrees; t++, sp++) {
            float v = feature_value3(sp, p) * vnf;
            sum += sp->leaf[!(v < sp->threshold)];
        }
        if (sum < st->threshold) return -s;
    }
    return 1;
}

/* One row: the normalisation of every window first (a tight loop the compiler
 * can keep in registers), then the cascade for windows in OpenCV's visiting
 * order.  flat windows get vnf = 0 and are skipped without the x jump. */
static int scan_row(const fn_haar *h, const haar_plan *pl, const haar_level *lv, int y, int cols,
                    float *vnf, haar_hits *out)
{
    const int step = lv->ystep;
    const uint32_t *ps = lv->sum + (size_t)y * lv->stride, *pq = lv->sqsum + (size_t)y * lv->stride;
    int n = 0;
    for (int x = 0; x < cols; x += step, n++) {
        float v;
        vnf[n] = window_norm(pl, ps + x, pq + x, &v) ? v : 0.0f;
    }
    for (int k = 0; k < n; k++) {
        if (vnf[k] == 0.0f) continue;
        int r = fn_haar_stump_stages_from(h, pl, 0, ps + k * step, vnf[k]);
        if (r > 0 && fn_haar_hits_push(out, k * step, y)) return -1;
        if (r == 0) k++;
    }
    return 0;
}

fn_status fn_haar_scan_level_fast(const fn_haar *h, const haar_plan *pl, const haar_level *lv,
                               haar_hits *out, void *work)
{
    if (!h->stumps_only || !pl->stumps) return fn_haar_scan_level_ref(h, pl, lv, out);
    int cols = level_cols(h, lv), rows = lv->h >= h->win_h ? lv->h - h->win_h + 1 : 0;
    int n = (cols + lv->ystep - 1) / lv->ystep;   /* windows per row */
    for (int y = 0; y < rows; y += lv->ystep) {
        int r = fn_haar_scan_row_simd(h->kernel, h, pl, lv, y, n, out);
        if (r == 1) r = scan_row(h, pl, lv, y, cols, work, out);
        if (r) return fn_fail(FN_ERR_NOMEM, "haar: no memory for detections");
    }
    return FN_OK;
}
