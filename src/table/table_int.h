/*
 * table_int.h - what the table stage's files share (table.c, update.c);
 * never included from outside src/table/.
 */
#ifndef SL_TABLE_INT_H
#define SL_TABLE_INT_H

#include <jansson.h>

#include "core/diag.h"
#include "store/store.h"

#define TABLE_METADATA_MAX (64 << 20) /* a metadata file larger is refused */
#define TABLE_METADATA_LOG_MAX 100    /* write.metadata.previous-versions-max */

/* A random version-4 UUID in text form (37 bytes with the NUL). */
void table_new_uuid(char out[37]);
/* The version number a metadata file name starts with ("00042-..."), or -1. */
long table_metadata_version(const char *location);
/*
 * The JSON object in the file of the table at prefix that uri names, into
 * *out (caller frees with json_decref()).  SL_ERR_CORRUPT naming the file
 * if it is missing, not JSON, not an object, or not a file of the table.
 */
int table_load_json(struct store *s, const char *prefix, const char *uri, json_t **out,
                    struct sl_diag *d);
/*
 * Write root as the metadata file of version v of the table at prefix
 * (name: the table's name, for the staging name), under a name no other
 * writer uses ("<prefix>/metadata/00042-<uuid>.metadata.json"), through
 * the store; *uri gets its URI (caller frees).
 */
int table_write_metadata(struct store *s, const char *prefix, const char *name, long v,
                         json_t *root, char **uri, struct sl_diag *d);

#endif
