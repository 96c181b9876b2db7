/* bench_python — the C side of bench/python.sh: the same work the Python
 * package's benchmark does, called from C, so that python.sh can give the
 * Python overhead as a ratio measured in the same run.
 *   bench_python embed MODELS CROPS_DIR N      N aligned crops, one fn_embed_aligned call each
 *   bench_python identify MODELS GALLERY DIR   every image under DIR: fn_faces_run + fn_gallery_name_faces
 * Prints "seconds=S" (the timed loop only; loading is not timed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facenet.h"

static int fail(const char *what)
{
    fprintf(stderr, "bench_python: %s: %s\n", what, fn_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_python embed MODELS CROPS_DIR N | identify MODELS GALLERY DIR\n");
        return 2;
    }
    fn_options o;
    fn_options_init(&o);
    o.models_dir = argv[2];
    int embed = !strcmp(argv[1], "embed");
    o.embedder_only = embed;
    fn_engine *e;
    if (fn_engine_new(&o, &e) != FN_OK) return fail("engine");
    int dim = fn_engine_dim(e), rc = 0;
    float *emb = malloc(sizeof(float) * (size_t)dim * FN_FACES_MAX);
    fn_paths files = {0};
    if (fn_list_images(embed ? argv[3] : argv[4], &files, NULL) != FN_OK || files.n == 0) return fail("images");
    double t0, t1;
    if (embed) {
        int n = atoi(argv[4]), s = fn_engine_input_size(e), k = 0;
        fn_image *crops = calloc((size_t)files.n, sizeof *crops);
        for (int i = 0; i < files.n; i++) {
            if (fn_image_load(files.items[i], NULL, &crops[i]) != FN_OK) return fail(files.items[i]);
            if (crops[i].w == s && crops[i].h == s) crops[k++] = crops[i];
            else fn_image_free(&crops[i]);
        }
        t0 = fn_now();
        for (int i = 0; i < n && !rc; i++)
            if (fn_embed_aligned(e, &crops[i % k], 1, emb) != FN_OK) rc = fail("embed");
        t1 = fn_now();
        for (int i = 0; i < k; i++) fn_image_free(&crops[i]);
        free(crops);
    } else {
        fn_gallery *g;
        fn_gallery_model m = fn_gallery_model_of_engine(e);
        if (fn_gallery_open(argv[3], &m, FN_GALLERY_READONLY, &g) != FN_OK) return fail(argv[3]);
        fn_gallery_scratch *sc;
        if (fn_gallery_scratch_new(g, FN_FACES_MAX, &sc) != FN_OK) return fail("scratch");
        fn_gallery_naming *nm = calloc(FN_FACES_MAX, sizeof *nm);
        float t = fn_decision_threshold(g, e, -1, NULL);
        fn_faces f = {0};
        t0 = fn_now();
        for (int i = 0; i < files.n && !rc; i++) {
            if (fn_faces_run(e, files.items[i], 0, 1, &f) != FN_OK) rc = fail(files.items[i]);
            else if (f.n && fn_gallery_name_faces(g, sc, f.emb, f.n, t, 0, nm) != FN_OK) rc = fail("name");
        }
        t1 = fn_now();
        fn_faces_free(&f);
        free(nm);
        fn_gallery_scratch_free(sc);
        fn_gallery_close(g);
    }
    printf("seconds=%.4f\n", t1 - t0);
    fn_paths_free(&files);
    free(emb);
    fn_engine_free(e);
    return rc;
}
