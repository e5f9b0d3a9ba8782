# table: the table format of curated, gold and feature tables (Iceberg v2).
LIB_SRCS += src/table/value.c src/table/manifest.c src/table/table.c src/table/update.c src/table/view.c
