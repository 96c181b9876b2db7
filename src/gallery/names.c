/* Person names as the gallery stores and looks them up: valid UTF-8,
 * Unicode Normalization Form C (UAX #15, by Debian's utf8proc), without
 * leading or trailing white space (Unicode's White_Space property), no
 * control characters.  So "José" typed on Linux (NFC), "José" from a macOS
 * folder name (NFD: e + U+0301) and "José " are one person. */
#include "gallery/gallery_impl.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Longest raw name looked at: normalising can only grow a name by a small
 * factor, and anything this long is refused as too long anyway. */
#define RAW_MAX 4096

/* Unicode White_Space (PropList.txt): TAB..CR, SPACE, NEL, NBSP, the Zs
 * spaces, LINE and PARAGRAPH SEPARATOR. */
static int is_white(utf8proc_int32_t c)
{
    if ((c >= 0x09 && c <= 0x0d) || c == 0x85) return 1;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}

/* How many bytes of s to print for at most max bytes without cutting a
 * UTF-8 character in two (an error quoting a long name ended in a broken
 * character). */
static int utf8_cut(const char *s, int max)
{
    int n = (int)strnlen(s, (size_t)max);
    if (n < max) return n;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return n;
}

/* Byte offset of the first invalid UTF-8 sequence, or -1 when valid. */
static long invalid_at(const unsigned char *s, long n)
{
    for (long i = 0; i < n;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, n - i, &c);
        if (k <= 0 || c < 0) return i;
        i += k;
    }
    return -1;
}

fn_status fn_gallery_normalize_name(const char *in, char *out, size_t cap, int *changed)
{
    if (changed) *changed = 0;
    if (!out || cap == 0) return fn_fail(FN_ERR_ARG, "fn_gallery_normalize_name: an output buffer is required");
    out[0] = '\0';
    if (!in || !*in) return fn_fail(FN_ERR_ARG, "a person's name is required");
    size_t raw = strnlen(in, RAW_MAX + 1);
    if (raw > RAW_MAX)
        return fn_fail(FN_ERR_LIMIT, "person name '%.*s...' is longer than %d bytes", utf8_cut(in, 40), in,
                       FN_GALLERY_NAME_MAX - 1);
    long bad = invalid_at((const unsigned char *)in, (long)raw);
    if (bad >= 0)
        return fn_fail(FN_ERR_ARG, "person name '%.*s' is not valid UTF-8 (byte 0x%02x at offset %ld)", (int)bad, in, (unsigned char)in[bad], bad);
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)raw, &nfc,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) return fn_fail(n == UTF8PROC_ERROR_NOMEM ? FN_ERR_NOMEM : FN_ERR_ARG, "person name '%s': %s", in,
                              utf8proc_errmsg(n));
    /* trim white space at both ends */
    utf8proc_ssize_t start = -1, end = 0;
    fn_status s = FN_OK;
    for (utf8proc_ssize_t i = 0; i < n;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(nfc + i, n - i, &c);
        if (k <= 0) { s = fn_fail(FN_ERR_INTERNAL, "person name '%s': utf8proc returned invalid UTF-8", in); break; }
        if (!is_white(c)) {
            if (start < 0) start = i;
            end = i + k;
        }
        i += k;
    }
    /* inside: no control characters (TAB, NEL too) and no line breaks */
    for (utf8proc_ssize_t i = start; s == FN_OK && start >= 0 && i < end;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(nfc + i, end - i, &c);
        utf8proc_category_t cat = utf8proc_category(c);
        if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP)
            s = fn_fail(FN_ERR_ARG, "person name '%s' contains a control character (U+%04X)", in, (unsigned)c);
        i += k > 0 ? k : 1;
    }
    if (s == FN_OK && start < 0)
        s = fn_fail(FN_ERR_ARG, "person name '%s' is only white space; a person's name is required", in);
    size_t len = s == FN_OK ? (size_t)(end - start) : 0;
    if (s == FN_OK && len >= FN_GALLERY_NAME_MAX)
        s = fn_fail(FN_ERR_LIMIT, "person name '%.*s...' is longer than %d bytes", utf8_cut(in, 40), in,
                    FN_GALLERY_NAME_MAX - 1);
    if (s == FN_OK && len >= cap)
        s = fn_fail(FN_ERR_LIMIT, "person name '%.*s': the buffer holds %zu bytes, the name needs %zu", utf8_cut(in, 40),
                    in, cap,
                    len + 1);
    if (s == FN_OK) {
        memcpy(out, nfc + start, len);
        out[len] = '\0';
        if (changed) *changed = len != raw || memcmp(out, in, len) != 0;
    }
    free(nfc);
    return s;
}

/* SQL function fn_name_key(name): the normalised name, NULL when the stored
 * value is not a valid name.  Lets a lookup find a person stored by an older
 * facenet under a non-NFC or untrimmed spelling. */
static void sql_name_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) { sqlite3_result_null(ctx); return; }
    char key[FN_GALLERY_NAME_MAX];
    if (fn_gallery_normalize_name((const char *)sqlite3_value_text(argv[0]), key, sizeof key, NULL) != FN_OK) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_text(ctx, key, -1, SQLITE_TRANSIENT);
}

fn_status fn_gnames_register(fn_gallery *g)
{
    if (sqlite3_create_function(g->db, "fn_name_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_name_key,
                                NULL, NULL) != SQLITE_OK)
        return fn_gdb_fail(g, "registering the name function");
    return FN_OK;
}

fn_status fn_gname(const fn_gallery *g, const char *in, char out[FN_GALLERY_NAME_MAX], int *changed)
{
    fn_status s = fn_gallery_normalize_name(in, out, FN_GALLERY_NAME_MAX, changed);
    return s == FN_OK ? FN_OK : fn_fail_prefix(s, "%s", g->path);
}
