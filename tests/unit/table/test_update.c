/*
 * test_update.c - the Iceberg REST catalog's commits on a metadata
 * document (table_apply_commit): each requirement met and unmet, the
 * updates' id assignment, and the words of each refusal.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "table/table.h"
#include "test.h"

#define LOC "file:///lake/tables/lab/t"

static const char *const META =
    "{\"format-version\":2,\"table-uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c1\","
    "\"location\":\"" LOC "\",\"last-sequence-number\":3,\"last-updated-ms\":1,"
    "\"last-column-id\":2,\"current-schema-id\":0,\"schemas\":[{\"type\":\"struct\","
    "\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"}]}],"
    "\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
    "\"last-partition-id\":999,\"default-sort-order-id\":0,\"sort-orders\":[{\"order-id\":0,"
    "\"fields\":[]}],\"properties\":{\"a\":\"b\"},\"current-snapshot-id\":7,"
    "\"refs\":{\"main\":{\"snapshot-id\":7,\"type\":\"branch\"}},\"snapshots\":[{"
    "\"snapshot-id\":7,\"sequence-number\":3,\"timestamp-ms\":1,\"manifest-list\":\"" LOC
    "/metadata/snap-7.avro\",\"summary\":{\"operation\":\"append\"}}],"
    "\"snapshot-log\":[],\"metadata-log\":[]}";

static struct sl_diag d;

/* Apply req to META; the result's root (caller decrefs), NULL on error. */
static json_t *
apply(const char *req, int want)
{
    char *next = NULL;
    json_t *m;

    sl_diag_init(&d);
    CHECK_INT(table_apply_commit(META, "lab", "t", req, strlen(req), &next, &d), want);
    if (want < 0) {
        CHECK(next == NULL && d.msg[0] != '\0');
        return NULL;
    }
    CHECK(next != NULL);
    m = json_loads(next, 0, NULL);
    free(next);
    CHECK(json_is_object(m));
    return m;
}

static json_int_t
int_of(json_t *m, const char *key)
{
    return json_integer_value(json_object_get(m, key));
}

TEST(requirements_met_and_unmet)
{
    char *next = (char *)1;
    json_t *m;

    m = apply("{\"requirements\":[{\"type\":\"assert-table-uuid\","
              "\"uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c1\"},"
              "{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\",\"snapshot-id\":7},"
              "{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"dev\",\"snapshot-id\":null},"
              "{\"type\":\"assert-last-assigned-field-id\",\"last-assigned-field-id\":2},"
              "{\"type\":\"assert-current-schema-id\",\"current-schema-id\":0},"
              "{\"type\":\"assert-last-assigned-partition-id\",\"last-assigned-partition-id\":999},"
              "{\"type\":\"assert-default-spec-id\",\"default-spec-id\":0},"
              "{\"type\":\"assert-default-sort-order-id\",\"default-sort-order-id\":0}],"
              "\"updates\":[{\"action\":\"set-properties\",\"updates\":{\"c\":\"d\"}}]}",
              0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(m, "properties"), "c")), "d");
    json_decref(m);
    /* No updates: nothing to write. */
    sl_diag_init(&d);
    CHECK_INT(table_apply_commit(META, "lab", "t", "{\"updates\":[]}", 14, &next, &d), 0);
    CHECK(next == NULL);

    apply("{\"requirements\":[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\","
          "\"snapshot-id\":6}],\"updates\":[]}",
          SL_ERR_CONFLICT);
    CHECK_HAS(d.msg, "'main' is at snapshot 7, not 6");
    apply("{\"requirements\":[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\","
          "\"snapshot-id\":null}],\"updates\":[]}",
          SL_ERR_CONFLICT);
    CHECK_HAS(d.msg, "lab.t");
    apply("{\"requirements\":[{\"type\":\"assert-create\"}],\"updates\":[]}", SL_ERR_CONFLICT);
    apply("{\"requirements\":[{\"type\":\"assert-default-spec-id\",\"default-spec-id\":1}],"
          "\"updates\":[]}",
          SL_ERR_CONFLICT);
    CHECK_HAS(d.msg, "default-spec-id");
    apply("{\"requirements\":[{\"type\":\"assert-table-uuid\",\"uuid\":\"x\"}],\"updates\":[]}",
          SL_ERR_CONFLICT);
}

TEST(evolution_assigns_ids)
{
    json_t *m = apply(
        "{\"updates\":[{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\",\"fields\":["
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
        "{\"id\":3,\"name\":\"tags\",\"required\":false,\"type\":{\"type\":\"list\","
        "\"element-id\":4,\"element\":\"string\",\"element-required\":false}}]}},"
        "{\"action\":\"set-current-schema\",\"schema-id\":-1},"
        "{\"action\":\"add-spec\",\"spec\":{\"fields\":[{\"source-id\":1,\"name\":\"b\","
        "\"transform\":\"bucket[8]\"}]}},{\"action\":\"set-default-spec\",\"spec-id\":-1},"
        "{\"action\":\"add-sort-order\",\"sort-order\":{\"order-id\":9,\"fields\":[{"
        "\"source-id\":1,\"transform\":\"identity\",\"direction\":\"desc\","
        "\"null-order\":\"nulls-last\"}]}},{\"action\":\"set-default-sort-order\","
        "\"sort-order-id\":-1}]}",
        0);
    json_t *spec;

    CHECK_INT(int_of(m, "current-schema-id"), 1);
    CHECK_INT(int_of(m, "last-column-id"), 4);
    CHECK_INT(int_of(m, "default-spec-id"), 1);
    CHECK_INT(int_of(m, "last-partition-id"), 1000);
    spec = json_array_get(json_object_get(m, "partition-specs"), 1);
    CHECK_INT(int_of(json_array_get(json_object_get(spec, "fields"), 0), "field-id"), 1000);
    CHECK_INT(int_of(m, "default-sort-order-id"), 1);
    json_decref(m);

    /* A schema equal to one the table has is not added again. */
    m = apply("{\"updates\":[{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\","
              "\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
              "{\"id\":2,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"}]}},"
              "{\"action\":\"set-current-schema\",\"schema-id\":-1}]}",
              0);
    CHECK_INT(json_array_size(json_object_get(m, "schemas")), 1);
    CHECK_INT(int_of(m, "current-schema-id"), 0);
    json_decref(m);
}

TEST(snapshots_and_refs)
{
    json_t *m = apply(
        "{\"updates\":[{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":8,"
        "\"parent-snapshot-id\":7,\"sequence-number\":4,\"timestamp-ms\":5,"
        "\"manifest-list\":\"" LOC "/metadata/snap-8.avro\",\"summary\":{\"operation\":"
        "\"append\"}}},{\"action\":\"set-snapshot-ref\",\"ref-name\":\"main\",\"type\":"
        "\"branch\",\"snapshot-id\":8},{\"action\":\"set-snapshot-ref\",\"ref-name\":\"v1\","
        "\"type\":\"tag\",\"snapshot-id\":7,\"max-ref-age-ms\":1000}]}",
        0);
    json_t *refs = json_object_get(m, "refs");

    CHECK_INT(int_of(m, "current-snapshot-id"), 8);
    CHECK_INT(int_of(m, "last-sequence-number"), 4);
    CHECK_INT(int_of(json_object_get(refs, "v1"), "max-ref-age-ms"), 1000);
    CHECK_INT(int_of(json_array_get(json_object_get(m, "snapshot-log"), 0), "snapshot-id"), 8);
    json_decref(m);

    /* Removing the current snapshot takes main with it. */
    m = apply("{\"updates\":[{\"action\":\"remove-snapshots\",\"snapshot-ids\":[7]}]}", 0);
    CHECK_INT(int_of(m, "current-snapshot-id"), -1);
    CHECK(json_object_get(json_object_get(m, "refs"), "main") == NULL);
    CHECK_INT(json_array_size(json_object_get(m, "snapshots")), 0);
    json_decref(m);

    apply("{\"updates\":[{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":8,"
          "\"sequence-number\":3,\"timestamp-ms\":5,\"manifest-list\":\"" LOC "/m.avro\","
          "\"summary\":{\"operation\":\"append\"}}}]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "'sequence-number' 3 is not past the table's last, 3");
    apply("{\"updates\":[{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":8,"
          "\"sequence-number\":4,\"timestamp-ms\":5,\"manifest-list\":\"file:///etc/x\","
          "\"summary\":{\"operation\":\"append\"}}}]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "not under the table's location");
    apply("{\"updates\":[{\"action\":\"set-snapshot-ref\",\"ref-name\":\"main\",\"type\":"
          "\"tag\",\"snapshot-id\":7}]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "'main' must be a branch");
}

TEST(refusals_name_the_member)
{
    apply("{\"updates\":", SL_ERR_INPUT);
    CHECK_HAS(d.msg, "CommitTableRequest");
    apply("[]", SL_ERR_INPUT);
    CHECK_HAS(d.msg, "must be a JSON object");
    apply("{\"requirements\":{},\"updates\":[]}", SL_ERR_INPUT);
    CHECK_HAS(d.msg, "'requirements' is not a list");
    apply("{\"updates\":[{\"action\":\"set-properties\",\"updates\":{}},{\"action\":\"x\"}]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "updates[1]: unknown or unsupported update action 'x'");
    apply("{\"updates\":[{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\","
          "\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"long\"},"
          "{\"id\":1,\"name\":\"b\",\"required\":true,\"type\":\"long\"}]}}]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "updates[0].schema.fields[1]: field id 1 is used twice");
    apply("{\"updates\":[{\"action\":\"set-current-schema\",\"schema-id\":-1}]}", SL_ERR_INPUT);
    CHECK_HAS(d.msg, "this commit added none");
    apply("{\"updates\":[{\"action\":\"upgrade-format-version\",\"format-version\":1}]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "downgrade");
    apply("{\"updates\":[{\"action\":\"upgrade-format-version\",\"format-version\":3}]}",
          SL_ERR_INPUT);
    apply("{\"updates\":[{\"action\":\"remove-properties\",\"removals\":[\"sluice.x\"]}]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "sluice's own");
    apply("{\"updates\":[{\"action\":\"set-location\",\"location\":\"file:///x\"}]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "cannot change");
    apply("{\"requirements\":[{\"type\":\"assert-current-schema-id\"}],\"updates\":[]}",
          SL_ERR_INPUT);
    CHECK_HAS(d.msg, "requirements[0]: 'current-schema-id' is missing");
}

TEST(names)
{
    CHECK(table_name_ok("orders"));
    CHECK(table_name_ok("Orders-2_b"));
    CHECK(!table_name_ok(""));
    CHECK(!table_name_ok("_staging"));
    CHECK(!table_name_ok("a.b"));
    CHECK(!table_name_ok("a/b"));
    CHECK(!table_name_ok(".."));
    CHECK(table_managed("{\"properties\":{\"sluice.managed-by\":\"sluice\"}}"));
    CHECK(!table_managed(META));
    CHECK(!table_managed("not json"));
}
