/* Box arithmetic as facenet-pytorch does it: every expression keeps the
 * reference's float32 operation order (no FMA contraction in this file). */
#include "detect/mtcnn_boxes.h"

#include <math.h>
#include <stdlib.h>

typedef struct keyed { float score; int idx; } keyed;

static int by_score_desc_first(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    if (p->score != q->score) return p->score > q->score ? -1 : 1;
    return p->idx - q->idx;
}

static int by_score_desc_last(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    if (p->score != q->score) return p->score > q->score ? -1 : 1;
    return q->idx - p->idx;
}

/* order[] gets the visiting order; the (score, index) pairs sorted to get it
 * live just after it, so order holds 3n ints. */
static void sort_order(const mt_box *b, int n, int *order, int later_first)
{
    keyed *k = (keyed *)(order + n);
    for (int i = 0; i < n; i++) { k[i].score = b[i].score; k[i].idx = i; }
    qsort(k, (size_t)n, sizeof *k, later_first ? by_score_desc_last : by_score_desc_first);
    for (int i = 0; i < n; i++) order[i] = k[i].idx;
}

/* The kept boxes (order[] slots not marked -1), in visiting order. */
static int kept(int *order, int n, int *keep)
{
    int m = 0;
    for (int r = 0; r < n; r++) if (order[r] >= 0) keep[m++] = order[r];
    return m;
}

int fn_mt_nms_union(const mt_box *b, int n, double thr, int *keep, int *order)
{
    if (n <= 0) return 0;
    sort_order(b, n, order, 0);
    for (int a = 0; a < n; a++) {
        int i = order[a];
        if (i < 0) continue;
        float iarea = (b[i].x2 - b[i].x1) * (b[i].y2 - b[i].y1);
        for (int c = a + 1; c < n; c++) {
            int j = order[c];
            if (j < 0) continue;
            float xx1 = fmaxf(b[i].x1, b[j].x1), yy1 = fmaxf(b[i].y1, b[j].y1);
            float xx2 = fminf(b[i].x2, b[j].x2), yy2 = fminf(b[i].y2, b[j].y2);
            float w = fmaxf(0.0f, xx2 - xx1), h = fmaxf(0.0f, yy2 - yy1);
            float inter = w * h;
            float jarea = (b[j].x2 - b[j].x1) * (b[j].y2 - b[j].y1);
            float ovr = inter / (iarea + jarea - inter);
            if ((double)ovr > thr) order[c] = -1;
        }
    }
    return kept(order, n, keep);
}

int fn_mt_nms_min(const mt_box *b, int n, float thr, int *keep, int *order)
{
    if (n <= 0) return 0;
    sort_order(b, n, order, 1);
    for (int a = 0; a < n; a++) {
        int i = order[a];
        if (i < 0) continue;
        float iarea = (b[i].x2 - b[i].x1 + 1) * (b[i].y2 - b[i].y1 + 1);
        for (int c = a + 1; c < n; c++) {
            int j = order[c];
            if (j < 0) continue;
            float xx1 = fmaxf(b[i].x1, b[j].x1), yy1 = fmaxf(b[i].y1, b[j].y1);
            float xx2 = fminf(b[i].x2, b[j].x2), yy2 = fminf(b[i].y2, b[j].y2);
            float w = fmaxf(0.0f, xx2 - xx1 + 1), h = fmaxf(0.0f, yy2 - yy1 + 1);
            float jarea = (b[j].x2 - b[j].x1 + 1) * (b[j].y2 - b[j].y1 + 1);
            float o = w * h / fminf(iarea, jarea);
            if (!(o <= thr)) order[c] = -1;
        }
    }
    return kept(order, n, keep);
}

void fn_mt_regress_pnet(mt_box *b)
{
    float w = b->x2 - b->x1, h = b->y2 - b->y1;
    float x1 = b->x1 + b->reg[0] * w, y1 = b->y1 + b->reg[1] * h;
    float x2 = b->x2 + b->reg[2] * w, y2 = b->y2 + b->reg[3] * h;
    b->x1 = x1; b->y1 = y1; b->x2 = x2; b->y2 = y2;
}

void fn_mt_regress(mt_box *b)
{
    float w = b->x2 - b->x1 + 1, h = b->y2 - b->y1 + 1;
    float x1 = b->x1 + b->reg[0] * w, y1 = b->y1 + b->reg[1] * h;
    float x2 = b->x2 + b->reg[2] * w, y2 = b->y2 + b->reg[3] * h;
    b->x1 = x1; b->y1 = y1; b->x2 = x2; b->y2 = y2;
}

void fn_mt_square(mt_box *b)
{
    float h = b->y2 - b->y1, w = b->x2 - b->x1;
    float l = fmaxf(w, h);
    b->x1 = b->x1 + w * 0.5f - l * 0.5f;
    b->y1 = b->y1 + h * 0.5f - l * 0.5f;
    b->x2 = b->x1 + l;
    b->y2 = b->y1 + l;
}

/* trunc toward zero as torch's .trunc().int(), kept inside int range */
static int trunc_int(float v)
{
    if (!(v > -1e9f)) return -1000000000;   /* also NaN: lands outside the image */
    if (v > 1e9f) return 1000000000;
    return (int)v;
}

int fn_mt_crop_window(const mt_box *b, int w, int h, int *x0, int *y0, int *x1, int *y1)
{
    int x = trunc_int(b->x1), y = trunc_int(b->y1), ex = trunc_int(b->x2), ey = trunc_int(b->y2);
    if (x < 1) x = 1;
    if (y < 1) y = 1;
    if (ex > w) ex = w;
    if (ey > h) ey = h;
    *x0 = x - 1; *y0 = y - 1; *x1 = ex; *y1 = ey;
    return ey > y - 1 && ex > x - 1;
}

static int int_asc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int fn_mt_keep_top(mt_box *b, int n, int cap, int *order)
{
    if (n <= cap) return n;
    sort_order(b, n, order, 0);
    qsort(order, (size_t)cap, sizeof *order, int_asc);   /* back to their original order */
    for (int i = 0; i < cap; i++) b[i] = b[order[i]];     /* order[i] >= i: never overwrites a source */
    return cap;
}
