/* pt_write.c — see pt_write.h. */
#include "pt_write.h"

#include <unistd.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "t.h"
#include "io/mtcnn_bundle.h"

/* ---- a growable byte buffer ---- */


void ptw_put(buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
void ptw_put1(buf *b, int v) { unsigned char c = (unsigned char)v; ptw_put(b, &c, 1); }
static void put_le(buf *b, uint64_t v, int n) { for (int i = 0; i < n; i++) ptw_put1(b, (int)(v >> (8 * i) & 0xff)); }
void ptw_put_str(buf *b, const char *s) { ptw_put(b, s, strlen(s)); }

/* ---- pickle writer (the opcodes PyTorch's writer uses) ---- */

typedef struct pw { buf b; int proto4; } pw;

static void p_str(pw *w, const char *s)
{
    size_t n = strlen(s);
    if (w->proto4 && n < 256) { ptw_put1(&w->b, 0x8c); ptw_put1(&w->b, (int)n); }   /* SHORT_BINUNICODE */
    else { ptw_put1(&w->b, 'X'); put_le(&w->b, n, 4); }
    ptw_put(&w->b, s, n);
    if (w->proto4) ptw_put1(&w->b, 0x94);   /* MEMOIZE */
}

static void p_int(pw *w, long v)
{
    if (v >= 0 && v < 256) { ptw_put1(&w->b, 'K'); ptw_put1(&w->b, (int)v); }
    else if (v >= 0 && v < 65536) { ptw_put1(&w->b, 'M'); put_le(&w->b, (uint64_t)v, 2); }
    else { ptw_put1(&w->b, 'J'); put_le(&w->b, (uint64_t)v, 4); }
}

static void p_global(pw *w, const char *mod, const char *name)
{
    if (w->proto4) {
        p_str(w, mod);
        p_str(w, name);
        ptw_put1(&w->b, 0x93);   /* STACK_GLOBAL */
        return;
    }
    ptw_put1(&w->b, 'c');
    ptw_put_str(&w->b, mod); ptw_put1(&w->b, '\n');
    ptw_put_str(&w->b, name); ptw_put1(&w->b, '\n');
}

static void p_ints_tuple(pw *w, int n, const long *v)
{
    ptw_put1(&w->b, '(');
    for (int i = 0; i < n; i++) p_int(w, v[i]);
    ptw_put1(&w->b, 't');
}

static void p_empty_ordered_dict(pw *w)
{
    p_global(w, "collections", "OrderedDict");
    ptw_put1(&w->b, ')');
    ptw_put1(&w->b, 'R');
}

static void p_tensor(pw *w, const ckpt *c, const t_desc *t)
{
    const st_desc *s = &c->st[t->storage];
    if (t->parameter) { p_global(w, "torch._utils", "_rebuild_parameter"); ptw_put1(&w->b, '('); }
    p_global(w, "torch._utils", "_rebuild_tensor_v2");
    ptw_put1(&w->b, '(');
    ptw_put1(&w->b, '(');                       /* persistent id tuple */
    p_str(w, "storage");
    p_global(w, "torch", s->type);
    p_str(w, s->key);
    p_str(w, "cpu");
    p_int(w, s->numel);
    if (c->legacy) {
        if (t->view[1]) {
            char vk[64];
            snprintf(vk, sizeof vk, "%s_view", s->key);
            ptw_put1(&w->b, '(');
            p_str(w, vk);
            p_int(w, t->view[0]);
            p_int(w, t->view[1]);
            ptw_put1(&w->b, 't');
        } else ptw_put1(&w->b, 'N');
    }
    ptw_put1(&w->b, 't');
    ptw_put1(&w->b, 'Q');                       /* BINPERSID */
    p_int(w, t->offset);
    p_ints_tuple(w, t->ndim, t->shape);
    p_ints_tuple(w, t->ndim, t->stride);
    ptw_put1(&w->b, 0x89);                      /* requires_grad False */
    p_empty_ordered_dict(w);
    ptw_put1(&w->b, 't');
    ptw_put1(&w->b, 'R');
    if (t->parameter) { ptw_put1(&w->b, 0x88); p_empty_ordered_dict(w); ptw_put1(&w->b, 't'); ptw_put1(&w->b, 'R'); }
}

static void main_pickle(pw *w, const ckpt *c)
{
    ptw_put1(&w->b, 0x80); ptw_put1(&w->b, c->proto4 ? 4 : 2);
    if (c->proto4) { ptw_put1(&w->b, 0x95); put_le(&w->b, 0, 8); }   /* FRAME (length unused by readers like ours) */
    if (c->root_is_list) ptw_put1(&w->b, ']');
    else p_empty_ordered_dict(w);
    ptw_put1(&w->b, 'q'); ptw_put1(&w->b, 0);       /* BINPUT 0 */
    ptw_put1(&w->b, '(');
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
    ptw_put1(&w->b, c->root_is_list ? 'e' : 'u');
    ptw_put1(&w->b, '.');
}

const unsigned char ptw_legacy_magic[15] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                             0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};

void ptw_write_legacy(buf *out, const ckpt *c)
{
    ptw_put(out, ptw_legacy_magic, sizeof ptw_legacy_magic);
    ptw_put(out, "\x80\x02\x4d\xe9\x03\x2e", 6);                     /* protocol version 1001 */
    static const char sys_info[] = "\x80\x02}X\x0d\x00\x00\x00little_endian\x88s.";
    ptw_put(out, sys_info, sizeof sys_info - 1);
    pw w = {{0}, c->proto4};
    main_pickle(&w, c);
    ptw_put(out, w.b.p, w.b.n);
    free(w.b.p);
    /* PyTorch lists exactly the storages the tensors use, in first-use order. */
    int *order = malloc(sizeof(int) * (size_t)(c->nt > 0 ? c->nt : 1)), n = 0;
    for (int i = 0; i < c->nt; i++) {
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= order[j] == c->t[i].storage;
        if (!seen) order[n++] = c->t[i].storage;
    }
    pw k = {{0}, 0};
    ptw_put_str(&k.b, "\x80\x02](");
    for (int i = 0; i < n; i++) p_str(&k, c->st[order[i]].key);
    ptw_put_str(&k.b, "e.");
    ptw_put(out, k.b.p, k.b.n);
    free(k.b.p);
    for (int j = 0; j < n; j++) {
        int i = order[j];
        put_le(out, (uint64_t)c->st[i].numel, 8);
        ptw_put(out, c->st[i].data, (size_t)c->st[i].numel * (size_t)c->st[i].elsize);
    }
    free(order);
}

/* ---- zip writer: STORED entries, optional zip64 forms ---- */

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
    ptw_put(z, name, nl);
    put_le(z, 0x4246, 2); put_le(z, pad, 2);
    for (size_t i = 0; i < pad; i++) ptw_put1(z, 'Z');
    ptw_put(z, data, n);

    int big = o->zip64_extra;
    put_le(cd, 0x02014b50, 4); put_le(cd, 45, 2); put_le(cd, 45, 2); put_le(cd, 0, 2); put_le(cd, (uint64_t)o->method, 2);
    put_le(cd, 0, 4); put_le(cd, e->crc, 4);
    put_le(cd, big ? 0xFFFFFFFFu : n, 4); put_le(cd, big ? 0xFFFFFFFFu : n, 4);
    put_le(cd, nl, 2); put_le(cd, big ? 28 : 0, 2); put_le(cd, 0, 2);
    put_le(cd, 0, 2); put_le(cd, 0, 2); put_le(cd, 0, 4);
    put_le(cd, big ? 0xFFFFFFFFu : e->local, 4);
    ptw_put(cd, name, nl);
    if (big) { put_le(cd, 1, 2); put_le(cd, 24, 2); put_le(cd, n, 8); put_le(cd, n, 8); put_le(cd, e->local, 8); }
}

static void zip_finish(buf *z, buf *cd, int count, const zip_opts *o)
{
    size_t cd_off = z->n;
    ptw_put(z, cd->p, cd->n);
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

void ptw_write_zip(buf *out, const ckpt *c, const zip_opts *o)
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

/* ---- a whole fn_weights as a state_dict ---- */

int ptw_save_weights(const fn_weights *w, const char *path, int legacy)
{
    st_desc *st = calloc((size_t)w->count, sizeof *st);
    t_desc *td = calloc((size_t)w->count, sizeof *td);
    char (*keys)[16] = calloc((size_t)w->count, sizeof *keys);
    for (int i = 0; i < w->count; i++) {
        const fn_wtensor *t = &w->tensors[i];
        snprintf(keys[i], sizeof keys[i], "%d", i);
        st[i] = (st_desc){keys[i], "FloatStorage", 4, (long)t->numel, t->data};
        td[i].name = t->name;
        td[i].storage = i;
        td[i].ndim = t->ndim;
        long stride = 1;
        for (int d = t->ndim - 1; d >= 0; d--) { td[i].shape[d] = (long)t->shape[d]; td[i].stride[d] = stride; stride *= (long)t->shape[d]; }
    }
    ckpt c = {st, w->count, td, w->count, legacy, 0, NULL, 0};
    buf b = {0};
    static const zip_opts plain = {0, 0, 0, NULL};
    if (legacy) ptw_write_legacy(&b, &c);
    else ptw_write_zip(&b, &c, &plain);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(b.p, 1, b.n, f) == b.n;
    if (f && fclose(f) != 0) ok = 0;
    free(b.p); free(st); free(td); free(keys);
    return ok ? 0 : -1;
}

const char *ptw_mtcnn_pt(const char *net, int zip)
{
    char rel[128], p[4096];
    snprintf(rel, sizeof rel, "fixtures/mtcnn/%s%s.pt", net, zip ? "_zipformat" : "");
    snprintf(p, sizeof p, "%s/%s", t_shared_dir(), rel);
    if (access(p, R_OK) == 0) return t_shared(rel);
    static _Thread_local char written[3][2][600];
    int k = net[0] == 'p' ? 0 : net[0] == 'r' ? 1 : 2;
    if (!written[k][zip][0]) {
        char tfl_rel[64];
        snprintf(tfl_rel, sizeof tfl_rel, "%s.tflite", net);
        const char *tfl = t_models(tfl_rel);
        fn_weights *w = NULL;
        if (!tfl || fn_mtcnn_bundle_load(tfl, &w) != FN_OK) return NULL;
        snprintf(written[k][zip], sizeof written[k][zip], "%s/%s%s.pt", t_tmpdir(), net, zip ? "_zipformat" : "");
        int ok = ptw_save_weights(w, written[k][zip], !zip) == 0;
        fn_weights_free(w);
        if (!ok) { written[k][zip][0] = 0; return NULL; }
        t_not_checked("the bytes of facenet-pytorch's own %s (absent: %s): a file of the same tensors written "
                      "here from models/%s is used instead", rel, p, tfl_rel);
    }
    return written[k][zip];
}
