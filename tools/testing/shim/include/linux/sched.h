/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_LINUX_SCHED_H
#define _SHIM_LINUX_SCHED_H

#include <linux/kernel.h>

/* A voluntary preemption point: as in the kernel, it may sleep. */
#define cond_resched()	might_sleep()

#endif
