/*
 * asl.c - loading a state machine: the JSON read, every field checked
 * against its state type, the graph checked (targets, reachability,
 * terminals), and the compiled form built (asl.h).
 *
 * Checking goes on past the first problem so that one load reports them
 * all; each problem is "<JSON path>: <what>".  The compiled form is only
 * handed out when there was none.
 */
#include "flow/asl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"
#include "flow/tasks.h"

#define MAX_NAME 80
#define MAX_SECONDS 99999999
#define MAX_DELAY 31622400

const char *
flow_state_type_name(enum flow_state_type t)
{
    static const char *const names[] = {"Task",    "Pass", "Choice",   "Wait",
                                        "Succeed", "Fail", "Parallel", "Map"};

    return names[t];
}

/* ---- problems ---------------------------------------------------------- */

struct load {
    struct sl_strlist *problems; /* the caller's, or own */
    struct sl_strlist own;
    size_t n;
};

static void
problem(struct load *l, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct load *l, const char *where, const char *fmt, ...)
{
    char msg[1024];
    char line[1400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "%s: %s", where, msg);
    sl_strlist_add(l->problems, line);
    l->n++;
}

/* "$.States.X" + ".Field", with names that need it quoted. */
static void
path_join(char *out, size_t size, const char *base, const char *name)
{
    bool plain = name[0] != '\0';

    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            plain = false;
    if (plain)
        snprintf(out, size, "%s.%s", base, name);
    else
        snprintf(out, size, "%s['%s']", base, name);
}

static void
path_index(char *out, size_t size, const char *base, size_t i)
{
    snprintf(out, size, "%s[%zu]", base, i);
}

/* ---- field readers ------------------------------------------------------- */

/* The fields a state type allows, beyond Type and Comment. */
struct allowed {
    const char *const *names;
};

static bool
in_list(const char *const *list, const char *s)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static void
check_fields(struct load *l, const json_t *obj, const char *where, const char *what,
             const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v) {
        char at[1024];

        if (in_list(allowed, key))
            continue;
        path_join(at, sizeof(at), where, key);
        problem(l, at, "%s has no field '%s'", what, key);
    }
}

static const char *
get_string(struct load *l, const json_t *obj, const char *key, const char *where, bool required)
{
    json_t *v = json_object_get(obj, key);
    char at[1024];

    path_join(at, sizeof(at), where, key);
    if (v == NULL) {
        if (required)
            problem(l, at, "is required");
        return NULL;
    }
    if (!json_is_string(v)) {
        problem(l, at, "must be a string");
        return NULL;
    }
    return json_string_value(v);
}

/* An integer field in [lo, hi]; dflt when absent. */
static int64_t
get_int(struct load *l, const json_t *obj, const char *key, const char *where, int64_t lo,
        int64_t hi, int64_t dflt)
{
    json_t *v = json_object_get(obj, key);
    char at[1024];

    if (v == NULL)
        return dflt;
    path_join(at, sizeof(at), where, key);
    if (!json_is_integer(v) && !(json_is_real(v) && json_real_value(v) == floor(json_real_value(v)))) {
        problem(l, at, "must be an integer");
        return dflt;
    }
    double x = json_number_value(v);
    if (x < (double)lo || x > (double)hi) {
        problem(l, at, "must be from %lld to %lld", (long long)lo, (long long)hi);
        return dflt;
    }
    return (int64_t)x;
}

static struct flow_path *
get_path(struct load *l, const json_t *obj, const char *key, const char *where, bool reference)
{
    const char *text = get_string(l, obj, key, where, false);
    struct flow_path *p = NULL;
    struct sl_diag d;
    char at[1024];

    if (text == NULL)
        return NULL;
    sl_diag_init(&d);
    if (flow_path_parse(text, reference, &p, &d) < 0) {
        path_join(at, sizeof(at), where, key);
        problem(l, at, "%s", d.msg);
        return NULL;
    }
    return p;
}

/* InputPath, OutputPath, ResultPath: a path, or null. */
static void
get_pathopt(struct load *l, const json_t *obj, const char *key, const char *where, bool reference,
            struct flow_pathopt *out)
{
    json_t *v = json_object_get(obj, key);

    memset(out, 0, sizeof(*out));
    if (v == NULL)
        return;
    out->given = true;
    if (json_is_null(v)) {
        out->null = true;
        return;
    }
    out->path = get_path(l, obj, key, where, reference);
}

/* ---- templates ------------------------------------------------------------ */

static void tmpl_release(struct flow_tmpl *t);

static bool
has_dollar_fields(const json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, x) {
            size_t n = strlen(key);

            if (n >= 2 && strcmp(key + n - 2, ".$") == 0)
                return true;
            if (has_dollar_fields(x))
                return true;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
            if (has_dollar_fields(x))
                return true;
    }
    return false;
}

static void
tmpl_compile(struct load *l, const json_t *v, const char *where, struct flow_tmpl *t)
{
    const char *key;
    json_t *x;
    size_t i;

    if (!has_dollar_fields(v)) {
        t->kind = TMPL_CONST;
        t->value = json_deep_copy(v);
        return;
    }
    if (json_is_array(v)) {
        t->kind = TMPL_ARRAY;
        t->nkids = json_array_size(v);
        t->kids = sl_calloc(t->nkids ? t->nkids : 1, sizeof(*t->kids));
        json_array_foreach(v, i, x) {
            char at[1024];

            path_index(at, sizeof(at), where, i);
            tmpl_compile(l, x, at, &t->kids[i]);
        }
        return;
    }
    t->kind = TMPL_OBJECT;
    t->nkids = json_object_size(v);
    t->kids = sl_calloc(t->nkids ? t->nkids : 1, sizeof(*t->kids));
    i = 0;
    json_object_foreach((json_t *)v, key, x) {
        struct flow_tmpl *k = &t->kids[i++];
        size_t n = strlen(key);
        char at[1024];

        path_join(at, sizeof(at), where, key);
        k->field = sl_strdup(key);
        if (n < 2 || strcmp(key + n - 2, ".$") != 0) {
            k->key = sl_strdup(key);
            tmpl_compile(l, x, at, k);
            continue;
        }
        k->key = sl_strndup(key, n - 2);
        if (!json_is_string(x)) {
            problem(l, at, "a field ending in '.$' takes a path or an intrinsic function, as a string");
            k->kind = TMPL_CONST;
            k->value = json_null();
            continue;
        }
        struct sl_diag d;
        const char *text = json_string_value(x);

        sl_diag_init(&d);
        if (flow_intrinsic_is_call(text)) {
            k->kind = TMPL_CALL;
            if (flow_intrinsic_parse(text, &k->call, &d) < 0)
                problem(l, at, "%s", d.msg);
        } else if (text[0] == '$') {
            k->kind = TMPL_PATH;
            if (flow_path_parse(text, false, &k->path, &d) < 0)
                problem(l, at, "%s", d.msg);
        } else {
            k->kind = TMPL_CONST;
            k->value = json_null();
            problem(l, at, "'%s' is neither a path (starting with '$') nor an intrinsic function "
                           "(States.Name(...))", text);
        }
    }
}

static struct flow_tmpl *
get_tmpl(struct load *l, const json_t *obj, const char *key, const char *where)
{
    json_t *v = json_object_get(obj, key);
    struct flow_tmpl *t;
    char at[1024];

    if (v == NULL)
        return NULL;
    path_join(at, sizeof(at), where, key);
    t = sl_calloc(1, sizeof(*t));
    tmpl_compile(l, v, at, t);
    return t;
}

static void
tmpl_release(struct flow_tmpl *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nkids; i++)
        tmpl_release(&t->kids[i]);
    free(t->kids);
    free(t->key);
    free(t->field);
    json_decref(t->value);
    flow_path_free(t->path);
    flow_intrinsic_free(t->call);
}

static void
tmpl_free(struct flow_tmpl *t)
{
    tmpl_release(t);
    free(t);
}

/* ---- retriers and catchers -------------------------------------------------- */

static const char *const predefined[] = {
    "States.ALL",
    "States.HeartbeatTimeout",
    "States.Timeout",
    "States.TaskFailed",
    "States.Permissions",
    "States.ResultPathMatchFailure",
    "States.ParameterPathFailure",
    "States.QueryEvaluationError",
    "States.BranchFailed",
    "States.NoChoiceMatched",
    "States.IntrinsicFailure",
    "States.ExceedToleratedFailureThreshold",
    "States.ItemReaderFailed",
    "States.ResultWriterFailed",
    "States.Runtime",
    "States.DataLimitExceeded",
    "States.Http.Socket",
    NULL,
};

/* ErrorEquals: a non-empty list of names; States.ALL alone. */
static char **
get_errors(struct load *l, const json_t *obj, const char *where, size_t *n, bool *all)
{
    json_t *v = json_object_get(obj, "ErrorEquals"), *x;
    char at[1024], at2[1100];
    char **out;
    size_t i;

    *n = 0;
    *all = false;
    path_join(at, sizeof(at), where, "ErrorEquals");
    if (v == NULL) {
        problem(l, at, "is required");
        return NULL;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        problem(l, at, "must be a non-empty array of error names");
        return NULL;
    }
    out = sl_calloc(json_array_size(v), sizeof(*out));
    json_array_foreach(v, i, x) {
        path_index(at2, sizeof(at2), at, i);
        if (!json_is_string(x)) {
            problem(l, at2, "must be an error name, as a string");
            continue;
        }
        const char *name = json_string_value(x);

        if (strncmp(name, "States.", 7) == 0 && !in_list(predefined, name))
            problem(l, at2, "'%s' is not one of the predefined errors (names starting with "
                            "'States.' are reserved)", name);
        if (strcmp(name, "States.ALL") == 0) {
            *all = true;
            if (json_array_size(v) > 1)
                problem(l, at2, "States.ALL must be alone in its ErrorEquals");
        }
        out[(*n)++] = sl_strdup(name);
    }
    return out;
}

static void
free_errors(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static const char *const retrier_fields[] = {
    "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
    "JitterStrategy", "Comment", NULL,
};

static void
get_retry(struct load *l, const json_t *obj, const char *where, struct flow_state *s)
{
    json_t *v = json_object_get(obj, "Retry"), *x;
    char at[1024], at2[1100], at3[1200];
    size_t i;

    if (v == NULL)
        return;
    path_join(at, sizeof(at), where, "Retry");
    if (!json_is_array(v)) {
        problem(l, at, "must be an array of retriers");
        return;
    }
    s->retry = sl_calloc(json_array_size(v) + 1, sizeof(*s->retry));
    json_array_foreach(v, i, x) {
        struct flow_retrier *r = &s->retry[s->nretry++];

        path_index(at2, sizeof(at2), at, i);
        r->interval_s = 1;
        r->max_attempts = 3;
        r->backoff = 2.0;
        if (!json_is_object(x)) {
            problem(l, at2, "must be an object");
            continue;
        }
        check_fields(l, x, at2, "a retrier", retrier_fields);
        if (i > 0 && s->retry[i - 1].all)
            problem(l, at2, "no retrier may follow one on States.ALL");
        r->errors = get_errors(l, x, at2, &r->nerrors, &r->all);
        r->interval_s = get_int(l, x, "IntervalSeconds", at2, 1, MAX_SECONDS, 1);
        r->max_attempts = get_int(l, x, "MaxAttempts", at2, 0, MAX_SECONDS, 3);
        r->max_delay_s = get_int(l, x, "MaxDelaySeconds", at2, 1, MAX_DELAY, 0);
        json_t *b = json_object_get(x, "BackoffRate");
        if (b != NULL) {
            path_join(at3, sizeof(at3), at2, "BackoffRate");
            if (!json_is_number(b) || json_number_value(b) < 1.0)
                problem(l, at3, "must be a number of at least 1.0");
            else
                r->backoff = json_number_value(b);
        }
        const char *j = get_string(l, x, "JitterStrategy", at2, false);
        if (j != NULL) {
            if (strcmp(j, "FULL") == 0)
                r->jitter = true;
            else if (strcmp(j, "NONE") != 0) {
                path_join(at3, sizeof(at3), at2, "JitterStrategy");
                problem(l, at3, "must be FULL or NONE");
            }
        }
    }
}

static const char *const catcher_fields[] = {"ErrorEquals", "Next", "ResultPath", "Comment", NULL};

/* Catchers; their Next names are resolved with the other targets. */
static void
get_catch(struct load *l, const json_t *obj, const char *where, struct flow_state *s)
{
    json_t *v = json_object_get(obj, "Catch"), *x;
    char at[1024], at2[1100];
    size_t i;

    if (v == NULL)
        return;
    path_join(at, sizeof(at), where, "Catch");
    if (!json_is_array(v)) {
        problem(l, at, "must be an array of catchers");
        return;
    }
    s->catch = sl_calloc(json_array_size(v) + 1, sizeof(*s->catch));
    json_array_foreach(v, i, x) {
        struct flow_catcher *c = &s->catch[s->ncatch++];

        c->next = -1;
        path_index(at2, sizeof(at2), at, i);
        if (!json_is_object(x)) {
            problem(l, at2, "must be an object");
            continue;
        }
        check_fields(l, x, at2, "a catcher", catcher_fields);
        if (i > 0 && s->catch[i - 1].all)
            problem(l, at2, "no catcher may follow one on States.ALL");
        c->errors = get_errors(l, x, at2, &c->nerrors, &c->all);
        get_string(l, x, "Next", at2, true);
        get_pathopt(l, x, "ResultPath", at2, true, &c->result);
    }
}

/* ---- states ------------------------------------------------------------- */

static const char *const task_fields[] = {
    "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters",
    "ResultSelector", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath",
    "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "QueryLanguage", NULL,
};
static const char *const pass_fields[] = {
    "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters",
    "Result", "QueryLanguage", NULL,
};
static const char *const choice_fields[] = {
    "Type", "Comment", "Choices", "Default", "InputPath", "OutputPath", "QueryLanguage", NULL,
};
static const char *const wait_fields[] = {
    "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp",
    "SecondsPath", "TimestampPath", "QueryLanguage", NULL,
};
static const char *const succeed_fields[] = {
    "Type", "Comment", "InputPath", "OutputPath", "QueryLanguage", NULL,
};
static const char *const fail_fields[] = {
    "Type", "Comment", "Error", "Cause", "ErrorPath", "CausePath", "QueryLanguage", NULL,
};
static const char *const parallel_fields[] = {
    "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters",
    "ResultSelector", "Retry", "Catch", "Branches", "QueryLanguage", NULL,
};
static const char *const map_fields[] = {
    "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "ItemsPath",
    "ItemSelector", "Parameters", "ResultSelector", "Retry", "Catch", "ItemProcessor", "Iterator",
    "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath",
    "Label", "QueryLanguage", NULL,
};

static struct flow_machine *load_machine(struct load *l, const json_t *def, const char *where,
                                         bool top);

/* An RFC 3339 timestamp as ms since the epoch, as Wait takes it. */
static bool
parse_timestamp(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, n = 0;
    int64_t frac = 0, scale = 1000;
    const char *p;
    int off = 0;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    p = s + n;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
        }
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;

        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || strlen(p) != 6 || oh > 23 || om > 59)
            return false;
        off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    int64_t days = sl_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)off * 60) * 1000 + frac;
    return true;
}

bool
flow_parse_timestamp(const char *s, int64_t *ms)
{
    return parse_timestamp(s, ms);
}

static void
load_task(struct load *l, const json_t *obj, const char *where, struct flow_state *s)
{
    const char *res = get_string(l, obj, "Resource", where, true);
    char at[1024];

    if (res != NULL) {
        s->resource = sl_strdup(res);
        s->task = flow_tasks_find(res);
        if (s->task == NULL) {
            char known[2048];

            flow_tasks_list(known, sizeof(known));
            path_join(at, sizeof(at), where, "Resource");
            problem(l, at, "'%s' is not a task sluice runs (it runs %s)", res, known);
        }
    }
    s->timeout_s = get_int(l, obj, "TimeoutSeconds", where, 1, MAX_SECONDS, 0);
    s->heartbeat_s = get_int(l, obj, "HeartbeatSeconds", where, 1, MAX_SECONDS, 0);
    s->timeout_path = get_path(l, obj, "TimeoutSecondsPath", where, true);
    s->heartbeat_path = get_path(l, obj, "HeartbeatSecondsPath", where, true);
    if (json_object_get(obj, "TimeoutSeconds") && json_object_get(obj, "TimeoutSecondsPath"))
        problem(l, where, "takes TimeoutSeconds or TimeoutSecondsPath, not both");
    if (json_object_get(obj, "HeartbeatSeconds") && json_object_get(obj, "HeartbeatSecondsPath"))
        problem(l, where, "takes HeartbeatSeconds or HeartbeatSecondsPath, not both");
    if (s->heartbeat_s > 0 && s->heartbeat_s >= (s->timeout_s > 0 ? s->timeout_s : MAX_SECONDS)) {
        path_join(at, sizeof(at), where, "HeartbeatSeconds");
        problem(l, at, "must be less than TimeoutSeconds (%lld)",
                (long long)(s->timeout_s > 0 ? s->timeout_s : MAX_SECONDS));
    }
}

static void
load_wait(struct load *l, const json_t *obj, const char *where, struct flow_state *s)
{
    int given = 0;
    char at[1024];

    s->wait_seconds = -1;
    if (json_object_get(obj, "Seconds") != NULL) {
        given++;
        s->wait_seconds = get_int(l, obj, "Seconds", where, 0, MAX_SECONDS, 0);
    }
    if (json_object_get(obj, "Timestamp") != NULL) {
        const char *ts = get_string(l, obj, "Timestamp", where, false);

        given++;
        if (ts != NULL) {
            s->wait_timestamp = sl_strdup(ts);
            if (!parse_timestamp(ts, &s->wait_timestamp_ms)) {
                path_join(at, sizeof(at), where, "Timestamp");
                problem(l, at, "'%s' is not an RFC 3339 timestamp (such as 2026-08-18T17:33:00Z)",
                        ts);
            }
        }
    }
    if (json_object_get(obj, "SecondsPath") != NULL) {
        given++;
        s->wait_seconds_path = get_path(l, obj, "SecondsPath", where, true);
    }
    if (json_object_get(obj, "TimestampPath") != NULL) {
        given++;
        s->wait_timestamp_path = get_path(l, obj, "TimestampPath", where, true);
    }
    if (given != 1)
        problem(l, where, "a Wait state takes exactly one of Seconds, Timestamp, SecondsPath and "
                          "TimestampPath (it has %d)", given);
}

/* Error/ErrorPath, Cause/CausePath: a string, or a path or call. */
static void
load_fail_field(struct load *l, const json_t *obj, const char *where, const char *name,
                char **text, struct flow_path **path, struct flow_intrinsic **call)
{
    char pname[64], at[1024];
    const char *s;

    snprintf(pname, sizeof(pname), "%sPath", name);
    *text = NULL;
    s = get_string(l, obj, name, where, false);
    if (s != NULL)
        *text = sl_strdup(s);
    s = get_string(l, obj, pname, where, false);
    if (s == NULL)
        return;
    path_join(at, sizeof(at), where, pname);
    if (*text != NULL)
        problem(l, where, "takes %s or %s, not both", name, pname);
    struct sl_diag d;

    sl_diag_init(&d);
    if (flow_intrinsic_is_call(s)) {
        if (flow_intrinsic_parse(s, call, &d) < 0)
            problem(l, at, "%s", d.msg);
    } else if (flow_path_parse(s, true, path, &d) < 0) {
        problem(l, at, "%s", d.msg);
    }
}

static void
load_choice(struct load *l, const json_t *obj, const char *where, struct flow_state *s)
{
    json_t *v = json_object_get(obj, "Choices"), *x;
    char at[1024], at2[1100];
    size_t i;

    s->default_next = -1;
    path_join(at, sizeof(at), where, "Choices");
    if (v == NULL) {
        problem(l, at, "is required");
        return;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        problem(l, at, "must be a non-empty array of rules");
        return;
    }
    s->choices = sl_calloc(json_array_size(v), sizeof(*s->choices));
    s->choice_next = sl_calloc(json_array_size(v), sizeof(*s->choice_next));
    json_array_foreach(v, i, x) {
        struct sl_diag d;

        path_index(at2, sizeof(at2), at, i);
        sl_diag_init(&d);
        s->choice_next[i] = -1;
        if (flow_choice_compile(x, at2, true, &s->choices[s->nchoices], &d) < 0) {
            /* The compiler's messages already carry the path. */
            sl_strlist_add(l->problems, d.msg);
            l->n++;
            continue;
        }
        s->nchoices++;
    }
    get_string(l, obj, "Default", where, false);
}

static void
load_map(struct load *l, const json_t *obj, const char *where, struct flow_state *s)
{
    json_t *proc = json_object_get(obj, "ItemProcessor");
    json_t *iter = json_object_get(obj, "Iterator");
    char at[1024];

    s->items_path = get_path(l, obj, "ItemsPath", where, true);
    s->max_concurrency = get_int(l, obj, "MaxConcurrency", where, 0, MAX_SECONDS, 0);
    s->max_concurrency_path = get_path(l, obj, "MaxConcurrencyPath", where, true);
    s->tolerated_pct = -1;
    s->tolerated_count = get_int(l, obj, "ToleratedFailureCount", where, 0, MAX_SECONDS, -1);
    s->tolerated_pct_path = get_path(l, obj, "ToleratedFailurePercentagePath", where, true);
    s->tolerated_count_path = get_path(l, obj, "ToleratedFailureCountPath", where, true);
    json_t *pct = json_object_get(obj, "ToleratedFailurePercentage");
    if (pct != NULL) {
        path_join(at, sizeof(at), where, "ToleratedFailurePercentage");
        if (!json_is_number(pct) || json_number_value(pct) < 0 || json_number_value(pct) > 100)
            problem(l, at, "must be a number from 0 to 100");
        else
            s->tolerated_pct = json_number_value(pct);
    }
    if (json_object_get(obj, "ItemSelector") && json_object_get(obj, "Parameters"))
        problem(l, where, "takes ItemSelector or Parameters (its older name), not both");
    s->parameters = get_tmpl(l, obj, json_object_get(obj, "ItemSelector") ? "ItemSelector"
                                                                             : "Parameters",
                             where);
    if ((proc == NULL) == (iter == NULL)) {
        problem(l, where, "a Map state takes exactly one of ItemProcessor and Iterator (its "
                          "older name)");
        return;
    }
    const char *name = proc ? "ItemProcessor" : "Iterator";
    json_t *def = proc ? proc : iter;

    path_join(at, sizeof(at), where, name);
    if (!json_is_object(def)) {
        problem(l, at, "must be an object with StartAt and States");
        return;
    }
    json_t *cfg = json_object_get(def, "ProcessorConfig");
    if (cfg != NULL) {
        char at2[1100];
        static const char *const cfg_fields[] = {"Mode", "ExecutionType", NULL};

        path_join(at2, sizeof(at2), at, "ProcessorConfig");
        if (!json_is_object(cfg)) {
            problem(l, at2, "must be an object");
        } else {
            const char *mode = get_string(l, cfg, "Mode", at2, false);

            check_fields(l, cfg, at2, "ProcessorConfig", cfg_fields);
            if (mode != NULL && strcmp(mode, "INLINE") != 0) {
                char at3[1200];

                path_join(at3, sizeof(at3), at2, "Mode");
                problem(l, at3, "'%s': sluice runs INLINE maps only (a DISTRIBUTED map's "
                                "child executions and S3 item readers are not built)", mode);
            }
        }
    }
    s->processor = load_machine(l, def, at, false);
}

static void
load_parallel(struct load *l, const json_t *obj, const char *where, struct flow_state *s)
{
    json_t *v = json_object_get(obj, "Branches"), *x;
    char at[1024], at2[1100];
    size_t i;

    path_join(at, sizeof(at), where, "Branches");
    if (v == NULL) {
        problem(l, at, "is required");
        return;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        problem(l, at, "must be a non-empty array of branches");
        return;
    }
    s->branches = sl_calloc(json_array_size(v), sizeof(*s->branches));
    json_array_foreach(v, i, x) {
        path_index(at2, sizeof(at2), at, i);
        if (!json_is_object(x)) {
            problem(l, at2, "must be an object with StartAt and States");
            continue;
        }
        struct flow_machine *b = load_machine(l, x, at2, false);

        if (b != NULL)
            s->branches[s->nbranches++] = b;
    }
}

static void
load_state(struct load *l, const char *name, const json_t *obj, const char *where,
           struct flow_state *s)
{
    static const struct {
        const char *name;
        enum flow_state_type type;
        const char *const *fields;
    } types[] = {
        {"Task", FLOW_TASK, task_fields},
        {"Pass", FLOW_PASS, pass_fields},
        {"Choice", FLOW_CHOICE, choice_fields},
        {"Wait", FLOW_WAIT, wait_fields},
        {"Succeed", FLOW_SUCCEED, succeed_fields},
        {"Fail", FLOW_FAIL, fail_fields},
        {"Parallel", FLOW_PARALLEL, parallel_fields},
        {"Map", FLOW_MAP, map_fields},
    };
    const char *type = get_string(l, obj, "Type", where, true);
    size_t t;
    char at[1024];

    s->name = sl_strdup(name);
    s->next = -1;
    s->default_next = -1;
    s->wait_seconds = -1;
    s->tolerated_pct = -1;
    s->tolerated_count = -1;
    if (strlen(name) > MAX_NAME)
        problem(l, where, "a state's name is at most %d characters", MAX_NAME);
    if (type == NULL)
        return;
    for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
        if (strcmp(types[t].name, type) == 0)
            break;
    if (t == sizeof(types) / sizeof(types[0])) {
        path_join(at, sizeof(at), where, "Type");
        problem(l, at, "'%s' is not a state type (Task, Pass, Choice, Wait, Succeed, Fail, "
                       "Parallel, Map)", type);
        return;
    }
    s->type = types[t].type;
    check_fields(l, obj, where, type, types[t].fields);
    const char *ql = get_string(l, obj, "QueryLanguage", where, false);
    if (ql != NULL && strcmp(ql, "JSONPath") != 0) {
        path_join(at, sizeof(at), where, "QueryLanguage");
        problem(l, at, "'%s': sluice runs JSONPath states only", ql);
    }

    /* Next and End: exactly one for the types that go on. */
    bool goes_on = s->type == FLOW_TASK || s->type == FLOW_PASS || s->type == FLOW_WAIT ||
                   s->type == FLOW_PARALLEL || s->type == FLOW_MAP;
    json_t *end = json_object_get(obj, "End");
    bool has_next = json_object_get(obj, "Next") != NULL;

    get_string(l, obj, "Next", where, false);
    if (end != NULL) {
        path_join(at, sizeof(at), where, "End");
        if (!json_is_true(end))
            problem(l, at, "must be true when given");
        else
            s->end = true;
    }
    if (goes_on && has_next == s->end)
        problem(l, where, has_next ? "takes Next or End, not both"
                                   : "a %s state needs Next or End: true", type);

    get_pathopt(l, obj, "InputPath", where, false, &s->input);
    get_pathopt(l, obj, "OutputPath", where, false, &s->output);
    get_pathopt(l, obj, "ResultPath", where, true, &s->result);
    if (s->type != FLOW_MAP) {
        s->parameters = get_tmpl(l, obj, "Parameters", where);
    }
    s->result_selector = get_tmpl(l, obj, "ResultSelector", where);
    get_retry(l, obj, where, s);
    get_catch(l, obj, where, s);

    switch (s->type) {
    case FLOW_TASK:
        load_task(l, obj, where, s);
        break;
    case FLOW_PASS: {
        json_t *r = json_object_get(obj, "Result");

        if (r != NULL)
            s->result_value = json_deep_copy(r);
        break;
    }
    case FLOW_CHOICE:
        load_choice(l, obj, where, s);
        break;
    case FLOW_WAIT:
        load_wait(l, obj, where, s);
        break;
    case FLOW_SUCCEED:
        break;
    case FLOW_FAIL:
        load_fail_field(l, obj, where, "Error", &s->error, &s->error_path, &s->error_call);
        load_fail_field(l, obj, where, "Cause", &s->cause, &s->cause_path, &s->cause_call);
        break;
    case FLOW_PARALLEL:
        load_parallel(l, obj, where, s);
        break;
    case FLOW_MAP:
        load_map(l, obj, where, s);
        break;
    }
}

/* ---- the graph ------------------------------------------------------------- */

/* qsort's and bsearch's comparison needs the machine: one load at a
 * time per thread sorts. */
static _Thread_local const struct flow_machine *sorting;

static int
by_name(const void *a, const void *b)
{
    return strcmp(sorting->states[*(const int *)a].name, sorting->states[*(const int *)b].name);
}

/* Sort the states' indexes by name (m->by_name). */
static void
index_names(struct flow_machine *m)
{
    m->by_name = sl_calloc(m->nstates + 1, sizeof(*m->by_name));
    for (size_t i = 0; i < m->nstates; i++)
        m->by_name[i] = (int)i;
    sorting = m;
    qsort(m->by_name, m->nstates, sizeof(*m->by_name), by_name);
    sorting = NULL;
}

static int
find(const struct flow_machine *m, const char *name)
{
    size_t lo = 0, hi = m->nstates;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->states[m->by_name[mid]].name, name);

        if (c == 0)
            return m->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int
flow_machine_find(const struct flow_machine *m, const char *name)
{
    return find(m, name);
}

/* A Next-like field's target, reported if missing. */
static int
target(struct load *l, const struct flow_machine *m, const json_t *obj, const char *key,
       const char *where)
{
    json_t *v = json_object_get(obj, key);
    char at[1024];
    int i;

    if (!json_is_string(v))
        return -1;
    i = find(m, json_string_value(v));
    if (i < 0) {
        path_join(at, sizeof(at), where, key);
        problem(l, at, "'%s' is not a state of this machine", json_string_value(v));
    }
    return i;
}

static void
link_states(struct load *l, struct flow_machine *m, const json_t *states, const char *where)
{
    for (size_t i = 0; i < m->nstates; i++) {
        struct flow_state *s = &m->states[i];
        const json_t *obj = json_object_get(states, s->name);
        char at[1024];

        path_join(at, sizeof(at), where, s->name);
        if (!json_is_object(obj))
            continue;
        s->next = target(l, m, obj, "Next", at);
        if (s->type == FLOW_CHOICE) {
            json_t *choices = json_object_get(obj, "Choices");

            s->default_next = target(l, m, obj, "Default", at);
            for (size_t c = 0; c < s->nchoices; c++) {
                const char *next = flow_choice_next(s->choices[c]);
                char at2[1100];

                (void)choices;
                s->choice_next[c] = next ? find(m, next) : -1;
                if (next != NULL && s->choice_next[c] < 0) {
                    snprintf(at2, sizeof(at2), "%s.Choices[%zu].Next", at, c);
                    problem(l, at2, "'%s' is not a state of this machine", next);
                }
            }
        }
        json_t *catch = json_object_get(obj, "Catch");
        for (size_t c = 0; c < s->ncatch; c++) {
            char at2[1100];

            snprintf(at2, sizeof(at2), "%s.Catch[%zu]", at, c);
            s->catch[c].next = target(l, m, json_array_get(catch, c), "Next", at2);
        }
    }
}

static void
reach(const struct flow_machine *m, int i, bool *seen)
{
    while (i >= 0 && !seen[i]) {
        const struct flow_state *s = &m->states[i];

        seen[i] = true;
        for (size_t c = 0; c < s->ncatch; c++)
            reach(m, s->catch[c].next, seen);
        for (size_t c = 0; c < s->nchoices; c++)
            reach(m, s->choice_next[c], seen);
        reach(m, s->default_next, seen);
        i = s->next;
    }
}

static const char *const machine_fields[] = {
    "Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage", NULL,
};
static const char *const branch_fields[] = {"Comment", "StartAt", "States", NULL};
static const char *const processor_fields[] = {
    "Comment", "StartAt", "States", "ProcessorConfig", NULL,
};

static struct flow_machine *
load_machine(struct load *l, const json_t *def, const char *where, bool top)
{
    struct flow_machine *m = sl_calloc(1, sizeof(*m));
    const char *start, *key;
    json_t *states, *v;
    char at[1024];
    size_t i;

    check_fields(l, def, where[0] ? where : "$",
                 top ? "a state machine" : "a branch or item processor",
                 top ? machine_fields
                     : (strstr(where, "Branches") ? branch_fields : processor_fields));
    start = get_string(l, def, "StartAt", where, true);
    if (top) {
        const char *ql = get_string(l, def, "QueryLanguage", where, false);
        const char *ver = get_string(l, def, "Version", where, false);

        if (ql != NULL && strcmp(ql, "JSONPath") != 0)
            problem(l, "$.QueryLanguage", "'%s': sluice runs JSONPath machines only", ql);
        if (ver != NULL && strcmp(ver, "1.0") != 0)
            problem(l, "$.Version", "'%s': the language's only version is \"1.0\"", ver);
        m->timeout_s = get_int(l, def, "TimeoutSeconds", where, 1, MAX_SECONDS, 0);
    }
    const char *comment = get_string(l, def, "Comment", where, false);
    if (comment != NULL)
        m->comment = sl_strdup(comment);
    states = json_object_get(def, "States");
    path_join(at, sizeof(at), where, "States");
    if (states == NULL) {
        problem(l, at, "is required");
        return m;
    }
    if (!json_is_object(states) || json_object_size(states) == 0) {
        problem(l, at, "must be an object naming at least one state");
        return m;
    }
    m->states = sl_calloc(json_object_size(states), sizeof(*m->states));
    i = 0;
    json_object_foreach(states, key, v) {
        char at2[1100];

        path_join(at2, sizeof(at2), at, key);
        if (!json_is_object(v)) {
            problem(l, at2, "a state must be an object");
            continue;
        }
        load_state(l, key, v, at2, &m->states[m->nstates++]);
        i++;
    }
    index_names(m);
    link_states(l, m, states, at);
    m->start = -1;
    if (start != NULL) {
        m->start = find(m, start);
        if (m->start < 0) {
            path_join(at, sizeof(at), where, "StartAt");
            problem(l, at, "'%s' is not a state of this machine", start);
        }
    }
    if (m->start >= 0) {
        bool *seen = sl_calloc(m->nstates, sizeof(*seen));

        reach(m, m->start, seen);
        for (i = 0; i < m->nstates; i++) {
            char at2[1100];

            if (seen[i] || !json_is_object(json_object_get(states, m->states[i].name)))
                continue;
            path_join(at2, sizeof(at2), at, m->states[i].name);
            problem(l, at2, "cannot be reached from StartAt");
        }
        free(seen);
    }
    return m;
}

/* ---- loading and freeing ----------------------------------------------------- */

int
flow_machine_load(const char *text, size_t len, const char *where, struct flow_machine **out,
                  struct sl_strlist *problems, struct sl_diag *d)
{
    struct load l = {.problems = problems};
    json_error_t jerr;
    json_t *def;
    struct flow_machine *m;

    *out = NULL;
    if (l.problems == NULL)
        l.problems = &l.own;
    def = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (def == NULL) {
        sl_fail(d, SL_ERR_INPUT, "%s: not valid JSON at line %d, column %d: %s", where,
                jerr.line, jerr.column, jerr.text);
        sl_diag_at(d, where, jerr.line, 0, NULL);
        sl_strlist_add(l.problems, d->msg);
        sl_strlist_release(&l.own);
        return SL_ERR_INPUT;
    }
    if (!json_is_object(def)) {
        json_decref(def);
        sl_strlist_add(l.problems, "$: a state machine is a JSON object");
        sl_strlist_release(&l.own);
        return sl_fail(d, SL_ERR_INPUT, "%s: a state machine is a JSON object", where);
    }
    m = load_machine(&l, def, "$", true);
    json_decref(def);
    if (l.n > 0) {
        sl_fail(d, SL_ERR_INPUT, "%s: %s", where, l.problems->v[l.problems->n - l.n]);
        if (l.n > 1) {
            char more[SL_DIAG_AUX] = "";
            size_t used = 0;

            for (size_t i = l.problems->n - l.n + 1; i < l.problems->n && used < sizeof(more); i++)
                used += (size_t)snprintf(more + used, sizeof(more) - used, "%s%s",
                                         used ? "; " : "", l.problems->v[i]);
            sl_diag_detail(d, "%zu problems in all; also %s.", l.n, more);
        }
        sl_diag_at(d, where, 0, 0, NULL);
        flow_machine_free(m);
        sl_strlist_release(&l.own);
        return SL_ERR_INPUT;
    }
    sl_strlist_release(&l.own);
    *out = m;
    return 0;
}

static void
state_release(struct flow_state *s)
{
    free(s->name);
    flow_path_free(s->input.path);
    flow_path_free(s->output.path);
    flow_path_free(s->result.path);
    tmpl_free(s->parameters);
    tmpl_free(s->result_selector);
    for (size_t i = 0; i < s->nretry; i++)
        free_errors(s->retry[i].errors, s->retry[i].nerrors);
    free(s->retry);
    for (size_t i = 0; i < s->ncatch; i++) {
        free_errors(s->catch[i].errors, s->catch[i].nerrors);
        flow_path_free(s->catch[i].result.path);
    }
    free(s->catch);
    json_decref(s->result_value);
    free(s->resource);
    flow_path_free(s->timeout_path);
    flow_path_free(s->heartbeat_path);
    for (size_t i = 0; i < s->nchoices; i++)
        flow_choice_free(s->choices[i]);
    free(s->choices);
    free(s->choice_next);
    free(s->wait_timestamp);
    flow_path_free(s->wait_seconds_path);
    flow_path_free(s->wait_timestamp_path);
    free(s->error);
    free(s->cause);
    flow_path_free(s->error_path);
    flow_path_free(s->cause_path);
    flow_intrinsic_free(s->error_call);
    flow_intrinsic_free(s->cause_call);
    for (size_t i = 0; i < s->nbranches; i++)
        flow_machine_free(s->branches[i]);
    free(s->branches);
    flow_machine_free(s->processor);
    flow_path_free(s->items_path);
    flow_path_free(s->max_concurrency_path);
    flow_path_free(s->tolerated_pct_path);
    flow_path_free(s->tolerated_count_path);
}

void
flow_machine_free(struct flow_machine *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nstates; i++)
        state_release(&m->states[i]);
    free(m->states);
    free(m->by_name);
    free(m->comment);
    free(m);
}
