# tests: unit binaries (one per stage), end-to-end scripts, fuzz replays.
#
#   make test          setup, then every test in debug and again under
#                      ASan+UBSan; the last line is "N passed, N failed"
#   make unit          build the unit binaries of $(MODE)
#   make test-one T=tests/e2e/200-transform.sh   run one test (MODE=...; PG=1:
#                                                 with a PostgreSQL catalog)

UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
FUZZ_SRCS := $(wildcard tests/fuzz/*/fuzz.c)
REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/%/fuzz.c=$(BUILD)/tests/fuzz/%-replay)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -Wno-missing-prototypes -Wno-format-truncation -o $@ $< \
	    $(BUILD)/libsluice.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/fuzz/%-replay: tests/fuzz/%/fuzz.c tests/fuzz/replay.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  REPLAY  $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< tests/fuzz/replay.c \
	    $(BUILD)/libsluice.a $(LDFLAGS) $(LDLIBS)

unit: $(UNIT_BINS) $(REPLAY_BINS)

test: setup-test
	@$(MAKE) --no-print-directory MODE=debug all unit bench-build
	@$(MAKE) --no-print-directory MODE=asan all unit
	@tests/run.sh build/debug build/asan build/debug:postgres

test-one: all unit
	@tests/run.sh --only $(T) $(BUILD)$(if $(PG),:postgres)

# libFuzzer builds of the targets, each run for FUZZ_SECONDS over its
# corpus; new findings land in tests/fuzz/<name>/ (crash-*) to be fixed and
# added to the corpus.  FUZZ_TARGETS picks some (make fuzz FUZZ_TARGETS=csv).
# A finding in one target does not keep the others from running; make fuzz
# fails at the end if any target found something.  UBSan halts on its first
# report, so that libFuzzer saves the input; clang's extra warnings do not
# fail the libFuzzer build of the library (gcc builds it with -Werror).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/%/fuzz.c,%,$(FUZZ_SRCS))
FUZZ_ENV := UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
fuzz:
	@$(MAKE) --no-print-directory MODE=fuzz EXTRA_CFLAGS="$(EXTRA_CFLAGS) -Wno-error" \
	    build/fuzz/libsluice.a
	@failed=; for name in $(FUZZ_TARGETS); do \
	    dir=tests/fuzz/$$name; \
	    echo "== fuzzing $$name for $(FUZZ_SECONDS)s"; \
	    clang $(CPPFLAGS) $(CFLAGS_fuzz) -fsanitize=fuzzer $(PKG_CFLAGS) $(DUCKDB_CFLAGS) \
	        -o build/fuzz/fuzz-$$name $$dir/fuzz.c build/fuzz/libsluice.a $(LDLIBS) -pthread \
	        || exit 1; \
	    mkdir -p build/fuzz/new-$$name; \
	    (cd $$dir && $(FUZZ_ENV) ../../../build/fuzz/fuzz-$$name \
	        -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        ../../../build/fuzz/new-$$name corpus) || failed="$$failed $$name"; \
	done; \
	if [ -n "$$failed" ]; then \
	    echo "fuzz: findings in:$$failed (see crash-* in tests/fuzz/<name>/)"; exit 1; \
	fi
