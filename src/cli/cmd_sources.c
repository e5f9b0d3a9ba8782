/*
 * cmd_sources.c - sluice sources: the declared sources and their contracts.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "project/register.h"
#include "core/banned.h"

static int
run(struct cli *c, int argc, char **argv)
{
    const char **names;
    size_t n;
    int rc, bad = 0;

    (void)argv;
    if (argc != 1)
        return cli_usage("sources", "takes no arguments");
    rc = cli_open(c);
    if (rc == 0)
        rc = project_source_names(c->project, &names, &n, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    for (size_t i = 0; i < n; i++) {
        const struct source *src;
        struct sl_diag d;

        sl_diag_init(&d);
        rc = project_source(c->project, names[i], &src, &d);
        if (rc == 0)
            rc = project_register_source(c->catalog, src, &d);
        if (rc < 0) {
            char line[SL_DIAG_MSG + 600];

            sl_diag_format(&d, line, sizeof(line));
            printf("%-16s  INVALID: %s\n", names[i], line);
            bad++;
            continue;
        }
        printf("%-16s  system %-10s  versions", src->name, src->system);
        for (size_t v = 0; v < src->nversions; v++)
            printf(" %s", src->versions[v].version);
        printf("  (%zu columns in %s)\n", source_latest(src, -1)->ncolumns,
               source_latest(src, -1)->version);
    }
    if (n == 0)
        printf("no sources: declare one in sources/<name>.yaml\n");
    return bad ? EXIT_FAIL : EXIT_OK;
}

const struct cli_command cli_sources_cmd = {
    "sources", run, "list sources and check their contracts",
    "usage: sluice sources\n"
    "\n"
    "List the sources declared in sources/*.yaml with their contract versions, and\n"
    "check each: valid YAML, compatible versions within a major, and registered\n"
    "versions unchanged.  New versions are registered.  Exits 1 if any is invalid.\n",
};
