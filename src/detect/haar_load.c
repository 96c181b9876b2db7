/* Cascade loading: OpenCV's new-format cascade XML (stageType BOOST,
 * featureType HAAR) into one arena.  Every index is checked here so the scan
 * can trust the cascade. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "detect/haar_internal.h"

#define HAAR_MAX_FILE   (64u << 20)
#define HAAR_MAX_WIN    1024
#define HAAR_MAX_COUNT  (1 << 22)   /* stages, trees, nodes, leaves or features */
#define THRESHOLD_EPS   1e-5f       /* OpenCV lowers every stage threshold by this */

typedef struct loader {
    const char *name;
    const xml_doc *d;
    fn_haar *h;
} loader;

static fn_status bad(const loader *ld, const char *what)
{
    return fn_fail(FN_ERR_FORMAT, "%s: %s", ld->name, what);
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Trimmed character data of element node. */
static void node_text(const loader *ld, int node, const char **s, int *n)
{
    const xml_node *x = &ld->d->nodes[node];
    const char *p = x->text ? x->text : "";
    int len = x->text ? x->text_len : 0;
    while (len > 0 && is_space(*p)) { p++; len--; }
    while (len > 0 && is_space(p[len - 1])) len--;
    *s = p;
    *n = len;
}

static int count_numbers(const loader *ld, int node)
{
    const char *s; int n, k = 0;
    node_text(ld, node, &s, &n);
    for (int i = 0; i < n; i++)
        if (!is_space(s[i]) && (i == 0 || is_space(s[i - 1]))) k++;
    return k;
}

/* Parses exactly count numbers from node's text into out. */
static fn_status read_numbers(const loader *ld, int node, const char *what, double *out, int count)
{
    const char *s; int n;
    node_text(ld, node, &s, &n);
    const char *p = s, *end = s + n;
    for (int i = 0; i < count; i++) {
        while (p < end && is_space(*p)) p++;
        char *e;
        errno = 0;
        double v = strtod(p, &e);
        if (e == p || e > end || (e < end && !is_space(*e)) || errno == ERANGE || !isfinite(v))
            return fn_fail(FN_ERR_FORMAT, "%s: <%s> holds something that is not a number", ld->name, what);
        out[i] = v;
        p = e;
    }
    return FN_OK;
}

static fn_status need_child(const loader *ld, int parent, const char *name, int *out)
{
    *out = fn_xml_child(ld->d, parent, name);
    if (*out < 0) return fn_fail(FN_ERR_FORMAT, "%s: missing <%s>", ld->name, name);
    return FN_OK;
}

static fn_status read_int(const loader *ld, int parent, const char *name, int lo, int hi, int *out)
{
    int c;
    double v;
    FN_TRY(need_child(ld, parent, name, &c));
    if (count_numbers(ld, c) != 1) return fn_fail(FN_ERR_FORMAT, "%s: <%s> must hold one integer", ld->name, name);
    FN_TRY(read_numbers(ld, c, name, &v, 1));
    if (v != floor(v) || v < lo || v > hi)
        return fn_fail(FN_ERR_FORMAT, "%s: <%s> is %g, expected an integer in [%d, %d]", ld->name, name, v, lo, hi);
    *out = (int)v;
    return FN_OK;
}

static fn_status expect_word(const loader *ld, int parent, const char *name, const char *want)
{
    int c;
    const char *s; int n;
    FN_TRY(need_child(ld, parent, name, &c));
    node_text(ld, c, &s, &n);
    if ((size_t)n != strlen(want) || memcmp(s, want, (size_t)n) != 0)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: <%s> is '%.*s', only %s is supported",
                       ld->name, name, n > 40 ? 40 : n, s, want);
    return FN_OK;
}

/* Sizes: how many of each thing the file declares, for one arena. */
typedef struct haar_counts { int stages, trees, nodes, leaves, features; } haar_counts;

static fn_status count_tree(const loader *ld, int tree, haar_counts *c)
{
    int in, lv;
    FN_TRY(need_child(ld, tree, "internalNodes", &in));
    FN_TRY(need_child(ld, tree, "leafValues", &lv));
    int nn = count_numbers(ld, in), nl = count_numbers(ld, lv);
    if (nn == 0 || nn % 4 != 0)
        return bad(ld, "<internalNodes> must hold groups of 4 numbers (left right feature threshold)");
    if (nl < 2) return bad(ld, "<leafValues> needs at least 2 values");
    if (nn / 4 > HAAR_MAX_COUNT - c->nodes || nl > HAAR_MAX_COUNT - c->leaves) return bad(ld, "too many tree nodes");
    c->nodes += nn / 4;
    c->leaves += nl;
    c->trees++;
    return FN_OK;
}

static fn_status count_all(const loader *ld, int stages, int features, haar_counts *c)
{
    memset(c, 0, sizeof *c);
    for (int s = ld->d->nodes[stages].first_child; s >= 0; s = ld->d->nodes[s].next_sibling) {
        int wc;
        FN_TRY(need_child(ld, s, "weakClassifiers", &wc));
        if (ld->d->nodes[wc].first_child < 0) return bad(ld, "a stage has no weak classifiers");
        for (int t = ld->d->nodes[wc].first_child; t >= 0; t = ld->d->nodes[t].next_sibling)
            FN_TRY(count_tree(ld, t, c));
        if (++c->stages > HAAR_MAX_COUNT) return bad(ld, "too many stages");
    }
    c->features = fn_xml_count_children(ld->d, features);
    if (c->stages == 0) return bad(ld, "<stages> is empty");
    if (c->features == 0) return bad(ld, "<features> is empty");
    if (c->features > HAAR_MAX_COUNT) return bad(ld, "too many features");
    return FN_OK;
}

static fn_status alloc_cascade(const loader *ld, const haar_counts *c)
{
    fn_haar *h = ld->h;
    size_t sz[5] = {
        (size_t)c->stages * sizeof(haar_stage), (size_t)c->trees * sizeof(haar_tree),
        (size_t)c->nodes * sizeof(haar_node), (size_t)c->leaves * sizeof(float),
        (size_t)c->features * sizeof(haar_feature)};
    size_t total = 0;
    for (int i = 0; i < 5; i++) total += fn_arena_round(sz[i]);
    FN_TRY(fn_arena_init(&h->arena, total));
    h->stages = fn_arena_alloc(&h->arena, sz[0]);
    h->trees = fn_arena_alloc(&h->arena, sz[1]);
    h->nodes = fn_arena_alloc(&h->arena, sz[2]);
    h->leaves = fn_arena_alloc(&h->arena, sz[3]);
    h->features = fn_arena_alloc(&h->arena, sz[4]);
    if (!h->stages || !h->trees || !h->nodes || !h->leaves || !h->features)
        return fn_fail(FN_ERR_INTERNAL, "%s: cascade arena sized too small", ld->name);
    return FN_OK;
}

/* Children > 0 must point further down the same tree (so evaluation always
 * ends), children <= 0 name an existing leaf. */
static fn_status check_child(const loader *ld, int child, int self, int nnodes, int nleaves)
{
    if (child > 0 ? (child <= self || child >= nnodes) : (-child >= nleaves))
        return bad(ld, "a tree node points at a node or leaf that does not exist");
    return FN_OK;
}

static fn_status read_tree(const loader *ld, int t, haar_tree *tree)
{
    fn_haar *h = ld->h;
    int in, lv;
    FN_TRY(need_child(ld, t, "internalNodes", &in));
    FN_TRY(need_child(ld, t, "leafValues", &lv));
    int nn = count_numbers(ld, in) / 4, nl = count_numbers(ld, lv);
    tree->node0 = h->nnodes;
    tree->nnodes = nn;
    tree->leaf0 = h->nleaves;
    tree->nleaves = nl;
    double all[4 * 64];
    if (nn > 64) return bad(ld, "a tree has more than 64 nodes");
    FN_TRY(read_numbers(ld, in, "internalNodes", all, 4 * nn));
    for (int i = 0; i < nn; i++) {
        const double *v = all + 4 * i;
        for (int k = 0; k < 3; k++)
            if (v[k] != floor(v[k]) || fabs(v[k]) > HAAR_MAX_COUNT) return bad(ld, "a tree node index is not an integer");
        haar_node *nd = &h->nodes[h->nnodes + i];
        nd->left = (int)v[0];
        nd->right = (int)v[1];
        nd->feature = (int)v[2];
        nd->threshold = (float)v[3];
        if (nd->feature < 0 || nd->feature >= h->nfeatures) return bad(ld, "a tree node uses a feature index out of range");
        FN_TRY(check_child(ld, nd->left, i, nn, nl));
        FN_TRY(check_child(ld, nd->right, i, nn, nl));
    }
    double leaves[256];
    if (nl > 256) return bad(ld, "a tree has more than 256 leaves");
    FN_TRY(read_numbers(ld, lv, "leafValues", leaves, nl));
    for (int i = 0; i < nl; i++) h->leaves[h->nleaves + i] = (float)leaves[i];
    h->nnodes += nn;
    h->nleaves += nl;
    return FN_OK;
}

static fn_status read_stages(const loader *ld, int stages)
{
    fn_haar *h = ld->h;
    int max_nodes = 0;
    for (int s = ld->d->nodes[stages].first_child; s >= 0; s = ld->d->nodes[s].next_sibling) {
        int thr, wc;
        double t;
        FN_TRY(need_child(ld, s, "stageThreshold", &thr));
        if (count_numbers(ld, thr) != 1) return bad(ld, "<stageThreshold> must hold one number");
        FN_TRY(read_numbers(ld, thr, "stageThreshold", &t, 1));
        FN_TRY(need_child(ld, s, "weakClassifiers", &wc));
        haar_stage *st = &h->stages[h->nstages++];
        st->threshold = (float)t - THRESHOLD_EPS;
        st->tree0 = h->ntrees;
        st->ntrees = 0;
        for (int w = ld->d->nodes[wc].first_child; w >= 0; w = ld->d->nodes[w].next_sibling) {
            haar_tree *tr = &h->trees[h->ntrees++];
            FN_TRY(read_tree(ld, w, tr));
            if (tr->nnodes > max_nodes) max_nodes = tr->nnodes;
            st->ntrees++;
        }
    }
    h->stumps_only = max_nodes == 1;
    return FN_OK;
}

static fn_status read_rect(const loader *ld, int r, haar_feature *f, int k)
{
    double v[5];
    if (count_numbers(ld, r) != 5) return bad(ld, "a feature rectangle must hold 5 numbers (x y w h weight)");
    FN_TRY(read_numbers(ld, r, "rects", v, 5));
    for (int i = 0; i < 4; i++)
        if (v[i] != floor(v[i]) || v[i] < 0 || v[i] > HAAR_MAX_WIN) return bad(ld, "a feature rectangle has a bad coordinate");
    int x = (int)v[0], y = (int)v[1], w = (int)v[2], hh = (int)v[3];
    if (x + w > ld->h->win_w || y + hh > ld->h->win_h) return bad(ld, "a feature rectangle lies outside the window");
    f->x[k] = x; f->y[k] = y; f->w[k] = w; f->h[k] = hh;
    f->weight[k] = (float)v[4];
    return FN_OK;
}

static fn_status read_features(const loader *ld, int features)
{
    fn_haar *h = ld->h;
    for (int n = ld->d->nodes[features].first_child; n >= 0; n = ld->d->nodes[n].next_sibling) {
        haar_feature *f = &h->features[h->nfeatures++];
        memset(f, 0, sizeof *f);
        int rects, tilted = fn_xml_child(ld->d, n, "tilted");
        FN_TRY(need_child(ld, n, "rects", &rects));
        int k = 0;
        for (int r = ld->d->nodes[rects].first_child; r >= 0; r = ld->d->nodes[r].next_sibling, k++) {
            if (k == HAAR_MAX_RECTS) return bad(ld, "a feature has more than 3 rectangles");
            FN_TRY(read_rect(ld, r, f, k));
        }
        if (k == 0) return bad(ld, "a feature has no rectangles");
        if (tilted >= 0) {
            double t;
            if (count_numbers(ld, tilted) != 1) return bad(ld, "<tilted> must hold 0 or 1");
            FN_TRY(read_numbers(ld, tilted, "tilted", &t, 1));
            if (t != 0)
                return fn_fail(FN_ERR_UNSUPPORTED, "%s: tilted (45 degree) Haar features are not supported", ld->name);
        }
    }
    return FN_OK;
}

static fn_status read_cascade(const loader *ld)
{
    const xml_doc *d = ld->d;
    /* Like FileStorage::getFirstTopLevelNode: the first element inside the root. */
    int cas = d->nodes[0].first_child;
    if (cas < 0) return bad(ld, "no cascade inside the top-level element");
    if (fn_xml_child(d, cas, "stageType") < 0 && fn_xml_child(d, cas, "size") >= 0)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: old-format (opencv-haar-classifier) cascade; only the new format is supported", ld->name);
    FN_TRY(expect_word(ld, cas, "stageType", "BOOST"));
    FN_TRY(expect_word(ld, cas, "featureType", "HAAR"));
    FN_TRY(read_int(ld, cas, "width", 1, HAAR_MAX_WIN, &ld->h->win_w));
    FN_TRY(read_int(ld, cas, "height", 1, HAAR_MAX_WIN, &ld->h->win_h));
    if (ld->h->win_w < 3 || ld->h->win_h < 3) return bad(ld, "window must be at least 3x3");
    int fp, maxcat, stages, features;
    FN_TRY(need_child(ld, cas, "featureParams", &fp));
    FN_TRY(read_int(ld, fp, "maxCatCount", 0, 1 << 20, &maxcat));
    if (maxcat != 0) return fn_fail(FN_ERR_UNSUPPORTED, "%s: categorical (LBP-style) trees are not supported", ld->name);
    FN_TRY(need_child(ld, cas, "stages", &stages));
    FN_TRY(need_child(ld, cas, "features", &features));
    haar_counts c;
    FN_TRY(count_all(ld, stages, features, &c));
    FN_TRY(alloc_cascade(ld, &c));
    FN_TRY(read_features(ld, features));
    return read_stages(ld, stages);
}

fn_status fn_haar_load_mem(const char *name, const char *xml, size_t len, fn_haar **out)
{
    if (!out) return fn_fail(FN_ERR_ARG, "fn_haar_load: out is NULL");
    *out = NULL;
    if (!name) name = "(memory)";
    if (!xml) return fn_fail(FN_ERR_ARG, "%s: no data", name);
    if (len > HAAR_MAX_FILE) return fn_fail(FN_ERR_LIMIT, "%s: %zu bytes is larger than any cascade", name, len);
    fn_haar *h = calloc(1, sizeof *h);
    if (!h) return fn_fail(FN_ERR_NOMEM, "%s: no memory", name);
    xml_doc doc;
    fn_status st = fn_xml_parse(name, xml, len, &doc);
    if (st == FN_OK) {
        loader ld = {name, &doc, h};
        st = read_cascade(&ld);
        fn_xml_free(&doc);
    }
    h->kernel = fn_haar_kernel_best();
    if (st == FN_OK && pthread_mutex_init(&h->pool_lock, NULL) != 0)
        st = fn_fail(FN_ERR_INTERNAL, "%s: cannot create a mutex", name);
    if (st != FN_OK) {
        fn_arena_release(&h->arena);
        free(h);
        return st;
    }
    *out = h;
    return FN_OK;
}

fn_status fn_haar_load(const char *path, fn_haar **out)
{
    if (!out || !path) return fn_fail(FN_ERR_ARG, "fn_haar_load: path or out is NULL");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return fn_fail(FN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= HAAR_MAX_FILE) { free(buf); fclose(f); return fn_fail(FN_ERR_LIMIT, "%s: larger than any cascade", path); }
            cap = cap ? cap * 2 : (1u << 20);
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return fn_fail(FN_ERR_NOMEM, "%s: no memory", path); }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); return fn_fail(FN_ERR_IO, "%s: read error", path); }
    fn_status st = fn_haar_load_mem(path, buf ? buf : "", len, out);
    free(buf);
    return st;
}

void fn_haar_window(const fn_haar *h, int *w, int *hgt)
{
    if (w) *w = h ? h->win_w : 0;
    if (hgt) *hgt = h ? h->win_h : 0;
}
