/* test_engine_lazy.c — an engine loads its networks on first use: MTCNN on
 * the first fn_detect, MobileFaceNet's weights on the first embedding.
 * Observable oracles, no debug counters:
 *  - with a MobileFaceNet.tflite that is readable but not a model, the
 *    engine is created, says its dim and its identity (the first 16 hex of
 *    the file's SHA-256, computed here independently of the engine), detects
 *    the same faces as an engine on the real bundle — so nothing parsed the
 *    file — and only the first embedding fails, naming it; a second call
 *    gives the same failure;
 *  - with a pnet.tflite that is not a model, the engine is created and
 *    embeds aligned crops exactly as the real one; fn_detect fails naming it;
 *  - a missing file still fails fn_engine_new, with the loader's sentence;
 *  - four threads whose first call on one engine is fn_embed_faces (the
 *    load races) get embeddings bit-identical to a one-thread engine's. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "facenet.h"
#include "t.h"

static const char *models;

/* A models folder of links to the real bundle, with bad_file replaced by
 * text ("" = none replaced, "-" + name = that file left out). */
static const char *make_dir(const char *name, const char *bad_file)
{
    static char dirs[4][4096];
    static int k;
    char *dir = dirs[k++ % 4];
    snprintf(dir, sizeof dirs[0], "%s/%s", t_tmpdir(), name);
    if (mkdir(dir, 0700) != 0) return NULL;
    static const char *files[] = {"pnet.tflite", "rnet.tflite", "onet.tflite", "MobileFaceNet.tflite"};
    for (int i = 0; i < 4; i++) {
        char src[4096], dst[4200];
        snprintf(src, sizeof src, "%s/%s", models, files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        if (bad_file[0] == '-' && !strcmp(files[i], bad_file + 1)) continue;
        if (!strcmp(files[i], bad_file)) {
            FILE *f = fopen(dst, "wb");
            if (!f) return NULL;
            fputs("this is not a TFLite flatbuffer, only some text of the right name\n", f);
            fclose(f);
        } else if (symlink(src, dst) != 0) {
            return NULL;
        }
    }
    return dir;
}

static fn_engine *engine_on(const char *dir)
{
    fn_options o;
    fn_options_init(&o);
    o.models_dir = dir;
    fn_engine *e = NULL;
    if (fn_engine_new(&o, &e) != FN_OK) return NULL;
    return e;
}

static int same_faces(const fn_face *a, int na, const fn_face *b, int nb)
{
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (memcmp(a[i].box, b[i].box, sizeof a[i].box) || a[i].prob != b[i].prob ||
            memcmp(a[i].landmarks, b[i].landmarks, sizeof a[i].landmarks))
            return 0;
    return 1;
}

typedef struct job {
    fn_engine *e;
    const fn_image *img;
    const fn_face *faces;
    int n;
    float emb[8 * 512];
    fn_status s;
} job;

static void *embed_job(void *arg)
{
    job *j = arg;
    j->s = fn_embed_faces(j->e, j->img, j->faces, j->n, j->emb);
    return NULL;
}

int main(void)
{
    static char abs_models[4096];   /* the links in the temporary folders need an absolute target */
    if (!realpath(getenv("MODELS") ? getenv("MODELS") : "models", abs_models)) T_SKIP("no model bundle (make models)");
    models = abs_models;
    char mfn[4200];
    snprintf(mfn, sizeof mfn, "%s/MobileFaceNet.tflite", models);
    if (access(mfn, R_OK) != 0) T_SKIP("no model bundle in %s (make models)", models);
    const char *photo = t_shared("fixtures/film/Predict/Mohanlal/1.jpeg");
    fn_image img;
    T_CHECK(fn_image_load(photo, NULL, &img) == FN_OK, "%s: %s", photo, fn_last_error());

    fn_engine *ref = engine_on(models);
    T_CHECK(ref != NULL, "engine on %s: %s", models, fn_last_error());
    if (!ref) return T_DONE();
    fn_face want[8];
    int nwant = 0;
    T_CHECK(fn_detect(ref, &img, want, 8, &nwant) == FN_OK && nwant >= 1, "reference detect: %s", fn_last_error());
    if (nwant > 8) nwant = 8;
    float want_emb[8 * 192];
    T_CHECK(fn_embed_faces(ref, &img, want, nwant, want_emb) == FN_OK, "reference embed: %s", fn_last_error());

    /* ---- a MobileFaceNet file that is not a model: nothing reads it before the first embedding */
    const char *dir = make_dir("bad_mfn", "MobileFaceNet.tflite");
    T_CHECK(dir != NULL, "cannot make a models folder in %s", t_tmpdir());
    fn_engine *e = dir ? engine_on(dir) : NULL;
    T_CHECK(e != NULL, "engine with a bad MobileFaceNet.tflite not created: %s", fn_last_error());
    if (e) {
        char path[4200], hex[65], id[64];
        snprintf(path, sizeof path, "%s/MobileFaceNet.tflite", dir);
        fn_hash_file(path, hex);
        snprintf(id, sizeof id, "mobilefacenet-192@%.16s", hex);
        T_CHECK(!strcmp(fn_engine_model_id(e), id), "model id %s, want %s (the file's hash)", fn_engine_model_id(e), id);
        T_CHECK(fn_engine_dim(e) == 192 && fn_engine_input_size(e) == 112, "dim %d, input %d", fn_engine_dim(e),
                fn_engine_input_size(e));
        fn_face got[8];
        int ngot = 0;
        T_CHECK(fn_detect(e, &img, got, 8, &ngot) == FN_OK && same_faces(got, ngot < 8 ? ngot : 8, want, nwant),
                "detect beside a bad MobileFaceNet.tflite: %d faces, want %d the same (%s)", ngot, nwant, fn_last_error());
        float emb[8 * 192];
        fn_status s1 = fn_embed_faces(e, &img, want, nwant, emb);
        char first[600];
        snprintf(first, sizeof first, "%s", fn_last_error());
        T_CHECK(s1 != FN_OK && strstr(first, "MobileFaceNet") && strstr(first, "bad_mfn/MobileFaceNet.tflite"),
                "first embedding with a bad MobileFaceNet.tflite: status %d, '%s'", s1, first);
        fn_status s2 = fn_embed_faces(e, &img, want, nwant, emb);
        T_CHECK(s2 == s1 && !strcmp(fn_last_error(), first), "second embedding: status %d '%s', first %d '%s'", s2,
                fn_last_error(), s1, first);
        fn_engine_free(e);
    }

    /* ---- a P-Net file that is not a model: embedding works, detection fails naming it */
    dir = make_dir("bad_pnet", "pnet.tflite");
    e = dir ? engine_on(dir) : NULL;
    T_CHECK(e != NULL, "engine with a bad pnet.tflite not created: %s", fn_last_error());
    if (e) {
        fn_image crops[8];
        float emb[8 * 192];
        int ok = 1;
        for (int i = 0; i < nwant; i++) ok &= fn_align_face(ref, &img, &want[i], &crops[i]) == FN_OK;
        T_CHECK(ok && fn_embed_aligned(e, crops, nwant, emb) == FN_OK, "embed aligned beside a bad pnet: %s", fn_last_error());
        long where = 0;
        float d = t_max_abs_diff(emb, want_emb, (long)nwant * 192, &where);
        T_CHECK(d == 0.0f, "embeddings beside a bad pnet differ by %g at %ld", d, where);
        for (int i = 0; ok && i < nwant; i++) fn_image_free(&crops[i]);
        fn_face got[8];
        int ngot = 0;
        fn_status s = fn_detect(e, &img, got, 8, &ngot);
        T_CHECK(s != FN_OK && strstr(fn_last_error(), "MTCNN detector") && strstr(fn_last_error(), "bad_pnet/pnet.tflite"),
                "detect with a bad pnet.tflite: status %d, '%s'", s, fn_last_error());
        fn_engine_free(e);
    }

    /* ---- a missing file is still an error of fn_engine_new */
    dir = make_dir("no_onet", "-onet.tflite");
    e = dir ? engine_on(dir) : NULL;
    T_CHECK(!e && strstr(fn_last_error(), "no_onet/onet.tflite") && strstr(fn_last_error(), "cannot open"),
            "engine without onet.tflite: %s", e ? "created" : fn_last_error());
    fn_engine_free(e);
    dir = make_dir("no_mfn", "-MobileFaceNet.tflite");
    e = dir ? engine_on(dir) : NULL;
    T_CHECK(!e && strstr(fn_last_error(), "MobileFaceNet") && strstr(fn_last_error(), "cannot open"),
            "engine without MobileFaceNet.tflite: %s", e ? "created" : fn_last_error());
    fn_engine_free(e);

    /* ---- the first use from four threads at once */
    e = engine_on(models);
    T_CHECK(e != NULL, "engine: %s", fn_last_error());
    if (e) {
        job jobs[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            jobs[i] = (job){.e = e, .img = &img, .faces = want, .n = nwant};
            pthread_create(&th[i], NULL, embed_job, &jobs[i]);
        }
        for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
        for (int i = 0; i < 4; i++) {
            long where = 0;
            float d = jobs[i].s == FN_OK ? t_max_abs_diff(jobs[i].emb, want_emb, (long)nwant * 192, &where) : -1.0f;
            T_CHECK(d == 0.0f, "thread %d: status %d, embeddings differ by %g at %ld", i, jobs[i].s, d, where);
        }
        fn_engine_free(e);
    }
    printf("lazy engine: identity and detection without parsing MobileFaceNet, embedding without P-Net, "
           "missing files refused at creation, a racing first use from 4 threads (%d faces)\n", nwant);
    fn_engine_free(ref);
    fn_image_free(&img);
    return T_DONE();
}
