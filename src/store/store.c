/*
 * store.c - back-end selection, key checks and fault points around every
 * durable step (see store.h).
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "core/mem.h"
#include "store/store_int.h"
#include "core/banned.h"

bool
store_key_valid(const char *key)
{
    const char *p = key;

    if (*key == '\0' || *key == '/')
        return false;
    while (*p) {
        size_t n = strcspn(p, "/");

        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
        if (*p == '/')
            p++;
    }
    return p[-1] != '/';
}

int
store_open(const char *uri, struct store **out, struct sl_diag *d)
{
    struct store *s = sl_calloc(1, sizeof(*s));
    int rc;

    s->uri = sl_strdup(uri);
    if (strncmp(uri, "file://", 7) == 0) {
        rc = store_local_open(s, uri + 7, d);
    } else if (strstr(uri, "://") != NULL) {
        rc = sl_fail(d, SL_ERR_INPUT, "unsupported lake location '%s'", uri);
        sl_diag_hint(d, "use a local folder; object storage (s3://) is on the roadmap");
    } else {
        rc = store_local_open(s, uri, d);
    }
    if (rc < 0) {
        free(s->uri);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    s->ops->close(s);
    free(s->uri);
    free(s);
}

const char *
store_uri(const struct store *s)
{
    return s->uri;
}

const char *
store_local_dir(const struct store *s)
{
    return s->ops->local_dir(s);
}

static int
check_key(const char *key, struct sl_diag *d)
{
    if (!store_key_valid(key))
        return sl_fail(d, SL_ERR_INPUT, "invalid object key '%s'", key);
    return 0;
}

int
store_stage(struct store *s, const char *name, char **key, char **path, struct sl_diag *d)
{
    int rc = check_key(name, d);

    return rc < 0 ? rc : s->ops->stage(s, name, key, path, d);
}

int
store_seal(struct store *s, const char *staged_key, struct sl_diag *d)
{
    int rc = sl_fault("store.seal");

    if (rc < 0)
        return sl_fail(d, rc, "cannot write '%s': %s", staged_key, sl_strerror(rc));
    return s->ops->seal(s, staged_key, d);
}

int
store_seal_many(struct store *s, const char *const *staged_keys, size_t n, struct sl_diag *d)
{
    int rc = 0;

    if (s->ops->seal_start != NULL)
        for (size_t i = 0; i < n; i++)
            s->ops->seal_start(s, staged_keys[i]);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = store_seal(s, staged_keys[i], d);
    return rc;
}

int
store_publish(struct store *s, const char *staged_key, const char *key, unsigned flags,
              struct sl_diag *d)
{
    int rc = check_key(key, d);

    if (rc < 0)
        return rc;
    rc = sl_fault("store.publish");
    if (rc < 0)
        return sl_fail(d, rc, "cannot publish '%s': %s", key, sl_strerror(rc));
    return s->ops->publish(s, staged_key, key, flags, d);
}

int
store_local_path(struct store *s, const char *key, char **path, struct sl_diag *d)
{
    int rc = check_key(key, d);

    return rc < 0 ? rc : s->ops->local_path(s, key, path, d);
}

int
store_stat(struct store *s, const char *key, int64_t *size, struct sl_diag *d)
{
    int rc = check_key(key, d);

    return rc < 0 ? rc : s->ops->stat(s, key, size, d);
}

int
store_delete(struct store *s, const char *key, struct sl_diag *d)
{
    int rc = check_key(key, d);

    if (rc < 0)
        return rc;
    rc = sl_fault("store.delete");
    if (rc < 0)
        return sl_fail(d, rc, "cannot delete '%s': %s", key, sl_strerror(rc));
    return s->ops->remove(s, key, d);
}

int
store_unstage(struct store *s, const char *staged_key, struct sl_diag *d)
{
    return s->ops->remove(s, staged_key, d);
}

int
store_list(struct store *s, const char *prefix, store_list_cb cb, void *arg,
           struct sl_diag *d)
{
    return s->ops->list(s, prefix, cb, arg, d);
}

int
store_sweep(struct store *s, store_keep_cb keep, void *arg, struct sl_diag *d)
{
    return s->ops->sweep(s, keep, arg, d);
}
