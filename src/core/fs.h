/*
 * fs.h - local file-system helpers with durability in mind.
 *
 * Durable files change only by write-to-temp, fsync, rename, fsync of the
 * directory (sl_write_file_atomic); an interrupted write leaves a file whose
 * name starts with ".tmp-", which sweepers recognise.
 */
#ifndef SL_FS_H
#define SL_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/diag.h"

/* mkdir -p; existing directories are fine. */
int sl_mkdirs(const char *path, int mode, struct sl_diag *d);
/* fsync a directory so renames and creations inside it are durable. */
int sl_fsync_dir(const char *path, struct sl_diag *d);
/* fsync a file by path. */
int sl_fsync_path(const char *path, struct sl_diag *d);
/* Start writing fd's dirty pages out without waiting (Linux's
 * sync_file_range; nothing elsewhere): a later fsync then finds the work
 * done or under way.  A hint, not durability. */
void sl_writeback_start(int fd);
/* Read a whole file, refusing files over max bytes (SL_ERR_LIMIT). */
int sl_read_file(const char *path, size_t max, struct sl_buf *out, struct sl_diag *d);
/* The rest of an open file (path names it in messages), appended to out
 * and NUL-terminated; SL_ERR_LIMIT past max bytes in out. */
int sl_read_fd(int fd, const char *path, size_t max, struct sl_buf *out, struct sl_diag *d);
/* Write data to path atomically and durably (temp + fsync + rename). */
int sl_write_file_atomic(const char *path, const void *data, size_t len,
                         struct sl_diag *d);
/* The same with the file's mode; a private mode (no bits for group and
 * others, as 0600) is set exactly, whatever the umask. */
int sl_write_file_atomic_mode(const char *path, const void *data, size_t len, int mode,
                              struct sl_diag *d);
/* Write data to path (created or truncated), not durably: for a staged
 * file the store seals (store_seal() fsyncs it). */
int sl_write_file(const char *path, const void *data, size_t len, struct sl_diag *d);
/* Write all of p to fd, retrying short writes. */
int sl_write_all(int fd, const void *p, size_t n);
/* Remove a file or a directory tree; a missing path is fine. */
int sl_rmtree(const char *path);
bool sl_is_dir(const char *path);
bool sl_exists(const char *path);
/* The directory part of path into a new heap string. */
char *sl_dirname(const char *path);
/* The last component of path (points into path). */
const char *sl_basename(const char *path);
/* path made absolute against the current directory (heap string). */
char *sl_abspath(const char *path);

#endif
