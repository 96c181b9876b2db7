/* facenet eval-pairs — LFW-style verification accuracy of the engine on a
 * pairs file: k-fold (View 2) or train/test (View 1) accuracy, ROC AUC, EER
 * and TAR at fixed FARs, with and without the flipped-face embedding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "outputs.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_PAIRS, "the pairs to report on (pairs.txt, pairsDevTest.txt)"),
    FN_USE_REQ(FN_O_IMAGES, "LFW image root: DIR/<Name>/<Name>_<NNNN>.jpg"),
    FN_USE_H(FN_O_TRAIN_PAIRS, "View 1: choose the threshold on these pairs (pairsDevTrain.txt)"),
    FN_USE_H(FN_O_FLIP, "also embed the mirrored face and add it before normalising; reports both with and without"),
    FN_USE_H(FN_O_PLOT, "write the ROC and the distance histograms (not replacing a file without --overwrite)"),
    FN_USE(FN_O_OVERWRITE),
    FN_USE_H(FN_O_JSON, "one JSON object with every figure"),
    FN_USE(FN_O_NO_CACHE),
    FN_USE_D(FN_O_JOBS, "0", "threads decoding and detecting (0: one per CPU; 1: one file at a time)"),
    FN_USE_D(FN_O_BATCH, "32", "files whose faces are embedded in one network call (1: one file at a time)"),
    FN_CLI_MODEL_USES, FN_CLI_DETECTOR_USES, FN_USE_T(FN_O_MIN_FACE, "20", NULL), FN_CLI_MTCNN_USES,
    FN_USE_D(FN_O_SELECT, "center",
             "which face of an image: FaceNet's LFW evaluation takes the one nearest the centre"),
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "eval-pairs",
    .usage = (const char *const[]){
        "--pairs PAIRS.txt --images DIR [--train-pairs TRAIN.txt] [--flip] [--json] [--plot F.svg]", NULL},
    .description =
        "Verification accuracy on LFW-format pairs.  A View 2 file (\"10 300\" header) is scored\n"
        "by 10-fold cross-validation (mean and std of the folds' accuracy).  A View 1 file\n"
        "(\"500\" header) takes its threshold from --train-pairs when given, else reports the\n"
        "best-threshold accuracy on the file itself (optimistic).  Over all pairs: ROC AUC,\n"
        "EER and TAR at FAR 1e-3 and 1e-2.  Each image gives one face, chosen as FaceNet's\n"
        "LFW evaluation does (--select center by default).  When the detector finds no face\n"
        "the central box of 0.6 x the shorter side is embedded instead (FaceNet's LFW\n"
        "evaluation has no answer for such pairs either; keeping them keeps the protocol's\n"
        "pair count); these images are counted as missed_faces.",
    .opts = uses, .min_args = 0, .max_args = 0,
    .examples = (const char *const[]){
        "facenet eval-pairs --pairs lfw/pairsDevTest.txt --train-pairs lfw/pairsDevTrain.txt --images lfw/images --flip",
        NULL},
    .exits = (const fn_cli_exit[]){{1, "failure: a pairs file or image could not be read, the model could not be "
                                       "opened, or the plot could not be written (named on stderr)"},
                                   {0, NULL}},
};

/* Every distinct image of the pair lists, embedded once. */
typedef struct image_set {
    char **rel;            /* sorted, distinct relative paths (borrowed from the pair lists) */
    int n, dim;
    float *emb, *emb_flip; /* n x dim each */
    unsigned char *face;   /* the detector found a face */
} image_set;

typedef struct figures {
    const char *protocol;
    double acc_mean, acc_std, thr;
    double train_acc;
    double auc, eer, eer_thr;
    fn_op far3, far2;
    fn_op best;           /* best threshold on the reported pairs themselves */
} figures;

static int cmp_rel(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int image_index(const image_set *s, const char *rel)
{
    char **hit = bsearch(&rel, s->rel, (size_t)s->n, sizeof *s->rel, cmp_rel);
    return hit ? (int)(hit - s->rel) : -1;
}

static int collect_images(image_set *s, const fn_pairs *a, const fn_pairs *b)
{
    size_t cap = 2 * (a->n + (b ? b->n : 0));
    s->rel = malloc(sizeof *s->rel * (cap ? cap : 1));
    if (!s->rel) return -1;
    size_t n = 0;
    for (const fn_pairs *p = a; p; p = (p == a ? b : NULL))
        for (size_t i = 0; i < p->n; i++) {
            s->rel[n++] = (char *)p->items[i].path1;
            s->rel[n++] = (char *)p->items[i].path2;
        }
    qsort(s->rel, n, sizeof *s->rel, cmp_rel);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(s->rel[u - 1], s->rel[i])) s->rel[u++] = s->rel[i];
    s->n = (int)u;
    return 0;
}

static void image_set_free(image_set *s)
{
    free(s->rel);
    free(s->emb);
    free(s->emb_flip);
    free(s->face);
}

typedef struct embed_ctx {
    image_set *s;
    int json;
    fn_progress prog;
} embed_ctx;

static fn_status embedded(void *user, int i, fn_status st, const fn_embed_result *r, const float *emb,
                          const float *emb_flip)
{
    embed_ctx *c = user;
    image_set *s = c->s;
    fn_progress_step(&c->prog, s->rel[i]);
    if (st != FN_OK) return st;
    size_t d = (size_t)s->dim;
    memcpy(s->emb + (size_t)i * d, emb, sizeof(float) * d);
    if (emb_flip) memcpy(s->emb_flip + (size_t)i * d, emb_flip, sizeof(float) * d);
    s->face[i] = (unsigned char)r->has_face;
    if (!r->has_face && !c->json) {
        fn_progress_end(&c->prog);
        fprintf(stderr, "no face found in %s: using the centre crop\n", s->rel[i]);
    }
    return FN_OK;
}

/* Every image through the bulk executor (fn_embedder_run_many), in order. */
static int embed_all(image_set *s, fn_embedder *x, const char *root, int json)
{
    s->dim = x->dim;
    size_t per = (size_t)s->n * s->dim;
    s->emb = malloc(sizeof(float) * (per ? per : 1));
    s->emb_flip = malloc(sizeof(float) * (per ? per : 1));
    s->face = calloc((size_t)s->n + 1, 1);
    char **paths = calloc((size_t)s->n + 1, sizeof *paths);
    int rc = 0;
    if (!s->emb || !s->emb_flip || !s->face || !paths) rc = fn_cli_error("eval-pairs", "out of memory for %d embeddings", s->n);
    for (int i = 0; !rc && i < s->n; i++) {
        size_t len = strlen(root) + strlen(s->rel[i]) + 2;
        if (!(paths[i] = malloc(len))) rc = fn_cli_error("eval-pairs", "out of memory");
        else snprintf(paths[i], len, "%s/%s", root, s->rel[i]);
    }
    if (!rc) {
        embed_ctx c = {s, json, {0}};
        fn_progress_start(&c.prog, "embedding", s->n);
        fn_status st = fn_embedder_run_many(x, (const char *const *)paths, s->n, embedded, &c);
        fn_progress_end(&c.prog);
        if (st != FN_OK) rc = fn_cli_fail("eval-pairs", st);
    }
    for (int i = 0; paths && i < s->n; i++) free(paths[i]);
    free(paths);
    return rc;
}

/* Pair distances (plain or flip embeddings) and same flags and folds. */
static int pair_distances(const image_set *s, const fn_pairs *p, int flip, double *dist, unsigned char *same,
                          int *fold)
{
    const float *e = flip ? s->emb_flip : s->emb;
    for (size_t i = 0; i < p->n; i++) {
        int a = image_index(s, p->items[i].path1), b = image_index(s, p->items[i].path2);
        if (a < 0 || b < 0) return -1;
        dist[i] = fn_distance(e + (size_t)a * s->dim, e + (size_t)b * s->dim, s->dim);
        same[i] = (unsigned char)p->items[i].same;
        fold[i] = p->items[i].fold;
    }
    return 0;
}

/* Images without a face that the given list uses. */
static int missed_in(const image_set *s, const fn_pairs *p)
{
    unsigned char *seen = calloc((size_t)s->n + 1, 1);
    int n = 0;
    for (size_t i = 0; seen && i < p->n; i++) {
        int ab[2] = {image_index(s, p->items[i].path1), image_index(s, p->items[i].path2)};
        for (int j = 0; j < 2; j++)
            if (!s->face[ab[j]] && !seen[ab[j]]) {
                seen[ab[j]] = 1;
                n++;
            }
    }
    free(seen);
    return n;
}

typedef struct pair_lists {
    size_t n;
    double *dist;
    unsigned char *same;
    int *fold;
} pair_lists;

static int lists_make(pair_lists *l, const image_set *s, const fn_pairs *p, int flip)
{
    l->n = p->n;
    l->dist = malloc(sizeof *l->dist * (p->n + 1));
    l->same = malloc(p->n + 1);
    l->fold = malloc(sizeof *l->fold * (p->n + 1));
    if (!l->dist || !l->same || !l->fold) return -1;
    return pair_distances(s, p, flip, l->dist, l->same, l->fold);
}

static void lists_free(pair_lists *l)
{
    free(l->dist);
    free(l->same);
    free(l->fold);
}

#define TRY(expr) do { fn_status s_ = (expr); if (s_ != FN_OK) return s_; } while (0)

static fn_status compute(const fn_pairs *test, const pair_lists *t, const pair_lists *train, figures *f, fn_roc *roc)
{
    memset(f, 0, sizeof *f);
    TRY(fn_roc_compute(t->dist, t->same, t->n, roc));
    f->auc = fn_roc_auc(roc);
    fn_eer e = fn_roc_eer(roc);
    f->eer = e.eer;
    f->eer_thr = e.thr;
    f->far3 = fn_roc_at_far(roc, 1e-3);
    f->far2 = fn_roc_at_far(roc, 1e-2);
    f->best = fn_roc_best_accuracy(roc);
    f->train_acc = NAN;
    if (test->view == 2 && test->nfolds > 1) {
        fn_kfold k;
        TRY(fn_kfold_eval(t->dist, t->same, t->fold, t->n, test->nfolds, 1e-3, &k));
        f->protocol = "10-fold";
        f->acc_mean = k.acc_mean;
        f->acc_std = k.acc_std;
        double m, sd;
        fn_mean_std(k.thr, k.k, &m, &sd);
        f->thr = m;
    } else if (train) {
        fn_train_test tt;
        TRY(fn_train_test_eval(train->dist, train->same, train->n, t->dist, t->same, t->n, &tt));
        f->protocol = "train-test";
        f->acc_mean = tt.test.acc;
        f->thr = tt.thr;
        f->train_acc = tt.train_acc;
    } else {
        f->protocol = "best-threshold";
        f->acc_mean = f->best.acc;
        f->thr = f->best.thr;
    }
    return FN_OK;
}

static void add_figures(cJSON *o, const figures *f)
{
    cJSON_AddStringToObject(o, "protocol", f->protocol);
    cJSON_AddNumberToObject(o, "accuracy_mean", f->acc_mean);
    cJSON_AddNumberToObject(o, "accuracy_std", f->acc_std);
    cJSON_AddNumberToObject(o, "threshold", f->thr);
    if (!isnan(f->train_acc)) cJSON_AddNumberToObject(o, "train_accuracy", f->train_acc);
    cJSON_AddNumberToObject(o, "best_accuracy", f->best.acc);
    cJSON_AddNumberToObject(o, "best_threshold", f->best.thr);
    cJSON_AddNumberToObject(o, "auc", f->auc);
    cJSON_AddNumberToObject(o, "eer", f->eer);
    cJSON_AddNumberToObject(o, "eer_threshold", f->eer_thr);
    cJSON_AddNumberToObject(o, "tar_at_far_1e-3", f->far3.tar);
    cJSON_AddNumberToObject(o, "threshold_at_far_1e-3", f->far3.thr);
    cJSON_AddNumberToObject(o, "tar_at_far_1e-2", f->far2.tar);
    cJSON_AddNumberToObject(o, "threshold_at_far_1e-2", f->far2.thr);
}

static void print_figures(const char *title, const figures *f)
{
    printf("%s\n", title);
    if (!strcmp(f->protocol, "10-fold"))
        printf("  accuracy (10-fold)       %.2f %% +- %.2f  (mean threshold %.4f)\n", 100 * f->acc_mean,
               100 * f->acc_std, f->thr);
    else if (!strcmp(f->protocol, "train-test"))
        printf("  accuracy (train thr)     %.2f %%  at threshold %.4f (train accuracy %.2f %%)\n", 100 * f->acc_mean,
               f->thr, 100 * f->train_acc);
    else
        printf("  accuracy (best thr)      %.2f %%  at threshold %.4f (chosen on these pairs: optimistic)\n",
               100 * f->acc_mean, f->thr);
    printf("  best accuracy here       %.2f %%  at threshold %.4f\n", 100 * f->best.acc, f->best.thr);
    printf("  ROC AUC                  %.5f\n", f->auc);
    printf("  EER                      %.2f %%  at threshold %.4f\n", 100 * f->eer, f->eer_thr);
    printf("  TAR @ FAR 1e-3           %.2f %%  (threshold %.4f, FAR %.4f)\n", 100 * f->far3.tar, f->far3.thr,
           f->far3.far);
    printf("  TAR @ FAR 1e-2           %.2f %%  (threshold %.4f, FAR %.4f)\n", 100 * f->far2.tar, f->far2.thr,
           f->far2.far);
}

static int write_plot(const fn_outputs *o, const char *path, const pair_lists *t, const fn_roc *roc,
                      const figures *f)
{
    size_t ng = 0;
    for (size_t i = 0; i < t->n; i++) ng += t->same[i];
    double *g = malloc(sizeof *g * (ng + 1)), *im = malloc(sizeof *im * (t->n - ng + 1));
    fn_histogram *h = malloc(sizeof *h);
    fn_status s = g && im && h ? FN_OK : FN_ERR_NOMEM;
    size_t a = 0, b = 0;
    for (size_t i = 0; g && im && i < t->n; i++) {
        if (t->same[i]) g[a++] = t->dist[i];
        else im[b++] = t->dist[i];
    }
    if (s == FN_OK) s = fn_histogram_compute(g, a, im, b, 40, 0, 0, h);
    fn_op mark = f->far3;
    fn_svg_plot p = {"facenet eval-pairs", roc, 1, &mark, 1, h, f->thr};
    int rc = s == FN_OK ? fn_cli_save_svg("eval-pairs", o, path, &p) : fn_cli_fail("eval-pairs", s);
    free(g);
    free(im);
    free(h);
    return rc;
}

typedef struct args {
    const char *pairs, *images, *train, *plot;
    int flip, json, cache, workers;
    fn_cli_engine ce;
    fn_outputs outs;   /* the plot: never an input, not replaced without --overwrite */
} args;

static int parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    fn_cli_args o;
    int code;
    if (fn_cli_engine_parse(&a->ce, &spec, argc, argv, &o, &code)) return code ? code : -1;
    a->pairs = fn_cli_str(&o, FN_O_PAIRS);
    a->images = fn_cli_str(&o, FN_O_IMAGES);
    a->train = fn_cli_str(&o, FN_O_TRAIN_PAIRS);
    a->plot = fn_cli_str(&o, FN_O_PLOT);
    a->flip = fn_cli_flag(&o, FN_O_FLIP);
    a->json = fn_cli_flag(&o, FN_O_JSON);
    a->cache = !fn_cli_flag(&o, FN_O_NO_CACHE);
    /* fn_embedder.workers: 1 is the one-file-at-a-time path (--jobs 1 or --batch 1) */
    a->workers = fn_cli_int(&o, FN_O_BATCH, 32) <= 1 ? 1 : (int)fn_cli_int(&o, FN_O_JOBS, 0);
    char *in[2] = {(char *)a->pairs, (char *)(a->train ? a->train : a->pairs)};
    return a->plot && fn_cli_output_file("eval-pairs", &a->outs, a->plot, in, 2, fn_cli_flag(&o, FN_O_OVERWRITE));
}

static void report(const args *a, fn_engine *e, const fn_pairs *test, const fn_pairs *train, const image_set *s,
                   const figures *plain, const figures *flip, const fn_embedder *x, double secs)
{
    const figures *main = flip ? flip : plain;
    int missed = missed_in(s, test), train_missed = train ? missed_in(s, train) : 0;
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", fn_engine_model_id(e));
        cJSON_AddStringToObject(o, "select", fn_select_name(a->ce.select));
        cJSON_AddBoolToObject(o, "flip", flip != NULL);
        cJSON_AddNumberToObject(o, "pairs", (double)test->n);
        cJSON_AddNumberToObject(o, "same", (double)fn_pairs_count_same(test));
        cJSON_AddNumberToObject(o, "view", test->view);
        cJSON_AddNumberToObject(o, "missed_faces", missed);
        cJSON_AddStringToObject(o, "missed_face_policy", "center-crop-0.6");
        if (train) {
            cJSON_AddNumberToObject(o, "train_pairs", (double)train->n);
            cJSON_AddNumberToObject(o, "train_missed_faces", train_missed);
        }
        add_figures(o, main);
        if (flip) {
            cJSON *w = cJSON_CreateObject();
            add_figures(w, plain);
            cJSON_AddItemToObject(o, "without_flip", w);
        }
        cJSON_AddNumberToObject(o, "images", s->n);
        cJSON_AddNumberToObject(o, "cache_hits", x->hits);
        cJSON_AddNumberToObject(o, "seconds", secs);
        fn_cli_emit(o);
        return;
    }
    printf("model %s, face choice %s; %zu pairs (%zu same), %d images, %d without a detected face%s\n",
           fn_engine_model_id(e), fn_select_name(a->ce.select), test->n, fn_pairs_count_same(test), s->n, missed,
           missed ? " (centre crop used)" : "");
    if (train) printf("train pairs %zu, %d without a detected face\n", train->n, train_missed);
    print_figures(flip ? "without flip:" : "results:", plain);
    if (flip) print_figures("with flip (mirrored face added):", flip);
    printf("%.1f s (%d images from the cache)\n", secs, x->hits);
}

int fn_cmd_eval_pairs(int argc, char **argv)
{
    args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    double t0 = fn_now();
    fn_pairs *test = NULL, *train = NULL;
    fn_status st = fn_pairs_load(a.pairs, &test);
    if (st == FN_OK && a.train) st = fn_pairs_load(a.train, &train);
    if (st != FN_OK) {
        fn_pairs_free(test);
        fn_outputs_free(&a.outs);
        return fn_cli_fail("eval-pairs", st);
    }
    image_set s = {0};
    fn_engine *e = NULL;
    fn_embedder x = {0};
    pair_lists lt[2] = {{0}}, ltr[2] = {{0}};
    fn_roc roc[2] = {{0}};
    figures fig[2];
    if (collect_images(&s, test, train)) rc = fn_cli_error("eval-pairs", "out of memory");
    if (!rc) rc = fn_cli_engine_open(&a.ce, "eval-pairs", &e);
    if (!rc) {
        char cache[4096];
        const char *cpath = a.cache ? fn_cli_cache_path("eval-pairs", cache, sizeof cache) : NULL;
        if (a.cache && !cpath) rc = 1;
        else if ((st = fn_embedder_init(&x, e, &a.ce.opts, a.ce.select, a.flip, FN_MISS_CENTER_CROP, cpath)) != FN_OK)
            rc = fn_cli_fail("eval-pairs", st);
        x.workers = a.workers;
    }
    if (!rc) rc = embed_all(&s, &x, a.images, a.json);
    for (int v = 0; !rc && v <= a.flip; v++) {
        if (lists_make(&lt[v], &s, test, v) || (train && lists_make(&ltr[v], &s, train, v)))
            rc = fn_cli_error("eval-pairs", "out of memory for pair distances");
        if (!rc && (st = compute(test, &lt[v], train ? &ltr[v] : NULL, &fig[v], &roc[v])) != FN_OK)
            rc = fn_cli_fail("eval-pairs", st);
    }
    if (!rc) report(&a, e, test, train, &s, &fig[0], a.flip ? &fig[1] : NULL, &x, fn_now() - t0);
    if (!rc && a.plot) rc = write_plot(&a.outs, a.plot, &lt[a.flip], &roc[a.flip], &fig[a.flip]);
    fn_outputs_free(&a.outs);
    if (x.e) fn_cli_cache_warning("eval-pairs", &x);
    if (x.e && (st = fn_embedder_close(&x)) != FN_OK && !rc) rc = fn_cli_fail("eval-pairs", st);
    for (int v = 0; v < 2; v++) {
        lists_free(&lt[v]);
        lists_free(&ltr[v]);
        fn_roc_free(&roc[v]);
    }
    image_set_free(&s);
    fn_engine_free(e);
    fn_pairs_free(test);
    fn_pairs_free(train);
    return rc;
}
