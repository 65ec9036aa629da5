/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: hooks for tests; not part of any kernel API. */
#ifndef _SHIM_H
#define _SHIM_H

/*
 * Every thread that calls into the table registers with liburcu first
 * (the shim's worker thread does so itself).
 */
void shim_thread_init(void);
void shim_thread_exit(void);

/* Live objects in all kmem_caches, and live kmalloc/kvmalloc blocks. */
long shim_kmem_live(void);
long shim_kmalloc_live(void);
/* Make the next @n kmem_cache_alloc()/kvmalloc() calls fail. */
void shim_fail_allocs(int n);
/* Silence printk (the tests trigger rekey messages on purpose). */
void shim_set_quiet(int quiet);
/*
 * Yield the CPU after about one rcu_dereference() in @n (0: never), to
 * widen reader-side race windows in stress tests.  Only in programs built
 * with -DSHIM_JITTER; elsewhere it has no effect.
 */
void shim_set_jitter(unsigned int n);

#endif
