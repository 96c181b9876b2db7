/* t.h — the tiny test harness: checks that print what differed and where,
 * and skips that cannot hide a failure.  A test binary exits 0 (every check
 * that ran passed; "not checked: ..." lines name what could not run), 1 (a
 * check failed — whatever was skipped after it) or 77 (nothing could run).
 */
#ifndef FN_TESTS_T_H
#define FN_TESTS_T_H

#include <stdio.h>
#include <stdlib.h>

extern int t_failures, t_checks, t_unchecked;

#define T_CHECK(cond, ...) do { t_checks++; if (!(cond)) { t_failures++; \
    fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
/* Stops the test: the rest of it (from the calling function on) is not
 * checked.  Exits 1 if a check had failed, 0 if some checks ran and all
 * passed (a partial run, reported as such), 77 if none ran. */
#define T_SKIP(...) t_skip(__FILE__, __func__, __VA_ARGS__)
#define T_DONE() t_done(__FILE__)

int t_done(const char *file);
_Noreturn void t_skip(const char *file, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records checks that cannot run here (missing data or tool) and goes on:
 * prints "not checked: WHAT"; the test still passes if all that ran passed. */
void t_not_checked(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The reference data directory: env SHARED, else ../shared. */
const char *t_shared_dir(void);
/* Path under the reference data; if absent, T_SKIP naming the file and the
 * function whose checks (and every later one) did not run. */
#define t_shared(rel) t_shared_at((rel), __FILE__, __func__)
const char *t_shared_at(const char *rel, const char *file, const char *func);
/* Path under the reference data, or NULL after t_not_checked("WHAT (needs
 * PATH, absent)") — for checks the test can leave out and go on. */
const char *t_shared_or(const char *rel, const char *what);
/* Path under the models directory (env MODELS); NULL if absent. */
const char *t_models(const char *rel);
/* A fresh temporary directory for this test (removed at exit). */
const char *t_tmpdir(void);

/* .npy (v1.0, little-endian float32, C order) reader for fixtures. */
typedef struct t_npy { int ndim; long shape[8]; long numel; float *data; } t_npy;
int t_npy_load(const char *path, t_npy *out);   /* 0 on success */
void t_npy_free(t_npy *a);

/* Max |a-b| over n floats; *where gets the index. */
float t_max_abs_diff(const float *a, const float *b, long n, long *where);

#endif
