/*
 * commit.h - the last step of the commit protocol, and its recovery.
 *
 * Every stage commits the same way (DESIGN.md):
 *
 *   1. write outputs under staging names             (store_stage/seal)
 *   2. one catalog transaction records the outputs, the bookmark, the
 *      account, and the publications still owed      (catalog_pending_add)
 *   3. make the outputs visible: rename staged objects to their keys and
 *      delete what the run replaced                   (commit_publish)
 *
 *   state           after a crash                    the next command
 *   --------------  ------------------------------   ----------------------
 *   before 2        staging garbage, nothing else    sweeps the garbage
 *   after 2         committed, maybe half visible    finishes step 3
 *   after 3         complete                         nothing
 *
 * So every command that reads or writes a zone first calls
 * commit_recover(), which finishes step 3 for any committed run and then
 * sweeps staging areas of dead processes, keeping staged objects that a
 * committed run still needs.  Step 3 is idempotent: a rename already done
 * is recognised by the staged object being gone and the key present.
 */
#ifndef SL_COMMIT_H
#define SL_COMMIT_H

#include <stdint.h>

#include "catalog/catalog.h"
#include "core/diag.h"
#include "store/store.h"

/* Carry out the publications owed by run_id and forget them. */
int commit_publish(struct store *s, struct catalog *cat, int64_t run_id, struct sl_diag *d);
/* Finish every committed run's publications, then sweep staging. */
int commit_recover(struct store *s, struct catalog *cat, struct sl_diag *d);

#endif
