# bench: each benchmark against its peer in the same run, with the ratio.
#
#   $(BUILD)/loadgen       Kinesis PutRecords load generator (bench/loadgen.c)
#   $(BUILD)/loadgen-sink  a server that accepts everything, to measure
#                          loadgen's own ceiling (bench/sink.c)
# Both stand alone: plain sockets and threads, no libsluice, no libraries.

BENCH_TOOLS := $(BUILD)/loadgen $(BUILD)/loadgen-sink

$(BUILD)/loadgen: $(BUILD)/bench/loadgen.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/loadgen-sink: $(BUILD)/bench/sink.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

bench-tools: $(BENCH_TOOLS)

bench: setup-test
	@$(MAKE) --no-print-directory MODE=release all bench-tools
	@bench/transform.sh build/release/sluice
	@bench/stream.sh build/release/sluice
