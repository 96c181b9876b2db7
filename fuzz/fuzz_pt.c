/* fuzz_pt.c — libFuzzer target: PyTorch checkpoints (.pt), both the legacy
 * layout (pickles + raw storages) and the zip layout, through the public
 * loader (which takes a path: the input goes to a scratch file).
 * Properties: no crash/leak; a failure has a message; a success gives
 * tensors whose every float is readable and whose numel matches the shape.
 */
#include "fuzz_util.h"
#include "core/error.h"
#include "io/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fz_write_tmp(data, size, ".pt", path, sizeof path);
    fn_clear_error();
    fn_weights *w = NULL;
    fn_status s = fn_weights_load_pt(path, &w);
    fz_check_failure(s, "fn_weights_load_pt");
    if (s == FN_OK) {
        FZ_ASSERT(w != NULL);
        for (int i = 0; i < w->count; i++) {
            const fn_wtensor *t = &w->tensors[i];
            int64_t n = 1;
            FZ_ASSERT(t->ndim >= 0 && t->ndim <= FN_MAX_DIMS);
            for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
            FZ_ASSERT(n == t->numel);
            FZ_ASSERT(fn_weights_find(w, t->name) != NULL);
            fz_touch(t->data, t->numel);
        }
        fn_weights_free(w);
    } else {
        FZ_ASSERT(w == NULL);
    }
    fz_unlink(path);
    return 0;
}
