/* MobileFaceNet as the bundle's MobileFaceNet.tflite computes it:
 *   Conv2d_0 3x3/2 + PReLU, depthwise 3x3 + PReLU, 1x1 linear,
 *   15 inverted-residual blocks (1x1 expand + PReLU, depthwise 3x3 + PReLU,
 *   1x1 linear projection, + input when stride 1 and widths match),
 *   Conv2d_7 1x1 + PReLU, global depthwise 7x7 (VALID), 1x1, 1x1 -> 192.
 * The converter folded every BatchNorm into conv weights and biases, and
 * wrote PReLU as relu(x) + m * (x - |x|), i.e. slope 2m. */
#include "models/mobilefacenet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "nn/direct.h"
#include "nn/fast.h"
#include "nn/nn.h"

/* Inverted-residual stages: the first block of a stage has the stride. */
typedef struct stage { const char *scope; int blocks, expand, out, stride; } stage;
static const stage stages[] = {
    {"Conv2d_2", 5, 128, 64, 2},
    {"Conv2d_3", 1, 256, 128, 2},
    {"Conv2d_4", 6, 256, 128, 1},
    {"Conv2d_5", 1, 512, 128, 2},
    {"Conv2d_6", 2, 256, 128, 1},
};

#define TOP "MobileFaceNet/"
#define SCOPE "MobileFaceNet/MobileFaceNet/"

typedef struct describer { fn_mfn_layer *l; int n, pw, dw; } describer;

static fn_mfn_layer *add_layer(describer *d, int depthwise, int cin, int cout, int k, int stride, int same)
{
    fn_mfn_layer *l = &d->l[d->n++];
    memset(l, 0, sizeof *l);
    l->depthwise = depthwise;
    l->cin = cin; l->cout = cout; l->k = k; l->stride = stride; l->same = same;
    return l;
}

/* The converter numbered pointwise and depthwise kernels in graph order:
 * "Conv", "Conv_1", ... and "SeparableConv2d", "SeparableConv2d_1", ... */
static void pw_name(describer *d, fn_mfn_layer *l)
{
    int i = d->pw++;
    if (i) snprintf(l->weight, sizeof l->weight, TOP "Conv_%d/weights/read", i);
    else snprintf(l->weight, sizeof l->weight, TOP "Conv/weights/read");
}

static void dw_name(describer *d, fn_mfn_layer *l)
{
    int i = d->dw++;
    if (i) snprintf(l->weight, sizeof l->weight, TOP "SeparableConv2d_%d/depthwise_weights/read", i);
    else snprintf(l->weight, sizeof l->weight, TOP "SeparableConv2d/depthwise_weights/read");
}

static void describe_block(describer *d, const char *scope, int cin, int expand, int cout, int stride)
{
    fn_mfn_layer *l = add_layer(d, 0, cin, expand, 1, 1, 1);
    pw_name(d, l);
    snprintf(l->bias, sizeof l->bias, "%sConv/Conv2D_bias", scope);
    snprintf(l->slope, sizeof l->slope, "%sConv/mul", scope);
    l = add_layer(d, 1, expand, expand, 3, stride, 1);
    dw_name(d, l);
    snprintf(l->bias, sizeof l->bias, "%sSeparableConv2d/depthwise_bias", scope);
    snprintf(l->slope, sizeof l->slope, "%sSeparableConv2d/mul", scope);
    l = add_layer(d, 0, expand, cout, 1, 1, 1);
    pw_name(d, l);
    snprintf(l->bias, sizeof l->bias, "%sConv_1/Conv2D_bias", scope);
    l->residual = stride == 1 && cin == cout;
}

void fn_mfn_describe(fn_mfn_layer layers[FN_MFN_LAYERS])
{
    describer d = {layers, 0, 0, 0};
    fn_mfn_layer *l = add_layer(&d, 0, 3, 64, 3, 2, 1);
    snprintf(l->weight, sizeof l->weight, TOP "Conv2d_0/weights/read");
    snprintf(l->bias, sizeof l->bias, SCOPE "Conv2d_0/Conv2D_bias");
    snprintf(l->slope, sizeof l->slope, SCOPE "Conv2d_0/mul");
    l = add_layer(&d, 1, 64, 64, 3, 1, 1);
    dw_name(&d, l);
    snprintf(l->bias, sizeof l->bias, SCOPE "SeparableConv2d/depthwise_bias");
    snprintf(l->slope, sizeof l->slope, SCOPE "SeparableConv2d/mul");
    l = add_layer(&d, 0, 64, 64, 1, 1, 1);
    pw_name(&d, l);
    snprintf(l->bias, sizeof l->bias, SCOPE "Conv/Conv2D_bias");

    int c = 64;
    for (size_t s = 0; s < sizeof stages / sizeof stages[0]; s++)
        for (int b = 0; b < stages[s].blocks; b++) {
            char scope[64];
            snprintf(scope, sizeof scope, SCOPE "%s_InvResBlock_%d/", stages[s].scope, b);
            describe_block(&d, scope, c, stages[s].expand, stages[s].out, b ? 1 : stages[s].stride);
            c = stages[s].out;
        }

    l = add_layer(&d, 0, c, 512, 1, 1, 1);
    snprintf(l->weight, sizeof l->weight, TOP "Conv2d_7/weights/read");
    snprintf(l->bias, sizeof l->bias, SCOPE "Conv2d_7/Conv2D_bias");
    snprintf(l->slope, sizeof l->slope, SCOPE "Conv2d_7/mul");
    /* Global depthwise conv (GDC) replaces pooling: 7x7 VALID on 7x7. */
    l = add_layer(&d, 1, 512, 512, 7, 1, 0);
    snprintf(l->weight, sizeof l->weight, TOP "Logits/SeparableConv2d/depthwise_weights/read");
    snprintf(l->bias, sizeof l->bias, TOP "Logits/SeparableConv2d/depthwise_bias");
    l = add_layer(&d, 0, 512, 512, 1, 1, 0);
    snprintf(l->weight, sizeof l->weight, TOP "Logits/Conv/weights/read");
    snprintf(l->bias, sizeof l->bias, TOP "Logits/Conv/Conv2D_bias");
    l = add_layer(&d, 0, 512, FN_MFN_DIM, 1, 1, 1);
    snprintf(l->weight, sizeof l->weight, TOP "Logits/LinearConv1x1/weights/read");
    snprintf(l->bias, sizeof l->bias, TOP "Logits/LinearConv1x1/Conv2D_bias");
}

/* ---- the bound network ------------------------------------------------ */

typedef struct mfn_conv {
    fn_conv_desc d;              /* ph/pw unused: padding below */
    int pad_t, pad_b, pad_l, pad_r;
    int in_h, in_w, out_h, out_w;
    float *w, *b, *slope;        /* OIHW weight, bias, PReLU slopes or NULL */
    int residual;
    fn_dconv direct;             /* NHWC direct conv: HWIO / HWC weights */
    fn_conv *fast;               /* NHWC oneDNN conv with PReLU / residual sum fused */
} mfn_conv;

struct fn_mfn {
    mfn_conv conv[FN_MFN_LAYERS];
    fn_arena arena;              /* parameters and activation buffers */
    float *buf[3], *pad;         /* one image's activations, padded input */
    fn_mfn_plan plan;            /* FN_MFN_AUTO unless a test chose */
    long faces;                  /* embedded so far on the direct path */
    int fast_tried;              /* the oneDNN plan was attempted (fast != NULL: it worked) */
    int oihw_ready;              /* conv[].w filled (oihw_fill) */
    fn_arena fast_arena;         /* oneDNN's reordered weights */
    fn_nn *nn;                   /* NULL until the oneDNN plan is built */
    fn_nn_ws *ws;                /* this handle's stream and scratchpad */
};

/* TensorFlow SAME: out = ceil(in / s), the extra pad (if odd) goes after. */
static void tf_padding(int in, int k, int s, int same, int *before, int *after, int *out)
{
    if (!same) { *before = *after = 0; *out = (in - k) / s + 1; return; }
    *out = (in + s - 1) / s;
    int total = (*out - 1) * s + k - in;
    if (total < 0) total = 0;
    *before = total / 2;
    *after = total - *before;
}

static fn_status bind_tensor(const fn_weights *w, const char *name, int ndim, const int64_t *shape, const float **out)
{
    const fn_wtensor *t;
    FN_TRY(fn_weights_get(w, name, ndim, shape, &t));
    *out = t->data;
    return FN_OK;
}

/* TFLite OHWI (dense) or 1HWC (depthwise) -> OIHW, bias, slope = 2 * mul. */
static fn_status bind_layer(const fn_weights *w, const fn_mfn_layer *l, mfn_conv *c, fn_arena *a)
{
    int cig = l->depthwise ? 1 : l->cin, k = l->k;
    int64_t wshape[4] = {l->depthwise ? 1 : l->cout, k, k, l->depthwise ? l->cout : l->cin};
    int64_t vshape[1] = {l->cout};
    const float *src, *bias, *mul = NULL;
    FN_TRY(bind_tensor(w, l->weight, 4, wshape, &src));
    FN_TRY(bind_tensor(w, l->bias, 1, vshape, &bias));
    if (l->slope[0]) FN_TRY(bind_tensor(w, l->slope, 1, vshape, &mul));

    size_t wn = (size_t)l->cout * cig * k * k;
    c->w = fn_arena_alloc(a, wn * sizeof(float));   /* OIHW: filled on first need (oihw_fill) */
    c->b = fn_arena_alloc(a, (size_t)l->cout * sizeof(float));
    c->slope = mul ? fn_arena_alloc(a, (size_t)l->cout * sizeof(float)) : NULL;
    float *dw = fn_arena_alloc(a, wn * sizeof(float));
    if (!c->w || !c->b || (mul && !c->slope) || !dw) return fn_fail(FN_ERR_INTERNAL, "%s: MobileFaceNet arena too small", w->path);
    memcpy(c->b, bias, (size_t)l->cout * sizeof(float));
    for (int o = 0; mul && o < l->cout; o++) c->slope[o] = 2.0f * mul[o];

    /* The direct path's weights: depthwise as the file has them (HWC),
     * dense OHWI -> HWIO (output channels innermost, what it vectorises). */
    if (l->depthwise) memcpy(dw, src, wn * sizeof(float));
    else
        for (int o = 0; o < l->cout; o++)
            for (size_t hwi = 0; hwi < (size_t)k * k * cig; hwi++) dw[hwi * l->cout + o] = src[(size_t)o * k * k * cig + hwi];
    c->direct.w = dw;
    c->direct.b = c->b;
    c->direct.slope = c->slope;
    return FN_OK;
}

/* OIHW weights (the reference path's and oneDNN's source) from the direct
 * path's HWIO / HWC copy, once: a one-photo command never needs them. */
static void oihw_fill(fn_mfn *m)
{
    if (m->oihw_ready) return;
    for (int i = 0; i < FN_MFN_LAYERS; i++) {
        mfn_conv *c = &m->conv[i];
        const fn_dconv *d = &c->direct;
        int cig = d->depthwise ? 1 : d->cin, k = d->k;
        for (int o = 0; o < d->cout; o++)
            for (int ci = 0; ci < cig; ci++)
                for (int t = 0; t < k * k; t++)
                    c->w[((size_t)o * cig + ci) * k * k + t] =
                        d->depthwise ? d->w[(size_t)t * d->cout + o] : d->w[((size_t)t * d->cin + ci) * d->cout + o];
    }
    m->oihw_ready = 1;
}

static size_t params_bytes(const fn_mfn_layer *layers)
{
    size_t total = 0;
    for (int i = 0; i < FN_MFN_LAYERS; i++) {
        const fn_mfn_layer *l = &layers[i];
        size_t wn = (size_t)l->cout * (l->depthwise ? 1 : l->cin) * l->k * l->k;
        /* OIHW (reference and oneDNN's source), the direct path's copy, bias, slopes */
        total += 2 * fn_arena_round(wn * sizeof(float)) + 2 * fn_arena_round((size_t)l->cout * sizeof(float));
    }
    return total;
}

/* Geometry of every layer, walking the shapes from 112x112; also the
 * largest activation and padded input, to size the buffers. */
static void plan_shapes(fn_mfn *m, const fn_mfn_layer *layers, size_t *act, size_t *pad)
{
    int h = FN_MFN_SIZE, w = FN_MFN_SIZE;
    *act = (size_t)3 * h * w;
    *pad = 0;
    for (int i = 0; i < FN_MFN_LAYERS; i++) {
        const fn_mfn_layer *l = &layers[i];
        mfn_conv *c = &m->conv[i];
        int same = l->same;
        c->d = (fn_conv_desc){l->cin, l->cout, l->k, l->k, l->stride, l->stride, 0, 0, l->depthwise ? l->cin : 1};
        c->residual = l->residual;
        c->in_h = h; c->in_w = w;
        tf_padding(h, c->d.kh, c->d.sh, same, &c->pad_t, &c->pad_b, &c->out_h);
        tf_padding(w, c->d.kw, c->d.sw, same, &c->pad_l, &c->pad_r, &c->out_w);
        size_t padded = (size_t)c->d.cin * (h + c->pad_t + c->pad_b) * (w + c->pad_l + c->pad_r);
        size_t out = (size_t)c->d.cout * c->out_h * c->out_w;
        if (padded > *pad) *pad = padded;
        if (out > *act) *act = out;
        c->direct = (fn_dconv){.cin = l->cin, .cout = l->cout, .k = l->k, .stride = l->stride,
                               .depthwise = l->depthwise, .pad_t = c->pad_t, .pad_l = c->pad_l,
                               .in_h = h, .in_w = w, .out_h = c->out_h, .out_w = c->out_w};
        h = c->out_h; w = c->out_w;
    }
}

static int asymmetric(const mfn_conv *c) { return c->pad_t != c->pad_b || c->pad_l != c->pad_r; }

/* The oneDNN twin of a layer.  Its padding is symmetric, so asymmetric
 * SAME layers get an explicitly padded input instead. */
static void fast_spec(const mfn_conv *c, fn_conv_spec *s)
{
    memset(s, 0, sizeof *s);
    s->d = c->d;
    if (!asymmetric(c)) { s->d.ph = c->pad_t; s->d.pw = c->pad_l; }
    s->weight = c->w;
    s->bias = c->b;
    s->act = c->slope ? FN_ACT_PRELU : FN_ACT_NONE;
    s->prelu = c->slope;
    s->nprelu = c->slope ? c->d.cout : 0;
    s->accumulate = c->residual;
    s->layout = FN_NHWC;
    s->hint_n = 1;
    s->hint_h = c->in_h + (asymmetric(c) ? c->pad_t + c->pad_b : 0);
    s->hint_w = c->in_w + (asymmetric(c) ? c->pad_l + c->pad_r : 0);
}

static fn_status fast_bytes(fn_nn *nn, fn_mfn *m, const fn_mfn_layer *layers, size_t *bytes)
{
    /* Sizing reads only the geometry; the parameters are not bound yet. */
    static const float unbound = 0.0f;
    *bytes = 0;
    for (int i = 0; i < FN_MFN_LAYERS; i++) {
        fn_conv_spec s;
        size_t b;
        fast_spec(&m->conv[i], &s);
        s.weight = &unbound;
        if (layers[i].slope[0]) { s.act = FN_ACT_PRELU; s.prelu = &unbound; s.nprelu = s.d.cout; }
        FN_TRY(fn_conv_arena_bytes(nn, &s, &b));
        *bytes += fn_arena_round(b);
    }
    return FN_OK;
}

/* Make every layer's oneDNN conv and build its one-image plan, so that
 * embedding allocates nothing from then on. */
static fn_status make_fast_layers(fn_mfn *m)
{
    for (int i = 0; i < FN_MFN_LAYERS; i++) {
        mfn_conv *c = &m->conv[i];
        fn_conv_spec s;
        fast_spec(c, &s);
        FN_TRY(fn_conv_new(m->nn, &s, &m->fast_arena, &c->fast));
        FN_TRY(fn_conv_prepare(c->fast, m->ws, 1, s.hint_h, s.hint_w));
    }
    return FN_OK;
}

static void free_fast(fn_mfn *m)
{
    for (int i = 0; i < FN_MFN_LAYERS; i++) { fn_conv_free(m->conv[i].fast); m->conv[i].fast = NULL; }
    fn_nn_ws_free(m->ws);
    fn_nn_free(m->nn);
    fn_arena_release(&m->fast_arena);
    m->ws = NULL; m->nn = NULL;
}

/* The oneDNN plan: loads oneDNN, reorders every layer's weights into its
 * own arena and builds the one-image plans.  On failure nothing is kept. */
static fn_status make_fast(fn_mfn *m)
{
    fn_mfn_layer layers[FN_MFN_LAYERS];
    fn_mfn_describe(layers);
    size_t bytes = 0;
    oihw_fill(m);
    fn_status s = fn_nn_new(&m->nn);
    if (s == FN_OK) s = fn_nn_ws_new(m->nn, &m->ws);
    if (s == FN_OK) s = fast_bytes(m->nn, m, layers, &bytes);
    if (s == FN_OK) s = fn_arena_init(&m->fast_arena, bytes);
    if (s == FN_OK) s = make_fast_layers(m);
    if (s != FN_OK) free_fast(m);
    return s;
}

fn_status fn_mfn_new(const fn_weights *w, fn_mfn **out)
{
    *out = NULL;
    if (!w) return fn_fail(FN_ERR_ARG, "fn_mfn_new: no weights");
    fn_mfn_layer layers[FN_MFN_LAYERS];
    fn_mfn_describe(layers);
    fn_mfn *m = calloc(1, sizeof *m);
    if (!m) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for MobileFaceNet", w->path);
    size_t act, pad;
    plan_shapes(m, layers, &act, &pad);
    /* One arena: OIHW parameters (reference path, oneDNN's source), the
     * direct path's copies, three activation buffers and the padded input.
     * oneDNN's reordered copies get their own when that plan is built. */
    size_t bytes = params_bytes(layers) + 3 * fn_arena_round(act * sizeof(float)) + fn_arena_round(pad * sizeof(float));
    fn_status s = fn_arena_init(&m->arena, bytes);
    for (int i = 0; i < FN_MFN_LAYERS && s == FN_OK; i++) s = bind_layer(w, &layers[i], &m->conv[i], &m->arena);
    for (int i = 0; i < FN_MFN_LAYERS && s == FN_OK; i++) s = fn_dconv_check(&m->conv[i].direct);
    for (int i = 0; i < 3; i++) m->buf[i] = fn_arena_alloc(&m->arena, act * sizeof(float));
    m->pad = fn_arena_alloc(&m->arena, pad * sizeof(float));
    if (s == FN_OK && (!m->buf[0] || !m->buf[1] || !m->buf[2] || !m->pad))
        s = fn_fail(FN_ERR_INTERNAL, "%s: MobileFaceNet arena too small", w->path);
    if (s != FN_OK) { fn_mfn_free(m); return fn_fail_prefix(s, "MobileFaceNet"); }
    *out = m;
    return FN_OK;
}

void fn_mfn_free(fn_mfn *m)
{
    if (!m) return;
    free_fast(m);
    fn_arena_release(&m->arena);
    free(m);
}

fn_status fn_mfn_set_plan(fn_mfn *m, fn_mfn_plan plan)
{
    if (!m) return fn_fail(FN_ERR_ARG, "MobileFaceNet: no handle");
    if (plan == FN_MFN_ONEDNN && !m->nn) {
        m->fast_tried = 1;
        FN_TRY(make_fast(m));
    }
    m->plan = plan;
    return FN_OK;
}

/* ---- reference forward pass (NCHW, one image at a time) ----------------- */

/* Copy in into m->pad with the layer's (possibly asymmetric) zero border. */
static void pad_nchw(const mfn_conv *c, const fn_tensor *in, float *dst, fn_tensor *out)
{
    int ph = in->h + c->pad_t + c->pad_b, pw = in->w + c->pad_l + c->pad_r;
    memset(dst, 0, (size_t)in->c * ph * pw * sizeof(float));
    for (int ch = 0; ch < in->c; ch++)
        for (int y = 0; y < in->h; y++)
            memcpy(dst + ((size_t)ch * ph + y + c->pad_t) * pw + c->pad_l,
                   in->data + ((size_t)ch * in->h + y) * in->w, (size_t)in->w * sizeof(float));
    *out = (fn_tensor){1, in->c, ph, pw, dst};
}

static void ref_conv(fn_mfn *m, const mfn_conv *c, const fn_tensor *in, fn_tensor *out, const fn_tensor *shortcut)
{
    fn_tensor src;
    pad_nchw(c, in, m->pad, &src);
    fn_ref_conv2d(&c->d, c->w, c->b, &src, out);
    if (c->slope) fn_ref_prelu(out, c->slope, c->d.cout);
    if (shortcut) fn_ref_scale_add(out->data, shortcut->data, 1.0f, fn_tensor_numel(out));
}

/* One image: input NCHW (3x112x112) -> raw 192-d embedding. */
static void ref_forward(fn_mfn *m, const float *input, float *emb)
{
    fn_tensor x = {1, 3, FN_MFN_SIZE, FN_MFN_SIZE, m->buf[0]}, t, u;
    memcpy(x.data, input, (size_t)3 * FN_MFN_SIZE * FN_MFN_SIZE * sizeof(float));
    int i = 0;
    /* Stem: three layers ping-pong between buf[0] and buf[1]. */
    for (; i < 3; i++) {
        t.data = m->buf[(i + 1) % 2];
        ref_conv(m, &m->conv[i], &x, &t, NULL);
        x = t;
    }
    /* x is in buf[1]; blocks keep their input until the residual add. */
    float *xb = m->buf[1], *tb = m->buf[0], *ub = m->buf[2];
    for (; i < FN_MFN_LAYERS - 4; i += 3) {
        t.data = tb; u.data = ub;
        ref_conv(m, &m->conv[i], &x, &t, NULL);          /* expand */
        ref_conv(m, &m->conv[i + 1], &t, &u, NULL);      /* depthwise */
        t.data = tb;
        ref_conv(m, &m->conv[i + 2], &u, &t, m->conv[i + 2].residual ? &x : NULL);  /* project */
        float *old = xb; xb = tb; tb = old;
        x = t;
    }
    /* Head: Conv2d_7, GDC, 1x1, 1x1. */
    for (; i < FN_MFN_LAYERS; i++) {
        t.data = tb;
        ref_conv(m, &m->conv[i], &x, &t, NULL);
        float *old = xb; xb = tb; tb = old;
        x = t;
    }
    memcpy(emb, x.data, FN_MFN_DIM * sizeof(float));
}

static fn_status check_args(fn_mfn *m, const float *input, int n, float *emb)
{
    if (!m || !input || !emb || n < 0) return fn_fail(FN_ERR_ARG, "MobileFaceNet: NULL handle/input/output or negative batch");
    return FN_OK;
}

fn_status fn_mfn_embed_ref(fn_mfn *m, const float *input, int n, float *emb, int raw)
{
    FN_TRY(check_args(m, input, n, emb));
    oihw_fill(m);
    const size_t per = (size_t)3 * FN_MFN_SIZE * FN_MFN_SIZE;
    for (int i = 0; i < n; i++) ref_forward(m, input + i * per, emb + (size_t)i * FN_MFN_DIM);
    if (!raw) fn_ref_l2_normalize(emb, n, FN_MFN_DIM);
    return FN_OK;
}

/* ---- fast forward pass (NHWC on oneDNN, one image at a time) ----------- */

/* Zero border of an asymmetric SAME layer around an NHWC image. */
static void pad_nhwc(const mfn_conv *c, const fn_tensor *in, float *dst, fn_tensor *out)
{
    int ph = in->h + c->pad_t + c->pad_b, pw = in->w + c->pad_l + c->pad_r;
    size_t row = (size_t)pw * in->c, px = (size_t)in->c;
    for (int y = 0; y < ph; y++) {
        float *d = dst + (size_t)y * row;
        int sy = y - c->pad_t;
        if (sy < 0 || sy >= in->h) { memset(d, 0, row * sizeof(float)); continue; }
        memset(d, 0, (size_t)c->pad_l * px * sizeof(float));
        memcpy(d + c->pad_l * px, in->data + (size_t)sy * in->w * px, (size_t)in->w * px * sizeof(float));
        memset(d + (size_t)(c->pad_l + in->w) * px, 0, (size_t)c->pad_r * px * sizeof(float));
    }
    *out = (fn_tensor){1, in->c, ph, pw, dst};
}

static fn_status fast_conv(fn_mfn *m, const mfn_conv *c, const fn_tensor *in, fn_tensor *out, const fn_tensor *shortcut)
{
    fn_tensor src = *in;
    if (asymmetric(c)) pad_nhwc(c, in, m->pad, &src);
    fn_conv_out_shape(c->fast, &src, out);
    if (shortcut) memcpy(out->data, shortcut->data, fn_tensor_numel(out) * sizeof(float));  /* fused sum */
    return fn_conv_run(c->fast, m->ws, &src, out);
}

static fn_status fast_forward(fn_mfn *m, const float *input, float *emb)
{
    fn_tensor x = {1, 3, FN_MFN_SIZE, FN_MFN_SIZE, (float *)input}, t, u;
    fn_nchw_to_nhwc(&x, m->buf[0]);
    x.data = m->buf[0];
    int i = 0;
    for (; i < 3; i++) {
        t.data = m->buf[(i + 1) % 2];
        FN_TRY(fast_conv(m, &m->conv[i], &x, &t, NULL));
        x = t;
    }
    float *xb = m->buf[1], *tb = m->buf[0], *ub = m->buf[2];
    for (; i < FN_MFN_LAYERS - 4; i += 3) {
        t.data = tb; u.data = ub;
        FN_TRY(fast_conv(m, &m->conv[i], &x, &t, NULL));
        FN_TRY(fast_conv(m, &m->conv[i + 1], &t, &u, NULL));
        t.data = tb;
        FN_TRY(fast_conv(m, &m->conv[i + 2], &u, &t, m->conv[i + 2].residual ? &x : NULL));
        float *old = xb; xb = tb; tb = old;
        x = t;
    }
    for (; i < FN_MFN_LAYERS; i++) {
        t.data = tb;
        FN_TRY(fast_conv(m, &m->conv[i], &x, &t, NULL));
        float *old = xb; xb = tb; tb = old;
        x = t;
    }
    memcpy(emb, x.data, FN_MFN_DIM * sizeof(float));   /* 1x1x192: NHWC = flat */
    return FN_OK;
}

int fn_mfn_uses_onednn(const fn_mfn *m) { return m && m->nn != NULL; }

/* ---- direct forward pass (NHWC, src/nn/direct.h, one image at a time) --- */

static void direct_forward(fn_mfn *m, const float *input, float *emb)
{
    fn_tensor in = {1, 3, FN_MFN_SIZE, FN_MFN_SIZE, (float *)input};
    fn_nchw_to_nhwc(&in, m->buf[0]);   /* a plain loop: loads no library */
    float *x = m->buf[0];
    int i = 0;
    for (; i < 3; i++) {
        float *t = m->buf[(i + 1) % 2];
        fn_dconv_run(&m->conv[i].direct, x, t, NULL);
        x = t;
    }
    float *xb = m->buf[1], *tb = m->buf[0], *ub = m->buf[2];
    for (; i < FN_MFN_LAYERS - 4; i += 3) {
        fn_dconv_run(&m->conv[i].direct, x, tb, NULL);        /* expand */
        fn_dconv_run(&m->conv[i + 1].direct, tb, ub, NULL);   /* depthwise */
        fn_dconv_run(&m->conv[i + 2].direct, ub, tb, m->conv[i + 2].residual ? x : NULL);  /* project */
        float *old = xb; xb = tb; tb = old;
        x = xb;
    }
    for (; i < FN_MFN_LAYERS; i++) {
        fn_dconv_run(&m->conv[i].direct, x, tb, NULL);
        float *old = xb; xb = tb; tb = old;
        x = xb;
    }
    memcpy(emb, x, FN_MFN_DIM * sizeof(float));
}

/* The oneDNN plan pays for itself only after many faces: preparing it costs
 * ~30 ms (its library's load, weight reorders, JIT), and a face on it is
 * then ~0.5-1 ms cheaper than on the direct kernels (3.0-3.5 against
 * 3.5-4.0 ms on one core, bench_mobilefacenet).  So a handle prepares it
 * once more than FN_MFN_DIRECT_FACES faces have come (mobilefacenet.h). */
static int use_fast(fn_mfn *m, int n)
{
    if (m->plan == FN_MFN_DIRECT) return 0;
    if (m->nn) return 1;
    if (m->fast_tried || m->faces + n <= FN_MFN_DIRECT_FACES) return 0;
    m->fast_tried = 1;
    if (make_fast(m) != FN_OK) { fn_clear_error(); return 0; }
    return 1;
}

fn_status fn_mfn_embed(fn_mfn *m, const float *input, int n, float *emb)
{
    FN_TRY(check_args(m, input, n, emb));
    const size_t per = (size_t)3 * FN_MFN_SIZE * FN_MFN_SIZE;
    if (use_fast(m, n)) {
        for (int i = 0; i < n; i++) {
            fn_status s = fast_forward(m, input + i * per, emb + (size_t)i * FN_MFN_DIM);
            if (s != FN_OK) return fn_fail_prefix(s, "MobileFaceNet");
        }
    } else {
        for (int i = 0; i < n; i++) direct_forward(m, input + i * per, emb + (size_t)i * FN_MFN_DIM);
        m->faces += n;
    }
    fn_l2_normalize(emb, n, FN_MFN_DIM);
    return FN_OK;
}

void fn_mfn_standardize(const uint8_t *pixels, int stride, int bgr, float *out)
{
    const size_t plane = (size_t)FN_MFN_SIZE * FN_MFN_SIZE;
    for (int y = 0; y < FN_MFN_SIZE; y++)
        for (int x = 0; x < FN_MFN_SIZE; x++) {
            const uint8_t *p = pixels + (size_t)y * stride + 3 * x;
            for (int c = 0; c < 3; c++)
                out[c * plane + (size_t)y * FN_MFN_SIZE + x] = ((float)p[bgr ? 2 - c : c] - 127.5f) / 128.0f;
        }
}
