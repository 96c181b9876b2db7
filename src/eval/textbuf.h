/* textbuf.h — a growable text buffer and number helpers for the eval writers.
 * Owns: building report text (histograms, SVG) in memory before it leaves
 * the library as a string or a file.  Internal to src/eval.
 */
#ifndef FN_EVAL_TEXTBUF_H
#define FN_EVAL_TEXTBUF_H

#include <stddef.h>
#include "core/error.h"

typedef struct fn_textbuf {
    char *s;
    size_t len, cap;
    int failed;   /* sticky: once an append fails, later ones are no-ops */
} fn_textbuf;

/* Append formatted text; a failure is remembered and reported by _finish. */
void fn_tb_printf(fn_textbuf *b, const char *fmt, ...) FN_PRINTF(2, 3);
void fn_tb_repeat(fn_textbuf *b, char c, int count);
/* Hand the text to the caller (free() it) or report FN_ERR_NOMEM. */
fn_status fn_tb_finish(fn_textbuf *b, char **out);
void fn_tb_release(fn_textbuf *b);

/* A 1-2-5 x 10^k step giving about `parts` intervals over span (> 0). */
double fn_nice_step(double span, int parts);

#endif
