/* Shared helpers for the test binaries (see t.h). */
#define _GNU_SOURCE
#include "t.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int t_failures, t_checks, t_unchecked;

static void summary(const char *file)
{
    if (t_unchecked)
        printf("%s: %d checks, %d failed, %d not checked\n", file, t_checks, t_failures, t_unchecked);
    else
        printf("%s: %d checks, %d failed\n", file, t_checks, t_failures);
    fflush(stdout);
}

int t_done(const char *file)
{
    summary(file);
    if (t_failures) return 1;
    return t_checks == 0 && t_unchecked ? 77 : 0;
}

void t_not_checked(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("not checked: ");
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    va_end(ap);
    t_unchecked++;
}

void t_skip(const char *file, const char *func, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    int partial = t_checks || t_unchecked;
    printf("SKIP: %s\n", why);
    t_not_checked("%s %s (from %s() on): %s", partial ? "the rest of" : "all of", base, func, why);
    summary(file);
    if (t_failures) {
        fprintf(stderr, "FAIL %s: %d of %d checks failed before this skip; the skip does not hide them\n",
                file, t_failures, t_checks);
        exit(1);
    }
    exit(t_checks ? 0 : 77);
}

static char *path_join(const char *dir, const char *rel)
{
    static _Thread_local char buf[8][4096];
    static _Thread_local int slot;
    char *b = buf[slot++ & 7];
    snprintf(b, 4096, "%s/%s", dir, rel);
    return b;
}

const char *t_shared_dir(void)
{
    const char *dir = getenv("SHARED");
    return dir && *dir ? dir : "../shared";
}

const char *t_shared_at(const char *rel, const char *file, const char *func)
{
    char *p = path_join(t_shared_dir(), rel);
    struct stat st;
    if (stat(p, &st) != 0)
        t_skip(file, func, "the reference data %s is absent (set SHARED=path/to/shared)", p);
    return p;
}

const char *t_shared_or(const char *rel, const char *what)
{
    char *p = path_join(t_shared_dir(), rel);
    struct stat st;
    if (stat(p, &st) == 0) return p;
    t_not_checked("%s (needs the reference data %s, absent; set SHARED=path/to/shared)", what, p);
    return NULL;
}

const char *t_models(const char *rel)
{
    const char *dir = getenv("MODELS");
    if (!dir) dir = "models";
    char *p = path_join(dir, rel);
    struct stat st;
    return stat(p, &st) == 0 ? p : NULL;
}

static char tmpdir_path[256];

static void rm_tmpdir(void)
{
    if (!tmpdir_path[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir_path);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir_path);
}

const char *t_tmpdir(void)
{
    if (!tmpdir_path[0]) {
        snprintf(tmpdir_path, sizeof tmpdir_path, "/tmp/fn-test-XXXXXX");
        if (!mkdtemp(tmpdir_path)) { perror("mkdtemp"); exit(1); }
        atexit(rm_tmpdir);
    }
    return tmpdir_path;
}

int t_npy_load(const char *path, t_npy *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return -1; }
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) { fclose(f); return -1; }
    unsigned hlen = pre[8] | (pre[9] << 8);
    char *hdr = calloc(1, hlen + 1);
    if (fread(hdr, 1, hlen, f) != hlen || !strstr(hdr, "'<f4'") || strstr(hdr, "'fortran_order': True")) {
        free(hdr); fclose(f); return -1;
    }
    char *s = strchr(strstr(hdr, "'shape'"), '(') + 1;
    out->numel = 1;
    while (*s && *s != ')') {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) { s++; continue; }
        out->shape[out->ndim++] = v;
        out->numel *= v;
        s = end;
    }
    free(hdr);
    out->data = malloc(out->numel * sizeof(float));
    long got = (long)fread(out->data, sizeof(float), out->numel, f);
    fclose(f);
    if (got != out->numel) { t_npy_free(out); return -1; }
    return 0;
}

void t_npy_free(t_npy *a) { free(a->data); a->data = NULL; }

float t_max_abs_diff(const float *a, const float *b, long n, long *where)
{
    float worst = 0.0f;
    long at = 0;
    for (long i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= worst)) { worst = d; at = i; } /* NaN counts as worst */
    }
    if (where) *where = at;
    return worst;
}
