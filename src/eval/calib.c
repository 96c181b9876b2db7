#include "eval/calib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/textbuf.h"

double fn_embedding_distance(const float *a, const float *b, int dim, fn_distance_kind kind)
{
    double s = 0.0, aa = 0.0, bb = 0.0;
    if (kind == FN_DIST_COSINE) {
        for (int i = 0; i < dim; i++) { s += (double)a[i] * b[i]; aa += (double)a[i] * a[i]; bb += (double)b[i] * b[i]; }
        return aa > 0.0 && bb > 0.0 ? 1.0 - s / sqrt(aa * bb) : 1.0;
    }
    for (int i = 0; i < dim; i++) { double d = (double)a[i] - b[i]; s += d * d; }
    return sqrt(s);
}

fn_trust fn_calib_trust(size_t n_genuine, size_t n_impostor, double target_far)
{
    fn_trust t;
    memset(&t, 0, sizeof t);
    t.have_genuine = n_genuine;
    t.have_impostor = n_impostor;
    t.need_genuine = FN_CALIB_MIN_GENUINE;
    double need = target_far > 0.0 ? ceil(FN_CALIB_MIN_FALSE_ACCEPTS / target_far - 1e-9) : INFINITY;
    t.need_impostor = need < 1e18 ? (size_t)need : (size_t)-1;
    t.far_upper95 = n_impostor ? 3.0 / (double)n_impostor : 1.0;
    t.reliable = n_impostor >= t.need_impostor && n_genuine >= t.need_genuine;
    if (t.reliable)
        snprintf(t.why, sizeof t.why, "reliable: %zu impostor pairs (>= %zu for FAR %g, about %.0f false accepts "
                 "expected) and %zu genuine pairs (>= %zu)", n_impostor, t.need_impostor, target_far,
                 (double)n_impostor * target_far, n_genuine, t.need_genuine);
    else
        snprintf(t.why, sizeof t.why, "not reliable: FAR %g needs >= %zu impostor pairs (so that about %d false accepts are expected) "
                 "and >= %zu genuine pairs; have %zu impostor and %zu genuine; with no false accept seen the "
                 "true FAR could still be up to %.2g (95%%)", target_far, t.need_impostor,
                 FN_CALIB_MIN_FALSE_ACCEPTS, t.need_genuine, n_impostor, n_genuine, t.far_upper95);
    return t;
}

void fn_calib_free(fn_calib *c)
{
    if (!c) return;
    free(c->genuine);
    free(c->impostor);
    memset(c, 0, sizeof *c);
}

/* Runs the ROC on the two lists already stored in c. */
static fn_status calib_finish(fn_calib *c, double target_far)
{
    size_t n = c->n_genuine + c->n_impostor;
    double *d = malloc(n * sizeof *d);
    unsigned char *s = malloc(n);
    fn_status st = FN_OK;
    if (!d || !s) st = fn_fail(FN_ERR_NOMEM, "calibration: out of memory for %zu distances", n);
    if (st == FN_OK) {
        memcpy(d, c->genuine, c->n_genuine * sizeof *d);
        memcpy(d + c->n_genuine, c->impostor, c->n_impostor * sizeof *d);
        memset(s, 1, c->n_genuine);
        memset(s + c->n_genuine, 0, c->n_impostor);
        fn_roc roc;
        st = fn_roc_compute(d, s, n, &roc);
        if (st == FN_OK) {
            c->op = fn_roc_at_far(&roc, target_far);
            c->eer = fn_roc_eer(&roc);
            fn_roc_free(&roc);
        }
    }
    free(d);
    free(s);
    if (st != FN_OK) return fn_fail_prefix(st, "calibration");
    c->target_far = target_far;
    c->far_floor = 1.0 / (double)c->n_impostor;
    c->below_floor = target_far < c->far_floor;
    c->ta = c->fa = 0;
    for (size_t i = 0; i < c->n_genuine; i++) c->ta += c->genuine[i] <= c->op.thr;
    for (size_t i = 0; i < c->n_impostor; i++) c->fa += c->impostor[i] <= c->op.thr;
    size_t at_zero = 0;
    for (size_t i = 0; i < c->n_impostor; i++) at_zero += c->impostor[i] <= 0.0;
    /* a threshold at or below 0 accepts nobody (distances of different
     * photos are > 0): it only arises when impostor pairs sit at distance 0 */
    if (!(c->op.thr > 0.0) || !isfinite(c->op.thr))
        return fn_fail(FN_ERR_ARG, "calibration: no threshold above distance 0 keeps FAR <= %g: %zu of %zu impostor "
                       "pairs are at distance 0 (identical embeddings under different names: the same photo enrolled "
                       "as two people?)", target_far, at_zero, c->n_impostor);
    if (c->fa == c->n_impostor)
        return fn_fail(FN_ERR_ARG, "calibration: the threshold %.4f for FAR <= %g would accept all %zu impostor pairs",
                       c->op.thr, target_far, c->n_impostor);
    c->trust = fn_calib_trust(c->n_genuine, c->n_impostor, target_far);
    return FN_OK;
}

static fn_status check_target(double target_far)
{
    if (target_far > 0.0 && target_far < FN_CALIB_MAX_FAR) return FN_OK;
    if (target_far == 1.0)
        return fn_fail(FN_ERR_ARG, "calibration: a target FAR of 1 accepts every stranger (the threshold would lie "
                       "above every impostor distance); a threshold for naming people wants a FAR below %g, one "
                       "stranger in ten (access control uses 1e-2 to 1e-6)", FN_CALIB_MAX_FAR);
    if (target_far >= FN_CALIB_MAX_FAR && target_far < 1.0)
        return fn_fail(FN_ERR_ARG, "calibration: a target FAR of %g would name about %.0f in 10 strangers as someone "
                       "enrolled; a threshold for naming people wants a FAR below %g (access control uses 1e-2 to "
                       "1e-6)", target_far, target_far * 10, FN_CALIB_MAX_FAR);
    return fn_fail(FN_ERR_ARG, "calibration: a target FAR is a rate between 0 and %g (both excluded), got %g",
                   FN_CALIB_MAX_FAR, target_far);
}

fn_status fn_calib_from_distances(const double *genuine, size_t n_genuine, const double *impostor,
                                  size_t n_impostor, double target_far, fn_calib *out)
{
    memset(out, 0, sizeof *out);
    FN_TRY(check_target(target_far));
    if (!n_genuine || !n_impostor || !genuine || !impostor)
        return fn_fail(FN_ERR_ARG, "calibration: needs genuine and impostor distances, got %zu and %zu",
                       n_genuine, n_impostor);
    out->genuine = malloc(n_genuine * sizeof *out->genuine);
    out->impostor = malloc(n_impostor * sizeof *out->impostor);
    if (!out->genuine || !out->impostor) {
        fn_calib_free(out);
        return fn_fail(FN_ERR_NOMEM, "calibration: out of memory");
    }
    memcpy(out->genuine, genuine, n_genuine * sizeof *genuine);
    memcpy(out->impostor, impostor, n_impostor * sizeof *impostor);
    out->n_genuine = n_genuine;
    out->n_impostor = n_impostor;
    fn_status st = calib_finish(out, target_far);
    if (st != FN_OK) fn_calib_free(out);
    return st;
}

static void count_pairs(const int *label, const int64_t *group, size_t n, size_t *ng, size_t *ni, size_t *same)
{
    *ng = *ni = *same = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (group && group[i] == group[j]) (*same)++;
            else if (label[i] == label[j]) (*ng)++;
            else (*ni)++;
        }
}

fn_status fn_calib_from_embeddings(const float *emb, const int *label, size_t n, int dim,
                                   fn_distance_kind kind, double target_far, fn_calib *out)
{
    return fn_calib_from_embeddings_grouped(emb, label, NULL, n, dim, kind, target_far, out);
}

fn_status fn_calib_from_embeddings_grouped(const float *emb, const int *label, const int64_t *group, size_t n,
                                           int dim, fn_distance_kind kind, double target_far, fn_calib *out)
{
    memset(out, 0, sizeof *out);
    FN_TRY(check_target(target_far));
    if (!emb || !label || dim <= 0) return fn_fail(FN_ERR_ARG, "calibration: no embeddings given");
    if (n > 5793) /* n(n-1)/2 <= 2^24 */
        return fn_fail(FN_ERR_LIMIT, "calibration: %zu embeddings make more than %zu pairs", n, FN_CALIB_MAX_PAIRS);
    size_t ng, ni, same;
    count_pairs(label, group, n, &ng, &ni, &same);
    if (!ng || !ni)
        return fn_fail(FN_ERR_ARG, "calibration: needs a person with two embeddings and two different people; "
                       "%zu embeddings give %zu genuine and %zu impostor pairs%s", n, ng, ni,
                       same ? " (pairs of the same face of one file enrolled twice left out)" : "");
    out->genuine = malloc(ng * sizeof *out->genuine);
    out->impostor = malloc(ni * sizeof *out->impostor);
    if (!out->genuine || !out->impostor) {
        fn_calib_free(out);
        return fn_fail(FN_ERR_NOMEM, "calibration: out of memory for %zu pairs", ng + ni);
    }
    out->n_same_face = same;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (group && group[i] == group[j]) continue;
            double d = fn_embedding_distance(emb + i * (size_t)dim, emb + j * (size_t)dim, dim, kind);
            if (label[i] == label[j]) out->genuine[out->n_genuine++] = d;
            else out->impostor[out->n_impostor++] = d;
        }
    fn_status st = calib_finish(out, target_far);
    if (st != FN_OK) fn_calib_free(out);
    return st;
}

/* ---- histograms ---- */

static void finite_range(const double *v, size_t n, double *mn, double *mx)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) continue;
        if (v[i] < *mn) *mn = v[i];
        if (v[i] > *mx) *mx = v[i];
    }
}

/* The 1-2-5 step after w. */
static double next_nice(double w)
{
    double mag = pow(10.0, floor(log10(w) + 1e-9)), f = w / mag;
    return (f < 1.5 ? 2.0 : f < 3.5 ? 5.0 : 10.0) * mag;
}

/* Bins of a 1-2-5 width starting at a multiple of it just below the
 * smallest value, as few steps as reach the largest within `bins`. */
static void auto_range(const double *g, size_t ng, const double *im, size_t ni, int bins, fn_histogram *h)
{
    double mn = INFINITY, mx = -INFINITY;
    finite_range(g, ng, &mn, &mx);
    finite_range(im, ni, &mn, &mx);
    if (mn > mx) { mn = 0.0; mx = 1.0; }
    if (mx <= mn) mx = mn + 1.0;
    double w = fn_nice_step(mx - mn, bins), lo;
    int nb;
    for (;;) {
        lo = floor(mn / w) * w;
        /* the largest value may sit on the last edge: it counts into the last bin */
        nb = (int)ceil((mx - lo) / w - 1e-9);
        if (nb <= bins) break;
        w = next_nice(w);
    }
    h->lo = lo;
    h->bins = nb < 1 ? 1 : nb;
    h->width = w;
    h->hi = lo + h->bins * w;
}

static int bin_of(const fn_histogram *h, double v)
{
    double b = floor((v - h->lo) / h->width);
    if (!(b >= 0.0)) return 0;            /* also -inf */
    if (b >= h->bins) return h->bins - 1;
    return (int)b;
}

fn_status fn_histogram_compute(const double *genuine, size_t n_genuine, const double *impostor, size_t n_impostor,
                               int bins, double lo, double hi, fn_histogram *h)
{
    memset(h, 0, sizeof *h);
    if (bins < 1 || bins > FN_HIST_MAX_BINS)
        return fn_fail(FN_ERR_ARG, "histogram: bins must be 1..%d, got %d", FN_HIST_MAX_BINS, bins);
    if ((n_genuine && !genuine) || (n_impostor && !impostor)) return fn_fail(FN_ERR_ARG, "histogram: missing values");
    if (lo < hi && isfinite(lo) && isfinite(hi)) {
        h->lo = lo; h->hi = hi; h->bins = bins; h->width = (hi - lo) / bins;
    } else {
        auto_range(genuine, n_genuine, impostor, n_impostor, bins, h);
    }
    for (size_t i = 0; i < n_genuine; i++)
        if (!isnan(genuine[i])) { h->genuine[bin_of(h, genuine[i])]++; h->n_genuine++; }
    for (size_t i = 0; i < n_impostor; i++)
        if (!isnan(impostor[i])) { h->impostor[bin_of(h, impostor[i])]++; h->n_impostor++; }
    return FN_OK;
}

static size_t max_count(const size_t *c, int n)
{
    size_t m = 0;
    for (int i = 0; i < n; i++) if (c[i] > m) m = c[i];
    return m;
}

/* Bar length: proportional to the tallest bin, but never hide a non-empty bin. */
static int bar_len(size_t count, size_t max, int width)
{
    if (!count || !max) return 0;
    int len = (int)floor((double)count / (double)max * width + 0.5);
    return len < 1 ? 1 : len;
}

static int decimals_for(double width)
{
    int d = (int)ceil(-log10(width) - 1e-9);
    return d < 0 ? 0 : d > 9 ? 9 : d;
}

fn_status fn_histogram_text(const fn_histogram *h, double thr, int bar_width, char **out)
{
    *out = NULL;
    if (!h || h->bins < 1 || h->bins > FN_HIST_MAX_BINS) return fn_fail(FN_ERR_ARG, "histogram: not computed");
    if (bar_width < 5 || bar_width > 200) return fn_fail(FN_ERR_ARG, "histogram: bar width must be 5..200, got %d", bar_width);
    int dec = decimals_for(h->width);
    char a[64], b[64];
    snprintf(a, sizeof a, "%.*f", dec, h->lo);
    snprintf(b, sizeof b, "%.*f", dec, h->hi);
    int numw = (int)(strlen(a) > strlen(b) ? strlen(a) : strlen(b));
    int col = 2 * numw + 1 > 8 ? 2 * numw + 1 : 8;   /* at least "distance" */
    size_t gmax = max_count(h->genuine, h->bins), imax = max_count(h->impostor, h->bins);
    int mark = isnan(thr) ? -1 : bin_of(h, thr);
    fn_textbuf tb = {0};
    char gl[64], il[64], range[160];
    snprintf(gl, sizeof gl, "genuine (n=%zu)", h->n_genuine);
    snprintf(il, sizeof il, "impostor (n=%zu)", h->n_impostor);
    fn_tb_printf(&tb, "%-*s  %-*s  %s\n", col, "distance", bar_width + 8, gl, il);
    for (int i = 0; i < h->bins; i++) {
        double lo = h->lo + i * h->width;
        snprintf(range, sizeof range, "%*.*f-%-*.*f", numw, dec, lo, numw, dec, lo + h->width);
        fn_tb_printf(&tb, "%-*s |", col, range);
        int gb = bar_len(h->genuine[i], gmax, bar_width), ib = bar_len(h->impostor[i], imax, bar_width);
        fn_tb_repeat(&tb, '#', gb);
        fn_tb_repeat(&tb, ' ', bar_width - gb);
        fn_tb_printf(&tb, " %7zu |", h->genuine[i]);
        fn_tb_repeat(&tb, '#', ib);
        fn_tb_repeat(&tb, ' ', bar_width - ib);
        fn_tb_printf(&tb, " %7zu", h->impostor[i]);
        if (i == mark) fn_tb_printf(&tb, "  <- threshold %.*f", dec + 2, thr);
        fn_tb_printf(&tb, "\n");
    }
    fn_tb_printf(&tb, "bars scaled to the tallest bin of each side: genuine %zu, impostor %zu\n", gmax, imax);
    return fn_tb_finish(&tb, out);
}
