#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of "make demo": four workloads mirrored by "shptctl run"
# under siphash, then the flood workload under hash=modulo, where the
# chains collapse, and under siphash with max_chain=3, low enough that the
# Poisson tail itself trips the flood defence, so a rekey shows; last, a
# forking workload under "shptctl run -f".  Everything printed here
# reaches the user.

W=/usr/lib/shpt/workloads
DBG=/sys/kernel/debug/shpt

shpt_step() {
	echo
	echo "\$ $*"
	"$@" 2>&1
}

shpt_load() {
	insmod "$SHPT_KO" "$@" || { echo "insmod $* failed"; exit 1; }
	echo "[shpt loaded: $(tr '\n' ' ' <$DBG/config)]"
}

shpt_unload() {
	rmmod shpt || { echo "rmmod failed"; exit 1; }
}

echo "== shpt demo on $(uname -r) =="
grep -q " /sys/kernel/debug " /proc/mounts || mount -t debugfs none /sys/kernel/debug

echo
echo "-- 1. siphash (default): four workloads, each mirrored from its first instruction"
shpt_load
for w in sparse dense churn flood; do
	shpt_step shptctl run -- $W/$w -t 2
done
shpt_unload

echo
echo "-- 2. hash=modulo: the flood's VPNs are equal mod B, so they share one chain"
shpt_load hash=modulo
shpt_step shptctl run -- $W/flood -t 2
shpt_unload

echo
echo "-- 3. siphash, max_chain=3: the same flood stays Poisson; a chain over 3 rekeys"
shpt_load max_chain=3
shpt_step shptctl run -- $W/flood -t 2
echo
echo "\$ dmesg | grep rekeyed"
dmesg | grep rekeyed | sed "s/^\[[ 0-9.]*\] //"
shpt_unload

echo
echo "-- 4. run -f: a forking workload; every process is mirrored from its first"
echo "   instruction with its own ASID (a new one after an exec), verified at its exit"
shpt_load
shpt_step shptctl run -f -- $W/churn -t 1
if command -v stress-ng >/dev/null; then
	shpt_step shptctl run -f -- stress-ng -q --vm 2 --vm-bytes 16M --fork 2 --fork-ops 8 -t 2
else
	echo "(no stress-ng in this VM: 'make deps' installs it, and the VM build copies it)"
fi
shpt_unload

# -- 5. shared frames (debugfs frames, "shptctl frames"), self-contained.
# share_run ARGS: start the share workload; sets share_pid and child_pid.
share_run() {
	$W/share "$@" >/tmp/share.out &
	share_pid=$!
	for _ in $(seq 50); do
		grep -q "^share: parent" /tmp/share.out 2>/dev/null && break
		sleep 0.1
	done
	cat /tmp/share.out
	child_pid=$(sed -n 's/^share: parent [0-9]* child \([0-9]*\).*/\1/p' /tmp/share.out)
}

# Mirror both processes, populated, held until they exit.
share_mirror() {
	shptctl attach "$share_pid" --populate --hold >/tmp/share.a1 2>/dev/null &
	shptctl attach "$child_pid" --populate --hold >/tmp/share.a2 2>/dev/null &
	for _ in $(seq 50); do
		grep -q asid /tmp/share.a1 && grep -q asid /tmp/share.a2 && break
		sleep 0.1
	done
	echo "mirrored: parent $share_pid $(cat /tmp/share.a1), child $child_pid $(cat /tmp/share.a2)"
}

# Stop the workload; the holders see it gone and detach.
share_stop() {
	kill "$share_pid" "$child_pid" 2>/dev/null
	wait
}

echo
echo "-- 5. shared frames: fork shares pages copy-on-write, a write unshares them, KSM merges"
shpt_load
share_run -p 64 -t 120
share_mirror
shpt_step shptctl frames -n 5
kill -USR1 "$child_pid"
sleep 1
tail -n 1 /tmp/share.out
echo "(its writes broke copy-on-write: cow is about 64 lower, those frames are no longer shared)"
shpt_step shptctl frames -n 5
share_stop

K=/sys/kernel/mm/ksm
if [ -w $K/run ]; then
	ksm_old="$(cat $K/run) $(cat $K/pages_to_scan) $(cat $K/sleep_millisecs)"
	echo 10000 >$K/pages_to_scan
	echo 0 >$K/sleep_millisecs
	echo 1 >$K/run
	share_run -k -p 64 -t 120
	for _ in $(seq 100); do
		[ "$(cat $K/pages_sharing)" -ge 127 ] && break
		sleep 0.2
	done
	echo "ksmd: pages_shared $(cat $K/pages_shared), pages_sharing $(cat $K/pages_sharing)"
	share_mirror
	shpt_step shptctl frames -n 3
	share_stop
	echo 2 >$K/run	# unmerge everything, then the old settings
	set -- $ksm_old
	echo "$2" >$K/pages_to_scan
	echo "$3" >$K/sleep_millisecs
	echo "$1" >$K/run
else
	echo "(no $K: this kernel has no KSM)"
fi
shpt_unload
exit 0
