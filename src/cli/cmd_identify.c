/* facenet identify — who is in these photos, by the nearest enrolled
 * person; faces farther than the threshold are "unknown". */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"
#include "gallery_open.h"

static const char *usage =
    "usage: facenet identify --gallery G.db [--threshold T] [--annotate OUTDIR] [--json] IMAGE|DIR...\n"
    "For every face: the nearest enrolled person and the distance, or unknown when the\n"
    "distance is above the threshold (the gallery's calibrated one, else the model's).\n\n"
    "  --gallery G.db     the gallery (built by `facenet enroll` with the same model)\n"
    "  --threshold T      Euclidean distance above which a face is unknown\n"
    "  --allow-repeats    let one person name several faces of a picture (mirrors, posters);\n"
    "                     by default the faces are named jointly, each person at most once\n"
    "  --annotate OUTDIR  write each image with boxes and names drawn into OUTDIR\n"
    "  --json             one object per face: {file, box, prob, name, distance, second}\n"
    FN_ENGINE_HELP
    "\nexample: facenet identify --gallery film.db --annotate out/ Predict/\n";

enum { OPT_GALLERY = OPT_FIRST_LOCAL, OPT_THRESHOLD, OPT_ANNOTATE, OPT_JSON, OPT_ALLOW_REPEATS, OPT_HELP };

/* known: the face's jointly assigned name (fn_gallery_name_faces); the
 * nearest person is always reported too, for transparency. */
static void emit_face(const char *file, const fn_face *f, const fn_gallery_naming *nm, int json)
{
    const fn_gallery_match *m = &nm->nearest;
    int known = nm->named.person_id >= 0;
    float d = known ? nm->named.distance : m->best.distance;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", file);
        cJSON_AddItemToObject(o, "box", fn_cli_box(f->box));
        cJSON_AddNumberToObject(o, "prob", f->prob);
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

static int write_annotated(const char *outdir, const char *file, fn_image *img, const fn_face *faces,
                           const fn_gallery_naming *nm, int n)
{
    for (int i = 0; i < n; i++) {
        char label[160];
        int known = nm[i].named.person_id >= 0;
        snprintf(label, sizeof label, "%s %.2f", known ? nm[i].name : "unknown",
                 known ? nm[i].named.distance : nm[i].nearest.best.distance);
        fn_image_draw_face(img, &faces[i], label, known);
    }
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char out[4096];
    snprintf(out, sizeof out, "%s/%s", outdir, base);
    char *dot = strrchr(out, '.');
    if (dot && strchr(dot, '/') == NULL) strcpy(dot, ".jpg");
    fn_status s = fn_image_save_jpeg(out, img, 90);
    return s == FN_OK ? 0 : fn_cli_fail("identify", s);
}

int fn_cmd_identify(int argc, char **argv)
{
    static const struct option longopts[] = {
        FN_ENGINE_LONGOPTS,
        {"gallery", required_argument, 0, OPT_GALLERY},
        {"threshold", required_argument, 0, OPT_THRESHOLD},
        {"allow-repeats", no_argument, 0, OPT_ALLOW_REPEATS},
        {"annotate", required_argument, 0, OPT_ANNOTATE},
        {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    fn_cli_engine ce;
    fn_cli_engine_init(&ce);
    const char *gpath = NULL, *annotate = NULL;
    float threshold = -1;
    int json = 0, allow_repeats = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_GALLERY) gpath = optarg;
        else if (opt == OPT_THRESHOLD) {
            char *end;
            threshold = strtof(optarg, &end);
            if (*end || end == optarg || threshold < 0)
                return fn_cli_usage_error("identify", "--threshold wants a distance >= 0, got '%s'", optarg);
        } else if (opt == OPT_ANNOTATE) annotate = optarg;
        else if (opt == OPT_JSON) json = 1;
        else if (opt == OPT_ALLOW_REPEATS) allow_repeats = 1;
        else if (opt == OPT_HELP) { fputs(usage, stdout); return 0; }
        else if (opt == '?') return fn_cli_usage_error("identify", "bad option");
        else if (fn_cli_engine_option(&ce, "identify", opt, optarg)) return 2;
    }
    if (!gpath) return fn_cli_usage_error("identify", "--gallery G.db is required");
    if (optind >= argc) return fn_cli_usage_error("identify", "no image given");
    struct stat st;
    if (stat(gpath, &st) != 0) {
        fprintf(stderr, "facenet identify: %s: no such gallery (create one with `facenet enroll`)\n", gpath);
        return 1;
    }
    if (annotate && mkdir(annotate, 0777) != 0 && (stat(annotate, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "facenet identify: cannot create the directory %s\n", annotate);
        return 1;
    }
    fn_pathlist files = {0};
    if (fn_cli_collect_images(argv + optind, argc - optind, &files)) return 1;
    fn_engine *e = NULL;
    fn_gallery *g = NULL;
    fn_gallery_scratch *scratch = NULL;
    fn_gallery_naming *m = calloc(FN_FACES_MAX, sizeof *m);
    int rc = fn_cli_engine_open(&ce, "identify", &e) ||
             fn_cli_gallery_open("identify", gpath, e, FN_GALLERY_READONLY, &g);
    if (!rc) {
        fn_status s = fn_gallery_scratch_new(g, FN_FACES_MAX, &scratch);
        if (s != FN_OK) rc = fn_cli_fail("identify", s);
    }
    const char *tsrc = "";
    float t = rc ? 0 : fn_cli_threshold(g, e, threshold, &tsrc);
    if (!rc && !json) fprintf(stderr, "threshold %.3f (%s)\n", t, tsrc);
    fn_faces f = {0};
    fn_progress prog;
    fn_progress_start(&prog, "identifying", files.count);
    int failures = 0;
    for (int i = 0; !rc && i < files.count; i++) {
        fn_status s = fn_faces_run(e, files.items[i], 0, 1, &f);
        /* a person appears once per photo: the faces are named jointly unless --allow-repeats */
        if (s == FN_OK && f.n)
            s = fn_gallery_name_faces(g, scratch, f.emb, f.n, t, allow_repeats ? FN_GALLERY_ALLOW_REPEATS : 0, m);
        fn_progress_step(&prog, files.items[i]);
        if (s != FN_OK) {
            fn_progress_end(&prog);
            fn_cli_fail("identify", s);
            if (s == FN_ERR_NOT_FOUND) rc = 1;   /* empty gallery: nothing else can work */
            failures++;
            continue;
        }
        if (f.n == 0 && !json) printf("%s: no face\n", files.items[i]);
        for (int k = 0; k < f.n; k++) emit_face(files.items[i], &f.faces[k], &m[k], json);
        if (annotate && write_annotated(annotate, files.items[i], &f.img, f.faces, m, f.n)) failures++;
    }
    fn_progress_end(&prog);
    fn_faces_free(&f);
    free(m);
    fn_gallery_scratch_free(scratch);
    fn_gallery_close(g);
    fn_engine_free(e);
    fn_pathlist_free(&files);
    return rc || failures ? 1 : 0;
}
