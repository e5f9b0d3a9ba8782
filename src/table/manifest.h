/*
 * manifest.h - Iceberg v2 manifests and manifest lists, as Avro object
 * container files (avro-c).
 *
 * A snapshot names one manifest list; the list names manifests; a manifest
 * names data files (content "data") or delete files (content "deletes"),
 * never both, all under one partition spec.  This file writes and reads
 * both kinds to the letter of the Iceberg spec (format v2 only): the
 * spec's field ids on every field ("field-id", "element-id", and the
 * array-of-records encoding with logicalType "map" for int-keyed maps),
 * optional fields as ["null", T] unions with default null, Java's record
 * names (manifest_entry, r2, r102, r508, k117_v118, ...), and the Avro
 * key-value metadata readers expect:
 *
 *   manifest        schema, schema-id, partition-spec, partition-spec-id,
 *                   format-version "2", content "data" | "deletes"
 *   manifest list   snapshot-id, parent-snapshot-id, sequence-number,
 *                   format-version "2"
 *
 * No v3 field is ever written (first_row_id, referenced vectors ...).
 *
 * Reading resolves fields by name against the writer's schema, so files
 * written by other engines (Java, PyIceberg) read too; a file that is not
 * an Avro container, or lacks a required field, is SL_ERR_CORRUPT naming
 * the file and the field.  Files are written whole to a local path; the
 * caller stages and publishes them (store.h).
 */
#ifndef SL_TABLE_MANIFEST_H
#define SL_TABLE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/mem.h"

enum mf_status {
    MF_EXISTING = 0,
    MF_ADDED = 1,
    MF_DELETED = 2,
};

enum mf_content {
    MF_DATA = 0,
    MF_POSITION_DELETES = 1,
    MF_EQUALITY_DELETES = 2,
};

/* The type of a partition field's value (the transform's result type). */
enum mf_ptype {
    MF_PT_INT,       /* int: bucket, year, month, hour; identity/truncate of int */
    MF_PT_LONG,      /* long */
    MF_PT_DATE,      /* date (days since 1970-01-01): day, identity of date */
    MF_PT_TIMESTAMPTZ, /* micros since epoch, UTC: identity of timestamptz */
    MF_PT_STRING,    /* identity/truncate of string */
    MF_PT_BOOLEAN,
    MF_PT_DOUBLE,
};

/* One field of the partition spec a manifest is written under. */
struct mf_partition_field {
    int32_t field_id;    /* partition field id (1000, 1001, ...) */
    const char *name;    /* "event_time_day" */
    enum mf_ptype type;
};

/* A partition value; null when !set. */
struct mf_pvalue {
    bool set;
    int64_t i;           /* INT, LONG, DATE, TIMESTAMPTZ, BOOLEAN (0/1) */
    double f;            /* DOUBLE */
    const char *s;       /* STRING (UTF-8, NUL-terminated) */
};

/* Statistics of one column of a file; a negative count means absent, a
 * NULL bound absent.  Bounds are in Iceberg's single-value binary form. */
struct mf_column_stats {
    int32_t field_id;
    int64_t column_size;
    int64_t value_count;
    int64_t null_count;
    int64_t nan_count;
    const uint8_t *lower;
    size_t lower_len;
    const uint8_t *upper;
    size_t upper_len;
};

/* One manifest entry: a file and its status in the snapshot. */
struct mf_entry {
    enum mf_status status;
    int64_t snapshot_id;          /* -1: null (inherited from the list) */
    int64_t sequence_number;      /* -1: null (inherited; ADDED only) */
    int64_t file_sequence_number; /* -1: null (inherited; ADDED only) */
    enum mf_content content;
    const char *file_path;        /* absolute URI, file:///... */
    const char *file_format;      /* "PARQUET" */
    struct mf_pvalue *partition;  /* one per partition field */
    int64_t record_count;
    int64_t file_size;
    size_t nstats;
    struct mf_column_stats *stats;
    int64_t *split_offsets;       /* NULL when absent */
    size_t nsplit_offsets;
    int32_t sort_order_id;        /* -1: null */
    const char *referenced_data_file; /* position deletes of one file, or NULL */
    int32_t *equality_ids;        /* MF_EQUALITY_DELETES: the columns matched */
    size_t nequality_ids;         /* (required there, NULL otherwise) */
};

/*
 * What a manifest holds, as its manifest-list row states it: one per
 * partition field.  Bounds are the single-value binary form of the field's
 * type, lower_len/upper_len bytes long: in lower/upper for every type but
 * STRING, in lower_str/upper_str (NUL-terminated, arena) for STRING.  The
 * list reader does not know the fields' types, so it fills both: the
 * arrays when the bound fits in 16 bytes, and the strings always.
 */
struct mf_field_summary {
    bool contains_null;          /* some entry's value is null */
    bool contains_nan;           /* some entry's value is NaN (DOUBLE) */
    bool has_bounds;             /* some value is neither null nor NaN */
    uint8_t lower[16], upper[16];
    size_t lower_len, upper_len;
    char *lower_str, *upper_str;
};

/* A manifest-list row (manifest_file). */
struct mf_manifest {
    const char *path;             /* absolute URI of the manifest */
    int64_t length;               /* its size in bytes */
    int32_t partition_spec_id;
    enum mf_content content;      /* MF_DATA or MF_POSITION_DELETES (= deletes) */
    int64_t sequence_number;      /* -1: the snapshot's own (written as it) */
    int64_t min_sequence_number;  /* -1: the snapshot's own */
    int64_t added_snapshot_id;
    int32_t added_files_count, existing_files_count, deleted_files_count;
    int64_t added_rows_count, existing_rows_count, deleted_rows_count;
    size_t npartitions;
    struct mf_field_summary *partitions; /* one per partition field */
    /* Writing a list: the partition fields of this manifest's spec when
     * they are not the list's (a table whose partitioning evolved keeps
     * manifests of its older specs); NULL: the list's.  Not read. */
    const struct mf_partition_field *fields;
    size_t nfields;
};

/* How a manifest is written: the table's schema and spec as JSON text. */
struct mf_writer_opts {
    const char *schema_json;      /* the current schema object */
    int32_t schema_id;
    const char *spec_fields_json; /* the spec's "fields" array */
    int32_t spec_id;
    size_t nfields;
    const struct mf_partition_field *fields;
    enum mf_content content;      /* MF_DATA: "data", otherwise "deletes" */
    int64_t snapshot_id;          /* fills added_snapshot_id of *out */
};

/*
 * Write entries to a new manifest at path (a local file, replaced
 * atomically if present) and describe it in *out (path left NULL for the
 * caller, sequence_number -1, counts and partition summaries filled).
 * Entries' content must agree with opts->content; EXISTING and DELETED
 * entries carry both sequence numbers (only ADDED ones may inherit).
 * As Java's ManifestWriter: counts go by status; partition summaries
 * cover every entry, DELETED ones too; min_sequence_number is the lowest
 * explicit data sequence number of a live (ADDED or EXISTING) entry, or -1
 * (the snapshot's own, given by mf_write_list) when there is none: entries
 * that inherit get the new snapshot's number, higher than any assigned
 * before.  String bounds in *out are allocated in a.  Returns 0, or
 * SL_ERR_INPUT for entries or options the spec does not allow (nothing is
 * written then), or an errno from writing the file.
 */
int mf_write_manifest(const char *path, const struct mf_writer_opts *opts,
                      const struct mf_entry *entries, size_t n, struct sl_arena *a,
                      struct mf_manifest *out, struct sl_diag *d);

/*
 * Write a manifest list for snapshot snapshot_id (parent -1: none) with
 * sequence number seq: one row per manifest; a row whose sequence_number
 * or min_sequence_number is -1 gets seq.  fields[i] describes manifests'
 * partition summaries (all manifests here share the spec's field types;
 * npartitions of each must match nfields).
 */
int mf_write_list(const char *path, int64_t snapshot_id, int64_t parent_id, int64_t seq,
                  const struct mf_manifest *manifests, size_t n,
                  const struct mf_partition_field *fields, size_t nfields,
                  struct sl_diag *d);

/*
 * Read a manifest list; *out (and every string) allocated in a.  Fields
 * are found by name; content and the sequence numbers, absent from v1
 * lists, read as 0.  Returns 0, SL_ERR_CORRUPT naming the file, record
 * and field, or an errno (a missing file is -ENOENT).  On failure the
 * arena may hold part of what was read.
 */
int mf_read_list(const char *path, struct sl_arena *a, struct mf_manifest **out, size_t *n,
                 struct sl_diag *d);

/*
 * Read a manifest's entries into *out, allocated in a.  Inherited values
 * (null snapshot id and sequence numbers) are filled from m, the
 * manifest-list row that named it, as the spec says readers must: the
 * snapshot id always, the sequence numbers for ADDED entries (or any
 * entry when m's sequence number is 0, a v1 manifest); a null data
 * sequence number on another entry is SL_ERR_CORRUPT, a null file
 * sequence number there stays -1.  m's length, when above 0, must be the
 * file's (Avro cannot tell a file cut between blocks from a whole one).
 * m may be NULL: nothing is inherited or checked.
 * Statistics and partition values are read; statistics come back one per
 * column, by field id; partition values by the manifest's own partition
 * field order.  *fields and *nfields (if not NULL) receive the partition
 * fields read from the file's schema (field-id and logical types from the
 * header's schema text; timestamp without zone reads as TIMESTAMPTZ,
 * float as DOUBLE).  Returns 0, SL_ERR_CORRUPT naming the file, record and
 * field, SL_ERR_INCOMPATIBLE for a partition type not in enum mf_ptype
 * (decimal, uuid, binary, fixed), or an errno.
 */
int mf_read_manifest(const char *path, const struct mf_manifest *m, struct sl_arena *a,
                     struct mf_entry **out, size_t *n, struct mf_partition_field **fields,
                     size_t *nfields, struct sl_diag *d);

#endif
