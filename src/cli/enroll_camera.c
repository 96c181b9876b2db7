#include "enroll_camera.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "faces.h"

/* A frame is worth keeping when exactly one face is clearly in view, big
 * enough to carry detail, and the view is new: some time has passed and
 * the embedding moved since the last capture (a person turning their head
 * gives the gallery more than ten copies of one pose). */
#define MIN_FACE_SIDE 64.0f
#define MIN_PROB 0.95f
#define SECOND_FACE_PROB 0.90f
#define MIN_INTERVAL_S 0.4
#define MIN_NEW_VIEW 0.15f

typedef struct capture_state {
    float *last;         /* embedding of the last capture */
    int have_last, captured, seen;
    double last_t;
} capture_state;

static int live_source(const char *src)
{
    return !strncmp(src, "/dev/", 5) || strstr(src, "://") != NULL;
}

/* Index of the one usable face, or -1 (none, too small, or a crowd). */
static int usable_face(const fn_face *faces, int n)
{
    if (n == 0 || faces[0].prob < MIN_PROB) return -1;
    if (n > 1 && faces[1].prob >= SECOND_FACE_PROB) return -1;
    float w = faces[0].box[2] - faces[0].box[0], h = faces[0].box[3] - faces[0].box[1];
    return w >= MIN_FACE_SIDE && h >= MIN_FACE_SIDE ? 0 : -1;
}

static void report(const fn_camera_enroll *c, double t, const char *path, const fn_face *f)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "person", c->name);
        cJSON_AddStringToObject(o, "file", path);
        cJSON_AddNumberToObject(o, "t", t);
        cJSON_AddItemToObject(o, "box", fn_cli_box(f->box));
        cJSON_AddNumberToObject(o, "prob", f->prob);
        cJSON_AddStringToObject(o, "status", "added");
        fn_cli_emit(o);
    } else {
        fprintf(stderr, "captured %s at %.2fs (face %.0fx%.0f, p=%.3f)\n", path, t, f->box[2] - f->box[0],
                f->box[3] - f->box[1], f->prob);
    }
}

/* Enrol frame (one usable face k) if it is a new view; 1 if captured. */
static int capture(fn_engine *e, fn_gallery *g, const fn_camera_enroll *c, capture_state *st, const fn_image *frame,
                   const fn_face *face, double t, float *emb)
{
    if (st->have_last && t - st->last_t < MIN_INTERVAL_S) return 0;
    if (fn_embed_faces(e, frame, face, 1, emb) != FN_OK) return 0;
    int dim = fn_engine_dim(e);
    if (st->have_last && fn_distance(emb, st->last, dim) < MIN_NEW_VIEW) return 0;
    char hash[65], path[4200];
    fn_sha256_hex(frame->data, (size_t)frame->w * frame->h * frame->c, hash);
    if (c->save_dir) {
        /* The person's name becomes part of a file name: no folders, no hidden files. */
        char safe[128];
        snprintf(safe, sizeof safe, "%s", c->name);
        for (char *p = safe; *p; p++)
            if (*p == '/' || (p == safe && *p == '.')) *p = '_';
        snprintf(path, sizeof path, "%s/%s_%.16s.jpg", c->save_dir, safe, hash);
        /* The name holds the pixels' hash: an existing file is this frame already. */
        if (access(path, F_OK) != 0) fn_cli_save_image("enroll", c->out, path, frame);
    } else {
        snprintf(path, sizeof path, "%s@%.2fs", c->source, t);
    }
    fn_gallery_face gf = {c->name, path, hash, {0}, face->prob, emb};
    memcpy(gf.box, face->box, sizeof gf.box);
    fn_gallery_added added;
    fn_status s = fn_gallery_add(g, &gf, &added, NULL);
    if (s != FN_OK) {
        fn_cli_fail("enroll", s);
        return 0;
    }
    memcpy(st->last, emb, sizeof(float) * dim);
    st->have_last = 1;
    st->last_t = t;
    report(c, t, path, face);
    return added == FN_GALLERY_ADDED;
}

int fn_cli_enroll_camera(fn_engine *e, fn_gallery *g, const fn_camera_enroll *c)
{
    fn_video_source *src = NULL;
    fn_status s = fn_video_open(c->source, live_source(c->source), &src);
    if (s != FN_OK) return fn_cli_fail("enroll", s);
    int dim = fn_engine_dim(e);
    float *emb = malloc(sizeof(float) * dim), *last = malloc(sizeof(float) * dim);
    capture_state st = {last, 0, 0, 0, 0};
    fn_face faces[8];
    int rc = 0;
    if (!c->json) fprintf(stderr, "looking for %s in %s: one face, facing the camera, please\n", c->name, c->source);
    while (st.captured < c->frames) {
        const fn_image *frame = NULL;
        double t = 0;
        int eof = 0, n = 0;
        s = fn_video_read(src, &frame, &t, &eof);
        if (s != FN_OK) { rc = fn_cli_fail("enroll", s); break; }
        if (eof) {
            const char *damaged = fn_video_warning(src);   /* a cut-short file, read to its end */
            if (damaged[0]) fprintf(stderr, "facenet enroll: warning: %s\n", damaged);
            break;
        }
        if (t > c->seconds) break;
        st.seen++;
        if (fn_detect(e, frame, faces, 8, &n) != FN_OK) continue;
        int k = usable_face(faces, n < 8 ? n : 8);
        if (k >= 0) st.captured += capture(e, g, c, &st, frame, &faces[k], t, emb);
    }
    fn_video_close(src);
    free(emb);
    free(last);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "summary", "enroll");
        cJSON_AddStringToObject(o, "person", c->name);
        cJSON_AddNumberToObject(o, "frames_seen", st.seen);
        cJSON_AddNumberToObject(o, "added", st.captured);
        fn_cli_emit(o);
    } else {
        printf("enrolled %d frame(s) of %s from %s (%d frame(s) looked at)\n", st.captured, c->name, c->source, st.seen);
    }
    if (!rc && st.captured == 0) {
        fprintf(stderr, "facenet enroll: no usable view of a single face in %s\n", c->source);
        rc = 1;
    }
    return rc;
}
