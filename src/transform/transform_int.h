/*
 * transform_int.h - what the files of transform/ share.  Not for outside.
 *
 * A run moves through these structures:
 *
 *   tobj      each raw object of the run: its bytes (mapped, or inflated
 *             from gzip) and its catalog record
 *   piece     a unit of parallel parsing: a whole object, or a range of
 *             whole lines of a large JSON-lines object; owns a struct rows
 *   ttable    a curated table the run writes (one per contract major):
 *             its pieces, the key table of the batch, the plan of output
 *             files per partition, and the files it retires
 *
 *   load.c     objects -> pieces -> rows (threads)
 *   merge.c    dedup within the batch and against the table; the plan
 *   write.c    the plan -> staged Parquet files through the engine
 *   quarantine.c  bad records -> one staged JSON-lines file
 *   run.c      batches, locking, the catalog transaction, publication
 *   compact.c  a table's small files and deletes rewritten (sluice compact)
 *   keys.c     the key file beside each data file, for the probe
 */
#ifndef SL_TRANSFORM_INT_H
#define SL_TRANSFORM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "catalog/raw.h"
#include "catalog/tables.h"
#include "commit/commit.h"
#include "core/buf.h"
#include "engine/engine.h"
#include "table/value.h"
#include "project/project.h"
#include "store/store.h"
#include "transform/reader.h"
#include "transform/rows.h"
#include "transform/transform.h"

/* Metadata columns sluice adds to every curated table, after the contract's. */
#define META_RAW_OBJECT "_raw_object"
#define META_RAW_POSITION "_raw_position"
#define META_INGESTED_AT "_ingested_at"
#define NMETA 3

struct tobj {
    struct rows_object ro;      /* what rows need to know */
    int64_t seq;
    const char *format;         /* csv, jsonl, json, avro */
    const char *data;           /* the object's (decompressed) bytes */
    size_t len;
    void *map;                  /* mmap()ed file, or NULL */
    size_t maplen;
    char *heap;                 /* inflated bytes, or NULL */
    int table;                  /* index into the run's tables */
    struct reader_drift drift;  /* its schema drift, merged from its pieces */
};

struct piece {
    struct tobj *obj;
    const char *data;
    size_t len;
    bool whole;                 /* the whole object (else JSON-lines range) */
    int64_t nlines;             /* line ends in the range */
    int64_t first_line;         /* absolute line of data[0] */
    struct colmap map;
    struct rows rows;
    uint8_t *state;             /* per row: enum row_state */
    int *colmap_out;            /* table column -> rows column, or -1 */
    int rc;
    struct sl_diag d;
};

enum row_state {
    ROW_DUP = 0,      /* lost to another record or to the table */
    ROW_NEW = 1,      /* a key new to the table */
    ROW_REPLACE = 2,  /* replaces the table's row for its key */
};

/* A slot of the batch key table: the winning record of a key. */
struct kslot {
    uint64_t hash;
    uint32_t piece;             /* UINT32_MAX: empty */
    uint32_t row;
};

/* A live file of the table, as the run found it. */
struct tfile {
    char *key;                  /* store key */
    char *uri;                  /* its URI in Iceberg metadata and deletes */
    char *path;                 /* local path for the engine */
    char *partition;            /* "YYYY-MM-DD" */
    int64_t rows;
    int64_t bytes;
    int32_t max_field_id;       /* it has the table's columns up to this id */
    int64_t deleted;            /* rows this run replaces */
    uint64_t *dels;             /* bitmap of those rows by position, or NULL */
    int64_t ngone;              /* rows live deletion files already retire */
    uint64_t *gone;             /* bitmap of those rows, or NULL */
    int64_t catalog_gone;       /* what the catalog says ngone is */
    bool merge;                 /* rewritten into the partition's new file */
    bool keyed;                 /* probed through its key file */
};

/* Whether bit is set in a file's row bitmap (NULL: none is). */
static inline bool
rowbit_has(const uint64_t *map, int64_t bit)
{
    return map != NULL && (map[bit / 64] >> (bit % 64) & 1);
}

/* A live deletion file of the table (see catalog.h). */
struct tdel {
    char *key;
    char *path;
    int64_t rows;
};

/* One output file: the new rows of a partition plus what it absorbs. */
struct tpart {
    int32_t value;              /* the partition value (ttable's part) */
    uint64_t *refs;             /* new rows: piece << 32 | row */
    size_t n, cap;
    size_t *files;              /* indexes into the table's files to merge */
    size_t nfiles, fcap;
    const char *staged_key;     /* staged output (the commit's) */
    char *final_key;
    int64_t out_rows;
    int64_t bytes;
    struct engine_file_stats stats; /* of the written file */
    const char *keys_staged;    /* its key file, staged (the commit's), or NULL */
    char *keys_key;
};

/* One of the run's deletion files: the delrefs of one partition's files (an
 * Iceberg position delete file holds one partition's deletes). */
struct tdelout {
    const char *partition;      /* its files' partition text */
    size_t first, n;            /* delrefs[first, first + n) */
    const char *staged_key;     /* the commit's */
    char *key;
    int64_t bytes;
};

/* A row of a table file: the file's index and the row's position. */
struct trow {
    uint32_t file;
    int64_t row;
};

/*
 * A row filter over (file index, file row number): keeps the rows whose bit
 * is clear in the files' dels and gone (the survivors of a rewrite).
 */
struct rowbits {
    const struct ttable *tt;
};

struct ttable {
    struct curated_table meta;  /* columns include the metadata ones */
    bool exists;                /* already in the catalog */
    bool upgrade;               /* written by a release before Iceberg tables:
                                   this run makes its first snapshot */
    int64_t sequence;           /* of the snapshot the run committed, or 0 */
    int64_t snapshot_id;        /* and its id */
    struct ival_transform part; /* the partitioning of the event time */
    bool part_known;            /* else a new table's first run picks it */
    bool changed;               /* columns or ids to record */
    const struct contract *latest;
    int major;
    struct piece **pieces;
    size_t npieces, pcap;

    struct kslot *slots;        /* the batch key table */
    size_t mask;

    struct tfile *files;        /* live files */
    size_t nfiles, fcap;
    struct tpart *parts;
    size_t nparts, partcap;
    size_t last_part;           /* part_for()'s last hit */
    struct tdel *deletes;       /* live deletion files */
    size_t ndeletes, dcap;

    /* This run's deletion files: the rows it replaces in files it keeps,
     * by file (key order, so days are contiguous) then position; one
     * deletion file per day. */
    struct trow *delrefs;
    size_t ndelrefs, delcap;
    struct tdelout *delouts;
    size_t ndelouts;

    int64_t inserted, replaced, duplicates, redelivered;
    int64_t files_added, files_removed, bytes_written;
    struct rowbits keep;        /* the write's filter of survivors */
};

struct trun {
    struct project *project;
    struct store *store;
    struct catalog *cat;
    const struct source *src;
    struct engine *engine;      /* opened on first need */
    bool hold_asked;            /* --hold: every run is held, whatever it is */
    bool held;                  /* the last run committed held */
    struct commit *commit;      /* the batch's run */
    int64_t run_id;
    const char *operation;      /* of its snapshots; NULL: from the change */
    int threads;

    struct tobj *objs;
    size_t nobjs;
    struct piece *pieces;
    size_t npieces;
    struct ttable *tables;
    size_t ntables;

    const char *quarantine_staged; /* staged key (the commit's), or NULL */
    char *quarantine_key;
    int64_t quarantined;
    int64_t records_in;
    struct sl_arena arena;
};

/* load.c */
int load_objects(struct trun *t, struct sl_diag *d);
int parse_pieces(struct trun *t, struct sl_diag *d);
void unload_objects(struct trun *t);

/* merge.c */
int table_prepare(struct trun *t, struct ttable *tt, struct sl_diag *d);
void dedup_batch(struct ttable *tt);
int probe_table(struct trun *t, struct ttable *tt, struct sl_diag *d);
/* Read the table's live deletion files into its files' gone bitmaps. */
int load_deletes(struct trun *t, struct ttable *tt, struct sl_diag *d);
void plan_outputs(struct trun *t, struct ttable *tt);
void table_release(struct ttable *tt);
/* An engine filter over a struct rowbits (thread-safe, read-only). */
void rowbits_filter(void *arg, const struct engine_chunk *ch, bool *out);
/* The winning slot of a key, or NULL (read-only; safe from any thread). */
const struct kslot *keytab_find(const struct ttable *tt, uint64_t hash, const char *key,
                                size_t len);

/* The canonical key of row i of a chunk whose first columns are the key
 * columns of contract c (same bytes as rows_end() makes).  Uses b when the
 * key must be encoded. */
const char *chunk_key(const struct contract *c, const struct engine_vec *v, size_t i,
                      struct sl_buf *b, size_t *len);

/* write.c */
int engine_for(struct trun *t, struct sl_diag *d);
/*
 * The first n columns of m as the engine knows them (name, type, field id),
 * in an array with room for extra more after them, zeroed.  Caller frees;
 * the names are borrowed from m.
 */
struct engine_column *curated_columns(const struct curated_table *m, size_t n, size_t extra);
int write_outputs(struct trun *t, struct ttable *tt, struct sl_diag *d);

/* quarantine.c */
int write_quarantine(struct trun *t, struct sl_diag *d);

/*
 * keys.c - key files.  Beside each data file the transform writes, a key
 * file (store/layout.h, layout_curated_keys_key()) holds for every row
 * what the probe needs: the key's two 64-bit hashes, the event time,
 * arrival, position and the values' fingerprint.  probe_table() scans a
 * file's h1 hashes against the batch key table and reads only the records
 * of rows the batch may replace, so a run costs what its batch costs, not
 * what the table holds.  A file without a usable key file is read.
 */
#define KEYS_SEED2 ROWS_KEY_SEED2
struct keyrec {
    uint64_t h2;                /* keys_h2() of the key */
    int64_t ev, at, pos;        /* event time, arrival, raw position */
    uint64_t row_hash;          /* the values' fingerprint (rows_end()) */
};
/* The second hash of a key (the first is the batch key table's). */
uint64_t keys_h2(const char *key, size_t len);
struct keyfile;
/* Open the key file at key of a data file of rows rows and bytes bytes:
 * 0, or SL_ERR_NOTFOUND if there is none or it does not match. */
int keyfile_open(struct store *s, const char *key, int64_t rows, int64_t bytes,
                 struct keyfile **out);
/* Its h1 hashes, one per row, checksummed at open. */
const uint64_t *keyfile_h1(const struct keyfile *kf);
/* The records of rows [first, first + n) (0, or SL_ERR_CORRUPT when one's
 * check fails or they cannot be read). */
int keyfile_recs(struct keyfile *kf, int64_t first, size_t n, struct keyrec *out);
void keyfile_close(struct keyfile *kf);
/* A key file being built, row by row in the data file's order. */
struct keywriter {
    struct sl_buf h1, recs;
    int64_t n;
};
void keywriter_add(struct keywriter *w, uint64_t h1, const struct keyrec *r);
/* Write w's key file to path, its data file's size left 0 (the file is
 * built beside the data file's write, which knows it only at the end), and
 * start it on its way to the disk; then put the size in. */
int keywriter_write(struct keywriter *w, const char *path, struct sl_diag *d);
int keyfile_set_data_bytes(const char *path, int64_t bytes, struct sl_diag *d);
void keywriter_release(struct keywriter *w);

/* run.c */
/* The run's table of contract major major (made on first use; *cap is the
 * capacity of t->tables). */
struct ttable *table_for(struct trun *t, size_t *cap, int major);
/* One table's outputs in the run's commit transaction (files, deletion
 * files, retirements), and its snapshot too when snapshot is set. */
int record_outputs(struct catalog_txn *txn, struct trun *t, struct ttable *tt, bool snapshot,
                   struct sl_diag *d);
/* What a run of t's source (t->project, store, cat, src set) starts with:
 * t->threads, the source's transform lock into *lock (SL_ERR_BUSY with a
 * hint while another holds it, unless wait), interrupted runs finished,
 * the source's contracts registered.  On failure *lock may be held. */
int trun_begin(struct trun *t, bool wait, struct catalog_lock **lock, struct sl_diag *d);
/* SL_ERR_BUSY: run_id of t's source is held; the hint ends in "then <then>". */
int trun_held(const struct trun *t, int64_t run_id, const char *then, struct sl_diag *d);
/* Forget the batch: objects, tables, the commit. */
void trun_reset(struct trun *t);

#endif
