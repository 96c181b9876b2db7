#include "cli/faces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "core/error.h"

static fn_status reserve_emb(fn_cli_faces *f, int n, int dim)
{
    if (n * dim <= f->emb_cap) return FN_OK;
    float *p = realloc(f->emb, (size_t)n * dim * sizeof(float));
    if (!p) return fn_fail(FN_ERR_NOMEM, "out of memory for %d embeddings", n);
    f->emb = p;
    f->emb_cap = n * dim;
    return FN_OK;
}

fn_status fn_cli_faces_run(fn_engine *e, const char *path, int aligned, int embed, fn_cli_faces *f)
{
    fn_cli_faces_clear(f);
    FN_TRY(fn_image_load(path, NULL, &f->img));
    if (aligned) {
        memset(&f->faces[0], 0, sizeof f->faces[0]);
        f->faces[0].box[2] = (float)f->img.w;
        f->faces[0].box[3] = (float)f->img.h;
        f->faces[0].prob = 1.0f;
        f->n = f->total = 1;
        if (!embed) return FN_OK;
        FN_TRY(reserve_emb(f, 1, fn_engine_dim(e)));
        fn_status s = fn_embed_aligned(e, &f->img, 1, f->emb);
        return s == FN_OK ? s : fn_fail_prefix(s, "%s", path);
    }
    FN_TRY(fn_detect(e, &f->img, f->faces, FN_CLI_MAX_FACES, &f->total));
    f->n = f->total < FN_CLI_MAX_FACES ? f->total : FN_CLI_MAX_FACES;
    if (!embed || f->n == 0) return FN_OK;
    FN_TRY(reserve_emb(f, f->n, fn_engine_dim(e)));
    fn_status s = fn_embed_faces(e, &f->img, f->faces, f->n, f->emb);
    return s == FN_OK ? s : fn_fail_prefix(s, "%s", path);
}

void fn_cli_faces_clear(fn_cli_faces *f)
{
    fn_image_free(&f->img);
    f->n = f->total = 0;
}

void fn_cli_faces_free(fn_cli_faces *f)
{
    fn_cli_faces_clear(f);
    free(f->emb);
    memset(f, 0, sizeof *f);
}

int fn_cli_chosen_embedding(const char *verb, fn_engine *e, const char *path, int aligned, fn_select sel,
                            float *emb)
{
    fn_cli_faces f = {0};
    fn_status s = fn_cli_faces_run(e, path, aligned, 1, &f);
    int rc = 0;
    if (s != FN_OK) rc = fn_cli_fail(verb, s);
    else if (f.n == 0) {
        fprintf(stderr, "facenet %s: %s: no face found\n", verb, path);
        rc = 1;
    } else {
        int k = fn_select_face(f.faces, f.n, sel, f.img.w, f.img.h);
        memcpy(emb, f.emb + (size_t)k * fn_engine_dim(e), sizeof(float) * fn_engine_dim(e));
    }
    fn_cli_faces_free(&f);
    return rc;
}
