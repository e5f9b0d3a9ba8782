/*
 * time.h - calendar arithmetic, ISO 8601 parsing and formatting, clocks.
 *
 * Dates are days since 1970-01-01 (int32); timestamps are microseconds since
 * 1970-01-01T00:00:00Z (int64), always UTC.  Parsing accepts
 *
 *   YYYY-MM-DD
 *   YYYY-MM-DD[T| ]HH:MM[:SS[.f...]][Z|z|+HH[:MM]|-HH[:MM]|+HHMM|-HHMM]
 *
 * with years 0001-9999.  A timestamp without a zone is taken as UTC.  More
 * than six fraction digits are truncated to microseconds.  Calendar dates
 * are checked (no 2026-02-30, no hour 24).
 */
#ifndef SL_TIME_H
#define SL_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_USEC_PER_SEC 1000000LL
#define SL_USEC_PER_DAY 86400000000LL

/* Whether y is a leap year, and how many days month m (1-12) of y has
 * (proleptic Gregorian). */
bool sl_is_leap(int64_t y);
unsigned sl_days_in_month(int64_t y, unsigned m);

/* Days since the epoch of a proleptic Gregorian date (no range check). */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);
void sl_civil_from_days(int64_t days, int *y, unsigned *m, unsigned *d);

/* Parsers: 0 on success, SL_ERR_INPUT if s[0..n) is not of the form. */
int sl_parse_date(const char *s, size_t n, int32_t *days);
int sl_parse_timestamp(const char *s, size_t n, int64_t *usec);

/* Floor division of a timestamp to its UTC day. */
static inline int32_t
sl_usec_to_day(int64_t usec)
{
    int64_t d = usec / SL_USEC_PER_DAY;

    if (usec % SL_USEC_PER_DAY < 0)
        d--;
    return (int32_t)d;
}

/* "YYYY-MM-DD" into out (at least 11 bytes). */
void sl_format_date(int32_t days, char *out);
/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" into out (at least 28 bytes). */
void sl_format_timestamp(int64_t usec, char *out);
/* ms since the epoch as AWS writes times: "YYYY-MM-DDTHH:MM:SS.mmmZ", or
 * without ".mmm" when with_ms is false (at least 32 bytes). */
void sl_format_iso_ms(int64_t ms, bool with_ms, char out[32]);

/* The wall clock in microseconds since the epoch. */
int64_t sl_now_usec(void);
/* The same in milliseconds (stream arrival times, AWS timestamps). */
static inline int64_t
sl_now_ms(void)
{
    return sl_now_usec() / 1000;
}
/* A duration such as "90s", "15m", "2h", "7d", "1w", "250ms" or "0s" (a
 * whole number and a unit) in milliseconds; SL_ERR_INPUT otherwise. */
int sl_parse_duration(const char *s, int64_t *ms);

/* A monotonic clock in seconds, for durations. */
double sl_mono_sec(void);

#endif
