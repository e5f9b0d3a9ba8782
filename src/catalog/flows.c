/*
 * flows.c - state machines, executions and histories (see flows.h).
 */
#include "catalog/flows.h"

#include <string.h>

#include "catalog/catalog_int.h"
#include "core/banned.h"

/* ---- machines --------------------------------------------------------- */

#define MACHINE_COLS "name, definition, role_arn, machine_type, created_at, updated_at, revision"

int
catalog_flow_machine_add(struct catalog_txn *txn, const struct flow_machine_record *m,
                         struct sl_diag *d)
{
    int64_t n = 0;
    int rc = cat_int_of(txn, d, "look for a state machine",
                        "SELECT COUNT(*) FROM flow_machines WHERE name = ?1", &n, "t", m->name);

    if (rc < 0)
        return rc;
    if (n > 0)
        return SL_ERR_EXISTS;
    rc = cat_run(txn, d, "record a state machine",
                 "INSERT INTO flow_machines (" MACHINE_COLS ") "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
                 NULL, NULL, "ttttii", m->name, m->definition, m->role_arn, m->type,
                 m->created_at, m->updated_at);
    return rc < 0 ? rc : 0;
}

int
catalog_flow_machine_update(struct catalog_txn *txn, const struct flow_machine_record *m,
                            struct sl_diag *d)
{
    int rc = cat_run(txn, d, "update a state machine",
                     "UPDATE flow_machines SET definition = ?2, role_arn = ?3, updated_at = ?4, "
                     "revision = revision + 1 WHERE name = ?1",
                     NULL, NULL, "ttti", m->name, m->definition, m->role_arn, m->updated_at);

    if (rc == 0)
        return SL_ERR_NOTFOUND;
    return rc < 0 ? rc : 0;
}

struct machine_ctx {
    catalog_flow_machine_cb cb;
    void *arg;
    int n;
};

static int
machine_row(void *arg, const struct catalog_row *row)
{
    struct machine_ctx *c = arg;
    struct flow_machine_record m = {
        .name = cat_text(row, 0),
        .definition = cat_text(row, 1),
        .role_arn = cat_text(row, 2),
        .type = cat_text(row, 3),
        .created_at = cat_int(row, 4),
        .updated_at = cat_int(row, 5),
        .revision = cat_int(row, 6),
    };

    c->n++;
    return c->cb(c->arg, &m);
}

int
catalog_flow_machine_get(struct catalog_txn *txn, const char *name, catalog_flow_machine_cb cb,
                         void *arg, struct sl_diag *d)
{
    struct machine_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "read a state machine",
                     "SELECT " MACHINE_COLS " FROM flow_machines WHERE name = ?1", machine_row, &c,
                     "t", name);

    if (rc < 0)
        return rc;
    return c.n == 0 ? SL_ERR_NOTFOUND : 0;
}

int
catalog_flow_machine_list(struct catalog_txn *txn, catalog_flow_machine_cb cb, void *arg,
                          struct sl_diag *d)
{
    struct machine_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "list state machines",
                     "SELECT " MACHINE_COLS " FROM flow_machines ORDER BY name", machine_row, &c,
                     "");

    return rc < 0 ? rc : 0;
}

int
catalog_flow_machine_delete(struct catalog_txn *txn, const char *name, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "delete a state machine",
                     "DELETE FROM flow_machines WHERE name = ?1", NULL, NULL, "t", name);

    if (rc == 0)
        return SL_ERR_NOTFOUND;
    return rc < 0 ? rc : 0;
}

/* ---- executions ----------------------------------------------------------- */

#define EXEC_COLS                                                                         \
    "execution_id, machine, name, status, definition, input, output, error, cause, "       \
    "started_at, stopped_at, redrive_count, redriven_at, last_event, owner, lease_until, " \
    "stop_error, stop_cause"

struct exec_ctx {
    catalog_flow_execution_cb cb;
    void *arg;
    int n;
};

static int
exec_row(void *arg, const struct catalog_row *row)
{
    struct exec_ctx *c = arg;
    struct flow_execution_record e = {
        .id = cat_int(row, 0),
        .machine = cat_text(row, 1),
        .name = cat_text(row, 2),
        .status = cat_text(row, 3),
        .definition = cat_text(row, 4),
        .input = cat_text(row, 5),
        .output = cat_null(row, 6) ? NULL : cat_text(row, 6),
        .error = cat_null(row, 7) ? NULL : cat_text(row, 7),
        .cause = cat_null(row, 8) ? NULL : cat_text(row, 8),
        .started_at = cat_int(row, 9),
        .stopped_at = cat_null(row, 10) ? 0 : cat_int(row, 10),
        .redrive_count = cat_int(row, 11),
        .redriven_at = cat_null(row, 12) ? 0 : cat_int(row, 12),
        .last_event = cat_int(row, 13),
        .owner = cat_text(row, 14),
        .lease_until = cat_int(row, 15),
        .stop_error = cat_null(row, 16) ? NULL : cat_text(row, 16),
        .stop_cause = cat_null(row, 17) ? NULL : cat_text(row, 17),
    };

    c->n++;
    return c->cb(c->arg, &e);
}

int
catalog_flow_execution_add(struct catalog_txn *txn, struct flow_execution_record *e,
                           struct sl_diag *d)
{
    int64_t n = 0;
    int rc = cat_int_of(txn, d, "look for an execution",
                        "SELECT COUNT(*) FROM flow_executions WHERE machine = ?1 AND name = ?2",
                        &n, "tt", e->machine, e->name);

    if (rc < 0)
        return rc;
    if (n > 0)
        return SL_ERR_EXISTS;
    rc = cat_int_of(txn, d, "allocate an execution id",
                    "UPDATE counters SET value = value + 1 WHERE name = 'execution_id' "
                    "RETURNING value",
                    &e->id, "");
    if (rc == SL_ERR_NOTFOUND)
        return sl_fail(d, SL_ERR_CORRUPT, "catalog: the execution id counter is missing");
    if (rc < 0)
        return rc;
    rc = cat_run(txn, d, "record an execution",
                 "INSERT INTO flow_executions (execution_id, machine, name, status, definition, "
                 "input, started_at, redrive_count, last_event, owner, lease_until) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, ?8, ?9)",
                 NULL, NULL, "itttttiti", e->id, e->machine, e->name,
                 e->status ? e->status : "RUNNING", e->definition, e->input, e->started_at,
                 e->owner ? e->owner : "", e->lease_until);
    return rc < 0 ? rc : 0;
}

int
catalog_flow_execution_get(struct catalog_txn *txn, int64_t id, catalog_flow_execution_cb cb,
                           void *arg, struct sl_diag *d)
{
    struct exec_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "read an execution",
                     "SELECT " EXEC_COLS " FROM flow_executions WHERE execution_id = ?1", exec_row,
                     &c, "i", id);

    if (rc < 0)
        return rc;
    return c.n == 0 ? SL_ERR_NOTFOUND : 0;
}

int
catalog_flow_execution_find(struct catalog_txn *txn, const char *machine, const char *name,
                            catalog_flow_execution_cb cb, void *arg, struct sl_diag *d)
{
    struct exec_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "read an execution",
                     "SELECT " EXEC_COLS " FROM flow_executions WHERE machine = ?1 AND name = ?2",
                     exec_row, &c, "tt", machine, name);

    if (rc < 0)
        return rc;
    return c.n == 0 ? SL_ERR_NOTFOUND : 0;
}

int
catalog_flow_execution_list(struct catalog_txn *txn, const char *machine, const char *status,
                            int64_t before_id, int64_t limit, catalog_flow_execution_cb cb,
                            void *arg, struct sl_diag *d)
{
    struct exec_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "list executions",
                     "SELECT " EXEC_COLS " FROM flow_executions "
                     "WHERE (?1 = '' OR machine = ?1) AND (?2 = '' OR status = ?2) "
                     "AND execution_id < ?3 ORDER BY execution_id DESC LIMIT ?4",
                     exec_row, &c, "ttii", machine ? machine : "", status ? status : "",
                     before_id > 0 ? before_id : INT64_MAX, limit > 0 ? limit : INT64_MAX);

    return rc < 0 ? rc : 0;
}

int
catalog_flow_execution_finish(struct catalog_txn *txn, const struct flow_execution_record *e,
                              const char *owner, bool *ended, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record an execution's end",
                     "UPDATE flow_executions SET status = ?2, output = ?3, error = ?4, cause = ?5, "
                     "stopped_at = ?6, lease_until = 0 "
                     "WHERE execution_id = ?1 AND status = 'RUNNING' AND owner = ?7",
                     NULL, NULL, "ittttit", e->id, e->status, e->output, e->error, e->cause,
                     e->stopped_at, owner);

    *ended = rc > 0;
    return rc < 0 ? rc : 0;
}

int
catalog_flow_execution_claim(struct catalog_txn *txn, int64_t id, const char *owner, int64_t now,
                             int64_t lease_until, const char *dead_owner, bool *claimed,
                             struct sl_diag *d)
{
    int rc = cat_run(txn, d, "claim an execution",
                     "UPDATE flow_executions SET owner = ?2, lease_until = ?4 "
                     "WHERE execution_id = ?1 AND status = 'RUNNING' AND "
                     "(owner = ?2 OR lease_until < ?3 OR owner = ?5)",
                     NULL, NULL, "itiit", id, owner, now, lease_until,
                     dead_owner ? dead_owner : "");

    *claimed = rc > 0;
    return rc < 0 ? rc : 0;
}

int
catalog_flow_execution_orphans(struct catalog_txn *txn, int64_t now, int64_t limit,
                               catalog_flow_execution_cb cb, void *arg, struct sl_diag *d)
{
    struct exec_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "list executions to resume",
                     "SELECT " EXEC_COLS " FROM flow_executions "
                     "WHERE status = 'RUNNING' AND lease_until < ?1 "
                     "ORDER BY lease_until, execution_id LIMIT ?2",
                     exec_row, &c, "ii", now, limit > 0 ? limit : INT64_MAX);

    return rc < 0 ? rc : 0;
}

static int
stop_row(void *arg, const struct catalog_row *row)
{
    struct exec_ctx *c = arg;
    struct flow_execution_record e = {
        .id = cat_int(row, 0),
        .status = cat_text(row, 1),
        .stop_error = cat_null(row, 2) ? NULL : cat_text(row, 2),
        .stop_cause = cat_null(row, 3) ? NULL : cat_text(row, 3),
    };

    c->n++;
    return c->cb(c->arg, &e);
}

int
catalog_flow_execution_stop_get(struct catalog_txn *txn, int64_t id,
                                catalog_flow_execution_cb cb, void *arg, struct sl_diag *d)
{
    struct exec_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "read whether an execution is to stop",
                     "SELECT execution_id, status, stop_error, stop_cause FROM flow_executions "
                     "WHERE execution_id = ?1",
                     stop_row, &c, "i", id);

    if (rc < 0)
        return rc;
    return c.n == 0 ? SL_ERR_NOTFOUND : 0;
}

int
catalog_flow_execution_request_stop(struct catalog_txn *txn, int64_t id, const char *error,
                                    const char *cause, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "ask an execution to stop",
                     "UPDATE flow_executions SET stop_error = ?2, stop_cause = ?3 "
                     "WHERE execution_id = ?1 AND status = 'RUNNING'",
                     NULL, NULL, "itt", id, error ? error : "", cause ? cause : "");

    if (rc == 0)
        return SL_ERR_NOTFOUND;
    return rc < 0 ? rc : 0;
}

int
catalog_flow_execution_redrive(struct catalog_txn *txn, int64_t id, const char *owner,
                               int64_t now, int64_t lease_until, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "redrive an execution",
                     "UPDATE flow_executions SET status = 'RUNNING', output = NULL, error = NULL, "
                     "cause = NULL, stopped_at = NULL, redrive_count = redrive_count + 1, "
                     "redriven_at = ?3, owner = ?2, lease_until = ?4, stop_error = NULL, "
                     "stop_cause = NULL "
                     "WHERE execution_id = ?1 AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED')",
                     NULL, NULL, "itii", id, owner, now, lease_until);

    if (rc == 0)
        return SL_ERR_NOTFOUND;
    return rc < 0 ? rc : 0;
}

/* ---- events ------------------------------------------------------------------ */

int
catalog_flow_batch_add(struct catalog_txn *txn, const struct flow_event_batch *b,
                       struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record an execution's events",
                     "INSERT INTO flow_events (execution_id, first_id, last_id, events) "
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (execution_id, first_id) DO NOTHING",
                     NULL, NULL, "iiit", b->execution_id, b->first_id, b->last_id, b->events);

    if (rc == 0)
        return SL_ERR_EXISTS;
    if (rc >= 0)
        rc = cat_run(txn, d, "record an execution's last event",
                     "UPDATE flow_executions SET last_event = ?2 WHERE execution_id = ?1", NULL,
                     NULL, "ii", b->execution_id, b->last_id);
    return rc < 0 ? rc : 0;
}

struct batch_ctx {
    catalog_flow_batch_cb cb;
    void *arg;
};

static int
batch_row(void *arg, const struct catalog_row *row)
{
    struct batch_ctx *c = arg;
    struct flow_event_batch b = {
        .execution_id = cat_int(row, 0),
        .first_id = cat_int(row, 1),
        .last_id = cat_int(row, 2),
        .events = cat_text(row, 3),
    };

    return c->cb(c->arg, &b);
}

int
catalog_flow_batch_list(struct catalog_txn *txn, int64_t execution_id, int64_t from_id,
                        bool reverse, int64_t limit, catalog_flow_batch_cb cb, void *arg,
                        struct sl_diag *d)
{
    struct batch_ctx c = {cb, arg};
    int rc;

    /* Batches follow one another, so the one holding from_id + 1 is the
     * first whose last_id is past from_id. */
    if (reverse)
        rc = cat_run(txn, d, "read an execution's history",
                     "SELECT execution_id, first_id, last_id, events FROM flow_events "
                     "WHERE execution_id = ?1 AND first_id < ?2 ORDER BY first_id DESC LIMIT ?3",
                     batch_row, &c, "iii", execution_id, from_id > 0 ? from_id : INT64_MAX,
                     limit > 0 ? limit : INT64_MAX);
    else
        rc = cat_run(txn, d, "read an execution's history",
                     "SELECT execution_id, first_id, last_id, events FROM flow_events "
                     "WHERE execution_id = ?1 AND last_id > ?2 ORDER BY first_id LIMIT ?3",
                     batch_row, &c, "iii", execution_id, from_id, limit > 0 ? limit : INT64_MAX);
    return rc < 0 ? rc : 0;
}

/* ---- triggers ------------------------------------------------------------ */

#define TRIGGER_COLS "machine, trigger_key, position, anchor, last_execution, fired, fired_at"

struct trigger_ctx {
    catalog_flow_trigger_cb cb;
    void *arg;
    int n;
};

static int
trigger_row(void *arg, const struct catalog_row *row)
{
    struct trigger_ctx *c = arg;
    struct flow_trigger_record t = {
        .machine = cat_text(row, 0),
        .key = cat_text(row, 1),
        .position = cat_int(row, 2),
        .anchor = cat_int(row, 3),
        .last_execution = cat_int(row, 4),
        .fired = cat_int(row, 5),
        .fired_at = cat_int(row, 6),
    };

    c->n++;
    return c->cb(c->arg, &t);
}

int
catalog_flow_trigger_get(struct catalog_txn *txn, const char *machine, const char *key,
                         catalog_flow_trigger_cb cb, void *arg, struct sl_diag *d)
{
    struct trigger_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "read a trigger",
                     "SELECT " TRIGGER_COLS " FROM flow_triggers "
                     "WHERE machine = ?1 AND trigger_key = ?2",
                     trigger_row, &c, "tt", machine, key);

    if (rc < 0)
        return rc;
    return c.n == 0 ? SL_ERR_NOTFOUND : 0;
}

int
catalog_flow_trigger_add(struct catalog_txn *txn, const struct flow_trigger_record *t,
                         struct sl_diag *d)
{
    int64_t n = 0;
    int rc = cat_int_of(txn, d, "look for a trigger",
                        "SELECT COUNT(*) FROM flow_triggers WHERE machine = ?1 AND trigger_key = ?2",
                        &n, "tt", t->machine, t->key);

    if (rc < 0)
        return rc;
    if (n > 0)
        return SL_ERR_EXISTS;
    rc = cat_run(txn, d, "record a trigger",
                 "INSERT INTO flow_triggers (" TRIGGER_COLS ") "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 NULL, NULL, "ttiiiii", t->machine, t->key, t->position, t->anchor,
                 t->last_execution, t->fired, t->fired_at);
    return rc < 0 ? rc : 0;
}

int
catalog_flow_trigger_advance(struct catalog_txn *txn, const struct flow_trigger_record *t,
                             int64_t expect, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "move a trigger on",
                     "UPDATE flow_triggers SET position = ?3, last_execution = ?4, fired = ?5, "
                     "fired_at = ?6 WHERE machine = ?1 AND trigger_key = ?2 AND position = ?7",
                     NULL, NULL, "ttiiiii", t->machine, t->key, t->position, t->last_execution,
                     t->fired, t->fired_at, expect);

    if (rc == 0)
        return SL_ERR_CONFLICT;
    return rc < 0 ? rc : 0;
}

int
catalog_flow_trigger_list(struct catalog_txn *txn, catalog_flow_trigger_cb cb, void *arg,
                          struct sl_diag *d)
{
    struct trigger_ctx c = {cb, arg, 0};
    int rc = cat_run(txn, d, "list triggers",
                     "SELECT " TRIGGER_COLS " FROM flow_triggers ORDER BY machine, trigger_key",
                     trigger_row, &c, "");

    return rc < 0 ? rc : 0;
}
