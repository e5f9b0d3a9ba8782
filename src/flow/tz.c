/*
 * tz.c - IANA time zones from compiled TZif files (see tz.h), with the
 * POSIX TZ rule of the file's footer for instants past its last
 * transition.
 *
 * A TZif file (RFC 8536) of version 2 or later:
 *
 *   header v1   "TZif" version(1) unused(15) isutcnt isstdcnt leapcnt
 *               timecnt typecnt charcnt    (six 32-bit big-endian counts)
 *   data v1     32-bit times, skipped (its size is still checked)
 *   header v2   the same layout, the counts of the block below
 *   data v2     timecnt x int64 transition time   (ascending, UT seconds)
 *               timecnt x uint8 type index        (< typecnt)
 *               typecnt x { int32 utoff, uint8 isdst, uint8 abbrind }
 *               charcnt bytes of NUL-terminated abbreviations
 *               leapcnt x { int64, int32 }        (must be 0 here)
 *               isstdcnt x uint8, isutcnt x uint8 (0 or typecnt each)
 *   footer      '\n' POSIX TZ string '\n'         (the string may be empty)
 *
 * What is kept is only what the offsets need: the transition times, the
 * UT offset each one starts, type 0's offset (in force before the first
 * transition), and the footer's rule.  Abbreviations and the isstd/isut
 * flags are checked and dropped.
 *
 * The footer, "std offset [dst [offset] [,start[/time],end[/time]]]":
 * names are three or more letters or <quoted> with digits and signs;
 * offsets are [+-]hh[:mm[:ss]] with hours 0-24 and count west positive
 * (so "CET-1" is UT+1); daylight time defaults to one hour ahead of
 * standard time; a date is Jn (day 1-365, never February 29), n (day
 * 0-365 counting February 29) or Mm.w.d (day d, 0 = Sunday, of week w,
 * 5 = last, of month m); a time defaults to 02:00:00 and, as RFC 8536
 * extends POSIX, may be negative and up to 167 hours, so a change can
 * fall on another day than its date.  The start is in standard time, the
 * end in daylight time.
 *
 * Invariants: every offset is within [-89999, 93599] (RFC 8536's range,
 * refused otherwise), instants are clamped to +-FLOW_TZ_LIMIT, and so
 * every sum of an instant, an offset and a rule time fits an int64 with
 * room to spare.  A zone is never changed after it is read.
 */
#include "flow/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/time.h"
#include "core/banned.h"

#define DAY 86400
/* RFC 8536: offsets SHOULD be within these; anything else is refused. */
#define MIN_UTOFF (-89999)
#define MAX_UTOFF 93599
/* Our limits on what a file may hold (Debian's largest has ~240
 * transitions and a dozen types). */
#define MAX_TIMES 100000
#define MAX_TYPES 256
#define MAX_NAME 128
/* How many years past an instant flow_tz_next_change() looks for the
 * footer rule's next change; a rule that changes at all does so within a
 * leap cycle. */
#define RULE_YEARS 10

/* A date of the footer rule, and the local time of day of the change. */
struct rule_date {
    char kind;    /* 'J' (Jn), 'N' (n) or 'M' (Mm.w.d) */
    int n;        /* J: 1-365; N: 0-365 */
    int m, w, wd; /* M: month 1-12, week 1-5 (5 = last), weekday 0-6 */
    int32_t time; /* seconds after local midnight, -167h to +167h */
};

/* The footer's POSIX TZ string. */
struct rule {
    bool present;     /* the footer held a string */
    bool dst;         /* it names daylight time (with a rule) */
    int32_t std_off;  /* standard time's UT offset, east positive */
    int32_t dst_off;  /* daylight time's */
    struct rule_date start, end; /* start in standard, end in daylight time */
};

struct flow_tz {
    char *name;         /* as given; "UTC" for none */
    size_t n;           /* transitions */
    int64_t *times;     /* n instants, strictly ascending */
    int32_t *offs;      /* the UT offset each transition starts */
    int32_t first_off;  /* time type 0's offset: before times[0] */
    struct rule rule;   /* after times[n - 1] (everywhere if n == 0) */
    int32_t min_off;    /* the smallest offset of any type or the rule */
    int32_t max_off;    /* the largest */
};

/* ---- calendar helpers ----------------------------------------------------- */

static int64_t
clamp(int64_t t)
{
    return t < -FLOW_TZ_LIMIT ? -FLOW_TZ_LIMIT : t > FLOW_TZ_LIMIT ? FLOW_TZ_LIMIT : t;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}


/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int
weekday(int64_t days)
{
    return (int)(days + 4 - 7 * floor_div(days + 4, 7));
}

static int
year_of(int64_t t)
{
    int y;
    unsigned m, d;

    sl_civil_from_days(floor_div(t, DAY), &y, &m, &d);
    return y;
}

/* ---- the footer rule ------------------------------------------------------ */

/* The day (since the epoch) that r names in year y. */
static int64_t
rule_day(const struct rule_date *r, int y)
{
    int64_t jan1 = sl_days_from_civil(y, 1, 1), first, day;
    int dim;

    switch (r->kind) {
    case 'J':
        return jan1 + r->n - 1 + (sl_is_leap(y) && r->n >= 60);
    case 'N':
        return jan1 + r->n;
    default:
        first = sl_days_from_civil(y, (unsigned)r->m, 1);
        dim = (int)sl_days_in_month(y, (unsigned)r->m);
        day = first + (r->wd - weekday(first) + 7) % 7 + 7 * (r->w - 1);
        while (day >= first + dim)
            day -= 7;
        return day;
    }
}

/* A change of the rule: at `at`, daylight time starts (dst) or ends. */
struct event {
    int64_t at;
    int year;
    bool dst;
};

/* The rule's changes in years y0..y1 (at most 2 a year), in the order they
 * happen; on a tie the earlier year's, then a year's start, come first, so
 * a year that ends daylight time when the next starts it (RFC 8536's "DST
 * all year") stays in daylight time. */
static size_t
rule_events(const struct rule *r, int y0, int y1, struct event *ev)
{
    size_t n = 0;

    for (int y = y0; y <= y1; y++) {
        ev[n++] = (struct event){rule_day(&r->start, y) * DAY + r->start.time - r->std_off, y,
                                 true};
        ev[n++] = (struct event){rule_day(&r->end, y) * DAY + r->end.time - r->dst_off, y,
                                 false};
    }
    for (size_t i = 1; i < n; i++) {
        struct event e = ev[i];
        size_t j = i;

        /* Within a year start precedes end already; only (at, year) sorts. */
        while (j > 0 && (ev[j - 1].at > e.at || (ev[j - 1].at == e.at && ev[j - 1].year > e.year))) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = e;
    }
    return n;
}

/* Whether daylight time is in force at t after the events ev[0..n) (the
 * first of which is before t). */
static bool
dst_at(const struct event *ev, size_t n, int64_t t)
{
    bool dst = false;

    for (size_t i = 0; i < n && ev[i].at <= t; i++)
        dst = ev[i].dst;
    return dst;
}

static int32_t
rule_offset(const struct rule *r, int64_t t)
{
    struct event ev[8];
    int y = year_of(t);

    if (!r->dst)
        return r->std_off;
    /* A change of year y lies within a week and a day of it (times reach
     * 167 h, offsets 26 h), so y - 2 has passed entirely by t and the last
     * event before t is among these. */
    return dst_at(ev, rule_events(r, y - 2, y + 1, ev), t) ? r->dst_off : r->std_off;
}

static bool
rule_next(const struct rule *r, int64_t t, int64_t *at)
{
    struct event ev[2 * (RULE_YEARS + 3)];
    int y = year_of(t);
    size_t n, i = 0;
    bool dst;

    if (!r->dst || r->std_off == r->dst_off)
        return false;
    n = rule_events(r, y - 2, y + RULE_YEARS, ev);
    dst = dst_at(ev, n, t);
    while (i < n && ev[i].at <= t)
        i++;
    /* The last year's events only pair with the year before's: one of its
     * own may wait for a partner in the year after, which is not here. */
    while (i < n && ev[i].year < y + RULE_YEARS) {
        int64_t when = ev[i].at;
        bool now = dst;

        /* Events at one instant count together. */
        for (; i < n && ev[i].at == when; i++)
            now = ev[i].dst;
        if (now != dst) {
            *at = when;
            return true;
        }
    }
    return false;
}

/* ---- the footer's POSIX TZ string --------------------------------------- */

struct cur {
    const char *p, *end;
};

static bool
at_digit(const struct cur *c)
{
    return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* 1 to maxd digits, at most max. */
static bool
number(struct cur *c, int maxd, int max, int *out)
{
    int v = 0, nd = 0;

    while (at_digit(c) && nd < maxd) {
        v = v * 10 + (*c->p++ - '0');
        nd++;
    }
    if (nd == 0 || at_digit(c) || v > max)
        return false;
    *out = v;
    return true;
}

/* "std" or "<+0330>": three or more letters, or quoted letters, digits
 * and signs. */
static bool
zone_name(struct cur *c)
{
    const char *start;

    if (c->p < c->end && *c->p == '<') {
        start = ++c->p;
        while (c->p < c->end && *c->p != '>') {
            char ch = *c->p++;

            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '+' || ch == '-'))
                return false;
        }
        if (c->p == c->end || c->p - start < 3)
            return false;
        c->p++;
        return true;
    }
    start = c->p;
    while (c->p < c->end && ((*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= 'a' && *c->p <= 'z')))
        c->p++;
    return c->p - start >= 3;
}

/* [+-]h[h[h]][:mm[:ss]] with hours at most maxh -> signed seconds. */
static bool
hms(struct cur *c, int maxh, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;

    if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
        sign = *c->p++ == '-' ? -1 : 1;
    if (!number(c, 3, maxh, &h))
        return false;
    if (c->p < c->end && *c->p == ':') {
        c->p++;
        if (!number(c, 2, 59, &m))
            return false;
        if (c->p < c->end && *c->p == ':') {
            c->p++;
            if (!number(c, 2, 59, &s))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

/* ",date[/time]" */
static bool
rule_date(struct cur *c, struct rule_date *r)
{
    if (c->p == c->end || *c->p++ != ',')
        return false;
    if (c->p < c->end && *c->p == 'J') {
        c->p++;
        r->kind = 'J';
        if (!number(c, 3, 365, &r->n) || r->n < 1)
            return false;
    } else if (c->p < c->end && *c->p == 'M') {
        c->p++;
        r->kind = 'M';
        if (!number(c, 2, 12, &r->m) || r->m < 1 || c->p == c->end || *c->p++ != '.' ||
            !number(c, 1, 5, &r->w) || r->w < 1 || c->p == c->end || *c->p++ != '.' ||
            !number(c, 1, 6, &r->wd))
            return false;
    } else {
        r->kind = 'N';
        if (!number(c, 3, 365, &r->n))
            return false;
    }
    r->time = 2 * 3600;
    if (c->p < c->end && *c->p == '/') {
        c->p++;
        return hms(c, 167, &r->time);
    }
    return true;
}

/* Parse the footer string s[0..len) into r; false if it is malformed. */
static bool
parse_rule(const char *s, size_t len, struct rule *r)
{
    struct cur c = {s, s + len};
    int32_t off;

    memset(r, 0, sizeof(*r));
    if (len == 0)
        return true;
    r->present = true;
    if (!zone_name(&c) || !hms(&c, 24, &off))
        return false;
    r->std_off = r->dst_off = -off;
    if (c.p == c.end)
        return true;
    if (!zone_name(&c))
        return false;
    r->dst = true;
    r->dst_off = r->std_off + 3600;
    if (c.p < c.end && *c.p != ',') {
        if (!hms(&c, 24, &off))
            return false;
        r->dst_off = -off;
    }
    /* Decision: daylight time without a rule (POSIX leaves the dates to the
     * implementation; glibc takes the US rule) is refused: tzdata always
     * writes one. */
    return rule_date(&c, &r->start) && rule_date(&c, &r->end) && c.p == c.end;
}

/* ---- reading a TZif file ------------------------------------------------- */

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The six counts of a header, in file order. */
enum { ISUT, ISSTD, LEAP, TIME, TYPE, CHAR, NCOUNTS };

#define HEADER 44

static int
malformed(struct sl_diag *d, const char *name, const char *what)
{
    return sl_fail(d, SL_ERR_INPUT, "malformed time zone file '%s': %s", name, what);
}

/* Read the header at p (len bytes left): its version and counts. */
static const char *
header(const uint8_t *p, size_t len, uint32_t *count, char *version)
{
    if (len < HEADER || memcmp(p, "TZif", 4) != 0)
        return "no TZif header";
    *version = (char)p[4];
    for (int i = 0; i < NCOUNTS; i++)
        count[i] = be32(p + 20 + 4 * i);
    return NULL;
}

static void
note_offset(struct flow_tz *z, int32_t off)
{
    if (off < z->min_off)
        z->min_off = off;
    if (off > z->max_off)
        z->max_off = off;
}

int
flow_tz_parse(const char *name, const void *buf, size_t len, struct flow_tz **out,
              struct sl_diag *d)
{
    const uint8_t *p = buf, *times, *idx, *types, *footer, *nl;
    uint32_t c[NCOUNTS];
    uint64_t size;
    size_t pos;
    char version, version2;
    const char *why;
    struct flow_tz *z;

    *out = NULL;
    why = header(p, len, c, &version);
    if (why != NULL)
        return malformed(d, name, why);
    if (version < '2' || version > '4')
        return malformed(d, name, version == 0 ? "version 1 has no 64-bit data"
                                               : "unknown TZif version");
    /* Skip the 32-bit block; counts are 32-bit, so these sums cannot wrap
     * a uint64. */
    size = (uint64_t)c[TIME] * 5 + (uint64_t)c[TYPE] * 6 + c[CHAR] + (uint64_t)c[LEAP] * 8 +
           c[ISSTD] + c[ISUT];
    if (size > len - HEADER)
        return malformed(d, name, "version 1 data cut short");
    pos = HEADER + (size_t)size;
    why = header(p + pos, len - pos, c, &version2);
    if (why != NULL)
        return malformed(d, name, "no second TZif header");
    if (version2 != version)
        return malformed(d, name, "the two headers differ in version");
    pos += HEADER;
    if (c[TYPE] == 0 || c[TYPE] > MAX_TYPES)
        return malformed(d, name, "the number of time types is not 1-256");
    if (c[CHAR] == 0)
        return malformed(d, name, "no abbreviation characters");
    if ((c[ISUT] != 0 && c[ISUT] != c[TYPE]) || (c[ISSTD] != 0 && c[ISSTD] != c[TYPE]))
        return malformed(d, name, "standard/UT indicator counts differ from the time types");
    if (c[LEAP] != 0)
        return malformed(d, name, "leap-second zones ('right/...') are not supported");
    if (c[TIME] > MAX_TIMES)
        return malformed(d, name, "more than 100000 transitions");
    size = (uint64_t)c[TIME] * 9 + (uint64_t)c[TYPE] * 6 + c[CHAR] + c[ISSTD] + c[ISUT];
    if (size > len - pos)
        return malformed(d, name, "data cut short");

    times = p + pos;
    idx = times + (size_t)c[TIME] * 8;
    types = idx + c[TIME];
    for (uint32_t i = 0; i < c[TYPE]; i++) {
        const uint8_t *t = types + 6 * i;
        int32_t off = (int32_t)be32(t);

        if (off < MIN_UTOFF || off > MAX_UTOFF)
            return malformed(d, name, "a UT offset beyond -24:59:59 to +25:59:59");
        if (t[4] > 1)
            return malformed(d, name, "a daylight-time flag that is not 0 or 1");
        if (t[5] >= c[CHAR])
            return malformed(d, name, "an abbreviation index past the characters");
    }
    if (types[6 * c[TYPE] + c[CHAR] - 1] != '\0')
        return malformed(d, name, "abbreviations do not end in NUL");
    for (uint32_t i = 0; i < c[ISSTD] + c[ISUT]; i++)
        if (types[6 * c[TYPE] + c[CHAR] + i] > 1)
            return malformed(d, name, "a standard/UT indicator that is not 0 or 1");
    for (uint32_t i = 0; i < c[TIME]; i++) {
        if (idx[i] >= c[TYPE])
            return malformed(d, name, "a transition to a time type that does not exist");
        if (i > 0 && be64(times + 8 * i) <= be64(times + 8 * (i - 1)))
            return malformed(d, name, "transition times are not ascending");
    }

    pos += (size_t)size;
    footer = p + pos;
    if (pos >= len || *footer != '\n')
        return malformed(d, name, "no footer");
    nl = memchr(footer + 1, '\n', len - pos - 1);
    if (nl == NULL)
        return malformed(d, name, "the footer does not end in a newline");
    if ((size_t)(nl - p) + 1 != len)
        return malformed(d, name, "bytes after the footer");

    z = sl_calloc(1, sizeof(*z));
    if (!parse_rule((const char *)footer + 1, (size_t)(nl - footer - 1), &z->rule)) {
        free(z);
        return sl_fail(d, SL_ERR_INPUT, "malformed time zone file '%s': footer '%.*s' is not "
                       "a POSIX TZ string with a rule", name, (int)(nl - footer - 1),
                       (const char *)footer + 1);
    }
    z->name = sl_strdup(name);
    z->n = c[TIME];
    z->times = sl_malloc((z->n + 1) * sizeof(*z->times));
    z->offs = sl_malloc((z->n + 1) * sizeof(*z->offs));
    z->first_off = z->min_off = z->max_off = (int32_t)be32(types);
    for (size_t i = 0; i < z->n; i++) {
        z->times[i] = clamp(be64(times + 8 * i)); /* may tie at the limits */
        z->offs[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    for (uint32_t i = 0; i < c[TYPE]; i++)
        note_offset(z, (int32_t)be32(types + 6 * i));
    if (z->rule.present) {
        note_offset(z, z->rule.std_off);
        note_offset(z, z->rule.dst_off);
    }
    *out = z;
    return 0;
}

static bool
valid_name(const char *name)
{
    size_t len = strlen(name);

    if (len > MAX_NAME || name[0] == '/' || strstr(name, "..") != NULL)
        return false;
    for (const char *s = name; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '/' || *s == '_' || *s == '-' || *s == '+' || *s == '.'))
            return false;
    return true;
}

static int
unknown(struct sl_diag *d, const char *name)
{
    int rc = sl_fail(d, SL_ERR_INPUT, "unknown time zone '%s'", name);

    sl_diag_hint(d, "Use an IANA name such as 'Europe/Berlin', as in %s (Debian's tzdata).",
                 FLOW_TZ_DIR);
    return rc;
}

int
flow_tz_load(const char *name, struct flow_tz **out, struct sl_diag *d)
{
    struct sl_buf buf;
    struct stat st;
    char *path;
    int fd, rc;

    *out = NULL;
    if (name == NULL || name[0] == '\0') {
        struct flow_tz *z = sl_calloc(1, sizeof(*z));

        z->name = sl_strdup("UTC");
        z->times = sl_malloc(sizeof(*z->times));
        z->offs = sl_malloc(sizeof(*z->offs));
        *out = z;
        return 0;
    }
    if (!valid_name(name))
        return unknown(d, name);
    path = sl_printf("%s/%s", FLOW_TZ_DIR, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = errno == ENOENT || errno == ENOTDIR ? unknown(d, name)
                                                 : sl_fail(d, -errno, "could not open "
                                                           "time zone file '%s': %s", path,
                                                           strerror(errno));
        goto out_path;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = unknown(d, name);   /* a directory such as "Europe" */
        goto out_fd;
    }
    sl_buf_init(&buf);
    rc = sl_read_fd(fd, path, FLOW_TZ_MAX_FILE, &buf, d);
    if (rc == SL_ERR_LIMIT)
        rc = SL_ERR_INPUT;
    if (rc == 0)
        rc = flow_tz_parse(path, buf.data, buf.len, out, d);
    if (rc == 0) {
        free((*out)->name);
        (*out)->name = sl_strdup(name);
    }
    sl_buf_release(&buf);
out_fd:
    close(fd);
out_path:
    free(path);
    return rc;
}

void
flow_tz_free(struct flow_tz *z)
{
    if (z == NULL)
        return;
    free(z->name);
    free(z->times);
    free(z->offs);
    free(z);
}

const char *
flow_tz_name(const struct flow_tz *z)
{
    return z->name;
}

int32_t
flow_tz_min_offset(const struct flow_tz *z)
{
    return z->min_off;
}

int32_t
flow_tz_max_offset(const struct flow_tz *z)
{
    return z->max_off;
}

/* ---- offsets and wall times ----------------------------------------------- */

/* The index of the first transition after t (z->n if none). */
static size_t
first_after(const struct flow_tz *z, int64_t t)
{
    size_t lo = 0, hi = z->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (z->times[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int32_t
flow_tz_offset(const struct flow_tz *z, int64_t t)
{
    size_t i;

    t = clamp(t);
    if (z->n == 0 || t >= z->times[z->n - 1]) {
        if (z->rule.present)
            return rule_offset(&z->rule, t);
        return z->n == 0 ? z->first_off : z->offs[z->n - 1];
    }
    i = first_after(z, t);
    return i == 0 ? z->first_off : z->offs[i - 1];
}

bool
flow_tz_next_change(const struct flow_tz *z, int64_t t, int64_t *at)
{
    t = clamp(t);
    if (z->n > 0 && t < z->times[z->n - 1]) {
        *at = z->times[first_after(z, t)];
        return true;
    }
    if (!z->rule.present || t >= FLOW_TZ_LIMIT)
        return false;
    return rule_next(&z->rule, t, at);
}

/*
 * Walk the intervals of constant offset from before the earliest instant
 * that could show wall (wall - max_off) to past the latest (wall -
 * min_off).  An interval [s, next) with offset o shows the wall times
 * [s + o, next + o); the first that holds wall gives its first instant.
 * Meeting an interval that starts past wall before any held it means the
 * clocks jumped over wall at s.
 */
enum flow_tz_fit
flow_tz_resolve(const struct flow_tz *z, int64_t wall, int64_t *t)
{
    int64_t s, next = 0;
    int found = 0;

    wall = clamp(wall);
    *t = wall;
    s = wall - z->max_off - 1;
    for (;;) {
        int32_t o = flow_tz_offset(z, s);
        bool more = flow_tz_next_change(z, s, &next);

        if (wall < s + o) {
            if (found > 0)
                break;
            *t = s;
            return FLOW_TZ_SKIPPED;
        }
        if (!more || wall < next + o) {
            if (found++ == 0)
                *t = wall - o;
        }
        if (!more || next > wall - z->min_off)
            break;
        s = next;
    }
    /* found > 0 here: the first interval starts at or before wall - o for
     * its o, and an unbounded interval holds every later wall time. */
    return found > 1 ? FLOW_TZ_TWICE : FLOW_TZ_ONCE;
}
