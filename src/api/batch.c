/* batch.c — the bulk executor (include/facenet/batch.h).
 *
 * A ring of `window` slots, slot i % window holding input i.  Workers claim
 * the next input while its slot is free (i < head + window), hash, decode,
 * detect and align it on their own detector and scratch, and mark it ready.
 * The caller's thread, in fn_batch_next, waits for the head input; when faces
 * are to be embedded it waits for `batch` consecutive ready inputs (or the
 * last), embeds all their crops in one fn_embed_aligned call per FACE_CHUNK
 * faces, and hands the results out in order.  So detection (the workers)
 * overlaps embedding and the caller's own work (gallery writes, output), and
 * memory is `window` images whatever the number of inputs.
 *
 * Threads: workers run OpenMP regions single-threaded (omp_set_num_threads
 * is per thread), so N workers keep N cores busy without oversubscribing.
 * The embedding call on the caller's thread is single-threaded too while
 * workers detect (an OpenMP team would spin against them); with aligned
 * crops (workers only decode) it keeps the caller's thread count.
 *
 * A model whose embedding may run on several threads at once
 * (fn_engine_embed_reentrant: InceptionResnetV1) is the pipeline's slow
 * stage: one thread embedding while the workers wait for a free slot kept
 * 1.24 of 2 cores busy.  Its faces are cut into jobs of EMBED_JOB that the
 * caller and the workers take in turn (a worker takes a job before a new
 * input), each on one thread, so every core embeds when detection is done.
 */
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/engine_impl.h"
#include "core/error.h"
#include "facenet/batch.h"

#define FACE_CHUNK 64   /* faces per network call: bounds the engine's input buffer */
#define EMBED_JOB 2     /* faces per shared job (reentrant models): InceptionResnetV1 costs ~40 ms a face */

enum { SLOT_FREE = 0, SLOT_BUSY, SLOT_READY, SLOT_DONE };

typedef struct slot {
    int state;
    fn_batch_result r;
    fn_faces f;
    fn_image *crops;    /* aligned faces (crops[0] borrows f.img in aligned mode) */
    int ncrops, crops_cap;
    fn_image work;      /* the copy detection ran on (max_side), reused */
    float *sharp;       /* fn_image_sharpness of each crop */
    int sharp_cap;
    char err[1024];
} slot;

struct fn_batch {
    fn_engine *e;
    fn_batch_params p;
    fn_batch_source src;
    void *src_user;
    const char *const *paths;   /* fn_batch_new_paths */
    int npaths;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_ready;
    slot *slots;
    int window;
    int next_in;     /* next input a worker claims */
    int end;         /* number of inputs once the source ended, else -1 */
    int head;        /* next input to deliver */
    int pending;     /* the head's result was handed out; freed on the next call */
    int stop;
    pthread_t *threads;
    int nthreads;
    fn_image *gather;   /* borrowed crops of one network call */
    float *emb;
    char err[1024];
    /* shared embedding jobs (reentrant models), under mu: faces [j x EMBED_JOB, ...) of the gathered ones */
    fn_image *jcrops;   /* every face of the slots being embedded */
    int (*jwho)[2];     /* (slot offset, face) of each */
    float *jemb;        /* their embeddings */
    fn_status *jst;     /* each job's outcome */
    char (*jerr)[512];
    int jcap, jfaces, njobs, jnext, jdone;
};

void fn_batch_params_init(fn_batch_params *p)
{
    memset(p, 0, sizeof *p);
    p->embed = 1;
}

static void set_error(slot *s, fn_status st)
{
    s->r.status = st;
    snprintf(s->err, sizeof s->err, "%s", fn_last_error());
}

static fn_status reserve_crops(slot *s, int n)
{
    if (n <= s->crops_cap) return FN_OK;
    fn_image *p = realloc(s->crops, (size_t)n * sizeof *p);
    if (!p) return fn_fail(FN_ERR_NOMEM, "out of memory for %d aligned faces", n);
    memset(p + s->crops_cap, 0, (size_t)(n - s->crops_cap) * sizeof *p);
    s->crops = p;
    s->crops_cap = n;
    return FN_OK;
}

/* fn_faces_run's aligned branch: the whole image is one face. */
static fn_status take_aligned(fn_batch *b, slot *s)
{
    fn_faces *f = &s->f;
    memset(&f->faces[0], 0, sizeof f->faces[0]);
    f->faces[0].box[2] = (float)f->img.w;
    f->faces[0].box[3] = (float)f->img.h;
    f->faces[0].prob = 1.0f;
    f->n = f->total = 1;
    if (!b->p.embed) return FN_OK;
    int size = fn_engine_input_size(b->e);
    if (f->img.w != size || f->img.h != size || f->img.c != 3)
        return fn_fail(FN_ERR_ARG, "aligned face 0 is %dx%d (%d channels); this model takes %dx%d RGB crops",
                       f->img.w, f->img.h, f->img.c, size, size);
    s->ncrops = 1;   /* borrowed: crops[0] is not allocated */
    return FN_OK;
}

/* Boxes and landmarks of n faces multiplied by (sx, sy): from a working
 * copy's pixels to the photo's. */
static void scale_faces(fn_face *faces, int n, float sx, float sy)
{
    for (int i = 0; i < n; i++) {
        fn_face *fc = &faces[i];
        fc->box[0] *= sx; fc->box[2] *= sx;
        fc->box[1] *= sy; fc->box[3] *= sy;
        for (int j = 0; j < 5; j++) {
            fc->landmarks[j][0] *= sx;
            fc->landmarks[j][1] *= sy;
        }
    }
}

/* Detection at the working resolution: on a copy of img whose longer side
 * is max_side (when img is larger), faces mapped back to img's pixels. */
static fn_status detect_at(fn_batch *b, slot *s, fn_resize_scratch *rs)
{
    fn_faces *f = &s->f;
    int w = f->img.w, h = f->img.h, side = w > h ? w : h;
    s->r.work_w = w;
    s->r.work_h = h;
    if (b->p.max_side <= 0 || side <= b->p.max_side)
        return fn_detect(b->e, &f->img, f->faces, FN_FACES_MAX, &f->total);
    double scale = (double)b->p.max_side / side;
    int ww = (int)(w * scale + 0.5), wh = (int)(h * scale + 0.5);
    if (ww < 1) ww = 1;
    if (wh < 1) wh = 1;
    if (s->work.w != ww || s->work.h != wh || s->work.c != f->img.c) {
        fn_image_free(&s->work);
        FN_TRY(fn_image_alloc(&s->work, ww, wh, f->img.c));
    }
    FN_TRY(fn_resize_bilinear_aa(&f->img, 0, 0, w, h, &s->work, rs));
    s->r.work_w = ww;
    s->r.work_h = wh;
    FN_TRY(fn_detect(b->e, &s->work, f->faces, FN_FACES_MAX, &f->total));
    int n = f->total < FN_FACES_MAX ? f->total : FN_FACES_MAX;
    float sx = (float)w / ww, sy = (float)h / wh;
    scale_faces(f->faces, n, sx, sy);
    return FN_OK;
}

/* Detect and align one decoded image on this worker's scratch. */
static fn_status take_detected(fn_batch *b, slot *s, fn_resize_scratch *rs)
{
    fn_faces *f = &s->f;
    FN_TRY(detect_at(b, s, rs));
    f->n = f->total < FN_FACES_MAX ? f->total : FN_FACES_MAX;
    if (!b->p.embed || f->n == 0) return FN_OK;
    int k = b->p.max_embed > 0 && b->p.max_embed < f->n ? b->p.max_embed : f->n;
    FN_TRY(reserve_crops(s, k));
    if (k > s->sharp_cap) {
        float *p = realloc(s->sharp, (size_t)k * sizeof *p);
        if (!p) return fn_fail(FN_ERR_NOMEM, "out of memory for %d faces", k);
        s->sharp = p;
        s->sharp_cap = k;
    }
    for (int i = 0; i < k; i++) {
        FN_TRY(fn_engine_align_into(b->e, &f->img, &f->faces[i], &s->crops[i], rs));
        s->sharp[i] = (float)fn_image_sharpness(&s->crops[i]);
    }
    s->ncrops = k;
    return FN_OK;
}

/* Faces found in a reduced decode, in the full photo's pixels. */
static void to_full(fn_faces *f, int full_w, int full_h)
{
    float sx = (float)full_w / f->img.w, sy = (float)full_h / f->img.h;
    int n = f->total < FN_FACES_MAX ? f->total : FN_FACES_MAX;
    scale_faces(f->faces, n, sx, sy);
}

static void process(fn_batch *b, slot *s, fn_resize_scratch *rs)
{
    fn_batch_result *r = &s->r;
    const char *path = r->path;
    fn_faces_clear(&s->f);
    s->ncrops = 0;
    s->err[0] = '\0';
    if (b->p.hash) {
        fn_status st = fn_hash_file(path, r->hash);
        if (st != FN_OK) return set_error(s, st);
        if (b->p.skip && b->p.skip(b->p.skip_user, r->index, path, r->hash)) {
            r->skipped = 1;
            return;
        }
    }
    /* reduced decode: the image is only detected on (at max_side) and
     * aligned from, never handed back, so a JPEG may come at 1/2..1/8 */
    int reduced = b->p.reduced_decode && b->p.max_side > 0 && !b->p.keep_image && !b->p.aligned;
    int full_w = 0, full_h = 0;
    fn_status st = reduced ? fn_image_load_reduced(path, NULL, b->p.max_side, &s->f.img, &s->f.notes, &full_w, &full_h)
                           : fn_image_load_ex(path, NULL, &s->f.img, &s->f.notes);
    if (st != FN_OK) return set_error(s, st);
    if (!reduced) full_w = s->f.img.w, full_h = s->f.img.h;
    s->r.image_w = full_w;
    s->r.image_h = full_h;
    r->loaded = 1;
    st = b->p.aligned ? take_aligned(b, s) : take_detected(b, s, rs);
    if (st != FN_OK) return set_error(s, fn_fail_prefix(st, "%s", path));
    if (full_w != s->f.img.w || full_h != s->f.img.h) to_full(&s->f, full_w, full_h);
    if (!b->p.keep_image && !b->p.aligned) fn_image_free(&s->f.img);
}

/* Job j of the shared embedding: called and returns with mu held. */
static void run_job(fn_batch *b, int j)
{
    int first = j * EMBED_JOB, n = b->jfaces - first < EMBED_JOB ? b->jfaces - first : EMBED_JOB;
    pthread_mutex_unlock(&b->mu);
    fn_status st = fn_engine_embed_unlocked(b->e, b->jcrops + first, n, b->jemb + (size_t)first * fn_engine_dim(b->e));
    pthread_mutex_lock(&b->mu);
    b->jst[j] = st;
    if (st != FN_OK) snprintf(b->jerr[j], sizeof b->jerr[j], "%s", fn_last_error());
    if (++b->jdone == b->njobs) pthread_cond_broadcast(&b->cv_ready);
}

static void *worker(void *arg)
{
    fn_batch *b = arg;
    omp_set_num_threads(1);
    fn_resize_scratch rs = {0};
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        if (b->jnext < b->njobs) {   /* a shared embedding job first: it is what the head waits for */
            run_job(b, b->jnext++);
            continue;
        }
        if (b->end >= 0 && b->next_in >= b->end) break;
        if (b->next_in >= b->head + b->window) {
            pthread_cond_wait(&b->cv_work, &b->mu);
            continue;
        }
        int i = b->next_in;
        const char *path = b->src(b->src_user, i);
        if (!path) {
            b->end = i;
            pthread_cond_broadcast(&b->cv_ready);
            pthread_cond_broadcast(&b->cv_work);
            break;
        }
        b->next_in++;
        slot *s = &b->slots[i % b->window];
        s->state = SLOT_BUSY;
        memset(&s->r, 0, sizeof s->r);
        s->r.index = i;
        s->r.path = path;
        pthread_mutex_unlock(&b->mu);
        process(b, s, &rs);
        pthread_mutex_lock(&b->mu);
        s->state = SLOT_READY;
        pthread_cond_broadcast(&b->cv_ready);
    }
    pthread_mutex_unlock(&b->mu);
    fn_resize_scratch_free(&rs);
    return NULL;
}

static const char *array_source(void *user, int index)
{
    fn_batch *b = user;
    return index < b->npaths ? b->paths[index] : NULL;
}

static fn_status check_params(fn_engine *e, const fn_batch_params *p)
{
    if (p->workers < 0 || p->workers > 256) return fn_fail(FN_ERR_ARG, "batch: workers %d is outside 0..256", p->workers);
    if (p->batch < 0 || p->batch > 4096) return fn_fail(FN_ERR_ARG, "batch: batch %d is outside 0..4096", p->batch);
    if (p->window < 0 || p->window > 65536) return fn_fail(FN_ERR_ARG, "batch: window %d is outside 0..65536", p->window);
    if (p->max_side < 0 || (p->max_side > 0 && p->max_side < 64))
        return fn_fail(FN_ERR_ARG, "batch: max_side %d is neither 0 (full resolution) nor at least 64 pixels", p->max_side);
    if (p->max_embed < 0) return fn_fail(FN_ERR_ARG, "batch: max_embed %d is negative", p->max_embed);
    if (p->skip && !p->hash) return fn_fail(FN_ERR_ARG, "batch: a skip callback needs hash = 1");
    if (p->embed && fn_engine_dim(e) == 0) return fn_fail(FN_ERR_ARG, "batch: this engine was created without an embedding model");
    if (!p->aligned && e->opts.embedder_only)
        return fn_fail(FN_ERR_ARG, "batch: this engine was created without a detector (embedder_only)");
    return FN_OK;
}


static fn_status batch_new(fn_engine *e, const fn_batch_params *p, fn_batch_source src, void *src_user,
                           const char *const *paths, int npaths, fn_batch **out)
{
    *out = NULL;
    fn_batch_params def;
    if (!p) {
        fn_batch_params_init(&def);
        p = &def;
    }
    if (!e || !src) return fn_fail(FN_ERR_ARG, "fn_batch_new: an engine and a source are required");
    FN_TRY(check_params(e, p));
    fn_batch *b = calloc(1, sizeof *b);
    if (!b) return fn_fail(FN_ERR_NOMEM, "out of memory starting a batch");
    b->e = e;
    b->p = *p;
    if (b->p.workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        b->p.workers = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    }
    if (b->p.batch == 0) b->p.batch = 32;
    if (!b->p.embed) b->p.batch = 1;
    int need = b->p.batch + b->p.workers;
    b->window = b->p.window ? b->p.window : 2 * b->p.batch + 2 * b->p.workers;
    if (b->window < need) b->window = need;   /* a full embedding batch plus one input per worker */
    b->src = src;
    b->src_user = src == array_source ? b : src_user;
    b->paths = paths;
    b->npaths = npaths;
    b->end = -1;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv_work, NULL);
    pthread_cond_init(&b->cv_ready, NULL);
    b->slots = calloc((size_t)b->window, sizeof *b->slots);
    b->threads = calloc((size_t)b->p.workers, sizeof *b->threads);
    b->gather = calloc(FACE_CHUNK, sizeof *b->gather);
    b->emb = b->p.embed ? malloc((size_t)FACE_CHUNK * fn_engine_dim(e) * sizeof(float)) : NULL;
    if (!b->slots || !b->threads || !b->gather || (b->p.embed && !b->emb)) {
        fn_batch_free(b);
        return fn_fail(FN_ERR_NOMEM, "out of memory for a batch of %d files in flight", b->window);
    }
    for (int i = 0; i < b->p.workers; i++) {
        if (pthread_create(&b->threads[i], NULL, worker, b) != 0) {
            fn_batch_free(b);
            return fn_fail(FN_ERR_NOMEM, "batch: cannot start worker thread %d", i + 1);
        }
        b->nthreads++;
    }
    *out = b;
    return FN_OK;
}

fn_status fn_batch_new(fn_engine *e, const fn_batch_params *p, fn_batch_source src, void *src_user, fn_batch **out)
{
    return batch_new(e, p, src, src_user, NULL, 0, out);
}

fn_status fn_batch_new_paths(fn_engine *e, const fn_batch_params *p, const char *const *paths, int n, fn_batch **out)
{
    *out = NULL;
    if (n < 0 || (n > 0 && !paths)) return fn_fail(FN_ERR_ARG, "fn_batch_new_paths: %d paths but no array", n);
    return batch_new(e, p, array_source, NULL, paths, n, out);
}

static const fn_image *crop_of(const fn_batch *b, const slot *s, int k)
{
    return b->p.aligned ? &s->f.img : &s->crops[k];
}

/* One network call on the gathered faces; each embedding goes to its slot,
 * a failure to every file of the call (named, as fn_faces_run names it). */
static void embed_flush(fn_batch *b, int first, int n, int (*who)[2])
{
    int dim = fn_engine_dim(b->e);
    fn_status st = fn_embed_aligned(b->e, b->gather, n, b->emb);
    char why[512];
    if (st != FN_OK) snprintf(why, sizeof why, "%s", fn_last_error());
    for (int q = 0; q < n; q++) {
        slot *t = &b->slots[(first + who[q][0]) % b->window];
        if (st == FN_OK) {
            memcpy(t->f.emb + (size_t)who[q][1] * dim, b->emb + (size_t)q * dim, (size_t)dim * sizeof(float));
            t->r.n_embedded = who[q][1] + 1;
        } else if (t->r.status == FN_OK) {
            t->r.status = st;
            t->r.n_embedded = 0;
            snprintf(t->err, sizeof t->err, "%s: %s", t->r.path, why);
        }
    }
}

/* Aligned inputs are their own crop: freed once embedded unless kept. */
static void release_aligned(fn_batch *b, int first, int count)
{
    for (int j = 0; b->p.aligned && !b->p.keep_image && j < count; j++)
        fn_image_free(&b->slots[(first + j) % b->window].f.img);
}

/* Embed the crops of slots [first, first + count) (all ready, owned by the
 * caller's thread now), at most FACE_CHUNK faces per network call. */
static fn_status embed_run(fn_batch *b, int first, int count)
{
    int dim = fn_engine_dim(b->e);
    int who[FACE_CHUNK][2];   /* (slot, face) of each gathered face */
    int n = 0;
    for (int j = 0; j < count; j++) {
        slot *s = &b->slots[(first + j) % b->window];
        if (s->r.status != FN_OK || s->ncrops == 0) continue;
        FN_TRY(fn_faces_reserve_emb(&s->f, s->ncrops, dim));
        for (int k = 0; k < s->ncrops; k++) {
            if (n == FACE_CHUNK) {
                embed_flush(b, first, n, who);
                n = 0;
            }
            b->gather[n] = *crop_of(b, s, k);
            who[n][0] = j;
            who[n][1] = k;
            n++;
        }
    }
    if (n > 0) embed_flush(b, first, n, who);
    release_aligned(b, first, count);
    return FN_OK;
}

static fn_status reserve_jobs(fn_batch *b, int faces)
{
    if (faces <= b->jcap) return FN_OK;
    int cap = faces > 2 * b->jcap ? faces : 2 * b->jcap, dim = fn_engine_dim(b->e), nj = (cap + EMBED_JOB - 1) / EMBED_JOB;
    fn_image *c = realloc(b->jcrops, (size_t)cap * sizeof *c);
    if (c) b->jcrops = c;
    int (*w)[2] = realloc(b->jwho, (size_t)cap * sizeof *w);
    if (w) b->jwho = w;
    float *e = realloc(b->jemb, (size_t)cap * dim * sizeof *e);
    if (e) b->jemb = e;
    fn_status *st = realloc(b->jst, (size_t)nj * sizeof *st);
    if (st) b->jst = st;
    char (*er)[512] = realloc(b->jerr, (size_t)nj * sizeof *er);
    if (er) b->jerr = er;
    if (!c || !w || !e || !st || !er) return fn_fail(FN_ERR_NOMEM, "out of memory for %d faces to embed", faces);
    b->jcap = cap;
    return FN_OK;
}

/* embed_run for a reentrant model: every face of slots [first, first +
 * count) cut into jobs that the workers take too; the caller takes jobs
 * until none is left, waits for the others, then hands each embedding (or
 * its job's failure) to its slot.  Called without mu. */
static fn_status embed_run_shared(fn_batch *b, int first, int count)
{
    int dim = fn_engine_dim(b->e), n = 0;
    for (int j = 0; j < count; j++) {
        slot *s = &b->slots[(first + j) % b->window];
        if (s->r.status != FN_OK || s->ncrops == 0) continue;
        FN_TRY(fn_faces_reserve_emb(&s->f, s->ncrops, dim));
        FN_TRY(reserve_jobs(b, n + s->ncrops));
        for (int k = 0; k < s->ncrops; k++, n++) {
            b->jcrops[n] = *crop_of(b, s, k);
            b->jwho[n][0] = j;
            b->jwho[n][1] = k;
        }
    }
    int nj = (n + EMBED_JOB - 1) / EMBED_JOB;
    pthread_mutex_lock(&b->mu);
    b->jfaces = n;
    b->njobs = nj;
    b->jnext = b->jdone = 0;
    pthread_cond_broadcast(&b->cv_work);
    while (b->jnext < b->njobs) run_job(b, b->jnext++);
    while (b->jdone < b->njobs) pthread_cond_wait(&b->cv_ready, &b->mu);
    b->njobs = b->jnext = b->jdone = 0;
    pthread_mutex_unlock(&b->mu);
    for (int q = 0; q < n; q++) {
        slot *t = &b->slots[(first + b->jwho[q][0]) % b->window];
        int j = q / EMBED_JOB;
        if (b->jst[j] == FN_OK) {
            memcpy(t->f.emb + (size_t)b->jwho[q][1] * dim, b->jemb + (size_t)q * dim, (size_t)dim * sizeof(float));
            if (t->r.status == FN_OK) t->r.n_embedded = b->jwho[q][1] + 1;
        } else if (t->r.status == FN_OK) {
            t->r.status = b->jst[j];
            t->r.n_embedded = 0;
            snprintf(t->err, sizeof t->err, "%s: %s", t->r.path, b->jerr[j]);
        }
    }
    release_aligned(b, first, count);
    return FN_OK;
}

fn_status fn_batch_next(fn_batch *b, const fn_batch_result **out)
{
    *out = NULL;
    pthread_mutex_lock(&b->mu);
    if (b->pending) {
        b->slots[b->head % b->window].state = SLOT_FREE;
        b->head++;
        b->pending = 0;
        pthread_cond_broadcast(&b->cv_work);
    }
    for (;;) {
        if (b->end >= 0 && b->head >= b->end) {
            pthread_mutex_unlock(&b->mu);
            return FN_OK;
        }
        slot *s = &b->slots[b->head % b->window];
        if (s->state == SLOT_DONE || (s->state == SLOT_READY && !b->p.embed)) break;
        if (s->state == SLOT_READY) {
            int k = 0;
            while (k < b->p.batch && b->head + k < b->next_in && b->slots[(b->head + k) % b->window].state == SLOT_READY)
                k++;
            if (k == b->p.batch || (b->end >= 0 && b->head + k == b->end)) {
                pthread_mutex_unlock(&b->mu);
                /* detecting workers keep the cores busy: a team here would
                 * only spin against them; crops alone leave them idle */
                int threads = omp_get_max_threads(), shared = fn_engine_embed_reentrant(b->e) && b->nthreads > 0;
                if (!b->p.aligned || shared) omp_set_num_threads(1);
                fn_status st = shared ? embed_run_shared(b, b->head, k) : embed_run(b, b->head, k);
                omp_set_num_threads(threads);
                pthread_mutex_lock(&b->mu);
                if (st != FN_OK) {
                    pthread_mutex_unlock(&b->mu);
                    return st;
                }
                for (int j = 0; j < k; j++) b->slots[(b->head + j) % b->window].state = SLOT_DONE;
                break;
            }
        }
        pthread_cond_wait(&b->cv_ready, &b->mu);
    }
    slot *s = &b->slots[b->head % b->window];
    s->state = SLOT_DONE;
    b->pending = 1;
    pthread_mutex_unlock(&b->mu);
    s->r.error = s->err;
    s->r.faces = &s->f;
    s->r.sharpness = s->r.n_embedded > 0 && !b->p.aligned ? s->sharp : NULL;
    *out = &s->r;
    return FN_OK;
}

void fn_batch_free(fn_batch *b)
{
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    b->stop = 1;
    pthread_cond_broadcast(&b->cv_work);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->nthreads; i++) pthread_join(b->threads[i], NULL);
    for (int i = 0; b->slots && i < b->window; i++) {
        slot *s = &b->slots[i];
        fn_faces_free(&s->f);
        for (int k = 0; k < s->crops_cap; k++) fn_image_free(&s->crops[k]);
        free(s->crops);
        fn_image_free(&s->work);
        free(s->sharp);
    }
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv_work);
    pthread_cond_destroy(&b->cv_ready);
    free(b->slots);
    free(b->threads);
    free(b->gather);
    free(b->emb);
    free(b->jcrops);
    free(b->jwho);
    free(b->jemb);
    free(b->jst);
    free(b->jerr);
    free(b);
}
