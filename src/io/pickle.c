#include "io/pickle.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

/* A state_dict needs a few dozen objects per tensor (IRv1: 12k in all).
 * Capping every table keeps a hostile pickle -- say 100 MB of EMPTY_DICT --
 * from costing gigabytes, and keeps indices well inside int. */
#define PK_MAX_ITEMS ((size_t)1 << 20)

typedef struct parser {
    fn_pickle *pk;
    const unsigned char *buf;
    size_t len, pos, base, op_at;   /* op_at: offset of the opcode being run */
    const fn_pk_rules *rules;
    const char *where;
    int *stack, *marks, *memo;
    size_t sp, cap_stack, nmarks, cap_marks, memo_len, memo_set;
} parser;

enum {
    OP_MARK = '(', OP_STOP = '.', OP_BININT = 'J', OP_BININT1 = 'K', OP_BININT2 = 'M', OP_NONE = 'N',
    OP_BINPERSID = 'Q', OP_REDUCE = 'R', OP_BINSTRING = 'T', OP_SHORT_BINSTRING = 'U', OP_BINUNICODE = 'X',
    OP_APPEND = 'a', OP_BUILD = 'b', OP_GLOBAL = 'c', OP_APPENDS = 'e', OP_BINGET = 'h', OP_LONG_BINGET = 'j',
    OP_EMPTY_LIST = ']', OP_BINPUT = 'q', OP_LONG_BINPUT = 'r', OP_SETITEM = 's', OP_TUPLE = 't',
    OP_EMPTY_TUPLE = ')', OP_SETITEMS = 'u', OP_BINFLOAT = 'G', OP_EMPTY_DICT = '}',
    OP_BINBYTES = 'B', OP_SHORT_BINBYTES = 'C',
    OP_PROTO = 0x80, OP_TUPLE1 = 0x85, OP_TUPLE2 = 0x86, OP_TUPLE3 = 0x87, OP_NEWTRUE = 0x88,
    OP_NEWFALSE = 0x89, OP_LONG1 = 0x8a, OP_LONG4 = 0x8b, OP_SHORT_BINUNICODE = 0x8c,
    OP_BINUNICODE8 = 0x8d, OP_STACK_GLOBAL = 0x93, OP_MEMOIZE = 0x94, OP_FRAME = 0x95
};

static const char *const kind_names[] = {
    "None", "bool", "int", "int", "float", "str", "bytes", "tuple", "list", "dict", "global", "persistent id", "call"
};

const char *fn_pk_kind_name(int kind)
{
    return kind >= 0 && kind < (int)(sizeof kind_names / sizeof *kind_names) ? kind_names[kind] : "?";
}

static fn_status corrupt(parser *p, const char *what)
{
    return fn_fail(FN_ERR_FORMAT, "%s: pickle at byte %zu: %s", p->where, p->base + p->op_at, what);
}

static fn_status nomem(parser *p)
{
    return fn_fail(FN_ERR_NOMEM, "%s: out of memory while reading the pickle", p->where);
}

static fn_status too_many(parser *p, const char *what)
{
    return fn_fail(FN_ERR_LIMIT, "%s: pickle at byte %zu: more than %zu %s; not a plausible state_dict", p->where,
                   p->base + p->op_at, PK_MAX_ITEMS, what);
}

/* Grow *arr (elements of size el) to hold at least need; capacity doubles. */
static int grow(void **arr, size_t *cap, size_t need, size_t el)
{
    if (need <= *cap) return 1;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(*arr, n * el);
    if (!q) return 0;
    *arr = q;
    *cap = n;
    return 1;
}

/* ---- reading raw operands ---- */

static fn_status need(parser *p, size_t n)
{
    if (n > p->len - p->pos)
        return fn_fail(FN_ERR_FORMAT, "%s: pickle is truncated at byte %zu", p->where, p->base + p->len);
    return FN_OK;
}

static uint64_t le(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

static fn_status read_le(parser *p, int n, uint64_t *v)
{
    FN_TRY(need(p, (size_t)n));
    *v = le(p->buf + p->pos, n);
    p->pos += (size_t)n;
    return FN_OK;
}

/* ---- nodes, cells and the stack ---- */

static fn_status new_node(parser *p, int kind, int *id)
{
    fn_pickle *pk = p->pk;
    size_t cap = (size_t)pk->cap_nodes;
    if ((size_t)pk->nnodes >= PK_MAX_ITEMS) return too_many(p, "objects");
    if (!grow((void **)&pk->nodes, &cap, (size_t)pk->nnodes + 1, sizeof *pk->nodes)) return nomem(p);
    pk->cap_nodes = (int)cap;
    *id = pk->nnodes++;
    memset(&pk->nodes[*id], 0, sizeof pk->nodes[*id]);
    pk->nodes[*id].kind = kind;
    pk->nodes[*id].a = pk->nodes[*id].b = -1;
    return FN_OK;
}

static fn_status push(parser *p, int node)
{
    if (p->sp >= PK_MAX_ITEMS) return too_many(p, "stack entries");
    if (!grow((void **)&p->stack, &p->cap_stack, p->sp + 1, sizeof *p->stack)) return nomem(p);
    p->stack[p->sp++] = node;
    return FN_OK;
}

static fn_status push_new(parser *p, int kind, fn_pk_node **out)
{
    int id;
    FN_TRY(new_node(p, kind, &id));
    FN_TRY(push(p, id));
    if (out) *out = &p->pk->nodes[id];
    return FN_OK;
}

/* Items above the innermost MARK may not be popped by plain pops. */
static size_t floor_of_stack(const parser *p) { return p->nmarks ? (size_t)p->marks[p->nmarks - 1] : 0; }

static fn_status pop(parser *p, int *node)
{
    if (p->sp <= floor_of_stack(p)) return corrupt(p, "stack underflow");
    *node = p->stack[--p->sp];
    return FN_OK;
}

static fn_status top(parser *p, int *node)
{
    if (p->sp <= floor_of_stack(p)) return corrupt(p, "stack underflow");
    *node = p->stack[p->sp - 1];
    return FN_OK;
}

static fn_status pop_mark(parser *p, size_t *mark)
{
    if (!p->nmarks) return corrupt(p, "no MARK to pop back to");
    *mark = (size_t)p->marks[--p->nmarks];
    return FN_OK;
}

static fn_status add_cell(parser *p, int container, int key, int value)
{
    fn_pickle *pk = p->pk;
    size_t cap = (size_t)pk->cap_cells;
    if ((size_t)pk->ncells >= PK_MAX_ITEMS) return too_many(p, "container items");
    if (!grow((void **)&pk->cells, &cap, (size_t)pk->ncells + 1, sizeof *pk->cells)) return nomem(p);
    pk->cap_cells = (int)cap;
    int c = pk->ncells++;
    pk->cells[c] = (fn_pk_cell){key, value, -1};
    fn_pk_node *n = &pk->nodes[container];
    if (n->count++ == 0) n->a = c;
    else pk->cells[n->b].next = c;
    n->b = c;
    return FN_OK;
}

static fn_status expect_kind(parser *p, int node, int kind, const char *op)
{
    int k = p->pk->nodes[node].kind;
    if (k == kind) return FN_OK;
    return fn_fail(FN_ERR_FORMAT, "%s: pickle at byte %zu: %s applied to a %s, expected a %s", p->where,
                   p->base + p->op_at, op, fn_pk_kind_name(k), fn_pk_kind_name(kind));
}

/* ---- opcode handlers ---- */

/* Builds a tuple from the stack items [from, sp) and leaves it in their place. */
static fn_status make_tuple(parser *p, size_t from)
{
    int t;
    FN_TRY(new_node(p, FN_PK_TUPLE, &t));
    for (size_t i = from; i < p->sp; i++) FN_TRY(add_cell(p, t, -1, p->stack[i]));
    p->sp = from;
    return push(p, t);
}

static fn_status op_tuple_n(parser *p, size_t n)
{
    if (p->sp < floor_of_stack(p) + n) return corrupt(p, "stack underflow");
    return make_tuple(p, p->sp - n);
}

static fn_status op_tuple_mark(parser *p)
{
    size_t mark = 0;
    FN_TRY(pop_mark(p, &mark));
    return make_tuple(p, mark);
}

static fn_status op_setitems(parser *p, int until_mark)
{
    size_t from = 0;
    if (until_mark) FN_TRY(pop_mark(p, &from));
    else if (p->sp < floor_of_stack(p) + 2) return corrupt(p, "stack underflow");
    else from = p->sp - 2;
    if (from == 0 || from <= floor_of_stack(p) || (p->sp - from) % 2) return corrupt(p, "SETITEMS without a dict and key/value pairs");
    int dict = p->stack[from - 1];
    FN_TRY(expect_kind(p, dict, FN_PK_DICT, "SETITEM"));
    for (size_t i = from; i < p->sp; i += 2) FN_TRY(add_cell(p, dict, p->stack[i], p->stack[i + 1]));
    p->sp = from;
    return FN_OK;
}

static fn_status op_appends(parser *p, int until_mark)
{
    size_t from = 0;
    if (until_mark) FN_TRY(pop_mark(p, &from));
    else if (p->sp < floor_of_stack(p) + 1) return corrupt(p, "stack underflow");
    else from = p->sp - 1;
    if (from == 0 || from <= floor_of_stack(p)) return corrupt(p, "APPEND without a list");
    int list = p->stack[from - 1];
    FN_TRY(expect_kind(p, list, FN_PK_LIST, "APPEND"));
    for (size_t i = from; i < p->sp; i++) FN_TRY(add_cell(p, list, -1, p->stack[i]));
    p->sp = from;
    return FN_OK;
}

static fn_status op_int(parser *p, int bytes, int is_signed)
{
    uint64_t v;
    FN_TRY(read_le(p, bytes, &v));
    fn_pk_node *n;
    FN_TRY(push_new(p, FN_PK_INT, &n));
    n->i = is_signed ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v;
    return FN_OK;
}

/* LONG1/LONG4: little-endian two's complement of any length.  Up to 8 bytes
 * becomes an int; longer ones (the legacy magic number) keep their bytes. */
static fn_status op_long(parser *p, int len_bytes)
{
    uint64_t n;
    FN_TRY(read_le(p, len_bytes, &n));
    FN_TRY(need(p, n));
    const unsigned char *b = p->buf + p->pos;
    p->pos += n;
    fn_pk_node *node;
    if (n > 8) {
        FN_TRY(push_new(p, FN_PK_BIGINT, &node));
        node->s = (const char *)b;
        node->n = n;
        return FN_OK;
    }
    FN_TRY(push_new(p, FN_PK_INT, &node));
    uint64_t v = le(b, (int)n);
    if (n && n < 8 && (b[n - 1] & 0x80)) v |= ~(uint64_t)0 << (8 * n);   /* sign-extend */
    node->i = (int64_t)v;
    return FN_OK;
}

static fn_status op_bytes(parser *p, int len_bytes, int kind)
{
    uint64_t n;
    FN_TRY(read_le(p, len_bytes, &n));
    FN_TRY(need(p, n));
    fn_pk_node *node;
    FN_TRY(push_new(p, kind, &node));
    node->s = (const char *)p->buf + p->pos;
    node->n = n;
    p->pos += n;
    return FN_OK;
}

static fn_status op_binfloat(parser *p)
{
    FN_TRY(need(p, 8));
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits = bits << 8 | p->buf[p->pos + i];   /* big-endian */
    p->pos += 8;
    fn_pk_node *n;
    FN_TRY(push_new(p, FN_PK_FLOAT, &n));
    memcpy(&n->f, &bits, sizeof n->f);
    return FN_OK;
}

static fn_status push_global(parser *p, const char *mod, size_t mlen, const char *name, size_t nlen)
{
    for (int g = 0; g < p->rules->count; g++) {
        const char *want = p->rules->globals[g];
        if (strlen(want) == mlen + 1 + nlen && memcmp(want, mod, mlen) == 0 && want[mlen] == '.' &&
            memcmp(want + mlen + 1, name, nlen) == 0) {
            fn_pk_node *n;
            FN_TRY(push_new(p, FN_PK_GLOBAL, &n));
            n->i = g;
            return FN_OK;
        }
    }
    int ml = (int)(mlen > 100 ? 100 : mlen), nl = (int)(nlen > 100 ? 100 : nlen);
    return fn_fail(FN_ERR_UNSUPPORTED, "%s: pickle at byte %zu refers to %.*s.%.*s, which is not part of a state_dict of tensors",
                   p->where, p->base + p->op_at, ml, mod, nl, name);
}

/* GLOBAL's operand is "module\nname\n". */
static fn_status op_global(parser *p)
{
    const char *s = (const char *)p->buf + p->pos;
    size_t left = p->len - p->pos;
    const char *nl1 = memchr(s, '\n', left);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', left - (size_t)(nl1 + 1 - s)) : NULL;
    if (!nl2) return fn_fail(FN_ERR_FORMAT, "%s: pickle is truncated at byte %zu", p->where, p->base + p->len);
    p->pos += (size_t)(nl2 + 1 - s);
    return push_global(p, s, (size_t)(nl1 - s), nl1 + 1, (size_t)(nl2 - nl1 - 1));
}

static fn_status op_stack_global(parser *p)
{
    int name, mod;
    FN_TRY(pop(p, &name));
    FN_TRY(pop(p, &mod));
    FN_TRY(expect_kind(p, name, FN_PK_STR, "STACK_GLOBAL"));
    FN_TRY(expect_kind(p, mod, FN_PK_STR, "STACK_GLOBAL"));
    const fn_pk_node *m = &p->pk->nodes[mod], *n = &p->pk->nodes[name];
    return push_global(p, m->s, m->n, n->s, n->n);
}

/* Memo indices of honest pickles count up from 0, one per PUT of at least
 * two bytes, so an index beyond the bytes read so far is hostile. */
static fn_status memo_put(parser *p, uint64_t idx)
{
    if (idx > p->pos || idx >= PK_MAX_ITEMS) return fn_fail(FN_ERR_LIMIT, "%s: pickle at byte %zu: memo index %llu is implausibly large",
                                     p->where, p->base + p->op_at, (unsigned long long)idx);
    int node;
    FN_TRY(top(p, &node));
    size_t old = p->memo_len;
    size_t cap = p->memo_len;
    if (idx >= old) {
        if (!grow((void **)&p->memo, &cap, (size_t)idx + 1, sizeof *p->memo)) return nomem(p);
        for (size_t i = old; i < cap; i++) p->memo[i] = -1;
        p->memo_len = cap;
    }
    if (p->memo[idx] < 0) p->memo_set++;
    p->memo[idx] = node;
    return FN_OK;
}

static fn_status op_put(parser *p, int bytes)
{
    uint64_t idx;
    FN_TRY(read_le(p, bytes, &idx));
    return memo_put(p, idx);
}

static fn_status op_get(parser *p, int bytes)
{
    uint64_t idx;
    FN_TRY(read_le(p, bytes, &idx));
    if (idx >= p->memo_len || p->memo[idx] < 0) return corrupt(p, "memo lookup of an index never stored");
    return push(p, p->memo[idx]);
}

static fn_status op_mark(parser *p)
{
    if (p->nmarks >= PK_MAX_ITEMS) return too_many(p, "marks");
    if (!grow((void **)&p->marks, &p->cap_marks, p->nmarks + 1, sizeof *p->marks)) return nomem(p);
    p->marks[p->nmarks++] = (int)p->sp;
    return FN_OK;
}

/* REDUCE records callable(args) without running it; only the dict
 * constructor (OrderedDict) is materialised, since SETITEMS fill it. */
static fn_status op_reduce(parser *p)
{
    int args, fn;
    FN_TRY(pop(p, &args));
    FN_TRY(pop(p, &fn));
    FN_TRY(expect_kind(p, fn, FN_PK_GLOBAL, "REDUCE"));
    FN_TRY(expect_kind(p, args, FN_PK_TUPLE, "REDUCE"));
    fn_pk_node *n;
    if (p->pk->nodes[fn].i == p->rules->dict_ctor && p->pk->nodes[args].count == 0)
        return push_new(p, FN_PK_DICT, NULL);
    FN_TRY(push_new(p, FN_PK_CALL, &n));
    n->a = fn;
    n->b = args;
    return FN_OK;
}

/* BUILD sets an object's state; for a state_dict that is OrderedDict's
 * _metadata (module versions), which carries nothing we need. */
static fn_status op_build(parser *p)
{
    int state, obj;
    FN_TRY(pop(p, &state));
    FN_TRY(top(p, &obj));
    int k = p->pk->nodes[obj].kind;
    if (k != FN_PK_DICT && k != FN_PK_CALL) return expect_kind(p, obj, FN_PK_DICT, "BUILD");
    return FN_OK;
}

static fn_status op_persid(parser *p)
{
    int pid;
    FN_TRY(pop(p, &pid));
    fn_pk_node *n;
    FN_TRY(push_new(p, FN_PK_PERSID, &n));
    n->a = pid;
    return FN_OK;
}

static fn_status op_proto(parser *p)
{
    uint64_t v;
    FN_TRY(read_le(p, 1, &v));
    if (v < 2 || v > 5) return fn_fail(FN_ERR_UNSUPPORTED, "%s: pickle protocol %u is not supported (2 to 5 are)", p->where, (unsigned)v);
    return FN_OK;
}

static fn_status op_bool(parser *p, int v)
{
    fn_pk_node *n;
    FN_TRY(push_new(p, FN_PK_BOOL, &n));
    n->i = v;
    return FN_OK;
}

static fn_status op_empty(parser *p, int kind) { return push_new(p, kind, NULL); }

static fn_status step(parser *p, int op)
{
    uint64_t skip;
    switch (op) {
    case OP_PROTO: return op_proto(p);
    case OP_FRAME: return read_le(p, 8, &skip);   /* frames only group bytes; nothing to do */
    case OP_GLOBAL: return op_global(p);
    case OP_STACK_GLOBAL: return op_stack_global(p);
    case OP_BINPUT: return op_put(p, 1);
    case OP_LONG_BINPUT: return op_put(p, 4);
    case OP_MEMOIZE: return memo_put(p, p->memo_set);
    case OP_BINGET: return op_get(p, 1);
    case OP_LONG_BINGET: return op_get(p, 4);
    case OP_MARK: return op_mark(p);
    case OP_EMPTY_DICT: return op_empty(p, FN_PK_DICT);
    case OP_EMPTY_LIST: return op_empty(p, FN_PK_LIST);
    case OP_EMPTY_TUPLE: return op_tuple_n(p, 0);
    case OP_TUPLE: return op_tuple_mark(p);
    case OP_TUPLE1: return op_tuple_n(p, 1);
    case OP_TUPLE2: return op_tuple_n(p, 2);
    case OP_TUPLE3: return op_tuple_n(p, 3);
    case OP_SETITEM: return op_setitems(p, 0);
    case OP_SETITEMS: return op_setitems(p, 1);
    case OP_APPEND: return op_appends(p, 0);
    case OP_APPENDS: return op_appends(p, 1);
    case OP_BININT: return op_int(p, 4, 1);
    case OP_BININT1: return op_int(p, 1, 0);
    case OP_BININT2: return op_int(p, 2, 0);
    case OP_LONG1: return op_long(p, 1);
    case OP_LONG4: return op_long(p, 4);
    case OP_BINUNICODE: return op_bytes(p, 4, FN_PK_STR);
    case OP_SHORT_BINUNICODE: return op_bytes(p, 1, FN_PK_STR);
    case OP_BINUNICODE8: return op_bytes(p, 8, FN_PK_STR);
    case OP_BINSTRING: return op_bytes(p, 4, FN_PK_STR);
    case OP_SHORT_BINSTRING: return op_bytes(p, 1, FN_PK_STR);
    case OP_BINBYTES: return op_bytes(p, 4, FN_PK_BYTES);
    case OP_SHORT_BINBYTES: return op_bytes(p, 1, FN_PK_BYTES);
    case OP_NONE: return op_empty(p, FN_PK_NONE);
    case OP_NEWTRUE: return op_bool(p, 1);
    case OP_NEWFALSE: return op_bool(p, 0);
    case OP_BINFLOAT: return op_binfloat(p);
    case OP_REDUCE: return op_reduce(p);
    case OP_BUILD: return op_build(p);
    case OP_BINPERSID: return op_persid(p);
    }
    return fn_fail(FN_ERR_UNSUPPORTED, "%s: pickle at byte %zu uses opcode 0x%02x, which a state_dict does not need",
                   p->where, p->base + p->op_at, (unsigned)op);
}

static fn_status run(parser *p)
{
    while (p->pos < p->len) {
        p->op_at = p->pos;
        int op = p->buf[p->pos++];
        if (op == OP_STOP) {
            FN_TRY(pop(p, &p->pk->root));
            p->pk->end = p->pos;
            return FN_OK;
        }
        FN_TRY(step(p, op));
    }
    return fn_fail(FN_ERR_FORMAT, "%s: pickle is truncated at byte %zu (no STOP)", p->where, p->base + p->len);
}

fn_status fn_pickle_parse(fn_pickle *pk, const unsigned char *buf, size_t len, size_t base,
                          const fn_pk_rules *rules, const char *where)
{
    memset(pk, 0, sizeof *pk);
    parser p = {.pk = pk, .buf = buf, .len = len, .base = base, .rules = rules, .where = where};
    fn_status s = run(&p);
    free(p.stack);
    free(p.marks);
    free(p.memo);
    if (s != FN_OK) fn_pickle_free(pk);
    return s;
}

void fn_pickle_free(fn_pickle *pk)
{
    free(pk->nodes);
    free(pk->cells);
    memset(pk, 0, sizeof *pk);
}

int fn_pk_tuple_item(const fn_pickle *pk, int tuple, int i)
{
    const fn_pk_node *t = &pk->nodes[tuple];
    if (t->kind != FN_PK_TUPLE || i < 0 || i >= t->count) return -1;
    return pk->cells[t->a + i].value;
}

int fn_pk_str_is(const fn_pickle *pk, int node, const char *s)
{
    const fn_pk_node *n = &pk->nodes[node];
    return n->kind == FN_PK_STR && n->n == strlen(s) && memcmp(n->s, s, n->n) == 0;
}
