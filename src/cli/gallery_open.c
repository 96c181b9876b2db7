#include "cli/gallery_open.h"

#include "cli/common.h"

int fn_cli_gallery_open(const char *verb, const char *path, fn_engine *e, int flags, fn_gallery **out)
{
    fn_gallery_model m = {0};
    if (e) {
        m.model_id = fn_engine_model_id(e);
        m.dim = fn_engine_dim(e);
        m.preprocess_id = fn_engine_preprocess_id(e);
    }
    fn_status s = fn_gallery_open(path, &m, flags, out);
    return s == FN_OK ? 0 : fn_cli_fail(verb, s);
}

float fn_cli_threshold(fn_gallery *g, fn_engine *e, float explicit_t, const char **source)
{
    float t;
    if (explicit_t >= 0) {
        *source = "--threshold";
        return explicit_t;
    }
    if (g && fn_gallery_get_threshold(g, &t) == FN_OK) {
        *source = "gallery (calibrated)";
        return t;
    }
    *source = "model default";
    return fn_engine_threshold(e);
}
