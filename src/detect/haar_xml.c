/* A small XML reader for OpenCV FileStorage files: elements, character data,
 * comments, <?...?> and <!...> declarations.  No entities, namespaces or CDATA:
 * cascade files hold only element names and numbers.  Builds a flat tree. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "detect/haar_internal.h"

#define XML_MAX_DEPTH 64
#define XML_MAX_NODES (1 << 24)

typedef struct xml_parser {
    const char *name;      /* file name for messages */
    const char *s, *p, *end;
    xml_doc *doc;
} xml_parser;

static int line_of(const xml_parser *ps, const char *at)
{
    int line = 1;
    for (const char *q = ps->s; q < at && q < ps->end; q++) line += *q == '\n';
    return line;
}

static fn_status xml_err(const xml_parser *ps, const char *at, const char *what)
{
    return fn_fail(FN_ERR_FORMAT, "%s: line %d: %s", ps->name, line_of(ps, at), what);
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':';
}

static int new_node(xml_doc *d)
{
    if (d->count == d->cap) {
        if (d->cap >= XML_MAX_NODES) return -1;
        int cap = d->cap ? d->cap * 2 : 1024;
        xml_node *n = realloc(d->nodes, (size_t)cap * sizeof *n);
        if (!n) return -1;
        d->nodes = n;
        d->cap = cap;
    }
    xml_node *n = &d->nodes[d->count];
    memset(n, 0, sizeof *n);
    n->first_child = n->next_sibling = -1;
    return d->count++;
}

/* Skips "<!-- ... -->", "<?...?>" or "<!...>" at p; returns 0 if p is none of them. */
static int skip_markup(xml_parser *ps, fn_status *st)
{
    const char *p = ps->p;
    const char *close;
    if (ps->end - p >= 4 && memcmp(p, "<!--", 4) == 0) close = "-->";
    else if (ps->end - p >= 2 && p[0] == '<' && p[1] == '?') close = "?>";
    else if (ps->end - p >= 2 && p[0] == '<' && p[1] == '!') close = ">";
    else return 0;
    size_t cl = strlen(close);
    for (const char *q = p + 2; q + cl <= ps->end; q++)
        if (memcmp(q, close, cl) == 0) { ps->p = q + cl; return 1; }
    *st = xml_err(ps, p, "unterminated comment or declaration");
    return 1;
}

/* Reads "<name attr="..." ...>" or ".../>"; p is at '<'. */
static fn_status read_start_tag(xml_parser *ps, int *node, int *self_closing)
{
    const char *p = ps->p + 1;
    const char *nm = p;
    while (p < ps->end && is_name_char(*p)) p++;
    if (p == nm) return xml_err(ps, ps->p, "expected an element name after '<'");
    char quote = 0;
    const char *q = p;
    for (; q < ps->end; q++) {
        if (quote) { if (*q == quote) quote = 0; continue; }
        if (*q == '"' || *q == '\'') quote = *q;
        else if (*q == '>' || *q == '<') break;
    }
    if (q >= ps->end || *q != '>') return xml_err(ps, ps->p, "unterminated start tag");
    int id = new_node(ps->doc);
    if (id < 0) return fn_fail(FN_ERR_LIMIT, "%s: too many XML elements", ps->name);
    ps->doc->nodes[id].name = nm;
    ps->doc->nodes[id].name_len = (int)(p - nm);
    *self_closing = q[-1] == '/';
    *node = id;
    ps->p = q + 1;
    return FN_OK;
}

static fn_status read_end_tag(xml_parser *ps, const xml_node *open)
{
    const char *p = ps->p + 2, *nm = p;
    while (p < ps->end && is_name_char(*p)) p++;
    size_t n = (size_t)(p - nm);
    while (p < ps->end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    if (p >= ps->end || *p != '>') return xml_err(ps, ps->p, "unterminated end tag");
    if (!open) return xml_err(ps, ps->p, "end tag without a matching start tag");
    if (n != (size_t)open->name_len || memcmp(nm, open->name, n) != 0)
        return xml_err(ps, ps->p, "end tag does not match the open element");
    ps->p = p + 1;
    return FN_OK;
}

static void link_child(xml_doc *d, int parent, int *last_child, int id)
{
    if (parent < 0) return;
    if (last_child[0] < 0) d->nodes[parent].first_child = id;
    else d->nodes[last_child[0]].next_sibling = id;
    last_child[0] = id;
}

static fn_status parse_body(xml_parser *ps)
{
    int stack[XML_MAX_DEPTH], last[XML_MAX_DEPTH];
    int depth = 0, have_root = 0;
    fn_status st = FN_OK;
    while (ps->p < ps->end) {
        const char *lt = memchr(ps->p, '<', (size_t)(ps->end - ps->p));
        if (depth > 0) {
            xml_node *cur = &ps->doc->nodes[stack[depth - 1]];
            if (!cur->text) { cur->text = ps->p; cur->text_len = (int)((lt ? lt : ps->end) - ps->p); }
        }
        if (!lt) break;
        ps->p = lt;
        if (skip_markup(ps, &st)) { if (st) return st; continue; }
        if (lt + 1 < ps->end && lt[1] == '/') {
            FN_TRY(read_end_tag(ps, depth ? &ps->doc->nodes[stack[depth - 1]] : NULL));
            depth--;
            continue;
        }
        int id = -1, self_closing = 0;
        FN_TRY(read_start_tag(ps, &id, &self_closing));
        if (depth == 0 && have_root) return xml_err(ps, lt, "more than one top-level element");
        have_root = 1;
        if (depth > 0) link_child(ps->doc, stack[depth - 1], &last[depth - 1], id);
        if (self_closing) continue;
        if (depth == XML_MAX_DEPTH) return xml_err(ps, lt, "elements nested too deeply");
        stack[depth] = id;
        last[depth] = -1;
        depth++;
    }
    if (depth > 0) return xml_err(ps, ps->end, "file ends inside an open element (truncated?)");
    if (!have_root) return fn_fail(FN_ERR_FORMAT, "%s: no XML element found", ps->name);
    return FN_OK;
}

fn_status fn_xml_parse(const char *name, const char *data, size_t len, xml_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    doc->buf = malloc(len + 1);
    if (!doc->buf) return fn_fail(FN_ERR_NOMEM, "%s: no memory for %zu bytes", name, len);
    memcpy(doc->buf, data, len);
    doc->buf[len] = '\0';   /* lets strtod stop at the end of the last text run */
    doc->len = len;
    if (memchr(doc->buf, '\0', len)) { fn_xml_free(doc); return fn_fail(FN_ERR_FORMAT, "%s: contains NUL bytes, not XML", name); }
    xml_parser ps = {name, doc->buf, doc->buf, doc->buf + len, doc};
    fn_status st = parse_body(&ps);
    if (st != FN_OK) fn_xml_free(doc);
    return st;
}

void fn_xml_free(xml_doc *doc)
{
    free(doc->nodes);
    free(doc->buf);
    memset(doc, 0, sizeof *doc);
}

int fn_xml_child(const xml_doc *d, int node, const char *name)
{
    if (node < 0) return -1;
    size_t n = strlen(name);
    for (int c = d->nodes[node].first_child; c >= 0; c = d->nodes[c].next_sibling)
        if ((size_t)d->nodes[c].name_len == n && memcmp(d->nodes[c].name, name, n) == 0) return c;
    return -1;
}

int fn_xml_count_children(const xml_doc *d, int node)
{
    int k = 0;
    if (node >= 0)
        for (int c = d->nodes[node].first_child; c >= 0; c = d->nodes[c].next_sibling) k++;
    return k;
}
