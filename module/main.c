// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: module parameters, init and exit.  Wiring only: each part of the
 * module lives in its own file and exposes an init/exit pair in shpt.h.
 */
#define pr_fmt(fmt) "shpt: " fmt

#include <linux/err.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

#include "mirror.h"
#include "shpt.h"

/*
 * The one table every mirror inserts into.  Created before anything can
 * use it and destroyed after everything that used it is gone.
 */
struct shpt_table *shpt_table;

/* Defaults; see the MODULE_PARM_DESC()s below.  Lock rule: see shpt.h. */
struct shpt_config shpt_config = {
	.table = {
		.init_buckets	= 1024,
		.min_buckets	= 64,
		.max_buckets	= 1U << 24,
		.max_load_pct	= 150,
		.min_load_pct	= 55,
		.max_chain	= 16,
		.hash		= SHPT_HASH_SIPHASH,
	},
};

static const char * const shpt_hash_names[SHPT_HASH_NR] = {
	[SHPT_HASH_SIPHASH]	= "siphash",
	[SHPT_HASH_HSIPHASH]	= "hsiphash",
	[SHPT_HASH_MODULO]	= "modulo",
};

/**
 * shpt_config_hash_name() - the parameter spelling of a bucket hash
 * @fn: the hash
 *
 * Return: "siphash", "hsiphash" or "modulo"; "?" for an unknown value.
 */
const char *shpt_config_hash_name(enum shpt_hash_fn fn)
{
	if (fn >= SHPT_HASH_NR)
		return "?";
	return shpt_hash_names[fn];
}

static int shpt_hash_param_set(const char *val, const struct kernel_param *kp)
{
	enum shpt_hash_fn *fn = kp->arg;
	int i;

	i = sysfs_match_string(shpt_hash_names, val);
	if (i < 0) {
		pr_err("hash=%s: unknown hash; use siphash, hsiphash or modulo\n",
		       val);
		return -EINVAL;
	}
	*fn = i;
	return 0;
}

static int shpt_hash_param_get(char *buffer, const struct kernel_param *kp)
{
	const enum shpt_hash_fn *fn = kp->arg;

	return scnprintf(buffer, PAGE_SIZE, "%s\n", shpt_config_hash_name(*fn));
}

static const struct kernel_param_ops shpt_hash_param_ops = {
	.set = shpt_hash_param_set,
	.get = shpt_hash_param_get,
};

module_param_cb(hash, &shpt_hash_param_ops, &shpt_config.table.hash, 0444);
MODULE_PARM_DESC(hash,
		 "bucket hash: siphash (SipHash-2-4, default), hsiphash (faster, weaker) or modulo (vpn mod B, no key: floodable, for demonstrations)");
module_param_named(buckets, shpt_config.table.init_buckets, uint, 0444);
MODULE_PARM_DESC(buckets,
		 "initial bucket count, rounded up to a power of two, within [min_buckets, max_buckets] (default 1024)");
module_param_named(min_buckets, shpt_config.table.min_buckets, uint, 0444);
MODULE_PARM_DESC(min_buckets,
		 "never shrink below this many buckets; a power of two (default 64)");
module_param_named(max_buckets, shpt_config.table.max_buckets, uint, 0444);
MODULE_PARM_DESC(max_buckets,
		 "never grow above this many buckets; a power of two, at most 2^26 (default 2^24)");
module_param_named(max_load, shpt_config.table.max_load_pct, uint, 0444);
MODULE_PARM_DESC(max_load,
		 "grow when entries/buckets exceeds this, in percent, 1..1000 (default 150)");
module_param_named(min_load, shpt_config.table.min_load_pct, uint, 0444);
MODULE_PARM_DESC(min_load,
		 "shrink when entries/buckets falls below this, in percent; 0 never shrinks; 2 * min_load < max_load (default 55)");
module_param_named(max_chain, shpt_config.table.max_chain, uint, 0444);
MODULE_PARM_DESC(max_chain,
		 "an insert into a longer chain rekeys the table (flood defence); 0 disables; at most 65536 (default 16)");
/* Load time only: the mode of /dev/shpt is fixed when it is registered. */
module_param_named(allow_user, shpt_config.allow_user, bool, 0444);
MODULE_PARM_DESC(allow_user,
		 "make /dev/shpt 0666 and let a caller without CAP_SYS_PTRACE (initial user namespace) attach to its own dumpable processes; LSM ptrace policy is not consulted (default 0: root only)");

static int __init shpt_config_validate_buckets(struct shpt_table_params *p)
{
	if (!p->min_buckets || !is_power_of_2(p->min_buckets)) {
		pr_err("min_buckets=%u: must be a power of two\n",
		       p->min_buckets);
		return -EINVAL;
	}
	if (!is_power_of_2(p->max_buckets) ||
	    p->max_buckets > SHPT_BUCKETS_LIMIT) {
		pr_err("max_buckets=%u: must be a power of two <= %u\n",
		       p->max_buckets, SHPT_BUCKETS_LIMIT);
		return -EINVAL;
	}
	if (p->min_buckets > p->max_buckets) {
		pr_err("min_buckets=%u exceeds max_buckets=%u\n",
		       p->min_buckets, p->max_buckets);
		return -EINVAL;
	}
	if (p->init_buckets < p->min_buckets ||
	    p->init_buckets > p->max_buckets) {
		pr_err("buckets=%u: must be within [min_buckets=%u, max_buckets=%u]\n",
		       p->init_buckets, p->min_buckets, p->max_buckets);
		return -EINVAL;
	}
	/* max_buckets is a power of two, so this stays within bounds. */
	p->init_buckets = roundup_pow_of_two(p->init_buckets);
	return 0;
}

static int __init shpt_config_validate(struct shpt_table_params *p)
{
	int err;

	err = shpt_config_validate_buckets(p);
	if (err)
		return err;
	if (!p->max_load_pct || p->max_load_pct > SHPT_LOAD_LIMIT) {
		pr_err("max_load=%u: must be within [1, %u] percent\n",
		       p->max_load_pct, SHPT_LOAD_LIMIT);
		return -EINVAL;
	}
	/*
	 * A grow halves the load factor; if that could land below min_load,
	 * the table would shrink straight back and oscillate.
	 */
	if (2 * p->min_load_pct >= p->max_load_pct) {
		pr_err("min_load=%u: must be below max_load/2 (max_load=%u)\n",
		       p->min_load_pct, p->max_load_pct);
		return -EINVAL;
	}
	if (p->max_chain > SHPT_CHAIN_LIMIT) {
		pr_err("max_chain=%u: must be at most %u\n",
		       p->max_chain, SHPT_CHAIN_LIMIT);
		return -EINVAL;
	}
	return 0;
}

static int __init shpt_init(void)
{
	struct shpt_table_params *p = &shpt_config.table;
	int err;

	err = shpt_config_validate(p);
	if (err)
		return err;

	shpt_table = shpt_table_create(p);
	if (IS_ERR(shpt_table)) {
		err = PTR_ERR(shpt_table);
		pr_err("cannot create the table: %d\n", err);
		return err;
	}
	/* Attaches the pid= target, if any. */
	err = shpt_mirror_init(shpt_table);
	if (err)
		goto err_destroy_table;
	shpt_debugfs_init();
	/* The device is the user's way in, so it comes last. */
	err = shpt_chardev_init();
	if (err)
		goto err_remove_debugfs;

	pr_info("version %s loaded: hash %s, %u buckets\n", SHPT_VERSION,
		shpt_config_hash_name(p->hash), p->init_buckets);
	return 0;

err_remove_debugfs:
	shpt_debugfs_exit();
	shpt_mirror_exit();
err_destroy_table:
	shpt_table_destroy(shpt_table);
	/* The table frees through RCU callbacks and workers of this module. */
	rcu_barrier();
	return err;
}

static void __exit shpt_exit(void)
{
	/* No file is open (each holds a module reference): no fd mirrors. */
	shpt_chardev_exit();
	shpt_debugfs_exit();
	shpt_mirror_exit();
	shpt_table_destroy(shpt_table);
	rcu_barrier();
}

module_init(shpt_init);
module_exit(shpt_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("shpt developers");
MODULE_DESCRIPTION("Shadow hashed page table mirroring live processes");
MODULE_VERSION(SHPT_VERSION);
