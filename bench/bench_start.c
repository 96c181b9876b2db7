/* Start-up benchmark, in-process half: where the time of a one-image
 * `facenet detect` / `facenet identify` goes once main has been reached —
 * each stage timed on its own through the public API, as the CLI runs them
 * (engine, gallery, decode, detect, embed, match, freeing).  The networks
 * load on first use, so their loading is timed apart: the first fn_detect on
 * a 32x32 gray image (loads MTCNN, finds nothing) and the first
 * fn_embed_aligned of a gray 112x112 crop (loads MobileFaceNet and runs it
 * once: oneDNN's first run of a primitive is part of the cost).  The
 * exec-to-exit half (dynamic loading, the whole command against the old
 * binary) is bench/start.sh, which runs this too.
 * Usage: bench_start MODELS_DIR IMAGE GALLERY.db [repeats]  (medians of repeats) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facenet.h"

enum { ENGINE, LOAD_DET, LOAD_EMB, GALLERY, DECODE, DETECT, EMBED, MATCH, FREE, NSTAGE };
static const char *const stage_name[NSTAGE] = {
    "engine_new_ms", "load_mtcnn_ms", "load_mobilefacenet_and_first_run_ms", "gallery_open_ms", "decode_ms",
    "detect_ms", "embed_ms", "match_ms", "free_ms"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int check(fn_status s, const char *what)
{
    if (s == FN_OK) return 0;
    fprintf(stderr, "bench_start: %s: %s\n", what, fn_last_error());
    return 1;
}

/* One pass of every stage; t[stage] in ms. */
static int one_pass(const char *models, const char *image, const char *gallery, double *t)
{
    fn_options o;
    fn_options_init(&o);
    o.models_dir = models;
    fn_engine *e = NULL;
    double t0 = fn_now();
    if (check(fn_engine_new(&o, &e), "engine")) return 1;
    t[ENGINE] = (fn_now() - t0) * 1e3;
    fn_image gray, crop;
    fn_face none[1];
    int nnone = 0;
    if (check(fn_image_alloc(&gray, 32, 32, 3), "image") || check(fn_image_alloc(&crop, 112, 112, 3), "image")) return 1;
    memset(gray.data, 128, 32 * 32 * 3);
    memset(crop.data, 128, 112 * 112 * 3);
    t0 = fn_now();
    if (check(fn_detect(e, &gray, none, 1, &nnone), "first detect")) return 1;
    t[LOAD_DET] = (fn_now() - t0) * 1e3;
    float one[512];
    t0 = fn_now();
    if (check(fn_embed_aligned(e, &crop, 1, one), "first embedding")) return 1;
    t[LOAD_EMB] = (fn_now() - t0) * 1e3;
    fn_image_free(&gray);
    fn_image_free(&crop);
    fn_gallery *g = NULL;
    fn_gallery_scratch *sc = NULL;
    fn_gallery_model m = fn_gallery_model_of_engine(e);
    t0 = fn_now();
    if (check(fn_gallery_open(gallery, &m, FN_GALLERY_READONLY, &g), "gallery") ||
        check(fn_gallery_scratch_new(g, 64, &sc), "gallery scratch"))
        return 1;
    t[GALLERY] = (fn_now() - t0) * 1e3;
    fn_image img;
    t0 = fn_now();
    if (check(fn_image_load(image, NULL, &img), "decode")) return 1;
    t[DECODE] = (fn_now() - t0) * 1e3;
    fn_face faces[64];
    int n = 0;
    t0 = fn_now();
    if (check(fn_detect(e, &img, faces, 64, &n), "detect")) return 1;
    t[DETECT] = (fn_now() - t0) * 1e3;
    if (n > 64) n = 64;
    float *emb = malloc((size_t)(n ? n : 1) * fn_engine_dim(e) * sizeof(float));
    fn_gallery_naming names[64];
    t0 = fn_now();
    if (n && check(fn_embed_faces(e, &img, faces, n, emb), "embed")) return 1;
    t[EMBED] = (fn_now() - t0) * 1e3;
    t0 = fn_now();
    if (n && check(fn_gallery_name_faces(g, sc, emb, n, fn_engine_threshold(e), 0, names), "match")) return 1;
    t[MATCH] = (fn_now() - t0) * 1e3;
    t0 = fn_now();
    free(emb);
    fn_image_free(&img);
    fn_gallery_scratch_free(sc);
    fn_gallery_close(g);
    fn_engine_free(e);
    t[FREE] = (fn_now() - t0) * 1e3;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_start MODELS_DIR IMAGE GALLERY.db [repeats]\n");
        return 2;
    }
    int reps = argc > 4 ? atoi(argv[4]) : 9;
    if (reps < 1) reps = 1;
    double *t = calloc((size_t)reps * NSTAGE, sizeof *t);
    if (!t) return 1;
    for (int r = 0; r < reps; r++)
        if (one_pass(argv[1], argv[2], argv[3], t + (size_t)r * NSTAGE)) return 1;
    double med[NSTAGE], col[reps];
    for (int s = 0; s < NSTAGE; s++) {
        for (int r = 0; r < reps; r++) col[r] = t[(size_t)r * NSTAGE + s];
        qsort(col, (size_t)reps, sizeof col[0], cmp_double);
        med[s] = col[reps / 2];
        printf("start_%s=%.1f\n", stage_name[s], med[s]);
    }
    free(t);
    return 0;
}
