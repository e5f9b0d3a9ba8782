/*
 * cmd_tables.c - table maintenance:
 *
 *   sluice expire TABLE (--older-than DURATION | --snapshot ID)
 *   sluice orphans TABLE [--older-than DURATION] [--delete]
 *   sluice compact TABLE [--wait]
 *   sluice maintain [TABLE...]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/iceberg.h"
#include "catalog/runs.h"
#include "catalog/tables.h"
#include "cli/cli.h"
#include "core/num.h"
#include "core/strlist.h"
#include "core/time.h"
#include "store/layout.h"
#include "table/table.h"
#include "transform/transform.h"
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
                            strcmp(ns, "curated") == 0 ? transform_forget : NULL, &expired,
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
    /* A key file goes with its data file. */
    if (strcmp(a->ns, "curated") == 0) {
        char *prefix = layout_curated_prefix(a->name);
        char *data = layout_curated_keys_data(prefix, key);
        bool known = data != NULL && sl_strlist_has(&a->known, data);

        free(data);
        free(prefix);
        if (known)
            return 0;
    }
    /* Young files may belong to a commit in flight. */
    if (store_local_path(a->cl->store, key, &path, NULL) == 0 && stat(path, &st) == 0 &&
        (int64_t)st.st_mtime * 1000 < a->before_ms)
        sl_strlist_add(&a->orphans, key);
    free(path);
    return 0;
}

/* The files of ns.name older than before_ms that nothing references, into
 * a->orphans (a->cl open, a->ns and a->name set). */
static int
find_orphans(struct orphan_args *a, int64_t before_ms)
{
    char *prefix;
    int rc;

    a->before_ms = before_ms;
    rc = cli_read(a->cl, known_body, a);
    prefix = strcmp(a->ns, "curated") == 0 ? layout_curated_prefix(a->name)
                                           : sl_printf("%s/%s", a->ns, a->name);
    if (rc == 0)
        rc = store_list(a->cl->store, prefix, check_file, a, &a->cl->diag);
    free(prefix);
    return rc;
}

/* Remove a->orphans (each said, when say); the number that could not be
 * removed (each said on stderr). */
static int
remove_orphans(struct orphan_args *a, bool say)
{
    int failed = 0;

    for (size_t i = 0; i < a->orphans.n; i++) {
        struct sl_diag d;

        sl_diag_init(&d);
        if (store_delete(a->cl->store, a->orphans.v[i], &d) < 0) {
            char msg[600];

            sl_diag_format(&d, msg, sizeof(msg));
            fprintf(stderr, "sluice: cannot remove %s: %s\n", a->orphans.v[i], msg);
            failed++;
        } else if (say) {
            printf("removed %s\n", a->orphans.v[i]);
        }
    }
    return failed;
}

static void
orphans_release(struct orphan_args *a)
{
    sl_strlist_release(&a->known);
    sl_strlist_release(&a->orphans);
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
    char ns[64];
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
    rc = cli_open(cl);
    if (rc == 0)
        rc = find_orphans(&a, sl_now_ms() - grace);
    if (rc < 0) {
        orphans_release(&a);
        return cli_report(cl, rc);
    }
    if (del)
        failed = remove_orphans(&a, true);
    else
        for (size_t i = 0; i < a.orphans.n; i++)
            printf("%s\n", a.orphans.v[i]);
    printf("%s: %zu orphan file(s)%s\n", argv[optind], a.orphans.n - (size_t)failed,
           a.orphans.n == 0 ? "" : del ? " removed" : " (--delete removes them)");
    orphans_release(&a);
    return failed ? EXIT_FAIL : EXIT_OK;
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

/* ---- compact ----------------------------------------------------------------------------- */

struct table_owner {
    const char *name;
    struct sl_arena a;
    struct curated_table t;
};

static int
owner_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct table_owner *o = arg;
    int rc = catalog_table_get(txn, o->name, &o->a, &o->t, d);

    if (rc == SL_ERR_NOTFOUND)
        rc = sl_fail(d, SL_ERR_NOTFOUND, "no table curated.%s", o->name);
    return rc;
}

/* Compact curated.name and say what happened on stdout. */
static int
compact_one(struct cli *cl, const char *name, bool wait)
{
    struct table_owner o = {.name = name};
    const struct source *src = NULL;
    struct transform_compaction x;
    char n1[32], n2[32], n3[32];
    int rc;

    sl_arena_init(&o.a, 0);
    rc = cli_read(cl, owner_body, &o);
    if (rc == 0)
        rc = project_source(cl->project, o.t.source, &src, &cl->diag);
    if (rc == 0)
        rc = transform_compact(cl->project, cl->store, cl->catalog, src, o.t.major, wait, &x,
                               &cl->diag);
    sl_arena_release(&o.a);
    if (rc < 0)
        return rc;
    if (x.run_id == 0) {
        printf("curated.%s: nothing to compact (%lld data file(s); no partition has two small "
               "files or a file with deleted rows)\n",
               name, (long long)x.files_before);
        return 0;
    }
    printf("curated.%s: %lld data files -> %lld: %lld rewritten into %lld (%s rows, %s deleted "
           "rows left out, %s bytes); run %lld, snapshot %lld (replace)\n",
           name, (long long)x.files_before, (long long)x.files_after,
           (long long)x.files_rewritten, (long long)x.files_written, cli_num(x.rows, n1),
           cli_num(x.rows_dropped, n2), cli_num(x.bytes_written, n3), (long long)x.run_id,
           (long long)x.snapshot_id);
    return 0;
}

/* TABLE as curated.NAME into *name. */
static int
curated_name(const char *cmd, const char *arg, const char **name)
{
    char ns[64];
    int rc = split_table(cmd, arg, ns, name);

    if (rc == 0 && strcmp(ns, "curated") != 0)
        return cli_usage(cmd, "'%s' is not a curated table (curated.NAME)", arg);
    return rc;
}

static int
compact(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"wait", no_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    bool wait = false;
    const char *name;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'w')
            return cli_usage("compact", "unknown option");
        wait = true;
    }
    if (optind + 1 != argc)
        return cli_usage("compact", "name one table, such as curated.orders");
    rc = curated_name("compact", argv[optind], &name);
    if (rc != 0)
        return rc;
    rc = cli_open(cl);
    if (rc == 0)
        rc = compact_one(cl, name, wait);
    return rc < 0 ? cli_report(cl, rc) : EXIT_OK;
}

const struct cli_command cli_compact_cmd = {
    "compact", compact, "rewrite a table's small files and deletes into files of target size",
    "usage: sluice compact TABLE [--wait]\n"
    "\n"
    "Rewrite, in each partition of curated TABLE, the files smaller than three\n"
    "quarters of transform.max_file_rows and the files with deleted rows into\n"
    "files of at most max_file_rows rows, their surviving rows only.  The\n"
    "table's next snapshot is a 'replace': the same rows in fewer files; the\n"
    "old files stay for time travel until their snapshots expire.  It waits for\n"
    "no transform of the table's source unless --wait (it takes the same lock),\n"
    "and a held run of the source must be published or discarded first.\n"
    "'sluice serve' compacts every table on its maintenance schedule\n"
    "(maintenance.every).\n",
};

/* ---- maintain ---------------------------------------------------------------------------- */

static int
add_name(void *arg, const char *name)
{
    return sl_strlist_add(arg, name);
}

static int
add_curated_name(void *arg, const char *name)
{
    char *q = sl_printf("curated.%s", name);
    int rc = sl_strlist_add(arg, q);

    free(q);
    return rc;
}

/* Every table to maintain: "curated.x" and "gold.y". */
static int
names_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    int rc;

    sl_strlist_release(arg);
    rc = catalog_table_list(txn, add_curated_name, arg, d);
    if (rc == 0)
        rc = catalog_iceberg_list(txn, "gold", add_name, arg, d);
    return rc;
}

/* Compaction (curated tables), expiry and orphans of table ns.name, as the
 * settings say; each step's failure is said and counted, and the next step
 * still runs. */
static int
maintain_one(struct cli *cl, const char *ns, const char *name)
{
    const struct project_config *pc = &cl->project->config;
    struct table_expiry x = {
        .snapshot_id = -1,
        .older_than_ms = sl_now_ms() - pc->transform.keep_snapshots_for * 1000,
        .keep_last = pc->transform.keep_snapshots,
    };
    int rc = 0, failed = 0, expired = 0;
    size_t removed = 0;

    bool curated = strcmp(ns, "curated") == 0;

    /* (gold tables are rewritten by their builds; compaction is the
     * curated tables' own, with the transform's lock) */
    if (curated && pc->maintenance.compact)
        rc = compact_one(cl, name, false);
    if (rc == SL_ERR_BUSY) {
        /* A transform or held run of its source: the next round compacts. */
        printf("curated.%s: not compacted now: %s\n", name, cl->diag.msg);
    } else if (rc < 0) {
        cli_report(cl, rc);
        failed++;
    }
    sl_diag_init(&cl->diag);
    if (table_maintain(cl->catalog, cl->store, ns, name, &x, curated ? transform_forget : NULL,
                       &expired, &removed, &cl->diag) < 0) {
        cli_report(cl, -1);
        failed++;
    } else {
        printf("%s.%s: %d snapshot(s) expired, %zu file(s) removed\n", ns, name, expired,
               removed);
    }
    sl_diag_init(&cl->diag);
    if (pc->maintenance.orphans) {
        struct orphan_args a = {.cl = cl, .ns = ns, .name = name};
        int bad = 0;

        if (find_orphans(&a, sl_now_ms() - pc->maintenance.orphans_after * 1000) < 0) {
            cli_report(cl, -1);
            failed++;
        } else {
            bad = remove_orphans(&a, false);
            printf("%s.%s: %zu orphan file(s) removed\n", ns, name, a.orphans.n - (size_t)bad);
            failed += bad > 0;
        }
        orphans_release(&a);
        sl_diag_init(&cl->diag);
    }
    return failed;
}

static int
maintain(struct cli *cl, int argc, char **argv)
{
    struct sl_strlist names = {0};
    struct catalog_lock *lock = NULL;
    int rc, failed = 0;

    if (argc > 1 && argv[1][0] == '-')
        return cli_usage("maintain", "unknown option '%s'", argv[1]);
    rc = cli_open(cl);
    /* One round at a time, whichever node or person starts it. */
    if (rc == 0)
        rc = catalog_lock(cl->catalog, "maintenance", false, &lock, &cl->diag);
    if (rc == SL_ERR_BUSY) {
        printf("another 'sluice maintain' is running: nothing done\n");
        return EXIT_OK;
    }
    if (rc < 0)
        return cli_report(cl, rc);
    for (int i = 1; i < argc; i++) {
        const char *name;
        char ns[64];

        rc = split_table("maintain", argv[i], ns, &name);
        if (rc == 0 && strcmp(ns, "curated") != 0 && strcmp(ns, "gold") != 0)
            rc = cli_usage("maintain", "'%s' is not a curated or gold table", argv[i]);
        if (rc != 0) {
            sl_strlist_release(&names);
            catalog_unlock(lock);
            return rc;
        }
        sl_strlist_add(&names, argv[i]);
    }
    if (argc <= 1 && (rc = cli_read(cl, names_body, &names)) < 0) {
        catalog_unlock(lock);
        return cli_report(cl, rc);
    }
    for (size_t i = 0; i < names.n; i++) {
        char ns[64];
        const char *dot = strchr(names.v[i], '.');

        snprintf(ns, sizeof(ns), "%.*s", (int)(dot - names.v[i]), names.v[i]);
        failed += maintain_one(cl, ns, dot + 1);
    }
    sl_strlist_release(&names);
    catalog_unlock(lock);
    return failed ? EXIT_FAIL : EXIT_OK;
}

const struct cli_command cli_maintain_cmd = {
    "maintain", maintain, "compact, expire and clean every curated and gold table (or those named)",
    "usage: sluice maintain [TABLE...]\n"
    "\n"
    "The maintenance of curated and gold tables (each named one, or all):\n"
    "compaction of curated tables as 'sluice compact' does it (unless\n"
    "maintenance.compact is false; a gold table is rewritten by its builds),\n"
    "expiry of the snapshots past transform.keep_snapshots and older than\n"
    "transform.keep_snapshots_for, with the files only they read, and removal\n"
    "of orphan files older than maintenance.orphans_after (unless\n"
    "maintenance.orphans is false).  A table whose step fails is said on\n"
    "stderr and the rest go on; the exit status is 1 if any step failed.\n"
    "An incremental model whose last build read a snapshot expired since is\n"
    "built whole the next time.\n"
    "'sluice serve' runs it every maintenance.every seconds.\n",
};
