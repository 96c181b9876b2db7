/* facenet eval — closed- and open-set identification accuracy: enrol a
 * folder-per-person gallery into a temporary gallery, identify every probe
 * image's face, and report who was taken for whom. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/engine_opts.h"
#include "cli/eval_embed.h"
#include "core/error.h"
#include "eval/calib.h"
#include "eval/metrics.h"
#include "eval/openset.h"
#include "eval/svg.h"
#include "outputs.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY_DIR, NULL),
    FN_USE_REQ(FN_O_PROBE_DIR, NULL),
    FN_USE(FN_O_UNKNOWN_DIR),
    FN_USE_T(FN_O_THRESHOLD, "the model's", "open-set decision threshold: farther faces are unknown"),
    FN_USE_H(FN_O_PLOT, "ROC and distance histograms (probe to own person vs to others)"),
    FN_USE(FN_O_OVERWRITE),
    FN_USE_H(FN_O_JSON, "one summary object"),
    FN_USE(FN_O_NO_CACHE),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "eval",
    .usage = (const char *const[]){
        "--gallery-dir DIR --probe-dir DIR [--unknown-dir DIR] [--threshold T] [--json] [--plot F.svg]", NULL},
    .description =
        "Identification accuracy.  Both directories hold one folder per person; the gallery\n"
        "folders are enrolled (most probable face per image) into a temporary gallery and\n"
        "every probe image's face is identified as the nearest enrolled person.  Prints the\n"
        "accuracy (a probe without a detected face counts as wrong), per-person accuracy,\n"
        "every misidentified file with the distance and the margin to the second-best person,\n"
        "and the images where no face was found.  With --unknown-dir (images of people not in\n"
        "the gallery): open-set figures at the threshold (FIR, FNR) and the threshold that\n"
        "balances them.",
    .opts = uses, .min_args = 0, .max_args = 0,
    .examples = (const char *const[]){"facenet eval --gallery-dir Film/Test --probe-dir Predict",
                                      "facenet eval --gallery-dir Film/Test --probe-dir Predict --unknown-dir strangers "
                                      "--plot eval.svg",
                                      NULL},
    .exits = (const fn_cli_exit[]){{1, "failure: nothing could be enrolled, a folder or image could not be read, "
                                       "the model could not be opened, or the plot could not be written (named on "
                                       "stderr)"},
                                   {0, NULL}},
};

typedef struct args {
    const char *gallery_dir, *probe_dir, *unknown_dir, *plot;
    float threshold;
    int json, cache;
    fn_cli_engine ce;
    fn_outputs outs;   /* the plot: never an input, not replaced without --overwrite */
} args;

/* One probe image after identification. */
typedef struct probe {
    char *file, *person;      /* person NULL: from --unknown-dir */
    int has_face, known, correct;
    fn_gallery_match m;
    float *emb;
} probe;

typedef struct ctx {
    args a;
    fn_engine *e;
    fn_gallery *g;
    fn_gallery_scratch *scratch;
    fn_eval_embedder x;
    char tmpdir[256], gpath[300];
    probe *p;
    int np, cap;
    int enrolled_images, enrol_no_face;
    fn_pathlist people;       /* enrolled person names */
    float *gemb;              /* the gallery's embeddings, for the plot */
    int *glabel, ng;
} ctx;

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The person folders of root, sorted. */
static int person_dirs(const char *root, fn_pathlist *out)
{
    DIR *d = opendir(root);
    if (!d) {
        fprintf(stderr, "facenet eval: cannot read the directory %s\n", root);
        return 1;
    }
    struct dirent *ent;
    while ((ent = readdir(d))) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", root, ent->d_name);
        if (ent->d_name[0] != '.' && is_dir(p)) fn_pathlist_add(out, ent->d_name);
    }
    closedir(d);
    if (out->count) qsort(out->items, (size_t)out->count, sizeof *out->items, cmp_str);
    return 0;
}

static int person_known(const ctx *c, const char *name)
{
    return bsearch(&name, c->people.items, (size_t)c->people.count, sizeof *c->people.items, cmp_str) != NULL;
}

static int enrol_person(ctx *c, const char *name, fn_progress *prog, float *emb)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", c->a.gallery_dir, name);
    fn_pathlist files = {0};
    char *arg[1] = {dir};
    if (fn_cli_collect_images(arg, 1, &files, NULL)) return 1;
    int rc = 0;
    for (int i = 0; !rc && i < files.count; i++) {
        fn_eval_result r;
        fn_status s = fn_eval_embed(&c->x, files.items[i], &r, emb, NULL);
        fn_progress_step(prog, files.items[i]);
        if (s == FN_OK && !r.has_face) {
            c->enrol_no_face++;
            fn_progress_end(prog);
            if (!c->a.json) fprintf(stderr, "warning: %s: no face; not enrolled\n", files.items[i]);
            continue;
        }
        fn_gallery_face gf = {name, files.items[i], r.hash, {0}, r.face.prob, emb};
        memcpy(gf.box, r.face.box, sizeof gf.box);
        if (s == FN_OK) s = fn_gallery_add(c->g, &gf, NULL, NULL);
        if (s != FN_OK) rc = fn_cli_fail("eval", s);
        else c->enrolled_images++;
    }
    fn_pathlist_free(&files);
    return rc;
}

static int enrol(ctx *c)
{
    fn_pathlist names = {0};
    if (person_dirs(c->a.gallery_dir, &names)) return 1;
    float *emb = malloc(sizeof(float) * (size_t)c->x.dim);
    fn_progress prog;
    fn_progress_start(&prog, "enrolling", names.count);
    fn_status s = emb ? fn_gallery_begin(c->g) : fn_fail(FN_ERR_NOMEM, "out of memory");
    int rc = s == FN_OK ? 0 : fn_cli_fail("eval", s);
    for (int i = 0; !rc && i < names.count; i++) {
        rc = enrol_person(c, names.items[i], &prog, emb);
        if (!rc) fn_pathlist_add(&c->people, names.items[i]);
    }
    fn_progress_end(&prog);
    if (!rc && (s = fn_gallery_commit(c->g)) != FN_OK) rc = fn_cli_fail("eval", s);
    free(emb);
    fn_pathlist_free(&names);
    if (!rc && c->enrolled_images == 0) {
        fprintf(stderr, "facenet eval: %s: no face could be enrolled (want DIR/<person>/*.jpg)\n", c->a.gallery_dir);
        return 1;
    }
    return rc;
}

static int add_probe(ctx *c, const char *file, const char *person)
{
    if (c->np == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        probe *p = realloc(c->p, sizeof *p * (size_t)cap);
        if (!p) return 1;
        c->p = p;
        c->cap = cap;
    }
    probe *p = &c->p[c->np];
    memset(p, 0, sizeof *p);
    p->file = strdup(file);
    p->person = person ? strdup(person) : NULL;
    p->emb = malloc(sizeof(float) * (size_t)c->x.dim);
    c->np++;
    return !p->file || (person && !p->person) || !p->emb;
}

static int identify(ctx *c, probe *p)
{
    fn_eval_result r;
    fn_status s = fn_eval_embed(&c->x, p->file, &r, p->emb, NULL);
    if (s == FN_OK && r.has_face) s = fn_gallery_search(c->g, c->scratch, p->emb, 1, 1, &p->m, NULL);
    if (s != FN_OK) return fn_cli_fail("eval", s);
    p->has_face = r.has_face;
    p->known = p->person && person_known(c, p->person);
    p->correct = p->known && p->has_face && !strcmp(p->m.best_name, p->person);
    return 0;
}

/* Probes: DIR/<person>/... and every image under --unknown-dir. */
static int gather_probes(ctx *c)
{
    fn_pathlist names = {0};
    int rc = person_dirs(c->a.probe_dir, &names);
    for (int i = 0; !rc && i < names.count; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", c->a.probe_dir, names.items[i]);
        fn_pathlist files = {0};
        char *arg[1] = {dir};
        rc = fn_cli_collect_images(arg, 1, &files, NULL);
        for (int k = 0; !rc && k < files.count; k++) rc = add_probe(c, files.items[k], names.items[i]);
        fn_pathlist_free(&files);
    }
    fn_pathlist_free(&names);
    if (!rc && c->a.unknown_dir) {
        fn_pathlist files = {0};
        char *arg[1] = {(char *)c->a.unknown_dir};
        rc = fn_cli_collect_images(arg, 1, &files, NULL);
        for (int k = 0; !rc && k < files.count; k++) rc = add_probe(c, files.items[k], NULL);
        fn_pathlist_free(&files);
    }
    return rc;
}

static int identify_all(ctx *c)
{
    fn_progress prog;
    fn_progress_start(&prog, "identifying", c->np);
    int rc = 0;
    for (int i = 0; !rc && i < c->np; i++) {
        rc = identify(c, &c->p[i]);
        fn_progress_step(&prog, c->p[i].file);
    }
    fn_progress_end(&prog);
    return rc;
}

/* ---- report ---- */

typedef struct person_score { const char *name; int probes, correct; } person_score;

static int score_people(const ctx *c, person_score *ps)
{
    int n = 0;
    for (int i = 0; i < c->np; i++) {
        const probe *p = &c->p[i];
        if (!p->person) continue;
        int k = 0;
        while (k < n && strcmp(ps[k].name, p->person)) k++;
        if (k == n) ps[n++] = (person_score){p->person, 0, 0};
        ps[k].probes++;
        ps[k].correct += p->correct;
    }
    return n;
}

static double margin(const probe *p)
{
    return p->m.second.person_id >= 0 ? p->m.second.distance - p->m.best.distance : INFINITY;
}

static cJSON *json_number_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static void add_openset(cJSON *o, const char *key, const fn_openset *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "threshold", s->thr);
    cJSON_AddNumberToObject(j, "fir", s->fir);
    cJSON_AddNumberToObject(j, "fnr", s->fnr);
    cJSON_AddNumberToObject(j, "fpir", s->fpir);
    cJSON_AddNumberToObject(j, "misidentification_rate", s->misid_rate);
    cJSON_AddNumberToObject(j, "correct", (double)s->correct);
    cJSON_AddNumberToObject(j, "misidentified", (double)s->misidentified);
    cJSON_AddNumberToObject(j, "false_negative", (double)s->false_negative);
    cJSON_AddNumberToObject(j, "false_alarm", (double)s->false_alarm);
    cJSON_AddItemToObject(o, key, j);
}

static void print_openset(const char *what, const fn_openset *s)
{
    printf("%s %.4f: FIR %.2f %% (misidentified %zu, false alarms %zu), FNR %.2f %% (%zu), FPIR %.2f %%\n", what,
           s->thr, 100 * s->fir, s->misidentified, s->false_alarm, 100 * s->fnr, s->false_negative, 100 * s->fpir);
}

typedef struct summary {
    int known, correct, with_face, no_face, unknown;
    int have_openset;
    fn_openset at, balance;
    float thr;
    const char *thr_source;
} summary;

static int summarise(const ctx *c, summary *s)
{
    memset(s, 0, sizeof *s);
    fn_probe *fp = malloc(sizeof *fp * ((size_t)c->np + 1));
    if (!fp) return fn_cli_fail("eval", fn_fail(FN_ERR_NOMEM, "out of memory"));
    size_t nf = 0;
    for (int i = 0; i < c->np; i++) {
        const probe *p = &c->p[i];
        s->known += p->known;
        s->unknown += !p->person;
        s->correct += p->correct;
        s->with_face += p->known && p->has_face;
        s->no_face += !p->has_face;
        if (p->has_face) fp[nf++] = (fn_probe){p->m.best.distance, (unsigned char)p->known, (unsigned char)p->correct};
    }
    s->thr = c->a.threshold >= 0 ? c->a.threshold : fn_engine_threshold(c->e);
    s->thr_source = c->a.threshold >= 0 ? "--threshold" : "model default";
    int rc = 0;
    if (c->a.unknown_dir && nf) {
        fn_status st = fn_openset_at(fp, nf, s->thr, &s->at);
        if (st == FN_OK) st = fn_openset_balance(fp, nf, &s->balance);
        if (st != FN_OK) rc = fn_cli_fail("eval", st);
        s->have_openset = !rc;
    }
    free(fp);
    return rc;
}

static void report_json(const ctx *c, const summary *s, const person_score *ps, int nps)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", fn_engine_model_id(c->e));
    cJSON_AddNumberToObject(o, "people", c->people.count);
    cJSON_AddNumberToObject(o, "enrolled_images", c->enrolled_images);
    cJSON_AddNumberToObject(o, "enrol_no_face", c->enrol_no_face);
    cJSON_AddNumberToObject(o, "probes", s->known);
    cJSON_AddNumberToObject(o, "correct", s->correct);
    cJSON_AddNumberToObject(o, "accuracy", s->known ? (double)s->correct / s->known : 0);
    cJSON_AddNumberToObject(o, "accuracy_with_face", s->with_face ? (double)s->correct / s->with_face : 0);
    cJSON *pp = cJSON_AddArrayToObject(o, "per_person");
    for (int i = 0; i < nps; i++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "person", ps[i].name);
        cJSON_AddNumberToObject(j, "probes", ps[i].probes);
        cJSON_AddNumberToObject(j, "correct", ps[i].correct);
        cJSON_AddNumberToObject(j, "accuracy", ps[i].probes ? (double)ps[i].correct / ps[i].probes : 0);
        cJSON_AddItemToArray(pp, j);
    }
    cJSON *mis = cJSON_AddArrayToObject(o, "misclassified");
    cJSON *nof = cJSON_AddArrayToObject(o, "no_face");
    for (int i = 0; i < c->np; i++) {
        const probe *p = &c->p[i];
        if (!p->has_face) cJSON_AddItemToArray(nof, cJSON_CreateString(p->file));
        if (!p->known || !p->has_face || p->correct) continue;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", p->file);
        cJSON_AddStringToObject(j, "person", p->person);
        cJSON_AddStringToObject(j, "predicted", p->m.best_name);
        cJSON_AddNumberToObject(j, "distance", p->m.best.distance);
        cJSON_AddItemToObject(j, "margin", json_number_or_null(margin(p)));
        cJSON_AddItemToArray(mis, j);
    }
    if (s->have_openset) {
        cJSON_AddNumberToObject(o, "unknown_probes", s->unknown);
        add_openset(o, "open_set", &s->at);
        add_openset(o, "open_set_balanced", &s->balance);
    }
    cJSON_AddNumberToObject(o, "threshold", s->thr);
    cJSON_AddNumberToObject(o, "cache_hits", c->x.hits);
    fn_cli_emit(o);
}

static void report_text(const ctx *c, const summary *s, const person_score *ps, int nps)
{
    printf("gallery: %d people, %d images enrolled (%d without a face)\n", c->people.count, c->enrolled_images,
           c->enrol_no_face);
    printf("accuracy: %.2f %% (%d of %d probes; %.2f %% of the %d with a face)\n",
           s->known ? 100.0 * s->correct / s->known : 0, s->correct, s->known,
           s->with_face ? 100.0 * s->correct / s->with_face : 0, s->with_face);
    printf("per person:\n");
    for (int i = 0; i < nps; i++)
        printf("  %-24s %3d/%-3d %6.1f %%\n", ps[i].name, ps[i].correct, ps[i].probes,
               ps[i].probes ? 100.0 * ps[i].correct / ps[i].probes : 0);
    int shown = 0;
    for (int i = 0; i < c->np; i++) {
        const probe *p = &c->p[i];
        if (!p->known || !p->has_face || p->correct) continue;
        if (!shown++) printf("misidentified:\n");
        printf("  %s: %s taken for %s, distance %.3f, margin %.3f to %s\n", p->file, p->person, p->m.best_name,
               p->m.best.distance, margin(p), p->m.second.person_id >= 0 ? p->m.second_name : "-");
    }
    shown = 0;
    for (int i = 0; i < c->np; i++)
        if (!c->p[i].has_face) {
            if (!shown++) printf("no face found:\n");
            printf("  %s\n", c->p[i].file);
        }
    if (s->have_openset) {
        printf("open set: %d known probes, %d unknown\n", s->known, s->unknown);
        print_openset(s->thr_source[0] == '-' ? "  at --threshold" : "  at the model threshold", &s->at);
        print_openset("  balanced threshold", &s->balance);
    }
}

/* ---- plot: each probe's nearest distance to its own person (genuine) and
 * to every other enrolled person (impostor) ---- */

static int collect_gallery(void *vc, const fn_gallery_embedding *e)
{
    ctx *c = vc;
    memcpy(c->gemb + (size_t)c->ng * c->x.dim, e->embedding, sizeof(float) * (size_t)c->x.dim);
    int k = 0;
    while (k < c->people.count && strcmp(c->people.items[k], e->person)) k++;
    c->glabel[c->ng++] = k;
    return 0;
}

static int write_plot(ctx *c, float thr)
{
    int np = c->people.count, rc = 0;
    c->gemb = malloc(sizeof(float) * (size_t)c->enrolled_images * c->x.dim + 1);
    c->glabel = malloc(sizeof(int) * (size_t)c->enrolled_images + 1);
    size_t cap = (size_t)c->np * (np + 1) + 1;
    double *d = malloc(sizeof *d * cap), *near = malloc(sizeof *near * (size_t)(np + 1));
    unsigned char *same = malloc(cap);
    fn_status s = c->gemb && c->glabel && d && near && same ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory");
    if (s == FN_OK) s = fn_gallery_embeddings(c->g, collect_gallery, c);
    size_t n = 0;
    for (int i = 0; s == FN_OK && i < c->np; i++) {
        const probe *p = &c->p[i];
        if (!p->has_face) continue;
        for (int k = 0; k < np; k++) near[k] = INFINITY;
        for (int j = 0; j < c->ng; j++) {
            double dj = fn_distance(p->emb, c->gemb + (size_t)j * c->x.dim, c->x.dim);
            if (dj < near[c->glabel[j]]) near[c->glabel[j]] = dj;
        }
        for (int k = 0; k < np; k++) {
            if (!isfinite(near[k])) continue;
            d[n] = near[k];
            same[n++] = p->person && !strcmp(p->person, c->people.items[k]);
        }
    }
    fn_roc roc = {0};
    fn_histogram *h = malloc(sizeof *h);
    if (s == FN_OK && !h) s = fn_fail(FN_ERR_NOMEM, "out of memory");
    if (s == FN_OK) s = fn_roc_compute(d, same, n, &roc);
    if (s == FN_OK) {
        size_t ng = 0, ni = 0;
        double *g = malloc(sizeof *g * (n + 1)), *im = malloc(sizeof *im * (n + 1));
        for (size_t i = 0; g && im && i < n; i++) {
            if (same[i]) g[ng++] = d[i];
            else im[ni++] = d[i];
        }
        s = g && im ? fn_histogram_compute(g, ng, im, ni, 40, 0, 0, h) : fn_fail(FN_ERR_NOMEM, "out of memory");
        free(g);
        free(im);
    }
    fn_svg_plot plot = {"facenet eval: probe to own person vs to others", &roc, 1, NULL, 1, h, thr};
    if (s == FN_OK) rc = fn_cli_save_svg("eval", &c->a.outs, c->a.plot, &plot);
    else rc = fn_cli_fail("eval", s);
    fn_roc_free(&roc);
    free(h);
    free(d);
    free(near);
    free(same);
    return rc;
}

/* ---- main ---- */

static int parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    fn_cli_args o;
    int code;
    if (fn_cli_engine_parse(&a->ce, &spec, argc, argv, &o, &code)) return code ? code : -1;
    a->gallery_dir = fn_cli_str(&o, FN_O_GALLERY_DIR);
    a->probe_dir = fn_cli_str(&o, FN_O_PROBE_DIR);
    a->unknown_dir = fn_cli_str(&o, FN_O_UNKNOWN_DIR);
    a->threshold = (float)fn_cli_float(&o, FN_O_THRESHOLD, -1);
    a->plot = fn_cli_str(&o, FN_O_PLOT);
    a->json = fn_cli_flag(&o, FN_O_JSON);
    a->cache = !fn_cli_flag(&o, FN_O_NO_CACHE);
    const char *dirs[3] = {a->gallery_dir, a->probe_dir, a->unknown_dir};
    for (int i = 0; i < 3; i++)
        if (dirs[i] && !is_dir(dirs[i])) {
            fprintf(stderr, "facenet eval: %s: no such directory\n", dirs[i]);
            return 1;
        }
    /* The inputs are folders: the plot may not land on any file below them. */
    char *in[3] = {(char *)a->gallery_dir, (char *)a->probe_dir, (char *)(a->unknown_dir ? a->unknown_dir : a->probe_dir)};
    return a->plot && fn_cli_output_file("eval", &a->outs, a->plot, in, 3, fn_cli_flag(&o, FN_O_OVERWRITE));
}

static int open_temp_gallery(ctx *c)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(c->tmpdir, sizeof c->tmpdir, "%s/facenet-eval-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(c->tmpdir)) {
        c->tmpdir[0] = '\0';
        fprintf(stderr, "facenet eval: cannot create a temporary directory under %s\n", tmp && *tmp ? tmp : "/tmp");
        return 1;
    }
    snprintf(c->gpath, sizeof c->gpath, "%s/gallery.db", c->tmpdir);
    fn_gallery_model m = {fn_engine_model_id(c->e), fn_engine_dim(c->e), fn_engine_preprocess_id(c->e)};
    fn_status s = fn_gallery_open(c->gpath, &m, FN_GALLERY_CREATE, &c->g);
    return s == FN_OK ? 0 : fn_cli_fail("eval", s);
}

static void remove_temp_gallery(ctx *c)
{
    if (!c->tmpdir[0]) return;
    static const char *suffix[] = {"", "-journal", "-wal", "-shm"};
    for (int i = 0; i < 4; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s%s", c->gpath, suffix[i]);
        unlink(p);
    }
    rmdir(c->tmpdir);
}

int fn_cmd_eval(int argc, char **argv)
{
    ctx c;
    memset(&c, 0, sizeof c);
    int rc = parse(argc, argv, &c.a);
    if (rc) return rc < 0 ? 0 : rc;
    rc = fn_cli_engine_open(&c.a.ce, "eval", &c.e);
    fn_status s;
    if (!rc && (s = fn_eval_embedder_init(&c.x, c.e, &c.a.ce.opts, c.a.ce.select, 0, FN_MISS_SKIP, c.a.cache)))
        rc = fn_cli_fail("eval", s);
    if (!rc) rc = open_temp_gallery(&c);
    if (!rc) rc = enrol(&c);
    if (!rc && (s = fn_gallery_scratch_new(c.g, 1, &c.scratch)) != FN_OK) rc = fn_cli_fail("eval", s);
    if (!rc) rc = gather_probes(&c);
    if (!rc) rc = identify_all(&c);
    summary sum;
    person_score *ps = calloc((size_t)c.np + 1, sizeof *ps);
    if (!rc && !ps) rc = fn_cli_fail("eval", fn_fail(FN_ERR_NOMEM, "out of memory"));
    if (!rc) rc = summarise(&c, &sum);
    if (!rc) {
        int nps = score_people(&c, ps);
        if (c.a.json) report_json(&c, &sum, ps, nps);
        else report_text(&c, &sum, ps, nps);
    }
    if (!rc && c.a.plot) rc = write_plot(&c, sum.thr);
    if (c.x.e && (s = fn_eval_embedder_close(&c.x)) != FN_OK && !rc) rc = fn_cli_fail("eval", s);
    free(ps);
    for (int i = 0; i < c.np; i++) {
        free(c.p[i].file);
        free(c.p[i].person);
        free(c.p[i].emb);
    }
    free(c.p);
    free(c.gemb);
    free(c.glabel);
    fn_pathlist_free(&c.people);
    fn_gallery_scratch_free(c.scratch);
    fn_gallery_close(c.g);
    remove_temp_gallery(&c);
    fn_engine_free(c.e);
    fn_outputs_free(&c.a.outs);
    return rc;
}
