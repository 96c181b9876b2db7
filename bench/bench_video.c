/* Video benchmark: end-to-end frames per second of the watch loop (decode,
 * detect/track, embed new and better views, gallery vote).
 * 1. The 1080p crowd clip (SHARED/fixtures/video/video.mp4, 105 frames, up
 *    to 8 faces): the watcher's plan for big frames (detect_scale 0, the
 *    default) against the path before it (detect_scale 1, Haar engine with
 *    haar_reduce 1) in the same run, interleaved, median of REPS runs: Haar
 *    on 1 and 2 threads, MTCNN (every 5) on 2 threads.  Targets: Haar 30 fps
 *    on 1 thread and 50 on 2, MTCNN 60 on 2.  Then the same with a busy loop
 *    on every core (a busy machine), and read as a live source (realtime:
 *    frames dropped, never queued).  Lines key=value are for bench/video.sh,
 *    which runs OpenCV's CascadeClassifier on the same clip as the peer.
 * 2. Slideshows of three Film people at 640x480 and 1280x720, Haar and MTCNN.
 *    Targets: 30 fps Haar and 15 fps MTCNN at 640x480.
 * Clips are made with the ffmpeg CLI, the gallery with the facenet CLI
 * beside this binary (build/opt/facenet).
 * Usage: bench_video [models_dir]   (SHARED=../shared, REPS=3, CROWD_ONLY=1) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "facenet.h"
#include "video/video.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *loadavg(char *buf, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    snprintf(buf, cap, "?");
    if (f) {
        if (fgets(buf, (int)cap, f)) buf[strcspn(buf, " ")] = 0;
        fclose(f);
    }
    return buf;
}

static int make_clip(const char *shared, int w, int h, const char *out)
{
    static const char *photos[3] = {"Mohanlal/8.jpeg", "Deepika Padukone/5.jpg", "Shobana/7.jpeg"};
    char cmd[8192], part[1024], inputs[4096] = "", filters[2048] = "";
    for (int i = 0; i < 3; i++) {
        snprintf(part, sizeof part, " -loop 1 -t 1 -i '%s/fixtures/film/Predict/%s'", shared, photos[i]);
        strcat(inputs, part);
        snprintf(part, sizeof part, "[%d]scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,"
                                    "setsar=1,fps=30[v%d];", i, w, h, w, h, i);
        strcat(filters, part);
    }
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y%s -filter_complex \"%s[v0][v1][v2]concat=n=3:v=1:a=0,format=yuv420p[v]\" "
                              "-map '[v]' -c:v libx264 -preset veryfast '%s'", inputs, filters, out);
    return system(cmd);
}

typedef struct run_opts { int detect_scale, realtime; int64_t dropped; } run_opts;

static fn_status run_with(fn_engine *e, fn_gallery *g, const char *clip, run_opts *ro, double *fps, int *frames,
                          fn_latency *lat)
{
    fn_latency_init(lat);
    fn_watch_params p;
    fn_watch_params_init(&p);
    p.threshold = fn_engine_threshold(e);
    if (ro) p.detect_scale = ro->detect_scale;
    fn_video_source *src = NULL;
    fn_watcher *w = NULL;
    fn_status s = fn_video_open(clip, ro ? ro->realtime : 0, &src);
    if (s == FN_OK) s = fn_watcher_new(e, g, &p, &w);
    *frames = 0;
    double t0 = now();
    while (s == FN_OK) {
        const fn_image *frame;
        const fn_track_event *ev;
        double t;
        int eof, n;
        s = fn_video_read(src, &frame, &t, &eof);
        if (s != FN_OK || eof) break;
        s = fn_watcher_frame(w, frame, t, &ev, &n);
        fn_latency_frame(lat, fn_video_frame_wall(src), fn_now(), ev, n);
        (*frames)++;
    }
    *fps = *frames / (now() - t0);
    if (ro && src) ro->dropped = fn_video_dropped(src);
    fn_watcher_free(w);
    fn_video_close(src);
    return s;
}

static fn_status run(fn_engine *e, fn_gallery *g, const char *clip, double *fps, int *frames, fn_latency *lat)
{
    return run_with(e, g, clip, NULL, fps, frames, lat);
}

/* ------------------------------------------------------ the crowd clip */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n ? v[n / 2] : -1;
}

/* A busy loop on each core: the concurrent load of a busy machine. */
static int start_load(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            volatile unsigned long x = 0;
            for (;;) x++;
        }
        if (pids[i] < 0) return -1;
    }
    return 0;
}

static void stop_load(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
}

/* Engine for a path: the old one scans every Haar level at ~640x480. */
static fn_status crowd_engine(const char *models, int haar, int old, fn_engine **e)
{
    fn_options o;
    fn_options_init(&o);
    o.models_dir = models;
    if (haar) {
        fn_watch_params wp;
        fn_watch_params_init(&wp);
        fn_watch_engine_options(&o);
        o.min_face = (float)wp.min_face;
        if (old) o.haar_reduce = 1;
    } else {
        o.edge_retry = 0;   /* as facenet watch: fn_watch_engine_options's choice */
    }
    return fn_engine_new(&o, e);
}

typedef struct crowd_case { const char *name, *key; int haar, threads; double target; } crowd_case;

/* Old and new path of one case, interleaved, reps times each; medians. */
static void crowd_case_run(const char *models, fn_gallery *g, const char *clip, const crowd_case *c, int reps,
                           const char *tag, fn_latency *lat)
{
#ifdef _OPENMP
    omp_set_num_threads(c->threads);
#endif
    fn_engine *e[2] = {NULL, NULL};   /* old, new */
    if (crowd_engine(models, c->haar, 1, &e[0]) != FN_OK || crowd_engine(models, c->haar, 0, &e[1]) != FN_OK) {
        printf("bench_video: engine: %s\n", fn_last_error());
        fn_engine_free(e[0]);
        return;
    }
    double fps[2][16], name95[2][16];
    int frames = 0, nn = 0, ok = 1;
    if (reps > 16) reps = 16;
    for (int r = 0; r < reps && ok; r++)
        for (int path = 0; path < 2 && ok; path++) {
            run_opts ro = {path == 0 ? 1 : 0, 0, 0};
            if (run_with(e[path], g, clip, &ro, &fps[path][r], &frames, lat) != FN_OK) {
                printf("%s %s: failed: %s\n", c->name, path ? "new" : "old", fn_last_error());
                ok = 0;
            }
            name95[path][r] = fn_latency_percentile(lat, 1, 95, &nn);
        }
    if (ok) {
        double fo = median(fps[0], reps), fnew = median(fps[1], reps);
        double lo = median(name95[0], reps), ln = median(name95[1], reps);
        printf("crowd 1080p %-18s %s old %6.1f fps  new %6.1f fps  = %.2fx", c->name, tag, fo, fnew, fnew / fo);
        if (c->target > 0) printf("  (target %.0f: %.2fx)", c->target, fnew / c->target);
        printf("  name latency p95 old %.0f ms new %.0f ms\n", lo * 1e3, ln * 1e3);
        printf("crowd_%s%s_old_fps=%.2f\ncrowd_%s%s_new_fps=%.2f\ncrowd_%s%s_new_name_p95_ms=%.1f\n", c->key, tag[0] ? "_load" : "",
               fo, c->key, tag[0] ? "_load" : "", fnew, c->key, tag[0] ? "_load" : "", ln * 1e3);
    }
    fn_engine_free(e[0]);
    fn_engine_free(e[1]);
}

/* A busy machine, the clip read as a live source (at 25 fps, the newest
 * frame taken, the others dropped): frames processed and dropped. */
static void crowd_live(const char *models, fn_gallery *g, const char *clip, const crowd_case *c, fn_latency *lat)
{
#ifdef _OPENMP
    omp_set_num_threads(c->threads);
#endif
    for (int path = 0; path < 2; path++) {
        fn_engine *e = NULL;
        if (crowd_engine(models, c->haar, path == 0, &e) != FN_OK) continue;
        run_opts ro = {path == 0 ? 1 : 0, 1, 0};
        double fps;
        int frames = 0, nn = 0, nf = 0;
        if (run_with(e, g, clip, &ro, &fps, &frames, lat) == FN_OK) {
            double f95 = fn_latency_percentile(lat, 0, 95, &nf), n95 = fn_latency_percentile(lat, 1, 95, &nn);
            printf("crowd 1080p %-18s busy, live %s: %d frames processed, %lld dropped (of %lld), frame latency p95 "
                   "%.0f ms, name p95 %.0f ms\n", c->name, path ? "new" : "old", frames, (long long)ro.dropped,
                   (long long)(frames + ro.dropped), f95 * 1e3, n95 * 1e3);
        }
        fn_engine_free(e);
    }
}

static void crowd(const char *models, fn_gallery *g, const char *shared, fn_latency *lat)
{
    char clip[1024], buf[64];
    snprintf(clip, sizeof clip, "%s/fixtures/video/video.mp4", shared);
    if (access(clip, R_OK) != 0) {
        printf("crowd clip: skipped (%s is absent)\n", clip);
        return;
    }
    int reps = getenv("REPS") ? atoi(getenv("REPS")) : 3;
    if (reps < 1) reps = 1;
    static const crowd_case cases[] = {{"haar, 1 thread", "haar_1thr", 1, 1, 30},
                                       {"haar, 2 threads", "haar_2thr", 1, 2, 50},
                                       {"mtcnn/5, 2 threads", "mtcnn_2thr", 0, 2, 60}};
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    printf("crowd clip %s: 1920x1080, old path = --detect-scale 1, new = the default plan; median of %d, %d cpus, "
           "load %s\n", clip, reps, ncpu, loadavg(buf, sizeof buf));
    for (int i = 0; i < 3; i++) crowd_case_run(models, g, clip, &cases[i], reps, "", lat);
    pid_t pids[64] = {0};
    int nload = ncpu < 64 ? ncpu : 64;
    if (start_load(pids, nload) != 0) {
        stop_load(pids, nload);
        printf("crowd clip, busy: cannot start the load\n");
        return;
    }
    printf("with a busy loop on each of the %d cpus (load %s):\n", nload, loadavg(buf, sizeof buf));
    for (int i = 0; i < 3; i++) crowd_case_run(models, g, clip, &cases[i], 1, "busy", lat);
    crowd_live(models, g, clip, &cases[0], lat);
    stop_load(pids, nload);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* lines as they come, also into a pipe (bench/video.sh tees) */
    const char *models = argc > 1 ? argv[1] : "models";
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    char tmp[] = "/tmp/fn-bench-video-XXXXXX", cmd[4096], db[128], clip[2][128];
    if (!mkdtemp(tmp)) return 1;
    snprintf(db, sizeof db, "%s/film.db", tmp);
    snprintf(cmd, sizeof cmd, "build/opt/facenet enroll --models-dir '%s' --gallery '%s' '%s/fixtures/film/Film/Test' >/dev/null 2>&1",
             models, db, shared);
    int sizes[2][2] = {{640, 480}, {1280, 720}};
    int ok = system(cmd) == 0;
    for (int i = 0; ok && i < 2; i++) {
        snprintf(clip[i], sizeof clip[i], "%s/clip%d.mp4", tmp, sizes[i][0]);
        ok = make_clip(shared, sizes[i][0], sizes[i][1], clip[i]) == 0;
    }
    fn_latency *lat = malloc(sizeof *lat);
    fn_gallery *g = NULL;
    if (!ok || !lat || fn_gallery_open(db, NULL, FN_GALLERY_READONLY, &g) != FN_OK) {
        printf("bench_video: skipped (needs models in %s, %s, ffmpeg and build/opt/facenet): %s\n", models, shared,
               fn_last_error());
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd)) {}
        free(lat);
        return 0;
    }
    crowd(models, g, shared, lat);
    if (getenv("CROWD_ONLY")) {
        free(lat);
        fn_gallery_close(g);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd)) {}
        return 0;
    }
    printf("watch loop, end to end (decode + detect/track + embed + vote), 90-frame clips, %ld cpus, load %s\n"
           "latency: frame decoded -> its events known; name: a face's first frame decoded -> its name known\n",
           sysconf(_SC_NPROCESSORS_ONLN), loadavg(cmd, sizeof cmd));
    static const char *names[2] = {"haar", "mtcnn/5"};
    static const double target[2] = {30, 15};
    /* 1 thread is what facenet watch uses; 2 for comparison (a new engine:
     * oneDNN fixes a primitive's thread count when it is made). */
    for (int threads = 1; threads <= 2; threads++) {
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        fn_engine *engines[2] = {NULL, NULL};   /* Haar, MTCNN */
        fn_status es = FN_OK;
        for (int d = 0; d < 2 && es == FN_OK; d++) {
            fn_options o;
            fn_options_init(&o);
            o.models_dir = models;
            if (d == 0) {
                fn_watch_params wp;
                fn_watch_params_init(&wp);
                fn_watch_engine_options(&o);
                o.min_face = (float)wp.min_face;
            }
            es = fn_engine_new(&o, &engines[d]);
        }
        if (es != FN_OK) {
            printf("bench_video: engine: %s\n", fn_last_error());
            fn_engine_free(engines[0]);
            break;
        }
        for (int i = 0; i < 2; i++)
            for (int d = 0; d < 2; d++) {
                double fps;
                int frames, nf, nn;
                fn_status s = run(engines[d], g, clip[i], &fps, &frames, lat);
                if (s != FN_OK) {
                    printf("%s %dx%d: failed: %s\n", names[d], sizes[i][0], sizes[i][1], fn_last_error());
                    continue;
                }
                printf("%d thr %-8s %4dx%-4d %6.1f fps", threads, names[d], sizes[i][0], sizes[i][1], fps);
                if (i == 0) printf(" (target %.0f: %.2fx)", target[d], fps / target[d]);
                double f50 = fn_latency_percentile(lat, 0, 50, &nf), f95 = fn_latency_percentile(lat, 0, 95, &nf);
                double n50 = fn_latency_percentile(lat, 1, 50, &nn), n95 = fn_latency_percentile(lat, 1, 95, &nn);
                printf("  latency p50 %.1f p95 %.1f ms, name p50 %.1f p95 %.1f ms (%d tracks)\n", f50 * 1e3, f95 * 1e3,
                       n50 * 1e3, n95 * 1e3, nn);
            }
        fn_engine_free(engines[0]);
        fn_engine_free(engines[1]);
    }
    free(lat);
    fn_gallery_close(g);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return 0;
}
