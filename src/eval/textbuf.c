#include "eval/textbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tb_reserve(fn_textbuf *b, size_t extra)
{
    if (b->failed) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) { b->failed = 1; return 0; }
    b->s = s;
    b->cap = cap;
    return 1;
}

void fn_tb_printf(fn_textbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !tb_reserve(b, (size_t)n)) { b->failed = 1; return; }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void fn_tb_repeat(fn_textbuf *b, char c, int count)
{
    if (count <= 0 || !tb_reserve(b, (size_t)count)) return;
    memset(b->s + b->len, c, (size_t)count);
    b->len += (size_t)count;
    b->s[b->len] = '\0';
}

fn_status fn_tb_finish(fn_textbuf *b, char **out)
{
    if (!b->failed && !b->s) tb_reserve(b, 0);
    if (b->failed) {
        fn_tb_release(b);
        return fn_fail(FN_ERR_NOMEM, "eval: out of memory while writing a report");
    }
    b->s[b->len] = '\0';
    *out = b->s;
    b->s = NULL;
    b->len = b->cap = 0;
    return FN_OK;
}

void fn_tb_release(fn_textbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

double fn_nice_step(double span, int parts)
{
    if (!(span > 0) || parts < 1) return 1.0;
    double raw = span / parts;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
    return nice * mag;
}
