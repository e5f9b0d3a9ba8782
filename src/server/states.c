/*
 * states.c - the Step Functions API (awsJson1_0, X-Amz-Target
 * "AWSStepFunctions.<Operation>", SigV4 service and action prefix
 * "states"): state machines, executions and their histories, so that
 * `aws stepfunctions ... --endpoint-url` and boto3 drive sluice.
 *
 * Machines and executions live in the catalog (catalog/flows.h); the
 * executions run on the server's pool (flow/pool.h), which StartExecution
 * and RedriveExecution hand them to once they are recorded.  Requests use
 * one catalog connection of their own, a request at a time.
 *
 * Members are lower camel case; errors carry no "Exception" suffix
 * (ExecutionDoesNotExist, InvalidDefinition, ...), as the service's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "catalog/flows.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "flow/asl.h"
#include "flow/exec.h"
#include "flow/pipeline.h"
#include "flow/pool.h"
#include "flow/runner.h"
#include "flow/trigger.h"
#include "server/server_int.h"
#include "core/banned.h"

#define MAX_DEFINITION (1 << 20)
#define MAX_INPUT 262144

struct states_api {
    pthread_mutex_t lock; /* one request on cat at a time */
    struct catalog *cat;
    struct flow_pool *pool;
    struct flow_triggers *triggers;
};

/* ---- names, ARNs and values ------------------------------------------- */

/* AWS's rule for machine and execution names. */
static bool
valid_name(const char *s, size_t n)
{
    if (n < 1 || n > 80)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch <= 0x20 || ch == 0x7f || strchr("<>{}[]?*\"#%\\^|~`$&,;:/", ch) != NULL)
            return false;
    }
    return true;
}

/* A string member into the arena, or NULL if absent; false (after an
 * error response) if present but not a string. */
static bool
string_member(struct api_call *c, const struct wire_value *body, const char *key, bool required,
              char **out)
{
    const struct wire_value *v = wire_get(body, key);

    *out = NULL;
    if (v == NULL || v->type == WIRE_NULL) {
        if (required) {
            api_error(c, "MissingRequiredParameter", "The request is missing '%s'.", key);
            return false;
        }
        return true;
    }
    if (v->type != WIRE_STRING) {
        api_error(c, "ValidationException", "'%s' must be a string.", key);
        return false;
    }
    *out = wire_strdup(v, &c->arena);
    return true;
}

/* "arn:aws:states:REGION:ACCOUNT:<kind>:<rest>" -> rest; NULL after an
 * InvalidArn response. */
static const char *
arn_rest(struct api_call *c, const char *arn, const char *kind)
{
    const char *p = arn;
    int colons = 0;

    if (strncmp(arn, "arn:aws:states:", 15) != 0)
        goto bad;
    for (p = arn; *p && colons < 5; p++)
        if (*p == ':')
            colons++;
    if (colons != 5 || strncmp(p, kind, strlen(kind)) != 0 || p[strlen(kind)] != ':' ||
        p[strlen(kind) + 1] == '\0')
        goto bad;
    return p + strlen(kind) + 1;
bad:
    api_error(c, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'",
              arn);
    return NULL;
}

/* An execution ARN into machine (the buffer) and name; false after an
 * error. */
static bool
execution_arn(struct api_call *c, const char *arn, char *machine, size_t size, const char **name)
{
    const char *rest = arn_rest(c, arn, "execution"), *colon;

    if (rest == NULL)
        return false;
    colon = strchr(rest, ':');
    if (colon == NULL || colon == rest || colon[1] == '\0' ||
        (size_t)(colon - rest) >= size) {
        api_error(c, "InvalidArn", "Invalid Arn: 'Execution ARN is not valid: %s'", arn);
        return false;
    }
    snprintf(machine, size, "%.*s", (int)(colon - rest), rest);
    *name = colon + 1;
    return true;
}

/* A jansson value onto the response. */
static void
write_json(struct wire_writer *w, const json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        wire_map_begin(w);
        json_object_foreach((json_t *)v, key, x) {
            wire_key(w, key);
            write_json(w, x);
        }
        wire_map_end(w);
        break;
    case JSON_ARRAY:
        wire_array_begin(w);
        json_array_foreach(v, i, x)
            write_json(w, x);
        wire_array_end(w);
        break;
    case JSON_STRING:
        wire_str(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        wire_int(w, json_integer_value(v));
        break;
    case JSON_REAL:
        wire_float(w, json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        wire_bool(w, json_is_true(v));
        break;
    case JSON_NULL:
        wire_null(w);
        break;
    }
}

static int64_t
now_ms(void)
{
    return flow_real_clock.now_ms(NULL);
}

/* A catalog failure as a 500. */
static void
internal(struct api_call *c, const struct sl_diag *d)
{
    SL_WARN("states", "%s: %s", c->op->name, d->msg);
    api_error(c, "InternalFailure", "%s", d->msg);
}

/* ---- reading records into the arena -------------------------------------- */

struct machine_copy {
    struct sl_arena *a;
    struct flow_machine_record m;
    bool found;
};

static const char *
acopy(struct sl_arena *a, const char *s)
{
    return s ? sl_arena_strdup(a, s) : NULL;
}

static int
machine_copy(void *arg, const struct flow_machine_record *m)
{
    struct machine_copy *mc = arg;

    mc->found = true;
    mc->m = *m;
    mc->m.name = acopy(mc->a, m->name);
    mc->m.definition = acopy(mc->a, m->definition);
    mc->m.role_arn = acopy(mc->a, m->role_arn);
    mc->m.type = acopy(mc->a, m->type);
    return 0;
}

struct exec_copy {
    struct sl_arena *a;
    struct flow_execution_record e;
    bool found;
};

static int
exec_copy(void *arg, const struct flow_execution_record *e)
{
    struct exec_copy *ec = arg;

    ec->found = true;
    ec->e = *e;
    ec->e.machine = acopy(ec->a, e->machine);
    ec->e.name = acopy(ec->a, e->name);
    ec->e.status = acopy(ec->a, e->status);
    ec->e.definition = NULL;
    ec->e.input = acopy(ec->a, e->input);
    ec->e.output = acopy(ec->a, e->output);
    ec->e.error = acopy(ec->a, e->error);
    ec->e.cause = acopy(ec->a, e->cause);
    ec->e.owner = acopy(ec->a, e->owner);
    ec->e.stop_error = acopy(ec->a, e->stop_error);
    ec->e.stop_cause = acopy(ec->a, e->stop_cause);
    return 0;
}

/* Run fn on the API's connection, one request at a time. */
static int
with_catalog(struct api_call *c, enum catalog_txn_mode mode, catalog_txn_fn fn, void *arg,
             struct sl_diag *d)
{
    struct states_api *s = c->srv->states;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = catalog_txn_run(s->cat, mode, fn, arg, d);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- state machines -------------------------------------------------------- */

/* Check a definition; false after an InvalidDefinition response. */
static bool
check_definition(struct api_call *c, const char *def, const char *name)
{
    struct flow_machine *m = NULL;
    struct sl_strlist problems = {0};
    struct sl_diag d;
    struct sl_buf msg;
    int rc;

    if (strlen(def) > MAX_DEFINITION) {
        api_invalid(c, "definition", "Member must have length less than or equal to 1048576");
        return false;
    }
    sl_diag_init(&d);
    rc = flow_machine_load(def, strlen(def), name, &m, &problems, &d);
    flow_machine_free(m);
    if (rc == 0) {
        sl_strlist_release(&problems);
        return true;
    }
    sl_buf_init(&msg);
    sl_buf_addf(&msg, "Invalid State Machine Definition: ");
    for (size_t i = 0; i < problems.n; i++)
        sl_buf_addf(&msg, "%s'%s'", i ? ", " : "", problems.v[i]);
    api_error(c, "InvalidDefinition", "%s", msg.data);
    sl_buf_release(&msg);
    sl_strlist_release(&problems);
    return false;
}

struct create_ctx {
    struct flow_machine_record m;
    struct machine_copy existing;
    bool added;
};

static int
create_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct create_ctx *x = arg;
    int rc;

    x->added = false;
    x->existing.found = false;
    rc = catalog_flow_machine_add(txn, &x->m, d);
    if (rc == 0) {
        x->added = true;
        return 0;
    }
    if (rc != SL_ERR_EXISTS)
        return rc;
    return catalog_flow_machine_get(txn, x->m.name, machine_copy, &x->existing, d);
}

static void
create_machine(struct api_call *c, const struct wire_value *body)
{
    struct create_ctx x = {.existing.a = &c->arena};
    char *name, *def, *role, *type;
    char arn[512];
    struct sl_diag d;

    if (!string_member(c, body, "name", true, &name) ||
        !string_member(c, body, "definition", true, &def) ||
        !string_member(c, body, "roleArn", true, &role) ||
        !string_member(c, body, "type", false, &type))
        return;
    if (!valid_name(name, strlen(name))) {
        api_error(c, "InvalidName", "Invalid Name: '%s'", name);
        return;
    }
    if (type != NULL && strcmp(type, "STANDARD") != 0) {
        api_error(c, "StateMachineTypeNotSupported",
                  "State machine type '%s' is not supported: sluice runs STANDARD machines.",
                  type);
        return;
    }
    if (!check_definition(c, def, name))
        return;
    x.m = (struct flow_machine_record){
        .name = name,
        .definition = def,
        .role_arn = role,
        .type = "STANDARD",
        .created_at = now_ms(),
        .updated_at = now_ms(),
    };
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_WRITE, create_txn, &x, &d) < 0) {
        internal(c, &d);
        return;
    }
    if (!x.added) {
        /* The same definition and role again: the machine there is it. */
        if (strcmp(x.existing.m.definition, def) != 0 || strcmp(x.existing.m.role_arn, role) != 0) {
            api_error(c, "StateMachineAlreadyExists",
                      "State Machine Already Exists: '%s'", name);
            return;
        }
        x.m.created_at = x.existing.m.created_at;
    }
    flow_machine_arn(name, arn, sizeof(arn));
    api_begin(c);
    wire_key(&c->w, "stateMachineArn");
    wire_strz(&c->w, arn);
    wire_key(&c->w, "creationDate");
    wire_time(&c->w, x.m.created_at);
    api_end(c);
}

struct get_machine_ctx {
    const char *name;
    struct machine_copy mc;
};

static int
get_machine_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct get_machine_ctx *g = arg;
    int rc;

    g->mc.found = false;
    rc = catalog_flow_machine_get(txn, g->name, machine_copy, &g->mc, d);
    return rc == SL_ERR_NOTFOUND ? 0 : rc;
}

/* The machine a stateMachineArn names; false after an error response. */
static bool
find_machine(struct api_call *c, const struct wire_value *body, struct get_machine_ctx *g)
{
    char *arn;
    struct sl_diag d;

    if (!string_member(c, body, "stateMachineArn", true, &arn))
        return false;
    g->name = arn_rest(c, arn, "stateMachine");
    if (g->name == NULL)
        return false;
    g->mc.a = &c->arena;
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_READ, get_machine_txn, g, &d) < 0) {
        internal(c, &d);
        return false;
    }
    if (!g->mc.found) {
        api_error(c, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return false;
    }
    return true;
}

static void
describe_machine(struct api_call *c, const struct wire_value *body)
{
    struct get_machine_ctx g = {0};
    char arn[512];

    if (!find_machine(c, body, &g))
        return;
    flow_machine_arn(g.mc.m.name, arn, sizeof(arn));
    api_begin(c);
    wire_key(&c->w, "stateMachineArn");
    wire_strz(&c->w, arn);
    wire_key(&c->w, "name");
    wire_strz(&c->w, g.mc.m.name);
    wire_key(&c->w, "status");
    wire_strz(&c->w, "ACTIVE");
    wire_key(&c->w, "definition");
    wire_strz(&c->w, g.mc.m.definition);
    wire_key(&c->w, "roleArn");
    wire_strz(&c->w, g.mc.m.role_arn);
    wire_key(&c->w, "type");
    wire_strz(&c->w, g.mc.m.type);
    wire_key(&c->w, "creationDate");
    wire_time(&c->w, g.mc.m.created_at);
    wire_key(&c->w, "loggingConfiguration");
    wire_map_begin(&c->w);
    wire_key(&c->w, "level");
    wire_strz(&c->w, "OFF");
    wire_key(&c->w, "includeExecutionData");
    wire_bool(&c->w, false);
    wire_map_end(&c->w);
    wire_key(&c->w, "revisionId");
    {
        char rev[32];

        snprintf(rev, sizeof(rev), "%lld", (long long)g.mc.m.revision);
        wire_strz(&c->w, rev);
    }
    api_end(c);
}

struct update_ctx {
    struct flow_machine_record m;
    struct machine_copy cur;
};

static int
update_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct update_ctx *u = arg;
    struct flow_machine_record m;
    int rc;

    u->cur.found = false;
    rc = catalog_flow_machine_get(txn, u->m.name, machine_copy, &u->cur, d);
    if (rc < 0)
        return rc == SL_ERR_NOTFOUND ? 0 : rc;
    m = u->m;
    if (m.definition == NULL)
        m.definition = u->cur.m.definition;
    if (m.role_arn == NULL)
        m.role_arn = u->cur.m.role_arn;
    return catalog_flow_machine_update(txn, &m, d);
}

static void
update_machine(struct api_call *c, const struct wire_value *body)
{
    struct update_ctx u = {.cur.a = &c->arena};
    char *arn, *def, *role;
    struct sl_diag d;

    if (!string_member(c, body, "stateMachineArn", true, &arn) ||
        !string_member(c, body, "definition", false, &def) ||
        !string_member(c, body, "roleArn", false, &role))
        return;
    u.m.name = arn_rest(c, arn, "stateMachine");
    if (u.m.name == NULL)
        return;
    if (def == NULL && role == NULL) {
        api_error(c, "MissingRequiredParameter",
                  "Either the definition or the roleArn must be given.");
        return;
    }
    if (def != NULL && !check_definition(c, def, u.m.name))
        return;
    u.m.definition = def;
    u.m.role_arn = role;
    u.m.updated_at = now_ms();
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_WRITE, update_txn, &u, &d) < 0) {
        internal(c, &d);
        return;
    }
    if (!u.cur.found) {
        api_error(c, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return;
    }
    api_begin(c);
    wire_key(&c->w, "updateDate");
    wire_time(&c->w, u.m.updated_at);
    api_end(c);
}

static int
delete_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    int rc = catalog_flow_machine_delete(txn, arg, d);

    return rc == SL_ERR_NOTFOUND ? 0 : rc;
}

static void
delete_machine(struct api_call *c, const struct wire_value *body)
{
    char *arn;
    const char *name;
    struct sl_diag d;

    if (!string_member(c, body, "stateMachineArn", true, &arn))
        return;
    name = arn_rest(c, arn, "stateMachine");
    if (name == NULL)
        return;
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_WRITE, delete_txn, (void *)name, &d) < 0) {
        internal(c, &d);
        return;
    }
    api_begin(c);
    api_end(c);
}

struct list_machines_ctx {
    struct api_call *c;
    const char *after;
    int64_t limit, n;
    const char *next;
};

static int
list_machine_row(void *arg, const struct flow_machine_record *m)
{
    struct list_machines_ctx *l = arg;
    char arn[512];

    if (l->after != NULL && strcmp(m->name, l->after) <= 0)
        return 0;
    if (l->n == l->limit) {
        if (l->next == NULL)
            l->next = sl_arena_strdup(&l->c->arena, m->name);
        return 0;
    }
    l->n++;
    flow_machine_arn(m->name, arn, sizeof(arn));
    wire_map_begin(&l->c->w);
    wire_key(&l->c->w, "stateMachineArn");
    wire_strz(&l->c->w, arn);
    wire_key(&l->c->w, "name");
    wire_strz(&l->c->w, m->name);
    wire_key(&l->c->w, "type");
    wire_strz(&l->c->w, m->type);
    wire_key(&l->c->w, "creationDate");
    wire_time(&l->c->w, m->created_at);
    wire_map_end(&l->c->w);
    return 0;
}

static int
list_machines_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    return catalog_flow_machine_list(txn, list_machine_row, arg, d);
}

/* maxResults (0 or absent: dflt); -1 after an error response. */
static int64_t
max_results(struct api_call *c, const struct wire_value *body, int64_t dflt)
{
    const struct wire_value *v = wire_get(body, "maxResults");

    if (v == NULL || (v->type == WIRE_INT && v->u.i == 0))
        return dflt;
    if (v->type != WIRE_INT || v->u.i < 0 || v->u.i > 1000) {
        api_invalid(c, "maxResults", "Member must have value less than or equal to 1000");
        return -1;
    }
    return v->u.i;
}

static void
list_machines(struct api_call *c, const struct wire_value *body)
{
    struct list_machines_ctx l = {.c = c};
    char *token;
    struct sl_diag d;

    l.limit = max_results(c, body, 100);
    if (l.limit < 0 || !string_member(c, body, "nextToken", false, &token))
        return;
    l.after = token;
    api_begin(c);
    wire_key(&c->w, "stateMachines");
    wire_array_begin(&c->w);
    sl_diag_init(&d);
    /* A read can only fail on a broken catalog; the body so far is then
     * replaced by the error. */
    if (with_catalog(c, CATALOG_READ, list_machines_txn, &l, &d) < 0) {
        internal(c, &d);
        return;
    }
    wire_array_end(&c->w);
    if (l.next != NULL) {
        /* The token is the last name given: the next page starts after it. */
        wire_key(&c->w, "nextToken");
        wire_strz(&c->w, l.n > 0 ? l.next : "");
    }
    api_end(c);
}

/* ---- executions ----------------------------------------------------------- */

struct start_ctx {
    struct flow_execution_record e;
    struct machine_copy mc;
    struct exec_copy existing;
    bool added;
};

static int
start_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct start_ctx *x = arg;
    int rc;

    x->added = false;
    x->mc.found = false;
    x->existing.found = false;
    rc = catalog_flow_machine_get(txn, x->e.machine, machine_copy, &x->mc, d);
    if (rc == SL_ERR_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    x->e.definition = x->mc.m.definition;
    rc = catalog_flow_execution_add(txn, &x->e, d);
    if (rc == 0) {
        x->added = true;
        return 0;
    }
    if (rc != SL_ERR_EXISTS)
        return rc;
    return catalog_flow_execution_find(txn, x->e.machine, x->e.name, exec_copy, &x->existing, d);
}

static void
start_execution(struct api_call *c, const struct wire_value *body)
{
    struct states_api *s = c->srv->states;
    struct start_ctx x = {.mc.a = &c->arena, .existing.a = &c->arena};
    char *arn, *name, *input, uuid[37], earn[512];
    const char *machine;
    json_t *parsed;
    json_error_t jerr;
    struct sl_diag d;

    if (!string_member(c, body, "stateMachineArn", true, &arn) ||
        !string_member(c, body, "name", false, &name) ||
        !string_member(c, body, "input", false, &input))
        return;
    machine = arn_rest(c, arn, "stateMachine");
    if (machine == NULL)
        return;
    if (name == NULL) {
        flow_random_name(uuid);
        name = uuid;
    } else if (!valid_name(name, strlen(name))) {
        api_error(c, "InvalidName", "Invalid Name: '%s'", name);
        return;
    }
    if (input == NULL)
        input = "{}";
    if (strlen(input) > MAX_INPUT) {
        api_invalid(c, "input", "Member must have length less than or equal to 262144");
        return;
    }
    parsed = json_loads(input, JSON_DECODE_ANY, &jerr);
    if (parsed == NULL) {
        api_error(c, "InvalidExecutionInput",
                  "Invalid State Machine Execution Input: '%s at line %d, column %d'", jerr.text,
                  jerr.line, jerr.column);
        return;
    }
    json_decref(parsed);
    int64_t now = now_ms();

    x.e = (struct flow_execution_record){
        .machine = machine,
        .name = name,
        .status = "RUNNING",
        .input = input,
        .started_at = now,
        .owner = flow_pool_owner(s->pool),
        .lease_until = now + flow_pool_lease_ms(s->pool),
    };
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_WRITE, start_txn, &x, &d) < 0) {
        internal(c, &d);
        return;
    }
    if (!x.mc.found) {
        api_error(c, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return;
    }
    if (!x.added) {
        /* Idempotent while that execution runs with the same input. */
        if (strcmp(x.existing.e.status, "RUNNING") != 0 ||
            strcmp(x.existing.e.input, input) != 0) {
            flow_execution_arn(machine, name, earn, sizeof(earn));
            api_error(c, "ExecutionAlreadyExists", "Execution Already Exists: '%s'", earn);
            return;
        }
        x.e = x.existing.e;
    } else {
        flow_pool_submit(s->pool, x.e.id);
    }
    flow_execution_arn(machine, name, earn, sizeof(earn));
    api_begin(c);
    wire_key(&c->w, "executionArn");
    wire_strz(&c->w, earn);
    wire_key(&c->w, "startDate");
    wire_time(&c->w, x.e.started_at);
    api_end(c);
}

struct get_exec_ctx {
    char machine[256];
    const char *name;
    struct exec_copy ec;
};

static int
get_exec_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct get_exec_ctx *g = arg;
    int rc;

    g->ec.found = false;
    rc = catalog_flow_execution_find(txn, g->machine, g->name, exec_copy, &g->ec, d);
    return rc == SL_ERR_NOTFOUND ? 0 : rc;
}

/* The execution an executionArn names; false after an error response. */
static bool
find_execution(struct api_call *c, const struct wire_value *body, struct get_exec_ctx *g,
               char **arn)
{
    struct sl_diag d;

    if (!string_member(c, body, "executionArn", true, arn) ||
        !execution_arn(c, *arn, g->machine, sizeof(g->machine), &g->name))
        return false;
    g->ec.a = &c->arena;
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_READ, get_exec_txn, g, &d) < 0) {
        internal(c, &d);
        return false;
    }
    if (!g->ec.found) {
        api_error(c, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", *arn);
        return false;
    }
    return true;
}

static bool
redrivable(const struct flow_execution_record *e)
{
    return strcmp(e->status, "FAILED") == 0 || strcmp(e->status, "TIMED_OUT") == 0 ||
           strcmp(e->status, "ABORTED") == 0;
}

static void
describe_execution(struct api_call *c, const struct wire_value *body)
{
    struct get_exec_ctx g = {0};
    const struct flow_execution_record *e = &g.ec.e;
    char *arn, earn[512], marn[512];

    if (!find_execution(c, body, &g, &arn))
        return;
    flow_execution_arn(e->machine, e->name, earn, sizeof(earn));
    flow_machine_arn(e->machine, marn, sizeof(marn));
    api_begin(c);
    wire_key(&c->w, "executionArn");
    wire_strz(&c->w, earn);
    wire_key(&c->w, "stateMachineArn");
    wire_strz(&c->w, marn);
    wire_key(&c->w, "name");
    wire_strz(&c->w, e->name);
    wire_key(&c->w, "status");
    wire_strz(&c->w, e->status);
    wire_key(&c->w, "startDate");
    wire_time(&c->w, e->started_at);
    if (e->stopped_at > 0) {
        wire_key(&c->w, "stopDate");
        wire_time(&c->w, e->stopped_at);
    }
    wire_key(&c->w, "input");
    wire_strz(&c->w, e->input);
    wire_key(&c->w, "inputDetails");
    wire_map_begin(&c->w);
    wire_key(&c->w, "included");
    wire_bool(&c->w, true);
    wire_map_end(&c->w);
    if (e->output != NULL) {
        wire_key(&c->w, "output");
        wire_strz(&c->w, e->output);
        wire_key(&c->w, "outputDetails");
        wire_map_begin(&c->w);
        wire_key(&c->w, "included");
        wire_bool(&c->w, true);
        wire_map_end(&c->w);
    }
    if (e->error != NULL) {
        wire_key(&c->w, "error");
        wire_strz(&c->w, e->error);
    }
    if (e->cause != NULL) {
        wire_key(&c->w, "cause");
        wire_strz(&c->w, e->cause);
    }
    wire_key(&c->w, "redriveCount");
    wire_int(&c->w, e->redrive_count);
    if (e->redriven_at > 0) {
        wire_key(&c->w, "redriveDate");
        wire_time(&c->w, e->redriven_at);
    }
    wire_key(&c->w, "redriveStatus");
    wire_strz(&c->w, redrivable(e) ? "REDRIVABLE" : "NOT_REDRIVABLE");
    if (!redrivable(e)) {
        wire_key(&c->w, "redriveStatusReason");
        wire_strz(&c->w, strcmp(e->status, "RUNNING") == 0 ? "Execution is RUNNING and cannot be redriven"
                                                           : "Execution is SUCCEEDED and cannot be redriven");
    }
    api_end(c);
}

struct list_exec_ctx {
    struct api_call *c;
    const char *machine, *status;
    int64_t before, limit, n, next;
    bool machine_known;
    struct machine_copy mc;
};

static int
list_exec_row(void *arg, const struct flow_execution_record *e)
{
    struct list_exec_ctx *l = arg;
    char earn[512], marn[512];

    if (l->n == l->limit) {
        l->next = e->id; /* there is a page after */
        return 0;
    }
    l->n++;
    flow_execution_arn(e->machine, e->name, earn, sizeof(earn));
    flow_machine_arn(e->machine, marn, sizeof(marn));
    wire_map_begin(&l->c->w);
    wire_key(&l->c->w, "executionArn");
    wire_strz(&l->c->w, earn);
    wire_key(&l->c->w, "stateMachineArn");
    wire_strz(&l->c->w, marn);
    wire_key(&l->c->w, "name");
    wire_strz(&l->c->w, e->name);
    wire_key(&l->c->w, "status");
    wire_strz(&l->c->w, e->status);
    wire_key(&l->c->w, "startDate");
    wire_time(&l->c->w, e->started_at);
    if (e->stopped_at > 0) {
        wire_key(&l->c->w, "stopDate");
        wire_time(&l->c->w, e->stopped_at);
    }
    if (e->redrive_count > 0) {
        wire_key(&l->c->w, "redriveCount");
        wire_int(&l->c->w, e->redrive_count);
    }
    wire_map_end(&l->c->w);
    l->before = e->id;
    return 0;
}

static int
list_exec_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct list_exec_ctx *l = arg;

    /* one more than the page, to know whether another follows */
    return catalog_flow_execution_list(txn, l->machine, l->status, l->before, l->limit + 1,
                                       list_exec_row, l, d);
}

static int
any_row(void *arg, const struct flow_execution_record *e)
{
    *(bool *)arg = true;
    return 0;
}

/* Whether the machine is known: defined, or with executions (those of
 * 'sluice run', whose machines are files). */
static int
machine_or_runs_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct list_exec_ctx *l = arg;
    int rc = catalog_flow_machine_get(txn, l->machine, machine_copy, &l->mc, d);

    l->machine_known = rc == 0;
    if (rc == SL_ERR_NOTFOUND)
        rc = catalog_flow_execution_list(txn, l->machine, NULL, 0, 1, any_row, &l->machine_known,
                                         d);
    return rc;
}

static void
list_executions(struct api_call *c, const struct wire_value *body)
{
    static const char *const statuses[] = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT",
                                           "ABORTED", "PENDING_REDRIVE", NULL};
    struct list_exec_ctx l = {.c = c};
    char *arn, *status, *token;
    struct sl_diag d;

    if (!string_member(c, body, "stateMachineArn", true, &arn) ||
        !string_member(c, body, "statusFilter", false, &status) ||
        !string_member(c, body, "nextToken", false, &token))
        return;
    l.machine = arn_rest(c, arn, "stateMachine");
    if (l.machine == NULL)
        return;
    if (status != NULL) {
        const char *const *s;

        for (s = statuses; *s != NULL && strcmp(*s, status) != 0; s++)
            ;
        if (*s == NULL) {
            api_invalid(c, "statusFilter", "Member must satisfy enum value set: [RUNNING, "
                                           "SUCCEEDED, FAILED, TIMED_OUT, ABORTED, "
                                           "PENDING_REDRIVE]");
            return;
        }
    }
    l.status = status;
    l.limit = max_results(c, body, 100);
    if (l.limit < 0)
        return;
    if (token != NULL) {
        char *end;

        l.before = strtoll(token, &end, 10);
        if (*end != '\0' || l.before <= 0) {
            api_error(c, "InvalidToken", "Invalid Token: '%s'", token);
            return;
        }
    }
    l.mc.a = &c->arena;
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_READ, machine_or_runs_txn, &l, &d) < 0) {
        internal(c, &d);
        return;
    }
    if (!l.machine_known) {
        api_error(c, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return;
    }
    api_begin(c);
    wire_key(&c->w, "executions");
    wire_array_begin(&c->w);
    if (with_catalog(c, CATALOG_READ, list_exec_txn, &l, &d) < 0) {
        internal(c, &d);
        return;
    }
    wire_array_end(&c->w);
    if (l.next > 0) {
        char next[32];

        /* the next page starts below the last execution given */
        snprintf(next, sizeof(next), "%lld", (long long)l.before);
        wire_key(&c->w, "nextToken");
        wire_strz(&c->w, next);
    }
    api_end(c);
}

struct stop_ctx {
    int64_t id;
    const char *error, *cause;
    bool requested;
};

static int
stop_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct stop_ctx *s = arg;
    int rc = catalog_flow_execution_request_stop(txn, s->id, s->error, s->cause, d);

    s->requested = rc == 0;
    return rc == SL_ERR_NOTFOUND ? 0 : rc;
}

static void
stop_execution(struct api_call *c, const struct wire_value *body)
{
    struct get_exec_ctx g = {0};
    struct stop_ctx s = {0};
    char *arn, *error, *cause;
    struct sl_diag d;
    int64_t deadline;

    if (!string_member(c, body, "error", false, &error) ||
        !string_member(c, body, "cause", false, &cause) ||
        !find_execution(c, body, &g, &arn))
        return;
    s.id = g.ec.e.id;
    s.error = error ? error : "";
    s.cause = cause ? cause : "";
    sl_diag_init(&d);
    if (strcmp(g.ec.e.status, "RUNNING") == 0 &&
        with_catalog(c, CATALOG_WRITE, stop_txn, &s, &d) < 0) {
        internal(c, &d);
        return;
    }
    /* Its runner sees the request at its next step, or within a second
     * of a wait: answer once it has (as AWS does, the execution is
     * ABORTED when StopExecution returns), or after 10 s regardless. */
    deadline = now_ms() + 10000;
    while (s.requested && now_ms() < deadline) {
        struct timespec ts = {0, 20 * 1000000};

        if (with_catalog(c, CATALOG_READ, get_exec_txn, &g, &d) < 0) {
            internal(c, &d);
            return;
        }
        if (strcmp(g.ec.e.status, "RUNNING") != 0)
            break;
        nanosleep(&ts, NULL);
    }
    api_begin(c);
    wire_key(&c->w, "stopDate");
    wire_time(&c->w, g.ec.e.stopped_at > 0 ? g.ec.e.stopped_at : now_ms());
    api_end(c);
}

struct history_ctx {
    struct api_call *c;
    int64_t id, from, limit, n, last;
    bool reverse, data, more;
};

static int
history_row(void *arg, const struct flow_event *ev)
{
    struct history_ctx *h = arg;
    struct wire_writer *w = &h->c->w;
    struct flow_history one = {0};
    struct flow_event e = *ev;
    json_t *arr, *obj;

    if (h->n == h->limit) {
        h->more = true;
        return 0;
    }
    h->n++;
    h->last = ev->id;
    if (!h->data && ev->details != NULL) {
        /* a copy: the details are the reader's */
        e.details = json_copy(ev->details);
        json_object_del(e.details, "input");
        json_object_del(e.details, "output");
        json_object_del(e.details, "parameters");
    } else {
        json_incref(e.details);
    }
    one.v = &e;
    one.n = 1;
    arr = flow_history_json(&one);
    obj = json_array_get(arr, 0);
    /* the timestamp as the API's epoch seconds, exactly to the ms */
    json_object_del(obj, "timestamp");
    wire_map_begin(w);
    wire_key(w, "timestamp");
    wire_time(w, ev->ts_ms);
    {
        const char *key;
        json_t *x;

        json_object_foreach(obj, key, x) {
            wire_key(w, key);
            write_json(w, x);
        }
    }
    wire_map_end(w);
    json_decref(arr);
    json_decref(e.details);
    return 0;
}

static int
history_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct history_ctx *h = arg;

    return flow_history_read(txn, h->id, h->from, h->reverse, h->limit + 1, history_row, h, d);
}

static void
execution_history(struct api_call *c, const struct wire_value *body)
{
    struct get_exec_ctx g = {0};
    struct history_ctx h = {.c = c, .data = true};
    const struct wire_value *v;
    char *arn, *token;
    struct sl_diag d;

    if (!string_member(c, body, "nextToken", false, &token) ||
        !find_execution(c, body, &g, &arn))
        return;
    h.id = g.ec.e.id;
    h.limit = max_results(c, body, 100);
    if (h.limit < 0)
        return;
    v = wire_get(body, "reverseOrder");
    h.reverse = v != NULL && v->type == WIRE_BOOL && v->u.b;
    v = wire_get(body, "includeExecutionData");
    if (v != NULL && v->type == WIRE_BOOL)
        h.data = v->u.b;
    if (token != NULL) {
        char *end;

        h.from = strtoll(token, &end, 10);
        if (*end != '\0' || h.from <= 0) {
            api_error(c, "InvalidToken", "Invalid Token: '%s'", token);
            return;
        }
    }
    api_begin(c);
    wire_key(&c->w, "events");
    wire_array_begin(&c->w);
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_READ, history_txn, &h, &d) < 0) {
        internal(c, &d);
        return;
    }
    wire_array_end(&c->w);
    if (h.more) {
        char next[32];

        snprintf(next, sizeof(next), "%lld", (long long)h.last);
        wire_key(&c->w, "nextToken");
        wire_strz(&c->w, next);
    }
    api_end(c);
}

struct redrive_ctx {
    int64_t id;
    const char *owner;
    int64_t now, until;
    bool done;
};

static int
redrive_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct redrive_ctx *r = arg;
    int rc = catalog_flow_execution_redrive(txn, r->id, r->owner, r->now, r->until, d);

    r->done = rc == 0;
    return rc == SL_ERR_NOTFOUND ? 0 : rc;
}

static void
redrive_execution(struct api_call *c, const struct wire_value *body)
{
    struct states_api *s = c->srv->states;
    struct get_exec_ctx g = {0};
    struct redrive_ctx r = {0};
    char *arn;
    struct sl_diag d;

    if (!find_execution(c, body, &g, &arn))
        return;
    r.id = g.ec.e.id;
    r.owner = flow_pool_owner(s->pool);
    r.now = now_ms();
    r.until = r.now + flow_pool_lease_ms(s->pool);
    sl_diag_init(&d);
    if (with_catalog(c, CATALOG_WRITE, redrive_txn, &r, &d) < 0) {
        internal(c, &d);
        return;
    }
    if (!r.done) {
        api_error(c, "ExecutionNotRedrivable",
                  "Execution is %s and cannot be redriven: '%s'", g.ec.e.status, arn);
        return;
    }
    flow_pool_submit(s->pool, r.id);
    api_begin(c);
    wire_key(&c->w, "redriveDate");
    wire_time(&c->w, r.now);
    api_end(c);
}

static void
validate_definition(struct api_call *c, const struct wire_value *body)
{
    struct flow_machine *m = NULL;
    struct sl_strlist problems = {0};
    struct sl_diag d;
    char *def;

    if (!string_member(c, body, "definition", true, &def))
        return;
    sl_diag_init(&d);
    flow_machine_load(def, strlen(def), "definition", &m, &problems, &d);
    flow_machine_free(m);
    api_begin(c);
    wire_key(&c->w, "result");
    wire_strz(&c->w, problems.n == 0 ? "OK" : "FAIL");
    wire_key(&c->w, "diagnostics");
    wire_array_begin(&c->w);
    for (size_t i = 0; i < problems.n; i++) {
        const char *colon = strstr(problems.v[i], ": ");

        wire_map_begin(&c->w);
        wire_key(&c->w, "severity");
        wire_strz(&c->w, "ERROR");
        wire_key(&c->w, "code");
        wire_strz(&c->w, "SCHEMA_VALIDATION_FAILED");
        wire_key(&c->w, "message");
        wire_strz(&c->w, colon ? colon + 2 : problems.v[i]);
        wire_key(&c->w, "location");
        wire_str(&c->w, problems.v[i], colon ? (size_t)(colon - problems.v[i]) : 0);
        wire_map_end(&c->w);
    }
    wire_array_end(&c->w);
    api_end(c);
    sl_strlist_release(&problems);
}

/* ---- the API's table ----------------------------------------------------------- */

static const struct api_resource machine_res = {"stateMachine:", "name", "stateMachineArn", NULL,
                                                NULL};
static const struct api_resource execution_res = {"execution:", NULL, "executionArn", NULL, NULL};

static const struct api_op states_ops[] = {
    {"CreateStateMachine", &machine_res, create_machine, NULL, NULL, NULL},
    {"DescribeStateMachine", &machine_res, describe_machine, NULL, NULL, NULL},
    {"UpdateStateMachine", &machine_res, update_machine, NULL, NULL, NULL},
    {"DeleteStateMachine", &machine_res, delete_machine, NULL, NULL, NULL},
    {"ListStateMachines", NULL, list_machines, NULL, NULL, NULL},
    {"ValidateStateMachineDefinition", NULL, validate_definition, NULL, NULL, NULL},
    {"StartExecution", &machine_res, start_execution, NULL, NULL, NULL},
    {"DescribeExecution", &execution_res, describe_execution, NULL, NULL, NULL},
    {"ListExecutions", &machine_res, list_executions, NULL, NULL, NULL},
    {"StopExecution", &execution_res, stop_execution, NULL, NULL, NULL},
    {"GetExecutionHistory", &execution_res, execution_history, NULL, NULL, NULL},
    {"RedriveExecution", &execution_res, redrive_execution, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

const struct api states_api = {"AWSStepFunctions", "states", "Step Functions", states_ops, NULL,
                               NULL};

/* The project's triggers, and the built-in flows of its sources with
 * on_arrival: transform (read here, before delivery starts: sources load
 * into the project's arena, which is not for two threads at once). */
static int
start_triggers(struct project *p, struct states_api *s, struct sl_diag *d)
{
    const char **names = NULL, **arrival;
    size_t n = 0, na = 0;
    int rc = project_source_names(p, &names, &n, d);
    struct flow_triggers_opts o = {
        .root = p->root,
        .lake = p->lake,
        .catalog = p->catalog,
        .pool = s->pool,
        .poll_ms = 1000,
        .reload_ms = 5000,
    };

    if (rc < 0)
        return rc;
    arrival = sl_calloc(n + 1, sizeof(*arrival));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct source *src;

        rc = project_source(p, names[i], &src, d);
        if (rc == 0 && src->transform_on_arrival)
            arrival[na++] = names[i];
    }
    o.sources = names;
    o.nsources = n;
    o.on_arrival = arrival;
    o.n_arrival = na;
    if (rc == 0)
        rc = flow_triggers_start(&o, &s->triggers, d);
    free(arrival);
    return rc;
}

void
states_landed(void *arg, const char *source)
{
    struct server *srv = arg;

    (void)source;
    if (srv->states != NULL)
        flow_triggers_poke(srv->states->triggers);
}

int
states_open(struct server *srv, struct sl_diag *d)
{
    struct states_api *s = sl_calloc(1, sizeof(*s));
    const struct project *p = srv->project;
    struct flow_pool_opts po = {
        .catalog = p->catalog,
        .workers = p->config.flows.workers,
        .lease_ms = p->config.flows.lease * 1000,
        .scan_ms = 2000,
    };
    int rc = catalog_open(p->catalog, 0, &s->cat, d);

    flow_pipeline_register(p->root);
    flow_set_region(p->config.server.region);
    if (rc == 0)
        rc = flow_pool_start(&po, &s->pool, d);
    if (rc == 0)
        rc = start_triggers(srv->project, s, d);
    if (rc < 0) {
        flow_pool_stop(s->pool);
        catalog_close(s->cat);
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->lock, NULL);
    srv->states = s;
    return 0;
}

void
states_close(struct server *srv)
{
    struct states_api *s = srv->states;

    if (s == NULL)
        return;
    flow_triggers_stop(s->triggers);
    flow_pool_stop(s->pool);
    catalog_close(s->cat);
    pthread_mutex_destroy(&s->lock);
    free(s);
    srv->states = NULL;
}

void
states_metrics(struct server *srv, struct sl_buf *out)
{
    if (srv->states != NULL) {
        flow_pool_metrics(srv->states->pool, out);
        flow_triggers_metrics(srv->states->triggers, out);
    }
}
