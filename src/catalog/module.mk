# catalog: transactional metadata (SQLite; PostgreSQL later).
LIB_SRCS += src/catalog/sqlite.c
