/* folders.c — identification evaluation on folder-per-person trees (see
 * include/facenet/eval.h): enrol the gallery folders into a temporary
 * gallery, identify every probe, and account for each one — probes of
 * people with nothing enrolled are counted in open-set terms, never dropped. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "facenet/eval.h"

/* ---- listing image files ---- */

static fn_status paths_add(fn_paths *l, const char *path)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items) return fn_fail(FN_ERR_NOMEM, "out of memory listing %s", path);
        l->items = items;
        l->cap = cap;
    }
    if (!(l->items[l->n] = strdup(path))) return fn_fail(FN_ERR_NOMEM, "out of memory listing %s", path);
    l->n++;
    return FN_OK;
}

void fn_paths_free(fn_paths *p)
{
    for (int i = 0; i < p->n; i++) free(p->items[i]);
    free(p->items);
    memset(p, 0, sizeof *p);
}

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Names in dir (no dot files), sorted. */
static fn_status dir_names(const char *dir, fn_paths *names)
{
    DIR *d = opendir(dir);
    if (!d) return fn_fail(FN_ERR_IO, "%s: cannot read the directory: %s", dir, strerror(errno));
    struct dirent *ent;
    fn_status s = FN_OK;
    while (s == FN_OK && (ent = readdir(d)))
        if (ent->d_name[0] != '.') s = paths_add(names, ent->d_name);
    closedir(d);
    if (names->n) qsort(names->items, (size_t)names->n, sizeof *names->items, cmp_str);
    return s;
}

/* The folders from the root down to the one being listed, by device and
 * inode: a folder met again below itself (a symlink to an ancestor) is a
 * loop, and is not entered (it was walked 33 times, its files listed as
 * many).  A link to a folder elsewhere is followed; files reached twice
 * that way are one file to a caller that compares real paths.  A folder
 * deeper than LIST_DEPTH_MAX below the root is not walked but listed as an
 * input, which then fails by name ("a folder, not a file"): it was left out
 * without a word. */
#define LIST_DEPTH_MAX 256
typedef struct dir_id { dev_t dev; ino_t ino; } dir_id;

static fn_status list_dir(const char *dir, fn_paths *out, fn_paths *skipped, dir_id *up, int depth)
{
    struct stat ds;
    if (depth >= LIST_DEPTH_MAX) return paths_add(out, dir);
    if (stat(dir, &ds) != 0) return FN_OK;
    for (int k = 0; k < depth; k++)
        if (up[k].dev == ds.st_dev && up[k].ino == ds.st_ino) return FN_OK;
    up[depth] = (dir_id){ds.st_dev, ds.st_ino};
    fn_paths names = {0};
    fn_status s = dir_names(dir, &names);
    if (s == FN_ERR_IO && depth > 0) {   /* a subfolder that cannot be read: an input that fails, by name; */
        fn_paths_free(&names);            /* the walk goes on (it stopped the whole command) */
        return paths_add(out, dir);
    }
    char *path = malloc(4096);   /* not on the stack: LIST_DEPTH_MAX levels of it */
    if (!path) s = fn_fail(FN_ERR_NOMEM, "out of memory");
    for (int i = 0; s == FN_OK && i < names.n; i++) {
        if ((size_t)snprintf(path, 4096, "%s/%s", dir, names.items[i]) >= 4096) continue;
        struct stat st;
        int ok = stat(path, &st) == 0;
        if (ok && S_ISDIR(st.st_mode)) s = list_dir(path, out, skipped, up, depth + 1);
        else if (has_image_ext(path)) s = paths_add(out, path);   /* a dangling link or a FIFO named x.jpg too: */
        else if (ok && skipped) s = paths_add(skipped, path);     /* the command reports why it cannot be read */
    }
    free(path);
    fn_paths_free(&names);
    return s;
}

fn_status fn_list_images(const char *path, fn_paths *out, fn_paths *skipped)
{
    struct stat st;
    if (stat(path, &st) != 0) return fn_fail(FN_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return paths_add(out, path);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') dir[--n] = '\0';
    dir_id up[LIST_DEPTH_MAX];
    return list_dir(dir, out, skipped, up, 0);
}

fn_status fn_list_people(const char *root, fn_paths *people, fn_paths *loose)
{
    fn_paths names = {0};
    fn_status s = dir_names(root, &names);
    for (int i = 0; s == FN_OK && i < names.n; i++) {
        char p[4096];
        struct stat st;
        if ((size_t)snprintf(p, sizeof p, "%s/%s", root, names.items[i]) >= sizeof p) continue;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) s = paths_add(people, names.items[i]);
        else if (loose) s = paths_add(loose, p);   /* a file, or a link to nothing */
    }
    fn_paths_free(&names);
    return s;
}

/* ---- the run ---- */

typedef struct run {
    fn_embedder *x;
    const fn_folder_eval_params *p;
    fn_folder_eval *r;
    fn_gallery *g;
    fn_gallery_scratch *scratch;
    char tmpdir[4096], gpath[4200];
    float *emb;                 /* probes x dim */
    float *gemb;                /* enrolled embeddings (for the genuine/impostor lists) */
    int *glabel, ng, gcap;
} run;

static fn_eval_person *person(fn_folder_eval *r, const char *name)
{
    fn_eval_person key = {(char *)name, 0, 0, 0, 0};
    for (int i = 0; i < r->n_people; i++)
        if (!strcmp(r->people[i].name, key.name)) return &r->people[i];
    return NULL;
}

static int cmp_person(const void *a, const void *b)
{
    return strcmp(((const fn_eval_person *)a)->name, ((const fn_eval_person *)b)->name);
}

/* Every gallery and probe folder name, once. */
static fn_status gather_people(run *u, const fn_paths *gnames, const fn_paths *pnames)
{
    fn_folder_eval *r = u->r;
    r->people = calloc((size_t)(gnames->n + pnames->n) + 1, sizeof *r->people);
    if (!r->people) return fn_fail(FN_ERR_NOMEM, "out of memory for %d people", gnames->n + pnames->n);
    const fn_paths *lists[2] = {gnames, pnames};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            if (person(r, lists[l]->items[i])) continue;
            char *name = strdup(lists[l]->items[i]);
            if (!name) return fn_fail(FN_ERR_NOMEM, "out of memory for a name");
            r->people[r->n_people++].name = name;
        }
    qsort(r->people, (size_t)r->n_people, sizeof *r->people, cmp_person);
    return FN_OK;
}

static void progress(run *u, const char *stage, int done, int total, const char *file)
{
    if (u->p->progress) u->p->progress(u->p->progress_ctx, stage, done, total, file);
}

static fn_status keep_gallery_row(run *u, const float *emb, int label)
{
    int dim = u->x->dim;
    if (u->ng == u->gcap) {
        int cap = u->gcap ? 2 * u->gcap : 256;
        float *e = realloc(u->gemb, sizeof(float) * (size_t)cap * dim);
        if (e) u->gemb = e;
        int *l = realloc(u->glabel, sizeof(int) * (size_t)cap);
        if (l) u->glabel = l;
        if (!e || !l) return fn_fail(FN_ERR_NOMEM, "out of memory for %d embeddings", cap);
        u->gcap = cap;
    }
    memcpy(u->gemb + (size_t)u->ng * dim, emb, sizeof(float) * dim);
    u->glabel[u->ng++] = label;
    return FN_OK;
}

/* A file that cannot be read or decoded is accounted for, not fatal. */
static int unreadable(fn_status s)
{
    return s == FN_ERR_IO || s == FN_ERR_FORMAT || s == FN_ERR_UNSUPPORTED || s == FN_ERR_LIMIT;
}

typedef struct enrol_ctx {
    run *u;
    const fn_paths *files;
    const int *owner;   /* files->items[i] belongs to people[owner[i]] */
} enrol_ctx;

/* One gallery image's embedding (fn_embedder_run_many's callback). */
static fn_status enrol_one(void *user, int i, fn_status s, const fn_embed_result *er, const float *emb,
                           const float *emb_flip)
{
    enrol_ctx *c = user;
    run *u = c->u;
    fn_folder_eval *r = u->r;
    const char *file = c->files->items[i];
    fn_eval_person *pp = &r->people[c->owner[i]];
    pp->gallery_images++;
    progress(u, "enrolling", i + 1, c->files->n, file);
    if (unreadable(s)) {
        s = paths_add(&r->enrol_unreadable, file);
        return s == FN_OK ? paths_add(&r->enrol_unreadable_error, fn_last_error()) : s;
    }
    if (s != FN_OK) return s;
    if (!er->has_face) {
        if (!(r->enrol_no_face[r->n_enrol_no_face] = strdup(file))) return fn_fail(FN_ERR_NOMEM, "out of memory");
        r->n_enrol_no_face++;
        return FN_OK;
    }
    fn_gallery_face gf = {pp->name, file, er->hash, {0}, er->face.prob, emb};
    memcpy(gf.box, er->face.box, sizeof gf.box);
    s = fn_gallery_add(u->g, &gf, NULL, NULL);
    if (s == FN_OK) s = keep_gallery_row(u, emb, c->owner[i]);
    if (s == FN_OK) {
        pp->enrolled++;
        r->enrolled_images++;
    }
    return s;
}

static fn_status enrol(run *u, const fn_paths *gnames)
{
    fn_folder_eval *r = u->r;
    fn_paths files[1] = {{0}};
    int *owner = NULL;   /* files.items[i] belongs to people[owner[i]] */
    fn_status s = FN_OK;
    for (int i = 0; s == FN_OK && i < gnames->n; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", u->p->gallery_dir, gnames->items[i]);
        int before = files->n;
        s = fn_list_images(dir, files, &r->skipped);
        int *o = s == FN_OK ? realloc(owner, sizeof(int) * ((size_t)files->n + 1)) : NULL;
        if (s == FN_OK && !o) s = fn_fail(FN_ERR_NOMEM, "out of memory listing %s", dir);
        if (s != FN_OK) break;
        owner = o;
        int k = (int)(person(r, gnames->items[i]) - r->people);
        for (int j = before; j < files->n; j++) owner[j] = k;
    }
    r->gallery_images = files->n;
    if (s == FN_OK && files->n) {
        r->enrol_no_face = calloc((size_t)files->n, sizeof *r->enrol_no_face);
        if (!r->enrol_no_face) s = fn_fail(FN_ERR_NOMEM, "out of memory");
    }
    if (s == FN_OK) s = fn_gallery_begin(u->g);
    enrol_ctx c = {u, files, owner};
    if (s == FN_OK) s = fn_embedder_run_many(u->x, (const char *const *)files->items, files->n, enrol_one, &c);
    if (s == FN_OK) s = fn_gallery_commit(u->g);
    else fn_gallery_rollback(u->g);
    for (int i = 0; i < r->n_people; i++) r->enrolled_people += r->people[i].enrolled > 0;
    free(owner);
    fn_paths_free(files);
    if (s == FN_OK && r->enrolled_images == 0)
        s = fn_fail(FN_ERR_NOT_FOUND, "%s: no face could be enrolled (want DIR/<person>/*.jpg)", u->p->gallery_dir);
    return s;
}

static fn_status add_probe(fn_folder_eval *r, const char *file, const char *person_name)
{
    fn_eval_probe *p = &r->probes[r->n_probes];
    memset(p, 0, sizeof *p);
    p->file = strdup(file);
    p->person = person_name ? strdup(person_name) : NULL;
    r->n_probes++;
    if (!p->file || (person_name && !p->person)) return fn_fail(FN_ERR_NOMEM, "out of memory");
    return FN_OK;
}

static fn_status gather_probes(run *u, const fn_paths *pnames)
{
    fn_folder_eval *r = u->r;
    fn_paths files = {0}, unknown = {0};
    int *owner = NULL;
    fn_status s = FN_OK;
    for (int i = 0; s == FN_OK && i < pnames->n; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", u->p->probe_dir, pnames->items[i]);
        int before = files.n;
        s = fn_list_images(dir, &files, &r->skipped);
        int *o = s == FN_OK ? realloc(owner, sizeof(int) * ((size_t)files.n + 1)) : NULL;
        if (s == FN_OK && !o) s = fn_fail(FN_ERR_NOMEM, "out of memory listing %s", dir);
        if (s != FN_OK) break;
        owner = o;
        for (int j = before; j < files.n; j++) owner[j] = i;
    }
    if (s == FN_OK && u->p->unknown_dir) s = fn_list_images(u->p->unknown_dir, &unknown, &r->skipped);
    if (s == FN_OK) {
        r->probes = calloc((size_t)(files.n + unknown.n) + 1, sizeof *r->probes);
        u->emb = malloc(sizeof(float) * (size_t)u->x->dim * ((size_t)(files.n + unknown.n) + 1));
        if (!r->probes || !u->emb) s = fn_fail(FN_ERR_NOMEM, "out of memory for %d probes", files.n + unknown.n);
    }
    for (int i = 0; s == FN_OK && i < files.n; i++) s = add_probe(r, files.items[i], pnames->items[owner[i]]);
    for (int i = 0; s == FN_OK && i < unknown.n; i++) s = add_probe(r, unknown.items[i], NULL);
    free(owner);
    fn_paths_free(&files);
    fn_paths_free(&unknown);
    return s;
}

/* One probe's embedding (fn_embedder_run_many's callback): search, score. */
static fn_status identify_one(void *user, int i, fn_status s, const fn_embed_result *er, const float *emb_in,
                              const float *emb_flip)
{
    run *u = user;
    fn_folder_eval *r = u->r;
    fn_eval_probe *p = &r->probes[i];
    float *emb = u->emb + (size_t)i * u->x->dim;
    fn_eval_person *pp = p->person ? person(r, p->person) : NULL;
    p->kind = !p->person ? FN_PROBE_UNKNOWN : pp && pp->enrolled > 0 ? FN_PROBE_ENROLLED : FN_PROBE_ABSENT;
    int has_face = 0;
    progress(u, "identifying", i + 1, r->n_probes, p->file);
    if (unreadable(s)) {
        if (!(p->error = strdup(fn_last_error()))) return fn_fail(FN_ERR_NOMEM, "out of memory");
        s = FN_OK;
        r->n_unreadable++;
    } else if (s == FN_OK) {
        if (er->has_emb) memcpy(emb, emb_in, sizeof(float) * (size_t)u->x->dim);
        has_face = er->has_face;
        if (has_face) s = fn_gallery_search(u->g, u->scratch, emb, 1, 1, &p->match, NULL);
    }
    if (s != FN_OK) return s;
    p->has_face = has_face;
    p->correct = p->kind == FN_PROBE_ENROLLED && p->has_face && !strcmp(p->match.best_name, p->person);
    p->accepted = p->has_face && p->match.best.distance <= r->threshold;
    if (pp) {
        pp->probes++;
        pp->correct += p->correct;
    }
    r->n_enrolled_probes += p->kind == FN_PROBE_ENROLLED;
    r->n_absent_probes += p->kind == FN_PROBE_ABSENT;
    r->n_unknown_probes += p->kind == FN_PROBE_UNKNOWN;
    r->n_correct += p->correct;
    r->n_enrolled_with_face += p->kind == FN_PROBE_ENROLLED && p->has_face;
    r->n_no_face += !p->has_face && !p->error;
    return FN_OK;
}

static fn_status identify(run *u)
{
    fn_folder_eval *r = u->r;
    const char **files = malloc(sizeof *files * ((size_t)r->n_probes + 1));
    if (!files) return fn_fail(FN_ERR_NOMEM, "out of memory for %d probes", r->n_probes);
    for (int i = 0; i < r->n_probes; i++) files[i] = r->probes[i].file;
    fn_status s = fn_embedder_run_many(u->x, files, r->n_probes, identify_one, u);
    free(files);
    return s;
}

/* Open-set figures over every probe with a face: enrolled ones are "known",
 * absent and unknown ones are not. */
static fn_status openset(run *u)
{
    fn_folder_eval *r = u->r;
    if (r->n_absent_probes + r->n_unknown_probes == 0) return FN_OK;
    fn_probe *fp = malloc(sizeof *fp * ((size_t)r->n_probes + 1));
    if (!fp) return fn_fail(FN_ERR_NOMEM, "out of memory");
    size_t n = 0, n_unknown = 0;
    for (int i = 0; i < r->n_probes; i++) {
        const fn_eval_probe *p = &r->probes[i];
        if (!p->has_face) continue;
        fp[n++] = (fn_probe){p->match.best.distance, (unsigned char)(p->kind == FN_PROBE_ENROLLED), (unsigned char)p->correct};
        n_unknown += p->kind != FN_PROBE_ENROLLED;
    }
    fn_status s = FN_OK;
    if (n_unknown > 0) {
        s = fn_openset_at(fp, n, r->threshold, &r->at);
        if (s == FN_OK) s = fn_openset_balance(fp, n, &r->balanced);
        r->have_openset = s == FN_OK;
    }
    free(fp);
    return s;
}

/* Each probe's nearest distance to every enrolled person. */
static fn_status distances(run *u)
{
    fn_folder_eval *r = u->r;
    int dim = u->x->dim, np = r->n_people;
    size_t cap = (size_t)r->n_probes * (size_t)np + 1;
    r->dist = malloc(sizeof *r->dist * cap);
    r->same = malloc(cap);
    double *near = malloc(sizeof *near * ((size_t)np + 1));
    fn_status s = r->dist && r->same && near ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory for %zu distances", cap);
    for (int i = 0; s == FN_OK && i < r->n_probes; i++) {
        const fn_eval_probe *p = &r->probes[i];
        if (!p->has_face) continue;
        const float *emb = u->emb + (size_t)i * dim;
        for (int k = 0; k < np; k++) near[k] = INFINITY;
        for (int j = 0; j < u->ng; j++) {
            double d = fn_distance(emb, u->gemb + (size_t)j * dim, dim);
            if (d < near[u->glabel[j]]) near[u->glabel[j]] = d;
        }
        for (int k = 0; k < np; k++) {
            if (!isfinite(near[k])) continue;
            r->dist[r->n_dist] = near[k];
            r->same[r->n_dist++] = p->person && !strcmp(p->person, r->people[k].name);
        }
    }
    free(near);
    return s;
}

static fn_status open_temp_gallery(run *u)
{
    const char *tmp = u->p->work_dir;
    if (!tmp || !*tmp) tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(u->tmpdir, sizeof u->tmpdir, "%s/facenet-eval-XXXXXX", tmp);
    if (!mkdtemp(u->tmpdir)) {
        u->tmpdir[0] = '\0';
        return fn_fail(FN_ERR_IO, "%s: cannot create a temporary directory for the gallery: %s", tmp, strerror(errno));
    }
    snprintf(u->gpath, sizeof u->gpath, "%s/gallery.db", u->tmpdir);
    fn_gallery_model m = fn_gallery_model_of_engine(u->x->e);
    return fn_gallery_open(u->gpath, &m, FN_GALLERY_CREATE, &u->g);
}

static void remove_temp_gallery(run *u)
{
    if (!u->tmpdir[0]) return;
    static const char *suffix[] = {"", "-journal", "-wal", "-shm"};
    for (int i = 0; i < 4; i++) {
        char p[4300];
        snprintf(p, sizeof p, "%s%s", u->gpath, suffix[i]);
        unlink(p);
    }
    rmdir(u->tmpdir);
}

fn_status fn_folder_eval_run(fn_embedder *x, const fn_folder_eval_params *p, fn_folder_eval *out)
{
    memset(out, 0, sizeof *out);
    if (!x || !x->e || !p || !p->gallery_dir || !p->probe_dir)
        return fn_fail(FN_ERR_ARG, "folder evaluation: an embedder, a gallery folder and a probe folder are required");
    run u;
    memset(&u, 0, sizeof u);
    u.x = x;
    u.p = p;
    u.r = out;
    out->threshold = p->threshold >= 0 ? p->threshold : fn_engine_threshold(x->e);
    out->threshold_source = p->threshold >= 0 ? FN_THRESHOLD_EXPLICIT : FN_THRESHOLD_MODEL;
    fn_paths gnames = {0}, pnames = {0};
    fn_status s = fn_list_people(p->gallery_dir, &gnames, &out->loose);
    if (s == FN_OK) s = fn_list_people(p->probe_dir, &pnames, &out->loose);
    if (s == FN_OK) s = gather_people(&u, &gnames, &pnames);
    if (s == FN_OK) s = open_temp_gallery(&u);
    if (s == FN_OK) s = enrol(&u, &gnames);
    if (s == FN_OK) s = fn_gallery_scratch_new(u.g, 1, &u.scratch);
    if (s == FN_OK) s = gather_probes(&u, &pnames);
    if (s == FN_OK) s = identify(&u);
    if (s == FN_OK) s = openset(&u);
    if (s == FN_OK) s = distances(&u);
    fn_gallery_scratch_free(u.scratch);
    fn_gallery_close(u.g);
    remove_temp_gallery(&u);
    free(u.emb);
    free(u.gemb);
    free(u.glabel);
    fn_paths_free(&gnames);
    fn_paths_free(&pnames);
    if (s != FN_OK) fn_folder_eval_free(out);
    return s;
}

void fn_folder_eval_free(fn_folder_eval *r)
{
    for (int i = 0; i < r->n_people; i++) free(r->people[i].name);
    for (int i = 0; i < r->n_enrol_no_face; i++) free(r->enrol_no_face[i]);
    for (int i = 0; i < r->n_probes; i++) {
        free(r->probes[i].file);
        free(r->probes[i].person);
        free(r->probes[i].error);
    }
    fn_paths_free(&r->enrol_unreadable);
    fn_paths_free(&r->enrol_unreadable_error);
    fn_paths_free(&r->skipped);
    fn_paths_free(&r->loose);
    free(r->people);
    free(r->enrol_no_face);
    free(r->probes);
    free(r->dist);
    free(r->same);
    memset(r, 0, sizeof *r);
}

double fn_eval_probe_margin(const fn_eval_probe *p)
{
    return p->has_face && p->match.second.person_id >= 0 ? p->match.second.distance - p->match.best.distance : INFINITY;
}

fn_status fn_folder_eval_plot(const fn_folder_eval *r, const char *path, const char *title)
{
    size_t ng = 0, ni = 0;
    double *g = malloc(sizeof *g * (r->n_dist + 1)), *im = malloc(sizeof *im * (r->n_dist + 1));
    fn_histogram *h = malloc(sizeof *h);
    fn_roc roc = {0};
    fn_status s = g && im && h ? FN_OK : fn_fail(FN_ERR_NOMEM, "out of memory for the plot");
    for (size_t i = 0; s == FN_OK && i < r->n_dist; i++) {
        if (r->same[i]) g[ng++] = r->dist[i];
        else im[ni++] = r->dist[i];
    }
    if (s == FN_OK) s = fn_roc_compute(r->dist, r->same, r->n_dist, &roc);
    if (s == FN_OK) s = fn_histogram_compute(g, ng, im, ni, 40, 0, 0, h);
    fn_svg_plot plot = {title ? title : "facenet eval: probe to own person vs to others", &roc, 1, NULL, 1, h,
                        r->threshold};
    if (s == FN_OK) s = fn_svg_write(path, &plot);
    fn_roc_free(&roc);
    free(g);
    free(im);
    free(h);
    return s;
}
