/* watch.c — the per-frame recognition loop: find faces (Haar every few
 * frames, or MTCNN every N frames on a reduced copy of the frame, with O-Net
 * following the tracks at full resolution between), feed the tracker, embed
 * the views it asks for and vote on their gallery matches.  Every buffer is
 * sized at creation or on the first frame of a size. */
#include "video/video.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/image.h"
#include "video/track.h"

#define MAX_RAW 256   /* detector hits considered per frame */

struct fn_watcher {
    fn_engine *engine;
    fn_gallery *gallery;
    fn_gallery_scratch *scratch;
    fn_watch_params p;
    int64_t frame_no;
    fn_tracker tr;
    fn_face raw[MAX_RAW];
    fn_face faces[FN_TRACK_MAX];
    fn_view fview[FN_TRACK_MAX];
    float boxes[MAX_RAW][4];
    fn_face to_embed[FN_TRACK_MAX];
    fn_track *embed_track[FN_TRACK_MAX];
    float *emb;                           /* FN_TRACK_MAX x dim: this frame's new embeddings */
    float *seen_emb;                      /* FN_TRACK_MAX x dim: every track of this frame that has one */
    fn_track *seen_track[FN_TRACK_MAX];
    fn_gallery_naming naming[FN_TRACK_MAX];
    fn_track_view views[FN_TRACK_MAX];
    fn_image small;                       /* the reduced frame MTCNN runs on (detect_scale != 1) */
};

void fn_watch_params_init(fn_watch_params *p)
{
    memset(p, 0, sizeof *p);
    p->every = 5;
    p->threshold = 1.1f;
    p->min_prob = 0.8f;
    p->min_face = 40;
    p->max_gone = 0.5;
    p->detect_scale = 0;
    p->haar_every = 3;
}

void fn_watch_engine_options(fn_options *o)
{
    o->detector = FN_DETECTOR_HAAR;
    o->haar_scale = 1.2;
    o->haar_reduce = 2;
    o->haar_refined_box = 1;
    /* No second MTCNN pass on a padded frame when a frame has no face: in a
     * video most frames of an empty scene have none, the retry would double
     * their cost, and a face cut by the border is picked up by tracking a
     * few frames later as it comes in. */
    o->edge_retry = 0;
}

/* Run O-Net and the embedding once on a blank picture: their one-time setup
 * (tens of ms) would otherwise land on the first real face and delay the
 * first name on screen.  The answers are thrown away. */
static fn_status warm_up(fn_watcher *w)
{
    fn_image img = {0};
    FN_TRY(fn_image_alloc(&img, 96, 96, 3));
    memset(img.data, 128, (size_t)96 * 96 * 3);
    fn_face f = {{16, 16, 80, 80}, 1.0f, {{36, 40}, {60, 40}, {48, 52}, {38, 66}, {58, 66}}};
    fn_face refined;
    fn_status s = fn_refine_face(w->engine, &img, f.box, &refined);
    if (s == FN_OK || s == FN_ERR_ARG) s = fn_embed_faces(w->engine, &img, &f, 1, w->emb);
    fn_image_free(&img);
    return s;
}

fn_status fn_watcher_new(fn_engine *e, fn_gallery *g, const fn_watch_params *p, fn_watcher **out)
{
    *out = NULL;
    int dim = fn_engine_dim(e);
    if (dim <= 0 || dim > FN_TRACK_EMB_MAX)
        return fn_fail(FN_ERR_ARG, "watching needs an engine with an embedding model of at most %d values", FN_TRACK_EMB_MAX);
    if (p->every < 1 || p->min_face < 12) return fn_fail(FN_ERR_ARG, "watch: every %d < 1 or min_face %d < 12", p->every, p->min_face);
    if (p->detect_scale < 0 || p->detect_scale > 16 || p->haar_every < 1)
        return fn_fail(FN_ERR_ARG, "watch: detect_scale %d is not in 0..16 or haar_every %d < 1", p->detect_scale,
                       p->haar_every);
    fn_watcher *w = calloc(1, sizeof *w);
    if (!w) return fn_fail(FN_ERR_NOMEM, "out of memory for a watcher");
    w->engine = e;
    w->gallery = g;
    w->p = *p;
    fn_tracker_init(&w->tr, p->max_gone);
    fn_status s = FN_OK;
    w->emb = malloc(sizeof(float) * FN_TRACK_MAX * (size_t)dim);
    w->seen_emb = malloc(sizeof(float) * FN_TRACK_MAX * (size_t)dim);
    if (!w->emb || !w->seen_emb) s = fn_fail(FN_ERR_NOMEM, "out of memory for embeddings");
    if (s == FN_OK) s = fn_gallery_scratch_new(g, FN_TRACK_MAX, &w->scratch);
    if (s == FN_OK) s = warm_up(w);
    if (s != FN_OK) {
        fn_watcher_free(w);
        return s;
    }
    *out = w;
    return FN_OK;
}

void fn_watcher_free(fn_watcher *w)
{
    if (!w) return;
    fn_gallery_scratch_free(w->scratch);
    free(w->emb);
    free(w->seen_emb);
    fn_image_free(&w->small);
    free(w);
}

/* Keep a refined face unless O-Net doubts it or it repeats a kept one
 * (two Haar hits, or two tracks, converging on one face). */
static int keep_face(fn_watcher *w, const fn_face *f, int n)
{
    if (f->prob < w->p.min_prob) return 0;
    if (f->box[2] - f->box[0] < w->p.min_face * 0.7f) return 0;
    for (int i = 0; i < n; i++)
        if (fn_box_iou(f->box, w->faces[i].box) > 0.5f) return 0;
    return 1;
}

static fn_status refine_boxes(fn_watcher *w, const fn_image *frame, const float (*boxes)[4], int nb, int *n)
{
    *n = 0;
    for (int i = 0; i < nb && *n < FN_TRACK_MAX; i++) {
        fn_face f;
        fn_status s = fn_refine_face(w->engine, frame, boxes[i], &f);
        if (s == FN_ERR_ARG) continue;   /* the box left the image */
        FN_TRY(s);
        if (keep_face(w, &f, *n)) w->faces[(*n)++] = f;
    }
    return FN_OK;
}

/* A Haar engine (fn_detect: the cascade, then O-Net on each rectangle):
 * every frame, kept as refine_boxes keeps faces. */
static fn_status find_haar(fn_watcher *w, const fn_image *frame, int *n)
{
    int nr = 0;
    FN_TRY(fn_detect(w->engine, frame, w->raw, MAX_RAW, &nr));
    if (nr > MAX_RAW) nr = MAX_RAW;
    *n = 0;
    for (int i = 0; i < nr && *n < FN_TRACK_MAX; i++)
        if (keep_face(w, &w->raw[i], *n)) w->faces[(*n)++] = w->raw[i];
    return FN_OK;
}

static fn_status find_mtcnn(fn_watcher *w, const fn_image *frame, int *n)
{
    int nr = 0;
    FN_TRY(fn_detect(w->engine, frame, w->raw, MAX_RAW, &nr));
    if (nr > MAX_RAW) nr = MAX_RAW;
    *n = 0;
    for (int i = 0; i < nr && *n < FN_TRACK_MAX; i++)
        if (w->raw[i].box[2] - w->raw[i].box[0] >= w->p.min_face * 0.7f) w->faces[(*n)++] = w->raw[i];
    return FN_OK;
}

/* Between Haar's full scans: the same scan on the neighbourhood of each
 * track (its predicted box grown by one side each way: the cascade's
 * windows and their neighbours for the grouping fit), neighbourhoods that
 * touch merged into one region.  A tracked face is found as the full scan
 * finds it; a face that appears elsewhere waits for the next full scan. */
static fn_status find_haar_regions(fn_watcher *w, const fn_image *frame, double t, int *n)
{
    float (*reg)[4] = w->boxes;
    int nr = 0;
    for (int i = 0; i < w->tr.n && nr < MAX_RAW; i++) {
        float b[4];
        fn_tracker_predict(&w->tr.tracks[i], t, b);
        float side = fmaxf(b[2] - b[0], b[3] - b[1]);
        float r[4] = {b[0] - side, b[1] - side, b[2] + side, b[3] + side};
        memcpy(reg[nr++], r, sizeof r);
    }
    /* merge overlapping regions until none overlap */
    for (int merged = 1; merged;) {
        merged = 0;
        for (int i = 0; i < nr && !merged; i++)
            for (int j = i + 1; j < nr && !merged; j++) {
                if (reg[i][0] >= reg[j][2] || reg[j][0] >= reg[i][2] || reg[i][1] >= reg[j][3] || reg[j][1] >= reg[i][3])
                    continue;
                for (int k = 0; k < 2; k++) {
                    reg[i][k] = fminf(reg[i][k], reg[j][k]);
                    reg[i][k + 2] = fmaxf(reg[i][k + 2], reg[j][k + 2]);
                }
                memmove(reg[j], reg[j + 1], sizeof reg[0] * (size_t)(nr - j - 1));
                nr--;
                merged = 1;
            }
    }
    *n = 0;
    for (int i = 0; i < nr; i++) {
        int got = 0;
        fn_status s = fn_detect_region(w->engine, frame, reg[i], w->raw, MAX_RAW, &got);
        if (s == FN_ERR_ARG) continue;   /* the region left the image */
        FN_TRY(s);
        if (got > MAX_RAW) got = MAX_RAW;
        for (int k = 0; k < got && *n < FN_TRACK_MAX; k++)
            if (keep_face(w, &w->raw[k], *n)) w->faces[(*n)++] = w->raw[k];
    }
    return FN_OK;
}

/* MTCNN's reduction: MTCNN's smallest face (20 px) becomes the smallest face
 * tracked.  What is lost against the full frame: faces between 0.7 x and
 * 1 x min_face (the old path kept those from 28 px); a track that shrinks
 * below min_face is still followed by O-Net on the full frame. */
static int mtcnn_reduction(const fn_watcher *w, const fn_image *frame)
{
    int s = w->p.detect_scale ? w->p.detect_scale : w->p.min_face / 20;
    while (s > 1 && (frame->w / s < 48 || frame->h / s < 48)) s--;
    return s < 1 ? 1 : s;
}

/* Mean of each s x s block of an RGB frame (rounded): the area resampling
 * MTCNN's own pyramid uses, for a whole factor. */
static void reduce_rgb(const fn_image *src, int s, fn_image *dst)
{
    int area = s * s;
    size_t row = (size_t)src->w * 3;
    for (int y = 0; y < dst->h; y++) {
        uint8_t *d = dst->data + (size_t)y * dst->w * 3;
        for (int x = 0; x < dst->w; x++)
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int j = 0; j < s; j++) {
                    const uint8_t *p = src->data + (size_t)(y * s + j) * row + (size_t)x * s * 3 + c;
                    for (int i = 0; i < s; i++) sum += p[3 * i];
                }
                d[3 * x + c] = (uint8_t)((sum + area / 2) / area);
            }
    }
}

/* MTCNN on the reduced frame; each face back in full-frame pixels and
 * refined there by O-Net (landmarks for alignment at full resolution). */
static fn_status find_mtcnn_reduced(fn_watcher *w, const fn_image *frame, int s, int *n)
{
    int rw = frame->w / s, rh = frame->h / s;
    if (w->small.w != rw || w->small.h != rh) {
        fn_image_free(&w->small);
        FN_TRY(fn_image_alloc(&w->small, rw, rh, 3));
    }
    reduce_rgb(frame, s, &w->small);
    int nr = 0;
    FN_TRY(fn_detect(w->engine, &w->small, w->raw, MAX_RAW, &nr));
    if (nr > MAX_RAW) nr = MAX_RAW;
    *n = 0;
    for (int i = 0; i < nr && *n < FN_TRACK_MAX; i++) {
        float box[4];
        for (int k = 0; k < 4; k++) box[k] = w->raw[i].box[k] * (float)s;
        fn_face f;
        fn_status st = fn_refine_face(w->engine, frame, box, &f);
        if (st == FN_ERR_ARG) continue;
        FN_TRY(st);
        f.prob = w->raw[i].prob;   /* MTCNN's verdict stands; O-Net only places it */
        if (f.box[2] - f.box[0] < w->p.min_face * 0.7f) continue;
        int dup = 0;
        for (int j = 0; j < *n && !dup; j++) dup = fn_box_iou(f.box, w->faces[j].box) > 0.5f;
        if (!dup) w->faces[(*n)++] = f;
    }
    return FN_OK;
}

/* Between MTCNN frames: O-Net on where each track should be now. */
static fn_status follow_tracks(fn_watcher *w, const fn_image *frame, double t, int *n)
{
    float (*boxes)[4] = w->boxes;
    int nb = w->tr.n;
    for (int i = 0; i < nb; i++) fn_tracker_predict(&w->tr.tracks[i], t, boxes[i]);
    return refine_boxes(w, frame, (const float (*)[4])boxes, nb, n);
}

static fn_status find_faces(fn_watcher *w, const fn_image *frame, double t, int *n)
{
    int old = w->p.detect_scale == 1;
    if (fn_engine_detector(w->engine) == FN_DETECTOR_HAAR) {
        if (old || w->frame_no % w->p.haar_every == 0) return find_haar(w, frame, n);
        return find_haar_regions(w, frame, t, n);
    }
    if (w->frame_no % w->p.every != 0) return follow_tracks(w, frame, t, n);
    int s = old ? 1 : mtcnn_reduction(w, frame);
    return s > 1 ? find_mtcnn_reduced(w, frame, s, n) : find_mtcnn(w, frame, n);
}

/* The tracks of this frame are named jointly (fn_gallery_name_faces): a
 * person appears once in a frame, so two simultaneous tracks never both vote
 * for one person; the tracks embedded now vote, the others (seen this frame,
 * named from an earlier embedding) only hold their person. */
static fn_status embed_and_vote(fn_watcher *w, const fn_image *frame, double t)
{
    int k = 0;
    for (int i = 0; i < w->tr.n; i++) {
        fn_track *trk = &w->tr.tracks[i];
        if (!trk->want_embed || trk->last_t != t) continue;
        w->to_embed[k] = trk->face;
        w->embed_track[k++] = trk;
    }
    if (k == 0) return FN_OK;
    FN_TRY(fn_embed_faces(w->engine, frame, w->to_embed, k, w->emb));
    int dim = fn_engine_dim(w->engine);
    for (int i = 0; i < k; i++) {
        const float *emb = w->emb + (size_t)i * dim;
        fn_track *trk = w->embed_track[i];
        /* A cut the thumbnails missed: the same person's views stay well
         * within the recognition threshold of each other. */
        if (trk->n_votes > 0 && fn_distance(trk->emb, emb, dim) > w->p.threshold) fn_tracker_split(&w->tr, trk, t);
        memcpy(trk->emb, emb, sizeof(float) * dim);
    }
    /* this frame's tracks with an embedding: the new ones first, then the held ones */
    int n = 0;
    for (int i = 0; i < k; i++) w->seen_track[n++] = w->embed_track[i];
    for (int i = 0; i < w->tr.n; i++) {
        fn_track *trk = &w->tr.tracks[i];
        if (trk->last_t != t || trk->n_votes == 0 || (trk->want_embed && trk->last_t == t)) continue;
        w->seen_track[n++] = trk;
    }
    for (int i = 0; i < n; i++) memcpy(w->seen_emb + (size_t)i * dim, w->seen_track[i]->emb, sizeof(float) * dim);
    FN_TRY(fn_gallery_name_faces(w->gallery, w->scratch, w->seen_emb, n, w->p.threshold,
                                 w->p.allow_repeats ? FN_GALLERY_ALLOW_REPEATS : 0, w->naming));
    for (int i = 0; i < k; i++) {
        const fn_gallery_naming *nm = &w->naming[i];
        int known = nm->named.person_id >= 0;
        fn_tracker_vote(&w->tr, w->embed_track[i], known ? nm->name : "",
                        known ? nm->named.distance : nm->nearest.best.distance, t);
    }
    return FN_OK;
}

fn_status fn_watcher_frame(fn_watcher *w, const fn_image *frame, double t, const fn_track_event **events, int *n)
{
    *events = w->tr.events;
    *n = 0;
    fn_tracker_begin(&w->tr);
    if (frame->c != 3) return fn_fail(FN_ERR_ARG, "watch: frames must be RGB");
    int nf = 0;
    fn_status s = find_faces(w, frame, t, &nf);
    w->frame_no++;
    if (s != FN_OK) return s;
    for (int i = 0; i < nf; i++) fn_view_of(&w->faces[i], frame->data, frame->w, frame->h, &w->fview[i]);
    fn_tracker_update(&w->tr, w->faces, w->fview, nf, t);
    s = embed_and_vote(w, frame, t);
    *n = w->tr.n_events;
    return s;
}

void fn_watcher_finish(fn_watcher *w, double t, const fn_track_event **events, int *n)
{
    fn_tracker_begin(&w->tr);
    fn_tracker_finish(&w->tr, t);
    *events = w->tr.events;
    *n = w->tr.n_events;
}

int fn_watcher_tracks(fn_watcher *w, const fn_track_view **views)
{
    int n = 0;
    for (int i = 0; i < w->tr.n; i++) {
        const fn_track *trk = &w->tr.tracks[i];
        fn_track_view *v = &w->views[n++];
        v->id = trk->id;
        v->face = trk->face;
        v->identified = trk->identified;
        v->known = trk->known;
        v->name = trk->name;
        v->distance = trk->distance;
    }
    *views = w->views;
    return n;
}

void fn_watcher_draw(fn_watcher *w, fn_image *frame, int mirror)
{
    const fn_track_view *v;
    int n = fn_watcher_tracks(w, &v);
    for (int i = 0; i < n; i++) {
        char label[FN_GALLERY_NAME_MAX + 32];
        if (!v[i].identified) snprintf(label, sizeof label, "#%d ...", v[i].id);
        else if (v[i].known) snprintf(label, sizeof label, "#%d %s %.2f", v[i].id, v[i].name, v[i].distance);
        else snprintf(label, sizeof label, "#%d unknown", v[i].id);
        fn_face f = v[i].face;
        if (mirror) {
            f.box[0] = (float)frame->w - v[i].face.box[2];
            f.box[2] = (float)frame->w - v[i].face.box[0];
        }
        fn_image_draw_face(frame, &f, label, v[i].known);
    }
}

void fn_watcher_stats(const fn_watcher *w, int *tracks, int *embeddings, int *switches)
{
    *tracks = w->tr.started;
    *embeddings = w->tr.embeddings;
    *switches = w->tr.switches;
}
