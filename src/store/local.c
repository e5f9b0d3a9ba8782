/*
 * local.c - the lake on a local file system.
 *
 * A key is a path under the lake folder.  Layout of the staging side:
 *
 *   <lake>/_staging/<pid>-<nonce>.lock       flock()ed by the owner while alive
 *   <lake>/_staging/<pid>-<nonce>/<name>     staged objects
 *
 * Staging lives inside the lake so that publishing is a rename(2) on one
 * file system: atomic, and with RENAME_NOREPLACE a put-if-absent.  Every
 * publish fsyncs the destination directory, and every directory it creates
 * is made durable in its parent, so a published object survives power loss.
 * The owner lock dies with the process, which is how store_sweep() tells a
 * crashed writer's leftovers from a live writer's work in progress.  The
 * lock file appears already locked (made and locked under a dot-name, then
 * link()ed into place) and before the area, so a sweeper never sees an area
 * whose lock it could take while its owner lives.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/store_int.h"
#include "core/banned.h"

#define STAGING "_staging"

struct local {
    char *root;       /* absolute path of the lake folder */
    char *area;       /* our staging area key, "_staging/<pid>-<nonce>" */
    int owner_fd;     /* the flock()ed .owner file, or -1 */
};

static char *
full_path(const struct local *l, const char *key)
{
    return sl_printf("%s/%s", l->root, key);
}

/* mkdir -p below the root, fsyncing the parent of each directory created. */
static int
mkdirs_durable(const struct local *l, const char *dir, struct sl_diag *d)
{
    size_t rootlen = strlen(l->root);
    char *p = sl_strdup(dir);
    int rc = 0;

    for (char *s = p + rootlen + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char save = *s;

        *s = '\0';
        if (mkdir(p, 0755) == 0) {
            char *parent = sl_dirname(p);

            rc = sl_fsync_dir(parent, d);
            free(parent);
            if (rc < 0)
                break;
        } else if (errno != EEXIST) {
            rc = sl_fail(d, -errno, "cannot create directory '%s': %s", p, strerror(errno));
            break;
        }
        *s = save;
        if (save == '\0')
            break;
    }
    free(p);
    return rc;
}

static int
open_area(struct store *s, struct sl_diag *d)
{
    struct local *l = s->impl;
    unsigned int nonce = 0;
    char *base, *tmp = NULL, *lock = NULL, *dir = NULL;
    int rc;

    if (l->area != NULL)
        return 0;
    if (getrandom(&nonce, sizeof(nonce), 0) < 0)
        nonce = (unsigned int)getpid() * 2654435761u;
    base = full_path(l, STAGING);
    rc = mkdirs_durable(l, base, d);
    if (rc < 0)
        goto out;
    l->area = sl_printf(STAGING "/%ld-%08x", (long)getpid(), nonce);
    tmp = sl_printf("%s/.lock-%ld-%08x", base, (long)getpid(), nonce);
    lock = sl_printf("%s/%ld-%08x.lock", base, (long)getpid(), nonce);
    dir = full_path(l, l->area);
    l->owner_fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (l->owner_fd < 0 || flock(l->owner_fd, LOCK_EX | LOCK_NB) < 0 || link(tmp, lock) < 0) {
        rc = sl_fail(d, -errno, "cannot create staging area '%s': %s", lock, strerror(errno));
        unlink(tmp);
        goto fail;
    }
    unlink(tmp);
    if (mkdir(dir, 0755) < 0) {
        rc = sl_fail(d, -errno, "cannot create staging area '%s': %s", dir, strerror(errno));
        unlink(lock);
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    if (l->owner_fd >= 0)
        close(l->owner_fd);
    l->owner_fd = -1;
    free(l->area);
    l->area = NULL;
out:
    free(base);
    free(tmp);
    free(lock);
    free(dir);
    return rc;
}

static int
local_stage(struct store *s, const char *name, char **key, char **path, struct sl_diag *d)
{
    struct local *l = s->impl;
    char *k, *p, *dir;
    int rc = open_area(s, d);

    if (rc < 0)
        return rc;
    k = sl_printf("%s/%s", l->area, name);
    p = full_path(l, k);
    dir = sl_dirname(p);
    rc = sl_mkdirs(dir, 0755, d);
    free(dir);
    if (rc < 0) {
        free(k);
        free(p);
        return rc;
    }
    /* A name reused within one area replaces the earlier attempt. */
    unlink(p);
    *key = k;
    *path = p;
    return 0;
}

static int
local_seal(struct store *s, const char *staged_key, struct sl_diag *d)
{
    char *p = full_path(s->impl, staged_key);
    int rc = sl_fsync_path(p, d);

    free(p);
    return rc;
}

/* Begin writing a staged file out; local_seal() then waits for it. */
static void
local_seal_start(struct store *s, const char *staged_key)
{
    char *p = full_path(s->impl, staged_key);
    int fd = open(p, O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        sl_writeback_start(fd);
        close(fd);
    }
    free(p);
}

static int
local_publish(struct store *s, const char *staged_key, const char *key, unsigned flags,
              struct sl_diag *d)
{
    struct local *l = s->impl;
    char *from = full_path(l, staged_key), *to = full_path(l, key);
    char *dir = sl_dirname(to);
    int rc;

    rc = mkdirs_durable(l, dir, d);
    if (rc < 0)
        goto out;
    if (flags & STORE_IF_ABSENT) {
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
            rc = 0;
        } else if (errno == EEXIST) {
            rc = SL_ERR_EXISTS;
            goto out;
        } else if (errno == EINVAL || errno == ENOSYS) {
            /* No RENAME_NOREPLACE here: link() is put-if-absent too. */
            if (link(from, to) < 0) {
                rc = errno == EEXIST ? SL_ERR_EXISTS
                                     : sl_fail(d, -errno, "cannot publish '%s': %s", key,
                                               strerror(errno));
                goto out;
            }
            unlink(from);
        } else {
            rc = sl_fail(d, -errno, "cannot publish '%s': %s", key, strerror(errno));
            goto out;
        }
    } else if (rename(from, to) < 0) {
        rc = sl_fail(d, -errno, "cannot publish '%s': %s", key, strerror(errno));
        goto out;
    }
    rc = sl_fsync_dir(dir, d);
out:
    free(dir);
    free(from);
    free(to);
    return rc;
}

static int
local_local_path(struct store *s, const char *key, char **path, struct sl_diag *d)
{
    *path = full_path(s->impl, key);
    return 0;
}

static int
local_stat(struct store *s, const char *key, int64_t *size, struct sl_diag *d)
{
    char *p = full_path(s->impl, key);
    struct stat st;
    int rc = 0;

    if (stat(p, &st) < 0)
        rc = errno == ENOENT ? SL_ERR_NOTFOUND
                             : sl_fail(d, -errno, "cannot stat '%s': %s", p, strerror(errno));
    else if (size != NULL)
        *size = st.st_size;
    free(p);
    return rc;
}

static int
local_remove(struct store *s, const char *key, struct sl_diag *d)
{
    char *p = full_path(s->impl, key);
    char *dir = sl_dirname(p);
    int rc = 0;

    if (unlink(p) < 0) {
        if (errno != ENOENT)
            rc = sl_fail(d, -errno, "cannot delete '%s': %s", p, strerror(errno));
    } else {
        rc = sl_fsync_dir(dir, d);
    }
    free(dir);
    free(p);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk dir (the full path of key prefix rel) in name order. */
static int
walk(const char *dir, const char *rel, store_list_cb cb, void *arg, struct sl_diag *d)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (dh == NULL)
        return errno == ENOENT || errno == ENOTDIR
                   ? 0
                   : sl_fail(d, -errno, "cannot list '%s': %s", dir, strerror(errno));
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., .owner and .tmp- files are not objects */
        SL_GROW(names, cap, n + 1);
        names[n++] = sl_strdup(e->d_name);
    }
    closedir(dh);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char *sub = sl_printf("%s/%s", dir, names[i]);
        char *key = *rel ? sl_printf("%s/%s", rel, names[i]) : sl_strdup(names[i]);
        struct stat st;

        if (rc == 0 && lstat(sub, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = walk(sub, key, cb, arg, d);
            else if (S_ISREG(st.st_mode))
                rc = cb(arg, key, st.st_size);
        }
        free(sub);
        free(key);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int
local_list(struct store *s, const char *prefix, store_list_cb cb, void *arg,
           struct sl_diag *d)
{
    struct local *l = s->impl;
    char *dir = *prefix ? full_path(l, prefix) : sl_strdup(l->root);
    char *rel = sl_strdup(prefix);
    size_t n = strlen(rel);
    int rc;

    while (n > 0 && rel[n - 1] == '/')
        rel[--n] = '\0';
    rc = walk(dir, rel, cb, arg, d);
    free(rel);
    free(dir);
    return rc;
}

struct sweep_ctx {
    store_keep_cb keep;
    void *arg;
    const char *root;
    int removed;
    int kept;
};

static int
sweep_one(void *arg, const char *key, int64_t size)
{
    struct sweep_ctx *c = arg;
    char *p;

    if (c->keep != NULL && c->keep(c->arg, key)) {
        c->kept++;
        return 0;
    }
    p = sl_printf("%s/%s", c->root, key);
    if (unlink(p) == 0)
        c->removed++;
    free(p);
    return 0;
}

static int
local_sweep(struct store *s, store_keep_cb keep, void *arg, struct sl_diag *d)
{
    struct local *l = s->impl;
    char *base = full_path(l, STAGING);
    DIR *dh = opendir(base);
    struct dirent *e;
    struct sweep_ctx c = {keep, arg, l->root, 0, 0};

    if (dh == NULL) {
        free(base);
        return 0;
    }
    while ((e = readdir(dh)) != NULL) {
        size_t n = strlen(e->d_name);
        char *lockpath, *area, *dir;
        int fd;

        /* Areas are found through their locks; dot-names are locks being
         * made.  A lock that can be taken belongs to a process that is gone. */
        if (e->d_name[0] == '.' || n <= 5 || strcmp(e->d_name + n - 5, ".lock") != 0)
            continue;
        lockpath = sl_printf("%s/%s", base, e->d_name);
        area = sl_printf(STAGING "/%.*s", (int)(n - 5), e->d_name);
        dir = full_path(l, area);
        fd = open(lockpath, O_RDWR | O_CLOEXEC);
        if (l->area != NULL && strcmp(area, l->area) == 0)
            goto next; /* ours */
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
            goto next; /* its owner is alive (or it just went) */
        c.kept = 0;
        walk(dir, area, sweep_one, &c, d);
        if (c.kept == 0) {
            sl_rmtree(dir);
            unlink(lockpath);
            SL_DEBUG("store", "swept staging area %s", area);
        }
next:
        if (fd >= 0)
            close(fd);
        free(lockpath);
        free(area);
        free(dir);
    }
    closedir(dh);
    free(base);
    return c.removed;
}

static int
count_one(void *arg, const char *key, int64_t size)
{
    (*(int *)arg)++;
    return 0;
}

static void
local_close(struct store *s)
{
    struct local *l = s->impl;

    if (l->area != NULL) {
        char *dir = full_path(l, l->area);
        int left = 0;

        /* Staged objects still here may belong to a committed run whose
         * publication failed; the catalog knows, and the next sweep asks
         * it.  An empty area is simply removed. */
        walk(dir, l->area, count_one, &left, NULL);
        if (left == 0) {
            char *lock = sl_printf("%s.lock", dir);

            sl_rmtree(dir);
            unlink(lock);
            free(lock);
        }
        free(dir);
    }
    if (l->owner_fd >= 0)
        close(l->owner_fd);
    free(l->area);
    free(l->root);
    free(l);
}

static const char *
local_dir(const struct store *s)
{
    const struct local *l = s->impl;

    return l->root;
}

static const struct store_ops local_ops = {
    .name = "local",
    .stage = local_stage,
    .seal = local_seal,
    .seal_start = local_seal_start,
    .publish = local_publish,
    .local_path = local_local_path,
    .local_dir = local_dir,
    .stat = local_stat,
    .remove = local_remove,
    .list = local_list,
    .sweep = local_sweep,
    .close = local_close,
};

int
store_local_open(struct store *s, const char *path, struct sl_diag *d)
{
    struct local *l;
    char *root = sl_abspath(path);
    size_t n = strlen(root);
    int rc;

    while (n > 1 && root[n - 1] == '/')
        root[--n] = '\0';
    rc = sl_mkdirs(root, 0755, d);
    /* Every command writes the lake (at least its recovery step), so a
     * lake we cannot write is an error up front, in plain words. */
    if (rc == 0 && access(root, W_OK) < 0)
        rc = sl_fail(d, -errno, "the lake is not writable: cannot write to '%s': %s", root,
                     strerror(errno));
    if (rc < 0) {
        free(root);
        return rc;
    }
    l = sl_calloc(1, sizeof(*l));
    l->root = root;
    l->owner_fd = -1;
    s->impl = l;
    s->ops = &local_ops;
    return 0;
}
