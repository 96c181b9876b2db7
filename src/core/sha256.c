/* SHA-256 after FIPS 180-4; checked against the standard's test vectors in
 * tests/test_gallery.c. */
#include "core/sha256.h"
#include "core/error.h"
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define FN_SHA_X86 1
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void compress(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)   /* message words are big-endian */
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

#ifdef FN_SHA_X86
/* The same compression on the x86 SHA extensions, nblocks blocks in a row:
 * the state is kept as the instructions want it (ABEF, CDGH), each group of
 * four rounds adds K to four message words and runs sha256rnds2 twice, and
 * words 16..63 come from sha256msg1/msg2 (W[t-16] + s0(W[t-15]), then
 * + W[t-7] and s1(W[t-2])).  Tested against compress() on random data. */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress_shani(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);   /* CDAB */
    __m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);   /* EFGH */
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);                                         /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                              /* CDGH */
    for (; nblocks > 0; nblocks--, p += 64) {
        __m128i abef = st0, cdgh = st1, m[4];
        for (int g = 0; g < 16; g++) {
            __m128i *w = &m[g & 3];
            if (g < 4) {
                *w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
            } else {
                __m128i prev = m[(g + 3) & 3], prev2 = m[(g + 2) & 3];
                __m128i x = _mm_sha256msg1_epu32(*w, m[(g + 1) & 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(prev, prev2, 4));
                *w = _mm_sha256msg2_epu32(x, prev);
            }
            __m128i msg = _mm_add_epi32(*w, _mm_loadu_si128((const __m128i *)&K[4 * g]));
            st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
            st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(msg, 0x0E));
        }
        st0 = _mm_add_epi32(st0, abef);
        st1 = _mm_add_epi32(st1, cdgh);
    }
    tmp = _mm_shuffle_epi32(st0, 0x1B);                  /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);                  /* DCHG */
    st0 = _mm_blend_epi16(tmp, st1, 0xF0);               /* DCBA */
    st1 = _mm_alignr_epi8(st1, tmp, 8);                  /* HGFE */
    _mm_storeu_si128((__m128i *)&h[0], st0);
    _mm_storeu_si128((__m128i *)&h[4], st1);
}

/* CPUID: leaf 7 EBX bit 29 (SHA), leaf 1 ECX bits 9 (SSSE3) and 19 (SSE4.1).
 * Asked once per hash, not per block (CPUID is slow under a hypervisor). */
static int cpu_has_sha(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19))) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 29) & 1;
}
#endif

static void blocks(fn_sha256 *s, const unsigned char *p, size_t nblocks)
{
#ifdef FN_SHA_X86
    if (s->fast) {
        compress_shani(s->h, p, nblocks);
        return;
    }
#endif
    for (; nblocks > 0; nblocks--, p += 64) compress(s->h, p);
}

void fn_sha256_init_ref(fn_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->total = 0;
    s->fill = 0;
    s->fast = 0;
}

void fn_sha256_init(fn_sha256 *s)
{
    fn_sha256_init_ref(s);
#ifdef FN_SHA_X86
    s->fast = cpu_has_sha();
#endif
}

void fn_sha256_update(fn_sha256 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->total += n;
    if (s->fill) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->buf + s->fill, p, take);
        s->fill += take; p += take; n -= take;
        if (s->fill < 64) return;
        blocks(s, s->buf, 1);
        s->fill = 0;
    }
    blocks(s, p, n / 64);
    p += n / 64 * 64;
    n %= 64;
    memcpy(s->buf, p, n);
    s->fill = n;
}

void fn_sha256_final(fn_sha256 *s, unsigned char digest[32])
{
    uint64_t bits = s->total * 8;
    unsigned char pad[72] = {0x80};
    /* pad to 56 mod 64, then the bit length big-endian */
    size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
    for (int i = 0; i < 8; i++) pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
    uint64_t keep = s->total;
    fn_sha256_update(s, pad, padlen + 8);
    s->total = keep;
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(s->h[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        digest[4 * i + 3] = (unsigned char)s->h[i];
    }
}

static void to_hex(const unsigned char d[32], char out[65])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    out[64] = '\0';
}

void fn_sha256_hex(const void *data, size_t n, char out_hex[65])
{
    fn_sha256 s;
    unsigned char d[32];
    fn_sha256_init(&s);
    fn_sha256_update(&s, data, n);
    fn_sha256_final(&s, d);
    to_hex(d, out_hex);
}

fn_status fn_hash_file(const char *path, char out_hex[65])
{
    if (!path || !out_hex) return fn_fail(FN_ERR_ARG, "fn_hash_file: path and output are required");
    out_hex[0] = '\0';
    int fd;
    struct stat st;
    FN_TRY(fn_open_regular(path, &fd, &st));   /* a FIFO would wait for a writer forever */
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return fn_fail(FN_ERR_NOMEM, "%s: cannot open for hashing (%s)", path, strerror(errno));
    }
    fn_sha256 s;
    unsigned char buf[16384], d[32];
    size_t n;
    fn_sha256_init(&s);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fn_sha256_update(&s, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return fn_fail(FN_ERR_IO, "%s: read error while hashing", path);
    fn_sha256_final(&s, d);
    to_hex(d, out_hex);
    return FN_OK;
}
