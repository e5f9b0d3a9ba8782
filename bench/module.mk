# bench: each benchmark against its peer in the same run, with the ratio.
#
#   $(BUILD)/bench/<name>  microbenchmarks of one part (bench/<name>.c,
#                          linked with libsluice): shardlog, http_bench,
#                          putrecords_bench
#   $(BUILD)/loadgen       Kinesis PutRecords load generator (bench/loadgen.c)
#   $(BUILD)/loadgen-sink  a server that accepts everything, to measure
#                          loadgen's own ceiling (bench/sink.c)
# loadgen and the sink stand alone: plain sockets and threads, no libsluice.
#
# make bench runs, each printing its peer's figures beside its own:
#   bench/shardlog           shard log group commit vs a write+fdatasync each
#   bench/transform.sh       ingest + transform vs DuckDB
#   bench/stream.sh          sluice serve vs kinesalite
#   bench/catalog.sh         small batches: the PostgreSQL catalog vs SQLite
# On the 2-core machine it takes about 15 min when quiet (catalog.sh is
# most of it; see each script's header), up to 25 min when shared.  RUNS=1
# (each script's repetitions) makes it about a third of that.

BENCH_TOOLS := $(BUILD)/loadgen $(BUILD)/loadgen-sink

$(BUILD)/bench/%: bench/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< \
	    $(BUILD)/libsluice.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/loadgen: $(BUILD)/bench/loadgen.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/loadgen-sink: $(BUILD)/bench/sink.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

bench-tools: $(BENCH_TOOLS)

bench: setup-test
	@$(MAKE) --no-print-directory MODE=release all bench-tools build/release/bench/shardlog \
	    build/release/bench/catalog_bench
	@build/release/bench/shardlog
	@bench/transform.sh build/release/sluice
	@bench/stream.sh build/release/sluice
	@bench/catalog.sh build/release/bench/catalog_bench
