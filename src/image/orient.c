/* orient.c — EXIF orientation: find tag 0x0112 in IFD0 and undo it.
 * Cameras store pixels as the sensor saw them and record how to turn them;
 * detection must see faces upright, so decoding applies the turn. */
#include "image/codec.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static unsigned rd16(const uint8_t *p, int big) { return big ? (p[0] << 8 | p[1]) : (p[1] << 8 | p[0]); }
static uint32_t rd32(const uint8_t *p, int big)
{
    return big ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
               : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

/* The orientation value of one IFD entry (tag 0x0112), 1 if unusable.  The
 * standard says SHORT, count 1; writers also use LONG, and some give a count
 * other than 1.  The first value is taken when it is stored inline (fits in
 * the 4-byte value field), else from its offset when that lies inside t. */
static int entry_value(const uint8_t *t, size_t n, const uint8_t *e, int big)
{
    unsigned type = rd16(e + 2, big);
    uint32_t count = rd32(e + 4, big);
    unsigned size = type == 3 ? 2 : type == 4 ? 4 : 0;
    if (!size || count < 1) return 1;
    const uint8_t *val = e + 8;
    if (count > 4 / size) {
        uint32_t off = rd32(e + 8, big);
        if (off > n || n - off < size) return 1;
        val = t + off;
    }
    uint32_t v = size == 2 ? rd16(val, big) : rd32(val, big);
    return v >= 1 && v <= 8 ? (int)v : 1;
}

int fn_exif_orientation_tiff(const uint8_t *t, size_t n)
{
    if (!t || n < 8) return 1;
    int big;
    if (!memcmp(t, "II*\0", 4)) big = 0;
    else if (!memcmp(t, "MM\0*", 4)) big = 1;
    else return 1;
    uint32_t ifd = rd32(t + 4, big);     /* IFD0 may sit anywhere after the header */
    if (ifd < 8 || ifd > n || n - ifd < 2) return 1;
    unsigned count = rd16(t + ifd, big);
    if ((n - ifd - 2) / 12 < count) return 1;   /* entries past the payload: a broken IFD (PIL ignores it too) */
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *e = t + ifd + 2 + 12 * (size_t)i;
        if (rd16(e, big) == 0x0112) return entry_value(t, n, e, big);
    }
    return 1;
}

int fn_exif_orientation(const uint8_t *app1, size_t len)
{
    /* "Exif\0" and a pad byte (0, or 0xFF from some writers), then TIFF. */
    if (!app1 || len < 6 + 8 || memcmp(app1, "Exif\0", 5) != 0) return 1;
    return fn_exif_orientation_tiff(app1 + 6, len - 6);
}

/* Source pixel for output (ox, oy) of an image that was w x h before turning.
 * Orientations 5..8 swap the axes. */
static void source_of(int o, int w, int h, int ox, int oy, int *sx, int *sy)
{
    switch (o) {
    case 2: *sx = w - 1 - ox; *sy = oy; break;              /* mirror */
    case 3: *sx = w - 1 - ox; *sy = h - 1 - oy; break;      /* rotate 180 */
    case 4: *sx = ox; *sy = h - 1 - oy; break;              /* flip */
    case 5: *sx = oy; *sy = ox; break;                      /* transpose */
    case 6: *sx = oy; *sy = h - 1 - ox; break;              /* rotate 90 clockwise */
    case 7: *sx = w - 1 - oy; *sy = h - 1 - ox; break;      /* transverse */
    case 8: *sx = w - 1 - oy; *sy = ox; break;              /* rotate 90 counter-clockwise */
    default: *sx = ox; *sy = oy; break;
    }
}

/* Source step per output column, in pixels along x and y of the source. */
static void column_step(int o, int *dx, int *dy)
{
    static const int step[9][2] = {{1, 0}, {1, 0}, {-1, 0}, {-1, 0}, {1, 0}, {0, 1}, {0, -1}, {0, -1}, {0, 1}};
    int k = o >= 1 && o <= 8 ? o : 1;
    *dx = step[k][0], *dy = step[k][1];
}

void fn_image_orient_copy(const uint8_t *src, int w, int h, size_t stride, int o, fn_image *dst)
{
    int c = dst->c, dx, dy;
    column_step(o, &dx, &dy);
    ptrdiff_t step = (ptrdiff_t)dx * c + (ptrdiff_t)dy * (ptrdiff_t)stride;
    for (int oy = 0; oy < dst->h; oy++) {
        uint8_t *d = fn_image_px(dst, 0, oy);
        int sx, sy;
        source_of(o, w, h, 0, oy, &sx, &sy);
        const uint8_t *s = src + (size_t)sy * stride + (size_t)sx * c;
        if (step == c) {
            memcpy(d, s, (size_t)dst->w * c);
            continue;
        }
        for (int ox = 0; ox < dst->w; ox++, d += c, s += step)
            for (int k = 0; k < c; k++) d[k] = s[k];
    }
}

fn_status fn_image_apply_orientation(fn_image *img, int o)
{
    if (o <= 1 || o > 8) return FN_OK;
    fn_image out;
    FN_TRY(fn_image_alloc(&out, o >= 5 ? img->h : img->w, o >= 5 ? img->w : img->h, img->c));
    fn_image_orient_copy(img->data, img->w, img->h, (size_t)img->w * img->c, o, &out);
    fn_image_free(img);
    *img = out;
    return FN_OK;
}
