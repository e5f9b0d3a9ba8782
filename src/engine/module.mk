# engine: the one place that includes duckdb.h.
LIB_SRCS += src/engine/duckdb.c src/engine/print.c src/engine/bounds.c src/engine/tables.c
