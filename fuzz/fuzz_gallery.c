/* fuzz_gallery.c — libFuzzer target: opening a gallery file (SQLite with our
 * schema) read-only, as identify/verify/list do, then listing, counting,
 * reading the metadata and embeddings, searching and the full check.
 * Properties: no crash/leak; a failure has a message; a read-only open
 * never changes the file; a search finds only enrolled ids at distances
 * in [0, 2] (L2-normalised vectors).
 */
#include <math.h>

#include "fuzz_util.h"
#include "core/error.h"

static int on_person(void *ctx, const fn_gallery_person *p)
{
    FZ_ASSERT(p->name != NULL && p->n_images >= 0);
    ++*(int64_t *)ctx;
    return 0;
}

static int on_image(void *ctx, const fn_gallery_image *im)
{
    FZ_ASSERT(im->path != NULL && im->hash_hex != NULL);
    ++*(int64_t *)ctx;
    return 0;
}

static int on_embedding(void *ctx, const fn_gallery_embedding *e)
{
    FZ_ASSERT(e->embedding != NULL && e->dim > 0 && e->person != NULL);
    fz_touch(e->embedding, e->dim);
    ++*(int64_t *)ctx;
    return 0;
}

static void exercise(fn_gallery *g)
{
    fn_status s;
    int64_t people = 0, images = 0, seen = 0;
    fn_gallery_model m = fn_gallery_model_of(g);
    FZ_ASSERT(m.dim > 0 && m.model_id != NULL);
    s = fn_gallery_count(g, &people, &images);
    fz_check_failure(s, "fn_gallery_count");
    s = fn_gallery_list(g, on_person, &seen);
    fz_check_failure(s, "fn_gallery_list");
    seen = 0;
    s = fn_gallery_list_images(g, NULL, on_image, &seen);
    fz_check_failure(s, "fn_gallery_list_images");
    seen = 0;
    s = fn_gallery_embeddings(g, on_embedding, &seen);
    fz_check_failure(s, "fn_gallery_embeddings");
    float thr;
    s = fn_gallery_get_threshold(g, &thr);
    fz_check_failure(s, "fn_gallery_get_threshold");
    char value[256];
    s = fn_gallery_meta_get(g, "model_id", value, sizeof value);
    fz_check_failure(s, "fn_gallery_meta_get");
    int yes = 0;
    s = fn_gallery_has_image(g, "person 0", "0000000000000000000000000000000000000000000000000000000000000001", &yes);
    fz_check_failure(s, "fn_gallery_has_image");

    fn_gallery_scratch *sc = NULL;
    s = fn_gallery_scratch_new(g, 2, &sc);
    fz_check_failure(s, "fn_gallery_scratch_new");
    if (s == FN_OK) {
        float *q = calloc((size_t)m.dim * 2, sizeof *q);
        FZ_ASSERT(q != NULL);
        for (int i = 0; i < m.dim; i++) { q[i] = (float)(i % 7) - 3.0f; q[m.dim + i] = 1.0f; }
        fn_gallery_match match[2];
        fn_gallery_hit top[2 * 3];
        s = fn_gallery_search(g, sc, q, 2, 3, match, top);
        fz_check_failure(s, "fn_gallery_search");
        if (s == FN_OK)
            for (int i = 0; i < 2 * 3; i++)
                if (top[i].image_id >= 0)
                    FZ_ASSERT(isnan(top[i].distance) || (top[i].distance >= 0 && top[i].distance <= 2.0001f));
        free(q);
        fn_gallery_scratch_free(sc);
    }
    s = fn_gallery_check(g);
    fz_check_failure(s, "fn_gallery_check");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fz_write_tmp(data, size, ".db", path, sizeof path);
    fn_clear_error();
    fn_gallery *g = NULL;
    fn_status s = fn_gallery_open(path, NULL, FN_GALLERY_READONLY, &g);
    fz_check_failure(s, "fn_gallery_open");
    if (s == FN_OK) {
        exercise(g);
        fn_gallery_close(g);
    } else {
        FZ_ASSERT(g == NULL);
    }
    /* Read-only means read-only: the file is byte for byte what it was. */
    FILE *f = fopen(path, "rb");
    FZ_ASSERT(f != NULL);
    uint8_t *back = malloc(size + 1);
    FZ_ASSERT(back != NULL);
    size_t got = fread(back, 1, size + 1, f);
    fclose(f);
    FZ_ASSERT(got == size && memcmp(back, data, size) == 0);
    free(back);
    fz_unlink(path);
    return 0;
}
