# quality: DQDL rulesets (quality/<table>.dqdl) and, next, the gates that
# evaluate them.
LIB_SRCS += src/quality/dqdl.c src/quality/eval.c src/quality/check.c src/quality/alert.c src/quality/gate.c src/quality/status.c
