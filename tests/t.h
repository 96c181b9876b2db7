/* t.h — the tiny test harness: checks that print what differed and where.
 * A test binary exits 0 (all passed), 1 (a check failed) or 77 (skipped,
 * e.g. ../shared is absent), and prints one line per check group.
 */
#ifndef FN_TESTS_T_H
#define FN_TESTS_T_H

#include <stdio.h>
#include <stdlib.h>

extern int t_failures, t_checks;

#define T_CHECK(cond, ...) do { t_checks++; if (!(cond)) { t_failures++; \
    fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define T_SKIP(...) do { fprintf(stdout, "SKIP: "); fprintf(stdout, __VA_ARGS__); fputc('\n', stdout); exit(77); } while (0)
#define T_DONE() t_done(__FILE__)

int t_done(const char *file);
/* Path under ../shared (env SHARED overrides); skips the test if absent. */
const char *t_shared(const char *rel);
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
