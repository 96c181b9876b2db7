/* facenet embed — one embedding per face, as text or JSON Lines. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"

static const char *usage =
    "usage: facenet embed [--model M] [--aligned] [--json] IMAGE|DIR...\n"
    "Embeds every face of each image (detect, align, embed).  With --aligned each\n"
    "image is taken as an already aligned face crop (160x160 for FaceNet, 112x112\n"
    "for MobileFaceNet).\n\n"
    "  --aligned          images are face crops; no detection\n"
    "  --json             one JSON object per face: {\"file\",\"embedding\"[,\"box\",\"prob\"]}\n"
    FN_ENGINE_HELP
    "\nexample: facenet embed --model ~/.cache/torch/checkpoints/20180402-114759-vggface2.pt --aligned --json crop.png\n";

enum { OPT_ALIGNED = OPT_FIRST_LOCAL, OPT_JSON, OPT_HELP };

static void print_face(const char *file, const fn_faces *f, int i, int dim, int aligned, int json)
{
    const float *v = f->emb + (size_t)i * dim;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", file);
        if (!aligned) {
            cJSON_AddNumberToObject(o, "face", i);
            cJSON_AddItemToObject(o, "box", fn_cli_box(f->faces[i].box));
            cJSON_AddNumberToObject(o, "prob", f->faces[i].prob);
        }
        cJSON_AddItemToObject(o, "embedding", fn_cli_float_array(v, dim));
        fn_cli_emit(o);
        return;
    }
    printf("%s", file);
    if (!aligned) printf(" face %d box [%.0f %.0f %.0f %.0f] prob %.4f", i, f->faces[i].box[0], f->faces[i].box[1],
                         f->faces[i].box[2], f->faces[i].box[3], f->faces[i].prob);
    printf(" %d-d [%.5f %.5f %.5f %.5f ...]\n", dim, v[0], v[1], v[2], v[3]);
}

int fn_cmd_embed(int argc, char **argv)
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
        else if (c == '?') return fn_cli_usage_error("embed", "bad option");
        else if (fn_cli_engine_option(&ce, "embed", c, optarg)) return 2;
    }
    if (optind >= argc) return fn_cli_usage_error("embed", "no image given");
    fn_pathlist files = {0};
    if (fn_cli_collect_images(argv + optind, argc - optind, &files)) return 1;
    fn_engine *e = NULL;
    ce.opts.embedder_only = aligned;   /* crops need no detector, nor the bundle */
    if (fn_cli_engine_open(&ce, "embed", &e)) { fn_pathlist_free(&files); return 1; }
    int dim = fn_engine_dim(e), failures = 0;
    fn_faces f = {0};
    fn_progress prog;
    fn_progress_start(&prog, "embedding", files.count);
    for (int i = 0; i < files.count; i++) {
        fn_status s = fn_faces_run(e, files.items[i], aligned, 1, &f);
        fn_progress_step(&prog, files.items[i]);
        if (s != FN_OK) {
            fn_progress_end(&prog);
            fn_cli_fail("embed", s);
            failures++;
            continue;
        }
        if (f.n == 0 && !json) printf("%s: no face\n", files.items[i]);
        for (int k = 0; k < f.n; k++) print_face(files.items[i], &f, k, dim, aligned, json);
    }
    fn_progress_end(&prog);
    fn_faces_free(&f);
    fn_engine_free(e);
    fn_pathlist_free(&files);
    return failures ? 1 : 0;
}
