/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: a per-CPU object is SHIM_NR_CPUS copies SHIM_PCPU_UNIT bytes
 * apart, and the pointer names copy 0, as in the kernel.  Each thread is
 * bound to one "CPU" slot (round robin on first use); several threads may
 * share a slot, so this_cpu_*() are relaxed atomics.
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
#define this_cpu_ptr(p)		per_cpu_ptr(p, shim_cpu())
#define shim_this_cpu_lv(pcp)	(*this_cpu_ptr(&(pcp)))

#define this_cpu_read(pcp) \
	__atomic_load_n(&shim_this_cpu_lv(pcp), __ATOMIC_RELAXED)
#define this_cpu_write(pcp, v) \
	__atomic_store_n(&shim_this_cpu_lv(pcp), (v), __ATOMIC_RELAXED)
#define this_cpu_add(pcp, v) \
	((void)__atomic_fetch_add(&shim_this_cpu_lv(pcp), (v), __ATOMIC_RELAXED))
#define this_cpu_inc(pcp)	this_cpu_add(pcp, 1)

#define for_each_possible_cpu(cpu) \
	for ((cpu) = 0; (cpu) < SHIM_NR_CPUS; (cpu)++)

#endif
