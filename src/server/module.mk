# server: HTTP and the AWS-compatible APIs on it.
LIB_SRCS += $(wildcard src/server/*.c)
