/* inception_resnet_v1.h — FaceNet's InceptionResnetV1 exactly as
 * facenet-pytorch defines it (160x160 RGB in, 512-d L2-normalised out).
 * Owns: binding the checkpoint's own tensor names, BatchNorm folded into
 * the convolutions, all parameters in one arena, and per-thread workspaces.
 * Does not read files (see src/io) nor crop faces (see src/align).
 */
#ifndef FN_MODELS_INCEPTION_RESNET_V1_H
#define FN_MODELS_INCEPTION_RESNET_V1_H

#include "facenet.h"
#include "io/weights.h"
#include "nn/nn.h"

#define FN_IRV1_SIZE 160      /* input height and width */
#define FN_IRV1_DIM 512       /* embedding length */

typedef struct fn_irv1 fn_irv1;

/* Build from a state_dict (facenet-pytorch key names, e.g.
 * "repeat_1.0.branch0.conv.weight"); copies what it needs, so w can be freed
 * afterwards.  A missing tensor or a wrong shape fails with FN_ERR_MODEL and
 * names the file and the tensor.  "logits.*" are optional (classify mode). */
fn_status fn_irv1_new(const fn_weights *w, fn_irv1 **out);
void fn_irv1_free(fn_irv1 *m);
/* Classes of the optional logits layer (0 if the checkpoint has none). */
int fn_irv1_num_classes(const fn_irv1 *m);

/* input: n x 3 x 160 x 160, NCHW, standardised as (x - 127.5) / 128.
 * emb: n x 512, L2-normalised.  logits: n x classes computed from last_bn's
 * output (before normalisation), or NULL.  Safe to call from several threads
 * on one model; each concurrent caller gets its own workspace (made on first
 * need, then reused: steady-state calls allocate nothing). */
fn_status fn_irv1_embed(fn_irv1 *m, const float *input_nchw, int n, float *emb, float *logits);

/* Debugging: called after each named layer (conv2d_1a, conv2d_2b,
 * maxpool_3a, conv2d_4b, repeat_1, mixed_6a, repeat_2, mixed_7a, repeat_3,
 * block8, avgpool_1a, last_linear, last_bn) with the activation of the
 * current chunk of the batch, in NCHW (avgpool_1a as n x 1792 x 1 x 1,
 * last_linear/last_bn as n x 512 x 1 x 1). */
typedef void (*fn_irv1_tap)(void *user, const char *layer, const fn_tensor *act);

/* As fn_irv1_embed, plus the tap (may be NULL).  If ref is non-NULL the
 * whole network runs on the plain-C reference kernels with the parameters
 * taken from ref (the same checkpoint), the oracle for the fast path. */
fn_status fn_irv1_embed_debug(fn_irv1 *m, const fn_weights *ref, const float *input_nchw, int n,
                              float *emb, float *logits, fn_irv1_tap tap, void *user);

#endif
