/* A gallery in PostgreSQL against the same gallery in a SQLite file (the
 * oracle): the same enrolment results (added, duplicate, refused as another
 * person's face, NFC names), the same people and threshold, the same
 * identify answers; two handles on one database see each other's enrolment
 * within a second (LISTEN/NOTIFY); a copy SQLite -> PostgreSQL -> SQLite
 * gives the same people, byte-equal embeddings and the threshold; and a
 * restart of the server under open handles: searches keep answering, the
 * next write reconnects; a connection cut inside an enrolment (a trigger
 * ends the session) fails it whole, never half; kill -9 of an enrolling process loses nothing it
 * had committed and leaves no partial batch.  The test starts its own server
 * (scripts/pg-test-server.sh: initdb in a temp dir, a unix socket) and skips
 * when none can be started.  FN_PG_URL (an empty database) overrides. */
#define _GNU_SOURCE
#include "gallery/pqlib.h"   /* libpq through the library's table (opened on first use) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"
#include "gallery/gallery.h"

enum { DIM = 32, PEOPLE = 40, PER = 3 };
static char server_dir[128], url[512], url2[600];
static int own_server;

static void stop_server(void)
{
    if (!own_server) return;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "bash scripts/pg-test-server.sh stop %s; rm -rf %s", server_dir, server_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not stop the test server in %s\n", server_dir);
}

static void start_server(void)
{
    const char *given = getenv("FN_PG_URL");
    if (given && *given) { snprintf(url, sizeof url, "%s", given); return; }
    snprintf(server_dir, sizeof server_dir, "/tmp/fn-pg-test-%d-%ld", (int)getpid(), (long)time(NULL));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "bash scripts/pg-test-server.sh start %s", server_dir);
    FILE *p = popen(cmd, "r");
    if (!p) T_SKIP("cannot run scripts/pg-test-server.sh");
    char *got = fgets(url, sizeof url, p);
    int rc = pclose(p);
    own_server = 1;
    atexit(stop_server);
    if (!got || rc != 0) T_SKIP("no PostgreSQL server could be started (scripts/pg-test-server.sh; install postgresql-15)");
    url[strcspn(url, "\n")] = '\0';
}

/* A second, empty database on the same server. */
static void second_database(void)
{
    T_CHECK(fn_pqlib_load() == FN_OK, "libpq: %s", fn_last_error());
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c, "CREATE DATABASE facenet_copy");
    T_CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "create database: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    const char *db = strstr(url, "/facenet");
    snprintf(url2, sizeof url2, "%.*s/facenet_copy%s", (int)(db - url), url, db + 8);
}

static uint64_t rng = 0x1234567887654321ull;
static float nrand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    double u = ((rng >> 11) + 0.5) / 9007199254740992.0;
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    double v = ((rng >> 11) + 0.5) / 9007199254740992.0;
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}
static float centres[PEOPLE + 2][DIM];
static void image_of(float *v, int person)
{
    for (int i = 0; i < DIM; i++) v[i] = centres[person][i] + 0.5f * nrand() / sqrtf(DIM);
}

static const fn_gallery_model MODEL = {"test-net@sha256:0", DIM, "test-pre"};

/* The same enrolments into both; the results must agree. */
typedef struct enrol { const char *name; int file; float box[4]; int person; } enrol;

static void face_of(const enrol *e, const float *v, char path[32], char hash[65], fn_gallery_face *f)
{
    snprintf(path, 32, "f%d.jpg", e->file);
    fn_sha256_hex(path, strlen(path), hash);
    *f = (fn_gallery_face){e->name, path, hash, {e->box[0], e->box[1], e->box[2], e->box[3]}, 0.98f, v};
}

static int by_name(void *ctx, const fn_gallery_person *p)
{
    char *buf = ctx;
    size_t n = strlen(buf);
    snprintf(buf + n, 8192 - n, "%s:%lld;", p->name, (long long)p->n_images);
    return 0;
}

static void people_of(fn_gallery *g, char buf[8192])
{
    buf[0] = '\0';
    T_CHECK(fn_gallery_list(g, by_name, buf) == FN_OK, "list: %s", fn_last_error());
}

typedef struct emb_list { char *rows; size_t n; } emb_list;
static int take_emb(void *ctx, const fn_gallery_embedding *e)
{
    emb_list *l = ctx;
    char *r = realloc(l->rows, (l->n + 1) * (FN_GALLERY_NAME_MAX + DIM * 4));
    if (!r) return 1;
    l->rows = r;
    char *row = l->rows + l->n++ * (FN_GALLERY_NAME_MAX + DIM * 4);
    memset(row, 0, FN_GALLERY_NAME_MAX);
    snprintf(row, FN_GALLERY_NAME_MAX, "%s", e->person);
    memcpy(row + FN_GALLERY_NAME_MAX, e->embedding, DIM * 4);
    return 0;
}

static void test_same_as_sqlite(fn_gallery *pg, fn_gallery *lite)
{
    static const char nfd[] = "Jos\x65\xcc\x81";   /* "José" decomposed */
    enrol list[PEOPLE * PER + 4];
    int n = 0;
    for (int p = 0; p < PEOPLE; p++)
        for (int j = 0; j < PER; j++) {
            static char names[PEOPLE][24];
            snprintf(names[p], sizeof names[p], "person %02d", p);
            list[n++] = (enrol){names[p], p * 10 + j, {0, 0, 100, 100}, p};
        }
    list[n++] = (enrol){nfd, 9001, {0, 0, 80, 80}, PEOPLE};
    list[n++] = (enrol){"Jos\xc3\xa9 ", 9002, {0, 0, 80, 80}, PEOPLE};   /* NFC + a trailing space: the same person */
    list[n++] = (enrol){"person 00", 0, {0, 0, 100, 100}, 0};             /* duplicate */
    list[n++] = (enrol){"person 01", 0, {2, 2, 100, 100}, 0};             /* person 00's face in f0.jpg */
    float v[DIM];
    for (int i = 0; i < n; i++) {
        image_of(v, list[i].person);
        char path[32], hash[65];
        fn_gallery_face f;
        face_of(&list[i], v, path, hash, &f);
        fn_gallery_add_info a, b;
        fn_status sa = fn_gallery_add_ex(pg, &f, 0, &a), sb = fn_gallery_add_ex(lite, &f, 0, &b);
        T_CHECK(sa == FN_OK && sb == FN_OK, "enrol %d: %s", i, fn_last_error());
        T_CHECK(a.result == b.result && strcmp(a.person, b.person) == 0 && a.name_changed == b.name_changed &&
                strcmp(a.other_person, b.other_person) == 0,
                "enrol %d (%s): PostgreSQL result %d '%s' other '%s', SQLite %d '%s' other '%s'", i, list[i].name,
                a.result, a.person, a.other_person, b.result, b.person, b.other_person);
    }
    T_CHECK(fn_gallery_set_threshold(pg, 0.9f) == FN_OK && fn_gallery_set_threshold(lite, 0.9f) == FN_OK, "threshold");
    static char pa[8192], pb[8192];
    people_of(pg, pa);
    people_of(lite, pb);
    T_CHECK(strcmp(pa, pb) == 0, "people: PostgreSQL %.200s, SQLite %.200s", pa, pb);
    float t = 0;
    T_CHECK(fn_gallery_get_threshold(pg, &t) == FN_OK && t == 0.9f, "threshold read back %g", t);

    fn_gallery_scratch *sa, *sb;
    fn_gallery_scratch_new(pg, 64, &sa);
    fn_gallery_scratch_new(lite, 64, &sb);
    static float q[64 * DIM];
    for (int i = 0; i < 64; i++) image_of(q + i * DIM, i % (PEOPLE + 1));
    fn_gallery_match ma[64], mb[64];
    T_CHECK(fn_gallery_search(pg, sa, q, 64, 0, ma, NULL) == FN_OK, "search PostgreSQL: %s", fn_last_error());
    T_CHECK(fn_gallery_search(lite, sb, q, 64, 0, mb, NULL) == FN_OK, "search SQLite");
    int same = 0;
    for (int i = 0; i < 64; i++)
        same += strcmp(ma[i].best_name, mb[i].best_name) == 0 && strcmp(ma[i].second_name, mb[i].second_name) == 0 &&
                ma[i].best.distance == mb[i].best.distance;
    T_CHECK(same == 64, "identify: %d/64 queries answered as by the SQLite gallery", same);
    printf("PostgreSQL vs SQLite: %d enrolments agree, %d/64 identify answers equal\n", n, same);
    fn_gallery_scratch_free(sa);
    fn_gallery_scratch_free(sb);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Enrol on a, then search on b until it names the newcomer. */
static double seen_after(fn_gallery *a, fn_gallery *b, const char *name, int file)
{
    float v[DIM];
    image_of(v, PEOPLE + 1);
    char path[32], hash[65];
    enrol e = {name, file, {0, 0, 50, 50}, PEOPLE + 1};
    fn_gallery_face f;
    face_of(&e, v, path, hash, &f);
    fn_gallery_scratch *s;
    fn_gallery_scratch_new(b, 1, &s);
    fn_gallery_match m;
    fn_gallery_search(b, s, v, 1, 0, &m, NULL);   /* b is up to date before */
    double t0 = now();
    fn_gallery_added r;
    T_CHECK(fn_gallery_add(a, &f, &r, NULL) == FN_OK && r == FN_GALLERY_ADDED, "enrol %s on one handle: %s", name,
            fn_last_error());
    double t = -1;
    while (now() - t0 < 3) {
        if (fn_gallery_search(b, s, v, 1, 0, &m, NULL) == FN_OK && strcmp(m.best_name, name) == 0) { t = now() - t0; break; }
        usleep(20000);
    }
    fn_gallery_scratch_free(s);
    return t;
}

static void test_copy_round_trip(fn_gallery *lite, const char *dir)
{
    fn_gallery *pg2, *back;
    T_CHECK(fn_gallery_open(url2, &MODEL, FN_GALLERY_CREATE, &pg2) == FN_OK, "open %s: %s", url2, fn_last_error());
    int64_t c = 0, k = 0;
    T_CHECK(fn_gallery_copy(lite, pg2, &c, &k) == FN_OK && c == PEOPLE * PER + 2 && k == 0,
            "copy SQLite -> PostgreSQL: %lld copied, %lld skipped: %s", (long long)c, (long long)k, fn_last_error());
    char path[300];
    snprintf(path, sizeof path, "%s/back.db", dir);
    T_CHECK(fn_gallery_open(path, &MODEL, FN_GALLERY_CREATE, &back) == FN_OK, "open back.db");
    T_CHECK(fn_gallery_copy(pg2, back, &c, &k) == FN_OK && c == PEOPLE * PER + 2, "copy PostgreSQL -> SQLite: %lld: %s",
            (long long)c, fn_last_error());
    static char pa[8192], pb[8192];
    people_of(lite, pa);
    people_of(back, pb);
    T_CHECK(strcmp(pa, pb) == 0, "round trip people: %.200s vs %.200s", pa, pb);
    emb_list ea = {0}, eb = {0};
    fn_gallery_embeddings(lite, take_emb, &ea);
    fn_gallery_embeddings(back, take_emb, &eb);
    T_CHECK(ea.n == eb.n && ea.n > 0 && memcmp(ea.rows, eb.rows, ea.n * (FN_GALLERY_NAME_MAX + DIM * 4)) == 0,
            "round trip: %zu and %zu embeddings, byte-equal in order with their people", ea.n, eb.n);
    float t = 0;
    T_CHECK(fn_gallery_get_threshold(back, &t) == FN_OK && t == 0.9f, "round trip threshold %g", t);
    T_CHECK(fn_gallery_check(back) == FN_OK || fn_last_error()[0], "check the copy");
    printf("copy round trip SQLite -> PostgreSQL -> SQLite: %zu embeddings byte-equal, threshold %g\n", eb.n, t);
    free(ea.rows);
    free(eb.rows);
    fn_gallery_close(back);
    fn_gallery_close(pg2);
}

static void test_restart(fn_gallery *a, fn_gallery *b)
{
    if (!own_server) { t_not_checked("restart (FN_PG_URL given: the test does not own the server)"); return; }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "bash scripts/pg-test-server.sh restart %s", server_dir);
    T_CHECK(system(cmd) == 0, "restart the server");
    fn_gallery_scratch *s;
    fn_gallery_scratch_new(b, 1, &s);
    float v[DIM];
    image_of(v, 3);
    fn_gallery_match m;
    T_CHECK(fn_gallery_search(b, s, v, 1, 0, &m, NULL) == FN_OK && strcmp(m.best_name, "person 03") == 0,
            "after a restart the handle still answers (%s)", m.best_name);
    double t = seen_after(a, b, "after restart", 7777);
    T_CHECK(t >= 0 && t <= 1.5, "after a restart: enrolled on one handle, named by the other after %.3f s", t);
    fn_gallery_scratch_free(s);
}

/* ---- a connection cut inside a write: all of it or nothing ---- */

static long sql_count(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long n = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atol(PQgetvalue(r, 0, 0)) : -1;
    if (n < 0) fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return n;
}

/* Triggers end the writing session at chosen statements (the server's own
 * pg_terminate_backend, counted by sequences, which no rollback undoes):
 * the first image insert of a "cut" file, then the first two embedding
 * inserts.  Each failed enrolment must say so (FN_ERR_UNAVAILABLE, "not
 * committed") and leave no row behind; PostgreSQL, read directly, is the
 * judge.  Retrying a statement on a new connection inside the write's
 * transaction (the code before this test) committed the image alone. */
static void test_cut_mid_write(fn_gallery *g)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c,
        "CREATE SEQUENCE cut_img; CREATE SEQUENCE cut_emb;"
        "CREATE FUNCTION cut_img() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF NEW.path LIKE 'cut%' AND nextval('cut_img') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;"
        " RETURN NEW; END $$;"
        "CREATE FUNCTION cut_emb() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF EXISTS (SELECT 1 FROM images WHERE id = NEW.image_id AND path LIKE 'cut%') AND nextval('cut_emb') <= 2"
        " THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$;"
        "CREATE TRIGGER cut_img BEFORE INSERT ON images FOR EACH ROW EXECUTE FUNCTION cut_img();"
        "CREATE TRIGGER cut_emb BEFORE INSERT ON embeddings FOR EACH ROW EXECUTE FUNCTION cut_emb();");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    T_CHECK(ok, "create the cutting triggers: %s", PQerrorMessage(c));
    PQclear(r);
    if (!ok) { PQfinish(c); return; }
    float v[DIM];
    image_of(v, 7);
    char hash[65];
    fn_sha256_hex("cut1.jpg", 8, hash);
    fn_gallery_face f = {"person 07", "cut1.jpg", hash, {0, 0, 10, 10}, 0.9f, v};
    int failures = 0, added = 0;
    for (int attempt = 0; attempt < 6 && !added; attempt++) {
        int64_t id = 0;
        fn_status st = fn_gallery_add(g, &f, NULL, &id);
        if (st == FN_OK) { added = 1; break; }
        failures++;
        T_CHECK(st == FN_ERR_UNAVAILABLE && strstr(fn_last_error(), "PostgreSQL cannot be reached") &&
                strstr(fn_last_error(), "not committed"), "attempt %d: %s (%s)", attempt, fn_status_name(st), fn_last_error());
        T_CHECK(sql_count(c, "SELECT count(*) FROM images WHERE path LIKE 'cut%'") == 0,
                "attempt %d failed but left the image in PostgreSQL", attempt);
        T_CHECK(sql_count(c, "SELECT count(*) FROM images i LEFT JOIN embeddings e ON e.image_id = i.id"
                             " WHERE e.image_id IS NULL") == 0, "attempt %d left an image without its embedding", attempt);
    }
    T_CHECK(added && failures == 3, "enrolled after %d cut attempts (3 cuts were set up)", failures);
    T_CHECK(sql_count(c, "SELECT count(*) FROM images i JOIN embeddings e ON e.image_id = i.id WHERE i.path = 'cut1.jpg'")
            == 1, "the enrolment that succeeded is whole in PostgreSQL");
    fn_gallery_scratch *s;
    fn_gallery_scratch_new(g, 1, &s);
    fn_gallery_hit top;
    T_CHECK(fn_gallery_search(g, s, v, 1, 1, NULL, &top) == FN_OK && top.distance < 1e-3f,
            "the handle's own copy finds the cut file's face (distance %g)", top.distance);
    fn_gallery_scratch_free(s);
    r = PQexec(c, "DROP TRIGGER cut_img ON images; DROP TRIGGER cut_emb ON embeddings;"
                  " DROP FUNCTION cut_img(); DROP FUNCTION cut_emb(); DROP SEQUENCE cut_img; DROP SEQUENCE cut_emb");
    PQclear(r);
    PQfinish(c);
    printf("a connection cut inside an enrolment 3 times: 3 clear failures, nothing half-written, then enrolled\n");
}

/* ---- other handles' removals, renames and metadata: pulled one by one ---- */

static int first_image(void *ctx, const fn_gallery_image *im)
{
    *(int64_t *)ctx = im->id;
    return 1;
}

static int all_embeddings(fn_gallery *g, emb_list *l)
{
    l->rows = NULL;
    l->n = 0;
    return fn_gallery_embeddings(g, take_emb, l) == FN_OK;
}

/* a renames, removes an image and a person, sets a key; b must end with a's
 * people and embeddings (a's own copy is the oracle) within a second, and
 * PostgreSQL must hold no removed row.  A metadata row written straight into
 * PostgreSQL without a notification shows how b pulled: an incremental pull
 * leaves it out, a full re-read (forced by a payload b does not know) brings
 * it. */
static void test_incremental(fn_gallery *a, fn_gallery *b)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c, "INSERT INTO meta(key, value) VALUES ('unannounced', 'x')");
    T_CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "insert an unannounced row: %s", PQerrorMessage(c));
    PQclear(r);
    int64_t img = -1;
    T_CHECK(fn_gallery_list_images(a, "person 09", first_image, &img) == FN_OK && img > 0, "an image of person 09");
    T_CHECK(fn_gallery_rename_person(a, "person 08", "person 08 renamed") == FN_OK, "rename: %s", fn_last_error());
    T_CHECK(fn_gallery_remove_image(a, img) == FN_OK, "remove image %lld: %s", (long long)img, fn_last_error());
    T_CHECK(fn_gallery_remove_person(a, "person 10", NULL) == FN_OK, "remove a person: %s", fn_last_error());
    T_CHECK(fn_gallery_meta_set(a, "note", "hello") == FN_OK, "set a key: %s", fn_last_error());
    char want[8192], got[8192], v[64] = "";
    people_of(a, want);
    double t0 = now(), t = -1;
    while (now() - t0 < 3) {   /* the four writes may reach b over more than one pull */
        people_of(b, got);
        v[0] = '\0';
        fn_gallery_meta_get(b, "note", v, sizeof v);
        if (strcmp(want, got) == 0 && strcmp(v, "hello") == 0) { t = now() - t0; break; }
        usleep(20000);
    }
    T_CHECK(t >= 0 && t <= 1.0, "the other handle has the renamed and removed people and the key after %.3f s:\n%s\n"
            "against\n%s", t, got, want);
    double t_changes = t;
    emb_list ea, eb;
    T_CHECK(all_embeddings(a, &ea) && all_embeddings(b, &eb) && ea.n == eb.n &&
            memcmp(ea.rows, eb.rows, ea.n * (FN_GALLERY_NAME_MAX + DIM * 4)) == 0,
            "the other handle's embeddings (%zu) equal the writer's (%zu), with their people", eb.n, ea.n);
    free(ea.rows);
    free(eb.rows);
    T_CHECK(fn_gallery_meta_get(b, "note", v, sizeof v) == FN_OK && strcmp(v, "hello") == 0, "the key on the other: '%s'", v);
    T_CHECK(sql_count(c, "SELECT count(*) FROM people WHERE name = 'person 10'") == 0, "the removed person in PostgreSQL");
    char q[128];
    snprintf(q, sizeof q, "SELECT count(*) FROM images WHERE id = %lld", (long long)img);
    T_CHECK(sql_count(c, q) == 0, "the removed image %lld is still in PostgreSQL", (long long)img);
    v[0] = '\0';
    fn_status st = fn_gallery_meta_get(b, "unannounced", v, sizeof v);
    T_CHECK(st == FN_ERR_NOT_FOUND, "the pulls were incremental: an unannounced row came along (%s '%s')",
            fn_status_name(st), v);
    r = PQexec(c, "NOTIFY fn_gallery, 'a payload this facenet does not know'");
    PQclear(r);
    t0 = now();
    t = -1;
    while (now() - t0 < 3) {
        if (fn_gallery_meta_get(b, "unannounced", v, sizeof v) == FN_OK && strcmp(v, "x") == 0) { t = now() - t0; break; }
        usleep(20000);
    }
    T_CHECK(t >= 0 && t <= 1.0, "an unknown payload re-reads everything: the unannounced row after %.3f s", t);
    people_of(b, got);
    T_CHECK(strcmp(want, got) == 0, "after the full re-read the people are the same");
    r = PQexec(c, "DELETE FROM meta WHERE key = 'unannounced'");
    PQclear(r);
    PQfinish(c);
    printf("incremental pulls: a rename, an image and a person removed, a key: on the other handle after %.3f s;"
           " an unknown payload re-read everything after %.3f s\n", t_changes, t);
}

/* ---- kill -9 during enrolment: nothing committed is lost ---- */

static void enrol_forever(int fd)
{
    fn_gallery *g;
    if (fn_gallery_open(url, &MODEL, 0, &g) != FN_OK) _exit(3);
    float v[DIM];
    for (int i = 0; i < 1000000; i++) {
        int batch = i % 4 == 3;
        if (batch && fn_gallery_begin(g) != FN_OK) _exit(4);
        int64_t ids[3];
        for (int j = 0; j < (batch ? 3 : 1); j++) {
            char path[32], hash[65], name[24];
            snprintf(path, sizeof path, "k%d.%d.jpg", i, j);
            snprintf(name, sizeof name, "kperson %d", i % 7);
            fn_sha256_hex(path, strlen(path), hash);
            image_of(v, i % PEOPLE);
            fn_gallery_face f = {name, path, hash, {0, 0, 10, 10}, 0.9f, v};
            if (fn_gallery_add(g, &f, NULL, &ids[j]) != FN_OK) _exit(5);
        }
        if (batch && fn_gallery_commit(g) != FN_OK) _exit(6);
        for (int j = 0; j < (batch ? 3 : 1); j++)
            if (write(fd, &ids[j], sizeof ids[j]) != (ssize_t)sizeof ids[j]) _exit(7);
    }
    _exit(0);
}

typedef struct kill_rows { int64_t ids[100000]; long n; int batches[100000]; } kill_rows;
static int take_image(void *ctx, const fn_gallery_image *im)
{
    kill_rows *k = ctx;
    int i, j;
    if (sscanf(im->path, "k%d.%d.jpg", &i, &j) == 2 && i >= 0 && i < 100000 && k->n < 100000) {
        k->ids[k->n++] = im->id;
        if (i % 4 == 3) k->batches[i]++;
    }
    return 0;
}

static void test_kill9(void)
{
    int fds[2];
    T_CHECK(pipe(fds) == 0, "pipe");
    fflush(NULL);
    setenv("TMPDIR", t_tmpdir(), 1);   /* the killed child's mirror is left there */
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        enrol_forever(fds[1]);
    }
    close(fds[1]);
    usleep(1500 * 1000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child was not killed (status %d)", status);
    static int64_t reported[100000];
    long n = 0;
    while (n < 100000 && read(fds[0], &reported[n], sizeof reported[n]) == (ssize_t)sizeof reported[n]) n++;
    close(fds[0]);
    fn_gallery *g;
    T_CHECK(fn_gallery_open(url, &MODEL, FN_GALLERY_CHECK, &g) == FN_OK, "reopen after kill -9: %s", fn_last_error());
    static kill_rows rows;
    fn_gallery_list_images(g, NULL, take_image, &rows);
    long missing = 0, partial = 0;
    for (long i = 0; i < n; i++) {
        int found = 0;
        for (long j = 0; j < rows.n && !found; j++) found = rows.ids[j] == reported[i];
        missing += !found;
    }
    for (int i = 3; i < 100000; i += 4) partial += rows.batches[i] != 0 && rows.batches[i] != 3;
    T_CHECK(n > 0 && missing == 0 && partial == 0 && rows.n >= n,
            "kill -9 mid-enrolment: %ld committed ids reported, %ld missing, %ld batches partly there, %ld in the gallery",
            n, missing, partial, rows.n);
    printf("kill -9 after 1.5 s: %ld images in PostgreSQL (%ld reported committed), none missing, no partial batch\n",
           rows.n, n);
    fn_gallery_close(g);
}

int main(void)
{
    start_server();
    for (int p = 0; p < PEOPLE + 2; p++) {
        double ss = 0;
        for (int i = 0; i < DIM; i++) centres[p][i] = nrand(), ss += centres[p][i] * centres[p][i];
        for (int i = 0; i < DIM; i++) centres[p][i] /= (float)sqrt(ss);
    }
    fn_gallery *pg, *lite, *pg_b;
    char path[300];
    snprintf(path, sizeof path, "%s/lite.db", t_tmpdir());
    if (fn_gallery_open(url, &MODEL, FN_GALLERY_CREATE, &pg) != FN_OK) {
        fprintf(stderr, "%s\n", fn_last_error());
        T_CHECK(0, "open the PostgreSQL gallery");
        return T_DONE();
    }
    fn_gallery_model other = {"other-net", DIM, NULL};
    fn_gallery *bad = NULL;
    T_CHECK(fn_gallery_open(url, &other, 0, &bad) == FN_ERR_MISMATCH, "another model is refused: %s", fn_last_error());
    fn_gallery_close(bad);
    T_CHECK(fn_gallery_open(path, &MODEL, FN_GALLERY_CREATE, &lite) == FN_OK, "open the SQLite gallery");
    test_same_as_sqlite(pg, lite);

    T_CHECK(fn_gallery_open(url, &MODEL, FN_GALLERY_READONLY, &pg_b) == FN_OK, "a second handle: %s", fn_last_error());
    double t1 = seen_after(pg, pg_b, "newcomer", 5555);
    T_CHECK(t1 >= 0 && t1 <= 1.0, "enrolled on one handle, named by the other after %.3f s (at most 1 s)", t1);
    fn_gallery_scratch *s;
    fn_gallery_scratch_new(pg_b, 1, &s);
    float v[DIM];
    image_of(v, 5);
    fn_gallery_match m;
    T_CHECK(fn_gallery_remove_person(pg, "person 05", NULL) == FN_OK, "remove on one handle");
    double t0 = now(), t2 = -1;
    while (now() - t0 < 3) {
        if (fn_gallery_search(pg_b, s, v, 1, 0, &m, NULL) == FN_OK && strcmp(m.best_name, "person 05") != 0) { t2 = now() - t0; break; }
        usleep(20000);
    }
    T_CHECK(t2 >= 0 && t2 <= 1.0, "removed on one handle, gone from the other after %.3f s", t2);
    printf("two handles: an enrolment seen after %.3f s, a removal after %.3f s\n", t1, t2);
    fn_gallery_scratch_free(s);

    second_database();
    test_copy_round_trip(lite, t_tmpdir());
    test_restart(pg, pg_b);
    test_cut_mid_write(pg);
    test_incremental(pg, pg_b);
    test_kill9();   /* last: its images are near the others' people */
    fn_gallery_close(pg_b);
    fn_gallery_close(lite);
    fn_gallery_close(pg);
    return T_DONE();
}
