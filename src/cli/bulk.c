/* bulk.c — a bulk subcommand's files through fn_batch or one at a time. */
#include "bulk.h"

#include <string.h>

#include "common.h"

int fn_cli_bulk_start(fn_cli_bulk *k, const char *verb, fn_engine *e, const fn_cli_args *a, char *const *paths, int n,
                      int aligned, int embed)
{
    memset(k, 0, sizeof *k);
    k->e = e;
    k->paths = paths;
    k->n = n;
    k->aligned = aligned;
    k->embed = embed;
    int batch = (int)fn_cli_int(a, FN_O_BATCH, 32);
    if (batch <= 1 || n <= 1) return 0;
    fn_batch_params bp;
    fn_batch_params_init(&bp);
    bp.workers = (int)fn_cli_int(a, FN_O_JOBS, 0);
    bp.batch = batch;
    bp.aligned = aligned;
    bp.embed = embed;
    bp.keep_image = 1;   /* annotations, crops and the edge flag read the image */
    fn_status s = fn_batch_new_paths(e, &bp, (const char *const *)paths, n, &k->batch);
    return s == FN_OK ? 0 : fn_cli_fail(verb, s);
}

int fn_cli_bulk_next(fn_cli_bulk *k, const char *verb, fn_cli_bulk_item *it)
{
    memset(it, 0, sizeof *it);
    if (k->next >= k->n) return 1;
    it->path = k->paths[k->next++];
    if (!k->batch) {
        it->status = fn_faces_run(k->e, it->path, k->aligned, k->embed, &k->f);
        it->error = it->status == FN_OK ? "" : fn_last_error();
        it->loaded = k->f.img.data != NULL;
        it->faces = &k->f;
        return 0;
    }
    const fn_batch_result *r = NULL;
    fn_status s = fn_batch_next(k->batch, &r);
    if (s != FN_OK || !r) {
        fn_cli_fail(verb, s != FN_OK ? s : FN_ERR_INTERNAL);
        return 1;
    }
    it->status = r->status;
    it->error = r->error;
    it->loaded = r->loaded;
    it->faces = r->faces;
    return 0;
}

void fn_cli_bulk_end(fn_cli_bulk *k)
{
    fn_batch_free(k->batch);
    fn_faces_free(&k->f);
    memset(k, 0, sizeof *k);
}
