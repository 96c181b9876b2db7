/* The gallery file: enrol/list/remove/rename, dedupe, transactions, model
 * mismatch, corrupt files left untouched, kill -9 during enrolment, and the
 * SHA-256 content hash against FIPS 180 test vectors. */
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "gallery/gallery.h"

enum { DIM = 8 };
static const fn_gallery_model MODEL = {"test-net@sha256:abc", DIM, "rgb-127.5/128"};

static char *tpath(const char *name)
{
    static char buf[8][512];
    static int slot;
    char *b = buf[slot++ & 7];
    snprintf(b, 512, "%s/%s", t_tmpdir(), name);
    return b;
}

/* A face whose embedding is e_axis (+ a little of the next axis) and whose hash is that of tag. */
typedef struct tface { fn_gallery_face f; char hash[65]; float emb[DIM]; } tface;
static fn_gallery_face *face(tface *t, const char *person, const char *tag, int axis, float tilt)
{
    memset(t, 0, sizeof *t);
    fn_sha256_hex(tag, strlen(tag), t->hash);
    t->emb[axis % DIM] = 1;
    t->emb[(axis + 1) % DIM] = tilt;
    t->f = (fn_gallery_face){person, tag, t->hash, {1, 2, 30, 40}, 0.98f, t->emb};
    return &t->f;
}

static void file_hash(const char *path, char out[65]) { if (fn_hash_file(path, out) != FN_OK) out[0] = 0; }

/* ---- SHA-256 ---- */

static void test_sha256(void)
{
    static const struct { const char *msg, *hex; } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        fn_sha256_hex(v[i].msg, strlen(v[i].msg), hex);
        T_CHECK(strcmp(hex, v[i].hex) == 0, "sha256('%s') = %s, want %s", v[i].msg, hex, v[i].hex);
    }
    /* one million 'a' from a file: many read buffers, the standard's long vector */
    const char *p = tpath("million_a");
    FILE *f = fopen(p, "wb");
    char a[1000];
    memset(a, 'a', sizeof a);
    for (int i = 0; i < 1000; i++) fwrite(a, 1, sizeof a, f);
    fclose(f);
    T_CHECK(fn_hash_file(p, hex) == FN_OK && strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
            "sha256(file of 10^6 'a') = %s", hex);
    /* feeding in odd pieces must not change the digest (buffering across blocks) */
    const char *m = v[3].msg;
    fn_sha256 s;
    unsigned char d[32];
    char hex2[65];
    fn_sha256_init(&s);
    for (size_t i = 0, step = 1; i < strlen(m); i += step, step = step % 13 + 7)
        fn_sha256_update(&s, m + i, i + step > strlen(m) ? strlen(m) - i : step);
    fn_sha256_final(&s, d);
    for (int i = 0; i < 32; i++) snprintf(hex2 + 2 * i, 3, "%02x", d[i]);
    T_CHECK(strcmp(hex2, v[3].hex) == 0, "piecewise sha256 = %s", hex2);
    T_CHECK(fn_hash_file(tpath("no_such_file"), hex) == FN_ERR_IO && strstr(fn_last_error(), "no_such_file"),
            "missing file: %s", fn_last_error());
    printf("sha256: 4 FIPS vectors, the million-'a' file, piecewise feeding\n");
}

/* ---- enrol, list, dedupe, rename, remove ---- */

typedef struct listed { int n; char names[8][FN_GALLERY_NAME_MAX]; int64_t counts[8]; } listed;
static int collect(void *ctx, const fn_gallery_person *p)
{
    listed *l = ctx;
    if (l->n < 8) { snprintf(l->names[l->n], FN_GALLERY_NAME_MAX, "%s", p->name); l->counts[l->n] = p->n_images; }
    l->n++;
    return 0;
}
static int count_images(void *ctx, const fn_gallery_image *im) { (void)im; ++*(int *)ctx; return 0; }

static fn_gallery_match search1(fn_gallery *g, int axis)
{
    fn_gallery_scratch *s;
    fn_gallery_match m;
    memset(&m, 0, sizeof m);
    float q[DIM] = {0};
    q[axis] = 1;
    fn_gallery_scratch_new(g, 1, &s);
    if (fn_gallery_search(g, s, q, 1, 0, &m, NULL) != FN_OK) m.best.person_id = -2;
    fn_gallery_scratch_free(s);
    return m;
}

static void test_enrol_cycle(void)
{
    const char *path = tpath("g.db");
    fn_gallery *g;
    tface t;
    fn_gallery_added r;
    int64_t id1 = 0, id;
    T_CHECK(fn_gallery_open(path, &MODEL, 0, &g) == FN_ERR_NOT_FOUND, "missing gallery opened without CREATE");
    T_CHECK(fn_gallery_open(path, &MODEL, FN_GALLERY_CREATE, &g) == FN_OK, "create: %s", fn_last_error());

    /* empty gallery: a clear status, not a crash or a bogus match */
    fn_gallery_scratch *s;
    fn_gallery_scratch_new(g, 1, &s);
    float q[DIM] = {1};
    fn_gallery_match m;
    fn_status st = fn_gallery_search(g, s, q, 1, 0, &m, NULL);
    T_CHECK(st == FN_ERR_NOT_FOUND && strstr(fn_last_error(), "gallery is empty") && strstr(fn_last_error(), "g.db"),
            "empty search: %d '%s'", st, fn_last_error());
    fn_gallery_scratch_free(s);

    T_CHECK(fn_gallery_add(g, face(&t, "alice", "a1.jpg", 0, 0.1f), &r, &id1) == FN_OK && r == FN_GALLERY_ADDED, "add a1: %s", fn_last_error());
    T_CHECK(fn_gallery_add(g, face(&t, "alice", "a2.jpg", 0, 0.2f), &r, &id) == FN_OK && r == FN_GALLERY_ADDED, "add a2: %s", fn_last_error());
    T_CHECK(fn_gallery_add(g, face(&t, "bob", "b1.jpg", 2, 0.1f), &r, &id) == FN_OK && r == FN_GALLERY_ADDED, "add b1: %s", fn_last_error());
    /* the same file for the same person again: skipped, same id */
    int64_t again = 0;
    T_CHECK(fn_gallery_add(g, face(&t, "alice", "a1.jpg", 0, 0.1f), &r, &again) == FN_OK && r == FN_GALLERY_SKIPPED_DUPLICATE &&
            again == id1, "re-enrol: result %d id %lld (first %lld)", r, (long long)again, (long long)id1);
    /* the same file renamed on disk is still the same content */
    face(&t, "alice", "a1.jpg", 0, 0.1f);
    t.f.image_path = "copy-of-a1.jpg";
    T_CHECK(fn_gallery_add(g, &t.f, &r, NULL) == FN_OK && r == FN_GALLERY_SKIPPED_DUPLICATE, "renamed copy not skipped");
    /* the same face of the same file under another person: refused by default, added when asked */
    T_CHECK(fn_gallery_add(g, face(&t, "carol", "a1.jpg", 4, 0.1f), &r, NULL) == FN_OK && r == FN_GALLERY_REFUSED_OTHER_PERSON,
            "same hash, other person: %d", r);
    fn_gallery_add_info info;
    T_CHECK(fn_gallery_add_ex(g, face(&t, "carol", "a1.jpg", 4, 0.1f), FN_GALLERY_ADD_ALLOW_OTHER_PERSON, &info) == FN_OK &&
            info.result == FN_GALLERY_ADDED && !strcmp(info.other_person, "alice"), "same hash, other person, allowed");
    int yes = 0;
    T_CHECK(fn_gallery_has_image(g, "alice", t.hash, &yes) == FN_OK && yes, "has_image alice a1");
    fn_sha256_hex("zz", 2, t.hash);
    T_CHECK(fn_gallery_has_image(g, "alice", t.hash, &yes) == FN_OK && !yes, "has_image of unknown hash");
    T_CHECK(fn_gallery_has_image(g, "nobody", t.hash, &yes) == FN_OK && !yes, "has_image of unknown person");

    int64_t np = 0, ni = 0;
    T_CHECK(fn_gallery_count(g, &np, &ni) == FN_OK && np == 3 && ni == 4, "count %lld people %lld images", (long long)np, (long long)ni);
    listed l = {0};
    fn_gallery_list(g, collect, &l);
    T_CHECK(l.n == 3 && !strcmp(l.names[0], "alice") && l.counts[0] == 2 && !strcmp(l.names[1], "bob") && l.counts[1] == 1 &&
            !strcmp(l.names[2], "carol"), "list: %d: %s %lld, %s %lld", l.n, l.names[0], (long long)l.counts[0], l.names[1], (long long)l.counts[1]);
    int n_img = 0;
    fn_gallery_list_images(g, "alice", count_images, &n_img);
    T_CHECK(n_img == 2, "alice has %d images listed", n_img);

    m = search1(g, 2);
    T_CHECK(!strcmp(m.best_name, "bob") && m.best.distance < 0.11f && strcmp(m.second_name, "bob") != 0 && m.second_name[0],
            "search e2: best '%s' %.3f second '%s'", m.best_name, m.best.distance, m.second_name);

    /* rename: errors first, nothing changes on error */
    T_CHECK(fn_gallery_rename_person(g, "dave", "eve") == FN_ERR_NOT_FOUND && strstr(fn_last_error(), "'dave'"), "rename missing: %s", fn_last_error());
    T_CHECK(fn_gallery_rename_person(g, "bob", "alice") == FN_ERR_ARG && strstr(fn_last_error(), "already exists"), "rename onto existing: %s", fn_last_error());
    T_CHECK(fn_gallery_rename_person(g, "bob", "robert") == FN_OK, "rename: %s", fn_last_error());
    m = search1(g, 2);
    T_CHECK(!strcmp(m.best_name, "robert"), "after rename, search says '%s'", m.best_name);
    T_CHECK(fn_gallery_has_image(g, "bob", t.hash, &yes) == FN_OK && !yes, "bob still known after rename");

    /* remove */
    int64_t removed = 0;
    T_CHECK(fn_gallery_remove_person(g, "alice", &removed) == FN_OK && removed == 2, "remove alice: %lld, %s", (long long)removed, fn_last_error());
    T_CHECK(fn_gallery_remove_person(g, "alice", NULL) == FN_ERR_NOT_FOUND, "second removal should fail");
    m = search1(g, 0);
    T_CHECK(strcmp(m.best_name, "alice") != 0 && strcmp(m.second_name, "alice") != 0, "alice still found after removal");
    T_CHECK(fn_gallery_count(g, &np, &ni) == FN_OK && np == 2 && ni == 2, "after removal %lld people %lld images", (long long)np, (long long)ni);

    /* bad input is refused with a sentence, and leaves nothing behind */
    face(&t, "", "x.jpg", 0, 0);
    T_CHECK(fn_gallery_add(g, &t.f, &r, NULL) == FN_ERR_ARG, "empty name accepted");
    face(&t, "zed", "x.jpg", 0, 0);
    memset(t.emb, 0, sizeof t.emb);
    T_CHECK(fn_gallery_add(g, &t.f, &r, NULL) == FN_ERR_ARG && strstr(fn_last_error(), "x.jpg"), "zero embedding: %s", fn_last_error());
    face(&t, "zed", "x.jpg", 0, 0);
    t.emb[3] = NAN;
    T_CHECK(fn_gallery_add(g, &t.f, &r, NULL) == FN_ERR_ARG, "NaN embedding accepted");
    face(&t, "zed", "x.jpg", 0, 0);
    t.f.hash_hex = "not-a-hash";
    T_CHECK(fn_gallery_add(g, &t.f, &r, NULL) == FN_ERR_ARG, "bad hash accepted");
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    T_CHECK(fn_gallery_add(g, face(&t, longname, "x.jpg", 0, 0), &r, NULL) == FN_ERR_LIMIT, "long name accepted");
    T_CHECK(fn_gallery_add(g, face(&t, "tab\there", "x.jpg", 0, 0), &r, NULL) == FN_ERR_ARG, "control char accepted");
    T_CHECK(fn_gallery_count(g, &np, &ni) == FN_OK && np == 2 && ni == 2, "bad adds left rows: %lld %lld", (long long)np, (long long)ni);

    /* threshold and metadata */
    float th = 0;
    T_CHECK(fn_gallery_get_threshold(g, &th) == FN_ERR_NOT_FOUND, "threshold before set");
    T_CHECK(fn_gallery_set_threshold(g, NAN) == FN_ERR_ARG && fn_gallery_set_threshold(g, 2.5f) == FN_ERR_ARG, "bad thresholds accepted");
    T_CHECK(fn_gallery_set_threshold(g, 1.05f) == FN_OK, "set threshold: %s", fn_last_error());
    T_CHECK(fn_gallery_meta_set(g, "model_id", "x") == FN_ERR_ARG, "reserved meta key writable");
    T_CHECK(fn_gallery_meta_set(g, "calibrated_on", "lfw devtrain") == FN_OK, "meta set: %s", fn_last_error());
    T_CHECK(fn_gallery_check(g) == FN_OK, "check: %s", fn_last_error());
    fn_gallery_close(g);

    /* everything above is in the file */
    T_CHECK(fn_gallery_open(path, &MODEL, FN_GALLERY_CHECK, &g) == FN_OK, "reopen: %s", fn_last_error());
    char val[64];
    T_CHECK(fn_gallery_get_threshold(g, &th) == FN_OK && th == 1.05f, "threshold after reopen %g", th);
    T_CHECK(fn_gallery_meta_get(g, "calibrated_on", val, sizeof val) == FN_OK && !strcmp(val, "lfw devtrain"), "meta '%s'", val);
    T_CHECK(fn_gallery_meta_get(g, "model_id", val, 4) == FN_ERR_LIMIT, "small buffer not reported");
    T_CHECK(fn_gallery_count(g, &np, &ni) == FN_OK && np == 2 && ni == 2, "reopen count %lld %lld", (long long)np, (long long)ni);
    m = search1(g, 2);
    T_CHECK(!strcmp(m.best_name, "robert") && !strcmp(m.second_name, "carol"), "reopen search '%s' '%s'", m.best_name, m.second_name);
    fn_gallery_close(g);

    /* read-only: searches, refuses writes */
    T_CHECK(fn_gallery_open(path, NULL, FN_GALLERY_READONLY, &g) == FN_OK, "read-only open: %s", fn_last_error());
    T_CHECK(fn_gallery_add(g, face(&t, "zed", "z.jpg", 1, 0), &r, NULL) == FN_ERR_ARG && strstr(fn_last_error(), "read-only"), "read-only add: %s", fn_last_error());
    T_CHECK(fn_gallery_model_of(g).dim == DIM && !strcmp(fn_gallery_model_of(g).model_id, MODEL.model_id), "model_of");
    m = search1(g, 4);
    T_CHECK(!strcmp(m.best_name, "carol"), "read-only search '%s'", m.best_name);
    fn_gallery_close(g);
    printf("enrol cycle: add/skip/list/rename/remove/threshold/meta/reopen/read-only ok\n");
}

static void test_transactions(void)
{
    const char *path = tpath("tx.db");
    fn_gallery *g, *other;
    tface t;
    int64_t np, ni;
    fn_gallery_open(path, &MODEL, FN_GALLERY_CREATE, &g);
    fn_gallery_add(g, face(&t, "p0", "t0", 0, 0), NULL, NULL);

    T_CHECK(fn_gallery_begin(g) == FN_OK, "begin: %s", fn_last_error());
    T_CHECK(fn_gallery_begin(g) == FN_ERR_ARG, "nested begin accepted");
    for (int i = 1; i <= 3; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "t%d", i);
        fn_gallery_add(g, face(&t, "p1", tag, 1, 0.01f * i), NULL, NULL);
    }
    fn_gallery_remove_person(g, "p0", NULL);
    fn_gallery_match m = search1(g, 1);
    T_CHECK(!strcmp(m.best_name, "p1"), "inside the batch, search sees it ('%s')", m.best_name);
    T_CHECK(fn_gallery_rollback(g) == FN_OK, "rollback: %s", fn_last_error());
    fn_gallery_count(g, &np, &ni);
    m = search1(g, 1);
    T_CHECK(np == 1 && ni == 1 && !strcmp(m.best_name, "p0") && m.second.person_id == -1,
            "after rollback: %lld people %lld images, best '%s'", (long long)np, (long long)ni, m.best_name);

    /* a bad face mid-batch fails alone; the batch goes on and commits */
    fn_gallery_begin(g);
    fn_gallery_add(g, face(&t, "p2", "u1", 2, 0), NULL, NULL);
    face(&t, "p2", "u2", 2, 0);
    t.emb[0] = INFINITY;
    T_CHECK(fn_gallery_add(g, &t.f, NULL, NULL) == FN_ERR_ARG, "bad face accepted");
    fn_gallery_add(g, face(&t, "p2", "u3", 2, 0.1f), NULL, NULL);
    /* another connection does not see the open batch */
    fn_gallery_open(path, &MODEL, 0, &other);
    fn_gallery_count(other, &np, &ni);
    T_CHECK(ni == 1, "uncommitted rows visible to another connection: %lld", (long long)ni);
    T_CHECK(fn_gallery_commit(g) == FN_OK, "commit: %s", fn_last_error());
    int reloaded = 0;
    T_CHECK(fn_gallery_refresh(other, &reloaded) == FN_OK && reloaded, "refresh did not notice the commit");
    m = search1(other, 2);
    T_CHECK(!strcmp(m.best_name, "p2"), "other connection after refresh: '%s'", m.best_name);
    T_CHECK(fn_gallery_refresh(other, &reloaded) == FN_OK && !reloaded, "refresh reloaded with no change");
    fn_gallery_count(g, &np, &ni);
    T_CHECK(np == 2 && ni == 3, "after commit %lld people %lld images", (long long)np, (long long)ni);
    /* closing with an open batch drops it */
    fn_gallery_begin(g);
    fn_gallery_add(g, face(&t, "p3", "v1", 3, 0), NULL, NULL);
    fn_gallery_close(g);
    fn_gallery_count(other, &np, &ni);
    T_CHECK(ni == 3, "unfinished batch kept after close: %lld images", (long long)ni);
    fn_gallery_close(other);
    printf("transactions: rollback restores memory and file, bad face mid-batch isolated, refresh sees other writers\n");
}

static void test_model_mismatch(void)
{
    const char *path = tpath("g.db");   /* made by test_enrol_cycle */
    fn_gallery *g = NULL;
    fn_gallery_model other = {"arcface-512@sha256:def", 512, MODEL.preprocess_id};
    fn_status st = fn_gallery_open(path, &other, FN_GALLERY_CREATE, &g);
    char want[700];
    snprintf(want, sizeof want, "%s was built with model %s (dim %d); this run uses model %s (dim %d)", path,
             MODEL.model_id, DIM, other.model_id, 512);
    T_CHECK(st == FN_ERR_MISMATCH && g == NULL && !strcmp(fn_last_error(), want), "mismatch: %d\n  got  '%s'\n  want '%s'",
            st, fn_last_error(), want);
    fn_gallery_model same_dim = {"other-net", DIM, NULL};
    T_CHECK(fn_gallery_open(path, &same_dim, 0, &g) == FN_ERR_MISMATCH, "same dim, other model accepted");
    fn_gallery_model prep = {MODEL.model_id, DIM, "bgr-0/255"};
    st = fn_gallery_open(path, &prep, 0, &g);
    T_CHECK(st == FN_ERR_MISMATCH && strstr(fn_last_error(), "preprocessing 'rgb-127.5/128'") && strstr(fn_last_error(), "'bgr-0/255'"),
            "preprocess mismatch: %s", fn_last_error());
    fn_gallery_model any = {NULL, 0, NULL};
    T_CHECK(fn_gallery_open(path, &any, 0, &g) == FN_OK, "open for inspection: %s", fn_last_error());
    fn_gallery_close(g);
    printf("model mismatch: '%s'\n", want);
}

/* ---- files that are not galleries ---- */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static void copy_file(const char *from, const char *to, long keep)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[8192];
    size_t n;
    long done = 0;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0 && (keep < 0 || done < keep)) {
        if (keep >= 0 && done + (long)n > keep) n = keep - done;
        fwrite(buf, 1, n, b);
        done += n;
    }
    fclose(a);
    fclose(b);
}

static long file_size(const char *p) { struct stat sb; return stat(p, &sb) ? -1 : (long)sb.st_size; }

/* Opening must fail with FN_ERR_DB naming the file, and leave it byte-for-byte as it was. */
static void expect_refused(const char *path, int flags, const char *expect, const char *label)
{
    char before[65], after[65];
    long size = file_size(path);
    file_hash(path, before);
    fn_gallery *g = NULL;
    fn_status st = fn_gallery_open(path, &MODEL, flags, &g);
    T_CHECK(st == FN_ERR_DB && g == NULL && strstr(fn_last_error(), path) && strstr(fn_last_error(), expect),
            "%s: status %d (%s), '%s'", label, st, fn_status_name(st), fn_last_error());
    printf("%s: %s\n", label, fn_last_error());
    if (g) fn_gallery_close(g);
    file_hash(path, after);
    T_CHECK(strcmp(before, after) == 0 && size == file_size(path), "%s: the file was modified", label);
}

static void test_corrupt_files(void)
{
    unsigned char junk[4096];
    uint64_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) { x = x * 6364136223846793005ull + 1442695040888963407ull; junk[i] = x >> 56; }
    const char *p = tpath("garbage.db");
    write_file(p, junk, sizeof junk);
    expect_refused(p, FN_GALLERY_CREATE, "not a facenet gallery (file is not a database)", "garbage bytes");

    p = tpath("notes.db");
    const char *text = "alice,0.1,0.2\nbob,0.3,0.4\n";
    write_file(p, text, strlen(text));
    expect_refused(p, FN_GALLERY_CREATE, "not a facenet gallery (file is not a database)", "text file");

    /* SQLite's magic followed by garbage */
    p = tpath("fake.db");
    memcpy(junk, "SQLite format 3", 16);
    write_file(p, junk, sizeof junk);
    expect_refused(p, 0, "", "sqlite magic + garbage");

    /* a real SQLite database of some other program */
    p = tpath("other_app.db");
    sqlite3 *db;
    sqlite3_open(p, &db);
    sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", NULL, NULL, NULL);
    sqlite3_close(db);
    expect_refused(p, FN_GALLERY_CREATE, "another program", "other program's database");

    /* a gallery cut short: big enough that its tables span many pages */
    const char *full = tpath("full.db");
    fn_gallery *g;
    fn_gallery_model big = {"big", 256, NULL};
    fn_gallery_open(full, &big, FN_GALLERY_CREATE, &g);
    float e[256];
    fn_gallery_begin(g);
    for (int i = 0; i < 400; i++) {
        char tag[32], hash[65], name[32];
        snprintf(tag, sizeof tag, "img%d", i);
        snprintf(name, sizeof name, "person%d", i / 4);
        fn_sha256_hex(tag, strlen(tag), hash);
        for (int j = 0; j < 256; j++) e[j] = (float)((i * 31 + j * 7) % 17) - 8.0f;
        fn_gallery_face f = {name, tag, hash, {0, 0, 1, 1}, 0.9f, e};
        fn_gallery_add(g, &f, NULL, NULL);
    }
    fn_gallery_commit(g);
    fn_gallery_close(g);
    long full_size = file_size(full);
    for (int cut = 0; cut < 3; cut++) {
        static const double keep[] = {0.75, 0.4, 0.05};
        char name[32], label[64];
        snprintf(name, sizeof name, "truncated%d.db", cut);
        snprintf(label, sizeof label, "truncated to %.0f%% of %ld bytes", keep[cut] * 100, full_size);
        p = tpath(name);
        copy_file(full, p, (long)(full_size * keep[cut]));
        fn_gallery_model any = {NULL, 0, NULL};
        char before[65], after[65];
        file_hash(p, before);
        /* without the full check, the damage shows at open or in fn_gallery_check */
        fn_status st = fn_gallery_open(p, &any, 0, &g);
        if (st == FN_OK) {
            st = fn_gallery_check(g);
            fn_gallery_close(g);
        }
        T_CHECK(st == FN_ERR_DB, "%s: unchecked open + check gave %d '%s'", label, st, fn_last_error());
        st = fn_gallery_open(p, &any, FN_GALLERY_CHECK, &g);
        T_CHECK(st == FN_ERR_DB && strstr(fn_last_error(), p), "%s: status %d '%s'", label, st, fn_last_error());
        printf("%s: %s\n", label, fn_last_error());
        if (st == FN_OK) fn_gallery_close(g);
        file_hash(p, after);
        T_CHECK(!strcmp(before, after), "%s: the file was modified", label);
    }
    /* a directory is not a gallery either */
    expect_refused(t_tmpdir(), 0, "not a regular file", "directory");
}

/* ---- kill -9 during enrolment ---- */

/* The child enrols in a loop, one commit per image, in batches of 3 every
 * fourth time, and tells the parent each image id after its commit. */
static void enrol_forever(const char *path, int fd)
{
    fn_gallery *g;
    if (fn_gallery_open(path, &MODEL, FN_GALLERY_CREATE, &g) != FN_OK) _exit(3);
    tface t;
    for (int i = 0; i < 1000000; i++) {
        char tag[32], name[32];
        snprintf(tag, sizeof tag, "k%d", i);
        snprintf(name, sizeof name, "kperson%d", i % 50);
        int batch = i % 4 == 3;
        if (batch && fn_gallery_begin(g) != FN_OK) _exit(4);
        int64_t ids[3];
        for (int j = 0; j < (batch ? 3 : 1); j++) {
            snprintf(tag, sizeof tag, "k%d.%d", i, j);
            if (fn_gallery_add(g, face(&t, name, tag, i % DIM, 0.001f * (i % 100)), NULL, &ids[j]) != FN_OK) _exit(5);
        }
        if (batch && fn_gallery_commit(g) != FN_OK) _exit(6);
        for (int j = 0; j < (batch ? 3 : 1); j++)
            if (write(fd, &ids[j], sizeof ids[j]) != (ssize_t)sizeof ids[j]) _exit(7);
    }
    _exit(0);
}

static void test_kill9(void)
{
    const char *path = tpath("kill9.db");
    int fds[2];
    T_CHECK(pipe(fds) == 0, "pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        enrol_forever(path, fds[1]);
    }
    close(fds[1]);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child was not killed (status %d)", status);
    /* every id the child reported had been committed */
    static int64_t ids[200000];
    long n = 0;
    ssize_t got;
    while (n < 200000 && (got = read(fds[0], &ids[n], sizeof ids[n])) == (ssize_t)sizeof ids[n]) n++;
    close(fds[0]);

    fn_gallery *g;
    fn_status st = fn_gallery_open(path, &MODEL, FN_GALLERY_CHECK, &g);
    T_CHECK(st == FN_OK, "reopen after kill -9: %s", fn_last_error());
    if (st != FN_OK) return;
    sqlite3 *db;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *q;
    int64_t images = 0, embeddings = 0, orphans = 0, missing = 0;
    sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM embeddings),"
                           " (SELECT count(*) FROM embeddings e LEFT JOIN images i ON i.id = e.image_id"
                           "   LEFT JOIN people p ON p.id = i.person_id WHERE p.id IS NULL)", -1, &q, NULL);
    if (sqlite3_step(q) == SQLITE_ROW) {
        images = sqlite3_column_int64(q, 0);
        embeddings = sqlite3_column_int64(q, 1);
        orphans = sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    sqlite3_prepare_v2(db, "SELECT count(*) FROM embeddings WHERE image_id = ?1", -1, &q, NULL);
    for (long i = 0; i < n; i++) {
        sqlite3_bind_int64(q, 1, ids[i]);
        if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int64(q, 0) != 1) missing++;
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    /* batches of 3 are all or nothing: images = singles + 3 * batches, never a partial batch */
    T_CHECK(images >= n && images == embeddings && orphans == 0 && missing == 0,
            "after kill -9: %lld images, %lld embeddings, %lld orphans, %lld of %ld reported ids missing",
            (long long)images, (long long)embeddings, (long long)orphans, (long long)missing, n);
    T_CHECK(images > 0, "the child committed nothing in 300 ms");
    /* per 4 rounds: 3 single images, then a batch of 3; a cut batch would leave 4 or 5 mod 6 */
    T_CHECK(images % 6 <= 3, "%lld images: a batch of 3 was partly committed", (long long)images);
    int64_t np, ni;
    fn_gallery_count(g, &np, &ni);
    fn_gallery_match m = search1(g, 0);
    T_CHECK(ni == images && m.best.person_id > 0, "gallery after kill: %lld images, search best %lld", (long long)ni,
            (long long)m.best.person_id);
    fn_gallery_close(g);
    printf("kill -9 after 300 ms: %lld images committed (%ld reported before the kill), integrity ok, no orphans\n",
           (long long)images, n);
}

/* A gallery in a folder the reader cannot write (a read-only share, another
 * user's folder): READONLY reads it — SQLite cannot make the -shm index
 * there, and said 'attempt to write a readonly database' — and leaves no
 * file.  With a -wal file holding changes the main file lacks (a writer
 * killed), it reads them too or refuses with a sentence naming the -wal;
 * never the stale main file alone.  Run as root, the reading is done by a
 * child that drops to nobody (root writes anywhere). */
static int readonly_child(const char *path, int want_people, int may_refuse)
{
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 10;
    fn_gallery *g = NULL;
    fn_status s = fn_gallery_open(path, &MODEL, FN_GALLERY_READONLY, &g);
    if (may_refuse && s == FN_ERR_IO && strstr(fn_last_error(), "-wal")) return 0;
    int64_t people = -1;
    if (s != FN_OK || fn_gallery_count(g, &people, NULL) != FN_OK) {
        fprintf(stderr, "read-only folder: %s\n", fn_last_error());
        fn_gallery_close(g);
        return 12;
    }
    fn_gallery_scratch *sc = NULL;
    fn_gallery_match m;
    float q[DIM] = {1};
    int ok = fn_gallery_scratch_new(g, 1, &sc) == FN_OK && fn_gallery_search(g, sc, q, 1, 0, &m, NULL) == FN_OK &&
             !strcmp(m.best_name, "alice");
    fn_gallery_scratch_free(sc);
    fn_gallery_close(g);
    if (people != want_people) fprintf(stderr, "read-only folder: %lld people, want %d\n", (long long)people, want_people);
    return people == want_people && ok ? 0 : 13;
}

static int run_readonly_child(const char *path, int want_people, int may_refuse)
{
    pid_t pid = fork();
    if (pid == 0) _exit(readonly_child(path, want_people, may_refuse));
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_readonly_folder(void)
{
    if (geteuid() == 0) chmod(t_tmpdir(), 0755);   /* the child reads as nobody */
    char dir[600], path[700], shm[720], src[700], cmd[3200];
    snprintf(dir, sizeof dir, "%s/rofolder", t_tmpdir());
    snprintf(path, sizeof path, "%s/g.db", dir);
    snprintf(shm, sizeof shm, "%s-shm", path);
    snprintf(src, sizeof src, "%s/rosource.db", t_tmpdir());
    mkdir(dir, 0777);
    fn_gallery *g = NULL;
    tface t;
    T_CHECK(fn_gallery_open(src, &MODEL, FN_GALLERY_CREATE, &g) == FN_OK &&
                fn_gallery_add(g, face(&t, "alice", "ro-a.jpg", 0, 0.1f), NULL, NULL) == FN_OK &&
                fn_gallery_add(g, face(&t, "bob", "ro-b.jpg", 2, 0.1f), NULL, NULL) == FN_OK,
            "make the gallery: %s", fn_last_error());
    fn_gallery_close(g);   /* closed cleanly: everything in the main file */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, path);
    T_CHECK(system(cmd) == 0, "%s", cmd);
    chmod(path, 0444);
    chmod(dir, 0555);
    int rc = run_readonly_child(path, 2, 0);
    T_CHECK(rc == 0, "read a gallery in a read-only folder: child exit %d", rc);
    T_CHECK(access(shm, F_OK) != 0, "the reader left %s", shm);
    /* a writer's open handle: its last enrolment is in the -wal only; the folder gets that pair of files */
    chmod(dir, 0777);
    unlink(path);
    T_CHECK(fn_gallery_open(src, &MODEL, 0, &g) == FN_OK &&
                fn_gallery_add(g, face(&t, "carol", "ro-c.jpg", 4, 0.1f), NULL, NULL) == FN_OK,
            "enrol carol: %s", fn_last_error());
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s-wal' '%s-wal'", src, path, src, path);
    T_CHECK(system(cmd) == 0, "%s", cmd);
    fn_gallery_close(g);
    chmod(dir, 0555);
    rc = run_readonly_child(path, 3, 1);
    T_CHECK(rc == 0, "a read-only folder with a -wal holding an enrolment: neither read with it nor refused naming "
            "the -wal (child exit %d)", rc);
    chmod(dir, 0777);
}

int main(void)
{
    test_sha256();
    test_enrol_cycle();
    test_transactions();
    test_model_mismatch();
    test_corrupt_files();
    test_kill9();
    test_readonly_folder();
    return T_DONE();
}
