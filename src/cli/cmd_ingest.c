/*
 * cmd_ingest.c - sluice ingest --source S [--contract-version V] FILE...
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "ingest/ingest.h"
#include "project/register.h"
#include "core/banned.h"

/* A file's schema drift, as the transform will find it. */
static void
print_drift(const struct source *src, const struct contract *con, const struct reader_drift *x)
{
    for (size_t i = 0; i < x->n; i++) {
        const struct reader_drift_field *f = &x->v[i];
        struct cli_drift line = {
            .source = src->name,
            .version = con->version,
            .field = f->field,
            .missing = f->kind == ROWS_DRIFT_MISSING,
            .records = f->records,
            .sample = x->sampled ? (x->records > 0 ? x->records : 1) : 0,
            .line = x->line_based,
            .position = f->position,
            .example = f->example,
        };

        cli_print_drift(&line);
    }
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"source", required_argument, NULL, 's'},
        {"contract-version", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    const char *source = NULL, *version = NULL, *format = NULL;
    const struct source *src;
    const struct contract *con;
    struct ingest_result *res;
    size_t n;
    int opt, rc, landed = 0, dups = 0;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "s:c:f:", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            source = optarg;
            break;
        case 'c':
            version = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        default:
            return cli_usage("ingest", "unknown option");
        }
    }
    if (source == NULL)
        return cli_usage("ingest", "--source is required");
    if (optind >= argc)
        return cli_usage("ingest", "name at least one file to land");
    n = (size_t)(argc - optind);
    rc = cli_open(c);
    if (rc == 0)
        rc = project_source(c->project, source, &src, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    if (version != NULL) {
        con = source_version(src, version);
        if (con == NULL) {
            sl_fail(&c->diag, SL_ERR_NOTFOUND,
                    "unknown contract version '%s' of source '%s'", version, source);
            sl_diag_hint(&c->diag, "%s declares versions %s to %s", src->path,
                         src->versions[0].version, src->versions[src->nversions - 1].version);
            return cli_report(c, SL_ERR_NOTFOUND);
        }
    } else {
        con = source_latest(src, -1);
    }
    rc = project_register_source(c->catalog, src, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    res = calloc(n, sizeof(*res));
    if (res == NULL)
        return cli_report(c, -12);
    rc = ingest_files(c->store, c->catalog, src, con, (const char *const *)argv + optind, n,
                      format, res, &c->diag);
    if (rc < 0) {
        free(res);
        return cli_report(c, rc);
    }
    for (size_t i = 0; i < n; i++) {
        char num[32];

        if (res[i].duplicate) {
            printf("duplicate  %s  already landed as %s\n", argv[optind + (int)i], res[i].key);
            dups++;
        } else {
            printf("landed     %s  -> %s (%s bytes, %s%s, contract %s)\n", argv[optind + (int)i],
                   res[i].key, cli_num(res[i].size, num), res[i].format,
                   res[i].compression[0] == 'g' ? "+gzip" : "", con->version);
            landed++;
        }
        print_drift(src, con, &res[i].drift);
        ingest_result_release(&res[i]);
    }
    free(res);
    printf("%d object%s landed, %d duplicate%s\n", landed, landed == 1 ? "" : "s", dups,
           dups == 1 ? "" : "s");
    return EXIT_OK;
}

const struct cli_command cli_ingest_cmd = {
    "ingest", run, "land files in the raw zone",
    "usage: sluice ingest --source S [--contract-version V] [--format F] FILE...\n"
    "\n"
    "Land each FILE, unchanged, as a raw object of source S, tagged with contract\n"
    "version V (default: the latest).  The format comes from the name: .csv (with a\n"
    "header), .jsonl or .ndjson (JSON lines), .json (an array of objects), .avro\n"
    "(object container file), each optionally .gz; --format csv|jsonl|json|avro\n"
    "overrides it.  Files are checked first - gzip intact, a CSV header that\n"
    "matches the contract, content of the promised format, not empty - and if any\n"
    "is bad, nothing is landed.  The same bytes landed again are reported as a\n"
    "duplicate.\n"
    "\n"
    "Each file's records are read against the contract before anything reaches\n"
    "curated, and its schema drift is printed under it: per field, how many\n"
    "records carry a field the contract version does not declare (with an\n"
    "example) and how many lack a required one (the transform will quarantine\n"
    "those).  Of a file with more than 16 MiB of content, the records of the\n"
    "first 16 MiB are read, and the lines say so (\"of the first N records\").\n"
    "Nothing is stored: the transform's run records its drift (sluice runs\n"
    "--drift RUN).\n"
    "\n"
    "Objects go to raw/S/YYYY/MM/DD/HH/<object-id>.<format>[.gz] (arrival hour,\n"
    "UTC); the id is the first 128 bits of the SHA-256 of the bytes.\n",
};
