# store: object storage for the lake (local folder; S3 later) and its layout.
LIB_SRCS += src/store/store.c src/store/local.c src/store/layout.c
