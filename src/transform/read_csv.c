/*
 * read_csv.c - CSV (RFC 4180) with a header line into rows (see reader.h).
 *
 * Fields are separated by ',' and records by LF or CRLF; a field in double
 * quotes may hold commas, line breaks and doubled quotes.  The header names
 * the columns, in any order.  Positions are the line a record starts on.
 *
 * NULL and empty: an empty unquoted field is NULL; "" is an empty string
 * (and NULL for any type but string).  A UTF-8 byte-order mark before the
 * header is skipped.
 *
 * A record with the wrong number of fields, invalid UTF-8 or an unclosed
 * quote is quarantined whole; an unclosed quote runs to the end of the
 * file, so the rest of the file is that one record.
 *
 * Schema drift: a header column the contract lacks (left out of the rows
 * when the contract ignores unknown fields) is counted for every record
 * read whole, with its first value as the example.
 */
#include "transform/reader.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "core/utf8.h"
#include "core/banned.h"

#define MAX_FIELDS 4096

struct field {
    const char *s;
    size_t len;
    bool quoted;
    bool escaped;   /* has "" inside: needs unquoting */
};

/*
 * Split one record starting at p.  Fills f[0..*n), sets *next past the
 * record's line end and *lines to the physical lines it spans.  Returns
 * false (with *why) for an unclosed quote or bad quoting.
 */
static bool
split(const char *p, const char *end, struct field *f, size_t *n, bool *overflow,
      const char **next, int64_t *lines, const char **why)
{
    size_t k = 0;

    *lines = 1;
    *overflow = false;
    *why = NULL;
    for (;;) {
        struct field fl = {p, 0, false, false};

        if (p < end && *p == '"') {
            const char *s = ++p;

            fl.quoted = true;
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(end - p));

                if (q == NULL) {
                    for (const char *c = p; c < end; c++)
                        *lines += *c == '\n';
                    *why = "a quoted field is not closed (the rest of the file is this record)";
                    *next = end;
                    return false;
                }
                for (const char *c = p; c < q; c++)
                    *lines += *c == '\n';
                if (q + 1 < end && q[1] == '"') {
                    fl.escaped = true;
                    p = q + 2;
                    continue;
                }
                fl.s = s;
                fl.len = (size_t)(q - s);
                p = q + 1;
                break;
            }
            if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
                *why = "characters after a closing quote";
                /* Resynchronise at the end of this line. */
                const char *nl = memchr(p, '\n', (size_t)(end - p));

                *next = nl ? nl + 1 : end;
                return false;
            }
        } else {
            const char *s = p;

            while (p < end && *p != ',' && *p != '\n' && *p != '\r') {
                if (*p == '"') {
                    *why = "a quote inside an unquoted field";
                    const char *nl = memchr(p, '\n', (size_t)(end - p));

                    *next = nl ? nl + 1 : end;
                    return false;
                }
                p++;
            }
            fl.s = s;
            fl.len = (size_t)(p - s);
        }
        if (k < MAX_FIELDS)
            f[k++] = fl;
        else
            *overflow = true;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++;
        *next = p;
        *n = k;
        return true;
    }
}

/* The length of a record's text without its line end. */
static size_t
text_len(const char *start, const char *next)
{
    while (next > start && (next[-1] == '\n' || next[-1] == '\r'))
        next--;
    return (size_t)(next - start);
}

static size_t
skip_bom(const char *data, size_t len)
{
    return len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* Map header names to columns: map[i] = column or -1 (ignored). */
static int
map_header(const struct contract *c, const struct field *f, size_t n, int *map,
           struct sl_diag *d)
{
    uint64_t seen[CONTRACT_MAX_COLUMNS / 64] = {0};

    for (size_t i = 0; i < n; i++) {
        int col = -1;

        for (size_t k = 0; k < c->ncolumns; k++) {
            if (strlen(c->columns[k].name) == f[i].len &&
                memcmp(c->columns[k].name, f[i].s, f[i].len) == 0) {
                col = (int)k;
                break;
            }
        }
        if (col < 0 && c->unknown_fields == CONTRACT_UNKNOWN_REJECT) {
            size_t cut = f[i].len < 80 ? f[i].len : 80;

            /* Cut at a character boundary: the words may become a
             * quarantine reason, written as JSON. */
            while (cut > 0 && cut < f[i].len && ((unsigned char)f[i].s[cut] & 0xC0) == 0x80)
                cut--;
            sl_fail(d, SL_ERR_INPUT,
                    "the CSV header does not match contract version %s: unknown column "
                    "\"%.*s\" (header field %zu)",
                    c->version, (int)cut, f[i].s, i + 1);
            sl_diag_hint(d, "add the column to the contract (a new version), or set "
                            "unknown_fields: ignore");
            sl_diag_at(d, NULL, 1, 0, NULL);
            return SL_ERR_INPUT;
        }
        if (col >= 0) {
            if (seen[col / 64] & (1ull << (col % 64))) {
                sl_fail(d, SL_ERR_INPUT, "the CSV header names column \"%s\" twice",
                        c->columns[col].name);
                sl_diag_at(d, NULL, 1, 0, NULL);
                return SL_ERR_INPUT;
            }
            seen[col / 64] |= 1ull << (col % 64);
        }
        map[i] = col;
    }
    for (size_t k = 0; k < c->ncolumns; k++) {
        if (c->columns[k].required && !(seen[k / 64] & (1ull << (k % 64)))) {
            sl_fail(d, SL_ERR_INPUT,
                    "the CSV header does not match contract version %s: required column "
                    "\"%s\" is missing",
                    c->version, c->columns[k].name);
            sl_diag_at(d, NULL, 1, 0, NULL);
            return SL_ERR_INPUT;
        }
    }
    return 0;
}

static int
header(const struct contract *c, const char *data, size_t len, int *map, size_t *nfields,
       size_t *hlen, struct sl_diag *d)
{
    struct field *f = sl_malloc(MAX_FIELDS * sizeof(*f));
    size_t off = skip_bom(data, len), n = 0;
    const char *next, *why;
    int64_t lines;
    bool overflow;
    int rc;

    if (len - off == 0) {
        free(f);
        sl_fail(d, SL_ERR_INPUT, "the file is empty: a CSV file needs a header line");
        return SL_ERR_INPUT;
    }
    if (memchr(data + off, '\0', len - off < 4096 ? len - off : 4096) != NULL) {
        free(f);
        sl_fail(d, SL_ERR_INPUT, "this is not a CSV file: it holds binary data");
        return SL_ERR_INPUT;
    }
    {
        const char *p = data + off;

        while (p < data + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p < data + len && (*p == '{' || *p == '[')) {
            free(f);
            sl_fail(d, SL_ERR_INPUT, "this looks like JSON, not CSV");
            sl_diag_hint(d, "name JSON lines files .jsonl and JSON arrays .json");
            return SL_ERR_INPUT;
        }
    }
    if (!split(data + off, data + len, f, &n, &overflow, &next, &lines, &why)) {
        free(f);
        sl_fail(d, SL_ERR_INPUT, "cannot read the CSV header: %s", why);
        sl_diag_at(d, NULL, 1, 0, NULL);
        return SL_ERR_INPUT;
    }
    if (overflow) {
        free(f);
        sl_fail(d, SL_ERR_INPUT, "the CSV header has more than %d fields", MAX_FIELDS);
        return SL_ERR_INPUT;
    }
    for (size_t i = 0; i < n; i++) {
        if (!sl_utf8_valid(f[i].s, f[i].len, NULL)) {
            free(f);
            sl_fail(d, SL_ERR_INPUT, "invalid UTF-8 in the CSV header");
            sl_diag_at(d, NULL, 1, 0, NULL);
            return SL_ERR_INPUT;
        }
    }
    rc = map_header(c, f, n, map, d);
    *nfields = n;
    *hlen = (size_t)(next - data);
    free(f);
    return rc;
}

int
csv_check_header(const struct contract *c, const char *data, size_t len, size_t *header_len,
                 struct sl_diag *d)
{
    int *map = sl_malloc(MAX_FIELDS * sizeof(*map));
    size_t n;
    int rc = header(c, data, len, map, &n, header_len, d);

    free(map);
    return rc;
}

/* A header field no column has: every record carries it (drift). */
struct unknown_col {
    size_t field;       /* its place in the header */
    int drift;          /* its rows_drift entry */
};

/*
 * The header fields of a header that header() accepted (nhdr of them,
 * mapped by map) that no column has, each with its drift entry, in a new
 * array (*n of them; NULL if none).  f is scratch room for the split.
 */
static struct unknown_col *
unknown_columns(struct rows *r, const char *data, size_t len, const int *map, size_t nhdr,
                struct field *f, size_t *n)
{
    struct unknown_col *unk = NULL;
    const char *next, *why;
    int64_t lines;
    bool overflow;
    size_t nf, k = 0;

    *n = 0;
    for (size_t i = 0; i < nhdr; i++)
        k += map[i] < 0;
    if (k == 0)
        return NULL;
    size_t off = skip_bom(data, len);

    if (!split(data + off, data + len, f, &nf, &overflow, &next, &lines, &why) || nf != nhdr)
        return NULL; /* (header() split it just now) */
    unk = sl_malloc(k * sizeof(*unk));
    for (size_t i = 0; i < nhdr; i++) {
        int e;

        if (map[i] >= 0 || (e = rows_drift_find(r, ROWS_DRIFT_UNKNOWN, f[i].s, f[i].len)) < 0)
            continue;
        unk[*n].field = i;
        unk[*n].drift = e;
        (*n)++;
    }
    return unk;
}

/* Field f as the example of drift entry e, its "" read as ". */
static void
drift_example(struct rows *r, int e, const struct field *f)
{
    char *tmp, *o;

    if (!f->escaped) {
        rows_drift_example(r, e, f->s, f->len, true);
        return;
    }
    tmp = sl_malloc(f->len);
    o = tmp;
    for (size_t k = 0; k < f->len; k++) {
        *o++ = f->s[k];
        if (f->s[k] == '"')
            k++;
    }
    rows_drift_example(r, e, tmp, (size_t)(o - tmp), true);
    free(tmp);
}

int
read_csv(struct rows *r, const struct colmap *m, const char *data, size_t len)
{
    const struct contract *c = m->c;
    int *map = sl_malloc(MAX_FIELDS * sizeof(*map));
    struct field *f = sl_malloc(MAX_FIELDS * sizeof(*f));
    char *scratch = NULL;
    size_t scap = 0, nhdr, hlen, n, nunk = 0;
    struct unknown_col *unk = NULL;
    const char *p, *end = data + len;
    int64_t line = 2, record = 1;
    struct sl_diag d;
    int rc;

    sl_diag_init(&d);
    rc = header(c, data, len, map, &nhdr, &hlen, &d);
    if (rc < 0) {
        /* Ingest checked the header; if it fails now the whole object is
         * one bad record. */
        struct rec_pos pos = {1, 1};

        rows_reject(r, pos, data, len, NULL, sl_arena_strdup(&r->arena, d.msg));
        goto out;
    }
    unk = unknown_columns(r, data, len, map, nhdr, f, &nunk);
    for (p = data + hlen; p < end;) {
        const char *start = p, *next, *why;
        struct rec_pos pos = {line, record};
        int64_t lines;
        bool overflow;

        /* A blank line is not a record. */
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
            p += *p == '\n' ? 1 : 2;
            line++;
            continue;
        }
        record++;
        if (!split(p, end, f, &n, &overflow, &next, &lines, &why)) {
            rows_reject(r, pos, start, text_len(start, next), NULL, why);
            line += lines;
            p = next;
            continue;
        }
        line += lines;
        p = next;
        if (n != nhdr || overflow) {
            rows_reject(r, pos, start, text_len(start, next), NULL,
                        overflow ? sl_arena_printf(&r->arena, "expected %zu fields as in the "
                                                   "header, found more than %d",
                                                   nhdr, MAX_FIELDS)
                                 : sl_arena_printf(&r->arena, "expected %zu fields as in the "
                                                   "header, found %zu", nhdr, n));
            continue;
        }
        rows_begin(r, pos);
        for (size_t i = 0; i < n; i++) {
            struct rec_value v = {.kind = REC_TEXT, .s = f[i].s, .len = f[i].len,
                                  .quoted = f[i].quoted};
            bool stable = true;

            if (map[i] < 0)
                continue;
            if (!sl_utf8_valid(f[i].s, f[i].len, NULL)) {
                rows_fail(r, c->columns[map[i]].name, "invalid UTF-8");
                continue;
            }
            if (f[i].escaped) {
                char *o;

                if (f[i].len > scap) {
                    scap = f[i].len * 2;
                    scratch = sl_realloc(scratch, scap);
                }
                o = scratch;
                for (size_t k = 0; k < f[i].len; k++) {
                    *o++ = f[i].s[k];
                    if (f[i].s[k] == '"')
                        k++; /* "" -> " */
                }
                v.s = scratch;
                v.len = (size_t)(o - scratch);
                stable = false;
            }
            rows_field(r, map[i], &v, stable);
        }
        for (size_t k = 0; k < nunk; k++)
            if (rows_drift_count(r, unk[k].drift))
                drift_example(r, unk[k].drift, &f[unk[k].field]);
        rows_end(r, start, text_len(start, next));
    }
out:
    free(unk);
    free(scratch);
    free(f);
    free(map);
    return 0;
}
