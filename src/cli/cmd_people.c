/* facenet people — look at and correct the photo library's groups: list,
 * name (the group becomes a gallery person), merge, move, not-a-face,
 * export thumbnails and contact sheets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "cli.h"
#include "common.h"
#include "gallery_open.h"
#include "options.h"
#include "outputs.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the library (scanned and clustered)"),
    FN_USE_H(FN_O_TO, "move: the group the faces go to (id or name; \"new\": a new group)"),
    FN_USE_H(FN_O_JSON, "JSON Lines (list: one object per group)"),
    FN_USE_H(FN_O_OVERWRITE, "sheet, export: replace files already there (never one of the library's photos)"),
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "people",
    .usage = (const char *const[]){"--gallery LIB.db list [--json]", "--gallery LIB.db name GROUP NAME",
                                   "--gallery LIB.db merge A B", "--gallery LIB.db move FACE... --to GROUP",
                                   "--gallery LIB.db not-a-face FACE...", "--gallery LIB.db sheet GROUP FILE.jpg",
                                   "--gallery LIB.db export DIR", NULL},
    .description =
        "list: the groups, largest first, with their face count and a representative face\n"
        "(the best quality).  name: the group becomes the person NAME in the gallery, so\n"
        "`facenet identify --gallery LIB.db` and `watch` recognise them.  merge: B's faces go\n"
        "into A (A's name stays; B's goes, from the gallery too: photos you enrolled in B by\n"
        "hand go to A).  move: faces (ids from `cluster --json`) go to another\n"
        "group.  not-a-face: faces the detector was wrong about leave their groups for\n"
        "good.  A named or corrected group is never broken by `facenet cluster`.  sheet: a\n"
        "contact sheet JPEG of one group (a grid of its faces, the name on top).  export:\n"
        "DIR/<group>/ with a thumbnail per face and DIR/<group>.jpg, the contact sheet (what\n"
        "a FAT or NTFS drive cannot hold in a name -- / \\ : * ? \" < > | -- becomes '_').\n"
        "GROUP is an id or a name.\n"
        "Files are written to a temporary name and renamed into place (a crash leaves no\n"
        "half file); one already there is not replaced without --overwrite, and then export\n"
        "writes nothing at all.  Export keeps a list of what it wrote (DIR/.facenet-export):\n"
        "with --overwrite, the files of an earlier export that no group needs any more (a\n"
        "group renamed, merged or emptied since) are removed, and no other file.  A folder\n"
        "holds one library's export.  A face whose photo cannot be read now (moved, on a\n"
        "drive not mounted) is left out with a warning, and export exits 1 after the rest.",
    .opts = uses, .min_args = 1, .max_args = -1, .args_name = "ACTION [ARGS...]",
    .examples = (const char *const[]){"facenet people --gallery photos.db list",
                                      "facenet people --gallery photos.db sheet 3 group3.jpg",
                                      "facenet people --gallery photos.db name 3 \"Alice\"",
                                      "facenet people --gallery photos.db move 17 18 --to Alice", NULL},
    .exits = NULL,
};

#define TILE 112
#define COLS 8

typedef struct list_ctx { fn_library *l; int json; int n, locked; } list_ctx;

static int list_one(void *ctx, const fn_library_group *g)
{
    list_ctx *c = ctx;
    fn_library_face f;
    int has = g->best_face && fn_library_face_get(c->l, g->best_face, &f) == FN_OK;
    c->n++;
    c->locked += g->locked != 0;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "group", (double)g->id);
        if (g->name[0]) cJSON_AddStringToObject(o, "name", g->name);
        else cJSON_AddNullToObject(o, "name");
        cJSON_AddNumberToObject(o, "faces", (double)g->n_faces);
        cJSON_AddBoolToObject(o, "locked", g->locked);
        if (has) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "face", (double)f.id);
            cJSON_AddStringToObject(r, "file", f.path);
            cJSON_AddItemToObject(r, "box", fn_cli_box(f.face.box));
            cJSON_AddItemToObject(o, "representative", r);
        }
        fn_cli_emit(o);
    } else {
        const char *nm = g->name[0] ? g->name : "-";
        int w = fn_cli_columns(nm);
        printf("%6lld  %s%*s %5lld face(s)%s  %s\n", (long long)g->id, nm, w < 24 ? 24 - w : 0, "",
               (long long)g->n_faces, g->locked ? " *" : "  ", has ? f.path : "");
    }
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The face ids of args, sorted, each once ("not-a-face 22 22" counted two
 * faces); *n becomes their count.  0, or 1 + the index of a bad one. */
static int parse_ids(char **args, int *n, int64_t *out)
{
    for (int i = 0; i < *n; i++) {
        char *end;
        long long v = strtoll(args[i], &end, 10);
        if (*end || v <= 0) return i + 1;
        out[i] = v;
    }
    qsort(out, (size_t)*n, sizeof *out, cmp_id);
    int u = 0;
    for (int i = 0; i < *n; i++)
        if (!u || out[i] != out[u - 1]) out[u++] = out[i];
    *n = u;
    return 0;
}

static int count_face(void *ctx, const fn_library_face *f)
{
    *(int *)ctx += !f->not_face;
    return 0;
}

static int save_sheet(const fn_outputs *o, fn_library *l, int64_t group, const char *path)
{
    fn_image img = {0};
    int tiles = 0;
    fn_status s = fn_library_contact_sheet(l, group, TILE, COLS, 0, &img, &tiles);
    int rc = s == FN_OK ? fn_cli_save_image("people", o, path, &img) : fn_cli_fail("people", s);
    fn_image_free(&img);
    int all = 0;   /* every face is drawn (no limit given): the missing ones are frames */
    if (!rc && fn_library_faces(l, group, count_face, &all) == FN_OK && tiles < all)
        fprintf(stderr, "facenet people: warning: %s: %d of the group's %d faces drawn as a red frame: their photos "
                "cannot be read now or changed since the scan (run `facenet scan`)\n", path, all - tiles, all);
    return rc;
}

/* What export writes, planned before anything is: every face's thumbnail
 * and every group's sheet, and the library's photos (never written). */
typedef struct plan {
    fn_pathlist out, photos;
    int64_t *face;     /* per output: the face of a thumbnail, or -group for a sheet */
    int n, cap;
    const char *folder;
    int nomem;         /* a walk's callback ran out of memory: the walk ends, and FN_OK does not mean whole */
} plan;

static int plan_add(plan *p, const char *path, int64_t what)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        int64_t *f = realloc(p->face, (size_t)cap * sizeof *f);
        if (!f) return p->nomem = 1;
        p->face = f;
        p->cap = cap;
    }
    if (fn_pathlist_add(&p->out, path)) return p->nomem = 1;
    p->face[p->n++] = what;
    return 0;
}

static int plan_face(void *ctx, const fn_library_face *f)
{
    plan *p = ctx;
    char path[4200];
    if (f->not_face) return 0;
    snprintf(path, sizeof path, "%s/face-%lld.jpg", p->folder, (long long)f->id);
    return plan_add(p, path, f->id);
}

/* Every photo of the library, faces or none: never an output (a photo
 * whose only face was not-a-face, or with no face, was replaced by
 * --overwrite). */
static int plan_photo(void *ctx, const char *path)
{
    plan *p = ctx;
    return fn_pathlist_add(&p->photos, path) ? (p->nomem = 1) : 0;
}

/* What a sheet or an export never writes over: the library's photos, the
 * gallery file itself and SQLite's files beside it (`sheet --overwrite 1
 * photos.db` replaced the library with a JPEG). */
static fn_status plan_inputs(fn_library *l, const char *gpath, plan *p)
{
    fn_status s = fn_library_files(l, plan_photo, p);
    if (s != FN_OK) return s;
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char path[4200];
    for (int i = 0; !p->nomem && i < 4; i++)
        if ((size_t)snprintf(path, sizeof path, "%s%s", gpath, sfx[i]) < sizeof path && fn_pathlist_add(&p->photos, path))
            p->nomem = 1;
    return p->nomem ? fn_fail(FN_ERR_NOMEM, "out of memory listing the library's files") : FN_OK;
}

typedef struct groups_vec { int64_t *id; char (*name)[FN_GALLERY_NAME_MAX]; int n, cap, nomem; } groups_vec;

static int collect_group(void *ctx, const fn_library_group *g)
{
    groups_vec *v = ctx;
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 32;
        int64_t *a = realloc(v->id, (size_t)cap * sizeof *a);
        if (!a) return v->nomem = 1;
        v->id = a;
        char (*b)[FN_GALLERY_NAME_MAX] = realloc(v->name, (size_t)cap * sizeof *b);
        if (!b) return v->nomem = 1;
        v->name = b;
        v->cap = cap;
    }
    v->id[v->n] = g->id;
    snprintf(v->name[v->n], FN_GALLERY_NAME_MAX, "%s", g->name);
    v->n++;
    return 0;
}

/* Two groups whose names give one file name ("A/B" and "A_B", "X" and
 * "x" on a drive that ignores case) or whose sheet is the other's folder
 * ("X.jpg" and "X": DIR/X.jpg/ and DIR/X.jpg): refused with both named
 * (the export stopped halfway, or said only that a file was planned
 * twice).  key: a group's sheet, or its folder when it has faces; fold:
 * the key case-folded (Unicode's folding, utf8proc: "Élodie" and "élodie"
 * are one name on exFAT, NTFS and APFS as much as "Emma" and "emma"). */
typedef struct out_ref { char key[FN_GALLERY_NAME_MAX + 40], fold[4 * (FN_GALLERY_NAME_MAX + 40)]; int group; } out_ref;

static void set_ref(out_ref *r, int group, const char *base, const char *ext)
{
    r->group = group;
    snprintf(r->key, sizeof r->key, "%s%s", base, ext);
    utf8proc_uint8_t *f = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)r->key, 0, &f,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (n >= 0 && (size_t)n < sizeof r->fold) memcpy(r->fold, f, (size_t)n + 1);
    else snprintf(r->fold, sizeof r->fold, "%s", r->key);   /* not UTF-8: as it is */
    free(f);
}

static int cmp_ref(const void *a, const void *b)
{
    const out_ref *x = a, *y = b;
    int c = strcmp(x->fold, y->fold);
    return c ? c : strcmp(x->key, y->key);
}

static fn_status clash(const groups_vec *v, char (*base)[FN_GALLERY_NAME_MAX + 32], const unsigned char *has_folder)
{
    out_ref *r = malloc((size_t)(2 * v->n + 1) * sizeof *r);
    if (!r) return fn_fail(FN_ERR_NOMEM, "out of memory planning the export");
    fn_status s = FN_OK;
    /* sheets against sheets first, so that "A/B" and "A_B" are named by their sheet */
    for (int pass = 0; s == FN_OK && pass < 2; pass++) {
        int n = 0;
        for (int i = 0; i < v->n; i++) {
            set_ref(&r[n++], i, base[i], ".jpg");
            if (pass && has_folder[i]) set_ref(&r[n++], i, base[i], "");
        }
        qsort(r, (size_t)n, sizeof *r, cmp_ref);
        for (int k = 1; s == FN_OK && k < n; k++) {
            if (strcmp(r[k].fold, r[k - 1].fold) || r[k].group == r[k - 1].group) continue;
            int ga = r[k - 1].group, gb = r[k].group;
            s = fn_fail(FN_ERR_ARG, "export: groups %lld ('%s') and %lld ('%s') would both be written as %s "
                        "(/ \\ : * ? \" < > | and a trailing dot become '_'; a name differing only in case is the "
                        "same file on many drives); rename one (`facenet people name %lld NEW`)", (long long)v->id[ga],
                        v->name[ga], (long long)v->id[gb], v->name[gb], r[k].key, (long long)v->id[gb]);
        }
    }
    free(r);
    return s;
}

static fn_status plan_export(fn_library *l, const char *dir, const groups_vec *v, plan *p)
{
    char (*base)[FN_GALLERY_NAME_MAX + 32] = malloc((size_t)(v->n + 1) * sizeof *base);
    unsigned char *has_folder = calloc((size_t)v->n + 1, 1);
    fn_status s = base && has_folder ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory planning the export");
    for (int i = 0; s == FN_OK && i < v->n; i++) {
        char folder[4400], sheet[4400];
        if (v->name[i][0]) {
            snprintf(base[i], sizeof base[i], "%s", v->name[i]);
            /* a file name on any drive: what FAT, exFAT and NTFS cannot hold becomes '_' (the export is
             * often for a USB stick), and a trailing dot or space, which they drop */
            for (char *c = base[i]; *c; c++)
                if (strchr("/\\:*?\"<>|", *c)) *c = '_';
            size_t n = strlen(base[i]);
            while (n > 0 && (base[i][n - 1] == '.' || base[i][n - 1] == ' ')) base[i][--n] = '_';
            if (base[i][0] == '.') base[i][0] = '_';   /* a person named ".." wrote into DIR's parent */
        } else {
            snprintf(base[i], sizeof base[i], "group-%lld", (long long)v->id[i]);
        }
        snprintf(folder, sizeof folder, "%s/%s", dir, base[i]);
        p->folder = folder;
        int before = p->n;
        s = fn_library_faces(l, v->id[i], plan_face, p);
        has_folder[i] = p->n > before;
        snprintf(sheet, sizeof sheet, "%s/%s.jpg", dir, base[i]);
        if (s == FN_OK && plan_add(p, sheet, -v->id[i])) s = fn_fail(FN_ERR_NOMEM, "out of memory planning the export");
    }
    if (s == FN_OK) s = clash(v, base, has_folder);
    free(base);
    free(has_folder);
    return s;
}

/* The export's manifest, DIR/.facenet-export: the files the last export
 * wrote, a line each: size in bytes, modification time in ns, the path
 * relative to DIR.  `export --overwrite` removes those of groups that no
 * longer exist (renamed, merged, emptied) and nothing else: a file the
 * manifest does not name, or one changed since (another size or time: the
 * user's now), is never removed. */
#define MANIFEST ".facenet-export"

/* A manifest line that can name an export's file: "<name>.jpg" or
 * "<name>/face-<id>.jpg" (export names never start with '.': so no
 * absolute path, no "." or ".." and no hidden file passes). */
static int manifest_line_ok(const char *rel)
{
    size_t n = strlen(rel);
    if (n < 5 || rel[0] == '/' || rel[0] == '.' || strcmp(rel + n - 4, ".jpg")) return 0;
    const char *sl = strchr(rel, '/');
    return !sl || (!strchr(sl + 1, '/') && !strncmp(sl + 1, "face-", 5));
}

/* The library an earlier export in dir was written for ("" when none is named). */
static void manifest_library(const char *dir, char *lib, size_t cap)
{
    char mpath[4200], buf[4500];
    snprintf(mpath, sizeof mpath, "%s/" MANIFEST, dir);
    lib[0] = '\0';
    FILE *f = fopen(mpath, "r");
    while (f && fgets(buf, sizeof buf, f) && buf[0] == '#')
        if (!strncmp(buf, "# library ", 10)) {
            size_t n = strcspn(buf + 10, "\n");
            if (n >= cap) n = cap - 1;
            memcpy(lib, buf + 10, n);
            lib[n] = '\0';
        }
    if (f) fclose(f);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The old manifest's files that this export does not write and that are
 * still as export left them (a regular file of the size and time listed,
 * never an input photo, in a folder of its own): removed with --overwrite
 * (the manifest is this library's: export_all refuses another's), kept in the new manifest otherwise
 * (so a later --overwrite still finds them).  A file changed since is the
 * user's now and leaves the manifest.  Returns how many were removed. */
static int old_exports(const fn_outputs *o, const char *dir, const plan *p, int overwrite, fn_pathlist *kept)
{
    char mpath[4200], buf[4500], path[4400];
    snprintf(mpath, sizeof mpath, "%s/" MANIFEST, dir);
    FILE *f = fopen(mpath, "r");
    if (!f) return 0;
    const char **wanted = malloc(((size_t)p->n + 1) * sizeof *wanted);
    for (int i = 0; wanted && i < p->n; i++) wanted[i] = p->out.items[i];
    if (wanted) qsort(wanted, (size_t)p->n, sizeof *wanted, cmp_str);
    int removed = 0;
    while (wanted && fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = '\0';
        long long size = -1, mtime = -1;
        int used = 0;
        if (buf[0] == '#' || sscanf(buf, "%lld %lld %n", &size, &mtime, &used) != 2 || !used) continue;
        char *line = buf + used;
        if (!manifest_line_ok(line)) continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, line) >= sizeof path) continue;
        const char *key = path;
        struct stat st;
        if (bsearch(&key, wanted, (size_t)p->n, sizeof *wanted, cmp_str) || fn_outputs_is_input(o, path) ||
            lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (long long)st.st_size != size ||
            (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != mtime)
            continue;
        char *sl = strrchr(line, '/'), folder[4400];
        if (sl) {   /* the group's folder must be a folder here, not a link to one elsewhere */
            *sl = '\0';
            if ((size_t)snprintf(folder, sizeof folder, "%s/%s", dir, line) >= sizeof folder ||
                lstat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
        }
        if (!overwrite) {
            fn_pathlist_add(kept, path);
            continue;
        }
        if (unlink(path) == 0) removed++;
        if (sl) (void)rmdir(folder);   /* when this emptied it */
    }
    free(wanted);
    fclose(f);
    return removed;
}

/* Writes the manifest of this export and of the earlier files kept
 * (temporary file, synced, renamed). */
static int write_manifest(const char *dir, const char *lib, const plan *p, const fn_pathlist *kept)
{
    char mpath[4200], tmp[4300];
    snprintf(mpath, sizeof mpath, "%s/" MANIFEST, dir);
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", mpath);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0) close(fd), unlink(tmp);
        return fn_cli_error("people", "export: cannot write %s: %s", mpath, strerror(errno));
    }
    size_t skip = strlen(dir) + 1;
    fprintf(f, "# the files `facenet people export` wrote here (size, time in ns, path); `export --overwrite` "
               "removes those no group needs any more, if unchanged\n# library %s\n", lib);
    for (int i = 0; i < p->n + kept->count; i++) {
        const char *path = i < p->n ? p->out.items[i] : kept->items[i - p->n];
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            fprintf(f, "%lld %lld %s\n", (long long)st.st_size,
                    (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec, path + skip);
    }
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, mpath) != 0) {
        int e = errno;
        unlink(tmp);
        return fn_cli_error("people", "export: cannot write %s: %s", mpath, strerror(e));
    }
    return 0;
}

/* Claim every output (nothing is written if any is refused), then write
 * each through the atomic writer. */
static int export_all(fn_library *l, const char *gpath, const char *dir_in, int overwrite)
{
    char dir[4096];   /* without trailing slashes: "sheets/" gave sheets//group-7/... */
    snprintf(dir, sizeof dir, "%s", dir_in);
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--) dir[n - 1] = '\0';
    groups_vec v = {0};
    plan p = {0};
    fn_outputs o;
    char err[4400];
    int rc = 0, faces = 0, refused = 0, have_o = 0, unread = 0;
    fn_status s = fn_library_groups(l, collect_group, &v);
    if (s == FN_OK) s = plan_export(l, dir, &v, &p);
    if (s == FN_OK && (p.nomem || v.nomem)) s = fn_fail(FN_ERR_NOMEM, "out of memory planning the export");
    if (s == FN_OK) s = plan_inputs(l, gpath, &p);
    if (s != FN_OK) rc = fn_cli_fail("people", s);
    /* the library an export belongs to, by its real path: one folder, one library's export (another's
     * files would be pruned as stale by --overwrite, or taken over by the manifest) */
    char lib[4096], had[4096];
    if (!realpath(gpath, lib)) snprintf(lib, sizeof lib, "%s", gpath);
    manifest_library(dir, had, sizeof had);
    if (!rc && had[0] && strcmp(had, lib))
        rc = fn_cli_error("people", "export: %s holds the export of another photo library (%s); nothing was "
                          "written: export into a folder of its own", dir, had);
    if (!rc && fn_outputs_init(&o, NULL, NULL, 0, p.photos.items, p.photos.count, overwrite, err, sizeof err))
        rc = fn_cli_error("people", "export: %s", err);
    else if (!rc) have_o = 1;
    for (int i = 0; !rc && i < p.n; i++)
        if (fn_outputs_claim(&o, p.out.items[i], err, sizeof err) && refused++ < 5)
            fprintf(stderr, "facenet people: export: %s\n", err);
    /* a group's folder is made, or a folder already: a file of that name stopped the export halfway, and
     * a link to a folder elsewhere was written through */
    for (int i = 0; !rc && i < p.n; i++) {
        /* the plan is each group's thumbnails, then its sheet: a group's first thumbnail names its folder */
        if (p.face[i] < 0 || (i > 0 && p.face[i - 1] >= 0)) continue;
        char folder[4400];
        snprintf(folder, sizeof folder, "%s", p.out.items[i]);
        char *sl = strrchr(folder, '/');
        if (!sl) continue;
        *sl = '\0';
        struct stat st;
        if (lstat(folder, &st) == 0 && !S_ISDIR(st.st_mode) && refused++ < 5)
            fprintf(stderr, "facenet people: export: %s is in the way of a group's folder (%s); export writes only "
                    "into folders of its own\n", folder, S_ISLNK(st.st_mode) ? "a link" : "not a folder");
    }
    if (!rc && refused)
        rc = fn_cli_error("people", "export: %d of %d file(s) refused%s; nothing was written into %s", refused, p.n,
                          refused > 5 ? " (the first 5 named above)" : "", dir);
    for (int i = 0; !rc && i < p.n; i++) {
        if (p.face[i] < 0) {
            rc = save_sheet(&o, l, -p.face[i], p.out.items[i]);
            continue;
        }
        fn_image t = {0};
        s = fn_library_face_thumb(l, p.face[i], 160, &t);
        if (s == FN_ERR_IO || s == FN_ERR_FORMAT || s == FN_ERR_MISMATCH) {   /* its photo cannot be read now, or
                                                                           changed: the others are written */
            if (unread++ < 5) fprintf(stderr, "facenet people: warning: export: %s\n", fn_last_error());
            continue;
        }
        rc = s == FN_OK ? fn_cli_save_image("people", &o, p.out.items[i], &t) : fn_cli_fail("people", s);
        fn_image_free(&t);
        faces += !rc;
    }
    if (!rc && unread)
        fprintf(stderr, "facenet people: warning: export: %d face thumbnail(s) not written: their photos cannot be "
                "read (moved, deleted, on a drive not mounted?) or changed since the scan%s\n", unread,
                unread > 5 ? "; the first 5 named above" : "");
    if (!rc && v.n == 0 && mkdir(dir, 0777) != 0 && errno != EEXIST)   /* nothing to write: the folder all the same */
        rc = fn_cli_error("people", "export: cannot create %s: %s", dir, strerror(errno));
    fn_pathlist kept = {0};
    int stale = !rc ? old_exports(&o, dir, &p, overwrite, &kept) : 0;
    if (!rc) rc = write_manifest(dir, lib, &p, &kept);
    if (!rc) printf("exported %d group(s), %d face thumbnail(s) and a contact sheet per group into %s\n", v.n, faces, dir);
    if (!rc && stale) printf("removed %d file(s) of an earlier export that no group needs any more\n", stale);
    if (!rc && kept.count)
        printf("%d file(s) of an earlier export that no group needs any more stay: `export --overwrite` removes "
               "them\n", kept.count);
    fn_pathlist_free(&kept);
    if (have_o) fn_outputs_free(&o);
    free(v.id);
    free(v.name);
    free(p.face);
    fn_pathlist_free(&p.out);
    fn_pathlist_free(&p.photos);
    return rc ? rc : unread ? 1 : 0;   /* as identify: the rest done, exit 1 for what could not be read */
}

/* sheet GROUP FILE: one claimed output, none of the library's photos. */
static int sheet_one(fn_library *l, const char *gpath, int64_t group, const char *path, int overwrite)
{
    plan p = {0};
    fn_outputs o;
    char err[4400];
    fn_status s = plan_inputs(l, gpath, &p);
    int rc = s == FN_OK ? 0 : fn_cli_fail("people", s);
    if (!rc && fn_outputs_init(&o, NULL, NULL, 0, p.photos.items, p.photos.count, overwrite, err, sizeof err))
        rc = fn_cli_error("people", "sheet: %s", err);
    else if (!rc) {
        if (fn_outputs_claim(&o, path, err, sizeof err)) rc = fn_cli_error("people", "sheet: %s", err);
        else rc = save_sheet(&o, l, group, path);
        if (!rc) printf("wrote the contact sheet of group %lld to %s\n", (long long)group, path);
        fn_outputs_free(&o);
    }
    free(p.face);
    fn_pathlist_free(&p.out);
    fn_pathlist_free(&p.photos);
    return rc;
}

int fn_cmd_people(int argc, char **argv)
{
    fn_cli_args a;
    int rc;
    if (fn_cli_parse(&spec, argc, argv, &a, &rc)) return rc;
    const char *act = a.pos[0], *gpath = fn_cli_str(&a, FN_O_GALLERY);
    if ((rc = fn_cli_library_path("people", gpath, 1))) return rc;
    char **args = a.pos + 1;
    int nargs = a.npos - 1;
    struct { const char *name; int min, max; } acts[] = {{"list", 0, 0}, {"name", 2, 2}, {"merge", 2, 2},
                                                          {"move", 1, -1}, {"not-a-face", 1, -1}, {"sheet", 2, 2},
                                                          {"export", 1, 1}};
    int which = -1;
    for (int i = 0; i < (int)(sizeof acts / sizeof *acts); i++) if (!strcmp(act, acts[i].name)) which = i;
    if (which < 0) return fn_cli_usage("people", "unknown action '%s' (list, name, merge, move, not-a-face, sheet, export)", act);
    if (nargs < acts[which].min || (acts[which].max >= 0 && nargs > acts[which].max))
        return fn_cli_usage("people", "%s takes %d%s argument(s), got %d", act, acts[which].min,
                            acts[which].max < 0 ? " or more" : "", nargs);
    if (!strcmp(act, "move") && !fn_cli_given(&a, FN_O_TO)) return fn_cli_usage("people", "move needs --to GROUP");
    fn_gallery *g = NULL;
    fn_library *l = NULL;
    int writes = which >= 1 && which <= 4;
    if (fn_cli_gallery_open("people", gpath, NULL, writes ? 0 : FN_GALLERY_READONLY, &g)) return 1;
    fn_status s = writes ? fn_library_open(gpath, NULL, &l) : fn_library_open_readonly(gpath, NULL, &l);
    if (s != FN_OK) {
        fn_gallery_close(g);
        return fn_cli_fail("people", s);
    }
    rc = 0;
    int64_t ga = 0, gb = 0, *ids = NULL;
    switch (which) {
    case 0: {
        list_ctx c = {l, fn_cli_flag(&a, FN_O_JSON), 0, 0};
        s = fn_library_groups(l, list_one, &c);
        if (s == FN_OK && !c.json && c.locked)
            printf("(* named or corrected by you: `facenet cluster` never takes a face from it)\n");
        int64_t faces = 0;
        if (s == FN_OK && !c.json && !c.n)
            printf(fn_library_count(l, NULL, &faces, NULL) == FN_OK && faces == 0
                       ? "no faces yet: run `facenet scan --gallery %s PHOTOS...`, then `facenet cluster`\n"
                       : "no groups yet: run `facenet cluster --gallery %s`\n", gpath);
        break;
    }
    case 1:
        char wanted[FN_GALLERY_NAME_MAX];   /* " new" is stored as "new" */
        if (fn_gallery_normalize_name(args[1], wanted, sizeof wanted, NULL) == FN_OK && !strcmp(wanted, "new")) {
            /* `move --to new` would make a new group, never reach this one */
            rc = fn_cli_usage("people", "name: 'new' is how `move --to new` asks for a new group; give another name");
            break;
        }
        s = fn_library_find_group(l, args[0], &ga);
        if (s == FN_OK) s = fn_library_name_group(l, ga, args[1], g);
        char shown[FN_GALLERY_NAME_MAX];   /* as stored: NFC, trimmed */
        if (s == FN_OK && fn_gallery_normalize_name(args[1], shown, sizeof shown, NULL) == FN_OK)
            printf("group %lld is now %s (enrolled in the gallery)\n", (long long)ga, shown);
        break;
    case 2:
        s = fn_library_find_group(l, args[0], &ga);
        if (s == FN_OK) s = fn_library_find_group(l, args[1], &gb);
        if (s == FN_OK && ga == gb) {   /* a usage error (exit 2), as any argument out of its range */
            rc = fn_cli_usage("people", "merge: '%s' and '%s' are the same group (%lld)", args[0], args[1], (long long)ga);
            break;
        }
        if (s == FN_OK) s = fn_library_merge(l, ga, gb, g);
        if (s == FN_OK) printf("group %lld merged into %lld\n", (long long)gb, (long long)ga);
        break;
    case 3:
    case 4: {
        ids = malloc((size_t)nargs * sizeof *ids);
        int nids = nargs;
        int bad = ids ? parse_ids(args, &nids, ids) : 0;
        if (!ids) s = fn_fail(FN_ERR_NOMEM, "out of memory");
        else if (bad) {
            rc = fn_cli_usage("people", "'%s' is not a face id (a positive number from `facenet cluster --json`)",
                              args[bad - 1]);
            break;
        }
        if (which == 4) {
            if (s == FN_OK) s = fn_library_not_a_face(l, ids, nids, g);
            if (s == FN_OK) printf("%d face(s) marked not a face\n", nids);
            break;
        }
        const char *to = fn_cli_str(&a, FN_O_TO);
        if (s == FN_OK && strcmp(to, "new")) s = fn_library_find_group(l, to, &ga);
        int64_t made = 0;
        if (s == FN_OK) s = fn_library_move_faces(l, ids, nids, ga, g, &made);
        if (s == FN_OK) printf("%d face(s) moved to group %lld\n", nids, (long long)(made ? made : ga));
        break;
    }
    case 5:
        s = fn_library_find_group(l, args[0], &ga);
        if (s == FN_OK) rc = sheet_one(l, gpath, ga, args[1], fn_cli_flag(&a, FN_O_OVERWRITE));
        break;
    case 6:
        rc = export_all(l, gpath, args[0], fn_cli_flag(&a, FN_O_OVERWRITE));
        break;
    }
    if (!rc && s != FN_OK) rc = fn_cli_fail("people", s);
    free(ids);
    fn_library_close(l);
    fn_gallery_close(g);
    return rc;
}
