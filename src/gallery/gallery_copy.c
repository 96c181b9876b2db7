/* fn_gallery_copy: every row of one gallery into another, whichever their
 * backends (SQLite file or PostgreSQL), through the destination's own add
 * path, so its rules (names, duplicates, transactions) apply. */
#include "gallery/gallery_impl.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fn_status copy_meta(fn_gallery *src, fn_gallery *dst)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(src, "SELECT key, value FROM meta WHERE key NOT IN"
                               " ('schema_version', 'model_id', 'dim', 'preprocess_id', 'threshold') ORDER BY key", &st));
    fn_status s = FN_OK;
    while (s == FN_OK && sqlite3_step(st) == SQLITE_ROW) {
        char *k = strdup((const char *)sqlite3_column_text(st, 0)), *v = strdup((const char *)sqlite3_column_text(st, 1));
        s = k && v ? fn_gallery_meta_set(dst, k, v) : fn_fail(FN_ERR_NOMEM, "out of memory");
        free(k);
        free(v);
    }
    sqlite3_finalize(st);
    return s;
}

/* Rows in image id order; the source is locked, the destination takes its own lock per add. */
static fn_status copy_rows(fn_gallery *src, fn_gallery *dst, int64_t *copied, int64_t *skipped)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(src, "SELECT p.name, i.path, i.sha256, i.x1, i.y1, i.x2, i.y2, i.prob, i.added_at, e.vec"
                               " FROM images i JOIN people p ON p.id = i.person_id JOIN embeddings e ON e.image_id = i.id"
                               " ORDER BY i.id", &st));
    float *vec = malloc((size_t)src->dim * sizeof(float));
    fn_status s = vec ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory");
    int rc;
    while (s == FN_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 9) != src->dim * (int)sizeof(float)) {
            s = fn_fail(FN_ERR_DB, "%s: an embedding has the wrong size (run gallery check)", src->path);
            break;
        }
        memcpy(vec, sqlite3_column_blob(st, 9), (size_t)src->dim * sizeof(float));
        fn_gallery_face f = {(const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                             (const char *)sqlite3_column_text(st, 2),
                             {(float)sqlite3_column_double(st, 3), (float)sqlite3_column_double(st, 4),
                              (float)sqlite3_column_double(st, 5), (float)sqlite3_column_double(st, 6)},
                             (float)sqlite3_column_double(st, 7), vec};
        dst->copy_added_at = sqlite3_column_int64(st, 8);
        fn_gallery_add_info info;
        /* a file under two people in the source is copied as it is (check reports it in both) */
        s = fn_gallery_add_ex(dst, &f, FN_GALLERY_ADD_ALLOW_OTHER_PERSON, &info);
        if (s == FN_OK) {
            if (info.result == FN_GALLERY_ADDED) (*copied)++;
            else (*skipped)++;
        }
    }
    if (s == FN_OK && rc != SQLITE_DONE) s = fn_gdb_fail(src, "reading images");
    sqlite3_finalize(st);
    free(vec);
    return s;
}

fn_status fn_gallery_copy(fn_gallery *src, fn_gallery *dst, int64_t *copied, int64_t *skipped)
{
    int64_t c = 0, k = 0;
    if (copied) *copied = 0;
    if (skipped) *skipped = 0;
    if (!src || !dst || src == dst) return fn_fail(FN_ERR_ARG, "fn_gallery_copy: two different galleries are required");
    if (strcmp(src->model_id, dst->model_id) != 0 || src->dim != dst->dim)
        return fn_fail(FN_ERR_MISMATCH, "%s was built with model %s (dim %d), %s with %s (dim %d): embeddings of one "
                       "model cannot be searched with another's", src->path, src->model_id, src->dim, dst->path,
                       dst->model_id, dst->dim);
    fn_status s = fn_gallery_begin(dst);
    if (s != FN_OK) return s;
    pthread_rwlock_wrlock(&src->lock);
    dst->copy_exact = 1;
    s = copy_rows(src, dst, &c, &k);
    dst->copy_exact = 0;
    dst->copy_added_at = 0;
    float t;
    int has_t = 0;
    if (s == FN_OK) {
        fn_status ts = fn_gthreshold_read(src, &t);
        if (ts == FN_OK) has_t = 1;
        else if (ts != FN_ERR_NOT_FOUND) s = ts;
    }
    if (s == FN_OK) s = copy_meta(src, dst);
    pthread_rwlock_unlock(&src->lock);
    if (s == FN_OK && has_t) s = fn_gallery_set_threshold(dst, t);
    if (s == FN_OK) s = fn_gallery_commit(dst);
    else fn_gallery_rollback(dst);
    if (s == FN_OK) {
        if (copied) *copied = c;
        if (skipped) *skipped = k;
    }
    return s;
}
