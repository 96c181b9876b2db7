/* weights.h — a named set of float32 tensors, as every loader produces it.
 * Owns: the in-memory form of a checkpoint.  Loaders (.pt, .tflite) fill it;
 * networks bind their parameters from it by name and never parse files.
 * Tensors are dense, C-contiguous, row-major in the file's own axis order
 * (PyTorch: OIHW for convs; TFLite: OHWI), all in one aligned arena.
 */
#ifndef FN_IO_WEIGHTS_H
#define FN_IO_WEIGHTS_H

#include <stdint.h>
#include "core/arena.h"
#include "facenet.h"

#define FN_MAX_DIMS 6

typedef struct fn_wtensor {
    char *name;                 /* checkpoint key, e.g. "conv2d_1a.conv.weight" */
    int ndim;
    int64_t shape[FN_MAX_DIMS];
    int64_t numel;
    float *data;                /* dense, contiguous, 64-byte aligned */
} fn_wtensor;

typedef struct fn_weights {
    fn_wtensor *tensors;
    int count;
    char *path;                 /* the file they came from, for messages */
    fn_arena arena;             /* holds all tensor data (and names) */
} fn_weights;

/* PyTorch state_dict, legacy (protocol-2 pickle + raw storages) or zip format. */
fn_status fn_weights_load_pt(const char *path, fn_weights **out);
/* Look up by exact key; NULL if absent. */
const fn_wtensor *fn_weights_find(const fn_weights *w, const char *name);
/* Look up and check the shape (ndim entries); a clear error names file,
 * tensor, expected and found shapes.  shape may be NULL to skip the check. */
fn_status fn_weights_get(const fn_weights *w, const char *name, int ndim,
                         const int64_t *shape, const fn_wtensor **out);
void fn_weights_free(fn_weights *w);

#endif
