# bench: each benchmark against its peer in the same run, with the ratio.
#
#   $(BUILD)/bench/<name>  microbenchmarks of one part (bench/<name>.c,
#                          linked with libsluice): shardlog, http_bench,
#                          putrecords_bench
#   $(BUILD)/loadgen       Kinesis PutRecords load generator (bench/loadgen.c)
#   $(BUILD)/loadgen-sink  a server that accepts everything, to measure
#                          loadgen's own ceiling (bench/sink.c)
# loadgen and the sink stand alone: plain sockets and threads, no libsluice
# (loadgen takes SHA-256 and HMAC from libcrypto to sign with --sign).
#
# make bench runs, each printing its peer's figures beside its own:
#   bench/shardlog           shard log group commit vs a write+fdatasync each
#   bench/transform.sh       ingest + transform vs DuckDB, and vs BASELINE
#   bench/stream.sh          sluice serve vs kinesalite, and vs BASELINE
#   bench/catalog.sh         small batches: the PostgreSQL catalog vs SQLite
#   bench/table_bench        1,000 small commits to one Iceberg table: latency
#                            and metadata bytes per commit as history grows
#   bench/scaling.sh         a 100,000-row batch into tables of 1 M, 4 M, 10 M
#                            rows: time and memory against the 1 M case
#   bench/pruning.sh         a query of one day and one week of a 365-day
#                            table, with and without pruning (--no-prune)
#   bench/build.sh           sluice build of gold models over a 10 M-row
#                            curated table vs DuckDB COPY of the same SELECT;
#                            incremental builds after a 100,000-row batch
#                            against the full build (ROWS=N for a quick run)
#   bench/quality.sh         sluice check of a 20-rule DQDL ruleset over a
#                            10 M-row curated table vs one DuckDB query per
#                            rule (about 3 min, 2 of them making the table once)
#   bench/flow.sh            sluice run of a 10,000-state Pass chain and of an
#                            inline Map over 10,000 items vs aws-local-
#                            stepfunctions in node, the executions alone
#                            (sluice run --stats, bench/flow_peer.mjs): a few
#                            seconds
# On the 2-core machine it took 18 min while other work shared it
# (catalog.sh 15 of them, transform.sh and stream.sh with the baseline
# about 3, building the baseline 15 s; see each script's header), and
# build.sh adds about 7 (2.5 of them setting up its 10 M-row lakes once).  RUNS=1
# (each script's repetitions) makes it about a third of that.

# BASELINE: the release whose figures transform.sh and stream.sh print
# beside the new ones (a commit id; make bench BASELINE=... to compare with
# another).  45bdc20 is the release before the security work: the server
# on libmicrohttpd, no signatures; the catalog work (the PostgreSQL back
# end, one commit API) was measured against 3f50462.  Its tree is exported
# with git archive (nothing is registered in .git, unlike a worktree) into
# build/baseline/$(BASELINE)/ and built there in release mode by its own
# Makefile, against this tree's DuckDB (DUCKDB_DIR given as an absolute
# path, so nothing is fetched twice); only when its binary is missing, and
# a build that stopped half-way resumes.  build/ is ignored: nothing of it
# is committed; rm -rf build/baseline to build it afresh.
.PHONY: baseline
BASELINE ?= 45bdc20
BASELINE_DIR := build/baseline/$(BASELINE)
BASELINE_SLUICE := $(BASELINE_DIR)/build/release/sluice

BENCH_TOOLS := $(BUILD)/loadgen $(BUILD)/loadgen-sink

$(BUILD)/bench/%: bench/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< \
	    $(BUILD)/libsluice.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/loadgen: $(BUILD)/bench/loadgen.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcrypto

$(BUILD)/loadgen-sink: $(BUILD)/bench/sink.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

bench-tools: $(BENCH_TOOLS)

# Every benchmark program, built (not run) by make test so that none rots.
BENCH_PROGRAMS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(filter-out bench/loadgen.c bench/sink.c,$(wildcard bench/*.c))) $(BENCH_TOOLS)
bench-build: $(BENCH_PROGRAMS)

$(BASELINE_SLUICE): | $(DUCKDB_DIR)/include/duckdb.h
	@echo "  BASELINE $(BASELINE): building the release in $(BASELINE_DIR)"
	$(Q)if [ ! -f $(BASELINE_DIR)/Makefile ]; then \
	    rm -rf $(BASELINE_DIR).tmp && mkdir -p $(BASELINE_DIR).tmp && \
	    git archive -o $(BASELINE_DIR).tmp/tree.tar '$(BASELINE)^{commit}' && \
	    tar -xf $(BASELINE_DIR).tmp/tree.tar -C $(BASELINE_DIR).tmp && \
	    rm $(BASELINE_DIR).tmp/tree.tar && \
	    git rev-parse '$(BASELINE)^{commit}' > $(BASELINE_DIR).tmp/COMMIT && \
	    mv $(BASELINE_DIR).tmp $(BASELINE_DIR); \
	fi
	$(Q)$(MAKE) --no-print-directory -C $(BASELINE_DIR) MODE=release \
	    DUCKDB_DIR=$(abspath $(DUCKDB_DIR)) all

baseline: $(BASELINE_SLUICE)

bench: setup-test
	@$(MAKE) --no-print-directory MODE=release all bench-tools build/release/bench/shardlog \
	    build/release/bench/catalog_bench build/release/bench/table_bench $(BASELINE_SLUICE)
	@build/release/bench/shardlog
	@bench/transform.sh --baseline $(BASELINE_SLUICE) --baseline-name $(BASELINE) \
	    build/release/sluice
	@bench/stream.sh --baseline $(BASELINE_SLUICE) --baseline-name $(BASELINE) \
	    build/release/sluice
	@bench/catalog.sh build/release/bench/catalog_bench
	@build/release/bench/table_bench build/bench
	@bench/scaling.sh build/release/sluice
	@bench/pruning.sh build/release/sluice
	@bench/build.sh build/release/sluice
	@bench/quality.sh build/release/sluice
	@bench/flow.sh build/release/sluice
