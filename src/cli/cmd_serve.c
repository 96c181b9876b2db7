/* facenet serve — recognition over HTTP and the web page (src/serve): the
 * options, the engine and the gallery are set up here as for every other
 * command, then the server runs until Ctrl-C or SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine_opts.h"
#include "gallery_open.h"
#include "options.h"
#include "serve.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the gallery (created when missing; enrolments over HTTP are written to it)"),
    FN_USE_D(FN_O_LISTEN, "127.0.0.1:8080", "address:port to listen on (loopback by default; another address needs "
                                            "--keys; port 0 picks a free one)"),
    FN_USE(FN_O_KEYS),
    FN_USE(FN_O_TLS_CERT),
    FN_USE(FN_O_TLS_KEY),
    FN_USE_T(FN_O_CORS, "no CORS headers", NULL),
    FN_USE_D(FN_O_MAX_BODY, "16777216", NULL),
    FN_USE_D(FN_O_MAX_PIXELS, "40000000", NULL),
    FN_USE_D(FN_O_MAX_BUSY, "8", NULL),
    FN_USE_D(FN_O_TIMEOUT, "30", NULL),
    FN_USE_T(FN_O_WORKERS, "a thread per connection", NULL),
    FN_USE_D(FN_O_MAX_PER_IP, "64", NULL),
    FN_USE_D(FN_O_REQUEST_TIMEOUT, "120", NULL),
    FN_USE_T(FN_O_THRESHOLD, "the gallery's calibrated one, else the model's",
             "Euclidean distance above which a face is unknown (a request's ?threshold= overrides it)"),
    FN_CLI_ENGINE_USES,
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "serve",
    .usage = (const char *const[]){"--gallery G.db [--listen HOST:PORT] [--keys KEYS.txt] [--tls-cert C --tls-key K]",
                                   NULL},
    .description =
        "Serves the HTTP API (POST /v1/detect, /v1/embed, /v1/identify, /v1/verify; /v1/people and their\n"
        "faces; /v1/calibrate; GET /v1/health, /metrics, /v1/openapi.json) and the web page (GET /: live\n"
        "webcam recognition, enrolment from the webcam, the gallery, identify a photo), one engine and\n"
        "gallery shared by every connection's thread.  Bodies over --max-body get 413, images over --max-pixels\n"
        "413 before decoding, more than --max-busy requests computing 503 with Retry-After.  Connections:\n"
        "256 at once, at most --max-per-ip of them from one address (more are closed at once; behind a\n"
        "reverse proxy every client has the proxy's address, so raise it there); one idle --timeout\n"
        "seconds is closed, and so is one whose request body is still arriving --request-timeout seconds\n"
        "after its request line.  With --keys,\n"
        "every API request needs a key (X-API-Key or Authorization: Bearer) whose role allows it:\n"
        "recognize (detect, embed, identify, verify, list), enroll (+ add, rename, remove faces),\n"
        "admin (+ delete people, calibrate, /metrics).",
    .opts = uses, .min_args = 0, .max_args = 0,
    .examples = (const char *const[]){"facenet serve --gallery film.db",
                                      "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' "
                                      "http://127.0.0.1:8080/v1/identify",
                                      "facenet serve --gallery film.db --listen 0.0.0.0:8443 --keys keys.txt "
                                      "--tls-cert cert.pem --tls-key key.pem",
                                      NULL},
    .exits = (const fn_cli_exit[]){{0, "stopped by SIGINT or SIGTERM"},
                                   {1, "could not start: the gallery, models, keys, certificate or address (named on "
                                       "stderr)"},
                                   {0, NULL}},
};

/* "HOST:PORT", "[V6]:PORT" or ":PORT"; 0 ok. */
static int parse_listen(const char *s, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon) return -1;
    size_t hl = (size_t)(colon - s);
    const char *h = s;
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') { h = s + 1; hl -= 2; }
    if (hl >= cap) return -1;
    if (hl == 0) snprintf(host, cap, "127.0.0.1");
    else { memcpy(host, h, hl); host[hl] = '\0'; }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p < 0 || p > 65535) return -1;
    *port = (int)p;
    return 0;
}

int fn_cmd_serve(int argc, char **argv)
{
    fn_cli_args a;
    fn_cli_engine ce;
    int rc;
    if (fn_cli_engine_parse(&ce, &spec, argc, argv, &a, &rc)) return rc;
    fn_srv_config c;
    fn_srv_config_init(&c);
    char host[256];
    if (parse_listen(fn_cli_str(&a, FN_O_LISTEN), host, sizeof host, &c.port)) {
        fprintf(stderr, "facenet serve: --listen %s: expected HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080)\n",
                fn_cli_str(&a, FN_O_LISTEN));
        return 2;
    }
    c.host = host;
    c.keys_path = fn_cli_str(&a, FN_O_KEYS);
    c.tls_cert = fn_cli_str(&a, FN_O_TLS_CERT);
    c.tls_key = fn_cli_str(&a, FN_O_TLS_KEY);
    c.cors_origin = fn_cli_str(&a, FN_O_CORS);
    c.max_body = (size_t)fn_cli_int(&a, FN_O_MAX_BODY, (long long)c.max_body);
    c.max_pixels = fn_cli_int(&a, FN_O_MAX_PIXELS, c.max_pixels);
    c.max_busy = (int)fn_cli_int(&a, FN_O_MAX_BUSY, c.max_busy);
    c.timeout_s = (int)fn_cli_int(&a, FN_O_TIMEOUT, c.timeout_s);
    c.workers = (int)fn_cli_int(&a, FN_O_WORKERS, c.workers);
    c.max_per_ip = (int)fn_cli_int(&a, FN_O_MAX_PER_IP, c.max_per_ip);
    c.request_timeout_s = (int)fn_cli_int(&a, FN_O_REQUEST_TIMEOUT, c.request_timeout_s);
    c.threshold = (float)fn_cli_float(&a, FN_O_THRESHOLD, -1);
    c.select = ce.select;
    fn_engine *e = NULL;
    fn_gallery *g = NULL;
    if (fn_cli_engine_open(&ce, "serve", &e)) return 1;
    if (fn_cli_gallery_open("serve", fn_cli_str(&a, FN_O_GALLERY), e, FN_GALLERY_CREATE, &g)) {
        fn_engine_free(e);
        return 1;
    }
    c.engine = e;
    c.gallery = g;
    c.gallery_path = fn_cli_str(&a, FN_O_GALLERY);
    rc = fn_srv_run(&c);
    fn_gallery_close(g);
    fn_engine_free(e);
    return rc;
}
