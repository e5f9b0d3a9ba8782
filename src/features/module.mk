# features: the feature store; for now its online store (the latest record
# per entity), with an embedded LMDB back end and a Redis one.
LIB_SRCS += src/features/online.c src/features/online_lmdb.c src/features/online_redis.c
