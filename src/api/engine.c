/* engine.c — the public recognition engine: loads the detector and the
 * embedding model a caller names, and aligns each face the way its model
 * was trained (FaceNet: facenet-pytorch's box crop; MobileFaceNet: the
 * ArcFace 5-point warp). */
#include "api/engine_impl.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "align/align.h"
#include "core/arena.h"
#include "core/error.h"
#include "core/file.h"
#include "nn/mathlib.h"
#include "core/sha256.h"
#include "io/weights.h"
#include "detect/haar.h"
#include "detect/mtcnn.h"
#include "io/mtcnn_bundle.h"
#include "io/tflite.h"
#include "models/inception_resnet_v1.h"
#include "models/mobilefacenet.h"

/* FaceNet's published VGGFace2 model separates LFW pairs near 1.1 on the
 * Euclidean distance of normalised embeddings; a user's own checkpoint can
 * be calibrated (`facenet calibrate`) and the gallery then keeps its own. */
#define FACENET_DEFAULT_THRESHOLD 1.1f

void fn_options_init(fn_options *o)
{
    memset(o, 0, sizeof *o);
    o->model = "mobilefacenet";
    o->min_face = 20.0f;
    o->thresholds[0] = 0.6f;
    o->thresholds[1] = 0.7f;
    o->thresholds[2] = 0.7f;
    o->factor = 0.709f;
    o->edge_retry = 1;
    o->detector = FN_DETECTOR_MTCNN;
    o->haar_scale = 1.1;
    o->haar_min_neighbors = 3;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* The identity of a FaceNet checkpoint: a digest of its final layers, which
 * differ between any two trainings, so loading it costs no full-file hash. */
static fn_status facenet_identity(const fn_weights *w, char *out, size_t cap)
{
    static const char *keys[] = {"last_linear.weight", "last_bn.weight", "last_bn.bias",
                                 "last_bn.running_mean", "last_bn.running_var"};
    fn_sha256 h;
    fn_sha256_init(&h);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const fn_wtensor *t = fn_weights_find(w, keys[i]);
        if (t) fn_sha256_update(&h, t->data, (size_t)t->numel * sizeof(float));
    }
    unsigned char d[32];
    fn_sha256_final(&h, d);
    int len = snprintf(out, cap, "facenet-irv1-512@");
    for (int i = 0; i < 8 && (size_t)len + 2 < cap; i++) len += snprintf(out + len, cap - len, "%02x", d[i]);
    return FN_OK;
}

static fn_status load_facenet(fn_engine *e, const char *path)
{
    fn_weights *w = NULL;
    FN_TRY(fn_weights_load_pt(path, &w));
    fn_status s = fn_irv1_new(w, &e->irv1);
    if (s == FN_OK) facenet_identity(w, e->model_id, sizeof e->model_id);
    fn_weights_free(w);
    if (s != FN_OK) return s;
    e->kind = FN_MODEL_FACENET;
    e->dim = FN_IRV1_DIM;
    e->input_size = FN_IRV1_SIZE;
    e->threshold = FACENET_DEFAULT_THRESHOLD;
    snprintf(e->preprocess_id, sizeof e->preprocess_id, "crop160-margin0-pil-bilinear-(x-127.5)/128");
    return FN_OK;
}

/* Threshold of the bundled MobileFaceNet on the Euclidean distance of
 * normalised embeddings: the best-accuracy threshold on LFW DevTrain
 * (README: "Choosing the threshold").  Measured with `facenet eval-pairs
 * --pairs pairsDevTest.txt --train-pairs pairsDevTrain.txt` (centre face,
 * no flip): 1.0908 gives 99.64 % on DevTrain and 99.30 % on DevTest. */
#define MOBILEFACENET_DEFAULT_THRESHOLD MFN_LFW_DEVTRAIN_THRESHOLD
#define MFN_LFW_DEVTRAIN_THRESHOLD 1.09f

static fn_status model_path(const fn_engine *e, const char *file, char *out, size_t cap)
{
    if (!e->opts.models_dir)
        return fn_fail(FN_ERR_ARG, "no models directory given for %s (run `make models`)", file);
    snprintf(out, cap, "%s/%s", e->opts.models_dir, file);
    return FN_OK;
}

/* A regular file that can be opened (a FIFO named as a model waited for a
 * writer forever). */
static int readable(const char *path)
{
    int fd;
    struct stat st;
    if (fn_open_regular(path, &fd, &st) != FN_OK) return 0;
    close(fd);
    return 1;
}

/* MobileFaceNet's weights: parsed and prepared on first use (fn_engine_lazy). */
static fn_status load_mobilefacenet_weights(fn_engine *e)
{
    char path[4096];
    FN_TRY(model_path(e, "MobileFaceNet.tflite", path, sizeof path));
    fn_weights *w = NULL;
    fn_status s = fn_weights_load_tflite(path, &w);
    if (s != FN_OK) return fn_fail_prefix(s, "MobileFaceNet");
    s = fn_mfn_new(w, &e->mfn);
    fn_weights_free(w);
    return s;
}

/* What the engine says about MobileFaceNet without its weights: the
 * identity is the file's hash.  A file that cannot be opened fails here,
 * with the loader's own sentence. */
static fn_status load_mobilefacenet(fn_engine *e)
{
    char path[4096];
    FN_TRY(model_path(e, "MobileFaceNet.tflite", path, sizeof path));
    if (!readable(path)) return load_mobilefacenet_weights(e);
    char hex[65];
    FN_TRY(fn_hash_file(path, hex));
    snprintf(e->model_id, sizeof e->model_id, "mobilefacenet-192@%.16s", hex);
    snprintf(e->preprocess_id, sizeof e->preprocess_id, "arcface112-umeyama-rgb-(x-127.5)/128");
    e->kind = FN_MODEL_MOBILEFACENET;
    e->dim = FN_MFN_DIM;
    e->input_size = FN_MFN_SIZE;
    e->threshold = MOBILEFACENET_DEFAULT_THRESHOLD;
    return FN_OK;
}

static fn_status load_model(fn_engine *e)
{
    const char *m = e->opts.model ? e->opts.model : "mobilefacenet";
    if (ends_with(m, ".pt") || ends_with(m, ".pth")) return load_facenet(e, m);
    if (!strcmp(m, "mobilefacenet")) return load_mobilefacenet(e);
    return fn_fail(FN_ERR_ARG, "unknown model '%s' (use mobilefacenet or a facenet-pytorch .pt file)", m);
}

/* One MTCNN stage's weights: pnet.pt etc. from mtcnn_dir, else the bundle. */
static fn_status load_stage(const fn_engine *e, const char *stage, fn_weights **w)
{
    char path[4096];
    if (e->opts.mtcnn_dir) {
        snprintf(path, sizeof path, "%s/%s.pt", e->opts.mtcnn_dir, stage);
        return fn_weights_load_pt(path, w);
    }
    char file[32];
    snprintf(file, sizeof file, "%s.tflite", stage);
    FN_TRY(model_path(e, file, path, sizeof path));
    fn_status s = fn_mtcnn_bundle_load(path, w);
    return s == FN_OK ? s : fn_fail_prefix(s, "MTCNN detector");
}

static const char *const mtcnn_stages[3] = {"pnet", "rnet", "onet"};

/* MTCNN's nets, and the Haar cascade when it is the detector (Haar boxes
 * get O-Net's landmarks, so the MTCNN nets load either way). */
static fn_status load_detector(fn_engine *e)
{
    fn_weights *w[3] = {NULL, NULL, NULL};
    fn_status s = FN_OK;
    for (int i = 0; i < 3 && s == FN_OK; i++) s = load_stage(e, mtcnn_stages[i], &w[i]);
    if (s == FN_OK) s = fn_mtcnn_new(w[0], w[1], w[2], &e->mtcnn);
    for (int i = 0; i < 3; i++) fn_weights_free(w[i]);
    if (s == FN_OK && e->opts.detector == FN_DETECTOR_HAAR) s = fn_haar_load(e->cascade, &e->haar);
    return s;
}

/* The detector's files can all be opened (checked at creation, so a missing
 * bundle is reported there even though the nets load on first use). */
static int detector_files_readable(const fn_engine *e)
{
    char path[4096];
    for (int i = 0; i < 3; i++) {
        if (e->opts.mtcnn_dir) snprintf(path, sizeof path, "%s/%s.pt", e->opts.mtcnn_dir, mtcnn_stages[i]);
        else if (e->opts.models_dir) snprintf(path, sizeof path, "%s/%s.tflite", e->opts.models_dir, mtcnn_stages[i]);
        else return 0;
        if (!readable(path)) return 0;
    }
    return e->opts.detector != FN_DETECTOR_HAAR || readable(e->cascade);
}

/* Run load once (under load_lock) and keep its outcome; every call gets it. */
static fn_status lazy(fn_engine *e, fn_lazy *l, fn_status (*load)(fn_engine *))
{
    if (!atomic_load_explicit(&l->done, memory_order_acquire)) {
        pthread_mutex_lock(&e->load_lock);
        if (!atomic_load_explicit(&l->done, memory_order_relaxed)) {
            l->status = load(e);
            if (l->status != FN_OK) snprintf(l->error, sizeof l->error, "%s", fn_last_error());
            atomic_store_explicit(&l->done, 1, memory_order_release);
        }
        pthread_mutex_unlock(&e->load_lock);
    }
    return l->status == FN_OK ? FN_OK : fn_fail(l->status, "%s", l->error);
}

/* A part loaded already (at creation): lazy() returns its outcome at once. */
static void loaded(fn_lazy *l) { atomic_store_explicit(&l->done, 1, memory_order_release); }

fn_status fn_engine_need_detector(fn_engine *e)
{
    if (e->opts.embedder_only) return fn_fail(FN_ERR_ARG, "this engine was created without a detector (embedder_only)");
    return lazy(e, &e->detector_load, load_detector);
}

fn_status fn_engine_new(const fn_options *o, fn_engine **out)
{
    *out = NULL;
    fn_engine *e = calloc(1, sizeof *e);
    if (!e) return fn_fail(FN_ERR_NOMEM, "out of memory creating an engine");
    if (o) e->opts = *o;
    else fn_options_init(&e->opts);
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->detect_lock, NULL);
    pthread_mutex_init(&e->load_lock, NULL);
    snprintf(e->cascade, sizeof e->cascade, "%s", e->opts.cascade ? e->opts.cascade : FN_HAAR_DEFAULT_CASCADE);
    e->opts.cascade = NULL;   /* the caller's string is not kept */
    fn_status s = FN_OK;
    if (e->opts.detector != FN_DETECTOR_MTCNN && e->opts.detector != FN_DETECTOR_HAAR)
        s = fn_fail(FN_ERR_ARG, "options: detector %d is neither FN_DETECTOR_MTCNN nor FN_DETECTOR_HAAR", (int)e->opts.detector);
    else if (e->opts.detector == FN_DETECTOR_HAAR && !(e->opts.haar_scale > 1.0 && e->opts.haar_scale <= 4.0))
        s = fn_fail(FN_ERR_ARG, "options: haar_scale %g is not in (1, 4]", e->opts.haar_scale);
    else if (e->opts.detector == FN_DETECTOR_HAAR && e->opts.haar_min_neighbors < 0)
        s = fn_fail(FN_ERR_ARG, "options: haar_min_neighbors %d is negative", e->opts.haar_min_neighbors);
    /* The detector loads on first use; a file that cannot be opened is
     * loaded now, so its failure (the loader's sentence) comes from here. */
    if (s == FN_OK && !e->opts.embedder_only && !detector_files_readable(e)) {
        s = load_detector(e);
        if (s == FN_OK) loaded(&e->detector_load);
    }
    if (s == FN_OK && !e->opts.detector_only) s = load_model(e);
    /* Only MobileFaceNet's weights wait for first use: a FaceNet checkpoint's
     * identity is a digest of its weights, so it is loaded here. */
    if (s == FN_OK && e->kind != FN_MODEL_MOBILEFACENET) loaded(&e->model_load);
    if (s != FN_OK) {
        fn_engine_free(e);
        return s;
    }
    *out = e;
    return FN_OK;
}

void fn_engine_free(fn_engine *e)
{
    if (!e) return;
    if (e->irv1) fn_irv1_free(e->irv1);
    if (e->mfn) fn_mfn_free(e->mfn);
    for (int i = 0; i < e->n_idle_det; i++)
        if (e->idle_det[i] != e->mtcnn) fn_mtcnn_free(e->idle_det[i]);
    free(e->idle_det);
    if (e->mtcnn) fn_mtcnn_free(e->mtcnn);
    fn_haar_free(e->haar);
    fn_resize_scratch_free(&e->resize);
    fn_image_free(&e->crop);
    fn_aligned_free(e->input);
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->detect_lock);
    pthread_mutex_destroy(&e->load_lock);
    free(e);
}

int fn_engine_dim(const fn_engine *e) { return e->dim; }
int fn_engine_input_size(const fn_engine *e) { return e->input_size; }
const char *fn_engine_model_id(const fn_engine *e) { return e->model_id; }
const char *fn_engine_preprocess_id(const fn_engine *e) { return e->preprocess_id; }
float fn_engine_threshold(const fn_engine *e) { return e->threshold; }
fn_detector fn_engine_detector(const fn_engine *e) { return e->opts.detector; }

/* Grow the network-input buffer to n faces (under e->lock). */
static fn_status reserve_input(fn_engine *e, int n)
{
    if (n <= e->input_cap) return FN_OK;
    size_t per = (size_t)3 * e->input_size * e->input_size;
    float *p = fn_aligned_alloc((size_t)n * per * sizeof(float));
    if (!p) return fn_fail(FN_ERR_NOMEM, "out of memory for %d face inputs", n);
    fn_aligned_free(e->input);
    e->input = p;
    e->input_cap = n;
    return FN_OK;
}

static fn_status run_model(fn_engine *e, int n, float *emb)
{
    switch (e->kind) {
    case FN_MODEL_FACENET: return fn_irv1_embed(e->irv1, e->input, n, emb, NULL);
    case FN_MODEL_MOBILEFACENET: return fn_mfn_embed(e->mfn, e->input, n, emb);
    default: return fn_fail(FN_ERR_ARG, "this engine was created without an embedding model");
    }
}

static fn_status check_model(fn_engine *e)
{
    if (e->kind == FN_MODEL_NONE) return fn_fail(FN_ERR_ARG, "this engine was created without an embedding model");
    return lazy(e, &e->model_load, load_mobilefacenet_weights);
}

/* Standardise one aligned RGB crop into slot i of the input batch. */
static void put_input(fn_engine *e, int i, const fn_image *crop)
{
    size_t per = (size_t)3 * e->input_size * e->input_size;
    fn_standardize_chw(crop, e->input + (size_t)i * per);
}

/* Every crop the model's input size, RGB. */
static fn_status check_crops(const fn_engine *e, const fn_image *crops, int n)
{
    for (int i = 0; i < n; i++)
        if (crops[i].w != e->input_size || crops[i].h != e->input_size || crops[i].c != 3)
            return fn_fail(FN_ERR_ARG, "aligned face %d is %dx%d (%d channels); this model takes %dx%d RGB crops",
                           i, crops[i].w, crops[i].h, crops[i].c, e->input_size, e->input_size);
    return FN_OK;
}

fn_status fn_embed_aligned(fn_engine *e, const fn_image *crops, int n, float *emb)
{
    FN_TRY(check_model(e));
    FN_TRY(check_crops(e, crops, n));
    pthread_mutex_lock(&e->lock);
    fn_status s = reserve_input(e, n);
    for (int i = 0; s == FN_OK && i < n; i++) put_input(e, i, &crops[i]);
    if (s == FN_OK && n > 0) s = run_model(e, n, emb);
    pthread_mutex_unlock(&e->lock);
    return s;
}

int fn_engine_embed_reentrant(const fn_engine *e)
{
    return e->kind == FN_MODEL_FACENET;   /* fn_irv1_embed: a workspace per concurrent caller */
}

fn_status fn_engine_embed_unlocked(fn_engine *e, const fn_image *crops, int n, float *emb)
{
    if (!fn_engine_embed_reentrant(e)) return fn_embed_aligned(e, crops, n, emb);
    FN_TRY(check_model(e));
    FN_TRY(check_crops(e, crops, n));
    size_t per = (size_t)3 * e->input_size * e->input_size;
    if (n <= 0) return FN_OK;
    float *in = fn_aligned_alloc((size_t)n * per * sizeof *in);
    if (!in) return fn_fail(FN_ERR_NOMEM, "out of memory for %d face inputs", n);
    for (int i = 0; i < n; i++) fn_standardize_chw(&crops[i], in + (size_t)i * per);
    fn_status s = fn_irv1_embed(e->irv1, in, n, emb, NULL);
    fn_aligned_free(in);
    return s;
}

fn_status fn_engine_align_into(const fn_engine *e, const fn_image *img, const fn_face *f, fn_image *out,
                               fn_resize_scratch *rs)
{
    if (!out->data) FN_TRY(fn_image_alloc(out, e->input_size, e->input_size, 3));
    if (e->kind == FN_MODEL_FACENET) return fn_extract_face(img, f->box, 0.0f, out, rs);
    return fn_align_arcface(img, f->landmarks, out, NULL);
}

/* Align one face into e->crop (under e->lock). */
static fn_status align_locked(fn_engine *e, const fn_image *img, const fn_face *f)
{
    return fn_engine_align_into(e, img, f, &e->crop, &e->resize);
}

fn_status fn_align_face(fn_engine *e, const fn_image *img, const fn_face *face, fn_image *out)
{
    FN_TRY(check_model(e));
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&e->lock);
    fn_status s = align_locked(e, img, face);
    if (s == FN_OK) s = fn_image_alloc(out, e->crop.w, e->crop.h, 3);
    if (s == FN_OK) memcpy(out->data, e->crop.data, (size_t)out->w * out->h * 3);
    pthread_mutex_unlock(&e->lock);
    return s;
}

fn_status fn_embed_faces(fn_engine *e, const fn_image *img, const fn_face *faces, int n, float *emb)
{
    FN_TRY(check_model(e));
    if (img->c != 3) return fn_fail(FN_ERR_ARG, "faces can only be embedded from RGB images");
    pthread_mutex_lock(&e->lock);
    fn_status s = reserve_input(e, n);
    for (int i = 0; s == FN_OK && i < n; i++) {
        s = align_locked(e, img, &faces[i]);
        if (s == FN_OK) put_input(e, i, &e->crop);
    }
    if (s == FN_OK && n > 0) s = run_model(e, n, emb);
    pthread_mutex_unlock(&e->lock);
    return s;
}

fn_status fn_crop_face(const fn_image *img, const float box[4], int size, float margin, fn_image *out)
{
    memset(out, 0, sizeof *out);
    if (size < 1 || size > 4096) return fn_fail(FN_ERR_ARG, "crop size %d is outside 1..4096", size);
    FN_TRY(fn_image_alloc(out, size, size, 3));
    fn_status s = fn_extract_face(img, box, margin, out, NULL);
    if (s != FN_OK) fn_image_free(out);
    return s;
}

float fn_distance(const float *a, const float *b, int dim)
{
    double acc = 0.0;
    for (int i = 0; i < dim; i++) acc += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return (float)sqrt(acc);
}

float fn_cosine_distance(const float *a, const float *b, int dim)
{
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (int i = 0; i < dim; i++) {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    double den = sqrt(na) * sqrt(nb);
    return den > 0 ? (float)(1.0 - dot / den) : 1.0f;
}


/* The first caller gets the loaded detector itself; a concurrent caller
 * gets a clone (its own scratch, the same packed weights), kept afterwards
 * for the next one, so the pool grows to the number of threads that ever
 * detected at once. */
fn_status fn_engine_detector_acquire(fn_engine *e, struct fn_mtcnn **out)
{
    *out = NULL;
    FN_TRY(fn_engine_need_detector(e));   /* loaded on first use */
    pthread_mutex_lock(&e->detect_lock);
    if (!e->idle_det) {   /* first use: the pool starts with the loaded detector */
        e->idle_det = malloc(4 * sizeof *e->idle_det);
        if (e->idle_det) {
            e->cap_idle_det = 4;
            e->idle_det[e->n_idle_det++] = e->mtcnn;
        }
    }
    if (e->n_idle_det > 0) *out = e->idle_det[--e->n_idle_det];
    pthread_mutex_unlock(&e->detect_lock);
    if (*out) return FN_OK;
    return fn_mtcnn_clone(e->mtcnn, out);
}

void fn_engine_detector_release(fn_engine *e, struct fn_mtcnn *m)
{
    pthread_mutex_lock(&e->detect_lock);
    if (e->n_idle_det == e->cap_idle_det) {
        int cap = e->cap_idle_det ? 2 * e->cap_idle_det : 4;
        struct fn_mtcnn **p = realloc(e->idle_det, (size_t)cap * sizeof *p);
        if (p) {
            e->idle_det = p;
            e->cap_idle_det = cap;
        }
    }
    if (e->n_idle_det < e->cap_idle_det) {
        e->idle_det[e->n_idle_det++] = m;
        m = NULL;
    }
    pthread_mutex_unlock(&e->detect_lock);
    if (m && m != e->mtcnn) fn_mtcnn_free(m);   /* no room to keep it (out of memory) */
}

fn_status fn_detect(fn_engine *e, const fn_image *img, fn_face *faces, int max, int *n)
{
    *n = 0;
    if (img->c != 3) return fn_fail(FN_ERR_ARG, "faces can only be detected in RGB images");
    FN_TRY(fn_engine_need_detector(e));
    if (e->haar) return fn_engine_detect_haar(e, img, faces, max, n);
    fn_mtcnn_params p = fn_mtcnn_params_default();
    p.min_face = e->opts.min_face;
    for (int i = 0; i < 3; i++) p.thresholds[i] = e->opts.thresholds[i];
    /* 0.709 as a double, exactly the reference's Python float, when the
     * caller kept the default: the pyramid sizes depend on it. */
    p.factor = fabsf(e->opts.factor - 0.709f) < 1e-7f ? 0.709 : e->opts.factor;
    p.edge_pad = e->opts.edge_retry ? FN_EDGE_PAD : 0.0;
    struct fn_mtcnn *m;
    FN_TRY(fn_engine_detector_acquire(e, &m));
    fn_status s = fn_mtcnn_detect_rgb(m, img->data, img->w, img->h, (size_t)img->w * 3, &p, faces, max, n);
    fn_engine_detector_release(e, m);
    return s;
}

const char *fn_select_name(fn_select s)
{
    return s == FN_SELECT_CENTER ? "center" : s == FN_SELECT_LARGEST ? "largest" : "prob";
}

int fn_select_face(const fn_face *faces, int n, fn_select how, int img_w, int img_h)
{
    fn_face_pick pick = how == FN_SELECT_LARGEST ? FN_PICK_LARGEST
                        : how == FN_SELECT_CENTER ? FN_PICK_CENTER_WEIGHTED
                                                  : FN_PICK_PROBABILITY;
    return fn_mtcnn_pick(faces, n, img_w, img_h, pick);
}

fn_status fn_refine_face(fn_engine *e, const fn_image *img, const float box[4], fn_face *face)
{
    if (img->c != 3) return fn_fail(FN_ERR_ARG, "faces can only be refined in RGB images");
    FN_TRY(fn_engine_need_detector(e));
    struct fn_mtcnn *m;
    FN_TRY(fn_engine_detector_acquire(e, &m));
    fn_status s = fn_mtcnn_refine_rgb(m, img->data, img->w, img->h, (size_t)img->w * 3, box, face);
    fn_engine_detector_release(e, m);
    return s;
}

fn_status fn_backends_describe(char *buf, size_t cap)
{
    if (!buf || cap == 0) return fn_fail(FN_ERR_ARG, "fn_backends_describe: no buffer");
    buf[0] = '\0';
    char conv[512];
    if (fn_mathlib_dnnl() == FN_OK) {
        const dnnl_version_t *v = dnnl_version();
        snprintf(conv, sizeof conv, "oneDNN %d.%d.%d (CPU ISA chosen at run time; MobileFaceNet's first faces "
                 "on direct kernels)", v->major, v->minor, v->patch);
    } else {
        /* MobileFaceNet still runs (direct kernels); FaceNet checkpoints do not. */
        snprintf(conv, sizeof conv, "direct kernels only (MobileFaceNet; a FaceNet .pt needs oneDNN): %s",
                 fn_last_error());
        fn_clear_error();
    }
    snprintf(buf, cap,
             "convolutions: %s\n"
             "gallery search: %s\n"
             "gallery store: SQLite %s\n",
             conv, openblas_get_config(), sqlite3_libversion());
    return FN_OK;
}
