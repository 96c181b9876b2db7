/* sha256.h — SHA-256 of memory and of files, for the gallery's content hashes
 * and the model identity.  Owns: the FIPS 180-4 compression (plain C, the
 * reference, and the x86 SHA extensions when the CPU has them: a model file
 * of 5 MB hashes in ~3 ms instead of ~20) and a streaming file reader.  It
 * knows nothing about images or the database; callers store the hex digest.
 */
#ifndef FN_CORE_SHA256_H
#define FN_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "facenet.h"

typedef struct fn_sha256 {
    uint32_t h[8];
    uint64_t total;          /* bytes fed so far */
    unsigned char buf[64];   /* partial block */
    size_t fill;
    int fast;                /* 1: blocks go through the SHA extensions */
} fn_sha256;

/* Uses the SHA extensions when the CPU has them. */
void fn_sha256_init(fn_sha256 *s);
/* The plain-C compression only (the reference the fast path is tested
 * against: tests/test_sha256.c). */
void fn_sha256_init_ref(fn_sha256 *s);
void fn_sha256_update(fn_sha256 *s, const void *data, size_t n);
void fn_sha256_final(fn_sha256 *s, unsigned char digest[32]);
/* fn_sha256_hex and fn_hash_file are public (include/facenet/core.h). */

#endif
