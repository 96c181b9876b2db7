/* Fast kernels (src/nn/fast.h) against the reference kernels (nn.h) on
 * random shapes and data, in both layouts; prints max |diff| per case. */
#include <math.h>
#include <string.h>
#include "t.h"
#include "core/error.h"
#include "nn/direct.h"
#include "nn/fast.h"
#include "nn/nn.h"

static unsigned long long rng = 0x9E3779B97F4A7C15ull;

static float frand(void)   /* uniform in [-1, 1) */
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

static float *rand_buf(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (frand() + 1.0f) * 0.5f;
    return p;
}

static fn_nn *nn;
static fn_nn_ws *ws;

/* Fast result (any layout) back to NCHW for comparison. */
static void to_nchw(const fn_tensor *t, fn_layout l, float *dst)
{
    if (l == FN_NCHW) memcpy(dst, t->data, fn_tensor_numel(t) * sizeof(float));
    else fn_nhwc_to_nchw(t, dst);
}

typedef struct conv_case {
    int cin, cout, kh, kw, sh, sw, ph, pw, groups, n, h, w;
    fn_act act;
    int bn, accumulate;
    float scale;
} conv_case;

static void run_conv_case(const conv_case *k, fn_layout l)
{
    fn_conv_desc d = {k->cin, k->cout, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw, k->groups};
    size_t wn = (size_t)k->cout * (k->cin / k->groups) * k->kh * k->kw;
    float *w = rand_buf(wn, -1, 1), *b = rand_buf(k->cout, -1, 1);
    float *g = rand_buf(k->cout, 0.5f, 1.5f), *beta = rand_buf(k->cout, -1, 1);
    float *mean = rand_buf(k->cout, -1, 1), *var = rand_buf(k->cout, 0.2f, 2.0f);
    float *slope = rand_buf(k->cout, 0, 0.5f);
    fn_tensor in = {k->n, k->cin, k->h, k->w, rand_buf((size_t)k->n * k->cin * k->h * k->w, -1, 1)};

    fn_conv_spec s = {0};
    s.d = d; s.weight = w; s.bias = b; s.act = k->act; s.prelu = slope; s.nprelu = k->cout;
    s.accumulate = k->accumulate; s.scale = k->scale; s.layout = l;
    if (k->bn) { s.bn_gamma = g; s.bn_beta = beta; s.bn_mean = mean; s.bn_var = var; s.bn_eps = 1e-3f; }
    fn_conv *c = NULL;
    fn_status st = fn_conv_new(nn, &s, NULL, &c);
    T_CHECK(st == FN_OK, "fn_conv_new: %s", fn_last_error());
    if (st != FN_OK) goto out;

    fn_tensor ref = {0}, fast = {0};
    fn_conv_out_shape(c, &in, &ref);
    size_t on = fn_tensor_numel(&ref);
    float *shortcut = rand_buf(on, -1, 1);
    ref.data = calloc(on, sizeof(float));
    fast = ref;
    fast.data = malloc(on * sizeof(float));
    float *back = malloc(on * sizeof(float));

    /* Reference: fold on a copy, conv, scale, add shortcut, activation. */
    float *wf = malloc(wn * sizeof(float)), *bf = malloc(k->cout * sizeof(float));
    memcpy(wf, w, wn * sizeof(float));
    memcpy(bf, b, k->cout * sizeof(float));
    if (k->bn) fn_fold_batchnorm(wf, bf, k->cout, wn / k->cout, g, beta, mean, var, 1e-3f);
    fn_ref_conv2d(&d, wf, bf, &in, &ref);
    float sc = k->scale != 0.0f ? k->scale : 1.0f;
    for (size_t i = 0; i < on; i++) ref.data[i] = sc * ref.data[i] + (k->accumulate ? shortcut[i] : 0.0f);
    if (k->act == FN_ACT_RELU) fn_ref_relu(ref.data, on);
    if (k->act == FN_ACT_PRELU) fn_ref_prelu(&ref, slope, k->cout);

    /* Fast: shortcut (in the layout) preloaded in out when accumulating; run twice to use the cached plan. */
    fn_tensor in_l = in, sc_l = ref;
    float *in_buf = NULL, *sc_buf = NULL;
    if (l == FN_NHWC) {
        in_buf = malloc(fn_tensor_numel(&in) * sizeof(float));
        fn_nchw_to_nhwc(&in, in_buf);
        in_l.data = in_buf;
        sc_buf = malloc(on * sizeof(float));
        sc_l.data = shortcut;
        fn_nchw_to_nhwc(&sc_l, sc_buf);
    }
    const float *sc_src = l == FN_NHWC ? sc_buf : shortcut;
    for (int rep = 0; rep < 2 && st == FN_OK; rep++) {
        memcpy(fast.data, sc_src, on * sizeof(float));
        st = fn_conv_run(c, ws, &in_l, &fast);
    }
    T_CHECK(st == FN_OK, "fn_conv_run: %s", fn_last_error());
    to_nchw(&fast, l, back);
    long where = 0;
    float diff = t_max_abs_diff(back, ref.data, (long)on, &where);
    float mag = 0.0f;
    for (size_t i = 0; i < on; i++) mag = fmaxf(mag, fabsf(ref.data[i]));
    float tol = 1e-5f * (1.0f + mag) * sqrtf((float)(wn / k->cout));
    printf("conv %s %3d->%3d k%dx%d s%dx%d p%dx%d g%-3d n%d %2dx%-2d act%d bn%d acc%d sc%.2f: max|d| %.2e at %ld (|ref|max %.1f) [%s]\n",
           l == FN_NHWC ? "nhwc" : "nchw", k->cin, k->cout, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw, k->groups,
           k->n, k->h, k->w, (int)k->act, k->bn, k->accumulate, k->scale, diff, where, mag, fn_conv_impl_name(c));
    T_CHECK(diff <= tol, "conv case differs by %g > %g", diff, tol);
    free(wf); free(bf); free(back); free(shortcut); free(ref.data); free(fast.data); free(in_buf); free(sc_buf);
out:
    fn_conv_free(c);
    free(w); free(b); free(g); free(beta); free(mean); free(var); free(slope); free(in.data);
}

static void test_conv(void)
{
    static const conv_case cases[] = {
        /* cin cout kh kw sh sw ph pw g  n  h  w   act          bn acc scale */
        {3, 32, 3, 3, 2, 2, 0, 0, 1, 1, 33, 33, FN_ACT_RELU, 1, 0, 0},
        {3, 10, 3, 3, 1, 1, 0, 0, 1, 3, 24, 19, FN_ACT_PRELU, 0, 0, 0},   /* P-Net conv1 */
        {10, 16, 3, 3, 1, 1, 0, 0, 1, 1, 11, 11, FN_ACT_PRELU, 0, 0, 0},
        {16, 32, 3, 3, 1, 1, 0, 0, 1, 3, 9, 9, FN_ACT_PRELU, 0, 0, 0},
        {32, 4, 1, 1, 1, 1, 0, 0, 1, 1, 7, 7, FN_ACT_NONE, 0, 0, 0},
        {32, 64, 1, 1, 1, 1, 0, 0, 1, 3, 9, 9, FN_ACT_RELU, 1, 0, 0},
        {24, 40, 5, 5, 1, 1, 2, 2, 1, 1, 13, 13, FN_ACT_RELU, 1, 0, 0},
        {16, 24, 7, 7, 2, 2, 3, 3, 1, 3, 15, 17, FN_ACT_NONE, 0, 0, 0},
        {32, 32, 1, 7, 1, 1, 0, 3, 1, 1, 17, 17, FN_ACT_RELU, 1, 0, 0},   /* Block17 */
        {32, 32, 7, 1, 1, 1, 3, 0, 1, 3, 17, 17, FN_ACT_RELU, 1, 0, 0},
        {48, 48, 1, 3, 1, 1, 0, 1, 1, 1, 3, 3, FN_ACT_RELU, 1, 0, 0},     /* Block8 */
        {48, 48, 3, 1, 1, 1, 1, 0, 1, 3, 3, 3, FN_ACT_RELU, 1, 0, 0},
        {64, 64, 3, 3, 2, 2, 1, 1, 64, 1, 14, 14, FN_ACT_PRELU, 1, 0, 0},  /* depthwise */
        {64, 64, 3, 3, 1, 1, 1, 1, 64, 3, 7, 7, FN_ACT_NONE, 1, 0, 0},
        {64, 64, 7, 7, 1, 1, 0, 0, 64, 1, 7, 7, FN_ACT_NONE, 1, 0, 0},     /* global depthwise */
        {32, 48, 3, 3, 1, 1, 1, 1, 4, 3, 10, 10, FN_ACT_RELU, 0, 0, 0},    /* grouped */
        {96, 64, 1, 1, 1, 1, 0, 0, 1, 1, 17, 17, FN_ACT_RELU, 0, 1, 0.17f}, /* residual up-projection */
        {48, 80, 1, 1, 1, 1, 0, 0, 1, 3, 3, 3, FN_ACT_NONE, 0, 1, 0.2f},
        {5, 7, 2, 3, 2, 1, 1, 0, 1, 3, 6, 5, FN_ACT_RELU, 1, 0, 0},        /* odd sizes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run_conv_case(&cases[i], FN_NCHW);
        run_conv_case(&cases[i], FN_NHWC);
    }
}

/* ---- direct NHWC convolutions (direct.h) against fn_ref_conv2d ---- */

typedef struct dconv_case {
    int cin, cout, k, stride, depthwise, pad_t, pad_b, pad_l, pad_r, h, w, prelu, shortcut, bias;
} dconv_case;

static void run_dconv_case(const dconv_case *k)
{
    int cig = k->depthwise ? 1 : k->cin;
    int ph = k->h + k->pad_t + k->pad_b, pw = k->w + k->pad_l + k->pad_r;
    int oh = (ph - k->k) / k->stride + 1, ow = (pw - k->k) / k->stride + 1;
    size_t wn = (size_t)k->cout * cig * k->k * k->k, on = (size_t)k->cout * oh * ow;
    float *w = rand_buf(wn, -1, 1), *b = rand_buf(k->cout, -1, 1), *slope = rand_buf(k->cout, 0, 0.5f);
    float *x = rand_buf((size_t)k->cin * k->h * k->w, -1, 1), *sc = rand_buf(on, -1, 1);

    /* Reference: NCHW input with the (possibly asymmetric) border written
     * out, fn_ref_conv2d without padding, then PReLU, then the shortcut. */
    float *xp = calloc((size_t)k->cin * ph * pw, sizeof(float));
    for (int c = 0; c < k->cin; c++)
        for (int y = 0; y < k->h; y++)
            memcpy(xp + ((size_t)c * ph + y + k->pad_t) * pw + k->pad_l, x + ((size_t)c * k->h + y) * k->w, k->w * sizeof(float));
    fn_conv_desc d = {k->cin, k->cout, k->k, k->k, k->stride, k->stride, 0, 0, k->depthwise ? k->cin : 1};
    fn_tensor in = {1, k->cin, ph, pw, xp}, ref = {0, 0, 0, 0, malloc(on * sizeof(float))};
    fn_ref_conv2d(&d, w, k->bias ? b : NULL, &in, &ref);
    if (k->prelu) fn_ref_prelu(&ref, slope, k->cout);
    if (k->shortcut) fn_ref_scale_add(ref.data, sc, 1.0f, on);

    /* Direct: NHWC input and shortcut, HWIO / HWC weights. */
    float *xn = malloc((size_t)k->cin * k->h * k->w * sizeof(float)), *scn = malloc(on * sizeof(float));
    float *wd = malloc(wn * sizeof(float)), *out = malloc(on * sizeof(float)), *back = malloc(on * sizeof(float));
    fn_tensor xt = {1, k->cin, k->h, k->w, x}, st = {1, k->cout, oh, ow, sc};
    fn_nchw_to_nhwc(&xt, xn);
    fn_nchw_to_nhwc(&st, scn);
    for (int o = 0; o < k->cout; o++)
        for (int i = 0; i < cig; i++)
            for (int y = 0; y < k->k; y++)
                for (int xx = 0; xx < k->k; xx++) {
                    float v = w[(((size_t)o * cig + i) * k->k + y) * k->k + xx];
                    if (k->depthwise) wd[((size_t)y * k->k + xx) * k->cout + o] = v;
                    else wd[(((size_t)y * k->k + xx) * k->cin + i) * k->cout + o] = v;
                }
    fn_dconv c = {k->cin, k->cout, k->k, k->stride, k->depthwise, k->pad_t, k->pad_l, k->h, k->w, oh, ow,
                  wd, k->bias ? b : NULL, k->prelu ? slope : NULL};
    fn_status s = fn_dconv_check(&c);
    T_CHECK(s == FN_OK, "fn_dconv_check: %s", fn_last_error());
    if (s == FN_OK) {
        fn_dconv_run(&c, xn, out, k->shortcut ? scn : NULL);
        fn_tensor ot = {1, k->cout, oh, ow, out};
        fn_nhwc_to_nchw(&ot, back);
        long where = 0;
        float diff = t_max_abs_diff(back, ref.data, (long)on, &where);
        float tol = 1e-5f * (1.0f + sqrtf((float)(cig * k->k * k->k))) * 4.0f;
        printf("direct %s %3d->%3d k%d s%d pad %d,%d,%d,%d %2dx%-2d prelu%d sc%d bias%d: max|d| %.2e at %ld\n",
               k->depthwise ? "dw   " : "dense", k->cin, k->cout, k->k, k->stride, k->pad_t, k->pad_b, k->pad_l,
               k->pad_r, k->h, k->w, k->prelu, k->shortcut, k->bias, diff, where);
        T_CHECK(diff <= tol, "direct conv case differs by %g > %g", diff, tol);
    }
    free(w); free(b); free(slope); free(x); free(sc); free(xp); free(ref.data);
    free(xn); free(scn); free(wd); free(out); free(back);
}

static void test_direct(void)
{
    static const dconv_case cases[] = {
        /* cin cout k s dw  pad t b l r   h   w prelu sc bias */
        {3, 64, 3, 2, 0, 0, 1, 0, 1, 16, 16, 1, 0, 1},    /* MobileFaceNet's stem: SAME, stride 2, even input */
        {3, 32, 3, 1, 0, 1, 1, 1, 1, 9, 7, 0, 0, 1},      /* symmetric padding, odd sizes */
        {64, 128, 1, 1, 0, 0, 0, 0, 0, 7, 9, 1, 0, 1},    /* expand (63 pixels: a tail block of 3) */
        {128, 64, 1, 1, 0, 0, 0, 0, 0, 5, 5, 0, 1, 1},    /* project + residual (25 pixels) */
        {512, 192, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1},   /* the last 1x1 on one pixel */
        {96, 32, 1, 1, 0, 0, 0, 0, 0, 2, 3, 1, 1, 0},     /* no bias, PReLU and shortcut */
        {64, 64, 3, 1, 1, 1, 1, 1, 1, 11, 6, 1, 0, 1},    /* depthwise SAME stride 1 */
        {128, 128, 3, 2, 1, 0, 1, 0, 1, 14, 14, 1, 0, 1}, /* depthwise SAME stride 2 (asymmetric) */
        {48, 48, 3, 2, 1, 1, 1, 1, 1, 7, 5, 0, 1, 1},     /* depthwise odd, shortcut */
        {512, 512, 7, 1, 1, 0, 0, 0, 0, 7, 7, 0, 0, 1},   /* global depthwise (GDC) */
        {5, 5, 3, 1, 1, 0, 0, 0, 0, 3, 4, 1, 0, 0},       /* channels not a multiple of the vector */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_dconv_case(&cases[i]);

    /* What fn_dconv_check refuses, with a sentence. */
    float w1 = 0;
    fn_dconv bad = {64, 48, 1, 1, 0, 0, 0, 4, 4, 4, 4, &w1, NULL, NULL};   /* 48 outputs: not a multiple of 32 */
    T_CHECK(fn_dconv_check(&bad) == FN_ERR_ARG && strstr(fn_last_error(), "multiple of 32"), "cout 48: %s", fn_last_error());
    fn_dconv big = {600, 64, 3, 1, 0, 1, 1, 4, 4, 4, 4, &w1, NULL, NULL};  /* padded, wider than the zero row */
    T_CHECK(fn_dconv_check(&big) == FN_ERR_ARG, "a padded 600-channel input was accepted");
    fn_dconv off = {64, 64, 3, 1, 1, 0, 0, 4, 4, 9, 9, &w1, NULL, NULL};   /* 9x9 out of a 4x4 input */
    T_CHECK(fn_dconv_check(&off) == FN_ERR_ARG, "an output larger than the input allows was accepted");
    T_CHECK(fn_dconv_check(NULL) == FN_ERR_ARG, "NULL layer accepted");
}

static void test_pool(void)
{
    static const int cases[][7] = {   /* n c h w k s pad */
        {1, 64, 77, 77, 3, 2, 0}, {3, 10, 24, 19, 2, 2, 0}, {1, 16, 11, 11, 3, 2, 0},
        {3, 5, 10, 10, 3, 2, 1}, {1, 7, 5, 5, 2, 2, 1}, {3, 3, 9, 8, 3, 3, 0}, {1, 32, 17, 17, 3, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int ceil = 0; ceil < 2; ceil++)
            for (int kind = 0; kind < 2; kind++)
                for (int l = 0; l < 2; l++) {
                    const int *q = cases[i];
                    fn_tensor in = {q[0], q[1], q[2], q[3], rand_buf((size_t)q[0] * q[1] * q[2] * q[3], -2, 2)};
                    size_t big = fn_tensor_numel(&in) + 64;
                    fn_tensor ref = {0, 0, 0, 0, malloc(big * sizeof(float))}, fast = {0, 0, 0, 0, malloc(big * sizeof(float))};
                    float *in_l = malloc(fn_tensor_numel(&in) * sizeof(float)), *back = malloc(big * sizeof(float));
                    if (l) fn_nchw_to_nhwc(&in, in_l); else memcpy(in_l, in.data, fn_tensor_numel(&in) * sizeof(float));
                    fn_tensor in2 = in;
                    in2.data = in_l;
                    if (kind) fn_ref_avgpool2d(&in, &ref, q[4], q[5], q[6], ceil);
                    else fn_ref_maxpool2d(&in, &ref, q[4], q[5], q[6], ceil);
                    if (kind) fn_fast_avgpool2d(&in2, &fast, q[4], q[5], q[6], ceil, (fn_layout)l);
                    else fn_fast_maxpool2d(&in2, &fast, q[4], q[5], q[6], ceil, (fn_layout)l);
                    T_CHECK(fast.h == ref.h && fast.w == ref.w, "pool shape %dx%d vs %dx%d", fast.h, fast.w, ref.h, ref.w);
                    to_nchw(&fast, (fn_layout)l, back);
                    long where = 0;
                    float diff = t_max_abs_diff(back, ref.data, (long)fn_tensor_numel(&ref), &where);
                    printf("%spool %s n%d c%-2d %2dx%-2d k%d s%d p%d ceil%d -> %dx%d: max|d| %.2e at %ld\n", kind ? "avg" : "max",
                           l ? "nhwc" : "nchw", q[0], q[1], q[2], q[3], q[4], q[5], q[6], ceil, ref.h, ref.w, diff, where);
                    T_CHECK(diff <= 1e-5f, "pool differs by %g", diff);
                    free(in.data); free(ref.data); free(fast.data); free(in_l); free(back);
                }
}

static void test_small_ops(void)
{
    /* linear with and without bias, odd sizes */
    int n = 3, k = 37, m = 29;
    float *x = rand_buf((size_t)n * k, -1, 1), *w = rand_buf((size_t)m * k, -1, 1), *b = rand_buf(m, -1, 1);
    float r[3 * 29], f[3 * 29];
    long where;
    for (int withb = 0; withb < 2; withb++) {
        fn_ref_linear(x, n, k, w, withb ? b : NULL, m, r);
        fn_fast_linear(x, n, k, w, withb ? b : NULL, m, f);
        float d = t_max_abs_diff(r, f, n * m, &where);
        printf("linear %dx%d -> %d bias%d: max|d| %.2e at %ld\n", n, k, m, withb, d, where);
        T_CHECK(d <= 1e-5f, "linear differs by %g", d);
    }
    free(x); free(w); free(b);

    /* softmax over channels, both layouts */
    for (int l = 0; l < 2; l++) {
        fn_tensor t = {3, 4, 5, 6, rand_buf(360, -8, 8)};
        float *lay = malloc(360 * sizeof(float)), *back = malloc(360 * sizeof(float));
        if (l) fn_nchw_to_nhwc(&t, lay); else memcpy(lay, t.data, 360 * sizeof(float));
        fn_tensor tl = t;
        tl.data = lay;
        fn_ref_softmax_channels(&t);
        fn_fast_softmax_channels(&tl, (fn_layout)l);
        to_nchw(&tl, (fn_layout)l, back);
        float d = t_max_abs_diff(back, t.data, 360, &where);
        printf("softmax %s 3x4x5x6: max|d| %.2e at %ld\n", l ? "nhwc" : "nchw", d, where);
        T_CHECK(d <= 1e-6f, "softmax differs by %g", d);
        free(t.data); free(lay); free(back);
    }

    /* L2 normalise, scale-add (+ReLU), prelu, global average pool */
    float *a = rand_buf(3 * 512, -3, 3), *c = malloc(3 * 512 * sizeof(float));
    memcpy(c, a, 3 * 512 * sizeof(float));
    fn_ref_l2_normalize(a, 3, 512);
    fn_l2_normalize(c, 3, 512);
    float d = t_max_abs_diff(a, c, 3 * 512, &where);
    printf("l2_normalize 3x512: max|d| %.2e at %ld\n", d, where);
    T_CHECK(d <= 1e-6f, "l2 differs by %g", d);
    float *y = rand_buf(3 * 512, -3, 3);
    memcpy(c, a, 3 * 512 * sizeof(float));
    fn_ref_scale_add(a, y, 0.17f, 3 * 512);
    fn_ref_relu(a, 3 * 512);
    fn_fast_scale_add(c, y, 0.17f, 3 * 512, 1);
    d = t_max_abs_diff(a, c, 3 * 512, &where);
    printf("scale_add+relu 1536: max|d| %.2e at %ld\n", d, where);
    T_CHECK(d <= 1e-6f, "scale_add differs by %g", d);
    free(a); free(c); free(y);

    for (int l = 0; l < 2; l++) {
        fn_tensor t = {3, 6, 4, 5, rand_buf(360, -2, 2)};
        float *slope = rand_buf(6, 0, 1), *lay = malloc(360 * sizeof(float)), *back = malloc(360 * sizeof(float));
        float gr[18], gf[18];
        if (l) fn_nchw_to_nhwc(&t, lay); else memcpy(lay, t.data, 360 * sizeof(float));
        fn_tensor tl = t;
        tl.data = lay;
        for (int p = 0; p < 18; p++) {
            double s = 0;
            for (int i = 0; i < 20; i++) s += t.data[p * 20 + i];
            gr[p] = (float)(s / 20);
        }
        fn_fast_global_avgpool(&tl, gf, (fn_layout)l);
        d = t_max_abs_diff(gr, gf, 18, &where);
        printf("global_avgpool %s 3x6x4x5: max|d| %.2e at %ld\n", l ? "nhwc" : "nchw", d, where);
        T_CHECK(d <= 1e-6f, "global avgpool differs by %g", d);
        fn_ref_prelu(&t, slope, 6);
        fn_fast_prelu(&tl, slope, 6, (fn_layout)l);
        to_nchw(&tl, (fn_layout)l, back);
        d = t_max_abs_diff(back, t.data, 360, &where);
        printf("prelu %s 3x6x4x5: max|d| %.2e at %ld\n", l ? "nhwc" : "nchw", d, where);
        T_CHECK(d == 0.0f, "prelu differs by %g", d);
        free(t.data); free(slope); free(lay); free(back);
    }
}

static void test_concat(void)
{
    fn_tensor parts[3] = {{3, 2, 4, 5, rand_buf(120, -1, 1)}, {3, 5, 4, 5, rand_buf(300, -1, 1)}, {3, 1, 4, 5, rand_buf(60, -1, 1)}};
    fn_tensor ref = {3, 8, 4, 5, malloc(480 * sizeof(float))}, fast = ref;
    fast.data = malloc(480 * sizeof(float));
    fn_ref_concat_channels(parts, 3, &ref);
    fn_tensor pl[3];
    for (int i = 0; i < 3; i++) {
        pl[i] = parts[i];
        pl[i].data = malloc(fn_tensor_numel(&parts[i]) * sizeof(float));
        fn_nchw_to_nhwc(&parts[i], pl[i].data);
    }
    fn_fast_concat_channels(pl, 3, &fast, FN_NHWC);
    float *back = malloc(480 * sizeof(float));
    fn_nhwc_to_nchw(&fast, back);
    long where;
    float d = t_max_abs_diff(back, ref.data, 480, &where);
    printf("concat nhwc 2+5+1 channels: max|d| %.2e at %ld\n", d, where);
    T_CHECK(d == 0.0f, "concat differs by %g", d);
    for (int i = 0; i < 3; i++) { free(parts[i].data); free(pl[i].data); }
    free(ref.data); free(fast.data); free(back);
}

static void test_bad_input(void)
{
    float w[9] = {0};
    fn_conv_spec s = {0};
    s.d = (fn_conv_desc){3, 4, 3, 3, 1, 1, 0, 0, 2};   /* 3 channels in 2 groups */
    s.weight = w;
    fn_conv *c = NULL;
    fn_status st = fn_conv_new(nn, &s, NULL, &c);
    T_CHECK(st == FN_ERR_ARG && c == NULL, "bad groups accepted (%d)", st);
    printf("bad groups: %s\n", fn_last_error());
    s.d = (fn_conv_desc){1, 1, 3, 3, 1, 1, 0, 0, 1};
    st = fn_conv_new(nn, &s, NULL, &c);
    T_CHECK(st == FN_OK, "tiny conv: %s", fn_last_error());
    float in[4] = {0}, out[4];
    fn_tensor ti = {1, 1, 2, 2, in}, to = {0, 0, 0, 0, out};
    st = fn_conv_run(c, ws, &ti, &to);
    T_CHECK(st == FN_ERR_ARG, "input smaller than the kernel accepted (%d)", st);
    printf("too small: %s\n", fn_last_error());
    ti.c = 2;
    st = fn_conv_run(c, ws, &ti, &to);
    T_CHECK(st == FN_ERR_ARG, "wrong channel count accepted (%d)", st);
    fn_conv_free(c);
}

int main(void)
{
    if (fn_nn_new(&nn) != FN_OK || fn_nn_ws_new(nn, &ws) != FN_OK) {
        fprintf(stderr, "engine: %s\n", fn_last_error());
        return 1;
    }
    test_conv();
    test_direct();
    test_pool();
    test_small_ops();
    test_concat();
    test_bad_input();
    fn_nn_ws_free(ws);
    fn_nn_free(nn);
    return T_DONE();
}
