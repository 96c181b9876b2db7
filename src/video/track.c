/* track.c — tracks, their association to detections, and the name vote. */
#include "video/track.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

void fn_tracker_init(fn_tracker *tr, double max_gone)
{
    memset(tr, 0, sizeof *tr);
    tr->next_id = 1;
    tr->max_gone = max_gone;
    tr->better = 1.3f;   /* below this a "better" view is mostly noise in size/blur */
}

void fn_tracker_begin(fn_tracker *tr) { tr->n_events = 0; }

float fn_box_iou(const float a[4], const float b[4])
{
    float iw = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float ih = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih;
    float ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return ua > 0 ? inter / ua : 0;
}

static void landmark_centre(const fn_face *f, float c[2])
{
    c[0] = c[1] = 0;
    for (int k = 0; k < 5; k++) {
        c[0] += f->landmarks[k][0] / 5;
        c[1] += f->landmarks[k][1] / 5;
    }
}

void fn_tracker_predict(const fn_track *trk, double t, float box[4])
{
    float dt = (float)(t - trk->last_t);
    for (int k = 0; k < 4; k++) box[k] = trk->face.box[k] + trk->vel[k & 1] * dt;
}

/* Mean landmark distance, predicted track to face, in units of the track's
 * box side: landmarks move with the face even when the box jitters. */
static float landmark_motion(const fn_track *trk, const fn_face *f, double t)
{
    float dt = (float)(t - trk->last_t), side = fmaxf(trk->face.box[2] - trk->face.box[0], 1.0f), sum = 0;
    for (int k = 0; k < 5; k++) {
        float dx = f->landmarks[k][0] - (trk->face.landmarks[k][0] + trk->vel[0] * dt);
        float dy = f->landmarks[k][1] - (trk->face.landmarks[k][1] + trk->vel[1] * dt);
        sum += sqrtf(dx * dx + dy * dy);
    }
    return sum / 5 / side;
}

/* Below this thumbnail correlation a face is someone else, wherever it is:
 * on the fixture clip consecutive frames of one face mostly correlate above
 * 0.8; a slideshow cut between two centred portraits gave 0.61. */
#define MIN_LOOKALIKE 0.7f

/* Affinity of a face to a track: 0 = cannot be the same face. */
static float affinity(const fn_track *trk, const fn_face *f, const fn_view *v, double t)
{
    float pred[4];
    fn_tracker_predict(trk, t, pred);
    float iou = fn_box_iou(pred, f->box), motion = landmark_motion(trk, f, t);
    if (iou < 0.2f && motion > 0.5f) return 0;
    if (fn_thumb_similarity(&trk->view, v) < MIN_LOOKALIKE) return 0;
    return iou + fmaxf(0.0f, 1.0f - 2.0f * motion);
}

static fn_track_event *event(fn_tracker *tr, fn_track_event_kind kind, const fn_track *trk, double t)
{
    fn_track_event *e = &tr->events[tr->n_events++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->track = trk->id;
    e->t = t;
    memcpy(e->box, trk->face.box, sizeof e->box);
    e->identified = trk->identified;
    e->known = trk->known;
    memcpy(e->name, trk->name, sizeof e->name);
    e->distance = trk->distance;
    return e;
}

static void move_track(fn_track *trk, const fn_face *f, const fn_view *v, float better, double t)
{
    float dt = (float)(t - trk->last_t), c0[2], c1[2];
    landmark_centre(&trk->face, c0);
    landmark_centre(f, c1);
    if (dt > 0) {
        /* Smoothed so one jittery detection does not throw the prediction. */
        for (int k = 0; k < 2; k++) trk->vel[k] = 0.5f * trk->vel[k] + 0.5f * (c1[k] - c0[k]) / dt;
    }
    trk->face = *f;
    trk->last_t = t;
    trk->view = *v;
    trk->want_embed = v->quality > better * trk->best_quality;
}

static void start_track(fn_tracker *tr, const fn_face *f, const fn_view *v, double t)
{
    if (tr->n >= FN_TRACK_MAX) return;   /* more faces than tracks: the extra ones wait */
    fn_track *trk = &tr->tracks[tr->n++];
    memset(trk, 0, sizeof *trk);
    trk->id = tr->next_id++;
    trk->face = *f;
    trk->first_t = trk->last_t = t;
    trk->view = *v;
    trk->want_embed = 1;
    tr->started++;
    event(tr, FN_TRACK_APPEARED, trk, t);
}

static void drop_gone(fn_tracker *tr, double t)
{
    int keep = 0;
    for (int i = 0; i < tr->n; i++) {
        fn_track *trk = &tr->tracks[i];
        if (t - trk->last_t > tr->max_gone) {
            event(tr, FN_TRACK_LEFT, trk, t);
            continue;
        }
        if (keep != i) tr->tracks[keep] = *trk;
        keep++;
    }
    tr->n = keep;
}

void fn_tracker_update(fn_tracker *tr, const fn_face *faces, const fn_view *views, int n, double t)
{
    int ntr = tr->n;
    int used_t[FN_TRACK_MAX] = {0};
    int used_f[FN_TRACK_MAX] = {0};
    if (n > FN_TRACK_MAX) n = FN_TRACK_MAX;
    for (int i = 0; i < ntr; i++) tr->tracks[i].want_embed = 0;
    /* Greedy: the best remaining (track, face) pair first; few faces per frame. */
    for (;;) {
        float best = 0;
        int bi = -1, bj = -1;
        for (int i = 0; i < ntr; i++) {
            if (used_t[i]) continue;
            for (int j = 0; j < n; j++) {
                if (used_f[j]) continue;
                float a = affinity(&tr->tracks[i], &faces[j], &views[j], t);
                if (a > best) { best = a; bi = i; bj = j; }
            }
        }
        if (bi < 0) break;
        used_t[bi] = used_f[bj] = 1;
        move_track(&tr->tracks[bi], &faces[bj], &views[bj], tr->better, t);
    }
    for (int j = 0; j < n; j++)
        if (!used_f[j]) start_track(tr, &faces[j], &views[j], t);
    drop_gone(tr, t);
}

/* The label with the most votes; a tie keeps the current name, so one odd
 * frame cannot flip an identity.  Distance: the label's best. */
static int tally(const fn_track *trk, const char *label, float *best)
{
    int count = 0;
    *best = INFINITY;
    for (int i = 0; i < trk->n_votes; i++)
        if (!strcmp(trk->votes[i].label, label)) {
            count++;
            if (trk->votes[i].distance < *best) *best = trk->votes[i].distance;
        }
    return count;
}

static void elect(fn_tracker *tr, fn_track *trk, double t)
{
    float cur_d = INFINITY, d;
    int cur = trk->identified ? tally(trk, trk->name, &cur_d) : -1, win = -1;
    for (int i = 0; i < trk->n_votes; i++) {
        int c = tally(trk, trk->votes[i].label, &d);
        if (c > cur) { cur = c; win = i; cur_d = d; }
    }
    if (win < 0 || (trk->identified && !strcmp(trk->votes[win].label, trk->name))) {
        if (trk->identified) trk->distance = cur_d;
        return;
    }
    if (trk->identified) tr->switches++;
    snprintf(trk->name, sizeof trk->name, "%s", trk->votes[win].label);
    trk->known = trk->name[0] != '\0';
    trk->distance = cur_d;
    trk->identified = 1;
    event(tr, FN_TRACK_IDENTIFIED, trk, t);
}

void fn_tracker_split(fn_tracker *tr, fn_track *trk, double t)
{
    event(tr, FN_TRACK_LEFT, trk, t);
    fn_face f = trk->face;
    fn_view v = trk->view;
    double seen = trk->last_t;
    memset(trk, 0, sizeof *trk);
    trk->id = tr->next_id++;
    trk->face = f;
    trk->view = v;
    trk->first_t = trk->last_t = seen;
    trk->want_embed = 1;
    tr->started++;
    event(tr, FN_TRACK_APPEARED, trk, t);
}

void fn_tracker_vote(fn_tracker *tr, fn_track *trk, const char *label, float distance, double t)
{
    fn_vote *v = &trk->votes[trk->next_vote];
    snprintf(v->label, sizeof v->label, "%s", label);
    v->distance = distance;
    trk->next_vote = (trk->next_vote + 1) % FN_TRACK_VOTES;
    if (trk->n_votes < FN_TRACK_VOTES) trk->n_votes++;
    if (trk->view.quality > trk->best_quality) trk->best_quality = trk->view.quality;
    tr->embeddings++;
    elect(tr, trk, t);
}

void fn_tracker_finish(fn_tracker *tr, double t)
{
    for (int i = 0; i < tr->n; i++) event(tr, FN_TRACK_LEFT, &tr->tracks[i], t);
    tr->n = 0;
}

/* Yaw from the nose's offset between the eyes: 1 frontal, towards 0 in profile. */
static float frontality(const fn_face *f)
{
    float ex = f->landmarks[1][0] - f->landmarks[0][0], ey = f->landmarks[1][1] - f->landmarks[0][1];
    float eye_d = sqrtf(ex * ex + ey * ey);
    if (eye_d < 1) return 0.1f;
    float mid = 0.5f * (f->landmarks[0][0] + f->landmarks[1][0]);
    float yaw = fabsf(f->landmarks[2][0] - mid) / eye_d;
    return fmaxf(0.1f, 1.0f - 2.0f * yaw);
}

/* Variance of a 4-neighbour Laplacian of the green channel over at most
 * 48 x 48 samples of the box, squashed to 0..1: blur lowers it. */
static float sharpness(const fn_face *f, const uint8_t *rgb, int w, int h)
{
    int x0 = (int)fmaxf(1, f->box[0]), y0 = (int)fmaxf(1, f->box[1]);
    int x1 = (int)fminf((float)w - 2, f->box[2]), y1 = (int)fminf((float)h - 2, f->box[3]);
    if (x1 <= x0 || y1 <= y0) return 0;
    int sx = (x1 - x0) / 48 + 1, sy = (y1 - y0) / 48 + 1;
    double sum = 0, sum2 = 0;
    int cnt = 0;
    for (int y = y0; y <= y1; y += sy)
        for (int x = x0; x <= x1; x += sx) {
            const uint8_t *p = rgb + ((size_t)y * w + x) * 3 + 1;
            double lap = 4.0 * p[0] - p[-3] - p[3] - p[-(ptrdiff_t)w * 3] - p[(ptrdiff_t)w * 3];
            sum += lap;
            sum2 += lap * lap;
            cnt++;
        }
    double var = sum2 / cnt - (sum / cnt) * (sum / cnt);
    return (float)(var / (var + 100.0));
}

/* Nearest-sample gray (green) thumbnail of the box, normalised so lighting
 * changes do not count as a different face. */
static void thumbnail(const fn_face *f, const uint8_t *rgb, int w, int h, float *out)
{
    float bw = f->box[2] - f->box[0], bh = f->box[3] - f->box[1];
    double sum = 0, sum2 = 0;
    for (int y = 0; y < FN_THUMB; y++)
        for (int x = 0; x < FN_THUMB; x++) {
            int px = (int)(f->box[0] + (x + 0.5f) * bw / FN_THUMB), py = (int)(f->box[1] + (y + 0.5f) * bh / FN_THUMB);
            px = px < 0 ? 0 : px >= w ? w - 1 : px;
            py = py < 0 ? 0 : py >= h ? h - 1 : py;
            float g = rgb[((size_t)py * w + px) * 3 + 1];
            out[y * FN_THUMB + x] = g;
            sum += g;
            sum2 += (double)g * g;
        }
    int n = FN_THUMB * FN_THUMB;
    double mean = sum / n, var = sum2 / n - mean * mean;
    float inv = var > 1e-6 ? (float)(1.0 / sqrt(var)) : 0.0f;
    for (int i = 0; i < n; i++) out[i] = (out[i] - (float)mean) * inv;
}

float fn_thumb_similarity(const fn_view *a, const fn_view *b)
{
    float dot = 0;
    for (int i = 0; i < FN_THUMB * FN_THUMB; i++) dot += a->thumb[i] * b->thumb[i];
    return dot / (FN_THUMB * FN_THUMB);
}

void fn_view_of(const fn_face *f, const uint8_t *rgb, int w, int h, fn_view *v)
{
    float side = sqrtf(fmaxf(0, (f->box[2] - f->box[0]) * (f->box[3] - f->box[1])));
    v->quality = side * frontality(f) * (0.5f + 0.5f * sharpness(f, rgb, w, h));
    thumbnail(f, rgb, w, h, v->thumb);
}
