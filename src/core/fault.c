/*
 * fault.c - fault injection (see fault.h).
 */
#include "core/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/banned.h"

static struct {
    int armed;          /* 0: none; else the kind below */
    char point[128];    /* the armed point's name */
    long at;            /* fire at this hit (1-based) */
    long hits;          /* hits of the armed point so far */
    int trace_fd;       /* SLUICE_FAULT_TRACE, or -1 */
} fault = {.trace_fd = -1};

enum { FAULT_CRASH = 1, FAULT_ENOSPC, FAULT_EIO, FAULT_INDOUBT, FAULT_STOP };

void
sl_fault_init(void)
{
    const char *spec = getenv("SLUICE_FAULT");
    const char *trace = getenv("SLUICE_FAULT_TRACE");
    const char *at, *colon;
    size_t n;

    /* Calling again re-arms from scratch, so one test process can arm
     * point after point. */
    fault.armed = 0;
    fault.hits = 0;
    if (trace != NULL && *trace && fault.trace_fd < 0)
        fault.trace_fd = open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (spec == NULL || (at = strchr(spec, '@')) == NULL)
        return;
    if (strncmp(spec, "crash@", 6) == 0)
        fault.armed = FAULT_CRASH;
    else if (strncmp(spec, "enospc@", 7) == 0)
        fault.armed = FAULT_ENOSPC;
    else if (strncmp(spec, "eio@", 4) == 0)
        fault.armed = FAULT_EIO;
    else if (strncmp(spec, "indoubt@", 8) == 0)
        fault.armed = FAULT_INDOUBT;
    else if (strncmp(spec, "stop@", 5) == 0)
        fault.armed = FAULT_STOP;
    else
        return;
    at++;
    colon = strchr(at, ':');
    n = colon ? (size_t)(colon - at) : strlen(at);
    if (n >= sizeof(fault.point)) {
        fault.armed = 0;
        return;
    }
    memcpy(fault.point, at, n);
    fault.point[n] = '\0';
    fault.at = colon ? strtol(colon + 1, NULL, 10) : 1;
    if (fault.at < 1)
        fault.at = 1;
}

int
sl_fault(const char *point)
{
    if (fault.trace_fd >= 0) {
        char line[160];
        int n = snprintf(line, sizeof(line), "%s\n", point);

        if (n > 0 && write(fault.trace_fd, line, (size_t)n) < 0)
            return 0; /* tracing is best effort */
    }
    if (!fault.armed || strcmp(point, fault.point) != 0)
        return 0;
    if (++fault.hits != fault.at)
        return 0;
    switch (fault.armed) {
    case FAULT_CRASH:
        raise(SIGKILL);
        return SL_ERR_FAULT; /* not reached */
    case FAULT_ENOSPC:
        return -ENOSPC;
    case FAULT_INDOUBT:
        return SL_ERR_INDOUBT;
    case FAULT_STOP:
        raise(SIGSTOP); /* the test does its work, then sends SIGCONT */
        return 0;
    default:
        return -EIO;
    }
}
