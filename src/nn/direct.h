/* direct.h — convolutions on NHWC activations that need no preparation:
 * the weights are used in the layout the model file gives them (or one
 * transpose away), nothing is compiled or reordered at load.
 * Owns: the dense (k x k) and depthwise convolution loops of the one-image
 * path of small networks, where preparing oneDNN's primitives costs more
 * than the convolutions themselves: for a one-photo `identify`, preparing
 * MobileFaceNet's 52 oneDNN layers took ~25 ms of a ~120 ms command and one
 * face takes ~5 ms on them (docs/performance.md, "Start-up").  MobileFaceNet
 * runs its first faces here and moves to oneDNN once it has seen enough to
 * repay the preparation (src/models/mobilefacenet.c).
 *
 * Every function has a plain-C twin in nn.h (fn_ref_conv2d, fn_ref_prelu,
 * fn_ref_scale_add) and is tested against it (tests/test_kernels.c).
 * Vector code is chosen at run time (AVX-512, AVX2+FMA, baseline x86-64).
 * Pure functions of their arguments: any thread, no state.
 */
#ifndef FN_NN_DIRECT_H
#define FN_NN_DIRECT_H

#include "facenet/core.h"

/* Largest input width (channels) of a padded dense convolution: the zero row
 * that stands in for taps outside the image lives on the stack. */
#define FN_DCONV_MAX_PADDED_CIN 512

typedef struct fn_dconv {
    int cin, cout;        /* depthwise: cin == cout */
    int k, stride;        /* square kernel and stride */
    int depthwise;
    int pad_t, pad_l;     /* zeros before the first row / column; those after
                             follow from the sizes (TensorFlow SAME may be
                             asymmetric) */
    int in_h, in_w, out_h, out_w;
    /* dense: [k][k][cin][cout] (HWIO); depthwise: [k][k][c] (TFLite's
     * 1HWC).  Any alignment. */
    const float *w;
    const float *b;       /* cout biases, or NULL */
    const float *slope;   /* cout PReLU slopes (y = x < 0 ? slope * x : x), or NULL */
} fn_dconv;

/* FN_OK if fn_dconv_run can run c: cout (dense) a multiple of 32, k*k <= 49,
 * a padded dense input at most FN_DCONV_MAX_PADDED_CIN wide, sizes that
 * agree; else FN_ERR_ARG naming what is wrong. */
fn_status fn_dconv_check(const fn_dconv *c);

/* out = prelu(conv(in) + b) [+ shortcut], all NHWC for one image:
 * in in_h x in_w x cin, out and shortcut out_h x out_w x cout.  out must not
 * overlap in; shortcut may be NULL. */
void fn_dconv_run(const fn_dconv *c, const float *in, float *out, const float *shortcut);

#endif
