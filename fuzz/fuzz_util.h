/* fuzz_util.h — helpers shared by the libFuzzer targets in fuzz/.
 * Owns: the per-process scratch file (parsers that only take a path get the
 * input written there, and it is removed after each input) and the checks
 * every target makes of the library's contract on bad input.
 */
#ifndef FN_FUZZ_UTIL_H
#define FN_FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "facenet.h"

/* A path of this process in $TMPDIR (or /tmp) ending in suffix, with the
 * input's bytes in it.  The same path every input: fz_unlink it after. */
static inline const char *fz_write_tmp(const uint8_t *data, size_t size, const char *suffix, char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/fnfuzz-%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); abort(); }
    if (size && fwrite(data, 1, size, f) != size) { perror(path); abort(); }
    if (fclose(f) != 0) { perror(path); abort(); }
    return path;
}

/* Remove the scratch file and the files SQLite may have made beside it. */
static inline void fz_unlink(const char *path)
{
    static const char *const extra[] = {"", "-wal", "-shm", "-journal"};
    char p[4200];
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) {
        snprintf(p, sizeof p, "%s%s", path, extra[i]);
        unlink(p);
    }
}

/* The library's contract on bad input: a failure comes with a sentence for
 * fn_last_error().  A failure without one is a bug: abort so libFuzzer keeps it.
 * FUZZ_VERBOSE=1 prints every call's outcome (to see what seeds reach). */
static inline void fz_check_failure(fn_status s, const char *call)
{
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "%s: %s%s%s\n", call, fn_status_name(s),
                                        s == FN_OK ? "" : ": ", s == FN_OK ? "" : fn_last_error());
    if (s == FN_OK) return;
    const char *msg = fn_last_error();
    if (!msg || !*msg) {
        fprintf(stderr, "%s failed (%s) without a message for fn_last_error()\n", call, fn_status_name(s));
        abort();
    }
}

/* Read every float so ASan sees any out-of-bounds tensor; NaN/Inf are data, not bugs. */
static inline float fz_touch(const float *p, int64_t n)
{
    volatile float acc = 0;
    for (int64_t i = 0; i < n; i++) acc += p[i] * 0.0f;
    return acc;
}

#define FZ_ASSERT(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)

#endif
