// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: read-only diagnostics under /sys/kernel/debug/shpt/.  These files
 * are not an ABI (Documentation/usage.rst describes them).  No file ever
 * shows a hash value or a bucket index.
 */
#define pr_fmt(fmt) "shpt-debugfs: " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "bench.h"
#include "mirror.h"
#include "shpt.h"

/* Set at init, cleared at exit; both run single-threaded. */
static struct dentry *shpt_debugfs_root;

/*
 * chains: exact lengths 0..SHPT_DBG_LENS-1, then one open bin.  4096 is far
 * beyond any chain Poisson(1.5) produces (1.5: the default max_load) and
 * beyond the default flood, so sum(len * count) == n holds exactly unless
 * the open bin is used.
 */
#define SHPT_DBG_LENS		4096
#define SHPT_DBG_BINS		(SHPT_DBG_LENS + 1)
#define SHPT_MICRO		1000000ULL
/* Rows past the Poisson range are printed only when they count buckets. */
#define SHPT_DBG_MIN_EXP	(SHPT_MICRO / 1000)
/* Pool tail bins until each expects at least 5 buckets (chi-square rule). */
#define SHPT_CHI2_MIN_EXP	(5 * SHPT_MICRO)
static u64 shpt_div_or_zero(u64 a, u64 b)
{
	return b ? div64_u64(a, b) : 0;
}

static int shpt_stats_show(struct seq_file *m, void *unused)
{
	struct shpt_table_stats t;
	struct shpt_mirror_stats s;
	int ev;

	shpt_table_get_stats(shpt_table, &t);
	shpt_mirror_get_stats(&s);

	seq_printf(m, "lookups %llu\n", s.lookups);
	seq_printf(m, "hits %llu\n", s.hits);
	seq_printf(m, "misses %llu\n", s.misses);
	seq_printf(m, "fills %llu\n", s.fills);
	seq_printf(m, "faults %llu\n", s.faults);
	seq_printf(m, "not_present %llu\n", s.not_present);
	seq_printf(m, "nofill %llu\n", s.nofill);
	seq_printf(m, "table_lookups %llu\n", t.lookups);
	seq_printf(m, "table_hits %llu\n", t.hits);
	seq_printf(m, "table_misses %llu\n", t.misses);
	seq_printf(m, "probes %llu\n", t.probes);
	seq_printf(m, "probes_per_lookup_x1000 %llu\n",
		   shpt_div_or_zero(t.probes * 1000, t.lookups));
	seq_printf(m, "max_probes %llu\n", t.max_probes);
	seq_printf(m, "restarts %llu\n", t.restarts);
	seq_printf(m, "inserts %llu\n", t.inserts);
	seq_printf(m, "replaces %llu\n", t.replaces);
	seq_printf(m, "removes %llu\n", t.removes);
	for (ev = 0; ev < SHPT_EV_NR; ev++)
		seq_printf(m, "inval_%s %llu\n", shpt_event_name(ev),
			   s.inval[ev]);
	seq_printf(m, "inval_pages %llu\n", s.inval_pages);
	seq_printf(m, "inval_entries %llu\n", s.inval_entries);
	seq_printf(m, "inval_sweeps %llu\n", s.inval_sweeps);
	seq_printf(m, "inval_busy %llu\n", s.inval_busy);
	seq_printf(m, "grows %llu\n", t.grows);
	seq_printf(m, "shrinks %llu\n", t.shrinks);
	seq_printf(m, "rekeys %llu\n", t.rekeys);
	seq_printf(m, "rekey_retries %llu\n", t.rekey_retries);
	seq_printf(m, "long_chains %llu\n", t.long_chains);
	seq_printf(m, "retries %llu\n", s.retries);
	seq_printf(m, "alloc_fail %llu\n", t.alloc_fail);
	seq_printf(m, "mirror_alloc_fail %llu\n", s.alloc_fail);
	seq_printf(m, "entries %llu\n", t.nelems);
	seq_printf(m, "buckets %llu\n", t.nbuckets);
	seq_printf(m, "load_x1000 %llu\n",
		   shpt_div_or_zero(t.nelems * 1000, t.nbuckets));
	seq_printf(m, "bytes_in_use %llu\n", t.bytes);
	seq_printf(m, "mirrors %llu\n", s.mirrors);
	seq_printf(m, "mirrors_mm %llu\n", s.mirrors_mm);
	seq_printf(m, "attaches %llu\n", s.attaches);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shpt_stats);

/**
 * struct shpt_chains - one read of the chains file
 * @hist: buckets per chain length; the last bin is open.  Compacted in
 *	place into the printed rows, for the chi-square test.
 * @exp: Poisson expectation per bin, in millionths of a bucket; compacted
 *	alongside @hist
 */
struct shpt_chains {
	u64 hist[SHPT_DBG_BINS];
	u64 exp[SHPT_DBG_BINS];
};

/* e^-x for x in Q32.32, as Q32.32: Taylor for e^(x/2^s), inverted, squared s times. */
static u64 shpt_exp_neg_q32(u64 x)
{
	u64 sum = 1ULL << 32, term = 1ULL << 32, z;
	unsigned int s = 0, k;

	while ((x >> s) > (1ULL << 32))
		s++;
	x >>= s;
	for (k = 1; term && k < 40; k++) {
		term = div_u64(mul_u64_u64_shr(term, x, 32), k);
		sum += term;
	}
	z = div64_u64(U64_MAX, sum);
	while (s--)
		z = mul_u64_u64_shr(z, z, 32);
	return z;
}

/*
 * Poisson(alpha) counts for B buckets, alpha = n / B, in millionths:
 * E_0 = B e^-alpha, E_k+1 = E_k alpha / (k + 1), integer arithmetic only.
 */
static void shpt_chains_expect(struct shpt_chains *c, u64 n, u64 b)
{
	u64 alpha;
	unsigned int k;

	alpha = n < (1ULL << 31) ? div64_u64(n << 32, b) : U64_MAX >> 1;
	c->exp[0] = mul_u64_u64_shr(b * SHPT_MICRO, shpt_exp_neg_q32(alpha), 32);
	for (k = 1; k < SHPT_DBG_LENS; k++)
		c->exp[k] = div_u64(mul_u64_u64_shr(c->exp[k - 1], alpha, 32), k);
}

/* (O - E)^2 / E for O in buckets and E in millionths, in thousandths. */
static u64 shpt_chi2_term(u64 o, u64 e)
{
	u64 om = o * SHPT_MICRO, d;

	d = (om > e ? om - e : e - om) / 1000;
	return mul_u64_u64_div_u64(d, d, e / 1000);
}

/* chi-square over the @rows compacted rows, pooling from the tail until E >= 5. */
static u64 shpt_chains_chi2(const struct shpt_chains *c, unsigned int rows,
			    unsigned int *df)
{
	u64 chi2 = 0, o = 0, e = 0, po = 0, pe = 0;
	unsigned int bins = 0;
	int i;

	for (i = rows - 1; i >= 0; i--) {
		o += c->hist[i];
		e += c->exp[i];
		if (e < SHPT_CHI2_MIN_EXP)
			continue;
		if (bins)
			chi2 += shpt_chi2_term(po, pe);
		po = o;
		pe = e;
		bins++;
		o = 0;
		e = 0;
	}
	/* A short leftover pool joins the last complete one. */
	if (bins)
		chi2 += shpt_chi2_term(po + o, pe + e);
	/* Two constraints: the bins sum to B and the mean is n / B. */
	*df = bins > 2 ? bins - 2 : 0;
	return chi2;
}

static void shpt_print_milli(struct seq_file *m, const char *prefix, u64 milli)
{
	u32 frac;
	u64 whole = div_u64_rem(milli, 1000, &frac);

	seq_printf(m, "%s%llu.%03u", prefix, whole, frac);
}

static void shpt_chains_row(struct seq_file *m, const char *open, u64 len,
			    u64 count, u64 exp)
{
	seq_printf(m, "%s%llu %llu", open, len, count);
	shpt_print_milli(m, " ", div_u64(exp + 500, 1000));
	seq_putc(m, '\n');
}

/*
 * Rows 0..the end of the Poisson range always, longer lengths only when
 * some bucket has them, then ">=K" for everything past the last row.  The
 * expectation of ">=K" is the remainder, so expectations sum to B.
 */
static unsigned int shpt_chains_rows(struct seq_file *m, struct shpt_chains *c,
				     u64 b)
{
	u64 total = b * SHPT_MICRO, sum = 0, open = c->hist[SHPT_DBG_LENS];
	unsigned int k, r = 0, lp = 0, last = 0;

	for (k = 0; k < SHPT_DBG_LENS; k++)
		if (c->exp[k] >= SHPT_DBG_MIN_EXP)
			lp = k;
	for (k = 0; k < SHPT_DBG_LENS; k++) {
		u64 count = c->hist[k], exp = min(c->exp[k], total - sum);

		if (k > lp && !count)
			continue;
		shpt_chains_row(m, "", k, count, exp);
		c->hist[r] = count;
		c->exp[r] = exp;
		sum += exp;
		last = k;
		r++;
	}
	/* With chains in the open bin, its bound says more than last + 1. */
	k = open ? SHPT_DBG_LENS : last + 1;
	shpt_chains_row(m, ">=", k, open, total - sum);
	c->hist[r] = open;
	c->exp[r] = total - sum;
	return r + 1;
}

static int shpt_chains_show(struct seq_file *m, void *unused)
{
	struct shpt_table_stats ts;
	unsigned int k, rows, df;
	struct shpt_chains *c;
	u64 n = 0, b = 0;

	c = kvzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	shpt_table_chain_hist(shpt_table, c->hist, SHPT_DBG_BINS);
	for (k = 0; k < SHPT_DBG_BINS; k++) {
		b += c->hist[k];
		n += (u64)k * c->hist[k];
	}
	/* Chains in the open bin: only the entry count knows their length. */
	if (c->hist[SHPT_DBG_LENS]) {
		shpt_table_get_stats(shpt_table, &ts);
		n = max(n, ts.nelems);
	}
	for (k = SHPT_DBG_BINS - 1; k && !c->hist[k]; k--)
		;
	seq_printf(m, "# n %llu\n# B %llu\n", n, b);
	shpt_print_milli(m, "# alpha ", div64_u64(n * 1000 + b / 2, max(b, 1ULL)));
	seq_printf(m, "\n# max_len %s%u\n", k == SHPT_DBG_LENS ? ">=" : "", k);
	seq_puts(m, "# len count expected\n");
	if (b) {
		shpt_chains_expect(c, n, b);
		rows = shpt_chains_rows(m, c, b);
		shpt_print_milli(m, "chi2 ", shpt_chains_chi2(c, rows, &df));
		seq_printf(m, " df %u\n", df);
	}
	kvfree(c);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shpt_chains);

/**
 * struct shpt_asids_ctx - one read of the asids file
 * @m: the seq_file
 * @t: the table's stats, read once, for each row's share of it
 */
struct shpt_asids_ctx {
	struct seq_file *m;
	struct shpt_table_stats t;
};

/*
 * What one ASID costs: its entries' slab slots (SHPT_ENTRY_BYTES objects
 * packed PAGE_SIZE / SHPT_ENTRY_BYTES to a slab page), its share of the
 * bucket array in proportion to its entries, and its index.
 */
static u64 shpt_asid_bytes(const struct shpt_mirror_info *info,
			   const struct shpt_table_stats *t)
{
	u64 bytes = div_u64(info->entries * PAGE_SIZE,
			    PAGE_SIZE / SHPT_ENTRY_BYTES);

	if (t->nelems)
		bytes += mul_u64_u64_div_u64(t->nbuckets * sizeof(void *),
					     min(info->entries, t->nelems),
					     t->nelems);
	return bytes + info->index_bytes;
}

static void shpt_asids_row(const struct shpt_mirror_info *info, void *arg)
{
	struct shpt_asids_ctx *ctx = arg;
	char comm[TASK_COMM_LEN];
	const char *state;
	int i;

	/* One token per column: a comm with spaces would split a row. */
	strscpy(comm, info->comm, sizeof(comm));
	for (i = 0; comm[i]; i++)
		if (!isgraph(comm[i]))
			comm[i] = '_';
	if (!comm[0])
		strscpy(comm, "-", sizeof(comm));
	if (info->dead)
		state = info->has_mm ? "exiting" : "dead";
	else
		state = info->module_owned ? "module" : "live";
	seq_printf(ctx->m, "%llu %d %s %llu %llu %llu %s %llu %llu\n",
		   info->asid, info->pid, comm, info->entries, info->fills,
		   info->invalidations, state, shpt_asid_bytes(info, &ctx->t),
		   info->index_bytes);
}

static int shpt_asids_show(struct seq_file *m, void *unused)
{
	struct shpt_asids_ctx ctx = { .m = m };

	shpt_table_get_stats(shpt_table, &ctx.t);
	seq_puts(m, "# asid pid comm entries fills invalidations state bytes index_bytes\n");
	shpt_mirror_for_each(shpt_asids_row, &ctx);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shpt_asids);

static int shpt_config_show(struct seq_file *m, void *unused)
{
	const struct shpt_table_params *p = &shpt_config.table;

	seq_printf(m, "version %s\n", SHPT_VERSION);
	seq_printf(m, "hash %s\n", shpt_config_hash_name(p->hash));
	seq_printf(m, "buckets %u\n", p->init_buckets);
	seq_printf(m, "min_buckets %u\n", p->min_buckets);
	seq_printf(m, "max_buckets %u\n", p->max_buckets);
	seq_printf(m, "max_load %u\n", p->max_load_pct);
	seq_printf(m, "min_load %u\n", p->min_load_pct);
	seq_printf(m, "max_chain %u\n", p->max_chain);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shpt_config);

/* Writing "1" zeroes the table's and the mirrors' counters. */
static ssize_t shpt_reset_write(struct file *file, const char __user *buf,
				size_t count, loff_t *ppos)
{
	unsigned int v;
	int err;

	err = kstrtouint_from_user(buf, count, 0, &v);
	if (err)
		return err;
	if (v != 1)
		return -EINVAL;
	shpt_table_reset_stats(shpt_table);
	shpt_mirror_reset_stats();
	return count;
}

static const struct file_operations shpt_reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = shpt_reset_write,
	.llseek = noop_llseek,
};

/**
 * shpt_debugfs_init() - create /sys/kernel/debug/shpt/ and its files
 *
 * Call after the table and the mirrors exist.  debugfs failures are not
 * fatal and are not reported: the module works without its diagnostics.
 */
void shpt_debugfs_init(void)
{
	shpt_debugfs_root = debugfs_create_dir("shpt", NULL);
	debugfs_create_file("config", 0444, shpt_debugfs_root, NULL,
			    &shpt_config_fops);
	debugfs_create_file("stats", 0444, shpt_debugfs_root, NULL,
			    &shpt_stats_fops);
	debugfs_create_file("chains", 0444, shpt_debugfs_root, NULL,
			    &shpt_chains_fops);
	debugfs_create_file("asids", 0444, shpt_debugfs_root, NULL,
			    &shpt_asids_fops);
	debugfs_create_file("reset", 0200, shpt_debugfs_root, NULL,
			    &shpt_reset_fops);
	shpt_frames_debugfs_init(shpt_debugfs_root);
	shpt_bench_debugfs_init(shpt_debugfs_root);
}

/**
 * shpt_debugfs_exit() - remove /sys/kernel/debug/shpt/ and everything in it
 *
 * Call before the table and the mirrors go away.
 */
void shpt_debugfs_exit(void)
{
	debugfs_remove_recursive(shpt_debugfs_root);
	shpt_debugfs_root = NULL;
}
