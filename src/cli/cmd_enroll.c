/* facenet enroll — add the people of a folder-per-person tree to a gallery.
 * Each image is committed on its own, so an interruption or a bad file
 * never loses what was already enrolled. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include "cli.h"
#include "enroll_camera.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"
#include "gallery_open.h"

static const char *usage =
    "usage: facenet enroll --gallery G.db [--model M] [--json] DIR\n"
    "       facenet enroll --gallery G.db --name NAME --camera SOURCE [--frames K] [--seconds S] [--save DIR]\n"
    "DIR holds one folder per person (the folder name is the person's name); every\n"
    "image in a person's folder is enrolled.  An image with several faces enrolls its\n"
    "most probable face (with a warning); an image with no face is skipped.  Enrolling\n"
    "the same file again is a no-op.  The gallery is created if missing.\n"
    "With --camera, NAME is enrolled from K good frames of a camera (/dev/video0), stream\n"
    "URL, video file or image sequence: one clearly visible face, a new view each time.\n\n"
    "  --name NAME        the person (with --camera)\n"
    "  --camera SOURCE    capture from this source instead of reading DIR\n"
    "  --frames K         frames to capture (5)\n"
    "  --seconds S        give up after S seconds of video (30)\n"
    "  --save DIR         keep the captured frames as JPEGs in DIR\n"
    "  --gallery G.db     the gallery file\n"
    "  --json             JSON Lines: one object per image, then a summary object\n"
    FN_ENGINE_HELP
    "\nexample: facenet enroll --gallery film.db Film/Test\n";

enum { OPT_GALLERY = OPT_FIRST_LOCAL, OPT_JSON, OPT_NAME, OPT_CAMERA, OPT_FRAMES, OPT_SECONDS, OPT_SAVE, OPT_HELP };

typedef struct enroll_stats {
    int people, people_empty, images, added, duplicates, refused, no_face, multi_face, errors;
} enroll_stats;

typedef struct enroll_ctx {
    fn_engine *e;
    fn_gallery *g;
    int json;
    enroll_stats st;
    fn_faces f;
    fn_progress prog;
    const char *name_given;   /* the folder's name when the stored name differs (NFC, trimmed) */
    const char *other;        /* for a refused file: who already has it */
} enroll_ctx;

static void report(enroll_ctx *c, const char *person, const char *path, const char *status, const char *detail)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "person", person);
        cJSON_AddStringToObject(o, "file", path);
        cJSON_AddStringToObject(o, "status", status);
        if (detail) cJSON_AddStringToObject(o, "detail", detail);
        if (c->other) cJSON_AddStringToObject(o, "other_person", c->other);
        if (c->name_given) cJSON_AddStringToObject(o, "name_given", c->name_given);
        fn_cli_emit(o);
    } else if (strcmp(status, "added") && strcmp(status, "duplicate")) {
        fn_progress_end(&c->prog);
        if (!strcmp(status, "error")) fprintf(stderr, "warning: skipped: %s\n", detail);
        else fprintf(stderr, "warning: %s: %s%s%s\n", *path ? path : person, status, detail ? ": " : "", detail ? detail : "");
    }
}

/* Enrol one image of person; returns 1 if the person gained or kept a face. */
static int enroll_image(enroll_ctx *c, const char *person, const char *path)
{
    char hash[65];
    fn_status s = fn_hash_file(path, hash);
    int have = 0;
    if (s == FN_OK) s = fn_gallery_has_image(c->g, person, hash, &have);
    if (s == FN_OK && have) {
        c->st.duplicates++;
        report(c, person, path, "duplicate", "already enrolled");
        return 1;
    }
    if (s == FN_OK) s = fn_faces_run(c->e, path, 0, 1, &c->f);
    if (s != FN_OK) {
        c->st.errors++;
        report(c, person, path, "error", fn_last_error());
        return 0;
    }
    if (c->f.n == 0) {
        c->st.no_face++;
        report(c, person, path, "no face", "skipped");
        return 0;
    }
    int k = 0; /* faces come most probable first */
    char detail[96] = "";
    if (c->f.total > 1) {
        c->st.multi_face++;
        snprintf(detail, sizeof detail, "%d faces; enrolled the most probable (p=%.3f)", c->f.total, c->f.faces[0].prob);
        if (!c->json) report(c, person, path, "several faces", detail);
    }
    fn_gallery_face gf = {person, path, hash, {0}, c->f.faces[k].prob, c->f.emb};
    memcpy(gf.box, c->f.faces[k].box, sizeof gf.box);
    fn_gallery_add_info info;
    s = fn_gallery_add_ex(c->g, &gf, 0, &info);
    if (s != FN_OK) {
        c->st.errors++;
        report(c, person, path, "error", fn_last_error());
        return 0;
    }
    if (info.result == FN_GALLERY_REFUSED_OTHER_PERSON) {
        /* one photo of one face is one person: a second label is a mislabelled folder far more often than a wish */
        char why[2 * FN_GALLERY_NAME_MAX + 160];
        snprintf(why, sizeof why, "this face of this file is already enrolled as %s (image %lld); not added as %s",
                 info.other_person, (long long)info.other_image_id, person);
        c->st.refused++;
        c->other = info.other_person;
        report(c, person, path, "refused", why);
        c->other = NULL;
        return 0;
    }
    if (info.result == FN_GALLERY_SKIPPED_DUPLICATE) {
        c->st.duplicates++;
        report(c, person, path, "duplicate", "already enrolled");
        return 1;
    }
    c->st.added++;
    if (c->json) report(c, person, path, "added", detail[0] ? detail : NULL);
    return 1;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The person folders of root, sorted; loose files are reported and ignored. */
static int person_dirs(const char *root, fn_pathlist *out, int *loose)
{
    DIR *d = opendir(root);
    if (!d) return -1;
    struct dirent *ent;
    fn_pathlist names = {0};
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", root, ent->d_name);
        if (is_dir(p)) fn_pathlist_add(&names, ent->d_name);
        else (*loose)++;
    }
    closedir(d);
    for (int i = 0; i < names.count; i++)
        for (int j = i + 1; j < names.count; j++)
            if (strcmp(names.items[i], names.items[j]) > 0) {
                char *t = names.items[i];
                names.items[i] = names.items[j];
                names.items[j] = t;
            }
    *out = names;
    return 0;
}

static void summary(enroll_ctx *c)
{
    enroll_stats *s = &c->st;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "summary", "enroll");
        cJSON_AddNumberToObject(o, "people", s->people);
        cJSON_AddNumberToObject(o, "people_without_usable_image", s->people_empty);
        cJSON_AddNumberToObject(o, "images", s->images);
        cJSON_AddNumberToObject(o, "added", s->added);
        cJSON_AddNumberToObject(o, "duplicates", s->duplicates);
        cJSON_AddNumberToObject(o, "refused_other_person", s->refused);
        cJSON_AddNumberToObject(o, "no_face", s->no_face);
        cJSON_AddNumberToObject(o, "several_faces", s->multi_face);
        cJSON_AddNumberToObject(o, "errors", s->errors);
        fn_cli_emit(o);
        return;
    }
    printf("enrolled %d image(s) of %d people (%d already enrolled, %d without a face, %d with several faces, "
           "%d unreadable)\n", s->added, s->people - s->people_empty, s->duplicates, s->no_face, s->multi_face,
           s->errors);
    if (s->refused)
        printf("%d image(s) refused: already enrolled as another person (named above)\n", s->refused);
}

int fn_cmd_enroll(int argc, char **argv)
{
    static const struct option longopts[] = {
        FN_ENGINE_LONGOPTS,
        {"gallery", required_argument, 0, OPT_GALLERY},
        {"json", no_argument, 0, OPT_JSON},
        {"name", required_argument, 0, OPT_NAME},
        {"camera", required_argument, 0, OPT_CAMERA},
        {"frames", required_argument, 0, OPT_FRAMES},
        {"seconds", required_argument, 0, OPT_SECONDS},
        {"save", required_argument, 0, OPT_SAVE},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    fn_cli_engine ce;
    fn_cli_engine_init(&ce);
    const char *gpath = NULL;
    fn_camera_enroll cam = {NULL, NULL, 5, 30.0, NULL, 0};
    enroll_ctx c = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_GALLERY) gpath = optarg;
        else if (opt == OPT_JSON) c.json = cam.json = 1;
        else if (opt == OPT_NAME) cam.name = optarg;
        else if (opt == OPT_CAMERA) cam.source = optarg;
        else if (opt == OPT_SAVE) cam.save_dir = optarg;
        else if (opt == OPT_FRAMES) {
            cam.frames = atoi(optarg);
            if (cam.frames < 1 || cam.frames > 100) return fn_cli_usage_error("enroll", "--frames wants 1..100, got '%s'", optarg);
        } else if (opt == OPT_SECONDS) {
            cam.seconds = strtod(optarg, NULL);
            if (!(cam.seconds > 0)) return fn_cli_usage_error("enroll", "--seconds wants a positive number, got '%s'", optarg);
        }
        else if (opt == OPT_HELP) { fputs(usage, stdout); return 0; }
        else if (opt == '?') return fn_cli_usage_error("enroll", "bad option");
        else if (fn_cli_engine_option(&ce, "enroll", opt, optarg)) return 2;
    }
    if (!gpath) return fn_cli_usage_error("enroll", "--gallery G.db is required");
    if (cam.source || cam.name) {
        if (!cam.source || !cam.name || !*cam.name) return fn_cli_usage_error("enroll", "--camera and --name go together");
        static char cam_name[FN_GALLERY_NAME_MAX];
        int changed = 0;
        if (fn_gallery_normalize_name(cam.name, cam_name, sizeof cam_name, &changed) != FN_OK)
            return fn_cli_usage_error("enroll", "--name: %s", fn_last_error());
        if (changed && !cam.json)
            fprintf(stderr, "note: '%s' is enrolled as '%s' (names are stored in Unicode NFC, without leading or "
                    "trailing spaces)\n", cam.name, cam_name);
        cam.name = cam_name;
        if (optind != argc) return fn_cli_usage_error("enroll", "--camera takes no directory");
        struct stat sd;
        if (cam.save_dir && mkdir(cam.save_dir, 0777) != 0 && (stat(cam.save_dir, &sd) != 0 || !S_ISDIR(sd.st_mode))) {
            fprintf(stderr, "facenet enroll: cannot create the directory %s\n", cam.save_dir);
            return 1;
        }
        if (fn_cli_engine_open(&ce, "enroll", &c.e)) return 1;
        if (fn_cli_gallery_open("enroll", gpath, c.e, FN_GALLERY_CREATE, &c.g)) {
            fn_engine_free(c.e);
            return 1;
        }
        int rc = fn_cli_enroll_camera(c.e, c.g, &cam);
        fn_gallery_close(c.g);
        fn_engine_free(c.e);
        return rc;
    }
    if (argc - optind != 1) return fn_cli_usage_error("enroll", "wants one directory holding a folder per person");
    const char *root = argv[optind];
    if (!is_dir(root)) {
        fprintf(stderr, "facenet enroll: %s is not a directory (it should hold one folder per person)\n", root);
        return 1;
    }
    fn_pathlist people = {0};
    int loose = 0;
    if (person_dirs(root, &people, &loose) != 0 || people.count == 0) {
        fprintf(stderr, "facenet enroll: %s holds no person folders\n", root);
        fn_pathlist_free(&people);
        return 1;
    }
    if (loose && !c.json) fprintf(stderr, "note: %d file(s) directly in %s are not in a person folder; ignored\n", loose, root);
    if (fn_cli_engine_open(&ce, "enroll", &c.e) ||
        fn_cli_gallery_open("enroll", gpath, c.e, FN_GALLERY_CREATE, &c.g)) {
        fn_engine_free(c.e);
        fn_pathlist_free(&people);
        return 1;
    }
    fn_pathlist *files = calloc(people.count, sizeof *files);
    int total = 0;
    for (int i = 0; i < people.count; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", root, people.items[i]);
        char *arg = dir;
        fn_cli_collect_images(&arg, 1, &files[i]);
        total += files[i].count;
    }
    fn_progress_start(&c.prog, "enrolling", total);
    for (int i = 0; i < people.count; i++) {
        int usable = 0, changed = 0;
        char name[FN_GALLERY_NAME_MAX];
        c.st.people++;
        /* the gallery stores names in Unicode NFC without surrounding spaces (macOS writes folder names in NFD) */
        if (fn_gallery_normalize_name(people.items[i], name, sizeof name, &changed) != FN_OK) {
            char why[600];
            snprintf(why, sizeof why, "person folder: %s", fn_last_error());
            c.st.people_empty++;
            c.st.errors += files[i].count;
            c.st.images += files[i].count;
            for (int k = 0; k < files[i].count; k++) fn_progress_step(&c.prog, files[i].items[k]);
            report(&c, people.items[i], "", "error", why);
            fn_pathlist_free(&files[i]);
            continue;
        }
        c.name_given = changed ? people.items[i] : NULL;
        if (changed && !c.json) {
            fn_progress_end(&c.prog);
            fprintf(stderr, "note: folder '%s' is enrolled as '%s' (names are stored in Unicode NFC, without "
                    "leading or trailing spaces)\n", people.items[i], name);
        }
        for (int k = 0; k < files[i].count; k++) {
            c.st.images++;
            usable += enroll_image(&c, name, files[i].items[k]);
            fn_progress_step(&c.prog, files[i].items[k]);
        }
        if (!usable) {
            c.st.people_empty++;
            report(&c, name, "", "no usable image", "person not enrolled");
        }
        c.name_given = NULL;
        fn_pathlist_free(&files[i]);
    }
    fn_progress_end(&c.prog);
    summary(&c);
    free(files);
    fn_faces_free(&c.f);
    fn_gallery_close(c.g);
    fn_engine_free(c.e);
    fn_pathlist_free(&people);
    return c.st.added + c.st.duplicates > 0 ? 0 : 1;
}
