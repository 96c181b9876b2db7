/* arena.h — one aligned block that weights (and other load-time data) live in.
 * Owns: a bump allocator over a single allocation, freed all at once.
 * Not for per-frame data: hot paths reuse buffers they sized at load time.
 */
#ifndef FN_CORE_ARENA_H
#define FN_CORE_ARENA_H

#include <stddef.h>
#include "facenet.h"

#define FN_ALIGN 64 /* cache line, and the widest SIMD load (AVX-512) */

typedef struct fn_arena {
    unsigned char *base;
    size_t size, used;
} fn_arena;

/* Reserve capacity bytes up front (aligned); allocations never move. */
fn_status fn_arena_init(fn_arena *a, size_t capacity);
/* Returns NULL when the reservation is exhausted (a sizing bug). */
void *fn_arena_alloc(fn_arena *a, size_t bytes);
void fn_arena_release(fn_arena *a);
/* Bytes a request takes including alignment padding, for sizing passes. */
static inline size_t fn_arena_round(size_t bytes) { return (bytes + FN_ALIGN - 1) & ~(size_t)(FN_ALIGN - 1); }

/* Aligned malloc/free for buffers owned outside an arena (512 KiB and more:
 * on transparent huge pages).  fn_aligned_free(p) is free(p). */
void *fn_aligned_alloc(size_t bytes);
void fn_aligned_free(void *p);

#endif
