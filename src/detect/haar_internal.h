/* haar_internal.h — the in-memory cascade and the pieces of the detector that
 * tests check one by one (XML reader, resize, window scan, grouping).
 * Owns nothing itself; only haar*.c and tests include it.
 */
#ifndef FN_DETECT_HAAR_INTERNAL_H
#define FN_DETECT_HAAR_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include "detect/haar.h"
#include "core/arena.h"

#define HAAR_MAX_RECTS 3   /* OpenCV's RECT_NUM */

typedef struct haar_feature {
    int x[HAAR_MAX_RECTS], y[HAAR_MAX_RECTS], w[HAAR_MAX_RECTS], h[HAAR_MAX_RECTS];
    float weight[HAAR_MAX_RECTS];   /* unused rects have weight 0 and an empty box */
} haar_feature;

/* A tree node: go left when feature value < threshold.  A child > 0 is a node
 * index inside the same tree; a child <= 0 names leaf -child. */
typedef struct haar_node { int left, right, feature; float threshold; } haar_node;
typedef struct haar_tree { int node0, nnodes, leaf0, nleaves; } haar_tree;
/* threshold already has OpenCV's THRESHOLD_EPS (1e-5f) subtracted. */
typedef struct haar_stage { int tree0, ntrees; float threshold; } haar_stage;

typedef struct haar_scratch haar_scratch;

/* Which window-scan code runs: the scalar stump loop, or 8/16 windows at once. */
typedef enum haar_kernel { HAAR_KERNEL_SCALAR, HAAR_KERNEL_AVX2, HAAR_KERNEL_AVX512 } haar_kernel;

struct fn_haar {
    int win_w, win_h;
    int nstages, ntrees, nnodes, nleaves, nfeatures;
    int stumps_only;              /* every tree is a single node (OpenCV's stump path) */
    haar_kernel kernel;           /* set at load to the best the CPU has; tests may lower it */
    haar_stage *stages;
    haar_tree *trees;
    haar_node *nodes;
    float *leaves;
    haar_feature *features;
    fn_arena arena;
    pthread_mutex_t pool_lock;    /* guards pool only */
    haar_scratch *pool;           /* idle scratch blocks, reused by later calls */
};

/* ---- XML (haar_xml.c): just enough of XML for OpenCV FileStorage files. */
typedef struct xml_node {
    const char *name; int name_len;
    const char *text; int text_len;   /* first run of character data */
    int first_child, next_sibling;    /* -1 when absent */
} xml_node;

typedef struct xml_doc {
    xml_node *nodes; int count, cap;
    char *buf;                        /* NUL-terminated copy of the input */
    size_t len;
} xml_doc;

fn_status fn_xml_parse(const char *name, const char *data, size_t len, xml_doc *doc);
void fn_xml_free(xml_doc *doc);
/* First child element called name, or -1. */
int fn_xml_child(const xml_doc *d, int node, const char *name);
int fn_xml_count_children(const xml_doc *d, int node);

/* ---- Pyramid level (haar.c). */
/* OpenCV's resize(INTER_LINEAR_EXACT) for one 8-bit channel. */
void fn_haar_resize_linear_exact(const uint8_t *src, int sw, int sh, int sstride,
                              uint8_t *dst, int dw, int dh, int dstride,
                              int *xofs, uint16_t *xcoef, uint16_t *line0, uint16_t *line1);
/* The same for destination rows dy0 <= dy < dy1 only, written from dst's first row. */
void fn_haar_resize_rows(const uint8_t *src, int sw, int sh, int sstride,
                      uint8_t *dst, int dw, int dh, int dy0, int dy1, int dstride,
                      int *xofs, uint16_t *xcoef, uint16_t *line0, uint16_t *line1);
/* Sum and squared-sum integral images, (w+1) x (h+1), row pitch stride entries.
 * Unsigned 32-bit with wrap-around, as OpenCV's CV_32S buffers: only
 * differences over a window are used, and those fit. */
void fn_haar_integral(const uint8_t *img, int w, int h, int istride,
                   uint32_t *sum, uint32_t *sqsum, int stride);

/* ---- Window scan (haar_scan.c). */
/* One level of the pyramid, ready to scan. */
typedef struct haar_level {
    const uint32_t *sum, *sqsum;
    int stride;                  /* entries per integral row */
    int w, h;                    /* size of the resized image */
    int ystep;                   /* 2 below scale 2, else 1 (OpenCV) */
    float scale;
} haar_level;

/* Per-feature integral offsets and weights for one integral stride. */
typedef struct haar_optfeat { int ofs[HAAR_MAX_RECTS][4]; float weight[HAAR_MAX_RECTS]; } haar_optfeat;
/* A stump with its feature folded in: what the fast scan reads per window. */
typedef struct haar_fstump {
    int ofs[HAAR_MAX_RECTS][4];
    float weight[HAAR_MAX_RECTS];
    float threshold;
    float leaf[2];            /* [0] when value < threshold, [1] otherwise */
} haar_fstump;

/* Everything about the cascade that depends on the integral stride. */
typedef struct haar_plan {
    int stride;
    int nofs[4];              /* the normalisation rect: window shrunk by 1 px per side */
    double norm_area;
    haar_optfeat *feat;       /* nfeatures */
    haar_fstump *stumps;      /* ntrees, only when the cascade is stumps_only */
} haar_plan;

size_t fn_haar_plan_bytes(const fn_haar *h);
/* Lays the plan out in mem (fn_haar_plan_bytes, aligned). */
void fn_haar_plan_build(const fn_haar *h, int stride, void *mem, haar_plan *pl);

/* OpenCV's runAt: 1 accepted, -k rejected at stage k (0 = first stage),
 * -1 also when the window is flat or out of range. */
int fn_haar_run_at(const fn_haar *h, const haar_plan *pl, const haar_level *lv, int x, int y);

/* Growable list of window origins (x, y pairs). */
typedef struct haar_hits { int *xy; int n, cap; } haar_hits;
int fn_haar_hits_push(haar_hits *hh, int x, int y);   /* 0, or -1 when out of memory */

/* Window origins (in level pixels) that pass the whole cascade, appended in scan
 * order (rows top-down, x left-right) with OpenCV's skip after a first-stage
 * rejection.  ref calls fn_haar_run_at for each window; fast keeps the stumps
 * inline and computes a row's normalisation at once.  Both must agree exactly.
 * work: fn_haar_scan_work_bytes(lv->w). */
size_t fn_haar_scan_work_bytes(int w);
fn_status fn_haar_scan_level_ref(const fn_haar *h, const haar_plan *pl, const haar_level *lv, haar_hits *out);
fn_status fn_haar_scan_level_fast(const fn_haar *h, const haar_plan *pl, const haar_level *lv,
                               haar_hits *out, void *work);

/* The stump cascade from stage s on for one window (pl->stumps needed):
 * 1 accepted, -k rejected at stage k. */
int fn_haar_stump_stages_from(const fn_haar *h, const haar_plan *pl, int s, const uint32_t *p, float vnf);

/* ---- Vectorised rows (haar_simd.c). */
int fn_haar_kernel_supported(haar_kernel k);
haar_kernel fn_haar_kernel_best(void);
const char *fn_haar_kernel_name(haar_kernel k);
/* Row y of lv (n windows) with kernel k, hits appended as the scalar scan
 * would: 0 done, -1 out of memory, 1 when k cannot take this row (scalar
 * kernel or a row narrower than a vector). */
int fn_haar_scan_row_simd(haar_kernel k, const fn_haar *h, const haar_plan *pl, const haar_level *lv, int y, int n,
                       haar_hits *out);

/* ---- Grouping (haar_group.c): OpenCV's groupRectangles(rects, thr, eps).
 * Rewrites r in place, returns the new count.  work: fn_haar_group_work_bytes(n). */
size_t fn_haar_group_work_bytes(int n);
int fn_haar_group_rects(fn_rect *r, int n, int group_threshold, double eps, void *work);

/* ---- The whole detector with a choice of scan (haar.c); use_ref = 1 runs
 * fn_haar_scan_level_ref on every level, for the tests. */
fn_status fn_haar_detect_impl(fn_haar *h, const uint8_t *gray, int w, int hgt, int stride,
                           const fn_haar_params *p, fn_rect *out, int max, int *n, int use_ref);

#endif
