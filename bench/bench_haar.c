/* Haar detector speed at 640x480 and 1280x720 against OpenCV 4.6's
 * CascadeClassifier (bench/haar_peer.py, python3-opencv) on the same gray
 * frames, same settings (1.1, 3), same thread count, in the same run. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jpeglib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "detect/haar.h"
#include "image/image.h"
#include "detect/haar_internal.h"

#define CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

struct jerr { struct jpeg_error_mgr mgr; jmp_buf jb; };
static void jerr_exit(j_common_ptr c) { longjmp(((struct jerr *)c->err)->jb, 1); }

static unsigned char *load_gray(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct jpeg_decompress_struct c;
    struct jerr je;
    unsigned char *volatile rgb = NULL;
    c.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = jerr_exit;
    if (setjmp(je.jb)) { jpeg_destroy_decompress(&c); fclose(f); free(rgb); return NULL; }
    jpeg_create_decompress(&c);
    jpeg_stdio_src(&c, f);
    jpeg_read_header(&c, TRUE);
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    *w = (int)c.output_width;
    *h = (int)c.output_height;
    rgb = malloc((size_t)*w * *h * 3);
    while (c.output_scanline < c.output_height) {
        JSAMPROW row = rgb + (size_t)c.output_scanline * *w * 3;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    fclose(f);
    unsigned char *g = malloc((size_t)*w * *h);
    fn_rgb_to_gray(rgb, *w, *h, (size_t)*w * 3, g, (size_t)*w);
    free(rgb);
    return g;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median ms per frame over iters calls, after one warm-up call that sizes the scratch. */
static double time_ours(fn_haar *h, const unsigned char *g, int w, int hh, int iters, int *faces)
{
    fn_rect r[256];
    double t[64];
    fn_haar_detect(h, g, w, hh, w, NULL, r, 256, faces);
    for (int i = 0; i < iters; i++) {
        double t0 = now_ms();
        fn_haar_detect(h, g, w, hh, w, NULL, r, 256, faces);
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_double);
    return t[iters / 2];
}

static double time_params(fn_haar *h, const unsigned char *g, int w, int hh, int iters, const fn_haar_params *p)
{
    fn_rect r[256];
    double t[64];
    int n;
    fn_haar_detect(h, g, w, hh, w, p, r, 256, &n);
    for (int i = 0; i < iters; i++) {
        double t0 = now_ms();
        fn_haar_detect(h, g, w, hh, w, p, r, 256, &n);
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_double);
    return t[iters / 2];
}

static double time_peer(const unsigned char *g, int w, int hh, int iters, int threads, int *faces)
{
    char pgm[128], cmd[512];
    snprintf(pgm, sizeof pgm, "/tmp/fn-bench-haar-%d-%dx%d.pgm", (int)getpid(), w, hh);
    FILE *f = fopen(pgm, "wb");
    if (!f) return -1;
    fprintf(f, "P5\n%d %d\n255\n", w, hh);
    fwrite(g, 1, (size_t)w * hh, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 bench/haar_peer.py %s %s %d %d 2>/dev/null", CASCADE, pgm, iters, threads);
    FILE *p = popen(cmd, "r");
    double ms = -1;
    if (p) {
        if (fscanf(p, "ms %lf n %d", &ms, faces) != 2) ms = -1;
        pclose(p);
    }
    remove(pgm);
    return ms;
}

int main(void)
{
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/images/multiface.jpg", shared);
    int sw, sh;
    unsigned char *src = load_gray(path, &sw, &sh);
    fn_haar *h = NULL;
    if (!src || fn_haar_load(CASCADE, &h) != FN_OK) {
        printf("skip: need %s and %s\n", path, CASCADE);
        free(src);
        return 0;
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    int peer_ok = system("/usr/bin/python3 -c 'import cv2' >/dev/null 2>&1") == 0;
    int sizes[2][2] = {{640, 480}, {1280, 720}};
    for (int i = 0; i < 2; i++) {
        int w = sizes[i][0], hh = sizes[i][1], iters = i == 0 ? 15 : 7;
        unsigned char *g = malloc((size_t)w * hh);
        int *xofs = malloc((size_t)w * sizeof(int));
        uint16_t *xc = malloc((size_t)w * 2), *l0 = malloc((size_t)w * 2), *l1 = malloc((size_t)w * 2);
        fn_haar_resize_linear_exact(src, sw, sh, sw, g, w, hh, w, xofs, xc, l0, l1);
        int nf = 0, pf = 0;
        double ours = time_ours(h, g, w, hh, iters, &nf);
        printf("haar %dx%d (multiface.jpg resized, 1.1/3): ours %.2f ms/frame (%d faces, %d threads, %s)", w, hh, ours, nf,
               threads, fn_haar_kernel_name(h->kernel));
        if (peer_ok) {
            double peer = time_peer(g, w, hh, iters, threads, &pf);
            if (peer > 0)
                printf(", OpenCV 4.6 %.2f ms/frame (%d faces), OpenCV/ours = %.2fx\n", peer, pf, peer / ours);
            else
                printf(", OpenCV peer failed\n");
        } else {
            printf(", OpenCV peer skipped (python3-opencv not installed)\n");
        }
        /* Every scan kernel the CPU has, same frame, same run. */
        haar_kernel best = h->kernel;
        printf("  kernels:");
        for (int k = HAAR_KERNEL_SCALAR; k <= HAAR_KERNEL_AVX512; k++) {
            if (!fn_haar_kernel_supported((haar_kernel)k)) continue;
            h->kernel = (haar_kernel)k;
            printf(" %s %.2f ms", fn_haar_kernel_name((haar_kernel)k), time_ours(h, g, w, hh, iters, &nf));
        }
        h->kernel = best;
        /* Live video settings (facenet watch): 1.2 step, 40-pixel smallest face. */
        fn_haar_params lp = fn_haar_default_params();
        lp.scale_factor = 1.2;
        lp.min_w = lp.min_h = 40;
        printf("\n  watch settings (1.2, min 40 px): %.2f ms/frame\n", time_params(h, g, w, hh, iters, &lp));
        free(g); free(xofs); free(xc); free(l0); free(l1);
    }
    fn_haar_free(h);
    free(src);
    return 0;
}
