/* Opening a gallery: refuse anything that is not ours before SQLite may write
 * to it, create the schema, check the model, load the search index.
 *
 * Settings: WAL journal (readers never block the enrolling writer);
 * synchronous=FULL, because an enrolment is one commit per image behind tens
 * of milliseconds of detection and embedding, so an fsync per commit is
 * cheap, and a committed image then survives power loss, not only a crash
 * (NORMAL in WAL mode may drop the last commits on power loss); foreign keys
 * on (removing a person cascades to images and embeddings); a busy timeout so
 * a second process waits for the writer instead of failing at once. */
#include "gallery/gallery_impl.h"
#include "core/error.h"
#include "gallery/sqlite_ro.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

static const char *SCHEMA =
    "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE people(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE images(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL, sha256 TEXT NOT NULL,"
    " x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL, prob REAL NOT NULL,"
    " added_at INTEGER NOT NULL, UNIQUE(person_id, sha256));"
    /* little-endian float32 x dim, L2-normalised */
    "CREATE TABLE embeddings(image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
    " vec BLOB NOT NULL);"
    FN_GALLERY_HASH_INDEX ";";

/* ---- SQL helpers ---- */

fn_status fn_gdb_fail(fn_gallery *g, const char *what)
{
    int code = g->db ? sqlite3_errcode(g->db) : SQLITE_ERROR;
    if (code == SQLITE_NOTADB)
        return fn_fail(FN_ERR_DB, "%s: not a facenet gallery (file is not a database)", g->path);
    if (code == SQLITE_CORRUPT)
        return fn_fail(FN_ERR_DB, "%s: the gallery file is corrupt while %s (%s); restore it from a backup",
                       g->path, what, sqlite3_errmsg(g->db));
    return fn_fail(FN_ERR_DB, "%s: %s failed (%s)", g->path, what, g->db ? sqlite3_errmsg(g->db) : "no connection");
}

fn_status fn_gdb_exec(fn_gallery *g, const char *sql)
{
    if (sqlite3_exec(g->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        char what[96];
        snprintf(what, sizeof what, "running \"%.60s\"", sql);
        return fn_gdb_fail(g, what);
    }
    return FN_OK;
}

fn_status fn_gdb_prepare(fn_gallery *g, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(g->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        char what[96];
        snprintf(what, sizeof what, "preparing \"%.60s\"", sql);
        return fn_gdb_fail(g, what);
    }
    return FN_OK;
}

fn_status fn_gdb_cached(fn_gallery *g, int slot, const char *sql, sqlite3_stmt **st)
{
    if (!g->stmt[slot] &&
        sqlite3_prepare_v3(g->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &g->stmt[slot], NULL) != SQLITE_OK) {
        g->stmt[slot] = NULL;
        *st = NULL;
        char what[96];
        snprintf(what, sizeof what, "preparing \"%.60s\"", sql);
        return fn_gdb_fail(g, what);
    }
    *st = g->stmt[slot];
    return FN_OK;
}

void fn_gdb_release(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

fn_status fn_gdb_int(fn_gallery *g, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, sql, &st));
    int rc = sqlite3_step(st);
    fn_status s = FN_OK;
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE) s = fn_fail(FN_ERR_NOT_FOUND, "%s: no result for \"%.60s\"", g->path, sql);
    else s = fn_gdb_fail(g, "reading");
    sqlite3_finalize(st);
    return s;
}

fn_status fn_gdb_meta(fn_gallery *g, const char *key, char **value_out)
{
    sqlite3_stmt *st;
    *value_out = NULL;
    FN_TRY(fn_gdb_prepare(g, "SELECT value FROM meta WHERE key = ?1", &st));
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    fn_status s = FN_OK;
    if (rc == SQLITE_ROW) {
        int type = sqlite3_column_type(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (type != SQLITE_TEXT && type != SQLITE_INTEGER && type != SQLITE_FLOAT)
            s = fn_fail(FN_ERR_DB, "%s: table meta, key '%s': the value is %s, not text; the gallery was edited "
                        "outside facenet or is damaged (repair the row with sqlite3 or restore a backup)",
                        g->path, key, fn_gdb_type_name(type));
        else if (!(*value_out = strdup(v ? v : "")))
            s = fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
    } else if (rc == SQLITE_DONE) {
        s = fn_fail(FN_ERR_NOT_FOUND, "%s: no '%s' in the gallery's metadata", g->path, key);
    } else {
        s = fn_gdb_fail(g, "reading metadata");
    }
    sqlite3_finalize(st);
    return s;
}

const char *fn_gdb_type_name(int t)
{
    switch (t) {
    case SQLITE_INTEGER: return "an integer";
    case SQLITE_FLOAT: return "a real number";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "a blob";
    default: return "NULL";
    }
}

fn_status fn_gbad_row(fn_gallery *g, const char *table, int64_t row, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fn_fail(FN_ERR_DB, "%s: table %s, row %lld: %s; the gallery was edited outside facenet or is damaged, "
                   "and is refused as it is (repair the row with sqlite3 or restore a backup)",
                   g->path, table, (long long)row, what);
}

static int is_number(int type) { return type == SQLITE_INTEGER || type == SQLITE_FLOAT; }

fn_status fn_gimage_row(fn_gallery *g, sqlite3_stmt *st, fn_gallery_image *im)
{
    static const char *const col[] = {"id", "person_id", "path", "sha256", "x1", "y1", "x2", "y2", "prob", "added_at"};
    int64_t row = sqlite3_column_int64(st, 0);
    memset(im, 0, sizeof *im);
    for (int c = 0; c < 10; c++) {
        int t = sqlite3_column_type(st, c);
        int ok = c <= 1 || c == 9 ? t == SQLITE_INTEGER : c <= 3 ? t == SQLITE_TEXT : is_number(t);
        if (!ok)
            return fn_gbad_row(g, "images", row, "%s is %s, not %s", col[c], fn_gdb_type_name(t),
                               c <= 1 || c == 9 ? "an integer" : c <= 3 ? "text" : "a number");
    }
    im->id = row;
    im->person_id = sqlite3_column_int64(st, 1);
    im->path = (const char *)sqlite3_column_text(st, 2);
    im->hash_hex = (const char *)sqlite3_column_text(st, 3);
    if (!im->path || !im->hash_hex) return fn_fail(FN_ERR_NOMEM, "%s: out of memory reading images", g->path);
    size_t hn = strlen(im->hash_hex);
    int hex = hn == 64;
    for (size_t i = 0; hex && i < hn; i++)
        hex = (im->hash_hex[i] >= '0' && im->hash_hex[i] <= '9') || (im->hash_hex[i] >= 'a' && im->hash_hex[i] <= 'f');
    if (!hex) return fn_gbad_row(g, "images", row, "sha256 '%.70s' is not 64 lower-case hex digits", im->hash_hex);
    for (int i = 0; i < 4; i++) {
        double v = sqlite3_column_double(st, 4 + i);
        if (!isfinite(v) || fabs(v) > 1e7) return fn_gbad_row(g, "images", row, "%s = %g is not a pixel coordinate", col[4 + i], v);
        im->box[i] = (float)v;
    }
    if (im->box[0] > im->box[2] || im->box[1] > im->box[3])
        return fn_gbad_row(g, "images", row, "box [%g %g %g %g] has x1 > x2 or y1 > y2", im->box[0], im->box[1],
                           im->box[2], im->box[3]);
    double p = sqlite3_column_double(st, 8);
    if (!(p >= 0.0 && p <= 1.0)) return fn_gbad_row(g, "images", row, "prob = %g is not a probability in [0, 1]", p);
    im->prob = (float)p;
    im->added_unix = sqlite3_column_int64(st, 9);
    return FN_OK;
}

/* ---- before SQLite: is this file ours to open? ---- */

/* 1: missing or empty (a new gallery), 0: looks like SQLite, else an error. */
static fn_status probe_file(const char *path, int *is_new)
{
    struct stat sb;
    *is_new = 0;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) { *is_new = 1; return FN_OK; }
        return fn_fail(FN_ERR_IO, "%s: cannot access the gallery (%s)", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) return fn_fail(FN_ERR_DB, "%s: not a facenet gallery (not a regular file)", path);
    if (sb.st_size == 0) { *is_new = 1; return FN_OK; }
    unsigned char head[16] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return fn_fail(FN_ERR_IO, "%s: cannot open the gallery (%s)", path, strerror(errno));
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    /* SQLite would treat some non-databases as empty and write to them: check its magic ourselves. */
    if (got < sizeof head || sb.st_size < 512 || memcmp(head, "SQLite format 3", 16) != 0)
        return fn_fail(FN_ERR_DB, "%s: not a facenet gallery (file is not a database)", path);
    return FN_OK;
}

/* ---- schema ---- */

static fn_status put_meta(fn_gallery *g, const char *key, const char *value)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", &st));
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FN_OK : fn_gdb_fail(g, "writing metadata");
}

static fn_status create_schema(fn_gallery *g, const fn_gallery_model *m)
{
    char num[32], pragma[96];
    FN_TRY(fn_gdb_exec(g, "BEGIN IMMEDIATE"));
    int64_t app = 0;
    fn_status s = fn_gdb_int(g, "PRAGMA application_id", &app);
    if (s == FN_OK && app == FN_GALLERY_APP_ID) return fn_gdb_exec(g, "COMMIT");   /* another process won the race */
    if (s == FN_OK) s = fn_gdb_exec(g, SCHEMA);
    snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d; PRAGMA user_version = %d",
             FN_GALLERY_APP_ID, FN_GALLERY_SCHEMA);
    if (s == FN_OK) s = fn_gdb_exec(g, pragma);
    snprintf(num, sizeof num, "%d", FN_GALLERY_SCHEMA);
    if (s == FN_OK) s = put_meta(g, "schema_version", num);
    if (s == FN_OK) s = put_meta(g, "model_id", m->model_id);
    snprintf(num, sizeof num, "%d", m->dim);
    if (s == FN_OK) s = put_meta(g, "dim", num);
    if (s == FN_OK) s = put_meta(g, "preprocess_id", m->preprocess_id ? m->preprocess_id : "");
    if (s == FN_OK) s = fn_gdb_exec(g, "COMMIT");
    if (s != FN_OK) sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
    return s;
}

static fn_status check_ours(fn_gallery *g)
{
    int64_t app = 0;
    FN_TRY(fn_gdb_int(g, "PRAGMA application_id", &app));
    if (app != FN_GALLERY_APP_ID)
        return fn_fail(FN_ERR_DB, "%s: not a facenet gallery (a SQLite database of another program)", g->path);
    return FN_OK;
}

/* A whole decimal integer, or -1. */
static long strict_int(const char *v)
{
    char *end;
    if (!v || !*v || *v == '-' || *v == '+' || *v == ' ') return -1;
    long n = strtol(v, &end, 10);
    return *end || n < 0 ? -1 : n;
}

/* The tables and columns this version reads, so that an edited or foreign
 * file is refused with the missing piece named, not a SQL error. */
static fn_status check_tables(fn_gallery *g)
{
    static const char *const want[][11] = {
        {"meta", "key", "value"},
        {"people", "id", "name"},
        {"images", "id", "person_id", "path", "sha256", "x1", "y1", "x2", "y2", "prob", "added_at"},
        {"embeddings", "image_id", "vec"},
    };
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1),"
                             " (SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2)", &st));
    fn_status s = FN_OK;
    for (size_t t = 0; s == FN_OK && t < sizeof want / sizeof *want; t++)
        for (int c = 1; s == FN_OK && c < 11 && want[t][c]; c++) {
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, want[t][0], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, want[t][c], -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_ROW) { s = fn_gdb_fail(g, "reading the schema"); break; }
            if (!sqlite3_column_int64(st, 0))
                s = fn_fail(FN_ERR_DB, "%s: not a complete facenet gallery: it has no table '%s' (an edited or "
                            "damaged file); restore it from a backup", g->path, want[t][0]);
            else if (!sqlite3_column_int64(st, 1))
                s = fn_fail(FN_ERR_DB, "%s: table %s has no column '%s' (an edited or damaged file); restore it "
                            "from a backup", g->path, want[t][0], want[t][c]);
        }
    sqlite3_finalize(st);
    return s;
}

static fn_status read_identity(fn_gallery *g)
{
    char *ver = NULL, *dim = NULL;
    fn_status s = fn_gdb_meta(g, "schema_version", &ver);
    long v = s == FN_OK ? strict_int(ver) : 0;
    if (s == FN_OK && v != FN_GALLERY_SCHEMA)
        s = fn_fail(v > FN_GALLERY_SCHEMA ? FN_ERR_UNSUPPORTED : FN_ERR_DB,
                    "%s: gallery schema version '%.40s'; this facenet reads version %d", g->path, ver, FN_GALLERY_SCHEMA);
    if (s == FN_OK) s = fn_gdb_meta(g, "model_id", &g->model_id);
    if (s == FN_OK && !*g->model_id)
        s = fn_fail(FN_ERR_DB, "%s: table meta, key 'model_id': the value is empty; the gallery was edited outside "
                    "facenet or is damaged", g->path);
    if (s == FN_OK) s = fn_gdb_meta(g, "dim", &dim);
    if (s == FN_OK) s = fn_gdb_meta(g, "preprocess_id", &g->preprocess_id);
    if (s == FN_OK) {
        long d = strict_int(dim);
        g->dim = d > 0 && d <= 65536 ? (int)d : 0;
        if (!g->dim)
            s = fn_fail(FN_ERR_DB, "%s: table meta, key 'dim': '%.40s' is not an embedding dimension (1..65536)",
                        g->path, dim);
    }
    if (s == FN_ERR_NOT_FOUND) s = FN_ERR_DB;   /* the sentence already names the missing key */
    if (s == FN_OK) {
        /* identify would otherwise fall back to the model's default on a damaged value without a word */
        float t;
        s = fn_gthreshold_read(g, &t);
        if (s == FN_ERR_NOT_FOUND) s = FN_OK;
    }
    free(ver);
    free(dim);
    return s;
}

static fn_status check_model(fn_gallery *g, const fn_gallery_model *m)
{
    if (!m) return FN_OK;
    if ((m->model_id && strcmp(m->model_id, g->model_id) != 0) || (m->dim > 0 && m->dim != g->dim))
        return fn_fail(FN_ERR_MISMATCH, "%s was built with model %s (dim %d); this run uses model %s (dim %d)",
                       g->path, g->model_id, g->dim, m->model_id ? m->model_id : g->model_id,
                       m->dim > 0 ? m->dim : g->dim);
    if (m->preprocess_id && strcmp(m->preprocess_id, g->preprocess_id) != 0)
        return fn_fail(FN_ERR_MISMATCH, "%s was built with preprocessing '%s'; this run uses '%s'",
                       g->path, g->preprocess_id, m->preprocess_id);
    return FN_OK;
}

/* ---- the in-memory copy ---- */

static fn_status person_row(fn_gallery *g, sqlite3_stmt *st, fn_gperson *p)
{
    int64_t row = sqlite3_column_int64(st, 0);
    int ti = sqlite3_column_type(st, 1), tn = sqlite3_column_type(st, 2);
    if (ti != SQLITE_INTEGER || sqlite3_column_int64(st, 1) <= 0)
        return fn_gbad_row(g, "people", row, "id is %s, not a positive integer", fn_gdb_type_name(ti));
    if (tn != SQLITE_TEXT) return fn_gbad_row(g, "people", row, "name is %s, not text", fn_gdb_type_name(tn));
    char name[FN_GALLERY_NAME_MAX];
    /* stored by an older facenet: kept as it is in the file, shown and
     * matched in its normalised spelling */
    int changed = 0;
    if (fn_gallery_normalize_name((const char *)sqlite3_column_text(st, 2), name, sizeof name, &changed) != FN_OK)
        return fn_gbad_row(g, "people", row, "%s", fn_last_error());
    if (changed) g->legacy_names = 1;
    p->id = sqlite3_column_int64(st, 1);
    p->name = strdup(name);
    return p->name ? FN_OK : fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
}

static fn_status load_people(fn_gallery *g, int64_t count)
{
    for (size_t i = 0; i < g->n_people; i++) free(g->people[i].name);
    g->n_people = 0;
    g->legacy_names = 0;
    if ((size_t)count > g->cap_people) {
        fn_gperson *p = realloc(g->people, (size_t)count * sizeof *p);
        if (!p) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for %lld people", g->path, (long long)count);
        g->people = p;
        g->cap_people = (size_t)count;
    }
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT rowid, id, name FROM people ORDER BY id", &st));
    fn_status s = FN_OK;
    int rc;
    while (s == FN_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (g->n_people == g->cap_people) { s = fn_fail(FN_ERR_DB, "%s: people changed while loading", g->path); break; }
        fn_gperson *p = &g->people[g->n_people];
        s = person_row(g, st, p);
        if (s != FN_OK) break;
        if (g->n_people && g->people[g->n_people - 1].id == p->id) {
            s = fn_gbad_row(g, "people", sqlite3_column_int64(st, 0), "id %lld is used by two rows", (long long)p->id);
            free(p->name);
            break;
        }
        g->n_people++;
    }
    if (s == FN_OK && rc != SQLITE_DONE) s = fn_gdb_fail(g, "reading people");
    sqlite3_finalize(st);
    return s;
}

/* Blobs are little-endian float32 on every host. */
static void floats_from_le(float *dst, const void *src, int n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &dst[i], 4);
        u = __builtin_bswap32(u);
        memcpy(&dst[i], &u, 4);
    }
#endif
}

/* One images row joined with its embedding, checked: every column of the
 * image (fn_gimage_row), the person exists, one embedding of dim
 * little-endian float32, finite and not zero. */
static fn_status index_row(fn_gallery *g, sqlite3_stmt *st, int64_t prev_image)
{
    fn_gallery_image im;
    FN_TRY(fn_gimage_row(g, st, &im));
    if (im.id == prev_image) return fn_gbad_row(g, "images", im.id, "image %lld has two rows or two embeddings", (long long)im.id);
    if (!fn_gallery_person_name(g, im.person_id))
        return fn_gbad_row(g, "images", im.id, "person_id %lld names no person in table people (a dangling reference)",
                           (long long)im.person_id);
    if (sqlite3_column_type(st, 11) == SQLITE_NULL)
        return fn_gbad_row(g, "images", im.id, "image %lld has no embedding in table embeddings", (long long)im.id);
    int tv = sqlite3_column_type(st, 10), want = g->dim * (int)sizeof(float), bytes = sqlite3_column_bytes(st, 10);
    if (tv != SQLITE_BLOB)
        return fn_gbad_row(g, "embeddings", im.id, "vec is %s, not a blob of %d float32", fn_gdb_type_name(tv), g->dim);
    if (bytes != want)
        return fn_gbad_row(g, "embeddings", im.id, "vec has %d bytes, expected %d (dim %d x 4)", bytes, want, g->dim);
    floats_from_le(g->rowbuf, sqlite3_column_blob(st, 10), g->dim);
    if (fn_gindex_append(&g->index, im.id, im.person_id, g->rowbuf) != FN_OK)
        return fn_gbad_row(g, "embeddings", im.id, "vec is zero or has a value that is not a finite number");
    return FN_OK;
}

static fn_status load_index(fn_gallery *g, int64_t count)
{
    fn_gindex_clear(&g->index);
    FN_TRY(fn_gindex_reserve(&g->index, (size_t)count));
    sqlite3_stmt *st;
    /* every image with its embedding (NULL when missing).  An embedding whose
     * image is gone is never read (searching cannot meet it); finding one
     * means reading every embedding page a second time, so it is left to
     * fn_gallery_check (foreign_key_check). */
    FN_TRY(fn_gdb_prepare(g, "SELECT " FN_GIMAGE_COLUMNS ", e.vec, e.image_id FROM images i"
                             " LEFT JOIN embeddings e ON e.image_id = i.id ORDER BY i.id", &st));
    fn_status s = FN_OK;
    int rc;
    int64_t prev = INT64_MIN;
    while (s == FN_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        s = index_row(g, st, prev);
        prev = sqlite3_column_int64(st, 0);
    }
    if (s == FN_OK && rc != SQLITE_DONE) s = fn_gdb_fail(g, "reading embeddings");
    sqlite3_finalize(st);
    return s;
}

fn_status fn_gallery_reload(fn_gallery *g)
{
    int wrap = !g->in_tx;   /* one read transaction: counts and rows from one snapshot */
    int64_t n_people = 0, n_emb = 0;
    g->index_ok = 0;
    if (wrap) FN_TRY(fn_gdb_exec(g, "BEGIN"));
    fn_status s = fn_gdb_int(g, "SELECT count(*) FROM people", &n_people);
    /* images, not embeddings: the same number in a sound file, and counting
     * the small rows does not read every embedding page an extra time */
    if (s == FN_OK) s = fn_gdb_int(g, "SELECT count(*) FROM images", &n_emb);
    if (s == FN_OK) s = load_people(g, n_people);
    int64_t idx = 0;
    if (s == FN_OK) s = fn_gdb_int(g, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'images_sha256'", &idx);
    g->hash_index = idx > 0;
    if (s == FN_OK) s = load_index(g, n_emb);
    if (s == FN_OK) s = fn_gdb_int(g, "PRAGMA data_version", &g->data_version);
    if (s == FN_OK) fn_gallery_ann_sync(g);
    if (wrap) sqlite3_exec(g->db, s == FN_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (s == FN_OK) g->index_ok = 1;
    return s;
}

const char *fn_gallery_person_name(const fn_gallery *g, int64_t id)
{
    size_t lo = 0, hi = g->n_people;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->people[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < g->n_people && g->people[lo].id == id ? g->people[lo].name : NULL;
}

/* ---- open / close ---- */

static fn_status connect(fn_gallery *g, int create)
{
    int flags = g->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    /* NOMUTEX: every use of the connection already holds the handle's lock exclusively, and
     * SQLite's own per-call mutex was a seventh of the time to load the index */
    if (g->pg) flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;   /* the mirror is ours to fill */
    if (sqlite3_open_v2(g->db_path, &g->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return fn_gdb_fail(g, "opening");
    sqlite3_busy_timeout(g->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(g->db, 0);
    if (g->readonly && !g->pg && fn_sqlite_needs_immutable(g->db)) {   /* a folder that cannot be written */
        sqlite3_close(g->db);
        FN_TRY(fn_sqlite_open_immutable(g->db_path, g->path, &g->db));
        sqlite3_busy_timeout(g->db, BUSY_TIMEOUT_MS);
        sqlite3_extended_result_codes(g->db, 0);
    }
    return FN_OK;
}

/* The first write to an existing file: only once it is known to be ours and
 * every row has been read and checked, so a refused file keeps its bytes. */
static fn_status use_wal(fn_gallery *g)
{
    if (g->readonly) return FN_OK;
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "PRAGMA journal_mode = WAL", &st));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? FN_OK : fn_gdb_fail(g, "switching to the WAL journal");
}

static fn_status set_pragmas(fn_gallery *g)
{
    FN_TRY(fn_gnames_register(g));
    return fn_gdb_exec(g, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
}

static fn_status open_sqlite(fn_gallery *g, const fn_gallery_model *m, int flags, const fn_gallery_model *check);

/* A PostgreSQL gallery: connect, and create its empty mirror with the
 * identity stored in PostgreSQL; open_steps then checks the caller's model
 * against it as for a file, and fills the mirror before loading. */
static fn_status open_pg(fn_gallery *g, const fn_gallery_model *m, int flags, fn_gallery_model *stored,
                         char **mid, char **pre)
{
    int dim = 0;
    FN_TRY(fn_gpg_open(g, m, flags, &g->pg, mid, &dim, pre, &g->db_path));
    *stored = (fn_gallery_model){*mid, dim, *pre};
    return FN_OK;
}

static fn_status open_steps(fn_gallery *g, const fn_gallery_model *m, int flags)
{
    fn_gallery_model stored = {0};
    char *mid = NULL, *pre = NULL;
    if (g->pg_url) {
        fn_status s = open_pg(g, m, flags, &stored, &mid, &pre);
        if (s == FN_OK) s = open_sqlite(g, &stored, flags | FN_GALLERY_CREATE, m);
        free(mid);
        free(pre);
        return s;
    }
    return open_sqlite(g, m, flags, m);
}

/* check: the model the caller runs (for a PostgreSQL gallery m is what the
 * database holds, to create the mirror with). */
static fn_status open_sqlite(fn_gallery *g, const fn_gallery_model *m, int flags, const fn_gallery_model *check)
{
    int is_new = 0;
    FN_TRY(probe_file(g->db_path, &is_new));
    if (is_new && !(flags & FN_GALLERY_CREATE))
        return fn_fail(FN_ERR_NOT_FOUND, "%s: no such gallery (create it by enrolling)", g->path);
    if (is_new && ((g->readonly && !g->pg) || !m || !m->model_id || m->dim <= 0))
        return fn_fail(FN_ERR_ARG, "%s: a new gallery needs a model id and a dimension, and write access", g->path);
    if (is_new && strlen(m->model_id) > 1000) return fn_fail(FN_ERR_ARG, "%s: model id is too long", g->path);
    FN_TRY(connect(g, is_new));
    if (is_new) {
        /* big pages: an embedding is 0.75-2 KiB, and loading the index then
         * costs one read per ~8 rows instead of one or two a row.  Only
         * possible before the first table and before WAL. */
        FN_TRY(fn_gdb_exec(g, "PRAGMA page_size = 16384"));
        FN_TRY(use_wal(g));
        FN_TRY(set_pragmas(g));
        FN_TRY(create_schema(g, m));
    } else {
        FN_TRY(check_ours(g));
        FN_TRY(set_pragmas(g));
    }
    FN_TRY(check_tables(g));
    if (g->pg) FN_TRY(fn_gpg_fill_mirror(g));
    FN_TRY(read_identity(g));
    FN_TRY(check_model(g, check));
    FN_TRY(fn_gindex_init(&g->index, g->dim));
    g->rowbuf = malloc((size_t)g->dim * sizeof(float));
    if (!g->rowbuf) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
    FN_TRY(fn_gallery_reload(g));
    if (!is_new) FN_TRY(use_wal(g));
    if (flags & FN_GALLERY_CHECK) FN_TRY(fn_gallery_check(g));
    return FN_OK;
}

int fn_gallery_is_url(const char *path) { return path && fn_gpg_is_url(path); }

fn_status fn_gallery_open(const char *path, const fn_gallery_model *model, int flags, fn_gallery **out)
{
    if (!out) return fn_fail(FN_ERR_ARG, "fn_gallery_open: out is required");
    *out = NULL;
    if (!path || !*path) return fn_fail(FN_ERR_ARG, "fn_gallery_open: a gallery path is required");
    fn_gallery *g = calloc(1, sizeof *g);
    int pg = fn_gpg_is_url(path);
    if (!g || !(g->path = pg ? fn_gpg_redact(path) : strdup(path)) || (pg && !(g->pg_url = strdup(path))) ||
        (!pg && !(g->db_path = strdup(path)))) {
        if (g) { free(g->path); free(g->pg_url); }
        free(g);
        return fn_fail(FN_ERR_NOMEM, "out of memory opening a gallery");
    }
    g->readonly = (flags & FN_GALLERY_READONLY) != 0;
    g->ann_params = fn_gann_default_params();
    size_t plen = strlen(path);
    /* the ANN sidecar sits beside a file; a PostgreSQL gallery's lives in memory only */
    if (!pg && !(g->ann_path = malloc(plen + 5))) {
        free(g->path);
        free(g->pg_url);
        free(g->db_path);
        free(g);
        return fn_fail(FN_ERR_NOMEM, "%s: out of memory", path);
    }
    if (!pg) {
        memcpy(g->ann_path, path, plen);
        memcpy(g->ann_path + plen, ".ann", 5);
    }
    if (pthread_rwlock_init(&g->lock, NULL) != 0) {
        free(g->path);
        free(g->ann_path);
        free(g->pg_url);
        free(g->db_path);
        free(g);
        return fn_fail(FN_ERR_INTERNAL, "%s: cannot create the gallery lock", path);
    }
    fn_status s = open_steps(g, model, flags);
    if (s != FN_OK) {
        fn_gallery_close(g);
        return s;
    }
    *out = g;
    return FN_OK;
}

void fn_gallery_close(fn_gallery *g)
{
    if (!g) return;
    if (g->index_ok) fn_gallery_ann_close(g);
    for (int i = 0; i < FN_GST_N; i++) sqlite3_finalize(g->stmt[i]);
    if (g->db) {
        if (g->in_tx) sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);   /* an unfinished batch is not kept */
        sqlite3_close_v2(g->db);
    }
    for (size_t i = 0; i < g->n_people; i++) free(g->people[i].name);
    free(g->people);
    fn_gindex_release(&g->index);
    free(g->rowbuf);
    free(g->model_id);
    free(g->preprocess_id);
    pthread_rwlock_destroy(&g->lock);
    if (g->pg) {   /* the mirror is private to this handle */
        fn_gpg_close(g->pg);
        if (g->db_path) {
            size_t n = strlen(g->db_path);
            char *aux = malloc(n + 5);
            unlink(g->db_path);
            if (aux) {
                snprintf(aux, n + 5, "%s-wal", g->db_path); unlink(aux);
                snprintf(aux, n + 5, "%s-shm", g->db_path); unlink(aux);
                free(aux);
            }
        }
    }
    free(g->path);
    free(g->ann_path);
    free(g->pg_url);
    free(g->db_path);
    free(g);
}

fn_gallery_model fn_gallery_model_of(const fn_gallery *g)
{
    fn_gallery_model m = {g->model_id, g->dim, g->preprocess_id};
    return m;
}

/* ---- checks ---- */

static fn_status check_integrity(fn_gallery *g)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "PRAGMA integrity_check(5)", &st));
    fn_status s = FN_OK;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) s = fn_gdb_fail(g, "integrity check");
    else if (!sqlite3_column_text(st, 0) || strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
        s = fn_fail(FN_ERR_DB, "%s: integrity check failed: %s", g->path,
                    sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "(no answer)");
    sqlite3_finalize(st);
    return s;
}

static fn_status expect_zero(fn_gallery *g, const char *sql, const char *problem)
{
    int64_t n = 0;
    FN_TRY(fn_gdb_int(g, sql, &n));
    if (n != 0) return fn_fail(FN_ERR_DB, "%s: %lld %s", g->path, (long long)n, problem);
    return FN_OK;
}

/* ---- label conflicts: one face of one file under two people ---- */

typedef struct crow { int64_t id, person; float box[4]; char *path, *name; int hit; } crow;
typedef struct cgroup { crow *r; size_t n, cap; char hash[65]; } cgroup;

static void cgroup_clear(cgroup *c)
{
    for (size_t i = 0; i < c->n; i++) { free(c->r[i].path); free(c->r[i].name); }
    c->n = 0;
}

double fn_gbox_iou(const float a[4], const float b[4])
{
    double w = fmin(a[2], b[2]) - fmax(a[0], b[0]), h = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (w <= 0 || h <= 0) return 0;
    double inter = w * h, u = (double)(a[2] - a[0]) * (a[3] - a[1]) + (double)(b[2] - b[0]) * (b[3] - b[1]) - inter;
    return u > 0 ? inter / u : 0;
}

/* Marks the rows of the group in conflict; visits them; 1 if any. */
static int cgroup_flush(cgroup *c, int (*fn)(void *, const fn_gallery_conflict *), void *ctx, int *stop)
{
    int any = 0;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = i + 1; j < c->n; j++)
            if (c->r[i].person != c->r[j].person && fn_gbox_iou(c->r[i].box, c->r[j].box) >= FN_GALLERY_SAME_FACE_IOU)
                c->r[i].hit = c->r[j].hit = any = 1;
    for (size_t i = 0; any && fn && !*stop && i < c->n; i++) {
        if (!c->r[i].hit) continue;
        fn_gallery_conflict k = {c->hash, c->r[i].id, c->r[i].name, c->r[i].path};
        *stop = fn(ctx, &k);
    }
    cgroup_clear(c);
    return any;
}

static fn_status cgroup_add(fn_gallery *g, cgroup *c, const fn_gallery_image *im, const char *stored_name)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        crow *r = realloc(c->r, cap * sizeof *r);
        if (!r) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
        c->r = r;
        c->cap = cap;
    }
    char name[FN_GALLERY_NAME_MAX];
    if (fn_gallery_normalize_name(stored_name, name, sizeof name, NULL) != FN_OK)
        return fn_gbad_row(g, "people", im->person_id, "%s", fn_last_error());
    crow *r = &c->r[c->n];
    *r = (crow){im->id, im->person_id, {im->box[0], im->box[1], im->box[2], im->box[3]}, strdup(im->path), strdup(name), 0};
    if (!r->path || !r->name) { free(r->path); free(r->name); return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path); }
    c->n++;
    return FN_OK;
}

static fn_status conflicts_locked(fn_gallery *g, int (*fn)(void *, const fn_gallery_conflict *), void *ctx,
                                  int64_t *n_files)
{
    sqlite3_stmt *st;
    *n_files = 0;
    FN_TRY(fn_gdb_prepare(g, "SELECT " FN_GIMAGE_COLUMNS ", p.name FROM images i JOIN people p ON p.id = i.person_id"
                             " WHERE i.sha256 IN (SELECT sha256 FROM images GROUP BY sha256"
                             " HAVING count(DISTINCT person_id) > 1) ORDER BY i.sha256, i.id", &st));
    cgroup c = {0};
    fn_status s = FN_OK;
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn_gallery_image im;
        if ((s = fn_gimage_row(g, st, &im)) != FN_OK) break;
        if (c.n && strcmp(c.hash, im.hash_hex) != 0) *n_files += cgroup_flush(&c, fn, ctx, &stop);
        if (stop) break;
        memcpy(c.hash, im.hash_hex, 65);
        if (sqlite3_column_type(st, 10) != SQLITE_TEXT) {
            s = fn_gbad_row(g, "people", im.person_id, "name is %s, not text", fn_gdb_type_name(sqlite3_column_type(st, 10)));
            break;
        }
        if ((s = cgroup_add(g, &c, &im, (const char *)sqlite3_column_text(st, 10))) != FN_OK) break;
    }
    if (s == FN_OK && !stop && rc != SQLITE_DONE) s = fn_gdb_fail(g, "looking for conflicting labels");
    if (s == FN_OK && c.n) *n_files += cgroup_flush(&c, fn, ctx, &stop);
    cgroup_clear(&c);
    free(c.r);
    sqlite3_finalize(st);
    return s;
}

fn_status fn_gallery_conflicts(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_conflict *c), void *ctx,
                               int64_t *n_files)
{
    int64_t n = 0;
    if (n_files) *n_files = 0;
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_conflicts: no gallery");
    pthread_rwlock_wrlock(&g->lock);
    fn_status s = conflicts_locked(g, fn, ctx, &n);
    pthread_rwlock_unlock(&g->lock);
    if (n_files) *n_files = n;
    return s;
}

/* The sentence for the first conflict: "file 3f2a9c01… is enrolled as A (a.jpg) and B (b.jpg)". */
typedef struct first_conflict { char hash[65]; char text[600]; int people; } first_conflict;

static int note_conflict(void *ctx, const fn_gallery_conflict *c)
{
    first_conflict *f = ctx;
    if (f->people && strcmp(f->hash, c->hash_hex) != 0) return 0;   /* the first file's sentence only; all counted */
    memcpy(f->hash, c->hash_hex, 65);
    size_t n = strlen(f->text);
    snprintf(f->text + n, sizeof f->text - n, "%s%s (image %lld, %s)", f->people ? " and " : "", c->person,
             (long long)c->image_id, c->path);
    f->people++;
    return 0;
}

static fn_status check_labels(fn_gallery *g)
{
    first_conflict f = {{0}, {0}, 0};
    int64_t n = 0;
    FN_TRY(conflicts_locked(g, note_conflict, &f, &n));
    if (n)
        return fn_fail(FN_ERR_MISMATCH, "%s: %lld file(s) enrolled under more than one person, e.g. file %.12s... as "
                       "%s; remove the wrong label (identify cannot tell these people apart on that face, and "
                       "calibration leaves such pairs out)", g->path, (long long)n, f.hash, f.text);
    /* people whose stored names differ but normalise alike (an older facenet stored them as given) */
    for (size_t i = 0; i < g->n_people; i++)
        for (size_t j = i + 1; j < g->n_people; j++)
            if (strcmp(g->people[i].name, g->people[j].name) == 0)
                return fn_fail(FN_ERR_MISMATCH, "%s: people %lld and %lld are both '%s' once names are normalised "
                               "(Unicode NFC, trimmed): one person stored twice by an older facenet; rename one of "
                               "them, or remove one and enrol its photos again under the other",
                               g->path, (long long)g->people[i].id, (long long)g->people[j].id, g->people[i].name);
    return FN_OK;
}

static fn_status check_rows(fn_gallery *g)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT " FN_GIMAGE_COLUMNS " FROM images i ORDER BY i.id", &st));
    fn_status s = FN_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn_gallery_image im;
        if ((s = fn_gimage_row(g, st, &im)) != FN_OK) break;
    }
    if (s == FN_OK && rc != SQLITE_DONE) s = fn_gdb_fail(g, "reading images");
    sqlite3_finalize(st);
    return s;
}

/* An embedding whose image is gone: never read by a search, so only here. */
static fn_status check_orphans(fn_gallery *g)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT e.image_id FROM embeddings e LEFT JOIN images i ON i.id = e.image_id"
                             " WHERE i.id IS NULL LIMIT 1", &st));
    fn_status s = FN_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s = fn_gbad_row(g, "embeddings", sqlite3_column_int64(st, 0), "image_id %s names no image in table images "
                        "(a dangling reference)", (const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE) s = fn_gdb_fail(g, "reading embeddings");
    sqlite3_finalize(st);
    return s;
}

static fn_status check_locked(fn_gallery *g)
{
    char sql[160];
    FN_TRY(check_integrity(g));
    FN_TRY(check_tables(g));
    FN_TRY(fn_gallery_reload(g));   /* every people and embeddings row, as the file is now */
    FN_TRY(check_orphans(g));
    FN_TRY(expect_zero(g, "SELECT count(*) FROM pragma_foreign_key_check", "rows point at missing people or images"));
    FN_TRY(expect_zero(g, "SELECT count(*) FROM images i LEFT JOIN embeddings e ON e.image_id = i.id"
                          " WHERE e.image_id IS NULL", "images have no embedding"));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM embeddings WHERE length(vec) != %d", g->dim * 4);
    FN_TRY(expect_zero(g, sql, "embeddings have the wrong size"));
    int64_t n = 0;
    FN_TRY(fn_gdb_int(g, "SELECT count(*) FROM embeddings", &n));
    if ((size_t)n != g->index.n)
        return fn_fail(FN_ERR_DB, "%s: %lld embeddings in the file but %zu in memory", g->path, (long long)n, g->index.n);
    FN_TRY(check_rows(g));
    return check_labels(g);
}

fn_status fn_gallery_check(fn_gallery *g)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_check: no gallery");
    pthread_rwlock_wrlock(&g->lock);
    fn_status s = check_locked(g);
    pthread_rwlock_unlock(&g->lock);
    return s;
}

fn_status fn_gallery_refresh(fn_gallery *g, int *reloaded)
{
    if (reloaded) *reloaded = 0;
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_refresh: no gallery");
    pthread_rwlock_wrlock(&g->lock);
    int64_t v = 0;
    int pulled = 0;
    /* a PostgreSQL that cannot be reached leaves the mirror as it is; the
     * failure is reported after the rest (searches go on regardless) */
    fn_status pull = g->pg && !g->in_tx ? fn_gpg_pull(g, &pulled) : FN_OK;
    if (pull == FN_OK && pulled) g->data_version = -1;   /* reload below */
    fn_status s = g->in_tx ? FN_OK : fn_gdb_int(g, "PRAGMA data_version", &v);
    if (s == FN_OK && !g->in_tx && (v != g->data_version || !g->index_ok)) {
        s = fn_gallery_reload(g);
        if (s == FN_OK && reloaded) *reloaded = 1;
    }
    pthread_rwlock_unlock(&g->lock);
    return s != FN_OK ? s : pull;
}
