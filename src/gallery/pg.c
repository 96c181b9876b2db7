/* A gallery in PostgreSQL (pg.h).  libpq, binary results for the rows. */
#include "gallery/pg.h"
#include "gallery/gallery_impl.h"
#include "core/error.h"

#include "gallery/pqlib.h"   /* libpq, loaded when the first postgresql:// gallery opens */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FETCH_ROWS 5000      /* images per query when filling the mirror (the LIMIT below) */
/* Sequence order is not commit order: an image id allocated before another
 * may commit after it.  Pulls look this many ids back (INSERT OR IGNORE). */
#define ID_MARGIN 4096
#define LOCK_KEY "4605491"   /* pg_advisory_xact_lock while creating the tables */
#define FN_GPG_PAYLOAD_MAX 256   /* "meta KEY" notifications; PostgreSQL allows 8000 bytes */
/* Seconds libpq waits for a connection unless the URL says otherwise: a
 * host that vanished (no RST) must not hold the gallery's lock for the
 * kernel's two-minute TCP timeout. */
#define CONNECT_TIMEOUT "5"
/* A search's poll, which holds the gallery's lock, advances a lost
 * connection's non-blocking reset for at most this long. */
#define RESET_SLICE_MS 100

struct fn_gpg {
    PGconn *conn;
    char *url;
    int64_t pulled_upto;     /* highest image id pulled from PostgreSQL */
    int64_t last_poll_ns;    /* atomic */
    int resetting;           /* a non-blocking reset (PQresetStart) is under way */
    int in_batch;            /* a caller's batch (fn_gpg_begin) is open */
    int in_tx;               /* a transaction of our own (one write, one snapshot read) is open */
    int resync;              /* reconnected: notifications sent meanwhile are lost, re-read everything */
    fn_status failed;        /* run()'s last failure: FN_ERR_DB, or FN_ERR_UNAVAILABLE when the connection is gone */
};
#define RUN_FAILED(g) ((g)->pg->failed)

static const char *const PG_SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS people(id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS images(id BIGSERIAL PRIMARY KEY,"
    " person_id BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL, sha256 TEXT NOT NULL,"
    " x1 DOUBLE PRECISION NOT NULL, y1 DOUBLE PRECISION NOT NULL, x2 DOUBLE PRECISION NOT NULL,"
    " y2 DOUBLE PRECISION NOT NULL, prob DOUBLE PRECISION NOT NULL, added_at BIGINT NOT NULL,"
    " UNIQUE(person_id, sha256));"
    "CREATE INDEX IF NOT EXISTS images_sha256 ON images(sha256);"
    /* little-endian float32 x dim, L2-normalised, as in SQLite */
    "CREATE TABLE IF NOT EXISTS embeddings(image_id BIGINT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
    " vec BYTEA NOT NULL);";

int fn_gpg_is_url(const char *path)
{
    return path && (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

char *fn_gpg_redact(const char *url)
{
    /* scheme://user:password@host… -> scheme://user:***@host… */
    char *out = malloc(strlen(url) + 4);
    if (!out) return NULL;
    const char *s = strstr(url, "://"), *at = s ? strchr(s + 3, '@') : NULL;
    const char *colon = s && at ? memchr(s + 3, ':', (size_t)(at - (s + 3))) : NULL;
    if (!colon) { strcpy(out, url); return out; }
    size_t n = (size_t)(colon + 1 - url);
    memcpy(out, url, n);
    strcpy(out + n, "***");
    strcat(out, at);
    return out;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int fn_gpg_poll_due(fn_gpg *p)
{
    return now_ns() - __atomic_load_n(&p->last_poll_ns, __ATOMIC_RELAXED) > (int64_t)FN_GPG_POLL_MS * 1000000;
}

static fn_status pg_fail(fn_gallery *g, const char *what, const PGresult *r)
{
    const char *msg = r ? PQresultErrorMessage(r) : NULL;
    if (!msg || !*msg) msg = g->pg && g->pg->conn ? PQerrorMessage(g->pg->conn) : "no connection";
    char clean[300];
    snprintf(clean, sizeof clean, "%s", msg);
    clean[strcspn(clean, "\n")] = '\0';
    return fn_fail(FN_ERR_DB, "%s: %s failed (%s)", g->path, what, clean);
}

static int connection_lost(fn_gpg *p) { return PQstatus(p->conn) != CONNECTION_OK; }

/* The connection is back: LISTEN again.  What other handles wrote
 * meanwhile was announced to nobody here: the next pull re-reads
 * everything (resync). */
static int listen_again(fn_gpg *p)
{
    PGresult *r = PQexec(p->conn, "LISTEN fn_gallery");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (ok) p->resync = 1;
    return ok;
}

/* For a write: one blocking reset (at most connect_timeout), then LISTEN. */
static int reconnect(fn_gpg *p)
{
    p->resetting = 0;
    PQreset(p->conn);
    return PQstatus(p->conn) == CONNECTION_OK && listen_again(p);
}

/* For a search's poll: a non-blocking reset advanced for at most
 * RESET_SLICE_MS, so that searches never wait for a host that does not
 * answer; the next poll goes on where this one stopped.  1 when connected
 * (and listening) again. */
static int reconnect_step(fn_gpg *p)
{
    if (!p->resetting) {
        if (!PQresetStart(p->conn)) return 0;
        p->resetting = 1;
    }
    int64_t end = now_ns() + (int64_t)RESET_SLICE_MS * 1000000;
    for (;;) {
        PostgresPollingStatusType st = PQresetPoll(p->conn);
        if (st == PGRES_POLLING_OK) { p->resetting = 0; return listen_again(p); }
        if (st == PGRES_POLLING_FAILED) { p->resetting = 0; return 0; }
        int64_t left_ms = (end - now_ns()) / 1000000;
        if (left_ms <= 0) return 0;
        struct pollfd fd = {PQsocket(p->conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        if (poll(&fd, 1, (int)left_ms) < 0 && errno != EINTR) { p->resetting = 0; return 0; }
    }
}

/* The sentence for a lost connection: FN_ERR_UNAVAILABLE, what was being
 * done, libpq's reason, and what became of it (tail). */
static fn_status unreachable(fn_gallery *g, const char *what, const PGresult *r, const char *tail)
{
    const char *msg = r ? PQresultErrorMessage(r) : NULL;
    if (!msg || !*msg) msg = PQerrorMessage(g->pg->conn);
    char clean[300];
    snprintf(clean, sizeof clean, "%s", msg && *msg ? msg : "no connection");
    clean[strcspn(clean, "\n")] = '\0';
    return fn_fail(FN_ERR_UNAVAILABLE, "%s: PostgreSQL cannot be reached while %s (%s); %s", g->path, what, clean, tail);
}

/* Runs a statement.  Outside a transaction a lost connection is reset and
 * the statement tried once more; inside one (a write's own or a batch) the
 * server has rolled it back, so retrying the rest alone would commit half a
 * change: it fails instead.  Returns the result (caller clears) or NULL
 * after fn_fail (FN_ERR_UNAVAILABLE when the connection is gone). */
static PGresult *run(fn_gallery *g, const char *what, const char *sql, int n, const char *const *vals,
                     const int *lens, const int *formats, int binary_result)
{
    fn_gpg *p = g->pg;
    int in_tx = p->in_batch || p->in_tx;
    for (int attempt = 0; attempt < 2; attempt++) {
        /* PQexec takes several commands (the schema); parameters need PQexecParams */
        PGresult *r = n == 0 && !binary_result ? PQexec(p->conn, sql)
                                               : PQexecParams(p->conn, sql, n, NULL, vals, lens, formats, binary_result);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
        if (!connection_lost(p)) p->failed = pg_fail(g, what, r);
        else if (attempt == 0 && !in_tx && reconnect(p)) { PQclear(r); continue; }
        else p->failed = unreachable(g, what, r, !in_tx ? "nothing was changed: retry when it is back"
                                                : strcmp(what, "committing") == 0 || strcmp(what, "committing the batch") == 0
                                                    ? "the change may or may not have been committed"
                                                    : "the change was not committed: retry when it is back");
        PQclear(r);
        return NULL;
    }
    return NULL;
}

static fn_status exec(fn_gallery *g, const char *what, const char *sql)
{
    PGresult *r = run(g, what, sql, 0, NULL, NULL, NULL, 0);
    if (!r) return RUN_FAILED(g);
    PQclear(r);
    return FN_OK;
}

/* A transaction of our own: BEGIN (retried once on a fresh connection),
 * then every statement inside it fails rather than reconnects. */
static fn_status own_begin(fn_gallery *g, const char *what, const char *sql)
{
    FN_TRY(exec(g, what, sql));
    g->pg->in_tx = 1;
    return FN_OK;
}
static fn_status own_commit(fn_gallery *g, const char *what)
{
    fn_status s = exec(g, what, "COMMIT");
    g->pg->in_tx = 0;
    return s;
}
static void own_rollback(fn_gallery *g)
{
    PGresult *r = PQexec(g->pg->conn, "ROLLBACK");
    PQclear(r);
    g->pg->in_tx = 0;
}

/* ---- open ---- */

static void quiet(void *arg, const char *message) { (void)arg; (void)message; }

static fn_status read_meta(fn_gallery *g, const char *key, char **out)
{
    const char *v[1] = {key};
    PGresult *r = run(g, "reading metadata", "SELECT value FROM meta WHERE key = $1", 1, v, NULL, NULL, 0);
    if (!r) return RUN_FAILED(g);
    fn_status s = FN_OK;
    if (PQntuples(r) == 0) s = fn_fail(FN_ERR_NOT_FOUND, "%s: no '%s' in the gallery's metadata", g->path, key);
    else if (!(*out = strdup(PQgetvalue(r, 0, 0)))) s = fn_fail(FN_ERR_NOMEM, "out of memory");
    PQclear(r);
    return s;
}

static fn_status create_tables(fn_gallery *g, const fn_gallery_model *m)
{
    FN_TRY(own_begin(g, "starting a transaction", "BEGIN"));
    fn_status s = exec(g, "locking", "SELECT pg_advisory_xact_lock(" LOCK_KEY ")");
    if (s == FN_OK) s = exec(g, "creating the tables", PG_SCHEMA);
    if (s == FN_OK && m && m->model_id && m->dim > 0) {
        char dim[16];
        snprintf(dim, sizeof dim, "%d", m->dim);
        const char *v[3] = {m->model_id, dim, m->preprocess_id ? m->preprocess_id : ""};
        PGresult *r = run(g, "writing the identity",
                          "INSERT INTO meta(key, value) VALUES ('schema_version', '1'), ('model_id', $1), ('dim', $2),"
                          " ('preprocess_id', $3) ON CONFLICT (key) DO NOTHING", 3, v, NULL, NULL, 0);
        if (!r) s = RUN_FAILED(g);
        PQclear(r);
    }
    if (s == FN_OK) s = own_commit(g, "committing");
    if (s != FN_OK) own_rollback(g);
    return s;
}

#define MIRROR_PREFIX "fn-pg-mirror-"

/* The mirrors (and their -wal, -shm) of processes that are gone: a handle
 * deletes its own at close, but a process killed (kill -9, a crash) cannot,
 * and each left one the size of its gallery.  A mirror's name carries its
 * process id; one whose process no longer exists is deleted. */
static void sweep_mirrors(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    size_t np = strlen(MIRROR_PREFIX);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, MIRROR_PREFIX, np)) continue;
        char *end;
        long pid = strtol(e->d_name + np, &end, 10);
        if (end == e->d_name + np || *end != '-' || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

fn_status fn_gpg_open(fn_gallery *g, const fn_gallery_model *m, int flags, fn_gpg **out, char **model_id, int *dim,
                      char **preprocess_id, char **mirror)
{
    *out = NULL;
    FN_TRY(fn_pqlib_load());
    fn_gpg *p = calloc(1, sizeof *p);
    if (!p) return fn_fail(FN_ERR_NOMEM, "out of memory");
    g->pg = p;
    /* the URL's own connect_timeout, if any, wins: later keywords override earlier ones */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const vals[] = {CONNECT_TIMEOUT, g->pg_url, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        /* a refused password or a missing database is the URL's fault, not an outage */
        PGPing ping = PQpingParams(keys, vals, 1);
        return ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT ? unreachable(g, "connecting", NULL, "retry when it is back")
                                                                  : pg_fail(g, "connecting", NULL);
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL);   /* libpq prints notices to stderr by default; the library never prints */
    PGresult *r = PQexec(p->conn, "SET client_min_messages = warning");
    PQclear(r);
    PGresult *t = run(g, "looking for the tables", "SELECT to_regclass('meta') IS NOT NULL", 0, NULL, NULL, NULL, 0);
    if (!t) return RUN_FAILED(g);
    int exists = strcmp(PQgetvalue(t, 0, 0), "t") == 0;
    PQclear(t);
    if (!exists && !(flags & FN_GALLERY_CREATE))
        return fn_fail(FN_ERR_NOT_FOUND, "%s: no gallery in this database (create it by enrolling)", g->path);
    if (!exists || (flags & FN_GALLERY_CREATE)) FN_TRY(create_tables(g, (flags & FN_GALLERY_READONLY) ? NULL : m));
    char *d = NULL, *ver = NULL;
    fn_status s = read_meta(g, "schema_version", &ver);
    if (s == FN_OK && strcmp(ver, "1") != 0)
        s = fn_fail(FN_ERR_UNSUPPORTED, "%s: gallery schema version '%.40s'; this facenet reads version 1", g->path, ver);
    if (s == FN_OK) s = read_meta(g, "model_id", model_id);
    if (s == FN_OK) s = read_meta(g, "dim", &d);
    if (s == FN_OK) s = read_meta(g, "preprocess_id", preprocess_id);
    if (s == FN_ERR_NOT_FOUND)
        s = fn_fail(FN_ERR_ARG, "%s: the database has no gallery identity yet: a new gallery needs a model id and a "
                    "dimension, and write access (enrol into it first)", g->path);
    if (s == FN_OK) {
        *dim = atoi(d);
        if (*dim <= 0 || *dim > 65536) s = fn_fail(FN_ERR_DB, "%s: table meta, key 'dim': '%.40s' is not a dimension", g->path, d);
    }
    free(d);
    free(ver);
    FN_TRY(s);
    FN_TRY(exec(g, "listening", "LISTEN fn_gallery"));
    const char *tmp = getenv("TMPDIR");
    tmp = tmp && *tmp ? tmp : "/tmp";
    sweep_mirrors(tmp);
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/" MIRROR_PREFIX "%ld-XXXXXX", tmp, (long)getpid());
    int fd = mkstemp(tmpl);
    if (fd < 0) return fn_fail(FN_ERR_IO, "%s: cannot create the local mirror in %s", g->path, tmp ? tmp : "/tmp");
    close(fd);   /* an empty file: the gallery code creates it as new */
    if (!(*mirror = strdup(tmpl))) { unlink(tmpl); return fn_fail(FN_ERR_NOMEM, "out of memory"); }
    __atomic_store_n(&p->last_poll_ns, now_ns(), __ATOMIC_RELAXED);
    *out = p;
    return FN_OK;
}

void fn_gpg_close(fn_gpg *p)
{
    if (!p) return;
    if (p->conn) PQfinish(p->conn);
    free(p);
}

/* ---- the mirror ---- */

static int64_t be64(const char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | (unsigned char)b[i];
    return (int64_t)v;
}
static double be_double(const char *b)
{
    uint64_t v = (uint64_t)be64(b);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static fn_status mirror_exec(fn_gallery *g, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? FN_OK : fn_gdb_fail(g, what);
}

/* Every free-form metadata row (a full read), or people only. */
static fn_status pull_meta_people(fn_gallery *g, int all_meta, int64_t people_after)
{
    PGresult *r = run(g, "reading metadata", all_meta ? "SELECT key, value FROM meta WHERE key NOT IN"
                      " ('schema_version', 'model_id', 'dim', 'preprocess_id')" : "SELECT key, value FROM meta WHERE false",
                      0, NULL, NULL, NULL, 0);
    if (!r) return RUN_FAILED(g);
    sqlite3_stmt *st;
    fn_status s = fn_gdb_prepare(g, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", &st);
    for (int i = 0; s == FN_OK && i < PQntuples(r); i++) {
        sqlite3_bind_text(st, 1, PQgetvalue(r, i, 0), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, PQgetvalue(r, i, 1), -1, SQLITE_TRANSIENT);
        s = mirror_exec(g, st, "mirroring metadata");
    }
    sqlite3_finalize(st);
    PQclear(r);
    FN_TRY(s);
    char after[24];
    snprintf(after, sizeof after, "%lld", (long long)people_after);
    const char *v[1] = {after};
    r = run(g, "reading people", "SELECT id, name FROM people WHERE id > $1 ORDER BY id", 1, v, NULL, NULL, 0);
    if (!r) return RUN_FAILED(g);
    s = fn_gdb_prepare(g, "INSERT OR IGNORE INTO people(id, name) VALUES(?1, ?2)", &st);
    for (int i = 0; s == FN_OK && i < PQntuples(r); i++) {
        sqlite3_bind_int64(st, 1, strtoll(PQgetvalue(r, i, 0), NULL, 10));
        sqlite3_bind_text(st, 2, PQgetvalue(r, i, 1), -1, SQLITE_TRANSIENT);
        s = mirror_exec(g, st, "mirroring people");
    }
    sqlite3_finalize(st);
    PQclear(r);
    return s;
}

/* Images (with embeddings) whose id is above after, in chunks. */
static fn_status pull_images(fn_gallery *g, int64_t after)
{
    sqlite3_stmt *si, *se;
    FN_TRY(fn_gdb_prepare(g, "INSERT OR IGNORE INTO images(id, person_id, path, sha256, x1, y1, x2, y2, prob, added_at)"
                             " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &si));
    fn_status s = fn_gdb_prepare(g, "INSERT OR IGNORE INTO embeddings(image_id, vec) VALUES(?1, ?2)", &se);
    for (;;) {
        if (s != FN_OK) break;
        char a[24];
        snprintf(a, sizeof a, "%lld", (long long)after);
        const char *v[1] = {a};
        PGresult *r = run(g, "reading images",
                          "SELECT i.id, i.person_id, i.path, i.sha256, i.x1, i.y1, i.x2, i.y2, i.prob, i.added_at, e.vec"
                          " FROM images i JOIN embeddings e ON e.image_id = i.id WHERE i.id > $1::bigint ORDER BY i.id"
                          " LIMIT 5000", 1, v, NULL, NULL, 1);
        if (!r) { s = RUN_FAILED(g); break; }
        int n = PQntuples(r);
        for (int i = 0; s == FN_OK && i < n; i++) {
            int64_t id = be64(PQgetvalue(r, i, 0));
            sqlite3_bind_int64(si, 1, id);
            sqlite3_bind_int64(si, 2, be64(PQgetvalue(r, i, 1)));
            sqlite3_bind_text(si, 3, PQgetvalue(r, i, 2), PQgetlength(r, i, 2), SQLITE_TRANSIENT);
            sqlite3_bind_text(si, 4, PQgetvalue(r, i, 3), PQgetlength(r, i, 3), SQLITE_TRANSIENT);
            for (int c = 0; c < 5; c++) sqlite3_bind_double(si, 5 + c, be_double(PQgetvalue(r, i, 4 + c)));
            sqlite3_bind_int64(si, 10, be64(PQgetvalue(r, i, 9)));
            s = mirror_exec(g, si, "mirroring images");
            if (s != FN_OK) break;
            sqlite3_bind_int64(se, 1, id);
            sqlite3_bind_blob(se, 2, PQgetvalue(r, i, 10), PQgetlength(r, i, 10), SQLITE_TRANSIENT);
            s = mirror_exec(g, se, "mirroring embeddings");
            after = id;
            if (id > g->pg->pulled_upto) g->pg->pulled_upto = id;
        }
        PQclear(r);
        if (n < FETCH_ROWS) break;
    }
    sqlite3_finalize(si);
    sqlite3_finalize(se);
    return s;
}

/* What one notification announced (tx_end's payloads). */
typedef struct change {
    char kind;               /* 'i' image removed, 'p' person removed, 'r' person renamed, 'm' metadata key set */
    int64_t id;
    char *key;               /* 'm' (malloc'd) */
} change;
#define MAX_CHANGES 256      /* more at one pull: re-read everything */

/* 1 when payload was understood (into *c, or *add for "add"). */
static int parse_change(const char *payload, change *c, int *add)
{
    long long id;
    char tail;
    memset(c, 0, sizeof *c);
    if (strcmp(payload, "add") == 0) { *add = 1; return 1; }
    if (strncmp(payload, "meta ", 5) == 0) { c->kind = 'm'; return (c->key = strdup(payload + 5)) != NULL; }
    if (sscanf(payload, "image %lld%c", &id, &tail) == 1) c->kind = 'i';
    else if (sscanf(payload, "person %lld%c", &id, &tail) == 1) c->kind = 'p';
    else if (sscanf(payload, "rename %lld%c", &id, &tail) == 1) c->kind = 'r';
    else return 0;
    c->id = id;
    return 1;
}

static fn_status mirror_id(fn_gallery *g, const char *sql, int64_t id, const char *what)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, sql, &st));
    sqlite3_bind_int64(st, 1, id);
    fn_status s = mirror_exec(g, st, what);
    sqlite3_finalize(st);
    return s;
}

static fn_status mirror_key_delete(fn_gallery *g, const char *key)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "DELETE FROM meta WHERE key = ?1", &st));
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    fn_status s = mirror_exec(g, st, "mirroring metadata");
    sqlite3_finalize(st);
    return s;
}

/* A renamed person's name, or a metadata key's value, as PostgreSQL has it
 * now, into the mirror (deleted there when gone). */
static fn_status apply_lookup(fn_gallery *g, const change *c)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    const char *v[1] = {c->kind == 'r' ? id : c->key};
    PGresult *r = run(g, c->kind == 'r' ? "reading a renamed person" : "reading metadata",
                      c->kind == 'r' ? "SELECT name FROM people WHERE id = $1" : "SELECT value FROM meta WHERE key = $1",
                      1, v, NULL, NULL, 0);
    if (!r) return RUN_FAILED(g);
    fn_status s;
    if (PQntuples(r) == 0)
        s = c->kind == 'r' ? mirror_id(g, "DELETE FROM people WHERE id = ?1", c->id, "mirroring a removal")
                           : mirror_key_delete(g, c->key);
    else {
        sqlite3_stmt *st;
        s = fn_gdb_prepare(g, c->kind == 'r' ? "UPDATE people SET name = ?2 WHERE id = ?1"
                                             : "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", &st);
        if (s == FN_OK) {
            if (c->kind == 'r') sqlite3_bind_int64(st, 1, c->id);
            else sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, PQgetvalue(r, 0, 0), -1, SQLITE_TRANSIENT);
            s = mirror_exec(g, st, c->kind == 'r' ? "mirroring a rename" : "mirroring metadata");
            sqlite3_finalize(st);
        }
    }
    PQclear(r);
    return s;
}

static fn_status apply_changes(fn_gallery *g, const change *ch, int n)
{
    fn_status s = FN_OK;
    for (int i = 0; s == FN_OK && i < n; i++) {
        if (ch[i].kind == 'i') s = mirror_id(g, "DELETE FROM images WHERE id = ?1", ch[i].id, "mirroring a removal");
        else if (ch[i].kind == 'p') s = mirror_id(g, "DELETE FROM people WHERE id = ?1", ch[i].id, "mirroring a removal");
        else s = apply_lookup(g, &ch[i]);   /* cascades to images and embeddings, as in the file */
    }
    return s;
}

/* One PostgreSQL snapshot (REPEATABLE READ) into the mirror, in one SQLite
 * transaction: everything (from_scratch), or the announced changes, new
 * people and new images. */
static fn_status fill(fn_gallery *g, int from_scratch, const change *ch, int n_changes)
{
    fn_status s = own_begin(g, "starting a read", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    FN_TRY(s);
    s = fn_gdb_exec(g, "BEGIN");
    if (s == FN_OK && from_scratch) {
        s = fn_gdb_exec(g, "DELETE FROM embeddings; DELETE FROM images; DELETE FROM people;"
                           " DELETE FROM meta WHERE key NOT IN ('schema_version', 'model_id', 'dim', 'preprocess_id')");
        g->pg->pulled_upto = 0;
    }
    int64_t max_person = 0;
    if (s == FN_OK && !from_scratch) s = fn_gdb_int(g, "SELECT coalesce(max(id), 0) FROM people", &max_person);
    if (s == FN_OK && !from_scratch) s = apply_changes(g, ch, n_changes);
    if (s == FN_OK) s = pull_meta_people(g, from_scratch, max_person);
    if (s == FN_OK) s = pull_images(g, g->pg->pulled_upto > ID_MARGIN ? g->pg->pulled_upto - ID_MARGIN : 0);
    sqlite3_exec(g->db, s == FN_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    own_rollback(g);   /* read only: ending it either way */
    return s;
}

fn_status fn_gpg_fill_mirror(fn_gallery *g)
{
    /* the mirror is a private cache: no fsync */
    FN_TRY(fn_gdb_exec(g, "PRAGMA synchronous = OFF"));
    return fill(g, 1, NULL, 0);
}

fn_status fn_gpg_pull(fn_gallery *g, int *changed)
{
    fn_gpg *p = g->pg;
    *changed = 0;
    __atomic_store_n(&p->last_poll_ns, now_ns(), __ATOMIC_RELAXED);
    int add = 0, full = 0;
    if (p->resetting || !PQconsumeInput(p->conn) || connection_lost(p)) {
        /* searches poll every FN_GPG_POLL_MS; while the server is away each
         * poll advances a reconnection a little, and they answer from the mirror */
        if (!reconnect_step(p))
            return unreachable(g, "looking for other servers' changes", NULL,
                               "searches answer from this process's copy of the gallery until it is back");
    }
    full = p->resync;   /* reconnected (here or by a write): notifications sent meanwhile are lost */
    PGnotify *n;
    int me = PQbackendPID(p->conn), n_ch = 0;
    change *ch = NULL;
    while ((n = PQnotifies(p->conn))) {
        if (n->be_pid != me && !full) {
            change *grown = n_ch < MAX_CHANGES ? realloc(ch, (size_t)(n_ch + 1) * sizeof *ch) : NULL;
            if (grown) ch = grown;
            if (!grown || !parse_change(n->extra, &ch[n_ch], &add)) full = 1;   /* unknown, or too many */
            else if (ch[n_ch].kind) n_ch++;
        }
        PQfreemem(n);
    }
    fn_status s = FN_OK;
    if (add || full || n_ch) {
        /* the announced changes; if they do not apply (a rename crossing
         * another), everything */
        if (!full && (s = fill(g, 0, ch, n_ch)) != FN_OK && !connection_lost(p)) full = 1;
        if (full) s = fill(g, 1, NULL, 0);
        p->resync = s != FN_OK;   /* whatever failed, the next pull starts from scratch */
        *changed = s == FN_OK;
    }
    for (int i = 0; i < n_ch; i++) free(ch[i].key);
    free(ch);
    return s;
}

/* ---- writes ---- */

fn_status fn_gpg_begin(fn_gallery *g)
{
    FN_TRY(exec(g, "starting a batch", "BEGIN"));
    g->pg->in_batch = 1;
    return FN_OK;
}

fn_status fn_gpg_commit(fn_gallery *g)
{
    fn_status s = exec(g, "committing the batch", "COMMIT");
    g->pg->in_batch = 0;
    return s;
}

void fn_gpg_rollback(fn_gallery *g)
{
    PGresult *r = PQexec(g->pg->conn, "ROLLBACK");
    PQclear(r);
    g->pg->in_batch = 0;
}

/* body runs inside a transaction of its own, unless a batch is open. */
static fn_status tx_begin(fn_gallery *g)
{
    return g->pg->in_batch ? FN_OK : own_begin(g, "starting a transaction", "BEGIN");
}
/* Ends a write: NOTIFY fn_gallery with payload (none when NULL: nothing
 * changed), then COMMIT unless a batch is open.  Payloads say what changed
 * so that other handles pull only that: "add", "image ID" (removed),
 * "person ID" (removed), "rename ID", "meta KEY"; anything else makes them
 * re-read everything. */
static fn_status tx_end(fn_gallery *g, fn_status s, const char *payload)
{
    if (s == FN_OK && payload) {
        const char *v[1] = {payload};
        PGresult *r = run(g, "notifying", "SELECT pg_notify('fn_gallery', $1)", 1, v, NULL, NULL, 0);
        s = r ? FN_OK : RUN_FAILED(g);
        PQclear(r);
    }
    if (g->pg->in_batch) return s;
    if (s == FN_OK) return own_commit(g, "committing");
    own_rollback(g);
    return s;
}

fn_status fn_gpg_add(fn_gallery *g, const char *person, const fn_gallery_face *f, const float *vec,
                     int64_t *person_id, int64_t *image, int *dup, int64_t *added_at)
{
    *dup = 0;
    FN_TRY(tx_begin(g));
    const char *v1[1] = {person};
    /* DO UPDATE (a no-op) so RETURNING gives the id of an existing person too */
    PGresult *r = run(g, "adding a person", "INSERT INTO people(name) VALUES($1) ON CONFLICT (name) DO UPDATE"
                      " SET name = EXCLUDED.name RETURNING id", 1, v1, NULL, NULL, 0);
    fn_status s = r ? FN_OK : RUN_FAILED(g);
    if (r) *person_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    char pid[24], box[4][32], prob[32], at[24];
    *added_at = g->copy_added_at ? g->copy_added_at : (int64_t)time(NULL);
    snprintf(pid, sizeof pid, "%lld", (long long)*person_id);
    for (int i = 0; i < 4; i++) snprintf(box[i], sizeof box[i], "%.9g", f->box[i]);
    snprintf(prob, sizeof prob, "%.9g", f->prob);
    snprintf(at, sizeof at, "%lld", (long long)*added_at);
    if (s == FN_OK) {
        const char *v[9] = {pid, f->image_path, f->hash_hex, box[0], box[1], box[2], box[3], prob, at};
        r = run(g, "adding an image", "INSERT INTO images(person_id, path, sha256, x1, y1, x2, y2, prob, added_at)"
                " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (person_id, sha256) DO NOTHING RETURNING id",
                9, v, NULL, NULL, 0);
        if (!r) s = RUN_FAILED(g);
        else if (PQntuples(r) == 1) *image = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        else *dup = 1;
        PQclear(r);
    }
    if (s == FN_OK && *dup) {   /* another server enrolled this person + file first */
        const char *v[2] = {pid, f->hash_hex};
        r = run(g, "looking up an image", "SELECT id FROM images WHERE person_id = $1 AND sha256 = $2", 2, v, NULL, NULL, 0);
        if (!r || PQntuples(r) != 1) s = r ? fn_fail(FN_ERR_DB, "%s: an image vanished while enrolling", g->path) : RUN_FAILED(g);
        else *image = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    if (s == FN_OK && !*dup) {
        char iid[24];
        snprintf(iid, sizeof iid, "%lld", (long long)*image);
        /* little-endian float32, as the SQLite blob (this host is little-endian; see insert_embedding) */
        const char *v[2] = {iid, (const char *)vec};
        int lens[2] = {0, g->dim * (int)sizeof(float)}, fmt[2] = {0, 1};
        r = run(g, "adding an embedding", "INSERT INTO embeddings(image_id, vec) VALUES($1, $2)", 2, v, lens, fmt, 0);
        if (!r) s = RUN_FAILED(g);
        PQclear(r);
    }
    return tx_end(g, s, *dup ? NULL : "add");
}

fn_status fn_gpg_remove_person(fn_gallery *g, const char *name)
{
    FN_TRY(tx_begin(g));
    const char *v[1] = {name};
    PGresult *r = run(g, "removing a person", "DELETE FROM people WHERE name = $1 RETURNING id", 1, v, NULL, NULL, 0);
    fn_status s = r ? FN_OK : RUN_FAILED(g);
    char payload[48] = "";
    if (r && PQntuples(r) == 1) snprintf(payload, sizeof payload, "person %s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return tx_end(g, s, payload[0] ? payload : NULL);
}

fn_status fn_gpg_remove_image(fn_gallery *g, int64_t image_id)
{
    FN_TRY(tx_begin(g));
    char id[24], payload[48];
    snprintf(id, sizeof id, "%lld", (long long)image_id);
    snprintf(payload, sizeof payload, "image %lld", (long long)image_id);
    const char *v[1] = {id};
    PGresult *r = run(g, "removing an image", "DELETE FROM images WHERE id = $1", 1, v, NULL, NULL, 0);
    fn_status s = r ? FN_OK : RUN_FAILED(g);
    PQclear(r);
    return tx_end(g, s, payload);
}

fn_status fn_gpg_rename_person(fn_gallery *g, const char *old_name, const char *new_name)
{
    FN_TRY(tx_begin(g));
    const char *v[2] = {old_name, new_name};
    PGresult *r = run(g, "renaming a person", "UPDATE people SET name = $2 WHERE name = $1 RETURNING id", 2, v, NULL,
                      NULL, 0);
    fn_status s = r ? FN_OK : RUN_FAILED(g);
    char payload[48] = "";
    if (r && PQntuples(r) == 1) snprintf(payload, sizeof payload, "rename %s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return tx_end(g, s, payload[0] ? payload : NULL);
}

fn_status fn_gpg_meta_set(fn_gallery *g, const char *key, const char *value)
{
    FN_TRY(tx_begin(g));
    const char *v[2] = {key, value};
    PGresult *r = run(g, "writing metadata", "INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT (key) DO UPDATE"
                      " SET value = EXCLUDED.value", 2, v, NULL, NULL, 0);
    fn_status s = r ? FN_OK : RUN_FAILED(g);
    PQclear(r);
    char payload[FN_GPG_PAYLOAD_MAX];
    /* a key too long for a payload: the others re-read everything */
    if (snprintf(payload, sizeof payload, "meta %s", key) >= (int)sizeof payload) snprintf(payload, sizeof payload, "all");
    return tx_end(g, s, payload);
}
