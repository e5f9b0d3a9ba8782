/*
 * log.c - levelled logging (see log.h).
 */
#include "core/log.h"
#include "core/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/banned.h"

enum sl_log_level sl_log_level = SL_LOG_WARN;
static const char *trace_list; /* SLUICE_TRACE, or NULL */
static double start;           /* when sl_log_init() ran, for debug times */

void
sl_log_init(void)
{
    static const char *names[] = {"error", "warn", "info", "debug", "trace"};
    const char *lvl = getenv("SLUICE_LOG");

    if (lvl != NULL) {
        for (int i = 0; i < 5; i++)
            if (strcasecmp(lvl, names[i]) == 0)
                sl_log_level = (enum sl_log_level)i;
    }
    trace_list = getenv("SLUICE_TRACE");
    start = sl_mono_sec();
}

bool
sl_trace_on(const char *comp)
{
    size_t n = strlen(comp);
    const char *p = trace_list;

    if (p == NULL)
        return false;
    while (*p) {
        size_t len = strcspn(p, ",");

        if ((len == n && strncmp(p, comp, n) == 0) ||
            (len == 3 && strncmp(p, "all", 3) == 0))
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

void
sl_log_write(enum sl_log_level lvl, const char *comp, const char *fmt, ...)
{
    static const char *tags[] = {"error: ", "warning: ", "", "debug: ", "trace: "};
    char line[2048];
    va_list ap;
    int n;

    if (sl_log_level >= SL_LOG_DEBUG)
        n = snprintf(line, sizeof(line), "sluice: %.3f [%s] %s", sl_mono_sec() - start, comp,
                     tags[lvl]);
    else
        n = snprintf(line, sizeof(line), "sluice: [%s] %s", comp, tags[lvl]);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One write per line keeps lines whole when processes share stderr. */
    fprintf(stderr, "%s\n", line);
}
