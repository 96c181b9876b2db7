/* Changing a gallery: enrol, remove, rename, metadata.  Every change is one
 * SQLite transaction (or a savepoint inside the caller's batch), and the
 * in-memory index is updated only after the file accepted the change, from
 * memory reserved before it, so the two never disagree. */
#include "gallery/gallery_impl.h"
#include "core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- transactions ---- */

/* Outside a batch: BEGIN IMMEDIATE takes the write lock up front, so the
 * busy timeout applies instead of a mid-transaction upgrade failure. */
static fn_status tx_enter(fn_gallery *g)
{
    return fn_gdb_exec(g, g->in_tx ? "SAVEPOINT fn_op" : "BEGIN IMMEDIATE");
}

static fn_status tx_leave(fn_gallery *g, fn_status s)
{
    if (s == FN_OK) {
        if (fn_gdb_exec(g, g->in_tx ? "RELEASE fn_op" : "COMMIT") == FN_OK) return FN_OK;
        s = FN_ERR_DB;
    }
    /* keep the first failure's sentence: these only clean up */
    sqlite3_exec(g->db, g->in_tx ? "ROLLBACK TO fn_op; RELEASE fn_op" : "ROLLBACK", NULL, NULL, NULL);
    return s;
}

static fn_status writable(fn_gallery *g)
{
    if (!g->db) return fn_fail(FN_ERR_ARG, "gallery is not open");
    if (g->readonly) return fn_fail(FN_ERR_ARG, "%s: the gallery was opened read-only", g->path);
    return FN_OK;
}

#define LOCKED(g, expr) do { pthread_rwlock_wrlock(&(g)->lock); fn_status s_ = (expr); \
    pthread_rwlock_unlock(&(g)->lock); return s_; } while (0)

static fn_status begin_locked(fn_gallery *g)
{
    FN_TRY(writable(g));
    if (g->in_tx) return fn_fail(FN_ERR_ARG, "%s: a batch is already open (no nesting)", g->path);
    FN_TRY(fn_gdb_exec(g, "BEGIN IMMEDIATE"));
    if (g->pg && fn_gpg_begin(g) != FN_OK) {
        sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
        return FN_ERR_DB;
    }
    g->in_tx = 1;
    return FN_OK;
}

static fn_status commit_locked(fn_gallery *g)
{
    if (!g->in_tx) return fn_fail(FN_ERR_ARG, "%s: commit without a batch", g->path);
    /* PostgreSQL first: it is the truth; the mirror follows */
    fn_status s = g->pg ? fn_gpg_commit(g) : FN_OK;
    if (s == FN_OK) s = fn_gdb_exec(g, "COMMIT");
    if (s == FN_OK) { g->in_tx = 0; return FN_OK; }
    sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
    g->in_tx = 0;
    fn_status r = fn_gallery_reload(g);   /* memory held the batch: bring it back to the file */
    return r == FN_OK ? s : r;
}

static fn_status rollback_locked(fn_gallery *g)
{
    if (!g->in_tx) return fn_fail(FN_ERR_ARG, "%s: rollback without a batch", g->path);
    g->in_tx = 0;
    if (g->pg) fn_gpg_rollback(g);
    if (sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK) return fn_gdb_fail(g, "rolling back");
    return fn_gallery_reload(g);
}

fn_status fn_gallery_begin(fn_gallery *g) { LOCKED(g, begin_locked(g)); }
fn_status fn_gallery_commit(fn_gallery *g) { LOCKED(g, commit_locked(g)); }
fn_status fn_gallery_rollback(fn_gallery *g) { LOCKED(g, rollback_locked(g)); }

/* ---- validation ---- */

static fn_status check_hash(const fn_gallery *g, const char *h)
{
    size_t n = h ? strnlen(h, 65) : 0;
    int ok = n == 64;
    for (size_t i = 0; ok && i < n; i++) ok = (h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f');
    return ok ? FN_OK : fn_fail(FN_ERR_ARG, "%s: image hash must be 64 lower-case hex digits (fn_hash_file)", g->path);
}

static fn_status check_face(fn_gallery *g, const fn_gallery_face *f, char name[FN_GALLERY_NAME_MAX], int *changed)
{
    if (!f || !f->image_path || !f->embedding) return fn_fail(FN_ERR_ARG, "%s: face, image path and embedding are required", g->path);
    FN_TRY(fn_gname(g, f->person, name, changed));
    FN_TRY(check_hash(g, f->hash_hex));
    for (int i = 0; i < 4; i++)
        if (!isfinite(f->box[i])) return fn_fail(FN_ERR_ARG, "%s: %s: face box is not finite", g->path, f->image_path);
    if (!isfinite(f->prob)) return fn_fail(FN_ERR_ARG, "%s: %s: face probability is not finite", g->path, f->image_path);
    memcpy(g->rowbuf, f->embedding, (size_t)g->dim * sizeof(float));
    if (g->copy_exact) {   /* a copy: the source's bytes, checked but not normalised again */
        int ok = 1;
        double ss = 0;
        for (int i = 0; i < g->dim; i++) ss += (double)g->rowbuf[i] * g->rowbuf[i], ok &= isfinite(g->rowbuf[i]);
        if (ok && ss > 0 && isfinite(ss)) return FN_OK;
    }
    if (!fn_l2_normalize_checked(g->rowbuf, g->dim))
        return fn_fail(FN_ERR_ARG, "%s: %s: embedding is zero or has a non-finite value", g->path, f->image_path);
    return FN_OK;
}

/* ---- small queries ---- */

/* *id = the person's id, or 0 when there is no such person.  name is
 * normalised; a person stored by an older facenet under another spelling of
 * it (NFD, trailing space) is found by normalising the stored names too. */
static fn_status find_person(fn_gallery *g, const char *name, int64_t *id)
{
    static const char *const sql[] = {"SELECT id FROM people WHERE name = ?1",
                                       "SELECT id FROM people WHERE fn_name_key(name) = ?1 ORDER BY id LIMIT 1"};
    *id = 0;
    for (int k = 0; k < 1 + g->legacy_names && !*id; k++) {
        sqlite3_stmt *st;
        FN_TRY(fn_gdb_cached(g, k ? FN_GST_PERSON_KEY : FN_GST_PERSON, sql[k], &st));
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
        fn_gdb_release(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fn_gdb_fail(g, "looking up a person");
    }
    return FN_OK;
}

static fn_status find_image(fn_gallery *g, int64_t person, const char *hash, int64_t *id)
{
    sqlite3_stmt *st;
    *id = 0;
    FN_TRY(fn_gdb_prepare(g, "SELECT id FROM images WHERE person_id = ?1 AND sha256 = ?2", &st));
    sqlite3_bind_int64(st, 1, person);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FN_OK : fn_gdb_fail(g, "looking up an image");
}

/* Every image of this file hash, in one indexed lookup: *own = this
 * person's image of it (0: none); other = the first other person (by image
 * id) whose face overlaps box (IoU >= FN_GALLERY_SAME_FACE_IOU; box NULL: any
 * face), "" when none. */
static fn_status find_file(fn_gallery *g, const char *hash, int64_t person, const float *box, int64_t *own,
                           char other[FN_GALLERY_NAME_MAX], int64_t *other_image)
{
    sqlite3_stmt *st;
    other[0] = '\0';
    *own = 0;
    if (other_image) *other_image = 0;
    FN_TRY(fn_gdb_cached(g, FN_GST_FILE, "SELECT " FN_GIMAGE_COLUMNS ", p.name FROM images i JOIN people p"
                         " ON p.id = i.person_id WHERE i.sha256 = ?1 ORDER BY i.id", &st));
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    fn_status s = FN_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn_gallery_image im;
        if ((s = fn_gimage_row(g, st, &im)) != FN_OK) break;
        if (im.person_id == person) { if (!*own) *own = im.id; continue; }
        if (other[0] || (box && fn_gbox_iou(box, im.box) < FN_GALLERY_SAME_FACE_IOU)) continue;
        if (fn_gallery_normalize_name((const char *)sqlite3_column_text(st, 10), other, FN_GALLERY_NAME_MAX, NULL) != FN_OK) {
            s = fn_gbad_row(g, "people", im.person_id, "%s", fn_last_error());
            other[0] = '\0';
            break;
        }
        if (other_image) *other_image = im.id;
    }
    if (s == FN_OK && rc != SQLITE_DONE) s = fn_gdb_fail(g, "looking up a file");
    fn_gdb_release(st);
    return s;
}

/* Runs a statement whose parameters are bound by the caller to completion. */
/* The same for a cached statement (fn_gdb_cached). */
static fn_status step_release(fn_gallery *g, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    fn_status s = rc == SQLITE_DONE ? FN_OK : fn_gdb_fail(g, what);
    fn_gdb_release(st);
    return s;
}

static fn_status step_done(fn_gallery *g, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    fn_status s = rc == SQLITE_DONE ? FN_OK : fn_gdb_fail(g, what);
    sqlite3_finalize(st);
    return s;
}

/* ---- enrol ---- */

static fn_status reserve_person(fn_gallery *g)
{
    if (g->n_people < g->cap_people) return FN_OK;
    size_t cap = g->cap_people ? g->cap_people * 2 : 64;
    fn_gperson *p = realloc(g->people, cap * sizeof *p);
    if (!p) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
    g->people = p;
    g->cap_people = cap;
    return FN_OK;
}

/* A PostgreSQL gallery's mirror takes PostgreSQL's ids (id > 0). */
static fn_status mirror_person(fn_gallery *g, const char *name, int64_t id)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "INSERT OR IGNORE INTO people(id, name) VALUES(?1, ?2)", &st));
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    return step_done(g, st, "adding a person");
}

static fn_status mirror_image(fn_gallery *g, int64_t id, int64_t person, const fn_gallery_face *f, int64_t added_at)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "INSERT INTO images(id, person_id, path, sha256, x1, y1, x2, y2, prob, added_at)"
                             " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &st));
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, person);
    sqlite3_bind_text(st, 3, f->image_path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, f->hash_hex, -1, SQLITE_STATIC);
    for (int i = 0; i < 4; i++) sqlite3_bind_double(st, 5 + i, f->box[i]);
    sqlite3_bind_double(st, 9, f->prob);
    sqlite3_bind_int64(st, 10, added_at);
    return step_done(g, st, "adding an image");
}

static fn_status insert_person(fn_gallery *g, const char *name, int64_t *id)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_cached(g, FN_GST_ADD_PERSON, "INSERT INTO people(name) VALUES(?1)", &st));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    FN_TRY(step_release(g, st, "adding a person"));
    *id = sqlite3_last_insert_rowid(g->db);
    return FN_OK;
}

static fn_status insert_image(fn_gallery *g, int64_t person, const fn_gallery_face *f, int64_t *id)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_cached(g, FN_GST_ADD_IMAGE, "INSERT INTO images(person_id, path, sha256, x1, y1, x2, y2, prob,"
                         " added_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &st));
    sqlite3_bind_int64(st, 1, person);
    sqlite3_bind_text(st, 2, f->image_path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->hash_hex, -1, SQLITE_STATIC);
    for (int i = 0; i < 4; i++) sqlite3_bind_double(st, 4 + i, f->box[i]);
    sqlite3_bind_double(st, 8, f->prob);
    sqlite3_bind_int64(st, 9, g->copy_added_at ? g->copy_added_at : (int64_t)time(NULL));
    FN_TRY(step_release(g, st, "adding an image"));
    *id = sqlite3_last_insert_rowid(g->db);
    return FN_OK;
}

static fn_status insert_embedding(fn_gallery *g, int64_t image)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int i = 0; i < g->dim; i++) {   /* blobs are little-endian on every host */
        uint32_t u;
        memcpy(&u, &g->rowbuf[i], 4);
        u = __builtin_bswap32(u);
        memcpy(&g->rowbuf[i], &u, 4);
    }
#endif
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_cached(g, FN_GST_ADD_EMBEDDING, "INSERT INTO embeddings(image_id, vec) VALUES(?1, ?2)", &st));
    sqlite3_bind_int64(st, 1, image);
    sqlite3_bind_blob(st, 2, g->rowbuf, g->dim * (int)sizeof(float), SQLITE_STATIC);
    return step_release(g, st, "adding an embedding");
}

/* The SQL half of an add, inside tx_enter/tx_leave.  f->person is normalised. */
static fn_status add_rows(fn_gallery *g, const fn_gallery_face *f, int flags, int64_t *person, int *new_person,
                          int64_t *image, fn_gallery_add_info *info)
{
    if (!g->hash_index) {
        FN_TRY(fn_gdb_exec(g, FN_GALLERY_HASH_INDEX));
        g->hash_index = 1;
    }
    FN_TRY(find_person(g, f->person, person));
    FN_TRY(find_file(g, f->hash_hex, *person ? *person : -1, f->box, image, info->other_person, &info->other_image_id));
    if (*image) { info->result = FN_GALLERY_SKIPPED_DUPLICATE; return FN_OK; }
    if (info->other_person[0] && !(flags & FN_GALLERY_ADD_ALLOW_OTHER_PERSON)) {
        info->result = FN_GALLERY_REFUSED_OTHER_PERSON;
        return FN_OK;
    }
    if (g->pg) {   /* PostgreSQL first, in its own transaction (or the batch's); the mirror takes its ids */
        int dup = 0;
        int64_t known = *person, added_at = 0;
        FN_TRY(fn_gpg_add(g, f->person, f, g->rowbuf, person, image, &dup, &added_at));
        if (dup) { info->result = FN_GALLERY_SKIPPED_DUPLICATE; *person = known; return FN_OK; }   /* arrives with the next pull */
        *new_person = known == 0;
        if (*new_person) FN_TRY(mirror_person(g, f->person, *person));
        FN_TRY(mirror_image(g, *image, *person, f, added_at));
        FN_TRY(insert_embedding(g, *image));
        info->result = FN_GALLERY_ADDED;
        return FN_OK;
    }
    *new_person = *person == 0;
    if (*new_person) FN_TRY(insert_person(g, f->person, person));
    FN_TRY(insert_image(g, *person, f, image));
    FN_TRY(insert_embedding(g, *image));
    info->result = FN_GALLERY_ADDED;
    return FN_OK;
}

static fn_status add_locked(fn_gallery *g, const fn_gallery_face *face, int flags, fn_gallery_add_info *info)
{
    FN_TRY(writable(g));
    char name[FN_GALLERY_NAME_MAX];
    FN_TRY(check_face(g, face, name, &info->name_changed));
    memcpy(info->person, name, sizeof name);
    fn_gallery_face f = *face;
    f.person = name;
    /* memory first, so nothing can fail after the commit */
    FN_TRY(fn_gindex_make_room(&g->index));
    FN_TRY(reserve_person(g));
    char *copy = strdup(name);
    if (!copy) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
    float *normalised = malloc((size_t)g->dim * sizeof(float));
    if (!normalised) { free(copy); return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path); }
    memcpy(normalised, g->rowbuf, (size_t)g->dim * sizeof(float));

    int64_t person = 0, image = 0;
    int new_person = 0;
    fn_status s = tx_enter(g);
    if (s == FN_OK) s = tx_leave(g, add_rows(g, &f, flags, &person, &new_person, &image, info));
    if (s == FN_OK && info->result == FN_GALLERY_ADDED) {
        if (new_person) {
            g->people[g->n_people++] = (fn_gperson){person, copy};
            copy = NULL;
        }
        s = fn_gindex_append(&g->index, image, person, normalised);   /* reserved and valid: cannot fail */
    }
    if (s != FN_OK) s = fn_fail_prefix(s, "%s", f.image_path);
    free(copy);
    free(normalised);
    if (s == FN_OK && info->result != FN_GALLERY_REFUSED_OTHER_PERSON) info->image_id = image;
    return s;
}

fn_status fn_gallery_add_ex(fn_gallery *g, const fn_gallery_face *f, int flags, fn_gallery_add_info *info)
{
    if (!g || !info) return fn_fail(FN_ERR_ARG, "fn_gallery_add_ex: gallery and info are required");
    memset(info, 0, sizeof *info);
    LOCKED(g, add_locked(g, f, flags, info));
}

fn_status fn_gallery_add(fn_gallery *g, const fn_gallery_face *f, fn_gallery_added *result, int64_t *image_id)
{
    fn_gallery_add_info info;
    fn_status s = fn_gallery_add_ex(g, f, 0, &info);
    if (s == FN_OK && result) *result = info.result;
    if (s == FN_OK && image_id) *image_id = info.image_id;
    return s;
}

static fn_status file_owner_locked(fn_gallery *g, const char *hash, const char *except, char other[FN_GALLERY_NAME_MAX])
{
    char name[FN_GALLERY_NAME_MAX];
    int64_t pid = 0;
    FN_TRY(check_hash(g, hash));
    if (except) {
        FN_TRY(fn_gname(g, except, name, NULL));
        FN_TRY(find_person(g, name, &pid));
    }
    int64_t own = 0;
    return find_file(g, hash, pid ? pid : -1, NULL, &own, other, NULL);
}

fn_status fn_gallery_file_owner(fn_gallery *g, const char *hash_hex, const char *except_person,
                                char other[FN_GALLERY_NAME_MAX])
{
    if (!g || !other) return fn_fail(FN_ERR_ARG, "fn_gallery_file_owner: gallery and result are required");
    other[0] = '\0';
    LOCKED(g, file_owner_locked(g, hash_hex, except_person, other));
}

static fn_status has_image_locked(fn_gallery *g, const char *person, const char *hash, int *yes)
{
    int64_t pid = 0, img = 0;
    char name[FN_GALLERY_NAME_MAX];
    FN_TRY(fn_gname(g, person, name, NULL));
    FN_TRY(check_hash(g, hash));
    FN_TRY(find_person(g, name, &pid));
    if (pid) FN_TRY(find_image(g, pid, hash, &img));
    *yes = img != 0;
    return FN_OK;
}

fn_status fn_gallery_has_image(fn_gallery *g, const char *person, const char *hash_hex, int *yes)
{
    if (!g || !yes) return fn_fail(FN_ERR_ARG, "fn_gallery_has_image: gallery and result are required");
    *yes = 0;
    LOCKED(g, has_image_locked(g, person, hash_hex, yes));
}

/* ---- remove, rename ---- */

static void forget_person(fn_gallery *g, int64_t id)
{
    size_t w = 0;
    for (size_t i = 0; i < g->n_people; i++) {
        if (g->people[i].id == id) { free(g->people[i].name); continue; }
        g->people[w++] = g->people[i];
    }
    g->n_people = w;
}

static fn_status remove_rows(fn_gallery *g, const char *name, int64_t *id, int64_t *n_images)
{
    FN_TRY(find_person(g, name, id));
    if (!*id) return fn_fail(FN_ERR_NOT_FOUND, "%s: no person named '%s'", g->path, name);
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT count(*) FROM images WHERE person_id = ?1", &st));
    sqlite3_bind_int64(st, 1, *id);
    if (sqlite3_step(st) == SQLITE_ROW) *n_images = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    FN_TRY(fn_gdb_prepare(g, "DELETE FROM people WHERE id = ?1", &st));   /* cascades to images, embeddings */
    sqlite3_bind_int64(st, 1, *id);
    FN_TRY(step_done(g, st, "removing a person"));
    return g->pg ? fn_gpg_remove_person(g, name) : FN_OK;
}

static fn_status remove_locked(fn_gallery *g, const char *raw, int64_t *removed)
{
    FN_TRY(writable(g));
    char name[FN_GALLERY_NAME_MAX];
    FN_TRY(fn_gname(g, raw, name, NULL));
    int64_t id = 0, n = 0;
    FN_TRY(tx_enter(g));
    FN_TRY(tx_leave(g, remove_rows(g, name, &id, &n)));
    fn_gindex_remove_person(&g->index, id);
    forget_person(g, id);
    if (removed) *removed = n;
    return FN_OK;
}

fn_status fn_gallery_remove_person(fn_gallery *g, const char *name, int64_t *removed_images)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_remove_person: no gallery");
    if (removed_images) *removed_images = 0;
    LOCKED(g, remove_locked(g, name, removed_images));
}

static fn_status remove_image_locked(fn_gallery *g, int64_t image_id)
{
    FN_TRY(writable(g));
    if (g->in_tx) return fn_fail(FN_ERR_ARG, "%s: removing one image inside a batch is not supported", g->path);
    sqlite3_stmt *st;
    FN_TRY(tx_enter(g));
    fn_status s = fn_gdb_prepare(g, "DELETE FROM images WHERE id = ?1", &st);   /* cascades to embeddings */
    if (s == FN_OK) {
        sqlite3_bind_int64(st, 1, image_id);
        s = step_done(g, st, "removing an image");
    }
    if (s == FN_OK && sqlite3_changes(g->db) == 0) s = fn_fail(FN_ERR_NOT_FOUND, "%s: no image %lld", g->path, (long long)image_id);
    if (s == FN_OK && g->pg) s = fn_gpg_remove_image(g, image_id);   /* it was removed from the mirror only */
    FN_TRY(tx_leave(g, s));
    return fn_gallery_reload(g);   /* the index and people as the file is now */
}

fn_status fn_gallery_remove_image(fn_gallery *g, int64_t image_id)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_remove_image: no gallery");
    LOCKED(g, remove_image_locked(g, image_id));
}

static fn_status rename_rows(fn_gallery *g, const char *old_name, const char *new_name, int64_t *id)
{
    int64_t other = 0;
    FN_TRY(find_person(g, old_name, id));
    if (!*id) return fn_fail(FN_ERR_NOT_FOUND, "%s: no person named '%s'", g->path, old_name);
    FN_TRY(find_person(g, new_name, &other));
    /* other == *id: a name stored by an older facenet, respelt in its normal form */
    if (other && other != *id) return fn_fail(FN_ERR_ARG, "%s: cannot rename '%s': a person named '%s' already exists",
                              g->path, old_name, new_name);
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "UPDATE people SET name = ?2 WHERE id = ?1", &st));
    sqlite3_bind_int64(st, 1, *id);
    sqlite3_bind_text(st, 2, new_name, -1, SQLITE_STATIC);
    FN_TRY(step_done(g, st, "renaming a person"));
    return g->pg ? fn_gpg_rename_person(g, old_name, new_name) : FN_OK;
}

static fn_status rename_locked(fn_gallery *g, const char *old_raw, const char *new_raw)
{
    FN_TRY(writable(g));
    char old_name[FN_GALLERY_NAME_MAX], new_name[FN_GALLERY_NAME_MAX];
    FN_TRY(fn_gname(g, old_raw, old_name, NULL));
    FN_TRY(fn_gname(g, new_raw, new_name, NULL));
    char *copy = strdup(new_name);
    if (!copy) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", g->path);
    int64_t id = 0;
    fn_status s = tx_enter(g);
    if (s == FN_OK) s = tx_leave(g, rename_rows(g, old_name, new_name, &id));
    for (size_t i = 0; s == FN_OK && i < g->n_people; i++)
        if (g->people[i].id == id) { free(g->people[i].name); g->people[i].name = copy; copy = NULL; }
    free(copy);
    return s;
}

fn_status fn_gallery_rename_person(fn_gallery *g, const char *old_name, const char *new_name)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_rename_person: no gallery");
    LOCKED(g, rename_locked(g, old_name, new_name));
}

/* ---- listing ---- */

static fn_status list_locked(fn_gallery *g, int (*fn)(void *, const fn_gallery_person *), void *ctx)
{
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT p.id, p.name, count(i.id) FROM people p LEFT JOIN images i"
                             " ON i.person_id = p.id GROUP BY p.id ORDER BY p.name", &st));
    int rc;
    fn_status s = FN_OK;
    char name[FN_GALLERY_NAME_MAX];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int t = sqlite3_column_type(st, 1);
        if (t != SQLITE_TEXT) { s = fn_gbad_row(g, "people", id, "name is %s, not text", fn_gdb_type_name(t)); break; }
        if (fn_gallery_normalize_name((const char *)sqlite3_column_text(st, 1), name, sizeof name, NULL) != FN_OK) {
            s = fn_gbad_row(g, "people", id, "%s", fn_last_error());
            break;
        }
        fn_gallery_person p = {id, name, sqlite3_column_int64(st, 2)};
        if (fn(ctx, &p)) { rc = SQLITE_DONE; break; }
    }
    sqlite3_finalize(st);
    if (s != FN_OK) return s;
    return rc == SQLITE_DONE ? FN_OK : fn_gdb_fail(g, "listing people");
}

fn_status fn_gallery_list(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_person *p), void *ctx)
{
    if (!g || !fn) return fn_fail(FN_ERR_ARG, "fn_gallery_list: gallery and callback are required");
    fn_gallery_pg_poll(g);
    LOCKED(g, list_locked(g, fn, ctx));
}

static fn_status list_images_locked(fn_gallery *g, const char *person, int (*fn)(void *, const fn_gallery_image *),
                                    void *ctx)
{
    int64_t pid = 0;
    if (person) {
        char name[FN_GALLERY_NAME_MAX];
        FN_TRY(fn_gname(g, person, name, NULL));
        FN_TRY(find_person(g, name, &pid));
        if (!pid) return FN_OK;   /* no such person: nothing to visit */
    }
    sqlite3_stmt *st;
    FN_TRY(fn_gdb_prepare(g, "SELECT " FN_GIMAGE_COLUMNS " FROM images i"
                             " WHERE ?1 IS NULL OR i.person_id = ?1 ORDER BY i.id", &st));
    if (person) sqlite3_bind_int64(st, 1, pid);
    int rc;
    fn_status s = FN_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn_gallery_image im;
        if ((s = fn_gimage_row(g, st, &im)) != FN_OK) break;
        if (fn(ctx, &im)) { rc = SQLITE_DONE; break; }
    }
    sqlite3_finalize(st);
    if (s != FN_OK) return s;
    return rc == SQLITE_DONE ? FN_OK : fn_gdb_fail(g, "listing images");
}

fn_status fn_gallery_list_images(fn_gallery *g, const char *person, int (*fn)(void *ctx, const fn_gallery_image *im),
                                 void *ctx)
{
    if (!g || !fn) return fn_fail(FN_ERR_ARG, "fn_gallery_list_images: gallery and callback are required");
    fn_gallery_pg_poll(g);
    LOCKED(g, list_images_locked(g, person, fn, ctx));
}

static fn_status count_locked(fn_gallery *g, int64_t *people, int64_t *images)
{
    int64_t p = 0, i = 0;
    FN_TRY(fn_gdb_int(g, "SELECT count(*) FROM people", &p));
    FN_TRY(fn_gdb_int(g, "SELECT count(*) FROM images", &i));
    if (people) *people = p;
    if (images) *images = i;
    return FN_OK;
}

fn_status fn_gallery_count(fn_gallery *g, int64_t *people, int64_t *images)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_count: no gallery");
    fn_gallery_pg_poll(g);
    LOCKED(g, count_locked(g, people, images));
}

/* ---- metadata ---- */

static int reserved_key(const char *key)
{
    static const char *const keys[] = {"schema_version", "model_id", "dim", "preprocess_id", "threshold"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcmp(key, keys[i]) == 0) return 1;
    return 0;
}

static fn_status meta_write(fn_gallery *g, const char *key, const char *value)
{
    FN_TRY(writable(g));
    sqlite3_stmt *st;
    FN_TRY(tx_enter(g));
    fn_status s = fn_gdb_prepare(g, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", &st);
    if (s == FN_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        s = step_done(g, st, "writing metadata");
    }
    if (s == FN_OK && g->pg) s = fn_gpg_meta_set(g, key, value);
    return tx_leave(g, s);
}

static fn_status meta_read(fn_gallery *g, const char *key, char *value, size_t cap)
{
    char *v = NULL;
    FN_TRY(fn_gdb_meta(g, key, &v));
    size_t n = strlen(v);
    fn_status s = FN_OK;
    if (n >= cap) s = fn_fail(FN_ERR_LIMIT, "%s: metadata '%s' is %zu bytes, the buffer holds %zu", g->path, key, n, cap);
    else memcpy(value, v, n + 1);
    free(v);
    return s;
}

fn_status fn_gallery_meta_get(fn_gallery *g, const char *key, char *value, size_t cap)
{
    if (!g || !key || !value || cap == 0) return fn_fail(FN_ERR_ARG, "fn_gallery_meta_get: gallery, key and buffer are required");
    value[0] = '\0';
    fn_gallery_pg_poll(g);
    LOCKED(g, meta_read(g, key, value, cap));
}

fn_status fn_gallery_meta_set(fn_gallery *g, const char *key, const char *value)
{
    if (!g || !key || !*key || !value) return fn_fail(FN_ERR_ARG, "fn_gallery_meta_set: gallery, key and value are required");
    if (reserved_key(key)) return fn_fail(FN_ERR_ARG, "%s: metadata '%s' is managed by the gallery itself", g->path, key);
    LOCKED(g, meta_write(g, key, value));
}

fn_status fn_gthreshold_read(fn_gallery *g, float *t)
{
    char buf[64], *end;
    fn_status s = meta_read(g, "threshold", buf, sizeof buf);
    if (s == FN_ERR_NOT_FOUND) return fn_fail(s, "%s: no threshold stored (calibrate, or pass one)", g->path);
    FN_TRY(s);
    *t = strtof(buf, &end);
    /* as fn_gallery_set_threshold accepts: distances of unit vectors lie in [0, 2] */
    if (end == buf || *end || !(*t > 0.0f && *t <= 2.0f))
        return fn_fail(FN_ERR_DB, "%s: table meta, key 'threshold': '%.40s' is not a distance threshold in (0, 2]; "
                       "the gallery was edited outside facenet and is refused as it is (remove the value with sqlite3: "
                       "DELETE FROM meta WHERE key = 'threshold'; then calibrate again)", g->path, buf);
    return FN_OK;
}

fn_status fn_gallery_get_threshold(fn_gallery *g, float *threshold)
{
    if (!g || !threshold) return fn_fail(FN_ERR_ARG, "fn_gallery_get_threshold: gallery and result are required");
    LOCKED(g, fn_gthreshold_read(g, threshold));
}

fn_status fn_gallery_set_threshold(fn_gallery *g, float threshold)
{
    if (!g) return fn_fail(FN_ERR_ARG, "fn_gallery_set_threshold: no gallery");
    /* distances of unit vectors lie in [0, 2] */
    if (!(threshold > 0 && threshold <= 2))
        return fn_fail(FN_ERR_ARG, "%s: threshold %g is outside (0, 2], the range of distances", g->path, threshold);
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", threshold);
    LOCKED(g, meta_write(g, "threshold", buf));
}
