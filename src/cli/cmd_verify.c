/* facenet verify — are the faces of two images the same person? */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"

static const char *usage =
    "usage: facenet verify [--model M] [--threshold T] [--json] A B\n"
    "Same person or not: the distance between the chosen face of A and of B against\n"
    "the threshold (the model's default, chosen on LFW DevTrain, unless given).\n"
    "Exit status: 0 same person, 3 different people, 1 error.\n\n"
    "  --threshold T      Euclidean distance at or below which faces match\n"
    "  --json             {\"a\",\"b\",\"same\",\"distance\",\"threshold\"}\n"
    FN_ENGINE_HELP
    "\nexample: facenet verify --select center a.jpg b.jpg\n";

enum { OPT_THRESHOLD = OPT_FIRST_LOCAL, OPT_JSON, OPT_HELP };

int fn_cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        FN_ENGINE_LONGOPTS,
        {"threshold", required_argument, 0, OPT_THRESHOLD},
        {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    fn_cli_engine ce;
    fn_cli_engine_init(&ce);
    float threshold = -1;
    int json = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_THRESHOLD) {
            char *end;
            threshold = strtof(optarg, &end);
            if (*end || end == optarg || threshold < 0)
                return fn_cli_usage_error("verify", "--threshold wants a distance >= 0, got '%s'", optarg);
        } else if (opt == OPT_JSON) json = 1;
        else if (opt == OPT_HELP) { fputs(usage, stdout); return 0; }
        else if (opt == '?') return fn_cli_usage_error("verify", "bad option");
        else if (fn_cli_engine_option(&ce, "verify", opt, optarg)) return 2;
    }
    if (argc - optind != 2) return fn_cli_usage_error("verify", "wants exactly two images");
    fn_engine *e = NULL;
    if (fn_cli_engine_open(&ce, "verify", &e)) return 1;
    int dim = fn_engine_dim(e);
    float *a = calloc((size_t)dim * 2, sizeof(float)), *b = a + dim;
    int rc = !a || fn_cli_chosen_embedding("verify", e, argv[optind], 0, ce.select, a) ||
             fn_cli_chosen_embedding("verify", e, argv[optind + 1], 0, ce.select, b);
    if (!rc) {
        float t = threshold >= 0 ? threshold : fn_engine_threshold(e);
        float d = fn_distance(a, b, dim);
        int same = d <= t;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "a", argv[optind]);
            cJSON_AddStringToObject(o, "b", argv[optind + 1]);
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
