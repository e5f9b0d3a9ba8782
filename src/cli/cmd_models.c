/*
 * cmd_models.c - sluice models [--json]: the project's gold models, what
 * each one is and reads, and its last build.
 *
 * The models come from models/<name>.sql, loaded exactly as `sluice build`
 * loads them (cli_load_models()), so a file that build would refuse is
 * refused here with the same file:line error.  The last build of each is
 * the catalog's (catalog/builds.h) with its run (catalog/runs.h): only a
 * build that committed is recorded, so a model whose latest build failed
 * shows the last one that did not, and one that never built shows "never".
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/builds.h"
#include "catalog/runs.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "models/model.h"
#include "core/banned.h"

/* The catalog's word on one model. */
struct last_build {
    bool built;            /* a build is recorded */
    bool has_run;          /* ... and its run (always, unless the catalog is odd) */
    struct build_record b; /* strings in the listing's arena */
    struct run_record run; /* strings in the listing's arena */
};

struct listing {
    const struct model_set *set; /* the project's models */
    struct last_build *last;     /* set->n, parallel to set->v */
    struct sl_arena a;           /* the catalog's strings, for the listing's life */
    struct sl_strlist gone;      /* models built once that have no file now */
};

/* A model the catalog has builds of: noted if it has no file now. */
static int
note_gone(void *arg, const char *name)
{
    struct listing *l = arg;

    if (models_find(l->set, name) == NULL)
        sl_strlist_add(&l->gone, name);
    return 0;
}

/* Every model's last build, in one read transaction. */
static int
read_builds(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct listing *l = arg;
    int rc;

    sl_strlist_release(&l->gone); /* a retried transaction starts again */
    rc = catalog_build_models(txn, note_gone, l, d);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < l->set->n; i++) {
        struct last_build *lb = &l->last[i];
        struct sl_diag rd;

        rc = catalog_build_last(txn, l->set->v[i].name, &l->a, &lb->b, d);
        if (rc == SL_ERR_NOTFOUND) {
            lb->built = false;
            continue;
        }
        if (rc < 0)
            return rc;
        lb->built = true;
        sl_diag_init(&rd);
        rc = catalog_run_get(txn, lb->b.run_id, &l->a, &lb->run, &rd);
        if (rc < 0 && rc != SL_ERR_NOTFOUND) {
            *d = rd;
            return rc;
        }
        lb->has_run = rc == 0;
    }
    return 0;
}

/* Whether the model file differs from the one its last build used. */
static bool
changed_since(const struct model *m, const struct build_record *b)
{
    char hex[2 * SL_SHA256_LEN + 1], want[sizeof("sha256:") + sizeof(hex)];

    sl_hex(m->sha256, sizeof(m->sha256), hex);
    snprintf(want, sizeof(want), "sha256:%s", hex);
    return b->checksum == NULL || strcmp(b->checksum, want) != 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" of usec into out (>= 32 bytes). */
static void
when_text(int64_t usec, char *out)
{
    sl_format_timestamp(usec, out);
    out[19] = 'Z';
    out[20] = '\0';
}

/* ---- the table ---------------------------------------------------------------------------- */

/* The partition spec as a header writes it ("-" for none), into b. */
static void
parts_text(const struct model *m, struct sl_buf *b)
{
    char one[300];

    if (m->nparts == 0)
        sl_buf_adds(b, "-");
    for (size_t i = 0; i < m->nparts; i++) {
        model_part_text(&m->parts[i], one, sizeof(one));
        sl_buf_addf(b, "%s%s", i ? ", " : "", one);
    }
}

/* The tables read, ", "-separated ("-" for none), into b. */
static void
reads_text(const struct model *m, struct sl_buf *b)
{
    if (m->nreads == 0)
        sl_buf_adds(b, "-");
    for (size_t i = 0; i < m->nreads; i++)
        sl_buf_addf(b, "%s%s", i ? ", " : "", m->reads[i]);
}

/* The last build column: when, how, run, snapshot, rows; or "never". */
static void
build_text(const struct model *m, const struct last_build *lb, struct sl_buf *b)
{
    char when[32], n[32];

    if (!lb->built) {
        sl_buf_adds(b, "never");
        return;
    }
    if (lb->has_run) {
        when_text(lb->run.finished_at, when);
        sl_buf_addf(b, "%s  ", when);
    }
    if (strcmp(lb->b.materialized, "view") == 0)
        sl_buf_addf(b, "view saved, run %" PRId64, lb->b.run_id);
    else
        sl_buf_addf(b, "%s, run %" PRId64, lb->b.full ? "full" : "incremental", lb->b.run_id);
    if (lb->b.snapshot_id >= 0)
        sl_buf_addf(b, ", snapshot %" PRId64, lb->b.snapshot_id);
    else if (strcmp(lb->b.materialized, "view") != 0)
        sl_buf_adds(b, ", no new snapshot");
    if (lb->has_run && strcmp(lb->b.materialized, "view") != 0)
        sl_buf_addf(b, ", %s rows", cli_num(lb->run.written, n));
    if (lb->has_run && lb->run.state != NULL && strcmp(lb->run.state, "published") != 0)
        sl_buf_addf(b, " (%s)", lb->run.state);
    if (strcmp(lb->b.materialized, model_materialized_name(m->materialized)) != 0)
        sl_buf_addf(b, "; built as %s", lb->b.materialized);
    if (changed_since(m, &lb->b))
        sl_buf_adds(b, "; file changed since");
}

enum { COL_NAME, COL_KIND, COL_PARTS, COL_READS, COL_BUILD, NCOLS };

static void
print_table(const struct listing *l)
{
    static const char *const heads[NCOLS] = {"model", "materialized", "partition_by", "reads",
                                             "last build"};
    const struct model_set *set = l->set;
    struct sl_buf *cells = sl_calloc(set->n * NCOLS, sizeof(*cells));
    size_t width[NCOLS];

    for (int c = 0; c < NCOLS; c++)
        width[c] = strlen(heads[c]);
    for (size_t i = 0; i < set->n; i++) {
        const struct model *m = &set->v[i];
        struct sl_buf *row = &cells[i * NCOLS];

        for (int c = 0; c < NCOLS; c++)
            sl_buf_init(&row[c]);
        sl_buf_addf(&row[COL_NAME], "gold.%s", m->name);
        sl_buf_adds(&row[COL_KIND], cli_model_kind(m));
        parts_text(m, &row[COL_PARTS]);
        reads_text(m, &row[COL_READS]);
        build_text(m, &l->last[i], &row[COL_BUILD]);
        for (int c = 0; c < NCOLS; c++)
            if (row[c].len > width[c])
                width[c] = row[c].len;
    }
    printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)width[COL_NAME], heads[COL_NAME],
           (int)width[COL_KIND], heads[COL_KIND], (int)width[COL_PARTS], heads[COL_PARTS],
           (int)width[COL_READS], heads[COL_READS], heads[COL_BUILD]);
    for (size_t i = 0; i < set->n; i++) {
        struct sl_buf *row = &cells[i * NCOLS];

        printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)width[COL_NAME], row[COL_NAME].data,
               (int)width[COL_KIND], row[COL_KIND].data, (int)width[COL_PARTS], row[COL_PARTS].data,
               (int)width[COL_READS], row[COL_READS].data, row[COL_BUILD].data);
        for (int c = 0; c < NCOLS; c++)
            sl_buf_release(&row[c]);
    }
    free(cells);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void
json_str(struct sl_buf *b, const char *s)
{
    if (s == NULL)
        sl_buf_adds(b, "null");
    else
        sl_buf_add_json_str(b, s, strlen(s));
}

static void
json_list(struct sl_buf *b, char *const *v, size_t n)
{
    sl_buf_addc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sl_buf_adds(b, ", ");
        json_str(b, v[i]);
    }
    sl_buf_addc(b, ']');
}

/* One model as one line of JSON. */
static void
print_json(const struct model *m, const struct last_build *lb)
{
    struct sl_buf b;
    char text[300];

    sl_buf_init(&b);
    sl_buf_adds(&b, "{\"name\": ");
    json_str(&b, m->name);
    sl_buf_adds(&b, ", \"table\": ");
    sl_buf_addf(&b, "\"gold.%s\"", m->name); /* a valid model name needs no escape */
    sl_buf_adds(&b, ", \"path\": ");
    json_str(&b, m->path);
    sl_buf_adds(&b, ", \"materialized\": ");
    json_str(&b, model_materialized_name(m->materialized));
    sl_buf_adds(&b, ", \"strategy\": ");
    json_str(&b, m->materialized == MODEL_INCREMENTAL ? model_strategy_name(m->strategy) : NULL);
    sl_buf_adds(&b, ", \"unique_key\": ");
    json_list(&b, m->unique_key, m->nunique_key);
    sl_buf_adds(&b, ", \"partition_by\": [");
    for (size_t i = 0; i < m->nparts; i++) {
        model_part_text(&m->parts[i], text, sizeof(text));
        if (i > 0)
            sl_buf_adds(&b, ", ");
        json_str(&b, text);
    }
    sl_buf_adds(&b, "], \"description\": ");
    json_str(&b, m->description);
    sl_buf_adds(&b, ", \"reads\": ");
    json_list(&b, m->reads, m->nreads);
    sl_buf_adds(&b, ", \"last_build\": ");
    if (!lb->built) {
        sl_buf_adds(&b, "null");
    } else {
        char when[32];

        sl_buf_addf(&b, "{\"run_id\": %" PRId64 ", \"finished_at\": ", lb->b.run_id);
        if (lb->has_run) {
            when_text(lb->run.finished_at, when);
            json_str(&b, when);
        } else {
            sl_buf_adds(&b, "null");
        }
        sl_buf_adds(&b, ", \"state\": ");
        json_str(&b, lb->has_run ? lb->run.state : NULL);
        sl_buf_adds(&b, ", \"materialized\": ");
        json_str(&b, lb->b.materialized);
        sl_buf_addf(&b, ", \"full\": %s, \"snapshot_id\": ", lb->b.full ? "true" : "false");
        if (lb->b.snapshot_id >= 0)
            sl_buf_addf(&b, "%" PRId64, lb->b.snapshot_id);
        else
            sl_buf_adds(&b, "null");
        sl_buf_adds(&b, ", \"rows\": ");
        if (lb->has_run && strcmp(lb->b.materialized, "view") != 0)
            sl_buf_addf(&b, "%" PRId64, lb->run.written);
        else
            sl_buf_adds(&b, "null");
        sl_buf_adds(&b, ", \"checksum\": ");
        json_str(&b, lb->b.checksum);
        sl_buf_addf(&b, ", \"file_changed\": %s", changed_since(m, &lb->b) ? "true" : "false");
        sl_buf_adds(&b, ", \"sluice_version\": ");
        json_str(&b, lb->b.version);
        sl_buf_addc(&b, '}');
    }
    sl_buf_adds(&b, "}\n");
    fputs(b.data, stdout);
    sl_buf_release(&b);
}

/* ---- the command -------------------------------------------------------------------------- */

static int
run(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct model_set set = {0};
    struct listing l = {0};
    bool json = false;
    char *dir = NULL;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'j')
            json = true;
        else
            return cli_usage("models", "unknown option");
    }
    if (optind < argc)
        return cli_usage("models", "unexpected argument '%s'", argv[optind]);
    sl_arena_init(&l.a, 0);
    rc = cli_load_models(cl, &set, &dir);
    if (rc == 0) {
        l.set = &set;
        l.last = sl_calloc(set.n + 1, sizeof(*l.last));
        rc = cli_read(cl, read_builds, &l);
    }
    if (rc == 0 && json) {
        for (size_t i = 0; i < set.n; i++)
            print_json(&set.v[i], &l.last[i]);
    } else if (rc == 0) {
        if (set.n == 0)
            printf("no models in %s: write one as models/<name>.sql\n", dir);
        else
            print_table(&l);
        for (size_t i = 0; i < l.gone.n; i++)
            printf("%sgold.%s", i ? ", " : "\nbuilt before, with no model file now: ", l.gone.v[i]);
        if (l.gone.n > 0)
            printf("\n");
    }
    sl_strlist_release(&l.gone);
    free(l.last);
    sl_arena_release(&l.a);
    free(dir);
    models_release(&set);
    return rc < 0 ? cli_report(cl, rc) : EXIT_OK;
}

const struct cli_command cli_models_cmd = {
    "models",
    run,
    "the gold models, what they read, their last build",
    "usage: sluice models [--json]\n"
    "\n"
    "List the models of models/*.sql by name: the table each one builds\n"
    "(gold.<model>), its materialisation (table, view, or incremental with its\n"
    "strategy, append or merge), its partition spec, the curated and gold\n"
    "tables its SQL reads, and its last build from the catalog: when it\n"
    "finished, full or incremental, its run, the snapshot it made and the rows\n"
    "it wrote, or \"never\".  A failed build commits nothing and is not\n"
    "recorded, so the last build is the last one that succeeded.  \"file\n"
    "changed since\" means the model file is not the one that build used.\n"
    "Models built before whose file is gone are named after the list (their\n"
    "tables stay).\n"
    "\n"
    "The files are checked as 'sluice build' checks them: a bad one is named\n"
    "with its line, and the exit status is 1.\n"
    "\n"
    "  --json  one JSON object per model and line: name, table, path,\n"
    "          materialized, strategy, unique_key, partition_by, description,\n"
    "          reads, last_build (null, or run_id, finished_at, state,\n"
    "          materialized, full, snapshot_id, rows, checksum, file_changed,\n"
    "          sluice_version)\n",
};
