/* png.c — PNG decode (libpng) to RGB8, EXIF orientation (eXIf chunk before
 * the pixels) applied, and PNG encode.  libpng's default handlers print and
 * abort; ours record the sentence and longjmp back, so a corrupt file is an
 * fn_status, never a crash. */
#include "image/codec.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>

#include "core/error.h"

typedef struct png_job {
    const uint8_t *buf;
    size_t len, pos;
    char msg[256];
    png_bytep *rows;
    FILE *f;
    int orientation;
} png_job;

static void job_error(png_structp png, png_const_charp msg)
{
    png_job *j = png_get_error_ptr(png);
    snprintf(j->msg, sizeof j->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void job_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void job_read(png_structp png, png_bytep dst, png_size_t n)
{
    png_job *j = png_get_io_ptr(png);
    if (n > j->len - j->pos) png_error(png, "file ends early (truncated)");
    memcpy(dst, j->buf + j->pos, n);
    j->pos += n;
}

/* Ask libpng for 8-bit samples without packing; alpha and gray are handled
 * after the read, so the channel count is whatever libpng reports. */
static void request_8bit(png_structp png, png_infop info)
{
    int type = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);  /* keep the high byte, as PIL does for RGB;16 */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* In place from ch channels per pixel to RGB; buf holds n*max(ch,3) bytes.
 * Alpha is dropped as PIL's convert('RGB') does (no compositing). */
static void to_rgb_in_place(uint8_t *buf, size_t n, int ch)
{
    if (ch == 4) {
        for (size_t i = 0; i < n; i++) memmove(buf + 3 * i, buf + 4 * i, 3);
    } else if (ch == 1 || ch == 2) {
        for (size_t i = n; i-- > 0;) {
            uint8_t g = buf[ch * i];
            buf[3 * i] = buf[3 * i + 1] = buf[3 * i + 2] = g;
        }
    }
}

/* EXIF orientation of an eXIf chunk read so far (1 when there is none). */
static int exif_orientation(png_structp png, png_infop info)
{
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 n = 0;
    if (png_get_eXIf_1(png, info, &n, &exif) && exif) return fn_exif_orientation_tiff(exif, n);
#endif
    return 1;
}

static fn_status decode_image(png_structp png, png_infop info, png_job *j, const char *name,
                              const fn_image_limits *lim, fn_image *out)
{
    png_set_read_fn(png, j, job_read);
    png_read_info(png, info);
    j->orientation = exif_orientation(png, info);
    long w = (long)png_get_image_width(png, info), h = (long)png_get_image_height(png, info);
    FN_TRY(fn_image_check_limits(name, w, h, lim));
    request_8bit(png, info);
    int ch = png_get_channels(png, info);
    if (png_get_bit_depth(png, info) != 8 || ch < 1 || ch > 4 || png_get_rowbytes(png, info) != (size_t)w * ch)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: PNG layout not reducible to 8-bit samples", name);
    size_t n = (size_t)w * (size_t)h;
    out->data = malloc(n * (size_t)(ch > 3 ? ch : 3));
    j->rows = malloc(sizeof *j->rows * (size_t)h);
    if (!out->data || !j->rows) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for %ldx%ld pixels", name, w, h);
    out->w = (int)w, out->h = (int)h, out->c = 3;
    for (long y = 0; y < h; y++) j->rows[y] = out->data + (size_t)y * w * ch;
    png_read_image(png, j->rows);
    to_rgb_in_place(out->data, n, ch);
    return FN_OK;
}

/* The size check reads IHDR straight from the bytes: png_read_info would
 * first walk every chunk up to IDAT, so a header-only bomb would be reported
 * as truncated instead of too large. */
static fn_status check_ihdr(const uint8_t *b, size_t len, const char *name, const fn_image_limits *lim)
{
    if (len < 8 + 8 + 13 || memcmp(b + 12, "IHDR", 4) != 0)
        return fn_fail(FN_ERR_FORMAT, "%s: not a valid PNG: no IHDR chunk at the start", name);
    uint32_t w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    uint32_t h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
    return fn_image_check_limits(name, (long)w, (long)h, lim);
}

fn_status fn_png_decode(const uint8_t *buf, size_t len, const char *name,
                        const fn_image_limits *lim, fn_image *out, fn_image_notes *notes)
{
    FN_TRY(check_ihdr(buf, len, name, lim));
    png_job *j = calloc(1, sizeof *j);
    if (!j) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for the PNG decoder", name);
    j->buf = buf, j->len = len;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, j, job_error, job_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    fn_status s;
    if (!info) {
        s = fn_fail(FN_ERR_NOMEM, "%s: out of memory for the PNG decoder", name);
    } else if (setjmp(png_jmpbuf(png))) {
        s = fn_fail(FN_ERR_FORMAT, "%s: not a valid PNG: %s", name, j->msg);
    } else {
        s = decode_image(png, info, j, name, lim, out);
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(j->rows);
    int orientation = j->orientation;
    free(j);
    if (s == FN_OK) s = fn_image_apply_orientation(out, orientation);
    if (s == FN_OK && notes) notes->orientation = orientation;
    if (s != FN_OK) fn_image_free(out);
    return s;
}

static void encode_image(png_structp png, png_infop info, png_job *j, const fn_image *img)
{
    png_init_io(png, j->f);
    png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8,
                 img->c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->h; y++) png_write_row(png, fn_image_px(img, 0, y));
    png_write_end(png, info);
}

fn_status fn_image_save_png(const char *path, const fn_image *img)
{
    if (!path || !img || !img->data || img->w <= 0 || img->h <= 0 || (img->c != 1 && img->c != 3))
        return fn_fail(FN_ERR_ARG, "%s: cannot save an empty or non-RGB/gray image as PNG", path ? path : "png");
    png_job *j = calloc(1, sizeof *j);
    if (!j) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for the PNG encoder", path);
    j->f = fopen(path, "wb");
    if (!j->f) {
        fn_status s = fn_fail(FN_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        free(j);
        return s;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, j, job_error, job_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    fn_status s = FN_OK;
    if (!info) s = fn_fail(FN_ERR_NOMEM, "%s: out of memory for the PNG encoder", path);
    else if (setjmp(png_jmpbuf(png))) s = fn_fail(FN_ERR_IO, "%s: PNG write failed: %s", path, j->msg);
    else encode_image(png, info, j, img);
    png_destroy_write_struct(&png, &info);
    if (fclose(j->f) != 0 && s == FN_OK) s = fn_fail(FN_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    free(j);
    if (s != FN_OK) unlink(path);
    return s;
}
