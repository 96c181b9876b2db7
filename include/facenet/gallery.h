/* facenet/gallery.h — the face gallery: who is enrolled, from which image
 * files, and their embeddings, in one SQLite file, with nearest-person search
 * in memory; and the threshold rule that turns a distance into a name.
 * Never decodes images or runs networks: callers bring embeddings and hashes.
 */
#ifndef FACENET_GALLERY_H
#define FACENET_GALLERY_H

#include "facenet/core.h"
#include "facenet/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declared here = exported from libfacenet.so (the library is compiled with
 * -fvisibility=hidden; `make check-exports` checks both ways). */
#pragma GCC visibility push(default)

#define FN_GALLERY_NAME_MAX 128     /* person names: 1..127 bytes, UTF-8 */

/* Person names are stored and looked up in one spelling: valid UTF-8,
 * Unicode Normalization Form C (UAX #15, computed by utf8proc), without
 * leading or trailing white space (Unicode White_Space, e.g. U+0020, U+00A0,
 * U+3000, TAB), no control characters.  So "José" (NFC), "José" (NFD, as
 * macOS names folders) and "José " are one person.  Every gallery call that
 * takes a name applies it (add, has_image, remove, rename, list_images,
 * file_owner); names in results are in this form.  A person stored by an
 * older facenet under another spelling is still found (both sides are
 * normalised when comparing) and shown normalised.
 * out gets at most cap bytes including the NUL; *changed (may be NULL) = 1
 * when out differs from in, so a caller can say so.  Errors (FN_ERR_ARG):
 * invalid UTF-8 (the byte offset is named), empty or only white space, a
 * control character; FN_ERR_LIMIT: longer than FN_GALLERY_NAME_MAX - 1
 * bytes once normalised. */
fn_status fn_gallery_normalize_name(const char *in, char *out, size_t cap, int *changed);

typedef struct fn_gallery fn_gallery;
typedef struct fn_gallery_scratch fn_gallery_scratch;

enum {
    FN_GALLERY_CREATE = 1,   /* create the file (and its tables) when missing */
    FN_GALLERY_READONLY = 2, /* never write: searching, listing */
    FN_GALLERY_CHECK = 4,    /* run fn_gallery_check() before returning the handle */
};

/* What the embeddings were made with.  A gallery refuses a run whose model id
 * or dim differs from the one it was built with (FN_ERR_MISMATCH).  When
 * opening an existing gallery, model_id NULL / dim 0 / preprocess_id NULL mean
 * "whatever is stored" (for list/remove tools that never embed). */
typedef struct fn_gallery_model {
    const char *model_id;       /* e.g. "mobilefacenet-192@sha256:…" */
    int dim;                    /* embedding length */
    const char *preprocess_id;  /* e.g. "arcface112-rgb-127.5/128"; NULL = unchecked */
} fn_gallery_model;

fn_status fn_gallery_open(const char *path, const fn_gallery_model *model, int flags, fn_gallery **out);
void fn_gallery_close(fn_gallery *g);
/* 1 when path is a PostgreSQL URL ("postgresql://..." or "postgres://..."),
 * which fn_gallery_open takes in place of a file (below); 0 otherwise. */
int fn_gallery_is_url(const char *path);
/* The model the gallery was built with (pointers live as long as g). */
fn_gallery_model fn_gallery_model_of(const fn_gallery *g);

/* Explicit transaction around several adds/removes: all or nothing.  Without
 * one, every add/remove/rename commits on its own.  A failed commit rolls the
 * batch back; searches on this handle see a batch's rows before its commit. */
fn_status fn_gallery_begin(fn_gallery *g);
fn_status fn_gallery_commit(fn_gallery *g);
fn_status fn_gallery_rollback(fn_gallery *g);

typedef struct fn_gallery_face {
    const char *person;        /* who it is */
    const char *image_path;    /* as the user named it; kept for display only */
    const char *hash_hex;      /* fn_hash_file() of the image bytes: its identity */
    float box[4];              /* x1, y1, x2, y2 in pixels of the original image */
    float prob;                /* detector probability */
    const float *embedding;    /* dim floats; stored L2-normalised */
} fn_gallery_face;

typedef enum fn_gallery_added {
    FN_GALLERY_ADDED = 1,
    FN_GALLERY_SKIPPED_DUPLICATE = 2,     /* this person already has this file */
    FN_GALLERY_REFUSED_OTHER_PERSON = 3   /* this face of this file is enrolled under another person */
} fn_gallery_added;

/* Two faces of one file (same SHA-256) are the same face when their boxes
 * overlap by at least this intersection over union; different faces of one
 * group photo may belong to different people. */
#define FN_GALLERY_SAME_FACE_IOU 0.5

enum { FN_GALLERY_ADD_ALLOW_OTHER_PERSON = 1 };   /* fn_gallery_add_ex flag */

typedef struct fn_gallery_add_info {
    fn_gallery_added result;
    int64_t image_id;                          /* the new or existing image; 0 when refused */
    char person[FN_GALLERY_NAME_MAX];          /* the name as stored (normalised) */
    int name_changed;                          /* 1 when person differs from the name given */
    char other_person[FN_GALLERY_NAME_MAX];    /* "" or who else has this face of this file */
    int64_t other_image_id;                    /* that person's image, or 0 */
} fn_gallery_add_info;

/* Enrols one face (the name is normalised, see fn_gallery_normalize_name).
 * The same person + same file hash again is not duplicated:
 * FN_GALLERY_SKIPPED_DUPLICATE.  The same face of the same file already
 * enrolled under *another* person is refused by default
 * (FN_GALLERY_REFUSED_OTHER_PERSON, info->other_person names them, nothing is
 * written): one photo of one face is one person, and a second label is far
 * more often a mislabelled folder than a wish; the wrong label would make
 * identify a tie between the two and calibration meaningless.  With
 * FN_GALLERY_ADD_ALLOW_OTHER_PERSON it is added anyway, and other_person is
 * still set so the caller can warn.  Refusal is not an error: FN_OK. */
fn_status fn_gallery_add_ex(fn_gallery *g, const fn_gallery_face *f, int flags, fn_gallery_add_info *info);
/* fn_gallery_add_ex with flags 0.  result and image_id may be NULL. */
fn_status fn_gallery_add(fn_gallery *g, const fn_gallery_face *f, fn_gallery_added *result, int64_t *image_id);
/* Who, other than except_person (NULL: anyone), has an image of this file
 * hash (any face of it): the first such person by image id in other, or ""
 * when none.  Lets an enroller report a conflict before detecting faces. */
fn_status fn_gallery_file_owner(fn_gallery *g, const char *hash_hex, const char *except_person,
                                char other[FN_GALLERY_NAME_MAX]);
/* *yes = 1 when this person already has an image with this hash (lets a
 * caller skip detection and embedding for files it has already enrolled). */
fn_status fn_gallery_has_image(fn_gallery *g, const char *person, const char *hash_hex, int *yes);
/* Removes a person with all their images and embeddings.  *removed_images may be NULL. */
fn_status fn_gallery_remove_person(fn_gallery *g, const char *name, int64_t *removed_images);
/* Removes one image (fn_gallery_image.id) with its embedding; its person
 * stays, with one image fewer (possibly none).  FN_ERR_NOT_FOUND when there
 * is no such image; FN_ERR_ARG inside fn_gallery_begin's batch.  The search
 * index is reloaded from the file (O(gallery)). */
fn_status fn_gallery_remove_image(fn_gallery *g, int64_t image_id);
/* FN_ERR_NOT_FOUND when old is missing, FN_ERR_ARG when new already exists. */
fn_status fn_gallery_rename_person(fn_gallery *g, const char *old_name, const char *new_name);

typedef struct fn_gallery_person { int64_t id; const char *name; int64_t n_images; } fn_gallery_person;
typedef struct fn_gallery_image {
    int64_t id, person_id;
    const char *path, *hash_hex;
    float box[4], prob;
    int64_t added_unix;
} fn_gallery_image;
/* Visit people in name order; a non-zero return from fn stops the walk.
 * The pointers in the record are valid only during the call, and fn must
 * not call back into g (the handle is locked while it runs). */
fn_status fn_gallery_list(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_person *p), void *ctx);
/* Visit one person's images (all people when person is NULL) in id order. */
fn_status fn_gallery_list_images(fn_gallery *g, const char *person,
                                 int (*fn)(void *ctx, const fn_gallery_image *im), void *ctx);
fn_status fn_gallery_count(fn_gallery *g, int64_t *people, int64_t *images);
/* Visit every enrolled embedding (as the search index holds it:
 * L2-normalised) with its person, in enrolment order; a non-zero return
 * stops the walk.  Pointers are valid only during the call, and fn must not
 * call back into g.  For calibration and evaluation over a whole gallery. */
typedef struct fn_gallery_embedding {
    int64_t image_id, person_id;
    const char *person;
    const float *embedding;
    int dim;
    /* the lowest image id showing the same face of the same file (same
     * SHA-256, boxes overlapping by FN_GALLERY_SAME_FACE_IOU), image_id when
     * none: two rows with one face_id are one face enrolled twice, neither a
     * genuine nor an impostor pair */
    int64_t face_id;
} fn_gallery_embedding;
fn_status fn_gallery_embeddings(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_embedding *e), void *ctx);

/* The decision threshold on Euclidean distance (of L2-normalised embeddings)
 * stored with the gallery, e.g. from calibration.  get: FN_ERR_NOT_FOUND when
 * none is stored. */
fn_status fn_gallery_get_threshold(fn_gallery *g, float *threshold);
fn_status fn_gallery_set_threshold(fn_gallery *g, float threshold);
/* Free-form metadata.  Keys the gallery manages itself (schema_version,
 * model_id, dim, preprocess_id, threshold) are read-only here. */
fn_status fn_gallery_meta_get(fn_gallery *g, const char *key, char *value, size_t cap);
fn_status fn_gallery_meta_set(fn_gallery *g, const char *key, const char *value);

/* One image of a file enrolled under more than one person (the same face:
 * boxes overlapping by FN_GALLERY_SAME_FACE_IOU).  Pointers are valid only
 * during the callback. */
typedef struct fn_gallery_conflict {
    const char *hash_hex;   /* the file */
    int64_t image_id;
    const char *person;     /* normalised */
    const char *path;       /* as enrolled */
} fn_gallery_conflict;
/* Visits every image involved in a conflict, grouped by file (hash order),
 * then by image id; fn may be NULL.  *n_files (may be NULL) = how many files
 * are enrolled under more than one person. */
fn_status fn_gallery_conflicts(fn_gallery *g, int (*fn)(void *ctx, const fn_gallery_conflict *c), void *ctx,
                               int64_t *n_files);

/* Full consistency check: SQLite's integrity_check and foreign_key_check,
 * every row's values (types, ranges, names, hashes, boxes), every image has
 * exactly one embedding of the right size (FN_ERR_DB, the sentence names the
 * table and row); then the labels: a file enrolled under two people, or two
 * people whose names are equal once normalised (FN_ERR_MISMATCH, the
 * sentence names the file and the people). */
fn_status fn_gallery_check(fn_gallery *g);
/* Reloads the in-memory index if another connection changed the file since it
 * was loaded (*reloaded = 1).  reloaded may be NULL.  A PostgreSQL gallery
 * first pulls what other processes wrote; when its server cannot be reached
 * the handle keeps its rows and this returns FN_ERR_UNAVAILABLE (each call
 * advances a non-blocking reconnection by at most 100 ms; searches go on
 * answering meanwhile). */
fn_status fn_gallery_refresh(fn_gallery *g, int *reloaded);

/* ---- PostgreSQL galleries, and copying between backends ---- */

/* fn_gallery_open also takes a PostgreSQL URL ("postgresql://user@host/db",
 * or "postgresql:///db?host=/run/postgresql" for a unix socket; libpq's
 * syntax): the same tables, identity, names and duplicate rules as a file,
 * in that database, shared by every process that opens it.  Each enrolment,
 * removal, rename or threshold is one PostgreSQL transaction (or part of a
 * fn_gallery_begin batch) followed by NOTIFY fn_gallery; every handle
 * LISTENs and, on its next search (at most every 200 ms) or
 * fn_gallery_refresh, pulls what other processes wrote, so an enrolment on
 * one server is identified by the others within a second.  Reads and
 * searches run on a private SQLite copy of the rows (a temporary file in
 * $TMPDIR, gone at close; those of killed processes are deleted by the next
 * open): when the server is unreachable searches keep answering, and
 * the handle reconnects on its next write or refresh (LISTEN again, then
 * one full re-read, since notifications sent meanwhile are lost).  A write
 * while it is unreachable fails with FN_ERR_UNAVAILABLE and a sentence
 * saying whether anything was committed; a write is never half-committed
 * (a connection lost inside its transaction is not retried on a new one).
 * libpq waits 5 s for a connection unless the URL sets connect_timeout.
 * Sentences name the URL without its password. */

/* Copies every person, image (path, hash, box, probability, date) and
 * embedding (bytes unchanged) of src into dst, the calibrated threshold and
 * the free-form metadata, in one batch on dst: all or nothing.  Either may
 * be a file or a PostgreSQL gallery; both must hold one model
 * (FN_ERR_MISMATCH).  Images dst already has are skipped (*skipped);
 * copied and skipped may be NULL. */
fn_status fn_gallery_copy(fn_gallery *src, fn_gallery *dst, int64_t *copied, int64_t *skipped);

/* ---- search ---- */

typedef struct fn_gallery_hit {
    int64_t image_id, person_id;   /* -1 when there is no such hit */
    float distance;                /* Euclidean, on L2-normalised vectors: sqrt(2 - 2 cos); INFINITY when absent */
} fn_gallery_hit;

/* Person-level answer for one query: the nearest person (by their nearest
 * image) and the nearest *different* person, with names. */
typedef struct fn_gallery_match {
    fn_gallery_hit best, second;
    char best_name[FN_GALLERY_NAME_MAX], second_name[FN_GALLERY_NAME_MAX];
} fn_gallery_match;

/* Per-thread working memory for search, sized once: queries are scored in
 * chunks of max_queries.  One scratch per calling thread. */
fn_status fn_gallery_scratch_new(const fn_gallery *g, int max_queries, fn_gallery_scratch **out);
void fn_gallery_scratch_free(fn_gallery_scratch *s);

/* Scores nq queries (row-major nq x dim, any norm: normalised on the fly)
 * against every enrolled embedding.  matches: nq results (may be NULL).
 * topk: nq x k image-level hits, nearest first, ties broken by the lower
 * image id (may be NULL; slots beyond the gallery size get id -1).  Safe to
 * call from several threads at once on one handle, each with its own
 * scratch; allocates nothing.  An empty gallery gives FN_ERR_NOT_FOUND. */
fn_status fn_gallery_search(fn_gallery *g, fn_gallery_scratch *s, const float *queries, int nq, int k,
                            fn_gallery_match *matches, fn_gallery_hit *topk);

/* Person-level top-k: for each of nq queries the k nearest *people*, each
 * by their nearest image (image_id), nearest first, ties by the lower image
 * id; people = nq x k hits, slots beyond the number of people get ids -1
 * and distance INFINITY.  Threading and errors as fn_gallery_search. */
fn_status fn_gallery_search_people(fn_gallery *g, fn_gallery_scratch *s, const float *queries, int nq, int k,
                                   fn_gallery_hit *people);

/* ---- approximate search for big galleries (FAISS) ---- */

/* From FN_GALLERY_ANN_MIN_ROWS embeddings up, fn_gallery_search,
 * fn_gallery_search_people and fn_gallery_name_faces take their candidates
 * from a FAISS HNSW index (Malkov & Yashunin 2018, "Efficient and robust
 * approximate nearest neighbor search using Hierarchical Navigable Small
 * World graphs"; M = 32, efSearch 96) and re-score every candidate exactly,
 * so distances are exact and only recall is approximate (recall@1 against
 * the exact scan: docs/scale.md).  A query whose candidates hold fewer people
 * (or hits) than asked retries with more candidates, then scans exactly, so
 * a person with many images cannot hide the second-best person.  Below the
 * threshold the exact BLAS scan runs, as before.  The index is kept in step
 * with enrol/remove, saved beside the gallery as "<path>.ann" by a writable
 * handle at close, and reconciled with the rows at the next open (image ids
 * and a hash of each embedding), so a stale file costs time, never a wrong
 * row.  Memory: about dim x 4 + 300 bytes a row on top of the exact index. */
#define FN_GALLERY_ANN_MIN_ROWS 50000

/* min_rows: 0 = the default (FN_GALLERY_ANN_MIN_ROWS), < 0 = exact search
 * always, else the threshold.  Applies now: may build the index (seconds
 * per 100k rows on 2 cores) or read the sidecar. */
fn_status fn_gallery_set_ann(fn_gallery *g, int64_t min_rows);

typedef struct fn_gallery_ann_info {
    int active;            /* 1: searches go through the ANN index now */
    int64_t rows;          /* embeddings in the search index */
    int64_t min_rows;      /* the threshold in force (< 0: off) */
    char kind[16];         /* "hnsw", "ivf-sq8", or "exact" when there is no ANN index */
    int64_t ann_bytes;     /* memory of the ANN index (graph and vectors), bytes */
    int64_t exact_bytes;   /* memory of the exact index (rows x dim floats and ids), bytes */
} fn_gallery_ann_info;
fn_status fn_gallery_get_ann(fn_gallery *g, fn_gallery_ann_info *info);

/* ---- naming the faces of one picture jointly ---- */

/* A person appears at most once in a photo or a video frame.  Given the
 * distances of n_faces faces to n_people people (row-major, Euclidean on
 * L2-normalised embeddings; INFINITY = not a candidate), names are assigned
 * so that each person names at most one face, and the total cost is least,
 * where a face named j costs d(i, j) (only when d(i, j) <= threshold) and an
 * unknown face costs threshold: i.e. the most total margin
 * sum(threshold - d) over named faces.  A face displaced from its nearest
 * person gets its next acceptable one, or unknown.  Method: the Hungarian
 * algorithm (Kuhn 1955; Munkres 1957), O(n_faces^2 (people within the
 * threshold of some face + n_faces)).  person_of_face[i] = column j, or -1
 * (unknown).  Allocates nothing for up to a few dozen faces. */
#define FN_ASSIGN_MAX_FACES 256
fn_status fn_assign_faces(const float *dist, int n_faces, int n_people, float threshold, int *person_of_face);
/* The same from each face's k nearest people (fn_gallery_search_people):
 * cand = n_faces x k hits; choice[i] = the index in face i's list of the
 * person it is named, or -1 (unknown).  Exact when k >= n_faces: a face is
 * never pushed further down its list than the number of other faces. */
fn_status fn_assign_candidates(const fn_gallery_hit *cand, int n_faces, int k, float threshold, int *choice);

/* The names of the faces of one picture, as identify and watch give them. */
typedef struct fn_gallery_naming {
    fn_gallery_match nearest;          /* the face's own nearest and second person (fn_gallery_search) */
    fn_gallery_hit named;              /* the person it is named; person_id -1 = unknown */
    char name[FN_GALLERY_NAME_MAX];    /* their name, "" when unknown */
    int displaced;                     /* 1: its nearest person, within the threshold, names another face */
} fn_gallery_naming;
enum { FN_GALLERY_ALLOW_REPEATS = 1 };  /* each face its nearest person (mirrors, posters, twins' photo) */
/* Names n faces of one picture (emb: n x dim) at threshold: jointly by
 * fn_assign_candidates over each face's n nearest people (each person names
 * at most one face), or with FN_GALLERY_ALLOW_REPEATS each face its nearest
 * person within the threshold.  out: n results.  Threading as
 * fn_gallery_search (scratch per thread); allocates only for more than 16
 * faces. */
fn_status fn_gallery_name_faces(fn_gallery *g, fn_gallery_scratch *s, const float *emb, int n, float threshold,
                                int flags, fn_gallery_naming *out);

/* ---- the engine's view ---- */

/* The fn_gallery_model of what e produces: open a gallery with it so that a
 * gallery built by another model is refused (FN_ERR_MISMATCH).  e NULL gives
 * the all-zero model ("whatever is stored").  Pointers live as long as e. */
fn_gallery_model fn_gallery_model_of_engine(const fn_engine *e);

/* ---- the threshold rule ---- */

/* Where a decision threshold came from, in order of precedence. */
typedef enum fn_threshold_source {
    FN_THRESHOLD_EXPLICIT = 0,   /* the caller's own (a --threshold flag) */
    FN_THRESHOLD_GALLERY,        /* stored with the gallery by calibration (fn_gallery_set_threshold) */
    FN_THRESHOLD_MODEL           /* the model's default (fn_engine_threshold: chosen on LFW DevTrain) */
} fn_threshold_source;

/* The threshold to apply on the Euclidean distance of L2-normalised
 * embeddings (a match is known when distance <= threshold): explicit when it
 * is >= 0 (pass a negative value for "none"), else the gallery's calibrated
 * one when g holds one (g may be NULL), else the model's default.  source
 * (may be NULL) says which. */
float fn_decision_threshold(fn_gallery *g, const fn_engine *e, float explicit_threshold, fn_threshold_source *source);
/* "--threshold" / "explicit", "gallery (calibrated)", "model default". */
const char *fn_threshold_source_name(fn_threshold_source s);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
