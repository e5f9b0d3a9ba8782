/*
 * keys.c - access keys: the credentials file, the environment key, the
 * keyring the server reads, and the writers behind `sluice keys`
 * (see keys.h for the file's layout).
 *
 * Sections, low level to high:
 *
 *   1. reading the file: the permission check, then a strict line parser
 *      that keeps each section's byte range, so a writer can remove one
 *      section and leave every other byte (comments included) as it was;
 *   2. the keyring: an immutable struct keyset (keys, policies, and the
 *      identity of every file it was read from) behind a pointer that a
 *      refresh swaps under a write lock; readers hold the read lock only
 *      while they look a key up;
 *   3. the writers: flock on "<file>.lock", read, change the text, write a
 *      0600 temp file, fsync, rename, fsync the folder.
 *
 * Secrets: they live in the file's text, in struct key and in key_info;
 * every buffer that held one is wiped before it is freed, and no message
 * quotes a value that might be one (a malformed line is named by its
 * number only).
 */
#include "server/keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fault.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/time.h"
#include "core/banned.h"

#define FILE_COMMENT "# sluice access keys (sluice keys add/list/remove). Keep private.\n"
#define ACCEPTED_KEYS "aws_access_key_id, aws_secret_access_key, policy, created"

/* ---- 1. reading the credentials file ------------------------------------ */

/* What a file was when it was read, to notice that it changed. */
struct fileid {
    char *path; /* absolute or as given; heap */
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

/* One [section] of the file. */
struct section {
    struct key_info info; /* name, id, secret, policy, created, line */
    int id_line;          /* of aws_access_key_id; 0 if missing */
    int secret_line;
    int policy_line;
    int created_line;
    size_t start, end; /* its bytes: from the comments just above its
                        * header to the next section's start */
};

struct credfile {
    struct section *s;
    size_t n, cap;
};

static void
wipe_buf(struct sl_buf *b)
{
    if (b->cap > 0)
        explicit_bzero(b->data, b->cap);
    sl_buf_release(b);
}

static void
credfile_release(struct credfile *f)
{
    if (f->s != NULL)
        explicit_bzero(f->s, f->cap * sizeof(*f->s));
    free(f->s);
    memset(f, 0, sizeof(*f));
}

static void
fileid_from_stat(struct fileid *id, const struct stat *st)
{
    id->exists = true;
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim;
    id->ctime = st->st_ctim;
}

static bool
fileid_same(const struct fileid *a, const struct fileid *b)
{
    if (a->exists != b->exists)
        return false;
    if (!a->exists)
        return true;
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* The file's identity now (exists = false if it is not there). */
static void
fileid_stat(struct fileid *id)
{
    struct stat st;

    id->exists = false;
    if (stat(id->path, &st) == 0)
        fileid_from_stat(id, &st);
}

/*
 * Read the credentials file into text, refusing one that others may read
 * or write.  A missing file is *exists = false and no error.  id (may be
 * NULL) gets the identity of what was read.
 */
static int
cred_read(const char *path, struct sl_buf *text, bool *exists, struct fileid *id, struct sl_diag *d)
{
    struct stat st;
    int fd, rc = 0;

    *exists = false;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return sl_fail(d, -errno, "cannot open credentials file '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        rc = sl_fail(d, -errno, "cannot stat '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = sl_fail(d, SL_ERR_INPUT, "credentials file '%s' is not a regular file", path);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        rc = sl_fail(d, SL_ERR_INPUT,
                     "%s is %s by others (mode %04o); it holds secrets: "
                     "chmod 600 %s",
                     path, (st.st_mode & 044) ? "readable" : "writable",
                     (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    if (st.st_size > KEYS_FILE_MAX) {
        rc = sl_fail(d, SL_ERR_LIMIT, "credentials file '%s' is larger than %d bytes", path,
                     KEYS_FILE_MAX);
        goto out;
    }
    rc = sl_read_fd(fd, path, KEYS_FILE_MAX, text, d);
    if (rc < 0)
        goto out;
    *exists = true;
    if (id != NULL)
        fileid_from_stat(id, &st);
out:
    close(fd);
    return rc;
}

static bool
is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool
keys_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > KEYS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_word_char(name[i]) && name[i] != '.' && name[i] != '-')
            return false;
    return true;
}

/* AWS's rule for access key ids: [\w]{16,128}. */
static bool
key_id_valid(const char *s, size_t n)
{
    if (n < 16 || n > KEYS_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_word_char(s[i]))
            return false;
    return true;
}

static bool
secret_valid(const char *s, size_t n)
{
    if (n < 16 || n > KEYS_SECRET_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

#define ID_FORM "16 to 128 letters, digits or '_' (sluice makes 'AKIA' and 16 of A-Z, 2-7)"
#define SECRET_FORM "16 to 128 printable ASCII characters without spaces (sluice makes 40)"

static int cfail(struct sl_diag *d, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
cfail(struct sl_diag *d, const char *path, int line, const char *fmt, ...)
{
    char msg[SL_DIAG_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_fail(d, SL_ERR_INPUT, "%s", msg);
    sl_diag_at(d, path, line, 0, NULL);
    return SL_ERR_INPUT;
}

static void
trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/* Copy s[0..n) into a fixed field of key_info (n already checked). */
static void
set_field(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static int
end_section(const char *path, const struct section *s, struct sl_diag *d)
{
    if (s->id_line == 0)
        return cfail(d, path, s->info.line, "key '%s' has no aws_access_key_id", s->info.name);
    if (s->secret_line == 0)
        return cfail(d, path, s->info.line, "key '%s' has no aws_secret_access_key", s->info.name);
    return 0;
}

/* One "key = value" line of section s. */
static int
section_value(const char *path, int line, struct section *s, const char *k, size_t klen,
              const char *v, size_t vlen, struct sl_diag *d)
{
    static const char *const keys[] = {"aws_access_key_id", "aws_secret_access_key", "policy",
                                       "created", NULL};
    int *lines[] = {&s->id_line, &s->secret_line, &s->policy_line, &s->created_line};
    int which = -1;

    for (int i = 0; keys[i] != NULL; i++)
        if (strlen(keys[i]) == klen && memcmp(keys[i], k, klen) == 0)
            which = i;
    if (which < 0) {
        /* Key names are short; a secret (AWS's are 40 characters) pasted
         * left of a '=' is not quoted. */
        bool printable = klen <= 32;

        for (size_t i = 0; i < klen && printable; i++)
            printable = is_word_char(k[i]) || k[i] == '-' || k[i] == '.';
        if (printable)
            return cfail(d, path, line,
                         "unknown key '%.*s' in key '%s' (accepted: " ACCEPTED_KEYS ")", (int)klen,
                         k, s->info.name);
        return cfail(d, path, line, "unknown key in key '%s' (accepted: " ACCEPTED_KEYS ")",
                     s->info.name);
    }
    if (*lines[which] != 0)
        return cfail(d, path, line, "'%s' appears twice in key '%s' (first at line %d)",
                     keys[which], s->info.name, *lines[which]);
    *lines[which] = line;
    if (vlen == 0)
        return cfail(d, path, line, "'%s' of key '%s' has no value", keys[which], s->info.name);
    switch (which) {
    case 0:
        if (!key_id_valid(v, vlen))
            return cfail(d, path, line,
                         "aws_access_key_id of key '%s' is not of the accepted "
                         "form: " ID_FORM,
                         s->info.name);
        set_field(s->info.id, sizeof(s->info.id), v, vlen);
        break;
    case 1:
        if (!secret_valid(v, vlen))
            return cfail(d, path, line,
                         "aws_secret_access_key of key '%s' is not of the "
                         "accepted form: " SECRET_FORM,
                         s->info.name);
        set_field(s->info.secret, sizeof(s->info.secret), v, vlen);
        break;
    case 2:
        if (vlen >= sizeof(s->info.policy))
            return cfail(d, path, line, "policy path of key '%s' is longer than %zu bytes",
                         s->info.name, sizeof(s->info.policy) - 1);
        set_field(s->info.policy, sizeof(s->info.policy), v, vlen);
        break;
    default: {
        int64_t usec;

        if (vlen >= sizeof(s->info.created) || sl_parse_timestamp(v, vlen, &usec) < 0)
            return cfail(d, path, line,
                         "created of key '%s' is not a time such as "
                         "2026-12-02T05:00:00Z",
                         s->info.name);
        set_field(s->info.created, sizeof(s->info.created), v, vlen);
        break;
    }
    }
    return 0;
}

/*
 * Parse text[0..len) of the credentials file at path into f.  On error f
 * holds what was read so far; release it either way.
 */
static int
cred_parse(const char *path, const char *text, size_t len, struct credfile *f, struct sl_diag *d)
{
    const char *p = text, *end = text + len;
    struct section *cur = NULL;
    size_t comments_at = SIZE_MAX; /* start of the comment lines just above */
    int line = 0, rc;

    while (p < end) {
        const char *ls = p, *le = memchr(p, '\n', (size_t)(end - p));
        size_t at = (size_t)(p - text);

        if (le == NULL)
            le = end;
        p = le < end ? le + 1 : end;
        line++;
        if (le > ls && le[-1] == '\r')
            le--;
        for (const char *c = ls; c < le; c++)
            if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7f)
                return cfail(d, path, line, "line %d holds a control character", line);
        trim(&ls, &le);
        if (ls == le) {
            comments_at = SIZE_MAX;
            continue;
        }
        if (*ls == '#' || *ls == ';') {
            if (comments_at == SIZE_MAX)
                comments_at = at;
            continue;
        }
        /* A comment after a value starts with whitespace and # or ;. */
        for (const char *c = ls + 1; c < le; c++) {
            if ((*c == '#' || *c == ';') && (c[-1] == ' ' || c[-1] == '\t')) {
                le = c;
                trim(&ls, &le);
                break;
            }
        }
        if (*ls == '[') {
            const char *ns = ls + 1, *ne = le - 1;

            if (le - ls < 2 || *ne != ']')
                return cfail(d, path, line,
                             "a section header must be [NAME] on a line of "
                             "its own");
            trim(&ns, &ne);
            if (cur != NULL && (rc = end_section(path, cur, d)) < 0)
                return rc;
            if (ne - ns > 8 && memcmp(ns, "profile ", 8) == 0)
                return cfail(d, path, line,
                             "a credentials file names its keys [NAME], "
                             "without 'profile' (that is the config file's "
                             "form)");
            char name[KEYS_NAME_MAX + 1];

            if (ne - ns > KEYS_NAME_MAX)
                return cfail(d, path, line, "key name is longer than %d characters", KEYS_NAME_MAX);
            set_field(name, sizeof(name), ns, (size_t)(ne - ns));
            /* Not quoted: it might be a secret pasted between brackets. */
            if (!keys_name_valid(name))
                return cfail(d, path, line,
                             "the key name on line %d is not of the accepted form: 1 to 64 of "
                             "A-Z a-z 0-9 _ . -",
                             line);
            for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->s[i].info.name, name) == 0)
                    return cfail(d, path, line, "key '%s' is defined twice (first at line %d)",
                                 name, f->s[i].info.line);
            SL_GROW(f->s, f->cap, f->n + 1);
            cur = &f->s[f->n++];
            memset(cur, 0, sizeof(*cur));
            set_field(cur->info.name, sizeof(cur->info.name), name, strlen(name));
            cur->info.line = line;
            cur->start = comments_at != SIZE_MAX ? comments_at : at;
            if (f->n > 1)
                f->s[f->n - 2].end = cur->start;
            comments_at = SIZE_MAX;
            continue;
        }
        comments_at = SIZE_MAX;
        const char *eq = memchr(ls, '=', (size_t)(le - ls));

        /* Not quoted: a stray line may be a secret pasted on its own. */
        if (eq == NULL)
            return cfail(d, path, line,
                         "line %d is not a [NAME] header, a 'key = value' line "
                         "or a comment",
                         line);
        if (cur == NULL)
            return cfail(d, path, line,
                         "a 'key = value' line before the first [NAME] "
                         "header");
        const char *ks = ls, *ke = eq, *vs = eq + 1, *ve = le;

        trim(&ks, &ke);
        trim(&vs, &ve);
        rc = section_value(path, line, cur, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs), d);
        if (rc < 0)
            return rc;
    }
    if (cur != NULL) {
        cur->end = len;
        if ((rc = end_section(path, cur, d)) < 0)
            return rc;
    }
    for (size_t i = 0; i < f->n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->s[i].info.id, f->s[j].info.id) == 0)
                return cfail(d, path, f->s[i].id_line,
                             "key '%s' has the access key id of key "
                             "'%s' (line %d); ids must be unique",
                             f->s[i].info.name, f->s[j].info.name, f->s[j].id_line);
    return 0;
}

/* Read and parse; a missing file is an empty one. */
static int
cred_load(const char *path, struct sl_buf *text, struct credfile *f, bool *exists,
          struct fileid *id, struct sl_diag *d)
{
    int rc = cred_read(path, text, exists, id, d);

    if (rc == 0 && *exists)
        rc = cred_parse(path, text->data, text->len, f, d);
    return rc;
}

/* ---- 2. the keyring ------------------------------------------------------ */

struct key {
    char *name;            /* heap */
    char *id;              /* heap */
    char *secret;          /* heap; wiped when freed */
    struct policy *policy; /* NULL: every action */
};

/* One immutable generation of keys. */
struct keyset {
    struct key *keys;
    size_t n;
    struct fileid *files; /* the credentials file first, then policies */
    size_t nfiles, capfiles;
};

struct keyring {
    char *path;               /* credentials file, or NULL */
    const char *const *known; /* borrowed from keyring_open's caller */
    pthread_rwlock_t lock;    /* guards set (the pointer) */
    struct keyset *set;       /* in force */
    struct fileid *failed;    /* the files as they were when a
                               * reload last failed; NULL if none */
    size_t nfailed;
};

static void
fileids_free(struct fileid *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i].path);
    free(f);
}

static void
keyset_free(struct keyset *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->keys[i].name);
        free(s->keys[i].id);
        if (s->keys[i].secret != NULL) {
            explicit_bzero(s->keys[i].secret, strlen(s->keys[i].secret));
            free(s->keys[i].secret);
        }
        policy_free(s->keys[i].policy);
    }
    free(s->keys);
    fileids_free(s->files, s->nfiles);
    free(s);
}

static struct fileid *
keyset_track(struct keyset *s, const char *path)
{
    struct fileid *id;

    SL_GROW(s->files, s->capfiles, s->nfiles + 1);
    id = &s->files[s->nfiles++];
    memset(id, 0, sizeof(*id));
    id->path = sl_strdup(path);
    return id;
}

/* Load the policy at path for key name; the file is tracked for refresh. */
static int
load_policy(struct keyset *s, const char *path, const char *name, const char *origin,
            const char *const *known, struct policy **out, struct sl_diag *d)
{
    struct fileid *id = keyset_track(s, path);
    int rc;

    /* Identity first: a change between here and the read shows at the
     * next refresh as a difference, never as a missed change. */
    fileid_stat(id);
    rc = policy_load(path, known, out, d);
    if (rc < 0)
        sl_diag_detail(d, "It is the policy of key '%s' (%s).", name, origin);
    return rc;
}

static void
add_key(struct keyset *s, size_t *cap, const char *name, const char *id, const char *secret,
        struct policy *p)
{
    SL_GROW(s->keys, *cap, s->n + 1);
    s->keys[s->n++] = (struct key){sl_strdup(name), sl_strdup(id), sl_strdup(secret), p};
}

static int
env_key(struct keyset *s, size_t *cap, const char *const *known, struct sl_diag *d)
{
    const char *id = getenv("SLUICE_ACCESS_KEY_ID");
    const char *secret = getenv("SLUICE_SECRET_ACCESS_KEY");
    const char *policy = getenv("SLUICE_KEY_POLICY");
    struct policy *p = NULL;
    int rc;

    if (id != NULL && id[0] == '\0')
        id = NULL;
    if (secret != NULL && secret[0] == '\0')
        secret = NULL;
    if (id == NULL && secret == NULL) {
        if (policy != NULL && policy[0] != '\0')
            return sl_fail(d, SL_ERR_INPUT,
                           "SLUICE_KEY_POLICY is set but "
                           "SLUICE_ACCESS_KEY_ID and SLUICE_SECRET_ACCESS_KEY "
                           "are not");
        return 0;
    }
    if (id == NULL || secret == NULL) {
        sl_fail(d, SL_ERR_INPUT, "%s is set but %s is not: set both or neither",
                id ? "SLUICE_ACCESS_KEY_ID" : "SLUICE_SECRET_ACCESS_KEY",
                id ? "SLUICE_SECRET_ACCESS_KEY" : "SLUICE_ACCESS_KEY_ID");
        return SL_ERR_INPUT;
    }
    if (!key_id_valid(id, strlen(id)))
        return sl_fail(d, SL_ERR_INPUT,
                       "SLUICE_ACCESS_KEY_ID is not of the accepted form: " ID_FORM);
    if (!secret_valid(secret, strlen(secret)))
        return sl_fail(d, SL_ERR_INPUT,
                       "SLUICE_SECRET_ACCESS_KEY is not of the accepted "
                       "form: " SECRET_FORM);
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->keys[i].name, KEYS_ENV_NAME) == 0)
            return sl_fail(d, SL_ERR_INPUT,
                           "the credentials file has a key named '" KEYS_ENV_NAME
                           "', the name of the key from SLUICE_ACCESS_KEY_ID; "
                           "rename it");
        if (strcmp(s->keys[i].id, id) == 0)
            return sl_fail(d, SL_ERR_INPUT,
                           "SLUICE_ACCESS_KEY_ID is the access key id of "
                           "key '%s' of the credentials file",
                           s->keys[i].name);
    }
    if (policy != NULL && policy[0] != '\0') {
        rc = load_policy(s, policy, KEYS_ENV_NAME, "SLUICE_KEY_POLICY", known, &p, d);
        if (rc < 0)
            return rc;
    }
    add_key(s, cap, KEYS_ENV_NAME, id, secret, p);
    return 0;
}

/*
 * Everything the keyring reads, into a new keyset.  On failure, if tried is
 * not NULL, *tried gets the identities of the files read up to the broken
 * one (free with fileids_free()), so that a refresh can tell when one of
 * them changes again.
 */
static int
keyset_load(const char *path, const char *const *known, struct keyset **out, struct fileid **tried,
            size_t *ntried, struct sl_diag *d)
{
    struct keyset *s = sl_calloc(1, sizeof(*s));
    struct credfile f = {0};
    struct sl_buf text;
    size_t cap = 0;
    bool exists;
    int rc = 0;

    sl_buf_init(&text);
    if (path != NULL) {
        struct fileid *id = keyset_track(s, path);

        rc = cred_load(path, &text, &f, &exists, id, d);
        if (rc < 0)
            goto out;
        char *dir = sl_dirname(path);

        for (size_t i = 0; i < f.n && rc == 0; i++) {
            const struct section *sec = &f.s[i];
            struct policy *p = NULL;

            if (sec->info.policy[0] != '\0') {
                char *pp = sec->info.policy[0] == '/' ? sl_strdup(sec->info.policy)
                                                      : sl_printf("%s/%s", dir, sec->info.policy);
                char origin[SL_DIAG_AUX / 2];

                snprintf(origin, sizeof(origin), "%s:%d", path, sec->policy_line);
                rc = load_policy(s, pp, sec->info.name, origin, known, &p, d);
                free(pp);
                if (rc < 0)
                    break;
            }
            add_key(s, &cap, sec->info.name, sec->info.id, sec->info.secret, p);
        }
        free(dir);
        if (rc < 0)
            goto out;
    }
    rc = env_key(s, &cap, known, d);
out:
    wipe_buf(&text);
    credfile_release(&f);
    if (rc < 0) {
        if (tried != NULL) {
            *tried = s->files;
            *ntried = s->nfiles;
            s->files = NULL;
            s->nfiles = 0;
        }
        keyset_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int
keyring_open(const char *path, const char *const *known_actions, struct keyring **out,
             struct sl_diag *d)
{
    struct keyring *k;
    struct keyset *s;
    pthread_rwlockattr_t attr;
    int rc;

    rc = keyset_load(path, known_actions, &s, NULL, NULL, d);
    if (rc < 0)
        return rc;
    k = sl_calloc(1, sizeof(*k));
    k->path = path ? sl_strdup(path) : NULL;
    k->known = known_actions;
    k->set = s;
    /* Refreshes are rare and requests many: a writer must not wait for a
     * gap in a stream of readers. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&k->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    *out = k;
    return 0;
}

size_t
keyring_count(const struct keyring *k)
{
    /* The lock is not part of the keyring's value: readers take it too. */
    struct keyring *m = (struct keyring *)k;
    size_t n;

    pthread_rwlock_rdlock(&m->lock);
    n = m->set->n;
    pthread_rwlock_unlock(&m->lock);
    return n;
}

bool
keyring_empty(const struct keyring *k)
{
    return keyring_count(k) == 0;
}

/* Whether the files are as recorded in ids[0..n). */
static bool
files_unchanged(const struct fileid *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fileid now = {.path = ids[i].path};

        fileid_stat(&now);
        if (!fileid_same(&now, &ids[i]))
            return false;
    }
    return true;
}

int
keyring_refresh(struct keyring *k, bool *changed, struct sl_diag *d)
{
    struct keyset *old, *s;
    int rc;

    *changed = false;
    /* Only this thread replaces k->set, so reading it unlocked is safe. */
    if (files_unchanged(k->set->files, k->set->nfiles))
        return 0;
    if (k->failed != NULL && files_unchanged(k->failed, k->nfailed))
        return 0;
    fileids_free(k->failed, k->nfailed);
    k->failed = NULL;
    k->nfailed = 0;
    rc = keyset_load(k->path, k->known, &s, &k->failed, &k->nfailed, d);
    if (rc < 0)
        return rc;
    pthread_rwlock_wrlock(&k->lock);
    old = k->set;
    k->set = s;
    pthread_rwlock_unlock(&k->lock);
    keyset_free(old);
    *changed = true;
    return 0;
}

/* The key with this id in the set in force; call with the lock held. */
static const struct key *
find_key(const struct keyring *k, const char *key_id)
{
    for (size_t i = 0; i < k->set->n; i++)
        if (strcmp(k->set->keys[i].id, key_id) == 0)
            return &k->set->keys[i];
    return NULL;
}

bool
keyring_secret(void *arg, const char *key_id, char *buf, size_t size)
{
    struct keyring *k = arg;
    const struct key *key;
    bool found = false;

    pthread_rwlock_rdlock(&k->lock);
    key = find_key(k, key_id);
    if (key != NULL && strlen(key->secret) < size) {
        memcpy(buf, key->secret, strlen(key->secret) + 1);
        found = true;
    }
    pthread_rwlock_unlock(&k->lock);
    return found;
}

enum policy_effect
keyring_authorize(struct keyring *k, const char *key_id, const char *action, const char *resource,
                  char *name_out, size_t name_size)
{
    enum policy_effect e = POLICY_IMPLICIT_DENY;
    const struct key *key;

    if (name_out != NULL && name_size > 0)
        name_out[0] = '\0';
    pthread_rwlock_rdlock(&k->lock);
    key = find_key(k, key_id);
    if (key != NULL) {
        e = key->policy == NULL ? POLICY_ALLOW : policy_evaluate(key->policy, action, resource);
        if (name_out != NULL && name_size > 0)
            snprintf(name_out, name_size, "%s", key->name);
    }
    pthread_rwlock_unlock(&k->lock);
    return e;
}

void
keyring_close(struct keyring *k)
{
    if (k == NULL)
        return;
    pthread_rwlock_destroy(&k->lock);
    keyset_free(k->set);
    fileids_free(k->failed, k->nfailed);
    free(k->path);
    free(k);
}

/* ---- 3. the writers ----------------------------------------------------- */

/* An exclusive lock on "<path>.lock"; returns the fd or a negative code. */
static int
lock_file(const char *path, struct sl_diag *d)
{
    char *lock = sl_printf("%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int rc;

    if (fd < 0) {
        rc = sl_fail(d, -errno, "cannot open lock file '%s': %s", lock, strerror(errno));
        free(lock);
        return rc;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        rc = sl_fail(d, -errno, "cannot lock '%s': %s", lock, strerror(errno));
        close(fd);
        free(lock);
        return rc;
    }
    free(lock);
    return fd;
}

/* Write a file only its owner may read, atomically and durably. */
static int
write_private(const char *path, const void *data, size_t len, struct sl_diag *d)
{
    return sl_write_file_atomic_mode(path, data, len, 0600, d);
}

/*
 * Remove temp files an interrupted writer left beside path (they may hold
 * secrets).  Call with the lock held: no other writer is between its
 * create and rename then.
 */
static void
sweep_temps(const char *path)
{
    char *dir = sl_dirname(path);
    const char *base = sl_basename(path);
    size_t blen = strlen(base);
    DIR *dh = opendir(dir);
    struct dirent *e;

    while (dh != NULL && (e = readdir(dh)) != NULL) {
        size_t n = strlen(e->d_name);

        if (strncmp(e->d_name, ".tmp-", 5) == 0 && n > 5 + blen + 1 &&
            strcmp(e->d_name + n - blen, base) == 0 && e->d_name[n - blen - 1] == '-') {
            char *tmp = sl_printf("%s/%s", dir, e->d_name);

            unlink(tmp);
            free(tmp);
        }
    }
    if (dh != NULL)
        closedir(dh);
    free(dir);
}

static int
random_bytes(unsigned char *buf, size_t n, struct sl_diag *d)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return sl_fail(d, -errno, "cannot get random bytes: %s", strerror(errno));
        got += (size_t)r;
    }
    return 0;
}

/* "AKIA" and 16 base32 characters (80 random bits), as AWS's look. */
static int
new_key_id(char out[21], struct sl_diag *d)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char r[10];
    int rc = random_bytes(r, sizeof(r), d);

    if (rc < 0)
        return rc;
    memcpy(out, "AKIA", 4);
    for (int i = 0; i < 16; i++) {
        int bit = i * 5, byte = bit / 8, shift = bit % 8;
        unsigned v = ((unsigned)r[byte] << 8 | (byte + 1 < 10 ? r[byte + 1] : 0)) >> (11 - shift);

        out[4 + i] = b32[v & 31];
    }
    out[20] = '\0';
    return 0;
}

/* 40 characters of the base64 alphabet (240 random bits). */
static int
new_secret(char out[41], struct sl_diag *d)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char r[30];
    int rc = random_bytes(r, sizeof(r), d);

    if (rc < 0)
        return rc;
    for (int i = 0; i < 10; i++) {
        unsigned v = (unsigned)r[3 * i] << 16 | (unsigned)r[3 * i + 1] << 8 | r[3 * i + 2];

        out[4 * i] = b64[(v >> 18) & 63];
        out[4 * i + 1] = b64[(v >> 12) & 63];
        out[4 * i + 2] = b64[(v >> 6) & 63];
        out[4 * i + 3] = b64[v & 63];
    }
    out[40] = '\0';
    explicit_bzero(r, sizeof(r));
    return 0;
}

static void
now_iso(char out[32])
{
    char ts[32];

    sl_format_timestamp(sl_now_usec(), ts);
    /* "YYYY-MM-DDTHH:MM:SS" and a Z, without the fraction. */
    memcpy(out, ts, 19);
    out[19] = 'Z';
    out[20] = '\0';
}

static void
known_names(const struct credfile *f, struct sl_buf *out)
{
    for (size_t i = 0; i < f->n; i++)
        sl_buf_addf(out, "%s%s (%s)", i ? ", " : "", f->s[i].info.name, f->s[i].info.id);
}

int
keys_add(const char *path, const char *name, const char *policy_file,
         const char *const *known_actions, struct key_info *out, struct sl_diag *d)
{
    struct sl_buf text, policy_text;
    struct credfile f = {0};
    struct policy *p = NULL;
    char *dir = sl_dirname(path), *policy_copy = NULL;
    char id[21], secret[41], created[32], managed[KEYS_NAME_MAX + 32];
    bool exists;
    int lock = -1, rc;

    sl_buf_init(&text);
    sl_buf_init(&policy_text);
    if (!keys_name_valid(name)) {
        rc = sl_fail(d, SL_ERR_INPUT,
                     "cannot name a key '%.80s': names are 1 to 64 of "
                     "A-Z a-z 0-9 _ . -",
                     name);
        goto out;
    }
    if (strcmp(name, KEYS_ENV_NAME) == 0) {
        rc = sl_fail(d, SL_ERR_INPUT,
                     "cannot name a key '" KEYS_ENV_NAME "': it is the name "
                     "of the key from SLUICE_ACCESS_KEY_ID");
        goto out;
    }
    /* The policy is checked before anything is created. */
    if (policy_file != NULL) {
        rc = sl_read_file(policy_file, POLICY_MAX_BYTES, &policy_text, d);
        if (rc == 0)
            rc = policy_parse(policy_file, policy_text.data, policy_text.len, known_actions, &p, d);
        if (rc < 0)
            goto out;
    }
    rc = sl_mkdirs(dir, 0700, d);
    if (rc < 0)
        goto out;
    lock = lock_file(path, d);
    if (lock < 0) {
        rc = lock;
        goto out;
    }
    sweep_temps(path);
    rc = cred_load(path, &text, &f, &exists, NULL, d);
    if (rc < 0) {
        sl_diag_hint(d, "fix the credentials file first; nothing was changed");
        goto out;
    }
    snprintf(managed, sizeof(managed), "policies/%s.json", name);
    for (size_t i = 0; i < f.n; i++) {
        if (p != NULL && strcmp(f.s[i].info.policy, managed) == 0) {
            rc = sl_fail(d, SL_ERR_EXISTS,
                         "cannot copy the policy to %s: it is the policy of "
                         "key '%s' (%s:%d)",
                         managed, f.s[i].info.name, path, f.s[i].policy_line);
            sl_diag_hint(d, "pick another name");
            goto out;
        }
        if (strcmp(f.s[i].info.name, name) == 0) {
            rc = sl_fail(d, SL_ERR_EXISTS, "key '%s' exists already (%s:%d)", name, path,
                         f.s[i].info.line);
            sl_diag_hint(d,
                         "pick another name, or remove it first with 'sluice keys remove "
                         "%s'",
                         name);
            goto out;
        }
    }
    for (bool unique = false; !unique;) {
        rc = new_key_id(id, d);
        if (rc < 0)
            goto out;
        unique = true;
        for (size_t i = 0; i < f.n; i++)
            unique = unique && strcmp(f.s[i].info.id, id) != 0;
    }
    rc = new_secret(secret, d);
    if (rc < 0)
        goto out;
    now_iso(created);
    if (p != NULL) {
        char *pdir = sl_printf("%s/policies", dir);

        policy_copy = sl_printf("%s/%s.json", pdir, name);
        rc = sl_mkdirs(pdir, 0700, d);
        if (rc == 0)
            rc = write_private(policy_copy, policy_text.data, policy_text.len, d);
        free(pdir);
        if (rc < 0)
            goto out;
    }
    if (!exists)
        sl_buf_adds(&text, FILE_COMMENT);
    else if (text.len > 0 && text.data[text.len - 1] != '\n')
        sl_buf_addc(&text, '\n');
    sl_buf_addf(&text, "\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", name, id,
                secret);
    if (p != NULL)
        sl_buf_addf(&text, "policy = policies/%s.json\n", name);
    sl_buf_addf(&text, "created = %s\n", created);
    rc = write_private(path, text.data, text.len, d);
    if (rc < 0) {
        if (policy_copy != NULL)
            unlink(policy_copy);
        goto out;
    }
    memset(out, 0, sizeof(*out));
    set_field(out->name, sizeof(out->name), name, strlen(name));
    set_field(out->id, sizeof(out->id), id, strlen(id));
    set_field(out->secret, sizeof(out->secret), secret, strlen(secret));
    if (p != NULL)
        snprintf(out->policy, sizeof(out->policy), "policies/%s.json", name);
    set_field(out->created, sizeof(out->created), created, strlen(created));
out:
    explicit_bzero(secret, sizeof(secret));
    if (lock >= 0)
        close(lock);
    policy_free(p);
    free(policy_copy);
    free(dir);
    sl_buf_release(&policy_text);
    wipe_buf(&text);
    credfile_release(&f);
    return rc;
}

int
keys_remove(const char *path, const char *name_or_id, struct key_info *out, struct sl_diag *d)
{
    struct sl_buf text, rest;
    struct credfile f = {0};
    const struct section *s = NULL;
    bool exists;
    int lock, rc;

    sl_buf_init(&text);
    sl_buf_init(&rest);
    if (!sl_exists(path))
        return sl_fail(d, SL_ERR_NOTFOUND, "unknown key '%.80s': there is no credentials file %s",
                       name_or_id, path);
    lock = lock_file(path, d);
    if (lock < 0)
        return lock;
    sweep_temps(path);
    rc = cred_load(path, &text, &f, &exists, NULL, d);
    if (rc < 0) {
        sl_diag_hint(d, "fix the credentials file first; nothing was changed");
        goto out;
    }
    for (size_t i = 0; i < f.n && s == NULL; i++)
        if (strcmp(f.s[i].info.name, name_or_id) == 0 || strcmp(f.s[i].info.id, name_or_id) == 0)
            s = &f.s[i];
    if (s == NULL) {
        struct sl_buf names;

        sl_buf_init(&names);
        known_names(&f, &names);
        rc = sl_fail(d, SL_ERR_NOTFOUND,
                     "unknown key '%.80s': no key in %s has that name or "
                     "access key id",
                     name_or_id, path);
        if (f.n > 0)
            sl_diag_detail(d, "The keys are: %s.", names.data);
        else
            sl_diag_detail(d, "It holds no keys.");
        sl_buf_release(&names);
        goto out;
    }
    sl_buf_add(&rest, text.data, s->start);
    sl_buf_add(&rest, text.data + s->end, text.len - s->end);
    rc = write_private(path, rest.data, rest.len, d);
    if (rc < 0)
        goto out;
    /* The copy keys_add made goes with its key; a policy file the user
     * named by hand is theirs. */
    char managed[KEYS_NAME_MAX + 32];

    bool shared = false;

    snprintf(managed, sizeof(managed), "policies/%s.json", s->info.name);
    for (size_t i = 0; i < f.n; i++)
        shared = shared || (&f.s[i] != s && strcmp(f.s[i].info.policy, managed) == 0);
    if (strcmp(s->info.policy, managed) == 0 && !shared) {
        char *dir = sl_dirname(path), *pfile = sl_printf("%s/%s", dir, managed);

        if (unlink(pfile) == 0) {
            char *pdir = sl_printf("%s/policies", dir);

            sl_fsync_dir(pdir, NULL);
            free(pdir);
        }
        free(pfile);
        free(dir);
    }
    if (out != NULL) {
        *out = s->info;
        explicit_bzero(out->secret, sizeof(out->secret));
    }
out:
    close(lock);
    wipe_buf(&text);
    wipe_buf(&rest);
    credfile_release(&f);
    return rc;
}

int
keys_parse(const char *path, const char *text, size_t len, struct key_info **out, size_t *n,
           struct sl_diag *d)
{
    struct credfile f = {0};
    int rc = cred_parse(path, text, len, &f, d);

    if (rc == 0) {
        *out = sl_calloc(f.n ? f.n : 1, sizeof(**out));
        for (size_t i = 0; i < f.n; i++)
            (*out)[i] = f.s[i].info;
        *n = f.n;
    }
    credfile_release(&f);
    return rc;
}

void
keys_info_free(struct key_info *keys, size_t n)
{
    if (keys == NULL)
        return;
    explicit_bzero(keys, n * sizeof(*keys));
    free(keys);
}

int
keys_list(const char *path, struct key_info **out, size_t *n, struct sl_diag *d)
{
    struct sl_buf text;
    struct credfile f = {0};
    bool exists;
    int rc;

    sl_buf_init(&text);
    rc = cred_load(path, &text, &f, &exists, NULL, d);
    if (rc == 0) {
        *out = sl_calloc(f.n ? f.n : 1, sizeof(**out));
        for (size_t i = 0; i < f.n; i++) {
            (*out)[i] = f.s[i].info;
            explicit_bzero((*out)[i].secret, sizeof((*out)[i].secret));
        }
        *n = f.n;
    }
    wipe_buf(&text);
    credfile_release(&f);
    return rc;
}
