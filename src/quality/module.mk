# quality: DQDL rulesets (quality/<table>.dqdl), their evaluation and the
# gates, alerts and drift profiles built on it.
LIB_SRCS += src/quality/dqdl.c src/quality/eval.c src/quality/check.c src/quality/alert.c src/quality/gate.c src/quality/profile.c \
            src/quality/status.c
