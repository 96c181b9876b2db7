/* serve.h — `facenet serve`: recognition over HTTP (libmicrohttpd) and the
 * web page, a front end on the public API (include/) only, like the CLI.
 * The CLI's cmd_serve.c parses the options, opens the engine and gallery and
 * hands them here; this module owns the sockets, the routes, the limits and
 * the keys, and never opens a file a request names.
 */
#ifndef FN_SERVE_H
#define FN_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "facenet.h"

typedef struct fn_srv_config {
    fn_engine *engine;          /* shared by every worker (thread-safe handle) */
    fn_gallery *gallery;        /* opened writable; shared likewise */
    const char *gallery_path;   /* as opened (file or URL): kept out of what clients are sent */
    const char *host;           /* "127.0.0.1" (default), "::1", "0.0.0.0", ... */
    int port;                   /* 0: any free port (printed at start) */
    const char *keys_path;      /* NULL: no keys (allowed on loopback only) */
    const char *tls_cert, *tls_key;   /* PEM files, both or neither */
    const char *cors_origin;    /* NULL: no CORS headers */
    size_t max_body;            /* bytes (default 16 MiB) */
    int64_t max_pixels;         /* per image, checked from the header before decoding */
    int max_busy;               /* requests computing at once; beyond: 503 + Retry-After */
    int timeout_s;              /* idle connection timeout */
    int max_per_ip;             /* connections held at once from one client address */
    int request_timeout_s;      /* a request's body must have arrived this long after its request line */
    int workers;                /* 0: a thread per connection (default); N: a pool of N threads */
    float threshold;            /* < 0: the gallery's calibrated one, else the model's */
    fn_select select;           /* which face verify and enrol take */
    int allow_insecure;         /* 1: accept a non-loopback address without keys (tests, trusted nets) */
} fn_srv_config;

void fn_srv_config_init(fn_srv_config *c);
/* Serves until SIGINT or SIGTERM; returns the process exit code (0, or 1
 * after printing one line on stderr: a bad key file, a busy port, ...). */
int fn_srv_run(const fn_srv_config *c);

#endif
