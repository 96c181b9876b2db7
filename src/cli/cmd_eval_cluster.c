/* facenet eval-cluster — clustering quality on a folder-per-person tree:
 * pairwise and BCubed precision, recall and F1 of each method over a sweep
 * of thresholds; with --train-pairs, each method's threshold is chosen on
 * the people of that pairs file and reported on the others; then the
 * incremental step (fn_cluster_extend) against the full run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "labelled.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_IMAGES, "DIR/<person>/*.jpg: the faces to group and their true identities"),
    FN_USE_H(FN_O_TRAIN_PAIRS, "the people named in this pairs file choose each method's threshold; the scores "
                               "reported are on the other people (LFW: pairsDevTrain.txt)"),
    FN_USE_T(FN_O_METHOD, "all three", NULL),
    FN_USE_T(FN_O_LIMIT_RATIO, "1.111 (1.00 at 0.90)", NULL),
    FN_USE_T(FN_O_STEP, "0.05 (11 thresholds)", NULL),
    FN_USE_H(FN_O_JSON, "JSON Lines: one object per method and threshold, then the chosen ones"),
    FN_USE(FN_O_NO_CACHE),
    FN_CLI_MODEL_USES, FN_CLI_DETECTOR_USES, FN_USE_T(FN_O_MIN_FACE, "20", NULL), FN_CLI_MTCNN_USES,
    FN_USE_D(FN_O_SELECT, "center", "which face of an image is its person's (center: as the LFW protocols)"),
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "eval-cluster",
    .usage = (const char *const[]){"--images DIR [--train-pairs TRAIN.txt] [--method M] [--json]", NULL},
    .description =
        "Embeds one face per image (chosen by --select; a centre crop when none is found, as\n"
        "eval-pairs does; through the embedding cache), clusters them without the labels with\n"
        "Chinese whispers, DBSCAN, plain average linkage (upgma: one merge limit for all) and\n"
        "the library's average linkage (average: the limit grows with the pairs behind a mean,\n"
        "up to --limit-ratio times the threshold) at thresholds 0.60 to 1.10, --step apart,\n"
        "and scores each grouping against the folders: pairwise and BCubed precision, recall\n"
        "and F1, groups holding two people (mixed).  Without --train-pairs each method's best\n"
        "threshold on these images is marked (a baseline tuned on the data it is scored on).\n"
        "With --train-pairs the images of the people in that file are the tuning set: each\n"
        "method's best threshold (BCubed F1) is chosen on them and reported on the other\n"
        "people's images.  Last, the default (chosen on LFW's tuning people), then the\n"
        "incremental step: 7 of every 10 images clustered with the default method, the rest\n"
        "placed as a later scan's faces are (fn_cluster_extend), scored against the full run.",
    .opts = uses, .min_args = 0, .max_args = 0, .args_name = "",
    .examples = (const char *const[]){
        "facenet eval-cluster --images ../shared/datasets/lfw_view1/images "
        "--train-pairs ../shared/datasets/lfw_view1/pairsDevTrain.txt", NULL},
    .exits = NULL,
};

/* The sweep: 0.60 to 1.10, --step apart (at most 101 thresholds). */
#define SWEEP_LO 0.60
#define SWEEP_HI 1.10
#define NT_MAX 101

typedef struct set { float *x; int *truth; int n; } set;

/* A method as the sweep runs it: average linkage twice, plain and with the limit growing. */
typedef struct family { const char *name; fn_cluster_method method; float ratio; } family;

static int score(const set *s, int dim, const family *m, float t, fn_cluster_scores *sc, double *secs)
{
    fn_cluster_params p;
    fn_cluster_params_init(&p);
    p.knn = fn_knn_auto;   /* approximate (fn_knn_ivf) from FN_KNN_ANN_MIN_ROWS faces */
    p.method = m->method;
    p.average_limit_ratio = m->ratio;
    p.threshold = t;
    int *labels = malloc((size_t)(s->n ? s->n : 1) * sizeof *labels), ng = 0;
    if (!labels) return fn_cli_fail("eval-cluster", fn_fail(FN_ERR_NOMEM, "out of memory"));
    double t0 = fn_now();
    fn_status st = fn_cluster(s->x, s->n, dim, NULL, &p, labels, &ng);
    *secs = fn_now() - t0;
    if (st == FN_OK) st = fn_cluster_score(s->truth, labels, s->n, sc);
    free(labels);
    return st == FN_OK ? 0 : fn_cli_fail("eval-cluster", st);
}

/* dec: the threshold's decimals in the text (3 when --step has a third: 0.995 printed as 1.00 was taken
 * for the best threshold) */
static void report(int json, int dec, const char *split, const family *m, float t, const fn_cluster_scores *c, double secs,
                   const char *tag)
{
    if (json) {
        cJSON *o = cJSON_CreateObject();
        if (tag) cJSON_AddStringToObject(o, "chosen", tag);
        cJSON_AddStringToObject(o, "split", split);
        cJSON_AddStringToObject(o, "method", fn_cluster_method_name(m->method));
        if (m->method == FN_CLUSTER_AVERAGE) cJSON_AddNumberToObject(o, "limit_ratio", m->ratio);
        cJSON_AddNumberToObject(o, "threshold", t);
        cJSON_AddNumberToObject(o, "pair_precision", c->pair_precision);
        cJSON_AddNumberToObject(o, "pair_recall", c->pair_recall);
        cJSON_AddNumberToObject(o, "pair_f1", c->pair_f1);
        cJSON_AddNumberToObject(o, "bcubed_precision", c->bcubed_precision);
        cJSON_AddNumberToObject(o, "bcubed_recall", c->bcubed_recall);
        cJSON_AddNumberToObject(o, "bcubed_f1", c->bcubed_f1);
        cJSON_AddNumberToObject(o, "groups", c->n_groups);
        cJSON_AddNumberToObject(o, "singletons", c->n_singletons);
        cJSON_AddNumberToObject(o, "mixed_groups", c->n_mixed);
        cJSON_AddNumberToObject(o, "people", c->n_people);
        cJSON_AddNumberToObject(o, "seconds", secs);
        fn_cli_emit(o);
        return;
    }
    printf("%-6s %-9s %5.*f  %6.4f %6.4f %6.4f   %6.4f %6.4f %6.4f  %6d %6d %5d  %.2fs%s%s\n", split,
           m->name, dec, t, c->pair_precision, c->pair_recall, c->pair_f1, c->bcubed_precision,
           c->bcubed_recall, c->bcubed_f1, c->n_groups, c->n_singletons, c->n_mixed, secs, tag ? "  <- " : "",
           tag ? tag : "");
}

/* The incremental step on real faces: 7 of every 10 images (by position)
 * clustered first, the other 3 placed by fn_cluster_extend; against the
 * full run on all of them (its oracle): BCubed F1 of both, the pairs they
 * group differently, and the distances computed. */
static int incremental(const set *all, int dim, float t, float ratio, int json)
{
    int n = all->n;
    float *xa = malloc((size_t)(n ? n : 1) * dim * sizeof *xa);
    int *la = malloc((size_t)(n ? n : 1) * sizeof *la), *lab = malloc((size_t)(n ? n : 1) * sizeof *lab);
    int *full = malloc((size_t)(n ? n : 1) * sizeof *full);
    fn_status s = xa && la && lab && full ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory");
    int na = 0, ng = 0, nf = 0;
    for (int i = 0; s == FN_OK && i < n; i++)
        if (i % 10 < 7) memcpy(xa + (size_t)na++ * dim, all->x + (size_t)i * dim, (size_t)dim * sizeof *xa);
    fn_cluster_params p;
    fn_cluster_params_init(&p);
    p.threshold = t;
    p.average_limit_ratio = ratio;
    double t0 = fn_now(), full_s = 0, ext_s = 0;
    if (s == FN_OK) s = fn_cluster(all->x, n, dim, NULL, &p, full, &nf);
    full_s = fn_now() - t0;
    if (s == FN_OK) s = fn_cluster(xa, na, dim, NULL, &p, la, &ng);
    for (int i = 0, a = 0; s == FN_OK && i < n; i++) lab[i] = i % 10 < 7 ? la[a++] : -1;
    fn_cluster_extend_stats st = {0};
    t0 = fn_now();
    if (s == FN_OK) s = fn_cluster_extend(all->x, n, dim, NULL, &p, lab, &ng, &st);
    ext_s = fn_now() - t0;
    fn_cluster_scores sf = {0}, se = {0};
    if (s == FN_OK) s = fn_cluster_score(all->truth, full, n, &sf);
    if (s == FN_OK) s = fn_cluster_score(all->truth, lab, n, &se);
    long long differ = 0;
    for (int i = 0; s == FN_OK && i < n; i++)
        for (int j = i + 1; j < n; j++)
            differ += (full[i] >= 0 && full[i] == full[j]) != (lab[i] >= 0 && lab[i] == lab[j]);
    if (s == FN_OK && json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "incremental", fn_cluster_method_name(p.method));
        cJSON_AddNumberToObject(o, "threshold", t);
        cJSON_AddNumberToObject(o, "first", na);
        cJSON_AddNumberToObject(o, "placed", n - na);
        cJSON_AddNumberToObject(o, "bcubed_f1", se.bcubed_f1);
        cJSON_AddNumberToObject(o, "full_bcubed_f1", sf.bcubed_f1);
        cJSON_AddNumberToObject(o, "pairs_differ", (double)differ);
        cJSON_AddNumberToObject(o, "distances", (double)st.distances);
        cJSON_AddNumberToObject(o, "seconds", ext_s);
        cJSON_AddNumberToObject(o, "full_seconds", full_s);
        fn_cli_emit(o);
    } else if (s == FN_OK) {
        printf("incremental (%s at %.2f): %d images clustered, %d placed by extend (%d joined, %d in %d new groups): "
               "BCubed F1 %.4f against %.4f for the full run on all; %lld of %lld pairs grouped differently; "
               "%lld distances, %.2f s (full run %.2f s)\n", fn_cluster_method_name(p.method), t, na, n - na, st.joined,
               st.grouped, st.new_groups, se.bcubed_f1, sf.bcubed_f1, differ, (long long)n * (n - 1) / 2,
               (long long)st.distances, ext_s, full_s);
    }
    free(xa); free(la); free(lab); free(full);
    return s == FN_OK ? 0 : fn_cli_fail("eval-cluster", s);
}

int fn_cmd_eval_cluster(int argc, char **argv)
{
    fn_cli_args a;
    fn_cli_engine ce;
    int rc;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &a, &rc)) return rc;
    int json = fn_cli_flag(&a, FN_O_JSON);
    const char *root = fn_cli_str(&a, FN_O_IMAGES);
    fn_pairs *pairs = NULL;
    const char *tp = fn_cli_str(&a, FN_O_TRAIN_PAIRS);
    fn_status s = tp ? fn_pairs_load(tp, &pairs) : FN_OK;
    if (s != FN_OK) return fn_cli_fail("eval-cluster", s);
    fn_engine *e = NULL;
    if (fn_cli_engine_open(&ce, "eval-cluster", &e)) {
        fn_pairs_free(pairs);
        return 1;
    }
    int dim = fn_engine_dim(e);
    char cache[4200];
    const char *cpath = fn_cli_flag(&a, FN_O_NO_CACHE) ? NULL : fn_cli_cache_path("eval-cluster", cache, sizeof cache);
    fn_cli_labelled lab;
    if (fn_cli_embed_people("eval-cluster", root, e, &ce.opts, ce.select, FN_MISS_CENTER_CROP, cpath, &lab)) {
        fn_pairs_free(pairs);
        fn_engine_free(e);
        return 1;
    }
    /* the tuning people: those the pairs file names */
    unsigned char *tune = calloc((size_t)(lab.people.count ? lab.people.count : 1), 1);
    for (size_t i = 0; tune && pairs && i < pairs->n; i++)
        for (int w = 0; w < 2; w++) {
            const char *p = w ? pairs->items[i].path2 : pairs->items[i].path1;
            const char *sl = strchr(p, '/');
            size_t len = sl ? (size_t)(sl - p) : strlen(p);
            for (int k = 0; k < lab.people.count; k++)
                if (strlen(lab.people.items[k]) == len && !strncmp(lab.people.items[k], p, len)) tune[k] = 1;
        }
    fn_pairs_free(pairs);
    /* all, tuning and test sets */
    set all = {lab.x, lab.truth, lab.n}, tr = {0}, te = {0};
    int cap = lab.n ? lab.n : 1;
    tr.x = malloc((size_t)cap * dim * sizeof(float));
    tr.truth = malloc((size_t)cap * sizeof(int));
    te.x = malloc((size_t)cap * dim * sizeof(float));
    te.truth = malloc((size_t)cap * sizeof(int));
    for (int i = 0; tune && tr.x && tr.truth && te.x && te.truth && i < lab.n; i++) {
        set *t = tune[lab.truth[i]] ? &tr : &te;
        memcpy(t->x + (size_t)t->n * dim, lab.x + (size_t)i * dim, (size_t)dim * sizeof(float));
        t->truth[t->n++] = lab.truth[i];
    }
    int people = 0;   /* with an image embedded: an empty folder is nobody */
    {
        unsigned char *seen = calloc((size_t)(lab.people.count ? lab.people.count : 1), 1);
        for (int i = 0; seen && i < lab.n; i++)
            if (!seen[lab.truth[i]]) seen[lab.truth[i]] = 1, people++;   /* a count wrapped at 256 images */
        free(seen);
    }
    if (!json)
        printf("%d images of %d people embedded (%d without an embedding); tuning set %d, test set %d (model %s)\n"
               "%-6s %-9s %5s  %6s %6s %6s   %6s %6s %6s  %6s %6s %5s\n",
               all.n, people, lab.missing, tr.n, te.n, fn_engine_model_id(e), "split", "method", "thr",
               "pairP", "pairR", "pairF1", "B3 P", "B3 R", "B3 F1", "groups", "single", "mixed");
    float ratio = (float)fn_cli_float(&a, FN_O_LIMIT_RATIO, FN_CLUSTER_AVERAGE_LIMIT_RATIO);
    family fams[4] = {{"whispers", FN_CLUSTER_WHISPERS, 0}, {"dbscan", FN_CLUSTER_DBSCAN, 0},
                      {"upgma", FN_CLUSTER_AVERAGE, 1}, {"average", FN_CLUSTER_AVERAGE, ratio}};
    const family *ms = fams;
    int nm = 4;
    if (fn_cli_given(&a, FN_O_METHOD)) {   /* whispers, dbscan, or both average linkages */
        int w = fn_cli_enum(&a, FN_O_METHOD, 0);
        ms = fams + w;
        nm = w == 2 ? 2 : 1;
    }
    family deflt = {"average", FN_CLUSTER_DEFAULT_METHOD, ratio};
    rc = 0;
    double step = fn_cli_float(&a, FN_O_STEP, 0.05);
    int dec = 2;   /* as many decimals as the step has, 2 to 5 (0.0125: 0.6125 was printed 0.613; 0.00625 needs 5) */
    while (dec < 5 && fabs(step * pow(10, dec) - floor(step * pow(10, dec) + 0.5)) > 1e-6) dec++;
    float sweep[NT_MAX];
    int nt = 0;
    while (nt < NT_MAX && SWEEP_LO + nt * step <= SWEEP_HI + 1e-6) {
        sweep[nt] = (float)(SWEEP_LO + nt * step);
        nt++;
    }
    for (int mi = 0; !rc && mi < nm && all.n > 0; mi++) {
        float best_t = sweep[0];
        double best_f = -1;
        fn_cluster_scores best_c = {0};
        double best_secs = 0;
        for (int ti = 0; !rc && ti < nt; ti++) {
            fn_cluster_scores c;
            double secs;
            const set *on = tr.n ? &tr : &all;
            rc = score(on, dim, &ms[mi], sweep[ti], &c, &secs);
            if (rc) break;
            report(json, dec, tr.n ? "tune" : "all", &ms[mi], sweep[ti], &c, secs, NULL);
            if (c.bcubed_f1 > best_f) {   /* ties: the smaller threshold, the one that merges less */
                best_f = c.bcubed_f1;
                best_t = sweep[ti];
                best_c = c;
                best_secs = secs;
            }
            if (tr.n && te.n) {
                rc = score(&te, dim, &ms[mi], sweep[ti], &c, &secs);
                if (!rc) report(json, dec, "test", &ms[mi], sweep[ti], &c, secs, NULL);
            }
        }
        if (!rc && !tr.n) report(json, dec, "all", &ms[mi], best_t, &best_c, best_secs, "best on these images");
        if (!rc && tr.n && te.n) {
            fn_cluster_scores c;
            double secs;
            rc = score(&te, dim, &ms[mi], best_t, &c, &secs);
            if (!rc) report(json, dec, "test", &ms[mi], best_t, &c, secs, "chosen on the tuning set");
            if (!rc) rc = score(&all, dim, &ms[mi], best_t, &c, &secs);
            if (!rc) report(json, dec, "all", &ms[mi], best_t, &c, secs, "chosen on the tuning set");
        }
    }
    if (!rc && all.n > 0) {
        fn_cluster_scores c;
        double secs;
        float t = fn_cluster_default_threshold(fn_engine_threshold(e));
        rc = score(&all, dim, &deflt, t, &c, &secs);
        if (!rc) report(json, dec, "all", &deflt, t, &c, secs, "the default");
        if (!rc) rc = incremental(&all, dim, t, ratio, json);
    }
    free(tr.x); free(tr.truth); free(te.x); free(te.truth);
    free(tune);
    fn_cli_labelled_free(&lab);
    fn_engine_free(e);
    return rc;
}
