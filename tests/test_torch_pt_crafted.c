/* The .pt reader on tiny checkpoints written byte by byte here, in both
 * layouts: storage offsets, strided views, shared storages, legacy storage
 * views, Parameters, pickle protocol 4 opcodes, zip64 records; and the
 * errors for other dtypes, non-state_dict pickles, unknown globals,
 * short storages, compressed entries.  Expected values are hand-computed. */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "t.h"
#include "core/error.h"
#include "io/weights.h"

/* ---- a growable byte buffer ---- */

typedef struct buf { unsigned char *p; size_t n, cap; } buf;

static void put(buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put1(buf *b, int v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void put_le(buf *b, uint64_t v, int n) { for (int i = 0; i < n; i++) put1(b, (int)(v >> (8 * i) & 0xff)); }
static void put_str(buf *b, const char *s) { put(b, s, strlen(s)); }

/* ---- pickle writer (the opcodes PyTorch's writer uses) ---- */

typedef struct pw { buf b; int proto4; } pw;

static void p_str(pw *w, const char *s)
{
    size_t n = strlen(s);
    if (w->proto4 && n < 256) { put1(&w->b, 0x8c); put1(&w->b, (int)n); }   /* SHORT_BINUNICODE */
    else { put1(&w->b, 'X'); put_le(&w->b, n, 4); }
    put(&w->b, s, n);
    if (w->proto4) put1(&w->b, 0x94);   /* MEMOIZE */
}

static void p_int(pw *w, long v)
{
    if (v >= 0 && v < 256) { put1(&w->b, 'K'); put1(&w->b, (int)v); }
    else if (v >= 0 && v < 65536) { put1(&w->b, 'M'); put_le(&w->b, (uint64_t)v, 2); }
    else { put1(&w->b, 'J'); put_le(&w->b, (uint64_t)v, 4); }
}

static void p_global(pw *w, const char *mod, const char *name)
{
    if (w->proto4) {
        p_str(w, mod);
        p_str(w, name);
        put1(&w->b, 0x93);   /* STACK_GLOBAL */
        return;
    }
    put1(&w->b, 'c');
    put_str(&w->b, mod); put1(&w->b, '\n');
    put_str(&w->b, name); put1(&w->b, '\n');
}

static void p_ints_tuple(pw *w, int n, const long *v)
{
    put1(&w->b, '(');
    for (int i = 0; i < n; i++) p_int(w, v[i]);
    put1(&w->b, 't');
}

static void p_empty_ordered_dict(pw *w)
{
    p_global(w, "collections", "OrderedDict");
    put1(&w->b, ')');
    put1(&w->b, 'R');
}

/* ---- checkpoints described as tensors over storages ---- */

typedef struct st_desc {
    const char *key, *type;     /* type: "FloatStorage", "DoubleStorage", "LongStorage" */
    int elsize;
    long numel;
    const void *data;
} st_desc;

typedef struct t_desc {
    const char *name;
    int storage;
    long offset;
    int ndim;
    long shape[4], stride[4];
    int parameter;              /* wrap in _rebuild_parameter */
    long view[2];               /* legacy storage view (offset, size); size 0 = none */
} t_desc;

typedef struct ckpt {
    const st_desc *st; int nst;
    const t_desc *t; int nt;
    int legacy, proto4;
    const char *extra_global;   /* an extra GLOBAL as the first value, e.g. "os\nsystem" */
    int root_is_list;
} ckpt;

static void p_tensor(pw *w, const ckpt *c, const t_desc *t)
{
    const st_desc *s = &c->st[t->storage];
    if (t->parameter) { p_global(w, "torch._utils", "_rebuild_parameter"); put1(&w->b, '('); }
    p_global(w, "torch._utils", "_rebuild_tensor_v2");
    put1(&w->b, '(');
    put1(&w->b, '(');                       /* persistent id tuple */
    p_str(w, "storage");
    p_global(w, "torch", s->type);
    p_str(w, s->key);
    p_str(w, "cpu");
    p_int(w, s->numel);
    if (c->legacy) {
        if (t->view[1]) {
            char vk[64];
            snprintf(vk, sizeof vk, "%s_view", s->key);
            put1(&w->b, '(');
            p_str(w, vk);
            p_int(w, t->view[0]);
            p_int(w, t->view[1]);
            put1(&w->b, 't');
        } else put1(&w->b, 'N');
    }
    put1(&w->b, 't');
    put1(&w->b, 'Q');                       /* BINPERSID */
    p_int(w, t->offset);
    p_ints_tuple(w, t->ndim, t->shape);
    p_ints_tuple(w, t->ndim, t->stride);
    put1(&w->b, 0x89);                      /* requires_grad False */
    p_empty_ordered_dict(w);
    put1(&w->b, 't');
    put1(&w->b, 'R');
    if (t->parameter) { put1(&w->b, 0x88); p_empty_ordered_dict(w); put1(&w->b, 't'); put1(&w->b, 'R'); }
}

static void main_pickle(pw *w, const ckpt *c)
{
    put1(&w->b, 0x80); put1(&w->b, c->proto4 ? 4 : 2);
    if (c->proto4) { put1(&w->b, 0x95); put_le(&w->b, 0, 8); }   /* FRAME (length unused by readers like ours) */
    if (c->root_is_list) put1(&w->b, ']');
    else p_empty_ordered_dict(w);
    put1(&w->b, 'q'); put1(&w->b, 0);       /* BINPUT 0 */
    put1(&w->b, '(');
    if (c->extra_global) {
        char mod[64];
        snprintf(mod, sizeof mod, "%s", c->extra_global);
        char *nl = strchr(mod, '\n');
        *nl = '\0';
        if (!c->root_is_list) p_str(w, "evil");
        p_global(w, mod, nl + 1);
    }
    for (int i = 0; i < c->nt; i++) {
        if (!c->root_is_list) p_str(w, c->t[i].name);
        p_tensor(w, c, &c->t[i]);
    }
    put1(&w->b, c->root_is_list ? 'e' : 'u');
    put1(&w->b, '.');
}

static const unsigned char legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                             0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};

static void write_legacy(buf *out, const ckpt *c)
{
    put(out, legacy_magic, sizeof legacy_magic);
    put(out, "\x80\x02\x4d\xe9\x03\x2e", 6);                     /* protocol version 1001 */
    static const char sys_info[] = "\x80\x02}X\x0d\x00\x00\x00little_endian\x88s.";
    put(out, sys_info, sizeof sys_info - 1);
    pw w = {{0}, c->proto4};
    main_pickle(&w, c);
    put(out, w.b.p, w.b.n);
    free(w.b.p);
    /* PyTorch lists exactly the storages the tensors use, in first-use order. */
    int order[8], n = 0;
    for (int i = 0; i < c->nt; i++) {
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= order[j] == c->t[i].storage;
        if (!seen) order[n++] = c->t[i].storage;
    }
    pw k = {{0}, 0};
    put_str(&k.b, "\x80\x02](");
    for (int i = 0; i < n; i++) p_str(&k, c->st[order[i]].key);
    put_str(&k.b, "e.");
    put(out, k.b.p, k.b.n);
    free(k.b.p);
    for (int j = 0; j < n; j++) {
        int i = order[j];
        put_le(out, (uint64_t)c->st[i].numel, 8);
        put(out, c->st[i].data, (size_t)c->st[i].numel * (size_t)c->st[i].elsize);
    }
}

/* ---- zip writer: STORED entries, optional zip64 forms ---- */

typedef struct zip_opts { int method; int zip64_extra; int zip64_eocd; const char *byteorder; } zip_opts;
typedef struct zentry { char name[96]; size_t local, size; uint32_t crc; } zentry;

static void zip_add(buf *z, buf *cd, zentry *e, const char *name, const void *data, size_t n, const zip_opts *o)
{
    snprintf(e->name, sizeof e->name, "%s", name);
    e->local = z->n;
    e->size = n;
    e->crc = (uint32_t)crc32(0L, data, (uInt)n);
    size_t nl = strlen(name);
    put_le(z, 0x04034b50, 4); put_le(z, 20, 2); put_le(z, 0, 2); put_le(z, (uint64_t)o->method, 2);
    put_le(z, 0, 4); put_le(z, e->crc, 4); put_le(z, n, 4); put_le(z, n, 4);
    put_le(z, nl, 2);
    /* pad the local extra so data starts 64-aligned, as PyTorch does */
    size_t at = z->n + 2 + nl, pad = (64 - (at + 4) % 64) % 64;
    put_le(z, 4 + pad, 2);
    put(z, name, nl);
    put_le(z, 0x4246, 2); put_le(z, pad, 2);
    for (size_t i = 0; i < pad; i++) put1(z, 'Z');
    put(z, data, n);

    int big = o->zip64_extra;
    put_le(cd, 0x02014b50, 4); put_le(cd, 45, 2); put_le(cd, 45, 2); put_le(cd, 0, 2); put_le(cd, (uint64_t)o->method, 2);
    put_le(cd, 0, 4); put_le(cd, e->crc, 4);
    put_le(cd, big ? 0xFFFFFFFFu : n, 4); put_le(cd, big ? 0xFFFFFFFFu : n, 4);
    put_le(cd, nl, 2); put_le(cd, big ? 28 : 0, 2); put_le(cd, 0, 2);
    put_le(cd, 0, 2); put_le(cd, 0, 2); put_le(cd, 0, 4);
    put_le(cd, big ? 0xFFFFFFFFu : e->local, 4);
    put(cd, name, nl);
    if (big) { put_le(cd, 1, 2); put_le(cd, 24, 2); put_le(cd, n, 8); put_le(cd, n, 8); put_le(cd, e->local, 8); }
}

static void zip_finish(buf *z, buf *cd, int count, const zip_opts *o)
{
    size_t cd_off = z->n;
    put(z, cd->p, cd->n);
    if (o->zip64_eocd) {
        size_t rec = z->n;
        put_le(z, 0x06064b50, 4); put_le(z, 44, 8); put_le(z, 45, 2); put_le(z, 45, 2);
        put_le(z, 0, 4); put_le(z, 0, 4); put_le(z, (uint64_t)count, 8); put_le(z, (uint64_t)count, 8);
        put_le(z, cd->n, 8); put_le(z, cd_off, 8);
        put_le(z, 0x07064b50, 4); put_le(z, 0, 4); put_le(z, rec, 8); put_le(z, 1, 4);
    }
    put_le(z, 0x06054b50, 4); put_le(z, 0, 2); put_le(z, 0, 2);
    put_le(z, o->zip64_eocd ? 0xFFFF : (uint64_t)count, 2); put_le(z, o->zip64_eocd ? 0xFFFF : (uint64_t)count, 2);
    put_le(z, o->zip64_eocd ? 0xFFFFFFFFu : cd->n, 4); put_le(z, o->zip64_eocd ? 0xFFFFFFFFu : cd_off, 4);
    put_le(z, 0, 2);
}

static void write_zip(buf *out, const ckpt *c, const zip_opts *o)
{
    buf cd = {0};
    zentry e;
    int count = 0;
    pw w = {{0}, c->proto4};
    main_pickle(&w, c);
    zip_add(out, &cd, &e, "archive/data.pkl", w.b.p, w.b.n, o); count++;
    free(w.b.p);
    if (o->byteorder) { zip_add(out, &cd, &e, "archive/byteorder", o->byteorder, strlen(o->byteorder), o); count++; }
    for (int i = 0; i < c->nst; i++) {
        char name[96];
        snprintf(name, sizeof name, "archive/data/%s", c->st[i].key);
        zip_add(out, &cd, &e, name, c->st[i].data, (size_t)c->st[i].numel * (size_t)c->st[i].elsize, o);
        count++;
    }
    zip_add(out, &cd, &e, "archive/version", "3\n", 2, o); count++;
    zip_finish(out, &cd, count, o);
    free(cd.p);
}

/* ---- running a checkpoint through the loader ---- */

static const char *save(const buf *b, const char *name)
{
    static char path[8][512];
    static int slot;
    char *p = path[slot++ & 7];
    snprintf(p, 512, "%s/%s", t_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(b->p, 1, b->n, f) != b->n) { perror(p); exit(1); }
    fclose(f);
    return p;
}

static fn_status load(const ckpt *c, const zip_opts *zo, fn_weights **w, const char **path)
{
    static const zip_opts plain = {0, 0, 0, NULL};
    buf b = {0};
    if (c->legacy) write_legacy(&b, c);
    else write_zip(&b, c, zo ? zo : &plain);
    *path = save(&b, c->legacy ? "crafted_legacy.pt" : "crafted_zip.pt");
    free(b.p);
    return fn_weights_load_pt(*path, w);
}

static void expect_values(const char *what, const fn_weights *w, const char *name, int ndim, const int64_t *shape,
                          const float *want, int n)
{
    const fn_wtensor *t = NULL;
    fn_status s = fn_weights_get(w, name, ndim, shape, &t);
    T_CHECK(s == FN_OK, "%s: %s", what, fn_last_error());
    if (!t) return;
    long at;
    float dev = t_max_abs_diff(t->data, want, n, &at);
    T_CHECK(t->numel == n && dev == 0, "%s: %s: worst deviation %g at %ld", what, name, dev, at);
    T_CHECK(((uintptr_t)t->data % 64) == 0, "%s: %s not 64-byte aligned", what, name);
}

static void expect_error(const char *what, fn_status got, fn_status want, const char *path, const char *needle)
{
    const char *msg = fn_last_error();
    T_CHECK(got == want, "%s: status %s, expected %s (%s)", what, fn_status_name(got), fn_status_name(want), msg);
    T_CHECK(strstr(msg, path) != NULL, "%s: message does not name the file: %s", what, msg);
    T_CHECK(strstr(msg, needle) != NULL, "%s: message lacks \"%s\": %s", what, needle, msg);
    printf("  %-28s -> %s\n", what, msg + strlen(path));
}

/* Write c, load it, expect failure with status want and needle in the message. */
static void load_error(const char *what, const ckpt *c, const zip_opts *zo, fn_status want, const char *needle)
{
    fn_weights *w = NULL;
    const char *path;
    fn_status s = load(c, zo, &w, &path);
    expect_error(what, s, want, path, needle);
    T_CHECK(w == NULL, "%s: output set on failure", what);
    fn_weights_free(w);
}

static const float f10[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

/* Offsets, a transposed view, a shared storage, a Parameter and a scalar,
 * in every layout and pickle flavour. */
static void test_layouts(void)
{
    static const st_desc st[] = {{"0", "FloatStorage", 4, 10, f10}, {"1", "FloatStorage", 4, 6, f10}};
    static const t_desc t[] = {
        {"offset", 0, 4, 1, {3}, {1}, 0, {0, 0}},                    /* [4 5 6] */
        {"transposed", 1, 0, 2, {3, 2}, {1, 3}, 0, {0, 0}},          /* 2x3 [[0 1 2][3 4 5]] seen as its transpose */
        {"shared", 0, 2, 2, {2, 2}, {2, 1}, 0, {0, 0}},              /* same storage as "offset": [2 3 4 5] */
        {"param", 1, 5, 1, {1}, {1}, 1, {0, 0}},                     /* Parameter around [5] */
        {"scalar", 0, 9, 0, {0}, {0}, 0, {0, 0}},                    /* 0-dim: 9 */
        {"empty", 0, 0, 2, {0, 3}, {3, 1}, 0, {0, 0}},               /* no elements */
    };
    for (int variant = 0; variant < 4; variant++) {
        ckpt c = {st, 2, t, 6, variant & 1, variant >> 1, NULL, 0};
        char what[64];
        snprintf(what, sizeof what, "%s, protocol %d", c.legacy ? "legacy" : "zip", c.proto4 ? 4 : 2);
        fn_weights *w = NULL;
        const char *path;
        fn_status s = load(&c, NULL, &w, &path);
        T_CHECK(s == FN_OK, "%s: %s", what, fn_last_error());
        if (!w) continue;
        T_CHECK(w->count == 6, "%s: %d tensors", what, w->count);
        const int64_t s3[] = {3}, s32[] = {3, 2}, s22[] = {2, 2}, s1[] = {1};
        expect_values(what, w, "offset", 1, s3, (const float[]){4, 5, 6}, 3);
        expect_values(what, w, "transposed", 2, s32, (const float[]){0, 3, 1, 4, 2, 5}, 6);
        expect_values(what, w, "shared", 2, s22, (const float[]){2, 3, 4, 5}, 4);
        expect_values(what, w, "param", 1, s1, (const float[]){5}, 1);
        expect_values(what, w, "scalar", 0, NULL, (const float[]){9}, 1);
        const fn_wtensor *e = fn_weights_find(w, "empty");
        T_CHECK(e && e->numel == 0 && e->ndim == 2 && e->shape[0] == 0 && e->shape[1] == 3, "%s: empty tensor", what);
        printf("%s: 6 tensors (offset, transposed, shared, parameter, scalar, empty) as hand-computed\n", what);
        fn_weights_free(w);
    }
}

/* Legacy files can slice one storage into views: (view_key, offset, size). */
static void test_legacy_view(void)
{
    static const st_desc st[] = {{"root", "FloatStorage", 4, 8, f10}};
    static const t_desc ok[] = {{"v", 0, 1, 1, {2}, {1}, 0, {2, 4}}};        /* view [2 3 4 5], tensor [3 4] */
    static const t_desc bad[] = {{"v", 0, 3, 1, {2}, {1}, 0, {2, 4}}};       /* would read 6, past the view */
    fn_weights *w = NULL;
    const char *path;
    ckpt c = {st, 1, ok, 1, 1, 0, NULL, 0};
    T_CHECK(load(&c, NULL, &w, &path) == FN_OK, "legacy view: %s", fn_last_error());
    if (w) expect_values("legacy view", w, "v", 1, (const int64_t[]){2}, (const float[]){3, 4}, 2);
    fn_weights_free(w);
    c.t = bad;
    load_error("read past a storage view", &c, NULL, FN_ERR_FORMAT, "tensor v needs element 6");
}

/* Archives as big as 4 GiB keep sizes and offsets in zip64 fields instead. */
static void test_zip64(void)
{
    static const st_desc st[] = {{"0", "FloatStorage", 4, 10, f10}};
    static const t_desc t[] = {{"x", 0, 7, 1, {3}, {1}, 0, {0, 0}}};
    const zip_opts opts[] = {{0, 1, 0, NULL}, {0, 0, 1, NULL}, {0, 1, 1, "little"}};
    for (int i = 0; i < 3; i++) {
        ckpt c = {st, 1, t, 1, 0, 0, NULL, 0};
        fn_weights *w = NULL;
        const char *path;
        T_CHECK(load(&c, &opts[i], &w, &path) == FN_OK, "zip64 form %d: %s", i, fn_last_error());
        if (w) expect_values("zip64", w, "x", 1, (const int64_t[]){3}, (const float[]){7, 8, 9}, 3);
        fn_weights_free(w);
    }
    printf("zip64 extra fields, zip64 end records, byteorder entry: read correctly\n");
}

static void test_errors(void)
{
    static const double d4[4] = {1, 2, 3, 4};
    static const int64_t counter = 7;
    static const st_desc st[] = {{"0", "FloatStorage", 4, 4, f10}, {"1", "DoubleStorage", 8, 4, d4},
                                 {"2", "LongStorage", 8, 1, &counter}};
    static const t_desc float64[] = {{"fc.weight", 1, 0, 1, {4}, {1}, 0, {0, 0}}};
    static const t_desc counters[] = {{"bn.num_batches_tracked", 2, 0, 0, {0}, {0}, 0, {0, 0}},
                                      {"bn.weight", 0, 0, 1, {4}, {1}, 0, {0, 0}}};
    static const t_desc int64[] = {{"bn.steps", 2, 0, 0, {0}, {0}, 0, {0, 0}}};
    static const t_desc too_long[] = {{"fc.bias", 0, 1, 1, {4}, {1}, 0, {0, 0}}};
    static const t_desc twice[] = {{"a", 0, 0, 1, {4}, {1}, 0, {0, 0}}, {"a", 0, 0, 1, {2}, {1}, 0, {0, 0}}};
    fn_weights *w = NULL;
    const char *path;
    printf("errors:\n");
    for (int legacy = 0; legacy < 2; legacy++) {
        ckpt c = {st, 3, float64, 1, legacy, 0, NULL, 0};
        load_error("float64 tensor", &c, NULL, FN_ERR_UNSUPPORTED, "tensor fc.weight has dtype float64");
        c.t = int64;
        load_error("int64 tensor", &c, NULL, FN_ERR_UNSUPPORTED, "tensor bn.steps has dtype int64");
        c.t = too_long;
        load_error("storage too short", &c, NULL, FN_ERR_FORMAT, "tensor fc.bias needs element 4");
        c.t = twice;
        c.nt = 2;
        load_error("duplicate name", &c, NULL, FN_ERR_FORMAT, "tensor a appears twice");
        c.t = counters;
        T_CHECK(load(&c, NULL, &w, &path) == FN_OK && w && w->count == 1 && fn_weights_find(w, "bn.weight"),
                "num_batches_tracked not skipped: %s", fn_last_error());
        fn_weights_free(w);
        c.t = float64;
        c.nt = 1;
        c.root_is_list = 1;
        load_error("pickle is a list", &c, NULL, FN_ERR_FORMAT, "holds a list, not a state_dict");
        c.root_is_list = 0;
        c.extra_global = "os\nsystem";
        load_error("unknown global", &c, NULL, FN_ERR_UNSUPPORTED, "refers to os.system");
        c.extra_global = "builtins\neval";
        c.proto4 = 1;
        load_error("unknown STACK_GLOBAL", &c, NULL, FN_ERR_UNSUPPORTED, "refers to builtins.eval");
    }
    ckpt c = {st, 1, too_long, 0, 0, 0, NULL, 0};
    zip_opts deflated = {8, 0, 0, NULL}, big_endian = {0, 0, 0, "big"};
    load_error("compressed zip entry", &c, &deflated, FN_ERR_UNSUPPORTED, "is compressed");
    load_error("big-endian archive", &c, &big_endian, FN_ERR_UNSUPPORTED, "big-endian");
}

/* Pickles that try to make the reader allocate or loop without bound. */
static void test_hostile_pickles(void)
{
    static const struct { const char *what; const char *bytes; size_t n; fn_status want; const char *needle; } cases[] = {
        {"huge memo index", "\x80\x02}r\xff\xff\xff\x7f.", 9, FN_ERR_LIMIT, "memo index"},
        {"huge string length", "\x80\x02X\xff\xff\xff\xff", 8, FN_ERR_FORMAT, "truncated"},
        {"memo get of nothing", "\x80\x02h\x05.", 5, FN_ERR_FORMAT, "never stored"},
        {"stop on empty stack", "\x80\x02.", 3, FN_ERR_FORMAT, "stack underflow"},
        {"setitem on a list", "\x80\x02]K\x01K\x02s.", 9, FN_ERR_FORMAT, "SETITEM applied to a list"},
        {"reduce of a non-global", "\x80\x02K\x01)R.", 7, FN_ERR_FORMAT, "REDUCE applied to a int"},
        {"unknown opcode", "\x80\x02I1\n.", 6, FN_ERR_UNSUPPORTED, "opcode 0x49"},
        {"no STOP", "\x80\x02}(((((", 8, FN_ERR_FORMAT, "no STOP"},
        {"self-containing list", "\x80\x02]q\x00h\x00" "a.", 9, FN_ERR_FORMAT, "holds a list"},
    };
    printf("hostile pickles:\n");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        buf b = {0};
        put(&b, legacy_magic, sizeof legacy_magic);
        put(&b, "\x80\x02\x4d\xe9\x03\x2e", 6);
        put_str(&b, "\x80\x02}.");
        put(&b, cases[i].bytes, cases[i].n);
        const char *path = save(&b, "hostile.pt");
        free(b.p);
        fn_weights *w = NULL;
        expect_error(cases[i].what, fn_weights_load_pt(path, &w), cases[i].want, path, cases[i].needle);
    }
    /* Two million empty dicts, or MARKs, or copies of one memo entry: each
     * table stops at its cap instead of growing with the file. */
    static const char *const floods[] = {"}", "(", "h\x00"};
    static const char *const flood_names[] = {"objects", "marks", "stack entries"};
    for (int f = 0; f < 3; f++) {
        buf b = {0};
        put(&b, legacy_magic, sizeof legacy_magic);
        put(&b, "\x80\x02\x4d\xe9\x03\x2e", 6);
        put_str(&b, "\x80\x02}.\x80\x02}q");
        put1(&b, 0);
        size_t unit = f == 2 ? 2 : 1;
        for (int i = 0; i < 2000000; i++) put(&b, floods[f], unit);
        put1(&b, '.');
        const char *path = save(&b, "flood.pt");
        free(b.p);
        fn_weights *w = NULL;
        char what[64];
        snprintf(what, sizeof what, "flood of %s", flood_names[f]);
        expect_error(what, fn_weights_load_pt(path, &w), FN_ERR_LIMIT, path, flood_names[f]);
    }
}

int main(void)
{
    test_layouts();
    test_legacy_view();
    test_zip64();
    test_errors();
    test_hostile_pickles();
    return T_DONE();
}
