/*
 * keys.c - the key file of a curated data file: what the probe needs of
 * each of its rows, so that a transform finds the rows a batch replaces
 * without reading the table (see transform_int.h, "key files").
 *
 * Layout (host byte order: a key file is a cache the writing machine's
 * kind reads; one that does not match is ignored, never trusted):
 *
 *   header   8 words: magic, rows, the data file's size in bytes, the
 *            checksum of h1[], 4 reserved (0)
 *   h1[rows] the key hash of each row (the batch key table's hash), in
 *            row order: the probe reads all of these
 *   rec[rows] struct keyrec, then its check word: read only for rows
 *            whose h1 the batch has
 *
 * A key file is written beside its data file's commit (staged with it)
 * and never changed.  It is used only if its size, rows, data file size,
 * h1 checksum and each record's check agree; otherwise the probe reads
 * the data file as it always could.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "store/layout.h"
#include "transform/transform_int.h"
#include "core/banned.h"

#define MAGIC 0x0232594b45594c53ULL /* "SLKEY2" ... (1: another check word) */
#define HEADER_WORDS 8
#define REC_BYTES (sizeof(struct keyrec) + sizeof(uint64_t))
#define CHECK_SEED 0x6b65797265630001ULL

struct keyfile {
    int fd;
    int64_t rows;
    uint64_t *h1;
};

uint64_t
keys_h2(const char *key, size_t len)
{
    return sl_hash64(key, len, KEYS_SEED2);
}

/* A word to mix into a check (splitmix64's finalizer). */
static uint64_t
mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The check word of record r of row row: every field and the row mixed,
 * so a changed bit or a record read from the wrong place shows.  (Once a
 * record a row: a general hash of 40 bytes cost the write path more than
 * the rest of the key file.) */
static uint64_t
rec_check(const struct keyrec *r, int64_t row)
{
    uint64_t h = mix(CHECK_SEED ^ (uint64_t)row);

    h = mix(h ^ r->h2);
    h = mix(h ^ (uint64_t)r->ev);
    h = mix(h ^ (uint64_t)r->at);
    h = mix(h ^ (uint64_t)r->pos);
    return mix(h ^ r->row_hash);
}

static int
read_at(int fd, void *buf, size_t n, off_t off)
{
    char *p = buf;

    while (n > 0) {
        ssize_t got = pread(fd, p, n, off);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
        off += got;
    }
    return 0;
}

int
keyfile_open(struct store *s, const char *key, int64_t rows, int64_t bytes,
             struct keyfile **out)
{
    uint64_t head[HEADER_WORDS];
    struct keyfile *kf;
    struct stat st;
    char *path = NULL;
    struct sl_diag d;
    int fd;

    *out = NULL;
    sl_diag_init(&d);
    if (rows <= 0 || store_local_path(s, key, &path, &d) < 0)
        return SL_ERR_NOTFOUND;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return SL_ERR_NOTFOUND;
    if (fstat(fd, &st) < 0 ||
        (uint64_t)st.st_size != sizeof(head) + (uint64_t)rows * (8 + REC_BYTES) ||
        read_at(fd, head, sizeof(head), 0) < 0 || head[0] != MAGIC ||
        head[1] != (uint64_t)rows || head[2] != (uint64_t)bytes) {
        close(fd);
        return SL_ERR_NOTFOUND;
    }
    kf = sl_calloc(1, sizeof(*kf));
    kf->fd = fd;
    kf->rows = rows;
    kf->h1 = sl_malloc((size_t)rows * sizeof(uint64_t));
    if (read_at(fd, kf->h1, (size_t)rows * sizeof(uint64_t), sizeof(head)) < 0 ||
        sl_hash64(kf->h1, (size_t)rows * sizeof(uint64_t), MAGIC) != head[3]) {
        keyfile_close(kf);
        return SL_ERR_NOTFOUND;
    }
    *out = kf;
    return 0;
}

const uint64_t *
keyfile_h1(const struct keyfile *kf)
{
    return kf->h1;
}

int
keyfile_recs(struct keyfile *kf, int64_t first, size_t n, struct keyrec *out)
{
    unsigned char buf[256 * REC_BYTES];

    if (first < 0 || first + (int64_t)n > kf->rows)
        return SL_ERR_CORRUPT;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < 256 ? n - done : 256;
        int64_t row = first + (int64_t)done;

        if (read_at(kf->fd, buf, k * REC_BYTES,
                    (off_t)(HEADER_WORDS * 8 + kf->rows * 8 + row * (int64_t)REC_BYTES)) < 0)
            return SL_ERR_CORRUPT;
        for (size_t i = 0; i < k; i++) {
            uint64_t check;

            memcpy(&out[done + i], buf + i * REC_BYTES, sizeof(*out));
            memcpy(&check, buf + i * REC_BYTES + sizeof(*out), sizeof(check));
            if (check != rec_check(&out[done + i], row + (int64_t)i))
                return SL_ERR_CORRUPT;
        }
        done += k;
    }
    return 0;
}

void
keyfile_close(struct keyfile *kf)
{
    if (kf == NULL)
        return;
    close(kf->fd);
    free(kf->h1);
    free(kf);
}

/* ---- writing -------------------------------------------------------------------------- */

void
keywriter_add(struct keywriter *w, uint64_t h1, const struct keyrec *r)
{
    uint64_t check = rec_check(r, w->n);

    sl_buf_add(&w->h1, &h1, sizeof(h1));
    sl_buf_add(&w->recs, r, sizeof(*r));
    sl_buf_add(&w->recs, &check, sizeof(check));
    w->n++;
}

int
keywriter_write(struct keywriter *w, const char *path, struct sl_diag *d)
{
    uint64_t head[HEADER_WORDS] = {MAGIC, (uint64_t)w->n, 0,
                                   sl_hash64(w->h1.data, w->h1.len, MAGIC)};
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc, err = 0;

    if (fd < 0)
        return sl_fail(d, -errno, "cannot write key file '%s': %s", path, strerror(errno));
    rc = sl_write_all(fd, head, sizeof(head));
    if (rc == 0)
        rc = sl_write_all(fd, w->h1.data, w->h1.len);
    if (rc == 0)
        rc = sl_write_all(fd, w->recs.data, w->recs.len);
    if (rc < 0)
        err = -rc;
    else
        sl_writeback_start(fd);
    if (close(fd) < 0 && err == 0)
        err = errno;
    if (err != 0)
        return sl_fail(d, -err, "cannot write key file '%s': %s", path, strerror(err));
    return 0;
}

int
keyfile_set_data_bytes(const char *path, int64_t bytes, struct sl_diag *d)
{
    uint64_t word = (uint64_t)bytes;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int err = 0;

    if (fd < 0)
        return sl_fail(d, -errno, "cannot write key file '%s': %s", path, strerror(errno));
    if (pwrite(fd, &word, sizeof(word), 2 * sizeof(word)) != (ssize_t)sizeof(word))
        err = errno ? errno : EIO;
    if (close(fd) < 0 && err == 0)
        err = errno;
    if (err != 0)
        return sl_fail(d, -err, "cannot write key file '%s': %s", path, strerror(err));
    return 0;
}

void
keywriter_release(struct keywriter *w)
{
    sl_buf_release(&w->h1);
    sl_buf_release(&w->recs);
    w->n = 0;
}

/* ---- expiry ----------------------------------------------------------------------------- */

int
transform_forget(struct catalog_txn *txn, const char *key, struct sl_strlist *also,
                 struct sl_diag *d)
{
    /* The table's prefix is the key's first two folders: "curated/orders". */
    const char *slash = strchr(key, '/');
    int rc = catalog_file_forget(txn, key, d);

    slash = slash ? strchr(slash + 1, '/') : NULL;
    if (rc == 0 && slash != NULL) {
        char *prefix = sl_strndup(key, (size_t)(slash - key));
        char *keys = layout_curated_keys_key(prefix, key);

        if (keys != NULL)
            sl_strlist_add(also, keys);
        free(keys);
        free(prefix);
    }
    return rc;
}

/* ---- checking ----------------------------------------------------------------------------- */

/*
 * Whether data file f of curated table t (whose contract is c) agrees with
 * its key file, row by row: key hashes, event time, arrival and position.
 * 0: it does, or there is no key file; 1: it does not, why says how.
 */
int
transform_check_keys(struct engine *e, struct store *s, const struct contract *c,
                     const struct curated_table *t, const struct curated_file *f, char *why,
                     size_t whylen)
{
    char *kkey = layout_curated_keys_key(t->prefix, f->key), *path = NULL;
    struct keyfile *kf = NULL;
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct keyrec *recs = NULL;
    struct sl_buf kb;
    struct engine_column cols[CONTRACT_MAX_KEY + 3];
    struct engine_file file;
    struct engine_read rd = {c->nkey + 3, cols, 1, &file, false};
    bool ev_is_date = c->columns[c->event_time].type.id == SL_TYPE_DATE;
    int64_t row = 0;
    int bad = 0;

    if (kkey == NULL || store_stat(s, kkey, NULL, NULL) < 0) {
        free(kkey);
        return 0;
    }
    if (keyfile_open(s, kkey, f->rows, f->bytes, &kf) < 0) {
        snprintf(why, whylen, "its key file %s does not match it (rows, size or checksum)",
                 kkey);
        free(kkey);
        return 1;
    }
    free(kkey);
    recs = sl_calloc((size_t)f->rows, sizeof(*recs));
    if (keyfile_recs(kf, 0, (size_t)f->rows, recs) < 0 ||
        store_local_path(s, f->key, &path, NULL) < 0) {
        snprintf(why, whylen, "its key file has a record that fails its check");
        bad = 1;
        goto out;
    }
    sl_buf_init(&kb);
    /* The key columns, event time, arrival and position: columns every
     * file of the table has (field id 0). */
    for (size_t k = 0; k < c->nkey; k++)
        cols[k] = (struct engine_column){c->columns[c->key[k]].name,
                                         c->columns[c->key[k]].type, 0};
    cols[c->nkey] = (struct engine_column){c->columns[c->event_time].name,
                                           c->columns[c->event_time].type, 0};
    cols[c->nkey + 1] = (struct engine_column){META_INGESTED_AT, {SL_TYPE_TIMESTAMP, 0, 0}, 0};
    cols[c->nkey + 2] = (struct engine_column){META_RAW_POSITION, {SL_TYPE_INT64, 0, 0}, 0};
    file = (struct engine_file){path, f->max_field_id, 0, false};
    if (engine_read_files(e, 0, &rd, &res, NULL) < 0) {
        snprintf(why, whylen, "it cannot be read to check its key file");
        bad = 1;
    }
    while (!bad && (ch = engine_result_next(res)) != NULL) {
        struct engine_vec v[CONTRACT_MAX_KEY + 3];
        size_t n = engine_chunk_rows(ch);

        for (size_t k = 0; k < c->nkey + 3; k++)
            engine_chunk_vec(ch, k, &v[k]);
        for (size_t i = 0; !bad && i < n; i++, row++) {
            size_t len;
            const char *key = chunk_key(c, v, i, &kb, &len);
            int64_t ev = (int64_t)engine_vec_int(&v[c->nkey], i);
            const struct keyrec *r = &recs[row];

            ev = ev_is_date ? ev * SL_USEC_PER_DAY : ev;
            if (row >= f->rows || keyfile_h1(kf)[row] != sl_hash64(key, len, 0) ||
                r->h2 != keys_h2(key, len) || r->ev != ev ||
                r->at != (int64_t)engine_vec_int(&v[c->nkey + 1], i) ||
                r->pos != (int64_t)engine_vec_int(&v[c->nkey + 2], i)) {
                snprintf(why, whylen, "row %lld differs from its key file's record",
                         (long long)row);
                bad = 1;
            }
        }
    }
    if (!bad && row != f->rows) {
        snprintf(why, whylen, "it has %lld rows, its key file %lld", (long long)row,
                 (long long)f->rows);
        bad = 1;
    }
    engine_result_free(res);
    sl_buf_release(&kb);
out:
    free(path);
    free(recs);
    keyfile_close(kf);
    return bad;
}
