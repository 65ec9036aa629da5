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
exit 0
