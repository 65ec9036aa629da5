/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: printk goes to stderr, prefixed with the file's pr_fmt. */
#ifndef _SHIM_LINUX_PRINTK_H
#define _SHIM_LINUX_PRINTK_H

#include <stdio.h>

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

extern int shim_printk_quiet;

#define shim_printk(lvl, fmt, ...) do {					\
	if (!shim_printk_quiet)						\
		fprintf(stderr, lvl pr_fmt(fmt), ##__VA_ARGS__);	\
} while (0)

#define pr_err(fmt, ...)	shim_printk("<3>", fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)	shim_printk("<4>", fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)	shim_printk("<6>", fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...)	do { } while (0)
#define pr_info_ratelimited(fmt, ...)	pr_info(fmt, ##__VA_ARGS__)
#define pr_warn_ratelimited(fmt, ...)	pr_warn(fmt, ##__VA_ARGS__)

#endif
