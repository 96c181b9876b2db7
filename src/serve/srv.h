/* srv.h — the server's insides shared by its files: the request a handler
 * sees, the reply it fills, routes, roles, metrics, live sessions.  Only
 * src/serve includes it. */
#ifndef FN_SRV_H
#define FN_SRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "serve.h"

/* Roles, each allowing what the ones before it allow. */
typedef enum srv_role { ROLE_NONE = 0, ROLE_RECOGNIZE, ROLE_ENROLL, ROLE_ADMIN } srv_role;

/* Routes, for metrics and for the busy cap (the ones that run networks). */
typedef enum srv_route {
    R_DETECT, R_EMBED, R_IDENTIFY, R_VERIFY, R_PEOPLE, R_FACES, R_CALIBRATE, R_LIVE, R_HEALTH, R_METRICS,
    R_OPENAPI, R_STATIC, R_OTHER, R_COUNT
} srv_route;

#define SRV_CODES 15
extern const int srv_codes[SRV_CODES];   /* status codes counted one by one (constant table) */
#define SRV_BUCKETS 12
extern const double srv_buckets[SRV_BUCKETS];   /* latency histogram bounds, seconds (constant) */

typedef struct srv_metrics {
    pthread_mutex_t lock;
    unsigned long long requests[R_COUNT][SRV_CODES + 1];   /* last column: other codes */
    unsigned long long hist[R_COUNT][SRV_BUCKETS + 1];     /* cumulative at output; +Inf last */
    double seconds[R_COUNT];
    unsigned long long faces, enrolled, rejected_busy, frames;
    atomic_int uploads;          /* request bodies being received now */
    atomic_int busy;             /* requests computing now */
} srv_metrics;

/* One part of a multipart/form-data body (pointers into the body). */
typedef struct srv_part {
    const char *name, *filename, *type;   /* NUL-terminated copies, "" when absent */
    const unsigned char *data;
    size_t len;
} srv_part;
#define SRV_MAX_PARTS 16

typedef struct srv_key { char hash[65]; srv_role role; } srv_key;

#define SRV_SESSIONS 16
typedef struct srv_session {
    char id[33];                /* "" = free slot */
    fn_watcher *w;
    pthread_mutex_t lock;       /* one frame at a time per session */
    double t0, last;
} srv_session;

typedef struct srv {
    const fn_srv_config *cfg;
    fn_engine *e;
    fn_gallery *g;
    srv_key *keys;
    int n_keys;
    double started;
    srv_metrics m;
    pthread_mutex_t sessions_lock;
    srv_session sessions[SRV_SESSIONS];
    int omp_threads;              /* OpenMP team of a request computing alone */
    pthread_mutex_t enrol_lock;   /* gallery edits, one at a time: each is one transaction (people.c) */
    /* The gallery's names in the library's sentences (its path as given,
     * the absolute one; a URL as the library prints it, password hidden)
     * and what a client is told instead (the file's base name, or "the
     * gallery"); NULL where none. */
    char *hide[3];
    char shown[256];
} srv;

/* What a handler sees of the request. */
typedef struct srv_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;            /* without the query */
    const char *seg[8];          /* path segments after /v1/ (decoded copies) */
    int n_seg;
    const unsigned char *body;
    size_t len;
    const char *ctype;           /* Content-Type or "" */
    srv_role role;
} srv_req;

/* What a handler answers: JSON (owned), or constant bytes. */
typedef struct srv_reply {
    int status;
    cJSON *json;
    const char *text;            /* owned when text_owned */
    size_t text_len;
    int text_owned;
    const char *ctype;
    int retry_after;             /* seconds, 503 */
    int close;                   /* Connection: close (the rest of the body was not kept) */
    const char *allow;           /* 405: the methods allowed */
} srv_reply;

/* Replies. */
void srv_error(srv_reply *out, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The library's last sentence with the HTTP status its fn_status means. */
void srv_fail(srv_reply *out, fn_status s);
int srv_status_http(fn_status s);
void srv_json(srv_reply *out, int status, cJSON *j);

/* The request's query value, or NULL. */
const char *srv_query(const srv_req *r, const char *key);

typedef struct srv_inputs {
    srv_part parts[SRV_MAX_PARTS];
    int n;                      /* parts (multipart), or 1 for a raw body */
    int multipart, json;
    char names[2048];
} srv_inputs;

typedef struct srv_faces {
    fn_image img;
    fn_face faces[FN_FACES_MAX];
    int n, total;
    float *emb;                 /* n x dim when embedded */
} srv_faces;

/* api.c's helpers, shared by people.c and live.c.  Each returns 0, or 1
 * after filling out with the error reply. */
int srv_read_inputs(const srv_req *r, srv_inputs *in, srv_reply *out);
const srv_part *srv_image_part(const srv_inputs *in, const char *name, int k);
const char *srv_field(const srv_req *r, const srv_inputs *in, const char *name, char *buf, size_t cap);
int srv_run_faces(srv *s, const srv_part *p, const char *what, int embed, int max_faces, int need_face,
                  srv_faces *f, srv_reply *out);
void srv_faces_free(srv_faces *f);
cJSON *srv_floats(const float *v, int n);
cJSON *srv_parse_json(const srv_req *r, srv_reply *out);

/* Endpoints (api.c, people.c, live.c). */
void srv_detect(srv *s, const srv_req *r, srv_reply *out, int embed);
void srv_identify(srv *s, const srv_req *r, srv_reply *out);
void srv_verify(srv *s, const srv_req *r, srv_reply *out);
void srv_people(srv *s, const srv_req *r, srv_reply *out);
void srv_calibrate(srv *s, const srv_req *r, srv_reply *out);
void srv_health(srv *s, const srv_req *r, srv_reply *out);
void srv_live(srv *s, const srv_req *r, srv_reply *out);
void srv_live_free(srv *s);
/* Prometheus text exposition of s->m (metrics.c); malloc'd. */
char *srv_metrics_text(srv *s, size_t *len);
void srv_metrics_record(srv *s, srv_route route, int status, double seconds);

/* multipart.c: the boundary of a multipart/form-data Content-Type (copied
 * into b, cap bytes), 0 when it is not one; the parts of body.  Returns the
 * number of parts, or -1 with a sentence in err. */
int srv_multipart_boundary(const char *ctype, char *b, size_t cap);
int srv_multipart_parse(const unsigned char *body, size_t len, const char *boundary, srv_part *parts, int max,
                        char *names, size_t names_cap, char *err, size_t errcap);

/* assets.c: an embedded file by URL path ("/", "/app.js", ...), NULL if none. */
const unsigned char *srv_asset(const char *path, size_t *len, const char **ctype);

/* base64 of n bytes (malloc'd, NUL-terminated), NULL when out of memory. */
char *srv_base64(const unsigned char *p, size_t n);

#endif
