/* threshold.c — where the engine meets the gallery: the model a gallery must
 * be built with, and the rule that picks the decision threshold (the
 * caller's, else the gallery's calibrated one, else the model's default). */
#include "facenet/gallery.h"

fn_gallery_model fn_gallery_model_of_engine(const fn_engine *e)
{
    fn_gallery_model m = {0};
    if (e) {
        m.model_id = fn_engine_model_id(e);
        m.dim = fn_engine_dim(e);
        m.preprocess_id = fn_engine_preprocess_id(e);
    }
    return m;
}

float fn_decision_threshold(fn_gallery *g, const fn_engine *e, float explicit_threshold, fn_threshold_source *source)
{
    fn_threshold_source src = FN_THRESHOLD_MODEL;
    float t = fn_engine_threshold(e);
    float stored;
    if (explicit_threshold >= 0) {
        src = FN_THRESHOLD_EXPLICIT;
        t = explicit_threshold;
    } else if (g && fn_gallery_get_threshold(g, &stored) == FN_OK) {
        src = FN_THRESHOLD_GALLERY;
        t = stored;
    }
    if (source) *source = src;
    return t;
}

const char *fn_threshold_source_name(fn_threshold_source s)
{
    return s == FN_THRESHOLD_EXPLICIT ? "explicit" : s == FN_THRESHOLD_GALLERY ? "gallery (calibrated)" : "model default";
}
