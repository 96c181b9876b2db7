/* labelled.h — a folder-per-person tree (DIR/<person>/ holding JPEG or PNG images) embedded one
 * face per image, for the commands that score or tune clustering on
 * labelled faces (eval-cluster, cluster --calibrate-on).
 */
#ifndef FN_CLI_LABELLED_H
#define FN_CLI_LABELLED_H
#include "common.h"
#include "facenet.h"

typedef struct fn_cli_labelled {
    fn_pathlist people;   /* the folders, sorted */
    float *x;             /* n x dim embeddings */
    int *truth;           /* n: index into people */
    int n, missing;       /* embedded; images without an embedding */
    int unreadable;       /* of those missing: files that could not be read (each warned of) */
} fn_cli_labelled;

/* Embeds every image under root/<person>/ through the embedding cache
 * (cache NULL: none), one face chosen by select, a centre crop when miss
 * says so, with progress on a terminal.  Returns 0, or 1 after printing
 * the error (a folder that cannot be read names itself). */
int fn_cli_embed_people(const char *verb, const char *root, fn_engine *e, const fn_options *o, fn_select select,
                        fn_miss_policy miss, const char *cache, fn_cli_labelled *out);
void fn_cli_labelled_free(fn_cli_labelled *l);
#endif
