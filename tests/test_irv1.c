/* InceptionResnetV1 against facenet-pytorch's own outputs (fixtures in
 * ../shared/fixtures/facenet_random): embeddings, logits and the activation
 * after every named layer; the reference-kernel path as a second oracle;
 * and wrong checkpoints rejected with a sentence naming file and tensor. */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "core/error.h"
#include "io/weights.h"
#include "models/inception_resnet_v1.h"
#include "irv1_random.h"
#include "pt_write.h"

#define IN_PER (3 * FN_IRV1_SIZE * FN_IRV1_SIZE)

#ifdef __SANITIZE_ADDRESS__
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static const char *layers[] = {"conv2d_1a", "conv2d_2b", "maxpool_3a", "conv2d_4b", "repeat_1", "mixed_6a", "repeat_2",
                               "mixed_7a", "repeat_3", "block8", "avgpool_1a", "last_linear", "last_bn"};
#define NLAYERS (int)(sizeof layers / sizeof *layers)

typedef struct taps {
    t_npy want[NLAYERS];
    float worst_rel[NLAYERS];
    int seen[NLAYERS];
    const char *path;
} taps;

/* Compares the first image of each tapped activation with act_<layer>.npy. */
static void on_tap(void *user, const char *layer, const fn_tensor *act)
{
    taps *tp = user;
    for (int i = 0; i < NLAYERS; i++) {
        if (strcmp(layers[i], layer) != 0) continue;
        const t_npy *w = &tp->want[i];
        long per = (long)act->c * act->h * act->w;
        tp->seen[i]++;
        T_CHECK(per == w->numel, "%s: %ld values per image, fixture has %ld", layer, per, w->numel);
        if (per != w->numel) return;
        long where = 0;
        float d = t_max_abs_diff(act->data, w->data, per, &where), mag = 0.0f;
        for (long k = 0; k < per; k++) mag = fmaxf(mag, fabsf(w->data[k]));
        float rel = d / (mag > 1.0f ? mag : 1.0f);
        printf("  %-6s %-12s max|d| %.3e at %7ld  (max|ref| %.3g, rel %.2e)\n", tp->path, layer, d, where, mag, rel);
        tp->worst_rel[i] = rel;
        /* float32 through up to ~130 layers: relative to the layer's scale */
        T_CHECK(rel <= 2e-5f, "%s %s: activation differs by %g (rel %g)", tp->path, layer, d, rel);
    }
}

/* Without the reference data: a random checkpoint made here (same names
 * and shapes), written as a legacy .pt and read back. */
static int have_fixture;

static fn_weights *random_checkpoint(void)
{
    t_not_checked("InceptionResnetV1 against facenet-pytorch's outputs (embeddings, logits, every named layer; "
                  "needs %s/fixtures/facenet_random): a random checkpoint written here is checked fast path "
                  "against reference path, threads, batch schedules and bad checkpoints only", t_shared_dir());
    fn_weights *made = t_irv1_random(20240501u, 8631);
    if (!made) { fprintf(stderr, "cannot make the random checkpoint\n"); exit(1); }
    char pt[512];
    snprintf(pt, sizeof pt, "%s/irv1_random.pt", t_tmpdir());
    T_CHECK(ptw_save_weights(made, pt, 1) == 0, "cannot write %s", pt);
    fn_weights *w = NULL;
    if (fn_weights_load_pt(pt, &w) != FN_OK) { T_CHECK(0, "load %s: %s", pt, fn_last_error()); exit(T_DONE()); }
    int same = w->count == made->count;
    for (int i = 0; same && i < w->count; i++) {
        const fn_wtensor *a = &made->tensors[i], *b = fn_weights_find(w, a->name);
        same = b && b->numel == a->numel && memcmp(a->data, b->data, (size_t)a->numel * sizeof(float)) == 0;
    }
    printf("random checkpoint: %d tensors written as a legacy .pt and read back %s\n", w->count,
           same ? "bit-exact" : "DIFFERENT");
    T_CHECK(same, "the random checkpoint did not read back bit-exact");
    fn_weights_free(made);
    return w;
}

/* input.npy (4 aligned faces) or, without it, 4 images of uniform noise in [-1, 1). */
static int load_input(t_npy *in)
{
    if (have_fixture) return t_npy_load(t_shared("fixtures/facenet_random/input.npy"), in);
    memset(in, 0, sizeof *in);
    in->ndim = 4; in->shape[0] = 4; in->shape[1] = 3; in->shape[2] = in->shape[3] = FN_IRV1_SIZE;
    in->numel = 4L * IN_PER;
    in->data = malloc((size_t)in->numel * sizeof(float));
    unsigned s = 7u;
    for (long i = 0; i < in->numel; i++) {
        s = s * 1103515245u + 12345u;
        in->data[i] = (float)(s >> 8) / (float)(1u << 23) - 1.0f;
    }
    return 0;
}

static fn_weights *load_checkpoint(void)
{
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/fixtures/facenet_random/irv1_random_legacy.pt.xz", t_shared_dir());
    have_fixture = access(probe, R_OK) == 0;
    if (!have_fixture) return random_checkpoint();
    const char *xz = t_shared("fixtures/facenet_random/irv1_random_legacy.pt.xz");
    char pt[512], cmd[1200];
    snprintf(pt, sizeof pt, "%s/irv1.pt", t_tmpdir());
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", xz, pt);
    if (system(cmd) != 0) { fprintf(stderr, "cannot decompress %s\n", xz); exit(1); }
    fn_weights *w = NULL;
    if (fn_weights_load_pt(pt, &w) != FN_OK) { fprintf(stderr, "load: %s\n", fn_last_error()); exit(1); }
    return w;
}

static void compare_outputs(const char *what, const float *emb, const float *want_emb, const float *logits,
                            const float *want_logits, int n, int classes)
{
    for (int i = 0; i < n; i++) {
        long where = 0;
        float d = t_max_abs_diff(emb + (size_t)i * FN_IRV1_DIM, want_emb + (size_t)i * FN_IRV1_DIM, FN_IRV1_DIM, &where);
        printf("%s embedding %d: max|d| %.3e at %ld\n", what, i, d, where);
        T_CHECK(d <= 1e-4f, "%s embedding %d differs by %g at %ld", what, i, d, where);
        if (!logits) continue;
        const float *l = logits + (size_t)i * classes, *wl = want_logits + (size_t)i * classes;
        float dl = t_max_abs_diff(l, wl, classes, &where), mag = 0.0f;
        for (int k = 0; k < classes; k++) mag = fmaxf(mag, fabsf(wl[k]));
        printf("%s logits %d: max|d| %.3e at %ld (max|ref| %.3g, rel %.2e)\n", what, i, dl, where, mag, dl / mag);
        T_CHECK(dl <= 1e-3f * mag, "%s logits %d differ by %g (max %g)", what, i, dl, mag);
    }
}

static void count_tap(void *user, const char *layer, const fn_tensor *act);

/* Without the fixture: the fast path against the reference-kernel path. */
static void test_fast_vs_ref(fn_irv1 *m, const fn_weights *w)
{
    t_npy in;
    load_input(&in);
    int classes = fn_irv1_num_classes(m), count = 0;
    T_CHECK(classes == 8631, "classes %d", classes);
    float *emb = calloc(2 * FN_IRV1_DIM, sizeof(float)), *ref = calloc(FN_IRV1_DIM, sizeof(float));
    float *logits = calloc((size_t)2 * classes, sizeof(float)), *ref_logits = calloc((size_t)classes, sizeof(float));
    T_CHECK(fn_irv1_embed_debug(m, NULL, in.data, SANITIZED ? 1 : 2, emb, logits, count_tap, &count) == FN_OK,
            "embed: %s", fn_last_error());
    T_CHECK(count == NLAYERS, "%d layer taps, expected %d", count, NLAYERS);
    double n2 = 0;
    for (int k = 0; k < FN_IRV1_DIM; k++) n2 += (double)emb[k] * emb[k];
    T_CHECK(fabs(n2 - 1.0) < 1e-4, "embedding 0: |e|^2 = %.6f, not 1", n2);
    if (!SANITIZED) {
        T_CHECK(fn_irv1_embed_debug(m, w, in.data, 1, ref, ref_logits, NULL, NULL) == FN_OK, "reference embed: %s",
                fn_last_error());
        compare_outputs("fast vs ref", emb, ref, logits, ref_logits, 1, classes);
    }
    free(emb); free(ref); free(logits); free(ref_logits);
    t_npy_free(&in);
}

static void test_parity(fn_irv1 *m, const fn_weights *w)
{
    if (!have_fixture) { test_fast_vs_ref(m, w); return; }
    t_npy in, emb_want, logit_want;
    T_CHECK(t_npy_load(t_shared("fixtures/facenet_random/input.npy"), &in) == 0, "input.npy");
    T_CHECK(t_npy_load(t_shared("fixtures/facenet_random/embeddings.npy"), &emb_want) == 0, "embeddings.npy");
    T_CHECK(t_npy_load(t_shared("fixtures/facenet_random/logits.npy"), &logit_want) == 0, "logits.npy");
    int n = (int)in.shape[0], classes = fn_irv1_num_classes(m);
    T_CHECK(classes == 8631 && logit_want.shape[1] == classes, "classes %d", classes);
    taps tp = {0};
    for (int i = 0; i < NLAYERS; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "fixtures/facenet_random/act_%s.npy", layers[i]);
        T_CHECK(t_npy_load(t_shared(rel), &tp.want[i]) == 0, "%s", rel);
    }
    /* The sanitised build is slow: one image on the fast path there. */
    int nfast = SANITIZED ? 1 : n;
    float *emb = calloc((size_t)n * FN_IRV1_DIM, sizeof(float)), *logits = calloc((size_t)n * classes, sizeof(float));
    tp.path = "fast";
    fn_status st = fn_irv1_embed_debug(m, NULL, in.data, nfast, emb, logits, on_tap, &tp);
    T_CHECK(st == FN_OK, "embed: %s", fn_last_error());
    compare_outputs("fast", emb, emb_want.data, logits, logit_want.data, nfast, classes);
    for (int i = 0; i < NLAYERS; i++) T_CHECK(tp.seen[i] == 1, "layer %s tapped %d times", layers[i], tp.seen[i]);

    /* The plain API gives the same numbers (and reuses the workspace). */
    float *emb2 = calloc((size_t)n * FN_IRV1_DIM, sizeof(float));
    st = fn_irv1_embed(m, in.data, nfast, emb2, NULL);
    T_CHECK(st == FN_OK && memcmp(emb, emb2, (size_t)nfast * FN_IRV1_DIM * sizeof(float)) == 0,
            "fn_irv1_embed differs from the debug call");

    if (!SANITIZED) {   /* reference kernels, first image */
        memset(tp.seen, 0, sizeof tp.seen);
        tp.path = "ref";
        st = fn_irv1_embed_debug(m, w, in.data, 1, emb2, logits, on_tap, &tp);
        T_CHECK(st == FN_OK, "reference embed: %s", fn_last_error());
        compare_outputs("ref", emb2, emb_want.data, logits, logit_want.data, 1, classes);
        long where;
        float d = t_max_abs_diff(emb, emb2, FN_IRV1_DIM, &where);
        printf("fast vs ref embedding 0: max|d| %.3e at %ld\n", d, where);
        T_CHECK(d <= 1e-4f, "fast and reference paths differ by %g", d);
    }
    free(emb); free(emb2); free(logits);
    for (int i = 0; i < NLAYERS; i++) t_npy_free(&tp.want[i]);
    t_npy_free(&in); t_npy_free(&emb_want); t_npy_free(&logit_want);
}

/* A view of w with one tensor removed (drop) or one dimension altered. */
static fn_weights *altered(const fn_weights *w, const char *name, int drop, fn_wtensor **keep_table)
{
    fn_weights *v = malloc(sizeof *v);
    *v = *w;
    v->by_name = NULL;   /* linear lookup over the edited table */
    fn_wtensor *tab = malloc((size_t)w->count * sizeof *tab);
    int k = 0;
    for (int i = 0; i < w->count; i++) {
        if (strcmp(w->tensors[i].name, name) == 0) {
            if (drop) continue;
            tab[k] = w->tensors[i];
            tab[k].shape[tab[k].ndim - 1] += 1;
            k++;
            continue;
        }
        tab[k++] = w->tensors[i];
    }
    v->tensors = tab;
    v->count = k;
    *keep_table = tab;
    return v;
}

static void expect_model_error(const fn_weights *w, const char *what, const char *must_mention)
{
    fn_irv1 *m = NULL;
    fn_status st = fn_irv1_new(w, &m);
    const char *msg = fn_last_error();
    printf("%s -> %s: %s\n", what, fn_status_name(st), msg);
    T_CHECK(st == FN_ERR_MODEL && m == NULL, "%s accepted (status %d)", what, st);
    T_CHECK(strstr(msg, must_mention) != NULL, "%s: message does not mention %s", what, must_mention);
    fn_irv1_free(m);
}

static void test_bad_checkpoints(const fn_weights *w)
{
    fn_weights *pnet = NULL;
    const char *pnet_path = ptw_mtcnn_pt("pnet", 0);
    fn_status st = pnet_path ? fn_weights_load_pt(pnet_path, &pnet) : FN_ERR_IO;
    if (!pnet_path) t_not_checked("a P-Net checkpoint is refused as InceptionResnetV1 (no pnet weights)");
    else T_CHECK(st == FN_OK, "pnet.pt: %s", fn_last_error());
    if (st == FN_OK) expect_model_error(pnet, "P-Net checkpoint", "pnet.pt");
    fn_weights_free(pnet);

    fn_wtensor *tab;
    fn_weights *v = altered(w, "repeat_2.7.branch1.2.bn.running_var", 1, &tab);
    expect_model_error(v, "missing tensor", "repeat_2.7.branch1.2.bn.running_var");
    free(tab); free(v);
    v = altered(w, "mixed_7a.branch2.1.conv.weight", 0, &tab);
    expect_model_error(v, "wrong shape", "mixed_7a.branch2.1.conv.weight");
    free(tab); free(v);
    v = altered(w, "last_linear.weight", 0, &tab);
    expect_model_error(v, "wrong head shape", "last_linear.weight");
    free(tab); free(v);

    fn_irv1 *m = NULL;
    T_CHECK(fn_irv1_new(NULL, &m) == FN_ERR_ARG, "NULL weights accepted");
}

/* Two threads on one model at once: each gets its own workspace and must
 * reproduce the single-threaded embeddings. */
typedef struct job { fn_irv1 *m; const float *in; int n; float emb[2 * FN_IRV1_DIM]; fn_status st; } job;

static void *run_job(void *arg)
{
    job *j = arg;
    for (int rep = 0; rep < 2 && j->st == FN_OK; rep++) j->st = fn_irv1_embed(j->m, j->in, j->n, j->emb, NULL);
    return NULL;
}

static void test_threads(fn_irv1 *m)
{
    t_npy in;
    if (load_input(&in) != 0) { T_CHECK(0, "input.npy"); return; }
    static job jobs[2];
    float serial[2][2 * FN_IRV1_DIM];
    for (int k = 0; k < 2; k++) {
        jobs[k] = (job){m, in.data + (size_t)k * 2 * IN_PER, SANITIZED ? 1 : 2, {0}, FN_OK};
        T_CHECK(fn_irv1_embed(m, jobs[k].in, jobs[k].n, serial[k], NULL) == FN_OK, "serial: %s", fn_last_error());
    }
    pthread_t th[2];
    for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, run_job, &jobs[k]);
    for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 2; k++) {
        long where = 0;
        float d = t_max_abs_diff(jobs[k].emb, serial[k], (long)jobs[k].n * FN_IRV1_DIM, &where);
        printf("thread %d (%d images): status %d, max|d| vs serial %.3e\n", k, jobs[k].n, jobs[k].st, d);
        T_CHECK(jobs[k].st == FN_OK && d <= 1e-6f, "thread %d differs by %g (status %d)", k, d, jobs[k].st);
    }
    t_npy_free(&in);
}

static void test_bad_calls(fn_irv1 *m)
{
    float x[4] = {0}, e[FN_IRV1_DIM];
    T_CHECK(fn_irv1_embed(m, x, 0, e, NULL) == FN_ERR_ARG, "n = 0 accepted");
    T_CHECK(fn_irv1_embed(m, NULL, 1, e, NULL) == FN_ERR_ARG, "NULL input accepted");
    T_CHECK(fn_irv1_embed(m, x, 1, NULL, NULL) == FN_ERR_ARG, "NULL output accepted");
}

static void count_tap(void *user, const char *layer, const fn_tensor *act)
{
    (void)layer; (void)act;
    ++*(int *)user;
}

/* A batch is split into per-thread shares of whole images (one parallel
 * region per call); a tap forces the other schedule, every layer split
 * across the threads.  Both must give the fixture's embeddings, so they
 * must agree; two images, so this runs under the sanitisers too. */
static void test_batch_split(fn_irv1 *m)
{
    t_npy in;
    T_CHECK(load_input(&in) == 0, "input.npy");
    if (in.shape[0] < 2) { t_npy_free(&in); return; }
    float split[2 * FN_IRV1_DIM], layered[2 * FN_IRV1_DIM];
    int taps = 0;
    T_CHECK(fn_irv1_embed(m, in.data, 2, split, NULL) == FN_OK, "split batch: %s", fn_last_error());
    T_CHECK(fn_irv1_embed_debug(m, NULL, in.data, 2, layered, NULL, count_tap, &taps) == FN_OK,
            "layer-split batch: %s", fn_last_error());
    long where;
    float d = t_max_abs_diff(split, layered, 2 * FN_IRV1_DIM, &where);
    printf("batch of 2, split by image vs by layer: max|d| %.3e at %ld (%d taps)\n", d, where, taps);
    T_CHECK(d <= 1e-5f && taps > 0, "schedules differ by %g", d);
    t_npy_free(&in);
}

int main(void)
{
    fn_weights *w = load_checkpoint();
    fn_irv1 *m = NULL;
    fn_status st = fn_irv1_new(w, &m);
    T_CHECK(st == FN_OK, "fn_irv1_new: %s", fn_last_error());
    if (st == FN_OK) {
        test_parity(m, w);
        test_threads(m);
        test_batch_split(m);
        test_bad_calls(m);
    }
    test_bad_checkpoints(w);
    fn_irv1_free(m);
    fn_weights_free(w);
    return T_DONE();
}
