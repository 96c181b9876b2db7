/* track.h — face tracks across frames (private to src/video): association of
 * a frame's faces to tracks by box overlap and landmark motion, when a track
 * deserves a new embedding, and the name vote over its embeddings' matches.
 * Knows no detector, model or gallery: the watcher feeds it faces and matches.
 */
#ifndef FN_VIDEO_TRACK_H
#define FN_VIDEO_TRACK_H

#include "video/video.h"

enum { FN_TRACK_MAX = 64, FN_TRACK_VOTES = 9, FN_THUMB = 16, FN_TRACK_EMB_MAX = 512 };

/* What the tracker needs of a face besides its box: how good the view is,
 * and a tiny normalised gray thumbnail to tell a different face in the same
 * place (a cut) from the same face moving. */
typedef struct fn_view {
    float quality;
    float thumb[FN_THUMB * FN_THUMB];   /* zero mean, unit variance */
} fn_view;

typedef struct fn_vote {
    char label[FN_GALLERY_NAME_MAX];   /* person, or "" for unknown */
    float distance;
} fn_vote;

typedef struct fn_track {
    int id;
    fn_face face;
    float vel[2];            /* landmark centre motion, pixels per second */
    double first_t, last_t;
    float best_quality;      /* of the best view embedded so far (0: none yet) */
    fn_view view;            /* the current view */
    int want_embed;          /* set by fn_tracker_update for this frame */
    float emb[FN_TRACK_EMB_MAX];  /* the last embedding (n_votes > 0) */
    fn_vote votes[FN_TRACK_VOTES];
    int n_votes, next_vote;
    int identified, known;
    char name[FN_GALLERY_NAME_MAX];
    float distance;
} fn_track;

typedef struct fn_tracker {
    fn_track tracks[FN_TRACK_MAX];
    int n, next_id;
    double max_gone;
    float better;            /* a view this many times better is embedded again */
    fn_track_event events[3 * FN_TRACK_MAX];
    int n_events;
    int started, embeddings, switches;
} fn_tracker;

void fn_tracker_init(fn_tracker *tr, double max_gone);
/* Start a frame's events. */
void fn_tracker_begin(fn_tracker *tr);
/* Assign the frame's faces (with their view quality) to tracks, start tracks
 * for new faces, end tracks unseen for max_gone.  Tracks that should be
 * embedded now get want_embed = 1. */
void fn_tracker_update(fn_tracker *tr, const fn_face *faces, const fn_view *views, int n, double t);
/* A track was embedded and matched: label "" = unknown. */
void fn_tracker_vote(fn_tracker *tr, fn_track *trk, const char *label, float distance, double t);
/* The track turned out to be someone else (its new embedding is far from
 * its last): it leaves and a fresh track takes its place. */
void fn_tracker_split(fn_tracker *tr, fn_track *trk, double t);
/* Every remaining track leaves. */
void fn_tracker_finish(fn_tracker *tr, double t);
/* Box of a track moved to time t by its motion. */
void fn_tracker_predict(const fn_track *trk, double t, float box[4]);

/* Overlap (intersection over union) of two x1,y1,x2,y2 boxes. */
float fn_box_iou(const float a[4], const float b[4]);
/* The view of face f in an RGB frame (w x h x 3): quality for recognition
 * (size x frontality x sharpness) and the thumbnail. */
void fn_view_of(const fn_face *f, const uint8_t *rgb, int w, int h, fn_view *v);
/* Normalised correlation of two thumbnails: 1 same picture, ~0 unrelated. */
float fn_thumb_similarity(const fn_view *a, const fn_view *b);

#endif
