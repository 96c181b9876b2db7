/* people.c — the gallery over HTTP: list, create (with a first photo),
 * rename, delete people; enrol, list (with thumbnails) and delete their
 * faces.  Enrolment takes the most probable face, as `facenet enroll` does;
 * the image's identity is the SHA-256 of the uploaded bytes.  Thumbnails
 * (96 px JPEG, base64) are kept in the gallery's metadata under
 * "serve.thumb.<image id>": nothing is written outside the gallery file.
 * Every edit holds enrol_lock; an enrolment (the face and its thumbnail)
 * and a person's removal (with their thumbnails) are one transaction each,
 * so a kill -9 leaves both or neither. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

#define THUMB 96

char *srv_base64(const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *q++ = tab[v >> 18 & 63];
        *q++ = tab[v >> 12 & 63];
        *q++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
        *q++ = i + 2 < n ? tab[v & 63] : '=';
    }
    *q = '\0';
    return o;
}


static void thumb_key(int64_t id, char key[48]) { snprintf(key, 48, "serve.thumb.%" PRId64, id); }

/* The face's crop as a data: URL (malloc'd), NULL when it cannot be made. */
static char *thumbnail(const fn_image *img, const fn_face *f)
{
    fn_image t = {0};
    unsigned char *jpg = NULL;
    size_t n = 0;
    char *url = NULL;
    if (fn_crop_face(img, f->box, THUMB, 16, &t) == FN_OK && fn_image_encode_jpeg(&t, 80, &jpg, &n) == FN_OK) {
        char *b64 = srv_base64(jpg, n);
        if (b64 && (url = malloc(strlen(b64) + 32))) sprintf(url, "data:image/jpeg;base64,%s", b64);
        free(b64);
    }
    free(jpg);
    fn_image_free(&t);
    return url;
}

static const char *added_name(fn_gallery_added a)
{
    return a == FN_GALLERY_ADDED ? "added" : a == FN_GALLERY_SKIPPED_DUPLICATE ? "duplicate" : "refused";
}

typedef struct person_find { const char *name; int found; int64_t images; } person_find;

static int find_person(void *ctx, const fn_gallery_person *p)
{
    person_find *f = ctx;
    if (strcmp(p->name, f->name)) return 0;
    f->found = 1;
    f->images = p->n_images;
    return 1;
}

/* What an edit wants of the person it names. */
typedef enum person_want { PERSON_ANY, PERSON_EXISTS, PERSON_NEW } person_want;

/* 0 when the person named norm is as want says; else 1 after the reply:
 * 404 for a person missing, 409 for a name taken (or the gallery's error). */
static int person_check(srv *s, const char *norm, person_want want, srv_reply *out)
{
    person_find pf = {norm, 0, 0};
    fn_status st = fn_gallery_list(s->g, find_person, &pf);
    if (st != FN_OK) { srv_fail(out, st); return 1; }
    if (want == PERSON_EXISTS && !pf.found) {
        srv_error(out, 404, "no person named '%s' in the gallery (POST /v1/people?name=NAME creates one with a first "
                            "photo)", norm);
        return 1;
    }
    if (want == PERSON_NEW && pf.found) {
        srv_error(out, 409, "a person named '%s' already exists (POST /v1/people/{name}/faces adds a photo to them)",
                  norm);
        return 1;
    }
    return 0;
}

/* Enrol the most probable face of image part p as person, who must exist
 * (PERSON_EXISTS: enrol another photo) or must not (PERSON_NEW: create);
 * checked again under enrol_lock, so a person deleted or created meanwhile
 * is not re-made or merged.  The reply is 201 (added), 200 (this person
 * already had this file), 404 / 409 (the person missing / the name taken),
 * 409 (another person's face), 422 (no face). */
static void enrol(srv *s, const char *person, person_want want, const srv_part *p, srv_reply *out)
{
    srv_faces f;
    if (srv_run_faces(s, p, "the uploaded image", 1, FN_FACES_MAX, 1, &f, out)) return;
    char hash[65];
    fn_sha256_hex(p->data, p->len, hash);
    char display[300];
    snprintf(display, sizeof display, "upload:%.200s", p->filename[0] ? p->filename : "image");
    fn_gallery_face gf = {person, display, hash, {0}, f.faces[0].prob, f.emb};
    memcpy(gf.box, f.faces[0].box, sizeof gf.box);
    char *thumb = thumbnail(&f.img, &f.faces[0]);
    fn_gallery_add_info info;
    /* The face and its thumbnail in one transaction: a kill -9 leaves both
     * or neither, and the 201 goes out only after the commit. */
    pthread_mutex_lock(&s->enrol_lock);
    if (person_check(s, person, want, out)) {
        pthread_mutex_unlock(&s->enrol_lock);
        free(thumb);
        srv_faces_free(&f);
        return;
    }
    fn_status st = fn_gallery_begin(s->g);
    int begun = st == FN_OK;   /* a refused begin has nothing to roll back (and its error must stay) */
    if (st == FN_OK) st = fn_gallery_add_ex(s->g, &gf, 0, &info);
    if (st == FN_OK && info.result == FN_GALLERY_ADDED && thumb) {
        char key[48];
        thumb_key(info.image_id, key);
        st = fn_gallery_meta_set(s->g, key, thumb);
    }
    if (st == FN_OK) st = fn_gallery_commit(s->g);
    else if (begun) fn_gallery_rollback(s->g);
    pthread_mutex_unlock(&s->enrol_lock);
    free(thumb);
    if (st != FN_OK) srv_fail(out, st);
    else if (info.result == FN_GALLERY_REFUSED_OTHER_PERSON)
        srv_error(out, 409, "this face of this image is already enrolled as %s (image %" PRId64 "); not added as %s",
                  info.other_person, info.other_image_id, info.person);
    else {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "person", info.person);
        cJSON_AddStringToObject(j, "result", added_name(info.result));
        cJSON_AddNumberToObject(j, "image_id", (double)info.image_id);
        cJSON_AddItemToObject(j, "box", srv_floats(f.faces[0].box, 4));
        cJSON_AddNumberToObject(j, "prob", f.faces[0].prob);
        cJSON_AddNumberToObject(j, "faces_in_image", f.total);
        srv_json(out, info.result == FN_GALLERY_ADDED ? 201 : 200, j);
        pthread_mutex_lock(&s->m.lock);
        s->m.enrolled += info.result == FN_GALLERY_ADDED;
        pthread_mutex_unlock(&s->m.lock);
    }
    srv_faces_free(&f);
}

static int add_person(void *ctx, const fn_gallery_person *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddNumberToObject(o, "images", (double)p->n_images);
    cJSON_AddItemToArray(ctx, o);
    return 0;
}

/* The stored spelling of name, and whether that person is as want says.
 * 0, or 1 after a reply (400 for a name the gallery cannot hold, else
 * person_check's). */
static int person_of(srv *s, const char *raw, char norm[FN_GALLERY_NAME_MAX], person_want want, srv_reply *out)
{
    int changed;
    fn_status st = fn_gallery_normalize_name(raw, norm, FN_GALLERY_NAME_MAX, &changed);
    if (st != FN_OK) { srv_fail(out, st); return 1; }
    return person_check(s, norm, want, out);
}

typedef struct faces_ctx { srv *s; cJSON *arr; int64_t only; int64_t found; } faces_ctx;

static int add_face(void *ctx, const fn_gallery_image *im)
{
    faces_ctx *c = ctx;
    if (c->only && im->id != c->only) return 0;
    c->found++;
    if (!c->arr) return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)im->id);
    cJSON_AddItemToObject(o, "box", srv_floats(im->box, 4));
    cJSON_AddNumberToObject(o, "prob", im->prob);
    cJSON_AddNumberToObject(o, "added_unix", (double)im->added_unix);
    /* the photo's file name only: where it lies on the server is not the client's business */
    const char *slash = im->path ? strrchr(im->path, '/') : NULL;
    cJSON_AddStringToObject(o, "source", slash ? slash + 1 : im->path ? im->path : "");
    cJSON_AddItemToArray(c->arr, o);
    return 0;
}

/* Thumbnails are read after the listing: a gallery call inside the
 * listing's callback would wait for the lock the listing holds. */
static void add_thumbnails(srv *s, cJSON *arr)
{
    char *thumb = malloc(64 * 1024);
    cJSON *o;
    cJSON_ArrayForEach(o, arr) {
        char key[48];
        thumb_key((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id")), key);
        if (thumb && fn_gallery_meta_get(s->g, key, thumb, 64 * 1024) == FN_OK && thumb[0])
            cJSON_AddStringToObject(o, "thumbnail", thumb);
        else cJSON_AddNullToObject(o, "thumbnail");
    }
    free(thumb);
}

static void remove_image(srv *s, int64_t id, srv_reply *out)
{
    char key[48];
    thumb_key(id, key);
    /* The gallery removes one image only outside a batch: the face first,
     * then its thumbnail (a kill -9 between leaves an unused thumbnail,
     * never a face without one). */
    pthread_mutex_lock(&s->enrol_lock);
    fn_status st = fn_gallery_remove_image(s->g, id);
    if (st == FN_OK) fn_gallery_meta_set(s->g, key, "");
    pthread_mutex_unlock(&s->enrol_lock);
    if (st != FN_OK) srv_fail(out, st);
}

static void faces(srv *s, const srv_req *r, const char *person, srv_reply *out)
{
    char norm[FN_GALLERY_NAME_MAX];
    /* enrolling another photo needs the person: a 404 before the image is decoded */
    if (person_of(s, person, norm, PERSON_EXISTS, out)) return;
    if (!strcmp(r->method, "POST")) {
        srv_inputs in;
        if (srv_read_inputs(r, &in, out)) return;
        const srv_part *p = srv_image_part(&in, NULL, 0);
        if (!p || in.json) { srv_error(out, 400, "no image in the request (a JPEG or PNG body, or a multipart file part)"); return; }
        enrol(s, norm, PERSON_EXISTS, p, out);
        return;
    }
    int64_t only = 0;
    if (r->n_seg == 4) {
        char *end;
        errno = 0;
        only = strtoll(r->seg[3], &end, 10);   /* one out of range was clamped: "no face 9223372036854775807" */
        if (errno || end == r->seg[3] || *end || only <= 0) { srv_error(out, 400, "%s: not a face id (a positive whole number)", r->seg[3]); return; }
    }
    cJSON *arr = cJSON_CreateArray();
    faces_ctx c = {s, !strcmp(r->method, "GET") ? arr : NULL, only, 0};
    fn_status st = fn_gallery_list_images(s->g, norm, add_face, &c);
    if (st != FN_OK) { cJSON_Delete(arr); srv_fail(out, st); return; }
    if (!strcmp(r->method, "GET")) {
        add_thumbnails(s, arr);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "person", norm);
        cJSON_AddItemToObject(j, "faces", arr);
        srv_json(out, 200, j);
        return;
    }
    cJSON_Delete(arr);
    /* DELETE one face (…/faces/ID) or all of them (the person stays, with none) */
    if (only && !c.found) { srv_error(out, 404, "%s has no face %" PRId64, norm, only); return; }
    cJSON *ids = cJSON_CreateArray();
    faces_ctx all = {s, ids, only, 0};
    fn_gallery_list_images(s->g, norm, add_face, &all);
    cJSON *x;
    int removed = 0;
    cJSON_ArrayForEach(x, ids) {
        remove_image(s, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(x, "id")), out);
        if (out->json) { cJSON_Delete(ids); return; }
        removed++;
    }
    cJSON_Delete(ids);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "person", norm);
    cJSON_AddNumberToObject(j, "removed", removed);
    srv_json(out, 200, j);
}

/* /v1/people and /v1/people/{name}[/faces[/{id}]] */
void srv_people(srv *s, const srv_req *r, srv_reply *out)
{
    if (r->n_seg >= 3) { faces(s, r, r->seg[1], out); return; }
    if (r->n_seg == 1 && !strcmp(r->method, "GET")) {
        cJSON *arr = cJSON_CreateArray();
        fn_status st = fn_gallery_list(s->g, add_person, arr);
        if (st != FN_OK) { cJSON_Delete(arr); srv_fail(out, st); return; }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "count", cJSON_GetArraySize(arr));
        cJSON_AddItemToObject(j, "people", arr);
        srv_json(out, 200, j);
        return;
    }
    if (r->n_seg == 1) {   /* POST: a new person with a first photo */
        srv_inputs in;
        char nbuf[FN_GALLERY_NAME_MAX * 2], norm[FN_GALLERY_NAME_MAX];
        if (srv_read_inputs(r, &in, out)) return;
        const char *name = srv_field(r, &in, "name", nbuf, sizeof nbuf);
        const srv_part *p = in.json ? NULL : srv_image_part(&in, NULL, 0);
        if (!name || !p) {
            srv_error(out, 400, "a person is created with a first photo: POST the image with ?name=NAME (or a multipart "
                                "body with a name field and an image file)");
            return;
        }
        if (person_of(s, name, norm, PERSON_NEW, out)) return;
        enrol(s, norm, PERSON_NEW, p, out);
        return;
    }
    char norm[FN_GALLERY_NAME_MAX];
    if (person_of(s, r->seg[1], norm, PERSON_EXISTS, out)) return;
    if (!strcmp(r->method, "DELETE")) {
        cJSON *ids = cJSON_CreateArray();
        faces_ctx all = {s, ids, 0, 0};
        int64_t n = 0;
        pthread_mutex_lock(&s->enrol_lock);   /* the person and the thumbnails in one transaction */
        fn_status st = fn_gallery_begin(s->g);
        int begun = st == FN_OK;
        if (st == FN_OK) st = fn_gallery_list_images(s->g, norm, add_face, &all);
        if (st == FN_OK) st = fn_gallery_remove_person(s->g, norm, &n);
        cJSON *x;
        cJSON_ArrayForEach(x, ids) {
            char key[48];
            thumb_key((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(x, "id")), key);
            if (st == FN_OK) st = fn_gallery_meta_set(s->g, key, "");
        }
        if (st == FN_OK) st = fn_gallery_commit(s->g);
        else if (begun) fn_gallery_rollback(s->g);
        pthread_mutex_unlock(&s->enrol_lock);
        cJSON_Delete(ids);
        if (st != FN_OK) { srv_fail(out, st); return; }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "removed", norm);
        cJSON_AddNumberToObject(j, "images", (double)n);
        srv_json(out, 200, j);
        return;
    }
    /* PATCH {"name": NEW} */
    cJSON *j = srv_parse_json(r, out);
    if (!j) return;
    cJSON *nn = cJSON_GetObjectItem(j, "name");
    char newname[FN_GALLERY_NAME_MAX];
    if (!cJSON_IsString(nn)) {
        srv_error(out, 400, "expected {\"name\": \"the new name\"}");
        cJSON_Delete(j);
        return;
    }
    int changed;
    fn_status st = fn_gallery_normalize_name(nn->valuestring, newname, sizeof newname, &changed);
    cJSON_Delete(j);
    if (st != FN_OK) { srv_fail(out, st); return; }
    person_find pf = {newname, 0, 0};
    fn_gallery_list(s->g, find_person, &pf);
    if (pf.found && strcmp(newname, norm)) { srv_error(out, 409, "cannot rename '%s': a person named '%s' already exists", norm, newname); return; }
    pthread_mutex_lock(&s->enrol_lock);   /* no edit lands inside another's transaction */
    st = fn_gallery_rename_person(s->g, norm, newname);
    pthread_mutex_unlock(&s->enrol_lock);
    if (st != FN_OK) { srv_fail(out, st); return; }
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "old", norm);
    cJSON_AddStringToObject(res, "name", newname);
    srv_json(out, 200, res);
}
