/* Reference kernels against hand-computed cases. */
#include <math.h>
#include "t.h"
#include "nn/nn.h"

static void test_out_dim(void)
{
    /* PyTorch MaxPool2d(3, 2, ceil_mode=True) on 147 -> 73; on 10 -> 5. */
    T_CHECK(fn_out_dim(147, 3, 2, 0, 1) == 73, "147 -> %d", fn_out_dim(147, 3, 2, 0, 1));
    T_CHECK(fn_out_dim(10, 3, 2, 0, 1) == 5, "10 -> %d", fn_out_dim(10, 3, 2, 0, 1));
    T_CHECK(fn_out_dim(10, 3, 2, 0, 0) == 4, "floor 10 -> %d", fn_out_dim(10, 3, 2, 0, 0));
    /* ceil_mode with padding: 5, k2 s2 p1 -> 4 windows would start at 5 (= in+pad-1+1), dropped */
    T_CHECK(fn_out_dim(5, 2, 2, 1, 1) == 3, "5,k2,s2,p1 -> %d", fn_out_dim(5, 2, 2, 1, 1));
}

static void test_conv_hand(void)
{
    /* 1x1x3x3 input 1..9, 2x2 kernel of ones, bias 0.5, stride 1, no pad. */
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, b = 0.5f, out[4];
    fn_tensor ti = {1, 1, 3, 3, in}, to = {0, 0, 0, 0, out};
    fn_conv_desc d = {1, 1, 2, 2, 1, 1, 0, 0, 1};
    fn_ref_conv2d(&d, w, &b, &ti, &to);
    float want[4] = {12.5f, 16.5f, 24.5f, 28.5f};
    T_CHECK(to.h == 2 && to.w == 2, "shape %dx%d", to.h, to.w);
    for (int i = 0; i < 4; i++) T_CHECK(out[i] == want[i], "out[%d]=%g want %g", i, out[i], want[i]);
}

static void test_pool_hand(void)
{
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[4];
    fn_tensor ti = {1, 1, 3, 3, in}, to = {0, 0, 0, 0, out};
    fn_ref_maxpool2d(&ti, &to, 2, 2, 0, 1);   /* ceil: windows {1,2,4,5},{3,6},{7,8},{9} */
    T_CHECK(to.h == 2 && out[0] == 5 && out[1] == 6 && out[2] == 8 && out[3] == 9,
            "maxpool %g %g %g %g", out[0], out[1], out[2], out[3]);
    fn_ref_avgpool2d(&ti, &to, 2, 2, 0, 1);   /* divisor excludes ceil overhang */
    T_CHECK(fabsf(out[0] - 3.0f) < 1e-6f && fabsf(out[1] - 4.5f) < 1e-6f && fabsf(out[3] - 9.0f) < 1e-6f,
            "avgpool %g %g %g %g", out[0], out[1], out[2], out[3]);
}

static void test_softmax_l2(void)
{
    float x[2] = {0.0f, (float)log(3.0)};
    fn_tensor t = {1, 2, 1, 1, x};
    fn_ref_softmax_channels(&t);
    T_CHECK(fabsf(x[0] - 0.25f) < 1e-6f && fabsf(x[1] - 0.75f) < 1e-6f, "softmax %g %g", x[0], x[1]);
    float v[2] = {3, 4};
    fn_ref_l2_normalize(v, 1, 2);
    T_CHECK(fabsf(v[0] - 0.6f) < 1e-6f && fabsf(v[1] - 0.8f) < 1e-6f, "l2 %g %g", v[0], v[1]);
}

static void test_fold_bn(void)
{
    /* conv y = 2x + 1, BN(g=3, b=0.5, m=1, v=3, eps=1) -> 3*(2x+1-1)/2 + 0.5 = 3x + 0.5 */
    float w = 2, b = 1, g = 3, beta = 0.5f, m = 1, v = 3;
    fn_fold_batchnorm(&w, &b, 1, 1, &g, &beta, &m, &v, 1.0f);
    T_CHECK(fabsf(w - 3.0f) < 1e-6f && fabsf(b - 0.5f) < 1e-6f, "folded w=%g b=%g", w, b);
}

int main(void)
{
    test_out_dim();
    test_conv_hand();
    test_pool_hand();
    test_softmax_l2();
    test_fold_bn();
    return T_DONE();
}
