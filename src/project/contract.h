/*
 * contract.h - sources and their data contracts.
 *
 * A source has one or more contract versions "MAJOR.MINOR".  A version lists
 * its columns (name, type, required or nullable), the dedup key (one or more
 * columns), the event-time column and the partitioning (partition_by: auto,
 * the default, or day, month, year, hour of the event time, none, or
 * bucket(N, column): Iceberg's bucket[N] of a required column).
 *
 * Compatibility, checked between consecutive versions of one major: the
 * later version keeps every column of the earlier one unchanged and may only
 * add nullable columns; key, event time and partitioning stay.  Anything
 * else - a removed column, a changed type, a column made required - needs a
 * new major version, and each major version is its own curated table.
 * Versions, once registered in the catalog, are immutable.
 *
 * The canonical text of a version (contract_canonical) is what the catalog
 * stores and compares; it is JSON, which the YAML parser reads back.
 */
#ifndef SL_CONTRACT_H
#define SL_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/mem.h"
#include "core/conf.h"
#include "core/type.h"
#include "core/yaml.h"

#define CONTRACT_MAX_COLUMNS 1024
#define CONTRACT_MAX_KEY 16

struct contract_column {
    const char *name;
    struct sl_type type;
    bool required;
    int line; /* in the source file, 0 if from the catalog */
};

enum contract_unknown {
    CONTRACT_UNKNOWN_REJECT, /* a record with an unknown field is quarantined */
    CONTRACT_UNKNOWN_IGNORE, /* unknown fields are left out (still in raw) */
};

/* How a contract's curated table is partitioned: by its event time, or by
 * a hash of one column. */
enum contract_partition {
    CONTRACT_PART_AUTO,   /* absent: a new table's first run picks day, month
                             or year by its rows per day; a table keeps its */
    CONTRACT_PART_DAY,    /* "day", or "event_day" as releases before wrote */
    CONTRACT_PART_MONTH,
    CONTRACT_PART_YEAR,
    CONTRACT_PART_HOUR,   /* a timestamp event time only */
    CONTRACT_PART_NONE,   /* unpartitioned */
    CONTRACT_PART_BUCKET, /* "bucket(N, column)" or "bucket[N](column)":
                             Iceberg's bucket[N] of a required column of a
                             type it hashes (not boolean or double) */
};

#define CONTRACT_MAX_BUCKETS 1000000 /* N of bucket(N, column), from 1 */

struct contract {
    const char *version;   /* canonical "MAJOR.MINOR" */
    enum contract_partition partition;
    bool partition_given;  /* partition_by was written (auto included) */
    int major, minor;
    size_t ncolumns;
    struct contract_column *columns;
    size_t nkey;
    int key[CONTRACT_MAX_KEY]; /* column indexes of the dedup key */
    int event_time;            /* column index of the event-time column */
    int bucket_column;         /* CONTRACT_PART_BUCKET: the column's index */
    int32_t bucket_n;          /* CONTRACT_PART_BUCKET: N, the number of buckets */
    enum contract_unknown unknown_fields;
    int line;                  /* where the version starts in the file */
};

/*
 * A source's stream (its `stream:` block): records put to it through the
 * Kinesis or Firehose API are delivered into the source's raw zone.
 */
struct source_stream {
    bool declared;             /* the block is present */
    char *name;                /* default: the source's name */
    char *kind;                /* "kinesis" or "firehose" */
    int64_t shards;
    int64_t retention_hours;
    int64_t max_record_size;   /* bytes of Data */
    int64_t write_limit_bytes; /* per shard and second; 0: none */
    int64_t write_limit_records;
    int64_t buffer_size;       /* delivery: flush at this size ... */
    int64_t buffer_interval;   /* ... or after this many seconds */
    char *compression;         /* "none" or "gzip" */
};

struct source {
    const char *name;
    const char *system;    /* the source system, e.g. "crm" */
    const char *path;      /* sources/<name>.yaml, for messages */
    size_t nversions;
    struct contract *versions; /* ascending by (major, minor) */
    struct source_stream stream;
    bool transform_on_arrival; /* on_arrival: transform */
};

/* The keys of a source's stream block (for help and the init sample). */
extern const struct sl_conf_section source_stream_conf[];

/*
 * Parse a source document.  name is the source name (from the file name),
 * path is used in messages.  Checks every version and the compatibility of
 * consecutive versions.  Memory from a.
 */
int contract_parse_source(const char *name, const char *path, const struct sl_yaml *root,
                          struct sl_arena *a, struct source *out, struct sl_diag *d);
/* Parse one version mapping (also the canonical form read back). */
int contract_parse_version(const char *path, const struct sl_yaml *node, struct sl_arena *a,
                           struct contract *out, struct sl_diag *d);
/* The version named v ("1", "1.0" ...), or NULL. */
const struct contract *source_version(const struct source *s, const char *v);
/* The latest version of the given major (major < 0: of all). */
const struct contract *source_latest(const struct source *s, int major);
/*
 * Whether later may follow earlier within one major version.  If not,
 * SL_ERR_INCOMPATIBLE with d saying exactly what changed.
 */
int contract_check_compatible(const struct contract *earlier, const struct contract *later,
                              struct sl_diag *d);
/* Describe the first difference between two versions' definitions into
 * out; false if they are the same. */
bool contract_diff(const struct contract *a, const struct contract *b, char *out,
                   size_t size);
/* The canonical JSON text of a version. */
void contract_canonical(const struct contract *c, struct sl_buf *out);
/* Parse "1", "1.2" into major and minor; canonical text into out. */
int contract_parse_version_name(const char *s, int *major, int *minor, char *out,
                                size_t size);
/* Index of the column named name, or -1. */
int contract_column_index(const struct contract *c, const char *name);
/* Whether s is a valid column name: a letter or '_', then letters, digits
 * and '_', at most 128 bytes.  (Source names are lower case; project.c.) */
bool contract_name_valid(const char *s);

#endif
