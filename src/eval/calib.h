/* calib.h — threshold calibration from a gallery's own embeddings, the trust
 * rule that says when such a threshold means anything, and distance
 * histograms (terminal text here, SVG in svg.h).
 * Owns: genuine/impostor pair distances and their summaries; no search, no I/O.
 */
#ifndef FN_EVAL_CALIB_H
#define FN_EVAL_CALIB_H

#include <stddef.h>
#include <stdint.h>
#include "facenet.h"
#include "eval/metrics.h"

typedef enum fn_distance_kind {
    FN_DIST_EUCLIDEAN = 0,  /* ||a - b||, FaceNet's metric on L2-normalised embeddings */
    FN_DIST_COSINE = 1      /* 1 - a.b / (|a| |b|), in [0, 2]; 1 for a zero vector */
} fn_distance_kind;

double fn_embedding_distance(const float *a, const float *b, int dim, fn_distance_kind kind);

#define FN_CALIB_DEFAULT_FAR 1e-3
/* The target FAR a calibration accepts: 0 < FAR < FN_CALIB_MAX_FAR.  A
 * decision threshold for naming people is an access-control setting (ISO/IEC
 * 19795-1 reports verification at FAR 1e-2 .. 1e-6); at FAR 0.1 one stranger
 * in ten is named as someone enrolled, and FAR 1 means a threshold above
 * every impostor distance: everyone is accepted.  Targets below what the
 * gallery can measure (1 / n_impostor) are accepted: the threshold then
 * accepts no impostor pair seen, and the result says so (below_floor). */
#define FN_CALIB_MAX_FAR 0.1
/* All-pairs distances grow as n^2; beyond this many pairs (about 5800
 * embeddings) calibration is refused with FN_ERR_LIMIT. */
#define FN_CALIB_MAX_PAIRS ((size_t)1 << 24)

/* The trust rule.  A FAR estimated from N impostor pairs rests on about
 * N * FAR false accepts; below ~10 the estimate is noise (relative error
 * ~1/sqrt(10) = 32% at exactly 10), and with none at all the true FAR may
 * still be up to 3/N (95%, "rule of three").  So: reliable when
 *   n_impostor >= ceil(10 / target_far)  and  n_genuine >= 20.
 * Pairs drawn from the same few images are not independent, so even a
 * "reliable" verdict is optimistic for small galleries. */
#define FN_CALIB_MIN_FALSE_ACCEPTS 10
#define FN_CALIB_MIN_GENUINE 20
typedef struct fn_trust {
    int reliable;
    size_t need_impostor, need_genuine, have_impostor, have_genuine;
    double far_upper95;   /* 3 / n_impostor: FAR bound when none was seen */
    char why[320];        /* one sentence with the numbers */
} fn_trust;
fn_trust fn_calib_trust(size_t n_genuine, size_t n_impostor, double target_far);

typedef struct fn_calib {
    double *genuine, *impostor;   /* all within-person / cross-person pair distances */
    size_t n_genuine, n_impostor;
    size_t n_same_face;           /* pairs of one face (same group) left out of both lists */
    double target_far;
    fn_op op;                     /* fn_roc_at_far at target_far: thr (> 0), tar, far */
    size_t ta, fa;                /* genuine / impostor pairs at distance <= op.thr */
    double far_floor;             /* 1 / n_impostor: the smallest non-zero FAR these pairs measure */
    int below_floor;              /* target_far < far_floor: op accepts no impostor pair seen */
    fn_eer eer;
    fn_trust trust;
} fn_calib;

/* emb: n x dim floats, label[i] the person of row i.  Needs one person with
 * two embeddings and two different people; 0 < target_far < FN_CALIB_MAX_FAR.
 * FN_ERR_ARG (with the reason) when no threshold above 0 meets the target
 * (impostor pairs at distance 0: identical embeddings under two names). */
fn_status fn_calib_from_embeddings(const float *emb, const int *label, size_t n, int dim,
                                   fn_distance_kind kind, double target_far, fn_calib *out);
/* The same, where group[i] names the face row i was computed from (e.g. one
 * id per file hash + face box): a pair of rows of one group is the same face
 * enrolled twice (under one name or two), neither a genuine nor an impostor
 * pair; such pairs are left out and counted in n_same_face.  group NULL:
 * every row its own face. */
fn_status fn_calib_from_embeddings_grouped(const float *emb, const int *label, const int64_t *group, size_t n,
                                           int dim, fn_distance_kind kind, double target_far, fn_calib *out);
/* The same from ready genuine / impostor distance lists (copied). */
fn_status fn_calib_from_distances(const double *genuine, size_t n_genuine, const double *impostor,
                                  size_t n_impostor, double target_far, fn_calib *out);
void fn_calib_free(fn_calib *c);

/* Genuine and impostor counts per equal-width bin over [lo, hi]; values
 * outside are counted in the end bins. */
#define FN_HIST_MAX_BINS 200
typedef struct fn_histogram {
    double lo, hi, width;
    int bins;
    size_t genuine[FN_HIST_MAX_BINS], impostor[FN_HIST_MAX_BINS];
    size_t n_genuine, n_impostor;
} fn_histogram;
/* lo >= hi picks the range: a 1-2-5 bin width (0.01, 0.02, 0.05, 0.1 ...),
 * the first edge the multiple of it at or below the smallest value, at most
 * `bins` bins to reach the largest.  Infinite values are left out of the
 * automatic range (and counted in the end bins). */
fn_status fn_histogram_compute(const double *genuine, size_t n_genuine, const double *impostor, size_t n_impostor,
                               int bins, double lo, double hi, fn_histogram *h);
/* Side-by-side text bars, each side scaled to its own tallest bin (the two
 * populations differ in size by orders of magnitude), bar_width characters
 * wide; the bin holding thr is marked (thr NaN: no mark).  *out is a
 * NUL-terminated string the caller frees with free(). */
fn_status fn_histogram_text(const fn_histogram *h, double thr, int bar_width, char **out);

#endif
