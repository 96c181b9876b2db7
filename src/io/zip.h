/* zip.h — read-only view of a zip archive that is already in memory.
 * Owns: finding the central directory (zip64 included) and locating STORED
 * entries by name; never decompresses and never allocates.  PyTorch writes
 * its checkpoints uncompressed, so a compressed entry is an error here.
 */
#ifndef FN_IO_ZIP_H
#define FN_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include "facenet.h"

typedef struct fn_zip {
    const unsigned char *buf;   /* the whole file, borrowed */
    size_t len;
    size_t cd_offset, cd_size;  /* central directory */
    uint64_t entries;
    const char *path;           /* for messages */
} fn_zip;

/* One entry as the central directory describes it. */
typedef struct fn_zip_entry {
    const char *name;           /* not NUL-terminated: name_len bytes */
    size_t name_len;
    const unsigned char *data;  /* the stored bytes inside buf (after fn_zip_data) */
    size_t size;
    uint32_t crc32;
    uint16_t flags, method;     /* as the directory says */
    uint64_t csize, local;      /* compressed size, local header offset */
} fn_zip_entry;

/* True if buf starts like a zip archive (local file header signature). */
int fn_zip_sniff(const unsigned char *buf, size_t len);
fn_status fn_zip_open(fn_zip *z, const unsigned char *buf, size_t len, const char *path);
/* Visit the entries in directory order; *pos is the cursor (start at 0).
 * Returns FN_ERR_NOT_FOUND, without a message, after the last entry.
 * e->data stays NULL until fn_zip_data. */
fn_status fn_zip_next(const fn_zip *z, size_t *pos, fn_zip_entry *e);
/* Locate the entry's bytes; rejects compressed or encrypted entries. */
fn_status fn_zip_data(const fn_zip *z, fn_zip_entry *e);
/* Find an entry by exact name; FN_ERR_NOT_FOUND (with a message) if absent. */
fn_status fn_zip_find(const fn_zip *z, const char *name, fn_zip_entry *e);
/* Check the entry's CRC-32 against its bytes. */
fn_status fn_zip_verify(const fn_zip *z, const fn_zip_entry *e);

#endif
