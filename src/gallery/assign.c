/* Naming the faces of one picture jointly: a person appears at most once in
 * a photo (or a video frame), so names are an assignment of people to faces,
 * not each face's nearest person on its own.
 *
 * Face i either takes person j (only when d(i, j) <= threshold) at cost
 * d(i, j) or stays unknown at cost threshold; the assignment of least total
 * cost is found by the Hungarian method (Kuhn 1955, Munkres 1957) in the
 * O(n^2 m) form with row and column potentials (Jonker & Volgenant's
 * shortest augmenting paths) on an n x (m + n) matrix whose n extra columns
 * are the "unknown" choices.  Least total cost = most total margin
 * sum(threshold - d) over named faces, so a face is never left unknown when
 * some free person is within the threshold of it, and of two faces nearest
 * to one person the better match keeps the name. */
#include "gallery/gallery_impl.h"
#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Work arrays on the stack up to this many doubles, so that naming the few
 * faces of a frame allocates nothing. */
#define STACK_DOUBLES 4096

/* Hungarian method on rows x cols costs (rows <= cols), row-major;
 * row_to_col[i] gets the column of row i.  ws holds
 * (rows + 1) + 3 * (cols + 1) doubles and 2 * (cols + 1) ints. */
static void hungarian(const double *a, int rows, int cols, int *row_to_col, double *ws, int *iws)
{
    double *u = ws, *v = u + rows + 1, *minv = v + cols + 1, *usedf = minv + cols + 1;
    int *p = iws, *way = p + cols + 1;
    for (int i = 0; i <= rows; i++) u[i] = 0;
    for (int j = 0; j <= cols; j++) { v[j] = 0; p[j] = 0; way[j] = 0; }
    for (int i = 1; i <= rows; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= cols; j++) { minv[j] = INFINITY; usedf[j] = 0; }
        do {
            usedf[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (int j = 1; j <= cols; j++) {
                if (usedf[j]) continue;
                double cur = a[(size_t)(i0 - 1) * cols + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                if (minv[j] < delta) { delta = minv[j]; j1 = j; }
            }
            for (int j = 0; j <= cols; j++) {
                if (usedf[j]) { u[p[j]] += delta; v[j] -= delta; }
                else minv[j] -= delta;
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (int j = 1; j <= cols; j++)
        if (p[j]) row_to_col[p[j] - 1] = j - 1;
}

static int acceptable(float d, float threshold) { return isfinite(d) && d <= threshold; }

/* Solves over the people columns `keep` (n_keep of them) of dist. */
static fn_status solve(const float *dist, int n_faces, int n_people, const int *keep, int n_keep, float threshold,
                       int *person_of_face)
{
    int cols = n_keep + n_faces;
    size_t nd = (size_t)n_faces * cols + (size_t)(n_faces + 1) + 3 * (size_t)(cols + 1);
    size_t ni = 2 * (size_t)(cols + 1) + (size_t)n_faces;
    double stack_d[STACK_DOUBLES];
    int stack_i[2 * STACK_DOUBLES];
    double *d = nd <= STACK_DOUBLES ? stack_d : malloc(nd * sizeof *d);
    int *iw = ni <= 2 * STACK_DOUBLES ? stack_i : malloc(ni * sizeof *iw);
    if (!d || !iw) {
        if (d != stack_d) free(d);
        if (iw != stack_i) free(iw);
        return fn_fail(FN_ERR_NOMEM, "assigning names: out of memory for %d faces x %d people", n_faces, n_keep);
    }
    /* a forbidden pair costs more than staying unknown, and an unknown
     * column is always free (one per face), so it is never chosen */
    double forbidden = (double)threshold + 10.0;
    double *a = d;
    for (int i = 0; i < n_faces; i++) {
        for (int c = 0; c < n_keep; c++) {
            float x = dist[(size_t)i * n_people + keep[c]];
            a[(size_t)i * cols + c] = acceptable(x, threshold) ? (double)x : forbidden;
        }
        for (int c = n_keep; c < cols; c++) a[(size_t)i * cols + c] = threshold;
    }
    int *col = iw + 2 * (cols + 1);
    hungarian(a, n_faces, cols, col, a + (size_t)n_faces * cols, iw);
    for (int i = 0; i < n_faces; i++) {
        int c = col[i];
        person_of_face[i] = c < n_keep && acceptable(dist[(size_t)i * n_people + keep[c]], threshold) ? keep[c] : -1;
    }
    if (d != stack_d) free(d);
    if (iw != stack_i) free(iw);
    return FN_OK;
}

fn_status fn_assign_faces(const float *dist, int n_faces, int n_people, float threshold, int *person_of_face)
{
    if (n_faces < 0 || n_people < 0 || (n_faces && (!person_of_face || (n_people && !dist))))
        return fn_fail(FN_ERR_ARG, "fn_assign_faces: a %d x %d distance matrix and an output are required", n_faces,
                       n_people);
    if (!isfinite(threshold) || threshold < 0)
        return fn_fail(FN_ERR_ARG, "fn_assign_faces: threshold %g is not a distance", threshold);
    if (n_faces > FN_ASSIGN_MAX_FACES)
        return fn_fail(FN_ERR_LIMIT, "fn_assign_faces: %d faces in one picture, at most %d are named jointly", n_faces,
                       FN_ASSIGN_MAX_FACES);
    for (int i = 0; i < n_faces; i++) person_of_face[i] = -1;
    if (!n_faces || !n_people) return FN_OK;
    /* only people some face could take: the rest cannot change the answer */
    int stack_keep[512];
    int *keep = (size_t)n_people <= sizeof stack_keep / sizeof *stack_keep ? stack_keep : malloc((size_t)n_people * sizeof *keep);
    if (!keep) return fn_fail(FN_ERR_NOMEM, "assigning names: out of memory for %d people", n_people);
    int n_keep = 0;
    for (int j = 0; j < n_people; j++)
        for (int i = 0; i < n_faces; i++)
            if (acceptable(dist[(size_t)i * n_people + j], threshold)) { keep[n_keep++] = j; break; }
    fn_status s = n_keep ? solve(dist, n_faces, n_people, keep, n_keep, threshold, person_of_face) : FN_OK;
    if (keep != stack_keep) free(keep);
    return s;
}

fn_status fn_assign_candidates(const fn_gallery_hit *cand, int n_faces, int k, float threshold, int *choice)
{
    if (n_faces < 0 || k < 0 || (n_faces && (!choice || (k && !cand))))
        return fn_fail(FN_ERR_ARG, "fn_assign_candidates: %d x %d candidates and an output are required", n_faces, k);
    if (n_faces > FN_ASSIGN_MAX_FACES)
        return fn_fail(FN_ERR_LIMIT, "fn_assign_candidates: %d faces in one picture, at most %d are named jointly",
                       n_faces, FN_ASSIGN_MAX_FACES);
    for (int i = 0; i < n_faces; i++) choice[i] = -1;
    if (!n_faces || !k) return FN_OK;
    /* distinct people among acceptable candidates -> dense columns */
    size_t nc = (size_t)n_faces * k;
    int64_t stack_ids[1024];
    float stack_dist[4096];
    int64_t *ids = nc <= 1024 ? stack_ids : malloc(nc * sizeof *ids);
    int n_ids = 0;
    if (!ids) return fn_fail(FN_ERR_NOMEM, "assigning names: out of memory");
    for (size_t c = 0; c < nc; c++) {
        if (cand[c].person_id < 0 || !acceptable(cand[c].distance, threshold)) continue;
        int seen = 0;
        for (int t = 0; t < n_ids && !seen; t++) seen = ids[t] == cand[c].person_id;
        if (!seen) ids[n_ids++] = cand[c].person_id;
    }
    fn_status s = FN_OK;
    if (n_ids) {
        size_t nm = (size_t)n_faces * n_ids;
        float *m = nm <= 4096 ? stack_dist : malloc(nm * sizeof *m);
        int person[FN_ASSIGN_MAX_FACES];
        if (!m) s = fn_fail(FN_ERR_NOMEM, "assigning names: out of memory");
        for (size_t t = 0; s == FN_OK && t < nm; t++) m[t] = INFINITY;
        for (int i = 0; s == FN_OK && i < n_faces; i++)
            for (int j = 0; j < k; j++) {
                const fn_gallery_hit *h = &cand[(size_t)i * k + j];
                for (int t = 0; t < n_ids; t++)
                    if (ids[t] == h->person_id && h->distance < m[(size_t)i * n_ids + t]) m[(size_t)i * n_ids + t] = h->distance;
            }
        if (s == FN_OK) s = fn_assign_faces(m, n_faces, n_ids, threshold, person);
        for (int i = 0; s == FN_OK && i < n_faces; i++) {
            if (person[i] < 0) continue;
            for (int j = 0; j < k; j++)
                if (cand[(size_t)i * k + j].person_id == ids[person[i]]) { choice[i] = j; break; }
        }
        if (m != stack_dist) free(m);
    }
    if (ids != stack_ids) free(ids);
    return s;
}
