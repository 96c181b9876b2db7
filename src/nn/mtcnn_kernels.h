/* mtcnn_kernels.h — the fast path of MTCNN's small networks.
 * Owns: channel-last (NHWC) direct convolution fused with bias and PReLU,
 * max pooling and weight packing, sized for MTCNN's tiny channel counts.
 * The plain-C reference these are tested against is src/nn/ref_kernels.c.
 */
#ifndef FN_NN_MTCNN_KERNELS_H
#define FN_NN_MTCNN_KERNELS_H

#include <stddef.h>

/* Output channels are padded to whole vectors of this many floats, so a
 * conv's output row is [ow][cout_pad] and padded channels are exactly 0. */
#define FN_MK_VEC 16

static inline int fn_mk_pad(int c) { return (c + FN_MK_VEC - 1) / FN_MK_VEC * FN_MK_VEC; }

typedef struct fn_mk_conv fn_mk_conv;
/* Computes output vectors [v0, v0+nv) (nv <= 4) of one row. */
typedef void (*fn_mk_row_fn)(const fn_mk_conv *c, const float *const *rows, int in_pix, float *out,
                             int ow, int v0, int nv);

/* A conv layer packed for the fast path: weights [ky][kx][ci][cout_pad],
 * bias and PReLU slope [cout_pad] (slope NULL: no activation), and the row
 * kernel for the instruction set of the CPU it was packed on. */
struct fn_mk_conv {
    int cin, cout, cout_pad, k;
    const float *w, *bias, *slope;
    fn_mk_row_fn row;
};

/* The row kernels this CPU can run, fastest first (the one packing picks),
 * with short names; returns how many.  For tests of every path. */
int fn_mk_row_kernels(fn_mk_row_fn *fns, const char **names, int max);

/* Floats the packed layer needs (weights + bias + slope), each 64-aligned. */
size_t fn_mk_conv_floats(int cin, int cout, int k);

/* Pack PyTorch OIHW weight, bias and slope into mem (fn_mk_conv_floats of
 * it, 64-byte aligned).  in_perm, if not NULL, maps a packed input index
 * (ky, kx, ci flattened) to the source's index: it is how a dense layer
 * takes its input in our NHWC order while keeping PyTorch's flatten order. */
void fn_mk_conv_pack(fn_mk_conv *c, float *mem, int cin, int cout, int k,
                     const float *w_oihw, const float *bias, const float *slope,
                     const int *in_perm);

/* One output row of a stride-1, unpadded conv + bias + PReLU.
 * rows[0..k-1] are the k input rows of this output row (so rows may live in
 * a ring buffer); pixels are in_pix floats apart, channels contiguous.
 * out gets ow pixels of c->cout_pad floats.  Every output value is computed
 * by the same sequence of operations wherever it sits in the row, so results
 * do not depend on how rows or images are split between threads. */
void fn_mk_conv_row(const fn_mk_conv *c, const float *const *rows, int in_pix,
                    float *out, int ow);

/* Max pool with PyTorch's ceil_mode=True, one output row: in_rows[0..nrows-1]
 * are the input rows of its window (fewer than k at the bottom edge), each
 * iw pixels of cp floats (cp a multiple of FN_MK_VEC). */
void fn_mk_maxpool_row(const float *const *in_rows, int nrows, int iw, int cp,
                       int k, int s, float *out, int ow);

#endif
