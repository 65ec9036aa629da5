// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress of the table core: readers check every answer, writers
 * churn their own keys and check them exactly, and one thread forces
 * rehashes and rekeys the whole time, on top of the automatic resizes.
 *
 * - Stable keys (asids 1..4) are inserted before the threads start and
 *   never touched again: every lookup must hit with the exact value.
 * - Churn keys belong to one writer each (asid CHURN + w).  A writer knows
 *   the exact state of its keys, so after each of its operations it checks
 *   lookups and return values against its model.  Readers may see a churn
 *   key or not, but a hit must carry a value that names the key.
 * - Keys of asid ABSENT are never inserted: every lookup must miss.
 * - Readers check single lookups and bulk lookups (shpt_table_lookup_bulk())
 *   of mixed keys alike: the same rules hold for every key of a batch.
 * - One walker thread walks the whole table over and over: every entry it
 *   reports must be a stable key with its exact value or a churn key with a
 *   value that names it.  A removed entry whose value word already holds a
 *   graveyard link would name no key.  Every other walk is a
 *   shpt_table_walk_all(), which must see each stable key exactly once.
 *   It also takes chain histograms.
 *
 * STRESS_SECONDS (default 3) bounds each run.
 *
 * A second test, dead_entries, aims at one window: a reader standing on an
 * entry while it is removed and its value word becomes a graveyard link.
 * One writer inserts and removes a few hot keys, waiting for the reaper
 * after each remove, so that every removed entry is pushed onto an empty
 * graveyard (its dead value word is then SHPT_VAL_DEAD alone, which would
 * decode as pfn 0, order 0).  Readers look the hot keys up and walk the
 * table with the shim's jitter on: a hit or a walked entry must carry the
 * exact value.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include <linux/err.h>
#include <linux/gfp.h>
#include <shim.h>
#include "table.h"

#ifndef SHIM_JITTER
#error "build with -DSHIM_JITTER: dead_entries needs the shim's jitter"
#endif

enum {
	NSTABLE_ASID = 4,
	NSTABLE = 1500,		/* order-0 keys per stable asid */
	NSTABLE_2M = 20,	/* order-9 keys per stable asid */
	NREADERS = 3,
	NWRITERS = 2,
	CHURN = 100,		/* first churn asid */
	ABSENT = 999,
	NCHURN = 2048,		/* order-0 keys per writer */
	NCHURN_2M = 64,		/* order-9 keys per writer */
	CHURN_2M_BASE = 1 << 20,
};

struct stress {
	struct shpt_table *t;
	int stop;
	int errors;
	char msg[256];
	unsigned long reads[NREADERS];
	unsigned long writes[NWRITERS];
	unsigned long rehashes;
	unsigned long walks;
	unsigned long walk_stable;	/* walker only */
};

static void fail(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&s->errors, 1, __ATOMIC_SEQ_CST) == 0) {
		va_start(ap, fmt);
		vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
		va_end(ap);
	}
	__atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
}

static bool stopped(struct stress *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_RELAXED);
}

static u64 rnd(u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* 32 bits that name a key; a value is tag << 8 | version. */
static u64 tag(u64 asid, u64 vpn, unsigned int order)
{
	u64 h = asid * 0x9e3779b97f4a7c15ULL ^ vpn * 0xc2b2ae3d27d4eb4fULL ^
		order;

	return (h ^ h >> 29) & 0xffffffffULL;
}

static u64 stable_vpn(unsigned int i)
{
	return i < NSTABLE ? (u64)i * 3 : (u64)(i - NSTABLE + 4) << 9;
}

static unsigned int stable_order(unsigned int i)
{
	return i < NSTABLE ? 0 : 9;
}

static u64 churn_vpn(unsigned int i)
{
	return i < NCHURN ? i : CHURN_2M_BASE + ((u64)(i - NCHURN) << 9);
}

static unsigned int churn_order(unsigned int i)
{
	return i < NCHURN ? 0 : 9;
}

static int stress_seconds(void)
{
	const char *e = getenv("STRESS_SECONDS");
	int n = e ? atoi(e) : 3;

	return n > 0 ? n : 3;
}

struct reader_arg {
	struct stress *s;
	int id;
};

/* Check one lookup's answer: stable keys hit exactly, churn keys hit with a value of their own, ABSENT never. */
static void check_answer(struct stress *s, u64 asid, u64 vpn,
			 unsigned int order, bool hit,
			 const struct shpt_mapping *m, const char *how)
{
	if (asid == ABSENT) {
		if (hit)
			fail(s, "%s: absent key found", how);
	} else if (asid < CHURN) {
		if (!hit)
			fail(s, "%s: stable key %llu/%#llx/%u missing", how,
			     (unsigned long long)asid,
			     (unsigned long long)vpn, order);
		else if (m->pfn != tag(asid, vpn, order) << 8 ||
			 m->flags != SHPT_F_VALID || m->asid != asid ||
			 m->vpn != vpn || m->order != order)
			fail(s, "%s: stable key %llu/%#llx/%u: pfn %#llx", how,
			     (unsigned long long)asid,
			     (unsigned long long)vpn, order,
			     (unsigned long long)m->pfn);
	} else if (hit && (m->pfn >> 8 != tag(asid, vpn, order) ||
			   m->order != order || m->asid != asid ||
			   m->vpn != vpn || !(m->flags & SHPT_F_VALID))) {
		fail(s, "%s: churn key %llu/%#llx/%u: foreign pfn %#llx", how,
		     (unsigned long long)asid, (unsigned long long)vpn, order,
		     (unsigned long long)m->pfn);
	}
}

/* One random key: stable, churn or absent, in turn. */
static void pick_key(u64 *x, unsigned int kind, struct shpt_key *k)
{
	unsigned int i;

	switch (kind % 3) {
	case 0:
		k->asid = 1 + rnd(x) % NSTABLE_ASID;
		i = rnd(x) % (NSTABLE + NSTABLE_2M);
		k->vpn = stable_vpn(i);
		k->order = stable_order(i);
		break;
	case 1:
		k->asid = CHURN + rnd(x) % NWRITERS;
		i = rnd(x) % (NCHURN + NCHURN_2M);
		k->vpn = churn_vpn(i);
		k->order = churn_order(i);
		break;
	default:
		k->asid = ABSENT;
		k->vpn = rnd(x) % NCHURN;
		k->order = 0;
		break;
	}
}

/* Keys per bulk lookup: a few groups, the last one partial. */
#define NBULK	40

/*
 * Readers alternate single lookups and bulk lookups of NBULK keys; both
 * must answer the same way while writers churn and the table grows,
 * shrinks and rekeys under them.
 */
static void *reader(void *p)
{
	struct reader_arg *a = p;
	struct stress *s = a->s;
	u64 x = 0x1234567ULL + a->id * 7919;
	struct shpt_mapping m, out[NBULK];
	struct shpt_key keys[NBULK];
	unsigned long hits[1], n = 0;
	unsigned int i, k, found;
	bool hit;

	shim_thread_init();
	while (!stopped(s)) {
		for (k = 0; k < 3; k++) {
			pick_key(&x, k, &keys[0]);
			hit = shpt_table_lookup(s->t, keys[0].asid,
						keys[0].vpn, keys[0].order, &m);
			check_answer(s, keys[0].asid, keys[0].vpn,
				     keys[0].order, hit, &m, "lookup");
		}
		n += 3;

		for (i = 0; i < NBULK; i++)
			pick_key(&x, rnd(&x), &keys[i]);
		memset(out, 0, sizeof(out));
		found = shpt_table_lookup_bulk(s->t, keys, NBULK, out, hits);
		for (i = 0; i < NBULK; i++) {
			hit = hits[0] & (1UL << i);
			found -= hit;
			check_answer(s, keys[i].asid, keys[i].vpn,
				     keys[i].order, hit, &out[i], "bulk");
		}
		if (found)
			fail(s, "bulk: return value off by %u", found);
		n += NBULK;
	}
	s->reads[a->id] = n;
	shim_thread_exit();
	return NULL;
}

struct writer_arg {
	struct stress *s;
	int id;
	u64 model[NCHURN + NCHURN_2M];	/* value + 1, or 0 if absent */
};

static void writer_check(struct writer_arg *a, u64 asid, unsigned int i)
{
	struct shpt_mapping m;
	bool hit;

	hit = shpt_table_lookup(a->s->t, asid, churn_vpn(i), churn_order(i),
				&m);
	if (hit != !!a->model[i] || (hit && m.pfn != a->model[i] - 1))
		fail(a->s, "writer %d key %#llx/%u: hit %d pfn %#llx, model %#llx",
		     a->id, (unsigned long long)churn_vpn(i), churn_order(i),
		     hit, hit ? (unsigned long long)m.pfn : 0ULL,
		     (unsigned long long)a->model[i]);
}

/* Remove [lo, hi) from the writer's asid and from its model. */
static void writer_range(struct writer_arg *a, u64 asid, u64 lo, u64 hi)
{
	unsigned long expect = 0, got;
	unsigned int i;

	for (i = 0; i < NCHURN + NCHURN_2M; i++) {
		u64 v = churn_vpn(i);

		if (a->model[i] && v < hi && v + (1ULL << churn_order(i)) > lo) {
			expect++;
			a->model[i] = 0;
		}
	}
	got = shpt_table_remove_range(a->s->t, asid, lo, hi);
	if (got != expect)
		fail(a->s, "writer %d range [%#llx, %#llx): removed %lu, model %lu",
		     a->id, (unsigned long long)lo, (unsigned long long)hi,
		     got, expect);
}

static void *writer(void *p)
{
	struct writer_arg *a = p;
	struct stress *s = a->s;
	u64 asid = CHURN + a->id, x = 0xabcdefULL + a->id, lo, r;
	struct shpt_mapping m;
	unsigned long n = 0;
	unsigned int i, j;
	int ret;

	shim_thread_init();
	while (!stopped(s)) {
		i = rnd(&x) % (NCHURN + NCHURN_2M);
		r = rnd(&x) % 1000;
		if (r < 550) {
			m.asid = asid;
			m.vpn = churn_vpn(i);
			m.order = churn_order(i);
			m.pfn = tag(asid, m.vpn, m.order) << 8 | (r & 0xff);
			m.flags = SHPT_F_VALID | (r & 1 ? SHPT_F_WRITE : 0);
			ret = shpt_table_insert(s->t, &m, r & 2 ? GFP_KERNEL :
						GFP_NOWAIT);
			if (ret != (a->model[i] ? 1 : 0))
				fail(s, "writer %d insert: %d, model %#llx", a->id,
				     ret, (unsigned long long)a->model[i]);
			a->model[i] = m.pfn + 1;
		} else if (r < 950) {
			if (shpt_table_remove(s->t, asid, churn_vpn(i),
					      churn_order(i)) != !!a->model[i])
				fail(s, "writer %d remove disagrees", a->id);
			a->model[i] = 0;
		} else if (r < 990) {
			/* a few pages: the probe path */
			lo = rnd(&x) % (NCHURN + 600);
			writer_range(a, asid, lo, lo + 1 + rnd(&x) % 8);
		} else if (r < 998) {
			/* across the 2 MiB keys: usually the sweep path */
			lo = CHURN_2M_BASE + rnd(&x) % (NCHURN_2M << 9);
			writer_range(a, asid, lo, lo + 1 + rnd(&x) % 8192);
		} else {
			unsigned long expect = 0;

			for (j = 0; j < NCHURN + NCHURN_2M; j++) {
				expect += !!a->model[j];
				a->model[j] = 0;
			}
			if (shpt_table_remove_asid(s->t, asid) != expect)
				fail(s, "writer %d remove_asid disagrees", a->id);
		}
		writer_check(a, asid, i);
		n++;
	}
	s->writes[a->id] = n;
	shim_thread_exit();
	return NULL;
}

/* Every entry a walk reports must be one the stress could have inserted. */
static void walk_check_fn(const struct shpt_mapping *m, void *arg)
{
	struct stress *s = arg;

	if (m->asid >= 1 && m->asid <= NSTABLE_ASID) {
		if (m->pfn != tag(m->asid, m->vpn, m->order) << 8 ||
		    m->flags != SHPT_F_VALID)
			fail(s, "walk: stable key %llu/%#llx/%u: pfn %#llx flags %#x",
			     (unsigned long long)m->asid,
			     (unsigned long long)m->vpn, m->order,
			     (unsigned long long)m->pfn, m->flags);
	} else if (m->asid >= CHURN && m->asid < CHURN + NWRITERS) {
		if (m->pfn >> 8 != tag(m->asid, m->vpn, m->order) ||
		    !(m->flags & SHPT_F_VALID) ||
		    (m->flags & ~(SHPT_F_VALID | SHPT_F_WRITE)))
			fail(s, "walk: churn key %llu/%#llx/%u: foreign pfn %#llx flags %#x",
			     (unsigned long long)m->asid,
			     (unsigned long long)m->vpn, m->order,
			     (unsigned long long)m->pfn, m->flags);
	} else {
		fail(s, "walk: foreign key %llu/%#llx/%u",
		     (unsigned long long)m->asid, (unsigned long long)m->vpn,
		     m->order);
	}
}

/* walk_check_fn(), and count the stable entries seen. */
static void walk_all_fn(const struct shpt_mapping *m, void *arg)
{
	struct stress *s = arg;

	walk_check_fn(m, s);
	if (m->asid >= 1 && m->asid <= NSTABLE_ASID)
		s->walk_stable++;
}

static void *walker(void *p)
{
	struct stress *s = p;
	unsigned long pos;
	u64 hist[16];

	shim_thread_init();
	while (!stopped(s)) {
		if (s->walks % 2) {
			/*
			 * Rehashes held off: every stable entry exactly once,
			 * however many rehashes the rehasher thread asks for.
			 */
			s->walk_stable = 0;
			if (shpt_table_walk_all(s->t, 64, walk_all_fn, s))
				fail(s, "walk_all: interrupted");
			else if (s->walk_stable !=
				 NSTABLE_ASID * (NSTABLE + NSTABLE_2M))
				fail(s, "walk_all: %lu stable entries, not %d",
				     s->walk_stable,
				     NSTABLE_ASID * (NSTABLE + NSTABLE_2M));
		} else {
			pos = 0;
			do
				pos = shpt_table_walk(s->t, pos, 64,
						      walk_check_fn, s);
			while (pos && !stopped(s));
		}
		if (++s->walks % 8 == 0)
			shpt_table_chain_hist(s->t, hist, 16);
	}
	shim_thread_exit();
	return NULL;
}

static void *rehasher(void *p)
{
	struct stress *s = p;
	u64 x = 0x5eed;
	unsigned int size;

	shim_thread_init();
	while (!stopped(s)) {
		size = rnd(&x) % 5 ? 1U << (rnd(&x) % 15) : 0;
		if (shpt_table_rehash(s->t, size, rnd(&x) & 1))
			fail(s, "rehash to %u failed", size);
		s->rehashes++;
		if (rnd(&x) % 4 == 0)
			usleep(200);
	}
	shim_thread_exit();
	return NULL;
}

static void count_fn(const struct shpt_mapping *m, void *arg)
{
	(*(u64 *)arg)++;
}

FIXTURE(stress) {
	struct stress s;
	struct writer_arg w[NWRITERS];
	struct reader_arg r[NREADERS];
};

FIXTURE_VARIANT(stress) {
	enum shpt_hash_fn hash;
};

FIXTURE_VARIANT_ADD(stress, siphash) { .hash = SHPT_HASH_SIPHASH };
FIXTURE_VARIANT_ADD(stress, modulo) { .hash = SHPT_HASH_MODULO };

FIXTURE_SETUP(stress)
{
	struct shpt_table_params p;
	struct shpt_mapping m;
	unsigned int a, i;

	shim_thread_init();
	shim_set_quiet(1);
	memset(&self->s, 0, sizeof(self->s));
	shpt_table_default_params(&p);
	p.init_buckets = 64;
	p.min_buckets = 1;
	p.max_buckets = 1 << 14;
	p.max_chain = 8;	/* rekeys happen under siphash, too */
	p.hash = variant->hash;
	self->s.t = shpt_table_create(&p);
	ASSERT_FALSE(IS_ERR(self->s.t));

	for (a = 1; a <= NSTABLE_ASID; a++) {
		for (i = 0; i < NSTABLE + NSTABLE_2M; i++) {
			m.asid = a;
			m.vpn = stable_vpn(i);
			m.order = stable_order(i);
			m.pfn = tag(a, m.vpn, m.order) << 8;
			m.flags = SHPT_F_VALID;
			ASSERT_EQ(0, shpt_table_insert(self->s.t, &m, GFP_KERNEL));
		}
	}
}

FIXTURE_TEARDOWN(stress)
{
	shpt_table_destroy(self->s.t);
	EXPECT_EQ(0, shim_kmem_live());
	EXPECT_EQ(0, shim_kmalloc_live());
}

TEST_F_TIMEOUT(stress, run, 300)
{
	pthread_t rt[NREADERS], wt[NWRITERS], ht, kt;
	struct stress *s = &self->s;
	struct shpt_table_stats st;
	u64 live = 0, walked = 0;
	unsigned long pos = 0;
	unsigned int i, k;
	int secs = stress_seconds();

	for (i = 0; i < NWRITERS; i++) {
		memset(self->w[i].model, 0, sizeof(self->w[i].model));
		self->w[i].s = s;
		self->w[i].id = i;
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, writer, &self->w[i]));
	}
	for (i = 0; i < NREADERS; i++) {
		self->r[i].s = s;
		self->r[i].id = i;
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, reader, &self->r[i]));
	}
	ASSERT_EQ(0, pthread_create(&ht, NULL, rehasher, s));
	ASSERT_EQ(0, pthread_create(&kt, NULL, walker, s));

	for (i = 0; i < secs * 10 && !stopped(s); i++)
		usleep(100000);
	__atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < NWRITERS; i++)
		pthread_join(wt[i], NULL);
	for (i = 0; i < NREADERS; i++)
		pthread_join(rt[i], NULL);
	pthread_join(ht, NULL);
	pthread_join(kt, NULL);

	shpt_table_flush(s->t);
	shpt_table_get_stats(s->t, &st);
	TH_LOG("%s, %d s: reads %lu %lu %lu, writes %lu %lu, forced rehashes %lu, walks %lu",
	       shpt_hash_name(variant->hash), secs, s->reads[0], s->reads[1],
	       s->reads[2], s->writes[0], s->writes[1], s->rehashes,
	       s->walks);
	TH_LOG("restarts %llu, grows %llu, shrinks %llu, rekeys %llu, long chains %llu, max probes %llu",
	       (unsigned long long)st.restarts, (unsigned long long)st.grows,
	       (unsigned long long)st.shrinks, (unsigned long long)st.rekeys,
	       (unsigned long long)st.long_chains,
	       (unsigned long long)st.max_probes);
	ASSERT_EQ(0, s->errors) TH_LOG("%d errors; first: %s", s->errors,
				       s->msg);
	ASSERT_LT(0, s->rehashes);
	ASSERT_LT(0, s->writes[0]);
	ASSERT_LT(0, s->reads[0]);
	ASSERT_LT(0, s->walks);

	/* the final state is exactly the stable keys plus the models */
	for (i = 0; i < NWRITERS; i++) {
		for (k = 0; k < NCHURN + NCHURN_2M; k++) {
			live += !!self->w[i].model[k];
			writer_check(&self->w[i], CHURN + i, k);
		}
	}
	ASSERT_EQ(0, s->errors) TH_LOG("%s", s->msg);
	live += NSTABLE_ASID * (NSTABLE + NSTABLE_2M);
	EXPECT_EQ(live, st.nelems);
	do
		pos = shpt_table_walk(s->t, pos, 1000, count_fn, &walked);
	while (pos);
	EXPECT_EQ(live, walked);
	EXPECT_EQ(st.lookups, st.hits + st.misses);
	EXPECT_EQ(live, shim_kmem_live());
}

enum {
	HOT_ASID = 7,
	NHOT = 4,		/* hot keys, order 0, in one chain */
	NFILL = 6,		/* never-removed keys in the same chain */
	NDEAD_READERS = 2,
};

struct dead {
	struct shpt_table *t;
	int stop;
	int errors;
	char msg[256];
	unsigned long cycles;
	unsigned long hits;
};

static u64 hot_pfn(u64 vpn)
{
	return tag(HOT_ASID, vpn, 0) << 8 | 0x5a;
}

static void dead_fail(struct dead *d, const char *what, u64 vpn, u64 pfn,
		      unsigned int order, unsigned int flags)
{
	if (__atomic_fetch_add(&d->errors, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(d->msg, sizeof(d->msg),
			 "%s: vpn %#llx pfn %#llx order %u flags %#x", what,
			 (unsigned long long)vpn, (unsigned long long)pfn,
			 order, flags);
	__atomic_store_n(&d->stop, 1, __ATOMIC_SEQ_CST);
}

static int dead_errors(struct dead *d)
{
	return __atomic_load_n(&d->errors, __ATOMIC_SEQ_CST);
}

static void dead_walk_fn(const struct shpt_mapping *m, void *arg)
{
	if (m->asid != HOT_ASID || m->order || m->pfn != hot_pfn(m->vpn) ||
	    m->flags != SHPT_F_VALID)
		dead_fail(arg, "walk reported a foreign entry", m->vpn, m->pfn,
			  m->order, m->flags);
}

static void *dead_reader(void *p)
{
	struct dead *d = p;
	struct shpt_mapping m;
	unsigned long hits = 0;
	unsigned int i = 0;

	shim_thread_init();
	while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) {
		u64 vpn = i++ % (NHOT + NFILL);

		if (shpt_table_lookup(d->t, HOT_ASID, vpn, 0, &m)) {
			hits++;
			if (m.pfn != hot_pfn(vpn) || m.order ||
			    m.flags != SHPT_F_VALID)
				dead_fail(d, "lookup hit with a foreign value",
					  vpn, m.pfn, m.order, m.flags);
		} else if (vpn >= NHOT) {
			dead_fail(d, "stable key missing", vpn, 0, 0, 0);
		}
		if (i % 64 == 0)
			shpt_table_walk(d->t, 0, 1, dead_walk_fn, d);
	}
	__atomic_add_fetch(&d->hits, hits, __ATOMIC_RELAXED);
	shim_thread_exit();
	return NULL;
}

static int dead_insert(struct shpt_table *t, u64 vpn)
{
	struct shpt_mapping m = {
		.asid = HOT_ASID, .vpn = vpn, .order = 0,
		.pfn = hot_pfn(vpn), .flags = SHPT_F_VALID,
	};

	return shpt_table_insert(t, &m, GFP_KERNEL);
}

TEST(dead_entries)
{
	struct shpt_table_params p;
	pthread_t rt[NDEAD_READERS];
	struct dead d;
	unsigned int i, k;
	int secs = stress_seconds();
	struct timespec t0, t1;

	shim_thread_init();
	shim_set_quiet(1);
	memset(&d, 0, sizeof(d));
	shpt_table_default_params(&p);
	/* one bucket, no resizes: every key shares one chain */
	p.init_buckets = p.min_buckets = p.max_buckets = 1;
	p.max_chain = 0;
	d.t = shpt_table_create(&p);
	ASSERT_FALSE(IS_ERR(d.t));
	for (i = NHOT; i < NHOT + NFILL; i++)
		ASSERT_EQ(0, dead_insert(d.t, i));

	shim_set_jitter(4);
	for (i = 0; i < NDEAD_READERS; i++)
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, dead_reader, &d));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (k = 0; k < NHOT && !dead_errors(&d); k++) {
			if (dead_insert(d.t, k) != 0)
				dead_fail(&d, "insert", k, 0, 0, 0);
			sched_yield();	/* let readers reach it */
			if (!shpt_table_remove(d.t, HOT_ASID, k, 0))
				dead_fail(&d, "remove", k, 0, 0, 0);
			/* the next remove finds the graveyard empty */
			shpt_table_flush(d.t);
			d.cycles++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (!dead_errors(&d) && t1.tv_sec - t0.tv_sec < secs);
	__atomic_store_n(&d.stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < NDEAD_READERS; i++)
		pthread_join(rt[i], NULL);
	shim_set_jitter(0);

	TH_LOG("%d s: %lu remove cycles, %lu reader hits", secs, d.cycles,
	       d.hits);
	ASSERT_EQ(0, d.errors) TH_LOG("%d errors; first: %s", d.errors, d.msg);
	ASSERT_LT(0, d.cycles);
	shpt_table_destroy(d.t);
	EXPECT_EQ(0, shim_kmem_live());
	EXPECT_EQ(0, shim_kmalloc_live());
}

TEST_HARNESS_MAIN
