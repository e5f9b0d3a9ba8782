/*
 * diag.c - return codes and diagnostics (see diag.h).
 */
#include "core/diag.h"
#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

void
sl_diag_init(struct sl_diag *d)
{
    memset(d, 0, sizeof(*d));
}

int
sl_fail(struct sl_diag *d, int rc, const char *fmt, ...)
{
    va_list ap;

    if (d == NULL || d->code != 0)
        return rc;
    d->code = rc;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    return rc;
}

static void
set_aux(char *dst, size_t size, const char *fmt, va_list ap)
{
    if (dst[0] == '\0')
        vsnprintf(dst, size, fmt, ap);
}

void
sl_diag_detail(struct sl_diag *d, const char *fmt, ...)
{
    va_list ap;

    if (d == NULL)
        return;
    va_start(ap, fmt);
    set_aux(d->detail, sizeof(d->detail), fmt, ap);
    va_end(ap);
}

void
sl_diag_hint(struct sl_diag *d, const char *fmt, ...)
{
    va_list ap;

    if (d == NULL)
        return;
    va_start(ap, fmt);
    set_aux(d->hint, sizeof(d->hint), fmt, ap);
    va_end(ap);
}

void
sl_diag_at(struct sl_diag *d, const char *where, int64_t line, int64_t record,
           const char *field)
{
    if (d == NULL)
        return;
    if (where != NULL && d->where[0] == '\0')
        snprintf(d->where, sizeof(d->where), "%s", where);
    if (line > 0 && d->line == 0)
        d->line = line;
    if (record > 0 && d->record == 0)
        d->record = record;
    if (field != NULL && d->field[0] == '\0')
        snprintf(d->field, sizeof(d->field), "%s", field);
}

void
sl_diag_format(const struct sl_diag *d, char *out, size_t size)
{
    struct sl_buf b;
    size_t n;

    if (size == 0)
        return;
    sl_buf_init(&b);
    if (d->where[0] != '\0') {
        sl_buf_adds(&b, d->where);
        if (d->line > 0)
            sl_buf_addf(&b, ":%lld", (long long)d->line);
        sl_buf_adds(&b, ": ");
    }
    if (d->record > 0)
        sl_buf_addf(&b, "record %lld: ", (long long)d->record);
    if (d->field[0] != '\0')
        sl_buf_addf(&b, "field '%s': ", d->field);
    sl_buf_adds(&b, d->msg[0] != '\0' ? d->msg : sl_strerror(d->code));
    n = b.len < size - 1 ? b.len : size - 1;
    memcpy(out, b.data, n);
    out[n] = '\0';
    sl_buf_release(&b);
}

const char *
sl_strerror(int rc)
{
    switch (rc) {
    case 0:
        return "success";
    case SL_ERR_INPUT:
        return "invalid input";
    case SL_ERR_NOTFOUND:
        return "not found";
    case SL_ERR_EXISTS:
        return "already exists";
    case SL_ERR_CONFLICT:
        return "conflicting concurrent change";
    case SL_ERR_CORRUPT:
        return "stored data is corrupt";
    case SL_ERR_ENGINE:
        return "query engine error";
    case SL_ERR_CATALOG:
        return "catalog error";
    case SL_ERR_BUSY:
        return "locked by another process";
    case SL_ERR_INCOMPATIBLE:
        return "incompatible change";
    case SL_ERR_LIMIT:
        return "limit exceeded";
    case SL_ERR_FAULT:
        return "injected fault";
    case SL_ERR_USAGE:
        return "wrong usage";
    case SL_ERR_INDOUBT:
        return "outcome of the commit unknown";
    case SL_ERR_UNAVAILABLE:
        return "service unavailable";
    default:
        break;
    }
    if (rc < 0 && rc > SL_ERR_BASE)
        return strerror(-rc);
    return "unknown error";
}

bool
sl_retryable(int rc)
{
    switch (rc) {
    case -EINTR:
    case -EAGAIN:
    case -EBUSY:
    case -ETIMEDOUT:
    case -ECONNRESET:
    case SL_ERR_BUSY:
    case SL_ERR_CONFLICT:
    case SL_ERR_UNAVAILABLE:
        return true;
    default:
        return false;
    }
}
