/* image.c — fn_image memory, file reading and format dispatch, pixel helpers. */
#include "image/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/file.h"

/* A compressed file bigger than this is not a photo we should hold in memory. */
#define FN_IMAGE_MAX_FILE_BYTES ((off_t)1 << 30)

fn_status fn_image_alloc(fn_image *out, int w, int h, int c)
{
    memset(out, 0, sizeof *out);
    if (w <= 0 || h <= 0 || (c != 1 && c != 3))
        return fn_fail(FN_ERR_ARG, "image: cannot allocate %dx%d with %d channels", w, h, c);
    size_t bytes = (size_t)w * (size_t)h * (size_t)c;
    out->data = fn_aligned_alloc(bytes);   /* big images on huge pages: fewer first-touch faults */
    if (!out->data) return fn_fail(FN_ERR_NOMEM, "image: out of memory for %dx%d pixels", w, h);
    out->w = w, out->h = h, out->c = c;
    return FN_OK;
}

void fn_image_free(fn_image *img)
{
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

fn_status fn_image_check_limits(const char *name, long w, long h, const fn_image_limits *lim)
{
    long max_side = lim && lim->max_side > 0 ? lim->max_side : FN_IMAGE_MAX_SIDE;
    int64_t max_px = lim && lim->max_pixels > 0 ? lim->max_pixels : FN_IMAGE_MAX_PIXELS;
    if (w <= 0 || h <= 0)
        return fn_fail(FN_ERR_FORMAT, "%s: image header gives an empty size %ldx%ld", name, w, h);
    if (w > max_side || h > max_side)
        return fn_fail(FN_ERR_LIMIT, "%s: image is %ldx%ld, more than the limit of %ld pixels per side",
                       name, w, h, max_side);
    if ((int64_t)w * h > max_px)
        return fn_fail(FN_ERR_LIMIT, "%s: image is %ldx%ld, more than the limit of %lld pixels",
                       name, w, h, (long long)max_px);
    return FN_OK;
}

static int is_jpeg(const uint8_t *b, size_t n) { return n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF; }
static int is_png(const uint8_t *b, size_t n) { return n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8); }

fn_status fn_image_decode(const void *buf, size_t len, const char *name,
                          const fn_image_limits *lim, fn_image *out)
{
    return fn_image_decode_ex(buf, len, name, lim, out, NULL);
}

fn_status fn_image_decode_ex(const void *buf, size_t len, const char *name,
                             const fn_image_limits *lim, fn_image *out, fn_image_notes *notes)
{
    memset(out, 0, sizeof *out);
    if (notes) memset(notes, 0, sizeof *notes), notes->orientation = 1;
    if (!name) name = "image";
    if (!buf || len == 0) return fn_fail(FN_ERR_FORMAT, "%s: file is empty", name);
    const uint8_t *b = buf;
    if (is_jpeg(b, len)) return fn_jpeg_decode(b, len, name, lim, 0, out, notes, NULL, NULL);
    if (is_png(b, len)) return fn_png_decode(b, len, name, lim, out, notes);
    return fn_fail(FN_ERR_FORMAT, "%s: not a JPEG or PNG image", name);
}

/* Whole file into a malloc'd buffer; regular files only, size-capped. */
static fn_status read_file(const char *path, uint8_t **data, size_t *len)
{
    *data = NULL, *len = 0;
    int fd;
    struct stat st;
    FN_TRY(fn_open_regular(path, &fd, &st));   /* a FIFO waited for a writer forever */
    fn_status s = FN_OK;
    if (st.st_size > FN_IMAGE_MAX_FILE_BYTES)
        s = fn_fail(FN_ERR_LIMIT, "%s: file is %lld bytes, more than the limit of %lld",
                    path, (long long)st.st_size, (long long)FN_IMAGE_MAX_FILE_BYTES);
    else if (st.st_size == 0) s = fn_fail(FN_ERR_FORMAT, "%s: file is empty", path);
    if (s != FN_OK) { close(fd); return s; }
    uint8_t *p = malloc((size_t)st.st_size);
    if (!p) { close(fd); return fn_fail(FN_ERR_NOMEM, "%s: out of memory reading the file", path); }
    size_t got = 0, want = (size_t)st.st_size;
    while (got < want) {
        ssize_t r = read(fd, p + got, want - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            s = r < 0 ? fn_fail(FN_ERR_IO, "%s: read failed: %s", path, strerror(errno))
                      : fn_fail(FN_ERR_IO, "%s: file shrank while reading", path);
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (s != FN_OK) { free(p); return s; }
    *data = p, *len = want;
    return FN_OK;
}

fn_status fn_image_load(const char *path, const fn_image_limits *lim, fn_image *out)
{
    return fn_image_load_ex(path, lim, out, NULL);
}

fn_status fn_image_load_ex(const char *path, const fn_image_limits *lim, fn_image *out, fn_image_notes *notes)
{
    memset(out, 0, sizeof *out);
    if (notes) memset(notes, 0, sizeof *notes), notes->orientation = 1;
    if (!path) return fn_fail(FN_ERR_ARG, "image: no path given");
    uint8_t *buf;
    size_t len;
    FN_TRY(read_file(path, &buf, &len));
    fn_status s = fn_image_decode_ex(buf, len, path, lim, out, notes);
    free(buf);
    return s;
}

fn_status fn_image_load_reduced(const char *path, const fn_image_limits *lim, int min_side, fn_image *out,
                                fn_image_notes *notes, int *full_w, int *full_h)
{
    memset(out, 0, sizeof *out);
    *full_w = *full_h = 0;
    if (notes) memset(notes, 0, sizeof *notes), notes->orientation = 1;
    if (!path) return fn_fail(FN_ERR_ARG, "image: no path given");
    if (min_side < 1) return fn_fail(FN_ERR_ARG, "%s: reduced decode to a side of %d pixels", path, min_side);
    uint8_t *buf;
    size_t len;
    FN_TRY(read_file(path, &buf, &len));
    fn_status s;
    if (is_jpeg(buf, len)) {
        s = fn_jpeg_decode(buf, len, path, lim, min_side, out, notes, full_w, full_h);
    } else {
        s = fn_image_decode_ex(buf, len, path, lim, out, notes);
        if (s == FN_OK) *full_w = out->w, *full_h = out->h;
    }
    free(buf);
    return s;
}

void fn_rgb_to_gray(const uint8_t *rgb, int w, int h, size_t rgb_stride, uint8_t *gray, size_t gray_stride)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *s = rgb + (size_t)y * rgb_stride;
        uint8_t *d = gray + (size_t)y * gray_stride;
        for (int x = 0; x < w; x++, s += 3) d[x] = fn_gray_px(s[0], s[1], s[2]);
    }
}

fn_status fn_image_to_gray(const fn_image *src, fn_image *dst)
{
    if (!src || !dst || src->c != 3 || !dst->data || dst->c != 1 || dst->w != src->w || dst->h != src->h)
        return fn_fail(FN_ERR_ARG, "image: to_gray needs an RGB source and a gray destination of the same size");
    fn_rgb_to_gray(src->data, src->w, src->h, (size_t)src->w * 3, dst->data, (size_t)dst->w);
    return FN_OK;
}

fn_status fn_image_crop(const fn_image *src, int x, int y, int w, int h, fn_image *dst)
{
    if (!src || !dst || !dst->data || w <= 0 || h <= 0 || x < 0 || y < 0 ||
        x > src->w - w || y > src->h - h || dst->w != w || dst->h != h || dst->c != src->c)
        return fn_fail(FN_ERR_ARG, "image: crop %dx%d at (%d,%d) does not fit a %dx%d image or its destination",
                       w, h, x, y, src ? src->w : 0, src ? src->h : 0);
    size_t row = (size_t)w * src->c;
    for (int r = 0; r < h; r++) memcpy(fn_image_px(dst, 0, r), fn_image_px(src, x, y + r), row);
    return FN_OK;
}

void fn_image_flip_h(fn_image *img)
{
    int c = img->c;
    for (int y = 0; y < img->h; y++) {
        uint8_t *l = fn_image_px(img, 0, y), *r = fn_image_px(img, img->w - 1, y);
        for (; l < r; l += c, r -= c)
            for (int k = 0; k < c; k++) { uint8_t t = l[k]; l[k] = r[k]; r[k] = t; }
    }
}
