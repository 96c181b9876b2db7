/* irv1_random.h — a random-weight InceptionResnetV1 with facenet-pytorch's
 * state_dict key names and shapes, made in memory, for tests that run
 * without the reference data's checkpoint.  Deterministic for a seed.
 */
#ifndef FN_TESTS_IRV1_RANDOM_H
#define FN_TESTS_IRV1_RANDOM_H

#include "io/weights.h"

/* Every float tensor of facenet-pytorch's InceptionResnetV1 (classify head
 * of `classes` classes: 8631 for VGGFace2), in its state_dict order: conv
 * weights uniform with variance 1/fan_in, batch-norm statistics near
 * (mean 0, var 1).  NULL if out of memory. */
fn_weights *t_irv1_random(unsigned seed, int classes);

#endif
