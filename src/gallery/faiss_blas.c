/* faiss_blas.c — the Fortran BLAS/LAPACK entries FAISS calls (sgemm_ and
 * twelve more), defined here and forwarded to the OpenBLAS that
 * src/nn/mathlib.c opens on first use.  FAISS is linked statically into the
 * library; without these its references would make OpenBLAS a link-time
 * dependency, loaded by every command at start (~10 ms of CPU, with
 * libgfortran), though only a gallery of 50,000 rows and more uses FAISS.
 * ann.c refuses to build an index when OpenBLAS cannot be loaded (the
 * exact scan then serves), so these are never called without it.
 *
 * Every argument of a Fortran routine is passed by reference, so each
 * forwarder takes and passes its routine's number of pointers (the LAPACK
 * reference's signatures; FAISS declares them the same way, without
 * hidden string lengths, which OpenBLAS's entries do not read). */
#include <pthread.h>
#include <stddef.h>

#include "nn/mathlib.h"

#define FN_F77(X)                                                                                      \
    X(sgemm_) X(dgemm_) X(ssyrk_) X(sgeqrf_) X(sorgqr_) X(sgesvd_) X(dgesvd_) X(sgetrf_) X(sgetri_) \
    X(dgetrf_) X(dgetri_) X(dsyev_) X(sgelsd_)

typedef int (*f77_fn)(void *, ...);
#define FN_F77_ENUM(name) F77_##name,
enum { FN_F77(FN_F77_ENUM) F77_N };
#undef FN_F77_ENUM

static void *fns[F77_N];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    static const char *const names[F77_N] = {
#define FN_F77_NAME(name) #name,
        FN_F77(FN_F77_NAME)
#undef FN_F77_NAME
    };
    for (int i = 0; i < F77_N; i++) fns[i] = fn_mathlib_blas_symbol(names[i]);
}

static f77_fn get(int i)
{
    pthread_once(&once, load);
    f77_fn f;
    void *p = fns[i];
    __builtin_memcpy(&f, &p, sizeof f);
    return f;
}

/* Called by ann.c before FAISS is used: 1 when every routine is there.
 * (The call also makes a static link take this file from libfacenet.a
 * before it reaches libfaiss.a.) */
int fn_faiss_blas_ready(void);
int fn_faiss_blas_ready(void)
{
    pthread_once(&once, load);
    for (int i = 0; i < F77_N; i++)
        if (!fns[i]) return 0;
    return 1;
}

#define P void *
int sgemm_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m);
int dgemm_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m);
int ssyrk_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j);
int sgeqrf_(P a, P b, P c, P d, P e, P f, P g, P h);
int sorgqr_(P a, P b, P c, P d, P e, P f, P g, P h, P i);
int sgesvd_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m, P n);
int dgesvd_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m, P n);
int sgetrf_(P a, P b, P c, P d, P e, P f);
int sgetri_(P a, P b, P c, P d, P e, P f, P g);
int dgetrf_(P a, P b, P c, P d, P e, P f);
int dgetri_(P a, P b, P c, P d, P e, P f, P g);
int dsyev_(P a, P b, P c, P d, P e, P f, P g, P h, P i);
int sgelsd_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m, P n);

int sgemm_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m) { return get(F77_sgemm_)(a, b, c, d, e, f, g, h, i, j, k, l, m); }
int dgemm_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m) { return get(F77_dgemm_)(a, b, c, d, e, f, g, h, i, j, k, l, m); }
int ssyrk_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j) { return get(F77_ssyrk_)(a, b, c, d, e, f, g, h, i, j); }
int sgeqrf_(P a, P b, P c, P d, P e, P f, P g, P h) { return get(F77_sgeqrf_)(a, b, c, d, e, f, g, h); }
int sorgqr_(P a, P b, P c, P d, P e, P f, P g, P h, P i) { return get(F77_sorgqr_)(a, b, c, d, e, f, g, h, i); }
int sgesvd_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m, P n) { return get(F77_sgesvd_)(a, b, c, d, e, f, g, h, i, j, k, l, m, n); }
int dgesvd_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m, P n) { return get(F77_dgesvd_)(a, b, c, d, e, f, g, h, i, j, k, l, m, n); }
int sgetrf_(P a, P b, P c, P d, P e, P f) { return get(F77_sgetrf_)(a, b, c, d, e, f); }
int sgetri_(P a, P b, P c, P d, P e, P f, P g) { return get(F77_sgetri_)(a, b, c, d, e, f, g); }
int dgetrf_(P a, P b, P c, P d, P e, P f) { return get(F77_dgetrf_)(a, b, c, d, e, f); }
int dgetri_(P a, P b, P c, P d, P e, P f, P g) { return get(F77_dgetri_)(a, b, c, d, e, f, g); }
int dsyev_(P a, P b, P c, P d, P e, P f, P g, P h, P i) { return get(F77_dsyev_)(a, b, c, d, e, f, g, h, i); }
int sgelsd_(P a, P b, P c, P d, P e, P f, P g, P h, P i, P j, P k, P l, P m, P n) { return get(F77_sgelsd_)(a, b, c, d, e, f, g, h, i, j, k, l, m, n); }
