/* pairs.h — LFW pair lists (pairs.txt, pairsDevTrain.txt, pairsDevTest.txt).
 * Owns: parsing the text into image paths, same/different flags and folds.
 * Knows nothing about images or models; paths are relative to the image root.
 */
#ifndef FN_EVAL_PAIRS_H
#define FN_EVAL_PAIRS_H

#include <stddef.h>
#include "facenet.h"

typedef struct fn_pair {
    const char *path1, *path2;  /* "<Name>/<Name>_<NNNN>.jpg", owned by fn_pairs */
    int same;                   /* 1: same person, 0: different people */
    int fold;                   /* View 1: 0; View 2: the set (0..9) the pair is in */
} fn_pair;

typedef struct fn_pairs {
    fn_pair *items;
    size_t n;
    int view;       /* 1: header "N" (one set); 2: header "S\tP" (S sets) */
    int nfolds;     /* 1 for View 1, S for View 2 */
    size_t per_set; /* same pairs (= different pairs) per set */
    char *text;     /* backing store for the paths */
} fn_pairs;

/* Safety limits: a pairs file is small text; anything beyond is garbage. */
#define FN_PAIRS_MAX_BYTES  (64u << 20)
#define FN_PAIRS_MAX_SETS   1000
#define FN_PAIRS_MAX_PAIRS  10000000u

/* Parse a pairs file.  The header decides the view: one number N means N
 * same-person lines then N different-person lines; "S P" means S sets of P
 * same then P different.  Fields are separated by tabs or spaces; \r\n is
 * accepted; blank lines only at the end.  Image numbers are 1..9999.
 * Errors: FN_ERR_IO (cannot read), FN_ERR_FORMAT "path:LINE: expected ...,
 * got ..." for a malformed line or wrong counts, FN_ERR_LIMIT. */
fn_status fn_pairs_load(const char *path, fn_pairs **out);
/* The same from text in memory; name is used in error messages. */
fn_status fn_pairs_parse(const char *text, size_t len, const char *name, fn_pairs **out);
void fn_pairs_free(fn_pairs *p);

/* Counts of same / different pairs (for reports and checks). */
size_t fn_pairs_count_same(const fn_pairs *p);

#endif
