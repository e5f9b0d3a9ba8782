/*
 * online.c - the online store's front: the location, the checks every back
 * end relies on, and the TTL applied to what a get finds (see online.h).
 */
#include "features/online.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/num.h"
#include "features/online_int.h"
#include "core/banned.h"

/* ---- locations ------------------------------------------------------------ */

static int
bad_location(const char *location, const char *why, struct sl_diag *d)
{
    sl_fail(d, SL_ERR_INPUT, "online store location '%s' %s", location, why);
    sl_diag_hint(d, "write 'redis://HOST:PORT' (or redis://USER@HOST:PORT/DB, the password "
                    "in REDIS_PASSWORD), or leave online_store out for the embedded store in "
                    "the lake");
    return SL_ERR_INPUT;
}

/* Whether s[0..n) is 1+ characters of a host name or an IPv4 address. */
static bool
host_name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= sizeof(((struct online_redis_addr *)0)->host))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

/* Whether s[0..n) may be an IPv6 address (hex digits, ':' and '.'). */
static bool
host_v6_ok(const char *s, size_t n)
{
    if (n < 2 || n >= sizeof(((struct online_redis_addr *)0)->host))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == ':' || s[i] == '.'))
            return false;
    return true;
}

int
online_redis_parse(const char *location, struct online_redis_addr *a, struct sl_diag *d)
{
    const char *p, *end, *at, *colon = NULL;
    int64_t v;

    memset(a, 0, sizeof(*a));
    a->port = 6379;
    if (strncmp(location, "rediss://", 9) == 0)
        return bad_location(location, "asks for TLS, which sluice does not speak to Redis yet", d);
    if (strncmp(location, "redis://", 8) != 0)
        return bad_location(location, "is not a redis:// URL", d);
    p = location + 8;
    if (strpbrk(p, "?#") != NULL)
        return bad_location(location, "has a query or fragment, which means nothing here", d);
    end = p + strcspn(p, "/");

    /* user@ (a password is refused: it would sit in sluice.yaml) */
    at = memchr(p, '@', (size_t)(end - p));
    if (at != NULL) {
        size_t n = (size_t)(at - p);

        if (memchr(p, ':', n) != NULL) {
            sl_fail(d, SL_ERR_INPUT, "online store location holds a password");
            sl_diag_hint(d, "a password never goes in the project file: set REDIS_PASSWORD in "
                            "the environment and write redis://[USER@]HOST:PORT");
            return SL_ERR_INPUT;
        }
        if (n == 0 || n >= sizeof(a->user) || !host_name_ok(p, n))
            return bad_location(location, "has a malformed user name", d);
        memcpy(a->user, p, n);
        p = at + 1;
    }

    /* host, [v6 host], :port */
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));

        if (close == NULL || !host_v6_ok(p + 1, (size_t)(close - p - 1)))
            return bad_location(location, "has a malformed IPv6 address", d);
        memcpy(a->host, p + 1, (size_t)(close - p - 1));
        if (close + 1 < end && close[1] != ':')
            return bad_location(location, "has text after the IPv6 address", d);
        colon = close + 1 < end ? close + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        size_t n = colon ? (size_t)(colon - p) : (size_t)(end - p);

        if (!host_name_ok(p, n))
            return bad_location(location, "has no host or a malformed one", d);
        memcpy(a->host, p, n);
    }
    if (colon != NULL) {
        if (sl_parse_i64(colon + 1, (size_t)(end - colon - 1), &v) < 0 || v < 1 || v > 65535 ||
            colon[1] == '+' || colon[1] == '-')
            return bad_location(location, "has a port that is not a number from 1 to 65535", d);
        a->port = (int)v;
    }

    /* /db */
    if (*end == '/' && end[1] != '\0') {
        if (sl_parse_i64(end + 1, strlen(end + 1), &v) < 0 || v < 0 || v > 1000000 ||
            end[1] == '+' || end[1] == '-')
            return bad_location(location, "has a database that is not a number", d);
        a->db = (int)v;
    }
    return 0;
}

int
online_location_check(const char *location, struct sl_diag *d)
{
    struct online_redis_addr a;

    if (location == NULL || *location == '\0')
        return 0;
    return online_redis_parse(location, &a, d);
}

/* ---- open and close ------------------------------------------------------ */

int
online_open(const char *location, const char *lake_dir, struct online **out, struct sl_diag *d)
{
    struct online *o = sl_calloc(1, sizeof(*o));
    struct online_redis_addr a;
    int rc;

    if (location == NULL || *location == '\0') {
        if (lake_dir == NULL || *lake_dir == '\0') {
            rc = sl_fail(d, SL_ERR_INPUT, "the embedded online store needs the lake's folder");
            goto out_free;
        }
        rc = online_lmdb_open(o, lake_dir, d);
    } else {
        rc = online_redis_parse(location, &a, d);
        if (rc == 0)
            rc = online_redis_open(o, &a, d);
    }
    if (rc < 0)
        goto out_free;
    *out = o;
    return 0;

out_free:
    free(o);
    return rc;
}

void
online_close(struct online *o)
{
    if (o == NULL)
        return;
    o->ops->close(o);
    free(o->where);
    free(o);
}

const char *
online_where(const struct online *o)
{
    return o->where;
}

const char *
online_kind(const struct online *o)
{
    return o->ops->name;
}

/* ---- checks ---------------------------------------------------------------- */

static int
check_group(const char *group, int64_t version, struct sl_diag *d)
{
    size_t n = group ? strlen(group) : 0;

    if (n == 0 || n > ONLINE_GROUP_MAX)
        return sl_fail(d, SL_ERR_INPUT, "feature group name '%s' is empty or longer than %d bytes",
                       group ? group : "", ONLINE_GROUP_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = group[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return sl_fail(d, SL_ERR_INPUT,
                           "feature group name '%s' has a character other "
                           "than letters, digits, '_', '.' and '-'",
                           group);
    }
    if (version < 1)
        return sl_fail(d, SL_ERR_INPUT, "feature group '%s' version %lld is not >= 1", group,
                       (long long)version);
    return 0;
}

static int
check_entity(const char *entity, struct sl_diag *d)
{
    size_t n = entity ? strlen(entity) : 0;

    if (n == 0)
        return sl_fail(d, SL_ERR_INPUT, "entity key is empty");
    if (n > ONLINE_ENTITY_MAX)
        return sl_fail(d, SL_ERR_LIMIT, "entity key of %zu bytes is longer than %d", n,
                       ONLINE_ENTITY_MAX);
    return 0;
}

static int
check_record(const struct online_record *r, struct sl_diag *d)
{
    int rc;

    rc = check_group(r->group, r->version, d);
    if (rc == 0)
        rc = check_entity(r->entity, d);
    if (rc < 0)
        return rc;
    if (!online_ms_valid(r->event_ms) || !online_ms_valid(r->written_ms))
        return sl_fail(d, SL_ERR_INPUT,
                       "record of entity '%s' has an event or write time "
                       "outside the years 0001 to 9999",
                       r->entity);
    if (r->values_json == NULL)
        return sl_fail(d, SL_ERR_INPUT, "record of entity '%s' has no values", r->entity);
    if (strnlen(r->values_json, ONLINE_VALUE_MAX + 1) > ONLINE_VALUE_MAX)
        return sl_fail(d, SL_ERR_LIMIT, "values of entity '%s' are longer than %d bytes", r->entity,
                       ONLINE_VALUE_MAX);
    return 0;
}

static int
check_batch(size_t n, struct sl_diag *d)
{
    if (n > ONLINE_BATCH_MAX)
        return sl_fail(d, SL_ERR_LIMIT, "a batch of %zu records or entities is more than %d", n,
                       ONLINE_BATCH_MAX);
    return 0;
}

/* ---- the verbs ------------------------------------------------------------- */

int
online_put(struct online *o, const struct online_record *recs, size_t n, struct sl_diag *d)
{
    int rc = check_batch(n, d);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = check_record(&recs[i], d);
        if (rc < 0)
            sl_diag_at(d, o->where, 0, (int64_t)i + 1, NULL);
    }
    if (rc < 0 || n == 0)
        return rc;
    return o->ops->put(o, recs, n, d);
}

/* The TTL on read, between a back end's get and the caller's callback. */
struct fresh {
    online_record_cb cb;
    void *arg;
    int64_t ttl_ms;
    int64_t now_ms;
};

static int
fresh_only(void *arg, size_t i, const struct online_record *rec)
{
    const struct fresh *f = arg;

    /* Both times are within ONLINE_MS_MIN..MAX: the difference fits. */
    if (f->ttl_ms > 0 && f->now_ms - rec->event_ms > f->ttl_ms)
        return 0;
    return f->cb(f->arg, i, rec);
}

int
online_get(struct online *o, const char *group, int64_t version, const char *const *entities,
           size_t n, int64_t ttl_ms, int64_t now_ms, online_record_cb cb, void *arg,
           struct sl_diag *d)
{
    struct fresh f = {cb, arg, ttl_ms, now_ms};
    int rc;

    rc = check_batch(n, d);
    if (rc == 0)
        rc = check_group(group, version, d);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = check_entity(entities[i], d);
    if (rc == 0 && ttl_ms > 0 && !online_ms_valid(now_ms))
        rc = sl_fail(d, SL_ERR_INPUT, "the current time %lld ms is outside the years 0001 to 9999",
                     (long long)now_ms);
    if (rc < 0 || n == 0)
        return rc;
    return o->ops->get(o, group, version, entities, n, fresh_only, &f, d);
}

int
online_delete(struct online *o, const char *group, int64_t version, const char *entity,
              struct sl_diag *d)
{
    int rc = check_group(group, version, d);

    if (rc == 0)
        rc = check_entity(entity, d);
    if (rc < 0)
        return rc;
    return o->ops->remove(o, group, version, entity, d);
}

int
online_count(struct online *o, const char *group, int64_t version, int64_t *n, struct sl_diag *d)
{
    int rc = check_group(group, version, d);

    *n = 0;
    if (rc < 0)
        return rc;
    return o->ops->count(o, group, version, n, d);
}
