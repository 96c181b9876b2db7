/* facenet/video.h — recognition on moving pictures: FFmpeg input (files,
 * V4L2 devices, network URLs, image sequences) decoded into a reused RGB8
 * frame, annotated video output, the watcher (face tracks named by a vote
 * over their best views, reported as events) and the latency it achieves.
 * Owns no model: the caller's fn_engine detects and embeds, the caller's
 * gallery names.
 *
 * libfacenet does not link FFmpeg: its libraries (libavformat, libavcodec,
 * libavutil, libswscale of the major versions the library was built with;
 * libavdevice too for a /dev/video camera) are loaded by soname on the
 * first fn_video_open or fn_video_writer_open, so a program that only reads
 * images never loads them.  When one cannot be loaded those calls fail with
 * FN_ERR_UNSUPPORTED and a sentence naming the library.  Test hook: the
 * environment variable FACENET_HIDE_LIBS (names separated by commas, e.g.
 * "libavcodec") makes the libraries it names count as missing.
 */
#ifndef FACENET_VIDEO_H
#define FACENET_VIDEO_H

#include <stdint.h>

#include "facenet/core.h"
#include "facenet/engine.h"
#include "facenet/gallery.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declared here = exported from libfacenet.so (the library is compiled with
 * -fvisibility=hidden; `make check-exports` checks both ways). */
#pragma GCC visibility push(default)

/* ------------------------------------------------------------- input */

typedef struct fn_video_source fn_video_source;

typedef struct fn_video_info {
    int w, h;
    double fps;        /* nominal frame rate (25 when the source does not say) */
    int live;          /* device or network stream: frames are dropped, not queued */
    int orientation;   /* how stored frames were turned upright, from the stream's display
                          matrix, as an EXIF orientation (1 = as stored; 6 = a phone's 90) */
} fn_video_info;

/* url: a file, /dev/videoN, rtsp:// http(s):// URL, or an image sequence
 * pattern (img%03d.jpg).  realtime = 1 treats a file like a live source
 * (read at its own frame rate, frames dropped when the caller is slower). */
fn_status fn_video_open(const char *url, int realtime, fn_video_source **out);
/* The next frame: *frame is borrowed (valid until the next read or close),
 * *t its time in seconds from the start.  *eof = 1 at the end (no frame). */
fn_status fn_video_read(fn_video_source *v, const fn_image **frame, double *t, int *eof);
fn_video_info fn_video_source_info(const fn_video_source *v);
/* When the frame last handed out became available (decoded; for a paced
 * file, when its time came), on the fn_now() clock: where latency starts. */
double fn_video_frame_wall(const fn_video_source *v);
/* Frames decoded but never handed out because the caller was busy. */
int64_t fn_video_dropped(const fn_video_source *v);
/* Frames decoded so far, and the frames the container announces (its frame
 * count, else duration x frame rate; 0 when it says neither). */
void fn_video_frame_counts(const fn_video_source *v, int64_t *read, int64_t *expected);
/* At the end of input: a sentence when the video was usable but damaged
 * ("" if not) — a file that ends before its container says (cut-short copy
 * or recording) is read to its end, not refused, and this says how much was
 * there: "clip.mp4: the video ends after 12 of the 60 frames its container
 * announces (20 %); ...".  The string lives until the next call or close. */
const char *fn_video_warning(fn_video_source *v);
void fn_video_close(fn_video_source *v);

/* ------------------------------------------------------------ output */

typedef struct fn_video_writer fn_video_writer;

/* Container from the file name (.mp4, .mkv, .avi); H.264 when the FFmpeg
 * build has an encoder for it, else MPEG-4 part 2. */
fn_status fn_video_writer_open(const char *path, int w, int h, double fps, fn_video_writer **out);
/* frame must be w x h RGB, or one pixel wider/taller (an odd-sized source:
 * the extra column/row is left out). */
fn_status fn_video_writer_write(fn_video_writer *vw, const fn_image *frame);
/* Flushes and finishes the file; returns the first error of the whole run. */
fn_status fn_video_writer_close(fn_video_writer *vw);
const char *fn_video_writer_codec(const fn_video_writer *vw);

/* ---------------------------------------------------------- tracking */

typedef enum fn_track_event_kind { FN_TRACK_APPEARED, FN_TRACK_IDENTIFIED, FN_TRACK_LEFT } fn_track_event_kind;

typedef struct fn_track_event {
    fn_track_event_kind kind;
    int track;                        /* id, from 1 */
    double t;                         /* seconds */
    float box[4];
    int identified;                   /* the track has a voted name (known or unknown) */
    int known;                        /* name is a gallery person (else unknown) */
    char name[FN_GALLERY_NAME_MAX];   /* the voted name ("" until identified) */
    float distance;                   /* best distance among the votes for name */
} fn_track_event;

typedef struct fn_track_view {        /* what the drawing needs of a live track */
    int id;
    fn_face face;
    int identified, known;
    const char *name;
    float distance;
} fn_track_view;

typedef struct fn_watch_params {
    int every;               /* MTCNN engine: full detection every N frames, O-Net following the tracks
                                between (1 = every frame); a Haar engine detects every frame */
    float threshold;         /* distance above which a match is unknown */
    float min_prob;          /* O-Net probability a face needs to be kept (0.8) */
    int min_face;            /* smallest face side tracked, in pixels (a Haar engine's smallest
                                window is fn_options.min_face: set both) */
    double max_gone;         /* seconds unseen before a track has left (0.5) */
    int allow_repeats;       /* 1: each track its nearest person, even one another track of the
                                frame holds (0: a person names at most one track per frame,
                                fn_gallery_name_faces) */
    int detect_scale;        /* where detection runs.  0 (default): the watcher's plan for big
                                frames — MTCNN on the frame reduced by min_face / 20 (a whole
                                factor: MTCNN's smallest face, 20 px, becomes the smallest face
                                tracked), its faces refined by O-Net on the full frame; Haar
                                every haar_every frames (the engine's own reduced scan,
                                haar_reduce 2), O-Net following the tracks at full resolution
                                between.  N > 1: MTCNN on the frame reduced by N.  1: the path
                                before that plan — every detection is fn_detect on the whole
                                frame and a Haar engine detects every frame (for comparison) */
    int haar_every;          /* Haar engine, detect_scale != 1: full scan every N frames (3) */
} fn_watch_params;

void fn_watch_params_init(fn_watch_params *p);
/* Engine options tuned for watching video with a Haar engine: detector
 * FN_DETECTOR_HAAR, haar_scale 1.2 (O-Net refines the boxes, so a coarse scan
 * does), haar_reduce 2 (scan at about 640x480, big windows on halved copies;
 * set 1 with detect_scale 1 for the path before), haar_refined_box 1 (track on
 * O-Net's box), edge_retry 0 (an empty frame costs one pass; tracking
 * picks up a face coming in at the border).  Other fields are left as they are; set min_face to the
 * watcher's fn_watch_params.min_face (40) so the cascade's smallest window
 * matches the smallest face tracked. */
void fn_watch_engine_options(fn_options *o);

typedef struct fn_watcher fn_watcher;

/* e and g are borrowed and must outlive the watcher. */
fn_status fn_watcher_new(fn_engine *e, fn_gallery *g, const fn_watch_params *p, fn_watcher **out);
void fn_watcher_free(fn_watcher *w);
/* Detect/track the faces of one frame, embed new tracks and better views,
 * and vote on names.  *events points at this frame's events (n of them),
 * valid until the next call. */
fn_status fn_watcher_frame(fn_watcher *w, const fn_image *frame, double t, const fn_track_event **events, int *n);
/* End of input: every live track leaves. */
void fn_watcher_finish(fn_watcher *w, double t, const fn_track_event **events, int *n);
/* The live (currently seen) tracks; *views valid until the next call. */
int fn_watcher_tracks(fn_watcher *w, const fn_track_view **views);
/* Boxes and names onto frame (in place); mirror: frame is the watched
 * frame flipped left-right (a webcam shown as a mirror), so boxes flip too. */
void fn_watcher_draw(fn_watcher *w, fn_image *frame, int mirror);
/* Totals: tracks started, embeddings computed, identity changes after the first. */
void fn_watcher_stats(const fn_watcher *w, int *tracks, int *embeddings, int *switches);

/* ----------------------------------------------------------- latency */

/* Two delays of the watch loop, each kept as its last FN_LATENCY_RING samples:
 * frame latency, from a frame becoming available to its annotated picture
 * being shown (or written, or its events printed when there is no picture);
 * name latency, from the frame a track appeared in becoming available to the
 * picture that first shows the track's name.  Fixed size: no allocation. */
enum { FN_LATENCY_RING = 2048, FN_LATENCY_PENDING = 64 };

typedef struct fn_latency_ring { double s[FN_LATENCY_RING]; int n, next; } fn_latency_ring;

typedef struct fn_latency {
    fn_latency_ring frame, name;
    struct { int track; double wall; } pending[FN_LATENCY_PENDING];   /* tracks not yet named */
    int n_pending;
    double sorted[FN_LATENCY_RING];   /* scratch for percentiles */
} fn_latency;

void fn_latency_init(fn_latency *l);
/* One frame: available at avail_wall, shown at shown_wall, with these events. */
void fn_latency_frame(fn_latency *l, double avail_wall, double shown_wall, const fn_track_event *ev, int n);
/* Percentile p (0..100) in seconds of the frame (which = 0) or name (1) samples;
 * -1 when there are none.  *count: how many samples. */
double fn_latency_percentile(fn_latency *l, int which, double p, int *count);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
