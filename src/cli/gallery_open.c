#include "gallery_open.h"

#include <unistd.h>

#include "common.h"
#include "options.h"

int fn_cli_gallery_open(const char *verb, const char *path, fn_engine *e, int flags, fn_gallery **out)
{
    fn_gallery_model m = fn_gallery_model_of_engine(e);
    fn_status s = fn_gallery_open(path, &m, flags, out);
    return s == FN_OK ? 0 : fn_cli_fail(verb, s);
}

int fn_cli_library_path(const char *verb, const char *path, int must_exist)
{
    if (fn_gallery_is_url(path))
        return fn_cli_usage(verb, "--gallery: a photo library lives in a gallery file, not in PostgreSQL; scan into a "
                                  "file, then share its named people with `facenet gallery copy LIB.db postgresql://...`");
    if (must_exist && access(path, F_OK) != 0)
        return fn_cli_error(verb, "%s: no such photo library (`facenet scan --gallery %s PHOTOS...` makes one)", path,
                            path);
    return 0;
}

float fn_cli_threshold(fn_gallery *g, fn_engine *e, float explicit_t, const char **source)
{
    fn_threshold_source src;
    float t = fn_decision_threshold(g, e, explicit_t, &src);
    *source = src == FN_THRESHOLD_EXPLICIT ? "--threshold" : fn_threshold_source_name(src);
    return t;
}
