/* The bundle's MTCNN files are conversions of the original TensorFlow MTCNN,
 * which runs on transposed images (x and y swapped).  Their conv kernels are
 * therefore stored [O][kW][kH][I] in image terms, and become PyTorch's
 * [O][I][kH][kW] by the permutation (0, 3, 2, 1).  The dense layers need no
 * change: TF flattens its transposed NHWC map as (x, y, c), and
 * facenet-pytorch flattens after permute(0, 3, 2, 1) in the same (x, y, c)
 * order (tests/test_tflite.c proves every tensor equal to the .pt). */
#include "io/mtcnn_bundle.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "io/tflite.h"

typedef enum { CONV, PRELU, DENSE } layer_kind;
typedef struct layer { layer_kind kind; const char *name; } layer;

/* Layers in state_dict order; names are facenet-pytorch's. */
static const layer pnet_layers[] = {
    {CONV, "conv1"}, {PRELU, "prelu1"}, {CONV, "conv2"}, {PRELU, "prelu2"}, {CONV, "conv3"}, {PRELU, "prelu3"},
    {CONV, "conv4_1"}, {CONV, "conv4_2"}, {CONV, NULL}
};
static const layer rnet_layers[] = {
    {CONV, "conv1"}, {PRELU, "prelu1"}, {CONV, "conv2"}, {PRELU, "prelu2"}, {CONV, "conv3"}, {PRELU, "prelu3"},
    {DENSE, "dense4"}, {PRELU, "prelu4"}, {DENSE, "dense5_1"}, {DENSE, "dense5_2"}, {CONV, NULL}
};
static const layer onet_layers[] = {
    {CONV, "conv1"}, {PRELU, "prelu1"}, {CONV, "conv2"}, {PRELU, "prelu2"}, {CONV, "conv3"}, {PRELU, "prelu3"},
    {CONV, "conv4"}, {PRELU, "prelu4"}, {DENSE, "dense5"}, {PRELU, "prelu5"}, {DENSE, "dense6_1"},
    {DENSE, "dense6_2"}, {DENSE, "dense6_3"}, {CONV, NULL}
};

/* TF scope of a layer: "conv4_1" -> "conv4-1"; facenet-pytorch renamed the
 * fully connected layers "denseN", TF kept "convN". */
static void tf_scope(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", strncmp(name, "dense", 5) == 0 ? "conv" : "", name + (strncmp(name, "dense", 5) == 0 ? 5 : 0));
    for (char *p = out; *p; p++) if (*p == '_') *p = '-';
}

/* The TFLite tensor for one parameter; PNet spells its PReLU scopes
 * "PReLU1", the others "prelu1". */
static fn_status find_src(const fn_weights *src, const char *net, const layer *l, int bias, const fn_wtensor **out)
{
    char scope[32], name[128];
    tf_scope(l->name, scope, sizeof scope);
    switch (l->kind) {
    case CONV:
        if (bias) snprintf(name, sizeof name, "%s/%s/Conv2D_bias", net, scope);
        else snprintf(name, sizeof name, "%s/%s/weights/read", net, scope);
        break;
    case DENSE:
        if (bias) snprintf(name, sizeof name, "%s/%s/%s/MatMul_bias", net, scope, scope);
        else snprintf(name, sizeof name, "%s/%s/weights/read/transpose", net, scope);
        break;
    case PRELU:
        snprintf(name, sizeof name, "%s/%s/alpha/read", net, scope);
        if (!fn_weights_find(src, name)) snprintf(name, sizeof name, "%s/PReLU%s/alpha/read", net, scope + 5);
        break;
    }
    *out = fn_weights_find(src, name);
    if (!*out) return fn_fail(FN_ERR_MODEL, "%s: no tensor %s (is this the bundle's %s.tflite?)", src->path, name, net);
    int want = l->kind == CONV && !bias ? 4 : l->kind == DENSE && !bias ? 2 : 1;
    if ((*out)->ndim != want)
        return fn_fail(FN_ERR_MODEL, "%s: tensor %s has %d dimensions, expected %d", src->path, name, (*out)->ndim, want);
    return FN_OK;
}

static const layer *layers_of(const fn_weights *src, const char **net)
{
    static const char *nets[] = {"pnet", "rnet", "onet"};
    static const layer *tables[] = {pnet_layers, rnet_layers, onet_layers};
    for (int i = 0; i < 3; i++) {
        char probe[32];
        snprintf(probe, sizeof probe, "%s/conv1/weights/read", nets[i]);
        if (fn_weights_find(src, probe)) { *net = nets[i]; return tables[i]; }
    }
    return NULL;
}

/* Copy one parameter, permuting conv kernels (0, 3, 2, 1). */
static fn_status add_param(fn_weights *dst, const char *key, const fn_wtensor *t, int permute)
{
    int64_t shape[FN_MAX_DIMS];
    float *data;
    if (!permute) {
        FN_TRY(fn_weights_add(dst, key, strlen(key), t->ndim, t->shape, &data));
        memcpy(data, t->data, (size_t)t->numel * sizeof(float));
        return FN_OK;
    }
    int64_t o = t->shape[0], a = t->shape[1], b = t->shape[2], ci = t->shape[3];
    shape[0] = o; shape[1] = ci; shape[2] = b; shape[3] = a;
    FN_TRY(fn_weights_add(dst, key, strlen(key), 4, shape, &data));
    for (int64_t q = 0; q < o; q++)
        for (int64_t i = 0; i < ci; i++)
            for (int64_t y = 0; y < b; y++)
                for (int64_t x = 0; x < a; x++)
                    data[((q * ci + i) * b + y) * a + x] = t->data[((q * a + x) * b + y) * ci + i];
    return FN_OK;
}

static fn_status convert(const fn_weights *src, fn_weights **out)
{
    const char *net = NULL;
    const layer *layers = layers_of(src, &net);
    if (!layers) return fn_fail(FN_ERR_MODEL, "%s: not an MTCNN network of the bundle (no pnet/, rnet/ or onet/ conv1)", src->path);
    int count = 0;
    size_t data_bytes = 0, name_bytes = 0;
    for (const layer *l = layers; l->name; l++)
        for (int bias = 0; bias <= (l->kind != PRELU); bias++) {
            const fn_wtensor *t;
            FN_TRY(find_src(src, net, l, bias, &t));
            data_bytes += fn_arena_round((size_t)t->numel * sizeof(float));
            name_bytes += strlen(l->name) + sizeof ".weight";
            count++;
        }
    fn_weights *w;
    FN_TRY(fn_weights_create(src->path, count, data_bytes, name_bytes, &w));
    fn_status s = FN_OK;
    for (const layer *l = layers; l->name && s == FN_OK; l++)
        for (int bias = 0; bias <= (l->kind != PRELU) && s == FN_OK; bias++) {
            const fn_wtensor *t;
            char key[64];
            snprintf(key, sizeof key, "%s.%s", l->name, bias ? "bias" : "weight");
            s = find_src(src, net, l, bias, &t);
            if (s == FN_OK) s = add_param(w, key, t, l->kind == CONV && !bias);
        }
    if (s == FN_OK) s = fn_weights_seal(w);
    if (s != FN_OK) { fn_weights_free(w); return s; }
    *out = w;
    return FN_OK;
}

fn_status fn_mtcnn_bundle_load(const char *path, fn_weights **out)
{
    fn_weights *src;
    *out = NULL;
    FN_TRY(fn_weights_load_tflite(path, &src));
    fn_status s = convert(src, out);
    fn_weights_free(src);
    return s;
}
