/* metrics.c — Prometheus text exposition (format 0.0.4) of the server's
 * counters: requests by route and status, latency histograms by route,
 * faces detected, enrolments, busy rejections, bodies in flight. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

const int srv_codes[SRV_CODES] = {200, 201, 204, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 500,
                                   503};
const double srv_buckets[SRV_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30};
static const char *const route_names[R_COUNT] = {"detect", "embed", "identify", "verify", "people", "faces",
                                                 "calibrate", "live", "health", "metrics", "openapi", "static", "other"};

void srv_metrics_record(srv *s, srv_route route, int status, double seconds)
{
    int c = SRV_CODES, b = SRV_BUCKETS;
    for (int i = 0; i < SRV_CODES; i++) if (srv_codes[i] == status) { c = i; break; }
    for (int i = 0; i < SRV_BUCKETS; i++) if (seconds <= srv_buckets[i]) { b = i; break; }
    pthread_mutex_lock(&s->m.lock);
    s->m.requests[route][c]++;
    s->m.hist[route][b]++;
    s->m.seconds[route] += seconds;
    pthread_mutex_unlock(&s->m.lock);
}

typedef struct buf { char *p; size_t n, cap; int oom; } buf;

__attribute__((format(printf, 2, 3))) static void put(buf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < b->cap - b->n) { b->n += (size_t)k; return; }
        char *q = realloc(b->p, b->cap * 2);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap *= 2;
    }
}

char *srv_metrics_text(srv *s, size_t *len)
{
    buf b = {malloc(16384), 0, 16384, 0};
    if (!b.p) return NULL;
    int64_t people = 0, images = 0;
    fn_gallery_count(s->g, &people, &images);
    pthread_mutex_lock(&s->m.lock);
    srv_metrics m = s->m;   /* a consistent copy; the lock and atomics are not used from it */
    pthread_mutex_unlock(&s->m.lock);
    put(&b, "# HELP facenet_http_requests_total HTTP requests answered, by route and status code.\n"
            "# TYPE facenet_http_requests_total counter\n");
    for (int r = 0; r < R_COUNT; r++)
        for (int c = 0; c <= SRV_CODES; c++)
            if (m.requests[r][c])
                put(&b, "facenet_http_requests_total{route=\"%s\",code=\"%s%d\"} %llu\n", route_names[r],
                    c == SRV_CODES ? "other" : "", c == SRV_CODES ? 0 : srv_codes[c], m.requests[r][c]);
    put(&b, "# HELP facenet_http_request_duration_seconds Time from the request's headers to its reply.\n"
            "# TYPE facenet_http_request_duration_seconds histogram\n");
    for (int r = 0; r < R_COUNT; r++) {
        unsigned long long cum = 0;
        for (int k = 0; k <= SRV_BUCKETS; k++) cum += m.hist[r][k];
        if (!cum) continue;
        cum = 0;
        for (int k = 0; k < SRV_BUCKETS; k++) {
            cum += m.hist[r][k];
            put(&b, "facenet_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route_names[r],
                srv_buckets[k], cum);
        }
        cum += m.hist[r][SRV_BUCKETS];
        put(&b, "facenet_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", route_names[r], cum);
        put(&b, "facenet_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_names[r], m.seconds[r]);
        put(&b, "facenet_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_names[r], cum);
    }
    unsigned long long errors = 0;
    for (int r = 0; r < R_COUNT; r++)
        for (int c = 0; c <= SRV_CODES; c++)
            if (c == SRV_CODES || srv_codes[c] >= 400) errors += m.requests[r][c];
    put(&b, "# HELP facenet_http_errors_total Requests answered with a status of 400 or more.\n"
            "# TYPE facenet_http_errors_total counter\nfacenet_http_errors_total %llu\n", errors);
    put(&b, "# HELP facenet_faces_detected_total Faces found in uploaded images.\n"
            "# TYPE facenet_faces_detected_total counter\nfacenet_faces_detected_total %llu\n", m.faces);
    put(&b, "# HELP facenet_enrolments_total Faces added to the gallery.\n"
            "# TYPE facenet_enrolments_total counter\nfacenet_enrolments_total %llu\n", m.enrolled);
    put(&b, "# HELP facenet_busy_rejections_total Requests answered 503 because --max-busy were computing.\n"
            "# TYPE facenet_busy_rejections_total counter\nfacenet_busy_rejections_total %llu\n", m.rejected_busy);
    put(&b, "# HELP facenet_live_frames_total Webcam frames watched.\n"
            "# TYPE facenet_live_frames_total counter\nfacenet_live_frames_total %llu\n", m.frames);
    put(&b, "# HELP facenet_http_uploads_in_progress Request bodies being received.\n"
            "# TYPE facenet_http_uploads_in_progress gauge\nfacenet_http_uploads_in_progress %d\n",
        atomic_load(&s->m.uploads));
    put(&b, "# HELP facenet_busy Requests computing now.\n# TYPE facenet_busy gauge\nfacenet_busy %d\n",
        atomic_load(&s->m.busy));
    put(&b, "# HELP facenet_gallery_people People enrolled.\n# TYPE facenet_gallery_people gauge\n"
            "facenet_gallery_people %lld\n", (long long)people);
    put(&b, "# HELP facenet_gallery_images Images enrolled.\n# TYPE facenet_gallery_images gauge\n"
            "facenet_gallery_images %lld\n", (long long)images);
    if (b.oom) { free(b.p); return NULL; }
    *len = b.n;
    return b.p;
}
