/* test_sha256.c — SHA-256's fast path (x86 SHA extensions) against the
 * plain-C reference compression: the same digest for every length from 0 to
 * 300 bytes and for 5 MB (a model file's size), fed whole and in uneven
 * pieces, and the FIPS 180 vectors through the fast path.  The reference is
 * itself checked against the FIPS vectors in test_gallery.c. */
#include <stdint.h>
#include <string.h>

#include "core/sha256.h"
#include "t.h"

static void digest(int fast, const unsigned char *p, size_t n, size_t piece, unsigned char d[32])
{
    fn_sha256 s;
    if (fast) fn_sha256_init(&s);
    else fn_sha256_init_ref(&s);
    for (size_t i = 0; i < n;) {
        size_t k = piece && piece < n - i ? piece : n - i;
        fn_sha256_update(&s, p + i, k);
        i += k;
        piece = piece ? piece % 251 + 61 : 0;   /* uneven pieces across block edges */
    }
    fn_sha256_final(&s, d);
}

int main(void)
{
    fn_sha256 probe;
    fn_sha256_init(&probe);
    if (!probe.fast) t_not_checked("the SHA-extension path (this CPU has no SHA extensions: both runs are the reference)");
    size_t big = 5u << 20;
    unsigned char *data = malloc(big);
    if (!data) return 1;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < big; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        data[i] = (unsigned char)(x >> 32);
    }
    int bad = 0;
    unsigned char a[32], b[32];
    for (size_t n = 0; n <= 300; n++) {
        digest(1, data, n, 0, a);
        digest(0, data, n, 0, b);
        if (memcmp(a, b, 32) && bad++ < 3) T_CHECK(0, "length %zu: the fast digest differs from the reference", n);
    }
    T_CHECK(bad == 0, "%d of 301 lengths differ", bad);
    digest(1, data, big, 0, a);
    digest(0, data, big, 0, b);
    T_CHECK(!memcmp(a, b, 32), "5 MB whole: the fast digest differs from the reference");
    digest(1, data, big, 7, a);
    T_CHECK(!memcmp(a, b, 32), "5 MB in uneven pieces: the fast digest differs from the reference");
    static const struct { const char *msg, *hex; } v[] = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"}};
    for (int i = 0; i < 2; i++) {
        char hex[65];
        digest(1, (const unsigned char *)v[i].msg, strlen(v[i].msg), 0, a);
        for (int j = 0; j < 32; j++) snprintf(hex + 2 * j, 3, "%02x", a[j]);
        T_CHECK(!strcmp(hex, v[i].hex), "fast sha256('%s') = %s, want %s", v[i].msg, hex, v[i].hex);
    }
    printf("sha256 fast path (%s) = reference on lengths 0..300 and 5 MB (whole, in pieces); FIPS vectors\n",
           probe.fast ? "SHA extensions" : "not available");
    free(data);
    return T_DONE();
}
