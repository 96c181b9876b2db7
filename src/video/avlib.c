/* avlib.c — FFmpeg's libraries opened by soname on first use and their
 * functions looked up into one table (see avlib.h).  The table is library
 * initialisation, written once under pthread_once and only read after. */
#include "video/avlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dl.h"
#include "core/error.h"

#define FN_SONAME(lib, major) "lib" #lib ".so." AV_STRINGIFY(major)

typedef struct avlib_state {
    fn_avlib table;
    fn_status status;
    char error[600];
} avlib_state;

static avlib_state core_libs;      /* avutil, avcodec, avformat, swscale */
static avlib_state device_lib;     /* avdevice */

/* dlopen soname; 0 and the sentence in st->error when it cannot be. */
static void *open_lib(avlib_state *st, const char *soname, const char *package)
{
    const char *why = NULL;
    void *h = fn_dlopen(soname, &why);
    if (!h) {
        snprintf(st->error, sizeof st->error,
                 "video needs FFmpeg's %s, which cannot be loaded (%s); install it (Debian: apt install %s)",
                 soname, why, package);
        st->status = FN_ERR_UNSUPPORTED;
    }
    return h;
}

static void *find(avlib_state *st, void *lib, const char *soname, const char *name)
{
    void *f = dlsym(lib, name);
    if (!f && st->status == FN_OK) {
        snprintf(st->error, sizeof st->error, "%s has no function %s (an FFmpeg other than the one facenet was built for)",
                 soname, name);
        st->status = FN_ERR_UNSUPPORTED;
    }
    return f;
}

static void load_core(void)
{
    avlib_state *st = &core_libs;
    static const char *const so[4] = {FN_SONAME(avutil, LIBAVUTIL_VERSION_MAJOR),
                                      FN_SONAME(avcodec, LIBAVCODEC_VERSION_MAJOR),
                                      FN_SONAME(avformat, LIBAVFORMAT_VERSION_MAJOR),
                                      FN_SONAME(swscale, LIBSWSCALE_VERSION_MAJOR)};
    static const char *const pkg[4] = {"libavutil" AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR),
                                       "libavcodec" AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR),
                                       "libavformat" AV_STRINGIFY(LIBAVFORMAT_VERSION_MAJOR),
                                       "libswscale" AV_STRINGIFY(LIBSWSCALE_VERSION_MAJOR)};
    void *h[4];
    for (int i = 0; i < 4; i++)
        if (!(h[i] = open_lib(st, so[i], pkg[i]))) return;
    void *const avutil = h[0], *const avcodec = h[1], *const avformat = h[2], *const swscale = h[3];
    const char *const avutil_so = so[0], *const avcodec_so = so[1], *const avformat_so = so[2], *const swscale_so = so[3];
#define FN_AV_FIND(lib, name) st->table.name = (__typeof__(&name))find(st, lib, lib##_so, #name);
    FN_AV_FUNCTIONS(FN_AV_FIND)
#undef FN_AV_FIND
    if (st->status != FN_OK) return;
    /* FFmpeg's own logging off: the library never prints, failures come
     * back as sentences. */
    st->table.av_log_set_level(AV_LOG_QUIET);
}

static void load_devices(void)
{
    avlib_state *st = &device_lib;
    const char *soname = FN_SONAME(avdevice, LIBAVDEVICE_VERSION_MAJOR);
    void *h = open_lib(st, soname, "libavdevice" AV_STRINGIFY(LIBAVDEVICE_VERSION_MAJOR));
    if (!h) return;
    __typeof__(&avdevice_register_all) register_all = (__typeof__(&avdevice_register_all))find(st, h, soname, "avdevice_register_all");
    if (register_all) register_all();
}

fn_status fn_avlib_get(const fn_avlib **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_core);
    *out = core_libs.status == FN_OK ? &core_libs.table : NULL;
    return core_libs.status == FN_OK ? FN_OK : fn_fail(core_libs.status, "%s", core_libs.error);
}

fn_status fn_avlib_devices(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_devices);
    return device_lib.status == FN_OK ? FN_OK : fn_fail(device_lib.status, "%s", device_lib.error);
}
