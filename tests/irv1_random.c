/* irv1_random.c — see irv1_random.h.  The layout is facenet-pytorch's
 * models/inception_resnet_v1.py (BasicConv2d = conv without bias + bn). */
#include "irv1_random.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct spec { char name[192]; int ndim; int64_t shape[4]; int kind; } spec;
enum { K_CONV, K_BIAS, K_BN_W, K_BN_B, K_BN_MEAN, K_BN_VAR };
typedef struct list { spec *s; int n, cap; } list;

static void add(list *l, const char *name, int kind, int ndim, int64_t a, int64_t b, int64_t c, int64_t d)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->s = realloc(l->s, (size_t)l->cap * sizeof *l->s);
    }
    spec *s = &l->s[l->n++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->kind = kind;
    s->ndim = ndim;
    s->shape[0] = a; s->shape[1] = b; s->shape[2] = c; s->shape[3] = d;
}

static void bn(list *l, const char *p, int c)
{
    char n[160];
    snprintf(n, sizeof n, "%.100s.weight", p); add(l, n, K_BN_W, 1, c, 0, 0, 0);
    snprintf(n, sizeof n, "%.100s.bias", p); add(l, n, K_BN_B, 1, c, 0, 0, 0);
    snprintf(n, sizeof n, "%.100s.running_mean", p); add(l, n, K_BN_MEAN, 1, c, 0, 0, 0);
    snprintf(n, sizeof n, "%.100s.running_var", p); add(l, n, K_BN_VAR, 1, c, 0, 0, 0);
}

static void basic(list *l, const char *p, int cin, int cout, int kh, int kw)
{
    char n[160];
    snprintf(n, sizeof n, "%.100s.conv.weight", p);
    add(l, n, K_CONV, 4, cout, cin, kh, kw);
    snprintf(n, sizeof n, "%.100s.bn", p);
    bn(l, n, cout);
}

static void conv_bias(list *l, const char *p, int cin, int cout)
{
    char n[160];
    snprintf(n, sizeof n, "%.100s.weight", p); add(l, n, K_CONV, 4, cout, cin, 1, 1);
    snprintf(n, sizeof n, "%.100s.bias", p); add(l, n, K_BIAS, 1, cout, 0, 0, 0);
}

static void sub(list *l, const char *blk, const char *rest, int cin, int cout, int kh, int kw)
{
    char n[160];
    snprintf(n, sizeof n, "%.80s.%.40s", blk, rest);
    basic(l, n, cin, cout, kh, kw);
}

static void block35(list *l, const char *b)
{
    sub(l, b, "branch0", 256, 32, 1, 1);
    sub(l, b, "branch1.0", 256, 32, 1, 1); sub(l, b, "branch1.1", 32, 32, 3, 3);
    sub(l, b, "branch2.0", 256, 32, 1, 1); sub(l, b, "branch2.1", 32, 32, 3, 3); sub(l, b, "branch2.2", 32, 32, 3, 3);
    char n[160]; snprintf(n, sizeof n, "%.80s.conv2d", b); conv_bias(l, n, 96, 256);
}

static void block17(list *l, const char *b)
{
    sub(l, b, "branch0", 896, 128, 1, 1);
    sub(l, b, "branch1.0", 896, 128, 1, 1); sub(l, b, "branch1.1", 128, 128, 1, 7); sub(l, b, "branch1.2", 128, 128, 7, 1);
    char n[160]; snprintf(n, sizeof n, "%.80s.conv2d", b); conv_bias(l, n, 256, 896);
}

static void block8(list *l, const char *b)
{
    sub(l, b, "branch0", 1792, 192, 1, 1);
    sub(l, b, "branch1.0", 1792, 192, 1, 1); sub(l, b, "branch1.1", 192, 192, 1, 3); sub(l, b, "branch1.2", 192, 192, 3, 1);
    char n[160]; snprintf(n, sizeof n, "%.80s.conv2d", b); conv_bias(l, n, 384, 1792);
}

static void layout(list *l, int classes)
{
    char n[160];
    basic(l, "conv2d_1a", 3, 32, 3, 3);
    basic(l, "conv2d_2a", 32, 32, 3, 3);
    basic(l, "conv2d_2b", 32, 64, 3, 3);
    basic(l, "conv2d_3b", 64, 80, 1, 1);
    basic(l, "conv2d_4a", 80, 192, 3, 3);
    basic(l, "conv2d_4b", 192, 256, 3, 3);
    for (int i = 0; i < 5; i++) { snprintf(n, sizeof n, "repeat_1.%d", i); block35(l, n); }
    sub(l, "mixed_6a", "branch0", 256, 384, 3, 3);
    sub(l, "mixed_6a", "branch1.0", 256, 192, 1, 1); sub(l, "mixed_6a", "branch1.1", 192, 192, 3, 3);
    sub(l, "mixed_6a", "branch1.2", 192, 256, 3, 3);
    for (int i = 0; i < 10; i++) { snprintf(n, sizeof n, "repeat_2.%d", i); block17(l, n); }
    sub(l, "mixed_7a", "branch0.0", 896, 256, 1, 1); sub(l, "mixed_7a", "branch0.1", 256, 384, 3, 3);
    sub(l, "mixed_7a", "branch1.0", 896, 256, 1, 1); sub(l, "mixed_7a", "branch1.1", 256, 256, 3, 3);
    sub(l, "mixed_7a", "branch2.0", 896, 256, 1, 1); sub(l, "mixed_7a", "branch2.1", 256, 256, 3, 3);
    sub(l, "mixed_7a", "branch2.2", 256, 256, 3, 3);
    for (int i = 0; i < 5; i++) { snprintf(n, sizeof n, "repeat_3.%d", i); block8(l, n); }
    block8(l, "block8");
    add(l, "last_linear.weight", K_CONV, 2, 512, 1792, 0, 0);
    bn(l, "last_bn", 512);
    add(l, "logits.weight", K_CONV, 2, classes, 512, 0, 0);
    add(l, "logits.bias", K_BIAS, 1, classes, 0, 0, 0);
}

static float urand(unsigned *s)   /* uniform in [0, 1) */
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / (float)(1u << 24);
}

fn_weights *t_irv1_random(unsigned seed, int classes)
{
    list l = {0};
    layout(&l, classes);
    size_t data = 0, names = 0;
    for (int i = 0; i < l.n; i++) {
        int64_t numel = 1;
        for (int d = 0; d < l.s[i].ndim; d++) numel *= l.s[i].shape[d];
        data += fn_arena_round((size_t)numel * sizeof(float));
        names += strlen(l.s[i].name) + 1;
    }
    fn_weights *w = NULL;
    if (fn_weights_create("random InceptionResnetV1", l.n, data, names, &w) != FN_OK) { free(l.s); return NULL; }
    unsigned s = seed ? seed : 1u;
    for (int i = 0; i < l.n; i++) {
        const spec *t = &l.s[i];
        float *v;
        if (fn_weights_add(w, t->name, strlen(t->name), t->ndim, t->shape, &v) != FN_OK) {
            fn_weights_free(w); free(l.s); return NULL;
        }
        int64_t numel = 1, fan_in = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        for (int d = 1; d < t->ndim; d++) fan_in *= t->shape[d];
        float a = sqrtf(3.0f / (float)fan_in);   /* variance 1/fan_in */
        for (int64_t k = 0; k < numel; k++) {
            float u = urand(&s);
            switch (t->kind) {
            case K_CONV: v[k] = (2 * u - 1) * a; break;
            case K_BIAS: case K_BN_B: case K_BN_MEAN: v[k] = (2 * u - 1) * 0.1f; break;
            case K_BN_W: case K_BN_VAR: v[k] = 0.5f + u; break;
            }
        }
    }
    free(l.s);
    if (fn_weights_seal(w) != FN_OK) { fn_weights_free(w); return NULL; }
    return w;
}
