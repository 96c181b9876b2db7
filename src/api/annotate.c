/* annotate.c — drawing recognition results onto images for people to look
 * at: a box per face with its name underneath. */
#include "facenet.h"

#include "image/draw.h"

void fn_image_draw_face(fn_image *img, const fn_face *f, const char *label, int known)
{
    static const fn_rgb green = {40, 200, 60}, red = {220, 40, 40}, white = {255, 255, 255};
    int side = img->w < img->h ? img->w : img->h;
    int thickness = side >= 1200 ? 4 : side >= 500 ? 3 : 2;
    int scale = side >= 1600 ? 4 : side >= 800 ? 3 : 2;
    fn_draw_face_box(img, (int)f->box[0], (int)f->box[1], (int)f->box[2], (int)f->box[3], label, thickness, scale,
                     known ? green : red, white);
}
