/*
 * ingest.h - landing batch files in the raw zone.
 *
 * ingest_files() lands files as raw objects of a source, tagged with a
 * contract version: each file is copied into staging while its SHA-256 is
 * computed, checked to be what its name says (gzip intact, CSV header
 * matching the contract, JSON or Avro where JSON or Avro is promised), and
 * then all of them are recorded in one catalog transaction and published
 * under
 *
 *   raw/<source>/YYYY/MM/DD/HH/<object-id>.<format>[.gz]
 *
 * (the hour of arrival, UTC).  The object id is the first 128 bits of the
 * SHA-256 of the bytes, in hex: the same bytes landed again are reported as
 * a duplicate and change nothing.  If any file is bad, nothing is landed.
 * sluice never modifies or deletes anything under raw/.
 */
#ifndef SL_INGEST_H
#define SL_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/raw.h"
#include "core/diag.h"
#include "project/contract.h"
#include "store/store.h"
#include "transform/reader.h"

#define INGEST_ID_LEN 32

struct ingest_result {
    char object_id[INGEST_ID_LEN + 1];
    char *key;              /* store key (the existing one for a duplicate) */
    int64_t size;
    bool duplicate;
    const char *format;     /* csv, jsonl, json, avro */
    const char *compression;/* none, gzip */
    int64_t seq;            /* catalog seq */
    struct reader_drift drift; /* the file's schema drift against the contract:
                             * its records read with the transform's readers
                             * (the first 16 MiB of content: drift.sampled);
                             * reported, not stored */
};

/*
 * Land paths[0..n) for source src tagged with contract c.  format, if not
 * NULL, overrides what the file names say.  results[i] describes paths[i];
 * free each with ingest_result_release().  Fails (changing nothing) on the
 * first bad file, with d naming it.
 */
int ingest_files(struct store *s, struct catalog *cat, const struct source *src,
                 const struct contract *c, const char *const *paths, size_t n,
                 const char *format, struct ingest_result *results, struct sl_diag *d);
void ingest_result_release(struct ingest_result *r);

/*
 * The format and compression a file name promises ("orders.csv.gz" ->
 * csv, gzip); SL_ERR_INPUT if the name does not say.
 */
int ingest_format_of(const char *name, const char **format, const char **compression);

#endif
