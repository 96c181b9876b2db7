/* pg.h — a gallery kept in PostgreSQL (libpq), shared by many processes.
 * Owns: the PostgreSQL schema (the SQLite gallery's tables: meta, people,
 * images, embeddings), the connection, writes through to it, and the
 * handle's local mirror: a private SQLite file (deleted at close) holding
 * the same rows with PostgreSQL's ids, so every read, check and search runs
 * on the tested SQLite code.  Each write is one PostgreSQL transaction (or
 * part of the caller's batch) committed before the mirror takes it, then
 * NOTIFY fn_gallery saying what changed ("add", "image ID", "person ID",
 * "rename ID", "meta KEY"); every handle LISTENs, and on its next read or
 * fn_gallery_refresh (at most every FN_GPG_POLL_MS) pulls just that: new
 * rows above the last pulled id, the removed ids, the renamed person, the
 * key.  An unknown payload, more than 256 at once, or a reconnection (whose
 * notifications are lost) re-reads everything.
 */
#ifndef FN_GALLERY_PG_H
#define FN_GALLERY_PG_H

#include <stdint.h>
#include "facenet.h"

struct fn_gallery;
typedef struct fn_gpg fn_gpg;

#define FN_GPG_POLL_MS 200   /* searches look for other servers' changes this often */

/* "postgresql://…" or "postgres://…". */
int fn_gpg_is_url(const char *path);
/* The URL without its password, for sentences (malloc'd). */
char *fn_gpg_redact(const char *url);

/* Connects, creates the tables (FN_GALLERY_CREATE) or checks them, reads the
 * identity (model_id, dim, preprocess_id) into model_out (malloc'd strings)
 * and picks the mirror's file name (*mirror, malloc'd). */
fn_status fn_gpg_open(struct fn_gallery *g, const fn_gallery_model *m, int flags, fn_gpg **out,
                      char **model_id, int *dim, char **preprocess_id, char **mirror);
void fn_gpg_close(fn_gpg *p);
/* Copies every row of PostgreSQL into the (empty or stale) mirror. */
fn_status fn_gpg_fill_mirror(struct fn_gallery *g);

/* Writes, each inside the caller's SQLite transaction on the mirror, before
 * the mirror's own insert.  Outside a batch each is its own PostgreSQL
 * transaction (committed here); in a batch they join it. */
fn_status fn_gpg_begin(struct fn_gallery *g);
fn_status fn_gpg_commit(struct fn_gallery *g);
void fn_gpg_rollback(struct fn_gallery *g);
/* The person (created if missing) and the image with its embedding
 * (normalised, g->rowbuf).  *dup = 1 when PostgreSQL already had this
 * person + file (another server enrolled it): *image is that row. */
fn_status fn_gpg_add(struct fn_gallery *g, const char *person, const fn_gallery_face *f, const float *vec,
                     int64_t *person_id, int64_t *image, int *dup, int64_t *added_at);
fn_status fn_gpg_remove_person(struct fn_gallery *g, const char *name);
fn_status fn_gpg_remove_image(struct fn_gallery *g, int64_t image_id);
fn_status fn_gpg_rename_person(struct fn_gallery *g, const char *old_name, const char *new_name);
fn_status fn_gpg_meta_set(struct fn_gallery *g, const char *key, const char *value);

/* Other handles' changes since the last look: *changed = 1 when the mirror
 * was brought up to date (the caller reloads).  Reconnects once when the
 * server went away. */
fn_status fn_gpg_pull(struct fn_gallery *g, int *changed);
/* 1 when the last poll is older than FN_GPG_POLL_MS (cheap, no lock). */
int fn_gpg_poll_due(fn_gpg *p);

#endif
