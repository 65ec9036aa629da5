// SPDX-License-Identifier: GPL-2.0
/*
 * bench_table - the shpt table against liburcu's cds_lfht, same run, same keys
 *
 * Modes (tools/testing/bench/run_bench.py drives them):
 *
 *   bench_table time SIZE...   wall-clock ns/op at each size: insert, hit
 *                              and miss lookups on 1 and 2 threads, bulk
 *                              hit and miss lookups (shpt only, per key,
 *                              SHPT_BENCH_BULK keys a call), a forced
 *                              doubling of the buckets, remove;
 *                              the chain-length histogram and a chi-square
 *                              test against Poisson(alpha)
 *   bench_table rss IMPL SIZE  build one table, print its RSS growth per
 *                              entry (run in a fresh process per figure)
 *   bench_table cg IMPL SIZE   phases bracketed by callgrind client
 *                              requests, for instructions per operation
 *   bench_table gammatest      check the chi-square p-value code
 *
 * Every result is one JSON object per line on stdout, prefixed "R ";
 * everything else is for humans.  Both tables hash the same (asid, vpn,
 * order) words with the same SipHash-2-4 code (each with its own random
 * key, which does not change the cost); the keys and their order are the
 * same for both.  Nothing here is a test assertion: the only
 * failures are wrong lookup results, which would make the numbers void.
 */
#define pr_fmt(fmt) "shpt-bench: " fmt

#include <linux/types.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "table.h"
#include "bench/bench_lfht.h"

#define SHPT_BENCH_NASID	8
#define SHPT_BENCH_VPN_BASE	0x7f0000000ULL
#define SHPT_BENCH_HIST_BINS	32
#define SHPT_BENCH_REPS		3
/* Pairs of (single, bulk) runs for the bulk-to-single ratio. */
#define SHPT_BENCH_PAIRED_REPS	5
/* Keys per shpt_table_lookup_bulk() call in the bulk cases. */
#define SHPT_BENCH_BULK		64

enum shpt_bench_impl { SHPT_IMPL_SHPT, SHPT_IMPL_LFHT, SHPT_IMPL_NR };

static const char * const shpt_bench_impl_name[] = { "shpt", "cds_lfht" };

struct shpt_bench_ctx {
	enum shpt_bench_impl impl;
	struct shpt_table *t;
	struct shpt_bl *bl;
};

static unsigned char shpt_bench_key[16] __attribute__((aligned(8)));

/*
 * Key i lives in ASID 1 + i % 8 at a dense run of VPNs, as a process's
 * pages do.  Miss key i is the same VPN in ASID 9 + i % 8, a homonym of a
 * present key, so a miss walks a chain as long as a hit does.
 */
static inline void shpt_bench_key_of(u64 i, bool miss, u64 *asid, u64 *vpn)
{
	*asid = 1 + (i % SHPT_BENCH_NASID) + (miss ? SHPT_BENCH_NASID : 0);
	*vpn = SHPT_BENCH_VPN_BASE + i / SHPT_BENCH_NASID;
}

static inline u64 shpt_bench_pfn_of(u64 i)
{
	return (i * 0x9e3779b97f4a7c15ULL) & SHPT_PFN_MAX;
}

static u64 shpt_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static u64 shpt_bench_rng_state = 0x5eed5eed12345678ULL;

static u64 shpt_bench_rand(void)
{
	u64 z = (shpt_bench_rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A random permutation of 0..n-1: the order of every timed pass. */
static u32 *shpt_bench_perm(size_t n)
{
	u32 *p = malloc(n * sizeof(*p));
	size_t i;

	if (!p) {
		perror("malloc");
		exit(1);
	}
	for (i = 0; i < n; i++)
		p[i] = i;
	for (i = n - 1; i > 0; i--) {
		size_t j = shpt_bench_rand() % (i + 1);
		u32 tmp = p[i];

		p[i] = p[j];
		p[j] = tmp;
	}
	return p;
}

/* The table's default parameters, but no shrink (below). */
static struct shpt_table_params shpt_bench_params(void)
{
	struct shpt_table_params p;

	shpt_table_default_params(&p);
	p.min_buckets = 64;
	p.max_buckets = 1U << 26;
	/*
	 * The tables are created at their final size; with min_load the
	 * first inserts would shrink it and the insert runs would time the
	 * grows back.
	 */
	p.min_load_pct = 0;
	return p;
}

/*
 * The bucket count shpt's grow rule gives @n entries (from 64 buckets,
 * double while 100 * n > max_load_pct * B).
 */
static unsigned long shpt_bench_buckets_for(size_t n)
{
	unsigned long b = 64;

	while ((u64)n * 100 > (u64)shpt_bench_params().max_load_pct * b)
		b <<= 1;
	return b;
}

/*
 * Both tables start with the bucket count they need for @n entries, so an
 * insert run times inserts and not resizes (resizes are timed apart, in
 * the "grow" case).  cds_lfht's own resize policy (AUTO_RESIZE with
 * ACCOUNTING) grows only when the node count reaches 8 times the bucket
 * count, and its lazy resizes lagged far behind on this loaded machine
 * (10-170 us per insert at 256K-1M entries), so letting each table grow
 * by itself would time cds_lfht's resize worker, not its table.
 */
static void shpt_bench_create(struct shpt_bench_ctx *c,
			      enum shpt_bench_impl impl, size_t n)
{
	struct shpt_table_params p = shpt_bench_params();

	p.init_buckets = shpt_bench_buckets_for(n);

	memset(c, 0, sizeof(*c));
	c->impl = impl;
	if (impl == SHPT_IMPL_SHPT) {
		c->t = shpt_table_create(&p);
		if (IS_ERR(c->t))
			c->t = NULL;
	} else {
		c->bl = shpt_bl_create(shpt_bench_key,
					shpt_bench_buckets_for(n));
	}
	if (!c->t && !c->bl) {
		fprintf(stderr, "cannot create %s\n", shpt_bench_impl_name[impl]);
		exit(1);
	}
}

static void shpt_bench_destroy(struct shpt_bench_ctx *c)
{
	if (c->t)
		shpt_table_destroy(c->t);
	if (c->bl)
		shpt_bl_destroy(c->bl);
}

static inline int shpt_bench_insert(struct shpt_bench_ctx *c, u64 i)
{
	struct shpt_mapping m = { .order = 0, .flags = SHPT_F_VALID };

	shpt_bench_key_of(i, false, &m.asid, &m.vpn);
	m.pfn = shpt_bench_pfn_of(i);
	if (c->impl == SHPT_IMPL_SHPT)
		return shpt_table_insert(c->t, &m, GFP_KERNEL);
	return shpt_bl_insert(c->bl, m.asid, m.vpn, 0, m.pfn, m.flags);
}

static inline bool shpt_bench_lookup(struct shpt_bench_ctx *c, u64 i, bool miss,
				     u64 *pfn)
{
	struct shpt_mapping m;
	unsigned int flags;
	u64 asid, vpn;
	bool found;

	shpt_bench_key_of(i, miss, &asid, &vpn);
	if (c->impl == SHPT_IMPL_SHPT) {
		found = shpt_table_lookup(c->t, asid, vpn, 0, &m);
		*pfn = m.pfn;
		return found;
	}
	return shpt_bl_lookup(c->bl, asid, vpn, 0, pfn, &flags);
}

static inline bool shpt_bench_remove(struct shpt_bench_ctx *c, u64 i)
{
	u64 asid, vpn;

	shpt_bench_key_of(i, false, &asid, &vpn);
	if (c->impl == SHPT_IMPL_SHPT)
		return shpt_table_remove(c->t, asid, vpn, 0);
	return shpt_bl_remove(c->bl, asid, vpn, 0);
}

static void shpt_bench_build(struct shpt_bench_ctx *c, const u32 *perm,
			     size_t from, size_t to)
{
	size_t j;

	for (j = from; j < to; j++) {
		if (shpt_bench_insert(c, perm[j])) {
			fprintf(stderr, "%s: insert failed\n",
				shpt_bench_impl_name[c->impl]);
			exit(1);
		}
	}
}

/*
 * Wait until the shpt worker has no resize left to do (the bucket count
 * has stopped moving and alpha is under max_load) and every RCU callback
 * of cds_lfht has run.
 */
static void shpt_bench_settle(struct shpt_bench_ctx *c)
{
	struct shpt_table_stats s;
	u64 last = 0;
	int stable = 0, i;

	if (c->impl == SHPT_IMPL_LFHT) {
		shpt_bl_barrier();
		return;
	}
	shpt_table_flush(c->t);
	for (i = 0; i < 1000 && stable < 3; i++) {
		shpt_table_get_stats(c->t, &s);
		if (s.nbuckets == last && s.nelems * 100 <=
		    s.nbuckets * shpt_bench_params().max_load_pct)
			stable++;
		else
			stable = 0;
		last = s.nbuckets;
		usleep(10000);
	}
}

struct shpt_bench_thread {
	struct shpt_bench_ctx *c;
	const u32 *perm;
	size_t n, start, ops;
	bool miss;
	bool bulk;
	pthread_barrier_t *bar;
	u64 found, sum;
};

/*
 * Look up keys @perm[@idx...] (wrapping at @n) SHPT_BENCH_BULK at a time
 * with shpt_table_lookup_bulk(), @ops keys in all.  cds_lfht has no bulk
 * lookup: for it this is the loop of single lookups.
 */
static void shpt_bench_bulk_loop(struct shpt_bench_thread *a)
{
	static __thread struct shpt_mapping out[SHPT_BENCH_BULK];
	static __thread struct shpt_key keys[SHPT_BENCH_BULK];
	size_t j, idx = a->start % a->n;
	u64 found = 0, sum = 0;
	unsigned long hits;
	unsigned int k, m;

	for (j = 0; j < a->ops; j += m) {
		m = a->ops - j < SHPT_BENCH_BULK ? a->ops - j : SHPT_BENCH_BULK;
		for (k = 0; k < m; k++) {
			shpt_bench_key_of(a->perm[idx], a->miss, &keys[k].asid,
					  &keys[k].vpn);
			keys[k].order = 0;
			if (++idx == a->n)
				idx = 0;
		}
		found += shpt_table_lookup_bulk(a->c->t, keys, m, out, &hits);
		for (k = 0; k < m; k++)
			sum += (hits >> k) & 1 ? out[k].pfn : 0;
	}
	a->found = found;
	a->sum = sum;
}

static void shpt_bench_lookup_loop(struct shpt_bench_thread *a)
{
	size_t j, idx = a->start % a->n;
	u64 found = 0, sum = 0, pfn = 0;

	for (j = 0; j < a->ops; j++) {
		found += shpt_bench_lookup(a->c, a->perm[idx], a->miss, &pfn);
		sum += pfn;
		if (++idx == a->n)
			idx = 0;
	}
	a->found = found;
	a->sum = sum;
}

static void *shpt_bench_thread_fn(void *arg)
{
	struct shpt_bench_thread *a = arg;

	shpt_bl_thread_online();
	pthread_barrier_wait(a->bar);
	if (a->bulk)
		shpt_bench_bulk_loop(a);
	else
		shpt_bench_lookup_loop(a);
	pthread_barrier_wait(a->bar);
	shpt_bl_thread_offline();
	return NULL;
}

/* Lookups on @nthr threads at once; returns ns per lookup of the whole. */
static double shpt_bench_lookups(struct shpt_bench_ctx *c, const u32 *perm,
				 size_t n, size_t ops, bool miss, int nthr,
				 bool bulk)
{
	struct shpt_bench_thread a[2];
	pthread_t tid[2];
	pthread_barrier_t bar;
	u64 t0, t1, found = 0;
	int k;

	pthread_barrier_init(&bar, NULL, nthr + 1);
	for (k = 0; k < nthr; k++) {
		a[k] = (struct shpt_bench_thread){
			.c = c, .perm = perm, .n = n, .start = k * (n / 2),
			.ops = ops, .miss = miss, .bar = &bar,
			.bulk = bulk && c->impl == SHPT_IMPL_SHPT,
		};
		if (pthread_create(&tid[k], NULL, shpt_bench_thread_fn, &a[k])) {
			perror("pthread_create");
			exit(1);
		}
	}
	pthread_barrier_wait(&bar);
	t0 = shpt_bench_now_ns();
	pthread_barrier_wait(&bar);
	t1 = shpt_bench_now_ns();
	for (k = 0; k < nthr; k++) {
		pthread_join(tid[k], NULL);
		found += a[k].found;
	}
	pthread_barrier_destroy(&bar);
	if (found != (miss ? 0 : (u64)ops * nthr)) {
		fprintf(stderr, "%s: %s lookups found %llu of %zu: results void\n",
			shpt_bench_impl_name[c->impl], miss ? "miss" : "hit",
			(unsigned long long)found, ops * nthr);
		exit(1);
	}
	return (double)(t1 - t0) / ((double)ops * nthr);
}

static void shpt_bench_emit(const char *kase, const char *metric,
			    enum shpt_bench_impl impl, double value,
			    const char *unit)
{
	printf("R {\"case\": \"%s\", \"metric\": \"%s\", \"impl\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"}\n",
	       kase, metric, shpt_bench_impl_name[impl], value, unit);
}

static int shpt_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double shpt_bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), shpt_bench_cmp_double);
	return v[n / 2];
}

/* ---- chi-square against Poisson(alpha) --------------------------------- */

/*
 * Regularized lower incomplete gamma P(a, x) by its power series, good for
 * x < a + 1 (Abramowitz & Stegun 6.5.29).
 */
static double shpt_gamma_p_series(double a, double x)
{
	double sum = 1.0 / a, term = sum, ap = a;
	int n;

	for (n = 0; n < 10000; n++) {
		ap += 1.0;
		term *= x / ap;
		sum += term;
		if (fabs(term) < fabs(sum) * 1e-15)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/*
 * Regularized upper incomplete gamma Q(a, x) by its continued fraction
 * (A&S 6.5.31), evaluated with the modified Lentz method; good for
 * x >= a + 1.
 */
static double shpt_gamma_q_cf(double a, double x)
{
	const double tiny = 1e-300;
	double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
	int i;

	for (i = 1; i < 10000; i++) {
		double an = -i * (i - a), del;

		b += 2.0;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-15)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

/* Q(a, x) = 1 - P(a, x), the upper tail. */
static double shpt_gamma_q(double a, double x)
{
	if (x <= 0.0)
		return 1.0;
	if (x < a + 1.0)
		return 1.0 - shpt_gamma_p_series(a, x);
	return shpt_gamma_q_cf(a, x);
}

/* P(X^2_df >= x): the p-value of a chi-square statistic. */
static double shpt_chi2_pvalue(double x, int df)
{
	return shpt_gamma_q(df / 2.0, x / 2.0);
}

/* Known 0.95 and 0.99 quantiles of chi-square, from the standard tables. */
static int shpt_bench_gammatest(void)
{
	static const struct { int df; double x, p; } v[] = {
		{ 1, 3.841459, 0.05 }, { 2, 5.991465, 0.05 },
		{ 3, 7.814728, 0.05 }, { 5, 11.070498, 0.05 },
		{ 10, 18.307038, 0.05 }, { 4, 13.276704, 0.01 },
		{ 30, 50.892181, 0.01 }, { 2, 2.0, 0.36787944 },
		{ 6, 0.5, 0.99783850 },
	};
	unsigned int i;
	int bad = 0;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		double p = shpt_chi2_pvalue(v[i].x, v[i].df);

		printf("chi2(df=%d) >= %.6f: p=%.8f want %.8f\n",
		       v[i].df, v[i].x, p, v[i].p);
		if (fabs(p - v[i].p) > 1e-6)
			bad++;
	}
	return bad ? 1 : 0;
}

/*
 * Pool the histogram into bins k = 0..K-1 and a tail ">= K", with every
 * expected count >= 5, and compare with B * Poisson(k; alpha).  alpha is
 * estimated from the data (n / B), so df = bins - 2.
 */
static void shpt_bench_chi2(const char *kase, const u64 *hist, int nbins,
			    u64 nbuckets, u64 nelems)
{
	double alpha = (double)nelems / nbuckets, pk = exp(-alpha);
	double chi2 = 0, exp_left = nbuckets, obs_left = nbuckets, p;
	int k, bins = 0, df;

	printf("  chain-length histogram (%s, B=%llu, n=%llu, alpha=%.4f)\n",
	       kase, (unsigned long long)nbuckets,
	       (unsigned long long)nelems, alpha);
	printf("  %6s %12s %14s\n", "len", "buckets", "Poisson");
	for (k = 0; k < nbins - 1; k++) {
		double e = nbuckets * pk;

		if (hist[k] || e >= 0.5)
			printf("  %6d %12llu %14.1f\n", k,
			       (unsigned long long)hist[k], e);
		/* stop when this bin or the tail after it would be < 5 */
		if (e < 5.0 || exp_left - e < 5.0)
			break;
		chi2 += (hist[k] - e) * (hist[k] - e) / e;
		exp_left -= e;
		obs_left -= hist[k];
		bins++;
		pk *= alpha / (k + 1);
	}
	for (k++; k < nbins; k++)
		if (hist[k])
			printf("  %6d %12llu\n", k, (unsigned long long)hist[k]);
	chi2 += (obs_left - exp_left) * (obs_left - exp_left) / exp_left;
	bins++;
	df = bins - 2;
	if (df < 1) {
		printf("  chi2: too few bins\n");
		return;
	}
	p = shpt_chi2_pvalue(chi2, df);
	printf("  chi2 = %.2f, df = %d, p = %.4f (%s at 0.05)\n", chi2, df, p,
	       p < 0.05 ? "REJECT Poisson" : "consistent with Poisson");
	printf("R {\"case\": \"%s\", \"metric\": \"chi2\", \"impl\": \"shpt\", \"value\": %.6g, \"unit\": \"statistic\", \"df\": %d, \"p_value\": %.6g, \"alpha\": %.6g}\n",
	       kase, chi2, df, p, alpha);
}

static void shpt_bench_hist(struct shpt_bench_ctx *c, const char *kase)
{
	u64 hist[SHPT_BENCH_HIST_BINS] = { 0 };
	struct shpt_table_stats s;

	shpt_table_get_stats(c->t, &s);
	shpt_table_chain_hist(c->t, hist, SHPT_BENCH_HIST_BINS);
	shpt_bench_chi2(kase, hist, SHPT_BENCH_HIST_BINS, s.nbuckets,
			s.nelems);
	printf("R {\"case\": \"%s\", \"metric\": \"load_factor\", \"impl\": \"shpt\", \"value\": %.6g, \"unit\": \"alpha\", \"nbuckets\": %llu, \"nelems\": %llu}\n",
	       kase, (double)s.nelems / s.nbuckets,
	       (unsigned long long)s.nbuckets, (unsigned long long)s.nelems);
}

/*
 * Chain entries visited per lookup, against the theory for separate
 * chaining: a hit visits 1 + alpha/2 entries, a miss the whole chain,
 * alpha.  Counted by the table's own statistics, one lookup per key.
 */
static void shpt_bench_probes(struct shpt_bench_ctx *c, const u32 *perm,
			      size_t n, const char *sz)
{
	struct shpt_table_stats s;
	double alpha;
	size_t j;
	int miss;
	u64 pfn;

	for (miss = 0; miss <= 1; miss++) {
		shpt_table_reset_stats(c->t);
		for (j = 0; j < n; j++)
			shpt_bench_lookup(c, perm[j], miss, &pfn);
		shpt_table_get_stats(c->t, &s);
		alpha = (double)s.nelems / s.nbuckets;
		printf("R {\"case\": \"probes_%s/%s\", \"metric\": \"probes_per_lookup\", \"impl\": \"shpt\", \"value\": %.6g, \"unit\": \"entries\", \"alpha\": %.6g, \"expected\": %.6g}\n",
		       miss ? "miss" : "hit", sz,
		       (double)s.probes / (s.lookups ? s.lookups : 1), alpha,
		       miss ? alpha : 1 + alpha / 2);
	}
}

/* ---- time mode ---------------------------------------------------------- */

static void shpt_bench_time_one(enum shpt_bench_impl impl, size_t n,
				const u32 *perm, const char *sz)
{
	size_t ops = 1000000;
	struct shpt_bench_ctx c;
	char kase[64];
	double v[SHPT_BENCH_REPS];
	u64 t0, t1;
	int thr, miss, r;
	size_t j;

	shpt_bench_create(&c, impl, n);
	t0 = shpt_bench_now_ns();
	shpt_bench_build(&c, perm, 0, n);
	t1 = shpt_bench_now_ns();
	snprintf(kase, sizeof(kase), "insert/%s", sz);
	shpt_bench_emit(kase, "ns_per_op", impl, (double)(t1 - t0) / n, "ns");
	shpt_bench_settle(&c);
	if (impl == SHPT_IMPL_SHPT) {
		snprintf(kase, sizeof(kase), "chains/%s", sz);
		shpt_bench_hist(&c, kase);
		shpt_bench_probes(&c, perm, n, sz);
	} else if (shpt_bl_count(c.bl) != n) {
		fprintf(stderr, "cds_lfht count %lu != %zu\n",
			shpt_bl_count(c.bl), n);
		exit(1);
	}
	for (thr = 1; thr <= 2; thr++) {
		for (miss = 0; miss <= 1; miss++) {
			for (r = 0; r < SHPT_BENCH_REPS; r++)
				v[r] = shpt_bench_lookups(&c, perm, n, ops,
							  miss, thr, false);
			snprintf(kase, sizeof(kase), "lookup_%s/%s/%dthr",
				 miss ? "miss" : "hit", sz, thr);
			shpt_bench_emit(kase, "ns_per_op", impl,
					shpt_bench_median(v, SHPT_BENCH_REPS),
					"ns");
		}
	}
	/*
	 * Bulk lookups, per key, on one thread (shpt only), each rep right
	 * after a rep of single lookups of the same keys, so that their
	 * ratio is taken under the same load of this shared machine.
	 */
	for (miss = 0; impl == SHPT_IMPL_SHPT && miss <= 1; miss++) {
		double b[SHPT_BENCH_PAIRED_REPS], one[SHPT_BENCH_PAIRED_REPS];
		double q[SHPT_BENCH_PAIRED_REPS];

		for (r = 0; r < SHPT_BENCH_PAIRED_REPS; r++) {
			one[r] = shpt_bench_lookups(&c, perm, n, ops, miss, 1,
						    false);
			b[r] = shpt_bench_lookups(&c, perm, n, ops, miss, 1,
						  true);
			q[r] = b[r] / one[r];
		}
		snprintf(kase, sizeof(kase), "lookup_bulk_%s/%s/1thr",
			 miss ? "miss" : "hit", sz);
		shpt_bench_emit(kase, "ns_per_op", impl,
				shpt_bench_median(b, SHPT_BENCH_PAIRED_REPS),
				"ns");
		shpt_bench_emit(kase, "bulk_over_single", impl,
				shpt_bench_median(q, SHPT_BENCH_PAIRED_REPS),
				"ratio");
	}
	/* A forced doubling of the bucket array, per entry moved. */
	t0 = shpt_bench_now_ns();
	if (impl == SHPT_IMPL_SHPT)
		shpt_table_rehash(c.t, 2 * shpt_bench_buckets_for(n), false);
	else
		shpt_bl_resize(c.bl, 2 * shpt_bench_buckets_for(n));
	t1 = shpt_bench_now_ns();
	snprintf(kase, sizeof(kase), "grow/%s", sz);
	shpt_bench_emit(kase, "ns_per_entry", impl, (double)(t1 - t0) / n, "ns");
	shpt_bench_settle(&c);

	t0 = shpt_bench_now_ns();
	for (j = 0; j < n; j++) {
		if (!shpt_bench_remove(&c, perm[n - 1 - j])) {
			fprintf(stderr, "%s: remove missed\n",
				shpt_bench_impl_name[impl]);
			exit(1);
		}
	}
	t1 = shpt_bench_now_ns();
	snprintf(kase, sizeof(kase), "remove/%s", sz);
	shpt_bench_emit(kase, "ns_per_op", impl, (double)(t1 - t0) / n, "ns");
	shpt_bench_destroy(&c);
	shpt_bl_barrier();
}

static const char *shpt_bench_size_name(size_t n, char *buf, size_t len)
{
	if (n % (1 << 20) == 0)
		snprintf(buf, len, "%zuM", n >> 20);
	else if (n % (1 << 10) == 0)
		snprintf(buf, len, "%zuK", n >> 10);
	else
		snprintf(buf, len, "%zu", n);
	return buf;
}

static size_t shpt_bench_parse_size(const char *s)
{
	char *end;
	size_t n = strtoull(s, &end, 0);

	if (*end == 'K' || *end == 'k')
		n <<= 10;
	else if (*end == 'M' || *end == 'm')
		n <<= 20;
	if (!n || n > (1U << 26)) {
		fprintf(stderr, "bad size %s\n", s);
		exit(2);
	}
	return n;
}

static int shpt_bench_time(int argc, char **argv)
{
	int a;

	for (a = 0; a < argc; a++) {
		size_t n = shpt_bench_parse_size(argv[a]);
		u32 *perm = shpt_bench_perm(n);
		char sz[32];

		shpt_bench_size_name(n, sz, sizeof(sz));
		printf("== %s entries\n", sz);
		fflush(stdout);
		shpt_bench_time_one(SHPT_IMPL_SHPT, n, perm, sz);
		shpt_bench_time_one(SHPT_IMPL_LFHT, n, perm, sz);
		fflush(stdout);
		free(perm);
	}
	return 0;
}

/* ---- rss mode ----------------------------------------------------------- */

static u64 shpt_bench_rss(void)
{
	unsigned long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%lu %lu", &size, &rss) != 2) {
		perror("/proc/self/statm");
		exit(1);
	}
	fclose(f);
	return (u64)rss * sysconf(_SC_PAGESIZE);
}

static int shpt_bench_rss_mode(const char *impl_s, const char *size_s)
{
	enum shpt_bench_impl impl = strcmp(impl_s, "shpt") ? SHPT_IMPL_LFHT :
							     SHPT_IMPL_SHPT;
	size_t n = shpt_bench_parse_size(size_s);
	u32 *perm = shpt_bench_perm(n);
	struct shpt_bench_ctx c;
	struct mallinfo2 m0, m1;
	u64 rss0, rss1;
	char kase[64], sz[32];

	shpt_bench_size_name(n, sz, sizeof(sz));
	/*
	 * Both tables are created with the bucket array they need for @n
	 * entries, so measure from before the create: the delta holds the
	 * entries and the buckets.
	 */
	m0 = mallinfo2();
	rss0 = shpt_bench_rss();
	shpt_bench_create(&c, impl, n);
	shpt_bench_build(&c, perm, 0, n);
	/* cds_lfht at its own load factor: the memory it really uses. */
	shpt_bench_settle(&c);
	rss1 = shpt_bench_rss();
	m1 = mallinfo2();
	snprintf(kase, sizeof(kase), "memory/%s", sz);
	printf("R {\"case\": \"%s\", \"metric\": \"rss_bytes_per_entry\", \"impl\": \"%s\", \"value\": %.6g, \"unit\": \"B\"}\n",
	       kase, shpt_bench_impl_name[impl], (double)(rss1 - rss0) / n);
	printf("R {\"case\": \"%s\", \"metric\": \"malloc_bytes_per_entry\", \"impl\": \"%s\", \"value\": %.6g, \"unit\": \"B\"}\n",
	       kase, shpt_bench_impl_name[impl],
	       ((double)(m1.uordblks + m1.hblkhd) -
		(double)(m0.uordblks + m0.hblkhd)) / n);
	printf("R {\"case\": \"%s\", \"metric\": \"object_bytes\", \"impl\": \"%s\", \"value\": %zu, \"unit\": \"B\", \"bucket_bytes\": %zu}\n",
	       kase, shpt_bench_impl_name[impl],
	       impl == SHPT_IMPL_SHPT ? 0 : shpt_bl_node_size(),
	       impl == SHPT_IMPL_SHPT ? 0 : shpt_bl_bucket_size());
	if (impl == SHPT_IMPL_SHPT) {
		struct shpt_table_stats s;

		shpt_table_get_stats(c.t, &s);
		printf("R {\"case\": \"%s\", \"metric\": \"load_factor\", \"impl\": \"shpt\", \"value\": %.6g, \"unit\": \"alpha\", \"nbuckets\": %llu, \"nelems\": %llu}\n",
		       kase, (double)s.nelems / s.nbuckets,
		       (unsigned long long)s.nbuckets,
		       (unsigned long long)s.nelems);
	}
	shpt_bench_destroy(&c);
	free(perm);
	return 0;
}

/* ---- callgrind mode ----------------------------------------------------- */

/* Count only what runs between these two: one dump per phase. */
static inline void shpt_cg_begin(void)
{
	CALLGRIND_ZERO_STATS;
	CALLGRIND_START_INSTRUMENTATION;
}

static inline void shpt_cg_end(const char *phase)
{
	CALLGRIND_STOP_INSTRUMENTATION;
	CALLGRIND_DUMP_STATS_AT(phase);
}

/*
 * Build SIZE - OPS entries uninstrumented, then count the instructions of
 * OPS inserts (the last keys), OPS hit lookups, OPS miss lookups, OPS hit
 * and OPS miss lookups in bulk (for cds_lfht: one at a time) and OPS
 * removes.  The per-op figure includes the loop (reading the key order
 * array, deriving the key), which is the same for both tables, and any
 * resize work that falls inside the window, on any thread.
 */
static int shpt_bench_cg(const char *impl_s, const char *size_s)
{
	enum shpt_bench_impl impl = strcmp(impl_s, "shpt") ? SHPT_IMPL_LFHT :
							     SHPT_IMPL_SHPT;
	size_t n = shpt_bench_parse_size(size_s);
	size_t ops = n / 4 < 262144 ? n / 4 : 262144;
	u32 *perm = shpt_bench_perm(n);
	struct shpt_bench_ctx c;
	u64 sink = 0, found = 0, pfn = 0;
	size_t j;
	int miss;

	shpt_bench_create(&c, impl, n);
	shpt_bench_build(&c, perm, 0, n - ops);
	shpt_bench_settle(&c);
	shpt_cg_begin();
	shpt_bench_build(&c, perm, n - ops, n);
	shpt_cg_end("insert");
	shpt_bench_settle(&c);

	shpt_cg_begin();
	for (j = 0; j < ops; j++) {
		found += shpt_bench_lookup(&c, perm[j], false, &pfn);
		sink += pfn;
	}
	shpt_cg_end("lookup_hit");

	shpt_cg_begin();
	for (j = 0; j < ops; j++) {
		found += shpt_bench_lookup(&c, perm[j], true, &pfn);
		sink += pfn;
	}
	shpt_cg_end("lookup_miss");

	/* Bulk: cds_lfht has none, so it looks the keys up one at a time. */
	for (miss = 0; miss <= 1; miss++) {
		struct shpt_bench_thread a = {
			.c = &c, .perm = perm, .n = n, .ops = ops,
			.miss = miss, .bulk = impl == SHPT_IMPL_SHPT,
		};

		shpt_cg_begin();
		if (a.bulk)
			shpt_bench_bulk_loop(&a);
		else
			shpt_bench_lookup_loop(&a);
		shpt_cg_end(miss ? "lookup_bulk_miss" : "lookup_bulk_hit");
		found += a.found;
		sink += a.sum;
	}

	shpt_cg_begin();
	for (j = 0; j < ops; j++)
		found += shpt_bench_remove(&c, perm[n - 1 - j]);
	shpt_cg_end("remove");

	if (found != 3 * ops) {
		fprintf(stderr, "%s: callgrind run found %llu, want %zu\n",
			impl_s, (unsigned long long)found, 3 * ops);
		return 1;
	}
	printf("R {\"impl\": \"%s\", \"size\": %zu, \"ops\": %zu, \"sink\": %llu}\n",
	       shpt_bench_impl_name[impl], n, ops, (unsigned long long)sink);
	shpt_bench_destroy(&c);
	free(perm);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int ret = 2;

	for (i = 0; i < sizeof(shpt_bench_key); i++)
		shpt_bench_key[i] = shpt_bench_rand();
	setvbuf(stdout, NULL, _IOLBF, 0);
	shpt_bl_thread_online();
	if (argc >= 2 && !strcmp(argv[1], "time"))
		ret = shpt_bench_time(argc - 2, argv + 2);
	else if (argc == 4 && !strcmp(argv[1], "rss"))
		ret = shpt_bench_rss_mode(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "cg"))
		ret = shpt_bench_cg(argv[2], argv[3]);
	else if (argc == 2 && !strcmp(argv[1], "gammatest"))
		ret = shpt_bench_gammatest();
	else
		fprintf(stderr,
			"usage: %s time SIZE... | rss shpt|lfht SIZE | cg shpt|lfht SIZE | gammatest\n",
			argv[0]);
	shpt_bl_thread_offline();
	return ret;
}
