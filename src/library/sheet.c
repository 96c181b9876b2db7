/* sheet.c — face thumbnails and a group's contact sheet (a grid of its
 * faces under its name), drawn with the image module's font. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "library/library_impl.h"

#define GAP 4

static fn_status thumb_of(const fn_image *img, const fn_face *f, int size, fn_image *out)
{
    float w = f->box[2] - f->box[0], h = f->box[3] - f->box[1], side = w > h ? w : h;
    float cx = (f->box[0] + f->box[2]) / 2, cy = (f->box[1] + f->box[3]) / 2, half = side * 0.7f;
    float box[4] = {cx - half, cy - half, cx + half, cy + half};
    return fn_crop_face(img, box, size, 0, out);
}

fn_status fn_library_face_thumb(fn_library *l, int64_t face, int size, fn_image *out)
{
    memset(out, 0, sizeof *out);
    if (size < 8 || size > 4096) return fn_fail(FN_ERR_ARG, "thumbnail size %d is outside 8..4096", size);
    fn_library_face f;
    FN_TRY(fn_library_face_get(l, face, &f));
    /* the photo as scanned, or the box is cut from whatever is there now (another photo copied over it
     * put another person's face in a named group's export) */
    int64_t bytes = -1, mtime = -1;
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT size, mtime_ns FROM lib_files WHERE id = ?1", &st));
    sqlite3_bind_int64(st, 1, f.file_id);
    if (sqlite3_step(st) == SQLITE_ROW) bytes = sqlite3_column_int64(st, 0), mtime = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    struct stat sb;
    if (stat(f.path, &sb) == 0 &&
        ((int64_t)sb.st_size != bytes || (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec != mtime))
        return fn_fail(FN_ERR_MISMATCH, "%s: changed since it was scanned (run `facenet scan` on it)", f.path);
    fn_image img = {0};
    FN_TRY(fn_image_load(f.path, NULL, &img));
    fn_status s = thumb_of(&img, &f.face, size, out);
    fn_image_free(&img);
    return s;
}

typedef struct ids { int64_t *v; int n, cap, max; } ids;

static int collect(void *ctx, const fn_library_face *f)
{
    ids *d = ctx;
    if (f->not_face) return 0;
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 64;
        int64_t *p = realloc(d->v, (size_t)cap * sizeof *p);
        if (!p) return 1;
        d->v = p;
        d->cap = cap;
    }
    d->v[d->n++] = f->id;
    return 0;
}

fn_status fn_library_contact_sheet(fn_library *l, int64_t group, int tile, int cols, int max_faces, fn_image *out,
                                   int *n_tiles)
{
    memset(out, 0, sizeof *out);
    if (n_tiles) *n_tiles = 0;
    if (tile < 16 || tile > 1024 || cols < 1 || cols > 64 || max_faces < 0)
        return fn_fail(FN_ERR_ARG, "contact sheet: tile %d (16..1024), columns %d (1..64) or max faces %d (>= 0) "
                       "out of range", tile, cols, max_faces);
    char name[FN_GALLERY_NAME_MAX + 64] = "";
    sqlite3_stmt *st;
    FN_TRY(fn_ldb_prepare(l, "SELECT coalesce(name, '') FROM lib_groups WHERE id = ?1", &st));
    sqlite3_bind_int64(st, 1, group);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return fn_fail(FN_ERR_NOT_FOUND, "%s: no group %lld in the photo library", l->path,
                                         (long long)group);
    /* best faces first */
    ids d = {0};
    FN_TRY(fn_ldb_prepare(l, "SELECT id FROM lib_faces WHERE group_id = ?1 AND not_face = 0"
                             " ORDER BY quality DESC, id", &st));
    sqlite3_bind_int64(st, 1, group);
    int nomem = 0;
    while (!nomem && sqlite3_step(st) == SQLITE_ROW) {
        fn_library_face f = {.id = sqlite3_column_int64(st, 0)};
        nomem = collect(&d, &f);
    }
    sqlite3_finalize(st);
    if (nomem) {
        free(d.v);
        return fn_fail(FN_ERR_NOMEM, "contact sheet: out of memory listing the faces of group %lld", (long long)group);
    }
    int n = max_faces > 0 && d.n > max_faces ? max_faces : d.n;
    int rows = (n + cols - 1) / cols;
    fn_status s = fn_image_alloc(out, GAP + cols * (tile + GAP), FN_SHEET_BAND + rows * (tile + GAP) + GAP, 3);
    if (s != FN_OK) {
        free(d.v);
        return s;
    }
    fn_rgb bg = {32, 32, 32}, fg = {255, 255, 255};
    fn_draw_fill(out, 0, 0, out->w - 1, out->h - 1, bg);
    char title[FN_GALLERY_NAME_MAX + 96];
    const char *noun = d.n == 1 ? "face" : "faces";
    if (name[0]) snprintf(title, sizeof title, "%s (%d %s)", name, d.n, noun);
    else snprintf(title, sizeof title, "group %lld (%d %s)", (long long)group, d.n, noun);
    fn_draw_text(out, GAP + 2, (FN_SHEET_BAND - 2 * FN_FONT_H) / 2, title, 2, fg);
    int drawn = 0;
    for (int i = 0; s == FN_OK && i < n; i++) {
        fn_image t = {0};
        fn_status ts = fn_library_face_thumb(l, d.v[i], tile, &t);
        int x = GAP + (i % cols) * (tile + GAP), y = FN_SHEET_BAND + (i / cols) * (tile + GAP);
        if (ts == FN_OK) {
            for (int r = 0; r < tile; r++)
                memcpy(out->data + ((size_t)(y + r) * out->w + x) * 3, t.data + (size_t)r * tile * 3, (size_t)tile * 3);
            drawn++;
        } else if (ts == FN_ERR_NOMEM) {
            s = ts;
        } else {   /* the photo is gone or unreadable: a red cross in its place */
            fn_rgb red = {200, 40, 40};
            fn_draw_rect(out, x, y, x + tile - 1, y + tile - 1, 2, red);
        }
        fn_image_free(&t);
    }
    free(d.v);
    if (s != FN_OK) {
        fn_image_free(out);
        return s;
    }
    if (n_tiles) *n_tiles = drawn;
    return FN_OK;
}
