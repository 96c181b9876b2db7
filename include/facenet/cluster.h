/* facenet/cluster.h — grouping unlabelled faces into people: the
 * neighbour graph (k nearest neighbours of every embedding), three
 * clustering methods on it, the incremental step that places new faces
 * without re-clustering the old, the scores that compare a grouping with
 * the true identities, and the threshold tuning by those scores.  Takes
 * embeddings only: no images, no gallery, no files.
 *
 * Distances are Euclidean on L2-normalised embeddings (0..2), the same
 * scale as every threshold of the library (fn_engine_threshold).
 */
#ifndef FACENET_CLUSTER_H
#define FACENET_CLUSTER_H

#include "facenet/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* ---------------------------------------------------------- neighbours */

/* A k-nearest-neighbour search: for each of the n rows of x (n x d,
 * row-major, L2-normalised), its k nearest *other* rows with distance at
 * most max_dist, nearest first (ties: lower index first): idx and dist are
 * n x k; slots past the last neighbour found get idx -1 and dist INFINITY.
 * The clustering calls it through this type, so an approximate index (FAISS)
 * can replace the exact search without touching the methods. */
typedef fn_status (*fn_knn_search)(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx,
                                   float *dist);

/* The exact search: blocks of 256 queries scored against every row with one
 * BLAS matrix product each (d^2 = 2 - 2 x.y), a bounded heap of k per row.
 * O(n^2 d) time, O(256 n + n k) memory.  user is unused (NULL).  FN_ERR_ARG
 * for n < 0, d < 1, k < 1; FN_ERR_NOMEM. */
fn_status fn_knn_exact(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist);

/* The approximate search: a FAISS HNSW graph (M 32, efConstruction 40)
 * over the rows, then each row looked up in it with efSearch max(1.5 (k+1),
 * 64) (Malkov & Yashunin 2018; FAISS's IndexHNSWFlat).  Same contract as
 * fn_knn_exact, except that a true neighbour can be missing (another, a
 * little farther, takes its slot): test_cluster_knn_ann measures the share
 * kept against fn_knn_exact.  O(n log n d) time; memory n x (4 d + 2 M x 4)
 * bytes for the graph (1M x 192: 1 GiB) besides idx and dist.  Falls back to
 * fn_knn_exact for n <= k + 1 or without OpenBLAS (FAISS's BLAS comes from
 * it).  FN_ERR_ARG as fn_knn_exact; FN_ERR_NOMEM; FN_ERR_INTERNAL with
 * FAISS's message. */
fn_status fn_knn_hnsw(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist);

/* The partitioned search, for big collections: the rows are first
 * projected on their span when it is small (the eigenvectors of X'X holding
 * all but 1e-6 of its trace; MobileFaceNet's embeddings of LFW span 58 of
 * 192 dimensions) and split by spherical k-means (FAISS's Clustering, 10
 * passes) into n / cell_size cells; every row is assigned to its `probes`
 * nearest centroids, and each cell's rows are scored against each other
 * with one BLAS matrix product a block (an inverted file, Jégou et al. 2011,
 * with both sides multiply assigned, Jégou et al. 2008): a pair is scored
 * when the two rows share a cell.  Then one round of NN-descent's local join
 * (Dong et al. 2011) scores every row's neighbours' neighbours within 1.0,
 * which brings back the close pairs the cells split.  Same contract as
 * fn_knn_exact, except that a true neighbour can be missing
 * (test_cluster_knn_ann and bench_cluster measure the share kept: near
 * pairs, those clustering uses, are kept; the far tail of a list is not).
 * Time ~ n x probes^2 x cell_size x rank for the products, plus k-means;
 * memory n x probes x 8 bytes of lists, one block of scores (<= 16 MiB) and
 * n x 256 bytes for the join.  user: a fn_knn_ivf_params (NULL: the
 * defaults below).  Falls back to fn_knn_exact below 2 x probes cells or
 * without OpenBLAS.  FN_ERR_ARG as fn_knn_exact and for a cell size < 1 or
 * probes outside 1..64; FN_ERR_NOMEM; FN_ERR_INTERNAL with FAISS's message. */
typedef struct fn_knn_ivf_params {
    int cell_size;   /* rows a cell on average (n / cell_size cells) */
    int probes;      /* cells each row is assigned to */
} fn_knn_ivf_params;
#define FN_KNN_IVF_CELL_SIZE 512
#define FN_KNN_IVF_PROBES 8
void fn_knn_ivf_params_init(fn_knn_ivf_params *p);
fn_status fn_knn_ivf(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist);

/* From this many rows fn_knn_auto searches approximately (fn_knn_ivf).
 * bench_cluster 100000 (faces spanning 58 dimensions, k 64, idle): exact
 * 35.9 s; fn_knn_ivf at cell 512, probes 8: 12.4 s, recall 0.9999 of the
 * pairs within 0.9 (cell 256 / probes 4: 3.9 s but 0.960; 1024 / 6:
 * 13.0 s, 0.9996).  Below ~50k faces probes^2 / cells is no longer small
 * and the exact search is as fast. */
#define FN_KNN_ANN_MIN_ROWS 100000
/* fn_knn_exact below FN_KNN_ANN_MIN_ROWS rows, fn_knn_ivf (defaults) from there: what
 * `facenet cluster` and `facenet eval-cluster` use. */
fn_status fn_knn_auto(void *user, const float *x, int n, int d, int k, float max_dist, int32_t *idx, float *dist);

/* ---------------------------------------------------------- clustering */

typedef enum fn_cluster_method {
    FN_CLUSTER_WHISPERS = 0,  /* Chinese whispers (Biemann 2006) on the graph of pairs closer than the
                                 threshold, each edge weight 1, as dlib's chinese_whispers and its
                                 face-clustering example; passes in a seeded random order */
    FN_CLUSTER_DBSCAN,        /* DBSCAN (Ester et al. 1996): eps = threshold, min_points counting the point */
    FN_CLUSTER_AVERAGE        /* agglomerative, average linkage (UPGMA): merge the pair of groups whose
                                 mean pairwise distance is furthest below their merge limit, while one
                                 is at or below it.  The limit of groups of na and nb faces is
                                 t - (t - threshold) / sqrt(na nb), t = threshold x
                                 average_limit_ratio: the threshold for two single faces, growing
                                 toward t as the pairs behind the mean grow (a mean of m pair
                                 distances varies about 1/sqrt(m) as much as one).  Ratio 1: the
                                 threshold for all, plain UPGMA.  Pairs the kNN graph does not hold,
                                 and pairs farther than the threshold + FN_CLUSTER_AVERAGE_REACH,
                                 count as distance 2 (the maximum) */
} fn_cluster_method;

/* Average linkage's limit for big groups as a multiple of the threshold:
 * 1.00 at 0.90.  Chosen with the threshold by `facenet eval-cluster
 * --train-pairs pairsDevTrain.txt` on the LFW development images of the
 * people named in pairsDevTrain.txt only (3,443 images): over thresholds
 * 0.85-0.92 and limits 0.97-1.05, and the forms sqrt(na nb), sqrt of the
 * harmonic mean and sqrt(min(na, nb)), BCubed F1 was best at 0.90 / 1.00
 * with sqrt(na nb) (0.9841 against 0.9821 for plain UPGMA at its best
 * threshold).  Reported in the README ("Photo library"). */
#define FN_CLUSTER_AVERAGE_LIMIT_RATIO (1.00f / 0.90f)

/* Average linkage searches neighbours only within threshold + this
 * (Euclidean distance); a pair beyond counts as 2, as one outside the k
 * nearest does.  Measured with `facenet eval-cluster --train-pairs
 * pairsDevTrain.txt` on LFW's 4,992 development images: with 0.2 every
 * threshold 0.60-1.10 groups the tuning and the test people exactly as
 * with no limit (the same scores on all 22 lines), in a tenth of the time
 * (0.12 s against 1.0 s at 0.90); with 0.1 the grouping of all images at
 * 0.90 changes (BCubed F1 0.9797 against 0.9805).  On 100,000 synthetic
 * faces (bench_cluster) it halves the default path's time and memory.
 * With the growing limit (FN_CLUSTER_AVERAGE_LIMIT_RATIO) the search still
 * reaches only threshold + 0.2, not the limit + 0.2: on the same images
 * every threshold 0.60-0.90 scores the same either way (0.11 s against
 * 0.42 s at 0.90); from 0.95 the scores move by up to 0.01. */
#define FN_CLUSTER_AVERAGE_REACH 0.2f

/* "whispers", "dbscan", "average". */
const char *fn_cluster_method_name(fn_cluster_method m);
/* The method named s (the names above); FN_ERR_ARG otherwise. */
fn_status fn_cluster_method_parse(const char *s, fn_cluster_method *m);

/* The default method and threshold, for MobileFaceNet embeddings (the
 * default model).  Chosen by `facenet eval-cluster --train-pairs
 * pairsDevTrain.txt` on the LFW development images of the people named in
 * pairsDevTrain.txt only (3,443 images; their people are disjoint from
 * pairsDevTest.txt's): the best BCubed F1 of every method and threshold
 * there was average linkage with the growing limit at 0.90 (0.9841; plain
 * UPGMA 0.9821 at 0.90, Chinese whispers 0.9817 at 0.90, DBSCAN 0.9792 at
 * 0.90).  On the other 1,549 images it scores BCubed F1 0.9868 (plain
 * UPGMA 0.9847), and 0.9817 on Film with no group of two people (README,
 * "Photo library").  Another model: fn_cluster_default_threshold. */
#define FN_CLUSTER_DEFAULT_METHOD FN_CLUSTER_AVERAGE
#define FN_CLUSTER_DEFAULT_THRESHOLD 0.90f
/* The threshold for a model whose verification threshold (fn_engine_threshold,
 * best accuracy on LFW DevTrain pairs) is verify_threshold: the same ratio as
 * the default's to MobileFaceNet's verification threshold (1.09), since a
 * grouping must keep its precision over chains of pairs, not one pair. */
float fn_cluster_default_threshold(float verify_threshold);

typedef struct fn_cluster_params {
    fn_cluster_method method;
    float threshold;         /* Euclidean distance: graph edges (whispers), eps (DBSCAN), the merge
                                limit (average) */
    int k;                   /* neighbours per face in the graph (0: 64; average: at least 256) */
    int iterations;          /* whispers: passes over all nodes (0: 100, dlib's default) */
    int min_points;          /* DBSCAN: neighbours within eps, the point included, of a core point (0: 2) */
    uint64_t seed;           /* whispers: the order of visits (same seed, same result) */
    float average_limit_ratio; /* average: the limit for big groups as a multiple of threshold (see
                                FN_CLUSTER_AVERAGE); 1 or 0: plain UPGMA.  Init:
                                FN_CLUSTER_AVERAGE_LIMIT_RATIO */
    float attach_threshold;  /* a face that may not seed (seed_ok 0) joins the group of its nearest
                                seeding face when within this distance, else it is noise;
                                0: threshold */
    fn_knn_search knn;       /* NULL: fn_knn_exact */
    void *knn_user;
} fn_cluster_params;

void fn_cluster_params_init(fn_cluster_params *p);

/* Groups n embeddings x (n x d, L2-normalised).  seed_ok (NULL: all 1):
 * faces with 0 (low quality: tiny, blurred, turned away) take no part in
 * forming groups and are attached afterwards (attach_threshold) or left as
 * noise.  labels (n): 0..*n_groups-1, numbered in order of each group's
 * first face; -1 = noise (DBSCAN's noise, an unattached low-quality face).
 * Deterministic for a given input and seed.  FN_ERR_ARG for a bad
 * parameter (names it), FN_ERR_NOMEM. */
fn_status fn_cluster(const float *x, int n, int d, const unsigned char *seed_ok, const fn_cluster_params *p,
                     int *labels, int *n_groups);

/* ---------------------------------------------------------- incremental */

typedef struct fn_cluster_extend_stats {
    int queries;         /* faces in no group on entry: the only rows searched against all n */
    int joined;          /* of them, placed in an existing group */
    int grouped;         /* placed in new groups (clustered among the m left) */
    int new_groups;      /* groups formed (a lone face is a group of one, as fn_cluster numbers it) */
    int noise;           /* left at -1 */
    int64_t distances;   /* distances computed: queries x n, then m x m among the m left (exact search) */
} fn_cluster_extend_stats;

/* Places the faces in no group without re-clustering the others (new faces
 * of a later scan).  labels (n) on entry: 0..*n_groups-1 for a face in an
 * existing group, -1 for one to place; existing labels never change, so no
 * group is split or merged.  Every face to place is compared with all n
 * (one BLAS product per block of up to 256 queries, fewer past 65,536
 * faces so a block's scores stay within 64 MiB) and joins:
 *   average linkage: the group whose mean distance to it (over the group's
 *     seeding faces) is furthest below the merge limit of a face and a group
 *     of that size, when at or below it; this is the criterion average
 *     linkage's last merge of a face into a group obeys;
 *   whispers, DBSCAN: the group holding most of its neighbours within the
 *     threshold (ties: smaller summed distance); repeated over the faces
 *     placed so far until nothing changes, so chains through new faces join
 *     as Chinese whispers' propagation and DBSCAN's expansion would;
 *   a face that may not seed (seed_ok 0): the group of its nearest seeding
 *     face when within attach_threshold (0: threshold), as fn_cluster.
 * The m faces left are clustered among themselves with fn_cluster(p); their
 * groups are numbered from *n_groups on, and *n_groups grows.  p->knn is
 * used for that step only.  st may be NULL.  FN_ERR_ARG for a label out of
 * range or a bad parameter; FN_ERR_NOMEM. */
fn_status fn_cluster_extend(const float *x, int n, int d, const unsigned char *seed_ok, const fn_cluster_params *p,
                            int *labels, int *n_groups, fn_cluster_extend_stats *st);

/* ---------------------------------------------------------- scores */

/* A grouping against the truth.  Pairwise: over all pairs of faces, a pair
 * in one predicted group is a true positive when both are one person.
 * BCubed (Bagga & Baldwin 1998; Amigó et al. 2009): per face, the share of
 * its group that is its person (precision) and the share of its person in
 * its group (recall), averaged over faces.  Noise (-1) counts as a group of
 * its own face.  A precision with no predicted pair is 1. */
typedef struct fn_cluster_scores {
    double pair_precision, pair_recall, pair_f1;
    double bcubed_precision, bcubed_recall, bcubed_f1;
    int n_groups;        /* predicted groups of 2 or more faces */
    int n_noise;         /* faces labelled -1 */
    int n_singletons;    /* faces alone in their group (noise included) */
    int n_mixed;         /* predicted groups holding faces of two or more people */
    int n_people;        /* distinct truth labels */
} fn_cluster_scores;

/* truth: n labels >= 0; pred: n labels >= -1.  FN_ERR_ARG for n < 1 or a
 * negative truth label. */
fn_status fn_cluster_score(const int *truth, const int *pred, int n, fn_cluster_scores *out);

/* ---------------------------------------------------------- tuning */

/* Tunes the threshold of method m on labelled faces (x: n x d, truth: n
 * person labels >= 0): clusters them at each of the nt thresholds and keeps
 * the one of best BCubed F1 (ties: the first in the list), the criterion
 * FN_CLUSTER_DEFAULT_THRESHOLD was chosen by (eval-cluster on LFW DevTrain).
 * *best gets the threshold, scores (may be NULL; nt entries) each one's
 * scores.  FN_ERR_ARG for n < 2, nt < 1 or a threshold outside (0, 2]. */
fn_status fn_cluster_tune(const float *x, const int *truth, int n, int d, fn_cluster_method m, const float *thresholds,
                          int nt, float *best, fn_cluster_scores *scores);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
