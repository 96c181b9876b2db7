/* api.c — the recognition endpoints: detect, embed, identify, verify,
 * calibrate, health.  Images arrive as the raw body (image/jpeg, image/png)
 * or as parts of a multipart/form-data body; identify and verify also take
 * JSON embeddings.  Every limit is checked before decoding (the body size by
 * the server, the pixels by the decoder from the header). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

/* ------------------------------------------------------------- inputs */


/* The images and fields of the request.  0, or 1 after a 400/415 reply. */
int srv_read_inputs(const srv_req *r, srv_inputs *in, srv_reply *out)
{
    memset(in, 0, sizeof *in);
    char boundary[128];
    if (!strncasecmp(r->ctype, "application/json", 16)) {
        in->json = 1;
        return 0;
    }
    if (srv_multipart_boundary(r->ctype, boundary, sizeof boundary)) {
        char err[256];
        in->n = srv_multipart_parse(r->body, r->len, boundary, in->parts, SRV_MAX_PARTS, in->names, sizeof in->names,
                                    err, sizeof err);
        if (in->n < 0) {
            srv_error(out, 400, "the multipart body is malformed: %s", err);
            return 1;
        }
        in->multipart = 1;
        for (int i = 0; i < in->n; i++) {   /* a text field is used as a C string: a NUL would cut it */
            const srv_part *p = &in->parts[i];
            if (!p->filename[0] && strncmp(p->type, "image/", 6) && memchr(p->data, '\0', p->len)) {
                srv_error(out, 400, "the multipart field '%s' contains a control character (U+0000)", p->name);
                return 1;
            }
        }
        return 0;
    }
    if (r->len == 0) {
        srv_error(out, 400, "the request has no body: send a JPEG or PNG image as the body, or multipart/form-data");
        return 1;
    }
    in->parts[0] = (srv_part){"image", "", r->ctype, r->body, r->len};
    in->n = 1;
    return 0;
}

/* The k-th file part (an image), or the part named name when name is given. */
const srv_part *srv_image_part(const srv_inputs *in, const char *name, int k)
{
    for (int i = 0; i < in->n; i++) {
        const srv_part *p = &in->parts[i];
        int file = p->filename[0] || !in->multipart || !strncmp(p->type, "image/", 6);
        if (name && !strcmp(p->name, name)) return p;
        if (!name && file && k-- == 0) return p;
    }
    return NULL;
}

/* A text field of a multipart body (copied into buf), else the query's. */
const char *srv_field(const srv_req *r, const srv_inputs *in, const char *name, char *buf, size_t cap)
{
    for (int i = 0; in->multipart && i < in->n; i++) {
        const srv_part *p = &in->parts[i];
        if (!strcmp(p->name, name) && !p->filename[0] && strncmp(p->type, "image/", 6)) {
            size_t n = p->len < cap - 1 ? p->len : cap - 1;
            memcpy(buf, p->data, n);
            buf[n] = '\0';
            return buf;
        }
    }
    return srv_query(r, name);
}

/* An integer option in [lo, hi]; 0 ok, 1 after a 400 reply. */
static int int_option(const srv_req *r, const char *name, int lo, int hi, int *v, srv_reply *out)
{
    const char *t = srv_query(r, name);
    if (!t) return 0;
    char *end;
    long x = strtol(t, &end, 10);
    if (end == t || *end || x < lo || x > hi) {
        srv_error(out, 400, "%s=%s: expected a whole number from %d to %d", name, t, lo, hi);
        return 1;
    }
    *v = (int)x;
    return 0;
}

static int threshold_option(srv *s, const srv_req *r, float *t, const char **source, srv_reply *out)
{
    const char *q = srv_query(r, "threshold");
    float given = s->cfg->threshold;
    if (q) {
        char *end;
        given = strtof(q, &end);
        if (end == q || *end || !(given > 0 && given <= 2)) {
            srv_error(out, 400, "threshold=%s: expected a Euclidean distance in (0, 2]", q);
            return 1;
        }
    }
    fn_threshold_source src;
    *t = fn_decision_threshold(s->g, s->e, given, &src);
    *source = fn_threshold_source_name(src);
    return 0;
}

static int select_option(srv *s, const srv_req *r, fn_select *sel, srv_reply *out)
{
    const char *q = srv_query(r, "face");
    *sel = s->cfg->select;
    if (!q) return 0;
    for (int k = FN_SELECT_PROB; k <= FN_SELECT_CENTER; k++)
        if (!strcmp(q, fn_select_name((fn_select)k))) { *sel = (fn_select)k; return 0; }
    srv_error(out, 400, "face=%s: expected prob, largest or center", q);
    return 1;
}

/* ------------------------------------------------------------- faces */


void srv_faces_free(srv_faces *f)
{
    fn_image_free(&f->img);
    free(f->emb);
    memset(f, 0, sizeof *f);
}

/* Decode, detect (at most max_faces kept, most probable first) and embed:
 * what fn_faces_run does for a file, here from memory.  0, or 1 after the
 * error reply (400 garbage, 413 too many pixels, 422 no face when need_face). */
int srv_run_faces(srv *s, const srv_part *p, const char *what, int embed, int max_faces, int need_face,
                     srv_faces *f, srv_reply *out)
{
    memset(f, 0, sizeof *f);
    fn_image_limits lim = {30000, s->cfg->max_pixels};
    fn_status st = fn_image_decode_ex(p->data, p->len, what, &lim, &f->img, NULL);
    if (st == FN_OK) st = fn_detect(s->e, &f->img, f->faces, FN_FACES_MAX, &f->total);
    if (st != FN_OK) {
        srv_fail(out, st);
        srv_faces_free(f);
        return 1;
    }
    f->n = f->total < max_faces ? f->total : max_faces;
    pthread_mutex_lock(&s->m.lock);
    s->m.faces += (unsigned long long)f->n;
    pthread_mutex_unlock(&s->m.lock);
    if (need_face && f->n == 0) {
        srv_error(out, 422, "%s: no face found", what);
        srv_faces_free(f);
        return 1;
    }
    if (embed && f->n) {
        f->emb = malloc((size_t)f->n * (size_t)fn_engine_dim(s->e) * sizeof(float));
        st = f->emb ? fn_embed_faces(s->e, &f->img, f->faces, f->n, f->emb) : FN_ERR_NOMEM;
        if (st != FN_OK) {
            if (!f->emb) srv_error(out, 503, "out of memory for %d embeddings", f->n);
            else srv_fail(out, st);
            srv_faces_free(f);
            return 1;
        }
    }
    return 0;
}

cJSON *srv_floats(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static cJSON *face_json(const fn_face *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "box", srv_floats(f->box, 4));
    cJSON_AddNumberToObject(o, "prob", f->prob);
    cJSON *lm = cJSON_CreateArray();
    for (int k = 0; k < 5; k++) cJSON_AddItemToArray(lm, srv_floats(f->landmarks[k], 2));
    cJSON_AddItemToObject(o, "landmarks", lm);
    return o;
}

/* POST /v1/detect, /v1/embed: every face (max_faces=N keeps the N most
 * probable; face=prob|largest|center keeps the one chosen face). */
void srv_detect(srv *s, const srv_req *r, srv_reply *out, int embed)
{
    srv_inputs in;
    int max_faces = FN_FACES_MAX;
    if (srv_read_inputs(r, &in, out) || int_option(r, "max_faces", 1, FN_FACES_MAX, &max_faces, out)) return;
    fn_select sel = FN_SELECT_PROB;
    int one = srv_query(r, "face") != NULL;
    if (select_option(s, r, &sel, out)) return;
    const srv_part *p = srv_image_part(&in, NULL, 0);
    if (!p) { srv_error(out, 400, "no image in the request (a JPEG or PNG body, or a multipart file part)"); return; }
    srv_faces f;
    if (srv_run_faces(s, p, "the uploaded image", embed, max_faces, 0, &f, out)) return;
    int dim = fn_engine_dim(s->e);
    int chosen = one ? fn_select_face(f.faces, f.n, sel, f.img.w, f.img.h) : -1;
    cJSON *j = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    cJSON_AddNumberToObject(j, "width", f.img.w);
    cJSON_AddNumberToObject(j, "height", f.img.h);
    cJSON_AddNumberToObject(j, "total", f.total);
    for (int i = 0; i < f.n; i++) {
        if (one && i != chosen) continue;
        cJSON *o = face_json(&f.faces[i]);
        if (embed) cJSON_AddItemToObject(o, "embedding", srv_floats(f.emb + (size_t)i * dim, dim));
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddItemToObject(j, "faces", arr);
    if (embed) cJSON_AddStringToObject(j, "model", fn_engine_model_id(s->e));
    srv_json(out, 200, j);
    srv_faces_free(&f);
}

/* ---------------------------------------------------------- embeddings */

/* One embedding from a JSON array of dim finite numbers, normalised. */
static int json_embedding(const cJSON *a, int dim, float *v, const char *what, srv_reply *out)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != dim) {
        srv_error(out, 400, "%s: expected an array of %d numbers (this model's embedding length), got %s%d", what, dim,
                  cJSON_IsArray(a) ? "" : "no array, size ", cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0);
        return 1;
    }
    int i = 0;
    double norm = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        /* 1e300 is a finite double but no float: it became inf, then NaN */
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || !isfinite((float)x->valuedouble)) {
            srv_error(out, 400, "%s: element %d is not a finite number (of a 32-bit float's range, below 3.4e38)",
                      what, i);
            return 1;
        }
        v[i] = (float)x->valuedouble;
        norm += (double)v[i] * v[i];
        i++;
    }
    if (!(norm > 0)) {
        srv_error(out, 400, "%s: the embedding is all zeros", what);
        return 1;
    }
    fn_l2_normalize(v, 1, dim);
    return 0;
}

/* Whether a JSON text has a string with \u0000 in it: cJSON decodes it
 * into a NUL that ends the C string (a rename to "Ann\u0000Evil" named the
 * person "Ann").  Scanned on the raw text, escapes followed one by one, so
 * "\\u0000" (a backslash, then u0000) is not one; a raw NUL byte is. */
static int json_has_nul(const unsigned char *t, size_t n)
{
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in_string) { in_string = t[i] == '"'; continue; }
        if (t[i] == '"') in_string = 0;
        else if (t[i] == '\0') return 1;   /* not JSON, but cut the same way */
        else if (t[i] == '\\' && i + 1 < n) {
            if (t[i + 1] == 'u' && i + 5 < n && !memcmp(t + i + 2, "0000", 4)) return 1;
            i++;   /* the escaped character (a \uXXXX's digits are plain characters after it) */
        }
    }
    return 0;
}

cJSON *srv_parse_json(const srv_req *r, srv_reply *out)
{
    cJSON *j = cJSON_ParseWithLength((const char *)r->body, r->len);
    if (!j || !cJSON_IsObject(j)) {
        srv_error(out, 400, "the body is not a JSON object%s", j ? "" : " (malformed JSON)");
        cJSON_Delete(j);
        return NULL;
    }
    if (json_has_nul(r->body, r->len)) {
        srv_error(out, 400, "a string of the JSON body contains a control character (U+0000)");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* ------------------------------------------------------------ identify */

static cJSON *naming_json(const fn_gallery_naming *nm)
{
    const fn_gallery_match *m = &nm->nearest;
    int known = nm->named.person_id >= 0;
    cJSON *o = cJSON_CreateObject();
    if (known) cJSON_AddStringToObject(o, "name", nm->name);
    else cJSON_AddNullToObject(o, "name");
    cJSON_AddNumberToObject(o, "distance", known ? nm->named.distance : m->best.distance);
    cJSON_AddStringToObject(o, "nearest", m->best_name);
    cJSON_AddNumberToObject(o, "nearest_distance", m->best.distance);
    cJSON_AddBoolToObject(o, "nearest_names_another_face", nm->displaced);
    cJSON *sec = cJSON_CreateObject();
    if (m->second.person_id >= 0) {
        cJSON_AddStringToObject(sec, "name", m->second_name);
        cJSON_AddNumberToObject(sec, "distance", m->second.distance);
    } else {
        cJSON_AddNullToObject(sec, "name");
        cJSON_AddNullToObject(sec, "distance");
    }
    cJSON_AddItemToObject(o, "second", sec);
    return o;
}

/* Names n embeddings jointly, as `facenet identify` does; the objects are
 * added to arr (faces[i] merged in when given).  0, or 1 after a reply. */
static int name_all(srv *s, const float *emb, int n, float t, int repeats, const fn_face *faces, cJSON *arr,
                    srv_reply *out)
{
    if (n == 0) return 0;
    fn_gallery_scratch *sc = NULL;
    fn_gallery_naming *nm = calloc((size_t)n, sizeof *nm);
    fn_status st = nm ? fn_gallery_scratch_new(s->g, n, &sc) : FN_ERR_NOMEM;
    if (st == FN_OK) st = fn_gallery_name_faces(s->g, sc, emb, n, t, repeats ? FN_GALLERY_ALLOW_REPEATS : 0, nm);
    if (st != FN_OK) {
        if (!nm) srv_error(out, 503, "out of memory");
        else srv_fail(out, st);
    }
    for (int i = 0; st == FN_OK && i < n; i++) {
        cJSON *o = faces ? face_json(&faces[i]) : cJSON_CreateObject();
        cJSON *names = naming_json(&nm[i]), *x;
        cJSON_ArrayForEach(x, names) cJSON_AddItemToObject(o, x->string, cJSON_Duplicate(x, 1));
        cJSON_Delete(names);
        cJSON_AddItemToArray(arr, o);
    }
    fn_gallery_scratch_free(sc);
    free(nm);
    return st != FN_OK;
}

/* POST /v1/identify: an image, or {"embeddings": [[...], ...]}. */
void srv_identify(srv *s, const srv_req *r, srv_reply *out)
{
    srv_inputs in;
    int max_faces = FN_FACES_MAX;
    float t;
    const char *tsrc;
    if (srv_read_inputs(r, &in, out) || int_option(r, "max_faces", 1, FN_FACES_MAX, &max_faces, out) ||
        threshold_option(s, r, &t, &tsrc, out))
        return;
    const char *rep = srv_query(r, "allow_repeats");
    int repeats = rep && (!strcmp(rep, "1") || !strcmp(rep, "true"));
    int dim = fn_engine_dim(s->e);
    cJSON *res = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    cJSON_AddNumberToObject(res, "threshold", t);
    cJSON_AddStringToObject(res, "threshold_source", tsrc);
    int failed = 0;
    if (in.json) {
        cJSON *j = srv_parse_json(r, out), *list = j ? cJSON_GetObjectItem(j, "embeddings") : NULL;
        if (j && (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > FN_FACES_MAX)) {
            srv_error(out, 400, "expected {\"embeddings\": [[%d numbers], ...]} with 1 to %d embeddings", dim, FN_FACES_MAX);
            failed = 1;
        }
        int n = j && !failed ? cJSON_GetArraySize(list) : 0;
        float *emb = n ? malloc((size_t)n * dim * sizeof(float)) : NULL;
        for (int i = 0; n && i < n && !failed; i++) {
            char what[48];
            snprintf(what, sizeof what, "embeddings[%d]", i);
            failed = json_embedding(cJSON_GetArrayItem(list, i), dim, emb + (size_t)i * dim, what, out);
        }
        if (!j) failed = 1;
        if (!failed) failed = name_all(s, emb, n, t, repeats, NULL, arr, out);
        free(emb);
        cJSON_Delete(j);
    } else {
        const srv_part *p = srv_image_part(&in, NULL, 0);
        srv_faces f;
        if (!p) { srv_error(out, 400, "no image in the request (a JPEG or PNG body, or a multipart file part)"); failed = 1; }
        else if (srv_run_faces(s, p, "the uploaded image", 1, max_faces, 0, &f, out)) failed = 1;
        else {
            cJSON_AddNumberToObject(res, "width", f.img.w);
            cJSON_AddNumberToObject(res, "height", f.img.h);
            failed = name_all(s, f.emb, f.n, t, repeats, f.faces, arr, out);
            srv_faces_free(&f);
        }
    }
    cJSON_AddItemToObject(res, "faces", arr);
    if (failed) { cJSON_Delete(res); return; }
    srv_json(out, 200, res);
}

/* -------------------------------------------------------------- verify */

typedef struct person_seen { const char *name; int found; } person_seen;

static int person_listed(void *ctx, const fn_gallery_person *p)
{
    person_seen *f = ctx;
    f->found = !strcmp(p->name, f->name);
    return f->found;
}

typedef struct person_min { const char *person; const float *q; int dim; float best; int64_t n; } person_min;

static int nearest_of_person(void *ctx, const fn_gallery_embedding *e)
{
    person_min *p = ctx;
    if (strcmp(e->person, p->person)) return 0;
    float d = fn_distance(p->q, e->embedding, e->dim);
    if (d < p->best) p->best = d;
    p->n++;
    return 0;
}

/* The chosen face's embedding of image part p into v.  0, or 1 after a reply. */
static int one_embedding(srv *s, const srv_part *p, const char *what, fn_select sel, float *v, srv_reply *out)
{
    srv_faces f;
    if (srv_run_faces(s, p, what, 1, FN_FACES_MAX, 1, &f, out)) return 1;
    int k = fn_select_face(f.faces, f.n, sel, f.img.w, f.img.h);
    int dim = fn_engine_dim(s->e);
    memcpy(v, f.emb + (size_t)k * dim, (size_t)dim * sizeof(float));
    srv_faces_free(&f);
    return 0;
}

/* POST /v1/verify: two images (multipart parts a and b, or the first two
 * files), an image and ?person=NAME, or JSON {"embeddings": [e1, e2]} or
 * {"embedding": e, "person": NAME}.  Answers the distance, the threshold
 * and whether they are the same person (distance <= threshold). */
void srv_verify(srv *s, const srv_req *r, srv_reply *out)
{
    srv_inputs in;
    float t;
    const char *tsrc;
    fn_select sel;
    if (srv_read_inputs(r, &in, out) || threshold_option(s, r, &t, &tsrc, out) || select_option(s, r, &sel, out)) return;
    int dim = fn_engine_dim(s->e);
    float *a = calloc(2 * (size_t)dim, sizeof(float)), *b = a + dim;
    char pbuf[FN_GALLERY_NAME_MAX], person[FN_GALLERY_NAME_MAX] = "";
    int failed = !a, have_b = 0;
    if (!a) srv_error(out, 503, "out of memory");
    if (!failed && in.json) {
        cJSON *j = srv_parse_json(r, out);
        cJSON *list = j ? cJSON_GetObjectItem(j, "embeddings") : NULL, *pe = j ? cJSON_GetObjectItem(j, "person") : NULL;
        if (!j) failed = 1;
        else if (cJSON_IsArray(list) && cJSON_GetArraySize(list) == 2) {
            failed = json_embedding(cJSON_GetArrayItem(list, 0), dim, a, "embeddings[0]", out) ||
                     json_embedding(cJSON_GetArrayItem(list, 1), dim, b, "embeddings[1]", out);
            have_b = 1;
        } else if (cJSON_IsString(pe)) {
            snprintf(person, sizeof person, "%s", pe->valuestring);
            failed = json_embedding(cJSON_GetObjectItem(j, "embedding"), dim, a, "embedding", out);
        } else {
            srv_error(out, 400, "expected {\"embeddings\": [e1, e2]} or {\"embedding\": e, \"person\": NAME}");
            failed = 1;
        }
        cJSON_Delete(j);
    } else if (!failed) {
        const char *pq = srv_field(r, &in, "person", pbuf, sizeof pbuf);
        const srv_part *pa = srv_image_part(&in, "a", 0), *pb = srv_image_part(&in, "b", 0);
        if (!pa) pa = srv_image_part(&in, NULL, 0);
        if (!pb && !pq) pb = srv_image_part(&in, NULL, 1);
        if (pq) snprintf(person, sizeof person, "%s", pq);
        if (!pa || (!pb && !pq)) {
            srv_error(out, 400, "verify needs two images (multipart parts a and b) or an image and person=NAME");
            failed = 1;
        } else {
            failed = one_embedding(s, pa, "image a", sel, a, out) || (pb && one_embedding(s, pb, "image b", sel, b, out));
            have_b = pb != NULL;
        }
    }
    if (failed) { free(a); return; }
    cJSON *res = cJSON_CreateObject();
    float d;
    if (have_b) d = fn_distance(a, b, dim);
    else {
        char norm[FN_GALLERY_NAME_MAX];
        int changed;
        fn_status st = fn_gallery_normalize_name(person, norm, sizeof norm, &changed);
        person_min pm = {norm, a, dim, INFINITY, 0};
        if (st == FN_OK) st = fn_gallery_embeddings(s->g, nearest_of_person, &pm);
        if (st != FN_OK) { srv_fail(out, st); free(a); cJSON_Delete(res); return; }
        person_seen seen = {norm, 0};
        if (!pm.n && (st = fn_gallery_list(s->g, person_listed, &seen)) != FN_OK) {
            srv_fail(out, st);
            free(a);
            cJSON_Delete(res);
            return;
        }
        if (!pm.n) {   /* a person whose faces were all removed stays, listed with 0 images */
            if (seen.found)
                srv_error(out, 409, "'%s' has no images to compare with (POST /v1/people/{name}/faces adds one)", norm);
            else srv_error(out, 404, "no person named '%s' in the gallery", norm);
            free(a);
            cJSON_Delete(res);
            return;
        }
        d = pm.best;
        cJSON_AddStringToObject(res, "person", norm);
        cJSON_AddNumberToObject(res, "person_images", (double)pm.n);
    }
    cJSON_AddNumberToObject(res, "distance", d);
    cJSON_AddNumberToObject(res, "threshold", t);
    cJSON_AddStringToObject(res, "threshold_source", tsrc);
    cJSON_AddBoolToObject(res, "same", d <= t);
    srv_json(out, 200, res);
    free(a);
}

/* ----------------------------------------------------- calibrate, health */

/* POST /v1/calibrate {"far": 0.001, "dry_run": false}: the gallery's own
 * pairs choose the threshold at that false accept rate (facenet calibrate). */
void srv_calibrate(srv *s, const srv_req *r, srv_reply *out)
{
    double far = FN_CALIB_DEFAULT_FAR;
    int dry = 0;
    if (r->len) {
        cJSON *j = srv_parse_json(r, out);
        if (!j) return;
        cJSON *f = cJSON_GetObjectItem(j, "far"), *d = cJSON_GetObjectItem(j, "dry_run");
        if (f && (!cJSON_IsNumber(f) || !(f->valuedouble > 0 && f->valuedouble < FN_CALIB_MAX_FAR))) {
            srv_error(out, 400, "far: expected a false accept rate in (0, %g)", (double)FN_CALIB_MAX_FAR);
            cJSON_Delete(j);
            return;
        }
        if (f) far = f->valuedouble;
        dry = cJSON_IsTrue(d);
        cJSON_Delete(j);
    }
    fn_calib c = {0};
    fn_status st = fn_calib_from_gallery(s->g, FN_DIST_EUCLIDEAN, far, &c);
    if (st == FN_OK && !dry) st = fn_gallery_set_threshold(s->g, (float)c.op.thr);
    if (st != FN_OK) {
        srv_error(out, st == FN_ERR_ARG ? 422 : srv_status_http(st), "calibration failed: %s", fn_last_error());
        fn_calib_free(&c);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "threshold", c.op.thr);
    cJSON_AddNumberToObject(j, "target_far", far);
    cJSON_AddNumberToObject(j, "far", c.op.far);
    cJSON_AddNumberToObject(j, "tar", c.op.tar);
    cJSON_AddNumberToObject(j, "genuine_pairs", (double)c.n_genuine);
    cJSON_AddNumberToObject(j, "impostor_pairs", (double)c.n_impostor);
    cJSON_AddBoolToObject(j, "reliable", c.trust.reliable);
    cJSON_AddStringToObject(j, "trust", c.trust.why);
    cJSON_AddBoolToObject(j, "stored", !dry);
    srv_json(out, 200, j);
    fn_calib_free(&c);
}

void srv_health(srv *s, const srv_req *r, srv_reply *out)
{
    (void)r;
    int64_t people = 0, images = 0;
    /* a PostgreSQL gallery whose server is away: still answering from its
     * copy, so 200 ("degraded") keeps it behind a load balancer */
    fn_status db = fn_gallery_refresh(s->g, NULL);
    char db_error[512];
    snprintf(db_error, sizeof db_error, "%s", db == FN_ERR_UNAVAILABLE ? fn_last_error() : "");
    fn_status st = fn_gallery_count(s->g, &people, &images);
    fn_threshold_source src;
    float t = fn_decision_threshold(s->g, s->e, s->cfg->threshold, &src);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "status", st != FN_OK ? "gallery error" : db_error[0] ? "degraded" : "ok");
    cJSON_AddStringToObject(j, "database", db_error[0] ? "unreachable" : "ok");
    if (db_error[0]) cJSON_AddStringToObject(j, "database_error", db_error);
    cJSON_AddStringToObject(j, "version", FN_VERSION);
    cJSON_AddStringToObject(j, "model", fn_engine_model_id(s->e));
    cJSON_AddNumberToObject(j, "dim", fn_engine_dim(s->e));
    cJSON_AddNumberToObject(j, "people", (double)people);
    cJSON_AddNumberToObject(j, "images", (double)images);
    cJSON_AddNumberToObject(j, "threshold", t);
    cJSON_AddStringToObject(j, "threshold_source", fn_threshold_source_name(src));
    cJSON_AddNumberToObject(j, "uptime_s", fn_now() - s->started);
    cJSON_AddNumberToObject(j, "busy", atomic_load(&s->m.busy));
    cJSON_AddNumberToObject(j, "uploads", atomic_load(&s->m.uploads));
    srv_json(out, st == FN_OK ? 200 : 503, j);
}
