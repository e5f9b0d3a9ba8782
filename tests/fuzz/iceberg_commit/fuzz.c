/*
 * iceberg_commit/fuzz.c - libFuzzer target for the Iceberg REST catalog's
 * commits (src/table/update.c): table_apply_commit().
 *
 * The first byte picks the metadata the commit starts from (a format 2
 * table with a snapshot, a branch and a tag, or a format 1 table without
 * snapshots); the rest is a CommitTableRequest.  A refusal must be
 * SL_ERR_INPUT or SL_ERR_CONFLICT with words and no result.  An accepted
 * commit's metadata must be a JSON object that keeps the table's location,
 * with its current schema, default spec and default sort order among its
 * lists, every ref and the current snapshot among its snapshots, no
 * format version past 2, and a last-column-id no field of any schema
 * exceeds.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table/table.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LOCATION "file:///lake/tables/lab/t"

static const char *const metas[] = {
    "{\"format-version\":2,\"table-uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c1\","
    "\"location\":\"" LOCATION "\",\"last-sequence-number\":3,\"last-updated-ms\":1,"
    "\"last-column-id\":4,\"current-schema-id\":0,\"schemas\":[{\"type\":\"struct\","
    "\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"m\",\"required\":false,\"type\":{\"type\":\"map\",\"key-id\":3,"
    "\"key\":\"string\",\"value-id\":4,\"value\":\"long\",\"value-required\":false}}]}],"
    "\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
    "\"last-partition-id\":999,\"default-sort-order-id\":0,\"sort-orders\":[{\"order-id\":0,"
    "\"fields\":[]}],\"properties\":{\"sluice.managed-by\":\"x\",\"a\":\"b\"},"
    "\"current-snapshot-id\":7,\"refs\":{\"main\":{\"snapshot-id\":7,\"type\":\"branch\"},"
    "\"t1\":{\"snapshot-id\":7,\"type\":\"tag\"}},\"snapshots\":[{\"snapshot-id\":7,"
    "\"sequence-number\":3,\"timestamp-ms\":1,\"manifest-list\":\"" LOCATION
    "/metadata/snap-7.avro\",\"summary\":{\"operation\":\"append\"}}],"
    "\"snapshot-log\":[{\"timestamp-ms\":1,\"snapshot-id\":7}],\"metadata-log\":[]}",
    "{\"format-version\":1,\"table-uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c2\","
    "\"location\":\"" LOCATION "\",\"last-updated-ms\":1,\"last-column-id\":1,"
    "\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,"
    "\"type\":\"long\"}]},\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":1,"
    "\"name\":\"id\",\"required\":true,\"type\":\"long\"}]}],\"current-schema-id\":0,"
    "\"partition-spec\":[],\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
    "\"default-spec-id\":0,\"last-partition-id\":999,\"sort-orders\":[{\"order-id\":0,"
    "\"fields\":[]}],\"default-sort-order-id\":0,\"properties\":{},\"snapshots\":[]}",
};

static bool
among(json_t *list, const char *key, json_t *id)
{
    json_t *x;
    size_t i;

    json_array_foreach(list, i, x) {
        if (json_equal(json_object_get(x, key), id))
            return true;
    }
    return false;
}

/* The highest field id in a type (as update.c counts them). */
static json_int_t
max_id(json_t *t)
{
    static const char *const ids[] = {"id", "element-id", "key-id", "value-id"};
    static const char *const nested[] = {"type", "element", "key", "value"};
    json_int_t max = 0, v;
    json_t *f;
    size_t i;

    if (!json_is_object(t))
        return 0;
    for (size_t k = 0; k < 4; k++) {
        v = json_integer_value(json_object_get(t, ids[k]));
        max = v > max ? v : max;
        v = max_id(json_object_get(t, nested[k]));
        max = v > max ? v : max;
    }
    json_array_foreach(json_object_get(t, "fields"), i, f) {
        v = max_id(f);
        max = v > max ? v : max;
    }
    return max;
}

static void
check(const char *text)
{
    json_t *m = json_loads(text, 0, NULL), *refs, *r, *x, *cur;
    const char *key;
    size_t i;

    FZ_ASSERT(json_is_object(m));
    FZ_ASSERT(strcmp(json_string_value(json_object_get(m, "location")), LOCATION) == 0);
    FZ_ASSERT(json_integer_value(json_object_get(m, "format-version")) <= 2);
    FZ_ASSERT(among(json_object_get(m, "schemas"), "schema-id",
                    json_object_get(m, "current-schema-id")));
    FZ_ASSERT(among(json_object_get(m, "partition-specs"), "spec-id",
                    json_object_get(m, "default-spec-id")));
    FZ_ASSERT(among(json_object_get(m, "sort-orders"), "order-id",
                    json_object_get(m, "default-sort-order-id")));
    refs = json_object_get(m, "refs");
    json_object_foreach(refs, key, r) {
        FZ_ASSERT(among(json_object_get(m, "snapshots"), "snapshot-id",
                        json_object_get(r, "snapshot-id")));
    }
    cur = json_object_get(m, "current-snapshot-id");
    FZ_ASSERT(cur == NULL || json_integer_value(cur) == -1 ||
              among(json_object_get(m, "snapshots"), "snapshot-id", cur));
    json_array_foreach(json_object_get(m, "schemas"), i, x) {
        FZ_ASSERT(max_id(x) <= json_integer_value(json_object_get(m, "last-column-id")));
    }
    json_decref(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_diag d;
    char *next = NULL;
    int rc;

    if (size < 1)
        return 0;
    sl_diag_init(&d);
    rc = table_apply_commit(metas[data[0] % 2], "lab", "t", (const char *)data + 1, size - 1,
                            &next, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT || rc == SL_ERR_CONFLICT);
        FZ_ASSERT(d.msg[0] != '\0' && next == NULL);
        return 0;
    }
    if (next != NULL)
        check(next);
    free(next);
    return 0;
}
