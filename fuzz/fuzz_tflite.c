/* fuzz_tflite.c — libFuzzer target: TFLite flatbuffers (the MTCNN bundle's
 * pnet/rnet/onet.tflite, MobileFaceNet.tflite): the parse, the dequantised
 * weights, and the MTCNN bundle mapping (from a scratch file).
 * Properties: no crash/leak; a failure has a message; every tensor index
 * an operator or the graph names is in range; weights are readable.
 */
#include "fuzz_util.h"
#include "core/error.h"
#include "io/mtcnn_bundle.h"
#include "io/tflite.h"

static void touch_weights(const fn_weights *w)
{
    for (int i = 0; i < w->count; i++) fz_touch(w->tensors[i].data, w->tensors[i].numel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fn_clear_error();
    fn_tfl_model *m = NULL;
    fn_status s = fn_tfl_parse(data, size, "fuzz.tflite", &m);
    fz_check_failure(s, "fn_tfl_parse");
    if (s != FN_OK) {
        FZ_ASSERT(m == NULL);
        return 0;
    }
    for (int i = 0; i < m->nops; i++) {
        const fn_tfl_op *op = &m->ops[i];
        for (int k = 0; k < op->nin; k++) FZ_ASSERT(op->inputs[k] >= -1 && op->inputs[k] < m->ntensors);
        for (int k = 0; k < op->nout; k++) FZ_ASSERT(op->outputs[k] >= -1 && op->outputs[k] < m->ntensors);
        char buf[16];
        FZ_ASSERT(fn_tfl_op_name(op->code, buf)[0] != 0);
    }
    for (int k = 0; k < m->ninputs; k++) FZ_ASSERT(m->inputs[k] >= -1 && m->inputs[k] < m->ntensors);
    for (int k = 0; k < m->noutputs; k++) FZ_ASSERT(m->outputs[k] >= -1 && m->outputs[k] < m->ntensors);
    for (int i = 0; i < m->ntensors; i++) {
        const fn_tfl_tensor *t = &m->tensors[i];
        FZ_ASSERT(t->ndim >= 0 && t->ndim <= FN_MAX_DIMS);
        if (t->data) {
            FZ_ASSERT(t->data >= m->file && t->data + t->bytes <= m->file + m->size);
            volatile uint8_t b = t->bytes ? t->data[t->bytes - 1] : 0;
            (void)b;
        }
        if (t->name) FZ_ASSERT(fn_tfl_find_tensor(m, t->name) >= 0);
    }
    fn_clear_error();
    fn_weights *w = NULL;
    s = fn_tfl_weights(m, &w);
    fz_check_failure(s, "fn_tfl_weights");
    if (s == FN_OK) {
        touch_weights(w);
        fn_weights_free(w);
    }
    fn_tfl_free(m);

    /* The bundle mapping reads a path: only worth a file when the parse passed. */
    char path[4096];
    fz_write_tmp(data, size, ".tflite", path, sizeof path);
    fn_clear_error();
    w = NULL;
    s = fn_mtcnn_bundle_load(path, &w);
    fz_check_failure(s, "fn_mtcnn_bundle_load");
    if (s == FN_OK) {
        touch_weights(w);
        fn_weights_free(w);
    }
    fz_unlink(path);
    return 0;
}
