/* facenet identify — who is in these photos, by the nearest enrolled
 * person; faces farther than the threshold are "unknown". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "bulk.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"
#include "gallery_open.h"
#include "outputs.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the gallery (built by `facenet enroll` with the same model)"),
    FN_USE_T(FN_O_THRESHOLD, "the gallery's calibrated one, else the model's",
             "Euclidean distance above which a face is unknown"),
    FN_USE_H(FN_O_ANNOTATE, "write each image with boxes and names drawn into DIR, mirroring the inputs' folders"),
    FN_USE(FN_O_ALLOW_REPEATS),
    FN_USE(FN_O_OVERWRITE),
    FN_USE_H(FN_O_JSON, "JSON Lines: one object per face "
                        "{file, status: \"ok\", box, prob, name, distance, nearest, nearest_distance, "
                        "nearest_names_another_face, second}; "
     "one per file without a face or unreadable {file, status, error}"),
    FN_USE(FN_O_VERBOSE),
    FN_USE_D(FN_O_JOBS, "0", NULL),
    FN_USE_D(FN_O_BATCH, "32", NULL),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "identify",
    .usage = (const char *const[]){"--gallery G.db [--threshold T] [--annotate DIR] [--json] IMAGE|DIR...", NULL},
    .description =
        "For every face: the nearest enrolled person and the distance, or unknown when the\n"
        "distance is above the threshold (--threshold, else the gallery's calibrated one, else\n"
        "the model's).  Folders are read recursively (.jpg, .jpeg, .png); other files in them\n"
        "are reported as skipped.  Every input file is accounted for: a face line, \"no face\",\n"
        "or an error naming it.  --annotate never writes over an input nor replaces a file\n"
        "(without --overwrite): DIR/<path below the inputs' common folder>.",
    .opts = uses, .min_args = 1, .max_args = -1, .args_name = "IMAGE|DIR...",
    .examples = (const char *const[]){"facenet identify --gallery film.db --annotate out/ Predict/",
                                      "facenet identify --gallery film.db --json --threshold 0.9 photo.jpg", NULL},
    .exits = (const fn_cli_exit[]){{1, "failure: a file was unreadable or not an image, an annotated copy could "
                                       "not be written, or the gallery/model could not be opened (named on stderr; "
                                       "the other files were still processed)"},
                                   {0, NULL}},
};

/* known: the face's jointly assigned name (fn_gallery_name_faces); the
 * nearest person is always reported too, for transparency. */
static void emit_face(const char *file, const fn_faces *ff, int k, const fn_gallery_naming *nm, int json)
{
    const fn_face *f = &ff->faces[k];
    const fn_gallery_match *m = &nm->nearest;
    int known = nm->named.person_id >= 0;
    float d = known ? nm->named.distance : m->best.distance;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", file);
        cJSON_AddStringToObject(o, "status", FN_ST_OK);
        cJSON_AddItemToObject(o, "box", fn_cli_box(f->box));
        cJSON_AddNumberToObject(o, "prob", f->prob);
        fn_cli_face_edge(o, f, ff->img.w, ff->img.h);
        if (known) cJSON_AddStringToObject(o, "name", nm->name);
        else cJSON_AddNullToObject(o, "name");
        cJSON_AddNumberToObject(o, "distance", d);
        cJSON_AddStringToObject(o, "nearest", m->best_name);
        cJSON_AddNumberToObject(o, "nearest_distance", m->best.distance);
        cJSON_AddBoolToObject(o, "nearest_names_another_face", nm->displaced);
        cJSON *sec = cJSON_CreateObject();
        if (m->second.person_id >= 0) {
            cJSON_AddStringToObject(sec, "name", m->second_name);
            cJSON_AddNumberToObject(sec, "distance", m->second.distance);
        } else {
            cJSON_AddNullToObject(sec, "name");
            cJSON_AddNullToObject(sec, "distance");
        }
        cJSON_AddItemToObject(o, "second", sec);
        fn_cli_emit(o);
        return;
    }
    printf("%s: %-20s distance %.3f  box [%.0f %.0f %.0f %.0f] p=%.3f", file, known ? nm->name : "unknown", d,
           f->box[0], f->box[1], f->box[2], f->box[3], f->prob);
    if (nm->displaced) printf("  (nearest: %s at %.3f, who names another face here)", m->best_name, m->best.distance);
    else if (!known) printf("  (nearest: %s)", m->best_name);
    printf("\n");
}

static int write_annotated(const fn_outputs *out, const char *path, fn_image *img, const fn_face *faces,
                           const fn_gallery_naming *nm, int n)
{
    for (int i = 0; i < n; i++) {
        char label[160];
        int known = nm[i].named.person_id >= 0;
        snprintf(label, sizeof label, "%s %.2f", known ? nm[i].name : "unknown",
                 known ? nm[i].named.distance : nm[i].nearest.best.distance);
        fn_image_draw_face(img, &faces[i], label, known);
    }
    return fn_cli_save_image("identify", out, path, img);
}

/* An input that could not be processed: stderr, and a record in JSON. */
static void report_failure(const fn_cli_bulk_item *it, int json)
{
    if (json) fn_cli_emit(fn_cli_file_record(it->path, it->loaded ? "error" : fn_cli_load_status(it->path), it->error));
    fn_cli_error("identify", "%s", it->error);
}

int fn_cmd_identify(int argc, char **argv)
{
    fn_cli_args a;
    fn_cli_engine ce;
    int rc;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &a, &rc)) return rc;
    const char *gpath = fn_cli_str(&a, FN_O_GALLERY), *annotate = fn_cli_str(&a, FN_O_ANNOTATE);
    float threshold = (float)fn_cli_float(&a, FN_O_THRESHOLD, -1);
    int json = fn_cli_flag(&a, FN_O_JSON);
    fn_pathlist files = {0}, skipped = {0};
    if (fn_cli_collect_images(a.pos, a.npos, &files, &skipped)) return 1;
    fn_outputs out = {0};
    char **outpaths = annotate ? calloc((size_t)files.count + 1, sizeof *outpaths) : NULL;
    if (annotate) {
        char err[512];
        if (!outpaths || fn_outputs_init(&out, annotate, a.pos, a.npos, files.items, files.count,
                                         fn_cli_flag(&a, FN_O_OVERWRITE), err, sizeof err)) {
            fprintf(stderr, "facenet identify: %s\n", outpaths ? err : "out of memory");
            rc = 1;
        } else {
            rc = fn_cli_plan_outputs("identify", &out, files.items, files.count, outpaths);
        }
    }
    fn_cli_report_skipped("identify", &skipped, json, fn_cli_flag(&a, FN_O_VERBOSE));
    fn_engine *e = NULL;
    fn_gallery *g = NULL;
    fn_gallery_scratch *scratch = NULL;
    fn_gallery_naming *m = calloc(FN_FACES_MAX, sizeof *m);
    int allow_repeats = fn_cli_flag(&a, FN_O_ALLOW_REPEATS);
    if (!rc) rc = fn_cli_engine_open(&ce, "identify", &e) ||
                  fn_cli_gallery_open("identify", gpath, e, FN_GALLERY_READONLY, &g);
    if (!rc) {
        fn_status s = fn_gallery_scratch_new(g, FN_FACES_MAX, &scratch);
        if (s != FN_OK) rc = fn_cli_fail("identify", s);
    }
    const char *tsrc = "";
    float t = rc ? 0 : fn_cli_threshold(g, e, threshold, &tsrc);
    if (!rc && !json) fprintf(stderr, "threshold %.3f (%s)\n", t, tsrc);
    fn_cli_bulk k = {0};
    if (!rc) rc = fn_cli_bulk_start(&k, "identify", e, &a, files.items, files.count, 0, 1);
    fn_progress prog;
    fn_progress_start(&prog, "identifying", files.count);
    int failures = 0, done = 0;
    fn_cli_bulk_item it;
    while (!rc && !fn_cli_bulk_next(&k, "identify", &it)) {
        int i = done++;
        fn_status s = it.status;
        fn_progress_step(&prog, it.path);
        if (s != FN_OK) {
            fn_progress_end(&prog);
            report_failure(&it, json);
            failures++;
            continue;
        }
        const fn_faces *f = it.faces;
        /* a person appears once per photo: the faces are named jointly unless --allow-repeats */
        if (f->n) s = fn_gallery_name_faces(g, scratch, f->emb, f->n, t, allow_repeats ? FN_GALLERY_ALLOW_REPEATS : 0, m);
        if (s != FN_OK) {
            fn_progress_end(&prog);
            fn_cli_fail("identify", s);
            if (s == FN_ERR_NOT_FOUND) rc = 1;   /* empty gallery: nothing else can work */
            failures++;
            continue;
        }
        if (f->n == 0 && json) fn_cli_emit(fn_cli_file_record(it.path, FN_ST_NO_FACE, NULL));
        else if (f->n == 0) printf("%s: no face\n", it.path);
        fn_cli_image_warning("identify", f, NULL);
        for (int j = 0; j < f->n; j++) emit_face(it.path, f, j, &m[j], json);
        if (annotate && write_annotated(&out, outpaths[i], (fn_image *)&f->img, f->faces, m, f->n)) failures++;
    }
    if (!rc) failures += files.count - done;
    fn_cli_bulk_end(&k);
    fn_progress_end(&prog);
    if (outpaths)
        for (int i = 0; i < files.count; i++) free(outpaths[i]);
    free(outpaths);
    fn_outputs_free(&out);
    free(m);
    fn_gallery_scratch_free(scratch);
    fn_gallery_close(g);
    fn_engine_free(e);
    fn_pathlist_free(&files);
    fn_pathlist_free(&skipped);
    return rc || failures ? 1 : 0;
}
