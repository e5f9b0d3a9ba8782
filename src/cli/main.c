/*
 * main.c - the sluice command: global options, dispatch, help, errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "commit/commit.h"
#include "core/fault.h"
#include "core/fs.h"
#include "core/log.h"
#include "engine/engine.h"
#include "flow/exec.h"
#include "core/banned.h"

static const struct cli_command *const commands[] = {
    &cli_init_cmd,   &cli_ingest_cmd, &cli_raw_cmd,     &cli_transform_cmd,
    &cli_query_cmd,  &cli_runs_cmd,   &cli_sources_cmd, &cli_verify_cmd, &cli_serve_cmd,
    &cli_catalog_cmd, &cli_keys_cmd, &cli_snapshots_cmd,
    &cli_expire_cmd, &cli_orphans_cmd, &cli_compact_cmd, &cli_maintain_cmd, &cli_build_cmd,
    &cli_models_cmd, &cli_lineage_cmd, &cli_check_cmd,
    &cli_quality_cmd, &cli_staged_cmd, &cli_publish_cmd, &cli_discard_cmd, &cli_alerts_cmd,
    &cli_status_cmd, &cli_run_cmd, &cli_executions_cmd, &cli_execution_cmd, &cli_redrive_cmd,
    &cli_resume_cmd, &cli_triggers_cmd,
    NULL,
};

static void
main_help(FILE *out)
{
    fprintf(out,
            "usage: sluice [--project DIR] [-v | -q] COMMAND [ARGS]\n"
            "\n"
            "sluice moves data from sources through a raw zone to validated, deduplicated\n"
            "Parquet, keeping every rejected record with its reason.\n"
            "\n"
            "commands:\n");
    for (int i = 0; commands[i] != NULL; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out,
            "\n"
            "options:\n"
            "  --project DIR  use the project in DIR (default: the nearest folder upwards\n"
            "                 that holds sluice.yaml)\n"
            "  -v, --verbose  say more (repeat for debug output)\n"
            "  -q, --quiet    only errors\n"
            "  --version      print the version\n"
            "  -h, --help     this help; 'sluice COMMAND --help' for a command\n"
            "\n"
            "environment: SLUICE_LOG=error|warn|info|debug|trace, SLUICE_TRACE=component,...\n");
}

const char *
cli_num(long long n, char *buf)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof(tmp), "%lld", n < 0 ? -n : n), o = 0;

    if (n < 0)
        buf[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sluice %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nsee 'sluice %s --help'\n", cmd);
    return EXIT_USAGE;
}

int
cli_report(struct cli *c, int rc)
{
    char line[SL_DIAG_MSG + 1024];

    if (rc >= 0)
        return EXIT_OK;
    if (c->diag.code == 0)
        sl_fail(&c->diag, rc, "%s", sl_strerror(rc));
    sl_diag_format(&c->diag, line, sizeof(line));
    fprintf(stderr, "sluice: error: %s\n", line);
    if (c->diag.detail[0])
        fprintf(stderr, "  %s\n", c->diag.detail);
    if (c->diag.hint[0])
        fprintf(stderr, "  hint: %s\n", c->diag.hint);
    return rc == SL_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
}

int
cli_open(struct cli *c)
{
    int rc;

    if (c->catalog != NULL)
        return 0;
    rc = project_open(c->project_dir, &c->project, &c->diag);
    if (rc == 0) {
        flow_set_region(c->project->config.server.region); /* in ARNs */
        rc = store_open(c->project->lake, &c->store, &c->diag);
    }
    if (rc == 0)
        rc = catalog_open(c->project->catalog, c->catalog_flags, &c->catalog, &c->diag);
    if (rc == 0 && !c->no_recover)
        rc = commit_recover(c->store, c->catalog, &c->diag);
    return rc;
}

int
cli_read(struct cli *c, catalog_txn_fn fn, void *arg)
{
    return catalog_txn_run(c->catalog, CATALOG_READ, fn, arg, &c->diag);
}

void
cli_close(struct cli *c)
{
    catalog_close(c->catalog);
    store_close(c->store);
    project_free(c->project);
}

static const struct cli_command *
find(const char *name)
{
    for (int i = 0; commands[i] != NULL; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"project", required_argument, NULL, 'p'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli c = {0};
    const struct cli_command *cmd;
    int opt, status, verbose = 0;

    sl_log_init();
    sl_fault_init();
    /* Global options stop at the command name. */
    while ((opt = getopt_long(argc, argv, "+p:vqh", opts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            c.project_dir = optarg;
            break;
        case 'v':
            verbose++;
            break;
        case 'q':
            sl_log_level = SL_LOG_ERROR;
            break;
        case 'V':
            printf("sluice %s (DuckDB %s)\n", SLUICE_VERSION, engine_version());
            return EXIT_OK;
        case 'h':
            main_help(stdout);
            return EXIT_OK;
        default:
            main_help(stderr);
            return EXIT_USAGE;
        }
    }
    if (verbose > 0)
        sl_log_level = verbose > 1 ? SL_LOG_DEBUG : SL_LOG_INFO;
    if (optind >= argc) {
        main_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[optind], "help") == 0) {
        if (optind + 1 < argc && (cmd = find(argv[optind + 1])) != NULL) {
            fputs(cmd->usage, stdout);
            return EXIT_OK;
        }
        main_help(stdout);
        return EXIT_OK;
    }
    cmd = find(argv[optind]);
    if (cmd == NULL) {
        fprintf(stderr, "sluice: unknown command '%s'\nsee 'sluice --help'\n", argv[optind]);
        return EXIT_USAGE;
    }
    for (int i = optind + 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(cmd->usage, stdout);
            return EXIT_OK;
        }
    }
    optind++;
    status = cmd->run(&c, argc - optind + 1, argv + optind - 1);
    cli_close(&c);
    return status;
}
