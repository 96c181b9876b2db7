#include "core/dl.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static int hidden(const char *soname)
{
    const char *h = getenv("FACENET_HIDE_LIBS");
    while (h && *h) {
        size_t n = strcspn(h, ",");
        if (n > 0 && !strncmp(soname, h, n)) return 1;
        h += n + (h[n] == ',');
    }
    return 0;
}

void *fn_dlopen(const char *soname, const char **why)
{
    if (hidden(soname)) {
        *why = "hidden by FACENET_HIDE_LIBS";
        return NULL;
    }
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        *why = e ? e : "not found";
    }
    return h;
}
