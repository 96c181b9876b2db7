/* pickle.h — the small subset of Python's pickle that a PyTorch state_dict uses.
 * Owns: turning pickle bytes into a tree of plain values.  Nothing is ever
 * executed: a call (REDUCE) of a whitelisted global is only recorded, as
 * callable + argument tuple, for the caller to interpret.  Every table is
 * bounded by the pickle's length, so hostile input cannot exhaust memory.
 */
#ifndef FN_IO_PICKLE_H
#define FN_IO_PICKLE_H

#include <stddef.h>
#include <stdint.h>
#include "facenet.h"

typedef enum fn_pk_kind {
    FN_PK_NONE, FN_PK_BOOL, FN_PK_INT, FN_PK_BIGINT, FN_PK_FLOAT, FN_PK_STR, FN_PK_BYTES,
    FN_PK_TUPLE, FN_PK_LIST, FN_PK_DICT,
    FN_PK_GLOBAL,   /* i = index into fn_pk_rules.globals */
    FN_PK_PERSID,   /* a = the persistent id object (BINPERSID) */
    FN_PK_CALL      /* a = callable (a GLOBAL node), b = argument tuple */
} fn_pk_kind;

typedef struct fn_pk_node {
    int kind;
    int a, b;               /* see fn_pk_kind; containers: first cell, last cell */
    int count;              /* containers: items (dict: pairs) */
    int64_t i;              /* BOOL, INT, GLOBAL */
    double f;               /* FLOAT */
    const char *s;          /* STR, BYTES, BIGINT: bytes inside the input, not NUL-terminated */
    size_t n;
} fn_pk_node;

/* A container item: key is -1 except in dicts.  Cells chain through next. */
typedef struct fn_pk_cell { int key, value, next; } fn_pk_cell;

typedef struct fn_pk_rules {
    const char *const *globals;  /* allowed "module.name" strings */
    int count;
    int dict_ctor;               /* global whose call with () makes an empty dict, or -1 */
} fn_pk_rules;

typedef struct fn_pickle {
    fn_pk_node *nodes;
    fn_pk_cell *cells;
    int nnodes, ncells, cap_nodes, cap_cells;
    int root;                    /* the object STOP returned */
    size_t end;                  /* bytes consumed, including STOP */
} fn_pickle;

/* Parse one pickle starting at buf (it may be followed by other data).
 * where names the input in messages (e.g. the file path) and base is the
 * offset of buf[0] within it, so that messages point at the right byte. */
fn_status fn_pickle_parse(fn_pickle *pk, const unsigned char *buf, size_t len, size_t base,
                          const fn_pk_rules *rules, const char *where);
void fn_pickle_free(fn_pickle *pk);

static inline const fn_pk_node *fn_pk_node_at(const fn_pickle *pk, int id) { return &pk->nodes[id]; }
/* Item i of a tuple (whose cells are contiguous), or -1 if out of range. */
int fn_pk_tuple_item(const fn_pickle *pk, int tuple, int i);
/* Iterate a list or dict: first cell, then next; -1 at the end. */
static inline int fn_pk_first(const fn_pickle *pk, int container) { return pk->nodes[container].count ? pk->nodes[container].a : -1; }
static inline int fn_pk_next(const fn_pickle *pk, int cell) { return pk->cells[cell].next; }
/* Is node a STR equal to s? */
int fn_pk_str_is(const fn_pickle *pk, int node, const char *s);
/* A short name of a node's kind for messages ("list", "str", ...). */
const char *fn_pk_kind_name(int kind);

#endif
