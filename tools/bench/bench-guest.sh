#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of "make bench", run by /init (tools/vm/init.sh) in
# shpt_mode=bench.  Loads shpt, runs every case of shpt-bench and of the
# in-kernel benchmark (debugfs shpt/bench, when the module has it), unloads
# shpt.  Results are "@bench" and "@kbench" lines for tools/bench/report.py;
# "@shpt bench-step" lines show progress.  The sizes come from the kernel
# command line (the Makefile's BENCH_* variables):
#
#   shpt_bench_sizes=16K,256K,1M,4M  table sizes of the kernel lookup case
#   shpt_bench_reps=5                repetitions of munmap and exit
#   shpt_bench_mib=1024              region of munmap, exit and populate
#   shpt_bench_pages=131072          most pages touched per memory density
#
# Exits non-zero if any step failed.

B=/usr/bin/shpt-bench
sizes=${shpt_bench_sizes:-16K,256K,1M,4M}
reps=${shpt_bench_reps:-5}
mib=${shpt_bench_mib:-1024}
pages=${shpt_bench_pages:-131072}
rc=0

step() {
	echo "@shpt bench-step $*"
	"$@" || { echo "@bench-fail $*: exit status $?"; rc=1; }
}

# NUMA balancing's hinting scans change protections, and each change
# invalidates (removes) mirrored entries: a populated region would lose
# entries before its munmap is timed.  Off for the whole run.
echo 0 >/proc/sys/kernel/numa_balancing 2>/dev/null

insmod "$SHPT_KO" || { echo "@bench-fail insmod"; exit 1; }
echo "@bench-info {\"guest_cpus\": $(nproc), \"kernel\": \"$(uname -r)\"," \
	"\"thp\": \"$(cat /sys/kernel/mm/transparent_hugepage/enabled)\","  \
	"\"numa_balancing\": $(cat /proc/sys/kernel/numa_balancing 2>/dev/null || echo null)," \
	"\"guest_mem_kb\": $(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)," \
	"\"sizes\": \"$sizes\", \"reps\": $reps, \"mib\": $mib, \"pages\": $pages}"

step $B memory -p "$pages"
step $B munmap -m "$mib" -r "$reps"
step $B exit -m "$mib" -r "$reps"
# "all" runs the kernel's default sizes, which are the issue's; other
# sizes go to each table case by name.
if [ "$sizes" = 16K,256K,1M,4M ]; then
	step $B kernel all
else
	step $B kernel lookup sizes="$sizes" threads=1,all
	step $B kernel bulk sizes="$sizes"
	step $B kernel insert sizes="$sizes"
	step $B kernel hash
fi
step $B kwalk dense
step $B kwalk sparse
step $B kpopulate -m "$mib"

rmmod shpt || { echo "@bench-fail rmmod"; rc=1; }
exit $rc
