/* facenet watch — recognise the people in a video, a camera or a stream:
 * faces are tracked, named by a vote over their best views, and reported
 * as they appear, are identified and leave. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "common.h"
#include "display.h"
#include "engine_opts.h"
#include "gallery_open.h"
#include "outputs.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the gallery (built by `facenet enroll` with the same model)"),
    FN_USE_D(FN_O_DETECTOR, "haar", "haar (a full scan every --every frames, the tracks' neighbourhoods between) or "
                                    "mtcnn (every --every frames on a reduced copy, tracked by O-Net between)"),
    FN_USE_T(FN_O_EVERY, "5 (MTCNN), 3 (Haar)", NULL),
    FN_USE_D(FN_O_DETECT_SCALE, "0", NULL),
    FN_USE_T(FN_O_THRESHOLD, "the gallery's calibrated one, else the model's",
             "Euclidean distance above which a face is unknown"),
    FN_USE_T(FN_O_CASCADE, "Debian opencv-data's frontal face cascade", NULL),
    FN_USE_H(FN_O_JSON, "JSON Lines events: {t, track, event, name, distance, box}"),
    FN_USE_H(FN_O_OUTPUT, "write the annotated video into FILE (.mp4, .mkv, .avi)"),
    FN_USE_H(FN_O_ALLOW_REPEATS, "let one person name several tracks of a frame (by default a person names at "
                                 "most one face per frame)"),
    FN_USE(FN_O_OVERWRITE), FN_USE(FN_O_HEADLESS), FN_USE(FN_O_REALTIME), FN_USE_T(FN_O_MAX_FRAMES, "all", NULL),
    FN_USE_D(FN_O_THREADS, "1", "compute threads (a frame is many short parallel steps, and on busy cores each can "
                                "wait a time slice for its second thread)"),
    FN_CLI_MODEL_USES,
    FN_USE_T(FN_O_MIN_FACE, "40", "smallest face tracked, and Haar's smallest window (live video rarely needs "
                                  "smaller faces, and each smaller pyramid level costs)"),
    FN_CLI_MTCNN_USES, FN_USE_D(FN_O_SELECT, "prob", NULL),
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "watch",
    .usage = (const char *const[]){"--gallery G.db [--detector haar|mtcnn] [--every N] [--json] [--headless]",
                                   "--gallery G.db [--output FILE.mp4] SOURCE", NULL},
    .description =
        "Follows the faces in SOURCE (a video file, /dev/videoN, an rtsp:// or http:// URL, or an\n"
        "image sequence such as img%03d.jpg) and names each by a vote over its best views.\n"
        "--output is written to a temporary file beside FILE and moved into place at the end;\n"
        "it never replaces the source, nor an existing file without --overwrite.",
    .opts = uses, .min_args = 1, .max_args = 1, .args_name = "SOURCE",
    .examples = (const char *const[]){"facenet watch --gallery film.db --json --headless --output out.mp4 clip.mp4",
                                      "facenet watch --gallery home.db /dev/video0", NULL},
};

typedef struct watch_args {
    fn_cli_engine ce;
    fn_watch_params wp;
    const char *gallery, *output, *source;
    int overwrite;
    float threshold;
    int json, headless, realtime, threads;
    long long max_frames;   /* 0: all */
} watch_args;

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { (void)sig; interrupted = 1; }

static int parse_args(int argc, char **argv, watch_args *a)
{
    fn_cli_args o;
    int code;
    /* Not fn_cli_engine_parse: the engine options already hold the watcher's tuning. */
    if (fn_cli_parse(&spec, argc, argv, &o, &code)) return code ? code : -1;
    fn_cli_engine_from_args(&a->ce, &o);
    a->gallery = fn_cli_str(&o, FN_O_GALLERY);
    a->wp.every = (int)fn_cli_int(&o, FN_O_EVERY, 5);
    a->wp.haar_every = (int)fn_cli_int(&o, FN_O_EVERY, 3);
    a->wp.detect_scale = (int)fn_cli_int(&o, FN_O_DETECT_SCALE, 0);
    /* The path before: the engine's Haar scan of every level at ~640x480 */
    if (a->wp.detect_scale == 1) a->ce.opts.haar_reduce = 1;
    a->threshold = (float)fn_cli_float(&o, FN_O_THRESHOLD, -1);
    a->json = fn_cli_flag(&o, FN_O_JSON);
    a->output = fn_cli_str(&o, FN_O_OUTPUT);
    a->overwrite = fn_cli_flag(&o, FN_O_OVERWRITE);
    a->headless = fn_cli_flag(&o, FN_O_HEADLESS);
    a->wp.allow_repeats = fn_cli_flag(&o, FN_O_ALLOW_REPEATS);
    a->realtime = fn_cli_flag(&o, FN_O_REALTIME);
    a->max_frames = fn_cli_int(&o, FN_O_MAX_FRAMES, 0);
    a->threads = (int)fn_cli_int(&o, FN_O_THREADS, 1);
    a->source = o.pos[0];
    /* --min-face also sets the smallest face tracked; else a Haar engine's
     * smallest window is the smallest face tracked (40). */
    if (fn_cli_given(&o, FN_O_MIN_FACE)) a->wp.min_face = (int)a->ce.opts.min_face;
    else if (a->ce.opts.detector == FN_DETECTOR_HAAR) a->ce.opts.min_face = (float)a->wp.min_face;
    return 0;
}

static double round4(double v) { return floor(v * 10000.0 + 0.5) / 10000.0; }

static const char *event_name(fn_track_event_kind k)
{
    return k == FN_TRACK_APPEARED ? "appeared" : k == FN_TRACK_IDENTIFIED ? "identified" : "left";
}

static void emit_event(const fn_track_event *e, int json)
{
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "t", floor(e->t * 1000.0 + 0.5) / 1000.0);
        cJSON_AddNumberToObject(o, "track", e->track);
        cJSON_AddStringToObject(o, "event", event_name(e->kind));
        if (e->known) cJSON_AddStringToObject(o, "name", e->name);
        else cJSON_AddNullToObject(o, "name");
        if (e->identified) cJSON_AddNumberToObject(o, "distance", round4(e->distance));
        else cJSON_AddNullToObject(o, "distance");
        cJSON_AddItemToObject(o, "box", fn_cli_box(e->box));
        fn_cli_emit(o);
        fflush(stdout);
        return;
    }
    printf("%8.2fs  track %-3d %-10s", e->t, e->track, event_name(e->kind));
    if (e->kind == FN_TRACK_IDENTIFIED) printf(" %s (distance %.3f)", e->known ? e->name : "unknown", e->distance);
    else if (e->known) printf(" %s", e->name);
    printf("  box [%.0f %.0f %.0f %.0f]\n", e->box[0], e->box[1], e->box[2], e->box[3]);
    fflush(stdout);
}

static void emit_all(const fn_track_event *ev, int n, int json)
{
    for (int i = 0; i < n; i++) emit_event(&ev[i], json);
}

static int is_webcam(const char *source) { return !strncmp(source, "/dev/video", 10); }

typedef struct watch_run {
    fn_engine *e;
    fn_gallery *g;
    fn_video_source *src;
    fn_watcher *w;
    fn_video_writer *out;
    fn_outputs outs;   /* --output: never the source, not replaced without --overwrite */
    char out_tmp[4400];   /* the file being written; moved to --output at the end */
    fn_display *disp;
    fn_image canvas;   /* the frame with annotations, one buffer for the run */
    int mirror;
    fn_latency *lat;
} watch_run;

static int open_all(watch_args *a, watch_run *r)
{
    if (fn_cli_engine_open(&a->ce, "watch", &r->e)) return 1;
    if (fn_cli_gallery_open("watch", a->gallery, r->e, FN_GALLERY_READONLY, &r->g)) return 1;
    int64_t people = 0, images = 0;
    fn_gallery_count(r->g, &people, &images);
    if (images == 0) {
        fprintf(stderr, "facenet watch: %s: the gallery is empty (enrol people with `facenet enroll`)\n", a->gallery);
        return 1;
    }
    const char *tsrc;
    a->wp.threshold = fn_cli_threshold(r->g, r->e, a->threshold, &tsrc);
    r->mirror = is_webcam(a->source);
    fn_status s = fn_video_open(a->source, a->realtime, &r->src);
    if (s == FN_OK) s = fn_watcher_new(r->e, r->g, &a->wp, &r->w);
    fn_video_info info = r->src ? fn_video_source_info(r->src) : (fn_video_info){0};
    if (s == FN_OK && (a->output || !a->headless)) s = fn_image_alloc(&r->canvas, info.w, info.h, 3);
    if (s == FN_OK && a->output) s = fn_video_writer_open(r->out_tmp, info.w & ~1, info.h & ~1, info.fps, &r->out);
    if (s != FN_OK) return fn_cli_fail("watch", s);
    if (!a->headless) {
        char why[256];
        if (fn_display_open(a->source, info.w, info.h, &r->disp, why, sizeof why) != 0) {
            fprintf(stderr, "facenet watch: %s; running headless\n", why);
            a->headless = 1;
        }
    }
    if (!a->json)
        fprintf(stderr, "watching %s: %dx%d at %.2f fps, threshold %.3f (%s)%s%s\n", a->source, info.w, info.h,
                info.fps, a->wp.threshold, tsrc, r->out ? ", writing with " : "",
                r->out ? fn_video_writer_codec(r->out) : "");
    return 0;
}

static void close_all(watch_run *r)
{
    fn_display_close(r->disp);
    fn_image_free(&r->canvas);
    fn_watcher_free(r->w);
    fn_video_close(r->src);
    fn_gallery_close(r->g);
    fn_engine_free(r->e);
}

/* The canvas: the frame, mirrored for a webcam (people expect a mirror),
 * with boxes, names and the processing rate. */
static void paint(watch_run *r, const fn_image *frame, double fps)
{
    size_t row = (size_t)frame->w * 3;
    if (!r->mirror) memcpy(r->canvas.data, frame->data, row * frame->h);
    else
        for (int y = 0; y < frame->h; y++) {
            const uint8_t *s = frame->data + y * row;
            uint8_t *d = r->canvas.data + y * row + row - 3;
            for (int x = 0; x < frame->w; x++, s += 3, d -= 3) memcpy(d, s, 3);
        }
    fn_watcher_draw(r->w, &r->canvas, r->mirror);
    char text[32];
    snprintf(text, sizeof text, "%.1f fps", fps);
    fn_display_label(&r->canvas, text);
}

static int run_loop(watch_args *a, watch_run *r, int64_t *frames, double *last_t)
{
    double start = fn_now();
    for (;;) {
        if (interrupted || (a->max_frames && *frames >= a->max_frames)) break;
        const fn_image *frame;
        double t;
        int eof;
        fn_status s = fn_video_read(r->src, &frame, &t, &eof);
        if (s != FN_OK) return fn_cli_fail("watch", s);
        if (eof) {
            const char *damaged = fn_video_warning(r->src);   /* a cut-short file, read to its end */
            if (damaged[0]) fprintf(stderr, "facenet watch: warning: %s\n", damaged);
            break;
        }
        const fn_track_event *ev;
        int n;
        s = fn_watcher_frame(r->w, frame, t, &ev, &n);
        if (s != FN_OK) return fn_cli_fail("watch", s);
        emit_all(ev, n, a->json);
        (*frames)++;
        *last_t = t;
        int quit = 0;
        if (r->canvas.data) {
            paint(r, frame, (double)*frames / (fn_now() - start + 1e-9));
            if (r->out && (s = fn_video_writer_write(r->out, &r->canvas)) != FN_OK) return fn_cli_fail("watch", s);
            if (r->disp) quit = fn_display_show(r->disp, &r->canvas);   /* the user closed it */
        }
        fn_latency_frame(r->lat, fn_video_frame_wall(r->src), fn_now(), ev, n);
        if (quit) break;
    }
    return 0;
}

/* The summary's latency line: p50/p95 of frame -> picture and appearance -> name. */
static void print_latency(fn_latency *l)
{
    int nf, nn;
    double f50 = fn_latency_percentile(l, 0, 50, &nf), f95 = fn_latency_percentile(l, 0, 95, &nf);
    double n50 = fn_latency_percentile(l, 1, 50, &nn), n95 = fn_latency_percentile(l, 1, 95, &nn);
    if (nf == 0) return;
    fprintf(stderr, "latency: frame to picture p50 %.1f ms, p95 %.1f ms", f50 * 1e3, f95 * 1e3);
    if (nn > 0) fprintf(stderr, "; appearance to name p50 %.1f ms, p95 %.1f ms (%d tracks)", n50 * 1e3, n95 * 1e3, nn);
    fprintf(stderr, "\n");
}

/* --output: claimed before anything runs, written under a temporary name. */
static int plan_output(const watch_args *a, watch_run *r)
{
    if (!a->output) return 0;
    char err[4600];
    char *src[1] = {(char *)a->source};
    if (fn_cli_output_file("watch", &r->outs, a->output, src, 1, a->overwrite)) return 1;
    if (fn_outputs_begin(&r->outs, a->output, r->out_tmp, sizeof r->out_tmp, err, sizeof err)) {
        fprintf(stderr, "facenet watch: %s\n", err);
        r->out_tmp[0] = '\0';
        return 1;
    }
    return 0;
}

/* Close the writer and move the video into place: a closed video is whole
 * and playable even when the run stopped on an error, so it is kept. */
static int finish_output(const watch_args *a, watch_run *r, int rc)
{
    if (!r->out_tmp[0]) return rc;
    fn_status s = r->out ? fn_video_writer_close(r->out) : FN_ERR_IO;
    r->out = NULL;
    char err[4600];
    if (s != FN_OK) {
        if (r->out_tmp[0] && !rc && s != FN_ERR_IO) rc = fn_cli_fail("watch", s);
        fn_outputs_abort(r->out_tmp);
        return rc;
    }
    if (fn_outputs_commit(&r->outs, r->out_tmp, a->output, err, sizeof err)) {
        fprintf(stderr, "facenet watch: %s\n", err);
        return 1;
    }
    if (rc) fprintf(stderr, "facenet watch: %s holds the video up to the error\n", a->output);
    return rc;
}

int fn_cmd_watch(int argc, char **argv)
{
    watch_args a;
    memset(&a, 0, sizeof a);
    fn_cli_engine_init(&a.ce);
    fn_watch_params_init(&a.wp);
    fn_watch_engine_options(&a.ce.opts);   /* Haar by default, tuned for video */
    a.threshold = -1;
    a.threads = 1;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
#ifdef _OPENMP
    /* Before the engine exists: oneDNN fixes a primitive's thread count when it is made. */
    omp_set_num_threads(a.threads);
#endif
    watch_run r;
    memset(&r, 0, sizeof r);
    int64_t frames = 0;
    double last_t = 0, start = fn_now();
    r.lat = malloc(sizeof *r.lat);
    if (!r.lat) {
        fprintf(stderr, "facenet watch: out of memory\n");
        return 1;
    }
    fn_latency_init(r.lat);
    rc = plan_output(&a, &r);
    if (!rc) rc = open_all(&a, &r);
    if (!rc) {
        signal(SIGINT, on_signal);
        rc = run_loop(&a, &r, &frames, &last_t);
        const fn_track_event *ev;
        int n;
        fn_watcher_finish(r.w, last_t, &ev, &n);
        emit_all(ev, n, a.json);
    }
    rc = finish_output(&a, &r, rc);
    if (r.w) {
        int tracks, embeddings, switches;
        fn_watcher_stats(r.w, &tracks, &embeddings, &switches);
        double secs = fn_now() - start;
        fprintf(stderr, "%lld frames in %.1f s (%.1f fps), %d tracks, %d embeddings, %d identity switches, "
                        "%lld frames dropped\n", (long long)frames, secs, (double)frames / (secs + 1e-9), tracks,
                embeddings, switches, (long long)fn_video_dropped(r.src));
        print_latency(r.lat);
    }
    close_all(&r);
    fn_outputs_free(&r.outs);
    free(r.lat);
    return rc;
}
