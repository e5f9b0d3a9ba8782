/*
 * print.c - formatting query results (see engine_print in engine.h).
 *
 * Values are formatted from the result's chunks by their logical type, the
 * way DuckDB's own shell shows them: timestamps with time zone as
 * "YYYY-MM-DD HH:MM:SS[.ffffff]+00" (the engine runs in UTC), lists as
 * [a, b], structs as {'k': v}, maps as {k=v}.  The whole result is held
 * (the aligned table needs every width before the first line).
 */
#include <duckdb.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/num.h"
#include "core/time.h"
#include "engine/engine.h"
#include "engine/engine_int.h"
#include "core/banned.h"

static void fmt_value(struct sl_buf *b, duckdb_logical_type t, duckdb_vector v, idx_t row,
                      bool nested);

static bool
valid(duckdb_vector v, idx_t row)
{
    uint64_t *m = duckdb_vector_get_validity(v);

    return m == NULL || duckdb_validity_row_is_valid(m, row);
}

static void
fmt_i128(struct sl_buf *b, __int128 v, int scale)
{
    char tmp[64];

    sl_format_decimal(v, scale, tmp);
    sl_buf_adds(b, tmp);
}

static void
fmt_double(struct sl_buf *b, double f)
{
    char tmp[64];

    if (isnan(f)) {
        sl_buf_adds(b, "nan");
        return;
    }
    if (isinf(f)) {
        sl_buf_adds(b, f < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    sl_buf_adds(b, tmp);
}

static void
fmt_time_of_day(struct sl_buf *b, int64_t us)
{
    sl_buf_addf(b, "%02d:%02d:%02d", (int)(us / 3600000000LL), (int)(us / 60000000 % 60),
                (int)(us / 1000000 % 60));
    if (us % 1000000)
        sl_buf_addf(b, ".%06d", (int)(us % 1000000));
}

static void
fmt_timestamp(struct sl_buf *b, int64_t us, bool tz)
{
    int32_t day = sl_usec_to_day(us);
    char date[16];

    sl_format_date(day, date);
    sl_buf_adds(b, date);
    sl_buf_addc(b, ' ');
    fmt_time_of_day(b, us - (int64_t)day * SL_USEC_PER_DAY);
    if (tz)
        sl_buf_adds(b, "+00");
}

static void
fmt_string(struct sl_buf *b, const duckdb_string_t *s, bool blob, bool nested)
{
    uint32_t n = s->value.inlined.length;
    const char *p = n <= 12 ? s->value.inlined.inlined : s->value.pointer.ptr;

    if (blob) {
        for (uint32_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];

            if (c >= 0x20 && c < 0x7f && c != '\\')
                sl_buf_addc(b, (char)c);
            else
                sl_buf_addf(b, "\\x%02X", c);
        }
        return;
    }
    if (nested)
        sl_buf_addc(b, '\'');
    sl_buf_add(b, p, n);
    if (nested)
        sl_buf_addc(b, '\'');
}

static void
fmt_interval(struct sl_buf *b, const duckdb_interval *iv)
{
    int parts = 0;

    if (iv->months / 12)
        sl_buf_addf(b, "%s%d year%s", parts++ ? " " : "", iv->months / 12,
                    iv->months / 12 == 1 ? "" : "s");
    if (iv->months % 12)
        sl_buf_addf(b, "%s%d month%s", parts++ ? " " : "", iv->months % 12,
                    iv->months % 12 == 1 ? "" : "s");
    if (iv->days)
        sl_buf_addf(b, "%s%d day%s", parts++ ? " " : "", iv->days, iv->days == 1 ? "" : "s");
    if (iv->micros || parts == 0) {
        int64_t us = iv->micros;

        if (parts)
            sl_buf_addc(b, ' ');
        if (us < 0) {
            sl_buf_addc(b, '-');
            us = -us;
        }
        fmt_time_of_day(b, us);
    }
}

static void
fmt_uuid(struct sl_buf *b, const duckdb_hugeint *h)
{
    uint64_t hi = (uint64_t)h->upper ^ (1ull << 63), lo = h->lower;

    sl_buf_addf(b, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & (uint64_t)0xffffffffffff);
}

static void
fmt_list(struct sl_buf *b, duckdb_logical_type child_t, duckdb_vector child, idx_t off,
         idx_t len)
{
    sl_buf_addc(b, '[');
    for (idx_t i = 0; i < len; i++) {
        if (i)
            sl_buf_adds(b, ", ");
        fmt_value(b, child_t, child, off + i, true);
    }
    sl_buf_addc(b, ']');
}

static void
fmt_value(struct sl_buf *b, duckdb_logical_type t, duckdb_vector v, idx_t row, bool nested)
{
    duckdb_type id = duckdb_get_type_id(t);
    void *data = duckdb_vector_get_data(v);

    if (!valid(v, row)) {
        sl_buf_adds(b, nested ? "NULL" : "");
        return;
    }
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
        sl_buf_adds(b, ((bool *)data)[row] ? "true" : "false");
        break;
    case DUCKDB_TYPE_TINYINT:
        sl_buf_addf(b, "%d", ((int8_t *)data)[row]);
        break;
    case DUCKDB_TYPE_SMALLINT:
        sl_buf_addf(b, "%d", ((int16_t *)data)[row]);
        break;
    case DUCKDB_TYPE_INTEGER:
        sl_buf_addf(b, "%" PRId32, ((int32_t *)data)[row]);
        break;
    case DUCKDB_TYPE_BIGINT:
        sl_buf_addf(b, "%" PRId64, ((int64_t *)data)[row]);
        break;
    case DUCKDB_TYPE_UTINYINT:
        sl_buf_addf(b, "%u", ((uint8_t *)data)[row]);
        break;
    case DUCKDB_TYPE_USMALLINT:
        sl_buf_addf(b, "%u", ((uint16_t *)data)[row]);
        break;
    case DUCKDB_TYPE_UINTEGER:
        sl_buf_addf(b, "%" PRIu32, ((uint32_t *)data)[row]);
        break;
    case DUCKDB_TYPE_UBIGINT:
        sl_buf_addf(b, "%" PRIu64, ((uint64_t *)data)[row]);
        break;
    case DUCKDB_TYPE_HUGEINT: {
        duckdb_hugeint h = ((duckdb_hugeint *)data)[row];

        fmt_i128(b, (__int128)((unsigned __int128)(uint64_t)h.upper << 64 | h.lower), 0);
        break;
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((duckdb_uhugeint *)data)[row];
        unsigned __int128 u = (unsigned __int128)h.upper << 64 | h.lower;
        char tmp[48];
        int n = 0;

        do {
            tmp[n++] = (char)('0' + (int)(u % 10));
            u /= 10;
        } while (u);
        while (n)
            sl_buf_addc(b, tmp[--n]);
        break;
    }
    case DUCKDB_TYPE_FLOAT:
        fmt_double(b, ((float *)data)[row]);
        break;
    case DUCKDB_TYPE_DOUBLE:
        fmt_double(b, ((double *)data)[row]);
        break;
    case DUCKDB_TYPE_DECIMAL: {
        int scale = duckdb_decimal_scale(t);
        __int128 x;

        switch (duckdb_decimal_internal_type(t)) {
        case DUCKDB_TYPE_SMALLINT:
            x = ((int16_t *)data)[row];
            break;
        case DUCKDB_TYPE_INTEGER:
            x = ((int32_t *)data)[row];
            break;
        case DUCKDB_TYPE_BIGINT:
            x = ((int64_t *)data)[row];
            break;
        default: {
            duckdb_hugeint h = ((duckdb_hugeint *)data)[row];

            x = (__int128)((unsigned __int128)(uint64_t)h.upper << 64 | h.lower);
        }
        }
        fmt_i128(b, x, scale);
        break;
    }
    case DUCKDB_TYPE_VARCHAR:
        fmt_string(b, (duckdb_string_t *)data + row, false, nested);
        break;
    case DUCKDB_TYPE_BLOB:
        fmt_string(b, (duckdb_string_t *)data + row, true, nested);
        break;
    case DUCKDB_TYPE_DATE: {
        char date[16];

        sl_format_date(((int32_t *)data)[row], date);
        sl_buf_adds(b, date);
        break;
    }
    case DUCKDB_TYPE_TIME:
        fmt_time_of_day(b, ((int64_t *)data)[row]);
        break;
    case DUCKDB_TYPE_TIMESTAMP:
        fmt_timestamp(b, ((int64_t *)data)[row], false);
        break;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        fmt_timestamp(b, ((int64_t *)data)[row], true);
        break;
    case DUCKDB_TYPE_TIMESTAMP_MS:
        fmt_timestamp(b, ((int64_t *)data)[row] * 1000, false);
        break;
    case DUCKDB_TYPE_TIMESTAMP_S:
        fmt_timestamp(b, ((int64_t *)data)[row] * 1000000, false);
        break;
    case DUCKDB_TYPE_TIMESTAMP_NS:
        fmt_timestamp(b, ((int64_t *)data)[row] / 1000, false);
        break;
    case DUCKDB_TYPE_INTERVAL:
        fmt_interval(b, (duckdb_interval *)data + row);
        break;
    case DUCKDB_TYPE_UUID:
        fmt_uuid(b, (duckdb_hugeint *)data + row);
        break;
    case DUCKDB_TYPE_ENUM: {
        idx_t k;
        char *s;

        switch (duckdb_enum_internal_type(t)) {
        case DUCKDB_TYPE_UTINYINT:
            k = ((uint8_t *)data)[row];
            break;
        case DUCKDB_TYPE_USMALLINT:
            k = ((uint16_t *)data)[row];
            break;
        default:
            k = ((uint32_t *)data)[row];
        }
        s = duckdb_enum_dictionary_value(t, k);
        sl_buf_adds(b, s ? s : "");
        duckdb_free(s);
        break;
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP: {
        duckdb_list_entry e = ((duckdb_list_entry *)data)[row];
        duckdb_logical_type ct = duckdb_list_type_child_type(t);
        duckdb_vector child = duckdb_list_vector_get_child(v);

        if (id == DUCKDB_TYPE_MAP) {
            duckdb_vector kv = duckdb_struct_vector_get_child(child, 0);
            duckdb_vector vv = duckdb_struct_vector_get_child(child, 1);
            duckdb_logical_type kt = duckdb_struct_type_child_type(ct, 0);
            duckdb_logical_type vt = duckdb_struct_type_child_type(ct, 1);

            sl_buf_addc(b, '{');
            for (idx_t i = 0; i < e.length; i++) {
                if (i)
                    sl_buf_adds(b, ", ");
                fmt_value(b, kt, kv, e.offset + i, true);
                sl_buf_addc(b, '=');
                fmt_value(b, vt, vv, e.offset + i, true);
            }
            sl_buf_addc(b, '}');
            duckdb_destroy_logical_type(&kt);
            duckdb_destroy_logical_type(&vt);
        } else {
            fmt_list(b, ct, child, e.offset, e.length);
        }
        duckdb_destroy_logical_type(&ct);
        break;
    }
    case DUCKDB_TYPE_ARRAY: {
        idx_t n = duckdb_array_type_array_size(t);
        duckdb_logical_type ct = duckdb_array_type_child_type(t);

        fmt_list(b, ct, duckdb_array_vector_get_child(v), row * n, n);
        duckdb_destroy_logical_type(&ct);
        break;
    }
    case DUCKDB_TYPE_STRUCT: {
        idx_t n = duckdb_struct_type_child_count(t);

        sl_buf_addc(b, '{');
        for (idx_t i = 0; i < n; i++) {
            char *name = duckdb_struct_type_child_name(t, i);
            duckdb_logical_type ct = duckdb_struct_type_child_type(t, i);

            sl_buf_addf(b, "%s'%s': ", i ? ", " : "", name);
            fmt_value(b, ct, duckdb_struct_vector_get_child(v, i), row, true);
            duckdb_destroy_logical_type(&ct);
            duckdb_free(name);
        }
        sl_buf_addc(b, '}');
        break;
    }
    default:
        sl_buf_adds(b, "?");
        break;
    }
}

int
print_collect(duckdb_result *res, struct print_table *pt)
{
    duckdb_data_chunk ch;

    pt->ncols = duckdb_column_count(res);
    pt->names = sl_calloc(pt->ncols ? pt->ncols : 1, sizeof(*pt->names));
    pt->numeric = sl_calloc(pt->ncols ? pt->ncols : 1, sizeof(*pt->numeric));
    for (idx_t c = 0; c < pt->ncols; c++) {
        duckdb_type id = duckdb_column_type(res, c);

        pt->names[c] = sl_strdup(duckdb_column_name(res, c));
        pt->numeric[c] = (id >= DUCKDB_TYPE_BOOLEAN && id <= DUCKDB_TYPE_DOUBLE) ||
                         id == DUCKDB_TYPE_DECIMAL || id == DUCKDB_TYPE_HUGEINT ||
                         id == DUCKDB_TYPE_UHUGEINT;
    }
    while ((ch = duckdb_fetch_chunk(*res)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(ch);
        struct sl_buf b;

        sl_buf_init(&b);
        for (idx_t r = 0; r < n; r++) {
            SL_GROW(pt->cells, pt->cap, (pt->nrows + 1) * pt->ncols);
            for (idx_t c = 0; c < pt->ncols; c++) {
                duckdb_vector v = duckdb_data_chunk_get_vector(ch, c);
                duckdb_logical_type t = duckdb_vector_get_column_type(v);

                if (!valid(v, r)) {
                    pt->cells[pt->nrows * pt->ncols + c] = NULL;
                } else {
                    sl_buf_reset(&b);
                    fmt_value(&b, t, v, r, false);
                    pt->cells[pt->nrows * pt->ncols + c] = sl_strndup(b.data, b.len);
                }
                duckdb_destroy_logical_type(&t);
            }
            pt->nrows++;
        }
        sl_buf_release(&b);
        duckdb_destroy_data_chunk(&ch);
    }
    return 0;
}

void
print_release(struct print_table *pt)
{
    for (size_t i = 0; i < pt->nrows * pt->ncols; i++)
        free(pt->cells[i]);
    for (size_t c = 0; c < pt->ncols; c++)
        free(pt->names[c]);
    free(pt->cells);
    free(pt->names);
    free(pt->numeric);
}
