/* The fn_weights builder and lookups every loader shares: sizing, alignment,
 * name index, duplicate names, and the two messages networks rely on. */
#include <stdint.h>
#include <string.h>

#include "t.h"
#include "core/error.h"
#include "io/weights.h"

static void test_build_and_find(void)
{
    static const char *names[] = {"b.weight", "a.bias", "c", "a.weight"};
    static const int64_t shapes[][2] = {{2, 3}, {3, 0}, {1, 1}, {4, 1}};
    size_t data = 0, name_bytes = 0;
    for (int i = 0; i < 4; i++) {
        data += fn_arena_round((size_t)(shapes[i][0] * shapes[i][1]) * sizeof(float));
        name_bytes += strlen(names[i]) + 1;
    }
    fn_weights *w = NULL;
    T_CHECK(fn_weights_create("model.bin", 4, data, name_bytes, &w) == FN_OK, "%s", fn_last_error());
    if (!w) return;
    for (int i = 0; i < 4; i++) {
        float *dst = NULL;
        T_CHECK(fn_weights_add(w, names[i], strlen(names[i]), 2, shapes[i], &dst) == FN_OK, "%s", fn_last_error());
        T_CHECK(dst && (uintptr_t)dst % FN_ALIGN == 0, "%s: data not aligned", names[i]);
        for (int64_t k = 0; dst && k < shapes[i][0] * shapes[i][1]; k++) dst[k] = (float)(10 * i + k);
    }
    float *extra;
    const int64_t one[1] = {1};
    T_CHECK(fn_weights_add(w, "x", 1, 1, one, &extra) == FN_ERR_INTERNAL, "adding past the reservation");
    T_CHECK(fn_weights_seal(w) == FN_OK, "%s", fn_last_error());
    /* File order is kept; lookups go through the sorted index. */
    T_CHECK(strcmp(w->tensors[0].name, "b.weight") == 0 && w->by_name != NULL, "order/index");
    for (int i = 0; i < 4; i++) {
        const fn_wtensor *t = fn_weights_find(w, names[i]);
        T_CHECK(t && strcmp(t->name, names[i]) == 0 && t->numel == shapes[i][0] * shapes[i][1], "find %s", names[i]);
        T_CHECK(t && (t->numel == 0 || t->data[t->numel - 1] == (float)(10 * i + t->numel - 1)), "%s data", names[i]);
    }
    T_CHECK(fn_weights_find(w, "a") == NULL && fn_weights_find(w, "d") == NULL && fn_weights_find(w, "") == NULL, "absent names");
    const fn_wtensor *t;
    const int64_t want[3] = {2, 3, 1};
    T_CHECK(fn_weights_get(w, "b.weight", 3, want, &t) == FN_ERR_MODEL && !t, "ndim mismatch accepted");
    T_CHECK(strcmp(fn_last_error(), "model.bin: tensor b.weight has shape [2, 3], expected [2, 3, 1]") == 0, "%s", fn_last_error());
    T_CHECK(fn_weights_get(w, "conv9.weight", 0, NULL, &t) == FN_ERR_MODEL && !t, "missing accepted");
    T_CHECK(strcmp(fn_last_error(), "model.bin: no tensor conv9.weight (is this a checkpoint of the right network?)") == 0,
            "%s", fn_last_error());
    T_CHECK(fn_weights_get(w, "b.weight", 2, want, &t) == FN_OK && t == &w->tensors[0], "exact shape refused");
    fn_weights_free(w);
}

static void test_duplicates_and_empty(void)
{
    fn_weights *w = NULL;
    const int64_t s[1] = {1};
    float *d;
    T_CHECK(fn_weights_create("dup.pt", 2, 2 * FN_ALIGN, 4, &w) == FN_OK, "%s", fn_last_error());
    if (w) {
        fn_weights_add(w, "a", 1, 1, s, &d);
        fn_weights_add(w, "a", 1, 1, s, &d);
        T_CHECK(fn_weights_seal(w) == FN_ERR_FORMAT && strcmp(fn_last_error(), "dup.pt: tensor a appears twice") == 0, "%s",
                fn_last_error());
        fn_weights_free(w);
    }
    T_CHECK(fn_weights_create("none.pt", 0, 0, 0, &w) == FN_OK && fn_weights_seal(w) == FN_OK, "%s", fn_last_error());
    T_CHECK(w && w->count == 0 && fn_weights_find(w, "a") == NULL, "empty set");
    fn_weights_free(w);
    fn_weights_free(NULL);
}

/* Sets big enough for their own huge-page mapping behave the same. */
static void test_large(void)
{
    fn_weights *w = NULL;
    const int64_t s[1] = {4 << 20};   /* 16 MiB */
    float *d;
    T_CHECK(fn_weights_create("big.pt", 1, fn_arena_round(16u << 20), 2, &w) == FN_OK, "%s", fn_last_error());
    if (!w) return;
    T_CHECK(fn_weights_add(w, "x", 1, 1, s, &d) == FN_OK && (uintptr_t)d % FN_ALIGN == 0, "%s", fn_last_error());
    d[0] = 1;
    d[s[0] - 1] = 2;
    T_CHECK(w->map != NULL, "large set not separately mapped");
    T_CHECK(fn_weights_seal(w) == FN_OK && fn_weights_find(w, "x")->data[s[0] - 1] == 2, "large set lookup");
    fn_weights_free(w);
}

int main(void)
{
    test_build_and_find();
    test_duplicates_and_empty();
    test_large();
    return T_DONE();
}
