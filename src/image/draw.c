/* draw.c — clipped rectangles and bitmap text on RGB or gray images. */
#include "image/draw.h"

#include <string.h>
#include <utf8proc.h>

static void put_color(fn_image *img, uint8_t *p, fn_rgb c)
{
    if (img->c == 3) p[0] = c.r, p[1] = c.g, p[2] = c.b;
    else p[0] = fn_gray_px(c.r, c.g, c.b);
}

/* Scales beyond this would only draw off-image and risk int overflow. */
static int clamp_scale(int scale) { return scale < 1 ? 1 : scale > 64 ? 64 : scale; }

static void order(int *a, int *b)
{
    if (*a > *b) { int t = *a; *a = *b; *b = t; }
}

void fn_draw_fill(fn_image *img, int x0, int y0, int x1, int y1, fn_rgb color)
{
    if (!img || !img->data) return;
    order(&x0, &x1), order(&y0, &y1);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 >= img->w) x1 = img->w - 1;
    if (y1 >= img->h) y1 = img->h - 1;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) put_color(img, fn_image_px(img, x, y), color);
}

void fn_draw_rect(fn_image *img, int x0, int y0, int x1, int y1, int thickness, fn_rgb color)
{
    order(&x0, &x1), order(&y0, &y1);
    if (thickness < 1) thickness = 1;
    int t = thickness - 1;
    if (x1 - x0 < 2 * thickness || y1 - y0 < 2 * thickness) {   /* thicker than the box: solid */
        fn_draw_fill(img, x0, y0, x1, y1, color);
        return;
    }
    fn_draw_fill(img, x0, y0, x1, y0 + t, color);
    fn_draw_fill(img, x0, y1 - t, x1, y1, color);
    fn_draw_fill(img, x0, y0, x0 + t, y1, color);
    fn_draw_fill(img, x1 - t, y0, x1, y1, color);
}

/* The next character as a glyph of the ASCII font: a letter with marks is
 * drawn without them and typographic punctuation as its ASCII kin
 * (utf8proc's compatibility decomposition, marks stripped, "lumped":
 * "José Ñ — 50%" is drawn "Jose N - 50%"); what has no ASCII form
 * ("日本") is '?'; a combining mark on its own (the accent of a decomposed
 * "José") is 0: nothing to draw, no room taken. */
static int next_glyph(const char **s)
{
    unsigned char c = (unsigned char)**s;
    if (c < 0x80) {
        (*s)++;
        return c;
    }
    utf8proc_int32_t cp = -1, out[8];
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)*s, (utf8proc_ssize_t)strnlen(*s, 4), &cp);
    if (k <= 0) {   /* not UTF-8: one byte, then its continuation bytes */
        (*s)++;
        while ((**s & 0xC0) == 0x80) (*s)++;
        return '?';
    }
    *s += k;
    /* letters of their own that no decomposition turns into ASCII: their usual ASCII spelling's first letter */
    static const struct { int32_t cp; char a; } own[] = {
        {0xDF, 's'}, {0xD8, 'O'}, {0xF8, 'o'}, {0xC6, 'A'}, {0xE6, 'a'}, {0x152, 'O'}, {0x153, 'o'}, {0x110, 'D'},
        {0x111, 'd'}, {0x141, 'L'}, {0x142, 'l'}, {0xDE, 'T'}, {0xFE, 't'}, {0xD0, 'D'}, {0xF0, 'd'}, {0x131, 'i'}};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (own[i].cp == cp) return own[i].a;
    int bound = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, out, 8, UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK |
                                                                  UTF8PROC_LUMP, &bound);
    if (n == 0) return 0;   /* a mark, stripped */
    return n >= 1 && n <= 8 && out[0] > 0x1f && out[0] < 0x7f ? (int)out[0] : '?';
}

int fn_text_width(const char *text, int scale)
{
    if (!text) return 0;
    scale = clamp_scale(scale);
    int best = 0, n = 0;
    while (*text) {
        int g = next_glyph(&text);
        if (!g) continue;
        if (g == '\n') n = 0;
        else if (++n > best) best = n;
    }
    return best ? (best * FN_FONT_ADVANCE - 1) * scale : 0;
}

int fn_text_height(const char *text, int scale)
{
    if (!text || !*text) return 0;
    scale = clamp_scale(scale);
    int lines = 1;
    for (const char *p = text; *p; p++) lines += *p == '\n';
    return ((lines - 1) * FN_FONT_LINE + FN_FONT_H) * scale;
}

static void draw_glyph(fn_image *img, int x, int y, int ch, int scale, fn_rgb color)
{
    for (int r = 0; r < FN_FONT_H; r++) {
        const char *row = fn_font_row(ch, r);
        for (int c = 0; c < FN_FONT_W; c++)
            if (row[c] == '#')
                fn_draw_fill(img, x + c * scale, y + r * scale, x + (c + 1) * scale - 1, y + (r + 1) * scale - 1, color);
    }
}

void fn_draw_text(fn_image *img, int x, int y, const char *text, int scale, fn_rgb color)
{
    if (!img || !img->data || !text) return;
    scale = clamp_scale(scale);
    int cx = x;
    while (*text) {
        int g = next_glyph(&text);
        if (!g) continue;
        if (g == '\n') { cx = x, y += FN_FONT_LINE * scale; continue; }
        if (cx < img->w && y < img->h && cx + FN_FONT_W * scale > 0 && y + FN_FONT_H * scale > 0)
            draw_glyph(img, cx, y, g, scale, color);
        cx += FN_FONT_ADVANCE * scale;
    }
}

void fn_draw_label(fn_image *img, int x, int y, const char *text, int scale, fn_rgb fg, fn_rgb bg)
{
    if (!text || !*text) return;
    scale = clamp_scale(scale);
    int w = fn_text_width(text, scale) + 2 * scale, h = fn_text_height(text, scale) + 2 * scale;
    fn_draw_fill(img, x, y, x + w - 1, y + h - 1, bg);
    fn_draw_text(img, x + scale, y + scale, text, scale, fg);
}

void fn_draw_face_box(fn_image *img, int x0, int y0, int x1, int y1, const char *label,
                      int thickness, int scale, fn_rgb color, fn_rgb text_color)
{
    if (!img || !img->data) return;
    order(&x0, &x1), order(&y0, &y1);
    fn_draw_rect(img, x0, y0, x1, y1, thickness, color);
    if (!label || !*label) return;
    scale = clamp_scale(scale);
    int h = fn_text_height(label, scale) + 2 * scale, w = fn_text_width(label, scale) + 2 * scale;
    int y = y1 + 1;                       /* under the box ... */
    if (y + h > img->h) y = y0 - h;       /* ... else above it ... */
    if (y < 0) y = y1 - h + 1;            /* ... else inside, at its bottom */
    int x = x0;
    if (x + w > img->w) x = img->w - w;
    if (x < 0) x = 0;
    fn_draw_label(img, x, y, label, scale, text_color, color);
}
