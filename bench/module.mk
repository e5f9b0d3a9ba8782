# bench: each benchmark against its peer in the same run, with the ratio.
bench: setup-test
	@$(MAKE) --no-print-directory MODE=release all
	@bench/transform.sh build/release/sluice

# The PutRecords fast path against the general wire parser on the same
# bodies: make MODE=release build/release/bench/putrecords_bench
$(BUILD)/bench/putrecords_bench: bench/putrecords_bench.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libsluice.a $(LDFLAGS) $(LDLIBS)
