/* nn.h — tensors and the compute kernels every network is built from.
 * Owns: the NCHW float tensor type and the plain-C reference kernels
 * (ref_*.c), which are obviously correct and slow; the fast path lives
 * beside them and is tested against them.  Knows nothing of files or models.
 */
#ifndef FN_NN_H
#define FN_NN_H

#include <stddef.h>
#include "facenet.h"

/* Dense NCHW float32. data is borrowed unless a function says otherwise. */
typedef struct fn_tensor {
    int n, c, h, w;
    float *data;
} fn_tensor;

static inline size_t fn_tensor_numel(const fn_tensor *t) { return (size_t)t->n * t->c * t->h * t->w; }

/* Convolution geometry.  Weights are OIHW with I = cin / groups. */
typedef struct fn_conv_desc {
    int cin, cout;
    int kh, kw;
    int sh, sw;
    int ph, pw;      /* symmetric zero padding */
    int groups;      /* 1 = dense, cin = depthwise */
} fn_conv_desc;

/* Output size of a conv or pool along one axis (ceil_mode as PyTorch). */
int fn_out_dim(int in, int k, int s, int pad, int ceil_mode);

/* ---- reference kernels (src/nn/ref_kernels.c) ---- */
void fn_ref_conv2d(const fn_conv_desc *d, const float *weight, const float *bias,
                   const fn_tensor *in, fn_tensor *out);
/* Fold eval-mode BatchNorm into the preceding conv's weight [cout][per_out]
 * and bias (bias may start as zeros):  w' = w*g/sqrt(v+eps),
 * b' = (b-m)*g/sqrt(v+eps) + beta.  gamma NULL means 1 (affine=False). */
void fn_fold_batchnorm(float *weight, float *bias, int cout, size_t per_out,
                       const float *gamma, const float *beta,
                       const float *mean, const float *var, float eps);
void fn_ref_relu(float *x, size_t n);
/* Per-channel PReLU on NCHW (slope has c entries, or 1 shared). */
void fn_ref_prelu(fn_tensor *x, const float *slope, int nslope);
void fn_ref_maxpool2d(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode);
/* PyTorch AvgPool2d (count_include_pad=True). */
void fn_ref_avgpool2d(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode);
/* out[n][m] = sum_k in[n][k] * w[m][k] + b[m]  (PyTorch Linear layout). */
void fn_ref_linear(const float *in, int n, int k, const float *w, const float *b, int m, float *out);
/* Softmax over the channel axis of NCHW (what MTCNN's Softmax(dim=1) does). */
void fn_ref_softmax_channels(fn_tensor *x);
/* Row-wise L2 normalisation, rows of length d; eps as F.normalize (1e-12). */
void fn_ref_l2_normalize(float *x, int rows, int d);
/* x = x + scale * y, elementwise. */
void fn_ref_scale_add(float *x, const float *y, float scale, size_t n);
/* Concatenate along channels: out->c must equal the sum of parts' c. */
void fn_ref_concat_channels(const fn_tensor *parts, int nparts, fn_tensor *out);

#endif
