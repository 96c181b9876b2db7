/* sqlite_ro.c — read-only folders (sqlite_ro.h). */
#include "gallery/sqlite_ro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"

int fn_sqlite_needs_immutable(sqlite3 *db)
{
    int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    return rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN;
}

fn_status fn_sqlite_open_immutable(const char *path, const char *label, sqlite3 **db)
{
    *db = NULL;
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    if (stat(wal, &st) == 0 && st.st_size > 0)
        return fn_fail(FN_ERR_IO, "%s: its folder cannot be written and %s holds changes not yet in the file; open it "
                       "once with write access (any facenet command that writes), or copy the folder", label, wal);
    /* a URI, with the characters URIs give a meaning percent-encoded */
    size_t n = strlen(path);
    char *uri = malloc(3 * n + 32);
    if (!uri) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", label);
    char *o = uri + sprintf(uri, "file:");
    for (const char *c = path; *c; c++)
        o += strchr("%?#", *c) ? sprintf(o, "%%%02X", (unsigned char)*c) : sprintf(o, "%c", *c);
    strcpy(o, "?immutable=1");
    int rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    if (rc == SQLITE_OK) return FN_OK;
    fn_status s = fn_fail(FN_ERR_IO, "%s: cannot be opened from its read-only folder (%s)", label,
                          *db ? sqlite3_errmsg(*db) : "out of memory");
    sqlite3_close(*db);
    *db = NULL;
    return s;
}
