/* extend.c — fn_cluster_extend: faces in no group (a later scan's new
 * faces, earlier noise) placed into the existing groups or into new ones,
 * with one search of those faces against all rows and a clustering of the
 * rest among themselves; the existing groups are never re-clustered.
 */
#include "nn/mathlib.h"   /* cblas_sgemm through the table */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "core/error.h"

#define EXT_BLOCK 256   /* queries per matrix product, at most */
#define EXT_SCORES (16 << 20)   /* floats of scores per product (64 MiB): fewer queries a block for big libraries */
#define EXT_K 32        /* neighbours kept per query for the voting methods */

typedef struct ext {
    const float *x;
    int n, d, ng, nq, k;
    const unsigned char *ok;
    const fn_cluster_params *p;
    float attach;
    const int *q;          /* the queries' rows */
    int *lab;              /* labels (in/out) */
    int32_t *idx;          /* nq x k: neighbours within the threshold */
    float *dist;
    int *avg_best;         /* nq: average's group of mean distance furthest below its limit, or -1 */
} ext;

/* One query row of distances -> average's best group (mean over seeding members, the limit of a face and the group). */
static int mean_best(const ext *e, const float *dots, int self, double *sum, const int *cnt)
{
    memset(sum, 0, (size_t)e->ng * sizeof *sum);
    for (int j = 0; j < e->n; j++) {
        int g = e->lab[j];
        if (g < 0 || j == self || (e->ok && !e->ok[j])) continue;
        float d2 = 2.0f - 2.0f * dots[j];
        sum[g] += d2 > 0 ? sqrtf(d2) : 0.0f;
    }
    int best = -1;
    double bk = 0;
    for (int g = 0; g < e->ng; g++) {   /* the merge average linkage would make first: furthest below its limit */
        if (!cnt[g]) continue;
        double key = sum[g] / cnt[g] - fn_cluster_average_limit(e->p->threshold, e->p->average_limit_ratio, 1, cnt[g]);
        if (key <= 0 && (best < 0 || key < bk)) { best = g; bk = key; }
    }
    return best;
}

/* Every query against all n rows: kNN within the threshold, and average's
 * mean distance to each group. */
static fn_status search(ext *e)
{
    int block = e->nq < EXT_BLOCK ? e->nq : EXT_BLOCK;
    if ((int64_t)block * e->n > EXT_SCORES) block = (int)(EXT_SCORES / e->n) > 0 ? (int)(EXT_SCORES / e->n) : 1;
    float *qx = malloc((size_t)block * e->d * sizeof *qx);
    float *dots = malloc((size_t)block * e->n * sizeof *dots);
    double *sum = malloc((size_t)(e->ng ? e->ng : 1) * sizeof *sum);
    int *cnt = calloc((size_t)(e->ng ? e->ng : 1), sizeof *cnt);
    fn_status r = qx && dots && sum && cnt ? FN_OK : fn_fail(FN_ERR_NOMEM, "cluster: out of memory for %d x %d scores",
                                                              block, e->n);
    for (int j = 0; r == FN_OK && j < e->n; j++)
        if (e->lab[j] >= 0 && (!e->ok || e->ok[j])) cnt[e->lab[j]]++;
    for (int q0 = 0; r == FN_OK && q0 < e->nq; q0 += block) {
        int qn = e->nq - q0 < block ? e->nq - q0 : block;
        for (int a = 0; a < qn; a++)
            memcpy(qx + (size_t)a * e->d, e->x + (size_t)e->q[q0 + a] * e->d, e->d * sizeof *qx);
        fn_knn_gemm_nt(qn, e->n, e->d, qx, e->x, dots);
        for (int a = 0; a < qn; a++) {
            int qi = q0 + a;
            const float *row = dots + (size_t)a * e->n;
            fn_knn_select_row(row, e->n, e->q[qi], e->k, e->p->threshold, e->idx + (size_t)qi * e->k,
                              e->dist + (size_t)qi * e->k);
            e->avg_best[qi] = e->p->method == FN_CLUSTER_AVERAGE ? mean_best(e, row, e->q[qi], sum, cnt) : -1;
        }
    }
    free(qx); free(dots); free(sum); free(cnt);
    return r;
}

/* The group a query joins given the labels so far, or -1. */
static int choose(const ext *e, int qi, int *votes, float *vsum)
{
    const int32_t *idx = e->idx + (size_t)qi * e->k;
    const float *dist = e->dist + (size_t)qi * e->k;
    if (e->ok && !e->ok[e->q[qi]]) {   /* may not seed: its nearest seeding face's group */
        for (int a = 0; a < e->k && idx[a] >= 0; a++)
            if (!e->ok[idx[a]]) continue;
            else return dist[a] <= e->attach ? e->lab[idx[a]] : -1;
        return -1;
    }
    if (e->p->method == FN_CLUSTER_AVERAGE) return e->avg_best[qi];
    int best = -1;
    for (int a = 0; a < e->k && idx[a] >= 0; a++) {
        int g = e->lab[idx[a]];
        if (g < 0 || (e->ok && !e->ok[idx[a]])) continue;
        votes[g] = 0;
        vsum[g] = 0;
    }
    for (int a = 0; a < e->k && idx[a] >= 0; a++) {
        int g = e->lab[idx[a]];
        if (g < 0 || (e->ok && !e->ok[idx[a]])) continue;
        votes[g]++;
        vsum[g] += dist[a];
        if (best < 0 || votes[g] > votes[best] || (votes[g] == votes[best] && vsum[g] < vsum[best])) best = g;
    }
    return best;
}

/* Place queries until nothing changes (average linkage's criterion looks at
 * the existing groups only, so there only low-quality faces can follow a
 * face placed in the same pass). */
static void place(ext *e, fn_cluster_extend_stats *st, int *votes, float *vsum)
{
    for (int changed = 1, pass = 0; changed && pass < 1000; pass++) {
        changed = 0;
        for (int qi = 0; qi < e->nq; qi++) {
            if (e->lab[e->q[qi]] >= 0) continue;
            int g = choose(e, qi, votes, vsum);
            if (g < 0) continue;
            e->lab[e->q[qi]] = g;
            st->joined++;
            changed = 1;
        }
    }
}

/* The m queries left, clustered among themselves; groups from e->ng on. */
static fn_status rest(ext *e, fn_cluster_extend_stats *st, int *n_groups)
{
    int m = 0;
    int *sel = malloc((size_t)(e->nq ? e->nq : 1) * sizeof *sel);
    if (!sel) return fn_fail(FN_ERR_NOMEM, "cluster: out of memory");
    for (int qi = 0; qi < e->nq; qi++) if (e->lab[e->q[qi]] < 0) sel[m++] = e->q[qi];
    float *x = malloc((size_t)(m ? m : 1) * e->d * sizeof *x);
    unsigned char *ok = malloc((size_t)(m ? m : 1));
    int *lab = malloc((size_t)(m ? m : 1) * sizeof *lab);
    fn_status r = x && ok && lab ? FN_OK : fn_fail(FN_ERR_NOMEM, "cluster: out of memory");
    for (int i = 0; r == FN_OK && i < m; i++) {
        memcpy(x + (size_t)i * e->d, e->x + (size_t)sel[i] * e->d, e->d * sizeof *x);
        ok[i] = e->ok ? e->ok[sel[i]] : 1;
    }
    int g = 0;
    if (r == FN_OK && m) r = fn_cluster(x, m, e->d, ok, e->p, lab, &g);
    st->distances += (int64_t)m * m;
    for (int i = 0; r == FN_OK && i < m; i++) {
        if (lab[i] < 0) { st->noise++; continue; }
        e->lab[sel[i]] = *n_groups + lab[i];
        st->grouped++;
    }
    if (r == FN_OK) {
        *n_groups += g;
        st->new_groups += g;
    }
    free(sel); free(x); free(ok); free(lab);
    return r;
}

fn_status fn_cluster_extend(const float *x, int n, int d, const unsigned char *seed_ok, const fn_cluster_params *p,
                            int *labels, int *n_groups, fn_cluster_extend_stats *stout)
{
    fn_cluster_extend_stats st;
    memset(&st, 0, sizeof st);
    if (stout) *stout = st;
    if (n < 0 || d < 1 || !p || !n_groups || *n_groups < 0 || (n > 0 && (!x || !labels)))
        return fn_fail(FN_ERR_ARG, "cluster: bad arguments to extend (n %d, d %d)", n, d);
    if (!(p->threshold > 0 && p->threshold <= 2))
        return fn_fail(FN_ERR_ARG, "cluster: threshold %g is outside (0, 2]", (double)p->threshold);
    int nq = 0;
    for (int i = 0; i < n; i++) {
        if (labels[i] < -1 || labels[i] >= *n_groups)
            return fn_fail(FN_ERR_ARG, "cluster: face %d has group %d, outside -1..%d", i, labels[i], *n_groups - 1);
        nq += labels[i] < 0;
    }
    if (!nq) return FN_OK;
    ext e = {x, n, d, *n_groups, nq, n - 1 < EXT_K ? (n - 1 > 0 ? n - 1 : 1) : EXT_K, seed_ok, p,
             p->attach_threshold > 0 ? p->attach_threshold : p->threshold, NULL, labels, NULL, NULL, NULL};
    int *q = malloc((size_t)nq * sizeof *q);
    e.idx = malloc((size_t)nq * e.k * sizeof *e.idx);
    e.dist = malloc((size_t)nq * e.k * sizeof *e.dist);
    e.avg_best = malloc((size_t)nq * sizeof *e.avg_best);
    int *votes = malloc((size_t)(e.ng ? e.ng : 1) * sizeof *votes);
    float *vsum = malloc((size_t)(e.ng ? e.ng : 1) * sizeof *vsum);
    fn_status r = q && e.idx && e.dist && e.avg_best && votes && vsum ? FN_OK
                                                                       : fn_fail(FN_ERR_NOMEM, "cluster: out of memory");
    if (r == FN_OK) {
        for (int i = 0, a = 0; i < n; i++) if (labels[i] < 0) q[a++] = i;
        e.q = q;
        st.queries = nq;
        st.distances = (int64_t)nq * n;
        r = search(&e);
    }
    if (r == FN_OK && e.ng) place(&e, &st, votes, vsum);
    if (r == FN_OK) r = rest(&e, &st, n_groups);
    free(q); free(e.idx); free(e.dist); free(e.avg_best); free(votes); free(vsum);
    if (stout) *stout = st;
    return r;
}
