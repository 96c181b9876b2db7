#include "eval/svg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/textbuf.h"

#define PLOT_W (FN_SVG_PANEL_W - FN_SVG_MARGIN_L - FN_SVG_MARGIN_R)
#define PLOT_H (FN_SVG_PANEL_H - FN_SVG_MARGIN_T - FN_SVG_MARGIN_B)
#define GENUINE_COLOR "#1b7837"
#define IMPOSTOR_COLOR "#b2182b"

/* A plot area: data ranges mapped onto a pixel box, x optionally log10. */
typedef struct frame {
    double px, py;            /* top-left of the plot area */
    double x0, x1, y0, y1;    /* data range (x in log10 units when logx) */
    int logx;
} frame;

static double fx(const frame *f, double x)
{
    if (f->logx) x = x > 0.0 ? log10(x) : f->x0;
    if (x < f->x0) x = f->x0;
    return f->px + (x - f->x0) / (f->x1 - f->x0) * PLOT_W;
}

static double fy(const frame *f, double y)
{
    return f->py + PLOT_H - (y - f->y0) / (f->y1 - f->y0) * PLOT_H;
}

static void put_escaped(fn_textbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fn_tb_printf(b, "&lt;"); break;
        case '>': fn_tb_printf(b, "&gt;"); break;
        case '&': fn_tb_printf(b, "&amp;"); break;
        case '"': fn_tb_printf(b, "&quot;"); break;
        default:
            if ((unsigned char)*s >= 32) fn_tb_printf(b, "%c", *s);
        }
    }
}

static void roc_frame(const fn_svg_plot *p, frame *f)
{
    f->px = FN_SVG_MARGIN_L;
    f->py = FN_SVG_MARGIN_T;
    f->y0 = 0.0; f->y1 = 1.0;
    f->logx = p->log_far;
    if (!p->log_far) { f->x0 = 0.0; f->x1 = 1.0; return; }
    double n = p->roc && p->roc->n_impostor ? (double)p->roc->n_impostor : 10.0;
    double e = floor(log10(1.0 / n));
    f->x0 = e < 0.0 ? e : -1.0;
    f->x1 = 0.0;
}

void fn_svg_roc_xy(const fn_svg_plot *p, double far, double tar, double *x, double *y)
{
    frame f;
    roc_frame(p, &f);
    *x = fx(&f, far);
    *y = fy(&f, tar);
}

static void axes_box(fn_textbuf *b, const frame *f)
{
    fn_tb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n",
                 f->px, f->py, PLOT_W, PLOT_H);
}

static void x_tick(fn_textbuf *b, double x, double ybottom, const char *label)
{
    fn_tb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x, ybottom, x, ybottom + 5);
    fn_tb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, ybottom + 18, label);
}

static void y_tick(fn_textbuf *b, double y, double xleft, const char *label)
{
    fn_tb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", xleft - 5, y, xleft, y);
    fn_tb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", xleft - 8, y + 4, label);
}

static void grid_line(fn_textbuf *b, double x1, double y1, double x2, double y2)
{
    fn_tb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x1, y1, x2, y2);
}

static void axis_labels(fn_textbuf *b, const frame *f, const char *xl, const char *yl, const char *title)
{
    double cx = f->px + PLOT_W / 2.0, cy = f->py + PLOT_H / 2.0;
    fn_tb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", cx, f->py + PLOT_H + 40, xl);
    fn_tb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
                 f->px - 46, cy, f->px - 46, cy, yl);
    fn_tb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n",
                 cx, f->py - 22, title);
}

static void roc_ticks(fn_textbuf *b, const frame *f)
{
    char label[32];
    for (int i = 0; i <= 5; i++) {
        double v = i * 0.2;
        snprintf(label, sizeof label, "%.1f", v);
        grid_line(b, f->px, fy(f, v), f->px + PLOT_W, fy(f, v));
        y_tick(b, fy(f, v), f->px, label);
        if (!f->logx) {
            grid_line(b, fx(f, v), f->py, fx(f, v), f->py + PLOT_H);
            x_tick(b, fx(f, v), f->py + PLOT_H, label);
        }
    }
    for (int e = (int)f->x0; f->logx && e <= 0; e++) {
        double v = pow(10.0, e);
        snprintf(label, sizeof label, e == 0 ? "1" : "1e%d", e);
        grid_line(b, fx(f, v), f->py, fx(f, v), f->py + PLOT_H);
        x_tick(b, fx(f, v), f->py + PLOT_H, label);
    }
}

/* The curve, skipping points closer than half a pixel to the last one drawn
 * (a ROC has one point per distinct distance; a screen needs far fewer). */
static void roc_curve(fn_textbuf *b, const frame *f, const fn_roc *r)
{
    double lx = -1e9, ly = -1e9;
    fn_tb_printf(b, "<polyline class=\"roc\" fill=\"none\" stroke=\"#2166ac\" stroke-width=\"2\" points=\"");
    for (size_t i = 0; i < r->n; i++) {
        double x = fx(f, r->far[i]), y = fy(f, r->tar[i]);
        if (i + 1 < r->n && i > 0 && fabs(x - lx) < 0.5 && fabs(y - ly) < 0.5) continue;
        fn_tb_printf(b, "%s%.2f,%.2f", i ? " " : "", x, y);
        lx = x; ly = y;
    }
    fn_tb_printf(b, "\"/>\n");
}

/* A point on the curve, explained in a key at the bottom right of the plot
 * (where a ROC never is), so labels of nearby points cannot collide. */
static void marker(fn_textbuf *b, const frame *f, double x, double y, int slot, const char *color, const char *label)
{
    double kx = f->px + PLOT_W - 250, ky = f->py + PLOT_H - 16 - 18 * slot;
    fn_tb_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\"/>\n", x, y, color);
    fn_tb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", kx, ky - 4, color);
    fn_tb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", kx + 10, ky, label);
}

static void roc_panel(fn_textbuf *b, const fn_svg_plot *p)
{
    frame f;
    roc_frame(p, &f);
    const fn_roc *r = p->roc;
    fn_tb_printf(b, "<g class=\"roc-panel\">\n");
    roc_ticks(b, &f);
    axes_box(b, &f);
    if (!f.logx)
        fn_tb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
                     fx(&f, 0), fy(&f, 0), fx(&f, 1), fy(&f, 1));
    roc_curve(b, &f, r);
    char label[96];
    if (p->show_eer) {
        fn_eer e = fn_roc_eer(r);
        snprintf(label, sizeof label, "EER %.4f, threshold %.4f", e.eer, e.thr);
        marker(b, &f, fx(&f, e.eer), fy(&f, 1.0 - e.eer), p->mark ? 1 : 0, "#762a83", label);
    }
    if (p->mark) {
        snprintf(label, sizeof label, "TAR %.4f @ FAR %.2g, threshold %.4f", p->mark->tar, p->mark->far, p->mark->thr);
        marker(b, &f, fx(&f, p->mark->far), fy(&f, p->mark->tar), 0, "#e08214", label);
    }
    snprintf(label, sizeof label, "ROC (AUC %.4f, %zu genuine, %zu impostor)", fn_roc_auc(r), r->n_genuine, r->n_impostor);
    axis_labels(b, &f, f.logx ? "false accept rate (log scale)" : "false accept rate", "true accept rate", label);
    fn_tb_printf(b, "</g>\n");
}

static double hist_top(const fn_histogram *h)
{
    double top = 0.0;
    for (int i = 0; i < h->bins; i++) {
        if (h->n_genuine) top = fmax(top, (double)h->genuine[i] / h->n_genuine);
        if (h->n_impostor) top = fmax(top, (double)h->impostor[i] / h->n_impostor);
    }
    return top > 0.0 ? top : 1.0;
}

/* One population as bars of its share per bin (shares, not counts: impostor
 * pairs outnumber genuine ones by orders of magnitude). */
static void hist_bars(fn_textbuf *b, const frame *f, const fn_histogram *h, const size_t *c, size_t n,
                      const char *color, const char *cls)
{
    fn_tb_printf(b, "<g class=\"%s\" fill=\"%s\" fill-opacity=\"0.45\" stroke=\"%s\">\n", cls, color, color);
    for (int i = 0; n && i < h->bins; i++) {
        if (!c[i]) continue;
        double x0 = fx(f, h->lo + i * h->width), x1 = fx(f, h->lo + (i + 1) * h->width);
        double y = fy(f, (double)c[i] / n);
        fn_tb_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n", x0, y, x1 - x0, fy(f, 0) - y);
    }
    fn_tb_printf(b, "</g>\n");
}

static void hist_ticks(fn_textbuf *b, const frame *f)
{
    char label[32];
    double xs = fn_nice_step(f->x1 - f->x0, 6), ys = fn_nice_step(f->y1 - f->y0, 5);
    int xd = xs >= 1 ? 0 : (int)ceil(-log10(xs) - 1e-9), yd = ys >= 1 ? 0 : (int)ceil(-log10(ys) - 1e-9);
    for (double v = ceil(f->x0 / xs - 1e-9) * xs; v <= f->x1 + xs * 1e-6; v += xs) {
        snprintf(label, sizeof label, "%.*f", xd, fabs(v) < xs * 1e-6 ? 0.0 : v);
        x_tick(b, fx(f, v), f->py + PLOT_H, label);
    }
    for (double v = 0.0; v <= f->y1 + ys * 1e-6; v += ys) {
        snprintf(label, sizeof label, "%.*f", yd, v);
        grid_line(b, f->px, fy(f, v), f->px + PLOT_W, fy(f, v));
        y_tick(b, fy(f, v), f->px, label);
    }
}

/* The key sits on the axis-label line, outside the bars it explains. */
static void legend(fn_textbuf *b, const frame *f, const fn_histogram *h)
{
    double y = f->py + PLOT_H + 30;
    fn_tb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\" fill-opacity=\"0.45\"/>\n",
                 f->px - 40, y, GENUINE_COLOR);
    fn_tb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">genuine (%zu)</text>\n", f->px - 24, y + 10, h->n_genuine);
    fn_tb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\" fill-opacity=\"0.45\"/>\n",
                 f->px + PLOT_W - 12, y, IMPOSTOR_COLOR);
    fn_tb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">impostor (%zu)</text>\n", f->px + PLOT_W - 16,
                 y + 10, h->n_impostor);
}

static void hist_panel(fn_textbuf *b, const fn_svg_plot *p, double offset_x)
{
    const fn_histogram *h = p->hist;
    frame f = {offset_x + FN_SVG_MARGIN_L, FN_SVG_MARGIN_T, h->lo, h->hi, 0.0, hist_top(h) * 1.1, 0};
    fn_tb_printf(b, "<g class=\"hist-panel\">\n");
    hist_ticks(b, &f);
    hist_bars(b, &f, h, h->impostor, h->n_impostor, IMPOSTOR_COLOR, "impostor");
    hist_bars(b, &f, h, h->genuine, h->n_genuine, GENUINE_COLOR, "genuine");
    axes_box(b, &f);
    if (!isnan(p->thr) && p->thr >= h->lo && p->thr <= h->hi) {
        double x = fx(&f, p->thr);
        fn_tb_printf(b, "<line class=\"threshold\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#000\" "
                     "stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>\n", x, f.py, x, f.py + PLOT_H);
        fn_tb_printf(b, "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\">threshold %.4f</text>\n", x, f.py - 5, p->thr);
    }
    legend(b, &f, h);
    axis_labels(b, &f, "distance", "share of pairs per bin", "distance distributions");
    fn_tb_printf(b, "</g>\n");
}

static fn_status check_plot(const fn_svg_plot *p)
{
    if (!p || (!p->roc && !p->hist)) return fn_fail(FN_ERR_ARG, "svg: nothing to plot (no ROC, no histogram)");
    if (p->roc && (p->roc->n < 2 || !p->roc->far || !p->roc->tar)) return fn_fail(FN_ERR_ARG, "svg: empty ROC");
    if (p->hist && (p->hist->bins < 1 || p->hist->bins > FN_HIST_MAX_BINS || !(p->hist->hi > p->hist->lo)))
        return fn_fail(FN_ERR_ARG, "svg: histogram not computed");
    return FN_OK;
}

fn_status fn_svg_render(const fn_svg_plot *p, char **out)
{
    *out = NULL;
    FN_TRY(check_plot(p));
    int panels = (p->roc != NULL) + (p->hist != NULL);
    int w = panels * FN_SVG_PANEL_W, h = FN_SVG_PANEL_H + (p->title ? 30 : 0);
    fn_textbuf b = {0};
    fn_tb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fn_tb_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "font-family=\"sans-serif\" font-size=\"12\">\n", w, h, w, h);
    fn_tb_printf(&b, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", w, h);
    if (p->title) {
        fn_tb_printf(&b, "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">", w / 2);
        put_escaped(&b, p->title);
        fn_tb_printf(&b, "</text>\n<g transform=\"translate(0 30)\">\n");
    } else {
        fn_tb_printf(&b, "<g>\n");
    }
    if (p->roc) roc_panel(&b, p);
    if (p->hist) hist_panel(&b, p, p->roc ? FN_SVG_PANEL_W : 0);
    fn_tb_printf(&b, "</g>\n</svg>\n");
    return fn_tb_finish(&b, out);
}

fn_status fn_svg_write(const char *path, const fn_svg_plot *p)
{
    char *text;
    FN_TRY(fn_svg_render(p, &text));
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(text);
        return fn_fail(FN_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, f) == len;
    ok &= fclose(f) == 0;
    free(text);
    return ok ? FN_OK : fn_fail(FN_ERR_IO, "%s: write failed", path);
}
