/* fuzz_pairs.c — libFuzzer target: LFW pair lists (pairs.txt, pairsDevTest.txt).
 * Properties: no crash/leak; a failure names the input; a success has the
 * counts its header promised (View 1: N same + N different; View 2: S sets
 * of P + P), folds in range and non-empty paths.
 */
#include "fuzz_util.h"
#include "core/error.h"
#include "eval/pairs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fn_clear_error();
    fn_pairs *p = NULL;
    fn_status s = fn_pairs_parse((const char *)data, size, "fuzz.txt", &p);
    fz_check_failure(s, "fn_pairs_parse");
    if (s != FN_OK) {
        FZ_ASSERT(p == NULL);
        FZ_ASSERT(strstr(fn_last_error(), "fuzz.txt") != NULL);
        return 0;
    }
    FZ_ASSERT(p->view == 1 || p->view == 2);
    FZ_ASSERT(p->n == (size_t)p->nfolds * p->per_set * 2);
    FZ_ASSERT(fn_pairs_count_same(p) * 2 == p->n);
    for (size_t i = 0; i < p->n; i++) {
        const fn_pair *q = &p->items[i];
        FZ_ASSERT(q->path1 && q->path2 && q->path1[0] && q->path2[0]);
        FZ_ASSERT(q->fold >= 0 && q->fold < p->nfolds);
        FZ_ASSERT(q->same == 0 || q->same == 1);
    }
    fn_pairs_free(p);
    return 0;
}
