/* facenet watch — recognise the people in a video, a camera or a stream:
 * faces are tracked, named by a vote over their best views, and reported
 * as they appear, are identified and leave. */
#include <getopt.h>
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

static const char *usage =
    "usage: facenet watch --gallery G.db [--detector haar|mtcnn] [--every N] [--json] [--headless]\n"
    "                     [--output FILE.mp4] SOURCE\n"
    "Follows the faces in SOURCE (a video file, /dev/videoN, an rtsp:// or http:// URL, or an\n"
    "image sequence such as img%03d.jpg) and names each by a vote over its best views.\n\n"
    "  --gallery G.db     the gallery (built by `facenet enroll` with the same model)\n"
    "  --detector D       haar (every frame, default) or mtcnn (every N frames, tracked between)\n"
    "  --every N          MTCNN: run full detection every N frames (5)\n"
    "  --threshold T      Euclidean distance above which a face is unknown\n"
    "  --cascade XML      Haar cascade (Debian opencv-data's frontal face cascade)\n"
    "  --json             JSON Lines events: {t, track, event, name, distance, box}\n"
    "  --output FILE      write the annotated video (.mp4, .mkv, .avi)\n"
    "  --headless         no window (the default when there is no display)\n"
    "  --allow-repeats    let one person name several tracks of a frame (by default a person\n"
    "                     names at most one face per frame)\n"
    "  --realtime         read a file at its own frame rate, dropping frames like a camera\n"
    "  --max-frames N     stop after N frames\n"
    "  --min-face N       here: smallest face tracked, and Haar's smallest window (40 px: live\n"
    "                     video rarely needs smaller faces, and each smaller pyramid level costs)\n"
    "  --threads N        compute threads (1: a frame is many short parallel steps, and on\n"
    "                     busy cores each can wait a time slice for its second thread)\n"
    FN_ENGINE_HELP
    "\nexample: facenet watch --gallery film.db --json --headless --output out.mp4 clip.mp4\n";

enum {
    OPT_GALLERY = OPT_FIRST_LOCAL, OPT_DETECTOR, OPT_EVERY, OPT_THRESHOLD, OPT_CASCADE, OPT_JSON, OPT_OUTPUT,
    OPT_HEADLESS, OPT_REALTIME, OPT_MAX_FRAMES, OPT_THREADS, OPT_ALLOW_REPEATS, OPT_HELP
};

typedef struct watch_args {
    fn_cli_engine ce;
    fn_watch_params wp;
    const char *gallery, *output, *source;
    float threshold;
    int json, headless, realtime, threads;
    long long max_frames;   /* 0: all */
} watch_args;

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { (void)sig; interrupted = 1; }

static int parse_args(int argc, char **argv, watch_args *a)
{
    static const struct option longopts[] = {
        FN_ENGINE_LONGOPTS,
        {"gallery", required_argument, 0, OPT_GALLERY},
        {"detector", required_argument, 0, OPT_DETECTOR},
        {"every", required_argument, 0, OPT_EVERY},
        {"threshold", required_argument, 0, OPT_THRESHOLD},
        {"cascade", required_argument, 0, OPT_CASCADE},
        {"json", no_argument, 0, OPT_JSON},
        {"output", required_argument, 0, OPT_OUTPUT},
        {"headless", no_argument, 0, OPT_HEADLESS},
        {"allow-repeats", no_argument, 0, OPT_ALLOW_REPEATS},
        {"realtime", no_argument, 0, OPT_REALTIME},
        {"max-frames", required_argument, 0, OPT_MAX_FRAMES},
        {"threads", required_argument, 0, OPT_THREADS},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    int opt;
    char *end;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_GALLERY) a->gallery = optarg;
        else if (opt == OPT_DETECTOR) {
            if (!strcmp(optarg, "haar")) a->ce.opts.detector = FN_DETECTOR_HAAR;
            else if (!strcmp(optarg, "mtcnn")) a->ce.opts.detector = FN_DETECTOR_MTCNN;
            else return fn_cli_usage_error("watch", "--detector wants haar or mtcnn, got '%s'", optarg);
        } else if (opt == OPT_EVERY) {
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 1000)
                return fn_cli_usage_error("watch", "--every wants a frame count 1..1000, got '%s'", optarg);
            a->wp.every = (int)v;
        } else if (opt == OPT_THRESHOLD) {
            a->threshold = strtof(optarg, &end);
            if (*end || end == optarg || a->threshold < 0)
                return fn_cli_usage_error("watch", "--threshold wants a distance >= 0, got '%s'", optarg);
        } else if (opt == OPT_CASCADE) a->ce.opts.cascade = optarg;
        else if (opt == OPT_JSON) a->json = 1;
        else if (opt == OPT_OUTPUT) a->output = optarg;
        else if (opt == OPT_HEADLESS) a->headless = 1;
        else if (opt == OPT_ALLOW_REPEATS) a->wp.allow_repeats = 1;
        else if (opt == OPT_REALTIME) a->realtime = 1;
        else if (opt == OPT_MAX_FRAMES) {
            long long v = strtoll(optarg, &end, 10);
            if (*end || end == optarg || v < 1)
                return fn_cli_usage_error("watch", "--max-frames wants a frame count >= 1, got '%s'", optarg);
            a->max_frames = v;
        }
        else if (opt == OPT_THREADS) {
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 256)
                return fn_cli_usage_error("watch", "--threads wants 1..256, got '%s'", optarg);
            a->threads = (int)v;
        }
        else if (opt == OPT_HELP) { fputs(usage, stdout); return -1; }
        else if (opt == '?') return fn_cli_usage_error("watch", "bad option");
        else if (fn_cli_engine_option(&a->ce, "watch", opt, optarg)) return 2;
    }
    if (!a->gallery) return fn_cli_usage_error("watch", "--gallery G.db is required");
    if (optind != argc - 1) return fn_cli_usage_error("watch", "give exactly one SOURCE");
    a->source = argv[optind];
    /* --min-face also sets the smallest face tracked (Haar's smallest window). */
    if (a->ce.opts.min_face != 20.0f) a->wp.min_face = (int)a->ce.opts.min_face;
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
    if (s == FN_OK && a->output) s = fn_video_writer_open(a->output, info.w & ~1, info.h & ~1, info.fps, &r->out);
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
        if (eof) break;
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
    struct stat st;
    if (stat(a.gallery, &st) != 0) {
        fprintf(stderr, "facenet watch: %s: no such gallery (create one with `facenet enroll`)\n", a.gallery);
        return 1;
    }
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
    rc = open_all(&a, &r);
    if (!rc) {
        signal(SIGINT, on_signal);
        rc = run_loop(&a, &r, &frames, &last_t);
        const fn_track_event *ev;
        int n;
        fn_watcher_finish(r.w, last_t, &ev, &n);
        emit_all(ev, n, a.json);
    }
    if (r.out) {
        fn_status s = fn_video_writer_close(r.out);
        if (s != FN_OK && !rc) rc = fn_cli_fail("watch", s);
    }
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
    free(r.lat);
    return rc;
}
