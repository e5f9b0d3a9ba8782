# core: project-wide helpers (errors, logging, memory, buffers, hashing,
# time, UTF-8, files, YAML, configuration tables, fault points, child
# processes).
LIB_SRCS += src/core/diag.c src/core/log.c src/core/mem.c src/core/buf.c \
            src/core/hash.c src/core/time.c src/core/utf8.c src/core/num.c \
            src/core/fs.c src/core/type.c src/core/yaml.c src/core/conf.c \
            src/core/fault.c src/core/strlist.c src/core/proc.c
