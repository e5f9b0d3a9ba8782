# models: gold models (models/<name>.sql): loading, header, SQL lexer,
# dependencies, build order, selection, template rendering.
LIB_SRCS += src/models/lex.c src/models/model.c src/models/render.c src/models/set.c \
            src/models/build.c src/models/lineage.c
