/* faces.h — the one-face step several subcommands share (compare, verify):
 * the embedding of the face --select chooses, with the CLI's messages.
 * Loading, detecting and embedding every face is the library's fn_faces_run.
 */
#ifndef FN_CLI_FACES_H
#define FN_CLI_FACES_H

#include "facenet.h"

/* The embedding (dim floats) of the face of path that sel chooses; prints
 * "facenet VERB: ..." and returns 1 when it cannot (unreadable, no face). */
int fn_cli_chosen_embedding(const char *verb, fn_engine *e, const char *path, int aligned, fn_select sel,
                            float *emb);

#endif
