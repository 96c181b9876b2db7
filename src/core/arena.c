#include "core/arena.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

void *fn_aligned_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = FN_ALIGN;
    if (posix_memalign(&p, FN_ALIGN, fn_arena_round(bytes)) != 0) return NULL;
    return p;
}

void fn_aligned_free(void *p) { free(p); }

fn_status fn_arena_init(fn_arena *a, size_t capacity)
{
    memset(a, 0, sizeof *a);
    a->base = fn_aligned_alloc(capacity);
    if (!a->base) return fn_fail(FN_ERR_NOMEM, "cannot reserve %zu bytes for weights", capacity);
    a->size = fn_arena_round(capacity ? capacity : 1);
    return FN_OK;
}

void *fn_arena_alloc(fn_arena *a, size_t bytes)
{
    size_t need = fn_arena_round(bytes ? bytes : 1);
    if (!a->base || need > a->size - a->used) return NULL;
    void *p = a->base + a->used;
    a->used += need;
    return p;
}

void fn_arena_release(fn_arena *a)
{
    fn_aligned_free(a->base);
    memset(a, 0, sizeof *a);
}
