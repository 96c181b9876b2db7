/* O-Net on 48x48 crops: conv3x3(3->32) PReLU maxpool3/2 conv3x3(32->64) PReLU
 * maxpool3/2 conv3x3(64->64) PReLU maxpool2/2 conv2x2(64->128) PReLU, dense
 * 1152->256 PReLU, heads: face probability (2, softmax), box regression (4)
 * and five landmarks (10: x1..x5, y1..y5, relative to the crop). */
#include <stdlib.h>

#include "core/error.h"
#include "models/mtcnn_layers.h"

#define O_FEAT 1152
#define O_HID 256
#define O_A (46 * 46 * 32)   /* conv1 out; conv2 (21x21x64), conv3 (8x8x64) reuse it */
#define O_B (23 * 23 * 32)   /* pool1 out; pool2 (10x10x64), pool3 (4x4x64) reuse it */

size_t fn_onet_packed_bytes(void)
{
    return fn_mn_layer_bytes(3, 32, 3) + fn_mn_layer_bytes(32, 64, 3) + fn_mn_layer_bytes(64, 64, 3) +
           fn_mn_layer_bytes(64, 128, 2) + fn_mn_layer_bytes(O_FEAT, O_HID, 0) + fn_mn_layer_bytes(O_HID, 16, 0);
}

fn_status fn_onet_pack(fn_onet *net, const fn_weights *w, fn_arena *a)
{
    static const char *const heads[] = {"dense6_1", "dense6_2", "dense6_3"};
    static const int couts[] = {2, 4, 10};
    int *perm = malloc(O_FEAT * sizeof(int));
    if (!perm) return fn_fail(FN_ERR_NOMEM, "onet: out of memory packing weights");
    fn_mn_whc_perm(perm, 3, 3, 128);
    fn_status st = fn_mn_pack_layer(&net->conv1, w, a, "conv1", "prelu1", 3, 32, 3, NULL);
    if (st == FN_OK) st = fn_mn_pack_layer(&net->conv2, w, a, "conv2", "prelu2", 32, 64, 3, NULL);
    if (st == FN_OK) st = fn_mn_pack_layer(&net->conv3, w, a, "conv3", "prelu3", 64, 64, 3, NULL);
    if (st == FN_OK) st = fn_mn_pack_layer(&net->conv4, w, a, "conv4", "prelu4", 64, 128, 2, NULL);
    if (st == FN_OK) st = fn_mn_pack_layer(&net->dense5, w, a, "dense5", "prelu5", O_FEAT, O_HID, 0, perm);
    if (st == FN_OK) st = fn_mn_pack_heads(&net->head, w, a, 3, heads, couts, O_HID, 0);
    free(perm);
    return st;
}

size_t fn_onet_chunk_floats(void)
{
    return (size_t)FN_MTCNN_CHUNK * (O_FEAT + O_HID) + O_A + O_B;
}

static void onet_features(const fn_onet *net, const float *crop, float *a, float *b, float *feat)
{
    fn_mn_conv_layer(&net->conv1, crop, 48, 48, 3, a);      /* 46x46x32 */
    fn_mn_pool_layer(a, 46, 46, 32, 3, 2, b);               /* 23x23x32 */
    fn_mn_conv_layer(&net->conv2, b, 23, 23, 32, a);        /* 21x21x64 */
    fn_mn_pool_layer(a, 21, 21, 64, 3, 2, b);               /* 10x10x64 */
    fn_mn_conv_layer(&net->conv3, b, 10, 10, 64, a);        /* 8x8x64 */
    fn_mn_pool_layer(a, 8, 8, 64, 2, 2, b);                 /* 4x4x64 */
    fn_mn_conv_layer(&net->conv4, b, 4, 4, 64, feat);       /* 3x3x128, NHWC flat */
}

void fn_onet_forward_chunk(const fn_onet *net, const float *crops, int n, float *out, float *work)
{
    float *feat = work, *hid = feat + FN_MTCNN_CHUNK * O_FEAT, *a = hid + FN_MTCNN_CHUNK * O_HID, *b = a + O_A;
    for (int i = 0; i < n; i++) onet_features(net, crops + (size_t)i * 48 * 48 * 3, a, b, feat + (size_t)i * O_FEAT);
    fn_mk_conv_row(&net->dense5, (const float *const *)&feat, O_FEAT, hid, n);
    fn_mk_conv_row(&net->head, (const float *const *)&hid, O_HID, out, n);
    for (int i = 0; i < n; i++) fn_mn_softmax2(out + (size_t)i * FN_MTCNN_HEAD);
}

size_t fn_onet_work_floats(int n, int nthreads)
{
    return (size_t)nthreads * fn_onet_chunk_floats();
}

static void onet_chunk(const void *net, const float *crops, int n, float *out, float *work)
{
    fn_onet_forward_chunk(net, crops, n, out, work);
}

void fn_onet_forward(const fn_onet *net, const float *crops, int n, float *out,
                     float *work, int nthreads)
{
    fn_mn_forward_chunks(onet_chunk, net, 48, fn_onet_chunk_floats(), crops, n, out, work, nthreads);
}

fn_status fn_onet_forward_ref(const fn_weights *w, const fn_tensor *in, float *out)
{
    int n = in->n;
    size_t big = (size_t)n * 32 * 46 * 46;
    float *a = malloc(big * sizeof(float)), *b = malloc(big * sizeof(float));
    float *hid = malloc((size_t)n * O_HID * sizeof(float)), *h16 = malloc((size_t)n * 16 * sizeof(float));
    fn_status st = (a && b && hid && h16) ? FN_OK : fn_fail(FN_ERR_NOMEM, "onet: out of memory (reference pass)");
    fn_tensor t1 = {0, 0, 0, 0, a}, t2 = {0, 0, 0, 0, b};
    if (st == FN_OK) st = fn_mn_ref_conv(w, "conv1", "prelu1", 32, 3, in, &t1);
    if (st == FN_OK) { fn_ref_maxpool2d(&t1, &t2, 3, 2, 0, 1); st = fn_mn_ref_conv(w, "conv2", "prelu2", 64, 3, &t2, &t1); }
    if (st == FN_OK) { fn_ref_maxpool2d(&t1, &t2, 3, 2, 0, 1); st = fn_mn_ref_conv(w, "conv3", "prelu3", 64, 3, &t2, &t1); }
    if (st == FN_OK) { fn_ref_maxpool2d(&t1, &t2, 2, 2, 0, 1); st = fn_mn_ref_conv(w, "conv4", "prelu4", 128, 2, &t2, &t1); }
    if (st == FN_OK) { fn_mn_ref_flatten_whc(&t1, b); st = fn_mn_ref_dense(w, "dense5", "prelu5", b, n, O_FEAT, O_HID, hid); }
    if (st == FN_OK) st = fn_mn_ref_dense(w, "dense6_1", NULL, hid, n, O_HID, 2, h16);
    if (st == FN_OK) st = fn_mn_ref_dense(w, "dense6_2", NULL, hid, n, O_HID, 4, h16 + 2 * n);
    if (st == FN_OK) st = fn_mn_ref_dense(w, "dense6_3", NULL, hid, n, O_HID, 10, h16 + 6 * n);
    if (st == FN_OK) {
        const float *parts[3] = {h16, h16 + 2 * n, h16 + 6 * n};
        static const int widths[3] = {2, 4, 10};
        fn_mn_ref_heads(parts, widths, 3, n, out);
    }
    free(a); free(b); free(hid); free(h16);
    return st;
}
