/* The facenet CLI on a user's FaceNet checkpoint: `embed --aligned --json`
 * and `compare` give facenet-pytorch's embeddings (fixture embeddings.npy),
 * and bad input gets a clear message and a non-zero exit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "t.h"
#include "facenet.h"
#include "irv1_random.h"
#include "models/inception_resnet_v1.h"
#include "pt_write.h"

/* With the reference data: its random checkpoint, crops and the embeddings
 * facenet-pytorch computed.  Without it: a random checkpoint written here,
 * crops drawn here, and the library's own InceptionResnetV1 as the oracle
 * for what the CLI prints. */
static int have_fixture;
static fn_weights *made;        /* the checkpoint written here (no fixture) */
static char drawn[2][512], photo[512];

static const char *names[5] = {"angelina_jolie", "bradley_cooper", "kate_siegel", "paul_rudd", "shea_whigham"};

/* A w x h RGB picture of smooth colour waves (no face), saved as PNG or JPEG. */
static void draw(const char *path, int w, int h, int seed)
{
    fn_image img = {w, h, 3, malloc((size_t)w * h * 3)};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                img.data[((size_t)y * w + x) * 3 + c] =
                    (uint8_t)(127.5 + 120 * sin(0.05 * (x + 7 * seed) * (c + 1) + 0.031 * y * (seed + 1)));
    fn_status st = strstr(path, ".png") ? fn_image_save_png(path, &img) : fn_image_save_jpeg(path, &img, 95);
    T_CHECK(st == FN_OK, "writing %s: %s", path, fn_last_error());
    free(img.data);
}

static const char *checkpoint(void)
{
    static char path[512];
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/fixtures/facenet_random/irv1_random_legacy.pt.xz", t_shared_dir());
    have_fixture = access(probe, R_OK) == 0;
    if (!have_fixture) {
        t_not_checked("the CLI's embeddings against facenet-pytorch's (needs %s/fixtures/facenet_random): a random "
                      "checkpoint and crops made here are checked against the library's own network instead",
                      t_shared_dir());
        made = t_irv1_random(777u, 8631);
        snprintf(path, sizeof path, "%s/irv1_random.pt", t_tmpdir());
        if (!made || ptw_save_weights(made, path, 1) != 0) { T_CHECK(0, "cannot write %s", path); exit(T_DONE()); }
        for (int i = 0; i < 2; i++) {
            snprintf(drawn[i], sizeof drawn[i], "%s/crop%d.png", t_tmpdir(), i);
            draw(drawn[i], FN_IRV1_SIZE, FN_IRV1_SIZE, i);
        }
        snprintf(photo, sizeof photo, "%s/photo.jpg", t_tmpdir());
        draw(photo, 640, 480, 5);
        return path;
    }
    const char *xz = t_shared("fixtures/facenet_random/irv1_random_legacy.pt.xz");
    snprintf(path, sizeof path, "%s/irv1.pt", t_tmpdir());
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", xz, path);
    if (system(cmd) != 0) T_SKIP("xz could not decompress %s", xz);
    return path;
}

/* compare A B must print the Euclidean distance between embeddings ea and eb. */
static void check_compare(const char *ckpt, const char *a, const char *b, const float *ea, const float *eb)
{
    double d2 = 0;
    for (int k = 0; k < 512; k++) d2 += pow(ea[k] - eb[k], 2);
    t_run r;
    t_facenet(&r, "compare --model %s --aligned --json %s %s", ckpt, a, b);
    cJSON *j = t_json_line(r.out, 0);
    double got = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "distance"));
    printf("compare: distance %.6f, expected %.6f\n", got, sqrt(d2));
    T_CHECK(r.status == 0 && fabs(got - sqrt(d2)) < 1e-4, "compare distance %g vs %g (%s)", got, sqrt(d2), r.err);
    cJSON_Delete(j);
    t_run_free(&r);
}

/* Without the fixture: embed and compare print what the library computes
 * on the same crops ((x - 127.5) / 128, RGB planes). */
static void test_embed_json_drawn(const char *ckpt)
{
    fn_irv1 *m = NULL;
    T_CHECK(fn_irv1_new(made, &m) == FN_OK, "fn_irv1_new: %s", fn_last_error());
    if (!m) return;
    float want[2][FN_IRV1_DIM];
    float *in = malloc(sizeof(float) * 3 * FN_IRV1_SIZE * FN_IRV1_SIZE);
    for (int i = 0; i < 2; i++) {
        fn_image img = {0};
        T_CHECK(fn_image_load(drawn[i], NULL, &img) == FN_OK, "%s: %s", drawn[i], fn_last_error());
        if (!img.data) { free(in); fn_irv1_free(m); return; }
        int plane = FN_IRV1_SIZE * FN_IRV1_SIZE;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++) in[c * plane + p] = (img.data[p * 3 + c] - 127.5f) / 128.0f;
        T_CHECK(fn_irv1_embed(m, in, 1, want[i], NULL) == FN_OK, "embed: %s", fn_last_error());
        fn_image_free(&img);
    }
    free(in);
    fn_irv1_free(m);
    t_run r;
    t_facenet(&r, "embed --model %s --aligned --json %s %s", ckpt, drawn[0], drawn[1]);
    T_CHECK(r.status == 0 && t_count_lines(r.out) == 2, "embed exit %d, %d lines: %s", r.status,
            t_count_lines(r.out), r.err);
    float worst = 0;
    for (int i = 0; i < 2 && i < t_count_lines(r.out); i++) {
        cJSON *j = t_json_line(r.out, i);
        cJSON *emb = cJSON_GetObjectItem(j, "embedding");
        T_CHECK(cJSON_GetArraySize(emb) == FN_IRV1_DIM, "line %d has %d values", i, cJSON_GetArraySize(emb));
        for (int k = 0; k < FN_IRV1_DIM && k < cJSON_GetArraySize(emb); k++)
            worst = fmaxf(worst, fabsf((float)cJSON_GetArrayItem(emb, k)->valuedouble - want[i][k]));
        cJSON_Delete(j);
    }
    printf("embed --aligned --json (random checkpoint, drawn crops) vs the library: max |delta| %.3g\n", worst);
    T_CHECK(worst <= 1e-4f, "max |delta| %g > 1e-4", worst);
    t_run_free(&r);
    check_compare(ckpt, drawn[0], drawn[1], want[0], want[1]);
}

static void test_embed_json(const char *ckpt)
{
    if (!have_fixture) { test_embed_json_drawn(ckpt); return; }
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
    t_run_free(&r);
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/fixtures/facenet_random/aligned_%s.png", t_shared_dir(), names[0]);
    snprintf(b, sizeof b, "%s/fixtures/facenet_random/aligned_%s.png", t_shared_dir(), names[3]);
    check_compare(ckpt, a, b, want.data, want.data + 3 * 512);
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
    const char *crop = have_fixture ? t_shared("fixtures/facenet_random/aligned_paul_rudd.png") : drawn[0];
    const char *jpg = have_fixture ? t_shared("fixtures/images/paul_rudd.jpg") : photo;
    const char *big = have_fixture ? t_shared("fixtures/images/multiface.jpg") : photo;
    const char *pnet = ptw_mtcnn_pt("pnet", 0);
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
    if (pnet) expect_failure("checkpoint of another network", "conv2d_1a", "embed --model %s --aligned %s", pnet, crop);
    else t_not_checked("a checkpoint of another network is refused (no pnet weights)");
    expect_failure("missing checkpoint", "nope.pt", "embed --model %s/nope.pt --aligned %s", tmp, crop);
    snprintf(textimg, sizeof textimg, "%s/notes.png", tmp);
    snprintf(cmd, sizeof cmd, "echo 'not an image' > '%s'", textimg);
    T_CHECK(system(cmd) == 0, "echo");
    expect_failure("a non-image", "notes.png", "embed --model %s --aligned %s", ckpt, textimg);
    snprintf(trjpg, sizeof trjpg, "%s/cut.jpg", tmp);
    snprintf(cmd, sizeof cmd, "head -c 20000 '%s' > '%s'", jpg, trjpg);
    T_CHECK(system(cmd) == 0, "head jpg");
    expect_failure("truncated JPEG", "cut.jpg", "embed --model %s --aligned %s", ckpt, trjpg);
    expect_failure("wrong crop size", "160x160", "embed --model %s --aligned %s", ckpt, big);
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
    if (!have_fixture) {
        t_not_checked("the whole pipeline (detect, crop, embed) against facenet-pytorch's crops of 4 portraits");
        return;
    }
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
        t_not_checked("eval --model PATH.pt end to end (the model bundle is absent: make models)");
        return;
    }
    if (!t_shared_or("fixtures/film", "eval --model PATH.pt end to end on Film photos")) return;
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
