/* watch_events.c — watch a video against a gallery and print one line per
 * event (a face appeared, was identified, left), using only the public API.
 *
 *   watch_events VIDEO GALLERY.db [MODELS_DIR]
 *
 * GALLERY.db is built by `facenet enroll`; MODELS_DIR defaults to ./models.
 * The engine uses the Haar detector tuned for video, as `facenet watch`. */
#include <stdio.h>

#include "facenet.h"

static void print_events(const fn_track_event *ev, int n)
{
    static const char *kind[] = {"appeared", "identified", "left"};
    for (int i = 0; i < n; i++) {
        const fn_track_event *e = &ev[i];
        printf("%8.2f s  track %d %-10s %s", e->t, e->track, kind[e->kind],
               e->identified ? (e->known ? e->name : "unknown") : "-");
        if (e->identified) printf(" (distance %.3f)", e->distance);
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s VIDEO GALLERY.db [MODELS_DIR]\n", argv[0]);
        return 2;
    }
    fn_watch_params wp;
    fn_watch_params_init(&wp);
    fn_options o;
    fn_options_init(&o);
    o.models_dir = argc > 3 ? argv[3] : "models";
    fn_watch_engine_options(&o);
    o.min_face = (float)wp.min_face;

    fn_engine *e = NULL;
    fn_gallery *g = NULL;
    fn_video_source *src = NULL;
    fn_watcher *w = NULL;
    fn_status s = fn_engine_new(&o, &e);
    if (s == FN_OK) {
        fn_gallery_model m = fn_gallery_model_of_engine(e);
        s = fn_gallery_open(argv[2], &m, FN_GALLERY_READONLY, &g);
    }
    if (s == FN_OK) {
        fn_threshold_source from;
        wp.threshold = fn_decision_threshold(g, e, -1.0f, &from);
        printf("threshold %.3f (%s)\n", wp.threshold, fn_threshold_source_name(from));
        s = fn_video_open(argv[1], 0, &src);
    }
    if (s == FN_OK) s = fn_watcher_new(e, g, &wp, &w);
    double last_t = 0;   /* the last frame's time: the tracks still there leave then */
    while (s == FN_OK) {
        const fn_image *frame;
        const fn_track_event *ev;
        double t;
        int eof, n;
        s = fn_video_read(src, &frame, &t, &eof);
        if (s != FN_OK || eof) break;
        last_t = t;
        s = fn_watcher_frame(w, frame, t, &ev, &n);
        if (s == FN_OK) print_events(ev, n);
    }
    if (w) {
        const fn_track_event *ev;
        int n;
        fn_watcher_finish(w, last_t, &ev, &n);
        print_events(ev, n);
    }
    if (s != FN_OK) fprintf(stderr, "watch_events: %s\n", fn_last_error());
    fn_watcher_free(w);
    fn_video_close(src);
    fn_gallery_close(g);
    fn_engine_free(e);
    return s == FN_OK ? 0 : 1;
}
