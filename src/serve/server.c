/* server.c — libmicrohttpd around the endpoints: the daemon and its limits,
 * reading bodies within --max-body, routing, API keys and roles, the cap on
 * concurrent work, replies as JSON, and the signal that stops it all. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mhd.h"   /* libmicrohttpd, opened when the server starts */

#include "srv.h"

#define SRV_CONNECTIONS 256   /* connections held at once, from every address together */

void fn_srv_config_init(fn_srv_config *c)
{
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = 8080;
    c->max_body = 16u << 20;
    c->max_pixels = 40 * 1000 * 1000;
    c->max_busy = 8;
    c->timeout_s = 30;
    c->max_per_ip = 64;          /* of SRV_CONNECTIONS: one address cannot lock everyone else out */
    c->request_timeout_s = 120;  /* 16 MiB (--max-body's default) at about 1.1 Mbit/s */
    c->workers = 0;
    c->threshold = -1;
    c->select = FN_SELECT_PROB;
}

/* ------------------------------------------------------------ replies */

void srv_json(srv_reply *out, int status, cJSON *j)
{
    out->status = status;
    out->json = j;
}

void srv_error(srv_reply *out, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    cJSON_AddNumberToObject(j, "status", status);
    if (out->json) cJSON_Delete(out->json);
    srv_json(out, status, j);
}

int srv_status_http(fn_status s)
{
    switch (s) {
    case FN_OK: return 200;
    case FN_ERR_ARG: case FN_ERR_FORMAT: case FN_ERR_UNSUPPORTED: return 400;
    case FN_ERR_LIMIT: return 413;
    case FN_ERR_NOT_FOUND: return 404;
    case FN_ERR_MISMATCH: return 409;
    case FN_ERR_NOMEM: case FN_ERR_UNAVAILABLE: return 503;
    default: return 500;
    }
}

void srv_fail(srv_reply *out, fn_status s)
{
    srv_error(out, srv_status_http(s), "%s", fn_last_error());
    cJSON_AddStringToObject(out->json, "code", fn_status_name(s));
    if (s == FN_ERR_UNAVAILABLE) out->retry_after = 2;   /* the gallery's PostgreSQL is away */
}

const char *srv_query(const srv_req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* --------------------------------------------------------------- keys */

static const char *role_name(srv_role r)
{
    static const char *const names[] = {"none", "recognize", "enroll", "admin"};
    return names[r];
}

/* KEYS.txt: `ROLE KEY` a line; blank lines and # comments skipped.  Only
 * the SHA-256 of each key is kept in memory. */
static int load_keys(srv *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "facenet serve: %s: cannot open the key file: %s\n", path, strerror(errno));
        return 1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char role[32], key[512], extra[2];
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\r' || !*p) continue;
        /* a third word is refused, not dropped: `admin KEY extra` may be a key with a space in it */
        if (sscanf(p, "%31s %511s %1s", role, key, extra) != 2) {
            fprintf(stderr, "facenet serve: %s:%d: expected `ROLE KEY`, two words (ROLE: recognize, enroll or admin)\n",
                    path, lineno);
            rc = 1;
            break;
        }
        srv_role r = !strcmp(role, "recognize") || !strcmp(role, "recognise") ? ROLE_RECOGNIZE
                   : !strcmp(role, "enroll") || !strcmp(role, "enrol") ? ROLE_ENROLL
                   : !strcmp(role, "admin") ? ROLE_ADMIN : ROLE_NONE;
        if (r == ROLE_NONE) {
            fprintf(stderr, "facenet serve: %s:%d: unknown role '%s' (recognize, enroll or admin)\n", path, lineno, role);
            rc = 1;
        } else if (strlen(key) < 16) {
            fprintf(stderr, "facenet serve: %s:%d: the key is shorter than 16 characters; use a long random one "
                            "(e.g. `openssl rand -hex 24`)\n", path, lineno);
            rc = 1;
        } else {
            srv_key *k = realloc(s->keys, (size_t)(s->n_keys + 1) * sizeof *k);
            if (!k) { rc = 1; break; }
            s->keys = k;
            fn_sha256_hex(key, strlen(key), k[s->n_keys].hash);
            k[s->n_keys++].role = r;
        }
        memset(key, 0, sizeof key);
    }
    memset(line, 0, sizeof line);
    fclose(f);
    if (!rc && s->n_keys == 0) {
        fprintf(stderr, "facenet serve: %s: no key in the file\n", path);
        rc = 1;
    }
    return rc;
}

/* The role of the request's key: every stored hash is compared in full
 * (no early exit), so the time does not depend on which key matched. */
static srv_role key_role(const srv *s, const char *key)
{
    if (!key) return ROLE_NONE;
    char h[65];
    fn_sha256_hex(key, strlen(key), h);
    srv_role role = ROLE_NONE;
    for (int i = 0; i < s->n_keys; i++) {
        unsigned diff = 0;
        for (int j = 0; j < 64; j++) diff |= (unsigned)(h[j] ^ s->keys[i].hash[j]);
        unsigned match = (unsigned)((diff - 1) >> 8) & 1u;   /* 1 when diff == 0 */
        role = match && s->keys[i].role > role ? s->keys[i].role : role;
    }
    return role;
}

static const char *request_key(struct MHD_Connection *c)
{
    const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
    if (k) return k;
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (a && !strncasecmp(a, "Bearer ", 7)) return a + 7;
    return NULL;
}

/* ------------------------------------------------------------ routing */

typedef struct route_match {
    srv_route route;
    srv_role need;       /* role needed */
    int compute;         /* counts against --max-busy */
    const char *allow;   /* methods this path allows (405) */
    int ok;              /* method allowed */
} route_match;

/* Splits path after "/v1/" into segments (percent-decoding each in place
 * in buf); returns the count, -1 when there are too many or one is empty. */
static int split(const char *path, char *buf, size_t cap, const char *seg[8])
{
    if (strlen(path) >= cap) return -1;
    strcpy(buf, path);
    int n = 0;
    char *p = buf;
    while (*p) {
        char *end = strchr(p, '/');
        if (end) *end = '\0';
        if (n == 8 || !*p) return -1;
        seg[n++] = p;
        MHD_http_unescape(p);
        if (!end) break;
        p = end + 1;
        if (!*p) return -1;
    }
    return n;
}

static int is(const char *m, const char *want) { return !strcmp(m, want); }

static route_match route_of(const char *method, const char *url, const char **seg, int *n_seg, char *buf, size_t cap)
{
    route_match rm = {R_OTHER, ROLE_NONE, 0, NULL, 0};
    *n_seg = 0;
    if (strncmp(url, "/v1/", 4)) {
        if (is(url, "/metrics")) {
            rm = (route_match){R_METRICS, ROLE_ADMIN, 0, "GET, HEAD", is(method, "GET") || is(method, "HEAD")};
            return rm;
        }
        rm = (route_match){R_STATIC, ROLE_NONE, 0, "GET, HEAD", is(method, "GET") || is(method, "HEAD")};
        return rm;
    }
    int n = split(url + 4, buf, cap, seg);
    *n_seg = n < 0 ? 0 : n;
    if (n <= 0) return rm;
    const char *a = seg[0];
    /* HEAD is answered as GET, without the body (libmicrohttpd drops it):
     * health checkers use it */
    int post = is(method, "POST"), get = is(method, "GET") || is(method, "HEAD");
    if (n == 1 && is(a, "detect")) rm = (route_match){R_DETECT, ROLE_RECOGNIZE, 1, "POST", post};
    else if (n == 1 && is(a, "embed")) rm = (route_match){R_EMBED, ROLE_RECOGNIZE, 1, "POST", post};
    else if (n == 1 && is(a, "identify")) rm = (route_match){R_IDENTIFY, ROLE_RECOGNIZE, 1, "POST", post};
    else if (n == 1 && is(a, "verify")) rm = (route_match){R_VERIFY, ROLE_RECOGNIZE, 1, "POST", post};
    else if (n == 1 && is(a, "calibrate")) rm = (route_match){R_CALIBRATE, ROLE_ADMIN, 1, "POST", post};
    else if (n == 1 && is(a, "health")) rm = (route_match){R_HEALTH, ROLE_NONE, 0, "GET, HEAD", get};
    else if (n == 1 && is(a, "openapi.json")) rm = (route_match){R_OPENAPI, ROLE_NONE, 0, "GET, HEAD", get};
    else if (is(a, "live") && n == 1) rm = (route_match){R_LIVE, ROLE_RECOGNIZE, 0, "POST", post};
    else if (is(a, "live") && n == 2) rm = (route_match){R_LIVE, ROLE_RECOGNIZE, 0, "DELETE", is(method, "DELETE")};
    else if (is(a, "live") && n == 3 && is(seg[2], "frames"))
        rm = (route_match){R_LIVE, ROLE_RECOGNIZE, 1, "POST", post};
    else if (is(a, "people") && n == 1)
        rm = (route_match){R_PEOPLE, post ? ROLE_ENROLL : ROLE_RECOGNIZE, post, "GET, HEAD, POST", get || post};
    else if (is(a, "people") && n == 2)
        rm = (route_match){R_PEOPLE, is(method, "DELETE") ? ROLE_ADMIN : ROLE_ENROLL, 0, "PATCH, DELETE",
                           is(method, "PATCH") || is(method, "DELETE")};
    else if (is(a, "people") && n == 3 && is(seg[2], "faces"))
        rm = (route_match){R_FACES, get ? ROLE_RECOGNIZE : ROLE_ENROLL, post, "GET, HEAD, POST, DELETE",
                           get || post || is(method, "DELETE")};
    else if (is(a, "people") && n == 4 && is(seg[2], "faces"))
        rm = (route_match){R_FACES, ROLE_ENROLL, 0, "DELETE", is(method, "DELETE")};
    return rm;
}

/* ------------------------------------------------------------ requests */

typedef struct req {
    unsigned char *body;
    size_t len, cap;
    int counted_upload;
    int too_big;           /* a chunked body passed --max-body: dropped */
    size_t dropped;        /* bytes of it dropped */
    int answered;          /* a reply was queued in the first call */
    double t0;
    route_match rm;
    const char *seg[8];
    int n_seg;
    srv_role role;
    char segbuf[1024];
    char *raw;             /* the request's path as sent (still escaped), without the query; after the
                              struct, in its block (uri_log) */
    int started;           /* the first call of the handler has been made */
} req;

static void upload_done(srv *s, req *r)
{
    if (r->counted_upload) atomic_fetch_sub(&s->m.uploads, 1);
    r->counted_upload = 0;
}

static void add_common_headers(srv *s, struct MHD_Response *resp, const srv_reply *rep)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (s->cfg->cors_origin) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", s->cfg->cors_origin);
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Content-Type, X-API-Key, Authorization");
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
    }
    if (rep->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", rep->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (rep->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow);
    if (rep->close) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (rep->status == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
}

/* s with every occurrence of from replaced by to (malloc'd), NULL when
 * from does not occur (or out of memory). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    if (!fl) return NULL;
    for (const char *p = strstr(s, from); p; p = strstr(p + fl, from)) n++;
    if (!n) return NULL;
    char *out = malloc(strlen(s) + n * tl + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = s, *q; (q = strstr(p, from)); p = q + fl) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        if (!strstr(q + fl, from)) strcpy(o, q + fl);
    }
    return out;
}

/* The library names the gallery by its path in its sentences (right for
 * the CLI's user); a client of the server is told its base name instead
 * ("/srv/data/people.db: query 0 ..." went out as such). */
static void hide_paths(const srv *s, cJSON *j)
{
    cJSON *x;
    cJSON_ArrayForEach(x, j) {
        if (!cJSON_IsString(x)) continue;
        for (int i = 0; i < 3; i++) {
            char *t = s->hide[i] ? replace_all(x->valuestring, s->hide[i], s->shown) : NULL;
            if (t) cJSON_SetValuestring(x, t);
            free(t);
        }
    }
}

/* Fills s->hide and s->shown from the gallery's path (see srv). */
static void paths_to_hide(srv *s, const char *path)
{
    if (!path || !*path) return;
    if (fn_gallery_is_url(path)) {
        snprintf(s->shown, sizeof s->shown, "the gallery");
        s->hide[0] = strdup(path);
        /* as the library prints it: scheme://user:***@host... */
        const char *sch = strstr(path, "://"), *at = sch ? strchr(sch + 3, '@') : NULL;
        const char *colon = sch && at ? memchr(sch + 3, ':', (size_t)(at - (sch + 3))) : NULL;
        if (colon && (s->hide[1] = malloc(strlen(path) + 4)))
            sprintf(s->hide[1], "%.*s***%s", (int)(colon + 1 - path), path, at);
        return;
    }
    const char *slash = strrchr(path, '/');
    snprintf(s->shown, sizeof s->shown, "%s", slash ? slash + 1 : path);
    s->hide[0] = realpath(path, NULL);   /* the longer first: it may hold the one given */
    s->hide[1] = strdup(path);
}

static enum MHD_Result send_reply(srv *s, struct MHD_Connection *c, req *r, srv_reply *rep)
{
    struct MHD_Response *resp;
    if (rep->json) {
        hide_paths(s, rep->json);
        char *text = cJSON_PrintUnformatted(rep->json);
        cJSON_Delete(rep->json);
        rep->json = NULL;
        if (!text) return MHD_NO;
        size_t n = strlen(text);
        text = realloc(text, n + 2);   /* a newline ends the document: curl's output stays readable */
        text[n] = '\n';
        resp = MHD_create_response_from_buffer(n + 1, text, MHD_RESPMEM_MUST_FREE);
        if (resp) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    } else {
        resp = MHD_create_response_from_buffer(rep->text_len, (void *)rep->text,
                                               rep->text_owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (resp && rep->ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->ctype);
    }
    if (!resp) return MHD_NO;
    add_common_headers(s, resp, rep);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rep->status, resp);
    MHD_destroy_response(resp);
    srv_metrics_record(s, r->rm.route, rep->status, fn_now() - r->t0);
    r->answered = 1;
    return ok;
}

/* A query argument whose name or value holds a NUL (%00): a C string would
 * end there ("a%00b" named a person "a"), so the request is refused. */
typedef struct nul_arg { char name[64]; int found; } nul_arg;

static enum MHD_Result find_nul_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                    const char *value, size_t value_size)
{
    nul_arg *a = cls;
    (void)kind;
    if (memchr(key, '\0', key_size) || (value && memchr(value, '\0', value_size))) {
        snprintf(a->name, sizeof a->name, "%s", key);
        a->found = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

/* What can be decided from the headers alone: route, method, key, size. */
static int check_headers(srv *s, struct MHD_Connection *c, const char *method, const char *url, req *r,
                         srv_reply *rep)
{
    r->rm = route_of(method, url, r->seg, &r->n_seg, r->segbuf, sizeof r->segbuf);
    if (s->cfg->cors_origin && is(method, "OPTIONS")) {
        rep->status = 204;
        rep->text = "";
        return 1;
    }
    nul_arg na = {"", 0};
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, find_nul_arg, &na);
    if (na.found || strstr(url, "%00")) {   /* url is the path as sent, still escaped */
        if (na.found) srv_error(rep, 400, "the query argument '%s' contains a control character (U+0000)", na.name);
        else srv_error(rep, 400, "the path contains a control character (U+0000, sent as %%00)");
        return 1;
    }
    if (r->rm.route == R_OTHER) {
        srv_error(rep, 404, "%s: no such endpoint (GET /v1/openapi.json lists them)", url);
        return 1;
    }
    if (!r->rm.ok) {
        rep->allow = r->rm.allow;
        srv_error(rep, 405, "%s %s: method not allowed here (allowed: %s)", method, url, r->rm.allow);
        return 1;
    }
    if (s->n_keys == 0) r->role = ROLE_ADMIN;   /* no keys: loopback only, everything allowed */
    else {
        const char *key = request_key(c);
        r->role = key_role(s, key);
        if (r->rm.need > ROLE_NONE && r->role == ROLE_NONE) {
            srv_error(rep, 401, key ? "the API key is not valid" :
                      "an API key is required (header X-API-Key: KEY, or Authorization: Bearer KEY)");
            return 1;
        }
        if (r->role < r->rm.need) {
            srv_error(rep, 403, "%s %s needs the %s role; this key has %s", method, url, role_name(r->rm.need),
                      role_name(r->role));
            return 1;
        }
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || n > s->cfg->max_body) {
            srv_error(rep, 413, "the request body (%s bytes) is larger than this server accepts (%zu bytes, --max-body)",
                      cl, s->cfg->max_body);
            return 1;
        }
    }
    return 0;
}

static void dispatch(srv *s, srv_req *q, req *r, srv_reply *rep)
{
    switch (r->rm.route) {
    case R_DETECT: srv_detect(s, q, rep, 0); break;
    case R_EMBED: srv_detect(s, q, rep, 1); break;
    case R_IDENTIFY: srv_identify(s, q, rep); break;
    case R_VERIFY: srv_verify(s, q, rep); break;
    case R_PEOPLE: case R_FACES: srv_people(s, q, rep); break;
    case R_CALIBRATE: srv_calibrate(s, q, rep); break;
    case R_HEALTH: srv_health(s, q, rep); break;
    case R_LIVE: srv_live(s, q, rep); break;
    case R_METRICS:
        rep->status = 200;
        rep->text = srv_metrics_text(s, &rep->text_len);
        rep->text_owned = 1;
        rep->ctype = "text/plain; version=0.0.4";
        if (!rep->text) srv_error(rep, 503, "out of memory for the metrics");
        break;
    case R_OPENAPI: case R_STATIC: {
        const char *ctype;
        const unsigned char *data = srv_asset(r->rm.route == R_OPENAPI ? "/openapi.json" : q->path, &rep->text_len, &ctype);
        if (!data) { srv_error(rep, 404, "%s: no such page", q->path); break; }
        rep->status = 200;
        rep->text = (const char *)data;
        rep->ctype = ctype;
        break;
    }
    default: srv_error(rep, 404, "no such endpoint");
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    srv *s = cls;
    req *r = *con_cls;
    if (!r) return MHD_NO;   /* uri_log made none (out of memory): the connection is closed */
    if (!r->started) {
        r->started = 1;
        srv_reply rep = {0};
        if (fn_now() - r->t0 > s->cfg->request_timeout_s) {   /* headers sent a byte at a time */
            rep.close = 1;
            srv_error(&rep, 408, "the request's headers took longer than %d s (--request-timeout)",
                      s->cfg->request_timeout_s);
            return send_reply(s, c, r, &rep);
        }
        if (check_headers(s, c, method, r->raw, r, &rep)) return send_reply(s, c, r, &rep);
        return MHD_YES;
    }
    if (r->answered) {            /* answered from the headers: the body is not read */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size && fn_now() - r->t0 > s->cfg->request_timeout_s) {
        /* --timeout cuts a connection idle that long, not one trickling a
         * byte every few seconds: each such client would hold its
         * connection (and its thread) for as long as it likes.  libmicrohttpd
         * 0.9.75 cannot queue a reply in the middle of a body, so the
         * connection is closed; the metrics count it as a 408. */
        srv_metrics_record(s, r->rm.route, 408, fn_now() - r->t0);
        upload_done(s, r);
        return MHD_NO;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        if (r->too_big || n > s->cfg->max_body - r->len) {
            /* A chunked body (no Content-Length) grew past the limit.
             * libmicrohttpd 0.9.75 queues a reply only before the body or
             * after all of it, so the rest is read and dropped, and the 413
             * goes out at its end; past another --max-body of it the
             * connection is closed (an endless stream ends there). */
            if (!r->too_big) {
                r->too_big = 1;
                upload_done(s, r);
                free(r->body);
                r->body = NULL;
                r->cap = 0;
            }
            r->dropped += n;
            *upload_size = 0;
            return r->dropped > s->cfg->max_body ? MHD_NO : MHD_YES;
        }
        if (r->len + n > r->cap) {
            size_t cap = r->cap ? r->cap : 64 * 1024;
            while (cap < r->len + n) cap *= 2;
            if (cap > s->cfg->max_body) cap = s->cfg->max_body;
            unsigned char *b = realloc(r->body, cap);
            if (!b) return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        if (!r->counted_upload) { atomic_fetch_add(&s->m.uploads, 1); r->counted_upload = 1; }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    upload_done(s, r);
    srv_reply rep = {0};
    if (r->too_big) {
        rep.close = 1;
        srv_error(&rep, 413, "the request body (%zu bytes, sent in chunks) is larger than this server "
                  "accepts (%zu bytes, --max-body)", r->len + r->dropped, s->cfg->max_body);
        return send_reply(s, c, r, &rep);
    }
    srv_req q = {.conn = c, .method = is(method, "HEAD") ? "GET" : method, .path = r->raw, .n_seg = r->n_seg, .body = r->body, .len = r->len,
                 .role = r->role};
    memcpy(q.seg, r->seg, sizeof q.seg);
    q.ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!q.ctype) q.ctype = "";
    int counted = 0;
    if (r->rm.compute) {
        int before = atomic_fetch_add(&s->m.busy, 1);
        /* OpenMP's team size is this thread's own setting.  Alone, a
         * request uses every core; when others compute too, the requests
         * are the parallelism and each runs its networks on one thread:
         * 8 requests x 2 threads on 2 cores cost 25-29 CPU-ms a request in
         * fork/join and futex wake-ups against 22 on one (bench/serve.sh). */
        omp_set_num_threads(before > 0 ? 1 : s->omp_threads);
        if (before >= s->cfg->max_busy) {
            atomic_fetch_sub(&s->m.busy, 1);
            pthread_mutex_lock(&s->m.lock);
            s->m.rejected_busy++;
            pthread_mutex_unlock(&s->m.lock);
            rep.retry_after = 1;
            srv_error(&rep, 503, "the server is busy (%d requests computing, --max-busy); retry in a second",
                      s->cfg->max_busy);
            return send_reply(s, c, r, &rep);
        }
        counted = 1;
    }
    dispatch(s, &q, r, &rep);
    if (counted) atomic_fetch_sub(&s->m.busy, 1);
    (void)version;
    return send_reply(s, c, r, &rep);
}

/* Called when a request ends, answered or not (a client gone mid-upload
 * lands here too): its body is freed and nothing else was touched. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    srv *s = cls;
    req *r = *con_cls;
    (void)c;
    (void)toe;
    if (!r) return;
    upload_done(s, r);
    free(r->body);
    free(r);   /* raw is in the same block */
    *con_cls = NULL;
}

/* ------------------------------------------------------------- running */

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "facenet serve: %s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    return buf;
}

/* libmicrohttpd unescapes the path before the handler sees it, and a
 * person named "AC/DC" (/v1/people/AC%2FDC/faces) became two segments.
 * So each request starts here, with the path as the client sent it: kept
 * escaped (route_of splits it at '/', then unescapes each segment once, so
 * a '%' in a name is not unescaped twice either), while libmicrohttpd
 * unescapes the query arguments as usual.  The request object made here is
 * the one the handler gets and on_completed frees (libmicrohttpd's
 * documented use of this callback). */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    size_t n = strcspn(uri, "?");
    req *r = calloc(1, sizeof *r + n + 1);   /* the path after the request, in one block */
    if (!r) return NULL;
    r->t0 = fn_now();
    r->raw = (char *)(r + 1);
    memcpy(r->raw, uri, n);
    r->raw[n] = '\0';
    return r;
}

/* libmicrohttpd's own messages: before the daemon runs, the last one is
 * kept for facenet's sentence (it said "Failed to bind to port 0: Address
 * already in use" for any port, before facenet named the right one); once
 * it runs, each goes to stderr under facenet's prefix. */
typedef struct srv_mhd_log { char last[512]; int started; } srv_mhd_log;

/* What libmicrohttpd says of a client that went away, or of a connection
 * the handler chose to close (MHD_NO: --request-timeout, an endless
 * chunked body): ordinary, and a line each filled the log (270 in a test). */
static int ordinary(const char *msg)
{
    static const char *const quiet[] = {"closed by remote side", "Connection reset", "Broken pipe",
                                        "Socket disconnected", "Error receiving data", "Failed to send data",
                                        "Application reported internal error"};
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
        if (strstr(msg, quiet[i])) return 1;
    return 0;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    srv_mhd_log *l = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    if (__atomic_load_n(&l->started, __ATOMIC_ACQUIRE)) {
        if (!ordinary(msg)) fprintf(stderr, "facenet serve: libmicrohttpd: %s\n", msg);
    }
    else snprintf(l->last, sizeof l->last, "%s", msg);
}

static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a);
}

int fn_srv_run(const fn_srv_config *cfg)
{
    srv *s = calloc(1, sizeof *s);
    if (!s) return 1;
    s->cfg = cfg;
    s->e = cfg->engine;
    s->g = cfg->gallery;
    s->started = fn_now();
    paths_to_hide(s, cfg->gallery_path);
    s->omp_threads = omp_get_max_threads();   /* OMP_NUM_THREADS, else the cores */
    pthread_mutex_init(&s->m.lock, NULL);
    pthread_mutex_init(&s->sessions_lock, NULL);
    pthread_mutex_init(&s->enrol_lock, NULL);
    for (int i = 0; i < SRV_SESSIONS; i++) pthread_mutex_init(&s->sessions[i].lock, NULL);
    int rc = 1;
    char *cert = NULL, *key = NULL;
    struct MHD_Daemon *d = NULL;
    char why[400];
    if (fn_srv_mhd_load(why, sizeof why)) {
        fprintf(stderr, "facenet serve: the HTTP server needs %s\n", why);
        goto out;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (inet_pton(AF_INET, cfg->host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, cfg->host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ss.ss_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)cfg->port);
    } else {
        fprintf(stderr, "facenet serve: --listen %s: not a numeric IPv4 or IPv6 address\n", cfg->host);
        goto out;
    }
    if (cfg->keys_path && load_keys(s, cfg->keys_path)) goto out;
    if (!s->n_keys && !is_loopback(&ss) && !cfg->allow_insecure) {
        fprintf(stderr, "facenet serve: --listen %s is reachable from other machines: give API keys with --keys "
                        "(anyone who can connect could otherwise read and change the gallery)\n", cfg->host);
        goto out;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        fprintf(stderr, "facenet serve: HTTPS needs both --tls-cert and --tls-key\n");
        goto out;
    }
    /* A thread per connection by default: a request computes for tens of
     * milliseconds, and in a pool the other connections of that worker
     * would wait behind it (their idle timeout running); --max-busy bounds
     * the work, --workers N chooses a pool of N threads instead. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                     (cfg->workers > 0 ? MHD_USE_EPOLL : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL);
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    if (cfg->tls_cert) {
        if (!(cert = read_pem(cfg->tls_cert)) || !(key = read_pem(cfg->tls_key))) goto out;
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem extra[4];   /* TLS and the pool, when asked for */
    int ne = 0;
    if (cert) {
        extra[ne++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
        extra[ne++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
    }
    if (cfg->workers > 0) extra[ne++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->workers, NULL};
    extra[ne] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    srv_mhd_log mlog = {{0}, 0};
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);   /* the daemon's threads inherit this: only sigwait gets them */
    signal(SIGPIPE, SIG_IGN);
    d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                         MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, &mlog,   /* first, as libmicrohttpd wants */
                         MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)SRV_CONNECTIONS,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_per_ip,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                         MHD_OPTION_ARRAY, extra,
                         MHD_OPTION_END);
    if (!d) {
        const char *cause = strrchr(mlog.last, ':');   /* "Failed to bind to port 0: Address already in use" */
        fprintf(stderr, "facenet serve: cannot listen on %s port %d (%s)\n", cfg->host, cfg->port,
                cause && cause[1] ? cause + 2 : "in use, or not an address of this machine");
        goto out;
    }
    __atomic_store_n(&mlog.started, 1, __ATOMIC_RELEASE);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = info ? info->port : cfg->port;
    char threads[48];
    if (cfg->workers > 0) snprintf(threads, sizeof threads, "%d worker threads", cfg->workers);
    else snprintf(threads, sizeof threads, "a thread per connection");
    fprintf(stderr, "facenet serve: listening on %s://%s%s%s:%d/ (%s; %s; Ctrl-C stops)\n",
            cfg->tls_cert ? "https" : "http", ss.ss_family == AF_INET6 ? "[" : "", cfg->host,
            ss.ss_family == AF_INET6 ? "]" : "", port, s->n_keys ? "API keys required" : "no API keys", threads);
    /* Between signals, the gallery is refreshed every 200 ms (a PostgreSQL
     * gallery's poll interval): other servers' enrolments reach this one's
     * index, and a lost database connection is re-made, without waiting
     * for a request to do it. */
    int sig = -1;
    const struct timespec tick = {0, 200 * 1000 * 1000};
    while ((sig = sigtimedwait(&stop, NULL, &tick)) < 0) fn_gallery_refresh(s->g, NULL);
    fprintf(stderr, "facenet serve: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    MHD_stop_daemon(d);
    rc = 0;
out:
    srv_live_free(s);
    if (key) memset(key, 0, strlen(key));
    free(cert);
    free(key);
    free(s->keys);
    for (int i = 0; i < 3; i++) free(s->hide[i]);
    for (int i = 0; i < SRV_SESSIONS; i++) pthread_mutex_destroy(&s->sessions[i].lock);
    pthread_mutex_destroy(&s->m.lock);
    pthread_mutex_destroy(&s->sessions_lock);
    pthread_mutex_destroy(&s->enrol_lock);
    free(s);
    return rc;
}
