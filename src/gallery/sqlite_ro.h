/* sqlite_ro.h — reading a WAL-mode SQLite file whose folder cannot be
 * written (a read-only share, another user's folder): SQLite cannot make
 * the -shm index every WAL reader needs there.  Shared by the gallery and
 * the photo library, which keep their tables in the same file.
 */
#ifndef FN_GALLERY_SQLITE_RO_H
#define FN_GALLERY_SQLITE_RO_H

#include <sqlite3.h>

#include "facenet.h"

/* 1 when the first read of a read-only connection failed for want of a
 * writable folder (SQLITE_READONLY: no -shm can be made; SQLITE_CANTOPEN:
 * nor with a -wal there). */
int fn_sqlite_needs_immutable(sqlite3 *db);

/* Opens path read-only as immutable (the file alone) into *db, when no
 * -wal file holds changes the main file lacks (a file closed cleanly has
 * none); otherwise FN_ERR_IO with a sentence naming label and what to do. */
fn_status fn_sqlite_open_immutable(const char *path, const char *label, sqlite3 **db);

#endif
