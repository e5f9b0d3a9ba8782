/*
 * status.c - data products against their declarations (see status.h).
 *
 * One read transaction: one pass over the runs serves every product, then
 * per product its quality results and its table's metadata.  Nothing here
 * reads a data file.
 */
#include "quality/status.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/quality.h"
#include "catalog/runs.h"
#include "catalog/tables.h"
#include "engine/engine.h"
#include "table/manifest.h"
#include "table/table.h"
#include "core/banned.h"

#define DAY_USEC (86400LL * 1000000)

void
quality_status_init(struct quality_status_report *r)
{
    memset(r, 0, sizeof(*r));
    sl_arena_init(&r->a, 0);
}

void
quality_status_release(struct quality_status_report *r)
{
    sl_arena_release(&r->a);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* Whether name is one of the comma-separated names of list. */
static bool
list_has(const char *list, const char *name)
{
    size_t len = strlen(name);

    for (const char *p = list; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, ",");

        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* Whether run r wrote product p's table: a curated table's transforms name
 * it without its schema; a build names gold.<model>. */
static bool
run_wrote(const struct run_record *r, const struct product *p)
{
    if (strcmp(p->schema, "curated") == 0)
        return strcmp(r->kind, "transform") == 0 && list_has(r->table, p->table);
    return strcmp(r->kind, "build") == 0 && list_has(r->table, p->name);
}

struct measure {
    struct quality_status_report *r;
    struct store *s;
    struct engine *e;            /* may be NULL */
    struct sl_buf *held;         /* per product, the held ids */
};

static int
on_run(void *arg, const struct run_record *rec)
{
    struct measure *m = arg;
    struct quality_status_report *r = m->r;

    for (size_t i = 0; i < r->n; i++) {
        struct quality_status *st = &r->v[i];

        if (!run_wrote(rec, st->product))
            continue;
        if (strcmp(rec->state, "held") == 0) {
            st->held++;
            sl_buf_addf(&m->held[i], "%s%" PRId64, m->held[i].len ? ", " : "", rec->run_id);
        } else if (strcmp(rec->state, "published") == 0) {
            /* newest first: the first published one is the last run */
            if (st->last_run == 0) {
                st->last_run = rec->run_id;
                st->last_kind = strcmp(rec->kind, "build") == 0 ? "build" : "transform";
                st->last_finished = rec->finished_at;
                st->records_in = rec->records_in;
                st->written = rec->written;
                st->quarantined = rec->quarantined;
                st->duplicates = rec->duplicates;
                st->balanced = rec->records_in ==
                               rec->written + rec->quarantined + rec->duplicates;
            }
            if (rec->finished_at >= r->now - DAY_USEC && rec->finished_at <= r->now)
                st->volume += rec->written;
        }
    }
    return 0;
}

/* quality_record_fn, oldest first: the latest gated run's evaluations. */
static int
on_result(void *arg, const struct quality_record *q)
{
    struct quality_status *st = arg;

    if (q->run_id <= 0 || q->run_id < st->gate_run)
        return 0;
    if (q->run_id > st->gate_run) {
        st->gate_run = q->run_id;
        st->gate_passed = st->gate_failed = 0;
    }
    if (strcmp(q->outcome, "passed") == 0)
        st->gate_passed++;
    else
        st->gate_failed++;
    return 0;
}

/* What the newest data of a curated table is found from. */
struct newest {
    int32_t field_id;
    bool is_date;
    int64_t max;                 /* microseconds; INT64_MIN: no bound */
    int64_t unbounded;           /* data files without a bound of it */
};

/* A bound in Iceberg's single-value form: a date's 4 bytes (days), a
 * timestamp's 8 (microseconds), little-endian. */
static bool
bound_usec(const uint8_t *b, size_t len, bool is_date, int64_t *out)
{
    uint64_t u = 0;

    if (b == NULL || len != (is_date ? 4u : 8u))
        return false;
    for (size_t i = len; i-- > 0;)
        u = u << 8 | b[i];
    if (is_date)
        *out = (int64_t)(int32_t)(uint32_t)u * DAY_USEC;
    else
        *out = (int64_t)u;
    return true;
}

static int
on_live_file(void *arg, const struct table_entry *f)
{
    struct newest *nw = arg;
    int64_t v;

    bool bounded = false;

    if (f->content != MF_DATA || f->records == 0)
        return 0;
    for (size_t i = 0; i < f->entry->nstats; i++) {
        const struct mf_column_stats *cs = &f->entry->stats[i];

        if (cs->field_id == nw->field_id &&
            bound_usec(cs->upper, cs->upper_len, nw->is_date, &v)) {
            bounded = true;
            if (v > nw->max)
                nw->max = v;
        }
    }
    if (!bounded)
        nw->unbounded++;
    return 0;
}

static int
on_snapshot(void *arg, const struct table_snapshot *snap)
{
    if (snap->current)
        *(int64_t *)arg = snap->timestamp_ms * 1000;
    return 0;
}

/* The largest value of column col of curated table p through the engine
 * (files without statistics); *out stays as it is for an empty table. */
static int
engine_newest(struct catalog_txn *txn, struct measure *m, const struct product *p,
              const char *col, bool is_date, int64_t *out, struct sl_diag *d)
{
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct engine_vec v;
    char *sql;
    int rc = engine_exec(m->e, "CREATE SCHEMA IF NOT EXISTS curated", d);

    if (rc == 0)
        rc = table_view(m->e, txn, m->s, "curated", p->table, NULL, NULL, d);
    if (rc < 0)
        return rc;
    {
        struct sl_buf c, t;

        sl_buf_init(&c);
        sl_buf_init(&t);
        sl_buf_add_sql_ident(&c, col);
        sl_buf_add_sql_ident(&t, p->table);
        sql = sl_printf(is_date ? "SELECT epoch_us(CAST(max(%s) AS TIMESTAMP)) FROM curated.%s"
                                : "SELECT epoch_us(max(%s)) FROM curated.%s",
                        c.data, t.data);
        sl_buf_release(&c);
        sl_buf_release(&t);
    }
    rc = engine_query(m->e, sql, &res, d);
    free(sql);
    if (rc < 0)
        return rc;
    ch = engine_result_next(res);
    if (ch != NULL && engine_chunk_rows(ch) == 1) {
        engine_chunk_vec(ch, 0, &v);
        if (v.kind == ENGINE_VEC_I64 && engine_vec_valid(&v, 0))
            *out = ((const int64_t *)v.data)[0];
    }
    engine_result_free(res);
    return 0;
}

/* The newest data of st's table: event-time bounds or the last commit. */
static int
measure_newest(struct catalog_txn *txn, struct measure *m, struct quality_status *st,
               struct sl_diag *d)
{
    const struct product *p = st->product;
    struct sl_diag quiet;
    int64_t committed = -1;
    int rc;

    if (strcmp(p->schema, "curated") == 0) {
        struct curated_table t;
        struct newest nw = {.field_id = -1, .max = INT64_MIN};

        rc = catalog_table_get(txn, p->table, &m->r->a, &t, d);
        if (rc == SL_ERR_NOTFOUND)
            return 0;
        if (rc < 0)
            return rc;
        st->exists = true;
        for (size_t i = 0; i < t.ncolumns; i++)
            if (t.event_time != NULL && strcmp(t.columns[i].name, t.event_time) == 0) {
                nw.field_id = t.columns[i].field_id;
                nw.is_date = t.columns[i].type.id == SL_TYPE_DATE;
            }
        if (nw.field_id >= 0) {
            rc = table_live_files(txn, m->s, "curated", p->table, NULL, NULL, NULL,
                                  on_live_file, &nw, d);
            if (rc == SL_ERR_NOTFOUND)
                return 0;
            if (rc < 0)
                return rc;
        }
        /* Files written without statistics: their values, read. */
        if (nw.unbounded > 0 && m->e != NULL) {
            nw.max = INT64_MIN;
            rc = engine_newest(txn, m, p, t.event_time, nw.is_date, &nw.max, d);
            if (rc < 0)
                return rc;
        }
        if (nw.max != INT64_MIN && (nw.unbounded == 0 || m->e != NULL)) {
            st->newest = nw.max;
            st->newest_of = sl_arena_printf(&m->r->a, "event time %s", t.event_time);
            return 0;
        }
    }
    /* A table the catalog does not know is a product with no data yet. */
    sl_diag_init(&quiet);
    rc = table_snapshots(txn, m->s, p->schema, p->table, on_snapshot, &committed, &quiet);
    if (rc == SL_ERR_NOTFOUND)
        return 0;
    if (rc < 0) {
        sl_fail(d, rc, "%s", quiet.msg);
        return rc;
    }
    st->exists = true;
    if (committed >= 0) {
        st->newest = committed;
        st->newest_of = "last snapshot";
    }
    return 0;
}

static void
judge(struct quality_status *st, int64_t now)
{
    const struct product *p = st->product;

    if (st->newest >= 0)
        st->age = now > st->newest ? (now - st->newest) / 1000000 : 0;
    st->freshness_ok = p->freshness < 0 || (st->age >= 0 && st->age <= p->freshness);
    st->gate_ok = st->gate_failed == 0;
    st->held_ok = st->held == 0;
    if (st->last_run == 0)
        st->balanced = true;
    st->volume_ok = p->volume_per_day < 0 || st->volume >= p->volume_per_day;
    st->ok = st->freshness_ok && st->gate_ok && st->held_ok && st->balanced && st->volume_ok;
}

static int
measure_all(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct measure *m = arg;
    struct quality_status_report *r = m->r;
    int rc;

    /* catalog_txn_run() may run this again after a conflict */
    for (size_t i = 0; i < r->n; i++) {
        const struct product *p = r->v[i].product;

        memset(&r->v[i], 0, sizeof(r->v[i]));
        r->v[i].product = p;
        r->v[i].newest = -1;
        r->v[i].age = -1;
        r->v[i].newest_of = "";
        r->v[i].last_kind = "";
        sl_buf_reset(&m->held[i]);
    }
    rc = catalog_run_list(txn, NULL, 0, false, on_run, m, d);
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        struct quality_status *st = &r->v[i];

        rc = catalog_quality_list(txn, st->product->name, NULL, on_result, st, d);
        if (rc == 0)
            rc = measure_newest(txn, m, st, d);
    }
    return rc;
}

int
quality_status_measure(struct catalog *cat, struct store *s, struct engine *e,
                       const struct product *products, size_t n, int64_t now,
                       struct quality_status_report *r, struct sl_diag *d)
{
    struct measure m = {r, s, e, NULL};
    int rc;

    quality_status_release(r);
    sl_arena_init(&r->a, 0);
    r->now = now;
    r->n = n;
    r->v = n > 0 ? sl_calloc(n, sizeof(*r->v)) : NULL;
    m.held = n > 0 ? sl_calloc(n, sizeof(*m.held)) : NULL;
    for (size_t i = 0; i < n; i++) {
        r->v[i].product = &products[i];
        sl_buf_init(&m.held[i]);
    }
    rc = n > 0 ? catalog_txn_run(cat, CATALOG_READ, measure_all, &m, d) : 0;
    for (size_t i = 0; i < n; i++) {
        r->v[i].held_runs = sl_arena_strdup(&r->a, m.held[i].data ? m.held[i].data : "");
        judge(&r->v[i], now);
        sl_buf_release(&m.held[i]);
    }
    free(m.held);
    return rc;
}

/* ---- /metrics ---------------------------------------------------------------------- */

static void
gauge_head(struct sl_buf *out, const char *name, const char *help)
{
    sl_buf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

void
quality_status_metrics(const struct quality_status_report *r, struct sl_buf *out)
{
    static const char *const reqs[] = {"freshness", "gate", "held", "account", "volume"};

    if (r->n == 0)
        return;
    gauge_head(out, "sluice_product_freshness_seconds",
               "Age of a data product's newest data (-1: it has none).");
    for (size_t i = 0; i < r->n; i++)
        sl_buf_addf(out, "sluice_product_freshness_seconds{product=\"%s\"} %" PRId64 "\n",
                    r->v[i].product->name, r->v[i].age);
    gauge_head(out, "sluice_product_freshness_sla_seconds",
               "The freshness a data product declares in sluice.yaml.");
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].product->freshness >= 0)
            sl_buf_addf(out, "sluice_product_freshness_sla_seconds{product=\"%s\"} %" PRId64 "\n",
                        r->v[i].product->name, r->v[i].product->freshness);
    gauge_head(out, "sluice_product_held_runs",
               "Runs that wrote a data product, held for a decision.");
    for (size_t i = 0; i < r->n; i++)
        sl_buf_addf(out, "sluice_product_held_runs{product=\"%s\"} %" PRId64 "\n",
                    r->v[i].product->name, r->v[i].held);
    gauge_head(out, "sluice_product_last_gate_failed_rules",
               "Rules that failed in a data product's last quality gate.");
    for (size_t i = 0; i < r->n; i++)
        sl_buf_addf(out, "sluice_product_last_gate_failed_rules{product=\"%s\"} %" PRId64 "\n",
                    r->v[i].product->name, r->v[i].gate_failed);
    gauge_head(out, "sluice_product_volume_rows_24h",
               "Rows of a data product written by runs published in the last 24 h.");
    for (size_t i = 0; i < r->n; i++)
        sl_buf_addf(out, "sluice_product_volume_rows_24h{product=\"%s\"} %" PRId64 "\n",
                    r->v[i].product->name, r->v[i].volume);
    gauge_head(out, "sluice_product_volume_per_day",
               "The rows per day a data product declares in sluice.yaml.");
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].product->volume_per_day >= 0)
            sl_buf_addf(out, "sluice_product_volume_per_day{product=\"%s\"} %" PRId64 "\n",
                        r->v[i].product->name, r->v[i].product->volume_per_day);
    gauge_head(out, "sluice_product_ok",
               "Whether a data product meets a requirement (1) or misses it (0).");
    for (size_t i = 0; i < r->n; i++) {
        const struct quality_status *st = &r->v[i];
        bool ok[] = {st->freshness_ok, st->gate_ok, st->held_ok, st->balanced, st->volume_ok};

        for (size_t j = 0; j < sizeof(reqs) / sizeof(reqs[0]); j++)
            sl_buf_addf(out, "sluice_product_ok{product=\"%s\",requirement=\"%s\"} %d\n",
                        st->product->name, reqs[j], ok[j] ? 1 : 0);
        sl_buf_addf(out, "sluice_product_ok{product=\"%s\",requirement=\"all\"} %d\n",
                    st->product->name, st->ok ? 1 : 0);
    }
}
