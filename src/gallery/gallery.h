/* gallery.h — the face gallery: who is enrolled, from which image files, and
 * their embeddings, in one SQLite file; plus nearest-person search in memory.
 * Owns: the .db schema, enrol/remove transactions and the search index.  It
 * never decodes images or runs networks: callers bring embeddings and hashes.
 */
#ifndef FN_GALLERY_H
#define FN_GALLERY_H

#include <stdint.h>
#include "facenet.h"
#include "core/sha256.h"

/* The gallery's public API (handles, enrolment, search) is declared in
 * include/facenet.h; this header adds what only the library shares. */
#define FN_GALLERY_SCHEMA 1         /* bump with a migration when the tables change */
/* Looking a file up by its hash (who else has it) without a table scan.
 * Schema 1 files made before it get it at their first write; an extra index
 * changes nothing an older facenet reads. */
#define FN_GALLERY_HASH_INDEX "CREATE INDEX IF NOT EXISTS images_sha256 ON images(sha256)"

#endif
