# SPDX-License-Identifier: GPL-2.0
#
# libFuzzer target for the table core (fuzz_table.c), built with clang's
# -fsanitize=fuzzer,address,undefined against table.c and the shim.
# Included by tools/testing/Makefile after table.mk.
#
#   make fuzz            run for FUZZ_SECONDS (default 20) on the committed
#                        corpus; new inputs go to $(HOST_OUT)/fuzz/corpus
#   make check-fuzz      the same; part of "make check"
#   FUZZ_ARGS=...        extra libFuzzer flags (e.g. -jobs=2)
#
# A failure leaves crash-* in $(HOST_OUT)/fuzz; rerun it with
# $(HOST_OUT)/fuzz/fuzz_table CRASHFILE.

shpt_fuzz_saved_goal := $(.DEFAULT_GOAL)

CC_fuzz ?= $(SAN_CC)
CFLAGS_fuzz ?= -std=gnu11 -O1 -g -fno-omit-frame-pointer $(TABLE_WARN) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
LDFLAGS_fuzz ?= -fsanitize=fuzzer,address,undefined

$(eval $(call shpt_host_prog,fuzz,fuzz_table))

FUZZ_SECONDS ?= 20
FUZZ_CORPUS := $(TESTING_DIR)/fuzz-corpus
FUZZ_OUT := $(HOST_OUT)/fuzz
FUZZ_ARGS ?=

.PHONY: fuzz check-fuzz
fuzz check-fuzz: $(FUZZ_OUT)/fuzz_table
	@mkdir -p $(FUZZ_OUT)/corpus
	cd $(FUZZ_OUT) && $(ASAN_ENV) ./fuzz_table -max_total_time=$(FUZZ_SECONDS) \
		-timeout=20 -max_len=8192 -print_final_stats=1 $(FUZZ_ARGS) \
		corpus $(FUZZ_CORPUS)

check: check-fuzz

.DEFAULT_GOAL := $(shpt_fuzz_saved_goal)
