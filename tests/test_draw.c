/* Drawing: hand-placed pixels for boxes and glyphs, clipping, font sanity. */
#include <string.h>

#include "t.h"
#include "image/draw.h"

static const fn_rgb RED = {255, 0, 0}, WHITE = {255, 255, 255};

static int is(const fn_image *im, int x, int y, fn_rgb c)
{
    const uint8_t *p = fn_image_px(im, x, y);
    return p[0] == c.r && p[1] == c.g && p[2] == c.b;
}

static int is_black(const fn_image *im, int x, int y) { return is(im, x, y, (fn_rgb){0, 0, 0}); }

static fn_image blank(int w, int h)
{
    fn_image im;
    fn_image_alloc(&im, w, h, 3);
    memset(im.data, 0, (size_t)w * h * 3);
    return im;
}

static void test_font_data(void)
{
    int bad = 0, empty = 0;
    for (int ch = 32; ch <= 126; ch++) {
        int set = 0;
        for (int r = 0; r < FN_FONT_H; r++) {
            const char *row = fn_font_row(ch, r);
            bad += strlen(row) != FN_FONT_W || strspn(row, "#.") != FN_FONT_W;
            for (int c = 0; c < FN_FONT_W; c++) set += row[c] == '#';
        }
        empty += ch != ' ' && set == 0;
    }
    T_CHECK(bad == 0, "%d font rows are not 5 chars of '#'/'.'", bad);
    T_CHECK(empty == 0, "%d printable glyphs are blank", empty);
    T_CHECK(!strcmp(fn_font_row(200, 0), fn_font_row('?', 0)), "non-ASCII does not fall back to '?'");
}

static void test_rect(void)
{
    fn_image im = blank(30, 20);
    fn_draw_rect(&im, 5, 5, 20, 15, 2, RED);
    T_CHECK(is(&im, 5, 5, RED) && is(&im, 6, 6, RED) && is(&im, 20, 15, RED) && is(&im, 19, 10, RED) && is(&im, 12, 14, RED),
            "outline pixels missing");
    T_CHECK(is_black(&im, 7, 7) && is_black(&im, 18, 10) && is_black(&im, 4, 5) && is_black(&im, 21, 15) && is_black(&im, 12, 16),
            "outline spills inside or outside");
    int n = 0;
    for (int i = 0; i < 30 * 20; i++) n += im.data[3 * i] == 255;
    /* 16x11 box minus the 12x7 interior */
    T_CHECK(n == 16 * 11 - 12 * 7, "outline has %d pixels, want %d", n, 16 * 11 - 12 * 7);
    /* clipped: partly and wholly outside, reversed corners */
    fn_draw_rect(&im, -10, -10, 3, 3, 3, WHITE);
    fn_draw_rect(&im, 100, 100, 200, 200, 1, WHITE);
    fn_draw_fill(&im, 29, 19, 25, 17, WHITE);
    /* only the inner 3-pixel band reaches the image: x or y in 1..3 */
    T_CHECK(is_black(&im, 0, 0) && is(&im, 3, 3, WHITE) && is(&im, 1, 1, WHITE) && is(&im, 0, 2, WHITE) && is_black(&im, 4, 4),
            "clipped outline");
    T_CHECK(is(&im, 25, 17, WHITE) && is(&im, 29, 19, WHITE) && is_black(&im, 24, 17), "reversed-corner fill");
    fn_image_free(&im);
}

static void test_text(void)
{
    fn_image im = blank(60, 30);
    /* 'A' row 0 is ".###." and row 3 "#####": at scale 1 from (10,5) */
    fn_draw_text(&im, 10, 5, "A", 1, WHITE);
    T_CHECK(is_black(&im, 10, 5) && is(&im, 11, 5, WHITE) && is(&im, 13, 5, WHITE) && is_black(&im, 14, 5), "'A' top row");
    T_CHECK(is(&im, 10, 8, WHITE) && is(&im, 14, 8, WHITE) && is_black(&im, 12, 9), "'A' bar / hollow");
    int n = 0;
    for (int i = 0; i < 60 * 30; i++) n += im.data[3 * i] == 255;
    T_CHECK(n == 3 + 2 + 2 + 5 + 2 + 2 + 2, "'A' has %d pixels, want 18", n);
    /* scale 3: each font pixel is a 3x3 block; 'g' uses the descender row */
    memset(im.data, 0, 60 * 30 * 3);
    fn_draw_text(&im, 0, 0, "g", 3, RED);
    T_CHECK(is(&im, 3, 6, RED) && is(&im, 5, 8, RED) && is_black(&im, 0, 6) && is(&im, 3, 21, RED) && is(&im, 11, 23, RED),
            "scaled 'g' blocks");
    T_CHECK(fn_text_width("Hi", 2) == 22 && fn_text_height("Hi", 2) == 16, "Hi at 2: %dx%d, want 22x16",
            fn_text_width("Hi", 2), fn_text_height("Hi", 2));
    T_CHECK(fn_text_width("ab\nxyz1", 1) == 23 && fn_text_height("ab\nxyz1", 1) == 17, "two lines: %dx%d",
            fn_text_width("ab\nxyz1", 1), fn_text_height("ab\nxyz1", 1));
    T_CHECK(fn_text_width("caf\xc3\xa9", 1) == 23, "UTF-8 e-acute counted as %d px, want one glyph", fn_text_width("caf\xc3\xa9", 1));
    /* a decomposed accent (NFD "Jose" + U+0301) is no glyph of its own: it was drawn as a '?' */
    T_CHECK(fn_text_width("Jose\xcc\x81", 1) == fn_text_width("Jose", 1) &&
                fn_text_width("x\xcc\x84y", 1) == fn_text_width("xy", 1),
            "combining marks: NFD Jose %d px (want %d), x+macron+y %d px (want %d)", fn_text_width("Jose\xcc\x81", 1),
            fn_text_width("Jose", 1), fn_text_width("x\xcc\x84y", 1), fn_text_width("xy", 1));
    /* names as the sheets draw them: marks stripped, typographic punctuation as ASCII, the rest '?':
     * "José Ñ — 日" is drawn exactly as "Jose N - ?" (each was a '?') */
    fn_image a = blank(120, 12), b = blank(120, 12);
    fn_draw_text(&a, 0, 0, "Jos\xc3\xa9 \xc3\x91 \xe2\x80\x94 \xe6\x97\xa5", 1, WHITE);
    fn_draw_text(&b, 0, 0, "Jose N - ?", 1, WHITE);
    T_CHECK(!memcmp(a.data, b.data, 120 * 12 * 3) &&
                fn_text_width("Jos\xc3\xa9 \xc3\x91 \xe2\x80\x94 \xe6\x97\xa5", 1) == fn_text_width("Jose N - ?", 1),
            "'Jos\u00e9 \u00d1 \u2014 \u65e5' not drawn as 'Jose N - ?'");
    /* letters no decomposition reaches: their ASCII spelling's first letter ("Straße Øst Æ" as "Strase Ost A") */
    memset(a.data, 0, 120 * 12 * 3);
    memset(b.data, 0, 120 * 12 * 3);
    fn_draw_text(&a, 0, 0, "Stra\xc3\x9f" "e \xc3\x98st \xc3\x86", 1, WHITE);
    fn_draw_text(&b, 0, 0, "Strase Ost A", 1, WHITE);
    T_CHECK(!memcmp(a.data, b.data, 120 * 12 * 3), "'Stra\u00dfe \u00d8st \u00c6' not drawn as 'Strase Ost A'");
    fn_image_free(&a);
    fn_image_free(&b);
    /* off-image text and huge scale never write outside (ASan watches) */
    fn_draw_text(&im, -100, -100, "Mammootty", 64, WHITE);
    fn_draw_text(&im, 55, 25, "W\xff", 1000, WHITE);
    fn_image_free(&im);
}

static void test_face_box(void)
{
    fn_image im = blank(80, 60);
    fn_draw_face_box(&im, 10, 5, 40, 30, "Bo", 1, 1, RED, WHITE);
    /* label background: under the box, from x 10, y 31, size (11+2)x(8+2) */
    T_CHECK(is(&im, 10, 31, RED) && is(&im, 22, 40, RED) && is_black(&im, 23, 31) && is_black(&im, 10, 41), "label background");
    T_CHECK(is(&im, 11, 32, WHITE), "'B' top-left pixel under the box");
    /* box at the bottom edge: label moves above it */
    fn_image_free(&im);
    im = blank(80, 60);
    fn_draw_face_box(&im, 10, 30, 40, 59, "Bo", 1, 1, RED, WHITE);
    T_CHECK(is(&im, 10, 20, RED) && is(&im, 11, 21, WHITE) && is_black(&im, 10, 19), "label above the box");
    /* gray images take the gray of the colour */
    fn_image g;
    fn_image_alloc(&g, 8, 8, 1);
    memset(g.data, 0, 64);
    fn_draw_fill(&g, 2, 2, 3, 3, RED);
    T_CHECK(g.data[2 * 8 + 2] == 76 && g.data[0] == 0, "gray fill %d", g.data[2 * 8 + 2]);
    fn_image_free(&g);
    fn_image_free(&im);
}

int main(void)
{
    test_font_data();
    test_rect();
    test_text();
    test_face_box();
    return T_DONE();
}
