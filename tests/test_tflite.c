/* The TFLite reader: the bundle's MTCNN equals facenet-pytorch's .pt tensor
 * for tensor; operator options of pnet.tflite as the graph states them;
 * dequantisation on a hand-built model; hostile files (truncated, flipped,
 * offsets out of range) fail with a sentence naming the file, never crash. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "t.h"
#include "io/mtcnn_bundle.h"
#include "io/tflite.h"
#include "io/weights.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* ---- bundle MTCNN vs facenet-pytorch .pt ---- */

static void test_bundle_equals_pt(void)
{
    const char *nets[] = {"pnet", "rnet", "onet"};
    for (int n = 0; n < 3; n++) {
        char rel[64], pt[64];
        snprintf(rel, sizeof rel, "%s.tflite", nets[n]);
        snprintf(pt, sizeof pt, "fixtures/mtcnn/%s.pt", nets[n]);
        const char *path = t_models(rel);
        if (!path) {
            t_not_checked("%s: the bundle's tensors equal facenet-pytorch's (models/%s is absent: make models)",
                          nets[n], rel);
            continue;
        }
        fn_weights *b = NULL, *p = NULL;
        T_CHECK(fn_mtcnn_bundle_load(path, &b) == FN_OK, "%s: %s", path, fn_last_error());
        char what[128];
        snprintf(what, sizeof what, "%s: the bundle's tensors equal facenet-pytorch's %s.pt", nets[n], nets[n]);
        const char *ptpath = t_shared_or(pt, what);
        if (!ptpath) { fn_weights_free(b); continue; }
        T_CHECK(fn_weights_load_pt(ptpath, &p) == FN_OK, "%s: %s", pt, fn_last_error());
        if (!b || !p) { fn_weights_free(b); fn_weights_free(p); continue; }
        T_CHECK(b->count == p->count, "%s: %d tensors in the bundle, %d in the .pt", nets[n], b->count, p->count);
        float worst = 0;
        const char *worst_name = "-";
        for (int i = 0; i < p->count; i++) {
            const fn_wtensor *y = &p->tensors[i], *x = fn_weights_find(b, y->name);
            T_CHECK(x != NULL, "%s: bundle lacks %s", nets[n], y->name);
            if (!x) continue;
            int same = x->ndim == y->ndim;
            for (int d = 0; same && d < x->ndim; d++) same = x->shape[d] == y->shape[d];
            T_CHECK(same, "%s: %s shapes differ", nets[n], y->name);
            if (!same) continue;
            float d = t_max_abs_diff(x->data, y->data, x->numel, NULL);
            if (d > worst || worst_name[0] == '-') { worst = d; worst_name = y->name; }
        }
        printf("%s: bundle vs .pt, %d tensors, max |d| %g (%s)\n", nets[n], p->count, worst, worst_name);
        T_CHECK(worst == 0.0f, "%s: bundle differs from .pt by %g at %s", nets[n], worst, worst_name);
        fn_weights_free(b);
        fn_weights_free(p);
    }
}

/* ---- operator list of pnet.tflite, as the file states it ---- */

static void test_pnet_graph(void)
{
    const char *path = t_models("pnet.tflite");
    if (!path) {
        t_not_checked("pnet.tflite's operator list and options (models/pnet.tflite is absent: make models)");
        return;
    }
    fn_tfl_model *m;
    if (fn_tfl_open(path, &m) != FN_OK) { T_CHECK(0, "%s: %s", path, fn_last_error()); return; }
    T_CHECK(m->version == 3 && m->nsubgraphs == 1 && m->nops == 29 && m->ntensors == 45,
            "pnet: version %u, %d subgraphs, %d ops, %d tensors", m->version, m->nsubgraphs, m->nops, m->ntensors);
    const fn_tfl_op *c1 = &m->ops[0], *pool = &m->ops[7];
    T_CHECK(c1->code == FN_TFL_CONV_2D && c1->opt.padding == FN_TFL_PAD_VALID && c1->opt.stride_h == 1 &&
            c1->opt.stride_w == 1 && c1->nin == 3, "pnet op 0 is not a VALID stride-1 CONV_2D");
    T_CHECK(pool->code == FN_TFL_MAX_POOL_2D && pool->opt.padding == FN_TFL_PAD_SAME && pool->opt.filter_h == 2 &&
            pool->opt.stride_w == 2, "pnet op 7 is not a SAME 2x2/2 MAX_POOL_2D");
    const fn_tfl_tensor *w = &m->tensors[c1->inputs[1]];
    T_CHECK(!strcmp(w->name, "pnet/conv1/weights/read") && w->type == FN_TFL_FLOAT32 && w->ndim == 4 &&
            w->shape[0] == 10 && w->shape[3] == 3 && w->bytes == 10 * 3 * 3 * 3 * 4, "pnet conv1 weight tensor");
    T_CHECK(m->ninputs == 1 && m->noutputs == 2, "pnet has %d inputs, %d outputs", m->ninputs, m->noutputs);
    fn_tfl_free(m);
}

/* ---- a tiny flatbuffer builder for hand-made models ---- */

typedef struct fbb { uint8_t p[8192]; size_t n; } fbb;

static void fb_pad(fbb *b, size_t align) { while (b->n % align) b->p[b->n++] = 0; }
static void w32(uint8_t *p, size_t at, uint32_t v) { for (int i = 0; i < 4; i++) p[at + i] = (uint8_t)(v >> 8 * i); }

/* A table whose fields all get 8-byte slots, vtable right before it. */
static size_t fb_table(fbb *b, int nfields)
{
    size_t vts = 4 + 2 * (size_t)nfields;
    while ((b->n + vts) % 8) b->p[b->n++] = 0;
    size_t vt = b->n, t = vt + vts;
    b->p[vt] = (uint8_t)vts; b->p[vt + 1] = 0;
    b->p[vt + 2] = (uint8_t)(4 + 8 * nfields); b->p[vt + 3] = 0;
    for (int i = 0; i < nfields; i++) { b->p[vt + 4 + 2 * i] = (uint8_t)(4 + 8 * i); b->p[vt + 5 + 2 * i] = 0; }
    w32(b->p, t, (uint32_t)vts);   /* soffset: vtable = table - vts */
    memset(b->p + t + 4, 0, 8 * (size_t)nfields);
    b->n = t + 4 + 8 * (size_t)nfields;
    return t;
}
static size_t slot(size_t t, int i) { return t + 4 + 8 * (size_t)i; }
static void set_u32(fbb *b, size_t t, int i, uint32_t v) { w32(b->p, slot(t, i), v); }
static void set_u8(fbb *b, size_t t, int i, uint8_t v) { b->p[slot(t, i)] = v; }
static void set_ref(fbb *b, size_t t, int i, size_t target) { w32(b->p, slot(t, i), (uint32_t)(target - slot(t, i))); }
static void absent(fbb *b, size_t t, int i) { size_t vt = t - b->p[t]; b->p[vt + 4 + 2 * i] = 0; b->p[vt + 5 + 2 * i] = 0; }

/* A vector (length then elements; elements 8-aligned). */
static size_t fb_vec(fbb *b, const void *data, uint32_t count, size_t elem)
{
    while ((b->n + 4) % 8) b->p[b->n++] = 0;
    size_t v = b->n;
    w32(b->p, v, count);
    memcpy(b->p + v + 4, data, count * elem);
    b->n = v + 4 + count * elem;
    return v;
}
static size_t fb_str(fbb *b, const char *s)
{
    size_t v = fb_vec(b, s, (uint32_t)strlen(s) + 1, 1);
    w32(b->p, v, (uint32_t)strlen(s));
    return v;
}
static size_t fb_tables(fbb *b, uint32_t count)   /* vector of table refs, filled later */
{
    fb_pad(b, 4);
    size_t v = b->n;
    w32(b->p, v, count);
    b->n += 4 + 4 * (size_t)count;
    return v;
}
static void set_elem(fbb *b, size_t vec, int i, size_t target) { size_t at = vec + 4 + 4 * (size_t)i; w32(b->p, at, (uint32_t)(target - at)); }

/* Where build_model put fields the targeted corruptions overwrite. */
typedef struct marks { size_t tensor, op, op_inputs; } marks;

/* Three constant tensors: float16 [3], int8 [2,2] quantised per channel
 * along axis 0 (scales 0.5 and 0.25, zero points 1 and -2), uint8 [2]
 * per tensor (scale 0.1, zero point 128); one CONV_2D using them. */
static size_t build_model(fbb *b, marks *mk)
{
    memset(b, 0, sizeof *b);
    b->n = 8;
    memcpy(b->p + 4, "TFL3", 4);
    size_t model = fb_table(b, 5);
    w32(b->p, 0, (uint32_t)model);
    set_u32(b, model, 0, 3);
    absent(b, model, 3);

    size_t codes = fb_tables(b, 1);
    set_ref(b, model, 1, codes);
    size_t oc = fb_table(b, 4);
    set_elem(b, codes, 0, oc);
    set_u8(b, oc, 0, FN_TFL_CONV_2D);
    absent(b, oc, 1);
    set_u32(b, oc, 2, 1);
    set_u32(b, oc, 3, FN_TFL_CONV_2D);

    size_t bufs = fb_tables(b, 4);
    set_ref(b, model, 4, bufs);
    const uint16_t f16[3] = {0x3c00, 0xc000, 0x0001};              /* 1, -2, 2^-24 */
    const int8_t i8[4] = {3, -1, -2, 6};
    const uint8_t u8[2] = {128, 138};
    const void *datas[4] = {NULL, f16, i8, u8};
    const size_t sizes[4] = {0, sizeof f16, sizeof i8, sizeof u8};
    for (int i = 0; i < 4; i++) {
        size_t t = fb_table(b, 1);
        set_elem(b, bufs, i, t);
        if (!sizes[i]) { absent(b, t, 0); continue; }
        set_ref(b, t, 0, fb_vec(b, datas[i], (uint32_t)sizes[i], 1));
    }

    size_t sgs = fb_tables(b, 1);
    set_ref(b, model, 2, sgs);
    size_t sg = fb_table(b, 4);
    set_elem(b, sgs, 0, sg);
    size_t tens = fb_tables(b, 4);
    set_ref(b, sg, 0, tens);
    const char *names[4] = {"half", "int8", "uint8", "out"};
    const int32_t shapes[4][2] = {{3, 0}, {2, 2}, {2, 0}, {1, 0}};
    const int ndims[4] = {1, 2, 1, 1};
    const uint8_t types[4] = {FN_TFL_FLOAT16, FN_TFL_INT8, FN_TFL_UINT8, FN_TFL_FLOAT32};
    for (int i = 0; i < 4; i++) {
        size_t t = fb_table(b, 5);
        set_elem(b, tens, i, t);
        if (i == 2) mk->tensor = t;
        set_ref(b, t, 0, fb_vec(b, shapes[i], (uint32_t)ndims[i], 4));
        set_u8(b, t, 1, types[i]);
        set_u32(b, t, 2, i < 3 ? (uint32_t)i + 1 : 0);
        set_ref(b, t, 3, fb_str(b, names[i]));
        if (i == 0 || i == 3) { absent(b, t, 4); continue; }
        size_t q = fb_table(b, 7);
        set_ref(b, t, 4, q);
        const float sc2[2] = {0.5f, 0.25f}, sc1[1] = {0.1f};
        const int64_t zp2[2] = {1, -2}, zp1[1] = {128};
        absent(b, q, 0); absent(b, q, 1); absent(b, q, 4); absent(b, q, 5);
        set_ref(b, q, 2, i == 1 ? fb_vec(b, sc2, 2, 4) : fb_vec(b, sc1, 1, 4));
        set_ref(b, q, 3, i == 1 ? fb_vec(b, zp2, 2, 8) : fb_vec(b, zp1, 1, 8));
        set_u32(b, q, 6, 0);
    }
    const int32_t gin[1] = {0}, gout[1] = {3};
    set_ref(b, sg, 1, fb_vec(b, gin, 1, 4));
    set_ref(b, sg, 2, fb_vec(b, gout, 1, 4));
    size_t ops = fb_tables(b, 1);
    set_ref(b, sg, 3, ops);
    size_t op = fb_table(b, 5);
    set_elem(b, ops, 0, op);
    mk->op = op;
    set_u32(b, op, 0, 0);
    const int32_t oin[3] = {0, 1, 2}, oout[1] = {3};
    mk->op_inputs = fb_vec(b, oin, 3, 4);
    set_ref(b, op, 1, mk->op_inputs);
    set_ref(b, op, 2, fb_vec(b, oout, 1, 4));
    set_u8(b, op, 3, 1);                       /* Conv2DOptions */
    size_t opt = fb_table(b, 6);
    set_ref(b, op, 4, opt);
    set_u8(b, opt, 0, FN_TFL_PAD_SAME);
    set_u32(b, opt, 1, 2);
    set_u32(b, opt, 2, 3);
    set_u8(b, opt, 3, FN_TFL_ACT_RELU6);
    absent(b, opt, 4);                         /* dilations default to 1 */
    set_u32(b, opt, 5, 4);
    return b->n;
}

static void test_handmade(void)
{
    fbb b;
    marks mk;
    size_t n = build_model(&b, &mk);
    fn_tfl_model *m;
    if (fn_tfl_parse(b.p, n, "handmade.tflite", &m) != FN_OK) { T_CHECK(0, "handmade: %s", fn_last_error()); return; }
    const fn_tfl_op *op = &m->ops[0];
    T_CHECK(m->nops == 1 && op->code == FN_TFL_CONV_2D && op->opt.padding == FN_TFL_PAD_SAME && op->opt.stride_w == 2 &&
            op->opt.stride_h == 3 && op->opt.activation == FN_TFL_ACT_RELU6 && op->opt.dilation_w == 1 &&
            op->opt.dilation_h == 4, "handmade conv options: stride %dx%d act %d dilation %dx%d", op->opt.stride_h,
            op->opt.stride_w, op->opt.activation, op->opt.dilation_h, op->opt.dilation_w);
    fn_weights *w;
    if (fn_tfl_weights(m, &w) != FN_OK) { T_CHECK(0, "handmade weights: %s", fn_last_error()); fn_tfl_free(m); return; }
    T_CHECK(w->count == 3, "handmade: %d weight tensors, expected 3 (the graph output has no data)", w->count);
    const fn_wtensor *h = fn_weights_find(w, "half"), *q = fn_weights_find(w, "int8"), *u = fn_weights_find(w, "uint8");
    /* Hand-computed: f16 1, -2, 2^-24; int8 rows (q - zp) * scale:
     * (3-1)*.5=1, (-1-1)*.5=-1, (-2+2)*.25=0, (6+2)*.25=2; uint8 (q-128)*.1 = 0, 1. */
    const float hw[3] = {1.0f, -2.0f, 5.9604645e-8f}, qw[4] = {1.0f, -1.0f, 0.0f, 2.0f}, uw[2] = {0.0f, 1.0f};
    T_CHECK(h && h->numel == 3 && t_max_abs_diff(h->data, hw, 3, NULL) == 0, "float16 widened wrongly");
    T_CHECK(q && q->numel == 4 && q->shape[0] == 2 && t_max_abs_diff(q->data, qw, 4, NULL) == 0, "int8 per-channel dequantised wrongly");
    T_CHECK(u && u->numel == 2 && t_max_abs_diff(u->data, uw, 2, NULL) < 1e-7f, "uint8 per-tensor dequantised wrongly");
    printf("handmade model: float16, int8 per-channel and uint8 per-tensor dequantised as computed by hand\n");
    fn_weights_free(w);
    fn_tfl_free(m);
}

/* ---- hostile files ---- */

/* Parse (and convert) a damaged copy: any status, but failures must say
 * which file.  Returns 1 if it was rejected. */
static int try_bytes(const uint8_t *p, size_t n, const char *label)
{
    fn_tfl_model *m;
    fn_status s = fn_tfl_parse(p, n, label, &m);
    if (s == FN_OK) {
        fn_weights *w;
        s = fn_tfl_weights(m, &w);
        if (s == FN_OK) fn_weights_free(w);
        fn_tfl_free(m);
    }
    if (s != FN_OK) {
        T_CHECK(strstr(fn_last_error(), label) != NULL, "error does not name the file: %s", fn_last_error());
        T_CHECK(s == FN_ERR_FORMAT || s == FN_ERR_UNSUPPORTED || s == FN_ERR_LIMIT, "unexpected status %s: %s",
                fn_status_name(s), fn_last_error());
    }
    return s != FN_OK;
}

static void expect_error(const uint8_t *p, size_t n, const char *what, const char *needle)
{
    fn_tfl_model *m = NULL;
    fn_status s = fn_tfl_parse(p, n, "bad.tflite", &m);
    T_CHECK(s != FN_OK, "%s: accepted", what);
    if (s == FN_OK) { fn_tfl_free(m); return; }
    T_CHECK(strstr(fn_last_error(), "bad.tflite") && strstr(fn_last_error(), needle),
            "%s: message \"%s\" lacks \"%s\"", what, fn_last_error(), needle);
}

static void test_hostile(void)
{
    fbb hb;
    marks mk;
    size_t hn = build_model(&hb, &mk);
    uint8_t *copy = malloc(sizeof hb.p);

    expect_error(hb.p, 0, "empty file", "too short");
    memcpy(copy, hb.p, hn); memcpy(copy + 4, "XXXX", 4);
    expect_error(copy, hn, "wrong identifier", "not a TFLite model");
    memcpy(copy, hb.p, hn); w32(copy, 0, 0xfffffff0u);
    expect_error(copy, hn, "root offset past the end", "corrupt");
    memcpy(copy, hb.p, hn); w32(copy, slot(mk.tensor, 2), 99);
    expect_error(copy, hn, "buffer index out of range", "refers to buffer 99 of 4");
    memcpy(copy, hb.p, hn); w32(copy, slot(mk.op, 0), 5);
    expect_error(copy, hn, "opcode index out of range", "uses opcode 5 of 1");
    memcpy(copy, hb.p, hn); w32(copy, mk.op_inputs + 4, 77);
    expect_error(copy, hn, "operator input out of range", "refers to tensor 77 of 4");
    memcpy(copy, hb.p, hn); w32(copy, mk.op_inputs, 0x40000000u);
    expect_error(copy, hn, "vector length past the end", "operator inputs");
    memcpy(copy, hb.p, hn); w32(copy, mk.tensor, 0x80000000u);
    expect_error(copy, hn, "vtable before the file", "corrupt");
    memcpy(copy, hb.p, hn); copy[slot(mk.op, 3)] = 5;   /* Pool2DOptions on a CONV_2D */
    expect_error(copy, hn, "options of the wrong type", "options of union type 5");

    /* Truncation at every length and 0xff-flips at every byte of the
     * hand-made model; then offsets forced huge at every aligned word. */
    int rejected = 0, tried = 0;
    for (size_t cut = 0; cut < hn; cut++, tried++) rejected += try_bytes(hb.p, cut, "cut.tflite");
    T_CHECK(rejected == tried, "%d of %d truncations accepted", tried - rejected, tried);
    printf("handmade truncated at every length: %d/%d rejected\n", rejected, tried);
    int flips = 0, frej = 0;
    for (size_t i = 0; i < hn; i++, flips++) {
        memcpy(copy, hb.p, hn);
        copy[i] ^= 0xff;
        frej += try_bytes(copy, hn, "flip.tflite");
    }
    int words = 0, wrej = 0;
    for (size_t i = 0; i + 4 <= hn; i += 4, words++) {
        memcpy(copy, hb.p, hn);
        w32(copy, i, 0x7ffffff0u);
        wrej += try_bytes(copy, hn, "huge.tflite");
    }
    printf("handmade: %d byte flips (%d rejected), %d words set to 0x7ffffff0 (%d rejected), no crash\n",
           flips, frej, words, wrej);
    free(copy);

    /* The same on the real pnet.tflite (sampled: it is 32 KB). */
    const char *path = t_models("pnet.tflite");
    size_t n;
    uint8_t *orig = path ? slurp(path, &n) : NULL;
    if (!orig) t_not_checked("truncations and byte flips of the real pnet.tflite (models/pnet.tflite is absent: make models)");
    uint8_t *buf = orig ? malloc(n) : NULL;
    int cuts = 0, crej = 0;
    if (orig) {
        for (size_t cut = 0; cut < n; cut += 1 + cut / 8, cuts++) crej += try_bytes(orig, cut, "pnet-cut.tflite");
        T_CHECK(crej == cuts, "pnet: %d of %d truncations accepted", cuts - crej, cuts);
        int pf = 0, pfrej = 0;
        for (size_t i = 0; i < n; i += 7, pf++) {
            memcpy(buf, orig, n);
            buf[i] ^= 0xff;
            pfrej += try_bytes(buf, n, "pnet-flip.tflite");
            memcpy(buf, orig, n);
            if (i + 4 <= n) w32(buf, i & ~(size_t)3, 0x7ffffff0u);
            pfrej += try_bytes(buf, n, "pnet-huge.tflite");
        }
        printf("pnet.tflite: %d truncations (%d rejected), %d flips + %d huge words (%d rejected), no crash\n",
               cuts, crej, pf, pf, pfrej);
    }
    free(buf);
    free(orig);

    fn_tfl_model *m;
    T_CHECK(fn_tfl_open("/nonexistent/x.tflite", &m) == FN_ERR_IO && strstr(fn_last_error(), "/nonexistent/x.tflite"),
            "missing file: %s", fn_last_error());
}

int main(void)
{
    test_handmade();
    test_hostile();
    test_pnet_graph();
    test_bundle_equals_pt();
    return T_DONE();
}
