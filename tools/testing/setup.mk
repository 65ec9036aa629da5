# SPDX-License-Identifier: GPL-2.0
#
# What the host programs need from the machine, checked before the first
# compile, so that a fresh clone either sets itself up or stops with one
# line naming the command to run.  Included by table.mk.
#
#   host-setup-plain   gcc, liburcu-dev, libsodium-dev, and
#                      kselftest_harness.h (unpacked into build/ksrc from
#                      the linux-source tarball on first use)
#   host-setup-asan    the above, and clang with its ASan/UBSan runtime
#   host-setup-tsan    the above, and the TSan runtime
#   host-setup-fuzz    the above, and libFuzzer
#   host-setup-bench   host-setup-plain without the harness, and
#                      valgrind, python3
#
# Every program of a variant V depends on host-setup-V (order-only, so a
# check never rebuilds anything).  The targets are phony and cheap: they
# run once per make invocation.

SHPT_SETUP_FIX := run 'make deps' in $(SHPT_TOP)
SHPT_SETUP_DIR := $(HOST_OUT)/.setup

# $(call shpt_need_header,HEADER,PACKAGE)
shpt_need_header = printf '\#include <%s>\n' '$(1)' | \
	$(CC_plain) -E -x c - >/dev/null 2>&1 || { \
	echo "tools/testing: <$(1)> not found (Debian package $(2)); $(SHPT_SETUP_FIX)" >&2; \
	exit 1; }

# $(call shpt_need_cmd,COMMAND,PACKAGE)
shpt_need_cmd = command -v $(1) >/dev/null 2>&1 || { \
	echo "tools/testing: no $(1) (Debian package $(2)); $(SHPT_SETUP_FIX)" >&2; \
	exit 1; }

# $(call shpt_need_link,CC,FLAGS,WHAT,PACKAGE): an empty program links
shpt_need_link = mkdir -p $(SHPT_SETUP_DIR) && \
	printf 'int main(void) { return 0; }\n' | \
	$(1) $(2) -x c - -o $(SHPT_SETUP_DIR)/probe >/dev/null 2>&1 || { \
	echo "tools/testing: $(1) cannot link with $(3) (Debian package $(4)); $(SHPT_SETUP_FIX)" >&2; \
	exit 1; }

# libFuzzer supplies main(), so its probe is a fuzz target.
shpt_need_fuzzer = mkdir -p $(SHPT_SETUP_DIR) && \
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' | \
	$(CC_fuzz) -fsanitize=fuzzer -x c - -o $(SHPT_SETUP_DIR)/probe >/dev/null 2>&1 || { \
	echo "tools/testing: $(CC_fuzz) cannot link with -fsanitize=fuzzer (Debian package libclang-rt-14-dev); $(SHPT_SETUP_FIX)" >&2; \
	exit 1; }

SHPT_HARNESS_H := $(KSRC)/tools/testing/selftests/kselftest_harness.h

.PHONY: host-setup-base host-setup-harness host-setup-plain \
	host-setup-asan host-setup-tsan host-setup-fuzz host-setup-bench

host-setup-base:
	@$(call shpt_need_cmd,$(CC_plain),gcc)
	@$(call shpt_need_header,urcu/urcu-memb.h,liburcu-dev)
	@$(call shpt_need_header,sodium.h,libsodium-dev)

# build/ksrc is what the top-level "make ksrc" unpacks; any other KSRC=
# is the caller's to provide.
host-setup-harness:
	@if [ ! -f $(SHPT_HARNESS_H) ]; then \
		if [ "$(KSRC)" = "$(SHPT_TOP)/build/ksrc" ]; then \
			$(MAKE) --no-print-directory -C $(SHPT_TOP) ksrc || exit 1; \
		else \
			echo "tools/testing: no $(SHPT_HARNESS_H); unpack the kernel sources into KSRC=$(KSRC), or drop KSRC= and run 'make ksrc' in $(SHPT_TOP)" >&2; \
			exit 1; \
		fi; \
	fi

host-setup-plain: host-setup-base host-setup-harness

host-setup-asan: host-setup-plain
	@$(call shpt_need_cmd,$(CC_asan),clang-14)
	@$(call shpt_need_link,$(CC_asan),$(LDFLAGS_asan),$(LDFLAGS_asan),libclang-rt-14-dev)

host-setup-tsan: host-setup-plain
	@$(call shpt_need_cmd,$(CC_tsan),clang-14)
	@$(call shpt_need_link,$(CC_tsan),$(LDFLAGS_tsan),$(LDFLAGS_tsan),libclang-rt-14-dev)

host-setup-fuzz: host-setup-asan
	@$(call shpt_need_fuzzer)

host-setup-bench: host-setup-base
	@$(call shpt_need_header,urcu/rculfhash.h,liburcu-dev)
	@$(call shpt_need_header,valgrind/callgrind.h,valgrind)
	@$(call shpt_need_cmd,valgrind,valgrind)
	@$(call shpt_need_cmd,python3,python3)
