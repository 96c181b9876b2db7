/* The search index.  Scores are cosines of L2-normalised vectors; they are
 * turned into Euclidean distances, sqrt(max(0, 2 - 2 cos)), only at the end.
 * Ordering everywhere is (higher cosine, then lower image id), a total order,
 * so results do not depend on row order, block size or thread count. */
#include "gallery/index.h"
#include "core/arena.h"
#include "core/error.h"

#include "nn/mathlib.h"   /* OpenBLAS through the table (the reference BLAS without it) */
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

/* The matrix is the one big allocation: on huge pages, first touch costs
 * 512x fewer page faults (loading 1M rows faulted ~250k 4 KiB pages, the
 * bulk of the open time on a VM) and a scan misses the TLB less. */
static float *alloc_rows(size_t bytes)
{
    if (bytes < 2 * HUGE_PAGE) return fn_aligned_alloc(bytes);
    void *p = NULL;
    bytes = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);   /* advice only: failure just means small pages */
#endif
    return p;
}

fn_status fn_gindex_init(fn_gindex *x, int dim)
{
    memset(x, 0, sizeof *x);
    if (dim <= 0 || dim > 65536) return fn_fail(FN_ERR_ARG, "embedding dimension %d is out of range (1..65536)", dim);
    x->dim = dim;
    return FN_OK;
}

void fn_gindex_release(fn_gindex *x)
{
    fn_gann_free(x->ann);
    fn_aligned_free(x->vec);
    free(x->image_id);
    free(x->person_id);
    int dim = x->dim;
    memset(x, 0, sizeof *x);
    x->dim = dim;
}

fn_status fn_gindex_reserve(fn_gindex *x, size_t cap)
{
    if (cap <= x->cap) return FN_OK;
    if (cap > SIZE_MAX / sizeof(float) / (size_t)x->dim)
        return fn_fail(FN_ERR_LIMIT, "gallery index: %zu rows of %d floats do not fit in memory", cap, x->dim);
    float *v = alloc_rows(cap * (size_t)x->dim * sizeof(float));
    int64_t *img = malloc(cap * sizeof *img), *per = malloc(cap * sizeof *per);
    if (!v || !img || !per) {
        fn_aligned_free(v); free(img); free(per);
        return fn_fail(FN_ERR_NOMEM, "gallery index: cannot allocate %zu rows of %d floats (%.1f MiB)",
                       cap, x->dim, (double)cap * x->dim * 4 / 1048576.0);
    }
    if (x->n) {
        memcpy(v, x->vec, x->n * (size_t)x->dim * sizeof(float));
        memcpy(img, x->image_id, x->n * sizeof *img);
        memcpy(per, x->person_id, x->n * sizeof *per);
    }
    fn_aligned_free(x->vec); free(x->image_id); free(x->person_id);
    x->vec = v; x->image_id = img; x->person_id = per; x->cap = cap;
    return FN_OK;
}

int fn_l2_normalize_checked(float *v, int n)
{
    double ss = 0;   /* double: a 512-d sum of squares loses nothing, and a huge entry cannot overflow */
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i])) return 0;
        ss += (double)v[i] * v[i];
    }
    if (!(ss > 0) || !isfinite(ss)) return 0;
    fn_l2_normalize(v, 1, n);   /* the library's one normalisation */
    return 1;
}

fn_status fn_gindex_make_room(fn_gindex *x)
{
    /* doubling: n appends cost O(n) copies, not O(n^2) */
    return x->n < x->cap ? FN_OK : fn_gindex_reserve(x, x->cap ? x->cap * 2 : 256);
}

fn_status fn_gindex_append(fn_gindex *x, int64_t image_id, int64_t person_id, const float *v)
{
    FN_TRY(fn_gindex_make_room(x));
    float *row = x->vec + x->n * (size_t)x->dim;
    memcpy(row, v, (size_t)x->dim * sizeof(float));
    if (!fn_l2_normalize_checked(row, x->dim))
        return fn_fail(FN_ERR_ARG, "embedding of image %lld is zero or has a non-finite value", (long long)image_id);
    if (x->n && image_id <= x->image_id[x->n - 1]) x->unsorted = 1;
    x->image_id[x->n] = image_id;
    x->person_id[x->n] = person_id;
    x->n++;
    /* the ANN index is a cache: when it cannot follow, searches scan exactly */
    if (x->ann && (x->unsorted || fn_gann_add_row(x->ann, x, x->n - 1) != FN_OK)) {
        fn_gann_free(x->ann);
        x->ann = NULL;
    }
    return FN_OK;
}

size_t fn_gindex_remove_person(fn_gindex *x, int64_t person_id)
{
    size_t w = 0, d = (size_t)x->dim;
    for (size_t r = 0; r < x->n; r++) {
        if (x->person_id[r] == person_id) {
            /* HNSW keeps the vector (search skips ids without a row); reconciling drops it from IVF */
            if (x->ann) x->ann->dead++, x->ann->dirty = 1;
            continue;
        }
        if (w != r) {
            memcpy(x->vec + w * d, x->vec + r * d, d * sizeof(float));
            x->image_id[w] = x->image_id[r];
            x->person_id[w] = x->person_id[r];
        }
        w++;
    }
    size_t removed = x->n - w;
    x->n = w;
    return removed;
}

void fn_gindex_clear(fn_gindex *x) { x->n = 0; }

fn_status fn_gscratch_new(int dim, int max_queries, fn_gallery_scratch **out)
{
    *out = NULL;
    if (dim <= 0 || max_queries <= 0 || max_queries > FN_GINDEX_MAX_QUERIES)
        return fn_fail(FN_ERR_ARG, "search scratch: max_queries %d is out of range (1..%d)", max_queries,
                       FN_GINDEX_MAX_QUERIES);
    fn_gallery_scratch *s = calloc(1, sizeof *s);
    if (!s) return fn_fail(FN_ERR_NOMEM, "search scratch: out of memory");
    s->dim = dim;
    s->max_queries = max_queries;
    s->queries = fn_aligned_alloc((size_t)max_queries * dim * sizeof(float));
    s->scores = fn_aligned_alloc((size_t)max_queries * FN_GINDEX_BLOCK * sizeof(float));
    size_t nc = (size_t)max_queries * FN_GANN_CAND + FN_GANN_MAX_CAND;
    s->cand = malloc(nc * sizeof *s->cand);
    s->cand_sc = malloc(nc * sizeof *s->cand_sc);
    if (!s->queries || !s->scores || !s->cand || !s->cand_sc) {
        fn_gallery_scratch_free(s);
        return fn_fail(FN_ERR_NOMEM, "search scratch: cannot allocate for %d queries of dim %d", max_queries, dim);
    }
    *out = s;
    return FN_OK;
}

void fn_gallery_scratch_free(fn_gallery_scratch *s)
{
    if (!s) return;
    fn_aligned_free(s->queries);
    fn_aligned_free(s->scores);
    free(s->cand);
    free(s->cand_sc);
    free(s);
}

/* ---- selection ---- */

/* While scanning, a hit's distance field holds the cosine; finish() converts. */
static int better(float sa, int64_t ia, float sb, int64_t ib) { return sa > sb || (sa == sb && ia < ib); }
static int hit_better(const fn_gallery_hit *a, const fn_gallery_hit *b)
{
    return better(a->distance, a->image_id, b->distance, b->image_id);
}

static const fn_gallery_hit NO_HIT = {-1, -1, -INFINITY};

/* Per-query state: a heap of the k best rows whose root is the worst kept,
 * and the running best two people. */
typedef struct qstate {
    fn_gallery_hit *heap;   /* k slots in the caller's topk array, or NULL */
    int k, used;
    fn_gallery_hit best, second;
} qstate;

static void heap_sift_down(fn_gallery_hit *h, int n, int i)
{
    for (;;) {
        int w = i, l = 2 * i + 1, r = l + 1;
        if (l < n && hit_better(&h[w], &h[l])) w = l;   /* the worse child goes up */
        if (r < n && hit_better(&h[w], &h[r])) w = r;
        if (w == i) return;
        fn_gallery_hit t = h[i]; h[i] = h[w]; h[w] = t;
        i = w;
    }
}

static void heap_offer(qstate *q, const fn_gallery_hit *c)
{
    if (q->used < q->k) {
        int i = q->used++;
        q->heap[i] = *c;
        while (i > 0 && hit_better(&q->heap[(i - 1) / 2], &q->heap[i])) {
            int p = (i - 1) / 2;
            fn_gallery_hit t = q->heap[p]; q->heap[p] = q->heap[i]; q->heap[i] = t;
            i = p;
        }
    } else if (hit_better(c, &q->heap[0])) {
        q->heap[0] = *c;
        heap_sift_down(q->heap, q->k, 0);
    }
}

/* Best two distinct people, streaming: best is the best row seen; second is
 * the best row of anyone else.  When a new person overtakes best, the old
 * best (which beats everything else seen) becomes second. */
static void people_offer(qstate *q, const fn_gallery_hit *c)
{
    if (c->person_id == q->best.person_id) {
        if (hit_better(c, &q->best)) q->best = *c;
    } else if (hit_better(c, &q->best)) {
        q->second = q->best;
        q->best = *c;
    } else if (hit_better(c, &q->second)) {
        q->second = *c;
    }
}

static void scan_scores(qstate *q, const fn_gindex *x, size_t r0, size_t rn, const float *sc)
{
    for (size_t r = 0; r < rn; r++) {
        float s = sc[r];
        /* >= keeps ties for the id comparison; most rows fail both tests */
        int to_heap = q->k > 0 && (q->used < q->k || s >= q->heap[0].distance);
        if (!to_heap && s < q->second.distance) continue;
        fn_gallery_hit c = {x->image_id[r0 + r], x->person_id[r0 + r], s};
        if (to_heap) heap_offer(q, &c);
        if (s >= q->second.distance) people_offer(q, &c);
    }
}

static float to_distance(float cosine) { return cosine == -INFINITY ? INFINITY : sqrtf(fmaxf(0.0f, 2.0f - 2.0f * cosine)); }

static void finish(qstate *q, fn_gallery_match *m)
{
    if (q->k > 0) {
        for (int n = q->used; n > 1; n--) {   /* heapsort: the worst goes last */
            fn_gallery_hit t = q->heap[0]; q->heap[0] = q->heap[n - 1]; q->heap[n - 1] = t;
            heap_sift_down(q->heap, n - 1, 0);
        }
        for (int i = 0; i < q->k; i++) {
            if (i >= q->used) q->heap[i] = NO_HIT;
            q->heap[i].distance = to_distance(q->heap[i].distance);
        }
    }
    if (m) {
        memset(m, 0, sizeof *m);
        m->best = q->best;
        m->second = q->second;
        m->best.distance = to_distance(q->best.distance);
        m->second.distance = to_distance(q->second.distance);
    }
}

static void qstate_init(qstate *q, fn_gallery_hit *topk, int k)
{
    q->heap = topk;
    q->k = topk ? k : 0;
    q->used = 0;
    q->best = q->second = NO_HIT;
}

/* Copies a chunk of queries into scratch, normalised; rejects bad ones. */
static fn_status load_queries(fn_gallery_scratch *s, const float *q, int q0, int qn)
{
    size_t d = (size_t)s->dim;
    memcpy(s->queries, q + (size_t)q0 * d, (size_t)qn * d * sizeof(float));
    for (int i = 0; i < qn; i++)
        if (!fn_l2_normalize_checked(s->queries + i * d, s->dim))
            return fn_fail(FN_ERR_ARG, "query %d is zero or has a non-finite value", q0 + i);
    return FN_OK;
}

static fn_status check_args(const fn_gindex *x, const fn_gallery_scratch *s, const float *q, int nq, int k,
                            const fn_gallery_hit *topk)
{
    if (!s || !q || nq < 0 || k < 0) return fn_fail(FN_ERR_ARG, "search: scratch and queries are required, nq and k >= 0");
    if (s->dim != x->dim)
        return fn_fail(FN_ERR_ARG, "search: scratch was made for dim %d, the gallery has dim %d", s->dim, x->dim);
    if (topk && k == 0) return fn_fail(FN_ERR_ARG, "search: topk given with k = 0");
    if (x->n == 0) return fn_fail(FN_ERR_NOT_FOUND, "gallery is empty (no enrolled faces to search)");
    return FN_OK;
}

typedef void (*score_fn)(const fn_gindex *x, const float *queries, int qn, size_t r0, size_t rn, float *scores);

static void score_ref(const fn_gindex *x, const float *queries, int qn, size_t r0, size_t rn, float *scores);

/* Below this many multiply-adds a block is scored by the plain loop: opening
 * OpenBLAS on first use costs ~10 ms of CPU and a thread per core
 * (docs/performance.md, "Start-up"), more than a small gallery's whole
 * search, e.g. a one-photo `identify` against a family's 200 faces. */
#define FN_GINDEX_SMALL_MACS (1u << 16)

/* scores[i * rn + r] = <query i, row r0 + r> */
static void score_blas(const fn_gindex *x, const float *queries, int qn, size_t r0, size_t rn, float *scores)
{
    const float *rows = x->vec + r0 * (size_t)x->dim;
    if ((size_t)qn * rn * (size_t)x->dim < FN_GINDEX_SMALL_MACS) { score_ref(x, queries, qn, r0, rn, scores); return; }
    if (qn == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)rn, x->dim, 1.0f, rows, x->dim, queries, 1, 0.0f, scores, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, qn, (int)rn, x->dim, 1.0f, queries, x->dim,
                    rows, x->dim, 0.0f, scores, (int)rn);
}

static void score_ref(const fn_gindex *x, const float *queries, int qn, size_t r0, size_t rn, float *scores)
{
    size_t d = (size_t)x->dim;
    for (int i = 0; i < qn; i++)
        for (size_t r = 0; r < rn; r++) {
            const float *a = queries + i * d, *b = x->vec + (r0 + r) * d;
            float acc = 0;
            for (size_t j = 0; j < d; j++) acc += a[j] * b[j];
            scores[i * rn + r] = acc;
        }
}

/* The row of an image id (rows ascend by id unless x->unsorted), or -1. */
static ptrdiff_t row_of(const fn_gindex *x, int64_t id)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->image_id[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < x->n && x->image_id[lo] == id ? (ptrdiff_t)lo : -1;
}

static float dot(const float *a, const float *b, int d)
{
    float acc = 0;
    for (int j = 0; j < d; j++) acc += a[j] * b[j];
    return acc;
}

int fn_gindex_uses_ann(const fn_gindex *x)
{
    return x->ann && !x->unsorted && x->ann->params.min_rows >= 0 && (int64_t)x->n >= x->ann->params.min_rows;
}

fn_status fn_gindex_ann_build(fn_gindex *x, const fn_gann_params *p)
{
    fn_gann_free(x->ann);
    x->ann = NULL;
    if (p->min_rows < 0 || (int64_t)x->n < p->min_rows || x->n == 0 || x->unsorted) return FN_OK;
    return fn_gann_build(x, p, &x->ann);
}

/* Candidates per query: the configured count, at least k (+ 1 for a second
 * person), within the scratch's room. */
static int base_candidates(const fn_gindex *x, int k)
{
    int c = x->ann->params.candidates > 0 ? x->ann->params.candidates : 64;
    if (c < k + 1) c = k + 1;
    return c > FN_GANN_CAND ? FN_GANN_CAND : c;
}

/* Re-scores one query's candidates exactly into q; 1 when they were not
 * enough (the list was full, so more may exist, and the second person or
 * k hits are missing). */
static int rescore(const fn_gindex *x, const float *qv, const int64_t *ids, int nc, qstate *q)
{
    int full = 1;
    for (int j = 0; j < nc; j++) {
        if (ids[j] < 0) { full = 0; continue; }
        ptrdiff_t r = row_of(x, ids[j]);
        if (r < 0) continue;   /* removed since the ANN index saw it */
        fn_gallery_hit c = {ids[j], x->person_id[r], dot(qv, x->vec + (size_t)r * x->dim, x->dim)};
        if (q->k > 0) heap_offer(q, &c);
        people_offer(q, &c);
    }
    return full && (q->second.person_id < 0 || (q->k > 0 && q->used < q->k));
}

static void exact_one(const fn_gindex *x, fn_gallery_scratch *s, const float *qv, qstate *q)
{
    for (size_t r0 = 0; r0 < x->n; r0 += FN_GINDEX_BLOCK) {
        size_t rn = x->n - r0 < FN_GINDEX_BLOCK ? x->n - r0 : FN_GINDEX_BLOCK;
        score_blas(x, qv, 1, r0, rn, s->scores);
        scan_scores(q, x, r0, rn, s->scores);
    }
}

/* One chunk of normalised queries (in s->queries) through the ANN index. */
static fn_status ann_chunk(const fn_gindex *x, fn_gallery_scratch *s, int qn, int k, qstate *st, fn_gallery_hit *topk0)
{
    int nc = base_candidates(x, k);
    FN_TRY(fn_gann_search(x->ann, qn, s->queries, nc, s->cand_sc, s->cand));
    int64_t *more = s->cand + (size_t)s->max_queries * FN_GANN_CAND;
    float *more_sc = s->cand_sc + (size_t)s->max_queries * FN_GANN_CAND;
    for (int i = 0; i < qn; i++) {
        const float *qv = s->queries + (size_t)i * x->dim;
        if (!rescore(x, qv, s->cand + (size_t)i * nc, nc, &st[i])) continue;
        int done = 0;
        for (int c = 2 * nc; !done && c <= 4 * nc && c <= FN_GANN_MAX_CAND && (size_t)nc < x->n; c *= 2) {
            qstate_init(&st[i], topk0 ? topk0 + (size_t)i * k : NULL, k);
            FN_TRY(fn_gann_search(x->ann, 1, qv, c, more_sc, more));
            done = !rescore(x, qv, more, c, &st[i]);
        }
        if (!done) {   /* one person fills even 4x the candidates: scan, as the exact path would */
            qstate_init(&st[i], topk0 ? topk0 + (size_t)i * k : NULL, k);
            exact_one(x, s, qv, &st[i]);
        }
    }
    return FN_OK;
}

static fn_status search_with(score_fn score, int allow_ann, const fn_gindex *x, fn_gallery_scratch *s, const float *q,
                             int nq, int k, fn_gallery_match *matches, fn_gallery_hit *topk)
{
    FN_TRY(check_args(x, s, q, nq, k, topk));
    qstate st[FN_GINDEX_MAX_QUERIES];   /* per-query state lives on the stack, chunk by chunk */
    int chunk = s->max_queries;
    int ann = allow_ann && fn_gindex_uses_ann(x) && (!topk || k < FN_GANN_CAND);
    for (int q0 = 0; q0 < nq; q0 += chunk) {
        int qn = nq - q0 < chunk ? nq - q0 : chunk;
        FN_TRY(load_queries(s, q, q0, qn));
        for (int i = 0; i < qn; i++) qstate_init(&st[i], topk ? topk + (size_t)(q0 + i) * k : NULL, k);
        if (ann) {
            FN_TRY(ann_chunk(x, s, qn, k, st, topk ? topk + (size_t)q0 * k : NULL));
        } else {
            for (size_t r0 = 0; r0 < x->n; r0 += FN_GINDEX_BLOCK) {
                size_t rn = x->n - r0 < FN_GINDEX_BLOCK ? x->n - r0 : FN_GINDEX_BLOCK;
                score(x, s->queries, qn, r0, rn, s->scores);
                for (int i = 0; i < qn; i++) scan_scores(&st[i], x, r0, rn, s->scores + (size_t)i * rn);
            }
        }
        for (int i = 0; i < qn; i++) finish(&st[i], matches ? matches + q0 + i : NULL);
    }
    return FN_OK;
}

fn_status fn_gindex_search(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                           fn_gallery_match *matches, fn_gallery_hit *topk)
{
    return search_with(score_blas, 1, x, s, q, nq, k, matches, topk);
}

fn_status fn_gindex_search_exact(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                                 fn_gallery_match *matches, fn_gallery_hit *topk)
{
    return search_with(score_blas, 0, x, s, q, nq, k, matches, topk);
}

fn_status fn_gindex_search_ref(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                               fn_gallery_match *matches, fn_gallery_hit *topk)
{
    return search_with(score_ref, 0, x, s, q, nq, k, matches, topk);
}

/* ---- person-level top-k ---- */

/* list: k hits, best first (cosine in distance); a person at most once. */
static void people_list_offer(fn_gallery_hit *list, int k, const fn_gallery_hit *c)
{
    int pos = -1;
    for (int j = 0; j < k; j++)
        if (list[j].person_id == c->person_id) { pos = j; break; }
    if (pos >= 0) {
        if (!hit_better(c, &list[pos])) return;
    } else {
        if (!hit_better(c, &list[k - 1])) return;
        pos = k - 1;
    }
    list[pos] = *c;
    for (; pos > 0 && hit_better(&list[pos], &list[pos - 1]); pos--) {
        fn_gallery_hit t = list[pos]; list[pos] = list[pos - 1]; list[pos - 1] = t;
    }
}

/* A person-level list from candidates; 1 when they were not enough. */
static int people_rescore(const fn_gindex *x, const float *qv, const int64_t *ids, int nc, fn_gallery_hit *list, int k)
{
    int full = 1;
    for (int j = 0; j < k; j++) list[j] = NO_HIT;
    for (int j = 0; j < nc; j++) {
        if (ids[j] < 0) { full = 0; continue; }
        ptrdiff_t r = row_of(x, ids[j]);
        if (r < 0) continue;
        fn_gallery_hit c = {ids[j], x->person_id[r], dot(qv, x->vec + (size_t)r * x->dim, x->dim)};
        people_list_offer(list, k, &c);
    }
    return full && list[k - 1].person_id < 0;
}

static void people_scan(score_fn score, const fn_gindex *x, fn_gallery_scratch *s, const float *queries, int qn,
                        int k, fn_gallery_hit *out)
{
    for (size_t r0 = 0; r0 < x->n; r0 += FN_GINDEX_BLOCK) {
        size_t rn = x->n - r0 < FN_GINDEX_BLOCK ? x->n - r0 : FN_GINDEX_BLOCK;
        score(x, queries, qn, r0, rn, s->scores);
        for (int i = 0; i < qn; i++) {
            fn_gallery_hit *list = out + (size_t)i * k;
            const float *sc = s->scores + (size_t)i * rn;
            for (size_t r = 0; r < rn; r++) {
                if (sc[r] < list[k - 1].distance) continue;   /* most rows */
                fn_gallery_hit c = {x->image_id[r0 + r], x->person_id[r0 + r], sc[r]};
                people_list_offer(list, k, &c);
            }
        }
    }
}

static fn_status people_ann(const fn_gindex *x, fn_gallery_scratch *s, int qn, int k, fn_gallery_hit *out)
{
    int nc = base_candidates(x, k);
    FN_TRY(fn_gann_search(x->ann, qn, s->queries, nc, s->cand_sc, s->cand));
    int64_t *more = s->cand + (size_t)s->max_queries * FN_GANN_CAND;
    float *more_sc = s->cand_sc + (size_t)s->max_queries * FN_GANN_CAND;
    for (int i = 0; i < qn; i++) {
        const float *qv = s->queries + (size_t)i * x->dim;
        fn_gallery_hit *list = out + (size_t)i * k;
        if (!people_rescore(x, qv, s->cand + (size_t)i * nc, nc, list, k)) continue;
        int done = 0;
        for (int c = 2 * nc; !done && c <= 4 * nc && c <= FN_GANN_MAX_CAND && (size_t)nc < x->n; c *= 2) {
            FN_TRY(fn_gann_search(x->ann, 1, qv, c, more_sc, more));
            done = !people_rescore(x, qv, more, c, list, k);
        }
        if (!done) {
            for (int j = 0; j < k; j++) list[j] = NO_HIT;
            people_scan(score_blas, x, s, qv, 1, k, list);
        }
    }
    return FN_OK;
}

static fn_status people_with(score_fn score, int allow_ann, const fn_gindex *x, fn_gallery_scratch *s, const float *q,
                             int nq, int k, fn_gallery_hit *out)
{
    if (!out || k <= 0) return fn_fail(FN_ERR_ARG, "search: person-level top-k needs k >= 1 and an output");
    FN_TRY(check_args(x, s, q, nq, k, out));
    int chunk = s->max_queries;
    int ann = allow_ann && fn_gindex_uses_ann(x) && k < FN_GANN_CAND;
    for (int q0 = 0; q0 < nq; q0 += chunk) {
        int qn = nq - q0 < chunk ? nq - q0 : chunk;
        FN_TRY(load_queries(s, q, q0, qn));
        for (size_t i = 0; i < (size_t)qn * k; i++) out[(size_t)q0 * k + i] = NO_HIT;
        if (ann) FN_TRY(people_ann(x, s, qn, k, out + (size_t)q0 * k));
        else people_scan(score, x, s, s->queries, qn, k, out + (size_t)q0 * k);
        for (size_t i = 0; i < (size_t)qn * k; i++) {
            fn_gallery_hit *h = &out[(size_t)q0 * k + i];
            h->distance = to_distance(h->distance);
        }
    }
    return FN_OK;
}

fn_status fn_gindex_search_people(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                                  fn_gallery_hit *out)
{
    return people_with(score_blas, 1, x, s, q, nq, k, out);
}

fn_status fn_gindex_search_people_exact(const fn_gindex *x, fn_gallery_scratch *s, const float *q, int nq, int k,
                                        fn_gallery_hit *out)
{
    return people_with(score_blas, 0, x, s, q, nq, k, out);
}
