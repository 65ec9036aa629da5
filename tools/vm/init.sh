#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the shpt test VM (busybox sh).  The host picks the mode on the
# kernel command line, which the kernel passes to us as environment:
#
#   shpt_mode=check   insmod, run the selftests, rmmod, dump dmesg, power off
#   shpt_mode=demo    run /usr/lib/shpt/demo-guest.sh, power off
#   shpt_mode=bench   run /usr/lib/shpt/bench-guest.sh (make bench), power off
#   shpt_mode=shell   interactive shell on the console
#   shpt_tests=a,b:c  check only these: a test binary, or binary:test
#   shpt_timeout_scale=N  multiply every test timeout by N (debug kernels)
#
# With /lib/modules/shpt_kunit.ko in the initramfs (a CONFIG_KUNIT kernel),
# check runs it first; on a kmemleak kernel it reports leaks after rmmod.
#
# Everything the host parses is a line "@shpt <event> [args]"; see
# tools/vm/report.awk.  Test output between "test-begin" and "test-end" is
# the test binary's own KTAP.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export SHPT_KO=/lib/modules/shpt.ko
SELFTESTS=/usr/lib/shpt/selftests

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
exec </dev/console >/dev/console 2>&1
hostname shpt-vm
chmod 1777 /tmp /dev/shm
# Report a task stuck in D state after 30 s (default 120), well before
# the host's timeout, so the log says where it hangs.
echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

shpt_mark() {
	echo "@shpt $*"
}

# Tell the kernel log too, so dmesg shows which test was running.
shpt_kmsg() {
	echo "shpt-vm: $*" >/dev/kmsg
}

shpt_poweroff() {
	sync
	poweroff -f
	sleep 5
	echo "@shpt poweroff-failed"
	exit 1
}

shpt_insmod() {
	insmod "$SHPT_KO" "$@"
	rc=$?
	if [ $rc = 0 ]; then
		shpt_mark "insmod ok"
	else
		shpt_mark "insmod fail rc=$rc"
	fi
	return $rc
}

# shpt_run_test BINARY [TEST]
shpt_run_test() {
	bin=$1
	name=$bin${2:+:$2}
	if [ ! -x "$SELFTESTS/$bin" ]; then
		shpt_mark "test-missing $name"
		return
	fi
	shpt_kmsg "test-begin $name"
	shpt_mark "test-begin $name"
	(cd "$SELFTESTS" && timeout "$TEST_TIMEOUT" "./$bin" ${2:+-t "$2"})
	rc=$?
	shpt_mark "test-end $name rc=$rc"
	shpt_kmsg "test-end $name rc=$rc"
	# A test that reloads the module must leave it loaded.
	if [ ! -d /sys/module/shpt ]; then
		shpt_mark "module-missing-after $name"
		shpt_insmod
	fi
}

# The kernel's side of the verdict: taint flags and the whole kernel log.
shpt_kernel_report() {
	shpt_mark "taint $(cat /proc/sys/kernel/tainted)"
	shpt_mark "dmesg-begin"
	dmesg
	shpt_mark "dmesg-end"
}

KMEMLEAK=/sys/kernel/debug/kmemleak
KUNIT_KO=/lib/modules/shpt_kunit.ko

# shpt_kmemleak_scan: report what kmemleak finds now.  An object is only
# reported once it is 5 s old and still unreferenced after a scan, so wait,
# then scan twice (a pointer in flight can hide an object from one scan).
shpt_kmemleak_scan() {
	sleep 6
	echo scan >$KMEMLEAK
	echo scan >$KMEMLEAK
	shpt_mark "kmemleak-begin"
	cat $KMEMLEAK
	shpt_mark "kmemleak-end"
}

# shpt_run_kunit: load shpt_kunit.ko, whose tests run in its init, and
# print the suite's KTAP from the kernel log with the timestamps and one
# level of indentation removed, as if it were a test binary.
shpt_run_kunit() {
	name=shpt_kunit
	shpt_kmsg "test-begin $name"
	shpt_mark "test-begin $name"
	timeout "$TEST_TIMEOUT" insmod $KUNIT_KO
	rc=$?
	dmesg | sed -n 's/^\[[ 0-9.]*\] //; /^    # Subtest: shpt_/,/^ok [0-9]* shpt_/{ s/^    //p; }'
	rmmod shpt_kunit 2>/dev/null
	shpt_mark "test-end $name rc=$rc"
	shpt_kmsg "test-end $name rc=$rc"
}

shpt_check() {
	TEST_TIMEOUT=$(sed -n 's/^timeout=//p' "$SELFTESTS/settings" 2>/dev/null)
	: "${TEST_TIMEOUT:=120}"
	# A debug kernel is several times slower: shpt_timeout_scale=N on the
	# command line scales this timeout and, through the environment, each
	# test's own (selftests/shpt_harness.h).
	export SHPT_TIMEOUT_SCALE=${shpt_timeout_scale:-1}
	TEST_TIMEOUT=$((TEST_TIMEOUT * SHPT_TIMEOUT_SCALE))
	# On a kmemleak kernel, forget what boot left unreferenced: only what
	# happens from here on is reported.
	if [ -w $KMEMLEAK ]; then
		echo scan >$KMEMLEAK
		echo clear >$KMEMLEAK
	fi
	if [ -n "${shpt_tests:-}" ]; then
		tests=$(echo "$shpt_tests" | tr ',' ' ')
	else
		tests=$(cat "$SELFTESTS/tests.list")
	fi

	# shpt_kunit runs first when present: always in a full run, and with
	# shpt_tests only when named there.
	kunit=
	if [ -f $KUNIT_KO ]; then
		case ",${shpt_tests:-shpt_kunit}," in
		*,shpt_kunit,*) kunit=shpt_kunit ;;
		esac
	fi
	tests=$(for t in $tests; do [ "$t" = shpt_kunit ] || echo "$t"; done)

	shpt_mark "tests $(echo $kunit $tests)"
	[ -n "$kunit" ] && shpt_run_kunit
	if shpt_insmod; then
		for t in $tests; do
			case $t in
			*:*) shpt_run_test "${t%%:*}" "${t#*:}" ;;
			*) shpt_run_test "$t" ;;
			esac
		done
		rmmod shpt
		rc=$?
		if [ $rc = 0 ]; then
			shpt_mark "rmmod ok"
		else
			shpt_mark "rmmod fail rc=$rc"
		fi
		for f in /sys/module/shpt /dev/shpt /sys/kernel/debug/shpt; do
			[ -e $f ] && shpt_mark "leftover $f"
		done
		# On a kmemleak kernel, look for leaks now that all is unloaded.
		[ -w $KMEMLEAK ] && shpt_kmemleak_scan
	fi
	shpt_kernel_report
}

shpt_mark "boot $(uname -r) mode=${shpt_mode:-check}"
case ${shpt_mode:-check} in
check)
	shpt_check
	shpt_mark "done"
	shpt_poweroff
	;;
demo)
	dmesg -n 1
	shpt_mark "demo-begin"
	sh /usr/lib/shpt/demo-guest.sh
	shpt_mark "demo-end rc=$?"
	shpt_kernel_report
	shpt_mark "done"
	shpt_poweroff
	;;
bench)
	dmesg -n 1
	shpt_mark "bench-begin"
	sh /usr/lib/shpt/bench-guest.sh
	shpt_mark "bench-end rc=$?"
	shpt_kernel_report
	shpt_mark "done"
	shpt_poweroff
	;;
shell)
	cat <<-EOT

	shpt test VM ($(uname -r)); debugfs is at /sys/kernel/debug.
	  insmod \$SHPT_KO             load the module ($SHPT_KO)
	  ls $SELFTESTS  the selftests; shptctl is in /usr/bin
	  poweroff -f                 leave (or Ctrl-A X)
	EOT
	setsid cttyhack sh -l
	shpt_poweroff
	;;
*)
	shpt_mark "bad-mode ${shpt_mode}"
	shpt_poweroff
	;;
esac
