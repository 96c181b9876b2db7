/* eval_embed.h — one embedding per image for the evaluation commands (eval,
 * eval-pairs): detect, choose one face, align, embed (optionally with the
 * horizontally flipped crop added), through the embedding cache.
 * Owns: the cache file's location and the key that says what produced an entry.
 */
#ifndef FN_CLI_EVAL_EMBED_H
#define FN_CLI_EVAL_EMBED_H

#include "facenet.h"
#include "eval/cache.h"

/* What to do when the detector finds no face. */
typedef enum fn_miss_policy {
    FN_MISS_SKIP = 0,     /* no embedding (eval: listed as "no face") */
    FN_MISS_CENTER_CROP   /* the central box of FN_MISS_BOX_FRACTION of the image, landmarks from the template */
} fn_miss_policy;
#define FN_MISS_BOX_FRACTION 0.6f

typedef struct fn_eval_embedder {
    fn_engine *e;
    fn_cache *cache;          /* NULL: --no-cache */
    fn_select select;
    int flip;                 /* also compute the flip-augmented embedding */
    fn_miss_policy miss;
    int dim;
    char key_plain[512], key_flip[520];
    /* working memory, reused image to image */
    fn_face faces[64];
    fn_image crops[2];
    int hits, computed;
} fn_eval_embedder;

/* One image's result.  emb / emb_flip: dim floats each, L2-normalised. */
typedef struct fn_eval_result {
    int has_face;     /* the detector found a face (else: fallback used or nothing) */
    int has_emb;      /* emb is set (a face, or the fallback crop) */
    fn_face face;     /* the chosen face (box, prob; landmarks only when computed now) */
    char hash[65];    /* fn_hash_file of the image: its identity in caches and galleries */
} fn_eval_result;

/* use_cache 0: no cache file.  On failure prints nothing; fn_last_error() says why. */
/* o: the options the engine was made with (detector settings go into the key). */
fn_status fn_eval_embedder_init(fn_eval_embedder *x, fn_engine *e, const fn_options *o, fn_select select,
                                int flip, fn_miss_policy miss, int use_cache);
fn_status fn_eval_embed(fn_eval_embedder *x, const char *path, fn_eval_result *r, float *emb, float *emb_flip);
fn_status fn_eval_embedder_close(fn_eval_embedder *x);

const char *fn_select_name(fn_select s);

#endif
