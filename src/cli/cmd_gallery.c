/* facenet gallery — look after a gallery: list, remove, rename, check, copy. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "gallery_open.h"
#include "options.h"

static const fn_cli_use uses[] = {
    FN_USE_H(FN_O_GALLERY, "the gallery (a file or a postgresql:// URL); copy takes SRC DST instead"),
    FN_USE_H(FN_O_JSON, "list: one object per person {name, images}"),
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "gallery",
    .usage = (const char *const[]){"--gallery G.db [--json] list | remove NAME | rename OLD NEW | check",
                                   "copy SRC DST", NULL},
    .description = "  list               people, their image counts, and the model the gallery was built with\n"
                   "  remove NAME        forget a person with all their images\n"
                   "  rename OLD NEW     rename a person\n"
                   "  check              verify the database and its embeddings\n"
                   "  copy SRC DST       copy every person, image, embedding and the threshold from one gallery\n"
                   "                     into another (files or postgresql:// URLs; DST is created if missing)",
    .opts = uses, .min_args = 1, .max_args = 3, .args_name = "an action: list, remove NAME, rename OLD NEW or check",
    .examples = (const char *const[]){"facenet gallery --gallery film.db list",
                                      "facenet gallery --gallery film.db rename Nazriya \"Nazriya Nazim\"",
                                      "facenet gallery copy film.db postgresql://facenet@db.example/faces", NULL},
    .exits = (const fn_cli_exit[]){{1, "failure: the gallery could not be opened, the person is not there, or "
                                       "check found a problem (named on stderr)"},
                                   {0, NULL}},
};

typedef struct list_ctx { int json, count; } list_ctx;

static int print_person(void *ctx, const fn_gallery_person *p)
{
    list_ctx *c = ctx;
    c->count++;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddNumberToObject(o, "images", (double)p->n_images);
        fn_cli_emit(o);
    } else {
        int width = fn_cli_columns(p->name);
        printf("%s%*s %lld image(s)\n", p->name, width < 32 ? 32 - width : 0, "", (long long)p->n_images);
    }
    return 0;
}

static int do_list(fn_gallery *g, int json)
{
    list_ctx c = {json, 0};
    fn_status s = fn_gallery_list(g, print_person, &c);
    if (s != FN_OK) return fn_cli_fail("gallery", s);
    if (!json) {
        fn_gallery_model m = fn_gallery_model_of(g);
        int64_t people = 0, images = 0;
        fn_gallery_count(g, &people, &images);
        printf("%lld people, %lld images; model %s (%d-d)\n", (long long)people, (long long)images,
               m.model_id ? m.model_id : "?", m.dim);
        float t;
        if (fn_gallery_get_threshold(g, &t) == FN_OK) printf("threshold %.4f (calibrated)\n", t);
        else printf("threshold: none stored (identify uses the model's default)\n");
    }
    return 0;
}

/* Every image of a file enrolled under more than one person, one line (or
 * JSON object) each, after check's sentence naming the first. */
typedef struct conflict_ctx { int json; char hash[65]; } conflict_ctx;

static int print_conflict(void *ctx, const fn_gallery_conflict *c)
{
    conflict_ctx *x = ctx;
    if (x->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "problem", "file enrolled under more than one person");
        cJSON_AddStringToObject(o, "sha256", c->hash_hex);
        cJSON_AddStringToObject(o, "person", c->person);
        cJSON_AddStringToObject(o, "file", c->path);
        cJSON_AddNumberToObject(o, "image_id", (double)c->image_id);
        fn_cli_emit(o);
    } else {
        if (strcmp(x->hash, c->hash_hex) != 0) fprintf(stderr, "  file %.12s...:\n", c->hash_hex);
        fprintf(stderr, "    %s (image %lld, %s)\n", c->person, (long long)c->image_id, c->path);
    }
    memcpy(x->hash, c->hash_hex, 65);
    return 0;
}

static int do_check(fn_gallery *g, const char *gpath, int json)
{
    fn_status s = fn_gallery_check(g);
    if (s == FN_OK) {
        printf("%s: ok\n", gpath);
        return 0;
    }
    int rc = fn_cli_fail("gallery", s);
    if (s == FN_ERR_MISMATCH) {
        conflict_ctx x = {json, ""};
        int64_t n = 0;
        fn_gallery_conflicts(g, print_conflict, &x, &n);
    }
    return rc;
}

static int do_copy(const char *from, const char *to)
{
    fn_gallery *src = NULL, *dst = NULL;
    if (fn_cli_gallery_open("gallery", from, NULL, FN_GALLERY_READONLY, &src)) return 1;
    fn_gallery_model m = fn_gallery_model_of(src);
    fn_status s = fn_gallery_open(to, &m, FN_GALLERY_CREATE, &dst);
    int64_t copied = 0, skipped = 0;
    if (s == FN_OK) s = fn_gallery_copy(src, dst, &copied, &skipped);
    int rc = 0;
    if (s != FN_OK) rc = fn_cli_fail("gallery", s);
    else printf("copied %lld image(s) from %s to %s (%lld already there)\n", (long long)copied, from, to, (long long)skipped);
    fn_gallery_close(dst);
    fn_gallery_close(src);
    return rc;
}

int fn_cmd_gallery(int argc, char **argv)
{
    fn_cli_args a;
    int prc;
    if (fn_cli_parse(&spec, argc, argv, &a, &prc)) return prc;
    const char *gpath = fn_cli_str(&a, FN_O_GALLERY);
    int json = fn_cli_flag(&a, FN_O_JSON);
    char **pos = a.pos;
    const char *verb = pos[0];
    int nargs = a.npos - 1;
    if (!strcmp(verb, "copy")) {
        if (nargs != 2) return fn_cli_usage("gallery", "copy wants SRC DST");
        if (gpath) return fn_cli_usage("gallery", "copy takes SRC DST, not --gallery");
        return do_copy(pos[1], pos[2]);
    }
    if (!gpath) return fn_cli_usage("gallery", "--gallery is required for %s", verb);
    int readonly = !strcmp(verb, "list") || !strcmp(verb, "check");
    if ((!strcmp(verb, "list") || !strcmp(verb, "check")) && nargs != 0) return fn_cli_usage("gallery", "%s takes no argument", verb);
    if (!strcmp(verb, "remove") && nargs != 1) return fn_cli_usage("gallery", "remove wants one NAME");
    if (!strcmp(verb, "rename") && nargs != 2) return fn_cli_usage("gallery", "rename wants OLD NEW");
    if (strcmp(verb, "list") && strcmp(verb, "check") && strcmp(verb, "remove") && strcmp(verb, "rename"))
        return fn_cli_usage("gallery", "unknown action '%s'", verb);
    fn_gallery *g = NULL;
    if (fn_cli_gallery_open("gallery", gpath, NULL, readonly ? FN_GALLERY_READONLY : 0, &g)) return 1;
    int rc = 0;
    fn_status s = FN_OK;
    if (!strcmp(verb, "list")) rc = do_list(g, json);
    else if (!strcmp(verb, "check")) rc = do_check(g, gpath, json);
    else if (!strcmp(verb, "remove")) {
        int64_t n = 0;
        s = fn_gallery_remove_person(g, pos[1], &n);
        if (s == FN_OK) printf("removed %s (%lld image(s))\n", pos[1], (long long)n);
    } else {
        s = fn_gallery_rename_person(g, pos[1], pos[2]);
        if (s == FN_OK) printf("renamed %s to %s\n", pos[1], pos[2]);
    }
    if (s != FN_OK) rc = fn_cli_fail("gallery", s);
    fn_gallery_close(g);
    return rc;
}
