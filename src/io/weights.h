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
    /* Filled by the builder below; loaders need not touch them. */
    int capacity;               /* tensors reserved by fn_weights_create */
    int *by_name;               /* indices sorted by name (NULL: linear search) */
    char *names_next, *names_end;
    void *map;                  /* the arena's own mapping when it is large (else NULL) */
    size_t map_len;
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

/* For loaders: size everything first, then fill, so that one arena holds it
 * all.  data_bytes is the sum of fn_arena_round(numel * sizeof(float)) over
 * the tensors, name_bytes the sum of (name length + 1). */
fn_status fn_weights_create(const char *path, int count, size_t data_bytes, size_t name_bytes,
                            fn_weights **out);
/* Append a tensor (ndim 0..FN_MAX_DIMS) and get its aligned, uninitialised data. */
fn_status fn_weights_add(fn_weights *w, const char *name, size_t name_len, int ndim,
                         const int64_t *shape, float **data);
/* Index the names for lookup; fails (FN_ERR_FORMAT) if a name repeats. */
fn_status fn_weights_seal(fn_weights *w);

#endif
