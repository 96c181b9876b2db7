/* svg.h — hand-written SVG plots of an evaluation: the ROC curve and the
 * genuine/impostor distance histograms with the threshold line.
 * Owns: layout and drawing; takes computed fn_roc / fn_histogram, no metrics.
 * Numbers are printed with printf's %f, so the C locale's '.' is assumed.
 */
#ifndef FN_EVAL_SVG_H
#define FN_EVAL_SVG_H

#include "facenet.h"
#include "eval/calib.h"
#include "eval/metrics.h"

/* Each panel is FN_SVG_PANEL_W x FN_SVG_PANEL_H pixels; panels sit side by
 * side (ROC first).  The plot area inside a panel leaves these margins. */
#define FN_SVG_PANEL_W 480
#define FN_SVG_PANEL_H 400
#define FN_SVG_MARGIN_L 64
#define FN_SVG_MARGIN_R 20
#define FN_SVG_MARGIN_T 40
#define FN_SVG_MARGIN_B 56

typedef struct fn_svg_plot {
    const char *title;            /* optional, escaped for XML */
    const fn_roc *roc;            /* NULL: no ROC panel */
    int log_far;                  /* ROC x axis log10(FAR); FAR = 0 sits on the left edge */
    const fn_op *mark;            /* optional operating point drawn on the ROC */
    int show_eer;                 /* draw the EER point on the ROC */
    const fn_histogram *hist;     /* NULL: no histogram panel */
    double thr;                   /* threshold line on the histogram; NaN: none */
} fn_svg_plot;

/* The whole document as a string (free() it). */
fn_status fn_svg_render(const fn_svg_plot *p, char **out);
/* The same written to path (FN_ERR_IO names the file). */
fn_status fn_svg_write(const char *path, const fn_svg_plot *p);

/* Where a ROC point (far, tar) is drawn in the ROC panel, in pixels as they
 * appear in the polyline (before the title offset), with
 * the axis the plot uses (the left end of a log axis is the decade at or
 * below 1 / n_impostor). */
void fn_svg_roc_xy(const fn_svg_plot *p, double far, double tar, double *x, double *y);

#endif
