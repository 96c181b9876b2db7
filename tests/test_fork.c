/* test_fork.c — a child of fork() computes, and computes the same numbers.
 * libgomp's threads do not survive fork(); without the library's fork handler
 * (src/core/error.c) a child whose parent had run a parallel region waits for
 * good in its own first one — Python's multiprocessing "fork" Pool hung so.
 * Oracle: the parent's own results.  The parent detects faces in a photo
 * (a drawn picture without the reference data) and embeds an aligned crop on its OpenMP threads, forks, and the child does
 * both again on the same engine; within 60 s it must send back the same face
 * count and boxes and an embedding within 1e-5 of the parent's (one thread
 * may sum in another order), and exit 0.  Run twice: two forks in a row. */
#include <math.h>
#include <omp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "facenet.h"
#include "t.h"

enum { MAXF = 16, DIM_MAX = 512 };

typedef struct result {
    int nfaces;
    float boxes[MAXF][4];
    float emb[DIM_MAX];
} result;

/* A picture with structure at every scale (rings and a gradient): the
 * pyramid's parallel regions all run whatever it finds. */
static void picture(fn_image *img, int w, int h)
{
    fn_image_alloc(img, w, h, 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double r = sqrt((double)(x - w / 2) * (x - w / 2) + (double)(y - h / 2) * (y - h / 2));
            uint8_t *p = img->data + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(128 + 100 * sin(r / 7.0));
            p[1] = (uint8_t)(255 * x / w);
            p[2] = (uint8_t)(255 * y / h);
        }
}

static fn_status compute(fn_engine *e, const fn_image *img, const fn_image *crop, int dim, result *r)
{
    memset(r, 0, sizeof *r);
    fn_face f[MAXF];
    int n = 0;
    fn_status s = fn_detect(e, img, f, MAXF, &n);
    if (s != FN_OK) return s;
    r->nfaces = n;
    for (int i = 0; i < n && i < MAXF; i++) memcpy(r->boxes[i], f[i].box, sizeof r->boxes[i]);
    return dim <= DIM_MAX ? fn_embed_aligned(e, crop, 1, r->emb) : FN_ERR_ARG;
}

static int read_all(int fd, void *buf, size_t n, int timeout_ms)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return -1;   /* timed out: the child hangs */
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

static void one_fork(fn_engine *e, const fn_image *img, const fn_image *crop, int dim, const result *want, int round)
{
    int fds[2];
    T_CHECK(pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        result r;
        int ok = compute(e, img, crop, dim, &r) == FN_OK;
        ssize_t w = ok ? write(fds[1], &r, sizeof r) : -1;
        _exit(ok && w == (ssize_t)sizeof r ? 0 : 3);
    }
    close(fds[1]);
    result got;
    int rc = read_all(fds[0], &got, sizeof got, 60000);
    close(fds[0]);
    if (rc != 0) kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    T_CHECK(rc == 0, "fork %d: the child sent nothing within 60 s (it hangs in its first parallel region?)", round);
    T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork %d: the child's exit status %d", round, st);
    if (rc != 0) return;
    T_CHECK(got.nfaces == want->nfaces, "fork %d: the child found %d faces, the parent %d", round, got.nfaces,
            want->nfaces);
    int same_boxes = got.nfaces == want->nfaces;
    for (int i = 0; same_boxes && i < got.nfaces && i < MAXF; i++)
        for (int k = 0; k < 4; k++) same_boxes &= fabsf(got.boxes[i][k] - want->boxes[i][k]) < 1e-3f;
    T_CHECK(same_boxes, "fork %d: the child's boxes differ from the parent's", round);
    float worst = 0;
    for (int i = 0; i < dim; i++) worst = fmaxf(worst, fabsf(got.emb[i] - want->emb[i]));
    T_CHECK(worst < 1e-5f, "fork %d: the child's embedding differs from the parent's by %g", round, (double)worst);
    printf("fork %d: the child found %d faces and embedded the crop (largest difference %.2g)\n", round, got.nfaces,
           (double)worst);
}

int main(void)
{
    const char *mf = t_models("MobileFaceNet.tflite");
    if (!mf) T_SKIP("models are absent (run `make models`, or set MODELS=dir)");
    fn_options o;
    fn_options_init(&o);
    o.models_dir = getenv("MODELS") ? getenv("MODELS") : "models";
    fn_engine *e = NULL;
    if (fn_engine_new(&o, &e) != FN_OK) {
        T_CHECK(0, "engine: %s", fn_last_error());
        return T_DONE();
    }
    printf("parent: %d OpenMP threads\n", omp_get_max_threads());
    fn_image img = {0}, crop = {0};
    /* a photo with a face when the reference data is there, else a drawn picture (no face) */
    const char *photo = t_shared_or("fixtures/film/Predict/Mohanlal/8.jpeg", "the forked child finds the same face "
                                    "in a photo");
    if (!photo || fn_image_load(photo, NULL, &img) != FN_OK) picture(&img, 640, 480);
    picture(&crop, 112, 112);
    int dim = fn_engine_dim(e);
    result want;
    T_CHECK(compute(e, &img, &crop, dim, &want) == FN_OK, "parent: %s", fn_last_error());
    one_fork(e, &img, &crop, dim, &want, 1);
    one_fork(e, &img, &crop, dim, &want, 2);
    /* the parent keeps its threads */
    T_CHECK(omp_get_max_threads() >= 1, "parent threads");
    result again;
    T_CHECK(compute(e, &img, &crop, dim, &again) == FN_OK && !memcmp(&again, &want, sizeof want),
            "the parent after the forks: %s", fn_last_error());
    fn_image_free(&img);
    fn_image_free(&crop);
    fn_engine_free(e);
    return T_DONE();
}
