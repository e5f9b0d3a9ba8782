/*
 * set.c - every model of a project: loading the folder, resolving gold
 * reads to models, the build order, and selection (see model.h).
 *
 * The dependency graph has an edge a -> b when model a reads gold.b.  The
 * build order is Kahn's: repeatedly the model that comes first by name
 * among those whose gold reads are all placed.  When none is left to place
 * there is a cycle among the rest; walking from the first of them along
 * unplaced reads must come back to a model already on the walk, and the
 * walk from there is the cycle reported.
 */
#include "models/model.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/banned.h"

/* The hint's list of models stops near this many bytes. */
#define NAMES_MAX 300

void
models_release(struct model_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        model_release(&set->v[i]);
    free(set->v);
    free(set->order);
    memset(set, 0, sizeof(*set));
}

static long
find_index(const struct model_set *set, const char *name)
{
    size_t lo = 0, hi = set->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(set->v[mid].name, name);

        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

const struct model *
models_find(const struct model_set *set, const char *name)
{
    long i = find_index(set, name);

    return i < 0 ? NULL : &set->v[i];
}

/* "a, b, c" (cut short with ", ..."), or "none" for an empty set. */
static void
name_list(const struct model_set *set, struct sl_buf *b)
{
    if (set->n == 0)
        sl_buf_adds(b, "none");
    for (size_t i = 0; i < set->n; i++) {
        if (b->len > NAMES_MAX) {
            sl_buf_addf(b, ", ... (%zu in all)", set->n);
            break;
        }
        sl_buf_addf(b, "%s%s", i ? ", " : "", set->v[i].name);
    }
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's model files (less ".sql"), sorted; *names NULL and
 * *n 0 for a missing folder. */
static int
list_files(const char *dir, char ***names, size_t *n, struct sl_diag *d)
{
    size_t cap = 0;
    struct dirent *e;
    DIR *dh;

    *names = NULL;
    *n = 0;
    dh = opendir(dir);
    if (dh == NULL) {
        if (errno == ENOENT)
            return 0;
        return sl_fail(d, -errno, "cannot read the models folder '%s': %s", dir,
                       strerror(errno));
    }
    while ((e = readdir(dh)) != NULL) {
        size_t len = strlen(e->d_name);
        struct stat st;
        char *path;

        if (e->d_name[0] == '.' || len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        path = sl_printf("%s/%s", dir, e->d_name);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue; /* a folder, or a link to nothing */
        }
        free(path);
        SL_GROW(*names, cap, *n + 1);
        (*names)[(*n)++] = sl_strndup(e->d_name, len - 4);
    }
    closedir(dh);
    if (*n > 0)
        qsort(*names, *n, sizeof(**names), cmp_names);
    return 0;
}

/* Each model's gold reads as indexes into set->v. */
static int
resolve(struct model_set *set, struct sl_diag *d)
{
    for (size_t i = 0; i < set->n; i++) {
        struct model *m = &set->v[i];

        for (size_t r = 0; r < m->nreads; r++) {
            const char *name;
            long k;

            if (strncmp(m->reads[r], "gold.", 5) != 0)
                continue;
            name = m->reads[r] + 5;
            k = find_index(set, name);
            if (k < 0) {
                struct sl_buf b;

                sl_fail(d, SL_ERR_INPUT, "model '%s' reads %s, but there is no model '%s'",
                        m->name, m->reads[r], name);
                sl_diag_at(d, m->path, m->read_lines[r], 0, NULL);
                sl_buf_init(&b);
                name_list(set, &b);
                sl_diag_hint(d, "Models (models/<name>.sql): %s.", b.data);
                sl_buf_release(&b);
                return SL_ERR_INPUT;
            }
            m->deps = sl_realloc(m->deps, (m->ndeps + 1) * sizeof(*m->deps));
            m->deps[m->ndeps++] = (size_t)k;
        }
    }
    return 0;
}

/* The line of m's first read of gold.<to's name>. */
static int
read_line(const struct model *m, const struct model *to)
{
    for (size_t r = 0; r < m->nreads; r++)
        if (strncmp(m->reads[r], "gold.", 5) == 0 && strcmp(m->reads[r] + 5, to->name) == 0)
            return m->read_lines[r];
    return 0;
}

/* Report the cycle among the unplaced models. */
static int
report_cycle(const struct model_set *set, const bool *placed, struct sl_diag *d)
{
    size_t *walk = sl_malloc(set->n * sizeof(*walk));
    long *pos = sl_malloc(set->n * sizeof(*pos));
    size_t nwalk = 0, cur = 0, start;
    struct sl_buf msg, det;

    for (size_t i = 0; i < set->n; i++)
        pos[i] = -1;
    while (placed[cur])
        cur++;
    /* Every unplaced model reads an unplaced one, so the walk closes. */
    while (pos[cur] < 0) {
        const struct model *m = &set->v[cur];
        size_t next = cur;

        pos[cur] = (long)nwalk;
        walk[nwalk++] = cur;
        for (size_t k = 0; k < m->ndeps; k++)
            if (!placed[m->deps[k]]) {
                next = m->deps[k];
                break;
            }
        cur = next;
    }
    start = (size_t)pos[cur];
    sl_buf_init(&msg);
    sl_buf_init(&det);
    sl_buf_adds(&msg, "models form a cycle: ");
    for (size_t i = start; i < nwalk; i++) {
        const struct model *m = &set->v[walk[i]];
        const struct model *to = &set->v[i + 1 < nwalk ? walk[i + 1] : walk[start]];

        sl_buf_addf(&msg, "%s -> ", m->name);
        sl_buf_addf(&det, "%s%s:%d reads gold.%s", i > start ? "; " : "", m->path,
                    read_line(m, to), to->name);
    }
    sl_buf_addf(&msg, "%s", set->v[walk[start]].name);
    sl_fail(d, SL_ERR_INPUT, "%s", msg.data);
    sl_diag_detail(d, "%s.", det.data);
    sl_diag_hint(d, "A model can only read gold tables built before it; use {{ this }} for "
                    "its own.");
    sl_diag_at(d, set->v[walk[start]].path,
               read_line(&set->v[walk[start]],
                         &set->v[start + 1 < nwalk ? walk[start + 1] : walk[start]]),
               0, NULL);
    sl_buf_release(&msg);
    sl_buf_release(&det);
    free(walk);
    free(pos);
    return SL_ERR_INPUT;
}

static int
build_order(struct model_set *set, struct sl_diag *d)
{
    bool *placed = sl_calloc(set->n ? set->n : 1, sizeof(*placed));
    size_t nplaced = 0;
    int rc = 0;

    set->order = sl_malloc((set->n ? set->n : 1) * sizeof(*set->order));
    while (nplaced < set->n) {
        size_t i;

        for (i = 0; i < set->n; i++) {
            bool ready = !placed[i];

            for (size_t k = 0; ready && k < set->v[i].ndeps; k++)
                ready = placed[set->v[i].deps[k]];
            if (ready)
                break;
        }
        if (i == set->n) {
            rc = report_cycle(set, placed, d);
            break;
        }
        placed[i] = true;
        set->order[nplaced++] = i;
    }
    free(placed);
    return rc;
}

int
models_load(const char *dir, const char *shown, struct model_set *set, struct sl_diag *d)
{
    char **names;
    size_t n;
    int rc;

    memset(set, 0, sizeof(*set));
    rc = list_files(dir, &names, &n, d);
    if (rc < 0)
        return rc;
    set->v = sl_calloc(n ? n : 1, sizeof(*set->v));
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *file = sl_printf("%s/%s.sql", dir, names[i]);
        char *path = sl_printf("%s/%s.sql", shown ? shown : dir, names[i]);
        struct sl_buf text;
        size_t len;
        char *data;

        sl_buf_init(&text);
        rc = sl_read_file(file, MODEL_MAX_BYTES, &text, d);
        free(file);
        if (rc < 0) {
            sl_diag_at(d, path, 0, 0, NULL);
            sl_buf_release(&text);
            free(path);
            break;
        }
        /* An empty buffer holds no memory of its own: give model_parse()
         * room for the NUL either way. */
        sl_buf_grow(&text, 1);
        data = sl_buf_detach(&text, &len);
        rc = model_parse(names[i], path, data, len, &set->v[i], d);
        set->n++;
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc == 0)
        rc = resolve(set, d);
    if (rc == 0)
        rc = build_order(set, d);
    return rc;
}

/* Mark i and what it reads (up) or what reads it (down), transitively. */
static void
mark(const struct model_set *set, size_t i, bool up, bool *chosen, bool *seen)
{
    if (seen[i])
        return;
    seen[i] = true;
    chosen[i] = true;
    if (up) {
        for (size_t k = 0; k < set->v[i].ndeps; k++)
            mark(set, set->v[i].deps[k], up, chosen, seen);
        return;
    }
    for (size_t j = 0; j < set->n; j++)
        for (size_t k = 0; k < set->v[j].ndeps; k++)
            if (set->v[j].deps[k] == i)
                mark(set, j, up, chosen, seen);
}

int
models_select(const struct model_set *set, const char *const *sel, size_t nsel, bool *chosen,
              struct sl_diag *d)
{
    bool *seen = sl_calloc(set->n ? set->n : 1, sizeof(*seen));
    int rc = 0;

    for (size_t i = 0; i < set->n; i++)
        chosen[i] = nsel == 0;
    for (size_t s = 0; s < nsel; s++) {
        const char *p = sel[s];
        size_t len = strlen(p);
        bool up = false, down = false;
        char *name;
        long k;

        if (len > 0 && p[0] == '+') {
            up = true;
            p++;
            len--;
        }
        if (len > 0 && p[len - 1] == '+') {
            down = true;
            len--;
        }
        name = sl_strndup(p, len);
        k = find_index(set, name);
        if (k < 0) {
            struct sl_buf b;

            if (len == 0)
                rc = sl_fail(d, SL_ERR_INPUT, "empty model selector '%s'", sel[s]);
            else
                rc = sl_fail(d, SL_ERR_INPUT, "unknown model '%s' in selector '%s'", name,
                             sel[s]);
            sl_buf_init(&b);
            name_list(set, &b);
            sl_diag_hint(d, "Select NAME, +NAME (with what it reads), NAME+ (with what reads "
                            "it) or +NAME+; models: %s.", b.data);
            sl_buf_release(&b);
            free(name);
            break;
        }
        free(name);
        chosen[k] = true;
        if (up) {
            memset(seen, 0, set->n * sizeof(*seen));
            mark(set, (size_t)k, true, chosen, seen);
        }
        if (down) {
            memset(seen, 0, set->n * sizeof(*seen));
            mark(set, (size_t)k, false, chosen, seen);
        }
    }
    free(seen);
    return rc;
}
