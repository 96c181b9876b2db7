/* labelled.c — a folder-per-person tree embedded one face per image
 * (labelled.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "labelled.h"

void fn_cli_labelled_free(fn_cli_labelled *l)
{
    fn_pathlist_free(&l->people);
    free(l->x);
    free(l->truth);
    memset(l, 0, sizeof *l);
}

int fn_cli_embed_people(const char *verb, const char *root, fn_engine *e, const fn_options *o, fn_select select,
                        fn_miss_policy miss, const char *cache, fn_cli_labelled *out)
{
    memset(out, 0, sizeof *out);
    fn_paths people = {0}, loose = {0};   /* a person is a folder: loose files name nobody */
    if (fn_list_people(root, &people, &loose) != FN_OK) {
        int why = errno;   /* opendir's */
        fn_paths_free(&people);
        fn_paths_free(&loose);
        return fn_cli_error(verb, "%s: cannot read the folder of labelled faces (one folder per person): %s", root,
                            strerror(why));
    }
    for (int i = 0; i < people.n; i++) fn_pathlist_add(&out->people, people.items[i]);   /* sorted */
    if (loose.n)   /* said, not silently left out */
        fprintf(stderr, "facenet %s: note: %d file(s) directly in %s are not read: a person is a folder of photos\n",
                verb, loose.n, root);
    fn_paths_free(&people);
    fn_paths_free(&loose);
    fn_pathlist files = {0};
    int *owner = NULL;
    for (int k = 0; k < out->people.count; k++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", root, out->people.items[k]);
        char *arg = dir;
        int before = files.count;
        fn_cli_collect_images(&arg, 1, &files, NULL);
        int *ow = realloc(owner, (size_t)(files.count ? files.count : 1) * sizeof *ow);
        if (!ow) break;
        owner = ow;
        for (int i = before; i < files.count; i++) owner[i] = k;
    }
    if (files.count == 0) {
        free(owner);
        fn_pathlist_free(&files);
        fn_cli_labelled_free(out);
        return fn_cli_error(verb, "%s: no images in person folders (DIR/<person>/*.jpg)", root);
    }
    int dim = fn_engine_dim(e), cap = files.count ? files.count : 1;
    out->x = malloc((size_t)cap * dim * sizeof *out->x);
    out->truth = malloc((size_t)cap * sizeof *out->truth);
    fn_embedder x;
    fn_status s = owner && out->x && out->truth ? fn_embedder_init(&x, e, o, select, 0, miss, cache)
                                                : fn_fail(FN_ERR_NOMEM, "out of memory for %d images", files.count);
    if (s != FN_OK) {
        free(owner);
        fn_pathlist_free(&files);
        fn_cli_labelled_free(out);
        return fn_cli_fail(verb, s);
    }
    fn_progress prog;
    fn_progress_start(&prog, "embedding", files.count);
    for (int i = 0; i < files.count; i++) {
        fn_embed_result r;
        s = fn_embedder_run(&x, files.items[i], &r, out->x + (size_t)out->n * dim, NULL);
        fn_progress_step(&prog, files.items[i]);
        if (s != FN_OK || !r.has_emb) {
            /* why an image has no embedding: no face is the common case, counted by the caller; a file
             * that could not be read says why (a dangling link, a FIFO named like a photo) */
            if (s != FN_OK && out->unreadable++ < 5) {
                fn_progress_end(&prog);   /* clears the progress line; the next step redraws it */
                fprintf(stderr, "facenet %s: warning: %s\n", verb, fn_last_error());
            }
            out->missing++;
            continue;
        }
        out->truth[out->n++] = owner[i];
    }
    fn_progress_end(&prog);
    if (out->unreadable > 5)
        fprintf(stderr, "facenet %s: warning: %d image(s) could not be read (the first 5 named above)\n", verb,
                out->unreadable);
    fn_cli_cache_warning(verb, &x);
    fn_embedder_close(&x);
    free(owner);
    fn_pathlist_free(&files);
    return 0;
}
