/* facenet compare — distance between the faces of two images. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/engine_opts.h"
#include "cli/faces.h"

static const char *usage =
    "usage: facenet compare [--model M] [--aligned] [--json] A B\n"
    "Prints the Euclidean and cosine distance between the face of image A and the\n"
    "face of image B (the face chosen by --select; with --aligned the images are crops).\n\n"
    "  --aligned          A and B are aligned face crops; no detection\n"
    "  --json             one JSON object: {\"a\",\"b\",\"distance\",\"cosine_distance\"}\n"
    FN_ENGINE_HELP
    "\nexample: facenet compare --model vggface2.pt --aligned a.png b.png\n";

enum { OPT_ALIGNED = OPT_FIRST_LOCAL, OPT_JSON, OPT_HELP };

/* Embed the chosen face of path into emb (dim floats); 1 on failure. */
static int embed_one(fn_engine *e, const char *path, int aligned, fn_select sel, float *emb, fn_face *face)
{
    fn_cli_faces f = {0};
    fn_status s = fn_cli_faces_run(e, path, aligned, 1, &f);
    int rc = 0;
    if (s != FN_OK) rc = fn_cli_fail("compare", s);
    else if (f.n == 0) {
        fprintf(stderr, "facenet compare: %s: no face found\n", path);
        rc = 1;
    } else {
        int k = fn_select_face(f.faces, f.n, sel, f.img.w, f.img.h);
        memcpy(emb, f.emb + (size_t)k * fn_engine_dim(e), sizeof(float) * fn_engine_dim(e));
        *face = f.faces[k];
    }
    fn_cli_faces_free(&f);
    return rc;
}

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
    if (fn_cli_engine_open(&ce, "compare", &e)) return 1;
    int dim = fn_engine_dim(e);
    float *a = calloc((size_t)dim * 2, sizeof(float)), *b = a + dim;
    fn_face fa, fb;
    int rc = !a || embed_one(e, argv[optind], aligned, ce.select, a, &fa) ||
             embed_one(e, argv[optind + 1], aligned, ce.select, b, &fb);
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
