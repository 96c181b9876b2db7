/* The gallery's ANN index: when it is built, read, reconciled and saved
 * (ann.h does the work; this file holds the policy for a handle).
 *
 * The sidecar "<gallery>.ann" is a cache, never the truth: it records each
 * image id with a hash of its embedding, and on open the gallery's rows are
 * reconciled with it (ids added since are added, removed ones dropped, a
 * changed vector or too many removals rebuild it).  So a sidecar left stale
 * by another process, an older facenet or a restored backup costs time,
 * never a wrong answer; and every candidate is re-scored exactly from the
 * rows anyway. */
#include "gallery/gallery_impl.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

static void build_now(fn_gallery *g)
{
    fn_gann_params p = g->ann_params;
    if (fn_gindex_ann_build(&g->index, &p) == FN_OK && g->index.ann && !g->readonly && !g->in_tx && g->ann_path)
        fn_gann_save(g->index.ann, g->ann_path);   /* a failed save only costs the next open a build */
}

void fn_gallery_ann_sync(fn_gallery *g)
{
    fn_gindex *x = &g->index;
    int big = g->ann_params.min_rows >= 0 && (int64_t)x->n >= g->ann_params.min_rows && x->n > 0 && !x->unsorted;
    if (!big) {   /* small again (or ANN off): the exact scan; the sidecar stays for when it grows */
        fn_gann_free(x->ann);
        x->ann = NULL;
        return;
    }
    if (!x->ann && !g->ann_tried_file && g->ann_path) {
        g->ann_tried_file = 1;
        fn_gann *a = NULL;
        if (fn_gann_load(g->ann_path, x->dim, &g->ann_params, &a) == FN_OK) x->ann = a;
    }
    if (!x->ann) { build_now(g); return; }
    int rebuild = 0;
    if (fn_gann_reconcile(x->ann, x, &rebuild) != FN_OK || rebuild) build_now(g);
}

void fn_gallery_ann_close(fn_gallery *g)
{
    if (g->readonly || g->in_tx || !g->ann_path) return;
    fn_gindex *x = &g->index;
    int big = g->ann_params.min_rows >= 0 && (int64_t)x->n >= g->ann_params.min_rows && x->n > 0 && !x->unsorted;
    if (!x->ann && big) { build_now(g); return; }   /* grew past the threshold while enrolling */
    if (x->ann && x->ann->dirty) {
        int rebuild = 0;
        /* removals left dead ids: drop them (IVF) before saving */
        if (x->ann->dead && (fn_gann_reconcile(x->ann, x, &rebuild) != FN_OK || rebuild)) { build_now(g); return; }
        fn_gann_save(x->ann, g->ann_path);
    }
}

fn_status fn_gallery_set_ann(fn_gallery *g, int64_t min_rows)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_set_ann: no gallery");
    pthread_rwlock_wrlock(&g->lock);
    g->ann_params.min_rows = min_rows == 0 ? fn_gann_default_params().min_rows : min_rows;
    fn_status s = FN_OK;
    if (!g->index_ok) s = fn_fail(FN_ERR_DB, "%s: the search index could not be reloaded; reopen the gallery", g->path);
    else fn_gallery_ann_sync(g);
    pthread_rwlock_unlock(&g->lock);
    return s;
}

fn_status fn_gallery_get_ann(fn_gallery *g, fn_gallery_ann_info *info)
{
    if (!g || !info) return fn_fail(FN_ERR_ARG, "fn_gallery_get_ann: gallery and result are required");
    memset(info, 0, sizeof *info);
    pthread_rwlock_rdlock(&g->lock);
    info->active = fn_gindex_uses_ann(&g->index);
    info->min_rows = g->ann_params.min_rows;
    info->rows = (int64_t)g->index.n;
    snprintf(info->kind, sizeof info->kind, "%s", g->index.ann ? fn_gann_kind_name(g->index.ann->params.kind) : "exact");
    info->ann_bytes = (int64_t)fn_gann_bytes(g->index.ann);
    info->exact_bytes = (int64_t)(g->index.cap * ((size_t)g->index.dim * sizeof(float) + 2 * sizeof(int64_t)));
    pthread_rwlock_unlock(&g->lock);
    return FN_OK;
}
