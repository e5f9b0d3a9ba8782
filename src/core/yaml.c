/*
 * yaml.c - YAML to a node tree (see yaml.h).
 *
 * Event-driven: a stack of open collections; each SCALAR, SEQUENCE_START and
 * MAPPING_START event makes a node and attaches it to the collection on top.
 * In a mapping the items alternate key, value.
 */
#include "core/yaml.h"

#include <string.h>
#include <yaml.h>

#include "core/banned.h"

#define MAX_DEPTH 64

struct building {
    struct sl_yaml *node;
    size_t cap;
    bool want_value;  /* mapping: the next node is a value */
};

static void
push_item(struct sl_arena *a, struct building *b, struct sl_yaml *child, bool key)
{
    struct sl_yaml *n = b->node;

    if (n->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct sl_yaml **items = sl_arena_alloc(a, cap * sizeof(*items));
        struct sl_yaml **keys = NULL;

        if (n->n)
            memcpy(items, n->items, n->n * sizeof(*items));
        if (n->kind == SL_YAML_MAP) {
            keys = sl_arena_alloc(a, cap * sizeof(*keys));
            if (n->n)
                memcpy(keys, n->keys, n->n * sizeof(*keys));
        }
        n->items = items;
        n->keys = keys;
        b->cap = cap;
    }
    if (n->kind == SL_YAML_SEQ) {
        n->items[n->n++] = child;
    } else if (key) {
        n->keys[n->n] = child;
        n->items[n->n] = NULL;
    } else {
        n->items[n->n++] = child;
    }
}

static int
fail_at(struct sl_diag *d, const char *path, size_t line, const char *msg)
{
    sl_fail(d, SL_ERR_INPUT, "%s", msg);
    sl_diag_at(d, path, (int64_t)line, 0, NULL);
    return SL_ERR_INPUT;
}

int
sl_yaml_parse(const char *path, const char *text, size_t len, struct sl_arena *a,
              struct sl_yaml **root, struct sl_diag *d)
{
    yaml_parser_t p;
    yaml_event_t ev;
    struct building stack[MAX_DEPTH];
    int depth = 0, docs = 0, rc = 0;
    bool done = false;

    *root = NULL;
    if (!yaml_parser_initialize(&p))
        return sl_fail(d, SL_ERR_INPUT, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done) {
        struct sl_yaml *node = NULL;

        if (!yaml_parser_parse(&p, &ev)) {
            char msg[300];

            snprintf(msg, sizeof(msg), "invalid YAML: %s%s%s",
                     p.problem ? p.problem : "syntax error",
                     p.context ? " " : "", p.context ? p.context : "");
            rc = fail_at(d, path, p.problem_mark.line + 1, msg);
            break;
        }
        size_t line = ev.start_mark.line + 1, col = ev.start_mark.column + 1;

        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                rc = fail_at(d, path, line, "more than one YAML document in the file");
            break;
        case YAML_ALIAS_EVENT:
            rc = fail_at(d, path, line, "YAML aliases (*name) are not supported");
            break;
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.anchor != NULL) {
                rc = fail_at(d, path, line, "YAML anchors (&name) are not supported");
                break;
            }
            node = sl_arena_zalloc(a, sizeof(*node));
            node->kind = SL_YAML_SCALAR;
            node->str = sl_arena_strndup(a, (const char *)ev.data.scalar.value,
                                         ev.data.scalar.length);
            node->len = ev.data.scalar.length;
            node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if ((ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                                                      : ev.data.mapping_start.anchor) != NULL) {
                rc = fail_at(d, path, line, "YAML anchors (&name) are not supported");
                break;
            }
            node = sl_arena_zalloc(a, sizeof(*node));
            node->kind = ev.type == YAML_SEQUENCE_START_EVENT ? SL_YAML_SEQ : SL_YAML_MAP;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            if (depth == 0)
                *root = stack[0].node;
            break;
        default:
            break;
        }
        if (rc == 0 && node != NULL) {
            node->line = (int)line;
            node->col = (int)col;
            if (depth > 0) {
                struct building *top = &stack[depth - 1];

                if (top->node->kind == SL_YAML_MAP && !top->want_value) {
                    if (node->kind != SL_YAML_SCALAR) {
                        rc = fail_at(d, path, line, "a mapping key must be a plain value");
                    } else if (sl_yaml_get(top->node, node->str) != NULL) {
                        char msg[300];

                        snprintf(msg, sizeof(msg), "duplicate key '%.200s'", node->str);
                        rc = fail_at(d, path, line, msg);
                    } else {
                        push_item(a, top, node, true);
                        top->want_value = true;
                    }
                } else {
                    push_item(a, top, node, false);
                    top->want_value = false;
                }
            } else if (node->kind == SL_YAML_SCALAR) {
                *root = node;
            }
            if (rc == 0 && node->kind != SL_YAML_SCALAR) {
                if (depth == MAX_DEPTH) {
                    rc = fail_at(d, path, line, "YAML nested too deeply");
                } else {
                    stack[depth].node = node;
                    stack[depth].cap = 0;
                    stack[depth].want_value = false;
                    depth++;
                }
            }
        }
        yaml_event_delete(&ev);
        if (rc < 0)
            break;
    }
    yaml_parser_delete(&p);
    if (rc == 0 && *root == NULL) {
        *root = sl_arena_zalloc(a, sizeof(**root));
        (*root)->kind = SL_YAML_MAP;
        (*root)->line = 1;
        (*root)->col = 1;
    }
    return rc;
}

struct sl_yaml *
sl_yaml_get(const struct sl_yaml *map, const char *key)
{
    if (map == NULL || map->kind != SL_YAML_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->str, key) == 0)
            return map->items[i];
    return NULL;
}

bool
sl_yaml_is_null(const struct sl_yaml *n)
{
    if (n == NULL)
        return true;
    if (n->kind != SL_YAML_SCALAR || !n->plain)
        return false;
    return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

const char *
sl_yaml_kind_name(const struct sl_yaml *n)
{
    switch (n->kind) {
    case SL_YAML_MAP:
        return "a mapping";
    case SL_YAML_SEQ:
        return "a list";
    default:
        return "a single value";
    }
}
