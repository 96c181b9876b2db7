/* The facenet CLI on a user's FaceNet checkpoint: `embed --aligned --json`
 * and `compare` give facenet-pytorch's embeddings (fixture embeddings.npy),
 * and bad input gets a clear message and a non-zero exit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "t.h"

static const char *names[5] = {"angelina_jolie", "bradley_cooper", "kate_siegel", "paul_rudd", "shea_whigham"};

static const char *checkpoint(void)
{
    static char path[512];
    const char *xz = t_shared("fixtures/facenet_random/irv1_random_legacy.pt.xz");
    snprintf(path, sizeof path, "%s/irv1.pt", t_tmpdir());
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", xz, path);
    if (system(cmd) != 0) T_SKIP("xz could not decompress %s", xz);
    return path;
}

static void test_embed_json(const char *ckpt)
{
    t_npy want;
    T_CHECK(t_npy_load(t_shared("fixtures/facenet_random/embeddings.npy"), &want) == 0, "embeddings.npy");
    char files[4096] = "";
    for (int i = 0; i < 5; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "fixtures/facenet_random/aligned_%s.png", names[i]);
        strcat(files, " ");
        strcat(files, t_shared(rel));
    }
    t_run r;
    t_facenet(&r, "embed --model %s --aligned --json %s", ckpt, files);
    T_CHECK(r.status == 0, "embed exit %d: %s", r.status, r.err);
    T_CHECK(t_count_lines(r.out) == 5, "%d lines", t_count_lines(r.out));
    float worst = 0;
    for (int i = 0; i < 5; i++) {
        cJSON *j = t_json_line(r.out, i);
        cJSON *emb = cJSON_GetObjectItem(j, "embedding");
        cJSON *file = cJSON_GetObjectItem(j, "file");
        T_CHECK(cJSON_IsString(file) && strstr(file->valuestring, names[i]), "line %d file", i);
        T_CHECK(cJSON_GetArraySize(emb) == 512, "line %d has %d values", i, cJSON_GetArraySize(emb));
        for (int k = 0; k < 512 && k < cJSON_GetArraySize(emb); k++) {
            float d = fabsf((float)cJSON_GetArrayItem(emb, k)->valuedouble - want.data[i * 512 + k]);
            if (d > worst) worst = d;
        }
        cJSON_Delete(j);
    }
    printf("embed --aligned --json vs facenet-pytorch: max |delta| %.3g over 5 x 512\n", worst);
    T_CHECK(worst <= 1e-4f, "max |delta| %g > 1e-4", worst);

    /* compare: the distance of the fixture's own embeddings 0 and 3. */
    double d2 = 0;
    for (int k = 0; k < 512; k++) d2 += pow(want.data[k] - want.data[3 * 512 + k], 2);
    t_run_free(&r);
    t_facenet(&r, "compare --model %s --aligned --json %s/fixtures/facenet_random/aligned_%s.png "
                  "%s/fixtures/facenet_random/aligned_%s.png", ckpt, getenv("SHARED") ? getenv("SHARED") : "../shared",
              names[0], getenv("SHARED") ? getenv("SHARED") : "../shared", names[3]);
    cJSON *j = t_json_line(r.out, 0);
    double got = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "distance"));
    printf("compare: distance %.6f, expected %.6f\n", got, sqrt(d2));
    T_CHECK(r.status == 0 && fabs(got - sqrt(d2)) < 1e-4, "compare distance %g vs %g (%s)", got, sqrt(d2), r.err);
    cJSON_Delete(j);
    t_run_free(&r);
    t_npy_free(&want);
}

static void expect_failure(const char *what, const char *needle, const char *fmt, const char *a, const char *b)
{
    t_run r;
    t_facenet(&r, fmt, a, b);
    T_CHECK(r.status != 0, "%s: exit %d", what, r.status);
    T_CHECK(strstr(r.err, needle) != NULL, "%s: message '%s' lacks '%s'", what, r.err, needle);
    printf("%s -> exit %d: %s", what, r.status, r.err);
    t_run_free(&r);
}

static void test_bad_input(const char *ckpt)
{
    const char *crop = t_shared("fixtures/facenet_random/aligned_paul_rudd.png");
    const char *tmp = t_tmpdir();
    char trunc[512], garbage[512], textimg[512], trjpg[512], cmd[2048];
    snprintf(trunc, sizeof trunc, "%s/truncated.pt", tmp);
    snprintf(cmd, sizeof cmd, "head -c 3000000 '%s' > '%s'", ckpt, trunc);
    T_CHECK(system(cmd) == 0, "head");
    expect_failure("truncated checkpoint", "truncated.pt", "embed --model %s --aligned %s", trunc, crop);
    snprintf(garbage, sizeof garbage, "%s/garbage.pt", tmp);
    snprintf(cmd, sizeof cmd, "head -c 5000 /dev/urandom > '%s'", garbage);
    T_CHECK(system(cmd) == 0, "urandom");
    expect_failure("garbage checkpoint", "garbage.pt", "embed --model %s --aligned %s", garbage, crop);
    expect_failure("checkpoint of another network", "conv2d_1a", "embed --model %s --aligned %s",
                   t_shared("fixtures/mtcnn/pnet.pt"), crop);
    expect_failure("missing checkpoint", "nope.pt", "embed --model %s/nope.pt --aligned %s", tmp, crop);
    snprintf(textimg, sizeof textimg, "%s/notes.png", tmp);
    snprintf(cmd, sizeof cmd, "echo 'not an image' > '%s'", textimg);
    T_CHECK(system(cmd) == 0, "echo");
    expect_failure("a non-image", "notes.png", "embed --model %s --aligned %s", ckpt, textimg);
    snprintf(trjpg, sizeof trjpg, "%s/cut.jpg", tmp);
    snprintf(cmd, sizeof cmd, "head -c 20000 '%s' > '%s'", t_shared("fixtures/images/paul_rudd.jpg"), trjpg);
    T_CHECK(system(cmd) == 0, "head jpg");
    expect_failure("truncated JPEG", "cut.jpg", "embed --model %s --aligned %s", ckpt, trjpg);
    expect_failure("wrong crop size", "160x160", "embed --model %s --aligned %s", ckpt,
                   t_shared("fixtures/images/multiface.jpg"));
}

/* Max |a - b| between the "embedding" arrays of two JSON lines. */
static float embedding_gap(cJSON *a, cJSON *b)
{
    cJSON *ea = cJSON_GetObjectItem(a, "embedding"), *eb = cJSON_GetObjectItem(b, "embedding");
    int n = cJSON_GetArraySize(ea);
    if (n != 512 || cJSON_GetArraySize(eb) != 512) return INFINITY;
    float worst = 0;
    for (int k = 0; k < n; k++) {
        float d = fabsf((float)(cJSON_GetArrayItem(ea, k)->valuedouble - cJSON_GetArrayItem(eb, k)->valuedouble));
        if (d > worst) worst = d;
    }
    return worst;
}

/* The whole pipeline (detect with facenet-pytorch's MTCNN weights, crop,
 * embed) gives the embedding of facenet-pytorch's own crop of each
 * portrait's most probable face (fixtures/mtcnn_crops/NAME_0.png). */
static void test_pipeline_matches_reference_crops(const char *ckpt)
{
    static const char *portraits[4] = {"angelina_jolie", "kate_siegel", "paul_rudd", "shea_whigham"};
    const char *mtcnn = t_shared("fixtures/mtcnn/pnet.pt");
    char dir[512];
    snprintf(dir, sizeof dir, "%s", mtcnn);
    *strrchr(dir, '/') = '\0';
    for (int i = 0; i < 4; i++) {
        char img[128], crop[128];
        snprintf(img, sizeof img, "fixtures/images/%s.jpg", portraits[i]);
        snprintf(crop, sizeof crop, "fixtures/mtcnn_crops/%s_0.png", portraits[i]);
        t_run full, ref;
        t_facenet(&full, "embed --model %s --mtcnn-dir %s --json %s", ckpt, dir, t_shared(img));
        t_facenet(&ref, "embed --model %s --aligned --json %s", ckpt, t_shared(crop));
        cJSON *a = t_json_line(full.out, 0), *b = t_json_line(ref.out, 0);
        float gap = embedding_gap(a, b);
        printf("%s: pipeline vs reference crop: max |delta| %.3g\n", portraits[i], gap);
        T_CHECK(full.status == 0 && ref.status == 0, "%s: exit %d/%d %s %s", portraits[i], full.status, ref.status,
                full.err, ref.err);
        T_CHECK(gap <= 1e-3f, "%s: max |delta| %g > 1e-3", portraits[i], gap);
        cJSON_Delete(a);
        cJSON_Delete(b);
        t_run_free(&full);
        t_run_free(&ref);
    }
}

/* `facenet eval --model PATH.pt` runs the FaceNet path end to end (a smoke
 * test: random weights recognise nobody in particular). */
static void test_eval_smoke(const char *ckpt)
{
    const char *models = t_models("pnet.tflite");
    if (!models) {
        printf("eval smoke test skipped: the model bundle is absent (make models)\n");
        return;
    }
    char mdir[512], probes[512], cmd[2048];
    snprintf(mdir, sizeof mdir, "%s", models);
    *strrchr(mdir, '/') = '\0';
    snprintf(probes, sizeof probes, "%s/probes", t_tmpdir());
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -sf '%s' '%s/Mohanlal'", probes, t_shared("fixtures/film/Predict/Mohanlal"),
             probes);
    T_CHECK(system(cmd) == 0, "probe dir");
    t_run r;
    t_facenet(&r, "eval --no-cache --models-dir %s --model %s --gallery-dir '%s' --probe-dir %s --json", mdir, ckpt,
              t_shared("fixtures/film/Film/Test"), probes);
    cJSON *j = t_json_line(r.out, t_count_lines(r.out) - 1);
    cJSON *acc = cJSON_GetObjectItem(j, "accuracy");
    printf("eval --model irv1 (random weights) on Mohanlal's 10 photos: exit %d, accuracy %s\n", r.status,
           cJSON_IsNumber(acc) ? "present" : "missing");
    T_CHECK(r.status == 0 && cJSON_IsNumber(acc), "eval --model .pt: exit %d %s", r.status, r.err);
    cJSON_Delete(j);
    t_run_free(&r);
}

int main(void)
{
    const char *ckpt = checkpoint();
    test_embed_json(ckpt);
    test_pipeline_matches_reference_crops(ckpt);
    test_eval_smoke(ckpt);
    test_bad_input(ckpt);
    return T_DONE();
}
