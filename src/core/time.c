/*
 * time.c - calendar arithmetic and ISO 8601 (see time.h).
 */
#include "core/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/diag.h"
#include "core/banned.h"

/*
 * Civil <-> day number over the proleptic Gregorian calendar, computed in
 * 400-year eras (146097 days each) whose years start on March 1, so the leap
 * day falls at the end of a year and month lengths follow a linear formula.
 */
int64_t
sl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                   /* [0, 399] */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void
sl_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

bool
sl_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned
sl_days_in_month(int64_t y, unsigned m)
{
    static const unsigned char len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && sl_is_leap(y) ? 29 : len[m - 1];
}

/* Read exactly k digits at s[*i]; false if not all digits. */
static bool
digits(const char *s, size_t n, size_t *i, int k, int *out)
{
    int v = 0;

    if (*i + (size_t)k > n)
        return false;
    for (int j = 0; j < k; j++) {
        char c = s[*i + (size_t)j];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)k;
    *out = v;
    return true;
}

static bool
parse_ymd(const char *s, size_t n, size_t *i, int64_t *days)
{
    int y, m, d;

    if (!digits(s, n, i, 4, &y) || *i >= n || s[(*i)++] != '-' ||
        !digits(s, n, i, 2, &m) || *i >= n || s[(*i)++] != '-' ||
        !digits(s, n, i, 2, &d))
        return false;
    if (y < 1 || m < 1 || m > 12 || d < 1 || (unsigned)d > sl_days_in_month(y, (unsigned)m))
        return false;
    *days = sl_days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

int
sl_parse_date(const char *s, size_t n, int32_t *days)
{
    size_t i = 0;
    int64_t v;

    if (!parse_ymd(s, n, &i, &v) || i != n)
        return SL_ERR_INPUT;
    *days = (int32_t)v;
    return 0;
}

int
sl_parse_timestamp(const char *s, size_t n, int64_t *usec)
{
    size_t i = 0;
    int64_t days, frac = 0, offset = 0;
    int hh = 0, mm = 0, ss = 0;

    if (!parse_ymd(s, n, &i, &days))
        return SL_ERR_INPUT;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return SL_ERR_INPUT;
        i++;
        if (!digits(s, n, &i, 2, &hh) || i >= n || s[i++] != ':' ||
            !digits(s, n, &i, 2, &mm))
            return SL_ERR_INPUT;
        if (i < n && s[i] == ':') {
            i++;
            if (!digits(s, n, &i, 2, &ss))
                return SL_ERR_INPUT;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                int k = 0;

                i++;
                while (i < n && s[i] >= '0' && s[i] <= '9') {
                    if (k < 6)
                        frac = frac * 10 + (s[i] - '0');
                    k++;
                    i++;
                }
                if (k == 0 || k > 9)
                    return SL_ERR_INPUT;
                for (; k < 6; k++)
                    frac *= 10;
            }
        }
        if (hh > 23 || mm > 59 || ss > 59)
            return SL_ERR_INPUT;
        if (i < n) {
            char c = s[i++];
            int oh, om = 0;

            if (c == 'Z' || c == 'z') {
                offset = 0;
            } else if (c == '+' || c == '-') {
                if (!digits(s, n, &i, 2, &oh))
                    return SL_ERR_INPUT;
                if (i < n && s[i] == ':')
                    i++;
                if (i < n && !digits(s, n, &i, 2, &om))
                    return SL_ERR_INPUT;
                if (oh > 18 || om > 59)
                    return SL_ERR_INPUT;
                offset = (oh * 3600LL + om * 60LL) * SL_USEC_PER_SEC;
                if (c == '-')
                    offset = -offset;
            } else {
                return SL_ERR_INPUT;
            }
        }
        if (i != n)
            return SL_ERR_INPUT;
    }
    *usec = days * SL_USEC_PER_DAY +
            ((int64_t)hh * 3600 + mm * 60 + ss) * SL_USEC_PER_SEC + frac - offset;
    return 0;
}

void
sl_format_date(int32_t days, char *out)
{
    int y;
    unsigned m, d;

    char tmp[48];

    sl_civil_from_days(days, &y, &m, &d);
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02u", y % 10000, m % 100, d % 100);
    memcpy(out, tmp, 11);
    out[10] = '\0';
}

void
sl_format_iso_ms(int64_t ms, bool with_ms, char out[32])
{
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
    int64_t sod = s - days * 86400;
    int y;
    unsigned mo, da;

    sl_civil_from_days(days, &y, &mo, &da);
    if (with_ms)
        snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, da, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60), (int)(ms - s * 1000));
    else
        snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, mo, da, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60));
}

void
sl_format_timestamp(int64_t usec, char *out)
{
    int32_t day = sl_usec_to_day(usec);
    int64_t rem = usec - (int64_t)day * SL_USEC_PER_DAY;
    int64_t secs = rem / SL_USEC_PER_SEC;
    int y;
    unsigned m, d;

    char tmp[80];

    sl_civil_from_days(day, &y, &m, &d);
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", y % 10000, m % 100,
             d % 100, (int)(secs / 3600 % 100), (int)(secs / 60 % 60), (int)(secs % 60),
             (int)(rem % SL_USEC_PER_SEC));
    memcpy(out, tmp, 28);
    out[27] = '\0';
}

int64_t
sl_now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SL_USEC_PER_SEC + ts.tv_nsec / 1000;
}

double
sl_mono_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
sl_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
                 {"w", 604800000}};
    int64_t n = 0;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return SL_ERR_INPUT;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (INT64_MAX - 9) / 10)
            return SL_ERR_INPUT;
        n = n * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(p, units[i].unit) == 0) {
            if (n > INT64_MAX / units[i].ms)
                return SL_ERR_INPUT;
            *ms = n * units[i].ms;
            return 0;
        }
    return SL_ERR_INPUT;
}
