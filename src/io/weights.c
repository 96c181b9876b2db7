#include "io/weights.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Large arenas get their own mapping, aligned for transparent huge pages:
 * first-touching 100 MB in 4 KiB pages costs hundreds of milliseconds on a
 * VM, in 2 MiB pages a few tens. */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_FROM ((size_t)8 << 20)

static fn_status reserve(fn_weights *w, size_t total)
{
    if (total < HUGE_FROM) return fn_arena_init(&w->arena, total);
    size_t len = fn_arena_round(total) + HUGE_PAGE;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return FN_ERR_NOMEM;
    unsigned char *base = (unsigned char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
    madvise(base, len - (size_t)(base - (unsigned char *)m), MADV_HUGEPAGE);   /* a hint; failure is harmless */
#endif
    w->map = m;
    w->map_len = len;
    w->arena = (fn_arena){base, fn_arena_round(total), 0};
    return FN_OK;
}

/* What fn_arena_alloc takes for a block, zero-sized ones included. */
static size_t block(size_t bytes) { return fn_arena_round(bytes ? bytes : 1); }

fn_status fn_weights_create(const char *path, int count, size_t data_bytes, size_t name_bytes,
                            fn_weights **out)
{
    *out = NULL;
    if (count < 0) return fn_fail(FN_ERR_ARG, "%s: negative tensor count", path);
    size_t plen = strlen(path) + 1;
    size_t table = block((size_t)count * sizeof(fn_wtensor));
    size_t index = block((size_t)count * sizeof(int));
    size_t total = table + index + block(name_bytes) + block(plen) + data_bytes;
    if (total < data_bytes) return fn_fail(FN_ERR_LIMIT, "%s: tensors are too large to hold in memory", path);
    fn_weights *w = calloc(1, sizeof *w);
    if (!w) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", path);
    if (reserve(w, total) != FN_OK) {
        free(w);
        return fn_fail(FN_ERR_NOMEM, "%s: cannot reserve %zu bytes for the weights", path, total);
    }
    w->tensors = fn_arena_alloc(&w->arena, (size_t)count * sizeof(fn_wtensor));
    w->names_next = fn_arena_alloc(&w->arena, name_bytes);
    w->names_end = w->names_next + name_bytes;
    w->path = fn_arena_alloc(&w->arena, plen);
    memcpy(w->path, path, plen);
    w->capacity = count;   /* the name index is taken from the arena when sealing */
    *out = w;
    return FN_OK;
}

fn_status fn_weights_add(fn_weights *w, const char *name, size_t name_len, int ndim,
                         const int64_t *shape, float **data)
{
    if (w->count >= w->capacity || name_len + 1 > (size_t)(w->names_end - w->names_next) || ndim < 0 || ndim > FN_MAX_DIMS)
        return fn_fail(FN_ERR_INTERNAL, "%s: weights were sized for fewer tensors than added", w->path);
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0) return fn_fail(FN_ERR_ARG, "%s: tensor %.*s has a negative dimension", w->path, (int)name_len, name);
    fn_wtensor *t = &w->tensors[w->count];
    memset(t, 0, sizeof *t);
    t->name = w->names_next;
    memcpy(t->name, name, name_len);
    t->name[name_len] = '\0';
    w->names_next += name_len + 1;
    t->ndim = ndim;
    t->numel = 1;
    for (int d = 0; d < ndim; d++) {
        t->shape[d] = shape[d];
        t->numel *= shape[d];
    }
    /* An empty tensor takes no room but still gets a valid aligned pointer. */
    t->data = t->numel ? fn_arena_alloc(&w->arena, (size_t)t->numel * sizeof(float))
                       : (float *)(void *)(w->arena.base + w->arena.used);
    if (!t->data) return fn_fail(FN_ERR_INTERNAL, "%s: weights arena was sized too small for tensor %s", w->path, t->name);
    w->count++;
    *data = t->data;
    return FN_OK;
}

/* qsort has no context argument; the table travels in the index instead. */
typedef struct name_ref { const char *name; int index; } name_ref;

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

fn_status fn_weights_seal(fn_weights *w)
{
    if (w->count == 0) return FN_OK;
    name_ref *refs = malloc((size_t)w->count * sizeof *refs);
    if (!refs) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", w->path);
    for (int i = 0; i < w->count; i++) refs[i] = (name_ref){w->tensors[i].name, i};
    qsort(refs, (size_t)w->count, sizeof *refs, cmp_ref);
    for (int i = 1; i < w->count; i++) {
        if (strcmp(refs[i - 1].name, refs[i].name) == 0) {
            fn_status s = fn_fail(FN_ERR_FORMAT, "%s: tensor %s appears twice", w->path, refs[i].name);
            free(refs);
            return s;
        }
    }
    int *index = fn_arena_alloc(&w->arena, (size_t)w->count * sizeof(int));
    if (!index) {
        free(refs);
        return fn_fail(FN_ERR_INTERNAL, "%s: weights arena has no room for the name index", w->path);
    }
    for (int i = 0; i < w->count; i++) index[i] = refs[i].index;
    free(refs);
    w->by_name = index;
    return FN_OK;
}

const fn_wtensor *fn_weights_find(const fn_weights *w, const char *name)
{
    if (!w || !name) return NULL;
    if (!w->by_name) {
        for (int i = 0; i < w->count; i++)
            if (strcmp(w->tensors[i].name, name) == 0) return &w->tensors[i];
        return NULL;
    }
    int lo = 0, hi = w->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const fn_wtensor *t = &w->tensors[w->by_name[mid]];
        int c = strcmp(t->name, name);
        if (c == 0) return t;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

/* "[a, b, c]" into buf; "[]" for a scalar. */
static const char *shape_str(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

fn_status fn_weights_get(const fn_weights *w, const char *name, int ndim,
                         const int64_t *shape, const fn_wtensor **out)
{
    *out = NULL;
    const fn_wtensor *t = fn_weights_find(w, name);
    if (!t) return fn_fail(FN_ERR_MODEL, "%s: no tensor %s (is this a checkpoint of the right network?)", w->path, name);
    if (shape) {
        int same = t->ndim == ndim;
        for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
        if (!same) {
            char have[160], want[160];
            return fn_fail(FN_ERR_MODEL, "%s: tensor %s has shape %s, expected %s", w->path, name,
                           shape_str(have, sizeof have, t->ndim, t->shape), shape_str(want, sizeof want, ndim, shape));
        }
    }
    *out = t;
    return FN_OK;
}

void fn_weights_free(fn_weights *w)
{
    if (!w) return;
    if (w->map) munmap(w->map, w->map_len);
    else fn_arena_release(&w->arena);
    free(w);
}
