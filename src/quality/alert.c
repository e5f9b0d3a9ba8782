/*
 * alert.c - alerts of quality gates (see alert.h).
 */
#include "quality/alert.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/alerts.h"
#include "catalog/runs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "core/banned.h"

/* The log's row in the outbox: delivered as it is recorded. */
#define LOG_WEBHOOK ""
/* The longest wait between two attempts. */
#define MAX_BACKOFF_S 3600

void
quality_alert_webhooks(const struct alerts_settings *s, struct sl_strlist *urls)
{
    const char *p = s->webhooks;

    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ", \t\n");

        if (n > 0) {
            char *url = sl_strndup(p, n);

            sl_strlist_add(urls, url);
            free(url);
        }
        p += n;
        p += strspn(p, ", \t\n");
    }
}

/* ---- recording ----------------------------------------------------------------------- */

struct raise_ctx {
    const struct quality_alert *a;
    const struct sl_strlist *urls;
    int64_t now;
};

static int
record_alert(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct raise_ctx *r = arg;
    struct alert_record row = {
        .run_id = r->a->run_id,
        .table = r->a->table,
        .webhook = LOG_WEBHOOK,
        .created_at = r->now,
        .severity = r->a->severity,
        .text = r->a->text,
        .state = "delivered",
        .attempts = 1,
        .next_at = r->now,
        .last_error = "",
    };
    int rc = catalog_alert_add(txn, &row, d);

    for (size_t i = 0; rc == 0 && i < r->urls->n; i++) {
        row.webhook = r->urls->v[i];
        row.state = "pending";
        row.attempts = 0;
        rc = catalog_alert_add(txn, &row, d);
    }
    return rc;
}

int
quality_alert_raise(struct catalog *cat, const struct alerts_settings *s,
                    const struct quality_alert *a, struct sl_diag *d)
{
    struct sl_strlist urls = {0};
    struct raise_ctx r = {a, &urls, sl_now_usec()};
    struct quality_delivery out;
    struct sl_diag quiet;
    int rc;

    if (strcmp(a->severity, "block") == 0)
        SL_ERROR("quality", "%s", a->text);
    else
        SL_WARN("quality", "%s", a->text);
    quality_alert_webhooks(s, &urls);
    rc = catalog_txn_run(cat, CATALOG_WRITE, record_alert, &r, d);
    if (rc == 0 && urls.n > 0) {
        sl_diag_init(&quiet);
        if (quality_alert_deliver(cat, s, false, 0, &out, &quiet) < 0)
            SL_WARN("quality", "alerts stay pending: %s", quiet.msg);
    }
    sl_strlist_release(&urls);
    return rc;
}

/* ---- delivery ------------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
discard_body(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* POST the alert to its webhook: 0, or why not in why. */
static int
post(const struct alerts_settings *s, const struct alert_record *a, char *why, size_t whylen)
{
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sl_buf body;
    long status = 0;
    CURLcode cc;
    CURL *h;
    int rc = 0;

    pthread_once(&curl_once, curl_start);
    h = curl_easy_init();
    if (h == NULL) {
        snprintf(why, whylen, "cannot start an HTTP client");
        return -1;
    }
    sl_buf_init(&body);
    sl_buf_adds(&body, "{\"text\":");
    sl_buf_add_json_str(&body, a->text, strlen(a->text));
    sl_buf_addf(&body, ",\"sluice\":{\"run\":%" PRId64 ",\"table\":", a->run_id);
    sl_buf_add_json_str(&body, a->table, strlen(a->table));
    sl_buf_adds(&body, ",\"severity\":");
    sl_buf_add_json_str(&body, a->severity, strlen(a->severity));
    sl_buf_adds(&body, "}}");
    headers = curl_slist_append(headers, "Content-Type: application/json");
    if (s->secret_header != NULL && s->secret_env != NULL) {
        const char *secret = getenv(s->secret_env);

        if (secret != NULL) {
            char *line = sl_printf("%s: %s", s->secret_header, secret);

            headers = curl_slist_append(headers, line);
            free(line);
        }
    }
    curl_easy_setopt(h, CURLOPT_URL, a->webhook);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)s->timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)s->timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice-alerts");
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        /* The URL may carry a token (Slack's do): the error names the
         * host at most, never the URL. */
        snprintf(why, whylen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        rc = -1;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
            snprintf(why, whylen, "the webhook answered HTTP %ld", status);
            rc = -1;
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    sl_buf_release(&body);
    return rc;
}

/* The due alerts, copied out of the read transaction. */
struct due {
    struct alert_record *v;
    size_t n, cap;
    struct sl_arena a;
};

static int
add_due(void *arg, const struct alert_record *r)
{
    struct due *u = arg;
    struct alert_record *x;

    SL_GROW(u->v, u->cap, u->n + 1);
    x = &u->v[u->n++];
    *x = *r;
    x->table = sl_arena_strdup(&u->a, r->table);
    x->webhook = sl_arena_strdup(&u->a, r->webhook);
    x->severity = sl_arena_strdup(&u->a, r->severity);
    x->text = sl_arena_strdup(&u->a, r->text);
    x->state = sl_arena_strdup(&u->a, r->state);
    x->last_error = sl_arena_strdup(&u->a, r->last_error);
    return 0;
}

struct due_args {
    struct due *u;
    int64_t now, limit;
};

static int
read_due(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct due_args *a = arg;

    a->u->n = 0;
    return catalog_alert_due(txn, a->now, a->limit, add_due, a->u, d);
}

static int
write_one(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    return catalog_alert_update(txn, arg, d);
}

struct claim_args {
    const struct alert_record *a;
    int64_t until;
    bool claimed;
};

static int
claim_one(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct claim_args *c = arg;

    return catalog_alert_claim(txn, c->a, c->until, &c->claimed, d);
}

const char *
quality_alert_where(const char *url, char *out, size_t len)
{
    const char *p = strstr(url, "://"), *host, *at;
    size_t scheme, n;

    scheme = p != NULL ? (size_t)(p - url) + 3 : 0;
    host = url + scheme;
    n = strcspn(host, "/?#");
    /* user:token@ goes too */
    at = memchr(host, '@', n);
    if (at != NULL) {
        n -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(out, len, "%.*s%.*s", (int)scheme, url, (int)n, host);
    return out;
}

int
quality_alert_deliver(struct catalog *cat, const struct alerts_settings *s, bool all,
                      int64_t limit, struct quality_delivery *out, struct sl_diag *d)
{
    struct due u = {0};
    struct due_args args = {&u, all ? -1 : sl_now_usec(), limit > 0 ? limit : INT64_MAX};
    int rc;

    memset(out, 0, sizeof(*out));
    sl_arena_init(&u.a, 0);
    rc = catalog_txn_run(cat, CATALOG_READ, read_due, &args, d);
    for (size_t i = 0; rc == 0 && i < u.n; i++) {
        struct alert_record *a = &u.v[i];
        char why[CURL_ERROR_SIZE + 64], where[256];
        /* Another process (a server, a gate) may be at the same alert: it
         * is posted by whoever claims it first, for a lease of its
         * timeout. */
        struct claim_args c = {a, sl_now_usec() + (s->timeout + 5) * 1000000, false};

        rc = catalog_txn_run(cat, CATALOG_WRITE, claim_one, &c, d);
        if (rc < 0 || !c.claimed)
            continue;
        quality_alert_where(a->webhook, where, sizeof(where));
        a->attempts++;
        if (post(s, a, why, sizeof(why)) == 0) {
            a->state = "delivered";
            a->last_error = "";
            out->delivered++;
            SL_INFO("quality", "alert for run %" PRId64 " (%s) delivered to %s", a->run_id,
                    a->table, where);
        } else if (a->attempts >= s->max_attempts) {
            a->state = "failed";
            a->last_error = why;
            out->given_up++;
            SL_ERROR("quality", "alert for run %" PRId64 " (%s) given up after %" PRId64
                     " attempts to %s: %s",
                     a->run_id, a->table, a->attempts, where, why);
        } else {
            int64_t wait = s->retry_after;

            for (int64_t k = 1; k < a->attempts && wait < MAX_BACKOFF_S; k++)
                wait *= 2;
            if (wait > MAX_BACKOFF_S)
                wait = MAX_BACKOFF_S;
            a->next_at = sl_now_usec() + wait * 1000000;
            a->last_error = why;
            out->retrying++;
            SL_WARN("quality", "alert for run %" PRId64 " (%s) not delivered to %s (%s); "
                    "attempt %" PRId64 " of %" PRId64 ", next in %" PRId64 " s",
                    a->run_id, a->table, where, why, a->attempts, s->max_attempts, wait);
        }
        rc = catalog_txn_run(cat, CATALOG_WRITE, write_one, a, d);
    }
    free(u.v);
    sl_arena_release(&u.a);
    return rc;
}

/* ---- metrics ------------------------------------------------------------------------- */

static int
count_held(void *arg, const struct run_record *r)
{
    (void)r;
    (*(int64_t *)arg)++;
    return 0;
}

struct counts {
    int64_t pending, delivered, failed, held;
};

static int
read_counts(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct counts *c = arg;
    int rc = catalog_alert_counts(txn, &c->pending, &c->delivered, &c->failed, d);

    c->held = 0;
    if (rc == 0)
        rc = catalog_run_list(txn, NULL, 0, true, count_held, &c->held, d);
    return rc;
}

int
quality_alert_metrics(struct catalog *cat, struct sl_buf *out, struct sl_diag *d)
{
    struct counts c = {0};
    int rc = catalog_txn_run(cat, CATALOG_READ, read_counts, &c, d);

    if (rc < 0)
        return rc;
    sl_buf_addf(out,
                "# HELP sluice_quality_alerts Alerts of quality gates by delivery state "
                "(the log's copy counts as delivered).\n"
                "# TYPE sluice_quality_alerts gauge\n"
                "sluice_quality_alerts{state=\"pending\"} %" PRId64 "\n"
                "sluice_quality_alerts{state=\"delivered\"} %" PRId64 "\n"
                "sluice_quality_alerts{state=\"failed\"} %" PRId64 "\n"
                "# HELP sluice_runs_held Runs held by a quality gate, awaiting 'sluice "
                "publish' or 'sluice discard'.\n"
                "# TYPE sluice_runs_held gauge\n"
                "sluice_runs_held %" PRId64 "\n",
                c.pending, c.delivered, c.failed, c.held);
    return 0;
}
