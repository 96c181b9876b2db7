// faiss_shim.cpp — extern "C" wrappers over FAISS's C++ API (see
// faiss_shim.h for why).  Each function catches everything: a C++
// exception never crosses into C, it becomes an fn_status and a sentence.
#include "gallery/faiss_shim.h"


#include <faiss/AutoTune.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <exception>
#include <new>

struct fn_faiss {
    faiss::Index *index;
};

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
    SHIM_TRY("creating an index", f->index = faiss::index_factory(dim, factory, faiss::METRIC_INNER_PRODUCT));
    *out = f;
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
    SHIM_TRY("adding vectors", f->index->add_with_ids(n, x, ids));
    return FN_OK;
}

extern "C" fn_status fn_faiss_search(const fn_faiss *f, int64_t n, const float *x, int64_t k, float *scores,
                                     int64_t *ids)
{
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
    } catch (const std::bad_alloc &) {
        delete f;
        return fn_fail(FN_ERR_NOMEM, "FAISS: out of memory while reading an index");
    } catch (const std::exception &e) {
        delete f;
        return fn_fail(FN_ERR_DB, "FAISS: reading the index failed: %.300s", e.what());
    } catch (...) {
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
