/* facenet detect — faces, boxes and landmarks; optionally their crops. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common.h"
#include "engine_opts.h"
#include "faces.h"


static const char *usage =
    "usage: facenet detect [--detector mtcnn|haar] [--min-face N] [--thresholds a,b,c] [--json] [--crops DIR] IMAGE|DIR...\n"
    "Finds faces with MTCNN: box (x1,y1,x2,y2 in pixels), probability and 5 landmarks\n"
    "(left eye, right eye, nose, left and right mouth corner), most probable first.\n"
    "With --detector haar the boxes are OpenCV's detectMultiScale(gray, 1.1, 3) rectangles\n"
    "from the Haar cascade, each with O-Net's probability and landmarks for that box.\n\n"
    "  --detector D       mtcnn (default) or haar\n"
    "  --cascade XML      Haar cascade (" FN_HAAR_DEFAULT_CASCADE ")\n"
    "  --json             one object per image: {file, width, height, faces: [{box, prob, landmarks}]}\n"
    "  --crops DIR        write each face's crop as DIR/<image>_<k>.png (facenet-pytorch's extract_face)\n"
    "  --size N           crop size (160)\n"
    "  --margin M         crop margin in output pixels (0)\n"
    FN_ENGINE_HELP
    "\nexample: facenet detect --json --crops faces/ group.jpg\n";

enum { OPT_JSON = OPT_FIRST_LOCAL, OPT_CROPS, OPT_SIZE, OPT_MARGIN, OPT_DETECTOR, OPT_CASCADE, OPT_HELP };

static cJSON *face_json(const fn_face *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "box", fn_cli_box(f->box));
    cJSON_AddNumberToObject(o, "prob", f->prob);
    cJSON *lm = cJSON_CreateArray();
    for (int i = 0; i < 5; i++) cJSON_AddItemToArray(lm, fn_cli_float_array(f->landmarks[i], 2));
    cJSON_AddItemToObject(o, "landmarks", lm);
    return o;
}

static void print_faces(const char *file, const fn_faces *f, int json)
{
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", file);
        cJSON_AddNumberToObject(o, "width", f->img.w);
        cJSON_AddNumberToObject(o, "height", f->img.h);
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < f->n; i++) cJSON_AddItemToArray(arr, face_json(&f->faces[i]));
        cJSON_AddItemToObject(o, "faces", arr);
        fn_cli_emit(o);
        return;
    }
    printf("%s: %dx%d, %d face(s)\n", file, f->img.w, f->img.h, f->total);
    for (int i = 0; i < f->n; i++)
        printf("  box [%.1f %.1f %.1f %.1f] prob %.4f\n", f->faces[i].box[0], f->faces[i].box[1], f->faces[i].box[2],
               f->faces[i].box[3], f->faces[i].prob);
}

static int write_crops(const char *dir, const char *file, const fn_faces *f, int size, float margin)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char stem[512];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot) *dot = '\0';
    for (int i = 0; i < f->n; i++) {
        fn_image crop;
        char out[4096];
        snprintf(out, sizeof out, "%s/%s_%d.png", dir, stem, i);
        fn_status s = fn_crop_face(&f->img, f->faces[i].box, size, margin, &crop);
        if (s == FN_OK) s = fn_image_save_png(out, &crop);
        fn_image_free(&crop);
        if (s != FN_OK) return fn_cli_fail("detect", s);
    }
    return 0;
}

int fn_cmd_detect(int argc, char **argv)
{
    static const struct option longopts[] = {
        FN_ENGINE_LONGOPTS,
        {"json", no_argument, 0, OPT_JSON},
        {"crops", required_argument, 0, OPT_CROPS},
        {"size", required_argument, 0, OPT_SIZE},
        {"margin", required_argument, 0, OPT_MARGIN},
        {"detector", required_argument, 0, OPT_DETECTOR},
        {"cascade", required_argument, 0, OPT_CASCADE},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    fn_cli_engine ce;
    fn_cli_engine_init(&ce);
    ce.opts.detector_only = 1;
    const char *crops = NULL;
    int json = 0, size = 160, opt;
    float margin = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_JSON) json = 1;
        else if (opt == OPT_CROPS) crops = optarg;
        else if (opt == OPT_SIZE) {
            size = atoi(optarg);
            if (size < 8 || size > 2048) return fn_cli_usage_error("detect", "--size wants 8..2048, got '%s'", optarg);
        } else if (opt == OPT_MARGIN) {
            margin = strtof(optarg, NULL);
            if (margin < 0 || margin >= size) return fn_cli_usage_error("detect", "--margin wants 0..size-1");
        } else if (opt == OPT_DETECTOR) {
            if (!strcmp(optarg, "haar")) ce.opts.detector = FN_DETECTOR_HAAR;
            else if (strcmp(optarg, "mtcnn")) return fn_cli_usage_error("detect", "--detector wants mtcnn or haar, got '%s'", optarg);
        } else if (opt == OPT_CASCADE) ce.opts.cascade = optarg;
        else if (opt == OPT_HELP) { fputs(usage, stdout); return 0; }
        else if (opt == '?') return fn_cli_usage_error("detect", "bad option");
        else if (fn_cli_engine_option(&ce, "detect", opt, optarg)) return 2;
    }
    if (optind >= argc) return fn_cli_usage_error("detect", "no image given");
    struct stat st;
    if (crops && mkdir(crops, 0777) != 0 && (stat(crops, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "facenet detect: cannot create the directory %s\n", crops);
        return 1;
    }
    fn_pathlist files = {0};
    if (fn_cli_collect_images(argv + optind, argc - optind, &files)) return 1;
    fn_engine *e = NULL;
    if (fn_cli_engine_open(&ce, "detect", &e)) { fn_pathlist_free(&files); return 1; }
    fn_faces f = {0};
    fn_progress prog;
    fn_progress_start(&prog, "detecting", files.count);
    int failures = 0;
    for (int i = 0; i < files.count; i++) {
        fn_status s = fn_faces_run(e, files.items[i], 0, 0, &f);
        fn_progress_step(&prog, files.items[i]);
        if (s != FN_OK) {
            fn_progress_end(&prog);
            fn_cli_fail("detect", s);
            failures++;
            continue;
        }
        print_faces(files.items[i], &f, json);
        if (crops && write_crops(crops, files.items[i], &f, size, margin)) failures++;
    }
    fn_progress_end(&prog);
    fn_faces_free(&f);
    fn_engine_free(e);
    fn_pathlist_free(&files);
    return failures ? 1 : 0;
}
