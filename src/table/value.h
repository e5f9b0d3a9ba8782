/*
 * value.h - Iceberg values: types of the columns sluice writes, the
 * single-value binary serialisation (manifest bounds), and partition
 * transforms.
 *
 * Column types (a contract's, core/type.h) map to Iceberg's:
 *
 *   string -> string      int64 -> long        double -> double
 *   bool -> boolean       date -> date         timestamp -> timestamptz
 *   decimal(p,s) -> decimal(p,s)
 *
 * Single-value binary form (spec Appendix D): long 8-byte little-endian,
 * double IEEE 754 little-endian, date 4-byte LE days, timestamptz 8-byte LE
 * microseconds, string UTF-8 bytes, boolean one byte, decimal the minimal
 * big-endian two's complement bytes of the unscaled value.
 *
 * Bounds come from the engine's statistics as text (COPY ... RETURN_STATS
 * prints them with TimeZone UTC: "2026-01-02 03:04:05.123456+00",
 * "2026-01-01", "12.50", "-0.0", "1e+20", plain strings).  String bounds
 * are cut to IVAL_TRUNCATE code points like Java's default metrics mode
 * truncate(16): the lower bound by plain truncation, the upper bound
 * truncated and then its last code point incremented so it stays >= the
 * maximum (trailing U+10FFFF dropped, U+D7FF -> U+E000 past the
 * surrogates; no upper bound at all when no code point can be
 * incremented).  The engine compares -0.0 equal to +0.0 while Iceberg
 * orders -0.0 first, so a zero double bound is widened: a lower bound of
 * either zero is -0.0, an upper bound +0.0.  Dates and timestamps read
 * what sl_parse_date/sl_parse_timestamp read (years 1-9999).
 *
 * Transforms (spec "Partition Transforms"): identity, year, month, day,
 * hour, bucket[N] (32-bit Murmur3 x86, seed 0, of the value's hash bytes:
 * 8-byte little-endian long for int, long and date (days) alike, so that
 * int -> long promotion keeps buckets; micros for timestamps, UTF-8 for
 * strings, minimal big-endian for decimals), truncate[W], void.  The
 * calendar transforms round towards minus infinity: the last microsecond
 * of 1969 is year, month, day and hour -1.
 */
#ifndef SL_TABLE_VALUE_H
#define SL_TABLE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/type.h"

#define IVAL_TRUNCATE 16
#define IVAL_MAX_BOUND 64 /* bytes: 16 code points of up to 4 bytes */

/* The Iceberg type name of a contract type into out (>= 24 bytes):
 * "long", "timestamptz", "decimal(12,2)". */
void ival_type_name(struct sl_type t, char *out, size_t size);
/* Back: the type an Iceberg type name is, of those above; SL_ERR_INPUT
 * (no words) for another. */
int ival_type_parse(const char *name, struct sl_type *t);

/*
 * Encode the engine's statistics text s (n bytes) of a column of type t
 * into Iceberg's single-value binary form: out (IVAL_MAX_BOUND bytes),
 * *len.  upper: the text is a maximum (string truncation rounds up, a zero
 * double is +0.0).  Returns 0, or SL_ERR_INPUT (recorded in d) when the
 * text does not parse as t (also a date or timestamp outside years
 * 1-9999, a string that is not UTF-8), or SL_ERR_NOTFOUND when there is
 * no such bound: an upper string bound that cannot be incremented, a NaN,
 * an infinite date or timestamp.  SL_ERR_NOTFOUND is an ordinary outcome
 * (leave the bound out) and records nothing in d.
 */
int ival_bound(struct sl_type t, const char *s, size_t n, bool upper, uint8_t *out, size_t *len,
               struct sl_diag *d);

/* Decode a bound back to text of the engine's shape (for checks and
 * --explain): out of size >= 80, NUL-terminated.  Returns 0, SL_ERR_INPUT
 * when len is not a width of t (or a boolean byte is not 0 or 1), or
 * SL_ERR_LIMIT when the text does not fit.  What ival_bound made reads back
 * through ival_bound to the same bytes, zeros of doubles aside. */
int ival_bound_text(struct sl_type t, const uint8_t *b, size_t len, char *out, size_t size);

/* Murmur3 x86 32-bit with seed 0, as Iceberg's bucket transform uses it. */
uint32_t ival_murmur3(const void *data, size_t len);

/* Hashes Iceberg's bucket transform is defined by (before & INT32_MAX % N). */
int32_t ival_hash_long(int64_t v);
int32_t ival_hash_date(int32_t days);
int32_t ival_hash_timestamp(int64_t usec);
int32_t ival_hash_string(const char *s, size_t n);
int32_t ival_hash_decimal(__int128 unscaled);

/* A partition transform. */
enum ival_transform_kind {
    IVAL_IDENTITY,
    IVAL_YEAR,
    IVAL_MONTH,
    IVAL_DAY,
    IVAL_HOUR,
    IVAL_BUCKET,
    IVAL_TRUNCATE_T,
    IVAL_VOID,
};

struct ival_transform {
    enum ival_transform_kind kind;
    int32_t param;      /* N of bucket[N], W of truncate[W] */
    /* The source column's name where the partitioning of a curated table
     * needs it (bucket[N] of a column); NULL for the event-time transforms,
     * whose source is the event time.  Borrowed: whoever fills the struct
     * says for how long. */
    const char *column;
};

/* Whether a and b partition alike: kind, parameter and column. */
bool ival_transform_same(struct ival_transform a, struct ival_transform b);

/* Parse "day", "bucket[16]", "truncate[4]" ...; SL_ERR_INPUT naming it. */
int ival_transform_parse(const char *s, struct ival_transform *t, struct sl_diag *d);
/* The spec's text of t into out (>= 24 bytes). */
void ival_transform_name(struct ival_transform t, char *out, size_t size);
/* Whether t applies to a source column of type src (bucket of a double,
 * hour of a date ... do not). */
bool ival_transform_applies(struct ival_transform t, struct sl_type src);

/* Transforms of single values (no nulls here: null maps to null). */
int32_t ival_year_of_days(int32_t days);  /* years since 1970 */
int32_t ival_month_of_days(int32_t days); /* months since 1970-01 */
int32_t ival_year_of_usec(int64_t usec);
int32_t ival_month_of_usec(int64_t usec);
int32_t ival_day_of_usec(int64_t usec);       /* days since 1970-01-01 */
int32_t ival_hour_of_usec(int64_t usec);      /* hours since 1970-01-01 00:00 */
int32_t ival_bucket(int32_t hash, int32_t n); /* (hash & INT32_MAX) % n, n > 0 */
/* v - (((v % w) + w) % w), w > 0, wrapping near INT64_MIN as Java does. */
int64_t ival_truncate_long(int64_t v, int32_t w);
/* The same for a decimal's unscaled value (W at the column's scale). */
__int128 ival_truncate_decimal(__int128 unscaled, int32_t w);
/* Cut s (UTF-8) to w code points: the byte length of the prefix. */
size_t ival_truncate_string(const char *s, size_t n, int32_t w);

/*
 * Partitions of curated tables: the transform (IVAL_DAY, IVAL_MONTH,
 * IVAL_YEAR, IVAL_HOUR of the event time, IVAL_BUCKET of a column named in
 * t.column, or IVAL_VOID for none) and the partition's text - the
 * catalog's, and part of deletion files' names - and back:
 *
 *   day     "2026-10-03"         hour   "2026-10-03-14"
 *   month   "2026-10"            none   ""
 *   year    "2026"
 *   bucket  "b<N>-<value>-<column>": bucket[16] value 7 of customer_id is
 *           "b16-7-customer_id"
 *
 * A bucket text starts with a letter, so it is never a date's; it carries
 * N and the column, so a table whose partitioning went from bucket[16] to
 * bucket[32], or to another column, tells its files apart by their texts
 * alone; and it is one safe path segment (column names are letters,
 * digits and '_').  Texts fit in IVAL_PARTITION_TEXT bytes.
 *
 * ival_partition_of() takes the event time as microseconds (timestamp) or
 * days (date); a bucket's value comes from its column's value instead
 * (ival_bucket() of the ival_hash_...() of it) and is not its business.
 */
#define IVAL_PARTITION_TEXT 160
int32_t ival_partition_of(struct ival_transform t, bool is_date, int64_t v);
void ival_partition_text(struct ival_transform t, int32_t value, char *out, size_t size);
/* SL_ERR_INPUT if s is not a partition text of t (of a bucket: of its N
 * and column, with 0 <= value < N). */
int ival_partition_parse(struct ival_transform t, const char *s, int32_t *value);
/* Which of those transforms partition text s is of, and its value: 0, or
 * SL_ERR_INPUT if it is none's.  (A table whose partitioning changed holds
 * files of both; their texts tell them apart.)  A bucket's t->column
 * points into s: borrowed for as long as s is. */
int ival_partition_which(const char *s, struct ival_transform *t, int32_t *value);
/* The folder name's key: "dt", "month", "year", "hour"; NULL for none and
 * for bucket (its key names the column: ival_partition_folder()). */
const char *ival_partition_dir(struct ival_transform t);
/*
 * The data folder of value of t, as Iceberg's Java writers name them: its
 * key into dir ("dt", "month", "year", "hour", "<column>_bucket") and its
 * value into val (the partition text; a bucket's number alone, "7"), each
 * of IVAL_PARTITION_TEXT bytes.  False, and nothing written, for none.
 */
bool ival_partition_folder(struct ival_transform t, int32_t value, char *dir, char *val);

#endif
