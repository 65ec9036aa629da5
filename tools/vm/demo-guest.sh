#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of "make demo": four workloads mirrored by "shptctl run"
# under siphash, then the flood workload under hash=modulo, where the
# chains collapse, and under siphash with max_chain=3, low enough that the
# Poisson tail itself trips the flood defence, so a rekey shows.  Everything printed here reaches the user.

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
exit 0
