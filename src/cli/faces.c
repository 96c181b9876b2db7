/* faces.c — the chosen face of one file, with the CLI's messages. */
#include "faces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int fn_cli_chosen_embedding(const char *verb, fn_engine *e, const char *path, int aligned, fn_select sel,
                            float *emb)
{
    fn_faces f = {0};
    fn_status s = fn_faces_run(e, path, aligned, 1, &f);
    int rc = 0;
    if (s != FN_OK) rc = fn_cli_fail(verb, s);
    else if (fn_cli_image_warning(verb, &f, NULL), f.n == 0) {
        fprintf(stderr, "facenet %s: %s: no face found\n", verb, path);
        rc = 1;
    } else {
        int k = fn_select_face(f.faces, f.n, sel, f.img.w, f.img.h);
        memcpy(emb, f.emb + (size_t)k * fn_engine_dim(e), sizeof(float) * fn_engine_dim(e));
    }
    fn_faces_free(&f);
    return rc;
}
