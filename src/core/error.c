#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
