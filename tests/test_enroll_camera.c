/* `facenet enroll --name NAME --camera SOURCE` on a video made here from
 * Film/Test photos of one person: the captured frames enrol that person,
 * whom `identify` then names in Predict photos; a crowd or no face is not
 * enrolled; a missing source is a clear error.  `detect --detector haar`
 * gives OpenCV's rectangles (fixtures/haar_expected.json) in MTCNN's JSON;
 * a stream cut mid-way ends watch cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "t.h"

static const char *models_dir(void)
{
    const char *m = t_models("MobileFaceNet.tflite");
    if (!m) T_SKIP("the default model bundle is absent (run `make models`)");
    static char dir[512];
    snprintf(dir, sizeof dir, "%s", m);
    *strrchr(dir, '/') = '\0';
    return dir;
}

/* A 640x480 10 fps video of the given photos, 2 s each. */
static int make_video(const char *out, const char **rel, int n)
{
    char cmd[8192], inputs[2048] = "", filters[2048] = "", labels[64] = "";
    for (int i = 0; i < n; i++) {
        char part[600];
        snprintf(part, sizeof part, " -loop 1 -t 2 -i '%s'", t_shared(rel[i]));
        strcat(inputs, part);
        snprintf(part, sizeof part, "[%d]scale=640:480:force_original_aspect_ratio=decrease,"
                                    "pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10[v%d];", i, i);
        strcat(filters, part);
        snprintf(part, sizeof part, "[v%d]", i);
        strcat(labels, part);
    }
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y%s -filter_complex \"%s%sconcat=n=%d:v=1:a=0,format=yuv420p[v]\" "
                              "-map '[v]' -c:v mpeg4 -q:v 3 '%s'", inputs, filters, labels, n, out);
    return system(cmd);
}

static void test_camera_enroll(const char *models)
{
    if (system("command -v ffmpeg >/dev/null") != 0) T_SKIP("the ffmpeg command is absent");
    const char *tmp = t_tmpdir();
    char video[512], gallery[512], saved[512];
    snprintf(video, sizeof video, "%s/mohanlal.mp4", tmp);
    snprintf(gallery, sizeof gallery, "%s/cam.db", tmp);
    snprintf(saved, sizeof saved, "%s/frames", tmp);
    const char *clips[2] = {"fixtures/film/Predict/Mohanlal/3.jpeg", "fixtures/film/Predict/Mohanlal/5.jpeg"};
    T_CHECK(make_video(video, clips, 2) == 0, "ffmpeg could not make %s", video);

    t_run r;
    t_facenet(&r, "enroll --models-dir %s --gallery %s --name Mohanlal --camera %s --frames 2 --save %s --json",
              models, gallery, video, saved);
    printf("enroll --camera -> exit %d\n%s%s", r.status, r.out, r.err);
    cJSON *sum = t_json_line(r.out, t_count_lines(r.out) - 1);
    T_CHECK(r.status == 0 && cJSON_GetNumberValue(cJSON_GetObjectItem(sum, "added")) == 2, "captured: %s", r.out);
    cJSON_Delete(sum);
    t_run_free(&r);

    /* The frames were kept, and the person is recognised in other photos. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | wc -l) -eq 2", saved);
    T_CHECK(system(cmd) == 0, "two frames saved in %s", saved);
    t_facenet(&r, "identify --models-dir %s --gallery %s --json '%s'", models, gallery,
              t_shared("fixtures/film/Predict/Mohanlal/1.jpeg"));
    cJSON *j = t_json_line(r.out, 0);
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(j, "name"));
    printf("identify after camera enrolment: %s (distance %.3f)\n", name ? name : "unknown",
           cJSON_GetNumberValue(cJSON_GetObjectItem(j, "distance")));
    T_CHECK(name && !strcmp(name, "Mohanlal"), "identified as %s: %s", name ? name : "unknown", r.err);
    cJSON_Delete(j);
    t_run_free(&r);

    /* A group photo (several clear faces) gives nothing to enrol. */
    char group[512];
    snprintf(group, sizeof group, "%s/group.mp4", tmp);
    const char *crowd[1] = {"fixtures/images/multiface.jpg"};
    T_CHECK(make_video(group, crowd, 1) == 0, "ffmpeg group video");
    t_facenet(&r, "enroll --models-dir %s --gallery %s --name Crowd --camera %s --frames 1", models, gallery, group);
    printf("crowd -> exit %d: %s", r.status, r.err);
    T_CHECK(r.status != 0 && strstr(r.err, "no usable view"), "crowd: %s", r.err);
    t_run_free(&r);

    t_facenet(&r, "enroll --models-dir %s --gallery %s --name X --camera /dev/video9", models, gallery);
    printf("missing camera -> exit %d: %s", r.status, r.err);
    T_CHECK(r.status != 0 && strstr(r.err, "/dev/video9"), "missing device: %s", r.err);
    t_run_free(&r);
    t_facenet(&r, "enroll --models-dir %s --gallery %s --camera %s", models, gallery, video);
    T_CHECK(r.status == 2, "--camera without --name is a usage error (%d)", r.status);
    t_run_free(&r);

    /* A stream that stops mid-way (the file cut in half): watch reports
     * what it saw and ends cleanly, without hanging or crashing. */
    char cut[600];
    snprintf(cut, sizeof cut, "%s/cut.ts", tmp);   /* MPEG-TS, as a live stream sends it */
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -i '%s' -c:v mpeg4 -q:v 3 -f mpegts '%s.full' && "
                              "head -c $(( $(stat -c %%s '%s.full') / 2 )) '%s.full' > '%s'", video, cut, cut, cut, cut);
    T_CHECK(system(cmd) == 0, "cut the video");
    t_facenet(&r, "watch --models-dir %s --gallery %s --headless --json %s", models, gallery, cut);
    printf("stream cut mid-way -> exit %d, %d event line(s): %s", r.status, t_count_lines(r.out), r.err);
    T_CHECK(r.status == 0 || (r.status == 1 && strstr(r.err, "cut.ts")), "cut stream: exit %d %s", r.status, r.err);
    T_CHECK(strstr(r.out, "Mohanlal") != NULL, "the frames before the cut were still recognised: %s", r.out);
    t_run_free(&r);
}

/* detect --detector haar: the cascade's rectangles, in MTCNN's JSON. */
static void test_detect_haar(const char *models)
{
    if (system("test -f /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml") != 0)
        T_SKIP("opencv-data's Haar cascade is absent");
    t_run r;
    t_facenet(&r, "detect --models-dir %s --detector haar --json %s", models, t_shared("fixtures/images/multiface.jpg"));
    T_CHECK(r.status == 0, "detect --detector haar: %s", r.err);
    cJSON *j = t_json_line(r.out, 0), *faces = cJSON_GetObjectItem(j, "faces");
    /* OpenCV 4.6 on the same image (fixtures/haar_expected.json), x,y,w,h. */
    cJSON *exp = NULL;
    FILE *f = fopen(t_shared("fixtures/haar_expected.json"), "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc(n + 1);
        buf[fread(buf, 1, n, f)] = '\0';
        fclose(f);
        exp = cJSON_Parse(buf);
        free(buf);
    }
    cJSON *rects = NULL, *img;
    cJSON_ArrayForEach(img, cJSON_GetObjectItem(exp, "images"))
        if (strstr(cJSON_GetStringValue(cJSON_GetObjectItem(img, "file")), "multiface")) rects = cJSON_GetObjectItem(img, "rects");
    int n = cJSON_GetArraySize(faces), m = cJSON_GetArraySize(rects), matched = 0;
    for (int i = 0; i < m; i++) {
        cJSON *rc = cJSON_GetArrayItem(rects, i);
        double x = cJSON_GetArrayItem(rc, 0)->valuedouble, y = cJSON_GetArrayItem(rc, 1)->valuedouble;
        double w = cJSON_GetArrayItem(rc, 2)->valuedouble, h = cJSON_GetArrayItem(rc, 3)->valuedouble;
        for (int k = 0; k < n; k++) {
            cJSON *box = cJSON_GetObjectItem(cJSON_GetArrayItem(faces, k), "box");
            if (cJSON_GetArrayItem(box, 0)->valuedouble == x && cJSON_GetArrayItem(box, 1)->valuedouble == y &&
                cJSON_GetArrayItem(box, 2)->valuedouble == x + w && cJSON_GetArrayItem(box, 3)->valuedouble == y + h) {
                matched++;
                T_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(faces, k), "landmarks")) == 5,
                        "haar face %d has O-Net landmarks", k);
                break;
            }
        }
    }
    printf("detect --detector haar on multiface: %d boxes, %d of OpenCV's %d rectangles exactly\n", n, matched, m);
    T_CHECK(m > 0 && matched == m && n == m, "haar boxes %d, OpenCV %d, matched %d", n, m, matched);
    cJSON_Delete(exp);
    cJSON_Delete(j);
    t_run_free(&r);
}

int main(void)
{
    const char *models = models_dir();
    test_detect_haar(models);
    test_camera_enroll(models);
    return T_DONE();
}
