# transform: raw -> curated (readers, row builder, dedup, Parquet output).
LIB_SRCS += src/transform/rows.c src/transform/colmap.c src/transform/read_json.c \
            src/transform/read_csv.c src/transform/read_avro.c src/transform/load.c \
            src/transform/merge.c src/transform/write.c src/transform/quarantine.c \
            src/transform/run.c src/transform/compact.c src/transform/keys.c src/transform/views.c \
            src/transform/drift.c
