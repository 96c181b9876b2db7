/* Binding by name, whole-layer loops and reference steps for MTCNN's nets. */
#include "models/mtcnn_layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "models/mtcnn_nets.h"

#ifdef _OPENMP
#include <omp.h>
#endif

size_t fn_mn_layer_bytes(int cin, int cout, int k)
{
    return fn_arena_round(fn_mk_conv_floats(cin, cout, k ? k : 1) * sizeof(float));
}

static fn_status get(const fn_weights *w, const char *name, const char *suffix, int ndim,
                     int64_t d0, int64_t d1, int64_t d2, int64_t d3, const fn_wtensor **t)
{
    char key[128];
    snprintf(key, sizeof key, "%s%s", name, suffix);
    int64_t shape[4] = {d0, d1, d2, d3};
    return fn_weights_get(w, key, ndim, shape, t);
}

static fn_status get_weight(const fn_weights *w, const char *name, int cin, int cout, int k,
                            const fn_wtensor **t)
{
    if (k == 0) return get(w, name, ".weight", 2, cout, cin, 0, 0, t);
    return get(w, name, ".weight", 4, cout, cin, k, k, t);
}

static float *alloc_layer(fn_arena *a, int cin, int cout, int k, const char *name)
{
    float *mem = fn_arena_alloc(a, fn_mk_conv_floats(cin, cout, k) * sizeof(float));
    if (!mem) fn_fail(FN_ERR_INTERNAL, "mtcnn: arena too small for layer %s (sizing bug)", name);
    return mem;
}

fn_status fn_mn_pack_layer(fn_mk_conv *c, const fn_weights *w, fn_arena *a, const char *name,
                        const char *prelu, int cin, int cout, int k, const int *in_perm)
{
    const fn_wtensor *wt, *bt, *st = NULL;
    FN_TRY(get_weight(w, name, cin, cout, k, &wt));
    FN_TRY(get(w, name, ".bias", 1, cout, 0, 0, 0, &bt));
    if (prelu) FN_TRY(get(w, prelu, ".weight", 1, cout, 0, 0, 0, &st));
    int kk = k ? k : 1;
    float *mem = alloc_layer(a, cin, cout, kk, name);
    if (!mem) return FN_ERR_INTERNAL;
    fn_mk_conv_pack(c, mem, cin, cout, kk, wt->data, bt->data, st ? st->data : NULL, in_perm);
    return FN_OK;
}

fn_status fn_mn_pack_heads(fn_mk_conv *c, const fn_weights *w, fn_arena *a, int nheads,
                        const char *const *names, const int *couts, int cin, int k)
{
    int total = 0;
    for (int i = 0; i < nheads; i++) total += couts[i];
    float *wcat = malloc((size_t)total * cin * sizeof(float)), *bcat = malloc((size_t)total * sizeof(float));
    if (!wcat || !bcat) {
        free(wcat); free(bcat);
        return fn_fail(FN_ERR_NOMEM, "mtcnn: out of memory packing %s", names[0]);
    }
    fn_status st = FN_OK;
    for (int i = 0, o = 0; i < nheads && st == FN_OK; o += couts[i], i++) {
        const fn_wtensor *wt, *bt;
        st = get_weight(w, names[i], cin, couts[i], k, &wt);
        if (st == FN_OK) st = get(w, names[i], ".bias", 1, couts[i], 0, 0, 0, &bt);
        if (st != FN_OK) break;
        memcpy(wcat + (size_t)o * cin, wt->data, (size_t)couts[i] * cin * sizeof(float));
        memcpy(bcat + o, bt->data, (size_t)couts[i] * sizeof(float));
    }
    float *mem = st == FN_OK ? alloc_layer(a, cin, total, 1, names[0]) : NULL;
    if (st == FN_OK && !mem) st = FN_ERR_INTERNAL;
    if (st == FN_OK) fn_mk_conv_pack(c, mem, cin, total, 1, wcat, bcat, NULL, NULL);
    free(wcat);
    free(bcat);
    return st;
}

void fn_mn_whc_perm(int *perm, int fh, int fw, int fc)
{
    for (int y = 0; y < fh; y++)
        for (int x = 0; x < fw; x++)
            for (int c = 0; c < fc; c++) perm[(y * fw + x) * fc + c] = (x * fh + y) * fc + c;
}

void fn_mn_conv_layer(const fn_mk_conv *c, const float *in, int ih, int iw, int in_pix, float *out)
{
    int oh = ih - c->k + 1, ow = iw - c->k + 1;
    const float *rows[8];
    for (int y = 0; y < oh; y++) {
        for (int r = 0; r < c->k; r++) rows[r] = in + (size_t)(y + r) * iw * in_pix;
        fn_mk_conv_row(c, rows, in_pix, out + (size_t)y * ow * c->cout_pad, ow);
    }
}

void fn_mn_pool_layer(const float *in, int ih, int iw, int cp, int k, int s, float *out)
{
    int oh = fn_out_dim(ih, k, s, 0, 1), ow = fn_out_dim(iw, k, s, 0, 1);
    const float *rows[8];
    for (int y = 0; y < oh; y++) {
        int n = 0;
        for (int r = y * s; r < y * s + k && r < ih; r++) rows[n++] = in + (size_t)r * iw * cp;
        fn_mk_maxpool_row(rows, n, iw, cp, k, s, out + (size_t)y * ow * cp, ow);
    }
}

void fn_mn_softmax2(float *head)
{
    float m = head[0] > head[1] ? head[0] : head[1];
    float e0 = expf(head[0] - m), e1 = expf(head[1] - m), sum = e0 + e1;
    head[0] = e0 / sum;
    head[1] = e1 / sum;
}

fn_status fn_mn_ref_conv(const fn_weights *w, const char *name, const char *prelu, int cout, int k,
                      const fn_tensor *in, fn_tensor *out)
{
    const fn_wtensor *wt, *bt, *st = NULL;
    FN_TRY(get(w, name, ".weight", 4, cout, in->c, k, k, &wt));
    FN_TRY(get(w, name, ".bias", 1, cout, 0, 0, 0, &bt));
    if (prelu) FN_TRY(get(w, prelu, ".weight", 1, cout, 0, 0, 0, &st));
    fn_conv_desc d = {in->c, cout, k, k, 1, 1, 0, 0, 1};
    fn_ref_conv2d(&d, wt->data, bt->data, in, out);
    if (st) fn_ref_prelu(out, st->data, cout);
    return FN_OK;
}

void fn_mn_ref_flatten_whc(const fn_tensor *in, float *out)
{
    for (int n = 0; n < in->n; n++)
        for (int x = 0; x < in->w; x++)
            for (int y = 0; y < in->h; y++)
                for (int c = 0; c < in->c; c++)
                    *out++ = in->data[(((size_t)n * in->c + c) * in->h + y) * in->w + x];
}

fn_status fn_mn_ref_dense(const fn_weights *w, const char *name, const char *prelu,
                       const float *in, int n, int k, int m, float *out)
{
    const fn_wtensor *wt, *bt, *st = NULL;
    FN_TRY(get(w, name, ".weight", 2, m, k, 0, 0, &wt));
    FN_TRY(get(w, name, ".bias", 1, m, 0, 0, 0, &bt));
    if (prelu) FN_TRY(get(w, prelu, ".weight", 1, m, 0, 0, 0, &st));
    fn_ref_linear(in, n, k, wt->data, bt->data, m, out);
    if (st) {
        fn_tensor t = {n, m, 1, 1, out};
        fn_ref_prelu(&t, st->data, m);
    }
    return FN_OK;
}

void fn_mn_ref_heads(const float *const *parts, const int *widths, int nparts, int n, float *out)
{
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t)i * FN_MTCNN_HEAD;
        int j = 0;
        for (int p = 0; p < nparts; p++)
            for (int c = 0; c < widths[p]; c++) o[j++] = parts[p][(size_t)i * widths[p] + c];
        for (; j < FN_MTCNN_HEAD; j++) o[j] = 0.0f;
        fn_tensor logits = {1, 2, 1, 1, o};   /* softmax over dim 1 of [n, 2] */
        fn_ref_softmax_channels(&logits);
    }
}

void fn_mn_forward_chunks(mn_chunk_fn chunk, const void *net, int side, size_t chunk_floats, const float *crops, int n,
                       float *out, float *work, int nthreads)
{
    int nchunks = (n + FN_MTCNN_CHUNK - 1) / FN_MTCNN_CHUNK;
    /* No more threads than chunks: a woken thread with nothing to do still
     * holds the region's end until it has run (a time slice on busy cores). */
    int team = nchunks < nthreads ? (nchunks > 0 ? nchunks : 1) : nthreads;
#pragma omp parallel for num_threads(team) schedule(dynamic, 1)
    for (int k = 0; k < nchunks; k++) {
        int i0 = k * FN_MTCNN_CHUNK, m = n - i0 < FN_MTCNN_CHUNK ? n - i0 : FN_MTCNN_CHUNK, t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        chunk(net, crops + (size_t)i0 * side * side * 3, m, out + (size_t)i0 * FN_MTCNN_HEAD,
              work + (size_t)t * chunk_floats);
    }
}
