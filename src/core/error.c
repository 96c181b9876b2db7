#include "core/error.h"

#include <omp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* libgomp's thread pool does not survive fork(): the child inherits the
 * pool's bookkeeping but not its threads, so the first parallel region of a
 * child whose parent had computed waits for good (Python's multiprocessing
 * "fork" Pool hung so).  In the child the forking thread's OpenMP thread
 * count becomes 1 before anything else runs; every team size of the library
 * comes from omp_get_max_threads(), so no region asks the dead pool for a
 * worker.  A handler, no state: registered once when the library is loaded. */
static void fork_child_one_thread(void) { omp_set_num_threads(1); }

__attribute__((constructor)) static void fork_handler_register(void)
{
    pthread_atfork(NULL, NULL, fork_child_one_thread);
}

/* Thread-local so that handles used from different threads never see each
 * other's failures; it holds only the last sentence, never program state. */
static _Thread_local char last_error[1024];

fn_status fn_fail(fn_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

fn_status fn_fail_prefix(fn_status code, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof last_error - 3) n = sizeof last_error - 3;
    memcpy(last_error, prefix, n);
    memcpy(last_error + n, ": ", 2);
    size_t room = sizeof last_error - n - 3;
    size_t m = strnlen(old, room);
    memcpy(last_error + n + 2, old, m);
    last_error[n + 2 + m] = '\0';
    return code;
}

void fn_clear_error(void) { last_error[0] = '\0'; }

const char *fn_last_error(void) { return last_error; }

const char *fn_status_name(fn_status s)
{
    switch (s) {
    case FN_OK: return "ok";
    case FN_ERR_ARG: return "invalid argument";
    case FN_ERR_IO: return "i/o error";
    case FN_ERR_FORMAT: return "bad format";
    case FN_ERR_UNSUPPORTED: return "unsupported";
    case FN_ERR_LIMIT: return "limit exceeded";
    case FN_ERR_NOMEM: return "out of memory";
    case FN_ERR_MODEL: return "model mismatch";
    case FN_ERR_DB: return "database error";
    case FN_ERR_MISMATCH: return "mismatch";
    case FN_ERR_NOT_FOUND: return "not found";
    case FN_ERR_INTERNAL: return "internal error";
    case FN_ERR_UNAVAILABLE: return "unavailable";
    }
    return "unknown";
}
