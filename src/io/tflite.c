/* TFLite flatbuffer reader.  Every offset read from the file is checked
 * against the file size before it is followed, so a hostile or truncated
 * file gives FN_ERR_FORMAT naming the file, never an out-of-bounds read.
 * The walk has a fixed depth (model -> subgraph -> tensor -> quantisation),
 * so cyclic offsets cannot make it loop. */
#include "io/tflite.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"

/* ---- flatbuffer primitives ------------------------------------------ */

typedef struct fb {
    const uint8_t *p;
    size_t n;
    const char *label;
} fb;

static fn_status corrupt(const fb *b, const char *what, size_t at)
{
    return fn_fail(FN_ERR_FORMAT, "%s: corrupt TFLite flatbuffer: %s (at byte %zu of %zu)", b->label, what, at, b->n);
}

static int in_range(const fb *b, size_t pos, size_t len) { return pos <= b->n && len <= b->n - pos; }

/* Little-endian loads through memcpy: no alignment assumptions. */
static uint32_t ld_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t ld_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t ld_u64(const uint8_t *p) { return (uint64_t)ld_u32(p) | (uint64_t)ld_u32(p + 4) << 32; }
static float ld_f32(const uint8_t *p) { uint32_t u = ld_u32(p); float f; memcpy(&f, &u, 4); return f; }

/* A table: its position and its vtable's field slots. */
typedef struct fb_table {
    size_t pos;
    size_t vt;
    unsigned nfields;
    size_t size;               /* inline size of the table */
} fb_table;

/* Follow the uoffset stored at `at` to a table and validate its vtable. */
static fn_status fb_table_at(const fb *b, size_t at, const char *what, fb_table *t)
{
    if (!in_range(b, at, 4)) return corrupt(b, what, at);
    size_t pos = at + ld_u32(b->p + at);
    if (pos < at || !in_range(b, pos, 4)) return corrupt(b, what, at);
    int64_t vt = (int64_t)pos - (int32_t)ld_u32(b->p + pos);
    if (vt < 0 || !in_range(b, (size_t)vt, 4)) return corrupt(b, what, pos);
    unsigned vtsize = ld_u16(b->p + vt), tsize = ld_u16(b->p + vt + 2);
    if (vtsize < 4 || (vtsize & 1) || !in_range(b, (size_t)vt, vtsize) || tsize < 4 || !in_range(b, pos, tsize))
        return corrupt(b, what, (size_t)vt);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->nfields = (vtsize - 4) / 2;
    t->size = tsize;
    return FN_OK;
}

/* Position of field id inside the table, 0 when absent; a field that would
 * poke out of its table is corrupt. */
static fn_status fb_field(const fb *b, const fb_table *t, unsigned id, size_t width, size_t *pos)
{
    *pos = 0;
    if (id >= t->nfields) return FN_OK;
    unsigned off = ld_u16(b->p + t->vt + 4 + 2 * id);
    if (off == 0) return FN_OK;
    if (off + width > t->size) return corrupt(b, "field outside its table", t->pos);
    *pos = t->pos + off;
    return FN_OK;
}

static fn_status fb_u32(const fb *b, const fb_table *t, unsigned id, uint32_t dflt, uint32_t *v)
{
    size_t pos;
    FN_TRY(fb_field(b, t, id, 4, &pos));
    *v = pos ? ld_u32(b->p + pos) : dflt;
    return FN_OK;
}

static fn_status fb_i32(const fb *b, const fb_table *t, unsigned id, int32_t dflt, int32_t *v)
{
    uint32_t u;
    FN_TRY(fb_u32(b, t, id, (uint32_t)dflt, &u));
    *v = (int32_t)u;
    return FN_OK;
}

static fn_status fb_u8(const fb *b, const fb_table *t, unsigned id, uint8_t dflt, uint8_t *v)
{
    size_t pos;
    FN_TRY(fb_field(b, t, id, 1, &pos));
    *v = pos ? b->p[pos] : dflt;
    return FN_OK;
}

static fn_status fb_u64(const fb *b, const fb_table *t, unsigned id, uint64_t *v)
{
    size_t pos;
    FN_TRY(fb_field(b, t, id, 8, &pos));
    *v = pos ? ld_u64(b->p + pos) : 0;
    return FN_OK;
}

static fn_status fb_f32(const fb *b, const fb_table *t, unsigned id, float *v)
{
    size_t pos;
    FN_TRY(fb_field(b, t, id, 4, &pos));
    *v = pos ? ld_f32(b->p + pos) : 0.0f;
    return FN_OK;
}

/* A vector field: start of its elements and count (0/absent is empty).
 * The whole vector must lie inside the file. */
static fn_status fb_vector(const fb *b, const fb_table *t, unsigned id, size_t elem,
                           const char *what, size_t *start, uint32_t *count)
{
    size_t pos;
    *start = 0;
    *count = 0;
    FN_TRY(fb_field(b, t, id, 4, &pos));
    if (!pos) return FN_OK;
    size_t v = pos + ld_u32(b->p + pos);
    if (v < pos || !in_range(b, v, 4)) return corrupt(b, what, pos);
    uint32_t len = ld_u32(b->p + v);
    if ((uint64_t)len * elem > b->n - v - 4) return corrupt(b, what, v);
    *start = v + 4;
    *count = len;
    return FN_OK;
}

/* A string field, copied and NUL-terminated (NULL when absent). */
static fn_status fb_string(const fb *b, const fb_table *t, unsigned id, const char *what, char **out)
{
    size_t start;
    uint32_t len;
    *out = NULL;
    FN_TRY(fb_vector(b, t, id, 1, what, &start, &len));
    if (!start) return FN_OK;
    char *s = malloc((size_t)len + 1);
    if (!s) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for a %u-byte string", b->label, len);
    memcpy(s, b->p + start, len);
    s[len] = '\0';
    *out = s;
    return FN_OK;
}

/* An int32 vector copied into a fresh array (may be empty). */
static fn_status fb_i32_vector(const fb *b, const fb_table *t, unsigned id, const char *what,
                               int32_t **out, int *count)
{
    size_t start;
    uint32_t len;
    *out = NULL;
    *count = 0;
    FN_TRY(fb_vector(b, t, id, 4, what, &start, &len));
    if (len > INT_MAX / 4) return corrupt(b, what, start);
    int32_t *a = malloc(((size_t)len ? len : 1) * sizeof *a);
    if (!a) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for %s", b->label, what);
    for (uint32_t i = 0; i < len; i++) a[i] = (int32_t)ld_u32(b->p + start + 4 * (size_t)i);
    *out = a;
    *count = (int)len;
    return FN_OK;
}

/* The i-th table of a vector of tables. */
static fn_status fb_vector_table(const fb *b, size_t start, uint32_t i, const char *what, fb_table *t)
{
    return fb_table_at(b, start + 4 * (size_t)i, what, t);
}

/* ---- schema field ids (tensorflow/lite/schema/schema.fbs) ------------- */

enum { MODEL_VERSION = 0, MODEL_OPCODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4 };
enum { OPCODE_DEPRECATED_BUILTIN = 0, OPCODE_CUSTOM = 1, OPCODE_VERSION = 2, OPCODE_BUILTIN = 3 };
enum { SG_TENSORS = 0, SG_INPUTS = 1, SG_OUTPUTS = 2, SG_OPERATORS = 3 };
enum { TENSOR_SHAPE = 0, TENSOR_TYPE = 1, TENSOR_BUFFER = 2, TENSOR_NAME = 3, TENSOR_QUANT = 4, TENSOR_SPARSITY = 6 };
enum { QUANT_SCALE = 2, QUANT_ZERO_POINT = 3, QUANT_DIM = 6 };
enum { BUFFER_DATA = 0, BUFFER_OFFSET = 1, BUFFER_SIZE = 2 };
enum { OP_OPCODE = 0, OP_INPUTS = 1, OP_OUTPUTS = 2, OP_OPTIONS_TYPE = 3, OP_OPTIONS = 4 };

/* BuiltinOptions union members, for checking an op carries the options its
 * code implies. */
enum { OPT_CONV2D = 1, OPT_DEPTHWISE = 2, OPT_POOL2D = 5, OPT_FC = 8, OPT_SOFTMAX = 9,
       OPT_CONCAT = 10, OPT_ADD = 11, OPT_L2NORM = 12, OPT_MUL = 21, OPT_REDUCER = 27,
       OPT_SUB = 28, OPT_DIV = 29 };

#define MAX_TENSORS 1000000
#define MAX_OPS 1000000

/* ---- model pieces --------------------------------------------------- */

typedef struct opcode { int code, version; char *custom; } opcode;
typedef struct buffer { const uint8_t *data; size_t bytes; } buffer;

typedef struct parse_ctx {
    fb b;
    fn_tfl_model *m;
    opcode *codes;
    uint32_t ncodes;
    buffer *bufs;
    uint32_t nbufs;
} parse_ctx;

static fn_status parse_opcodes(parse_ctx *c, const fb_table *model)
{
    size_t start;
    FN_TRY(fb_vector(&c->b, model, MODEL_OPCODES, 4, "operator_codes", &start, &c->ncodes));
    c->codes = calloc(c->ncodes ? c->ncodes : 1, sizeof *c->codes);
    if (!c->codes) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for operator codes", c->b.label);
    for (uint32_t i = 0; i < c->ncodes; i++) {
        fb_table t;
        uint8_t dep;
        int32_t code, version;
        FN_TRY(fb_vector_table(&c->b, start, i, "operator code", &t));
        FN_TRY(fb_u8(&c->b, &t, OPCODE_DEPRECATED_BUILTIN, 0, &dep));
        FN_TRY(fb_i32(&c->b, &t, OPCODE_BUILTIN, 0, &code));
        FN_TRY(fb_i32(&c->b, &t, OPCODE_VERSION, 1, &version));
        FN_TRY(fb_string(&c->b, &t, OPCODE_CUSTOM, "custom operator name", &c->codes[i].custom));
        /* Old writers fill only the byte field, new ones both (the byte
         * saturating at 127): the larger one is the real code. */
        c->codes[i].code = code > (int8_t)dep ? code : (int8_t)dep;
        c->codes[i].version = version;
    }
    return FN_OK;
}

static fn_status parse_buffers(parse_ctx *c, const fb_table *model)
{
    size_t start;
    FN_TRY(fb_vector(&c->b, model, MODEL_BUFFERS, 4, "buffers", &start, &c->nbufs));
    c->bufs = calloc(c->nbufs ? c->nbufs : 1, sizeof *c->bufs);
    if (!c->bufs) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for buffers", c->b.label);
    for (uint32_t i = 0; i < c->nbufs; i++) {
        fb_table t;
        size_t data;
        uint32_t len;
        uint64_t off, size;
        FN_TRY(fb_vector_table(&c->b, start, i, "buffer", &t));
        FN_TRY(fb_vector(&c->b, &t, BUFFER_DATA, 1, "buffer data", &data, &len));
        FN_TRY(fb_u64(&c->b, &t, BUFFER_OFFSET, &off));
        FN_TRY(fb_u64(&c->b, &t, BUFFER_SIZE, &size));
        if (len) {
            c->bufs[i].data = c->b.p + data;
            c->bufs[i].bytes = len;
        } else if (off > 1) {
            /* Large models keep data after the flatbuffer, offset from the
             * file start (offset 1 is the writer's "not yet placed" mark). */
            if (off > c->b.n || size > c->b.n - off) return corrupt(&c->b, "buffer offset/size past the end", t.pos);
            c->bufs[i].data = c->b.p + off;
            c->bufs[i].bytes = (size_t)size;
        }
    }
    return FN_OK;
}

static fn_status parse_quant(parse_ctx *c, const fb_table *tensor, fn_tfl_tensor *out)
{
    size_t qpos, sstart, zstart;
    uint32_t ns, nz;
    fb_table q;
    FN_TRY(fb_field(&c->b, tensor, TENSOR_QUANT, 4, &qpos));
    if (!qpos) return FN_OK;
    FN_TRY(fb_table_at(&c->b, qpos, "quantization", &q));
    FN_TRY(fb_vector(&c->b, &q, QUANT_SCALE, 4, "quantization scales", &sstart, &ns));
    FN_TRY(fb_vector(&c->b, &q, QUANT_ZERO_POINT, 8, "quantization zero points", &zstart, &nz));
    FN_TRY(fb_i32(&c->b, &q, QUANT_DIM, 0, &out->quant_dim));
    if (ns == 0) return FN_OK;
    if (nz != 0 && nz != ns) return corrupt(&c->b, "scale and zero point counts differ", q.pos);
    out->scale = malloc(ns * sizeof *out->scale);
    out->zero_point = calloc(ns, sizeof *out->zero_point);
    if (!out->scale || !out->zero_point) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for quantization", c->b.label);
    for (uint32_t i = 0; i < ns; i++) {
        out->scale[i] = ld_f32(c->b.p + sstart + 4 * (size_t)i);
        if (nz) out->zero_point[i] = (int64_t)ld_u64(c->b.p + zstart + 8 * (size_t)i);
    }
    out->nquant = (int)ns;
    return FN_OK;
}

static fn_status parse_tensor(parse_ctx *c, const fb_table *t, int index, fn_tfl_tensor *out)
{
    int32_t *shape;
    int ndim;
    uint8_t type;
    uint32_t buf;
    FN_TRY(fb_string(&c->b, t, TENSOR_NAME, "tensor name", &out->name));
    if (!out->name) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "tensor_%d", index);
        out->name = strdup(tmp);
        if (!out->name) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", c->b.label);
    }
    FN_TRY(fb_i32_vector(&c->b, t, TENSOR_SHAPE, "tensor shape", &shape, &ndim));
    if (ndim > FN_MAX_DIMS) {
        free(shape);
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: tensor %s has %d dimensions (at most %d supported)",
                       c->b.label, out->name, ndim, FN_MAX_DIMS);
    }
    memcpy(out->shape, shape, (size_t)ndim * sizeof *shape);
    free(shape);
    out->ndim = ndim;
    FN_TRY(fb_u8(&c->b, t, TENSOR_TYPE, 0, &type));
    FN_TRY(fb_u32(&c->b, t, TENSOR_BUFFER, 0, &buf));
    out->type = type;
    if (buf >= c->nbufs && buf != 0)
        return fn_fail(FN_ERR_FORMAT, "%s: tensor %s refers to buffer %u of %u", c->b.label, out->name, buf, c->nbufs);
    size_t sparsity;
    FN_TRY(fb_field(&c->b, t, TENSOR_SPARSITY, 4, &sparsity));
    if (buf < c->nbufs && c->bufs[buf].bytes) {
        /* Sparse constants are stored compressed; reading them as dense
         * would give wrong numbers, so refuse them by name. */
        if (sparsity)
            return fn_fail(FN_ERR_UNSUPPORTED, "%s: tensor %s is stored sparse (not supported)", c->b.label, out->name);
        out->data = c->bufs[buf].data;
        out->bytes = c->bufs[buf].bytes;
    }
    return parse_quant(c, t, out);
}

static fn_status check_indices(parse_ctx *c, const int32_t *idx, int n, const char *what, int allow_absent)
{
    for (int i = 0; i < n; i++)
        if (idx[i] >= c->m->ntensors || idx[i] < (allow_absent ? -1 : 0))
            return fn_fail(FN_ERR_FORMAT, "%s: %s refers to tensor %d of %d", c->b.label, what, idx[i], c->m->ntensors);
    return FN_OK;
}

/* Options table of the op, NULL-equivalent (pos 0) when absent; its union
 * type must be the one the op code implies. */
static fn_status op_options(parse_ctx *c, const fb_table *op, int want_type, const char *opname, fb_table *opt, int *have)
{
    uint8_t type;
    size_t pos;
    *have = 0;
    FN_TRY(fb_u8(&c->b, op, OP_OPTIONS_TYPE, 0, &type));
    FN_TRY(fb_field(&c->b, op, OP_OPTIONS, 4, &pos));
    if (!pos || type == 0) return FN_OK;
    if (type != want_type)
        return fn_fail(FN_ERR_FORMAT, "%s: %s operator carries options of union type %u, expected %d",
                       c->b.label, opname, type, want_type);
    FN_TRY(fb_table_at(&c->b, pos, "operator options", opt));
    *have = 1;
    return FN_OK;
}

static fn_status parse_options(parse_ctx *c, const fb_table *op, fn_tfl_op *o)
{
    fb_table t;
    int have;
    uint8_t u8;
    fn_tfl_options *p = &o->opt;
    char name[16];
    const char *opname = fn_tfl_op_name(o->code, name);
    p->dilation_w = p->dilation_h = 1;
    switch (o->code) {
    case FN_TFL_CONV_2D:
    case FN_TFL_DEPTHWISE_CONV_2D: {
        int dw = o->code == FN_TFL_DEPTHWISE_CONV_2D;
        FN_TRY(op_options(c, op, dw ? OPT_DEPTHWISE : OPT_CONV2D, opname, &t, &have));
        if (!have) break;
        FN_TRY(fb_u8(&c->b, &t, 0, 0, &u8)); p->padding = u8;
        FN_TRY(fb_i32(&c->b, &t, 1, 0, &p->stride_w));
        FN_TRY(fb_i32(&c->b, &t, 2, 0, &p->stride_h));
        /* Depthwise has depth_multiplier between strides and activation. */
        if (dw) FN_TRY(fb_i32(&c->b, &t, 3, 0, &p->depth_multiplier));
        FN_TRY(fb_u8(&c->b, &t, 3 + dw, 0, &u8)); p->activation = u8;
        FN_TRY(fb_i32(&c->b, &t, 4 + dw, 1, &p->dilation_w));
        FN_TRY(fb_i32(&c->b, &t, 5 + dw, 1, &p->dilation_h));
        break;
    }
    case FN_TFL_MAX_POOL_2D:
    case FN_TFL_AVERAGE_POOL_2D:
        FN_TRY(op_options(c, op, OPT_POOL2D, opname, &t, &have));
        if (!have) break;
        FN_TRY(fb_u8(&c->b, &t, 0, 0, &u8)); p->padding = u8;
        FN_TRY(fb_i32(&c->b, &t, 1, 0, &p->stride_w));
        FN_TRY(fb_i32(&c->b, &t, 2, 0, &p->stride_h));
        FN_TRY(fb_i32(&c->b, &t, 3, 0, &p->filter_w));
        FN_TRY(fb_i32(&c->b, &t, 4, 0, &p->filter_h));
        FN_TRY(fb_u8(&c->b, &t, 5, 0, &u8)); p->activation = u8;
        break;
    case FN_TFL_FULLY_CONNECTED: case FN_TFL_ADD: case FN_TFL_MUL: case FN_TFL_SUB:
    case FN_TFL_DIV: case FN_TFL_L2_NORMALIZATION: {
        int want = o->code == FN_TFL_FULLY_CONNECTED ? OPT_FC : o->code == FN_TFL_ADD ? OPT_ADD
                 : o->code == FN_TFL_MUL ? OPT_MUL : o->code == FN_TFL_SUB ? OPT_SUB
                 : o->code == FN_TFL_DIV ? OPT_DIV : OPT_L2NORM;
        FN_TRY(op_options(c, op, want, opname, &t, &have));
        if (have) { FN_TRY(fb_u8(&c->b, &t, 0, 0, &u8)); p->activation = u8; }
        break;
    }
    case FN_TFL_CONCATENATION:
        FN_TRY(op_options(c, op, OPT_CONCAT, opname, &t, &have));
        if (!have) break;
        FN_TRY(fb_i32(&c->b, &t, 0, 0, &p->axis));
        FN_TRY(fb_u8(&c->b, &t, 1, 0, &u8)); p->activation = u8;
        break;
    case FN_TFL_SOFTMAX:
        FN_TRY(op_options(c, op, OPT_SOFTMAX, opname, &t, &have));
        if (have) FN_TRY(fb_f32(&c->b, &t, 0, &p->beta));
        break;
    case FN_TFL_MEAN: case FN_TFL_SUM: case FN_TFL_REDUCE_MAX:
        FN_TRY(op_options(c, op, OPT_REDUCER, opname, &t, &have));
        if (have) { FN_TRY(fb_u8(&c->b, &t, 0, 0, &u8)); p->keep_dims = u8; }
        break;
    default:
        break;   /* options of other ops are not needed by any network here */
    }
    if (p->activation > FN_TFL_ACT_TANH + 1)
        return fn_fail(FN_ERR_FORMAT, "%s: %s operator has unknown fused activation %d", c->b.label, opname, p->activation);
    return FN_OK;
}

static fn_status parse_op(parse_ctx *c, const fb_table *t, int index, fn_tfl_op *o)
{
    uint32_t code;
    FN_TRY(fb_u32(&c->b, t, OP_OPCODE, 0, &code));
    if (code >= c->ncodes)
        return fn_fail(FN_ERR_FORMAT, "%s: operator %d uses opcode %u of %u", c->b.label, index, code, c->ncodes);
    o->code = c->codes[code].code;
    o->version = c->codes[code].version;
    if (c->codes[code].custom && !(o->custom = strdup(c->codes[code].custom)))
        return fn_fail(FN_ERR_NOMEM, "%s: out of memory", c->b.label);
    FN_TRY(fb_i32_vector(&c->b, t, OP_INPUTS, "operator inputs", &o->inputs, &o->nin));
    FN_TRY(fb_i32_vector(&c->b, t, OP_OUTPUTS, "operator outputs", &o->outputs, &o->nout));
    FN_TRY(check_indices(c, o->inputs, o->nin, "an operator input", 1));
    FN_TRY(check_indices(c, o->outputs, o->nout, "an operator output", 0));
    return parse_options(c, t, o);
}

static fn_status parse_subgraph(parse_ctx *c, const fb_table *model)
{
    size_t sgs, start;
    uint32_t nsg, n;
    fb_table sg, t;
    fn_tfl_model *m = c->m;
    FN_TRY(fb_vector(&c->b, model, MODEL_SUBGRAPHS, 4, "subgraphs", &sgs, &nsg));
    if (nsg == 0) return fn_fail(FN_ERR_FORMAT, "%s: the model has no subgraph", c->b.label);
    m->nsubgraphs = (int)(nsg > INT_MAX ? INT_MAX : nsg);
    FN_TRY(fb_vector_table(&c->b, sgs, 0, "subgraph", &sg));

    FN_TRY(fb_vector(&c->b, &sg, SG_TENSORS, 4, "tensors", &start, &n));
    if (n > MAX_TENSORS) return fn_fail(FN_ERR_LIMIT, "%s: %u tensors (limit %d)", c->b.label, n, MAX_TENSORS);
    m->tensors = calloc(n ? n : 1, sizeof *m->tensors);
    if (!m->tensors) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for tensors", c->b.label);
    m->ntensors = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        FN_TRY(fb_vector_table(&c->b, start, i, "tensor", &t));
        FN_TRY(parse_tensor(c, &t, (int)i, &m->tensors[i]));
    }

    FN_TRY(fb_i32_vector(&c->b, &sg, SG_INPUTS, "subgraph inputs", &m->inputs, &m->ninputs));
    FN_TRY(fb_i32_vector(&c->b, &sg, SG_OUTPUTS, "subgraph outputs", &m->outputs, &m->noutputs));
    FN_TRY(check_indices(c, m->inputs, m->ninputs, "a graph input", 0));
    FN_TRY(check_indices(c, m->outputs, m->noutputs, "a graph output", 0));

    FN_TRY(fb_vector(&c->b, &sg, SG_OPERATORS, 4, "operators", &start, &n));
    if (n > MAX_OPS) return fn_fail(FN_ERR_LIMIT, "%s: %u operators (limit %d)", c->b.label, n, MAX_OPS);
    m->ops = calloc(n ? n : 1, sizeof *m->ops);
    if (!m->ops) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for operators", c->b.label);
    m->nops = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        FN_TRY(fb_vector_table(&c->b, start, i, "operator", &t));
        FN_TRY(parse_op(c, &t, (int)i, &m->ops[i]));
    }
    return FN_OK;
}

static fn_status parse_model(parse_ctx *c)
{
    fb_table model;
    if (c->b.n < 8) return fn_fail(FN_ERR_FORMAT, "%s: %zu bytes is too short for a TFLite model", c->b.label, c->b.n);
    if (memcmp(c->b.p + 4, "TFL3", 4) != 0)
        return fn_fail(FN_ERR_FORMAT, "%s: not a TFLite model (no TFL3 identifier at byte 4)", c->b.label);
    FN_TRY(fb_table_at(&c->b, 0, "model root", &model));
    FN_TRY(fb_u32(&c->b, &model, MODEL_VERSION, 0, &c->m->version));
    if (c->m->version != 3)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: TFLite schema version %u (only 3 is supported)", c->b.label, c->m->version);
    FN_TRY(parse_opcodes(c, &model));
    FN_TRY(parse_buffers(c, &model));
    return parse_subgraph(c, &model);
}

void fn_tfl_free(fn_tfl_model *m)
{
    if (!m) return;
    for (int i = 0; m->tensors && i < m->ntensors; i++) {
        free(m->tensors[i].name);
        free(m->tensors[i].scale);
        free(m->tensors[i].zero_point);
    }
    for (int i = 0; m->ops && i < m->nops; i++) {
        free(m->ops[i].custom);
        free(m->ops[i].inputs);
        free(m->ops[i].outputs);
    }
    free(m->tensors);
    free(m->ops);
    free(m->inputs);
    free(m->outputs);
    free(m->file);
    free(m->path);
    free(m);
}

/* Parse a buffer the model takes ownership of (freed with the model, also
 * on failure). */
static fn_status parse_owned(uint8_t *file, size_t size, const char *label, fn_tfl_model **out)
{
    fn_tfl_model *m = calloc(1, sizeof *m);
    if (m) m->path = strdup(label);
    if (!m || !m->path) {
        free(file);
        if (m) free(m);
        return fn_fail(FN_ERR_NOMEM, "%s: out of memory", label);
    }
    m->file = file;
    m->size = size;
    parse_ctx c = { { m->file, size, m->path }, m, NULL, 0, NULL, 0 };
    fn_status s = parse_model(&c);
    for (uint32_t i = 0; c.codes && i < c.ncodes; i++) free(c.codes[i].custom);
    free(c.codes);
    free(c.bufs);
    if (s != FN_OK) { fn_tfl_free(m); return s; }
    *out = m;
    return FN_OK;
}

fn_status fn_tfl_parse(const void *bytes, size_t size, const char *label, fn_tfl_model **out)
{
    *out = NULL;
    if (!label) label = "<memory>";
    if (!bytes && size) return fn_fail(FN_ERR_ARG, "%s: NULL bytes", label);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for %zu bytes", label, size);
    if (size) memcpy(copy, bytes, size);
    return parse_owned(copy, size, label, out);
}

#define MAX_FILE ((size_t)1 << 31)   /* TFLite flatbuffers are < 2 GiB */

fn_status fn_tfl_open(const char *path, fn_tfl_model **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return fn_fail(FN_ERR_IO, "%s: cannot open (does the file exist? `make models` fetches the bundle)", path);
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return fn_fail(FN_ERR_IO, "%s: cannot determine the file size", path); }
    if ((size_t)len > MAX_FILE) { fclose(f); return fn_fail(FN_ERR_LIMIT, "%s: %ld bytes is larger than any TFLite model", path, len); }
    uint8_t *buf = fn_aligned_alloc(len ? (size_t)len : 1);   /* huge pages when big: fewer faults */
    if (!buf) { fclose(f); return fn_fail(FN_ERR_NOMEM, "%s: out of memory for %ld bytes", path, len); }
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    if (got != (size_t)len) { free(buf); return fn_fail(FN_ERR_IO, "%s: read %zu of %ld bytes", path, got, len); }
    return parse_owned(buf, got, path, out);   /* no second copy of the file */
}

/* ---- constant tensors as float32 weights ------------------------------ */

static size_t type_size(int type)
{
    switch (type) {
    case FN_TFL_FLOAT32: case FN_TFL_INT32: return 4;
    case FN_TFL_FLOAT16: case FN_TFL_INT16: return 2;
    case FN_TFL_INT8: case FN_TFL_UINT8: return 1;
    case FN_TFL_INT64: return 8;
    default: return 0;
    }
}

/* IEEE half -> float, subnormals and inf/nan included; exact (every half is
 * a float): the bits are moved, subnormals are man * 2^-24. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    u = sign | (exp == 31 ? 0x7f800000u | man << 13 : (exp + 112) << 23 | man << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int is_weight(const fn_tfl_tensor *t)
{
    if (!t->data) return 0;
    if (t->type == FN_TFL_FLOAT32 || t->type == FN_TFL_FLOAT16) return 1;
    return (t->type == FN_TFL_INT8 || t->type == FN_TFL_UINT8 || t->type == FN_TFL_INT16 ||
            t->type == FN_TFL_INT32) && t->nquant > 0;
}

static fn_status tensor_numel(const fn_tfl_model *m, const fn_tfl_tensor *t, int64_t *numel)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 0 || (t->shape[d] && n > INT64_MAX / t->shape[d]))
            return fn_fail(FN_ERR_FORMAT, "%s: tensor %s has a bad dimension %d", m->path, t->name, t->shape[d]);
        n *= t->shape[d];
    }
    size_t es = type_size(t->type);
    if ((uint64_t)n > t->bytes / es || (uint64_t)n * es != t->bytes)
        return fn_fail(FN_ERR_FORMAT, "%s: tensor %s holds %zu bytes, its shape needs %lld elements of %zu bytes",
                       m->path, t->name, t->bytes, (long long)n, es);   /* n * es may not fit: not computed */
    *numel = n;
    return FN_OK;
}

static fn_status check_quant(const fn_tfl_model *m, const fn_tfl_tensor *t)
{
    if (t->nquant <= 1) return FN_OK;
    if (t->quant_dim < 0 || t->quant_dim >= t->ndim || t->shape[t->quant_dim] != t->nquant)
        return fn_fail(FN_ERR_FORMAT, "%s: tensor %s has %d scales for quantized dimension %d", m->path, t->name,
                       t->nquant, t->quant_dim);
    return FN_OK;
}

/* The tensor's n elements as float32.  A loop per type (no switch per
 * element) and per-channel parameters taken a run of `inner` elements at a
 * time: loading MTCNN spent a tenth of `facenet detect`'s CPU time here when
 * this decided the type and divided for the channel on every element. */
static void to_float(const fn_tfl_tensor *t, int64_t n, float *dst)
{
    const uint8_t *p = t->data;
    if (t->type == FN_TFL_FLOAT32) {
        for (int64_t i = 0; i < n; i++) dst[i] = ld_f32(p + 4 * i);
        return;
    }
    if (t->type == FN_TFL_FLOAT16) {
        for (int64_t i = 0; i < n; i++) dst[i] = half_to_float(ld_u16(p + 2 * i));
        return;
    }
    int64_t inner = 1, nch = 1;
    if (t->nquant > 1) {
        for (int d = t->quant_dim + 1; d < t->ndim; d++) inner *= t->shape[d];
        nch = t->shape[t->quant_dim];
    } else {
        inner = n > 0 ? n : 1;
    }
    for (int64_t i = 0; i < n;) {
        size_t ch = (size_t)((i / inner) % nch);
        double scale = t->scale[ch], zero = (double)t->zero_point[ch];
        int64_t end = i + inner - i % inner;
        if (end > n) end = n;
        for (; i < end; i++) {
            double q;
            switch (t->type) {
            case FN_TFL_INT8: q = (int8_t)p[i]; break;
            case FN_TFL_UINT8: q = p[i]; break;
            case FN_TFL_INT16: q = (int16_t)ld_u16(p + 2 * i); break;
            default: q = (int32_t)ld_u32(p + 4 * i); break;
            }
            dst[i] = (float)(scale * (q - zero));
        }
    }
}

fn_status fn_tfl_weights(const fn_tfl_model *m, fn_weights **out)
{
    *out = NULL;
    int count = 0;
    size_t data_bytes = 0, name_bytes = 0;
    for (int i = 0; i < m->ntensors; i++) {
        const fn_tfl_tensor *t = &m->tensors[i];
        int64_t n = 0;
        if (!is_weight(t)) continue;
        FN_TRY(tensor_numel(m, t, &n));
        FN_TRY(check_quant(m, t));
        data_bytes += fn_arena_round((size_t)n * sizeof(float));
        name_bytes += strlen(t->name) + 1;
        count++;
    }
    fn_weights *w;
    FN_TRY(fn_weights_create(m->path, count, data_bytes, name_bytes, &w));
    for (int i = 0; i < m->ntensors; i++) {
        const fn_tfl_tensor *t = &m->tensors[i];
        if (!is_weight(t)) continue;
        int64_t shape[FN_MAX_DIMS], numel = 1;
        float *data;
        for (int d = 0; d < t->ndim; d++) { shape[d] = t->shape[d]; numel *= t->shape[d]; }
        fn_status s = fn_weights_add(w, t->name, strlen(t->name), t->ndim, shape, &data);
        if (s != FN_OK) { fn_weights_free(w); return s; }
        to_float(t, numel, data);
    }
    fn_status s = fn_weights_seal(w);   /* a repeated tensor name is an error */
    if (s != FN_OK) { fn_weights_free(w); return s; }
    *out = w;
    return FN_OK;
}

fn_status fn_weights_load_tflite(const char *path, fn_weights **out)
{
    fn_tfl_model *m;
    *out = NULL;
    FN_TRY(fn_tfl_open(path, &m));
    fn_status s = fn_tfl_weights(m, out);
    fn_tfl_free(m);
    return s;
}

int fn_tfl_find_tensor(const fn_tfl_model *m, const char *name)
{
    for (int i = 0; i < m->ntensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return i;
    return -1;
}

const char *fn_tfl_op_name(int code, char buf[16])
{
    switch (code) {
    case FN_TFL_ADD: return "ADD";
    case FN_TFL_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case FN_TFL_CONCATENATION: return "CONCATENATION";
    case FN_TFL_CONV_2D: return "CONV_2D";
    case FN_TFL_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case FN_TFL_DEQUANTIZE: return "DEQUANTIZE";
    case FN_TFL_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case FN_TFL_L2_NORMALIZATION: return "L2_NORMALIZATION";
    case FN_TFL_LOGISTIC: return "LOGISTIC";
    case FN_TFL_MAX_POOL_2D: return "MAX_POOL_2D";
    case FN_TFL_MUL: return "MUL";
    case FN_TFL_RELU: return "RELU";
    case FN_TFL_RELU6: return "RELU6";
    case FN_TFL_RESHAPE: return "RESHAPE";
    case FN_TFL_SOFTMAX: return "SOFTMAX";
    case FN_TFL_PAD: return "PAD";
    case FN_TFL_TRANSPOSE: return "TRANSPOSE";
    case FN_TFL_MEAN: return "MEAN";
    case FN_TFL_SUB: return "SUB";
    case FN_TFL_DIV: return "DIV";
    case FN_TFL_SQUEEZE: return "SQUEEZE";
    case FN_TFL_STRIDED_SLICE: return "STRIDED_SLICE";
    case FN_TFL_PRELU: return "PRELU";
    case FN_TFL_MAXIMUM: return "MAXIMUM";
    case FN_TFL_SQRT: return "SQRT";
    case FN_TFL_RSQRT: return "RSQRT";
    case FN_TFL_SUM: return "SUM";
    case FN_TFL_LEAKY_RELU: return "LEAKY_RELU";
    case FN_TFL_EXP: return "EXP";
    case FN_TFL_NEG: return "NEG";
    case FN_TFL_REDUCE_MAX: return "REDUCE_MAX";
    case FN_TFL_ABS: return "ABS";
    default: snprintf(buf, 16, "OP_%d", code); return buf;
    }
}
