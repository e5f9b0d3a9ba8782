/*
 * conf.c - table-driven configuration (see conf.h).
 */
#include "core/conf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/num.h"
#include "core/banned.h"

int
sl_parse_bytes(const char *s, int64_t *out)
{
    static const struct {
        const char *suffix;
        int64_t mult;
    } units[] = {
        {"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30}, {"TiB", 1LL << 40},
        {"KB", 1LL << 10},  {"MB", 1LL << 20},  {"GB", 1LL << 30},  {"TB", 1LL << 40},
        {"K", 1LL << 10},   {"M", 1LL << 20},   {"G", 1LL << 30},   {"B", 1},
    };
    size_t n = strlen(s), digits = 0;
    int64_t v, mult = 1;

    while (digits < n && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    if (digits == 0)
        return SL_ERR_INPUT;
    const char *unit = s + digits;

    while (*unit == ' ')
        unit++;
    if (*unit) {
        size_t i;

        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcasecmp(unit, units[i].suffix) == 0)
                break;
        if (i == sizeof(units) / sizeof(units[0]))
            return SL_ERR_INPUT;
        mult = units[i].mult;
    }
    if (sl_parse_i64(s, digits, &v) < 0 || v > INT64_MAX / mult)
        return SL_ERR_INPUT;
    *out = v * mult;
    return 0;
}

static int
set_value(const struct sl_conf_key *k, char *field, const char *text, struct sl_arena *a,
          const char **why)
{
    int64_t v;

    switch (k->type) {
    case SL_CONF_STRING:
        *(char **)field = sl_arena_strdup(a, text);
        return 0;
    case SL_CONF_BOOL:
        if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0 ||
            strcasecmp(text, "on") == 0) {
            *(bool *)field = true;
        } else if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0 ||
                   strcasecmp(text, "off") == 0) {
            *(bool *)field = false;
        } else {
            *why = "expected true or false";
            return SL_ERR_INPUT;
        }
        return 0;
    case SL_CONF_INT:
        if (sl_parse_i64(text, strlen(text), &v) < 0) {
            *why = "expected a whole number";
            return SL_ERR_INPUT;
        }
        break;
    case SL_CONF_BYTES:
        if (sl_parse_bytes(text, &v) < 0) {
            *why = "expected a size such as 512KiB, 64MiB or 1GiB";
            return SL_ERR_INPUT;
        }
        break;
    }
    if (v < k->min || v > k->max) {
        *why = "out of range";
        return SL_ERR_LIMIT;
    }
    *(int64_t *)field = v;
    return 0;
}

void
sl_conf_defaults(const struct sl_conf_section *sections, void *obj, struct sl_arena *a)
{
    for (const struct sl_conf_section *s = sections; s->name != NULL; s++) {
        for (const struct sl_conf_key *k = s->keys; k->name != NULL; k++) {
            const char *why = NULL;
            char *field = (char *)obj + s->offset + k->offset;

            if (k->def == NULL) {
                if (k->type == SL_CONF_STRING)
                    *(char **)field = NULL;
                continue;
            }
            /* Defaults are ours and valid; a failure here is a bug. */
            if (set_value(k, field, k->def, a, &why) < 0)
                sl_fail(NULL, SL_ERR_INPUT, "bad default");
        }
    }
}

static const struct sl_conf_key *
find_key(const struct sl_conf_section *s, const char *name)
{
    for (const struct sl_conf_key *k = s->keys; k->name != NULL; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static int
load_key(const struct sl_conf_section *s, const struct sl_conf_key *k, void *obj,
         const struct sl_yaml *val, const char *path, struct sl_arena *a, struct sl_diag *d)
{
    const char *why = NULL;
    char full[200];
    int rc;

    snprintf(full, sizeof(full), "%s%s%s", s->name, *s->name ? "." : "", k->name);
    if (val->kind != SL_YAML_SCALAR) {
        sl_fail(d, SL_ERR_INPUT, "key '%s' must be a single value, not %s", full,
                sl_yaml_kind_name(val));
        sl_diag_at(d, path, val->line, 0, NULL);
        return SL_ERR_INPUT;
    }
    if (sl_yaml_is_null(val))
        return 0; /* keep the default */
    rc = set_value(k, (char *)obj + s->offset + k->offset, val->str, a, &why);
    if (rc < 0) {
        if (rc == SL_ERR_LIMIT)
            sl_fail(d, SL_ERR_INPUT, "key '%s': value %s is out of range (%lld..%lld)", full,
                    val->str, (long long)k->min, (long long)k->max);
        else
            sl_fail(d, SL_ERR_INPUT, "key '%s': invalid value '%s': %s", full, val->str, why);
        sl_diag_at(d, path, val->line, 0, NULL);
        return SL_ERR_INPUT;
    }
    return 0;
}

int
sl_conf_load(const struct sl_conf_section *sections, void *obj, const struct sl_yaml *root,
             const char *path, struct sl_arena *a, struct sl_diag *d)
{
    if (root->kind != SL_YAML_MAP) {
        sl_fail(d, SL_ERR_INPUT, "expected a mapping of settings, found %s",
                sl_yaml_kind_name(root));
        sl_diag_at(d, path, root->line, 0, NULL);
        return SL_ERR_INPUT;
    }
    for (size_t i = 0; i < root->n; i++) {
        const char *name = root->keys[i]->str;
        const struct sl_yaml *val = root->items[i];
        const struct sl_conf_section *top = NULL, *sec = NULL;
        const struct sl_conf_key *k = NULL;
        int rc;

        for (const struct sl_conf_section *s = sections; s->name != NULL; s++) {
            if (*s->name == '\0')
                top = s;
            else if (strcmp(s->name, name) == 0)
                sec = s;
        }
        if (top != NULL && (k = find_key(top, name)) != NULL) {
            rc = load_key(top, k, obj, val, path, a, d);
            if (rc < 0)
                return rc;
            continue;
        }
        if (sec == NULL) {
            sl_fail(d, SL_ERR_INPUT, "unknown key '%s'", name);
            sl_diag_hint(d, "see the commented sample from 'sluice init' for every key");
            sl_diag_at(d, path, root->keys[i]->line, 0, NULL);
            return SL_ERR_INPUT;
        }
        if (val->kind != SL_YAML_MAP) {
            if (sl_yaml_is_null(val))
                continue;
            sl_fail(d, SL_ERR_INPUT, "section '%s' must be a mapping, not %s", name,
                    sl_yaml_kind_name(val));
            sl_diag_at(d, path, val->line, 0, NULL);
            return SL_ERR_INPUT;
        }
        for (size_t j = 0; j < val->n; j++) {
            k = find_key(sec, val->keys[j]->str);
            if (k == NULL) {
                sl_fail(d, SL_ERR_INPUT, "unknown key '%s.%s'", name, val->keys[j]->str);
                sl_diag_at(d, path, val->keys[j]->line, 0, NULL);
                return SL_ERR_INPUT;
            }
            rc = load_key(sec, k, obj, val->items[j], path, a, d);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

void
sl_conf_sample(const struct sl_conf_section *sections, struct sl_buf *out)
{
    /* Top-level keys are written set to their defaults; sections are
     * written commented out, ready to be switched on. */
    for (const struct sl_conf_section *s = sections; s->name != NULL; s++) {
        bool nested = *s->name != '\0';

        if (nested)
            sl_buf_addf(out, "\n# %s\n#%s:\n", s->help, s->name);
        for (const struct sl_conf_key *k = s->keys; k->name != NULL; k++) {
            if (nested)
                sl_buf_addf(out, "#  # %s\n#  %s: %s\n", k->help, k->name,
                            k->def ? k->def : "");
            else if (k->def == NULL) /* unset by default: shown commented out */
                sl_buf_addf(out, "# %s\n#%s:\n", k->help, k->name);
            else
                sl_buf_addf(out, "# %s\n%s: %s\n", k->help, k->name, k->def);
        }
    }
}
