/* error.h — status codes and the per-thread error sentence.
 * Owns: the thread-local message behind fn_last_error().  Library code
 * never prints or exits; it returns fn_fail(code, "file: what is wrong").
 */
#ifndef FN_CORE_ERROR_H
#define FN_CORE_ERROR_H

#include "facenet.h"

#if defined(__GNUC__)
#define FN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FN_PRINTF(a, b)
#endif

/* Record a formatted message for fn_last_error() and return code. */
fn_status fn_fail(fn_status code, const char *fmt, ...) FN_PRINTF(2, 3);
/* Prefix the current message with "prefix: " (adds context on the way up). */
fn_status fn_fail_prefix(fn_status code, const char *fmt, ...) FN_PRINTF(2, 3);
void fn_clear_error(void);

#define FN_TRY(expr) do { fn_status s_ = (expr); if (s_ != FN_OK) return s_; } while (0)

#endif
