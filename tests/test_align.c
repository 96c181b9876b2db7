/* Resize, extract_face and the 5-point warp against hand-computed cases and
 * the plain double-precision reference warp (fixture parity: test_align_parity.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/error.h"
#include "image/image.h"
#include "image/resize.h"
#include "align/align.h"

static void test_resize_hand(void)
{
    /* 1-D by hand (triangle widened x2 when halving): [0,100,200,255] -> 2 px
     * weights 3/7,3/7,1/7 and 1/7,3/7,3/7 -> 71.4, 209.3; upscale [0,100] -> 4. */
    uint8_t a[4] = {0, 100, 200, 255}, b[2] = {0, 100}, o[4];
    fn_image src = {4, 1, 1, a}, dst = {2, 1, 1, o};
    T_CHECK(fn_resize_bilinear_aa(&src, 0, 0, 4, 1, &dst, NULL) == FN_OK, "resize: %s", fn_last_error());
    T_CHECK(o[0] == 71 && o[1] == 209, "halve: %d %d, want 71 209", o[0], o[1]);
    fn_image s2 = {2, 1, 1, b}, d4 = {4, 1, 1, o};
    fn_resize_bilinear_aa(&s2, 0, 0, 2, 1, &d4, NULL);
    T_CHECK(o[0] == 0 && o[1] == 25 && o[2] == 75 && o[3] == 100, "upscale: %d %d %d %d, want 0 25 75 100", o[0], o[1], o[2], o[3]);

    /* 7x5 RGB -> 3x4 both ways at once; values PIL 9.4 gives for this input. */
    static const uint8_t want[4][3][3] = {
        {{97, 79, 116}, {139, 116, 93}, {116, 153, 135}},
        {{108, 90, 127}, {150, 127, 104}, {127, 164, 146}},
        {{118, 100, 137}, {160, 137, 114}, {137, 174, 156}},
        {{88, 111, 148}, {126, 103, 125}, {148, 144, 98}}};
    uint8_t in[5 * 7 * 3], out[4 * 3 * 3];
    for (int i = 0; i < 5 * 7 * 3; i++) in[i] = (uint8_t)(i * 37 % 256);
    fn_image s3 = {7, 5, 3, in}, d3 = {3, 4, 3, out};
    fn_resize_scratch sc = {0};
    fn_resize_bilinear_aa(&s3, 0, 0, 7, 5, &d3, &sc);
    int bad = 0;
    for (int i = 0; i < 36; i++) bad += out[i] != ((const uint8_t *)want)[i];
    T_CHECK(bad == 0, "7x5 -> 3x4: %d values differ from PIL", bad);
    /* a rectangle equals cropping first: (2,1) 4x3 of a bigger image */
    uint8_t big[9 * 6 * 3], crop[4 * 3 * 3], o1[2 * 2 * 3], o2[2 * 2 * 3];
    for (int i = 0; i < 9 * 6 * 3; i++) big[i] = (uint8_t)(i * 53 % 251);
    fn_image bi = {9, 6, 3, big}, ci = {4, 3, 3, crop}, r1 = {2, 2, 3, o1}, r2 = {2, 2, 3, o2};
    fn_image_crop(&bi, 2, 1, 4, 3, &ci);
    fn_resize_bilinear_aa(&bi, 2, 1, 4, 3, &r1, &sc);
    fn_resize_bilinear_aa(&ci, 0, 0, 4, 3, &r2, &sc);
    T_CHECK(!memcmp(o1, o2, sizeof o1), "resizing a rectangle differs from crop-then-resize");
    T_CHECK(fn_resize_bilinear_aa(&bi, 7, 1, 4, 3, &r1, &sc) == FN_ERR_ARG, "rectangle outside accepted");
    fn_resize_scratch_free(&sc);
}

static void test_crop_rect_std(void)
{
    /* margin 20 at 160: grow by 20*(x2-x1)/140 split on both sides, then int(). */
    float box[4] = {10.7f, 20.2f, 50.9f, 80.6f};
    int r[4];
    T_CHECK(fn_face_crop_rect(box, 100, 80, 160, 20, r) == FN_OK, "crop rect: %s", fn_last_error());
    T_CHECK(r[0] == 7 && r[1] == 15 && r[2] == 53 && r[3] == 80, "rect %d %d %d %d, want 7 15 53 80", r[0], r[1], r[2], r[3]);
    float neg[4] = {-8.27f, 1870.2f, 10.29f, 1892.9f};
    fn_face_crop_rect(neg, 1665, 2048, 160, 0, r);
    T_CHECK(r[0] == 0 && r[1] == 1870 && r[2] == 10 && r[3] == 1892, "border rect %d %d %d %d", r[0], r[1], r[2], r[3]);
    float out[4] = {120, 10, 150, 40};
    T_CHECK(fn_face_crop_rect(out, 100, 80, 160, 0, r) == FN_ERR_ARG, "box outside the image accepted");
    float nan[4] = {NAN, 0, 10, 10};
    T_CHECK(fn_face_crop_rect(nan, 100, 80, 160, 0, r) == FN_ERR_ARG, "NaN box accepted");

    uint8_t px[2 * 1 * 3] = {0, 255, 128, 64, 127, 200};
    fn_image f = {2, 1, 3, px};
    float s[6];
    fn_standardize_chw(&f, s);
    float want[6] = {-127.5f / 128, -63.5f / 128, 127.5f / 128, -0.5f / 128, 0.5f / 128, 72.5f / 128};
    long at;
    float d = t_max_abs_diff(s, want, 6, &at);
    T_CHECK(d == 0.0f, "standardize CHW worst %g at %ld", d, at);
}

static void test_similarity_hand(void)
{
    /* dst = 2 * rot90(src) + (5, -3): recovered exactly; a mirrored set never
     * yields a reflection (determinant stays positive). */
    double src[4][2] = {{0, 0}, {10, 0}, {0, 5}, {7, 7}}, dst[4][2], mir[4][2];
    for (int i = 0; i < 4; i++) {
        dst[i][0] = -2 * src[i][1] + 5, dst[i][1] = 2 * src[i][0] - 3;
        mir[i][0] = -src[i][0], mir[i][1] = src[i][1];
    }
    fn_affine m;
    T_CHECK(fn_similarity_fit((const double (*)[2])src, (const double (*)[2])dst, 4, &m) == FN_OK, "fit");
    double want[6] = {0, -2, 5, 2, 0, -3}, worst = 0;
    for (int i = 0; i < 6; i++) worst = fmax(worst, fabs(m.m[i] - want[i]));
    T_CHECK(worst < 1e-9, "rot90 fit off by %g", worst);
    fn_similarity_fit((const double (*)[2])src, (const double (*)[2])mir, 4, &m);
    T_CHECK(m.m[0] * m.m[4] - m.m[1] * m.m[3] >= 0, "mirror fit reflected");
    double same[3][2] = {{1, 1}, {1, 1}, {1, 1}};
    T_CHECK(fn_similarity_fit((const double (*)[2])same, (const double (*)[2])same, 3, &m) == FN_ERR_ARG, "degenerate points accepted");
}

static void fill_pattern(fn_image *im)
{
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            uint8_t *p = fn_image_px(im, x, y);
            p[0] = (uint8_t)(128 + 100 * sin(x * 0.21) * cos(y * 0.13));
            p[1] = (uint8_t)((x * 3 + y * 2) & 255);
            p[2] = (uint8_t)(((x / 6 + y / 6) & 1) * 200 + 20);
        }
}

static void test_warp_hand_and_ref(void)
{
    fn_image src, dst, ref;
    fn_image_alloc(&src, 60, 50, 3);
    fill_pattern(&src);
    fn_image_alloc(&dst, 60, 50, 3);
    fn_affine id = {{1, 0, 0, 0, 1, 0}}, shift = {{1, 0, 1, 0, 1, 0}};
    fn_warp_affine(&src, &id, &dst);
    T_CHECK(!memcmp(src.data, dst.data, 60 * 50 * 3), "identity warp changed pixels");
    fn_warp_affine(&src, &shift, &dst);   /* dst(x) = src(x-1); column 0 is border */
    int bad = 0;
    for (int y = 0; y < 50; y++) {
        bad += fn_image_px(&dst, 0, y)[0] != 0;
        for (int x = 1; x < 60; x++) bad += memcmp(fn_image_px(&dst, x, y), fn_image_px(&src, x - 1, y), 3) != 0;
    }
    T_CHECK(bad == 0, "shift-by-one warp: %d pixels wrong", bad);
    /* half-pixel shift: OpenCV's weights are exactly 1/2, rounding half up */
    fn_affine half = {{1, 0, 0.5, 0, 1, 0}};
    fn_warp_affine(&src, &half, &dst);
    int a = fn_image_px(&src, 10, 7)[1], b = fn_image_px(&src, 11, 7)[1];
    T_CHECK(fn_image_px(&dst, 11, 7)[1] == (a + b + 1) / 2, "half shift %d, want %d", fn_image_px(&dst, 11, 7)[1], (a + b + 1) / 2);

    /* fixed point vs the double reference on a rotation + scale with border */
    fn_image_free(&dst);
    fn_image_alloc(&dst, 112, 112, 3);
    fn_image_alloc(&ref, 112, 112, 3);
    double c = 1.7 * cos(0.4), s = 1.7 * sin(0.4);
    fn_affine rot = {{c, -s, 20, s, c, -15}};
    fn_warp_affine(&src, &rot, &dst);
    fn_warp_affine_ref(&src, &rot, &ref);
    long sum = 0;
    int worst = 0, wi = 0;
    for (int i = 0; i < 112 * 112 * 3; i++) {
        int d = abs(dst.data[i] - ref.data[i]);
        sum += d;
        if (d > worst) worst = d, wi = i;
    }
    double mean = (double)sum / (112 * 112 * 3);
    printf("warp fixed vs reference: mean |diff| %.4f, worst %d at (%d,%d) ch %d\n", mean, worst,
           wi / 3 % 112, wi / 3 / 112, wi % 3);
    T_CHECK(mean <= 0.3 && worst <= 6, "fixed-point warp drifts from the reference: mean %.3f worst %d", mean, worst);
    fn_image_free(&src), fn_image_free(&dst), fn_image_free(&ref);
}

int main(void)
{
    test_resize_hand();
    test_crop_rect_std();
    test_similarity_hand();
    test_warp_hand_and_ref();
    return T_DONE();
}
