/* Benchmark: InceptionResnetV1 load time, ms/face at batch 1 and 16, peak
 * RSS, and where the time goes (segments between the named layers).
 * Usage: bench_irv1 checkpoint.pt [iterations]   (prints key=value lines) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "io/weights.h"
#include "models/inception_resnet_v1.h"

#define IN_PER (3 * FN_IRV1_SIZE * FN_IRV1_SIZE)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Per-layer timing through the debug tap: time since the previous tap. */
typedef struct seg { const char *name[16]; double ms[16]; int n; double last; } seg;

static void on_tap(void *user, const char *layer, const fn_tensor *act)
{
    (void)act;
    seg *s = user;
    double t = now_ms();
    if (s->n < 16) { s->name[s->n] = layer; s->ms[s->n] += t - s->last; s->n++; }
    s->last = now_ms();   /* excludes the tap's own cost from the next segment */
}

/* CPU time of the whole process (all threads, user + system): unlike wall
 * time it barely depends on what else the machine runs, so it shows the
 * work itself (spin-waiting OpenMP threads count as work here). */
static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double run(fn_irv1 *m, const float *in, int batch, int iters, float *emb, double *cpu_per_face, double *first)
{
    double tf = now_ms();
    fn_irv1_embed(m, in, batch, emb, NULL);   /* warm-up: builds the plans for this batch */
    *first = now_ms() - tf;
    double best = 1e30, c0 = cpu_ms();
    for (int i = 0; i < iters; i++) {
        double t0 = now_ms();
        if (fn_irv1_embed(m, in, batch, emb, NULL) != FN_OK) { fprintf(stderr, "embed: %s\n", fn_last_error()); exit(1); }
        double t = (now_ms() - t0) / batch;
        if (t < best) best = t;
    }
    *cpu_per_face = (cpu_ms() - c0) / ((double)iters * batch);
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: %s checkpoint.pt [iterations]\n", argv[0]); return 2; }
    int iters = argc > 2 ? atoi(argv[2]) : 10;
    double t0 = now_ms();
    fn_weights *w = NULL;
    fn_irv1 *m = NULL;
    if (fn_weights_load_pt(argv[1], &w) != FN_OK) { fprintf(stderr, "load: %s\n", fn_last_error()); return 1; }
    double t_read = now_ms() - t0;
    if (fn_irv1_new(w, &m) != FN_OK) { fprintf(stderr, "model: %s\n", fn_last_error()); return 1; }
    fn_weights_free(w);
    double t_load = now_ms() - t0;
    int maxb = 16;
    float *in = malloc(sizeof(float) * IN_PER * maxb), *emb = malloc(sizeof(float) * FN_IRV1_DIM * maxb);
    unsigned s = 12345;
    for (long i = 0; i < (long)IN_PER * maxb; i++) { s = s * 1103515245u + 12345u; in[i] = (float)((s >> 9) & 0xFFFF) / 32768.0f - 1.0f; }
    double t_first = now_ms();
    fn_irv1_embed(m, in, 1, emb, NULL);
    t_first = now_ms() - t_first;
    double c1, c16, f1, f16;
    double b1 = run(m, in, 1, iters, emb, &c1, &f1);
    double b16 = run(m, in, 16, iters > 3 ? iters / 3 : 1, emb, &c16, &f16);
    /* per-layer breakdown at batch 1, summed over iterations */
    seg sg = {0};
    for (int i = 0; i < iters; i++) {
        sg.n = 0;
        sg.last = now_ms();
        fn_irv1_embed_debug(m, NULL, in, 1, emb, NULL, on_tap, &sg);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("load_ms=%.1f (checkpoint read %.1f, model prepare %.1f)\n", t_load, t_read, t_load - t_read);
    printf("first_call_ms=%.1f\n", t_first);
    printf("first_batch16_call_ms=%.1f (builds the batch-16 plans)\n", f16);
    printf("batch1_ms_per_face=%.2f\n", b1);
    printf("batch16_ms_per_face=%.2f\n", b16);
    printf("batch1_cpu_ms_per_face=%.2f (mean, all threads)\n", c1);
    printf("batch16_cpu_ms_per_face=%.2f (mean, all threads)\n", c16);
    printf("peak_rss_mb=%.1f\n", ru.ru_maxrss / 1024.0);
    double total = 0;
    for (int i = 0; i < sg.n; i++) total += sg.ms[i];
    printf("breakdown (batch 1, ms per face, segment ending at the named layer):\n");
    for (int i = 0; i < sg.n; i++) printf("  %-12s %6.2f  %4.1f%%\n", sg.name[i], sg.ms[i] / iters, 100.0 * sg.ms[i] / total);
    fn_irv1_free(m);
    free(in);
    free(emb);
    return 0;
}
