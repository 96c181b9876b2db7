/* Every value the gallery reads from its file is checked (issue 9, case 19):
 * real galleries altered with SQL the way hand edits, older versions and
 * mutation fuzzing leave them (NULL name, wrong blob size, text in a number
 * column, NaN threshold, dangling references, missing tables, another
 * program's file) are refused with a sentence naming the table and row, and
 * the file's bytes are the same afterwards, whether opened read-only or for
 * writing.  Plus ../shared/cases/19/g.db when present. */
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
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

static void add_face(fn_gallery *g, const char *person, const char *tag, int axis)
{
    char hash[65];
    float emb[DIM] = {0};
    fn_sha256_hex(tag, strlen(tag), hash);
    emb[axis % DIM] = 1;
    emb[(axis + 1) % DIM] = 0.25f;
    fn_gallery_face f = {person, tag, hash, {10, 20, 110, 140}, 0.99f, emb};
    T_CHECK(fn_gallery_add(g, &f, NULL, NULL) == FN_OK, "add %s: %s", tag, fn_last_error());
}

/* A sound gallery: 3 people, 5 images (ids 1..5), a calibrated threshold. */
static void make_base(const char *path)
{
    fn_gallery *g = NULL;
    unlink(path);
    T_CHECK(fn_gallery_open(path, &MODEL, FN_GALLERY_CREATE, &g) == FN_OK, "create: %s", fn_last_error());
    if (!g) return;
    add_face(g, "Ann", "a1", 0);
    add_face(g, "Ann", "a2", 1);
    add_face(g, "Bob", "b1", 3);
    add_face(g, "Bob", "b2", 4);
    add_face(g, "Cy", "c1", 6);
    T_CHECK(fn_gallery_set_threshold(g, 1.1f) == FN_OK, "threshold: %s", fn_last_error());
    fn_gallery_close(g);
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b && fclose(b) != 0) ok = 0;
    return ok;
}

static int alter(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fprintf(stderr, "alter: %s\n", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

static void file_sha(const char *path, char out[65])
{
    if (fn_hash_file(path, out) != FN_OK) out[0] = '\0';
}

/* Opens path read-only and for writing: both refused with every needle in
 * the sentence, and the file's bytes unchanged. */
static void expect_refused(const char *label, const char *path, const char *const *needles)
{
    char before[65], after[65];
    file_sha(path, before);
    for (int ro = 1; ro >= 0; ro--) {
        fn_gallery *g = NULL;
        fn_status s = fn_gallery_open(path, NULL, ro ? FN_GALLERY_READONLY : 0, &g);
        const char *e = fn_last_error();
        T_CHECK(s != FN_OK && !g, "%s (%s): opened", label, ro ? "read-only" : "read-write");
        T_CHECK(strstr(e, path) != NULL, "%s: sentence does not name the file: %s", label, e);
        for (int k = 0; needles[k]; k++)
            T_CHECK(strstr(e, needles[k]) != NULL, "%s: sentence lacks '%s': %s", label, needles[k], e);
        if (ro) printf("%-34s %s\n", label, e + strlen(path) + 2);
        fn_gallery_close(g);
    }
    file_sha(path, after);
    T_CHECK(before[0] && strcmp(before, after) == 0, "%s: the file changed (%s -> %s)", label, before, after);
}

/* people re-created without NOT NULL, as in case 19 */
#define LOOSE_PEOPLE "PRAGMA foreign_keys=OFF; CREATE TABLE p2(id INTEGER PRIMARY KEY, name);" \
    "INSERT INTO p2 SELECT * FROM people; DROP TABLE people; ALTER TABLE p2 RENAME TO people;"
/* images re-created without NOT NULL / types */
#define LOOSE_IMAGES "PRAGMA foreign_keys=OFF; CREATE TABLE i2(id INTEGER PRIMARY KEY, person_id, path, sha256," \
    " x1, y1, x2, y2, prob, added_at); INSERT INTO i2 SELECT * FROM images; DROP TABLE images;" \
    " ALTER TABLE i2 RENAME TO images;"

typedef struct mutation { const char *label, *sql, *needles[4]; } mutation;

static const mutation MUTATIONS[] = {
    {"NULL name", LOOSE_PEOPLE "INSERT INTO people(id, name) VALUES(9, NULL);",
     {"table people, row 9", "name is NULL", "refused"}},
    {"name is a number", LOOSE_PEOPLE "UPDATE people SET name = 42 WHERE id = 2;",
     {"table people, row 2", "name is an integer"}},
    {"name not UTF-8", "UPDATE people SET name = CAST(X'4A6FE9' AS TEXT) WHERE id = 1;",
     {"table people, row 1", "not valid UTF-8", "offset 2"}},
    {"name only spaces", "UPDATE people SET name = '   ' WHERE id = 3;", {"table people, row 3", "white space"}},
    {"embedding blob too short", "UPDATE embeddings SET vec = zeroblob(12) WHERE image_id = 2;",
     {"table embeddings, row 2", "12 bytes, expected 32"}},
    {"embedding is text", "UPDATE embeddings SET vec = 'abcdefghabcdefghabcdefghabcdefgh' WHERE image_id = 4;",
     {"table embeddings, row 4", "vec is text"}},
    {"embedding all zero", "UPDATE embeddings SET vec = zeroblob(32) WHERE image_id = 5;",
     {"table embeddings, row 5", "zero or has a value"}},
    {"embedding NaN", "UPDATE embeddings SET vec = X'0000C07F00000000000000000000000000000000000000000000000000000000' WHERE image_id = 1;",
     {"table embeddings, row 1", "not a finite number"}},
    {"text in a float column", "UPDATE images SET x1 = 'left' WHERE id = 3;",
     {"table images, row 3", "x1 is text, not a number"}},
    {"NULL box", LOOSE_IMAGES "UPDATE images SET y2 = NULL WHERE id = 2;", {"table images, row 2", "y2 is NULL"}},
    {"infinite box", "UPDATE images SET x2 = 1e999 WHERE id = 2;", {"table images, row 2", "x2 = inf"}},
    {"box inside out", "UPDATE images SET x1 = 500 WHERE id = 1;", {"table images, row 1", "x1 > x2"}},
    {"prob above 1", "UPDATE images SET prob = 3.5 WHERE id = 4;", {"table images, row 4", "prob = 3.5"}},
    {"bad sha256", "UPDATE images SET sha256 = 'XYZ' WHERE id = 5;", {"table images, row 5", "sha256 'XYZ'"}},
    {"NULL person_id", LOOSE_IMAGES "UPDATE images SET person_id = NULL WHERE id = 3;",
     {"table images, row 3", "person_id is NULL"}},
    {"dangling person", "PRAGMA foreign_keys=OFF; UPDATE images SET person_id = 77 WHERE id = 4;",
     {"table images, row 4", "person_id 77 names no person"}},
    {"image without embedding", "DELETE FROM embeddings WHERE image_id = 3;",
     {"table images, row 3", "no embedding"}},
    {"NaN threshold", "UPDATE meta SET value = 'nan' WHERE key = 'threshold';",
     {"key 'threshold'", "'nan' is not a distance threshold in (0, 2]"}},
    {"threshold 60", "UPDATE meta SET value = '60' WHERE key = 'threshold';", {"key 'threshold'", "'60'"}},
    {"threshold -0", "UPDATE meta SET value = '-0' WHERE key = 'threshold';", {"key 'threshold'", "'-0'"}},
    {"dim not a number", "UPDATE meta SET value = '8x' WHERE key = 'dim';", {"key 'dim'", "'8x'"}},
    {"model id a blob", "UPDATE meta SET value = X'00FF' WHERE key = 'model_id';",
     {"key 'model_id'", "is a blob, not text"}},
    {"missing table", "PRAGMA foreign_keys=OFF; DROP TABLE embeddings;", {"no table 'embeddings'"}},
    {"missing column", "PRAGMA foreign_keys=OFF; ALTER TABLE images DROP COLUMN prob;",
     {"table images has no column 'prob'"}},
    {"another program's file", "PRAGMA application_id = 0;", {"another program"}},
};

static void test_mutations(void)
{
    char base[512];
    snprintf(base, sizeof base, "%s", tpath("base.db"));
    make_base(base);
    for (size_t i = 0; i < sizeof MUTATIONS / sizeof *MUTATIONS; i++) {
        char name[64];
        snprintf(name, sizeof name, "m%02zu.db", i);
        const char *p = tpath(name);
        if (!copy_file(base, p) || !alter(p, MUTATIONS[i].sql)) {
            T_CHECK(0, "%s: could not build the altered gallery", MUTATIONS[i].label);
            continue;
        }
        expect_refused(MUTATIONS[i].label, p, MUTATIONS[i].needles);
    }
    /* the untouched copy still opens, checks and lists */
    fn_gallery *g = NULL;
    T_CHECK(fn_gallery_open(base, NULL, FN_GALLERY_READONLY | FN_GALLERY_CHECK, &g) == FN_OK, "base: %s", fn_last_error());
    fn_gallery_close(g);
}

/* Values are also checked when read after the handle was opened (another
 * process edits the file): listing and the full check refuse, naming the row. */
static int count_images(void *ctx, const fn_gallery_image *im) { (void)im; ++*(int *)ctx; return 0; }

static void test_changed_after_open(void)
{
    const char *p = tpath("later.db");
    make_base(p);
    fn_gallery *g = NULL;
    T_CHECK(fn_gallery_open(p, NULL, 0, &g) == FN_OK, "open: %s", fn_last_error());
    if (!g) return;
    int n = 0;
    T_CHECK(fn_gallery_list_images(g, NULL, count_images, &n) == FN_OK && n == 5, "5 images listed, got %d", n);
    T_CHECK(alter(p, "UPDATE images SET prob = -1 WHERE id = 5;"), "alter");
    n = 0;
    fn_status s = fn_gallery_list_images(g, NULL, count_images, &n);
    T_CHECK(s == FN_ERR_DB && strstr(fn_last_error(), "table images, row 5: prob = -1"), "list after edit: %d %s", s,
            fn_last_error());
    s = fn_gallery_check(g);
    T_CHECK(s == FN_ERR_DB && strstr(fn_last_error(), "table images, row 5"), "check after edit: %s", fn_last_error());
    fn_gallery_close(g);
    printf("edited after open: listing and check refuse, naming table images, row 5\n");
}

/* An embedding whose image is gone is never read by opening or searching
 * (finding it costs a second pass over every embedding page): the gallery
 * opens, and the full check names the row. */
static void test_orphan_embedding(void)
{
    const char *p = tpath("orphan.db");
    make_base(p);
    T_CHECK(alter(p, "PRAGMA foreign_keys=OFF; DELETE FROM images WHERE id = 2;"), "alter");
    char before[65], after[65];
    file_sha(p, before);
    fn_gallery *g = NULL;
    T_CHECK(fn_gallery_open(p, NULL, FN_GALLERY_READONLY, &g) == FN_OK, "orphan open: %s", fn_last_error());
    fn_status s = g ? fn_gallery_check(g) : FN_ERR_DB;
    T_CHECK(s == FN_ERR_DB && strstr(fn_last_error(), "table embeddings, row 2: image_id 2 names no image"),
            "orphan check: %s", fn_last_error());
    printf("%-34s %s\n", "dangling image (check)", fn_last_error() + strlen(p) + 2);
    fn_gallery_close(g);
    T_CHECK(fn_gallery_open(p, NULL, FN_GALLERY_CHECK, &g) == FN_ERR_DB && !g, "open with FN_GALLERY_CHECK refuses");
    file_sha(p, after);
    T_CHECK(strcmp(before, after) == 0, "orphan: the file changed");
}

/* ../shared/cases/19: people re-created without NOT NULL, a NULL name. */
static void test_case19(void)
{
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    char src[512];
    snprintf(src, sizeof src, "%s/cases/19/g.db", shared);
    struct stat sb;
    if (stat(src, &sb) != 0) { printf("case 19: %s absent, skipped\n", src); return; }
    const char *p = tpath("case19.db");
    T_CHECK(copy_file(src, p), "copy case 19");
    const char *needles[] = {"table people, row 1", "name is NULL", NULL};
    expect_refused("case 19", p, needles);
}

int main(void)
{
    test_mutations();
    test_changed_after_open();
    test_orphan_embedding();
    test_case19();
    return T_DONE();
}
