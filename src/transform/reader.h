/*
 * reader.h - readers of raw formats into the row builder.
 *
 * Each reader takes the bytes of a raw object (decompressed), or for JSON
 * lines a range of whole lines, and drives struct rows (record.h).  Bad
 * records are quarantined through rows; the readers themselves only fail
 * for reasons outside the data.
 */
#ifndef SL_TRANSFORM_READER_H
#define SL_TRANSFORM_READER_H

#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "project/contract.h"
#include "transform/rows.h"

/* Column lookup by name, built once per contract version. */
struct colmap {
    size_t mask;        /* slots - 1 */
    int16_t *slot;      /* column index + 1, 0 empty */
    const struct contract *c;
};

void colmap_init(struct colmap *m, const struct contract *c);
void colmap_release(struct colmap *m);
/* Column index of name[0..len), or -1. */
int colmap_find(const struct colmap *m, const char *name, size_t len);

/* JSON lines: data holds whole lines; the first is line number first_line
 * and record number first_record. */
int read_jsonl(struct rows *r, const struct colmap *m, const char *data, size_t len,
               int64_t first_line, int64_t first_record);
/* A JSON array of objects. */
int read_json_array(struct rows *r, const struct colmap *m, const char *data, size_t len);
/* CSV with a header line. */
int read_csv(struct rows *r, const struct colmap *m, const char *data, size_t len);
/* An Avro object container file. */
int read_avro(struct rows *r, const struct colmap *m, const char *data, size_t len,
              struct sl_diag *d);

/*
 * Check a CSV header against a contract: every required column present,
 * no column twice, and (unless the contract ignores unknown fields) no
 * column the contract does not know.  On failure returns SL_ERR_INPUT with
 * words in d (line 1).  *header_len receives the header's length with its
 * line end.
 */
int csv_check_header(const struct contract *c, const char *data, size_t len,
                     size_t *header_len, struct sl_diag *d);

#endif
