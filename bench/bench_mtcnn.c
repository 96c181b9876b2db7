/* Benchmark: MTCNN detection time on the 4 portraits (short side resized to
 * 512), multiface.jpg (1200x630) and a 1920x1080 frame; and, run alone so
 * its peak RSS is its own, one 12000x8000 image.  The images are resized
 * with PIL's bilinear filter, as bench/mtcnn_peer.py does, so both detect
 * in the same pixels.  Prints key=value lines (bench/mtcnn.sh compares).
 * Usage: bench_mtcnn SHARED [iterations]  |  bench_mtcnn SHARED big */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "detect/mtcnn.h"
#include "image/image.h"
#include "image/resize.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_mtcnn: %s: %s\n", what, fn_last_error());
    exit(1);
}

/* Load shared/fixtures/images/NAME.jpg, resized to w x h (0: keep). */
static void load(const char *shared, const char *name, int w, int h, int short_side, fn_image *out)
{
    char path[1024];
    fn_image src = {0};
    snprintf(path, sizeof path, "%s/fixtures/images/%s.jpg", shared, name);
    if (fn_image_load(path, NULL, &src) != FN_OK) die(path);
    if (short_side) {   /* Python's round(): halves to even, as nearbyint */
        double f = (double)short_side / (src.w < src.h ? src.w : src.h);
        w = (int)nearbyint(src.w * f);
        h = (int)nearbyint(src.h * f);
    }
    if (!w) { *out = src; return; }
    if (fn_image_alloc(out, w, h, 3) != FN_OK || fn_resize_bilinear_aa(&src, 0, 0, src.w, src.h, out, NULL) != FN_OK)
        die("resize");
    fn_image_free(&src);
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Best wall time of iters runs; *cpu gets the CPU time (all threads) of
 * the best run, which says how busy the cores were meanwhile. */
static double best_ms(fn_mtcnn *m, const fn_image *img, int iters, int *nfaces, double *cpu)
{
    fn_face faces[256];
    if (fn_mtcnn_detect(m, img, NULL, faces, 256, nfaces) != FN_OK) die("detect");   /* warm-up: sizes scratch */
    double best = 1e30;
    for (int i = 0; i < iters; i++) {
        double t0 = now_ms(), c0 = cpu_ms();
        if (fn_mtcnn_detect(m, img, NULL, faces, 256, nfaces) != FN_OK) die("detect");
        double t = now_ms() - t0;
        if (t < best) { best = t; *cpu = cpu_ms() - c0; }
    }
    return best;
}

static fn_mtcnn *load_detector(const char *shared)
{
    static const char *names[3] = {"pnet", "rnet", "onet"};
    fn_weights *w[3];
    fn_mtcnn *m = NULL;
    for (int i = 0; i < 3; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/fixtures/mtcnn/%s.pt", shared, names[i]);
        if (fn_weights_load_pt(path, &w[i]) != FN_OK) die(path);
    }
    if (fn_mtcnn_new(w[0], w[1], w[2], &m) != FN_OK) die("mtcnn");
    for (int i = 0; i < 3; i++) fn_weights_free(w[i]);
    return m;
}

static void run_cases(fn_mtcnn *m, const char *shared, int iters)
{
    static const char *portraits[4] = {"angelina_jolie", "kate_siegel", "paul_rudd", "shea_whigham"};
    double total = 0, cpu;
    int n;
    for (int i = 0; i < 4; i++) {
        fn_image img;
        load(shared, portraits[i], 0, 0, 512, &img);
        double t = best_ms(m, &img, iters, &n, &cpu);
        total += t;
        printf("portrait512_%s_ms=%.2f  (%dx%d, %d faces; cpu %.1f ms)\n", portraits[i], t, img.w, img.h, n, cpu);
        fn_image_free(&img);
    }
    printf("portrait512_mean_ms=%.2f\n", total / 4);
    fn_image img;
    load(shared, "multiface", 0, 0, 0, &img);
    double t = best_ms(m, &img, iters, &n, &cpu);
    printf("multiface_ms=%.2f  (%dx%d, %d faces; cpu %.1f ms)\n", t, img.w, img.h, n, cpu);
    fn_image_free(&img);
    load(shared, "multiface", 1920, 1080, 0, &img);
    t = best_ms(m, &img, iters > 1 ? iters / 2 : 1, &n, &cpu);
    printf("frame1080_ms=%.2f  (%d faces; cpu %.1f ms)\n", t, n, cpu);
    printf("frame1080_frames_per_s=%.2f\n", 1e3 / t);
    printf("frame1080_detections_per_s=%.1f\n", n * 1e3 / t);
    fn_image_free(&img);
}

static void run_big(fn_mtcnn *m, const char *shared)
{
    fn_image img;
    fn_face faces[256];
    int n;
    load(shared, "multiface", 12000, 8000, 0, &img);
    double t0 = now_ms();
    if (fn_mtcnn_detect(m, &img, NULL, faces, 256, &n) != FN_OK) die("detect 12000x8000");
    double t = now_ms() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("big12000x8000_ms=%.0f  (%d faces)\n", t, n);
    printf("big12000x8000_peak_rss_mb=%.0f  (the image alone is %.0f MB)\n", ru.ru_maxrss / 1024.0,
           (double)img.w * img.h * 3 / (1 << 20));
    fn_image_free(&img);
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: %s SHARED [iterations | big]\n", argv[0]); return 2; }
    fn_mtcnn *m = load_detector(argv[1]);
    if (argc > 2 && strcmp(argv[2], "big") == 0) run_big(m, argv[1]);
    else run_cases(m, argv[1], argc > 2 ? atoi(argv[2]) : 10);
    fn_mtcnn_free(m);
    return 0;
}
