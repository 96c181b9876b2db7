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

static int parse_float(const char *s, float *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end) return -1;
    *out = (float)v;
    return 0;
}

int fn_cli_engine_option(fn_cli_engine *ce, const char *verb, int code, const char *arg)
{
    switch (code) {
    case OPT_MODEL: ce->opts.model = arg; return 0;
    case OPT_MODELS_DIR: ce->opts.models_dir = arg; return 0;
    case OPT_MTCNN_DIR: ce->opts.mtcnn_dir = arg; return 0;
    case OPT_MIN_FACE:
        if (parse_float(arg, &ce->opts.min_face) || ce->opts.min_face < 12)
            return fn_cli_usage_error(verb, "--min-face wants a number of pixels >= 12, got '%s'", arg);
        return 0;
    case OPT_FACTOR:
        if (parse_float(arg, &ce->opts.factor) || ce->opts.factor <= 0.1f || ce->opts.factor >= 0.99f)
            return fn_cli_usage_error(verb, "--factor wants a number between 0.1 and 0.99, got '%s'", arg);
        return 0;
    case OPT_THRESHOLDS: {
        float t[3];
        if (sscanf(arg, "%f,%f,%f", &t[0], &t[1], &t[2]) != 3 || t[0] < 0 || t[0] > 1 || t[1] < 0 || t[1] > 1 ||
            t[2] < 0 || t[2] > 1)
            return fn_cli_usage_error(verb, "--thresholds wants three probabilities a,b,c, got '%s'", arg);
        memcpy(ce->opts.thresholds, t, sizeof t);
        return 0;
    }
    case OPT_SELECT:
        if (!strcmp(arg, "prob")) ce->select = FN_SELECT_PROB;
        else if (!strcmp(arg, "largest")) ce->select = FN_SELECT_LARGEST;
        else if (!strcmp(arg, "center")) ce->select = FN_SELECT_CENTER;
        else return fn_cli_usage_error(verb, "--select wants prob, largest or center, got '%s'", arg);
        return 0;
    }
    return fn_cli_usage_error(verb, "unknown option");
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
