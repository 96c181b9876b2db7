/* mathlib.c — oneDNN and OpenBLAS opened by soname on first use; the
 * plain-C reference BLAS when OpenBLAS cannot be opened (see mathlib.h). */
#define FN_MATHLIB_IMPL
#include "nn/mathlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/dl.h"
#include "core/error.h"

/* The sonames of the libraries the headers come from (Debian 12:
 * libdnnl2 2.7, libopenblas0 0.3.21). */
#define FN_DNNL_SONAME "libdnnl.so." FN_STR(DNNL_VERSION_MAJOR)
#define FN_STR_(x) #x
#define FN_STR(x) FN_STR_(x)
#define FN_OPENBLAS_SONAME "libopenblas.so.0"

/* ---- the reference BLAS: the two calls the gallery makes, row-major ----- */

static void ref_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb,
                      const blasint m, const blasint n, const blasint k, const float alpha, const float *a,
                      const blasint lda, const float *b, const blasint ldb, const float beta, float *c,
                      const blasint ldc)
{
    /* C = alpha op(A) op(B) + beta C; row-major only (the library's use) */
    (void)order;
    for (blasint i = 0; i < m; i++)
        for (blasint j = 0; j < n; j++) {
            double s = 0;
            for (blasint p = 0; p < k; p++) {
                float x = ta == CblasNoTrans ? a[i * lda + p] : a[p * lda + i];
                float y = tb == CblasNoTrans ? b[p * ldb + j] : b[j * ldb + p];
                s += (double)x * y;
            }
            c[i * ldc + j] = (float)(alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]));
        }
}

static void ref_sgemv(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE trans, const blasint m,
                      const blasint n, const float alpha, const float *a, const blasint lda, const float *x,
                      const blasint incx, const float beta, float *y, const blasint incy)
{
    (void)order;
    blasint rows = trans == CblasNoTrans ? m : n, cols = trans == CblasNoTrans ? n : m;
    for (blasint i = 0; i < rows; i++) {
        double s = 0;
        for (blasint j = 0; j < cols; j++)
            s += (double)(trans == CblasNoTrans ? a[i * lda + j] : a[j * lda + i]) * x[j * incx];
        y[i * incy] = (float)(alpha * s + (beta == 0 ? 0 : beta * y[i * incy]));
    }
}

static char *ref_config(void) { return (char *)"reference BLAS (plain C; OpenBLAS could not be loaded)"; }

/* ---- loading ----------------------------------------------------------- */

static fn_mathlib table;
static fn_status dnnl_status = FN_ERR_UNSUPPORTED;
static char dnnl_error[600];
static int have_openblas;
static void *openblas;   /* the dlopen handle, when loaded */
static pthread_once_t blas_once = PTHREAD_ONCE_INIT, dnnl_once = PTHREAD_ONCE_INIT;

static void load_blas(void)
{
    const char *why = NULL;
    void *h = fn_dlopen(FN_OPENBLAS_SONAME, &why);
    void *f[3] = {NULL, NULL, NULL};
    if (h) {
        f[0] = dlsym(h, "cblas_sgemm");
        f[1] = dlsym(h, "cblas_sgemv");
        f[2] = dlsym(h, "openblas_get_config");
    }
    have_openblas = f[0] && f[1] && f[2];
    if (have_openblas) {
        openblas = h;
        memcpy(&table.cblas_sgemm, &f[0], sizeof f[0]);
        memcpy(&table.cblas_sgemv, &f[1], sizeof f[1]);
        memcpy(&table.openblas_get_config, &f[2], sizeof f[2]);
    } else {
        table.cblas_sgemm = ref_sgemm;
        table.cblas_sgemv = ref_sgemv;
        table.openblas_get_config = ref_config;
    }
}

static void load_dnnl(void)
{
    const char *why = NULL;
    void *h = fn_dlopen(FN_DNNL_SONAME, &why);
    if (!h) {
        snprintf(dnnl_error, sizeof dnnl_error,
                 "the networks need oneDNN's %s, which cannot be loaded (%s); install it (Debian: apt install libdnnl%d)",
                 FN_DNNL_SONAME, why, DNNL_VERSION_MAJOR);
        return;
    }
    fn_mathlib t = table;
    const char *missing = NULL;
#define FN_FIND(name)                                    \
    {                                                    \
        void *p = dlsym(h, #name);                       \
        if (!p && !missing) missing = #name;             \
        memcpy(&t.name, &p, sizeof p);                   \
    }
    FN_DNNL_FUNCTIONS(FN_FIND)
#undef FN_FIND
    if (missing) {
        snprintf(dnnl_error, sizeof dnnl_error, "%s has no function %s (a oneDNN other than the one facenet was built for)",
                 FN_DNNL_SONAME, missing);
        return;
    }
#define FN_COPY(name) table.name = t.name;
    FN_DNNL_FUNCTIONS(FN_COPY)
#undef FN_COPY
    dnnl_status = FN_OK;
}

const fn_mathlib *fn_mathlib_get(void)
{
    pthread_once(&blas_once, load_blas);
    return &table;
}

fn_status fn_mathlib_dnnl(void)
{
    pthread_once(&blas_once, load_blas);   /* the table's BLAS half first: dnnl copies it */
    pthread_once(&dnnl_once, load_dnnl);
    return dnnl_status == FN_OK ? FN_OK : fn_fail(dnnl_status, "%s", dnnl_error);
}

int fn_mathlib_have_openblas(void)
{
    pthread_once(&blas_once, load_blas);
    return have_openblas;
}

void *fn_mathlib_blas_symbol(const char *name)
{
    pthread_once(&blas_once, load_blas);
    return openblas ? dlsym(openblas, name) : NULL;
}
