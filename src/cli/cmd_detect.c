/* facenet detect — faces, boxes and landmarks; optionally their crops. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "bulk.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"
#include "outputs.h"

static const fn_cli_use uses[] = {
    FN_USE_H(FN_O_JSON, "JSON Lines: one object per file "
                        "{file, status, width, height, faces: [{box, prob, landmarks}]}"),
    FN_USE_H(FN_O_CROPS, "write each face's crop (facenet-pytorch's extract_face) as "
                         "DIR/<path below the inputs' folder>_<k>.png"),
    FN_USE_D(FN_O_SIZE, "160", NULL),
    FN_USE_D(FN_O_MARGIN, "0", NULL),
    FN_USE(FN_O_OVERWRITE), FN_USE(FN_O_VERBOSE),
    FN_USE_D(FN_O_JOBS, "0", NULL),
    FN_USE_D(FN_O_BATCH, "32", NULL),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "detect",
    .usage = (const char *const[]){"[--detector mtcnn|haar] [--min-face N] [--json] [--crops DIR] IMAGE|DIR...", NULL},
    .description =
        "Finds faces with MTCNN: box (x1,y1,x2,y2 in pixels), probability and 5 landmarks\n"
        "(left eye, right eye, nose, left and right mouth corner), most probable first.\n"
        "With --detector haar the boxes are OpenCV's detectMultiScale(gray, 1.1, 3) rectangles\n"
        "from the Haar cascade, each with O-Net's probability and landmarks for that box.\n"
        "Every input file is accounted for (faces, no face, or an error naming it); files in\n"
        "the folders that are not .jpg, .jpeg or .png are reported as skipped.",
    .opts = uses, .min_args = 1, .max_args = -1, .args_name = "IMAGE|DIR...",
    .examples = (const char *const[]){"facenet detect --json --crops faces/ group.jpg",
                                      "facenet detect --detector haar --min-face 40 photos/", NULL},
};

static cJSON *face_json(const fn_face *f, int w, int h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "box", fn_cli_box(f->box));
    cJSON_AddNumberToObject(o, "prob", f->prob);
    cJSON *lm = cJSON_CreateArray();
    for (int i = 0; i < 5; i++) cJSON_AddItemToArray(lm, fn_cli_float_array(f->landmarks[i], 2));
    cJSON_AddItemToObject(o, "landmarks", lm);
    fn_cli_face_edge(o, f, w, h);
    return o;
}

static void print_faces(const char *file, const fn_faces *f, int json)
{
    if (json) {
        cJSON *o = fn_cli_file_record(file, f->n ? FN_ST_OK : FN_ST_NO_FACE, NULL);
        fn_cli_image_warning("detect", f, o);
        cJSON_AddNumberToObject(o, "width", f->img.w);
        cJSON_AddNumberToObject(o, "height", f->img.h);
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < f->n; i++) cJSON_AddItemToArray(arr, face_json(&f->faces[i], f->img.w, f->img.h));
        cJSON_AddItemToObject(o, "faces", arr);
        fn_cli_emit(o);
        return;
    }
    fn_cli_image_warning("detect", f, NULL);
    printf("%s: %dx%d, %d face(s)\n", file, f->img.w, f->img.h, f->total);
    for (int i = 0; i < f->n; i++)
        printf("  box [%.1f %.1f %.1f %.1f] prob %.4f\n", f->faces[i].box[0], f->faces[i].box[1], f->faces[i].box[2],
               f->faces[i].box[3], f->faces[i].prob);
}

static int write_crops(fn_outputs *out, const char *file, const fn_faces *f, int size, float margin)
{
    int failures = 0;
    for (int i = 0; i < f->n; i++) {
        char path[4400], err[4600], suffix[16];
        snprintf(suffix, sizeof suffix, "_%d", i);
        if (fn_outputs_path(out, file, suffix, ".png", path, sizeof path, err, sizeof err)) {
            fprintf(stderr, "facenet detect: %s\n", err);
            failures++;
            continue;
        }
        fn_image crop;
        fn_status s = fn_crop_face(&f->img, f->faces[i].box, size, margin, &crop);
        if (s != FN_OK) failures += fn_cli_fail("detect", s);
        else failures += fn_cli_save_image("detect", out, path, &crop);
        fn_image_free(&crop);
    }
    return failures;
}

int fn_cmd_detect(int argc, char **argv)
{
    fn_cli_args a;
    fn_cli_engine ce;
    int rc;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &a, &rc)) return rc;
    ce.opts.detector_only = 1;
    const char *crops = fn_cli_str(&a, FN_O_CROPS);
    int json = fn_cli_flag(&a, FN_O_JSON), size = (int)fn_cli_int(&a, FN_O_SIZE, 160);
    float margin = (float)fn_cli_float(&a, FN_O_MARGIN, 0);
    if (margin >= size) return fn_cli_usage("detect", "--margin %g is not less than --size %d", margin, size);
    fn_pathlist files = {0}, skipped = {0};
    if (fn_cli_collect_images(a.pos, a.npos, &files, &skipped)) return 1;
    fn_outputs out = {0};
    if (crops) {
        char err[512];
        if (fn_outputs_init(&out, crops, a.pos, a.npos, files.items, files.count, fn_cli_flag(&a, FN_O_OVERWRITE),
                            err, sizeof err)) {
            fprintf(stderr, "facenet detect: %s\n", err);
            fn_pathlist_free(&files);
            fn_pathlist_free(&skipped);
            return 1;
        }
    }
    fn_cli_report_skipped("detect", &skipped, json, fn_cli_flag(&a, FN_O_VERBOSE));
    fn_engine *e = NULL;
    if (fn_cli_engine_open(&ce, "detect", &e)) rc = 1;
    fn_cli_bulk k = {0};
    if (!rc) rc = fn_cli_bulk_start(&k, "detect", e, &a, files.items, files.count, 0, 0);
    fn_progress prog;
    fn_progress_start(&prog, "detecting", files.count);
    int failures = 0, done = 0;
    fn_cli_bulk_item it;
    while (!rc && !fn_cli_bulk_next(&k, "detect", &it)) {
        done++;
        fn_progress_step(&prog, it.path);
        if (it.status != FN_OK) {
            fn_progress_end(&prog);
            if (json) fn_cli_emit(fn_cli_file_record(it.path, it.loaded ? "error" : fn_cli_load_status(it.path),
                                                     it.error));
            fn_cli_error("detect", "%s", it.error);
            failures++;
            continue;
        }
        print_faces(it.path, it.faces, json);
        if (crops) failures += write_crops(&out, it.path, it.faces, size, margin);
    }
    if (!rc) failures += files.count - done;
    fn_cli_bulk_end(&k);
    fn_progress_end(&prog);
    fn_outputs_free(&out);
    fn_engine_free(e);
    fn_pathlist_free(&files);
    fn_pathlist_free(&skipped);
    return rc || failures ? 1 : 0;
}
