/* facenet scan — the photo library's scan: every face of every photo under
 * the given folders into the library tables of a gallery file
 * (include/facenet/library.h), incrementally. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "gallery_open.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the library: a gallery file (created if missing) that also holds the scanned faces"),
    FN_USE_T(FN_O_MAX_SIDE, "1600 (FN_SCAN_DEFAULT_SIDE)", NULL),
    FN_USE(FN_O_FULL_DECODE),
    FN_USE(FN_O_PRUNE),
    FN_USE_H(FN_O_JSON, "JSON Lines: one object per file {file, action, faces[, from, error]} (action: new, changed, "
                        "unchanged, touched, moved, failed, removed, skipped), then a summary"),
    FN_USE(FN_O_VERBOSE),
    FN_USE_D(FN_O_JOBS, "0", NULL),
    FN_USE_D(FN_O_BATCH, "32", NULL),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "scan",
    .usage = (const char *const[]){"--gallery LIB.db [--max-side PX] [--json] PATH...", NULL},
    .description =
        "Finds every face in every photo (.jpg, .jpeg, .png) under the PATHs, recursively, and\n"
        "stores each face's file, box, landmarks, probability, quality (size, sharpness, pose)\n"
        "and embedding in the library tables of LIB.db.  Photos are reduced to the working\n"
        "resolution (--max-side) before detection; faces are aligned from the full picture.\n"
        "Incremental: a file with the same path, size and time is not read; a changed time\n"
        "with the same content (SHA-256) is not analysed; a file moved or renamed is\n"
        "recognised by its content and keeps its faces and groups; the faces of a file that\n"
        "is gone from the PATHs are removed -- but not when its nearest remaining folder is on\n"
        "another file system than the file was (a drive not mounted: its mount point is a\n"
        "folder of the disk beneath); --prune forgets them then too.  Written\n"
        "in transactions of 64 files (or one second): after an interruption (even kill -9)\n"
        "run it again to finish.  The files `facenet people export` wrote (listed in its\n"
        ".facenet-export) are not scanned: thumbnails are not photos.\n"
        "Then: `facenet cluster --gallery LIB.db`, `facenet people --gallery LIB.db list`.",
    .opts = uses, .min_args = 1, .max_args = -1, .args_name = "PATH...",
    .examples = (const char *const[]){"facenet scan --gallery photos.db ~/Pictures",
                                      "facenet scan --gallery photos.db --max-side 2000 --json /media/camera", NULL},
    .exits = (const fn_cli_exit[]){{1, "failure: the library or the model could not be opened, writing failed, or a PATH does not exist"},
                                   {0, NULL}},
};

typedef struct scan_ui {
    int json, verbose;
    fn_progress prog;
} scan_ui;

static int on_file(void *user, const fn_scan_event *ev)
{
    scan_ui *u = user;
    if (u->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", ev->path);
        cJSON_AddStringToObject(o, "action", fn_scan_action_name(ev->action));
        cJSON_AddNumberToObject(o, "faces", ev->faces);
        if (ev->from) cJSON_AddStringToObject(o, "from", ev->from);
        if (ev->error) cJSON_AddStringToObject(o, "error", ev->error);
        fn_cli_emit(o);
        return 0;
    }
    if (ev->action == FN_SCAN_FAILED) {
        fn_progress_end(&u->prog);
        fprintf(stderr, "facenet scan: warning: skipped: %s\n", ev->error);
    } else if (ev->action == FN_SCAN_MOVED && u->verbose) {
        fn_progress_end(&u->prog);
        fprintf(stderr, "%s: moved from %s (%d faces kept)\n", ev->path, ev->from, ev->faces);
    } else if (ev->action == FN_SCAN_REMOVED && u->verbose) {
        fn_progress_end(&u->prog);
        fprintf(stderr, "%s: gone (%d faces removed)\n", ev->path, ev->faces);
    }
    if (ev->action != FN_SCAN_REMOVED) fn_progress_step(&u->prog, ev->path);
    return 0;
}

/* The files an export wrote, as its manifest lists them (DIR/.facenet-export:
 * "size mtime relative/path" lines), by absolute path, sorted. */
typedef struct export_list { char dir[4200]; fn_pathlist files; } export_list;

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void load_export(const char *dir, export_list *x)
{
    fn_pathlist_free(&x->files);
    snprintf(x->dir, sizeof x->dir, "%s", dir);
    char m[4300], line[4600], path[8600];
    snprintf(m, sizeof m, "%s/.facenet-export", dir);
    FILE *f = fopen(m, "r");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        long long size, mtime;
        int used = 0;
        if (line[0] == '#' || sscanf(line, "%lld %lld %n", &size, &mtime, &used) != 2 || !used) continue;
        snprintf(path, sizeof path, "%s/%s", dir, line + used);
        fn_pathlist_add(&x->files, path);
    }
    if (f) fclose(f);
    if (x->files.count > 1) qsort(x->files.items, (size_t)x->files.count, sizeof *x->files.items, cmp_path);
}

/* The nearest folder from dir up to / that holds an export's manifest, or "". */
static void export_above(const char *dir, char *out, size_t cap)
{
    char d[4200], m[4300];
    snprintf(d, sizeof d, "%s", dir);
    out[0] = '\0';
    for (;;) {
        snprintf(m, sizeof m, "%s/.facenet-export", d);
        if (access(m, F_OK) == 0) {
            snprintf(out, cap, "%s", d);
            return;
        }
        char *sl = strrchr(d, '/');
        if (!sl || sl == d) return;
        *sl = '\0';
    }
}

/* Takes out of files those an export wrote, by its manifest (thumbnails and
 * sheets scanned as photos put every face in the library twice, and the
 * next export refused its own files as inputs); returns how many.  Only the
 * listed files: an export written into the photo folder itself leaves the
 * photos beside it scanned. */
static int drop_exports(fn_pathlist *files)
{
    char last[4200] = "", dir[4200], above[4200] = "";
    export_list x = {"", {0}};
    int kept = 0, dropped = 0;
    for (int i = 0; i < files->count; i++) {
        char *abs = realpath(files->items[i], NULL);
        char path[4200];
        snprintf(path, sizeof path, "%s", abs ? abs : files->items[i]);
        free(abs);
        snprintf(dir, sizeof dir, "%s", path);
        char *sl = strrchr(dir, '/');
        if (sl) *sl = '\0';
        if (strcmp(dir, last)) {   /* the listing is sorted: a folder's answer serves its files in a row */
            snprintf(last, sizeof last, "%s", dir);
            export_above(dir, above, sizeof above);
            if (above[0] && strcmp(above, x.dir)) load_export(above, &x);
        }
        const char *key = path;
        if (above[0] && x.files.count &&
            bsearch(&key, x.files.items, (size_t)x.files.count, sizeof *x.files.items, cmp_path)) {
            free(files->items[i]);
            dropped++;
        } else {
            files->items[kept++] = files->items[i];
        }
    }
    fn_pathlist_free(&x.files);
    files->count = kept;
    return dropped;
}

int fn_cmd_scan(int argc, char **argv)
{
    fn_cli_args a;
    fn_cli_engine ce;
    int rc;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &a, &rc)) return rc;
    scan_ui u = {fn_cli_flag(&a, FN_O_JSON), fn_cli_flag(&a, FN_O_VERBOSE), {0}};
    if ((rc = fn_cli_library_path("scan", fn_cli_str(&a, FN_O_GALLERY), 0))) return rc;
    /* a PATH that is not there is a mistake to hear about, not a photo to count as unreadable; its photos
     * stay in the library */
    for (int i = 0; i < a.npos; i++) {
        struct stat sb;
        if (stat(a.pos[i], &sb) != 0)
            return fn_cli_error("scan", "%s: %s; nothing was scanned (the photos scanned from it before stay in the "
                                "library: to forget them, scan the folder above it with --prune)", a.pos[i],
                                strerror(errno));
    }
    long long side = fn_cli_given(&a, FN_O_MAX_SIDE) ? fn_cli_int(&a, FN_O_MAX_SIDE, 0) : -2;
    if (side != -2 && side != 0 && side < 64)   /* before the gallery file is made */
        return fn_cli_usage("scan", "--max-side %lld: under 64 pixels no face can be found (0: full resolution)", side);
    fn_pathlist files = {0}, skipped = {0};
    if (fn_cli_collect_images(a.pos, a.npos, &files, &skipped) != 0) {
        fn_pathlist_free(&files);
        fn_pathlist_free(&skipped);
        return 1;
    }
    if (u.json) {   /* in scan's own record shape, as every other file of the run */
        for (int i = 0; i < skipped.count; i++) {
            char *abs = realpath(skipped.items[i], NULL);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "file", abs ? abs : skipped.items[i]);
            cJSON_AddStringToObject(o, "action", "skipped");
            cJSON_AddNumberToObject(o, "faces", 0);
            cJSON_AddStringToObject(o, "error", "not a .jpg, .jpeg or .png file");
            fn_cli_emit(o);
            free(abs);
        }
    } else {
        fn_cli_report_skipped("scan", &skipped, 0, u.verbose);
    }
    fn_pathlist_free(&skipped);
    int exported = drop_exports(&files);
    if (exported && !u.json)
        fprintf(stderr, "facenet scan: note: %d file(s) in folders written by `facenet people export` are not "
                "scanned (face thumbnails and contact sheets, not photos)\n", exported);
    fn_engine *e = NULL;
    fn_gallery *g = NULL;
    fn_library *l = NULL;
    const char *gpath = fn_cli_str(&a, FN_O_GALLERY);
    if (fn_cli_engine_open(&ce, "scan", &e) || fn_cli_gallery_open("scan", gpath, e, FN_GALLERY_CREATE, &g)) {
        fn_engine_free(e);
        fn_pathlist_free(&files);
        return 1;
    }
    fn_gallery_close(g);   /* the file is a gallery now; the library has its own connection */
    fn_gallery_model m = fn_gallery_model_of_engine(e);
    fn_status s = fn_library_open(gpath, &m, &l);
    if (s != FN_OK) {
        rc = fn_cli_fail("scan", s);
        goto done;
    }
    fn_scan_params p;
    fn_scan_params_init(&p);
    p.full_decode = fn_cli_flag(&a, FN_O_FULL_DECODE);
    if (side != -2) p.max_side = side == 0 ? -1 : (int)side;   /* given: 0 is full resolution */
    p.prune = fn_cli_flag(&a, FN_O_PRUNE);
    p.workers = (int)fn_cli_int(&a, FN_O_JOBS, 0);
    p.batch = (int)fn_cli_int(&a, FN_O_BATCH, 32);
    fn_progress_start(&u.prog, "scanning", files.count);
    fn_scan_stats st;
    double t0 = fn_now();
    s = fn_library_scan(l, e, (const char *const *)files.items, files.count, (const char *const *)a.pos, a.npos, &p,
                        on_file, &u, &st);
    double secs = fn_now() - t0;
    fn_progress_end(&u.prog);
    if (s != FN_OK) {
        rc = fn_cli_fail("scan", s);
        goto done;
    }
    if (st.faces_removed > 0 || st.moved > 0 || st.faces_restored > 0) {
        /* a named group's person in the gallery loses the faces of deleted or
         * changed files (and takes moved files' new paths) now, not at the
         * next `facenet cluster`: a deleted photo must stop being recognised */
        if (fn_cli_gallery_open("scan", gpath, e, 0, &g)) {
            rc = 1;
            goto done;
        }
        s = fn_library_sync_gallery(l, g);
        fn_gallery_close(g);
        g = NULL;
        if (s != FN_OK) {
            rc = fn_cli_fail("scan", s);
            goto done;
        }
    }
    int analysed = st.added + st.changed;
    if (u.json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "summary", "scan");
        cJSON_AddNumberToObject(o, "files", st.files);
        cJSON_AddNumberToObject(o, "new", st.added);
        cJSON_AddNumberToObject(o, "changed", st.changed);
        cJSON_AddNumberToObject(o, "unchanged", st.unchanged);
        cJSON_AddNumberToObject(o, "touched", st.touched);
        cJSON_AddNumberToObject(o, "moved", st.moved);
        cJSON_AddNumberToObject(o, "removed", st.removed);
        cJSON_AddNumberToObject(o, "kept_missing", st.kept_missing);
        cJSON_AddNumberToObject(o, "failed", st.failed);
        cJSON_AddNumberToObject(o, "faces_added", (double)st.faces_added);
        cJSON_AddNumberToObject(o, "faces_removed", (double)st.faces_removed);
        cJSON_AddNumberToObject(o, "seconds", secs);
        cJSON_AddNumberToObject(o, "analysed_per_second", secs > 0 ? analysed / secs : 0);
        fn_cli_emit(o);
    } else {
        printf("%d file(s): %d new, %d changed, %d unchanged, %d touched, %d moved, %d removed, %d unreadable; "
               "%lld face(s) added, %lld removed (%.1f s, %.1f analysed/s)\n", st.files, st.added, st.changed,
               st.unchanged, st.touched, st.moved, st.removed, st.failed, (long long)st.faces_added,
               (long long)st.faces_removed, secs, secs > 0 ? analysed / secs : 0.0);
    }
    if (st.kept_missing)
        fprintf(stderr, "facenet scan: warning: %d photo(s) of the library are gone, but kept: they were on "
                "another file system than the folder left where they were (a drive not mounted?); when they are "
                "gone for good, `facenet scan --prune` forgets them\n", st.kept_missing);
    rc = 0;
done:
    fn_library_close(l);
    fn_engine_free(e);
    fn_pathlist_free(&files);
    return rc;
}
