/* facenet eval — closed- and open-set identification accuracy on folders:
 * the library's fn_folder_eval_run enrols a folder-per-person gallery into a
 * temporary gallery and identifies every probe; this file reports it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "outputs.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY_DIR, NULL),
    FN_USE_REQ(FN_O_PROBE_DIR, NULL),
    FN_USE(FN_O_UNKNOWN_DIR),
    FN_USE_T(FN_O_THRESHOLD, "the model's", "open-set decision threshold: farther faces are unknown"),
    FN_USE_H(FN_O_PLOT, "ROC and distance histograms (probe to own person vs to others)"),
    FN_USE(FN_O_OVERWRITE),
    FN_USE_H(FN_O_JSON, "JSON Lines: a record per gallery image {file, role, status: enrolled|no_face|unreadable|"
                        "unsupported_format, error}, per probe {file, role, kind, person, status: ok|no_face|unreadable|"
                        "unsupported_format, nearest, distance, accepted, correct}, per file not read {file, role: ignored, status: "
                        "unsupported_format|not_in_person_folder}, then the summary object {summary: \"eval\", ...}"),
    FN_USE(FN_O_NO_CACHE),
    FN_USE_D(FN_O_JOBS, "0", "threads decoding and detecting (0: one per CPU; 1: one file at a time)"),
    FN_USE_D(FN_O_BATCH, "32", "files whose faces are embedded in one network call (1: one file at a time)"),
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
    int json, cache, workers;
    fn_cli_engine ce;
    fn_outputs outs;   /* the plot: never an input, not replaced without --overwrite */
} args;

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static cJSON *json_number_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static void add_openset(cJSON *o, const char *key, const fn_openset *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "threshold", s->thr);
    cJSON_AddNumberToObject(j, "known_probes", (double)s->n_known);
    cJSON_AddNumberToObject(j, "unknown_probes", (double)s->n_unknown);
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

static const char *kind_name(fn_probe_kind k)
{
    return k == FN_PROBE_ENROLLED ? "enrolled" : k == FN_PROBE_ABSENT ? "not_enrolled" : "unknown";
}

/* Probe folders whose person has nothing enrolled (a misspelt folder, or a
 * gallery person without a face), with their probe counts. */
static int absent_people(const fn_folder_eval *r, cJSON *arr, int text)
{
    int n = 0;
    for (int i = 0; i < r->n_people; i++) {
        const fn_eval_person *p = &r->people[i];
        if (p->enrolled || !p->probes) continue;
        n++;
        if (arr) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "person", p->name);
            cJSON_AddNumberToObject(j, "probes", p->probes);
            cJSON_AddNumberToObject(j, "gallery_images", p->gallery_images);
            cJSON_AddItemToArray(arr, j);
        }
        if (text)
            printf("  %s: %d probe(s); %s\n", p->name, p->probes,
                   p->gallery_images ? "no face found in any of the gallery images" : "no gallery folder of that name");
    }
    return n;
}

static void report_json(const args *a, fn_engine *e, const fn_folder_eval *r, const fn_embedder *x)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "summary", "eval");
    cJSON_AddStringToObject(o, "model", fn_engine_model_id(e));
    cJSON_AddNumberToObject(o, "people", r->enrolled_people);
    cJSON_AddNumberToObject(o, "gallery_images", r->gallery_images);
    cJSON_AddNumberToObject(o, "enrolled_images", r->enrolled_images);
    cJSON_AddNumberToObject(o, "enrol_no_face", r->n_enrol_no_face);
    cJSON_AddNumberToObject(o, "enrol_unreadable", r->enrol_unreadable.n);
    cJSON_AddNumberToObject(o, "unreadable_probes", r->n_unreadable);
    cJSON_AddNumberToObject(o, "not_read", r->skipped.n + r->loose.n);
    cJSON_AddNumberToObject(o, "all_probes", r->n_probes);
    cJSON_AddNumberToObject(o, "probes", r->n_enrolled_probes);
    cJSON_AddNumberToObject(o, "not_enrolled_probes", r->n_absent_probes);
    cJSON_AddNumberToObject(o, "unknown_probes", r->n_unknown_probes);
    cJSON_AddNumberToObject(o, "correct", r->n_correct);
    cJSON_AddNumberToObject(o, "accuracy", r->n_enrolled_probes ? (double)r->n_correct / r->n_enrolled_probes : 0);
    cJSON_AddNumberToObject(o, "accuracy_with_face",
                            r->n_enrolled_with_face ? (double)r->n_correct / r->n_enrolled_with_face : 0);
    cJSON *pp = cJSON_AddArrayToObject(o, "per_person");
    for (int i = 0; i < r->n_people; i++) {
        const fn_eval_person *p = &r->people[i];
        if (!p->enrolled || !p->probes) continue;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "person", p->name);
        cJSON_AddNumberToObject(j, "probes", p->probes);
        cJSON_AddNumberToObject(j, "correct", p->correct);
        cJSON_AddNumberToObject(j, "accuracy", (double)p->correct / p->probes);
        cJSON_AddItemToArray(pp, j);
    }
    absent_people(r, cJSON_AddArrayToObject(o, "not_enrolled"), 0);
    cJSON *mis = cJSON_AddArrayToObject(o, "misclassified");
    cJSON *nof = cJSON_AddArrayToObject(o, "no_face");
    cJSON *enf = cJSON_AddArrayToObject(o, "enrol_no_face_files");
    for (int i = 0; i < r->n_enrol_no_face; i++) cJSON_AddItemToArray(enf, cJSON_CreateString(r->enrol_no_face[i]));
    for (int i = 0; i < r->n_probes; i++) {
        const fn_eval_probe *p = &r->probes[i];
        if (!p->has_face) cJSON_AddItemToArray(nof, cJSON_CreateString(p->file));
        if (p->kind != FN_PROBE_ENROLLED || !p->has_face || p->correct) continue;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", p->file);
        cJSON_AddStringToObject(j, "person", p->person);
        cJSON_AddStringToObject(j, "predicted", p->match.best_name);
        cJSON_AddNumberToObject(j, "distance", p->match.best.distance);
        cJSON_AddItemToObject(j, "margin", json_number_or_null(fn_eval_probe_margin(p)));
        cJSON_AddItemToArray(mis, j);
    }
    /* Probes of people who are not enrolled: each one, with its answer. */
    cJSON *ne = cJSON_AddArrayToObject(o, "not_enrolled_answers");
    for (int i = 0; i < r->n_probes; i++) {
        const fn_eval_probe *p = &r->probes[i];
        if (p->kind == FN_PROBE_ENROLLED) continue;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", p->file);
        cJSON_AddStringToObject(j, "kind", kind_name(p->kind));
        if (p->person) cJSON_AddStringToObject(j, "person", p->person);
        if (p->has_face && p->accepted) cJSON_AddStringToObject(j, "answer", p->match.best_name);
        else cJSON_AddNullToObject(j, "answer");
        cJSON_AddItemToObject(j, "distance", json_number_or_null(p->has_face ? p->match.best.distance : NAN));
        cJSON_AddItemToArray(ne, j);
    }
    if (r->have_openset) {
        add_openset(o, "open_set", &r->at);
        add_openset(o, "open_set_balanced", &r->balanced);
    }
    cJSON_AddNumberToObject(o, "threshold", r->threshold);
    cJSON_AddNumberToObject(o, "cache_hits", x->hits);
    (void)a;
    fn_cli_emit(o);
}

static void report_text(const args *a, const fn_folder_eval *r)
{
    printf("gallery: %d people, %d images enrolled (%d without a face)\n", r->enrolled_people, r->enrolled_images,
           r->n_enrol_no_face);
    printf("probes: %d in all: %d of enrolled people, %d of people not in the gallery, %d from --unknown-dir\n",
           r->n_probes, r->n_enrolled_probes, r->n_absent_probes, r->n_unknown_probes);
    if (r->n_unreadable || r->enrol_unreadable.n || r->skipped.n || r->loose.n)
        printf("not used: %d gallery and %d probe file(s) could not be read, %d file(s) not named as images, %d outside "
               "any person's folder (each named on stderr)\n", r->enrol_unreadable.n, r->n_unreadable, r->skipped.n,
               r->loose.n);
    printf("accuracy: %.2f %% (%d of %d probes of enrolled people; %.2f %% of the %d with a face)\n",
           r->n_enrolled_probes ? 100.0 * r->n_correct / r->n_enrolled_probes : 0, r->n_correct, r->n_enrolled_probes,
           r->n_enrolled_with_face ? 100.0 * r->n_correct / r->n_enrolled_with_face : 0, r->n_enrolled_with_face);
    if (r->n_absent_probes) {
        int rejected = 0, named = 0;
        for (int i = 0; i < r->n_probes; i++) {
            const fn_eval_probe *p = &r->probes[i];
            if (p->kind != FN_PROBE_ABSENT) continue;
            named += p->accepted;
            rejected += p->has_face && !p->accepted;
        }
        printf("not in the gallery: %d probe(s) of people with nothing enrolled; at threshold %.4f %d answered "
               "unknown (right), %d named as someone enrolled (false alarms), %d without a face:\n",
               r->n_absent_probes, r->threshold, rejected, named, r->n_absent_probes - rejected - named);
        absent_people(r, NULL, 1);
    }
    printf("per person:\n");
    for (int i = 0; i < r->n_people; i++) {
        const fn_eval_person *p = &r->people[i];
        if (!p->enrolled || !p->probes) continue;
        printf("  %-24s %3d/%-3d %6.1f %%\n", p->name, p->correct, p->probes, 100.0 * p->correct / p->probes);
    }
    int shown = 0;
    for (int i = 0; i < r->n_probes; i++) {
        const fn_eval_probe *p = &r->probes[i];
        if (p->kind != FN_PROBE_ENROLLED || !p->has_face || p->correct) continue;
        if (!shown++) printf("misidentified:\n");
        printf("  %s: %s taken for %s, distance %.3f, margin %.3f to %s\n", p->file, p->person, p->match.best_name,
               p->match.best.distance, fn_eval_probe_margin(p),
               p->match.second.person_id >= 0 ? p->match.second_name : "-");
    }
    shown = 0;
    for (int i = 0; i < r->n_probes; i++)
        if (!r->probes[i].has_face) {
            if (!shown++) printf("no face found:\n");
            printf("  %s\n", r->probes[i].file);
        }
    if (r->have_openset) {
        printf("open set: %zu probes of enrolled people, %zu of people not enrolled (with a face)\n", r->at.n_known,
               r->at.n_unknown);
        print_openset(a->threshold >= 0 ? "  at --threshold" : "  at the model threshold", &r->at);
        print_openset("  balanced threshold", &r->balanced);
    }
}

typedef struct progress_ctx {
    fn_progress prog;
    const char *stage;
    int json;
    fn_pathlist gallery_files;   /* every gallery image, for its JSON record */
} progress_ctx;

static void on_progress(void *vp, const char *stage, int done, int total, const char *file)
{
    progress_ctx *pc = vp;
    if (pc->stage != stage) {
        if (pc->stage) fn_progress_end(&pc->prog);
        fn_progress_start(&pc->prog, stage, total);
        pc->stage = stage;
    }
    fn_progress_step(&pc->prog, file);
    if (pc->json && !strcmp(stage, "enrolling") && file) fn_pathlist_add(&pc->gallery_files, file);
    (void)done;
}

/* Every input file accounted for in JSON Lines: a record per gallery image
 * (enrolled, or no_face) and per probe (its answer), before the summary. */
static void file_records(const fn_folder_eval *r, const fn_pathlist *gallery)
{
    for (int i = 0; i < gallery->count; i++) {
        int no_face = 0, bad = -1;
        for (int k = 0; k < r->n_enrol_no_face && !no_face; k++) no_face = !strcmp(r->enrol_no_face[k], gallery->items[i]);
        for (int k = 0; k < r->enrol_unreadable.n && bad < 0; k++)
            if (!strcmp(r->enrol_unreadable.items[k], gallery->items[i])) bad = k;
        cJSON *o = bad >= 0 ? fn_cli_file_record(gallery->items[i], fn_cli_load_status(gallery->items[i]),
                                                 r->enrol_unreadable_error.items[bad])
                            : fn_cli_file_record(gallery->items[i], no_face ? FN_ST_NO_FACE : "enrolled", NULL);
        cJSON_AddStringToObject(o, "role", "gallery");
        fn_cli_emit(o);
    }
    for (int i = 0; i < r->skipped.n + r->loose.n; i++) {
        int sk = i < r->skipped.n;
        cJSON *o = sk ? fn_cli_file_record(r->skipped.items[i], FN_ST_UNSUPPORTED, "not named as a JPEG or PNG; not read")
                      : fn_cli_file_record(r->loose.items[i - r->skipped.n], FN_ST_NOT_IN_PERSON_FOLDER,
                                           "directly in the gallery or probe folder, in no person's folder; not read");
        cJSON_AddStringToObject(o, "role", "ignored");
        fn_cli_emit(o);
    }
    for (int i = 0; i < r->n_probes; i++) {
        const fn_eval_probe *p = &r->probes[i];
        cJSON *o = p->error ? fn_cli_file_record(p->file, fn_cli_load_status(p->file), p->error)
                            : fn_cli_file_record(p->file, p->has_face ? FN_ST_OK : FN_ST_NO_FACE, NULL);
        cJSON_AddStringToObject(o, "role", "probe");
        cJSON_AddStringToObject(o, "kind", kind_name(p->kind));
        if (p->person) cJSON_AddStringToObject(o, "person", p->person);
        if (p->has_face) {
            cJSON_AddStringToObject(o, "nearest", p->match.best_name);
            cJSON_AddNumberToObject(o, "distance", p->match.best.distance);
            cJSON_AddBoolToObject(o, "accepted", p->accepted);
            if (p->kind == FN_PROBE_ENROLLED) cJSON_AddBoolToObject(o, "correct", p->correct);
        }
        fn_cli_emit(o);
    }
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
    /* fn_embedder.workers: 1 is the one-file-at-a-time path (--jobs 1 or --batch 1) */
    a->workers = fn_cli_int(&o, FN_O_BATCH, 32) <= 1 ? 1 : (int)fn_cli_int(&o, FN_O_JOBS, 0);
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

static int write_plot(const char *tmp, void *ctx, char *err, size_t errlen)
{
    if (fn_folder_eval_plot(ctx, tmp, NULL) == FN_OK) return 0;
    snprintf(err, errlen, "%s", fn_last_error());
    return -1;
}

int fn_cmd_eval(int argc, char **argv)
{
    args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    fn_engine *e = NULL;
    fn_embedder x = {0};
    fn_folder_eval r = {0};
    fn_status s = FN_OK;
    char cache[4096];
    const char *cpath = a.cache ? fn_cli_cache_path("eval", cache, sizeof cache) : NULL;
    rc = a.cache && !cpath;
    if (!rc) rc = fn_cli_engine_open(&a.ce, "eval", &e);
    if (!rc && (s = fn_embedder_init(&x, e, &a.ce.opts, a.ce.select, 0, FN_MISS_SKIP, cpath)) != FN_OK)
        rc = fn_cli_fail("eval", s);
    x.workers = a.workers;
    progress_ctx pc = {.json = a.json};
    fn_folder_eval_params p = {a.gallery_dir, a.probe_dir, a.unknown_dir, a.threshold, NULL, on_progress, &pc};
    if (!rc && (s = fn_folder_eval_run(&x, &p, &r)) != FN_OK) rc = fn_cli_fail("eval", s);
    if (pc.stage) fn_progress_end(&pc.prog);
    if (!rc && !a.json) {
        for (int i = 0; i < r.n_enrol_no_face; i++)
            fprintf(stderr, "warning: %s: no face; not enrolled\n", r.enrol_no_face[i]);
        for (int i = 0; i < r.enrol_unreadable.n; i++)
            fprintf(stderr, "warning: %s; not enrolled\n", r.enrol_unreadable_error.items[i]);
        for (int i = 0; i < r.n_probes; i++)
            if (r.probes[i].error) fprintf(stderr, "warning: %s; counted as a probe without an answer\n", r.probes[i].error);
        for (int i = 0; i < r.skipped.n; i++)
            fprintf(stderr, "warning: %s: not named as a JPEG or PNG; not read\n", r.skipped.items[i]);
        for (int i = 0; i < r.loose.n; i++)
            fprintf(stderr, "warning: %s: in no person's folder (want DIR/<person>/FILE); not read\n", r.loose.items[i]);
        for (int i = 0; i < r.n_people; i++)
            if (!r.people[i].enrolled && r.people[i].probes)
                fprintf(stderr, "warning: probe folder '%s' (%d images) has nobody enrolled under that name: its probes "
                                "count as people not in the gallery\n", r.people[i].name, r.people[i].probes);
    }
    if (!rc) {
        if (a.json) file_records(&r, &pc.gallery_files);
        if (a.json) report_json(&a, e, &r, &x);
        else report_text(&a, &r);
    }
    if (!rc && a.plot) rc = fn_cli_write_output("eval", &a.outs, a.plot, write_plot, &r);
    fn_outputs_free(&a.outs);
    if (x.e) fn_cli_cache_warning("eval", &x);
    if (x.e && (s = fn_embedder_close(&x)) != FN_OK && !rc) rc = fn_cli_fail("eval", s);
    fn_folder_eval_free(&r);
    fn_pathlist_free(&pc.gallery_files);
    fn_engine_free(e);
    return rc;
}
