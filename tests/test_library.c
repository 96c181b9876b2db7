/* test_library.c — the photo library end to end on Film photos copied into a
 * temporary folder: incremental scans (add, change, touch, move, delete)
 * against fn_faces_run's face counts, kill -9 during a scan then a re-run
 * against an uninterrupted scan, naming / merging / moving surviving a full
 * re-cluster, a named group recognised by gallery search (identify's path),
 * and a contact sheet decoded back (size, tiles). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_util.h"
#include <sqlite3.h>

#include "facenet.h"
#include "t.h"
#include "t_jpeg.h"

static const char *people[] = {"Deepika Padukone", "Mohanlal", "Varun Dhawan"};
static char film[1024], tmp[1024];

static int copy(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b) fclose(b);
    return ok ? 0 : -1;
}

/* The k-th photo (1-based) of person p, as named in the Film set. */
static void film_photo(int p, int k, char *out, size_t cap)
{
    const char *ext[] = {"jpg", "jpeg", "png"};
    for (int e = 0; e < 3; e++) {
        snprintf(out, cap, "%s/%s/%d.%s", film, people[p], k, ext[e]);
        if (access(out, R_OK) == 0) return;
    }
}

/* Copies the k-th Film photo of person p to `to`: 0, or -1 if it failed. */
static int put_photo(int p, int k, const char *to)
{
    char src[1024];
    film_photo(p, k, src, sizeof src);
    return copy(src, to);
}

/* tmp/<name>/0_1.jpg ... 0_<n>.jpg: the first n Film photos of person 0;
 * the folder's path into photos. */
static void film_folder(const char *name, int n, char *photos, size_t cap)
{
    char p[1400];
    snprintf(photos, cap, "%s/%s", tmp, name);
    mkdir(photos, 0777);
    for (int k = 1; k <= n; k++) {
        snprintf(p, sizeof p, "%s/0_%d.jpg", photos, k);
        put_photo(0, k, p);
    }
}

typedef struct lib { fn_library *l; fn_gallery *g; } lib;

static fn_scan_stats scan(fn_engine *e, fn_library *l, const char *dir)
{
    fn_paths files = {0};
    fn_list_images(dir, &files, NULL);
    fn_scan_stats st;
    const char *roots[1] = {dir};
    fn_status s = fn_library_scan(l, e, (const char *const *)files.items, files.n, roots, 1, NULL, NULL, NULL, &st);
    T_CHECK(s == FN_OK, "scan %s: %s", dir, fn_last_error());
    fn_paths_free(&files);
    return st;
}

static int first_face_id(void *ctx, const fn_library_face *f)
{
    *(int64_t *)ctx = f->id;
    return 1;
}

static int first_unnamed(void *ctx, const fn_library_group *g)
{
    if (g->name[0] || g->n_faces < 1) return 0;
    *(int64_t *)ctx = g->id;
    return 1;
}

static int count_one(void *ctx, const fn_library_face *f)
{
    (void)f;
    ++*(int *)ctx;
    return 0;
}

typedef struct person_seen { const char *name; int images; } person_seen;

static int seen_person(void *ctx, const fn_gallery_person *p)
{
    person_seen *ps = ctx;
    if (!strcmp(p->name, ps->name)) ps->images = (int)p->n_images;
    return 0;
}

static int64_t count_faces(fn_library *l)
{
    int64_t n = 0;
    fn_library_count(l, NULL, &n, NULL);
    return n;
}

static int faces_of(fn_engine *e, const char *path)
{
    fn_faces f = {0};
    fn_faces_run(e, path, 0, 0, &f);
    int n = f.n;
    fn_faces_free(&f);
    return n;
}

typedef struct first { int64_t face, group; const char *want; char path[4096]; } first;

static int find_file(void *ctx, const fn_library_face *f)
{
    first *c = ctx;
    if (strstr(f->path, c->want)) {
        c->face = f->id;
        c->group = f->group;
        return 1;
    }
    return 0;
}

static first face_in(fn_library *l, const char *want)
{
    first c = {0, 0, want, ""};
    fn_library_faces(l, -1, find_file, &c);
    return c;
}

static int count_person(void *ctx, const fn_gallery_person *p)
{
    struct { const char *name; int64_t n; } *c = ctx;
    if (!strcmp(p->name, c->name)) c->n = p->n_images;
    return 0;
}

/* A gallery person's images, -1 when there is no such person. */
static int64_t person_images(fn_gallery *g, const char *name)
{
    struct { const char *name; int64_t n; } c = {name, -1};
    fn_gallery_refresh(g, NULL);
    return fn_gallery_list(g, count_person, &c) == FN_OK ? c.n : -2;
}

static void test_incremental(fn_engine *e)
{
    char photos[1200], p[1300], q[1300], src[1300];
    snprintf(photos, sizeof photos, "%s/photos", tmp);
    mkdir(photos, 0777);
    int expect = 0;
    for (int i = 0; i < 3; i++)
        for (int k = 1; k <= 3; k++) {
            snprintf(p, sizeof p, "%s/%d_%d.jpg", photos, i, k);
            T_CHECK(put_photo(i, k, p) == 0, "copy Film photo %d of person %d to %s", k, i, p);
            expect += faces_of(e, p);
        }
    char db[1300];
    snprintf(db, sizeof db, "%s/lib.db", tmp);
    fn_gallery_model m = fn_gallery_model_of_engine(e);
    fn_gallery *g = NULL;
    T_CHECK(fn_gallery_open(db, &m, FN_GALLERY_CREATE, &g) == FN_OK, "gallery: %s", fn_last_error());
    fn_library *l = NULL;
    T_CHECK(fn_library_open(db, &m, &l) == FN_OK, "library: %s", fn_last_error());
    if (!l || !g) T_SKIP("no library");
    fn_scan_stats st = scan(e, l, photos);
    T_CHECK(st.added == 9 && st.faces_added == expect && count_faces(l) == expect,
            "first scan: %d new, %lld faces (fn_faces_run finds %d)", st.added, (long long)st.faces_added, expect);
    st = scan(e, l, photos);
    T_CHECK(st.unchanged == 9 && st.added + st.changed + st.touched == 0, "rescan: %d unchanged", st.unchanged);
    /* touch: same content, new time */
    snprintf(p, sizeof p, "%s/0_1.jpg", photos);
    struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
    utimes(p, tv);
    st = scan(e, l, photos);
    T_CHECK(st.touched == 1 && st.unchanged == 8, "touch: %d touched, %d unchanged", st.touched, st.unchanged);
    /* change: 0_2 gets another photo's content */
    snprintf(p, sizeof p, "%s/0_2.jpg", photos);
    int before = faces_of(e, p);
    put_photo(0, 5, p);
    int after = faces_of(e, p);
    st = scan(e, l, photos);
    T_CHECK(st.changed == 1 && st.faces_added == after && st.faces_removed == before,
            "change: %d changed, +%lld -%lld faces (want +%d -%d)", st.changed, (long long)st.faces_added,
            (long long)st.faces_removed, after, before);
    /* move: 1_1 into a subfolder keeps its faces (same ids) */
    snprintf(p, sizeof p, "%s/1_1.jpg", photos);
    first was = face_in(l, "/1_1.jpg");
    snprintf(q, sizeof q, "%s/sub", photos);
    mkdir(q, 0777);
    snprintf(q, sizeof q, "%s/sub/renamed.jpg", photos);
    rename(p, q);
    st = scan(e, l, photos);
    first now = face_in(l, "/sub/renamed.jpg");
    T_CHECK(st.moved == 1 && st.removed == 0 && st.added == 0 && now.face == was.face && was.face,
            "move: %d moved, %d removed, face %lld now %lld", st.moved, st.removed, (long long)was.face,
            (long long)now.face);
    /* delete: 2_3's faces go */
    snprintf(p, sizeof p, "%s/2_3.jpg", photos);
    int gone = faces_of(e, p);
    int64_t n0 = count_faces(l);
    unlink(p);
    st = scan(e, l, photos);
    T_CHECK(st.removed == 1 && count_faces(l) == n0 - gone, "delete: %d removed, %lld faces (want %lld)", st.removed,
            (long long)count_faces(l), (long long)(n0 - gone));
    /* add */
    snprintf(p, sizeof p, "%s/2_4.jpg", photos);
    put_photo(2, 4, p);
    st = scan(e, l, photos);
    T_CHECK(st.added == 1 && st.unchanged == 8, "add: %d new, %d unchanged", st.added, st.unchanged);

    /* ---- groups ---- */
    fn_library_cluster_stats cs;
    T_CHECK(fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs) == FN_OK, "cluster: %s", fn_last_error());
    first d = face_in(l, "/0_1.jpg"), v = face_in(l, "/2_1.jpg"), v2 = face_in(l, "/2_2.jpg");
    T_CHECK(d.group > 0 && v.group > 0 && d.group != v.group, "Deepika in group %lld, Varun in %lld", (long long)d.group,
            (long long)v.group);
    T_CHECK(fn_library_name_group(l, d.group, "7", g) == FN_ERR_ARG, "a group named '7' (a group number)");
    T_CHECK(fn_library_name_group(l, d.group, "group-7", g) == FN_ERR_ARG, "a group named 'group-7' (an unnamed one's)");
    T_CHECK(fn_library_name_group(l, d.group, "GROUP-7", g) == FN_ERR_ARG, "a group named 'GROUP-7' (one file with "
            "'group-7' on many drives)");
    T_CHECK(fn_library_name_group(l, d.group, "Deepika", g) == FN_OK, "name: %s", fn_last_error());
    /* identify's path: the gallery names a new photo of her */
    film_photo(0, 7, src, sizeof src);
    fn_faces f = {0};
    fn_faces_run(e, src, 0, 1, &f);
    fn_gallery_scratch *sc = NULL;
    fn_gallery_refresh(g, NULL);
    fn_gallery_scratch_new(g, 4, &sc);
    fn_gallery_match mt;
    T_CHECK(f.n > 0 && fn_gallery_search(g, sc, f.emb, 1, 1, &mt, NULL) == FN_OK && !strcmp(mt.best_name, "Deepika") &&
                mt.best.distance <= fn_engine_threshold(e),
            "identify: nearest %s at %.3f", mt.best_name, mt.best.distance);
    fn_gallery_scratch_free(sc);
    fn_faces_free(&f);
    /* corrections survive a full re-cluster: a Varun face moved alone to a new group, his two groups merged */
    int64_t made = 0;
    T_CHECK(fn_library_move_faces(l, &v2.face, 1, 0, g, &made) == FN_OK && made > 0, "move: %s", fn_last_error());
    T_CHECK(fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 1, &cs) == FN_OK, "recluster: %s", fn_last_error());
    first v2b = face_in(l, "/2_2.jpg"), db2 = face_in(l, "/0_1.jpg");
    T_CHECK(v2b.group == made, "moved face in group %lld after recluster, want %lld", (long long)v2b.group, (long long)made);
    int64_t named = 0;
    T_CHECK(fn_library_find_group(l, "Deepika", &named) == FN_OK && named == d.group && db2.group == d.group,
            "named group %lld after recluster (was %lld; her face in %lld)", (long long)named, (long long)d.group,
            (long long)db2.group);
    first vb = face_in(l, "/2_1.jpg");
    T_CHECK(fn_library_merge(l, vb.group, made, g) == FN_OK, "merge: %s", fn_last_error());
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 1, &cs);
    first m1 = face_in(l, "/2_1.jpg"), m2 = face_in(l, "/2_2.jpg");
    T_CHECK(m1.group == m2.group && m1.group == vb.group, "merged group broken by recluster: %lld %lld", (long long)m1.group,
            (long long)m2.group);
    /* two named groups merged: the first keeps its name, the second's person (the library made it) leaves
     * the gallery (merging them was refused, and naming one like the other too: a circle) */
    int64_t made2 = 0;
    T_CHECK(fn_library_move_faces(l, &v2.face, 1, 0, g, &made2) == FN_OK && made2 > 0, "move: %s", fn_last_error());
    T_CHECK(fn_library_name_group(l, m1.group, "Varun", g) == FN_OK && fn_library_name_group(l, made2, "Varun B", g) ==
                FN_OK, "name two groups: %s", fn_last_error());
    T_CHECK(fn_library_merge(l, m1.group, made2, g) == FN_OK, "merge of 'Varun' and 'Varun B': %s", fn_last_error());
    person_seen ps = {"Varun B", 0}, pv = {"Varun", 0};
    fn_gallery_list(g, seen_person, &ps);
    fn_gallery_list(g, seen_person, &pv);
    first m3 = face_in(l, "/2_2.jpg");
    int64_t vid = 0;
    int in_group = 0;
    fn_library_faces(l, m1.group, count_one, &in_group);
    T_CHECK(!ps.images && pv.images == in_group && in_group >= 2 && m3.group == m1.group && fn_library_find_group(l, "Varun", &vid) == FN_OK &&
                vid == m1.group,
            "after merging 'Varun B' into 'Varun': 'Varun B' has %d image(s) in the gallery, 'Varun' %d (want 0, %d); "
            "the face in group %lld (want %lld)", ps.images, pv.images, in_group, (long long)m3.group,
            (long long)m1.group);
    /* a person the library made may also hold a photo enrolled by hand: it stays through a sync, and a
     * merge takes it along (the merge removed the whole person, and every sync re-made it from the group
     * alone) */
    float cemb[192] = {0, 1};
    fn_gallery_face cf = {"Varun C", "/nowhere/c.jpg", "00000000000000000000000000000000000000000000000000000000"
                                                       "00000002", {0, 0, 10, 10}, 1, cemb};
    int64_t made4 = 0;
    T_CHECK(fn_library_move_faces(l, &v2.face, 1, 0, g, &made4) == FN_OK && made4 > 0 &&
                fn_library_name_group(l, made4, "Varun C", g) == FN_OK && fn_gallery_add(g, &cf, NULL, NULL) == FN_OK &&
                fn_library_sync_gallery(l, g) == FN_OK,
            "a library person with a photo enrolled by hand: %s", fn_last_error());
    T_CHECK(person_images(g, "Varun C") == 2, "'Varun C' after a sync: %lld image(s), want 2 (the group's face and "
            "the hand-enrolled one)", (long long)person_images(g, "Varun C"));
    T_CHECK(fn_library_merge(l, m1.group, made4, g) == FN_OK, "merge of 'Varun C' into 'Varun': %s", fn_last_error());
    T_CHECK(person_images(g, "Varun C") < 0 && person_images(g, "Varun") == in_group + 1,
            "after merging 'Varun C' into 'Varun': %lld and %lld image(s), want none (the photo enrolled by hand "
            "goes to 'Varun': the same human) and %d", (long long)person_images(g, "Varun C"),
            (long long)person_images(g, "Varun"), in_group + 1);
    /* a group named after a person enrolled by hand keeps that person's photos: merging it into another
     * name is refused (its photos stood under both names, and `gallery check` failed) */
    float hemb[192] = {1};
    fn_gallery_face hf = {"By Hand", "/nowhere/hand.jpg", "00000000000000000000000000000000000000000000000000000000"
                                                            "00000001", {0, 0, 10, 10}, 1, hemb};
    int64_t made3 = 0, hid = 0;
    T_CHECK(fn_gallery_add(g, &hf, NULL, &hid) == FN_OK, "enrol by hand: %s", fn_last_error());
    T_CHECK(fn_library_move_faces(l, &v2.face, 1, 0, g, &made3) == FN_OK && made3 > 0 &&
                fn_library_name_group(l, made3, "By Hand", g) == FN_OK,
            "name a group after a hand-enrolled person: %s", fn_last_error());
    T_CHECK(fn_library_merge(l, m1.group, made3, g) == FN_ERR_ARG && strstr(fn_last_error(), "merge the other way"),
            "merge of a hand-enrolled person's group into 'Varun': %s", fn_last_error());
    T_CHECK(fn_library_merge(l, made3, m1.group, g) == FN_OK, "merge the other way: %s", fn_last_error());
    person_seen ph = {"By Hand", 0}, pv2 = {"Varun", 0};
    fn_gallery_list(g, seen_person, &ph);
    fn_gallery_list(g, seen_person, &pv2);
    /* 'By Hand' holds its own photo, the group's faces, and the photo enrolled by hand in 'Varun C' that went
     * to 'Varun' with the merge above */
    T_CHECK(ph.images == in_group + 2 && !pv2.images, "after merging 'Varun' into 'By Hand': %d and %d image(s), want "
            "%d and 0", ph.images, pv2.images, in_group + 2);
    /* a later scan: new faces join the named group by a search of the
     * faces in no group only; the group's faces all stay */
    int64_t kept_ids[64];
    int nb = 0, ungrouped = 0;
    for (int64_t id = 1; id < 1000 && nb < 64; id++) {
        fn_library_face ff;
        if (fn_library_face_get(l, id, &ff) == FN_OK && ff.group == d.group && !ff.not_face) kept_ids[nb++] = id;
    }
    for (int k = 4; k <= 5; k++) {
        snprintf(p, sizeof p, "%s/0_%d.jpg", photos, k);
        put_photo(0, k, p);
    }
    scan(e, l, photos);
    int64_t nfaces = count_faces(l);
    for (int64_t id = 1; id < 1000; id++) {
        fn_library_face ff;
        if (fn_library_face_get(l, id, &ff) == FN_OK && !ff.group && !ff.not_face) ungrouped++;
    }
    T_CHECK(fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs) == FN_OK, "cluster after a scan: %s",
            fn_last_error());
    int stayed = 0;
    for (int i = 0; i < nb; i++) {
        fn_library_face ff;
        stayed += fn_library_face_get(l, kept_ids[i], &ff) == FN_OK && ff.group == d.group;
    }
    first d4 = face_in(l, "/0_4.jpg"), d5 = face_in(l, "/0_5.jpg");
    T_CHECK(stayed == nb && d4.group == d.group && d5.group == d.group,
            "incremental: %d of the named group's %d faces stayed; new photos of her in groups %lld and %lld (want %lld)",
            stayed, nb, (long long)d4.group, (long long)d5.group, (long long)d.group);
    T_CHECK(cs.searched == ungrouped && cs.distances >= (int64_t)ungrouped * nfaces &&
                cs.distances <= (int64_t)ungrouped * nfaces + (int64_t)ungrouped * ungrouped &&
                cs.distances < nfaces * nfaces,
            "incremental: %d faces searched (%d in no group), %lld distances (%lld faces)", cs.searched, ungrouped,
            (long long)cs.distances, (long long)nfaces);
    /* the tuned clustering threshold is stored with the library */
    float tt = 0;
    fn_cluster_method tm = FN_CLUSTER_WHISPERS;
    T_CHECK(fn_library_get_cluster_threshold(l, &tt, &tm) == FN_ERR_NOT_FOUND, "a threshold stored before tuning");
    T_CHECK(fn_library_set_cluster_threshold(l, 0.8125f, FN_CLUSTER_DBSCAN) == FN_OK &&
                fn_library_get_cluster_threshold(l, &tt, &tm) == FN_OK && tt == 0.8125f && tm == FN_CLUSTER_DBSCAN,
            "stored threshold read back as %.4f (%s)", tt, fn_cluster_method_name(tm));
    T_CHECK(fn_library_set_cluster_threshold(l, 2.5f, FN_CLUSTER_AVERAGE) == FN_ERR_ARG, "threshold 2.5 stored");
    /* contact sheet: decoded back */
    int64_t nf = 0;
    int tiles = 0;
    fn_image sheet = {0};
    T_CHECK(fn_library_contact_sheet(l, d.group, 64, 3, 0, &sheet, &tiles) == FN_OK, "sheet: %s", fn_last_error());
    char out[1300];
    snprintf(out, sizeof out, "%s/sheet.jpg", tmp);
    fn_image_save_jpeg(out, &sheet, 90);
    fn_image back = {0};
    T_CHECK(fn_image_load(out, NULL, &back) == FN_OK, "sheet decode: %s", fn_last_error());
    nf = 0;
    for (int64_t id = 1; id < 1000; id++) {
        fn_library_face ff;
        if (fn_library_face_get(l, id, &ff) == FN_OK && ff.group == d.group && !ff.not_face) nf++;
    }
    int rows = (int)((nf + 2) / 3);
    T_CHECK(tiles == nf && back.w == 4 + 3 * 68 && back.h == FN_SHEET_BAND + rows * 68 + 4,
            "sheet: %d tiles (group has %lld faces), %dx%d (want %dx%d)", tiles, (long long)nf, back.w, back.h,
            4 + 3 * 68, FN_SHEET_BAND + rows * 68 + 4);
    /* the first tile is a photo, not the background */
    if (back.data && tiles > 0) {
        long var = 0;
        for (int y = FN_SHEET_BAND; y < FN_SHEET_BAND + 64; y++)
            for (int x = 4; x < 68; x++) var += abs((int)back.data[((size_t)y * back.w + x) * 3] - 32);
        T_CHECK(var > 64 * 64 * 10, "sheet: the first tile looks empty");
    }
    fn_image_free(&sheet);
    fn_image_free(&back);
    /* the gallery's word on a named group's person: renamed there (facenet gallery rename, the HTTP API), the
     * group takes the new name and nobody is enrolled under the old one again; removed there, the group keeps
     * its faces but is not enrolled again */
    T_CHECK(fn_library_sync_gallery(l, g) == FN_OK, "sync: %s", fn_last_error());   /* the cluster above added faces */
    int64_t enrolled = person_images(g, "Deepika");
    T_CHECK(enrolled > 0, "'Deepika' has %lld images in the gallery", (long long)enrolled);
    T_CHECK(fn_gallery_rename_person(g, "Deepika", "Deepika P") == FN_OK, "rename: %s", fn_last_error());
    T_CHECK(fn_library_sync_gallery(l, g) == FN_OK, "sync after a rename: %s", fn_last_error());
    int64_t renamed = 0;
    T_CHECK(fn_library_find_group(l, "Deepika P", &renamed) == FN_OK && renamed == d.group &&
                person_images(g, "Deepika") < 0 && person_images(g, "Deepika P") == enrolled,
            "renamed in the gallery: group %lld (want %lld); 'Deepika' has %lld images (want none), 'Deepika P' %lld "
            "(want %lld)", (long long)renamed, (long long)d.group, (long long)person_images(g, "Deepika"),
            (long long)person_images(g, "Deepika P"), (long long)enrolled);
    T_CHECK(fn_gallery_remove_person(g, "Deepika P", NULL) == FN_OK, "remove: %s", fn_last_error());
    T_CHECK(fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs) == FN_OK && fn_library_sync_gallery(l, g) == FN_OK,
            "cluster and sync after a removal: %s", fn_last_error());
    first dr = face_in(l, "/0_1.jpg");
    T_CHECK(person_images(g, "Deepika P") < 0 && person_images(g, "Deepika") < 0 &&
                fn_library_find_group(l, "Deepika P", &renamed) == FN_ERR_NOT_FOUND && dr.group == d.group,
            "removed in the gallery: 'Deepika P' has %lld images (want none); her face in group %lld (want %lld)",
            (long long)person_images(g, "Deepika P"), (long long)dr.group, (long long)d.group);
    /* the library's person renamed (`people name`): renamed in the gallery, so a photo enrolled in it by hand
     * goes with it (it stayed behind under the old name) */
    float demb[192] = {0, 0, 1};
    fn_gallery_face df = {"Dee", "/nowhere/d.jpg", "00000000000000000000000000000000000000000000000000000000"
                                                   "00000003", {0, 0, 10, 10}, 1, demb};
    int64_t made5 = 0;
    T_CHECK(fn_library_move_faces(l, &v2.face, 1, 0, g, &made5) == FN_OK && made5 > 0 &&
                fn_library_name_group(l, made5, "Dee", g) == FN_OK && fn_gallery_add(g, &df, NULL, NULL) == FN_OK &&
                fn_library_name_group(l, made5, "Dee Two", g) == FN_OK,
            "rename a library person with a photo enrolled by hand: %s", fn_last_error());
    T_CHECK(person_images(g, "Dee Two") == 2 && person_images(g, "Dee") < 0,
            "after renaming 'Dee' to 'Dee Two': %lld and %lld image(s), want 2 and none",
            (long long)person_images(g, "Dee Two"), (long long)person_images(g, "Dee"));
    /* ... and named after a person enrolled by hand: all of the old person goes to that one (the group's
     * photos stood under both names, and `gallery check` failed; the photo enrolled by hand stayed behind) */
    fn_gallery_face hof = {"Hand Only", "/nowhere/h.jpg", "00000000000000000000000000000000000000000000000000000000"
                                                          "00000004", {0, 0, 10, 10}, 1, demb};
    T_CHECK(fn_gallery_add(g, &hof, NULL, NULL) == FN_OK && fn_library_name_group(l, made5, "Hand Only", g) == FN_OK,
            "name after a hand person: %s", fn_last_error());
    T_CHECK(person_images(g, "Dee Two") < 0 && person_images(g, "Hand Only") == 3,
            "after naming 'Dee Two' 'Hand Only': %lld and %lld image(s), want none and 3 (its own, the group's "
            "face, the photo enrolled by hand in 'Dee Two')", (long long)person_images(g, "Dee Two"),
            (long long)person_images(g, "Hand Only"));
    fn_library_close(l);
    fn_gallery_close(g);
}

/* kill -9 during `facenet scan`, then a re-run: the library equals an
 * uninterrupted scan's (files and faces). */
static void test_kill(fn_engine *e)
{
    const char *bin = t_facenet_bin();
    if (!bin || access(bin, X_OK) != 0) {
        t_not_checked("kill -9 during a scan (no facenet binary: FACENET_BIN)");
        return;
    }
    char photos[1200], db[1300], ref[1300], cmd[4096];
    snprintf(photos, sizeof photos, "%s/many", tmp);
    mkdir(photos, 0777);
    /* Film's 100 Predict photos: 1-3 s to scan (commits every 64 files or second), so the kill comes after a
     * committed group but before the end; 20 photos were often scanned whole before the first poll */
    snprintf(cmd, sizeof cmd, "cp -r '%s'/* '%s'/", film, photos);
    if (system(cmd) != 0) T_SKIP("cannot copy the Film photos");
    snprintf(db, sizeof db, "%s/kill.db", tmp);
    snprintf(ref, sizeof ref, "%s/ref.db", tmp);
    char told[1300];
    snprintf(told, sizeof told, "%s/kill.jsonl", tmp);
    const char *models = getenv("MODELS") ? getenv("MODELS") : "models";
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(told, "w", stdout)) _exit(127);
        execl(bin, bin, "scan", "--gallery", db, "--models-dir", models, "--json", photos, (char *)NULL);
        _exit(127);
    }
    /* wait for a first committed group, then kill */
    int killed = 0;
    for (int i = 0; i < 6000; i++) {
        usleep(20000);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) break;
        fn_library *l = NULL;
        int64_t files = 0;
        if (access(db, R_OK) == 0 && fn_library_open(db, NULL, &l) == FN_OK) {
            fn_library_count(l, &files, NULL, NULL);
            fn_library_close(l);
        }
        if (files > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            killed = 1;
            /* a file reported is a file stored: the records printed before the kill name committed files only */
            fn_library *kl = NULL;
            int64_t committed = 0;
            if (fn_library_open(db, NULL, &kl) == FN_OK) fn_library_count(kl, &committed, NULL, NULL);
            fn_library_close(kl);
            int printed = 0;
            char line[8192];
            FILE *f = fopen(told, "r");
            while (f && fgets(line, sizeof line, f)) printed += strstr(line, "\"action\":\"new\"") != NULL;
            if (f) fclose(f);
            T_CHECK(printed <= committed, "kill -9: %d files reported new, %lld committed", printed,
                    (long long)committed);
            printf("kill -9 with %lld of 100 files committed, %d reported\n", (long long)committed, printed);
            break;
        }
    }
    if (!killed) t_not_checked("kill -9 mid-scan (the scan ended before a group was committed)");
    t_run r;
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' --json '%s'", db, models, photos);
    T_CHECK(r.status == 0, "re-run after kill -9: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' --json '%s'", ref, models, photos);
    t_run_free(&r);
    fn_library *a = NULL, *b = NULL;
    fn_library_open(db, NULL, &a);
    fn_library_open(ref, NULL, &b);
    int64_t fa = 0, fb = 0, na = 0, nb = 0;
    if (a) fn_library_count(a, &fa, &na, NULL);
    if (b) fn_library_count(b, &fb, &nb, NULL);
    T_CHECK(a && b && fa == fb && na == nb && fb == 100, "after kill -9 and a re-run: %lld files %lld faces; "
            "uninterrupted: %lld files %lld faces", (long long)fa, (long long)na, (long long)fb, (long long)nb);
    fn_library_close(a);
    fn_library_close(b);
    (void)e;
}

/* `facenet scan` after a named person's photo was deleted: the gallery
 * stops holding it at once (identify must not recognise a deleted photo
 * until the next `facenet cluster`). */
/* The paths a scan is given, as users give them: the same photos reached
 * twice (overlapping PATHs, a folder symlink, a symlink loop) are scanned
 * once (a second row failed the scan: UNIQUE lib_files.path); a FIFO named
 * on the command line is refused, not waited on; a PATH that holds no
 * photo any more (an unmounted drive) keeps its photos' faces unless
 * --prune (it removed the whole library, names and all). */
static int64_t lib_files(const char *db)
{
    fn_library *l = NULL;
    int64_t n = -1;
    if (fn_library_open(db, NULL, &l) == FN_OK) fn_library_count(l, &n, NULL, NULL);
    fn_library_close(l);
    return n;
}

/* Makes the library believe the photos under `under` were on another file
 * system (a drive mounted there): their recorded st_dev + 1. */
static void on_other_drive(const char *db, const char *under)
{
    sqlite3 *d = NULL;
    sqlite3_stmt *st = NULL;
    char like[1400];
    snprintf(like, sizeof like, "%s/%%", under);
    int ok = sqlite3_open(db, &d) == SQLITE_OK &&
             sqlite3_prepare_v2(d, "UPDATE lib_files SET dev = dev + 1 WHERE path LIKE ?1", -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(d) > 0;
    }
    sqlite3_finalize(st);
    sqlite3_close(d);
    T_CHECK(ok, "%s: mark the photos under %s as on another drive", db, under);
}

/* Runs one statement on the library file; the first column of its first row, or -1. */
static int64_t lib_sql(const char *db, const char *sql)
{
    sqlite3 *d = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open(db, &d) == SQLITE_OK && sqlite3_prepare_v2(d, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(d);
    return v;
}

static void test_scan_paths(void)
{
    if (!t_facenet_bin() || access(t_facenet_bin(), X_OK) != 0) {
        t_not_checked("scan's paths (no facenet binary: FACENET_BIN)");
        return;
    }
    const char *models = getenv("MODELS") ? getenv("MODELS") : "models";
    char root[1200], sub[1300], p[1400], db[1300], link[1400];
    snprintf(root, sizeof root, "%s/paths", tmp);
    snprintf(sub, sizeof sub, "%s/a", root);
    mkdir(root, 0777);
    mkdir(sub, 0777);
    for (int k = 1; k <= 3; k++) {
        snprintf(p, sizeof p, "%s/%d.jpg", sub, k);
        put_photo(1, k, p);
    }
    snprintf(link, sizeof link, "%s/b", root);   /* a second way to the same folder */
    T_CHECK(symlink("a", link) == 0, "symlink %s: %s", link, strerror(errno));
    snprintf(link, sizeof link, "%s/loop", sub);   /* a loop: a/loop -> a */
    T_CHECK(symlink(".", link) == 0, "symlink %s: %s", link, strerror(errno));
    snprintf(db, sizeof db, "%s/paths.db", tmp);
    t_run r;
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s' '%s' '%s/1.jpg'", db, models, root, sub, sub);
    T_CHECK(r.status == 0 && strstr(r.out, "3 file(s): 3 new") && lib_files(db) == 3,
            "scan of overlapping paths: exit %d, %lld files stored: %s%s", r.status, (long long)lib_files(db), r.out,
            r.err);
    t_run_free(&r);
    snprintf(p, sizeof p, "%s/4.jpg", sub);   /* a new photo, reachable two ways: a later scan failed on it */
    put_photo(2, 1, p);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    T_CHECK(r.status == 0 && strstr(r.out, "4 file(s): 1 new, 0 changed, 3 unchanged") && lib_files(db) == 4,
            "rescan with a new photo behind a symlink: exit %d: %s%s", r.status, r.out, r.err);
    t_run_free(&r);
    /* an unchanged file's record says how many faces it has (it said 0) */
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' --json '%s/1.jpg'", db, models, sub);
    T_CHECK(r.status == 0 && strstr(r.out, "\"action\":\"unchanged\",\"faces\":") &&
                !strstr(r.out, "\"action\":\"unchanged\",\"faces\":0"),
            "scan --json of an unchanged photo: %s", r.out);
    t_run_free(&r);
    char fifo[1400];
    snprintf(fifo, sizeof fifo, "%s/fifo.jpg", tmp);
    T_CHECK(mkfifo(fifo, 0666) == 0, "mkfifo: %s", strerror(errno));
    double t0 = fn_now();
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, fifo);
    T_CHECK(r.status == 0 && strstr(r.err, "not a regular file") && fn_now() - t0 < 60,
            "scan of a FIFO: exit %d after %.0f s: %s", r.status, fn_now() - t0, r.err);
    t_run_free(&r);
    /* the folder empties (the drive is unmounted): nothing is removed, and the warning says why */
    char rsub[1300];
    T_CHECK(realpath(sub, rsub) != NULL, "realpath %s", sub);
    on_other_drive(db, rsub);
    char away[1300];
    snprintf(away, sizeof away, "%s/away", tmp);
    T_CHECK(rename(sub, away) == 0, "move %s away: %s", sub, strerror(errno));
    snprintf(link, sizeof link, "%s/b", root);
    unlink(link);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    T_CHECK(r.status == 0 && strstr(r.err, "--prune") && lib_files(db) == 4,
            "scan of an emptied folder: exit %d, %lld of 4 files kept: %s", r.status, (long long)lib_files(db), r.err);
    t_run_free(&r);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' --prune '%s'", db, models, root);
    T_CHECK(r.status == 0 && strstr(r.out, "4 removed") && lib_files(db) == 0,
            "scan --prune of an emptied folder: exit %d, %lld files left: %s%s", r.status, (long long)lib_files(db),
            r.out, r.err);
    t_run_free(&r);
    /* the same below the PATH: root/y empties (a drive mounted there) while root/x keeps its photo */
    char dx[1300], dy[1300], py[1400], ry[1400];
    snprintf(dx, sizeof dx, "%s/x", root);
    snprintf(dy, sizeof dy, "%s/y", root);
    mkdir(dx, 0777);
    mkdir(dy, 0777);
    snprintf(p, sizeof p, "%s/1.jpg", dx);
    put_photo(1, 1, p);
    snprintf(py, sizeof py, "%s/1.jpg", dy);
    put_photo(2, 1, py);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    t_run_free(&r);
    T_CHECK(realpath(dy, ry) != NULL, "realpath %s", dy);
    on_other_drive(db, ry);
    unlink(py);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    T_CHECK(r.status == 0 && strstr(r.err, "--prune") && lib_files(db) == 2,
            "scan with a subfolder emptied: exit %d, %lld of 2 files kept: %s", r.status, (long long)lib_files(db), r.err);
    t_run_free(&r);
    rmdir(dy);   /* a removable drive's folder goes with it (/media/USER/NAME): still away, not deleted */
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    T_CHECK(r.status == 0 && strstr(r.err, "--prune") && lib_files(db) == 2,
            "scan with a drive's folder gone: exit %d, %lld of 2 files kept: %s", r.status, (long long)lib_files(db),
            r.err);
    t_run_free(&r);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' --prune '%s'", db, models, root);
    T_CHECK(r.status == 0 && strstr(r.out, "1 removed") && lib_files(db) == 1,
            "scan --prune with a drive away: exit %d, %lld file(s) left: %s%s", r.status, (long long)lib_files(db), r.out,
            r.err);
    t_run_free(&r);
    /* a library from before file systems were recorded: a scan records them for the photos still there */
    lib_sql(db, "UPDATE lib_files SET dev = NULL");
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    T_CHECK(r.status == 0 && lib_sql(db, "SELECT count(*) FROM lib_files WHERE dev IS NULL") == 0 &&
                lib_sql(db, "SELECT count(*) FROM lib_files") == 1,
            "rescan of a library without file systems recorded: exit %d, %lld without: %s", r.status,
            (long long)lib_sql(db, "SELECT count(*) FROM lib_files WHERE dev IS NULL"), r.err);
    t_run_free(&r);
    /* ... and until it does, a photo gone without a record is kept when the folder left holds no photo now
     * (the rule before the records), removed when it does */
    char dw[1300], pw[1400], px2[1400], sql[1600];
    snprintf(dw, sizeof dw, "%s/w", root);
    mkdir(dw, 0777);
    snprintf(pw, sizeof pw, "%s/1.jpg", dw);
    put_photo(0, 1, pw);
    snprintf(px2, sizeof px2, "%s/2.jpg", dx);
    put_photo(0, 2, px2);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    t_run_free(&r);
    lib_sql(db, "UPDATE lib_files SET dev = NULL");
    unlink(pw);
    unlink(px2);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM lib_files WHERE path LIKE '%%/w/1.jpg'");
    T_CHECK(r.status == 0 && strstr(r.out, "1 removed") && strstr(r.err, "--prune") && lib_sql(db, sql) == 1 &&
                lib_files(db) == 2,
            "legacy rows: an emptied folder's photo kept, one beside others removed: exit %d, %lld files: %s%s",
            r.status, (long long)lib_files(db), r.out, r.err);
    t_run_free(&r);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' --prune '%s'", db, models, root);
    T_CHECK(r.status == 0 && lib_files(db) == 1, "legacy rows, --prune: exit %d, %lld files: %s", r.status,
            (long long)lib_files(db), r.err);
    t_run_free(&r);
    rmdir(dw);
    /* photos the user deleted, on the disk they were on: gone, whether their folder stays empty (they were
     * kept, as if a drive were away) or goes with them */
    char dz[1300], pz[1400];
    snprintf(dz, sizeof dz, "%s/z", root);
    mkdir(dz, 0777);
    snprintf(pz, sizeof pz, "%s/1.jpg", dz);
    put_photo(2, 2, pz);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    t_run_free(&r);
    unlink(pz);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    T_CHECK(r.status == 0 && strstr(r.out, "1 removed") && !strstr(r.err, "kept") && lib_files(db) == 1,
            "scan with a subfolder emptied by the user: exit %d, %lld file(s) left: %s%s", r.status,
            (long long)lib_files(db), r.out, r.err);
    t_run_free(&r);
    put_photo(2, 2, pz);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    t_run_free(&r);
    unlink(pz);
    rmdir(dz);   /* the folder itself gone: its photos are gone too */
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, root);
    T_CHECK(r.status == 0 && strstr(r.out, "1 removed") && lib_files(db) == 1,
            "scan with a subfolder deleted: exit %d, %lld file(s) left: %s%s", r.status, (long long)lib_files(db), r.out,
            r.err);
    t_run_free(&r);
}

static void test_scan_forgets(fn_engine *e)
{
    if (!t_facenet_bin() || access(t_facenet_bin(), X_OK) != 0) {
        t_not_checked("scan forgets a deleted photo (no facenet binary: FACENET_BIN)");
        return;
    }
    const char *models = getenv("MODELS") ? getenv("MODELS") : "models";
    char photos[1200], p[1300], db[1300];
    film_folder("forget", 4, photos, sizeof photos);
    snprintf(db, sizeof db, "%s/forget.db", tmp);
    snprintf(p, sizeof p, "%s/notes.txt", photos);
    FILE *nf = fopen(p, "w");
    if (nf) fputs("not a photo\n", nf), fclose(nf);
    t_run r;
    /* the library's commands on a PostgreSQL URL: a usage error saying what to do, before anything is written */
    static const char *const verbs[] = {"scan", "cluster", "people"}, *const tails[] = {"'%s'", "", "list"};
    for (int i = 0; i < 3; i++) {
        char line[1600], tail[1400];
        snprintf(tail, sizeof tail, tails[i], photos);
        snprintf(line, sizeof line, "%s --gallery 'postgresql:///faces?host=/nonexistent' %s", verbs[i], tail);
        t_facenet(&r, "%s", line);
        T_CHECK(r.status == 2 && strstr(r.err, "gallery file") && strstr(r.err, "gallery copy"),
                "facenet %s: exit %d, said: %s", line, r.status, r.err);
        t_run_free(&r);
    }
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' --json '%s'", db, models, photos);
    /* a file that is no photo: a record of scan's own shape {file (absolute, as the others), action, faces, error} */
    char want[1500];
    snprintf(want, sizeof want, "{\"file\":\"%s\",\"action\":\"skipped\",\"faces\":0,\"error\":", p);
    T_CHECK(r.status == 0 && strstr(r.out, want), "scan --json: exit %d; no record starting %s in: %s", r.status, want,
            r.out);
    t_run_free(&r);
    /* --dry-run: the faces and counts a run would give, nothing written; oracle: the real run that follows */
    t_run dry;
    t_facenet(&dry, "cluster --gallery '%s' --models-dir '%s' --dry-run --json", db, models);
    T_CHECK(dry.status == 0, "cluster --dry-run: exit %d: %s", dry.status, dry.err);
    {
        fn_library *l0 = NULL;
        int64_t grouped0 = -1;
        if (fn_library_open(db, NULL, &l0) == FN_OK) {
            grouped0 = 0;
            for (int64_t id = 1; id < 1000; id++) {
                fn_library_face ff;
                if (fn_library_face_get(l0, id, &ff) == FN_OK && ff.group) grouped0++;
            }
            fn_library_close(l0);
        }
        T_CHECK(grouped0 == 0, "cluster --dry-run put %lld faces in groups", (long long)grouped0);
    }
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --json", db, models);
    T_CHECK(r.status == 0, "cluster: exit %d: %s", r.status, r.err);
    {
        int nd = t_count_lines(dry.out), nr = t_count_lines(r.out);
        const char *ds = strstr(dry.out, "{\"summary\""), *rs = strstr(r.out, "{\"summary\"");
        /* the face records (all lines before the summary) are the same, byte for byte */
        T_CHECK(nd == nr && nd > 2 && ds && rs && ds - dry.out == rs - r.out &&
                    !strncmp(dry.out, r.out, (size_t)(ds - dry.out)),
                "cluster --dry-run's faces differ from the run's (%d and %d lines):\n%s\n--- run:\n%s", nd, nr, dry.out,
                r.out);
        cJSON *a = t_json_line(dry.out, nd - 1), *b = t_json_line(r.out, nr - 1);
        static const char *const keys[] = {"faces", "joined", "grouped", "new_groups", "noise", "kept", "groups"};
        for (int k = 0; a && b && k < 7; k++) {
            cJSON *x = cJSON_GetObjectItem(a, keys[k]), *y = cJSON_GetObjectItem(b, keys[k]);
            T_CHECK(x && y && x->valuedouble == y->valuedouble, "cluster --dry-run's %s %g, the run's %g", keys[k],
                    x ? x->valuedouble : -1, y ? y->valuedouble : -1);
        }
        T_CHECK(a && b && cJSON_IsTrue(cJSON_GetObjectItem(a, "dry_run")) && cJSON_IsFalse(cJSON_GetObjectItem(b, "dry_run")),
                "dry_run true, then false: %s / %s", dry.out, r.out);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    t_run_free(&dry);
    t_run_free(&r);
    /* cluster's options: no threshold of 0, not both --threshold and --calibrate-on, no tuning on loose photos
     * (each file was taken for a person of one face, and the tuned 0.60 stored) */
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --threshold 0", db, models);
    T_CHECK(r.status == 2 && strstr(r.err, "above 0"), "cluster --threshold 0: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --threshold 0.8 --calibrate-on '%s'", db, models, film);
    T_CHECK(r.status == 2, "cluster --threshold with --calibrate-on: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --calibrate-on '%s'", db, models, photos);
    T_CHECK(r.status == 1 && strstr(r.err, "no images in person folders") && strstr(r.err, "directly in") &&
                strstr(r.err, "are not read"),
            "cluster --calibrate-on loose photos: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    fn_gallery_model m = fn_gallery_model_of_engine(e);
    fn_library *l = NULL;
    fn_gallery *g = NULL;
    if (fn_library_open(db, &m, &l) != FN_OK || fn_gallery_open(db, &m, 0, &g) != FN_OK) {
        T_CHECK(0, "open %s: %s", db, fn_last_error());
        fn_library_close(l);
        return;
    }
    first f1 = face_in(l, "/0_1.jpg");
    fn_library_face ff;
    char hash[65] = "";
    if (f1.face && fn_library_face_get(l, f1.face, &ff) == FN_OK) snprintf(hash, sizeof hash, "%s", ff.hash_hex);
    T_CHECK(f1.group > 0 && fn_library_name_group(l, f1.group, "Deepika", g) == FN_OK, "name group %lld: %s",
            (long long)f1.group, fn_last_error());
    int64_t before = person_images(g, "Deepika");
    int had = 0;
    char line[1600];   /* a group merged with itself, by number and name: a usage error */
    snprintf(line, sizeof line, "people --gallery '%s' merge %lld Deepika", db, (long long)f1.group);
    t_facenet(&r, "%s", line);
    T_CHECK(r.status == 2 && strstr(r.err, "same group"), "%s: exit %d: %s", line, r.status, r.err);
    t_run_free(&r);
    fn_gallery_has_image(g, "Deepika", hash, &had);
    fn_library_close(l);
    fn_gallery_close(g);
    snprintf(p, sizeof p, "%s/0_1.jpg", photos);
    unlink(p);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", db, models, photos);
    T_CHECK(r.status == 0, "scan after a deletion: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    g = NULL;
    int has = 1;
    if (fn_gallery_open(db, &m, FN_GALLERY_READONLY, &g) == FN_OK) fn_gallery_has_image(g, "Deepika", hash, &has);
    T_CHECK(had && before > 1 && !has && person_images(g, "Deepika") == before - 1,
            "a deleted photo after `facenet scan`: enrolled before %d (of %lld images), after %d (%lld images)", had,
            (long long)before, has, (long long)(g ? person_images(g, "Deepika") : -9));
    fn_gallery_close(g);
}

static int first_image_path(void *ctx, const fn_gallery_image *im)
{
    snprintf(ctx, 4096, "%s", im->path ? im->path : "");
    return 1;
}

/* `facenet enroll` given a relative folder stores each photo's absolute
 * path: a relative one means nothing to a command run elsewhere, or to the
 * other machines of a shared PostgreSQL gallery. */
static void test_enroll_abs_paths(void)
{
    const char *models = getenv("MODELS") ? getenv("MODELS") : "models";
    char dir[1300], p[1400], rel[4096] = "", cwd[4096], db[1300];
    snprintf(dir, sizeof dir, "%s/enr/Deepika", tmp);
    snprintf(p, sizeof p, "%s/enr", tmp);
    mkdir(p, 0777);
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/1.jpg", dir);
    put_photo(0, 1, p);
    if (!getcwd(cwd, sizeof cwd)) return;
    for (const char *c = cwd; *c; c++)   /* up to / from here, then down to tmp/enr */
        if (*c == '/' && c[1]) strcat(rel, "../");
    snprintf(rel + strlen(rel), sizeof rel - strlen(rel), "%s/enr", tmp + 1);
    snprintf(db, sizeof db, "%s/abs.db", tmp);
    t_run r;
    t_facenet(&r, "enroll --gallery '%s' --models-dir '%s' '%s'", db, models, rel);
    T_CHECK(r.status == 0, "enroll %s: exit %d: %s", rel, r.status, r.err);
    t_run_free(&r);
    fn_gallery *g = NULL;
    char stored[4096] = "";
    if (fn_gallery_open(db, NULL, FN_GALLERY_READONLY, &g) == FN_OK) fn_gallery_list_images(g, "Deepika", first_image_path, stored);
    fn_gallery_close(g);
    T_CHECK(!strcmp(stored, p), "enrolled from %s: the gallery holds '%s', want '%s'", rel, stored, p);
    /* a read-only people action on a gallery without a library: says so, writes nothing (it created the tables) */
    char before[65] = "", after[65] = "";
    fn_hash_file(db, before);
    t_facenet(&r, "people --gallery '%s' list", db);
    fn_hash_file(db, after);
    T_CHECK(r.status == 1 && strstr(r.err, "no photo library") && before[0] && !strcmp(before, after),
            "people list on a plain gallery: exit %d, the file %s: %s", r.status,
            before[0] && !strcmp(before, after) ? "unchanged" : "changed", r.err);
    t_run_free(&r);
}

/* Files under dir, and how many of them end in suffix ("" counts all). */
static int count_files(const char *dir, const char *suffix)
{
    char cmd[1400], line[4200];
    snprintf(cmd, sizeof cmd, "find '%s' -type f", dir);
    FILE *f = popen(cmd, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        size_t a = strlen(line), b = strlen(suffix);
        n += a >= b && !strcmp(line + a - b, suffix);
    }
    if (f) pclose(f);
    return n;
}

/* people export through the atomic writer: a thumbnail per face and a
 * sheet per group, counted against the library; a second export into the
 * same folder is refused as a whole (no file replaced, none added, no
 * temporary left); --overwrite replaces them. */
static void test_export(void)
{
    char ref[1300], out[1300];
    snprintf(ref, sizeof ref, "%s/ref.db", tmp);
    snprintf(out, sizeof out, "%s/export", tmp);
    if (access(ref, R_OK) != 0 || !t_facenet_bin()) {
        t_not_checked("people export (no library from the kill test)");
        return;
    }
    const char *models = getenv("MODELS") ? getenv("MODELS") : "models";
    t_run r;
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s'", ref, models);
    T_CHECK(r.status == 0, "cluster: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    fn_library *l = NULL;
    int64_t groups = 0, grouped = 0;
    if (fn_library_open(ref, NULL, &l) == FN_OK) {
        fn_library_count(l, NULL, NULL, &groups);
        for (int64_t id = 1; id < 1000; id++) {
            fn_library_face ff;
            if (fn_library_face_get(l, id, &ff) == FN_OK && ff.group && !ff.not_face) grouped++;
        }
        fn_library_close(l);
    }
    /* --calibrate-on: tuned on three Film people, stored, then used by a plain cluster */
    char lab[1300], cmd0[8400];
    snprintf(lab, sizeof lab, "%s/labelled", tmp);
    mkdir(lab, 0777);
    snprintf(cmd0, sizeof cmd0, "cp -r '%s/%s' '%s/%s' '%s/%s' '%s'/", film, people[0], film, people[1], film,
             people[2], lab);
    if (system(cmd0) != 0) T_SKIP("cannot copy the Film photos");
    /* with --dry-run nothing is stored */
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --calibrate-on '%s' --dry-run", ref, models, lab);
    T_CHECK(r.status == 0 && strstr(r.out, "not stored (--dry-run)") && strstr(r.out, "dry run, nothing changed"),
            "calibrate-on --dry-run: exit %d, %s %s", r.status, r.out, r.err);
    t_run_free(&r);
    if (fn_library_open(ref, NULL, &l) == FN_OK) {
        float none = 0;
        fn_cluster_method nm;
        T_CHECK(fn_library_get_cluster_threshold(l, &none, &nm) == FN_ERR_NOT_FOUND,
                "calibrate-on --dry-run stored a threshold (%.3f)", none);
        fn_library_close(l);
    }
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --calibrate-on '%s' --json", ref, models, lab);
    cJSON *cal = t_json_line(r.out, 0);
    cJSON *thr = cal ? cJSON_GetObjectItem(cal, "threshold") : NULL, *np = cal ? cJSON_GetObjectItem(cal, "people") : NULL;
    double tuned = thr ? thr->valuedouble : -1;
    T_CHECK(r.status == 0 && np && np->valueint == 3 && tuned >= 0.599 && tuned <= 1.101,
            "calibrate-on: exit %d, %s %s", r.status, r.out, r.err);
    cJSON_Delete(cal);
    t_run_free(&r);
    float stored = 0;
    fn_cluster_method sm;
    if (fn_library_open(ref, NULL, &l) == FN_OK) {
        T_CHECK(fn_library_get_cluster_threshold(l, &stored, &sm) == FN_OK && fabs(stored - tuned) < 1e-6,
                "calibrate-on: stored %.4f, printed %.4f", stored, tuned);
        fn_library_close(l);
    }
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --json", ref, models);
    T_CHECK(r.status == 0 && strstr(r.out, "\"threshold_source\":\"the library's tuned one\""),
            "cluster after calibrate-on does not use the stored threshold: %s", r.out);
    t_run_free(&r);
    /* --forget-threshold: not with --calibrate-on; drops the stored one, for this run and the next */
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --forget-threshold --calibrate-on '%s'", ref, models, lab);
    T_CHECK(r.status == 2 && strstr(r.err, "give one"), "--forget-threshold with --calibrate-on: exit %d: %s",
            r.status, r.err);
    t_run_free(&r);
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --forget-threshold --json", ref, models);
    T_CHECK(r.status == 0 && strstr(r.out, "\"threshold_source\":\"the model's default; the stored one forgotten\""),
            "cluster --forget-threshold: exit %d: %s %s", r.status, r.out, r.err);
    t_run_free(&r);
    if (fn_library_open(ref, NULL, &l) == FN_OK) {
        T_CHECK(fn_library_get_cluster_threshold(l, &stored, &sm) == FN_ERR_NOT_FOUND,
                "--forget-threshold left a stored threshold %.4f", stored);
        fn_library_close(l);
    }
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --json", ref, models);
    T_CHECK(r.status == 0 && strstr(r.out, "\"threshold_source\":\"the model's default\""),
            "cluster after --forget-threshold: %s", r.out);
    t_run_free(&r);
    t_facenet(&r, "cluster --gallery '%s' --models-dir '%s' --calibrate-on '%s/nonexistent'", ref, models, tmp);
    T_CHECK(r.status == 1 && strstr(r.err, "nonexistent: cannot read the folder"), "calibrate-on a missing folder: %s",
            r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' export '%s'", ref, out);
    T_CHECK(r.status == 0, "export: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    int thumbs = count_files(out, ".jpg") - (int)groups, all = count_files(out, "");
    T_CHECK(groups > 0 && thumbs == grouped, "export: %d thumbnails for %lld grouped faces, %lld groups", thumbs,
            (long long)grouped, (long long)groups);
    char sheet[1400] = "", cmd[1400];
    snprintf(cmd, sizeof cmd, "find '%s' -maxdepth 1 -name '*.jpg' | head -1", out);
    FILE *f = popen(cmd, "r");
    if (f && fgets(sheet, sizeof sheet, f)) sheet[strcspn(sheet, "\n")] = '\0';
    if (f) pclose(f);
    struct stat before, after;
    int had = stat(sheet, &before) == 0;
    T_CHECK(had, "export: no contact sheet in %s", out);
    /* an export inside the scanned folders is not scanned: its thumbnails and sheets were taken for photos,
     * each face came in twice, and the next export refused its own files as inputs */
    int64_t files_before = lib_files(ref);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", ref, models, out);
    T_CHECK(r.status == 0 && strstr(r.err, "not scanned") && lib_files(ref) == files_before,
            "scan of an export: exit %d, %lld files (were %lld): %s", r.status, (long long)lib_files(ref),
            (long long)files_before, r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' export '%s'", ref, out);
    T_CHECK(r.status == 1 && strstr(r.err, "nothing was written") && strstr(r.err, "already exists"),
            "export again: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    T_CHECK(count_files(out, "") == all, "export again: %d files, was %d (a temporary or a new file left)",
            count_files(out, ""), all);
    T_CHECK(!had || (stat(sheet, &after) == 0 && after.st_ino == before.st_ino && after.st_mtime == before.st_mtime),
            "export again: %s was replaced", sheet);
    t_facenet(&r, "people --gallery '%s' export --overwrite '%s/'", ref, out);   /* a trailing slash: no "//" */
    T_CHECK(r.status == 0 && count_files(out, "") == all && !strstr(r.out, "//") && !strstr(r.err, "//"),
            "export --overwrite DIR/: exit %d, %d files (want %d): %s%s", r.status, count_files(out, ""), all, r.out,
            r.err);
    t_run_free(&r);
    /* a group named since: --overwrite removes its old folder and sheet (the manifest names them) and no
     * file of the user's: one beside the sheets, one inside the old folder (which then stays) */
    const char *base = strrchr(sheet, '/');
    long long gid = base && !strncmp(base + 1, "group-", 6) ? atoll(base + 7) : 0;
    if (!gid) {
        t_not_checked("export --overwrite after a rename (the first sheet is not an unnamed group's)");
        return;
    }
    char mine[1500], mine2[1500], oldfolder[1400], newsheet[1400];
    snprintf(mine, sizeof mine, "%s/notes.txt", out);
    snprintf(oldfolder, sizeof oldfolder, "%s/group-%lld", out, gid);
    snprintf(mine2, sizeof mine2, "%s/mine.jpg", oldfolder);
    snprintf(newsheet, sizeof newsheet, "%s/Stale Test.jpg", out);
    FILE *w = fopen(mine, "w"), *w2 = fopen(mine2, "w");
    if (w) fputs("mine\n", w), fclose(w);
    if (w2) fputs("mine\n", w2), fclose(w2);
    t_facenet(&r, "people --gallery '%s' name %lld 'Stale Test'", ref, gid);
    T_CHECK(r.status == 0, "name %lld: exit %d: %s", gid, r.status, r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' export --overwrite '%s'", ref, out);
    T_CHECK(r.status == 0 && strstr(r.out, "of an earlier export"), "export --overwrite after a rename: exit %d: %s%s",
            r.status, r.out, r.err);
    t_run_free(&r);
    T_CHECK(access(sheet, F_OK) != 0 && access(newsheet, F_OK) == 0, "export --overwrite after a rename: %s %s, %s %s",
            sheet, access(sheet, F_OK) == 0 ? "stayed" : "gone", newsheet, access(newsheet, F_OK) == 0 ? "made" : "missing");
    T_CHECK(access(mine, F_OK) == 0 && access(mine2, F_OK) == 0 && count_files(oldfolder, "") == 1,
            "export --overwrite removed a file it did not write (or left the old thumbnails): %d file(s) in %s",
            count_files(oldfolder, ""), oldfolder);
    T_CHECK(count_files(out, "") == all + 2, "export --overwrite after a rename: %d files, want %d",
            count_files(out, ""), all + 2);
    /* a person named "..": the export's folder is "__" inside DIR (it was DIR/.., DIR's parent; a trailing dot
     * becomes '_' too: FAT and NTFS drop it) */
    t_facenet(&r, "people --gallery '%s' name 'Stale Test' '..'", ref);
    T_CHECK(r.status == 0, "name '..': exit %d: %s", r.status, r.err);
    t_run_free(&r);
    char dotdot[1400], cmd2[1500], line2[64] = "";
    snprintf(dotdot, sizeof dotdot, "%s/__", out);
    t_facenet(&r, "people --gallery '%s' export --overwrite '%s'", ref, out);
    snprintf(cmd2, sizeof cmd2, "find '%s' -maxdepth 1 -name 'face-*' | wc -l", tmp);
    FILE *c2 = popen(cmd2, "r");
    if (c2 && fgets(line2, sizeof line2, c2)) line2[strcspn(line2, "\n")] = '\0';
    if (c2) pclose(c2);
    T_CHECK(r.status == 0 && atoi(line2) == 0 && count_files(dotdot, "") > 0 && access(newsheet, F_OK) != 0,
            "export of a person named '..': exit %d, %s face file(s) in %s, %d in %s: %s", r.status, line2, tmp,
            count_files(dotdot, ""), dotdot, r.err);
    t_run_free(&r);
    /* a thumbnail the user changed since (another size) is theirs: a later --overwrite keeps it */
    char mine3[1800];
    snprintf(mine3, sizeof mine3, "%s/face-%s", dotdot, "");
    snprintf(cmd2, sizeof cmd2, "ls '%s' | head -1", dotdot);
    c2 = popen(cmd2, "r");
    char first[256] = "";
    if (c2 && fgets(first, sizeof first, c2)) first[strcspn(first, "\n")] = '\0';
    if (c2) pclose(c2);
    snprintf(mine3, sizeof mine3, "%s/%s", dotdot, first);
    FILE *w3 = first[0] ? fopen(mine3, "w") : NULL;
    if (w3) fputs("my own picture now\n", w3), fclose(w3);
    t_facenet(&r, "people --gallery '%s' name '..' 'Stale Again'", ref);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' export --overwrite '%s'", ref, out);
    T_CHECK(r.status == 0 && w3 && access(mine3, F_OK) == 0 && count_files(dotdot, "") == 1,
            "export --overwrite after the user changed %s: exit %d, it %s, %d file(s) left in %s: %s", mine3, r.status,
            access(mine3, F_OK) == 0 ? "stayed" : "was removed", count_files(dotdot, ""), dotdot, r.err);
    t_run_free(&r);
    /* an export without --overwrite keeps the earlier export's stale files in the manifest: a later
     * --overwrite still removes them (they were forgotten, and stayed for good) */
    char out4[1400], old4[1500], cmd4[1700];
    snprintf(out4, sizeof out4, "%s/export4", tmp);
    snprintf(old4, sizeof old4, "%s/Stale Again.jpg", out4);
    t_facenet(&r, "people --gallery '%s' export '%s'", ref, out4);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' name 'Stale Again' 'Stale Four'", ref);
    t_run_free(&r);
    /* the user clears all but the renamed group's files, so that a plain export can write again */
    snprintf(cmd4, sizeof cmd4, "cd '%s' && find . -mindepth 1 -maxdepth 1 ! -name 'Stale Again*' ! -name '.facenet-export'"
             " -exec rm -r {} +", out4);
    T_CHECK(system(cmd4) == 0 && access(old4, F_OK) == 0, "set up %s", out4);
    t_facenet(&r, "people --gallery '%s' export '%s'", ref, out4);
    T_CHECK(r.status == 0 && strstr(r.out, "stay: `export --overwrite` removes them") && access(old4, F_OK) == 0,
            "export beside an earlier export's stale files: exit %d: %s%s", r.status, r.out, r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' export --overwrite '%s'", ref, out4);
    T_CHECK(r.status == 0 && access(old4, F_OK) != 0, "export --overwrite after a plain export: exit %d, %s %s: %s%s",
            r.status, old4, access(old4, F_OK) == 0 ? "stayed" : "gone", r.out, r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' name 'Stale Four' 'Stale Again'", ref);
    t_run_free(&r);
    /* another library's export in the folder: refused (its --overwrite removed all of the first one's) */
    char lib2[1400], empty2[1400];
    snprintf(lib2, sizeof lib2, "%s/other.db", tmp);
    snprintf(empty2, sizeof empty2, "%s/empty2", tmp);
    mkdir(empty2, 0777);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", lib2, getenv("MODELS") ? getenv("MODELS") : "models",
              empty2);
    t_run_free(&r);
    int before4 = count_files(out4, "");
    t_facenet(&r, "people --gallery '%s' export --overwrite '%s'", lib2, out4);
    T_CHECK(r.status == 1 && strstr(r.err, "another photo library") && count_files(out4, "") == before4,
            "export --overwrite of another library into %s: exit %d, %d file(s), were %d: %s", out4, r.status,
            count_files(out4, ""), before4, r.err);
    t_run_free(&r);
    /* a file where a group's folder goes: refused before anything is written (it stopped halfway) */
    char blocker[1500], out2[1400];
    snprintf(out2, sizeof out2, "%s/export2", tmp);
    mkdir(out2, 0777);
    snprintf(blocker, sizeof blocker, "%s/Stale Again", out2);
    FILE *w4 = fopen(blocker, "w");
    if (w4) fputs("mine\n", w4), fclose(w4);
    t_facenet(&r, "people --gallery '%s' export '%s'", ref, out2);
    T_CHECK(r.status == 1 && strstr(r.err, "in the way of a group's folder") && count_files(out2, "") == 1,
            "export with a file in a group folder's place: exit %d, %d file(s) in %s: %s", r.status,
            count_files(out2, ""), out2, r.err);
    t_run_free(&r);
    /* a photo of the library without a grouped face (here: no face at all) is never an output, even with
     * --overwrite (only photos with a grouped face were protected) */
    char blank[1400];
    snprintf(blank, sizeof blank, "%s/blank.jpg", tmp);
    uint8_t px[64 * 64 * 3];
    memset(px, 128, sizeof px);
    uint8_t *jpg = NULL;
    size_t njpg = 0;
    t_jpeg_opts jo = {.comps = 3};
    if (t_jpeg_encode(px, 64, 64, 64 * 3, &jo, &jpg, &njpg) == 0) t_write_file(blank, jpg, njpg);
    free(jpg);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", ref, getenv("MODELS") ? getenv("MODELS") : "models",
              blank);
    t_run_free(&r);
    struct stat b0, b1;
    int hb = stat(blank, &b0) == 0;
    t_facenet(&r, "people --gallery '%s' sheet --overwrite 'Stale Again' '%s'", ref, blank);
    T_CHECK(hb && r.status == 1 && strstr(r.err, "input") && stat(blank, &b1) == 0 && b1.st_size == b0.st_size &&
                b1.st_ino == b0.st_ino,
            "sheet --overwrite onto a library photo without a face: exit %d: %s", r.status, r.err);
    t_run_free(&r);
    /* 'new' is move --to's word for a new group: not a name */
    t_facenet(&r, "people --gallery '%s' name 'Stale Again' new", ref);
    T_CHECK(r.status == 2 && strstr(r.err, "move --to new"), "name a group 'new': exit %d: %s", r.status, r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' name 'Stale Again' ' new '", ref);   /* stored trimmed: 'new' */
    T_CHECK(r.status == 2 && strstr(r.err, "move --to new"), "name a group ' new ': exit %d: %s", r.status, r.err);
    t_run_free(&r);
    /* two names that give one file name: export names both groups (it said only that a file was planned twice) */
    int64_t unnamed = 0;
    fn_library *gl = NULL;
    if (fn_library_open(ref, NULL, &gl) == FN_OK) fn_library_groups(gl, first_unnamed, &unnamed);
    fn_library_close(gl);
    t_facenet(&r, "people --gallery '%s' name 'Stale Again' 'A/B'", ref);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' name %lld 'A_B'", ref, (long long)unnamed);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' export --overwrite '%s'", ref, out);
    T_CHECK(unnamed > 0 && r.status == 1 && strstr(r.err, "('A/B')") && strstr(r.err, "('A_B')") &&
                strstr(r.err, "A_B.jpg"),
            "export of 'A/B' and 'A_B': exit %d: %s", r.status, r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' name 'A/B' 'Stale Again'", ref);
    t_run_free(&r);
    /* a group's sheet that is another's folder ('X' and 'X.jpg'), and two names that differ only in case
     * (one file on many drives), in any script ('Élodie' and 'élodie': ASCII case only was compared):
     * refused with both named, before anything is written (it stopped halfway) */
    static const struct { const char *from, *to, *other, *said; } clashes[] = {
        {"A_B", "Stale Again.jpg", "Stale Again", "written as Stale Again.jpg "},
        {"Stale Again.jpg", "STALE AGAIN", "Stale Again", "differing only in case"},
        {"STALE AGAIN", "\xc3\x89lodie", "Stale Again", NULL},   /* then 'Stale Again' becomes 'élodie' */
    };
    for (int k = 0; k < 3; k++) {
        t_facenet(&r, "people --gallery '%s' name '%s' '%s'", ref, clashes[k].from, clashes[k].to);
        t_run_free(&r);
        const char *other = clashes[k].other;
        if (!clashes[k].said) {
            t_facenet(&r, "people --gallery '%s' name '%s' '\xc3\xa9lodie'", ref, other);
            t_run_free(&r);
            other = "\xc3\xa9lodie";
        }
        char a[300], b[300];
        snprintf(a, sizeof a, "('%s')", clashes[k].to);
        snprintf(b, sizeof b, "('%s')", other);
        const char *said = clashes[k].said ? clashes[k].said : "differing only in case";
        t_facenet(&r, "people --gallery '%s' export --overwrite '%s'", ref, out);
        T_CHECK(r.status == 1 && strstr(r.err, a) && strstr(r.err, b) && strstr(r.err, said),
                "export of '%s' and '%s': exit %d: %s", clashes[k].to, other, r.status, r.err);
        t_run_free(&r);
    }
    t_facenet(&r, "people --gallery '%s' name '\xc3\xa9lodie' 'Stale Again'", ref);
    t_run_free(&r);
    /* what FAT, exFAT and NTFS cannot hold (':' '?' ... and a trailing dot) becomes '_': 'A:B?' is A_B_, which
     * another group's 'A_B_' would also be (it exported as 'A:B?', which a USB stick refused) */
    t_facenet(&r, "people --gallery '%s' name '\xc3\x89lodie' 'A:B?'", ref);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' name 'Stale Again' 'A_B_'", ref);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' export --overwrite '%s'", ref, out);
    T_CHECK(r.status == 1 && strstr(r.err, "('A:B?')") && strstr(r.err, "('A_B_')") && strstr(r.err, "A_B_.jpg"),
            "export of 'A:B?' and 'A_B_': exit %d: %s", r.status, r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' name 'A_B_' 'Stale Again'", ref);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' name 'A:B?' 'A_B'", ref);
    t_run_free(&r);
    /* a face id given twice is one face; the list explains its '*' */
    int64_t fid = 0;
    fn_library *fl = NULL;
    if (fn_library_open(ref, NULL, &fl) == FN_OK) fn_library_faces(fl, -1, first_face_id, &fid);
    fn_library_close(fl);
    t_facenet(&r, "people --gallery '%s' not-a-face %lld %lld", ref, (long long)fid, (long long)fid);
    T_CHECK(fid > 0 && r.status == 0 && strstr(r.out, "1 face(s) marked not a face"), "not-a-face %lld %lld: exit %d: %s%s",
            (long long)fid, (long long)fid, r.status, r.out, r.err);
    t_run_free(&r);
    t_facenet(&r, "people --gallery '%s' list", ref);
    T_CHECK(r.status == 0 && strstr(r.out, " *") && strstr(r.out, "(* named or corrected"), "people list: %s", r.out);
    t_run_free(&r);
    /* the gallery file is never an output: `sheet --overwrite G LIB.db` replaced the library with a JPEG */
    char h0[65] = "", h1[65] = "";
    fn_hash_file(ref, h0);
    t_facenet(&r, "people --gallery '%s' sheet --overwrite 'Stale Again' '%s'", ref, ref);
    fn_hash_file(ref, h1);
    T_CHECK(r.status == 1 && strstr(r.err, "input") && h0[0] && !strcmp(h0, h1),
            "sheet --overwrite onto the gallery itself: exit %d, the file %s: %s", r.status,
            h0[0] && !strcmp(h0, h1) ? "unchanged" : "changed", r.err);
    t_run_free(&r);
    /* a missing input is reported as unreadable and the others are still processed (it stopped the
     * command); a FIFO is refused at once in --json mode too (it waited for a writer forever) */
    char fifo2[1400];
    snprintf(fifo2, sizeof fifo2, "%s/fifo2.jpg", tmp);
    mkfifo(fifo2, 0666);
    double t1 = fn_now();
    t_facenet(&r, "identify --json --gallery '%s' --models-dir '%s' '%s' '%s/missing.jpg' '%s'", ref,
              getenv("MODELS") ? getenv("MODELS") : "models", blank, tmp, fifo2);
    T_CHECK(r.status == 1 && t_count_lines(r.out) == 3 && strstr(r.out, "missing.jpg\",\"status\":\"unreadable\"") &&
                strstr(r.out, "fifo2.jpg\",\"status\":\"unreadable\"") && strstr(r.out, "\"status\":\"no_face\"") &&
                fn_now() - t1 < 60,
            "identify --json of a photo, a missing file and a FIFO: exit %d after %.0f s: %s%s", r.status, fn_now() - t1,
            r.out, r.err);
    t_run_free(&r);
    /* a person's photos away (a drive not mounted): the export writes everything else and says what it could
     * not (it stopped at the first, having written some) */
    char mo[1300], mo_away[1300], out5[1300];
    snprintf(mo, sizeof mo, "%s/many/Mohanlal", tmp);
    snprintf(mo_away, sizeof mo_away, "%s/Mohanlal.away", tmp);
    snprintf(out5, sizeof out5, "%s/export5", tmp);
    T_CHECK(rename(mo, mo_away) == 0, "move %s away: %s", mo, strerror(errno));
    t_facenet(&r, "people --gallery '%s' export '%s'", ref, out5);
    int sheets5 = count_files(out5, ".jpg");
    T_CHECK(r.status == 1 && strstr(r.err, "not written: their photos cannot be read") && strstr(r.out, "exported") &&
                sheets5 > 20,
            "export with a person's photos away: exit %d, %d JPEG(s) written: %s%s", r.status, sheets5, r.out, r.err);
    t_run_free(&r);
    rename(mo_away, mo);
    /* an export written into the photo folder itself: its files are not scanned, the photos beside them
     * and new ones are (every photo there was taken for the export's) */
    char many[1300], newp[1400];
    snprintf(many, sizeof many, "%s/many", tmp);
    t_facenet(&r, "people --gallery '%s' export '%s'", ref, many);
    t_run_free(&r);
    int64_t nfiles = lib_files(ref);
    snprintf(newp, sizeof newp, "%s/new-photo.jpg", many);
    put_photo(2, 9, newp);
    t_facenet(&r, "scan --gallery '%s' --models-dir '%s' '%s'", ref, models, many);
    T_CHECK(r.status == 0 && strstr(r.out, "1 new") && strstr(r.out, "0 removed") && strstr(r.err, "not scanned") &&
                lib_files(ref) == nfiles + 1,
            "scan of a photo folder holding an export: exit %d, %lld files (want %lld): %s%s", r.status,
            (long long)lib_files(ref), (long long)nfiles + 1, r.out, r.err);
    t_run_free(&r);
    /* a photo replaced by another since the scan: its face is not cut from the new picture (another person's
     * face stood in the group's export and on its sheet) */
    char mo1[1400], out6[1300];
    snprintf(mo1, sizeof mo1, "%s/many/Mohanlal/1.jpeg", tmp);
    snprintf(out6, sizeof out6, "%s/export6", tmp);
    T_CHECK(put_photo(2, 8, mo1) == 0, "copy a photo over %s", mo1);
    t_facenet(&r, "people --gallery '%s' export '%s'", ref, out6);
    T_CHECK(r.status == 1 && strstr(r.err, "Mohanlal/1.jpeg: changed since it was scanned") &&
                strstr(r.err, "drawn as a red frame"),
            "export after a photo was replaced: exit %d: %s", r.status, r.err);
    t_run_free(&r);
}

/* Writes a JPEG comment into the file, after its start marker: new bytes
 * (a photo tool writing its tags), the same pixels. */
static int add_jpeg_comment(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    static unsigned char buf[8 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n < 2 || buf[0] != 0xFF || buf[1] != 0xD8) return -1;
    static const unsigned char com[] = {0xFF, 0xFE, 0x00, 0x0C, 't', 'a', 'g', 's', ':', ' ', 'm', 'e', '!', '!'};
    f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(buf, 1, 2, f) == 2 && fwrite(com, 1, sizeof com, f) == sizeof com &&
             fwrite(buf + 2, 1, n - 2, f) == n - 2;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* A photo whose bytes change but not its pixels (tags written into it) is
 * analysed again, and its faces keep the user's word: a face moved to a
 * group stays there, a face marked not-a-face stays so (both were undone). */
static void test_rewritten_tags(fn_engine *e)
{
    char photos[1200], db[1300];
    film_folder("tags", 4, photos, sizeof photos);
    snprintf(db, sizeof db, "%s/tags.db", tmp);
    fn_gallery_model m = fn_gallery_model_of_engine(e);
    fn_gallery *g = NULL;
    fn_library *l = NULL;
    T_CHECK(fn_gallery_open(db, &m, FN_GALLERY_CREATE, &g) == FN_OK && fn_library_open(db, &m, &l) == FN_OK,
            "library: %s", fn_last_error());
    if (!l || !g) return;
    scan(e, l, photos);
    fn_library_cluster_stats cs;
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 1, &cs);
    first a = face_in(l, "/0_1.jpg"), b = face_in(l, "/0_2.jpg");
    int64_t made = 0;
    T_CHECK(a.face && b.face && fn_library_move_faces(l, &a.face, 1, 0, g, &made) == FN_OK && made > 0 &&
                fn_library_not_a_face(l, &b.face, 1, g) == FN_OK,
            "move a face to a new group and mark another not a face: %s", fn_last_error());
    char pa[1300], pb[1300];
    snprintf(pa, sizeof pa, "%s/0_1.jpg", photos);
    snprintf(pb, sizeof pb, "%s/0_2.jpg", photos);
    T_CHECK(add_jpeg_comment(pa) == 0 && add_jpeg_comment(pb) == 0, "write tags into two photos");
    fn_scan_stats st = scan(e, l, photos);
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs);
    first a2 = face_in(l, "/0_1.jpg"), b2 = face_in(l, "/0_2.jpg");
    fn_library_face fa, fb;
    int ok = a2.face && b2.face && fn_library_face_get(l, a2.face, &fa) == FN_OK &&
             fn_library_face_get(l, b2.face, &fb) == FN_OK;
    T_CHECK(st.changed == 2 && ok && fa.group == made && fb.not_face,
            "tags written into two photos: %d changed (want 2); the moved face in group %lld (want %lld), the "
            "not-a-face %s", st.changed, ok ? (long long)fa.group : -1LL, (long long)made,
            ok && fb.not_face ? "still one" : "back as a face");
    /* a named group's only photo away for a while (its folder moved out and back): the photo comes back
     * into the group, named; the group lost its name and the photo formed a new group */
    T_CHECK(fn_library_name_group(l, made, "Tagged", g) == FN_OK && person_images(g, "Tagged") == 1,
            "name the moved face's group: %s", fn_last_error());
    char away[1300];
    snprintf(away, sizeof away, "%s/away-0_1.jpg", tmp);
    T_CHECK(rename(pa, away) == 0, "move %s away", pa);
    st = scan(e, l, photos);
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs);
    fn_library_sync_gallery(l, g);
    T_CHECK(st.removed == 1 && person_images(g, "Tagged") < 0, "its photo away: %d removed, 'Tagged' has %lld images",
            st.removed, (long long)person_images(g, "Tagged"));
    T_CHECK(rename(away, pa) == 0, "move %s back", pa);
    st = scan(e, l, photos);
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs);
    fn_library_sync_gallery(l, g);
    first a3 = face_in(l, "/0_1.jpg");
    int64_t tagged = 0;
    T_CHECK(st.added == 1 && st.faces_restored >= 1 && a3.group == made &&
                fn_library_find_group(l, "Tagged", &tagged) == FN_OK && tagged == made &&
                person_images(g, "Tagged") == 1,
            "its photo back: %d new, %d face(s) restored, in group %lld (want %lld, 'Tagged'), 'Tagged' has %lld "
            "image(s) (want 1)", st.added, st.faces_restored, (long long)a3.group, (long long)made,
            (long long)person_images(g, "Tagged"));
    /* ... and with tags written into it while it was away: by its path, and the same face found again */
    T_CHECK(rename(pa, away) == 0 && add_jpeg_comment(away) == 0, "move %s away and tag it", pa);
    st = scan(e, l, photos);
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs);
    fn_library_sync_gallery(l, g);
    T_CHECK(rename(away, pa) == 0, "move %s back", pa);
    st = scan(e, l, photos);
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs);
    fn_library_sync_gallery(l, g);
    first a4 = face_in(l, "/0_1.jpg");
    T_CHECK(st.added == 1 && st.faces_restored >= 1 && a4.group == made && person_images(g, "Tagged") == 1,
            "its photo back, tagged meanwhile: %d new, %d restored, in group %lld (want %lld), 'Tagged' has %lld "
            "image(s)", st.added, st.faces_restored, (long long)a4.group, (long long)made,
            (long long)person_images(g, "Tagged"));
    /* the person renamed in the gallery while the group's only photo is away (only a photo enrolled by hand
     * left in the person): the group follows the rename when the photo is back (it kept the old name, and
     * the photo came back under it: one human under two names) */
    float temb[192] = {0, 0, 0, 1};
    fn_gallery_face tf = {"Tagged", "/nowhere/t.jpg", "00000000000000000000000000000000000000000000000000000000"
                                                      "00000005", {0, 0, 10, 10}, 1, temb};
    T_CHECK(fn_gallery_add(g, &tf, NULL, NULL) == FN_OK && rename(pa, away) == 0, "a hand photo, the photo away");
    st = scan(e, l, photos);
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs);
    fn_library_sync_gallery(l, g);
    T_CHECK(fn_gallery_rename_person(g, "Tagged", "Tagged Two") == FN_OK, "gallery rename: %s", fn_last_error());
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs);
    fn_library_sync_gallery(l, g);
    T_CHECK(rename(away, pa) == 0, "move %s back", pa);
    st = scan(e, l, photos);
    fn_library_cluster(l, NULL, FN_LIBRARY_SEED_QUALITY, 0, &cs);
    fn_library_sync_gallery(l, g);
    int64_t t2 = 0;
    T_CHECK(fn_library_find_group(l, "Tagged Two", &t2) == FN_OK && t2 == made && person_images(g, "Tagged Two") == 2 &&
                person_images(g, "Tagged") < 0,
            "renamed in the gallery while away: group %lld (want %lld), 'Tagged Two' %lld image(s) (want 2), 'Tagged' "
            "%lld (want none)", (long long)t2, (long long)made, (long long)person_images(g, "Tagged Two"),
            (long long)person_images(g, "Tagged"));
    /* a face of a group that is also enrolled by hand under another person (the same photo, copied): naming
     * the group leaves that face to the user's label (both stood, and `gallery check` failed) */
    first c3 = face_in(l, "/0_3.jpg");
    fn_library_face ff;
    char hash[65] = "", path3[1300] = "";
    float box[4] = {0}, emb3[192];
    int got = c3.face && c3.group && fn_library_face_get(l, c3.face, &ff) == FN_OK && ff.dim == 192;
    if (got) {
        snprintf(hash, sizeof hash, "%s", ff.hash_hex);
        snprintf(path3, sizeof path3, "%s", ff.path);
        memcpy(box, ff.face.box, sizeof box);
        memcpy(emb3, ff.embedding, sizeof emb3);
    }
    fn_gallery_face sf = {"Someone Else", path3, hash, {box[0], box[1], box[2], box[3]}, 1, emb3};
    int in_g3 = 0;
    if (got) fn_library_faces(l, c3.group, count_one, &in_g3);
    T_CHECK(got && fn_gallery_add(g, &sf, NULL, NULL) == FN_OK && fn_library_name_group(l, c3.group, "Deepika D", g) ==
                FN_OK, "a group with a face enrolled by hand elsewhere, named: %s", fn_last_error());
    T_CHECK(person_images(g, "Someone Else") == 1 && person_images(g, "Deepika D") == in_g3 - 1 &&
                fn_gallery_check(g) == FN_OK,
            "'Someone Else' %lld image(s) (want 1), 'Deepika D' %lld (want %d), gallery check: %s",
            (long long)person_images(g, "Someone Else"), (long long)person_images(g, "Deepika D"), in_g3 - 1,
            fn_last_error());
    fn_library_close(l);
    fn_gallery_close(g);
}

int main(void)
{
    snprintf(film, sizeof film, "%s", t_shared("fixtures/film/Predict"));
    snprintf(tmp, sizeof tmp, "%s", t_tmpdir());
    fn_options o;
    fn_options_init(&o);
    o.models_dir = getenv("MODELS") ? getenv("MODELS") : "models";
    fn_engine *e = NULL;
    if (fn_engine_new(&o, &e) != FN_OK) T_SKIP("the default models cannot be loaded: %s", fn_last_error());
    test_incremental(e);
    test_rewritten_tags(e);
    test_kill(e);
    test_scan_forgets(e);
    test_scan_paths();
    test_enroll_abs_paths();
    test_export();
    fn_engine_free(e);
    return T_DONE();
}
