/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_LINUX_DELAY_H
#define _SHIM_LINUX_DELAY_H

#include <unistd.h>

#include <linux/kernel.h>

/* Sleeps, as in the kernel. */
static inline void msleep(unsigned int msecs)
{
	might_sleep();
	usleep(msecs * 1000U);
}

#endif
