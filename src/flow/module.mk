# flow: Amazon States Language state machines, their executions and history.
LIB_SRCS += $(wildcard src/flow/*.c)
