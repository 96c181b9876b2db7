/* pqlib.c — libpq opened by soname on first use (see pqlib.h). */
#define FN_PQLIB_IMPL
#include "gallery/pqlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/dl.h"
#include "core/error.h"

#define FN_PQ_SONAME "libpq.so.5"

static fn_pqlib table;
static fn_status status = FN_ERR_UNSUPPORTED;
static char error[600];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    const char *why = NULL;
    void *h = fn_dlopen(FN_PQ_SONAME, &why);
    if (!h) {
        snprintf(error, sizeof error,
                 "a postgresql:// gallery needs PostgreSQL's client library %s, which cannot be loaded (%s); "
                 "install it (Debian: apt install libpq5)",
                 FN_PQ_SONAME, why);
        return;
    }
    const char *missing = NULL;
#define FN_FIND(name)                                \
    {                                                \
        void *p = dlsym(h, #name);                   \
        if (!p && !missing) missing = #name;         \
        memcpy(&table.name, &p, sizeof p);           \
    }
    FN_PQ_FUNCTIONS(FN_FIND)
#undef FN_FIND
    if (missing) {
        snprintf(error, sizeof error, "%s has no function %s (a libpq older than facenet was built for)", FN_PQ_SONAME,
                 missing);
        return;
    }
    status = FN_OK;
}

fn_status fn_pqlib_load(void)
{
    pthread_once(&once, load);
    return status == FN_OK ? FN_OK : fn_fail(status, "%s", error);
}

const fn_pqlib *fn_pqlib_get(void)
{
    pthread_once(&once, load);
    return &table;
}
