/*
 * commit.c - the commit protocol (see commit.h for the states).
 *
 * A struct commit collects what a run stages and the publication steps it
 * owes; commit_finish() records them with the run in one transaction
 * (catalog_txn_run retries conflicts), then publishes.  What was staged
 * and is not owed by a committed run is removed by commit_free(), except
 * after a commit whose outcome is in doubt: then recovery decides, since
 * the staged objects may belong to a committed run.
 */
#include "commit/commit.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/raw.h"
#include "catalog/tables.h"
#include "core/buf.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "core/banned.h"

struct step {
    enum catalog_pending_op op;
    char *src, *dst;
    int64_t run_id;
};

struct steps {
    struct step *v;
    size_t n, cap;
};

struct staged {
    char *key, *path;
    bool gone;        /* unstaged already */
};

struct commit {
    struct store *store;
    struct catalog *cat;
    char *kind, *source;
    int64_t run_id;        /* 0 until allocated */
    bool id_in_txn;        /* allocated by the current commit attempt */
    struct staged *staged;
    size_t nstaged, capstaged;
    struct steps steps;    /* owed at publication, in order */
    size_t fixed;          /* steps given before commit_finish() */
    bool committed;
    bool indoubt;
    int64_t latency_usec;
    /* commit_finish()'s arguments, for the transaction body */
    struct run_record *rec;
    enum commit_mode mode;
    commit_record_fn record;
    void *arg;
};

static void
steps_truncate(struct steps *s, size_t n)
{
    while (s->n > n) {
        s->n--;
        free(s->v[s->n].src);
        free(s->v[s->n].dst);
    }
}

static void
steps_release(struct steps *s)
{
    steps_truncate(s, 0);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static void
steps_add(struct steps *s, enum catalog_pending_op op, const char *src, const char *dst,
          int64_t run_id)
{
    SL_GROW(s->v, s->cap, s->n + 1);
    s->v[s->n].op = op;
    s->v[s->n].src = src ? sl_strdup(src) : NULL;
    s->v[s->n].dst = sl_strdup(dst);
    s->v[s->n].run_id = run_id;
    s->n++;
}

/* ---- commit latency ---------------------------------------------------------- */

static const int64_t latency_bounds_us[] = {500, 1000, 2000, 5000, 10000, 25000, 50000,
                                            100000, 250000, 1000000};
#define NBOUNDS (sizeof(latency_bounds_us) / sizeof(latency_bounds_us[0]))
static _Atomic uint64_t latency_buckets[NBOUNDS + 1], latency_count, latency_sum_us;
static _Atomic(commit_observer_fn) observer;

void
commit_set_observer(commit_observer_fn fn)
{
    atomic_store(&observer, fn);
}

static void
note_latency(const char *kind, int64_t us)
{
    commit_observer_fn fn = atomic_load(&observer);
    size_t b = 0;

    while (b < NBOUNDS && us > latency_bounds_us[b])
        b++;
    atomic_fetch_add(&latency_buckets[b], 1);
    atomic_fetch_add(&latency_count, 1);
    atomic_fetch_add(&latency_sum_us, (uint64_t)us);
    if (fn != NULL)
        fn(kind, us);
}

void
commit_metrics(struct sl_buf *out)
{
    uint64_t cum = 0;

    sl_buf_adds(out, "# HELP sluice_catalog_commit_seconds Time of a run's catalog commit "
                     "transaction, retries included.\n"
                     "# TYPE sluice_catalog_commit_seconds histogram\n");
    for (size_t i = 0; i <= NBOUNDS; i++) {
        cum += atomic_load(&latency_buckets[i]);
        if (i < NBOUNDS)
            sl_buf_addf(out, "sluice_catalog_commit_seconds_bucket{le=\"%g\"} %llu\n",
                        (double)latency_bounds_us[i] / 1e6, (unsigned long long)cum);
        else
            sl_buf_addf(out, "sluice_catalog_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
                        (unsigned long long)cum);
    }
    sl_buf_addf(out, "sluice_catalog_commit_seconds_sum %.6f\nsluice_catalog_commit_seconds_count "
                     "%llu\n",
                (double)atomic_load(&latency_sum_us) / 1e6,
                (unsigned long long)atomic_load(&latency_count));
}

/* ---- a run being committed ----------------------------------------------- */

struct commit *
commit_new(struct store *s, struct catalog *cat, const char *kind, const char *source)
{
    struct commit *c = sl_calloc(1, sizeof(*c));

    c->store = s;
    c->cat = cat;
    c->kind = sl_strdup(kind);
    c->source = sl_strdup(source);
    return c;
}

int
commit_run_id(struct commit *c, int64_t *run_id, struct sl_diag *d)
{
    int rc = 0;

    if (c->run_id == 0)
        rc = catalog_run_next_id(c->cat, &c->run_id, d);
    if (rc == 0)
        *run_id = c->run_id;
    return rc;
}

int
commit_stage(struct commit *c, const char *name, const char **key, const char **path,
             struct sl_diag *d)
{
    struct staged *st;
    char *k, *p;
    int rc = store_stage(c->store, name, &k, &p, d);

    if (rc < 0)
        return rc;
    SL_GROW(c->staged, c->capstaged, c->nstaged + 1);
    st = &c->staged[c->nstaged++];
    st->key = k;
    st->path = p;
    st->gone = false;
    *key = k;
    *path = p;
    return 0;
}

int
commit_seal(struct commit *c, const char *staged_key, struct sl_diag *d)
{
    return store_seal(c->store, staged_key, d);
}

int
commit_seal_many(struct commit *c, const char *const *staged_keys, size_t n, struct sl_diag *d)
{
    return store_seal_many(c->store, staged_keys, n, d);
}

void
commit_unstage(struct commit *c, const char *staged_key)
{
    for (size_t i = 0; i < c->nstaged; i++) {
        if (!c->staged[i].gone && strcmp(c->staged[i].key, staged_key) == 0) {
            store_unstage(c->store, staged_key, NULL);
            c->staged[i].gone = true;
        }
    }
}

void
commit_publish_as(struct commit *c, const char *staged_key, const char *key)
{
    steps_add(&c->steps, CATALOG_PUBLISH, staged_key, key, 0);
}

void
commit_delete(struct commit *c, const char *key)
{
    steps_add(&c->steps, CATALOG_DELETE, NULL, key, 0);
}

/* The transaction: the stage's records, the owed steps, the run. */
static int
commit_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct commit *c = arg;
    struct run_record *r = c->rec;
    char point[64];
    int rc = 0;

    /* A retried attempt starts over. */
    steps_truncate(&c->steps, c->fixed);
    if (c->id_in_txn) {
        c->run_id = 0;
        c->id_in_txn = false;
    }
    if (c->run_id == 0) {
        rc = catalog_run_alloc_id(txn, &c->run_id, d);
        if (rc < 0)
            return rc;
        c->id_in_txn = true;
    }
    if (c->record != NULL) {
        rc = c->record(txn, c, c->arg, d);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; rc == 0 && i < c->steps.n; i++) {
        struct catalog_pending p = {c->run_id, (int64_t)i + 1, c->steps.v[i].op,
                                    c->steps.v[i].src, c->steps.v[i].dst};

        rc = catalog_pending_add(txn, &p, d);
    }
    r->run_id = c->run_id;
    r->kind = c->kind;
    r->source = c->source;
    r->state = c->mode == COMMIT_HOLD ? "held" : "published";
    r->finished_at = sl_now_usec();
    if (rc == 0)
        rc = catalog_run_add(txn, r, d);
    snprintf(point, sizeof(point), "%s.before_commit", c->kind);
    if (rc == 0)
        rc = sl_fault(point);
    return rc;
}

int
commit_finish(struct commit *c, struct run_record *rec, enum commit_mode mode,
              commit_record_fn record, void *arg, struct sl_diag *d)
{
    char point[64];
    double t0;
    int rc;

    if (rec->records_in != rec->written + rec->quarantined + rec->duplicates)
        return sl_fail(d, SL_ERR_CORRUPT,
                       "%s run of source '%s' does not balance: %lld in, %lld written, %lld "
                       "quarantined, %lld duplicates",
                       c->kind, c->source, (long long)rec->records_in,
                       (long long)rec->written, (long long)rec->quarantined,
                       (long long)rec->duplicates);
    c->rec = rec;
    c->mode = mode;
    c->record = record;
    c->arg = arg;
    c->fixed = c->steps.n;
    t0 = sl_mono_sec();
    rc = catalog_txn_run(c->cat, CATALOG_WRITE, commit_body, c, d);
    c->latency_usec = (int64_t)((sl_mono_sec() - t0) * 1e6);
    if (rc == 0)
        note_latency(c->kind, c->latency_usec);
    if (rc == COMMIT_NOTHING) {
        steps_truncate(&c->steps, c->fixed);
        return rc;
    }
    if (rc == SL_ERR_INDOUBT)
        c->indoubt = true;
    if (rc < 0) {
        if (c->id_in_txn) {
            c->run_id = 0;
            c->id_in_txn = false;
        }
        return rc;
    }
    c->committed = true;
    snprintf(point, sizeof(point), "%s.after_commit", c->kind);
    sl_fault(point);
    if (mode == COMMIT_HOLD) {
        SL_INFO("commit", "run %lld of %s is held for a decision", (long long)c->run_id,
                c->source);
        return 0;
    }
    return commit_publish(c->store, c->cat, c->run_id, d);
}

bool
commit_committed(const struct commit *c)
{
    return c->committed;
}

int64_t
commit_latency_usec(const struct commit *c)
{
    return c->latency_usec;
}

/* Whether a committed step still needs staged key (the catalog owns it). */
static bool
owed(const struct commit *c, const char *key)
{
    if (!c->committed)
        return false;
    for (size_t i = 0; i < c->steps.n; i++)
        if (c->steps.v[i].src != NULL && strcmp(c->steps.v[i].src, key) == 0)
            return true;
    return false;
}

void
commit_free(struct commit *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nstaged; i++) {
        struct staged *st = &c->staged[i];

        if (!st->gone && !c->indoubt && !owed(c, st->key))
            store_unstage(c->store, st->key, NULL);
        free(st->key);
        free(st->path);
    }
    free(c->staged);
    steps_release(&c->steps);
    free(c->kind);
    free(c->source);
    free(c);
}

/* ---- publication ------------------------------------------------------------ */

static int
collect(void *arg, const struct catalog_pending *p)
{
    steps_add(arg, p->op, p->src, p->dst, p->run_id);
    return 0;
}

struct list_args {
    int64_t run_id;
    bool with_held;
    struct steps *steps;
};

static int
list_steps(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct list_args *a = arg;

    steps_truncate(a->steps, 0);
    return catalog_pending_list(txn, a->run_id, a->with_held, collect, a->steps, d);
}

static int
read_steps(struct catalog *cat, int64_t run_id, bool with_held, struct steps *s,
           struct sl_diag *d)
{
    struct list_args a = {run_id, with_held, s};

    return catalog_txn_run(cat, CATALOG_READ, list_steps, &a, d);
}

static int
do_step(struct store *st, const struct step *p, struct sl_diag *d)
{
    struct sl_diag why;
    int rc;

    if (p->op == CATALOG_DELETE)
        return store_delete(st, p->dst, d);
    rc = store_stat(st, p->src, NULL, d);
    if (rc == SL_ERR_NOTFOUND) {
        /* Done before a crash?  Then the key is there. */
        rc = store_stat(st, p->dst, NULL, d);
        if (rc == SL_ERR_NOTFOUND)
            return sl_fail(d, SL_ERR_CORRUPT,
                           "committed run %lld lost its staged object '%s' (and '%s' is "
                           "missing)",
                           (long long)p->run_id, p->src, p->dst);
        return rc;
    }
    if (rc < 0)
        return rc;
    sl_diag_init(&why);
    rc = store_publish(st, p->src, p->dst, 0, &why);
    if (rc == -ENOENT && store_stat(st, p->dst, NULL, NULL) == 0)
        rc = 0; /* another process finished this step a moment ago */
    else if (rc < 0)
        sl_fail(d, rc, "%s", why.msg);
    SL_TRACE("commit", "publish %s -> %s: %d", p->src, p->dst, rc);
    return rc;
}

static int
clear_run(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    return catalog_pending_clear(txn, *(int64_t *)arg, d);
}

static int
run_steps(struct store *st, struct catalog *cat, struct steps *s, struct sl_diag *d)
{
    int rc = 0;

    for (size_t i = 0; i < s->n && rc == 0; i++) {
        rc = do_step(st, &s->v[i], d);
        if (rc < 0)
            break;
        /* The steps come in run order; forget a run once all its are done. */
        if (i + 1 == s->n || s->v[i + 1].run_id != s->v[i].run_id) {
            int64_t done = s->v[i].run_id;

            rc = sl_fault("commit.clear");
            if (rc == 0)
                rc = catalog_txn_run(cat, CATALOG_WRITE, clear_run, &done, d);
        }
    }
    return rc;
}

int
commit_publish(struct store *s, struct catalog *cat, int64_t run_id, struct sl_diag *d)
{
    struct steps steps = {0};
    int rc = read_steps(cat, run_id, true, &steps, d);

    if (rc == 0)
        rc = run_steps(s, cat, &steps, d);
    steps_release(&steps);
    return rc;
}

static bool
keep_staged(void *arg, const char *key)
{
    return sl_strlist_has(arg, key);
}

int
commit_publish_owed(struct store *s, struct catalog *cat, struct sl_diag *d)
{
    struct steps steps = {0};
    int rc = read_steps(cat, 0, false, &steps, d);

    if (rc == 0 && steps.n > 0) {
        SL_DEBUG("commit", "finishing %zu publication step(s) of committed runs", steps.n);
        rc = run_steps(s, cat, &steps, d);
    }
    steps_release(&steps);
    return rc;
}

int
commit_recover(struct store *s, struct catalog *cat, struct sl_diag *d)
{
    struct steps steps = {0};
    struct sl_strlist keep = {0};
    int rc = commit_publish_owed(s, cat, d);

    if (rc < 0)
        goto out;
    /* Whatever is still pending (a run committing right now in another
     * process, or held for a decision) must survive the sweep. */
    rc = read_steps(cat, 0, true, &steps, d);
    if (rc == 0) {
        for (size_t i = 0; i < steps.n; i++)
            if (steps.v[i].src != NULL)
                sl_strlist_add(&keep, steps.v[i].src);
        rc = store_sweep(s, keep_staged, &keep, d);
        if (rc > 0)
            SL_DEBUG("commit", "swept %d staged object(s) of dead processes", rc);
        rc = rc < 0 ? rc : 0;
    }
out:
    sl_strlist_release(&keep);
    steps_release(&steps);
    return rc;
}

/* ---- decisions about held runs ---------------------------------------------- */

struct decide_args {
    struct store *s;
    int64_t run_id;
    bool publish;
    commit_publish_fn on_publish, on_discard;
    void *arg;
    struct run_record rec;
    struct sl_arena a;
};

static int
decide_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct decide_args *a = arg;
    int rc;

    sl_arena_reset(&a->a);
    rc = catalog_run_get(txn, a->run_id, &a->a, &a->rec, d);
    if (rc < 0)
        return rc;
    if (strcmp(a->rec.state, "held") != 0)
        return sl_fail(d, SL_ERR_INPUT, "run %lld is %s, not held for a decision",
                       (long long)a->run_id, a->rec.state);
    rc = catalog_run_set_state(txn, a->run_id, "held", a->publish ? "published" : "discarded",
                               d);
    if (rc == 0 && a->publish && a->on_publish != NULL)
        rc = a->on_publish(txn, a->s, a->run_id, a->arg, d);
    if (rc < 0 || a->publish)
        return rc;
    if (a->on_discard != NULL)
        rc = a->on_discard(txn, a->s, a->run_id, a->arg, d);
    if (rc == 0)
        rc = catalog_tables_discard_run(txn, a->run_id, d);
    if (rc == 0 && a->rec.to_seq != a->rec.from_seq)
        rc = catalog_bookmark_move(txn, a->rec.source, a->rec.kind, a->rec.to_seq,
                                   a->rec.from_seq, d);
    if (rc == 0)
        rc = catalog_pending_clear(txn, a->run_id, d);
    return rc;
}

int
commit_decide(struct store *s, struct catalog *cat, int64_t run_id, bool publish,
              commit_publish_fn on_publish, commit_publish_fn on_discard, void *arg,
              struct sl_diag *d)
{
    struct decide_args a = {.s = s, .run_id = run_id, .publish = publish,
                            .on_publish = on_publish, .on_discard = on_discard, .arg = arg};
    struct steps steps = {0};
    int rc;

    sl_arena_init(&a.a, 0);
    rc = read_steps(cat, run_id, true, &steps, d);
    if (rc == 0)
        rc = catalog_txn_run(cat, CATALOG_WRITE, decide_body, &a, d);
    if (rc == 0 && publish) {
        SL_INFO("commit", "run %lld published", (long long)run_id);
        rc = commit_publish(s, cat, run_id, d);
    } else if (rc == 0) {
        /* Its staged objects are garbage now; the sweep would take them
         * too, once their owner is gone. */
        for (size_t i = 0; i < steps.n; i++)
            if (steps.v[i].src != NULL)
                store_unstage(s, steps.v[i].src, NULL);
        SL_INFO("commit", "run %lld discarded", (long long)run_id);
    }
    steps_release(&steps);
    sl_arena_release(&a.a);
    return rc;
}

/* ---- work owed to the next stage ------------------------------------------------ */

struct owed_args {
    commit_owed_cb cb;
    void *arg;
};

static int
owed_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct owed_args *a = arg;

    return catalog_raw_backlog(txn, "transform", a->cb, a->arg, d);
}

int
commit_owed(struct catalog *cat, commit_owed_cb cb, void *arg, struct sl_diag *d)
{
    struct owed_args a = {cb, arg};

    return catalog_txn_run(cat, CATALOG_READ, owed_body, &a, d);
}
