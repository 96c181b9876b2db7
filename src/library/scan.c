/* scan.c — fn_library_scan: which files need analysing (path, size,
 * modification time, then content hash), the bulk executor over those, and
 * the writes in committed groups (include/facenet/library.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "facenet/batch.h"
#include "library/library_impl.h"

const char *fn_scan_action_name(fn_scan_action a)
{
    static const char *const names[] = {"new", "changed", "unchanged", "touched", "moved", "failed", "removed"};
    return a >= FN_SCAN_NEW && a <= FN_SCAN_REMOVED ? names[a] : "?";
}

void fn_scan_params_init(fn_scan_params *p)
{
    memset(p, 0, sizeof *p);
}

typedef struct cand {
    const char *path;       /* absolute (owned by the scan's arrays) */
    int64_t size, mtime_ns;
    int64_t dev;            /* the file system it is on (st_dev) */
    int64_t file_id;        /* the row of this path, 0 when new */
    char known[65];         /* its stored hash, "" when new */
    int faces;              /* the faces stored for that row */
} cand;

typedef struct missing {
    int64_t id;
    char *path;
    char hash[65];
    int64_t dev;            /* the file system it was on; -1 when not recorded (a library from before) */
    int faces;              /* the faces stored for it */
    int claimed;            /* a moved file took its row */
} missing;

typedef struct scan {
    fn_library *l;
    cand *c;
    int nc;
    missing *m;
    int nm;
    char **sorted_m;        /* missing hashes, sorted, for the workers */
    fn_scan_fn cb;
    void *user;
    fn_scan_stats st;
    int done, total;
    /* the events of the files written since the last commit: told only
     * once committed, so a file reported is a file stored */
    struct held { const char *path; fn_scan_action act; int faces; char *from, *err; } *held;
    int nheld;
} scan;

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int emit(scan *s, const char *path, fn_scan_action a, int faces, const char *from, const char *err)
{
    s->done++;
    fn_scan_event ev = {path, a, faces, from, err, s->done, s->total};
    return s->cb ? s->cb(s->user, &ev) : 0;
}

static void hold(scan *s, const char *path, fn_scan_action act, int faces, const char *from, const char *err)
{
    struct held *h = &s->held[s->nheld++];
    h->path = path, h->act = act, h->faces = faces;
    h->from = from ? strdup(from) : NULL;
    h->err = err ? strdup(err) : NULL;
}

/* After a commit (tell) or a rollback (not): the held events, in order. */
static void tell_held(scan *s, int tell)
{
    for (int i = 0; i < s->nheld; i++) {
        struct held *h = &s->held[i];
        if (tell && !s->st.stopped && emit(s, h->path, h->act, h->faces, h->from, h->err)) s->st.stopped = 1;
        free(h->from);
        free(h->err);
    }
    s->nheld = 0;
}

/* The workers' test: the stored hash (touched) or a missing file's (moved). */
static int skip_known(void *user, int index, const char *path, const char *hash)
{
    const scan *s = user;
    (void)path;
    if (!strcmp(s->c[index].known, hash)) return 1;
    const char *key = hash;
    return s->nm && bsearch(&key, s->sorted_m, (size_t)s->nm, sizeof *s->sorted_m, str_cmp) != NULL;
}

static const char *cand_source(void *user, int index)
{
    const scan *s = user;
    return index < s->nc ? s->c[index].path : NULL;
}

/* A set of paths (open addressing, FNV-1a; the strings are not copied). */
typedef struct path_set { const char **slot; size_t cap; } path_set;

static int path_set_init(path_set *h, int n)
{
    h->cap = 64;
    while (h->cap < (size_t)n * 2) h->cap *= 2;
    h->slot = calloc(h->cap, sizeof *h->slot);
    return h->slot ? 0 : -1;
}

static void path_set_free(path_set *h) { free(h->slot); h->slot = NULL; }

/* 1 when path is in the set already; else adds it and returns 0. */
static int path_seen(path_set *h, const char *path)
{
    uint64_t x = 1469598103934665603ull;
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) x = (x ^ *c) * 1099511628211ull;
    for (size_t i = (size_t)x & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
        if (!h->slot[i]) { h->slot[i] = path; return 0; }
        if (!strcmp(h->slot[i], path)) return 1;
    }
}

static int under(const char *path, char *const *roots, int nroots)
{
    for (int i = 0; i < nroots; i++) {
        size_t n = strlen(roots[i]);
        if (!strncmp(path, roots[i], n) && (path[n] == '/' || path[n] == '\0' || (n == 1 && roots[i][0] == '/')))
            return 1;
    }
    return 0;
}

/* Library files outside `listed` whose path no longer exists. */
static fn_status find_missing(scan *s, char **listed, int nlisted)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(s->l, "SELECT id, path, sha256, coalesce(dev, -1), (SELECT count(*) FROM lib_faces WHERE "
                                   "file_id = lib_files.id) FROM lib_files ORDER BY id", &st));
    int rc, cap = 0;
    fn_status r = FN_OK;
    while (r == FN_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 1);
        if (nlisted && bsearch(&p, listed, (size_t)nlisted, sizeof *listed, str_cmp)) continue;
        struct stat sb;
        if (stat(p, &sb) == 0 || errno != ENOENT) continue;
        if (s->nm == cap) {
            cap = cap ? 2 * cap : 64;
            missing *m = realloc(s->m, (size_t)cap * sizeof *m);
            if (!m) { r = fn_fail(FN_ERR_NOMEM, "out of memory"); break; }
            s->m = m;
        }
        missing *m = &s->m[s->nm];
        m->id = sqlite3_column_int64(st, 0);
        m->path = strdup(p);
        snprintf(m->hash, sizeof m->hash, "%s", (const char *)sqlite3_column_text(st, 2));
        m->dev = sqlite3_column_int64(st, 3);
        m->faces = sqlite3_column_int(st, 4);
        m->claimed = 0;
        if (!m->path) r = fn_fail(FN_ERR_NOMEM, "out of memory");
        else s->nm++;
    }
    sqlite3_finalize(st);
    if (r != FN_OK) return r;
    s->sorted_m = malloc((size_t)(s->nm ? s->nm : 1) * sizeof *s->sorted_m);
    if (!s->sorted_m) return fn_fail(FN_ERR_NOMEM, "out of memory");
    for (int i = 0; i < s->nm; i++) s->sorted_m[i] = s->m[i].hash;
    qsort(s->sorted_m, (size_t)s->nm, sizeof *s->sorted_m, str_cmp);
    return FN_OK;
}

static fn_status lookup(fn_library *l, sqlite3_stmt *st, cand *c, int64_t *size, int64_t *mtime, int64_t *dev)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, c->path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        c->file_id = sqlite3_column_int64(st, 0);
        *size = sqlite3_column_int64(st, 1);
        *mtime = sqlite3_column_int64(st, 2);
        snprintf(c->known, sizeof c->known, "%s", (const char *)sqlite3_column_text(st, 3));
        c->faces = sqlite3_column_int(st, 4);
        *dev = sqlite3_column_int64(st, 5);
        return FN_OK;
    }
    return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "looking up a file");
}

static fn_status bind_run(fn_library *l, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, what);
}

static fn_status exec_id(fn_library *l, const char *sql, int64_t id)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, sql, &st));
    sqlite3_bind_int64(st, 1, id);
    fn_status s = bind_run(l, st, "updating the photo library");
    sqlite3_finalize(st);
    return s;
}

static fn_status set_file(fn_library *l, cand *c, const char *hash, int w, int h)
{
    sqlite3_stmt *st;
    if (c->file_id) {
        FN_TRY(exec_id(l, "DELETE FROM lib_faces WHERE file_id = ?1", c->file_id));
        FN_TRY(fn_ldb_prepare(l, "UPDATE lib_files SET size = ?2, mtime_ns = ?3, sha256 = ?4, width = ?5, height = ?6,"
                                 " scanned_at = ?7, dev = ?8 WHERE id = ?1", &st));
        sqlite3_bind_int64(st, 1, c->file_id);
    } else {
        FN_TRY(fn_ldb_prepare(l, "INSERT INTO lib_files(path, size, mtime_ns, sha256, width, height, scanned_at, dev)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &st));
        sqlite3_bind_text(st, 1, c->path, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 2, c->size);
    sqlite3_bind_int64(st, 3, c->mtime_ns);
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, w);
    sqlite3_bind_int(st, 6, h);
    sqlite3_bind_int64(st, 7, (int64_t)time(NULL));
    sqlite3_bind_int64(st, 8, c->dev);
    fn_status s = bind_run(l, st, "storing a file");
    sqlite3_finalize(st);
    if (s == FN_OK && !c->file_id) c->file_id = sqlite3_last_insert_rowid(l->db);
    return s;
}

static fn_status store_faces(fn_library *l, int64_t file_id, const fn_batch_result *r, int *stored)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "INSERT INTO lib_faces(file_id, idx, x1, y1, x2, y2, prob, landmarks, sharpness, yaw,"
                             " quality, embedding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", &st));
    fn_status s = FN_OK;
    *stored = 0;
    for (int i = 0; s == FN_OK && i < r->n_embedded; i++) {
        const fn_face *f = &r->faces->faces[i];
        float sharp = r->sharpness ? r->sharpness[i] : 0, yaw = 0;
        float q = fn_face_quality(f, sharp, &yaw);
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int(st, 2, i);
        for (int j = 0; j < 4; j++) sqlite3_bind_double(st, 3 + j, f->box[j]);
        sqlite3_bind_double(st, 7, f->prob);
        sqlite3_bind_blob(st, 8, f->landmarks, sizeof f->landmarks, SQLITE_STATIC);
        sqlite3_bind_double(st, 9, sharp);
        sqlite3_bind_double(st, 10, yaw);
        sqlite3_bind_double(st, 11, q);
        sqlite3_bind_blob(st, 12, r->faces->emb + (size_t)i * l->dim, (int)(l->dim * sizeof(float)), SQLITE_STATIC);
        s = bind_run(l, st, "storing a face");
        if (s == FN_OK) (*stored)++;
    }
    sqlite3_finalize(st);
    return s;
}

/* A changed file keeps the user's word on its faces: a face found again in
 * the same place (boxes overlapping by FN_GALLERY_SAME_FACE_IOU) with
 * nearly the same embedding (closer than CARRY_MAX_DISTANCE, far inside
 * any verification threshold) keeps its group, its lock and "not a face".
 * A photo tool writing tags into the file changes its bytes, not its
 * faces, and a rescan undid moves and not-a-face marks. */
#define CARRY_MAX_DISTANCE 0.5f

typedef struct old_face { float box[4]; int64_t group; int locked, not_face; float *emb; } old_face;

static float box_iou(const float a[4], const float b[4])
{
    float iw = fminf(a[2], b[2]) - fmaxf(a[0], b[0]), ih = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih, ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return ua > 0 ? inter / ua : 0;
}

/* The faces that carry the user's word (a group, a lock or not-a-face):
 * those of file_id before they go, or (hash given) those remembered of a
 * removed photo with that content or at that path (moved away, tags
 * written into it, moved back: carry_over then checks that they are the
 * same faces). */
static fn_status old_faces(fn_library *l, int64_t file_id, const char *hash, const char *path, old_face **out, int *n)
{
    *out = NULL, *n = 0;
    sqlite3_stmt *st;
    if (hash) {
        FN_TRY(fn_ldb_prepare(l, "SELECT x1, y1, x2, y2, coalesce((SELECT id FROM lib_groups WHERE id = group_id), 0),"
                                 " locked, not_face, embedding FROM lib_gone WHERE sha256 = ?1 OR path = ?2", &st));
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    } else {
        FN_TRY(fn_ldb_prepare(l, "SELECT x1, y1, x2, y2, coalesce(group_id, 0), locked, not_face, embedding FROM lib_faces"
                                 " WHERE file_id = ?1 AND (group_id IS NOT NULL OR locked OR not_face)", &st));
        sqlite3_bind_int64(st, 1, file_id);
    }
    fn_status r = FN_OK;
    int cap = 0;
    while (r == FN_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            old_face *p = realloc(*out, (size_t)cap * sizeof *p);
            if (!p) { r = fn_fail(FN_ERR_NOMEM, "out of memory"); break; }
            *out = p;
        }
        old_face *o = &(*out)[*n];
        for (int j = 0; j < 4; j++) o->box[j] = (float)sqlite3_column_double(st, j);
        o->group = sqlite3_column_int64(st, 4);
        o->locked = sqlite3_column_int(st, 5);
        o->not_face = sqlite3_column_int(st, 6);
        o->emb = NULL;
        if (sqlite3_column_bytes(st, 7) == (int)(l->dim * sizeof(float)) && (o->emb = malloc((size_t)l->dim * sizeof(float))))
            memcpy(o->emb, sqlite3_column_blob(st, 7), (size_t)l->dim * sizeof(float));
        (*n)++;
    }
    sqlite3_finalize(st);
    return r;
}

static void old_faces_free(old_face *o, int n)
{
    for (int i = 0; i < n; i++) free(o[i].emb);
    free(o);
}

/* After the new faces of file_id are stored: each old face's word goes to
 * the new face that is it; *carried counts them. */
static fn_status carry_over(fn_library *l, int64_t file_id, const fn_batch_result *r, const old_face *o, int no,
                            int *carried)
{
    if (!no) return FN_OK;
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "UPDATE lib_faces SET group_id = nullif(?3, 0), locked = ?4, not_face = ?5"
                             " WHERE file_id = ?1 AND idx = ?2", &st));
    fn_status s = FN_OK;
    for (int k = 0; s == FN_OK && k < no; k++) {
        int best = -1;
        float best_iou = (float)FN_GALLERY_SAME_FACE_IOU;
        for (int i = 0; i < r->n_embedded; i++) {
            float iou = box_iou(o[k].box, r->faces->faces[i].box);
            if (iou < best_iou) continue;
            const float *e = r->faces->emb + (size_t)i * l->dim;
            float d2 = 0;
            for (int j = 0; o[k].emb && j < l->dim; j++) d2 += (e[j] - o[k].emb[j]) * (e[j] - o[k].emb[j]);
            if (!o[k].emb || d2 >= CARRY_MAX_DISTANCE * CARRY_MAX_DISTANCE) continue;
            best = i, best_iou = iou;
        }
        if (best < 0) continue;
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int(st, 2, best);
        sqlite3_bind_int64(st, 3, o[k].group);
        sqlite3_bind_int(st, 4, o[k].locked);
        sqlite3_bind_int(st, 5, o[k].not_face);
        s = bind_run(l, st, "keeping a face's correction");
        if (s == FN_OK && carried) (*carried)++;
    }
    sqlite3_finalize(st);
    return s;
}

/* A photo removed: the user's word on its faces is kept by content, for
 * when it comes back (the folder was moved away and back, a drive
 * reformatted and copied again): a named group emptied so came back as a
 * new unnamed one.  Kept GONE_DAYS. */
#define GONE_DAYS 365

static fn_status remember_gone(fn_library *l, int64_t file_id)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "INSERT INTO lib_gone SELECT f.sha256, f.path, x1, y1, x2, y2, group_id, locked, not_face,"
                             " embedding, strftime('%s', 'now') FROM lib_faces JOIN lib_files f ON f.id = file_id"
                             " WHERE file_id = ?1 AND (group_id IS NOT NULL OR locked OR not_face)", &st));
    sqlite3_bind_int64(st, 1, file_id);
    fn_status s = bind_run(l, st, "remembering a removed photo's faces");
    sqlite3_finalize(st);
    return s;
}

static fn_status prune_gone(fn_library *l)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "DELETE FROM lib_gone WHERE gone_at < strftime('%s', 'now') - ?1", &st));
    sqlite3_bind_int64(st, 1, (int64_t)GONE_DAYS * 86400);
    fn_status s = bind_run(l, st, "forgetting long-removed photos' faces");
    sqlite3_finalize(st);
    return s;
}

static fn_status forget_gone(fn_library *l, const char *hash, const char *path)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "DELETE FROM lib_gone WHERE sha256 = ?1 OR path = ?2", &st));
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    fn_status s = bind_run(l, st, "forgetting a removed photo's faces");
    sqlite3_finalize(st);
    return s;
}

/* A skipped file: touched (same content) or moved (a missing file's content). */
static fn_status take_skipped(scan *s, cand *c, const char *hash, fn_scan_action *act, int *faces, const char **from)
{
    fn_library *l = s->l;
    *from = NULL;
    *faces = 0;
    if (!strcmp(c->known, hash)) {
        sqlite3_stmt *st;
        FN_TRY(fn_ldb_prepare(l, "UPDATE lib_files SET size = ?2, mtime_ns = ?3, dev = ?4 WHERE id = ?1", &st));
        sqlite3_bind_int64(st, 1, c->file_id);
        sqlite3_bind_int64(st, 2, c->size);
        sqlite3_bind_int64(st, 3, c->mtime_ns);
        sqlite3_bind_int64(st, 4, c->dev);
        fn_status r = bind_run(l, st, "updating a file");
        sqlite3_finalize(st);
        *act = FN_SCAN_TOUCHED;
        return r;
    }
    missing *m = NULL, *any = NULL;
    for (int i = 0; i < s->nm; i++)
        if (!strcmp(s->m[i].hash, hash)) {
            if (!any) any = &s->m[i];
            if (!s->m[i].claimed) { m = &s->m[i]; break; }
        }
    if (!any) return fn_fail(FN_ERR_INTERNAL, "%s: skipped without a reason", c->path);
    /* this path's own old row (other content) goes; the moved row takes the path */
    if (c->file_id) FN_TRY(exec_id(l, "DELETE FROM lib_files WHERE id = ?1", c->file_id));
    sqlite3_stmt *st;
    if (m) {
        FN_TRY(fn_ldb_prepare(l, "UPDATE lib_files SET path = ?2, size = ?3, mtime_ns = ?4, dev = ?5 WHERE id = ?1",
                              &st));
        sqlite3_bind_int64(st, 1, m->id);
        sqlite3_bind_text(st, 2, c->path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, c->size);
        sqlite3_bind_int64(st, 4, c->mtime_ns);
        sqlite3_bind_int64(st, 5, c->dev);
        fn_status r = bind_run(l, st, "moving a file");
        sqlite3_finalize(st);
        FN_TRY(r);
        m->claimed = 1;
        *faces = m->faces;
        *from = m->path;
        *act = FN_SCAN_MOVED;
        return FN_OK;
    }
    /* a second copy of a moved file: its faces copied from the first */
    c->file_id = 0;
    FN_TRY(set_file(l, c, hash, 0, 0));
    FN_TRY(fn_ldb_prepare(l, "INSERT INTO lib_faces(file_id, idx, x1, y1, x2, y2, prob, landmarks, sharpness, yaw,"
                             " quality, embedding) SELECT ?1, idx, x1, y1, x2, y2, prob, landmarks, sharpness, yaw,"
                             " quality, embedding FROM lib_faces WHERE file_id = ?2", &st));
    sqlite3_bind_int64(st, 1, c->file_id);
    sqlite3_bind_int64(st, 2, any->id);
    fn_status r = bind_run(l, st, "copying faces");
    sqlite3_finalize(st);
    *faces = sqlite3_changes(l->db);
    *act = FN_SCAN_NEW;
    return r;
}

/* Unchanged files whose file system is not (or no longer) the one
 * recorded: a library from before the records, or a drive that came back
 * under another device number. */
static fn_status record_devs(fn_library *l, const cand *c, int n)
{
    sqlite3_stmt *st = NULL;
    FN_TRY(fn_ldb_begin(l));
    fn_status r = fn_ldb_prepare(l, "UPDATE lib_files SET dev = ?2 WHERE id = ?1", &st);
    for (int i = 0; r == FN_OK && i < n; i++) {
        sqlite3_bind_int64(st, 1, c[i].file_id);
        sqlite3_bind_int64(st, 2, c[i].dev);
        r = bind_run(l, st, "recording a file's file system");
    }
    sqlite3_finalize(st);
    if (r == FN_OK) return fn_ldb_commit(l);
    fn_ldb_rollback(l);
    return r;
}

#define COMMIT_FILES 64

/* 1 when some listed file (listed: sorted) lies under folder dir. */
static int holds_listed(const char *dir, char **listed, int nlisted)
{
    char prefix[PATH_MAX + 1];   /* "dir/": the paths below dir sort together from the first >= it */
    size_t n = (size_t)snprintf(prefix, sizeof prefix, "%s%s", dir, strcmp(dir, "/") ? "/" : "");
    if (n >= sizeof prefix) return 0;
    int lo = 0, hi = nlisted;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp(listed[mid], prefix) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < nlisted && !strncmp(listed[lo], prefix, n);
}

/* A missing file looks unmounted, not deleted, when the nearest folder
 * above it that still exists is on another file system than the file was:
 * a drive's mount point is a folder of the disk beneath while the drive is
 * away (scanning it removed the whole library with the names given), and
 * a removable drive's folder under /media goes with it.  A file deleted,
 * alone or with its folder, leaves a folder of its own file system.  For a
 * file stored before file systems were recorded (dev < 0): when that
 * folder holds no photo now. */
static int looks_unmounted(const char *path, int64_t dev, char **listed, int nlisted)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (;;) {
        char *sl = strrchr(dir, '/');
        if (!sl) return 0;
        if (sl == dir) sl[1] = '\0';
        else *sl = '\0';
        struct stat sb;
        if (stat(dir, &sb) == 0) {
            if (!S_ISDIR(sb.st_mode)) return 0;
            return dev >= 0 ? (int64_t)sb.st_dev != dev : !holds_listed(dir, listed, nlisted);
        }
        if (sl == dir) return 0;
    }
}

/* roots: the scanned PATHs; listed: the files found under them (sorted). */
static fn_status run(scan *s, fn_engine *e, const fn_scan_params *p, char **roots, int nroots, char **listed,
                     int nlisted)
{
    fn_library *l = s->l;
    int commit_files = p->commit_files > 0 ? p->commit_files : COMMIT_FILES;
    fn_batch_params bp;
    fn_batch_params_init(&bp);
    bp.workers = p->workers;
    bp.batch = p->batch;
    bp.hash = 1;
    bp.skip = skip_known;
    bp.skip_user = s;
    bp.max_side = p->max_side == 0 ? FN_SCAN_DEFAULT_SIDE : p->max_side < 0 ? 0 : p->max_side;
    bp.reduced_decode = !p->full_decode;
    fn_batch *b = NULL;
    if (s->nc > 0) FN_TRY(fn_batch_new(e, &bp, cand_source, s, &b));
    s->held = malloc((size_t)(commit_files + s->nm + 1) * sizeof *s->held);
    if (!s->held) {
        fn_batch_free(b);
        return fn_fail(FN_ERR_NOMEM, "scan: out of memory");
    }
    s->nheld = 0;
    fn_status r = fn_ldb_begin(l);
    int pending = 0;
    double last = fn_now();
    for (int i = 0; r == FN_OK && i < s->nc && !s->st.stopped; i++) {
        const fn_batch_result *res;
        r = fn_batch_next(b, &res);
        if (r != FN_OK) break;
        if (!res) { r = fn_fail(FN_ERR_INTERNAL, "scan: the executor ended early"); break; }
        cand *c = &s->c[res->index];
        fn_scan_action act = FN_SCAN_FAILED;
        int faces = 0;
        const char *from = NULL, *err = NULL;
        if (res->skipped) {
            r = take_skipped(s, c, res->hash, &act, &faces, &from);
        } else if (res->status != FN_OK) {
            act = FN_SCAN_FAILED;
            err = res->error;
        } else {
            act = c->file_id ? FN_SCAN_CHANGED : FN_SCAN_NEW;
            old_face *was = NULL;
            int nwas = 0;
            int back = 0;
            if (c->file_id) {
                s->st.faces_removed += c->faces;   /* the old content's faces go, their corrections stay */
                r = old_faces(l, c->file_id, NULL, NULL, &was, &nwas);
            } else {   /* a photo removed before, back: its faces take up the user's word again */
                r = old_faces(l, 0, res->hash, c->path, &was, &nwas);
                back = nwas > 0;
            }
            if (r == FN_OK) r = set_file(l, c, res->hash, res->image_w, res->image_h);
            if (r == FN_OK) r = store_faces(l, c->file_id, res, &faces);
            if (r == FN_OK) r = carry_over(l, c->file_id, res, was, nwas, back ? &s->st.faces_restored : NULL);
            if (r == FN_OK && back) r = forget_gone(l, res->hash, c->path);
            old_faces_free(was, nwas);
            s->st.faces_added += faces;
        }
        if (r != FN_OK) break;
        switch (act) {
        case FN_SCAN_NEW: s->st.added++; break;
        case FN_SCAN_CHANGED: s->st.changed++; break;
        case FN_SCAN_TOUCHED: s->st.touched++; break;
        case FN_SCAN_MOVED: s->st.moved++; break;
        default: s->st.failed++; break;
        }
        pending++;
        hold(s, c->path, act, faces, from, err);
        if (pending >= commit_files || fn_now() - last >= 1.0) {
            r = fn_ldb_commit(l);
            if (r == FN_OK) tell_held(s, 1);
            if (r == FN_OK) r = fn_ldb_begin(l);
            pending = 0;
            last = fn_now();
        }
    }
    fn_batch_free(b);
    /* what was under the scanned paths and is gone (and did not move) */
    if (r == FN_OK && s->nm) r = prune_gone(l);
    for (int i = 0; r == FN_OK && !s->st.stopped && i < s->nm; i++) {
        missing *m = &s->m[i];
        if (m->claimed || !under(m->path, roots, nroots)) continue;
        if (!p->prune && looks_unmounted(m->path, m->dev, listed, nlisted)) {
            s->st.kept_missing++;
            continue;
        }
        r = remember_gone(l, m->id);
        if (r == FN_OK) r = exec_id(l, "DELETE FROM lib_files WHERE id = ?1", m->id);
        if (r != FN_OK) break;
        s->st.removed++;
        s->st.faces_removed += m->faces;
        s->total++;
        hold(s, m->path, FN_SCAN_REMOVED, m->faces, NULL, NULL);
    }
    if (r == FN_OK) {
        r = fn_ldb_commit(l);
        tell_held(s, r == FN_OK);
    } else {
        /* keep what is consistent: the open group is committed when the failure was not SQLite's */
        if (r != FN_ERR_DB) {
            char why[1024];
            snprintf(why, sizeof why, "%s", fn_last_error());
            tell_held(s, fn_ldb_commit(l) == FN_OK);
            fn_fail(r, "%s", why);
        } else {
            fn_ldb_rollback(l);
            tell_held(s, 0);
        }
    }
    free(s->held);
    s->held = NULL;
    return r;
}

fn_status fn_library_scan(fn_library *l, fn_engine *e, const char *const *files, int n, const char *const *roots,
                          int nroots, const fn_scan_params *pin, fn_scan_fn cb, void *user, fn_scan_stats *out)
{
    fn_scan_params p;
    if (pin) p = *pin;
    else fn_scan_params_init(&p);
    if (out) memset(out, 0, sizeof *out);
    if (!l || !e || n < 0 || (n > 0 && !files) || nroots < 0 || (nroots > 0 && !roots))
        return fn_fail(FN_ERR_ARG, "fn_library_scan: a library, an engine and the files are required");
    if (p.max_side != -1 && p.max_side != 0 && p.max_side < 64)
        return fn_fail(FN_ERR_ARG, "scan: working resolution %d px is under 64 (0: default, -1: full)", p.max_side);
    scan s = {0};
    s.l = l;
    s.cb = cb;
    s.user = user;
    s.total = n;
    char **abs = calloc((size_t)(n ? n : 1), sizeof *abs);
    char **sorted = calloc((size_t)(n ? n : 1), sizeof *sorted);
    char **rabs = calloc((size_t)(nroots ? nroots : 1), sizeof *rabs);
    s.c = calloc((size_t)(n ? n : 1), sizeof *s.c);
    fn_status r = abs && sorted && rabs && s.c ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory for %d files", n);
    int nroot_ok = 0, nabs = 0;
    for (int i = 0; r == FN_OK && i < nroots; i++) {
        char buf[PATH_MAX];
        if (realpath(roots[i], buf)) rabs[nroot_ok++] = strdup(buf);
    }
    sqlite3_stmt *q = NULL;
    /* the faces an unchanged file has: its event says so (it said 0) */
    if (r == FN_OK)
        r = fn_ldb_prepare(l, "SELECT id, size, mtime_ns, sha256, (SELECT count(*) FROM lib_faces WHERE file_id = "
                              "lib_files.id), coalesce(dev, -1) FROM lib_files WHERE path = ?1", &q);
    /* 1. path, size and modification time: unchanged files are not read */
    int *state = calloc((size_t)(n ? n : 1), sizeof *state);   /* 0 candidate, 1 unchanged, 2 failed, 3 again */
    path_set seen = {0};
    int ndup = 0;
    if (r == FN_OK && path_set_init(&seen, n)) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    char **errs = calloc((size_t)(n ? n : 1), sizeof *errs);
    int *kept = calloc((size_t)(n ? n : 1), sizeof *kept);   /* an unchanged file's faces */
    cand *redev = calloc((size_t)(n ? n : 1), sizeof *redev);  /* unchanged files on a file system not recorded */
    int nredev = 0;
    if (r == FN_OK && (!state || !errs || !kept || !redev)) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    for (int i = 0; r == FN_OK && i < n; i++) {
        char buf[PATH_MAX];
        struct stat sb;
        if (!realpath(files[i], buf) || stat(buf, &sb) != 0) {
            state[i] = 2;
            char msg[PATH_MAX + 64];
            snprintf(msg, sizeof msg, "%s: cannot be read (%s)", files[i], strerror(errno));
            errs[i] = strdup(msg);
            abs[i] = strdup(files[i]);
            continue;
        }
        abs[i] = strdup(buf);
        if (!abs[i]) { r = fn_fail(FN_ERR_NOMEM, "out of memory"); break; }
        /* 0. one photo once: named twice (overlapping folders, a folder
         * symlink, the same file given twice) it is one real path, and a
         * second row for it failed the whole scan (UNIQUE lib_files.path) */
        if (path_seen(&seen, abs[i])) {
            state[i] = 3;
            ndup++;
            continue;
        }
        sorted[nabs++] = abs[i];
        cand c = {abs[i], (int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec,
                  (int64_t)sb.st_dev, 0, "", 0};
        int64_t size = -1, mtime = -1, dev = -1;
        r = lookup(l, q, &c, &size, &mtime, &dev);
        if (r == FN_OK && c.file_id && size == c.size && mtime == c.mtime_ns) {
            state[i] = 1, kept[i] = c.faces;
            if (dev != c.dev) redev[nredev++] = (cand){.file_id = c.file_id, .dev = c.dev};   /* recorded below */
        } else
            s.c[s.nc++] = c;
    }
    sqlite3_finalize(q);
    if (r == FN_OK && nredev) r = record_devs(l, redev, nredev);
    s.total = n - ndup;
    if (r == FN_OK) {
        qsort(sorted, (size_t)nabs, sizeof *sorted, str_cmp);
        r = find_missing(&s, sorted, nabs);
    }
    for (int i = 0; r == FN_OK && i < n && !s.st.stopped; i++) {
        if (state[i] == 3) continue;
        if (state[i] == 1) {
            s.st.unchanged++;
            if (emit(&s, abs[i], FN_SCAN_UNCHANGED, kept[i], NULL, NULL)) s.st.stopped = 1;
        } else if (state[i] == 2) {
            s.st.failed++;
            if (emit(&s, abs[i], FN_SCAN_FAILED, 0, NULL, errs[i])) s.st.stopped = 1;
        }
    }
    if (r == FN_OK && !s.st.stopped) r = run(&s, e, &p, rabs, nroot_ok, sorted, nabs);
    s.st.files = n - ndup;
    if (out) *out = s.st;
    path_set_free(&seen);
    for (int i = 0; abs && i < n; i++) free(abs[i]);
    for (int i = 0; errs && i < n; i++) free(errs[i]);
    for (int i = 0; i < nroot_ok; i++) free(rabs[i]);
    for (int i = 0; i < s.nm; i++) free(s.m[i].path);
    free(s.m);
    free(s.sorted_m);
    free(abs);
    free(sorted);
    free(rabs);
    free(s.c);
    free(state);
    free(kept);
    free(redev);
    free(errs);
    return r;
}
