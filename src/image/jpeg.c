/* jpeg.c — JPEG decode (libjpeg-turbo) to RGB8 and JPEG encode.
 * libjpeg reports errors by calling exit() and warnings by printing; both are
 * rerouted here into fn_fail sentences through a setjmp error manager.
 * A file that lacks only its end marker (EOI) decodes, with a warning. */
#include "image/codec.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>

#include "core/error.h"

typedef struct jpeg_guard {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int truncated;
    int strict;         /* every warning is fatal (the EOI-repaired second pass) */
} jpeg_guard;

static void guard_error_exit(j_common_ptr ci)
{
    jpeg_guard *g = (jpeg_guard *)ci->err;
    ci->err->format_message(ci, g->msg);
    longjmp(g->jump, 1);
}

/* Warnings are silent, except a premature end of data: libjpeg would pad the
 * rest of the image with gray and carry on, which hides a truncated file. */
static void guard_emit_message(j_common_ptr ci, int level)
{
    jpeg_guard *g = (jpeg_guard *)ci->err;
    if (level >= 0) return;
    ci->err->num_warnings++;
    if (ci->err->msg_code == JWRN_JPEG_EOF || g->strict) {
        g->truncated = 1;
        ci->err->format_message(ci, g->msg);
        longjmp(g->jump, 1);
    }
}

static void guard_init(jpeg_guard *g)
{
    memset(g, 0, sizeof *g);
    jpeg_std_error(&g->mgr);
    g->mgr.error_exit = guard_error_exit;
    g->mgr.emit_message = guard_emit_message;
}

/* PIL reads 4-component JPEGs as Adobe-inverted CMYK ("CMYK;I") and converts
 * with R = (255-K) - (C*(255-K))/255 rounded; libjpeg hands us the stored,
 * inverted values c' = 255-C, k' = 255-K. */
static uint8_t cmyk_channel(unsigned c_inv, unsigned k_inv)
{
    unsigned c = 255 - c_inv, t = c * k_inv + 128;
    unsigned sub = ((t >> 8) + t) >> 8;
    return (uint8_t)(k_inv - sub);
}

static void convert_row(const uint8_t *src, int comps, int w, uint8_t *dst)
{
    for (int x = 0; x < w; x++, dst += 3) {
        if (comps == 1) {
            dst[0] = dst[1] = dst[2] = src[x];
        } else {
            const uint8_t *p = src + 4 * x;
            dst[0] = cmyk_channel(p[0], p[3]);
            dst[1] = cmyk_channel(p[1], p[3]);
            dst[2] = cmyk_channel(p[2], p[3]);
        }
    }
}

static int orientation_of(struct jpeg_decompress_struct *ci)
{
    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1) {
            int o = fn_exif_orientation(m->data, m->data_length);
            if (o != 1) return o;
        }
    return 1;
}

/* Everything touched after setjmp lives here, not in locals, so a longjmp
 * back leaves nothing in a stale register. */
typedef struct jpeg_job {
    struct jpeg_decompress_struct ci;
    jpeg_guard guard;
    uint8_t *row;
    int orientation;
    int min_side;        /* > 0: decode at the largest 1/2, 1/4, 1/8 keeping the longer side >= it */
    int full_w, full_h;  /* the stored size, before any reduction */
} jpeg_job;

/* One decode of buf; *truncated = 1 when it failed because the data ended. */
static fn_status decode_once(const uint8_t *buf, size_t len, const char *name, const fn_image_limits *lim,
                             int strict, int min_side, fn_image *out, int *orientation, int *truncated, int full[2]);

static fn_status decode_rows(jpeg_job *j, const char *name, const fn_image_limits *lim, fn_image *out)
{
    struct jpeg_decompress_struct *ci = &j->ci;
    jpeg_read_header(ci, TRUE);
    FN_TRY(fn_image_check_limits(name, (long)ci->image_width, (long)ci->image_height, lim));
    j->orientation = orientation_of(ci);
    j->full_w = (int)ci->image_width;
    j->full_h = (int)ci->image_height;
    if (j->min_side > 0) {   /* libjpeg's DCT scaling: output side = ceil(side x 1/denom) */
        unsigned side = ci->image_width > ci->image_height ? ci->image_width : ci->image_height;
        for (unsigned d = 8; d >= 2; d /= 2)
            if ((side + d - 1) / d >= (unsigned)j->min_side) {
                ci->scale_num = 1;
                ci->scale_denom = d;
                break;
            }
    }
    if (ci->jpeg_color_space == JCS_GRAYSCALE) ci->out_color_space = JCS_GRAYSCALE;
    else if (ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK) ci->out_color_space = JCS_CMYK;
    else ci->out_color_space = JCS_RGB;
    jpeg_start_decompress(ci);
    int w = (int)ci->output_width, comps = ci->output_components;
    FN_TRY(fn_image_alloc(out, w, (int)ci->output_height, 3));
    if (comps != 3) {
        j->row = malloc((size_t)w * comps);
        if (!j->row) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for a JPEG row", name);
    }
    while (ci->output_scanline < ci->output_height) {
        uint8_t *dst = fn_image_px(out, 0, (int)ci->output_scanline);
        JSAMPROW r = comps == 3 ? dst : j->row;
        if (jpeg_read_scanlines(ci, &r, 1) != 1)
            return fn_fail(FN_ERR_FORMAT, "%s: JPEG data ends early (truncated file)", name);
        if (comps != 3) convert_row(j->row, comps, w, dst);
    }
    jpeg_finish_decompress(ci);
    return FN_OK;
}

static fn_status decode_once(const uint8_t *buf, size_t len, const char *name, const fn_image_limits *lim,
                             int strict, int min_side, fn_image *out, int *orientation, int *truncated, int full[2])
{
    *truncated = 0;
    *orientation = 1;
    jpeg_job *j = calloc(1, sizeof *j);
    if (!j) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for the JPEG decoder", name);
    guard_init(&j->guard);
    j->guard.strict = strict;
    j->min_side = min_side;
    j->ci.err = &j->guard.mgr;
    fn_status s;
    if (setjmp(j->guard.jump)) {
        *truncated = j->guard.truncated || strict;
        s = *truncated ? fn_fail(FN_ERR_FORMAT, "%s: JPEG data ends early (truncated file)", name)
                       : fn_fail(FN_ERR_FORMAT, "%s: not a valid JPEG: %s", name, j->guard.msg);
    } else {
        jpeg_create_decompress(&j->ci);
        jpeg_mem_src(&j->ci, buf, (unsigned long)len);
        jpeg_save_markers(&j->ci, JPEG_APP0 + 1, 0xFFFF);
        s = decode_rows(j, name, lim, out);
    }
    jpeg_destroy_decompress(&j->ci);
    free(j->row);
    *orientation = j->orientation;
    full[0] = j->full_w;
    full[1] = j->full_h;
    free(j);
    if (s != FN_OK) fn_image_free(out);
    return s;
}

/* Ended early: is only the end marker missing?  Decode again with EOI
 * appended, now treating any warning (entropy data that runs out, a restart
 * marker not found) as truncation: success means every scan was complete,
 * as libjpeg, PIL and ImageMagick accept such files with a warning. */
static fn_status decode_without_eoi(const uint8_t *buf, size_t len, const char *name, const fn_image_limits *lim,
                                    int min_side, fn_image *out, int *orientation, int full[2])
{
    uint8_t *fixed = malloc(len + 2);
    if (!fixed) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for the JPEG decoder", name);
    memcpy(fixed, buf, len);
    fixed[len] = 0xFF, fixed[len + 1] = 0xD9;
    int truncated;
    fn_status s = decode_once(fixed, len + 2, name, lim, 1, min_side, out, orientation, &truncated, full);
    free(fixed);
    return s;
}

fn_status fn_jpeg_decode(const uint8_t *buf, size_t len, const char *name, const fn_image_limits *lim,
                         int min_side, fn_image *out, fn_image_notes *notes, int *full_w, int *full_h)
{
    int orientation = 1, truncated = 0, full[2] = {0, 0};
    fn_status s = decode_once(buf, len, name, lim, 0, min_side, out, &orientation, &truncated, full);
    if (s != FN_OK && truncated) {
        char first[512];
        snprintf(first, sizeof first, "%s", fn_last_error());
        s = decode_without_eoi(buf, len, name, lim, min_side, out, &orientation, full);
        if (s == FN_OK && notes)
            snprintf(notes->warning, sizeof notes->warning,
                     "%s: JPEG lacks its end marker (EOI); all image data is present and was used", name);
        if (s != FN_OK) s = fn_fail(FN_ERR_FORMAT, "%s", first);   /* deeper truncation: the first sentence */
    }
    if (s == FN_OK) s = fn_image_apply_orientation(out, orientation);
    if (s == FN_OK && notes) notes->orientation = orientation;
    int swap = orientation >= 5 && orientation <= 8;   /* transposed: the upright photo's sides swap */
    if (full_w) *full_w = s == FN_OK ? full[swap] : 0;
    if (full_h) *full_h = s == FN_OK ? full[!swap] : 0;
    if (s != FN_OK) fn_image_free(out);
    return s;
}

typedef struct jpeg_wjob {
    struct jpeg_compress_struct ci;
    jpeg_guard guard;
    FILE *f;
} jpeg_wjob;

static void encode_rows(jpeg_wjob *j, const fn_image *img, int quality)
{
    struct jpeg_compress_struct *ci = &j->ci;
    ci->image_width = (JDIMENSION)img->w;
    ci->image_height = (JDIMENSION)img->h;
    ci->input_components = img->c;
    ci->in_color_space = img->c == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(ci);
    jpeg_set_quality(ci, quality, TRUE);
    jpeg_start_compress(ci, TRUE);
    while (ci->next_scanline < ci->image_height) {
        JSAMPROW r = fn_image_px(img, 0, (int)ci->next_scanline);
        jpeg_write_scanlines(ci, &r, 1);
    }
    jpeg_finish_compress(ci);
}

fn_status fn_image_save_jpeg(const char *path, const fn_image *img, int quality)
{
    if (!path || !img || !img->data || img->w <= 0 || img->h <= 0 || (img->c != 1 && img->c != 3))
        return fn_fail(FN_ERR_ARG, "%s: cannot save an empty or non-RGB/gray image as JPEG", path ? path : "jpeg");
    if (quality < 1 || quality > 100)
        return fn_fail(FN_ERR_ARG, "%s: JPEG quality %d is outside 1..100", path, quality);
    jpeg_wjob *j = calloc(1, sizeof *j);
    if (!j) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for the JPEG encoder", path);
    j->f = fopen(path, "wb");
    if (!j->f) {
        fn_status s = fn_fail(FN_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        free(j);
        return s;
    }
    guard_init(&j->guard);
    j->ci.err = &j->guard.mgr;
    fn_status s = FN_OK;
    if (setjmp(j->guard.jump)) {
        s = fn_fail(FN_ERR_IO, "%s: JPEG encoding failed: %s", path, j->guard.msg);
    } else {
        jpeg_create_compress(&j->ci);
        jpeg_stdio_dest(&j->ci, j->f);
        encode_rows(j, img, quality);
    }
    jpeg_destroy_compress(&j->ci);
    if (fclose(j->f) != 0 && s == FN_OK) s = fn_fail(FN_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    free(j);
    if (s != FN_OK) unlink(path);
    return s;
}

/* libjpeg's memory destination grows its buffer with malloc; the caller
 * frees it (free). */
fn_status fn_image_encode_jpeg(const fn_image *img, int quality, unsigned char **out, size_t *len)
{
    if (!out || !len) return fn_fail(FN_ERR_ARG, "fn_image_encode_jpeg: output and length are required");
    *out = NULL;
    *len = 0;
    if (!img || !img->data || img->w <= 0 || img->h <= 0 || (img->c != 1 && img->c != 3))
        return fn_fail(FN_ERR_ARG, "fn_image_encode_jpeg: cannot encode an empty or non-RGB/gray image");
    if (quality < 1 || quality > 100) return fn_fail(FN_ERR_ARG, "fn_image_encode_jpeg: quality %d is outside 1..100", quality);
    jpeg_wjob *j = calloc(1, sizeof *j);
    if (!j) return fn_fail(FN_ERR_NOMEM, "fn_image_encode_jpeg: out of memory for the JPEG encoder");
    guard_init(&j->guard);
    j->ci.err = &j->guard.mgr;
    unsigned char *buf = NULL;
    unsigned long n = 0;
    fn_status s = FN_OK;
    if (setjmp(j->guard.jump)) {
        s = fn_fail(FN_ERR_INTERNAL, "fn_image_encode_jpeg: JPEG encoding failed: %s", j->guard.msg);
    } else {
        jpeg_create_compress(&j->ci);
        jpeg_mem_dest(&j->ci, &buf, &n);
        encode_rows(j, img, quality);
    }
    jpeg_destroy_compress(&j->ci);
    free(j);
    if (s != FN_OK) { free(buf); return s; }
    *out = buf;
    *len = n;
    return FN_OK;
}
