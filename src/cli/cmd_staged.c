/*
 * cmd_staged.c - held runs and their decisions: sluice staged, sluice
 * publish RUN, sluice discard RUN; and sluice alerts, the outbox of the
 * gates' alerts.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/alerts.h"
#include "catalog/quality.h"
#include "cli/cli.h"
#include "commit/commit.h"
#include "core/num.h"
#include "core/strlist.h"
#include "core/time.h"
#include "models/build.h"
#include "quality/alert.h"
#include "transform/transform.h"
#include "core/banned.h"

/* ---- sluice staged ----------------------------------------------------------------- */

struct held_list {
    struct sl_arena a;
    struct run_record *v;
    size_t n, cap;
    struct sl_strlist lines;     /* per run: its failed rules, one string */
};

static int
add_held(void *arg, const struct run_record *r)
{
    struct held_list *h = arg;
    struct run_record *x;

    SL_GROW(h->v, h->cap, h->n + 1);
    x = &h->v[h->n++];
    *x = *r;
    x->kind = sl_arena_strdup(&h->a, r->kind);
    x->source = sl_arena_strdup(&h->a, r->source);
    x->table = sl_arena_strdup(&h->a, r->table ? r->table : "");
    x->state = sl_arena_strdup(&h->a, r->state);
    return 0;
}

/* A run's gate evaluations that did not pass, as printed lines. */
struct rule_lines {
    struct sl_buf b;
    int64_t last_at;
    const char *last_table;
    struct sl_arena *a;
};

static int
add_rule(void *arg, const struct quality_record *q)
{
    struct rule_lines *l = arg;

    /* the latest evaluation of each table only (a run is gated once, but
     * 'sluice check' may not be) */
    if (l->last_table == NULL || strcmp(l->last_table, q->table) != 0 ||
        q->evaluated_at != l->last_at) {
        l->last_table = sl_arena_strdup(l->a, q->table);
        l->last_at = q->evaluated_at;
        sl_buf_addf(&l->b, "  gate of %s:\n", q->table);
    }
    if (strcmp(q->outcome, "passed") == 0)
        return 0;
    sl_buf_addf(&l->b, "    %-7s %s", q->outcome, q->rule);
    if (q->has_metric)
        sl_buf_addf(&l->b, "  [%.10g]", q->metric);
    sl_buf_addf(&l->b, "%s%s\n", q->reason[0] ? ": " : "", q->reason);
    return 0;
}

static int
read_held(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct held_list *h = arg;
    int rc;

    h->n = 0;
    sl_strlist_release(&h->lines);
    rc = catalog_run_list(txn, NULL, 0, true, add_held, h, d);
    for (size_t i = 0; rc == 0 && i < h->n; i++) {
        struct rule_lines l = {.a = &h->a};

        sl_buf_init(&l.b);
        rc = catalog_quality_run(txn, h->v[i].run_id, add_rule, &l, d);
        sl_strlist_add(&h->lines, l.b.data ? l.b.data : "");
        sl_buf_release(&l.b);
    }
    return rc;
}

static int
staged(struct cli *c, int argc, char **argv)
{
    struct held_list h = {0};
    int rc;

    (void)argv;
    if (argc > 1)
        return cli_usage("staged", "takes no argument");
    sl_arena_init(&h.a, 0);
    rc = cli_open(c);
    if (rc == 0)
        rc = cli_read(c, read_held, &h);
    for (size_t i = 0; rc == 0 && i < h.n; i++) {
        const struct run_record *r = &h.v[i];
        char when[32], n1[32], n2[32], n3[32], n4[32];

        sl_format_timestamp(r->finished_at, when);
        when[19] = 'Z';
        when[20] = '\0';
        printf("run %" PRId64 "  %s of %s -> ", r->run_id, r->kind, r->source);
        for (const char *p = r->table; *p != '\0';) {
            size_t len = strcspn(p, ",");

            /* a transform's tables are curated names */
            printf("%s%s%.*s", p == r->table ? "" : ", ",
                   strcmp(r->kind, "transform") == 0 ? "curated." : "", (int)len, p);
            p += len + (p[len] == ',');
        }
        printf("  held since %s\n", when);
        if (strcmp(r->kind, "transform") == 0)
            printf("  records in %s: written %s, quarantined %s, duplicates %s\n",
                   cli_num(r->records_in, n1), cli_num(r->written, n2),
                   cli_num(r->quarantined, n3), cli_num(r->duplicates, n4));
        else
            printf("  rows %s\n", cli_num(r->written, n1));
        fputs(h.lines.v[i], stdout);
        if (strcmp(r->kind, "transform") == 0) {
            struct sl_diag quiet;
            int n = 0;

            sl_diag_init(&quiet);
            cli_print_run_drift(c, r->run_id, &n, &quiet);
        }
        if (h.lines.v[i][0] == '\0')
            printf("  %s\n", strcmp(r->kind, "build") == 0
                                 ? "no gate has evaluated it (the build was interrupted)"
                                 : "no gate has evaluated it ('sluice transform --hold', or "
                                   "an interrupted run: the next transform gates it)");
        printf("  settle: sluice publish %" PRId64 "   or   sluice discard %" PRId64 "\n",
               r->run_id, r->run_id);
    }
    if (rc == 0 && h.n == 0)
        printf("no held runs\n");
    free(h.v);
    sl_strlist_release(&h.lines);
    sl_arena_release(&h.a);
    return rc < 0 ? cli_report(c, rc) : EXIT_OK;
}

/* ---- sluice publish / discard ------------------------------------------------------ */

struct kind_args {
    int64_t run_id;
    char kind[32];
    struct sl_arena a;
};

static int
read_kind(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct kind_args *k = arg;
    struct run_record r;
    int rc;

    sl_arena_reset(&k->a);
    rc = catalog_run_get(txn, k->run_id, &k->a, &r, d);
    if (rc == 0)
        snprintf(k->kind, sizeof(k->kind), "%s", r.kind);
    return rc;
}

int
cli_decide(struct cli *c, int64_t run_id, bool publish)
{
    struct kind_args k = {.run_id = run_id};
    commit_publish_fn on_publish = NULL, on_discard = NULL;
    int rc;

    sl_arena_init(&k.a, 0);
    rc = cli_open(c);
    if (rc == 0)
        rc = cli_read(c, read_kind, &k);
    sl_arena_release(&k.a);
    /* Transforms and builds are held; for the others the decision names
     * their state. */
    if (rc == 0 && strcmp(k.kind, "transform") == 0)
        on_publish = transform_publish_held;
    else if (rc == 0 && strcmp(k.kind, "build") == 0) {
        on_publish = models_publish_held;
        on_discard = models_discard_held;
    }
    if (rc == 0)
        rc = commit_decide(c->store, c->catalog, run_id, publish, on_publish, on_discard, NULL,
                           &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    printf("run %" PRId64 " %s\n", run_id, publish ? "published" : "discarded");
    return EXIT_OK;
}

static int
decide(struct cli *c, int argc, char **argv, bool publish)
{
    int64_t run_id;

    if (argc != 2 || sl_parse_i64(argv[1], strlen(argv[1]), &run_id) < 0 || run_id <= 0)
        return cli_usage(argv[0], "expected one run id: sluice %s 42", argv[0]);
    return cli_decide(c, run_id, publish);
}

static int
publish_cmd(struct cli *c, int argc, char **argv)
{
    return decide(c, argc, argv, true);
}

static int
discard_cmd(struct cli *c, int argc, char **argv)
{
    return decide(c, argc, argv, false);
}

/* ---- sluice alerts ----------------------------------------------------------------- */

static int
print_alert(void *arg, const struct alert_record *a)
{
    char when[32], where[256];
    const char *nl = strchr(a->text, '\n');

    (void)arg;
    sl_format_timestamp(a->created_at, when);
    when[19] = 'Z';
    when[20] = '\0';
    printf("%s  run %" PRId64 "  %-20s  %-5s  %-9s  %s\n", when, a->run_id, a->table,
           a->severity, a->state,
           a->webhook[0] ? quality_alert_where(a->webhook, where, sizeof(where)) : "(log)");
    if (strcmp(a->state, "delivered") != 0)
        printf("    %" PRId64 " attempt%s%s%s\n", a->attempts, a->attempts == 1 ? "" : "s",
               a->last_error[0] ? ", last: " : "", a->last_error);
    if (a->webhook[0] == '\0')
        printf("    %.*s\n", nl ? (int)(nl - a->text) : (int)strlen(a->text), a->text);
    return 0;
}

struct alert_list {
    int64_t limit;
};

static int
list_alerts(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    return catalog_alert_list(txn, ((struct alert_list *)arg)->limit, print_alert, NULL, d);
}

static int
alerts(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"send", no_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct alert_list l = {20};
    bool send = false;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 's')
            send = true;
        else if (opt == 'n' && sl_parse_i64(optarg, strlen(optarg), &l.limit) == 0 &&
                 l.limit >= 0)
            continue;
        else
            return cli_usage("alerts", opt == 'n' ? "--limit takes a number" : "unknown option");
    }
    if (optind < argc)
        return cli_usage("alerts", "unexpected argument '%s'", argv[optind]);
    rc = cli_open(c);
    if (rc == 0 && send) {
        struct quality_delivery out;

        rc = quality_alert_deliver(c->catalog, &c->project->config.alerts, true, 0, &out,
                                   &c->diag);
        if (rc == 0)
            printf("delivered %" PRId64 ", to retry %" PRId64 ", given up %" PRId64 "\n",
                   out.delivered, out.retrying, out.given_up);
    }
    if (rc == 0)
        rc = cli_read(c, list_alerts, &l);
    return rc < 0 ? cli_report(c, rc) : EXIT_OK;
}

const struct cli_command cli_staged_cmd = {
    "staged", staged, "runs held by a quality gate, with the rules they failed",
    "usage: sluice staged\n"
    "\n"
    "List the runs that are held - committed but invisible, their staged output\n"
    "kept - because a blocking rule of their quality gate failed (or because\n"
    "'sluice transform --hold' asked): each with its account, the rules that did\n"
    "not pass and what they observed, and the two commands that settle it.  While\n"
    "a run of a source is held, later transforms of that source wait.\n",
};

const struct cli_command cli_publish_cmd = {
    "publish", publish_cmd, "publish a held run after review",
    "usage: sluice publish RUN\n"
    "\n"
    "Make held run RUN's output visible, as if its gate had passed: a transform's\n"
    "curated files and snapshot, a build's gold snapshot.  Refused for a run that\n"
    "is not held, naming its state.\n",
};

const struct cli_command cli_discard_cmd = {
    "discard", discard_cmd, "discard a held run",
    "usage: sluice discard RUN\n"
    "\n"
    "Throw held run RUN's output away: its staged files are deleted and its\n"
    "records forgotten.  A transform's bookmark moves back to where the run\n"
    "started, so its raw objects are transformed again by the next transform\n"
    "(after the contract, the data or the ruleset is fixed): nothing is lost.\n"
    "Refused for a run that is not held, naming its state.\n",
};

const struct cli_command cli_alerts_cmd = {
    "alerts", alerts, "the quality gates' alerts and their delivery",
    "usage: sluice alerts [--send] [--limit N]\n"
    "\n"
    "List the latest N (default 20; 0: all) alerts of quality gates, one line per\n"
    "destination: the log, and each webhook of alerts.webhooks with its delivery\n"
    "state (pending, delivered, failed: given up after alerts.max_attempts) and\n"
    "last error.  'sluice serve' retries pending deliveries with backoff; --send\n"
    "tries every pending one now.\n",
};
