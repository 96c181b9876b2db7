/* metrics.h — verification metrics on (distance, same) lists: ROC, AUC, EER,
 * TAR at a FAR, best-accuracy threshold, k-fold and train/test protocols.
 * Owns: the definitions below.  Takes numbers only; no model or file code.
 *
 * Conventions (every function here):
 *  - smaller distance = more similar; a pair is ACCEPTED as "same person"
 *    when distance <= threshold.
 *  - TAR = accepted genuine / genuine, FAR = accepted impostor / impostor,
 *    FRR = 1 - TAR, accuracy = (accepted genuine + rejected impostor) / all.
 *  - Operating points are the distinct distance values (ties move together,
 *    which is what makes AUC count a tie as half a win).  A threshold handed
 *    back for use ("deploy" threshold) is halfway between the last accepted
 *    distance and the next larger one, so it keeps the same decisions on this
 *    data with the most margin (see fn_threshold_between).
 *  - NaN and -inf distances are refused (FN_ERR_ARG); +inf is allowed.
 */
#ifndef FN_EVAL_METRICS_H
#define FN_EVAL_METRICS_H

#include <stddef.h>
#include "facenet.h"

/* ROC over all thresholds.  Point 0 rejects everything (thr = -INFINITY,
 * TAR = FAR = 0); point i >= 1 accepts distances <= thr[i], where thr[1..]
 * are the distinct distances ascending; the last point accepts everything. */
typedef struct fn_roc {
    size_t n;                  /* points: distinct distances + 1 */
    double *thr, *tar, *far;
    size_t *ta, *fa;           /* true accepts, false accepts at each point */
    size_t n_genuine, n_impostor;
} fn_roc;

/* Needs at least one genuine and one impostor pair. */
fn_status fn_roc_compute(const double *dist, const unsigned char *same, size_t n, fn_roc *out);
void fn_roc_free(fn_roc *r);

/* Area under the ROC polyline by trapezoids; equals P(genuine distance <
 * impostor distance) + P(equal) / 2. */
double fn_roc_auc(const fn_roc *r);

typedef struct fn_eer {
    double eer;   /* FAR = FRR where the ROC polyline crosses FAR + TAR = 1 */
    double thr;   /* threshold interpolated linearly along the same segment */
} fn_eer;
/* Equal error rate, interpolated on the ROC segment that crosses FAR = FRR
 * (as FaceNet's brentq on interp1d(fpr, tpr) does). */
fn_eer fn_roc_eer(const fn_roc *r);

/* One operating point of a ROC. */
typedef struct fn_op {
    size_t index;     /* ROC point */
    double thr;       /* deploy threshold (halfway to the next distance) */
    double tar, far, acc;
} fn_op;

/* TAR at FAR (FaceNet's VAL@FAR, without its interpolation): the ROC point
 * with the largest threshold whose FAR <= target_far, i.e. the most genuine
 * accepts without exceeding the target.  With n_impostor * target < 1 only
 * FAR = 0 qualifies (see fn_calib_trust for when the figure means anything). */
fn_op fn_roc_at_far(const fn_roc *r, double target_far);

/* Highest accuracy over all ROC points; on a tie the smallest threshold wins
 * (as np.argmax over ascending thresholds does in facenet-pytorch). */
fn_op fn_roc_best_accuracy(const fn_roc *r);

/* The deploy threshold for ROC point i: halfway between thr[i] and thr[i+1];
 * just below the smallest distance for point 0; thr[n-1] for the last. */
double fn_roc_deploy_threshold(const fn_roc *r, size_t i);
/* Halfway between a (last accepted) and b (first rejected), never equal to
 * b; a = -INFINITY gives the double just below b; b = +INFINITY gives a. */
double fn_threshold_between(double a, double b);

/* TAR, FAR, accuracy of a fixed threshold on a list (counts in the fields). */
typedef struct fn_rates {
    double thr, tar, far, acc;
    size_t n_genuine, n_impostor, ta, fa;
} fn_rates;
fn_status fn_rates_at(const double *dist, const unsigned char *same, size_t n, double thr, fn_rates *out);

/* k-fold protocol (LFW View 2): for each fold k the threshold that maximises
 * accuracy on the other folds (fn_roc_best_accuracy) is applied to fold k.
 * The same for VAL@FAR: threshold by fn_roc_at_far on the other folds, TAR
 * and FAR measured on fold k.  Mean and std over folds; std is the
 * POPULATION std (divide by k), as np.std in FaceNet / facenet-pytorch. */
#define FN_KFOLD_MAX 64
typedef struct fn_kfold {
    int k;
    double thr[FN_KFOLD_MAX], acc[FN_KFOLD_MAX];
    double far_target;
    double val_thr[FN_KFOLD_MAX], val[FN_KFOLD_MAX], val_far[FN_KFOLD_MAX];
    double acc_mean, acc_std, val_mean, val_std, far_mean;
} fn_kfold;
/* fold[i] in 0..nfolds-1; every fold must hold pairs and every complement
 * both classes.  far_target in (0, 1], e.g. 1e-3. */
fn_status fn_kfold_eval(const double *dist, const unsigned char *same, const int *fold, size_t n,
                        int nfolds, double far_target, fn_kfold *out);

/* View 1 protocol: the best-accuracy threshold from the training list,
 * measured on the test list. */
typedef struct fn_train_test {
    double thr;
    double train_acc;
    fn_rates test;
} fn_train_test;
fn_status fn_train_test_eval(const double *train_dist, const unsigned char *train_same, size_t n_train,
                             const double *test_dist, const unsigned char *test_same, size_t n_test,
                             fn_train_test *out);

/* Mean and population std (divide by n) of n values. */
void fn_mean_std(const double *v, int n, double *mean, double *std);

#endif
