/* library_impl.h — the photo library's handle and SQL helpers, shared by
 * store.c (schema, reading), scan.c, group.c (clustering, people edits) and
 * sheet.c (thumbnails).  Public API: include/facenet/library.h.
 */
#ifndef FN_LIBRARY_IMPL_H
#define FN_LIBRARY_IMPL_H

#include <sqlite3.h>

#include "facenet/library.h"

struct fn_library {
    char *path;
    sqlite3 *db;
    int dim;
    char model_id[1024];
    int in_tx;
    fn_library_face cur;      /* fn_library_face_get's record */
    float *cur_emb;
    char cur_path[4096], cur_hash[65];
};

fn_status fn_ldb_fail(fn_library *l, const char *what);
fn_status fn_ldb_exec(fn_library *l, const char *sql);
fn_status fn_ldb_prepare(fn_library *l, const char *sql, sqlite3_stmt **st);
/* One integer from a query without parameters (0 when no row). */
fn_status fn_ldb_int(fn_library *l, const char *sql, int64_t *out);
fn_status fn_ldb_begin(fn_library *l);
fn_status fn_ldb_commit(fn_library *l);
void fn_ldb_rollback(fn_library *l);

/* Columns of a face row, in this order, for fn_lface_from_row. */
#define FN_LFACE_COLUMNS "f.id, f.file_id, fi.path, fi.sha256, f.x1, f.y1, f.x2, f.y2, f.prob, f.landmarks, " \
    "f.sharpness, f.yaw, f.quality, coalesce(f.group_id, 0), f.locked, f.not_face, f.embedding"
#define FN_LFACE_FROM " FROM lib_faces f JOIN lib_files fi ON fi.id = f.file_id "
/* Fills out from a row (pointers into the statement: valid until its next step). */
void fn_lface_from_row(fn_library *l, sqlite3_stmt *st, fn_library_face *out);

/* The gallery person of a named group follows its faces (remove, re-add),
 * after the group has followed a rename or removal of that person done in
 * the gallery since (group.c, follow_gallery). */
fn_status fn_library_sync_person(fn_library *l, int64_t group, const char *old_name, fn_gallery *g);

#endif
