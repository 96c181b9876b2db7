/* fuzz_multipart.c — libFuzzer target: facenet serve's request body parser
 * (src/serve/multipart.c).  The input's first line is the Content-Type
 * header, the rest the body.  Properties: no crash/leak/read outside the
 * body; a failure says why; every part found lies inside the body, in order,
 * with NUL-terminated names, and there are at most the parts asked for.
 */
#include "fuzz_util.h"
#include "serve/srv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    if (!nl) return 0;
    char ctype[257];
    memcpy(ctype, data, (size_t)(nl - data));
    ctype[nl - data] = '\0';
    /* the body in its own allocation, so ASan sees any read past its end */
    size_t len = size - (size_t)(nl + 1 - data);
    uint8_t *body = malloc(len ? len : 1);
    memcpy(body, nl + 1, len);
    char boundary[128], names[2048], err[256];
    if (srv_multipart_boundary(ctype, boundary, sizeof boundary)) {
        FZ_ASSERT(strlen(boundary) >= 1 && strlen(boundary) <= 70);
        srv_part parts[SRV_MAX_PARTS];
        err[0] = '\0';
        int n = srv_multipart_parse(body, len, boundary, parts, SRV_MAX_PARTS, names, sizeof names, err, sizeof err);
        FZ_ASSERT(n >= -1 && n <= SRV_MAX_PARTS);
        if (n < 0) FZ_ASSERT(err[0] != '\0');
        const uint8_t *prev = body;
        for (int i = 0; i < n; i++) {
            FZ_ASSERT(parts[i].data >= prev && parts[i].data + parts[i].len <= body + len);
            FZ_ASSERT(strlen(parts[i].name) < sizeof names && strlen(parts[i].filename) < sizeof names);
            prev = parts[i].data + parts[i].len;
        }
    }
    free(body);
    return 0;
}
