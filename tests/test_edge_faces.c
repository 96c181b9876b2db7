/* Faces at the edge of the picture: a close-up where the face fills the
 * frame (cut at the eyebrows and chin) and a face shifted so that part of
 * it is off the image must be found by MTCNN's edge retry and not without
 * it; boxes and landmarks come back in the cut image's coordinates (oracle:
 * the same face found in the whole photo, moved by the cut's offset), and a
 * face whose landmarks lie outside aligns and embeds.  Also prints how many
 * cases each pad size finds (how FN_EDGE_PAD was chosen). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facenet.h"
#include "detect/mtcnn.h"
#include "image/image.h"
#include "io/weights.h"
#include "t.h"

static const char *photos[] = {"Mohanlal/8.jpeg", "Deepika Padukone/5.jpg", "Shobana/7.jpeg", "Hritik Roshan/2.jpg",
                               "Nazriya/1.jpg", "Mammootty/3.jpeg"};
#define NPHOTOS (int)(sizeof photos / sizeof photos[0])

enum { CUT_CLOSEUP, CUT_LEFT_HALF, CUT_TOP, NCUTS };
static const char *cut_names[NCUTS] = {"close-up", "left 45% off", "top 40% off"};

typedef struct edge_case {
    fn_image img;     /* the cut picture */
    int dx, dy;       /* where its (0,0) was in the photo */
    fn_face truth;    /* the face in the whole photo */
    char name[128];
} edge_case;

static fn_engine *make_engine(int edge_retry)
{
    fn_options o;
    fn_options_init(&o);
    o.models_dir = getenv("MODELS") ? getenv("MODELS") : "models";
    o.edge_retry = edge_retry;
    fn_engine *e = NULL;
    if (fn_engine_new(&o, &e) != FN_OK) {
        fprintf(stderr, "engine: %s\n", fn_last_error());
        exit(1);
    }
    return e;
}

static int biggest(const fn_face *f, int n)
{
    int k = -1;
    float best = 0;
    for (int i = 0; i < n; i++) {
        float a = (f[i].box[2] - f[i].box[0]) * (f[i].box[3] - f[i].box[1]);
        if (a > best) best = a, k = i;
    }
    return k;
}

/* The rectangle of the photo the cut keeps (clamped to the photo). */
static void cut_rect(int cut, const fn_face *f, int w, int h, int *x0, int *y0, int *x1, int *y1)
{
    float bw = f->box[2] - f->box[0], bh = f->box[3] - f->box[1];
    float eye_y = (f->landmarks[0][1] + f->landmarks[1][1]) / 2;
    *x0 = 0, *y0 = 0, *x1 = w, *y1 = h;
    if (cut == CUT_CLOSEUP) {          /* tight: cheeks, eyebrows to chin */
        *x0 = (int)(f->box[0] + 0.08f * bw), *x1 = (int)(f->box[2] - 0.08f * bw);
        *y0 = (int)(eye_y - 0.22f * bh), *y1 = (int)(f->box[3] - 0.02f * bh);
    } else if (cut == CUT_LEFT_HALF) { /* the face's left 45 % is off the picture */
        *x0 = (int)(f->box[0] + 0.45f * bw);
    } else {                           /* the top 40 % (forehead, eyes) is off */
        *y0 = (int)(f->box[1] + 0.40f * bh);
    }
    if (*x0 < 0) *x0 = 0;
    if (*y0 < 0) *y0 = 0;
    if (*x1 > w) *x1 = w;
    if (*y1 > h) *y1 = h;
}

static int make_cases(fn_engine *e, edge_case *cases)
{
    int n = 0;
    for (int p = 0; p < NPHOTOS; p++) {
        char rel[256];
        snprintf(rel, sizeof rel, "fixtures/film/Predict/%s", photos[p]);
        fn_image photo;
        if (fn_image_load(t_shared(rel), NULL, &photo) != FN_OK) {
            T_CHECK(0, "%s: %s", rel, fn_last_error());
            continue;
        }
        fn_face f[16];
        int nf = 0;
        T_CHECK(fn_detect(e, &photo, f, 16, &nf) == FN_OK, "%s", fn_last_error());
        int k = biggest(f, nf < 16 ? nf : 16);
        T_CHECK(k >= 0, "%s: no face in the whole photo", rel);
        for (int c = 0; k >= 0 && c < NCUTS; c++) {
            int x0, y0, x1, y1;
            cut_rect(c, &f[k], photo.w, photo.h, &x0, &y0, &x1, &y1);
            edge_case *ec = &cases[n];
            if (x1 - x0 < 24 || y1 - y0 < 24 || fn_image_alloc(&ec->img, x1 - x0, y1 - y0, 3) != FN_OK) continue;
            fn_image_crop(&photo, x0, y0, x1 - x0, y1 - y0, &ec->img);
            ec->dx = x0, ec->dy = y0, ec->truth = f[k];
            snprintf(ec->name, sizeof ec->name, "%s %s", photos[p], cut_names[c]);
            n++;
        }
        fn_image_free(&photo);
    }
    return n;
}

/* The face found is the photo's face: its box, moved into the photo, and
 * the photo's box, both clipped to the cut, overlap with IoU >= 0.4 (a cut
 * face's box covers what is visible, so it cannot equal the whole box). */
static int agrees(const edge_case *ec, const fn_face *f, float *iou)
{
    float cx1 = (float)ec->dx, cy1 = (float)ec->dy, cx2 = cx1 + ec->img.w, cy2 = cy1 + ec->img.h;
    float a[4] = {f->box[0] + cx1, f->box[1] + cy1, f->box[2] + cx1, f->box[3] + cy1};
    float b[4];
    memcpy(b, ec->truth.box, sizeof b);
    float lo[2] = {cx1, cy1}, hi[2] = {cx2, cy2};
    for (int k = 0; k < 4; k++) {
        a[k] = fminf(fmaxf(a[k], lo[k & 1]), hi[k & 1]);
        b[k] = fminf(fmaxf(b[k], lo[k & 1]), hi[k & 1]);
    }
    float iw = fminf(a[2], b[2]) - fmaxf(a[0], b[0]), ih = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    float inter = iw > 0 && ih > 0 ? iw * ih : 0;
    float uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    *iou = uni > 0 ? inter / uni : 0;
    return *iou >= 0.4f;
}

static void check_retry(fn_engine *plain, fn_engine *retry, edge_case *cases, int n)
{
    int found_plain = 0, found_retry = 0, right = 0, outside = 0, aligned = 0;
    for (int i = 0; i < n; i++) {
        edge_case *ec = &cases[i];
        fn_face f[8];
        int n0 = 0, n1 = 0;
        T_CHECK(fn_detect(plain, &ec->img, f, 8, &n0) == FN_OK, "%s", fn_last_error());
        T_CHECK(fn_detect(retry, &ec->img, f, 8, &n1) == FN_OK, "%s", fn_last_error());
        found_plain += n0 > 0;
        int k = biggest(f, n1 < 8 ? n1 : 8);
        float err = 0;
        int ok = k >= 0 && agrees(ec, &f[k], &err);
        found_retry += k >= 0;
        right += ok;
        int inside = k >= 0 && fn_face_landmarks_inside(&f[k], ec->img.w, ec->img.h);
        printf("  %-36s %4dx%-4d without retry %d face(s), with %d%s%s\n", ec->name, ec->img.w, ec->img.h, n0, n1,
               k >= 0 ? (ok ? ", matches the whole photo's face" : ", NOT the whole photo's face") : "",
               k >= 0 && !inside ? ", landmarks outside" : "");
        if (k >= 0 && n0 == 0 && !inside) {
            outside++;
            fn_image crop;
            float emb[512];
            fn_status s = fn_align_face(retry, &ec->img, &f[k], &crop);
            if (s == FN_OK) {
                s = fn_embed_faces(retry, &ec->img, &f[k], 1, emb);
                double norm = 0;
                for (int d = 0; s == FN_OK && d < fn_engine_dim(retry); d++) norm += emb[d] * emb[d];
                aligned += s == FN_OK && fabs(norm - 1.0) < 1e-3;
                fn_image_free(&crop);
            }
            T_CHECK(s == FN_OK, "%s: aligning/embedding a face with landmarks outside: %s", ec->name, fn_last_error());
        }
        if (n0 == 0) T_CHECK(ok, "%s: the retry did not find the face (IoU %.2f with the photo's face)", ec->name, err);
    }
    printf("edge cases: %d; found without the retry %d, with it %d (%d at the whole photo's face); "
           "%d with landmarks outside, %d of them aligned and embedded (unit-norm embedding)\n",
           n, found_plain, found_retry, right, outside, aligned);
    /* The cases exist to need the retry: a third of them at least fail without it. */
    T_CHECK((n - found_plain) * 3 >= n, "only %d of %d cases need the retry: the cuts are not at the edge",
            n - found_plain, n);
    T_CHECK(right == n, "%d of %d cases found at the right face", right, n);
    T_CHECK(outside >= 1 && aligned == outside, "%d faces with landmarks outside, %d aligned", outside, aligned);
}

/* A face entirely inside is not touched by the retry (it runs only when the
 * first pass found nothing): same faces with and without it. */
static void check_no_change(fn_engine *plain, fn_engine *retry)
{
    fn_image photo;
    if (fn_image_load(t_shared("fixtures/film/Predict/Mohanlal/8.jpeg"), NULL, &photo) != FN_OK) return;
    fn_face a[16], b[16];
    int na = 0, nb = 0;
    fn_detect(plain, &photo, a, 16, &na);
    fn_detect(retry, &photo, b, 16, &nb);
    T_CHECK(na == nb && na > 0 && !memcmp(a, b, sizeof(fn_face) * (size_t)(na < 16 ? na : 16)),
            "whole photo: %d faces without the retry, %d with (must be identical)", na, nb);
    fn_image_free(&photo);
    /* A plain gray picture has no face either way (the retry invents none). */
    fn_image gray;
    fn_image_alloc(&gray, 200, 150, 3);
    memset(gray.data, 128, (size_t)200 * 150 * 3);
    fn_detect(retry, &gray, b, 16, &nb);
    T_CHECK(nb == 0, "gray picture: %d faces with the retry", nb);
    fn_image_free(&gray);
}

static void check_landmarks_inside(void)
{
    fn_face f = {{0, 0, 10, 10}, 1, {{1, 1}, {8, 1}, {5, 5}, {2, 8}, {8, 8}}};
    T_CHECK(fn_face_landmarks_inside(&f, 10, 10) == 1, "all inside");
    f.landmarks[4][0] = 10.0f;
    T_CHECK(fn_face_landmarks_inside(&f, 10, 10) == 0, "x == w is outside");
    f.landmarks[4][0] = 8, f.landmarks[0][1] = -0.5f;
    T_CHECK(fn_face_landmarks_inside(&f, 10, 10) == 0, "negative y is outside");
    f.landmarks[0][1] = NAN;
    T_CHECK(fn_face_landmarks_inside(&f, 10, 10) == 0, "NaN is outside");
    T_CHECK(fn_face_landmarks_inside(NULL, 10, 10) == 0, "no face");
}

/* How FN_EDGE_PAD was chosen: cases found (at the right face) per pad, with
 * the reference's P/R/O-Net weights. */
static __attribute__((unused)) void measure_pads(edge_case *cases, int n)
{
    static const char *names[3] = {"pnet", "rnet", "onet"};
    fn_weights *w[3] = {0};
    for (int i = 0; i < 3; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "fixtures/mtcnn/%s.pt", names[i]);
        if (fn_weights_load_pt(t_shared(rel), &w[i]) != FN_OK) return;
    }
    fn_mtcnn *m = NULL;
    if (fn_mtcnn_new(w[0], w[1], w[2], &m) == FN_OK) {
        static const double pads[] = {0.1, 0.25, 0.4};
        printf("pad (fraction of the short side) -> cases found at the right face, reference weights:");
        for (size_t p = 0; p < sizeof pads / sizeof pads[0]; p++) {
            fn_mtcnn_params prm = fn_mtcnn_params_default();
            prm.edge_pad = pads[p];
            int right = 0;
            for (int i = 0; i < n; i++) {
                fn_face f[8];
                int nf = 0;
                float err;
                if (fn_mtcnn_detect(m, &cases[i].img, &prm, f, 8, &nf) != FN_OK) continue;
                int k = biggest(f, nf < 8 ? nf : 8);
                right += k >= 0 && agrees(&cases[i], &f[k], &err);
            }
            printf(" %.2f: %d/%d%s", pads[p], right, n, p + 1 < sizeof pads / sizeof pads[0] ? "," : "\n");
        }
        fn_mtcnn_free(m);
    }
    for (int i = 0; i < 3; i++) fn_weights_free(w[i]);
}

int main(void)
{
    if (!t_models("MobileFaceNet.tflite")) T_SKIP("models are absent (run `make models`, or set MODELS=dir)");
    t_shared("fixtures/film/Predict");
    check_landmarks_inside();
    fn_engine *plain = make_engine(0), *retry = make_engine(1);
    edge_case cases[NPHOTOS * NCUTS];
    int n = make_cases(plain, cases);
    check_retry(plain, retry, cases, n);
    check_no_change(plain, retry);
#ifndef __SANITIZE_ADDRESS__   /* the measurement is slow under ASan and proves nothing more there */
    measure_pads(cases, n);
#endif
    for (int i = 0; i < n; i++) fn_image_free(&cases[i].img);
    fn_engine_free(plain);
    fn_engine_free(retry);
    return T_DONE();
}
