/* mobilefacenet.h — MobileFaceNet (the bundle's MobileFaceNet.tflite) as C code.
 * Owns: the network's structure, its parameters (bound by TFLite tensor name,
 * converted to OIHW once at load; the converter already folded BatchNorm)
 * and its activation buffers.  Never parses files: give it fn_weights.
 */
#ifndef FN_MODELS_MOBILEFACENET_H
#define FN_MODELS_MOBILEFACENET_H

#include <stdint.h>
#include "facenet.h"
#include "io/weights.h"

#define FN_MFN_SIZE 112     /* input is FN_MFN_SIZE x FN_MFN_SIZE RGB */
#define FN_MFN_DIM 192      /* embedding length */
#define FN_MFN_LAYERS 52    /* convolutions, in graph order */

typedef struct fn_mfn fn_mfn;

/* One convolution of the network as the TFLite graph has it. */
typedef struct fn_mfn_layer {
    char weight[80], bias[96], slope[96];  /* TFLite tensor names; slope "" = no PReLU */
    int depthwise;
    int cin, cout, k, stride;
    int same;         /* TFLite SAME padding (may be asymmetric), else VALID */
    int residual;     /* the block input is added to this layer's output */
} fn_mfn_layer;

/* Bind and convert the parameters; w may be freed afterwards.  A missing
 * tensor or wrong shape is FN_ERR_MODEL naming the file and tensor. */
fn_status fn_mfn_new(const fn_weights *w, fn_mfn **out);
/* input: n x 3 x 112 x 112 NCHW, RGB, standardised (x - 127.5) / 128
 * (fn_mfn_standardize).  emb: n x 192, L2-normalised.  Not reentrant on
 * one handle: use one handle per thread.
 * The first FN_MFN_DIRECT_FACES faces run on direct kernels
 * (src/nn/direct.h), which need no preparation; when more come the handle
 * prepares oneDNN's plan once and uses it from then on (or stays direct
 * when oneDNN cannot be loaded).  A one-photo command never pays for
 * oneDNN; a bulk job or a server pays once. */
#define FN_MFN_DIRECT_FACES 32
fn_status fn_mfn_embed(fn_mfn *m, const float *input, int n, float *emb);

/* Which plan fn_mfn_embed uses, for tests and benchmarks: AUTO (the rule
 * above), DIRECT always, ONEDNN always (prepared now; FN_ERR_UNSUPPORTED
 * without oneDNN). */
typedef enum fn_mfn_plan { FN_MFN_AUTO = 0, FN_MFN_DIRECT, FN_MFN_ONEDNN } fn_mfn_plan;
fn_status fn_mfn_set_plan(fn_mfn *m, fn_mfn_plan plan);
/* 1 once the oneDNN plan is built (and used unless the plan is DIRECT). */
int fn_mfn_uses_onednn(const fn_mfn *m);
/* The same through the plain-C reference kernels, and without the final
 * L2 normalisation when raw != 0 (what the .tflite outputs). */
fn_status fn_mfn_embed_ref(fn_mfn *m, const float *input, int n, float *emb, int raw);
void fn_mfn_free(fn_mfn *m);

/* 112x112 interleaved RGB bytes (row stride in bytes) -> one standardised
 * NCHW input.  Pass bgr != 0 for BGR bytes: the network expects RGB. */
void fn_mfn_standardize(const uint8_t *pixels, int stride, int bgr, float *out);

/* The network's convolutions in graph order, for checking against a
 * TFLite graph (tests/test_mobilefacenet.c does). */
void fn_mfn_describe(fn_mfn_layer layers[FN_MFN_LAYERS]);

#endif
