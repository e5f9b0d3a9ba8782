/*
 * pipeline.c - the pipeline's stages, commands and webhooks as Task
 * resources (see pipeline.h).
 */
#include "flow/pipeline.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/proc.h"
#include "flow/exec.h"
#include "flow/tasks.h"

#define MAX_OUTPUT (8 << 20)  /* a child's stdout kept, at most */
#define CAUSE_TAIL 2000       /* the end of stderr put in a cause */

extern char **environ;

static char *project_root;

/* ---- children ------------------------------------------------------------ */

struct child_result {
    int status;         /* exit status, 128 + signal; -1: killed at the deadline;
                         * -2: killed for its silence (HeartbeatSeconds) */
    struct sl_buf out, err;
};

static void
child_release(struct child_result *c)
{
    sl_buf_release(&c->out);
    sl_buf_release(&c->err);
}

static int64_t
real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Run argv (argv[0] a path, or a name looked up in PATH) in cwd (NULL:
 * here) with env added to the environment, its stdout and stderr
 * captured, until it exits, or is killed: at deadline_ms (0: none), or
 * when it has written nothing for heartbeat_ms (0: no limit).
 * 0, or -errno when it could not start (err says why).
 */
static int
run_child(char *const argv[], const char *cwd, const json_t *env, int64_t deadline_ms,
          int64_t heartbeat_ms, struct child_result *r, struct sl_diag *d)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none;
    int out[2] = {-1, -1}, err[2] = {-1, -1}, rc;
    pid_t pid;
    char **envp = environ, **own = NULL;

    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->out);
    sl_buf_init(&r->err);
    if (json_object_size(env) > 0) {
        size_t n = 0, k = 0;
        const char *key;
        json_t *v;

        while (environ[n] != NULL)
            n++;
        own = sl_calloc(n + json_object_size(env) + 1, sizeof(*own));
        json_object_foreach((json_t *)env, key, v) {
            const char *val = json_is_string(v) ? json_string_value(v) : "";

            own[k++] = sl_printf("%s=%s", key, val);
        }
        for (size_t i = 0; i < n; i++) {
            bool overridden = false;

            json_object_foreach((json_t *)env, key, v) {
                size_t kl = strlen(key);

                if (strncmp(environ[i], key, kl) == 0 && environ[i][kl] == '=')
                    overridden = true;
            }
            if (!overridden)
                own[k++] = sl_strdup(environ[i]);
        }
        envp = own;
    }
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        rc = -errno;
        goto fail;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (cwd != NULL)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    rc = -posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(err[1]);
    out[1] = err[1] = -1;
    if (rc < 0)
        goto fail;

    struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int killed = 0;
    int64_t heard = real_ms(); /* its last output: a heartbeat */

    while (p[0].fd >= 0 || p[1].fd >= 0) {
        int64_t now = real_ms();
        int64_t left = deadline_ms > 0 ? deadline_ms - now : -1;
        int64_t quiet = heartbeat_ms > 0 ? heard + heartbeat_ms - now : -1;

        if (deadline_ms > 0 && left <= 0) {
            kill(-pid, SIGKILL);
            killed = -1;
            break;
        }
        if (heartbeat_ms > 0 && quiet <= 0) {
            kill(-pid, SIGKILL);
            killed = -2;
            break;
        }
        if (quiet >= 0 && (left < 0 || quiet < left))
            left = quiet;
        if (poll(p, 2, left < 0 ? -1 : (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            char buf[65536];
            ssize_t n;

            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            n = read(p[i].fd, buf, sizeof(buf));
            if (n <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                continue;
            }
            heard = real_ms();
            struct sl_buf *b = i == 0 ? &r->out : &r->err;

            if (b->len < MAX_OUTPUT)
                sl_buf_add(b, buf, (size_t)n);
        }
    }
    for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
    /* Both pipes closed (the child closed them, or ended): its deadline
     * and its silence still count until it exits. */
    while (!killed) {
        siginfo_t info = {0};
        int64_t now = real_ms();

        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
            info.si_pid == pid)
            break;
        if (deadline_ms > 0 && now >= deadline_ms)
            killed = -1;
        else if (heartbeat_ms > 0 && now >= heard + heartbeat_ms)
            killed = -2;
        if (killed)
            kill(-pid, SIGKILL);
        else
            poll(NULL, 0, 50);
    }
    r->status = sl_wait(pid);
    if (killed)
        r->status = killed;
    for (char **e = own; e != NULL && *e != NULL; e++)
        free(*e);
    free(own);
    return 0;

fail:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (err[i] >= 0)
            close(err[i]);
    }
    for (char **e = own; e != NULL && *e != NULL; e++)
        free(*e);
    free(own);
    return sl_fail(d, rc, "cannot run '%s': %s", argv[0], sl_strerror(rc));
}

/* The last CAUSE_TAIL bytes of b, as text. */
static const char *
tail(struct sl_buf *b)
{
    sl_buf_add(b, "", 1);
    b->len--;
    return b->len > CAUSE_TAIL ? b->data + b->len - CAUSE_TAIL : (b->data ? b->data : "");
}

/* A child's stdout as JSON lines: an array of the documents, one a line;
 * NULL if a line is not JSON. */
static json_t *
stdout_lines(const struct sl_buf *out)
{
    json_t *v, *arr;
    const char *p, *end;

    arr = json_array();
    for (p = out->data, end = out->data + out->len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (n > 0) {
            v = json_loadb(p, n, JSON_DECODE_ANY, NULL);
            if (v == NULL) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, v);
        }
        p += n + 1;
    }
    return arr;
}

/* A child's stdout as JSON: one document, or JSON lines as an array;
 * NULL if it is neither. */
static json_t *
stdout_json(const struct sl_buf *out)
{
    json_t *v;

    if (out->len == 0)
        return NULL;
    v = json_loadb(out->data, out->len, JSON_DECODE_ANY, NULL);
    return v != NULL ? v : stdout_lines(out);
}

/* The outcome of a child as the task's: its stdout's JSON (or a document
 * describing it), or error with the exit status and stderr's end. */
static int
child_outcome(struct child_result *r, const char *what, const char *error, json_t **result,
              struct flow_error *e)
{
    if (r->status == -1) {
        flow_error_set(e, true, "States.Timeout", "%s ran past the task's TimeoutSeconds and "
                                                  "was killed", what);
        return FLOW_TASK_FAILED;
    }
    if (r->status == -2) {
        flow_error_set(e, true, "States.HeartbeatTimeout",
                       "%s wrote nothing for the task's HeartbeatSeconds and was killed", what);
        return FLOW_TASK_FAILED;
    }
    if (r->status != 0) {
        flow_error_set(e, true, error, "%s exited with status %d: %s", what, r->status,
                       tail(&r->err));
        return FLOW_TASK_FAILED;
    }
    *result = stdout_json(&r->out);
    if (*result == NULL)
        *result = json_pack("{s:i,s:s%}", "exitCode", 0, "stdout", r->out.data ? r->out.data : "",
                            r->out.len);
    return 0;
}

static int
bad_input(struct flow_error *e, const char *task, const char *why)
{
    flow_error_set(e, true, "sluice.InvalidTaskInput", "%s: %s", task, why);
    return FLOW_TASK_FAILED;
}

static const char *
input_str(const json_t *in, const char *key)
{
    json_t *v = json_object_get(in, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- the stages, as `sluice` children ------------------------------------------ */

#define MAX_ARGS 64

struct argv_list {
    char *v[MAX_ARGS + 1];
    int n;
};

static void
add_arg(struct argv_list *a, const char *s)
{
    if (a->n < MAX_ARGS)
        a->v[a->n++] = sl_strdup(s);
    a->v[a->n] = NULL;
}

static void
argv_release(struct argv_list *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

/* `sluice --project ROOT CMD`, then the caller adds the rest. */
static void
sluice_argv(struct argv_list *a, const char *cmd)
{
    char *self = sl_self_path();

    a->n = 0;
    add_arg(a, self[0] ? self : "sluice");
    free(self);
    add_arg(a, "--project");
    add_arg(a, project_root ? project_root : ".");
    add_arg(a, "-q");
    add_arg(a, cmd);
}

static int
run_stage(struct argv_list *a, const struct flow_task_call *call, const char *what,
          const char *error, json_t **result, struct flow_error *e)
{
    struct child_result r;
    struct sl_diag d;
    int rc;

    sl_diag_init(&d);
    rc = run_child(a->v, NULL, NULL, call->deadline_ms, call->heartbeat_ms, &r, &d);
    argv_release(a);
    if (rc < 0) {
        flow_error_set(e, true, error, "%s", d.msg);
        return FLOW_TASK_FAILED;
    }
    rc = child_outcome(&r, what, error, result, e);
    child_release(&r);
    return rc;
}

static int
task_transform(void *ctx, const struct flow_task_call *call, json_t **result,
               struct flow_error *e)
{
    const char *source = input_str(call->input, "source");
    struct argv_list a;

    if (source == NULL)
        return bad_input(e, "transform", "the input needs \"source\", a string");
    sluice_argv(&a, "transform");
    add_arg(&a, "--source");
    add_arg(&a, source);
    add_arg(&a, "--wait");
    if (run_stage(&a, call, "sluice transform", "sluice.TransformFailed", result, e) != 0)
        return FLOW_TASK_FAILED;
    if (json_object_get(*result, "stdout") != NULL)
        json_object_set_new(*result, "source", json_string(source));
    return 0;
}

/* Land files as raw objects of a source.  Idempotent as ingest is: the
 * same bytes again are a duplicate, not a second object. */
static int
task_ingest(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *e)
{
    const char *source = input_str(call->input, "source");
    const char *format = input_str(call->input, "format");
    const char *version = input_str(call->input, "contractVersion");
    json_t *files = json_object_get(call->input, "files");
    json_t *file = json_object_get(call->input, "file");
    struct argv_list a;
    size_t i;
    json_t *f;

    if (source == NULL)
        return bad_input(e, "ingest", "the input needs \"source\", a string");
    if (file != NULL && json_is_string(file) && files == NULL) {
        files = json_pack("[O]", file);
    } else if (json_is_array(files) && json_array_size(files) > 0 && file == NULL) {
        json_incref(files);
    } else {
        return bad_input(e, "ingest", "the input needs \"file\", a path, or \"files\", a "
                                      "list of paths");
    }
    if (json_array_size(files) > MAX_ARGS - 12) {
        json_decref(files);
        return bad_input(e, "ingest", "\"files\" has more than 52 paths; land them in "
                                      "several tasks (a Map state)");
    }
    json_array_foreach(files, i, f) {
        if (!json_is_string(f)) {
            json_decref(files);
            return bad_input(e, "ingest", "\"files\" holds something that is not a path "
                                          "(a string)");
        }
    }
    sluice_argv(&a, "ingest");
    add_arg(&a, "--source");
    add_arg(&a, source);
    if (format != NULL) {
        add_arg(&a, "--format");
        add_arg(&a, format);
    }
    if (version != NULL) {
        add_arg(&a, "--contract-version");
        add_arg(&a, version);
    }
    json_array_foreach(files, i, f)
        add_arg(&a, json_string_value(f));
    if (run_stage(&a, call, "sluice ingest", "sluice.IngestFailed", result, e) != 0) {
        json_decref(files);
        return FLOW_TASK_FAILED;
    }
    /* Its last line: "N objects landed, M duplicates". */
    const char *out = json_string_value(json_object_get(*result, "stdout"));
    const char *last = out ? strstr(out, " landed, ") : NULL;

    while (last != NULL && last > out && last[-1] != '\n')
        last--;
    if (last != NULL) {
        long long landed = 0, dups = 0;

        if (sscanf(last, "%lld object%*s landed, %lld duplicate", &landed, &dups) == 2) {
            json_object_set_new(*result, "landed", json_integer(landed));
            json_object_set_new(*result, "duplicates", json_integer(dups));
        }
    }
    json_object_set_new(*result, "source", json_string(source));
    json_object_set_new(*result, "files", files);
    return 0;
}

static int
task_build(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *e)
{
    json_t *models = json_object_get(call->input, "models");
    json_t *select = json_object_get(call->input, "select");
    struct argv_list a;
    size_t i;
    json_t *v;

    if ((models != NULL && !json_is_array(models)) || (select != NULL && !json_is_array(select)))
        return bad_input(e, "build", "\"models\" and \"select\" are arrays of names");
    sluice_argv(&a, "build");
    json_array_foreach(models, i, v)
        if (json_is_string(v))
            add_arg(&a, json_string_value(v));
    json_array_foreach(select, i, v) {
        if (json_is_string(v)) {
            add_arg(&a, "--select");
            add_arg(&a, json_string_value(v));
        }
    }
    if (json_is_true(json_object_get(call->input, "fullRefresh")))
        add_arg(&a, "--full-refresh");
    return run_stage(&a, call, "sluice build", "sluice.BuildFailed", result, e);
}

static int
task_check(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *e)
{
    const char *table = input_str(call->input, "table");
    const char *ruleset = input_str(call->input, "ruleset");
    struct argv_list a;
    struct child_result r;
    struct sl_diag d;
    int rc;

    if (table == NULL)
        return bad_input(e, "check", "the input needs \"table\", a string");
    sluice_argv(&a, "check");
    add_arg(&a, table);
    add_arg(&a, "--format");
    add_arg(&a, "json");
    if (ruleset != NULL) {
        add_arg(&a, "--ruleset");
        add_arg(&a, ruleset);
    }
    sl_diag_init(&d);
    rc = run_child(a.v, NULL, NULL, call->deadline_ms, call->heartbeat_ms, &r, &d);
    argv_release(&a);
    if (rc < 0) {
        flow_error_set(e, true, "sluice.QualityCheckFailed", "%s", d.msg);
        return FLOW_TASK_FAILED;
    }
    /* one JSON object per rule, a line each */
    json_t *rules = r.status == 0 || r.status == 1 ? stdout_lines(&r.out) : NULL;

    if (r.status == 1 && json_array_size(rules) > 0) {
        /* a rule failed: the rules that did not pass are the cause */
        json_t *failed = json_array(), *x;
        size_t i;
        char *text;

        json_array_foreach(rules, i, x)
            if (!json_is_string(json_object_get(x, "outcome")) ||
                strcmp(json_string_value(json_object_get(x, "outcome")), "passed") != 0)
                json_array_append(failed, x);
        text = json_dumps(failed, JSON_COMPACT);
        flow_error_set(e, true, "sluice.QualityCheckFailed", "%s", text ? text : "");
        free(text);
        json_decref(failed);
        json_decref(rules);
        child_release(&r);
        return FLOW_TASK_FAILED;
    }
    rc = child_outcome(&r, "sluice check", "sluice.QualityCheckFailed", result, e);
    child_release(&r);
    if (rc == 0) {
        json_decref(*result);
        *result = json_pack("{s:s,s:o,s:b}", "table", table, "rules",
                            rules ? rules : json_array(), "passed", 1);
        rules = NULL;
    }
    json_decref(rules);
    return rc;
}

static int
settle(const struct flow_task_call *call, const char *cmd, const char *error, json_t **result,
       struct flow_error *e)
{
    json_t *run = json_object_get(call->input, "run");
    struct argv_list a;
    char num[32];

    if (!json_is_integer(run))
        return bad_input(e, cmd, "the input needs \"run\", a run number");
    snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(run));
    sluice_argv(&a, cmd);
    add_arg(&a, num);
    if (run_stage(&a, call, cmd, error, result, e) != 0)
        return FLOW_TASK_FAILED;
    json_object_set_new(*result, "run", json_integer(json_integer_value(run)));
    return 0;
}

static int
task_publish(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *e)
{
    return settle(call, "publish", "sluice.PublishFailed", result, e);
}

static int
task_discard(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *e)
{
    return settle(call, "discard", "sluice.DiscardFailed", result, e);
}

static int
task_query(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *e)
{
    const char *sql = input_str(call->input, "sql");
    struct argv_list a;
    json_t *rows;

    if (sql == NULL)
        return bad_input(e, "query", "the input needs \"sql\", a string");
    sluice_argv(&a, "query");
    add_arg(&a, "--format");
    add_arg(&a, "json");
    add_arg(&a, sql);
    if (run_stage(&a, call, "sluice query", "sluice.QueryFailed", result, e) != 0)
        return FLOW_TASK_FAILED;
    rows = *result;
    if (!json_is_array(rows)) {
        json_t *one = json_array();

        if (json_object_get(rows, "stdout") == NULL)
            json_array_append(one, rows);
        json_decref(rows);
        rows = one;
    }
    *result = json_pack("{s:o,s:I}", "rows", rows, "count", (json_int_t)json_array_size(rows));
    return 0;
}

/* ---- commands and webhooks --------------------------------------------------------- */

static int
task_command(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *e)
{
    json_t *cmd = json_object_get(call->input, "command"), *v;
    json_t *env = json_object_get(call->input, "env");
    const char *cwd = input_str(call->input, "cwd");
    struct argv_list a = {0};
    struct child_result r;
    struct sl_diag d;
    size_t i;
    int rc;

    if (!json_is_array(cmd) || json_array_size(cmd) == 0 || json_array_size(cmd) > MAX_ARGS)
        return bad_input(e, "command", "\"command\" is an array of 1 to 64 strings: the "
                                       "program and its arguments");
    json_array_foreach(cmd, i, v) {
        if (!json_is_string(v)) {
            argv_release(&a);
            return bad_input(e, "command", "each item of \"command\" is a string");
        }
        add_arg(&a, json_string_value(v));
    }
    if (env != NULL && !json_is_object(env)) {
        argv_release(&a);
        return bad_input(e, "command", "\"env\" is an object of strings");
    }
    sl_diag_init(&d);
    rc = run_child(a.v, cwd ? cwd : project_root, env, call->deadline_ms, call->heartbeat_ms, &r,
                   &d);
    if (rc < 0) {
        argv_release(&a);
        flow_error_set(e, true, "sluice.CommandFailed", "%s", d.msg);
        return FLOW_TASK_FAILED;
    }
    rc = child_outcome(&r, a.v[0], "sluice.CommandFailed", result, e);
    argv_release(&a);
    child_release(&r);
    return rc;
}

static size_t
discard_body(char *p, size_t size, size_t n, void *arg)
{
    struct sl_buf *b = arg;

    if (b->len < 65536)
        sl_buf_add(b, p, size * n);
    return size * n;
}

static int
task_webhook(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *e)
{
    const char *url = input_str(call->input, "url");
    const char *text = input_str(call->input, "text");
    json_t *body = json_object_get(call->input, "body");
    struct curl_slist *headers = NULL;
    struct sl_buf answer;
    char *payload, why[CURL_ERROR_SIZE] = "";
    long status = 0, timeout;
    CURLcode cc;
    CURL *h;

    if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return bad_input(e, "webhook", "the input needs \"url\", an http:// or https:// URL");
    if (text == NULL && body == NULL)
        return bad_input(e, "webhook", "the input needs \"text\" (Slack's message) or \"body\"");
    if (body != NULL) {
        payload = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    } else {
        json_t *doc = json_pack("{s:s}", "text", text);

        payload = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
    }
    timeout = call->deadline_ms > 0 ? (long)(call->deadline_ms - real_ms()) : 30000;
    if (timeout < 1)
        timeout = 1;
    sl_buf_init(&answer);
    h = curl_easy_init();
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, why);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
    cc = curl_easy_perform(h);
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    free(payload);
    if (cc == CURLE_OPERATION_TIMEDOUT && call->deadline_ms > 0) {
        sl_buf_release(&answer);
        flow_error_set(e, true, "States.Timeout", "the webhook did not answer within the "
                                                  "task's TimeoutSeconds");
        return FLOW_TASK_FAILED;
    }
    if (cc != CURLE_OK || status < 200 || status > 299) {
        /* the host only: a webhook's path may carry its token */
        const char *host = strstr(url, "://") + 3;
        int hlen = (int)strcspn(host, "/?#");

        if (cc != CURLE_OK)
            flow_error_set(e, true, "sluice.WebhookFailed",
                           "the webhook at %.*s could not be reached: %s", hlen, host,
                           why[0] ? why : curl_easy_strerror(cc));
        else
            flow_error_set(e, true, "sluice.WebhookFailed", "the webhook at %.*s answered %ld",
                           hlen, host, status);
        sl_buf_release(&answer);
        return FLOW_TASK_FAILED;
    }
    *result = json_pack("{s:i}", "status", (int)status);
    sl_buf_release(&answer);
    return 0;
}

void
flow_pipeline_register(const char *root)
{
    free(project_root);
    project_root = root ? sl_strdup(root) : NULL;
    flow_tasks_register("arn:aws:states:::sluice:transform", task_transform, NULL);
    flow_tasks_register("arn:aws:states:::sluice:ingest", task_ingest, NULL);
    flow_tasks_register("arn:aws:states:::sluice:build", task_build, NULL);
    flow_tasks_register("arn:aws:states:::sluice:check", task_check, NULL);
    flow_tasks_register("arn:aws:states:::sluice:publish", task_publish, NULL);
    flow_tasks_register("arn:aws:states:::sluice:discard", task_discard, NULL);
    flow_tasks_register("arn:aws:states:::sluice:query", task_query, NULL);
    flow_tasks_register("arn:aws:states:::sluice:command", task_command, NULL);
    flow_tasks_register("arn:aws:states:::sluice:webhook", task_webhook, NULL);
}
