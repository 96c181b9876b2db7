/* pt_write.h — writes PyTorch checkpoints byte by byte for tests: both
 * layouts (legacy torch.save and the zip of PyTorch >= 1.6), tensors over
 * storages as described below, pickle protocol 2 or 4.  Also saves a whole
 * fn_weights (e.g. the bundle's MTCNN) as a .pt, for tests that need a real
 * checkpoint without the reference data.
 */
#ifndef FN_TESTS_PT_WRITE_H
#define FN_TESTS_PT_WRITE_H

#include <stddef.h>

#include "io/weights.h"

typedef struct buf { unsigned char *p; size_t n, cap; } buf;

/* ---- checkpoints described as tensors over storages ---- */

typedef struct st_desc {
    const char *key, *type;     /* type: "FloatStorage", "DoubleStorage", "LongStorage" */
    int elsize;
    long numel;
    const void *data;
} st_desc;

typedef struct t_desc {
    const char *name;
    int storage;
    long offset;
    int ndim;
    long shape[4], stride[4];
    int parameter;              /* wrap in _rebuild_parameter */
    long view[2];               /* legacy storage view (offset, size); size 0 = none */
} t_desc;

typedef struct ckpt {
    const st_desc *st; int nst;
    const t_desc *t; int nt;
    int legacy, proto4;
    const char *extra_global;   /* an extra GLOBAL as the first value, e.g. "os\nsystem" */
    int root_is_list;
} ckpt;

typedef struct zip_opts { int method; int zip64_extra; int zip64_eocd; const char *byteorder; } zip_opts;

/* The first bytes of a legacy torch.save file (magic number, protocol). */
extern const unsigned char ptw_legacy_magic[15];
void ptw_put(buf *b, const void *src, size_t n);
void ptw_put1(buf *b, int v);
void ptw_put_str(buf *b, const char *s);
void ptw_write_legacy(buf *out, const ckpt *c);
void ptw_write_zip(buf *out, const ckpt *c, const zip_opts *o);
/* Saves every tensor of w (float32, contiguous, one storage each, in w's
 * order) to path as a state_dict: legacy layout if legacy, else zip.
 * Returns 0, or -1 with errno (file) set. */
int ptw_save_weights(const fn_weights *w, const char *path, int legacy);
/* facenet-pytorch's MTCNN checkpoint NET ("pnet", "rnet", "onet"), legacy
 * (zip 0) or zip layout: the reference data's fixtures/mtcnn/NET.pt or
 * NET_zipformat.pt if present; else the model bundle's NET.tflite (the same
 * numbers under the same names) written here as such a file, after a
 * t_not_checked line saying so.  NULL if neither is there. */
const char *ptw_mtcnn_pt(const char *net, int zip);

#endif
