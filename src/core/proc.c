/*
 * proc.c - running this program again as a child (see proc.h).
 */
#include "core/proc.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/banned.h"

extern char **environ;

char *
sl_self_path(void)
{
    char *self = sl_malloc(4096);
    ssize_t n = readlink("/proc/self/exe", self, 4095);

    self[n > 0 ? n : 0] = '\0';
    return self;
}

int
sl_spawn(const char *path, char *const argv[], pid_t *pid)
{
    posix_spawnattr_t attr;
    sigset_t none;
    int rc;

    sigemptyset(&none);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    rc = posix_spawn(pid, path, NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    return -rc;
}

int
sl_wait(pid_t pid)
{
    int status = 0;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 128;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
