/* mtcnn_resample.h — torch.nn.functional.interpolate(mode="area") from RGB8.
 * Owns: MTCNN's input preparation — adaptive average pooling windows
 * (start = floor(i*in/out), end = ceil((i+1)*in/out)), the mean as torch
 * computes it (sum / kh / kw in float32) and the (x-127.5)/128 scaling.
 * Produces one output row at a time, so no scale is ever held whole.
 */
#ifndef FN_DETECT_MTCNN_RESAMPLE_H
#define FN_DETECT_MTCNN_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* A borrowed interleaved RGB8 image. */
typedef struct mt_rgb {
    const uint8_t *px;
    int w, h;
    size_t stride;   /* bytes between rows */
} mt_rgb;

/* Windows [lo[i], hi[i]) of output i of n over an input of length in. */
void fn_mt_area_windows(int in, int n, int *lo, int *hi);

/* uint32s of scratch fn_mt_area_row needs for windows spanning span columns
 * and ow outputs. */
size_t fn_mt_area_scratch(int span, int ow);

/* Output row of the area resampling of the image region whose columns start
 * at x0: source rows [ylo, yhi), column windows x0 + [xlo[j], xhi[j]) for
 * j < ow.  out gets ow x 3 normalised floats. */
void fn_mt_area_row(const mt_rgb *img, int x0, int ylo, int yhi, const int *xlo, const int *xhi,
                 int ow, uint32_t *scratch, float *out);

#endif
