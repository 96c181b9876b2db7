/* knn_ivf.c — approximate k nearest neighbours of many faces at once
 * (fn_knn_ivf, fn_knn_auto; include/facenet/cluster.h), for clustering big
 * libraries: the faces are projected on their span, partitioned by
 * spherical k-means (FAISS's Clustering) into cells of about cell_size
 * faces, and every face is assigned to its `probes` nearest centroids; the
 * faces assigned to a cell are then scored against each other with one
 * BLAS product a block.  An inverted-file search (Jégou et al. 2011,
 * FAISS's IndexIVFFlat) with both sides multiply assigned (Jégou et al.
 * 2008): a pair is scored when the two faces share a cell, and each row
 * takes it once, in the first cell they share.  A local join then brings
 * back close pairs the cells split.  Owns only the search; fn_knn_exact
 * (knn.c) is its reference, and its heap (fn_knn_heap_*) is shared.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "cluster/cluster.h"
#include "gallery/faiss_shim.h"
#include "nn/mathlib.h"

int fn_faiss_blas_ready(void);   /* src/gallery/faiss_blas.c */

#define IVF_KMEANS_ITER 10        /* k-means passes: the partition only has to be good, not best */
#define IVF_KMEANS_SAMPLE 64      /* training rows per centroid (FAISS samples them) */
#define IVF_KMEANS_SEED 1234
#define IVF_SCORES (1 << 22)      /* scores of one block at most (16 MiB) */
#define IVF_QBLOCK 256            /* rows per matrix product at most */

void fn_knn_ivf_params_init(fn_knn_ivf_params *p)
{
    p->cell_size = FN_KNN_IVF_CELL_SIZE;
    p->probes = FN_KNN_IVF_PROBES;
}

/* The rows' span, when they fill little of their space: the eigenvectors
 * of X'X (LAPACK's dsyev) whose eigenvalues hold all but 1e-6 of the
 * trace.  MobileFaceNet's 192-d embeddings of LFW span 58 dimensions (the
 * 134 other eigenvalues sum to 1.6e-6 of the trace), so the products and
 * k-means run on 58 floats a face instead of 192 with the same dot products
 * to ~1e-6.  *xp = NULL when the rows span more than 3/4 of d (no gain). */
typedef int (*dsyev_fn)(const char *, const char *, const int *, double *, const int *, double *, double *,
                        const int *, int *);
static fn_status project(const float *x, int n, int d, float **xp, int *r)
{
    *xp = NULL;
    *r = d;
    dsyev_fn dsyev = (dsyev_fn)fn_mathlib_blas_symbol("dsyev_");
    if (!dsyev) return FN_OK;
    float *m = malloc((size_t)d * d * sizeof *m);
    double *a = malloc((size_t)d * d * sizeof *a), *w = malloc((size_t)d * sizeof *w), lw = 0;
    fn_status s = m && a && w ? FN_OK : fn_fail(FN_ERR_NOMEM, "kNN (IVF): out of memory for a %d x %d matrix", d, d);
    int info = 0, lwork = -1;
    double *work = NULL;
    if (s == FN_OK) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, n, 1.0f, x, d, x, d, 0.0f, m, d);
        for (size_t i = 0; i < (size_t)d * d; i++) a[i] = m[i];
        dsyev("V", "U", &d, a, &d, w, &lw, &lwork, &info);   /* workspace query */
        lwork = info == 0 && lw >= 3 * d ? (int)lw : 3 * d;
        work = malloc((size_t)lwork * sizeof *work);
        if (!work) s = fn_fail(FN_ERR_NOMEM, "kNN (IVF): out of memory for LAPACK's workspace");
    }
    if (s == FN_OK) dsyev("V", "U", &d, a, &d, w, work, &lwork, &info);
    if (s == FN_OK && info == 0) {
        double trace = 0, tail = 0;
        for (int i = 0; i < d; i++) trace += w[i] > 0 ? w[i] : 0;
        int drop = 0;   /* eigenvalues ascending: drop from the smallest */
        while (drop < d - 1 && tail + (w[drop] > 0 ? w[drop] : 0) <= 1e-6 * trace) tail += w[drop] > 0 ? w[drop] : 0, drop++;
        int keep = d - drop;
        if (keep * 4 <= d * 3) {
            float *p = malloc((size_t)keep * d * sizeof *p), *y = malloc((size_t)n * keep * sizeof *y);
            if (!p || !y) {
                free(p);
                free(y);
                s = fn_fail(FN_ERR_NOMEM, "kNN (IVF): out of memory for %d faces of %d floats", n, keep);
            } else {
                /* a is column-major (LAPACK): eigenvector i is a[i*d .. i*d + d) */
                for (int i = 0; i < keep; i++)
                    for (int j = 0; j < d; j++) p[(size_t)i * d + j] = (float)a[(size_t)(drop + i) * d + j];
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, keep, d, 1.0f, x, d, p, d, 0.0f, y, keep);
                free(p);
                *xp = y;
                *r = keep;
            }
        }
    }
    free(m); free(a); free(w); free(work);
    return s;
}

/* Rows scored per matrix product against a cell of en faces. */
static int block_rows(int en)
{
    int b = IVF_SCORES / (en > 0 ? en : 1);
    return b > IVF_QBLOCK ? IVF_QBLOCK : b < 1 ? 1 : b;
}

typedef struct ivf {
    int n, d, k, cells, t;
    float lim2;
    int32_t *top;       /* n x t: each face's nearest cells, nearest first */
    int32_t *estart, *e;   /* CSR: faces with c among their t nearest */
    int *cnt;           /* kept neighbours of each row so far */
} ivf;

/* Centroids, then each face's t nearest of them (one product per 4096 faces). */
static fn_status assign(ivf *v, const float *x)
{
    int n = v->n, d = v->d, c = v->cells, t = v->t;
    float *cent = malloc((size_t)c * d * sizeof *cent);
    enum { B = 4096 };
    float *sc = malloc((size_t)B * c * sizeof *sc);
    fn_status s = cent && sc ? FN_OK : fn_fail(FN_ERR_NOMEM, "kNN (IVF): out of memory for %d centroids", c);
    if (s == FN_OK) s = fn_faiss_kmeans(d, n, x, c, IVF_KMEANS_ITER, IVF_KMEANS_SAMPLE, IVF_KMEANS_SEED, cent);
    for (int r0 = 0; s == FN_OK && r0 < n; r0 += B) {
        int rn = n - r0 < B ? n - r0 : B;
        fn_knn_gemm_nt(rn, c, d, x + (size_t)r0 * d, cent, sc);
        for (int i = 0; i < rn; i++) {
            const float *r = sc + (size_t)i * c;
            int32_t *tp = v->top + (size_t)(r0 + i) * t;
            float best[64];
            int m = 0;
            for (int j = 0; j < c; j++) {   /* insertion into the t best (t is small) */
                if (m == t && r[j] <= best[t - 1]) continue;
                int at = m < t ? m++ : t - 1;
                while (at > 0 && best[at - 1] < r[j]) best[at] = best[at - 1], tp[at] = tp[at - 1], at--;
                best[at] = r[j];
                tp[at] = j;
            }
        }
    }
    free(cent);
    free(sc);
    return s;
}

/* CSR lists of the cells: every face assigned to each, in face order. */
static fn_status lists(ivf *v)
{
    int n = v->n, c = v->cells, t = v->t;
    v->estart = calloc((size_t)c + 1, sizeof *v->estart);
    v->e = malloc((size_t)n * t * sizeof *v->e);
    int32_t *fill = malloc((size_t)c * sizeof *fill);
    fn_status s = v->estart && v->e && fill ? FN_OK
                                            : fn_fail(FN_ERR_NOMEM, "kNN (IVF): out of memory for the lists of %d faces", n);
    if (s == FN_OK) {
        for (size_t i = 0; i < (size_t)n * t; i++) v->estart[v->top[i] + 1]++;
        for (int a = 0; a < c; a++) v->estart[a + 1] += v->estart[a];
        memcpy(fill, v->estart, (size_t)c * sizeof *fill);
        for (size_t i = 0; i < (size_t)n * t; i++) v->e[fill[v->top[i]]++] = (int32_t)(i / t);
    }
    free(fill);
    return s;
}

/* The first of face f's cells (nearest first) that face g is assigned to
 * as well: the one cell where the pair is offered to f's row. */
static int32_t first_common(const ivf *v, int32_t f, int32_t g)
{
    const int32_t *tf = v->top + (size_t)f * v->t, *tg = v->top + (size_t)g * v->t;
    for (int i = 0; i < v->t; i++)
        for (int j = 0; j < v->t; j++)
            if (tf[i] == tg[j]) return tf[i];
    return -1;
}

/* Cell a: every face assigned to it against every other, one BLAS product
 * per block of rows; each row is one thread's. */
static void score_cell(ivf *v, const float *x, int a, float *eb, float *sc, int32_t *idx, float *dist)
{
    int d = v->d, k = v->k;
    int32_t e0 = v->estart[a], en = v->estart[a + 1] - e0;
    if (en < 2) return;
    const int32_t *es = v->e + e0;
    for (int j = 0; j < en; j++) memcpy(eb + (size_t)j * d, x + (size_t)es[j] * d, (size_t)d * sizeof *eb);
    int block = block_rows(en);
    for (int b0 = 0; b0 < en; b0 += block) {
        int bn = en - b0 < block ? en - b0 : block;
        fn_knn_gemm_nt(bn, en, d, eb + (size_t)b0 * d, eb, sc);
        float lim2 = v->lim2;
#pragma omp parallel for schedule(dynamic, 16)
        for (int i = 0; i < bn; i++) {
            int32_t f = es[b0 + i];
            const float *r = sc + (size_t)i * en;
            float *dr = dist + (size_t)f * k;
            int32_t *ir = idx + (size_t)f * k;
            for (int j = 0; j < en; j++) {
                int32_t g = es[j];
                float d2 = 2.0f - 2.0f * r[j];
                if (d2 < 0) d2 = 0;
                if (g == f || d2 > lim2) continue;
                if (v->cnt[f] == k && !fn_knn_worse(dr[0], ir[0], d2, g)) continue;   /* would not be kept */
                if (first_common(v, f, g) == a) fn_knn_heap_push(dr, ir, &v->cnt[f], k, d2, g);
            }
        }
    }
}

/* One round of NN-descent's local join (Dong, Moses & Li 2011) on the near
 * part of the graph: a face's neighbours' neighbours, both within
 * IVF_JOIN_RADIUS, are scored and kept when they are nearer than its k-th.
 * The partition loses a close pair when each face's cell misses the other;
 * a third photo of the same person near both brings it back, and average
 * linkage, which counts a missing pair as distance 2, needs those pairs.
 * Phase 1 reads the graph only (each row's finds go to its own slots),
 * phase 2 merges each row with its finds. */
#define IVF_JOIN_RADIUS 1.0f   /* test_cluster_knn_ann's and bench_cluster's "near" edges */
#define IVF_JOIN_FINDS 32      /* finds kept a row: the nearest */
static fn_status local_join(const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist)
{
    int32_t *fi = malloc((size_t)n * IVF_JOIN_FINDS * sizeof *fi);
    float *fd = malloc((size_t)n * IVF_JOIN_FINDS * sizeof *fd);
    int *fn = calloc((size_t)n, sizeof *fn), bad = !fi || !fd || !fn;
    float lim = max_dist < 2 ? max_dist : 2.0f;
#pragma omp parallel if (!bad)
    {
        int32_t *stamp = malloc((size_t)n * sizeof *stamp);
        if (!stamp) {
#pragma omp atomic write
            bad = 1;
        }
        for (int i = 0; stamp && i < n; i++) stamp[i] = -1;
#pragma omp for schedule(dynamic, 64)
        for (int i = 0; i < n; i++) {
            if (!stamp) continue;
            const int32_t *ri = idx + (size_t)i * k;
            const float *di = dist + (size_t)i * k;
            int m = 0;
            while (m < k && ri[m] >= 0) stamp[ri[m++]] = i;
            stamp[i] = i;
            float worst = m == k ? di[k - 1] : lim;
            int32_t *oi = fi + (size_t)i * IVF_JOIN_FINDS;
            float *od = fd + (size_t)i * IVF_JOIN_FINDS;
            int nf = 0;
            for (int a = 0; a < m && di[a] <= IVF_JOIN_RADIUS; a++) {
                const int32_t *rj = idx + (size_t)ri[a] * k;
                const float *dj = dist + (size_t)ri[a] * k;
                for (int b = 0; b < k && rj[b] >= 0 && dj[b] <= IVF_JOIN_RADIUS; b++) {
                    int32_t c = rj[b];
                    if (stamp[c] == i) continue;
                    stamp[c] = i;
                    const float *xi = x + (size_t)i * d, *xc = x + (size_t)c * d;
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    int e = 0;
                    for (; e + 4 <= d; e += 4)
                        s0 += xi[e] * xc[e], s1 += xi[e + 1] * xc[e + 1], s2 += xi[e + 2] * xc[e + 2],
                            s3 += xi[e + 3] * xc[e + 3];
                    for (; e < d; e++) s0 += xi[e] * xc[e];
                    float d2 = 2.0f - 2.0f * ((s0 + s1) + (s2 + s3));
                    float dc = sqrtf(d2 > 0 ? d2 : 0);
                    if (dc > lim || dc > worst) continue;
                    if (nf < IVF_JOIN_FINDS) {
                        oi[nf] = c, od[nf++] = dc;
                    } else {   /* replace the farthest find */
                        int w = 0;
                        for (int f = 1; f < nf; f++)
                            if (od[f] > od[w] || (od[f] == od[w] && oi[f] > oi[w])) w = f;
                        if (dc < od[w] || (dc == od[w] && c < oi[w])) oi[w] = c, od[w] = dc;
                    }
                }
            }
            fn[i] = nf;
        }
        free(stamp);
    }
    if (!bad) {
#pragma omp parallel for schedule(dynamic, 256)
        for (int i = 0; i < n; i++) {   /* insertion into the sorted row; the row's last falls off */
            int32_t *ri = idx + (size_t)i * k;
            float *di = dist + (size_t)i * k;
            for (int f = 0; f < fn[i]; f++) {
                int32_t c = fi[(size_t)i * IVF_JOIN_FINDS + f];
                float dc = fd[(size_t)i * IVF_JOIN_FINDS + f];
                int at = k - 1;
                if (ri[at] >= 0 && (di[at] < dc || (di[at] == dc && ri[at] < c))) continue;
                while (at > 0 && (ri[at - 1] < 0 || di[at - 1] > dc || (di[at - 1] == dc && ri[at - 1] > c))) {
                    ri[at] = ri[at - 1];
                    di[at] = di[at - 1];
                    at--;
                }
                ri[at] = c;
                di[at] = dc;
            }
        }
    }
    free(fi);
    free(fd);
    free(fn);
    return bad ? fn_fail(FN_ERR_NOMEM, "kNN (IVF): out of memory joining the neighbours of %d faces", n) : FN_OK;
}

fn_status fn_knn_ivf(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist)
{
    if (n < 0 || d < 1 || k < 1 || (n > 0 && (!x || !idx || !dist)))
        return fn_fail(FN_ERR_ARG, "kNN (IVF): bad arguments (%d rows of %d floats, k %d)", n, d, k);
    fn_knn_ivf_params prm;
    if (user) prm = *(const fn_knn_ivf_params *)user;
    else fn_knn_ivf_params_init(&prm);
    if (prm.cell_size < 1 || prm.probes < 1 || prm.probes > 64)
        return fn_fail(FN_ERR_ARG, "kNN (IVF): cell size %d or probes %d out of range (>= 1; probes <= 64)",
                       prm.cell_size, prm.probes);
    int cells = n / prm.cell_size;
    /* too few cells to partition (or k-means below FAISS's 39 rows a
     * centroid), or no OpenBLAS for FAISS: the exact search */
    if (cells < 2 * prm.probes || n < 39 * cells || !fn_mathlib_have_openblas() || !fn_faiss_blas_ready())
        return fn_knn_exact(NULL, x, n, d, k, max_dist, idx, dist);
    float *xp = NULL;
    fn_status s = project(x, n, d, &xp, &d);
    if (s != FN_OK) return s;
    if (xp) x = xp;
    ivf v = {.n = n, .d = d, .k = k, .cells = cells, .t = prm.probes};
    v.lim2 = max_dist >= 2 ? 4.0f : max_dist * max_dist;
    v.top = malloc((size_t)n * v.t * sizeof *v.top);
    v.cnt = calloc((size_t)n, sizeof *v.cnt);
    s = v.top && v.cnt ? FN_OK : fn_fail(FN_ERR_NOMEM, "kNN (IVF): out of memory for %d faces", n);
    if (s == FN_OK) s = assign(&v, x);
    if (s == FN_OK) s = lists(&v);
    int emax = 1;
    size_t scn = 1;   /* the largest block of scores of any cell */
    for (int a = 0; s == FN_OK && a < cells; a++) {
        int en = v.estart[a + 1] - v.estart[a];
        if (en > emax) emax = en;
        if ((size_t)block_rows(en) * en > scn) scn = (size_t)block_rows(en) * en;
    }
    float *eb = NULL, *sc = NULL;
    if (s == FN_OK) {
        eb = malloc((size_t)emax * d * sizeof *eb);
        sc = malloc(scn * sizeof *sc);
        if (!eb || !sc) s = fn_fail(FN_ERR_NOMEM, "kNN (IVF): out of memory for a cell of %d faces", emax);
    }
    for (int a = 0; s == FN_OK && a < cells; a++) score_cell(&v, x, a, eb, sc, idx, dist);
    if (s == FN_OK) {
#pragma omp parallel for schedule(static, 256)
        for (int i = 0; i < n; i++) {   /* the heaps hold squared distances */
            fn_knn_heap_sort(dist + (size_t)i * k, idx + (size_t)i * k, v.cnt[i], k);
            for (int j = 0; j < v.cnt[i]; j++) dist[(size_t)i * k + j] = sqrtf(dist[(size_t)i * k + j]);
        }
        s = local_join(x, n, d, k, max_dist, idx, dist);
    }
    free(eb); free(sc); free(xp);
    free(v.top); free(v.cnt); free(v.estart); free(v.e);
    return s;
}

fn_status fn_knn_auto(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist)
{
    (void)user;
    return n >= FN_KNN_ANN_MIN_ROWS ? fn_knn_ivf(NULL, x, n, d, k, max_dist, idx, dist)
                                    : fn_knn_exact(NULL, x, n, d, k, max_dist, idx, dist);
}
