/* error.h — status codes and the per-thread error sentence.
 * Owns: the thread-local message behind fn_last_error().  Library code
 * never prints or exits; it returns fn_fail(code, "file: what is wrong").
 * Also the library's one fork handler (error.c, since every program that
 * uses the library links this file, from libfacenet.a too): the child of a
 * fork() computes on one thread (include/facenet/core.h, "Threads").
 */
#ifndef FN_CORE_ERROR_H
#define FN_CORE_ERROR_H

#include "facenet.h"

/* fn_fail and fn_fail_prefix are public (include/facenet/core.h). */
void fn_clear_error(void);

#define FN_TRY(expr) do { fn_status s_ = (expr); if (s_ != FN_OK) return s_; } while (0)

#endif
