#include "eval/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

typedef struct scored { double d; unsigned char same; } scored;

static int cmp_scored(const void *a, const void *b)
{
    double x = ((const scored *)a)->d, y = ((const scored *)b)->d;
    return (x > y) - (x < y);
}

static fn_status check_list(const double *dist, const unsigned char *same, size_t n, const char *what)
{
    if (!dist || !same || n == 0) return fn_fail(FN_ERR_ARG, "%s: empty distance list", what);
    for (size_t i = 0; i < n; i++)
        if (isnan(dist[i]) || dist[i] == -INFINITY)
            return fn_fail(FN_ERR_ARG, "%s: distance %zu is %g; distances must be numbers above -inf", what, i, dist[i]);
    return FN_OK;
}

void fn_roc_free(fn_roc *r)
{
    if (!r) return;
    free(r->thr); free(r->tar); free(r->far); free(r->ta); free(r->fa);
    memset(r, 0, sizeof *r);
}

static fn_status roc_alloc(fn_roc *r, size_t points)
{
    r->thr = malloc(points * sizeof *r->thr);
    r->tar = malloc(points * sizeof *r->tar);
    r->far = malloc(points * sizeof *r->far);
    r->ta = malloc(points * sizeof *r->ta);
    r->fa = malloc(points * sizeof *r->fa);
    if (r->thr && r->tar && r->far && r->ta && r->fa) return FN_OK;
    fn_roc_free(r);
    return fn_fail(FN_ERR_NOMEM, "roc: out of memory for %zu points", points);
}

/* Walks the sorted list once; a run of equal distances becomes one point. */
static void roc_sweep(const scored *s, size_t n, fn_roc *r)
{
    size_t ta = 0, fa = 0, k = 0;
    r->thr[0] = -INFINITY;
    r->ta[0] = r->fa[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].same) ta++; else fa++;
        if (i + 1 < n && s[i + 1].d == s[i].d) continue;
        k++;
        r->thr[k] = s[i].d;
        r->ta[k] = ta;
        r->fa[k] = fa;
    }
    r->n = k + 1;
    for (size_t i = 0; i < r->n; i++) {
        r->tar[i] = (double)r->ta[i] / (double)r->n_genuine;
        r->far[i] = (double)r->fa[i] / (double)r->n_impostor;
    }
}

fn_status fn_roc_compute(const double *dist, const unsigned char *same, size_t n, fn_roc *out)
{
    memset(out, 0, sizeof *out);
    FN_TRY(check_list(dist, same, n, "roc"));
    for (size_t i = 0; i < n; i++) out->n_genuine += same[i] != 0;
    out->n_impostor = n - out->n_genuine;
    if (!out->n_genuine || !out->n_impostor)
        return fn_fail(FN_ERR_ARG, "roc: needs genuine and impostor pairs, got %zu genuine and %zu impostor",
                       out->n_genuine, out->n_impostor);
    scored *s = malloc(n * sizeof *s);
    if (!s) return fn_fail(FN_ERR_NOMEM, "roc: out of memory for %zu distances", n);
    for (size_t i = 0; i < n; i++) { s[i].d = dist[i]; s[i].same = same[i] != 0; }
    qsort(s, n, sizeof *s, cmp_scored);
    fn_status st = roc_alloc(out, n + 1);
    if (st == FN_OK) roc_sweep(s, n, out);
    free(s);
    return st;
}

double fn_roc_auc(const fn_roc *r)
{
    double area = 0.0;
    for (size_t i = 1; i < r->n; i++)
        area += (r->far[i] - r->far[i - 1]) * (r->tar[i] + r->tar[i - 1]) * 0.5;
    return area;
}

fn_eer fn_roc_eer(const fn_roc *r)
{
    /* g = FAR + TAR - 1 = FAR - FRR rises from -1 (point 0) to +1 (last). */
    fn_eer e = {0.0, 0.0};
    for (size_t i = 1; i < r->n; i++) {
        double g0 = r->far[i - 1] + r->tar[i - 1] - 1.0, g1 = r->far[i] + r->tar[i] - 1.0;
        if (g1 < 0.0) continue;
        double t = g1 > g0 ? -g0 / (g1 - g0) : 0.0;
        e.eer = r->far[i - 1] + t * (r->far[i] - r->far[i - 1]);
        /* Point 0 has no finite threshold; the segment starts at the first distance. */
        double a = i - 1 == 0 ? r->thr[1] : r->thr[i - 1];
        e.thr = a + t * (r->thr[i] - a);
        return e;
    }
    return e;
}

double fn_threshold_between(double a, double b)
{
    if (isinf(a) && a < 0) return nextafter(b, -INFINITY);
    if (isinf(b)) return a;
    double m = a + (b - a) * 0.5;
    return m < b ? m : a;
}

double fn_roc_deploy_threshold(const fn_roc *r, size_t i)
{
    if (i + 1 >= r->n) return r->thr[r->n - 1];
    return fn_threshold_between(r->thr[i], r->thr[i + 1]);
}

static fn_op roc_op(const fn_roc *r, size_t i)
{
    fn_op op;
    op.index = i;
    op.thr = fn_roc_deploy_threshold(r, i);
    op.tar = r->tar[i];
    op.far = r->far[i];
    op.acc = (double)(r->ta[i] + r->n_impostor - r->fa[i]) / (double)(r->n_genuine + r->n_impostor);
    return op;
}

fn_op fn_roc_at_far(const fn_roc *r, double target_far)
{
    size_t best = 0;
    for (size_t i = 0; i < r->n; i++)     /* FAR is non-decreasing along the ROC */
        if (r->far[i] <= target_far) best = i;
    return roc_op(r, best);
}

fn_op fn_roc_best_accuracy(const fn_roc *r)
{
    size_t best = 0, best_correct = 0;
    for (size_t i = 0; i < r->n; i++) {
        size_t correct = r->ta[i] + r->n_impostor - r->fa[i];
        if (correct > best_correct) { best_correct = correct; best = i; }
    }
    return roc_op(r, best);
}

fn_status fn_rates_at(const double *dist, const unsigned char *same, size_t n, double thr, fn_rates *out)
{
    memset(out, 0, sizeof *out);
    FN_TRY(check_list(dist, same, n, "rates"));
    out->thr = thr;
    for (size_t i = 0; i < n; i++) {
        int accept = dist[i] <= thr;
        if (same[i]) { out->n_genuine++; out->ta += accept; }
        else { out->n_impostor++; out->fa += accept; }
    }
    out->tar = out->n_genuine ? (double)out->ta / (double)out->n_genuine : 0.0;
    out->far = out->n_impostor ? (double)out->fa / (double)out->n_impostor : 0.0;
    out->acc = (double)(out->ta + out->n_impostor - out->fa) / (double)n;
    return FN_OK;
}

void fn_mean_std(const double *v, int n, double *mean, double *std)
{
    double m = 0.0, s = 0.0;
    for (int i = 0; i < n; i++) m += v[i];
    m = n ? m / n : 0.0;
    for (int i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    *mean = m;
    *std = n ? sqrt(s / n) : 0.0;
}

/* Scratch for one fold: the training complement and the held-out fold. */
typedef struct fold_split {
    double *train_d, *test_d;
    unsigned char *train_s, *test_s;
    size_t n_train, n_test;
} fold_split;

static void split_fold(const double *dist, const unsigned char *same, const int *fold, size_t n, int k, fold_split *sp)
{
    sp->n_train = sp->n_test = 0;
    for (size_t i = 0; i < n; i++) {
        if (fold[i] == k) { sp->test_d[sp->n_test] = dist[i]; sp->test_s[sp->n_test++] = same[i]; }
        else { sp->train_d[sp->n_train] = dist[i]; sp->train_s[sp->n_train++] = same[i]; }
    }
}

static fn_status eval_fold(fold_split *sp, int k, double far_target, fn_kfold *out)
{
    if (!sp->n_test) return fn_fail(FN_ERR_ARG, "kfold: fold %d has no pairs", k);
    fn_roc roc;
    fn_status st = fn_roc_compute(sp->train_d, sp->train_s, sp->n_train, &roc);
    if (st != FN_OK) return fn_fail_prefix(st, "kfold: training folds for fold %d", k);
    fn_rates rt;
    out->thr[k] = fn_roc_best_accuracy(&roc).thr;
    out->val_thr[k] = fn_roc_at_far(&roc, far_target).thr;
    fn_roc_free(&roc);
    FN_TRY(fn_rates_at(sp->test_d, sp->test_s, sp->n_test, out->thr[k], &rt));
    out->acc[k] = rt.acc;
    FN_TRY(fn_rates_at(sp->test_d, sp->test_s, sp->n_test, out->val_thr[k], &rt));
    out->val[k] = rt.tar;
    out->val_far[k] = rt.far;
    return FN_OK;
}

fn_status fn_kfold_eval(const double *dist, const unsigned char *same, const int *fold, size_t n,
                        int nfolds, double far_target, fn_kfold *out)
{
    memset(out, 0, sizeof *out);
    FN_TRY(check_list(dist, same, n, "kfold"));
    if (!fold || nfolds < 2 || nfolds > FN_KFOLD_MAX)
        return fn_fail(FN_ERR_ARG, "kfold: needs 2..%d folds, got %d", FN_KFOLD_MAX, nfolds);
    if (!(far_target > 0.0 && far_target <= 1.0))
        return fn_fail(FN_ERR_ARG, "kfold: target FAR must be in (0, 1], got %g", far_target);
    for (size_t i = 0; i < n; i++)
        if (fold[i] < 0 || fold[i] >= nfolds)
            return fn_fail(FN_ERR_ARG, "kfold: pair %zu has fold %d, outside 0..%d", i, fold[i], nfolds - 1);
    fold_split sp;
    sp.train_d = malloc(n * sizeof *sp.train_d);
    sp.test_d = malloc(n * sizeof *sp.test_d);
    sp.train_s = malloc(n);
    sp.test_s = malloc(n);
    fn_status st = FN_OK;
    if (!sp.train_d || !sp.test_d || !sp.train_s || !sp.test_s) st = fn_fail(FN_ERR_NOMEM, "kfold: out of memory");
    for (int k = 0; st == FN_OK && k < nfolds; k++) {
        split_fold(dist, same, fold, n, k, &sp);
        st = eval_fold(&sp, k, far_target, out);
    }
    free(sp.train_d); free(sp.test_d); free(sp.train_s); free(sp.test_s);
    if (st != FN_OK) return st;
    out->k = nfolds;
    out->far_target = far_target;
    double far_std;
    fn_mean_std(out->acc, nfolds, &out->acc_mean, &out->acc_std);
    fn_mean_std(out->val, nfolds, &out->val_mean, &out->val_std);
    fn_mean_std(out->val_far, nfolds, &out->far_mean, &far_std);
    return FN_OK;
}

fn_status fn_train_test_eval(const double *train_dist, const unsigned char *train_same, size_t n_train,
                             const double *test_dist, const unsigned char *test_same, size_t n_test,
                             fn_train_test *out)
{
    memset(out, 0, sizeof *out);
    fn_roc roc;
    fn_status st = fn_roc_compute(train_dist, train_same, n_train, &roc);
    if (st != FN_OK) return fn_fail_prefix(st, "train/test: training list");
    fn_op best = fn_roc_best_accuracy(&roc);
    fn_roc_free(&roc);
    out->thr = best.thr;
    out->train_acc = best.acc;
    st = fn_rates_at(test_dist, test_same, n_test, best.thr, &out->test);
    if (st != FN_OK) return fn_fail_prefix(st, "train/test: test list");
    return FN_OK;
}
