#include "io/zip.h"
#include "core/error.h"

#include <string.h>
#include <zlib.h>

enum {
    SIG_LOCAL = 0x04034b50, SIG_CENTRAL = 0x02014b50,
    SIG_EOCD = 0x06054b50, SIG_EOCD64 = 0x06064b50, SIG_LOCATOR64 = 0x07064b50,
    LOCAL_FIXED = 30, CENTRAL_FIXED = 46, EOCD_FIXED = 22, EOCD64_FIXED = 56, LOCATOR64_SIZE = 20,
    EXTRA_ZIP64 = 0x0001
};

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Does [off, off+n) lie inside the buffer?  Written to never overflow. */
static int fits(size_t len, uint64_t off, uint64_t n) { return off <= len && n <= len - off; }

int fn_zip_sniff(const unsigned char *buf, size_t len)
{
    return len >= 4 && rd32(buf) == SIG_LOCAL;
}

/* The end-of-central-directory record sits at the end, before an optional
 * comment of up to 64 KiB; search backwards for its signature. */
static fn_status find_eocd(const fn_zip *z, size_t *at)
{
    if (z->len < EOCD_FIXED) return fn_fail(FN_ERR_FORMAT, "%s: zip archive is truncated (no end-of-directory record)", z->path);
    size_t lowest = z->len > EOCD_FIXED + 0xFFFF ? z->len - EOCD_FIXED - 0xFFFF : 0;
    for (size_t p = z->len - EOCD_FIXED + 1; p-- > lowest;) {
        if (rd32(z->buf + p) == SIG_EOCD && p + EOCD_FIXED + rd16(z->buf + p + 20) == z->len) {
            *at = p;
            return FN_OK;
        }
    }
    return fn_fail(FN_ERR_FORMAT, "%s: zip archive is truncated or corrupt (no end-of-directory record)", z->path);
}

/* Archives over 4 GiB (or 65535 entries) keep the real directory location in
 * a zip64 record, found through a locator just before the classic record. */
static fn_status read_zip64_eocd(fn_zip *z, size_t eocd)
{
    if (eocd < LOCATOR64_SIZE || rd32(z->buf + eocd - LOCATOR64_SIZE) != SIG_LOCATOR64)
        return fn_fail(FN_ERR_FORMAT, "%s: zip archive needs a zip64 directory record but has none", z->path);
    uint64_t off = rd64(z->buf + eocd - LOCATOR64_SIZE + 8);
    if (!fits(z->len, off, EOCD64_FIXED) || rd32(z->buf + off) != SIG_EOCD64)
        return fn_fail(FN_ERR_FORMAT, "%s: zip64 directory record is missing or corrupt", z->path);
    const unsigned char *r = z->buf + off;
    z->entries = rd64(r + 32);
    z->cd_size = rd64(r + 40);
    z->cd_offset = rd64(r + 48);
    return FN_OK;
}

fn_status fn_zip_open(fn_zip *z, const unsigned char *buf, size_t len, const char *path)
{
    memset(z, 0, sizeof *z);
    z->buf = buf;
    z->len = len;
    z->path = path;
    size_t eocd = 0;
    FN_TRY(find_eocd(z, &eocd));
    const unsigned char *r = buf + eocd;
    if (rd16(r + 4) != 0 || rd16(r + 6) != 0)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: multi-part zip archives are not supported", path);
    z->entries = rd16(r + 10);
    z->cd_size = rd32(r + 12);
    z->cd_offset = rd32(r + 16);
    if (z->entries == 0xFFFF || z->cd_size == 0xFFFFFFFFu || z->cd_offset == 0xFFFFFFFFu)
        FN_TRY(read_zip64_eocd(z, eocd));
    if (!fits(len, z->cd_offset, z->cd_size))
        return fn_fail(FN_ERR_FORMAT, "%s: zip central directory lies outside the file (truncated?)", path);
    if (z->entries > z->cd_size / CENTRAL_FIXED)
        return fn_fail(FN_ERR_FORMAT, "%s: zip directory claims %llu entries in %zu bytes", path,
                       (unsigned long long)z->entries, z->cd_size);
    return FN_OK;
}

/* A zip64 extra block replaces exactly those fields whose 32-bit form is
 * saturated, in the fixed order usize, csize, local-header offset. */
static fn_status apply_zip64_extra(const fn_zip *z, const unsigned char *x, size_t xlen, fn_zip_entry *e)
{
    while (xlen >= 4) {
        uint16_t id = rd16(x), n = rd16(x + 2);
        if (n > xlen - 4) break;
        if (id == EXTRA_ZIP64) {
            const unsigned char *p = x + 4, *end = x + 4 + n;
            uint64_t usize = e->size, *fields[3] = {&usize, &e->csize, &e->local};
            for (int i = 0; i < 3; i++) {
                if (*fields[i] != 0xFFFFFFFFu) continue;
                if (end - p < 8) return fn_fail(FN_ERR_FORMAT, "%s: zip64 extra field is too short", z->path);
                *fields[i] = rd64(p);
                p += 8;
            }
#if SIZE_MAX < UINT64_MAX
            if (usize > SIZE_MAX) return fn_fail(FN_ERR_LIMIT, "%s: zip entry is too large for this machine", z->path);
#endif
            e->size = (size_t)usize;
            return FN_OK;
        }
        x += 4 + n;
        xlen -= 4 + (size_t)n;
    }
    return FN_OK;
}

fn_status fn_zip_next(const fn_zip *z, size_t *pos, fn_zip_entry *e)
{
    if (*pos >= z->cd_size) return FN_ERR_NOT_FOUND;
    const unsigned char *cd = z->buf + z->cd_offset;
    size_t left = z->cd_size - *pos;
    const unsigned char *r = cd + *pos;
    if (left < CENTRAL_FIXED || rd32(r) != SIG_CENTRAL)
        return fn_fail(FN_ERR_FORMAT, "%s: zip central directory is corrupt at byte %zu", z->path, z->cd_offset + *pos);
    size_t nlen = rd16(r + 28), xlen = rd16(r + 30), clen = rd16(r + 32);
    if (CENTRAL_FIXED + nlen + xlen + clen > left)
        return fn_fail(FN_ERR_FORMAT, "%s: zip central directory is truncated at byte %zu", z->path, z->cd_offset + *pos);
    memset(e, 0, sizeof *e);
    e->name = (const char *)r + CENTRAL_FIXED;
    e->name_len = nlen;
    e->flags = rd16(r + 8);
    e->method = rd16(r + 10);
    e->crc32 = rd32(r + 16);
    e->csize = rd32(r + 20);
    e->size = rd32(r + 24);
    e->local = rd32(r + 42);
    FN_TRY(apply_zip64_extra(z, r + CENTRAL_FIXED + nlen, xlen, e));
    *pos += CENTRAL_FIXED + nlen + xlen + clen;
    return FN_OK;
}

/* The data follows the local header, whose name and extra lengths may differ
 * from the directory's (PyTorch pads the local extra to align tensor data). */
fn_status fn_zip_data(const fn_zip *z, fn_zip_entry *e)
{
    int nl = (int)(e->name_len > 200 ? 200 : e->name_len);
    if (e->flags & 1)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: zip entry %.*s is encrypted", z->path, nl, e->name);
    if (e->method != 0)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: zip entry %.*s is compressed (method %u); PyTorch checkpoints store entries uncompressed",
                       z->path, nl, e->name, e->method);
    if (e->csize != e->size)
        return fn_fail(FN_ERR_FORMAT, "%s: zip entry %.*s is stored but its sizes differ (%llu vs %llu)", z->path, nl, e->name,
                       (unsigned long long)e->csize, (unsigned long long)e->size);
    if (!fits(z->len, e->local, LOCAL_FIXED) || rd32(z->buf + e->local) != SIG_LOCAL)
        return fn_fail(FN_ERR_FORMAT, "%s: zip entry %.*s has no local header (truncated or corrupt)", z->path, nl, e->name);
    const unsigned char *h = z->buf + e->local;
    size_t nlen = rd16(h + 26), xlen = rd16(h + 28);
    uint64_t start = e->local + LOCAL_FIXED + nlen + xlen;
    if (nlen != e->name_len || !fits(z->len, e->local + LOCAL_FIXED, nlen) ||
        memcmp(h + LOCAL_FIXED, e->name, nlen) != 0)
        return fn_fail(FN_ERR_FORMAT, "%s: zip entry %.*s: local header disagrees with the directory", z->path, nl, e->name);
    if (!fits(z->len, start, e->size))
        return fn_fail(FN_ERR_FORMAT, "%s: zip entry %.*s runs past the end of the file (truncated?)", z->path, nl, e->name);
    e->data = z->buf + start;
    return FN_OK;
}

fn_status fn_zip_find(const fn_zip *z, const char *name, fn_zip_entry *e)
{
    size_t pos = 0, n = strlen(name);
    fn_status s;
    while ((s = fn_zip_next(z, &pos, e)) == FN_OK) {
        if (e->name_len == n && memcmp(e->name, name, n) == 0) return fn_zip_data(z, e);
    }
    if (s != FN_ERR_NOT_FOUND) return s;
    return fn_fail(FN_ERR_NOT_FOUND, "%s: zip archive has no entry %s", z->path, name);
}

fn_status fn_zip_verify(const fn_zip *z, const fn_zip_entry *e)
{
    /* zlib's crc32 takes a uInt length; feed large entries in pieces. */
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *p = e->data;
    size_t left = e->size;
    while (left) {
        uInt n = left > (1u << 30) ? (1u << 30) : (uInt)left;
        crc = crc32(crc, p, n);
        p += n;
        left -= n;
    }
    if ((uint32_t)crc != e->crc32)
        return fn_fail(FN_ERR_FORMAT, "%s: zip entry %.*s is corrupt (CRC-32 mismatch)", z->path,
                       (int)(e->name_len > 200 ? 200 : e->name_len), e->name);
    return FN_OK;
}
