/* mtcnn_layers.h — layer helpers shared by pnet.c, rnet.c and onet.c.
 * Owns: binding a named conv/dense/PReLU from an fn_weights with shape
 * checks, whole-layer loops over the fast row kernels, and the reference
 * conv+PReLU(+pool) steps.  Private to src/models.
 */
#ifndef FN_MODELS_MTCNN_LAYERS_H
#define FN_MODELS_MTCNN_LAYERS_H

#include "models/mtcnn_nets.h"

/* Arena bytes of one packed layer. */
size_t fn_mn_layer_bytes(int cin, int cout, int k);

/* Pack conv "<name>.weight" [cout][cin][k][k] + ".bias" and PReLU
 * "<prelu>.weight" [cout] (prelu NULL: none).  k 0 means a Linear layer
 * [cout][cin]; in_perm as fn_mk_conv_pack. */
fn_status fn_mn_pack_layer(fn_mk_conv *c, const fn_weights *w, fn_arena *a, const char *name,
                        const char *prelu, int cin, int cout, int k, const int *in_perm);
/* Pack several 1x1-conv (k 1) or Linear (k 0) heads reading the same input
 * into one layer, their outputs side by side in the order given. */
fn_status fn_mn_pack_heads(fn_mk_conv *c, const fn_weights *w, fn_arena *a, int nheads,
                        const char *const *names, const int *couts, int cin, int k);
/* Index map for a Linear layer after facenet-pytorch's permute(0,3,2,1) +
 * flatten: our NHWC index (y*fw + x)*fc + c -> its (x*fh + y)*fc + c. */
void fn_mn_whc_perm(int *perm, int fh, int fw, int fc);

/* Fast whole layers over NHWC buffers (pixels in_pix floats apart). */
void fn_mn_conv_layer(const fn_mk_conv *c, const float *in, int ih, int iw, int in_pix, float *out);
/* Max pool k, stride s, ceil_mode; returns nothing, out dims via fn_out_dim. */
void fn_mn_pool_layer(const float *in, int ih, int iw, int cp, int k, int s, float *out);
/* Two-way softmax of head logits [0], [1] in place, as torch's softmax. */
void fn_mn_softmax2(float *head);
/* Run n crops (side x side x 3 each) through a chunk function in chunks of
 * FN_MTCNN_CHUNK shared by nthreads threads; thread t works in
 * work + t * chunk_floats.  A crop's result never depends on the split. */
typedef void (*mn_chunk_fn)(const void *net, const float *crops, int n, float *out, float *work);
void fn_mn_forward_chunks(mn_chunk_fn chunk, const void *net, int side, size_t chunk_floats, const float *crops, int n,
                       float *out, float *work, int nthreads);

/* Reference steps (NCHW).  out->data must hold the result; dims are set. */
fn_status fn_mn_ref_conv(const fn_weights *w, const char *name, const char *prelu, int cout, int k,
                      const fn_tensor *in, fn_tensor *out);
/* facenet-pytorch's permute(0,3,2,1) + flatten of an NCHW map: n x (w*h*c). */
void fn_mn_ref_flatten_whc(const fn_tensor *in, float *out);
fn_status fn_mn_ref_dense(const fn_weights *w, const char *name, const char *prelu,
                       const float *in, int n, int k, int m, float *out);
/* Lay reference head outputs (parts[i]: n x widths[i], the first being the
 * 2 logits) out as the fast path does: n x FN_MTCNN_HEAD, softmax applied. */
void fn_mn_ref_heads(const float *const *parts, const int *widths, int nparts, int n, float *out);

#endif
