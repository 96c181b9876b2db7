/* facenet/core.h — what every part of libfacenet shares: status codes and the
 * per-thread error sentence, the clock, and content hashes (SHA-256).
 * Every call that can fail returns an fn_status; fn_last_error() then holds one
 * sentence naming the file or thing and what is wrong.  The library never
 * prints and never exits.
 *
 * Threads.  The networks run on OpenMP (libgomp), which reads its settings
 * from the environment once, when it is loaded, before any call of ours.  On
 * a machine other processes share, waiting workers that spin (libgomp's
 * default) take the core those processes need; the `facenet` command sets
 * OMP_WAIT_POLICY=passive before libgomp starts (src/cli/main.c).  A program
 * using the library gets the same by setting it before the library is
 * loaded: in the shell (`OMP_WAIT_POLICY=passive ./app`); the Python package
 * sets it itself before loading libfacenet.so unless the user set a policy or
 * an OpenMP library (torch) was imported first.  Setting
 * it from C inside main is too late (libgomp has started); nothing else is
 * needed, the library works with either policy.
 *
 * fork().  libgomp's threads do not survive a fork, and a child's first
 * parallel region would wait for them for good.  So the library, when
 * loaded, registers a fork handler (pthread_atfork) that gives the child one
 * compute thread: a forked worker (Python's multiprocessing "fork" Pool)
 * computes correctly on one core each.  Workers made without fork (Python's
 * "spawn" context, exec) get every core.  test_fork checks it.
 */
#ifndef FACENET_CORE_H
#define FACENET_CORE_H

#include <stddef.h>
#include <stdint.h>

/* The library's version (the Makefile reads it from here for the soname's
 * file and facenet.pc; the CLI's `facenet version` prints it). */
#define FN_VERSION "0.3.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Declared here = exported from libfacenet.so (the library is compiled with
 * -fvisibility=hidden; `make check-exports` checks both ways). */
#pragma GCC visibility push(default)

#if defined(__GNUC__)
#define FN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FN_PRINTF(a, b)
#endif

typedef enum fn_status {
    FN_OK = 0,
    FN_ERR_ARG,       /* a caller passed something invalid */
    FN_ERR_IO,        /* a file could not be opened, read or written */
    FN_ERR_FORMAT,    /* a file is not what it claims, or is truncated/corrupt */
    FN_ERR_UNSUPPORTED, /* valid file, but a feature we do not handle */
    FN_ERR_LIMIT,     /* input exceeds a safety limit (image size, tensor size) */
    FN_ERR_NOMEM,
    FN_ERR_MODEL,     /* weights do not fit the network (missing tensor, shape) */
    FN_ERR_DB,        /* gallery database error */
    FN_ERR_MISMATCH,  /* e.g. gallery built by another model */
    FN_ERR_NOT_FOUND,
    FN_ERR_INTERNAL,
    FN_ERR_UNAVAILABLE /* a server the call needs (a PostgreSQL gallery's) cannot be reached now: retry later */
} fn_status;

/* The human sentence for the last failure on this thread ("" if none). */
const char *fn_last_error(void);
/* A short constant name for a status code ("FN_ERR_IO"). */
const char *fn_status_name(fn_status s);

/* Record a formatted sentence for fn_last_error() on this thread and return
 * code.  For code that plugs into the library (callbacks of fn_gallery_list,
 * fn_gallery_embeddings) and must report a failure the library's way. */
fn_status fn_fail(fn_status code, const char *fmt, ...) FN_PRINTF(2, 3);
/* Prefix the current sentence with "prefix: " (context on the way up). */
fn_status fn_fail_prefix(fn_status code, const char *fmt, ...) FN_PRINTF(2, 3);

/* The library's one clock: monotonic seconds (CLOCK_MONOTONIC) from an
 * arbitrary origin.  Frame times, latency and progress are measured on it. */
double fn_now(void);

/* SHA-256 (FIPS 180-4) of n bytes of memory as lower-case hex with a NUL. */
void fn_sha256_hex(const void *data, size_t n, char out_hex[65]);
/* SHA-256 of a file's bytes as lower-case hex: the identity of an image in
 * galleries and caches, so the same file under another name is recognised.
 * FN_ERR_IO names the file when it cannot be read. */
fn_status fn_hash_file(const char *path, char out_hex[65]);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
