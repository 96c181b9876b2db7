/* The files the CLI reads and writes, end to end through the binary:
 *  - an input is never written (case 04), one output per input with
 *    mirrored names (case 05 and two generated folders with the same file
 *    names), no replacing without --overwrite, no temporary left behind,
 *    watch --output never onto its source;
 *  - every input file yields a JSON record with its status (case 15, and a
 *    generated folder holding an image without a face, a text file, a text
 *    file named .jpg and a damaged JPEG) in identify, embed, detect, enroll;
 *  - every numeric option is validated and every --help has an example and
 *    the exit codes.
 * Generated inputs need only the models; the ../shared cases skip when absent. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"
#include "facenet.h"
#include "t.h"

static char tmp[512];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int exists(const char *fmt, ...)
{
    char p[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof p, fmt, ap);
    va_end(ap);
    struct stat st;
    return stat(p, &st) == 0;
}

/* Files below dir (recursively), counting those whose name marks a temporary. */
static int count_files(const char *dir, int *temporaries)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) n += count_files(p, temporaries);
        else {
            n++;
            if (temporaries && strstr(e->d_name, ".tmp")) (*temporaries)++;
        }
    }
    closedir(d);
    return n;
}

/* A w x h image with no face (a colour ramp), saved by the library. */
static void ramp(const char *path, int w, int h)
{
    fn_image img = {w, h, 3, malloc((size_t)w * h * 3)};
    for (int i = 0; i < w * h * 3; i++) img.data[i] = (uint8_t)(i * 7 % 251);
    const char *dot = strrchr(path, '.');
    fn_status s = dot && !strcmp(dot, ".png") ? fn_image_save_png(path, &img) : fn_image_save_jpeg(path, &img, 90);
    T_CHECK(s == FN_OK, "save %s", path);
    free(img.data);
}

/* Status of the JSON record for file (by its name's end) among out's lines; NULL if none. */
static const char *status_of(const char *out, const char *file_end, int *records)
{
    static char st[64];
    const char *found = NULL;
    *records = 0;
    for (int k = 0; k < t_count_lines(out); k++) {
        cJSON *o = t_json_line(out, k);
        cJSON *f = cJSON_GetObjectItem(o, "file"), *s = cJSON_GetObjectItem(o, "status");
        size_t fl = cJSON_IsString(f) ? strlen(f->valuestring) : 0, el = strlen(file_end);
        if (fl >= el && !strcmp(f->valuestring + fl - el, file_end)) {
            (*records)++;
            if (cJSON_IsString(s)) {
                snprintf(st, sizeof st, "%s", s->valuestring);
                found = st;
            }
        }
        cJSON_Delete(o);
    }
    return found;
}

/* ---- every input accounted for (kind 5) ---- */

static void make_mixed_folder(const char *dir)
{
    T_CHECK(sh("mkdir -p '%s/sub'", dir) == 0, "mkdir");
    char p[700];
    snprintf(p, sizeof p, "%s/ramp.png", dir);
    ramp(p, 96, 80);
    T_CHECK(sh("echo 'holiday notes' > '%s/notes.txt' && echo 'not a picture' > '%s/sub/fake.jpg' && "
               "printf '\\377\\330\\377\\340garbage' > '%s/sub/broken.jpg'", dir, dir, dir) == 0, "files");
}

static void check_accounting(const char *verb, const char *extra, const char *dir)
{
    t_run r;
    t_facenet(&r, "%s --json %s '%s'", verb, extra, dir);
    printf("%s --json on a mixed folder -> exit %d, %d lines\n%s", verb, r.status, t_count_lines(r.out), r.out);
    static const struct { const char *file, *status; } want[] = {
        {"/ramp.png", "no_face"}, {"/notes.txt", "unsupported_format"},
        {"/sub/fake.jpg", "unsupported_format"}, {"/sub/broken.jpg", "unreadable"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int n;
        const char *st = status_of(r.out, want[i].file, &n);
        T_CHECK(n == 1 && st && !strcmp(st, want[i].status), "%s: %s: %d record(s), status %s, want %s", verb,
                want[i].file, n, st ? st : "(none)", want[i].status);
    }
    T_CHECK(r.status == 1, "%s: exit %d (unreadable inputs make it 1)", verb, r.status);
    t_run_free(&r);

    /* Text mode: the skipped file is counted, and named with --verbose. */
    t_facenet(&r, "%s %s '%s'", verb, extra, dir);
    T_CHECK(strstr(r.err, "skipped 1 file(s)") && strstr(r.err, "--verbose"), "%s text: %s", verb, r.err);
    t_run_free(&r);
    t_facenet(&r, "%s --verbose %s '%s'", verb, extra, dir);
    T_CHECK(strstr(r.err, "notes.txt: skipped"), "%s --verbose: %s", verb, r.err);
    t_run_free(&r);
}

static void test_every_input_accounted(void)
{
    char dir[600], g[600], people[600];
    snprintf(dir, sizeof dir, "%s/mixed", tmp);
    make_mixed_folder(dir);
    /* A gallery (empty: nothing here has a face; enroll creates it and says so). */
    snprintf(people, sizeof people, "%s/people", tmp);
    snprintf(g, sizeof g, "%s/empty.db", tmp);
    make_mixed_folder(people);
    T_CHECK(sh("mkdir -p '%s/P' && mv '%s/ramp.png' '%s/notes.txt' '%s/P/' && mv '%s/sub' '%s/P/sub'", people, people,
               people, people, people, people) == 0, "people");
    T_CHECK(sh("echo loose > '%s/readme.txt'", people) == 0, "loose");
    t_run r;
    t_facenet(&r, "enroll --json --gallery '%s' '%s'", g, people);
    printf("enroll --json -> exit %d\n%s", r.status, r.out);
    static const struct { const char *file, *status; } want[] = {
        {"/P/ramp.png", "no_face"}, {"/P/notes.txt", "unsupported_format"}, {"/P/sub/fake.jpg", "unsupported_format"},
        {"/P/sub/broken.jpg", "unreadable"}, {"/readme.txt", "not_in_person_folder"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int n;
        const char *st = status_of(r.out, want[i].file, &n);
        T_CHECK(n == 1 && st && !strcmp(st, want[i].status), "enroll: %s: %d record(s), status %s, want %s",
                want[i].file, n, st ? st : "(none)", want[i].status);
    }
    T_CHECK(r.status == 1, "enroll with nothing usable: exit %d", r.status);
    t_run_free(&r);

    check_accounting("detect", "", dir);
    check_accounting("embed", "", dir);
    char extra[700];
    snprintf(extra, sizeof extra, "--gallery '%s'", g);
    check_accounting("identify", extra, dir);
}

/* ---- outputs (kind 3) ---- */

static void test_same_names_in_two_folders(void)
{
    char g[600];
    snprintf(g, sizeof g, "%s/empty.db", tmp);   /* made by test_every_input_accounted */
    T_CHECK(sh("mkdir -p '%s/two/a' '%s/two/b/deeper'", tmp, tmp) == 0, "mkdir");
    char p[700];
    const char *names[] = {"two/a/x.png", "two/b/x.png", "two/b/deeper/x.png", "two/a/x.jpg"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, names[i]);
        ramp(p, 64 + 8 * i, 48);
    }
    t_run r;
    t_facenet(&r, "identify --gallery '%s' --annotate '%s/out' '%s/two/a' '%s/two/b'", g, tmp, tmp, tmp);
    printf("identify --annotate, same names in two folders -> exit %d: %s", r.status, r.err);
    int temps = 0, n = count_files(strcat(strcpy(p, tmp), "/out"), &temps);
    T_CHECK(r.status == 0 && n == 4 && temps == 0, "4 inputs -> %d outputs (%d temporaries), exit %d", n, temps,
            r.status);
    for (int i = 0; i < 4; i++)
        T_CHECK(exists("%s/out/%s", tmp, names[i] + 4), "out/%s written", names[i] + 4);
    /* The annotated copy keeps the input's format and size. */
    fn_image img = {0};
    snprintf(p, sizeof p, "%s/out/b/deeper/x.png", tmp);
    T_CHECK(fn_image_load(p, NULL, &img) == FN_OK && img.w == 80 && img.h == 48, "annotated copy %dx%d", img.w, img.h);
    fn_image_free(&img);
    t_run_free(&r);

    /* Again: nothing is replaced without --overwrite, and the command says so before any work. */
    struct stat before, after;
    snprintf(p, sizeof p, "%s/out/a/x.png", tmp);
    T_CHECK(stat(p, &before) == 0, "stat");
    sleep(1);
    t_facenet(&r, "identify --gallery '%s' --annotate '%s/out' '%s/two/a' '%s/two/b'", g, tmp, tmp, tmp);
    T_CHECK(r.status == 1 && strstr(r.err, "already exists") && strstr(r.err, "--overwrite") &&
            strstr(r.err, "nothing was written"), "second run: exit %d: %s", r.status, r.err);
    T_CHECK(stat(p, &after) == 0 && after.st_mtime == before.st_mtime, "x.png untouched");
    t_run_free(&r);
    t_facenet(&r, "identify --gallery '%s' --annotate '%s/out' --overwrite '%s/two/a' '%s/two/b'", g, tmp, tmp, tmp);
    T_CHECK(r.status == 0 && stat(p, &after) == 0 && after.st_mtime > before.st_mtime, "--overwrite: exit %d: %s",
            r.status, r.err);
    t_run_free(&r);

    /* Crops: per face, mirrored the same way (no faces here: none written, no error). */
    t_facenet(&r, "detect --crops '%s/crops' '%s/two'", tmp, tmp);
    T_CHECK(r.status == 0 && count_files(strcat(strcpy(p, tmp), "/crops"), NULL) == 0, "crops: exit %d", r.status);
    t_run_free(&r);

    /* An output directory that is the inputs' own folder: refused even with --overwrite. */
    t_facenet(&r, "identify --gallery '%s' --annotate '%s/two/a' --overwrite '%s/two/a/x.png'", g, tmp, tmp);
    T_CHECK(r.status == 1 && strstr(r.err, "is one of the input files"), "annotate into the input's folder: %d %s",
            r.status, r.err);
    t_run_free(&r);
}

static void test_watch_output(void)
{
    char clip[600], g[600];
    snprintf(clip, sizeof clip, "%s/clip.mp4", tmp);
    snprintf(g, sizeof g, "%s/empty.db", tmp);
    if (sh("ffmpeg -loglevel error -y -f lavfi -i testsrc=size=96x64:rate=5 -frames:v 5 -pix_fmt yuv420p '%s'",
           clip) != 0) {
        printf("ffmpeg could not make a clip; watch --output not tested\n");
        return;
    }
    struct stat before, after;
    T_CHECK(stat(clip, &before) == 0, "clip");
    t_run r;
    t_facenet(&r, "watch --gallery '%s' --headless --overwrite --output '%s' '%s'", g, clip, clip);
    T_CHECK(r.status == 1 && strstr(r.err, "is one of the input files"), "watch --output onto its source: %d %s",
            r.status, r.err);
    T_CHECK(stat(clip, &after) == 0 && after.st_size == before.st_size && after.st_mtime == before.st_mtime,
            "source untouched");
    t_run_free(&r);
    /* An existing output is not replaced without --overwrite. */
    T_CHECK(sh("echo keep > '%s/existing.mp4'", tmp) == 0, "existing");
    t_facenet(&r, "watch --gallery '%s' --headless --output '%s/existing.mp4' '%s'", g, tmp, clip);
    T_CHECK(r.status == 1 && strstr(r.err, "already exists"), "watch onto an existing file: %d %s", r.status, r.err);
    t_run_free(&r);
}

/* Cases 04, 05 and 15 of ../shared/cases, as their README says is right. */
static void test_shared_cases(void)
{
    const char *root = getenv("SHARED") ? getenv("SHARED") : "../shared";
    char c04[600], c05[600], c15[600];
    snprintf(c04, sizeof c04, "%s/cases/04", root);
    snprintf(c05, sizeof c05, "%s/cases/05", root);
    snprintf(c15, sizeof c15, "%s/cases/15", root);
    if (!exists("%s", c04) || !exists("%s", c05) || !exists("%s", c15)) {
        printf("SKIP (part): ../shared/cases 04, 05, 15 are absent (set SHARED=path/to/shared)\n");
        return;
    }
    t_run r;
    char g[600];
    snprintf(g, sizeof g, "%s/case04.db", tmp);
    t_facenet(&r, "enroll --gallery '%s' '%s/gal'", g, c04);
    t_run_free(&r);
    T_CHECK(sh("mkdir -p '%s/album' && cp '%s/photo.jpg' '%s/album/'", tmp, c04, tmp) == 0, "album");
    t_facenet(&r, "identify --gallery '%s' --annotate '%s/album' '%s/album/photo.jpg'", g, tmp, tmp);
    printf("case 04 -> exit %d: %s", r.status, r.err);
    T_CHECK(r.status == 1 && strstr(r.err, "is one of the input files"), "case 04 refused: %s", r.err);
    T_CHECK(sh("cmp -s '%s/photo.jpg' '%s/album/photo.jpg'", c04, tmp) == 0, "case 04: the photo is unchanged");
    t_run_free(&r);

    snprintf(g, sizeof g, "%s/case05.db", tmp);
    t_facenet(&r, "enroll --gallery '%s' '%s/gal'", g, c05);
    t_run_free(&r);
    t_facenet(&r, "identify --gallery '%s' --annotate '%s/out05' '%s/probes'", g, tmp, c05);
    char p[700];
    int n = count_files(strcat(strcpy(p, tmp), "/out05"), NULL);
    printf("case 05 -> exit %d, %d annotated files\n", r.status, n);
    T_CHECK(r.status == 0 && n == 3, "case 05: 3 photos in, %d out", n);
    for (const char *who = "ABC"; *who; who++)
        T_CHECK(exists("%s/out05/Person%c/1.jpg", tmp, *who), "out05/Person%c/1.jpg", *who);
    t_run_free(&r);

    snprintf(g, sizeof g, "%s/case15.db", tmp);
    t_facenet(&r, "enroll --gallery '%s' '%s/gal'", g, c15);
    t_run_free(&r);
    t_facenet(&r, "identify --gallery '%s' --json '%s/no_face.jpg' '%s/face.jpg'", g, c15, c15);
    int k;
    const char *st = status_of(r.out, "/no_face.jpg", &k);
    T_CHECK(k == 1 && st && !strcmp(st, "no_face"), "case 15 identify: no_face.jpg %d record(s) %s", k, st ? st : "-");
    st = status_of(r.out, "/face.jpg", &k);
    cJSON *o = t_json_line(r.out, 1);
    cJSON *name = cJSON_GetObjectItem(o, "name");
    T_CHECK(k == 1 && st && !strcmp(st, "ok") && cJSON_IsString(name) && !strcmp(name->valuestring, "PersonA"),
            "case 15 identify: face.jpg named PersonA");
    cJSON_Delete(o);
    t_run_free(&r);
    t_facenet(&r, "embed --json '%s/no_face.jpg'", c15);
    st = status_of(r.out, "/no_face.jpg", &k);
    T_CHECK(t_count_lines(r.out) == 1 && st && !strcmp(st, "no_face"), "case 15 embed: %s", r.out);
    t_run_free(&r);
}

/* ---- options ---- */

static void test_options(void)
{
    static const char *verbs[] = {"detect", "embed", "compare", "enroll", "identify", "verify", "gallery",
                                  "eval", "eval-pairs", "calibrate", "watch", "version"};
    t_run r;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        t_facenet(&r, "%s --help", verbs[i]);
        T_CHECK(r.status == 0 && strstr(r.out, "usage: facenet ") && strstr(r.out, "\nexample") &&
                strstr(r.out, "exit status:\n  0  ") && strstr(r.out, "\n  2  usage"),
                "%s --help: exit %d, lacks usage/example/exit status", verbs[i], r.status);
        t_run_free(&r);
        t_facenet(&r, "%s --no-such-option x", verbs[i]);
        T_CHECK(r.status == 2 && strstr(r.err, "unknown option --no-such-option") && strstr(r.err, "--help"),
                "%s: unknown option: %d %s", verbs[i], r.status, r.err);
        t_run_free(&r);
    }
    static const char *bad[] = {"nan", "inf", "60", "-1", "0.5x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t_facenet(&r, "identify --gallery g.db --threshold %s a.jpg", bad[i]);
        T_CHECK(r.status == 2 && strstr(r.err, "--threshold") &&
                strstr(r.err, "Euclidean distance between L2-normalised embeddings, 0 to 2") &&
                strstr(r.err, "cosine"), "--threshold %s: exit %d: %s", bad[i], r.status, r.err);
        t_run_free(&r);
    }
    t_facenet(&r, "verify --threshold inf a.jpg b.jpg");
    T_CHECK(r.status == 2 && strstr(r.err, "not a finite number"), "verify --threshold inf: %s", r.err);
    t_run_free(&r);
    t_facenet(&r, "watch --gallery g.db --every 0 clip.mp4");
    T_CHECK(r.status == 2 && strstr(r.err, "--every 0 is out of range"), "watch --every 0: %s", r.err);
    t_run_free(&r);
    t_facenet(&r, "calibrate --gallery g.db --far 1");
    T_CHECK(r.status == 2 && strstr(r.err, "--far 1 is out of range"), "calibrate --far 1: %s", r.err);
    t_run_free(&r);
    t_facenet(&r, "detect --min-face 5 a.jpg");
    T_CHECK(r.status == 2 && strstr(r.err, "--min-face 5 is out of range"), "detect --min-face 5: %s", r.err);
    t_run_free(&r);
    t_facenet(&r, "enroll --gallery g.db --name A --camera x --frames 1.5");
    T_CHECK(r.status == 2 && strstr(r.err, "--frames 1.5 is not a whole number"), "--frames 1.5: %s", r.err);
    t_run_free(&r);
}

int main(void)
{
    const char *models = getenv("MODELS") ? getenv("MODELS") : "models";
    if (!t_models("MobileFaceNet.tflite")) T_SKIP("the model bundle is absent (set MODELS=path/to/models)");
    setenv("FACENET_MODELS", models, 1);
    snprintf(tmp, sizeof tmp, "%s", t_tmpdir());
    char cache[600];
    snprintf(cache, sizeof cache, "%s/cache.db", tmp);
    setenv("FACENET_CACHE", cache, 1);
    test_options();
    test_every_input_accounted();
    test_same_names_in_two_folders();
    test_watch_output();
    test_shared_cases();
    return T_DONE();
}
