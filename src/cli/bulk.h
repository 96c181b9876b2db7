/* bulk.h — the files of a bulk subcommand (identify, detect, embed), one
 * result per file in input order: through the library's pipelined executor
 * (fn_batch: every CPU decodes and detects, faces embedded in batches), or
 * with --batch 1 one file at a time through fn_faces_run.
 */
#ifndef FN_CLI_BULK_H
#define FN_CLI_BULK_H

#include "facenet.h"
#include "options.h"

typedef struct fn_cli_bulk {
    fn_engine *e;
    fn_batch *batch;          /* NULL: one file at a time */
    fn_faces f;               /* the one-at-a-time path's faces */
    char *const *paths;
    int n, next, aligned, embed;
} fn_cli_bulk;

/* One file's outcome; valid until the next fn_cli_bulk_next. */
typedef struct fn_cli_bulk_item {
    const char *path;
    fn_status status;
    const char *error;        /* the sentence naming the file when status != FN_OK */
    int loaded;               /* the file was decoded (a failure is then "error", not unreadable) */
    const fn_faces *faces;    /* with the decoded image (annotations, crops) */
} fn_cli_bulk_item;

/* --jobs and --batch from a; returns 1 after printing "facenet VERB: ..." */
int fn_cli_bulk_start(fn_cli_bulk *k, const char *verb, fn_engine *e, const fn_cli_args *a, char *const *paths, int n,
                      int aligned, int embed);
/* 0 and *it for the next file; 1 after the last, or when the executor
 * itself fails (printed). */
int fn_cli_bulk_next(fn_cli_bulk *k, const char *verb, fn_cli_bulk_item *it);
void fn_cli_bulk_end(fn_cli_bulk *k);

#endif
