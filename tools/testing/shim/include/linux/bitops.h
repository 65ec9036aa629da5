/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: atomic bit operations on unsigned long words. */
#ifndef _SHIM_LINUX_BITOPS_H
#define _SHIM_LINUX_BITOPS_H

#include <linux/bits.h>
#include <linux/compiler.h>

#define SHIM_WORD(nr, addr)	((addr) + (nr) / 64)
#define SHIM_MASK(nr)		(1UL << ((nr) % 64))

static inline bool test_bit(long nr, const unsigned long *addr)
{
	return __atomic_load_n(SHIM_WORD(nr, addr), __ATOMIC_RELAXED) &
	       SHIM_MASK(nr);
}

static inline void set_bit(long nr, unsigned long *addr)
{
	__atomic_fetch_or(SHIM_WORD(nr, addr), SHIM_MASK(nr), __ATOMIC_RELAXED);
}

static inline void clear_bit(long nr, unsigned long *addr)
{
	__atomic_fetch_and(SHIM_WORD(nr, addr), ~SHIM_MASK(nr),
			   __ATOMIC_RELAXED);
}

static inline void __set_bit(long nr, unsigned long *addr)
{
	*SHIM_WORD(nr, addr) |= SHIM_MASK(nr);
}

static inline void __clear_bit(long nr, unsigned long *addr)
{
	*SHIM_WORD(nr, addr) &= ~SHIM_MASK(nr);
}

static inline bool test_and_set_bit(long nr, unsigned long *addr)
{
	return __atomic_fetch_or(SHIM_WORD(nr, addr), SHIM_MASK(nr),
				 __ATOMIC_SEQ_CST) & SHIM_MASK(nr);
}

static inline bool test_and_clear_bit(long nr, unsigned long *addr)
{
	return __atomic_fetch_and(SHIM_WORD(nr, addr), ~SHIM_MASK(nr),
				  __ATOMIC_SEQ_CST) & SHIM_MASK(nr);
}

static inline bool test_and_set_bit_lock(long nr, unsigned long *addr)
{
	return __atomic_fetch_or(SHIM_WORD(nr, addr), SHIM_MASK(nr),
				 __ATOMIC_ACQUIRE) & SHIM_MASK(nr);
}

static inline void clear_bit_unlock(long nr, unsigned long *addr)
{
	__atomic_fetch_and(SHIM_WORD(nr, addr), ~SHIM_MASK(nr),
			   __ATOMIC_RELEASE);
}

#endif
