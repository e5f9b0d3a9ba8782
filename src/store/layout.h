/*
 * layout.h - where everything lives in the lake.
 *
 * This header owns the lake's layout: every name under the lake folder is
 * made here, and callers never put one together themselves.  The whole
 * lake, with the function that makes each name:
 *
 *   <lake>/
 *     raw/<source>/                                    layout_raw_prefix()
 *       YYYY/MM/DD/HH/<object-id>.<format>[.gz]        layout_raw_key()
 *     curated/<table>/                                 layout_curated_prefix()
 *       dt=YYYY-MM-DD/part-<run>-<n>.parquet           layout_curated_data_key()
 *         (month=YYYY-MM, year=YYYY, hour=YYYY-MM-DD-HH,
 *          <column>_bucket=<n>, or none)
 *       _deletes/delete-<run>-YYYY-MM-DD.parquet       layout_curated_deletes_key()
 *       metadata/...                                   Iceberg metadata (table/)
 *     quarantine/<source>/dt=YYYY-MM-DD/run-<run>.jsonl  layout_quarantine_key()
 *     gold/<model>/                                    layout_table_prefix("gold", ..)
 *       part-<run>-<n>.parquet, _deletes/..., metadata/  a gold model's Iceberg table
 *                                                      (keys as a curated table's)
 *     tables/<namespace>/<table>/                      layout_table_prefix()
 *       metadata/..., data as its writers place it     Iceberg tables made
 *                                                      through the REST catalog
 *     _streams/                                        layout_streams_dir()
 *       .iterator-key                                  layout_iterator_secret_file()
 *       <stream>/                                      layout_stream_dir()
 *         <shard-id>/                                  layout_shard_dir()
 *           <20 digits>.seg, lock                      the shard log's own (shardlog.c)
 *     _catalog/catalog.db                              layout_catalog_file()
 *       locks/<name>.lock                              the catalog's own (catalog/sqlite.c)
 *     _online/data.mdb, lock.mdb                       layout_online_dir(): the
 *                                                      embedded online feature
 *                                                      store (LMDB's own files)
 *     _staging/<pid>-<nonce>[.lock]                    the local back end's own (local.c)
 *
 *   <run>        the run id, at least 6 digits: 000042
 *   <n>          the file's number within its run and table, from 0
 *   <object-id>  32 hex digits, the first 128 bits of the SHA-256 of the bytes
 *   YYYY/MM/DD/HH, dt=YYYY-MM-DD   UTC: the arrival hour of a raw object,
 *                the day a curated file holds, the day of a quarantine run
 *   <shard-id>   "shardId-" and 12 digits, as Kinesis names shards
 *
 * Two kinds of names come out of here, and the function names say which:
 *
 *   keys (..._key, ..._prefix)   relative, '/'-separated names of objects
 *       in the store, e.g. "raw/orders/2026/10/03/12/<id>.csv.gz": what
 *       store_publish(), store_local_path() and store_list() take, and what
 *       the catalog records.  A prefix is the key of a folder, without a
 *       trailing '/'.  Zones (raw, curated, quarantine) hold only objects.
 *   local paths (..._dir, ..._file)   paths on this machine under the lake
 *       folder lake_dir, e.g. "/srv/lake/_catalog/catalog.db", for what is
 *       not an object in the store but a local file: the stream logs and
 *       the SQLite catalog.  They are lake_dir, '/' and the name below it;
 *       lake_dir is used as given.
 *
 * Changing anything here moves data: existing lakes are read with the
 * names these functions make, byte for byte.
 *
 * Every function returning char * returns a new heap string; the caller
 * frees it with free().  They cannot fail (an allocation failure aborts,
 * see core/mem.h).  All are thread-safe.
 */
#ifndef SL_STORE_LAYOUT_H
#define SL_STORE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- keys: the raw zone -------------------------------------------------- */

/*
 * The folder of source's raw objects: "raw/orders".  (A Firehose
 * destination shows it as the S3 prefix "raw/orders/".)
 */
char *layout_raw_prefix(const char *source);
/*
 * A raw object's key: "raw/orders/2026/10/03/12/<object_id>.csv.gz".
 * at (microseconds since the epoch) gives the UTC date and hour, format the
 * extension ("csv", "jsonl", "json", "avro"), gzip adds ".gz".
 */
char *layout_raw_key(const char *source, int64_t at, const char *object_id,
                     const char *format, bool gzip);
/*
 * s past the raw zone's folder when it starts with it: "raw/orders/" gives
 * "orders/", anything else s itself.  For prefixes that users give with or
 * without the zone (a Firehose destination's).  Points into s.
 */
const char *layout_skip_raw_zone(const char *s);

/* ---- keys: the curated zone ---------------------------------------------- */

/*
 * The folder of a curated table's files: "curated/orders" (table
 * "orders_v2" for major version 2: "curated/orders_v2").  The catalog
 * records it as the table's prefix.
 */
char *layout_curated_prefix(const char *table);
/*
 * The folder of Iceberg table ns.name: the curated table's for namespace
 * "curated", "gold/<name>" for a gold model's, else "tables/<ns>/<name>"
 * (tables made through the Iceberg REST catalog, kept apart from the zones
 * whatever their names).
 */
char *layout_table_prefix(const char *ns, const char *name);
/*
 * A data file's key under prefix (a table's, from layout_curated_prefix()):
 * file n of run run_id in the partition whose folder is dir=part (dir
 * "dt", "month", "year", "hour", "<column>_bucket"; NULL: an unpartitioned
 * table, no folder; ival_partition_folder() makes dir and part),
 * "curated/orders/dt=2026-10-03/part-000042-0.parquet".
 */
char *layout_curated_data_key(const char *prefix, const char *dir, const char *part,
                              int64_t run_id, size_t n);
/*
 * The deletion file of run run_id for partition part under prefix (a
 * table's): "curated/orders/_deletes/delete-000042-2026-10-03.parquet",
 * one per partition (an Iceberg position delete file holds deletes of
 * one); "delete-000042.parquet" when part is NULL or "" (unpartitioned).
 */
char *layout_curated_deletes_key(const char *prefix, const char *part, int64_t run_id);
/*
 * The key file of data file data_key under prefix (a table's): the key
 * index of its rows that a transform probes instead of reading the file,
 * "curated/orders/_keys/dt=2026-10-03/part-000042-0.keys".  NULL if
 * data_key is not a ".parquet" key under prefix.
 */
char *layout_curated_keys_key(const char *prefix, const char *data_key);
/* The data file whose key file is keys_key (the inverse of the above), or
 * NULL if keys_key is not a key file under prefix. */
char *layout_curated_keys_data(const char *prefix, const char *keys_key);
/*
 * Whether key, found under a curated table's prefix, is one of the table's
 * files (a data or a deletion file) that the catalog must know.  Other
 * names with a folder starting with '_' are not the table's data.
 */
bool layout_curated_is_table_file(const char *key);

/* ---- keys: the quarantine zone ------------------------------------------- */

/*
 * The file of records that run run_id of source rejected, on day (days
 * since the epoch): "quarantine/orders/dt=2026-10-03/run-000042.jsonl".
 */
char *layout_quarantine_key(const char *source, int32_t day, int64_t run_id);

/* ---- local paths: stream logs -------------------------------------------- */

/* The folder of every stream's logs: "<lake_dir>/_streams". */
char *layout_streams_dir(const char *lake_dir);
/* One stream's folder: "<lake_dir>/_streams/clicks". */
char *layout_stream_dir(const char *lake_dir, const char *stream);
/*
 * One shard's log folder:
 * "<lake_dir>/_streams/clicks/shardId-000000000001".
 */
char *layout_shard_dir(const char *lake_dir, const char *stream, const char *shard_id);
/*
 * The file holding the secret that signs shard iterators (a key in the
 * cryptographic sense, not a store key): "<lake_dir>/_streams/.iterator-key".
 */
char *layout_iterator_secret_file(const char *lake_dir);

/* ---- local paths: the catalog -------------------------------------------- */

/* The embedded SQLite catalog: "<lake_dir>/_catalog/catalog.db". */
char *layout_catalog_file(const char *lake_dir);
/* The embedded online feature store's folder: "<lake_dir>/_online". */
char *layout_online_dir(const char *lake_dir);

#endif
