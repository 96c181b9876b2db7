/* calib_gallery.c — calibration straight from a gallery's embeddings, and
 * the ROC of a calibration (what `facenet calibrate` plots). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "facenet/eval.h"

typedef struct rows {
    float *emb;
    int *label;
    int64_t *face;  /* fn_gallery_embedding.face_id of each row */
    size_t n, cap;
    int dim;
    int64_t *pid;   /* label -> person id */
    size_t npeople;
    fn_status err;
} rows;

static int take_row(void *vr, const fn_gallery_embedding *e)
{
    rows *r = vr;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        float *emb = realloc(r->emb, sizeof(float) * cap * (size_t)e->dim);
        if (emb) r->emb = emb;
        int *label = realloc(r->label, sizeof(int) * cap);
        if (label) r->label = label;
        int64_t *pid = realloc(r->pid, sizeof(int64_t) * cap);
        if (pid) r->pid = pid;
        int64_t *face = realloc(r->face, sizeof(int64_t) * cap);
        if (face) r->face = face;
        if (!emb || !label || !pid || !face) {
            r->err = fn_fail(FN_ERR_NOMEM, "out of memory for %zu embeddings", cap);
            return 1;
        }
        r->cap = cap;
    }
    r->dim = e->dim;
    size_t k = 0;
    while (k < r->npeople && r->pid[k] != e->person_id) k++;
    if (k == r->npeople) r->pid[r->npeople++] = e->person_id;
    memcpy(r->emb + r->n * (size_t)e->dim, e->embedding, sizeof(float) * (size_t)e->dim);
    r->face[r->n] = e->face_id;
    r->label[r->n++] = (int)k;
    return 0;
}

fn_status fn_calib_from_gallery(fn_gallery *g, fn_distance_kind kind, double target_far, fn_calib *out)
{
    memset(out, 0, sizeof *out);
    rows r = {0};
    fn_status s = fn_gallery_embeddings(g, take_row, &r);
    if (s == FN_OK) s = r.err;
    if (s == FN_OK) s = fn_calib_from_embeddings_grouped(r.emb, r.label, r.face, r.n, r.dim, kind, target_far, out);
    if (s == FN_OK) {
        out->n_embeddings = r.n;
        out->n_people = r.npeople;
    }
    free(r.emb);
    free(r.label);
    free(r.pid);
    free(r.face);
    return s;
}

fn_status fn_calib_roc(const fn_calib *c, fn_roc *out)
{
    memset(out, 0, sizeof *out);
    size_t n = c->n_genuine + c->n_impostor;
    double *d = malloc(sizeof *d * (n + 1));
    unsigned char *same = malloc(n + 1);
    fn_status s = d && same ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory for %zu distances", n);
    for (size_t i = 0; s == FN_OK && i < n; i++) {
        int gen = i < c->n_genuine;
        d[i] = gen ? c->genuine[i] : c->impostor[i - c->n_genuine];
        same[i] = (unsigned char)gen;
    }
    if (s == FN_OK) s = fn_roc_compute(d, same, n, out);
    free(d);
    free(same);
    return s;
}
