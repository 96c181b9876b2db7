/* Video benchmark: end-to-end frames per second of the watch loop (decode,
 * detect/track, embed new and better views, gallery vote) on slideshows of
 * three Film people at 640x480 and 1280x720, Haar (every frame) and MTCNN
 * (every 5 frames, O-Net tracking between).  Targets: 30 fps Haar and 15 fps
 * MTCNN at 640x480.  Clips are made with the ffmpeg CLI, the gallery with
 * the facenet CLI beside this binary (build/opt/facenet).
 * Usage: bench_video [models_dir]   (SHARED=../shared) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static fn_status run(fn_engine *e, fn_gallery *g, const char *clip, double *fps, int *frames, fn_latency *lat)
{
    fn_latency_init(lat);
    fn_watch_params p;
    fn_watch_params_init(&p);
    p.threshold = fn_engine_threshold(e);
    fn_video_source *src = NULL;
    fn_watcher *w = NULL;
    fn_status s = fn_video_open(clip, 0, &src);
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
    fn_watcher_free(w);
    fn_video_close(src);
    return s;
}

int main(int argc, char **argv)
{
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
