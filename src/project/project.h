/*
 * project.h - a sluice project: sluice.yaml and its sources.
 *
 * A project is a folder with sluice.yaml, found like git finds its
 * repository: in the current folder or the nearest parent, or named with
 * --project.  sluice.yaml says where the lake is and holds the settings of
 * each module (the key tables come from the modules; see core/conf.h).
 * sources/<name>.yaml each declare one source and its data contracts.
 */
#ifndef SL_PROJECT_H
#define SL_PROJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/diag.h"
#include "core/mem.h"
#include "project/contract.h"
#include "project/products.h"

/* Settings of the engine (DuckDB). */
struct engine_settings {
    int64_t threads;       /* 0: one per core */
    int64_t memory_limit;  /* bytes */
};

/* Settings of the raw -> curated transform. */
struct transform_settings {
    int64_t zstd_level;       /* Parquet compression level */
    int64_t row_group_rows;   /* rows per Parquet row group */
    int64_t max_record_bytes; /* a longer record is quarantined */
    int64_t max_file_rows;    /* merge a partition's files beyond this */
    int64_t compact_deleted_percent; /* rewrite a file with more deleted */
    int64_t keep_snapshots;   /* a table keeps at least its newest N snapshots */
    int64_t keep_snapshots_for; /* ... and every snapshot younger than this (s) */
};

/* Table maintenance: `sluice maintain`, and how often `sluice serve` runs it. */
struct maintenance_settings {
    int64_t every;               /* seconds between runs in sluice serve; 0: never */
    bool compact;                /* rewrite small files and deletes */
    bool orphans;                /* remove files no snapshot references */
    int64_t orphans_after;       /* ... once they are this many seconds old */
};

/* Gold model builds: `sluice build`. */
struct build_settings {
    int64_t threads;             /* models built at once */
};

/* Where quality gates' alerts go (quality/alert.h), besides the log and
 * /metrics. */
struct alerts_settings {
    char *webhooks;              /* URLs, separated by commas or spaces; NULL: none */
    char *secret_header;         /* a header sent with each POST, or NULL ... */
    char *secret_env;            /* ... whose value is this environment variable's */
    int64_t max_attempts;        /* deliveries tried before an alert is given up */
    int64_t retry_after;         /* seconds before the first retry; doubles after */
    int64_t timeout;             /* seconds one delivery may take */
};

/* State machines' executions (flow/), as `sluice serve` runs them. */
struct flows_settings {
    int64_t workers;             /* executions run at once */
    int64_t lease;               /* seconds a runner's claim on an execution lasts unrenewed */
};

/* Settings of `sluice serve`. */
struct server_settings {
    char *listen;                /* "ADDRESS:PORT" */
    char *tls_cert, *tls_key;    /* PEM files: HTTPS instead of HTTP */
    char *tls_min_version;       /* "1.2" or "1.3" */
    int64_t max_connections;
    int64_t max_per_address;     /* connections from one client IP */
    int64_t timeout;             /* seconds an idle or stalled connection may take */
    int64_t header_timeout;      /* seconds for a request's line and headers */
    int64_t min_body_rate;       /* bytes/s a body must average after body_grace */
    int64_t body_grace;          /* seconds before min_body_rate applies */
    int64_t max_inflight;        /* request bodies held in memory at once */
    bool fsync;                  /* acknowledge records only once fsynced */
    int64_t shard_write_bytes;   /* default write limits of API-created streams */
    int64_t shard_write_records;
    char *region;                /* in ARNs */
    int64_t iterator_ttl;        /* seconds a shard iterator stays valid */
    int64_t lease_ttl;           /* seconds a node's stream lease lasts unrenewed */
    char *audit_log;             /* refused requests, JSON lines */
    char *credentials;           /* access keys file, as written (server/keys.h) */
};

/* Everything sluice.yaml can say. */
struct project_config {
    char *lake;                        /* lake location, relative to the project */
    char *catalog;                     /* catalog location as written, or NULL */
    struct engine_settings engine;
    struct transform_settings transform;
    struct maintenance_settings maintenance;
    struct build_settings build;
    struct alerts_settings alerts;
    struct flows_settings flows;
    struct server_settings server;
    struct product *products;          /* the data products (products.h) */
    size_t nproducts;
};

struct project {
    char *root;           /* absolute path of the project folder */
    char *config_path;    /* root/sluice.yaml */
    char *lake;           /* absolute lake location */
    char *catalog;        /* catalog location for catalog_open() */
    char *credentials;    /* absolute path of server.credentials */
    struct project_config config;
    struct sl_arena arena; /* owns config strings and loaded sources */
};

/* The configuration sections, for loading, help and the init sample. */
extern const struct sl_conf_section project_conf_sections[];

/*
 * Find and load the project: in dir if given (it must hold sluice.yaml),
 * else in the current folder or its nearest parent.  Free with
 * project_free().
 */
int project_open(const char *dir, struct project **out, struct sl_diag *d);
void project_free(struct project *p);

/*
 * Load sources/<name>.yaml.  The source lives in the project's arena.
 * SL_ERR_NOTFOUND (with words) for an unknown source.
 */
int project_source(struct project *p, const char *name, const struct source **out,
                   struct sl_diag *d);
/* Names of all sources (sorted), into the project's arena. */
int project_source_names(struct project *p, const char ***names, size_t *n,
                         struct sl_diag *d);

/*
 * Write a new project into dir: sluice.yaml, an example source and an
 * example data file.  Refuses a folder that already holds sluice.yaml.
 */
int project_init(const char *dir, struct sl_diag *d);

#endif
