/* file.h — opening an input file safely: only a regular file is opened for
 * reading, and nothing else waits or acts on being opened.  For the
 * modules that read a user's files (images, checkpoints, hashing, model
 * files).  Private to src/.
 */
#ifndef FN_CORE_FILE_H
#define FN_CORE_FILE_H

#include <sys/stat.h>

#include "facenet/core.h"

/* Opens path read-only when it is a regular file: it is looked at first (a
 * device node named like a photo is not opened at all: a tape rewinds on
 * close), then opened non-blocking (a FIFO put there meanwhile does not
 * wait for a writer forever) and looked at again; O_NONBLOCK is then
 * cleared.  *fd and *st on FN_OK; FN_ERR_IO naming path otherwise ("cannot
 * open: <reason>", "a folder, not a regular file", "not a regular file"). */
fn_status fn_open_regular(const char *path, int *fd, struct stat *st);

#endif
