/* mathlib.h — oneDNN and OpenBLAS, loaded on first use (dlopen by soname),
 * never linked: a command that only detects faces (MTCNN runs on our own
 * kernels) does not pay their start-up — together ~17 ms of CPU before main
 * on the project's VM, with libstdc++, libgfortran and OpenCL they pull in
 * (docs/performance.md, "Start-up").  As in src/video/avlib.h, the calls go
 * through one table of pointers typed from the libraries' own headers,
 * filled once per process (pthread_once), read-only after.
 *
 * Including this header makes every listed dnnl_* / cblas_* call in the
 * including file go through the table (macros below).  oneDNN must be
 * loaded with fn_mathlib_dnnl() before the first call (fn_nn_new does);
 * the BLAS calls need nothing: when OpenBLAS cannot be loaded, the table
 * holds the plain-C reference sgemm/sgemv (src/nn/mathlib.c), slower and
 * equal.  Private to src/.
 */
#ifndef FN_NN_MATHLIB_H
#define FN_NN_MATHLIB_H

#include <cblas.h>
#include <dnnl.h>

#include "facenet/core.h"

/* X(function) for every oneDNN function the library calls. */
#define FN_DNNL_FUNCTIONS(X)                                                                                    \
    X(dnnl_convolution_forward_desc_init) X(dnnl_engine_create) X(dnnl_engine_destroy) X(dnnl_memory_create)  \
    X(dnnl_memory_desc_equal) X(dnnl_memory_desc_get_size) X(dnnl_memory_desc_init_by_tag)                    \
    X(dnnl_memory_destroy) X(dnnl_memory_set_data_handle) X(dnnl_post_ops_append_eltwise)                      \
    X(dnnl_post_ops_append_sum) X(dnnl_post_ops_create) X(dnnl_post_ops_destroy) X(dnnl_primitive_attr_create) \
    X(dnnl_primitive_attr_destroy) X(dnnl_primitive_attr_set_output_scales) X(dnnl_primitive_attr_set_post_ops) \
    X(dnnl_primitive_attr_set_scratchpad_mode) X(dnnl_primitive_create) X(dnnl_primitive_desc_clone)           \
    X(dnnl_primitive_desc_create) X(dnnl_primitive_desc_destroy) X(dnnl_primitive_desc_query)                  \
    X(dnnl_primitive_desc_query_md) X(dnnl_primitive_destroy) X(dnnl_primitive_execute)                        \
    X(dnnl_reorder_primitive_desc_create) X(dnnl_sgemm) X(dnnl_stream_create) X(dnnl_stream_destroy)           \
    X(dnnl_stream_wait) X(dnnl_version)
/* ... and every OpenBLAS function. */
#define FN_BLAS_FUNCTIONS(X) X(cblas_sgemm) X(cblas_sgemv) X(openblas_get_config)

#define FN_MATHLIB_MEMBER(name) __typeof__(&name) name;
typedef struct fn_mathlib {
    FN_DNNL_FUNCTIONS(FN_MATHLIB_MEMBER)
    FN_BLAS_FUNCTIONS(FN_MATHLIB_MEMBER)
} fn_mathlib;
#undef FN_MATHLIB_MEMBER

/* The table; its BLAS members are always callable, its oneDNN members only
 * after fn_mathlib_dnnl() returned FN_OK. */
const fn_mathlib *fn_mathlib_get(void);
/* oneDNN loaded (once per process; the first outcome is kept).
 * FN_ERR_UNSUPPORTED naming the library and the package to install. */
fn_status fn_mathlib_dnnl(void);
/* 1 when OpenBLAS was loaded, 0 when the reference BLAS stands in. */
int fn_mathlib_have_openblas(void);
/* A function of the loaded OpenBLAS by name (its Fortran BLAS/LAPACK
 * entries, e.g. "sgemm_", for FAISS: src/gallery/faiss_blas.c), or NULL
 * when OpenBLAS is not loaded or has no such function. */
void *fn_mathlib_blas_symbol(const char *name);

#ifndef FN_MATHLIB_IMPL
#define dnnl_convolution_forward_desc_init (fn_mathlib_get()->dnnl_convolution_forward_desc_init)
#define dnnl_engine_create (fn_mathlib_get()->dnnl_engine_create)
#define dnnl_engine_destroy (fn_mathlib_get()->dnnl_engine_destroy)
#define dnnl_memory_create (fn_mathlib_get()->dnnl_memory_create)
#define dnnl_memory_desc_equal (fn_mathlib_get()->dnnl_memory_desc_equal)
#define dnnl_memory_desc_get_size (fn_mathlib_get()->dnnl_memory_desc_get_size)
#define dnnl_memory_desc_init_by_tag (fn_mathlib_get()->dnnl_memory_desc_init_by_tag)
#define dnnl_memory_destroy (fn_mathlib_get()->dnnl_memory_destroy)
#define dnnl_memory_set_data_handle (fn_mathlib_get()->dnnl_memory_set_data_handle)
#define dnnl_post_ops_append_eltwise (fn_mathlib_get()->dnnl_post_ops_append_eltwise)
#define dnnl_post_ops_append_sum (fn_mathlib_get()->dnnl_post_ops_append_sum)
#define dnnl_post_ops_create (fn_mathlib_get()->dnnl_post_ops_create)
#define dnnl_post_ops_destroy (fn_mathlib_get()->dnnl_post_ops_destroy)
#define dnnl_primitive_attr_create (fn_mathlib_get()->dnnl_primitive_attr_create)
#define dnnl_primitive_attr_destroy (fn_mathlib_get()->dnnl_primitive_attr_destroy)
#define dnnl_primitive_attr_set_output_scales (fn_mathlib_get()->dnnl_primitive_attr_set_output_scales)
#define dnnl_primitive_attr_set_post_ops (fn_mathlib_get()->dnnl_primitive_attr_set_post_ops)
#define dnnl_primitive_attr_set_scratchpad_mode (fn_mathlib_get()->dnnl_primitive_attr_set_scratchpad_mode)
#define dnnl_primitive_create (fn_mathlib_get()->dnnl_primitive_create)
#define dnnl_primitive_desc_clone (fn_mathlib_get()->dnnl_primitive_desc_clone)
#define dnnl_primitive_desc_create (fn_mathlib_get()->dnnl_primitive_desc_create)
#define dnnl_primitive_desc_destroy (fn_mathlib_get()->dnnl_primitive_desc_destroy)
#define dnnl_primitive_desc_query (fn_mathlib_get()->dnnl_primitive_desc_query)
#define dnnl_primitive_desc_query_md (fn_mathlib_get()->dnnl_primitive_desc_query_md)
#define dnnl_primitive_destroy (fn_mathlib_get()->dnnl_primitive_destroy)
#define dnnl_primitive_execute (fn_mathlib_get()->dnnl_primitive_execute)
#define dnnl_reorder_primitive_desc_create (fn_mathlib_get()->dnnl_reorder_primitive_desc_create)
#define dnnl_sgemm (fn_mathlib_get()->dnnl_sgemm)
#define dnnl_stream_create (fn_mathlib_get()->dnnl_stream_create)
#define dnnl_stream_destroy (fn_mathlib_get()->dnnl_stream_destroy)
#define dnnl_stream_wait (fn_mathlib_get()->dnnl_stream_wait)
#define dnnl_version (fn_mathlib_get()->dnnl_version)
#define cblas_sgemm (fn_mathlib_get()->cblas_sgemm)
#define cblas_sgemv (fn_mathlib_get()->cblas_sgemv)
#define openblas_get_config (fn_mathlib_get()->openblas_get_config)
#endif

#endif
