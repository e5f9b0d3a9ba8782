/*
 * load.c - raw objects into rows, in parallel (see transform_int.h).
 *
 * Plain objects are mapped, not copied: the rows' strings point into the
 * mapping until the run ends.  Gzip objects are inflated into memory
 * (every member of a multi-member file).  A large JSON-lines object is cut
 * at line ends into pieces so both cores parse it; each piece counts lines
 * from 1 and the positions are shifted once all pieces are done.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/log.h"
#include "core/mem.h"
#include "transform/transform_int.h"
#include "core/banned.h"

#define PIECE_BYTES (8u << 20)
#define MAX_INFLATED (16ull << 30)

static int
inflate_all(const char *path, const unsigned char *in, size_t inlen, char **out,
            size_t *outlen, struct sl_diag *d)
{
    z_stream z;
    size_t cap = inlen * 4 + 4096, n = 0;
    char *buf = sl_malloc(cap);
    int zr = Z_OK;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        free(buf);
        return sl_fail(d, SL_ERR_INPUT, "cannot start gzip decompression");
    }
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)(inlen > UINT32_MAX ? UINT32_MAX : inlen);
    size_t fed = z.avail_in;

    for (;;) {
        if (cap - n < 65536) {
            if (cap > MAX_INFLATED) {
                inflateEnd(&z);
                free(buf);
                return sl_fail(d, SL_ERR_LIMIT, "'%s' inflates to more than %llu bytes", path,
                               (unsigned long long)MAX_INFLATED);
            }
            cap *= 2;
            buf = sl_realloc(buf, cap);
        }
        z.next_out = (unsigned char *)buf + n;
        z.avail_out = (uInt)(cap - n > UINT32_MAX ? UINT32_MAX : cap - n);
        size_t before = z.avail_out;

        zr = inflate(&z, Z_NO_FLUSH);
        n += before - z.avail_out;
        if (z.avail_in == 0 && fed < inlen) {
            size_t more = inlen - fed > UINT32_MAX ? UINT32_MAX : inlen - fed;

            z.next_in = (unsigned char *)in + fed;
            z.avail_in = (uInt)more;
            fed += more;
        }
        if (zr == Z_STREAM_END) {
            if (z.avail_in == 0 && fed == inlen)
                break;
            inflateReset(&z); /* another gzip member follows */
            continue;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            inflateEnd(&z);
            free(buf);
            return sl_fail(d, SL_ERR_CORRUPT, "raw object '%s' is not valid gzip: %s", path,
                           z.msg ? z.msg : "corrupt data");
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0 && fed == inlen) {
            inflateEnd(&z);
            free(buf);
            return sl_fail(d, SL_ERR_CORRUPT, "raw object '%s' is truncated gzip", path);
        }
    }
    inflateEnd(&z);
    *out = buf;
    *outlen = n;
    return 0;
}

static int
load_one(struct trun *t, struct tobj *o, struct sl_diag *d)
{
    char *path = NULL;
    struct stat st;
    int fd, rc;

    rc = store_local_path(t->store, o->ro.key, &path, d);
    if (rc < 0)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = sl_fail(d, -errno, "cannot open raw object '%s': %s", o->ro.key, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        rc = sl_fail(d, -errno, "cannot stat raw object '%s': %s", o->ro.key, strerror(errno));
        close(fd);
        goto out;
    }
    if (st.st_size > 0) {
        o->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (o->map == MAP_FAILED) {
            o->map = NULL;
            rc = sl_fail(d, -errno, "cannot map raw object '%s': %s", o->ro.key,
                         strerror(errno));
            close(fd);
            goto out;
        }
        o->maplen = (size_t)st.st_size;
        madvise(o->map, o->maplen, MADV_SEQUENTIAL | MADV_WILLNEED);
    }
    close(fd);
    if (strcmp(o->ro.key + strlen(o->ro.key) - 3, ".gz") == 0) {
        size_t n = 0;

        rc = inflate_all(o->ro.key, o->map, o->maplen, &o->heap, &n, d);
        if (rc < 0)
            goto out;
        munmap(o->map, o->maplen);
        o->map = NULL;
        o->data = o->heap;
        o->len = n;
    } else {
        o->data = o->map ? o->map : "";
        o->len = o->maplen;
    }
out:
    free(path);
    return rc;
}

static void
add_piece(struct trun *t, size_t *cap, struct tobj *o, const char *p, size_t n, bool whole)
{
    struct piece *pc;

    SL_GROW(t->pieces, *cap, t->npieces + 1);
    pc = &t->pieces[t->npieces++];
    memset(pc, 0, sizeof(*pc));
    pc->obj = o;
    pc->data = p;
    pc->len = n;
    pc->whole = whole;
    pc->first_line = 1;
}

int
load_objects(struct trun *t, struct sl_diag *d)
{
    size_t cap = 0;

    for (size_t i = 0; i < t->nobjs; i++) {
        struct tobj *o = &t->objs[i];
        int rc = load_one(t, o, d);

        if (rc < 0)
            return rc;
        if (strcmp(o->format, "jsonl") != 0 || o->len <= PIECE_BYTES) {
            add_piece(t, &cap, o, o->data, o->len, true);
            continue;
        }
        /* Cut at line ends, about PIECE_BYTES each. */
        const char *p = o->data, *end = o->data + o->len;

        while (p < end) {
            const char *cut = p + PIECE_BYTES < end ? p + PIECE_BYTES : end;

            if (cut < end) {
                const char *nl = memchr(cut, '\n', (size_t)(end - cut));

                cut = nl ? nl + 1 : end;
            }
            add_piece(t, &cap, o, p, (size_t)(cut - p), false);
            p = cut;
        }
    }
    return 0;
}

static void
parse_one(struct trun *t, struct piece *pc)
{
    const struct project_config *cfg = &t->project->config;
    struct tobj *o = pc->obj;

    colmap_init(&pc->map, o->ro.contract);
    rows_init(&pc->rows, &o->ro, cfg->transform.max_record_bytes);
    sl_diag_init(&pc->d);
    if (strcmp(o->format, "jsonl") == 0) {
        const char *p = pc->data, *end = pc->data + pc->len;

        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            pc->nlines++;
            p++;
        }
        /* A record a line, the last one maybe without its newline. */
        rows_reserve(&pc->rows, pc->nlines + 1);
        pc->rc = read_jsonl(&pc->rows, &pc->map, pc->data, pc->len, 1, 1);
    } else if (strcmp(o->format, "json") == 0) {
        pc->rc = read_json_array(&pc->rows, &pc->map, pc->data, pc->len);
    } else if (strcmp(o->format, "csv") == 0) {
        pc->rc = read_csv(&pc->rows, &pc->map, pc->data, pc->len);
    } else if (strcmp(o->format, "avro") == 0) {
        pc->rc = read_avro(&pc->rows, &pc->map, pc->data, pc->len, &pc->d);
    } else {
        pc->rc = sl_fail(&pc->d, SL_ERR_CORRUPT, "raw object '%s' has unknown format '%s'",
                         o->ro.key, o->format);
    }
}

struct pool {
    struct trun *t;
    atomic_size_t next;
};

static void *
worker(void *arg)
{
    struct pool *pl = arg;

    for (;;) {
        size_t i = atomic_fetch_add(&pl->next, 1);

        if (i >= pl->t->npieces)
            return NULL;
        parse_one(pl->t, &pl->t->pieces[i]);
    }
}

static pthread_once_t avro_once = PTHREAD_ONCE_INIT;

int
parse_pieces(struct trun *t, struct sl_diag *d)
{
    struct pool pl = {.t = t};
    pthread_t tid[64];
    int n = t->threads, started = 0;

    pthread_once(&avro_once, read_avro_install_allocator);
    atomic_init(&pl.next, 0);
    if (n > 64)
        n = 64;
    if ((size_t)n > t->npieces)
        n = (int)t->npieces;
    for (int i = 1; i < n; i++) {
        if (pthread_create(&tid[i], NULL, worker, &pl) != 0)
            break;
        started = i;
    }
    worker(&pl);
    for (int i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);

    /* Shift the line numbers of JSON-lines ranges to the object's. */
    for (size_t i = 0; i < t->npieces; i++) {
        struct piece *pc = &t->pieces[i];

        if (pc->rc < 0)
            return sl_fail(d, pc->rc, "%s", pc->d.msg);
        if (i > 0 && !pc->whole && pc[-1].obj == pc->obj)
            pc->first_line = pc[-1].first_line + pc[-1].nlines;
        if (pc->first_line == 1)
            continue;
        int64_t shift = pc->first_line - 1;

        for (size_t k = 0; k < pc->rows.n; k++)
            pc->rows.pos[k] += shift;
        for (size_t k = 0; k < pc->rows.nbad; k++) {
            pc->rows.bad[k].pos.line += shift;
            pc->rows.bad[k].pos.record = 0;
        }
        for (size_t k = 0; k < pc->rows.ndrift; k++) {
            pc->rows.drift[k].example.line += shift;
            pc->rows.drift[k].example.record = 0;
        }
    }
    /* Each object's drift from its pieces (which are consecutive). */
    for (size_t i = 0; i < t->npieces;) {
        struct tobj *o = t->pieces[i].obj;
        struct rows *rs[64], **rv = rs;
        size_t j = i;

        while (j < t->npieces && t->pieces[j].obj == o)
            j++;
        if (j - i > sizeof(rs) / sizeof(rs[0]))
            rv = sl_malloc((j - i) * sizeof(*rv));
        for (size_t k = i; k < j; k++)
            rv[k - i] = &t->pieces[k].rows;
        reader_drift_init(&o->drift);
        reader_drift_merge(rv, j - i, o->ro.line_based, &o->drift);
        if (rv != rs)
            free(rv);
        i = j;
    }
    for (size_t i = 0; i < t->npieces; i++) {
        t->records_in += t->pieces[i].rows.records_in;
        t->quarantined += (int64_t)t->pieces[i].rows.nbad;
    }
    return 0;
}

void
unload_objects(struct trun *t)
{
    for (size_t i = 0; i < t->npieces; i++) {
        struct piece *pc = &t->pieces[i];

        colmap_release(&pc->map);
        rows_release(&pc->rows);
        free(pc->state);
        free(pc->colmap_out);
    }
    free(t->pieces);
    t->pieces = NULL;
    t->npieces = 0;
    for (size_t i = 0; i < t->nobjs; i++) {
        if (t->objs[i].map != NULL)
            munmap(t->objs[i].map, t->objs[i].maplen);
        free(t->objs[i].heap);
        reader_drift_release(&t->objs[i].drift);
    }
}
