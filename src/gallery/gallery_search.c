/* Search through the handle: shared lock, the index's fast path, names. */
#include "gallery/gallery_impl.h"
#include "core/error.h"

#include <math.h>
#include <stdlib.h>
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
    fn_gallery_pg_poll(g);
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

fn_status fn_gallery_search_people(fn_gallery *g, fn_gallery_scratch *s, const float *queries, int nq, int k,
                                   fn_gallery_hit *people)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_search_people: no gallery");
    fn_gallery_pg_poll(g);
    pthread_rwlock_rdlock(&g->lock);
    fn_status st;
    if (!g->index_ok)
        st = fn_fail(FN_ERR_DB, "%s: the search index could not be reloaded; reopen the gallery", g->path);
    else
        st = fn_gindex_search_people(&g->index, s, queries, nq, k, people);
    pthread_rwlock_unlock(&g->lock);
    if (st != FN_OK) st = fn_fail_prefix(st, "%s", g->path);
    return st;
}

static fn_status name_locked(fn_gallery *g, fn_gallery_scratch *s, const float *emb, int n, float threshold,
                              int flags, fn_gallery_naming *out, fn_gallery_match *m, fn_gallery_hit *cand, int *choice)
{
    FN_TRY(fn_gindex_search(&g->index, s, emb, n, 0, m, NULL));
    int joint = !(flags & FN_GALLERY_ALLOW_REPEATS) && n > 1;
    if (joint) {
        FN_TRY(fn_gindex_search_people(&g->index, s, emb, n, n, cand));
        FN_TRY(fn_assign_candidates(cand, n, n, threshold, choice));
    }
    for (int i = 0; i < n; i++) {
        fn_gallery_naming *o = &out[i];
        memset(o, 0, sizeof *o);
        o->nearest = m[i];
        copy_name(o->nearest.best_name, fn_gallery_person_name(g, m[i].best.person_id));
        copy_name(o->nearest.second_name, fn_gallery_person_name(g, m[i].second.person_id));
        o->named = (fn_gallery_hit){-1, -1, INFINITY};
        if (joint) {
            if (choice[i] >= 0) o->named = cand[(size_t)i * n + choice[i]];
        } else if (m[i].best.person_id >= 0 && m[i].best.distance <= threshold) {
            o->named = m[i].best;
        }
        copy_name(o->name, o->named.person_id >= 0 ? fn_gallery_person_name(g, o->named.person_id) : NULL);
        o->displaced = m[i].best.person_id >= 0 && m[i].best.distance <= threshold &&
                       o->named.person_id != m[i].best.person_id;
    }
    return FN_OK;
}

fn_status fn_gallery_name_faces(fn_gallery *g, fn_gallery_scratch *s, const float *emb, int n, float threshold,
                                int flags, fn_gallery_naming *out)
{
    if (!g || n < 0 || (n && (!emb || !out))) return fn_fail(FN_ERR_ARG, "fn_gallery_name_faces: gallery, embeddings and output are required");
    /* above 2 (the largest distance of unit vectors) every pair is accepted: allowed, it is the caller's rule */
    if (!(threshold >= 0) || !isfinite(threshold))
        return fn_fail(FN_ERR_ARG, "%s: threshold %g is not a distance (>= 0)", g->path, threshold);
    if (n > FN_ASSIGN_MAX_FACES)
        return fn_fail(FN_ERR_LIMIT, "%s: %d faces in one picture; at most %d are named at once", g->path, n,
                       FN_ASSIGN_MAX_FACES);
    if (!n) return FN_OK;
    enum { SMALL = 16 };
    fn_gallery_match m_small[SMALL];
    fn_gallery_hit c_small[SMALL * SMALL];
    int choice[FN_ASSIGN_MAX_FACES];
    fn_gallery_match *m = n <= SMALL ? m_small : malloc((size_t)n * sizeof *m);
    fn_gallery_hit *cand = n <= SMALL ? c_small : malloc((size_t)n * n * sizeof *cand);
    fn_status st = m && cand ? FN_OK : fn_fail(FN_ERR_NOMEM, "%s: out of memory for %d faces", g->path, n);
    if (st == FN_OK) {
        fn_gallery_pg_poll(g);
        pthread_rwlock_rdlock(&g->lock);
        if (!g->index_ok)
            st = fn_fail(FN_ERR_DB, "%s: the search index could not be reloaded; reopen the gallery", g->path);
        else
            st = name_locked(g, s, emb, n, threshold, flags, out, m, cand, choice);
        pthread_rwlock_unlock(&g->lock);
        if (st != FN_OK && !strstr(fn_last_error(), g->path)) st = fn_fail_prefix(st, "%s", g->path);
    }
    if (m != m_small) free(m);
    if (cand != c_small) free(cand);
    return st;
}

/* image id -> the lowest image id of the same face of the same file, for
 * the images whose file is enrolled more than once (few): sorted by id. */
typedef struct face_map { int64_t id, face; } face_map;
typedef struct face_rows { face_map *m; float (*box)[4]; size_t n, cap; } face_rows;

static int cmp_face_map(const void *a, const void *b)
{
    int64_t x = ((const face_map *)a)->id, y = ((const face_map *)b)->id;
    return (x > y) - (x < y);
}

static fn_status face_rows_push(fn_gallery *g, face_rows *f, int64_t id, const float box[4])
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        face_map *m = realloc(f->m, cap * sizeof *m);
        if (m) f->m = m;
        float (*b)[4] = realloc(f->box, cap * sizeof *b);
        if (b) f->box = b;
        if (!m || !b) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
        f->cap = cap;
    }
    f->m[f->n] = (face_map){id, id};
    memcpy(f->box[f->n], box, sizeof f->box[0]);
    f->n++;
    return FN_OK;
}

static fn_status load_faces(fn_gallery *g, face_rows *f)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT " FN_GIMAGE_COLUMNS " FROM images i WHERE i.sha256 IN (SELECT sha256 FROM images"
                             " GROUP BY sha256 HAVING count(*) > 1) ORDER BY i.sha256, i.id", &st));
    fn_status s = FN_OK;
    int rc;
    size_t run = 0;   /* first row of the current hash */
    char hash[65] = "";
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn_gallery_image im;
        if ((s = fn_gimage_row(g, st, &im)) != FN_OK) break;
        if (strcmp(hash, im.hash_hex) != 0) { run = f->n; memcpy(hash, im.hash_hex, 65); }
        if ((s = face_rows_push(g, f, im.id, im.box)) != FN_OK) break;
        for (size_t j = run; j + 1 < f->n; j++)   /* ids ascend: the first overlapping face names the group */
            if (fn_gbox_iou(f->box[j], im.box) >= FN_GALLERY_SAME_FACE_IOU) { f->m[f->n - 1].face = f->m[j].face; break; }
    }
    if (s == FN_OK && rc != SQLITE_DONE) s = fn_gdb_fail(g, "reading images");
    sqlite3_finalize(st);
    if (s == FN_OK && f->n) qsort(f->m, f->n, sizeof *f->m, cmp_face_map);
    return s;
}

static int64_t face_of(const face_rows *f, int64_t image_id)
{
    face_map key = {image_id, 0};
    const face_map *m = f->n ? bsearch(&key, f->m, f->n, sizeof *f->m, cmp_face_map) : NULL;
    return m ? m->face : image_id;
}

fn_status fn_gallery_embeddings(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_embedding *e), void *ctx)
{
    if (!g || !fn) return fn_fail(FN_ERR_ARG, "fn_gallery_embeddings: gallery and callback are required");
    pthread_rwlock_wrlock(&g->lock);   /* reads the file too (file hashes) */
    fn_status st = FN_OK;
    face_rows faces = {0};
    if (!g->index_ok)
        st = fn_fail(FN_ERR_DB, "%s: the search index could not be reloaded; reopen the gallery", g->path);
    if (st == FN_OK) st = load_faces(g, &faces);
    for (size_t i = 0; st == FN_OK && i < g->index.n; i++) {
        fn_gallery_embedding e = {g->index.image_id[i], g->index.person_id[i],
                                  fn_gallery_person_name(g, g->index.person_id[i]),
                                  g->index.vec + i * (size_t)g->index.dim, g->index.dim,
                                  face_of(&faces, g->index.image_id[i])};
        if (fn(ctx, &e)) break;
    }
    free(faces.m);
    free(faces.box);
    pthread_rwlock_unlock(&g->lock);
    return st;
}
