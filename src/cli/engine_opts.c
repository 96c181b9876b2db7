#include "engine_opts.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

void fn_cli_engine_init(fn_cli_engine *ce)
{
    memset(ce, 0, sizeof *ce);
    fn_options_init(&ce->opts);
    ce->select = FN_SELECT_PROB;
}

void fn_cli_engine_from_args(fn_cli_engine *ce, const fn_cli_args *a)
{
    static const fn_select selects[] = {FN_SELECT_PROB, FN_SELECT_LARGEST, FN_SELECT_CENTER};   /* the table's order */
    if (fn_cli_given(a, FN_O_MODEL)) ce->opts.model = fn_cli_str(a, FN_O_MODEL);
    if (fn_cli_given(a, FN_O_MODELS_DIR)) ce->opts.models_dir = fn_cli_str(a, FN_O_MODELS_DIR);
    if (fn_cli_given(a, FN_O_MTCNN_DIR)) ce->opts.mtcnn_dir = fn_cli_str(a, FN_O_MTCNN_DIR);
    if (fn_cli_given(a, FN_O_MIN_FACE)) ce->opts.min_face = (float)a->v[FN_O_MIN_FACE].f;
    if (fn_cli_given(a, FN_O_FACTOR)) ce->opts.factor = (float)a->v[FN_O_FACTOR].f;
    if (fn_cli_given(a, FN_O_THRESHOLDS)) memcpy(ce->opts.thresholds, a->v[FN_O_THRESHOLDS].fl, sizeof(float) * 3);
    if (fn_cli_given(a, FN_O_SELECT)) ce->select = selects[a->v[FN_O_SELECT].e];
    if (fn_cli_given(a, FN_O_DETECTOR))   /* the table's order: mtcnn, haar */
        ce->opts.detector = a->v[FN_O_DETECTOR].e == 1 ? FN_DETECTOR_HAAR : FN_DETECTOR_MTCNN;
    if (fn_cli_given(a, FN_O_CASCADE)) ce->opts.cascade = fn_cli_str(a, FN_O_CASCADE);
}

int fn_cli_engine_parse(fn_cli_engine *ce, const fn_cli_spec *spec, int argc, char **argv, fn_cli_args *a,
                        int *exit_code)
{
    fn_cli_engine_init(ce);
    if (fn_cli_parse(spec, argc, argv, a, exit_code)) return 1;
    fn_cli_engine_from_args(ce, a);
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --models-dir, then $FACENET_MODELS, then ./models, then models/ beside
 * the executable (so an installed or symlinked facenet finds its bundle). */
static void resolve_models_dir(fn_cli_engine *ce)
{
    const char *env = getenv("FACENET_MODELS");
    if (ce->opts.models_dir) snprintf(ce->models_dir, sizeof ce->models_dir, "%s", ce->opts.models_dir);
    else if (env && *env) snprintf(ce->models_dir, sizeof ce->models_dir, "%s", env);
    else if (is_dir("models")) snprintf(ce->models_dir, sizeof ce->models_dir, "models");
    else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        ce->models_dir[0] = '\0';
        if (n > 0) {
            exe[n] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) *slash = '\0';
            static const char *rel[] = {"models", "../models", "../../models", "../share/facenet/models"};
            for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
                char cand[PATH_MAX + 32];
                snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
                if (is_dir(cand)) {
                    snprintf(ce->models_dir, sizeof ce->models_dir, "%s", cand);
                    break;
                }
            }
        }
        if (!ce->models_dir[0]) snprintf(ce->models_dir, sizeof ce->models_dir, "models");
    }
    ce->opts.models_dir = ce->models_dir;
}

int fn_cli_engine_open(fn_cli_engine *ce, const char *verb, fn_engine **out)
{
    resolve_models_dir(ce);
    fn_status s = fn_engine_new(&ce->opts, out);
    return s == FN_OK ? 0 : fn_cli_fail(verb, s);
}
