/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shpt: the in-kernel benchmark (bench.c), /sys/kernel/debug/shpt/bench.
 */
#ifndef _SHPT_BENCH_H
#define _SHPT_BENCH_H

struct dentry;

void shpt_bench_debugfs_init(struct dentry *root);

#endif /* _SHPT_BENCH_H */
