/* facenet compare — distance between the faces of two images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"

static const fn_cli_use uses[] = {
    FN_USE_H(FN_O_ALIGNED, "A and B are aligned face crops; no detection"),
    FN_USE_H(FN_O_JSON, "one JSON object: {a, b, distance, cosine_distance, model}"),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "compare",
    .usage = (const char *const[]){"[--model M] [--aligned] [--json] A B", NULL},
    .description = "Prints the Euclidean and cosine distance between the face of image A and the\n"
                   "face of image B (the face chosen by --select; with --aligned the images are crops).",
    .opts = uses, .min_args = 2, .max_args = 2, .args_name = "A B (two images)",
    .examples = (const char *const[]){"facenet compare a.jpg b.jpg",
                                      "facenet compare --model vggface2.pt --aligned a.png b.png", NULL},
};

int fn_cmd_compare(int argc, char **argv)
{
    fn_cli_args args;
    fn_cli_engine ce;
    int c;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &args, &c)) return c;
    int aligned = fn_cli_flag(&args, FN_O_ALIGNED), json = fn_cli_flag(&args, FN_O_JSON);
    char **pos = args.pos;
    fn_engine *e = NULL;
    ce.opts.embedder_only = aligned;   /* crops need no detector, nor the bundle */
    if (fn_cli_engine_open(&ce, "compare", &e)) return 1;
    int dim = fn_engine_dim(e);
    float *a = calloc((size_t)dim * 2, sizeof(float)), *b = a + dim;
    int rc = !a || fn_cli_chosen_embedding("compare", e, pos[0], aligned, ce.select, a) ||
             fn_cli_chosen_embedding("compare", e, pos[1], aligned, ce.select, b);
    if (!rc) {
        float d = fn_distance(a, b, dim), cd = fn_cosine_distance(a, b, dim);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "a", pos[0]);
            cJSON_AddStringToObject(o, "b", pos[1]);
            cJSON_AddNumberToObject(o, "distance", d);
            cJSON_AddNumberToObject(o, "cosine_distance", cd);
            cJSON_AddStringToObject(o, "model", fn_engine_model_id(e));
            fn_cli_emit(o);
        } else {
            printf("euclidean distance %.6f\ncosine distance    %.6f\n", d, cd);
        }
    }
    free(a);
    fn_engine_free(e);
    return rc;
}
