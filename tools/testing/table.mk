# SPDX-License-Identifier: GPL-2.0
#
# Host build of module/table.c against the shim: the variables and the rule
# template every host program of tools/testing uses.  Include it, then
# instantiate a program for a build variant:
#
#   include table.mk
#   $(eval $(call shpt_host_prog,asan,fuzz_table))
#
# builds $(HOST_OUT)/asan/fuzz_table from fuzz_table.c + table.c + shim.
# A variant V is a set of CC_V, CFLAGS_V and LDFLAGS_V; plain, asan and tsan
# are defined here, and a new one (say, libFuzzer) is three lines plus a
# host-setup-V target (setup.mk) that checks what it needs.
# Per-program extras go in CFLAGS_<prog> and LDLIBS_<prog>.

TESTING_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
SHPT_TOP := $(abspath $(TESTING_DIR)/../..)
HOST_OUT ?= $(SHPT_TOP)/build/host

# kselftest_harness.h: from build/ksrc (unpacked by the top-level "make
# ksrc", which host-setup-plain runs when it is missing), or from an
# unpacked linux-source tree when build/ksrc is not there.
KSRC ?= $(SHPT_TOP)/build/ksrc
ifeq ($(wildcard $(KSRC)/tools/testing/selftests/kselftest_harness.h),)
ifneq ($(wildcard /usr/src/linux-source-6.1/tools/testing/selftests/kselftest_harness.h),)
KSRC := /usr/src/linux-source-6.1
endif
endif
HARNESS_CPPFLAGS := -I$(KSRC)/tools/testing/selftests

# The table and the shim it runs on (both overridable: mutants.py builds
# altered copies).
TABLE_C ?= $(SHPT_TOP)/module/table.c
SHIM_DIR ?= $(TESTING_DIR)/shim
TABLE_SRCS := $(TABLE_C) $(SHIM_DIR)/shim.c
TABLE_HDRS := $(SHPT_TOP)/module/table.h \
	$(wildcard $(SHIM_DIR)/include/*.h $(SHIM_DIR)/include/linux/*.h)
TABLE_CPPFLAGS := -D_GNU_SOURCE -I$(SHIM_DIR)/include -I$(SHPT_TOP)/module
TABLE_WARN := -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
TABLE_LDLIBS := -lurcu-memb -lsodium -lpthread -lm

# Build variants.
CC_plain ?= gcc
CFLAGS_plain ?= -std=gnu11 -O2 -g $(TABLE_WARN) -Werror
LDFLAGS_plain ?=

SAN_CC ?= clang-14
CC_asan ?= $(SAN_CC)
CFLAGS_asan ?= -std=gnu11 -O1 -g -fno-omit-frame-pointer $(TABLE_WARN) \
	-fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS_asan ?= -fsanitize=address,undefined

CC_tsan ?= $(SAN_CC)
CFLAGS_tsan ?= -std=gnu11 -O1 -g $(TABLE_WARN) -fsanitize=thread
LDFLAGS_tsan ?= -fsanitize=thread

# Sanitizer runtime options: the first report fails the run.
ASAN_ENV := ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:exitcode=66 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=66
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1

# $(call shpt_host_prog,VARIANT,PROG): $(HOST_OUT)/VARIANT/PROG from PROG.c,
# after host-setup-VARIANT (setup.mk) has checked the machine.
define shpt_host_prog
$(HOST_OUT)/$(1)/$(2): $(TESTING_DIR)/$(2).c $(TABLE_SRCS) $(TABLE_HDRS) $(TESTING_DIR)/table.mk \
		| host-setup-$(1)
	@mkdir -p $$(dir $$@)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$(CFLAGS_$(2)) $$(TABLE_CPPFLAGS) \
		$$(HARNESS_CPPFLAGS) -o $$@ $(TESTING_DIR)/$(2).c $$(TABLE_SRCS) \
		$$(LDFLAGS_$(1)) $$(LDLIBS_$(2)) $$(TABLE_LDLIBS)
endef

include $(TESTING_DIR)/setup.mk
