/* facenet people — look at and correct the photo library's groups: list,
 * name (the group becomes a gallery person), merge, move, not-a-face,
 * export thumbnails and contact sheets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "common.h"
#include "gallery_open.h"
#include "options.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the library (scanned and clustered)"),
    FN_USE_H(FN_O_TO, "move: the group the faces go to (id or name; \"new\": a new group)"),
    FN_USE_H(FN_O_JSON, "JSON Lines (list: one object per group)"),
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
        "into A.  move: faces (ids from `cluster --json`) go to another group.  not-a-face:\n"
        "faces the detector was wrong about leave their groups for good.  A named or\n"
        "corrected group is never broken by `facenet cluster`.  sheet: a contact sheet JPEG of\n"
        "one group (a grid of its faces, the name on top).  export: DIR/<group>/ with a\n"
        "thumbnail per face and DIR/<group>.jpg, the contact sheet.  GROUP is an id or a name.",
    .opts = uses, .min_args = 1, .max_args = -1, .args_name = "ACTION [ARGS...]",
    .examples = (const char *const[]){"facenet people --gallery photos.db list",
                                      "facenet people --gallery photos.db sheet 3 group3.jpg",
                                      "facenet people --gallery photos.db name 3 \"Alice\"",
                                      "facenet people --gallery photos.db move 17 18 --to Alice", NULL},
    .exits = NULL,
};

#define TILE 112
#define COLS 8

typedef struct list_ctx { fn_library *l; int json; int n; } list_ctx;

static int list_one(void *ctx, const fn_library_group *g)
{
    list_ctx *c = ctx;
    fn_library_face f;
    int has = g->best_face && fn_library_face_get(c->l, g->best_face, &f) == FN_OK;
    c->n++;
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
        printf("%6lld  %-24s %5lld face(s)%s  %s\n", (long long)g->id, g->name[0] ? g->name : "-", (long long)g->n_faces,
               g->locked ? " *" : "  ", has ? f.path : "");
    }
    return 0;
}

static int parse_ids(char **args, int n, int64_t *out)
{
    for (int i = 0; i < n; i++) {
        char *end;
        long long v = strtoll(args[i], &end, 10);
        if (*end || v <= 0) return i + 1;
        out[i] = v;
    }
    return 0;
}

static int save_sheet(fn_library *l, int64_t group, const char *path)
{
    fn_image img = {0};
    int tiles = 0;
    fn_status s = fn_library_contact_sheet(l, group, TILE, COLS, 0, &img, &tiles);
    size_t n = strlen(path);
    int png = n > 4 && !strcasecmp(path + n - 4, ".png");
    if (s == FN_OK) s = png ? fn_image_save_png(path, &img) : fn_image_save_jpeg(path, &img, 90);
    fn_image_free(&img);
    return s == FN_OK ? 0 : fn_cli_fail("people", s);
}

typedef struct export_ctx { fn_library *l; const char *dir; char folder[4096]; int n, failed; } export_ctx;

static int export_face(void *ctx, const fn_library_face *f)
{
    export_ctx *c = ctx;
    if (f->not_face) return 0;
    fn_image t = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/face-%lld.jpg", c->folder, (long long)f->id);
    int64_t id = f->id;
    /* f's pointers belong to the walk: read the thumbnail by id after copying what is needed */
    fn_status s = fn_library_face_thumb(c->l, id, 160, &t);
    if (s == FN_OK) s = fn_image_save_jpeg(path, &t, 90);
    fn_image_free(&t);
    if (s == FN_OK) c->n++;
    else {
        c->failed++;
        fprintf(stderr, "facenet people: warning: face %lld: %s\n", (long long)id, fn_last_error());
    }
    return 0;
}

typedef struct groups_vec { int64_t *id; char (*name)[FN_GALLERY_NAME_MAX]; int n, cap; } groups_vec;

static int collect_group(void *ctx, const fn_library_group *g)
{
    groups_vec *v = ctx;
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 32;
        int64_t *a = realloc(v->id, (size_t)cap * sizeof *a);
        if (!a) return 1;
        v->id = a;
        char (*b)[FN_GALLERY_NAME_MAX] = realloc(v->name, (size_t)cap * sizeof *b);
        if (!b) return 1;
        v->name = b;
        v->cap = cap;
    }
    v->id[v->n] = g->id;
    snprintf(v->name[v->n], FN_GALLERY_NAME_MAX, "%s", g->name);
    v->n++;
    return 0;
}

static int export_all(fn_library *l, const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return fn_cli_error("people", "cannot create %s: %s", dir, strerror(errno));
    groups_vec v = {0};
    fn_status s = fn_library_groups(l, collect_group, &v);
    int rc = s == FN_OK ? 0 : fn_cli_fail("people", s), faces = 0;
    for (int i = 0; !rc && i < v.n; i++) {
        char base[FN_GALLERY_NAME_MAX + 32];
        if (v.name[i][0]) {
            snprintf(base, sizeof base, "%s", v.name[i]);
            for (char *p = base; *p; p++) if (*p == '/' || *p == '\\') *p = '_';
        } else {
            snprintf(base, sizeof base, "group-%lld", (long long)v.id[i]);
        }
        export_ctx c = {l, dir, "", 0, 0};
        snprintf(c.folder, sizeof c.folder, "%s/%s", dir, base);
        if (mkdir(c.folder, 0777) != 0 && errno != EEXIST) {
            rc = fn_cli_error("people", "cannot create %s: %s", c.folder, strerror(errno));
            break;
        }
        s = fn_library_faces(l, v.id[i], export_face, &c);
        if (s != FN_OK) rc = fn_cli_fail("people", s);
        faces += c.n;
        char sheet[4200];
        snprintf(sheet, sizeof sheet, "%s/%s.jpg", dir, base);
        if (!rc) rc = save_sheet(l, v.id[i], sheet);
    }
    if (!rc) printf("exported %d group(s), %d face thumbnail(s) and a contact sheet per group into %s\n", v.n, faces, dir);
    free(v.id);
    free(v.name);
    return rc;
}

int fn_cmd_people(int argc, char **argv)
{
    fn_cli_args a;
    int rc;
    if (fn_cli_parse(&spec, argc, argv, &a, &rc)) return rc;
    const char *act = a.pos[0], *gpath = fn_cli_str(&a, FN_O_GALLERY);
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
    fn_status s = fn_library_open(gpath, NULL, &l);
    if (s != FN_OK) {
        fn_gallery_close(g);
        return fn_cli_fail("people", s);
    }
    rc = 0;
    int64_t ga = 0, gb = 0, *ids = NULL;
    switch (which) {
    case 0: {
        list_ctx c = {l, fn_cli_flag(&a, FN_O_JSON), 0};
        s = fn_library_groups(l, list_one, &c);
        if (s == FN_OK && !c.json && !c.n) printf("no groups yet: run `facenet cluster --gallery %s`\n", gpath);
        break;
    }
    case 1:
        s = fn_library_find_group(l, args[0], &ga);
        if (s == FN_OK) s = fn_library_name_group(l, ga, args[1], g);
        if (s == FN_OK) printf("group %lld is now %s (enrolled in the gallery)\n", (long long)ga, args[1]);
        break;
    case 2:
        s = fn_library_find_group(l, args[0], &ga);
        if (s == FN_OK) s = fn_library_find_group(l, args[1], &gb);
        if (s == FN_OK) s = fn_library_merge(l, ga, gb, g);
        if (s == FN_OK) printf("group %lld merged into %lld\n", (long long)gb, (long long)ga);
        break;
    case 3:
    case 4: {
        ids = malloc((size_t)nargs * sizeof *ids);
        int bad = ids ? parse_ids(args, nargs, ids) : 0;
        if (!ids) s = fn_fail(FN_ERR_NOMEM, "out of memory");
        else if (bad) {
            rc = fn_cli_usage("people", "'%s' is not a face id (a positive number from `facenet cluster --json`)",
                              args[bad - 1]);
            break;
        }
        if (which == 4) {
            if (s == FN_OK) s = fn_library_not_a_face(l, ids, nargs, g);
            if (s == FN_OK) printf("%d face(s) marked not a face\n", nargs);
            break;
        }
        const char *to = fn_cli_str(&a, FN_O_TO);
        if (s == FN_OK && strcmp(to, "new")) s = fn_library_find_group(l, to, &ga);
        int64_t made = 0;
        if (s == FN_OK) s = fn_library_move_faces(l, ids, nargs, ga, g, &made);
        if (s == FN_OK) printf("%d face(s) moved to group %lld\n", nargs, (long long)(made ? made : ga));
        break;
    }
    case 5:
        s = fn_library_find_group(l, args[0], &ga);
        if (s == FN_OK) rc = save_sheet(l, ga, args[1]);
        break;
    case 6:
        rc = export_all(l, args[0]);
        break;
    }
    if (!rc && s != FN_OK) rc = fn_cli_fail("people", s);
    free(ids);
    fn_library_close(l);
    fn_gallery_close(g);
    return rc;
}
