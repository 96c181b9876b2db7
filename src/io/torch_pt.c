/* torch_pt.c — PyTorch state_dict checkpoints (.pt) into fn_weights.
 * Owns: both on-disk layouts (legacy: header pickles + main pickle + raw
 * storages in key order; zip: <archive>/data.pkl + <archive>/data/<key>) and
 * the meaning of the pickle's tensor records.  The file is mapped once and
 * every float32 tensor is copied once, densely, into the weights arena.
 */
#include "io/weights.h"
#include "io/pickle.h"
#include "io/zip.h"
#include "core/error.h"
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "torch_pt.c copies little-endian tensor bytes as they are; add byte swapping for this host"
#endif

/* The legacy format opens with a pickle of this 80-bit magic number. */
static const unsigned char legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                             0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
#define LEGACY_PROTOCOL_VERSION 1001

/* Only these globals may appear.  Storage classes are type tags, never called. */
enum {
    G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_TENSOR, G_REBUILD_PARAMETER,
    G_STORAGE_FIRST, G_FLOAT = G_STORAGE_FIRST, G_DOUBLE, G_HALF, G_BFLOAT16, G_LONG, G_INT, G_SHORT,
    G_CHAR, G_BYTE, G_BOOL, G_COUNT
};
static const char *const allowed_globals[G_COUNT] = {
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_parameter",
    "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
    "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
    "torch.ByteStorage", "torch.BoolStorage"
};
static const struct { const char *name; int size; } dtypes[G_COUNT - G_STORAGE_FIRST] = {
    {"float32", 4}, {"float64", 8}, {"float16", 2}, {"bfloat16", 2}, {"int64", 8}, {"int32", 4},
    {"int16", 2}, {"int8", 1}, {"uint8", 1}, {"bool", 1}
};
#define DT_FLOAT32 0
#define DT_INT64 (G_LONG - G_STORAGE_FIRST)

static const fn_pk_rules pt_rules = {allowed_globals, G_COUNT, G_ORDERED_DICT};
static const fn_pk_rules plain_rules = {allowed_globals, 0, -1};

/* Tensors built by expanding a small storage (stride 0) may exceed the file;
 * beyond this much the file is treated as hostile rather than allocated for. */
#define MAX_EXPANSION 16
#define MAX_NUMEL ((int64_t)1 << 34)

typedef struct pt_storage {
    const char *key;
    size_t key_len;
    int dtype;
    int64_t declared;            /* element count in the persistent id */
    const unsigned char *data;   /* resolved bytes */
    int64_t numel;               /* elements actually present */
} pt_storage;

typedef struct pt_tensor {
    const char *name;
    size_t name_len;
    int storage;
    int64_t offset;              /* first element in the storage, view offset included */
    int64_t limit;               /* end of the view in the storage, or -1 (whole storage) */
    int ndim;
    int64_t shape[FN_MAX_DIMS], stride[FN_MAX_DIMS], numel;
} pt_tensor;

typedef struct pt_ctx {
    const char *path;
    const unsigned char *buf;
    size_t len;
    int mapped;
    fn_pickle pk;
    pt_storage *st;
    int nst, cap_st;
    int *hash;                   /* open addressing over st, -1 empty */
    size_t hash_cap;
    pt_tensor *t;
    int nt, cap_t;
    fn_zip zip;
    const char *prefix;          /* zip: archive folder name (not NUL-terminated) */
    size_t prefix_len;
} pt_ctx;

static int name_len_for_msg(size_t n) { return (int)(n > 200 ? 200 : n); }

/* ---- the file ---- */

static fn_status map_file(pt_ctx *c)
{
    int fd;
    struct stat st;
    FN_TRY(fn_open_regular(c->path, &fd, &st));   /* a FIFO is refused, not waited on */
    c->len = (size_t)st.st_size;
    if (c->len == 0) {
        close(fd);
        return fn_fail(FN_ERR_FORMAT, "%s: file is empty, not a PyTorch checkpoint", c->path);
    }
    /* MAP_POPULATE reads the file in big sequential chunks up front, which is
     * faster than faulting page by page during the copy. */
    void *p = mmap(NULL, c->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return fn_fail(FN_ERR_IO, "%s: cannot map (%s)", c->path, strerror(errno));
    c->buf = p;
    c->mapped = 1;
    return FN_OK;
}

static void ctx_free(pt_ctx *c)
{
    if (c->mapped) munmap((void *)c->buf, c->len);
    fn_pickle_free(&c->pk);
    free(c->st);
    free(c->hash);
    free(c->t);
}

static int grow_array(void **arr, int *cap, int need, size_t el)
{
    if (need <= *cap) return 1;
    int n = *cap ? *cap * 2 : 64;
    while (n < need) n *= 2;
    void *q = realloc(*arr, (size_t)n * el);
    if (!q) return 0;
    *arr = q;
    *cap = n;
    return 1;
}

/* ---- storages, found by key through a small hash table ---- */

static size_t hash_key(const char *s, size_t n)
{
    size_t h = 1469598103934665603ull;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int find_storage(const pt_ctx *c, const char *key, size_t n)
{
    if (!c->hash_cap) return -1;
    for (size_t h = hash_key(key, n) & (c->hash_cap - 1);; h = (h + 1) & (c->hash_cap - 1)) {
        int i = c->hash[h];
        if (i < 0) return -1;
        if (c->st[i].key_len == n && memcmp(c->st[i].key, key, n) == 0) return i;
    }
}

static fn_status rehash(pt_ctx *c, size_t cap)
{
    int *h = malloc(cap * sizeof *h);
    if (!h) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", c->path);
    for (size_t i = 0; i < cap; i++) h[i] = -1;
    free(c->hash);
    c->hash = h;
    c->hash_cap = cap;
    for (int i = 0; i < c->nst; i++) {
        size_t k = hash_key(c->st[i].key, c->st[i].key_len) & (cap - 1);
        while (h[k] >= 0) k = (k + 1) & (cap - 1);
        h[k] = i;
    }
    return FN_OK;
}

static fn_status add_storage(pt_ctx *c, const char *key, size_t n, int dtype, int64_t declared, int *out)
{
    if (!grow_array((void **)&c->st, &c->cap_st, c->nst + 1, sizeof *c->st))
        return fn_fail(FN_ERR_NOMEM, "%s: out of memory", c->path);
    c->st[c->nst] = (pt_storage){key, n, dtype, declared, NULL, 0};
    *out = c->nst++;
    if ((size_t)c->nst * 2 > c->hash_cap) return rehash(c, c->hash_cap ? c->hash_cap * 2 : 256);
    size_t k = hash_key(key, n) & (c->hash_cap - 1);
    while (c->hash[k] >= 0) k = (k + 1) & (c->hash_cap - 1);
    c->hash[k] = *out;
    return FN_OK;
}

/* ---- reading the pickle's tensor records ---- */

static int as_int(const fn_pickle *pk, int node, int64_t *v)
{
    if (node < 0 || pk->nodes[node].kind != FN_PK_INT) return 0;
    *v = pk->nodes[node].i;
    return 1;
}

static fn_status bad_record(const pt_ctx *c, const pt_tensor *t, const char *what)
{
    return fn_fail(FN_ERR_FORMAT, "%s: tensor %.*s: %s", c->path, name_len_for_msg(t->name_len), t->name, what);
}

/* Legacy files may store a tensor in a slice ("view") of a bigger storage:
 * view_metadata = (view_key, offset, size), all in elements. */
static fn_status read_view(pt_ctx *c, pt_tensor *t, int view, int64_t *off, int64_t *size)
{
    const fn_pickle *pk = &c->pk;
    *off = 0;
    *size = -1;
    if (pk->nodes[view].kind == FN_PK_NONE) return FN_OK;
    if (pk->nodes[view].kind != FN_PK_TUPLE || pk->nodes[view].count != 3 ||
        !as_int(pk, fn_pk_tuple_item(pk, view, 1), off) || !as_int(pk, fn_pk_tuple_item(pk, view, 2), size) ||
        *off < 0 || *size < 0)
        return bad_record(c, t, "storage view is malformed");
    return FN_OK;
}

/* The persistent id names the storage: ('storage', <type>, key, location,
 * numel[, view_metadata]).  Storages are shared between tensors by key. */
static fn_status read_storage_ref(pt_ctx *c, pt_tensor *t, int node)
{
    const fn_pickle *pk = &c->pk;
    if (pk->nodes[node].kind != FN_PK_PERSID) return bad_record(c, t, "storage is not a persistent id");
    int pid = pk->nodes[node].a;
    const fn_pk_node *p = &pk->nodes[pid];
    if (p->kind != FN_PK_TUPLE || p->count < 5 || p->count > 6 || !fn_pk_str_is(pk, fn_pk_tuple_item(pk, pid, 0), "storage"))
        return bad_record(c, t, "storage reference is not ('storage', type, key, location, size)");
    int type = fn_pk_tuple_item(pk, pid, 1), key = fn_pk_tuple_item(pk, pid, 2);
    int64_t declared;
    if (pk->nodes[type].kind != FN_PK_GLOBAL || pk->nodes[type].i < G_STORAGE_FIRST)
        return bad_record(c, t, "storage type is not a torch storage class");
    if (pk->nodes[key].kind != FN_PK_STR || !as_int(pk, fn_pk_tuple_item(pk, pid, 4), &declared) || declared < 0)
        return bad_record(c, t, "storage key or size is malformed");
    int dtype = (int)pk->nodes[type].i - G_STORAGE_FIRST;
    int64_t view_off = 0, view_size = -1;
    if (p->count == 6) FN_TRY(read_view(c, t, fn_pk_tuple_item(pk, pid, 5), &view_off, &view_size));
    const char *k = pk->nodes[key].s;
    size_t kn = pk->nodes[key].n;
    int s = find_storage(c, k, kn);
    if (s < 0) FN_TRY(add_storage(c, k, kn, dtype, declared, &s));
    else if (c->st[s].dtype != dtype || c->st[s].declared != declared)
        return bad_record(c, t, "storage is shared with a tensor that gives it another type or size");
    t->storage = s;
    t->offset = view_off;
    t->limit = -1;
    if (view_size >= 0 && __builtin_add_overflow(view_off, view_size, &t->limit))
        return bad_record(c, t, "storage view is malformed");
    return FN_OK;
}

static fn_status read_dims(pt_ctx *c, pt_tensor *t, int size, int stride)
{
    const fn_pickle *pk = &c->pk;
    if (pk->nodes[size].kind != FN_PK_TUPLE || pk->nodes[stride].kind != FN_PK_TUPLE ||
        pk->nodes[size].count != pk->nodes[stride].count)
        return bad_record(c, t, "size and stride are not tuples of equal length");
    t->ndim = pk->nodes[size].count;
    if (t->ndim > FN_MAX_DIMS)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: tensor %.*s has %d dimensions; at most %d are supported", c->path,
                       name_len_for_msg(t->name_len), t->name, t->ndim, FN_MAX_DIMS);
    t->numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (!as_int(pk, fn_pk_tuple_item(pk, size, d), &t->shape[d]) || !as_int(pk, fn_pk_tuple_item(pk, stride, d), &t->stride[d]) ||
            t->shape[d] < 0 || t->stride[d] < 0)
            return bad_record(c, t, "size or stride holds something other than a non-negative integer");
        if (t->shape[d] && t->numel > MAX_NUMEL / t->shape[d])
            return fn_fail(FN_ERR_LIMIT, "%s: tensor %.*s is implausibly large", c->path, name_len_for_msg(t->name_len), t->name);
        t->numel *= t->shape[d];
    }
    return FN_OK;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
 * and the older _rebuild_tensor(storage, offset, size, stride); a Parameter
 * is _rebuild_parameter(tensor, requires_grad, hooks) around one of them. */
static fn_status read_tensor(pt_ctx *c, pt_tensor *t, int node, int depth)
{
    const fn_pickle *pk = &c->pk;
    const fn_pk_node *n = &pk->nodes[node];
    if (n->kind != FN_PK_CALL)
        return fn_fail(FN_ERR_FORMAT, "%s: entry %.*s is a %s, not a tensor; a state_dict (a dict of tensors) is needed",
                       c->path, name_len_for_msg(t->name_len), t->name, fn_pk_kind_name(n->kind));
    int64_t fn = pk->nodes[n->a].i, off;
    if (fn == G_REBUILD_PARAMETER && depth == 0) {
        int inner = fn_pk_tuple_item(pk, n->b, 0);
        if (inner < 0) return bad_record(c, t, "Parameter record holds no tensor");
        return read_tensor(c, t, inner, 1);
    }
    if (fn != G_REBUILD_TENSOR_V2 && fn != G_REBUILD_TENSOR)
        return bad_record(c, t, "is built by a call that does not make a tensor");
    int args = n->b, count = pk->nodes[args].count;
    if (count < 4 || (fn == G_REBUILD_TENSOR && count != 4) || count > 7)
        return bad_record(c, t, "tensor record has the wrong number of arguments");
    FN_TRY(read_storage_ref(c, t, fn_pk_tuple_item(pk, args, 0)));
    if (!as_int(pk, fn_pk_tuple_item(pk, args, 1), &off) || off < 0)
        return bad_record(c, t, "storage offset is not a non-negative integer");
    if (__builtin_add_overflow(t->offset, off, &t->offset))   /* on top of the view offset */
        return bad_record(c, t, "storage offset is implausibly large");
    return read_dims(c, t, fn_pk_tuple_item(pk, args, 2), fn_pk_tuple_item(pk, args, 3));
}

static fn_status read_state_dict(pt_ctx *c)
{
    const fn_pickle *pk = &c->pk;
    int root = pk->root;
    if (pk->nodes[root].kind != FN_PK_DICT)
        return fn_fail(FN_ERR_FORMAT, "%s: the checkpoint holds a %s, not a state_dict (a dict of tensors)", c->path,
                       fn_pk_kind_name(pk->nodes[root].kind));
    for (int cell = fn_pk_first(pk, root); cell >= 0; cell = fn_pk_next(pk, cell)) {
        int key = pk->cells[cell].key;
        if (pk->nodes[key].kind != FN_PK_STR)
            return fn_fail(FN_ERR_FORMAT, "%s: a state_dict key is a %s, not a name", c->path, fn_pk_kind_name(pk->nodes[key].kind));
        if (!grow_array((void **)&c->t, &c->cap_t, c->nt + 1, sizeof *c->t)) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", c->path);
        pt_tensor *t = &c->t[c->nt];
        memset(t, 0, sizeof *t);
        t->name = pk->nodes[key].s;
        t->name_len = pk->nodes[key].n;
        FN_TRY(read_tensor(c, t, pk->cells[cell].value, 0));
        c->nt++;
    }
    return FN_OK;
}

/* ---- legacy layout ---- */

static fn_status parse_small(pt_ctx *c, size_t *pos, fn_pickle *pk, const fn_pk_rules *rules)
{
    FN_TRY(fn_pickle_parse(pk, c->buf + *pos, c->len - *pos, *pos, rules, c->path));
    *pos += pk->end;
    return FN_OK;
}

/* Magic number, protocol version and sys_info (byte order, type sizes). */
static fn_status legacy_header(pt_ctx *c, size_t *pos)
{
    fn_pickle pk;
    int64_t version = 0;
    *pos = sizeof legacy_magic;
    FN_TRY(parse_small(c, pos, &pk, &plain_rules));
    int ok = as_int(&pk, pk.root, &version) && version == LEGACY_PROTOCOL_VERSION;
    fn_pickle_free(&pk);
    if (!ok) return fn_fail(FN_ERR_UNSUPPORTED, "%s: legacy checkpoint has protocol version %lld, expected %d", c->path,
                            (long long)version, LEGACY_PROTOCOL_VERSION);
    FN_TRY(parse_small(c, pos, &pk, &plain_rules));
    int little = pk.nodes[pk.root].kind == FN_PK_DICT;
    for (int cell = little ? fn_pk_first(&pk, pk.root) : -1; cell >= 0; cell = fn_pk_next(&pk, cell)) {
        int v = pk.cells[cell].value;
        if (fn_pk_str_is(&pk, pk.cells[cell].key, "little_endian"))
            little = pk.nodes[v].kind == FN_PK_BOOL && pk.nodes[v].i;
    }
    fn_pickle_free(&pk);
    if (!little) return fn_fail(FN_ERR_UNSUPPORTED, "%s: legacy checkpoint is not little-endian (or its sys_info is corrupt)", c->path);
    return FN_OK;
}

/* After the main pickle: a list of storage keys, then each storage as an
 * int64 element count and its raw bytes, in that order. */
static fn_status legacy_storages(pt_ctx *c, size_t pos)
{
    fn_pickle keys;
    FN_TRY(parse_small(c, &pos, &keys, &plain_rules));
    fn_status s = FN_OK;
    if (keys.nodes[keys.root].kind != FN_PK_LIST)
        s = fn_fail(FN_ERR_FORMAT, "%s: the storage key list at the end of the pickles is a %s", c->path,
                    fn_pk_kind_name(keys.nodes[keys.root].kind));
    for (int cell = s ? -1 : fn_pk_first(&keys, keys.root); cell >= 0 && !s; cell = fn_pk_next(&keys, cell)) {
        const fn_pk_node *k = &keys.nodes[keys.cells[cell].value];
        int i = k->kind == FN_PK_STR ? find_storage(c, k->s, k->n) : -1;
        if (i < 0 || c->st[i].data) {
            s = fn_fail(FN_ERR_FORMAT, "%s: storage key list names a storage no tensor uses (or names it twice)", c->path);
            break;
        }
        pt_storage *st = &c->st[i];
        uint64_t count = 0, el = (uint64_t)dtypes[st->dtype].size;
        if (c->len - pos >= 8) memcpy(&count, c->buf + pos, 8);
        if (c->len - pos < 8 || count > (c->len - pos - 8) / el)
            s = fn_fail(FN_ERR_FORMAT, "%s: storage %.*s is truncated at byte %zu", c->path, name_len_for_msg(st->key_len), st->key, c->len);
        else if ((int64_t)count != st->declared)
            s = fn_fail(FN_ERR_FORMAT, "%s: storage %.*s holds %llu elements but the pickle declares %lld", c->path,
                        name_len_for_msg(st->key_len), st->key, (unsigned long long)count, (long long)st->declared);
        else {
            st->data = c->buf + pos + 8;
            st->numel = (int64_t)count;
            pos += 8 + count * el;
        }
    }
    fn_pickle_free(&keys);
    return s;
}

static fn_status load_legacy(pt_ctx *c)
{
    size_t pos = 0;
    if (c->len < sizeof legacy_magic)
        return fn_fail(FN_ERR_FORMAT, "%s: legacy checkpoint is truncated at byte %zu", c->path, c->len);
    FN_TRY(legacy_header(c, &pos));
    FN_TRY(fn_pickle_parse(&c->pk, c->buf + pos, c->len - pos, pos, &pt_rules, c->path));
    pos += c->pk.end;
    FN_TRY(read_state_dict(c));
    return legacy_storages(c, pos);
}

/* ---- zip layout ---- */

/* The archive folder is whatever name torch.save was given; data.pkl sits
 * directly inside it. */
static fn_status zip_find_prefix(pt_ctx *c)
{
    size_t pos = 0;
    fn_zip_entry e;
    fn_status s;
    static const char pkl[] = "/data.pkl";
    const size_t pl = sizeof pkl - 1;
    while ((s = fn_zip_next(&c->zip, &pos, &e)) == FN_OK) {
        if (e.name_len > pl && memcmp(e.name + e.name_len - pl, pkl, pl) == 0 &&
            !memchr(e.name, '/', e.name_len - pl)) {
            c->prefix = e.name;
            c->prefix_len = e.name_len - pl;
            return FN_OK;
        }
    }
    if (s != FN_ERR_NOT_FOUND) return s;
    return fn_fail(FN_ERR_FORMAT, "%s: zip archive has no <name>/data.pkl; not a PyTorch checkpoint", c->path);
}

/* Entry "<prefix>/<rest>"; FN_ERR_NOT_FOUND if absent. */
static fn_status zip_entry(pt_ctx *c, const char *rest, fn_zip_entry *e)
{
    size_t rl = strlen(rest);
    char *name = malloc(c->prefix_len + 1 + rl + 1);
    if (!name) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", c->path);
    memcpy(name, c->prefix, c->prefix_len);
    name[c->prefix_len] = '/';
    memcpy(name + c->prefix_len + 1, rest, rl + 1);
    fn_status s = fn_zip_find(&c->zip, name, e);
    free(name);
    return s;
}

static fn_status zip_check_byteorder(pt_ctx *c)
{
    fn_zip_entry e;
    fn_status s = zip_entry(c, "byteorder", &e);
    if (s == FN_ERR_NOT_FOUND) return FN_OK;   /* written only since PyTorch 1.13; older files are little-endian */
    FN_TRY(s);
    if (e.size != 6 || memcmp(e.data, "little", 6) != 0)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: checkpoint was written big-endian; only little-endian is supported", c->path);
    return FN_OK;
}

/* One pass over the directory binds every "<prefix>/data/<key>" entry to its
 * storage, so lookups stay linear however many tensors there are.  Tensor
 * bytes are not CRC-checked: that doubled the load time of a 107 MB file, and
 * the legacy format has no checksum either; data.pkl, which gives the bytes
 * their meaning, is checked. */
static fn_status zip_storages(pt_ctx *c)
{
    size_t pos = 0, dl = c->prefix_len + 6;   /* "<prefix>/data/" */
    fn_zip_entry e;
    fn_status s;
    while ((s = fn_zip_next(&c->zip, &pos, &e)) == FN_OK) {
        if (e.name_len <= dl || memcmp(e.name, c->prefix, c->prefix_len) != 0 ||
            memcmp(e.name + c->prefix_len, "/data/", 6) != 0)
            continue;
        int i = find_storage(c, e.name + dl, e.name_len - dl);
        if (i < 0) continue;   /* unused storages are harmless */
        pt_storage *st = &c->st[i];
        uint64_t el = (uint64_t)dtypes[st->dtype].size;
        FN_TRY(fn_zip_data(&c->zip, &e));
        if ((uint64_t)st->declared > e.size / el)
            return fn_fail(FN_ERR_FORMAT, "%s: storage %.*s holds %zu bytes, fewer than the %lld elements of %s the pickle declares",
                           c->path, name_len_for_msg(st->key_len), st->key, e.size, (long long)st->declared, dtypes[st->dtype].name);
        st->data = e.data;
        st->numel = st->declared;
    }
    return s == FN_ERR_NOT_FOUND ? FN_OK : s;
}

static fn_status load_zip(pt_ctx *c)
{
    fn_zip_entry pkl;
    FN_TRY(fn_zip_open(&c->zip, c->buf, c->len, c->path));
    FN_TRY(zip_find_prefix(c));
    FN_TRY(zip_check_byteorder(c));
    FN_TRY(zip_entry(c, "data.pkl", &pkl));
    FN_TRY(fn_zip_verify(&c->zip, &pkl));
    FN_TRY(fn_pickle_parse(&c->pk, pkl.data, pkl.size, 0, &pt_rules, c->path));
    FN_TRY(read_state_dict(c));
    return zip_storages(c);
}

/* ---- checking and copying ---- */

static int is_skipped(const pt_ctx *c, const pt_tensor *t)
{
    /* BatchNorm's step counter is int64 and no network needs it. */
    static const char nbt[] = "num_batches_tracked";
    size_t n = sizeof nbt - 1;
    return c->st[t->storage].dtype == DT_INT64 && t->name_len >= n && memcmp(t->name + t->name_len - n, nbt, n) == 0;
}

/* Every element the tensor addresses must lie inside its storage (or view). */
static fn_status check_tensor(const pt_ctx *c, const pt_tensor *t)
{
    const pt_storage *st = &c->st[t->storage];
    int nl = name_len_for_msg(t->name_len);
    if (st->dtype != DT_FLOAT32)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: tensor %.*s has dtype %s; only float32 is supported", c->path, nl, t->name,
                       dtypes[st->dtype].name);
    if (!st->data)
        return fn_fail(FN_ERR_FORMAT, "%s: tensor %.*s: its storage %.*s is missing from the file", c->path, nl, t->name,
                       name_len_for_msg(st->key_len), st->key);
    int64_t avail = st->numel, last = t->offset;
    if (t->limit >= 0) {
        if (t->limit > avail) return fn_fail(FN_ERR_FORMAT, "%s: tensor %.*s: storage view lies outside its storage", c->path, nl, t->name);
        avail = t->limit;
    }
    if (t->numel == 0) return FN_OK;
    for (int d = 0; d < t->ndim; d++) {
        int64_t step;
        if (__builtin_mul_overflow(t->shape[d] - 1, t->stride[d], &step) || __builtin_add_overflow(last, step, &last))
            return fn_fail(FN_ERR_FORMAT, "%s: tensor %.*s: strides overflow", c->path, nl, t->name);
    }
    if (last >= avail)
        return fn_fail(FN_ERR_FORMAT, "%s: tensor %.*s needs element %lld of its storage, which holds %lld", c->path, nl, t->name,
                       (long long)last, (long long)avail);
    return FN_OK;
}

static int is_dense(const pt_tensor *t)
{
    int64_t want = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != want) return 0;
        want *= t->shape[d];
    }
    return 1;
}

/* Non-contiguous tensors (e.g. a transposed view) are gathered row by row. */
static void copy_strided(float *dst, const unsigned char *src, const pt_tensor *t)
{
    int nd = t->ndim, inner = nd - 1;
    int64_t idx[FN_MAX_DIMS] = {0}, rows = t->numel / t->shape[inner];
    for (int64_t r = 0; r < rows; r++) {
        int64_t base = t->offset;
        for (int d = 0; d < inner; d++) base += idx[d] * t->stride[d];
        for (int64_t i = 0; i < t->shape[inner]; i++)
            memcpy(dst++, src + (size_t)(base + i * t->stride[inner]) * sizeof(float), sizeof(float));
        for (int d = inner - 1; d >= 0 && ++idx[d] == t->shape[d]; d--) idx[d] = 0;
    }
}

static void copy_tensor(float *dst, const pt_ctx *c, const pt_tensor *t)
{
    const unsigned char *src = c->st[t->storage].data;
    if (t->numel == 0) return;
    if (t->ndim == 0 || is_dense(t)) memcpy(dst, src + (size_t)t->offset * sizeof(float), (size_t)t->numel * sizeof(float));
    else copy_strided(dst, src, t);
}

static fn_status build_weights(pt_ctx *c, fn_weights **out)
{
    int kept = 0;
    size_t data = 0, names = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < c->nt; i++) {
        if (is_skipped(c, &c->t[i])) continue;
        FN_TRY(check_tensor(c, &c->t[i]));
        kept++;
        bytes += (uint64_t)c->t[i].numel * sizeof(float);
        data += fn_arena_round((size_t)c->t[i].numel * sizeof(float));
        names += c->t[i].name_len + 1;
        if (bytes > (uint64_t)c->len * MAX_EXPANSION + ((uint64_t)1 << 24))
            return fn_fail(FN_ERR_LIMIT, "%s: tensors would need far more memory than the file's size suggests; refusing", c->path);
    }
    fn_weights *w;
    FN_TRY(fn_weights_create(c->path, kept, data, names, &w));
    for (int i = 0; i < c->nt; i++) {
        const pt_tensor *t = &c->t[i];
        float *dst;
        if (is_skipped(c, t)) continue;
        fn_status s = fn_weights_add(w, t->name, t->name_len, t->ndim, t->shape, &dst);
        if (s != FN_OK) {
            fn_weights_free(w);
            return s;
        }
        copy_tensor(dst, c, t);
    }
    fn_status s = fn_weights_seal(w);
    if (s != FN_OK) {
        fn_weights_free(w);
        return s;
    }
    *out = w;
    return FN_OK;
}

static fn_status load_any(pt_ctx *c)
{
    size_t n = c->len < sizeof legacy_magic ? c->len : sizeof legacy_magic;
    if (memcmp(c->buf, legacy_magic, n) == 0) return load_legacy(c);
    if (fn_zip_sniff(c->buf, c->len)) return load_zip(c);
    return fn_fail(FN_ERR_FORMAT, "%s: not a PyTorch checkpoint (neither the zip nor the legacy format)", c->path);
}

fn_status fn_weights_load_pt(const char *path, fn_weights **out)
{
    if (!out) return fn_fail(FN_ERR_ARG, "fn_weights_load_pt: no output pointer");
    *out = NULL;
    if (!path) return fn_fail(FN_ERR_ARG, "fn_weights_load_pt: no path");
    pt_ctx c = {.path = path};
    fn_status s = map_file(&c);
    if (s == FN_OK) s = load_any(&c);
    if (s == FN_OK) s = build_weights(&c, out);
    ctx_free(&c);
    return s;
}
