# ingest: batch landing into the raw zone (streams and delivery later).
LIB_SRCS += src/ingest/land.c
