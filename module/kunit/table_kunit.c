// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the table core, run inside the kernel: RCU readers on
 * other CPUs while the table grows, shrinks and rekeys, and the
 * graveyard's grace period, checked by KASAN and lockdep rather than by
 * the userspace shim of tools/testing.
 *
 * table.c is compiled into this file, so shpt_kunit.ko shares no object
 * with shpt.ko and the tests can look at the table's internals.  Entry
 * allocations and frees go through counters (see struct shpt_kunit_slab),
 * which is how a test tells whether an entry has been freed.
 *
 * Every test creates and destroys its own table.  The suite runs when the
 * module is loaded; its KTAP goes to the kernel log.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

/**
 * struct shpt_kunit_slab - entry allocations made by table.c
 * @allocs: entries allocated
 * @frees: entries freed: by the reaper, by destroy, or an unused entry
 *	after a replace
 * @watch: an entry whose freeing a test waits for
 * @watch_freed: @watch has been freed
 *
 * One table exists at a time (KUnit runs the tests one after the other),
 * so the counters are global and zeroed by shpt_kunit_init().
 */
struct shpt_kunit_slab {
	atomic_long_t allocs;
	atomic_long_t frees;
	const void *watch;
	bool watch_freed;
};

static struct shpt_kunit_slab shpt_kunit_slab;

static void *shpt_kunit_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	void *p = kmem_cache_alloc(s, gfp);

	if (p)
		atomic_long_inc(&shpt_kunit_slab.allocs);
	return p;
}

static void shpt_kunit_cache_free(struct kmem_cache *s, void *p)
{
	if (p == READ_ONCE(shpt_kunit_slab.watch))
		WRITE_ONCE(shpt_kunit_slab.watch_freed, true);
	atomic_long_inc(&shpt_kunit_slab.frees);
	kmem_cache_free(s, p);
}

/*
 * The table core under test, with its entry allocator counted.  table.c
 * sets its own pr_fmt; this file's applies again after it.
 */
#undef pr_fmt
#define kmem_cache_alloc(s, gfp)	shpt_kunit_cache_alloc(s, gfp)
#define kmem_cache_free(s, p)		shpt_kunit_cache_free(s, p)
#include "../table.c"
#undef kmem_cache_free
#undef kmem_cache_alloc
#undef pr_fmt
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#define SHPT_KUNIT_MAX_READERS	4
/* The writer thread's keys: its own ASID, a window of live pages. */
#define SHPT_KUNIT_WRITER_ASID	100
#define SHPT_KUNIT_WRITER_KEYS	256
#define SHPT_KUNIT_WRITER_LIVE	32
/* Keys per bulk lookup of a bulk reader: two groups and a partial one. */
#define SHPT_KUNIT_BULK		40
/* An ASID no test inserts: bulk readers mix its keys in; they must miss. */
#define SHPT_KUNIT_ABSENT_ASID	77
/* Longest wait for the threads to start, or for the reaper to run. */
#define SHPT_KUNIT_WAIT		(10 * HZ)

/**
 * struct shpt_kunit_ctx - one test's table and threads
 * @t: the table, NULL once destroyed
 * @nkeys: readers look up stable keys 0..@nkeys - 1, which the test keeps
 *	present while the readers run
 * @threads: readers, then the writer, if any
 * @nthreads: threads running
 * @passes: reader passes over all @nkeys keys
 * @misses: stable keys a reader did not find
 * @wrong: stable keys a reader found with a value they never had
 * @writes: writer iterations (an insert and a remove each)
 * @write_errs: writer operations whose result was wrong
 * @bulk: readers look the keys up with shpt_table_lookup_bulk(), in
 *	batches of SHPT_KUNIT_BULK with absent keys mixed in
 */
struct shpt_kunit_ctx {
	struct shpt_table *t;
	unsigned int nkeys;
	struct task_struct *threads[SHPT_KUNIT_MAX_READERS + 1];
	unsigned int nthreads;
	atomic_long_t passes;
	atomic_long_t misses;
	atomic_long_t wrong;
	atomic_long_t writes;
	atomic_long_t write_errs;
	bool bulk;
};

/*
 * Stable key @i: four ASIDs, distinct pages, every eighth one a 2 MiB page,
 * and a pfn that names the key.
 */
static struct shpt_mapping shpt_kunit_key(unsigned int i)
{
	struct shpt_mapping m = {
		.asid = 1 + i % 4,
		.vpn = (u64)i << 9,
		.order = i % 8 == 7 ? 9 : 0,
		.pfn = 0x10000 + i,
		.flags = SHPT_F_VALID | SHPT_F_READ,
	};

	return m;
}

static bool shpt_kunit_same(const struct shpt_mapping *a,
			    const struct shpt_mapping *b)
{
	return a->asid == b->asid && a->vpn == b->vpn &&
	       a->order == b->order && a->pfn == b->pfn &&
	       a->flags == b->flags;
}

/* Is @want in @t, with exactly its value? */
static bool shpt_kunit_has(struct shpt_table *t,
			   const struct shpt_mapping *want)
{
	struct shpt_mapping m;

	return shpt_table_lookup(t, want->asid, want->vpn, want->order, &m) &&
	       shpt_kunit_same(&m, want);
}

static void shpt_kunit_insert_keys(struct kunit *test, unsigned int from,
				   unsigned int to)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct shpt_mapping m;
	unsigned int i;

	for (i = from; i < to; i++) {
		m = shpt_kunit_key(i);
		KUNIT_ASSERT_EQ(test, shpt_table_insert(ctx->t, &m, GFP_KERNEL),
				0);
	}
}

/* Count the stable keys in [@from, @to) that are present and intact. */
static unsigned int shpt_kunit_count_keys(struct shpt_table *t,
					  unsigned int from, unsigned int to)
{
	struct shpt_mapping m;
	unsigned int i, n = 0;

	for (i = from; i < to; i++) {
		m = shpt_kunit_key(i);
		n += shpt_kunit_has(t, &m);
	}
	return n;
}

/* Defaults, with automatic resize and the flood defence switched off. */
static void shpt_kunit_fixed_params(struct shpt_table_params *p,
				    enum shpt_hash_fn hash,
				    unsigned int buckets)
{
	shpt_table_default_params(p);
	p->init_buckets = buckets;
	p->min_buckets = 1;
	p->max_buckets = 1 << 16;
	p->max_load_pct = 100000;
	p->min_load_pct = 0;
	p->max_chain = 0;
	p->hash = hash;
}

static struct shpt_table *shpt_kunit_create(struct kunit *test,
					    const struct shpt_table_params *p)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct shpt_table *t;

	t = shpt_table_create(p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	ctx->t = t;
	return t;
}

/*
 * Wait for a queued automatic resize.  Not shpt_table_flush(): with the
 * writer removing entries, the reaper finds a non-empty graveyard after
 * every grace period and its work does not end until the writer stops.
 */
static void shpt_kunit_wait_resize(struct shpt_table *t)
{
	flush_work(&t->resize_work);
}

static void shpt_kunit_stats(struct kunit *test, struct shpt_table_stats *s)
{
	struct shpt_kunit_ctx *ctx = test->priv;

	shpt_table_get_stats(ctx->t, s);
}

/* ---- reader and writer threads ---- */

/*
 * One pass of a bulk reader: every stable key, in batches of
 * SHPT_KUNIT_BULK where every fifth key is an absent one, which must miss.
 */
static void shpt_kunit_bulk_pass(struct shpt_kunit_ctx *ctx)
{
	struct shpt_mapping want[SHPT_KUNIT_BULK], out[SHPT_KUNIT_BULK];
	struct shpt_key keys[SHPT_KUNIT_BULK];
	DECLARE_BITMAP(hits, SHPT_KUNIT_BULK);
	unsigned int i = 0, k, n, found;

	while (i < ctx->nkeys) {
		for (n = 0; n < SHPT_KUNIT_BULK && i < ctx->nkeys; n++) {
			if (n % 5 == 4) {
				want[n] = shpt_kunit_key(i);
				want[n].asid = SHPT_KUNIT_ABSENT_ASID;
			} else {
				want[n] = shpt_kunit_key(i++);
			}
			keys[n].asid = want[n].asid;
			keys[n].vpn = want[n].vpn;
			keys[n].order = want[n].order;
		}
		found = shpt_table_lookup_bulk(ctx->t, keys, n, out, hits);
		for (k = 0; k < n; k++) {
			if (want[k].asid == SHPT_KUNIT_ABSENT_ASID) {
				if (test_bit(k, hits))
					atomic_long_inc(&ctx->wrong);
				continue;
			}
			if (!test_bit(k, hits))
				atomic_long_inc(&ctx->misses);
			else if (!shpt_kunit_same(&out[k], &want[k]))
				atomic_long_inc(&ctx->wrong);
		}
		if (found != bitmap_weight(hits, n))
			atomic_long_inc(&ctx->wrong);
	}
}

/* Look every stable key up until told to stop. */
static int shpt_kunit_reader(void *arg)
{
	struct shpt_kunit_ctx *ctx = arg;
	struct shpt_mapping want, m;
	unsigned int i;

	while (!kthread_should_stop()) {
		if (ctx->bulk) {
			shpt_kunit_bulk_pass(ctx);
			goto pass;
		}
		for (i = 0; i < ctx->nkeys; i++) {
			want = shpt_kunit_key(i);
			if (!shpt_table_lookup(ctx->t, want.asid, want.vpn,
					       want.order, &m))
				atomic_long_inc(&ctx->misses);
			else if (!shpt_kunit_same(&m, &want))
				atomic_long_inc(&ctx->wrong);
		}
pass:
		atomic_long_inc(&ctx->passes);
		cond_resched();
	}
	return 0;
}

/*
 * Insert page i and remove page i - SHPT_KUNIT_WRITER_LIVE of the writer's
 * ASID until told to stop, so that inserts and removes race with the
 * rehash.  Each insert must add a new entry and each remove must find one.
 */
static int shpt_kunit_writer(void *arg)
{
	struct shpt_kunit_ctx *ctx = arg;
	struct shpt_mapping m = {
		.asid = SHPT_KUNIT_WRITER_ASID,
		.flags = SHPT_F_VALID,
	};
	unsigned long i;
	u64 old;

	for (i = 0; !kthread_should_stop(); i++) {
		m.vpn = i % SHPT_KUNIT_WRITER_KEYS;
		m.pfn = i & SHPT_PFN_MAX;
		if (shpt_table_insert(ctx->t, &m, GFP_KERNEL) ||
		    !shpt_kunit_has(ctx->t, &m))
			atomic_long_inc(&ctx->write_errs);
		if (i >= SHPT_KUNIT_WRITER_LIVE) {
			old = (i - SHPT_KUNIT_WRITER_LIVE) %
			      SHPT_KUNIT_WRITER_KEYS;
			if (!shpt_table_remove(ctx->t, m.asid, old, 0))
				atomic_long_inc(&ctx->write_errs);
		}
		atomic_long_inc(&ctx->writes);
		cond_resched();
	}
	return 0;
}

static void shpt_kunit_stop(struct shpt_kunit_ctx *ctx)
{
	while (ctx->nthreads)
		kthread_stop(ctx->threads[--ctx->nthreads]);
}

/* Start @fn on a new thread, bound to @cpu unless it is negative. */
static void shpt_kunit_spawn(struct kunit *test, int (*fn)(void *),
			     const char *name, int cpu)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct task_struct *tsk;

	tsk = kthread_create(fn, ctx, "shptk_%s/%u", name, ctx->nthreads);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(tsk), "kthread_create: %ld",
			       PTR_ERR(tsk));
	if (cpu >= 0)
		kthread_bind(tsk, cpu);
	ctx->threads[ctx->nthreads++] = tsk;
	wake_up_process(tsk);
}

/*
 * Start one reader per online CPU (2 to SHPT_KUNIT_MAX_READERS), each bound
 * to its own CPU when more than one is online, and the writer if @writer.
 * Return once every reader has made a pass.
 */
static void shpt_kunit_start(struct kunit *test, bool writer)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	unsigned int i, ncpus = num_online_cpus();
	unsigned int nreaders = clamp(ncpus, 2U, SHPT_KUNIT_MAX_READERS);
	unsigned long deadline;
	int cpu = -1;

	for (i = 0; i < nreaders; i++) {
		if (ncpus > 1) {
			cpu = cpumask_next(cpu, cpu_online_mask);
			if (cpu >= nr_cpu_ids)
				cpu = cpumask_first(cpu_online_mask);
		}
		shpt_kunit_spawn(test, shpt_kunit_reader, "reader", cpu);
	}
	if (writer)
		shpt_kunit_spawn(test, shpt_kunit_writer, "writer", -1);

	deadline = jiffies + SHPT_KUNIT_WAIT;
	while (atomic_long_read(&ctx->passes) < nreaders &&
	       time_before(jiffies, deadline))
		msleep(20);
	KUNIT_ASSERT_GE(test, atomic_long_read(&ctx->passes), (long)nreaders);
}

/* Stop the threads; no stable key may have been missed. */
static void shpt_kunit_check_threads(struct kunit *test, long passes_before)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct shpt_table_stats s;

	shpt_kunit_stop(ctx);
	shpt_kunit_stats(test, &s);
	kunit_info(test, "%ld passes over %u keys, %ld writes, %llu restarts\n",
		   atomic_long_read(&ctx->passes), ctx->nkeys,
		   atomic_long_read(&ctx->writes), s.restarts);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ctx->passes), passes_before);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->misses), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->wrong), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->write_errs), 0);
}

/*
 * Wait for deferred work, check that every entry not linked was freed,
 * destroy the table, and check that destroy freed the rest.
 */
static void shpt_kunit_destroy(struct kunit *test)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct shpt_table_stats s;

	shpt_kunit_stop(ctx);
	shpt_table_flush(ctx->t);
	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shpt_kunit_slab.allocs) -
			atomic_long_read(&shpt_kunit_slab.frees),
			(long)s.nelems);
	shpt_table_destroy(ctx->t);
	ctx->t = NULL;
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shpt_kunit_slab.allocs),
			atomic_long_read(&shpt_kunit_slab.frees));
}

/* ---- tests ---- */

static void shpt_kunit_basic(struct kunit *test)
{
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_mapping m = {
		.asid = 3, .vpn = 0x12340, .pfn = 0xabcde,
		.flags = SHPT_F_VALID | SHPT_F_WRITE,
	};
	struct shpt_mapping out;
	struct shpt_table *t;

	shpt_table_default_params(&p);
	t = shpt_kunit_create(test, &p);

	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 3, 0x12340, 0, &out));
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 3, 0x12340, 0, &out));
	KUNIT_EXPECT_TRUE(test, shpt_kunit_same(&out, &m));
	KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 3, 0x12340, 0, NULL));
	/* the order is part of the key; so are the ASID and the page */
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 3, 0x12340, 1, NULL));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 4, 0x12340, 0, NULL));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 3, 0x1233f, 0, NULL));

	/* a second insert replaces the value in place */
	m.pfn = 0x54321;
	m.flags = SHPT_F_VALID | SHPT_F_COW;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 1);
	KUNIT_EXPECT_TRUE(test, shpt_kunit_has(t, &m));

	/* a 2 MiB page beside it */
	m.vpn = 0x200000;
	m.order = 9;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, shpt_kunit_has(t, &m));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 3, 0x200000, 0, NULL));

	KUNIT_EXPECT_FALSE(test, shpt_table_remove(t, 3, 0x200000, 0));
	KUNIT_EXPECT_TRUE(test, shpt_table_remove(t, 3, 0x200000, 9));
	KUNIT_EXPECT_FALSE(test, shpt_table_remove(t, 3, 0x200000, 9));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 3, 0x200000, 9, NULL));
	KUNIT_EXPECT_TRUE(test, shpt_table_remove(t, 3, 0x12340, 0));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 3, 0x12340, 0, NULL));

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.inserts, 2);
	KUNIT_EXPECT_EQ(test, s.replaces, 1);
	KUNIT_EXPECT_EQ(test, s.removes, 2);
	KUNIT_EXPECT_EQ(test, s.nelems, 0);
	KUNIT_EXPECT_EQ(test, s.lookups, s.hits + s.misses);
	KUNIT_EXPECT_EQ(test, s.hits, 4);
	KUNIT_EXPECT_EQ(test, s.misses, 7);
	shpt_kunit_destroy(test);
}

/* What shpt_table_create() returns for @p: 0 for a table, freed again. */
static long shpt_kunit_create_err(const struct shpt_table_params *p)
{
	struct shpt_table *t = shpt_table_create(p);

	if (IS_ERR(t))
		return PTR_ERR(t);
	shpt_table_destroy(t);
	return 0;
}

static void shpt_kunit_invalid(struct kunit *test)
{
	struct shpt_mapping ok = { .asid = 1, .vpn = 512, .order = 9 };
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_mapping m;
	struct shpt_table *t;

	/* inconsistent parameters */
	shpt_table_default_params(&p);
	p.min_buckets = 0;
	KUNIT_EXPECT_EQ(test, shpt_kunit_create_err(&p), -EINVAL);
	shpt_table_default_params(&p);
	p.min_load_pct = (p.max_load_pct + 1) / 2;
	KUNIT_EXPECT_EQ(test, shpt_kunit_create_err(&p), -EINVAL);
	shpt_table_default_params(&p);
	p.max_buckets = SHPT_MAX_BUCKETS + 1;
	KUNIT_EXPECT_EQ(test, shpt_kunit_create_err(&p), -EINVAL);
	shpt_table_default_params(&p);
	p.hash = SHPT_HASH_NR;
	KUNIT_EXPECT_EQ(test, shpt_kunit_create_err(&p), -EINVAL);

	shpt_table_default_params(&p);
	t = shpt_kunit_create(test, &p);

	/* out-of-range or misaligned fields */
	m = ok;
	m.asid = 0;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), -EINVAL);
	m.asid = SHPT_ASID_MAX + 1;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), -EINVAL);
	m = ok;
	m.vpn = 513;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), -EINVAL);
	m.vpn = SHPT_VPN_MAX + 1;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), -EINVAL);
	/* a page as large as the address space fits; a larger one does not */
	m.vpn = 0;
	m.order = SHPT_VPN_BITS;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);
	m.order = SHPT_VPN_BITS + 1;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), -EINVAL);
	m = ok;
	m.order = SHPT_ORDER_MAX + 1;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), -EINVAL);
	m = ok;
	m.pfn = SHPT_PFN_MAX + 1;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), -EINVAL);
	m = ok;
	m.flags = 1U << SHPT_FLAG_BITS;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), -EINVAL);

	/* the largest valid fields round-trip */
	m.asid = SHPT_ASID_MAX;
	m.vpn = SHPT_VPN_MAX;
	m.order = 0;
	m.pfn = SHPT_PFN_MAX;
	m.flags = (1U << SHPT_FLAG_BITS) - 1;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, shpt_kunit_has(t, &m));

	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 0, 512, 9, NULL));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 1, 513, 9, NULL));
	KUNIT_EXPECT_FALSE(test, shpt_table_remove(t, 0, 512, 9));
	KUNIT_EXPECT_FALSE(test, shpt_table_remove(t, 1, 512, SHPT_ORDER_MAX + 1));

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.inserts, 2);
	KUNIT_EXPECT_EQ(test, s.nelems, 2);
	KUNIT_EXPECT_EQ(test, s.alloc_fail, 0);
	shpt_kunit_destroy(test);
}

/*
 * The same page of eight ASIDs, and of two orders, in one chain under the
 * modulo hash: every key stays distinct through replace, remove and a
 * rehash, which keeps them in one chain and does not rekey.
 */
static void shpt_kunit_homonyms(struct kunit *test)
{
	const u64 vpn = 3 * 512;	/* 2 MiB aligned: bucket 0 of B <= 512 */
	struct shpt_mapping m = { .vpn = vpn, .flags = SHPT_F_VALID };
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_table *t;
	u64 hist[12];
	u64 asid;

	shpt_kunit_fixed_params(&p, SHPT_HASH_MODULO, 16);
	t = shpt_kunit_create(test, &p);
	for (asid = 1; asid <= 8; asid++) {
		m.asid = asid;
		m.pfn = 100 * asid;
		KUNIT_ASSERT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);
	}
	m.asid = 4;
	m.order = 9;
	m.pfn = 4242;
	KUNIT_ASSERT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);

	shpt_table_chain_hist(t, hist, ARRAY_SIZE(hist));
	KUNIT_EXPECT_EQ(test, hist[9], 1);
	KUNIT_EXPECT_EQ(test, hist[0], 15);

	m.order = 0;
	for (asid = 1; asid <= 8; asid++) {
		m.asid = asid;
		m.pfn = 100 * asid;
		KUNIT_EXPECT_TRUE(test, shpt_kunit_has(t, &m));
	}

	/* replace one, remove another: the neighbours are untouched */
	m.asid = 5;
	m.pfn = 555;
	KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 1);
	KUNIT_EXPECT_TRUE(test, shpt_table_remove(t, 3, vpn, 0));
	KUNIT_EXPECT_FALSE(test, shpt_table_remove(t, 3, vpn, 0));
	KUNIT_EXPECT_TRUE(test, shpt_table_remove(t, 4, vpn, 0));
	KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 4, vpn, 9, &m));
	KUNIT_EXPECT_EQ(test, m.pfn, 4242);

	/* the rehash keeps the homonyms in one chain and ignores rekey */
	KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, 64, true), 0);
	shpt_table_chain_hist(t, hist, ARRAY_SIZE(hist));
	KUNIT_EXPECT_EQ(test, hist[7], 1);
	KUNIT_EXPECT_EQ(test, hist[0], 63);

	m.order = 0;
	for (asid = 1; asid <= 8; asid++) {
		m.asid = asid;
		m.pfn = asid == 5 ? 555 : 100 * asid;
		KUNIT_EXPECT_EQ(test, shpt_kunit_has(t, &m),
				asid != 3 && asid != 4);
	}

	/* one ASID's sweep leaves the others in the shared chain */
	KUNIT_EXPECT_EQ(test, shpt_table_remove_asid(t, 2), 1);
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 2, vpn, 0, NULL));
	KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 1, vpn, 0, NULL));
	KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 4, vpn, 9, NULL));

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.rekeys, 0);
	KUNIT_EXPECT_EQ(test, s.grows, 1);
	KUNIT_EXPECT_EQ(test, s.nbuckets, 64);
	KUNIT_EXPECT_EQ(test, s.nelems, 6);
	shpt_kunit_destroy(test);
}

static void shpt_kunit_remove_range(struct kunit *test)
{
	struct shpt_mapping m = { .flags = SHPT_F_VALID };
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_table *t;
	u64 vpn;

	shpt_table_default_params(&p);
	t = shpt_kunit_create(test, &p);
	for (vpn = 0; vpn < 64; vpn++) {
		for (m.asid = 1; m.asid <= 2; m.asid++) {
			m.vpn = vpn;
			m.pfn = vpn;
			KUNIT_ASSERT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL),
					0);
		}
	}
	m.asid = 1;
	m.vpn = 512;
	m.order = 9;
	KUNIT_ASSERT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);

	/* empty or invalid ranges remove nothing */
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 1, 20, 20), 0);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 1, 30, 20), 0);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 0, 0, 64), 0);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, SHPT_ASID_MAX + 1,
						      0, 64), 0);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 3, 0, 64), 0);

	/* a small range is probed page by page: [10, 20) of ASID 1 only */
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 1, 10, 20), 10);
	KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 1, 9, 0, NULL));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 1, 10, 0, NULL));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 1, 19, 0, NULL));
	KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 1, 20, 0, NULL));
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 1, 10, 20), 0);
	for (vpn = 0; vpn < 64; vpn++)
		KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 2, vpn, 0, NULL));

	/* one page inside the 2 MiB entry removes all of it */
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 1, 600, 601), 1);
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 1, 512, 9, NULL));

	/* a range with more pages than buckets sweeps the table */
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 1, 0, 1 << 20), 54);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_range(t, 2, 32, U64_MAX), 32);
	KUNIT_EXPECT_TRUE(test, shpt_table_lookup(t, 2, 31, 0, NULL));
	KUNIT_EXPECT_FALSE(test, shpt_table_lookup(t, 2, 32, 0, NULL));

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.removes, 10 + 1 + 54 + 32);
	KUNIT_EXPECT_EQ(test, s.nelems, 32);
	KUNIT_EXPECT_EQ(test, s.nelems, s.inserts - s.removes);
	shpt_kunit_destroy(test);
}

static void shpt_kunit_remove_asid(struct kunit *test)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_mapping m;
	struct shpt_table *t;
	unsigned int i;

	shpt_table_default_params(&p);
	t = shpt_kunit_create(test, &p);
	ctx->nkeys = 400;	/* 100 for each of ASIDs 1-4 */
	shpt_kunit_insert_keys(test, 0, ctx->nkeys);
	shpt_table_flush(t);	/* let the automatic grows run */

	KUNIT_EXPECT_EQ(test, shpt_table_remove_asid(t, 0), 0);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_asid(t, SHPT_ASID_MAX + 1), 0);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_asid(t, 5), 0);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_asid(t, 2), 100);
	KUNIT_EXPECT_EQ(test, shpt_table_remove_asid(t, 2), 0);
	for (i = 0; i < ctx->nkeys; i++) {
		m = shpt_kunit_key(i);
		KUNIT_EXPECT_EQ(test, shpt_kunit_has(t, &m), m.asid != 2);
	}
	KUNIT_EXPECT_EQ(test, shpt_table_remove_asid(t, 4), 100);
	KUNIT_EXPECT_EQ(test, shpt_kunit_count_keys(t, 0, ctx->nkeys), 200);

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.removes, 200);
	KUNIT_EXPECT_EQ(test, s.nelems, 200);
	shpt_kunit_destroy(test);
}

/*
 * Grow with readers on every CPU and a writer: by explicit rehash, then
 * automatically while 1536 more keys are inserted, then explicitly again.
 */
static void shpt_kunit_grow(struct kunit *test)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_table *t;
	long passes;

	shpt_table_default_params(&p);
	p.init_buckets = 16;
	p.max_buckets = 1 << 14;
	p.max_load_pct = 75;	/* the bucket counts below assume it */
	p.min_load_pct = 10;	/* the explicit grows must not shrink back */
	p.max_chain = 0;
	t = shpt_kunit_create(test, &p);
	ctx->nkeys = 512;
	shpt_kunit_insert_keys(test, 0, ctx->nkeys);
	shpt_table_flush(t);
	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.nbuckets, 1024);	/* 512 / 1024 <= 75% */

	shpt_table_reset_stats(t);
	shpt_kunit_start(test, true);
	passes = atomic_long_read(&ctx->passes);
	KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, 2048, false), 0);
	shpt_kunit_insert_keys(test, ctx->nkeys, 2048);
	shpt_kunit_wait_resize(t);
	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.nbuckets, 4096);	/* 2048+ / 4096 */
	KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, 8192, false), 0);
	shpt_kunit_check_threads(test, passes);

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_GE(test, s.grows, 3);
	KUNIT_EXPECT_EQ(test, s.nbuckets, 8192);
	KUNIT_EXPECT_EQ(test, shpt_kunit_count_keys(t, 0, 2048), 2048);
	shpt_kunit_destroy(test);
}

/*
 * Shrink with readers on every CPU and a writer: automatically while 1792
 * keys are removed, then by explicit rehash.
 */
static void shpt_kunit_shrink(struct kunit *test)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_mapping m;
	struct shpt_table *t;
	unsigned int i;
	long passes;

	shpt_table_default_params(&p);
	p.init_buckets = 4096;
	p.max_buckets = 1 << 14;
	p.max_load_pct = 75;	/* the bucket counts below assume these */
	p.min_load_pct = 25;
	p.max_chain = 0;
	t = shpt_kunit_create(test, &p);
	ctx->nkeys = 256;
	shpt_kunit_insert_keys(test, 0, 2048);
	shpt_table_flush(t);

	shpt_kunit_start(test, true);
	passes = atomic_long_read(&ctx->passes);
	for (i = ctx->nkeys; i < 2048; i++) {
		m = shpt_kunit_key(i);
		KUNIT_EXPECT_TRUE(test, shpt_table_remove(t, m.asid, m.vpn,
							  m.order));
	}
	shpt_kunit_wait_resize(t);
	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.nbuckets, 1024);	/* 256+32 / 1024 >= 25% */
	KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, 512, false), 0);
	shpt_kunit_check_threads(test, passes);

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_GE(test, s.shrinks, 2);
	KUNIT_EXPECT_EQ(test, s.nbuckets, 512);
	KUNIT_EXPECT_EQ(test, shpt_kunit_count_keys(t, 0, 2048), ctx->nkeys);
	shpt_kunit_destroy(test);
}

static const enum shpt_hash_fn shpt_kunit_keyed_hashes[] = {
	SHPT_HASH_SIPHASH,
	SHPT_HASH_HSIPHASH,
};

static void shpt_kunit_hash_desc(const enum shpt_hash_fn *fn, char *desc)
{
	strscpy(desc, shpt_hash_name(*fn), KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(shpt_kunit_keyed, shpt_kunit_keyed_hashes,
		  shpt_kunit_hash_desc);

/*
 * Rekey four times, then rekey and grow at once, with readers on every CPU
 * and a writer.  Each rekey draws a new hash key.
 */
static void shpt_kunit_rekey(struct kunit *test)
{
	const enum shpt_hash_fn *fn = test->param_value;
	struct shpt_kunit_ctx *ctx = test->priv;
	union shpt_hash_key old, now;
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_table *t;
	unsigned int i;
	long passes;

	shpt_kunit_fixed_params(&p, *fn, 256);
	t = shpt_kunit_create(test, &p);
	ctx->nkeys = 512;
	shpt_kunit_insert_keys(test, 0, ctx->nkeys);

	shpt_kunit_start(test, true);
	passes = atomic_long_read(&ctx->passes);
	for (i = 0; i < 5; i++) {
		rcu_read_lock();
		old = rcu_dereference(t->tbl)->key;
		rcu_read_unlock();
		KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, i < 4 ? 0 : 512, true),
				0);
		rcu_read_lock();
		now = rcu_dereference(t->tbl)->key;
		rcu_read_unlock();
		KUNIT_EXPECT_NE(test, memcmp(&old, &now, sizeof(old)), 0);
	}
	shpt_kunit_check_threads(test, passes);

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.rekeys, 5);
	KUNIT_EXPECT_EQ(test, s.grows, 1);
	KUNIT_EXPECT_EQ(test, s.nbuckets, 512);
	KUNIT_EXPECT_EQ(test, shpt_kunit_count_keys(t, 0, ctx->nkeys),
			ctx->nkeys);
	shpt_kunit_destroy(test);
}

/*
 * Bulk lookups never miss a stable key while the table grows, shrinks and
 * rekeys under them: readers pinned to every CPU do bulk lookups (with
 * absent keys mixed in) while a writer churns, explicit rehashes grow,
 * rekey and shrink the array, and inserts and removes trigger automatic
 * grows and shrinks.
 */
static void shpt_kunit_bulk_resize(struct kunit *test)
{
	struct shpt_kunit_ctx *ctx = test->priv;
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_mapping m;
	struct shpt_table *t;
	unsigned int i;
	long passes;

	shpt_table_default_params(&p);
	p.init_buckets = 64;
	p.max_buckets = 1 << 14;
	p.max_chain = 0;
	t = shpt_kunit_create(test, &p);
	ctx->nkeys = 256;
	ctx->bulk = true;
	shpt_kunit_insert_keys(test, 0, ctx->nkeys);
	shpt_table_flush(t);

	shpt_kunit_start(test, true);
	passes = atomic_long_read(&ctx->passes);
	KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, 2048, false), 0);
	KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, 0, true), 0);
	shpt_kunit_insert_keys(test, ctx->nkeys, 4096);	/* grows */
	shpt_kunit_wait_resize(t);
	KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, 0, true), 0);
	for (i = ctx->nkeys; i < 4096; i++) {		/* shrinks */
		m = shpt_kunit_key(i);
		KUNIT_EXPECT_TRUE(test, shpt_table_remove(t, m.asid, m.vpn,
							  m.order));
	}
	shpt_kunit_wait_resize(t);
	KUNIT_EXPECT_EQ(test, shpt_table_rehash(t, 128, true), 0);
	shpt_kunit_check_threads(test, passes);

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_GE(test, s.grows, 2);
	KUNIT_EXPECT_GE(test, s.shrinks, 2);
	KUNIT_EXPECT_EQ(test, s.rekeys, 3);
	KUNIT_EXPECT_EQ(test, s.lookups, s.hits + s.misses);
	KUNIT_EXPECT_EQ(test, shpt_kunit_count_keys(t, 0, 4096), ctx->nkeys);
	shpt_kunit_destroy(test);
}

/* Under RCU: the entry of (@asid, @vpn, @order) in the current array. */
static struct shpt_entry *shpt_kunit_entry(struct shpt_table *t, u64 asid,
					   u64 vpn, unsigned int order)
{
	struct shpt_bucket_table *tbl = rcu_dereference(t->tbl);
	u64 key = shpt_pack_key(asid, vpn);
	struct shpt_entry *p;

	for (p = shpt_head_rcu(shpt_slot(t, tbl, key, order));
	     !shpt_is_nulls(p); p = rcu_dereference(p->next))
		if (p->key == key && shpt_val_order(READ_ONCE(p->val)) == order)
			return p;
	return NULL;
}

/*
 * Removed entries stay readable, and keep leading along their chain, until
 * a grace period has passed; then the reaper frees them.  The test holds
 * rcu_read_lock() across the removes, so the reaper cannot finish its
 * grace period.  Results are checked only after rcu_read_unlock(): KUnit's
 * failure path allocates and may sleep.
 */
static void shpt_kunit_graveyard(struct kunit *test)
{
	const u64 vpn = 5;
	struct shpt_entry *e, *next, *after, *first;
	struct shpt_entry *nulls;
	bool removed, taken, dead, found, freed;
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_mapping m;
	struct shpt_table *t;
	unsigned long deadline;
	long frees, swept;
	u64 key;

	shpt_kunit_fixed_params(&p, SHPT_HASH_MODULO, 16);
	t = shpt_kunit_create(test, &p);
	m = (struct shpt_mapping){ .vpn = vpn, .flags = SHPT_F_VALID };
	for (m.asid = 1; m.asid <= 3; m.asid++)
		KUNIT_ASSERT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);
	/* the chain of bucket 5 is now 3 -> 2 -> 1 */

	rcu_read_lock();
	e = shpt_kunit_entry(t, 2, vpn, 0);
	first = shpt_kunit_entry(t, 1, vpn, 0);
	nulls = shpt_nulls(&rcu_dereference(t->tbl)->buckets[vpn]);
	WRITE_ONCE(shpt_kunit_slab.watch, e);
	removed = shpt_table_remove(t, 2, vpn, 0);
	found = shpt_table_lookup(t, 2, vpn, 0, NULL);
	/* a reader standing on @e still reads it and goes on along the chain */
	key = READ_ONCE(e->key);
	dead = shpt_val_dead(READ_ONCE(e->val));
	next = rcu_dereference(e->next);
	after = next ? rcu_dereference(next->next) : NULL;
	/* give the reaper time to take the graveyard and wait for us */
	deadline = jiffies + SHPT_KUNIT_WAIT;
	while (READ_ONCE(t->graveyard) && time_before(jiffies, deadline))
		mdelay(1);
	taken = !READ_ONCE(t->graveyard);
	mdelay(20);
	freed = READ_ONCE(shpt_kunit_slab.watch_freed);
	frees = atomic_long_read(&shpt_kunit_slab.frees);
	rcu_read_unlock();

	KUNIT_EXPECT_NOT_NULL(test, e);
	KUNIT_EXPECT_TRUE(test, removed);
	KUNIT_EXPECT_FALSE(test, found);
	KUNIT_EXPECT_EQ(test, key, shpt_pack_key(2, vpn));
	KUNIT_EXPECT_TRUE(test, dead);
	KUNIT_EXPECT_PTR_EQ(test, next, first);
	KUNIT_EXPECT_PTR_EQ(test, after, nulls);
	KUNIT_EXPECT_FALSE(test, freed);
	KUNIT_EXPECT_EQ(test, frees, 0);
	kunit_info(test, "reaper %s the graveyard inside the read section\n",
		   taken ? "took" : "did not take");
	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.removes, 1);
	KUNIT_EXPECT_EQ(test, s.nelems, 2);

	synchronize_rcu();
	shpt_table_flush(t);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(shpt_kunit_slab.watch_freed));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shpt_kunit_slab.frees), 1);
	KUNIT_EXPECT_NULL(test, READ_ONCE(t->graveyard));

	/* a sweep retires its entries as one batch, after a grace period too */
	m.asid = 1;	/* 32 more entries of ASID 1, which has page 5 */
	for (m.vpn = 16; m.vpn < 48; m.vpn++)
		KUNIT_ASSERT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 0);
	rcu_read_lock();
	swept = shpt_table_remove_asid(t, m.asid);
	mdelay(20);
	frees = atomic_long_read(&shpt_kunit_slab.frees);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, swept, 33);
	KUNIT_EXPECT_EQ(test, frees, 1);
	shpt_table_flush(t);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shpt_kunit_slab.frees), 34);
	shpt_kunit_destroy(test);
}

/* shpt_table_walk() visitor: count the entries, and the intact ones. */
struct shpt_kunit_walk {
	unsigned long seen;
	unsigned long intact;
};

static void shpt_kunit_walk_fn(const struct shpt_mapping *m, void *arg)
{
	struct shpt_kunit_walk *w = arg;
	struct shpt_mapping want;
	unsigned int i = m->pfn - 0x10000;

	w->seen++;
	want = shpt_kunit_key(i);
	if (i >= 150 && i < 200)
		want.flags |= SHPT_F_WRITE;	/* replaced */
	w->intact += shpt_kunit_same(m, &want);
}

/* Walk the whole array. */
static void shpt_kunit_walk_all(struct shpt_table *t, struct shpt_kunit_walk *w)
{
	unsigned long pos = 0;

	memset(w, 0, sizeof(*w));
	do {
		pos = shpt_table_walk(t, pos, 256, shpt_kunit_walk_fn, w);
		cond_resched();
	} while (pos);
}

/*
 * The counters agree with the operations, with each other, with a walk
 * and with the chain histogram; entries allocated minus entries freed
 * equals the entries linked.
 */
static void shpt_kunit_stats_consistency(struct kunit *test)
{
	struct shpt_bucket_table *tbl;
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_kunit_walk w;
	struct shpt_mapping m;
	struct shpt_table *t;
	u64 hist[64], n = 0, b = 0;
	unsigned int i;
	size_t bytes;

	shpt_table_default_params(&p);
	p.init_buckets = 16;
	p.max_load_pct = 75;	/* the bucket counts below assume these */
	p.min_load_pct = 25;
	t = shpt_kunit_create(test, &p);
	shpt_kunit_insert_keys(test, 0, 300);
	for (i = 150; i < 200; i++) {
		m = shpt_kunit_key(i);
		m.flags |= SHPT_F_WRITE;
		KUNIT_EXPECT_EQ(test, shpt_table_insert(t, &m, GFP_KERNEL), 1);
	}
	for (i = 0; i < 100; i++) {
		m = shpt_kunit_key(i);
		KUNIT_EXPECT_TRUE(test, shpt_table_remove(t, m.asid, m.vpn,
							  m.order));
	}
	for (i = 0; i < 20; i++) {
		m = shpt_kunit_key(i);
		KUNIT_EXPECT_FALSE(test, shpt_table_remove(t, m.asid, m.vpn,
							   m.order));
	}
	for (i = 0; i < 300; i++) {
		m = shpt_kunit_key(i);
		shpt_table_lookup(t, m.asid, m.vpn, m.order, NULL);
	}
	shpt_table_flush(t);

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.inserts, 300);
	KUNIT_EXPECT_EQ(test, s.replaces, 50);
	KUNIT_EXPECT_EQ(test, s.removes, 100);
	KUNIT_EXPECT_EQ(test, s.nelems, s.inserts - s.removes);
	KUNIT_EXPECT_EQ(test, s.lookups, 300);
	KUNIT_EXPECT_EQ(test, s.hits, 200);
	KUNIT_EXPECT_EQ(test, s.misses, 100);
	KUNIT_EXPECT_GE(test, s.probes, s.hits);
	KUNIT_EXPECT_GE(test, s.max_probes, 1);
	KUNIT_EXPECT_EQ(test, s.alloc_fail, 0);
	KUNIT_EXPECT_EQ(test, s.nbuckets, 512);	/* grew from 16: 300 > 75% of 256 */
	KUNIT_EXPECT_GE(test, s.grows, 1);
	bytes = s.nelems * sizeof(struct shpt_entry) +
		struct_size(tbl, buckets, s.nbuckets);
	KUNIT_EXPECT_EQ(test, s.bytes, bytes);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shpt_kunit_slab.allocs), 350);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shpt_kunit_slab.frees), 150);

	shpt_kunit_walk_all(t, &w);
	KUNIT_EXPECT_EQ(test, w.seen, s.nelems);
	KUNIT_EXPECT_EQ(test, w.intact, s.nelems);

	KUNIT_EXPECT_EQ(test, shpt_table_chain_hist(t, hist, ARRAY_SIZE(hist)),
			s.nbuckets);
	for (i = 0; i < ARRAY_SIZE(hist); i++) {
		b += hist[i];
		n += i * hist[i];
	}
	KUNIT_EXPECT_EQ(test, b, s.nbuckets);
	KUNIT_EXPECT_EQ(test, n, s.nelems);

	/* a reset zeroes the counters, not the table */
	shpt_table_reset_stats(t);
	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.inserts, 0);
	KUNIT_EXPECT_EQ(test, s.lookups, 0);
	KUNIT_EXPECT_EQ(test, s.grows, 0);
	KUNIT_EXPECT_EQ(test, s.nelems, 200);
	shpt_kunit_destroy(test);
}

/*
 * Removing everything and flushing leaves an empty table: no entry linked
 * or waiting in the graveyard, every entry freed, and the bucket array
 * shrunk back to min_buckets.
 */
static void shpt_kunit_flush_empty(struct kunit *test)
{
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_kunit_walk w;
	struct shpt_table *t;
	unsigned long n = 0;
	u64 asid, hist[2];

	shpt_table_default_params(&p);
	p.init_buckets = 16;
	t = shpt_kunit_create(test, &p);
	shpt_kunit_insert_keys(test, 0, 1000);
	for (asid = 1; asid <= 4; asid++)
		n += shpt_table_remove_asid(t, asid);
	KUNIT_EXPECT_EQ(test, n, 1000);
	shpt_table_flush(t);

	shpt_kunit_stats(test, &s);
	KUNIT_EXPECT_EQ(test, s.nelems, 0);
	KUNIT_EXPECT_EQ(test, s.inserts, s.removes);
	KUNIT_EXPECT_EQ(test, s.nbuckets, p.min_buckets);
	KUNIT_EXPECT_GE(test, s.shrinks, 1);
	KUNIT_EXPECT_NULL(test, READ_ONCE(t->graveyard));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shpt_kunit_slab.allocs), 1000);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shpt_kunit_slab.frees), 1000);
	shpt_kunit_walk_all(t, &w);
	KUNIT_EXPECT_EQ(test, w.seen, 0);
	shpt_table_chain_hist(t, hist, ARRAY_SIZE(hist));
	KUNIT_EXPECT_EQ(test, hist[0], s.nbuckets);
	KUNIT_EXPECT_EQ(test, shpt_kunit_count_keys(t, 0, 1000), 0);
	shpt_kunit_destroy(test);
}

/* ---- suite ---- */

static int shpt_kunit_init(struct kunit *test)
{
	struct shpt_kunit_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	test->priv = ctx;
	atomic_long_set(&shpt_kunit_slab.allocs, 0);
	atomic_long_set(&shpt_kunit_slab.frees, 0);
	WRITE_ONCE(shpt_kunit_slab.watch, NULL);
	WRITE_ONCE(shpt_kunit_slab.watch_freed, false);
	return 0;
}

/* After a failed assertion: stop the threads and free the table. */
static void shpt_kunit_exit(struct kunit *test)
{
	struct shpt_kunit_ctx *ctx = test->priv;

	if (!ctx)
		return;
	shpt_kunit_stop(ctx);
	shpt_table_destroy(ctx->t);
	ctx->t = NULL;
}

static struct kunit_case shpt_kunit_cases[] = {
	KUNIT_CASE(shpt_kunit_basic),
	KUNIT_CASE(shpt_kunit_invalid),
	KUNIT_CASE(shpt_kunit_homonyms),
	KUNIT_CASE(shpt_kunit_remove_range),
	KUNIT_CASE(shpt_kunit_remove_asid),
	KUNIT_CASE(shpt_kunit_grow),
	KUNIT_CASE(shpt_kunit_shrink),
	KUNIT_CASE_PARAM(shpt_kunit_rekey, shpt_kunit_keyed_gen_params),
	KUNIT_CASE(shpt_kunit_bulk_resize),
	KUNIT_CASE(shpt_kunit_graveyard),
	KUNIT_CASE(shpt_kunit_stats_consistency),
	KUNIT_CASE(shpt_kunit_flush_empty),
	{}
};

static struct kunit_suite shpt_kunit_suite = {
	.name = "shpt_table",
	.init = shpt_kunit_init,
	.exit = shpt_kunit_exit,
	.test_cases = shpt_kunit_cases,
};

kunit_test_suite(shpt_kunit_suite);

MODULE_DESCRIPTION("KUnit tests of the shpt hashed page table core");
MODULE_LICENSE("GPL");
