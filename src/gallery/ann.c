/* The ANN candidate index (ann.h).  FAISS is reached through faiss_shim. */
#include "gallery/ann.h"
#include "gallery/faiss_shim.h"
#include "gallery/index.h"
#include "core/error.h"
#include "nn/mathlib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SIDECAR_MAGIC "FNANN\0\0\1"     /* 8 bytes: format 1 */
#define MAX_TRAIN 65536                  /* IVF k-means sample: plenty for a few thousand lists */

fn_gann_params fn_gann_default_params(void)
{
    /* HNSW: at 100k x 192 (synthetic identities, bench_gallery) efSearch 64
     * with 64 candidates re-scored gave recall@1 0.985 at 1.6 ms where IVF
     * needed to visit a third of the lists for 0.92; IVF builds 10x faster
     * but random-like face embeddings have no clusters for it to exploit.
     * Below 20000 rows the exact BLAS scan takes under a millisecond.
     * efConstruction 80, not FAISS's 40: at 1M x 192 (bench_gallery --efc,
     * galleries like the default model's) efSearch 96 then finds the exact
     * nearest image for 1.000 of queries (0.998) and the exact second person
     * for 0.857 (0.76) at the same query time, for a build 2.3x as long
     * (451 s against 200 s); docs/scale.md. */
    fn_gann_params p = {FN_GALLERY_ANN_MIN_ROWS, FN_GANN_HNSW, 32, 96, 80, 0, 32, 64};
    return p;
}

const char *fn_gann_kind_name(fn_gann_kind k) { return k == FN_GANN_IVF ? "ivf-sq8" : "hnsw"; }

uint64_t fn_gann_row_sum(const float *v, int dim)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)dim;
    for (int i = 0; i < dim; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        h = (h ^ u) * 0x100000001B3ull;
        h ^= h >> 29;
    }
    return h;
}

void fn_gann_free(fn_gann *a)
{
    if (!a) return;
    fn_faiss_free(a->faiss);
    free(a->ids);
    free(a->sums);
    free(a);
}

static fn_status reserve_ids(fn_gann *a, size_t cap)
{
    if (cap <= a->cap) return FN_OK;
    if (cap < 2 * a->cap) cap = 2 * a->cap;
    int64_t *ids = realloc(a->ids, cap * sizeof *ids);
    if (ids) a->ids = ids;
    uint64_t *sums = realloc(a->sums, cap * sizeof *sums);
    if (sums) a->sums = sums;
    if (!ids || !sums) return fn_fail(FN_ERR_NOMEM, "ANN index: out of memory for %zu ids", cap);
    a->cap = cap;
    return FN_OK;
}

/* FAISS's BLAS/LAPACK calls go to the OpenBLAS opened on first use
 * (faiss_blas.c): without it, no index (the exact scan serves). */
int fn_faiss_blas_ready(void);   /* faiss_blas.c */

static fn_status need_blas(void)
{
    if (fn_mathlib_have_openblas() && fn_faiss_blas_ready()) return FN_OK;
    return fn_fail(FN_ERR_UNSUPPORTED, "approximate search needs OpenBLAS (libopenblas.so.0), which cannot be loaded; "
                                       "the exact scan serves (Debian: apt install libopenblas0)");
}

static fn_status new_faiss(fn_gann *a, size_t rows)
{
    FN_TRY(need_blas());
    char factory[64];
    if (a->params.kind == FN_GANN_IVF) {
        int nlist = a->params.ivf_nlist > 0 ? a->params.ivf_nlist : (int)(4 * sqrt((double)rows));
        if (nlist < 1) nlist = 1;
        if ((size_t)nlist > rows) nlist = (int)rows;
        snprintf(factory, sizeof factory, "IVF%d,SQ8", nlist);
    } else {
        snprintf(factory, sizeof factory, "IDMap,HNSW%d", a->params.hnsw_m > 0 ? a->params.hnsw_m : 32);
    }
    FN_TRY(fn_faiss_new(a->dim, factory, &a->faiss));
    return fn_faiss_set_build(a->faiss, a->params.ef_construction);
}

static fn_status set_search_params(fn_gann *a)
{
    if (a->params.kind == FN_GANN_IVF) return fn_faiss_set(a->faiss, "nprobe", a->params.nprobe > 0 ? a->params.nprobe : 32);
    return fn_faiss_set(a->faiss, "efSearch", a->params.ef_search > 0 ? a->params.ef_search : 64);
}

fn_status fn_gann_set_breadth(fn_gann *a, int value)
{
    if (value < 1) return fn_fail(FN_ERR_ARG, "ANN index: a search breadth of %d (at least 1)", value);
    if (a->params.kind == FN_GANN_IVF) a->params.nprobe = value;
    else a->params.ef_search = value;
    return set_search_params(a);
}

static fn_status train(fn_gann *a, const fn_gindex *x)
{
    if (fn_faiss_is_trained(a->faiss)) return FN_OK;
    size_t d = (size_t)x->dim, nt = x->n < MAX_TRAIN ? x->n : MAX_TRAIN;
    float *sample = malloc(nt * d * sizeof(float));
    if (!sample) return fn_fail(FN_ERR_NOMEM, "ANN index: out of memory for %zu training rows", nt);
    for (size_t i = 0; i < nt; i++)   /* evenly spread: rows come person by person */
        memcpy(sample + i * d, x->vec + (i * (x->n / nt)) * d, d * sizeof(float));
    fn_status s = fn_faiss_train(a->faiss, (int64_t)nt, sample);
    free(sample);
    return s;
}

fn_status fn_gann_build(const fn_gindex *x, const fn_gann_params *p, fn_gann **out)
{
    *out = NULL;
    if (x->n == 0) return fn_fail(FN_ERR_ARG, "ANN index: no rows to build from");
    fn_gann *a = calloc(1, sizeof *a);
    if (!a) return fn_fail(FN_ERR_NOMEM, "ANN index: out of memory");
    a->params = *p;
    a->dim = x->dim;
    a->dirty = 1;
    fn_status s = reserve_ids(a, x->n);
    if (s == FN_OK) s = new_faiss(a, x->n);
    if (s == FN_OK) s = train(a, x);
    if (s == FN_OK) s = set_search_params(a);
    if (s == FN_OK) s = fn_faiss_add(a->faiss, (int64_t)x->n, x->vec, x->image_id);
    if (s == FN_OK)
        for (size_t r = 0; r < x->n; r++) {
            a->ids[r] = x->image_id[r];
            a->sums[r] = fn_gann_row_sum(x->vec + r * (size_t)x->dim, x->dim);
        }
    a->n = x->n;
    if (s != FN_OK) { fn_gann_free(a); return s; }
    *out = a;
    return FN_OK;
}

fn_status fn_gann_add_row(fn_gann *a, const fn_gindex *x, size_t r)
{
    int64_t id = x->image_id[r];
    if (a->n && id <= a->ids[a->n - 1])
        return fn_fail(FN_ERR_INTERNAL, "ANN index: image id %lld is not above the last one", (long long)id);
    FN_TRY(reserve_ids(a, a->n + 1));
    const float *v = x->vec + r * (size_t)x->dim;
    FN_TRY(fn_faiss_add(a->faiss, 1, v, &id));
    a->ids[a->n] = id;
    a->sums[a->n] = fn_gann_row_sum(v, x->dim);
    a->n++;
    a->dirty = 1;
    return FN_OK;
}

/* Adds rows r0..x->n-1 of x in one call: FAISS links a block of nodes
 * with its OpenMP threads, where one add per row pays a parallel region
 * (and its thread wake-ups) per node. */
static fn_status add_tail(fn_gann *a, const fn_gindex *x, size_t r0)
{
    size_t m = x->n - r0;
    if (a->n && x->image_id[r0] <= a->ids[a->n - 1])
        return fn_fail(FN_ERR_INTERNAL, "ANN index: image id %lld is not above the last one", (long long)x->image_id[r0]);
    FN_TRY(reserve_ids(a, a->n + m));
    FN_TRY(fn_faiss_add(a->faiss, (int64_t)m, x->vec + r0 * (size_t)x->dim, x->image_id + r0));
    for (size_t r = r0; r < x->n; r++) {
        a->ids[a->n] = x->image_id[r];
        a->sums[a->n] = fn_gann_row_sum(x->vec + r * (size_t)x->dim, x->dim);
        a->n++;
    }
    a->dirty = 1;
    return FN_OK;
}

/* Removes the ids not in keep[] (IVF only) from FAISS and the id list. */
static fn_status drop_ids(fn_gann *a, const int64_t *gone, size_t n_gone)
{
    int64_t removed = 0;
    FN_TRY(fn_faiss_remove(a->faiss, (int64_t)n_gone, gone, &removed));
    size_t w = 0, g = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (g < n_gone && gone[g] < a->ids[i]) g++;
        if (g < n_gone && gone[g] == a->ids[i]) continue;
        a->ids[w] = a->ids[i];
        a->sums[w] = a->sums[i];
        w++;
    }
    a->n = w;
    return FN_OK;
}

fn_status fn_gann_reconcile(fn_gann *a, const fn_gindex *x, int *rebuild)
{
    *rebuild = 0;
    if (a->dim != x->dim) { *rebuild = 1; return FN_OK; }
    size_t i = 0, r = 0, n_gone = 0, n_new = 0;
    int64_t *gone = NULL;
    size_t *fresh = NULL;
    fn_status s = FN_OK;
    /* both sides ascend by id: one merge walk */
    while (i < a->n || r < x->n) {
        if (r < x->n && (i == a->n || x->image_id[r] < a->ids[i])) {
            if (a->n && x->image_id[r] < a->ids[a->n - 1]) { *rebuild = 1; break; }   /* an old id we never had */
            if (!fresh && !(fresh = malloc((x->n - r) * sizeof *fresh))) { s = FN_ERR_NOMEM; break; }
            fresh[n_new++] = r++;
        } else if (i < a->n && (r == x->n || a->ids[i] < x->image_id[r])) {
            if (!gone && !(gone = malloc((a->n - i) * sizeof *gone))) { s = FN_ERR_NOMEM; break; }
            gone[n_gone++] = a->ids[i++];
        } else {
            if (a->sums[i] != fn_gann_row_sum(x->vec + r * (size_t)x->dim, x->dim)) { *rebuild = 1; break; }
            i++, r++;
        }
    }
    if (s == FN_ERR_NOMEM) s = fn_fail(FN_ERR_NOMEM, "ANN index: out of memory reconciling");
    if (s == FN_OK && !*rebuild && n_gone) {
        if (a->params.kind == FN_GANN_IVF) s = drop_ids(a, gone, n_gone);
        else a->dead = n_gone;   /* HNSW keeps them: search skips ids with no row */
        a->dirty = 1;
    } else if (s == FN_OK && !*rebuild) {
        a->dead = 0;
    }
    if (s == FN_OK && !*rebuild && a->dead * 5 > a->n) *rebuild = 1;
    if (s == FN_OK && !*rebuild && n_new) s = add_tail(a, x, fresh[0]);
    free(gone);
    free(fresh);
    return s;
}

fn_status fn_gann_search(const fn_gann *a, int nq, const float *q, int k, float *scores, int64_t *ids)
{
    return fn_faiss_search(a->faiss, nq, q, k, scores, ids);
}

size_t fn_gann_bytes(const fn_gann *a)
{
    return a ? fn_faiss_bytes(a->faiss) + a->cap * (sizeof *a->ids + sizeof *a->sums) : 0;
}

/* ---- the sidecar ---- */

typedef struct sidecar_head {
    char magic[8];
    uint32_t dim, kind, endian;   /* endian: 0x01020304 as written by the host */
    uint32_t pad;
    uint64_t n, dead;
} sidecar_head;

fn_status fn_gann_save(fn_gann *a, const char *path)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    if (!tmp) return fn_fail(FN_ERR_NOMEM, "out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fn_status s = fn_fail(FN_ERR_IO, "%s: cannot write the ANN index (%s)", tmp, strerror(errno));
        free(tmp);
        return s;
    }
    sidecar_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, SIDECAR_MAGIC, 8);
    h.dim = (uint32_t)a->dim;
    h.kind = (uint32_t)a->params.kind;
    h.endian = 0x01020304u;
    h.n = a->n;
    h.dead = a->dead;
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && (a->n == 0 || (fwrite(a->ids, sizeof *a->ids, a->n, f) == a->n &&
                                                               fwrite(a->sums, sizeof *a->sums, a->n, f) == a->n));
    fn_status s = ok ? fn_faiss_write(a->faiss, f) : fn_fail(FN_ERR_IO, "%s: writing failed (%s)", tmp, strerror(errno));
    if (fclose(f) != 0 && s == FN_OK) s = fn_fail(FN_ERR_IO, "%s: writing failed (%s)", tmp, strerror(errno));
    if (s == FN_OK && rename(tmp, path) != 0) s = fn_fail(FN_ERR_IO, "%s: cannot rename to %s (%s)", tmp, path, strerror(errno));
    if (s != FN_OK) remove(tmp);
    else a->dirty = 0;
    free(tmp);
    return s;
}

fn_status fn_gann_load(const char *path, int dim, const fn_gann_params *p, fn_gann **out)
{
    *out = NULL;
    FN_TRY(need_blas());
    struct stat sb;
    if (stat(path, &sb) != 0) return fn_fail(FN_ERR_NOT_FOUND, "%s: no ANN index", path);
    FILE *f = fopen(path, "rb");
    if (!f) return fn_fail(FN_ERR_IO, "%s: cannot read the ANN index (%s)", path, strerror(errno));
    sidecar_head h;
    fn_status s = FN_OK;
    fn_gann *a = NULL;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, SIDECAR_MAGIC, 8) != 0 || h.endian != 0x01020304u)
        s = fn_fail(FN_ERR_FORMAT, "%s: not an ANN index of this facenet", path);
    else if (h.dim != (uint32_t)dim || h.kind != (uint32_t)p->kind)
        s = fn_fail(FN_ERR_MISMATCH, "%s: an ANN index of another kind or dimension", path);
    /* the id list must fit in the file before anything is allocated for it */
    else if (h.n > (uint64_t)sb.st_size / 16 || h.dead > h.n)
        s = fn_fail(FN_ERR_FORMAT, "%s: the ANN index is truncated or damaged", path);
    if (s == FN_OK && !(a = calloc(1, sizeof *a))) s = fn_fail(FN_ERR_NOMEM, "out of memory");
    if (s == FN_OK) {
        a->params = *p;
        a->dim = dim;
        a->dead = h.dead;
        s = reserve_ids(a, h.n ? h.n : 1);
    }
    if (s == FN_OK && h.n && (fread(a->ids, sizeof *a->ids, h.n, f) != h.n || fread(a->sums, sizeof *a->sums, h.n, f) != h.n))
        s = fn_fail(FN_ERR_FORMAT, "%s: the ANN index is truncated", path);
    if (s == FN_OK) {
        a->n = h.n;
        for (size_t i = 1; i < a->n && s == FN_OK; i++)
            if (a->ids[i] <= a->ids[i - 1]) s = fn_fail(FN_ERR_FORMAT, "%s: the ANN index's ids are not ascending", path);
    }
    if (s == FN_OK) s = fn_faiss_read(f, &a->faiss);
    if (s == FN_OK && (fn_faiss_ntotal(a->faiss) != (int64_t)a->n))
        s = fn_fail(FN_ERR_FORMAT, "%s: the ANN index holds %lld vectors for %zu ids", path,
                    (long long)fn_faiss_ntotal(a->faiss), a->n);
    if (s == FN_OK) s = set_search_params(a);
    if (s == FN_OK) s = fn_faiss_set_build(a->faiss, a->params.ef_construction);   /* for the rows enrolled next */
    fclose(f);
    if (s != FN_OK) { fn_gann_free(a); return s; }
    *out = a;
    return FN_OK;
}
