/* gallery_open.h — opening a gallery for the engine a command runs, so
 * that every command checks the model identity the same way.
 */
#ifndef FN_CLI_GALLERY_OPEN_H
#define FN_CLI_GALLERY_OPEN_H

#include "facenet.h"

/* flags: FN_GALLERY_CREATE / FN_GALLERY_READONLY.  e may be NULL (tools
 * that never embed).  Prints the error and returns 1 on failure. */
int fn_cli_gallery_open(const char *verb, const char *path, fn_engine *e, int flags, fn_gallery **out);
/* The photo library's commands (scan, cluster, people) work on a gallery
 * file: for a PostgreSQL URL, says so and how to share the named people,
 * and returns 2 (a usage error); with must_exist, a missing file points to
 * `facenet scan` and returns 1; 0 otherwise. */
int fn_cli_library_path(const char *verb, const char *path, int must_exist);
/* fn_decision_threshold (the library's rule: explicit >= 0, else the
 * gallery's calibrated one, else the model's default); *source names it as
 * the CLI prints it ("--threshold" for the flag). */
float fn_cli_threshold(fn_gallery *g, fn_engine *e, float explicit_t, const char **source);

#endif
