/*
 * tz.h - IANA time zones read from their compiled TZif files, for the
 * schedules (schedule.h): the UT offset at an instant, where it changes
 * next, and which instant a local wall-clock time names.
 *
 * Zones come from Debian's tzdata, /usr/share/zoneinfo/<Name> (RFC 8536,
 * version 2 or later: the 64-bit data block, then the footer's POSIX TZ
 * string for instants past the last transition).  Every byte of a file is
 * checked before it is believed; a file that breaks the format is refused
 * with words naming it.  Nothing here touches TZ, tzset() or localtime(),
 * which are process-wide: a loaded zone is immutable, and any number of
 * threads may use it at once.
 *
 * Instants and wall times are whole seconds.  A wall time is a local
 * date and time counted as if it were UT: seconds since 1970-01-01T00:00
 * on the zone's clock, so that wall = t + flow_tz_offset(z, t).  Instants
 * are clamped to within FLOW_TZ_LIMIT seconds of the epoch (about 317,000
 * years), so no arithmetic here can overflow.
 */
#ifndef SL_FLOW_TZ_H
#define SL_FLOW_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

/* Where the zone files are. */
#define FLOW_TZ_DIR "/usr/share/zoneinfo"
/* The largest zone file read (Debian's largest is under 4 KB). */
#define FLOW_TZ_MAX_FILE (256 * 1024)
/* Instants are taken within this many seconds of the epoch. */
#define FLOW_TZ_LIMIT 10000000000000LL

struct flow_tz;

/*
 * Load the zone named name ("Europe/Berlin"; NULL or "" is UTC, read from
 * no file).  Names are checked before any file is opened: at most 128
 * bytes of letters, digits and "/_-+.", no leading '/', no "..".
 * Returns 0 and *out (free with flow_tz_free()), or SL_ERR_INPUT with d
 * saying "unknown time zone '<name>'" or what is wrong with the file.
 */
int flow_tz_load(const char *name, struct flow_tz **out, struct sl_diag *d);

/*
 * Read a zone from the TZif bytes buf[0..len) (borrowed for the call);
 * name is only for messages ("malformed time zone file '<name>': ...").
 * Same results as flow_tz_load().  The fuzzer's entry point.
 */
int flow_tz_parse(const char *name, const void *buf, size_t len, struct flow_tz **out,
                  struct sl_diag *d);

void flow_tz_free(struct flow_tz *z);

/* The zone's name as given ("UTC" for NULL or ""); borrowed from z. */
const char *flow_tz_name(const struct flow_tz *z);

/* The UT offset in seconds (east positive) in force at instant t. */
int32_t flow_tz_offset(const struct flow_tz *z, int64_t t);

/*
 * The first instant after t at which the offset may change -> *at; false
 * if it never changes again.  The offset is the same at every instant of
 * [t, *at).
 */
bool flow_tz_next_change(const struct flow_tz *z, int64_t t, int64_t *at);

/* The smallest and largest UT offsets the zone ever uses. */
int32_t flow_tz_min_offset(const struct flow_tz *z);
int32_t flow_tz_max_offset(const struct flow_tz *z);

/* How a wall time falls on the zone's clock. */
enum flow_tz_fit {
    FLOW_TZ_ONCE,     /* exactly one instant shows it */
    FLOW_TZ_TWICE,    /* clocks fell back: it is shown more than once */
    FLOW_TZ_SKIPPED,  /* clocks sprang forward over it: never shown */
};

/*
 * Which instant shows wall time wall.  ONCE and TWICE: *t is the first
 * instant that shows it.  SKIPPED: *t is the first instant after the gap
 * (the moment the clocks jumped), whose wall time is the first one shown
 * after wall.
 */
enum flow_tz_fit flow_tz_resolve(const struct flow_tz *z, int64_t wall, int64_t *t);

#endif
