# catalog: transactional metadata, one back end per file (sqlite.c, postgres.c)
# under one schema (schema.c) and one set of domain verbs.
LIB_SRCS += src/catalog/catalog.c src/catalog/schema.c src/catalog/sqlite.c \
            src/catalog/postgres.c src/catalog/sources.c src/catalog/raw.c \
            src/catalog/runs.c src/catalog/tables.c src/catalog/streams.c \
            src/catalog/iceberg.c src/catalog/builds.c src/catalog/quality.c \
            src/catalog/alerts.c src/catalog/drift.c src/catalog/flows.c
