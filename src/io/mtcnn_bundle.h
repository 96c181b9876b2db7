/* mtcnn_bundle.h — MTCNN weights from the default bundle's pnet/rnet/onet.tflite.
 * Owns: the mapping from those TFLite tensors to facenet-pytorch's state_dict
 * (key names, OIHW conv layout), so the detector binds one set of names
 * whichever file the weights came from.  Knows nothing of the networks' maths.
 */
#ifndef FN_IO_MTCNN_BUNDLE_H
#define FN_IO_MTCNN_BUNDLE_H

#include "facenet.h"
#include "io/weights.h"

/* Load pnet.tflite, rnet.tflite or onet.tflite (recognised by its tensor
 * names) as the tensors of facenet-pytorch's pnet.pt / rnet.pt / onet.pt:
 * conv1.weight [O, I, kH, kW], conv1.bias, prelu1.weight, dense4.weight
 * [out, in], dense4.bias, ...  The values are identical to the .pt files'. */
fn_status fn_mtcnn_bundle_load(const char *path, fn_weights **out);

#endif
