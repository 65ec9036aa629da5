/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: bit spin locks with acquire/release atomics. */
#ifndef _SHIM_LINUX_BIT_SPINLOCK_H
#define _SHIM_LINUX_BIT_SPINLOCK_H

#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/preempt.h>
#include <sched.h>

static inline void bit_spin_lock(int bitnum, unsigned long *addr)
{
	unsigned int spins = 0;

	preempt_disable();
	while (test_and_set_bit_lock(bitnum, addr)) {
		do {
			/* the holder may be a preempted thread: let it run */
			if (++spins % 128 == 0)
				sched_yield();
			else
				cpu_relax();
		} while (test_bit(bitnum, addr));
	}
}

static inline int bit_spin_trylock(int bitnum, unsigned long *addr)
{
	preempt_disable();
	if (test_and_set_bit_lock(bitnum, addr)) {
		preempt_enable();
		return 0;
	}
	return 1;
}

static inline void bit_spin_unlock(int bitnum, unsigned long *addr)
{
	BUG_ON(!test_bit(bitnum, addr));
	clear_bit_unlock(bitnum, addr);
	preempt_enable();
}

static inline int bit_spin_is_locked(int bitnum, unsigned long *addr)
{
	return test_bit(bitnum, addr);
}

#endif
