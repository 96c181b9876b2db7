/* identify_photo — who is in one photo, using only the public API.
 *
 *   identify_photo MODELS_DIR GALLERY.db PHOTO.jpg
 *
 * Opens the default engine (MTCNN + MobileFaceNet from MODELS_DIR) and a
 * gallery built with the same model (`facenet enroll`), finds every face in
 * the photo and prints one line per face, most probable first:
 *
 *   face 0: Alice distance 0.612 box [120 80 260 250]
 *
 * A face farther than the threshold from everyone is "unknown" (the nearest
 * person follows in parentheses).  The threshold is the one calibrated into
 * the gallery, else the model's default.  Build it against an installed
 * libfacenet with:  cc identify_photo.c $(pkg-config --cflags --libs facenet)
 */
#include <stdio.h>
#include <stdlib.h>

#include <facenet.h>

#define MAX_FACES 64

/* 1 when s is FN_OK; else prints what failed and fn_last_error()'s sentence. */
static int ok(fn_status s, const char *what)
{
    if (s != FN_OK) fprintf(stderr, "identify_photo: %s: %s\n", what, fn_last_error());
    return s == FN_OK;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: identify_photo MODELS_DIR GALLERY.db PHOTO.jpg\n");
        return 2;
    }
    fn_options o;
    fn_options_init(&o);
    o.models_dir = argv[1];

    fn_engine *e = NULL;
    fn_gallery *g = NULL;
    fn_gallery_scratch *scratch = NULL;
    fn_image img = {0};
    float *emb = NULL;
    int rc = 1;

    if (!ok(fn_engine_new(&o, &e), "engine")) return 1;
    /* The gallery checks that it was built by this engine's model. */
    fn_gallery_model m = {fn_engine_model_id(e), fn_engine_dim(e), fn_engine_preprocess_id(e)};
    if (!ok(fn_gallery_open(argv[2], &m, FN_GALLERY_READONLY, &g), "gallery")) goto done;
    if (!ok(fn_gallery_scratch_new(g, MAX_FACES, &scratch), "gallery")) goto done;
    float threshold;
    if (fn_gallery_get_threshold(g, &threshold) != FN_OK) threshold = fn_engine_threshold(e);

    if (!ok(fn_image_load(argv[3], NULL, &img), "photo")) goto done;
    fn_face faces[MAX_FACES];
    int total;
    if (!ok(fn_detect(e, &img, faces, MAX_FACES, &total), "detect")) goto done;
    int n = total < MAX_FACES ? total : MAX_FACES;
    if (n == 0) {
        printf("no face\n");
        rc = 0;
        goto done;
    }
    /* n embeddings of fn_engine_dim() floats, then the nearest person of each. */
    emb = malloc(sizeof(float) * (size_t)n * (size_t)fn_engine_dim(e));
    fn_gallery_match matches[MAX_FACES];
    if (!emb) {
        fprintf(stderr, "identify_photo: out of memory for %d embeddings\n", n);
        goto done;
    }
    if (!ok(fn_embed_faces(e, &img, faces, n, emb), "embed")) goto done;
    if (!ok(fn_gallery_search(g, scratch, emb, n, 1, matches, NULL), "search")) goto done;

    for (int i = 0; i < n; i++) {
        const fn_face *f = &faces[i];
        const fn_gallery_match *mt = &matches[i];
        int known = mt->best.distance <= threshold;
        printf("face %d: %s distance %.3f box [%.0f %.0f %.0f %.0f]", i, known ? mt->best_name : "unknown",
               mt->best.distance, f->box[0], f->box[1], f->box[2], f->box[3]);
        if (!known) printf(" (nearest: %s)", mt->best_name);
        printf("\n");
    }
    rc = 0;
done:
    free(emb);
    fn_image_free(&img);
    fn_gallery_scratch_free(scratch);
    fn_gallery_close(g);
    fn_engine_free(e);
    return rc;
}
