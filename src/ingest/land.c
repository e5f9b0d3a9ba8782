/*
 * land.c - batch files into the raw zone (see ingest.h).
 *
 * One pass over each file: read, hash, write to staging, and for gzip also
 * inflate (to prove the stream is whole, and to look at the content).  The
 * first MiB of content is checked for the format, and the first 16 MiB
 * read for schema drift (transform/reader.h, reader_drift()).  Writeback of the
 * staged copy is started as it is written (sync_file_range), so the final
 * fsync mostly waits for what the disk is already doing.
 */
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <avro.h>

#include "catalog/raw.h"
#include "commit/commit.h"
#include "core/buf.h"
#include "core/fault.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "store/layout.h"
#include "transform/reader.h"
#include "core/banned.h"

#define CHUNK (1u << 20)
#define PREFIX (1u << 20)   /* content the format checks read */
#define SAMPLE (16u << 20)  /* content the drift check reads (see README.md) */

int
ingest_format_of(const char *name, const char **format, const char **compression)
{
    static const struct {
        const char *ext;
        const char *format;
    } exts[] = {
        {".csv", "csv"}, {".jsonl", "jsonl"}, {".ndjson", "jsonl"},
        {".json", "json"}, {".avro", "avro"},
    };
    size_t n = strlen(name);

    *compression = "none";
    if (n > 3 && strcasecmp(name + n - 3, ".gz") == 0) {
        *compression = "gzip";
        n -= 3;
    }
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t e = strlen(exts[i].ext);

        if (n > e && strncasecmp(name + n - e, exts[i].ext, e) == 0) {
            *format = exts[i].format;
            return 0;
        }
    }
    return SL_ERR_INPUT;
}

struct staged {
    const char *key;     /* staging key (the commit's) */
    const char *path;    /* its local path (the commit's) */
    unsigned char sha[SL_SHA256_LEN];
    int64_t size;
    struct sl_buf prefix;/* first SAMPLE bytes of content */
    bool whole;          /* prefix holds the whole content */
};

/* A folder is refused as one, whatever its name says. */
static int
refuse_directory(const char *path, struct sl_diag *d)
{
    int rc = sl_fail(d, -EISDIR, "cannot land '%s': it is a directory", path);

    sl_diag_hint(d, "name the files in it instead");
    return rc;
}

/* Copy path into staging, hashing it; inflate gzip on the way. */
static int
stage_copy(struct commit *cm, const char *path, size_t idx, bool gz, struct staged *st,
           struct sl_diag *d)
{
    char *buf = NULL, *zbuf = NULL, *name;
    int in = -1, out = -1, rc;
    struct sl_sha256 h;
    z_stream z;
    bool zopen = false, zend = false;
    off_t synced = 0;

    in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return sl_fail(d, -errno, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    bool sized = fstat(in, &sb) == 0;

    if (sized && S_ISDIR(sb.st_mode)) {
        close(in);
        return refuse_directory(path, d);
    }
    posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
    name = sl_printf("raw-%zu.part", idx);
    rc = commit_stage(cm, name, &st->key, &st->path, d);
    free(name);
    if (rc < 0) {
        close(in);
        return rc;
    }
    out = open(st->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        rc = sl_fail(d, -errno, "cannot create '%s': %s", st->path, strerror(errno));
        goto out;
    }
    buf = sl_malloc(CHUNK);
    /* Room for the sample at once (growing it would copy it again). */
    if (!gz && sized && sb.st_size > 0)
        sl_buf_grow(&st->prefix, sb.st_size < (off_t)SAMPLE ? (size_t)sb.st_size : SAMPLE - 1);
    sl_sha256_init(&h);
    if (gz) {
        memset(&z, 0, sizeof(z));
        if (inflateInit2(&z, 15 + 16) != Z_OK) {
            rc = sl_fail(d, SL_ERR_INPUT, "cannot start gzip decompression");
            goto out_hash;
        }
        zopen = true;
        zbuf = sl_malloc(CHUNK);
    }
    for (;;) {
        ssize_t n = read(in, buf, CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sl_fail(d, -errno, "cannot read '%s': %s", path, strerror(errno));
            goto out_hash;
        }
        if (n == 0)
            break;
        sl_sha256_update(&h, buf, (size_t)n);
        rc = sl_fault("ingest.write");
        if (rc == 0)
            rc = sl_write_all(out, buf, (size_t)n);
        if (rc < 0) {
            rc = sl_fail(d, rc, "cannot write to the lake ('%s'): %s", st->path,
                         sl_strerror(rc));
            goto out_hash;
        }
        st->size += n;
        if (st->size - synced >= 8 * CHUNK) {
            sync_file_range(out, synced, st->size - synced, SYNC_FILE_RANGE_WRITE);
            synced = st->size;
        }
        if (!gz) {
            if (st->prefix.len < SAMPLE)
                sl_buf_add(&st->prefix, buf,
                           (size_t)n < SAMPLE - st->prefix.len ? (size_t)n
                                                               : SAMPLE - st->prefix.len);
            continue;
        }
        z.next_in = (unsigned char *)buf;
        z.avail_in = (uInt)n;
        while (z.avail_in > 0) {
            int zr;

            if (zend) {
                /* Another gzip member follows the last. */
                inflateReset(&z);
                zend = false;
            }
            z.next_out = (unsigned char *)zbuf;
            z.avail_out = CHUNK;
            zr = inflate(&z, Z_NO_FLUSH);
            if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
                rc = sl_fail(d, SL_ERR_INPUT, "'%s' is not valid gzip: %s", path,
                             z.msg ? z.msg : "corrupt data");
                goto out_hash;
            }
            size_t got = CHUNK - z.avail_out;

            if (st->prefix.len < SAMPLE)
                sl_buf_add(&st->prefix, zbuf,
                           got < SAMPLE - st->prefix.len ? got : SAMPLE - st->prefix.len);
            if (zr == Z_STREAM_END)
                zend = true;
            if (zr == Z_BUF_ERROR && got == 0)
                break;
        }
    }
    if (gz && !zend) {
        rc = sl_fail(d, SL_ERR_INPUT, "'%s' is truncated: the gzip stream ends early", path);
        sl_diag_hint(d, "the file was cut short; land a complete copy");
        goto out_hash;
    }
    st->whole = (gz ? (int64_t)z.total_out : st->size) <= (int64_t)SAMPLE;
    rc = 0;
out_hash:
    sl_sha256_final(&h, st->sha);
out:
    if (zopen)
        inflateEnd(&z);
    free(zbuf);
    free(buf);
    if (out >= 0 && close(out) < 0 && rc == 0)
        rc = sl_fail(d, -errno, "cannot write '%s': %s", st->path, strerror(errno));
    close(in);
    if (rc == 0)
        rc = commit_seal(cm, st->key, d);
    return rc;
}

static const char *
skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/*
 * A JSON file without a record is refused like an empty CSV file: nothing
 * in it, only whitespace, or an empty array.  Only a file whose content is
 * all in the prefix can be known to be empty.
 */
static int
check_json_records(const char *path, const char *format, const struct staged *st,
                   const char *text, const char *end, struct sl_diag *d)
{
    const char *p = skip_space(text, end), *what = NULL;
    bool lines = strcmp(format, "jsonl") == 0;

    if (!st->whole)
        return 0;
    if (p == end) {
        what = text == end ? "the file is empty" : "the file holds only whitespace";
    } else if (!lines && *p == '[') {
        p = skip_space(p + 1, end);
        if (p < end && *p == ']' && skip_space(p + 1, end) == end)
            what = "the JSON array is empty";
    }
    if (what == NULL)
        return 0;
    sl_fail(d, SL_ERR_INPUT, "%s: %s", what,
            lines ? "a JSON lines file needs at least one record"
                  : "a JSON file needs an array of at least one record");
    sl_diag_at(d, path, 0, 0, NULL);
    return SL_ERR_INPUT;
}

/* Check the content is what the name promises. */
static int
check_format(const char *path, const char *format, const struct contract *c,
             const struct staged *st, struct sl_diag *d)
{
    size_t len = st->prefix.len < PREFIX ? st->prefix.len : PREFIX;
    const char *p = st->prefix.data, *end = p + len;
    int rc = 0;

    if (strcmp(format, "avro") == 0) {
        avro_file_reader_t r;

        if (len < 4 || memcmp(p, "Obj\x01", 4) != 0)
            return sl_fail(d, SL_ERR_INPUT, "'%s' is not an Avro object container file", path);
        if (st->whole || len >= PREFIX) {
            FILE *f = fmemopen((void *)p, len, "rb");

            if (f != NULL && avro_file_reader_fp(f, path, 1, &r) == 0)
                avro_file_reader_close(r);
            else if (f != NULL)
                return sl_fail(d, SL_ERR_INPUT, "'%s' has an unreadable Avro header: %s", path,
                               avro_strerror());
        }
        return 0;
    }
    if (memchr(p, '\0', len < 4096 ? len : 4096) != NULL)
        return sl_fail(d, SL_ERR_INPUT, "'%s' is not a %s file: it holds binary data", path,
                       strcmp(format, "csv") == 0 ? "CSV" : "JSON");
    if (strcmp(format, "csv") == 0) {
        size_t hlen;

        if (!(st->whole && len == st->prefix.len) && memchr(p, '\n', len) == NULL)
            return sl_fail(d, SL_ERR_INPUT, "'%s': the CSV header line is longer than 1 MiB",
                           path);
        rc = csv_check_header(c, p, len, &hlen, d);
        if (rc < 0)
            sl_diag_at(d, path, 0, 0, NULL);
        return rc;
    }
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a UTF-8 byte-order mark */
    /* (whole: the content is all in the prefix) */
    rc = check_json_records(path, format, st, p, st->prefix.data + st->prefix.len, d);
    if (rc < 0)
        return rc;
    p = skip_space(p, end);
    if (p < end && strcmp(format, "jsonl") == 0 && *p != '{') {
        rc = sl_fail(d, SL_ERR_INPUT, "'%s' is not JSON lines: it does not start with a JSON "
                     "object",
                     path);
        if (*p == '[')
            sl_diag_hint(d, "a JSON array belongs in a file named .json");
    } else if (p < end && strcmp(format, "json") == 0 && *p != '[') {
        rc = sl_fail(d, SL_ERR_INPUT, "'%s' is not a JSON array: it does not start with '['",
                     path);
        if (*p == '{')
            sl_diag_hint(d, "one JSON object per line belongs in a file named .jsonl");
    }
    return rc;
}

void
ingest_result_release(struct ingest_result *r)
{
    free(r->key);
    r->key = NULL;
    reader_drift_release(&r->drift);
}

/* The commit transaction's part of a landing (may run more than once). */
struct land {
    const struct source *src;
    const struct contract *c;
    const char *const *paths;
    size_t n;
    struct staged *st;
    struct ingest_result *res;
    struct run_record *run;
    int64_t now;          /* the arrival time to ask for */
};

static int
land_record(struct catalog_txn *txn, struct commit *cm, void *arg, struct sl_diag *d)
{
    struct land *l = arg;
    struct ingest_result *res = l->res;
    struct sl_arena a;
    int64_t landed = 0, bytes = 0;
    int rc = 0;

    sl_arena_init(&a, 0);
    for (size_t i = 0; i < l->n; i++) {
        free(res[i].key);
        res[i].key = NULL;
        res[i].duplicate = false;
        res[i].seq = 0;
    }
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        struct raw_object o, old;
        char hex[2 * SL_SHA256_LEN + 1];

        for (size_t k = 0; k < i && !res[i].duplicate; k++) {
            if (!res[k].duplicate && strcmp(res[k].object_id, res[i].object_id) == 0) {
                res[i].duplicate = true;
                res[i].key = sl_strdup(res[k].key);
            }
        }
        if (res[i].duplicate)
            continue;
        rc = catalog_raw_get(txn, l->src->name, res[i].object_id, &a, &old, d);
        if (rc == 0) {
            res[i].duplicate = true;
            res[i].key = sl_strdup(old.key);
            res[i].seq = old.seq;
            continue;
        }
        if (rc != SL_ERR_NOTFOUND)
            break;
        sl_hex(l->st[i].sha, SL_SHA256_LEN, hex);
        res[i].key = layout_raw_key(l->src->name, l->now, res[i].object_id, res[i].format,
                                    strcmp(res[i].compression, "gzip") == 0);
        o = (struct raw_object){
            .source = l->src->name,
            .object_id = res[i].object_id,
            .key = res[i].key,
            .system = l->src->system,
            .contract_version = l->c->version,
            .original_name = sl_basename(l->paths[i]),
            .format = res[i].format,
            .compression = res[i].compression,
            .size = res[i].size,
            .checksum = sl_arena_printf(&a, "sha256:%s", hex),
            .arrived_at = l->now,
        };
        rc = catalog_raw_add(txn, &o, d);
        if (rc < 0)
            break;
        res[i].seq = o.seq;
        commit_publish_as(cm, l->st[i].key, res[i].key);
        landed++;
        bytes += res[i].size;
    }
    sl_arena_release(&a);
    if (rc < 0)
        return rc;
    l->run->objects = landed;
    l->run->bytes_written = bytes;
    return landed > 0 ? 0 : COMMIT_NOTHING;
}

int
ingest_files(struct store *s, struct catalog *cat, const struct source *src,
             const struct contract *c, const char *const *paths, size_t n, const char *format,
             struct ingest_result *res, struct sl_diag *d)
{
    struct staged *st = sl_calloc(n ? n : 1, sizeof(*st));
    struct commit *cm = commit_new(s, cat, "ingest", src->name);
    struct run_record run = {.table = ""};
    struct land l = {src, c, paths, n, st, res, &run, sl_now_usec()};
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof(res[i]));
        sl_buf_init(&st[i].prefix);
    }
    rc = commit_recover(s, cat, d);
    /* 1. Stage and check every file. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *fmt, *comp, *given = format;
        char hex[2 * SL_SHA256_LEN + 1];

        if (sl_is_dir(paths[i])) {
            rc = refuse_directory(paths[i], d);
            break;
        }

        if (ingest_format_of(sl_basename(paths[i]), &fmt, &comp) < 0) {
            if (given == NULL) {
                rc = sl_fail(d, SL_ERR_INPUT,
                             "cannot tell the format of '%s' from its name", paths[i]);
                sl_diag_hint(d, "name it .csv, .jsonl, .ndjson, .json or .avro (each may end "
                                "in .gz), or pass --format");
                break;
            }
            comp = "none";
        }
        if (given != NULL) {
            const char *ignored;
            char probe[64];

            snprintf(probe, sizeof(probe), "x.%s", given);
            if (ingest_format_of(probe, &fmt, &ignored) < 0) {
                rc = sl_fail(d, SL_ERR_USAGE, "unknown format '%s' (csv, jsonl, json, avro)",
                             given);
                break;
            }
        }
        rc = stage_copy(cm, paths[i], i, strcmp(comp, "gzip") == 0, &st[i], d);
        if (rc == 0)
            rc = check_format(paths[i], fmt, c, &st[i], d);
        /* Schema drift, before anything reaches curated: the records of
         * the content read (all of it, or its first SAMPLE bytes). */
        reader_drift_init(&res[i].drift);
        if (rc == 0) {
            rc = reader_drift(c, fmt, st[i].prefix.data ? st[i].prefix.data : "",
                              st[i].prefix.len, !st[i].whole, &res[i].drift, d);
            if (rc < 0)
                sl_diag_at(d, paths[i], 0, 0, NULL);
        }
        sl_buf_release(&st[i].prefix);
        if (rc < 0)
            break;
        sl_hex(st[i].sha, SL_SHA256_LEN, hex);
        memcpy(res[i].object_id, hex, INGEST_ID_LEN);
        res[i].object_id[INGEST_ID_LEN] = '\0';
        res[i].size = st[i].size;
        res[i].format = fmt;
        res[i].compression = comp;
    }
    /* 2 and 3. One transaction records them all (duplicates excepted), as
     * one run of kind "ingest"; then they are published. */
    run.started_at = l.now;
    if (rc == 0)
        rc = commit_finish(cm, &run, COMMIT_PUBLISH, land_record, &l, d);
    if (rc == COMMIT_NOTHING)
        rc = 0; /* every file was landed before */
    commit_free(cm);
    for (size_t i = 0; i < n; i++)
        sl_buf_release(&st[i].prefix);
    free(st);
    if (rc < 0)
        for (size_t i = 0; i < n; i++)
            ingest_result_release(&res[i]);
    return rc;
}
