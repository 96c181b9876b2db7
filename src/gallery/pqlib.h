/* pqlib.h — libpq (PostgreSQL's client), loaded when the first
 * postgresql:// gallery is opened (dlopen by soname), never linked: libpq
 * brings ~30 libraries (TLS, Kerberos, LDAP...) that every command would
 * otherwise load at start.  As src/nn/mathlib.h does for oneDNN, the calls
 * in the including file go through one table typed from libpq-fe.h, filled
 * once per process; fn_pqlib_load() must succeed before the first call
 * (fn_gpg_open does).  Private to src/gallery.
 */
#ifndef FN_GALLERY_PQLIB_H
#define FN_GALLERY_PQLIB_H

#include <libpq-fe.h>

#include "facenet/core.h"

#define FN_PQ_FUNCTIONS(X)                                                                                       \
    X(PQclear) X(PQgetvalue) X(PQexec) X(PQntuples) X(PQstatus) X(PQgetlength) X(PQresultStatus)               \
    X(PQexecParams) X(PQsetNoticeProcessor) X(PQresultErrorMessage) X(PQreset) X(PQnotifies) X(PQfreemem)      \
    X(PQfinish) X(PQerrorMessage) X(PQconsumeInput) X(PQconnectdb) X(PQbackendPID)   \
    X(PQconnectdbParams) X(PQpingParams) X(PQresetStart) X(PQresetPoll) X(PQsocket)

#define FN_PQ_MEMBER(name) __typeof__(&name) name;
typedef struct fn_pqlib {
    FN_PQ_FUNCTIONS(FN_PQ_MEMBER)
} fn_pqlib;
#undef FN_PQ_MEMBER

/* libpq loaded (once per process; the first outcome is kept).
 * FN_ERR_UNSUPPORTED naming the library and the package to install. */
fn_status fn_pqlib_load(void);
/* The table (valid after fn_pqlib_load returned FN_OK). */
const fn_pqlib *fn_pqlib_get(void);

#ifndef FN_PQLIB_IMPL
#define PQclear (fn_pqlib_get()->PQclear)
#define PQgetvalue (fn_pqlib_get()->PQgetvalue)
#define PQexec (fn_pqlib_get()->PQexec)
#define PQntuples (fn_pqlib_get()->PQntuples)
#define PQstatus (fn_pqlib_get()->PQstatus)
#define PQgetlength (fn_pqlib_get()->PQgetlength)
#define PQresultStatus (fn_pqlib_get()->PQresultStatus)
#define PQexecParams (fn_pqlib_get()->PQexecParams)
#define PQsetNoticeProcessor (fn_pqlib_get()->PQsetNoticeProcessor)
#define PQresultErrorMessage (fn_pqlib_get()->PQresultErrorMessage)
#define PQreset (fn_pqlib_get()->PQreset)
#define PQnotifies (fn_pqlib_get()->PQnotifies)
#define PQfreemem (fn_pqlib_get()->PQfreemem)
#define PQfinish (fn_pqlib_get()->PQfinish)
#define PQerrorMessage (fn_pqlib_get()->PQerrorMessage)
#define PQconsumeInput (fn_pqlib_get()->PQconsumeInput)
#define PQconnectdb (fn_pqlib_get()->PQconnectdb)
#define PQbackendPID (fn_pqlib_get()->PQbackendPID)
#define PQconnectdbParams (fn_pqlib_get()->PQconnectdbParams)
#define PQpingParams (fn_pqlib_get()->PQpingParams)
#define PQresetStart (fn_pqlib_get()->PQresetStart)
#define PQresetPoll (fn_pqlib_get()->PQresetPoll)
#define PQsocket (fn_pqlib_get()->PQsocket)
#endif

#endif
