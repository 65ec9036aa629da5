/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: preemption is not real here, but the depth is tracked per
 * thread so that might_sleep() catches sleeping under a bucket lock.
 */
#ifndef _SHIM_LINUX_PREEMPT_H
#define _SHIM_LINUX_PREEMPT_H

extern __thread int shim_preempt_depth;

#define preempt_disable()	((void)shim_preempt_depth++)
#define preempt_enable()	((void)shim_preempt_depth--)

#endif
