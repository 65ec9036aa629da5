/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: the parts of <linux/kernel.h> the table uses. */
#ifndef _SHIM_LINUX_KERNEL_H
#define _SHIM_LINUX_KERNEL_H

#include <errno.h>
#include <limits.h>
#include <linux/compiler.h>
#include <linux/types.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define min(a, b)	({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
			   _a < _b ? _a : _b; })
#define max(a, b)	({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
			   _a > _b ? _a : _b; })
#define min_t(t, a, b)	min((t)(a), (t)(b))
#define max_t(t, a, b)	max((t)(a), (t)(b))
#define clamp(v, lo, hi) min(max(v, lo), hi)

#define U16_MAX		((u16)~0U)
#define U32_MAX		((u32)~0U)
#define U64_MAX		((u64)~0ULL)

void shim_might_sleep(const char *file, int line);
#define might_sleep()	shim_might_sleep(__FILE__, __LINE__)
#define might_sleep_if(c) do { if (c) might_sleep(); } while (0)

void __attribute__((noreturn)) shim_bug(const char *fmt, ...);
#define BUG_ON(c)	do { if (unlikely(c)) shim_bug("BUG_ON(%s) at %s:%d", \
					#c, __FILE__, __LINE__); } while (0)
#define BUILD_BUG_ON(c)	_Static_assert(!(c), "BUILD_BUG_ON(" #c ")")
#define WARN_ON_ONCE(c)	({ bool _c = (c); if (unlikely(_c)) \
		shim_bug("WARN_ON_ONCE(%s) at %s:%d", #c, __FILE__, __LINE__); _c; })

#endif
