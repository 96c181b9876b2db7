/* faces.c — the faces of one image file (fn_faces_run): load, detect or take
 * the image as one aligned face, embed.  The step every front end repeats. */
#include <stdlib.h>
#include <string.h>

#include "api/engine_impl.h"
#include "core/error.h"
#include "facenet/engine.h"

fn_status fn_faces_reserve_emb(fn_faces *f, int n, int dim)
{
    if ((size_t)n * dim <= (size_t)f->emb_cap) return FN_OK;
    float *p = realloc(f->emb, (size_t)n * dim * sizeof(float));
    if (!p) return fn_fail(FN_ERR_NOMEM, "out of memory for %d embeddings", n);
    f->emb = p;
    f->emb_cap = n * dim;
    return FN_OK;
}

fn_status fn_faces_run(fn_engine *e, const char *path, int aligned, int embed, fn_faces *f)
{
    fn_faces_clear(f);
    FN_TRY(fn_image_load_ex(path, NULL, &f->img, &f->notes));
    if (aligned) {
        memset(&f->faces[0], 0, sizeof f->faces[0]);
        f->faces[0].box[2] = (float)f->img.w;
        f->faces[0].box[3] = (float)f->img.h;
        f->faces[0].prob = 1.0f;
        f->n = f->total = 1;
        if (!embed) return FN_OK;
        FN_TRY(fn_faces_reserve_emb(f, 1, fn_engine_dim(e)));
        fn_status s = fn_embed_aligned(e, &f->img, 1, f->emb);
        return s == FN_OK ? s : fn_fail_prefix(s, "%s", path);
    }
    fn_status s = fn_detect(e, &f->img, f->faces, FN_FACES_MAX, &f->total);
    if (s != FN_OK) return fn_fail_prefix(s, "%s", path);
    f->n = f->total < FN_FACES_MAX ? f->total : FN_FACES_MAX;
    if (!embed || f->n == 0) return FN_OK;
    FN_TRY(fn_faces_reserve_emb(f, f->n, fn_engine_dim(e)));
    s = fn_embed_faces(e, &f->img, f->faces, f->n, f->emb);
    return s == FN_OK ? s : fn_fail_prefix(s, "%s", path);
}

void fn_faces_clear(fn_faces *f)
{
    fn_image_free(&f->img);
    memset(&f->notes, 0, sizeof f->notes);
    f->n = f->total = 0;
}

void fn_faces_free(fn_faces *f)
{
    fn_faces_clear(f);
    free(f->emb);
    memset(f, 0, sizeof *f);
}
