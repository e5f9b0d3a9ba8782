/*
 * cmd_build.c - sluice build: gold models into Iceberg tables (models/build.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/gate.h"
#include "core/strlist.h"
#include "models/build.h"
#include "models/model.h"
#include "core/banned.h"

const char *
cli_model_kind(const struct model *m)
{
    switch (m->materialized) {
    case MODEL_TABLE:
        return "table";
    case MODEL_VIEW:
        return "view";
    case MODEL_INCREMENTAL:
        return m->strategy == MODEL_MERGE ? "incremental (merge)" : "incremental (append)";
    }
    return "?";
}

int
cli_load_models(struct cli *cl, struct model_set *set, char **dir)
{
    int rc = cli_open(cl);

    *dir = NULL;
    if (rc < 0)
        return rc;
    *dir = sl_printf("%s/models", cl->project->root);
    /* Files named as the project names them, in errors too. */
    return models_load(*dir, "models", set, &cl->diag);
}

/* One line per model chosen, then the totals. */
static void
report(const struct model_set *set, const struct build_item *items)
{
    size_t built = 0, failed = 0, skipped = 0, held = 0;
    char n1[32], n2[32];

    for (size_t k = 0; k < set->n; k++) {
        size_t i = set->order[k];
        const struct model *m = &set->v[i];
        const struct build_item *it = &items[i];

        switch (it->outcome) {
        case BUILD_NOT_CHOSEN:
            continue;
        case BUILD_DONE:
            built++;
            if (m->materialized == MODEL_VIEW)
                printf("built    gold.%-24s %-22s saved query          %6.2fs  run %lld\n",
                       m->name, cli_model_kind(m), it->seconds, (long long)it->run_id);
            else
                printf("built    gold.%-24s %-22s %10s rows %2lld file(s) %s bytes  %6.2fs  "
                       "run %lld, snapshot %lld%s\n",
                       m->name, cli_model_kind(m), cli_num(it->rows, n1),
                       (long long)it->files, cli_num(it->bytes, n2), it->seconds,
                       (long long)it->run_id, (long long)it->snapshot_id,
                       m->materialized == MODEL_INCREMENTAL && it->full ? ", full build" : "");
            if (it->why_full[0])
                printf("         (built whole: %s)\n", it->why_full);
            break;
        case BUILD_FAILED:
            failed++;
            printf("FAILED   gold.%-24s %-22s %s\n", m->name, cli_model_kind(m),
                   it->diag.msg);
            if (it->diag.hint[0])
                printf("         hint: %s\n", it->diag.hint);
            break;
        case BUILD_HELD:
            held++;
            printf("HELD     gold.%-24s %-22s %10s rows by its quality gate: run %lld waits for "
                   "'sluice publish %lld' or 'sluice discard %lld'\n",
                   m->name, cli_model_kind(m), cli_num(it->rows, n1), (long long)it->run_id,
                   (long long)it->run_id, (long long)it->run_id);
            break;
        case BUILD_SKIPPED:
            skipped++;
            printf("skipped  gold.%-24s %-22s %s\n", m->name, cli_model_kind(m),
                   it->diag.msg);
            break;
        }
        if (it->gate[0] != '\0') {
            /* the gate's lines, under the model's */
            for (const char *p = it->gate; *p != '\0';) {
                size_t len = strcspn(p, "\n");

                printf("         %.*s\n", (int)len, p);
                p += len + (p[len] == '\n');
            }
        }
    }
    printf("%zu model(s): %zu built, %zu failed, %zu held, %zu skipped\n",
           built + failed + held + skipped, built, failed, held, skipped);
}

static int
build(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"select", required_argument, NULL, 's'},
        {"full-refresh", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct build_opts o = {false, SLUICE_VERSION, cli_gate_gold_wanted, cli_gate_build, cl};
    struct sl_strlist sel = {0};
    struct model_set set = {0};
    struct build_item *items = NULL;
    bool *chosen = NULL;
    char *dir = NULL;
    int opt, rc, status = EXIT_OK;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 's') {
            sl_strlist_add(&sel, optarg);
        } else if (opt == 'f') {
            o.full_refresh = true;
        } else {
            sl_strlist_release(&sel);
            return cli_usage("build", "unknown option");
        }
    }
    for (int i = optind; i < argc; i++)
        sl_strlist_add(&sel, argv[i]);
    rc = cli_load_models(cl, &set, &dir);
    if (rc == 0 && set.n == 0) {
        printf("no models in %s\n", dir);
        goto out;
    }
    if (rc == 0) {
        chosen = sl_calloc(set.n, sizeof(*chosen));
        items = sl_calloc(set.n, sizeof(*items));
        if (sel.n == 0)
            for (size_t i = 0; i < set.n; i++)
                chosen[i] = true;
        else
            rc = models_select(&set, (const char *const *)sel.v, sel.n, chosen, &cl->diag);
    }
    if (rc == 0) {
        struct sl_diag d;

        sl_diag_init(&d);
        rc = models_build(cl->project, cl->store, cl->catalog, &set, chosen, &o, items, &d);
        report(&set, items);
        if (rc == SL_ERR_INPUT) {
            rc = 0;
            status = EXIT_FAIL;
        } else if (rc < 0) {
            cl->diag = d;
        }
    }
out:
    free(items);
    free(chosen);
    free(dir);
    models_release(&set);
    sl_strlist_release(&sel);
    return rc < 0 ? cli_report(cl, rc) : status;
}

const struct cli_command cli_build_cmd = {
    "build", build, "models -> gold Iceberg tables, in dependency order",
    "usage: sluice build [MODEL...] [--select SELECTOR]... [--full-refresh]\n"
    "\n"
    "Build the models of models/*.sql into the tables gold.<model>, every model\n"
    "after the gold tables it reads (taken from its SQL: no refs to write).\n"
    "Each model is one commit: a snapshot of its Iceberg table and the record\n"
    "of what it read (every input table's snapshot), or nothing if it fails.\n"
    "A model that fails stops the models that read it (skipped); the others\n"
    "are built.\n"
    "\n"
    "Without MODEL or --select every model is built.  A selector is a model's\n"
    "name, +NAME (with the models it reads, and theirs), NAME+ (with the\n"
    "models that read it, and theirs) or +NAME+.\n"
    "\n"
    "  --full-refresh  rebuild from scratch, also when the columns changed in a\n"
    "                  way the table cannot take in place (a dropped column, a\n"
    "                  type that does not widen)\n"
    "\n"
    "Materialisations (the model's '-- materialized:' header): table (the\n"
    "SELECT's rows replace the table's, one overwrite snapshot), view (no\n"
    "data: the query is saved, and readers see gold.<model> as a view) and\n"
    "incremental (after a first full build, only what changed in its inputs:\n"
    "strategy append adds the rows new since the last build, merge replaces\n"
    "the rows of the unique_key values that changed).\n"
    "'sluice models' lists the models and their last builds.\n"
    "The exit status is 1 if any model failed or was skipped.\n",
};
