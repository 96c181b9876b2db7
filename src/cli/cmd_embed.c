/* facenet embed — one embedding per face, as text or JSON Lines. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "bulk.h"
#include "faces.h"

static const fn_cli_use uses[] = {
    FN_USE(FN_O_ALIGNED),
    FN_USE_H(FN_O_JSON, "JSON Lines: one object per face {file, status: \"ok\", face, box, prob, embedding}; "
                        "one per file "
     "without a face or unreadable {file, status, error}"),
    FN_USE(FN_O_VERBOSE),
    FN_USE_D(FN_O_JOBS, "0", NULL),
    FN_USE_D(FN_O_BATCH, "32", NULL),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "embed",
    .usage = (const char *const[]){"[--model M] [--aligned] [--json] IMAGE|DIR...", NULL},
    .description =
        "Embeds every face of each image (detect, align, embed).  With --aligned each\n"
        "image is taken as an already aligned face crop (160x160 for FaceNet, 112x112\n"
        "for MobileFaceNet).  Every input file is accounted for (faces, no face, or an\n"
        "error naming it); files in the folders that are not images are reported as skipped.\n"
        "Many files are decoded and detected on every CPU at once and their faces embedded\n"
        "in batches (--jobs, --batch); the output keeps the input order.",
    .opts = uses, .min_args = 1, .max_args = -1, .args_name = "IMAGE|DIR...",
    .examples = (const char *const[]){
        "facenet embed --json photos/",
        "facenet embed --model ~/.cache/torch/checkpoints/20180402-114759-vggface2.pt --aligned --json crop.png",
        NULL},
};

static void print_face(const char *file, const fn_faces *f, int i, int dim, int aligned, int json)
{
    const float *v = f->emb + (size_t)i * dim;
    if (json) {
        cJSON *o = fn_cli_file_record(file, FN_ST_OK, NULL);
        if (!aligned) {
            cJSON_AddNumberToObject(o, "face", i);
            cJSON_AddItemToObject(o, "box", fn_cli_box(f->faces[i].box));
            cJSON_AddNumberToObject(o, "prob", f->faces[i].prob);
            fn_cli_face_edge(o, &f->faces[i], f->img.w, f->img.h);
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
    fn_cli_args a;
    fn_cli_engine ce;
    int rc;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &a, &rc)) return rc;
    int aligned = fn_cli_flag(&a, FN_O_ALIGNED), json = fn_cli_flag(&a, FN_O_JSON);
    fn_pathlist files = {0}, skipped = {0};
    if (fn_cli_collect_images(a.pos, a.npos, &files, &skipped)) return 1;
    fn_cli_report_skipped("embed", &skipped, json, fn_cli_flag(&a, FN_O_VERBOSE));
    fn_pathlist_free(&skipped);
    fn_engine *e = NULL;
    ce.opts.embedder_only = aligned;   /* crops need no detector, nor the bundle */
    if (fn_cli_engine_open(&ce, "embed", &e)) { fn_pathlist_free(&files); return 1; }
    int dim = fn_engine_dim(e), failures = 0;
    fn_cli_bulk k;
    if (fn_cli_bulk_start(&k, "embed", e, &a, files.items, files.count, aligned, 1)) {
        fn_engine_free(e);
        fn_pathlist_free(&files);
        return 1;
    }
    fn_progress prog;
    fn_progress_start(&prog, "embedding", files.count);
    fn_cli_bulk_item it;
    int done = 0;
    while (!fn_cli_bulk_next(&k, "embed", &it)) {
        done++;
        fn_progress_step(&prog, it.path);
        if (it.status != FN_OK) {
            fn_progress_end(&prog);
            if (json) fn_cli_emit(fn_cli_file_record(it.path, it.loaded ? "error" : fn_cli_load_status(it.path),
                                                     it.error));
            fn_cli_error("embed", "%s", it.error);
            failures++;
            continue;
        }
        const fn_faces *f = it.faces;
        fn_cli_image_warning("embed", f, NULL);
        if (f->n == 0 && json) fn_cli_emit(fn_cli_file_record(it.path, FN_ST_NO_FACE, NULL));
        else if (f->n == 0) printf("%s: no face\n", it.path);
        for (int j = 0; j < f->n; j++) print_face(it.path, f, j, dim, aligned, json);
    }
    failures += files.count - done;
    fn_cli_bulk_end(&k);
    fn_progress_end(&prog);
    fn_engine_free(e);
    fn_pathlist_free(&files);
    return failures ? 1 : 0;
}
