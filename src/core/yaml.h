/*
 * yaml.h - YAML documents as a small tree with line numbers.
 *
 * libyaml does the parsing; this builds scalars, sequences and mappings, each
 * node with the line and column it starts at, so every later complaint can
 * name "sources/orders.yaml:14".  Anchors and aliases are refused (no
 * billion-laughs), as are duplicate keys and more than one document.  All
 * memory comes from the caller's arena.
 */
#ifndef SL_YAML_H
#define SL_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/mem.h"

enum sl_yaml_kind {
    SL_YAML_SCALAR,
    SL_YAML_SEQ,
    SL_YAML_MAP,
};

struct sl_yaml {
    enum sl_yaml_kind kind;
    int line;                 /* 1-based */
    int col;                  /* 1-based */
    const char *str;          /* scalar text (NUL-terminated) */
    size_t len;               /* scalar length */
    bool plain;               /* scalar was unquoted (so "null" means null) */
    size_t n;                 /* items in a sequence, pairs in a mapping */
    struct sl_yaml **items;   /* sequence items, or mapping values */
    struct sl_yaml **keys;    /* mapping keys (scalars) */
};

/*
 * Parse text[0..len) of the file named by path (used only in messages).  An
 * empty document gives an empty mapping.  Returns 0, or SL_ERR_INPUT with d
 * naming path and line.
 */
int sl_yaml_parse(const char *path, const char *text, size_t len,
                  struct sl_arena *a, struct sl_yaml **root, struct sl_diag *d);

/* The value of key in a mapping, or NULL. */
struct sl_yaml *sl_yaml_get(const struct sl_yaml *map, const char *key);
/* Whether a scalar is a YAML null (~, null, Null, NULL, or empty plain). */
bool sl_yaml_is_null(const struct sl_yaml *n);
/* Human name of a node's kind: "a mapping", "a list", "a scalar". */
const char *sl_yaml_kind_name(const struct sl_yaml *n);

#endif
