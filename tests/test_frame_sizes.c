/* Frame sizes: every buffer FFmpeg, libjpeg or libpng fills must be sized
 * and strided as that library needs, for any width and height (case 01:
 * swscale's SIMD writer overran packed rows of widths such as 248, 250, 328,
 * 600, 616 and glibc aborted at exit).
 *
 * The sweep: every width and every height from 1 to 64 — w = 1..64 paired
 * with h = (37 w mod 64) + 1, a permutation, so 64 sizes hold each width and
 * each height once — plus odd and even sizes up to 2000 (65..2000 in steps
 * of 97, alternating odd/even, each as a wide and a tall picture) and the
 * case-01 widths 248 250 252 264 328 330 600 604 616 632.
 *
 * - images (PNG and JPEG, RGB and gray, written here) of all sizes through
 *   one `detect` and one `identify` run: exit 0, every file reported;
 * - every PNG layout libpng expands into our rows (gray 1/2/4/8/16 bit, gray
 *   + alpha, RGB(A) 8/16, palette 1/2/4/8 bit with transparency; Adam7 and
 *   not) and every JPEG kind libjpeg fills (gray, 4:2:0, 4:4:4, CMYK) at all
 *   sizes up to 64 (large sizes: one layout each, in turn) decoded
 *   in-process against the samples written;
 * - videos of all sizes (3 frames of YUV4MPEG2 written here: 4:4:4, 4:2:0
 *   and gray, so no process per size) read in-process by the video source
 *   (FFmpeg demuxes and decodes them, swscale converts): size, frame count
 *   and every pixel within 3 levels of the BT.601 formula; each frame then
 *   goes through what `watch` does with it (the watcher, its drawing and the
 *   --output writer), in-process with the models loaded once;
 * - a sample through `watch --headless` and `enroll --camera`, as files of
 *   real codecs made with the ffmpeg CLI (MPEG-4 in MP4 for even sides, FFV1
 *   in MKV or MPEG-4 in AVI for odd ones): each CLI run loads the models, so
 *   the CLI sees 12 sizes (1x1, 2x2, 3x5, 17 and 64 wide, the case-01 widths
 *   248 250 328 600 616, 2000 wide, 1811 tall) in both; exit 0 (enroll --camera: or
 *   its documented exit 1 "no usable view", a test pattern has no face) and
 *   no sanitizer report.  Under tests/run.sh the asan pass runs the ASan CLI; the
 *   optimised pass runs glibc's heap checks, which is what caught case 01
 *   (FFmpeg's assembly is not instrumented by ASan). */
/* Paths are built in fixed buffers from a static table gcc sees through. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "cli_util.h"
#include "facenet.h"
#include "image/image.h"
#include "t.h"
#include "t_jpeg.h"
#include "video/video.h"

typedef struct size2 { int w, h; } size2;

static size2 sizes[256];
static int nsizes;
static char tmp[256], models_dir[512], gallery[700];

static int sh(const char *cmd) { return system(cmd) == 0 ? 0 : -1; }

static void add(int w, int h) { if (nsizes < 256) sizes[nsizes++] = (size2){w, h}; }

static void build_sweep(void)
{
    add(1, 1), add(2, 2), add(3, 5);
    for (int w = 1; w <= 64; w++) add(w, (37 * w) % 64 + 1);
    for (int v = 65; v <= 2000; v += 97) {
        add(v, 40 + v % 23);
        add(33 + v % 19, v);
    }
    add(2000, 64);
    static const int widths[] = {248, 250, 252, 264, 328, 330, 600, 604, 616, 632};
    for (int i = 0; i < 10; i++) add(widths[i], i % 3 == 0 ? 240 : i % 3 == 1 ? 250 : 241);
}

/* A picture with structure in both directions (gradients, a checker). */
static void fill_pattern(fn_image *im, int seed)
{
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            uint8_t *p = fn_image_px(im, x, y);
            int v[3] = {(x * 255) / (im->w > 1 ? im->w - 1 : 1), (y * 255) / (im->h > 1 ? im->h - 1 : 1),
                        ((x / 7 + y / 5 + seed) & 1) * 200 + 20};
            for (int c = 0; c < im->c; c++) p[c] = (uint8_t)(im->c == 1 ? (v[0] + v[1] + v[2]) / 3 : v[c]);
        }
}

static void setup(void)
{
    if (!t_models("MobileFaceNet.tflite")) T_SKIP("models are absent (run `make models`, or set MODELS=dir)");
    snprintf(models_dir, sizeof models_dir, "%s", getenv("MODELS") ? getenv("MODELS") : "models");
    if (sh("command -v ffmpeg >/dev/null")) T_SKIP("ffmpeg CLI absent");
    snprintf(tmp, sizeof tmp, "%s", t_tmpdir());
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/gal/Mohanlal' '%s/img' '%s/vid' && ln -s '%s' '%s/gal/Mohanlal/8.jpeg'", tmp,
             tmp, tmp, t_shared("fixtures/film/Predict/Mohanlal/8.jpeg"), tmp);
    T_CHECK(sh(cmd) == 0, "gallery folder");
    snprintf(gallery, sizeof gallery, "%s/g.db", tmp);
    t_run r;
    t_facenet(&r, "enroll --models-dir '%s' --gallery '%s' '%s/gal'", models_dir, gallery, tmp);
    T_CHECK(r.status == 0, "enroll exit %d: %s", r.status, r.err);
    t_run_free(&r);
    build_sweep();
}

static int sanitizer_report(const char *err) { return strstr(err, "Sanitizer") || strstr(err, "runtime error"); }

/* All images in one detect and one identify run. */
static void check_images(void)
{
    int written = 0;
    for (int i = 0; i < nsizes; i++) {
        fn_image im;
        int gray = i % 5 == 4;
        if (fn_image_alloc(&im, sizes[i].w, sizes[i].h, gray ? 1 : 3) != FN_OK) continue;
        fill_pattern(&im, i);
        char path[512];
        snprintf(path, sizeof path, "%s/img/%03d_%dx%d.%s", tmp, i, sizes[i].w, sizes[i].h, i % 2 ? "jpg" : "png");
        fn_status s = i % 2 ? fn_image_save_jpeg(path, &im, 90) : fn_image_save_png(path, &im);
        T_CHECK(s == FN_OK, "writing %s: %s", path, fn_last_error());
        /* Each decodes back at its size, as RGB. */
        fn_image back;
        if (s == FN_OK && fn_image_load(path, NULL, &back) == FN_OK) {
            T_CHECK(back.w == sizes[i].w && back.h == sizes[i].h && back.c == 3, "%s decoded as %dx%dx%d", path, back.w,
                    back.h, back.c);
            if (i % 2 == 0 && !gray) T_CHECK(!memcmp(back.data, im.data, (size_t)im.w * im.h * 3), "%s: PNG pixels differ", path);
            written++;
            fn_image_free(&back);
        } else {
            T_CHECK(0, "%s does not load: %s", path, fn_last_error());
        }
        fn_image_free(&im);
    }
    const char *cmds[2] = {"detect", "identify"};
    for (int k = 0; k < 2; k++) {
        t_run r;
        t_facenet(&r, "%s --models-dir '%s' %s%s%s --json '%s/img'", cmds[k], models_dir, k ? "--gallery '" : "",
                  k ? gallery : "", k ? "'" : "", tmp);
        int lines = t_count_lines(r.out);
        printf("%s on %d images (%s): exit %d, %d JSON lines\n", cmds[k], written, "1x1 .. 2000 wide", r.status, lines);
        T_CHECK(r.status == 0, "%s exit %d: %.400s", cmds[k], r.status, r.err);
        T_CHECK(!sanitizer_report(r.err), "%s: sanitizer report: %.2000s", cmds[k], r.err);
        /* identify prints nothing for a file without faces (case 15, the CLI's part). */
        if (k == 0) T_CHECK(lines == written, "detect: %d JSON lines for %d images", lines, written);
        t_run_free(&r);
    }
}

/* --------------------------------------------- codec layouts, in-process */

typedef struct membuf { uint8_t *p; size_t n, cap; } membuf;

static void mem_write(png_structp png, png_bytep d, png_size_t n)
{
    membuf *m = png_get_io_ptr(png);
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, d, n);
    m->n += n;
}
static void mem_flush(png_structp png) { (void)png; }

typedef struct png_kind { int type, depth; } png_kind;
static const png_kind png_kinds[] = {
    {PNG_COLOR_TYPE_GRAY, 1}, {PNG_COLOR_TYPE_GRAY, 2}, {PNG_COLOR_TYPE_GRAY, 4}, {PNG_COLOR_TYPE_GRAY, 8},
    {PNG_COLOR_TYPE_GRAY, 16}, {PNG_COLOR_TYPE_GRAY_ALPHA, 8}, {PNG_COLOR_TYPE_GRAY_ALPHA, 16},
    {PNG_COLOR_TYPE_RGB, 8}, {PNG_COLOR_TYPE_RGB, 16}, {PNG_COLOR_TYPE_RGBA, 8}, {PNG_COLOR_TYPE_RGBA, 16},
    {PNG_COLOR_TYPE_PALETTE, 1}, {PNG_COLOR_TYPE_PALETTE, 2}, {PNG_COLOR_TYPE_PALETTE, 4}, {PNG_COLOR_TYPE_PALETTE, 8},
};
#define NPNG (int)(sizeof png_kinds / sizeof png_kinds[0])

/* Sample value (0 .. 2^depth - 1) of channel c at (x, y). */
static unsigned sample(int x, int y, int c, int depth)
{
    unsigned v = (unsigned)(x * 37 + y * 91 + c * 53 + ((x ^ y) & 7) * 29) * 2654435761u;
    return (v >> 7) & ((1u << depth) - 1);
}

static uint8_t pal_rgb(unsigned i, int c) { return (uint8_t)(i * 53 + c * 90 + 7); }

/* What the decoder must give for the sample at (x, y): RGB8. */
static void png_expected(const png_kind *k, int x, int y, uint8_t out[3])
{
    int d = k->depth;
    if (k->type == PNG_COLOR_TYPE_PALETTE) {
        for (int c = 0; c < 3; c++) out[c] = pal_rgb(sample(x, y, 0, d), c);
        return;
    }
    int colour = k->type & PNG_COLOR_MASK_COLOR;
    for (int c = 0; c < 3; c++) {
        unsigned v = sample(x, y, colour ? c : 0, d);
        /* 16 bit: the high byte; 1/2/4 bit: scaled to 0..255 (libpng's expansion) */
        out[c] = (uint8_t)(d == 16 ? v >> 8 : d == 8 ? v : v * 255 / ((1u << d) - 1));
    }
}

static membuf make_png(const png_kind *k, int w, int h, int interlace)
{
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(m.p);
        return (membuf){0};
    }
    png_set_write_fn(png, &m, mem_write, mem_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, k->depth, k->type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_byte trns[256];
    if (k->type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        int n = 1 << k->depth;
        for (int i = 0; i < n; i++) pal[i] = (png_color){pal_rgb((unsigned)i, 0), pal_rgb((unsigned)i, 1), pal_rgb((unsigned)i, 2)};
        png_set_PLTE(png, info, pal, n);
        for (int i = 0; i < n; i++) trns[i] = (png_byte)(i * 40);
        png_set_tRNS(png, info, trns, n, NULL);
    }
    png_write_info(png, info);
    int ch = png_get_channels(png, info), bits = k->depth * ch;
    size_t rowbytes = ((size_t)w * bits + 7) / 8;
    png_bytep *rows = malloc(sizeof *rows * (size_t)h);
    for (int y = 0; y < h; y++) {
        rows[y] = calloc(1, rowbytes);
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                unsigned v = sample(x, y, c, k->depth);
                size_t bit = ((size_t)x * ch + c) * k->depth;
                if (k->depth == 16) rows[y][bit / 8] = (png_byte)(v >> 8), rows[y][bit / 8 + 1] = (png_byte)v;
                else if (k->depth == 8) rows[y][bit / 8] = (png_byte)v;
                else rows[y][bit / 8] |= (png_byte)(v << (8 - k->depth - bit % 8));
            }
    }
    png_write_image(png, rows);
    png_write_end(png, info);
    for (int y = 0; y < h; y++) free(rows[y]);
    free(rows);
    png_destroy_write_struct(&png, &info);
    return m;
}

enum { JPEG_GRAY, JPEG_420, JPEG_444, JPEG_CMYK, NJPEG };
static const char *jpeg_names[NJPEG] = {"gray", "4:2:0", "4:4:4", "CMYK"};

static membuf make_jpeg(const fn_image *rgb, int kind)
{
    int comps = kind == JPEG_CMYK ? 4 : 3;
    const uint8_t *px = rgb->data;
    uint8_t *cmyk = NULL;
    if (comps == 4) {   /* the RGB samples as C, M, Y and no K */
        cmyk = calloc((size_t)rgb->w * (size_t)rgb->h, 4);
        for (size_t i = 0; cmyk && i < (size_t)rgb->w * (size_t)rgb->h; i++)
            for (int c = 0; c < 3; c++) cmyk[4 * i + c] = rgb->data[3 * i + c];
        px = cmyk;
    }
    t_jpeg_opts o = {.quality = 100, .comps = comps, .gray_out = kind == JPEG_GRAY, .full_chroma = kind == JPEG_444};
    membuf m = {0};
    if (px) t_jpeg_encode(px, rgb->w, rgb->h, (size_t)rgb->w * comps, &o, &m.p, &m.n);
    m.cap = m.n;
    free(cmyk);
    return m;
}

/* PNG: exact against the samples.  JPEG: the size, and for gray/4:4:4 at
 * quality 100 the pixels within 6 levels of what was coded (gray: of its
 * luma); 4:2:0 and CMYK (values checked in test_image) only the size. */
static void check_codec_layouts(void)
{
    int png_ok = 0, png_n = 0, jpeg_ok = 0, jpeg_n = 0, worst = 0;
    for (int i = 0; i < nsizes; i++) {
        int w = sizes[i].w, h = sizes[i].h, small = w <= 64 && h <= 64;
        for (int k = 0; k < NPNG; k++) {
            if (!small && k != i % NPNG) continue;
            int interlace = (i + k) & 1;
            membuf m = make_png(&png_kinds[k], w, h, interlace);
            fn_image im;
            fn_status s = fn_image_decode(m.p, m.n, "layout.png", NULL, &im);
            int bad = s != FN_OK || im.w != w || im.h != h;
            for (int y = 0; !bad && y < h; y++)
                for (int x = 0; x < w && !bad; x++) {
                    uint8_t e[3];
                    png_expected(&png_kinds[k], x, y, e);
                    bad = memcmp(fn_image_px(&im, x, y), e, 3) != 0;
                }
            T_CHECK(!bad, "PNG type %d depth %d%s %dx%d: %s", png_kinds[k].type, png_kinds[k].depth,
                    interlace ? " Adam7" : "", w, h, s != FN_OK ? fn_last_error() : "pixels differ");
            png_ok += !bad, png_n++;
            fn_image_free(&im);
            free(m.p);
        }
        fn_image src;
        fn_image_alloc(&src, w, h, 3);
        fill_pattern(&src, i);
        for (int k = 0; k < NJPEG; k++) {
            if (!small && k != i % NJPEG) continue;
            membuf m = make_jpeg(&src, k);
            fn_image im;
            fn_status s = fn_image_decode(m.p, m.n, "layout.jpg", NULL, &im);
            int bad = s != FN_OK || im.w != w || im.h != h;
            for (int y = 0; !bad && (k == JPEG_GRAY || k == JPEG_444) && y < h; y++)
                for (int x = 0; x < w; x++) {
                    const uint8_t *a = fn_image_px(&src, x, y), *b = fn_image_px(&im, x, y);
                    int luma = (a[0] * 299 + a[1] * 587 + a[2] * 114 + 500) / 1000;
                    for (int c = 0; c < 3; c++) {
                        int d = abs(b[c] - (k == JPEG_GRAY ? luma : a[c]));
                        if (d > worst) worst = d;
                        bad |= d > 6;
                    }
                }
            T_CHECK(!bad, "JPEG %s %dx%d: %s", jpeg_names[k], w, h, s != FN_OK ? fn_last_error() : "pixels off by more than 6");
            jpeg_ok += !bad, jpeg_n++;
            fn_image_free(&im);
            free(m.p);
        }
        fn_image_free(&src);
    }
    printf("codec layouts in-process: PNG %d of %d exact (15 layouts x Adam7/not), JPEG %d of %d (gray, 4:2:0, 4:4:4, "
           "CMYK; worst gray/4:4:4 deviation %d levels)\n", png_ok, png_n, jpeg_ok, jpeg_n, worst);
}

/* YUV4MPEG2 written here (no process per size): chroma 4:4:4, 4:2:0 (odd
 * sides round up, as the format says) or none, 3 frames; Y is a pattern,
 * U and V constant per frame so that the expected RGB is a formula. */
static const char *y4m_chroma[3] = {"444", "420jpeg", "mono"};
static int y4m_luma(int x, int y, int f) { return 16 + (x * 7 + y * 3 + f * 50 + ((x / 4 + y / 4) & 1) * 60) % 220; }
static int y4m_u(int f) { return 90 + 30 * f; }
static int y4m_v(int f) { return 170 - 25 * f; }

static int write_y4m(const char *path, int w, int h, int chroma)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fprintf(f, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C%s\n", w, h, y4m_chroma[chroma]);
    int cw = chroma == 0 ? w : (w + 1) / 2, ch = chroma == 0 ? h : (h + 1) / 2;
    uint8_t *row = malloc((size_t)(w > cw ? w : cw));
    for (int fr = 0; fr < 3; fr++) {
        fputs("FRAME\n", f);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) row[x] = (uint8_t)y4m_luma(x, y, fr);
            fwrite(row, 1, (size_t)w, f);
        }
        if (chroma == 2) continue;
        for (int p = 0; p < 2; p++)
            for (int y = 0; y < ch; y++) {
                memset(row, p ? y4m_v(fr) : y4m_u(fr), (size_t)cw);
                fwrite(row, 1, (size_t)cw, f);
            }
    }
    free(row);
    return fclose(f) == 0 ? 0 : -1;
}

/* BT.601 limited range, what swscale uses for untagged YUV; gray (GRAY8)
 * is taken as full range: R = G = B = Y. */
static void expected_rgb(int Y, int U, int V, int mono, int out[3])
{
    if (mono) {
        out[0] = out[1] = out[2] = Y;
        return;
    }
    double y = 1.164383 * (Y - 16), u = mono ? 0 : U - 128, v = mono ? 0 : V - 128;
    double c[3] = {y + 1.596027 * v, y - 0.391762 * u - 0.812968 * v, y + 2.017232 * u};
    for (int k = 0; k < 3; k++) out[k] = c[k] < 0 ? 0 : c[k] > 255 ? 255 : (int)(c[k] + 0.5);
}

/* Every size read in-process: size, 3 frames, every pixel within 3 levels of
 * the formula (swscale's fixed point rounds). */
/* What `watch` does with a frame, in-process so every size of the sweep goes
 * through it with the models loaded once: the watcher (detect, track, embed,
 * name), the drawing of its boxes, and the --output writer (even sides, as
 * watch opens it: a side below 2 is refused with a sentence, not a crash). */
typedef struct watch_rig {
    fn_engine *e;
    fn_gallery *g;
    fn_watcher *w;
    int frames, writers, refused;
} watch_rig;

static void rig_open(watch_rig *r)
{
    memset(r, 0, sizeof *r);
    fn_options o;
    fn_options_init(&o);
    o.models_dir = models_dir;
    fn_watch_engine_options(&o);
    fn_watch_params p;
    fn_watch_params_init(&p);
    o.min_face = p.min_face;
    T_CHECK(fn_engine_new(&o, &r->e) == FN_OK, "engine: %s", fn_last_error());
    if (!r->e) return;
    fn_gallery_model m = fn_gallery_model_of_engine(r->e);
    T_CHECK(fn_gallery_open(gallery, &m, FN_GALLERY_READONLY, &r->g) == FN_OK, "gallery: %s", fn_last_error());
    if (r->g) T_CHECK(fn_watcher_new(r->e, r->g, &p, &r->w) == FN_OK, "watcher: %s", fn_last_error());
}

static void rig_close(watch_rig *r)
{
    fn_watcher_free(r->w);
    fn_gallery_close(r->g);
    fn_engine_free(r->e);
}

static void rig_frame(watch_rig *r, const fn_image *fr, double t, fn_video_writer *out)
{
    if (!r->w) return;
    const fn_track_event *ev;
    int n;
    fn_status s = fn_watcher_frame(r->w, fr, t, &ev, &n);
    T_CHECK(s == FN_OK, "watcher on %dx%d: %s", fr->w, fr->h, fn_last_error());
    fn_image canvas;
    if (fn_image_alloc(&canvas, fr->w, fr->h, 3) == FN_OK) {
        memcpy(canvas.data, fr->data, (size_t)fr->w * (size_t)fr->h * 3);
        fn_watcher_draw(r->w, &canvas, t > 0.15);   /* mirrored on the last frames, as a webcam is shown */
        if (out) T_CHECK(fn_video_writer_write(out, &canvas) == FN_OK, "writer %dx%d: %s", fr->w, fr->h, fn_last_error());
        fn_image_free(&canvas);
    }
    r->frames++;
}

/* The writer as watch opens it (even sides); NULL when refused or failed. */
static fn_video_writer *rig_writer(watch_rig *r, int w, int h, const char *path)
{
    fn_video_writer *out = NULL;
    fn_status s = fn_video_writer_open(path, w & ~1, h & ~1, 10.0, &out);
    if (s == FN_OK) { r->writers++; return out; }
    const char *msg = fn_last_error();
    T_CHECK((w < 2 || h < 2) && msg && *msg, "writer %dx%d refused: %s", w, h, msg ? msg : "(no message)");
    r->refused++;
    return NULL;
}

static void check_videos(void)
{
    int ok = 0, worst = 0;
    char path[600], opath[640];
    watch_rig rig;
    rig_open(&rig);
    for (int i = 0; i < nsizes; i++) {
        int w = sizes[i].w, h = sizes[i].h, chroma = i % 3;
        snprintf(path, sizeof path, "%s/vid/%03d_%dx%d.y4m", tmp, i, w, h);
        if (write_y4m(path, w, h, chroma)) { T_CHECK(0, "writing %s", path); continue; }
        fn_video_source *v = NULL;
        fn_status s = fn_video_open(path, 0, &v);
        T_CHECK(s == FN_OK, "%s: %s", path, fn_last_error());
        if (s != FN_OK) continue;
        fn_video_info info = fn_video_source_info(v);
        T_CHECK(info.w == w && info.h == h, "%s: source says %dx%d", path, info.w, info.h);
        int frames = 0, bad = 0;
        snprintf(opath, sizeof opath, "%s/vid/out%03d.mp4", tmp, i);
        fn_video_writer *out = rig_writer(&rig, w, h, opath);
        for (;;) {
            const fn_image *fr;
            double t;
            int eof;
            if (fn_video_read(v, &fr, &t, &eof) != FN_OK || eof) break;
            rig_frame(&rig, fr, t, out && fr->w == w && fr->h == h ? out : NULL);
            for (int y = 0; y < h && fr->w == w && fr->h == h; y++)
                for (int x = 0; x < w; x++) {
                    int e[3];
                    expected_rgb(y4m_luma(x, y, frames), y4m_u(frames), y4m_v(frames), chroma == 2, e);
                    const uint8_t *p = fn_image_px(fr, x, y);
                    for (int k = 0; k < 3; k++) {
                        int d = abs(p[k] - e[k]);
                        if (d > worst) worst = d;
                        bad += d > 3;
                    }
                }
            frames++;
        }
        fn_video_close(v);
        if (out) T_CHECK(fn_video_writer_close(out) == FN_OK, "writer %dx%d close: %s", w, h, fn_last_error());
        remove(opath);
        T_CHECK(frames == 3, "%s: %d frames read, 3 written", path, frames);
        T_CHECK(bad == 0, "%s (C%s): %d samples more than 3 levels from BT.601", path, y4m_chroma[chroma], bad);
        ok += frames == 3 && bad == 0;
        remove(path);
    }
    printf("videos (Y4M 4:4:4 / 4:2:0 / mono, 3 frames): %d of %d sizes read in-process at their size with every "
           "pixel within 3 levels of BT.601 (worst %d)\n", ok, nsizes, worst);
    printf("watch in-process: %d frames of all %d sizes through the watcher and its drawing; --output writer on %d "
           "sizes, refused with a sentence on %d (a side below 2)\n", rig.frames, nsizes, rig.writers, rig.refused);
    T_CHECK(rig.frames == 3 * nsizes, "watcher saw %d frames, %d expected", rig.frames, 3 * nsizes);
    rig_close(&rig);
}

/* Files of real codecs for the CLI sample: MPEG-4 in MP4 for even sides,
 * FFV1 (4:2:0) in MKV or MPEG-4 in AVI for odd ones. */
static int make_codec_video(int w, int h, int k, char *path, size_t cap)
{
    const char *args;
    if (w % 2 == 0 && h % 2 == 0 && w >= 16 && h >= 16) {
        snprintf(path, cap, "%s/vid/cli%02d.mp4", tmp, k);
        args = "-c:v mpeg4 -q:v 3 -pix_fmt yuv420p";
    } else if (k % 2) {
        snprintf(path, cap, "%s/vid/cli%02d.mkv", tmp, k);
        args = "-c:v ffv1 -pix_fmt yuv420p";
    } else {
        snprintf(path, cap, "%s/vid/cli%02d.avi", tmp, k);
        args = "-c:v mpeg4 -q:v 3 -pix_fmt yuv420p";
    }
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -f lavfi -i testsrc=size=%dx%d:rate=10 -frames:v 3 %s '%s'", w, h,
             args, path);
    return sh(cmd);
}

/* The sample that goes through the CLI (each run loads the models). */
static void check_cli_videos(void)
{
    static const size2 want[] = {{1, 1}, {2, 2}, {3, 5}, {17, 0}, {64, 0}, {248, 0}, {250, 0}, {328, 0},
                                 {600, 0}, {616, 0}, {2000, 0}, {0, 1811}};
    int watched = 0, enrolled = 0;
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int i = -1;   /* the first sweep entry of that width and/or height (0: any) */
        for (int j = 0; j < nsizes && i < 0; j++)
            if ((!want[k].w || sizes[j].w == want[k].w) && (!want[k].h || sizes[j].h == want[k].h)) i = j;
        if (i < 0) continue;
        char path[600];
        T_CHECK(make_codec_video(sizes[i].w, sizes[i].h, (int)k, path, sizeof path) == 0, "ffmpeg could not make %dx%d",
                sizes[i].w, sizes[i].h);
        t_run r;
        t_facenet(&r, "watch --models-dir '%s' --gallery '%s' --headless --json '%s'", models_dir, gallery, path);
        T_CHECK(r.status == 0, "watch %dx%d: exit %d: %.400s", sizes[i].w, sizes[i].h, r.status, r.err);
        T_CHECK(!sanitizer_report(r.err), "watch %dx%d: sanitizer report: %.2000s", sizes[i].w, sizes[i].h, r.err);
        watched += r.status == 0;
        t_run_free(&r);
        /* No face in a test pattern: enroll --camera's documented exit 1
         * with "no usable view", never a crash. */
        t_facenet(&r, "enroll --models-dir '%s' --gallery '%s' --name Pattern --camera '%s' --frames 1", models_dir,
                  gallery, path);
        T_CHECK(r.status == 0 || (r.status == 1 && strstr(r.err, "no usable view")), "enroll --camera %dx%d: exit %d: %.400s",
                sizes[i].w, sizes[i].h, r.status, r.err);
        T_CHECK(!sanitizer_report(r.err), "enroll --camera %dx%d: sanitizer report: %.2000s", sizes[i].w, sizes[i].h, r.err);
        enrolled += r.status == 0 || r.status == 1;
        t_run_free(&r);
    }
    printf("CLI: watch --headless clean on %d sampled sizes, enroll --camera on %d\n", watched, enrolled);
    T_CHECK(watched >= 10 && enrolled >= 10, "too few CLI runs: %d watch, %d enroll", watched, enrolled);
}

int main(void)
{
    setup();
    check_images();
    check_codec_layouts();
    check_videos();
    check_cli_videos();
    printf("sweep: %d sizes\n", nsizes);
    return T_DONE();
}
