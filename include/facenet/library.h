/* facenet/library.h — a photo library: every face of every photo under
 * some folders (file, box, landmarks, probability, quality, embedding),
 * kept up to date by incremental scans, grouped into people by clustering,
 * and corrected and named by the user.  A named group becomes a person of
 * the gallery, so identify and watch recognise them.
 *
 * Storage: tables lib_files, lib_faces, lib_groups and lib_meta inside the
 * gallery file the user names (--gallery LIB.db), through a connection of
 * the library's own; the gallery's tables are only read (its model id) and
 * written through the gallery API (fn_gallery_add_ex).  The file must be a
 * gallery already: open it with fn_gallery_open(FN_GALLERY_CREATE) first.
 *
 * Threads: one fn_library handle is used by one thread at a time; the scan
 * runs the bulk executor's workers internally (fn_batch).
 */
#ifndef FACENET_LIBRARY_H
#define FACENET_LIBRARY_H

#include "facenet/core.h"
#include "facenet/engine.h"
#include "facenet/gallery.h"
#include "facenet/cluster.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

typedef struct fn_library fn_library;

/* Opens the library tables of the gallery file path (created when missing;
 * the gallery's own tables must be there: FN_ERR_NOT_FOUND / FN_ERR_DB name
 * the file otherwise).  model: the embeddings' model; a library scanned with
 * another model is refused (FN_ERR_MISMATCH); NULL or model_id NULL: any. */
fn_status fn_library_open(const char *path, const fn_gallery_model *model, fn_library **out);
/* The same for reading only (lists, contact sheets, exports): nothing is
 * written, not even the library tables — a gallery without them is
 * FN_ERR_NOT_FOUND ("no photo library ... run facenet scan") — and a file
 * whose folder cannot be written is read as the gallery's READONLY open
 * reads it.  Writing calls on such a handle fail with FN_ERR_DB. */
fn_status fn_library_open_readonly(const char *path, const fn_gallery_model *model, fn_library **out);
void fn_library_close(fn_library *l);

/* ---------------------------------------------------------------- scan */

/* The working resolution of a scan by default: the longer side, in pixels,
 * photos are reduced to before detection.  Measured by bench/scan.sh on
 * Film photos upscaled to 6000x4000 (README "Photo library"): at 1200 and
 * 1600 px the scan finds exactly the 7 faces detection finds in the
 * original photos; 2000 px and full size add 2 and 4 detections under 20 px
 * in the originals (nothing a face can be recognised from); 1200-2000 px
 * cost the same (decoding the 24 Mpx JPEG dominated), full size 2.4x more.
 * A JPEG at least twice this size is decoded at 1/2, 1/4 or 1/8 (keeping
 * the longer side >= this) and faces are aligned from that decode
 * (fn_scan_params.full_decode). */
#define FN_SCAN_DEFAULT_SIDE 1600

/* Faces with quality below this take no part in forming groups (they are
 * attached to a group afterwards or left as noise). */
#define FN_LIBRARY_SEED_QUALITY 0.25f
/* A low-quality face joins a group only this close to one of its faces,
 * as a fraction of the clustering threshold (0.75 at the default 0.90):
 * pairs under 0.75 were 99.6 % same-person pairs on the LFW tuning people
 * (single linkage, eval-cluster), and a tiny or blurred face's embedding
 * is the least reliable.  On Film a 21x25-pixel face otherwise joined
 * another person's group at 0.87.  Used when fn_cluster_params'
 * attach_threshold is 0. */
#define FN_LIBRARY_ATTACH_RATIO (0.75f / 0.90f)

typedef struct fn_scan_params {
    int max_side;      /* working resolution (0: FN_SCAN_DEFAULT_SIDE; -1: full resolution) */
    int workers;       /* fn_batch_params.workers (0: one per CPU) */
    int batch;         /* fn_batch_params.batch (0: 32) */
    int commit_files;  /* files per transaction (0: 64; also committed every second) */
    int full_decode;   /* 1: decode every photo at full size; 0: a JPEG much larger than max_side is
                          decoded at 1/2, 1/4 or 1/8 (fn_batch_params.reduced_decode) */
    int prune;         /* 1: photos gone with their file system lose their faces too; 0 (default):
                          they are kept (fn_scan_stats.kept_missing) -- an unmounted drive or
                          share looks just like that (see fn_library_scan) */
} fn_scan_params;

void fn_scan_params_init(fn_scan_params *p);

typedef enum fn_scan_action {
    FN_SCAN_NEW = 0,     /* analysed: a file not in the library */
    FN_SCAN_CHANGED,     /* analysed again: its content changed (old faces replaced) */
    FN_SCAN_UNCHANGED,   /* same path, size and modification time: not read */
    FN_SCAN_TOUCHED,     /* size or time differ but the content hash is the same: not analysed */
    FN_SCAN_MOVED,       /* a known file under a new path (same hash, old path gone): faces kept */
    FN_SCAN_FAILED,      /* could not be read or analysed (error says why); nothing stored */
    FN_SCAN_REMOVED      /* a library file under the scanned paths that no longer exists: faces removed */
} fn_scan_action;

const char *fn_scan_action_name(fn_scan_action a);   /* "new", "changed", ... */

typedef struct fn_scan_event {
    const char *path;        /* absolute */
    fn_scan_action action;
    int faces;               /* faces stored for the file (new, changed), kept (moved), removed (removed) */
    const char *from;        /* FN_SCAN_MOVED: the old path; else NULL */
    const char *error;       /* FN_SCAN_FAILED: the sentence; else NULL */
    int done, total;         /* files handled so far, and in all */
} fn_scan_event;

/* Called on the scanning thread after each file; a non-zero return stops
 * the scan (what was committed stays; the rest is done by the next scan). */
typedef int (*fn_scan_fn)(void *user, const fn_scan_event *ev);

typedef struct fn_scan_stats {
    int files, added, changed, unchanged, touched, moved, failed, removed;
    int kept_missing;        /* photos gone with their file system (a drive away): kept (prune = 0) */
    int64_t faces_added, faces_removed;
    int stopped;             /* the callback stopped the scan */
    int faces_restored;      /* faces of photos removed before and back now (same content) that took up
                                their group, lock or not-a-face again */
} fn_scan_stats;

/* Scans files (n image paths, e.g. the JPEG/PNG files found under roots)
 * with engine e: a file whose path, size and modification time are stored
 * is not read; otherwise it is hashed and, unless its hash is the stored
 * one or that of a library file whose path is gone (a move), decoded,
 * detected at the working resolution, aligned, embedded and stored with a
 * quality per face.  Library files under one of roots (folders or files;
 * may be NULL) that were not among files and no longer exist are removed
 * with their faces -- unless the nearest folder above one that still
 * exists is on another file system (st_dev) than the file was: an
 * unmounted drive's mount point, or the folder above a removable drive's
 * (for a file stored before file systems were recorded: when that folder
 * holds no photo now); p->prune removes them anyway.  The user's word on
 * a removed file's faces (group, lock, not-a-face) is kept by content for
 * a year and taken up again by a file of that content (faces matched by
 * box overlap and embedding), as it is by a changed file's faces found
 * again.  The gallery person of a named group keeps them until
 * fn_library_sync_gallery (which `facenet scan` calls when faces were
 * removed, restored or files moved).  Writes are committed every
 * commit_files files or second, so after a crash (kill -9) a re-run finds
 * what was committed and does the rest.  cb may be NULL; st may be NULL. */
fn_status fn_library_scan(fn_library *l, fn_engine *e, const char *const *files, int n, const char *const *roots,
                          int nroots, const fn_scan_params *p, fn_scan_fn cb, void *user, fn_scan_stats *st);

/* The quality of a face in [0, 1], the product of three scores: size (the
 * box's shorter side s in pixels of the photo: 0 at 20 px, 1 from 60 px),
 * sharpness (fn_image_sharpness of its aligned crop v: 0 at 10, 1 from 60),
 * pose (from the landmarks: the nose's offset from the eyes' midpoint along
 * the eye line, as a fraction of the eye distance, t: 1 at 0, 0 from 0.5,
 * i.e. a profile).  *yaw (may be NULL) gets t. */
float fn_face_quality(const fn_face *f, float sharpness, float *yaw);

/* ---------------------------------------------------------------- faces */

typedef struct fn_library_face {
    int64_t id, file_id;
    const char *path;          /* the photo (absolute) */
    const char *hash_hex;      /* its SHA-256 */
    fn_face face;              /* box, probability, landmarks in the photo's pixels */
    float sharpness, yaw, quality;
    int64_t group;             /* 0: in no group (new, or noise) */
    int locked;                /* placed by the user (move): a re-cluster leaves it */
    int not_face;              /* marked not a face: in no group, never enrolled */
    const float *embedding;    /* dim floats, L2-normalised */
    int dim;
} fn_library_face;

/* Visit faces in id order: all (group -1), those of one group (> 0) or
 * those in no group (0).  Pointers are valid during the call only; fn must
 * not call back into l; a non-zero return stops the walk. */
fn_status fn_library_faces(fn_library *l, int64_t group, int (*fn)(void *ctx, const fn_library_face *f), void *ctx);
/* One face by id (FN_ERR_NOT_FOUND); pointers valid until the next call on l. */
fn_status fn_library_face_get(fn_library *l, int64_t id, fn_library_face *out);
/* Counts: files, faces, groups. */
fn_status fn_library_count(fn_library *l, int64_t *files, int64_t *faces, int64_t *groups);
/* Visit every scanned photo's path (absolute), faces or none, in id order
 * -- what a writer of files must never replace.  path is valid during the
 * call only; fn must not call back into l; a non-zero return stops the walk. */
fn_status fn_library_files(fn_library *l, int (*fn)(void *ctx, const char *path), void *ctx);

/* ---------------------------------------------------------------- groups */

typedef struct fn_library_cluster_stats {
    int faces;          /* faces considered (not marked not-a-face) */
    int joined;         /* new faces that joined an existing group */
    int new_groups;     /* groups formed */
    int grouped;        /* new faces placed in new groups */
    int noise;          /* faces left in no group */
    int kept;           /* faces whose group was left as it was */
    int searched;       /* incremental: faces searched against the library (those in no group) */
    int64_t distances;  /* incremental: distances computed (fn_cluster_extend_stats); full: 0 */
} fn_library_cluster_stats;

/* Groups the faces.  Incremental (full 0): faces already in a group stay;
 * only the faces in no group are searched against the library and placed
 * by fn_cluster_extend (the rule of p's method), and the rest are
 * clustered among themselves with p into new groups of 2 or more.  full 1: every face not locked
 * and not in a named or corrected group is clustered again with p, and a
 * new group overlapping an old unlocked one keeps its id.  Faces of named
 * or corrected groups never move.  Faces with quality below min_quality
 * never seed a group (fn_cluster's seed_ok).  p NULL: fn_cluster_params_init. */
fn_status fn_library_cluster(fn_library *l, const fn_cluster_params *p, float min_quality, int full,
                             fn_library_cluster_stats *st);

/* What fn_library_cluster would do, with nothing written: the same run in
 * a transaction that is rolled back.  Before the rollback each face (as
 * fn_library_faces(l, -1, ...) gives it: in id order) is passed to fn with
 * the group it would be in; a group the run would make has the id a real
 * run makes next (the library's next free group id).  fn may be NULL;
 * st as fn_library_cluster's.  `facenet cluster --dry-run`. */
fn_status fn_library_cluster_preview(fn_library *l, const fn_cluster_params *p, float min_quality, int full,
                                     fn_library_cluster_stats *st,
                                     int (*fn)(void *ctx, const fn_library_face *f), void *ctx);

/* The clustering threshold stored with the library (by `facenet cluster
 * --calibrate-on DIR`, fn_cluster_tune on labelled faces), used by cluster
 * when no threshold is given.  get: FN_ERR_NOT_FOUND when none is stored;
 * set: t in (0, 2], method as tuned; t = 0 forgets the stored one (method
 * ignored; later clusterings use the model's default); FN_ERR_ARG otherwise. */
fn_status fn_library_get_cluster_threshold(fn_library *l, float *t, fn_cluster_method *method);
fn_status fn_library_set_cluster_threshold(fn_library *l, float t, fn_cluster_method method);

typedef struct fn_library_group {
    int64_t id;
    const char *name;       /* "" when unnamed */
    int64_t n_faces;
    int locked;             /* named or corrected by the user */
    int64_t best_face;      /* its face of highest quality (the representative) */
} fn_library_group;

/* Visit groups, largest first (ties: lower id). */
fn_status fn_library_groups(fn_library *l, int (*fn)(void *ctx, const fn_library_group *g), void *ctx);
/* The group a user means: a number is an id, anything else a name
 * (normalised as gallery names).  FN_ERR_NOT_FOUND names what was given. */
fn_status fn_library_find_group(fn_library *l, const char *id_or_name, int64_t *id);

/* Names a group (the name normalised as gallery names; FN_ERR_ARG when
 * another group has it, when it is all digits, which fn_library_find_group
 * would read as a group number, or "group-N", an unnamed group's) and
 * locks it; its faces are enrolled as that person
 * in g (fn_gallery_add_ex, one face per file).  When the person did not
 * exist in g before, the library owns it: later edits of the group remove
 * and re-add the person so it holds exactly the group's faces.  A person
 * the user had enrolled otherwise is only ever added to, never removed.
 * g may be NULL (library only). */
fn_status fn_library_name_group(fn_library *l, int64_t group, const char *name, fn_gallery *g);
/* Moves every face of group `from` into `into` (locked), deletes `from`.
 * The name: into's, else from's.  Both named differently: into's stays,
 * and from's gallery person is removed -- when the library made it; one
 * enrolled by hand keeps its photos, so that merge is FN_ERR_ARG (the
 * photos would stand under two names).  into's gallery person follows. */
fn_status fn_library_merge(fn_library *l, int64_t into, int64_t from, fn_gallery *g);
/* Moves faces to group `to` (0: a new group, *new_group gets its id; may be
 * NULL), locking the faces and the groups involved. */
fn_status fn_library_move_faces(fn_library *l, const int64_t *faces, int n, int64_t to, fn_gallery *g,
                                int64_t *new_group);
/* Marks faces as not faces: out of their groups, never grouped again. */
fn_status fn_library_not_a_face(fn_library *l, const int64_t *faces, int n, fn_gallery *g);

/* Brings every named group's person in g up to date (after clustering
 * added faces to named groups, or a scan removed some).  A person renamed
 * in the gallery since (fn_gallery_rename_person, `facenet gallery rename`,
 * the HTTP API) renames the group; a person removed there leaves the group
 * unnamed (its faces and corrections kept) rather than enrolled again.
 * The people edits above follow the gallery the same way. */
fn_status fn_library_sync_gallery(fn_library *l, fn_gallery *g);

/* A face thumbnail: the box grown by 20 % on each side, cut from the photo
 * and resized to size x size (RGB).  out is allocated. */
fn_status fn_library_face_thumb(fn_library *l, int64_t face, int size, fn_image *out);
/* A contact sheet of a group: a grid of cols columns of tile x tile face
 * thumbnails (its best faces first, at most max_faces; 0: all), under a
 * band with the group's name (or "group N") and its face count, on a dark
 * background with 4-pixel gaps.  *n_tiles (may be NULL) gets the faces
 * drawn.  Size: width 4 + cols x (tile + 4), height band + rows x (tile + 4)
 * + 4, band = FN_SHEET_BAND. */
#define FN_SHEET_BAND 28
fn_status fn_library_contact_sheet(fn_library *l, int64_t group, int tile, int cols, int max_faces, fn_image *out,
                                   int *n_tiles);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
