/* tflite.h — a minimal, bounds-checked reader of TFLite flatbuffers.
 * Owns: the parse of Model -> subgraph 0 -> tensors, buffers, operators into
 * plain C structs, and the conversion of constant tensors to fn_weights.
 * It runs nothing: networks are C code that bind weights by tensor name and
 * may walk the operator list to check their own structure.
 */
#ifndef FN_IO_TFLITE_H
#define FN_IO_TFLITE_H

#include <stddef.h>
#include <stdint.h>
#include "facenet.h"
#include "io/weights.h"

/* TensorType values from the schema (only these are dequantised). */
enum {
    FN_TFL_FLOAT32 = 0, FN_TFL_FLOAT16 = 1, FN_TFL_INT32 = 2, FN_TFL_UINT8 = 3,
    FN_TFL_INT64 = 4, FN_TFL_INT16 = 7, FN_TFL_INT8 = 9
};

/* BuiltinOperator codes we name (the schema defines many more). */
enum {
    FN_TFL_ADD = 0, FN_TFL_AVERAGE_POOL_2D = 1, FN_TFL_CONCATENATION = 2, FN_TFL_CONV_2D = 3,
    FN_TFL_DEPTHWISE_CONV_2D = 4, FN_TFL_DEQUANTIZE = 6, FN_TFL_FULLY_CONNECTED = 9,
    FN_TFL_L2_NORMALIZATION = 11, FN_TFL_LOGISTIC = 14, FN_TFL_MAX_POOL_2D = 17, FN_TFL_MUL = 18,
    FN_TFL_RELU = 19, FN_TFL_RELU6 = 21, FN_TFL_RESHAPE = 22, FN_TFL_SOFTMAX = 25,
    FN_TFL_PAD = 34, FN_TFL_TRANSPOSE = 39, FN_TFL_MEAN = 40, FN_TFL_SUB = 41, FN_TFL_DIV = 42,
    FN_TFL_SQUEEZE = 43, FN_TFL_STRIDED_SLICE = 45, FN_TFL_PRELU = 54, FN_TFL_MAXIMUM = 55,
    FN_TFL_RSQRT = 76, FN_TFL_SQRT = 75, FN_TFL_SUM = 74, FN_TFL_LEAKY_RELU = 98,
    FN_TFL_EXP = 47, FN_TFL_NEG = 59, FN_TFL_REDUCE_MAX = 82, FN_TFL_ABS = 101
};

enum { FN_TFL_PAD_SAME = 0, FN_TFL_PAD_VALID = 1 };
enum { FN_TFL_ACT_NONE = 0, FN_TFL_ACT_RELU = 1, FN_TFL_ACT_RELU_N1_TO_1 = 2,
       FN_TFL_ACT_RELU6 = 3, FN_TFL_ACT_TANH = 4 };

typedef struct fn_tfl_tensor {
    char *name;
    int type;                   /* FN_TFL_FLOAT32, ... */
    int ndim;
    int32_t shape[FN_MAX_DIMS];
    const uint8_t *data;        /* constant contents inside the model, or NULL */
    size_t bytes;
    /* Affine quantisation real = scale * (q - zero_point), per channel
     * along quant_dim when nquant > 1. */
    int nquant;
    float *scale;
    int64_t *zero_point;
    int quant_dim;
} fn_tfl_tensor;

/* Options of the operators we parse; fields an op does not have stay 0
 * (dilations default to 1 as in the schema). */
typedef struct fn_tfl_options {
    int padding;                /* FN_TFL_PAD_SAME / _VALID */
    int stride_w, stride_h;
    int dilation_w, dilation_h;
    int depth_multiplier;
    int filter_w, filter_h;     /* pools */
    int activation;             /* fused activation, FN_TFL_ACT_* */
    int axis;                   /* concatenation */
    int keep_dims;              /* mean / reducers */
    float beta;                 /* softmax */
    float alpha;                /* leaky relu */
} fn_tfl_options;

typedef struct fn_tfl_op {
    int code;                   /* BuiltinOperator, e.g. FN_TFL_CONV_2D */
    int version;
    char *custom;               /* custom operator name, else NULL */
    int nin, nout;
    int32_t *inputs, *outputs;  /* tensor indices, -1 = optional input absent */
    fn_tfl_options opt;
} fn_tfl_op;

typedef struct fn_tfl_model {
    char *path;                 /* for messages */
    uint32_t version;           /* schema version (3) */
    int nsubgraphs;             /* only subgraph 0 is read */
    int ntensors, nops, ninputs, noutputs;
    fn_tfl_tensor *tensors;
    fn_tfl_op *ops;
    int32_t *inputs, *outputs;  /* graph inputs/outputs (tensor indices) */
    uint8_t *file;              /* owned copy of the file bytes */
    size_t size;
} fn_tfl_model;

/* Read and parse a .tflite file. */
fn_status fn_tfl_open(const char *path, fn_tfl_model **out);
/* Parse bytes already in memory (copied); label names them in messages. */
fn_status fn_tfl_parse(const void *bytes, size_t size, const char *label, fn_tfl_model **out);
void fn_tfl_free(fn_tfl_model *m);

/* Every constant tensor (one with data) as float32, keyed by tensor name:
 * float16 widened, int8/uint8/int16/int32 with quantisation parameters
 * dequantised.  Integer tensors without quantisation (reshape shapes,
 * paddings, axes) are graph structure and are left out. */
fn_status fn_tfl_weights(const fn_tfl_model *m, fn_weights **out);
/* fn_tfl_open + fn_tfl_weights. */
fn_status fn_weights_load_tflite(const char *path, fn_weights **out);

/* Schema name of a builtin operator ("CONV_2D"), or "OP_<n>". */
const char *fn_tfl_op_name(int code, char buf[16]);
/* Index of the tensor with this exact name, or -1. */
int fn_tfl_find_tensor(const fn_tfl_model *m, const char *name);

#endif
