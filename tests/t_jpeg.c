/* t_jpeg.c — see t_jpeg.h. */
#include "t_jpeg.h"

#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

int t_jpeg_encode(const uint8_t *px, int w, int h, size_t stride, const t_jpeg_opts *o, uint8_t **out, size_t *n)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    unsigned char *buf = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&ci, &buf, &len);
    ci.image_width = (JDIMENSION)w, ci.image_height = (JDIMENSION)h;
    ci.input_components = o->comps;
    ci.in_color_space = o->comps == 1 ? JCS_GRAYSCALE : o->comps == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&ci);
    if (o->gray_out) jpeg_set_colorspace(&ci, JCS_GRAYSCALE);
    jpeg_set_quality(&ci, o->quality ? o->quality : 90, TRUE);
    if (o->full_chroma)
        for (int c = 0; c < ci.num_components; c++) ci.comp_info[c].h_samp_factor = ci.comp_info[c].v_samp_factor = 1;
    if (o->progressive) jpeg_simple_progression(&ci);
    if (o->restart_rows) ci.restart_in_rows = o->restart_rows;
    jpeg_start_compress(&ci, TRUE);
    for (int k = 0; k < o->napp1; k++) jpeg_write_marker(&ci, JPEG_APP0 + 1, o->app1[k], (unsigned)o->app1_len[k]);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW r = (JSAMPROW)(px + (size_t)ci.next_scanline * stride);
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    *out = buf;
    *n = len;
    return buf ? 0 : -1;
}

int t_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}
