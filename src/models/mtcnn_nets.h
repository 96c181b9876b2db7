/* mtcnn_nets.h — MTCNN's three networks (P-Net, R-Net, O-Net) as code.
 * Owns: binding facenet-pytorch's tensor names from an fn_weights, the fast
 * NHWC forward passes and plain-C NCHW reference passes to test them by.
 * Knows nothing of images, pyramids or boxes (that is src/detect/mtcnn.c).
 */
#ifndef FN_MODELS_MTCNN_NETS_H
#define FN_MODELS_MTCNN_NETS_H

#include "core/arena.h"
#include "io/weights.h"
#include "nn/mtcnn_kernels.h"
#include "nn/nn.h"

/* Every head row is 16 floats: [0..1] softmax probabilities (no-face, face),
 * [2..5] box regression; O-Net adds [6..15] landmarks x1..x5, y1..y5. */
#define FN_MTCNN_HEAD 16

typedef struct fn_pnet { fn_mk_conv conv1, conv2, conv3, head; } fn_pnet;
typedef struct fn_rnet { fn_mk_conv conv1, conv2, conv3, dense4, head; } fn_rnet;
typedef struct fn_onet { fn_mk_conv conv1, conv2, conv3, conv4, dense5, head; } fn_onet;

/* Bytes of arena the packed weights take (for sizing one arena for all). */
size_t fn_pnet_packed_bytes(void);
size_t fn_rnet_packed_bytes(void);
size_t fn_onet_packed_bytes(void);

/* Check names and shapes in w and pack them into a (w may be freed after). */
fn_status fn_pnet_pack(fn_pnet *net, const fn_weights *w, fn_arena *a);
fn_status fn_rnet_pack(fn_rnet *net, const fn_weights *w, fn_arena *a);
fn_status fn_onet_pack(fn_onet *net, const fn_weights *w, fn_arena *a);

/* ---- P-Net: fully convolutional, streamed row by row ----
 * Output map of an ih x iw input is fn_pnet_out_dim(ih) x fn_pnet_out_dim(iw),
 * one cell per 12x12 window at stride 2. */
int fn_pnet_out_dim(int in);
/* Produces normalised input row y of the P-Net input: iw pixels x 3 floats. */
typedef void (*fn_pnet_src_fn)(void *ctx, int y, float *row);
/* Receives head row y: ow cells of FN_MTCNN_HEAD floats. */
typedef void (*fn_pnet_sink_fn)(void *ctx, int y, const float *head, int ow);
/* Floats of scratch fn_pnet_band needs for an input of width iw. */
size_t fn_pnet_scratch_floats(int iw);
/* Run P-Net for output rows [r0, r1), pulling only the input rows they need
 * (so a band costs O(width) memory, not the whole scale). */
void fn_pnet_band(const fn_pnet *net, int ih, int iw, int r0, int r1,
                  fn_pnet_src_fn src, void *src_ctx, fn_pnet_sink_fn sink, void *sink_ctx,
                  float *scratch);

/* ---- R-Net (24x24 crops) and O-Net (48x48 crops), batched ----
 * crops: n x S x S x 3 normalised floats (NHWC); out: n x FN_MTCNN_HEAD.
 * A chunk (up to FN_MTCNN_CHUNK crops) is what one thread runs at a time,
 * in fn_?net_chunk_floats() of work; a crop's result never depends on
 * which chunk or thread it ran in. */
#define FN_MTCNN_CHUNK 16
size_t fn_rnet_chunk_floats(void);
void fn_rnet_forward_chunk(const fn_rnet *net, const float *crops, int n, float *out, float *work);
size_t fn_onet_chunk_floats(void);
void fn_onet_forward_chunk(const fn_onet *net, const float *crops, int n, float *out, float *work);
/* Whole batches, chunks shared between nthreads threads; work holds
 * fn_?net_work_floats(n, nthreads) floats. */
size_t fn_rnet_work_floats(int n, int nthreads);
void fn_rnet_forward(const fn_rnet *net, const float *crops, int n, float *out,
                     float *work, int nthreads);
size_t fn_onet_work_floats(int n, int nthreads);
void fn_onet_forward(const fn_onet *net, const float *crops, int n, float *out,
                     float *work, int nthreads);

/* ---- reference passes: NCHW with src/nn reference kernels, straight
 * from the fn_weights tensors, as facenet-pytorch's modules compute them.
 * in: N x 3 x H x W normalised.  P-Net: prob (oh*ow) and reg (4 x oh*ow) of
 * image 0.  R/O-Net: out n x FN_MTCNN_HEAD as the fast path lays it out. */
fn_status fn_pnet_forward_ref(const fn_weights *w, const fn_tensor *in, float *prob, float *reg);
fn_status fn_rnet_forward_ref(const fn_weights *w, const fn_tensor *in, float *out);
fn_status fn_onet_forward_ref(const fn_weights *w, const fn_tensor *in, float *out);

#endif
