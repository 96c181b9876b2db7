/* OpenCV's groupRectangles(rects, groupThreshold, eps) without weights:
 * cluster by the SimilarRects predicate, average each cluster, drop clusters
 * with too few members and small clusters inside bigger, stronger ones. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/arena.h"
#include "detect/haar_internal.h"

static int similar(const fn_rect *a, const fn_rect *b, double eps)
{
    int mw = a->w < b->w ? a->w : b->w, mh = a->h < b->h ? a->h : b->h;
    double delta = eps * (mw + mh) * 0.5;
    return abs(a->x - b->x) <= delta && abs(a->y - b->y) <= delta &&
           abs(a->x + a->w - b->x - b->w) <= delta && abs(a->y + a->h - b->y - b->h) <= delta;
}

static int find_root(int *parent, int i)
{
    int r = i;
    while (parent[r] != r) r = parent[r];
    while (parent[i] != r) { int nx = parent[i]; parent[i] = r; i = nx; }
    return r;
}

size_t fn_haar_group_work_bytes(int n)
{
    size_t m = n > 0 ? (size_t)n : 1;
    return fn_arena_round(3 * m * sizeof(int)) + fn_arena_round(4 * m * sizeof(int64_t)) +
           fn_arena_round(m * sizeof(fn_rect));
}

/* Labels rects by connected component of the similarity graph; classes are
 * numbered in order of their first member, as cv::partition does. */
static int partition(const fn_rect *r, int n, double eps, int *parent, int *label)
{
    for (int i = 0; i < n; i++) parent[i] = i;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (similar(&r[i], &r[j], eps)) {
                int a = find_root(parent, i), b = find_root(parent, j);
                if (a != b) parent[a > b ? a : b] = a < b ? a : b;
            }
    int nclasses = 0;
    for (int i = 0; i < n; i++) label[i] = -1;
    for (int i = 0; i < n; i++) {
        int root = find_root(parent, i);
        if (label[root] < 0) label[root] = nclasses++;
        label[i] = label[root];
    }
    return nclasses;
}

/* Is cluster i a small one inside a bigger cluster that outvotes it? */
static int swallowed(const fn_rect *r1, int n1, const fn_rect *cls, const int *cnt, int ncls, int self,
                     int thr, double eps)
{
    for (int j = 0; j < ncls; j++) {
        int n2 = cnt[j];
        if (j == self || n2 <= thr) continue;
        const fn_rect *r2 = &cls[j];
        int dx = (int)lrint(r2->w * eps), dy = (int)lrint(r2->h * eps);
        int big = n1 > 3 ? n1 : 3;
        if (r1->x >= r2->x - dx && r1->y >= r2->y - dy && r1->x + r1->w <= r2->x + r2->w + dx &&
            r1->y + r1->h <= r2->y + r2->h + dy && (n2 > big || n1 < 3))
            return 1;
    }
    return 0;
}

int fn_haar_group_rects(fn_rect *r, int n, int group_threshold, double eps, void *work)
{
    if (group_threshold <= 0 || n <= 0) return n;   /* OpenCV leaves them ungrouped */
    char *w = work;
    int *parent = (int *)w, *label = parent + n, *cnt = label + n;
    int64_t *sum = (int64_t *)(w + fn_arena_round(3 * (size_t)n * sizeof(int)));
    fn_rect *cls = (fn_rect *)((char *)sum + fn_arena_round(4 * (size_t)n * sizeof(int64_t)));

    int ncls = partition(r, n, eps, parent, label);
    for (int c = 0; c < ncls; c++) { cnt[c] = 0; sum[4 * c] = sum[4 * c + 1] = sum[4 * c + 2] = sum[4 * c + 3] = 0; }
    for (int i = 0; i < n; i++) {
        int64_t *s = &sum[4 * label[i]];
        s[0] += r[i].x; s[1] += r[i].y; s[2] += r[i].w; s[3] += r[i].h;
        cnt[label[i]]++;
    }
    for (int c = 0; c < ncls; c++) {
        /* OpenCV: float s = 1.f/n; saturate_cast<int>(sum*s), i.e. float maths, round half to even. */
        float s = 1.0f / (float)cnt[c];
        cls[c].x = (int)lrintf((float)sum[4 * c] * s);
        cls[c].y = (int)lrintf((float)sum[4 * c + 1] * s);
        cls[c].w = (int)lrintf((float)sum[4 * c + 2] * s);
        cls[c].h = (int)lrintf((float)sum[4 * c + 3] * s);
    }
    int out = 0;
    for (int c = 0; c < ncls; c++) {
        if (cnt[c] <= group_threshold) continue;
        if (swallowed(&cls[c], cnt[c], cls, cnt, ncls, c, group_threshold, eps)) continue;
        r[out++] = cls[c];
    }
    return out;
}
