// faiss_shim.cpp — extern "C" wrappers over FAISS's C++ API (see
// faiss_shim.h for why).  Each function catches everything: a C++
// exception never crosses into C, it becomes an fn_status and a sentence.
#include "gallery/faiss_shim.h"


#include <faiss/AutoTune.h>
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <cstring>
#include <exception>
#include <immintrin.h>
#include <new>
#include <omp.h>

struct fn_faiss {
    faiss::Index *index;
};

/* ---- a vectorised inner product for HNSW's flat storage ----
 * Debian's libfaiss.a is built for the x86-64 baseline, so its
 * fvec_inner_product is the scalar reference loop (fvec_inner_product_ref):
 * perf on an HNSW32 build over 10k x 192 put 82 % of the time there.
 * FastFlatIP is an IndexFlat (inner product) that hands HNSW a distance
 * computer with an AVX2/FMA dot product when the CPU has it (else a loop
 * the compiler vectorises for the baseline).  It is written and read as
 * a plain IndexFlatIP ("IxFI"): swap_storage() puts it back under an
 * index read from a file. */
namespace {

typedef float (*dot_fn)(const float *, const float *, size_t);

float dot_generic(const float *a, const float *b, size_t d)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < d; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float *a, const float *b, size_t d)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= d; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= d; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float r = _mm_cvtss_f32(h);
    for (; i < d; i++) r += a[i] * b[i];
    return r;
}

dot_fn pick_dot()
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? dot_avx2 : dot_generic;
}

struct FastIPDis : faiss::FlatCodesDistanceComputer {
    size_t d;
    const float *base;
    const float *q = nullptr;
    dot_fn dot;
    FastIPDis(const faiss::IndexFlat &ix)
        : FlatCodesDistanceComputer(ix.codes.data(), ix.code_size), d((size_t)ix.d),
          base((const float *)ix.codes.data()), dot(pick_dot()) {}
    void set_query(const float *x) override { q = x; }
    float distance_to_code(const uint8_t *code) override { return dot(q, (const float *)code, d); }
    float symmetric_dis(idx_t i, idx_t j) override { return dot(base + i * d, base + j * d, d); }
};

struct FastFlatIP : faiss::IndexFlat {
    explicit FastFlatIP(idx_t d) : faiss::IndexFlat(d, faiss::METRIC_INNER_PRODUCT) {}
    faiss::FlatCodesDistanceComputer *get_FlatCodesDistanceComputer() const override { return new FastIPDis(*this); }
};

/* An IndexHNSWFlat (inner product), alone or under an IndexIDMap: its storage becomes a
 * FastFlatIP holding the same vectors.  Other indexes are left alone. */
void swap_storage(faiss::Index *ix)
{
    auto map = dynamic_cast<faiss::IndexIDMap *>(ix);
    auto h = dynamic_cast<faiss::IndexHNSWFlat *>(map ? map->index : ix);
    auto flat = h ? dynamic_cast<faiss::IndexFlat *>(h->storage) : nullptr;
    if (!flat || dynamic_cast<FastFlatIP *>(flat) || flat->metric_type != faiss::METRIC_INNER_PRODUCT || !h->own_fields)
        return;
    FastFlatIP *fast = new FastFlatIP(flat->d);
    fast->codes.swap(flat->codes);
    fast->ntotal = flat->ntotal;
    delete flat;
    h->storage = fast;
}

} // namespace

#define SHIM_TRY(doing, body)                                                                   \
    try {                                                                                      \
        body;                                                                                  \
    } catch (const std::bad_alloc &) {                                                         \
        return fn_fail(FN_ERR_NOMEM, "FAISS: out of memory while %s", doing);                    \
    } catch (const std::exception &e) {                                                        \
        return fn_fail(FN_ERR_INTERNAL, "FAISS: %s failed: %.300s", doing, e.what());            \
    } catch (...) {                                                                            \
        return fn_fail(FN_ERR_INTERNAL, "FAISS: %s failed (unknown exception)", doing);          \
    }

extern "C" fn_status fn_faiss_new(int dim, const char *factory, fn_faiss **out)
{
    *out = nullptr;
    fn_faiss *f = new (std::nothrow) fn_faiss{nullptr};
    if (!f) return fn_fail(FN_ERR_NOMEM, "FAISS: out of memory");
    try {
        f->index = faiss::index_factory(dim, factory, faiss::METRIC_INNER_PRODUCT);
        swap_storage(f->index);
    } catch (...) {
        delete f->index;
        delete f;
        SHIM_TRY("creating an index", throw);
    }
    *out = f;
    return FN_OK;
}

extern "C" fn_status fn_faiss_set_build(fn_faiss *f, int ef_construction)
{
    auto map = dynamic_cast<faiss::IndexIDMap *>(f->index);
    auto h = dynamic_cast<faiss::IndexHNSW *>(map ? map->index : f->index);
    if (h && ef_construction > 0) h->hnsw.efConstruction = ef_construction;
    return FN_OK;
}

extern "C" void fn_faiss_free(fn_faiss *f)
{
    if (!f) return;
    delete f->index;
    delete f;
}

extern "C" int fn_faiss_is_trained(const fn_faiss *f) { return f->index->is_trained; }
extern "C" int64_t fn_faiss_ntotal(const fn_faiss *f) { return f->index->ntotal; }

extern "C" fn_status fn_faiss_train(fn_faiss *f, int64_t n, const float *x)
{
    SHIM_TRY("training", f->index->train(n, x));
    return FN_OK;
}

extern "C" fn_status fn_faiss_add(fn_faiss *f, int64_t n, const float *x, const int64_t *ids)
{
    SHIM_TRY("adding vectors", {
        if (ids) f->index->add_with_ids(n, x, ids);
        else f->index->add(n, x);
    });
    return FN_OK;
}

/* FAISS's HNSW search opens an OpenMP parallel region per call, and each
 * of its threads clears a visited table of ntotal bytes: for a handful of
 * queries the other threads have nothing to do but wake, allocate and wait
 * (on a loaded 2-core machine that cost more than the search itself).
 * Fewer than 8 queries run on the calling thread only; the setting is the
 * calling thread's own OpenMP state and is put back after. */
namespace {
struct SerialFor {
    int before = 0;
    explicit SerialFor(int64_t n)
    {
        if (n < 8 && omp_get_max_threads() > 1) before = omp_get_max_threads(), omp_set_num_threads(1);
    }
    ~SerialFor()
    {
        if (before) omp_set_num_threads(before);
    }
};
} // namespace

extern "C" fn_status fn_faiss_search(const fn_faiss *f, int64_t n, const float *x, int64_t k, float *scores,
                                     int64_t *ids)
{
    SerialFor serial(n);
    SHIM_TRY("searching", f->index->search(n, x, k, scores, ids));
    return FN_OK;
}

extern "C" fn_status fn_faiss_remove(fn_faiss *f, int64_t n, const int64_t *ids, int64_t *removed)
{
    if (removed) *removed = 0;
    if (dynamic_cast<faiss::IndexIVF *>(f->index) == nullptr)
        return fn_fail(FN_ERR_UNSUPPORTED, "FAISS: this index type cannot remove vectors (only IVF can)");
    size_t r = 0;
    SHIM_TRY("removing vectors", {
        faiss::IDSelectorBatch sel(n, ids);
        r = f->index->remove_ids(sel);
    });
    if (removed) *removed = (int64_t)r;
    return FN_OK;
}

extern "C" fn_status fn_faiss_set(fn_faiss *f, const char *name, double value)
{
    SHIM_TRY("setting a parameter", {
        faiss::ParameterSpace ps;
        ps.set_index_parameter(f->index, name, value);
    });
    return FN_OK;
}

extern "C" fn_status fn_faiss_write(const fn_faiss *f, FILE *fp)
{
    SHIM_TRY("writing the index", faiss::write_index(f->index, fp));
    return FN_OK;
}

extern "C" fn_status fn_faiss_read(FILE *fp, fn_faiss **out)
{
    *out = nullptr;
    fn_faiss *f = new (std::nothrow) fn_faiss{nullptr};
    if (!f) return fn_fail(FN_ERR_NOMEM, "FAISS: out of memory");
    try {
        f->index = faiss::read_index(fp);
        swap_storage(f->index);
    } catch (const std::bad_alloc &) {
        delete f->index;
        delete f;
        return fn_fail(FN_ERR_NOMEM, "FAISS: out of memory while reading an index");
    } catch (const std::exception &e) {
        delete f->index;
        delete f;
        return fn_fail(FN_ERR_DB, "FAISS: reading the index failed: %.300s", e.what());
    } catch (...) {
        delete f->index;
        delete f;
        return fn_fail(FN_ERR_DB, "FAISS: reading the index failed (unknown exception)");
    }
    *out = f;
    return FN_OK;
}

extern "C" size_t fn_faiss_bytes(const fn_faiss *f)
{
    const faiss::Index *ix = f->index;
    size_t n = (size_t)ix->ntotal;
    if (auto ivf = dynamic_cast<const faiss::IndexIVF *>(ix))
        return n * (ivf->code_size + sizeof(faiss::Index::idx_t)) + ivf->nlist * (size_t)ix->d * sizeof(float);
    if (auto map = dynamic_cast<const faiss::IndexIDMap *>(ix)) {
        if (auto h = dynamic_cast<const faiss::IndexHNSW *>(map->index)) {
            size_t links = h->hnsw.neighbors.size() * sizeof(faiss::HNSW::storage_idx_t);
            return n * ((size_t)ix->d * sizeof(float) + sizeof(faiss::Index::idx_t)) + links + h->hnsw.levels.size() * 4 +
                   h->hnsw.offsets.size() * 8;
        }
    }
    return n * (size_t)ix->d * sizeof(float);
}

extern "C" fn_status fn_faiss_kmeans(int d, int64_t n, const float *x, int k, int niter, int max_per_centroid,
                                     int seed, float *centroids)
{
    SHIM_TRY("k-means", {
        faiss::ClusteringParameters cp;
        cp.niter = niter;
        cp.spherical = true;
        cp.seed = seed;
        cp.max_points_per_centroid = max_per_centroid;
        cp.verbose = false;
        faiss::Clustering c(d, k, cp);
        faiss::IndexFlatIP ix(d);
        c.train(n, x, ix);
        memcpy(centroids, c.centroids.data(), sizeof(float) * (size_t)k * d);
    });
    return FN_OK;
}
