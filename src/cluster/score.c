/* score.c — pairwise and BCubed precision/recall/F1 of a grouping against
 * the true identities, from the contingency table of (group, person), and
 * the threshold sweep that tunes a method on labelled faces by them. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "facenet/cluster.h"

typedef struct cell { int64_t g; int t; } cell;

static int cell_cmp(const void *x, const void *y)
{
    const cell *a = x, *b = y;
    if (a->g != b->g) return a->g < b->g ? -1 : 1;
    return (a->t > b->t) - (a->t < b->t);
}

static int int_cmp(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

static double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

fn_status fn_cluster_score(const int *truth, const int *pred, int n, fn_cluster_scores *out)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || !truth || !pred) return fn_fail(FN_ERR_ARG, "cluster score: no faces");
    for (int i = 0; i < n; i++)
        if (truth[i] < 0 || pred[i] < -1)
            return fn_fail(FN_ERR_ARG, "cluster score: face %d has label %d (truth) / %d (group)", i, truth[i], pred[i]);
    cell *c = malloc((size_t)n * sizeof *c);
    int *ts = malloc((size_t)n * sizeof *ts);
    if (!c || !ts) {
        free(c); free(ts);
        return fn_fail(FN_ERR_NOMEM, "cluster score: out of memory");
    }
    /* noise: a group of its own, numbered after every real label */
    for (int i = 0; i < n; i++) {
        c[i].g = pred[i] >= 0 ? pred[i] : (int64_t)1 << 40 | i;
        c[i].t = truth[i];
        ts[i] = truth[i];
        if (pred[i] < 0) out->n_noise++;
    }
    qsort(c, (size_t)n, sizeof *c, cell_cmp);
    qsort(ts, (size_t)n, sizeof *ts, int_cmp);
    double tp = 0, pred_pairs = 0, true_pairs = 0, bp = 0, br = 0;
    for (int i = 0; i < n;) {   /* true identity sizes */
        int j = i;
        while (j < n && ts[j] == ts[i]) j++;
        true_pairs += (double)(j - i) * (j - i - 1) / 2;
        out->n_people++;
        i = j;
    }
    for (int i = 0; i < n;) {   /* each group */
        int j = i, people = 0;
        while (j < n && c[j].g == c[i].g) j++;
        int64_t gs = j - i;
        pred_pairs += (double)gs * (gs - 1) / 2;
        if (gs >= 2) out->n_groups++;
        else out->n_singletons++;
        for (int a = i; a < j;) {   /* each cell of the group */
            int b = a;
            while (b < j && c[b].t == c[a].t) b++;
            double nct = b - a;
            tp += nct * (nct - 1) / 2;
            /* size of this person: binary search in ts */
            int lo = 0, hi = n;
            while (lo < hi) { int m = (lo + hi) / 2; if (ts[m] < c[a].t) lo = m + 1; else hi = m; }
            int lo2 = lo, hi2 = n;
            while (lo2 < hi2) { int m = (lo2 + hi2) / 2; if (ts[m] <= c[a].t) lo2 = m + 1; else hi2 = m; }
            double nt = lo2 - lo;
            bp += nct * nct / (double)gs;
            br += nct * nct / nt;
            people++;
            a = b;
        }
        if (people > 1) out->n_mixed++;
        i = j;
    }
    out->pair_precision = pred_pairs > 0 ? tp / pred_pairs : 1;
    out->pair_recall = true_pairs > 0 ? tp / true_pairs : 1;
    out->pair_f1 = f1(out->pair_precision, out->pair_recall);
    out->bcubed_precision = bp / n;
    out->bcubed_recall = br / n;
    out->bcubed_f1 = f1(out->bcubed_precision, out->bcubed_recall);
    free(c); free(ts);
    return FN_OK;
}

fn_status fn_cluster_tune(const float *x, const int *truth, int n, int d, fn_cluster_method m, const float *thresholds,
                          int nt, float *best, fn_cluster_scores *scores)
{
    if (n < 2 || d < 1 || nt < 1 || !x || !truth || !thresholds || !best)
        return fn_fail(FN_ERR_ARG, "cluster tuning: %d labelled faces and %d thresholds (at least 2 and 1 needed)", n,
                       nt);
    for (int t = 0; t < nt; t++)
        if (!(thresholds[t] > 0 && thresholds[t] <= 2))
            return fn_fail(FN_ERR_ARG, "cluster tuning: threshold %g is outside (0, 2]", (double)thresholds[t]);
    int *labels = malloc((size_t)n * sizeof *labels);
    if (!labels) return fn_fail(FN_ERR_NOMEM, "cluster tuning: out of memory");
    double bf = -1;
    fn_status r = FN_OK;
    for (int t = 0; r == FN_OK && t < nt; t++) {
        fn_cluster_params p;
        fn_cluster_params_init(&p);
        p.method = m;
        p.threshold = thresholds[t];
        int ng = 0;
        fn_cluster_scores sc;
        r = fn_cluster(x, n, d, NULL, &p, labels, &ng);
        if (r == FN_OK) r = fn_cluster_score(truth, labels, n, &sc);
        if (r != FN_OK) break;
        if (scores) scores[t] = sc;
        if (sc.bcubed_f1 > bf) { bf = sc.bcubed_f1; *best = thresholds[t]; }
    }
    free(labels);
    return r;
}
