# ingest: batch landing, stream shard logs, delivery into the raw zone.
LIB_SRCS += $(wildcard src/ingest/*.c)
