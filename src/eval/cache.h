/* cache.h — part of the eval module; its interface is public and lives in
 * include/facenet/eval.h (this header stays for the module's own files).
 */
#ifndef FN_EVAL_CACHE_H
#define FN_EVAL_CACHE_H

#include "facenet/eval.h"

#endif
