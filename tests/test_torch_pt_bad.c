/* Bad input for the .pt reader: facenet-pytorch's pnet.pt (legacy) and its
 * zip twin truncated at many lengths and with bytes flipped at many places,
 * plus empty, garbage, missing and directory paths.  Every outcome must be
 * either a clean load or an error sentence naming the file; ASan/UBSan and
 * the leak checker watch the rest. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t.h"
#include "core/error.h"
#include "io/mtcnn_bundle.h"
#include "io/weights.h"
#include "pt_write.h"

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len ? *len : 1);
    if (fread(b, 1, *len, f) != *len) { perror(path); exit(1); }
    fclose(f);
    return b;
}

static const char *write_file(const char *name, const void *data, size_t n)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", t_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) { perror(path); exit(1); }
    fclose(f);
    return path;
}

/* Thousands of variants are written; an in-memory file keeps that cheap
 * (rewriting a real file costs about a millisecond per open here). */
static int scratch_fd = -1;
static char scratch_path[64];

static const char *scratch(const void *data, size_t n)
{
    if (scratch_fd < 0) {
        scratch_fd = memfd_create("fn-pt-bad", 0);
        if (scratch_fd < 0) { perror("memfd_create"); exit(1); }
        snprintf(scratch_path, sizeof scratch_path, "/proc/self/fd/%d", scratch_fd);
    }
    if (ftruncate(scratch_fd, (off_t)n) != 0 || pwrite(scratch_fd, data, n, 0) != (ssize_t)n) { perror("scratch"); exit(1); }
    return scratch_path;
}

typedef struct tally { int ok, failed, unnamed; } tally;

/* A failure must carry a sentence that names the file. */
static void try_load(const char *path, tally *t, const char *what, size_t where)
{
    fn_weights *w = NULL;
    fn_clear_error();
    fn_status s = fn_weights_load_pt(path, &w);
    if (s == FN_OK) {
        t->ok++;
        T_CHECK(w && w->count > 0, "%s at %zu: success without tensors", what, where);
        fn_weights_free(w);
        return;
    }
    t->failed++;
    T_CHECK(w == NULL, "%s at %zu: output set on failure", what, where);
    if (strncmp(fn_last_error(), path, strlen(path)) != 0) {
        t->unnamed++;
        T_CHECK(0, "%s at %zu: message does not start with the path: %s", what, where, fn_last_error());
    }
}

static const char *pnet_pt(const char *rel)
{
    return ptw_mtcnn_pt("pnet", strstr(rel, "zip") != NULL);
}

/* Every prefix shorter than the file must fail: each layout needs its end
 * (legacy: the last storage's bytes; zip: the directory). */
static void truncations(const char *rel, size_t dense_until, size_t dense_tail)
{
    size_t len;
    unsigned char *b = slurp(pnet_pt(rel), &len);
    tally t = {0};
    for (size_t cut = 0; cut < len; cut += cut < dense_until || cut + dense_tail >= len ? 1 : 53) {
        const char *path = scratch(b, cut);
        try_load(path, &t, "truncation", cut);
    }
    T_CHECK(t.ok == 0, "%s: %d truncated files loaded", rel, t.ok);
    printf("%s: %d truncations, all rejected with the file named (%d unnamed)\n", rel, t.failed, t.unnamed);
    free(b);
}

/* Flips in tensor bytes are harmless; elsewhere they must be caught or be
 * harmless too.  Positions take turns among three kinds of corruption. */
static void flips(const char *rel, size_t dense_until, size_t dense_tail)
{
    static const unsigned char masks[3] = {0xff, 0x01, 0x80};
    size_t len;
    unsigned char *b = slurp(pnet_pt(rel), &len);
    tally t = {0};
    for (size_t at = 0; at < len; at += at < dense_until || at + dense_tail >= len ? 1 : 53) {
        unsigned char m = masks[at % 3];
        b[at] ^= m;
        const char *path = scratch(b, len);
        try_load(path, &t, "flip", at);
        b[at] ^= m;
    }
    printf("%s: %d flips: %d loaded, %d rejected (%d without the file named)\n", rel, t.ok + t.failed, t.ok, t.failed,
           t.unnamed);
    free(b);
}

/* The zip's data.pkl is CRC-checked, so even a flip that would still parse
 * (here a letter of a tensor name) is caught there. */
static void zip_pickle_crc(void)
{
    size_t len;
    unsigned char *b = slurp(pnet_pt("fixtures/mtcnn/pnet_zipformat.pt"), &len);
    unsigned char *name = memmem(b, len, "conv1.weight", 12);
    T_CHECK(name != NULL, "no tensor name in the zip fixture");
    if (name) {
        name[0] = 'k';
        fn_weights *w = NULL;
        fn_status s = fn_weights_load_pt(scratch(b, len), &w);
        T_CHECK(s == FN_ERR_FORMAT && strstr(fn_last_error(), "data.pkl is corrupt (CRC-32 mismatch)"), "renamed tensor: %s",
                s ? fn_last_error() : "loaded");
        printf("zip tensor name flipped -> %s\n", fn_last_error());
        fn_weights_free(w);
    }
    free(b);
}

static void odd_files(void)
{
    tally t = {0};
    const char *empty = write_file("empty.pt", "", 0);
    try_load(empty, &t, "empty file", 0);
    T_CHECK(strstr(fn_last_error(), "empty") != NULL, "empty: %s", fn_last_error());
    printf("empty file -> %s\n", fn_last_error());

    /* A JPEG's first bytes and then noise. */
    unsigned char jpeg[4096] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0};
    unsigned state = 12345;
    for (size_t i = 11; i < sizeof jpeg; i++) jpeg[i] = (unsigned char)((state = state * 1103515245u + 12345u) >> 16);
    const char *garbage = write_file("photo.pt", jpeg, sizeof jpeg);
    try_load(garbage, &t, "jpeg", 0);
    T_CHECK(strstr(fn_last_error(), "not a PyTorch checkpoint") != NULL, "jpeg: %s", fn_last_error());
    printf("jpeg bytes -> %s\n", fn_last_error());

    char missing[600];
    snprintf(missing, sizeof missing, "%s/no/such/file.pt", t_tmpdir());
    fn_weights *w = NULL;
    T_CHECK(fn_weights_load_pt(missing, &w) == FN_ERR_IO && !w, "missing path: %s", fn_last_error());
    T_CHECK(strstr(fn_last_error(), missing) && strstr(fn_last_error(), "cannot open"), "missing: %s", fn_last_error());
    printf("missing path -> %s\n", fn_last_error());

    T_CHECK(fn_weights_load_pt(t_tmpdir(), &w) == FN_ERR_IO && !w, "directory: %s", fn_last_error());
    T_CHECK(strstr(fn_last_error(), t_tmpdir()) != NULL, "directory: %s", fn_last_error());
    printf("a directory -> %s\n", fn_last_error());
    T_CHECK(t.ok == 0, "odd files loaded");
}

int main(void)
{
    /* Bytes up to here hold the pickles and the zip directory structures
     * that lead to them; past it mostly raw tensor data. */
    if (pnet_pt("fixtures/mtcnn/pnet.pt") && pnet_pt("fixtures/mtcnn/pnet_zipformat.pt")) {
        truncations("fixtures/mtcnn/pnet.pt", 2100, 0);
        truncations("fixtures/mtcnn/pnet_zipformat.pt", 1500, 1200);
        flips("fixtures/mtcnn/pnet.pt", 2100, 0);
        flips("fixtures/mtcnn/pnet_zipformat.pt", 1500, 1200);   /* the central directory is at the end */
        zip_pickle_crc();
    } else {
        t_not_checked("truncations and flips of pnet.pt in both layouts (neither the reference data's "
                      "fixtures/mtcnn/pnet.pt nor models/pnet.tflite is there)");
    }
    odd_files();
    if (scratch_fd >= 0) close(scratch_fd);
    return T_DONE();
}
