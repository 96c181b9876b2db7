/* The .pt reader against the reference fixtures: facenet-pytorch's MTCNN
 * weights in both layouts, and the InceptionResnetV1 checkpoint checked
 * name by name against state_dict_keys.json and value by value against
 * numbers PyTorch printed. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "t.h"
#include "core/error.h"
#include "io/weights.h"
#include "pt_write.h"

static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)*len + 1);
    if (b && fread(b, 1, (size_t)*len, f) != (size_t)*len) { free(b); b = NULL; }
    if (b) b[*len] = '\0';
    fclose(f);
    return b;
}

/* Same names, shapes and bytes, in the same order. */
static void compare_sets(const char *what, const fn_weights *a, const fn_weights *b)
{
    T_CHECK(a->count == b->count, "%s: %d vs %d tensors", what, a->count, b->count);
    int same_bytes = 0;
    for (int i = 0; i < a->count && i < b->count; i++) {
        const fn_wtensor *x = &a->tensors[i], *y = fn_weights_find(b, x->name);
        T_CHECK(y != NULL, "%s: %s missing from the zip file", what, x->name);
        if (!y) continue;
        int shape_ok = x->ndim == y->ndim;
        for (int d = 0; shape_ok && d < x->ndim; d++) shape_ok = x->shape[d] == y->shape[d];
        T_CHECK(shape_ok, "%s: %s shapes differ", what, x->name);
        if (shape_ok && memcmp(x->data, y->data, (size_t)x->numel * sizeof(float)) == 0) same_bytes++;
    }
    T_CHECK(same_bytes == a->count, "%s: %d of %d tensors byte-identical", what, same_bytes, a->count);
    printf("%s: %d tensors, legacy and zip byte-identical: %d\n", what, a->count, same_bytes);
}

static void test_mtcnn_both_formats(void)
{
    const char *nets[] = {"pnet", "rnet", "onet"};
    for (int n = 0; n < 3; n++) {
        char rel[128], relz[128];
        snprintf(rel, sizeof rel, "fixtures/mtcnn/%s.pt", nets[n]);
        snprintf(relz, sizeof relz, "fixtures/mtcnn/%s_zipformat.pt", nets[n]);
        fn_weights *legacy = NULL, *zip = NULL;
        const char *pl = ptw_mtcnn_pt(nets[n], 0), *pz = ptw_mtcnn_pt(nets[n], 1);
        if (!pl || !pz) {
            t_not_checked("%s in both layouts (neither the reference data's %s nor models/%s.tflite is there)",
                          nets[n], rel, nets[n]);
            continue;
        }
        fn_status s1 = fn_weights_load_pt(pl, &legacy);
        T_CHECK(s1 == FN_OK, "%s: %s", rel, fn_last_error());
        fn_status s2 = fn_weights_load_pt(pz, &zip);
        T_CHECK(s2 == FN_OK, "%s: %s", relz, fn_last_error());
        if (s1 == FN_OK && s2 == FN_OK) compare_sets(nets[n], legacy, zip);
        fn_weights_free(legacy);
        fn_weights_free(zip);
    }
}

/* facenet-pytorch pnet.pt conv1.weight, printed by PyTorch (see below). */
#define PNET_W0 (-0x1.4e6d4p-4f)
#define PNET_WLAST 0x1.0476f2p-1f
#define PNET_WSUM 2.3487670375034213

static void test_pnet_values(void)
{
    /* Oracle: /usr/bin/python3 with torch 1.13:
     *   sd = torch.load('pnet.pt'); w = sd['conv1.weight']
     *   w.shape, w.flatten()[0].item(), w.flatten()[-1].item(), w.double().sum().item() */
    /* Without the reference data: a pnet.pt written from the bundle, whose
     * tensors are facenet-pytorch's numbers, so the same oracle holds. */
    fn_weights *w = NULL;
    const char *path = ptw_mtcnn_pt("pnet", 0);
    if (!path) { t_not_checked("pnet conv1.weight against the values PyTorch printed (no pnet weights)"); return; }
    T_CHECK(fn_weights_load_pt(path, &w) == FN_OK, "%s", fn_last_error());
    if (!w) return;
    const int64_t shape[4] = {10, 3, 3, 3};
    const fn_wtensor *t;
    T_CHECK(fn_weights_get(w, "conv1.weight", 4, shape, &t) == FN_OK, "%s", fn_last_error());
    if (t) {
        double sum = 0;
        for (long i = 0; i < t->numel; i++) sum += t->data[i];
        printf("pnet conv1.weight[0]=%.9g [-1]=%.9g sum=%.9g\n", t->data[0], t->data[t->numel - 1], sum);
        T_CHECK(t->data[0] == PNET_W0 && t->data[t->numel - 1] == PNET_WLAST, "pnet conv1.weight ends");
        T_CHECK(fabs(sum - PNET_WSUM) < 1e-6, "pnet conv1.weight sum %.9g want %.9g", sum, PNET_WSUM);
    }
    fn_weights_free(w);
}

/* The IRv1 fixture's weights lie on a coarse grid, so these sums are exact.
 * Oracle: /usr/bin/python3 with torch 1.13:
 *   sd = torch.load('irv1.pt'); t = sd[name]
 *   t.flatten()[0].item(), t.flatten()[-1].item(), t.double().sum().item(), t.double().abs().sum().item() */
static const struct { const char *name; double first, last, sum, abs_sum; } irv1_oracle[] = {
    {"conv2d_1a.conv.weight", -0.18359375, 0.296875, 22.09765625, 186.38671875},
    {"repeat_1.0.branch0.conv.weight", -0.16015625, -0.03125, 2.12109375, 582.83203125},
    {"block8.conv2d.bias", 0.0078125, -0.0078125, -0.515625, 71.1328125},
    {"last_linear.weight", -0.04296875, 0.02734375, -60.71875, 24454.453125},
    {"last_bn.running_var", 1.265625, 0.953125, 506.3125, 506.3125},
    {"logits.weight", 0.078125, -0.02734375, -146.5859375, 220395.5078125},
    {"logits.bias", 0.0546875, 0.0625, -1.7421875, 345.3359375},
    {"mixed_7a.branch0.0.conv.weight", -0.0546875, -0.01171875, -15.4375, 8643.4609375},
};

static const char *irv1_decompressed(void)
{
    const char *xz = t_shared("fixtures/facenet_random/irv1_random_legacy.pt.xz");
    static char out[512], cmd[1200];
    snprintf(out, sizeof out, "%s/irv1.pt", t_tmpdir());
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", xz, out);
    if (system(cmd) != 0) { fprintf(stderr, "FAIL: %s\n", cmd); exit(1); }
    return out;
}

/* Every key of state_dict_keys.json, in order, except the int64 counters. */
static void check_irv1_keys(const fn_weights *w)
{
    long len;
    char *json = slurp(t_shared("fixtures/facenet_random/state_dict_keys.json"), &len);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    T_CHECK(cJSON_IsArray(root), "state_dict_keys.json does not parse");
    int expected = 0, matched = 0, i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(item, "name"));
        const char *dtype = cJSON_GetStringValue(cJSON_GetObjectItem(item, "dtype"));
        const cJSON *shape = cJSON_GetObjectItem(item, "shape");
        if (!name || !dtype || strcmp(dtype, "float32") != 0) continue;   /* num_batches_tracked */
        expected++;
        int64_t want[FN_MAX_DIMS];
        int nd = 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, shape) if (nd < FN_MAX_DIMS) want[nd++] = (int64_t)d->valuedouble;
        const fn_wtensor *t = NULL;
        fn_status s = fn_weights_get(w, name, nd, want, &t);
        T_CHECK(s == FN_OK, "%s", fn_last_error());
        T_CHECK(i < w->count && strcmp(w->tensors[i].name, name) == 0, "tensor %d is %s, expected %s", i,
                i < w->count ? w->tensors[i].name : "(none)", name);
        if (s == FN_OK && ((uintptr_t)t->data % 64) == 0) matched++;
        i++;
    }
    T_CHECK(w->count == expected, "%d tensors loaded, %d float32 keys in the json", w->count, expected);
    T_CHECK(matched == expected, "%d of %d keys matched by name, shape and alignment", matched, expected);
    printf("irv1: %d of %d float32 keys match name, shape, order and 64-byte alignment\n", matched, expected);
    cJSON_Delete(root);
    free(json);
}

static void check_irv1_values(const fn_weights *w)
{
    double worst = 0;
    const char *worst_at = "";
    for (size_t k = 0; k < sizeof irv1_oracle / sizeof *irv1_oracle; k++) {
        const fn_wtensor *t = fn_weights_find(w, irv1_oracle[k].name);
        T_CHECK(t != NULL, "no %s", irv1_oracle[k].name);
        if (!t) continue;
        double sum = 0, abs_sum = 0;
        for (int64_t i = 0; i < t->numel; i++) { sum += t->data[i]; abs_sum += fabs(t->data[i]); }
        double dev = fmax(fmax(fabs(sum - irv1_oracle[k].sum), fabs(abs_sum - irv1_oracle[k].abs_sum)),
                          fmax(fabs(t->data[0] - irv1_oracle[k].first), fabs(t->data[t->numel - 1] - irv1_oracle[k].last)));
        if (dev >= worst) { worst = dev; worst_at = irv1_oracle[k].name; }
        T_CHECK(dev == 0, "%s: sum %.10g abs %.10g first %g last %g", t->name, sum, abs_sum, t->data[0], t->data[t->numel - 1]);
    }
    printf("irv1: values vs PyTorch: worst deviation %g at %s\n", worst, worst_at);
}

static void test_irv1(void)
{
    const char *path = irv1_decompressed();
    fn_weights *w = NULL;
    fn_status s = fn_weights_load_pt(path, &w);
    T_CHECK(s == FN_OK, "%s", fn_last_error());
    if (!w) return;
    check_irv1_keys(w);
    check_irv1_values(w);
    /* The messages callers rely on. */
    const fn_wtensor *t;
    const int64_t wrong[2] = {3, 4};
    T_CHECK(fn_weights_get(w, "logits.bias", 2, wrong, &t) == FN_ERR_MODEL && !t, "wrong shape accepted");
    T_CHECK(strstr(fn_last_error(), "irv1.pt: tensor logits.bias has shape [8631], expected [3, 4]") != NULL, "message: %s", fn_last_error());
    T_CHECK(fn_weights_get(w, "conv2d_1a.bn.num_batches_tracked", 0, NULL, &t) == FN_ERR_MODEL, "num_batches_tracked kept");
    T_CHECK(strstr(fn_last_error(), "irv1.pt: no tensor conv2d_1a.bn.num_batches_tracked") != NULL, "message: %s", fn_last_error());
    fn_weights_free(w);
}

int main(void)
{
    test_mtcnn_both_formats();
    test_pnet_values();
    test_irv1();
    return T_DONE();
}
