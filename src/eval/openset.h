/* openset.h — open-set identification figures (`facenet eval --unknown-dir`).
 * Owns: error rates of "who is this, or nobody?" from each probe's best
 * gallery match.  Takes numbers only; the search itself is the gallery's.
 *
 * A probe is ACCEPTED (given the identity of its best match) when its best
 * distance <= threshold, otherwise it is answered "unknown".  Each probe is
 * counted in exactly one outcome:
 *   known,   accepted, right person  -> correct
 *   known,   accepted, wrong person  -> misidentified   (false identification)
 *   known,   rejected                -> false negative
 *   unknown, accepted                -> false alarm     (false identification)
 *   unknown, rejected                -> correct
 * FIR (false identification rate) = (misidentified + false alarms) / all
 *   probes: the share of answers naming a person who is not in the picture.
 * FNR = false negatives / known probes: known people told they are unknown.
 * Also given: FPIR = false alarms / unknown probes (NIST's false positive
 * identification rate) and the misidentification rate = misidentified /
 * known probes.  A rate whose denominator is 0 is reported as 0.
 */
#ifndef FN_EVAL_OPENSET_H
#define FN_EVAL_OPENSET_H

#include <stddef.h>
#include "facenet.h"

typedef struct fn_probe {
    double dist;            /* distance to the best gallery match (+inf: empty gallery) */
    unsigned char known;    /* the probe's person is enrolled in the gallery */
    unsigned char correct;  /* the best match is that person (ignored when !known) */
} fn_probe;

typedef struct fn_openset {
    double thr;
    size_t n_known, n_unknown;
    size_t correct, misidentified, false_negative, false_alarm;
    double fir, fnr, fpir, misid_rate;
} fn_openset;

/* The figures at a given threshold.  NaN and -inf distances are refused. */
fn_status fn_openset_at(const fn_probe *p, size_t n, double thr, fn_openset *out);

/* The threshold that balances FIR and FNR: over all operating points (reject
 * all, then each distinct best distance ascending) the one minimising
 * max(FIR, FNR), ties to the smaller threshold; the threshold given is
 * halfway to the next distance (fn_threshold_between). */
fn_status fn_openset_balance(const fn_probe *p, size_t n, fn_openset *out);

#endif
