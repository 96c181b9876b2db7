/* Evaluation instruments against hand-computed cases and brute-force oracles:
 * ROC/AUC/EER/TAR@FAR, best accuracy, k-fold, open-set rates, calibration,
 * histograms, SVG well-formedness, the LFW pair parser and the cache. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "t.h"
#include "core/error.h"
#include "eval/cache.h"
#include "eval/calib.h"
#include "eval/metrics.h"
#include "eval/openset.h"
#include "eval/pairs.h"
#include "eval/svg.h"

#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-12)

/* ---------- the 8-pair hand case ----------
 * genuine {0.1, 0.2, 0.3, 0.6}, impostor {0.4, 0.5, 0.7, 0.8}, given shuffled.
 * Sorted: .1G .2G .3G .4I .5I .6G .7I .8I, so the ROC points (FAR, TAR) are
 * (0,0) (0,.25) (0,.5) (0,.75) (.25,.75) (.5,.75) (.5,1) (.75,1) (1,1);
 * AUC = .5*.75 + .5*1 = .875 (= 14 of 16 genuine<impostor orderings). */
static const double H_DIST[8] = {0.7, 0.2, 0.4, 0.6, 0.1, 0.8, 0.5, 0.3};
static const unsigned char H_SAME[8] = {0, 1, 0, 1, 1, 0, 0, 1};

static void test_roc_hand(void)
{
    fn_roc r;
    T_CHECK(fn_roc_compute(H_DIST, H_SAME, 8, &r) == FN_OK, "roc: %s", fn_last_error());
    static const double far[9] = {0, 0, 0, 0, .25, .5, .5, .75, 1}, tar[9] = {0, .25, .5, .75, .75, .75, 1, 1, 1};
    static const double thr[9] = {-INFINITY, .1, .2, .3, .4, .5, .6, .7, .8};
    T_CHECK(r.n == 9 && r.n_genuine == 4 && r.n_impostor == 4, "n %zu g %zu i %zu", r.n, r.n_genuine, r.n_impostor);
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < 9 && i < r.n; i++) {
        double d = fmax(fabs(r.far[i] - far[i]), fabs(r.tar[i] - tar[i]));
        if (i > 0) d = fmax(d, fabs(r.thr[i] - thr[i]));
        if (d > worst) { worst = d; at = i; }
    }
    printf("roc hand case: worst deviation %g at point %zu\n", worst, at);
    T_CHECK(worst == 0 && isinf(r.thr[0]) && r.thr[0] < 0, "roc points differ by %g at %zu", worst, at);
    T_CHECK(NEAR(fn_roc_auc(&r), 0.875), "auc %.17g want 0.875", fn_roc_auc(&r));
    fn_eer e = fn_roc_eer(&r);
    T_CHECK(NEAR(e.eer, 0.25) && NEAR(e.thr, 0.4), "eer %g at %g, want 0.25 at 0.4", e.eer, e.thr);

    fn_op op = fn_roc_at_far(&r, 0.0);       /* FAR 0: accept .1 .2 .3; deploy halfway to .4 */
    T_CHECK(op.index == 3 && NEAR(op.tar, .75) && op.far == 0 && NEAR(op.thr, .35), "far0: i%zu tar %g thr %g", op.index, op.tar, op.thr);
    op = fn_roc_at_far(&r, 0.25);
    T_CHECK(op.index == 4 && NEAR(op.tar, .75) && NEAR(op.far, .25) && NEAR(op.thr, .45), "far.25: i%zu tar %g thr %g", op.index, op.tar, op.thr);
    op = fn_roc_at_far(&r, 0.3);             /* between achievable FARs: stays at .25 */
    T_CHECK(op.index == 4, "far.3: i%zu", op.index);
    op = fn_roc_at_far(&r, 0.5);             /* the largest threshold with FAR .5 is .6, TAR 1 */
    T_CHECK(op.index == 6 && NEAR(op.tar, 1) && NEAR(op.thr, .65), "far.5: i%zu tar %g thr %g", op.index, op.tar, op.thr);
    op = fn_roc_at_far(&r, 1.0);
    T_CHECK(op.index == 8 && NEAR(op.thr, .8), "far1: i%zu thr %g", op.index, op.thr);

    op = fn_roc_best_accuracy(&r);           /* correct: 4 5 6 7 6 5 6 5 4 -> point 3 */
    T_CHECK(op.index == 3 && NEAR(op.acc, .875) && NEAR(op.thr, .35), "best: i%zu acc %g thr %g", op.index, op.acc, op.thr);

    fn_rates rt;
    T_CHECK(fn_rates_at(H_DIST, H_SAME, 8, 0.35, &rt) == FN_OK && rt.ta == 3 && rt.fa == 0 && NEAR(rt.acc, .875),
            "rates at .35: ta %zu fa %zu acc %g", rt.ta, rt.fa, rt.acc);
    T_CHECK(fn_rates_at(H_DIST, H_SAME, 8, 0.4, &rt) == FN_OK && rt.fa == 1, "d <= thr accepts the equal distance");
    fn_roc_free(&r);
}

static double auc_of(const double *d, const unsigned char *s, size_t n)
{
    fn_roc r;
    if (fn_roc_compute(d, s, n, &r) != FN_OK) return -1;
    double a = fn_roc_auc(&r);
    fn_roc_free(&r);
    return a;
}

static void test_auc_eer_small(void)
{
    double d1[4] = {0.1, 0.2, 0.3, 0.4};
    unsigned char s1[4] = {1, 1, 0, 0};
    T_CHECK(NEAR(auc_of(d1, s1, 4), 1.0), "separable auc %g", auc_of(d1, s1, 4));
    double d2[4] = {0.5, 0.5, 0.5, 0.5};   /* all tied: one diagonal step */
    T_CHECK(NEAR(auc_of(d2, s1, 4), 0.5), "all-tied auc %g", auc_of(d2, s1, 4));
    double d3[4] = {0.1, 0.3, 0.2, 0.4};   /* G .1 .3, I .2 .4: 3 of 4 orderings */
    unsigned char s3[4] = {1, 1, 0, 0};
    T_CHECK(NEAR(auc_of(d3, s3, 4), 0.75), "auc %g want .75", auc_of(d3, s3, 4));
    double d4[4] = {0.1, 0.3, 0.3, 0.4};   /* G .1 .3, I .3 .4: the tie counts half: 3.5/4 */
    T_CHECK(NEAR(auc_of(d4, s3, 4), 0.875), "tied auc %g want .875", auc_of(d4, s3, 4));
    double d5[4] = {0.4, 0.3, 0.2, 0.1};   /* reversed: 0 */
    T_CHECK(NEAR(auc_of(d5, s3, 4), 0.0), "reversed auc %g", auc_of(d5, s3, 4));

    fn_roc r;
    fn_roc_compute(d1, s1, 4, &r);
    fn_eer e = fn_roc_eer(&r);
    T_CHECK(NEAR(e.eer, 0) && NEAR(e.thr, 0.2), "separable eer %g thr %g", e.eer, e.thr);
    fn_roc_free(&r);
    fn_roc_compute(d2, s1, 4, &r);
    e = fn_roc_eer(&r);
    T_CHECK(r.n == 2 && NEAR(e.eer, 0.5), "tied eer %g (n %zu)", e.eer, r.n);
    fn_roc_free(&r);
    /* G .1 .2 .5, I .3 .4: FAR+TAR-1 goes -1/3 (at .2) -> +1/6 (at .3); crossing 2/3 along:
     * EER = 2/3 * .5 = 1/3 (FRR there 1 - 2/3 = 1/3 too), threshold .2 + 2/3 * .1. */
    double d6[5] = {0.1, 0.2, 0.5, 0.3, 0.4};
    unsigned char s6[5] = {1, 1, 1, 0, 0};
    fn_roc_compute(d6, s6, 5, &r);
    e = fn_roc_eer(&r);
    T_CHECK(fabs(e.eer - 1.0 / 3) < 1e-12 && fabs(e.thr - (0.2 + 0.2 / 3)) < 1e-12, "interpolated eer %.17g thr %.17g", e.eer, e.thr);
    fn_roc_free(&r);

    /* refusals */
    double dn[2] = {NAN, 0.2};
    unsigned char sn[2] = {1, 0}, s_only[2] = {1, 1};
    T_CHECK(fn_roc_compute(dn, sn, 2, &r) == FN_ERR_ARG && strstr(fn_last_error(), "distance 0"), "NaN: %s", fn_last_error());
    T_CHECK(fn_roc_compute(d1, s_only, 2, &r) == FN_ERR_ARG && strstr(fn_last_error(), "impostor"), "one class: %s", fn_last_error());
    T_CHECK(fn_roc_compute(d1, s1, 0, &r) == FN_ERR_ARG, "empty list accepted");
    /* +inf: G .1 inf, I .3 inf: .1 beats both, inf loses to .3 and ties inf: 2.5 of 4 */
    double di[4] = {0.1, INFINITY, 0.3, INFINITY};
    T_CHECK(fn_roc_compute(di, s1, 4, &r) == FN_OK && r.n == 4 && NEAR(fn_roc_auc(&r), 2.5 / 4),
            "inf auc %g", r.n ? fn_roc_auc(&r) : -1);
    fn_roc_free(&r);
}

/* ---------- brute-force oracles on random lists with many ties ---------- */

static uint32_t lcg(uint32_t *s) { *s = *s * 1664525u + 1013904223u; return *s >> 8; }

static void test_random_oracles(void)
{
    uint32_t seed = 12345;
    double worst_auc = 0, worst_acc = 0, worst_tar = 0;
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 2 + lcg(&seed) % 40;
        double d[42];
        unsigned char s[42];
        for (size_t i = 0; i < n; i++) {
            s[i] = lcg(&seed) & 1;
            d[i] = (double)(lcg(&seed) % 12) / 8.0 + (s[i] ? 0.0 : 0.3);   /* coarse: many ties */
        }
        s[0] = 1; s[1] = 0;
        size_t ng = 0, ni = 0, wins2 = 0;
        for (size_t i = 0; i < n; i++) { ng += s[i]; ni += !s[i]; }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (s[i] && !s[j]) wins2 += d[i] < d[j] ? 2 : d[i] == d[j] ? 1 : 0;
        fn_roc r;
        if (fn_roc_compute(d, s, n, &r) != FN_OK) { T_CHECK(0, "roc trial %d: %s", trial, fn_last_error()); return; }
        worst_auc = fmax(worst_auc, fabs(fn_roc_auc(&r) - (double)wins2 / (2.0 * ng * ni)));
        /* best accuracy: try every distance as a threshold (and reject-all) directly */
        double best = (double)ni / n;
        for (size_t k = 0; k < n; k++) {
            fn_rates rt;
            fn_rates_at(d, s, n, d[k], &rt);
            best = fmax(best, rt.acc);
        }
        fn_op op = fn_roc_best_accuracy(&r);
        fn_rates at;
        fn_rates_at(d, s, n, op.thr, &at);
        worst_acc = fmax(worst_acc, fmax(fabs(op.acc - best), fabs(at.acc - best)));
        /* TAR at FAR 0.2: the best TAR over thresholds whose FAR <= 0.2 */
        double best_tar = 0;
        for (size_t k = 0; k < n; k++) {
            fn_rates rt;
            fn_rates_at(d, s, n, d[k], &rt);
            if (rt.far <= 0.2) best_tar = fmax(best_tar, rt.tar);
        }
        op = fn_roc_at_far(&r, 0.2);
        fn_rates_at(d, s, n, op.thr, &at);
        worst_tar = fmax(worst_tar, fmax(fabs(op.tar - best_tar), fabs(at.tar - best_tar)));
        T_CHECK(at.far <= 0.2, "trial %d: deploy threshold %g gives FAR %g", trial, op.thr, at.far);
        fn_roc_free(&r);
    }
    printf("random oracles (200 lists): worst |AUC - Mann-Whitney| %g, |best acc - brute| %g, |TAR@FAR - brute| %g\n",
           worst_auc, worst_acc, worst_tar);
    T_CHECK(worst_auc < 1e-12 && worst_acc < 1e-12 && worst_tar < 1e-12, "oracle deviation");
}

static void test_threshold_between(void)
{
    T_CHECK(fn_threshold_between(1.0, 2.0) == 1.5, "midpoint");
    T_CHECK(fn_threshold_between(-INFINITY, 2.0) < 2.0 && fn_threshold_between(-INFINITY, 2.0) > 1.9999999, "below first");
    T_CHECK(fn_threshold_between(3.0, INFINITY) == 3.0, "last");
    double a = 1.0, b = nextafter(1.0, 2.0);   /* no double strictly between: keep a */
    T_CHECK(fn_threshold_between(a, b) == a, "adjacent doubles");
}

/* ---------- k-fold ----------
 * fold 0: G .1 .2   I .5 .6
 * fold 1: G .32 .4  I .7 .8
 * fold 2: G .25 .9  I .35 1.0
 * Test fold 0, train 1+2 sorted .25G .32G .35I .4G .7I .8I .9G 1.0I; correct
 *   4 5 6 5 6 5 4 5 4 -> first max at .32 -> thr .335; fold 0 all right: 1.0
 * Test fold 1, train 0+2: .1G .2G .25G .35I .5I .6I .9G 1.0I; correct 4 5 6 7 6 5 4 5 4
 *   -> .25 -> thr .30; fold 1: .32 .4 rejected, .7 .8 rejected: 0.5
 * Test fold 2, train 0+1 separable at .4 -> thr .45; fold 2: .25 in, .9 out,
 *   .35 in, 1.0 out: 0.5
 * mean 2/3, population std sqrt(1/18) = .2357 (sample std would be .2887).
 * VAL at FAR .25 (at most 1 of 4 training impostors accepted):
 *   fold 0: train point .4 (FA .35) -> thr .55: G 2/2, I .5 in -> VAL 1, FAR .5
 *   fold 1: train point .35 -> thr .425: G .32 .4 in -> 1, FAR 0
 *   fold 2: train point .5 -> thr .55: G .25 in -> .5, I .35 in -> FAR .5 */
static void test_kfold_hand(void)
{
    double d[12] = {.1, .2, .5, .6, .32, .4, .7, .8, .25, .9, .35, 1.0};
    unsigned char s[12] = {1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0};
    int f[12] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
    fn_kfold k;
    T_CHECK(fn_kfold_eval(d, s, f, 12, 3, 0.25, &k) == FN_OK, "kfold: %s", fn_last_error());
    double want_thr[3] = {.335, .30, .45}, want_acc[3] = {1, .5, .5};
    double want_vthr[3] = {.55, .425, .55}, want_val[3] = {1, 1, .5}, want_vfar[3] = {.5, 0, .5};
    double worst = 0;
    for (int i = 0; i < 3; i++) {
        worst = fmax(worst, fabs(k.thr[i] - want_thr[i]));
        worst = fmax(worst, fabs(k.acc[i] - want_acc[i]));
        worst = fmax(worst, fabs(k.val_thr[i] - want_vthr[i]));
        worst = fmax(worst, fabs(k.val[i] - want_val[i]));
        worst = fmax(worst, fabs(k.val_far[i] - want_vfar[i]));
        printf("fold %d: thr %.4f acc %.3f | VAL thr %.4f VAL %.3f FAR %.3f\n", i, k.thr[i], k.acc[i], k.val_thr[i], k.val[i], k.val_far[i]);
    }
    printf("kfold hand case: worst deviation %g; acc %.4f +- %.4f, VAL %.4f +- %.4f @ FAR %.4f\n", worst,
           k.acc_mean, k.acc_std, k.val_mean, k.val_std, k.far_mean);
    T_CHECK(worst < 1e-12, "per-fold figures differ by %g", worst);
    T_CHECK(fabs(k.acc_mean - 2.0 / 3) < 1e-12 && fabs(k.acc_std - sqrt(1.0 / 18)) < 1e-12,
            "acc %.17g +- %.17g", k.acc_mean, k.acc_std);
    T_CHECK(fabs(k.val_mean - 5.0 / 6) < 1e-12 && fabs(k.far_mean - 1.0 / 3) < 1e-12, "val %g far %g", k.val_mean, k.far_mean);

    int bad[12] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 3};
    T_CHECK(fn_kfold_eval(d, s, bad, 12, 3, 0.25, &k) == FN_ERR_ARG && strstr(fn_last_error(), "pair 11"), "bad fold: %s", fn_last_error());
    int empty[12] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    T_CHECK(fn_kfold_eval(d, s, empty, 12, 3, 0.25, &k) == FN_ERR_ARG && strstr(fn_last_error(), "fold 2"), "empty fold: %s", fn_last_error());
    T_CHECK(fn_kfold_eval(d, s, f, 12, 1, 0.25, &k) == FN_ERR_ARG, "one fold accepted");
    T_CHECK(fn_kfold_eval(d, s, f, 12, 3, 0.0, &k) == FN_ERR_ARG, "FAR 0 accepted");
}

static void test_train_test(void)
{
    /* train = the 8-pair case (thr .35); test G .3 .4, I .2 .5: .3 and .2 accepted */
    double td[4] = {.3, .4, .2, .5};
    unsigned char ts[4] = {1, 1, 0, 0};
    fn_train_test r;
    T_CHECK(fn_train_test_eval(H_DIST, H_SAME, 8, td, ts, 4, &r) == FN_OK, "train/test: %s", fn_last_error());
    T_CHECK(NEAR(r.thr, .35) && NEAR(r.train_acc, .875) && NEAR(r.test.acc, .5) && NEAR(r.test.tar, .5) && NEAR(r.test.far, .5),
            "thr %g train %g test acc %g tar %g far %g", r.thr, r.train_acc, r.test.acc, r.test.tar, r.test.far);
}

/* ---------- open set ----------
 * a known right .2, d unknown .3, b known right .4, c known WRONG .5,
 * e unknown .7, f known right .9 (4 known, 2 unknown).
 * At .45: a, d, b accepted -> correct 2, false alarm 1, FN 2 (c, f):
 *   FIR 1/6, FNR 2/4, FPIR 1/2, misid 0.
 * Sweep max(FIR, FNR): reject-all 1, .2 .75, .3 .75, .4 .5, .5 max(2/6, 1/4),
 *   .7 .5, .9 .5 -> balance after .5, thr halfway to .7 = .6. */
static void test_openset(void)
{
    fn_probe p[6] = {{.9, 1, 1}, {.3, 0, 0}, {.5, 1, 0}, {.2, 1, 1}, {.7, 0, 1 /* ignored: unknown */}, {.4, 1, 1}};
    fn_openset o;
    T_CHECK(fn_openset_at(p, 6, .45, &o) == FN_OK, "openset: %s", fn_last_error());
    T_CHECK(o.n_known == 4 && o.n_unknown == 2 && o.correct == 2 && o.false_alarm == 1 && o.false_negative == 2
            && o.misidentified == 0, "counts k%zu u%zu c%zu fa%zu fn%zu mis%zu", o.n_known, o.n_unknown, o.correct,
            o.false_alarm, o.false_negative, o.misidentified);
    T_CHECK(NEAR(o.fir, 1.0 / 6) && NEAR(o.fnr, .5) && NEAR(o.fpir, .5) && o.misid_rate == 0,
            "rates fir %g fnr %g fpir %g", o.fir, o.fnr, o.fpir);
    T_CHECK(fn_openset_at(p, 6, .55, &o) == FN_OK && o.misidentified == 1 && NEAR(o.fir, 2.0 / 6) && NEAR(o.misid_rate, .25),
            "at .55 mis %zu fir %g", o.misidentified, o.fir);
    T_CHECK(fn_openset_balance(p, 6, &o) == FN_OK, "balance: %s", fn_last_error());
    printf("open set balance: thr %.3f FIR %.4f FNR %.4f\n", o.thr, o.fir, o.fnr);
    T_CHECK(NEAR(o.thr, .6) && NEAR(o.fir, 2.0 / 6) && NEAR(o.fnr, .25) && o.correct == 2 && o.misidentified == 1,
            "balance thr %g fir %g fnr %g", o.thr, o.fir, o.fnr);
    /* the balance threshold reproduces its own figures */
    fn_openset again;
    fn_openset_at(p, 6, o.thr, &again);
    T_CHECK(NEAR(again.fir, o.fir) && NEAR(again.fnr, o.fnr), "balance is not reproducible");
    /* ties move together: two probes at .5 (one unknown) */
    fn_probe q[3] = {{.5, 1, 1}, {.5, 0, 0}, {.8, 1, 1}};
    fn_openset_balance(q, 3, &o);   /* reject-all: max(0,1)=1; .5: FIR 1/3, FNR 1/2; .8: FIR 1/3 FNR 0 */
    T_CHECK(NEAR(o.thr, .8) && NEAR(o.fir, 1.0 / 3) && o.fnr == 0, "tie balance thr %g fir %g fnr %g", o.thr, o.fir, o.fnr);
    fn_probe bad[1] = {{NAN, 1, 1}};
    T_CHECK(fn_openset_at(bad, 1, .5, &o) == FN_ERR_ARG, "NaN probe accepted");
}

/* ---------- calibration ----------
 * person 0: (0,0) (1,0); person 1: (10,0) (10,2); person 2: (0,5).
 * genuine {1, 2}; impostor {10, sqrt104, 5, 9, sqrt85, sqrt26, sqrt125, sqrt109}.
 * FAR 1e-3 with 8 impostor pairs: only FAR 0 qualifies -> accept up to 2,
 * deploy threshold halfway to the nearest impostor (5): 3.5, TAR 1. */
static void test_calibration(void)
{
    float emb[10] = {0, 0, 1, 0, 10, 0, 10, 2, 0, 5};
    int label[5] = {0, 0, 1, 1, 2};
    fn_calib c;
    T_CHECK(fn_calib_from_embeddings(emb, label, 5, 2, FN_DIST_EUCLIDEAN, FN_CALIB_DEFAULT_FAR, &c) == FN_OK,
            "calib: %s", fn_last_error());
    T_CHECK(c.n_genuine == 2 && c.n_impostor == 8 && NEAR(c.genuine[0], 1) && NEAR(c.genuine[1], 2),
            "pairs %zu/%zu", c.n_genuine, c.n_impostor);
    double isum = 0, want = 10 + sqrt(104) + 5 + 9 + sqrt(85) + sqrt(26) + sqrt(125) + sqrt(109);
    for (size_t i = 0; i < c.n_impostor; i++) isum += c.impostor[i];
    T_CHECK(fabs(isum - want) < 1e-9, "impostor sum %g want %g", isum, want);
    T_CHECK(NEAR(c.op.thr, 3.5) && NEAR(c.op.tar, 1) && c.op.far == 0, "thr %g tar %g far %g", c.op.thr, c.op.tar, c.op.far);
    printf("calibration trust: %s\n", c.trust.why);
    T_CHECK(!c.trust.reliable && c.trust.need_impostor == 10000 && c.trust.need_genuine == 20
            && NEAR(c.trust.far_upper95, 3.0 / 8) && strstr(c.trust.why, "10000") && strstr(c.trust.why, "have 8"),
            "trust: %s", c.trust.why);
    fn_calib_free(&c);

    fn_trust t = fn_calib_trust(20, 1000, 1e-2);
    T_CHECK(t.reliable && t.need_impostor == 1000, "1000 impostor pairs at 1e-2: %s", t.why);
    t = fn_calib_trust(20, 999, 1e-2);
    T_CHECK(!t.reliable, "999 impostor pairs at 1e-2 called reliable");
    t = fn_calib_trust(19, 100000, 1e-3);
    T_CHECK(!t.reliable && strstr(t.why, "have 100000 impostor and 19 genuine"), "19 genuine: %s", t.why);

    float a[2] = {1, 0}, b[2] = {0, 1}, m[2] = {-1, 0}, z[2] = {0, 0};
    T_CHECK(NEAR(fn_embedding_distance(a, b, 2, FN_DIST_COSINE), 1) && NEAR(fn_embedding_distance(a, m, 2, FN_DIST_COSINE), 2)
            && NEAR(fn_embedding_distance(a, z, 2, FN_DIST_COSINE), 1) && NEAR(fn_embedding_distance(a, b, 2, FN_DIST_EUCLIDEAN), sqrt(2)),
            "distances");
    int one[3] = {4, 4, 4};
    T_CHECK(fn_calib_from_embeddings(emb, one, 3, 2, FN_DIST_EUCLIDEAN, 1e-3, &c) == FN_ERR_ARG
            && strstr(fn_last_error(), "0 impostor"), "one person: %s", fn_last_error());
    T_CHECK(fn_calib_from_embeddings(emb, label, 5, 2, FN_DIST_EUCLIDEAN, 2.0, &c) == FN_ERR_ARG, "FAR 2 accepted");
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* G {.05 .15 .15}, I {.55 .95}: auto range [0, 1) in ten bins of 0.1. */
static void test_histogram(void)
{
    double g[3] = {.05, .15, .15}, im[2] = {.55, .95};
    fn_histogram h;
    T_CHECK(fn_histogram_compute(g, 3, im, 2, 10, 0, 0, &h) == FN_OK, "hist: %s", fn_last_error());
    T_CHECK(h.bins == 10 && NEAR(h.lo, 0) && fabs(h.width - 0.1) < 1e-12, "range lo %g width %g bins %d", h.lo, h.width, h.bins);
    T_CHECK(h.genuine[0] == 1 && h.genuine[1] == 2 && h.impostor[5] == 1 && h.impostor[9] == 1 && h.n_genuine == 3,
            "counts g0 %zu g1 %zu i5 %zu i9 %zu", h.genuine[0], h.genuine[1], h.impostor[5], h.impostor[9]);
    char *text;
    T_CHECK(fn_histogram_text(&h, 0.35, 20, &text) == FN_OK, "text: %s", fn_last_error());
    printf("%s", text);
    T_CHECK(count_lines(text) == 12, "lines %d want 12", count_lines(text));
    const char *l1 = strstr(text, "0.1-0.2  |"), *l0 = strstr(text, "0.0-0.1  |"), *l3 = strstr(text, "0.3-0.4  |");
    char full[64], half[64];   /* bars scale to the tallest bin: 2 -> 20 chars, 1 -> 10 */
    snprintf(full, sizeof full, "%.20s %7d |", "####################", 2);
    snprintf(half, sizeof half, "%.10s%10s %7d |", "##########", "", 1);
    T_CHECK(l1 && !strncmp(l1 + 10, full, strlen(full)), "full genuine bar in bin 1");
    T_CHECK(l0 && !strncmp(l0 + 10, half, strlen(half)), "half genuine bar in bin 0");
    T_CHECK(l3 && strstr(l3, "<- threshold") && strstr(l3, "<- threshold") < strchr(l3, '\n'), "threshold mark on bin 3");
    free(text);
    /* fixed range with values outside: clamped to the end bins */
    double out[2] = {-5, 7};
    fn_histogram_compute(out, 2, NULL, 0, 4, 0, 1, &h);
    T_CHECK(h.genuine[0] == 1 && h.genuine[3] == 1, "clamping");
    T_CHECK(fn_histogram_compute(g, 3, im, 2, 0, 0, 0, &h) == FN_ERR_ARG, "0 bins accepted");
}

/* ---------- SVG ---------- */

/* Tags balance: every <x ...> is closed by </x> in order, or is <x .../>. */
static int svg_balanced(const char *s, char *why, size_t cap)
{
    char stack[64][32];
    int depth = 0, elements = 0;
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
        if (p[1] == '?' || p[1] == '!') continue;
        const char *end = strchr(p, '>');
        if (!end) { snprintf(why, cap, "unterminated tag"); return 0; }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strcspn(name, " />\n");
        if (len == 0 || len >= 32) { snprintf(why, cap, "bad tag name"); return 0; }
        if (closing) {
            if (!depth || strncmp(stack[depth - 1], name, len) || stack[depth - 1][len]) {
                snprintf(why, cap, "</%.*s> closes %s", (int)len, name, depth ? stack[depth - 1] : "nothing");
                return 0;
            }
            depth--;
        } else if (end[-1] != '/') {
            if (depth == 64) { snprintf(why, cap, "too deep"); return 0; }
            memcpy(stack[depth], name, len);
            stack[depth++][len] = '\0';
        }
        elements += !closing;
    }
    if (depth) { snprintf(why, cap, "%d unclosed, innermost <%s>", depth, stack[depth - 1]); return 0; }
    snprintf(why, cap, "%d elements", elements);
    return 1;
}

static void test_svg(void)
{
    fn_roc r;
    fn_roc_compute(H_DIST, H_SAME, 8, &r);
    fn_op op = fn_roc_at_far(&r, 0.25);
    double g[4] = {.1, .2, .3, .6}, im[4] = {.4, .5, .7, .8};
    fn_histogram h;
    fn_histogram_compute(g, 4, im, 4, 10, 0, 0, &h);
    for (int logx = 0; logx <= 1; logx++) {
        fn_svg_plot p = {"hand case <8 pairs> & \"quotes\"", &r, logx, &op, 1, &h, op.thr};
        char *svg, why[128];
        T_CHECK(fn_svg_render(&p, &svg) == FN_OK, "svg: %s", fn_last_error());
        int ok = svg_balanced(svg, why, sizeof why);
        printf("svg (log FAR %d): %zu bytes, %s\n", logx, strlen(svg), why);
        T_CHECK(ok, "svg not well formed: %s", why);
        T_CHECK(strstr(svg, "&lt;8 pairs&gt; &amp; &quot;quotes&quot;") != NULL, "title not escaped");
        T_CHECK(!strstr(svg, "nan") && !strstr(svg, "inf"), "non-finite number in the svg");
        T_CHECK(strstr(svg, "class=\"threshold\"") && strstr(svg, "EER 0.2500"), "threshold line or EER label missing");
        const char *poly = strstr(svg, "<polyline class=\"roc\"");
        const char *pts = poly ? strstr(poly, "points=\"") : NULL;
        int found = 0;
        for (size_t i = 0; pts && i < r.n; i++) {   /* every ROC point, in order */
            double x, y;
            char want[64];
            fn_svg_roc_xy(&p, r.far[i], r.tar[i], &x, &y);
            snprintf(want, sizeof want, "%.2f,%.2f", x, y);
            const char *at = strstr(pts, want);
            if (at) { found++; pts = at; }
        }
        T_CHECK(found == (int)r.n, "polyline holds %d of %zu ROC points in order", found, r.n);
        double x0, y0, x1, y1;
        fn_svg_roc_xy(&p, logx ? 1.0 / 4 : 0, 0, &x0, &y0);
        fn_svg_roc_xy(&p, 1, 1, &x1, &y1);
        T_CHECK(x1 > x0 && y1 < y0 && x1 <= FN_SVG_PANEL_W && y0 <= FN_SVG_PANEL_H, "axes run left-right, bottom-up");
        if (logx) {
            double xz, yz;   /* FAR 0 sits on the left edge of a log axis */
            fn_svg_roc_xy(&p, 0, 0, &xz, &yz);
            T_CHECK(xz == FN_SVG_MARGIN_L, "FAR 0 at x %g", xz);
        }
        if (!logx) {
            char path[512];
            snprintf(path, sizeof path, "%s/roc.svg", t_tmpdir());
            T_CHECK(fn_svg_write(path, &p) == FN_OK, "write: %s", fn_last_error());
            FILE *f = fopen(path, "rb");
            char *back = calloc(1, strlen(svg) + 2);
            size_t got = f ? fread(back, 1, strlen(svg) + 1, f) : 0;
            if (f) fclose(f);
            T_CHECK(got == strlen(svg) && !strcmp(back, svg), "file differs from render");
            free(back);
            T_CHECK(fn_svg_write("/nonexistent-dir/x.svg", &p) == FN_ERR_IO && strstr(fn_last_error(), "/nonexistent-dir/x.svg"),
                    "io error: %s", fn_last_error());
        }
        free(svg);
    }
    fn_svg_plot only_hist = {NULL, NULL, 0, NULL, 0, &h, NAN};
    char *svg, why[128];
    T_CHECK(fn_svg_render(&only_hist, &svg) == FN_OK && svg_balanced(svg, why, sizeof why) && !strstr(svg, "polyline"),
            "histogram-only svg");
    free(svg);
    fn_svg_plot none = {NULL, NULL, 0, NULL, 0, NULL, NAN};
    T_CHECK(fn_svg_render(&none, &svg) == FN_ERR_ARG, "empty plot accepted");
    fn_roc_free(&r);
}

/* ---------- pairs ---------- */

static const char *write_tmp(const char *name, const char *text)
{
    static char path[8][512];
    static int slot;
    char *p = path[slot++ & 7];
    snprintf(p, 512, "%s/%s", t_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

static void test_pairs_wellformed(void)
{
    const char *v1 = "2\nAl\t1\t2\nBo_B\t3\t12\nAl\t1\tBo_B\t4\nCy   7 Al 100\n";
    fn_pairs *p;
    T_CHECK(fn_pairs_load(write_tmp("v1.txt", v1), &p) == FN_OK, "view 1: %s", fn_last_error());
    if (p) {
        T_CHECK(p->view == 1 && p->nfolds == 1 && p->n == 4 && fn_pairs_count_same(p) == 2, "view %d n %zu", p->view, p->n);
        T_CHECK(!strcmp(p->items[0].path1, "Al/Al_0001.jpg") && !strcmp(p->items[0].path2, "Al/Al_0002.jpg") && p->items[0].same,
                "pair 0: %s %s", p->items[0].path1, p->items[0].path2);
        T_CHECK(!strcmp(p->items[1].path2, "Bo_B/Bo_B_0012.jpg"), "pair 1: %s", p->items[1].path2);
        T_CHECK(!strcmp(p->items[2].path1, "Al/Al_0001.jpg") && !strcmp(p->items[2].path2, "Bo_B/Bo_B_0004.jpg") && !p->items[2].same,
                "pair 2: %s %s", p->items[2].path1, p->items[2].path2);
        T_CHECK(!strcmp(p->items[3].path1, "Cy/Cy_0007.jpg") && !strcmp(p->items[3].path2, "Al/Al_0100.jpg"), "pair 3 (spaces)");
        for (size_t i = 0; i < p->n; i++) T_CHECK(p->items[i].fold == 0, "view 1 fold %d", p->items[i].fold);
        fn_pairs_free(p);
    }
    /* View 2: 3 sets of 1 same + 1 different, CRLF, trailing blank lines */
    const char *v2 = "3\t1\r\nA\t1\t2\r\nA\t1\tB\t1\r\nC\t2\t3\r\nC\t1\tD\t9999\r\nE\t1\t2\r\nE\t1\tF\t1\r\n\r\n\n";
    T_CHECK(fn_pairs_load(write_tmp("v2.txt", v2), &p) == FN_OK, "view 2: %s", fn_last_error());
    if (p) {
        T_CHECK(p->view == 2 && p->nfolds == 3 && p->per_set == 1 && p->n == 6, "view %d folds %d n %zu", p->view, p->nfolds, p->n);
        int folds[6] = {0, 0, 1, 1, 2, 2}, same[6] = {1, 0, 1, 0, 1, 0}, bad = 0;
        for (int i = 0; i < 6 && i < (int)p->n; i++) bad += p->items[i].fold != folds[i] || p->items[i].same != same[i];
        T_CHECK(!bad, "folds/same flags wrong in %d pairs", bad);
        T_CHECK(!strcmp(p->items[3].path2, "D/D_9999.jpg"), "pair 3: %s", p->items[3].path2);
        fn_pairs_free(p);
    }
}

/* A full-size View 2 file built in memory: 10 sets of 300 same + 300 different. */
static void test_pairs_view2_full(void)
{
    size_t cap = 10 * 600 * 48 + 16, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "10\t300\n");
    for (int set = 0; set < 10; set++)
        for (int i = 0; i < 600; i++)
            len += (size_t)(i < 300 ? snprintf(text + len, cap - len, "P%d_%d\t%d\t%d\n", set, i, i + 1, i + 2)
                                    : snprintf(text + len, cap - len, "P%d_%d\t%d\tQ%d\t%d\n", set, i, 1, i, 9999));
    fn_pairs *p;
    T_CHECK(fn_pairs_parse(text, len, "pairs.txt", &p) == FN_OK, "view 2 full: %s", fn_last_error());
    if (p) {
        size_t same_per_fold[10] = {0}, wrong = 0;
        for (size_t i = 0; i < p->n; i++) {
            if (p->items[i].fold < 0 || p->items[i].fold > 9) { wrong++; continue; }
            same_per_fold[p->items[i].fold] += p->items[i].same;
            wrong += p->items[i].fold != (int)(i / 600) || p->items[i].same != (i % 600 < 300);
        }
        for (int k = 0; k < 10; k++) wrong += same_per_fold[k] != 300;
        T_CHECK(p->view == 2 && p->nfolds == 10 && p->n == 6000 && wrong == 0, "view %d folds %d n %zu, %zu wrong",
                p->view, p->nfolds, p->n, wrong);
        T_CHECK(!strcmp(p->items[5999].path1, "P9_599/P9_599_0001.jpg") && !strcmp(p->items[5999].path2, "Q599/Q599_9999.jpg"),
                "last pair %s %s", p->items[5999].path1, p->items[5999].path2);
        fn_pairs_free(p);
    }
    free(text);
}

static void expect_format_error(const char *text, const char *needle1, const char *needle2)
{
    fn_pairs *p = NULL;
    fn_status st = fn_pairs_parse(text, strlen(text), "pairs.txt", &p);
    T_CHECK(st == FN_ERR_FORMAT && !p, "accepted (status %d) %s", st, text);
    T_CHECK(strstr(fn_last_error(), needle1) && (!needle2 || strstr(fn_last_error(), needle2)),
            "message '%s' lacks '%s' / '%s'", fn_last_error(), needle1, needle2 ? needle2 : "");
    fn_pairs_free(p);
}

static void test_pairs_malformed(void)
{
    expect_format_error("2\nAl\t1\t2\nAl\t1\tBo\t3\nAl\t1\tBo\t4\nCy\t7\tAl\t1\n", "pairs.txt:3: expected a same-person line", "got 4 fields");
    expect_format_error("1\nAl\t1\t2\nAl\t1\t3\n", "pairs.txt:3: expected a different-person line", "got 3 fields");
    expect_format_error("1\nAl\tx\t2\nAl\t1\tBo\t4\n", "pairs.txt:2: expected an image number", "got 'x'");
    expect_format_error("1\nAl\t1\t0\nAl\t1\tBo\t4\n", "pairs.txt:2:", "image number");
    expect_format_error("1\nAl\t1\t10000\nAl\t1\tBo\t4\n", "pairs.txt:2:", "'10000'");
    expect_format_error("1\nAl\t1\t2\nAl\t1\t../etc\t4\n", "pairs.txt:3: expected a person's name", "'../etc'");
    expect_format_error("1\nA/l\t1\t2\nAl\t1\tBo\t4\n", "pairs.txt:2: expected a person's name", NULL);
    expect_format_error("2\nAl\t1\t2\nAl\t1\t3\nAl\t1\tBo\t4\n", "pairs.txt:5: expected 4 pair lines", "got 3");
    expect_format_error("1\nAl\t1\t2\n\nAl\t1\tBo\t4\n", "pairs.txt:3: expected 2 pair lines", "got 1");
    expect_format_error("1\nAl\t1\t2\nAl\t1\tBo\t4\nCy\t1\t2\n", "pairs.txt:4: expected the end of the file", "'Cy");
    expect_format_error("ten\nAl\t1\t2\n", "pairs.txt:1: expected a header", "'ten'");
    expect_format_error("0\n", "pairs.txt:1: expected a header", NULL);
    expect_format_error("10\t300\t5\n", "pairs.txt:1: expected a header", NULL);
    expect_format_error("", "pairs.txt:1:", "empty file");
    expect_format_error("999999\nAl\t1\t2\n", "pairs.txt:1: the header promises 1999998 pairs", NULL);
    expect_format_error("1\nAl\t1\t2\t9\t9\t9\t9\nAl\t1\tBo\t4\n", "pairs.txt:2:", "got 5 fields");

    /* garbage and every truncation of a valid file: an answer, never a crash */
    const char *v2 = "2\t1\nA\t1\t2\nA\t1\tB\t1\nC\t2\t3\nC\t1\tD\t9\n";
    size_t len = strlen(v2), ok = 0;
    for (size_t cut = 0; cut < len; cut++) {
        fn_pairs *p = NULL;
        if (fn_pairs_parse(v2, cut, "cut", &p) == FN_OK) { ok++; T_CHECK(p->n == 4, "truncated parse n %zu", p->n); }
        fn_pairs_free(p);
    }
    T_CHECK(ok == 1, "%zu truncations parsed (only dropping the last newline should)", ok);
    uint32_t seed = 7;
    char junk[300];
    for (int trial = 0; trial < 300; trial++) {
        size_t n = lcg(&seed) % sizeof junk;
        for (size_t i = 0; i < n; i++) junk[i] = (char)(lcg(&seed) & 0xff);
        if (n) junk[0] = "12\t\n"[trial & 3];
        fn_pairs *p = NULL;
        fn_status st = fn_pairs_parse(junk, n, "junk", &p);
        T_CHECK(st == FN_OK || st == FN_ERR_FORMAT, "junk status %d", st);
        fn_pairs_free(p);
    }
    fn_pairs *p;
    /* oversized: refused from the length alone, before a byte is read */
    T_CHECK(fn_pairs_parse("1\n", (size_t)FN_PAIRS_MAX_BYTES + 1, "big.txt", &p) == FN_ERR_LIMIT && strstr(fn_last_error(), "big.txt"),
            "oversized: %s", fn_last_error());
    T_CHECK(fn_pairs_parse("1\nA\0\t1\t2\n", 10, "nul.txt", &p) == FN_ERR_FORMAT && strstr(fn_last_error(), "NUL"), "NUL byte: %s",
            fn_last_error());
    T_CHECK(fn_pairs_load("/nonexistent/pairs.txt", &p) == FN_ERR_IO && strstr(fn_last_error(), "/nonexistent/pairs.txt"),
            "missing file: %s", fn_last_error());
}

static void test_pairs_lfw(void)
{
    /* Only this part needs ../shared: without it the rest still counts. */
    const char *test = t_shared_or("datasets/lfw_view1/pairsDevTest.txt",
                                   "LFW's pairsDevTest/DevTrain files parse to 1000/2200 pairs naming images that exist");
    if (!test) return;
    const char *train = t_shared("datasets/lfw_view1/pairsDevTrain.txt");
    fn_pairs *p;
    T_CHECK(fn_pairs_load(test, &p) == FN_OK, "DevTest: %s", fn_last_error());
    if (!p) return;
    T_CHECK(p->view == 1 && p->n == 1000 && fn_pairs_count_same(p) == 500, "DevTest view %d n %zu same %zu", p->view, p->n,
            fn_pairs_count_same(p));
    T_CHECK(!strcmp(p->items[0].path1, "Abdullah_Gul/Abdullah_Gul_0013.jpg") && !strcmp(p->items[0].path2, "Abdullah_Gul/Abdullah_Gul_0014.jpg"),
            "first pair %s %s", p->items[0].path1, p->items[0].path2);
    T_CHECK(!strcmp(p->items[500].path1, "AJ_Lamas/AJ_Lamas_0001.jpg") && !strcmp(p->items[500].path2, "Zach_Safrin/Zach_Safrin_0001.jpg")
            && !p->items[500].same && p->items[499].same, "first different pair %s %s", p->items[500].path1, p->items[500].path2);
    /* every path names an image that is there */
    char dir[4096], path[8300];
    snprintf(dir, sizeof dir, "%s", t_shared("datasets/lfw_view1/images"));
    size_t missing = 0;
    const char *first_missing = NULL;
    for (size_t i = 0; i < p->n; i++) {
        const char *two[2] = {p->items[i].path1, p->items[i].path2};
        for (int k = 0; k < 2; k++) {
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dir, two[k]);
            if (stat(path, &st) != 0) { missing++; if (!first_missing) first_missing = two[k]; }
        }
    }
    printf("pairsDevTest: %zu pairs, %zu same, %zu image paths missing\n", p->n, fn_pairs_count_same(p), missing);
    T_CHECK(missing == 0, "%zu missing images, first %s", missing, first_missing);
    fn_pairs_free(p);
    T_CHECK(fn_pairs_load(train, &p) == FN_OK && p->n == 2200 && fn_pairs_count_same(p) == 1100, "DevTrain: %s", fn_last_error());
    fn_pairs_free(p);
}

/* ---------- cache ---------- */

static void fill_entry(int i, fn_cache_entry *e, float *emb)
{
    memset(e, 0, sizeof *e);
    e->has_face = i % 7 != 3;
    if (!e->has_face) return;
    e->dim = 512;
    for (int j = 0; j < 4; j++) e->box[j] = (float)(i * 4 + j) + 0.25f;
    e->prob = 0.5f + (float)i / 1000.0f;
    for (int j = 0; j < 512; j++) emb[j] = sinf((float)(i * 512 + j));
}

static int check_entry(fn_cache *c, int i, const char *model)
{
    char key[80];
    snprintf(key, sizeof key, "sha-%064d", i);
    fn_cache_entry want, got;
    float we[512], ge[512];
    fill_entry(i, &want, we);
    if (fn_cache_get(c, key, model, &got, ge, 512) != FN_OK) return 0;
    if (got.has_face != want.has_face || got.dim != want.dim) return 0;
    if (!want.has_face) return 1;
    return !memcmp(got.box, want.box, sizeof got.box) && got.prob == want.prob && !memcmp(ge, we, sizeof we);
}

static void test_cache(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cache.sqlite", t_tmpdir());
    fn_cache *c;
    T_CHECK(fn_cache_open(path, &c) == FN_OK, "open: %s", fn_last_error());
    if (!c) return;
    const int N = 300;   /* more than one write batch */
    for (int i = 0; i < N; i++) {
        char key[80];
        fn_cache_entry e;
        float emb[512];
        snprintf(key, sizeof key, "sha-%064d", i);
        fill_entry(i, &e, emb);
        T_CHECK(fn_cache_put(c, key, "irv1-vggface2", &e, emb) == FN_OK, "put %d: %s", i, fn_last_error());
    }
    int good = 0;
    for (int i = 0; i < N; i++) good += check_entry(c, i, "irv1-vggface2");
    T_CHECK(good == N, "before close: %d of %d entries read back exactly", good, N);
    T_CHECK(fn_cache_close(c) == FN_OK, "close: %s", fn_last_error());

    /* Another command writing its batch (here a second connection holding the write lock) does not stop
     * one from opening the cache and reading it: `cluster --calibrate-on` beside an `eval-cluster` failed
     * with "cannot read the cache header ...: database is locked". */
    sqlite3 *w = NULL;
    if (sqlite3_open(path, &w) == SQLITE_OK && sqlite3_exec(w, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK) {
        fn_cache *r2 = NULL;
        double t0 = fn_now();
        T_CHECK(fn_cache_open(path, &r2) == FN_OK, "open beside a writer: %s", fn_last_error());
        T_CHECK(r2 && check_entry(r2, 7, "irv1-vggface2"), "read beside a writer");
        T_CHECK(fn_now() - t0 < 5, "open beside a writer waited %.1f s", fn_now() - t0);
        if (r2) fn_cache_close(r2);
        sqlite3_exec(w, "ROLLBACK", NULL, NULL, NULL);
    } else {
        T_CHECK(0, "a second connection to the cache: %s", w ? sqlite3_errmsg(w) : "out of memory");
    }
    sqlite3_close(w);

    /* Commands starting together on a cache that does not exist yet: each finds it or makes it (one failed
     * with "table embedding already exists").  4 processes at once on a new file, 10 times. */
    int failed_opens = 0;
    for (int trial = 0; trial < 10; trial++) {
        char fresh[600];
        snprintf(fresh, sizeof fresh, "%s/new-%d.sqlite", t_tmpdir(), trial);
        pid_t kids[4];
        for (int k = 0; k < 4; k++) {
            kids[k] = fork();
            if (kids[k] == 0) {
                fn_cache *fc = NULL;
                fn_cache_entry fe;
                float femb[512];
                fill_entry(k, &fe, femb);
                char fkey[80];
                snprintf(fkey, sizeof fkey, "sha-%064d", k);
                int ok = fn_cache_open(fresh, &fc) == FN_OK && fn_cache_put(fc, fkey, "m", &fe, femb) == FN_OK &&
                         fn_cache_close(fc) == FN_OK;
                if (!ok) fprintf(stderr, "cache opened by 4 at once: %s\n", fn_last_error());
                _exit(ok ? 0 : 1);
            }
        }
        for (int k = 0; k < 4; k++) {
            int status = 1;
            if (kids[k] > 0 && waitpid(kids[k], &status, 0) == kids[k] && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                continue;
            failed_opens++;
        }
    }
    T_CHECK(failed_opens == 0, "a new cache opened by 4 processes at once: %d of 40 failed", failed_opens);

    T_CHECK(fn_cache_open(path, &c) == FN_OK, "reopen: %s", fn_last_error());
    if (!c) return;
    good = 0;
    for (int i = 0; i < N; i++) good += check_entry(c, i, "irv1-vggface2");
    printf("cache: %d of %d entries read back bit-exact after reopening\n", good, N);
    T_CHECK(good == N, "after reopen: %d of %d", good, N);
    fn_cache_entry e;
    float emb[512];
    T_CHECK(fn_cache_get(c, "sha-nothing", "irv1-vggface2", &e, emb, 512) == FN_ERR_NOT_FOUND, "miss");
    T_CHECK(!check_entry(c, 5, "mobilefacenet"), "another model must miss");
    char key[80];
    snprintf(key, sizeof key, "sha-%064d", 0);
    T_CHECK(fn_cache_get(c, key, "irv1-vggface2", &e, emb, 128) == FN_ERR_LIMIT, "small buffer: %s", fn_last_error());
    fn_cache_entry noface = {0};
    T_CHECK(fn_cache_put(c, key, "irv1-vggface2", &noface, NULL) == FN_OK, "replace: %s", fn_last_error());
    T_CHECK(fn_cache_get(c, key, "irv1-vggface2", &e, emb, 512) == FN_OK && !e.has_face, "replaced entry");
    fn_cache_entry badface = {1, {0}, 0, 0};
    T_CHECK(fn_cache_put(c, key, "m", &badface, emb) == FN_ERR_ARG, "face without embedding accepted");
    T_CHECK(fn_cache_put(c, "", "m", &noface, NULL) == FN_ERR_ARG, "empty key accepted");
    fn_cache_close(c);

    /* not a cache: a text file, and an SQLite file of someone else */
    const char *junk = write_tmp("junk.sqlite", "this is not a database, just some text that is long enough...........\n");
    T_CHECK(fn_cache_open(junk, &c) == FN_ERR_DB && strstr(fn_last_error(), "junk.sqlite"), "junk: %s", fn_last_error());
    char other[512];
    snprintf(other, sizeof other, "%s/other.sqlite", t_tmpdir());
    fn_cache *o;
    /* a fresh cache whose header then names another application */
    if (fn_cache_open(other, &o) == FN_OK) fn_cache_close(o);
    FILE *f = fopen(other, "r+b");
    if (f) {   /* application_id lives at byte 68 of the SQLite header */
        fseek(f, 68, SEEK_SET);
        fputc(0x12, f);
        fclose(f);
    }
    T_CHECK(fn_cache_open(other, &c) == FN_ERR_DB && strstr(fn_last_error(), "not a facenet embedding cache"), "foreign: %s",
            fn_last_error());
    /* someone else's database named as the cache is refused and left as it was: it was switched to WAL
     * first (a mode stored in the file) */
    char theirs[512];
    snprintf(theirs, sizeof theirs, "%s/theirs.sqlite", t_tmpdir());
    sqlite3 *d = NULL;
    if (sqlite3_open(theirs, &d) == SQLITE_OK) sqlite3_exec(d, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(d);
    T_CHECK(fn_cache_open(theirs, &c) == FN_ERR_DB, "their database opened as a cache");
    FILE *h = fopen(theirs, "rb");
    unsigned char hdr[20] = {0};
    if (h) (void)!fread(hdr, 1, sizeof hdr, h), fclose(h);
    T_CHECK(hdr[18] == 1 && hdr[19] == 1, "their database's journal mode changed: header bytes 18-19 are %d %d, want 1 1 "
            "(rollback journal)", hdr[18], hdr[19]);
}

/* Two commands sharing one cache: a put is committed at once, so the
 * other's put does not wait on a transaction left open while images are
 * computed (after its 10 s busy timeout it failed, and the embedding was
 * lost).  Two handles in one process stand for the two commands. */
static void test_cache_shared(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/shared.sqlite", t_tmpdir());
    fn_cache *a = NULL, *b = NULL;
    T_CHECK(fn_cache_open(path, &a) == FN_OK && fn_cache_open(path, &b) == FN_OK, "open twice: %s", fn_last_error());
    if (!a || !b) {
        fn_cache_close(a);
        fn_cache_close(b);
        return;
    }
    fn_cache_entry e;
    float emb[512];
    fill_entry(1, &e, emb);
    char key[80];
    snprintf(key, sizeof key, "sha-%064d", 1);
    T_CHECK(fn_cache_put(a, key, "m", &e, emb) == FN_OK, "put by the first: %s", fn_last_error());
    double t0 = fn_now();
    fill_entry(2, &e, emb);
    snprintf(key, sizeof key, "sha-%064d", 2);
    T_CHECK(fn_cache_put(b, key, "m", &e, emb) == FN_OK && fn_now() - t0 < 5,
            "put by the second beside the first: %.1f s: %s", fn_now() - t0, fn_last_error());
    T_CHECK(check_entry(a, 2, "m") && check_entry(b, 1, "m"), "each sees the other's entry at once");
    fn_cache_close(a);
    fn_cache_close(b);
}

int main(void)
{
    test_roc_hand();
    test_auc_eer_small();
    test_random_oracles();
    test_threshold_between();
    test_kfold_hand();
    test_train_test();
    test_openset();
    test_calibration();
    test_histogram();
    test_svg();
    test_cache_shared();
    test_pairs_wellformed();
    test_pairs_view2_full();
    test_pairs_malformed();
    test_cache();
    test_pairs_lfw();
    return T_DONE();
}
