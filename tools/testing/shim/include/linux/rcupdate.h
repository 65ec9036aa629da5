/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: RCU from liburcu (memb flavour).  Every thread that enters a
 * read-side section must call rcu_register_thread() first.
 *
 * Pointer accessors are __atomic loads and stores (acquire for
 * rcu_dereference(), release for rcu_assign_pointer()) rather than
 * liburcu's volatile ones, so that ThreadSanitizer can follow them.  Under
 * TSan, rcu_read_unlock() releases and synchronize_rcu() acquires one
 * token, telling TSan that everything a reader did happens before the
 * free that follows a grace period.
 *
 * rcu_dereference_protected() checks its condition at run time, which is
 * what lockdep does in a PROVE_RCU kernel.
 *
 * Built with -DSHIM_JITTER (the stress test is), after shim_set_jitter(n)
 * one rcu_dereference() in about n yields the CPU right after its load, so that a reader stands on the entry it just
 * reached while writers run: the windows that matter (a reader between
 * reaching an entry and reading its value) become wide enough to hit.
 */
#ifndef _SHIM_LINUX_RCUPDATE_H
#define _SHIM_LINUX_RCUPDATE_H

#include <linux/kernel.h>

#ifndef SHIM_TSAN
#define _LGPL_SOURCE	/* inline read-side fast paths */
#endif
#include <urcu/urcu-memb.h>

#undef rcu_read_lock
#undef rcu_read_unlock
#undef synchronize_rcu
#undef rcu_dereference
#undef rcu_assign_pointer

#ifdef SHIM_TSAN
#include <sanitizer/tsan_interface.h>
extern char shim_rcu_gp_token;
#define shim_tsan_rcu_release()	__tsan_release(&shim_rcu_gp_token)
#define shim_tsan_rcu_acquire()	__tsan_acquire(&shim_rcu_gp_token)
#else
#define shim_tsan_rcu_release()	do { } while (0)
#define shim_tsan_rcu_acquire()	do { } while (0)
#endif

#define rcu_register_thread()	urcu_memb_register_thread()
#define rcu_unregister_thread()	urcu_memb_unregister_thread()

static inline void rcu_read_lock(void)
{
	urcu_memb_read_lock();
}

static inline void rcu_read_unlock(void)
{
	shim_tsan_rcu_release();
	urcu_memb_read_unlock();
}

static inline bool rcu_read_lock_held(void)
{
	return urcu_memb_read_ongoing();
}

static inline void synchronize_rcu(void)
{
	might_sleep();
	urcu_memb_synchronize_rcu();
	shim_tsan_rcu_acquire();
}

#ifdef SHIM_JITTER
extern unsigned int shim_jitter_n;
void shim_jitter_slow(void);

static inline void shim_jitter(void)
{
	if (unlikely(__atomic_load_n(&shim_jitter_n, __ATOMIC_RELAXED)))
		shim_jitter_slow();
}

#define rcu_dereference(p) ({						\
	__typeof__(p) _shim_v = __atomic_load_n(&(p), __ATOMIC_ACQUIRE); \
	shim_jitter();							\
	_shim_v; })
#else
#define rcu_dereference(p)	__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#endif
#define rcu_dereference_raw(p)	rcu_dereference(p)
#define rcu_access_pointer(p)	__atomic_load_n(&(p), __ATOMIC_RELAXED)
#define rcu_dereference_protected(p, c) ({				\
	if (!(c))							\
		shim_bug("%s:%d: rcu_dereference_protected(%s) without %s", \
			 __FILE__, __LINE__, #p, #c);			\
	__atomic_load_n(&(p), __ATOMIC_RELAXED); })
#define rcu_assign_pointer(p, v) \
	__atomic_store_n(&(p), (__typeof__(p))(v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v) \
	__atomic_store_n(&(p), (__typeof__(p))(v), __ATOMIC_RELAXED)

#endif
