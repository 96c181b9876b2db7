#include "core/arena.h"
#include "core/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Blocks of 512 KiB and more (weights, model files being parsed, images, detector
 * scratch) go on transparent huge pages: 2 MiB-aligned, rounded up to whole
 * huge pages, and advised.  A first touch of a 4 KiB page costs ~14 us on
 * the project's VM (8 MiB: 28 ms in 2048 faults; on huge pages 0.5 ms), and
 * `facenet detect` took ~2,600 faults, most of them in loading MTCNN.  The
 * advice is only advice: where THP is off, small pages as before. */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_MIN ((size_t)512 << 10)

void *fn_aligned_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = FN_ALIGN;
    if (bytes >= HUGE_MIN && bytes <= SIZE_MAX - HUGE_PAGE) {
        size_t n = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        if (posix_memalign(&p, HUGE_PAGE, n) != 0) return NULL;
#ifdef MADV_HUGEPAGE
        madvise(p, n, MADV_HUGEPAGE);
#endif
        return p;
    }
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
