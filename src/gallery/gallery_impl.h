/* gallery_impl.h — the gallery handle and the SQL helpers its files share.
 * Owns: struct fn_gallery.  Private to src/gallery/; callers use gallery.h.
 */
#ifndef FN_GALLERY_IMPL_H
#define FN_GALLERY_IMPL_H

#include <pthread.h>
#include <sqlite3.h>
#include "gallery/gallery.h"
#include "gallery/index.h"
#include "gallery/pg.h"

#define FN_GALLERY_APP_ID 0x464E4741   /* "FNGA" in PRAGMA application_id: marks our files */

typedef struct fn_gperson { int64_t id; char *name; } fn_gperson;

/* Statements of the enrolment path, prepared once per handle. */
enum { FN_GST_PERSON, FN_GST_PERSON_KEY, FN_GST_FILE, FN_GST_ADD_PERSON, FN_GST_ADD_IMAGE, FN_GST_ADD_EMBEDDING,
       FN_GST_N };

struct fn_gallery {
    char *path;                /* as shown in sentences: the file, or the URL without its password */
    char *db_path;             /* the SQLite file: path itself, or a PostgreSQL gallery's private mirror */
    char *pg_url;              /* NULL, or the PostgreSQL URL as given */
    fn_gpg *pg;                /* NULL for a SQLite gallery (pg.h) */
    sqlite3 *db;
    int readonly, in_tx;
    int index_ok;              /* 0 after a failed reload: search refuses until reopened */
    int legacy_names;          /* some stored name is not in normal form (an older facenet): lookups
                                  then also compare normalised stored names (a scan) */
    int hash_index;            /* images_sha256 exists (created at the first write if missing) */
    char *model_id, *preprocess_id;
    int dim;
    fn_gindex index;           /* every embedding, kept in step with the file */
    fn_gperson *people;        /* sorted by id (ids only grow), for names in results */
    size_t n_people, cap_people;
    float *rowbuf;             /* dim floats: the blob being written */
    int64_t data_version;      /* PRAGMA data_version when the index was loaded */
    /* Searches take it shared; everything touching the connection or the
     * index takes it exclusive.  Never held across calls. */
    pthread_rwlock_t lock;
    sqlite3_stmt *stmt[FN_GST_N];   /* fn_gdb_cached; finalised at close */
    fn_gann_params ann_params; /* when and how the index gets an ANN index (ann.h) */
    char *ann_path;            /* the sidecar: path + ".ann" */
    int ann_tried_file;        /* the sidecar was read (or found missing) once */
    /* set by fn_gallery_copy on the destination while it adds: embeddings are
     * stored as given (already unit norm: byte-equal copies), with this date */
    int copy_exact;
    int64_t copy_added_at;
};

/* FN_ERR_DB with "path: what (sqlite's message)". */
fn_status fn_gdb_fail(fn_gallery *g, const char *what);
fn_status fn_gdb_exec(fn_gallery *g, const char *sql);
fn_status fn_gdb_prepare(fn_gallery *g, const char *sql, sqlite3_stmt **st);
/* The handle's statement for slot (prepared on first use); give it back
 * with fn_gdb_release, never finalise it. */
fn_status fn_gdb_cached(fn_gallery *g, int slot, const char *sql, sqlite3_stmt **st);
void fn_gdb_release(sqlite3_stmt *st);
/* Single integer / text result of a one-row query; FN_ERR_NOT_FOUND on no row. */
fn_status fn_gdb_int(fn_gallery *g, const char *sql, int64_t *out);
fn_status fn_gdb_meta(fn_gallery *g, const char *key, char **value_out);  /* malloc'd */

/* "path: table T, row R: what; ..." — a value read from the file is not what
 * the schema promises (a hand-edited, older or damaged file).  FN_ERR_DB. */
fn_status fn_gbad_row(fn_gallery *g, const char *table, int64_t row, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "NULL", "an integer", "a real number", "text", "a blob" for a column type. */
const char *fn_gdb_type_name(int sqlite_type);
/* One images row as selected by FN_GIMAGE_COLUMNS, each value checked
 * (types, finite box with x1 <= x2 and y1 <= y2, prob in [0, 1], 64 hex
 * digits).  im's strings point into the statement. */
#define FN_GIMAGE_COLUMNS "i.id, i.person_id, i.path, i.sha256, i.x1, i.y1, i.x2, i.y2, i.prob, i.added_at"
fn_status fn_gimage_row(fn_gallery *g, sqlite3_stmt *st, fn_gallery_image *im);

/* The stored threshold, checked to lie in (0, 2]; FN_ERR_NOT_FOUND when none. */
fn_status fn_gthreshold_read(fn_gallery *g, float *t);

/* Intersection over union of two boxes x1, y1, x2, y2 (0 when either is empty). */
double fn_gbox_iou(const float a[4], const float b[4]);

/* Names (names.c): register fn_name_key() on the connection; normalise a
 * caller's name with the gallery's path in the error sentence. */
fn_status fn_gnames_register(fn_gallery *g);
fn_status fn_gname(const fn_gallery *g, const char *in, char out[FN_GALLERY_NAME_MAX], int *changed);

/* Reload people and the index from the file (after rollback or an outside change). */
fn_status fn_gallery_reload(fn_gallery *g);
/* A PostgreSQL gallery takes other servers' changes before a read (search,
 * list, count, metadata), at most every FN_GPG_POLL_MS; a failure (the
 * server is down) leaves the mirror as it is: reads keep answering.  Call
 * without holding g->lock. */
static inline void fn_gallery_pg_poll(fn_gallery *g)
{
    if (g->pg && fn_gpg_poll_due(g->pg)) fn_gallery_refresh(g, NULL);
}
/* Brings the ANN index in step with the rows after a (re)load: reconciles
 * the one in memory, else reads the sidecar once, else builds one when the
 * gallery is big enough.  Never fails the caller: without an ANN index
 * searches scan exactly.  (gallery_ann.c) */
void fn_gallery_ann_sync(fn_gallery *g);
/* At close: a writable handle saves a changed ANN index (building it first
 * when the gallery grew past the threshold while open). */
void fn_gallery_ann_close(fn_gallery *g);
/* The person's name for id, or NULL. */
const char *fn_gallery_person_name(const fn_gallery *g, int64_t id);

#endif
