/*
 * test_schedule.c - schedule expressions (flow/schedule.c) and the time
 * zones under them (flow/tz.c): rate periods from their anchor; cron
 * increments, weekdays, names, L, W, #, years; at() past and future;
 * Europe/Berlin, America/New_York and Australia/Lord_Howe across both
 * clock changes of 2026, Asia/Kolkata, and the year 2150, which only the
 * zone files' POSIX footer rules reach; the POSIX rule forms on hand-made
 * TZif files; and every refusal with its words.
 *
 * Expected instants were worked out by hand and checked with
 * `date -u -d 'TZ="<zone>" <local time>'` and `zdump -v -c 2026,2027
 * <zone>` against Debian's tzdata; they are written in UT.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/fs.h"
#include "core/time.h"
#include "flow/schedule.h"
#include "flow/tz.h"
#include "test.h"

static struct sl_diag d;

/* A UT timestamp "2026-03-29T01:00:00Z" in milliseconds. */
static int64_t
ms(const char *text)
{
    int64_t usec;

    if (sl_parse_timestamp(text, strlen(text), &usec) != 0) {
        snprintf(test_why, sizeof(test_why), "bad timestamp in the test: %s", text);
        longjmp(test_jmp, 1);
    }
    return usec / 1000;
}

static struct flow_schedule *
parse(const char *expr, const char *tz)
{
    struct flow_schedule *s = NULL;

    sl_diag_init(&d);
    if (flow_schedule_parse(expr, tz, &s, &d) != 0) {
        snprintf(test_why, sizeof(test_why), "refused: %s in %s: %s", expr, tz ? tz : "UTC",
                 d.msg);
        longjmp(test_jmp, 1);
    }
    return s;
}

/* The next fire time of expr in tz after the UT time `after`, as a UT
 * timestamp string ("none" if there is none); anchor for rates. */
static char result[64];

static const char *
next_at(const char *expr, const char *tz, const char *anchor, const char *after)
{
    struct flow_schedule *s = parse(expr, tz);
    int64_t n;

    if (flow_schedule_next(s, anchor ? ms(anchor) : 0, ms(after), &n)) {
        char buf[40];

        sl_format_timestamp(n * 1000, buf);
        /* "2026-03-29T01:00:00.000000Z" -> "2026-03-29T01:00:00Z" */
        snprintf(result, sizeof(result), "%.19sZ", buf);
    } else {
        snprintf(result, sizeof(result), "none");
    }
    flow_schedule_free(s);
    return result;
}

#define NEXT(expr, tz, after, want) CHECK_STR(next_at(expr, tz, NULL, after), want)

/* The message of a refusal of expr in tz. */
static const char *
refusal(const char *expr, const char *tz)
{
    struct flow_schedule *s = (struct flow_schedule *)&d;
    int rc;

    sl_diag_init(&d);
    rc = flow_schedule_parse(expr, tz, &s, &d);
    if (rc != SL_ERR_INPUT || s != NULL || d.code != SL_ERR_INPUT) {
        snprintf(test_why, sizeof(test_why), "%s in %s: rc %d, expected a refusal", expr,
                 tz ? tz : "UTC", rc);
        flow_schedule_free(rc == 0 ? s : NULL);
        longjmp(test_jmp, 1);
    }
    return d.msg;
}

/* ---- rate ------------------------------------------------------------------ */

TEST(rate_counts_periods_from_the_anchor)
{
    const char *a = "2026-05-08T12:00:00Z";

    CHECK_STR(next_at("rate(5 minutes)", NULL, a, "2026-05-08T11:00:00Z"), a);
    CHECK_STR(next_at("rate(5 minutes)", NULL, a, "2026-05-08T11:59:59.999Z"), a);
    CHECK_STR(next_at("rate(5 minutes)", NULL, a, a), "2026-05-08T12:05:00Z");
    CHECK_STR(next_at("rate(5 minutes)", NULL, a, "2026-05-08T12:04:59.999Z"),
              "2026-05-08T12:05:00Z");
    CHECK_STR(next_at("rate(5 minutes)", NULL, a, "2026-05-08T12:05:00Z"),
              "2026-05-08T12:10:00Z");
    CHECK_STR(next_at("rate(1 minute)", NULL, "2026-05-08T12:00:30Z", "2026-05-08T13:00:00Z"),
              "2026-05-08T13:00:30Z");
    CHECK_STR(next_at("rate(1 hour)", NULL, a, "2026-05-09T00:30:00Z"), "2026-05-09T01:00:00Z");
    CHECK_STR(next_at("rate(3 hours)", NULL, a, "2026-05-08T14:00:00Z"), "2026-05-08T15:00:00Z");
    CHECK_STR(next_at("rate(7 days)", NULL, a, "2026-05-10T00:00:00Z"), "2026-05-15T12:00:00Z");
}

TEST(rate_days_are_24_hours_across_clock_changes)
{
    /* AWS: a day is "a 24-hour duration"; Berlin's clocks go forward on
     * 2026-03-29, and the period stays 24 h of UT. */
    CHECK_STR(next_at("rate(1 day)", "Europe/Berlin", "2026-03-28T08:00:00Z",
                      "2026-03-28T08:00:00Z"), "2026-03-29T08:00:00Z");
    CHECK_STR(next_at("rate(2 days)", "America/New_York", "2026-10-31T12:00:00Z",
                      "2026-11-01T00:00:00Z"), "2026-11-02T12:00:00Z");
}

TEST(rate_anchor_far_from_now)
{
    CHECK_STR(next_at("rate(1 minute)", NULL, "1970-01-01T00:00:00Z", "2199-12-31T23:59:30Z"),
              "2200-01-01T00:00:00Z");
}

TEST(rate_past_the_end_of_time)
{
    struct flow_schedule *s = parse("rate(1000000000 days)", NULL);
    int64_t n = 0;

    CHECK(flow_schedule_next(s, 0, 0, &n));
    CHECK_INT(n, 86400000000000000LL);
    CHECK(!flow_schedule_next(s, INT64_MAX - 1000, INT64_MAX - 1000, &n));
    CHECK(flow_schedule_next(s, INT64_MIN, INT64_MIN, &n));
    CHECK_INT(n, INT64_MIN + 86400000000000000LL);
    flow_schedule_free(s);
}

TEST(rate_refusals)
{
    CHECK_STR(refusal("rate(1 minutes)", NULL),
              "rate(...): value 1 takes the unit 'minute', not 'minutes'");
    CHECK_STR(refusal("rate(5 hour)", NULL), "rate(...): value 5 takes the unit 'hours', not 'hour'");
    CHECK_STR(refusal("rate(0 minutes)", NULL),
              "rate(...): value '0': must be a whole number from 1 to 1000000000");
    CHECK_HAS(refusal("rate(1000000001 days)", NULL), "value '1000000001'");
    CHECK_HAS(refusal("rate(99999999999999999999 days)", NULL), "from 1 to 1000000000");
    CHECK_STR(refusal("rate(2 weeks)", NULL),
              "rate(...): unit 'weeks': must be minute(s), hour(s) or day(s)");
    CHECK_STR(refusal("rate(5)", NULL),
              "rate(...): '5': expected a value and a unit, as in rate(5 minutes)");
    CHECK_HAS(refusal("rate(-5 minutes)", NULL), "expected a value and a unit");
    CHECK_HAS(refusal("rate(1.5 hours)", NULL), "expected a value and a unit");
    CHECK_HAS(refusal("rate()", NULL), "expected a value and a unit");
}

TEST(rate_accepts_either_case_and_blanks)
{
    struct flow_schedule *s = parse("  RATE( 10  Minutes ) ", NULL);

    CHECK_STR(flow_schedule_kind(s), "rate");
    flow_schedule_free(s);
}

/* ---- cron --------------------------------------------------------------- */

TEST(cron_every_five_minutes)
{
    NEXT("cron(0/5 * * * ? *)", NULL, "2026-05-01T10:02:30Z", "2026-05-01T10:05:00Z");
    NEXT("cron(0/5 * * * ? *)", NULL, "2026-05-01T10:04:59.999Z", "2026-05-01T10:05:00Z");
    NEXT("cron(0/5 * * * ? *)", NULL, "2026-05-01T10:05:00Z", "2026-05-01T10:10:00Z");
    NEXT("cron(*/5 * * * ? *)", NULL, "2026-05-01T23:57:00Z", "2026-05-02T00:00:00Z");
    NEXT("cron(10-20/5 * * * ? *)", NULL, "2026-05-01T10:21:00Z", "2026-05-01T11:10:00Z");
    NEXT("cron(* * * * ? *)", NULL, "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z");
}

TEST(cron_weekdays_in_berlin)
{
    /* Friday 2026-05-08 after 06:00 CEST: Monday the 11th, 06:00 CEST. */
    NEXT("cron(0 6 ? * MON-FRI *)", "Europe/Berlin", "2026-05-08T12:00:00Z",
         "2026-05-11T04:00:00Z");
    NEXT("cron(0 6 ? * 2-6 *)", "Europe/Berlin", "2026-05-08T12:00:00Z",
         "2026-05-11T04:00:00Z");
    /* In winter, CET. */
    NEXT("cron(0 6 ? * MON-FRI *)", "Europe/Berlin", "2026-01-09T12:00:00Z",
         "2026-01-12T05:00:00Z");
    NEXT("cron(0 6 ? * SUN,SAT *)", "Europe/Berlin", "2026-05-08T12:00:00Z",
         "2026-05-09T04:00:00Z");
}

TEST(cron_names_in_either_case)
{
    NEXT("cron(30 8 ? jan-Mar mon,WED *)", NULL, "2026-03-31T09:00:00Z", "2027-01-04T08:30:00Z");
    NEXT("cron(0 0 1 jul ? *)", NULL, "2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z");
    NEXT("cron(0 0 1 DEC ? *)", NULL, "2026-01-01T00:00:00Z", "2026-12-01T00:00:00Z");
}

TEST(cron_last_day_of_month)
{
    NEXT("cron(0 0 L * ? *)", NULL, "2026-02-10T00:00:00Z", "2026-02-28T00:00:00Z");
    NEXT("cron(0 0 L 2 ? *)", NULL, "2027-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
    NEXT("cron(0 0 l * ? *)", NULL, "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z");
    /* The last weekday: 2026-05-31 is a Sunday, so Friday the 29th. */
    NEXT("cron(0 18 LW * ? *)", NULL, "2026-05-01T00:00:00Z", "2026-05-29T18:00:00Z");
}

TEST(cron_nearest_weekday)
{
    /* 2026-08-15 is a Saturday: Friday the 14th. */
    NEXT("cron(0 9 15W * ? *)", NULL, "2026-08-01T00:00:00Z", "2026-08-14T09:00:00Z");
    /* 2026-11-15 is a Sunday: Monday the 16th. */
    NEXT("cron(0 9 15W * ? *)", NULL, "2026-11-01T00:00:00Z", "2026-11-16T09:00:00Z");
    /* 2026-07-15 is a Wednesday. */
    NEXT("cron(0 9 15W * ? *)", NULL, "2026-07-01T00:00:00Z", "2026-07-15T09:00:00Z");
    /* 2026-08-01 is a Saturday: not back into July but Monday the 3rd. */
    NEXT("cron(0 9 1W * ? *)", NULL, "2026-07-31T00:00:00Z", "2026-08-03T09:00:00Z");
    /* 2026-05-31 is a Sunday: Friday the 29th, not June 1st. */
    NEXT("cron(0 9 31w * ? *)", NULL, "2026-05-01T00:00:00Z", "2026-05-29T09:00:00Z");
    /* No 31st in June: July 31st, a Friday. */
    NEXT("cron(0 9 31W * ? *)", NULL, "2026-06-01T00:00:00Z", "2026-07-31T09:00:00Z");
}

TEST(cron_nth_and_last_weekday)
{
    /* The second Tuesday of June 2026 (June 1st is a Monday). */
    NEXT("cron(0 12 ? * 3#2 *)", NULL, "2026-06-01T00:00:00Z", "2026-06-09T12:00:00Z");
    NEXT("cron(0 12 ? * TUE#2 *)", NULL, "2026-06-09T12:00:00Z", "2026-07-14T12:00:00Z");
    /* A fifth Monday: not in July 2026 (July 1st is a Wednesday), but in
     * August (the 31st). */
    NEXT("cron(0 12 ? * MON#5 *)", NULL, "2026-07-01T00:00:00Z", "2026-08-31T12:00:00Z");
    /* The last Friday. */
    NEXT("cron(0 12 ? * 6L *)", NULL, "2026-06-01T00:00:00Z", "2026-06-26T12:00:00Z");
    NEXT("cron(0 12 ? * friL *)", NULL, "2026-06-26T12:00:00Z", "2026-07-31T12:00:00Z");
    /* L alone: the last day of the week, Saturday. */
    NEXT("cron(0 12 ? * L *)", NULL, "2026-06-01T00:00:00Z", "2026-06-06T12:00:00Z");
}

TEST(cron_years)
{
    NEXT("cron(0 0 1 1 ? 2027-2028)", NULL, "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z");
    NEXT("cron(0 0 1 1 ? 2027-2028)", NULL, "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z");
    NEXT("cron(0 0 1 1 ? 2027-2028)", NULL, "2028-01-01T00:00:00Z", "none");
    NEXT("cron(0 0 1 1 ? 2030,2040/10)", NULL, "2031-01-01T00:00:00Z", "2040-01-01T00:00:00Z");
    NEXT("cron(0 0 1 1 ? 2030,2040/10)", NULL, "2190-01-01T00:00:00Z", "none");
    NEXT("cron(59 23 31 12 ? *)", NULL, "2199-12-31T23:58:00Z", "2199-12-31T23:59:00Z");
    NEXT("cron(59 23 31 12 ? *)", NULL, "2199-12-31T23:59:00Z", "none");
    NEXT("cron(0 0 1 1 ? 1970)", NULL, "1969-06-01T00:00:00Z", "1970-01-01T00:00:00Z");
    /* A day that never comes. */
    NEXT("cron(0 0 30 2 ? *)", NULL, "2026-01-01T00:00:00Z", "none");
}

TEST(cron_refusals)
{
    CHECK_STR(refusal("cron(0 6 ? * 8 *)", NULL),
              "cron(...): day-of-week field '8': values are 1-7 or SUN-SAT");
    CHECK_STR(d.field, "day-of-week");
    CHECK_STR(refusal("cron(60 * * * ? *)", NULL), "cron(...): minutes field '60': values are 0-59");
    CHECK_STR(refusal("cron(0 24 * * ? *)", NULL), "cron(...): hours field '24': values are 0-23");
    CHECK_STR(refusal("cron(0 0 32 * ? *)", NULL),
              "cron(...): day-of-month field '32': values are 1-31");
    CHECK_STR(refusal("cron(0 0 * FOO ? *)", NULL),
              "cron(...): month field 'FOO': values are 1-12 or JAN-DEC");
    CHECK_STR(refusal("cron(0 0 * 13 ? *)", NULL),
              "cron(...): month field '13': values are 1-12 or JAN-DEC");
    CHECK_STR(refusal("cron(0 0 * * ? 2200)", NULL),
              "cron(...): year field '2200': values are 1970-2199");
    CHECK_STR(refusal("cron(0 0 * * ? 1969)", NULL),
              "cron(...): year field '1969': values are 1970-2199");
    CHECK_STR(refusal("cron(0 0 ? * 0 *)", NULL),
              "cron(...): day-of-week field '0': values are 1-7 or SUN-SAT");
    CHECK_STR(refusal("cron(0 0 * * * *)", NULL),
              "cron(...): one of day-of-month and day-of-week must be '?'");
    CHECK_STR(refusal("cron(0 0 1 * MON *)", NULL),
              "cron(...): one of day-of-month and day-of-week must be '?'");
    CHECK_STR(refusal("cron(0 0 ? * ? *)", NULL),
              "cron(...): day-of-month and day-of-week are both '?': one of them must choose "
              "the days");
    CHECK_STR(refusal("cron(? 0 * * ? *)", NULL),
              "cron(...): minutes field '?': '?' is only for day-of-month and day-of-week");
    CHECK_STR(refusal("cron(0 0 * * ?)", NULL),
              "cron(...): expected 6 fields (minutes hours day-of-month month day-of-week "
              "year), found 5");
    CHECK_HAS(refusal("cron(0 0 * * ? * *)", NULL), "found more than 6");
    CHECK_HAS(refusal("cron()", NULL), "found 0");
    CHECK_STR(refusal("cron(0 20-10 * * ? *)", NULL),
              "cron(...): hours field '20-10': a range runs backwards (ranges go from low to "
              "high)");
    CHECK_HAS(refusal("cron(0 0 ? * SAT-MON *)", NULL), "runs backwards");
    CHECK_STR(refusal("cron(0/0 * * * ? *)", NULL),
              "cron(...): minutes field '0/0': an increment must be 1 or more");
    CHECK_STR(refusal("cron(1,,2 * * * ? *)", NULL),
              "cron(...): minutes field '1,,2': expected '*' or a list of values (0-59), "
              "ranges a-b and increments a/n");
    CHECK_HAS(refusal("cron(1- * * * ? *)", NULL), "minutes field '1-': expected");
    CHECK_HAS(refusal("cron(*/ * * * ? *)", NULL), "minutes field '*/': expected");
    CHECK_HAS(refusal("cron(5/x * * * ? *)", NULL), "minutes field '5/x': expected");
    CHECK_STR(refusal("cron(0 0 32W * ? *)", NULL),
              "cron(...): day-of-month field '32W': nW takes a day 1-31");
    CHECK_STR(refusal("cron(0 0 L,15 * ? *)", NULL),
              "cron(...): day-of-month field 'L,15': L, LW and nW stand alone in the field");
    CHECK_HAS(refusal("cron(0 0 W * ? *)", NULL), "stand alone");
    CHECK_STR(refusal("cron(0 0 ? * 2#6 *)", NULL),
              "cron(...): day-of-week field '2#6': n#k takes a day 1-7 or SUN-SAT and a week "
              "1-5");
    CHECK_HAS(refusal("cron(0 0 ? * 8#1 *)", NULL), "n#k takes");
    CHECK_HAS(refusal("cron(0 0 ? * MON#1,2 *)", NULL), "n#k takes");
    CHECK_STR(refusal("cron(0 0 ? * 9L *)", NULL),
              "cron(...): day-of-week field '9L': nL takes a day 1-7 or SUN-SAT");
}

/* ---- at ------------------------------------------------------------------- */

TEST(at_past_and_future)
{
    struct flow_schedule *s = parse("at(2026-12-24T18:00:00)", "Europe/Berlin");
    int64_t n = 0;

    CHECK_STR(flow_schedule_kind(s), "at");
    CHECK(flow_schedule_next(s, 0, ms("2026-01-01T00:00:00Z"), &n));
    CHECK_INT(n, ms("2026-12-24T17:00:00Z"));
    CHECK(flow_schedule_next(s, 0, ms("2026-12-24T16:59:59.999Z"), &n));
    CHECK(!flow_schedule_next(s, 0, ms("2026-12-24T17:00:00Z"), &n));
    CHECK(!flow_schedule_next(s, 0, ms("2027-01-01T00:00:00Z"), &n));
    flow_schedule_free(s);
    NEXT("at(2026-06-01T09:00:30)", NULL, "2026-01-01T00:00:00Z", "2026-06-01T09:00:30Z");
    NEXT("at(2026-06-01T09:00:00)", "Asia/Kolkata", "2026-01-01T00:00:00Z",
         "2026-06-01T03:30:00Z");
}

TEST(at_refusals)
{
    CHECK_STR(refusal("at(2026-02-30T00:00:00)", NULL),
              "at(...): '2026-02-30T00:00:00': no such date and time");
    CHECK_HAS(refusal("at(2026-13-01T00:00:00)", NULL), "no such date and time");
    CHECK_HAS(refusal("at(2026-01-01T24:00:00)", NULL), "no such date and time");
    CHECK_HAS(refusal("at(2026-01-01T23:60:00)", NULL), "no such date and time");
    CHECK_HAS(refusal("at(2027-02-29T00:00:00)", NULL), "no such date and time");
    CHECK_STR(refusal("at(2026-01-01 00:00:00)", NULL),
              "at(...): '2026-01-01 00:00:00': expected yyyy-mm-ddThh:mm:ss");
    CHECK_HAS(refusal("at(2026-01-01T00:00)", NULL), "expected yyyy-mm-ddThh:mm:ss");
    CHECK_HAS(refusal("at(2026-01-01T00:00:00Z)", NULL), "expected yyyy-mm-ddThh:mm:ss");
    CHECK_STR(refusal("at(2200-01-01T00:00:00)", NULL),
              "at(...): '2200-01-01T00:00:00': years are 1970-2199");
    NEXT("at(2028-02-29T00:00:00)", NULL, "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
}

/* ---- clock changes ---------------------------------------------------------- */

TEST(berlin_spring_forward)
{
    /* 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z).  AWS: a cron time that
     * does not exist is skipped. */
    NEXT("cron(30 2 * * ? *)", "Europe/Berlin", "2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z");
    NEXT("cron(30 2 * * ? *)", "Europe/Berlin", "2026-03-27T12:00:00Z", "2026-03-28T01:30:00Z");
    /* Times around the gap run as usual: the minute before, then 03:00. */
    NEXT("cron(0/15 * * * ? *)", "Europe/Berlin", "2026-03-29T00:40:00Z", "2026-03-29T00:45:00Z");
    NEXT("cron(0/15 * * * ? *)", "Europe/Berlin", "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z");
    NEXT("cron(0 3 * * ? *)", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z");
    /* at() in the gap fires at the first instant after it: 03:00 CEST. */
    NEXT("at(2026-03-29T02:30:00)", "Europe/Berlin", "2026-01-01T00:00:00Z",
         "2026-03-29T01:00:00Z");
    NEXT("at(2026-03-29T02:00:00)", "Europe/Berlin", "2026-01-01T00:00:00Z",
         "2026-03-29T01:00:00Z");
    NEXT("at(2026-03-29T03:00:00)", "Europe/Berlin", "2026-01-01T00:00:00Z",
         "2026-03-29T01:00:00Z");
    NEXT("at(2026-03-29T01:59:59)", "Europe/Berlin", "2026-01-01T00:00:00Z",
         "2026-03-29T00:59:59Z");
}

TEST(berlin_fall_back)
{
    /* 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z): 02:00-02:59 is shown
     * twice.  AWS: it runs once; we take the first showing (CEST). */
    NEXT("cron(30 2 * * ? *)", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z");
    NEXT("cron(30 2 * * ? *)", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
    /* Every quarter hour: through the first 02:xx, not again in the
     * second, then 03:00 CET. */
    NEXT("cron(0/15 * * * ? *)", "Europe/Berlin", "2026-10-25T00:40:00Z", "2026-10-25T00:45:00Z");
    NEXT("cron(0/15 * * * ? *)", "Europe/Berlin", "2026-10-25T00:45:00Z", "2026-10-25T02:00:00Z");
    /* A schedule that starts during the second showing. */
    NEXT("cron(0/15 * * * ? *)", "Europe/Berlin", "2026-10-25T01:20:00Z", "2026-10-25T02:00:00Z");
    NEXT("at(2026-10-25T02:30:00)", "Europe/Berlin", "2026-01-01T00:00:00Z",
         "2026-10-25T00:30:00Z");
    NEXT("at(2026-10-25T02:30:00)", "Europe/Berlin", "2026-10-25T00:30:00Z", "none");
}

TEST(new_york_both_changes)
{
    /* 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z). */
    NEXT("cron(30 2 ? * SUN *)", "America/New_York", "2026-03-07T00:00:00Z",
         "2026-03-15T06:30:00Z");
    NEXT("cron(0 9 * * ? *)", "America/New_York", "2026-03-07T15:00:00Z", "2026-03-08T13:00:00Z");
    NEXT("at(2026-03-08T02:30:00)", "America/New_York", "2026-01-01T00:00:00Z",
         "2026-03-08T07:00:00Z");
    /* 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z): 01:xx twice, first EDT. */
    NEXT("cron(30 1 * * ? *)", "America/New_York", "2026-10-31T12:00:00Z",
         "2026-11-01T05:30:00Z");
    NEXT("cron(30 1 * * ? *)", "America/New_York", "2026-11-01T05:30:00Z",
         "2026-11-02T06:30:00Z");
    NEXT("at(2026-11-01T01:30:00)", "America/New_York", "2026-01-01T00:00:00Z",
         "2026-11-01T05:30:00Z");
    NEXT("cron(0 * * * ? *)", "America/New_York", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z");
}

TEST(lord_howe_half_hour_changes)
{
    /* 2026-10-04 02:00 +1030 -> 02:30 +11 (15:30Z the day before). */
    NEXT("cron(15 2 * * ? *)", "Australia/Lord_Howe", "2026-10-03T12:00:00Z",
         "2026-10-04T15:15:00Z");
    NEXT("at(2026-10-04T02:15:00)", "Australia/Lord_Howe", "2026-01-01T00:00:00Z",
         "2026-10-03T15:30:00Z");
    NEXT("cron(45 2 * * ? *)", "Australia/Lord_Howe", "2026-10-03T12:00:00Z",
         "2026-10-03T15:45:00Z");
    /* 2026-04-05 02:00 +11 -> 01:30 +1030 (15:00Z on the 4th): 01:45 is
     * shown twice, first at +11. */
    NEXT("cron(45 1 * * ? *)", "Australia/Lord_Howe", "2026-04-04T12:00:00Z",
         "2026-04-04T14:45:00Z");
    NEXT("cron(45 1 * * ? *)", "Australia/Lord_Howe", "2026-04-04T14:45:00Z",
         "2026-04-05T15:15:00Z");
}

TEST(kolkata_has_no_changes)
{
    NEXT("cron(0 9 * * ? *)", "Asia/Kolkata", "2026-05-01T00:00:00Z", "2026-05-01T03:30:00Z");
    NEXT("cron(0 9 * * ? *)", "Asia/Kolkata", "2026-05-01T03:30:00Z", "2026-05-02T03:30:00Z");
    NEXT("cron(30 23 L * ? *)", "Asia/Kolkata", "2026-02-01T00:00:00Z", "2026-02-28T18:00:00Z");
}

TEST(year_2150_from_the_footer_rules)
{
    /* Past every transition in the files: only the POSIX rules know. */
    NEXT("cron(0 12 1 1,7 ? 2150)", "Europe/Berlin", "2149-12-31T00:00:00Z",
         "2150-01-01T11:00:00Z");
    NEXT("cron(0 12 1 1,7 ? 2150)", "Europe/Berlin", "2150-01-01T11:00:00Z",
         "2150-07-01T10:00:00Z");
    /* New York's second Sunday of March 2150 is the 8th. */
    NEXT("cron(0 9 * 3 ? 2150)", "America/New_York", "2150-03-01T00:00:00Z",
         "2150-03-01T14:00:00Z");
    NEXT("cron(0 9 * 3 ? 2150)", "America/New_York", "2150-03-07T14:00:00Z",
         "2150-03-08T13:00:00Z");
    NEXT("cron(30 2 * 3 ? 2150)", "America/New_York", "2150-03-07T07:30:00Z",
         "2150-03-09T06:30:00Z");
    NEXT("at(2150-01-15T12:00:00)", "Australia/Lord_Howe", "2026-01-01T00:00:00Z",
         "2150-01-15T01:00:00Z");
}

/* ---- zones ----------------------------------------------------------------- */

TEST(zone_refusals)
{
    CHECK_STR(refusal("rate(5 minutes)", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'");
    CHECK_HAS(d.hint, "IANA");
    CHECK_STR(refusal("rate(5 minutes)", "../../etc/passwd"),
              "unknown time zone '../../etc/passwd'");
    CHECK_STR(refusal("rate(5 minutes)", "/etc/passwd"), "unknown time zone '/etc/passwd'");
    CHECK_STR(refusal("rate(5 minutes)", "Europe"), "unknown time zone 'Europe'");
    CHECK_STR(refusal("rate(5 minutes)", "Europe/Berlin "), "unknown time zone 'Europe/Berlin '");
    CHECK_STR(refusal("cron(0 0 * * ? *)", "Europe/Nowhere"), "unknown time zone 'Europe/Nowhere'");
    /* A file under the directory that is not TZif. */
    if (sl_exists(FLOW_TZ_DIR "/tzdata.zi"))
        CHECK_HAS(refusal("rate(5 minutes)", "tzdata.zi"),
                  "malformed time zone file '" FLOW_TZ_DIR "/tzdata.zi': no TZif header");
}

TEST(expression_refusals)
{
    char big[400];

    CHECK_STR(refusal("every(5 minutes)", NULL),
              "schedule expression 'every(5 minutes)': expected rate(...), cron(...) or at(...)");
    CHECK_HAS(refusal("rate(5 minutes", NULL), "expected rate(...), cron(...) or at(...)");
    CHECK_HAS(refusal("", NULL), "expected rate(...)");
    CHECK_STR(refusal(NULL, NULL), "no schedule expression");
    memset(big, ' ', sizeof(big));
    memcpy(big, "rate(5 minutes)", 15);
    big[sizeof(big) - 1] = '\0';
    CHECK_STR(refusal(big, NULL), "schedule expression is longer than 256 characters");
}

TEST(kinds)
{
    struct flow_schedule *s = parse("Cron(0 6 ? * MON-FRI *)", "UTC");

    CHECK_STR(flow_schedule_kind(s), "cron");
    flow_schedule_free(s);
    flow_schedule_free(NULL);
}

/* A version-2 TZif file with the given transitions (to types idx[]), types
 * of offsets offs[], and footer; returns its length in buf. */
static size_t
tzif(uint8_t *buf, int ntimes, const int64_t *times, const uint8_t *idx, int ntypes,
     const int32_t *offs, const char *footer)
{
    size_t n = 0;

    for (int block = 0; block < 2; block++) {
        uint32_t counts[6] = {0, 0, 0, (uint32_t)ntimes, (uint32_t)ntypes, 4};

        memcpy(buf + n, "TZif2", 5);
        memset(buf + n + 5, 0, 15);
        n += 20;
        for (int i = 0; i < 6; i++, n += 4)
            for (int b = 0; b < 4; b++)
                buf[n + b] = (uint8_t)(counts[i] >> (24 - 8 * b));
        for (int i = 0; i < ntimes; i++)
            for (int b = 0, w = block ? 8 : 4; b < w; b++)
                buf[n++] = (uint8_t)((uint64_t)times[i] >> (8 * (w - 1 - b)));
        for (int i = 0; i < ntimes; i++)
            buf[n++] = idx[i];
        for (int i = 0; i < ntypes; i++) {
            for (int b = 0; b < 4; b++)
                buf[n++] = (uint8_t)((uint32_t)offs[i] >> (24 - 8 * b));
            buf[n++] = 0;
            buf[n++] = 0;
        }
        memcpy(buf + n, "ABC", 4);
        n += 4;
    }
    n += (size_t)snprintf((char *)buf + n, 256, "\n%s\n", footer);
    return n;
}

/* A zone of no transitions and the footer rule `footer`. */
static struct flow_tz *
rule_zone(const char *footer)
{
    uint8_t buf[512];
    int32_t off = 0;
    struct flow_tz *z = NULL;
    size_t len = tzif(buf, 0, NULL, NULL, 1, &off, footer);

    sl_diag_init(&d);
    if (flow_tz_parse("test", buf, len, &z, &d) != 0) {
        snprintf(test_why, sizeof(test_why), "footer '%s' refused: %s", footer, d.msg);
        longjmp(test_jmp, 1);
    }
    return z;
}

static int64_t
sec(const char *text)
{
    return ms(text) / 1000;
}

TEST(posix_rule_forms)
{
    struct flow_tz *z;
    int64_t at, t;

    /* Mm.w.d: New York's rule. */
    z = rule_zone("EST5EDT,M3.2.0,M11.1.0");
    CHECK_INT(flow_tz_offset(z, sec("2026-03-08T06:59:59Z")), -18000);
    CHECK_INT(flow_tz_offset(z, sec("2026-03-08T07:00:00Z")), -14400);
    CHECK(flow_tz_next_change(z, sec("2026-01-01T00:00:00Z"), &at));
    CHECK_INT(at, sec("2026-03-08T07:00:00Z"));
    CHECK(flow_tz_next_change(z, at, &at));
    CHECK_INT(at, sec("2026-11-01T06:00:00Z"));
    CHECK_INT(flow_tz_resolve(z, sec("2026-11-01T01:30:00Z"), &t), FLOW_TZ_TWICE);
    CHECK_INT(t, sec("2026-11-01T05:30:00Z"));
    CHECK_INT(flow_tz_resolve(z, sec("2026-03-08T02:30:00Z"), &t), FLOW_TZ_SKIPPED);
    CHECK_INT(t, sec("2026-03-08T07:00:00Z"));
    CHECK_INT(flow_tz_resolve(z, sec("2026-07-01T12:00:00Z"), &t), FLOW_TZ_ONCE);
    CHECK_INT(t, sec("2026-07-01T16:00:00Z"));
    flow_tz_free(z);

    /* Jn never counts February 29: J60 is March 1st, leap year or not. */
    z = rule_zone("AAA0BBB,J60,J300");
    CHECK_INT(flow_tz_offset(z, sec("2028-03-01T01:59:59Z")), 0);
    CHECK_INT(flow_tz_offset(z, sec("2028-03-01T02:00:00Z")), 3600);
    CHECK_INT(flow_tz_offset(z, sec("2027-03-01T02:00:00Z")), 3600);
    flow_tz_free(z);
    /* n counts it: day 59 is February 29th in 2028, March 1st in 2027. */
    z = rule_zone("AAA0BBB,59,300");
    CHECK(flow_tz_next_change(z, sec("2028-01-01T00:00:00Z"), &at));
    CHECK_INT(at, sec("2028-02-29T02:00:00Z"));
    CHECK(flow_tz_next_change(z, sec("2027-01-01T00:00:00Z"), &at));
    CHECK_INT(at, sec("2027-03-01T02:00:00Z"));
    flow_tz_free(z);

    /* Negative times: the day before; the end is in daylight time. */
    z = rule_zone("AAA0BBB,M3.5.0/-1,M10.5.0/-1:30");
    CHECK(flow_tz_next_change(z, sec("2026-01-01T00:00:00Z"), &at));
    CHECK_INT(at, sec("2026-03-28T23:00:00Z"));
    CHECK(flow_tz_next_change(z, at, &at));
    CHECK_INT(at, sec("2026-10-24T21:30:00Z"));
    flow_tz_free(z);
    /* Times past 24 hours: days after. */
    z = rule_zone("AAA0BBB,M3.5.0/26,M10.5.0/167");
    CHECK(flow_tz_next_change(z, sec("2026-01-01T00:00:00Z"), &at));
    CHECK_INT(at, sec("2026-03-30T02:00:00Z"));
    CHECK(flow_tz_next_change(z, at, &at));
    CHECK_INT(at, sec("2026-10-31T22:00:00Z"));
    flow_tz_free(z);

    /* Southern hemisphere, quoted names and an explicit daylight offset. */
    z = rule_zone("<+10>-10<+1130>-11:30,M10.1.0,M4.1.0/3");
    CHECK_INT(flow_tz_offset(z, sec("2150-01-15T00:00:00Z")), 41400);
    CHECK_INT(flow_tz_offset(z, sec("2150-06-15T00:00:00Z")), 36000);
    flow_tz_free(z);

    /* RFC 8536's daylight time all year: never changes. */
    z = rule_zone("EST5EDT,0/0,J365/25");
    CHECK_INT(flow_tz_offset(z, sec("2026-01-01T05:00:00Z")), -14400);
    CHECK_INT(flow_tz_offset(z, sec("2026-07-01T00:00:00Z")), -14400);
    CHECK_INT(flow_tz_offset(z, sec("2026-12-31T23:00:00Z")), -14400);
    CHECK(!flow_tz_next_change(z, sec("2026-06-01T00:00:00Z"), &at));
    flow_tz_free(z);

    /* No daylight time; and no footer at all: the last type stays. */
    z = rule_zone("<+0530>-5:30");
    CHECK_INT(flow_tz_offset(z, sec("2150-06-15T00:00:00Z")), 19800);
    CHECK(!flow_tz_next_change(z, 0, &at));
    flow_tz_free(z);
    z = rule_zone("");
    CHECK_INT(flow_tz_offset(z, sec("2150-06-15T00:00:00Z")), 0);
    flow_tz_free(z);
}

TEST(tzif_transitions_then_footer)
{
    int64_t times[2] = {sec("2000-01-01T00:00:00Z"), sec("2010-01-01T00:00:00Z")};
    uint8_t idx[2] = {1, 0}, buf[512];
    int32_t offs[2] = {3600, 7200};
    struct flow_tz *z;
    size_t len = tzif(buf, 2, times, idx, 2, offs, "CET-1CEST,M3.5.0,M10.5.0/3");
    int64_t at;

    sl_diag_init(&d);
    CHECK_INT(flow_tz_parse("test", buf, len, &z, &d), 0);
    CHECK_INT(flow_tz_offset(z, times[0] - 1), 3600);
    CHECK_INT(flow_tz_offset(z, times[0]), 7200);
    CHECK_INT(flow_tz_offset(z, times[1]), 3600);
    CHECK_INT(flow_tz_offset(z, sec("2026-07-01T00:00:00Z")), 7200);
    CHECK(flow_tz_next_change(z, times[0] - 1, &at));
    CHECK_INT(at, times[0]);
    CHECK(flow_tz_next_change(z, times[1], &at));
    CHECK_INT(at, sec("2010-03-28T01:00:00Z"));
    CHECK_INT(flow_tz_min_offset(z), 3600);
    CHECK_INT(flow_tz_max_offset(z), 7200);
    flow_tz_free(z);
}

/* The message of flow_tz_parse() on buf[0..len). */
static const char *
tz_refusal(const uint8_t *buf, size_t len)
{
    struct flow_tz *z = (struct flow_tz *)&d;

    sl_diag_init(&d);
    CHECK_INT(flow_tz_parse("bad", buf, len, &z, &d), SL_ERR_INPUT);
    CHECK(z == NULL);
    return d.msg;
}

TEST(tzif_refusals)
{
    int64_t times[2] = {100, 50};
    uint8_t idx[2] = {0, 0}, buf[512], copy[512];
    int32_t off = 0, huge = 100000;
    size_t len = tzif(buf, 0, NULL, NULL, 1, &off, "UTC0");

    CHECK_STR(tz_refusal(buf, 10), "malformed time zone file 'bad': no TZif header");
    CHECK_HAS(tz_refusal((const uint8_t *)"TZjf2", 5), "no TZif header");
    for (size_t cut = 44; cut < len; cut++)
        CHECK_HAS(tz_refusal(buf, cut), "malformed time zone file 'bad': ");
    memcpy(copy, buf, len);
    copy[4] = 0;
    CHECK_STR(tz_refusal(copy, len), "malformed time zone file 'bad': version 1 has no 64-bit data");
    copy[4] = '7';
    CHECK_HAS(tz_refusal(copy, len), "unknown TZif version");
    memcpy(copy, buf, len);
    copy[len] = 'x';
    CHECK_STR(tz_refusal(copy, len + 1), "malformed time zone file 'bad': bytes after the footer");
    CHECK_HAS(tz_refusal(buf, len - 1), "the footer does not end in a newline");

    len = tzif(buf, 2, times, idx, 1, &off, "UTC0");
    CHECK_HAS(tz_refusal(buf, len), "transition times are not ascending");
    times[1] = 200;
    idx[1] = 3;
    len = tzif(buf, 2, times, idx, 1, &off, "UTC0");
    CHECK_HAS(tz_refusal(buf, len), "a transition to a time type that does not exist");
    len = tzif(buf, 0, NULL, NULL, 1, &huge, "UTC0");
    CHECK_HAS(tz_refusal(buf, len), "a UT offset beyond");
    len = tzif(buf, 0, NULL, NULL, 0, &off, "UTC0");
    CHECK_HAS(tz_refusal(buf, len), "the number of time types is not 1-256");

    len = tzif(buf, 0, NULL, NULL, 1, &off, "EST5EDT");
    CHECK_STR(tz_refusal(buf, len), "malformed time zone file 'bad': footer 'EST5EDT' is not a "
              "POSIX TZ string with a rule");
    len = tzif(buf, 0, NULL, NULL, 1, &off, "E5");
    CHECK_HAS(tz_refusal(buf, len), "footer 'E5'");
    len = tzif(buf, 0, NULL, NULL, 1, &off, "EST25");
    CHECK_HAS(tz_refusal(buf, len), "footer 'EST25'");
    len = tzif(buf, 0, NULL, NULL, 1, &off, "EST5EDT,M13.1.0,M11.1.0");
    CHECK_HAS(tz_refusal(buf, len), "footer");
    len = tzif(buf, 0, NULL, NULL, 1, &off, "EST5EDT,M3.2.0,M11.1.0/168");
    CHECK_HAS(tz_refusal(buf, len), "footer");
    len = tzif(buf, 0, NULL, NULL, 1, &off, "EST5EDT,J0,J365");
    CHECK_HAS(tz_refusal(buf, len), "footer");
    len = tzif(buf, 0, NULL, NULL, 1, &off, "EST5EDT,0,366");
    CHECK_HAS(tz_refusal(buf, len), "footer");
    len = tzif(buf, 0, NULL, NULL, 1, &off, "<AB>5");
    CHECK_HAS(tz_refusal(buf, len), "footer");
}

TEST(utc_by_default)
{
    struct flow_tz *z;
    int64_t t;

    sl_diag_init(&d);
    CHECK_INT(flow_tz_load(NULL, &z, &d), 0);
    CHECK_STR(flow_tz_name(z), "UTC");
    CHECK_INT(flow_tz_offset(z, 123456789), 0);
    CHECK_INT(flow_tz_resolve(z, 123456789, &t), FLOW_TZ_ONCE);
    CHECK_INT(t, 123456789);
    flow_tz_free(z);
    NEXT("cron(0 6 * * ? *)", "", "2026-05-01T07:00:00Z", "2026-05-02T06:00:00Z");
    NEXT("cron(0 6 * * ? *)", "UTC", "2026-05-01T07:00:00Z", "2026-05-02T06:00:00Z");
}
