#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh check|demo|bench|shell
#
# Boots the test VM: Debian's kernel $VM_KERNEL with the initramfs
# $VM_INITRD, 2 vCPUs on two sockets, 6 GiB on two NUMA nodes, one 1 GiB
# hugetlb page reserved at boot (for the order-18 entry test; with 2 GiB a
# node, early allocations left no free aligned GiB).  TCG unless
# kvm_intel or kvm_amd is loaded.  The guest's /init (tools/vm/init.sh)
# does the work; the serial console is saved to $VM_LOG.
#
#   check  prints the test output as it arrives, then the verdict of
#          tools/vm/report.awk; exits non-zero on any failure
#   demo   prints only what tools/vm/demo-guest.sh prints
#   bench  prints the steps of tools/bench/bench-guest.sh (make bench; the
#          results stay in the log for tools/bench/report.py) and writes
#          the accelerator used to $VM_LOG.accel
#   shell  interactive console (Ctrl-A X quits QEMU)
#
# Environment (the Makefile sets these): VM_KERNEL, VM_INITRD, VM_LOG,
# VM_TIMEOUT (seconds, whole run), VM_TESTS (comma-separated binary or
# binary:test), VM_CMDLINE_EXTRA, VM_ACCEL (tcg|kvm, default: auto),
# HOST_RC (exit status of the host tests, empty if none ran), HOST_LOG
# (their output, whose harness totals join the summary).
set -eu

mode=${1:?usage: run.sh check|demo|bench|shell}
here=$(cd "$(dirname "$0")" && pwd)
: "${VM_KERNEL:?}" "${VM_INITRD:?}" "${VM_LOG:?}"
: "${VM_TIMEOUT:=300}"
: "${VM_TESTS:=}"
: "${VM_CMDLINE_EXTRA:=}"
: "${HOST_RC:=}"
: "${HOST_LOG:=}"

[ -r "$VM_KERNEL" ] || { echo "run.sh: cannot read $VM_KERNEL" >&2; exit 1; }
[ -r "$VM_INITRD" ] || { echo "run.sh: cannot read $VM_INITRD" >&2; exit 1; }

if [ -z "${VM_ACCEL:-}" ]; then
	VM_ACCEL=tcg
	if { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } &&
	   [ -w /dev/kvm ]; then
		VM_ACCEL=kvm
	fi
fi
case $VM_ACCEL in
kvm) accel="-accel kvm -cpu host" ;;
tcg) accel="-accel tcg -cpu max" ;;
*) echo "run.sh: VM_ACCEL must be kvm or tcg" >&2; exit 1 ;;
esac

# quiet console (errors only; the full log is dumped from dmesg at the
# end), big log buffer, THP on request only (madvise) so tests choose,
# slub_debug=F: every slab cache in debug mode, which catches corruption
# and keeps /proc/slabinfo counts exact (no per-CPU slabs), which the
# leak test needs.
cmdline="console=ttyS0 panic=-1 loglevel=4 log_buf_len=4M"
cmdline="$cmdline transparent_hugepage=madvise"
# bench measures the kernel as users run it: no slab debugging, whose
# checks on every kmem_cache_free() would weigh on shpt's frees.
if [ "$mode" != bench ]; then
	cmdline="$cmdline slub_debug=F"
fi
# One gigantic page, reserved at boot while memory is unfragmented; the
# tests that need it SKIP if it could not be had.
cmdline="$cmdline hugepagesz=1G hugepages=1"
cmdline="$cmdline shpt_mode=$mode${VM_TESTS:+ shpt_tests=$VM_TESTS}"
cmdline="$cmdline $VM_CMDLINE_EXTRA"

set -- qemu-system-x86_64 -nodefaults -no-user-config -no-reboot \
	-display none $accel \
	-m 6G -smp 2,sockets=2 \
	-object memory-backend-ram,id=m0,size=3G \
	-object memory-backend-ram,id=m1,size=3G \
	-numa node,memdev=m0,cpus=0 -numa node,memdev=m1,cpus=1 \
	-kernel "$VM_KERNEL" -initrd "$VM_INITRD" -append "$cmdline"

mkdir -p "$(dirname "$VM_LOG")"
if [ "$mode" = bench ]; then
	echo "$VM_ACCEL" >"$VM_LOG.accel"
fi

if [ "$mode" = shell ]; then
	exec timeout --foreground "$VM_TIMEOUT" "$@" -serial mon:stdio
fi

# Prints the guest's progress from the serial stream: test output for
# check, the demo's own lines for demo.  Kernel log lines and the dmesg
# dump are left to the report.
progress() {
	show=0
	cr=$(printf '\r')
	while IFS= read -r line; do
		line=${line%"$cr"}
		case $mode:$line in
		*"@shpt test-begin "*)
			echo "== ${line#*@shpt test-begin }"; show=1 ;;
		*"@shpt test-end "*)
			show=0 ;;
		*"@shpt boot "*)
			echo "-- guest up: ${line#*@shpt boot }" ;;
		*"@shpt dmesg-"* | *"@shpt done"*)
			show=0 ;;
		check:*"@shpt "*)
			echo "-- ${line#*@shpt }" ;;
		demo:*"@shpt demo-begin"*)
			show=1 ;;
		demo:*"@shpt demo-end"*)
			show=0 ;;
		demo:\[*\]*) ;;
		bench:*"@shpt bench-begin"*)
			show=1 ;;
		bench:*"@shpt bench-end"*)
			show=0 ;;
		bench:*"@shpt bench-step "*)
			echo "-- ${line#*@shpt bench-step }" ;;
		bench:*"@bench "* | bench:*"@kbench "* | bench:\[*\]*) ;;
		*)
			if [ $show = 1 ]; then printf '%s\n' "$line"; fi ;;
		esac
	done
}

# The log is written under a private name and renamed at the end, so the
# verdict is never read from a file another run is writing.
log=$VM_LOG.$$
rcfile=$log.rc
trap 'rm -f "$log" "$rcfile"' EXIT
start=$(date +%s)
echo "-- booting $VM_KERNEL ($VM_ACCEL, timeout ${VM_TIMEOUT}s), serial log: $VM_LOG"
{
	rc=0
	timeout -k 5 "$VM_TIMEOUT" "$@" -serial stdio </dev/null || rc=$?
	echo $rc >"$rcfile"
} | tee "$log" | progress
qemu_rc=$(cat "$rcfile")
secs=$(($(date +%s) - start))

rc=0
awk -v mode="$mode" -v qemu_rc="$qemu_rc" -v secs="$secs" \
	-v vm_timeout="$VM_TIMEOUT" -v logfile="$VM_LOG" -v host_rc="$HOST_RC" -v host_log="$HOST_LOG" \
	-f "$here/report.awk" "$log" || rc=$?
mv -f "$log" "$VM_LOG"
exit $rc
