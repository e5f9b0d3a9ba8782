/*
 * gate.h - the quality gates of the commands that write tables (see
 * quality/gate.h for what a gate does).
 */
#ifndef SL_CLI_GATE_H
#define SL_CLI_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "quality/gate.h"

struct cli_gate {
    struct cli *c;
    const char *stage;            /* "transform of source orders", for words */
    int64_t run_id;               /* the run being decided */
    enum quality_verdict verdict; /* the last decision's */
    struct sl_buf report;         /* its lines, until printed */
    int64_t evaluations;          /* the run's, found before gating it, */
    int64_t failures;             /* ... and those that did not pass */
};

/* Whether the project has a ruleset for prefix ("curated.orders") or one
 * of its later majors (curated.orders_v2). */
bool cli_gate_wanted(struct cli *c, const char *prefix);
/* Gate held run run_id, which wrote tables (comma-separated names in
 * schema): *publish says whether to publish it now. */
int cli_gate_decide(struct cli_gate *g, int64_t run_id, const char *schema, const char *tables,
                    bool *publish, struct sl_diag *d);
/* Print the last decision's lines, each after indent. */
void cli_gate_print(struct cli_gate *g, const char *indent);

/* build_opts.gated and .gate (models/build.h); arg is the cli. */
bool cli_gate_gold_wanted(void *arg, const char *table);
int cli_gate_build(void *arg, struct catalog *cat, int64_t run_id, const char *table,
                   bool *publish, char *report, size_t len, struct sl_diag *d);

#endif
