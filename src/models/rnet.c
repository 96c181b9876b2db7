/* R-Net on 24x24 crops: conv3x3(3->28) PReLU maxpool3/2 conv3x3(28->48) PReLU
 * maxpool3/2 conv2x2(48->64) PReLU, dense 576->128 PReLU, heads: face
 * probability (2, softmax) and box regression (4).  Crops are split between
 * threads; the dense layers then run over the whole batch. */
#include <stdlib.h>

#include "core/error.h"
#include "models/mtcnn_layers.h"

#define R_FEAT 576
#define R_HID 128
#define R_A (22 * 22 * 32)   /* conv1 out; conv2 out (9x9x48) reuses it */
#define R_B (11 * 11 * 32)   /* pool1 out; pool2 out (4x4x48) reuses it */

size_t fn_rnet_packed_bytes(void)
{
    return fn_mn_layer_bytes(3, 28, 3) + fn_mn_layer_bytes(28, 48, 3) + fn_mn_layer_bytes(48, 64, 2) +
           fn_mn_layer_bytes(R_FEAT, R_HID, 0) + fn_mn_layer_bytes(R_HID, 6, 0);
}

fn_status fn_rnet_pack(fn_rnet *net, const fn_weights *w, fn_arena *a)
{
    static const char *const heads[] = {"dense5_1", "dense5_2"};
    static const int couts[] = {2, 4};
    int perm[R_FEAT];
    fn_mn_whc_perm(perm, 3, 3, 64);
    FN_TRY(fn_mn_pack_layer(&net->conv1, w, a, "conv1", "prelu1", 3, 28, 3, NULL));
    FN_TRY(fn_mn_pack_layer(&net->conv2, w, a, "conv2", "prelu2", 28, 48, 3, NULL));
    FN_TRY(fn_mn_pack_layer(&net->conv3, w, a, "conv3", "prelu3", 48, 64, 2, NULL));
    FN_TRY(fn_mn_pack_layer(&net->dense4, w, a, "dense4", "prelu4", R_FEAT, R_HID, 0, perm));
    return fn_mn_pack_heads(&net->head, w, a, 2, heads, couts, R_HID, 0);
}

size_t fn_rnet_chunk_floats(void)
{
    return (size_t)FN_MTCNN_CHUNK * (R_FEAT + R_HID) + R_A + R_B;
}

static void rnet_features(const fn_rnet *net, const float *crop, float *a, float *b, float *feat)
{
    fn_mn_conv_layer(&net->conv1, crop, 24, 24, 3, a);      /* 22x22x32 */
    fn_mn_pool_layer(a, 22, 22, 32, 3, 2, b);               /* 11x11x32 */
    fn_mn_conv_layer(&net->conv2, b, 11, 11, 32, a);        /* 9x9x48 */
    fn_mn_pool_layer(a, 9, 9, 48, 3, 2, b);                 /* 4x4x48 */
    fn_mn_conv_layer(&net->conv3, b, 4, 4, 48, feat);       /* 3x3x64, NHWC flat */
}

void fn_rnet_forward_chunk(const fn_rnet *net, const float *crops, int n, float *out, float *work)
{
    float *feat = work, *hid = feat + FN_MTCNN_CHUNK * R_FEAT, *a = hid + FN_MTCNN_CHUNK * R_HID, *b = a + R_A;
    for (int i = 0; i < n; i++) rnet_features(net, crops + (size_t)i * 24 * 24 * 3, a, b, feat + (size_t)i * R_FEAT);
    /* the dense layers are 1x1 convs over a row of n "pixels" */
    fn_mk_conv_row(&net->dense4, (const float *const *)&feat, R_FEAT, hid, n);
    fn_mk_conv_row(&net->head, (const float *const *)&hid, R_HID, out, n);
    for (int i = 0; i < n; i++) fn_mn_softmax2(out + (size_t)i * FN_MTCNN_HEAD);
}

size_t fn_rnet_work_floats(int n, int nthreads)
{
    return (size_t)nthreads * fn_rnet_chunk_floats();
}

static void rnet_chunk(const void *net, const float *crops, int n, float *out, float *work)
{
    fn_rnet_forward_chunk(net, crops, n, out, work);
}

void fn_rnet_forward(const fn_rnet *net, const float *crops, int n, float *out,
                     float *work, int nthreads)
{
    fn_mn_forward_chunks(rnet_chunk, net, 24, fn_rnet_chunk_floats(), crops, n, out, work, nthreads);
}

fn_status fn_rnet_forward_ref(const fn_weights *w, const fn_tensor *in, float *out)
{
    int n = in->n;
    size_t big = (size_t)n * 28 * 22 * 22;
    float *a = malloc(big * sizeof(float)), *b = malloc(big * sizeof(float));
    float *hid = malloc((size_t)n * R_HID * sizeof(float)), *h6 = malloc((size_t)n * 6 * sizeof(float));
    fn_status st = (a && b && hid && h6) ? FN_OK : fn_fail(FN_ERR_NOMEM, "rnet: out of memory (reference pass)");
    fn_tensor t1 = {0, 0, 0, 0, a}, t2 = {0, 0, 0, 0, b};
    if (st == FN_OK) st = fn_mn_ref_conv(w, "conv1", "prelu1", 28, 3, in, &t1);
    if (st == FN_OK) { fn_ref_maxpool2d(&t1, &t2, 3, 2, 0, 1); st = fn_mn_ref_conv(w, "conv2", "prelu2", 48, 3, &t2, &t1); }
    if (st == FN_OK) { fn_ref_maxpool2d(&t1, &t2, 3, 2, 0, 1); st = fn_mn_ref_conv(w, "conv3", "prelu3", 64, 2, &t2, &t1); }
    if (st == FN_OK) { fn_mn_ref_flatten_whc(&t1, b); st = fn_mn_ref_dense(w, "dense4", "prelu4", b, n, R_FEAT, R_HID, hid); }
    if (st == FN_OK) st = fn_mn_ref_dense(w, "dense5_1", NULL, hid, n, R_HID, 2, h6);
    if (st == FN_OK) st = fn_mn_ref_dense(w, "dense5_2", NULL, hid, n, R_HID, 4, h6 + 2 * n);
    if (st == FN_OK) {
        const float *parts[2] = {h6, h6 + 2 * n};
        static const int widths[2] = {2, 4};
        fn_mn_ref_heads(parts, widths, 2, n, out);
    }
    free(a); free(b); free(hid); free(h6);
    return st;
}
