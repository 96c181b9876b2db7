/* facenet.h — the whole public API of libfacenet.
 *
 * Face recognition on the FaceNet pipeline: detect (MTCNN) -> align -> embed
 * (InceptionResnetV1 or MobileFaceNet) -> match (gallery).  Handles are opaque;
 * every call returns an fn_status, and fn_last_error() gives a sentence that
 * names the file and the problem of the last failure on the calling thread.
 */
#ifndef FACENET_H
#define FACENET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fn_status {
    FN_OK = 0,
    FN_ERR_ARG,       /* a caller passed something invalid */
    FN_ERR_IO,        /* a file could not be opened, read or written */
    FN_ERR_FORMAT,    /* a file is not what it claims, or is truncated/corrupt */
    FN_ERR_UNSUPPORTED, /* valid file, but a feature we do not handle */
    FN_ERR_LIMIT,     /* input exceeds a safety limit (image size, tensor size) */
    FN_ERR_NOMEM,
    FN_ERR_MODEL,     /* weights do not fit the network (missing tensor, shape) */
    FN_ERR_DB,        /* gallery database error */
    FN_ERR_MISMATCH,  /* e.g. gallery built by another model */
    FN_ERR_NOT_FOUND,
    FN_ERR_INTERNAL
} fn_status;

/* The human sentence for the last failure on this thread ("" if none). */
const char *fn_last_error(void);
/* A short constant name for a status code. */
const char *fn_status_name(fn_status s);

#ifdef __cplusplus
}
#endif
#endif
