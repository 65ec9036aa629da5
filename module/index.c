// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: each mirror's index of its own entries in the table.
 *
 * Every insert of a mirror's entry (populate, fill), every removal by the
 * invalidate callback and the emptying at release and teardown go through
 * here, so that the index stays exact.  verify.c walks the index too, with
 * the helpers in mirror_internal.h.
 *
 * Locks: everything here runs with mirror->lock held (DOC: Lock rules,
 * mirror_internal.h), the lock the invalidate callback takes: nothing here
 * allocates with more than GFP_NOWAIT, and nothing sleeps unless its
 * caller says it may (@can_sleep).
 */
#define pr_fmt(fmt) "shpt-index: " fmt

#include <linux/bitops.h>
#include <linux/gfp.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/xarray.h>

#include "mirror_internal.h"

/**
 * DOC: Entry index
 *
 * The table is hashed, so it cannot list the entries of one ASID in a
 * range without probing every VPN or sweeping every bucket.  Each mirror
 * therefore keeps an index of exactly the entries its ASID has in the
 * table, in two xarrays:
 *
 * @idx4k, keyed by vpn >> 5: for each group of 32 pages that has order-0
 * entries, xa_mk_value() of a 32-bit map of which ones do;
 *
 * @idx2m, keyed by vpn >> 9: xa_mk_value(1) for each order-9 entry; and
 * at SHPT_IDX1G_BASE + (vpn >> 18), above every order-9 key, the same for
 * each order-18 entry (a PUD-mapped 1 GiB hugetlb page).  A walk of VPNs
 * [first, last) visits the order-18 keys of [first >> 18, (last - 1) >> 18]
 * separately, so an entry that starts before @first is found too.
 *
 * Invariant, under mirror->lock: every entry of the ASID in the table is
 * in the index, and every index bit has its entry.  Only the first half
 * matters for coherence (an entry missing from the index would survive the
 * invalidation of its page, a stale translation); the second keeps the
 * index from growing.  Hence the order of an insert: the index bit first,
 * with GFP_NOWAIT (the callback takes the same lock); if that allocation
 * fails the entry is not inserted at all (missing, which is allowed, and
 * counted in alloc_fail); if the table insert then fails, the bit is
 * cleared again.  Removal clears the bits of the entries it removes;
 * storing a value over an existing slot or erasing one never allocates.
 *
 * xa_find() skips empty subtrees, so a walk of [first, last) costs
 * O(index slots in it) lookups of a radix tree of height at most
 * 7 (39 index bits at 6 per level), never O(last - first).
 *
 * Memory: the bitmaps live in the xarray's slots, so a densely mapped
 * region costs one 576-byte leaf node per 64 groups (2048 pages): about
 * 2.3 bits per page, about 1% of the 24-byte table entry.  A sparse
 * mapping costs up to one leaf node per isolated 32-page group (and per
 * isolated order-9 entry), plus interior nodes shared by its neighbours.
 * debugfs "asids" shows what an index holds (shpt_mirror_index_bytes()).
 *
 * Safety net: after RELEASE or teardown has removed every indexed entry,
 * @entries must be 0.  If it is not, the index lost entries (a bug); the
 * ASID is then swept from the table with shpt_table_remove_asid(), which
 * is counted in inval_sweeps and logged.  inval_sweeps therefore stays 0,
 * and the selftests assert it.
 */

/*
 * Index updates happen under the callback lock: never sleep.  Nodes are
 * allocated only by inserts, which run in the caller's context (populate,
 * fill), so they are charged to the caller's memory cgroup.
 */
#define SHPT_IDX_GFP		(GFP_NOWAIT | __GFP_NOWARN | __GFP_ACCOUNT)

/* The @idx2m slot of an entry of @order (SHPT_PMD_ORDER or SHPT_PUD_ORDER). */
static unsigned long shpt_idx_huge(u64 vpn, unsigned int order)
{
	if (order == SHPT_PUD_ORDER)
		return SHPT_IDX1G_BASE + (vpn >> SHPT_PUD_ORDER);
	return vpn >> SHPT_PMD_ORDER;
}

/*
 * Index @vpn, about to be inserted at @order (0, SHPT_PMD_ORDER or
 * SHPT_PUD_ORDER).
 * Return: 1 if this set its bit (undo with shpt_idx_clear() if the insert
 * fails), 0 if it was set already, or -ENOMEM.
 */
static int shpt_idx_set(struct shpt_mirror *m, u64 vpn, unsigned int order)
{
	unsigned long bit, bits = 0;
	void *old;

	lockdep_assert_held(&m->lock);
	if (order) {
		bit = shpt_idx_huge(vpn, order);
		if (xa_load(&m->idx2m, bit))
			return 0;
		old = xa_store(&m->idx2m, bit, xa_mk_value(1), SHPT_IDX_GFP);
		return xa_is_err(old) ? xa_err(old) : 1;
	}
	old = xa_load(&m->idx4k, vpn >> SHPT_IDX_SHIFT);
	if (old)
		bits = xa_to_value(old);
	bit = BIT(vpn & (SHPT_IDX_PAGES - 1));
	if (bits & bit)
		return 0;
	old = xa_store(&m->idx4k, vpn >> SHPT_IDX_SHIFT, xa_mk_value(bits | bit),
		       SHPT_IDX_GFP);
	return xa_is_err(old) ? xa_err(old) : 1;
}

/* Store what is left of a 32-page group's bitmap; never allocates. */
static void shpt_idx_put_bits(struct shpt_mirror *m, unsigned long idx,
			      unsigned long bits)
{
	if (bits)
		xa_store(&m->idx4k, idx, xa_mk_value(bits), SHPT_IDX_GFP);
	else
		xa_erase(&m->idx4k, idx);
}

/* Undo shpt_idx_set() for an entry that did not make it into the table. */
static void shpt_idx_clear(struct shpt_mirror *m, u64 vpn, unsigned int order)
{
	void *old;

	lockdep_assert_held(&m->lock);
	if (order) {
		xa_erase(&m->idx2m, shpt_idx_huge(vpn, order));
		return;
	}
	old = xa_load(&m->idx4k, vpn >> SHPT_IDX_SHIFT);
	if (old)
		shpt_idx_put_bits(m, vpn >> SHPT_IDX_SHIFT, xa_to_value(old) &
				  ~BIT(vpn & (SHPT_IDX_PAGES - 1)));
}

static void shpt_mirror_sub_entries(struct shpt_mirror *m, unsigned long n)
{
	lockdep_assert_held(&m->lock);
	WRITE_ONCE(m->entries, m->entries > n ? m->entries - n : 0);
}

/* @m->nr_pmd or @m->nr_pud, for an entry of @order; NULL for order 0. */
static unsigned long *shpt_mirror_nr_huge(struct shpt_mirror *m,
					  unsigned int order)
{
	if (order == SHPT_PUD_ORDER)
		return &m->nr_pud;
	if (order == SHPT_PMD_ORDER)
		return &m->nr_pmd;
	return NULL;
}

/* @n entries of @order were linked (@n > 0) or unlinked (@n < 0). */
static void shpt_mirror_count_huge(struct shpt_mirror *m, unsigned int order,
				   long n)
{
	unsigned long *nr = shpt_mirror_nr_huge(m, order);

	lockdep_assert_held(&m->lock);
	if (!nr || !n)
		return;
	if (n < 0 && *nr < -n)	/* the index lost entries; never wrap */
		WRITE_ONCE(*nr, 0);
	else
		WRITE_ONCE(*nr, *nr + n);
}

/*
 * Remove every entry of @m that overlaps VPNs [first, last), found through
 * the index, and its index bit.  Never sleeps unless @can_sleep.
 * Return: the number of table entries removed.
 */
static unsigned long shpt_idx_remove(struct shpt_mirror *m, u64 first,
				     u64 last, bool can_sleep)
{
	unsigned long idx, lo, hi, bits, todo, b, n = 0, steps = 0, huge;
	void *entry;
	u64 base;

	lockdep_assert_held(&m->lock);
	shpt_idx_span(first, last, SHPT_PUD_ORDER, &lo, &hi);
	xa_for_each_range(&m->idx2m, idx, entry, lo + SHPT_IDX1G_BASE,
			  hi + SHPT_IDX1G_BASE) {
		n += shpt_table_remove(shpt_mtable, m->asid,
				       (u64)(idx - SHPT_IDX1G_BASE) <<
				       SHPT_PUD_ORDER, SHPT_PUD_ORDER);
		xa_erase(&m->idx2m, idx);
	}
	shpt_mirror_count_huge(m, SHPT_PUD_ORDER, -(long)n);
	huge = n;
	shpt_idx_span(first, last, SHPT_PMD_ORDER, &lo, &hi);
	xa_for_each_range(&m->idx2m, idx, entry, lo, hi) {
		n += shpt_table_remove(shpt_mtable, m->asid,
				       (u64)idx << SHPT_PMD_ORDER,
				       SHPT_PMD_ORDER);
		xa_erase(&m->idx2m, idx);
		if (can_sleep && !(++steps % SHPT_IDX_STEP))
			cond_resched();
	}
	shpt_mirror_count_huge(m, SHPT_PMD_ORDER, -(long)(n - huge));
	shpt_idx_span(first, last, SHPT_IDX_SHIFT, &lo, &hi);
	xa_for_each_range(&m->idx4k, idx, entry, lo, hi) {
		base = (u64)idx << SHPT_IDX_SHIFT;
		bits = xa_to_value(entry);
		todo = bits & shpt_idx_mask(idx, first, last);
		for_each_set_bit(b, &todo, SHPT_IDX_PAGES)
			n += shpt_table_remove(shpt_mtable, m->asid, base + b, 0);
		shpt_idx_put_bits(m, idx, bits & ~todo);
		if (can_sleep && !(++steps % SHPT_IDX_STEP))
			cond_resched();
	}
	shpt_mirror_sub_entries(m, n);
	return n;
}

/**
 * shpt_mirror_remove_range() - remove a mirror's entries in a range
 * @m: the mirror; @m->lock held
 * @start: first address
 * @end: end address (exclusive); the range is clamped to the VPN space
 * @can_sleep: may cond_resched() between index slots
 *
 * Removes every entry of @m that overlaps [@start, @end), found through
 * the index, and its index bit.
 *
 * Return: the number of table entries removed.
 */
unsigned long shpt_mirror_remove_range(struct shpt_mirror *m,
				       unsigned long start, unsigned long end,
				       bool can_sleep)
{
	u64 first = start >> PAGE_SHIFT;
	u64 last = ((end - 1) >> PAGE_SHIFT) + 1;

	if (last > SHPT_VPN_MAX + 1)
		last = SHPT_VPN_MAX + 1;
	if (first >= last)
		return 0;
	return shpt_idx_remove(m, first, last, can_sleep);
}

/**
 * shpt_mirror_empty() - remove every entry of a mirror and free its index
 * @m: the mirror; @m->lock held
 * @can_sleep: may cond_resched() between index slots
 *
 * If @m->entries is not 0 afterwards the index had lost entries (a bug):
 * sweep them out of the table so that none can outlive the mirror, and
 * count the sweep.
 *
 * Return: the number of entries removed.
 */
unsigned long shpt_mirror_empty(struct shpt_mirror *m, bool can_sleep)
{
	unsigned long n, lost;

	n = shpt_idx_remove(m, 0, SHPT_VPN_MAX + 1, can_sleep);
	if (m->entries) {
		lost = can_sleep ?
		       shpt_table_remove_asid_sleepable(shpt_mtable, m->asid) :
		       shpt_table_remove_asid(shpt_mtable, m->asid);
		shpt_mstat_inc(inval_sweeps);
		pr_err("asid %llu: %llu entries missing from the index, %lu swept\n",
		       m->asid, m->entries, lost);
		WRITE_ONCE(m->entries, 0);
		WRITE_ONCE(m->nr_pmd, 0);
		WRITE_ONCE(m->nr_pud, 0);
		n += lost;
	}
	xa_destroy(&m->idx4k);
	xa_destroy(&m->idx2m);
	return n;
}

/* Levels of xa_nodes an unsigned long index can need. */
#define SHPT_XA_LEVELS		DIV_ROUND_UP(BITS_PER_LONG, XA_CHUNK_SHIFT)

/* The node at @level (0: leaves) that holds slot @idx. */
static unsigned long shpt_xa_node_key(unsigned long idx, unsigned int level)
{
	unsigned int shift = XA_CHUNK_SHIFT * (level + 1);

	return shift < BITS_PER_LONG ? idx >> shift : 0;
}

/*
 * The xa_nodes of @xa, counted from the indices in use: a tree of height h
 * (the fewest levels that reach the largest index) has, at each level
 * below h, one node per distinct idx >> (XA_CHUNK_SHIFT * (level + 1));
 * a lone entry at index 0 lives in the head and needs none.  The xarray
 * frees a node when it empties and lowers the tree when only slot 0 of the
 * top is used, so this is its real node count when nothing changes during
 * the walk.  Walks under RCU only (xa_find()), so it can sleep between
 * slots and never holds up the callback lock.
 */
static u64 shpt_xa_nodes(struct xarray *xa)
{
	unsigned long idx, max = 0, key[SHPT_XA_LEVELS] = { 0 };
	u64 nodes[SHPT_XA_LEVELS] = { 0 }, n = 0, sum = 0;
	unsigned int l, height;
	void *entry;

	xa_for_each(xa, idx, entry) {
		for (l = 0; l < SHPT_XA_LEVELS; l++) {
			if (n && key[l] == shpt_xa_node_key(idx, l))
				continue;
			key[l] = shpt_xa_node_key(idx, l);
			nodes[l]++;
		}
		max = idx;
		if (!(++n % (SHPT_IDX_STEP * 16)))
			cond_resched();
	}
	if (!max)
		return 0;
	for (height = 1; height < SHPT_XA_LEVELS; height++)
		if (!shpt_xa_node_key(max, height - 1))
			break;
	for (l = 0; l < height; l++)
		sum += nodes[l];
	return sum;
}

/**
 * shpt_mirror_index_bytes() - the memory a mirror's entry index holds
 * @m: the mirror; no lock needed, the walk is under RCU
 *
 * Counts the xa_nodes of @m->idx4k and @m->idx2m from the slots in use
 * (see shpt_xa_nodes()) and charges each sizeof(struct xa_node), the
 * object size of the xarray's node cache (576 bytes on 64-bit); slab page
 * overhead is not included.  Concurrent inserts or removals make the
 * figure approximate, never unsafe.
 *
 * Context: process context, may sleep.
 * Return: bytes of xa_nodes.
 */
u64 shpt_mirror_index_bytes(struct shpt_mirror *m)
{
	return (shpt_xa_nodes(&m->idx4k) + shpt_xa_nodes(&m->idx2m)) *
	       sizeof(struct xa_node);
}

/**
 * shpt_mirror_insert() - insert or refresh one entry of a mirror
 * @m: the mirror; @m->lock held
 * @vpn: the entry's first page
 * @pfn: its first page frame
 * @order: 0, SHPT_PMD_ORDER or SHPT_PUD_ORDER
 * @flags: SHPT_F_* bits
 *
 * Called with @m->lock held, so only GFP_NOWAIT allocations; a failure
 * leaves the entry missing, which is allowed, and counts in alloc_fail.
 * The index first: an entry in the table must never be missing from it
 * (DOC: Entry index).
 *
 * Return: true if the entry is in the table.
 */
bool shpt_mirror_insert(struct shpt_mirror *m, u64 vpn, u64 pfn,
			unsigned int order, u32 flags)
{
	struct shpt_mapping map = {
		.asid = m->asid, .vpn = vpn, .pfn = pfn,
		.order = order, .flags = flags,
	};
	int ret, idx;

	lockdep_assert_held(&m->lock);
	idx = shpt_idx_set(m, vpn, order);
	if (idx < 0) {
		shpt_mstat_inc(alloc_fail);
		return false;
	}
	ret = shpt_table_insert(shpt_mtable, &map, GFP_NOWAIT | __GFP_NOWARN);
	if (ret < 0) {
		if (idx)
			shpt_idx_clear(m, vpn, order);
		shpt_mstat_inc(alloc_fail);
		return false;
	}
	if (ret == 0) {	/* new, not a replace */
		WRITE_ONCE(m->entries, m->entries + 1);
		shpt_mirror_count_huge(m, order, 1);
	}
	return true;
}
