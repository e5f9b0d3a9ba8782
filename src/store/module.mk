# store: object storage for the lake (local folder; S3 later).
LIB_SRCS += src/store/store.c src/store/local.c
