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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    " vec BLOB NOT NULL);";

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
        const char *v = (const char *)sqlite3_column_text(st, 0);
        *value_out = strdup(v ? v : "");
        if (!*value_out) s = fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
    } else if (rc == SQLITE_DONE) {
        s = fn_fail(FN_ERR_NOT_FOUND, "%s: no '%s' in the gallery's metadata", g->path, key);
    } else {
        s = fn_gdb_fail(g, "reading metadata");
    }
    sqlite3_finalize(st);
    return s;
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

static fn_status read_identity(fn_gallery *g)
{
    char *ver = NULL, *dim = NULL;
    fn_status s = fn_gdb_meta(g, "schema_version", &ver);
    if (s == FN_OK && atoi(ver) != FN_GALLERY_SCHEMA)
        s = fn_fail(atoi(ver) > FN_GALLERY_SCHEMA ? FN_ERR_UNSUPPORTED : FN_ERR_DB,
                    "%s: gallery schema version %s; this facenet reads version %d", g->path, ver, FN_GALLERY_SCHEMA);
    if (s == FN_OK) s = fn_gdb_meta(g, "model_id", &g->model_id);
    if (s == FN_OK) s = fn_gdb_meta(g, "dim", &dim);
    if (s == FN_OK) s = fn_gdb_meta(g, "preprocess_id", &g->preprocess_id);
    if (s == FN_OK) {
        g->dim = atoi(dim);
        if (g->dim <= 0 || g->dim > 65536) s = fn_fail(FN_ERR_DB, "%s: stored embedding dimension '%s' is invalid", g->path, dim);
    }
    if (s == FN_ERR_NOT_FOUND) s = FN_ERR_DB;   /* the sentence already names the missing key */
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

static fn_status load_people(fn_gallery *g, int64_t count)
{
    for (size_t i = 0; i < g->n_people; i++) free(g->people[i].name);
    g->n_people = 0;
    if ((size_t)count > g->cap_people) {
        fn_gperson *p = realloc(g->people, (size_t)count * sizeof *p);
        if (!p) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for %lld people", g->path, (long long)count);
        g->people = p;
        g->cap_people = (size_t)count;
    }
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT id, name FROM people ORDER BY id", &st));
    fn_status s = FN_OK;
    int rc;
    while (s == FN_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (g->n_people == g->cap_people) { s = fn_fail(FN_ERR_DB, "%s: people changed while loading", g->path); break; }
        fn_gperson *p = &g->people[g->n_people];
        p->id = sqlite3_column_int64(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (!name) {   /* NOT NULL in our schema: the file was changed outside facenet */
            s = fn_fail(FN_ERR_DB, "%s: person %lld has no name (the gallery was changed outside facenet)",
                        g->path, (long long)p->id);
            break;
        }
        p->name = strdup(name);
        if (!p->name) s = fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
        else g->n_people++;
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

static fn_status load_index(fn_gallery *g, int64_t count)
{
    fn_gindex_clear(&g->index);
    FN_TRY(fn_gindex_reserve(&g->index, (size_t)count));
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT e.image_id, i.person_id, e.vec FROM embeddings e"
                             " JOIN images i ON i.id = e.image_id ORDER BY e.image_id", &st));
    fn_status s = FN_OK;
    int rc, want = g->dim * (int)sizeof(float);
    while (s == FN_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t img = sqlite3_column_int64(st, 0);
        const void *blob = sqlite3_column_blob(st, 2);
        int bytes = sqlite3_column_bytes(st, 2);
        if (bytes != want) {
            s = fn_fail(FN_ERR_DB, "%s: embedding of image %lld has %d bytes, expected %d (dim %d)",
                        g->path, (long long)img, bytes, want, g->dim);
            break;
        }
        floats_from_le(g->rowbuf, blob, g->dim);
        s = fn_gindex_append(&g->index, img, sqlite3_column_int64(st, 1), g->rowbuf);
        if (s != FN_OK) s = fn_fail_prefix(FN_ERR_DB, "%s", g->path);
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
    if (s == FN_OK) s = load_index(g, n_emb);
    if (s == FN_OK) s = fn_gdb_int(g, "PRAGMA data_version", &g->data_version);
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
    if (sqlite3_open_v2(g->path, &g->db, flags | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
        return fn_gdb_fail(g, "opening");
    sqlite3_busy_timeout(g->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(g->db, 0);
    return FN_OK;
}

static fn_status set_pragmas(fn_gallery *g)
{
    if (!g->readonly) {
        /* the first write to the file: only once it is known to be ours */
        sqlite3_stmt *st;
        FN_TRY(fn_gdb_prepare(g, "PRAGMA journal_mode = WAL", &st));
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW) return fn_gdb_fail(g, "switching to the WAL journal");
    }
    return fn_gdb_exec(g, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
}

static fn_status open_steps(fn_gallery *g, const fn_gallery_model *m, int flags)
{
    int is_new = 0;
    FN_TRY(probe_file(g->path, &is_new));
    if (is_new && !(flags & FN_GALLERY_CREATE))
        return fn_fail(FN_ERR_NOT_FOUND, "%s: no such gallery (create it by enrolling)", g->path);
    if (is_new && (g->readonly || !m || !m->model_id || m->dim <= 0))
        return fn_fail(FN_ERR_ARG, "%s: a new gallery needs a model id and a dimension, and write access", g->path);
    if (is_new && strlen(m->model_id) > 1000) return fn_fail(FN_ERR_ARG, "%s: model id is too long", g->path);
    FN_TRY(connect(g, is_new));
    if (is_new) {
        /* big pages: an embedding is 0.75-2 KiB, and loading the index then
         * costs one read per ~8 rows instead of one or two a row.  Only
         * possible before the first table and before WAL. */
        FN_TRY(fn_gdb_exec(g, "PRAGMA page_size = 16384"));
        FN_TRY(set_pragmas(g));
        FN_TRY(create_schema(g, m));
    } else {
        FN_TRY(check_ours(g));
        FN_TRY(set_pragmas(g));
    }
    FN_TRY(read_identity(g));
    FN_TRY(check_model(g, m));
    FN_TRY(fn_gindex_init(&g->index, g->dim));
    g->rowbuf = malloc((size_t)g->dim * sizeof(float));
    if (!g->rowbuf) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
    FN_TRY(fn_gallery_reload(g));
    if (flags & FN_GALLERY_CHECK) FN_TRY(fn_gallery_check(g));
    return FN_OK;
}

fn_status fn_gallery_open(const char *path, const fn_gallery_model *model, int flags, fn_gallery **out)
{
    if (!out) return fn_fail(FN_ERR_ARG, "fn_gallery_open: out is required");
    *out = NULL;
    if (!path || !*path) return fn_fail(FN_ERR_ARG, "fn_gallery_open: a gallery path is required");
    fn_gallery *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        return fn_fail(FN_ERR_NOMEM, "%s: out of memory", path);
    }
    g->readonly = (flags & FN_GALLERY_READONLY) != 0;
    if (pthread_rwlock_init(&g->lock, NULL) != 0) {
        free(g->path);
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
    free(g->path);
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

static fn_status check_locked(fn_gallery *g)
{
    char sql[160];
    FN_TRY(check_integrity(g));
    FN_TRY(expect_zero(g, "SELECT count(*) FROM pragma_foreign_key_check", "rows point at missing people or images"));
    FN_TRY(expect_zero(g, "SELECT count(*) FROM images i LEFT JOIN embeddings e ON e.image_id = i.id"
                          " WHERE e.image_id IS NULL", "images have no embedding"));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM embeddings WHERE length(vec) != %d", g->dim * 4);
    FN_TRY(expect_zero(g, sql, "embeddings have the wrong size"));
    int64_t n = 0;
    FN_TRY(fn_gdb_int(g, "SELECT count(*) FROM embeddings", &n));
    if ((size_t)n != g->index.n)
        return fn_fail(FN_ERR_DB, "%s: %lld embeddings in the file but %zu in memory", g->path, (long long)n, g->index.n);
    return FN_OK;
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
    fn_status s = g->in_tx ? FN_OK : fn_gdb_int(g, "PRAGMA data_version", &v);
    if (s == FN_OK && !g->in_tx && (v != g->data_version || !g->index_ok)) {
        s = fn_gallery_reload(g);
        if (s == FN_OK && reloaded) *reloaded = 1;
    }
    pthread_rwlock_unlock(&g->lock);
    return s;
}
