#include "eval/openset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/metrics.h"

static fn_status check_probes(const fn_probe *p, size_t n)
{
    if (!p || n == 0) return fn_fail(FN_ERR_ARG, "openset: no probes");
    for (size_t i = 0; i < n; i++)
        if (isnan(p[i].dist) || p[i].dist == -INFINITY)
            return fn_fail(FN_ERR_ARG, "openset: probe %zu has distance %g; distances must be numbers above -inf", i, p[i].dist);
    return FN_OK;
}

static double ratio(size_t a, size_t b) { return b ? (double)a / (double)b : 0.0; }

static void finish_rates(fn_openset *o)
{
    o->fir = ratio(o->misidentified + o->false_alarm, o->n_known + o->n_unknown);
    o->fnr = ratio(o->false_negative, o->n_known);
    o->fpir = ratio(o->false_alarm, o->n_unknown);
    o->misid_rate = ratio(o->misidentified, o->n_known);
}

/* Count one probe's outcome at `accept`. */
static void tally(fn_openset *o, const fn_probe *p, int accept)
{
    if (!p->known) { o->false_alarm += accept; return; }
    if (!accept) o->false_negative++;
    else if (p->correct) o->correct++;
    else o->misidentified++;
}

fn_status fn_openset_at(const fn_probe *p, size_t n, double thr, fn_openset *out)
{
    memset(out, 0, sizeof *out);
    FN_TRY(check_probes(p, n));
    out->thr = thr;
    for (size_t i = 0; i < n; i++) {
        if (p[i].known) out->n_known++; else out->n_unknown++;
        tally(out, &p[i], p[i].dist <= thr);
    }
    finish_rates(out);
    return FN_OK;
}

static int cmp_probe(const void *a, const void *b)
{
    double x = ((const fn_probe *)a)->dist, y = ((const fn_probe *)b)->dist;
    return (x > y) - (x < y);
}

fn_status fn_openset_balance(const fn_probe *p, size_t n, fn_openset *out)
{
    FN_TRY(fn_openset_at(p, n, -INFINITY, out));   /* reject all: the first point */
    fn_probe *s = malloc(n * sizeof *s);
    if (!s) return fn_fail(FN_ERR_NOMEM, "openset: out of memory for %zu probes", n);
    memcpy(s, p, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_probe);
    fn_openset cur = *out, best = *out;
    double best_worst = fmax(out->fir, out->fnr);
    best.thr = fn_threshold_between(-INFINITY, s[0].dist);
    /* Accepting the next probe moves it from "false negative" (known) or
     * "correct" (unknown) to its accepted outcome. */
    for (size_t i = 0; i < n; i++) {
        if (s[i].known) cur.false_negative--;
        tally(&cur, &s[i], 1);
        if (i + 1 < n && s[i + 1].dist == s[i].dist) continue;
        finish_rates(&cur);
        double worst = fmax(cur.fir, cur.fnr);
        if (worst < best_worst) {
            best_worst = worst;
            best = cur;
            best.thr = fn_threshold_between(s[i].dist, i + 1 < n ? s[i + 1].dist : INFINITY);
        }
    }
    free(s);
    *out = best;
    return FN_OK;
}
