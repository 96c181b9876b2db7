/* The .pt reader on tiny checkpoints written byte by byte here, in both
 * layouts: storage offsets, strided views, shared storages, legacy storage
 * views, Parameters, pickle protocol 4 opcodes, zip64 records; and the
 * errors for other dtypes, non-state_dict pickles, unknown globals,
 * short storages, compressed entries.  Expected values are hand-computed. */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "t.h"
#include "pt_write.h"
#include "core/error.h"
#include "io/weights.h"

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
    if (c->legacy) ptw_write_legacy(&b, c);
    else ptw_write_zip(&b, c, zo ? zo : &plain);
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
        ptw_put(&b, ptw_legacy_magic, sizeof ptw_legacy_magic);
        ptw_put(&b, "\x80\x02\x4d\xe9\x03\x2e", 6);
        ptw_put_str(&b, "\x80\x02}.");
        ptw_put(&b, cases[i].bytes, cases[i].n);
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
        ptw_put(&b, ptw_legacy_magic, sizeof ptw_legacy_magic);
        ptw_put(&b, "\x80\x02\x4d\xe9\x03\x2e", 6);
        ptw_put_str(&b, "\x80\x02}.\x80\x02}q");
        ptw_put1(&b, 0);
        size_t unit = f == 2 ? 2 : 1;
        for (int i = 0; i < 2000000; i++) ptw_put(&b, floods[f], unit);
        ptw_put1(&b, '.');
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
