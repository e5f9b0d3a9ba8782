/*
 * diag.h - return codes and the words that travel with them.
 *
 * Every fallible function in sluice returns an int: 0 on success, a negative
 * number on failure.  System errors are negated errno values (-ENOENT);
 * sluice's own codes live below SL_ERR_BASE so the two ranges never meet.
 * sl_strerror() names both.
 *
 * The code says what kind of failure happened; a struct sl_diag, supplied by
 * the caller, says which one: a message, optional detail and hint, and the
 * location (a file or object, a line or record number, a field).  The CLI
 * renders it, the server will put it in an error body, and quarantine stores
 * it as the reason.  The first failure recorded wins: outer layers add
 * location with sl_diag_at() but do not overwrite the message, so the words
 * describe the root cause.
 *
 * A NULL diag is allowed everywhere and collects nothing.
 */
#ifndef SL_DIAG_H
#define SL_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sl_err {
    SL_ERR_BASE = -20000,
    SL_ERR_INPUT = -20001,        /* bad input: a file, a config, a record */
    SL_ERR_NOTFOUND = -20002,     /* a named thing does not exist */
    SL_ERR_EXISTS = -20003,       /* put-if-absent found it already there */
    SL_ERR_CONFLICT = -20004,     /* someone else changed it; retry */
    SL_ERR_CORRUPT = -20005,      /* stored state fails its own checks */
    SL_ERR_ENGINE = -20006,       /* the SQL engine refused */
    SL_ERR_CATALOG = -20007,      /* the catalog database refused */
    SL_ERR_BUSY = -20008,         /* a lock is held by another process */
    SL_ERR_INCOMPATIBLE = -20009, /* a contract change breaks compatibility */
    SL_ERR_LIMIT = -20010,        /* a configured limit was exceeded */
    SL_ERR_FAULT = -20011,        /* an injected fault (tests only) */
    SL_ERR_USAGE = -20012,        /* wrong command-line usage */
    SL_ERR_INDOUBT = -20013,      /* a commit's outcome is unknown (connection lost) */
    SL_ERR_UNAVAILABLE = -20014,  /* a server could not be reached; retry later */
};

#define SL_DIAG_MSG 1024
#define SL_DIAG_AUX 512

/* What went wrong, and where.  Zero-initialise, or sl_diag_init(). */
struct sl_diag {
    int code;                  /* the failing return code; 0 while clean */
    char msg[SL_DIAG_MSG];     /* one line: what failed, lower case */
    char detail[SL_DIAG_AUX];  /* optional: why, in a full sentence */
    char hint[SL_DIAG_AUX];    /* optional: what the user can do */
    char where[SL_DIAG_AUX];   /* optional: file path or object key */
    int64_t line;              /* 1-based line in where; 0 if unknown */
    int64_t record;            /* 1-based record number; 0 if unknown */
    char field[256];           /* optional: the failing field or key */
};

void sl_diag_init(struct sl_diag *d);

/*
 * Record a failure and return rc, so a caller can write
 *     return sl_fail(d, -errno, "cannot open '%s'", path);
 * If d already holds a failure it is kept and only rc is returned.
 */
int sl_fail(struct sl_diag *d, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add a detail or hint sentence to the recorded failure (kept if set). */
void sl_diag_detail(struct sl_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sl_diag_hint(struct sl_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Fill in the location; each part is set only if still empty, so the
 * innermost, most precise location wins.  where/field may be NULL, line and
 * record 0 for unknown.
 */
void sl_diag_at(struct sl_diag *d, const char *where, int64_t line,
                int64_t record, const char *field);

/* The message with its location, e.g. "a.csv:12: field 'x': ...". */
void sl_diag_format(const struct sl_diag *d, char *out, size_t size);

/* A static description of rc (negated errno or SL_ERR_*). */
const char *sl_strerror(int rc);

/* Whether an operation that failed with rc may succeed if retried. */
bool sl_retryable(int rc);

#endif
