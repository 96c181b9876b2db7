/* Resize, extract_face and the 5-point warp: hand-computed cases, the
 * reference warp, and parity with facenet-pytorch / OpenCV fixtures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n + 1);
    size_t got = fread(b, 1, n, f);
    b[got] = 0;
    fclose(f);
    cJSON *j = cJSON_Parse(b);
    free(b);
    return j;
}

typedef struct diff_stats { double mean; int max, x, y; } diff_stats;

static diff_stats compare(const fn_image *a, const fn_image *b)
{
    diff_stats s = {0, 0, 0, 0};
    long sum = 0, n = (long)a->w * a->h * a->c;
    for (long i = 0; i < n; i++) {
        int d = abs(a->data[i] - b->data[i]);
        sum += d;
        if (d > s.max) s.max = d, s.x = (int)(i / a->c % a->w), s.y = (int)(i / a->c / a->w);
    }
    s.mean = (double)sum / n;
    return s;
}

static void test_crop_parity(void)
{
    const char *root = t_shared("fixtures");
    char path[1024];
    snprintf(path, sizeof path, "%s/mtcnn_expected.json", root);
    cJSON *j = load_json(path);
    T_CHECK(j != NULL, "cannot parse %s", path);
    if (!j) return;
    fn_resize_scratch sc = {0};
    fn_image face;
    fn_image_alloc(&face, 160, 160, 3);
    int n = 0;
    diff_stats worst = {0, 0, 0, 0};
    char worst_name[256] = "";
    const cJSON *img;
    cJSON_ArrayForEach(img, cJSON_GetObjectItem(j, "images")) {
        const cJSON *faces = cJSON_GetObjectItem(img, "faces"), *f;
        fn_image im = {0};
        cJSON_ArrayForEach(f, faces) {
            const cJSON *crop = cJSON_GetObjectItem(f, "crop");
            if (!cJSON_IsString(crop)) continue;
            if (!im.data) {
                snprintf(path, sizeof path, "%s/%s", root, cJSON_GetObjectItem(img, "file")->valuestring);
                T_CHECK(fn_image_load(path, NULL, &im) == FN_OK, "%s", fn_last_error());
                if (!im.data) break;
            }
            float box[4];
            for (int k = 0; k < 4; k++) box[k] = (float)cJSON_GetArrayItem(cJSON_GetObjectItem(f, "box"), k)->valuedouble;
            fn_image want;
            snprintf(path, sizeof path, "%s/%s", root, crop->valuestring);
            T_CHECK(fn_image_load(path, NULL, &want) == FN_OK, "%s", fn_last_error());
            T_CHECK(fn_extract_face(&im, box, 0, &face, &sc) == FN_OK, "extract_face: %s", fn_last_error());
            if (want.data && want.w == 160 && want.h == 160) {
                diff_stats d = compare(&face, &want);
                T_CHECK(d.mean <= 0.5 && d.max <= 2, "%s: mean %.3f max %d at (%d,%d)", crop->valuestring, d.mean, d.max, d.x, d.y);
                if (d.max > worst.max || (d.max == worst.max && d.mean > worst.mean))
                    worst = d, snprintf(worst_name, sizeof worst_name, "%s", crop->valuestring);
                n++;
            }
            fn_image_free(&want);
        }
        fn_image_free(&im);
    }
    printf("crop parity: %d crops, worst [%s] mean %.4f max %d at (%d,%d)\n", n, worst_name, worst.mean, worst.max, worst.x, worst.y);
    T_CHECK(n >= 10, "only %d crops compared", n);
    fn_image_free(&face);
    fn_resize_scratch_free(&sc);
    cJSON_Delete(j);
}

static void test_warp_parity(void)
{
    const char *root = t_shared("fixtures");
    char path[1024];
    snprintf(path, sizeof path, "%s/aligned112/expected.json", root);
    cJSON *j = load_json(path);
    T_CHECK(j != NULL, "cannot parse %s", path);
    if (!j) return;
    const cJSON *tpl = cJSON_GetObjectItem(j, "template_112");
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 2; k++) {
            double v = cJSON_GetArrayItem(cJSON_GetArrayItem(tpl, i), k)->valuedouble;
            T_CHECK(fabs(v - fn_arcface_template_112[i][k]) < 1e-9, "template[%d][%d] %g vs %g", i, k, fn_arcface_template_112[i][k], v);
        }
    fn_image out;
    fn_image_alloc(&out, 112, 112, 3);
    int n = 0;
    double worst_m = 0, worst_mean = 0, sum_mean = 0, worst_float = 0;
    int worst_max = 0;
    char worst_name[256] = "";
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items")) {
        double lm[5][2];
        float lmf[5][2];
        for (int i = 0; i < 5; i++)
            for (int k = 0; k < 2; k++) {
                lm[i][k] = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(it, "landmarks"), i), k)->valuedouble;
                lmf[i][k] = (float)lm[i][k];
            }
        fn_image im, want;
        snprintf(path, sizeof path, "%s/%s", root, cJSON_GetObjectItem(it, "file")->valuestring);
        if (fn_image_load(path, NULL, &im) != FN_OK) { T_CHECK(0, "%s", fn_last_error()); continue; }
        snprintf(path, sizeof path, "%s/%s", root, cJSON_GetObjectItem(it, "crop")->valuestring);
        if (fn_image_load(path, NULL, &want) != FN_OK) { T_CHECK(0, "%s", fn_last_error()); fn_image_free(&im); continue; }
        fn_affine m;
        T_CHECK(fn_similarity_fit((const double (*)[2])lm, fn_arcface_template_112, 5, &m) == FN_OK, "fit: %s", fn_last_error());
        T_CHECK(fn_warp_affine(&im, &m, &out) == FN_OK, "warp: %s", fn_last_error());
        const cJSON *mj = cJSON_GetObjectItem(it, "matrix");
        double dm = 0;
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 3; c++)
                dm = fmax(dm, fabs(m.m[3 * r + c] - cJSON_GetArrayItem(cJSON_GetArrayItem(mj, r), c)->valuedouble));
        /* the fixture prints 6 decimals; translation terms carry ~1e-6 of it */
        T_CHECK(dm <= 1e-4, "%s: matrix off by %g", cJSON_GetObjectItem(it, "crop")->valuestring, dm);
        worst_m = fmax(worst_m, dm);
        diff_stats d = compare(&out, &want);
        T_CHECK(d.mean <= 1.0, "%s: mean %.3f max %d at (%d,%d)", cJSON_GetObjectItem(it, "crop")->valuestring, d.mean, d.max, d.x, d.y);
        sum_mean += d.mean;
        if (d.mean > worst_mean) worst_mean = d.mean, snprintf(worst_name, sizeof worst_name, "%s", cJSON_GetObjectItem(it, "crop")->valuestring);
        if (d.max > worst_max) worst_max = d.max;
        /* the float-landmark path the pipeline uses lands on the same pixels */
                fn_affine mf;
        fn_image viaf;
        fn_image_alloc(&viaf, 112, 112, 3);
        T_CHECK(fn_align_arcface(&im, lmf, &viaf, &mf) == FN_OK, "align: %s", fn_last_error());
        diff_stats df = compare(&viaf, &want);
        if (df.mean > worst_float) worst_float = df.mean;
        fn_image_free(&viaf);
        n++;
        fn_image_free(&im), fn_image_free(&want);
    }
    printf("warp parity: %d crops, matrix worst |diff| %.2g, pixels mean of means %.4f, worst mean %.4f [%s], worst max %d\n",
           n, worst_m, n ? sum_mean / n : 0, worst_mean, worst_name, worst_max);
    printf("warp parity via float landmarks (fn_align_arcface): worst mean %.4f\n", worst_float);
    T_CHECK(worst_float <= 1.0, "float-landmark alignment mean %.3f", worst_float);
    T_CHECK(n >= 100, "only %d aligned crops compared", n);
    fn_image_free(&out);
    cJSON_Delete(j);
}

int main(void)
{
    test_resize_hand();
    test_crop_rect_std();
    test_similarity_hand();
    test_warp_hand_and_ref();
    test_crop_parity();
    test_warp_parity();
    return T_DONE();
}
