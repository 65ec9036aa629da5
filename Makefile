# SPDX-License-Identifier: GPL-2.0
#
# shpt: build the module, run its tests in a QEMU VM, lint, document.
# "make help" lists the targets.  kbuild reads Kbuild, not this file.
#
# Extending: add a target below and a line to "help"; add Debian packages
# to DEPS_PKGS, files from the linux-source tarball to KSRC_FILES, programs
# for the test VM to VM_EXTRA_BINS / VM_EXTRA_FILES.

SHELL := /bin/sh
TOP := $(CURDIR)
BUILD := $(TOP)/build

# ---- kernels ------------------------------------------------------------

# The kernel the test VM boots: the newest linux-headers-*-amd64 with a
# matching /boot/vmlinuz-*.
ifeq ($(origin VM_KVER),undefined)
VM_KVER := $(shell $(TOP)/tools/vm/kver.sh)
endif
VM_KDIR ?= /usr/src/linux-headers-$(VM_KVER)
VM_KERNEL ?= /boot/vmlinuz-$(VM_KVER)

# "make" builds for the running kernel when its headers are installed,
# else for the VM kernel.
HOST_KDIR := /lib/modules/$(shell uname -r)/build
ifeq ($(origin KDIR),undefined)
KDIR := $(if $(wildcard $(HOST_KDIR)/Makefile),$(HOST_KDIR),$(VM_KDIR))
endif

# ---- dependencies (make deps) -------------------------------------------

DEPS_PKGS := build-essential make gcc libc6-dev xz-utils perl kmod \
	linux-image-amd64 linux-headers-amd64 linux-source-6.1 \
	qemu-system-x86 busybox-static cpio \
	sparse liburcu-dev libsodium-dev clang llvm libclang-rt-14-dev \
	valgrind python3 python3-sphinx dkms \
	flex bison bc libelf-dev libssl-dev \
	stress-ng

# Files unpacked from the linux-source tarball into build/ksrc; nothing
# from it is committed.
KSRC := $(BUILD)/ksrc
KSRC_TARBALL := /usr/src/linux-source-6.1.tar.xz
KSRC_FILES := tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h \
	scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch scripts/kernel-doc

# ---- test VM ------------------------------------------------------------

# Everything a VM run builds; VM_DIR=... isolates concurrent runs.
VM_DIR ?= $(BUILD)/vm
VM_SRC = $(VM_DIR)/src
VM_ROOT = $(VM_DIR)/root
VM_INITRD = $(VM_DIR)/initramfs.cpio
VM_LOG = $(VM_DIR)/serial.log
VM_TIMEOUT ?= 300
VM_SHELL_TIMEOUT ?= 3600
# Extra kernel command line, e.g. VM_CMDLINE_EXTRA=transparent_hugepage=always
VM_CMDLINE_EXTRA ?=
# Host programs copied to /usr/bin in the guest (shared libraries follow).
# stress-ng (from DEPS_PKGS) is the forking workload of tree_test and the
# demo's "run -f" section; tests that need it SKIP without it.
VM_EXTRA_BINS ?= $(wildcard /usr/bin/stress-ng)
# host:guest pairs copied into the guest.
VM_EXTRA_FILES ?=
# make check T=prog or T=prog:test (comma-separated): run only these.
T ?=
# tcg or kvm; empty: KVM only where kvm_intel or kvm_amd is loaded.
VM_ACCEL ?=

SELFTESTS_OUT = $(VM_DIR)/selftests
SELFTESTS_MAKE = $(MAKE) -C $(TOP)/selftests KSRC=$(KSRC) OUTPUT=$(SELFTESTS_OUT)

VM_ENV = VM_KERNEL=$(VM_KERNEL) VM_INITRD=$(VM_INITRD) VM_LOG=$(VM_LOG) \
	VM_TIMEOUT=$(VM_TIMEOUT) VM_TESTS='$(T)' \
	VM_CMDLINE_EXTRA='$(VM_CMDLINE_EXTRA)' VM_ACCEL='$(VM_ACCEL)'

# One VM run at a time per VM_DIR: concurrent "make check"s in one tree
# would rebuild the initramfs under each other, so they queue on a lock
# (or each gets its own VM_DIR=...).
VM_LOCKED = mkdir -p $(VM_DIR) && \
	{ flock -n $(VM_DIR).lock true || echo "-- waiting for another VM run in $(VM_DIR)"; } && \
	flock $(VM_DIR).lock $(MAKE) --no-print-directory

# ---- debug kernel (make check-debug) ----------------------------------

# The debug kernel (KASAN, lockdep, kmemleak, failslab, KUnit) is built
# once per config fragment by tools/vm/debug-kernel.sh into
# $(SHPT_CACHE)/debug-kernel/ (default /var/cache/shpt), outside the clone.
# Timeouts there are scaled by DEBUG_TIMEOUT_SCALE (see init.sh).
DEBUG_TIMEOUT_SCALE ?= 6
DEBUG_VM_TIMEOUT ?= 3600
DEBUG_VM_DIR ?= $(BUILD)/vm-debug

# ---- lint variables -----------------------------------------------------

LINT_KERNEL_C := $(wildcard $(TOP)/module/*.c $(TOP)/module/*.h $(TOP)/module/kunit/*.c)
LINT_UAPI_H := $(shell find $(TOP)/include/uapi -name '*.h')
LINT_C := $(LINT_KERNEL_C) $(LINT_UAPI_H)
CHECKPATCH := $(KSRC)/scripts/checkpatch.pl --strict --no-tree --quiet \
	--show-types --terse -f

.PHONY: all module modules clean distclean deps ksrc selftests \
	vm-module vm-initramfs check check-vm check-host bench-host demo vm \
	debug-kernel check-debug \
	_check-all _check-vm _demo _vm \
	lint sparse checkpatch kernel-doc tools htmldocs help

all: module

module modules:
	@test -f $(KDIR)/Makefile || { echo "no kernel headers at KDIR=$(KDIR); run 'make deps'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(TOP) modules

help:
	@echo 'shpt targets:'
	@echo '  make              build shpt.ko for KDIR (default: running kernel, else the VM kernel)'
	@echo '  make deps         install missing Debian packages, unpack build/ksrc'
	@echo '  make check        host tests, then the VM selftests; ends with "N passed, N failed"'
	@echo '                    T=prog[:test][,...] runs only those selftests (no host tests)'
	@echo '  make check-vm     only the VM selftests (no deps, no host tests)'
	@echo '  make check-host   only the host tests (tools/testing)'
	@echo '  make debug-kernel build (once, ~13 min) the KASAN/lockdep/kmemleak/KUnit test kernel'
	@echo '                    into $$SHPT_CACHE (default /var/cache/shpt)'
	@echo '  make check-debug  the VM selftests, shpt_kunit and kmemleak on that kernel (T= works)'
	@echo '  make bench-host   host benchmarks (tools/testing)'
	@echo '  make demo         boot the VM, load shpt, mirror the workloads with shptctl, show'
	@echo '                    stats and chain histograms, then a hash flood (modulo vs siphash)'
	@echo '  make vm           interactive VM shell (Ctrl-A X quits)'
	@echo '  make lint         sparse (C=2) and W=1, checkpatch --strict, kernel-doc'
	@echo '  make tools        build tools/ (shptctl, workloads)'
	@echo '  make htmldocs     Documentation -> build/htmldocs'
	@echo '  make install      modules_install shpt.ko for KDIR (a real host with matching headers)'
	@echo '  make dkms-install register, build and install shpt with DKMS'
	@echo '  make dkms-check   dkms build in a private tree (part of make check)'
	@echo '  make clean        remove build outputs (keeps build/ksrc)'
	@echo '  make distclean    remove build/ entirely'
	@echo 'variables: KDIR VM_KVER VM_TIMEOUT=$(VM_TIMEOUT) VM_CMDLINE_EXTRA VM_EXTRA_BINS'
	@echo '           VM_EXTRA_FILES VM_DIR VM_ACCEL=tcg|kvm W=1 T (see check)'
	@echo 'VM kernel: $(VM_KERNEL), headers: $(VM_KDIR)'

# ---- deps ---------------------------------------------------------------

deps:
	@DEPS_PKGS='$(DEPS_PKGS)' $(TOP)/tools/vm/deps.sh
	@$(MAKE) --no-print-directory ksrc

# The stamp holds the file list, so adding to KSRC_FILES unpacks again.
ksrc:
	@if [ "$$(cat $(KSRC)/.stamp 2>/dev/null)" = "$(KSRC_FILES)" ]; then exit 0; fi; \
	test -f $(KSRC_TARBALL) || { echo "no $(KSRC_TARBALL); run 'make deps'" >&2; exit 1; }; \
	echo "  UNPACK  $(KSRC_TARBALL) -> build/ksrc"; \
	mkdir -p $(KSRC) && \
	tar -xJf $(KSRC_TARBALL) -C $(KSRC) --strip-components=1 \
		$(addprefix linux-source-6.1/,$(KSRC_FILES)) && \
	echo "$(KSRC_FILES)" >$(KSRC)/.stamp

# ---- selftests and the VM -----------------------------------------------

selftests: ksrc
	$(SELFTESTS_MAKE)

# The VM kernel's module build, in a copy of the sources: whatever the
# host runs, and without touching the in-tree objects of "make".
vm-module:
	@test -n "$(VM_KVER)" || { echo "no VM kernel: need /usr/src/linux-headers-*-amd64 and /boot/vmlinuz-*; run 'make deps'" >&2; exit 1; }
	@mkdir -p $(VM_SRC)
	@cd $(TOP) && find Kbuild module include -type f \( -name Kbuild -o -name '*.[ch]' \) | \
		while read -r f; do \
			mkdir -p $(VM_SRC)/$$(dirname $$f); \
			cmp -s $$f $(VM_SRC)/$$f || cp -p $$f $(VM_SRC)/$$f; \
		done
	@cd $(VM_SRC) && find Kbuild module include -type f \( -name Kbuild -o -name '*.[ch]' \) | \
		while read -r f; do [ -e $(TOP)/$$f ] || rm -f $$f; done
	$(MAKE) -C $(VM_KDIR) M=$(VM_SRC) modules

vm-initramfs: vm-module selftests
	@rm -rf $(VM_ROOT) && mkdir -p $(VM_ROOT)
	@$(SELFTESTS_MAKE) -s --no-print-directory install INSTALL_PATH=$(VM_ROOT)/usr/lib/shpt/selftests
	@if [ -f $(TOP)/tools/Makefile ]; then \
		$(MAKE) -C $(TOP)/tools install STATIC=1 O=$(VM_DIR)/tools \
			DESTDIR=$(VM_ROOT) PREFIX=/usr; \
	fi
	@kunit=; if [ -f $(VM_SRC)/shpt_kunit.ko ]; then \
		kunit=$(VM_SRC)/shpt_kunit.ko:/lib/modules/shpt_kunit.ko; fi; \
	VM_EXTRA_BINS='$(VM_EXTRA_BINS)' VM_EXTRA_FILES="$(VM_EXTRA_FILES) $$kunit" \
		$(TOP)/tools/vm/mkinitramfs.sh $(VM_ROOT) $(VM_SRC)/shpt.ko $(VM_INITRD)
	@echo "  INITRAMFS $(VM_INITRD) ($$(du -k $(VM_INITRD) | cut -f1) KiB)"

check: deps
	@$(VM_LOCKED) _check-all

check-vm:
	@$(VM_LOCKED) _check-vm

demo: deps
	@$(VM_LOCKED) _demo

# The interactive VM has a directory of its own and takes no lock.
vm: deps
	@$(MAKE) --no-print-directory VM_DIR=$(BUILD)/vm-shell _vm

debug-kernel: deps
	@$(TOP)/tools/vm/debug-kernel.sh >/dev/null

# The VM selftests on the debug kernel, in a VM directory of their own so
# that they can run beside "make check".
check-debug: deps
	@dk=$$($(TOP)/tools/vm/debug-kernel.sh) && \
	$(MAKE) --no-print-directory VM_DIR=$(DEBUG_VM_DIR) VM_KVER=debug \
		VM_KDIR=$$dk/build VM_KERNEL=$$dk/build/arch/x86/boot/bzImage \
		VM_TIMEOUT=$(DEBUG_VM_TIMEOUT) \
		VM_CMDLINE_EXTRA='shpt_timeout_scale=$(DEBUG_TIMEOUT_SCALE) $(VM_CMDLINE_EXTRA)' \
		check-vm

# Host tests first (when present and no T=); their exit status is one of
# the checks in the VM report, so its last line covers both.
_check-all: vm-initramfs
	@host_rc=; host_log=; \
	if [ -z '$(T)' ] && [ -f $(TOP)/tools/testing/Makefile ]; then \
		host_log=$(VM_DIR)/host.log; \
		{ $(MAKE) -C $(TOP)/tools/testing check; \
		  echo $$? >$$host_log.rc; } 2>&1 | tee $$host_log; \
		host_rc=$$(cat $$host_log.rc); \
	fi; \
	HOST_RC=$$host_rc HOST_LOG=$$host_log $(VM_ENV) \
		$(TOP)/tools/vm/run.sh check

_check-vm: vm-initramfs
	@$(VM_ENV) $(TOP)/tools/vm/run.sh check

_demo:
	@$(MAKE) --no-print-directory vm-initramfs >$(VM_DIR)/build.log 2>&1 || { cat $(VM_DIR)/build.log; exit 1; }
	@$(VM_ENV) $(TOP)/tools/vm/run.sh demo

_vm:
	@mkdir -p $(VM_DIR)
	@$(MAKE) --no-print-directory vm-initramfs >$(VM_DIR)/build.log 2>&1 || { cat $(VM_DIR)/build.log; exit 1; }
	@$(VM_ENV) VM_TIMEOUT=$(VM_SHELL_TIMEOUT) $(TOP)/tools/vm/run.sh shell

# tools/testing checks the machine itself (tools/testing/setup.mk): it
# unpacks build/ksrc when the harness is missing, and stops with one line
# naming the fix when a package is.
check-host:
	@test -f $(TOP)/tools/testing/Makefile || { echo "no host tests (tools/testing/Makefile)"; exit 0; }; \
	$(MAKE) -C $(TOP)/tools/testing check

bench-host:
	@test -f $(TOP)/tools/testing/bench.mk || { echo "no host benchmark (tools/testing/bench.mk)" >&2; exit 1; }; \
	$(MAKE) -C $(TOP)/tools/testing bench

# ---- lint ---------------------------------------------------------------

lint: sparse checkpatch kernel-doc

# sparse through kbuild, with W=1, on a fresh copy so that every file is
# compiled and checked; any warning about our sources (sparse's or the
# compiler's) fails.
sparse: ksrc
	@test -n "$(VM_KVER)" || { echo "no VM kernel headers; run 'make deps'" >&2; exit 1; }
	@rm -rf $(BUILD)/sparse && mkdir -p $(BUILD)/sparse
	@cd $(TOP) && find Kbuild module include -type f \( -name Kbuild -o -name '*.[ch]' \) | \
		cpio -pdm --quiet $(BUILD)/sparse
	@$(MAKE) -s -C $(VM_KDIR) M=$(BUILD)/sparse C=2 W=1 modules >$(BUILD)/sparse.log 2>&1; rc=$$?; \
	if [ $$rc != 0 ] || grep -qE '^$(BUILD)/sparse/.*: (warning|error):' $(BUILD)/sparse.log; then \
		grep -E '^$(BUILD)/sparse/.*: (warning|error):' $(BUILD)/sparse.log || cat $(BUILD)/sparse.log; \
		echo "sparse/W=1: FAILED (log: $(BUILD)/sparse.log)" >&2; exit 1; fi; \
	echo "sparse and W=1: clean (every object in Kbuild)"

# UAPI headers cannot use BIT() (userspace has no such macro), so
# checkpatch's BIT_MACRO check is off for include/uapi only.
checkpatch: ksrc
	@{ $(CHECKPATCH) $(LINT_KERNEL_C); \
	   $(CHECKPATCH) --ignore BIT_MACRO $(LINT_UAPI_H); } >$(BUILD)/checkpatch.log 2>&1; \
	if grep -qE ': (ERROR|WARNING|CHECK):' $(BUILD)/checkpatch.log; then \
		grep -E ': (ERROR|WARNING|CHECK):' $(BUILD)/checkpatch.log; \
		echo "checkpatch: FAILED (log: $(BUILD)/checkpatch.log)" >&2; exit 1; fi; \
	echo "checkpatch: clean ($(words $(LINT_C)) files)"

kernel-doc: ksrc
	@perl $(KSRC)/scripts/kernel-doc -none $(LINT_KERNEL_C) \
		>$(BUILD)/kernel-doc.log 2>&1; rc=$$?; \
	if [ $$rc != 0 ] || [ -s $(BUILD)/kernel-doc.log ]; then \
		cat $(BUILD)/kernel-doc.log; echo "kernel-doc: FAILED" >&2; exit 1; fi; \
	echo "kernel-doc: clean ($(words $(LINT_KERNEL_C)) files)"

# ---- tools and documentation --------------------------------------------

tools:
	@test -f $(TOP)/tools/Makefile || { echo "no tools/Makefile" >&2; exit 1; }
	$(MAKE) -C $(TOP)/tools

htmldocs:
	@test -f $(TOP)/Documentation/conf.py || { echo "no Documentation/conf.py" >&2; exit 1; }
	sphinx-build -W -q -b html $(TOP)/Documentation $(BUILD)/htmldocs
	@echo "  HTML    $(BUILD)/htmldocs/index.html"

# ---- clean --------------------------------------------------------------

# Waits for a VM run in build/vm to finish, and keeps the lock files, so
# that a run started meanwhile still excludes the next one.
clean:
	@if [ -f $(KDIR)/Makefile ]; then $(MAKE) -s -C $(KDIR) M=$(TOP) clean; fi
	@for d in tools/testing tools; do \
		if [ -f $(TOP)/$$d/Makefile ]; then $(MAKE) -s -C $(TOP)/$$d clean; fi; \
	done
	@mkdir -p $(BUILD) && flock $(BUILD)/vm.lock \
		find $(BUILD) -mindepth 1 -maxdepth 1 ! -name ksrc ! -name '*.lock' -exec rm -rf {} +

distclean: clean
	rm -rf $(BUILD)

# ---- install and DKMS (tool helper D) ------------------------------------

DKMS_NAME := shpt
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(TOP)/dkms.conf)
DKMS_SRC_FILES := Kbuild dkms.conf $(wildcard module/*.[ch]) \
	$(shell cd $(TOP) && find include -name '*.h')
# The kernel "make dkms-check" builds for: the VM kernel's Debian headers.
DKMS_KVER ?= $(VM_KVER)

.PHONY: install dkms-install dkms-check

# modules_install into /lib/modules/<KDIR's release>/updates, then depmod.
install: module
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_DIR=updates modules_install

# Copy the sources to /usr/src/shpt-VERSION and let DKMS build and install
# them for the running kernel (and, with AUTOINSTALL, for future ones).
dkms-install: dkms-version
	@test "$$(id -u)" = 0 || { echo "dkms-install: run as root" >&2; exit 1; }
	rm -rf /usr/src/$(DKMS_NAME)-$(DKMS_VERSION)
	mkdir -p /usr/src/$(DKMS_NAME)-$(DKMS_VERSION)
	cd $(TOP) && cp --parents $(DKMS_SRC_FILES) /usr/src/$(DKMS_NAME)-$(DKMS_VERSION)/
	dkms add -m $(DKMS_NAME) -v $(DKMS_VERSION) || true
	dkms build -m $(DKMS_NAME) -v $(DKMS_VERSION)
	dkms install -m $(DKMS_NAME) -v $(DKMS_VERSION)

dkms-version:
	@v=$$(sed -n 's/^#define SHPT_VERSION[[:space:]]*"\(.*\)"/\1/p' $(TOP)/module/shpt.h); \
	test "$$v" = "$(DKMS_VERSION)" || { \
		echo "dkms.conf PACKAGE_VERSION=$(DKMS_VERSION) but module/shpt.h SHPT_VERSION=$$v" >&2; exit 1; }

# A real "dkms build" against the installed Debian headers, in a throw-away
# DKMS tree: /var/lib/dkms and /usr/src are not touched.  sign_file points
# at nothing so DKMS does not create /var/lib/dkms/mok.key.
dkms-check: dkms-version
	@mkdir -p $(BUILD)
	@test -d /usr/src/linux-headers-$(DKMS_KVER) || { echo "dkms-check: no /usr/src/linux-headers-$(DKMS_KVER); run 'make deps'" >&2; exit 1; }
	@command -v dkms >/dev/null || { echo "dkms-check: dkms not installed; run 'make deps'" >&2; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	src=$$tmp/src/$(DKMS_NAME)-$(DKMS_VERSION) && mkdir -p $$src $$tmp/tree $$tmp/install && \
	(cd $(TOP) && cp --parents $(DKMS_SRC_FILES) $$src/) && \
	if sign_file=$$tmp/no-sign-file dkms --dkmstree $$tmp/tree --sourcetree $$tmp/src \
		--installtree $$tmp/install build -m $(DKMS_NAME) -v $(DKMS_VERSION) \
		-k $(DKMS_KVER) --kernelsourcedir /usr/src/linux-headers-$(DKMS_KVER) \
		>$(BUILD)/dkms-check.log 2>&1 && \
	   test -f $$tmp/tree/$(DKMS_NAME)/$(DKMS_VERSION)/$(DKMS_KVER)/x86_64/module/$(DKMS_NAME).ko; then \
		echo "dkms-check: ok ($(DKMS_NAME) $(DKMS_VERSION) for $(DKMS_KVER))"; \
	else \
		cat $(BUILD)/dkms-check.log; cat $$tmp/tree/$(DKMS_NAME)/$(DKMS_VERSION)/build/make.log 2>/dev/null; \
		echo "dkms-check: FAILED" >&2; exit 1; \
	fi

# "make check" includes the DKMS build (before the VM run, which prints the
# final verdict line).
_check-all: dkms-check
