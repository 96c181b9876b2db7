/* fast.h — the fast path: prepared layers on oneDNN and tuned C loops.
 * Owns: weights folded/reordered once at load, executable plans cached per
 * input shape, per-thread workspaces.  Every kernel here has a plain-C twin
 * in nn.h and is tested against it (tests/test_kernels.c).
 *
 * Threading.  An fn_nn (oneDNN engine) and every prepared layer (fn_conv)
 * are shared and may be used from many threads at once.  Each calling
 * thread brings its own fn_nn_ws (oneDNN stream + scratchpad), never shared
 * between concurrent calls.  A layer keeps its executable plans (primitive +
 * bound memory objects) per input shape; a call checks a plan out under a
 * short mutex, so two threads on the same shape get two plans (created once)
 * and steady-state calls allocate nothing.
 *
 * Layout.  fn_tensor keeps its logical dims (n, c, h, w); `layout` says how
 * data is laid out: FN_NCHW (PyTorch order, what reference kernels use) or
 * FN_NHWC (channels last; what oneDNN's fastest f32 convolutions use, and
 * what InceptionResnetV1 keeps internally).
 *
 * Typical use (a BasicConv2d = conv + BatchNorm + ReLU):
 *     fn_nn *nn;  fn_nn_new(&nn);
 *     fn_conv_spec s = {0};
 *     s.d = (fn_conv_desc){cin, cout, 3, 3, 1, 1, 1, 1, 1};
 *     s.weight = w_oihw;  s.bn_gamma = g; s.bn_beta = b; s.bn_mean = m;
 *     s.bn_var = v; s.bn_eps = 1e-3f;  s.act = FN_ACT_RELU;
 *     fn_conv *c;  fn_conv_new(nn, &s, NULL, &c);      (load time)
 *     fn_nn_ws *ws;  fn_nn_ws_new(nn, &ws);            (one per thread)
 *     fn_conv_out_shape(c, &in, &out);  ... out.data = buffer of that size
 *     fn_conv_run(c, ws, &in, &out);                   (hot path)
 */
#ifndef FN_NN_FAST_H
#define FN_NN_FAST_H

#include <stddef.h>
#include "core/arena.h"
#include "nn/nn.h"

typedef enum fn_layout { FN_NCHW = 0, FN_NHWC = 1 } fn_layout;
typedef enum fn_act { FN_ACT_NONE = 0, FN_ACT_RELU, FN_ACT_PRELU } fn_act;

/* ---- engine and per-thread workspace ---- */
typedef struct fn_nn fn_nn;
typedef struct fn_nn_ws fn_nn_ws;

fn_status fn_nn_new(fn_nn **out);
void fn_nn_free(fn_nn *nn);          /* after every layer and workspace made from it */
fn_status fn_nn_ws_new(fn_nn *nn, fn_nn_ws **out);
void fn_nn_ws_free(fn_nn_ws *ws);
/* Grow the scratchpad up front (optional: a run grows it on first need). */
fn_status fn_nn_ws_reserve(fn_nn_ws *ws, size_t bytes);

/* ---- prepared convolution ---- */
typedef struct fn_conv_spec {
    fn_conv_desc d;
    const float *weight;          /* OIHW, I = cin / groups (PyTorch layout) */
    const float *bias;            /* cout entries, or NULL */
    /* Optional eval-mode BatchNorm folded into weight/bias at creation;
     * bn_var non-NULL enables it (gamma/beta NULL mean 1/0). */
    const float *bn_gamma, *bn_beta, *bn_mean, *bn_var;
    float bn_eps;
    /* Multiplies conv + bias (after BN) before accumulate/activation, i.e.
     * the residual-branch scale of Inception-ResNet.  0 is treated as 1 so
     * that a zero-initialised spec means "no scaling". */
    float scale;
    /* out = act(scale * (conv(in) + bias) + out_old): the residual sum is
     * fused, and out must already hold the shortcut. */
    int accumulate;
    fn_act act;
    const float *prelu;           /* FN_ACT_PRELU: nprelu = cout or 1 slopes */
    int nprelu;
    fn_layout layout;             /* of the input and output tensors */
    int hint_n, hint_h, hint_w;   /* typical input shape used to choose the weight
                                     format (0 = 1 x 64 x 64); any shape still runs */
} fn_conv_spec;

typedef struct fn_conv fn_conv;

/* Bytes fn_conv_new will take from an arena for this spec (weights in
 * oneDNN's preferred format, bias, slopes), for sizing one arena up front. */
fn_status fn_conv_arena_bytes(fn_nn *nn, const fn_conv_spec *s, size_t *bytes);
/* Fold, reorder and keep the parameters (in `arena` if non-NULL, else in a
 * private allocation).  The spec's arrays can be freed afterwards. */
fn_status fn_conv_new(fn_nn *nn, const fn_conv_spec *s, fn_arena *arena, fn_conv **out);
/* Fill out->n/c/h/w for input `in` (data untouched). */
void fn_conv_out_shape(const fn_conv *c, const fn_tensor *in, fn_tensor *out);
/* Run on `in`; out->data must hold fn_conv_out_shape's numel (and the
 * shortcut when accumulating).  in and out must not overlap.  The first run
 * for a new input shape builds its plan (allocation); later runs do not. */
fn_status fn_conv_run(fn_conv *c, fn_nn_ws *ws, const fn_tensor *in, fn_tensor *out);
/* Build the plan for an input shape now (e.g. at load), so that the first
 * real call does no allocation. */
fn_status fn_conv_prepare(fn_conv *c, fn_nn_ws *ws, int n, int h, int w);
const fn_conv_desc *fn_conv_get_desc(const fn_conv *c);
/* oneDNN's implementation name for the last plan built, e.g. "brg:avx512_core". */
const char *fn_conv_impl_name(const fn_conv *c);
void fn_conv_free(fn_conv *c);

/* ---- element-wise and data-movement kernels (plain C, OpenMP, vectorisable) ---- */
/* Same semantics as the fn_ref_ twins in nn.h, in either layout. */
void fn_fast_maxpool2d(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode, fn_layout l);
void fn_fast_avgpool2d(const fn_tensor *in, fn_tensor *out, int k, int s, int pad, int ceil_mode, fn_layout l);
/* AdaptiveAvgPool2d(1): out[n][c]. */
void fn_fast_global_avgpool(const fn_tensor *in, float *out, fn_layout l);
void fn_fast_relu(float *x, size_t n);
void fn_fast_prelu(fn_tensor *x, const float *slope, int nslope, fn_layout l);
void fn_fast_softmax_channels(fn_tensor *x, fn_layout l);
/* x = x + scale * y, then ReLU if relu != 0. */
void fn_fast_scale_add(float *x, const float *y, float scale, size_t n, int relu);
void fn_fast_concat_channels(const fn_tensor *parts, int nparts, fn_tensor *out, fn_layout l);
/* out[n][m] = in[n][:] . w[m][:] + b[m]  (PyTorch Linear layout; b may be NULL). */
void fn_fast_linear(const float *in, int n, int k, const float *w, const float *b, int m, float *out);
/* Eval-mode BatchNorm1d over rows of length d, in place. */
void fn_fast_batchnorm1d(float *x, int rows, int d, const float *scale, const float *shift);
/* Layout changes; dims of the tensor are logical, data converted into out. */
void fn_nchw_to_nhwc(const fn_tensor *in, float *out);
void fn_nhwc_to_nchw(const fn_tensor *in, float *out);

#endif
