/* Folder evaluation (fn_folder_eval_run, `facenet eval`) accounts for every
 * probe.  Oracle: the folders themselves — how many files each holds, which
 * person folders exist on both sides, and which gallery images hold no face
 * (a flat gray picture made here).
 *  1. Hand-made: gallery A (2 face photos) and B (a faceless image only);
 *     probes A (2), B (1), C (1, no gallery folder).  B must not count as
 *     enrolled; B's and C's probes are "not enrolled", counted in open-set
 *     terms; every probe is in exactly one count.
 *  2. ../shared/cases/08 (issue 9): probe folder "Person 2" vs gallery
 *     "Person2" — its 3 probes are reported, not left out of the headline.
 *  3. Every file accounted for (issue 9, kind 5): files that are not images,
 *     loose files outside any person's folder and damaged JPEGs on both
 *     sides each get a JSON record with their status, a warning in text
 *     mode, and the run still evaluates the good ones.
 *  4. The bulk executor under eval against the one-file-at-a-time path. */
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_util.h"
#include "facenet.h"
#include "t.h"

static char models[512];

static void link_file(const char *src, const char *dir, const char *name)
{
    char dst[1200];
    mkdir(dir, 0777);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    T_CHECK(symlink(src, dst) == 0, "cannot link %s", dst);
}

/* The k-th image file (sorted) of a Film Predict folder. */
static const char *predict(const char *film, const char *who, int k)
{
    static char out[1200];
    char dir[900];
    snprintf(dir, sizeof dir, "%s/Predict/%s", film, who);
    fn_paths l = {0};
    T_CHECK(fn_list_images(dir, &l, NULL) == FN_OK && l.n > k, "%s: %d images: %s", dir, l.n, fn_last_error());
    snprintf(out, sizeof out, "%s", l.n > k ? l.items[k] : "/nonexistent");
    fn_paths_free(&l);
    return out;
}

static void test_hand_made(const char *film)
{
    char root[600], g[700], p[700], d[800], src[900];
    snprintf(root, sizeof root, "%s/hand", t_tmpdir());
    mkdir(root, 0777);
    snprintf(g, sizeof g, "%s/gallery", root);
    snprintf(p, sizeof p, "%s/probes", root);
    mkdir(g, 0777);
    mkdir(p, 0777);
    /* gallery: A = Mohanlal (2 photos), B = a flat gray image (no face) */
    snprintf(d, sizeof d, "%s/A", g);
    for (int i = 1; i <= 2; i++) {
        char name[16];
        snprintf(src, sizeof src, "%s/Film/Test/Mohanlal/%d.jpg", film, i);
        snprintf(name, sizeof name, "%d.jpg", i);
        link_file(src, d, name);
    }
    snprintf(d, sizeof d, "%s/B", g);
    mkdir(d, 0777);
    fn_image gray = {0};
    T_CHECK(fn_image_alloc(&gray, 160, 160, 3) == FN_OK, "alloc");
    memset(gray.data, 128, (size_t)160 * 160 * 3);
    snprintf(src, sizeof src, "%s/blank.png", d);
    T_CHECK(fn_image_save_png(src, &gray) == FN_OK, "save %s: %s", src, fn_last_error());
    fn_image_free(&gray);
    /* probes: A (2 of Mohanlal), B (1 of Shobana), C (1 of Nazriya: no gallery folder) */
    snprintf(d, sizeof d, "%s/A", p);
    link_file(predict(film, "Mohanlal", 0), d, "1.jpg");
    link_file(predict(film, "Mohanlal", 1), d, "2.jpg");
    snprintf(d, sizeof d, "%s/B", p);
    link_file(predict(film, "Shobana", 0), d, "1.jpg");
    snprintf(d, sizeof d, "%s/C", p);
    link_file(predict(film, "Nazriya", 0), d, "1.jpg");

    fn_options o;
    fn_options_init(&o);
    o.models_dir = models;
    fn_engine *e = NULL;
    T_CHECK(fn_engine_new(&o, &e) == FN_OK, "engine: %s", fn_last_error());
    if (!e) return;
    fn_embedder x;
    T_CHECK(fn_embedder_init(&x, e, &o, FN_SELECT_PROB, 0, FN_MISS_SKIP, NULL) == FN_OK, "embedder: %s",
            fn_last_error());
    fn_folder_eval_params prm = {g, p, NULL, -1.0f, t_tmpdir(), NULL, NULL};
    fn_folder_eval r;
    fn_status s = fn_folder_eval_run(&x, &prm, &r);
    T_CHECK(s == FN_OK, "fn_folder_eval_run: %s", fn_last_error());
    if (s == FN_OK) {
        printf("hand-made: %d people enrolled of %d names, %d/%d gallery images enrolled, %d without a face; probes %d = "
               "%d enrolled + %d not enrolled + %d unknown; correct %d\n",
               r.enrolled_people, r.n_people, r.enrolled_images, r.gallery_images, r.n_enrol_no_face, r.n_probes,
               r.n_enrolled_probes, r.n_absent_probes, r.n_unknown_probes, r.n_correct);
        T_CHECK(r.n_people == 3 && r.enrolled_people == 1, "people %d, enrolled %d: want 3 names, 1 enrolled (A)",
                r.n_people, r.enrolled_people);
        T_CHECK(r.gallery_images == 3 && r.enrolled_images == 2 && r.n_enrol_no_face == 1,
                "gallery images %d, enrolled %d, no face %d: want 3, 2, 1", r.gallery_images, r.enrolled_images,
                r.n_enrol_no_face);
        T_CHECK(r.n_enrol_no_face == 1 && strstr(r.enrol_no_face[0], "blank.png"), "the faceless file is named");
        T_CHECK(r.n_probes == 4 && r.n_enrolled_probes == 2 && r.n_absent_probes == 2 && r.n_unknown_probes == 0,
                "probes %d: %d enrolled, %d not enrolled: want 4 = 2 + 2", r.n_probes, r.n_enrolled_probes,
                r.n_absent_probes);
        T_CHECK(r.n_enrolled_probes + r.n_absent_probes + r.n_unknown_probes == r.n_probes, "every probe counted once");
        T_CHECK(r.n_correct == 2, "Mohanlal's 2 probes named right: %d", r.n_correct);
        for (int i = 0; i < r.n_probes; i++) {
            const fn_eval_probe *q = &r.probes[i];
            fn_probe_kind want = !strcmp(q->person, "A") ? FN_PROBE_ENROLLED : FN_PROBE_ABSENT;
            T_CHECK(q->kind == want, "%s (folder %s): kind %d, want %d", q->file, q->person, q->kind, want);
        }
        /* open set over the 4 probes with a face: 2 known, 2 not enrolled */
        T_CHECK(r.have_openset && r.at.n_known == 2 && r.at.n_unknown == 2, "open set: %d, known %zu unknown %zu",
                r.have_openset, r.at.n_known, r.at.n_unknown);
        /* known probes: right, wrong or rejected; unknown ones: false alarm or rejected */
        T_CHECK(r.at.correct + r.at.misidentified + r.at.false_negative == 2 && r.at.false_alarm <= 2,
                "open-set outcomes: %zu + %zu + %zu of 2 known, %zu false alarms", r.at.correct, r.at.misidentified,
                r.at.false_negative, r.at.false_alarm);
        T_CHECK(r.threshold == fn_engine_threshold(e) && r.threshold_source == FN_THRESHOLD_MODEL,
                "threshold %.4f from the model", r.threshold);
        printf("hand-made open set at %.3f: FIR %.3f FNR %.3f, false alarms %zu of 2 not enrolled\n", r.at.thr,
               r.at.fir, r.at.fnr, r.at.false_alarm);
        fn_folder_eval_free(&r);
    }
    fn_embedder_close(&x);
    fn_engine_free(e);
}

static void test_case_08(void)
{
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    char dir[600];
    snprintf(dir, sizeof dir, "%s/cases/08", shared);
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("case 08: %s is absent: skipped\n", dir);
        return;
    }
    t_run r;
    t_facenet(&r, "eval --no-cache --models-dir %s --gallery-dir '%s/gallery' --probe-dir '%s/probes' --json", models,
              dir, dir);
    T_CHECK(r.status == 0, "case 08: exit %d: %s", r.status, r.err);
    cJSON *o = t_json_line(r.out, t_count_lines(r.out) - 1);   /* the summary, after a record per file */
    double all = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "all_probes"));
    double enrolled = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "probes"));
    double absent = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "not_enrolled_probes"));
    cJSON *ne = cJSON_GetObjectItem(o, "not_enrolled"), *os = cJSON_GetObjectItem(o, "open_set");
    printf("case 08: %g probes = %g of enrolled people + %g not enrolled (%s); open set FIR %g\n", all, enrolled,
           absent, cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(ne, 0), "person")),
           cJSON_GetNumberValue(cJSON_GetObjectItem(os, "fir")));
    /* 5 image files on disk: 2 under Person1, 3 under "Person 2" */
    T_CHECK(all == 5 && enrolled == 2 && absent == 3, "case 08: %g probes (%g + %g), want 5 = 2 + 3", all, enrolled,
            absent);
    T_CHECK(cJSON_GetArraySize(ne) == 1 &&
                !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(ne, 0), "person")), "Person 2"),
            "case 08: 'Person 2' named as not enrolled");
    T_CHECK(os && cJSON_GetNumberValue(cJSON_GetObjectItem(os, "unknown_probes")) == 3,
            "case 08: open set counts the 3 probes of 'Person 2'");
    cJSON_Delete(o);
    t_run_free(&r);
    /* text mode: the headline says how many probes there are in all */
    t_facenet(&r, "eval --no-cache --models-dir %s --gallery-dir '%s/gallery' --probe-dir '%s/probes'", models, dir, dir);
    T_CHECK(r.status == 0 && strstr(r.out, "probes: 5 in all: 2 of enrolled people, 3 of people not in the gallery"),
            "case 08 text: %s", r.out);
    T_CHECK(strstr(r.err, "'Person 2'"), "case 08: a warning names the folder: %s", r.err);
    t_run_free(&r);
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    T_CHECK(f && fwrite(bytes, 1, n, f) == n, "cannot write %s", path);
    if (f) fclose(f);
}

static void test_every_file(const char *film)
{
    char root[600], g[700], p[700], d[800], f[900], src[900];
    snprintf(root, sizeof root, "%s/every", t_tmpdir());
    snprintf(g, sizeof g, "%s/gallery", root);
    snprintf(p, sizeof p, "%s/probes", root);
    mkdir(root, 0777), mkdir(g, 0777), mkdir(p, 0777);
    static const char cut[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00 not the rest of a JPEG";
    snprintf(d, sizeof d, "%s/A", g);
    snprintf(src, sizeof src, "%s/Film/Test/Mohanlal/1.jpg", film);
    link_file(src, d, "1.jpg");
    snprintf(f, sizeof f, "%s/notes.txt", d), write_bytes(f, "hello\n", 6);
    snprintf(f, sizeof f, "%s/cut.jpg", d), write_bytes(f, cut, sizeof cut - 1);
    snprintf(f, sizeof f, "%s/README.md", g), write_bytes(f, "# people\n", 9);
    snprintf(d, sizeof d, "%s/A", p);
    link_file(predict(film, "Mohanlal", 0), d, "1.jpg");
    snprintf(f, sizeof f, "%s/broken.jpg", d), write_bytes(f, cut, sizeof cut - 1);
    snprintf(f, sizeof f, "%s/clip.mp4", d), write_bytes(f, "\0\0\0\x18" "ftypmp42", 12);
    snprintf(f, sizeof f, "%s/list.csv", p), write_bytes(f, "a,b\n", 4);

    static const struct { const char *tail, *role, *status; } want[] = {
        {"gallery/A/1.jpg", "gallery", "enrolled"},
        {"gallery/A/cut.jpg", "gallery", "unreadable"},
        {"gallery/A/notes.txt", "ignored", "unsupported_format"},
        {"gallery/README.md", "ignored", "not_in_person_folder"},
        {"probes/A/1.jpg", "probe", "ok"},
        {"probes/A/broken.jpg", "probe", "unreadable"},
        {"probes/A/clip.mp4", "ignored", "unsupported_format"},
        {"probes/list.csv", "ignored", "not_in_person_folder"},
    };
    const int nwant = (int)(sizeof want / sizeof want[0]);
    t_run r;
    t_facenet(&r, "eval --no-cache --models-dir %s --gallery-dir '%s' --probe-dir '%s' --json", models, g, p);
    T_CHECK(r.status == 0, "every file: exit %d: %s", r.status, r.err);
    int lines = t_count_lines(r.out), found = 0;
    T_CHECK(lines == nwant + 1, "every file: %d JSON lines, want %d records + the summary:\n%s", lines, nwant + 1, r.out);
    for (int i = 0; i < lines - 1; i++) {
        cJSON *o = t_json_line(r.out, i);
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(o, "file"));
        const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(o, "status"));
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(o, "role"));
        int k = -1;
        for (int j = 0; j < nwant && file; j++) {
            size_t n = strlen(file), m = strlen(want[j].tail);
            if (n >= m && !strcmp(file + n - m, want[j].tail)) k = j;
        }
        T_CHECK(k >= 0, "every file: an unexpected record: %s", file ? file : "(no file)");
        if (k >= 0) {
            found++;
            T_CHECK(status && !strcmp(status, want[k].status), "%s: status %s, want %s", want[k].tail,
                    status ? status : "(none)", want[k].status);
            T_CHECK(!want[k].role || (role && !strcmp(role, want[k].role)), "%s: role %s, want %s", want[k].tail,
                    role ? role : "(none)", want[k].role);
            T_CHECK(!strcmp(want[k].status, "unreadable") == !!cJSON_GetStringValue(cJSON_GetObjectItem(o, "error")) ||
                        strcmp(want[k].status, "unreadable"),
                    "%s: an unreadable file's record carries the error", want[k].tail);
        }
        cJSON_Delete(o);
    }
    T_CHECK(found == nwant, "every file: %d of %d files have a record", found, nwant);
    cJSON *o = t_json_line(r.out, lines - 1);
    double all = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "all_probes"));
    double unr = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "unreadable_probes"));
    double eun = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "enrol_unreadable"));
    double nr = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "not_read"));
    double correct = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "correct"));
    printf("every file: %d records; summary: %g probes (%g unreadable), %g gallery file unreadable, %g not read, "
           "%g correct\n", found, all, unr, eun, nr, correct);
    T_CHECK(all == 2 && unr == 1 && eun == 1 && nr == 4 && correct == 1,
            "every file summary: probes %g, unreadable %g, enrol unreadable %g, not read %g, correct %g: want 2 1 1 4 1",
            all, unr, eun, nr, correct);
    cJSON_Delete(o);
    t_run_free(&r);
    /* text mode: each file not used is named on stderr */
    t_facenet(&r, "eval --no-cache --models-dir %s --gallery-dir '%s' --probe-dir '%s'", models, g, p);
    T_CHECK(r.status == 0, "every file text: exit %d: %s", r.status, r.err);
    static const char *named[] = {"cut.jpg", "broken.jpg", "notes.txt", "clip.mp4", "README.md", "list.csv"};
    for (int i = 0; i < 6; i++) T_CHECK(strstr(r.err, named[i]) != NULL, "text mode names %s: %s", named[i], r.err);
    T_CHECK(strstr(r.out, "not used: 1 gallery and 1 probe file(s) could not be read, 2 file(s) not named as images, "
                          "2 outside any person's folder") != NULL, "text headline: %s", r.out);
    t_run_free(&r);
}

/* 4. The bulk executor (fn_embedder_run_many, the default of `eval` and
 *    `eval-pairs`) against the one-file-at-a-time reference (fn_embedder_run
 *    on each file): Film photos, a flat gray image (no face: the centre-crop
 *    fallback), a cut JPEG (a failure at its index) and a missing file; with
 *    flip, without a cache and then with one (the second run must be all
 *    hits and give the same).  Same faces, hashes, failures; embeddings
 *    within 1e-5 (batched network calls). */
typedef struct many_out {
    int n;
    fn_status st[16];
    fn_embed_result r[16];
    float emb[16][512], flip[16][512];
} many_out;

static fn_status keep(void *user, int i, fn_status st, const fn_embed_result *r, const float *emb, const float *flip)
{
    many_out *o = user;
    T_CHECK(i == o->n, "fn_embedder_run_many: index %d delivered after %d (input order)", i, o->n);
    o->st[i] = st;
    if (st == FN_OK) {
        o->r[i] = *r;
        if (r->has_emb) {
            memcpy(o->emb[i], emb, sizeof(float) * 192);
            memcpy(o->flip[i], flip, sizeof(float) * 192);
        }
    }
    o->n++;
    return FN_OK;
}

static void test_executor_equals_reference(const char *film)
{
    char dir[700], paths[16][1200];
    const char *pp[16];
    int n = 0;
    snprintf(dir, sizeof dir, "%s/many", t_tmpdir());
    mkdir(dir, 0777);
    static const char *who[] = {"Mohanlal", "Shobana", "Nazriya", "Deepika Padukone"};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 2; k++) snprintf(paths[n++], sizeof paths[0], "%s", predict(film, who[i], k));
    fn_image gray = {0};
    T_CHECK(fn_image_alloc(&gray, 120, 90, 3) == FN_OK, "alloc");
    memset(gray.data, 128, (size_t)120 * 90 * 3);
    snprintf(paths[n], sizeof paths[0], "%s/blank.png", dir);
    T_CHECK(fn_image_save_png(paths[n++], &gray) == FN_OK, "save: %s", fn_last_error());
    fn_image_free(&gray);
    static const char cut[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00 not the rest of a JPEG";
    snprintf(paths[n], sizeof paths[0], "%s/cut.jpg", dir);
    write_bytes(paths[n++], cut, sizeof cut - 1);
    snprintf(paths[n], sizeof paths[0], "%s/missing.jpg", dir);
    n++;
    snprintf(paths[n++], sizeof paths[0], "%s", predict(film, "Mohanlal", 2));
    for (int i = 0; i < n; i++) pp[i] = paths[i];

    fn_options o;
    fn_options_init(&o);
    o.models_dir = models;
    fn_engine *e = NULL;
    T_CHECK(fn_engine_new(&o, &e) == FN_OK, "engine: %s", fn_last_error());
    if (!e) return;
    static many_out ref, got;
    char cache[800];
    snprintf(cache, sizeof cache, "%s/cache.db", dir);
    for (int pass = 0; pass < 2; pass++) {   /* 0: no cache; 1: the executor fills a cache, then reads it */
        fn_embedder x;
        memset(&ref, 0, sizeof ref);
        T_CHECK(fn_embedder_init(&x, e, &o, FN_SELECT_CENTER, 1, FN_MISS_CENTER_CROP, NULL) == FN_OK, "init: %s",
                fn_last_error());
        x.workers = 1;
        T_CHECK(fn_embedder_run_many(&x, pp, n, keep, &ref) == FN_OK && ref.n == n, "reference: %d of %d", ref.n, n);
        fn_embedder_close(&x);
        for (int rep = 0; rep < 1 + pass; rep++) {
            memset(&got, 0, sizeof got);
            T_CHECK(fn_embedder_init(&x, e, &o, FN_SELECT_CENTER, 1, FN_MISS_CENTER_CROP, pass ? cache : NULL) == FN_OK,
                    "init: %s", fn_last_error());
            x.workers = 2;
            T_CHECK(fn_embedder_run_many(&x, pp, n, keep, &got) == FN_OK && got.n == n, "executor: %d of %d", got.n, n);
            int hits = x.hits;
            fn_embedder_close(&x);
            T_CHECK(rep == 0 || hits == n - 2, "second run on the cache: %d hits, want %d (all but the 2 unreadable)",
                    hits, n - 2);
            float worst = 0, worst_flip = 0;
            for (int i = 0; i < n; i++) {
                T_CHECK(got.st[i] == ref.st[i], "%s: status %d, reference %d", pp[i], got.st[i], ref.st[i]);
                if (got.st[i] != FN_OK || ref.st[i] != FN_OK) continue;
                T_CHECK(got.r[i].has_face == ref.r[i].has_face && got.r[i].has_emb == ref.r[i].has_emb &&
                            !strcmp(got.r[i].hash, ref.r[i].hash),
                        "%s: face %d/%d emb %d/%d hash same %d", pp[i], got.r[i].has_face, ref.r[i].has_face,
                        got.r[i].has_emb, ref.r[i].has_emb, !strcmp(got.r[i].hash, ref.r[i].hash));
                for (int k = 0; k < 4; k++)
                    T_CHECK(fabsf(got.r[i].face.box[k] - ref.r[i].face.box[k]) <= 1e-3f, "%s: box[%d] %g vs %g", pp[i],
                            k, got.r[i].face.box[k], ref.r[i].face.box[k]);
                if (!ref.r[i].has_emb) continue;
                for (int k = 0; k < 192; k++) {
                    float d = fabsf(got.emb[i][k] - ref.emb[i][k]), df = fabsf(got.flip[i][k] - ref.flip[i][k]);
                    if (d > worst) worst = d;
                    if (df > worst_flip) worst_flip = df;
                }
            }
            T_CHECK(ref.st[n - 3] != FN_OK && ref.st[n - 2] != FN_OK && ref.r[n - 4].has_face == 0 &&
                        ref.r[n - 4].has_emb == 1,
                    "the oracle's own cases: cut and missing fail, the gray image uses the centre crop");
            T_CHECK(worst <= 1e-5f && worst_flip <= 1e-5f, "embeddings differ from the reference by %g (flip %g)", worst,
                    worst_flip);
            printf("executor vs one at a time (%s%s): %d files, same statuses, faces and hashes; embeddings within %g, "
                   "flip %g\n", pass ? "cache" : "no cache", rep ? ", second run: all hits" : "", n, worst, worst_flip);
        }
    }
    fn_engine_free(e);
}

/* A subfolder that cannot be listed is an input of its own (reported as
 * unreadable by the command), and the walk goes on past it: it stopped
 * the whole command.  Checked as nobody (root lists anything). */
static int walk_child(const char *root, const char *want_no, const char *want_ok)
{
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 10;
    fn_paths l = {0};
    fn_status s = fn_list_images(root, &l, NULL);
    /* sorted: no, ok/a.jpg, ok/gone.jpg (a dangling link), ok/pipe.jpg (a FIFO): the last two are inputs that
     * the command reports as unreadable, with the reason (they were left out without a word) */
    int ok = s == FN_OK && l.n == 4 && !strcmp(l.items[0], want_no) && !strcmp(l.items[1], want_ok) &&
             strstr(l.items[2], "/gone.jpg") && strstr(l.items[3], "/pipe.jpg");
    if (!ok) fprintf(stderr, "walk past an unreadable folder: status %d, %d path(s): %s %s %s %s\n", s, l.n,
                     l.n > 0 ? l.items[0] : "", l.n > 1 ? l.items[1] : "", l.n > 2 ? l.items[2] : "",
                     l.n > 3 ? l.items[3] : "");
    fn_paths_free(&l);
    return ok ? 0 : 11;
}

static void test_unreadable_subfolder(void)
{
    char root[600], okd[700], nod[700], a[800], b[800];
    snprintf(root, sizeof root, "%s/walk", t_tmpdir());
    snprintf(okd, sizeof okd, "%s/ok", root);
    snprintf(nod, sizeof nod, "%s/no", root);
    snprintf(a, sizeof a, "%s/a.jpg", okd);
    snprintf(b, sizeof b, "%s/b.jpg", nod);
    mkdir(root, 0755);
    mkdir(okd, 0755);
    mkdir(nod, 0755);
    FILE *f = fopen(a, "w"), *g = fopen(b, "w");
    if (f) fclose(f);
    if (g) fclose(g);
    char gone[800], pipe_[800];
    snprintf(gone, sizeof gone, "%s/gone.jpg", okd);
    snprintf(pipe_, sizeof pipe_, "%s/pipe.jpg", okd);
    T_CHECK(symlink("nowhere.jpg", gone) == 0 && mkfifo(pipe_, 0666) == 0, "a dangling link and a FIFO");
    chmod(nod, 0);
    if (geteuid() == 0) chmod(t_tmpdir(), 0755);   /* the child walks as nobody */
    pid_t pid = fork();
    if (pid == 0) _exit(walk_child(root, nod, a));
    int st = -1;
    waitpid(pid, &st, 0);
    chmod(nod, 0755);
    T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a walk past an unreadable subfolder (child exit %d)",
            WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Folders nested deeper than the walk goes: the deepest one walked to is
 * an input by name (and fails as "a folder, not a file") — what lay below
 * it was left out without a word. */
static void test_deep_folders(void)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/deep", t_tmpdir());
    mkdir(path, 0755);
    for (int k = 0; k < 300 && n < 3000; k++) {
        n += snprintf(path + n, sizeof path - (size_t)n, "/d");
        mkdir(path, 0755);
    }
    snprintf(path + n, sizeof path - (size_t)n, "/x.jpg");
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    char root[700];
    snprintf(root, sizeof root, "%s/deep", t_tmpdir());
    fn_paths l = {0};
    fn_status s = fn_list_images(root, &l, NULL);
    int depth = 0;
    for (const char *c = l.n == 1 ? l.items[0] + strlen(root) : ""; *c; c++) depth += *c == '/';
    T_CHECK(s == FN_OK && l.n == 1 && depth == 256, "300 folders deep: %d input(s), the first %d levels down (want 1, "
            "256): %s", l.n, depth, l.n ? l.items[0] : fn_last_error());
    fn_image img = {0};
    T_CHECK(l.n == 1 && fn_image_load(l.items[0], NULL, &img) == FN_ERR_IO && strstr(fn_last_error(), "a folder"),
            "the deepest folder as an input: %s", fn_last_error());
    fn_image_free(&img);
    fn_paths_free(&l);
}

int main(void)
{
    const char *mfn = t_models("MobileFaceNet.tflite");
    if (!mfn) T_SKIP("no models (run `make models`)");
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", mfn);
    snprintf(models, sizeof models, "%s", dirname(tmp));
    test_case_08();
    test_unreadable_subfolder();
    test_deep_folders();
    test_hand_made(t_shared("fixtures/film"));
    test_every_file(t_shared("fixtures/film"));
    test_executor_equals_reference(t_shared("fixtures/film"));
    return T_DONE();
}
