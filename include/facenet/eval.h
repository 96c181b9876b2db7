/* facenet/eval.h — measuring recognition: verification metrics (ROC, AUC,
 * EER, TAR at a FAR, best accuracy, k-fold), threshold calibration from a
 * gallery with its trust rule, open-set identification figures, LFW pairs
 * files, SVG plots, the embedding cache, one embedding per image file for
 * evaluations, and the whole folder-per-person identification evaluation
 * (`facenet eval`).  The numeric parts take numbers only; the embedder and the
 * folder evaluation run an fn_engine.
 */
#ifndef FACENET_EVAL_H
#define FACENET_EVAL_H

#include <stddef.h>

#include "facenet/core.h"
#include "facenet/engine.h"
#include "facenet/gallery.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declared here = exported from libfacenet.so (the library is compiled with
 * -fvisibility=hidden; `make check-exports` checks both ways). */
#pragma GCC visibility push(default)

/* ======================================================================
 * src/eval/metrics.c — verification metrics on (distance, same) lists: ROC, AUC, EER,
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

/* ======================================================================
 * src/eval/calib.c — threshold calibration from a gallery's own embeddings, the trust
 * rule that says when such a threshold means anything, and distance
 * histograms (terminal text here, SVG in svg.h).
 * Owns: genuine/impostor pair distances and their summaries; no search, no I/O.
 */

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
    size_t n_embeddings, n_people;   /* what fn_calib_from_gallery read (0 from the others) */
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

/* ======================================================================
 * src/eval/openset.c — open-set identification figures (`facenet eval --unknown-dir`).
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

/* ======================================================================
 * src/eval/pairs.c — LFW pair lists (pairs.txt, pairsDevTrain.txt, pairsDevTest.txt).
 * Owns: parsing the text into image paths, same/different flags and folds.
 * Knows nothing about images or models; paths are relative to the image root.
 */

typedef struct fn_pair {
    const char *path1, *path2;  /* "<Name>/<Name>_<NNNN>.jpg", owned by fn_pairs */
    int same;                   /* 1: same person, 0: different people */
    int fold;                   /* View 1: 0; View 2: the set (0..9) the pair is in */
} fn_pair;

typedef struct fn_pairs {
    fn_pair *items;
    size_t n;
    int view;       /* 1: header "N" (one set); 2: header "S\tP" (S sets) */
    int nfolds;     /* 1 for View 1, S for View 2 */
    size_t per_set; /* same pairs (= different pairs) per set */
    char *text;     /* backing store for the paths */
} fn_pairs;

/* Safety limits: a pairs file is small text; anything beyond is garbage. */
#define FN_PAIRS_MAX_BYTES  (64u << 20)
#define FN_PAIRS_MAX_SETS   1000
#define FN_PAIRS_MAX_PAIRS  10000000u

/* Parse a pairs file.  The header decides the view: one number N means N
 * same-person lines then N different-person lines; "S P" means S sets of P
 * same then P different.  Fields are separated by tabs or spaces; \r\n is
 * accepted; blank lines only at the end.  Image numbers are 1..9999.
 * Errors: FN_ERR_IO (cannot read), FN_ERR_FORMAT "path:LINE: expected ...,
 * got ..." for a malformed line or wrong counts, FN_ERR_LIMIT. */
fn_status fn_pairs_load(const char *path, fn_pairs **out);
/* The same from text in memory; name is used in error messages. */
fn_status fn_pairs_parse(const char *text, size_t len, const char *name, fn_pairs **out);
void fn_pairs_free(fn_pairs *p);

/* Counts of same / different pairs (for reports and checks). */
size_t fn_pairs_count_same(const fn_pairs *p);

/* ======================================================================
 * src/eval/svg.c — hand-written SVG plots of an evaluation: the ROC curve and the
 * genuine/impostor distance histograms with the threshold line.
 * Owns: layout and drawing; takes computed fn_roc / fn_histogram, no metrics.
 * Numbers are printed with printf's %f, so the C locale's '.' is assumed.
 */

/* Each panel is FN_SVG_PANEL_W x FN_SVG_PANEL_H pixels; panels sit side by
 * side (ROC first).  The plot area inside a panel leaves these margins. */
#define FN_SVG_PANEL_W 480
#define FN_SVG_PANEL_H 400
#define FN_SVG_MARGIN_L 64
#define FN_SVG_MARGIN_R 20
#define FN_SVG_MARGIN_T 40
#define FN_SVG_MARGIN_B 56

typedef struct fn_svg_plot {
    const char *title;            /* optional, escaped for XML */
    const fn_roc *roc;            /* NULL: no ROC panel */
    int log_far;                  /* ROC x axis log10(FAR); FAR = 0 sits on the left edge */
    const fn_op *mark;            /* optional operating point drawn on the ROC */
    int show_eer;                 /* draw the EER point on the ROC */
    const fn_histogram *hist;     /* NULL: no histogram panel */
    double thr;                   /* threshold line on the histogram; NaN: none */
} fn_svg_plot;

/* The whole document as a string (free() it). */
fn_status fn_svg_render(const fn_svg_plot *p, char **out);
/* The same written to path (FN_ERR_IO names the file). */
fn_status fn_svg_write(const char *path, const fn_svg_plot *p);

/* Where a ROC point (far, tar) is drawn in the ROC panel, in pixels as they
 * appear in the polyline (before the title offset), with
 * the axis the plot uses (the left end of a log axis is the decade at or
 * below 1 / n_impostor). */
void fn_svg_roc_xy(const fn_svg_plot *p, double far, double tar, double *x, double *y);

/* ======================================================================
 * src/eval/cache.c — an SQLite file of embeddings already computed, so that running an
 * evaluation again skips detection and embedding for unchanged images.
 * Owns: the cache file.  Keyed by (key, model): key is the caller's content
 * hash of the image file (e.g. SHA-256 hex), model names the weights and
 * settings that produced the entry; either changing means a miss.
 */

typedef struct fn_cache fn_cache;

#define FN_CACHE_MAX_DIM 4096

typedef struct fn_cache_entry {
    int has_face;     /* 0: the detector found no face; box, prob, embedding unset */
    float box[4];     /* x1, y1, x2, y2 in pixels of the original image */
    float prob;       /* detector probability */
    int dim;          /* embedding length (0 when !has_face) */
} fn_cache_entry;

/* Opens or creates the file.  FN_ERR_DB names the file when it is not an
 * SQLite database or was written by an incompatible version of this cache. */
fn_status fn_cache_open(const char *path, fn_cache **out);
/* Commits what was put and closes; NULL is fine. */
fn_status fn_cache_close(fn_cache *c);

/* FN_OK and the entry when present; FN_ERR_NOT_FOUND when absent (no error
 * sentence is set for a plain miss).  emb receives e->dim floats; emb_cap is
 * its room, FN_ERR_LIMIT if the stored embedding is longer. */
fn_status fn_cache_get(fn_cache *c, const char *key, const char *model, fn_cache_entry *e, float *emb, int emb_cap);
/* Inserts or replaces, committed at once (WAL, synchronous = NORMAL: no
 * fsync per commit), so that commands sharing the cache hold its write
 * lock only for the write.  fn_cache_flush has nothing left to do (kept
 * for callers that ask). */
fn_status fn_cache_put(fn_cache *c, const char *key, const char *model, const fn_cache_entry *e, const float *emb);
fn_status fn_cache_flush(fn_cache *c);

/* ======================================================================
 * src/eval/embedder.c — one embedding per image file for evaluations:
 * detect, choose one face, align, embed (optionally also the mirrored crop),
 * through the embedding cache.  Owns the cache key that says what produced
 * an entry (model, preprocessing, detector settings, selection, flip).
 */

/* What to do when the detector finds no face. */
typedef enum fn_miss_policy {
    FN_MISS_SKIP = 0,     /* no embedding (reported as "no face") */
    FN_MISS_CENTER_CROP   /* the central box of FN_MISS_BOX_FRACTION of the shorter side, landmarks
                             from ArcFace's template (the LFW protocols' fallback) */
} fn_miss_policy;
#define FN_MISS_BOX_FRACTION 0.6f

typedef struct fn_embedder {
    fn_engine *e;
    fn_cache *cache;          /* NULL: no cache */
    fn_select select;
    int flip;                 /* also compute the flip-augmented embedding */
    fn_miss_policy miss;
    int dim;
    char key_plain[512], key_flip[520];
    fn_face faces[64];        /* working memory, reused image to image */
    fn_image crops[2];
    int hits, computed;       /* cache hits; images detected and embedded now */
    int workers;              /* fn_embedder_run_many: 0 (fn_embedder_init's) decodes and detects on
                                 the bulk executor, one worker per CPU; 1 file by file (fn_embedder_run
                                 on each, the reference); N: N workers */
    int store_errors;         /* embeddings the cache could not keep (still returned: a cache is only a cache) */
    char store_error[512];    /* the first such error */
} fn_embedder;

/* One image's result.  emb / emb_flip: dim floats each, L2-normalised. */
typedef struct fn_embed_result {
    int has_face;     /* the detector found a face (else: fallback used or nothing) */
    int has_emb;      /* emb is set (a face, or the fallback crop) */
    fn_face face;     /* the chosen face (box, prob; landmarks only when computed now) */
    char hash[65];    /* fn_hash_file of the image: its identity in caches and galleries */
} fn_embed_result;

/* e: the engine; o: the options it was made with (detector settings go into
 * the cache key).  cache_path: an embedding cache file (created with its
 * parent directories when missing), or NULL for none.  FN_ERR_ARG when the
 * engine has no embedding model; FN_ERR_DB names a bad cache file. */
fn_status fn_embedder_init(fn_embedder *x, fn_engine *e, const fn_options *o, fn_select select, int flip,
                           fn_miss_policy miss, const char *cache_path);
/* The embedding of path's chosen face (and with flip, of face + mirror
 * summed and normalised, FaceNet's flip trick, into emb_flip).  r->has_emb
 * says whether emb was written.  Errors name the file. */
fn_status fn_embedder_run(fn_embedder *x, const char *path, fn_embed_result *r, float *emb, float *emb_flip);
/* Called by fn_embedder_run_many for each input, in input order, on the
 * calling thread: status FN_OK with r (and emb, emb_flip as fn_embedder_run
 * fills them), or the file's failure (fn_last_error() names the file; r, emb
 * are then not set).  Return FN_OK to go on; anything else stops the run
 * and is returned. */
typedef fn_status (*fn_embedder_each)(void *user, int index, fn_status status, const fn_embed_result *r,
                                      const float *emb, const float *emb_flip);
/* fn_embedder_run on each of paths[0..n), pipelined: cache hits first (the
 * file's hash, on the calling thread), then the misses decoded and detected
 * on x->workers threads of the bulk executor (facenet/batch.h) with their
 * faces embedded in batches; the chosen face, the flip embedding, the
 * centre-crop fallback and the cache writes as fn_embedder_run does.  The
 * same faces and hits; embeddings within 1e-5 of the one-at-a-time path
 * (batched network calls; tests/test_eval_folders.c).  FN_OK, or the first
 * non-FN_OK status each returned, or FN_ERR_NOMEM. */
fn_status fn_embedder_run_many(fn_embedder *x, const char *const *paths, int n, fn_embedder_each each, void *user);
/* Commits the cache and closes it; the struct may be initialised again. */
fn_status fn_embedder_close(fn_embedder *x);

/* ======================================================================
 * src/eval/folders.c — identification evaluation on folders (`facenet
 * eval`): enrol a folder-per-person gallery into a temporary gallery, then
 * identify every probe image.  Every probe is accounted for:
 *   - of an enrolled person: correct, misidentified, or without a face;
 *   - of a person with a probe folder but nothing enrolled (no gallery
 *     folder, or no face in any of its images): "absent", counted in
 *     open-set terms like the probes of unknown_dir;
 *   - unknown_dir: people known not to be enrolled.
 * A gallery person counts as enrolled only when at least one of their
 * images gave a face.
 */

/* Image files under path (recursively, sorted; .jpg .jpeg .png in any
 * case), appended to *out; a file path is taken as it is.  The other files
 * met in the folders are appended to *skipped (when not NULL) so that a
 * front end can report them rather than drop them silently; hidden names
 * (.name) are not read.  FN_ERR_IO names a path that cannot be read. */
typedef struct fn_paths { char **items; int n, cap; } fn_paths;
fn_status fn_list_images(const char *path, fn_paths *out, fn_paths *skipped);
/* The person folders of a folder-per-person tree (root/<person>/), their
 * names sorted, appended to *people; anything else directly in root (a
 * file, a dangling link: it names nobody) is appended to *loose by path so
 * that it can be reported.  Hidden names are not read.  FN_ERR_IO names
 * root when it cannot be read. */
fn_status fn_list_people(const char *root, fn_paths *people, fn_paths *loose);
void fn_paths_free(fn_paths *p);

typedef enum fn_probe_kind {
    FN_PROBE_ENROLLED = 0,    /* the probe's person is in the gallery */
    FN_PROBE_ABSENT,          /* a probe folder whose person has nothing enrolled */
    FN_PROBE_UNKNOWN          /* from unknown_dir */
} fn_probe_kind;

typedef struct fn_eval_probe {
    char *file;
    char *person;             /* the probe folder's name; NULL for unknown_dir */
    fn_probe_kind kind;
    int has_face;
    int correct;              /* ENROLLED with a face and the nearest person is theirs */
    int accepted;             /* has a face and the nearest distance <= threshold */
    fn_gallery_match match;   /* valid when has_face */
    char *error;              /* non-NULL: the file could not be read or decoded (the sentence;
                                 has_face 0); counted in n_unreadable, not n_no_face */
} fn_eval_probe;

typedef struct fn_eval_person {
    char *name;
    int gallery_images;       /* image files in the gallery folder */
    int enrolled;             /* of them with a face, enrolled */
    int probes, correct;      /* probe images of this person, identified right */
} fn_eval_person;

/* Called as work proceeds (may be NULL): stage "enrolling" or
 * "identifying", done of total, the file just finished. */
typedef void (*fn_eval_progress)(void *ctx, const char *stage, int done, int total, const char *file);

typedef struct fn_folder_eval_params {
    const char *gallery_dir;  /* gallery_dir/<person>/ images to enrol (required) */
    const char *probe_dir;    /* probe_dir/<person>/ images to identify (required) */
    const char *unknown_dir;  /* images of people not enrolled, any layout (NULL: none) */
    float threshold;          /* open-set decision threshold; < 0: fn_engine_threshold */
    const char *work_dir;     /* where the temporary gallery goes; NULL: $TMPDIR, else /tmp */
    fn_eval_progress progress;
    void *progress_ctx;
} fn_folder_eval_params;

typedef struct fn_folder_eval {
    fn_eval_person *people;   /* every gallery and probe folder name, sorted; n_people */
    int n_people;
    int enrolled_people;      /* people with at least one enrolled image */
    int gallery_images, enrolled_images;
    char **enrol_no_face;     /* gallery files without a face (not enrolled) */
    int n_enrol_no_face;
    fn_paths enrol_unreadable;       /* gallery files that could not be read or decoded (not enrolled) */
    fn_paths enrol_unreadable_error; /* the sentence for each, same order */
    fn_paths skipped;         /* files in the folders not named as a JPEG or PNG: never read */
    fn_paths loose;           /* files directly in gallery_dir or probe_dir, in no person's
                                 folder: never read */
    fn_eval_probe *probes;    /* probe folders in name order, then unknown_dir */
    int n_probes;
    /* the headline counts: n_probes = enrolled + absent + unknown */
    int n_enrolled_probes, n_correct, n_enrolled_with_face;
    int n_absent_probes, n_unknown_probes, n_no_face;
    int n_unreadable;         /* probes that could not be read (a damaged or mislabelled file) */
    float threshold;
    fn_threshold_source threshold_source;   /* EXPLICIT or MODEL */
    /* Open set at threshold over every probe with a face (enrolled ones as
     * "known"; absent and unknown ones as "unknown"), and the threshold that
     * balances FIR and FNR; set when there is at least one absent or
     * unknown probe with a face. */
    int have_openset;
    fn_openset at, balanced;
    /* Each probe's nearest distance to its own person (genuine, same = 1)
     * and to every other enrolled person (impostor): for ROC plots. */
    double *dist;
    unsigned char *same;
    size_t n_dist;
} fn_folder_eval;

/* Runs the evaluation with x's engine, selection and cache.  Fails
 * (FN_ERR_NOT_FOUND) when no face could be enrolled at all.  A file that
 * cannot be read or decoded (FN_ERR_IO, _FORMAT, _UNSUPPORTED, _LIMIT) is
 * accounted for, not fatal: a gallery file in enrol_unreadable, a probe with
 * its error (counted as a probe without an answer); other errors (memory,
 * the database, the model) fail the run.  Free with fn_folder_eval_free. */
fn_status fn_folder_eval_run(fn_embedder *x, const fn_folder_eval_params *p, fn_folder_eval *out);
void fn_folder_eval_free(fn_folder_eval *r);
/* The ROC and distance histograms of r->dist as an SVG file (title may be NULL). */
fn_status fn_folder_eval_plot(const fn_folder_eval *r, const char *path, const char *title);
/* The nearest person's distance margin to the second nearest (INFINITY without one). */
double fn_eval_probe_margin(const fn_eval_probe *p);

/* ======================================================================
 * src/eval/calib_gallery.c — calibration straight from a gallery.
 */

/* fn_calib_from_embeddings_grouped over every embedding g holds, labelled
 * by person, grouped by face (fn_gallery_embedding.face_id): one face of a
 * file enrolled under two names is left out, not an impostor pair at 0.
 * Errors name nothing but the gallery's trouble (prefix the path yourself). */
fn_status fn_calib_from_gallery(fn_gallery *g, fn_distance_kind kind, double target_far, fn_calib *out);
/* The ROC of a calibration's genuine/impostor distances (for fn_svg_plot). */
fn_status fn_calib_roc(const fn_calib *c, fn_roc *out);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
