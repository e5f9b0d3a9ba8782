/*
 * type.h - the column types of a data contract.
 *
 *   string  int64  double  bool  date  timestamp  decimal(p,s)
 *
 * Tables also hold int (32-bit) and float (32-bit IEEE), the types a gold
 * model's SELECT may give (Iceberg's int and float, which widen to long
 * and double); a contract does not name them.
 *
 * A timestamp is an instant (UTC, microseconds).  decimal(p,s) has
 * 1 <= p <= 38 and 0 <= s <= p.  These names are what sources/<name>.yaml
 * says; sl_type_sql() gives the engine's name for each.
 */
#ifndef SL_TYPE_H
#define SL_TYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sl_type_id {
    SL_TYPE_STRING,
    SL_TYPE_INT64,
    SL_TYPE_DOUBLE,
    SL_TYPE_BOOL,
    SL_TYPE_DATE,
    SL_TYPE_TIMESTAMP,
    SL_TYPE_DECIMAL,
    SL_TYPE_INT32, /* tables only, not contracts */
    SL_TYPE_FLOAT, /* tables only, not contracts */
};

struct sl_type {
    enum sl_type_id id;
    uint8_t precision; /* decimal only */
    uint8_t scale;     /* decimal only */
};

/* Parse a contract type name; 0 or SL_ERR_INPUT. */
int sl_type_parse(const char *s, struct sl_type *t);
/* The contract name, e.g. "decimal(12,2)", into out (>= 24 bytes). */
void sl_type_name(struct sl_type t, char *out, size_t size);
/* The engine (SQL) type, e.g. "DECIMAL(12,2)", into out (>= 24 bytes). */
void sl_type_sql(struct sl_type t, char *out, size_t size);
bool sl_type_equal(struct sl_type a, struct sl_type b);
/* The list of valid names, for messages. */
#define SL_TYPE_NAMES "string, int64, double, bool, date, timestamp, decimal(p,s)"

#endif
