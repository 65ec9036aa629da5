/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: mutexes are pthread mutexes that remember their owner. */
#ifndef _SHIM_LINUX_MUTEX_H
#define _SHIM_LINUX_MUTEX_H

#include <linux/kernel.h>
#include <pthread.h>

struct mutex {
	pthread_mutex_t m;
	unsigned long owner;	/* pthread_self() of the holder, or 0 */
};

static inline void mutex_init(struct mutex *m)
{
	pthread_mutex_init(&m->m, NULL);
	m->owner = 0;
}

static inline void mutex_destroy(struct mutex *m)
{
	pthread_mutex_destroy(&m->m);
}

static inline void mutex_lock(struct mutex *m)
{
	might_sleep();
	pthread_mutex_lock(&m->m);
	__atomic_store_n(&m->owner, (unsigned long)pthread_self(),
			 __ATOMIC_RELAXED);
}

/* Never interrupted: the host has no fatal signals to wait out. */
static inline int mutex_lock_killable(struct mutex *m)
{
	mutex_lock(m);
	return 0;
}

static inline void mutex_unlock(struct mutex *m)
{
	__atomic_store_n(&m->owner, 0UL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&m->m);
}

#define lockdep_is_held(m) \
	(__atomic_load_n(&(m)->owner, __ATOMIC_RELAXED) == \
	 (unsigned long)pthread_self())
#define lockdep_assert_held(m)	BUG_ON(!lockdep_is_held(m))

#endif
