/*
 * gate.c - quality gates (see gate.h).
 */
#include "quality/gate.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/mem.h"
#include "quality/alert.h"
#include "quality/dqdl.h"
#include "quality/eval.h"
#include "core/banned.h"

/* A ruleset file's size at most. */
#define MAX_RULESET ((size_t)1 << 20)

static char *
ruleset_path(const char *root, const char *table)
{
    return sl_printf("%s/quality/%s.dqdl", root, table);
}

bool
quality_gate_applies(const char *root, const char *table)
{
    char *path = ruleset_path(root, table);
    bool yes = sl_exists(path);

    free(path);
    return yes;
}

/* A failed (or unrunnable) top-level rule, as an alert's line. */
static void
alert_line(struct sl_buf *b, const struct dq_result *r)
{
    sl_buf_addf(b, "\n• `%s`", r->rule->text);
    if (r->has_metric && isfinite(r->metric))
        sl_buf_addf(b, ": observed %.10g", r->metric);
    if (r->reason[0] != '\0')
        sl_buf_addf(b, "%s%s", r->has_metric ? ", " : ": ", r->reason);
}

/* What one table's gate found. */
struct table_verdict {
    enum quality_verdict verdict;
    size_t passed, failed;          /* rules */
    bool drifted;                   /* the run's schema drift counts against it */
    struct sl_buf lines;            /* the failed rules, for the alert */
    char why[512];                  /* the gate could not evaluate: why */
    bool nonblocking;               /* its product says blocking: false */
};

/* The run's schema drift, when the ruleset says it counts. */
static void
drift_verdict(struct quality_gate *g, const struct dq_ruleset *rs, struct table_verdict *tv)
{
    struct sl_buf lines;
    struct sl_diag d;
    enum quality_verdict v = rs->drift == DQ_DRIFT_BLOCK ? QUALITY_HELD : QUALITY_WARNED;
    int n;

    sl_buf_init(&lines);
    sl_diag_init(&d);
    n = g->drift(g->drift_arg, g->run_id, &lines, &d);
    if (n < 0) {
        /* Unknown drift is not no drift. */
        sl_buf_addf(&tv->lines, "\n• schema drift could not be read: %s", d.msg);
        n = 1;
    } else {
        for (const char *p = lines.data; p != NULL && *p != '\0';) {
            size_t len = strcspn(p, "\n");

            sl_buf_addf(&tv->lines, "\n• schema drift: %.*s", (int)len, p);
            p += len + (p[len] == '\n');
        }
    }
    if (n > 0) {
        tv->drifted = true;
        if (v > tv->verdict)
            tv->verdict = v;
    }
    sl_buf_release(&lines);
}

static void
evaluate(struct quality_gate *g, struct engine *e, const char *table, struct table_verdict *tv)
{
    struct quality_check k = {.e = e, .cat = g->cat, .store = g->store, .views = g->views,
                              .views_arg = g->views_arg, .run_id = g->run_id,
                              .profile_all = true};
    struct dq_ruleset rs = {0};
    struct dq_report rep = {0};
    struct sl_buf text;
    struct sl_diag d;
    char *path = ruleset_path(g->root, table);
    int rc;

    sl_buf_init(&text);
    sl_diag_init(&d);
    rc = sl_read_file(path, MAX_RULESET, &text, &d);
    if (rc == 0)
        rc = dq_parse(path, text.data ? text.data : "", text.len, &rs, &d);
    if (rc == 0)
        rc = quality_check_target(&k, table, &d);
    if (rc == 0)
        rc = quality_check_bind_declared(&k, &rs, &d);
    if (rc == 0) {
        const char *key[64];
        size_t nkey = g->key != NULL ? g->key(g->key_arg, table, key) : 0;

        rc = quality_check_run(&k, &rs, key, nkey, &rep, &d);
    }
    if (rc < 0) {
        sl_diag_format(&d, tv->why, sizeof(tv->why));
        tv->verdict = QUALITY_HELD;
    } else {
        tv->passed = rep.passed;
        tv->failed = rep.failed + rep.errors;
        for (size_t i = 0; i < rep.n; i++)
            if (rep.results[i].outcome != DQ_PASSED)
                alert_line(&tv->lines, &rep.results[i]);
        const struct product *pr = project_product_find(g->products, g->nproducts, table);

        tv->nonblocking = pr != NULL && !pr->blocking;
        tv->verdict = tv->failed == 0                              ? QUALITY_PASSED
                      : rs.severity == DQ_WARN || tv->nonblocking ? QUALITY_WARNED
                                                                  : QUALITY_HELD;
        if (rs.drift != DQ_DRIFT_IGNORE && g->drift != NULL)
            drift_verdict(g, &rs, tv);
        /* a product declared not blocking: its failures are warnings */
        if (tv->nonblocking && tv->verdict == QUALITY_HELD)
            tv->verdict = QUALITY_WARNED;
    }
    dq_report_free(&rep);
    dq_free(&rs);
    quality_check_release(&k);
    sl_buf_release(&text);
    free(path);
}

static const char *
verdict_name(enum quality_verdict v)
{
    switch (v) {
    case QUALITY_PASSED:
        return "passed";
    case QUALITY_WARNED:
        return "passed with warnings";
    case QUALITY_HELD:
        return "held";
    default:
        return "no gate";
    }
}

int
quality_gate_run(struct quality_gate *g, const char *const *tables, size_t n,
                 enum quality_verdict *verdict, struct sl_buf *report, struct sl_diag *d)
{
    struct engine *e = NULL;
    int rc = 0;

    *verdict = QUALITY_NO_GATE;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct table_verdict tv = {0};
        struct sl_diag ed;

        if (!quality_gate_applies(g->root, tables[i]))
            continue;
        sl_buf_init(&tv.lines);
        sl_diag_init(&ed);
        if (e == NULL && engine_open(&g->eo, &e, &ed) < 0) {
            tv.verdict = QUALITY_HELD;
            sl_diag_format(&ed, tv.why, sizeof(tv.why));
        } else {
            evaluate(g, e, tables[i], &tv);
        }
        if (tv.verdict > *verdict)
            *verdict = tv.verdict;
        if (report != NULL) {
            if (tv.why[0] != '\0')
                sl_buf_addf(report, "gate %s: held, the rules could not be evaluated: %s\n",
                            tables[i], tv.why);
            else
                sl_buf_addf(report, "gate %s: %zu passed, %zu failed%s: %s\n", tables[i],
                            tv.passed, tv.failed, tv.drifted ? ", schema drift" : "",
                            verdict_name(tv.verdict));
        }
        if (tv.verdict == QUALITY_HELD || tv.verdict == QUALITY_WARNED) {
            bool held = tv.verdict == QUALITY_HELD;
            struct sl_buf text;

            sl_buf_init(&text);
            if (tv.why[0] != '\0')
                sl_buf_addf(&text, ":no_entry: sluice held run %" PRId64 " of %s (%s): its "
                            "rules could not be evaluated: %s", g->run_id, tables[i],
                            g->stage, tv.why);
            else
                sl_buf_addf(&text, "%s sluice %s run %" PRId64 " of %s (%s): %zu of %zu "
                            "rules failed%s%s",
                            held ? ":no_entry:" : ":warning:",
                            held ? "held" : "published", g->run_id, tables[i], g->stage,
                            tv.failed, tv.passed + tv.failed,
                            tv.drifted ? ", and its records drift from the contract" : "",
                            held              ? ""
                            : tv.nonblocking ? " (its product is not blocking)"
                                             : " (a warning)");
            if (tv.lines.len > 0)
                sl_buf_add(&text, tv.lines.data, tv.lines.len);
            if (held)
                sl_buf_addf(&text, "\nSettle it: `sluice publish %" PRId64 "` or `sluice "
                            "discard %" PRId64 "` (`sluice staged` lists held runs)",
                            g->run_id, g->run_id);
            if (report != NULL && tv.lines.len > 0) {
                sl_buf_add(report, tv.lines.data + 1, tv.lines.len - 1);
                sl_buf_addc(report, '\n');
            }
            struct quality_alert a = {g->run_id, tables[i], held ? "block" : "warn",
                                      text.data};

            rc = quality_alert_raise(g->cat, g->alerts, &a, d);
            sl_buf_release(&text);
        }
        sl_buf_release(&tv.lines);
    }
    engine_close(e);
    return rc;
}
