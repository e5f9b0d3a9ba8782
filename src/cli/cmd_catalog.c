/*
 * cmd_catalog.c - sluice catalog [info] | migrate | copy --to LOCATION.
 *
 * The catalog is the SQLite file in the lake unless sluice.yaml names a
 * PostgreSQL database (catalog:).  These commands show which one a project
 * uses, bring its schema up to date, and move an embedded lake's catalog to
 * PostgreSQL so that several nodes can share it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "cli/cli.h"
#include "core/banned.h"

static const char *
kind_name(enum catalog_kind k)
{
    return k == CATALOG_POSTGRES ? "PostgreSQL" : "SQLite (embedded)";
}

static int
info(struct cli *c)
{
    int rc;

    c->catalog_flags = CATALOG_NO_SCHEMA;
    c->no_recover = true;
    rc = cli_open(c);
    if (rc < 0)
        return cli_report(c, rc);
    printf("catalog   %s\n", catalog_where(c->catalog));
    printf("back end  %s\n", kind_name(catalog_kind(c->catalog)));
    printf("schema    %d (this sluice writes %d)\n", catalog_schema_version(c->catalog),
           CATALOG_SCHEMA_VERSION);
    return EXIT_OK;
}

static int
migrate(struct cli *c)
{
    int from = 0, rc;

    c->catalog_flags = CATALOG_NO_SCHEMA;
    c->no_recover = true;
    rc = cli_open(c);
    if (rc == 0)
        rc = catalog_migrate(c->catalog, &from, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    if (from == CATALOG_SCHEMA_VERSION)
        printf("catalog %s is at schema %d already\n", catalog_where(c->catalog), from);
    else
        printf("catalog %s migrated from schema %d to %d\n", catalog_where(c->catalog), from,
               CATALOG_SCHEMA_VERSION);
    return EXIT_OK;
}

static int
copy(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *to = NULL;
    struct catalog *dst = NULL;
    int64_t rows = 0;
    int opt, rc;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 't')
            to = optarg;
        else
            return cli_usage("catalog", "unknown option");
    }
    if (to == NULL)
        return cli_usage("catalog", "copy needs --to LOCATION");
    if (optind < argc)
        return cli_usage("catalog", "unexpected argument '%s'", argv[optind]);
    rc = catalog_location_check(to, &c->diag);
    if (rc == 0)
        rc = cli_open(c);
    if (rc == 0 && catalog_kind(c->catalog) != CATALOG_SQLITE)
        rc = sl_fail(&c->diag, SL_ERR_INPUT,
                     "this project's catalog is %s already, not the embedded one",
                     catalog_where(c->catalog));
    if (rc == 0)
        rc = catalog_open(to, CATALOG_MIGRATE, &dst, &c->diag);
    if (rc == 0)
        rc = catalog_copy(c->catalog, dst, &rows, &c->diag);
    if (rc == 0)
        printf("copied %lld rows from %s to %s\n"
               "next: set 'catalog: %s' in sluice.yaml and run 'sluice verify'\n",
               (long long)rows, catalog_where(c->catalog), catalog_where(dst), to);
    catalog_close(dst);
    return rc < 0 ? cli_report(c, rc) : EXIT_OK;
}

static int
run(struct cli *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "info";

    if (strcmp(sub, "info") == 0 && argc <= 2)
        return info(c);
    if (strcmp(sub, "migrate") == 0 && argc == 2)
        return migrate(c);
    if (strcmp(sub, "copy") == 0)
        return copy(c, argc - 1, argv + 1);
    return cli_usage("catalog", "unknown subcommand '%s'", sub);
}

const struct cli_command cli_catalog_cmd = {
    "catalog", run, "the catalog: where it is, migrate its schema, copy it to PostgreSQL",
    "usage: sluice catalog [info]\n"
    "       sluice catalog migrate\n"
    "       sluice catalog copy --to LOCATION\n"
    "\n"
    "The catalog holds what the lake contains and how it got there.  It is the\n"
    "SQLite file lake/_catalog/catalog.db unless sluice.yaml says 'catalog:' with\n"
    "a PostgreSQL database (postgresql://USER@HOST:PORT/DB or a libpq connection\n"
    "string; the password comes from PGPASSWORD or ~/.pgpass), which several\n"
    "sluice nodes can share.\n"
    "\n"
    "  info      where the catalog is, its back end and schema version\n"
    "  migrate   bring the schema up to this release's; a shared catalog is never\n"
    "            migrated implicitly, so upgrade every node first\n"
    "  copy --to LOCATION\n"
    "            copy this project's embedded catalog into an empty PostgreSQL\n"
    "            database (created if the schema is missing), in one transaction;\n"
    "            then point catalog: at it and check with 'sluice verify'\n",
};
