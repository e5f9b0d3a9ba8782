/*
 * yaml/fuzz.c - libFuzzer target for YAML and what is read from it.
 *
 * The input is parsed with sl_yaml_parse() as sources/orders.yaml would be;
 * the tree is walked and checked (line numbers, NUL-terminated scalars, no
 * duplicate keys, bounded depth); then it is read as a source file with
 * contract_parse_source() and as sluice.yaml with sl_conf_load().  A source
 * that parses must hold up: every version's canonical JSON text must read
 * back into the same version, and the column lookup must find every
 * column.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/diag.h"
#include "core/mem.h"
#include "core/yaml.h"
#include "project/contract.h"
#include "project/project.h"
#include "transform/reader.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* sl_yaml_parse() refuses more open collections than this. */
#define YAML_MAX_DEPTH 64

static volatile uint64_t sink;

static void
touch(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0;

    for (size_t i = 0; i < n; i++)
        h = h * 31 + s[i];
    sink += h;
}

/* A failure must come with words; render them as the CLI would. */
static void
check_diag(const struct sl_diag *d, int rc)
{
    char msg[4096];

    FZ_ASSERT(rc < 0);
    FZ_ASSERT(d->code == rc);
    FZ_ASSERT(d->msg[0] != '\0');
    sl_diag_format(d, msg, sizeof(msg));
    touch(msg, strlen(msg));
}

static void
walk(const struct sl_yaml *n, int depth)
{
    FZ_ASSERT(n != NULL);
    FZ_ASSERT(depth <= YAML_MAX_DEPTH + 1);
    FZ_ASSERT(n->line >= 1 && n->col >= 1);
    switch (n->kind) {
    case SL_YAML_SCALAR:
        FZ_ASSERT(n->str != NULL && n->str[n->len] == '\0');
        FZ_ASSERT(n->n == 0);
        touch(n->str, n->len);
        break;
    case SL_YAML_SEQ:
        for (size_t i = 0; i < n->n; i++)
            walk(n->items[i], depth + 1);
        break;
    case SL_YAML_MAP:
        for (size_t i = 0; i < n->n; i++) {
            FZ_ASSERT(n->keys[i] != NULL && n->keys[i]->kind == SL_YAML_SCALAR);
            walk(n->keys[i], depth + 1);
            walk(n->items[i], depth + 1);
            /* Keys are unique, so a lookup finds this very pair. */
            FZ_ASSERT(sl_yaml_get(n, n->keys[i]->str) == n->items[i]);
        }
        break;
    default:
        FZ_ASSERT(!"a node of no known kind");
    }
    touch(sl_yaml_kind_name(n), 4);
}

static void
check_version(const struct source *s, const struct contract *c, struct sl_arena *a)
{
    char canon[32], diff[512];
    int major, minor;
    struct colmap map;
    struct sl_buf text, again;
    struct sl_yaml *node;
    struct contract back;
    struct sl_diag d;

    FZ_ASSERT(contract_parse_version_name(c->version, &major, &minor, canon, sizeof(canon)) == 0);
    FZ_ASSERT(strcmp(canon, c->version) == 0 && major == c->major && minor == c->minor);
    FZ_ASSERT(source_version(s, c->version) == c);
    FZ_ASSERT(c->ncolumns >= 1 && c->ncolumns <= CONTRACT_MAX_COLUMNS);
    FZ_ASSERT(c->nkey >= 1 && c->nkey <= CONTRACT_MAX_KEY);
    for (size_t i = 0; i < c->nkey; i++) {
        FZ_ASSERT(c->key[i] >= 0 && (size_t)c->key[i] < c->ncolumns);
        FZ_ASSERT(c->columns[c->key[i]].required);
    }
    FZ_ASSERT(c->event_time >= 0 && (size_t)c->event_time < c->ncolumns);
    FZ_ASSERT(c->columns[c->event_time].required);
    FZ_ASSERT(c->columns[c->event_time].type.id == SL_TYPE_TIMESTAMP ||
          c->columns[c->event_time].type.id == SL_TYPE_DATE);
    /* A bucket's column is a required one of a type Iceberg buckets. */
    if (c->partition == CONTRACT_PART_BUCKET) {
        enum sl_type_id t;

        FZ_ASSERT(c->bucket_column >= 0 && (size_t)c->bucket_column < c->ncolumns);
        FZ_ASSERT(c->bucket_n >= 1 && c->bucket_n <= CONTRACT_MAX_BUCKETS);
        FZ_ASSERT(c->columns[c->bucket_column].required);
        t = c->columns[c->bucket_column].type.id;
        FZ_ASSERT(t == SL_TYPE_INT64 || t == SL_TYPE_DECIMAL || t == SL_TYPE_DATE ||
                  t == SL_TYPE_TIMESTAMP || t == SL_TYPE_STRING);
    }

    /* The readers' column lookup finds every column, and only columns. */
    colmap_init(&map, c);
    for (size_t i = 0; i < c->ncolumns; i++) {
        const char *name = c->columns[i].name;

        FZ_ASSERT(contract_name_valid(name));
        FZ_ASSERT(colmap_find(&map, name, strlen(name)) == (int)i);
        FZ_ASSERT(contract_column_index(c, name) == (int)i);
    }
    FZ_ASSERT(colmap_find(&map, "_raw_object", 11) == -1);
    colmap_release(&map);

    /* The canonical text reads back into the same version, and says the
     * same again. */
    sl_buf_init(&text);
    sl_buf_init(&again);
    sl_diag_init(&d);
    contract_canonical(c, &text);
    FZ_ASSERT(sl_yaml_parse("canonical", text.data, text.len, a, &node, &d) == 0);
    FZ_ASSERT(contract_parse_version("canonical", node, a, &back, &d) == 0);
    FZ_ASSERT(!contract_diff(c, &back, diff, sizeof(diff)));
    FZ_ASSERT(!contract_diff(&back, c, diff, sizeof(diff)));
    FZ_ASSERT(contract_check_compatible(c, &back, &d) == 0);
    contract_canonical(&back, &again);
    FZ_ASSERT(text.len == again.len && memcmp(text.data, again.data, text.len) == 0);
    sl_buf_release(&text);
    sl_buf_release(&again);
}

static void
check_source(const struct sl_yaml *root, struct sl_arena *a)
{
    struct source s;
    struct sl_diag d;
    int rc;

    sl_diag_init(&d);
    rc = contract_parse_source("orders", "sources/orders.yaml", root, a, &s, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT || rc == SL_ERR_INCOMPATIBLE);
        check_diag(&d, rc);
        return;
    }
    FZ_ASSERT(d.code == 0);
    FZ_ASSERT(s.nversions >= 1 && s.system != NULL);
    touch(s.system, strlen(s.system));
    for (size_t i = 0; i < s.nversions; i++) {
        const struct contract *c = &s.versions[i];

        check_version(&s, c, a);
        if (i > 0) {
            const struct contract *prev = &s.versions[i - 1];

            FZ_ASSERT(prev->major < c->major || (prev->major == c->major && prev->minor < c->minor));
            if (prev->major == c->major)
                FZ_ASSERT(contract_check_compatible(prev, c, NULL) == 0);
        }
    }
    FZ_ASSERT(source_latest(&s, -1) == &s.versions[s.nversions - 1]);
    FZ_ASSERT(source_latest(&s, s.versions[0].major) != NULL);
}

static void
check_config(const struct sl_yaml *root, struct sl_arena *a)
{
    struct project_config cfg;
    struct sl_diag d;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    sl_diag_init(&d);
    sl_conf_defaults(project_conf_sections, &cfg, a);
    rc = sl_conf_load(project_conf_sections, &cfg, root, "sluice.yaml", a, &d);
    if (rc < 0) {
        check_diag(&d, rc);
        return;
    }
    /* Whatever loaded is within the bounds of the key tables. */
    FZ_ASSERT(cfg.lake != NULL);
    touch(cfg.lake, strlen(cfg.lake));
    FZ_ASSERT(cfg.engine.threads >= 0 && cfg.engine.threads <= 256);
    FZ_ASSERT(cfg.engine.memory_limit >= 64LL << 20 && cfg.engine.memory_limit <= 1LL << 50);
    FZ_ASSERT(cfg.transform.zstd_level >= 1 && cfg.transform.zstd_level <= 22);
    FZ_ASSERT(cfg.transform.row_group_rows >= 2048 && cfg.transform.row_group_rows <= 100000000);
    FZ_ASSERT(cfg.transform.max_record_bytes >= 1024 && cfg.transform.max_record_bytes <= 1LL << 30);
    FZ_ASSERT(cfg.transform.max_file_rows >= 1000 && cfg.transform.max_file_rows <= 1000000000);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_arena a;
    struct sl_yaml *root;
    struct sl_diag d;
    int rc;

    sl_arena_init(&a, 0);
    sl_diag_init(&d);
    rc = sl_yaml_parse("sources/orders.yaml", (const char *)data, size, &a, &root, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT);
        check_diag(&d, rc);
    } else {
        FZ_ASSERT(root != NULL);
        walk(root, 1);
        check_source(root, &a);
        check_config(root, &a);
    }
    sl_arena_release(&a);
    return 0;
}
