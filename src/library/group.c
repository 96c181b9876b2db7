/* group.c — grouping the library's faces (incremental and full runs of
 * fn_cluster) and the user's corrections: name, merge, move, not a face,
 * with the gallery person of a named group kept in step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "library/library_impl.h"

typedef struct fset {
    int n, cap, dim;
    int64_t *id, *group;
    float *emb, *quality;
    unsigned char *fixed;   /* locked face, or a face of a locked group */
} fset;

static void fset_free(fset *s)
{
    free(s->id); free(s->group); free(s->emb); free(s->quality); free(s->fixed);
    memset(s, 0, sizeof *s);
}

static fn_status load_faces(fn_library *l, fset *s)
{
    memset(s, 0, sizeof *s);
    s->dim = l->dim;
    int64_t n = 0;
    FN_TRY(fn_ldb_int(l, "SELECT count(*) FROM lib_faces WHERE not_face = 0", &n));
    size_t c = n ? (size_t)n : 1;
    s->id = malloc(c * sizeof *s->id);
    s->group = malloc(c * sizeof *s->group);
    s->emb = malloc(c * l->dim * sizeof *s->emb);
    s->quality = malloc(c * sizeof *s->quality);
    s->fixed = malloc(c);
    if (!s->id || !s->group || !s->emb || !s->quality || !s->fixed) {
        fset_free(s);
        return fn_fail(FN_ERR_NOMEM, "out of memory for %lld faces", (long long)n);
    }
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT f.id, coalesce(f.group_id, 0), f.quality, f.locked OR coalesce(g.locked, 0),"
                             " f.embedding FROM lib_faces f LEFT JOIN lib_groups g ON g.id = f.group_id"
                             " WHERE f.not_face = 0 ORDER BY f.id", &st));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && s->n < n) {
        if (sqlite3_column_bytes(st, 4) != (int)(l->dim * sizeof(float))) continue;
        int i = s->n++;
        s->id[i] = sqlite3_column_int64(st, 0);
        s->group[i] = sqlite3_column_int64(st, 1);
        s->quality[i] = (float)sqlite3_column_double(st, 2);
        s->fixed[i] = (unsigned char)(sqlite3_column_int(st, 3) != 0);
        memcpy(s->emb + (size_t)i * l->dim, sqlite3_column_blob(st, 4), l->dim * sizeof(float));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fset_free(s);
        return fn_ldb_fail(l, "reading faces");
    }
    return FN_OK;
}

static fn_status set_group(fn_library *l, sqlite3_stmt *st, int64_t face, int64_t group)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, face);
    if (group > 0) sqlite3_bind_int64(st, 2, group);
    else sqlite3_bind_null(st, 2);
    return sqlite3_step(st) == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "setting a face's group");
}

static fn_status add_group(fn_library *l, int64_t *id)
{
    FN_TRY(fn_ldb_exec(l, "INSERT INTO lib_groups(name, locked) VALUES (NULL, 0)"));
    *id = sqlite3_last_insert_rowid(l->db);
    return FN_OK;
}

/* Cluster the faces sel[0..m) of s; groups of 2+ faces come back in labels
 * (0..), the rest -1. */
static fn_status cluster_subset(const fset *s, const int *sel, int m, const fn_cluster_params *p, float min_q,
                                int *labels, int *ngroups)
{
    *ngroups = 0;
    if (m == 0) return FN_OK;
    float *x = calloc((size_t)m * s->dim, sizeof *x);
    unsigned char *ok = calloc((size_t)m, 1);
    int *count = calloc((size_t)m, sizeof *count);
    if (!x || !ok || !count) {
        free(x); free(ok); free(count);
        return fn_fail(FN_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < m; i++) {
        memcpy(x + (size_t)i * s->dim, s->emb + (size_t)sel[i] * s->dim, s->dim * sizeof *x);
        ok[i] = s->quality[sel[i]] >= min_q;
    }
    int g = 0;
    fn_cluster_params q = *p;
    if (q.attach_threshold <= 0) q.attach_threshold = q.threshold * FN_LIBRARY_ATTACH_RATIO;
    fn_status r = fn_cluster(x, m, s->dim, ok, &q, labels, &g);
    if (r == FN_OK) {
        for (int i = 0; i < m; i++) if (labels[i] >= 0) count[labels[i]]++;
        int *map = malloc((size_t)(g ? g : 1) * sizeof *map);
        if (!map) r = fn_fail(FN_ERR_NOMEM, "out of memory");
        for (int i = 0; r == FN_OK && i < g; i++) map[i] = count[i] >= 2 ? (*ngroups)++ : -1;
        for (int i = 0; r == FN_OK && i < m; i++) labels[i] = labels[i] >= 0 ? map[labels[i]] : -1;
        free(map);
    }
    free(x); free(ok); free(count);
    return r;
}

/* Incremental: the faces in no group (new, or earlier noise) are searched
 * against all faces and placed with fn_cluster_extend; the groups in the
 * library are numbered 0.. for it and never change.  A new group needs two
 * faces, as in a full run. */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static fn_status incremental(fn_library *l, fset *s, const fn_cluster_params *p, float min_q,
                             fn_library_cluster_stats *st, sqlite3_stmt *upd)
{
    int n = s->n, ng = 0;
    size_t c = n ? (size_t)n : 1;
    int64_t *ids = malloc(c * sizeof *ids);
    int *labels = malloc(c * sizeof *labels), *size = NULL;
    unsigned char *ok = malloc(c);
    fn_status r = ids && labels && ok ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory");
    for (int i = 0; r == FN_OK && i < n; i++) {   /* the distinct group ids, sorted */
        if (s->group[i]) ids[ng++] = s->group[i];
        ok[i] = s->quality[i] >= min_q;
    }
    if (r == FN_OK) qsort(ids, (size_t)ng, sizeof *ids, cmp_i64);
    int u = 0;
    for (int i = 0; i < ng; i++) if (!i || ids[i] != ids[u - 1]) ids[u++] = ids[i];
    ng = u;
    for (int i = 0; r == FN_OK && i < n; i++) {
        labels[i] = -1;
        if (!s->group[i]) continue;
        const int64_t *f = bsearch(&s->group[i], ids, (size_t)ng, sizeof *ids, cmp_i64);
        labels[i] = (int)(f - ids);
        st->kept++;
    }
    fn_cluster_params q = *p;
    if (q.attach_threshold <= 0) q.attach_threshold = q.threshold * FN_LIBRARY_ATTACH_RATIO;
    int total = ng;
    fn_cluster_extend_stats es;
    memset(&es, 0, sizeof es);
    if (r == FN_OK) r = fn_cluster_extend(s->emb, n, s->dim, ok, &q, labels, &total, &es);
    st->searched = es.queries;
    st->distances = es.distances;
    if (r == FN_OK) size = calloc((size_t)(total - ng + 1), sizeof *size);
    if (r == FN_OK && !size) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    for (int i = 0; r == FN_OK && i < n; i++) if (labels[i] >= ng) size[labels[i] - ng]++;
    int64_t *gid = r == FN_OK ? calloc((size_t)(total - ng + 1), sizeof *gid) : NULL;
    if (r == FN_OK && !gid) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    for (int i = 0; r == FN_OK && i < n; i++) {
        if (s->group[i]) continue;
        int g = labels[i];
        if (g >= 0 && g < ng) {
            r = set_group(l, upd, s->id[i], ids[g]);
            st->joined++;
        } else if (g >= ng && size[g - ng] >= 2) {
            if (!gid[g - ng]) {
                r = add_group(l, &gid[g - ng]);
                st->new_groups++;
            }
            if (r == FN_OK) r = set_group(l, upd, s->id[i], gid[g - ng]);
            st->grouped++;
        } else {
            st->noise++;
        }
    }
    free(ids); free(labels); free(ok); free(size); free(gid);
    return r;
}

typedef struct votes { int64_t g; int n; } votes;

/* The group with the most votes (ties: lower id), 0 when none. */
static int64_t majority(const votes *v, int n)
{
    int64_t best = 0;
    int bn = 0;
    for (int i = 0; i < n; i++)
        if (v[i].n > bn || (v[i].n == bn && v[i].g < best)) { bn = v[i].n; best = v[i].g; }
    return best;
}

static void vote(votes *v, int *n, int64_t g)
{
    for (int i = 0; i < *n; i++) if (v[i].g == g) { v[i].n++; return; }
    v[(*n)++] = (votes){g, 1};
}

/* Full: everything clustered again; fixed faces pull their group's new
 * members, an unlocked old group keeps its id where it overlaps most. */
static fn_status full_run(fn_library *l, fset *s, const fn_cluster_params *p, float min_q, fn_library_cluster_stats *st,
                          sqlite3_stmt *upd)
{
    int n = s->n;
    int *sel = malloc((size_t)(n ? n : 1) * sizeof *sel);
    int *labels = malloc((size_t)(n ? n : 1) * sizeof *labels);
    votes *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    int64_t *claimed = calloc((size_t)(n ? n : 1), sizeof *claimed);
    int nclaimed = 0;
    if (!sel || !labels || !v || !claimed) {
        free(sel); free(labels); free(v); free(claimed);
        return fn_fail(FN_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) sel[i] = i;
    int ng = 0;
    fn_status r = cluster_subset(s, sel, n, p, min_q, labels, &ng);
    /* members of each new group, by sorting indices by label */
    for (int g = 0; r == FN_OK && g < ng; g++) {
        int nv = 0, nfixed = 0;
        for (int i = 0; i < n; i++)
            if (labels[i] == g && s->fixed[i]) { vote(v, &nv, s->group[i]); nfixed++; }
        int64_t target = majority(v, nv);
        if (!nfixed) {
            nv = 0;
            for (int i = 0; i < n; i++)
                if (labels[i] == g && s->group[i]) {
                    int taken = 0;
                    for (int c = 0; c < nclaimed; c++) if (claimed[c] == s->group[i]) taken = 1;
                    if (!taken) vote(v, &nv, s->group[i]);
                }
            target = majority(v, nv);
            if (!target) { r = add_group(l, &target); st->new_groups++; }
            claimed[nclaimed++] = target;
        }
        for (int i = 0; r == FN_OK && i < n; i++) {
            if (labels[i] != g || s->fixed[i]) continue;
            if (s->group[i] == target) st->kept++;
            else { r = set_group(l, upd, s->id[i], target); st->grouped++; }
            s->group[i] = -target;   /* placed in this run */
        }
    }
    for (int i = 0; r == FN_OK && i < n; i++) {
        if (s->fixed[i]) { st->kept++; continue; }
        if (s->group[i] < 0) { s->group[i] = -s->group[i]; continue; }
        r = set_group(l, upd, s->id[i], 0);
        st->noise++;
    }
    free(sel); free(labels); free(v); free(claimed);
    return r;
}

/* fn_library_cluster, and with preview set fn_library_cluster_preview: the
 * faces are shown to fn inside the transaction, which is then rolled back. */
static fn_status cluster_run(fn_library *l, const fn_cluster_params *pin, float min_quality, int full,
                             fn_library_cluster_stats *out, int preview,
                             int (*fn)(void *ctx, const fn_library_face *f), void *ctx)
{
    fn_cluster_params p;
    if (pin) p = *pin;
    else fn_cluster_params_init(&p);
    fn_library_cluster_stats st = {0};
    if (out) *out = st;
    if (!(p.threshold > 0 && p.threshold <= 2))
        return fn_fail(FN_ERR_ARG, "cluster: threshold %g is outside (0, 2]", (double)p.threshold);
    fset s;
    FN_TRY(load_faces(l, &s));
    st.faces = s.n;
    sqlite3_stmt *upd = NULL;
    fn_status r = fn_ldb_begin(l);
    if (r == FN_OK) r = fn_ldb_prepare(l, "UPDATE lib_faces SET group_id = ?2 WHERE id = ?1", &upd);
    if (r == FN_OK) r = full ? full_run(l, &s, &p, min_quality, &st, upd) : incremental(l, &s, &p, min_quality, &st, upd);
    sqlite3_finalize(upd);
    /* groups left empty go, unless the user made them */
    if (r == FN_OK)
        r = fn_ldb_exec(l, "DELETE FROM lib_groups WHERE locked = 0 AND id NOT IN"
                           " (SELECT group_id FROM lib_faces WHERE group_id IS NOT NULL AND not_face = 0)");
    if (r == FN_OK && preview && fn) r = fn_library_faces(l, -1, fn, ctx);
    if (r == FN_OK && !preview) r = fn_ldb_commit(l);
    else fn_ldb_rollback(l);
    fset_free(&s);
    if (out) *out = st;
    return r;
}

fn_status fn_library_cluster(fn_library *l, const fn_cluster_params *p, float min_quality, int full,
                             fn_library_cluster_stats *st)
{
    return cluster_run(l, p, min_quality, full, st, 0, NULL, NULL);
}

fn_status fn_library_cluster_preview(fn_library *l, const fn_cluster_params *p, float min_quality, int full,
                                     fn_library_cluster_stats *st,
                                     int (*fn)(void *ctx, const fn_library_face *f), void *ctx)
{
    return cluster_run(l, p, min_quality, full, st, 1, fn, ctx);
}

/* ---- the gallery person of a named group ---- */

typedef struct id_list { int64_t *v; int n, cap; int nomem; } id_list;   /* gallery images, groups */

static int push_id(id_list *x, int64_t id)
{
    if (x->n == x->cap) {
        int cap = x->cap ? 2 * x->cap : 64;
        int64_t *p = realloc(x->v, (size_t)cap * sizeof *p);
        if (!p) return x->nomem = 1;
        x->v = p;
        x->cap = cap;
    }
    x->v[x->n++] = id;
    return 0;
}

typedef struct sync_ctx { fn_library *l; fn_gallery *g; const char *name; id_list added; fn_status s; } sync_ctx;

/* 1 when the gallery image is one the library enrolled. */
static int library_image(fn_library *l, int64_t image_id)
{
    sqlite3_stmt *st;
    if (fn_ldb_prepare(l, "SELECT 1 FROM lib_enrolled WHERE image_id = ?1 AND mine = 1", &st) != FN_OK) return 0;
    sqlite3_bind_int64(st, 1, image_id);
    int yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

/* A face of the group enrolled as its person.  The same face enrolled by
 * hand under another person is that person's: the user's label wins and
 * the face is left out (both stood, and `gallery check` failed).  Under
 * another person the library enrolled (a face just moved between groups,
 * before the other group's sync) it is added all the same. */
static int add_face(void *ctx, const fn_library_face *f)
{
    sync_ctx *c = ctx;
    if (f->not_face || !f->embedding) return 0;
    fn_gallery_face gf = {c->name, f->path, f->hash_hex, {0}, f->face.prob, f->embedding};
    memcpy(gf.box, f->face.box, sizeof gf.box);
    fn_gallery_add_info info;
    c->s = fn_gallery_add_ex(c->g, &gf, 0, &info);
    if (c->s == FN_OK && info.result == FN_GALLERY_REFUSED_OTHER_PERSON && library_image(c->l, info.other_image_id))
        c->s = fn_gallery_add_ex(c->g, &gf, FN_GALLERY_ADD_ALLOW_OTHER_PERSON, &info);
    /* the library's own image, to take back later (a hand-enrolled one of the same file is skipped) */
    if (c->s == FN_OK && info.result == FN_GALLERY_ADDED && push_id(&c->added, info.image_id))
        c->s = fn_fail(FN_ERR_NOMEM, "out of memory");
    return c->s != FN_OK;
}

/* ---- the library's own images of a gallery person ----
 * A person the library made (a named group's) may also hold photos the user
 * enrolled by hand (`facenet enroll`); those are the user's, and no sync,
 * merge or rename takes them away.  lib_enrolled lists the images the
 * library added (gallery image id, person, mine = 1) and, as of the last
 * sync, the person's others (mine = 0): where those ids are later tells a
 * rename made in the gallery even when the group has no face to tell it.  A library from before that
 * table (no 'enrolled_recorded' in lib_meta) holds no record for a person
 * it made then, and such a person is taken as all the library's, as then. */

static int collect_image(void *ctx, const fn_gallery_image *im)
{
    return push_id(ctx, im->id);
}

/* Records ids as the person's images: the library's own (mine = 1,
 * replacing any older record) or the others it found there (mine = 0,
 * never over a record of its own), in the library's own transaction: the
 * gallery's (the same file) has to be over first. */
static fn_status record_ids(fn_library *l, const char *name, const id_list *ids, int mine)
{
    if (!ids->n) return FN_OK;
    sqlite3_stmt *st = NULL;
    FN_TRY(fn_ldb_begin(l));
    fn_status r = fn_ldb_prepare(l, mine ? "INSERT OR REPLACE INTO lib_enrolled(image_id, person, mine) VALUES (?1, ?2, 1)"
                                         : "INSERT OR IGNORE INTO lib_enrolled(image_id, person, mine) VALUES (?1, ?2, 0)",
                                 &st);
    for (int i = 0; r == FN_OK && i < ids->n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids->v[i]);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) r = fn_ldb_fail(l, "recording a person's images");
    }
    sqlite3_finalize(st);
    if (r == FN_OK) return fn_ldb_commit(l);
    fn_ldb_rollback(l);
    return r;
}

/* Records the person's images the library did not add (mine = 0). */
static fn_status record_others(fn_library *l, fn_gallery *g, const char *name)
{
    id_list all = {0};
    fn_status r = fn_gallery_list_images(g, name, collect_image, &all);
    if (r == FN_ERR_NOT_FOUND) r = FN_OK;
    if (r == FN_OK && all.nomem) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    if (r == FN_OK) r = record_ids(l, name, &all, 0);
    free(all.v);
    return r;
}

/* 1 when the library has recorded its images from the start (0: a library
 * from before the records, whose people are all its own). */
static fn_status records_kept(fn_library *l, int64_t *yes)
{
    return fn_ldb_int(l, "SELECT count(*) FROM lib_meta WHERE key = 'enrolled_recorded'", yes);
}

/* Who holds most of the images recorded for `name` now ("" when nobody):
 * the name a rename in the gallery gave them. */
typedef struct person_names { int64_t *id; char (*name)[FN_GALLERY_NAME_MAX]; int n, cap; int nomem; } person_names;

static int collect_person(void *ctx, const fn_gallery_person *p)
{
    person_names *v = ctx;
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 64;
        int64_t *a = realloc(v->id, (size_t)cap * sizeof *a);
        if (!a) return v->nomem = 1;
        v->id = a;
        char (*b)[FN_GALLERY_NAME_MAX] = realloc(v->name, (size_t)cap * sizeof *b);
        if (!b) return v->nomem = 1;
        v->name = b;
        v->cap = cap;
    }
    v->id[v->n] = p->id;
    snprintf(v->name[v->n++], FN_GALLERY_NAME_MAX, "%s", p->name);
    return 0;
}

typedef struct record_tally { sqlite3_stmt *q; const char *name; int64_t *votes_of; person_names *p; } record_tally;

static int tally_record(void *ctx, const fn_gallery_image *im)
{
    record_tally *t = ctx;
    sqlite3_reset(t->q);
    sqlite3_bind_int64(t->q, 1, im->id);
    sqlite3_bind_text(t->q, 2, t->name, -1, SQLITE_STATIC);
    if (sqlite3_step(t->q) != SQLITE_ROW) return 0;
    for (int i = 0; i < t->p->n; i++)
        if (t->p->id[i] == im->person_id) t->votes_of[i]++;
    return 0;
}

static fn_status records_owner(fn_library *l, fn_gallery *g, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    person_names p = {0};
    fn_status r = fn_gallery_list(g, collect_person, &p);
    if (r == FN_OK && p.nomem) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    int64_t *votes = r == FN_OK ? calloc((size_t)p.n + 1, sizeof *votes) : NULL;
    if (r == FN_OK && !votes) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    record_tally t = {NULL, name, votes, &p};
    if (r == FN_OK) r = fn_ldb_prepare(l, "SELECT 1 FROM lib_enrolled WHERE image_id = ?1 AND person = ?2", &t.q);
    if (r == FN_OK) r = fn_gallery_list_images(g, NULL, tally_record, &t);
    sqlite3_finalize(t.q);
    int best = -1;
    for (int i = 0; r == FN_OK && i < p.n; i++)
        if (votes[i] > 0 && (best < 0 || votes[i] > votes[best])) best = i;
    if (best >= 0) snprintf(out, cap, "%s", p.name[best]);
    free(votes);
    free(p.id);
    free(p.name);
    return r;
}

/* The records follow a person renamed (to = NULL: removed) in the gallery. */
static fn_status rename_records(fn_library *l, const char *from, const char *to)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, to ? "UPDATE OR REPLACE lib_enrolled SET person = ?2 WHERE person = ?1"
                                : "DELETE FROM lib_enrolled WHERE person = ?1", &st));
    sqlite3_bind_text(st, 1, from, -1, SQLITE_TRANSIENT);
    if (to) sqlite3_bind_text(st, 2, to, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "renaming the records of enrolled images");
}

/* The images of a person enrolled by hand (no record: not the library's),
 * with what it takes to enrol them again under another name. */
typedef struct hand_image {
    int64_t id;
    char *path, *hash;
    float box[4], prob;
    float *emb;
} hand_image;
typedef struct hand_set { fn_library *l; const char *person; hand_image *v; int n, cap; fn_status s; sqlite3_stmt *rec; int dim; } hand_set;

static int collect_hand(void *ctx, const fn_gallery_image *im)
{
    hand_set *h = ctx;
    sqlite3_reset(h->rec);
    sqlite3_bind_int64(h->rec, 1, im->id);
    sqlite3_bind_text(h->rec, 2, h->person, -1, SQLITE_STATIC);
    if (sqlite3_step(h->rec) == SQLITE_ROW) return 0;   /* the library's */
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 8;
        hand_image *p = realloc(h->v, (size_t)cap * sizeof *p);
        if (!p) return (h->s = fn_fail(FN_ERR_NOMEM, "out of memory")) != FN_OK;
        h->v = p;
        h->cap = cap;
    }
    hand_image *x = &h->v[h->n++];
    memset(x, 0, sizeof *x);
    x->id = im->id;
    x->path = strdup(im->path ? im->path : "");
    x->hash = strdup(im->hash_hex ? im->hash_hex : "");
    memcpy(x->box, im->box, sizeof x->box);
    x->prob = im->prob;
    if (!x->path || !x->hash) h->s = fn_fail(FN_ERR_NOMEM, "out of memory");
    return h->s != FN_OK;
}

static int hand_embedding(void *ctx, const fn_gallery_embedding *e)
{
    hand_set *h = ctx;
    for (int i = 0; i < h->n; i++)
        if (h->v[i].id == e->image_id && !h->v[i].emb) {
            h->v[i].emb = malloc((size_t)e->dim * sizeof(float));
            if (!h->v[i].emb) return (h->s = fn_fail(FN_ERR_NOMEM, "out of memory")) != FN_OK;
            memcpy(h->v[i].emb, e->embedding, (size_t)e->dim * sizeof(float));
            h->dim = e->dim;
        }
    return 0;
}

/* The photos enrolled by hand in `from` go to `to` (a merge, or a group
 * named after another person: they are the same human); the library's own
 * images are left for drop_library_images.  Nothing to do for a person of
 * a library from before the records (all its images are the library's). */
static fn_status move_hand_images(fn_library *l, fn_gallery *g, const char *from, const char *to)
{
    int64_t recorded = 0;
    FN_TRY(records_kept(l, &recorded));
    int64_t mine = 0;
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT count(*) FROM lib_enrolled WHERE person = ?1 AND mine = 1", &st));
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) mine = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (!recorded && !mine) return FN_OK;
    hand_set h = {l, from, NULL, 0, 0, FN_OK, NULL, 0};
    fn_status r = fn_ldb_prepare(l, "SELECT 1 FROM lib_enrolled WHERE image_id = ?1 AND person = ?2 AND mine = 1",
                                 &h.rec);
    if (r == FN_OK) r = fn_gallery_list_images(g, from, collect_hand, &h);
    sqlite3_finalize(h.rec);
    if (r == FN_OK) r = h.s;
    if (r == FN_OK && h.n) r = fn_gallery_embeddings(g, hand_embedding, &h);
    if (r == FN_OK) r = h.s;
    if (r == FN_OK && h.n) {
        r = fn_gallery_begin(g);
        for (int i = 0; r == FN_OK && i < h.n; i++) {
            if (!h.v[i].emb) continue;
            fn_gallery_face f = {to, h.v[i].path, h.v[i].hash, {0}, h.v[i].prob, h.v[i].emb};
            memcpy(f.box, h.v[i].box, sizeof f.box);
            fn_gallery_add_info info;
            r = fn_gallery_add_ex(g, &f, FN_GALLERY_ADD_ALLOW_OTHER_PERSON, &info);
        }
        if (r == FN_OK) r = fn_gallery_commit(g);
        else fn_gallery_rollback(g);
        for (int i = 0; r == FN_OK && i < h.n; i++) {
            if (!h.v[i].emb) continue;
            r = fn_gallery_remove_image(g, h.v[i].id);
            if (r == FN_ERR_NOT_FOUND) r = FN_OK;
        }
    }
    for (int i = 0; i < h.n; i++) {
        free(h.v[i].path);
        free(h.v[i].hash);
        free(h.v[i].emb);
    }
    free(h.v);
    return r;
}

/* Takes the library's images of person `name` out of the gallery, and the
 * person too when nothing else is left of them. */
static fn_status drop_library_images(fn_library *l, fn_gallery *g, const char *name)
{
    id_list all = {0};
    fn_status r = fn_gallery_list_images(g, name, collect_image, &all);
    if (r == FN_OK && all.nomem) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    unsigned char *mine = r == FN_OK ? calloc((size_t)all.n + 1, 1) : NULL;
    if (r == FN_OK && !mine) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    int n_mine = 0;
    sqlite3_stmt *st = NULL;
    if (r == FN_OK)
        r = fn_ldb_prepare(l, "SELECT 1 FROM lib_enrolled WHERE image_id = ?1 AND person = ?2 AND mine = 1", &st);
    for (int i = 0; r == FN_OK && i < all.n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, all.v[i]);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if ((mine[i] = sqlite3_step(st) == SQLITE_ROW)) n_mine++;
    }
    sqlite3_finalize(st);
    int64_t recorded = 1;   /* 0: a library from before the records, whose people are all its own */
    if (r == FN_OK && n_mine == 0)
        r = records_kept(l, &recorded);
    int whole = r == FN_OK && (n_mine == all.n || !recorded);
    if (whole) {
        r = fn_gallery_remove_person(g, name, NULL);
        if (r == FN_ERR_NOT_FOUND) r = FN_OK;
    } else
        for (int i = 0; r == FN_OK && i < all.n; i++)
            if (mine[i]) {
                r = fn_gallery_remove_image(g, all.v[i]);
                if (r == FN_ERR_NOT_FOUND) r = FN_OK;
            }
    if (r == FN_OK) r = fn_ldb_prepare(l, "DELETE FROM lib_enrolled WHERE person = ?1", &st);
    if (r == FN_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) r = fn_ldb_fail(l, "forgetting enrolled images");
        sqlite3_finalize(st);
    }
    if (r == FN_OK && !whole) r = record_others(l, g, name);   /* what is left: the user's */
    free(mine);
    free(all.v);
    return r;
}

static fn_status group_name(fn_library *l, int64_t group, char *name, size_t cap, int *owns)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT coalesce(name, ''), owns_person FROM lib_groups WHERE id = ?1", &st));
    sqlite3_bind_int64(st, 1, group);
    int rc = sqlite3_step(st);
    name[0] = '\0';
    if (rc == SQLITE_ROW) {
        snprintf(name, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        if (owns) *owns = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return FN_OK;
    return rc == SQLITE_DONE ? fn_fail(FN_ERR_NOT_FOUND, "%s: no group %lld in the photo library", l->path,
                                       (long long)group)
                             : fn_ldb_fail(l, "reading a group");
}

typedef struct person_probe { const char *name; int found; } person_probe;

static int find_person(void *ctx, const fn_gallery_person *p)
{
    person_probe *pp = ctx;
    if (!strcmp(p->name, pp->name)) pp->found = 1;
    return pp->found;
}

/* Who in the gallery holds most of a group's files. */
enum { TALLY_MAX = 8 };
typedef struct owner_tally {
    fn_gallery *g;
    char names[TALLY_MAX][FN_GALLERY_NAME_MAX];
    int count[TALLY_MAX], n;
    fn_status s;
} owner_tally;

static int tally_owner(void *ctx, const fn_library_face *f)
{
    owner_tally *t = ctx;
    if (f->not_face || !f->hash_hex || !f->hash_hex[0]) return 0;
    char who[FN_GALLERY_NAME_MAX];
    t->s = fn_gallery_file_owner(t->g, f->hash_hex, NULL, who);
    if (t->s != FN_OK) return 1;
    if (!who[0]) return 0;
    int i = 0;
    while (i < t->n && strcmp(t->names[i], who)) i++;
    if (i == t->n) {
        if (t->n == TALLY_MAX) return 0;
        snprintf(t->names[t->n], sizeof t->names[0], "%s", who);
        t->count[t->n++] = 0;
    }
    t->count[i]++;
    return 0;
}

/* A named group whose person is no longer in the gallery was renamed or
 * removed there since the last sync (facenet gallery rename / remove, the
 * HTTP API): the gallery's word stands.  Renamed: the person who now holds
 * most of the group's files gives the group its name (unless another group
 * has that name).  Removed: the group keeps its faces and its lock but
 * loses the name, so nobody is enrolled again behind the user's back.
 * name (in/out) becomes the name to sync, "" for none. */
static fn_status follow_gallery(fn_library *l, int64_t group, fn_gallery *g, char *name, size_t cap)
{
    person_probe pp = {name, 0};
    FN_TRY(fn_gallery_list(g, find_person, &pp));
    if (pp.found) return FN_OK;
    /* absent because the library took the person out itself (the group had no face left, as when its
     * photos were away) leaves no record of its images behind: the name stays, to be enrolled again when
     * faces come back (it was dropped as if the user had removed the person) */
    int64_t recorded = 0, records = 0;
    FN_TRY(records_kept(l, &recorded));
    sqlite3_stmt *q;
    FN_TRY(fn_ldb_prepare(l, "SELECT count(*) FROM lib_enrolled WHERE person = ?1", &q));
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) records = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (recorded && !records) return FN_OK;
    owner_tally *t = calloc(1, sizeof *t);
    if (!t) return fn_fail(FN_ERR_NOMEM, "out of memory");
    t->g = g;
    /* where the recorded images are now (they keep their ids through a rename), else who holds the
     * group's files (a library from before the records) */
    fn_status r = records ? records_owner(l, g, name, t->names[0], sizeof t->names[0]) : FN_OK;
    if (r == FN_OK && t->names[0][0]) t->count[0] = 1, t->n = 1;
    else if (r == FN_OK) r = fn_library_faces(l, group, tally_owner, t);
    if (r == FN_OK) r = t->s;
    int best = -1;
    for (int i = 0; r == FN_OK && i < t->n; i++)
        if (best < 0 || t->count[i] > t->count[best]) best = i;
    sqlite3_stmt *st = NULL;
    if (r == FN_OK && best >= 0) {
        r = fn_ldb_prepare(l, "SELECT 1 FROM lib_groups WHERE name = ?1 AND id != ?2", &st);
        if (r == FN_OK) {
            sqlite3_bind_text(st, 1, t->names[best], -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, group);
            if (sqlite3_step(st) == SQLITE_ROW) best = -1;
            sqlite3_finalize(st);
        }
    }
    if (r == FN_OK)
        r = fn_ldb_prepare(l, best >= 0 ? "UPDATE lib_groups SET name = ?2 WHERE id = ?1"
                                        : "UPDATE lib_groups SET name = NULL, owns_person = 0 WHERE id = ?1", &st);
    if (r == FN_OK) {
        sqlite3_bind_int64(st, 1, group);
        if (best >= 0) sqlite3_bind_text(st, 2, t->names[best], -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) r = fn_ldb_fail(l, "following the gallery's name of a group");
    }
    if (r == FN_OK) r = rename_records(l, name, best >= 0 ? t->names[best] : NULL);
    if (r == FN_OK) snprintf(name, cap, "%s", best >= 0 ? t->names[best] : "");
    free(t);
    return r;
}

/* follow: first take the gallery's rename or removal of the group's person
 * (every caller but fn_library_name_group, which has just set the name). */
static fn_status sync_person(fn_library *l, int64_t group, const char *old_name, fn_gallery *g, int follow)
{
    if (!g) return FN_OK;
    char name[FN_GALLERY_NAME_MAX];
    int owns = 0;
    fn_status r = group_name(l, group, name, sizeof name, &owns);
    if (r == FN_ERR_NOT_FOUND) name[0] = '\0';
    else FN_TRY(r);
    if (follow && name[0]) FN_TRY(follow_gallery(l, group, g, name, sizeof name));
    if (old_name && *old_name && owns && strcmp(old_name, name)) FN_TRY(drop_library_images(l, g, old_name));
    if (!name[0]) return FN_OK;
    if (owns) FN_TRY(drop_library_images(l, g, name));
    sync_ctx c = {l, g, name, {0}, FN_OK};
    r = fn_gallery_begin(g);
    if (r == FN_OK) {
        r = fn_library_faces(l, group, add_face, &c);
        if (r == FN_OK) r = c.s;
        if (r == FN_OK) r = fn_gallery_commit(g);
        else fn_gallery_rollback(g);
    }
    if (r == FN_OK) r = record_ids(l, name, &c.added, 1);
    if (r == FN_OK) r = record_others(l, g, name);   /* photos enrolled by hand since, known by id */
    free(c.added.v);
    return r;
}

fn_status fn_library_sync_person(fn_library *l, int64_t group, const char *old_name, fn_gallery *g)
{
    return sync_person(l, group, old_name, g, 1);
}

static int collect_named(void *ctx, const fn_library_group *gr)
{
    return gr->name[0] ? push_id(ctx, gr->id) : 0;
}

fn_status fn_library_sync_gallery(fn_library *l, fn_gallery *g)
{
    id_list v = {0};
    fn_status r = fn_library_groups(l, collect_named, &v);
    if (r == FN_OK && v.nomem) r = fn_fail(FN_ERR_NOMEM, "out of memory");
    for (int i = 0; r == FN_OK && i < v.n; i++) r = fn_library_sync_person(l, v.v[i], NULL, g);
    free(v.v);
    return r;
}

/* ---- the user's corrections ---- */

fn_status fn_library_name_group(fn_library *l, int64_t group, const char *name_in, fn_gallery *g)
{
    char name[FN_GALLERY_NAME_MAX], old[FN_GALLERY_NAME_MAX];
    FN_TRY(fn_gallery_normalize_name(name_in, name, sizeof name, NULL));
    if (strspn(name, "0123456789") == strlen(name))
        return fn_fail(FN_ERR_ARG, "'%s' would be read as a group number wherever a group is named; give a name "
                       "with a letter in it", name);
    if (!strncasecmp(name, "group-", 6) && name[6] && strspn(name + 6, "0123456789") == strlen(name + 6))
        return fn_fail(FN_ERR_ARG, "'%s' is how unnamed groups are called (in exports, on contact sheets); give "
                       "another name", name);
    int old_owns = 0;
    FN_TRY(group_name(l, group, old, sizeof old, &old_owns));
    int64_t other = 0;
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT id FROM lib_groups WHERE name = ?1 AND id != ?2", &st));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, group);
    if (sqlite3_step(st) == SQLITE_ROW) other = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (other)
        return fn_fail(FN_ERR_ARG, "group %lld is already named '%s'; merge the two groups instead (`facenet people "
                       "merge %lld %lld`)", (long long)other, name, (long long)other, (long long)group);
    /* the library owns the gallery person only when it creates it */
    int owns = old_owns;
    if (g && strcmp(old, name)) {
        person_probe pp = {name, 0};
        FN_TRY(fn_gallery_list(g, find_person, &pp));
        if (old[0] && old_owns && !pp.found) {
            /* the library's person renamed: in the gallery too, so photos enrolled in it by hand go with it */
            fn_status r = fn_gallery_rename_person(g, old, name);
            if (r != FN_OK && r != FN_ERR_NOT_FOUND) return r;
            FN_TRY(rename_records(l, old, name));
        } else if (old[0] && old_owns) {
            /* named after a person enrolled by hand: the old person's photos enrolled by hand go to that
             * person, its library photos leave (they stood under both names, and `gallery check` failed) */
            FN_TRY(move_hand_images(l, g, old, name));
            FN_TRY(drop_library_images(l, g, old));
        }
        owns = !pp.found;
    }
    FN_TRY(fn_ldb_prepare(l, "UPDATE lib_groups SET name = ?2, locked = 1, owns_person = ?3 WHERE id = ?1", &st));
    sqlite3_bind_int64(st, 1, group);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, owns);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return fn_ldb_fail(l, "naming a group");
    return sync_person(l, group, NULL, g, 0);
}

fn_status fn_library_merge(fn_library *l, int64_t into, int64_t from, fn_gallery *g)
{
    if (into == from) return fn_fail(FN_ERR_ARG, "merge: group %lld with itself", (long long)into);
    char a[FN_GALLERY_NAME_MAX], b[FN_GALLERY_NAME_MAX];
    int owns_b = 0;
    FN_TRY(group_name(l, into, a, sizeof a, NULL));
    FN_TRY(group_name(l, from, b, sizeof b, &owns_b));
    /* two names: into's stays; from's gallery person goes when the library made it (a person enrolled by
     * hand is only ever added to).  Refusing sent the user in a circle: naming one like the other is
     * refused too ("merge the two groups instead"). */
    int drop_b = a[0] && b[0] && strcmp(a, b) && owns_b;
    if (a[0] && b[0] && strcmp(a, b) && !owns_b)   /* its photos would stand under two names */
        return fn_fail(FN_ERR_ARG, "merge: group %lld is '%s', a person enrolled in the gallery by hand, who keeps "
                       "their photos; merge the other way (`facenet people merge %lld %lld`), or remove '%s' from "
                       "the gallery first", (long long)from, b, (long long)from, (long long)into, b);
    /* the gallery first: should the library's transaction then fail, group B still stands, named, and is
     * given its photos again (the other order left B's photos under both names for good) */
    if (drop_b && g) {   /* B is A: B's photos enrolled by hand go to A */
        FN_TRY(move_hand_images(l, g, b, a));
        FN_TRY(drop_library_images(l, g, b));
    }
    fn_status r = fn_ldb_begin(l);
    if (r != FN_OK) {
        if (drop_b && g) (void)sync_person(l, from, NULL, g, 0);
        return r;
    }
    sqlite3_stmt *st;
    r = fn_ldb_prepare(l, "UPDATE lib_faces SET group_id = ?1 WHERE group_id = ?2", &st);
    if (r == FN_OK) {
        sqlite3_bind_int64(st, 1, into);
        sqlite3_bind_int64(st, 2, from);
        if (sqlite3_step(st) != SQLITE_DONE) r = fn_ldb_fail(l, "merging groups");
        sqlite3_finalize(st);
    }
    if (r == FN_OK) r = fn_ldb_prepare(l, "DELETE FROM lib_groups WHERE id = ?1", &st);
    if (r == FN_OK) {
        sqlite3_bind_int64(st, 1, from);
        if (sqlite3_step(st) != SQLITE_DONE) r = fn_ldb_fail(l, "merging groups");
        sqlite3_finalize(st);
    }
    if (r == FN_OK) r = fn_ldb_prepare(l, "UPDATE lib_groups SET locked = 1, name = coalesce(name, ?2),"
                                          " owns_person = owns_person OR ?3 WHERE id = ?1", &st);
    if (r == FN_OK) {
        sqlite3_bind_int64(st, 1, into);
        if (b[0]) sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 2);
        sqlite3_bind_int(st, 3, !a[0] && owns_b);
        if (sqlite3_step(st) != SQLITE_DONE) r = fn_ldb_fail(l, "merging groups");
        sqlite3_finalize(st);
    }
    if (r == FN_OK) r = fn_ldb_commit(l);
    else fn_ldb_rollback(l);
    if (r != FN_OK) {
        char why[1024];
        snprintf(why, sizeof why, "%s", fn_last_error());
        if (drop_b && g) (void)sync_person(l, from, NULL, g, 0);   /* B's photos back under B */
        return fn_fail(r, "%s", why);
    }
    return fn_library_sync_person(l, into, NULL, g);
}

static fn_status faces_exist(fn_library *l, const int64_t *faces, int n, int64_t *groups)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT coalesce(group_id, 0) FROM lib_faces WHERE id = ?1", &st));
    fn_status r = FN_OK;
    for (int i = 0; r == FN_OK && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, faces[i]);
        if (sqlite3_step(st) == SQLITE_ROW) groups[i] = sqlite3_column_int64(st, 0);
        else r = fn_fail(FN_ERR_NOT_FOUND, "%s: no face %lld in the photo library", l->path, (long long)faces[i]);
    }
    sqlite3_finalize(st);
    return r;
}

static fn_status lock_group(fn_library *l, int64_t g)
{
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "UPDATE lib_groups SET locked = 1 WHERE id = ?1", &st));
    sqlite3_bind_int64(st, 1, g);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FN_OK : fn_ldb_fail(l, "locking a group");
}

static fn_status edit_faces(fn_library *l, const int64_t *faces, int n, int64_t to, int not_face, fn_gallery *g,
                            int64_t *new_group)
{
    if (n < 1 || !faces) return fn_fail(FN_ERR_ARG, "no faces given");
    int64_t *old = malloc((size_t)n * sizeof *old);
    if (!old) return fn_fail(FN_ERR_NOMEM, "out of memory");
    fn_status r = faces_exist(l, faces, n, old);
    char dummy[FN_GALLERY_NAME_MAX];
    if (r == FN_OK && to > 0) r = group_name(l, to, dummy, sizeof dummy, NULL);
    if (r == FN_OK) r = fn_ldb_begin(l);
    if (r == FN_OK && !not_face && to == 0) {
        r = add_group(l, &to);
        if (new_group) *new_group = to;
    }
    sqlite3_stmt *st = NULL;
    if (r == FN_OK)
        r = fn_ldb_prepare(l, not_face ? "UPDATE lib_faces SET group_id = NULL, not_face = 1, locked = 1 WHERE id = ?1"
                                       : "UPDATE lib_faces SET group_id = ?2, locked = 1, not_face = 0 WHERE id = ?1",
                           &st);
    for (int i = 0; r == FN_OK && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, faces[i]);
        if (!not_face) sqlite3_bind_int64(st, 2, to);
        if (sqlite3_step(st) != SQLITE_DONE) r = fn_ldb_fail(l, "moving a face");
    }
    sqlite3_finalize(st);
    if (r == FN_OK && to > 0) r = lock_group(l, to);
    for (int i = 0; r == FN_OK && i < n; i++) if (old[i]) r = lock_group(l, old[i]);
    if (r == FN_OK) r = fn_ldb_commit(l);
    else fn_ldb_rollback(l);
    if (r == FN_OK && to > 0) r = fn_library_sync_person(l, to, NULL, g);
    for (int i = 0; r == FN_OK && i < n; i++) if (old[i] && old[i] != to) r = fn_library_sync_person(l, old[i], NULL, g);
    free(old);
    return r;
}

fn_status fn_library_move_faces(fn_library *l, const int64_t *faces, int n, int64_t to, fn_gallery *g,
                                int64_t *new_group)
{
    if (new_group) *new_group = 0;
    return edit_faces(l, faces, n, to, 0, g, new_group);
}

fn_status fn_library_not_a_face(fn_library *l, const int64_t *faces, int n, fn_gallery *g)
{
    return edit_faces(l, faces, n, -1, 1, g, NULL);
}
