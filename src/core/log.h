/*
 * log.h - levelled logging to stderr, tagged with a component.
 *
 *     SL_INFO("transform", "source=%s objects=%zu", name, n);
 *
 * prints "sluice: [transform] source=orders objects=3".  The level is tested
 * before the arguments are formatted.  The level comes from --verbose/-q or
 * SLUICE_LOG=error|warn|info|debug|trace; per-subsystem tracing is switched
 * on with SLUICE_TRACE=commit,store (comma-separated component names, or
 * "all") and shows at any level.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdbool.h>

enum sl_log_level {
    SL_LOG_ERROR = 0,
    SL_LOG_WARN = 1,
    SL_LOG_INFO = 2,
    SL_LOG_DEBUG = 3,
    SL_LOG_TRACE = 4,
};

extern enum sl_log_level sl_log_level;

/* Read SLUICE_LOG and SLUICE_TRACE; call once at start-up. */
void sl_log_init(void);
void sl_log_write(enum sl_log_level lvl, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether tracing of a component was asked for in SLUICE_TRACE. */
bool sl_trace_on(const char *comp);

#define SL_LOG(lvl, comp, ...)                                                \
    do {                                                                      \
        if ((lvl) <= sl_log_level)                                            \
            sl_log_write((lvl), (comp), __VA_ARGS__);                         \
    } while (0)
#define SL_ERROR(comp, ...) SL_LOG(SL_LOG_ERROR, comp, __VA_ARGS__)
#define SL_WARN(comp, ...) SL_LOG(SL_LOG_WARN, comp, __VA_ARGS__)
#define SL_INFO(comp, ...) SL_LOG(SL_LOG_INFO, comp, __VA_ARGS__)
#define SL_DEBUG(comp, ...) SL_LOG(SL_LOG_DEBUG, comp, __VA_ARGS__)
#define SL_TRACE(comp, ...)                                                   \
    do {                                                                      \
        if (sl_log_level >= SL_LOG_TRACE || sl_trace_on(comp))                \
            sl_log_write(SL_LOG_TRACE, (comp), __VA_ARGS__);                  \
    } while (0)

#endif
