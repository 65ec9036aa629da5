/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: prefetch() for reading, as in the kernel's <linux/prefetch.h>. */
#ifndef _SHIM_LINUX_PREFETCH_H
#define _SHIM_LINUX_PREFETCH_H

#define prefetch(x)	__builtin_prefetch(x)

#endif
