/* P-Net: conv3x3(3->10) PReLU maxpool2 conv3x3(10->16) PReLU conv3x3(16->32)
 * PReLU, then 1x1 heads: face probability (softmax of 2) and box regression
 * (4).  The fast pass streams rows through small ring buffers so that no
 * layer of a pyramid scale is ever held whole. */
#include <stdlib.h>

#include "core/error.h"
#include "models/mtcnn_layers.h"

size_t fn_pnet_packed_bytes(void)
{
    return fn_mn_layer_bytes(3, 10, 3) + fn_mn_layer_bytes(10, 16, 3) + fn_mn_layer_bytes(16, 32, 3) +
           fn_mn_layer_bytes(32, 6, 1);
}

fn_status fn_pnet_pack(fn_pnet *net, const fn_weights *w, fn_arena *a)
{
    static const char *const heads[] = {"conv4_1", "conv4_2"};
    static const int couts[] = {2, 4};
    FN_TRY(fn_mn_pack_layer(&net->conv1, w, a, "conv1", "prelu1", 3, 10, 3, NULL));
    FN_TRY(fn_mn_pack_layer(&net->conv2, w, a, "conv2", "prelu2", 10, 16, 3, NULL));
    FN_TRY(fn_mn_pack_layer(&net->conv3, w, a, "conv3", "prelu3", 16, 32, 3, NULL));
    return fn_mn_pack_heads(&net->head, w, a, 2, heads, couts, 32, 1);
}

/* conv1 -> pool(2, 2, ceil) -> conv2 -> conv3 */
static int pooled_dim(int in) { return in < 3 ? 0 : (in - 2 + 1) / 2; }

int fn_pnet_out_dim(int in)
{
    int p = pooled_dim(in);
    return p > 4 ? p - 4 : 0;
}

/* Ring buffers of one band: the last 4 input rows, 3 pooled rows, 3 conv2
 * rows; two conv1 rows feed each pooled row.  Sizes in floats. */
typedef struct pnet_ring {
    float *in[4], *c1[2], *pool[3], *c2[3], *c3, *head;
} pnet_ring;

static size_t ring_layout(int iw, float *base, pnet_ring *r)
{
    int pw = pooled_dim(iw);
    size_t sizes[14], off = 0;
    for (int i = 0; i < 4; i++) sizes[i] = (size_t)iw * 3;
    for (int i = 4; i < 6; i++) sizes[i] = (size_t)(iw - 2) * 16;
    for (int i = 6; i < 9; i++) sizes[i] = (size_t)pw * 16;
    for (int i = 9; i < 12; i++) sizes[i] = (size_t)(pw - 2) * 16;
    sizes[12] = (size_t)(pw - 4) * 32;
    sizes[13] = (size_t)(pw - 4) * FN_MTCNN_HEAD;
    float **slots[14] = {&r->in[0], &r->in[1], &r->in[2], &r->in[3], &r->c1[0], &r->c1[1],
                         &r->pool[0], &r->pool[1], &r->pool[2], &r->c2[0], &r->c2[1], &r->c2[2],
                         &r->c3, &r->head};
    for (int i = 0; i < 14; i++) {
        if (base) *slots[i] = base + off;
        off += (sizes[i] + 15) & ~(size_t)15;   /* keep every row 64-byte aligned */
    }
    return off;
}

size_t fn_pnet_scratch_floats(int iw)
{
    pnet_ring r;
    return iw < 12 ? 0 : ring_layout(iw, NULL, &r);
}

typedef struct band_state {
    const fn_pnet *net;
    int ih, iw, c1h, pw;
    int in_next, pool_next, c2_next;
    fn_pnet_src_fn src;
    void *src_ctx;
    pnet_ring r;
} band_state;

static void make_input_rows(band_state *b, int last)
{
    for (; b->in_next <= last && b->in_next < b->ih; b->in_next++)
        b->src(b->src_ctx, b->in_next, b->r.in[b->in_next & 3]);
}

/* Pooled row p = max over conv1 rows 2p and 2p+1 (the second may be past
 * the edge: ceil_mode keeps the partial window). */
static void make_pooled_row(band_state *b, int p)
{
    const fn_pnet *n = b->net;
    int nrows = 0;
    const float *c1rows[2];
    make_input_rows(b, 2 * p + 3);
    for (int j = 2 * p; j < 2 * p + 2 && j < b->c1h; j++) {
        const float *rows[3] = {b->r.in[j & 3], b->r.in[(j + 1) & 3], b->r.in[(j + 2) & 3]};
        fn_mk_conv_row(&n->conv1, rows, 3, b->r.c1[nrows], b->iw - 2);
        c1rows[nrows] = b->r.c1[nrows];
        nrows++;
    }
    fn_mk_maxpool_row(c1rows, nrows, b->iw - 2, 16, 2, 2, b->r.pool[p % 3], b->pw);
}

static void make_conv2_row(band_state *b, int q)
{
    for (; b->pool_next < q + 3; b->pool_next++) make_pooled_row(b, b->pool_next);
    const float *rows[3] = {b->r.pool[q % 3], b->r.pool[(q + 1) % 3], b->r.pool[(q + 2) % 3]};
    fn_mk_conv_row(&b->net->conv2, rows, 16, b->r.c2[q % 3], b->pw - 2);
}

void fn_pnet_band(const fn_pnet *net, int ih, int iw, int r0, int r1,
                  fn_pnet_src_fn src, void *src_ctx, fn_pnet_sink_fn sink, void *sink_ctx,
                  float *scratch)
{
    int oh = fn_pnet_out_dim(ih), ow = fn_pnet_out_dim(iw);
    if (r1 > oh) r1 = oh;
    if (ow <= 0 || r0 >= r1) return;
    band_state b = {.net = net, .ih = ih, .iw = iw, .c1h = ih - 2, .pw = pooled_dim(iw),
                    .in_next = 2 * r0, .pool_next = r0, .c2_next = r0, .src = src, .src_ctx = src_ctx};
    ring_layout(iw, scratch, &b.r);
    for (int r = r0; r < r1; r++) {
        for (; b.c2_next < r + 3; b.c2_next++) make_conv2_row(&b, b.c2_next);
        const float *rows[3] = {b.r.c2[r % 3], b.r.c2[(r + 1) % 3], b.r.c2[(r + 2) % 3]};
        fn_mk_conv_row(&net->conv3, rows, 16, b.r.c3, ow);
        const float *c3 = b.r.c3;
        fn_mk_conv_row(&net->head, &c3, 32, b.r.head, ow);
        for (int x = 0; x < ow; x++) fn_mn_softmax2(b.r.head + (size_t)x * FN_MTCNN_HEAD);
        sink(sink_ctx, r, b.r.head, ow);
    }
}

/* ---- reference ---- */

fn_status fn_pnet_forward_ref(const fn_weights *w, const fn_tensor *in, float *prob, float *reg)
{
    int h = in->h, wd = in->w, oh = fn_pnet_out_dim(h), ow = fn_pnet_out_dim(wd);
    if (oh <= 0 || ow <= 0) return fn_fail(FN_ERR_ARG, "pnet: input %dx%d is smaller than 12x12", wd, h);
    size_t big = (size_t)32 * h * wd;
    float *a = malloc(big * sizeof(float)), *b = malloc(big * sizeof(float));
    fn_status st = (a && b) ? FN_OK : fn_fail(FN_ERR_NOMEM, "pnet: out of memory (reference pass)");
    fn_tensor x = {1, 3, h, wd, in->data}, t1 = {0, 0, 0, 0, a}, t2 = {0, 0, 0, 0, b};
    if (st == FN_OK) st = fn_mn_ref_conv(w, "conv1", "prelu1", 10, 3, &x, &t1);
    if (st == FN_OK) { fn_ref_maxpool2d(&t1, &t2, 2, 2, 0, 1); st = fn_mn_ref_conv(w, "conv2", "prelu2", 16, 3, &t2, &t1); }
    if (st == FN_OK) st = fn_mn_ref_conv(w, "conv3", "prelu3", 32, 3, &t1, &t2);
    fn_tensor p = {0, 0, 0, 0, a}, r = {0, 0, 0, 0, reg};
    if (st == FN_OK) st = fn_mn_ref_conv(w, "conv4_1", NULL, 2, 1, &t2, &p);
    if (st == FN_OK) st = fn_mn_ref_conv(w, "conv4_2", NULL, 4, 1, &t2, &r);
    if (st == FN_OK) {
        fn_ref_softmax_channels(&p);
        for (int i = 0; i < oh * ow; i++) prob[i] = a[(size_t)oh * ow + i];
    }
    free(a);
    free(b);
    return st;
}
