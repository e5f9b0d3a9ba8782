/*
 * cmd_tables.c - table maintenance:
 *
 *   sluice expire TABLE (--older-than DURATION | --snapshot ID)
 *   sluice orphans TABLE [--older-than DURATION] [--delete]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/runs.h"
#include "catalog/tables.h"
#include "cli/cli.h"
#include "core/num.h"
#include "core/strlist.h"
#include "core/time.h"
#include "store/layout.h"
#include "table/table.h"
#include "core/banned.h"

/* TABLE as NAMESPACE.NAME into ns (size 64) and *name. */
static int
split_table(const char *cmd, const char *arg, char *ns, const char **name)
{
    const char *dot = strchr(arg, '.');

    if (dot == NULL || dot == arg || dot - arg >= 64 || dot[1] == '\0')
        return cli_usage(cmd, "'%s' is not NAMESPACE.TABLE (curated.orders)", arg);
    memcpy(ns, arg, (size_t)(dot - arg));
    ns[dot - arg] = '\0';
    *name = dot + 1;
    return 0;
}

/* ---- expire ------------------------------------------------------------------------------ */

static int
expire(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"older-than", required_argument, NULL, 'o'},
        {"snapshot", required_argument, NULL, 's'},
        {"retain-last", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    struct table_expiry x = {.snapshot_id = -1, .older_than_ms = -1};
    const char *name;
    char ns[64];
    int64_t ms;
    size_t removed = 0;
    int opt, rc, expired = 0;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'o' && sl_parse_duration(optarg, &ms) == 0)
            x.older_than_ms = sl_now_ms() - ms;
        else if (opt == 's' && sl_parse_i64(optarg, strlen(optarg), &x.snapshot_id) == 0 &&
                 x.snapshot_id >= 0)
            continue;
        else if (opt == 'r' && sl_parse_i64(optarg, strlen(optarg), &x.keep_last) == 0 &&
                 x.keep_last >= 1)
            continue;
        else
            return cli_usage("expire", opt == 'o' ? "--older-than takes a duration (7d, 12h, 30m)"
                             : opt == 's'         ? "--snapshot takes a snapshot id"
                             : opt == 'r'         ? "--retain-last takes a count >= 1"
                                                  : "unknown option");
    }
    if (optind + 1 != argc)
        return cli_usage("expire", "name one table, such as curated.orders");
    if ((x.older_than_ms < 0) == (x.snapshot_id < 0))
        return cli_usage("expire", "give --older-than DURATION or --snapshot ID");
    rc = split_table("expire", argv[optind], ns, &name);
    if (rc != 0)
        return rc;
    rc = cli_open(cl);
    if (rc == 0)
        rc = table_maintain(cl->catalog, cl->store, ns, name, &x,
                            strcmp(ns, "curated") == 0 ? catalog_file_forget : NULL, &expired,
                            &removed, &cl->diag);
    if (rc < 0)
        return cli_report(cl, rc);
    printf("%s: %d snapshot(s) expired, %zu file(s) removed%s\n", argv[optind], expired,
           removed, expired ? "" : " (the current snapshot is always kept)");
    return EXIT_OK;
}

const struct cli_command cli_expire_cmd = {
    "expire", expire, "remove old snapshots of a table and the files only they read",
    "usage: sluice expire TABLE --older-than DURATION [--retain-last N]\n"
    "       sluice expire TABLE --snapshot ID\n"
    "\n"
    "Remove the snapshots of TABLE (curated.<source>) committed more than\n"
    "DURATION ago (90s, 30m, 12h, 7d, 1w), or the one snapshot ID, then delete\n"
    "the files only they read: data and delete files retired since, manifests\n"
    "and manifest lists.  The current snapshot is never expired (asking for it\n"
    "by id is refused), nor are the newest N with --retain-last.  Time travel\n"
    "(sluice query --as-of) reaches back to the oldest snapshot kept.  Transform\n"
    "runs expire snapshots by themselves as transform.keep_snapshots and\n"
    "keep_snapshots_for say.\n",
};

/* ---- orphans ---------------------------------------------------------------------------- */

struct orphan_args {
    struct cli *cl;
    const char *ns, *name;
    struct sl_strlist known;      /* referenced by metadata or the catalog */
    struct sl_strlist orphans;
    int64_t before_ms;
};

static int
add_live_file(void *arg, const struct curated_file *f)
{
    return sl_strlist_add(arg, f->key);
}

static int
add_live_delete(void *arg, const struct curated_delete *del)
{
    return sl_strlist_add(arg, del->key);
}

static int
add_pending(void *arg, const struct catalog_pending *p)
{
    sl_strlist_add(arg, p->dst);
    return 0;
}

static int
known_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct orphan_args *a = arg;
    int rc;

    sl_strlist_release(&a->known);
    rc = table_referenced(txn, a->cl->store, a->ns, a->name, &a->known, d);
    if (rc == SL_ERR_NOTFOUND)
        rc = sl_fail(d, SL_ERR_NOTFOUND, "no table %s.%s", a->ns, a->name);
    if (rc == 0 && strcmp(a->ns, "curated") == 0)
        rc = catalog_file_list(txn, a->name, add_live_file, &a->known, d);
    if (rc == 0 && strcmp(a->ns, "curated") == 0)
        rc = catalog_delete_list(txn, a->name, add_live_delete, &a->known, d);
    if (rc == 0)
        rc = catalog_pending_list(txn, 0, true, add_pending, &a->known, d);
    return rc;
}

static int
check_file(void *arg, const char *key, int64_t size)
{
    struct orphan_args *a = arg;
    char *path = NULL;
    struct stat st;

    (void)size;
    if (sl_strlist_has(&a->known, key))
        return 0;
    /* Young files may belong to a commit in flight. */
    if (store_local_path(a->cl->store, key, &path, NULL) == 0 && stat(path, &st) == 0 &&
        (int64_t)st.st_mtime * 1000 < a->before_ms)
        sl_strlist_add(&a->orphans, key);
    free(path);
    return 0;
}

static int
orphans(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"older-than", required_argument, NULL, 'o'},
        {"delete", no_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    struct orphan_args a = {.cl = cl};
    int64_t grace = 86400000;
    bool del = false;
    char ns[64], *prefix;
    int opt, rc, failed = 0;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'o' && sl_parse_duration(optarg, &grace) == 0)
            continue;
        else if (opt == 'x')
            del = true;
        else
            return cli_usage("orphans", opt == 'o' ? "--older-than takes a duration (1d, 12h)"
                                                   : "unknown option");
    }
    if (optind + 1 != argc)
        return cli_usage("orphans", "name one table, such as curated.orders");
    rc = split_table("orphans", argv[optind], ns, &a.name);
    if (rc != 0)
        return rc;
    a.ns = ns;
    a.before_ms = sl_now_ms() - grace;
    rc = cli_open(cl);
    if (rc == 0)
        rc = cli_read(cl, known_body, &a);
    prefix = strcmp(ns, "curated") == 0 ? layout_curated_prefix(a.name)
                                        : sl_printf("%s/%s", ns, a.name);
    if (rc == 0)
        rc = store_list(cl->store, prefix, check_file, &a, &cl->diag);
    free(prefix);
    if (rc < 0) {
        sl_strlist_release(&a.known);
        sl_strlist_release(&a.orphans);
        return cli_report(cl, rc);
    }
    for (size_t i = 0; i < a.orphans.n; i++) {
        printf("%s%s\n", del ? "removed " : "", a.orphans.v[i]);
        if (del && store_delete(cl->store, a.orphans.v[i], &cl->diag) < 0)
            failed++;
    }
    printf("%s: %zu orphan file(s)%s\n", argv[optind], a.orphans.n,
           a.orphans.n == 0 ? "" : del ? " removed" : " (--delete removes them)");
    sl_strlist_release(&a.known);
    sl_strlist_release(&a.orphans);
    return failed ? cli_report(cl, SL_ERR_INPUT) : EXIT_OK;
}

const struct cli_command cli_orphans_cmd = {
    "orphans", orphans, "list (and remove) files of a table no snapshot references",
    "usage: sluice orphans TABLE [--older-than DURATION] [--delete]\n"
    "\n"
    "List the files under TABLE's folder that no snapshot, metadata file or\n"
    "catalog record references and that are older than DURATION (default 1d,\n"
    "so that a commit in flight keeps its files): what crashed or lost\n"
    "commits left.  --delete removes them.\n",
};
