/* cluster.c — fn_cluster: the kNN graph, Chinese whispers, DBSCAN, the
 * attachment of low-quality faces, and group numbering.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "core/error.h"

const char *fn_cluster_method_name(fn_cluster_method m)
{
    switch (m) {
    case FN_CLUSTER_WHISPERS: return "whispers";
    case FN_CLUSTER_DBSCAN: return "dbscan";
    case FN_CLUSTER_AVERAGE: return "average";
    }
    return "?";
}

fn_status fn_cluster_method_parse(const char *s, fn_cluster_method *m)
{
    for (int i = 0; i <= FN_CLUSTER_AVERAGE; i++)
        if (s && !strcmp(s, fn_cluster_method_name((fn_cluster_method)i))) {
            *m = (fn_cluster_method)i;
            return FN_OK;
        }
    return fn_fail(FN_ERR_ARG, "clustering method '%s' is none of whispers, dbscan, average", s ? s : "(null)");
}

/* MobileFaceNet: verification threshold 1.09 (LFW DevTrain), clustering 0.90. */
float fn_cluster_default_threshold(float verify_threshold)
{
    return verify_threshold * (FN_CLUSTER_DEFAULT_THRESHOLD / 1.09f);
}

void fn_cluster_params_init(fn_cluster_params *p)
{
    memset(p, 0, sizeof *p);
    p->method = FN_CLUSTER_DEFAULT_METHOD;
    p->threshold = FN_CLUSTER_DEFAULT_THRESHOLD;
    p->average_limit_ratio = FN_CLUSTER_AVERAGE_LIMIT_RATIO;
    p->seed = 1;
}

/* ---- the graph ---- */

typedef struct edge { int32_t a, b; float d; } edge;

static int edge_cmp(const void *x, const void *y)
{
    const edge *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return 0;
}

fn_status fn_cgraph_build(int n, int k, const int32_t *knn_idx, const float *knn_dist, float max_dist,
                          const unsigned char *seed_ok, fn_cgraph *g)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    size_t cap = (size_t)n * k * 2, m = 0;
    edge *e = malloc((cap ? cap : 1) * sizeof *e);
    g->start = calloc((size_t)n + 1, sizeof *g->start);
    if (!e || !g->start) {
        free(e);
        fn_cgraph_free(g);
        return fn_fail(FN_ERR_NOMEM, "cluster: out of memory for a graph of %d faces", n);
    }
    for (int i = 0; i < n; i++) {
        if (seed_ok && !seed_ok[i]) continue;
        for (int j = 0; j < k; j++) {
            int32_t t = knn_idx[(size_t)i * k + j];
            float d = knn_dist[(size_t)i * k + j];
            if (t < 0 || d > max_dist || (seed_ok && !seed_ok[t])) continue;
            e[m++] = (edge){i, t, d};
            e[m++] = (edge){t, i, d};
        }
    }
    qsort(e, m, sizeof *e, edge_cmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || e[i].a != e[u - 1].a || e[i].b != e[u - 1].b) e[u++] = e[i];
    g->nbr = malloc((u ? u : 1) * sizeof *g->nbr);
    g->dist = malloc((u ? u : 1) * sizeof *g->dist);
    if (!g->nbr || !g->dist) {
        free(e);
        fn_cgraph_free(g);
        return fn_fail(FN_ERR_NOMEM, "cluster: out of memory for %zu graph edges", u);
    }
    for (size_t i = 0; i < u; i++) {
        g->start[e[i].a + 1]++;
        g->nbr[i] = e[i].b;
        g->dist[i] = e[i].d;
    }
    for (int i = 0; i < n; i++) g->start[i + 1] += g->start[i];
    free(e);
    return FN_OK;
}

void fn_cgraph_free(fn_cgraph *g)
{
    free(g->start);
    free(g->nbr);
    free(g->dist);
    memset(g, 0, sizeof *g);
}

/* ---- Chinese whispers ---- */

static uint64_t next_random(uint64_t *s)
{
    /* xorshift64* (Vigna 2016) */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* dlib's chinese_whispers: n x iterations steps, each a random node taking
 * the label with the most edge weight among its neighbours and itself (the
 * face example's graph has self edges), ties to the smallest label. */
static fn_status whispers(const fn_cgraph *g, const unsigned char *seed_ok, int iterations, uint64_t seed, int *labels)
{
    int n = g->n;
    int64_t maxdeg = 0;
    for (int i = 0; i < n; i++) {
        labels[i] = i;
        if (g->start[i + 1] - g->start[i] > maxdeg) maxdeg = g->start[i + 1] - g->start[i];
    }
    int *lab = malloc((size_t)(maxdeg + 1) * sizeof *lab);
    int *cnt = malloc((size_t)(maxdeg + 1) * sizeof *cnt);
    if (!lab || !cnt) {
        free(lab);
        free(cnt);
        return fn_fail(FN_ERR_NOMEM, "cluster: out of memory");
    }
    uint64_t rs = seed ? seed : 0x9E3779B97F4A7C15ULL;
    int64_t steps = (int64_t)n * iterations;
    for (int64_t s = 0; s < steps && n > 0; s++) {
        int i = (int)(next_random(&rs) % (uint64_t)n);
        if (seed_ok && !seed_ok[i]) continue;
        int m = 0;
        lab[m] = labels[i];
        cnt[m++] = 1;
        for (int64_t e = g->start[i]; e < g->start[i + 1]; e++) {
            int l = labels[g->nbr[e]], f = 0;
            for (int q = 0; q < m; q++)
                if (lab[q] == l) {
                    cnt[q]++;
                    f = 1;
                    break;
                }
            if (!f) {
                lab[m] = l;
                cnt[m++] = 1;
            }
        }
        int best = 0;
        for (int q = 1; q < m; q++)
            if (cnt[q] > cnt[best] || (cnt[q] == cnt[best] && lab[q] < lab[best])) best = q;
        labels[i] = lab[best];
    }
    free(lab);
    free(cnt);
    return FN_OK;
}

/* ---- DBSCAN ---- */

static fn_status dbscan(const fn_cgraph *g, const unsigned char *seed_ok, int min_points, int *labels)
{
    int n = g->n, next = 0;
    int *queue = malloc((size_t)(n ? n : 1) * sizeof *queue);
    if (!queue) return fn_fail(FN_ERR_NOMEM, "cluster: out of memory");
    for (int i = 0; i < n; i++) labels[i] = -1;
#define CORE(i) (g->start[(i) + 1] - g->start[(i)] + 1 >= min_points)
    for (int i = 0; i < n; i++) {
        if (labels[i] >= 0 || (seed_ok && !seed_ok[i]) || !CORE(i)) continue;
        int c = next++, qh = 0, qt = 0;
        labels[i] = c;
        queue[qt++] = i;
        while (qh < qt) {
            int p = queue[qh++];
            if (!CORE(p)) continue;   /* a border point joins but does not extend */
            for (int64_t e = g->start[p]; e < g->start[p + 1]; e++) {
                int q = g->nbr[e];
                if (labels[q] >= 0) continue;
                labels[q] = c;
                queue[qt++] = q;
            }
        }
    }
#undef CORE
    free(queue);
    return FN_OK;
}

/* ---- after a method ---- */

/* A non-seeding face takes the group of its nearest seeding neighbour within attach. */
static void attach(int n, int k, const int32_t *idx, const float *dist, const unsigned char *seed_ok, float attach_d,
                   int *labels)
{
    for (int i = 0; i < n; i++) {
        if (seed_ok[i]) continue;
        labels[i] = -1;
        for (int j = 0; j < k; j++) {
            int32_t t = idx[(size_t)i * k + j];
            if (t < 0 || dist[(size_t)i * k + j] > attach_d) break;
            if (seed_ok[t] && labels[t] >= 0) {
                labels[i] = labels[t];
                break;
            }
        }
    }
}

/* Groups numbered 0.. in order of their first face; -1 stays. */
static fn_status renumber(int n, int *labels, int *n_groups)
{
    int *map = malloc((size_t)(n ? n : 1) * sizeof *map);
    if (!map) return fn_fail(FN_ERR_NOMEM, "cluster: out of memory");
    for (int i = 0; i < n; i++) map[i] = -1;
    int next = 0;
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0) continue;
        if (map[labels[i]] < 0) map[labels[i]] = next++;
        labels[i] = map[labels[i]];
    }
    free(map);
    if (n_groups) *n_groups = next;
    return FN_OK;
}

fn_status fn_cluster(const float *x, int n, int d, const unsigned char *seed_ok, const fn_cluster_params *pin,
                     int *labels, int *n_groups)
{
    fn_cluster_params p;
    if (pin) p = *pin;
    else fn_cluster_params_init(&p);
    if (n_groups) *n_groups = 0;
    if (n < 0 || d < 1 || (n > 0 && (!x || !labels)))
        return fn_fail(FN_ERR_ARG, "cluster: bad arguments (%d faces of %d floats)", n, d);
    if (p.method < FN_CLUSTER_WHISPERS || p.method > FN_CLUSTER_AVERAGE)
        return fn_fail(FN_ERR_ARG, "cluster: unknown method %d", (int)p.method);
    if (!(p.threshold > 0 && p.threshold <= 2))
        return fn_fail(FN_ERR_ARG, "cluster: threshold %g is outside (0, 2] (a Euclidean distance of unit vectors)",
                       (double)p.threshold);
    if (p.k < 0 || p.iterations < 0 || p.min_points < 0 || p.attach_threshold < 0 || p.attach_threshold > 2)
        return fn_fail(FN_ERR_ARG, "cluster: a negative k, iterations or min_points, or an attach threshold "
                                   "outside [0, 2]");
    if (!(p.average_limit_ratio == 0 || (p.average_limit_ratio >= 1 && p.average_limit_ratio <= 2)))
        return fn_fail(FN_ERR_ARG, "cluster: average limit ratio %g is neither 0 nor in [1, 2]",
                       (double)p.average_limit_ratio);
    if (n == 0) return FN_OK;
    int k = p.k ? p.k : 64;
    if (p.method == FN_CLUSTER_AVERAGE && k < 256) k = 256;
    if (k > n - 1) k = n - 1 > 0 ? n - 1 : 1;
    int iterations = p.iterations ? p.iterations : 100;
    int min_points = p.min_points ? p.min_points : 2;
    float attach_d = p.attach_threshold > 0 ? p.attach_threshold : p.threshold;
    float search_max = fmaxf(p.method == FN_CLUSTER_AVERAGE ? fminf(2.0f, p.threshold + FN_CLUSTER_AVERAGE_REACH) : p.threshold,
                             attach_d);
    int32_t *idx = malloc((size_t)n * k * sizeof *idx);
    float *dist = malloc((size_t)n * k * sizeof *dist);
    if (!idx || !dist) {
        free(idx);
        free(dist);
        return fn_fail(FN_ERR_NOMEM, "cluster: out of memory for the neighbours of %d faces", n);
    }
    fn_status s = (p.knn ? p.knn : fn_knn_exact)(p.knn_user, x, n, d, k, search_max, idx, dist);
    if (s == FN_OK && p.method == FN_CLUSTER_AVERAGE) {
        s = fn_cluster_average(n, k, idx, dist, seed_ok, p.threshold, p.average_limit_ratio, labels);
    } else if (s == FN_OK) {
        fn_cgraph g;
        s = fn_cgraph_build(n, k, idx, dist, p.threshold, seed_ok, &g);
        if (s == FN_OK)
            s = p.method == FN_CLUSTER_WHISPERS ? whispers(&g, seed_ok, iterations, p.seed, labels)
                                                : dbscan(&g, seed_ok, min_points, labels);
        fn_cgraph_free(&g);
    }
    if (s == FN_OK && seed_ok) attach(n, k, idx, dist, seed_ok, attach_d, labels);
    free(idx);
    free(dist);
    return s == FN_OK ? renumber(n, labels, n_groups) : s;
}
