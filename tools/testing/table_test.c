// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the table core, built on the host against the shim.
 *
 * Every test runs in its own process (the harness forks), registers with
 * liburcu, and checks at teardown that destroy freed every entry and every
 * allocation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "kselftest_harness.h"

#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/siphash.h>
#include <linux/workqueue.h>
#include <shim.h>
#include "table.h"

static struct shpt_mapping mk(u64 asid, u64 vpn, unsigned int order,
			      u64 pfn, unsigned int flags)
{
	struct shpt_mapping m = {
		.asid = asid, .vpn = vpn, .order = order,
		.pfn = pfn, .flags = flags,
	};

	return m;
}

/* A pfn that names its key, so a hit can be checked without a model. */
static u64 pfn_of(u64 asid, u64 vpn, unsigned int order)
{
	return (asid * 0x9e3779b1ULL + vpn * 31 + order) & SHPT_PFN_MAX;
}

static int ins(struct shpt_table *t, u64 asid, u64 vpn, unsigned int order)
{
	struct shpt_mapping m = mk(asid, vpn, order, pfn_of(asid, vpn, order),
				   SHPT_F_VALID);

	return shpt_table_insert(t, &m, GFP_KERNEL);
}

/* Is the key present with the value ins() gave it? */
static bool has(struct shpt_table *t, u64 asid, u64 vpn, unsigned int order)
{
	struct shpt_mapping m;

	if (!shpt_table_lookup(t, asid, vpn, order, &m))
		return false;
	return m.asid == asid && m.vpn == vpn && m.order == order &&
	       m.pfn == pfn_of(asid, vpn, order) && m.flags == SHPT_F_VALID;
}

static u64 nelems(struct shpt_table *t)
{
	struct shpt_table_stats s;

	shpt_table_get_stats(t, &s);
	return s.nelems;
}

static u64 nbuckets(struct shpt_table *t)
{
	struct shpt_table_stats s;

	shpt_table_get_stats(t, &s);
	return s.nbuckets;
}

static void count_fn(const struct shpt_mapping *m, void *arg)
{
	(*(u64 *)arg)++;
}

/* Entries seen by a full walk, in chunks of @chunk buckets. */
static u64 walk_count(struct shpt_table *t, unsigned long chunk)
{
	unsigned long pos = 0;
	u64 n = 0;

	do
		pos = shpt_table_walk(t, pos, chunk, count_fn, &n);
	while (pos);
	return n;
}

static struct shpt_table *mktable(unsigned int init, unsigned int min,
				  unsigned int max, enum shpt_hash_fn hash)
{
	struct shpt_table_params p;

	shpt_table_default_params(&p);
	p.init_buckets = init;
	p.min_buckets = min;
	p.max_buckets = max;
	p.hash = hash;
	return shpt_table_create(&p);
}

FIXTURE(tbl) {
	struct shpt_table *t;
};

FIXTURE_VARIANT(tbl) {
	enum shpt_hash_fn hash;
	unsigned int buckets;	/* init = min = max */
};

FIXTURE_VARIANT_ADD(tbl, siphash) { .hash = SHPT_HASH_SIPHASH, .buckets = 64 };
FIXTURE_VARIANT_ADD(tbl, hsiphash) { .hash = SHPT_HASH_HSIPHASH, .buckets = 64 };
FIXTURE_VARIANT_ADD(tbl, modulo) { .hash = SHPT_HASH_MODULO, .buckets = 64 };
FIXTURE_VARIANT_ADD(tbl, one_bucket) { .hash = SHPT_HASH_SIPHASH, .buckets = 1 };

FIXTURE_SETUP(tbl)
{
	shim_thread_init();
	shim_set_quiet(1);
	self->t = mktable(variant->buckets, variant->buckets, variant->buckets,
			  variant->hash);
	ASSERT_FALSE(IS_ERR(self->t));
}

FIXTURE_TEARDOWN(tbl)
{
	shpt_table_destroy(self->t);
	EXPECT_EQ(0, shim_kmem_live());
	EXPECT_EQ(0, shim_kmalloc_live());
}

TEST_F(tbl, empty)
{
	struct shpt_table_stats s;
	u64 hist[4];

	EXPECT_FALSE(shpt_table_lookup(self->t, 1, 0, 0, NULL));
	EXPECT_FALSE(shpt_table_remove(self->t, 1, 0, 0));
	EXPECT_EQ(0, shpt_table_remove_range(self->t, 1, 0, SHPT_VPN_MAX + 1));
	EXPECT_EQ(0, shpt_table_remove_range(self->t, 1, 5, 6));
	EXPECT_EQ(0, shpt_table_remove_asid(self->t, 1));
	EXPECT_EQ(0, walk_count(self->t, 7));
	EXPECT_EQ(variant->buckets, shpt_table_chain_hist(self->t, hist, 4));
	EXPECT_EQ(variant->buckets, hist[0]);
	EXPECT_EQ(0, hist[1] + hist[2] + hist[3]);
	ASSERT_EQ(0, shpt_table_rehash(self->t, 0, true));
	shpt_table_get_stats(self->t, &s);
	EXPECT_EQ(0, s.nelems);
	EXPECT_EQ(1, s.lookups);
	EXPECT_EQ(1, s.misses);
	EXPECT_EQ(0, s.hits);
	EXPECT_EQ(0, s.removes);
}

TEST_F(tbl, insert_lookup_remove)
{
	struct shpt_mapping m = mk(3, 0x1234, 0, 0xabcde, SHPT_F_VALID | SHPT_F_WRITE);
	struct shpt_mapping out;

	ASSERT_EQ(0, shpt_table_insert(self->t, &m, GFP_KERNEL));
	ASSERT_TRUE(shpt_table_lookup(self->t, 3, 0x1234, 0, &out));
	EXPECT_EQ(3, out.asid);
	EXPECT_EQ(0x1234, out.vpn);
	EXPECT_EQ(0, out.order);
	EXPECT_EQ(0xabcde, out.pfn);
	EXPECT_EQ(SHPT_F_VALID | SHPT_F_WRITE, out.flags);
	EXPECT_FALSE(shpt_table_lookup(self->t, 3, 0x1235, 0, NULL));
	EXPECT_FALSE(shpt_table_lookup(self->t, 4, 0x1234, 0, NULL));
	EXPECT_EQ(1, nelems(self->t));

	EXPECT_TRUE(shpt_table_remove(self->t, 3, 0x1234, 0));
	EXPECT_FALSE(shpt_table_remove(self->t, 3, 0x1234, 0));
	EXPECT_FALSE(shpt_table_lookup(self->t, 3, 0x1234, 0, NULL));
	EXPECT_EQ(0, nelems(self->t));
	/* the removed entry is freed after a grace period, by the reaper */
	shpt_table_flush(self->t);
	EXPECT_EQ(0, shim_kmem_live());
}

TEST_F(tbl, replace)
{
	struct shpt_mapping m = mk(1, 42, 0, 100, SHPT_F_VALID);
	struct shpt_table_stats s;
	struct shpt_mapping out;
	int i;

	ASSERT_EQ(0, shpt_table_insert(self->t, &m, GFP_KERNEL));
	for (i = 0; i < 10; i++) {
		m.pfn = 200 + i;
		m.flags = SHPT_F_VALID | (i & 1 ? SHPT_F_WRITE : SHPT_F_COW);
		ASSERT_EQ(1, shpt_table_insert(self->t, &m, GFP_NOWAIT));
		ASSERT_TRUE(shpt_table_lookup(self->t, 1, 42, 0, &out));
		EXPECT_EQ(200 + i, out.pfn);
		EXPECT_EQ(m.flags, out.flags);
	}
	shpt_table_get_stats(self->t, &s);
	EXPECT_EQ(1, s.nelems);
	EXPECT_EQ(1, s.inserts);
	EXPECT_EQ(10, s.replaces);
	/* the spare entries of the replaces were never published */
	EXPECT_EQ(1, shim_kmem_live());
}

/*
 * Bit 63 of an entry's value word marks a removed entry (SHPT_VAL_DEAD in
 * table.c).  It must not overlap a field: every flag bit, the widest pfn
 * and the largest order round-trip, through a replace too, and such
 * entries are neither hidden from lookups and walks nor freed early.
 */
static void exact_fn(const struct shpt_mapping *m, void *arg)
{
	u64 *n = arg;

	if (m->pfn == SHPT_PFN_MAX - m->vpn && m->flags == (0xffff ^ m->vpn))
		n[0]++;
	else
		n[1]++;
}

TEST_F(tbl, full_value_words)
{
	struct shpt_mapping m, out;
	u64 n[2] = { 0, 0 };
	unsigned long pos = 0;
	unsigned int f;

	for (f = 0; f < 16; f++) {
		/* flags with bit 15 set, and every other single bit clear */
		m = mk(3, f, 0, SHPT_PFN_MAX - f, 0xffff ^ f);
		ASSERT_EQ(0, shpt_table_insert(self->t, &m, GFP_KERNEL));
		ASSERT_TRUE(shpt_table_lookup(self->t, 3, f, 0, &out));
		EXPECT_EQ(SHPT_PFN_MAX - f, out.pfn);
		EXPECT_EQ(0xffff ^ f, out.flags);
		EXPECT_EQ(0, out.order);
	}
	m = mk(3, 1ULL << 30, 30, SHPT_PFN_MAX, 0x8000);
	ASSERT_EQ(0, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m.flags = 0xffff;
	ASSERT_EQ(1, shpt_table_insert(self->t, &m, GFP_KERNEL));
	ASSERT_TRUE(shpt_table_lookup(self->t, 3, 1ULL << 30, 30, &out));
	EXPECT_EQ(0xffff, out.flags);
	EXPECT_EQ(30, out.order);
	EXPECT_TRUE(shpt_table_remove(self->t, 3, 1ULL << 30, 30));
	EXPECT_FALSE(shpt_table_lookup(self->t, 3, 1ULL << 30, 30, NULL));
	m = mk(3, 0, 0, 1, 1U << SHPT_FLAG_BITS);
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));

	do
		pos = shpt_table_walk(self->t, pos, 7, exact_fn, n);
	while (pos);
	EXPECT_EQ(16, n[0]);
	EXPECT_EQ(0, n[1]);
	shpt_table_flush(self->t);
	EXPECT_EQ(16, shim_kmem_live());
}

/*
 * Removed entries are freed in batches linked through their value words:
 * single removes, range sweeps and an ASID sweep, interleaved, leave
 * exactly the survivors, which walks report with their values, and every
 * removed entry is freed once (ASan and the per-cache count see the rest).
 */
static void survivor_fn(const struct shpt_mapping *m, void *arg)
{
	u64 *n = arg;

	if (m->asid == 2 && m->vpn % 4 == 1 && m->vpn >= 100 &&
	    m->pfn == pfn_of(m->asid, m->vpn, m->order) &&
	    m->flags == SHPT_F_VALID)
		n[0]++;
	else
		n[1]++;
}

TEST_F(tbl, graveyard_batches)
{
	u64 n[2] = { 0, 0 }, v, hist[128], weighted = 0;
	unsigned long pos = 0, i;
	int round;

	for (round = 0; round < 3; round++) {
		for (v = 0; v < 400; v++) {
			ASSERT_EQ(0, ins(self->t, 1, v, 0));
			ASSERT_EQ(0, ins(self->t, 2, v, 0));
		}
		for (v = 0; v < 400; v += 2)
			ASSERT_TRUE(shpt_table_remove(self->t, 2, v, 0));
		/* probe path, then sweep path */
		EXPECT_EQ(25, shpt_table_remove_range(self->t, 2, 0, 50));
		EXPECT_EQ(25, shpt_table_remove_range(self->t, 2, 50, 100));
		for (v = 103; v < 400; v += 4)
			ASSERT_TRUE(shpt_table_remove(self->t, 2, v, 0));
		EXPECT_EQ(400, shpt_table_remove_asid(self->t, 1));
		EXPECT_EQ(75, nelems(self->t));
		if (round < 2) {
			/* again, with part of the last round still queued */
			EXPECT_EQ(75, shpt_table_remove_asid(self->t, 2));
		}
	}
	do
		pos = shpt_table_walk(self->t, pos, 5, survivor_fn, n);
	while (pos);
	EXPECT_EQ(75, n[0]);
	EXPECT_EQ(0, n[1]);
	shpt_table_chain_hist(self->t, hist, 128);
	for (i = 0; i < 128; i++)
		weighted += i * hist[i];
	EXPECT_EQ(75, weighted);
	shpt_table_flush(self->t);
	EXPECT_EQ(75, shim_kmem_live());
}

TEST_F(tbl, homonyms)
{
	struct shpt_mapping out;
	u64 a;

	/* same vpn in 200 address spaces: with modulo, all in one chain */
	for (a = 1; a <= 200; a++)
		ASSERT_EQ(0, ins(self->t, a, 0x777, 0));
	EXPECT_EQ(200, nelems(self->t));
	for (a = 1; a <= 200; a++) {
		ASSERT_TRUE(shpt_table_lookup(self->t, a, 0x777, 0, &out));
		EXPECT_EQ(a, out.asid);
		EXPECT_EQ(pfn_of(a, 0x777, 0), out.pfn);
	}
	EXPECT_FALSE(shpt_table_lookup(self->t, 201, 0x777, 0, NULL));
	/* the largest ASID is distinct from a small one with the same low bits */
	ASSERT_EQ(0, ins(self->t, SHPT_ASID_MAX, 0x777, 0));
	EXPECT_TRUE(has(self->t, SHPT_ASID_MAX, 0x777, 0));

	EXPECT_EQ(1, shpt_table_remove_asid(self->t, 100));
	EXPECT_FALSE(shpt_table_lookup(self->t, 100, 0x777, 0, NULL));
	EXPECT_TRUE(has(self->t, 99, 0x777, 0));
	EXPECT_TRUE(has(self->t, 101, 0x777, 0));
	EXPECT_EQ(1, shpt_table_remove_range(self->t, 50, 0x777, 0x778));
	EXPECT_TRUE(has(self->t, 49, 0x777, 0));
	EXPECT_TRUE(has(self->t, 51, 0x777, 0));
	EXPECT_EQ(199, nelems(self->t));
}

TEST_F(tbl, orders)
{
	struct shpt_mapping out;

	/* a 2 MiB entry and a 4 KiB entry at the same vpn are different keys */
	ASSERT_EQ(0, ins(self->t, 1, 512, 9));
	ASSERT_EQ(0, ins(self->t, 1, 512, 0));
	ASSERT_TRUE(shpt_table_lookup(self->t, 1, 512, 9, &out));
	EXPECT_EQ(9, out.order);
	EXPECT_EQ(pfn_of(1, 512, 9), out.pfn);
	ASSERT_TRUE(shpt_table_lookup(self->t, 1, 512, 0, &out));
	EXPECT_EQ(0, out.order);
	EXPECT_EQ(pfn_of(1, 512, 0), out.pfn);
	EXPECT_FALSE(shpt_table_lookup(self->t, 1, 513, 0, NULL));

	EXPECT_TRUE(shpt_table_remove(self->t, 1, 512, 0));
	EXPECT_TRUE(has(self->t, 1, 512, 9));
	/* a range that touches only the last page of the 2 MiB entry */
	EXPECT_EQ(1, shpt_table_remove_range(self->t, 1, 1023, 1024));
	EXPECT_FALSE(shpt_table_lookup(self->t, 1, 512, 9, NULL));
	EXPECT_EQ(0, nelems(self->t));
}

TEST_F(tbl, address_space_ends)
{
	const u64 top = SHPT_VPN_MAX;
	const u64 top2m = SHPT_VPN_MAX + 1 - 512;

	ASSERT_EQ(0, ins(self->t, 1, 0, 0));
	ASSERT_EQ(0, ins(self->t, 1, 0, 9));
	ASSERT_EQ(0, ins(self->t, 1, top, 0));
	ASSERT_EQ(0, ins(self->t, 1, top2m, 9));
	ASSERT_EQ(0, ins(self->t, SHPT_ASID_MAX, top, 0));
	EXPECT_TRUE(has(self->t, 1, 0, 0));
	EXPECT_TRUE(has(self->t, 1, 0, 9));
	EXPECT_TRUE(has(self->t, 1, top, 0));
	EXPECT_TRUE(has(self->t, 1, top2m, 9));
	EXPECT_TRUE(has(self->t, SHPT_ASID_MAX, top, 0));

	/* the last page: an end past the address space is clamped */
	EXPECT_EQ(2, shpt_table_remove_range(self->t, 1, top, UINT64_MAX));
	EXPECT_FALSE(shpt_table_lookup(self->t, 1, top, 0, NULL));
	EXPECT_FALSE(shpt_table_lookup(self->t, 1, top2m, 9, NULL));
	EXPECT_TRUE(has(self->t, SHPT_ASID_MAX, top, 0));
	/* the first page, and the 2 MiB entry that covers it */
	EXPECT_EQ(2, shpt_table_remove_range(self->t, 1, 0, 1));
	EXPECT_EQ(1, nelems(self->t));
	EXPECT_EQ(1, shpt_table_remove_range(self->t, SHPT_ASID_MAX, 0,
					     SHPT_VPN_MAX + 1));
	EXPECT_EQ(0, nelems(self->t));
}

TEST_F(tbl, invalid_args)
{
	struct shpt_mapping m;

	m = mk(0, 1, 0, 1, 0);
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m = mk(SHPT_ASID_MAX + 1, 1, 0, 1, 0);
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m = mk(1, SHPT_VPN_MAX + 1, 0, 1, 0);
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m = mk(1, 513, 9, 1, 0);		/* misaligned */
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m = mk(1, 0, SHPT_ORDER_MAX + 1, 1, 0);
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m = mk(1, 0, 45, 1, 0);		/* larger than the address space */
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m = mk(1, 1, 0, SHPT_PFN_MAX + 1, 0);
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m = mk(1, 1, 0, 1, 1U << SHPT_FLAG_BITS);
	EXPECT_EQ(-EINVAL, shpt_table_insert(self->t, &m, GFP_KERNEL));
	m = mk(1, 0, 44, SHPT_PFN_MAX, 0xffff);	/* the whole space: valid */
	EXPECT_EQ(0, shpt_table_insert(self->t, &m, GFP_KERNEL));
	EXPECT_TRUE(shpt_table_lookup(self->t, 1, 0, 44, &m));
	EXPECT_EQ(SHPT_PFN_MAX, m.pfn);
	EXPECT_EQ(0xffff, m.flags);
	EXPECT_EQ(1, nelems(self->t));

	EXPECT_FALSE(shpt_table_lookup(self->t, 0, 1, 0, NULL));
	EXPECT_FALSE(shpt_table_lookup(self->t, 1, SHPT_VPN_MAX + 1, 0, NULL));
	EXPECT_FALSE(shpt_table_lookup(self->t, 1, 1, 9, NULL));
	EXPECT_FALSE(shpt_table_remove(self->t, 0, 1, 0));
	EXPECT_FALSE(shpt_table_remove(self->t, 1, 1, 64));
	EXPECT_EQ(0, shpt_table_remove_range(self->t, 0, 0, 10));
	EXPECT_EQ(0, shpt_table_remove_range(self->t, 1, 10, 10));
	EXPECT_EQ(0, shpt_table_remove_range(self->t, 1, 10, 5));
	EXPECT_EQ(0, shpt_table_remove_range(self->t, 1, SHPT_VPN_MAX + 1,
					     UINT64_MAX));
	EXPECT_EQ(0, shpt_table_remove_asid(self->t, 0));
	EXPECT_EQ(0, shpt_table_remove_asid(self->t, SHPT_ASID_MAX + 1));
	EXPECT_EQ(1, nelems(self->t));
}

/*
 * Fill asids 1 and 2 with order-0 pages and order-9 blocks around
 * [lo, hi), remove [lo, hi) from asid 1, and check every key against the
 * rule.  @hi - @lo picks the probe path (<= buckets) or the sweep path.
 */
static void check_range(struct __test_metadata *_metadata,
			struct shpt_table *t, u64 lo, u64 hi)
{
	u64 first = lo >= 1024 ? lo - 1024 : 0, last = hi + 1024;
	u64 v, expect = 0, n0 = nelems(t);
	unsigned long got;
	unsigned int a;

	for (a = 1; a <= 2; a++) {
		for (v = first; v < last; v += 3)
			ASSERT_LE(0, ins(t, a, v, 0));
		for (v = first & ~511ULL; v < last; v += 512)
			ASSERT_LE(0, ins(t, a, v, 9));
	}
	for (v = first; v < last; v += 3)
		expect += v >= lo && v < hi;
	for (v = first & ~511ULL; v < last; v += 512)
		expect += v < hi && v + 512 > lo;

	got = shpt_table_remove_range(t, 1, lo, hi);
	EXPECT_EQ(expect, got);
	for (v = first; v < last; v += 3) {
		EXPECT_EQ(!(v >= lo && v < hi), has(t, 1, v, 0));
		EXPECT_TRUE(has(t, 2, v, 0));
	}
	for (v = first & ~511ULL; v < last; v += 512) {
		EXPECT_EQ(!(v < hi && v + 512 > lo), has(t, 1, v, 9));
		EXPECT_TRUE(has(t, 2, v, 9));
	}
	EXPECT_EQ(walk_count(t, 5), nelems(t));
	EXPECT_LE(n0, nelems(t));
}

TEST_F(tbl, remove_range_probe)
{
	/* ranges of at most "buckets" pages are probed page by page */
	check_range(_metadata, self->t, 5000, 5001 + variant->buckets / 2);
	check_range(_metadata, self->t, 0x10000 + 500, 0x10000 + 513);
	check_range(_metadata, self->t, 7, 8);
}

TEST_F(tbl, remove_range_sweep)
{
	/* larger ranges sweep every bucket */
	check_range(_metadata, self->t, 3000, 3000 + 20 * variant->buckets + 1);
	check_range(_metadata, self->t, 100000 + 1, 100000 + 4000);
}

TEST_F(tbl, remove_asid)
{
	u64 v;

	for (v = 0; v < 300; v++) {
		ASSERT_EQ(0, ins(self->t, 7, v * 5, 0));
		ASSERT_EQ(0, ins(self->t, 8, v * 5, 0));
	}
	ASSERT_EQ(0, ins(self->t, 7, 1 << 20, 9));
	EXPECT_EQ(301, shpt_table_remove_asid(self->t, 7));
	EXPECT_EQ(0, shpt_table_remove_asid(self->t, 7));
	for (v = 0; v < 300; v++) {
		EXPECT_FALSE(shpt_table_lookup(self->t, 7, v * 5, 0, NULL));
		EXPECT_TRUE(has(self->t, 8, v * 5, 0));
	}
	EXPECT_EQ(300, nelems(self->t));
	EXPECT_EQ(300, walk_count(self->t, 1000));
	shpt_table_flush(self->t);
	EXPECT_EQ(300, shim_kmem_live());
}

TEST_F(tbl, walk_and_hist)
{
	u64 hist[8], big[600], n = 0, sum = 0, weighted = 0;
	unsigned long b, i;

	for (i = 0; i < 500; i++)
		ASSERT_EQ(0, ins(self->t, 1 + i % 7, i * 17, 0));
	for (i = 1; i <= 64; i++) {
		n = walk_count(self->t, i);
		ASSERT_EQ(500, n);
	}
	b = shpt_table_chain_hist(self->t, hist, 8);
	EXPECT_EQ(variant->buckets, b);
	for (i = 0; i < 8; i++)
		sum += hist[i];
	EXPECT_EQ(b, sum);
	/* with one bin per length (the table is small), lengths sum to n */
	shpt_table_chain_hist(self->t, big, 600);
	for (i = 0; i < 600; i++)
		weighted += i * big[i];
	EXPECT_EQ(500, weighted);
	/* one bin: everything is ">= 0" */
	EXPECT_EQ(b, shpt_table_chain_hist(self->t, hist, 1));
	EXPECT_EQ(b, hist[0]);
	EXPECT_EQ(0, shpt_table_chain_hist(self->t, hist, 0));
}

TEST_F(tbl, stats)
{
	struct shpt_table_stats s;
	int i;

	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, ins(self->t, 1, i, 0));
	for (i = 0; i < 20; i++)
		ASSERT_EQ(1, ins(self->t, 1, i, 0));
	for (i = 0; i < 150; i++)
		shpt_table_lookup(self->t, 1, i, 0, NULL);
	for (i = 0; i < 10; i++)
		ASSERT_TRUE(shpt_table_remove(self->t, 1, i, 0));
	shpt_table_get_stats(self->t, &s);
	EXPECT_EQ(150, s.lookups);
	EXPECT_EQ(100, s.hits);
	EXPECT_EQ(50, s.misses);
	EXPECT_EQ(s.lookups, s.hits + s.misses);
	EXPECT_LE(s.hits, s.probes);
	EXPECT_LE(1, s.max_probes);
	EXPECT_LE(s.max_probes, 100);
	EXPECT_EQ(100, s.inserts);
	EXPECT_EQ(20, s.replaces);
	EXPECT_EQ(10, s.removes);
	EXPECT_EQ(90, s.nelems);
	EXPECT_EQ(variant->buckets, s.nbuckets);
	EXPECT_EQ(0, s.alloc_fail);
	if (variant->buckets == 1)	/* one chain of 100: every probe counts */
		EXPECT_EQ(100, s.max_probes);

	shpt_table_reset_stats(self->t);
	shpt_table_get_stats(self->t, &s);
	EXPECT_EQ(0, s.lookups + s.hits + s.misses + s.probes + s.max_probes +
		  s.inserts + s.replaces + s.removes + s.restarts);
	EXPECT_EQ(90, s.nelems);
}

/* Random operations against a flat model, with forced rehashes. */
TEST_F(tbl, model)
{
	enum { NA = 3, NV = 700 };
	static u64 model[NA + 1][NV];	/* pfn + 1, or 0 if absent */
	struct shpt_mapping m, out;
	unsigned int i, a, v;
	u64 n = 0, pfn;

	srandom(42);
	memset(model, 0, sizeof(model));
	for (i = 0; i < 40000; i++) {
		a = 1 + random() % NA;
		v = random() % NV;
		switch (random() % 8) {
		case 0: case 1: case 2:
			pfn = random() & 0xfffff;
			m = mk(a, v, 0, pfn, SHPT_F_VALID);
			ASSERT_EQ(model[a][v] ? 1 : 0,
				  shpt_table_insert(self->t, &m, GFP_KERNEL));
			n += !model[a][v];
			model[a][v] = pfn + 1;
			break;
		case 3: case 4:
			ASSERT_EQ(!!model[a][v],
				  shpt_table_remove(self->t, a, v, 0));
			n -= !!model[a][v];
			model[a][v] = 0;
			break;
		case 5: {
			unsigned int lo = random() % NV, len = random() % 100;
			unsigned long exp = 0;

			for (v = lo; v < lo + len && v < NV; v++) {
				exp += !!model[a][v];
				model[a][v] = 0;
			}
			ASSERT_EQ(exp, shpt_table_remove_range(self->t, a, lo,
							       lo + len));
			n -= exp;
			break;
		}
		default:
			ASSERT_EQ(!!model[a][v],
				  shpt_table_lookup(self->t, a, v, 0, &out));
			if (model[a][v])
				ASSERT_EQ(model[a][v] - 1, out.pfn);
			break;
		}
		if (i % 5000 == 4999) {
			ASSERT_EQ(0, shpt_table_rehash(self->t, 0, i % 2));
			ASSERT_EQ(n, nelems(self->t));
			ASSERT_EQ(n, walk_count(self->t, 3));
		}
	}
	for (a = 1; a <= NA; a++)
		for (v = 0; v < NV; v++)
			ASSERT_EQ(!!model[a][v],
				  shpt_table_lookup(self->t, a, v, 0, NULL));
}

#define BPL	(8 * (unsigned int)sizeof(long))

/* A random key: mostly present, some absent, some of another order or out of range. */
static struct shpt_key rand_key(const struct shpt_key *present, unsigned int np)
{
	static const unsigned int orders[] = { 0, 9, 18 };
	struct shpt_key k;

	switch (random() % 10) {
	case 0:		/* absent */
		k.asid = 1 + random() % 4;
		k.order = orders[random() % 3];
		k.vpn = ((u64)random() << k.order) & SHPT_VPN_MAX;
		return k;
	case 1:		/* present key, wrong order */
		k = present[random() % np];
		k.order = k.order ? 0 : 9;
		k.vpn &= ~((1ULL << k.order) - 1);
		return k;
	case 2:		/* out of range: shpt_table_lookup() counts nothing */
		k = present[random() % np];
		switch (random() % 5) {
		case 0: k.asid = 0; break;
		case 1: k.asid = SHPT_ASID_MAX + 1; break;
		case 2: k.vpn |= 1; k.order = 9; break;
		case 3: k.order = SHPT_ORDER_MAX + 1; break;
		default: k.vpn = SHPT_VPN_MAX + 1; k.order = 0; break;
		}
		return k;
	default:
		return present[random() % np];
	}
}

static void stats_of(struct shpt_table *t, struct shpt_table_stats *s)
{
	shpt_table_get_stats(t, s);
	shpt_table_reset_stats(t);
}

/*
 * shpt_table_lookup_bulk() against shpt_table_lookup() on random key sets
 * with hits, misses, wrong orders and out-of-range keys, at batch sizes
 * around the group size: same results, same copies, misses left untouched,
 * same statistics.
 */
TEST_F(tbl, bulk_matches_single)
{
	static const unsigned int sizes[] = { 0, 1, 7, 15, 16, 17, 31, 33,
					      100, 257, 1000 };
	static const unsigned int orders[] = { 0, 9, 18 };
	enum { NP = 300, NMAX = 1000 };
	static struct shpt_mapping single[NMAX], bulk[NMAX];
	static struct shpt_key present[NP], keys[NMAX];
	unsigned long hits[NMAX / BPL + 2];
	struct shpt_table_stats s1, s2;
	unsigned int i, j, round, n, nfound;
	bool found;

	srandom(7);
	for (i = 0; i < NP; i++) {
		present[i].asid = 1 + random() % 4;
		present[i].order = orders[random() % 3];
		present[i].vpn = ((u64)random() << present[i].order) &
				 SHPT_VPN_MAX;
		ASSERT_LE(0, ins(self->t, present[i].asid, present[i].vpn,
				 present[i].order));
	}
	for (round = 0; round < 4; round++) {
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			n = sizes[j];
			for (i = 0; i < n; i++)
				keys[i] = rand_key(present, NP);
			stats_of(self->t, &s1);
			nfound = 0;
			memset(single, 0xa5, sizeof(single));
			memset(bulk, 0xa5, sizeof(bulk));
			memset(hits, 0xff, sizeof(hits));
			for (i = 0; i < n; i++)
				nfound += shpt_table_lookup(self->t,
					keys[i].asid, keys[i].vpn,
					keys[i].order, &single[i]);
			stats_of(self->t, &s1);
			ASSERT_EQ(nfound, shpt_table_lookup_bulk(self->t, keys,
								n, bulk, hits));
			stats_of(self->t, &s2);
			for (i = 0; i < n; i++) {
				found = hits[i / BPL] &
					(1UL << (i % BPL));
				ASSERT_EQ(single[i].asid != 0xa5a5a5a5a5a5a5a5ULL,
					  found);
				ASSERT_EQ(0, memcmp(&single[i], &bulk[i],
						    sizeof(bulk[i])));
			}
			/* bits past @n are not touched */
			if (n % BPL)
				ASSERT_TRUE(hits[n / BPL] &
					    (1UL << (n % BPL)));
			ASSERT_EQ(s1.lookups, s2.lookups);
			ASSERT_EQ(s1.hits, s2.hits);
			ASSERT_EQ(s1.misses, s2.misses);
			ASSERT_EQ(s1.probes, s2.probes);
			ASSERT_EQ(s1.max_probes, s2.max_probes);
			ASSERT_EQ(s1.restarts, s2.restarts);
			/* without @out: the same bitmap */
			memset(hits, 0, sizeof(hits));
			ASSERT_EQ(nfound, shpt_table_lookup_bulk(self->t, keys,
								n, NULL, hits));
			for (i = 0; i < n; i++)
				ASSERT_EQ(single[i].asid != 0xa5a5a5a5a5a5a5a5ULL,
					  !!(hits[i / BPL] &
					     (1UL << (i % BPL))));
		}
		/* and again in a fresh array, under a new key */
		ASSERT_EQ(0, shpt_table_rehash(self->t, 0, true));
		for (i = 0; i < NP; i += 3)
			shpt_table_remove(self->t, present[i].asid,
					  present[i].vpn, present[i].order);
	}
}

/* Grow and shrink by load factor, through the worker. */
TEST(grow_shrink)
{
	struct shpt_table_stats s;
	struct shpt_table *t;
	u64 v;

	shim_thread_init();
	t = mktable(4, 4, 1 << 16, SHPT_HASH_SIPHASH);
	ASSERT_FALSE(IS_ERR(t));
	for (v = 0; v < 1000; v++)
		ASSERT_EQ(0, ins(t, 1, v, 0));
	shpt_table_flush(t);
	shpt_table_get_stats(t, &s);
	/* the smallest power of two with n / B <= 1.5 (max_load 150) */
	EXPECT_EQ(1024, s.nbuckets);
	EXPECT_LE(1, s.grows);
	EXPECT_EQ(0, s.shrinks);
	for (v = 0; v < 1000; v++)
		ASSERT_TRUE(has(t, 1, v, 0));

	for (v = 10; v < 1000; v++)
		ASSERT_TRUE(shpt_table_remove(t, 1, v, 0));
	shpt_table_flush(t);
	shpt_table_get_stats(t, &s);
	/* halved until n / B >= 0.55 (min_load 55): 10 entries in 16 buckets */
	EXPECT_EQ(16, s.nbuckets);
	EXPECT_LE(1, s.shrinks);
	for (v = 0; v < 10; v++)
		ASSERT_TRUE(has(t, 1, v, 0));
	EXPECT_EQ(10, walk_count(t, 4));

	ASSERT_EQ(10, shpt_table_remove_asid(t, 1));
	shpt_table_flush(t);
	EXPECT_EQ(4, nbuckets(t));	/* min_buckets */
	shpt_table_destroy(t);

	/*
	 * At max_buckets the table overloads: chains grow past max_chain,
	 * which is expected there and must not rekey.
	 */
	t = mktable(4, 4, 64, SHPT_HASH_SIPHASH);
	ASSERT_FALSE(IS_ERR(t));
	for (v = 0; v < 3000; v++)
		ASSERT_EQ(0, ins(t, 1, v, 0));
	shpt_table_flush(t);
	shpt_table_get_stats(t, &s);
	EXPECT_EQ(64, s.nbuckets);
	EXPECT_LT(0, s.long_chains);
	EXPECT_EQ(0, s.rekeys);
	for (v = 0; v < 3000; v++)
		ASSERT_TRUE(has(t, 1, v, 0));
	shpt_table_destroy(t);
	EXPECT_EQ(0, shim_kmem_live());
	EXPECT_EQ(0, shim_kmalloc_live());
}

/* Forced rehash and rekey to many sizes keep exactly the same entries. */
TEST(rehash_rekey)
{
	static const unsigned int sizes[] = {
		1, 2, 7, 64, 4096, 0, 3, 1 << 15, 1000, 1,
	};
	struct shpt_table_stats s;
	struct shpt_table *t;
	u64 hist[64], b, sum, i;
	unsigned int k;

	shim_thread_init();
	shim_set_quiet(1);
	t = mktable(16, 1, 1 << 15, SHPT_HASH_SIPHASH);
	ASSERT_FALSE(IS_ERR(t));
	for (i = 0; i < 3000; i++)
		ASSERT_EQ(0, ins(t, 1 + i % 5, i * 7 << 9, i % 3 ? 0 : 9));
	shpt_table_flush(t);

	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		ASSERT_EQ(0, shpt_table_rehash(t, sizes[k], k % 2));
		b = nbuckets(t);
		if (sizes[k])
			EXPECT_EQ(b, sizes[k] == 7 ? 8 : sizes[k] == 3 ? 4 :
				  sizes[k] == 1000 ? 1024 : sizes[k]);
		for (i = 0; i < 3000; i++)
			ASSERT_TRUE(has(t, 1 + i % 5, i * 7 << 9, i % 3 ? 0 : 9));
		EXPECT_FALSE(shpt_table_lookup(t, 6, 0, 0, NULL));
		ASSERT_EQ(3000, walk_count(t, 100));
		ASSERT_EQ(b, shpt_table_chain_hist(t, hist, 64));
		for (sum = 0, i = 0; i < 64; i++)
			sum += hist[i];
		ASSERT_EQ(b, sum);
	}
	shpt_table_get_stats(t, &s);
	EXPECT_EQ(ARRAY_SIZE(sizes) / 2, s.rekeys);
	EXPECT_EQ(3000, s.nelems);
	shpt_table_destroy(t);
	EXPECT_EQ(0, shim_kmem_live());
	EXPECT_EQ(0, shim_kmalloc_live());
}

/* A chain longer than max_chain rekeys a keyed table, never a modulo one. */
TEST(flood_defence)
{
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_table *t;
	u64 i;

	shim_thread_init();
	shim_set_quiet(1);
	shpt_table_default_params(&p);
	p.init_buckets = p.min_buckets = 1024;
	p.max_chain = 16;
	p.hash = SHPT_HASH_MODULO;
	t = shpt_table_create(&p);
	ASSERT_FALSE(IS_ERR(t));
	/* every vpn a multiple of max_buckets: one chain at every size */
	for (i = 0; i < 200; i++)
		ASSERT_EQ(0, ins(t, 1, i << 26, 0));
	shpt_table_flush(t);
	shpt_table_get_stats(t, &s);
	EXPECT_LE(200 - 17, s.long_chains);
	EXPECT_EQ(0, s.rekeys);
	shpt_table_destroy(t);

	/*
	 * siphash with max_chain 1: 1000 keys in 1024 fixed buckets make
	 * about 150 chains of three, so some insert finds a chain of two
	 * (P(none) < 1e-60) and rekeys.
	 */
	p.hash = SHPT_HASH_SIPHASH;
	p.max_buckets = 1024;
	p.max_chain = 1;
	t = shpt_table_create(&p);
	ASSERT_FALSE(IS_ERR(t));
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, ins(t, 1, i, 0));
	shpt_table_flush(t);
	shpt_table_get_stats(t, &s);
	EXPECT_LE(1, s.long_chains);
	EXPECT_LE(1, s.rekeys);
	EXPECT_EQ(1024, s.nbuckets);
	for (i = 0; i < 1000; i++)
		ASSERT_TRUE(has(t, 1, i, 0));
	shpt_table_destroy(t);
	EXPECT_EQ(0, shim_kmem_live());
}

TEST(alloc_failure)
{
	struct shpt_mapping m = mk(1, 1, 0, 1, SHPT_F_VALID);
	struct shpt_table_stats s;
	struct shpt_table *t;

	shim_thread_init();
	t = mktable(16, 16, 1024, SHPT_HASH_SIPHASH);
	ASSERT_FALSE(IS_ERR(t));
	shim_fail_allocs(1);
	EXPECT_EQ(-ENOMEM, shpt_table_insert(t, &m, GFP_NOWAIT));
	EXPECT_FALSE(shpt_table_lookup(t, 1, 1, 0, NULL));
	EXPECT_EQ(0, shpt_table_insert(t, &m, GFP_NOWAIT));
	shim_fail_allocs(1);
	EXPECT_EQ(-ENOMEM, shpt_table_rehash(t, 64, true));
	EXPECT_EQ(16, nbuckets(t));
	EXPECT_TRUE(shpt_table_lookup(t, 1, 1, 0, NULL));
	shpt_table_get_stats(t, &s);
	EXPECT_EQ(2, s.alloc_fail);
	EXPECT_EQ(1, s.nelems);
	EXPECT_EQ(0, s.rekeys);
	shpt_table_destroy(t);
	EXPECT_EQ(0, shim_kmem_live());
	EXPECT_EQ(0, shim_kmalloc_live());
}

/* Holds the shim's single worker until released. */
static volatile int blocker_go;

static void blocker_fn(struct work_struct *w)
{
	while (!blocker_go)
		usleep(1000);
}

/* Insert new keys of @asid from *@next until an insert finds a long chain. */
static void insert_until_long_chain(struct shpt_table *t, u64 asid, u64 *next)
{
	struct shpt_table_stats s;
	u64 before;

	shpt_table_get_stats(t, &s);
	before = s.long_chains;
	do {
		if (ins(t, asid, (*next)++, 0))
			break;
		shpt_table_get_stats(t, &s);
	} while (s.long_chains == before && *next < 100000);
}

/*
 * A rekey whose bucket array cannot be allocated is not dropped: it is
 * retried (counted in rekey_retries) until it succeeds, and after
 * SHPT_REKEY_RETRIES (5) failures it stays pending for the next long chain.
 */
TEST(rekey_retry)
{
	struct work_struct blk;
	struct shpt_table_params p;
	struct shpt_table_stats s;
	struct shpt_table *t;
	u64 next = 0;

	shim_thread_init();
	shim_set_quiet(1);
	shpt_table_default_params(&p);
	p.init_buckets = p.min_buckets = p.max_buckets = 1024;
	p.max_chain = 1;
	t = shpt_table_create(&p);
	ASSERT_FALSE(IS_ERR(t));

	/* Three failures, then success. */
	blocker_go = 0;
	INIT_WORK(&blk, blocker_fn);
	queue_work(system_unbound_wq, &blk);
	insert_until_long_chain(t, 1, &next);
	shim_fail_allocs(3);
	blocker_go = 1;
	flush_work(&blk);
	shpt_table_flush(t);
	shpt_table_get_stats(t, &s);
	EXPECT_EQ(3, s.rekey_retries);
	EXPECT_EQ(1, s.rekeys);
	EXPECT_EQ(3, s.alloc_fail);

	/* Six failures: it gives up after five retries, still pending... */
	blocker_go = 0;
	queue_work(system_unbound_wq, &blk);
	insert_until_long_chain(t, 1, &next);
	shim_fail_allocs(6);
	blocker_go = 1;
	flush_work(&blk);
	shpt_table_flush(t);
	shim_fail_allocs(0);
	shpt_table_get_stats(t, &s);
	EXPECT_EQ(8, s.rekey_retries);
	EXPECT_EQ(1, s.rekeys);
	EXPECT_EQ(9, s.alloc_fail);

	/* ...and the next long chain gets it done. */
	insert_until_long_chain(t, 1, &next);
	shpt_table_flush(t);
	shpt_table_get_stats(t, &s);
	EXPECT_EQ(2, s.rekeys);
	EXPECT_EQ(next, s.nelems);
	shpt_table_destroy(t);
	EXPECT_EQ(0, shim_kmem_live());
}

struct rehasher {
	struct shpt_table *t;
	volatile int stop;
	unsigned int done;
};

static void *rehash_thread(void *arg)
{
	struct rehasher *r = arg;

	shim_thread_init();
	while (!r->stop) {
		shpt_table_rehash(r->t, r->done % 2 ? 1024 : 16384, true);
		r->done++;
	}
	return NULL;
}

/*
 * The sleepable sweep goes 1024 buckets per RCU section, rescheduling in
 * between; it removes exactly the ASID's entries, also while rehashes
 * complete under it (and free the array it was sweeping).
 */
TEST(sweep_sleepable)
{
	struct rehasher r = { 0 };
	struct shpt_table *t;
	pthread_t th;
	unsigned int round;
	u64 i;

	shim_thread_init();
	shim_set_quiet(1);
	t = mktable(4096, 1024, 16384, SHPT_HASH_SIPHASH);
	ASSERT_FALSE(IS_ERR(t));
	r.t = t;
	ASSERT_EQ(0, pthread_create(&th, NULL, rehash_thread, &r));
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 3000; i++) {
			ASSERT_EQ(0, ins(t, 1, i, 0));
			ASSERT_EQ(0, ins(t, 2, i, 0));
		}
		ASSERT_EQ(3000, shpt_table_remove_asid_sleepable(t, 1));
		for (i = 0; i < 3000; i++) {
			ASSERT_FALSE(has(t, 1, i, 0));
			ASSERT_TRUE(has(t, 2, i, 0));
		}
		ASSERT_EQ(3000, shpt_table_remove_asid(t, 2));
		ASSERT_EQ(0, nelems(t));
	}
	r.stop = 1;
	pthread_join(th, NULL);
	TH_LOG("%u rehashes during the sweeps", r.done);
	EXPECT_EQ(0, shpt_table_remove_asid_sleepable(t, 0));
	shpt_table_destroy(t);
	EXPECT_EQ(0, shim_kmem_live());
}

TEST(params)
{
	struct shpt_table_params p, q;
	struct shpt_table *t;

	shim_thread_init();
	shpt_table_default_params(&p);
	p.init_buckets = 1000;
	p.min_buckets = 3;
	p.max_buckets = 5000;
	t = shpt_table_create(&p);
	ASSERT_FALSE(IS_ERR(t));
	shpt_table_get_params(t, &q);
	EXPECT_EQ(1024, q.init_buckets);
	EXPECT_EQ(4, q.min_buckets);
	EXPECT_EQ(8192, q.max_buckets);
	EXPECT_EQ(1024, nbuckets(t));
	shpt_table_destroy(t);

	shpt_table_default_params(&p);
	p.init_buckets = 0;	/* clamped up to min_buckets */
	t = shpt_table_create(&p);
	ASSERT_FALSE(IS_ERR(t));
	EXPECT_EQ(p.min_buckets, nbuckets(t));
	shpt_table_destroy(t);

	shpt_table_default_params(&p);
	p.min_buckets = 0;
	EXPECT_EQ(-EINVAL, PTR_ERR(shpt_table_create(&p)));
	shpt_table_default_params(&p);
	p.max_buckets = SHPT_MAX_BUCKETS + 1;
	EXPECT_EQ(-EINVAL, PTR_ERR(shpt_table_create(&p)));
	shpt_table_default_params(&p);
	p.min_buckets = 64;
	p.max_buckets = 32;
	EXPECT_EQ(-EINVAL, PTR_ERR(shpt_table_create(&p)));
	shpt_table_default_params(&p);
	p.min_load_pct = p.max_load_pct / 2;	/* a grow could trigger a shrink */
	EXPECT_EQ(-EINVAL, PTR_ERR(shpt_table_create(&p)));
	shpt_table_default_params(&p);
	p.max_load_pct = 0;
	EXPECT_EQ(-EINVAL, PTR_ERR(shpt_table_create(&p)));
	shpt_table_default_params(&p);
	p.hash = SHPT_HASH_NR;
	EXPECT_EQ(-EINVAL, PTR_ERR(shpt_table_create(&p)));
	EXPECT_EQ(0, shim_kmalloc_live());

	EXPECT_STREQ("siphash", shpt_hash_name(SHPT_HASH_SIPHASH));
	EXPECT_STREQ("hsiphash", shpt_hash_name(SHPT_HASH_HSIPHASH));
	EXPECT_STREQ("modulo", shpt_hash_name(SHPT_HASH_MODULO));
	EXPECT_STREQ("unknown", shpt_hash_name(SHPT_HASH_NR));
}

/*
 * The SipHash paper (Aumasson and Bernstein, 2012), appendix A: key
 * 00 01 .. 0f, message 00 01 .. 0e, SipHash-2-4 = a129ca6149be45e5.
 */
TEST(siphash_vectors)
{
	u8 key[16], msg[64], out[8];
	siphash_key_t k;
	u64 kk[2], h;
	unsigned int i, len;

	ASSERT_LE(0, sodium_init());
	for (i = 0; i < 16; i++)
		key[i] = i;
	for (i = 0; i < 64; i++)
		msg[i] = i;
	crypto_shorthash_siphash24(out, msg, 15, key);
	for (h = 0, i = 0; i < 8; i++)
		h |= (u64)out[i] << (8 * i);
	EXPECT_EQ(0xa129ca6149be45e5ULL, h);

	memcpy(kk, key, 16);	/* little-endian host */
	k.key[0] = kk[0];
	k.key[1] = kk[1];
	EXPECT_EQ(0xa129ca6149be45e5ULL, siphash(msg, 15, &k));
	/* the shim's SipHash core agrees with libsodium at every length */
	for (len = 0; len < 64; len++) {
		crypto_shorthash_siphash24(out, msg, len, key);
		for (h = 0, i = 0; i < 8; i++)
			h |= (u64)out[i] << (8 * i);
		EXPECT_EQ(h, shim_siphash_cd(2, 4, msg, len, kk));
	}
	/* siphash_2u64 hashes the 16 little-endian bytes of its words */
	EXPECT_EQ(siphash(msg, 16, &k),
		  siphash_2u64(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, &k));
}

TEST_HARNESS_MAIN
