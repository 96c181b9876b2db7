/* facenet cluster — group the photo library's faces into people. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "gallery_open.h"
#include "labelled.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the library (scanned with `facenet scan`)"),
    FN_USE_D(FN_O_METHOD, "average", NULL),
    FN_USE_T(FN_O_THRESHOLD, "the library's tuned one (--calibrate-on), else 0.90 for MobileFaceNet (the model's "
             "verification threshold x 0.90/1.09)",
             "faces closer than this are linked (Euclidean distance of L2-normalised embeddings)"),
    FN_USE(FN_O_CALIBRATE_ON),
    FN_USE(FN_O_FORGET_THRESHOLD),
    FN_USE_D(FN_O_MIN_QUALITY, "0.25", NULL),
    FN_USE(FN_O_RECLUSTER),
    FN_USE_H(FN_O_DRY_RUN, "say what would change (and with --json, each face's group-to-be), change nothing: no "
             "group, gallery person or stored threshold is written"),
    FN_USE_H(FN_O_JSON, "JSON Lines: one object per face {file, box, cluster, face} (cluster null: in no group)"),
    FN_CLI_MODEL_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "cluster",
    .usage = (const char *const[]){"--gallery LIB.db [--method M] [--threshold T | --calibrate-on DIR | --forget-threshold]"
                                   " [--recluster] [--dry-run] [--json]",
                                   NULL},
    .description =
        "Groups the library's faces into people without being told how many there are.\n"
        "By default only faces in no group are placed: each joins the group its close\n"
        "neighbours belong to, and the rest form new groups among themselves (by default\n"
        "average linkage; chosen on LFW by `facenet eval-cluster`).  Groups\n"
        "need two faces; a lone face stays in no group until a later scan brings its match.\n"
        "Faces of low quality (tiny, blurred, turned away) never start a group.  With\n"
        "--recluster every face is grouped again, except those of named or corrected\n"
        "groups (`facenet people`), which never move.  A named group's new faces are\n"
        "enrolled as that person, so `identify` knows them.\n"
        "--calibrate-on DIR tunes the threshold on faces you have labelled, one folder per\n"
        "person: they are clustered at 21 thresholds around the model's default (0.60 to\n"
        "1.10 for MobileFaceNet) and the one of best BCubed F1 is stored in the library,\n"
        "which later runs use when no --threshold is given (--forget-threshold drops it).\n"
        "--dry-run shows what a run would do (try --recluster or a threshold first).",
    .opts = uses, .min_args = 0, .max_args = 0, .args_name = "",
    .examples = (const char *const[]){"facenet cluster --gallery photos.db",
                                      "facenet cluster --gallery photos.db --json | head",
                                      "facenet cluster --gallery photos.db --recluster -t 0.85 --dry-run",
                                      "facenet cluster --gallery photos.db --calibrate-on labelled/", NULL},
    .exits = NULL,
};

/* The groups of the faces seen, one entry per face (a dry run counts the
 * distinct ones it would leave: distinct_groups, sorted once at the end). */
typedef struct seen_groups { int64_t *v; int n, cap; int json; } seen_groups;

static void see_group(seen_groups *g, int64_t id)
{
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        int64_t *v = realloc(g->v, (size_t)cap * sizeof *v);
        if (!v) return;   /* a count short by the rest: only the dry run's summary reads it */
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n++] = id;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t distinct_groups(seen_groups *g)
{
    qsort(g->v, (size_t)g->n, sizeof *g->v, cmp_id);
    int64_t k = 0;
    for (int i = 0; i < g->n; i++) k += i == 0 || g->v[i] != g->v[i - 1];
    return k;
}

static int print_face(void *ctx, const fn_library_face *f)
{
    seen_groups *sg = ctx;
    if (f->not_face) return 0;
    if (sg && f->group) see_group(sg, f->group);
    if (sg && !sg->json) return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", f->path);
    cJSON_AddItemToObject(o, "box", fn_cli_box(f->face.box));
    if (f->group) cJSON_AddNumberToObject(o, "cluster", (double)f->group);
    else cJSON_AddNullToObject(o, "cluster");
    cJSON_AddNumberToObject(o, "face", (double)f->id);
    cJSON_AddNumberToObject(o, "quality", f->quality);
    fn_cli_emit(o);
    return 0;
}

/* --calibrate-on DIR: p->threshold tuned on DIR's labelled faces with
 * p->method and stored in the library.  Returns 0, or 1 after the error. */
static int tune(const fn_cli_args *a, fn_cli_engine *ce, fn_engine *e, fn_library *l, fn_cluster_params *p)
{
    int dry = fn_cli_flag(a, FN_O_DRY_RUN);
    enum { NT = 21 };
    float t[NT];
    fn_cluster_scores sc[NT];
    float base = fn_cluster_default_threshold(fn_engine_threshold(e)) / FN_CLUSTER_DEFAULT_THRESHOLD;
    for (int i = 0; i < NT; i++) t[i] = base * (0.60f + 0.025f * (float)i);
    char cache[4200];
    const char *cpath = fn_cli_cache_path("cluster", cache, sizeof cache);
    fn_cli_labelled lab;
    const char *dir = fn_cli_str(a, FN_O_CALIBRATE_ON);
    if (fn_cli_embed_people("cluster", dir, e, &ce->opts, FN_SELECT_CENTER, FN_MISS_SKIP, cpath, &lab)) return 1;
    int people = 0, pairs = 0;   /* people with a face, and same-person pairs: one pass over the faces */
    int *per = calloc((size_t)lab.people.count + 1, sizeof *per);
    for (int i = 0; per && i < lab.n; i++) {
        people += per[lab.truth[i]] == 0;
        pairs += per[lab.truth[i]]++;
    }
    fn_status s = !per ? fn_fail(FN_ERR_NOMEM, "out of memory counting %d people", lab.people.count)
                : people >= 2 && pairs >= 1
                      ? fn_cluster_tune(lab.x, lab.truth, lab.n, fn_engine_dim(e), p->method, t, NT, &p->threshold, sc)
                      : fn_fail(FN_ERR_ARG, "%s: %d faces of %d people, %d same-person pairs; tuning needs faces of at "
                                "least 2 people and a person with 2 or more", dir, lab.n, people, pairs);
    free(per);
    if (s == FN_OK && !dry) s = fn_library_set_cluster_threshold(l, p->threshold, p->method);
    int bi = 0;
    for (int i = 0; s == FN_OK && i < NT; i++) if (t[i] == p->threshold) bi = i;
    if (s == FN_OK && fn_cli_flag(a, FN_O_JSON)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "summary", "calibrate");
        cJSON_AddStringToObject(o, "images", dir);
        cJSON_AddNumberToObject(o, "faces", lab.n);
        cJSON_AddNumberToObject(o, "people", lab.people.count);
        cJSON_AddNumberToObject(o, "without_face", lab.missing);
        cJSON_AddStringToObject(o, "method", fn_cluster_method_name(p->method));
        cJSON_AddNumberToObject(o, "threshold", p->threshold);
        cJSON_AddNumberToObject(o, "bcubed_precision", sc[bi].bcubed_precision);
        cJSON_AddNumberToObject(o, "bcubed_recall", sc[bi].bcubed_recall);
        cJSON_AddNumberToObject(o, "bcubed_f1", sc[bi].bcubed_f1);
        cJSON_AddBoolToObject(o, "stored", !dry);
        fn_cli_emit(o);
    } else if (s == FN_OK) {
        printf("tuned on %d faces of %d people in %s (%d images without a face): %s at %.3f, BCubed F1 %.4f "
               "(precision %.4f, recall %.4f); %s\n", lab.n, lab.people.count, dir, lab.missing,
               fn_cluster_method_name(p->method), p->threshold, sc[bi].bcubed_f1, sc[bi].bcubed_precision,
               sc[bi].bcubed_recall, dry ? "not stored (--dry-run)" : "stored in the library");
    }
    fn_cli_labelled_free(&lab);
    return s == FN_OK ? 0 : fn_cli_fail("cluster", s);
}

int fn_cmd_cluster(int argc, char **argv)
{
    fn_cli_args a;
    fn_cli_engine ce;
    int rc;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &a, &rc)) return rc;
    const char *gpath = fn_cli_str(&a, FN_O_GALLERY);
    if ((rc = fn_cli_library_path("cluster", gpath, 1))) return rc;
    if (fn_cli_given(&a, FN_O_THRESHOLD) && !(fn_cli_float(&a, FN_O_THRESHOLD, 1) > 0))
        return fn_cli_usage("cluster", "--threshold 0: a clustering threshold is a distance above 0 (at most 2)");
    if (fn_cli_given(&a, FN_O_THRESHOLD) && fn_cli_given(&a, FN_O_CALIBRATE_ON))
        return fn_cli_usage("cluster", "--threshold and --calibrate-on: give one (--calibrate-on chooses the threshold)");
    if (fn_cli_flag(&a, FN_O_FORGET_THRESHOLD) && fn_cli_given(&a, FN_O_CALIBRATE_ON))
        return fn_cli_usage("cluster", "--forget-threshold and --calibrate-on: give one (--calibrate-on stores a new "
                                       "threshold in place of the old)");
    fn_engine *e = NULL;
    fn_gallery *g = NULL;
    fn_library *l = NULL;
    ce.opts.detector_only = 0;
    if (fn_cli_engine_open(&ce, "cluster", &e) || fn_cli_gallery_open("cluster", gpath, e, 0, &g)) {
        fn_engine_free(e);
        return 1;
    }
    fn_gallery_model m = fn_gallery_model_of_engine(e);
    fn_status s = fn_library_open(gpath, &m, &l);
    fn_cluster_params p;
    fn_cluster_params_init(&p);
    p.knn = fn_knn_auto;   /* approximate (fn_knn_ivf) from FN_KNN_ANN_MIN_ROWS faces */
    static const fn_cluster_method methods[] = {FN_CLUSTER_WHISPERS, FN_CLUSTER_DBSCAN, FN_CLUSTER_AVERAGE};
    p.method = methods[fn_cli_enum(&a, FN_O_METHOD, 2)];
    const char *tsource = "the model's default";
    p.threshold = fn_cluster_default_threshold(fn_engine_threshold(e));
    float stored = 0;
    fn_cluster_method smethod = p.method;
    int stored_one = s == FN_OK && fn_library_get_cluster_threshold(l, &stored, &smethod) == FN_OK;
    const char *forgot = !stored_one                           ? "--threshold; none was stored"
                         : fn_cli_flag(&a, FN_O_DRY_RUN) ? "--threshold; the stored one not forgotten (--dry-run)"
                                                         : "--threshold; the stored one forgotten";
    int dry = fn_cli_flag(&a, FN_O_DRY_RUN);
    if (s == FN_OK && fn_cli_flag(&a, FN_O_FORGET_THRESHOLD)) {
        if (!dry) s = fn_library_set_cluster_threshold(l, 0, p.method);
        tsource = !stored_one ? "the model's default; none was stored"
                  : dry       ? "the model's default; the stored one not forgotten (--dry-run)"
                              : "the model's default; the stored one forgotten";
        stored_one = 0;
    }
    char why[160];
    if (s == FN_OK && fn_cli_given(&a, FN_O_THRESHOLD)) {
        p.threshold = (float)fn_cli_float(&a, FN_O_THRESHOLD, p.threshold);
        tsource = fn_cli_flag(&a, FN_O_FORGET_THRESHOLD) ? forgot : "--threshold";
    } else if (s == FN_OK && stored_one && !fn_cli_given(&a, FN_O_CALIBRATE_ON) && fn_cli_given(&a, FN_O_METHOD) &&
               smethod != p.method) {
        snprintf(why, sizeof why, "the model's default (the library's tuned %.3f is %s's)", (double)stored,
                 fn_cluster_method_name(smethod));
        tsource = why;
    } else if (s == FN_OK && fn_cli_given(&a, FN_O_CALIBRATE_ON)) {
        if (tune(&a, &ce, e, l, &p)) {
            rc = 1;
            goto done;
        }
        tsource = dry ? "tuned now, not stored (--dry-run)" : "tuned now, stored";
    } else if (s == FN_OK && stored_one && (!fn_cli_given(&a, FN_O_METHOD) || smethod == p.method)) {
        p.threshold = stored;
        p.method = smethod;
        tsource = "the library's tuned one";
    }
    float minq = (float)fn_cli_float(&a, FN_O_MIN_QUALITY, FN_LIBRARY_SEED_QUALITY);
    fn_library_cluster_stats st = {0};
    double t0 = fn_now();
    seen_groups sg = {.json = fn_cli_flag(&a, FN_O_JSON)};
    if (s == FN_OK && dry)   /* the faces are printed (JSON) and their groups counted before the rollback */
        s = fn_library_cluster_preview(l, &p, minq, fn_cli_flag(&a, FN_O_RECLUSTER), &st, print_face, &sg);
    else if (s == FN_OK) s = fn_library_cluster(l, &p, minq, fn_cli_flag(&a, FN_O_RECLUSTER), &st);
    double secs = fn_now() - t0;
    if (s == FN_OK && !dry) s = fn_library_sync_gallery(l, g);
    if (s != FN_OK) {
        free(sg.v);
        rc = fn_cli_fail("cluster", s);
        goto done;
    }
    int64_t groups = dry ? distinct_groups(&sg) : 0;
    if (!dry) fn_library_count(l, NULL, NULL, &groups);
    free(sg.v);
    if (fn_cli_flag(&a, FN_O_JSON)) {
        if (!dry) s = fn_library_faces(l, -1, print_face, NULL);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "summary", "cluster");
        cJSON_AddBoolToObject(o, "dry_run", dry);
        cJSON_AddStringToObject(o, "method", fn_cluster_method_name(p.method));
        cJSON_AddNumberToObject(o, "threshold", p.threshold);
        cJSON_AddStringToObject(o, "threshold_source", tsource);
        cJSON_AddNumberToObject(o, "faces", st.faces);
        cJSON_AddNumberToObject(o, "joined", st.joined);
        cJSON_AddNumberToObject(o, "grouped", st.grouped);
        cJSON_AddNumberToObject(o, "new_groups", st.new_groups);
        cJSON_AddNumberToObject(o, "noise", st.noise);
        cJSON_AddNumberToObject(o, "kept", st.kept);
        cJSON_AddNumberToObject(o, "searched", st.searched);
        cJSON_AddNumberToObject(o, "distances", (double)st.distances);
        cJSON_AddNumberToObject(o, "groups", (double)groups);
        cJSON_AddNumberToObject(o, "seconds", secs);
        fn_cli_emit(o);
    } else {
        printf("%s%d face(s): %d %s existing groups, %d %s %d new group(s), %d %s, %d kept; "
               "%lld group(s) %s (%s at %.3f, %s; %.2f s)\n", dry ? "dry run, nothing changed: " : "", st.faces,
               st.joined, dry ? "would join" : "joined", st.grouped, dry ? "would form" : "formed", st.new_groups,
               st.noise, dry ? "would be in no group" : "in no group", st.kept, (long long)groups,
               dry ? "with faces after it" : "in all", fn_cluster_method_name(p.method), p.threshold, tsource, secs);
        int64_t faces = 0;
        if (s == FN_OK && fn_library_count(l, NULL, &faces, NULL) == FN_OK && faces == 0)
            printf("no faces in the library yet: `facenet scan --gallery %s PHOTOS...` finds them first\n", gpath);
    }
    rc = s == FN_OK ? 0 : fn_cli_fail("cluster", s);
done:
    fn_library_close(l);
    fn_gallery_close(g);
    fn_engine_free(e);
    return rc;
}
