#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

static fn_status kind(const char *path, const struct stat *st)
{
    if (S_ISREG(st->st_mode)) return FN_OK;
    if (S_ISDIR(st->st_mode)) return fn_fail(FN_ERR_IO, "%s: a folder, not a regular file", path);
    return fn_fail(FN_ERR_IO, "%s: not a regular file", path);
}

fn_status fn_open_regular(const char *path, int *fd, struct stat *st)
{
    *fd = -1;
    if (stat(path, st) != 0) return fn_fail(FN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    FN_TRY(kind(path, st));
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f < 0) return fn_fail(FN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fn_status s = fstat(f, st) != 0 ? fn_fail(FN_ERR_IO, "%s: cannot stat: %s", path, strerror(errno)) : kind(path, st);
    int fl = s == FN_OK ? fcntl(f, F_GETFL) : -1;
    if (s == FN_OK && (fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) != 0))
        s = fn_fail(FN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (s != FN_OK) {
        close(f);
        return s;
    }
    *fd = f;
    return FN_OK;
}
