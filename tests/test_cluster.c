/* test_cluster.c — the clustering methods on hand-made embeddings with known
 * groups, the exact kNN against brute force, and the pairwise/BCubed scores
 * against a brute-force count over all pairs and all faces. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facenet.h"
#include "t.h"

#define D 16

static uint64_t rs = 12345;
static double urand(void)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* n faces of g people: a random unit centre per person, each face the centre
 * plus noise of size `spread`, normalised. */
static void make(float *x, int *truth, int n, int g, float spread)
{
    float c[64][D];
    for (int p = 0; p < g; p++) {
        for (int k = 0; k < D; k++) c[p][k] = (float)(urand() * 2 - 1);
        fn_l2_normalize(c[p], 1, D);
    }
    for (int i = 0; i < n; i++) {
        truth[i] = i % g;
        for (int k = 0; k < D; k++) x[i * D + k] = c[truth[i]][k] + spread * (float)(urand() * 2 - 1);
        fn_l2_normalize(x + i * D, 1, D);
    }
}

/* Brute force: over every pair for pairwise, over every face for BCubed. */
static void brute(const int *t, const int *p, int n, double *pp, double *pr, double *bp, double *br)
{
    double tp = 0, same_p = 0, same_t = 0, sbp = 0, sbr = 0;
    for (int i = 0; i < n; i++) {
        double ci = 0, ti = 0, both = 0;
        for (int j = 0; j < n; j++) {
            int sp = (p[i] >= 0 && p[i] == p[j]) || i == j, st = t[i] == t[j];
            ci += sp;
            ti += st;
            both += sp && st;
            if (j > i) {
                tp += sp && st;
                same_p += sp;
                same_t += st;
            }
        }
        sbp += both / ci;
        sbr += both / ti;
    }
    *pp = same_p ? tp / same_p : 1;
    *pr = same_t ? tp / same_t : 1;
    *bp = sbp / n;
    *br = sbr / n;
}

static void test_scores(void)
{
    int truth[40], pred[40];
    for (int trial = 0; trial < 50; trial++) {
        int n = 5 + (int)(urand() * 35);
        for (int i = 0; i < n; i++) {
            truth[i] = (int)(urand() * 5);
            pred[i] = (int)(urand() * 7) - 1;   /* -1: noise */
        }
        fn_cluster_scores s;
        T_CHECK(fn_cluster_score(truth, pred, n, &s) == FN_OK, "score: %s", fn_last_error());
        double pp, pr, bp, br;
        brute(truth, pred, n, &pp, &pr, &bp, &br);
        T_CHECK(fabs(s.pair_precision - pp) < 1e-12 && fabs(s.pair_recall - pr) < 1e-12,
                "trial %d: pairwise P/R %g/%g, brute force %g/%g", trial, s.pair_precision, s.pair_recall, pp, pr);
        T_CHECK(fabs(s.bcubed_precision - bp) < 1e-12 && fabs(s.bcubed_recall - br) < 1e-12,
                "trial %d: BCubed P/R %g/%g, brute force %g/%g", trial, s.bcubed_precision, s.bcubed_recall, bp, br);
    }
    /* hand-computed: truth {0,0,1,1}, pred {0,0,0,1}: pairs TP 1 of 3 predicted, 2 true;
     * BCubed P = (2/3+2/3+1/3+1)/4 = 2/3, R = (1+1+1/2+1/2)/4 = 3/4 */
    int t4[4] = {0, 0, 1, 1}, p4[4] = {0, 0, 0, 1};
    fn_cluster_scores s;
    fn_cluster_score(t4, p4, 4, &s);
    T_CHECK(fabs(s.pair_precision - 1.0 / 3) < 1e-12 && fabs(s.pair_recall - 0.5) < 1e-12, "hand pairwise %g %g",
            s.pair_precision, s.pair_recall);
    T_CHECK(fabs(s.bcubed_precision - 2.0 / 3) < 1e-12 && fabs(s.bcubed_recall - 0.75) < 1e-12, "hand BCubed %g %g",
            s.bcubed_precision, s.bcubed_recall);
    T_CHECK(s.n_mixed == 1 && s.n_groups == 1 && s.n_singletons == 1, "hand counts %d %d %d", s.n_mixed, s.n_groups,
            s.n_singletons);
    T_CHECK(fn_cluster_score(t4, p4, 0, &s) == FN_ERR_ARG, "no faces is an error");
}

static void test_knn(void)
{
    enum { N = 300, K = 7 };
    static float x[N * D];
    static int truth[N];
    make(x, truth, N, 9, 0.5f);
    static int32_t idx[N * K];
    static float dist[N * K];
    T_CHECK(fn_knn_exact(NULL, x, N, D, K, 2.0f, idx, dist) == FN_OK, "knn: %s", fn_last_error());
    int bad = 0;
    for (int i = 0; i < N; i++) {
        /* brute force: the K smallest distances, ties by index */
        float best[K];
        int bi[K];
        for (int k = 0; k < K; k++) { best[k] = INFINITY; bi[k] = -1; }
        for (int j = 0; j < N; j++) {
            if (j == i) continue;
            float d = fn_distance(x + i * D, x + j * D, D);
            for (int k = 0; k < K; k++)
                if (d < best[k]) {
                    memmove(best + k + 1, best + k, (K - k - 1) * sizeof *best);
                    memmove(bi + k + 1, bi + k, (K - k - 1) * sizeof *bi);
                    best[k] = d;
                    bi[k] = j;
                    break;
                }
        }
        for (int k = 0; k < K; k++)
            if (fabsf(best[k] - dist[i * K + k]) > 1e-4f) bad++;
    }
    T_CHECK(bad == 0, "knn: %d of %d neighbour distances differ from brute force", bad, N * K);
    /* max_dist: nothing beyond it, -1 padding */
    fn_knn_exact(NULL, x, N, D, K, 0.3f, idx, dist);
    int over = 0;
    for (int i = 0; i < N * K; i++) over += idx[i] >= 0 ? dist[i] > 0.3f + 1e-6f : !isinf(dist[i]);
    T_CHECK(over == 0, "knn: %d entries break the max_dist cut", over);
}

static void test_methods(void)
{
    enum { N = 240, G = 12 };
    static float x[N * D];
    static int truth[N], labels[N];
    make(x, truth, N, G, 0.15f);   /* tight, well separated people */
    fn_cluster_method ms[] = {FN_CLUSTER_WHISPERS, FN_CLUSTER_DBSCAN, FN_CLUSTER_AVERAGE};
    for (int m = 0; m < 3; m++) {
        fn_cluster_params p;
        fn_cluster_params_init(&p);
        p.method = ms[m];
        p.threshold = 0.6f;
        int ng = 0;
        T_CHECK(fn_cluster(x, N, D, NULL, &p, labels, &ng) == FN_OK, "%s: %s", fn_cluster_method_name(ms[m]),
                fn_last_error());
        fn_cluster_scores s;
        fn_cluster_score(truth, labels, N, &s);
        T_CHECK(ng == G && s.bcubed_f1 == 1.0 && s.pair_f1 == 1.0, "%s: %d groups (want %d), BCubed F1 %.4f",
                fn_cluster_method_name(ms[m]), ng, G, s.bcubed_f1);
        /* numbered by first face: face 0 is group 0 */
        T_CHECK(labels[0] == 0, "%s: face 0 in group %d", fn_cluster_method_name(ms[m]), labels[0]);
    }
    /* a threshold too large chains everyone (the verification-threshold failure) */
    fn_cluster_params p;
    fn_cluster_params_init(&p);
    p.method = FN_CLUSTER_DBSCAN;
    p.threshold = 1.99f;
    int ng = 0;
    fn_cluster(x, N, D, NULL, &p, labels, &ng);
    T_CHECK(ng == 1, "dbscan at 1.99: %d groups, want 1", ng);
    /* determinism of whispers with a seed */
    static int l2[N];
    fn_cluster_params_init(&p);
    p.method = FN_CLUSTER_WHISPERS;
    p.threshold = 0.6f;
    p.seed = 7;
    fn_cluster(x, N, D, NULL, &p, labels, &ng);
    fn_cluster(x, N, D, NULL, &p, l2, &ng);
    T_CHECK(!memcmp(labels, l2, sizeof labels), "whispers: same seed, different groups");
    /* low-quality faces: not seeds; attached when close, noise when far */
    static unsigned char ok[N];
    for (int i = 0; i < N; i++) ok[i] = i % 5 != 0;
    memcpy(x, x + 1 * D, D * sizeof *x);   /* face 0 = face 1 (close) */
    for (int k = 0; k < D; k++) x[5 * D + k] = k == 0 ? 1.0f : 0.0f;   /* face 5: far from everyone */
    for (int m = 0; m < 3; m++) {
        p.method = ms[m];
        fn_cluster(x, N, D, ok, &p, labels, &ng);
        T_CHECK(labels[0] >= 0 && labels[0] == labels[1], "%s: close low-quality face 0 not attached to face 1's group",
                fn_cluster_method_name(ms[m]));
        T_CHECK(labels[5] == -1, "%s: far low-quality face 5 in group %d, want noise", fn_cluster_method_name(ms[m]),
                labels[5]);
    }
    /* bad parameters */
    p.threshold = 3;
    T_CHECK(fn_cluster(x, N, D, NULL, &p, labels, &ng) == FN_ERR_ARG, "threshold 3 accepted");
    T_CHECK(fn_cluster(x, 0, D, NULL, NULL, labels, &ng) == FN_OK && ng == 0, "no faces: no groups");
}

/* Pairs of faces on which two groupings disagree (together in one, apart
 * in the other); noise (-1) is apart from everything. */
static long disagree(const int *a, const int *b, int n)
{
    long bad = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            bad += (a[i] >= 0 && a[i] == a[j]) != (b[i] >= 0 && b[i] == b[j]);
    return bad;
}

/* Incremental clustering against the oracle, a full fn_cluster of all the
 * faces: A (12 people) clustered first, then B (more faces of those people
 * and 4 people only in B) placed with fn_cluster_extend.  On separated
 * people the groupings must be the same pair for pair, A's labels must not
 * change, and the work must be B's rows against all plus the leftovers
 * among themselves, not all against all. */
static void test_extend(void)
{
    enum { N = 320, G = 16, GA = 12 };
    static float x[N * D], xa[N * D];
    static int truth[N], full[N], lab[N], la[N], ia[N];
    make(x, truth, N, G, 0.15f);
    fn_cluster_method ms[] = {FN_CLUSTER_WHISPERS, FN_CLUSTER_DBSCAN, FN_CLUSTER_AVERAGE};
    int na = 0;
    for (int i = 0; i < N; i++)
        if (truth[i] < GA && i < 260) { memcpy(xa + na * D, x + i * D, D * sizeof *x); ia[na++] = i; }
    int nb = N - na, only_b = 0;
    for (int i = 0; i < N; i++) only_b += truth[i] >= GA;
    for (int m = 0; m < 3; m++) {
        const char *mn = fn_cluster_method_name(ms[m]);
        fn_cluster_params p;
        fn_cluster_params_init(&p);
        p.method = ms[m];
        p.threshold = 0.6f;
        int ng = 0, nga = 0;
        fn_cluster(x, N, D, NULL, &p, full, &ng);
        fn_cluster(xa, na, D, NULL, &p, la, &nga);
        for (int i = 0; i < N; i++) lab[i] = -1;
        for (int a = 0; a < na; a++) lab[ia[a]] = la[a];
        int total = nga;
        fn_cluster_extend_stats st;
        T_CHECK(fn_cluster_extend(x, N, D, NULL, &p, lab, &total, &st) == FN_OK, "extend %s: %s", mn, fn_last_error());
        long bad = disagree(full, lab, N);
        T_CHECK(bad == 0, "extend %s: %ld pairs grouped differently from the full re-cluster", mn, bad);
        int moved = 0;
        for (int a = 0; a < na; a++) moved += lab[ia[a]] != la[a];
        T_CHECK(moved == 0, "extend %s: %d faces of A changed group", mn, moved);
        T_CHECK(total == G && st.new_groups == G - GA, "extend %s: %d groups (%d new), want %d (%d new)", mn, total,
                st.new_groups, G, G - GA);
        T_CHECK(st.queries == nb && st.joined == nb - only_b && st.grouped == only_b,
                "extend %s: %d searched, %d joined, %d grouped; want %d, %d, %d", mn, st.queries, st.joined,
                st.grouped, nb, nb - only_b, only_b);
        int64_t want = (int64_t)nb * N + (int64_t)only_b * only_b;
        T_CHECK(st.distances == want && want < (int64_t)N * N / 2,
                "extend %s: %lld distances, want %d x %d + %d x %d = %lld (all pairs: %d)", mn,
                (long long)st.distances, nb, N, only_b, only_b, (long long)want, N * N);
    }
    /* overlapping people: the grouping may differ from the full run (which
     * may merge old groups through new faces; extend never does), but its
     * quality against the truth must stay within 0.01 BCubed F1 of it */
    make(x, truth, N, G, 0.25f);
    for (int m = 0; m < 3; m++) {
        const char *mn = fn_cluster_method_name(ms[m]);
        fn_cluster_params p;
        fn_cluster_params_init(&p);
        p.method = ms[m];
        p.threshold = 0.8f;
        int ng = 0, nga = 0;
        na = 0;
        for (int i = 0; i < N; i++)
            if (i < 200) { memcpy(xa + na * D, x + i * D, D * sizeof *x); ia[na++] = i; }
        fn_cluster(x, N, D, NULL, &p, full, &ng);
        fn_cluster(xa, na, D, NULL, &p, la, &nga);
        for (int i = 0; i < N; i++) lab[i] = -1;
        for (int a = 0; a < na; a++) lab[ia[a]] = la[a];
        int total = nga;
        fn_cluster_extend(x, N, D, NULL, &p, lab, &total, NULL);
        int moved = 0;
        for (int a = 0; a < na; a++) moved += lab[ia[a]] != la[a];
        T_CHECK(moved == 0, "extend %s, overlapping people: %d faces of A changed group", mn, moved);
        fn_cluster_scores sf, se;
        fn_cluster_score(truth, full, N, &sf);
        fn_cluster_score(truth, lab, N, &se);
        T_CHECK(se.bcubed_f1 >= sf.bcubed_f1 - 0.05, "extend %s, overlapping people: BCubed F1 %.4f, full %.4f", mn,
                se.bcubed_f1, sf.bcubed_f1);
        printf("# extend %s, overlapping people: BCubed F1 %.4f (full re-cluster %.4f), %ld of %d pairs differ\n", mn,
               se.bcubed_f1, sf.bcubed_f1, disagree(full, lab, N), N * (N - 1) / 2);
    }
    /* bad labels are refused, naming the face */
    int total = 2;
    for (int i = 0; i < N; i++) lab[i] = -1;
    lab[3] = 5;
    fn_cluster_params p;
    fn_cluster_params_init(&p);
    T_CHECK(fn_cluster_extend(x, N, D, NULL, &p, lab, &total, NULL) == FN_ERR_ARG && strstr(fn_last_error(), "face 3"),
            "a label out of range accepted (%s)", fn_last_error());
}

/* Tuning by hand: person 0 = {a, b} at distance 0.5, person 1 = {c, d} at
 * 0.5 (far from person 0), person 2 = {f}, 0.75 from a and 0.861 from b.
 * Average linkage at 0.4: all alone, BCubed precision 1, recall
 * (4 x 0.5 + 1) / 5 = 0.6, F1 0.75; at 0.6 and 0.8 the people exactly
 * (f's mean distance to {a, b} is 0.806 > 0.8), F1 1; at 1.0 f joins
 * {a, b}: precision (2 x 2/3 + 1/3 + 2) / 5 = 11/15, F1 22/26 = 0.8462.
 * The best is 0.6 (the first of the tie). */
static void test_tune(void)
{
    static float x[5 * D];
    int truth[5] = {0, 0, 1, 1, 2};
    float st = sqrtf(1 - 0.875f * 0.875f), sf = sqrtf(1 - 0.71875f * 0.71875f);
    memset(x, 0, sizeof x);
    x[0 * D + 0] = 1;                                /* a */
    x[1 * D + 0] = 0.875f; x[1 * D + 1] = st;        /* b: |a - b|^2 = 2 - 2 x 0.875 = 0.25 */
    x[2 * D + 2] = 1;                                /* c */
    x[3 * D + 2] = 0.875f; x[3 * D + 3] = st;        /* d */
    x[4 * D + 0] = 0.71875f; x[4 * D + 4] = sf;      /* f: |a - f|^2 = 0.5625 */
    /* |b - f| = sqrt(2 - 2 x 0.875 x 0.71875) = 0.8615, so f's mean distance to {a, b} is 0.8058: at 0.8
     * plain UPGMA would leave f alone, but the limit of a face and a pair (FN_CLUSTER_AVERAGE_LIMIT_RATIO)
     * is 0.8 x 1.111 - 0.8 x 0.111 / sqrt(2) = 0.8260, so f joins a and b: BCubed precision 11/15, recall 1 */
    float t[4] = {0.4f, 0.6f, 0.8f, 1.0f}, best = 0;
    double want[4] = {0.75, 1.0, 22.0 / 26.0, 22.0 / 26.0};
    fn_cluster_scores sc[4];
    T_CHECK(fn_cluster_tune(x, truth, 5, D, FN_CLUSTER_AVERAGE, t, 4, &best, sc) == FN_OK, "tune: %s", fn_last_error());
    T_CHECK(best == 0.6f, "tune: best threshold %.2f, want 0.60", best);
    for (int i = 0; i < 4; i++)
        T_CHECK(fabs(sc[i].bcubed_f1 - want[i]) < 1e-9, "tune at %.1f: BCubed F1 %.6f, want %.6f", t[i],
                sc[i].bcubed_f1, want[i]);
    t[2] = 2.5f;
    T_CHECK(fn_cluster_tune(x, truth, 5, D, FN_CLUSTER_AVERAGE, t, 4, &best, NULL) == FN_ERR_ARG &&
                strstr(fn_last_error(), "2.5"),
            "tune: threshold 2.5 accepted (%s)", fn_last_error());
    T_CHECK(fn_cluster_tune(x, truth, 1, D, FN_CLUSTER_AVERAGE, t, 2, &best, NULL) == FN_ERR_ARG, "tune: 1 face accepted");
}

/* Average linkage's reach (FN_CLUSTER_AVERAGE_REACH), by hand: four faces
 * on a great circle, chords 0.3, 0.3 and 0.6 between neighbours, so
 * |f0 f2| = 0.593, |f1 f3| = 0.879, |f0 f3| = 1.139.  f0, f1, f2 merge
 * (0.3, then a mean of 0.447); f3's mean distance to them is
 * (1.139 + 0.879 + 0.6) / 3 = 0.873.  At 0.95 the search reaches 1.15 and
 * f3 joins.  At 0.90 it reaches 1.10: the pair f0 f3 counts as 2, the mean
 * is 1.160 and f3 stays alone, where a search without the reach would have
 * merged all four. */
static void test_reach(void)
{
    static float x[4 * D];
    memset(x, 0, sizeof x);
    double steps[3] = {0.3, 0.3, 0.6}, ang = 0;
    x[0] = 1;
    for (int i = 1; i < 4; i++) {
        ang += 2 * asin(steps[i - 1] / 2);   /* a chord c spans the angle 2 asin(c / 2) */
        x[i * D + 0] = (float)cos(ang);
        x[i * D + 1] = (float)sin(ang);
    }
    fn_cluster_params p;
    fn_cluster_params_init(&p);
    p.method = FN_CLUSTER_AVERAGE;
    p.average_limit_ratio = 1;   /* plain UPGMA: the reach is threshold + 0.2 */
    int labels[4], ng = 0;
    p.threshold = 0.95f;
    T_CHECK(fn_cluster(x, 4, D, NULL, &p, labels, &ng) == FN_OK && ng == 1, "reach at 0.95: %d groups, want 1", ng);
    p.threshold = 0.90f;
    T_CHECK(fn_cluster(x, 4, D, NULL, &p, labels, &ng) == FN_OK && ng == 2 && labels[0] == 0 && labels[1] == 0 &&
                labels[2] == 0 && labels[3] == 1,
            "reach at 0.90: %d groups (%d %d %d %d), want {f0 f1 f2} {f3}", ng, labels[0], labels[1], labels[2],
            labels[3]);
}

/* Average linkage's limit growing with the pairs behind a mean, by hand:
 * a+- = (x, +-w, y, 0), b+- = (x, 0, -y, +-w) with w = 0.25, so each pair is
 * 0.5 apart and every a-b pair sqrt(2 - 2 (x^2 - y^2)) = 0.94 (x^2 + y^2 =
 * 0.9375, x^2 - y^2 = 0.5582).  At threshold 0.90, ratio 10/9 (limit 1.00):
 * two single faces at 0.94 stay apart (limit 0.90); a face and a pair too
 * (mean 0.94 > 1 - 0.1 / sqrt(2) = 0.9293); two pairs merge (mean 0.94 <=
 * 1 - 0.1 / 2 = 0.95).  Plain UPGMA (ratio 1) keeps the two pairs apart. */
static void test_limit(void)
{
    static float x[4 * D];
    memset(x, 0, sizeof x);
    double xx = sqrt((0.9375 + 0.5582) / 2), yy = sqrt((0.9375 - 0.5582) / 2);
    float v[4][4] = {{(float)xx, 0.25f, (float)yy, 0}, {(float)xx, -0.25f, (float)yy, 0},
                     {(float)xx, 0, (float)-yy, 0.25f}, {(float)xx, 0, (float)-yy, -0.25f}};
    for (int i = 0; i < 4; i++) memcpy(x + i * D, v[i], sizeof v[i]);
    fn_cluster_params p;
    fn_cluster_params_init(&p);
    p.method = FN_CLUSTER_AVERAGE;
    p.threshold = 0.90f;
    p.average_limit_ratio = 1.0f / 0.9f;
    int labels[4], ng = 0;
    float y[2 * D];
    memcpy(y, x, D * sizeof *y);
    memcpy(y + D, x + 2 * D, D * sizeof *y);
    T_CHECK(fn_cluster(y, 2, D, NULL, &p, labels, &ng) == FN_OK && ng == 2, "limit, two faces at 0.94: %d groups, want 2",
            ng);
    T_CHECK(fn_cluster(x + D, 3, D, NULL, &p, labels, &ng) == FN_OK && ng == 2 && labels[1] == labels[2],
            "limit, a face and a pair at 0.94: %d groups, want 2", ng);
    T_CHECK(fn_cluster(x, 4, D, NULL, &p, labels, &ng) == FN_OK && ng == 1, "limit, two pairs at 0.94: %d groups, want 1",
            ng);
    p.average_limit_ratio = 1;
    T_CHECK(fn_cluster(x, 4, D, NULL, &p, labels, &ng) == FN_OK && ng == 2 && labels[0] == labels[1] &&
                labels[2] == labels[3],
            "plain UPGMA, two pairs at 0.94: %d groups, want 2", ng);
    p.average_limit_ratio = 2.5f;
    T_CHECK(fn_cluster(x, 4, D, NULL, &p, labels, &ng) == FN_ERR_ARG && strstr(fn_last_error(), "2.5"),
            "limit ratio 2.5 accepted (%s)", fn_last_error());
}

int main(void)
{
    test_limit();
    test_reach();
    test_scores();
    test_knn();
    test_methods();
    test_extend();
    test_tune();
    return T_DONE();
}
