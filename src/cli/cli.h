/*
 * cli.h - what the sluice commands share.
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdbool.h>

#include "catalog/catalog.h"
#include "core/diag.h"
#include "project/project.h"
#include "store/store.h"

#define SLUICE_VERSION "0.1.0"

/* Exit statuses. */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,  /* the command failed; nothing half-done is visible */
    EXIT_USAGE = 2, /* wrong command line */
};

/* The global options and the lake, opened on demand. */
struct cli {
    const char *project_dir; /* --project, or NULL to search */
    bool no_recover;         /* leave owed publications alone (verify) */
    unsigned catalog_flags;  /* catalog_open()'s, e.g. CATALOG_MIGRATE */
    struct project *project;
    struct store *store;
    struct catalog *catalog;
    struct sl_diag diag;
};

/* Open the project, its lake and catalog (once), and finish what
 * interrupted runs still owe (commit/commit.h) unless no_recover. */
int cli_open(struct cli *c);
void cli_close(struct cli *c);

/* Run fn in a read snapshot of the catalog (cli_open() first). */
int cli_read(struct cli *c, catalog_txn_fn fn, void *arg);

/* Print the failure in c->diag to stderr; returns the exit status. */
int cli_report(struct cli *c, int rc);
/* A usage error: message, hint to --help; returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Group digits of n with commas into buf (>= 32 bytes). */
const char *cli_num(long long n, char *buf);

/*
 * One schema drift finding, as `sluice ingest`, `transform` and `runs
 * --drift` print it:
 *
 *   drift: 120 records carry 'coupon' (not in contract orders 1.0), e.g.
 *          line 7 of <object>: "SPRING10"
 *   drift: 3 records lack required 'amount', e.g. line 4 of <object>
 *
 * (each on one line, indented two spaces).
 */
struct cli_drift {
    const char *source;         /* the contract's source and version */
    const char *version;
    const char *field;
    bool missing;               /* kind missing (else unknown) */
    long long records;
    long long sample;           /* > 0: counted in the first `sample` records */
    long long objects;          /* > 1: records in that many objects */
    const char *object;         /* the example's object id, or NULL */
    bool line;                  /* position is a line (else a record number) */
    long long position;
    const char *example;        /* the value as JSON text, or NULL */
};
void cli_print_drift(const struct cli_drift *x);
/* Print the drift transform run run_id recorded (cli_open() first); *n
 * gets the lines printed. */
int cli_print_run_drift(struct cli *c, int64_t run_id, int *n, struct sl_diag *d);

struct model;
struct model_set;
/*
 * Load the project's models/<name>.sql files into *set (caller-owned;
 * release with models_release(), also after a failure), as `sluice build`
 * does: cli_open() first, paths as "models/<name>.sql", a bad file's
 * failure in c->diag with its file and line.  *dir is the folder (caller
 * frees; NULL when the project could not be opened).
 */
/*
 * The key of curated table (curated.<source>, or curated.<source>_vN for
 * contract major N) from the source's latest contract of that major, into
 * out (at most CONTRACT_MAX_KEY names, the project's strings); 0 if it is
 * no curated table of a source the project has.
 */
/* Publish or discard held run run_id (sluice publish, discard). */
int cli_decide(struct cli *c, int64_t run_id, bool publish);
size_t cli_curated_key(struct cli *c, const char *table, const char **out);
int cli_load_models(struct cli *c, struct model_set *set, char **dir);
/* "table", "view", "incremental (merge)" or "incremental (append)". */
const char *cli_model_kind(const struct model *m);

struct cli_command {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
    const char *summary;
    const char *usage; /* the full --help text */
};

extern const struct cli_command cli_init_cmd, cli_ingest_cmd, cli_raw_cmd, cli_transform_cmd,
    cli_query_cmd, cli_runs_cmd, cli_sources_cmd, cli_verify_cmd, cli_serve_cmd,
    cli_catalog_cmd, cli_keys_cmd, cli_snapshots_cmd, cli_expire_cmd, cli_orphans_cmd,
    cli_compact_cmd, cli_maintain_cmd, cli_build_cmd, cli_lineage_cmd, cli_models_cmd,
    cli_check_cmd, cli_quality_cmd, cli_staged_cmd, cli_publish_cmd, cli_discard_cmd,
    cli_alerts_cmd, cli_status_cmd, cli_run_cmd, cli_executions_cmd, cli_execution_cmd,
    cli_redrive_cmd, cli_resume_cmd, cli_triggers_cmd;

#endif
