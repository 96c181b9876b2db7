/* average.c — agglomerative clustering with average linkage (UPGMA) on a
 * kNN graph: repeatedly merge the two groups whose mean pairwise distance
 * is furthest below their merge limit while one is at or below it.  The
 * limit is the threshold for two single faces and grows with the pairs
 * behind the mean (fn_cluster_average_limit); with a ratio of 1 it is the
 * threshold for all, the order is by mean, and this is plain UPGMA.  Pairs outside the graph count
 * as distance 2 (the largest between unit vectors), so a merge the graph
 * cannot justify never happens.  A heap of candidate pairs with lazy
 * deletion (a version per group); a merge folds the smaller group's links
 * into the larger's, and other groups' links to a merged group are resolved
 * through a union-find when next read.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "core/error.h"

#define FAR 2.0   /* the distance of a pair the graph does not hold */

typedef struct link { int other; int cnt; double sum; } link;
typedef struct links { link *v; int n, cap; } links;
typedef struct cand { double key; int a, b; unsigned va, vb; } cand;   /* key: mean - limit */

typedef struct agg {
    links *adj;
    int *pos;           /* pos[c]: c's index in the list being merged into, -1 otherwise */
    int *size, *parent;
    unsigned *ver;
    cand *heap;
    size_t nh, caph;
    double threshold, ratio;
} agg;

static int cand_less(const cand *x, const cand *y)
{
    if (x->key != y->key) return x->key < y->key;
    int xa = x->a < x->b ? x->a : x->b, ya = y->a < y->b ? y->a : y->b;
    if (xa != ya) return xa < ya;
    int xb = x->a < x->b ? x->b : x->a, yb = y->a < y->b ? y->b : y->a;
    return xb < yb;
}

static int push(agg *g, cand c)
{
    if (g->nh == g->caph) {
        size_t cap = g->caph ? 2 * g->caph : 1024;
        cand *p = realloc(g->heap, cap * sizeof *p);
        if (!p) return -1;
        g->heap = p;
        g->caph = cap;
    }
    size_t i = g->nh++;
    g->heap[i] = c;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&g->heap[i], &g->heap[p])) break;
        cand t = g->heap[i]; g->heap[i] = g->heap[p]; g->heap[p] = t;
        i = p;
    }
    return 0;
}

static cand pop(agg *g)
{
    cand top = g->heap[0];
    g->heap[0] = g->heap[--g->nh];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->nh && cand_less(&g->heap[l], &g->heap[m])) m = l;
        if (r < g->nh && cand_less(&g->heap[r], &g->heap[m])) m = r;
        if (m == i) break;
        cand t = g->heap[i]; g->heap[i] = g->heap[m]; g->heap[m] = t;
        i = m;
    }
    return top;
}

static int append(links *l, int other, int cnt, double sum)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        link *p = realloc(l->v, (size_t)cap * sizeof *p);
        if (!p) return -1;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = (link){other, cnt, sum};
    return 0;
}

static double mean(const agg *g, int a, const link *k)
{
    double pairs = (double)g->size[a] * g->size[k->other];
    return (k->sum + (pairs - k->cnt) * FAR) / pairs;
}

static int root(int *parent, int i)
{
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

/* Fold group `gone` into `keep` and queue keep's new pair means.  keep's
 * new list is both lists with every link's other end resolved to its
 * group's root and links to one root added up (a link's count and sum are
 * additive over the groups merged since it was written); the other groups'
 * lists are not touched: their links to gone resolve to keep when they are
 * next read.  O(|keep's list| + |gone's list|) a merge. */
static int merge(agg *g, int keep, int gone)
{
    links *lk = &g->adj[keep], *lg = &g->adj[gone];
    g->parent[gone] = keep;
    links out = {malloc((size_t)(lk->n + lg->n + 1) * sizeof *out.v), 0, lk->n + lg->n + 1};
    if (!out.v) return -1;
    const links *both[2] = {lk, lg};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < both[l]->n; i++) {
            link k = both[l]->v[i];
            int r = root(g->parent, k.other);
            if (r == keep) continue;   /* a pair inside the merged group */
            int at = g->pos[r];
            if (at >= 0) {
                out.v[at].cnt += k.cnt;
                out.v[at].sum += k.sum;
            } else {
                g->pos[r] = out.n;
                out.v[out.n++] = (link){r, k.cnt, k.sum};
            }
        }
    for (int i = 0; i < out.n; i++) g->pos[out.v[i].other] = -1;
    free(lk->v);
    free(lg->v);
    *lk = out;
    memset(lg, 0, sizeof *lg);
    g->size[keep] += g->size[gone];
    g->size[gone] = 0;
    g->ver[keep]++;
    g->ver[gone]++;
    /* a pair over its limit can only change by another merge, which queues it again */
    for (int i = 0; i < lk->n; i++) {
        const link *k = &lk->v[i];
        double key = mean(g, keep, k) - fn_cluster_average_limit(g->threshold, g->ratio, g->size[keep], g->size[k->other]);
        if (key <= 0 && push(g, (cand){key, keep, k->other, g->ver[keep], g->ver[k->other]})) return -1;
    }
    return 0;
}

fn_status fn_cluster_average(int n, int k, const int32_t *knn_idx, const float *knn_dist, const unsigned char *seed_ok,
                             float threshold, float limit_ratio, int *labels)
{
    fn_cgraph gr;
    FN_TRY(fn_cgraph_build(n, k, knn_idx, knn_dist, (float)FAR, seed_ok, &gr));
    agg g = {0};
    g.threshold = threshold;
    g.ratio = limit_ratio;
    g.adj = calloc((size_t)n, sizeof *g.adj);
    g.size = malloc((size_t)n * sizeof *g.size);
    g.parent = malloc((size_t)n * sizeof *g.parent);
    g.ver = calloc((size_t)n, sizeof *g.ver);
    g.pos = malloc((size_t)n * sizeof *g.pos);
    int bad = !g.adj || !g.size || !g.parent || !g.ver || !g.pos;
    for (int i = 0; !bad && i < n; i++) g.pos[i] = -1;
    for (int i = 0; !bad && i < n; i++) {
        g.size[i] = 1;
        g.parent[i] = i;
        for (int64_t e = gr.start[i]; !bad && e < gr.start[i + 1]; e++) {
            bad = append(&g.adj[i], gr.nbr[e], 1, gr.dist[e]) != 0;   /* the graph's rows hold each pair once */
            if (!bad && i < gr.nbr[e] && gr.dist[e] <= threshold)   /* two single faces: the limit is the threshold */
                bad = push(&g, (cand){gr.dist[e] - threshold, i, gr.nbr[e], 0, 0}) != 0;
        }
    }
    fn_cgraph_free(&gr);
    while (!bad && g.nh > 0) {
        cand c = pop(&g);
        if (!g.size[c.a] || !g.size[c.b] || g.ver[c.a] != c.va || g.ver[c.b] != c.vb) continue;
        if (c.key > 0) break;
        int keep = c.a, gone = c.b;
        if (g.size[gone] > g.size[keep] || (g.size[gone] == g.size[keep] && gone < keep)) {
            keep = c.b;
            gone = c.a;
        }
        bad = merge(&g, keep, gone) != 0;
    }
    for (int i = 0; !bad && i < n; i++) labels[i] = seed_ok && !seed_ok[i] ? -1 : root(g.parent, i);
    for (int i = 0; g.adj && i < n; i++) free(g.adj[i].v);
    free(g.adj);
    free(g.size);
    free(g.parent);
    free(g.ver);
    free(g.pos);
    free(g.heap);
    return bad ? fn_fail(FN_ERR_NOMEM, "cluster: out of memory merging %d faces", n) : FN_OK;
}
