/* Image decode/encode: round trips through files the test writes itself with
 * libjpeg/libpng, EXIF orientation, and bad input of every kind. */
#include <setjmp.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "t.h"
#include "t_jpeg.h"
#include "core/error.h"
#include "image/image.h"
#include "image/codec.h"

/* ---------- small writers (libjpeg/libpng to memory) ---------- */

typedef struct membuf { uint8_t *p; size_t n, cap; } membuf;

static void mb_put(membuf *m, const void *d, size_t n)
{
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, d, n);
    m->n += n;
}

static void write_file(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n) { perror(path); exit(1); }
    fclose(f);
}

static char *tmp(const char *name)
{
    static char buf[8][512];
    static int slot;
    char *b = buf[slot++ & 7];
    snprintf(b, 512, "%s/%s", t_tmpdir(), name);
    return b;
}

/* An EXIF APP1 payload with only IFD0 / Orientation, little or big endian. */
static size_t exif_payload(uint8_t *e, int orientation, int big)
{
    static const uint8_t le[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
                                 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t be[] = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,
                                 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(e, big ? be : le, sizeof le);
    e[6 + 8 + 2 + 8 + (big ? 1 : 0)] = (uint8_t)orientation;
    return sizeof le;
}

/* comps 1 = gray, 3 = RGB, 4 = CMYK (stored values, Adobe marker written). */
static membuf make_jpeg(const uint8_t *px, int w, int h, int comps, int quality, int orientation)
{
    uint8_t e[64];
    const uint8_t *app1[1] = {e};
    size_t app1_len[1] = {orientation ? exif_payload(e, orientation, orientation == 8) : 0};
    t_jpeg_opts o = {.quality = quality, .comps = comps, .full_chroma = comps == 3, .app1 = app1, .app1_len = app1_len,
                     .napp1 = orientation != 0};
    uint8_t *out = NULL;
    size_t n = 0;
    t_jpeg_encode(px, w, h, (size_t)w * comps, &o, &out, &n);
    membuf m = {0};
    mb_put(&m, out, n);
    free(out);
    return m;
}

static void png_mem_write(png_structp png, png_bytep d, png_size_t n) { mb_put(png_get_io_ptr(png), d, n); }
static void png_mem_flush(png_structp png) { (void)png; }

/* bytes per row = w * channels(type) * depth/8 (depth 8 or 16) or packed for < 8. */
static membuf make_png(const uint8_t *rows, int w, int h, int type, int depth, int interlace,
                       const png_color *pal, int npal, const uint8_t *trns, int ntrns)
{
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_set_write_fn(png, &m, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, w, h, depth, type, interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    size_t rb = png_get_rowbytes(png, info);
    png_bytep *rp = malloc(sizeof *rp * h);
    for (int y = 0; y < h; y++) rp[y] = (png_bytep)rows + rb * y;
    png_write_image(png, rp);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rp);
    return m;
}

static int px_eq(const fn_image *im, int x, int y, int r, int g, int b, int tol)
{
    const uint8_t *p = fn_image_px(im, x, y);
    return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

static uint8_t *pattern_rgb(int w, int h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            q[0] = (uint8_t)(x * 7 + y), q[1] = (uint8_t)(y * 5), q[2] = (uint8_t)(x ^ y);
        }
    return p;
}

/* ---------- tests ---------- */

static void test_png_roundtrip(void)
{
    int w = 37, h = 23;
    fn_image im;
    T_CHECK(fn_image_alloc(&im, w, h, 3) == FN_OK, "alloc");
    uint8_t *p = pattern_rgb(w, h);
    memcpy(im.data, p, (size_t)w * h * 3);
    const char *path = tmp("rt.png");
    T_CHECK(fn_image_save_png(path, &im) == FN_OK, "save: %s", fn_last_error());
    fn_image back;
    fn_status s = fn_image_load(path, NULL, &back);
    T_CHECK(s == FN_OK && back.w == w && back.h == h && back.c == 3, "load: %s", fn_last_error());
    if (s == FN_OK) T_CHECK(!memcmp(back.data, p, (size_t)w * h * 3), "PNG round trip changed pixels");
    fn_image_free(&back);
    /* gray save reads back as RGB with equal channels */
    fn_image g;
    fn_image_alloc(&g, w, h, 1);
    T_CHECK(fn_image_to_gray(&im, &g) == FN_OK, "to_gray");
    T_CHECK(fn_image_save_png(tmp("g.png"), &g) == FN_OK, "save gray: %s", fn_last_error());
    s = fn_image_load(tmp("g.png"), NULL, &back);
    int bad = 0;
    for (int i = 0; s == FN_OK && i < w * h; i++)
        bad += back.data[3 * i] != g.data[i] || back.data[3 * i + 1] != g.data[i] || back.data[3 * i + 2] != g.data[i];
    T_CHECK(s == FN_OK && bad == 0, "gray PNG round trip: %d pixels differ", bad);
    fn_image_free(&back);
    fn_image_free(&g);
    fn_image_free(&im);
    free(p);
}

static void test_gray_weights(void)
{
    /* cv2.cvtColor(RGB2GRAY) on these pixels gives 76, 150, 29, 128 and 255. */
    uint8_t px[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128, 255, 255, 255};
    fn_image im = {5, 1, 3, px}, g;
    fn_image_alloc(&g, 5, 1, 1);
    fn_image_to_gray(&im, &g);
    uint8_t want[] = {76, 150, 29, 128, 255};
    for (int i = 0; i < 5; i++) T_CHECK(g.data[i] == want[i], "gray[%d]=%d want %d", i, g.data[i], want[i]);
    fn_image_free(&g);
}

static void test_crop_flip(void)
{
    int w = 9, h = 7;
    uint8_t *p = pattern_rgb(w, h);
    fn_image im = {w, h, 3, p}, c;
    fn_image_alloc(&c, 4, 3, 3);
    T_CHECK(fn_image_crop(&im, 2, 3, 4, 3, &c) == FN_OK, "crop");
    T_CHECK(!memcmp(fn_image_px(&c, 1, 2), fn_image_px(&im, 3, 5), 3), "crop pixel (1,2) != source (3,5)");
    T_CHECK(fn_image_crop(&im, 6, 3, 4, 3, &c) == FN_ERR_ARG, "crop past the right edge accepted");
    fn_image_flip_h(&c);
    T_CHECK(!memcmp(fn_image_px(&c, 2, 2), fn_image_px(&im, 3, 5), 3), "flip moved (1,2) elsewhere");
    fn_image_free(&c);
    free(p);
}

static void test_jpeg_rgb(void)
{
    /* Flat 8x8 blocks of known colour survive quality 100 4:4:4 within 2 levels. */
    int w = 32, h = 16;
    uint8_t *p = malloc(w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + (y * w + x) * 3;
            int b = (x / 8) + 4 * (y / 8);
            q[0] = (uint8_t)(b * 30), q[1] = (uint8_t)(255 - b * 25), q[2] = (uint8_t)(b & 1 ? 200 : 40);
        }
    membuf m = make_jpeg(p, w, h, 3, 100, 0);
    fn_image im;
    fn_status s = fn_image_decode(m.p, m.n, "rgb.jpg", NULL, &im);
    T_CHECK(s == FN_OK && im.w == w && im.h == h, "decode: %s", fn_last_error());
    int worst = 0;
    for (int i = 0; s == FN_OK && i < w * h * 3; i++) worst = abs(im.data[i] - p[i]) > worst ? abs(im.data[i] - p[i]) : worst;
    printf("rgb jpeg q100: worst |diff| %d\n", worst);
    T_CHECK(worst <= 2, "RGB JPEG worst diff %d", worst);
    fn_image_free(&im);
    /* same through a file and the JPEG writer */
    fn_image src = {w, h, 3, p};
    T_CHECK(fn_image_save_jpeg(tmp("w.jpg"), &src, 95) == FN_OK, "save jpeg: %s", fn_last_error());
    s = fn_image_load(tmp("w.jpg"), NULL, &im);
    T_CHECK(s == FN_OK && im.w == w && im.h == h && px_eq(&im, 3, 3, 0, 255, 40, 6), "jpeg writer round trip");
    fn_image_free(&im);
    /* gray images go out as 1-component JPEGs and come back as equal RGB */
    fn_image g;
    fn_image_alloc(&g, w, h, 1);
    fn_image_to_gray(&src, &g);
    T_CHECK(fn_image_save_jpeg(tmp("g.jpg"), &g, 100) == FN_OK, "save gray jpeg: %s", fn_last_error());
    s = fn_image_load(tmp("g.jpg"), NULL, &im);
    int gworst = 0;
    for (int i = 0; s == FN_OK && i < w * h; i++) {
        int d = abs(im.data[3 * i] - g.data[i]);
        if (d > gworst) gworst = d;
        if (im.data[3 * i] != im.data[3 * i + 1] || im.data[3 * i] != im.data[3 * i + 2]) gworst = 999;
    }
    T_CHECK(s == FN_OK && gworst <= 2, "gray JPEG writer round trip worst %d", gworst);
    fn_image_free(&im);
    fn_image_free(&g);
    free(m.p);
    free(p);
}

static void test_jpeg_gray_cmyk(void)
{
    int w = 16, h = 8;
    uint8_t g[16 * 8];
    for (int i = 0; i < w * h; i++) g[i] = (i % 16) < 8 ? 60 : 190;
    membuf m = make_jpeg(g, w, h, 1, 100, 0);
    fn_image im;
    fn_status s = fn_image_decode(m.p, m.n, "gray.jpg", NULL, &im);
    T_CHECK(s == FN_OK && im.c == 3 && px_eq(&im, 2, 2, 60, 60, 60, 1) && px_eq(&im, 12, 5, 190, 190, 190, 1),
            "gray JPEG -> RGB: %s", s == FN_OK ? "wrong pixels" : fn_last_error());
    fn_image_free(&im);
    free(m.p);

    /* Stored (Adobe-inverted) 255-(C,M,Y,K); PIL converts C,M,Y,K = (100,50,20,30)
     * to RGB (137,181,207) and (200,10,250,128) to (27,122,2). */
    uint8_t c[16 * 8 * 4];
    for (int i = 0; i < w * h; i++) {
        static const uint8_t a[4] = {100, 50, 20, 30}, b[4] = {200, 10, 250, 128};
        const uint8_t *v = (i % 16) < 8 ? a : b;
        for (int k = 0; k < 4; k++) c[4 * i + k] = (uint8_t)(255 - v[k]);
    }
    m = make_jpeg(c, w, h, 4, 100, 0);
    s = fn_image_decode(m.p, m.n, "cmyk.jpg", NULL, &im);
    T_CHECK(s == FN_OK, "CMYK decode: %s", fn_last_error());
    if (s == FN_OK) {
        const uint8_t *p0 = fn_image_px(&im, 3, 3), *p1 = fn_image_px(&im, 12, 3);
        printf("cmyk -> rgb: (%d,%d,%d) want (137,181,207); (%d,%d,%d) want (27,122,2)\n",
               p0[0], p0[1], p0[2], p1[0], p1[1], p1[2]);
        T_CHECK(px_eq(&im, 3, 3, 137, 181, 207, 2) && px_eq(&im, 12, 3, 27, 122, 2, 2), "CMYK colours");
    }
    fn_image_free(&im);
    free(m.p);
}

static void test_exif(void)
{
    /* 16x8 image, distinct 8x8 halves: orientation turns must move them. */
    int w = 24, h = 16;
    uint8_t *p = malloc(w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + (y * w + x) * 3;
            q[0] = (uint8_t)(x < 8 ? 250 : 10), q[1] = (uint8_t)(y < 8 ? 250 : 10), q[2] = (uint8_t)(x >= 16 ? 250 : 10);
        }
    membuf m0 = make_jpeg(p, w, h, 3, 100, 0);
    fn_image up;
    T_CHECK(fn_image_decode(m0.p, m0.n, "o1.jpg", NULL, &up) == FN_OK, "decode o1: %s", fn_last_error());
    int os[] = {3, 6, 8, 2, 5};
    for (int k = 0; k < 5; k++) {
        int o = os[k];
        membuf m = make_jpeg(p, w, h, 3, 100, o);
        fn_image im;
        fn_status s = fn_image_decode(m.p, m.n, "exif.jpg", NULL, &im);
        int sw = o >= 5;
        T_CHECK(s == FN_OK && im.w == (sw ? h : w) && im.h == (sw ? w : h), "orientation %d: %dx%d %s", o, im.w, im.h,
                fn_last_error());
        int bad = 0;
        for (int y = 0; s == FN_OK && y < im.h; y++)
            for (int x = 0; x < im.w; x++) {
                int sx, sy; /* where this displayed pixel was stored, written out per case */
                switch (o) {
                case 3: sx = w - 1 - x, sy = h - 1 - y; break;
                case 6: sx = y, sy = h - 1 - x; break;
                case 8: sx = w - 1 - y, sy = x; break;
                case 2: sx = w - 1 - x, sy = y; break;
                default: sx = y, sy = x; break;
                }
                bad += memcmp(fn_image_px(&im, x, y), fn_image_px(&up, sx, sy), 3) != 0;
            }
        T_CHECK(bad == 0, "orientation %d: %d pixels not where they belong", o, bad);
        if (o == 6 && s == FN_OK) /* stored top-left (red+green) is displayed top-right after 90 cw */
            T_CHECK(px_eq(&im, im.w - 1, 0, 250, 250, 10, 4), "orientation 6 top-right not the stored top-left");
        fn_image_free(&im);
        free(m.p);
    }
    fn_image_free(&up);
    free(m0.p);
    free(p);
}

static void test_png_kinds(void)
{
    fn_image im;
    fn_status s;
    /* RGBA: alpha dropped, colour kept as stored (no compositing). */
    uint8_t rgba[2 * 4] = {10, 20, 30, 0, 200, 100, 50, 128};
    membuf m = make_png(rgba, 2, 1, PNG_COLOR_TYPE_RGBA, 8, 0, NULL, 0, NULL, 0);
    s = fn_image_decode(m.p, m.n, "rgba.png", NULL, &im);
    T_CHECK(s == FN_OK && px_eq(&im, 0, 0, 10, 20, 30, 0) && px_eq(&im, 1, 0, 200, 100, 50, 0), "RGBA PNG: %s", fn_last_error());
    fn_image_free(&im), free(m.p);
    /* gray + alpha */
    uint8_t ga[4] = {77, 0, 199, 255};
    m = make_png(ga, 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, NULL, 0, NULL, 0);
    s = fn_image_decode(m.p, m.n, "ga.png", NULL, &im);
    T_CHECK(s == FN_OK && px_eq(&im, 0, 0, 77, 77, 77, 0) && px_eq(&im, 1, 0, 199, 199, 199, 0), "gray+alpha PNG: %s", fn_last_error());
    fn_image_free(&im), free(m.p);
    /* 16-bit RGB: the high byte */
    uint8_t rgb16[2 * 6] = {0x12, 0x34, 0xAB, 0xFF, 0x00, 0x01, 0xFF, 0xFF, 0x80, 0x00, 0x7F, 0xFF};
    m = make_png(rgb16, 2, 1, PNG_COLOR_TYPE_RGB, 16, 0, NULL, 0, NULL, 0);
    s = fn_image_decode(m.p, m.n, "rgb16.png", NULL, &im);
    T_CHECK(s == FN_OK && px_eq(&im, 0, 0, 0x12, 0xAB, 0x00, 0) && px_eq(&im, 1, 0, 0xFF, 0x80, 0x7F, 0), "16-bit RGB PNG: %s", fn_last_error());
    fn_image_free(&im), free(m.p);
    /* 16-bit gray */
    uint8_t g16[4] = {0xC8, 0x01, 0x05, 0xFF};
    m = make_png(g16, 2, 1, PNG_COLOR_TYPE_GRAY, 16, 0, NULL, 0, NULL, 0);
    s = fn_image_decode(m.p, m.n, "g16.png", NULL, &im);
    T_CHECK(s == FN_OK && px_eq(&im, 0, 0, 0xC8, 0xC8, 0xC8, 0) && px_eq(&im, 1, 0, 5, 5, 5, 0), "16-bit gray PNG: %s", fn_last_error());
    fn_image_free(&im), free(m.p);
    /* 2-bit palette with transparency: palette colours, alpha ignored */
    png_color pal[4] = {{1, 2, 3}, {250, 0, 0}, {0, 250, 0}, {9, 8, 7}};
    uint8_t trns[2] = {0, 128};
    uint8_t idx[1] = {0x1B};     /* indices 0,1,2,3 packed 2 bits each, MSB first */
    m = make_png(idx, 4, 1, PNG_COLOR_TYPE_PALETTE, 2, 0, pal, 4, trns, 2);
    s = fn_image_decode(m.p, m.n, "pal.png", NULL, &im);
    T_CHECK(s == FN_OK && im.w == 4 && px_eq(&im, 0, 0, 1, 2, 3, 0) && px_eq(&im, 1, 0, 250, 0, 0, 0) &&
            px_eq(&im, 2, 0, 0, 250, 0, 0) && px_eq(&im, 3, 0, 9, 8, 7, 0), "palette PNG: %s", fn_last_error());
    fn_image_free(&im), free(m.p);
    /* 1-bit gray, interlaced */
    int w = 13, h = 9;
    uint8_t bits[9 * 2];
    for (int y = 0; y < h; y++) bits[2 * y] = (uint8_t)(y & 1 ? 0xAA : 0x55), bits[2 * y + 1] = 0xF8;
    m = make_png(bits, w, h, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_ADAM7, NULL, 0, NULL, 0);
    s = fn_image_decode(m.p, m.n, "bits.png", NULL, &im);
    int bad = 0;
    for (int y = 0; s == FN_OK && y < h; y++)
        for (int x = 0; x < w; x++) {
            int bit = (bits[2 * y + x / 8] >> (7 - x % 8)) & 1;
            bad += !px_eq(&im, x, y, bit * 255, bit * 255, bit * 255, 0);
        }
    T_CHECK(s == FN_OK && bad == 0, "1-bit interlaced gray PNG: %d bad pixels %s", bad, fn_last_error());
    fn_image_free(&im), free(m.p);
}

/* A PNG signature + IHDR chunk (valid CRC) claiming w x h, then nothing. */
static size_t png_header_only(uint8_t *b, uint32_t w, uint32_t h)
{
    memcpy(b, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    uint8_t *d = b + 16;
    uint32_t v[2] = {w, h};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++) d[4 * k + i] = (uint8_t)(v[k] >> (24 - 8 * i));
    d[8] = 8, d[9] = 2, d[10] = d[11] = d[12] = 0;
    uint32_t crc = (uint32_t)crc32(0, b + 12, 17);
    for (int i = 0; i < 4; i++) b[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    return 33;
}

static void expect_fail(const char *what, fn_status got, fn_status want, const char *needle)
{
    const char *msg = fn_last_error();
    printf("%-22s -> %s: %s\n", what, fn_status_name(got), msg);
    T_CHECK(got == want, "%s: status %s, want %s", what, fn_status_name(got), fn_status_name(want));
    T_CHECK(strstr(msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, msg, needle);
}

static void test_bad_input(void)
{
    fn_image im;
    uint8_t *p = pattern_rgb(64, 48);
    membuf j = make_jpeg(p, 64, 48, 3, 90, 0);
    write_file(tmp("cut.jpg"), j.p, j.n / 2);
    expect_fail("truncated JPEG", fn_image_load(tmp("cut.jpg"), NULL, &im), FN_ERR_FORMAT, "cut.jpg: JPEG data ends early");
    T_CHECK(im.data == NULL, "failed load left pixels behind");
    write_file(tmp("head.jpg"), j.p, 200);
    expect_fail("JPEG cut in header", fn_image_load(tmp("head.jpg"), NULL, &im), FN_ERR_FORMAT, "head.jpg:");
    free(j.p);

    membuf pn = make_png(p, 64, 48, PNG_COLOR_TYPE_RGB, 8, 0, NULL, 0, NULL, 0);
    write_file(tmp("cut.png"), pn.p, pn.n * 2 / 3);
    expect_fail("truncated PNG", fn_image_load(tmp("cut.png"), NULL, &im), FN_ERR_FORMAT, "cut.png: not a valid PNG");
    pn.p[40] ^= 0x55;   /* inside IDAT: CRC (and likely zlib) breaks */
    expect_fail("corrupt PNG", fn_image_decode(pn.p, pn.n, "bad.png", NULL, &im), FN_ERR_FORMAT, "bad.png:");
    free(pn.p);
    free(p);

    uint8_t hdr[64];
    size_t n = png_header_only(hdr, 100000, 100000);
    write_file(tmp("huge.png"), hdr, n);
    expect_fail("huge PNG header", fn_image_load(tmp("huge.png"), NULL, &im), FN_ERR_LIMIT,
                "huge.png: image is 100000x100000, more than the limit of");
    /* 12000x8000 passes the size check: it fails only later, for missing data */
    n = png_header_only(hdr, 12000, 8000);
    expect_fail("12000x8000 header", fn_image_decode(hdr, n, "big.png", NULL, &im), FN_ERR_FORMAT, "big.png: not a valid PNG");
    fn_image_limits small = {100, 5000};
    n = png_header_only(hdr, 90, 90);
    expect_fail("caller limit", fn_image_decode(hdr, n, "lim.png", &small, &im), FN_ERR_LIMIT, "more than the limit of 5000 pixels");

    /* a JPEG whose SOF0 claims 60000x60000: refused before decoding */
    uint8_t *q = pattern_rgb(16, 16);
    membuf jb = make_jpeg(q, 16, 16, 3, 90, 0);
    for (size_t i = 2; i + 9 < jb.n; i++)
        if (jb.p[i] == 0xFF && jb.p[i + 1] == 0xC0) {
            jb.p[i + 5] = jb.p[i + 7] = 60000 >> 8, jb.p[i + 6] = jb.p[i + 8] = 60000 & 255;
            break;
        }
    expect_fail("huge JPEG header", fn_image_decode(jb.p, jb.n, "huge.jpg", NULL, &im), FN_ERR_LIMIT,
                "huge.jpg: image is 60000x60000, more than the limit of 30000 pixels per side");
    free(jb.p);
    free(q);

    uint8_t junk[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) x = x * 1103515245u + 12345u, junk[i] = (uint8_t)(x >> 16);
    expect_fail("random bytes", fn_image_decode(junk, sizeof junk, "junk.bin", NULL, &im), FN_ERR_FORMAT, "junk.bin: not a JPEG or PNG image");
    junk[0] = 0xFF, junk[1] = 0xD8, junk[2] = 0xFF;
    expect_fail("JPEG magic + junk", fn_image_decode(junk, sizeof junk, "junk.jpg", NULL, &im), FN_ERR_FORMAT, "junk.jpg:");
    write_file(tmp("notes.txt"), "hello, I am text\n", 17);
    expect_fail("text file", fn_image_load(tmp("notes.txt"), NULL, &im), FN_ERR_FORMAT, "notes.txt: not a JPEG or PNG image");
    write_file(tmp("empty.jpg"), "", 0);
    expect_fail("empty file", fn_image_load(tmp("empty.jpg"), NULL, &im), FN_ERR_FORMAT, "empty.jpg: file is empty");
    expect_fail("missing file", fn_image_load(tmp("nope.jpg"), NULL, &im), FN_ERR_IO, "No such file or directory");
    expect_fail("directory", fn_image_load(t_tmpdir(), NULL, &im), FN_ERR_IO, "not a regular file");
    /* a device is refused before it is opened (opening one can act: a tape rewinds on close) */
    expect_fail("device", fn_image_load("/dev/null", NULL, &im), FN_ERR_IO, "/dev/null: not a regular file");
    fn_image one = {1, 1, 3, (uint8_t[]){1, 2, 3}};
    expect_fail("unwritable PNG", fn_image_save_png("/nonexistent-dir/x.png", &one), FN_ERR_IO, "/nonexistent-dir/x.png: cannot create");
}

/* Malformed EXIF never reads outside its payload and never invents a turn. */
static void test_exif_parser(void)
{
    uint8_t e[64];
    size_t n = exif_payload(e, 6, 0);
    T_CHECK(fn_exif_orientation(e, n) == 6, "LE orientation 6 -> %d", fn_exif_orientation(e, n));
    n = exif_payload(e, 8, 1);
    T_CHECK(fn_exif_orientation(e, n) == 8, "BE orientation 8 -> %d", fn_exif_orientation(e, n));
    T_CHECK(fn_exif_orientation(e, 20) == 1, "cut payload gave a turn");
    n = exif_payload(e, 0, 0);
    T_CHECK(fn_exif_orientation(e, n) == 1, "orientation 0 (seen in the Film photos) is no turn");
    n = exif_payload(e, 6, 0);
    e[14] = 0xFF, e[15] = 0xFF;   /* 65535 entries */
    T_CHECK(fn_exif_orientation(e, n) == 1, "entry count past the payload accepted");
    n = exif_payload(e, 6, 0);
    e[10] = 0xF0;                 /* IFD offset past the end */
    T_CHECK(fn_exif_orientation(e, n) == 1, "IFD offset past the payload accepted");
}

/* Random byte damage to a valid JPEG and PNG: every outcome is a clean
 * success or a clean error (ASan/UBSan watch the decoders' error paths). */
static void test_mutations(void)
{
    uint8_t *p = pattern_rgb(40, 30);
    membuf src[2] = {make_jpeg(p, 40, 30, 3, 85, 6), make_png(p, 40, 30, PNG_COLOR_TYPE_RGB, 8, 0, NULL, 0, NULL, 0)};
    uint32_t x = 2024;
    int ok = 0, failed = 0, unclear = 0;
    for (int k = 0; k < 2; k++) {
        uint8_t *b = malloc(src[k].n);
        for (int it = 0; it < 300; it++) {
            memcpy(b, src[k].p, src[k].n);
            for (int m = 0; m < 1 + it % 4; m++) {
                x = x * 1103515245u + 12345u;
                size_t at = 2 + (x >> 8) % (src[k].n - 2);
                x = x * 1103515245u + 12345u;
                b[at] = (uint8_t)(x >> 16);
            }
            x = x * 1103515245u + 12345u;
            size_t len = it % 3 == 0 ? (x >> 8) % src[k].n : src[k].n;
            fn_image im;
            fn_clear_error();
            fn_status s = fn_image_decode(b, len, "mutant", NULL, &im);
            if (s == FN_OK) {
                ok++;
                T_CHECK(im.data && im.w > 0 && im.h > 0, "success without pixels");
            } else {
                failed++;
                unclear += strncmp(fn_last_error(), "mutant: ", 8) != 0 || im.data != NULL;
            }
            fn_image_free(&im);
        }
        free(b);
        free(src[k].p);
    }
    printf("mutations: %d decoded, %d refused, %d refused without a proper sentence\n", ok, failed, unclear);
    T_CHECK(unclear == 0, "%d failures lacked the file name or left pixels", unclear);
    free(p);
}

int main(void)
{
    test_png_roundtrip();
    test_gray_weights();
    test_crop_flip();
    test_jpeg_rgb();
    test_jpeg_gray_cmyk();
    test_exif();
    test_png_kinds();
    test_bad_input();
    test_exif_parser();
    test_mutations();
    return T_DONE();
}
