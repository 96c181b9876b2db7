/* fn_detect_region: the Haar engine's scan on part of an image must find
 * again the faces the scan of the whole image finds — at least 3 in 4 of
 * them, each at overlap >= 0.75 — when the region is the face grown by one
 * side each way (what the watcher scans around a track).  On a photo at full size (reduction 1) and on a frame of
 * the 1080p crowd clip (reduced 2x), with haar_reduce 1 and 2.
 * Oracle: fn_detect on the whole image.  Also: the errors it names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facenet.h"
#include "t.h"

/* A region's pyramid levels are resampled from the region, not the whole
 * image: OpenCV rounds each level's size, so the sampling grid's phase and
 * step origin differ by up to a level pixel or two, and the grouped
 * rectangle moves by as much (a 100 px face: 2-4 px each side). */
#define MIN_IOU 0.75f

static float iou(const float a[4], const float b[4])
{
    float iw = fminf(a[2], b[2]) - fmaxf(a[0], b[0]), ih = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih, ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return inter / ua;
}

static void check_image(const char *what, const fn_image *img, int reduce)
{
    fn_options o;
    fn_options_init(&o);
    o.models_dir = getenv("MODELS") ? getenv("MODELS") : "models";
    o.detector = FN_DETECTOR_HAAR;
    o.haar_scale = 1.2;
    o.haar_reduce = reduce;
    o.min_face = 40;
    o.detector_only = 1;
    fn_engine *e = NULL;
    fn_status s = fn_engine_new(&o, &e);
    T_CHECK(s == FN_OK, "engine: %s", fn_last_error());
    if (s != FN_OK) return;
    enum { MAX = 256 };
    static fn_face whole[MAX], part[MAX];
    int n = 0, same = 0, exact = 0;
    float worst = 1;
    s = fn_detect(e, img, whole, MAX, &n);
    T_CHECK(s == FN_OK && n > 0, "%s: fn_detect: %d faces, %s", what, n, fn_last_error());
    if (n > MAX) n = MAX;
    for (int i = 0; i < n; i++) {
        const float *b = whole[i].box;
        float side = fmaxf(b[2] - b[0], b[3] - b[1]);
        float region[4] = {b[0] - side, b[1] - side, b[2] + side, b[3] + side};
        int m = 0;
        float best = 0;
        s = fn_detect_region(e, img, region, part, MAX, &m);
        T_CHECK(s == FN_OK, "%s: region of face %d: %s", what, i, fn_last_error());
        for (int k = 0; k < m && k < MAX; k++) best = fmaxf(best, iou(part[k].box, b));
        printf("  face %d [%g %g %g %g]: best overlap in its region %.3f (%d faces there)\n", i, b[0], b[1], b[2], b[3],
               best, m);
        same += best >= MIN_IOU;
        exact += best == 1.0f;
        worst = fminf(worst, best);
    }
    printf("%s %dx%d, haar_reduce %d: %d faces in the whole image, %d found again in their regions (%d the same "
           "rectangle), worst overlap %.3f\n", what, img->w, img->h, reduce, n, same, exact, worst);
    T_CHECK(same >= n - n / 4, "%s haar_reduce %d: only %d of %d faces found again in their regions", what, reduce, same, n);
    fn_engine_free(e);
}

static void check_errors(const fn_image *img)
{
    fn_options o;
    fn_options_init(&o);
    o.models_dir = getenv("MODELS") ? getenv("MODELS") : "models";
    o.detector_only = 1;
    fn_engine *e = NULL;
    if (fn_engine_new(&o, &e) != FN_OK) return;
    fn_face f[4];
    int n = -1;
    float r[4] = {0, 0, 100, 100}, empty[4] = {50, 50, 50, 80};
    fn_status s = fn_detect_region(e, img, r, f, 4, &n);   /* an MTCNN engine */
    T_CHECK(s == FN_ERR_UNSUPPORTED && strstr(fn_last_error(), "Haar"), "MTCNN engine: %s (%s)", fn_status_name(s),
            fn_last_error());
    fn_engine_free(e);
    o.detector = FN_DETECTOR_HAAR;
    if (fn_engine_new(&o, &e) != FN_OK) return;
    s = fn_detect_region(e, img, empty, f, 4, &n);
    T_CHECK(s == FN_ERR_ARG && strstr(fn_last_error(), "empty"), "empty region: %s (%s)", fn_status_name(s),
            fn_last_error());
    float outside[4] = {-500, -500, -10, -10};
    s = fn_detect_region(e, img, outside, f, 4, &n);
    T_CHECK(s == FN_OK && n == 0, "region outside the image: %s, %d faces", fn_status_name(s), n);
    printf("errors: MTCNN engine and an empty region refused, a region outside the image finds nothing\n");
    fn_engine_free(e);
}

int main(void)
{
    if (!t_models("MobileFaceNet.tflite")) T_SKIP("models are absent (run `make models`, or set MODELS=dir)");
    fn_image photo = {0};
    fn_status s = fn_image_load(t_shared("fixtures/images/multiface.jpg"), NULL, &photo);
    T_CHECK(s == FN_OK, "multiface.jpg: %s", fn_last_error());
    if (s != FN_OK) return T_DONE();
    check_errors(&photo);
    check_image("multiface.jpg", &photo, 1);
    check_image("multiface.jpg", &photo, 2);
    fn_image_free(&photo);
    const char *clip = t_shared_or("fixtures/video/video.mp4", "regions of a 1080p frame (reduced 2x)");
    if (clip) {
        fn_video_source *v = NULL;
        const fn_image *f;
        double t;
        int eof = 1;
        s = fn_video_open(clip, 0, &v);
        if (s == FN_OK) s = fn_video_read(v, &f, &t, &eof);
        T_CHECK(s == FN_OK && !eof, "video.mp4: %s", fn_last_error());
        if (s == FN_OK && !eof) {
            check_image("video.mp4 frame 0", f, 1);
            check_image("video.mp4 frame 0", f, 2);
        }
        fn_video_close(v);
    }
    return T_DONE();
}
