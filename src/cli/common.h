/* common.h — what every subcommand shares: finding image files, JSON Lines
 * output and per-file statuses, progress on a terminal (quiet in pipes), and
 * error reporting.  Options are in options.h, output files in outputs.h.
 * Like any client of libfacenet, the CLI sees only the public headers
 * (include/facenet.h); src/cli is compiled with -Iinclude -Isrc/cli alone.
 */
#ifndef FN_CLI_COMMON_H
#define FN_CLI_COMMON_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "facenet.h"

/* A growable list of paths (owned strings). */
typedef struct fn_pathlist {
    char **items;
    int count, cap;
} fn_pathlist;

/* Expand files and directories (recursively, sorted) into image paths
 * (.jpg .jpeg .png, any case).  Files in the folders with other names go to
 * skipped (when not NULL) so that they can be reported; hidden files and
 * folders (.name) are not read.  A file named on the command line is always
 * taken.  A missing path is an error naming it. */
int fn_cli_collect_images(char **args, int nargs, fn_pathlist *out, fn_pathlist *skipped);
int fn_pathlist_add(fn_pathlist *l, const char *path);
void fn_pathlist_free(fn_pathlist *l);

/* Print one JSON object as a single line on stdout and free it. */
void fn_cli_emit(cJSON *obj);
/* A JSON array of n floats, rounded to 7 significant digits. */
cJSON *fn_cli_float_array(const float *v, int n);
cJSON *fn_cli_box(const float box[4]);

/* Progress line on stderr, only when stderr is a terminal. */
typedef struct fn_progress {
    const char *label;
    int total, done, enabled;
    double start;
} fn_progress;
void fn_progress_start(fn_progress *p, const char *label, int total);
void fn_progress_step(fn_progress *p, const char *item);
void fn_progress_end(fn_progress *p);

/* The embedding cache (eval, eval-pairs): $FACENET_CACHE, else
 * ~/.cache/facenet/embeddings.db.  Returns buf, or NULL after printing
 * "facenet VERB: ..." when there is no location. */
const char *fn_cli_cache_path(const char *verb, char *buf, size_t cap);

/* "facenet VERB: <library sentence>" on stderr; returns exit code 1. */
int fn_cli_fail(const char *verb, fn_status s);

/* Every input is accounted for: in JSON Lines each input file yields at
 * least one record {"file", "status", ...}.  The statuses: */
#define FN_ST_OK "ok"                           /* faces found (one record per face or per image) */
#define FN_ST_NO_FACE "no_face"                 /* read, but no face detected */
#define FN_ST_UNREADABLE "unreadable"           /* cannot be opened, or a damaged JPEG/PNG */
#define FN_ST_UNSUPPORTED "unsupported_format"  /* not a JPEG or PNG (by name in a folder, or by content) */
#define FN_ST_NOT_IN_PERSON_FOLDER "not_in_person_folder" /* a loose file where DIR/<person>/FILE is wanted */
/* The columns a UTF-8 string takes in a terminal (utf8proc's character
 * widths: "José" is 4 columns in 5 bytes, "日本" 4 in 6, a combining mark
 * 0), for padding tables. */
int fn_cli_columns(const char *s);
/* The status of an input that failed to load: unsupported_format when its
 * first bytes are neither JPEG's nor PNG's, else unreadable. */
const char *fn_cli_load_status(const char *path);
/* A warning on stderr when the embedding cache could not keep some
 * embeddings (they were used all the same; the next run computes them again). */
void fn_cli_cache_warning(const char *verb, const fn_embedder *x);
/* {"file": file, "status": status[, "error": error]} (error may be NULL). */
cJSON *fn_cli_file_record(const char *file, const char *status, const char *error);
/* After an image was read: its decoder's warning (a repaired JPEG without
 * its end marker…) on stderr as "facenet VERB: warning: …", and in the JSON
 * record rec as "warning" when rec is not NULL.  Nothing when there is none. */
void fn_cli_image_warning(const char *verb, const fn_faces *f, cJSON *rec);
/* Adds "landmarks_outside": true to a face's JSON record when any of its
 * landmarks lies outside the w x h image (a face cut by the border). */
void fn_cli_face_edge(cJSON *rec, const fn_face *face, int w, int h);
/* Files skipped for their format: a JSON record each, or in text one note
 * with their count on stderr (each named with verbose). */
void fn_cli_report_skipped(const char *verb, const fn_pathlist *skipped, int json, int verbose);
/* "facenet VERB: message" on stderr (the CLI's own failures, which are
 * not the library's: no library error is set); returns exit code 1. */
int fn_cli_error(const char *verb, const char *fmt, ...) FN_PRINTF(2, 3);

#endif
