/*
 * putrecords_bench.c - PutRecords bodies through the fast path and through
 * the general parser, on the same bytes in the same run.
 *
 * The bodies are what Kinesis producers send: 500 records, each ~200 bytes
 * of Data (268 base64 characters) and a short partition key, in the member
 * order of botocore and Fluent Bit.  putrecords_parse writes into its body,
 * so each round gets a fresh copy; only the parse is timed.  wire_parse
 * builds the whole tree and decodes nothing, so the comparison flatters it
 * (the handler would still call wire_blob 500 times); a second figure adds
 * that.
 *
 *   build/release/bench/putrecords_bench [rounds]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "server/putrecords.h"
#include "server/wire.h"
#include "core/banned.h"

#define NRECS 500

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
make_body(struct sl_buf *b, uint64_t seed)
{
    uint8_t data[256];
    char text[400];

    sl_buf_adds(b, "{\"Records\":[");
    for (int i = 0; i < NRECS; i++) {
        size_t n = 190 + (size_t)(seed % 21); /* 190..210 bytes */

        for (size_t k = 0; k < n; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            data[k] = (uint8_t)(seed >> 56);
        }
        base64_encode(data, n, text);
        sl_buf_addf(b, "%s{\"Data\":\"%.*s\",\"PartitionKey\":\"pk-%08llx\"}", i ? "," : "",
                    (int)base64_encoded_len(n), text, (unsigned long long)(seed >> 32));
    }
    sl_buf_adds(b, "],\"StreamName\":\"bench-stream\"}");
}

int
main(int argc, char **argv)
{
    int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 2000;
    struct sl_buf body;
    struct put_record recs[NRECS];
    struct put_batch batch = {.recs = recs, .cap = NRECS};
    struct sl_arena arena;
    struct sl_diag d = {0};
    char *work;
    double t, fast = 0, slow = 0, slow_blob = 0;
    size_t sink = 0;

    sl_buf_init(&body);
    make_body(&body, 42);
    work = sl_malloc(body.len + 1);
    sl_arena_init(&arena, 1 << 20);
    for (int r = 0; r < rounds; r++) {
        memcpy(work, body.data, body.len + 1);
        t = now();
        if (putrecords_parse(PUT_KINESIS_RECORDS, work, body.len, &batch, &d) < 0 ||
            batch.n != NRECS) {
            fprintf(stderr, "putrecords_parse: %s\n", d.msg);
            return 1;
        }
        fast += now() - t;
        sink += recs[r % NRECS].data_len;
    }
    for (int r = 0; r < rounds; r++) {
        struct wire_value v;

        sl_arena_reset(&arena);
        t = now();
        if (wire_parse(WIRE_JSON, body.data, body.len, &arena, &v, &d) < 0) {
            fprintf(stderr, "wire_parse: %s\n", d.msg);
            return 1;
        }
        slow += now() - t;
        const struct wire_value *a = wire_get(&v, "Records");

        for (size_t i = 0; i < a->u.a.n; i++) {
            const uint8_t *p;
            size_t n;

            if (wire_blob(wire_get(&a->u.a.items[i], "Data"), &arena, &p, &n, &d) < 0)
                return 1;
            sink += n;
        }
        slow_blob += now() - t;
    }
    double mb = (double)body.len * rounds / 1e6, recs_n = (double)NRECS * rounds;

    printf("body: %zu bytes, %d records, %d rounds (sink %zu)\n", body.len, NRECS, rounds,
           sink % 7);
    printf("putrecords_parse          %8.0f MB/s  %10.0f records/s\n", mb / fast, recs_n / fast);
    printf("wire_parse (tree only)    %8.0f MB/s  %10.0f records/s\n", mb / slow, recs_n / slow);
    printf("wire_parse + wire_blob    %8.0f MB/s  %10.0f records/s\n", mb / slow_blob,
           recs_n / slow_blob);
    printf("ratio putrecords_parse / (wire_parse + wire_blob): %.1fx\n", slow_blob / fast);
    free(work);
    sl_arena_release(&arena);
    sl_buf_release(&body);
    return 0;
}
