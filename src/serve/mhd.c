/* mhd.c — libmicrohttpd opened by soname when the server starts. */
#define FN_MHD_IMPL
#include "mhd.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MHD_SONAME "libmicrohttpd.so.12"

fn_mhd_lib fn_srv_mhd;
static char error[400];
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(error, sizeof error, "%s cannot be loaded (%s); install it (Debian: apt install libmicrohttpd12)",
                 MHD_SONAME, why ? why : "not found");
        return;
    }
#define FN_MHD_FIND(name)                                                                    \
    {                                                                                        \
        void *p = dlsym(h, #name);                                                           \
        if (!p) {                                                                            \
            snprintf(error, sizeof error, "%s has no function %s", MHD_SONAME, #name);      \
            return;                                                                          \
        }                                                                                    \
        memcpy(&fn_srv_mhd.name, &p, sizeof p);                                              \
    }
    FN_MHD_FUNCTIONS(FN_MHD_FIND)
#undef FN_MHD_FIND
    loaded = 1;
}

int fn_srv_mhd_load(char *why, size_t cap)
{
    pthread_once(&once, load);
    if (loaded) return 0;
    snprintf(why, cap, "%s", error);
    return -1;
}
