/* facenet enroll — add the people of a folder-per-person tree to a gallery.
 * Each image is committed on its own, so an interruption or a bad file
 * never loses what was already enrolled. */
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

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the gallery file (created if missing)"),
    FN_USE_H(FN_O_JSON, "JSON Lines: one object per file {person, file, status, detail}, then a summary object"),
    FN_USE(FN_O_VERBOSE),
    FN_USE(FN_O_ALSO_OTHER_PERSON),
    FN_USE_H(FN_O_NAME, "the person (with --camera)"),
    FN_USE_H(FN_O_CAMERA, "capture from SOURCE (/dev/video0, a stream URL, a video file, an image sequence) "
                                 "instead of reading DIR"),
    FN_USE_D(FN_O_FRAMES, "5", NULL),
    FN_USE_D(FN_O_SECONDS, "30", NULL),
    FN_USE(FN_O_SAVE),
    FN_USE_D(FN_O_JOBS, "0", NULL),
    FN_USE_D(FN_O_BATCH, "32", NULL),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "enroll",
    .usage = (const char *const[]){"--gallery G.db [--model M] [--json] DIR",
                                   "--gallery G.db --name NAME --camera SOURCE [--frames K] [--seconds S] [--save DIR]",
                                   NULL},
    .description =
        "DIR holds one folder per person (the folder name is the person's name); every\n"
        "image in a person's folder is enrolled.  An image with several faces enrolls its\n"
        "most probable face (with a warning); an image with no face is skipped.  Enrolling\n"
        "the same file again is a no-op.  The gallery is created if missing.  Every file is\n"
        "accounted for: loose files beside the person folders and files that are not\n"
        ".jpg, .jpeg or .png are reported as skipped.\n"
        "Files are decoded and detected on every CPU at once and their faces embedded in\n"
        "batches; the gallery is written in transactions of up to 64 images (or one\n"
        "second), so an interruption loses at most the last group, which running the\n"
        "same command again adds (files already enrolled are skipped by content hash).\n"
        "With --camera, NAME is enrolled from K good frames of a camera (/dev/video0), stream\n"
        "URL, video file or image sequence: one clearly visible face, a new view each time.",
    .opts = uses, .min_args = 0, .max_args = 1, .args_name = "DIR (one folder per person)",
    .examples = (const char *const[]){"facenet enroll --gallery film.db Film/Test",
                                      "facenet enroll --gallery home.db --name Alice --camera /dev/video0 --frames 8",
                                      NULL},
    .exits = (const fn_cli_exit[]){{1, "failure: nothing could be enrolled, or the gallery/model could not be opened "
                                       "(files that could not be used are named on stderr)"},
                                   {0, NULL}},
};

typedef struct enroll_stats {
    int people, people_empty, images, added, duplicates, refused, no_face, multi_face, errors;
} enroll_stats;

typedef struct enroll_ctx {
    fn_engine *e;
    fn_gallery *g;
    int json;
    int add_flags;            /* FN_GALLERY_ADD_ALLOW_OTHER_PERSON with --also-other-person */
    enroll_stats st;
    fn_faces f;
    fn_progress prog;
    const char *name_given;   /* the folder's name when the stored name differs (NFC, trimmed) */
    const char *other;        /* for a refused file: who already has it */
    fn_batch *batch;          /* the pipelined path; NULL with --batch 1 */
    int batch_mode;           /* the pipelined path ran (commits in groups) */
    int uncommitted;          /* images added since the last commit */
    double last_commit;       /* fn_now() of the last commit */
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
        if (!strcmp(status, "error") || !strcmp(status, FN_ST_UNREADABLE) || !strcmp(status, FN_ST_UNSUPPORTED))
            fprintf(stderr, "warning: skipped: %s\n", detail);
        else if (!strcmp(status, FN_ST_NO_FACE)) fprintf(stderr, "warning: %s: no face: skipped\n", path);
        else fprintf(stderr, "warning: %s: %s%s%s\n", *path ? path : person, status, detail ? ": " : "", detail ? detail : "");
    }
}

/* Enrol the detected, embedded faces of one image of person (f->emb holds
 * at least the first face's embedding); returns 1 if the person gained or
 * kept a face.  Both paths end here, so their records are the same. */
static int enroll_faces(enroll_ctx *c, const char *person, const char *path, const char *hash, const fn_faces *f)
{
    fn_cli_image_warning("enroll", f, NULL);
    if (f->n == 0) {
        c->st.no_face++;
        report(c, person, path, FN_ST_NO_FACE, "skipped");
        return 0;
    }
    int k = 0; /* faces come most probable first */
    char detail[96] = "";
    if (f->total > 1) {
        c->st.multi_face++;
        snprintf(detail, sizeof detail, "%d faces; enrolled the most probable (p=%.3f)", f->total, f->faces[0].prob);
        if (!c->json) report(c, person, path, "several faces", detail);
    }
    /* the gallery keeps the photo's absolute path: a relative one means
     * nothing to a later command run elsewhere, or to another machine sharing
     * a PostgreSQL gallery; the records keep the path as given */
    char *abs = realpath(path, NULL);
    fn_gallery_face gf = {person, abs ? abs : path, hash, {0}, f->faces[k].prob, f->emb};
    memcpy(gf.box, f->faces[k].box, sizeof gf.box);
    fn_gallery_add_info info;
    fn_status s = fn_gallery_add_ex(c->g, &gf, c->add_flags, &info);
    free(abs);
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
    c->uncommitted++;
    if (info.other_person[0]) {   /* --also-other-person: added, but say who else has it */
        char also[FN_GALLERY_NAME_MAX + 140];
        snprintf(also, sizeof also, "%s%salso enrolled as %s (--also-other-person)", detail, detail[0] ? "; " : "",
                 info.other_person);
        snprintf(detail, sizeof detail, "%.95s", also);
        c->other = info.other_person;
        if (!c->json) {
            fn_progress_end(&c->prog);
            fprintf(stderr, "warning: %s: added as %s, %s\n", path, person, also);
        }
    }
    if (c->json) report(c, person, path, "added", detail[0] ? detail : NULL);
    c->other = NULL;
    return 1;
}

/* The one-at-a-time path (--batch 1): hash, skip if enrolled, detect and
 * embed this file alone, commit it alone. */
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
        report(c, person, path, c->f.img.data ? "error" : fn_cli_load_status(path), fn_last_error());
        return 0;
    }
    return enroll_faces(c, person, path, hash, &c->f);
}

/* The pipelined path's outcome of one file (the same records as enroll_image). */
static int enroll_result(enroll_ctx *c, const char *person, const fn_batch_result *r)
{
    if (r->skipped) {
        c->st.duplicates++;
        report(c, person, r->path, "duplicate", "already enrolled");
        return 1;
    }
    if (r->status != FN_OK) {
        c->st.errors++;
        report(c, person, r->path, r->loaded ? "error" : fn_cli_load_status(r->path), r->error);
        return 0;
    }
    return enroll_faces(c, person, r->path, r->hash, r->faces);
}

/* The inputs of the pipelined path: every file of every person with a
 * usable name, person by person; the workers' skip test reads them. */
typedef struct enroll_src {
    const char **paths;
    const char **person;   /* person[i]: the stored name of paths[i]'s folder */
    fn_gallery *g;
    int n;
} enroll_src;

/* Run by the executor's workers before decoding: a file this person already
 * has is not decoded again (a re-run after an interruption adds the rest). */
static int skip_enrolled(void *user, int index, const char *path, const char *hash)
{
    const enroll_src *src = user;
    int have = 0;
    return fn_gallery_has_image(src->g, src->person[index], hash, &have) == FN_OK && have;
}

/* Commit the open group of inserts every FN_ENROLL_GROUP images or second
 * (and at the end), then open the next: a crash loses at most that group,
 * which a re-run adds (enrolled files are skipped by hash). */
#define FN_ENROLL_GROUP 64
static fn_status maybe_commit(enroll_ctx *c, int last)
{
    if (!last && c->uncommitted < FN_ENROLL_GROUP && fn_now() - c->last_commit < 1.0) return FN_OK;
    fn_status s = fn_gallery_commit(c->g);
    if (s != FN_OK) return s;
    c->uncommitted = 0;
    c->last_commit = fn_now();
    return last ? FN_OK : fn_gallery_begin(c->g);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The person folders of root, sorted; loose files go to *loose (reported, not enrolled). */
static int person_dirs(const char *root, fn_pathlist *out, fn_pathlist *loose)
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
        else fn_pathlist_add(loose, p);
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
        cJSON_AddNumberToObject(o, "commit_group", c->batch_mode ? FN_ENROLL_GROUP : 1);
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
    fn_cli_args a;
    fn_cli_engine ce;
    int rc;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &a, &rc)) return rc;
    const char *gpath = fn_cli_str(&a, FN_O_GALLERY);
    enroll_ctx c = {0};
    c.json = fn_cli_flag(&a, FN_O_JSON);
    c.add_flags = fn_cli_flag(&a, FN_O_ALSO_OTHER_PERSON) ? FN_GALLERY_ADD_ALLOW_OTHER_PERSON : 0;
    int verbose = fn_cli_flag(&a, FN_O_VERBOSE);
    fn_camera_enroll cam = {fn_cli_str(&a, FN_O_NAME), fn_cli_str(&a, FN_O_CAMERA),
                            (int)fn_cli_int(&a, FN_O_FRAMES, 5), fn_cli_float(&a, FN_O_SECONDS, 30),
                            fn_cli_str(&a, FN_O_SAVE), NULL, c.json};
    if (cam.source || cam.name) {
        if (!cam.source || !cam.name) return fn_cli_usage("enroll", "--camera and --name go together");
        if (a.npos) return fn_cli_usage("enroll", "--camera takes no directory (got '%s')", a.pos[0]);
        static char cam_name[FN_GALLERY_NAME_MAX];
        int changed = 0;
        if (fn_gallery_normalize_name(cam.name, cam_name, sizeof cam_name, &changed) != FN_OK)
            return fn_cli_usage("enroll", "--name: %s", fn_last_error());
        if (changed && !cam.json)
            fprintf(stderr, "note: '%s' is enrolled as '%s' (names are stored in Unicode NFC, without leading or "
                    "trailing spaces)\n", cam.name, cam_name);
        cam.name = cam_name;
        struct stat sd;
        if (cam.save_dir && mkdir(cam.save_dir, 0777) != 0 && (stat(cam.save_dir, &sd) != 0 || !S_ISDIR(sd.st_mode))) {
            fprintf(stderr, "facenet enroll: cannot create the directory %s\n", cam.save_dir);
            return 1;
        }
        fn_outputs outs = {0};
        char err[512];
        if (fn_outputs_init(&outs, cam.save_dir, NULL, 0, NULL, 0, 0, err, sizeof err)) {
            fprintf(stderr, "facenet enroll: %s\n", err);
            return 1;
        }
        cam.out = &outs;
        rc = fn_cli_engine_open(&ce, "enroll", &c.e) ||
             fn_cli_gallery_open("enroll", gpath, c.e, FN_GALLERY_CREATE, &c.g);
        if (!rc) rc = fn_cli_enroll_camera(c.e, c.g, &cam);
        fn_gallery_close(c.g);
        fn_engine_free(c.e);
        fn_outputs_free(&outs);
        return rc;
    }
    if (a.npos != 1) return fn_cli_usage("enroll", "wants one directory holding a folder per person");
    const char *root = a.pos[0];
    if (!is_dir(root)) {
        fprintf(stderr, "facenet enroll: %s is not a directory (it should hold one folder per person)\n", root);
        return 1;
    }
    fn_pathlist people = {0}, loose = {0}, skipped = {0};
    if (person_dirs(root, &people, &loose) != 0 || people.count == 0) {
        fprintf(stderr, "facenet enroll: %s holds no person folders\n", root);
        fn_pathlist_free(&people);
        fn_pathlist_free(&loose);
        return 1;
    }
    for (int i = 0; i < loose.count; i++) {
        if (c.json) {
            cJSON *o = fn_cli_file_record(loose.items[i], FN_ST_NOT_IN_PERSON_FOLDER, "not enrolled: a person's images go in "
                                                                                   "DIR/<person>/");
            fn_cli_emit(o);
        } else if (verbose) {
            fprintf(stderr, "facenet enroll: %s: not in a person folder; not enrolled\n", loose.items[i]);
        }
    }
    if (loose.count && !c.json && !verbose)
        fprintf(stderr, "note: %d file(s) directly in %s are not in a person folder; ignored (--verbose names them)\n",
                loose.count, root);
    fn_pathlist_free(&loose);
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
        fn_cli_collect_images(&arg, 1, &files[i], &skipped);
        total += files[i].count;
    }
    fn_cli_report_skipped("enroll", &skipped, c.json, verbose);
    fn_pathlist_free(&skipped);
    /* names first: the workers' skip test needs each file's person */
    char (*names)[FN_GALLERY_NAME_MAX] = calloc(people.count ? people.count : 1, sizeof *names);
    int *name_ok = calloc(people.count ? people.count : 1, sizeof *name_ok);
    int *name_changed = calloc(people.count ? people.count : 1, sizeof *name_changed);
    char name_err[600] = "";
    enroll_src src = {calloc(total ? total : 1, sizeof(const char *)), calloc(total ? total : 1, sizeof(const char *)),
                      c.g, 0};
    for (int i = 0; i < people.count; i++) {
        name_ok[i] = fn_gallery_normalize_name(people.items[i], names[i], sizeof names[i], &name_changed[i]) == FN_OK;
        for (int k = 0; name_ok[i] && k < files[i].count; k++) {
            src.paths[src.n] = files[i].items[k];
            src.person[src.n++] = names[i];
        }
    }
    int batch = (int)fn_cli_int(&a, FN_O_BATCH, 32);
    if (batch > 1 && src.n > 0) {
        fn_batch_params bp;
        fn_batch_params_init(&bp);
        bp.workers = (int)fn_cli_int(&a, FN_O_JOBS, 0);
        bp.batch = batch;
        bp.max_embed = 1;   /* the most probable face is the one enrolled */
        bp.hash = 1;
        bp.skip = skip_enrolled;
        bp.skip_user = &src;
        fn_status s = fn_batch_new_paths(c.e, &bp, (const char *const *)src.paths, src.n, &c.batch);
        if (s == FN_OK) s = fn_gallery_begin(c.g);
        if (s != FN_OK) {
            rc = fn_cli_fail("enroll", s);
            goto done;
        }
        c.last_commit = fn_now();
        c.batch_mode = 1;
    }
    fn_progress_start(&c.prog, "enrolling", total);
    for (int i = 0; i < people.count; i++) {
        int usable = 0;
        const char *name = names[i];
        c.st.people++;
        /* the gallery stores names in Unicode NFC without surrounding spaces (macOS writes folder names in NFD) */
        if (!name_ok[i]) {
            fn_gallery_normalize_name(people.items[i], names[i], sizeof names[i], &name_changed[i]);
            snprintf(name_err, sizeof name_err, "person folder: %s", fn_last_error());
            c.st.people_empty++;
            c.st.errors += files[i].count;
            c.st.images += files[i].count;
            for (int k = 0; k < files[i].count; k++) fn_progress_step(&c.prog, files[i].items[k]);
            report(&c, people.items[i], "", "error", name_err);
            continue;
        }
        c.name_given = name_changed[i] ? people.items[i] : NULL;
        if (name_changed[i] && !c.json) {
            fn_progress_end(&c.prog);
            fprintf(stderr, "note: folder '%s' is enrolled as '%s' (names are stored in Unicode NFC, without "
                    "leading or trailing spaces)\n", people.items[i], name);
        }
        for (int k = 0; k < files[i].count; k++) {
            c.st.images++;
            if (c.batch) {
                const fn_batch_result *r;
                fn_status s = fn_batch_next(c.batch, &r);
                if (s != FN_OK || !r) {
                    rc = fn_cli_fail("enroll", s != FN_OK ? s : FN_ERR_INTERNAL);
                    goto done;
                }
                usable += enroll_result(&c, name, r);
                if (maybe_commit(&c, 0) != FN_OK) {
                    rc = fn_cli_fail("enroll", FN_ERR_DB);
                    goto done;
                }
            } else {
                usable += enroll_image(&c, name, files[i].items[k]);
            }
            fn_progress_step(&c.prog, files[i].items[k]);
        }
        if (!usable) {
            c.st.people_empty++;
            report(&c, name, "", "no usable image", "person not enrolled");
        }
        c.name_given = NULL;
    }
    if (c.batch && maybe_commit(&c, 1) != FN_OK) {
        rc = fn_cli_fail("enroll", FN_ERR_DB);
        goto done;
    }
    rc = -1;
done:
    fn_batch_free(c.batch);
    if (rc != -1) {   /* stopped early: keep what was enrolled */
        fn_progress_end(&c.prog);
        if (c.batch) fn_gallery_commit(c.g);
    }
    for (int i = 0; i < people.count; i++) fn_pathlist_free(&files[i]);
    free(src.paths);
    free(src.person);
    free(names);
    free(name_ok);
    free(name_changed);
    if (rc != -1) {
        free(files);
        fn_faces_free(&c.f);
        fn_gallery_close(c.g);
        fn_engine_free(c.e);
        fn_pathlist_free(&people);
        return rc;
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
