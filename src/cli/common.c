#include "common.h"

#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

int fn_pathlist_add(fn_pathlist *l, const char *path)
{
    if (l->count == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items) return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count] = strdup(path);
    return l->items[l->count] ? (l->count++, 0) : -1;
}

void fn_pathlist_free(fn_pathlist *l)
{
    for (int i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int fn_cli_collect_images(char **args, int nargs, fn_pathlist *out, fn_pathlist *skipped)
{
    /* The library lists (fn_list_images: recursive, sorted, by extension);
     * the CLI keeps its own list type for the commands. */
    for (int i = 0; i < nargs; i++) {
        fn_paths found = {0}, other = {0};
        fn_status s = fn_list_images(args[i], &found, skipped ? &other : NULL);
        for (int k = 0; s == FN_OK && k < found.n; k++)
            if (fn_pathlist_add(out, found.items[k]) != 0) s = FN_ERR_NOMEM;
        for (int k = 0; s == FN_OK && k < other.n; k++)
            if (fn_pathlist_add(skipped, other.items[k]) != 0) s = FN_ERR_NOMEM;
        fn_paths_free(&found);
        fn_paths_free(&other);
        /* a path that cannot be read (missing, no permission) is an input like the others: the command
         * reports it as unreadable, by name, and goes on with the rest (it stopped the whole command) */
        if (s != FN_OK && s != FN_ERR_NOMEM && fn_pathlist_add(out, args[i]) == 0) continue;
        if (s != FN_OK) {
            fprintf(stderr, "facenet: %s\n", s == FN_ERR_NOMEM ? "out of memory" : fn_last_error());
            return -1;
        }
    }
    return 0;
}

const char *fn_cli_cache_path(const char *verb, char *buf, size_t cap)
{
    const char *env = getenv("FACENET_CACHE"), *home = getenv("HOME");
    if (env && *env) snprintf(buf, cap, "%s", env);
    else if (home && *home) snprintf(buf, cap, "%s/.cache/facenet/embeddings.db", home);
    else {
        fprintf(stderr, "facenet %s: no cache location: set FACENET_CACHE or HOME, or pass --no-cache\n", verb);
        return NULL;
    }
    return buf;
}

void fn_cli_emit(cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(s);
    cJSON_Delete(obj);
}

static double round_sig(double v, int digits)
{
    if (v == 0.0 || !isfinite(v)) return v;
    char buf[32];
    snprintf(buf, sizeof buf, "%.*g", digits, v);
    return strtod(buf, NULL);
}

cJSON *fn_cli_float_array(const float *v, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(round_sig(v[i], 7)));
    return arr;
}

cJSON *fn_cli_box(const float box[4])
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < 4; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(round_sig(box[i], 6)));
    return arr;
}

void fn_progress_start(fn_progress *p, const char *label, int total)
{
    p->label = label;
    p->total = total;
    p->done = 0;
    p->enabled = isatty(STDERR_FILENO) && total > 1;
    p->start = fn_now();
}

void fn_progress_step(fn_progress *p, const char *item)
{
    p->done++;
    if (!p->enabled) return;
    double el = fn_now() - p->start;
    double eta = p->done ? el / p->done * (p->total - p->done) : 0;
    const char *base = item ? strrchr(item, '/') : NULL;
    base = base ? base + 1 : (item ? item : "");
    fprintf(stderr, "\r\033[K%s %d/%d (%.0f%%) %.1f/s, %.1fs left  %.40s", p->label, p->done, p->total,
            100.0 * p->done / p->total, el > 0 ? p->done / el : 0.0, eta, base);
    fflush(stderr);
}

void fn_progress_end(fn_progress *p)
{
    if (p->enabled) fprintf(stderr, "\r\033[K");
}

int fn_cli_fail(const char *verb, fn_status s)
{
    const char *msg = fn_last_error();
    fprintf(stderr, "facenet %s: %s\n", verb, msg && *msg ? msg : fn_status_name(s));
    return 1;
}

int fn_cli_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "facenet %s: ", verb);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int fn_cli_columns(const char *s)
{
    int n = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);
        if (k <= 0) {   /* not UTF-8: a byte, a column */
            p++, n++;
            continue;
        }
        p += k;
        n += utf8proc_charwidth(cp);   /* 2 for CJK, 0 for a combining mark */
    }
    return n;
}

const char *fn_cli_load_status(const char *path)
{
    static const uint8_t jpeg[3] = {0xFF, 0xD8, 0xFF}, png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    uint8_t head[8] = {0};
    /* non-blocking, regular files only: a FIFO waited for a writer forever (--json's path) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    ssize_t got = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, head, sizeof head) : 0;
    size_t n = got > 0 ? (size_t)got : 0;
    if (fd >= 0) close(fd);
    if (n == 0) return FN_ST_UNREADABLE;   /* cannot open, or empty */
    if ((n >= 3 && !memcmp(head, jpeg, 3)) || (n == 8 && !memcmp(head, png, 8))) return FN_ST_UNREADABLE;
    return FN_ST_UNSUPPORTED;
}

cJSON *fn_cli_file_record(const char *file, const char *status, const char *error)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddStringToObject(o, "status", status);
    if (error) cJSON_AddStringToObject(o, "error", error);
    return o;
}

void fn_cli_image_warning(const char *verb, const fn_faces *f, cJSON *rec)
{
    if (!f->notes.warning[0]) return;
    fprintf(stderr, "facenet %s: warning: %s\n", verb, f->notes.warning);
    if (rec) cJSON_AddStringToObject(rec, "warning", f->notes.warning);
}

void fn_cli_face_edge(cJSON *rec, const fn_face *face, int w, int h)
{
    if (!fn_face_landmarks_inside(face, w, h)) cJSON_AddBoolToObject(rec, "landmarks_outside", 1);
}

void fn_cli_cache_warning(const char *verb, const fn_embedder *x)
{
    if (x && x->store_errors)
        fprintf(stderr, "facenet %s: warning: the embedding cache could not keep %d embedding(s) (used all the same; "
                "the next run computes them again): %s\n", verb, x->store_errors, x->store_error);
}

void fn_cli_report_skipped(const char *verb, const fn_pathlist *skipped, int json, int verbose)
{
    for (int i = 0; i < skipped->count; i++) {
        if (json) fn_cli_emit(fn_cli_file_record(skipped->items[i], FN_ST_UNSUPPORTED,
                                                 "not a .jpg, .jpeg or .png file; skipped"));
        else if (verbose) fprintf(stderr, "facenet %s: %s: skipped: not a .jpg, .jpeg or .png file\n", verb,
                                  skipped->items[i]);
    }
    if (!json && !verbose && skipped->count)
        fprintf(stderr, "facenet %s: note: skipped %d file(s) in the folders that are not .jpg, .jpeg or .png "
                        "(--verbose names them)\n", verb, skipped->count);
}
