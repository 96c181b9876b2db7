/* Haar cascade detector: hand-computed resize/integral/grouping cases, the fast
 * scan against the reference scan, thread-count independence, bad cascade
 * files, and parity with OpenCV 4.6 detectMultiScale on the shared fixtures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <pthread.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "t.h"
#include "detect/haar.h"
#include "image/image.h"
#include "detect/haar_internal.h"

#define CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#else
#define ASAN_BUILD 0
#endif

/* ---- small helpers */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[n] = 0; *len = (size_t)n; }
    return b;
}

struct jerr { struct jpeg_error_mgr mgr; jmp_buf jb; };
static void jerr_exit(j_common_ptr c) { longjmp(((struct jerr *)c->err)->jb, 1); }

/* Decodes a JPEG to RGB8 with libjpeg defaults (islow DCT, fancy upsampling),
 * as PIL does for the fixture. */
static unsigned char *load_jpeg_rgb(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct jpeg_decompress_struct c;
    struct jerr je;
    unsigned char *volatile img = NULL;
    c.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = jerr_exit;
    if (setjmp(je.jb)) { jpeg_destroy_decompress(&c); fclose(f); free(img); return NULL; }
    jpeg_create_decompress(&c);
    jpeg_stdio_src(&c, f);
    jpeg_read_header(&c, TRUE);
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    *w = (int)c.output_width;
    *h = (int)c.output_height;
    img = malloc((size_t)*w * *h * 3);
    while (c.output_scanline < c.output_height) {
        JSAMPROW row = img + (size_t)c.output_scanline * *w * 3;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    fclose(f);
    return img;
}

static unsigned char *load_gray(const char *path, int *w, int *h)
{
    unsigned char *rgb = load_jpeg_rgb(path, w, h);
    if (!rgb) return NULL;
    unsigned char *g = malloc((size_t)*w * *h);
    fn_rgb_to_gray(rgb, *w, *h, (size_t)*w * 3, g, (size_t)*w);
    free(rgb);
    return g;
}

static double iou(fn_rect a, fn_rect b)
{
    int x0 = a.x > b.x ? a.x : b.x, y0 = a.y > b.y ? a.y : b.y;
    int x1 = a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w, y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;
    double inter = (x1 > x0 && y1 > y0) ? (double)(x1 - x0) * (y1 - y0) : 0.0;
    return inter / ((double)a.w * a.h + (double)b.w * b.h - inter);
}

/* ---- hand-computed cases */

static void test_gray(void)
{
    /* (R*4899 + G*9617 + B*1868 + 8192) >> 14 */
    unsigned char rgb[9] = {255, 0, 0, 0, 255, 0, 10, 20, 30}, g[3];
    fn_rgb_to_gray(rgb, 3, 1, 9, g, 3);
    T_CHECK(g[0] == 76 && g[1] == 150 && g[2] == 18, "gray %d %d %d, want 76 150 18", g[0], g[1], g[2]);
}

static void test_resize_hand(void)
{
    int xofs[8]; uint16_t xc[8], l0[8], l1[8];
    /* Downscale 4 -> 2: centres at 0.5 and 2.5, half-way weights; 227.5 rounds up. */
    uint8_t s1[4] = {0, 100, 200, 255}, d1[2];
    fn_haar_resize_linear_exact(s1, 4, 1, 4, d1, 2, 1, 2, xofs, xc, l0, l1);
    T_CHECK(d1[0] == 50 && d1[1] == 228, "4->2: %d %d, want 50 228", d1[0], d1[1]);
    /* Upscale 2 -> 4: borders copy, inside 12.5 -> 13 and 17.5 -> 18. */
    uint8_t s2[2] = {10, 20}, d2[4];
    fn_haar_resize_linear_exact(s2, 2, 1, 2, d2, 4, 1, 4, xofs, xc, l0, l1);
    T_CHECK(d2[0] == 10 && d2[1] == 13 && d2[2] == 18 && d2[3] == 20, "2->4: %d %d %d %d, want 10 13 18 20",
            d2[0], d2[1], d2[2], d2[3]);
    /* 2x2 -> 1x1: both axes at 0.5: (10+20+30+40)/4 = 25. */
    uint8_t s3[4] = {10, 20, 30, 40}, d3[1];
    fn_haar_resize_linear_exact(s3, 2, 2, 2, d3, 1, 1, 1, xofs, xc, l0, l1);
    T_CHECK(d3[0] == 25, "2x2->1: %d, want 25", d3[0]);
    /* Same size is a copy. */
    uint8_t s4[6] = {1, 2, 3, 4, 5, 6}, d4[6];
    fn_haar_resize_linear_exact(s4, 3, 2, 3, d4, 3, 2, 3, xofs, xc, l0, l1);
    T_CHECK(memcmp(s4, d4, 6) == 0, "same-size resize changed pixels");
}

static void test_integral_hand(void)
{
    uint8_t img[4] = {1, 2, 3, 4};
    uint32_t s[9], q[9];
    fn_haar_integral(img, 2, 2, 2, s, q, 3);
    uint32_t ws[9] = {0, 0, 0, 0, 1, 3, 0, 4, 10}, wq[9] = {0, 0, 0, 0, 1, 5, 0, 10, 30};
    T_CHECK(memcmp(s, ws, sizeof s) == 0 && memcmp(q, wq, sizeof q) == 0, "integral of [1 2;3 4] wrong (sum[8]=%u sq[8]=%u)",
            s[8], q[8]);
}

static void test_group_hand(void)
{
    /* Four close rects and one far: threshold 3 keeps one averaged rect. */
    fn_rect r[5] = {{100, 100, 50, 50}, {102, 101, 50, 50}, {98, 99, 52, 52}, {101, 100, 49, 49}, {400, 10, 30, 30}};
    void *work = malloc(fn_haar_group_work_bytes(9));   /* the largest case below */
    int n = fn_haar_group_rects(r, 5, 3, 0.2, work);
    /* x: (100+102+98+101)/4 = 100.25 -> 100; y: 400/4 = 100; w: 201/4 = 50.25 -> 50 */
    T_CHECK(n == 1 && r[0].x == 100 && r[0].y == 100 && r[0].w == 50 && r[0].h == 50,
            "group: n=%d first %d,%d,%d,%d", n, r[0].x, r[0].y, r[0].w, r[0].h);
    /* A strong big group swallows a weak small one inside it. */
    fn_rect r2[9] = {{100, 100, 100, 100}, {101, 100, 100, 100}, {100, 101, 100, 100}, {99, 100, 100, 100},
                     {100, 99, 100, 100}, {130, 130, 30, 30}, {131, 130, 30, 30}, {130, 131, 30, 30}, {129, 130, 30, 30}};
    n = fn_haar_group_rects(r2, 9, 3, 0.2, work);
    T_CHECK(n == 1 && r2[0].w == 100, "swallow: n=%d w=%d", n, r2[0].w);
    /* Threshold 0 leaves rects ungrouped, as OpenCV. */
    fn_rect r3[2] = {{1, 1, 10, 10}, {1, 1, 10, 10}};
    T_CHECK(fn_haar_group_rects(r3, 2, 0, 0.2, work) == 2, "threshold 0 must not group");
    free(work);
}

/* ---- bad cascade files */

static void expect_fail(const char *label, const char *xml, size_t len, fn_status want)
{
    fn_haar *h = NULL;
    fn_status st = fn_haar_load_mem(label, xml, len, &h);
    T_CHECK(st != FN_OK && h == NULL, "%s: loaded a bad cascade", label);
    T_CHECK(want == FN_OK || st == want, "%s: status %s, want %s", label, fn_status_name(st), fn_status_name(want));
    T_CHECK(strstr(fn_last_error(), label) != NULL, "%s: message does not name the file: %s", label, fn_last_error());
    printf("  %-22s -> %s: %s\n", label, fn_status_name(st), fn_last_error());
    fn_haar_free(h);
}

/* xml with the first occurrence of from replaced by to. */
static char *edited(const char *xml, const char *from, const char *to, size_t *len)
{
    const char *at = strstr(xml, from);
    if (!at) return NULL;
    size_t a = (size_t)(at - xml), fl = strlen(from), tl = strlen(to), n = strlen(xml);
    char *o = malloc(n - fl + tl + 1);
    memcpy(o, xml, a);
    memcpy(o + a, to, tl);
    memcpy(o + a + tl, at + fl, n - a - fl + 1);
    *len = n - fl + tl;
    return o;
}

static void test_bad_cascades(const char *xml, size_t len)
{
    printf("bad cascade files:\n");
    expect_fail("empty.xml", "", 0, FN_ERR_FORMAT);
    expect_fail("garbage.xml", "\x89PNG\r\n\x1a\n\x01\x02garbage<<<>>", 18, FN_ERR_FORMAT);
    expect_fail("nul.xml", "<a>\0</a>", 8, FN_ERR_FORMAT);
    expect_fail("text.xml", "just some words", 15, FN_ERR_FORMAT);
    expect_fail("mismatch.xml", "<a><b></c></a>", 14, FN_ERR_FORMAT);
    expect_fail("nocascade.xml", "<opencv_storage></opencv_storage>", 33, FN_ERR_FORMAT);
    char deep[2 * 70 * 3 + 1] = "";
    for (int i = 0; i < 70; i++) strcat(deep, "<a>");
    expect_fail("deep.xml", deep, strlen(deep), FN_ERR_FORMAT);
    /* Truncations of the real file at several points. */
    size_t cuts[] = {10, 700, len / 10, len / 2, len - 200, len - 20};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        char label[64];
        snprintf(label, sizeof label, "truncated%zu.xml", cuts[i]);
        expect_fail(label, xml, cuts[i], FN_ERR_FORMAT);
    }
    struct { const char *label, *from, *to; fn_status want; } ed[] = {
        {"lbp.xml", "<featureType>HAAR", "<featureType>LBP", FN_ERR_UNSUPPORTED},
        {"nostagetype.xml", "<stageType>BOOST</stageType>", "", FN_ERR_FORMAT},
        {"nowidth.xml", "<width>24</width>", "", FN_ERR_FORMAT},
        {"badwidth.xml", "<width>24</width>", "<width>-3</width>", FN_ERR_FORMAT},
        {"nothreshold.xml", "<stageThreshold>-5.0425500869750977e+00</stageThreshold>", "", FN_ERR_FORMAT},
        {"nanthreshold.xml", "-5.0425500869750977e+00</stageThreshold>", "abc</stageThreshold>", FN_ERR_FORMAT},
        {"nofeatures.xml", "<features>", "<featurez>", FN_ERR_FORMAT},
        {"badfeature.xml", "0 -1 0 -3.1511999666690826e-02", "0 -1 99999 -3.1511999666690826e-02", FN_ERR_FORMAT},
        {"badleaf.xml", "0 -1 0 -3.1511999666690826e-02", "0 -7 0 -3.1511999666690826e-02", FN_ERR_FORMAT},
        {"loopnode.xml", "0 -1 0 -3.1511999666690826e-02", "0 1 0 0 1 -1 0 -3.1511999666690826e-02", FN_ERR_FORMAT},
        {"shortnode.xml", "0 -1 0 -3.1511999666690826e-02", "0 -1 0", FN_ERR_FORMAT},
        {"outside.xml", "12 17 9 6 -1.", "20 17 9 6 -1.", FN_ERR_FORMAT},
        {"fourrects.xml", "12 19 9 2 3.</_>", "12 19 9 2 3.</_><_>0 0 1 1 1.</_><_>0 0 1 1 1.</_>", FN_ERR_FORMAT},
        {"tilted.xml", "</rects></_></features>", "</rects><tilted>1</tilted></_></features>", FN_ERR_UNSUPPORTED},
        {"categorical.xml", "<maxCatCount>0</maxCatCount>", "<maxCatCount>256</maxCatCount>", FN_ERR_UNSUPPORTED},
        {"oldformat.xml", "<stageType>BOOST</stageType>", "<size>24 24</size>", FN_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof ed / sizeof *ed; i++) {
        size_t n;
        char *x = edited(xml, ed[i].from, ed[i].to, &n);
        T_CHECK(x != NULL, "%s: could not build the case", ed[i].label);
        if (!x) continue;
        expect_fail(ed[i].label, x, n, ed[i].want);
        free(x);
    }
    fn_haar *h = NULL;
    fn_status st = fn_haar_load("/nonexistent/cascade.xml", &h);
    T_CHECK(st == FN_ERR_IO && strstr(fn_last_error(), "/nonexistent/cascade.xml"), "missing file: %s", fn_last_error());
}

/* ---- detector checks on real images */

static void test_bad_args(fn_haar *h)
{
    uint8_t img[64 * 64] = {0};
    fn_rect r[4];
    int n = -1;
    fn_haar_params p = fn_haar_default_params();
    T_CHECK(fn_haar_detect(h, img, 0, 64, 64, NULL, r, 4, &n) == FN_ERR_ARG, "zero width accepted");
    T_CHECK(fn_haar_detect(h, img, 64, 64, 32, NULL, r, 4, &n) == FN_ERR_ARG, "stride < width accepted");
    p.scale_factor = 1.0;
    T_CHECK(fn_haar_detect(h, img, 64, 64, 64, &p, r, 4, &n) == FN_ERR_ARG, "scale factor 1 accepted");
    T_CHECK(fn_haar_detect(h, img, 20, 20, 20, NULL, r, 4, &n) == FN_OK && n == 0, "image smaller than the window: n=%d", n);
    T_CHECK(fn_haar_detect(h, img, 64, 64, 64, NULL, r, 4, &n) == FN_OK && n == 0, "flat image found %d faces", n);
}

static int same_rects(const fn_rect *a, int na, const fn_rect *b, int nb)
{
    return na == nb && (na == 0 || memcmp(a, b, (size_t)na * sizeof *a) == 0);
}

/* Raw windows (min_neighbors 0 = no grouping) must be identical between the
 * reference scan and the fast one, and between 1 and 2 threads. */
static void test_fast_vs_ref(fn_haar *h, const unsigned char *g, int w, int hh, const char *name)
{
    enum { CAP = 20000 };
    fn_rect *a = malloc(CAP * sizeof *a), *b = malloc(CAP * sizeof *b);
    fn_haar_params p = fn_haar_default_params();
    p.min_neighbors = 0;
    int na = 0, nb = 0;
    T_CHECK(fn_haar_detect_impl(h, g, w, hh, w, &p, a, CAP, &na, 1) == FN_OK, "ref scan failed: %s", fn_last_error());
    /* Every scan kernel this CPU has, not only the one a load picks. */
    haar_kernel best = h->kernel;
    printf("%s: %d raw windows; fast == ref:", name, na);
    for (int k = HAAR_KERNEL_SCALAR; k <= HAAR_KERNEL_AVX512; k++) {
        if (!fn_haar_kernel_supported((haar_kernel)k)) continue;
        h->kernel = (haar_kernel)k;
        T_CHECK(fn_haar_detect_impl(h, g, w, hh, w, &p, b, CAP, &nb, 0) == FN_OK, "fast scan failed: %s", fn_last_error());
        T_CHECK(na <= CAP && same_rects(a, na, b, nb), "%s: raw windows ref %d vs %s %d differ", name, na,
                fn_haar_kernel_name((haar_kernel)k), nb);
        printf(" %s %s", fn_haar_kernel_name((haar_kernel)k), same_rects(a, na, b, nb) ? "yes" : "NO");
    }
    printf("\n");
    h->kernel = best;
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    T_CHECK(fn_haar_detect(h, g, w, hh, w, &p, b, CAP, &nb) == FN_OK, "1-thread scan failed");
    T_CHECK(same_rects(a, na, b, nb), "%s: 1 thread gives %d raw windows, %d threads %d", name, nb, saved, na);
    omp_set_num_threads(saved > 1 ? saved : 2);
    T_CHECK(fn_haar_detect(h, g, w, hh, w, &p, b, CAP, &nb) == FN_OK, "2-thread scan failed");
    T_CHECK(same_rects(a, na, b, nb), "%s: thread count changes raw windows (%d vs %d)", name, na, nb);
    omp_set_num_threads(saved);
#endif
    /* Truncated output: *n is the full count, only max written. */
    fn_rect one[1];
    int n1 = 0;
    T_CHECK(fn_haar_detect(h, g, w, hh, w, &p, one, 1, &n1) == FN_OK && n1 == na, "max=1: n=%d want %d", n1, na);
    free(a);
    free(b);
}

/* One handle used from several threads at once: each call takes its own
 * scratch from the pool, so every thread must see the single-thread answer. */
typedef struct conc_job { fn_haar *h; const unsigned char *g; int w, hh, n, ok; fn_rect want[64]; } conc_job;

static void *conc_worker(void *arg)
{
    conc_job *j = arg;
    fn_rect got[64];
    j->ok = 1;
    for (int it = 0; it < 2; it++) {
        int n = 0;
        if (fn_haar_detect(j->h, j->g, j->w, j->hh, j->w, NULL, got, 64, &n) != FN_OK || !same_rects(got, n, j->want, j->n))
            j->ok = 0;
    }
    return NULL;
}

static void test_concurrent(fn_haar *h, const unsigned char *g, int w, int hh)
{
    conc_job jobs[3];
    int n = 0;
    fn_rect want[64];
    T_CHECK(fn_haar_detect(h, g, w, hh, w, NULL, want, 64, &n) == FN_OK && n <= 64, "single call failed");
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        jobs[i].h = h; jobs[i].g = g; jobs[i].w = w; jobs[i].hh = hh; jobs[i].n = n;
        memcpy(jobs[i].want, want, sizeof want);
        pthread_create(&th[i], NULL, conc_worker, &jobs[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        T_CHECK(jobs[i].ok, "thread %d got a different answer from a shared handle", i);
    }
    printf("3 threads sharing one handle: %s\n", jobs[0].ok && jobs[1].ok && jobs[2].ok ? "same answers" : "DIFFERENT");
}

/* A drawn grayscale "face" (bright oval, dark eyes, brows and mouth) at
 * several sizes on a textured background: input for the fast-vs-reference
 * and thread checks when the shared photos are absent. */
static unsigned char *drawn_faces(int w, int hh)
{
    unsigned char *g = malloc((size_t)w * hh);
    unsigned s = 12345u;
    for (int y = 0; y < hh; y++)
        for (int x = 0; x < w; x++) {
            s = s * 1664525u + 1013904223u;
            g[(size_t)y * w + x] = (unsigned char)(90 + 40 * sin(x * 0.05) * cos(y * 0.07) + (s >> 28));
        }
    static const int faces[][3] = {{80, 90, 40}, {230, 110, 60}, {420, 160, 90}, {150, 300, 30}};
    for (int f = 0; f < 4; f++) {
        int cx = faces[f][0], cy = faces[f][1], r = faces[f][2];
        for (int y = cy - 2 * r; y < cy + 2 * r; y++)
            for (int x = cx - 2 * r; x < cx + 2 * r; x++) {
                if (x < 0 || y < 0 || x >= w || y >= hh) continue;
                double dx = (double)(x - cx) / r, dy = (double)(y - cy) / (1.3 * r);
                int v = -1;
                if (dx * dx + dy * dy < 1.0) v = 200;
                double ex = fabs(dx) - 0.4, ey = dy + 0.25;
                if (ex * ex / 0.03 + ey * ey / 0.01 < 1.0) v = 40;          /* eyes */
                if (fabs(ex) < 0.25 && fabs(dy + 0.45) < 0.05) v = 60;     /* brows */
                if (fabs(dx) < 0.35 && fabs(dy - 0.45) < 0.06) v = 50;     /* mouth */
                if (fabs(dx) < 0.08 && dy > -0.2 && dy < 0.2) v = 170;     /* nose */
                if (v >= 0) g[(size_t)y * w + x] = (unsigned char)v;
            }
    }
    return g;
}

static void test_parity(fn_haar *h)
{
    const char *json_path = t_shared_or("fixtures/haar_expected.json",
                                        "parity with OpenCV 4.6 detectMultiScale on the 127 fixture images, and the "
                                        "fast-vs-reference scan on real photos (drawn faces checked instead)");
    if (!json_path) {
        int w = 560, hh = 420;
        unsigned char *g = drawn_faces(w, hh);
        test_fast_vs_ref(h, g, w, hh, "drawn faces");
        test_concurrent(h, g, w, hh);
        free(g);
        return;
    }
    size_t len;
    char *txt = read_all(json_path, &len);
    T_CHECK(txt != NULL, "cannot read %s", json_path);
    if (!txt) return;
    cJSON *root = cJSON_Parse(txt);
    free(txt);
    cJSON *images = cJSON_GetObjectItem(root, "images");
    int nimg = cJSON_GetArraySize(images);
    int stride_img = ASAN_BUILD ? 16 : 1;   /* the sanitised build checks a subset */
    int expected = 0, matched = 0, ours = 0, checked = 0, fast_checked = 0;
    double worst_iou = 1.0;
    char worst_buf[256] = "(all exact)";
    for (int i = 0; i < nimg; i += stride_img) {
        cJSON *im = cJSON_GetArrayItem(images, i);
        const char *file = cJSON_GetObjectItem(im, "file")->valuestring;
        char rel[512];
        snprintf(rel, sizeof rel, "fixtures/%s", file);
        int w, hh;
        unsigned char *g = load_gray(t_shared(rel), &w, &hh);
        T_CHECK(g != NULL, "cannot decode %s", rel);
        if (!g) continue;
        if (fast_checked < (ASAN_BUILD ? 1 : 3) && (long)w * hh < 800000) {
            test_fast_vs_ref(h, g, w, hh, file);
            if (fast_checked == 0) test_concurrent(h, g, w, hh);
            fast_checked++;
        }
        fn_rect got[256];
        int n = 0;
        fn_status st = fn_haar_detect(h, g, w, hh, w, NULL, got, 256, &n);
        T_CHECK(st == FN_OK, "%s: %s", file, fn_last_error());
        if (n > 256) n = 256;
        cJSON *rects = cJSON_GetObjectItem(im, "rects");
        int ne = cJSON_GetArraySize(rects);
        int used[256] = {0};
        for (int e = 0; e < ne; e++) {
            cJSON *r = cJSON_GetArrayItem(rects, e);
            fn_rect want = {cJSON_GetArrayItem(r, 0)->valueint, cJSON_GetArrayItem(r, 1)->valueint,
                            cJSON_GetArrayItem(r, 2)->valueint, cJSON_GetArrayItem(r, 3)->valueint};
            int best = -1;
            double bi = 0.0;
            for (int k = 0; k < n; k++)
                if (!used[k] && iou(want, got[k]) > bi) { bi = iou(want, got[k]); best = k; }
            if (bi >= 0.9) {
                used[best] = 1;
                matched++;
                if (bi < worst_iou) {
                    worst_iou = bi;
                    snprintf(worst_buf, sizeof worst_buf, "%s rect %d,%d,%d,%d", file, want.x, want.y, want.w, want.h);
                }
            } else {
                printf("  missed  %s: OpenCV %d,%d,%d,%d (best IoU %.3f)\n", file, want.x, want.y, want.w, want.h, bi);
            }
        }
        for (int k = 0; k < n; k++)
            if (!used[k]) printf("  extra   %s: ours %d,%d,%d,%d\n", file, got[k].x, got[k].y, got[k].w, got[k].h);
        expected += ne;
        ours += n;
        checked++;
        free(g);
    }
    cJSON_Delete(root);
    int extra = ours - matched;
    printf("parity on %d images: OpenCV %d rects, ours %d, matched %d (%.1f%%), extra %d (%.1f%%); "
           "worst matched IoU %.3f at %s\n", checked, expected, ours, matched, expected ? 100.0 * matched / expected : 100.0,
           extra, expected ? 100.0 * extra / expected : 0.0, worst_iou, worst_buf);
    T_CHECK(matched >= 0.95 * expected, "only %d of %d OpenCV rects matched", matched, expected);
    T_CHECK(extra <= 0.05 * expected, "%d extra rects (of %d expected)", extra, expected);
}

int main(void)
{
    test_gray();
    test_resize_hand();
    test_integral_hand();
    test_group_hand();
    size_t len = 0;
    char *xml = read_all(CASCADE, &len);
    if (!xml) T_SKIP("%s is absent (install opencv-data): the cascade checks did not run", CASCADE);
    test_bad_cascades(xml, len);
    free(xml);
    fn_haar *h = NULL;
    fn_status st = fn_haar_load(CASCADE, &h);
    T_CHECK(st == FN_OK, "load: %s", fn_last_error());
    if (st != FN_OK) return T_DONE();
    int ww, wh;
    fn_haar_window(h, &ww, &wh);
    T_CHECK(ww == 24 && wh == 24 && h->nstages == 25 && h->ntrees == 2913 && h->nfeatures == 2913 && h->stumps_only,
            "cascade: %dx%d, %d stages, %d trees, %d features", ww, wh, h->nstages, h->ntrees, h->nfeatures);
    test_bad_args(h);
    test_parity(h);
    fn_haar_free(h);
    return T_DONE();
}
