/* Crop and warp parity with the reference implementations: facenet-pytorch's
 * extract_face crops (PIL resize) and OpenCV-warped ArcFace crops in
 * ../shared/fixtures, compared level by level. */
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
    char worst_name[256] = "none differ";
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
    char worst_name[256] = "none differ";
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
    test_crop_parity();
    test_warp_parity();
    return T_DONE();
}
