/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shpt: declarations shared between the files of the module (not an API).
 */
#ifndef _SHPT_SHPT_H
#define _SHPT_SHPT_H

#include <linux/types.h>

#include "table.h"

#define SHPT_VERSION		"0.1.0"

/* Upper bound for the max_buckets parameter: 2^26 heads are 512 MiB. */
#define SHPT_BUCKETS_LIMIT	67108864U
/* Upper bound for max_load, in percent (a chained table may exceed 1). */
#define SHPT_LOAD_LIMIT		1000U
/* Upper bound for max_chain (2^16). */
#define SHPT_CHAIN_LIMIT	65536U

/**
 * struct shpt_config - the module parameters, validated
 * @table: how the table is sized and hashed; @table.init_buckets is
 *	already rounded up to a power of two
 * @allow_user: /dev/shpt is 0666 (not 0600) and a caller without
 *	CAP_SYS_PTRACE may attach to its own dumpable processes
 *	(Documentation/access.rst)
 *
 * Written only by parameter parsing and shpt_config_validate() before
 * module_init() finishes; read-only afterwards, so readers take no lock.
 */
struct shpt_config {
	struct shpt_table_params table;
	bool allow_user;
};

extern struct shpt_config shpt_config;

/* The global table; created first at init, destroyed last at exit. */
extern struct shpt_table *shpt_table;

const char *shpt_config_hash_name(enum shpt_hash_fn fn);

int shpt_chardev_init(void);
void shpt_chardev_exit(void);

void shpt_debugfs_init(void);
void shpt_debugfs_exit(void);

struct dentry;
void shpt_frames_debugfs_init(struct dentry *dir);

#endif /* _SHPT_SHPT_H */
