# cli: the sluice command.
CLI_SRCS += src/cli/main.c src/cli/cmd_init.c src/cli/cmd_ingest.c src/cli/cmd_raw.c \
            src/cli/cmd_transform.c src/cli/cmd_query.c src/cli/cmd_runs.c \
            src/cli/cmd_sources.c src/cli/cmd_verify.c src/cli/cmd_serve.c \
            src/cli/cmd_catalog.c src/cli/cmd_keys.c src/cli/cmd_snapshots.c src/cli/cmd_tables.c \
            src/cli/cmd_build.c src/cli/cmd_models.c src/cli/cmd_lineage.c \
            src/cli/cmd_check.c src/cli/cmd_quality.c src/cli/gate.c src/cli/cmd_staged.c src/cli/cmd_status.c \
            src/cli/cmd_run.c src/cli/cmd_executions.c src/cli/cmd_triggers.c
