/*
 * schedule.c - EventBridge Scheduler's schedule expressions (see
 * schedule.h): a parser for rate(), cron() and at(), and the next fire
 * time of each.
 *
 * A cron schedule is kept as one bit set per field (bit v - base for value
 * v) and a rule for its days.  Finding the next fire time walks wall
 * times, not instants: the first wall minute at or after a start that the
 * fields match (month by month, a month's matching days as one bit mask),
 * then the zone (tz.h) says which instant shows that wall time.  The walk
 * starts at after + the zone's smallest offset: no instant after `after`
 * shows an earlier wall time, so no fire time is missed, and the few
 * candidates before the wall time of `after` resolve to instants not after
 * it and are passed over.
 *
 * The rules AWS gives for clock changes, and our choices where it is
 * silent, are marked "AWS:" and "Decision:" where they apply.  AWS's words
 * are in the Knowledge Center article "How can I adjust my Amazon
 * EventBridge schedule for daylight saving?",
 * https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst,
 * which the user guide's "Daylight savings time on EventBridge Scheduler"
 * repeats (https://docs.aws.amazon.com/scheduler/latest/UserGuide/
 * schedule-types.html#daylist-savings-time).
 *
 * Invariants: a parsed schedule is never changed; every cron field's set
 * is non-empty; fire times are whole seconds (whole minutes for cron).
 */
#include "flow/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "core/time.h"
#include "flow/tz.h"
#include "core/banned.h"

#define DAY 86400
#define FIRST_YEAR 1970
#define LAST_YEAR 2199
/* Decision: AWS names no largest rate value; a billion of any unit is
 * past the last year anyone schedules, and keeps the arithmetic small. */
#define MAX_RATE 1000000000

enum kind { KIND_RATE, KIND_CRON, KIND_AT };

/* Which days a cron schedule fires on. */
enum days {
    DAYS_DOM,          /* the day-of-month set */
    DAYS_LAST,         /* L: the month's last day */
    DAYS_LAST_WEEKDAY, /* LW: its last Monday-to-Friday */
    DAYS_NEAREST,      /* nW: the Monday-to-Friday nearest day n */
    DAYS_DOW,          /* the day-of-week set */
    DAYS_LAST_DOW,     /* nL: the month's last weekday n */
    DAYS_NTH_DOW,      /* n#k: its k-th weekday n */
};

/* A set of up to 256 values, bit v - base. */
struct set {
    uint64_t b[4];
};

enum { F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR, NFIELDS };

struct cron {
    struct set f[NFIELDS]; /* each field's values (F_DOM, F_DOW: for DAYS_DOM, DAYS_DOW) */
    enum days days;
    int day;               /* nW: n (1-31); nL, n#k: weekday n (1 = Sunday) */
    int nth;               /* n#k: k (1-5) */
};

struct flow_schedule {
    enum kind kind;
    struct flow_tz *tz; /* the zone; every kind has one, checked at parse */
    int64_t period_ms;  /* rate: the period */
    struct cron cron;   /* cron */
    int64_t at_ms;      /* at: the instant */
};

/* ---- small helpers -------------------------------------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}


/* 1 = Sunday .. 7 = Saturday, as cron counts; 1970-01-01 was a Thursday. */
static int
cron_weekday(int64_t days)
{
    return (int)(days + 4 - 7 * floor_div(days + 4, 7)) + 1;
}

static void
set_add(struct set *s, int i)
{
    s->b[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool
set_has(const struct set *s, int i)
{
    return (s->b[i / 64] >> (i % 64)) & 1;
}

/* Whether s[0..len) is word, in either case. */
static bool
word_is(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* ---- cron fields ---------------------------------------------------------- */

struct spec {
    const char *name;         /* for messages */
    int min, max;             /* the values */
    int base;                 /* value v is bit v - base */
    const char *const *names; /* three-letter names of min..max, or NULL */
    const char *values;       /* the values, for messages */
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static const struct spec specs[NFIELDS] = {
    {"minutes", 0, 59, 0, NULL, "0-59"},
    {"hours", 0, 23, 0, NULL, "0-23"},
    {"day-of-month", 1, 31, 0, NULL, "1-31"},
    {"month", 1, 12, 0, month_names, "1-12 or JAN-DEC"},
    {"day-of-week", 1, 7, 0, day_names, "1-7 or SUN-SAT"},
    {"year", FIRST_YEAR, LAST_YEAR, FIRST_YEAR, NULL, "1970-2199"},
};

/* What is wrong with a field. */
enum ferr { F_OK, F_SYNTAX, F_RANGE, F_BACKWARDS, F_STEP };

/* Digits at *pp -> *v; past 2*10^9 the value sticks there, beyond every
 * limit. */
static bool
digits(const char **pp, const char *end, int *v)
{
    const char *p = *pp;
    int n = 0;

    if (p == end || !is_digit(*p))
        return false;
    for (; p < end && is_digit(*p); p++)
        n = n < 200000000 ? n * 10 + (*p - '0') : 2000000000;
    *v = n;
    *pp = p;
    return true;
}

/* A number or a name of sp at *pp. */
static enum ferr
value(const struct spec *sp, const char **pp, const char *end, int *v)
{
    const char *p = *pp;

    if (digits(pp, end, v))
        return *v < sp->min || *v > sp->max ? F_RANGE : F_OK;
    if (p == end || !is_alpha(*p))
        return F_SYNTAX;
    while (p < end && is_alpha(*p))
        p++;
    for (int i = 0; sp->names != NULL && i <= sp->max - sp->min; i++) {
        if (word_is(*pp, (size_t)(p - *pp), sp->names[i])) {
            *v = sp->min + i;
            *pp = p;
            return F_OK;
        }
    }
    return F_RANGE;
}

/* One item of a list: *, v, a-b, with /n after any of them. */
static enum ferr
item(const struct spec *sp, const char *p, const char *end, struct set *s)
{
    int lo = sp->min, hi = sp->max, step = 1;
    bool single = false;
    enum ferr e;

    if (p < end && *p == '*') {
        p++;
    } else {
        e = value(sp, &p, end, &lo);
        if (e != F_OK)
            return e;
        hi = lo;
        single = true;
        if (p < end && *p == '-') {
            p++;
            e = value(sp, &p, end, &hi);
            if (e != F_OK)
                return e;
            /* Decision: no wrapping ranges (SAT-MON, 22-2); AWS does not
             * say it has them, and a refusal is plainer than a guess. */
            if (hi < lo)
                return F_BACKWARDS;
            single = false;
        }
    }
    if (p < end && *p == '/') {
        p++;
        if (!digits(&p, end, &step))
            return F_SYNTAX;
        if (step == 0)
            return F_STEP;
        if (single) /* a/n: from a to the field's end */
            hi = sp->max;
    }
    if (p != end)
        return F_SYNTAX;
    for (int v = lo; v <= hi; v += step)
        set_add(s, v - sp->base);
    return F_OK;
}

static int
field_fail(struct sl_diag *d, const struct spec *sp, const char *f, size_t len, enum ferr e)
{
    sl_diag_at(d, NULL, 0, 0, sp->name);
    switch (e) {
    case F_RANGE:
        return sl_fail(d, SL_ERR_INPUT, "cron(...): %s field '%.*s': values are %s", sp->name,
                       (int)len, f, sp->values);
    case F_BACKWARDS:
        return sl_fail(d, SL_ERR_INPUT, "cron(...): %s field '%.*s': a range runs backwards "
                       "(ranges go from low to high)", sp->name, (int)len, f);
    case F_STEP:
        return sl_fail(d, SL_ERR_INPUT, "cron(...): %s field '%.*s': an increment must be 1 "
                       "or more", sp->name, (int)len, f);
    default:
        return sl_fail(d, SL_ERR_INPUT, "cron(...): %s field '%.*s': expected '*' or a list "
                       "of values (%s), ranges a-b and increments a/n", sp->name, (int)len, f,
                       sp->values);
    }
}

/* A comma-separated list into s. */
static int
list(const struct spec *sp, const char *f, size_t len, struct set *s, struct sl_diag *d)
{
    const char *p = f, *end = f + len;

    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;
        enum ferr e = item(sp, p, stop, s);

        if (e != F_OK)
            return field_fail(d, sp, f, len, e);
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* Day-of-month: L, LW, nW, or a list. */
static int
dom_field(struct cron *c, const char *f, size_t len, struct sl_diag *d)
{
    const struct spec *sp = &specs[F_DOM];
    const char *p = f;

    if (word_is(f, len, "L")) {
        c->days = DAYS_LAST;
        return 0;
    }
    if (word_is(f, len, "LW")) {
        c->days = DAYS_LAST_WEEKDAY;
        return 0;
    }
    if (len > 1 && (f[len - 1] == 'W' || f[len - 1] == 'w')) {
        /* Decision: nW for a day past the month's end (31W in April)
         * fires on no day of that month, as that day does not exist. */
        if (!digits(&p, f + len - 1, &c->day) || p != f + len - 1 || c->day < 1 ||
            c->day > 31) {
            sl_diag_at(d, NULL, 0, 0, sp->name);
            return sl_fail(d, SL_ERR_INPUT, "cron(...): day-of-month field '%.*s': nW takes "
                           "a day 1-31", (int)len, f);
        }
        c->days = DAYS_NEAREST;
        return 0;
    }
    if (memchr(f, 'L', len) != NULL || memchr(f, 'l', len) != NULL ||
        memchr(f, 'W', len) != NULL || memchr(f, 'w', len) != NULL) {
        sl_diag_at(d, NULL, 0, 0, sp->name);
        return sl_fail(d, SL_ERR_INPUT, "cron(...): day-of-month field '%.*s': L, LW and nW "
                       "stand alone in the field", (int)len, f);
    }
    c->days = DAYS_DOM;
    return list(sp, f, len, &c->f[F_DOM], d);
}

/* Day-of-week: L, nL, n#k, or a list. */
static int
dow_field(struct cron *c, const char *f, size_t len, struct sl_diag *d)
{
    const struct spec *sp = &specs[F_DOW];
    const char *hash = memchr(f, '#', len), *p = f;

    c->days = DAYS_DOW;
    /* AWS: L in day-of-week is "the last day of the week": Saturday. */
    if (word_is(f, len, "L")) {
        set_add(&c->f[F_DOW], 7);
        return 0;
    }
    if (hash != NULL) {
        const char *q = hash + 1;

        if (value(sp, &p, hash, &c->day) != F_OK || p != hash ||
            !digits(&q, f + len, &c->nth) || q != f + len || c->nth < 1 || c->nth > 5) {
            sl_diag_at(d, NULL, 0, 0, sp->name);
            return sl_fail(d, SL_ERR_INPUT, "cron(...): day-of-week field '%.*s': n#k takes "
                           "a day 1-7 or SUN-SAT and a week 1-5", (int)len, f);
        }
        c->days = DAYS_NTH_DOW;
        return 0;
    }
    if (len > 1 && (f[len - 1] == 'L' || f[len - 1] == 'l')) {
        if (value(sp, &p, f + len - 1, &c->day) != F_OK || p != f + len - 1) {
            sl_diag_at(d, NULL, 0, 0, sp->name);
            return sl_fail(d, SL_ERR_INPUT, "cron(...): day-of-week field '%.*s': nL takes a "
                           "day 1-7 or SUN-SAT", (int)len, f);
        }
        c->days = DAYS_LAST_DOW;
        return 0;
    }
    return list(sp, f, len, &c->f[F_DOW], d);
}

static int
parse_cron(struct cron *c, const char *s, size_t len, struct sl_diag *d)
{
    const char *f[NFIELDS + 1], *end = s + len, *p = s;
    size_t flen[NFIELDS + 1];
    int n = 0, rc;
    bool dom_any, dow_any;

    while (n <= NFIELDS) {
        while (p < end && is_blank(*p))
            p++;
        if (p == end)
            break;
        f[n] = p;
        while (p < end && !is_blank(*p))
            p++;
        flen[n] = (size_t)(p - f[n]);
        n++;
    }
    if (n != NFIELDS)
        return sl_fail(d, SL_ERR_INPUT, "cron(...): expected 6 fields (minutes hours "
                       "day-of-month month day-of-week year), found %s%d",
                       n > NFIELDS ? "more than " : "", n > NFIELDS ? NFIELDS : n);
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < NFIELDS; i++) {
        if (i == F_DOM || i == F_DOW || !word_is(f[i], flen[i], "?"))
            continue;
        sl_diag_at(d, NULL, 0, 0, specs[i].name);
        return sl_fail(d, SL_ERR_INPUT, "cron(...): %s field '?': '?' is only for "
                       "day-of-month and day-of-week", specs[i].name);
    }
    /* AWS: "If you specify a value or a * (asterisk) in one of the fields,
     * you must use a ? (question mark) in the other." */
    dom_any = word_is(f[F_DOM], flen[F_DOM], "?");
    dow_any = word_is(f[F_DOW], flen[F_DOW], "?");
    if (dom_any == dow_any)
        return sl_fail(d, SL_ERR_INPUT, dom_any ? "cron(...): day-of-month and day-of-week are "
                       "both '?': one of them must choose the days"
                                                : "cron(...): one of day-of-month and "
                       "day-of-week must be '?'");
    for (int i = 0; i < NFIELDS; i++) {
        if (i == F_DOM)
            rc = dow_any ? dom_field(c, f[i], flen[i], d) : 0;
        else if (i == F_DOW)
            rc = dom_any ? dow_field(c, f[i], flen[i], d) : 0;
        else
            rc = list(&specs[i], f[i], flen[i], &c->f[i], d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- cron: the next matching wall time ---------------------------------- */

/* The days of month m of year y that c fires on, bit d for day d. */
static uint32_t
month_days(const struct cron *c, int y, int m)
{
    int dim = (int)sl_days_in_month(y, (unsigned)m);
    int wd1 = cron_weekday(sl_days_from_civil(y, (unsigned)m, 1));
    int wd, day;
    uint32_t mask = 0;

    switch (c->days) {
    case DAYS_DOM:
        return (uint32_t)c->f[F_DOM].b[0] & (uint32_t)(((1ULL << dim) - 1) << 1);
    case DAYS_LAST:
        return 1u << dim;
    case DAYS_LAST_WEEKDAY:
    case DAYS_NEAREST:
        day = c->days == DAYS_LAST_WEEKDAY ? dim : c->day;
        if (day > dim)
            return 0;
        wd = (wd1 - 1 + day - 1) % 7 + 1;
        /* The weekday nearest a Saturday is the Friday before, a Sunday's
         * the Monday after, never across the month's ends (so 1W on a
         * Saturday is Monday the 3rd). */
        if (wd == 7)
            day = day == 1 ? 3 : day - 1;
        else if (wd == 1)
            day = day == dim ? day - 2 : day + 1;
        return 1u << day;
    case DAYS_DOW:
        for (day = 1; day <= dim; day++)
            if (set_has(&c->f[F_DOW], (wd1 - 1 + day - 1) % 7 + 1))
                mask |= 1u << day;
        return mask;
    case DAYS_LAST_DOW:
        day = 1 + (c->day - wd1 + 7) % 7;
        while (day + 7 <= dim)
            day += 7;
        return 1u << day;
    case DAYS_NTH_DOW:
        day = 1 + (c->day - wd1 + 7) % 7 + 7 * (c->nth - 1);
        return day <= dim ? 1u << day : 0;
    }
    return 0;
}

/* The first minute of the day at or after minute `from` that c matches
 * -> *out (minutes since midnight); false if none. */
static bool
day_minute(const struct cron *c, int from, int *out)
{
    for (int h = from / 60; h < 24; h++) {
        int start = h == from / 60 ? from % 60 : 0;
        uint64_t mins = c->f[F_MIN].b[0] >> start << start;

        if (set_has(&c->f[F_HOUR], h) && mins != 0) {
            *out = h * 60 + __builtin_ctzll(mins);
            return true;
        }
    }
    return false;
}

/* The first wall time at or after w that c matches -> *out (a whole
 * minute); false if there is none before 2200. */
static bool
cron_wall(const struct cron *c, int64_t w, int64_t *out)
{
    int64_t days;
    int y, m, from_day, from_min;
    unsigned mm, dd;

    w = floor_div(w, 60) * 60 < w ? (floor_div(w, 60) + 1) * 60 : w;
    if (w < 0)
        w = 0;
    days = floor_div(w, DAY);
    if (days > sl_days_from_civil(LAST_YEAR, 12, 31))
        return false;
    sl_civil_from_days(days, &y, &mm, &dd);
    m = (int)mm;
    from_day = (int)dd;
    from_min = (int)(w - days * DAY) / 60;
    for (; y <= LAST_YEAR; y++, m = 1, from_day = 1, from_min = 0) {
        if (!set_has(&c->f[F_YEAR], y - FIRST_YEAR))
            continue;
        for (; m <= 12; m++, from_day = 1, from_min = 0) {
            uint32_t mask;

            if (!set_has(&c->f[F_MON], m))
                continue;
            mask = month_days(c, y, m) >> from_day << from_day;
            for (; mask != 0; mask &= mask - 1) {
                int day = __builtin_ctz(mask), minute;

                if (day_minute(c, day == from_day ? from_min : 0, &minute)) {
                    *out = sl_days_from_civil(y, (unsigned)m, (unsigned)day) * DAY + minute * 60;
                    return true;
                }
            }
        }
    }
    return false;
}

static bool
cron_next(const struct flow_schedule *s, int64_t after_ms, int64_t *next_ms)
{
    /* A fire time t (whole seconds) is after after_ms iff t > after. */
    int64_t after = floor_div(after_ms, 1000), w = after + flow_tz_min_offset(s->tz);
    int64_t wall, t;

    while (cron_wall(&s->cron, w, &wall)) {
        switch (flow_tz_resolve(s->tz, wall, &t)) {
        case FLOW_TZ_SKIPPED:
            /* AWS: "When the time shifts forward in Spring, your schedule
             * invocation gets skipped if the cron expression falls on a
             * non-existent date and time."  Go on from the first wall
             * time after the jump. */
            w = t + flow_tz_offset(s->tz, t);
            if (w <= wall)
                w = wall + 60;
            continue;
        case FLOW_TZ_TWICE:
            /* AWS: "When the time shifts back in the Fall, your schedule
             * runs only once and doesn't repeat its invocation."
             * Decision: AWS does not say which showing; the first, so a
             * repeated hour fires at its usual place in the day and every
             * time keeps its order.  t is the first. */
        case FLOW_TZ_ONCE:
            if (t > after) {
                *next_ms = t * 1000;
                return true;
            }
            w = wall + 60;
            continue;
        }
    }
    return false;
}

/* ---- rate and at ---------------------------------------------------------- */

static int
parse_rate(struct flow_schedule *s, const char *p, size_t len, struct sl_diag *d)
{
    static const struct {
        const char *one, *many;
        int64_t ms;
    } units[] = {
        {"minute", "minutes", 60000},
        {"hour", "hours", 3600000},
        {"day", "days", 86400000},
    };
    const char *end = p + len, *v = p, *u;
    int value;

    if (!digits(&p, end, &value) || p == end || !is_blank(*p))
        return sl_fail(d, SL_ERR_INPUT, "rate(...): '%.*s': expected a value and a unit, as in "
                       "rate(5 minutes)", (int)len, v);
    if (value < 1 || value > MAX_RATE)
        return sl_fail(d, SL_ERR_INPUT, "rate(...): value '%.*s': must be a whole number from "
                       "1 to %d", (int)(p - v), v, MAX_RATE);
    while (p < end && is_blank(*p))
        p++;
    u = p;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        bool one = word_is(u, (size_t)(end - u), units[i].one);

        if (!one && !word_is(u, (size_t)(end - u), units[i].many))
            continue;
        /* AWS: "If the value is equal to 1, then the unit must be singular
         * ... If the value is greater than 1, the unit must be plural." */
        if (one != (value == 1))
            return sl_fail(d, SL_ERR_INPUT, "rate(...): value %d takes the unit '%s', not "
                           "'%.*s'", value, value == 1 ? units[i].one : units[i].many,
                           (int)(end - u), u);
        s->period_ms = value * units[i].ms;
        return 0;
    }
    return sl_fail(d, SL_ERR_INPUT, "rate(...): unit '%.*s': must be minute(s), hour(s) or "
                   "day(s)", (int)(end - u), u);
}

/* n digits at p -> *v. */
static bool
fixed(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        *v = *v * 10 + (p[i] - '0');
    }
    return true;
}

static int
parse_at(struct flow_schedule *s, const char *p, size_t len, struct sl_diag *d)
{
    int y, mo, da, h, mi, se;
    int64_t t;

    if (len != 19 || !fixed(p, 4, &y) || p[4] != '-' || !fixed(p + 5, 2, &mo) || p[7] != '-' ||
        !fixed(p + 8, 2, &da) || p[10] != 'T' || !fixed(p + 11, 2, &h) || p[13] != ':' ||
        !fixed(p + 14, 2, &mi) || p[16] != ':' || !fixed(p + 17, 2, &se))
        return sl_fail(d, SL_ERR_INPUT, "at(...): '%.*s': expected yyyy-mm-ddThh:mm:ss",
                       (int)len, p);
    if (y < FIRST_YEAR || y > LAST_YEAR)
        return sl_fail(d, SL_ERR_INPUT, "at(...): '%.*s': years are 1970-2199", (int)len, p);
    if (mo < 1 || mo > 12 || da < 1 || da > (int)sl_days_in_month(y, (unsigned)mo) || h > 23 ||
        mi > 59 || se > 59)
        return sl_fail(d, SL_ERR_INPUT, "at(...): '%.*s': no such date and time", (int)len, p);
    /* Decision (AWS is silent on one-time schedules and clock changes): a
     * wall time the clocks skip fires at the first instant after the jump
     * (02:30 on a night that goes from 02:00 to 03:00 fires at 03:00), as
     * a one-time schedule that never fires would be lost without a word;
     * a wall time shown twice fires at its first showing, as cron does. */
    flow_tz_resolve(s->tz, sl_days_from_civil(y, (unsigned)mo, (unsigned)da) * DAY +
                    h * 3600 + mi * 60 + se, &t);
    s->at_ms = t * 1000;
    return 0;
}

/* ---- the interface --------------------------------------------------------- */

int
flow_schedule_parse(const char *expr, const char *tz, struct flow_schedule **out,
                    struct sl_diag *d)
{
    static const struct {
        const char *word;
        enum kind kind;
    } kinds[] = {{"rate(", KIND_RATE}, {"cron(", KIND_CRON}, {"at(", KIND_AT}};
    struct flow_schedule *s;
    const char *p, *end;
    bool known = false;
    int rc;

    *out = NULL;
    if (expr == NULL)
        return sl_fail(d, SL_ERR_INPUT, "no schedule expression");
    if (strnlen(expr, FLOW_SCHEDULE_MAX + 1) > FLOW_SCHEDULE_MAX)
        return sl_fail(d, SL_ERR_INPUT, "schedule expression is longer than %d characters",
                       FLOW_SCHEDULE_MAX);
    s = sl_calloc(1, sizeof(*s));
    rc = flow_tz_load(tz, &s->tz, d);
    if (rc < 0)
        goto out_free;
    /* Decision: blanks around the expression and inside its parentheses
     * are allowed, as are runs of blanks between the parts. */
    p = expr;
    end = expr + strlen(expr);
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i].word);

        if ((size_t)(end - p) <= n || strncasecmp(p, kinds[i].word, n) != 0 || end[-1] != ')')
            continue;
        known = true;
        s->kind = kinds[i].kind;
        p += n;
        end--;
        while (p < end && is_blank(*p))
            p++;
        while (end > p && is_blank(end[-1]))
            end--;
        if (s->kind == KIND_RATE)
            rc = parse_rate(s, p, (size_t)(end - p), d);
        else if (s->kind == KIND_CRON)
            rc = parse_cron(&s->cron, p, (size_t)(end - p), d);
        else
            rc = parse_at(s, p, (size_t)(end - p), d);
        break;
    }
    if (!known)
        rc = sl_fail(d, SL_ERR_INPUT, "schedule expression '%s': expected rate(...), "
                     "cron(...) or at(...)", expr);
    if (rc < 0)
        goto out_free;
    *out = s;
    return 0;

out_free:
    flow_schedule_free(s);
    return rc;
}

void
flow_schedule_free(struct flow_schedule *s)
{
    if (s == NULL)
        return;
    flow_tz_free(s->tz);
    free(s);
}

bool
flow_schedule_next(const struct flow_schedule *s, int64_t anchor_ms, int64_t after_ms,
                   int64_t *next_ms)
{
    __int128 k, t;

    switch (s->kind) {
    case KIND_RATE:
        /* The schedule fires at its start and every period after it
         * (AWS: a day is "a 24-hour duration", clocks or no clocks). */
        if (after_ms < anchor_ms) {
            *next_ms = anchor_ms;
            return true;
        }
        k = ((__int128)after_ms - anchor_ms) / s->period_ms + 1;
        t = anchor_ms + k * s->period_ms;
        if (t > INT64_MAX)
            return false;
        *next_ms = (int64_t)t;
        return true;
    case KIND_CRON:
        return cron_next(s, after_ms, next_ms);
    case KIND_AT:
        if (s->at_ms <= after_ms)
            return false;
        *next_ms = s->at_ms;
        return true;
    }
    return false;
}

const char *
flow_schedule_kind(const struct flow_schedule *s)
{
    return s->kind == KIND_RATE ? "rate" : s->kind == KIND_CRON ? "cron" : "at";
}
