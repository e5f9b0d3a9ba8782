/*
 * asl.h - a state machine in Amazon States Language (JSONPath mode),
 * loaded, validated and compiled for the executor (exec.h).
 *
 *     { "StartAt": "Load",
 *       "States": {
 *         "Load":  { "Type": "Task", "Resource": "arn:aws:states:::sluice:transform",
 *                    "Parameters": { "source.$": "$.source" },
 *                    "Retry": [ { "ErrorEquals": ["States.ALL"], "MaxAttempts": 2 } ],
 *                    "Next": "Enough?" },
 *         "Enough?": { "Type": "Choice", "Default": "Done",
 *                      "Choices": [ { "Variable": "$.rows", "NumericGreaterThan": 0,
 *                                     "Next": "Build" } ] },
 *         ... } }
 *
 * Loading checks everything that does not need an execution, and reports
 * every problem it finds, each as "<JSON path in the definition>: <what is
 * wrong>" (for example "$.States.Load.Retry[1].ErrorEquals: States.ALL
 * must be alone"): unknown state types and fields, fields of the wrong
 * type or range, a missing or extra Next/End, a Next to no state,
 * unreachable states, paths and intrinsic calls that do not parse, a
 * retrier or catcher after one on States.ALL, and Task resources sluice
 * does not run (tasks.h).
 *
 * A compiled machine is read-only: any number of executions may run it at
 * once.  States refer to each other by index; Parallel branches and Map
 * processors are machines of their own, with their own names.
 */
#ifndef SL_FLOW_ASL_H
#define SL_FLOW_ASL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/strlist.h"
#include "flow/choice.h"
#include "flow/intrinsic.h"
#include "flow/path.h"

struct flow_task;

enum flow_state_type {
    FLOW_TASK,
    FLOW_PASS,
    FLOW_CHOICE,
    FLOW_WAIT,
    FLOW_SUCCEED,
    FLOW_FAIL,
    FLOW_PARALLEL,
    FLOW_MAP,
};

/* Its name as the history spells it ("Task", "Pass", ...). */
const char *flow_state_type_name(enum flow_state_type t);

/*
 * A JSON template with ".$" fields (Parameters, ResultSelector,
 * ItemSelector): a tree mirroring the JSON, whose leaves are constants,
 * paths or intrinsic calls.  A subtree without ".$" fields is one constant.
 */
enum flow_tmpl_kind { TMPL_CONST, TMPL_PATH, TMPL_CALL, TMPL_OBJECT, TMPL_ARRAY };

struct flow_tmpl {
    enum flow_tmpl_kind kind;
    char *key;                   /* in an object: the output key, ".$" dropped */
    char *field;                 /* in an object: the key as written */
    json_t *value;               /* TMPL_CONST */
    struct flow_path *path;      /* TMPL_PATH */
    struct flow_intrinsic *call; /* TMPL_CALL */
    struct flow_tmpl *kids;      /* TMPL_OBJECT, TMPL_ARRAY */
    size_t nkids;
};

/* A path field that may also be null (InputPath, ResultPath, OutputPath). */
struct flow_pathopt {
    bool given;             /* the field is in the definition */
    bool null;              /* it is null */
    struct flow_path *path; /* else this; NULL when not given ("$") */
};

struct flow_retrier {
    char **errors;
    size_t nerrors;
    bool all;             /* ErrorEquals is ["States.ALL"] */
    int64_t interval_s;   /* IntervalSeconds, 1 */
    int64_t max_attempts; /* MaxAttempts, 3 */
    double backoff;       /* BackoffRate, 2.0 */
    int64_t max_delay_s;  /* MaxDelaySeconds; 0: none */
    bool jitter;          /* JitterStrategy FULL */
};

struct flow_catcher {
    char **errors;
    size_t nerrors;
    bool all;
    int next;                   /* the state it goes to */
    struct flow_pathopt result; /* ResultPath, "$" by default */
};

struct flow_machine;

struct flow_state {
    char *name;
    enum flow_state_type type;
    int next; /* Next's index; -1 with End, and for the terminal types */
    bool end;

    struct flow_pathopt input, output, result;
    struct flow_tmpl *parameters;      /* Task, Pass, Parallel; Map: ItemSelector */
    struct flow_tmpl *result_selector; /* Task, Parallel, Map */

    struct flow_retrier *retry;
    size_t nretry;
    struct flow_catcher *catch;
    size_t ncatch;

    /* Pass */
    json_t *result_value; /* Result */

    /* Task */
    char *resource;
    const struct flow_task *task;
    int64_t timeout_s, heartbeat_s;     /* 0: none given */
    struct flow_path *timeout_path, *heartbeat_path;

    /* Choice */
    struct flow_choice **choices;
    int *choice_next;
    size_t nchoices;
    int default_next; /* -1: none */

    /* Wait */
    int64_t wait_seconds; /* -1: not given */
    char *wait_timestamp;
    int64_t wait_timestamp_ms;
    struct flow_path *wait_seconds_path, *wait_timestamp_path;

    /* Fail */
    char *error, *cause;
    struct flow_path *error_path, *cause_path;
    struct flow_intrinsic *error_call, *cause_call;

    /* Parallel */
    struct flow_machine **branches;
    size_t nbranches;

    /* Map */
    struct flow_machine *processor;
    struct flow_path *items_path;
    int64_t max_concurrency;
    struct flow_path *max_concurrency_path;
    double tolerated_pct;  /* -1: not given */
    int64_t tolerated_count; /* -1: not given */
    struct flow_path *tolerated_pct_path, *tolerated_count_path;
};

struct flow_machine {
    char *comment;
    int start;
    struct flow_state *states;
    size_t nstates;
    int64_t timeout_s; /* TimeoutSeconds; 0: none */
    int *by_name;      /* the states' indexes in order of name, for finding */
};

/*
 * Load a definition (JSON text).  On failure every problem is added to
 * problems (if not NULL) and d carries the first, with the count; *out is
 * NULL.  where names the definition for messages (a file, a machine name).
 */
int flow_machine_load(const char *text, size_t len, const char *where, struct flow_machine **out,
                      struct sl_strlist *problems, struct sl_diag *d);
void flow_machine_free(struct flow_machine *m);

/* An RFC 3339 timestamp (as Wait takes it) as ms since the epoch. */
bool flow_parse_timestamp(const char *s, int64_t *ms);

/* The index of the state called name in m, or -1. */
int flow_machine_find(const struct flow_machine *m, const char *name);

#endif
