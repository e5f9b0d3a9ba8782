/*
 * cmd_init.c - sluice init DIR.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "core/banned.h"

static int
run(struct cli *c, int argc, char **argv)
{
    int rc;

    if (argc != 2)
        return cli_usage("init", "expected one folder: sluice init DIR");
    rc = project_init(argv[1], &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    printf("created a sluice project in %s\n"
           "  sluice.yaml              settings (lake: ./lake)\n"
           "  sources/customers.yaml   an example source with its data contract\n"
           "  examples/customers.csv   example data for it\n"
           "next:\n"
           "  cd %s\n"
           "  sluice ingest --source customers examples/customers.csv\n"
           "  sluice transform --source customers\n"
           "  sluice query \"SELECT * FROM curated.customers\"\n",
           argv[1], argv[1]);
    return EXIT_OK;
}

const struct cli_command cli_init_cmd = {
    "init", run, "create a project: sluice.yaml and an example source",
    "usage: sluice init DIR\n"
    "\n"
    "Create a sluice project in DIR (created if missing): sluice.yaml with every\n"
    "setting at its default and the lake at ./lake, sources/customers.yaml with an\n"
    "example data contract, and examples/customers.csv to try it on.  Refuses a\n"
    "folder that already holds sluice.yaml.\n",
};
