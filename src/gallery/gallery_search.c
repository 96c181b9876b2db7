/* Search through the handle: shared lock, the index's fast path, names. */
#include "gallery/gallery_impl.h"
#include "core/error.h"

#include <string.h>

fn_status fn_gallery_scratch_new(const fn_gallery *g, int max_queries, fn_gallery_scratch **out)
{
    if (!out) return fn_fail(FN_ERR_ARG, "fn_gallery_scratch_new: out is required");
    *out = NULL;
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_scratch_new: no gallery");
    if (max_queries > FN_GINDEX_MAX_QUERIES) max_queries = FN_GINDEX_MAX_QUERIES;   /* larger batches go in chunks */
    return fn_gscratch_new(g->dim, max_queries, out);
}

static void copy_name(char dst[FN_GALLERY_NAME_MAX], const char *src)
{
    size_t n = src ? strnlen(src, FN_GALLERY_NAME_MAX - 1) : 0;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

fn_status fn_gallery_search(fn_gallery *g, fn_gallery_scratch *s, const float *queries, int nq, int k,
                            fn_gallery_match *matches, fn_gallery_hit *topk)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_search: no gallery");
    pthread_rwlock_rdlock(&g->lock);
    fn_status st;
    if (!g->index_ok)
        st = fn_fail(FN_ERR_DB, "%s: the search index could not be reloaded; reopen the gallery", g->path);
    else
        st = fn_gindex_search(&g->index, s, queries, nq, k, matches, topk);
    if (st == FN_OK && matches)
        for (int i = 0; i < nq; i++) {
            copy_name(matches[i].best_name, fn_gallery_person_name(g, matches[i].best.person_id));
            copy_name(matches[i].second_name, fn_gallery_person_name(g, matches[i].second.person_id));
        }
    pthread_rwlock_unlock(&g->lock);
    if (st != FN_OK) st = fn_fail_prefix(st, "%s", g->path);
    return st;
}

fn_status fn_gallery_embeddings(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_embedding *e), void *ctx)
{
    if (!g || !fn) return fn_fail(FN_ERR_ARG, "fn_gallery_embeddings: gallery and callback are required");
    pthread_rwlock_rdlock(&g->lock);
    fn_status st = FN_OK;
    if (!g->index_ok)
        st = fn_fail(FN_ERR_DB, "%s: the search index could not be reloaded; reopen the gallery", g->path);
    for (size_t i = 0; st == FN_OK && i < g->index.n; i++) {
        fn_gallery_embedding e = {g->index.image_id[i], g->index.person_id[i],
                                  fn_gallery_person_name(g, g->index.person_id[i]),
                                  g->index.vec + i * (size_t)g->index.dim, g->index.dim};
        if (fn(ctx, &e)) break;
    }
    pthread_rwlock_unlock(&g->lock);
    return st;
}
