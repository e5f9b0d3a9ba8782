/*
 * schedule.h - schedule expressions in Amazon EventBridge Scheduler's
 * syntax, in an IANA time zone, and the next time each fires:
 *
 *     rate(5 minutes)            every 5 minutes from when the schedule began
 *     cron(0 6 ? * MON-FRI *)    06:00 on weekdays, on the zone's clock
 *     at(2026-12-24T18:00:00)    once, at that wall time in the zone
 *
 * rate(value unit): a whole number from 1 to 1000000000 and minute(s),
 * hour(s) or day(s), singular exactly when the value is 1 (AWS refuses
 * "rate(1 minutes)" and "rate(5 minute)").  Periods are fixed lengths of
 * time counted from the schedule's start; a day is 24 hours, whatever the
 * clocks do.
 *
 * cron(minutes hours day-of-month month day-of-week year): 0-59, 0-23,
 * 1-31, 1-12 or JAN-DEC, 1-7 or SUN-SAT (1 = Sunday), 1970-2199.  Each
 * field is '*' or a list of values, ranges a-b and increments a/n and
 * a-b/n ('*' may stand for a or a-b); exactly one of day-of-month and
 * day-of-week is '?'.  Day-of-month
 * also takes L (the last day), LW (the last weekday) and nW (the weekday
 * nearest day n, within the month); day-of-week takes L (Saturday), nL
 * (the last day n of the month) and n#k (the k-th day n, k 1-5).  Those
 * stand alone in their field.  Kinds, names, units, L and W are read in
 * either case; blanks may surround the parts.
 *
 * at(yyyy-mm-ddThh:mm:ss): a real date and time of the years 1970-2199.
 *
 * Clock changes (schedule.c says why at each): a cron time the clocks
 * skip does not fire that day; a cron or at() time the clocks show twice
 * fires once, at its first showing; an at() time the clocks skip fires at
 * the first instant after the jump.
 *
 * A parsed schedule is immutable: several threads may call
 * flow_schedule_next() on it at once.
 */
#ifndef SL_FLOW_SCHEDULE_H
#define SL_FLOW_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"

/* The longest expression (AWS's limit on ScheduleExpression). */
#define FLOW_SCHEDULE_MAX 256

struct flow_schedule;

/*
 * Parse expr in time zone tz (an IANA name such as "Europe/Berlin"; NULL
 * or "" is UTC; see tz.h for where zones are read).  Returns 0 and *out
 * (free with flow_schedule_free()), or SL_ERR_INPUT with *out NULL and d
 * naming the part and what is wrong with it, e.g.
 *     cron(...): day-of-week field '8': values are 1-7 or SUN-SAT
 *     unknown time zone 'Mars/Olympus'
 * (or a negated errno if a zone file exists but could not be read).
 */
int flow_schedule_parse(const char *expr, const char *tz, struct flow_schedule **out,
                        struct sl_diag *d);
void flow_schedule_free(struct flow_schedule *s);

/*
 * The first fire time strictly after after_ms (milliseconds since the
 * Unix epoch, UT) -> *next_ms; false if there is none (an at() already
 * past, a cron whose years have run out).  anchor_ms is when the schedule
 * began: a rate schedule fires at anchor_ms and every period after it;
 * cron and at() ignore it.
 */
bool flow_schedule_next(const struct flow_schedule *s, int64_t anchor_ms, int64_t after_ms,
                        int64_t *next_ms);

/* "rate", "cron" or "at", for messages. */
const char *flow_schedule_kind(const struct flow_schedule *s);

#endif
