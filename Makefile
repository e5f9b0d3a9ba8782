# sluice — plain GNU make, one non-recursive graph.
#
# Knobs (make VAR=value):
#   MODE     debug (default) | release | asan | fuzz   -> build/$(MODE)/
#   CC       C compiler (fuzz mode forces clang)
#   PKG_CONFIG, DUCKDB_CFLAGS, DUCKDB_LIBS   where the libraries come from
#   V=1      show the full compiler lines
#   BASELINE the release make bench compares with (bench/module.mk)
#
# Targets: all  test  demo  bench  fuzz  check-headers  format  clean  help
#   make demo    install what is missing, build, run the demo end to end
#   make test    install what is missing, build, run every test (also under
#                ASan+UBSan); the last line reads "N passed, N failed"
#   make bench   the benchmarks, each against its peer, with ratios

MODE       ?= debug
BUILD      := build/$(MODE)
PKG_CONFIG ?= pkg-config
PKGS       := sqlite3 libpq yaml-0.1 zlib libcrypto libssl avro-c jansson libcurl lmdb hiredis

DUCKDB_VERSION := 1.4.4
DUCKDB_DIR     := build/deps/duckdb-$(DUCKDB_VERSION)
DUCKDB_CFLAGS  ?= -isystem $(DUCKDB_DIR)/include
DUCKDB_LIBS    ?= -L$(DUCKDB_DIR)/lib -lduckdb -Wl,-rpath,$(abspath $(DUCKDB_DIR)/lib)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wvla -Wno-unused-parameter
CFLAGS_debug   := -O1 -g
CFLAGS_release := -O2 -g -DNDEBUG
CFLAGS_asan    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
                  -fno-sanitize-recover=undefined
CFLAGS_fuzz    := -O1 -g -fsanitize=fuzzer-no-link,address,undefined
ifeq ($(MODE),fuzz)
CC := clang
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

CPPFLAGS += -Isrc -D_GNU_SOURCE -MMD -MP
CFLAGS   := -std=c17 $(WARN) $(CFLAGS_$(MODE)) $(PKG_CFLAGS) $(DUCKDB_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  := $(filter -fsanitize=%,$(CFLAGS_$(MODE))) -pthread
LDLIBS   := $(PKG_LIBS) $(DUCKDB_LIBS) -lm

ifneq ($(V),1)
Q := @
endif

.PHONY: all test demo bench bench-tools fuzz check-headers format clean help setup setup-test unit

all: $(BUILD)/sluice

# Each folder names its sources in module.mk (LIB_SRCS += ...).
LIB_SRCS :=
include src/core/module.mk
include src/store/module.mk
include src/catalog/module.mk
include src/engine/module.mk
include src/project/module.mk
include src/commit/module.mk
include src/ingest/module.mk
include src/table/module.mk
include src/transform/module.mk
include src/models/module.mk
include src/quality/module.mk
include src/flow/module.mk
include src/features/module.mk
include src/server/module.mk
CLI_SRCS :=
include src/cli/module.mk

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/%.o: %.c $(DUCKDB_DIR)/include/duckdb.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsluice.a: $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/sluice: $(CLI_OBJS) $(BUILD)/libsluice.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# DuckDB is fetched by the setup script; the header is a prerequisite of
# every object so a fresh clone builds in one step.
$(DUCKDB_DIR)/include/duckdb.h:
	scripts/setup.sh

include tests/module.mk
include bench/module.mk

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh test

demo:
	scripts/setup.sh demo
	$(MAKE) MODE=release all build/release/loadgen
	scripts/demo.sh build/release/sluice

check-headers:
	$(Q)for h in $$(find src -name '*.h' ! -name banned.h); do \
	    echo "#include \"$${h#src/}\"" | $(CC) $(filter-out -MMD -MP,$(CPPFLAGS)) $(CFLAGS) -x c -fsyntax-only - \
	    || { echo "header does not compile alone: $$h"; exit 1; }; done; echo "headers ok"

format:
	clang-format -i $$(find src tests bench -name '*.[ch]')

clean:
	rm -rf build/debug build/release build/asan build/fuzz

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

-include $(shell find build/$(MODE) -name '*.d' 2>/dev/null)
