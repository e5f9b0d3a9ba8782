/*
 * project.c - finding and loading a project (see project.h).
 *
 * The key tables below are the whole of sluice.yaml.  Each section belongs
 * to the stage named in it; they are gathered here because the project is
 * what reads the file, and the stages take their settings as plain structs.
 */
#include "project/project.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/yaml.h"
#include "project/products.h"
#include "store/layout.h"
#include "core/banned.h"

#define MAX_CONFIG_BYTES (1 << 20)

static const struct sl_conf_key top_keys[] = {
    {"lake", SL_CONF_STRING, "./lake", 0, 0, offsetof(struct project_config, lake),
     "where the lake lives: a folder, relative to this file or absolute"},
    {"catalog", SL_CONF_STRING, NULL, 0, 0, offsetof(struct project_config, catalog),
     "a PostgreSQL catalog shared by several sluice nodes: postgresql://USER@HOST:PORT/DB "
     "or 'host=... dbname=...' (password from PGPASSWORD or ~/.pgpass); unset: a SQLite "
     "file in the lake"},
    {NULL},
};

static const struct sl_conf_key engine_keys[] = {
    {"threads", SL_CONF_INT, "0", 0, 256, offsetof(struct engine_settings, threads),
     "worker threads for the SQL engine; 0 means one per core"},
    {"memory_limit", SL_CONF_BYTES, "1GiB", 64LL << 20, 1LL << 50,
     offsetof(struct engine_settings, memory_limit),
     "memory the SQL engine may use before it spills to disk"},
    {NULL},
};

static const struct sl_conf_key transform_keys[] = {
    {"zstd_level", SL_CONF_INT, "3", 1, 22, offsetof(struct transform_settings, zstd_level),
     "zstd level of curated Parquet files (1 fastest, 22 smallest)"},
    {"row_group_rows", SL_CONF_INT, "122880", 2048, 100000000,
     offsetof(struct transform_settings, row_group_rows), "rows per Parquet row group"},
    {"max_record_bytes", SL_CONF_BYTES, "16MiB", 1024, 1LL << 30,
     offsetof(struct transform_settings, max_record_bytes),
     "a longer record (line, CSV row, JSON value) is quarantined"},
    {"max_file_rows", SL_CONF_INT, "4000000", 1000, 1000000000,
     offsetof(struct transform_settings, max_file_rows),
     "a partition file that would grow past this many rows gets a sibling instead"},
    {"compact_deleted_percent", SL_CONF_INT, "25", 0, 100,
     offsetof(struct transform_settings, compact_deleted_percent),
     "a data file with more of its rows deleted than this is rewritten without them; "
     "below it, replaced rows are recorded in a deletion file (0: always rewrite)"},
    {"keep_snapshots", SL_CONF_INT, "100", 1, 1000000000,
     offsetof(struct transform_settings, keep_snapshots),
     "a curated table keeps at least its newest this many snapshots for time travel; "
     "older ones expire after each run (with the files only they read)"},
    {"keep_snapshots_for", SL_CONF_INT, "0", 0, 100LL * 365 * 86400,
     offsetof(struct transform_settings, keep_snapshots_for),
     "seconds: a snapshot younger than this never expires, however many there are"},
    {NULL},
};

static const struct sl_conf_key maintenance_keys[] = {
    {"every", SL_CONF_INT, "3600", 0, 365LL * 86400,
     offsetof(struct maintenance_settings, every),
     "seconds between the maintenance runs of sluice serve (sluice maintain on every "
     "curated table); 0: never"},
    {"compact", SL_CONF_BOOL, "true", 0, 0, offsetof(struct maintenance_settings, compact),
     "rewrite each partition's small files and files with deleted rows into files of up "
     "to transform.max_file_rows rows (a replace snapshot)"},
    {"orphans", SL_CONF_BOOL, "true", 0, 0, offsetof(struct maintenance_settings, orphans),
     "remove the files of a table that no snapshot, metadata or catalog record references"},
    {"orphans_after", SL_CONF_INT, "86400", 600, 100LL * 365 * 86400,
     offsetof(struct maintenance_settings, orphans_after),
     "seconds an unreferenced file must have been there before it is removed (a commit "
     "in flight keeps its files)"},
    {NULL},
};

static const struct sl_conf_key build_keys[] = {
    {"threads", SL_CONF_INT, "2", 1, 64, offsetof(struct build_settings, threads),
     "models sluice build builds at once (those that do not read each other), each "
     "with its own engine"},
    {NULL},
};

static const struct sl_conf_key server_keys[] = {
    {"listen", SL_CONF_STRING, "127.0.0.1:4567", 0, 0, offsetof(struct server_settings, listen),
     "address and port of the HTTP listener (loopback unless you open it up)"},
    {"tls_cert", SL_CONF_STRING, NULL, 0, 0, offsetof(struct server_settings, tls_cert),
     "PEM certificate: serve HTTPS instead of HTTP (Fluent Bit needs it)"},
    {"tls_key", SL_CONF_STRING, NULL, 0, 0, offsetof(struct server_settings, tls_key),
     "PEM private key of tls_cert"},
    {"tls_min_version", SL_CONF_STRING, "1.2", 0, 0,
     offsetof(struct server_settings, tls_min_version),
     "oldest TLS version accepted: \"1.2\" or \"1.3\""},
    {"max_connections", SL_CONF_INT, "256", 1, 65536,
     offsetof(struct server_settings, max_connections),
     "clients connected at once; past it an unproductive one is dropped, or the new "
     "one answered 503"},
    {"max_per_address", SL_CONF_INT, "64", 1, 65536,
     offsetof(struct server_settings, max_per_address),
     "connections from one client IP address at once (same treatment past it)"},
    {"timeout", SL_CONF_INT, "30", 1, 3600, offsetof(struct server_settings, timeout),
     "seconds an idle keep-alive connection, or one that makes no progress, is kept"},
    {"header_timeout", SL_CONF_INT, "20", 1, 3600,
     offsetof(struct server_settings, header_timeout),
     "seconds from a request's first byte (or the connection, TLS handshake included) "
     "to the end of its headers"},
    {"min_body_rate", SL_CONF_INT, "500", 0, 1LL << 30,
     offsetof(struct server_settings, min_body_rate),
     "bytes per second a request body must average after body_grace; 0: no minimum"},
    {"body_grace", SL_CONF_INT, "10", 1, 3600, offsetof(struct server_settings, body_grace),
     "seconds a request body may take before min_body_rate applies"},
    {"max_inflight", SL_CONF_BYTES, "128MiB", 1LL << 20, 1LL << 40,
     offsetof(struct server_settings, max_inflight),
     "request bodies held in memory at once; past it requests are throttled"},
    {"fsync", SL_CONF_BOOL, "true", 0, 0, offsetof(struct server_settings, fsync),
     "acknowledge records only once they are on disk (group commit)"},
    {"shard_write_bytes", SL_CONF_BYTES, "1MiB", 0, 1LL << 40,
     offsetof(struct server_settings, shard_write_bytes),
     "bytes per second a shard of an API-created stream takes; 0: no limit"},
    {"shard_write_records", SL_CONF_INT, "1000", 0, 1LL << 40,
     offsetof(struct server_settings, shard_write_records),
     "records per second a shard of an API-created stream takes; 0: no limit"},
    {"region", SL_CONF_STRING, "us-east-1", 0, 0, offsetof(struct server_settings, region),
     "the region named in ARNs"},
    {"iterator_ttl", SL_CONF_INT, "300", 1, 86400,
     offsetof(struct server_settings, iterator_ttl),
     "seconds a shard iterator stays valid (Kinesis: 300)"},
    {"lease_ttl", SL_CONF_INT, "15", 1, 3600, offsetof(struct server_settings, lease_ttl),
     "seconds a node's lease on a stream lasts unrenewed (renewed every third of it); "
     "when its node dies, another node sharing the catalog takes the stream over after it"},
    {"audit_log", SL_CONF_STRING, ".sluice/audit.log", 0, 0,
     offsetof(struct server_settings, audit_log),
     "requests refused by the security layer, one JSON line each (relative to the project)"},
    {"credentials", SL_CONF_STRING, ".sluice/credentials", 0, 0,
     offsetof(struct server_settings, credentials),
     "access keys and their policies ('sluice keys'), relative to this file or absolute; "
     "only its owner may read it"},
    {NULL},
};

static const struct sl_conf_key alerts_keys[] = {
    {"webhooks", SL_CONF_STRING, NULL, 0, 0, offsetof(struct alerts_settings, webhooks),
     "URLs that receive each alert as a JSON POST with a Slack-ready \"text\", "
     "separated by commas"},
    {"secret_header", SL_CONF_STRING, NULL, 0, 0,
     offsetof(struct alerts_settings, secret_header),
     "a header sent with each POST (X-Sluice-Token, say), whose value ..."},
    {"secret_env", SL_CONF_STRING, NULL, 0, 0, offsetof(struct alerts_settings, secret_env),
     "... is this environment variable's, so that no secret is written here"},
    {"max_attempts", SL_CONF_INT, "8", 1, 100, offsetof(struct alerts_settings, max_attempts),
     "deliveries tried before an alert is given up (it stays in 'sluice alerts')"},
    {"retry_after", SL_CONF_INT, "5", 1, 86400, offsetof(struct alerts_settings, retry_after),
     "seconds before the first retry; each retry waits twice as long, at most an hour"},
    {"timeout", SL_CONF_INT, "10", 1, 600, offsetof(struct alerts_settings, timeout),
     "seconds one delivery may take"},
    {NULL},
};

static const struct sl_conf_key flows_keys[] = {
    {"workers", SL_CONF_INT, "4", 1, 256, offsetof(struct flows_settings, workers),
     "executions of state machines run at once by sluice serve (more wait their turn)"},
    {"lease", SL_CONF_INT, "60", 5, 86400, offsetof(struct flows_settings, lease),
     "seconds a process's claim on a running execution lasts unrenewed; past it, "
     "another node resumes the execution"},
    {NULL},
};

const struct sl_conf_section project_conf_sections[] = {
    {"", top_keys, 0, "sluice project"},
    {"engine", engine_keys, offsetof(struct project_config, engine),
     "the SQL engine (DuckDB) that writes Parquet and answers queries"},
    {"transform", transform_keys, offsetof(struct project_config, transform),
     "raw -> curated: validation, dedup and Parquet output"},
    {"maintenance", maintenance_keys, offsetof(struct project_config, maintenance),
     "table maintenance: compaction, snapshot expiry (transform.keep_snapshots) and "
     "orphan files"},
    {"build", build_keys, offsetof(struct project_config, build),
     "sluice build: gold models into Iceberg tables"},
    {"alerts", alerts_keys, offsetof(struct project_config, alerts),
     "quality gates' alerts: webhooks, retried with backoff until delivered"},
    {"flows", flows_keys, offsetof(struct project_config, flows),
     "state machines (flows/*.asl.json): their executions in sluice serve"},
    {"server", server_keys, offsetof(struct project_config, server),
     "sluice serve: the Kinesis and Firehose APIs"},
    {NULL},
};

static char *
find_root(const char *start)
{
    char *dir = sl_abspath(start);

    for (;;) {
        char *cfg = sl_printf("%s/sluice.yaml", dir);
        bool found = sl_exists(cfg);

        free(cfg);
        if (found)
            return dir;
        char *up = sl_dirname(dir);

        /* At the top - "/", or "." when the current folder is gone and
         * has no absolute name - there is nothing further up. */
        if (strcmp(up, dir) == 0) {
            free(up);
            free(dir);
            return NULL;
        }
        free(dir);
        dir = up;
    }
}

/*
 * Take the products mapping (products.h) out of root, whose other keys the
 * conf tables describe: *settings gets root without it (a shallow copy in
 * a, or root itself), *products its value or NULL.
 */
static void
split_products(const struct sl_yaml *root, struct sl_arena *a, const struct sl_yaml **settings,
               const struct sl_yaml **products)
{
    struct sl_yaml *copy;

    *settings = root;
    *products = root->kind == SL_YAML_MAP ? sl_yaml_get(root, "products") : NULL;
    if (*products == NULL)
        return;
    copy = sl_arena_zalloc(a, sizeof(*copy));
    *copy = *root;
    copy->keys = sl_arena_alloc(a, root->n * sizeof(*copy->keys));
    copy->items = sl_arena_alloc(a, root->n * sizeof(*copy->items));
    copy->n = 0;
    for (size_t i = 0; i < root->n; i++)
        if (strcmp(root->keys[i]->str, "products") != 0) {
            copy->keys[copy->n] = root->keys[i];
            copy->items[copy->n++] = root->items[i];
        }
    *settings = copy;
}

static int
load_config(struct project *p, struct sl_diag *d)
{
    const struct sl_yaml *settings = NULL, *products = NULL;
    struct sl_buf text;
    struct sl_yaml *root;
    int rc;

    sl_buf_init(&text);
    sl_conf_defaults(project_conf_sections, &p->config, &p->arena);
    rc = sl_read_file(p->config_path, MAX_CONFIG_BYTES, &text, d);
    if (rc == 0)
        rc = sl_yaml_parse(p->config_path, text.data, text.len, &p->arena, &root, d);
    if (rc == 0)
        split_products(root, &p->arena, &settings, &products);
    if (rc == 0)
        rc = sl_conf_load(project_conf_sections, &p->config, settings, p->config_path,
                          &p->arena, d);
    if (rc == 0)
        rc = project_products_parse(products, p->config_path, &p->arena, &p->config.products,
                                    &p->config.nproducts, d);
    sl_buf_release(&text);
    if (rc < 0)
        return rc;
    if (p->config.lake == NULL || p->config.lake[0] == '\0') {
        sl_fail(d, SL_ERR_INPUT, "key 'lake' must not be empty");
        sl_diag_at(d, p->config_path, 0, 0, NULL);
        return SL_ERR_INPUT;
    }
    if (p->config.lake[0] == '/' || strstr(p->config.lake, "://") != NULL)
        p->lake = sl_strdup(p->config.lake);
    else
        p->lake = sl_printf("%s/%s", p->root,
                            strncmp(p->config.lake, "./", 2) == 0 ? p->config.lake + 2
                                                                   : p->config.lake);
    if (p->config.server.credentials == NULL || p->config.server.credentials[0] == '\0') {
        sl_fail(d, SL_ERR_INPUT, "key 'server.credentials' must not be empty");
        sl_diag_at(d, p->config_path, 0, 0, NULL);
        return SL_ERR_INPUT;
    }
    if (p->config.server.credentials[0] == '/')
        p->credentials = sl_strdup(p->config.server.credentials);
    else
        p->credentials =
            sl_printf("%s/%s", p->root,
                      strncmp(p->config.server.credentials, "./", 2) == 0
                          ? p->config.server.credentials + 2
                          : p->config.server.credentials);
    if (p->config.catalog != NULL && p->config.catalog[0] != '\0') {
        rc = catalog_location_check(p->config.catalog, d);
        if (rc < 0) {
            sl_diag_at(d, p->config_path, 0, 0, "catalog");
            return rc;
        }
        p->catalog = sl_strdup(p->config.catalog);
    } else {
        char *file = layout_catalog_file(p->lake);

        p->catalog = sl_printf("sqlite:%s", file);
        free(file);
    }
    return 0;
}

int
project_open(const char *dir, struct project **out, struct sl_diag *d)
{
    struct project *p;
    char *root;
    int rc;

    if (dir != NULL) {
        root = sl_abspath(dir);
        char *cfg = sl_printf("%s/sluice.yaml", root);

        if (!sl_exists(cfg)) {
            sl_fail(d, SL_ERR_NOTFOUND, "'%s' is not a sluice project: it has no sluice.yaml",
                    dir);
            sl_diag_hint(d, "create one with 'sluice init %s'", dir);
            free(cfg);
            free(root);
            return SL_ERR_NOTFOUND;
        }
        free(cfg);
    } else {
        root = find_root(".");
        if (root == NULL) {
            sl_fail(d, SL_ERR_NOTFOUND,
                    "not in a sluice project (no sluice.yaml here or in any parent folder)");
            sl_diag_hint(d, "run 'sluice init DIR' to create one, or pass --project DIR");
            return SL_ERR_NOTFOUND;
        }
    }
    p = sl_calloc(1, sizeof(*p));
    sl_arena_init(&p->arena, 0);
    p->root = root;
    p->config_path = sl_printf("%s/sluice.yaml", root);
    rc = load_config(p, d);
    if (rc < 0) {
        project_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void
project_free(struct project *p)
{
    if (p == NULL)
        return;
    sl_arena_release(&p->arena);
    free(p->root);
    free(p->config_path);
    free(p->lake);
    free(p->catalog);
    free(p->credentials);
    free(p);
}

static bool
source_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Sources are read from server threads too (delivery, Firehose), and the
 * project's arena is not thread-safe. */
static pthread_mutex_t project_mu = PTHREAD_MUTEX_INITIALIZER;

static int load_source(struct project *p, const char *name, const struct source **out,
                       struct sl_diag *d);

int
project_source(struct project *p, const char *name, const struct source **out,
               struct sl_diag *d)
{
    int rc;

    pthread_mutex_lock(&project_mu);
    rc = load_source(p, name, out, d);
    pthread_mutex_unlock(&project_mu);
    return rc;
}

static int
load_source(struct project *p, const char *name, const struct source **out,
            struct sl_diag *d)
{
    struct sl_buf text;
    struct sl_yaml *root;
    struct source *s;
    char *path, *rel;
    int rc;

    if (!source_name_valid(name)) {
        sl_fail(d, SL_ERR_INPUT, "invalid source name '%s'", name);
        sl_diag_hint(d, "source names use lower-case letters, digits and '_', starting with "
                        "a letter");
        return SL_ERR_INPUT;
    }
    rel = sl_arena_printf(&p->arena, "sources/%s.yaml", name);
    path = sl_printf("%s/%s", p->root, rel);
    if (!sl_exists(path)) {
        const char **names;
        size_t n = 0;
        struct sl_buf known;

        sl_buf_init(&known);
        if (project_source_names(p, &names, &n, NULL) == 0)
            for (size_t i = 0; i < n; i++)
                sl_buf_addf(&known, "%s%s", i ? ", " : "", names[i]);
        sl_fail(d, SL_ERR_NOTFOUND, "unknown source '%s': there is no %s", name, rel);
        if (n > 0)
            sl_diag_hint(d, "known sources: %s", known.data);
        else
            sl_diag_hint(d, "declare it in %s", rel);
        sl_buf_release(&known);
        free(path);
        return SL_ERR_NOTFOUND;
    }
    sl_buf_init(&text);
    rc = sl_read_file(path, MAX_CONFIG_BYTES, &text, d);
    free(path);
    if (rc == 0)
        rc = sl_yaml_parse(rel, text.data, text.len, &p->arena, &root, d);
    if (rc == 0) {
        s = sl_arena_zalloc(&p->arena, sizeof(*s));
        /* Node strings live in the arena, so the source may point at them. */
        rc = contract_parse_source(name, rel, root, &p->arena, s, d);
        if (rc == 0)
            *out = s;
    }
    sl_buf_release(&text);
    return rc;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
project_source_names(struct project *p, const char ***names, size_t *n, struct sl_diag *d)
{
    char *dir = sl_printf("%s/sources", p->root);
    DIR *dh = opendir(dir);
    struct dirent *e;
    const char **list = NULL;
    size_t cap = 0, count = 0;

    *names = NULL;
    *n = 0;
    free(dir);
    if (dh == NULL)
        return 0;
    while ((e = readdir(dh)) != NULL) {
        size_t len = strlen(e->d_name);

        if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char *name = sl_arena_strndup(&p->arena, e->d_name, len - 5);

        if (!source_name_valid(name))
            continue;
        SL_GROW(list, cap, count + 1);
        list[count++] = name;
    }
    closedir(dh);
    if (count > 1)
        qsort(list, count, sizeof(*list), cmp_name);
    if (count > 0) {
        *names = sl_arena_alloc(&p->arena, count * sizeof(*list));
        memcpy(*names, list, count * sizeof(*list));
    }
    free(list);
    *n = count;
    (void)d;
    return 0;
}

/* ---- sluice init ---------------------------------------------------------- */

static const char example_source[] =
    "# A source: where records come from and the contract they must meet.\n"
    "# Each contract version lists its columns; a later version of the same\n"
    "# major may only add nullable columns.  Any other change needs a new\n"
    "# major version (2.0), which gets its own curated table.\n"
    "system: crm                       # the system that sends this data\n"
    "contracts:\n"
    "  - version: \"1.0\"\n"
    "    key: [customer_id]            # one row per key in the curated table\n"
    "    event_time: updated_at        # the latest event wins; partitions the table\n"
    "    partition_by: auto            # or day, month, year, hour, none,\n"
    "                                  # bucket(16, customer_id)\n"
    "    unknown_fields: reject        # a record with other fields is quarantined\n"
    "    columns:\n"
    "      - {name: customer_id, type: string, required: true}\n"
    "      - {name: name, type: string, required: true}\n"
    "      - {name: email, type: string}\n"
    "      - {name: country, type: string}\n"
    "      - {name: signup_date, type: date}\n"
    "      - {name: lifetime_value, type: \"decimal(12,2)\"}\n"
    "      - {name: is_active, type: bool}\n"
    "      - {name: updated_at, type: timestamp, required: true}\n";

static const char example_data[] =
    "customer_id,name,email,country,signup_date,lifetime_value,is_active,updated_at\n"
    "C001,Ada Lovelace,ada@example.com,GB,2024-01-15,1520.50,true,2026-10-01T09:00:00Z\n"
    "C002,Grace Hopper,grace@example.com,US,2024-03-02,980.00,true,2026-10-01T10:30:00Z\n"
    "C003,Alan Turing,alan@example.com,GB,2024-05-20,,false,2026-10-02T08:15:00Z\n"
    "C002,Grace Hopper,grace.hopper@example.com,US,2024-03-02,1010.25,true,"
    "2026-10-03T11:00:00Z\n"
    "C004,Edsger Dijkstra,,NL,not-a-date,12.00,true,2026-10-03T12:00:00Z\n";

static int
write_new(const char *path, const char *text, struct sl_diag *d)
{
    char *dir = sl_dirname(path);
    int rc = sl_mkdirs(dir, 0755, d);

    free(dir);
    if (rc == 0)
        rc = sl_write_file_atomic(path, text, strlen(text), d);
    return rc;
}

int
project_init(const char *dir, struct sl_diag *d)
{
    struct sl_buf cfg;
    char *path;
    int rc;

    path = sl_printf("%s/sluice.yaml", dir);
    if (sl_exists(path)) {
        sl_fail(d, SL_ERR_EXISTS, "'%s' already holds a sluice project", dir);
        free(path);
        return SL_ERR_EXISTS;
    }
    sl_buf_init(&cfg);
    sl_buf_adds(&cfg, "# sluice project settings.  Every key is shown with its default;\n"
                      "# uncomment a section to change it.\n");
    sl_conf_sample(project_conf_sections, &cfg);
    sl_buf_adds(&cfg, project_products_sample);
    rc = sl_mkdirs(dir, 0755, d);
    if (rc == 0) {
        char *src = sl_printf("%s/sources/customers.yaml", dir);
        char *data = sl_printf("%s/examples/customers.csv", dir);
        char *ign = sl_printf("%s/.gitignore", dir);

        rc = write_new(src, example_source, d);
        if (rc == 0)
            rc = write_new(data, example_data, d);
        if (rc == 0)
            /* The lake is data; .sluice/ holds the access keys (server.credentials). */
            rc = write_new(ign, "/lake/\n/.sluice/\n", d);
        /* sluice.yaml last: its presence marks a complete project. */
        if (rc == 0)
            rc = sl_write_file_atomic(path, cfg.data, cfg.len, d);
        free(src);
        free(data);
        free(ign);
    }
    sl_buf_release(&cfg);
    free(path);
    return rc;
}
