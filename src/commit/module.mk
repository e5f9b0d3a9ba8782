# commit: the publication step of the commit protocol and its recovery.
LIB_SRCS += src/commit/commit.c
