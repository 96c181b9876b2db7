/* multipart.c — multipart/form-data bodies (RFC 7578) held in memory: the
 * boundary from the Content-Type, then each part's name, filename, type
 * and bytes.  Bounded by the body; a malformed body is an error sentence,
 * never a read outside it. */
#define _GNU_SOURCE   /* memmem */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "srv.h"

int srv_multipart_boundary(const char *ctype, char *b, size_t cap)
{
    if (strncasecmp(ctype, "multipart/form-data", 19)) return 0;
    const char *p = strcasestr(ctype, "boundary=");
    if (!p) return 0;
    p += 9;
    int quoted = *p == '"';
    p += quoted;
    size_t n = 0;
    while (p[n] && (quoted ? p[n] != '"' : p[n] != ';' && p[n] != ' ')) n++;
    if (n == 0 || n > 70 || n + 1 > cap) return 0;   /* RFC 2046: 1..70 characters */
    memcpy(b, p, n);
    b[n] = '\0';
    return 1;
}

/* The value of attr="..." in a Content-Disposition line of len bytes,
 * copied to out (at most cap-1 bytes); "" when absent. */
static void disposition_attr(const char *line, size_t len, const char *attr, char *out, size_t cap)
{
    out[0] = '\0';
    char pat[24];
    snprintf(pat, sizeof pat, "%s=\"", attr);
    size_t pl = strlen(pat);
    for (size_t i = 0; i + pl <= len; i++) {
        if (strncasecmp(line + i, pat, pl) || (i > 0 && line[i - 1] != ' ' && line[i - 1] != ';')) continue;
        const char *v = line + i + pl, *end = memchr(v, '"', len - i - pl);
        if (!end) return;
        size_t n = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
        memcpy(out, v, n);
        out[n] = '\0';
        return;
    }
}

int srv_multipart_parse(const unsigned char *body, size_t len, const char *boundary, srv_part *parts, int max,
                        char *names, size_t names_cap, char *err, size_t errcap)
{
    char delim[80];
    int dl = snprintf(delim, sizeof delim, "--%s", boundary);
    const unsigned char *p = memmem(body, len, delim, (size_t)dl), *end = body + len;
    if (!p) { snprintf(err, errcap, "the boundary given in Content-Type never occurs"); return -1; }
    int n = 0;
    size_t used = 0;
    for (;;) {
        p += dl;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return n;   /* the closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') { snprintf(err, errcap, "a boundary is not followed by a line end"); return -1; }
        p += 2;
        const unsigned char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend) { snprintf(err, errcap, "part %d has no end of headers", n + 1); return -1; }
        char dname[128] = "", fname[256] = "", ctype[128] = "";
        for (const unsigned char *line = p; line < hend;) {
            const unsigned char *le = memmem(line, (size_t)(hend - line), "\r\n", 2);
            if (!le) le = hend;
            size_t ll = (size_t)(le - line);
            if (ll > 20 && !strncasecmp((const char *)line, "Content-Disposition:", 20)) {
                disposition_attr((const char *)line, ll, "name", dname, sizeof dname);
                disposition_attr((const char *)line, ll, "filename", fname, sizeof fname);
            } else if (ll > 13 && !strncasecmp((const char *)line, "Content-Type:", 13)) {
                size_t k = 13;
                while (k < ll && line[k] == ' ') k++;
                size_t m = ll - k < sizeof ctype - 1 ? ll - k : sizeof ctype - 1;
                memcpy(ctype, line + k, m);
                ctype[m] = '\0';
            }
            line = le + 2;
        }
        const unsigned char *data = hend + 4;
        char next[84];
        int nl = snprintf(next, sizeof next, "\r\n%s", delim);
        const unsigned char *q = memmem(data, (size_t)(end - data), next, (size_t)nl);
        if (!q) { snprintf(err, errcap, "part %d is not closed by the boundary (truncated body?)", n + 1); return -1; }
        if (n == max) { snprintf(err, errcap, "more than %d parts", max); return -1; }
        size_t need = strlen(dname) + strlen(fname) + strlen(ctype) + 3;
        if (used + need > names_cap) { snprintf(err, errcap, "the part headers are too long"); return -1; }
        srv_part *pt = &parts[n++];
        pt->name = strcpy(names + used, dname);
        used += strlen(dname) + 1;
        pt->filename = strcpy(names + used, fname);
        used += strlen(fname) + 1;
        pt->type = strcpy(names + used, ctype);
        used += strlen(ctype) + 1;
        pt->data = data;
        pt->len = (size_t)(q - data);
        p = q + 2;
    }
}

