/* MobileFaceNet against the reference implementation's embeddings
 * (fixtures/aligned112, TFLite run of the same MobileFaceNet.tflite), its
 * structure against the TFLite graph, and bad weights. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "t.h"
#include "image/image.h"
#include "io/tflite.h"
#include "models/mobilefacenet.h"
#include "nn/nn.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

/* A 112x112 RGB crop as interleaved bytes, through the image module. */
static int load_png_rgb(const char *path, uint8_t *rgb)
{
    fn_image img = {0};
    if (fn_image_load(path, NULL, &img) != FN_OK) return -1;
    int ok = img.w == FN_MFN_SIZE && img.h == FN_MFN_SIZE && img.c == 3;
    if (ok) memcpy(rgb, img.data, (size_t)FN_MFN_SIZE * FN_MFN_SIZE * 3);
    fn_image_free(&img);
    return ok ? 0 : -1;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

static double cosine(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++) { ab += (double)a[i] * b[i]; aa += (double)a[i] * a[i]; bb += (double)b[i] * b[i]; }
    return ab / (sqrt(aa) * sqrt(bb) + 1e-30);
}

/* ---- structure: fn_mfn_describe against the TFLite operator list ---- */

static int consumed_by(const fn_tfl_model *m, int tensor, int code)
{
    for (int o = 0; o < m->nops; o++)
        if (m->ops[o].code == code)
            for (int i = 0; i < m->ops[o].nin; i++) if (m->ops[o].inputs[i] == tensor) return 1;
    return 0;
}

/* An ADD op summing tensors a and b (either order). */
static int add_of(const fn_tfl_model *m, int a, int b)
{
    for (int o = 0; o < m->nops; o++) {
        const fn_tfl_op *op = &m->ops[o];
        if (op->code == FN_TFL_ADD && op->nin == 2 &&
            ((op->inputs[0] == a && op->inputs[1] == b) || (op->inputs[0] == b && op->inputs[1] == a))) return 1;
    }
    return 0;
}

static void test_graph(const char *path)
{
    fn_tfl_model *m;
    if (fn_tfl_open(path, &m) != FN_OK) { T_CHECK(0, "open %s: %s", path, fn_last_error()); return; }
    fn_mfn_layer L[FN_MFN_LAYERS];
    fn_mfn_describe(L);
    int n = 0, bad = 0, conv_in[FN_MFN_LAYERS];
    for (int o = 0; o < m->nops; o++) {
        const fn_tfl_op *op = &m->ops[o];
        if (op->code != FN_TFL_CONV_2D && op->code != FN_TFL_DEPTHWISE_CONV_2D) continue;
        if (n >= FN_MFN_LAYERS) { n++; continue; }
        const fn_mfn_layer *l = &L[n++];
        const fn_tfl_tensor *w = &m->tensors[op->inputs[1]], *b = &m->tensors[op->inputs[2]];
        const fn_tfl_tensor *in = &m->tensors[op->inputs[0]];
        int out = op->outputs[0];
        conv_in[n - 1] = op->inputs[0];
        /* A residual adds the block input, which entered the expand conv. */
        int residual = n >= 3 && add_of(m, out, conv_in[n - 3]);
        int ok = (op->code == FN_TFL_DEPTHWISE_CONV_2D) == l->depthwise && !strcmp(w->name, l->weight) &&
                 !strcmp(b->name, l->bias) && op->opt.stride_h == l->stride && op->opt.stride_w == l->stride &&
                 (op->opt.padding == FN_TFL_PAD_SAME) == l->same && w->shape[1] == l->k && w->shape[2] == l->k &&
                 in->shape[3] == l->cin && m->tensors[out].shape[3] == l->cout &&
                 op->opt.activation == FN_TFL_ACT_NONE && op->opt.dilation_h == 1 && op->opt.dilation_w == 1 &&
                 consumed_by(m, out, FN_TFL_RELU) == (l->slope[0] != 0) &&
                 residual == l->residual;
        if (l->slope[0]) ok = ok && fn_tfl_find_tensor(m, l->slope) >= 0;
        if (!ok && bad++ < 5)
            fprintf(stderr, "layer %d differs from graph op %d (weight %s, bias %s)\n", n - 1, o, w->name, b->name);
    }
    T_CHECK(n == FN_MFN_LAYERS, "graph has %d convolutions, the C network %d", n, FN_MFN_LAYERS);
    T_CHECK(bad == 0, "%d layers differ from the TFLite graph", bad);
    const fn_tfl_tensor *o = &m->tensors[m->outputs[0]];
    T_CHECK(m->noutputs == 1 && o->ndim == 2 && o->shape[1] == FN_MFN_DIM, "graph output is not [n, %d]", FN_MFN_DIM);
    printf("graph: %d convolutions checked against %s (names, kernels, strides, SAME/VALID, PReLU, residuals)\n", n, path);
    fn_tfl_free(m);
}

/* ---- embeddings against the fixture ---- */

/* Without the fixture: the fast path against the reference path on drawn
 * 112x112 crops (the reference path is the oracle; no TFLite numbers). */
static void test_fast_vs_ref_drawn(fn_mfn *net)
{
    uint8_t rgb[FN_MFN_SIZE * FN_MFN_SIZE * 3];
    float *in = malloc(sizeof(float) * 3 * FN_MFN_SIZE * FN_MFN_SIZE);
    float emb[FN_MFN_DIM], ref[FN_MFN_DIM];
    double worst = 0;
    unsigned seed = 7u;
    for (int k = 0; k < 2; k++) {
        for (int y = 0; y < FN_MFN_SIZE; y++)
            for (int x = 0; x < FN_MFN_SIZE; x++)
                for (int c = 0; c < 3; c++) {
                    seed = seed * 1103515245u + 12345u;
                    double dx = (x - 56) / 40.0, dy = (y - 60) / 50.0;
                    int v = dx * dx + dy * dy < 1 ? 180 + 20 * c : 60 + 30 * k;
                    rgb[(y * FN_MFN_SIZE + x) * 3 + c] = (uint8_t)(v + (int)((seed >> 27) & 15));
                }
        fn_mfn_standardize(rgb, FN_MFN_SIZE * 3, 0, in);
        T_CHECK(fn_mfn_embed(net, in, 1, emb) == FN_OK, "embed: %s", fn_last_error());
        T_CHECK(fn_mfn_embed_ref(net, in, 1, ref, 1) == FN_OK, "embed_ref: %s", fn_last_error());
        fn_ref_l2_normalize(ref, 1, FN_MFN_DIM);
        float d = t_max_abs_diff(emb, ref, FN_MFN_DIM, NULL);
        if (d > worst) worst = d;
        double n2 = 0;
        for (int i = 0; i < FN_MFN_DIM; i++) n2 += (double)emb[i] * emb[i];
        T_CHECK(fabs(n2 - 1.0) < 1e-4, "drawn crop %d: |embedding|^2 = %.6f, not 1", k, n2);
    }
    printf("drawn crops: fast vs reference path max |d| %.3g\n", worst);
    T_CHECK(worst < 1e-4, "fast vs reference max |d| %.3g on drawn crops", worst);
    free(in);
}

/* The two plans of fn_mfn_embed (direct kernels, oneDNN) against the
 * reference path, and the AUTO rule: the first faces direct, oneDNN after. */
static void test_plans(const fn_weights *w)
{
    fn_mfn *net;
    if (fn_mfn_new(w, &net) != FN_OK) { T_CHECK(0, "fn_mfn_new: %s", fn_last_error()); return; }
    float *in = malloc(sizeof(float) * 3 * FN_MFN_SIZE * FN_MFN_SIZE);
    uint8_t rgb[FN_MFN_SIZE * FN_MFN_SIZE * 3];
    unsigned seed = 11u;
    for (size_t i = 0; i < sizeof rgb; i++) { seed = seed * 1103515245u + 12345u; rgb[i] = (uint8_t)(seed >> 24); }
    fn_mfn_standardize(rgb, FN_MFN_SIZE * 3, 0, in);
    float ref[FN_MFN_DIM], emb[FN_MFN_DIM];
    T_CHECK(fn_mfn_embed_ref(net, in, 1, ref, 0) == FN_OK, "embed_ref: %s", fn_last_error());

    /* AUTO: FN_MFN_DIRECT_FACES single faces on the direct kernels, the next prepares oneDNN. */
    for (int i = 0; i <= FN_MFN_DIRECT_FACES; i++) {
        T_CHECK(fn_mfn_embed(net, in, 1, emb) == FN_OK, "auto embed %d: %s", i, fn_last_error());
        T_CHECK(t_max_abs_diff(emb, ref, FN_MFN_DIM, NULL) < 1e-4, "auto embed %d differs from the reference", i);
        T_CHECK(fn_mfn_uses_onednn(net) == (i == FN_MFN_DIRECT_FACES), "after %d faces the oneDNN plan is %s", i + 1,
                fn_mfn_uses_onednn(net) ? "built" : "not built");
    }
    static const char *names[] = {"direct", "oneDNN"};
    static const fn_mfn_plan plans[] = {FN_MFN_DIRECT, FN_MFN_ONEDNN};
    for (int p = 0; p < 2; p++) {
        T_CHECK(fn_mfn_set_plan(net, plans[p]) == FN_OK, "set plan %s: %s", names[p], fn_last_error());
        T_CHECK(fn_mfn_embed(net, in, 1, emb) == FN_OK, "%s embed: %s", names[p], fn_last_error());
        float d = t_max_abs_diff(emb, ref, FN_MFN_DIM, NULL);
        printf("noise crop: %s plan vs reference path max |d| %.3g\n", names[p], d);
        T_CHECK(d < 1e-4, "%s plan vs reference max |d| %.3g", names[p], d);
    }
    fn_mfn_free(net);

    /* A batch of more than FN_MFN_DIRECT_FACES faces goes to oneDNN at once. */
    enum { NB = FN_MFN_DIRECT_FACES + 1 };
    if (fn_mfn_new(w, &net) != FN_OK) { T_CHECK(0, "fn_mfn_new: %s", fn_last_error()); free(in); return; }
    float *batch = malloc(sizeof(float) * NB * 3 * FN_MFN_SIZE * FN_MFN_SIZE), *embs = malloc(sizeof(float) * NB * FN_MFN_DIM);
    for (int i = 0; i < NB; i++) memcpy(batch + (size_t)i * 3 * FN_MFN_SIZE * FN_MFN_SIZE, in, sizeof(float) * 3 * FN_MFN_SIZE * FN_MFN_SIZE);
    T_CHECK(fn_mfn_embed(net, batch, NB, embs) == FN_OK, "batch of %d: %s", NB, fn_last_error());
    T_CHECK(fn_mfn_uses_onednn(net), "a batch of %d faces ran without the oneDNN plan", NB);
    T_CHECK(t_max_abs_diff(embs + (NB - 1) * FN_MFN_DIM, ref, FN_MFN_DIM, NULL) < 1e-4, "the batch's last face differs from the reference");
    free(embs);
    fn_mfn_free(net);
    free(batch);
    free(in);
}

static void test_fixture(fn_mfn *net)
{
    const char *dir = t_shared_or("fixtures/aligned112",
                                  "embeddings of the aligned fixture crops against TFLite's (cosine >= 0.9999), "
                                  "the reference path's raw outputs and the BGR comparison (drawn crops: fast vs "
                                  "reference path only)");
    if (!dir) { test_fast_vs_ref_drawn(net); return; }
    char path[4096];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    char *text = read_text(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    cJSON *items = cJSON_GetObjectItem(root, "items");
    T_CHECK(cJSON_IsArray(items), "%s: no items", path);
    if (!cJSON_IsArray(items)) { cJSON_Delete(root); free(text); return; }
    t_npy l2, raw;
    snprintf(path, sizeof path, "%s/mobilefacenet_l2.npy", dir);
    T_CHECK(t_npy_load(path, &l2) == 0, "cannot load %s", path);
    snprintf(path, sizeof path, "%s/mobilefacenet_raw.npy", dir);
    T_CHECK(t_npy_load(path, &raw) == 0, "cannot load %s", path);
    int count = cJSON_GetArraySize(items);
    T_CHECK(l2.ndim == 2 && l2.shape[0] == count && l2.shape[1] == FN_MFN_DIM, "l2.npy shape");

    /* The reference path is slow under ASan: there it checks a few crops. */
    int limit = SANITIZED ? 4 : count, ref_limit = SANITIZED ? 1 : 3;
    uint8_t rgb[FN_MFN_SIZE * FN_MFN_SIZE * 3];
    float *in = malloc(sizeof(float) * 3 * FN_MFN_SIZE * FN_MFN_SIZE);
    float emb[FN_MFN_DIM], ref[FN_MFN_DIM], rawemb[FN_MFN_DIM];
    double worst = 2, worst_bgr = 2, sum_bgr = 0, worst_ref = 0, worst_raw = 0;
    int worst_i = -1, checked = 0, nbgr = 0;
    for (int i = 0; i < count && i < limit; i++) {
        const char *crop = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(items, i), "crop"));
        snprintf(path, sizeof path, "%s/../%s", dir, crop ? crop : "?");
        if (load_png_rgb(path, rgb) != 0) { T_CHECK(0, "cannot decode %s", path); continue; }
        fn_mfn_standardize(rgb, FN_MFN_SIZE * 3, 0, in);
        T_CHECK(fn_mfn_embed(net, in, 1, emb) == FN_OK, "embed: %s", fn_last_error());
        double c = cosine(emb, l2.data + (size_t)i * FN_MFN_DIM, FN_MFN_DIM);
        if (c < worst) { worst = c; worst_i = i; }
        T_CHECK(c >= 0.9999, "%s: cosine %.6f < 0.9999", crop, c);
        if (i < ref_limit) {
            T_CHECK(fn_mfn_embed_ref(net, in, 1, rawemb, 1) == FN_OK, "embed_ref: %s", fn_last_error());
            float d = t_max_abs_diff(rawemb, raw.data + (size_t)i * FN_MFN_DIM, FN_MFN_DIM, NULL);
            if (d > worst_raw) worst_raw = d;
            memcpy(ref, rawemb, sizeof ref);
            fn_ref_l2_normalize(ref, 1, FN_MFN_DIM);
            float dr = t_max_abs_diff(emb, ref, FN_MFN_DIM, NULL);
            if (dr > worst_ref) worst_ref = dr;
        }
        /* The same crop with red and blue swapped: does channel order matter? */
        if (i >= 24) { checked++; continue; }
        fn_mfn_standardize(rgb, FN_MFN_SIZE * 3, 1, in);
        T_CHECK(fn_mfn_embed(net, in, 1, emb) == FN_OK, "embed: %s", fn_last_error());
        double cb = cosine(emb, l2.data + (size_t)i * FN_MFN_DIM, FN_MFN_DIM);
        sum_bgr += cb;
        if (cb < worst_bgr) worst_bgr = cb;
        nbgr++;
        checked++;
    }
    printf("embeddings: %d crops, worst cosine %.9f (1 - cos = %.2g, item %d); reference path raw max |d| %.3g, fast vs ref max |d| %.3g\n",
           checked, worst, 1.0 - worst, worst_i, worst_raw, worst_ref);
    printf("BGR instead of RGB (%d crops): mean cosine %.4f, worst %.4f to the RGB reference\n", nbgr,
           sum_bgr / (nbgr ? nbgr : 1), worst_bgr);
    T_CHECK(checked == limit, "checked %d of %d crops", checked, limit);
    T_CHECK(worst_raw < 1e-3, "reference path raw embedding max |d| %.3g", worst_raw);
    T_CHECK(worst_ref < 1e-4, "fast vs reference max |d| %.3g", worst_ref);
    free(in);
    t_npy_free(&l2);
    t_npy_free(&raw);
    cJSON_Delete(root);
    free(text);
}

/* Weights of another network, and a tensor of the wrong shape. */
static void test_bad_weights(const char *path)
{
    fn_mfn *net = NULL;
    const char *pnet = t_models("pnet.tflite");
    fn_weights *w;
    if (pnet && fn_weights_load_tflite(pnet, &w) == FN_OK) {
        fn_status s = fn_mfn_new(w, &net);
        T_CHECK(s == FN_ERR_MODEL && strstr(fn_last_error(), "pnet.tflite") &&
                strstr(fn_last_error(), "no tensor MobileFaceNet/Conv2d_0/weights/read"),
                "pnet weights: %s", fn_last_error());
        printf("pnet weights -> \"%s\"\n", fn_last_error());
        fn_weights_free(w);
        fn_mfn_free(net);
    }
    if (fn_weights_load_tflite(path, &w) != FN_OK) return;
    /* Pretend the GDC kernel were 5x5: flip its shape in place. */
    fn_wtensor *t = (fn_wtensor *)fn_weights_find(w, "MobileFaceNet/Logits/SeparableConv2d/depthwise_weights/read");
    T_CHECK(t && t->ndim == 4 && t->shape[1] == 7, "GDC weight not found");
    if (t) { t->shape[1] = 49; t->shape[2] = 1; }
    net = NULL;
    fn_status s = fn_mfn_new(w, &net);
    T_CHECK(s == FN_ERR_MODEL && strstr(fn_last_error(), "has shape [1, 49, 1, 512], expected [1, 7, 7, 512]"),
            "wrong shape: %s", fn_last_error());
    printf("wrong shape -> \"%s\"\n", fn_last_error());
    fn_mfn_free(net);
    fn_weights_free(w);
    T_CHECK(fn_mfn_embed(NULL, NULL, 1, NULL) == FN_ERR_ARG, "NULL handle accepted");
}

int main(void)
{
    const char *path = t_models("MobileFaceNet.tflite");
    if (!path) T_SKIP("models/MobileFaceNet.tflite is absent (run `make models`, or set MODELS=dir)");
    test_graph(path);
    test_bad_weights(path);
    fn_weights *w;
    if (fn_weights_load_tflite(path, &w) != FN_OK) { T_CHECK(0, "load %s: %s", path, fn_last_error()); return T_DONE(); }
    test_plans(w);
    fn_mfn *net;
    fn_status s = fn_mfn_new(w, &net);
    T_CHECK(s == FN_OK, "fn_mfn_new: %s", fn_last_error());
    fn_weights_free(w);
    if (s != FN_OK) return T_DONE();
    test_fixture(net);
    fn_mfn_free(net);
    return T_DONE();
}
