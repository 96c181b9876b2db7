/* embedder.c — one embedding per image file for the evaluations (see
 * include/facenet/eval.h): detect, choose, align, embed, through the cache. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "align/align.h"
#include "core/error.h"
#include "facenet/batch.h"
#include "facenet/eval.h"
#include "image/image.h"

/* mkdir -p for the directories above path's last component. */
static void make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
}

static fn_status open_cache(fn_embedder *x, const char *cache_path)
{
    char path[4096];
    if (strlen(cache_path) >= sizeof path) return fn_fail(FN_ERR_ARG, "embedding cache path is too long: %.64s...", cache_path);
    snprintf(path, sizeof path, "%s", cache_path);
    make_parents(path);
    return fn_cache_open(path, &x->cache);
}

/* Everything that changes which face is chosen or what its embedding is:
 * weights and preprocessing, detector settings, selection, flip. */
static void make_keys(fn_embedder *x, const fn_options *o)
{
    fn_engine *e = x->e;
    snprintf(x->key_plain, sizeof x->key_plain, "%s|%s|sel=%s|mtcnn=%s,%g,%g,%g,%g,%g", fn_engine_model_id(e),
             fn_engine_preprocess_id(e), fn_select_name(x->select), o->mtcnn_dir ? o->mtcnn_dir : "bundle",
             o->min_face, o->thresholds[0], o->thresholds[1], o->thresholds[2], o->factor);
    if (o->detector == FN_DETECTOR_HAAR) {   /* MTCNN keys stay as they were: existing caches still hit */
        size_t n = strlen(x->key_plain);
        snprintf(x->key_plain + n, sizeof x->key_plain - n, "|haar=%s,%g,%d,%d,%d", o->cascade ? o->cascade : "default",
                 o->haar_scale, o->haar_min_neighbors, o->haar_reduce, o->haar_refined_box);
    }
    snprintf(x->key_flip, sizeof x->key_flip, "%s|flip", x->key_plain);
}

fn_status fn_embedder_init(fn_embedder *x, fn_engine *e, const fn_options *o, fn_select select, int flip,
                           fn_miss_policy miss, const char *cache_path)
{
    memset(x, 0, sizeof *x);
    x->e = e;
    x->select = select;
    x->flip = flip;
    x->miss = miss;
    x->dim = fn_engine_dim(e);
    if (x->dim <= 0 || x->dim > FN_CACHE_MAX_DIM) return fn_fail(FN_ERR_ARG, "the engine has no embedding model");
    make_keys(x, o);
    return cache_path ? open_cache(x, cache_path) : FN_OK;
}

/* A stand-in face when the detector finds none: the central box of
 * FN_MISS_BOX_FRACTION of the shorter side, with ArcFace's template
 * landmarks scaled into it (the template spans roughly a detector box). */
static fn_face center_face(int w, int h)
{
    fn_face f;
    memset(&f, 0, sizeof f);
    float side = FN_MISS_BOX_FRACTION * (float)(w < h ? w : h);
    float x0 = 0.5f * ((float)w - side), y0 = 0.5f * ((float)h - side);
    f.box[0] = x0;
    f.box[1] = y0;
    f.box[2] = x0 + side;
    f.box[3] = y0 + side;
    for (int i = 0; i < 5; i++) {
        f.landmarks[i][0] = x0 + (float)(fn_arcface_template_112[i][0] / 112.0) * side;
        f.landmarks[i][1] = y0 + (float)(fn_arcface_template_112[i][1] / 112.0) * side;
    }
    return f;
}

/* Align face, embed it and (with flip) its mirror image: emb gets the plain
 * embedding, emb_flip the normalised sum of both (FaceNet's flip trick). */
static fn_status embed_face(fn_embedder *x, const fn_image *img, const fn_face *face, float *emb,
                            float *emb_flip)
{
    float *both = malloc(sizeof(float) * 2 * (size_t)x->dim);
    if (!both) return fn_fail(FN_ERR_NOMEM, "out of memory for embeddings");
    fn_status s = fn_align_face(x->e, img, face, &x->crops[0]);
    int n = 1;
    if (s == FN_OK && x->flip) {
        s = fn_image_alloc(&x->crops[1], x->crops[0].w, x->crops[0].h, 3);
        if (s == FN_OK) {
            memcpy(x->crops[1].data, x->crops[0].data, (size_t)x->crops[0].w * x->crops[0].h * 3);
            fn_image_flip_h(&x->crops[1]);
            n = 2;
        }
    }
    if (s == FN_OK) s = fn_embed_aligned(x->e, x->crops, n, both);
    if (s == FN_OK) {
        memcpy(emb, both, sizeof(float) * (size_t)x->dim);
        if (n == 2) {
            for (int i = 0; i < x->dim; i++) emb_flip[i] = both[i] + both[x->dim + i];
            fn_l2_normalize(emb_flip, 1, x->dim);
        }
    }
    fn_image_free(&x->crops[0]);
    fn_image_free(&x->crops[1]);
    free(both);
    return s;
}

static int cached(fn_embedder *x, const char *hash, fn_embed_result *r, float *emb, float *emb_flip)
{
    if (!x->cache) return 0;
    fn_cache_entry ce, cf;
    if (fn_cache_get(x->cache, hash, x->key_plain, &ce, emb, x->dim) != FN_OK) return 0;
    if (ce.has_face && ce.dim != x->dim) return 0;
    if (x->flip && ce.has_face && fn_cache_get(x->cache, hash, x->key_flip, &cf, emb_flip, x->dim) != FN_OK)
        return 0;
    memset(r, 0, sizeof *r);
    r->has_face = r->has_emb = ce.has_face;
    memcpy(r->face.box, ce.box, sizeof ce.box);
    r->face.prob = ce.prob;
    return 1;
}

static fn_status store(fn_embedder *x, const char *hash, const fn_embed_result *r, const float *emb,
                       const float *emb_flip)
{
    if (!x->cache) return FN_OK;
    fn_cache_entry ce;
    memset(&ce, 0, sizeof ce);
    ce.has_face = r->has_face;
    if (r->has_face) {
        memcpy(ce.box, r->face.box, sizeof ce.box);
        ce.prob = r->face.prob;
        ce.dim = x->dim;
    }
    fn_status s = fn_cache_put(x->cache, hash, x->key_plain, &ce, r->has_face ? emb : NULL);
    if (s == FN_OK && x->flip && r->has_face) s = fn_cache_put(x->cache, hash, x->key_flip, &ce, emb_flip);
    if (s != FN_OK && !x->store_errors++) snprintf(x->store_error, sizeof x->store_error, "%s", fn_last_error());
    return FN_OK;   /* the embedding stands: a cache that cannot keep it (locked, full disk) only costs time */
}

#define MAX_FACES ((int)(sizeof ((fn_embedder *)0)->faces / sizeof ((fn_embedder *)0)->faces[0]))

/* Choose one of n faces found in a w x h image into r (cleared first);
 * returns its index, or -1 (r->has_face 0) when there is none. */
static int choose(const fn_embedder *x, const fn_face *faces, int n, int w, int h, fn_embed_result *r)
{
    if (n > MAX_FACES) n = MAX_FACES;
    int k = fn_select_face(faces, n, x->select, w, h);
    memset(r, 0, sizeof *r);
    if (k >= 0) {
        r->face = faces[k];
        r->has_face = 1;
    }
    return k;
}

/* Detect and choose a face; r->has_face says whether there was one. */
static fn_status detect_one(fn_embedder *x, const fn_image *img, fn_embed_result *r)
{
    int n = 0;
    FN_TRY(fn_detect(x->e, img, x->faces, MAX_FACES, &n));
    choose(x, x->faces, n, img->w, img->h, r);
    return FN_OK;
}

/* The end of both paths: the centre crop when no face was found and the
 * fallback is wanted (not cached: the cache records what the detector
 * saw), then whether r has an embedding. */
static fn_status fallback(fn_embedder *x, const fn_image *img, fn_embed_result *r, float *emb, float *emb_flip)
{
    fn_status s = FN_OK;
    if (!r->has_face && x->miss == FN_MISS_CENTER_CROP) {
        r->face = center_face(img->w, img->h);
        s = embed_face(x, img, &r->face, emb, emb_flip);
    }
    if (s == FN_OK) r->has_emb = r->has_face || x->miss == FN_MISS_CENTER_CROP;
    return s;
}

fn_status fn_embedder_run(fn_embedder *x, const char *path, fn_embed_result *r, float *emb, float *emb_flip)
{
    char hash[65];
    FN_TRY(fn_hash_file(path, hash));
    int hit = cached(x, hash, r, emb, emb_flip);
    memcpy(r->hash, hash, sizeof hash);
    if (hit && (r->has_face || x->miss == FN_MISS_SKIP)) {
        x->hits++;
        return FN_OK;
    }
    fn_image img = {0};
    FN_TRY(fn_image_load(path, NULL, &img));
    fn_status s = FN_OK;
    if (!hit) {
        s = detect_one(x, &img, r);
        memcpy(r->hash, hash, sizeof hash);
        if (s == FN_OK && r->has_face) s = embed_face(x, &img, &r->face, emb, emb_flip);
        if (s == FN_OK) s = store(x, hash, r, emb, emb_flip);
        x->computed++;
    } else {
        x->hits++;
    }
    if (s == FN_OK) s = fallback(x, &img, r, emb, emb_flip);
    fn_image_free(&img);
    return s == FN_OK ? s : fn_fail_prefix(s, "%s", path);
}

fn_status fn_embedder_close(fn_embedder *x)
{
    fn_status s = fn_cache_close(x->cache);
    x->cache = NULL;
    return s;
}

/* ---- many files on the bulk executor ------------------------------------ */

/* The result of one file the executor decoded and detected: choose the face
 * as detect_one does, take its embedding from the batch (or embed it and its
 * mirror with flip), the fallback when there is none, then the cache. */
static fn_status finish(fn_embedder *x, const fn_batch_result *b, const char *hash, fn_embed_result *r, float *emb,
                        float *emb_flip)
{
    const fn_faces *f = b->faces;
    int k = choose(x, f->faces, f->n, f->img.w, f->img.h, r);
    memcpy(r->hash, hash, sizeof r->hash);
    fn_status s = FN_OK;
    if (k >= 0) {
        if (x->flip || k >= b->n_embedded) s = embed_face(x, &f->img, &r->face, emb, emb_flip);
        else memcpy(emb, f->emb + (size_t)k * x->dim, sizeof(float) * (size_t)x->dim);
    }
    if (s == FN_OK) s = store(x, r->hash, r, emb, emb_flip);
    x->computed++;
    if (s == FN_OK) s = fallback(x, &f->img, r, emb, emb_flip);
    return s == FN_OK ? s : fn_fail_prefix(s, "%s", b->path);
}

/* Hash and look up one file on the calling thread: 1 when the cache holds
 * all fn_embedder_run would compute (r, emb, emb_flip set), 2 when it holds
 * "no face" and the fallback is wanted (fn_embedder_run embeds the centre
 * crop without detecting again), 0 to compute, -1 when the file cannot be
 * read (the error is set). */
static int lookup(fn_embedder *x, const char *path, fn_embed_result *r, float *emb, float *emb_flip)
{
    char hash[65];
    if (fn_hash_file(path, hash) != FN_OK) return -1;
    int hit = cached(x, hash, r, emb, emb_flip);
    memcpy(r->hash, hash, sizeof hash);
    if (!hit) return 0;
    return r->has_face || x->miss == FN_MISS_SKIP ? 1 : 2;
}

fn_status fn_embedder_run_many(fn_embedder *x, const char *const *paths, int n, fn_embedder_each each, void *user)
{
    size_t d = (size_t)x->dim;
    float *emb = malloc(sizeof(float) * 2 * d);
    if (!emb) return fn_fail(FN_ERR_NOMEM, "out of memory for embeddings");
    float *emb_flip = emb + d;
    fn_status s = FN_OK;
    if (x->workers == 1 || n < 2) {   /* the reference: one file at a time */
        for (int i = 0; s == FN_OK && i < n; i++) {
            fn_embed_result r;
            fn_status st = fn_embedder_run(x, paths[i], &r, emb, emb_flip);
            s = each(user, i, st, &r, emb, emb_flip);
        }
        free(emb);
        return s;
    }
    /* Pass 1: which files the cache answers (hashing is fast next to
     * detection).  state: lookup's answer. */
    signed char *state = malloc((size_t)n);
    const char **miss = malloc(sizeof *miss * (size_t)n);
    char (*hashes)[65] = malloc(sizeof *hashes * (size_t)n);
    int n_miss = 0, next = 0;
    if (!state || !miss || !hashes) s = fn_fail(FN_ERR_NOMEM, "out of memory for %d files", n);
    for (int i = 0; s == FN_OK && i < n; i++) {
        fn_embed_result r;
        state[i] = (signed char)lookup(x, paths[i], &r, emb, emb_flip);
        if (state[i] == 0) {
            memcpy(hashes[n_miss], r.hash, sizeof hashes[0]);
            miss[n_miss++] = paths[i];
        }
    }
    fn_batch *b = NULL;
    if (s == FN_OK && n_miss) {
        fn_batch_params bp;
        fn_batch_params_init(&bp);
        bp.workers = x->workers > 1 ? x->workers : 0;
        bp.keep_image = 1;   /* the chosen face is aligned and embedded here, with its flip or fallback */
        bp.embed = 0;        /* embedding every face found cost more than it saved (LFW: 1-3 faces a photo) */
        s = fn_batch_new_paths(x->e, &bp, miss, n_miss, &b);
    }
    /* Pass 2, in input order: hits again from the cache (one entry each, cheap,
     * and nothing n-sized is kept), misses from the executor. */
    for (int i = 0; s == FN_OK && i < n; i++) {
        fn_embed_result r;
        memset(&r, 0, sizeof r);
        fn_status st = FN_OK;
        if (state[i] != 0) {   /* a hit, or unreadable: as fn_embedder_run says now */
            if (state[i] == 1 && lookup(x, paths[i], &r, emb, emb_flip) == 1) x->hits++;
            else st = fn_embedder_run(x, paths[i], &r, emb, emb_flip);
        } else {
            const fn_batch_result *br = NULL;
            s = fn_batch_next(b, &br);
            if (s != FN_OK) break;
            if (!br) { s = fn_fail(FN_ERR_ARG, "bulk executor ended early at %s", paths[i]); break; }
            if (br->status != FN_OK) st = fn_fail(br->status, "%s", br->error);
            else st = finish(x, br, hashes[next], &r, emb, emb_flip);
            next++;
        }
        s = each(user, i, st, &r, emb, emb_flip);
    }
    fn_batch_free(b);
    free(state);
    free(miss);
    free(hashes);
    free(emb);
    return s;
}
