/* Benchmark: MobileFaceNet (the bundle's MobileFaceNet.tflite) load time,
 * ms/face at batch 1 and 8 on the fast path (best and median of the
 * iterations), the reference path once, and peak RSS.  No peer: nothing on
 * this machine runs TFLite.
 * Usage: bench_mobilefacenet models/MobileFaceNet.tflite [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "io/tflite.h"
#include "models/mobilefacenet.h"

#define IN_PER (3 * FN_MFN_SIZE * FN_MFN_SIZE)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Best and median ms per face over iters calls of batch faces. */
static void run(fn_mfn *m, const float *in, int batch, int iters, float *emb, double *best, double *median)
{
    double *t = malloc(sizeof(double) * (size_t)iters);
    fn_mfn_embed(m, in, batch, emb);
    for (int i = 0; i < iters; i++) {
        double t0 = now_ms();
        if (fn_mfn_embed(m, in, batch, emb) != FN_OK) { fprintf(stderr, "embed: %s\n", fn_last_error()); exit(1); }
        t[i] = (now_ms() - t0) / batch;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp);
    *best = t[0];
    *median = t[iters / 2];
    free(t);
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: %s MobileFaceNet.tflite [iterations]\n", argv[0]); return 2; }
    int iters = argc > 2 ? atoi(argv[2]) : 50;
    if (iters < 1) iters = 1;
    double t0 = now_ms();
    fn_weights *w = NULL;
    fn_mfn *m = NULL;
    if (fn_weights_load_tflite(argv[1], &w) != FN_OK) { fprintf(stderr, "load: %s\n", fn_last_error()); return 1; }
    double t_read = now_ms() - t0;
    if (fn_mfn_new(w, &m) != FN_OK) { fprintf(stderr, "model: %s\n", fn_last_error()); return 1; }
    fn_weights_free(w);
    double t_load = now_ms() - t0;

    int maxb = 8;
    float *in = malloc(sizeof(float) * IN_PER * maxb), *emb = malloc(sizeof(float) * FN_MFN_DIM * maxb);
    unsigned s = 12345;
    for (long i = 0; i < (long)IN_PER * maxb; i++) { s = s * 1103515245u + 12345u; in[i] = (float)((s >> 9) & 0xFFFF) / 32768.0f - 1.0f; }
    /* What one face costs a fresh handle on each plan: the direct kernels
     * need nothing prepared; oneDNN first reorders and compiles its layers. */
    double first[2];
    for (int p = 0; p < 2; p++) {
        fn_weights *w2 = NULL;
        fn_mfn *m2 = NULL;
        if (fn_weights_load_tflite(argv[1], &w2) != FN_OK || fn_mfn_new(w2, &m2) != FN_OK) {
            fprintf(stderr, "model: %s\n", fn_last_error()); return 1;
        }
        fn_weights_free(w2);
        double tf = now_ms();
        if (fn_mfn_set_plan(m2, p ? FN_MFN_ONEDNN : FN_MFN_DIRECT) != FN_OK || fn_mfn_embed(m2, in, 1, emb) != FN_OK) {
            fprintf(stderr, "embed: %s\n", fn_last_error()); return 1;
        }
        first[p] = now_ms() - tf;
        fn_mfn_free(m2);
    }
    double d1, dm1, b1, m1, b8, m8;
    fn_mfn_set_plan(m, FN_MFN_DIRECT);
    run(m, in, 1, iters, emb, &d1, &dm1);
    if (fn_mfn_set_plan(m, FN_MFN_ONEDNN) != FN_OK) { fprintf(stderr, "oneDNN: %s\n", fn_last_error()); return 1; }
    run(m, in, 1, iters, emb, &b1, &m1);
    run(m, in, maxb, iters > 4 ? iters / 4 : 1, emb, &b8, &m8);
    double tr = now_ms();
    fn_mfn_embed_ref(m, in, 1, emb, 0);
    tr = now_ms() - tr;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("load_ms=%.1f (tflite read %.1f, model prepare %.1f)\n", t_load, t_read, t_load - t_read);
    printf("first_face_direct_ms=%.1f first_face_onednn_ms=%.1f (a fresh handle: plan, then one face)\n", first[0], first[1]);
    printf("direct_batch1_ms_per_face=%.2f (median %.2f)\n", d1, dm1);
    printf("batch1_ms_per_face=%.2f (median %.2f)\n", b1, m1);
    printf("batch8_ms_per_face=%.2f (median %.2f)\n", b8, m8);
    printf("reference_ms_per_face=%.0f\n", tr);
    printf("peak_rss_mb=%.1f\n", ru.ru_maxrss / 1024.0);
    fn_mfn_free(m);
    free(in);
    free(emb);
    return 0;
}
