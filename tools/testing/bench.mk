# SPDX-License-Identifier: GPL-2.0
#
# make bench (top level: make bench-host): the table against liburcu's
# cds_lfht in the same run on the same keys; writes bench/results-host.json.
# Included by tools/testing/Makefile after table.mk.  See
# Documentation/bench.rst.
#
#   BENCH_SIZES=16K,256K,1M,4M table sizes for the wall-clock runs
#   BENCH_CG_SIZES=16K,1M      sizes for the callgrind runs
#   BENCH_OUT=path             where the JSON goes

shpt_bench_saved_goal := $(.DEFAULT_GOAL)

BENCH_OUT_DIR := $(HOST_OUT)/bench
BENCH_BIN := $(BENCH_OUT_DIR)/bench_table
BENCH_PROBE := $(BENCH_OUT_DIR)/entry_size
BENCH_SIZES ?= 16K,256K,1M,4M
BENCH_CG_SIZES ?= 16K,1M
BENCH_OUT ?= $(SHPT_TOP)/bench/results-host.json
BENCH_CFLAGS := -std=gnu11 -O2 -g $(TABLE_WARN)
BENCH_LDLIBS := -lurcu-cds -lurcu-common $(TABLE_LDLIBS)

# bench/include/linux/percpu.h (unlocked per-CPU counters, as in the
# kernel) comes before the shim's on the include path.
$(BENCH_BIN): $(TESTING_DIR)/bench_table.c $(TESTING_DIR)/bench/bench_lfht.c \
		$(TESTING_DIR)/bench/bench_lfht.h \
		$(TESTING_DIR)/bench/include/linux/percpu.h \
		$(TABLE_SRCS) $(TABLE_HDRS)
	@mkdir -p $(dir $@)
	$(CC_plain) $(BENCH_CFLAGS) -I$(TESTING_DIR)/bench/include \
		$(TABLE_CPPFLAGS) -o $@ $(TESTING_DIR)/bench_table.c $(TESTING_DIR)/bench/bench_lfht.c \
		$(TABLE_SRCS) $(BENCH_LDLIBS)

# sizeof(struct shpt_entry) and of a bucket head, read from table.c itself.
$(BENCH_PROBE): $(TESTING_DIR)/bench/entry_size.c $(TABLE_SRCS) $(TABLE_HDRS)
	@mkdir -p $(dir $@)
	$(CC_plain) $(BENCH_CFLAGS) $(TABLE_CPPFLAGS) -o $@ \
		$(TESTING_DIR)/bench/entry_size.c $(SHIM_DIR)/shim.c $(TABLE_LDLIBS)

.PHONY: bench bench-host
bench bench-host: $(BENCH_BIN) $(BENCH_PROBE)
	python3 $(TESTING_DIR)/bench/run_bench.py $(BENCH_BIN) $(BENCH_OUT) \
		--probe $(BENCH_PROBE) --table-c $(TABLE_C) \
		--sizes $(BENCH_SIZES) --cg-sizes $(BENCH_CG_SIZES)

.DEFAULT_GOAL := $(shpt_bench_saved_goal)
