/*
 * trigger.c - triggers: read from flows/NAME.yaml, watched inside `sluice
 * serve`, each starting executions of its flow (see trigger.h).
 *
 * The watcher is one thread.  Every poll (or at once when poked: a
 * delivery committed raw objects in this process) it reads, in one read
 * transaction, whether any trigger has something to fire: objects past an
 * arrival trigger's position, a table whose metadata pointer moved, a
 * held run it has not seen, a schedule whose time came.  Only then does
 * it take a write transaction, per trigger: read the position again,
 * record the execution (RUNNING, this node's) and move the position by
 * compare and swap, all in one commit; then hand the execution to the
 * pool.  A node that lost the swap to another node rolls back and starts
 * nothing.
 */
#include "flow/trigger.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "catalog/flows.h"
#include "catalog/iceberg.h"
#include "catalog/raw.h"
#include "catalog/runs.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strlist.h"
#include "core/time.h"
#include "core/yaml.h"
#include "flow/asl.h"
#include "flow/exec.h"
#include "flow/json.h"
#include "flow/pool.h"
#include "flow/runner.h"
#include "flow/schedule.h"
#include "store/store.h"
#include "table/table.h"
#include "core/banned.h"

#define MAX_FILE (1 << 20)
#define DEFAULT_BATCH 1000
#define MAX_BATCH 10000
#define MAX_COMMITS 100     /* commit events started in one transaction */
#define NAME_MAX_LEN 80     /* an execution's name, as Step Functions limits it */
/* An execution's input, as Step Functions limits it (262,144 bytes); an
 * arrival's records stop short of it, leaving room for the envelope. */
#define MAX_EXEC_INPUT 262144
#define ARRIVAL_BYTES 240000

static const char *const kind_names[] = {"arrival", "commit", "held", "schedule"};

void
flow_arrival_machine(const char *source, char *out, size_t size)
{
    snprintf(out, size, "sluice-transform-%s", source);
}

/* ---- reading flows/NAME.yaml ---------------------------------------------------- */

static int
bad(struct sl_diag *d, const char *path, const struct sl_yaml *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
bad(struct sl_diag *d, const char *path, const struct sl_yaml *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n != NULL)
        return sl_fail(d, SL_ERR_INPUT, "%s:%d:%d: %s", path, n->line, n->col, msg);
    return sl_fail(d, SL_ERR_INPUT, "%s: %s", path, msg);
}

/* A YAML node as JSON: plain scalars that read as numbers, true, false
 * or null are those; every other scalar is a string. */
static json_t *
yaml_json(const struct sl_yaml *n)
{
    json_t *v;

    switch (n->kind) {
    case SL_YAML_SCALAR:
        if (n->plain) {
            char *end;
            double x;

            if (sl_yaml_is_null(n))
                return json_null();
            if (strcmp(n->str, "true") == 0)
                return json_true();
            if (strcmp(n->str, "false") == 0)
                return json_false();
            errno = 0;
            x = strtod(n->str, &end);
            if (n->len > 0 && *end == '\0' && errno == 0 && strpbrk(n->str, "xXnN") == NULL) {
                long long i = strtoll(n->str, &end, 10);

                if (*end == '\0')
                    return json_integer(i);
                return json_real(x);
            }
        }
        return json_stringn(n->str, n->len);
    case SL_YAML_SEQ:
        v = json_array();
        for (size_t i = 0; i < n->n; i++)
            json_array_append_new(v, yaml_json(n->items[i]));
        return v;
    case SL_YAML_MAP:
        v = json_object();
        for (size_t i = 0; i < n->n; i++)
            json_object_set_new(v, n->keys[i]->str, yaml_json(n->items[i]));
        return v;
    }
    return json_null();
}

static bool
in_list(const char *s, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

struct loader {
    const char *path;     /* flows/NAME.yaml, for messages */
    const char *file;     /* the same, to read */
    const char *const *sources;
    size_t nsources;
    struct sl_arena *a;
};

/* One item of triggers:. */
static int
load_trigger(const struct loader *l, const struct sl_yaml *item, struct flow_trigger *t,
             struct sl_diag *d)
{
    static const char *const known[] = {"arrival", "commit", "held", "schedule",
                                        "timezone", "input", "batch", NULL};
    const struct sl_yaml *what = NULL, *tz, *input, *batch;
    int kinds = 0;

    if (item->kind != SL_YAML_MAP)
        return bad(d, l->path, item, "a trigger is a mapping (arrival:, commit:, held: or "
                                     "schedule:), not %s", sl_yaml_kind_name(item));
    for (size_t i = 0; i < item->n; i++) {
        const char *k = item->keys[i]->str;
        size_t j;

        for (j = 0; known[j] != NULL && strcmp(known[j], k) != 0; j++)
            ;
        if (known[j] == NULL)
            return bad(d, l->path, item->keys[i],
                       "unknown field '%s' (a trigger has arrival, commit, held or schedule, "
                       "and timezone, input, batch)", k);
        if (j < 4) {
            kinds++;
            what = item->items[i];
            t->kind = (enum flow_trigger_kind)j;
        }
    }
    if (kinds != 1)
        return bad(d, l->path, item, "a trigger has exactly one of arrival, commit, held and "
                                     "schedule (this one has %d)", kinds);
    if (what->kind != SL_YAML_SCALAR || what->len == 0)
        return bad(d, l->path, what, "%s: takes a name, not %s", kind_names[t->kind],
                   what->kind == SL_YAML_SCALAR ? "nothing" : sl_yaml_kind_name(what));
    t->line = item->line;
    t->target = sl_arena_strdup(l->a, what->str);
    t->batch = DEFAULT_BATCH;
    tz = sl_yaml_get(item, "timezone");
    input = sl_yaml_get(item, "input");
    batch = sl_yaml_get(item, "batch");
    if (t->kind != FLOW_ON_SCHEDULE && (tz != NULL || input != NULL))
        return bad(d, l->path, tz ? tz : input, "%s belongs to a schedule, not to a%s %s "
                   "trigger", tz ? "timezone" : "input", t->kind == FLOW_ON_ARRIVAL ? "n" : "",
                   kind_names[t->kind]);
    if (t->kind != FLOW_ON_ARRIVAL && batch != NULL)
        return bad(d, l->path, batch, "batch belongs to an arrival trigger");
    switch (t->kind) {
    case FLOW_ON_ARRIVAL:
        if (!in_list(t->target, l->sources, l->nsources))
            return bad(d, l->path, what, "arrival: no source '%s' (sources/%s.yaml)", t->target,
                       t->target);
        if (batch != NULL) {
            char *end;
            long long b = strtoll(batch->str ? batch->str : "", &end, 10);

            if (batch->kind != SL_YAML_SCALAR || *end != '\0' || b < 1 || b > MAX_BATCH)
                return bad(d, l->path, batch, "batch is a whole number from 1 to %d",
                           MAX_BATCH);
            t->batch = b;
        }
        break;
    case FLOW_ON_COMMIT: {
        const char *dot = strchr(t->target, '.');

        if (dot == NULL || dot == t->target || dot[1] == '\0' || strchr(dot + 1, '.') ||
            (strncmp(t->target, "curated.", 8) != 0 && strncmp(t->target, "gold.", 5) != 0))
            return bad(d, l->path, what, "commit: names a table as curated.NAME or gold.NAME, "
                                         "not '%s'", t->target);
        break;
    }
    case FLOW_ON_HELD:
        break;
    case FLOW_ON_SCHEDULE: {
        struct sl_diag sd;

        t->expression = t->target;
        t->timezone = "";
        if (tz != NULL) {
            if (tz->kind != SL_YAML_SCALAR)
                return bad(d, l->path, tz, "timezone is an IANA zone name such as "
                                           "Europe/Berlin");
            t->timezone = sl_arena_strdup(l->a, tz->str);
        }
        sl_diag_init(&sd);
        if (flow_schedule_parse(t->expression, t->timezone, &t->schedule, &sd) < 0)
            return bad(d, l->path, sd.msg[0] && strstr(sd.msg, "zone") && tz ? tz : what, "%s",
                       sd.msg);
        if (input != NULL) {
            json_t *j = NULL;

            if (input->kind == SL_YAML_SCALAR && !input->plain) {
                json_error_t err;

                j = json_loads(input->str, JSON_DECODE_ANY, &err);
                if (j == NULL)
                    return bad(d, l->path, input, "input is not JSON: %s", err.text);
            } else {
                j = yaml_json(input);
            }
            char *text = flow_json_dump(j);
            size_t len = strlen(text);

            t->input = sl_arena_strdup(l->a, text);
            free(text);
            json_decref(j);
            if (len > MAX_EXEC_INPUT - 4096)
                return bad(d, l->path, input, "input is %zu bytes of JSON; an execution's input "
                                              "is at most %d (with room for the scheduler's "
                                              "attributes)", len, MAX_EXEC_INPUT - 4096);
        }
        break;
    }
    }
    t->key = t->kind == FLOW_ON_SCHEDULE
                 ? sl_arena_printf(l->a, "schedule:%s@%s", t->expression,
                                   t->timezone[0] ? t->timezone : "UTC")
                 : sl_arena_printf(l->a, "%s:%s", kind_names[t->kind], t->target);
    return 0;
}

int
flow_trigger_parse(const char *path, const char *text, size_t len, const char *const *sources,
                   size_t nsources, struct sl_arena *a, struct flow_triggered *f,
                   struct sl_diag *d)
{
    struct loader l = {path, path, sources, nsources, a};
    struct sl_arena ya;
    struct sl_yaml *root = NULL;
    const struct sl_yaml *list;
    int rc;

    sl_arena_init(&ya, 0);
    f->path = path;
    f->n = 0;
    f->v = NULL;
    rc = sl_yaml_parse(path, text, len, &ya, &root, d);
    if (rc == 0 && root->kind != SL_YAML_MAP)
        rc = bad(d, path, root, "a flow's triggers file is a mapping with triggers:");
    for (size_t i = 0; rc == 0 && i < root->n; i++)
        if (strcmp(root->keys[i]->str, "triggers") != 0)
            rc = bad(d, path, root->keys[i], "unknown field '%s' (the file has triggers:)",
                     root->keys[i]->str);
    list = rc == 0 ? sl_yaml_get(root, "triggers") : NULL;
    if (rc == 0 && (list == NULL || list->kind != SL_YAML_SEQ))
        rc = bad(d, path, list ? list : root, "triggers: is a list of triggers");
    if (rc == 0) {
        f->n = list->n;
        f->v = sl_arena_zalloc(a, (list->n ? list->n : 1) * sizeof(*f->v));
    }
    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        rc = load_trigger(&l, list->items[i], &f->v[i], d);
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (strcmp(f->v[j].key, f->v[i].key) == 0)
                rc = bad(d, path, list->items[i], "the same trigger as line %d", f->v[j].line);
    }
    if (rc < 0)
        flow_triggered_release(f);
    sl_arena_release(&ya);
    return rc;
}

void
flow_triggered_release(struct flow_triggered *f)
{
    for (size_t j = 0; j < f->n; j++) {
        flow_schedule_free(f->v[j].schedule);
        f->v[j].schedule = NULL;
    }
    f->n = 0;
}

/* flows/NAME.yaml and flows/NAME.asl.json into f. */
static int
load_flow(const struct loader *l, const char *dir, const char *name, struct flow_triggered *f,
          struct sl_diag *d)
{
    struct sl_buf text, def;
    char *defpath = sl_arena_printf(l->a, "%s/%s.asl.json", dir, name);
    char *defshown = sl_arena_printf(l->a, "flows/%s.asl.json", name);
    int rc;

    sl_buf_init(&text);
    sl_buf_init(&def);
    f->machine = sl_arena_strdup(l->a, name);
    f->path = l->path;
    rc = sl_read_file(l->file, MAX_FILE, &text, d);
    if (rc == 0)
        rc = flow_trigger_parse(l->path, text.data ? text.data : "", text.len, l->sources,
                                l->nsources, l->a, f, d);
    if (rc == 0 && !sl_exists(defpath))
        rc = sl_fail(d, SL_ERR_INPUT, "%s: there is no %s beside it to run", l->path, defshown);
    if (rc == 0)
        rc = sl_read_file(defpath, MAX_FILE, &def, d);
    if (rc == 0) {
        struct flow_machine *m = NULL;

        rc = flow_machine_load(def.data ? def.data : "", def.len, defshown, &m, NULL, d);
        flow_machine_free(m);
        f->definition = sl_arena_strndup(l->a, def.data ? def.data : "", def.len);
    }
    sl_buf_release(&text);
    sl_buf_release(&def);
    return rc;
}

void
flow_trigger_set_free(struct flow_trigger_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        flow_triggered_release(&s->v[i]);
    free(s->v);
    sl_arena_release(&s->arena);
    memset(s, 0, sizeof(*s));
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The built-in flow of source's on_arrival: transform. */
static void
builtin_flow(struct sl_arena *a, const char *source, struct flow_triggered *f)
{
    char name[160];

    flow_arrival_machine(source, name, sizeof(name));
    f->machine = sl_arena_strdup(a, name);
    f->path = sl_arena_printf(a, "sources/%s.yaml", source);
    f->builtin = true;
    /* The retries of the transform that ran on arrival before flows (a
     * busy source lock, a transient failure), as a Retry block: 1, 2, 4 s,
     * then the execution fails and the next arrival tries again. */
    f->definition = sl_arena_printf(
        a,
        "{\"Comment\": \"on_arrival: transform of source %s (sources/%s.yaml), built in\",\n"
        " \"StartAt\": \"Transform\",\n"
        " \"States\": {\n"
        "  \"Transform\": {\n"
        "   \"Type\": \"Task\",\n"
        "   \"Resource\": \"arn:aws:states:::sluice:transform\",\n"
        "   \"Parameters\": {\"source\": \"%s\"},\n"
        "   \"Retry\": [{\"ErrorEquals\": [\"States.ALL\"], \"IntervalSeconds\": 1,\n"
        "               \"MaxAttempts\": 3, \"BackoffRate\": 2.0}],\n"
        "   \"End\": true}}}\n",
        source, source, source);
    f->n = 1;
    f->v = sl_arena_zalloc(a, sizeof(*f->v));
    f->v[0] = (struct flow_trigger){
        .kind = FLOW_ON_ARRIVAL,
        .key = sl_arena_printf(a, "arrival:%s", source),
        .target = sl_arena_strdup(a, source),
        .batch = DEFAULT_BATCH,
    };
}

int
flow_trigger_set_load(const char *root, const char *const *sources, size_t nsources,
                      const char *const *on_arrival, size_t n_arrival, bool keep_going,
                      struct flow_trigger_set *out, struct sl_buf *problems,
                      struct sl_diag *d)
{
    char *dir = sl_printf("%s/flows", root);
    struct sl_strlist names = {0};
    DIR *dh = opendir(dir);
    size_t cap = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    sl_arena_init(&out->arena, 0);
    if (dh != NULL) {
        struct dirent *e;

        while ((e = readdir(dh)) != NULL) {
            size_t n = strlen(e->d_name);

            if (e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0)
                sl_strlist_add(&names, sl_arena_strndup(&out->arena, e->d_name, n - 5));
        }
        closedir(dh);
    }
    if (names.n > 1)
        qsort(names.v, names.n, sizeof(*names.v), by_name);
    for (size_t i = 0; i < names.n && (rc == 0 || keep_going); i++) {
        struct loader l = {sl_arena_printf(&out->arena, "flows/%s.yaml", names.v[i]),
                           sl_arena_printf(&out->arena, "%s/%s.yaml", dir, names.v[i]),
                           sources, nsources, &out->arena};
        struct flow_triggered f = {0};
        struct sl_diag fd;

        sl_diag_init(&fd);
        if (load_flow(&l, dir, names.v[i], &f, &fd) < 0) {
            flow_triggered_release(&f);
            if (problems != NULL)
                sl_buf_addf(problems, "%s\n", fd.msg);
            if (!keep_going)
                rc = sl_fail(d, SL_ERR_INPUT, "%s", fd.msg);
            continue;
        }
        SL_GROW(out->v, cap, out->n + 1);
        out->v[out->n++] = f;
    }
    for (size_t i = 0; rc == 0 && i < n_arrival; i++) {
        SL_GROW(out->v, cap, out->n + 1);
        builtin_flow(&out->arena, on_arrival[i], &out->v[out->n]);
        for (size_t j = 0; j < out->n; j++)
            if (strcmp(out->v[j].machine, out->v[out->n].machine) == 0) {
                rc = sl_fail(d, SL_ERR_INPUT, "flows/%s.yaml: the name is the built-in flow "
                                              "of on_arrival in sources/%s.yaml; rename it",
                             out->v[j].machine, on_arrival[i]);
                break;
            }
        if (rc == 0)
            out->n++;
    }
    sl_strlist_release(&names);
    free(dir);
    if (rc < 0)
        flow_trigger_set_free(out);
    return rc;
}

/* ---- the watcher ---------------------------------------------------------------- */

/* What the watcher remembers of a trigger between polls. */
struct watch {
    char *machine, *key;
    bool seen;            /* still declared at the last reload */
    bool recorded;        /* its row exists */
    int64_t position, anchor, last_execution, fired;
    char *location;       /* commit: the table pointer fired for */
    char *looked;         /* ... and the one the last look saw */
    int64_t *held;        /* held: runs it started an execution for */
    size_t nheld, capheld;
    bool due;
};

struct flow_triggers {
    struct flow_triggers_opts o;
    char **sources, **on_arrival;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;  /* poked or stopping (CLOCK_MONOTONIC) */
    bool poked, stopping;
    struct flow_trigger_set set;
    char *problems;       /* the last load's, logged once */
    bool resync;          /* recording a flow as a state machine failed */
    struct watch *w;
    size_t nw, capw;
    struct catalog *cat;
    struct store *store;
    _Atomic uint64_t started[4], failures;
};

static struct watch *
watch_of(struct flow_triggers *t, const char *machine, const char *key)
{
    for (size_t i = 0; i < t->nw; i++)
        if (strcmp(t->w[i].machine, machine) == 0 && strcmp(t->w[i].key, key) == 0)
            return &t->w[i];
    SL_GROW(t->w, t->capw, t->nw + 1);
    memset(&t->w[t->nw], 0, sizeof(t->w[t->nw]));
    t->w[t->nw].machine = sl_strdup(machine);
    t->w[t->nw].key = sl_strdup(key);
    return &t->w[t->nw++];
}

static void
watch_release(struct watch *w)
{
    free(w->machine);
    free(w->key);
    free(w->location);
    free(w->looked);
    free(w->held);
}

static bool
held_seen(const struct watch *w, int64_t run)
{
    for (size_t i = 0; i < w->nheld; i++)
        if (w->held[i] == run)
            return true;
    return false;
}

/* An execution name from parts, within Step Functions' 80 characters and
 * its alphabet: anything outside [A-Za-z0-9._-] becomes '-'. */
static void
exec_name(char out[NAME_MAX_LEN + 1], const char *prefix, const char *what, const char *suffix)
{
    char buf[512];
    size_t room, n;

    snprintf(buf, sizeof(buf), "%s", what);
    for (char *p = buf; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            *p = '-';
    room = NAME_MAX_LEN - strlen(prefix) - strlen(suffix) - 2;
    n = strlen(buf);
    snprintf(out, NAME_MAX_LEN + 1, "%s-%.*s-%s", prefix, (int)(n < room ? n : room), buf,
             suffix);
}

/* ---- what happened, as an execution's input -------------------------------------- */

struct arrivals {
    const char *source;
    int64_t after;
    int64_t batch;
    json_t *records;     /* NULL: only look (one is enough) */
    int64_t n, last_seq;
    size_t bytes;        /* the records' JSON so far */
    bool full;           /* one more would pass ARRIVAL_BYTES */
    const char *bucket, *prefix;
};

static int
arrival_row(void *arg, const struct raw_object *o)
{
    struct arrivals *a = arg;
    char when[32], seq[32];
    const char *hex = strchr(o->checksum ? o->checksum : "", ':');
    json_t *rec;
    char *text;

    if (a->full)
        return 0; /* the rest go to the next execution */
    if (a->records == NULL) {
        a->n++;
        a->last_seq = o->seq;
        return 0;
    }
    sl_format_iso_ms(o->arrived_at / 1000, true, when);
    snprintf(seq, sizeof(seq), "%016" PRIX64, (uint64_t)o->seq);
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:{}, "
                  "s:{s:s, s:s, s:{s:s, s:{s:s}, s:s}, s:{s:s+, s:I, s:s, s:s}}, "
                  "s:{s:s, s:s, s:I, s:s, s:s, s:s}}",
                  "eventVersion", "2.1", "eventSource", "aws:s3", "awsRegion", flow_region(),
                  "eventTime", when, "eventName", "ObjectCreated:Put", "userIdentity",
                  "principalId", "sluice", "requestParameters", "sourceIPAddress", "127.0.0.1",
                  "responseElements", "s3", "s3SchemaVersion", "1.0", "configurationId",
                  a->source, "bucket", "name", a->bucket, "ownerIdentity", "principalId",
                  "sluice", "arn", "", "object", "key", a->prefix, o->key, "size",
                  (json_int_t)o->size, "eTag", hex ? hex + 1 : "", "sequencer", seq, "sluice",
                  "source", o->source, "objectId", o->object_id, "seq", (json_int_t)o->seq,
                  "system", o->system ? o->system : "", "format", o->format ? o->format : "",
                  "originalName", o->original_name ? o->original_name : "");
    text = flow_json_dump(rec);
    if (a->n > 0 && a->bytes + strlen(text) + 1 > ARRIVAL_BYTES) {
        a->full = true;
        json_decref(rec);
    } else {
        a->bytes += strlen(text) + 1;
        a->n++;
        a->last_seq = o->seq;
        json_array_append_new(a->records, rec);
    }
    free(text);
    return 0;
}

/* The lake as an S3 bucket and key prefix: s3://B/P is bucket B and keys
 * P/...; a local lake is bucket "lake" and its keys as they are. */
static void
lake_bucket(const char *lake, struct sl_arena *a, const char **bucket, const char **prefix)
{
    if (strncmp(lake, "s3://", 5) == 0) {
        const char *slash = strchr(lake + 5, '/');

        *bucket = slash ? sl_arena_strndup(a, lake + 5, (size_t)(slash - lake - 5))
                        : sl_arena_strdup(a, lake + 5);
        *prefix = slash && slash[1] ? sl_arena_printf(a, "%s/", slash + 1) : "";
    } else {
        *bucket = "lake";
        *prefix = "";
    }
}

/* An EventBridge-style envelope around detail (stolen). */
static json_t *
event(const char *type, const char *resource, int64_t now, json_t *detail)
{
    char when[32], id[37];

    sl_format_iso_ms(now, false, when);
    flow_random_name(id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:o}", "version", "0", "id",
                     id, "detail-type", type, "source", "sluice", "account", "000000000000",
                     "time", when, "region", flow_region(), "resources", resource, "detail",
                     detail);
}

/* Replace every <aws.scheduler.NAME> in text. */
static char *
schedule_input(const char *text, const char *machine, const struct flow_trigger *tr,
               const char *name, int64_t at)
{
    char when[32], arn[300];
    struct {
        const char *placeholder, *value;
    } subst[] = {
        {"<aws.scheduler.scheduled-time>", when},
        {"<aws.scheduler.execution-id>", name},
        {"<aws.scheduler.schedule-arn>", arn},
        {"<aws.scheduler.attempt-number>", "1"},
    };
    struct sl_buf b;

    sl_format_iso_ms(at, false, when);
    snprintf(arn, sizeof(arn), "arn:aws:scheduler:%s:000000000000:schedule/%s/%s",
             flow_region(), machine, tr->key + strlen("schedule:"));
    sl_buf_init(&b);
    while (*text) {
        size_t i;

        for (i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
            size_t n = strlen(subst[i].placeholder);

            if (strncmp(text, subst[i].placeholder, n) == 0) {
                /* Inside a JSON string: the value must stay valid in it. */
                for (const char *v = subst[i].value; *v; v++) {
                    if (*v == '"' || *v == '\\')
                        sl_buf_addc(&b, '\\');
                    sl_buf_addc(&b, *v);
                }
                text += n;
                break;
            }
        }
        if (i == sizeof(subst) / sizeof(subst[0]))
            sl_buf_addc(&b, *text++);
    }
    sl_buf_addc(&b, '\0');
    return sl_buf_detach(&b, NULL);
}

/* ---- firing -------------------------------------------------------------------- */

struct fire {
    struct flow_triggers *t;
    const struct flow_triggered *f;
    const struct flow_trigger *tr;
    struct watch *w;
    int64_t now;
    /* out: executions recorded (to submit once committed) */
    int64_t ids[MAX_COMMITS];
    size_t nids;
    int64_t new_position;
    int64_t held_runs[MAX_COMMITS];
    size_t nheld;
    char first_name[NAME_MAX_LEN + 1];
    int64_t objects;
    struct sl_arena a;
};

static int
trigger_row_copy(void *arg, const struct flow_trigger_record *r)
{
    struct watch *w = arg;

    w->recorded = true;
    w->position = r->position;
    w->anchor = r->anchor;
    w->last_execution = r->last_execution;
    w->fired = r->fired;
    return 0;
}

/* Record one execution of the flow. */
static int
record(struct fire *x, struct catalog_txn *txn, const char *name, const char *input,
       struct sl_diag *d)
{
    struct flow_execution_record e = {
        .machine = x->f->machine,
        .name = name,
        .status = "RUNNING",
        .definition = x->f->definition,
        .input = input,
        .started_at = x->now,
        .owner = flow_pool_owner(x->t->o.pool),
        .lease_until = x->now + flow_pool_lease_ms(x->t->o.pool),
    };
    int rc;

    /* What Step Functions would refuse at StartExecution (a commit's
     * summary, a schedule's input can be anything). */
    if (strlen(input) > MAX_EXEC_INPUT)
        return sl_fail(d, SL_ERR_LIMIT, "the input of %s's execution %s would be %zu bytes, "
                                        "more than the %d an execution takes",
                       x->f->machine, name, strlen(input), MAX_EXEC_INPUT);
    rc = catalog_flow_execution_add(txn, &e, d);

    if (rc < 0)
        return rc;
    if (x->nids == 0)
        snprintf(x->first_name, sizeof(x->first_name), "%s", name);
    x->ids[x->nids++] = e.id;
    return 0;
}

struct status_ctx {
    bool running;
};

static int
status_row(void *arg, const struct flow_execution_record *e)
{
    ((struct status_ctx *)arg)->running = strcmp(e->status, "RUNNING") == 0;
    return 0;
}

static int
fire_arrival(struct fire *x, struct catalog_txn *txn, struct sl_diag *d)
{
    struct arrivals a = {.source = x->tr->target, .after = x->w->position, .batch = x->tr->batch};
    char name[NAME_MAX_LEN + 1], last[32];
    int rc;

    /* One at a time: while the last one runs, arrivals wait for the next. */
    if (x->w->last_execution != 0) {
        struct status_ctx s = {false};

        rc = catalog_flow_execution_stop_get(txn, x->w->last_execution, status_row, &s, d);
        if (rc < 0 && rc != SL_ERR_NOTFOUND)
            return rc;
        if (s.running)
            return 0;
    }
    lake_bucket(x->t->o.lake, &x->a, &a.bucket, &a.prefix);
    a.records = json_array();
    rc = catalog_raw_list_some(txn, a.source, a.after, a.batch, arrival_row, &a, d);
    if (rc < 0) {
        json_decref(a.records);
        return rc;
    }
    if (a.n > 0) {
        json_t *doc = json_pack("{s:o}", "Records", a.records);
        char *input = flow_json_dump(doc);

        snprintf(last, sizeof(last), "%" PRId64, a.last_seq);
        exec_name(name, "arrival", a.source, last);
        rc = record(x, txn, name, input, d);
        free(input);
        json_decref(doc);
        x->new_position = a.last_seq;
        x->objects = a.n;
        return rc;
    }
    json_decref(a.records);
    return 0;
}

struct commits {
    struct fire *x;
    struct catalog_txn *txn;
    struct sl_diag *d;
    int64_t after;
    int64_t last;
    int rc;
};

static int
commit_snapshot(void *arg, const struct table_snapshot *s)
{
    struct commits *c = arg;
    struct fire *x = c->x;
    char name[NAME_MAX_LEN + 1], id[32];
    json_t *summary, *doc;
    char *input;

    if (s->sequence_number <= c->after || x->nids == MAX_COMMITS)
        return 0;
    summary = json_loads(s->summary_json ? s->summary_json : "{}", 0, NULL);
    doc = event("Table Commit", x->tr->target, x->now,
                json_pack("{s:s, s:I, s:I, s:s, s:I, s:o}", "table", x->tr->target, "snapshotId",
                          (json_int_t)s->id, "sequenceNumber", (json_int_t)s->sequence_number,
                          "operation", s->operation ? s->operation : "", "timestampMs",
                          (json_int_t)s->timestamp_ms, "summary",
                          summary ? summary : json_object()));
    input = flow_json_dump(doc);
    snprintf(id, sizeof(id), "%" PRId64, s->id);
    exec_name(name, "commit", x->tr->target, id);
    c->rc = record(x, c->txn, name, input, c->d);
    free(input);
    json_decref(doc);
    if (c->rc == SL_ERR_EXISTS)  /* started already (a table made again) */
        c->rc = 0;
    if (c->rc < 0)
        return c->rc;
    c->last = s->sequence_number;
    return 0;
}

static int
fire_commit(struct fire *x, struct catalog_txn *txn, struct sl_diag *d)
{
    const char *dot = strchr(x->tr->target, '.');
    char *ns = sl_arena_strndup(&x->a, x->tr->target, (size_t)(dot - x->tr->target));
    struct commits c = {x, txn, d, x->w->position, x->w->position, 0};
    int rc = table_snapshots(txn, x->t->store, ns, dot + 1, commit_snapshot, &c, d);

    if (rc == SL_ERR_NOTFOUND)
        return 0;
    if (rc < 0)
        return c.rc < 0 ? c.rc : rc;
    x->new_position = c.last;
    return 0;
}

struct helds {
    struct fire *x;
    struct catalog_txn *txn;
    struct sl_diag *d;
    int rc;
};

/* Whether table entry e (n bytes, as a run records it: "orders" or
 * "curated.orders") is target; a name without its zone matches either. */
static bool
same_table(const char *target, const char *e, size_t n)
{
    const char *tdot = strchr(target, '.');
    const char *edot = memchr(e, '.', n);

    if (strlen(target) == n && strncmp(target, e, n) == 0)
        return true;
    if (tdot != NULL && edot == NULL)
        return strlen(tdot + 1) == n && strncmp(tdot + 1, e, n) == 0;
    if (tdot == NULL && edot != NULL)
        return strlen(target) == n - (size_t)(edot + 1 - e) &&
               strncmp(target, edot + 1, strlen(target)) == 0;
    return false;
}

/* Whether a held run is the trigger's: its source, one of its tables, or
 * anything for "*". */
static bool
held_matches(const char *target, const struct run_record *r)
{
    const char *t = r->table ? r->table : "";

    if (strcmp(target, "*") == 0 || (r->source && strcmp(target, r->source) == 0))
        return true;
    while (*t) {
        size_t n = strcspn(t, ",");

        if (same_table(target, t, n))
            return true;
        t += n + (t[n] == ',');
    }
    return false;
}

static int
held_run(void *arg, const struct run_record *r)
{
    struct helds *h = arg;
    struct fire *x = h->x;
    char name[NAME_MAX_LEN + 1], id[32];
    json_t *tables, *doc;
    char *input;

    if (!held_matches(x->tr->target, r) || held_seen(x->w, r->run_id) || x->nids == MAX_COMMITS)
        return 0;
    tables = json_array();
    for (const char *t = r->table ? r->table : ""; *t;) {
        size_t n = strcspn(t, ",");

        json_array_append_new(tables, json_stringn(t, n));
        t += n + (t[n] == ',');
    }
    doc = event("Run Held", r->source ? r->source : "", x->now,
                json_pack("{s:I, s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "runId",
                          (json_int_t)r->run_id, "kind", r->kind ? r->kind : "", "source",
                          r->source ? r->source : "", "tables", tables, "recordsIn",
                          (json_int_t)r->records_in, "written", (json_int_t)r->written,
                          "quarantined", (json_int_t)r->quarantined, "duplicates",
                          (json_int_t)r->duplicates));
    input = flow_json_dump(doc);
    snprintf(id, sizeof(id), "%" PRId64, r->run_id);
    exec_name(name, "held", x->tr->target, id);
    h->rc = record(x, h->txn, name, input, h->d);
    free(input);
    json_decref(doc);
    if (h->rc == SL_ERR_EXISTS)  /* by another node, or before a restart */
        h->rc = 0;
    if (h->rc < 0)
        return h->rc;
    if (x->nheld < MAX_COMMITS)
        x->held_runs[x->nheld++] = r->run_id;
    return 0;
}

static int
fire_held(struct fire *x, struct catalog_txn *txn, struct sl_diag *d)
{
    struct helds h = {x, txn, d, 0};
    int rc = catalog_run_list(txn, NULL, 1000, true, held_run, &h, d);

    if (rc < 0)
        return h.rc < 0 ? h.rc : rc;
    for (size_t i = 0; i < x->nheld; i++)
        if (x->held_runs[i] > x->new_position)
            x->new_position = x->held_runs[i];
    return 0;
}

/* The latest fire time of tr's schedule at or before now, after its last
 * fire; false if none is due. */
static bool
schedule_due(const struct flow_trigger *tr, const struct watch *w, int64_t now, int64_t *at)
{
    /* Windows back from now, each about 30 times the last: the latest
     * fire is looked for in the smallest that holds one, so a schedule
     * that fires every minute walks at most an hour of fires, and one
     * that missed a year of them (no server ran) finds the last at once. */
    static const int64_t windows[] = {
        3600000LL, 86400000LL, 31 * 86400000LL, 400 * 86400000LL, 40 * 366 * 86400000LL,
        INT64_MAX,
    };
    int64_t next;

    if (!flow_schedule_next(tr->schedule, w->anchor, w->position, &next) || next > now)
        return false;
    for (size_t k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
        int64_t from = now - windows[k] > w->position && windows[k] < now ? now - windows[k]
                                                                           : w->position;
        int64_t n1, n2;

        if (!flow_schedule_next(tr->schedule, w->anchor, from, &n1) || n1 > now)
            continue;
        while (flow_schedule_next(tr->schedule, w->anchor, n1, &n2) && n2 <= now)
            n1 = n2;
        *at = n1;
        return true;
    }
    *at = next;
    return true;
}

static int
fire_schedule(struct fire *x, struct catalog_txn *txn, struct sl_diag *d)
{
    char name[NAME_MAX_LEN + 1], when[32], tag[48];
    uint32_t h = 2166136261u;
    int64_t at;
    char *input;
    int rc;

    if (!schedule_due(x->tr, x->w, x->now, &at))
        return 0;
    for (const char *p = x->tr->key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    sl_format_iso_ms(at, false, when);
    /* 20261203T180000Z */
    snprintf(tag, sizeof(tag), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", when, when + 5, when + 8, when + 11,
             when + 14, when + 17);
    snprintf(name, sizeof(name), "schedule-%08x-%s", h, tag);
    input = schedule_input(x->tr->input ? x->tr->input : "{}", x->f->machine, x->tr, name, at);
    rc = record(x, txn, name, input, d);
    free(input);
    if (rc == SL_ERR_EXISTS)
        rc = 0;
    x->new_position = at;
    return rc;
}

static int
last_sequence(void *arg, const struct table_snapshot *s)
{
    int64_t *pos = arg;

    if (s->sequence_number > *pos)
        *pos = s->sequence_number;
    return 0;
}

/* The position a trigger first seen starts from: now, so that it does not
 * fire for the past (the built-in transform: its bookmark). */
static int
first_position(struct fire *x, struct catalog_txn *txn, int64_t *pos, struct sl_diag *d)
{
    const char *dot;
    int rc;

    *pos = 0;
    switch (x->tr->kind) {
    case FLOW_ON_ARRIVAL:
        if (x->f->builtin)
            return catalog_bookmark_get(txn, x->tr->target, "transform", pos, d);
        return catalog_raw_last_seq(txn, x->tr->target, pos, d);
    case FLOW_ON_COMMIT:
        dot = strchr(x->tr->target, '.');
        rc = table_snapshots(txn, x->t->store,
                             sl_arena_strndup(&x->a, x->tr->target,
                                              (size_t)(dot - x->tr->target)),
                             dot + 1, last_sequence, pos, d);
        return rc == SL_ERR_NOTFOUND ? 0 : rc;
    case FLOW_ON_HELD:
        return 0;
    case FLOW_ON_SCHEDULE:
        *pos = x->now;
        return 0;
    }
    return 0;
}

static int
fire_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct fire *x = arg;
    struct watch *w = x->w;
    int64_t expect;
    int rc;

    x->nids = 0;
    x->nheld = 0;
    x->objects = 0;
    w->recorded = false;
    rc = catalog_flow_trigger_get(txn, x->f->machine, x->tr->key, trigger_row_copy, w, d);
    if (rc == SL_ERR_NOTFOUND) {
        struct flow_trigger_record r = {.machine = x->f->machine, .key = x->tr->key,
                                        .anchor = x->now};

        rc = first_position(x, txn, &r.position, d);
        if (rc == 0)
            rc = catalog_flow_trigger_add(txn, &r, d);
        if (rc < 0)
            return rc;
        trigger_row_copy(w, &r);
        /* Held runs waiting already are the trigger's to act on; the
         * built-in transform owes what its bookmark has not reached. */
        if (x->tr->kind != FLOW_ON_HELD && !(x->f->builtin))
            return 0;
    } else if (rc < 0) {
        return rc;
    }
    expect = w->position;
    x->new_position = w->position;
    switch (x->tr->kind) {
    case FLOW_ON_ARRIVAL:
        rc = fire_arrival(x, txn, d);
        break;
    case FLOW_ON_COMMIT:
        rc = fire_commit(x, txn, d);
        break;
    case FLOW_ON_HELD:
        rc = fire_held(x, txn, d);
        break;
    case FLOW_ON_SCHEDULE:
        rc = fire_schedule(x, txn, d);
        break;
    }
    if (rc < 0)
        return rc;
    if (x->new_position == expect && x->nids == 0)
        return 0;
    {
        size_t started = 0;

        for (size_t i = 0; i < x->nids; i++)
            started += x->ids[i] != 0;
        struct flow_trigger_record r = {
            .machine = x->f->machine,
            .key = x->tr->key,
            .position = x->new_position,
            .anchor = w->anchor,
            .last_execution = x->nids > 0 ? x->ids[x->nids - 1] : w->last_execution,
            .fired = w->fired + (int64_t)started,
            .fired_at = x->now,
        };

        rc = catalog_flow_trigger_advance(txn, &r, expect, d);
        if (rc == SL_ERR_CONFLICT)
            return sl_fail(d, SL_ERR_CONFLICT, "another node moved trigger %s of %s first",
                           x->tr->key, x->f->machine);
        if (rc < 0)
            return rc;
        w->position = r.position;
        w->last_execution = r.last_execution;
        w->fired = r.fired;
    }
    return 0;
}

/* Fire one trigger: record its executions, then hand them to the pool. */
static void
fire(struct flow_triggers *t, const struct flow_triggered *f, const struct flow_trigger *tr,
     struct watch *w)
{
    struct fire x = {.t = t, .f = f, .tr = tr, .w = w, .now = flow_real_clock.now_ms(NULL)};
    struct sl_diag d;
    int rc;

    sl_arena_init(&x.a, 0);
    sl_diag_init(&d);
    rc = catalog_txn_run(t->cat, CATALOG_WRITE, fire_txn, &x, &d);
    if (rc == SL_ERR_CONFLICT) {
        SL_INFO("flow", "%s", d.msg);
    } else if (rc < 0) {
        atomic_fetch_add(&t->failures, 1);
        SL_WARN("flow", "trigger %s of %s: %s", tr->key, f->machine, d.msg);
        w->recorded = false;
    } else {
        if (tr->kind == FLOW_ON_COMMIT && x.nids < MAX_COMMITS && w->looked != NULL) {
            free(w->location);
            w->location = w->looked;
            w->looked = NULL;
        }
        for (size_t i = 0; i < x.nheld; i++) {
            SL_GROW(w->held, w->capheld, w->nheld + 1);
            w->held[w->nheld++] = x.held_runs[i];
        }
        for (size_t i = 0; i < x.nids; i++) {
            if (x.ids[i] == 0)
                continue;
            atomic_fetch_add(&t->started[tr->kind], 1);
            flow_pool_submit(t->o.pool, x.ids[i]);
        }
        if (x.nids > 0 && f->builtin)
            SL_INFO("flow", "%s: %lld raw object(s) await their transform; starting it "
                            "(execution %s of %s)",
                    tr->target, (long long)x.objects, x.first_name, f->machine);
        else if (x.nids > 0)
            SL_INFO("flow", "trigger %s started %zu execution(s) of %s, the first %s", tr->key,
                    x.nids, f->machine, x.first_name);
    }
    sl_arena_release(&x.a);
}

/* ---- polling ------------------------------------------------------------------ */

struct look {
    struct flow_triggers *t;
    int64_t now;
    struct sl_arena a;
};

struct held_look {
    const struct flow_trigger *tr;
    const struct watch *w;
    bool any;
};

static int
held_look_row(void *arg, const struct run_record *r)
{
    struct held_look *h = arg;

    if (held_matches(h->tr->target, r) && !held_seen(h->w, r->run_id))
        h->any = true;
    return 0;
}

/* Whether tr has something to fire, read in txn. */
static int
look_one(struct look *l, struct catalog_txn *txn, const struct flow_triggered *f,
         const struct flow_trigger *tr, struct watch *w, struct sl_diag *d)
{
    int rc;

    w->due = false;
    /* An arrival trigger's row is read afresh each time (another node
     * may have moved it): it is due only when objects wait and its last
     * execution has ended. */
    if (!w->recorded || tr->kind == FLOW_ON_ARRIVAL) {
        w->recorded = false;
        rc = catalog_flow_trigger_get(txn, f->machine, tr->key, trigger_row_copy, w, d);
        if (rc == SL_ERR_NOTFOUND) {
            w->due = true;  /* record it */
            return 0;
        }
        if (rc < 0)
            return rc;
    }
    switch (tr->kind) {
    case FLOW_ON_ARRIVAL: {
        struct arrivals a = {.source = tr->target, .after = w->position, .batch = 1};
        struct status_ctx st = {false};

        rc = catalog_raw_list_some(txn, tr->target, w->position, 1, arrival_row, &a, d);
        if (rc < 0)
            return rc;
        if (a.n > 0 && w->last_execution != 0) {
            rc = catalog_flow_execution_stop_get(txn, w->last_execution, status_row, &st, d);
            if (rc < 0 && rc != SL_ERR_NOTFOUND)
                return rc;
        }
        w->due = a.n > 0 && !st.running;
        return 0;
    }
    case FLOW_ON_COMMIT: {
        const char *dot = strchr(tr->target, '.');
        const char *loc = NULL;

        rc = catalog_iceberg_get(txn, sl_arena_strndup(&l->a, tr->target,
                                                      (size_t)(dot - tr->target)),
                                 dot + 1, &l->a, &loc, d);
        if (rc == SL_ERR_NOTFOUND)
            return 0;
        if (rc < 0)
            return rc;
        /* Fired for once fire() has taken every snapshot up to it. */
        w->due = w->location == NULL || strcmp(w->location, loc) != 0;
        free(w->looked);
        w->looked = w->due ? sl_strdup(loc) : NULL;
        return 0;
    }
    case FLOW_ON_HELD: {
        struct held_look h = {tr, w, false};

        rc = catalog_run_list(txn, NULL, 1000, true, held_look_row, &h, d);
        w->due = h.any;
        return rc < 0 ? rc : 0;
    }
    case FLOW_ON_SCHEDULE: {
        int64_t at;

        w->due = schedule_due(tr, w, l->now, &at);
        return 0;
    }
    }
    return 0;
}

static int
look_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct look *l = arg;
    struct flow_triggers *t = l->t;

    for (size_t i = 0; i < t->set.n; i++)
        for (size_t j = 0; j < t->set.v[i].n; j++) {
            const struct flow_triggered *f = &t->set.v[i];
            int rc = look_one(l, txn, f, &f->v[j], watch_of(t, f->machine, f->v[j].key), d);

            if (rc < 0)
                return rc;
        }
    return 0;
}

struct sync {
    const struct flow_triggered *f;
    int64_t now;
    char *existing;
    bool found;
};

static int
machine_row(void *arg, const struct flow_machine_record *m)
{
    struct sync *s = arg;

    s->found = true;
    s->existing = sl_strdup(m->definition);
    return 0;
}

/* The flow as a state machine of the catalog, so the API lists it and
 * DescribeStateMachine shows what runs: added, or updated if its file
 * changed. */
static int
sync_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct sync *s = arg;
    struct flow_machine_record m = {
        .name = s->f->machine,
        .definition = s->f->definition,
        .role_arn = "",
        .type = "STANDARD",
        .created_at = s->now,
        .updated_at = s->now,
    };
    int rc;

    free(s->existing);
    s->existing = NULL;
    s->found = false;
    rc = catalog_flow_machine_get(txn, m.name, machine_row, s, d);
    if (rc == SL_ERR_NOTFOUND)
        return catalog_flow_machine_add(txn, &m, d);
    if (rc < 0 || strcmp(s->existing, m.definition) == 0)
        return rc;
    return catalog_flow_machine_update(txn, &m, d);
}

/* Read flows/ again; keep what is remembered of triggers still declared. */
static void
reload(struct flow_triggers *t)
{
    struct flow_trigger_set next;
    struct sl_buf problems;
    struct sl_diag d;
    bool failed = false;

    sl_buf_init(&problems);
    sl_diag_init(&d);
    if (flow_trigger_set_load(t->o.root, (const char *const *)t->sources, t->o.nsources,
                              (const char *const *)t->on_arrival, t->o.n_arrival, true, &next,
                              &problems, &d) < 0) {
        SL_ERROR("flow", "triggers not read again, the previous ones stay: %s", d.msg);
        sl_buf_release(&problems);
        return;
    }
    sl_buf_addc(&problems, '\0');
    if (t->problems == NULL || strcmp(t->problems, problems.data) != 0) {
        if (problems.data[0] != '\0')
            SL_ERROR("flow", "flows left out, their triggers do not run:\n%s", problems.data);
        free(t->problems);
        t->problems = sl_strdup(problems.data);
    }
    sl_buf_release(&problems);
    for (size_t i = 0; i < next.n; i++) {
        struct sync s = {&next.v[i], flow_real_clock.now_ms(NULL), NULL, false};
        bool same = false;

        /* Recorded already, unless its file changed since (or the last
         * try failed). */
        for (size_t j = 0; j < t->set.n && !same && !t->resync; j++)
            same = strcmp(t->set.v[j].machine, next.v[i].machine) == 0 &&
                   strcmp(t->set.v[j].definition, next.v[i].definition) == 0;
        if (same)
            continue;
        sl_diag_init(&d);
        if (catalog_txn_run(t->cat, CATALOG_WRITE, sync_txn, &s, &d) < 0) {
            SL_WARN("flow", "cannot record the state machine %s: %s", next.v[i].machine, d.msg);
            failed = true;
        }
        free(s.existing);
    }
    t->resync = failed;
    for (size_t i = 0; i < t->nw; i++)
        t->w[i].seen = false;
    for (size_t i = 0; i < next.n; i++)
        for (size_t j = 0; j < next.v[i].n; j++)
            watch_of(t, next.v[i].machine, next.v[i].v[j].key)->seen = true;
    for (size_t i = 0; i < t->nw;) {
        if (!t->w[i].seen) {
            watch_release(&t->w[i]);
            t->w[i] = t->w[--t->nw];
        } else {
            i++;
        }
    }
    flow_trigger_set_free(&t->set);
    t->set = next;
}

static void
poll_once(struct flow_triggers *t)
{
    struct look l = {.t = t, .now = flow_real_clock.now_ms(NULL)};
    struct sl_diag d;
    int rc;

    sl_arena_init(&l.a, 0);
    sl_diag_init(&d);
    rc = catalog_txn_run(t->cat, CATALOG_READ, look_txn, &l, &d);
    sl_arena_release(&l.a);
    if (rc < 0) {
        SL_WARN("flow", "looking at triggers: %s", d.msg);
        return;
    }
    for (size_t i = 0; i < t->set.n; i++)
        for (size_t j = 0; j < t->set.v[i].n; j++) {
            struct watch *w = watch_of(t, t->set.v[i].machine, t->set.v[i].v[j].key);

            if (w->due)
                fire(t, &t->set.v[i], &t->set.v[i].v[j], w);
        }
}

/* How long to sleep: a poll, or less if a schedule is due sooner (so a
 * schedule fires on its second, not up to a poll late). */
static int64_t
sleep_ms(struct flow_triggers *t)
{
    int64_t now = flow_real_clock.now_ms(NULL), wait = t->o.poll_ms;

    for (size_t i = 0; i < t->set.n; i++)
        for (size_t j = 0; j < t->set.v[i].n; j++) {
            const struct flow_trigger *tr = &t->set.v[i].v[j];
            struct watch *w;
            int64_t next;

            if (tr->kind != FLOW_ON_SCHEDULE)
                continue;
            w = watch_of(t, t->set.v[i].machine, tr->key);
            if (w->recorded && flow_schedule_next(tr->schedule, w->anchor, w->position, &next) &&
                next - now < wait)
                wait = next - now > 50 ? next - now : 50; /* 50 ms: a fire that
                                                            * failed is not a spin */
        }
    return wait;
}

static void
deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *
watcher_main(void *arg)
{
    struct flow_triggers *t = arg;
    int64_t last_reload = flow_real_clock.now_ms(NULL);

    pthread_mutex_lock(&t->mu);
    while (!t->stopping) {
        struct timespec until;
        int64_t now;

        t->poked = false;
        pthread_mutex_unlock(&t->mu);
        now = flow_real_clock.now_ms(NULL);
        if (now - last_reload >= t->o.reload_ms) {
            reload(t);
            last_reload = now;
        }
        poll_once(t);
        int64_t wait = sleep_ms(t);

        pthread_mutex_lock(&t->mu);
        deadline(&until, wait);
        while (!t->stopping && !t->poked &&
               pthread_cond_timedwait(&t->cond, &t->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static char **
strs_dup(const char *const *v, size_t n)
{
    char **out = sl_calloc(n + 1, sizeof(*out));

    for (size_t i = 0; i < n; i++)
        out[i] = sl_strdup(v[i]);
    return out;
}

static void
strs_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

void
flow_triggers_stop(struct flow_triggers *t)
{
    if (t == NULL)
        return;
    if (t->thread) {
        pthread_mutex_lock(&t->mu);
        t->stopping = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->thread, NULL);
    }
    for (size_t i = 0; i < t->nw; i++)
        watch_release(&t->w[i]);
    free(t->w);
    flow_trigger_set_free(&t->set);
    catalog_close(t->cat);
    store_close(t->store);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->mu);
    strs_free(t->sources, t->o.nsources);
    strs_free(t->on_arrival, t->o.n_arrival);
    free(t->problems);
    free(t);
}

int
flow_triggers_start(const struct flow_triggers_opts *o, struct flow_triggers **out,
                    struct sl_diag *d)
{
    struct flow_triggers *t = sl_calloc(1, sizeof(*t));
    pthread_condattr_t ca;
    struct sl_buf problems;
    int rc;

    *out = NULL;
    t->o = *o;
    t->sources = strs_dup(o->sources, o->nsources);
    t->on_arrival = strs_dup(o->on_arrival, o->n_arrival);
    if (t->o.poll_ms <= 0)
        t->o.poll_ms = 1000;
    if (t->o.reload_ms <= 0)
        t->o.reload_ms = 5000;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    /* A bad triggers file at start-up stops the server with its words;
     * one broken while it serves is logged and left out. */
    sl_buf_init(&problems);
    rc = flow_trigger_set_load(o->root, o->sources, o->nsources, o->on_arrival, o->n_arrival,
                               false, &t->set, NULL, d);
    flow_trigger_set_free(&t->set);
    sl_buf_release(&problems);
    if (rc == 0)
        rc = store_open(o->lake, &t->store, d);
    if (rc == 0)
        rc = catalog_open(o->catalog, 0, &t->cat, d);
    if (rc == 0) {
        reload(t);
        if (pthread_create(&t->thread, NULL, watcher_main, t) != 0)
            rc = sl_fail(d, -EAGAIN, "cannot start the trigger watcher");
    }
    if (rc < 0) {
        flow_triggers_stop(t);
        return rc;
    }
    *out = t;
    return 0;
}

void
flow_triggers_poke(struct flow_triggers *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->poked = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->mu);
}

void
flow_triggers_metrics(struct flow_triggers *t, struct sl_buf *out)
{
    if (t == NULL)
        return;
    sl_buf_addf(out, "# HELP sluice_flow_triggered_total Executions started by triggers, by "
                     "kind.\n"
                     "# TYPE sluice_flow_triggered_total counter\n");
    for (int k = 0; k < 4; k++)
        sl_buf_addf(out, "sluice_flow_triggered_total{kind=\"%s\"} %llu\n", kind_names[k],
                    (unsigned long long)atomic_load(&t->started[k]));
    sl_buf_addf(out, "# HELP sluice_flow_trigger_failures_total Triggers that could not "
                     "record their executions (tried again at the next poll).\n"
                     "# TYPE sluice_flow_trigger_failures_total counter\n"
                     "sluice_flow_trigger_failures_total %llu\n",
                (unsigned long long)atomic_load(&t->failures));
}
