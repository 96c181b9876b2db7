#include "eval/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "core/error.h"

/* 'fnec' in the SQLite header: tells our cache apart from any other database. */
#define CACHE_APP_ID 0x666e6563
#define CACHE_VERSION 1

struct fn_cache {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *get, *put;
};

static const char *SCHEMA =
    "CREATE TABLE embedding ("
    " key TEXT NOT NULL, model TEXT NOT NULL,"
    " has_face INTEGER NOT NULL,"
    " x1 REAL, y1 REAL, x2 REAL, y2 REAL, prob REAL,"
    " dim INTEGER NOT NULL, vec BLOB,"
    " PRIMARY KEY (key, model)) WITHOUT ROWID;";

static fn_status db_fail(fn_cache *c, const char *what)
{
    return fn_fail(FN_ERR_DB, "%s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

/* The header: application id, schema version and how many tables, in one
 * statement, so from one snapshot: read in three, a cache another command
 * was creating showed its table but not yet its id ("not a facenet
 * embedding cache ... 1 tables"). */
static int read_header(fn_cache *c, int *app, int *ver, int *tables)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT (SELECT application_id FROM pragma_application_id),"
                                  " (SELECT user_version FROM pragma_user_version),"
                                  " (SELECT count(*) FROM sqlite_master)", -1, &st, NULL) != SQLITE_OK)
        return 0;
    int ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        *app = sqlite3_column_int(st, 0);
        *ver = sqlite3_column_int(st, 1);
        *tables = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    return ok;
}

static fn_status not_ours(fn_cache *c, int app, int ver, int tables)
{
    return fn_fail(FN_ERR_DB, "%s: not a facenet embedding cache of version %d (application_id %#x, version %d, "
                   "%d tables); delete it or choose another file", c->path, CACHE_VERSION, (unsigned)app, ver, tables);
}

/* A new file gets the schema; an existing one must be ours, same version.
 * The schema is written in a write transaction that looks again first:
 * two commands starting on a new cache at once both saw it empty, and one
 * failed with "table embedding already exists". */
static fn_status init_schema(fn_cache *c)
{
    int app = 0, ver = 0, tables = 0;
    if (!read_header(c, &app, &ver, &tables)) return db_fail(c, "cannot read the cache header (not an SQLite file?)");
    if (app == CACHE_APP_ID && ver == CACHE_VERSION) return FN_OK;
    if (app != 0 || tables != 0) return not_ours(c, app, ver, tables);
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(c, "cannot start creating the cache");
    fn_status st = FN_OK;
    if (!read_header(c, &app, &ver, &tables)) st = db_fail(c, "cannot read the cache header");
    else if (app == CACHE_APP_ID && ver == CACHE_VERSION) st = FN_OK;   /* made meanwhile by another command */
    else if (app != 0 || tables != 0) st = not_ours(c, app, ver, tables);
    else {
        char sql[600];
        snprintf(sql, sizeof sql, "%s PRAGMA application_id = %d; PRAGMA user_version = %d;", SCHEMA, CACHE_APP_ID,
                 CACHE_VERSION);
        if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) st = db_fail(c, "cannot create the cache table");
    }
    if (st == FN_OK && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        st = db_fail(c, "cannot create the cache table");
    if (st != FN_OK) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

static fn_status prepare(fn_cache *c)
{
    const char *get = "SELECT has_face, x1, y1, x2, y2, prob, dim, vec FROM embedding WHERE key = ?1 AND model = ?2";
    const char *put = "INSERT OR REPLACE INTO embedding VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    if (sqlite3_prepare_v2(c->db, get, -1, &c->get, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(c->db, put, -1, &c->put, NULL) != SQLITE_OK)
        return db_fail(c, "cannot prepare the cache queries");
    return FN_OK;
}

static void cache_release(fn_cache *c)
{
    sqlite3_finalize(c->get);
    sqlite3_finalize(c->put);
    sqlite3_close(c->db);
    free(c->path);
    free(c);
}

fn_status fn_cache_open(const char *path, fn_cache **out)
{
    *out = NULL;
    if (!path || !*path) return fn_fail(FN_ERR_ARG, "cache: no path given");
    fn_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return fn_fail(FN_ERR_NOMEM, "%s: out of memory", path);
    }
    fn_status st;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        st = db_fail(c, "cannot open");
    } else {
        /* Two commands sharing a cache wait for each other instead of
         * failing (from the first read of the header: a scan writing its
         * batch made a cluster --calibrate-on beside it fail with "database
         * is locked"), and in WAL mode a reader never waits for a writer. */
        sqlite3_busy_timeout(c->db, 10000);
        /* WAL only once the file is known to be ours: the mode is stored in the file, and someone
         * else's database named by mistake was left changed.  Where WAL cannot be (some network file
         * systems) the rollback journal serves, only slower. */
        if ((st = init_schema(c)) == FN_OK) {
            sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
            st = prepare(c);
        }
    }
    if (st != FN_OK) { cache_release(c); return st; }
    /* In WAL mode a commit does not wait for the disk (only a checkpoint does), and a power cut loses at
     * most the last commits, never the file (OFF risked a damaged cache, refused from then on). */
    sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    *out = c;
    return FN_OK;
}

fn_status fn_cache_flush(fn_cache *c)
{
    (void)c;   /* every put is committed as it is made */
    return FN_OK;
}

fn_status fn_cache_close(fn_cache *c)
{
    if (!c) return FN_OK;
    fn_status st = fn_cache_flush(c);
    cache_release(c);
    return st;
}

static fn_status check_key(fn_cache *c, const char *key, const char *model)
{
    if (!c) return fn_fail(FN_ERR_ARG, "cache: not open");
    if (!key || !*key || !model || !*model) return fn_fail(FN_ERR_ARG, "%s: a cache entry needs a key and a model name", c->path);
    return FN_OK;
}

static fn_status read_row(fn_cache *c, const char *key, fn_cache_entry *e, float *emb, int emb_cap)
{
    sqlite3_stmt *s = c->get;
    memset(e, 0, sizeof *e);
    e->has_face = sqlite3_column_int(s, 0) != 0;
    if (!e->has_face) return FN_OK;
    for (int i = 0; i < 4; i++) e->box[i] = (float)sqlite3_column_double(s, 1 + i);
    e->prob = (float)sqlite3_column_double(s, 5);
    int dim = sqlite3_column_int(s, 6);
    const void *blob = sqlite3_column_blob(s, 7);
    int bytes = sqlite3_column_bytes(s, 7);
    if (dim <= 0 || dim > FN_CACHE_MAX_DIM || bytes != dim * (int)sizeof(float) || !blob)
        return fn_fail(FN_ERR_FORMAT, "%s: entry %s holds a %d-byte embedding for dimension %d; the cache is "
                       "damaged", c->path, key, bytes, dim);
    if (!emb || dim > emb_cap)
        return fn_fail(FN_ERR_LIMIT, "%s: entry %s has a %d-float embedding, room for %d", c->path, key, dim, emb_cap);
    memcpy(emb, blob, (size_t)bytes);
    e->dim = dim;
    return FN_OK;
}

fn_status fn_cache_get(fn_cache *c, const char *key, const char *model, fn_cache_entry *e, float *emb, int emb_cap)
{
    FN_TRY(check_key(c, key, model));
    sqlite3_stmt *s = c->get;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, model, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    fn_status st;
    if (rc == SQLITE_ROW) st = read_row(c, key, e, emb, emb_cap);
    else if (rc == SQLITE_DONE) st = FN_ERR_NOT_FOUND;
    else st = db_fail(c, "cannot read an entry");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return st;
}

static void bind_entry(sqlite3_stmt *s, const fn_cache_entry *e, const float *emb)
{
    sqlite3_bind_int(s, 3, e->has_face != 0);
    for (int i = 0; i < 4; i++) {
        if (e->has_face) sqlite3_bind_double(s, 4 + i, e->box[i]); else sqlite3_bind_null(s, 4 + i);
    }
    if (e->has_face) sqlite3_bind_double(s, 8, e->prob); else sqlite3_bind_null(s, 8);
    sqlite3_bind_int(s, 9, e->has_face ? e->dim : 0);
    if (e->has_face) sqlite3_bind_blob(s, 10, emb, e->dim * (int)sizeof(float), SQLITE_STATIC);
    else sqlite3_bind_null(s, 10);
}

fn_status fn_cache_put(fn_cache *c, const char *key, const char *model, const fn_cache_entry *e, const float *emb)
{
    FN_TRY(check_key(c, key, model));
    if (!e || (e->has_face && (e->dim <= 0 || e->dim > FN_CACHE_MAX_DIM || !emb)))
        return fn_fail(FN_ERR_ARG, "%s: entry %s: a face entry needs an embedding of 1..%d floats", c->path, key,
                       FN_CACHE_MAX_DIM);
    /* committed at once: a transaction left open over the next images' detection held the write lock
     * for seconds, and a second command sharing the cache gave up after its busy timeout (its
     * embeddings were lost).  In WAL mode with synchronous = NORMAL a commit costs no fsync. */
    sqlite3_stmt *s = c->put;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, model, -1, SQLITE_STATIC);
    bind_entry(s, e, emb);
    fn_status st = sqlite3_step(s) == SQLITE_DONE ? FN_OK : db_fail(c, "cannot store an entry");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return st;
}
