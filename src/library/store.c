/* store.c — the photo library's tables in the gallery file: opening,
 * schema, and reading faces and groups. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "gallery/pg.h"
#include "gallery/sqlite_ro.h"
#include "library/library_impl.h"

#define BUSY_TIMEOUT_MS 10000

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS lib_meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS lib_files(id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE,"
    " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, width INTEGER, height INTEGER,"
    " scanned_at INTEGER NOT NULL, dev INTEGER);"
    "CREATE INDEX IF NOT EXISTS lib_files_sha256 ON lib_files(sha256);"
    "CREATE TABLE IF NOT EXISTS lib_groups(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE,"
    " locked INTEGER NOT NULL DEFAULT 0, owns_person INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS lib_faces(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " file_id INTEGER NOT NULL REFERENCES lib_files(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
    " x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL, prob REAL NOT NULL,"
    " landmarks BLOB NOT NULL, sharpness REAL NOT NULL, yaw REAL NOT NULL, quality REAL NOT NULL,"
    " embedding BLOB NOT NULL, group_id INTEGER REFERENCES lib_groups(id) ON DELETE SET NULL,"
    " locked INTEGER NOT NULL DEFAULT 0, not_face INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS lib_faces_file ON lib_faces(file_id);"
    "CREATE INDEX IF NOT EXISTS lib_faces_group ON lib_faces(group_id);"
    "CREATE TABLE IF NOT EXISTS lib_enrolled(image_id INTEGER PRIMARY KEY, person TEXT NOT NULL,"
    " mine INTEGER NOT NULL DEFAULT 1);"
    /* the user's word on the faces of photos removed by a scan, by content: taken up again when the photo
     * comes back (scan.c) */
    "CREATE TABLE IF NOT EXISTS lib_gone(sha256 TEXT NOT NULL, path TEXT NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,"
    " x2 REAL NOT NULL, y2 REAL NOT NULL, group_id INTEGER, locked INTEGER NOT NULL, not_face INTEGER NOT NULL,"
    " embedding BLOB NOT NULL, gone_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS lib_gone_sha256 ON lib_gone(sha256);"
    "CREATE INDEX IF NOT EXISTS lib_gone_path ON lib_gone(path);"
    /* the gallery images the library added (group.c); recorded from the start when no group had a person yet */
    "INSERT OR IGNORE INTO lib_meta(key, value) SELECT 'enrolled_recorded', '1'"
    " WHERE NOT EXISTS (SELECT 1 FROM lib_groups WHERE owns_person = 1)"
    " AND NOT EXISTS (SELECT 1 FROM lib_enrolled);";

fn_status fn_ldb_fail(fn_library *l, const char *what)
{
    return fn_fail(FN_ERR_DB, "%s: %s: %s", l->path, what, sqlite3_errmsg(l->db));
}

fn_status fn_ldb_exec(fn_library *l, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) == SQLITE_OK) return FN_OK;
    fn_status s = fn_fail(FN_ERR_DB, "%s: photo library: %s", l->path, msg ? msg : "SQL error");
    sqlite3_free(msg);
    return s;
}

fn_status fn_ldb_prepare(fn_library *l, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(l->db, sql, -1, st, NULL) != SQLITE_OK) return fn_ldb_fail(l, "preparing a query");
    return FN_OK;
}

fn_status fn_ldb_int(fn_library *l, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, sql, &st));
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "reading");
}

fn_status fn_ldb_begin(fn_library *l)
{
    FN_TRY(fn_ldb_exec(l, "BEGIN IMMEDIATE"));
    l->in_tx = 1;
    return FN_OK;
}

fn_status fn_ldb_commit(fn_library *l)
{
    if (!l->in_tx) return FN_OK;
    fn_status s = fn_ldb_exec(l, "COMMIT");
    if (s != FN_OK) sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    l->in_tx = 0;
    return s;
}

void fn_ldb_rollback(fn_library *l)
{
    if (l->in_tx) sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    l->in_tx = 0;
}

static fn_status meta_get(fn_library *l, const char *table, const char *key, char *out, size_t cap)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT value FROM %s WHERE key = ?1", table);
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, sql, &st));
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    out[0] = '\0';
    if (rc == SQLITE_ROW) snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return FN_OK;
    return rc == SQLITE_DONE ? FN_ERR_NOT_FOUND : fn_ldb_fail(l, "reading metadata");
}

static fn_status open_steps(fn_library *l, const fn_gallery_model *m, int readonly)
{
    if (fn_gpg_is_url(l->path))
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: a photo library (scan, cluster, people) lives in a gallery file, not in "
                       "PostgreSQL; scan into a file, then share its named people with `facenet gallery copy LIB.db "
                       "postgresql://...`", l->path);
    if (sqlite3_open_v2(l->path, &l->db, (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return fn_fail(FN_ERR_NOT_FOUND, "%s: cannot open the photo library's gallery file (%s); create it with "
                       "`facenet scan` or by enrolling", l->path, l->db ? sqlite3_errmsg(l->db) : "no memory");
    if (readonly && fn_sqlite_needs_immutable(l->db)) {   /* a folder that cannot be written */
        sqlite3_close(l->db);
        FN_TRY(fn_sqlite_open_immutable(l->path, l->path, &l->db));
    }
    sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
    int64_t has_meta = 0;
    FN_TRY(fn_ldb_int(l, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", &has_meta));
    if (!has_meta) return fn_fail(FN_ERR_DB, "%s: not a facenet gallery (no gallery tables)", l->path);
    char dim[32];
    if (meta_get(l, "meta", "model_id", l->model_id, sizeof l->model_id) != FN_OK ||
        meta_get(l, "meta", "dim", dim, sizeof dim) != FN_OK || (l->dim = atoi(dim)) <= 0 || l->dim > 4096)
        return fn_fail(FN_ERR_DB, "%s: the gallery names no model id and dimension", l->path);
    if (m && m->model_id && strcmp(m->model_id, l->model_id))
        return fn_fail(FN_ERR_MISMATCH, "%s: built with model %s, not %s", l->path, l->model_id, m->model_id);
    if (m && m->dim && m->dim != l->dim)
        return fn_fail(FN_ERR_MISMATCH, "%s: embeddings of %d floats, not %d", l->path, l->dim, m->dim);
    if (readonly) {   /* nothing written: the tables must be there */
        int64_t has_lib = 0;
        FN_TRY(fn_ldb_int(l, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'lib_meta'", &has_lib));
        if (!has_lib)
            return fn_fail(FN_ERR_NOT_FOUND, "%s: no photo library in this gallery yet: run `facenet scan --gallery %s "
                           "PHOTOS...`", l->path, l->path);
        FN_TRY(fn_ldb_exec(l, "PRAGMA foreign_keys = ON"));
    } else {
        FN_TRY(fn_ldb_exec(l, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"));
        FN_TRY(fn_ldb_exec(l, schema));
        int64_t has_dev = 0;   /* the file system of each file (scan.c), added to libraries made before it */
        FN_TRY(fn_ldb_int(l, "SELECT count(*) FROM pragma_table_info('lib_files') WHERE name = 'dev'", &has_dev));
        if (!has_dev) FN_TRY(fn_ldb_exec(l, "ALTER TABLE lib_files ADD COLUMN dev INTEGER"));
    }
    char v[16];
    fn_status s = meta_get(l, "lib_meta", "schema_version", v, sizeof v);
    if (s == FN_ERR_NOT_FOUND && !readonly)
        return fn_ldb_exec(l, "INSERT INTO lib_meta(key, value) VALUES ('schema_version', '1')");
    if (s != FN_OK) return s == FN_ERR_NOT_FOUND ? fn_fail(s, "%s: the photo library has no schema version", l->path) : s;
    if (strcmp(v, "1")) return fn_fail(FN_ERR_UNSUPPORTED, "%s: photo library schema %s is newer than this facenet's (1)",
                                       l->path, v);
    return FN_OK;
}

static fn_status library_open(const char *path, const fn_gallery_model *model, int readonly, fn_library **out)
{
    if (!out) return fn_fail(FN_ERR_ARG, "fn_library_open: out is required");
    *out = NULL;
    if (!path || !*path) return fn_fail(FN_ERR_ARG, "fn_library_open: a gallery path is required");
    fn_library *l = calloc(1, sizeof *l);
    if (!l || !(l->path = strdup(path))) {
        free(l);
        return fn_fail(FN_ERR_NOMEM, "out of memory opening %s", path);
    }
    fn_status s = open_steps(l, model, readonly);
    if (s != FN_OK) {
        fn_library_close(l);
        return s;
    }
    *out = l;
    return FN_OK;
}

fn_status fn_library_open(const char *path, const fn_gallery_model *model, fn_library **out)
{
    return library_open(path, model, 0, out);
}

fn_status fn_library_open_readonly(const char *path, const fn_gallery_model *model, fn_library **out)
{
    return library_open(path, model, 1, out);
}

void fn_library_close(fn_library *l)
{
    if (!l) return;
    fn_ldb_rollback(l);
    if (l->db) sqlite3_close(l->db);
    free(l->cur_emb);
    free(l->path);
    free(l);
}

void fn_lface_from_row(fn_library *l, sqlite3_stmt *st, fn_library_face *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    o->file_id = sqlite3_column_int64(st, 1);
    o->path = (const char *)sqlite3_column_text(st, 2);
    o->hash_hex = (const char *)sqlite3_column_text(st, 3);
    for (int i = 0; i < 4; i++) o->face.box[i] = (float)sqlite3_column_double(st, 4 + i);
    o->face.prob = (float)sqlite3_column_double(st, 8);
    if (sqlite3_column_bytes(st, 9) == (int)sizeof o->face.landmarks)
        memcpy(o->face.landmarks, sqlite3_column_blob(st, 9), sizeof o->face.landmarks);
    o->sharpness = (float)sqlite3_column_double(st, 10);
    o->yaw = (float)sqlite3_column_double(st, 11);
    o->quality = (float)sqlite3_column_double(st, 12);
    o->group = sqlite3_column_int64(st, 13);
    o->locked = sqlite3_column_int(st, 14);
    o->not_face = sqlite3_column_int(st, 15);
    o->dim = sqlite3_column_bytes(st, 16) == (int)(l->dim * sizeof(float)) ? l->dim : 0;
    o->embedding = o->dim ? sqlite3_column_blob(st, 16) : NULL;
}

fn_status fn_library_faces(fn_library *l, int64_t group, int (*fn)(void *ctx, const fn_library_face *f), void *ctx)
{
    sqlite3_stmt *st;
    const char *sql = group < 0 ? "SELECT " FN_LFACE_COLUMNS FN_LFACE_FROM "ORDER BY f.id"
                      : group == 0 ? "SELECT " FN_LFACE_COLUMNS FN_LFACE_FROM "WHERE f.group_id IS NULL ORDER BY f.id"
                                   : "SELECT " FN_LFACE_COLUMNS FN_LFACE_FROM "WHERE f.group_id = ?1 ORDER BY f.id";
    FN_TRY(fn_ldb_prepare(l, sql, &st));
    if (group > 0) sqlite3_bind_int64(st, 1, group);
    int rc;
    fn_library_face f;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn_lface_from_row(l, st, &f);
        if (fn(ctx, &f)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "reading faces");
}

fn_status fn_library_files(fn_library *l, int (*fn)(void *ctx, const char *path), void *ctx)
{
    if (!l || !fn) return fn_fail(FN_ERR_ARG, "fn_library_files: a library and a callback are required");
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT path FROM lib_files ORDER BY id", &st));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        if (p && fn(ctx, p)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "reading the library's files");
}

fn_status fn_library_face_get(fn_library *l, int64_t id, fn_library_face *out)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT " FN_LFACE_COLUMNS FN_LFACE_FROM "WHERE f.id = ?1", &st));
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    fn_status s = FN_OK;
    if (rc == SQLITE_ROW) {
        fn_lface_from_row(l, st, out);
        /* copy out of the statement, which is finalised here */
        if (!l->cur_emb) l->cur_emb = malloc((size_t)l->dim * sizeof(float));
        if (!l->cur_emb) s = fn_fail(FN_ERR_NOMEM, "out of memory");
        else {
            if (out->embedding) memcpy(l->cur_emb, out->embedding, (size_t)l->dim * sizeof(float));
            snprintf(l->cur_path, sizeof l->cur_path, "%s", out->path ? out->path : "");
            snprintf(l->cur_hash, sizeof l->cur_hash, "%s", out->hash_hex ? out->hash_hex : "");
            out->embedding = out->embedding ? l->cur_emb : NULL;
            out->path = l->cur_path;
            out->hash_hex = l->cur_hash;
        }
    } else {
        s = rc == SQLITE_DONE ? fn_fail(FN_ERR_NOT_FOUND, "%s: no face %lld in the photo library", l->path, (long long)id)
                              : fn_ldb_fail(l, "reading a face");
    }
    sqlite3_finalize(st);
    return s;
}

fn_status fn_library_count(fn_library *l, int64_t *files, int64_t *faces, int64_t *groups)
{
    if (files) FN_TRY(fn_ldb_int(l, "SELECT count(*) FROM lib_files", files));
    if (faces) FN_TRY(fn_ldb_int(l, "SELECT count(*) FROM lib_faces", faces));
    if (groups) FN_TRY(fn_ldb_int(l, "SELECT count(*) FROM lib_groups", groups));
    return FN_OK;
}

fn_status fn_library_groups(fn_library *l, int (*fn)(void *ctx, const fn_library_group *g), void *ctx)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT g.id, coalesce(g.name, ''), g.locked, count(f.id),"
                             " (SELECT b.id FROM lib_faces b WHERE b.group_id = g.id AND b.not_face = 0"
                             "  ORDER BY b.quality DESC, b.id LIMIT 1)"
                             " FROM lib_groups g LEFT JOIN lib_faces f ON f.group_id = g.id AND f.not_face = 0"
                             " GROUP BY g.id ORDER BY count(f.id) DESC, g.id", &st));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn_library_group g = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                              sqlite3_column_int64(st, 3), sqlite3_column_int(st, 2), sqlite3_column_int64(st, 4)};
        if (fn(ctx, &g)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "reading groups");
}

fn_status fn_library_find_group(fn_library *l, const char *s, int64_t *id)
{
    *id = 0;
    if (!s || !*s) return fn_fail(FN_ERR_ARG, "a group id or name is required");
    char *end;
    long long v = strtoll(s, &end, 10);
    sqlite3_stmt *st;
    if (!*end && v > 0) {
        FN_TRY(fn_ldb_prepare(l, "SELECT id FROM lib_groups WHERE id = ?1", &st));
        sqlite3_bind_int64(st, 1, v);
    } else {
        char name[FN_GALLERY_NAME_MAX];
        FN_TRY(fn_gallery_normalize_name(s, name, sizeof name, NULL));
        FN_TRY(fn_ldb_prepare(l, "SELECT id FROM lib_groups WHERE name = ?1", &st));
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return FN_OK;
    if (rc != SQLITE_DONE) return fn_ldb_fail(l, "finding a group");
    return fn_fail(FN_ERR_NOT_FOUND, "%s: no group '%s' in the photo library (`facenet people list` shows them)",
                   l->path, s);
}

float fn_face_quality(const fn_face *f, float sharpness, float *yaw)
{
    float w = f->box[2] - f->box[0], h = f->box[3] - f->box[1], s = w < h ? w : h;
    float q_size = fminf(fmaxf((s - 20.0f) / 40.0f, 0.0f), 1.0f);
    float q_sharp = fminf(fmaxf((sharpness - 10.0f) / 50.0f, 0.0f), 1.0f);
    float ex = f->landmarks[1][0] - f->landmarks[0][0], ey = f->landmarks[1][1] - f->landmarks[0][1];
    float mx = (f->landmarks[0][0] + f->landmarks[1][0]) / 2, my = (f->landmarks[0][1] + f->landmarks[1][1]) / 2;
    float e2 = ex * ex + ey * ey;
    float t = e2 > 1e-6f ? fabsf(((f->landmarks[2][0] - mx) * ex + (f->landmarks[2][1] - my) * ey) / e2) : 1.0f;
    if (yaw) *yaw = t;
    float q_pose = fminf(fmaxf(1.0f - t / 0.5f, 0.0f), 1.0f);
    return q_size * q_sharp * q_pose;
}

fn_status fn_library_get_cluster_threshold(fn_library *l, float *t, fn_cluster_method *method)
{
    char v[64], m[32];
    FN_TRY(meta_get(l, "lib_meta", "cluster_threshold", v, sizeof v));
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x > 0 && x <= 2))
        return fn_fail(FN_ERR_DB, "%s: the stored clustering threshold '%s' is not a distance in (0, 2]", l->path, v);
    fn_cluster_method cm = FN_CLUSTER_DEFAULT_METHOD;
    if (meta_get(l, "lib_meta", "cluster_method", m, sizeof m) == FN_OK && fn_cluster_method_parse(m, &cm) != FN_OK)
        return fn_fail(FN_ERR_DB, "%s: the stored clustering method '%s' is none of whispers, dbscan, average", l->path,
                       m);
    *t = (float)x;
    if (method) *method = cm;
    return FN_OK;
}

fn_status fn_library_set_cluster_threshold(fn_library *l, float t, fn_cluster_method method)
{
    sqlite3_stmt *st;
    if (t == 0) {   /* forget it: cluster goes back to the model's default */
        FN_TRY(fn_ldb_prepare(l, "DELETE FROM lib_meta WHERE key IN ('cluster_threshold', 'cluster_method')", &st));
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "forgetting the clustering threshold");
    }
    if (!(t > 0 && t <= 2)) return fn_fail(FN_ERR_ARG, "clustering threshold %g is outside (0, 2]", (double)t);
    char v[64];
    snprintf(v, sizeof v, "%.9g", (double)t);
    FN_TRY(fn_ldb_prepare(l, "INSERT OR REPLACE INTO lib_meta(key, value) VALUES ('cluster_threshold', ?1),"
                             " ('cluster_method', ?2)", &st));
    sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, fn_cluster_method_name(method), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "storing the clustering threshold");
}
