/*
 * cmd_raw.c - sluice raw ls [--source S].
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "catalog/raw.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/time.h"
#include "core/banned.h"

struct ls {
    bool json;
    int n;
    int64_t bytes;
};

static int
print_obj(void *arg, const struct raw_object *o)
{
    struct ls *l = arg;
    char when[32], num[32];

    sl_format_timestamp(o->arrived_at, when);
    when[19] = 'Z';
    when[20] = '\0';
    if (l->json) {
        struct sl_buf b;

        sl_buf_init(&b);
        sl_buf_addf(&b, "{\"seq\": %lld, \"source\": ", (long long)o->seq);
        sl_buf_add_json_str(&b, o->source, strlen(o->source));
        sl_buf_adds(&b, ", \"object_id\": ");
        sl_buf_add_json_str(&b, o->object_id, strlen(o->object_id));
        sl_buf_adds(&b, ", \"key\": ");
        sl_buf_add_json_str(&b, o->key, strlen(o->key));
        sl_buf_adds(&b, ", \"system\": ");
        sl_buf_add_json_str(&b, o->system, strlen(o->system));
        sl_buf_adds(&b, ", \"contract_version\": ");
        sl_buf_add_json_str(&b, o->contract_version, strlen(o->contract_version));
        sl_buf_adds(&b, ", \"original_name\": ");
        sl_buf_add_json_str(&b, o->original_name, strlen(o->original_name));
        sl_buf_addf(&b, ", \"format\": \"%s\", \"compression\": \"%s\", \"size\": %lld, "
                        "\"checksum\": \"%s\", \"arrived_at\": \"%s\"}",
                    o->format, o->compression, (long long)o->size, o->checksum, when);
        printf("%s\n", b.data);
        sl_buf_release(&b);
    } else {
        if (l->n == 0)
            printf("%-4s  %-12s  %-32s  %-8s  %7s  %14s  %-20s  %s\n", "seq", "source",
                   "object id", "system", "version", "bytes", "arrived", "original name");
        printf("%-4lld  %-12s  %-32s  %-8s  %7s  %14s  %-20s  %s\n", (long long)o->seq,
               o->source, o->object_id, o->system, o->contract_version, cli_num(o->size, num),
               when, o->original_name);
    }
    l->n++;
    l->bytes += o->size;
    return 0;
}

struct list_args {
    const char *source;
    struct ls *l;
};

static int
list(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct list_args *a = arg;

    return catalog_raw_list(txn, a->source, 0, print_obj, a->l, d);
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"source", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    const char *source = NULL;
    struct ls l = {0};
    char num[32];
    int opt, rc;

    if (argc < 2 || strcmp(argv[1], "ls") != 0)
        return cli_usage("raw", "expected 'sluice raw ls'");
    optind = 0;
    argc--;
    argv++;
    while ((opt = getopt_long(argc, argv, "s:f:", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            source = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0 || strcmp(optarg, "jsonl") == 0)
                l.json = true;
            else if (strcmp(optarg, "table") != 0)
                return cli_usage("raw", "--format is table or jsonl");
            break;
        default:
            return cli_usage("raw", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage("raw", "unexpected argument '%s'", argv[optind]);
    rc = cli_open(c);
    if (rc == 0 && source != NULL) {
        const struct source *src;

        rc = project_source(c->project, source, &src, &c->diag);
    }
    if (rc == 0) {
        struct list_args a = {source, &l};

        rc = cli_read(c, list, &a);
    }
    if (rc < 0)
        return cli_report(c, rc);
    if (!l.json)
        printf("%d object%s, %s bytes\n", l.n, l.n == 1 ? "" : "s", cli_num(l.bytes, num));
    return EXIT_OK;
}

const struct cli_command cli_raw_cmd = {
    "raw", run, "list raw objects: sluice raw ls [--source S]",
    "usage: sluice raw ls [--source S] [--format table|jsonl]\n"
    "\n"
    "List the raw objects in arrival order with their source, object id, source\n"
    "system, contract version, size, arrival time and original name; --format\n"
    "jsonl adds the store key and SHA-256 checksum.\n",
};
