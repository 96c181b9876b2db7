/* engine_impl.h — what an fn_engine holds: the detector, one embedding
 * model and how faces are aligned for it.  Private to src/api.
 */
#ifndef FN_API_ENGINE_IMPL_H
#define FN_API_ENGINE_IMPL_H

#include <pthread.h>

#include "facenet.h"
#include "image/resize.h"

typedef enum fn_model_kind { FN_MODEL_NONE = 0, FN_MODEL_FACENET, FN_MODEL_MOBILEFACENET } fn_model_kind;

struct fn_irv1;
struct fn_mfn;
struct fn_mtcnn;

struct fn_engine {
    fn_options opts;
    fn_model_kind kind;
    struct fn_irv1 *irv1;
    struct fn_mfn *mfn;
    struct fn_mtcnn *mtcnn;
    int dim, input_size;
    float threshold;
    char model_id[96];
    char preprocess_id[64];
    /* Alignment scratch (crop, resize, network input), reused across calls;
     * the lock keeps concurrent callers of one engine off each other's. */
    pthread_mutex_t lock;
    fn_resize_scratch resize;
    fn_image crop;
    float *input;       /* batch x 3 x size x size */
    int input_cap;      /* faces the input buffer holds */
};

#endif
