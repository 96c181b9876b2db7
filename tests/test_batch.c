/* The bulk executor (fn_batch) against its oracle, the one-at-a-time path.
 *
 * 1. Library: LFW photos, the fixture photos (one with several faces), an
 *    aligned-crop run, a missing file and a garbage .jpg go through fn_batch
 *    with 2 workers, batches of 3 and a window of 5 (so the ring wraps many
 *    times); every result comes back in input order with fn_faces_run's
 *    status, faces (boxes, landmarks, probabilities: exactly) and embeddings
 *    (within 1e-5), and skip callbacks skip exactly the files they name;
 *    the same with InceptionResnetV1, whose faces the caller and the
 *    workers embed together in shared jobs.
 * 2. CLI: `facenet enroll` of a folder-per-person tree (LFW people, a photo
 *    filed under two people, a copy within one person, a garbage file, a
 *    faceless picture) with --batch 1 (each file alone, committed alone) and
 *    with the default pipelined path: the same JSON records, and galleries
 *    with the same people, file hashes, boxes and embeddings (within 1e-5).
 *    A re-run of the pipelined path adds nothing (every file a duplicate).
 */
#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"
#include "t.h"
#include "facenet.h"

#define MAXF 96

static char paths[MAXF][600];
static int npaths;

static void add_path(const char *p)
{
    if (npaths < MAXF) snprintf(paths[npaths++], sizeof paths[0], "%s", p);
}

/* The first n jpgs under the first `people` folders of LFW's images. */
static void lfw_files(const char *root, int people, int n)
{
    struct dirent **names;
    int k = scandir(root, &names, NULL, alphasort), taken = 0;
    for (int i = 0, folders = 0; i < k; i++) {
        if (names[i]->d_name[0] != '.' && folders < people && taken < n) {
            folders++;
            for (int j = 1; j <= 3 && taken < n; j++) {
                char p[600];
                snprintf(p, sizeof p, "%s/%s/%s_%04d.jpg", root, names[i]->d_name, names[i]->d_name, j);
                struct stat st;
                if (stat(p, &st) == 0) {
                    add_path(p);
                    taken++;
                }
            }
        }
        free(names[i]);
    }
    free(names);
}

/* model NULL: the default (MobileFaceNet). */
static fn_engine *open_engine(const char *model)
{
    fn_options o;
    fn_options_init(&o);
    o.models_dir = getenv("MODELS") ? getenv("MODELS") : "models";
    if (model) o.model = model;
    fn_engine *e = NULL;
    fn_status st = fn_engine_new(&o, &e);
    if (st != FN_OK && !model) T_SKIP("the default models cannot be loaded: %s", fn_last_error());
    T_CHECK(st == FN_OK, "%s engine: %s", model, fn_last_error());
    return e;
}

/* 2 workers, batches of 3, a window of 5: the ring wraps many times. */
static void small_ring(fn_batch_params *p)
{
    fn_batch_params_init(p);
    p->workers = 2;
    p->batch = 3;
    p->window = 5;
}

static int skip_odd(void *user, int index, const char *path, const char *hash)
{
    int *calls = user;
    __atomic_add_fetch(calls, 1, __ATOMIC_RELAXED);
    return strlen(hash) == 64 && (index % 2) == 1;
}

/* Every input through fn_batch, each checked against fn_faces_run. */
static void compare_run(fn_engine *e, const fn_batch_params *p, const char *what)
{
    const char *list[MAXF];
    for (int i = 0; i < npaths; i++) list[i] = paths[i];
    fn_batch *b = NULL;
    T_CHECK(fn_batch_new_paths(e, p, list, npaths, &b) == FN_OK, "%s: start: %s", what, fn_last_error());
    if (!b) return;
    fn_faces f = {0};
    int dim = fn_engine_dim(e), seen = 0, faces = 0, embedded = 0, failed = 0;
    float worst = 0;
    const fn_batch_result *r;
    while (fn_batch_next(b, &r) == FN_OK && r) {
        T_CHECK(r->index == seen && r->path == list[seen], "%s: result %d is input %d (%s)", what, seen, r->index,
                r->path);
        int i = r->index;
        seen++;
        if (p->skip && i % 2 == 1) {
            T_CHECK(r->skipped && r->faces->n == 0, "%s: %s: skipped by the callback", what, paths[i]);
            continue;
        }
        T_CHECK(!r->skipped, "%s: %s not skipped", what, paths[i]);
        fn_status s = fn_faces_run(e, paths[i], p->aligned, p->embed, &f);
        T_CHECK(s == r->status, "%s: %s: status %s, one at a time %s", what, paths[i], fn_status_name(r->status),
                fn_status_name(s));
        if (s != FN_OK) {
            failed++;
            T_CHECK(r->error[0] && strstr(r->error, paths[i]), "%s: the error names the file: %s", what, r->error);
            continue;
        }
        const fn_faces *g = r->faces;
        T_CHECK(g->n == f.n && g->total == f.total, "%s: %s: %d/%d faces, one at a time %d/%d", what, paths[i], g->n,
                g->total, f.n, f.total);
        int n = g->n < f.n ? g->n : f.n;
        T_CHECK(!memcmp(g->faces, f.faces, (size_t)n * sizeof f.faces[0]), "%s: %s: boxes, landmarks or "
                "probabilities differ", what, paths[i]);
        faces += n;
        int want = p->embed ? (p->max_embed && p->max_embed < f.n ? p->max_embed : f.n) : 0;
        T_CHECK(r->n_embedded == want, "%s: %s: %d embedded, want %d", what, paths[i], r->n_embedded, want);
        for (int k = 0; k < r->n_embedded && k < f.n; k++) {
            long at;
            float d = t_max_abs_diff(g->emb + (size_t)k * dim, f.emb + (size_t)k * dim, dim, &at);
            if (d > worst) worst = d;
            embedded++;
        }
    }
    T_CHECK(seen == npaths, "%s: %d results for %d inputs", what, seen, npaths);
    T_CHECK(worst <= 1e-5f, "%s: embeddings differ from one at a time by %g", what, worst);
    printf("%s: %d files, %d faces, %d embedded, %d failed as one at a time; worst embedding deviation %g\n", what,
           seen, faces, embedded, failed, worst);
    fn_faces_free(&f);
    fn_batch_free(b);
}

static void test_library(void)
{
    const char *lfw = t_shared("datasets/lfw_view1/images");
    const char *fx = t_shared("fixtures/images");
    npaths = 0;
    lfw_files(lfw, 6, 8);
    static const char *fixtures[] = {"multiface.jpg", "angelina_jolie.jpg", "paul_rudd.jpg"};
    for (int i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", fx, fixtures[i]);
        add_path(p);
    }
    char garbage[600];
    snprintf(garbage, sizeof garbage, "%s/garbage.jpg", t_tmpdir());
    FILE *g = fopen(garbage, "wb");
    fputs("\xff\xd8\xff not a jpeg", g);
    fclose(g);
    add_path(garbage);
    add_path("/nonexistent/facenet/missing.jpg");
    lfw_files(lfw, 2, 3);   /* repeats: the same file twice in one run */

    fn_engine *e = open_engine(NULL);
    fn_batch_params p;
    small_ring(&p);
    compare_run(e, &p, "detect+embed");
    p.max_embed = 1;
    p.hash = 1;
    int calls = 0;
    p.skip = skip_odd;
    p.skip_user = &calls;
    compare_run(e, &p, "first face, odd inputs skipped");
    T_CHECK(calls == npaths - 1, "skip asked for %d files, want %d (all but the missing one)", calls, npaths - 1);
    fn_batch_params_init(&p);
    p.embed = 0;
    p.workers = 3;
    compare_run(e, &p, "detect only");

    /* InceptionResnetV1 (the fixture checkpoint): its faces are embedded in
     * jobs shared by the caller and the workers (fn_engine_embed_reentrant) */
    const char *xz = t_shared("fixtures/facenet_random/irv1_random_legacy.pt.xz");
    char ckpt[600], cmd[1400];
    snprintf(ckpt, sizeof ckpt, "%s/irv1.pt", t_tmpdir());
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", xz, ckpt);
    T_CHECK(system(cmd) == 0, "cannot decompress %s", xz);
    fn_engine *ei = open_engine(ckpt);
    if (ei) {
        small_ring(&p);
        compare_run(ei, &p, "InceptionResnetV1, shared embedding jobs");
        p.batch = 8;
        p.window = 0;
        p.workers = 1;
        compare_run(ei, &p, "InceptionResnetV1, one worker, batches of 8");
        fn_engine_free(ei);
    }

    /* aligned crops (and one that is not the model's size: the photo) */
    const char *al = t_shared("fixtures/aligned112");
    npaths = 0;
    struct dirent **names;
    int k = scandir(al, &names, NULL, alphasort);
    for (int i = 0; i < k; i++) {
        if (strstr(names[i]->d_name, ".png") && npaths < 12) {
            char p2[600];
            snprintf(p2, sizeof p2, "%s/%s", al, names[i]->d_name);
            add_path(p2);
        }
        free(names[i]);
    }
    free(names);
    char photo[600];
    snprintf(photo, sizeof photo, "%s/paul_rudd.jpg", fx);
    add_path(photo);
    fn_batch_params_init(&p);
    p.aligned = 1;
    p.batch = 7;
    compare_run(e, &p, "aligned");

    fn_batch *b = NULL;
    p.workers = -1;
    T_CHECK(fn_batch_new_paths(e, &p, NULL, 0, &b) == FN_ERR_ARG && strstr(fn_last_error(), "workers"),
            "workers -1 refused: %s", fn_last_error());
    fn_engine_free(e);
}

/* ---- the CLI: both paths give the same gallery ---- */

typedef struct row {
    char person[128], hash[65];
    float box[4], prob;
    float emb[512];
    int dim;
} row;

static int read_rows(const char *db, row *rows, int max)
{
    sqlite3 *h;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return -1;
    sqlite3_stmt *st;
    int n = 0;
    if (sqlite3_prepare_v2(h, "SELECT p.name, i.sha256, i.x1, i.y1, i.x2, i.y2, i.prob, e.vec FROM images i "
                              "JOIN people p ON p.id = i.person_id JOIN embeddings e ON e.image_id = i.id "
                              "ORDER BY p.name, i.sha256", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && n < max) {
            row *r = &rows[n++];
            snprintf(r->person, sizeof r->person, "%s", (const char *)sqlite3_column_text(st, 0));
            snprintf(r->hash, sizeof r->hash, "%s", (const char *)sqlite3_column_text(st, 1));
            for (int k = 0; k < 4; k++) r->box[k] = (float)sqlite3_column_double(st, 2 + k);
            r->prob = (float)sqlite3_column_double(st, 6);
            int bytes = sqlite3_column_bytes(st, 7);
            r->dim = bytes / 4 > 512 ? 512 : bytes / 4;
            memcpy(r->emb, sqlite3_column_blob(st, 7), (size_t)r->dim * 4);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

static void link_file(const char *from, const char *dir, const char *name)
{
    char to[1400];
    mkdir(dir, 0777);
    snprintf(to, sizeof to, "%s/%s", dir, name);
    T_CHECK(symlink(from, to) == 0, "link %s", to);
}

static void test_cli(void)
{
    const char *lfw = t_shared("datasets/lfw_view1/images");
    char root[600], dir[1000], name[300];
    snprintf(root, sizeof root, "%s/people", t_tmpdir());
    mkdir(root, 0777);
    npaths = 0;
    lfw_files(lfw, 8, 12);
    for (int i = 0; i < npaths; i++) {
        const char *base = strrchr(paths[i], '/') + 1;
        snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - 9), base);   /* Name_0001.jpg -> Name */
        snprintf(dir, sizeof dir, "%s/%s", root, name);
        link_file(paths[i], dir, base);
    }
    /* the first photo again under another person (refused), and twice in its own folder (a duplicate) */
    snprintf(dir, sizeof dir, "%s/Zz Mislabelled", root);
    link_file(paths[0], dir, "copy.jpg");
    const char *b0 = strrchr(paths[0], '/') + 1;
    snprintf(name, sizeof name, "%.*s", (int)(strlen(b0) - 9), b0);
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    link_file(paths[0], dir, "zz_again.jpg");
    snprintf(dir, sizeof dir, "%s/Zz Nobody", root);
    mkdir(dir, 0777);
    char p[1200];
    snprintf(p, sizeof p, "%s/garbage.jpg", dir);
    FILE *g = fopen(p, "wb");
    fputs("\xff\xd8\xff not a jpeg", g);
    fclose(g);
    fn_image gray = {0};
    fn_image_alloc(&gray, 200, 160, 3);
    memset(gray.data, 128, 200 * 160 * 3);
    snprintf(p, sizeof p, "%s/flat.png", dir);
    fn_image_save_png(p, &gray);
    fn_image_free(&gray);

    char g1[600], g2[600];
    snprintf(g1, sizeof g1, "%s/one.db", t_tmpdir());
    snprintf(g2, sizeof g2, "%s/batched.db", t_tmpdir());
    t_run a, b, c;
    t_facenet(&a, "enroll --batch 1 --json --gallery '%s' '%s'", g1, root);
    t_facenet(&b, "enroll --jobs 2 --batch 4 --json --gallery '%s' '%s'", g2, root);
    T_CHECK(a.status == 0 && b.status == 0, "enroll exits %d / %d: %s %s", a.status, b.status, a.err, b.err);
    /* the same records, but for the summary's commit group */
    int la = t_count_lines(a.out), lb = t_count_lines(b.out);
    T_CHECK(la == lb && la > npaths, "%d records one at a time, %d batched", la, lb);
    for (int i = 0; i < la - 1 && i < lb - 1; i++) {
        cJSON *x = t_json_line(a.out, i), *y = t_json_line(b.out, i);
        char *sx = cJSON_PrintUnformatted(x), *sy = cJSON_PrintUnformatted(y);
        T_CHECK(sx && sy && !strcmp(sx, sy), "record %d: one at a time %s, batched %s", i, sx, sy);
        free(sx);
        free(sy);
        cJSON_Delete(x);
        cJSON_Delete(y);
    }
    T_CHECK(strstr(a.out, "\"refused\"") && strstr(a.out, "\"duplicate\"") && strstr(a.out, "no_face") &&
            strstr(a.out, "\"unreadable\""), "the tree has a refusal, a duplicate, a faceless and a broken file: %s",
            a.out);
    printf("enroll: %d records the same both ways\n", la - 1);

    static row ra[64], rb[64];
    int na = read_rows(g1, ra, 64), nb = read_rows(g2, rb, 64);
    T_CHECK(na == nb && na >= npaths, "%d rows one at a time, %d batched", na, nb);
    float worst = 0, worst_box = 0;
    for (int i = 0; i < na && i < nb; i++) {
        T_CHECK(!strcmp(ra[i].person, rb[i].person) && !strcmp(ra[i].hash, rb[i].hash) && ra[i].dim == rb[i].dim,
                "row %d: %s %s vs %s %s", i, ra[i].person, ra[i].hash, rb[i].person, rb[i].hash);
        long at;
        float d = t_max_abs_diff(ra[i].emb, rb[i].emb, ra[i].dim, &at);
        float db = t_max_abs_diff(ra[i].box, rb[i].box, 4, &at);
        if (d > worst) worst = d;
        if (db > worst_box) worst_box = db;
        T_CHECK(ra[i].prob == rb[i].prob, "row %d: prob %g vs %g", i, ra[i].prob, rb[i].prob);
    }
    T_CHECK(worst <= 1e-5f && worst_box == 0, "embeddings differ by %g, boxes by %g", worst, worst_box);
    printf("gallery: %d rows (person, hash, box, prob, embedding) the same; worst embedding deviation %g\n", na, worst);

    t_facenet(&c, "enroll --json --gallery '%s' '%s'", g2, root);
    cJSON *sum = t_json_line(c.out, t_count_lines(c.out) - 1);
    cJSON *added = sum ? cJSON_GetObjectItem(sum, "added") : NULL;
    T_CHECK(c.status == 0 && added && added->valueint == 0, "a re-run adds nothing: %s", c.out);
    cJSON_Delete(sum);
    t_run_free(&a);
    t_run_free(&b);
    t_run_free(&c);
}

static double iou(const float *a, const float *b)
{
    double ix = fmin(a[2], b[2]) - fmax(a[0], b[0]), iy = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (ix <= 0 || iy <= 0) return 0;
    double u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy;
    return ix * iy / u;
}

/* 3. Reduced decode of big photos: fixture photos upscaled 6x and saved as
 *    JPEG, run through fn_batch at the scan's max_side (1600) with the full decode (the
 *    oracle) and with libjpeg's scaled decode.  Each face of the full run
 *    must have a face in the reduced run with box IoU >= 0.9, landmarks
 *    within 4 % of the box width, both in the full photo's pixels, and an
 *    embedding within 0.2 (a fifth of the verification threshold).  Why
 *    these margins: both runs detect on a 600-px picture of the same photo;
 *    the pictures differ only by how they were reduced (DCT scaling then a
 *    resize, against a resize of the full decode), a difference of a few
 *    grey levels, on which MTCNN's box regression moves by a pixel or two
 *    of the 600-px picture (faces there are 40-150 px wide). */
static void test_reduced(void)
{
    const char *fx = t_shared("fixtures/images");
    static const char *names[] = {"multiface.jpg", "paul_rudd.jpg"};
    char big[2][700];
    for (int i = 0; i < 2; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", fx, names[i]);
        fn_image img = {0}, up = {0};
        T_CHECK(fn_image_load(p, NULL, &img) == FN_OK, "load %s: %s", p, fn_last_error());
        int f = (int)(sqrt(24e6 / ((double)img.w * img.h)) + 0.5);   /* about 24 Mpx */
        if (f < 2) f = 2;
        T_CHECK(fn_image_resize(&img, img.w * f, img.h * f, &up) == FN_OK, "upscale: %s", fn_last_error());
        snprintf(big[i], sizeof big[i], "%s/big_%s", t_tmpdir(), names[i]);
        T_CHECK(fn_image_save_jpeg(big[i], &up, 92) == FN_OK, "save %s: %s", big[i], fn_last_error());
        fn_image_free(&img);
        fn_image_free(&up);
    }
    /* the sizes by hand: libjpeg's output side is ceil(side / denom) */
    fn_image im = {0}, fullimg = {0};
    int fw = 0, fh = 0;
    T_CHECK(fn_image_load(big[1], NULL, &fullimg) == FN_OK, "load %s", big[1]);
    int W = fullimg.w, H = fullimg.h, side = W > H ? W : H;
    fn_image_free(&fullimg);
    int sides[3] = {1600, 700, 9000};
    for (int k = 0; k < 3; k++) {
        int d = 1;
        for (int q = 8; q >= 2; q /= 2)
            if ((side + q - 1) / q >= sides[k]) { d = q; break; }
        T_CHECK(fn_image_load_reduced(big[1], NULL, sides[k], &im, NULL, &fw, &fh) == FN_OK &&
                    im.w == (W + d - 1) / d && im.h == (H + d - 1) / d && fw == W && fh == H,
                "reduced to >= %d: %dx%d (full %dx%d), want %dx%d (1/%d of %dx%d)", sides[k], im.w, im.h, fw, fh,
                (W + d - 1) / d, (H + d - 1) / d, d, W, H);
        fn_image_free(&im);
    }
    T_CHECK(fn_image_load_reduced(big[1], NULL, 0, &im, NULL, &fw, &fh) == FN_ERR_ARG, "min_side 0 accepted");
    fn_engine *e = open_engine(NULL);
    if (!e) return;
    int dim = fn_engine_dim(e);
    for (int i = 0; i < 2; i++) {
        fn_faces full = {0}, red = {0};
        float emb[2][FN_FACES_MAX * 512];
        int nemb[2] = {0, 0}, wh[2][2];
        for (int r = 0; r < 2; r++) {
            fn_batch_params p;
            fn_batch_params_init(&p);
            p.max_side = FN_SCAN_DEFAULT_SIDE;
            p.embed = 1;
            p.reduced_decode = r;
            const char *one[1] = {big[i]};
            fn_batch *b = NULL;
            const fn_batch_result *res = NULL;
            T_CHECK(fn_batch_new_paths(e, &p, one, 1, &b) == FN_OK && fn_batch_next(b, &res) == FN_OK && res &&
                        res->status == FN_OK,
                    "batch %s (reduced %d): %s", big[i], r, fn_last_error());
            if (res && res->status == FN_OK) {
                fn_faces *dst = r ? &red : &full;
                dst->n = res->faces->n;
                memcpy(dst->faces, res->faces->faces, sizeof dst->faces);
                nemb[r] = res->n_embedded;
                memcpy(emb[r], res->faces->emb, (size_t)res->n_embedded * dim * sizeof(float));
                wh[r][0] = res->image_w;
                wh[r][1] = res->image_h;
            }
            fn_batch_free(b);
        }
        T_CHECK(full.n > 0 && full.n == red.n && wh[0][0] == wh[1][0] && wh[0][1] == wh[1][1],
                "%s: %d faces full, %d reduced; photo %dx%d / %dx%d", big[i], full.n, red.n, wh[0][0], wh[0][1],
                wh[1][0], wh[1][1]);
        double worst_iou = 1, worst_lm = 0, worst_emb = 0;
        for (int a = 0; a < full.n; a++) {
            int best = -1;
            double bi = 0;
            for (int c = 0; c < red.n; c++)
                if (iou(full.faces[a].box, red.faces[c].box) > bi) { bi = iou(full.faces[a].box, red.faces[c].box); best = c; }
            if (best < 0) { worst_iou = 0; continue; }
            if (bi < worst_iou) worst_iou = bi;
            float bw = full.faces[a].box[2] - full.faces[a].box[0];
            for (int k = 0; k < 5; k++) {
                double d = hypot(full.faces[a].landmarks[k][0] - red.faces[best].landmarks[k][0],
                                 full.faces[a].landmarks[k][1] - red.faces[best].landmarks[k][1]) / bw;
                if (d > worst_lm) worst_lm = d;
            }
            if (a < nemb[0] && best < nemb[1]) {
                double d = fn_distance(emb[0] + (size_t)a * dim, emb[1] + (size_t)best * dim, dim);
                if (d > worst_emb) worst_emb = d;
            }
        }
        T_CHECK(worst_iou >= 0.9 && worst_lm <= 0.04 && worst_emb <= 0.2,
                "%s: reduced decode against full: worst box IoU %.3f, landmark %.3f of the box width, embedding %.3f",
                big[i], worst_iou, worst_lm, worst_emb);
        printf("reduced decode, %s (%dx%d, %d faces): worst box IoU %.4f, landmark %.4f of the box width, "
               "embedding distance %.4f\n", names[i], wh[0][0], wh[0][1], full.n, worst_iou, worst_lm, worst_emb);
    }
    fn_engine_free(e);
}

int main(void)
{
    test_reduced();
    test_library();
    test_cli();
    return T_DONE();
}
