/* MTCNN against facenet-pytorch: the detector on all 127 fixture images
 * (mtcnn_expected.json), each network's fast path against its reference
 * pass, NMS and resampling against hand-computed cases, and bad input. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "t.h"
#include "detect/mtcnn.h"
#include "detect/mtcnn_boxes.h"
#include "detect/mtcnn_resample.h"
#include "image/image.h"
#include "io/mtcnn_bundle.h"
#include "models/mtcnn_nets.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1   /* every 16th fixture image only: the full set takes minutes */
#else
#define SANITIZED 0
#endif

static fn_weights *W[3];
static fn_mtcnn *M;
static fn_arena A;   /* the tests' own packed networks */
static fn_pnet PN;
static fn_rnet RN;
static fn_onet ON;

/* facenet-pytorch's .pt weights from the reference data; without it the
 * model bundle's TFLite files, which hold the same numbers (test_tflite
 * compares them tensor for tensor). */
static void load_models(void)
{
    static const char *names[3] = {"pnet", "rnet", "onet"};
    char rel[64];
    char pt[4096];
    snprintf(pt, sizeof pt, "%s/fixtures/mtcnn/pnet.pt", t_shared_dir());
    struct stat st_pt;
    int from_pt = stat(pt, &st_pt) == 0;
    for (int i = 0; i < 3; i++) {
        fn_status st;
        if (from_pt) {
            snprintf(rel, sizeof rel, "fixtures/mtcnn/%s.pt", names[i]);
            st = fn_weights_load_pt(t_shared(rel), &W[i]);
        } else {
            snprintf(rel, sizeof rel, "%s.tflite", names[i]);
            const char *p = t_models(rel);
            if (!p) T_SKIP("neither the reference data's fixtures/mtcnn/%s.pt (SHARED=%s) nor models/%s "
                           "(make models) is there: no MTCNN weights", names[i], t_shared_dir(), rel);
            st = fn_mtcnn_bundle_load(p, &W[i]);
        }
        if (st != FN_OK) { fprintf(stderr, "loading %s: %s\n", rel, fn_last_error()); exit(1); }
    }
    printf("MTCNN weights: %s\n", from_pt ? "facenet-pytorch's .pt (reference data)"
                                           : "the model bundle's TFLite files (reference data absent)");
    if (fn_mtcnn_new(W[0], W[1], W[2], &M) != FN_OK ||
        fn_arena_init(&A, fn_pnet_packed_bytes() + fn_rnet_packed_bytes() + fn_onet_packed_bytes()) != FN_OK ||
        fn_pnet_pack(&PN, W[0], &A) != FN_OK || fn_rnet_pack(&RN, W[1], &A) != FN_OK ||
        fn_onet_pack(&ON, W[2], &A) != FN_OK) {
        fprintf(stderr, "%s\n", fn_last_error());
        exit(1);
    }
}

static uint32_t rng = 12345;
static float frand(void)   /* uniform in [-1, 1) */
{
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / (float)(1 << 23) - 1.0f;
}

/* ---- fast networks against their reference passes ---- */

typedef struct plane_src { const float *chw; int h, w; } plane_src;

static void nchw_row(void *ctx, int y, float *row)
{
    const plane_src *s = ctx;
    for (int x = 0; x < s->w; x++)
        for (int c = 0; c < 3; c++) row[x * 3 + c] = s->chw[((size_t)c * s->h + y) * s->w + x];
}

typedef struct map_sink { float *prob, *reg; int ow, oh; } map_sink;

static void map_row(void *ctx, int y, const float *head, int ow)
{
    map_sink *s = ctx;
    for (int x = 0; x < ow; x++) {
        s->prob[y * ow + x] = head[x * FN_MTCNN_HEAD + 1];
        for (int k = 0; k < 4; k++) s->reg[((size_t)k * s->oh + y) * ow + x] = head[x * FN_MTCNN_HEAD + 2 + k];
    }
}

/* Make every layer of the test's packed networks use row kernel k. */
static void use_row_kernel(fn_mk_row_fn k)
{
    fn_mk_conv *layers[] = {&PN.conv1, &PN.conv2, &PN.conv3, &PN.head, &RN.conv1, &RN.conv2, &RN.conv3,
                            &RN.dense4, &RN.head, &ON.conv1, &ON.conv2, &ON.conv3, &ON.conv4, &ON.dense5, &ON.head};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) layers[i]->row = k;
}

static void test_pnet_fast(void)
{
    static const int sizes[][2] = {{12, 12}, {13, 29}, {37, 53}, {64, 41}, {100, 15}};
    float worst = 0;
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int h = sizes[t][0], w = sizes[t][1], oh = fn_pnet_out_dim(h), ow = fn_pnet_out_dim(w);
        float *in = malloc(sizeof(float) * 3 * h * w), *prob[2], *reg[2];
        for (int i = 0; i < 3 * h * w; i++) in[i] = frand();
        for (int k = 0; k < 2; k++) { prob[k] = calloc(oh * ow, 4); reg[k] = calloc(4 * oh * ow, 4); }
        fn_tensor x = {1, 3, h, w, in};
        T_CHECK(fn_pnet_forward_ref(W[0], &x, prob[0], reg[0]) == FN_OK, "pnet ref: %s", fn_last_error());
        float *scratch = fn_aligned_alloc(fn_pnet_scratch_floats(w) * sizeof(float));
        plane_src src = {in, h, w};
        map_sink sink = {prob[1], reg[1], ow, oh};
        int split = oh / 3;   /* two bands: the second restarts its row stream mid-image */
        fn_pnet_band(&PN, h, w, 0, split, nchw_row, &src, map_row, &sink, scratch);
        fn_pnet_band(&PN, h, w, split, oh, nchw_row, &src, map_row, &sink, scratch);
        long where;
        float dp = t_max_abs_diff(prob[0], prob[1], (long)oh * ow, &where);
        float dr = t_max_abs_diff(reg[0], reg[1], 4L * oh * ow, &where);
        T_CHECK(dp < 2e-5f && dr < 2e-4f, "pnet %dx%d: prob diff %g, reg diff %g at %ld", h, w, dp, dr, where);
        if (dp > worst) worst = dp;
        if (dr > worst) worst = dr;
        fn_aligned_free(scratch);
        free(in);
        for (int k = 0; k < 2; k++) { free(prob[k]); free(reg[k]); }
    }
    printf("  pnet fast vs reference, 5 input sizes in two bands: worst |diff| %.3g\n", worst);
}

/* n random crops of size s: NHWC for the fast path, NCHW for the reference. */
static void random_crops(int n, int s, float **nhwc, float **nchw)
{
    *nhwc = malloc(sizeof(float) * n * s * s * 3);
    *nchw = malloc(sizeof(float) * n * s * s * 3);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++)
                for (int c = 0; c < 3; c++) {
                    float v = frand();
                    (*nhwc)[(((size_t)i * s + y) * s + x) * 3 + c] = v;
                    (*nchw)[(((size_t)i * 3 + c) * s + y) * s + x] = v;
                }
}

static void test_rnet_onet_fast(void)
{
    enum { N = 13 };
    for (int which = 0; which < 2; which++) {
        int s = which ? 48 : 24, used = which ? 16 : 6;
        float *nhwc, *nchw, ref[N * FN_MTCNN_HEAD], fast[2][N * FN_MTCNN_HEAD];
        random_crops(N, s, &nhwc, &nchw);
        fn_tensor x = {N, 3, s, s, nchw};
        fn_status st = which ? fn_onet_forward_ref(W[2], &x, ref) : fn_rnet_forward_ref(W[1], &x, ref);
        T_CHECK(st == FN_OK, "%s ref: %s", which ? "onet" : "rnet", fn_last_error());
        for (int threads = 1; threads <= 2; threads++) {
            size_t wf = which ? fn_onet_work_floats(N, threads) : fn_rnet_work_floats(N, threads);
            float *work = fn_aligned_alloc(wf * sizeof(float));
            if (which) fn_onet_forward(&ON, nhwc, N, fast[threads - 1], work, threads);
            else fn_rnet_forward(&RN, nhwc, N, fast[threads - 1], work, threads);
            fn_aligned_free(work);
        }
        float worst = 0;
        int wi = 0, wj = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < used; j++) {
                float d = fabsf(ref[i * FN_MTCNN_HEAD + j] - fast[0][i * FN_MTCNN_HEAD + j]);
                if (d > worst) { worst = d; wi = i; wj = j; }
            }
        printf("  %s fast vs reference, %d crops: worst |diff| %.3g (crop %d, output %d)\n",
               which ? "onet" : "rnet", N, worst, wi, wj);
        T_CHECK(worst < 1e-4f, "%s fast path differs by %g", which ? "onet" : "rnet", worst);
        T_CHECK(memcmp(fast[0], fast[1], sizeof fast[0]) == 0, "%s: 1 and 2 threads differ", which ? "onet" : "rnet");
        free(nhwc);
        free(nchw);
    }
}

/* ---- resampling and NMS against hand-computed cases ---- */

static void test_area_resample(void)
{
    int lo[8], hi[8];
    fn_mt_area_windows(7, 3, lo, hi);   /* floor(i*7/3), ceil((i+1)*7/3) */
    T_CHECK(lo[0] == 0 && hi[0] == 3 && lo[1] == 2 && hi[1] == 5 && lo[2] == 4 && hi[2] == 7,
            "windows 7->3: [%d,%d) [%d,%d) [%d,%d)", lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]);
    fn_mt_area_windows(3, 5, lo, hi);   /* upsampling: windows of 1 or 2 */
    T_CHECK(lo[0] == 0 && hi[0] == 1 && lo[1] == 0 && hi[1] == 2 && lo[4] == 2 && hi[4] == 3,
            "windows 3->5: [%d,%d) [%d,%d) .. [%d,%d)", lo[0], hi[0], lo[1], hi[1], lo[4], hi[4]);

    /* a 9x7 image resampled to 4x3 and to 11x8, against window means */
    enum { IW = 9, IH = 7 };
    uint8_t px[IH][IW][3];
    for (int y = 0; y < IH; y++)
        for (int x = 0; x < IW; x++)
            for (int c = 0; c < 3; c++) px[y][x][c] = (uint8_t)((x * 37 + y * 91 + c * 53) % 256);
    mt_rgb img = {&px[0][0][0], IW, IH, IW * 3};
    static const int outs[2][2] = {{4, 3}, {11, 8}};
    float worst = 0;
    for (int t = 0; t < 2; t++) {
        int ow = outs[t][0], oh = outs[t][1];
        int xl[16], xh[16], yl[16], yh[16];
        uint32_t scratch[256];
        float row[64];
        fn_mt_area_windows(IW, ow, xl, xh);
        fn_mt_area_windows(IH, oh, yl, yh);
        for (int i = 0; i < oh; i++) {
            fn_mt_area_row(&img, 0, yl[i], yh[i], xl, xh, ow, scratch, row);
            for (int j = 0; j < ow; j++)
                for (int c = 0; c < 3; c++) {
                    double sum = 0;
                    for (int y = yl[i]; y < yh[i]; y++)
                        for (int x = xl[j]; x < xh[j]; x++) sum += px[y][x][c];
                    double want = (sum / ((yh[i] - yl[i]) * (xh[j] - xl[j])) - 127.5) / 128.0;
                    float d = fabsf((float)want - row[j * 3 + c]);
                    if (d > worst) worst = d;
                }
        }
    }
    printf("area resample vs window means: worst |diff| %.3g\n", worst);
    T_CHECK(worst < 1e-6f, "area resample differs from the window mean by %g", worst);
}

static mt_box box(float x1, float y1, float x2, float y2, float s)
{
    mt_box b;
    memset(&b, 0, sizeof b);
    b.x1 = x1; b.y1 = y1; b.x2 = x2; b.y2 = y2; b.score = s;
    return b;
}

static void test_nms(void)
{
    int keep[8], order[24];
    /* IoU of A and B = 81 / (100 + 100 - 81) = 0.68 (torchvision areas, no +1) */
    mt_box b[3] = {box(1, 1, 11, 11, 0.8f), box(0, 0, 10, 10, 0.9f), box(50, 50, 60, 60, 0.7f)};
    int n = fn_mt_nms_union(b, 3, 0.5, keep, order);
    T_CHECK(n == 2 && keep[0] == 1 && keep[1] == 2, "union 0.5: %d kept, first %d", n, keep[0]);
    n = fn_mt_nms_union(b, 3, 0.7, keep, order);
    T_CHECK(n == 3 && keep[0] == 1 && keep[1] == 0 && keep[2] == 2, "union 0.7: %d kept", n);
    /* 'Min': a box inside a more probable one overlaps it fully (25/25) */
    mt_box c[2] = {box(0, 0, 9, 9, 0.9f), box(2, 2, 6, 6, 0.95f)};
    n = fn_mt_nms_min(c, 2, 0.7f, keep, order);
    T_CHECK(n == 1 && keep[0] == 1, "min: %d kept, first %d", n, keep[0]);
    /* equal scores: torchvision keeps the earlier, numpy's argsort the later */
    mt_box d[2] = {box(0, 0, 10, 10, 0.5f), box(1, 1, 10, 10, 0.5f)};
    n = fn_mt_nms_union(d, 2, 0.5, keep, order);
    T_CHECK(n == 1 && keep[0] == 0, "union tie: kept %d", keep[0]);
    n = fn_mt_nms_min(d, 2, 0.7f, keep, order);
    T_CHECK(n == 1 && keep[0] == 1, "min tie: kept %d", keep[0]);
    /* pad(): truncation toward zero, clamp to 1..w, 0-based half-open window */
    /* keep_top: the 2 most probable of 4, in their original order */
    mt_box g[4] = {box(0, 0, 1, 1, 0.2f), box(0, 0, 1, 1, 0.9f), box(0, 0, 1, 1, 0.5f), box(0, 0, 1, 1, 0.7f)};
    n = fn_mt_keep_top(g, 4, 2, order);
    T_CHECK(n == 2 && g[0].score == 0.9f && g[1].score == 0.7f, "keep_top: %d kept, %g %g", n, g[0].score, g[1].score);
    mt_box e = box(-3.7f, 2.9f, 120.2f, 40.99f, 1);
    int x0, y0, x1, y1;
    T_CHECK(fn_mt_crop_window(&e, 100, 30, &x0, &y0, &x1, &y1) && x0 == 0 && y0 == 1 && x1 == 100 && y1 == 30,
            "crop window %d %d %d %d", x0, y0, x1, y1);
    mt_box f = box(105, 3, 130, 20, 1);   /* entirely right of a 100-wide image */
    T_CHECK(!fn_mt_crop_window(&f, 100, 30, &x0, &y0, &x1, &y1), "window outside the image is not empty");
}

/* ---- the detector against mtcnn_expected.json ---- */

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    buf[got] = 0;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    return j;
}

/* Largest coordinate deviation (box and landmarks) of a found face from an
 * expected one. */
static float face_dev(const cJSON *want, const fn_face *got)
{
    float d = 0;
    const cJSON *b = cJSON_GetObjectItem(want, "box"), *lm = cJSON_GetObjectItem(want, "landmarks");
    for (int k = 0; k < 4; k++) d = fmaxf(d, fabsf((float)cJSON_GetArrayItem(b, k)->valuedouble - got->box[k]));
    for (int k = 0; k < 5; k++)
        for (int c = 0; c < 2; c++)
            d = fmaxf(d, fabsf((float)cJSON_GetArrayItem(cJSON_GetArrayItem(lm, k), c)->valuedouble -
                               got->landmarks[k][c]));
    return d;
}

typedef struct parity {
    int images, count_ok, strong, strong_found, border, border_found;
    float worst_px, worst_prob;
    char worst_where[256];
} parity;

static void check_image(const cJSON *im, const fn_image *img, const fn_face *faces, int n, parity *r)
{
    const char *file = cJSON_GetObjectItem(im, "file")->valuestring;
    const cJSON *want = cJSON_GetObjectItem(im, "faces");
    int nwant = cJSON_GetArraySize(want);
    r->images++;
    if (n == nwant) r->count_ok++;
    else printf("count differs: %s: expected %d faces, found %d\n", file, nwant, n);
    for (int i = 0; i < nwant; i++) {
        const cJSON *f = cJSON_GetArrayItem(want, i);
        float prob = (float)cJSON_GetObjectItem(f, "prob")->valuedouble;
        const cJSON *b = cJSON_GetObjectItem(f, "box");
        int border = cJSON_GetArrayItem(b, 0)->valuedouble < 0 || cJSON_GetArrayItem(b, 1)->valuedouble < 0 ||
                     cJSON_GetArrayItem(b, 2)->valuedouble > img->w || cJSON_GetArrayItem(b, 3)->valuedouble > img->h;
        float best = INFINITY, dprob = INFINITY;
        for (int k = 0; k < n; k++) {
            float d = face_dev(f, &faces[k]);
            if (d < best) { best = d; dprob = fabsf(prob - faces[k].prob); }
        }
        int ok = best <= 1.0f && dprob <= 1e-3f;
        if (prob >= 0.9f) {
            r->strong++;
            r->strong_found += ok;
            if (border) { r->border++; r->border_found += ok; }
        }
        if (!ok)
            printf("%s face %d (prob %.4f%s): closest found is %.3f px and %.2g in prob away\n", file, i, prob,
                   prob >= 0.9f ? "" : ", below 0.90 so not required", best, dprob);
        else if (best > r->worst_px || dprob > r->worst_prob) {
            if (best > r->worst_px) {
                r->worst_px = best;
                snprintf(r->worst_where, sizeof r->worst_where, "%s face %d", file, i);
            }
            if (dprob > r->worst_prob) r->worst_prob = dprob;
        }
    }
}

static void test_fixture_parity(void)
{
    const char *json = t_shared_or("fixtures/mtcnn_expected.json",
                                   "detections on the 127 fixture images against facenet-pytorch's MTCNN");
    if (!json) return;
    cJSON *root = read_json(json);
    T_CHECK(root != NULL, "cannot parse mtcnn_expected.json");
    if (!root) return;
    const cJSON *images = cJSON_GetObjectItem(root, "images");
    int total = cJSON_GetArraySize(images);
    parity r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < total; i++) {
        const cJSON *im = cJSON_GetArrayItem(images, i);
        const char *file = cJSON_GetObjectItem(im, "file")->valuestring;
        if (SANITIZED && i % 16 != 0 && !strstr(file, "Hritik Roshan/2.jpg")) continue;   /* + a border face */
        char rel[512];
        snprintf(rel, sizeof rel, "fixtures/%s", file);
        fn_image img = {0};
        fn_face faces[64];
        int n = 0;
        if (fn_image_load(t_shared(rel), NULL, &img) != FN_OK) {
            T_CHECK(0, "cannot load %s: %s", rel, fn_last_error());
            continue;
        }
        T_CHECK(img.w == cJSON_GetObjectItem(im, "width")->valueint && img.h == cJSON_GetObjectItem(im, "height")->valueint,
                "%s decoded as %dx%d", file, img.w, img.h);
        fn_status st = fn_mtcnn_detect(M, &img, NULL, faces, 64, &n);
        T_CHECK(st == FN_OK, "%s: %s", file, fn_last_error());
        if (n > 64) n = 64;
        check_image(im, &img, faces, n, &r);
        fn_image_free(&img);
    }
    printf("fixture parity: face count equal on %d of %d images; %d of %d faces with prob >= 0.90 found "
           "(%d of %d reaching past the image border); worst deviation %.4f px (%s), prob %.2g\n",
           r.count_ok, r.images, r.strong_found, r.strong, r.border_found, r.border, r.worst_px, r.worst_where,
           r.worst_prob);
    T_CHECK(r.strong_found == r.strong, "%d faces with prob >= 0.90 not found within 1 px / 1e-3",
            r.strong - r.strong_found);
    T_CHECK(r.images - r.count_ok <= 2, "face count differs on %d images (2 allowed)", r.images - r.count_ok);
    T_CHECK(SANITIZED || r.images == 127, "only %d images in the fixture", r.images);
    T_CHECK(SANITIZED || r.border >= 5, "fixture has only %d strong faces crossing the border", r.border);
    cJSON_Delete(root);
}

static fn_status load_fixture(const char *rel, fn_image *img, const char *what)
{
    const char *p = t_shared_or(rel, what);
    if (!p) return FN_ERR_IO;
    fn_status st = fn_image_load(p, NULL, img);
    T_CHECK(st == FN_OK, "%s: %s", rel, fn_last_error());
    return st;
}

/* Same faces, bit for bit, whatever the thread count; max_faces truncates. */
static void test_threads_and_truncation(void)
{
    fn_image img = {0};
    if (load_fixture("fixtures/images/multiface.jpg", &img,
                     "the same 6 faces on multiface.jpg with 1 and 2 threads; max_faces truncation") != FN_OK)
        return;
    fn_face one[16], two[16], first2[2];
    int n1 = 0, n2 = 0, nt = 0;
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    T_CHECK(fn_mtcnn_detect(M, &img, NULL, one, 16, &n1) == FN_OK, "%s", fn_last_error());
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    T_CHECK(fn_mtcnn_detect(M, &img, NULL, two, 16, &n2) == FN_OK, "%s", fn_last_error());
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    T_CHECK(n1 == 6 && n1 == n2 && memcmp(one, two, sizeof(fn_face) * n1) == 0,
            "1 thread: %d faces, 2 threads: %d faces, or their values differ", n1, n2);
    T_CHECK(fn_mtcnn_detect(M, &img, NULL, first2, 2, &nt) == FN_OK && nt == 6 &&
                memcmp(first2, one, sizeof first2) == 0, "max_faces 2: %d found, first two must match", nt);
    for (int i = 1; i < n1; i++) T_CHECK(one[i - 1].prob >= one[i].prob, "faces not sorted by probability");
    fn_image_free(&img);
}

/* O-Net on a given box, against the PyTorch peer (bench/mtcnn_peer.py refine). */
static void test_refine(void)
{
    static const struct {
        const char *file;
        float in[4], box[4], prob, lm[5][2];
    } cases[] = {
        {"fixtures/images/multiface.jpg", {410, 140, 500, 230},
         {416.9414f, 132.1727f, 498.8028f, 241.5411f}, 0.9996562f,
         {{451.0651f, 175.1252f}, {487.5228f, 178.4293f}, {474.1434f, 202.4765f}, {451.3231f, 216.5650f}, {482.9652f, 216.8080f}}},
        {"fixtures/film/Predict/Hritik Roshan/2.jpg", {300, -20, 640, 450},   /* reaches above the image */
         {302.3206f, -30.1294f, 636.1076f, 446.3594f}, 0.8656597f,
         {{420.9571f, 140.9045f}, {573.3938f, 150.1769f}, {506.7373f, 236.5086f}, {420.5830f, 328.5652f}, {548.0983f, 334.9664f}}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        fn_image img = {0};
        char what[256];
        snprintf(what, sizeof what, "O-Net refine against the PyTorch peer on %s", cases[c].file);
        if (load_fixture(cases[c].file, &img, what) != FN_OK) continue;
        fn_face f;
        T_CHECK(fn_mtcnn_refine(M, &img, cases[c].in, &f) == FN_OK, "refine: %s", fn_last_error());
        float d = 0;
        for (int k = 0; k < 4; k++) d = fmaxf(d, fabsf(f.box[k] - cases[c].box[k]));
        for (int k = 0; k < 5; k++)
            for (int j = 0; j < 2; j++) d = fmaxf(d, fabsf(f.landmarks[k][j] - cases[c].lm[k][j]));
        printf("refine %s: %.4f px, prob %.2g from the peer\n", cases[c].file, d, fabsf(f.prob - cases[c].prob));
        T_CHECK(d <= 1.0f && fabsf(f.prob - cases[c].prob) <= 1e-3f, "refine %s: %g px, prob %g vs %g",
                cases[c].file, d, f.prob, cases[c].prob);
        float outside[4] = {5000, 5000, 5100, 5100};
        T_CHECK(fn_mtcnn_refine(M, &img, outside, &f) == FN_ERR_ARG, "a box outside the image is refused");
        fn_image_free(&img);
    }
}

static void test_no_faces(void)
{
    static const int sizes[][2] = {{640, 480}, {11, 11}, {1, 1}, {19, 500}, {33, 20}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int w = sizes[t][0], h = sizes[t][1];
        uint8_t *px = malloc((size_t)w * h * 3);
        memset(px, 128, (size_t)w * h * 3);   /* blank grey */
        fn_face f[4];
        int n = -1;
        fn_status st = fn_mtcnn_detect_rgb(M, px, w, h, (size_t)w * 3, NULL, f, 4, &n);
        T_CHECK(st == FN_OK && n == 0, "blank %dx%d: status %d, %d faces", w, h, st, n);
        free(px);
    }
    /* random noise: whatever is found must be a well-formed face */
    int w = 300, h = 200, n = 0;
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) px[i] = (uint8_t)(frand() * 127 + 128);
    fn_face f[64];
    T_CHECK(fn_mtcnn_detect_rgb(M, px, w, h, (size_t)w * 3, NULL, f, 64, &n) == FN_OK, "noise: %s", fn_last_error());
    for (int i = 0; i < n && i < 64; i++)
        T_CHECK(f[i].prob > 0.7f && f[i].box[2] > f[i].box[0] && isfinite(f[i].landmarks[4][1]), "noise face %d", i);
    free(px);
}

static void test_bad_input(void)
{
    uint8_t px[64 * 64 * 3] = {0};
    fn_face f[2];
    int n;
    fn_mtcnn_params p = fn_mtcnn_params_default();
    T_CHECK(fn_mtcnn_detect_rgb(M, NULL, 64, 64, 192, NULL, f, 2, &n) == FN_ERR_ARG, "NULL pixels");
    T_CHECK(fn_mtcnn_detect_rgb(M, px, 0, 64, 192, NULL, f, 2, &n) == FN_ERR_ARG, "zero width");
    T_CHECK(fn_mtcnn_detect_rgb(M, px, 64, 64, 100, NULL, f, 2, &n) == FN_ERR_ARG, "stride shorter than a row");
    T_CHECK(fn_mtcnn_detect_rgb(M, px, 64, 64, 192, NULL, NULL, 2, &n) == FN_ERR_ARG, "no room for faces");
    T_CHECK(fn_mtcnn_detect_rgb(M, px, 100000, 64, 300000, NULL, f, 2, &n) == FN_ERR_LIMIT, "100000 px wide");
    p.factor = 1.0;
    T_CHECK(fn_mtcnn_detect_rgb(M, px, 64, 64, 192, &p, f, 2, &n) == FN_ERR_ARG, "factor 1 never ends");
    p = fn_mtcnn_params_default();
    p.min_face = 0;
    T_CHECK(fn_mtcnn_detect_rgb(M, px, 64, 64, 192, &p, f, 2, &n) == FN_ERR_ARG, "min_face 0");
    p.min_face = 0.01;
    T_CHECK(fn_mtcnn_detect_rgb(M, px, 64, 64, 192, &p, f, 2, &n) == FN_ERR_LIMIT, "min_face 0.01: 1200x pyramid");
    p = fn_mtcnn_params_default();
    p.factor = 0.999;
    T_CHECK(fn_mtcnn_detect_rgb(M, px, 64, 64, 192, &p, f, 2, &n) == FN_ERR_LIMIT && strstr(fn_last_error(), "scales"),
            "factor 0.999: %s", fn_last_error());
    fn_image gray = {8, 8, 1, px};
    T_CHECK(fn_mtcnn_detect(M, &gray, NULL, f, 2, &n) == FN_ERR_ARG, "a gray image is refused");
    fn_mtcnn *bad = NULL;
    fn_status st = fn_mtcnn_new(W[1], W[0], W[2], &bad);   /* R-Net weights offered as P-Net */
    T_CHECK(st == FN_ERR_MODEL && bad == NULL && strstr(fn_last_error(), "conv1"),
            "swapped weights: status %d, \"%s\"", st, fn_last_error());
    printf("swapped weights are refused: %s\n", fn_last_error());
}

static void test_pick(void)
{
    fn_face f[3];
    memset(f, 0, sizeof f);
    float boxes[3][4] = {{0, 0, 50, 50}, {70, 70, 100, 100}, {10, 10, 70, 70}};
    float probs[3] = {0.95f, 0.999f, 0.9f};
    for (int i = 0; i < 3; i++) { memcpy(f[i].box, boxes[i], sizeof boxes[i]); f[i].prob = probs[i]; }
    T_CHECK(fn_mtcnn_pick(f, 3, 100, 100, FN_PICK_LARGEST) == 2, "largest");
    T_CHECK(fn_mtcnn_pick(f, 3, 100, 100, FN_PICK_PROBABILITY) == 1, "most probable");
    /* keys: 2500 - 2*1250 = 0; 900 - 2*2450 = -4000; 3600 - 2*50 = 3500 */
    T_CHECK(fn_mtcnn_pick(f, 3, 100, 100, FN_PICK_CENTER_WEIGHTED) == 2, "centre weighted");
    f[2].box[0] = 60; f[2].box[1] = 0; f[2].box[2] = 100; f[2].box[3] = 60;   /* 2400 - 2*1300 = -200 */
    T_CHECK(fn_mtcnn_pick(f, 3, 100, 100, FN_PICK_CENTER_WEIGHTED) == 0, "centre weighted, moved");
    T_CHECK(fn_mtcnn_pick(f, 0, 100, 100, FN_PICK_LARGEST) == -1, "no faces");
}

int main(void)
{
    load_models();
    fn_mk_row_fn kernels[4];
    const char *names[4];
    int nk = fn_mk_row_kernels(kernels, names, 4);
    for (int k = nk - 1; k >= 0; k--) {   /* the packed default (k = 0) last: later tests use it */
        printf("row kernel %s:\n", names[k]);
        use_row_kernel(kernels[k]);
        test_pnet_fast();
        test_rnet_onet_fast();
    }
    test_area_resample();
    test_nms();
    test_pick();
    test_bad_input();
    test_no_faces();
    test_refine();
    test_threads_and_truncation();
    test_fixture_parity();
    fn_mtcnn_free(M);
    fn_arena_release(&A);
    for (int i = 0; i < 3; i++) fn_weights_free(W[i]);
    return T_DONE();
}
