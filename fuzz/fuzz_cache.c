/* fuzz_cache.c — libFuzzer target: the embedding cache file (FACENET_CACHE,
 * an SQLite file the CLI opens for eval/calibrate): open, look entries up,
 * add one, close.
 * Properties: no crash/leak; a failure has a message (a plain miss is
 * FN_ERR_NOT_FOUND without one); an entry read back has a sane dimension.
 */
#include "fuzz_util.h"
#include "core/error.h"
#include "eval/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fz_write_tmp(data, size, ".cache.db", path, sizeof path);
    fn_clear_error();
    fn_cache *c = NULL;
    fn_status s = fn_cache_open(path, &c);
    fz_check_failure(s, "fn_cache_open");
    if (s == FN_OK) {
        static const char *const keys[] = {"k0", "k1", "k2", "missing"};
        float emb[64];
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
            fn_cache_entry e;
            fn_clear_error();
            s = fn_cache_get(c, keys[i], "m", &e, emb, 64);
            if (s != FN_ERR_NOT_FOUND) fz_check_failure(s, "fn_cache_get");
            if (s == FN_OK && e.has_face) FZ_ASSERT(e.dim > 0 && e.dim <= 64);
        }
        fn_cache_entry put = {1, {1, 2, 3, 4}, 0.9f, 4};
        const float v[4] = {1, 0, 0, 0};
        fn_clear_error();
        s = fn_cache_put(c, "new", "m", &put, v);
        fz_check_failure(s, "fn_cache_put");
        fn_clear_error();
        s = fn_cache_close(c);
        fz_check_failure(s, "fn_cache_close");
    } else {
        FZ_ASSERT(c == NULL);
    }
    fz_unlink(path);
    return 0;
}
