/* Damaged but usable input.
 *
 * JPEG: a file that lacks only its end marker (EOI) decodes, with a warning
 * in fn_image_notes, to exactly the pixels of the complete file (baseline,
 * progressive, with restart markers, gray); a file cut inside its entropy
 * data (anywhere from the first scan to 1 byte before the end of the data)
 * stays an error, "JPEG data ends early".  A complete file has no warning.
 *
 * Video: a file cut short (a copy or recording that stopped) is read to its
 * end — the frames before the cut — with a warning saying how many of the
 * frames the container announces were there; a complete file reads all of
 * them with no warning; `watch` runs such a file to its end with exit 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "cli_util.h"
#include "facenet.h"
#include "image/image.h"
#include "t.h"
#include "t_jpeg.h"
#include "video/video.h"

static char tmp[256];

static int sh(const char *cmd) { return system(cmd) == 0 ? 0 : -1; }

typedef struct membuf { uint8_t *p; size_t n; } membuf;

enum { PLAIN, PROGRESSIVE, RESTARTS, GRAY, NKINDS };
static const char *kind_names[NKINDS] = {"baseline", "progressive", "restart markers", "gray"};

static membuf make_jpeg(const fn_image *img, int kind)
{
    t_jpeg_opts o = {.quality = 90, .comps = 3, .gray_out = kind == GRAY, .progressive = kind == PROGRESSIVE,
                     .restart_rows = kind == RESTARTS};
    membuf m = {0};
    t_jpeg_encode(img->data, img->w, img->h, (size_t)img->w * 3, &o, &m.p, &m.n);
    return m;
}

static void write_file(const char *path, const void *p, size_t n) { t_write_file(path, p, n); }

/* Offset of the first SOS marker's data: truncations before it are header damage. */
static size_t first_scan(const membuf *j)
{
    for (size_t i = 2; i + 1 < j->n; i++)
        if (j->p[i] == 0xFF && j->p[i + 1] == 0xDA) return i + 2;
    return j->n;
}

static void test_jpeg(void)
{
    fn_image img;
    fn_image_alloc(&img, 123, 77, 3);   /* not whole MCUs: partial blocks at the edges */
    for (int y = 0; y < img.h; y++)
        for (int x = 0; x < img.w; x++) {
            uint8_t *p = fn_image_px(&img, x, y);
            p[0] = (uint8_t)(x * 2), p[1] = (uint8_t)(y * 3), p[2] = (uint8_t)((x ^ y) * 5);
        }
    int eoi_ok = 0, cuts = 0, cuts_refused = 0;
    for (int k = 0; k < NKINDS; k++) {
        membuf j = make_jpeg(&img, k);
        T_CHECK(j.n > 4 && j.p[j.n - 2] == 0xFF && j.p[j.n - 1] == 0xD9, "%s: encoder wrote no EOI", kind_names[k]);
        char full[600], noeoi[600];
        snprintf(full, sizeof full, "%s/full%d.jpg", tmp, k);
        snprintf(noeoi, sizeof noeoi, "%s/noeoi%d.jpg", tmp, k);
        write_file(full, j.p, j.n);
        write_file(noeoi, j.p, j.n - 2);
        fn_image a, b;
        fn_image_notes na, nb;
        fn_status sa = fn_image_load_ex(full, NULL, &a, &na);
        fn_status sb = fn_image_load_ex(noeoi, NULL, &b, &nb);
        T_CHECK(sa == FN_OK && na.warning[0] == '\0', "%s complete: %s / warning '%s'", kind_names[k], fn_last_error(), na.warning);
        T_CHECK(sb == FN_OK, "%s without EOI: %s", kind_names[k], fn_last_error());
        int same = sa == FN_OK && sb == FN_OK && a.w == b.w && a.h == b.h && !memcmp(a.data, b.data, (size_t)a.w * a.h * 3);
        T_CHECK(same, "%s without EOI: pixels differ from the complete file", kind_names[k]);
        T_CHECK(strstr(nb.warning, "noeoi") && strstr(nb.warning, "end marker"), "%s without EOI: warning '%s'",
                kind_names[k], nb.warning);
        eoi_ok += same && nb.warning[0];
        if (k == 0) printf("without EOI: %s\n", nb.warning);
        /* fn_image_load (no notes) accepts it too. */
        fn_image c;
        T_CHECK(fn_image_load(noeoi, NULL, &c) == FN_OK, "%s without EOI, fn_image_load: %s", kind_names[k], fn_last_error());
        fn_image_free(&c);
        fn_image_free(&a);
        fn_image_free(&b);
        /* Cut inside the data: every cut from the first scan to the last data byte is an error. */
        size_t s0 = first_scan(&j);
        size_t step = (j.n - 2 - s0) / 23 + 1;
        for (size_t cut = s0; cut < j.n - 2; cut += step) {
            size_t at = cut + step >= j.n - 2 ? j.n - 3 : cut;   /* the last one: 1 data byte missing */
            fn_image d;
            fn_status s = fn_image_decode(j.p, at, "cut.jpg", NULL, &d);
            cuts++;
            int refused = s == FN_ERR_FORMAT && strstr(fn_last_error(), "ends early") && d.data == NULL;
            cuts_refused += refused;
            T_CHECK(refused, "%s cut at %zu of %zu: status %s (%s)", kind_names[k], at, j.n, fn_status_name(s), fn_last_error());
            fn_image_free(&d);
        }
        free(j.p);
    }
    printf("JPEG without EOI: %d of %d kinds (%s, %s, %s, %s) decode to the complete file's pixels with a warning; "
           "cut inside the data: %d of %d cuts refused as truncated\n", eoi_ok, NKINDS, kind_names[0], kind_names[1],
           kind_names[2], kind_names[3], cuts_refused, cuts);
    fn_image_free(&img);
}

/* Read a whole video; frames read, counts and warning. */
static int read_all(const char *path, int64_t *read, int64_t *expected, char *warning, size_t cap)
{
    fn_video_source *v = NULL;
    if (fn_video_open(path, 0, &v) != FN_OK) return -1;
    int n = 0;
    fn_status s = FN_OK;
    for (;;) {
        const fn_image *f;
        double t;
        int eof;
        s = fn_video_read(v, &f, &t, &eof);
        if (s != FN_OK || eof) break;
        n++;
    }
    fn_video_frame_counts(v, read, expected);
    snprintf(warning, cap, "%s", fn_video_warning(v));
    fn_video_close(v);
    return s == FN_OK ? n : -1;
}

static void test_video(void)
{
    if (sh("command -v ffmpeg >/dev/null")) {
        printf("video: skipped (no ffmpeg CLI)\n");
        return;
    }
    /* 40 frames at 10 fps; MP4 with its index first (as phones and
     * streaming writers do: a cut file still opens), and MKV. */
    static const struct { const char *ext, *args; } kinds[] = {
        {"mp4", "-c:v mpeg4 -q:v 4 -g 10 -movflags +faststart"},
        {"mkv", "-c:v mpeg4 -q:v 4 -g 10"},
    };
    for (int k = 0; k < 2; k++) {
        char full[600], cut[600], cmd[2000];
        snprintf(full, sizeof full, "%s/clip.%s", tmp, kinds[k].ext);
        snprintf(cut, sizeof cut, "%s/cut.%s", tmp, kinds[k].ext);
        snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=10 -frames:v 40 %s '%s'",
                 kinds[k].args, full);
        if (sh(cmd)) { T_CHECK(0, "ffmpeg could not make %s", full); continue; }
        int64_t rd = 0, ex = 0;
        char warn[1500];
        int n = read_all(full, &rd, &ex, warn, sizeof warn);
        printf("%s complete: %d frames read, %lld announced, warning '%s'\n", kinds[k].ext, n, (long long)ex, warn);
        T_CHECK(n == 40 && rd == 40 && ex == 40 && warn[0] == '\0', "%s complete: %d read (%lld), %lld announced, '%s'",
                kinds[k].ext, n, (long long)rd, (long long)ex, warn);
        /* Cut at 60 % of the bytes. */
        FILE *f = fopen(full, "rb");
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *b = malloc((size_t)len);
        size_t got = fread(b, 1, (size_t)len, f);
        fclose(f);
        write_file(cut, b, got * 6 / 10);
        free(b);
        n = read_all(cut, &rd, &ex, warn, sizeof warn);
        printf("%s cut at 60 %% of its bytes: %d frames read, %lld announced; warning: %s\n", kinds[k].ext, n,
               (long long)ex, warn);
        T_CHECK(n >= 10 && n < 40, "%s cut: %d frames read (the part before the cut is usable)", kinds[k].ext, n);
        T_CHECK(rd == n && ex == 40, "%s cut: counts %lld read, %lld announced", kinds[k].ext, (long long)rd, (long long)ex);
        char want[64];
        snprintf(want, sizeof want, "after %d of the 40 frames", n);
        T_CHECK(strstr(warn, want) && strstr(warn, "cut.") && strstr(warn, "cut short"), "%s cut: warning '%s' lacks '%s'",
                kinds[k].ext, warn, want);
        /* watch processes it to its end, exit 0. */
        const char *models = getenv("MODELS") ? getenv("MODELS") : "models";
        if (k == 0 && t_models("MobileFaceNet.tflite")) {
            char gal[700];
            snprintf(gal, sizeof gal, "%s/g.db", tmp);
            snprintf(cmd, sizeof cmd, "mkdir -p '%s/gal/A' && ln -sf '%s' '%s/gal/A/1.jpg'", tmp,
                     t_shared("fixtures/film/Predict/Mohanlal/8.jpeg"), tmp);
            sh(cmd);
            t_run r;
            char galdir[600];
            snprintf(galdir, sizeof galdir, "%s/gal", tmp);
            t_facenet(&r, "enroll --models-dir '%s' --gallery '%s' '%s'", models, gal, galdir);
            t_run_free(&r);
            t_facenet(&r, "watch --models-dir '%s' --gallery '%s' --headless '%s'", models, gal, cut);
            char frames[64];
            snprintf(frames, sizeof frames, "%d frames in", n);
            T_CHECK(r.status == 0 && strstr(r.err, frames), "watch on the cut file: exit %d, '%s' (want '%s')", r.status,
                    r.err, frames);
            printf("watch on the cut mp4: exit %d\n", r.status);
            t_run_free(&r);
        }
    }
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "%s", t_tmpdir());
    test_jpeg();
    test_video();
    return T_DONE();
}
