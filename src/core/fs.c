/*
 * fs.c - file-system helpers (see fs.h).
 */
#include "core/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/mem.h"
#include "core/banned.h"

int
sl_mkdirs(const char *path, int mode, struct sl_diag *d)
{
    char *p = sl_strdup(path);
    int rc = 0;

    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char save = *s;

        *s = '\0';
        if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
            rc = sl_fail(d, -errno, "cannot create directory '%s': %s", p, strerror(errno));
            break;
        }
        *s = save;
        if (save == '\0')
            break;
    }
    if (rc == 0 && !sl_is_dir(path))
        rc = sl_fail(d, -ENOTDIR, "cannot create directory '%s': a file is in the way", path);
    free(p);
    return rc;
}

int
sl_fsync_dir(const char *path, struct sl_diag *d)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return sl_fail(d, -errno, "cannot open directory '%s': %s", path, strerror(errno));
    if (fsync(fd) < 0)
        rc = sl_fail(d, -errno, "cannot sync directory '%s': %s", path, strerror(errno));
    close(fd);
    return rc;
}

int
sl_fsync_path(const char *path, struct sl_diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return sl_fail(d, -errno, "cannot open '%s': %s", path, strerror(errno));
    if (fsync(fd) < 0)
        rc = sl_fail(d, -errno, "cannot sync '%s': %s", path, strerror(errno));
    close(fd);
    return rc;
}

void
sl_writeback_start(int fd)
{
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
#endif
}

int
sl_read_file(const char *path, size_t max, struct sl_buf *out, struct sl_diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc = 0;

    if (fd < 0)
        return sl_fail(d, -errno, "cannot open '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        rc = sl_fail(d, -errno, "cannot stat '%s': %s", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = sl_fail(d, -EISDIR, "cannot read '%s': it is a directory", path);
        goto out;
    }
    if ((size_t)st.st_size > max) {
        rc = sl_fail(d, SL_ERR_LIMIT, "cannot read '%s': larger than %zu bytes", path, max);
        goto out;
    }
    rc = sl_read_fd(fd, path, max, out, d);
out:
    close(fd);
    return rc;
}

int
sl_read_fd(int fd, const char *path, size_t max, struct sl_buf *out, struct sl_diag *d)
{
    for (;;) {
        ssize_t n;

        sl_buf_grow(out, 65536);
        n = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sl_fail(d, -errno, "cannot read '%s': %s", path, strerror(errno));
        if (n == 0)
            break;
        out->len += (size_t)n;
        if (out->len > max)
            return sl_fail(d, SL_ERR_LIMIT, "cannot read '%s': larger than %zu bytes", path,
                           max);
    }
    out->data[out->len] = '\0';
    return 0;
}

int
sl_write_all(int fd, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t w = write(fd, s, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

char *
sl_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return sl_strdup(".");
    if (slash == path)
        return sl_strdup("/");
    return sl_strndup(path, (size_t)(slash - path));
}

const char *
sl_basename(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

int
sl_write_file_atomic(const char *path, const void *data, size_t len, struct sl_diag *d)
{
    return sl_write_file_atomic_mode(path, data, len, 0644, d);
}

int
sl_write_file(const char *path, const void *data, size_t len, struct sl_diag *d)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc;

    if (fd < 0)
        return sl_fail(d, -errno, "cannot create '%s': %s", path, strerror(errno));
    rc = sl_fault("fs.write");
    if (rc == 0)
        rc = sl_write_all(fd, data, len);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        sl_fail(d, rc, "cannot write '%s': %s", path, sl_strerror(rc));
    return rc;
}

int
sl_write_file_atomic_mode(const char *path, const void *data, size_t len, int mode,
                          struct sl_diag *d)
{
    char *dir = sl_dirname(path);
    char *tmp = sl_printf("%s/.tmp-%ld-%s", dir, (long)getpid(), sl_basename(path));
    int fd, rc;

    /* A temporary file left by a crashed writer of this pid would keep its
     * own mode under O_TRUNC; start afresh. */
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        rc = sl_fail(d, -errno, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    /* A private file is exactly its mode, whatever the umask. */
    rc = (mode & 077) == 0 && fchmod(fd, (mode_t)mode) < 0 ? -errno : 0;
    if (rc == 0)
        rc = sl_fault("fs.write");
    if (rc == 0)
        rc = sl_write_all(fd, data, len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        sl_fail(d, rc, "cannot write '%s': %s", path, sl_strerror(rc));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) < 0) {
        rc = sl_fail(d, -errno, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = sl_fsync_dir(dir, d);
out:
    free(tmp);
    free(dir);
    return rc;
}

int
sl_rmtree(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *e;
    int rc = 0;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
    dir = opendir(path);
    if (dir == NULL)
        return -errno;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *sub = sl_printf("%s/%s", path, e->d_name);
        int r = sl_rmtree(sub);

        if (r < 0 && rc == 0)
            rc = r;
        free(sub);
    }
    closedir(dir);
    if (rmdir(path) < 0 && errno != ENOENT && rc == 0)
        rc = -errno;
    return rc;
}

bool
sl_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool
sl_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

char *
sl_abspath(const char *path)
{
    char cwd[PATH_MAX];

    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return sl_strdup(path);
    if (strcmp(path, ".") == 0)
        return sl_strdup(cwd);
    if (strncmp(path, "./", 2) == 0)
        path += 2;
    return sl_printf("%s/%s", cwd, path);
}
