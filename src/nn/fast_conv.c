/* Prepared convolutions on oneDNN: parameters folded and reordered once,
 * one executable plan per (input shape, concurrent caller). */
#include "nn/fast.h"

#include "nn/mathlib.h"   /* oneDNN, loaded on first use */
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Primitive descriptors already made, keyed by everything that shapes one
 * (nthr: oneDNN sizes a descriptor for the caller's thread count). */
typedef struct pd_key {
    fn_conv_desc d;
    int layout, accumulate, act, n, h, w, nthr, has_wei;
} pd_key;

typedef struct pd_memo {
    pd_key k;
    dnnl_memory_desc_t wei;       /* when has_wei */
    dnnl_primitive_desc_t pd;
    struct pd_memo *next;
} pd_memo;

struct fn_nn {
    dnnl_engine_t engine;
    pthread_mutex_t lock;
    pd_memo *memo;
};

struct fn_nn_ws {
    fn_nn *nn;
    dnnl_stream_t stream;
    void *scratch;
    size_t scratch_cap;
};

/* One executable: a primitive for one input shape plus memory objects whose
 * data handles are re-pointed on every call.  Used by one caller at a time. */
typedef struct conv_plan {
    int n, h, w;
    int nthr;                /* threads oneDNN sized the primitive for */
    int busy;
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst, wei, bias, scratch;
    size_t scratch_bytes;
    struct conv_plan *next;
} conv_plan;

/* The weights in another format, for shapes whose fast implementation does
 * not take the load-time one; made once and shared by every plan that needs
 * that format. */
typedef struct wei_alt {
    dnnl_memory_desc_t md;
    void *data;
    struct wei_alt *next;
} wei_alt;

struct fn_conv {
    fn_nn *nn;
    fn_conv_desc d;
    fn_layout layout;
    int accumulate;
    fn_act act;
    int nslope;
    dnnl_memory_desc_t wei_md;   /* the format the weights were reordered into */
    float *wei, *bias, *slope;   /* in the arena or in `own` */
    void *own;
    pthread_mutex_t lock;
    conv_plan *plans;
    wei_alt *alts;
    char impl[64];
};

static fn_status dnnl_fail(dnnl_status_t st, const char *what)
{
    return fn_fail(FN_ERR_INTERNAL, "oneDNN: %s failed (status %d)", what, (int)st);
}

#define DNNL_TRY(call, what) do { dnnl_status_t st_ = (call); if (st_ != dnnl_success) return dnnl_fail(st_, what); } while (0)

/* ---- engine, workspace ---- */

fn_status fn_nn_new(fn_nn **out)
{
    *out = NULL;
    FN_TRY(fn_mathlib_dnnl());   /* every oneDNN call comes after an fn_nn */
    fn_nn *nn = calloc(1, sizeof *nn);
    if (!nn) return fn_fail(FN_ERR_NOMEM, "nn: out of memory for the engine");
    dnnl_status_t st = dnnl_engine_create(&nn->engine, dnnl_cpu, 0);
    if (st != dnnl_success) { free(nn); return dnnl_fail(st, "creating the CPU engine"); }
    pthread_mutex_init(&nn->lock, NULL);
    *out = nn;
    return FN_OK;
}

void fn_nn_free(fn_nn *nn)
{
    if (!nn) return;
    for (pd_memo *m = nn->memo, *nx; m; m = nx) { nx = m->next; dnnl_primitive_desc_destroy(m->pd); free(m); }
    pthread_mutex_destroy(&nn->lock);
    dnnl_engine_destroy(nn->engine);
    free(nn);
}

fn_status fn_nn_ws_new(fn_nn *nn, fn_nn_ws **out)
{
    *out = NULL;
    fn_nn_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return fn_fail(FN_ERR_NOMEM, "nn: out of memory for a workspace");
    ws->nn = nn;
    dnnl_status_t st = dnnl_stream_create(&ws->stream, nn->engine, dnnl_stream_default_flags);
    if (st != dnnl_success) { free(ws); return dnnl_fail(st, "creating a stream"); }
    *out = ws;
    return FN_OK;
}

void fn_nn_ws_free(fn_nn_ws *ws)
{
    if (!ws) return;
    dnnl_stream_destroy(ws->stream);
    fn_aligned_free(ws->scratch);
    free(ws);
}

fn_status fn_nn_ws_reserve(fn_nn_ws *ws, size_t bytes)
{
    if (bytes <= ws->scratch_cap) return FN_OK;
    void *p = fn_aligned_alloc(bytes);
    if (!p) return fn_fail(FN_ERR_NOMEM, "nn: cannot allocate a %zu-byte scratchpad", bytes);
    fn_aligned_free(ws->scratch);
    ws->scratch = p;
    ws->scratch_cap = bytes;
    return FN_OK;
}

/* ---- descriptors ---- */

static void act_md(dnnl_memory_desc_t *md, fn_layout l, int n, int c, int h, int w)
{
    dnnl_dims_t dims = {n, c, h, w};
    dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, l == FN_NHWC ? dnnl_nhwc : dnnl_nchw);
}

/* Weights as PyTorch stores them (OIHW, or GOIHW for grouped convs). */
static void user_wei_md(dnnl_memory_desc_t *md, const fn_conv_desc *d, int any)
{
    int g = d->groups;
    if (g == 1) {
        dnnl_dims_t dims = {d->cout, d->cin, d->kh, d->kw};
        dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, any ? dnnl_format_tag_any : dnnl_oihw);
    } else {
        dnnl_dims_t dims = {g, d->cout / g, d->cin / g, d->kh, d->kw};
        dnnl_memory_desc_init_by_tag(md, 5, dims, dnnl_f32, any ? dnnl_format_tag_any : dnnl_goihw);
    }
}

static int out_h(const fn_conv_desc *d, int h) { return fn_out_dim(h, d->kh, d->sh, d->ph, 0); }
static int out_w(const fn_conv_desc *d, int w) { return fn_out_dim(w, d->kw, d->sw, d->pw, 0); }

/* Builds the primitive descriptor for one input shape.  wei_md NULL lets
 * oneDNN pick the weight format (used once, at creation). */
static fn_status make_pd_fresh(fn_nn *nn, const fn_conv_desc *d, fn_layout l, int accumulate, fn_act act,
                         int n, int h, int w, const dnnl_memory_desc_t *wei_md, dnnl_primitive_desc_t *pd)
{
    dnnl_memory_desc_t src, dst, wei, bias;
    act_md(&src, l, n, d->cin, h, w);
    act_md(&dst, l, n, d->cout, out_h(d, h), out_w(d, w));
    if (wei_md) wei = *wei_md; else user_wei_md(&wei, d, 1);
    dnnl_dims_t bdims = {d->cout};
    dnnl_memory_desc_init_by_tag(&bias, 1, bdims, dnnl_f32, dnnl_a);
    dnnl_dims_t strides = {d->sh, d->sw}, pad = {d->ph, d->pw};
    dnnl_convolution_desc_t cd;
    DNNL_TRY(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                                &src, &wei, &bias, &dst, strides, pad, pad), "convolution descriptor");
    dnnl_primitive_attr_t attr;
    DNNL_TRY(dnnl_primitive_attr_create(&attr), "attribute creation");
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_post_ops_t ops;
    dnnl_post_ops_create(&ops);
    if (accumulate) dnnl_post_ops_append_sum(ops, 1.0f);
    if (act == FN_ACT_RELU) dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    dnnl_status_t st = dnnl_primitive_desc_create(pd, &cd, attr, nn->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        return fn_fail(FN_ERR_UNSUPPORTED, "oneDNN: no convolution for %dx%d k%dx%d s%dx%d p%dx%d g%d on %dx%dx%d (status %d)",
                       d->cin, d->cout, d->kh, d->kw, d->sh, d->sw, d->ph, d->pw, d->groups, n, h, w, (int)st);
    return FN_OK;
}

static fn_status reorder_between(fn_nn *nn, const dnnl_memory_desc_t *from_md, const float *from,
                                 const dnnl_memory_desc_t *to_md, float *to, const float *oscale, int cout);

static int threads_now(void) { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

/* make_pd_fresh through a memo of descriptors (cloned out).  A network
 * repeats its blocks (InceptionResnetV1: 132 layers, few distinct shapes)
 * and loading asks for each layer's format twice: in bench_irv1 (load,
 * batch 1, batch 16) 625 requests need only 97 creations. */
static fn_status make_pd(fn_nn *nn, const fn_conv_desc *d, fn_layout l, int accumulate, fn_act act,
                         int n, int h, int w, const dnnl_memory_desc_t *wei_md, dnnl_primitive_desc_t *pd)
{
    pd_key k;
    memset(&k, 0, sizeof k);   /* padding too: keys are compared with memcmp */
    k.d = *d; k.layout = l; k.accumulate = accumulate; k.act = act;
    k.n = n; k.h = h; k.w = w; k.nthr = threads_now(); k.has_wei = wei_md != NULL;
    dnnl_status_t cs = dnnl_success;
    int found = 0;
    pthread_mutex_lock(&nn->lock);
    for (pd_memo *m = nn->memo; m && !found; m = m->next)
        if (memcmp(&m->k, &k, sizeof k) == 0 && (!wei_md || dnnl_memory_desc_equal(&m->wei, wei_md))) {
            cs = dnnl_primitive_desc_clone(pd, m->pd);
            found = 1;
        }
    pthread_mutex_unlock(&nn->lock);
    if (found) return cs == dnnl_success ? FN_OK : dnnl_fail(cs, "copying a convolution descriptor");
    FN_TRY(make_pd_fresh(nn, d, l, accumulate, act, n, h, w, wei_md, pd));
    pd_memo *m = calloc(1, sizeof *m);
    if (!m || dnnl_primitive_desc_clone(&m->pd, *pd) != dnnl_success) { free(m); return FN_OK; }   /* memo is optional */
    m->k = k;
    if (wei_md) m->wei = *wei_md;
    pthread_mutex_lock(&nn->lock);
    m->next = nn->memo;
    nn->memo = m;
    pthread_mutex_unlock(&nn->lock);
    return FN_OK;
}

static fn_status check_spec(const fn_conv_spec *s)
{
    const fn_conv_desc *d = &s->d;
    if (d->cin <= 0 || d->cout <= 0 || d->kh <= 0 || d->kw <= 0 || d->sh <= 0 || d->sw <= 0 || d->ph < 0 ||
        d->pw < 0 || d->groups <= 0 || d->cin % d->groups || d->cout % d->groups || !s->weight)
        return fn_fail(FN_ERR_ARG, "conv: invalid geometry %d->%d k%dx%d s%dx%d p%dx%d groups %d",
                       d->cin, d->cout, d->kh, d->kw, d->sh, d->sw, d->ph, d->pw, d->groups);
    if (s->act == FN_ACT_PRELU && (!s->prelu || (s->nprelu != 1 && s->nprelu != d->cout)))
        return fn_fail(FN_ERR_ARG, "conv: PReLU needs 1 or %d slopes, got %d", d->cout, s->nprelu);
    return FN_OK;
}

/* The weight format oneDNN prefers for the hint shape. */
static fn_status choose_wei_md(fn_nn *nn, const fn_conv_spec *s, dnnl_memory_desc_t *md)
{
    int n = s->hint_n > 0 ? s->hint_n : 1, h = s->hint_h > 0 ? s->hint_h : 64, w = s->hint_w > 0 ? s->hint_w : 64;
    if (h + 2 * s->d.ph < s->d.kh) h = s->d.kh;
    if (w + 2 * s->d.pw < s->d.kw) w = s->d.kw;
    dnnl_primitive_desc_t pd;
    FN_TRY(make_pd(nn, &s->d, s->layout, s->accumulate, s->act, n, h, w, NULL, &pd));
    *md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_desc_destroy(pd);
    return FN_OK;
}

static size_t param_bytes(const fn_conv_spec *s, const dnnl_memory_desc_t *wmd)
{
    size_t b = fn_arena_round(dnnl_memory_desc_get_size(wmd)) + fn_arena_round((size_t)s->d.cout * sizeof(float));
    if (s->act == FN_ACT_PRELU) b += fn_arena_round((size_t)s->nprelu * sizeof(float));
    return b;
}

fn_status fn_conv_arena_bytes(fn_nn *nn, const fn_conv_spec *s, size_t *bytes)
{
    FN_TRY(check_spec(s));
    dnnl_memory_desc_t md;
    FN_TRY(choose_wei_md(nn, s, &md));
    *bytes = param_bytes(s, &md);
    return FN_OK;
}

/* Per-output-channel factor and bias that fold BatchNorm and the branch
 * scale: w' = w * f[o], b' = scale * ((b - mean) * g / sqrt(var + eps) + beta).
 * Returns 0 when every factor is 1 (plain copy). */
static int fold_factors(const fn_conv_spec *s, float *f, float *bias)
{
    float sc = s->scale != 0.0f ? s->scale : 1.0f;
    for (int o = 0; o < s->d.cout; o++) {
        double inv = 1.0, b = s->bias ? s->bias[o] : 0.0;
        if (s->bn_var) {
            inv = (s->bn_gamma ? s->bn_gamma[o] : 1.0) / sqrt((double)s->bn_var[o] + s->bn_eps);
            b = (b - s->bn_mean[o]) * inv + (s->bn_beta ? s->bn_beta[o] : 0.0);
        }
        f[o] = (float)(inv * sc);
        bias[o] = (float)(b * sc);
    }
    return s->bn_var != NULL || sc != 1.0f;
}

fn_status fn_conv_new(fn_nn *nn, const fn_conv_spec *s, fn_arena *arena, fn_conv **out)
{
    *out = NULL;
    FN_TRY(check_spec(s));
    fn_conv *c = calloc(1, sizeof *c);
    if (!c) return fn_fail(FN_ERR_NOMEM, "conv: out of memory");
    c->nn = nn; c->d = s->d; c->layout = s->layout; c->accumulate = s->accumulate; c->act = s->act;
    c->nslope = s->act == FN_ACT_PRELU ? s->nprelu : 0;
    pthread_mutex_init(&c->lock, NULL);
    fn_status st = choose_wei_md(nn, s, &c->wei_md);
    if (st != FN_OK) { fn_conv_free(c); return st; }
    size_t need = param_bytes(s, &c->wei_md);
    unsigned char *mem = arena ? fn_arena_alloc(arena, need) : (c->own = fn_aligned_alloc(need));
    if (!mem) { fn_conv_free(c); return fn_fail(FN_ERR_NOMEM, "conv: no room for %zu bytes of parameters", need); }
    c->wei = (float *)mem;
    mem += fn_arena_round(dnnl_memory_desc_get_size(&c->wei_md));
    c->bias = (float *)mem;
    mem += fn_arena_round((size_t)s->d.cout * sizeof(float));
    if (c->nslope) { c->slope = (float *)mem; memcpy(c->slope, s->prelu, (size_t)c->nslope * sizeof(float)); }
    /* The fold happens inside the reorder (per-channel output scales), so
     * the checkpoint's weights are read once and never copied. */
    float *f = malloc((size_t)s->d.cout * sizeof(float));
    if (!f) { fn_conv_free(c); return fn_fail(FN_ERR_NOMEM, "conv: out of memory"); }
    int scaled = fold_factors(s, f, c->bias);
    dnnl_memory_desc_t user;
    user_wei_md(&user, &s->d, 0);
    st = reorder_between(nn, &user, s->weight, &c->wei_md, c->wei, scaled ? f : NULL, s->d.cout);
    free(f);
    if (st != FN_OK) { fn_conv_free(c); return st; }
    *out = c;
    return FN_OK;
}

void fn_conv_out_shape(const fn_conv *c, const fn_tensor *in, fn_tensor *out)
{
    out->n = in->n;
    out->c = c->d.cout;
    out->h = out_h(&c->d, in->h);
    out->w = out_w(&c->d, in->w);
}

const fn_conv_desc *fn_conv_get_desc(const fn_conv *c) { return &c->d; }
const char *fn_conv_impl_name(const fn_conv *c) { return c->impl; }

static void plan_free(conv_plan *p)
{
    dnnl_memory_t *m[] = {&p->src, &p->dst, &p->wei, &p->bias, &p->scratch};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) if (*m[i]) dnnl_memory_destroy(*m[i]);
    if (p->prim) dnnl_primitive_destroy(p->prim);
    free(p);
}

void fn_conv_free(fn_conv *c)
{
    if (!c) return;
    for (conv_plan *p = c->plans, *nx; p; p = nx) { nx = p->next; plan_free(p); }
    for (wei_alt *a = c->alts, *nx; a; a = nx) { nx = a->next; fn_aligned_free(a->data); free(a); }
    pthread_mutex_destroy(&c->lock);
    fn_aligned_free(c->own);
    free(c);
}

static const char *impl_of(const_dnnl_primitive_desc_t pd)
{
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    return impl ? impl : "?";
}

/* Weights from one format into another, multiplied per output channel by
 * oscale (cout entries) unless it is NULL. */
static fn_status reorder_once(fn_nn *nn, const dnnl_memory_desc_t *from_md, const float *from,
                              const dnnl_memory_desc_t *to_md, float *to, const float *oscale, int cout)
{
    dnnl_primitive_desc_t pd;
    dnnl_primitive_attr_t attr = NULL;
    if (oscale) {
        DNNL_TRY(dnnl_primitive_attr_create(&attr), "attribute creation");
        int mask = from_md->ndims == 5 ? 3 : 1;   /* output channels are (g, o) when grouped */
        dnnl_primitive_attr_set_output_scales(attr, cout, mask, oscale);
    }
    dnnl_status_t ps = dnnl_reorder_primitive_desc_create(&pd, from_md, nn->engine, to_md, nn->engine, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (ps != dnnl_success) return dnnl_fail(ps, "weight reorder");
    dnnl_primitive_t r = NULL;
    dnnl_memory_t ms = NULL, md = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_status_t st = dnnl_primitive_create(&r, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st == dnnl_success) st = dnnl_memory_create(&ms, from_md, nn->engine, (void *)from);
    if (st == dnnl_success) st = dnnl_memory_create(&md, to_md, nn->engine, to);
    if (st == dnnl_success) st = dnnl_stream_create(&stream, nn->engine, dnnl_stream_default_flags);
    if (st == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
        st = dnnl_primitive_execute(r, stream, 2, args);
        if (st == dnnl_success) st = dnnl_stream_wait(stream);
    }
    if (stream) dnnl_stream_destroy(stream);
    if (ms) dnnl_memory_destroy(ms);
    if (md) dnnl_memory_destroy(md);
    if (r) dnnl_primitive_destroy(r);
    return st == dnnl_success ? FN_OK : dnnl_fail(st, "reordering weights");
}

/* On one thread: a load-time copy of a few MB gains nothing from a parallel
 * region, and on a busy machine each region can wait a whole time slice for
 * its second thread (measured: 2.2 s instead of 40 ms for the 132 layers of
 * InceptionResnetV1).  oneDNN fixes the thread count when the primitive is
 * created, so both creation and run are covered.  The setting is the calling
 * thread's own OpenMP ICV and is restored right after. */
static fn_status reorder_between(fn_nn *nn, const dnnl_memory_desc_t *from_md, const float *from,
                                 const dnnl_memory_desc_t *to_md, float *to, const float *oscale, int cout)
{
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    fn_status st = reorder_once(nn, from_md, from, to_md, to, oscale, cout);
    omp_set_num_threads(threads);
    return st;
}

/* The weights in format md, converted through the plain OIHW layout:
 * oneDNN's direct reorder between two blocked formats is its generic loop
 * (~50 ms for a 896x256 layer), the two steps are JIT-compiled (well under
 * 1 ms).  Caller holds c->lock. */
static fn_status alt_make(fn_conv *c, const dnnl_memory_desc_t *md, wei_alt **out)
{
    dnnl_memory_desc_t plain;
    user_wei_md(&plain, &c->d, 0);
    wei_alt *a = calloc(1, sizeof *a);
    float *tmp = fn_aligned_alloc(dnnl_memory_desc_get_size(&plain));
    if (a) a->data = fn_aligned_alloc(dnnl_memory_desc_get_size(md));
    fn_status st = a && tmp && a->data ? FN_OK : fn_fail(FN_ERR_NOMEM, "conv: out of memory for plan weights");
    if (st == FN_OK) st = reorder_between(c->nn, &c->wei_md, c->wei, &plain, tmp, NULL, 0);
    if (st == FN_OK) st = reorder_between(c->nn, &plain, tmp, md, a->data, NULL, 0);
    fn_aligned_free(tmp);
    if (st != FN_OK) {
        if (a) fn_aligned_free(a->data);
        free(a);
        return st;
    }
    a->md = *md;
    a->next = c->alts;
    c->alts = a;
    *out = a;
    return FN_OK;
}

/* The weights in format md: the load-time copy, or a shared converted one. */
static fn_status weights_in(fn_conv *c, const dnnl_memory_desc_t *md, void **data)
{
    if (dnnl_memory_desc_equal(md, &c->wei_md)) { *data = c->wei; return FN_OK; }
    pthread_mutex_lock(&c->lock);
    wei_alt *a = c->alts;
    while (a && !dnnl_memory_desc_equal(md, &a->md)) a = a->next;
    fn_status st = a ? FN_OK : alt_make(c, md, &a);
    pthread_mutex_unlock(&c->lock);
    if (st == FN_OK) *data = a->data;
    return st;
}

/* The primitive for one shape: the load-time weight format when a real
 * (non-reference) implementation accepts it; otherwise oneDNN's own choice,
 * with the weights converted to that format (see weights_in). */
static fn_status plan_pd(fn_conv *c, int n, int h, int w, dnnl_primitive_desc_t *out)
{
    dnnl_primitive_desc_t pd;
    FN_TRY(make_pd(c->nn, &c->d, c->layout, c->accumulate, c->act, n, h, w, &c->wei_md, &pd));
    if (strncmp(impl_of(pd), "ref", 3) != 0) { *out = pd; return FN_OK; }
    dnnl_primitive_desc_t any = NULL;
    if (make_pd(c->nn, &c->d, c->layout, c->accumulate, c->act, n, h, w, NULL, &any) != FN_OK ||
        strncmp(impl_of(any), "ref", 3) == 0) {
        if (any) dnnl_primitive_desc_destroy(any);
        *out = pd;
        return FN_OK;
    }
    dnnl_primitive_desc_destroy(pd);
    *out = any;
    return FN_OK;
}

/* oneDNN fixes a primitive's thread count when it is created: the caller's
 * OpenMP team size, or 1 inside a parallel region (where a caller splits a
 * batch across threads itself).  A plan made in one setting is not reused
 * in the other, so that neither runs with the wrong split. */
static int plan_threads(void) { return threads_now(); }

static fn_status plan_build(fn_conv *c, int n, int h, int w, conv_plan **out)
{
    conv_plan *p = calloc(1, sizeof *p);
    if (!p) return fn_fail(FN_ERR_NOMEM, "conv: out of memory for a plan");
    p->n = n; p->h = h; p->w = w; p->nthr = plan_threads();
    dnnl_primitive_desc_t pd = NULL;
    void *wei = NULL;
    fn_status fs = plan_pd(c, n, h, w, &pd);
    if (fs == FN_OK) fs = weights_in(c, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), &wei);
    if (fs != FN_OK) {
        if (pd) dnnl_primitive_desc_destroy(pd);
        plan_free(p);
        return fs;
    }
    dnnl_engine_t e = c->nn->engine;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    p->scratch_bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    dnnl_status_t st = dnnl_primitive_create(&p->prim, pd);
    if (st == dnnl_success) st = dnnl_memory_create(&p->src, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), e, DNNL_MEMORY_NONE);
    if (st == dnnl_success) st = dnnl_memory_create(&p->dst, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), e, DNNL_MEMORY_NONE);
    if (st == dnnl_success) st = dnnl_memory_create(&p->wei, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), e, wei);
    if (st == dnnl_success) st = dnnl_memory_create(&p->bias, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1), e, c->bias);
    if (st == dnnl_success && p->scratch_bytes) st = dnnl_memory_create(&p->scratch, smd, e, DNNL_MEMORY_NONE);
    if (st == dnnl_success) snprintf(c->impl, sizeof c->impl, "%s", impl_of(pd));
    dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) { plan_free(p); return dnnl_fail(st, "building a convolution plan"); }
    *out = p;
    return FN_OK;
}

/* Check out a free plan for this shape, building one if none is free. */
static fn_status plan_acquire(fn_conv *c, int n, int h, int w, conv_plan **out)
{
    int nthr = plan_threads();
    pthread_mutex_lock(&c->lock);
    for (conv_plan *p = c->plans; p; p = p->next)
        if (!p->busy && p->n == n && p->h == h && p->w == w && p->nthr == nthr) {
            p->busy = 1;
            pthread_mutex_unlock(&c->lock);
            *out = p;
            return FN_OK;
        }
    pthread_mutex_unlock(&c->lock);
    conv_plan *p = NULL;
    FN_TRY(plan_build(c, n, h, w, &p));
    p->busy = 1;
    pthread_mutex_lock(&c->lock);
    p->next = c->plans;
    c->plans = p;
    pthread_mutex_unlock(&c->lock);
    *out = p;
    return FN_OK;
}

static void plan_release(fn_conv *c, conv_plan *p)
{
    pthread_mutex_lock(&c->lock);
    p->busy = 0;
    pthread_mutex_unlock(&c->lock);
}

static fn_status check_input(const fn_conv *c, const fn_tensor *in)
{
    const fn_conv_desc *d = &c->d;
    if (!in->data || in->n <= 0 || in->c != d->cin || in->h <= 0 || in->w <= 0)
        return fn_fail(FN_ERR_ARG, "conv: input %dx%dx%dx%d does not fit a %d-channel convolution",
                       in->n, in->c, in->h, in->w, d->cin);
    if ((double)in->n * in->c * in->h * in->w > (double)(1u << 31) ||
        (double)in->n * d->cout * in->h * in->w > (double)(1u << 31))
        return fn_fail(FN_ERR_LIMIT, "conv: input %dx%dx%dx%d is too large", in->n, in->c, in->h, in->w);
    if (out_h(d, in->h) <= 0 || out_w(d, in->w) <= 0)
        return fn_fail(FN_ERR_ARG, "conv: input %dx%d is smaller than the %dx%d kernel", in->h, in->w, d->kh, d->kw);
    return FN_OK;
}

fn_status fn_conv_prepare(fn_conv *c, fn_nn_ws *ws, int n, int h, int w)
{
    fn_tensor probe = {n, c->d.cin, h, w, (float *)1};
    FN_TRY(check_input(c, &probe));
    conv_plan *p;
    FN_TRY(plan_acquire(c, n, h, w, &p));
    fn_status st = fn_nn_ws_reserve(ws, p->scratch_bytes);
    plan_release(c, p);
    return st;
}

fn_status fn_conv_run(fn_conv *c, fn_nn_ws *ws, const fn_tensor *in, fn_tensor *out)
{
    FN_TRY(check_input(c, in));
    if (!out->data) return fn_fail(FN_ERR_ARG, "conv: no output buffer");
    conv_plan *p;
    FN_TRY(plan_acquire(c, in->n, in->h, in->w, &p));
    fn_status st = fn_nn_ws_reserve(ws, p->scratch_bytes);
    if (st != FN_OK) { plan_release(c, p); return st; }
    fn_conv_out_shape(c, in, out);
    dnnl_memory_set_data_handle(p->src, in->data);
    dnnl_memory_set_data_handle(p->dst, out->data);
    dnnl_exec_arg_t args[6] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_WEIGHTS, p->wei}, {DNNL_ARG_BIAS, p->bias},
                               {DNNL_ARG_DST, p->dst}};
    int nargs = 4;
    if (p->scratch) {
        dnnl_memory_set_data_handle(p->scratch, ws->scratch);
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratch};
    }
    dnnl_status_t ds = dnnl_primitive_execute(p->prim, ws->stream, nargs, args);
    if (ds == dnnl_success) ds = dnnl_stream_wait(ws->stream);
    plan_release(c, p);
    if (ds != dnnl_success) return dnnl_fail(ds, "running a convolution");
    /* oneDNN 2.6 runs a PReLU post-op only in its reference convolution, so
     * the slopes are applied in a separate, vectorised pass. */
    if (c->act == FN_ACT_PRELU) fn_fast_prelu(out, c->slope, c->nslope, c->layout);
    return FN_OK;
}
