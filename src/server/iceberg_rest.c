/*
 * iceberg_rest.c - the Apache Iceberg REST catalog API (open-api/
 * rest-catalog-open-api.yaml in apache/iceberg), so that engines speaking
 * REST read sluice's tables and write the ones sluice's pipeline does not.
 *
 * Declared like every API of the server (server_int.h): routed by method
 * and path, signed with SigV4 service "iceberg", each operation an action
 * "iceberg:<Operation>" on a resource named by its path:
 *
 *   GET    /v1/config                             GetConfig              *
 *   GET    /v1/namespaces                         ListNamespaces         *
 *   POST   /v1/namespaces                         CreateNamespace        *
 *   GET    /v1/namespaces/{ns}                    LoadNamespaceMetadata  namespace/{ns}
 *   HEAD   /v1/namespaces/{ns}                    NamespaceExists        namespace/{ns}
 *   DELETE /v1/namespaces/{ns}                    DropNamespace          namespace/{ns}
 *   GET    /v1/namespaces/{ns}/tables             ListTables             namespace/{ns}
 *   POST   /v1/namespaces/{ns}/tables             CreateTable            namespace/{ns}
 *   GET    /v1/namespaces/{ns}/tables/{t}         LoadTable              table/{ns}/{t}
 *   HEAD   /v1/namespaces/{ns}/tables/{t}         TableExists            table/{ns}/{t}
 *   POST   /v1/namespaces/{ns}/tables/{t}         UpdateTable            table/{ns}/{t}
 *   DELETE /v1/namespaces/{ns}/tables/{t}         DropTable              table/{ns}/{t}
 *
 * (resources as arn:aws:iceberg:<region>:000000000000:<resource>).  The
 * configuration names no prefix, so clients use the paths above.
 *
 * Namespaces are one level in sluice ("curated"); a path's namespace is a
 * list of levels joined by the unit separator (%1F), and one with more
 * than one level is refused (400) saying so.
 *
 * Ownership: sluice's pipeline writes the namespaces "curated" and
 * "gold" - its transform keeps its own record of their live files, which
 * a commit from elsewhere would contradict - and every table whose
 * metadata carries the property sluice.managed-by.  Those are read
 * through REST like any table, but commits, creates and drops there are
 * refused with 403 ForbiddenException saying why.  Other namespaces are
 * the REST writers': created, written and dropped through this API.  A
 * drop forgets the table and leaves its files (purgeRequested is refused:
 * sluice deletes table files only through its own maintenance).
 *
 * Errors are the spec's ErrorModel, {"error": {"message", "type",
 * "code"}}, the security layer's refusals included (401
 * NotAuthorizedException for a signature, 403 ForbiddenException for a
 * policy, the AWS error name leading the message):
 *
 *   400 BadRequestException        malformed JSON, a member missing or
 *                                  wrong, an unknown update action, a
 *                                  multi-level namespace, a bad name
 *   403 ForbiddenException         a table or namespace the pipeline owns
 *   404 NoSuchNamespaceException, NoSuchTableException
 *   409 AlreadyExistsException, NamespaceNotEmptyException,
 *       CommitFailedException      a requirement that does not hold, or
 *                                  another writer's commit came first
 *   500 CommitStateUnknownException  the catalog lost the connection
 *                                  during the commit
 *
 * Catalog work goes through one connection of its own, one request at a
 * time (the catalog's connections are not shared between threads): REST
 * traffic is control-plane traffic, light next to the puts.
 */
#include "server/server.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/iceberg.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/server_int.h"
#include "store/store.h"
#include "table/table.h"
#include "core/banned.h"

struct iceberg_rest {
    pthread_mutex_t lock; /* one request on cat at a time */
    struct catalog *cat;
    struct store *store;
};

/* ---- errors -------------------------------------------------------------------------- */

/* The authentication failures of the security layer (sigv4.c). */
static bool
auth_failure(const char *type)
{
    static const char *const types[] = {"IncompleteSignatureException", "InvalidSignatureException",
                                        "MissingAuthenticationTokenException",
                                        "UnrecognizedClientException"};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

/* The ErrorModel; the server's AWS-named errors are given the spec's names. */
static void
error_model(struct http_response *resp, int status, const char *type, const char *msg)
{
    const char *aws = NULL;

    if (strcmp(type, "AccessDeniedException") == 0) {
        aws = type;
        status = 403;
        type = "ForbiddenException";
    } else if (auth_failure(type)) {
        aws = type;
        status = 401;
        type = "NotAuthorizedException";
    } else if (strncmp(type, "InternalFailure", 15) == 0) {
        status = 500;
        type = "InternalServerError";
    }
    sl_buf_adds(&resp->body, "{\"error\":{\"message\":");
    if (aws != NULL) {
        char *m = sl_printf("%s: %s", aws, msg);

        sl_buf_add_json_str(&resp->body, m, strlen(m));
        free(m);
    } else {
        sl_buf_add_json_str(&resp->body, msg, strlen(msg));
    }
    sl_buf_adds(&resp->body, ",\"type\":");
    sl_buf_add_json_str(&resp->body, type, strlen(type));
    sl_buf_addf(&resp->body, ",\"code\":%d}}\n", status);
    resp->status = status;
    resp->content_type = "application/json";
}

/* An error response; false, so that a check can `return rest_error(...)`. */
static bool rest_error(struct api_call *c, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
rest_error(struct api_call *c, int status, const char *type, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    api_count_error(c);
    SL_DEBUG("iceberg", "%s %s: %d %s: %s", c->req->method, c->req->path, status, type, msg);
    sl_buf_reset(&c->resp->body);
    error_model(c->resp, status, type, msg);
    return false;
}

/* The error for rc from the catalog or table layer; notfound names what
 * was not found ("NoSuchTableException"). */
static void
rc_error(struct api_call *c, int rc, const struct sl_diag *d, const char *notfound,
         const char *what)
{
    switch (rc) {
    case SL_ERR_NOTFOUND:
        rest_error(c, 404, notfound, "%s", d->msg[0] ? d->msg : what);
        break;
    case SL_ERR_INPUT:
        rest_error(c, 400, "BadRequestException", "%s", d->msg);
        break;
    case SL_ERR_CONFLICT:
        rest_error(c, 409, "CommitFailedException", "%s", d->msg);
        break;
    case SL_ERR_EXISTS:
        rest_error(c, 409, "AlreadyExistsException", "%s", d->msg);
        break;
    case SL_ERR_INDOUBT:
        rest_error(c, 500, "CommitStateUnknownException", "%s", d->msg);
        break;
    case SL_ERR_BUSY:
    case SL_ERR_UNAVAILABLE:
        rest_error(c, 503, "ServiceUnavailableException", "%s", d->msg);
        break;
    default:
        SL_ERROR("iceberg", "%s %s: %s", c->req->method, c->req->path, d->msg);
        rest_error(c, 500, "InternalServerError", "%s", d->msg[0] ? d->msg : sl_strerror(rc));
    }
}

/* ---- names ---------------------------------------------------------------------------- */

/* The namespace's levels for messages: the unit separators as '.'. */
static void
levels_text(const char *ns, char *out, size_t size)
{
    size_t o = 0;

    for (const char *p = ns; *p != '\0' && o + 1 < size; p++)
        out[o++] = *p == '\x1f' ? '.' : (*p >= 0x20 && *p < 0x7f ? *p : '?');
    out[o] = '\0';
}

/*
 * A namespace as a one-level name: ns (from the path, levels separated by
 * 0x1F, or from a request's list) checked.  False after a 400 saying why.
 */
static bool
check_namespace(struct api_call *c, const char *ns, const char *where)
{
    char shown[300];

    levels_text(ns, shown, sizeof(shown));
    if (strchr(ns, '\x1f') != NULL) {
        rest_error(c, 400, "BadRequestException",
                   "%s: namespace '%s' has more than one level; sluice's namespaces have "
                   "one level (\"curated\")",
                   where, shown);
        return false;
    }
    if (!table_name_ok(ns)) {
        rest_error(c, 400, "BadRequestException",
                   "%s: namespace '%s' is not a name sluice can keep: use 1 to %d letters, "
                   "digits, '_' and '-', not starting with '_'",
                   where, shown, TABLE_NAME_MAX);
        return false;
    }
    return true;
}

/* The path's namespace, checked; NULL after a 400. */
static const char *
path_namespace(struct api_call *c)
{
    const char *ns = api_param(c, "namespace");

    return ns != NULL && check_namespace(c, ns, "path") ? ns : NULL;
}

/* The path's table: looked up as given (a name no table has is a 404). */
static const char *
path_table(struct api_call *c)
{
    return api_param(c, "table");
}

/* Whether sluice's pipeline writes namespace ns. */
static bool
pipeline_namespace(const char *ns)
{
    return strcmp(ns, "curated") == 0 || strcmp(ns, "gold") == 0;
}

static bool
forbidden_namespace(struct api_call *c, const char *ns, const char *what)
{
    return rest_error(c, 403, "ForbiddenException",
                      "cannot %s in namespace %s: sluice's pipeline owns it (only its transform "
                      "writes curated and gold tables, and keeps its own record of their files); "
                      "read its tables, write your own in another namespace",
                      what, ns);
}

/* ---- the catalog ----------------------------------------------------------------------- */

int
iceberg_rest_open(struct server *srv, struct sl_diag *d)
{
    struct iceberg_rest *r = sl_calloc(1, sizeof(*r));
    int rc = store_open(srv->project->lake, &r->store, d);

    if (rc == 0)
        rc = catalog_open(srv->project->catalog, 0, &r->cat, d);
    if (rc < 0) {
        if (r->store != NULL)
            store_close(r->store);
        free(r);
        return rc;
    }
    pthread_mutex_init(&r->lock, NULL);
    srv->rest = r;
    return 0;
}

void
iceberg_rest_close(struct server *srv)
{
    struct iceberg_rest *r = srv->rest;

    if (r == NULL)
        return;
    catalog_close(r->cat);
    store_close(r->store);
    pthread_mutex_destroy(&r->lock);
    free(r);
    srv->rest = NULL;
}

/* One unit of catalog work, in a transaction of mode; what it answers is
 * up to fn (which writes the response or returns an error). */
typedef int (*rest_fn)(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d);

static int
in_txn(struct api_call *c, enum catalog_txn_mode mode, rest_fn fn, void *arg, struct sl_diag *d)
{
    struct iceberg_rest *r = c->srv->rest;
    struct catalog_txn *txn = NULL;
    int rc;

    pthread_mutex_lock(&r->lock);
    rc = catalog_txn_begin(r->cat, mode, &txn, d);
    if (rc == 0) {
        rc = fn(c, txn, arg, d);
        if (rc == 0)
            rc = catalog_txn_commit(txn, d);
        else
            catalog_txn_abort(txn);
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/*
 * fn on the path's namespace (its arg) in a transaction of mode, answered
 * status on success, 404 NoSuchNamespaceException if fn finds no such
 * namespace, conflict (if not NULL) for SL_ERR_CONFLICT.
 */
static void
on_namespace(struct api_call *c, enum catalog_txn_mode mode, rest_fn fn, int status,
             const char *conflict)
{
    const char *ns = path_namespace(c);
    struct sl_diag d;
    int rc;

    if (ns == NULL)
        return;
    sl_diag_init(&d);
    rc = in_txn(c, mode, fn, (void *)ns, &d);
    if (rc == SL_ERR_NOTFOUND)
        rest_error(c, 404, "NoSuchNamespaceException", "Namespace does not exist: %s", ns);
    else if (rc == SL_ERR_CONFLICT && conflict != NULL)
        rest_error(c, 409, conflict, "%s", d.msg);
    else if (rc < 0)
        rc_error(c, rc, &d, "NoSuchNamespaceException", "");
    else {
        c->resp->status = status;
        c->resp->content_type = "application/json";
    }
}

/* ---- responses -------------------------------------------------------------------------- */

static void
reply(struct api_call *c, int status)
{
    c->resp->status = status;
    c->resp->content_type = "application/json";
}

static void
add_str(struct sl_buf *b, const char *s)
{
    sl_buf_add_json_str(b, s, strlen(s));
}

/* ---- config -------------------------------------------------------------------------------- */

/*
 * No defaults or overrides (so no prefix: clients use /v1/namespaces...),
 * and the endpoints this server has, as the spec writes them.
 */
static void
get_config(struct api_call *c, const struct wire_value *body)
{
    struct sl_buf *b = &c->resp->body;
    bool first = true;

    (void)body;
    sl_buf_adds(b, "{\"defaults\":{},\"overrides\":{},\"endpoints\":[");
    for (const struct api_op *o = iceberg_api.ops; o->name != NULL; o++) {
        char *e;

        if (strcmp(o->path, "/v1/config") == 0)
            continue;
        e = sl_printf("%s /v1/{prefix}%s", o->method, o->path + 3);
        if (!first)
            sl_buf_addc(b, ',');
        first = false;
        add_str(b, e);
        free(e);
    }
    sl_buf_adds(b, "]}\n");
    reply(c, 200);
}

/* ---- namespaces ---------------------------------------------------------------------------- */

struct names {
    struct sl_buf *b;
    size_t n;
};

static int
add_namespace(void *arg, const char *ns)
{
    struct names *l = arg;

    sl_buf_adds(l->b, l->n++ > 0 ? ",[" : "[");
    add_str(l->b, ns);
    sl_buf_addc(l->b, ']');
    return 0;
}

static int
props(void *arg, const char *key, const char *value)
{
    struct names *l = arg;

    if (l->n++ > 0)
        sl_buf_addc(l->b, ',');
    add_str(l->b, key);
    sl_buf_addc(l->b, ':');
    add_str(l->b, value);
    return 0;
}

static int
list_namespaces_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    const char *parent = arg;
    struct names l = {&c->resp->body, 0};
    int rc;

    sl_buf_adds(l.b, "{\"namespaces\":[");
    if (parent != NULL) {
        /* One level: a namespace has no children, but must exist. */
        rc = catalog_iceberg_namespace_exists(txn, parent, d);
    } else {
        rc = catalog_iceberg_namespaces(txn, add_namespace, &l, d);
    }
    sl_buf_adds(l.b, "]}\n");
    return rc;
}

static void
list_namespaces(struct api_call *c, const struct wire_value *body)
{
    const char *parent = http_query(c->req, "parent");
    struct sl_diag d;
    int rc;

    (void)body;
    sl_diag_init(&d);
    if (parent != NULL && parent[0] == '\0')
        parent = NULL;
    if (parent != NULL && !check_namespace(c, parent, "query parameter 'parent'"))
        return;
    rc = in_txn(c, CATALOG_READ, list_namespaces_txn, (void *)parent, &d);
    if (rc < 0)
        rc_error(c, rc, &d, "NoSuchNamespaceException", "The parent namespace does not exist.");
    else
        reply(c, 200);
}

/* The namespace of a CreateNamespaceRequest: a list of one string. */
struct create_ns {
    const char *ns;
    const char **keys, **values;
    size_t n;
};

static int
create_namespace_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct create_ns *cr = arg;
    struct names l = {&c->resp->body, 0};
    int rc = catalog_iceberg_namespace_create(txn, cr->ns, cr->keys, cr->values, cr->n, d);

    if (rc < 0)
        return rc;
    sl_buf_adds(l.b, "{\"namespace\":[");
    add_str(l.b, cr->ns);
    sl_buf_adds(l.b, "],\"properties\":{");
    rc = catalog_iceberg_namespace_props(txn, cr->ns, props, &l, d);
    sl_buf_adds(l.b, "}}\n");
    return rc;
}

/* The CreateNamespaceRequest in c's body into cr; false after a 400. */
static bool
parse_create_namespace(struct api_call *c, struct create_ns *cr)
{
    struct wire_value body;
    const struct wire_value *ns, *pr;
    struct sl_diag d;

    sl_diag_init(&d);
    if (wire_parse(WIRE_JSON, c->req->body, c->req->body_len, &c->arena, &body, &d) < 0)
        return rest_error(c, 400, "BadRequestException", "CreateNamespaceRequest: %s", d.msg);
    if (body.type != WIRE_MAP)
        return rest_error(c, 400, "BadRequestException",
                          "CreateNamespaceRequest must be a JSON object");
    ns = wire_get(&body, "namespace");
    if (ns == NULL || ns->type != WIRE_ARRAY || ns->u.a.n == 0)
        return rest_error(c, 400, "BadRequestException",
                          "CreateNamespaceRequest: 'namespace' is missing or not a list of "
                          "names");
    if (ns->u.a.n > 1)
        return rest_error(c, 400, "BadRequestException",
                          "CreateNamespaceRequest: 'namespace' has %zu levels; sluice's "
                          "namespaces have one level (\"curated\")",
                          ns->u.a.n);
    if (ns->u.a.items[0].type != WIRE_STRING)
        return rest_error(c, 400, "BadRequestException",
                          "CreateNamespaceRequest: 'namespace[0]' is not a string");
    cr->ns = sl_arena_strndup(&c->arena, ns->u.a.items[0].u.s.p, ns->u.a.items[0].u.s.n);
    if (!check_namespace(c, cr->ns, "CreateNamespaceRequest.namespace"))
        return false;
    pr = wire_get(&body, "properties");
    if (pr != NULL && pr->type != WIRE_NULL) {
        if (pr->type != WIRE_MAP)
            return rest_error(c, 400, "BadRequestException",
                              "CreateNamespaceRequest: 'properties' is not an object");
        cr->keys = sl_arena_alloc(&c->arena, (pr->u.m.n + 1) * sizeof(*cr->keys));
        cr->values = sl_arena_alloc(&c->arena, (pr->u.m.n + 1) * sizeof(*cr->values));
        for (size_t i = 0; i < pr->u.m.n; i++) {
            const struct wire_member *m = &pr->u.m.members[i];

            if (m->value.type != WIRE_STRING)
                return rest_error(c, 400, "BadRequestException",
                                  "CreateNamespaceRequest: 'properties.%.*s' is not a string",
                                  (int)m->key_len, m->key);
            cr->keys[cr->n] = sl_arena_strndup(&c->arena, m->key, m->key_len);
            cr->values[cr->n++] = sl_arena_strndup(&c->arena, m->value.u.s.p, m->value.u.s.n);
        }
    }
    if (pipeline_namespace(cr->ns))
        return forbidden_namespace(c, cr->ns, "create a namespace");
    return true;
}

static void
create_namespace(struct api_call *c, const struct wire_value *unused)
{
    struct create_ns cr = {0};
    struct sl_diag d;
    int rc;

    (void)unused;
    if (!parse_create_namespace(c, &cr))
        return;
    sl_diag_init(&d);
    rc = in_txn(c, CATALOG_WRITE, create_namespace_txn, &cr, &d);
    if (rc == SL_ERR_EXISTS)
        rest_error(c, 409, "AlreadyExistsException", "Namespace already exists: %s", cr.ns);
    else if (rc < 0)
        rc_error(c, rc, &d, "NoSuchNamespaceException", "");
    else
        reply(c, 200);
}

static int
load_namespace_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    const char *ns = arg;
    struct names l = {&c->resp->body, 0};
    int rc;

    sl_buf_adds(l.b, "{\"namespace\":[");
    add_str(l.b, ns);
    sl_buf_adds(l.b, "],\"properties\":{");
    rc = catalog_iceberg_namespace_props(txn, ns, props, &l, d);
    sl_buf_adds(l.b, "}}\n");
    return rc;
}

static void
load_namespace(struct api_call *c, const struct wire_value *body)
{
    (void)body;
    on_namespace(c, CATALOG_READ, load_namespace_txn,
                 strcmp(c->req->method, "HEAD") == 0 ? 204 : 200, NULL);
}

static int
drop_namespace_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    (void)c;
    return catalog_iceberg_namespace_drop(txn, arg, d);
}

static void
drop_namespace(struct api_call *c, const struct wire_value *body)
{
    const char *ns = api_param(c, "namespace");

    (void)body;
    if (ns != NULL && pipeline_namespace(ns)) {
        forbidden_namespace(c, ns, "drop the namespace");
        return;
    }
    on_namespace(c, CATALOG_WRITE, drop_namespace_txn, 204, "NamespaceNotEmptyException");
}

/* ---- tables ------------------------------------------------------------------------------- */

struct table_list {
    struct sl_buf *b;
    size_t n;
};

static int
add_table(void *arg, const char *qualified)
{
    struct table_list *l = arg;
    const char *dot = strchr(qualified, '.');

    if (dot == NULL)
        return 0;
    sl_buf_adds(l->b, l->n++ > 0 ? ",{\"namespace\":[" : "{\"namespace\":[");
    sl_buf_add_json_str(l->b, qualified, (size_t)(dot - qualified));
    sl_buf_adds(l->b, "],\"name\":");
    add_str(l->b, dot + 1);
    sl_buf_addc(l->b, '}');
    return 0;
}

static int
list_tables_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    const char *ns = arg;
    struct table_list l = {&c->resp->body, 0};
    int rc = catalog_iceberg_namespace_exists(txn, ns, d);

    if (rc < 0)
        return rc;
    sl_buf_adds(l.b, "{\"identifiers\":[");
    rc = catalog_iceberg_list(txn, ns, add_table, &l, d);
    sl_buf_adds(l.b, "]}\n");
    return rc;
}

static void
list_tables(struct api_call *c, const struct wire_value *body)
{
    (void)body;
    on_namespace(c, CATALOG_READ, list_tables_txn, 200, NULL);
}

/* A LoadTableResult (or CommitTableResponse without config). */
static void
table_result(struct api_call *c, const char *location, const char *json, bool config)
{
    struct sl_buf *b = &c->resp->body;

    sl_buf_reset(b);
    sl_buf_adds(b, "{\"metadata-location\":");
    add_str(b, location);
    sl_buf_adds(b, ",\"metadata\":");
    sl_buf_adds(b, json);
    if (config)
        sl_buf_adds(b, ",\"config\":{}");
    sl_buf_adds(b, "}\n");
}

/* What a table request reads and writes in its transaction. */
struct table_req {
    const char *ns, *name;
    char *location, *json; /* the result (heap) */
    char *created;         /* the name a create made (heap) */
    bool forbidden;        /* a commit to a table the pipeline owns */
};

static int
load_table_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct table_req *t = arg;

    return table_metadata(txn, c->srv->rest->store, t->ns, t->name, &t->location, &t->json, d);
}

static int
create_table_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct table_req *t = arg;
    int rc = catalog_iceberg_namespace_exists(txn, t->ns, d);

    if (rc == SL_ERR_NOTFOUND)
        return sl_fail(d, SL_ERR_NOTFOUND, "Namespace does not exist: %s", t->ns);
    if (rc == 0)
        rc = table_create(txn, c->srv->rest->store, t->ns, c->req->body, c->req->body_len,
                          &t->created, &t->location, &t->json, d);
    return rc;
}

static int
update_table_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct table_req *t = arg;
    struct store *s = c->srv->rest->store;
    int rc = table_metadata(txn, s, t->ns, t->name, &t->location, &t->json, d);

    if (rc < 0)
        return rc;
    if (table_managed(t->json)) {
        t->forbidden = true;
        return SL_ERR_INPUT;
    }
    free(t->location);
    free(t->json);
    t->location = t->json = NULL;
    return table_update(txn, s, t->ns, t->name, c->req->body, c->req->body_len, &t->location,
                        &t->json, d);
}

/* A table operation, as on_table() runs it. */
struct table_op {
    enum catalog_txn_mode mode;
    rest_fn fn;       /* takes a struct table_req */
    const char *verb; /* a write, refused in the pipeline's namespaces; NULL: a read */
    bool create;      /* the table is named by the body */
    bool config;      /* answer a LoadTableResult, else a CommitTableResponse */
};

/*
 * op on the path's table (or a table the body names, for a create): the
 * table's metadata afterwards answered (HEAD: 204 alone), or the error -
 * 403 for a write the pipeline's tables take from nobody else, 404 for a
 * namespace or table that does not exist.
 */
static void
on_table(struct api_call *c, const struct table_op *op)
{
    struct table_req t = {.ns = path_namespace(c), .name = path_table(c)};
    struct sl_diag d;
    int rc;

    if (t.ns == NULL)
        return;
    if (op->verb != NULL && pipeline_namespace(t.ns)) {
        forbidden_namespace(c, t.ns, op->verb);
        return;
    }
    sl_diag_init(&d);
    rc = in_txn(c, op->mode, op->fn, &t, &d);
    if (rc < 0 && t.forbidden) {
        rest_error(c, 403, "ForbiddenException",
                   "cannot %s %s.%s: sluice's pipeline writes it (its metadata says "
                   "sluice.managed-by); read it, write your own tables",
                   op->verb, t.ns, t.name);
    } else if (rc == SL_ERR_NOTFOUND && !op->create) {
        rest_error(c, 404, "NoSuchTableException", "Table does not exist: %s.%s", t.ns, t.name);
    } else if (rc < 0) {
        rc_error(c, rc, &d, "NoSuchNamespaceException", "");
    } else if (strcmp(c->req->method, "HEAD") == 0 || strcmp(c->req->method, "DELETE") == 0) {
        if (op->verb != NULL)
            SL_INFO("iceberg", "table %s.%s dropped through the REST catalog (its files stay "
                    "at %s)", t.ns, t.name, t.location);
        reply(c, 204);
    } else {
        if (op->verb != NULL)
            SL_INFO("iceberg", "table %s.%s: %s through the REST catalog: %s", t.ns,
                    op->create ? t.created : t.name, op->create ? "created" : "committed",
                    t.location);
        table_result(c, t.location, t.json, op->config);
        reply(c, 200);
    }
    free(t.created);
    free(t.location);
    free(t.json);
}

static void
load_table(struct api_call *c, const struct wire_value *body)
{
    static const struct table_op op = {CATALOG_READ, load_table_txn, NULL, false, true};

    (void)body;
    on_table(c, &op);
}

static void
create_table(struct api_call *c, const struct wire_value *body)
{
    static const struct table_op op = {CATALOG_WRITE, create_table_txn, "create a table", true,
                                       true};

    (void)body;
    on_table(c, &op);
}

static int
drop_table_txn(struct api_call *c, struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct table_req *t = arg;
    int rc = table_metadata(txn, c->srv->rest->store, t->ns, t->name, &t->location, &t->json,
                            d);

    if (rc < 0)
        return rc;
    if (table_managed(t->json)) {
        t->forbidden = true;
        return SL_ERR_INPUT;
    }
    return catalog_iceberg_drop(txn, t->ns, t->name, d);
}

static void
drop_table(struct api_call *c, const struct wire_value *body)
{
    static const struct table_op op = {CATALOG_WRITE, drop_table_txn, "drop a table", false,
                                       false};
    const char *purge = http_query(c->req, "purgeRequested");

    (void)body;
    if (purge != NULL && strcmp(purge, "true") == 0) {
        rest_error(c, 400, "BadRequestException",
                   "query parameter 'purgeRequested': purging is not supported: drop the table "
                   "without it, its files stay in the lake");
        return;
    }
    on_table(c, &op);
}

static void
update_table(struct api_call *c, const struct wire_value *body)
{
    static const struct table_op op = {CATALOG_WRITE, update_table_txn, "commit to a table", false,
                                       false};

    (void)body;
    on_table(c, &op);
}

/* ---- the API -------------------------------------------------------------------------------- */

static const struct api_resource namespace_res = {"namespace", NULL, NULL, NULL, "{namespace}"};
static const struct api_resource table_res = {"table", NULL, NULL, NULL, "{namespace}/{table}"};

#define NS "/v1/namespaces/{namespace}"
#define TABLE NS "/tables/{table}"

static const struct api_op iceberg_ops[] = {
    {"GetConfig", NULL, get_config, NULL, "GET", "/v1/config"},
    {"ListNamespaces", NULL, list_namespaces, NULL, "GET", "/v1/namespaces"},
    {"CreateNamespace", NULL, create_namespace, NULL, "POST", "/v1/namespaces"},
    {"LoadNamespaceMetadata", &namespace_res, load_namespace, NULL, "GET", NS},
    {"NamespaceExists", &namespace_res, load_namespace, NULL, "HEAD", NS},
    {"DropNamespace", &namespace_res, drop_namespace, NULL, "DELETE", NS},
    {"ListTables", &namespace_res, list_tables, NULL, "GET", NS "/tables"},
    {"CreateTable", &namespace_res, create_table, NULL, "POST", NS "/tables"},
    {"LoadTable", &table_res, load_table, NULL, "GET", TABLE},
    {"TableExists", &table_res, load_table, NULL, "HEAD", TABLE},
    {"UpdateTable", &table_res, update_table, NULL, "POST", TABLE},
    {"DropTable", &table_res, drop_table, NULL, "DELETE", TABLE},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

const struct api iceberg_api = {NULL,        "iceberg", "Iceberg REST catalog",
                                iceberg_ops, "/v1/",    error_model};
