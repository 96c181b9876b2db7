/* outputs.h — the files the CLI writes (annotated images, crops, videos,
 * plots): where each goes, and writing it safely.  The rules: an input file
 * is never written or replaced (compared by device and inode, not by name);
 * one output per input, named by mirroring the input's path below the
 * common root of all inputs, so same-named files in different folders do
 * not collide; an existing file is replaced only with --overwrite; every
 * file is written to a temporary name in its directory, synced, and renamed
 * into place, so a crash never leaves half a file.
 */
#ifndef FN_CLI_OUTPUTS_H
#define FN_CLI_OUTPUTS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct fn_file_id { dev_t dev; ino_t ino; } fn_file_id;

typedef struct fn_outputs {
    char *dir;            /* the output directory, as given ("" for single-file outputs) */
    char *root;           /* the inputs' common directory (absolute, lexically normalised) */
    int overwrite;
    fn_file_id *inputs;   /* the inputs' identities, sorted */
    int ninputs;
    char **claimed;       /* outputs planned in this run, to catch two inputs sharing one */
    int nclaimed, capclaimed;
} fn_outputs;

/* Plan outputs below dir.  args: the inputs as the user named them (files
 * and folders; their common folder is the root mirrored under dir); files:
 * every input file, as collected (never to be written).  dir may be NULL
 * for outputs given by full name (--output, --plot).  Fails with err naming
 * the problem (out of memory, a path too long). */
int fn_outputs_init(fn_outputs *o, const char *dir, char *const *args, int nargs, char *const *files, int nfiles,
                    int overwrite, char *err, size_t errlen);
void fn_outputs_free(fn_outputs *o);

/* Absolute, lexically normalised form of path (".", "..", "//" folded
 * against the working directory).  0 ok, -1 too long / no cwd. */
int fn_path_normalize(const char *path, char *out, size_t outlen);
/* The longest common directory of the inputs' normalised paths (their
 * directories, for files); out is "/" at worst. */
int fn_path_common_root(char *const *paths, int n, char *out, size_t outlen);

/* The output for input, below dir: the input's path relative to the common
 * root, its extension replaced by ext when ext is given (".png"), with
 * suffix inserted before the extension ("_0" for a face); when the new
 * extension makes it meet an earlier input's output (x.jpg and x.png both
 * giving x_0.png) the old extension stays in the name (x_png_0.png).  Then claimed:
 * fails (err says why) when it is an input, was already planned in this run,
 * or exists and overwriting is off.  0 ok, -1 refused. */
int fn_outputs_path(fn_outputs *o, const char *input, const char *suffix, const char *ext, char *out, size_t outlen,
                    char *err, size_t errlen);

/* Claim a full output name (--output FILE, --plot F.svg): the same checks. */
int fn_outputs_claim(fn_outputs *o, const char *path, char *err, size_t errlen);

/* Writing: begin makes the directories and an empty temporary file beside
 * path, with the same extension (so format-by-name writers still work);
 * the writer fills tmp; commit syncs it and moves it into place (without
 * --overwrite, atomically refusing a file that appeared meanwhile); abort
 * removes it. */
int fn_outputs_begin(const fn_outputs *o, const char *path, char *tmp, size_t tmplen, char *err, size_t errlen);
int fn_outputs_commit(const fn_outputs *o, const char *tmp, const char *path, char *err, size_t errlen);
void fn_outputs_abort(const char *tmp);

/* begin + write(tmp, ctx) + commit; write returns 0 on success and fills
 * err on failure.  Returns 0 or -1 (err set, nothing left behind). */
typedef int (*fn_output_writer)(const char *tmp, void *ctx, char *err, size_t errlen);
int fn_outputs_write(const fn_outputs *o, const char *path, fn_output_writer write, void *ctx, char *err,
                     size_t errlen);

/* 1 when path names the same file as one of the inputs (device + inode). */
int fn_outputs_is_input(const fn_outputs *o, const char *path);


/* ---- for the subcommands: the same, printing "facenet VERB: ..." ---- */
#include "facenet.h"

/* Plan one output per file below o's directory (same name and format);
 * paths[i] gets a malloc'd name.  Every refusal is printed (the first few,
 * then a count); returns 0, or 1 when any was refused (nothing written). */
int fn_cli_plan_outputs(const char *verb, fn_outputs *o, char *const *files, int n, char **paths);
/* Set o up for one named output (--output, --plot) that must be none of
 * the inputs (files, or folders whose files it must not be), and claim it;
 * prints the refusal and leaves o empty; 0 or 1. */
int fn_cli_output_file(const char *verb, fn_outputs *o, const char *path, char *const *inputs, int n, int overwrite);
/* Save img atomically at a claimed path: PNG for .png, else JPEG (quality
 * 90).  Prints the failure; 0 or 1. */
int fn_cli_save_image(const char *verb, const fn_outputs *o, const char *path, const fn_image *img);
/* Write an SVG plot atomically at a claimed path; prints the failure; 0 or 1. */
struct fn_svg_plot;
int fn_cli_save_svg(const char *verb, const fn_outputs *o, const char *path, const struct fn_svg_plot *plot);
/* Write through fn_outputs_write; prints the failure; 0 or 1. */
int fn_cli_write_output(const char *verb, const fn_outputs *o, const char *path, fn_output_writer write, void *ctx);

#endif
