# bench: each benchmark against its peer in the same run, with the ratio.
BENCH_BINS := $(BUILD)/bench/shardlog

$(BUILD)/bench/%: bench/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libsluice.a $(LDFLAGS) $(LDLIBS)

bench: setup-test
	@$(MAKE) --no-print-directory MODE=release all build/release/bench/shardlog
	@build/release/bench/shardlog
	@bench/transform.sh build/release/sluice

# The HTTP layer under keep-alive load (see bench/http_bench.c); build it
# with make MODE=release build/release/bench/http_bench.
$(BUILD)/bench/http_bench: bench/http_bench.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< \
	    $(BUILD)/libsluice.a $(LDFLAGS) $(LDLIBS)
