/* mtcnn_boxes.h — box arithmetic of facenet-pytorch's detect_face.
 * Owns: the two NMS flavours (torchvision's IoU, the reference's numpy
 * 'Min'), box regression, squaring and the integer crop windows, each in the
 * float32 order of operations the reference uses (fixtures prove it).
 */
#ifndef FN_DETECT_MTCNN_BOXES_H
#define FN_DETECT_MTCNN_BOXES_H

/* A candidate: box corners, score and the regression that applies to it. */
typedef struct mt_box {
    float x1, y1, x2, y2, score;
    float reg[4];
    float pts[10];   /* landmarks x1..x5, y1..y5 (O-Net stage only) */
} mt_box;

/* torchvision.ops.nms: visit by descending score (ties: earlier first),
 * drop boxes whose IoU (areas without +1) with a kept one exceeds thr.
 * keep[] gets the kept indices in visiting order; returns their count.
 * order: 3n ints of scratch. */
int fn_mt_nms_union(const mt_box *b, int n, double thr, int *keep, int *order);
/* The reference's nms_numpy(..., 'Min'): areas with +1, overlap is
 * intersection over the smaller area, keep while overlap <= thr (as float32).
 * Ties in score: the later box first (numpy's argsort, last element). */
int fn_mt_nms_min(const mt_box *b, int n, float thr, int *keep, int *order);

/* Keep the cap most probable of n boxes (ties: the earlier), in their
 * original order; returns the new count.  order: 3n ints of scratch. */
int fn_mt_keep_top(mt_box *b, int n, int cap, int *order);

/* Stage-1 regression: offsets scaled by width/height without +1. */
void fn_mt_regress_pnet(mt_box *b);
/* bbreg: offsets scaled by width/height with +1. */
void fn_mt_regress(mt_box *b);
/* rerec: grow the shorter side to make a square around the same centre. */
void fn_mt_square(mt_box *b);

/* pad(): the integer crop window of a box in a w x h image, as rows
 * [y0, y1) and columns [x0, x1) (0-based).  Returns 0 if it is empty. */
int fn_mt_crop_window(const mt_box *b, int w, int h, int *x0, int *y0, int *x1, int *y1);

#endif
