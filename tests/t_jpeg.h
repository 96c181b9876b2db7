/* t_jpeg.h — test helpers that write the files tests feed the product:
 * JPEGs encoded in memory by libjpeg with the layout a test needs, and a
 * file written whole.  Not part of the library. */
#ifndef T_JPEG_H
#define T_JPEG_H

#include <stddef.h>
#include <stdint.h>

typedef struct t_jpeg_opts {
    int quality;         /* 1..100; 0 means 90 */
    int comps;           /* bytes per input pixel: 1 gray, 3 RGB, 4 CMYK (Adobe marker written) */
    int gray_out;        /* store one gray component (from RGB input) */
    int full_chroma;     /* 4:4:4: no chroma subsampling (keeps hand-checked colours exact) */
    int progressive;     /* libjpeg's simple progression */
    int restart_rows;    /* restart markers every N MCU rows (0: none) */
    const uint8_t *const *app1;  /* APP1 payloads written after SOI (EXIF), napp1 of them */
    const size_t *app1_len;
    int napp1;
} t_jpeg_opts;

/* Encodes h rows of w pixels (comps bytes each; rows stride bytes apart)
 * into *out (malloc'd, *n bytes).  0 on success. */
int t_jpeg_encode(const uint8_t *px, int w, int h, size_t stride, const t_jpeg_opts *o, uint8_t **out, size_t *n);
/* Writes n bytes to path (created or truncated); 0 on success. */
int t_write_file(const char *path, const void *p, size_t n);

#endif
