/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bench-only replacement for shim/include/linux/percpu.h (found first on
 * the include path of bench_table only).  Same layout and functions, but
 * this_cpu_*() are plain loads and stores, as the kernel's x86 this_cpu_*()
 * are single unlocked instructions (incq %gs:...).  The shim's version
 * uses locked atomics because several test threads may share a slot; here
 * a shared slot can only lose a statistics count, never a table result,
 * and it keeps three locked read-modify-writes per lookup out of a
 * comparison that is meant to be about the table.  The slot is a
 * thread-local read inline (the kernel reads %gs), not a call into shim.c.
 */
#ifndef _SHIM_LINUX_PERCPU_H
#define _SHIM_LINUX_PERCPU_H

#include <linux/kernel.h>

#define SHIM_NR_CPUS	16
#define SHIM_PCPU_UNIT	512

void *shim_alloc_percpu(size_t size);
void free_percpu(void *p);
int shim_cpu(void);

#define alloc_percpu(type)	((type *)shim_alloc_percpu(sizeof(type)))
#define per_cpu_ptr(p, cpu) \
	((__typeof__(p))((char *)(p) + (size_t)(cpu) * SHIM_PCPU_UNIT))
static __thread int shpt_bench_cpu_slot = -1;
static int shpt_bench_cpu_next;

static inline int shpt_bench_cpu(void)
{
	if (__builtin_expect(shpt_bench_cpu_slot < 0, 0))
		shpt_bench_cpu_slot = __atomic_fetch_add(&shpt_bench_cpu_next, 1,
							 __ATOMIC_RELAXED) %
				      SHIM_NR_CPUS;
	return shpt_bench_cpu_slot;
}

#define this_cpu_ptr(p)		per_cpu_ptr(p, shpt_bench_cpu())
#define shim_this_cpu_lv(pcp)	(*this_cpu_ptr(&(pcp)))

#define this_cpu_read(pcp)	(*(volatile __typeof__(pcp) *)&shim_this_cpu_lv(pcp))
#define this_cpu_write(pcp, v) \
	((void)(*(volatile __typeof__(pcp) *)&shim_this_cpu_lv(pcp) = (v)))
#define this_cpu_add(pcp, v) \
	((void)(*(volatile __typeof__(pcp) *)&shim_this_cpu_lv(pcp) += (v)))
#define this_cpu_inc(pcp)	this_cpu_add(pcp, 1)

#define for_each_possible_cpu(cpu) \
	for ((cpu) = 0; (cpu) < SHIM_NR_CPUS; (cpu)++)

#endif
