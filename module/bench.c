// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: the in-kernel benchmark, /sys/kernel/debug/shpt/bench.
 *
 * Root writes a command; the write runs it and returns when it is done;
 * reading the file gives the results of the last run, one JSON object per
 * line.  Every case times shpt and its baseline in the same run, on the
 * same keys, interleaved sample by sample, on kernel threads bound to
 * CPUs.  Documentation/bench.rst ("In-kernel benchmark") has the commands,
 * the output and how the comparison is kept fair.
 */
#define pr_fmt(fmt) "shpt-bench: " fmt

#include <linux/capability.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hmm.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/pid.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/siphash.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "bench.h"
#include "mirror.h"
#include "shpt.h"

/**
 * DOC: In-kernel benchmark
 *
 * A *sample* is SHPT_BENCH_BATCH operations timed with two
 * ktime_get_ns() calls; a case takes many samples and reports the median
 * and the 99th percentile of the per-operation times.  Each sample times
 * shpt and then its baseline on the same keys (the order alternates from
 * one sample to the next), so both see the same background load.  The
 * samples run on kernel threads bound to CPUs, with preemption enabled,
 * and cond_resched() between samples; with N threads, all start together
 * and each reports its own ns per operation (perfect scaling keeps the
 * figure flat).
 *
 * Keys are those of tools/testing/bench_table.c: key i is ASID
 * 1 + i % 8 at VPN SHPT_BENCH_VPN_BASE + i / 8, a miss is the homonym in
 * ASID 9 + i % 8, and every pass visits the keys in one fixed random
 * permutation (same generator, same seed, hence the same order as the
 * host benchmark for the same size).
 *
 * The baseline table is an rhashtable of 24-byte objects (key word, value
 * word, struct rhash_head), as big as a shpt entry, hashed by the same
 * siphash_2u64(asid << 44 | vpn, order) call with a random key.  For
 * lookups both tables hold the same keys at the same bucket count: shpt
 * is created with the bucket count its grow rule reaches for n entries,
 * and the rhashtable, whose u16 nelem_hint cannot ask for more than 2^17
 * buckets, is grown to the same count by its own rule (both double above
 * a load of 3/4) before anything is timed.  Inserts and removes start
 * both tables small (1024 buckets) and let each grow and shrink by its
 * own rules, as a real workload would.
 *
 * A run holds shpt_bench_run_lock; a second writer gets -EBUSY.  A fatal
 * signal stops a run between samples (-EINTR).  Only the results of the
 * run are kept, in shpt_bench_last; everything else a run allocates is
 * freed before the write returns.
 */

#define SHPT_BENCH_BATCH	1024	/* operations per sample */
#define SHPT_BENCH_SAMPLES	200	/* samples per case and thread */
#define SHPT_BENCH_MAX_SAMPLES	100000
#define SHPT_BENCH_POP_SAMPLES	10	/* populate: passes over the range */
#define SHPT_BENCH_BULK		256	/* keys per shpt_table_lookup_bulk() */
#define SHPT_BENCH_NASID	8
#define SHPT_BENCH_VPN_BASE	0x7f0000000ULL
#define SHPT_BENCH_SEED		0x5eed5eed12345678ULL
#define SHPT_BENCH_MAX_SIZES	8
#define SHPT_BENCH_MAX_NTHR	4	/* entries of a threads= list */
#define SHPT_BENCH_MAX_ENTRIES	SZ_16M
#define SHPT_BENCH_MAX_RESULTS	128
#define SHPT_BENCH_CMD_MAX	256	/* bytes of one command */
#define SHPT_BENCH_WALK_MAX	SZ_256K	/* addresses a walk collects */
#define SHPT_BENCH_HMM_PAGES	4096	/* pages per bare hmm_range_fault() */
#define SHPT_BENCH_HMM_RETRIES	32
#define SHPT_BENCH_INIT_BUCKETS	1024
#define SHPT_BENCH_PMD_ORDER	(PMD_SHIFT - PAGE_SHIFT)
#define SHPT_BENCH_PUD_ORDER	(PUD_SHIFT - PAGE_SHIFT)
/* The first line of the output. */
#define SHPT_BENCH_NOTE \
	"under TCG emulation computation is about 8x and memory misses 3-7x slower than native: only ratios within one run mean anything"
/* Insert and remove rounds for small sizes, to collect enough samples. */
#define SHPT_BENCH_MAX_ROUNDS	64

enum shpt_bench_case {
	SHPT_BC_LOOKUP		= BIT(0),
	SHPT_BC_BULK		= BIT(1),
	SHPT_BC_INSERT		= BIT(2),
	SHPT_BC_HASH		= BIT(3),
	SHPT_BC_WALK		= BIT(4),
	SHPT_BC_POPULATE	= BIT(5),
};

/* Options a command accepts. */
enum shpt_bench_opt {
	SHPT_BO_SIZES		= BIT(0),
	SHPT_BO_THREADS		= BIT(1),
	SHPT_BO_SAMPLES		= BIT(2),
	SHPT_BO_PID		= BIT(3),
	SHPT_BO_START		= BIT(4),
	SHPT_BO_LEN		= BIT(5),
};

/**
 * struct shpt_bench_cmd - a parsed command
 * @cases: SHPT_BC_* bits
 * @opts: SHPT_BO_* bits of the options given
 * @nsizes: entries of @sizes
 * @sizes: table sizes, in entries
 * @nthr: entries of @threads
 * @threads: thread counts, each 1..num_online_cpus()
 * @samples: samples per case and thread; 0 for the default
 * @pid: walk and populate: the process (caller's pid namespace)
 * @start: populate: first address
 * @len: populate: length in bytes
 */
struct shpt_bench_cmd {
	unsigned int cases;
	unsigned int opts;
	unsigned int nsizes;
	u32 sizes[SHPT_BENCH_MAX_SIZES];
	unsigned int nthr;
	unsigned int threads[SHPT_BENCH_MAX_NTHR];
	unsigned int samples;
	pid_t pid;
	unsigned long start;
	unsigned long len;
};

/**
 * struct shpt_bench_result - one output line
 * @kase: the case, such as "lookup_hit/1M/1t"
 * @metric: "ns_per_op" or "pages_per_s"
 * @unit: "ns" or "pages/s"
 * @baseline: what shpt is compared with
 * @value: shpt's median, in thousandths of @unit
 * @p99: shpt's 99th percentile (for a rate: the rate of the 99th
 *	percentile of per-operation times)
 * @bvalue: the baseline's median
 * @bp99: the baseline's 99th percentile
 * @samples: samples per figure (all threads together)
 * @ops: operations per sample
 * @threads: threads that ran the case
 * @entries: table size, 0 where none applies
 * @hits: walk: addresses shpt translated; ~0 where none applies
 * @bhits: walk: addresses the page walk translated
 */
struct shpt_bench_result {
	char kase[40];
	const char *metric;
	const char *unit;
	const char *baseline;
	u64 value;
	u64 p99;
	u64 bvalue;
	u64 bp99;
	unsigned int samples;
	u64 ops;
	unsigned int threads;
	u64 entries;
	u64 hits;
	u64 bhits;
};

/**
 * struct shpt_bench_results - the results of one run
 * @n: results in @r
 * @err: 0, or the errno the run ended with (its results are partial)
 * @r: the results
 */
struct shpt_bench_results {
	unsigned int n;
	int err;
	struct shpt_bench_result r[SHPT_BENCH_MAX_RESULTS];
};

/* One run at a time; held for the whole run. */
static DEFINE_MUTEX(shpt_bench_run_lock);
/* Guards shpt_bench_last, which readers print. */
static DEFINE_MUTEX(shpt_bench_show_lock);
static struct shpt_bench_results shpt_bench_last;

/*
 * The rhashtable's SipHash key.  Its hash callbacks get no context, so the
 * key is a global; written only under shpt_bench_run_lock, before the
 * baseline table of a run exists.
 */
static siphash_key_t shpt_bench_sipkey;

/* ---- keys --------------------------------------------------------------- */

static inline u64 shpt_bench_asid(u32 i, bool miss)
{
	return 1 + i % SHPT_BENCH_NASID + (miss ? SHPT_BENCH_NASID : 0);
}

static inline u64 shpt_bench_vpn(u32 i)
{
	return SHPT_BENCH_VPN_BASE + i / SHPT_BENCH_NASID;
}

static inline u64 shpt_bench_key(u64 asid, u64 vpn)
{
	return asid << SHPT_VPN_BITS | vpn;
}

static inline u64 shpt_bench_pfn(u32 i)
{
	return ((u64)i * 0x9e3779b97f4a7c15ULL) & SHPT_PFN_MAX;
}

/* splitmix64, as tools/testing/bench_table.c. */
static u64 shpt_bench_rand(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * A random permutation of 0..@n-1, the order of every pass: the same for
 * the same @n in every run and in the host benchmark.
 */
static u32 *shpt_bench_perm(u32 n)
{
	u64 state = SHPT_BENCH_SEED, r;
	u32 *p, i, j, tmp;

	p = kvmalloc_array(n, sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	for (i = 0; i < n; i++)
		p[i] = i;
	for (i = n - 1; i > 0; i--) {
		div64_u64_rem(shpt_bench_rand(&state), (u64)i + 1, &r);
		j = r;
		tmp = p[i];
		p[i] = p[j];
		p[j] = tmp;
		if (!(i % SHPT_BENCH_BATCH))
			cond_resched();
	}
	return p;
}

/* ---- the baseline table ----------------------------------------------- */

/**
 * struct shpt_bench_obj - an rhashtable object as big as a shpt entry
 * @key: asid << SHPT_VPN_BITS | vpn, as a shpt entry's key word
 * @val: a value word, copied out by lookups as shpt copies its entry
 * @node: the rhashtable link
 */
struct shpt_bench_obj {
	u64 key;
	u64 val;
	struct rhash_head node;
};

static u32 shpt_bench_rht_hash(const void *data, u32 len, u32 seed)
{
	/* The same call as table.c's shpt_hash(); order 0. */
	return siphash_2u64(*(const u64 *)data, 0, &shpt_bench_sipkey);
}

static u32 shpt_bench_rht_obj_hash(const void *data, u32 len, u32 seed)
{
	const struct shpt_bench_obj *o = data;

	return siphash_2u64(o->key, 0, &shpt_bench_sipkey);
}

/* A custom obj_hashfn needs a custom compare: 0 when @obj holds the key. */
static int shpt_bench_rht_cmp(struct rhashtable_compare_arg *arg,
			      const void *obj)
{
	const struct shpt_bench_obj *o = obj;

	return o->key != *(const u64 *)arg->key;
}

static const struct rhashtable_params shpt_bench_rht_params = {
	.key_len		= sizeof(u64),
	.key_offset		= offsetof(struct shpt_bench_obj, key),
	.head_offset		= offsetof(struct shpt_bench_obj, node),
	.hashfn			= shpt_bench_rht_hash,
	.obj_hashfn		= shpt_bench_rht_obj_hash,
	.obj_cmpfn		= shpt_bench_rht_cmp,
	.automatic_shrinking	= true,
};

/**
 * struct shpt_bench_tables - shpt and the baseline, holding the same keys
 * @n: keys
 * @perm: the order of every pass
 * @shpt: a private table (never the global one)
 * @rht: the baseline
 * @rht_live: @rht is initialized
 * @cache: the baseline's objects
 * @objs: object i holds key i (inserts and removes); NULL if not kept
 * @nobjs: objects in @rht, to free
 */
struct shpt_bench_tables {
	u32 n;
	u32 *perm;
	struct shpt_table *shpt;
	struct rhashtable rht;
	bool rht_live;
	struct kmem_cache *cache;
	struct shpt_bench_obj **objs;
	u32 nobjs;
};

static void shpt_bench_free_obj(void *ptr, void *arg)
{
	struct kmem_cache *cache = arg;

	kmem_cache_free(cache, ptr);
}

static void shpt_bench_tables_destroy(struct shpt_bench_tables *bt)
{
	if (!bt)
		return;
	if (bt->rht_live)
		rhashtable_free_and_destroy(&bt->rht, shpt_bench_free_obj,
					    bt->cache);
	bt->rht_live = false;
	shpt_table_destroy(bt->shpt);
	kmem_cache_destroy(bt->cache);
	kvfree(bt->objs);
	kvfree(bt->perm);
	kfree(bt);
}

/* The bucket count shpt's grow rule reaches for @n entries (alpha <= 3/4). */
static u32 shpt_bench_buckets_for(u32 n)
{
	u32 b = 64;

	while ((u64)n * 100 > 75ULL * b)
		b <<= 1;
	return b;
}

/*
 * Create both tables, empty.  @presize: shpt starts at the bucket count
 * its grow rule reaches for @n entries and the rhashtable as close to it
 * as nelem_hint allows; otherwise both start at 1024 buckets.  @keep_objs:
 * remember each baseline object, for removes.  Not on the stack: the
 * rhashtable holds a work item.  Return: the tables, or an ERR_PTR().
 */
static struct shpt_bench_tables *shpt_bench_tables_create(u32 n, bool presize,
							  bool keep_objs)
{
	struct rhashtable_params rp = shpt_bench_rht_params;
	struct shpt_table_params p;
	u32 b = presize ? shpt_bench_buckets_for(n) : SHPT_BENCH_INIT_BUCKETS;
	struct shpt_bench_tables *bt;
	int ret;

	bt = kzalloc(sizeof(*bt), GFP_KERNEL);
	if (!bt)
		return ERR_PTR(-ENOMEM);
	bt->n = n;
	bt->perm = shpt_bench_perm(n);
	if (!bt->perm)
		goto out_nomem;
	if (keep_objs) {
		bt->objs = kvcalloc(n, sizeof(*bt->objs), GFP_KERNEL);
		if (!bt->objs)
			goto out_nomem;
	}
	bt->cache = kmem_cache_create("shpt_bench_obj",
				      sizeof(struct shpt_bench_obj),
				      __alignof__(struct shpt_bench_obj), 0,
				      NULL);
	if (!bt->cache)
		goto out_nomem;

	shpt_table_default_params(&p);
	p.init_buckets = b;
	bt->shpt = shpt_table_create(&p);
	if (IS_ERR(bt->shpt)) {
		ret = PTR_ERR(bt->shpt);
		bt->shpt = NULL;
		goto out_destroy;
	}
	/* rhashtable starts at roundup_pow_of_two(nelem_hint * 4 / 3). */
	rp.nelem_hint = min_t(u32, b / 4 * 3, U16_MAX);
	ret = rhashtable_init(&bt->rht, &rp);
	if (ret)
		goto out_destroy;
	bt->rht_live = true;
	return bt;

out_nomem:
	ret = -ENOMEM;
out_destroy:
	shpt_bench_tables_destroy(bt);
	return ERR_PTR(ret);
}

/* Insert key @i into shpt.  Return: 0 or -errno. */
static int shpt_bench_shpt_insert(struct shpt_bench_tables *bt, u32 i)
{
	struct shpt_mapping m = {
		.asid = shpt_bench_asid(i, false), .vpn = shpt_bench_vpn(i),
		.pfn = shpt_bench_pfn(i), .flags = SHPT_F_VALID,
	};
	int ret = shpt_table_insert(bt->shpt, &m, GFP_KERNEL);

	return ret > 0 ? -EEXIST : ret;
}

/* Insert key @i into the rhashtable.  Return: 0 or -errno. */
static int shpt_bench_rht_insert(struct shpt_bench_tables *bt, u32 i)
{
	struct shpt_bench_obj *o;
	int ret;

	o = kmem_cache_alloc(bt->cache, GFP_KERNEL);
	if (!o)
		return -ENOMEM;
	o->key = shpt_bench_key(shpt_bench_asid(i, false), shpt_bench_vpn(i));
	o->val = shpt_bench_pfn(i) | (u64)SHPT_F_VALID << 46;
	ret = rhashtable_insert_fast(&bt->rht, &o->node,
				     shpt_bench_rht_params);
	if (ret) {
		kmem_cache_free(bt->cache, o);
		return ret;
	}
	if (bt->objs)
		bt->objs[i] = o;
	bt->nobjs++;
	return 0;
}

/*
 * Wait until neither table has a resize pending or running: shpt's
 * worker is flushed, and the rhashtable's deferred worker is run until the
 * table has no future table, is not nested (an insert that had to grow it
 * in atomic context may leave it so) and is not above its grow threshold.
 */
static int shpt_bench_settle(struct shpt_bench_tables *bt)
{
	struct bucket_table *tbl;
	bool busy;
	int tries;

	shpt_table_flush(bt->shpt);
	for (tries = 0; tries < 1000; tries++) {
		flush_work(&bt->rht.run_work);
		rcu_read_lock();
		tbl = rcu_dereference(bt->rht.tbl);
		busy = rcu_access_pointer(tbl->future_tbl) || tbl->nest ||
		       rht_grow_above_75(&bt->rht, tbl);
		rcu_read_unlock();
		if (!busy)
			return 0;
		if (fatal_signal_pending(current))
			return -EINTR;
		usleep_range(1000, 2000);
	}
	return -EAGAIN;
}

/* Both tables' bucket counts, to check that lookups compare like with like. */
static void shpt_bench_buckets(struct shpt_bench_tables *bt, u64 *sb, u64 *rb)
{
	struct shpt_table_stats s;

	shpt_table_get_stats(bt->shpt, &s);
	*sb = s.nbuckets;
	rcu_read_lock();
	*rb = rcu_dereference(bt->rht.tbl)->size;
	rcu_read_unlock();
}

/* Fill both tables with every key, untimed, in permutation order. */
static int shpt_bench_build(struct shpt_bench_tables *bt)
{
	u64 sb, rb;
	u32 j;
	int ret;

	for (j = 0; j < bt->n; j++) {
		ret = shpt_bench_shpt_insert(bt, bt->perm[j]);
		if (!ret)
			ret = shpt_bench_rht_insert(bt, bt->perm[j]);
		if (ret)
			return ret;
		if (!(j % SHPT_BENCH_BATCH)) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	ret = shpt_bench_settle(bt);
	if (ret)
		return ret;
	shpt_bench_buckets(bt, &sb, &rb);
	if (sb != rb)
		pr_info("%u entries: shpt has %llu buckets, rhashtable %llu\n",
			bt->n, sb, rb);
	return 0;
}

/* ---- threads ------------------------------------------------------------ */

struct shpt_bench_ctl;

/**
 * struct shpt_bench_thread - one benchmark thread
 * @ctl: the case it runs
 * @idx: 0..nthreads-1
 * @task: the kthread
 * @ret: what the case function returned
 * @sink: a sum of what the timed operations returned, stored so that the
 *	compiler cannot drop them
 */
struct shpt_bench_thread {
	struct shpt_bench_ctl *ctl;
	unsigned int idx;
	struct task_struct *task;
	int ret;
	u64 sink;
};

/**
 * struct shpt_bench_ctl - a case running on a set of bound threads
 * @fn: the case, run by every thread once
 * @arg: the case's data
 * @nthreads: threads in @th
 * @ready: threads yet to reach the start line
 * @all_ready: completed by the last thread to reach it
 * @go: completed by the writer when all are ready: the start
 * @done: threads yet to finish @fn
 * @all_done: completed by the last thread to finish
 * @abort: set by the writer when it is killed; @fn checks it between
 *	samples (READ_ONCE)
 * @th: the threads
 */
struct shpt_bench_ctl {
	int (*fn)(struct shpt_bench_thread *th);
	void *arg;
	unsigned int nthreads;
	atomic_t ready;
	struct completion all_ready;
	struct completion go;
	atomic_t done;
	struct completion all_done;
	bool abort;
	struct shpt_bench_thread th[];
};

static int shpt_bench_thread_fn(void *data)
{
	struct shpt_bench_thread *th = data;
	struct shpt_bench_ctl *ctl = th->ctl;

	if (atomic_dec_and_test(&ctl->ready))
		complete(&ctl->all_ready);
	wait_for_completion(&ctl->go);
	if (!READ_ONCE(ctl->abort))
		th->ret = ctl->fn(th);
	if (atomic_dec_and_test(&ctl->done))
		complete(&ctl->all_done);
	/* kthread_stop() collects us. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* Has the case been stopped?  Checked by case functions between samples. */
static bool shpt_bench_stopped(struct shpt_bench_thread *th)
{
	return READ_ONCE(th->ctl->abort);
}

/*
 * Run @fn(@arg) on @nthreads kthreads, one bound to each of the first
 * @nthreads online CPUs, all released at once.  Return: 0, the first
 * error a thread returned, -EINTR if the writer was killed, or the
 * kthread_create_on_cpu() error.
 */
static int shpt_bench_on_threads(int (*fn)(struct shpt_bench_thread *th),
				 void *arg, unsigned int nthreads)
{
	struct shpt_bench_ctl *ctl;
	struct task_struct *task;
	unsigned int i, started = 0;
	int cpu = -1, ret = 0;

	ctl = kzalloc(struct_size(ctl, th, nthreads), GFP_KERNEL);
	if (!ctl)
		return -ENOMEM;
	ctl->fn = fn;
	ctl->arg = arg;
	ctl->nthreads = nthreads;
	atomic_set(&ctl->ready, nthreads);
	atomic_set(&ctl->done, nthreads);
	init_completion(&ctl->all_ready);
	init_completion(&ctl->go);
	init_completion(&ctl->all_done);

	for (i = 0; i < nthreads; i++) {
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids) {
			ret = -EINVAL;	/* a CPU went offline */
			break;
		}
		ctl->th[i].ctl = ctl;
		ctl->th[i].idx = i;
		task = kthread_create_on_cpu(shpt_bench_thread_fn, &ctl->th[i],
					     cpu, "shpt_bench/%u");
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			break;
		}
		ctl->th[i].task = task;
		started++;
	}
	for (i = 0; i < started; i++)
		wake_up_process(ctl->th[i].task);

	if (!ret && wait_for_completion_killable(&ctl->all_ready))
		ret = -EINTR;
	if (ret)
		WRITE_ONCE(ctl->abort, true);
	complete_all(&ctl->go);
	if (!ret && wait_for_completion_killable(&ctl->all_done)) {
		WRITE_ONCE(ctl->abort, true);
		ret = -EINTR;
	}
	/*
	 * Waits for each thread to leave its case; one that never ran it
	 * (stopped before it was scheduled) does not run it at all.
	 */
	for (i = 0; i < started; i++) {
		kthread_stop(ctl->th[i].task);
		if (!ret)
			ret = ctl->th[i].ret;
	}
	kfree(ctl);
	return ret;
}

/* ---- samples and results ----------------------------------------------- */

static int shpt_bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Sort @v and return its median in *@p50 and 99th percentile in *@p99. */
static void shpt_bench_pct(u64 *v, unsigned int n, u64 *p50, u64 *p99)
{
	sort(v, n, sizeof(*v), shpt_bench_cmp_u64, NULL);
	*p50 = v[n / 2];
	/* nearest rank: the ceil(0.99 n)-th smallest */
	*p99 = v[DIV_ROUND_UP(n * 99, 100) - 1];
}

/* Thousandths of a ns per operation, for @ops operations in @ns. */
static u64 shpt_bench_per_op(u64 ns, u64 ops)
{
	return div64_u64(ns * 1000, ops);
}

/* A rate in thousandths of operations per second, from thousandths of ns per op. */
static u64 shpt_bench_rate(u64 milli_ns)
{
	return milli_ns ? div64_u64(1000000000000000ULL, milli_ns) : 0;
}

/**
 * struct shpt_bench_series - the samples of one figure
 * @v: per-sample thousandths of a ns per operation; sorted by the emit
 * @n: samples in @v
 */
struct shpt_bench_series {
	u64 *v;
	unsigned int n;
};

static int shpt_bench_series_alloc(struct shpt_bench_series *s,
				   unsigned int n)
{
	s->v = kvcalloc(n, sizeof(*s->v), GFP_KERNEL);
	s->n = n;
	return s->v ? 0 : -ENOMEM;
}

static void shpt_bench_series_free(struct shpt_bench_series *s)
{
	kvfree(s->v);
	s->v = NULL;
}

/**
 * struct shpt_bench_run - one run of a command
 * @cmd: the command
 * @res: its results so far
 * @samples: samples per case and thread
 */
struct shpt_bench_run {
	const struct shpt_bench_cmd *cmd;
	struct shpt_bench_results *res;
	unsigned int samples;
};

/*
 * Add a result comparing @s (shpt) with @b (the baseline), both series of
 * per-operation times.  @rate: report operations per second instead.
 * Returns the new result, for extra fields, or NULL when the table is full.
 */
static struct shpt_bench_result *
shpt_bench_emit(struct shpt_bench_run *run, const char *kase,
		const char *baseline, struct shpt_bench_series *s,
		struct shpt_bench_series *b, u64 ops,
		unsigned int threads, u64 entries, bool rate)
{
	struct shpt_bench_result *r;
	u64 p50, p99, bp50, bp99;

	if (run->res->n == SHPT_BENCH_MAX_RESULTS)
		return NULL;
	r = &run->res->r[run->res->n++];
	memset(r, 0, sizeof(*r));
	strscpy(r->kase, kase, sizeof(r->kase));
	r->baseline = baseline;
	shpt_bench_pct(s->v, s->n, &p50, &p99);
	shpt_bench_pct(b->v, b->n, &bp50, &bp99);
	if (rate) {
		r->metric = "pages_per_s";
		r->unit = "pages/s";
		r->value = shpt_bench_rate(p50);
		r->p99 = shpt_bench_rate(p99);
		r->bvalue = shpt_bench_rate(bp50);
		r->bp99 = shpt_bench_rate(bp99);
	} else {
		r->metric = "ns_per_op";
		r->unit = "ns";
		r->value = p50;
		r->p99 = p99;
		r->bvalue = bp50;
		r->bp99 = bp99;
	}
	r->samples = s->n;
	r->ops = ops;
	r->threads = threads;
	r->entries = entries;
	r->hits = ~0ULL;
	r->bhits = ~0ULL;
	return r;
}

/* "16K", "1M" or the plain number, as the host benchmark names sizes. */
static void shpt_bench_size_name(u32 n, char *buf, size_t len)
{
	if (!(n % (1U << 20)))
		snprintf(buf, len, "%uM", n >> 20);
	else if (!(n % (1U << 10)))
		snprintf(buf, len, "%uK", n >> 10);
	else
		snprintf(buf, len, "%u", n);
}

/* ---- lookup ------------------------------------------------------------- */

/**
 * struct shpt_bench_lk - a lookup case
 * @bt: the tables
 * @miss: look up the absent homonyms
 * @nthreads: threads running it
 * @samples: samples per thread
 * @s: shpt's samples, thread t's at [t * @samples]
 * @b: the rhashtable's, likewise
 */
struct shpt_bench_lk {
	struct shpt_bench_tables *bt;
	bool miss;
	unsigned int nthreads;
	unsigned int samples;
	struct shpt_bench_series s;
	struct shpt_bench_series b;
};

static bool shpt_bench_rht_lookup(struct shpt_bench_tables *bt, u64 key,
				  u64 *val)
{
	struct shpt_bench_obj *o;

	rcu_read_lock();
	o = rhashtable_lookup(&bt->rht, &key, shpt_bench_rht_params);
	if (o)
		*val = READ_ONCE(o->val);
	rcu_read_unlock();
	return o;
}

/* One batch of lookups from position @pos of the permutation. */
static unsigned int shpt_bench_lookup_batch(struct shpt_bench_tables *bt,
					    u32 pos, bool miss, bool rht,
					    u64 *sink)
{
	unsigned int j, found = 0;
	struct shpt_mapping m;
	u64 sum = 0, val, asid, vpn;
	u32 i;

	for (j = 0; j < SHPT_BENCH_BATCH; j++) {
		i = bt->perm[pos];
		if (++pos == bt->n)
			pos = 0;
		asid = shpt_bench_asid(i, miss);
		vpn = shpt_bench_vpn(i);
		if (rht) {
			if (shpt_bench_rht_lookup(bt, shpt_bench_key(asid, vpn),
						  &val)) {
				found++;
				sum += val;
			}
		} else if (shpt_table_lookup(bt->shpt, asid, vpn, 0, &m)) {
			found++;
			sum += m.pfn;
		}
	}
	*sink += sum;
	return found;
}

static int shpt_bench_lookup_thread(struct shpt_bench_thread *th)
{
	struct shpt_bench_lk *lk = th->ctl->arg;
	struct shpt_bench_tables *bt = lk->bt;
	unsigned int s, k, found, want = lk->miss ? 0 : SHPT_BENCH_BATCH;
	unsigned int at = th->idx * lk->samples;
	u32 pos = div_u64((u64)bt->n * th->idx, lk->nthreads);
	u64 t0, dt, sink = 0;
	bool rht;

	for (s = 0; s < lk->samples; s++) {
		if (shpt_bench_stopped(th))
			return -EINTR;
		for (k = 0; k < 2; k++) {
			rht = (s + k) & 1;	/* alternate who goes first */
			t0 = ktime_get_ns();
			found = shpt_bench_lookup_batch(bt, pos, lk->miss, rht,
							&sink);
			dt = ktime_get_ns() - t0;
			if (found != want) {
				pr_err("%s %s lookups found %u of %u: results void\n",
				       rht ? "rhashtable" : "shpt",
				       lk->miss ? "miss" : "hit", found,
				       SHPT_BENCH_BATCH);
				return -EIO;
			}
			(rht ? &lk->b : &lk->s)->v[at + s] =
				shpt_bench_per_op(dt, SHPT_BENCH_BATCH);
		}
		pos = (pos + SHPT_BENCH_BATCH) % bt->n;
		cond_resched();
	}
	WRITE_ONCE(th->sink, sink);
	return 0;
}

static int shpt_bench_lookup_case(struct shpt_bench_run *run,
				  struct shpt_bench_tables *bt, bool miss,
				  unsigned int nthreads, const char *sz)
{
	struct shpt_bench_lk lk = {
		.bt = bt, .miss = miss, .nthreads = nthreads,
		.samples = run->samples,
	};
	char kase[40];
	int ret;

	ret = shpt_bench_series_alloc(&lk.s, nthreads * run->samples);
	if (!ret)
		ret = shpt_bench_series_alloc(&lk.b, nthreads * run->samples);
	if (!ret)
		ret = shpt_bench_on_threads(shpt_bench_lookup_thread, &lk,
					    nthreads);
	if (!ret) {
		snprintf(kase, sizeof(kase), "lookup_%s/%s/%ut",
			 miss ? "miss" : "hit", sz, nthreads);
		shpt_bench_emit(run, kase, "rhashtable", &lk.s, &lk.b,
				SHPT_BENCH_BATCH, nthreads, bt->n, false);
	}
	shpt_bench_series_free(&lk.s);
	shpt_bench_series_free(&lk.b);
	return ret;
}

static int shpt_bench_lookups(struct shpt_bench_run *run,
			      struct shpt_bench_tables *bt, const char *sz)
{
	const struct shpt_bench_cmd *cmd = run->cmd;
	unsigned int t;
	int miss, ret;

	for (t = 0; t < cmd->nthr; t++) {
		for (miss = 0; miss <= 1; miss++) {
			ret = shpt_bench_lookup_case(run, bt, miss,
						     cmd->threads[t], sz);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- bulk --------------------------------------------------------------- */

enum {
	SHPT_BENCH_BULK_SHPT,
	SHPT_BENCH_BULK_SINGLE,
	SHPT_BENCH_BULK_RHT,
	SHPT_BENCH_BULK_NR,
};

/**
 * struct shpt_bench_bk - the bulk case
 * @bt: the tables
 * @samples: samples
 * @ser: samples of shpt_table_lookup_bulk(), single shpt lookups and the
 *	rhashtable
 * @keys: the keys of the current sample, built before it is timed
 * @out: lookup results
 * @hits: shpt_table_lookup_bulk()'s bitmap
 */
struct shpt_bench_bk {
	struct shpt_bench_tables *bt;
	unsigned int samples;
	struct shpt_bench_series ser[SHPT_BENCH_BULK_NR];
	struct shpt_key *keys;
	struct shpt_mapping *out;
	unsigned long *hits;
};

static unsigned int shpt_bench_bulk_batch(struct shpt_bench_bk *bk, int how)
{
	struct shpt_bench_tables *bt = bk->bt;
	const struct shpt_key *k = bk->keys;
	unsigned int j, found = 0;
	u64 val;

	switch (how) {
	case SHPT_BENCH_BULK_SHPT:
		for (j = 0; j < SHPT_BENCH_BATCH; j += SHPT_BENCH_BULK)
			found += shpt_table_lookup_bulk(bt->shpt, k + j,
							SHPT_BENCH_BULK,
							bk->out + j,
							bk->hits + j / BITS_PER_LONG);
		break;
	case SHPT_BENCH_BULK_SINGLE:
		for (j = 0; j < SHPT_BENCH_BATCH; j++)
			found += shpt_table_lookup(bt->shpt, k[j].asid, k[j].vpn,
						   k[j].order, &bk->out[j]);
		break;
	default:
		for (j = 0; j < SHPT_BENCH_BATCH; j++) {
			if (shpt_bench_rht_lookup(bt, shpt_bench_key(k[j].asid,
								     k[j].vpn),
						  &val)) {
				bk->out[j].pfn = val;
				found++;
			}
		}
		break;
	}
	return found;
}

static int shpt_bench_bulk_thread(struct shpt_bench_thread *th)
{
	struct shpt_bench_bk *bk = th->ctl->arg;
	struct shpt_bench_tables *bt = bk->bt;
	unsigned int s, k, j, how, found;
	u32 pos = 0, i;
	u64 t0, dt;

	for (s = 0; s < bk->samples; s++) {
		if (shpt_bench_stopped(th))
			return -EINTR;
		for (j = 0; j < SHPT_BENCH_BATCH; j++) {
			i = bt->perm[pos];
			if (++pos == bt->n)
				pos = 0;
			bk->keys[j].asid = shpt_bench_asid(i, false);
			bk->keys[j].vpn = shpt_bench_vpn(i);
			bk->keys[j].order = 0;
		}
		for (k = 0; k < SHPT_BENCH_BULK_NR; k++) {
			how = (s + k) % SHPT_BENCH_BULK_NR;
			t0 = ktime_get_ns();
			found = shpt_bench_bulk_batch(bk, how);
			dt = ktime_get_ns() - t0;
			if (found != SHPT_BENCH_BATCH) {
				pr_err("bulk: method %u found %u of %u: results void\n",
				       how, found, SHPT_BENCH_BATCH);
				return -EIO;
			}
			bk->ser[how].v[s] = shpt_bench_per_op(dt,
							      SHPT_BENCH_BATCH);
		}
		cond_resched();
	}
	return 0;
}

static int shpt_bench_bulk(struct shpt_bench_run *run,
			   struct shpt_bench_tables *bt, const char *sz)
{
	struct shpt_bench_bk bk = { .bt = bt, .samples = run->samples };
	char kase[40];
	int k, ret = 0;

	for (k = 0; k < SHPT_BENCH_BULK_NR && !ret; k++)
		ret = shpt_bench_series_alloc(&bk.ser[k], run->samples);
	bk.keys = kvcalloc(SHPT_BENCH_BATCH, sizeof(*bk.keys), GFP_KERNEL);
	bk.out = kvcalloc(SHPT_BENCH_BATCH, sizeof(*bk.out), GFP_KERNEL);
	bk.hits = bitmap_zalloc(SHPT_BENCH_BATCH, GFP_KERNEL);
	if (!bk.keys || !bk.out || !bk.hits)
		ret = -ENOMEM;
	if (!ret)
		ret = shpt_bench_on_threads(shpt_bench_bulk_thread, &bk, 1);
	if (!ret) {
		snprintf(kase, sizeof(kase), "bulk/%s", sz);
		/* Both compare the same bulk samples (sorting twice is fine). */
		shpt_bench_emit(run, kase, "single", &bk.ser[SHPT_BENCH_BULK_SHPT],
				&bk.ser[SHPT_BENCH_BULK_SINGLE],
				SHPT_BENCH_BATCH, 1, bt->n, false);
		shpt_bench_emit(run, kase, "rhashtable",
				&bk.ser[SHPT_BENCH_BULK_SHPT],
				&bk.ser[SHPT_BENCH_BULK_RHT], SHPT_BENCH_BATCH,
				1, bt->n, false);
	}
	bitmap_free(bk.hits);
	kvfree(bk.out);
	kvfree(bk.keys);
	for (k = 0; k < SHPT_BENCH_BULK_NR; k++)
		shpt_bench_series_free(&bk.ser[k]);
	return ret;
}

/* ---- insert and remove -------------------------------------------------- */

/**
 * struct shpt_bench_ins - the insert and remove case
 * @bt: the tables, empty at the start of each round
 * @rounds: times the tables are filled and emptied
 * @batches: samples per round and operation
 * @ins: insert samples of shpt and the rhashtable
 * @rm: remove samples of shpt and the rhashtable
 */
struct shpt_bench_ins {
	struct shpt_bench_tables *bt;
	unsigned int rounds;
	unsigned int batches;
	struct shpt_bench_series ins[2];
	struct shpt_bench_series rm[2];
};

/* Insert (or remove) permutation entries [@from, @to) into one table. */
static int shpt_bench_update_batch(struct shpt_bench_tables *bt, u32 from,
				   u32 to, bool rht, bool remove)
{
	u32 j, i;
	int ret;

	for (j = from; j < to; j++) {
		i = bt->perm[remove ? bt->n - 1 - j : j];
		if (!remove) {
			ret = rht ? shpt_bench_rht_insert(bt, i) :
				    shpt_bench_shpt_insert(bt, i);
			if (ret)
				return ret;
		} else if (rht) {
			if (rhashtable_remove_fast(&bt->rht, &bt->objs[i]->node,
						   shpt_bench_rht_params))
				return -EIO;
		} else if (!shpt_table_remove(bt->shpt,
					      shpt_bench_asid(i, false),
					      shpt_bench_vpn(i), 0)) {
			return -EIO;
		}
	}
	return 0;
}

/* Free the removed baseline objects, a grace period after the removes. */
static void shpt_bench_free_removed(struct shpt_bench_tables *bt)
{
	u32 i;

	synchronize_rcu();
	for (i = 0; i < bt->n; i++) {
		if (bt->objs[i])
			kmem_cache_free(bt->cache, bt->objs[i]);
		bt->objs[i] = NULL;
		if (!(i % SHPT_BENCH_BATCH))
			cond_resched();
	}
	bt->nobjs = 0;
}

/*
 * After a failed round some baseline objects are in the table and some
 * removed but not freed: remove the rest (-ENOENT for those already
 * out), then free them all.
 */
static void shpt_bench_drop_objs(struct shpt_bench_tables *bt)
{
	u32 i;

	for (i = 0; i < bt->n; i++) {
		if (bt->objs[i])
			rhashtable_remove_fast(&bt->rht, &bt->objs[i]->node,
					       shpt_bench_rht_params);
		if (!(i % SHPT_BENCH_BATCH))
			cond_resched();
	}
	shpt_bench_free_removed(bt);
}

static int shpt_bench_ins_pass(struct shpt_bench_thread *th,
			       struct shpt_bench_ins *in, unsigned int round,
			       bool remove)
{
	struct shpt_bench_series *ser = remove ? in->rm : in->ins;
	struct shpt_bench_tables *bt = in->bt;
	unsigned int s, k, at;
	u32 from, to;
	u64 t0, dt;
	bool rht;
	int ret;

	for (s = 0; s < in->batches; s++) {
		if (shpt_bench_stopped(th))
			return -EINTR;
		from = s * SHPT_BENCH_BATCH;
		to = min_t(u32, from + SHPT_BENCH_BATCH, bt->n);
		at = round * in->batches + s;
		for (k = 0; k < 2; k++) {
			rht = (s + k) & 1;
			t0 = ktime_get_ns();
			ret = shpt_bench_update_batch(bt, from, to, rht, remove);
			dt = ktime_get_ns() - t0;
			if (ret) {
				pr_err("%s %s failed: %d\n",
				       rht ? "rhashtable" : "shpt",
				       remove ? "remove" : "insert", ret);
				return ret;
			}
			ser[rht].v[at] = shpt_bench_per_op(dt, to - from);
		}
		cond_resched();
	}
	return 0;
}

static int shpt_bench_insert_thread(struct shpt_bench_thread *th)
{
	struct shpt_bench_ins *in = th->ctl->arg;
	unsigned int r;
	int ret;

	for (r = 0; r < in->rounds; r++) {
		ret = shpt_bench_ins_pass(th, in, r, false);
		if (!ret)
			ret = shpt_bench_ins_pass(th, in, r, true);
		if (ret)
			return ret;
		shpt_bench_free_removed(in->bt);
		shpt_table_flush(in->bt->shpt);
	}
	return 0;
}

static int shpt_bench_insert(struct shpt_bench_run *run, u32 n,
			     const char *sz)
{
	struct shpt_bench_ins in = {};
	struct shpt_bench_tables *bt;
	char kase[40];
	unsigned int total, k;
	int ret = 0;

	in.batches = DIV_ROUND_UP(n, SHPT_BENCH_BATCH);
	in.rounds = clamp_t(unsigned int, run->samples / in.batches, 1,
			    SHPT_BENCH_MAX_ROUNDS);
	total = in.rounds * in.batches;
	bt = shpt_bench_tables_create(n, false, true);
	if (IS_ERR(bt))
		return PTR_ERR(bt);
	in.bt = bt;
	for (k = 0; k < 2 && !ret; k++) {
		ret = shpt_bench_series_alloc(&in.ins[k], total);
		if (!ret)
			ret = shpt_bench_series_alloc(&in.rm[k], total);
	}
	if (!ret)
		ret = shpt_bench_on_threads(shpt_bench_insert_thread, &in, 1);
	if (!ret) {
		snprintf(kase, sizeof(kase), "insert/%s", sz);
		shpt_bench_emit(run, kase, "rhashtable", &in.ins[0], &in.ins[1],
				SHPT_BENCH_BATCH, 1, n, false);
		snprintf(kase, sizeof(kase), "remove/%s", sz);
		shpt_bench_emit(run, kase, "rhashtable", &in.rm[0], &in.rm[1],
				SHPT_BENCH_BATCH, 1, n, false);
	}
	for (k = 0; k < 2; k++) {
		shpt_bench_series_free(&in.ins[k]);
		shpt_bench_series_free(&in.rm[k]);
	}
	if (ret)
		shpt_bench_drop_objs(bt);
	shpt_bench_tables_destroy(bt);
	return ret;
}

/* ---- hash --------------------------------------------------------------- */

enum {
	SHPT_BENCH_H_SIP,
	SHPT_BENCH_H_HSIP,
	SHPT_BENCH_H_MOD,
	SHPT_BENCH_H_NR,
};

/**
 * struct shpt_bench_hs - the hash case
 * @samples: samples
 * @ser: samples of siphash_2u64, hsiphash_3u32 and the modulo
 * @sip: a random SipHash key
 * @hsip: a random hsiphash key
 */
struct shpt_bench_hs {
	unsigned int samples;
	struct shpt_bench_series ser[SHPT_BENCH_H_NR];
	siphash_key_t sip;
	hsiphash_key_t hsip;
};

/* Hash a batch of keys as table.c's shpt_hash() does, for 2^20 buckets. */
static u64 shpt_bench_hash_batch(struct shpt_bench_hs *hs, u32 base, int how)
{
	u64 h = 0, key;
	u32 j, i;

	for (j = 0; j < SHPT_BENCH_BATCH; j++) {
		i = base + j;
		key = shpt_bench_key(shpt_bench_asid(i, false),
				     shpt_bench_vpn(i));
		if (how == SHPT_BENCH_H_SIP)
			h += siphash_2u64(key, 0, &hs->sip) & (BIT(20) - 1);
		else if (how == SHPT_BENCH_H_HSIP)
			h += hsiphash_3u32((u32)key, (u32)(key >> 32), 0,
					   &hs->hsip) & (BIT(20) - 1);
		else
			h += key & SHPT_VPN_MAX & (BIT(20) - 1);
	}
	return h;
}

static int shpt_bench_hash_thread(struct shpt_bench_thread *th)
{
	struct shpt_bench_hs *hs = th->ctl->arg;
	unsigned int s, k, how;
	u64 t0, dt, sink = 0;

	for (s = 0; s < hs->samples; s++) {
		if (shpt_bench_stopped(th))
			return -EINTR;
		for (k = 0; k < SHPT_BENCH_H_NR; k++) {
			how = (s + k) % SHPT_BENCH_H_NR;
			t0 = ktime_get_ns();
			sink += shpt_bench_hash_batch(hs, s * SHPT_BENCH_BATCH,
						      how);
			dt = ktime_get_ns() - t0;
			hs->ser[how].v[s] = shpt_bench_per_op(dt,
							      SHPT_BENCH_BATCH);
		}
		cond_resched();
	}
	WRITE_ONCE(th->sink, sink);
	return 0;
}

static int shpt_bench_hash(struct shpt_bench_run *run)
{
	struct shpt_bench_hs *hs;
	int k, ret = 0;

	hs = kzalloc(sizeof(*hs), GFP_KERNEL);
	if (!hs)
		return -ENOMEM;
	hs->samples = run->samples;
	get_random_bytes(&hs->sip, sizeof(hs->sip));
	get_random_bytes(&hs->hsip, sizeof(hs->hsip));
	for (k = 0; k < SHPT_BENCH_H_NR && !ret; k++)
		ret = shpt_bench_series_alloc(&hs->ser[k], run->samples);
	if (!ret)
		ret = shpt_bench_on_threads(shpt_bench_hash_thread, hs, 1);
	if (!ret) {
		shpt_bench_emit(run, "hash/hsiphash", "siphash",
				&hs->ser[SHPT_BENCH_H_HSIP],
				&hs->ser[SHPT_BENCH_H_SIP], SHPT_BENCH_BATCH,
				1, 0, false);
		shpt_bench_emit(run, "hash/modulo", "siphash",
				&hs->ser[SHPT_BENCH_H_MOD],
				&hs->ser[SHPT_BENCH_H_SIP], SHPT_BENCH_BATCH,
				1, 0, false);
	}
	for (k = 0; k < SHPT_BENCH_H_NR; k++)
		shpt_bench_series_free(&hs->ser[k]);
	kfree(hs);
	return ret;
}

/* ---- walk: the real page tables against the shadow ---------------------- */

/**
 * shpt_bench_pt_walk() - translate an address by walking the page tables
 * @mm: the address space; mmap_read_lock held, so that no page table it
 *	reaches is freed
 * @addr: the address
 * @end: end of the VMA, bounds *@next
 * @pfn: out: the page frame mapped at @addr
 * @next: out: the next address worth walking (past an empty table)
 *
 * What a hardware walker does on a TLB miss: pgd, p4d, pud, pmd, pte, each
 * level read once, stopping at a PUD or PMD leaf (hugetlb, THP).  No page
 * reference is taken; the pfn is only a number.
 *
 * Return: true if a page is present at @addr.
 */
static bool shpt_bench_pt_walk(struct mm_struct *mm, unsigned long addr,
			       unsigned long end, unsigned long *pfn,
			       unsigned long *next)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t *ptep, pte;
	p4d_t *p4d;

	*next = (addr & PAGE_MASK) + PAGE_SIZE;
	if (pgd_none(*pgd) || pgd_bad(*pgd)) {
		*next = pgd_addr_end(addr, end);
		return false;
	}
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d)) {
		*next = p4d_addr_end(addr, end);
		return false;
	}
	pudp = pud_offset(p4d, addr);
	pud = READ_ONCE(*pudp);
	if (pud_none(pud) || (!pud_leaf(pud) && pud_bad(pud))) {
		*next = pud_addr_end(addr, end);
		return false;
	}
	if (pud_leaf(pud)) {
		*pfn = pud_pfn(pud) + ((addr & ~PUD_MASK) >> PAGE_SHIFT);
		return pud_present(pud);
	}
	pmdp = pmd_offset(pudp, addr);
	pmd = pmd_read_atomic(pmdp);
	if (pmd_none(pmd) || (!pmd_leaf(pmd) && pmd_bad(pmd))) {
		*next = pmd_addr_end(addr, end);
		return false;
	}
	if (pmd_leaf(pmd)) {
		*pfn = pmd_pfn(pmd) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
		return pmd_present(pmd) && !pmd_protnone(pmd);
	}
	/* The copy @pmd, as GUP-fast does: the table it names stays. */
	ptep = pte_offset_map(&pmd, addr);
	pte = ptep_get(ptep);
	pte_unmap(ptep);
	*pfn = pte_pfn(pte);
	/* A NUMA hinting PTE faults, for the MMU as for hmm: not present. */
	return pte_present(pte) && !pte_protnone(pte);
}

/*
 * The shadow's answer for @addr, as SHPT_IOC_LOOKUP finds it: an order-0
 * entry, else the PMD entry, else the PUD entry that covers it.
 */
static bool shpt_bench_shadow(u64 asid, unsigned long addr, u64 *pfn)
{
	u64 vpn = addr >> PAGE_SHIFT, base;
	struct shpt_mapping m;
	unsigned int order;

	for (order = 0; order <= SHPT_BENCH_PUD_ORDER;
	     order += SHPT_BENCH_PMD_ORDER) {
		base = vpn & ~(BIT_ULL(order) - 1);
		if (shpt_table_lookup(shpt_table, asid, base, order, &m)) {
			*pfn = m.pfn + (vpn - base);
			return true;
		}
	}
	return false;
}

/* The mm of process @nr (caller's pid namespace), with an mmget. */
static int shpt_bench_get_mm(pid_t nr, struct mm_struct **mmp)
{
	struct task_struct *task;
	struct pid *pid;
	bool kthread;

	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;
	kthread = task->flags & PF_KTHREAD;
	*mmp = get_task_mm(task);
	put_task_struct(task);
	if (!*mmp)
		return kthread ? -EINVAL : -ESRCH;
	return 0;
}

/*
 * Collect up to SHPT_BENCH_WALK_MAX present pages of the VMAs the shadow
 * mirrors (not VM_IO/VM_PFNMAP/VM_MIXEDMAP: hmm_range_fault() reports
 * none of theirs), then shuffle them.  Return: the count, or -EINTR.
 */
static long shpt_bench_collect(struct mm_struct *mm, unsigned long *addrs)
{
	u64 state = SHPT_BENCH_SEED, r;
	unsigned long addr, next, pfn;
	struct vm_area_struct *vma;
	long n = 0, i;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for (vma = find_vma(mm, 0); vma; vma = find_vma(mm, vma->vm_end)) {
		if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP))
			continue;
		for (addr = vma->vm_start;
		     addr < vma->vm_end && n < SHPT_BENCH_WALK_MAX; addr = next) {
			if (shpt_bench_pt_walk(mm, addr, vma->vm_end, &pfn,
					       &next))
				addrs[n++] = addr;
			if (!(addr & ~PMD_MASK))
				cond_resched();
		}
	}
	mmap_read_unlock(mm);
	for (i = n - 1; i > 0; i--) {
		div64_u64_rem(shpt_bench_rand(&state), (u64)i + 1, &r);
		swap(addrs[i], addrs[r]);
	}
	return n;
}

/**
 * struct shpt_bench_wk - the walk case
 * @mm: the process's mm, with an mmget
 * @asid: its mirror's ASID
 * @addrs: present pages, shuffled
 * @n: entries of @addrs
 * @samples: samples
 * @s: samples of the shadow lookups
 * @b: samples of the page walks
 * @hits: addresses the shadow translated
 * @bhits: addresses the page walk translated
 */
struct shpt_bench_wk {
	struct mm_struct *mm;
	u64 asid;
	unsigned long *addrs;
	long n;
	unsigned int samples;
	struct shpt_bench_series s;
	struct shpt_bench_series b;
	u64 hits;
	u64 bhits;
};

static unsigned int shpt_bench_walk_batch(struct shpt_bench_wk *wk, long pos,
					  bool walk, u64 *sink)
{
	unsigned long next, pfn64;
	unsigned int j, found = 0;
	unsigned long addr;
	u64 pfn, sum = 0;

	for (j = 0; j < SHPT_BENCH_BATCH; j++) {
		addr = wk->addrs[pos];
		if (++pos == wk->n)
			pos = 0;
		if (walk) {
			if (shpt_bench_pt_walk(wk->mm, addr, TASK_SIZE_MAX,
					       &pfn64, &next)) {
				found++;
				sum += pfn64;
			}
		} else if (shpt_bench_shadow(wk->asid, addr, &pfn)) {
			found++;
			sum += pfn;
		}
	}
	*sink += sum;
	return found;
}

static int shpt_bench_walk_thread(struct shpt_bench_thread *th)
{
	struct shpt_bench_wk *wk = th->ctl->arg;
	unsigned int s, k, found;
	u64 t0, dt, sink = 0;
	long pos = 0;
	bool walk;

	for (s = 0; s < wk->samples; s++) {
		if (shpt_bench_stopped(th))
			return -EINTR;
		for (k = 0; k < 2; k++) {
			walk = (s + k) & 1;
			/* The lock is not timed; a hardware walker takes none. */
			if (walk && mmap_read_lock_killable(wk->mm))
				return -EINTR;
			t0 = ktime_get_ns();
			found = shpt_bench_walk_batch(wk, pos, walk, &sink);
			dt = ktime_get_ns() - t0;
			if (walk)
				mmap_read_unlock(wk->mm);
			if (walk)
				wk->bhits += found;
			else
				wk->hits += found;
			(walk ? &wk->b : &wk->s)->v[s] =
				shpt_bench_per_op(dt, SHPT_BENCH_BATCH);
		}
		pos = (pos + SHPT_BENCH_BATCH) % wk->n;
		cond_resched();
	}
	WRITE_ONCE(th->sink, sink);
	return 0;
}

static int shpt_bench_walk(struct shpt_bench_run *run)
{
	struct shpt_bench_wk wk = { .samples = run->samples };
	struct shpt_bench_result *r;
	int ret;

	ret = shpt_bench_get_mm(run->cmd->pid, &wk.mm);
	if (ret)
		return ret;
	wk.asid = shpt_mirror_asid_of_mm(wk.mm);
	if (!wk.asid) {
		ret = -ENOENT;
		goto out_mmput;
	}
	wk.addrs = kvmalloc_array(SHPT_BENCH_WALK_MAX, sizeof(*wk.addrs),
				  GFP_KERNEL);
	if (!wk.addrs) {
		ret = -ENOMEM;
		goto out_mmput;
	}
	wk.n = shpt_bench_collect(wk.mm, wk.addrs);
	if (wk.n <= 0) {
		ret = wk.n ? wk.n : -ENODATA;
		goto out_free_addrs;
	}
	ret = shpt_bench_series_alloc(&wk.s, wk.samples);
	if (!ret)
		ret = shpt_bench_series_alloc(&wk.b, wk.samples);
	if (!ret)
		ret = shpt_bench_on_threads(shpt_bench_walk_thread, &wk, 1);
	if (!ret) {
		r = shpt_bench_emit(run, "walk", "page_walk", &wk.s, &wk.b,
				    SHPT_BENCH_BATCH, 1, wk.n, false);
		if (r) {
			r->hits = wk.hits;
			r->bhits = wk.bhits;
		}
	}
	shpt_bench_series_free(&wk.s);
	shpt_bench_series_free(&wk.b);
out_free_addrs:
	kvfree(wk.addrs);
out_mmput:
	mmput(wk.mm);
	return ret;
}

/* ---- populate: the mirror's populate against a bare hmm_range_fault ---- */

/**
 * struct shpt_bench_hmm - the bare snapshot's notifier
 * @mni: over the populate range, for one pass
 * @lock: orders the sequence check with the callback, as mirror->lock does
 */
struct shpt_bench_hmm {
	struct mmu_interval_notifier mni;
	struct mutex lock;	/* the sequence of @mni */
};

static bool shpt_bench_hmm_invalidate(struct mmu_interval_notifier *mni,
				      const struct mmu_notifier_range *range,
				      unsigned long cur_seq)
{
	struct shpt_bench_hmm *h = container_of(mni, struct shpt_bench_hmm,
						mni);

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&h->lock);
	else if (!mutex_trylock(&h->lock))
		return false;
	mmu_interval_set_seq(mni, cur_seq);
	mutex_unlock(&h->lock);
	return true;
}

static const struct mmu_interval_notifier_ops shpt_bench_hmm_ops = {
	.invalidate = shpt_bench_hmm_invalidate,
};

/*
 * Snapshot [@start, @end) of one VMA piece with the read_begin /
 * hmm_range_fault / read_retry protocol, no faulting (default_flags 0,
 * as shpt's populate).  Return: 0, -EAGAIN after too many retries,
 * -EINTR, or hmm_range_fault()'s error.
 */
static int shpt_bench_hmm_piece(struct shpt_bench_hmm *h,
				struct mm_struct *mm, unsigned long start,
				unsigned long end, unsigned long *pfns)
{
	struct hmm_range range = {
		.notifier = &h->mni, .start = start, .end = end,
		.hmm_pfns = pfns, .default_flags = 0, .pfn_flags_mask = 0,
	};
	int tries, ret;
	bool retry;

	for (tries = 0; tries < SHPT_BENCH_HMM_RETRIES; tries++) {
		range.notifier_seq = mmu_interval_read_begin(&h->mni);
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret == -EBUSY)
			continue;
		if (ret)
			return ret;
		mutex_lock(&h->lock);
		retry = mmu_interval_read_retry(&h->mni, range.notifier_seq);
		mutex_unlock(&h->lock);
		if (!retry)
			return 0;
	}
	return -EAGAIN;
}

/* One bare pass over [@start, @end), VMA by VMA.  Return: 0 or -errno. */
static int shpt_bench_hmm_pass(struct mm_struct *mm, unsigned long start,
			       unsigned long end, unsigned long *pfns)
{
	struct shpt_bench_hmm h;
	struct vm_area_struct *vma;
	unsigned long a, e;
	int ret;

	mutex_init(&h.lock);
	ret = mmu_interval_notifier_insert(&h.mni, mm, start, end - start,
					   &shpt_bench_hmm_ops);
	if (ret)
		return ret;
	while (start < end) {
		if (mmap_read_lock_killable(mm)) {
			ret = -EINTR;
			break;
		}
		vma = find_vma(mm, start);
		a = vma ? max(start, vma->vm_start) : end;
		e = vma ? min3(end, vma->vm_end,
			       a + SHPT_BENCH_HMM_PAGES * PAGE_SIZE) : end;
		mmap_read_unlock(mm);
		if (a >= end)
			break;
		ret = shpt_bench_hmm_piece(&h, mm, a, e, pfns);
		if (ret)
			break;
		start = e;
	}
	mmu_interval_notifier_remove(&h.mni);
	mutex_destroy(&h.lock);
	return ret;
}

static int shpt_bench_populate(struct shpt_bench_run *run)
{
	const struct shpt_bench_cmd *cmd = run->cmd;
	unsigned long start = cmd->start, end = cmd->start + cmd->len;
	u64 pages = cmd->len >> PAGE_SHIFT;
	unsigned int s, k, samples;
	struct shpt_bench_series ser[2] = {};
	struct shpt_range_result res;
	struct shpt_bench_result *r;
	struct mm_struct *mm;
	unsigned long *pfns;
	u64 t0, dt, present = 0;
	bool bare;
	int ret;

	samples = cmd->samples ? cmd->samples : SHPT_BENCH_POP_SAMPLES;
	ret = shpt_bench_get_mm(cmd->pid, &mm);
	if (ret)
		return ret;
	if (!shpt_mirror_asid_of_mm(mm)) {
		ret = -ENOENT;
		goto out_mmput;
	}
	pfns = kvmalloc_array(SHPT_BENCH_HMM_PAGES, sizeof(*pfns), GFP_KERNEL);
	if (!pfns) {
		ret = -ENOMEM;
		goto out_mmput;
	}
	for (k = 0; k < 2 && !ret; k++)
		ret = shpt_bench_series_alloc(&ser[k], samples);
	/* Runs in the writer: populate may sleep for long, and is killable. */
	for (s = 0; s < samples && !ret; s++) {
		for (k = 0; k < 2 && !ret; k++) {
			bare = (s + k) & 1;
			memset(&res, 0, sizeof(res));
			t0 = ktime_get_ns();
			if (bare)
				ret = shpt_bench_hmm_pass(mm, start, end, pfns);
			else
				ret = shpt_mirror_populate_mm(mm, start, end,
							      &res);
			dt = ktime_get_ns() - t0;
			if (!bare)
				present = res.checked;
			ser[bare].v[s] = shpt_bench_per_op(dt, pages);
		}
		if (!ret && fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	if (!ret) {
		r = shpt_bench_emit(run, "populate", "hmm_range_fault", &ser[0],
				    &ser[1], pages, 1, 0, true);
		if (r)
			r->hits = present;
	}
	for (k = 0; k < 2; k++)
		shpt_bench_series_free(&ser[k]);
	kvfree(pfns);
out_mmput:
	mmput(mm);
	return ret;
}

/* ---- a run -------------------------------------------------------------- */

/* lookup and bulk at one size, on one pair of tables */
static int shpt_bench_size(struct shpt_bench_run *run, u32 n)
{
	struct shpt_bench_tables *bt;
	char sz[16];
	int ret;

	shpt_bench_size_name(n, sz, sizeof(sz));
	bt = shpt_bench_tables_create(n, true, false);
	if (IS_ERR(bt))
		return PTR_ERR(bt);
	ret = shpt_bench_build(bt);
	if (!ret && (run->cmd->cases & SHPT_BC_LOOKUP))
		ret = shpt_bench_lookups(run, bt, sz);
	if (!ret && (run->cmd->cases & SHPT_BC_BULK))
		ret = shpt_bench_bulk(run, bt, sz);
	shpt_bench_tables_destroy(bt);
	return ret;
}

static int shpt_bench_run(const struct shpt_bench_cmd *cmd,
			  struct shpt_bench_results *res)
{
	struct shpt_bench_run run = { .cmd = cmd, .res = res };
	char sz[16];
	unsigned int i;
	int ret = 0;

	run.samples = cmd->samples ? cmd->samples : SHPT_BENCH_SAMPLES;
	get_random_bytes(&shpt_bench_sipkey, sizeof(shpt_bench_sipkey));

	if (cmd->cases & (SHPT_BC_LOOKUP | SHPT_BC_BULK))
		for (i = 0; i < cmd->nsizes && !ret; i++)
			ret = shpt_bench_size(&run, cmd->sizes[i]);
	if (cmd->cases & SHPT_BC_INSERT)
		for (i = 0; i < cmd->nsizes && !ret; i++) {
			shpt_bench_size_name(cmd->sizes[i], sz, sizeof(sz));
			ret = shpt_bench_insert(&run, cmd->sizes[i], sz);
		}
	if (!ret && (cmd->cases & SHPT_BC_HASH))
		ret = shpt_bench_hash(&run);
	if (!ret && (cmd->cases & SHPT_BC_WALK))
		ret = shpt_bench_walk(&run);
	if (!ret && (cmd->cases & SHPT_BC_POPULATE))
		ret = shpt_bench_populate(&run);
	return ret;
}

/* ---- commands ----------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned int cases;
	unsigned int opts;	/* accepted */
	unsigned int need;	/* required */
} shpt_bench_cmds[] = {
	{ "lookup", SHPT_BC_LOOKUP, SHPT_BO_SIZES | SHPT_BO_THREADS |
	  SHPT_BO_SAMPLES, 0 },
	{ "bulk", SHPT_BC_BULK, SHPT_BO_SIZES | SHPT_BO_SAMPLES, 0 },
	{ "insert", SHPT_BC_INSERT, SHPT_BO_SIZES | SHPT_BO_SAMPLES, 0 },
	{ "hash", SHPT_BC_HASH, SHPT_BO_SAMPLES, 0 },
	{ "walk", SHPT_BC_WALK, SHPT_BO_PID | SHPT_BO_SAMPLES, SHPT_BO_PID },
	{ "populate", SHPT_BC_POPULATE, SHPT_BO_PID | SHPT_BO_START |
	  SHPT_BO_LEN | SHPT_BO_SAMPLES,
	  SHPT_BO_PID | SHPT_BO_START | SHPT_BO_LEN },
	{ "all", SHPT_BC_LOOKUP | SHPT_BC_BULK | SHPT_BC_INSERT | SHPT_BC_HASH,
	  SHPT_BO_SAMPLES, 0 },
};

static const u32 shpt_bench_default_sizes[] = {
	16U << 10, 256U << 10, 1U << 20, 4U << 20,
};

/* A number with an optional K/M/G suffix, within [@min, @max]. */
static int shpt_bench_parse_num(const char *s, u64 min, u64 max, u64 *v)
{
	char *end;

	if (!*s)
		return -EINVAL;
	*v = memparse(s, &end);
	if (*end || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

/* A comma-separated list of sizes or thread counts, at most @max of them. */
static int shpt_bench_parse_list(char *val, bool threads, u32 *out,
				 unsigned int max, unsigned int *n)
{
	unsigned int cpus = num_online_cpus();
	char *item;
	u64 v;

	*n = 0;
	while ((item = strsep(&val, ","))) {
		if (*n == max)
			return -EINVAL;
		if (threads && !strcmp(item, "all"))
			v = cpus;
		else if (shpt_bench_parse_num(item, 1, threads ? cpus :
					      SHPT_BENCH_MAX_ENTRIES, &v))
			return -EINVAL;
		out[(*n)++] = v;
	}
	return 0;
}

static int shpt_bench_parse_opt(char *tok, struct shpt_bench_cmd *c)
{
	char *val = strchr(tok, '=');
	unsigned int bit;
	u64 v;
	int ret;

	if (!val)
		return -EINVAL;
	*val++ = '\0';
	if (!strcmp(tok, "sizes")) {
		bit = SHPT_BO_SIZES;
		ret = shpt_bench_parse_list(val, false, c->sizes,
					    SHPT_BENCH_MAX_SIZES, &c->nsizes);
	} else if (!strcmp(tok, "threads")) {
		bit = SHPT_BO_THREADS;
		ret = shpt_bench_parse_list(val, true, c->threads,
					    SHPT_BENCH_MAX_NTHR, &c->nthr);
	} else if (!strcmp(tok, "samples")) {
		bit = SHPT_BO_SAMPLES;
		ret = shpt_bench_parse_num(val, 1, SHPT_BENCH_MAX_SAMPLES, &v);
		c->samples = v;
	} else if (!strcmp(tok, "pid")) {
		bit = SHPT_BO_PID;
		ret = kstrtoint(val, 10, &c->pid);
		if (!ret && c->pid <= 0)
			ret = -EINVAL;
	} else if (!strcmp(tok, "start")) {
		bit = SHPT_BO_START;
		ret = kstrtoul(val, 0, &c->start);
	} else if (!strcmp(tok, "len")) {
		bit = SHPT_BO_LEN;
		ret = shpt_bench_parse_num(val, 1, TASK_SIZE_MAX, &v);
		c->len = v;
	} else {
		return -EINVAL;
	}
	if (ret || (c->opts & bit))
		return -EINVAL;
	c->opts |= bit;
	return 0;
}

/*
 * Parse "CMD [key=value]...".  Return: 0, or -EINVAL for an unknown
 * command or option, an option the command does not take, a missing
 * required one, a repeated one, or a value out of range.
 */
static int shpt_bench_parse(char *buf, struct shpt_bench_cmd *c)
{
	unsigned int i, allowed = 0, need = 0;
	char *tok;
	int ret;

	memset(c, 0, sizeof(*c));
	while ((tok = strsep(&buf, " \t\n"))) {
		if (!*tok)
			continue;
		if (!c->cases) {
			for (i = 0; i < ARRAY_SIZE(shpt_bench_cmds); i++)
				if (!strcmp(tok, shpt_bench_cmds[i].name))
					break;
			if (i == ARRAY_SIZE(shpt_bench_cmds))
				return -EINVAL;
			c->cases = shpt_bench_cmds[i].cases;
			allowed = shpt_bench_cmds[i].opts;
			need = shpt_bench_cmds[i].need;
			continue;
		}
		ret = shpt_bench_parse_opt(tok, c);
		if (ret)
			return ret;
	}
	if (!c->cases || (c->opts & ~allowed) || (c->opts & need) != need)
		return -EINVAL;
	if ((c->cases & SHPT_BC_POPULATE) &&
	    (c->start & ~PAGE_MASK || c->len & ~PAGE_MASK ||
	     c->start >= TASK_SIZE_MAX || c->len > TASK_SIZE_MAX - c->start))
		return -EINVAL;
	if (!c->nsizes) {
		c->nsizes = ARRAY_SIZE(shpt_bench_default_sizes);
		memcpy(c->sizes, shpt_bench_default_sizes,
		       sizeof(shpt_bench_default_sizes));
	}
	if (!c->nthr) {
		c->threads[c->nthr++] = 1;
		if (num_online_cpus() > 1)
			c->threads[c->nthr++] = num_online_cpus();
	}
	return 0;
}

/* ---- the debugfs file --------------------------------------------------- */

static void shpt_bench_put_milli(struct seq_file *m, const char *name, u64 v)
{
	u32 frac;
	u64 whole = div_u64_rem(v, 1000, &frac);

	seq_printf(m, ",\"%s\":%llu.%03u", name, whole, frac);
}

static void shpt_bench_show_one(struct seq_file *m,
				const struct shpt_bench_result *r)
{
	u64 ratio;
	u32 frac;

	seq_printf(m, "{\"case\":\"%s\",\"metric\":\"%s\"", r->kase,
		   r->metric);
	shpt_bench_put_milli(m, "value", r->value);
	seq_printf(m, ",\"unit\":\"%s\",\"baseline\":\"%s\"", r->unit,
		   r->baseline);
	shpt_bench_put_milli(m, "baseline_value", r->bvalue);
	if (r->bvalue) {
		/* millionths, from the printed thousandths: value / baseline */
		ratio = mul_u64_u64_div_u64(r->value, 1000000, r->bvalue);
		ratio = div_u64_rem(ratio, 1000000, &frac);
		seq_printf(m, ",\"ratio\":%llu.%06u", ratio, frac);
	} else {
		seq_puts(m, ",\"ratio\":null");
	}
	shpt_bench_put_milli(m, "p50", r->value);
	shpt_bench_put_milli(m, "p99", r->p99);
	shpt_bench_put_milli(m, "baseline_p50", r->bvalue);
	shpt_bench_put_milli(m, "baseline_p99", r->bp99);
	seq_printf(m, ",\"samples\":%u,\"ops_per_sample\":%llu,\"threads\":%u",
		   r->samples, r->ops, r->threads);
	if (r->entries)
		seq_printf(m, ",\"entries\":%llu", r->entries);
	if (r->hits != ~0ULL)
		seq_printf(m, ",\"hits\":%llu", r->hits);
	if (r->bhits != ~0ULL)
		seq_printf(m, ",\"baseline_hits\":%llu", r->bhits);
	seq_puts(m, "}\n");
}

static int shpt_bench_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	mutex_lock(&shpt_bench_show_lock);
	seq_printf(m, "{\"note\":\"%s\",\"version\":\"%s\",\"cpus\":%u,\"results\":%u,\"error\":%d}\n",
		   SHPT_BENCH_NOTE, SHPT_VERSION, num_online_cpus(), shpt_bench_last.n,
		   shpt_bench_last.err);
	for (i = 0; i < shpt_bench_last.n; i++)
		shpt_bench_show_one(m, &shpt_bench_last.r[i]);
	mutex_unlock(&shpt_bench_show_lock);
	return 0;
}

static int shpt_bench_open(struct inode *inode, struct file *file)
{
	/* Besides the 0600 mode: a benchmark is root's business. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return single_open(file, shpt_bench_show, NULL);
}

/* Run a parsed command and publish its results, even partial ones. */
static int shpt_bench_exec(const struct shpt_bench_cmd *cmd)
{
	struct shpt_bench_results *res;
	int ret;

	res = kvzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return -ENOMEM;
	ret = shpt_bench_run(cmd, res);
	res->err = ret;
	mutex_lock(&shpt_bench_show_lock);
	memcpy(&shpt_bench_last, res, sizeof(*res));
	mutex_unlock(&shpt_bench_show_lock);
	kvfree(res);
	return ret;
}

static ssize_t shpt_bench_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct shpt_bench_cmd cmd;
	char *buf;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!count || count > SHPT_BENCH_CMD_MAX)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = shpt_bench_parse(buf, &cmd);
	kfree(buf);
	if (ret)
		return ret;
	if (!mutex_trylock(&shpt_bench_run_lock))
		return -EBUSY;
	ret = shpt_bench_exec(&cmd);
	mutex_unlock(&shpt_bench_run_lock);
	return ret ? ret : count;
}

static const struct file_operations shpt_bench_fops = {
	.owner = THIS_MODULE,
	.open = shpt_bench_open,
	.read = seq_read,
	.write = shpt_bench_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/**
 * shpt_bench_debugfs_init() - create the benchmark's debugfs file
 * @root: /sys/kernel/debug/shpt/
 *
 * Creates "bench", mode 0600.  Call with the rest of debugfs, after the
 * global table exists; debugfs_remove_recursive() of @root removes it,
 * after waiting for a run in progress (module exit cannot start while the
 * file is open, which every run keeps it).  Nothing else needs freeing.
 */
void shpt_bench_debugfs_init(struct dentry *root)
{
	debugfs_create_file("bench", 0600, root, NULL, &shpt_bench_fops);
}
