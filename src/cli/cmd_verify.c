/* facenet verify — are the faces of two images the same person? */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"

static const fn_cli_use uses[] = {
    FN_USE_T(FN_O_THRESHOLD, "the model's, chosen on LFW DevTrain", "Euclidean distance at or below which faces match"),
    FN_USE_H(FN_O_JSON, "one JSON object: {a, b, same, distance, threshold}"),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "verify",
    .usage = (const char *const[]){"[--model M] [--threshold T] [--json] A B", NULL},
    .description = "Same person or not: the distance between the chosen face of A and of B against\n"
                   "the threshold (the model's default, chosen on LFW DevTrain, unless given).",
    .opts = uses, .min_args = 2, .max_args = 2, .args_name = "A B (two images)",
    .examples = (const char *const[]){"facenet verify --select center a.jpg b.jpg", NULL},
    .exits = (const fn_cli_exit[]){{0, "the same person"},
                                   {1, "failure: an image unreadable or without a face, or the model could not be "
                                       "opened (named on stderr)"},
                                   {3, "different people"},
                                   {0, NULL}},
};

int fn_cmd_verify(int argc, char **argv)
{
    fn_cli_args args;
    fn_cli_engine ce;
    int rc0;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &args, &rc0)) return rc0;
    float threshold = (float)fn_cli_float(&args, FN_O_THRESHOLD, -1);
    int json = fn_cli_flag(&args, FN_O_JSON);
    char **pos = args.pos;
    fn_engine *e = NULL;
    if (fn_cli_engine_open(&ce, "verify", &e)) return 1;
    int dim = fn_engine_dim(e);
    float *a = calloc((size_t)dim * 2, sizeof(float)), *b = a + dim;
    int rc = !a || fn_cli_chosen_embedding("verify", e, pos[0], 0, ce.select, a) ||
             fn_cli_chosen_embedding("verify", e, pos[1], 0, ce.select, b);
    if (!rc) {
        float t = threshold >= 0 ? threshold : fn_engine_threshold(e);
        float d = fn_distance(a, b, dim);
        int same = d <= t;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "a", pos[0]);
            cJSON_AddStringToObject(o, "b", pos[1]);
            cJSON_AddBoolToObject(o, "same", same);
            cJSON_AddNumberToObject(o, "distance", d);
            cJSON_AddNumberToObject(o, "threshold", t);
            fn_cli_emit(o);
        } else {
            printf("%s: distance %.4f, threshold %.4f\n", same ? "same person" : "different people", d, t);
        }
        rc = same ? 0 : 3;
    }
    free(a);
    fn_engine_free(e);
    return rc;
}
