#include "outputs.h"


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

int fn_path_normalize(const char *path, char *out, size_t outlen)
{
    char buf[PATH_MAX * 2];
    if (path[0] == '/') {
        if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return -1;
        if (snprintf(buf, sizeof buf, "%s/%s", cwd, path) >= (int)sizeof buf) return -1;
    }
    /* Fold component by component into out; ".." drops the last one kept. */
    size_t n = 0;
    if (outlen < 2) return -1;
    out[0] = '\0';
    for (char *p = buf; *p;) {
        while (*p == '/') p++;
        if (!*p) break;
        char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 1 && p[0] == '.') {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/') n--;
            if (n > 0) n--;   /* the slash before it */
            out[n] = '\0';
        } else {
            if (n + 1 + len + 1 > outlen) return -1;
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
            out[n] = '\0';
        }
        p += len;
    }
    if (n == 0) strcpy(out, "/");
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory an input stands for: itself if a directory, else its parent. */
static int input_dir(const char *path, char *out, size_t outlen)
{
    if (fn_path_normalize(path, out, outlen)) return -1;
    if (!is_dir(path)) {
        char *slash = strrchr(out, '/');
        if (slash == out) out[1] = '\0';
        else if (slash) *slash = '\0';
    }
    return 0;
}

int fn_path_common_root(char *const *paths, int n, char *out, size_t outlen)
{
    if (n <= 0) return fn_path_normalize(".", out, outlen);
    if (input_dir(paths[0], out, outlen)) return -1;
    char d[PATH_MAX];
    for (int i = 1; i < n; i++) {
        if (input_dir(paths[i], d, sizeof d)) return -1;
        /* Shorten out to the longest prefix that ends at a component boundary in both. */
        size_t k = 0, last = 0;
        while (out[k] && out[k] == d[k]) {
            k++;
            if (out[k] == '/' || out[k] == '\0') {
                if (d[k] == '/' || d[k] == '\0') last = k;
            }
        }
        if (out[k] == '\0' && (d[k] == '/' || d[k] == '\0')) last = k;
        out[last] = '\0';
        if (last == 0) strcpy(out, "/");
    }
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    const fn_file_id *x = a, *y = b;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int fn_outputs_init(fn_outputs *o, const char *dir, char *const *args, int nargs, char *const *files, int nfiles,
                    int overwrite, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->overwrite = overwrite;
    o->dir = strdup(dir ? dir : "");
    o->root = malloc(PATH_MAX);
    o->inputs = malloc(sizeof *o->inputs * (size_t)(nfiles > 0 ? nfiles : 1));
    if (!o->dir || !o->root || !o->inputs) {
        snprintf(err, errlen, "out of memory planning %d outputs", nfiles);
        fn_outputs_free(o);
        return -1;
    }
    if (fn_path_common_root(args, nargs, o->root, PATH_MAX)) {
        snprintf(err, errlen, "cannot resolve the inputs' common folder (a path is too long)");
        fn_outputs_free(o);
        return -1;
    }
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (stat(files[i], &st) == 0) o->inputs[o->ninputs++] = (fn_file_id){st.st_dev, st.st_ino};
    }
    qsort(o->inputs, (size_t)o->ninputs, sizeof *o->inputs, cmp_id);
    return 0;
}

void fn_outputs_free(fn_outputs *o)
{
    for (int i = 0; i < o->nclaimed; i++) free(o->claimed[i]);
    free(o->claimed);
    free(o->inputs);
    free(o->root);
    free(o->dir);
    memset(o, 0, sizeof *o);
}

int fn_outputs_is_input(const fn_outputs *o, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    fn_file_id id = {st.st_dev, st.st_ino};
    return bsearch(&id, o->inputs, (size_t)o->ninputs, sizeof id, cmp_id) != NULL;
}

static int claimed(const fn_outputs *o, const char *path)
{
    char norm[PATH_MAX];
    if (fn_path_normalize(path, norm, sizeof norm)) return 0;
    for (int i = 0; i < o->nclaimed; i++)
        if (!strcmp(o->claimed[i], norm)) return 1;
    return 0;
}

int fn_outputs_claim(fn_outputs *o, const char *path, char *err, size_t errlen)
{
    char norm[PATH_MAX];
    if (fn_path_normalize(path, norm, sizeof norm)) {
        snprintf(err, errlen, "%s: the path is too long", path);
        return -1;
    }
    if (fn_outputs_is_input(o, path)) {
        snprintf(err, errlen, "%s is one of the input files; an input is never written or replaced "
                 "(choose an output outside the inputs)", path);
        return -1;
    }
    if (claimed(o, path)) {
        snprintf(err, errlen, "%s is already the output of an earlier input of this run; not replaced", path);
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s is a directory, not a file", path);
            return -1;
        }
        if (!o->overwrite) {
            snprintf(err, errlen, "%s already exists; not replaced (--overwrite replaces it)", path);
            return -1;
        }
    }
    if (o->nclaimed == o->capclaimed) {
        int cap = o->capclaimed ? 2 * o->capclaimed : 64;
        char **c = realloc(o->claimed, sizeof *c * (size_t)cap);
        if (!c) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        o->claimed = c;
        o->capclaimed = cap;
    }
    if (!(o->claimed[o->nclaimed] = strdup(norm))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    o->nclaimed++;
    return 0;
}

int fn_outputs_path(fn_outputs *o, const char *input, const char *suffix, const char *ext, char *out, size_t outlen,
                    char *err, size_t errlen)
{
    char norm[PATH_MAX];
    if (fn_path_normalize(input, norm, sizeof norm)) {
        snprintf(err, errlen, "%s: the path is too long", input);
        return -1;
    }
    /* Below the common root; an input outside it (cannot happen for planned inputs) keeps its base name. */
    size_t rl = strlen(o->root);
    const char *rel;
    if (!strcmp(o->root, "/")) rel = norm + 1;
    else if (!strncmp(norm, o->root, rl) && norm[rl] == '/') rel = norm + rl + 1;
    else rel = strrchr(norm, '/') + 1;
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) dot = base + strlen(base);
    int w = snprintf(out, outlen, "%s%s%.*s%s%s", o->dir, o->dir[0] ? "/" : "", (int)(dot - rel), rel,
                     suffix ? suffix : "", ext ? ext : dot);
    /* A new extension can make x.jpg and x.png meet (crops x_0.png): the
     * second keeps its own extension in the name (x_png_0.png). */
    if (w > 0 && (size_t)w < outlen && ext && *dot && claimed(o, out))
        w = snprintf(out, outlen, "%s%s%.*s_%s%s%s", o->dir, o->dir[0] ? "/" : "", (int)(dot - rel), rel, dot + 1,
                     suffix ? suffix : "", ext);
    if (w < 0 || (size_t)w >= outlen) {
        snprintf(err, errlen, "the output name for %s is too long", input);
        return -1;
    }
    return fn_outputs_claim(o, out, err, errlen);
}

/* mkdir -p of path's parent directory. */
static int make_parents(const char *path, char *err, size_t errlen)
{
    char d[PATH_MAX];
    if (snprintf(d, sizeof d, "%s", path) >= (int)sizeof d) return -1;
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) return 0;
    *slash = '\0';
    if (is_dir(d)) return 0;
    for (char *p = d + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(d, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create the directory %s: %s", d, strerror(errno));
                return -1;
            }
            if (!is_dir(d)) {
                snprintf(err, errlen, "%s is not a directory", d);
                return -1;
            }
            *p = c;
            if (!c) break;
        }
    }
    return 0;
}

int fn_outputs_begin(const fn_outputs *o, const char *path, char *tmp, size_t tmplen, char *err, size_t errlen)
{
    (void)o;
    if (make_parents(path, err, errlen)) return -1;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) dot = base + strlen(base);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned tag = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 12) ^ (unsigned)attempt * 2654435761u;
        int w = snprintf(tmp, tmplen, "%.*s.%.*s.tmp%08x%s", (int)(base - path), path, (int)(dot - base), base, tag, dot);
        if (w < 0 || (size_t)w >= tmplen) {
            snprintf(err, errlen, "%s: the path is too long", path);
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (errno != EEXIST) {
            snprintf(err, errlen, "cannot write in the directory of %s: %s", path, strerror(errno));
            return -1;
        }
    }
    snprintf(err, errlen, "cannot find a free temporary name beside %s", path);
    return -1;
}

void fn_outputs_abort(const char *tmp)
{
    if (tmp && *tmp) unlink(tmp);
}

static int sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int fn_outputs_commit(const fn_outputs *o, const char *tmp, const char *path, char *err, size_t errlen)
{
    if (sync_path(tmp, O_RDONLY) != 0) {
        snprintf(err, errlen, "%s: cannot flush to disk: %s", path, strerror(errno));
        fn_outputs_abort(tmp);
        return -1;
    }
    if (fn_outputs_is_input(o, path)) {   /* checked at claim; a link may have appeared since */
        snprintf(err, errlen, "%s is one of the input files; not replaced", path);
        fn_outputs_abort(tmp);
        return -1;
    }
    if (o->overwrite) {
        if (rename(tmp, path) != 0) {
            snprintf(err, errlen, "cannot move the finished %s into place: %s", path, strerror(errno));
            fn_outputs_abort(tmp);
            return -1;
        }
    } else if (link(tmp, path) == 0) {
        unlink(tmp);   /* link() refuses an existing name atomically, unlike rename() */
    } else if (errno == EEXIST) {
        snprintf(err, errlen, "%s appeared while it was being written; not replaced (--overwrite replaces it)", path);
        fn_outputs_abort(tmp);
        return -1;
    } else {
        /* A file system without hard links: check, then rename. */
        struct stat st;
        if (lstat(path, &st) == 0) errno = EEXIST;
        if (errno == EEXIST || rename(tmp, path) != 0) {
            snprintf(err, errlen, "cannot move the finished %s into place: %s", path,
                     errno ? strerror(errno) : "it exists");
            fn_outputs_abort(tmp);
            return -1;
        }
    }
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (slash) *(slash == d ? slash + 1 : slash) = '\0';
    else strcpy(d, ".");
    sync_path(d, O_RDONLY | O_DIRECTORY);   /* the rename itself; best effort */
    return 0;
}

int fn_outputs_write(const fn_outputs *o, const char *path, fn_output_writer write, void *ctx, char *err,
                     size_t errlen)
{
    char tmp[PATH_MAX + 64];
    if (fn_outputs_begin(o, path, tmp, sizeof tmp, err, errlen)) return -1;
    if (write(tmp, ctx, err, errlen) != 0) {
        fn_outputs_abort(tmp);
        return -1;
    }
    return fn_outputs_commit(o, tmp, path, err, errlen);
}

/* ---- for the subcommands ------------------------------------------------ */

int fn_cli_plan_outputs(const char *verb, fn_outputs *o, char *const *files, int n, char **paths)
{
    int refused = 0;
    char out[PATH_MAX + 256], err[PATH_MAX + 512];
    for (int i = 0; i < n; i++) {
        paths[i] = NULL;
        if (fn_outputs_path(o, files[i], NULL, NULL, out, sizeof out, err, sizeof err) != 0) {
            if (refused++ < 5) fprintf(stderr, "facenet %s: %s\n", verb, err);
            continue;
        }
        if (!(paths[i] = strdup(out))) {
            fprintf(stderr, "facenet %s: out of memory\n", verb);
            refused++;
        }
    }
    if (refused > 5) fprintf(stderr, "facenet %s: ... and %d more outputs refused\n", verb, refused - 5);
    if (refused) fprintf(stderr, "facenet %s: nothing was written\n", verb);
    return refused ? 1 : 0;
}

int fn_cli_output_file(const char *verb, fn_outputs *o, const char *path, char *const *inputs, int n, int overwrite)
{
    char err[PATH_MAX + 512];
    if (fn_outputs_init(o, NULL, inputs, n, inputs, n, overwrite, err, sizeof err) == 0 &&
        fn_outputs_claim(o, path, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "facenet %s: %s\n", verb, err);
    fn_outputs_free(o);
    return 1;
}

int fn_cli_write_output(const char *verb, const fn_outputs *o, const char *path, fn_output_writer write, void *ctx)
{
    char err[PATH_MAX + 512];
    if (fn_outputs_write(o, path, write, ctx, err, sizeof err) == 0) return 0;
    fprintf(stderr, "facenet %s: %s\n", verb, err);
    return 1;
}

static int write_image(const char *tmp, void *ctx, char *err, size_t errlen)
{
    const fn_image *img = ctx;
    const char *dot = strrchr(tmp, '.');
    int png = dot && (!strcmp(dot, ".png") || !strcmp(dot, ".PNG"));
    fn_status s = png ? fn_image_save_png(tmp, img) : fn_image_save_jpeg(tmp, img, 90);
    if (s == FN_OK) return 0;
    snprintf(err, errlen, "%s", fn_last_error());
    return -1;
}

int fn_cli_save_image(const char *verb, const fn_outputs *o, const char *path, const fn_image *img)
{
    return fn_cli_write_output(verb, o, path, write_image, (void *)img);
}

static int write_svg(const char *tmp, void *ctx, char *err, size_t errlen)
{
    if (fn_svg_write(tmp, ctx) == FN_OK) return 0;
    snprintf(err, errlen, "%s", fn_last_error());
    return -1;
}

int fn_cli_save_svg(const char *verb, const fn_outputs *o, const char *path, const struct fn_svg_plot *plot)
{
    return fn_cli_write_output(verb, o, path, write_svg, (void *)plot);
}
