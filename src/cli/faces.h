/* faces.h — the per-image step several subcommands share: load an image,
 * detect its faces (or take it as an aligned crop), embed them.
 */
#ifndef FN_CLI_FACES_H
#define FN_CLI_FACES_H

#include "facenet.h"

#define FN_CLI_MAX_FACES 256

typedef struct fn_cli_faces {
    fn_image img;
    fn_face faces[FN_CLI_MAX_FACES];
    int n;            /* faces kept (<= FN_CLI_MAX_FACES) */
    int total;        /* faces the detector found */
    float *emb;       /* n x dim, when embedded */
    int emb_cap;
} fn_cli_faces;

/* Load path; with aligned, the whole image is one face (box = the image);
 * otherwise detect; then embed every kept face if embed != 0. */
fn_status fn_cli_faces_run(fn_engine *e, const char *path, int aligned, int embed, fn_cli_faces *out);
/* The embedding (dim floats) of the face of path that sel chooses; prints
 * "facenet VERB: ..." and returns 1 when it cannot (unreadable, no face). */
int fn_cli_chosen_embedding(const char *verb, fn_engine *e, const char *path, int aligned, fn_select sel,
                            float *emb);
void fn_cli_faces_clear(fn_cli_faces *f);   /* keeps buffers for the next image */
void fn_cli_faces_free(fn_cli_faces *f);

#endif
