/*
 * commit.c - publication and recovery (see commit.h).
 */
#include "commit/commit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
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

static int
collect(void *arg, const struct catalog_pending *p)
{
    struct steps *s = arg;

    SL_GROW(s->v, s->cap, s->n + 1);
    s->v[s->n].op = p->op;
    s->v[s->n].src = p->src ? sl_strdup(p->src) : NULL;
    s->v[s->n].dst = sl_strdup(p->dst);
    s->v[s->n].run_id = p->run_id;
    s->n++;
    return 0;
}

static void
steps_release(struct steps *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].src);
        free(s->v[i].dst);
    }
    free(s->v);
}

static int
do_step(struct store *st, const struct step *p, struct sl_diag *d)
{
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
    struct sl_diag why;

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
run_steps(struct store *st, struct catalog *cat, struct steps *s, struct sl_diag *d)
{
    int64_t done_run = -1;
    int rc = 0;

    for (size_t i = 0; i < s->n && rc == 0; i++) {
        rc = do_step(st, &s->v[i], d);
        if (rc < 0)
            break;
        /* The steps come in run order; forget a run once all its are done. */
        if (i + 1 == s->n || s->v[i + 1].run_id != s->v[i].run_id) {
            done_run = s->v[i].run_id;
            rc = sl_fault("commit.clear");
            if (rc == 0)
                rc = catalog_pending_clear(cat, done_run, d);
        }
    }
    return rc;
}

int
commit_publish(struct store *s, struct catalog *cat, int64_t run_id, struct sl_diag *d)
{
    struct steps steps = {0};
    int rc = catalog_pending_list(cat, run_id, collect, &steps, d);

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
commit_recover(struct store *s, struct catalog *cat, struct sl_diag *d)
{
    struct steps steps = {0};
    struct sl_strlist keep = {0};
    int rc = catalog_pending_list(cat, 0, collect, &steps, d);

    if (rc == 0 && steps.n > 0) {
        SL_INFO("commit", "finishing %zu publication step(s) of interrupted runs", steps.n);
        rc = run_steps(s, cat, &steps, d);
    }
    steps_release(&steps);
    if (rc < 0)
        return rc;
    /* Whatever is still pending (a run committing right now in another
     * process) must survive the sweep. */
    memset(&steps, 0, sizeof(steps));
    rc = catalog_pending_list(cat, 0, collect, &steps, d);
    if (rc == 0) {
        for (size_t i = 0; i < steps.n; i++)
            if (steps.v[i].src != NULL)
                sl_strlist_add(&keep, steps.v[i].src);
        rc = store_sweep(s, keep_staged, &keep, d);
        if (rc > 0)
            SL_DEBUG("commit", "swept %d staged object(s) of dead processes", rc);
        rc = rc < 0 ? rc : 0;
    }
    sl_strlist_release(&keep);
    steps_release(&steps);
    return rc;
}
