/* What the CLI tells about damaged-but-usable input and faces cut by the
 * border (issue 9 kinds 7 and 8), end to end through `facenet`:
 * - a JPEG without its end marker: detect/identify/embed succeed, say
 *   "warning: ... lacks its end marker" on stderr, and detect's JSON record
 *   carries the same sentence as "warning";
 * - a face whose left eye is cut off by the picture's edge: found (the edge
 *   retry), and its JSON record says "landmarks_outside": true — oracle: the
 *   cut's x offset placed past the left-eye landmark found in the whole photo;
 *   the whole photo's record has no such field;
 * - a video cut short of what its container announces: watch reads it to its
 *   end, exits 0, and says how much was there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "facenet.h"
#include "t.h"

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) { free(p); p = NULL; }
    fclose(f);
    *n = (size_t)len;
    return p;
}

static void check_eoi(const char *dir, const char *photo)
{
    size_t n;
    unsigned char *jpg = read_file(photo, &n);
    T_CHECK(jpg && n > 2 && jpg[n - 2] == 0xFF && jpg[n - 1] == 0xD9, "%s ends with EOI", photo);
    if (!jpg) return;
    char cut[512];
    snprintf(cut, sizeof cut, "%s/no_eoi.jpg", dir);
    T_CHECK(write_file(cut, jpg, n - 2) == 0, "write %s", cut);
    free(jpg);
    t_run r;
    t_facenet(&r, "detect --json %s", cut);
    T_CHECK(r.status == 0, "detect on a JPEG without EOI exits 0 (got %d): %s", r.status, r.err);
    T_CHECK(strstr(r.err, "warning:") && strstr(r.err, "end marker"), "detect warns on stderr: %s", r.err);
    cJSON *rec = t_json_line(r.out, 0);
    const cJSON *w = rec ? cJSON_GetObjectItem(rec, "warning") : NULL;
    T_CHECK(cJSON_IsString(w) && strstr(w->valuestring, "end marker"), "JSON record carries the warning");
    const cJSON *faces = rec ? cJSON_GetObjectItem(rec, "faces") : NULL;
    T_CHECK(cJSON_GetArraySize(faces) >= 1, "the face is still found in the repaired JPEG");
    cJSON_Delete(rec);
    t_run_free(&r);
    t_facenet(&r, "embed --json %s", cut);
    T_CHECK(r.status == 0 && strstr(r.err, "end marker"), "embed exits 0 and warns (exit %d)", r.status);
    t_run_free(&r);
}

static void check_edge(const char *dir, const char *photo)
{
    fn_image img = {0};
    T_CHECK(fn_image_load(photo, NULL, &img) == FN_OK, "load %s: %s", photo, fn_last_error());
    if (!img.data) return;
    t_run r;
    t_facenet(&r, "detect --json %s", photo);
    cJSON *rec = t_json_line(r.out, 0);
    const cJSON *face = rec ? cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "faces"), 0) : NULL;
    T_CHECK(face != NULL, "a face in the whole photo: %s", r.err);
    T_CHECK(face && !cJSON_GetObjectItem(face, "landmarks_outside"), "whole photo: no landmarks_outside field");
    float left_eye_x = face ? (float)cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(face, "landmarks"), 0), 0)
                                  ->valuedouble
                            : 0;
    float box_x2 = face ? (float)cJSON_GetArrayItem(cJSON_GetObjectItem(face, "box"), 2)->valuedouble : 0;
    cJSON_Delete(rec);
    t_run_free(&r);
    if (!face) { fn_image_free(&img); return; }
    /* cut just right of the left eye (the image's left side): that landmark is off the picture */
    int x0 = (int)left_eye_x + 6;
    T_CHECK(x0 < box_x2, "cut keeps part of the face");
    fn_image part = {0};
    T_CHECK(fn_image_alloc(&part, img.w - x0, img.h, 3) == FN_OK, "alloc");
    T_CHECK(fn_image_crop(&img, x0, 0, img.w - x0, img.h, &part) == FN_OK, "crop: %s", fn_last_error());
    char cut[512];
    snprintf(cut, sizeof cut, "%s/left_eye_cut.png", dir);
    T_CHECK(fn_image_save_png(cut, &part) == FN_OK, "save %s", cut);
    fn_image_free(&part);
    fn_image_free(&img);
    t_facenet(&r, "detect --json %s", cut);
    rec = t_json_line(r.out, 0);
    face = rec ? cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "faces"), 0) : NULL;
    T_CHECK(face != NULL, "the cut face is found (edge retry): %s", r.out);
    const cJSON *out = face ? cJSON_GetObjectItem(face, "landmarks_outside") : NULL;
    T_CHECK(cJSON_IsTrue(out), "cut face: \"landmarks_outside\": true");
    const cJSON *lx = face ? cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(face, "landmarks"), 0), 0) : NULL;
    T_CHECK(lx && lx->valuedouble < 0, "the left eye lies left of the picture (x = %.1f; whole photo %.1f - %d)",
            lx ? lx->valuedouble : 0.0, left_eye_x, x0);
    cJSON_Delete(rec);
    t_run_free(&r);
}

static void check_short_video(const char *dir, const char *photo_dir)
{
    char cmd[1024], clip[512], cut[512];
    snprintf(clip, sizeof clip, "%s/clip.mp4", dir);
    snprintf(cut, sizeof cut, "%s/cut.mp4", dir);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=10 -frames:v 40 -c:v mpeg4 "
             "-movflags +faststart %s", clip);
    if (system(cmd) != 0) { t_not_checked("the cut-short video (ffmpeg could not make the clip)"); return; }
    size_t n;
    unsigned char *p = read_file(clip, &n);
    T_CHECK(p && write_file(cut, p, n * 6 / 10) == 0, "write the cut clip");
    free(p);
    t_run r;
    /* enroll --camera reads the clip to its end (a test pattern: no face, so it enrols nothing: exit 1) */
    t_facenet(&r, "enroll --gallery %s/g0.db --name Nobody --camera %s", dir, cut);
    T_CHECK(r.status == 1, "enroll --camera on a faceless cut clip exits 1 (got %d)", r.status);
    T_CHECK(strstr(r.err, "warning:") && strstr(r.err, "of the 40 frames its container announces"),
            "enroll --camera says how much of the clip was there: %s", r.err);
    t_run_free(&r);
    if (!photo_dir) return;   /* watch needs somebody enrolled */
    t_facenet(&r, "enroll --gallery %s/g.db %s", dir, photo_dir);
    T_CHECK(r.status == 0, "enroll a person for watch: %s", r.err);
    t_run_free(&r);
    t_facenet(&r, "watch --headless --gallery %s/g.db %s", dir, cut);
    T_CHECK(r.status == 0, "watch on a cut-short clip exits 0 (got %d): %s", r.status, r.err);
    T_CHECK(strstr(r.err, "warning:") && strstr(r.err, "of the 40 frames its container announces"),
            "watch says how much of the clip was there: %s", r.err);
    t_run_free(&r);
}

int main(void)
{
    const char *dir = t_tmpdir();
    if (!t_models("MobileFaceNet.tflite")) T_SKIP("models are absent (run `make models`, or set MODELS=dir)");
    const char *photo = t_shared_or("fixtures/film/Film/Test/Shobana/1.jpg",
                                    "the JPEG-without-EOI and cut-face records and watch on a cut clip "
                                    "(they need a face photo)");
    /* a gallery folder of one person for watch: Film/Test/Shobana's parent is a folder per person */
    char people[512] = "";
    if (photo) {
        snprintf(people, sizeof people, "%s/people/Shobana", dir);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/'", people, photo, people);
        T_CHECK(system(cmd) == 0, "copy the photo into a gallery folder");
        snprintf(people, sizeof people, "%s/people", dir);
    }
    check_short_video(dir, photo ? people : NULL);
    if (!photo) return T_DONE();
    check_eoi(dir, photo);
    check_edge(dir, photo);
    return T_DONE();
}
