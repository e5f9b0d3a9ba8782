/*
 * proc.h - running this program again as a child: what `sluice serve`
 * hands to commands of its own (a transform after a delivery, the
 * maintenance schedule), so each runs in a process that can fail or be
 * stopped without taking the server along.
 */
#ifndef SL_PROC_H
#define SL_PROC_H

#include <sys/types.h>

/* This program's path (/proc/self/exe); caller frees.  "" if unknown. */
char *sl_self_path(void);
/*
 * Start path with argv (NULL-terminated, argv[0] first) and the caller's
 * environment; the child's signal mask is empty whatever the calling
 * thread blocks (the server's threads block the stop signals).  0 and
 * *pid, or -errno.
 */
int sl_spawn(const char *path, char *const argv[], pid_t *pid);
/* Wait for child pid: its exit status, or 128 + the signal that ended it. */
int sl_wait(pid_t pid);

#endif
