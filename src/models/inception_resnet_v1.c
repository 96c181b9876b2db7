/* InceptionResnetV1 as facenet-pytorch builds it.  The network is written
 * once, in forward(): the same function sizes the arena, binds and prepares
 * the weights, and runs on either the fast kernels (NHWC) or the reference
 * kernels (NCHW), so the structure cannot drift between those uses. */
#include "models/inception_resnet_v1.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/error.h"
#include "nn/fast.h"

#define CHUNK 16            /* images per pass: bounds workspace memory */
#define SPLIT_CHUNK 4       /* images per pass when each thread runs its own share */
#define SPLIT_MAX 64        /* threads a batch is split across, at most */
#define BN_EPS 1e-3f        /* BasicConv2d and last_bn both use eps=0.001 */
#define FEAT 1792

/* Activation buffers of a workspace (sizes found by the sizing pass). */
enum { BUF_IN, BUF_A, BUF_B, BUF_T0, BUF_T1, BUF_T2, BUF_T3, BUF_FEAT, BUF_LIN, NBUF };

typedef struct layer {
    char name[40];          /* checkpoint prefix, e.g. "repeat_2.3.branch1.1" */
    fn_conv *fast;
} layer;

typedef struct irv1_ws {
    fn_nn_ws *nn;
    int cap;                /* images the buffers hold */
    float *buf[NBUF];
    struct irv1_ws *next;
} irv1_ws;

struct fn_irv1 {
    fn_nn *nn;
    fn_arena arena;
    char path[256];
    layer *layers;
    int nlayers;
    size_t need[NBUF];      /* floats per image */
    float *lin_w;           /* last_linear, 512 x 1792 */
    float *bn_scale, *bn_shift;   /* last_bn folded to y = x*scale + shift */
    float *logits_w, *logits_b;
    int classes;
    pthread_mutex_t lock;
    irv1_ws *idle;          /* workspaces not in use */
};

typedef enum { M_SIZE, M_BUILD, M_FAST, M_REF } mode;

typedef struct exec {
    mode mode;
    fn_irv1 *m;
    const fn_weights *w;    /* SIZE/BUILD: the checkpoint; REF: parameters */
    irv1_ws *ws;
    int n;                  /* images in this pass */
    int li;                 /* next layer */
    size_t arena_bytes;
    fn_irv1_tap tap;
    void *user;
    fn_status st;           /* first failure; later steps do nothing */
} exec;

static int running(const exec *e) { return e->st == FN_OK && (e->mode == M_FAST || e->mode == M_REF); }
static fn_layout layout(const exec *e) { return e->mode == M_FAST ? FN_NHWC : FN_NCHW; }

/* A tensor in buffer b; the sizing pass records how big b must be. */
static fn_tensor at(exec *e, int b, int c, int h, int w)
{
    size_t per = (size_t)c * h * w;
    if (e->mode == M_SIZE && per > e->m->need[b]) e->m->need[b] = per;
    if (running(e) && per > e->m->need[b])
        e->st = fn_fail(FN_ERR_INTERNAL, "InceptionResnetV1: buffer %d too small for %dx%dx%d", b, c, h, w);
    fn_tensor t = {e->n, c, h, w, e->ws ? e->ws->buf[b] : NULL};
    return t;
}

static void tap(exec *e, const char *name, const fn_tensor *t)
{
    if (!running(e) || !e->tap) return;
    if (layout(e) == FN_NCHW || (t->h == 1 && t->w == 1)) { e->tap(e->user, name, t); return; }
    fn_tensor c = *t;
    c.data = malloc(fn_tensor_numel(t) * sizeof(float));   /* debug only */
    if (!c.data) { e->st = fn_fail(FN_ERR_NOMEM, "InceptionResnetV1: out of memory for a debug tap"); return; }
    fn_nhwc_to_nchw(t, c.data);
    e->tap(e->user, name, &c);
    free(c.data);
}

/* ---- parameters ---- */

static fn_status get(const exec *e, const char *name, int ndim, const int64_t *shape, const fn_wtensor **out)
{
    fn_status st = fn_weights_get(e->w, name, ndim, shape, out);
    if (st != FN_OK) return fn_fail_prefix(FN_ERR_MODEL, "InceptionResnetV1");
    return FN_OK;
}

/* Fills a conv spec from the checkpoint: BasicConv2d (conv without bias,
 * BatchNorm, ReLU) or the residual up-projection (conv with bias, scaled,
 * added to the shortcut, optional ReLU). */
static fn_status spec_from(const exec *e, const char *prefix, int basic, const fn_conv_desc *d,
                           float scale, int relu, fn_conv_spec *s)
{
    char key[96];
    const fn_wtensor *t;
    int64_t wshape[4] = {d->cout, d->cin, d->kh, d->kw}, vshape[1] = {d->cout};
    memset(s, 0, sizeof *s);
    s->d = *d;
    s->layout = FN_NHWC;
    snprintf(key, sizeof key, basic ? "%s.conv.weight" : "%s.weight", prefix);
    FN_TRY(get(e, key, 4, wshape, &t));
    s->weight = t->data;
    if (basic) {
        const float **dst[4] = {&s->bn_gamma, &s->bn_beta, &s->bn_mean, &s->bn_var};
        const char *part[4] = {"weight", "bias", "running_mean", "running_var"};
        for (int i = 0; i < 4; i++) {
            snprintf(key, sizeof key, "%s.bn.%s", prefix, part[i]);
            FN_TRY(get(e, key, 1, vshape, &t));
            *dst[i] = t->data;
        }
        s->bn_eps = BN_EPS;
        s->act = FN_ACT_RELU;
    } else {
        snprintf(key, sizeof key, "%s.bias", prefix);
        FN_TRY(get(e, key, 1, vshape, &t));
        s->bias = t->data;
        s->scale = scale;
        s->accumulate = 1;
        s->act = relu ? FN_ACT_RELU : FN_ACT_NONE;
    }
    return FN_OK;
}

/* Reference path: fold on a copy and run the plain-C kernels. */
static fn_status ref_conv(const exec *e, const fn_conv_spec *s, const fn_tensor *in, fn_tensor *out)
{
    const fn_conv_desc *d = &s->d;
    size_t per_out = (size_t)d->cin * d->kh * d->kw;
    float *w = malloc((size_t)d->cout * per_out * sizeof(float)), *b = calloc((size_t)d->cout, sizeof(float));
    if (!w || !b) { free(w); free(b); return fn_fail(FN_ERR_NOMEM, "InceptionResnetV1: out of memory (reference path)"); }
    memcpy(w, s->weight, (size_t)d->cout * per_out * sizeof(float));
    if (s->bias) memcpy(b, s->bias, (size_t)d->cout * sizeof(float));
    if (s->bn_var) fn_fold_batchnorm(w, b, d->cout, per_out, s->bn_gamma, s->bn_beta, s->bn_mean, s->bn_var, s->bn_eps);
    fn_ref_conv2d(d, w, b, in, out);
    free(w);
    free(b);
    return FN_OK;
}

/* One convolution layer in whatever the current mode asks. */
static void conv_layer(exec *e, const char *prefix, int basic, const fn_tensor *in, int cout, int kh, int kw,
                       int s, int ph, int pw, float scale, int relu, fn_tensor *out, int tmp_buf)
{
    if (e->st != FN_OK) return;
    fn_conv_desc d = {in->c, cout, kh, kw, s, s, ph, pw, 1};
    fn_conv_spec spec;
    int li = e->li++;
    if (e->mode == M_SIZE || e->mode == M_BUILD || e->mode == M_REF) {
        e->st = spec_from(e, prefix, basic, &d, scale, relu, &spec);
        if (e->st != FN_OK) return;
        spec.hint_n = 1; spec.hint_h = in->h; spec.hint_w = in->w;
    }
    if (e->mode == M_SIZE) {
        size_t bytes = 0;
        e->st = fn_conv_arena_bytes(e->m->nn, &spec, &bytes);
        e->arena_bytes += bytes;
    } else if (e->mode == M_BUILD) {
        layer *L = &e->m->layers[li];
        snprintf(L->name, sizeof L->name, "%s", prefix);
        e->st = fn_conv_new(e->m->nn, &spec, &e->m->arena, &L->fast);
        if (e->st != FN_OK) e->st = fn_fail_prefix(e->st, "InceptionResnetV1 layer %s", prefix);
    } else if (e->mode == M_FAST) {
        e->st = fn_conv_run(e->m->layers[li].fast, e->ws->nn, in, out);
    } else if (basic) {
        e->st = ref_conv(e, &spec, in, out);
        if (e->st == FN_OK) fn_ref_relu(out->data, fn_tensor_numel(out));
    } else {
        fn_tensor y = at(e, tmp_buf, out->c, out->h, out->w);
        e->st = ref_conv(e, &spec, in, &y);
        if (e->st == FN_OK) {
            fn_ref_scale_add(out->data, y.data, scale, fn_tensor_numel(out));
            if (relu) fn_ref_relu(out->data, fn_tensor_numel(out));
        }
    }
}

/* BasicConv2d: output shape follows from the geometry. */
static fn_tensor basic(exec *e, const char *prefix, const fn_tensor *in, int cout, int kh, int kw,
                       int s, int ph, int pw, int out_buf)
{
    fn_tensor out = at(e, out_buf, cout, fn_out_dim(in->h, kh, s, ph, 0), fn_out_dim(in->w, kw, s, pw, 0));
    conv_layer(e, prefix, 1, in, cout, kh, kw, s, ph, pw, 0.0f, 1, &out, 0);
    return out;
}

/* x = act(x + scale * conv2d(cat)); tmp_buf holds the branch on the reference path. */
static void residual(exec *e, const char *prefix, const fn_tensor *cat, fn_tensor *x, float scale, int relu, int tmp_buf)
{
    conv_layer(e, prefix, 0, cat, x->c, 1, 1, 1, 0, 0, scale, relu, x, tmp_buf);
}

static fn_tensor maxpool(exec *e, const fn_tensor *in, int out_buf)
{
    fn_tensor out = at(e, out_buf, in->c, fn_out_dim(in->h, 3, 2, 0, 0), fn_out_dim(in->w, 3, 2, 0, 0));
    if (!running(e)) return out;
    if (e->mode == M_FAST) fn_fast_maxpool2d(in, &out, 3, 2, 0, 0, FN_NHWC);
    else fn_ref_maxpool2d(in, &out, 3, 2, 0, 0);
    return out;
}

static fn_tensor concat(exec *e, const fn_tensor *parts, int nparts, int out_buf)
{
    int c = 0;
    for (int i = 0; i < nparts; i++) c += parts[i].c;
    fn_tensor out = at(e, out_buf, c, parts[0].h, parts[0].w);
    if (!running(e)) return out;
    if (e->mode == M_FAST) fn_fast_concat_channels(parts, nparts, &out, FN_NHWC);
    else fn_ref_concat_channels(parts, nparts, &out);
    return out;
}

/* ---- blocks ---- */

static char *name(char *buf, const char *fmt, const char *block, const char *rest)
{
    snprintf(buf, 40, fmt, block, rest);
    return buf;
}

#define N(rest) name(nb, "%s.%s", blk, rest)

/* Block35 on x (256 x 17 x 17) in BUF_A. */
static void block35(exec *e, const char *blk, fn_tensor *x)
{
    char nb[40];
    fn_tensor p[3], t;
    p[0] = basic(e, N("branch0"), x, 32, 1, 1, 1, 0, 0, BUF_T0);
    t = basic(e, N("branch1.0"), x, 32, 1, 1, 1, 0, 0, BUF_T3);
    p[1] = basic(e, N("branch1.1"), &t, 32, 3, 3, 1, 1, 1, BUF_T1);
    t = basic(e, N("branch2.0"), x, 32, 1, 1, 1, 0, 0, BUF_T3);
    t = basic(e, N("branch2.1"), &t, 32, 3, 3, 1, 1, 1, BUF_B);
    p[2] = basic(e, N("branch2.2"), &t, 32, 3, 3, 1, 1, 1, BUF_T2);
    fn_tensor cat = concat(e, p, 3, BUF_T3);
    residual(e, N("conv2d"), &cat, x, 0.17f, 1, BUF_B);
}

/* Block17 on x (896 x 8 x 8) in BUF_B. */
static void block17(exec *e, const char *blk, fn_tensor *x)
{
    char nb[40];
    fn_tensor p[2], t;
    p[0] = basic(e, N("branch0"), x, 128, 1, 1, 1, 0, 0, BUF_T0);
    t = basic(e, N("branch1.0"), x, 128, 1, 1, 1, 0, 0, BUF_T1);
    t = basic(e, N("branch1.1"), &t, 128, 1, 7, 1, 0, 3, BUF_T2);
    p[1] = basic(e, N("branch1.2"), &t, 128, 7, 1, 1, 3, 0, BUF_T3);
    fn_tensor cat = concat(e, p, 2, BUF_T1);
    residual(e, N("conv2d"), &cat, x, 0.10f, 1, BUF_A);
}

/* Block8 on x (1792 x 3 x 3) in BUF_A. */
static void block8(exec *e, const char *blk, fn_tensor *x, float scale, int relu)
{
    char nb[40];
    fn_tensor p[2], t;
    p[0] = basic(e, N("branch0"), x, 192, 1, 1, 1, 0, 0, BUF_T0);
    t = basic(e, N("branch1.0"), x, 192, 1, 1, 1, 0, 0, BUF_T1);
    t = basic(e, N("branch1.1"), &t, 192, 1, 3, 1, 0, 1, BUF_T2);
    p[1] = basic(e, N("branch1.2"), &t, 192, 3, 1, 1, 1, 0, BUF_T3);
    fn_tensor cat = concat(e, p, 2, BUF_T1);
    residual(e, N("conv2d"), &cat, x, scale, relu, BUF_B);
}

/* 256 x 17 x 17 in BUF_A -> 896 x 8 x 8 in BUF_B */
static fn_tensor mixed_6a(exec *e, const fn_tensor *x)
{
    fn_tensor p[3], t;
    p[0] = basic(e, "mixed_6a.branch0", x, 384, 3, 3, 2, 0, 0, BUF_T0);
    t = basic(e, "mixed_6a.branch1.0", x, 192, 1, 1, 1, 0, 0, BUF_T1);
    t = basic(e, "mixed_6a.branch1.1", &t, 192, 3, 3, 1, 1, 1, BUF_T2);
    p[1] = basic(e, "mixed_6a.branch1.2", &t, 256, 3, 3, 2, 0, 0, BUF_T3);
    p[2] = maxpool(e, x, BUF_T1);
    return concat(e, p, 3, BUF_B);
}

/* 896 x 8 x 8 in BUF_B -> 1792 x 3 x 3 in BUF_A */
static fn_tensor mixed_7a(exec *e, const fn_tensor *x)
{
    fn_tensor p[4], t;
    t = basic(e, "mixed_7a.branch0.0", x, 256, 1, 1, 1, 0, 0, BUF_T0);
    p[0] = basic(e, "mixed_7a.branch0.1", &t, 384, 3, 3, 2, 0, 0, BUF_T1);
    t = basic(e, "mixed_7a.branch1.0", x, 256, 1, 1, 1, 0, 0, BUF_T0);
    p[1] = basic(e, "mixed_7a.branch1.1", &t, 256, 3, 3, 2, 0, 0, BUF_T2);
    t = basic(e, "mixed_7a.branch2.0", x, 256, 1, 1, 1, 0, 0, BUF_T0);
    t = basic(e, "mixed_7a.branch2.1", &t, 256, 3, 3, 1, 1, 1, BUF_T3);
    p[2] = basic(e, "mixed_7a.branch2.2", &t, 256, 3, 3, 2, 0, 0, BUF_T0);
    p[3] = maxpool(e, x, BUF_T3);
    return concat(e, p, 4, BUF_A);
}

/* ---- the head: pool, last_linear, last_bn, logits, normalise ---- */

static fn_status head_params(exec *e)
{
    const fn_wtensor *lin, *bn[4], *lw = NULL, *lb = NULL;
    int64_t lshape[2] = {FN_IRV1_DIM, FEAT}, vshape[1] = {FN_IRV1_DIM};
    const char *part[4] = {"last_bn.weight", "last_bn.bias", "last_bn.running_mean", "last_bn.running_var"};
    FN_TRY(get(e, "last_linear.weight", 2, lshape, &lin));
    for (int i = 0; i < 4; i++) FN_TRY(get(e, part[i], 1, vshape, &bn[i]));
    const fn_wtensor *probe = fn_weights_find(e->w, "logits.weight");
    int classes = 0;
    if (probe) {
        classes = probe->ndim == 2 ? (int)probe->shape[0] : 0;
        int64_t ws[2] = {classes, FN_IRV1_DIM}, bs[1] = {classes};
        FN_TRY(get(e, "logits.weight", 2, ws, &lw));
        FN_TRY(get(e, "logits.bias", 1, bs, &lb));
    }
    if (e->mode == M_REF) return FN_OK;   /* checked only: the reference reads them in place */
    size_t lin_b = (size_t)FN_IRV1_DIM * FEAT * sizeof(float), vb = FN_IRV1_DIM * sizeof(float);
    size_t lw_b = (size_t)classes * FN_IRV1_DIM * sizeof(float), lb_b = (size_t)classes * sizeof(float);
    if (e->mode == M_SIZE) {
        e->arena_bytes += fn_arena_round(lin_b) + 2 * fn_arena_round(vb) + fn_arena_round(lw_b) + fn_arena_round(lb_b);
        return FN_OK;
    }
    fn_irv1 *m = e->m;
    m->lin_w = fn_arena_alloc(&m->arena, lin_b);
    m->bn_scale = fn_arena_alloc(&m->arena, vb);
    m->bn_shift = fn_arena_alloc(&m->arena, vb);
    if (classes) {
        m->logits_w = fn_arena_alloc(&m->arena, lw_b);
        m->logits_b = fn_arena_alloc(&m->arena, lb_b);
    }
    if (!m->lin_w || !m->bn_scale || !m->bn_shift || (classes && (!m->logits_w || !m->logits_b)))
        return fn_fail(FN_ERR_INTERNAL, "InceptionResnetV1: arena sized too small");
    memcpy(m->lin_w, lin->data, lin_b);
    for (int i = 0; i < FN_IRV1_DIM; i++) {
        double inv = 1.0 / sqrt((double)bn[3]->data[i] + BN_EPS);
        m->bn_scale[i] = (float)(bn[0]->data[i] * inv);
        m->bn_shift[i] = (float)(bn[1]->data[i] - bn[2]->data[i] * bn[0]->data[i] * inv);
    }
    if (classes) {
        memcpy(m->logits_w, lw->data, lw_b);
        memcpy(m->logits_b, lb->data, lb_b);
    }
    m->classes = classes;
    return FN_OK;
}

/* Reference BatchNorm1d straight from the checkpoint's statistics. */
static void ref_bn1d(const exec *e, float *x)
{
    const fn_wtensor *g = fn_weights_find(e->w, "last_bn.weight"), *b = fn_weights_find(e->w, "last_bn.bias");
    const fn_wtensor *mu = fn_weights_find(e->w, "last_bn.running_mean"), *v = fn_weights_find(e->w, "last_bn.running_var");
    for (int r = 0; r < e->n; r++)
        for (int i = 0; i < FN_IRV1_DIM; i++) {
            float *p = x + (size_t)r * FN_IRV1_DIM + i;
            *p = (float)(((double)*p - mu->data[i]) / sqrt((double)v->data[i] + BN_EPS) * g->data[i] + b->data[i]);
        }
}

static void head(exec *e, const fn_tensor *x, float *emb, float *logits)
{
    if (e->mode == M_SIZE || e->mode == M_BUILD) {
        at(e, BUF_FEAT, FEAT, 1, 1);
        at(e, BUF_LIN, FN_IRV1_DIM, 1, 1);
        if (e->st == FN_OK) e->st = head_params(e);
        return;
    }
    fn_tensor feat = at(e, BUF_FEAT, x->c, 1, 1), lin = at(e, BUF_LIN, FN_IRV1_DIM, 1, 1);
    if (e->mode == M_REF && e->st == FN_OK) e->st = head_params(e);
    if (!running(e)) return;
    fn_irv1 *m = e->m;
    if (e->mode == M_FAST) {
        fn_fast_global_avgpool(x, feat.data, FN_NHWC);
        tap(e, "avgpool_1a", &feat);
        fn_fast_linear(feat.data, e->n, FEAT, m->lin_w, NULL, FN_IRV1_DIM, lin.data);
        tap(e, "last_linear", &lin);
        fn_fast_batchnorm1d(lin.data, e->n, FN_IRV1_DIM, m->bn_scale, m->bn_shift);
    } else {
        fn_ref_avgpool2d(x, &feat, x->h, 1, 0, 0);   /* AdaptiveAvgPool2d(1) on a square map */
        tap(e, "avgpool_1a", &feat);
        fn_ref_linear(feat.data, e->n, FEAT, fn_weights_find(e->w, "last_linear.weight")->data, NULL, FN_IRV1_DIM, lin.data);
        tap(e, "last_linear", &lin);
        ref_bn1d(e, lin.data);
    }
    tap(e, "last_bn", &lin);
    if (logits && m->classes) {
        if (e->mode == M_FAST)
            fn_fast_linear(lin.data, e->n, FN_IRV1_DIM, m->logits_w, m->logits_b, m->classes, logits);
        else
            fn_ref_linear(lin.data, e->n, FN_IRV1_DIM, fn_weights_find(e->w, "logits.weight")->data,
                          fn_weights_find(e->w, "logits.bias")->data, m->classes, logits);
    }
    memcpy(emb, lin.data, (size_t)e->n * FN_IRV1_DIM * sizeof(float));
    if (e->mode == M_FAST) fn_l2_normalize(emb, e->n, FN_IRV1_DIM);
    else fn_ref_l2_normalize(emb, e->n, FN_IRV1_DIM);
}

/* ---- the network ---- */

static fn_status forward(exec *e, const float *input_nchw, float *emb, float *logits)
{
    char blk[24];
    fn_tensor x = at(e, BUF_IN, 3, FN_IRV1_SIZE, FN_IRV1_SIZE);
    if (running(e)) {
        fn_tensor src = x;
        src.data = (float *)input_nchw;
        if (e->mode == M_FAST) fn_nchw_to_nhwc(&src, x.data);
        else memcpy(x.data, input_nchw, fn_tensor_numel(&x) * sizeof(float));
    }
    x = basic(e, "conv2d_1a", &x, 32, 3, 3, 2, 0, 0, BUF_A);
    tap(e, "conv2d_1a", &x);
    x = basic(e, "conv2d_2a", &x, 32, 3, 3, 1, 0, 0, BUF_B);
    x = basic(e, "conv2d_2b", &x, 64, 3, 3, 1, 1, 1, BUF_A);
    tap(e, "conv2d_2b", &x);
    x = maxpool(e, &x, BUF_B);
    tap(e, "maxpool_3a", &x);
    x = basic(e, "conv2d_3b", &x, 80, 1, 1, 1, 0, 0, BUF_A);
    x = basic(e, "conv2d_4a", &x, 192, 3, 3, 1, 0, 0, BUF_B);
    x = basic(e, "conv2d_4b", &x, 256, 3, 3, 2, 0, 0, BUF_A);
    tap(e, "conv2d_4b", &x);
    for (int i = 0; i < 5; i++) block35(e, (snprintf(blk, sizeof blk, "repeat_1.%d", i), blk), &x);
    tap(e, "repeat_1", &x);
    x = mixed_6a(e, &x);
    tap(e, "mixed_6a", &x);
    for (int i = 0; i < 10; i++) block17(e, (snprintf(blk, sizeof blk, "repeat_2.%d", i), blk), &x);
    tap(e, "repeat_2", &x);
    x = mixed_7a(e, &x);
    tap(e, "mixed_7a", &x);
    for (int i = 0; i < 5; i++) block8(e, (snprintf(blk, sizeof blk, "repeat_3.%d", i), blk), &x, 0.20f, 1);
    tap(e, "repeat_3", &x);
    block8(e, "block8", &x, 1.0f, 0);
    tap(e, "block8", &x);
    head(e, &x, emb, logits);
    return e->st;
}

/* ---- construction ---- */

/* ~100 MB written once: with 4 KiB pages the first-touch faults cost more
 * than the copy itself (notably under a hypervisor), so ask for huge pages.
 * Advice only: failure changes nothing but speed. */
static void prefer_huge_pages(void *base, size_t size)
{
#ifdef MADV_HUGEPAGE
    uintptr_t page = 4096, lo = ((uintptr_t)base + page - 1) & ~(page - 1), hi = ((uintptr_t)base + size) & ~(page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)base; (void)size;
#endif
}

fn_status fn_irv1_new(const fn_weights *w, fn_irv1 **out)
{
    *out = NULL;
    if (!w) return fn_fail(FN_ERR_ARG, "InceptionResnetV1: no weights");
    fn_irv1 *m = calloc(1, sizeof *m);
    if (!m) return fn_fail(FN_ERR_NOMEM, "InceptionResnetV1: out of memory");
    pthread_mutex_init(&m->lock, NULL);
    snprintf(m->path, sizeof m->path, "%s", w->path ? w->path : "(memory)");
    fn_status st = fn_nn_new(&m->nn);
    exec e = {M_SIZE, m, w, NULL, 1, 0, 0, NULL, NULL, FN_OK};
    if (st == FN_OK) st = forward(&e, NULL, NULL, NULL);
    if (st == FN_OK) {
        m->nlayers = e.li;
        m->layers = calloc((size_t)m->nlayers, sizeof *m->layers);
        st = m->layers ? fn_arena_init(&m->arena, e.arena_bytes) : fn_fail(FN_ERR_NOMEM, "InceptionResnetV1: out of memory");
        if (st == FN_OK) prefer_huge_pages(m->arena.base, m->arena.size);
    }
    if (st == FN_OK) {
        exec b = {M_BUILD, m, w, NULL, 1, 0, 0, NULL, NULL, FN_OK};
        st = forward(&b, NULL, NULL, NULL);
    }
    if (st != FN_OK) { fn_irv1_free(m); return st; }
    *out = m;
    return FN_OK;
}

static void ws_free(irv1_ws *ws)
{
    if (!ws) return;
    fn_nn_ws_free(ws->nn);
    for (int b = 0; b < NBUF; b++) fn_aligned_free(ws->buf[b]);
    free(ws);
}

void fn_irv1_free(fn_irv1 *m)
{
    if (!m) return;
    for (irv1_ws *ws = m->idle, *nx; ws; ws = nx) { nx = ws->next; ws_free(ws); }
    for (int i = 0; m->layers && i < m->nlayers; i++) fn_conv_free(m->layers[i].fast);
    free(m->layers);
    fn_arena_release(&m->arena);
    fn_nn_free(m->nn);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

int fn_irv1_num_classes(const fn_irv1 *m) { return m ? m->classes : 0; }

/* ---- workspaces: one per concurrent caller, kept for reuse ---- */

static fn_status ws_acquire(fn_irv1 *m, int images, irv1_ws **out)
{
    pthread_mutex_lock(&m->lock);
    irv1_ws *ws = m->idle;
    if (ws) m->idle = ws->next;
    pthread_mutex_unlock(&m->lock);
    if (!ws) {
        ws = calloc(1, sizeof *ws);
        if (!ws) return fn_fail(FN_ERR_NOMEM, "InceptionResnetV1: out of memory for a workspace");
        fn_status st = fn_nn_ws_new(m->nn, &ws->nn);
        if (st != FN_OK) { free(ws); return st; }
    }
    if (ws->cap < images) {   /* grows once to the largest batch seen (at most CHUNK) */
        for (int b = 0; b < NBUF; b++) {
            fn_aligned_free(ws->buf[b]);
            ws->buf[b] = fn_aligned_alloc(m->need[b] * images * sizeof(float));
            if (!ws->buf[b]) { ws->cap = 0; ws_free(ws); return fn_fail(FN_ERR_NOMEM, "InceptionResnetV1: out of memory for activations"); }
        }
        ws->cap = images;
    }
    ws->next = NULL;
    *out = ws;
    return FN_OK;
}

static void ws_release(fn_irv1 *m, irv1_ws *ws)
{
    pthread_mutex_lock(&m->lock);
    ws->next = m->idle;
    m->idle = ws;
    pthread_mutex_unlock(&m->lock);
}

/* Images [0, n) in passes of at most `chunk` on one workspace. */
static fn_status embed_passes(fn_irv1 *m, const fn_weights *ref, const float *input_nchw, int n, int chunk,
                              float *emb, float *logits, fn_irv1_tap tap, void *user)
{
    irv1_ws *ws = NULL;
    FN_TRY(ws_acquire(m, n < chunk ? n : chunk, &ws));
    const size_t in_per = (size_t)3 * FN_IRV1_SIZE * FN_IRV1_SIZE;
    fn_status st = FN_OK;
    for (int i = 0; i < n && st == FN_OK; i += chunk) {
        int k = n - i < chunk ? n - i : chunk;
        exec e = {ref ? M_REF : M_FAST, m, ref, ws, k, 0, 0, tap, user, FN_OK};
        st = forward(&e, input_nchw + i * in_per, emb + (size_t)i * FN_IRV1_DIM,
                     logits ? logits + (size_t)i * m->classes : NULL);
    }
    ws_release(m, ws);
    return st;
}

/* A batch is split into one share of whole images per thread, and each
 * thread runs the network on its share alone (oneDNN runs single-threaded
 * inside a parallel region).  One parallel region per call instead of one
 * per layer: no barrier between the ~150 steps, so a thread that another
 * process delays holds up only its own share, and no thread spin-waits
 * between layers.  Measured at batch 16 on 2 busy cores: ~2x faster than
 * splitting every layer across both threads. */
static fn_status embed_split(fn_irv1 *m, const float *input_nchw, int n, int threads, float *emb, float *logits)
{
    fn_status st[SPLIT_MAX];
    char msg[SPLIT_MAX][256];
    const size_t in_per = (size_t)3 * FN_IRV1_SIZE * FN_IRV1_SIZE;
    for (int t = 0; t < threads; t++) st[t] = FN_OK;
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), k = omp_get_num_threads();
        int lo = (int)((long)n * t / k), hi = (int)((long)n * (t + 1) / k);
        if (hi > lo) {
            st[t] = embed_passes(m, NULL, input_nchw + lo * in_per, hi - lo, SPLIT_CHUNK,
                                 emb + (size_t)lo * FN_IRV1_DIM, logits ? logits + (size_t)lo * m->classes : NULL,
                                 NULL, NULL);
            if (st[t] != FN_OK) snprintf(msg[t], sizeof msg[t], "%s", fn_last_error());   /* thread-local */
        }
    }
    for (int t = 0; t < threads; t++)
        if (st[t] != FN_OK) return fn_fail(st[t], "%s", msg[t]);
    return FN_OK;
}

fn_status fn_irv1_embed_debug(fn_irv1 *m, const fn_weights *ref, const float *input_nchw, int n,
                              float *emb, float *logits, fn_irv1_tap tap, void *user)
{
    if (!m || !input_nchw || !emb || n <= 0)
        return fn_fail(FN_ERR_ARG, "InceptionResnetV1: embed needs a model, input, output and n > 0 (n = %d)", n);
    int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads > SPLIT_MAX) threads = SPLIT_MAX;
    if (threads > n) threads = n;
    if (!ref && !tap && threads > 1) return embed_split(m, input_nchw, n, threads, emb, logits);
    return embed_passes(m, ref, input_nchw, n, CHUNK, emb, logits, tap, user);
}

fn_status fn_irv1_embed(fn_irv1 *m, const float *input_nchw, int n, float *emb, float *logits)
{
    return fn_irv1_embed_debug(m, NULL, input_nchw, n, emb, logits, NULL, NULL);
}
