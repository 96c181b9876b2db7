/* facenet compare — distance between the faces of two images. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"

static const char *usage =
    "usage: facenet compare [--model M] [--aligned] [--json] A B\n"
    "Prints the Euclidean and cosine distance between the face of image A and the\n"
    "face of image B (the face chosen by --select; with --aligned the images are crops).\n\n"
    "  --aligned          A and B are aligned face crops; no detection\n"
    "  --json             one JSON object: {\"a\",\"b\",\"distance\",\"cosine_distance\"}\n"
    FN_ENGINE_HELP
    "\nexample: facenet compare --model vggface2.pt --aligned a.png b.png\n";

enum { OPT_ALIGNED = OPT_FIRST_LOCAL, OPT_JSON, OPT_HELP };

int fn_cmd_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        FN_ENGINE_LONGOPTS,
        {"aligned", no_argument, 0, OPT_ALIGNED},
        {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    fn_cli_engine ce;
    fn_cli_engine_init(&ce);
    int aligned = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == OPT_ALIGNED) aligned = 1;
        else if (c == OPT_JSON) json = 1;
        else if (c == OPT_HELP) { fputs(usage, stdout); return 0; }
        else if (c == '?') return fn_cli_usage_error("compare", "bad option");
        else if (fn_cli_engine_option(&ce, "compare", c, optarg)) return 2;
    }
    if (argc - optind != 2) return fn_cli_usage_error("compare", "wants exactly two images");
    fn_engine *e = NULL;
    ce.opts.embedder_only = aligned;   /* crops need no detector, nor the bundle */
    if (fn_cli_engine_open(&ce, "compare", &e)) return 1;
    int dim = fn_engine_dim(e);
    float *a = calloc((size_t)dim * 2, sizeof(float)), *b = a + dim;
    int rc = !a || fn_cli_chosen_embedding("compare", e, argv[optind], aligned, ce.select, a) ||
             fn_cli_chosen_embedding("compare", e, argv[optind + 1], aligned, ce.select, b);
    if (!rc) {
        float d = fn_distance(a, b, dim), cd = fn_cosine_distance(a, b, dim);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "a", argv[optind]);
            cJSON_AddStringToObject(o, "b", argv[optind + 1]);
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
