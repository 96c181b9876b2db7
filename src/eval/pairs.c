#include "eval/pairs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define MAX_FIELDS 5  /* one more than any valid line, to report "got 5+" */

typedef struct span { const char *s; size_t n; } span;

/* A parse in progress: paths are stored as offsets into a growing buffer and
 * turned into pointers at the end, because the buffer moves as it grows. */
typedef struct parser {
    const char *name;
    size_t lineno;
    char *buf;
    size_t len, cap;
    size_t *off;      /* 2 offsets per pair */
} parser;

/* A quoted, printable, shortened copy of a field for error messages. */
static const char *show(span f, char *out, size_t cap)
{
    size_t n = f.n < cap - 6 ? f.n : cap - 6, j = 0;
    out[j++] = '\'';
    for (size_t i = 0; i < n; i++) out[j++] = (f.s[i] >= 32 && f.s[i] < 127) ? f.s[i] : '?';
    if (n < f.n) { memcpy(out + j, "...", 3); j += 3; }
    out[j++] = '\'';
    out[j] = '\0';
    return out;
}

static int split_fields(span line, span *f)
{
    int n = 0;
    size_t i = 0;
    while (i < line.n) {
        while (i < line.n && (line.s[i] == ' ' || line.s[i] == '\t')) i++;
        if (i == line.n) break;
        size_t start = i;
        while (i < line.n && line.s[i] != ' ' && line.s[i] != '\t') i++;
        if (n == MAX_FIELDS) return n + 1;
        f[n].s = line.s + start;
        f[n].n = i - start;
        n++;
    }
    return n;
}

/* Next line without its \n or \r\n; returns 0 at the end of the text. */
static int next_line(const char **p, const char *end, span *line)
{
    if (*p >= end) return 0;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    line->s = *p;
    line->n = (size_t)(stop - *p);
    if (line->n && line->s[line->n - 1] == '\r') line->n--;
    *p = nl ? nl + 1 : end;
    return 1;
}

static int parse_uint(span f, unsigned long max, unsigned long *v)
{
    if (f.n == 0 || f.n > 9) return 0;
    unsigned long x = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (f.s[i] < '0' || f.s[i] > '9') return 0;
        x = x * 10 + (unsigned long)(f.s[i] - '0');
    }
    if (x > max) return 0;
    *v = x;
    return 1;
}

/* A person's name becomes a directory: refuse anything that could climb out
 * of the image root or is not plain text. */
static int valid_name(span f)
{
    if (f.n == 0 || f.n > 200 || f.s[0] == '.') return 0;
    for (size_t i = 0; i < f.n; i++) {
        unsigned char c = (unsigned char)f.s[i];
        if (c < 33 || c == 127 || c == '/' || c == '\\') return 0;
    }
    return 1;
}

static fn_status field_error(parser *ps, int idx, const char *what, span f)
{
    char got[64];
    return fn_fail(FN_ERR_FORMAT, "%s:%zu: expected %s in field %d, got %s",
                   ps->name, ps->lineno, what, idx + 1, show(f, got, sizeof got));
}

static fn_status add_path(parser *ps, span name, span num, int idx, size_t *off)
{
    unsigned long k;
    if (!valid_name(name)) return field_error(ps, idx, "a person's name", name);
    if (!parse_uint(num, 9999, &k) || k == 0) return field_error(ps, idx + 1, "an image number 1..9999", num);
    size_t need = 2 * name.n + 12;
    if (ps->len + need > ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 4096;
        while (cap < ps->len + need) cap *= 2;
        char *b = realloc(ps->buf, cap);
        if (!b) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for the pair paths", ps->name);
        ps->buf = b;
        ps->cap = cap;
    }
    int n = snprintf(ps->buf + ps->len, need, "%.*s/%.*s_%04lu.jpg", (int)name.n, name.s, (int)name.n, name.s, k);
    *off = ps->len;
    ps->len += (size_t)n + 1;
    return FN_OK;
}

static fn_status parse_pair_line(parser *ps, span line, int same, fn_pair *pair, size_t *off)
{
    span f[MAX_FIELDS];
    int n = split_fields(line, f);
    int want = same ? 3 : 4;
    if (n != want) {
        char got[64];
        return fn_fail(FN_ERR_FORMAT, "%s:%zu: expected a %s line '%s', got %d field%s: %s", ps->name, ps->lineno,
                       same ? "same-person" : "different-person",
                       same ? "Name<TAB>n1<TAB>n2" : "Name1<TAB>n1<TAB>Name2<TAB>n2",
                       n > MAX_FIELDS ? MAX_FIELDS : n, n == 1 ? "" : "s", show(line, got, sizeof got));
    }
    pair->same = same;
    if (same) {
        FN_TRY(add_path(ps, f[0], f[1], 0, &off[0]));
        return add_path(ps, f[0], f[2], 0, &off[1]);
    }
    FN_TRY(add_path(ps, f[0], f[1], 0, &off[0]));
    return add_path(ps, f[2], f[3], 2, &off[1]);
}

static fn_status parse_header(parser *ps, span line, fn_pairs *p)
{
    span f[MAX_FIELDS];
    int n = split_fields(line, f);
    unsigned long a = 0, b = 0;
    char got[64];
    if (n == 1 && parse_uint(f[0], FN_PAIRS_MAX_PAIRS / 2, &a) && a > 0) {
        p->view = 1; p->nfolds = 1; p->per_set = a;
        return FN_OK;
    }
    if (n == 2 && parse_uint(f[0], FN_PAIRS_MAX_SETS, &a) && parse_uint(f[1], FN_PAIRS_MAX_PAIRS / 2, &b) && a > 0
        && b > 0 && a * b <= FN_PAIRS_MAX_PAIRS / 2) {
        p->view = 2; p->nfolds = (int)a; p->per_set = b;
        return FN_OK;
    }
    return fn_fail(FN_ERR_FORMAT, "%s:%zu: expected a header 'N' (View 1) or 'SETS<TAB>PAIRS' (View 2) "
                   "with positive counts, got %s", ps->name, ps->lineno, show(line, got, sizeof got));
}

static int blank(span line)
{
    for (size_t i = 0; i < line.n; i++)
        if (line.s[i] != ' ' && line.s[i] != '\t') return 0;
    return 1;
}

static fn_status parse_body(parser *ps, const char **cur, const char *end, fn_pairs *p)
{
    span line;
    size_t total = p->per_set * 2 * (size_t)p->nfolds;
    for (size_t i = 0; i < total; i++) {
        if (!next_line(cur, end, &line) || blank(line))
            return fn_fail(FN_ERR_FORMAT, "%s:%zu: expected %zu pair lines after the header (%d set%s of %zu same + "
                           "%zu different), got %zu", ps->name, ps->lineno + 1, total, p->nfolds,
                           p->nfolds == 1 ? "" : "s", p->per_set, p->per_set, i);
        ps->lineno++;
        size_t in_set = i % (2 * p->per_set);
        fn_pair *pair = &p->items[i];
        pair->fold = p->view == 1 ? 0 : (int)(i / (2 * p->per_set));
        FN_TRY(parse_pair_line(ps, line, in_set < p->per_set, pair, &ps->off[2 * i]));
    }
    while (next_line(cur, end, &line)) {
        ps->lineno++;
        if (!blank(line)) {
            char got[64];
            return fn_fail(FN_ERR_FORMAT, "%s:%zu: expected the end of the file after %zu pair lines, got %s",
                           ps->name, ps->lineno, total, show(line, got, sizeof got));
        }
    }
    return FN_OK;
}

fn_status fn_pairs_parse(const char *text, size_t len, const char *name, fn_pairs **out)
{
    *out = NULL;
    if (!text || !name) return fn_fail(FN_ERR_ARG, "pairs: no text given");
    if (len > FN_PAIRS_MAX_BYTES) return fn_fail(FN_ERR_LIMIT, "%s: %zu bytes is too large for a pairs file", name, len);
    if (memchr(text, '\0', len)) return fn_fail(FN_ERR_FORMAT, "%s: contains a NUL byte; not a text pairs file", name);
    fn_pairs *p = calloc(1, sizeof *p);
    parser ps = {name, 0, NULL, 0, 0, NULL};
    if (!p) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", name);
    const char *cur = text, *end = text + len;
    span line;
    fn_status st;
    if (!next_line(&cur, end, &line)) {
        st = fn_fail(FN_ERR_FORMAT, "%s:1: expected a header 'N' or 'SETS<TAB>PAIRS', got an empty file", name);
        goto fail;
    }
    ps.lineno = 1;
    if ((st = parse_header(&ps, line, p)) != FN_OK) goto fail;
    p->n = p->per_set * 2 * (size_t)p->nfolds;
    /* Every pair line is at least 6 bytes; a header promising more lines than
     * the text could hold is refused before allocating for them. */
    if (p->n > len / 6 + 1) {
        st = fn_fail(FN_ERR_FORMAT, "%s:1: the header promises %zu pairs but the file has only %zu bytes", name, p->n, len);
        goto fail;
    }
    p->items = calloc(p->n, sizeof *p->items);
    ps.off = calloc(2 * p->n, sizeof *ps.off);
    if (!p->items || !ps.off) { st = fn_fail(FN_ERR_NOMEM, "%s: out of memory for %zu pairs", name, p->n); goto fail; }
    if ((st = parse_body(&ps, &cur, end, p)) != FN_OK) goto fail;
    p->text = ps.buf;
    for (size_t i = 0; i < p->n; i++) {
        p->items[i].path1 = p->text + ps.off[2 * i];
        p->items[i].path2 = p->text + ps.off[2 * i + 1];
    }
    free(ps.off);
    *out = p;
    return FN_OK;
fail:
    free(ps.buf);
    free(ps.off);
    fn_pairs_free(p);
    return st;
}

/* Read a whole file, growing the buffer as needed, up to FN_PAIRS_MAX_BYTES. */
static fn_status read_text(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fn_fail(FN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    fn_status st = FN_OK;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || ferror(f)) break;
        if (cap >= FN_PAIRS_MAX_BYTES) { st = fn_fail(FN_ERR_LIMIT, "%s: larger than %u bytes; not a pairs file", path, FN_PAIRS_MAX_BYTES); break; }
        char *b = realloc(buf, cap * 2);
        if (!b) { free(buf); buf = NULL; break; }
        buf = b;
        cap *= 2;
    }
    if (st == FN_OK && !buf) st = fn_fail(FN_ERR_NOMEM, "%s: out of memory", path);
    if (st == FN_OK && ferror(f)) st = fn_fail(FN_ERR_IO, "%s: read error", path);
    fclose(f);
    if (st != FN_OK) { free(buf); return st; }
    *text = buf;
    *len = n;
    return FN_OK;
}

fn_status fn_pairs_load(const char *path, fn_pairs **out)
{
    *out = NULL;
    if (!path) return fn_fail(FN_ERR_ARG, "pairs: no path given");
    char *text = NULL;
    size_t len = 0;
    FN_TRY(read_text(path, &text, &len));
    fn_status st = fn_pairs_parse(text, len, path, out);
    free(text);
    return st;
}

void fn_pairs_free(fn_pairs *p)
{
    if (!p) return;
    free(p->items);
    free(p->text);
    free(p);
}

size_t fn_pairs_count_same(const fn_pairs *p)
{
    size_t n = 0;
    for (size_t i = 0; p && i < p->n; i++) n += p->items[i].same != 0;
    return n;
}
