/*
 * lineage.h - where a gold or curated table's rows came from
 * (`sluice lineage`): for a gold table the build that made its snapshot
 * and, under it, each table that build read at the snapshot it read, down
 * to the curated tables, the transform runs that made their snapshots and
 * their sources' raw objects.
 */
#ifndef SL_MODELS_LINEAGE_H
#define SL_MODELS_LINEAGE_H

#include <stdint.h>
#include <stdio.h>

#include "catalog/catalog.h"
#include "core/diag.h"
#include "store/store.h"

/* Print the tree of table ("gold.x", "curated.y") at snapshot_id (-1: its
 * current snapshot) to out, one table a line, each input indented under
 * what read it. */
int models_lineage(struct catalog *cat, struct store *s, const char *table, int64_t snapshot_id,
                   FILE *out, struct sl_diag *d);

#endif
