/*
 * conf.h - configuration keys declared once, in tables.
 *
 * A module that reads settings from sluice.yaml declares them in a table of
 * struct sl_conf_key: the key's name within the module's section, its type,
 * default, bounds, a one-line description and the offset of the field it
 * fills.  From the tables come parsing with "unknown key" and "out of range"
 * messages that name the line, the defaults, `sluice help config`, and the
 * commented sample that `sluice init` writes.
 *
 * Sections: a table is mounted under a name ("engine") so its keys read as
 * engine.threads in messages and as a nested mapping in the file; the
 * section "" is the top level.
 */
#ifndef SL_CONF_H
#define SL_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/mem.h"
#include "core/yaml.h"

enum sl_conf_type {
    SL_CONF_STRING, /* char *, from the arena passed to the loader */
    SL_CONF_INT,    /* int64_t, within [min, max] */
    SL_CONF_BOOL,   /* bool: true/false/yes/no/on/off */
    SL_CONF_BYTES,  /* int64_t bytes: 512, 64KB, 5MiB, 1GB (1024-based) */
};

struct sl_conf_key {
    const char *name;       /* key within its section; NULL ends a table */
    enum sl_conf_type type;
    const char *def;        /* default, as it would be written in YAML */
    int64_t min, max;       /* bounds for INT and BYTES */
    size_t offset;          /* offsetof the field in the section's struct */
    const char *help;       /* one line */
};

struct sl_conf_section {
    const char *name;                /* "" for top level; NULL ends a list */
    const struct sl_conf_key *keys;
    size_t offset;                   /* of the section struct in the whole */
    const char *help;                /* one line, for the sample */
};

/* Set every key of every section to its default. */
void sl_conf_defaults(const struct sl_conf_section *sections, void *obj,
                      struct sl_arena *a);
/*
 * Apply a parsed YAML mapping.  Unknown keys, wrong kinds and values out of
 * bounds fail with SL_ERR_INPUT naming path:line and the key.
 */
int sl_conf_load(const struct sl_conf_section *sections, void *obj,
                 const struct sl_yaml *root, const char *path,
                 struct sl_arena *a, struct sl_diag *d);
/* A commented YAML sample with every key at its default. */
void sl_conf_sample(const struct sl_conf_section *sections, struct sl_buf *out);
/* Parse "64MiB"-style sizes; 0 or SL_ERR_INPUT. */
int sl_parse_bytes(const char *s, int64_t *out);

#endif
