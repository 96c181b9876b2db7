/* live.c — webcam recognition for the web page: one session per page (a
 * watcher: tracking and identity voting as `facenet watch` does), frames
 * POSTed one at a time as JPEG.  POST /v1/live opens a session, POST
 * /v1/live/{id}/frames watches a frame, DELETE /v1/live/{id} closes it.
 * At most SRV_SESSIONS; one idle for 60 s is closed for a new one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "srv.h"

#define SRV_SESSION_IDLE 60.0

static srv_session *find(srv *s, const char *id)
{
    for (int i = 0; i < SRV_SESSIONS; i++)
        if (s->sessions[i].id[0] && !strcmp(s->sessions[i].id, id)) return &s->sessions[i];
    return NULL;
}

static void open_session(srv *s, srv_reply *out)
{
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) { srv_error(out, 500, "no random bytes for a session id"); return; }
    fn_watch_params p;
    fn_watch_params_init(&p);
    fn_threshold_source src;
    p.threshold = fn_decision_threshold(s->g, s->e, s->cfg->threshold, &src);
    p.every = 1;
    p.max_gone = 1.0;
    fn_watcher *w = NULL;
    fn_status st = fn_watcher_new(s->e, s->g, &p, &w);
    if (st != FN_OK) { srv_fail(out, st); return; }
    double now = fn_now();
    pthread_mutex_lock(&s->sessions_lock);
    srv_session *slot = NULL;
    for (int i = 0; i < SRV_SESSIONS && !slot; i++)
        if (!s->sessions[i].id[0]) slot = &s->sessions[i];
    for (int i = 0; i < SRV_SESSIONS && !slot; i++)
        if (now - s->sessions[i].last > SRV_SESSION_IDLE && !pthread_mutex_trylock(&s->sessions[i].lock)) {
            slot = &s->sessions[i];
            fn_watcher_free(slot->w);
            pthread_mutex_unlock(&slot->lock);
        }
    if (slot) {
        for (int i = 0; i < 16; i++) sprintf(slot->id + 2 * i, "%02x", rnd[i]);
        slot->w = w;
        slot->t0 = slot->last = now;
    }
    pthread_mutex_unlock(&s->sessions_lock);
    if (!slot) {
        fn_watcher_free(w);
        out->retry_after = 10;
        srv_error(out, 503, "all %d live sessions are in use; retry when one ends", SRV_SESSIONS);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "session", slot->id);
    cJSON_AddNumberToObject(j, "threshold", p.threshold);
    srv_json(out, 201, j);
}

static cJSON *track_json(const fn_track_view *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "track", v->id);
    cJSON_AddItemToObject(o, "box", srv_floats(v->face.box, 4));
    cJSON_AddNumberToObject(o, "prob", v->face.prob);
    cJSON_AddBoolToObject(o, "identified", v->identified);
    if (v->identified && v->known) cJSON_AddStringToObject(o, "name", v->name);
    else cJSON_AddNullToObject(o, "name");
    if (v->identified) cJSON_AddNumberToObject(o, "distance", v->distance);
    return o;
}

static void frame(srv *s, srv_session *ss, const srv_req *r, srv_reply *out)
{
    fn_image img = {0};
    fn_image_limits lim = {30000, s->cfg->max_pixels};
    fn_status st = r->len ? fn_image_decode(r->body, r->len, "the frame", &lim, &img) : FN_ERR_ARG;
    if (!r->len) { srv_error(out, 400, "the frame is empty: send one JPEG or PNG image as the body"); return; }
    if (st != FN_OK) { srv_fail(out, st); return; }
    const fn_track_event *ev;
    int n;
    double t = fn_now() - ss->t0;
    st = fn_watcher_frame(ss->w, &img, t, &ev, &n);
    if (st != FN_OK) { srv_fail(out, st); fn_image_free(&img); return; }
    const fn_track_view *views;
    int nv = fn_watcher_tracks(ss->w, &views);
    cJSON *j = cJSON_CreateObject(), *tracks = cJSON_CreateArray(), *events = cJSON_CreateArray();
    cJSON_AddNumberToObject(j, "t", t);
    cJSON_AddNumberToObject(j, "width", img.w);
    cJSON_AddNumberToObject(j, "height", img.h);
    for (int i = 0; i < nv; i++) cJSON_AddItemToArray(tracks, track_json(&views[i]));
    static const char *const kinds[] = {"appeared", "identified", "left"};
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "event", kinds[ev[i].kind]);
        cJSON_AddNumberToObject(e, "track", ev[i].track);
        if (ev[i].kind == FN_TRACK_IDENTIFIED) {
            if (ev[i].known) cJSON_AddStringToObject(e, "name", ev[i].name);
            else cJSON_AddNullToObject(e, "name");
            cJSON_AddNumberToObject(e, "distance", ev[i].distance);
        }
        cJSON_AddItemToArray(events, e);
    }
    cJSON_AddItemToObject(j, "tracks", tracks);
    cJSON_AddItemToObject(j, "events", events);
    srv_json(out, 200, j);
    fn_image_free(&img);
    pthread_mutex_lock(&s->m.lock);
    s->m.frames++;
    pthread_mutex_unlock(&s->m.lock);
}

void srv_live(srv *s, const srv_req *r, srv_reply *out)
{
    if (r->n_seg == 1) { open_session(s, out); return; }
    pthread_mutex_lock(&s->sessions_lock);
    srv_session *ss = find(s, r->seg[1]);
    if (ss && !strcmp(r->method, "DELETE")) {
        pthread_mutex_lock(&ss->lock);
        fn_watcher_free(ss->w);
        ss->w = NULL;
        ss->id[0] = '\0';
        pthread_mutex_unlock(&ss->lock);
        pthread_mutex_unlock(&s->sessions_lock);
        srv_json(out, 200, cJSON_CreateObject());
        return;
    }
    if (ss) {
        ss->last = fn_now();          /* under sessions_lock: open_session reads it there */
        pthread_mutex_lock(&ss->lock);   /* frames of one session one at a time, in order */
    }
    pthread_mutex_unlock(&s->sessions_lock);
    if (!ss) {
        srv_error(out, 404, "no live session %.40s (closed, or idle over %g s): open one with POST /v1/live", r->seg[1],
                  SRV_SESSION_IDLE);
        return;
    }
    frame(s, ss, r, out);
    pthread_mutex_unlock(&ss->lock);
}

void srv_live_free(srv *s)
{
    for (int i = 0; i < SRV_SESSIONS; i++) {
        fn_watcher_free(s->sessions[i].w);
        s->sessions[i].w = NULL;
        s->sessions[i].id[0] = '\0';
    }
}
