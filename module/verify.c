// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: verify, the shadow against the real page tables.
 *
 * VERIFY compares each page of each VMA in a range with a fresh snapshot
 * (snapshot.c), then walks the ASID's entry index (index.c) for entries
 * that lie outside every VMA.  A stale entry is a bug and the selftests
 * assert there are none; a missing one is allowed and only counted.
 *
 * Locks: verify holds mirror->op_sem for write, so no lookup or populate
 * of the mirror inserts while it compares; under it mmap_lock (for read,
 * or for write for a second walk of the index), then mirror->lock (DOC:
 * Lock rules, mirror_internal.h).  Invalidations still run, and can only
 * remove entries.
 */
#define pr_fmt(fmt) "shpt-verify: " fmt

#include <linux/bitops.h>
#include <linux/hmm.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "mirror_internal.h"

/**
 * shpt_verify_snap() - compare the shadow with one locked snapshot
 * @m: the mirror; @m->lock held
 * @s: the snapshot, from shpt_snap_range()
 * @r: out: entries checked, stale and missing; added to
 */
void shpt_verify_snap(struct shpt_mirror *m, const struct shpt_snap *s,
		      struct shpt_range_result *r)
{
	unsigned long npages = (s->end - s->start) >> PAGE_SHIFT, i;
	u64 vpn0 = s->start >> PAGE_SHIFT, base;
	bool huge_seen = false, huge_stale = false;
	struct shpt_mapping map;

	lockdep_assert_held(&m->lock);
	base = vpn0 & ~(u64)(SHPT_PMD_PAGES - 1);
	for (i = 0; i < npages; i++) {
		unsigned long hpfn = s->pfns[i];
		bool real = hpfn & HMM_PFN_VALID, shadow = false;
		u64 vpn = vpn0 + i;

		if (shpt_table_lookup(shpt_mtable, m->asid, vpn, 0, &map)) {
			shadow = true;
			r->checked++;
			if (!real || map.pfn != shpt_hmm_pfn(hpfn) ||
			    ((map.flags & SHPT_F_WRITE) &&
			     !(hpfn & HMM_PFN_WRITE)))
				r->stale++;
		}
		if (shpt_table_lookup(shpt_mtable, m->asid, base,
				      SHPT_PMD_ORDER, &map)) {
			shadow = true;
			huge_seen = true;
			if (!real || map.pfn + (vpn - base) != shpt_hmm_pfn(hpfn) ||
			    ((map.flags & SHPT_F_WRITE) &&
			     !(hpfn & HMM_PFN_WRITE)))
				huge_stale = true;
		}
		if (real && !shadow)
			r->missing++;
	}
	/*
	 * A chunk is the part of one PMD region inside one VMA and the range,
	 * so a PMD entry is counted once, unless it straddles VMAs: then it
	 * is stale in each chunk it meets.
	 */
	if (huge_seen) {
		if (s->vma_start > (base << PAGE_SHIFT) ||
		    s->vma_end < ((base + SHPT_PMD_PAGES) << PAGE_SHIFT))
			huge_stale = true;
		r->checked++;
		r->stale += huge_stale;
	}
}

/**
 * struct shpt_verify_idx - what VERIFY's walk of the entry index found
 * @outside: indexed entries in the range that the table holds and that
 *	lie in no VMA (every one, in a dead mirror): stale
 * @ghosts: indexed entries in the range that the table does not hold: the
 *	index is inexact, a bug
 * @present: indexed entries that the table holds
 */
struct shpt_verify_idx {
	u64 outside;
	u64 ghosts;
	u64 present;
};

/* Does [vpn, vpn + 2^order) lie outside every VMA of @mm (NULL: dead)? */
static bool shpt_outside_vmas(struct mm_struct *mm, u64 vpn,
			      unsigned int order)
{
	struct vm_area_struct *vma;

	if (!mm)
		return true;
	vma = vma_lookup(mm, vpn << PAGE_SHIFT);
	return !vma || vma->vm_end < (vpn + BIT_ULL(order)) << PAGE_SHIFT;
}

static void shpt_verify_entry(struct shpt_mirror *m, struct mm_struct *mm,
			      u64 vpn, unsigned int order,
			      struct shpt_verify_idx *v)
{
	struct shpt_mapping map;

	if (!shpt_table_lookup(shpt_mtable, m->asid, vpn, order, &map)) {
		v->ghosts++;
		return;
	}
	v->present++;
	if (shpt_outside_vmas(mm, vpn, order))
		v->outside++;
}

/*
 * Check the indexed entries of @m that overlap VPNs [first, last), with
 * @m->lock held and, if @mm is not NULL, its mmap_lock.
 */
static void shpt_verify_index(struct shpt_mirror *m, struct mm_struct *mm,
			      u64 first, u64 last, struct shpt_verify_idx *v)
{
	unsigned long idx, lo, hi, bits, b, steps = 0;
	void *entry;

	lockdep_assert_held(&m->lock);
	shpt_idx_span(first, last, SHPT_PMD_ORDER, &lo, &hi);
	xa_for_each_range(&m->idx2m, idx, entry, lo, hi) {
		shpt_verify_entry(m, mm, (u64)idx << SHPT_PMD_ORDER,
				  SHPT_PMD_ORDER, v);
		if (!(++steps % SHPT_IDX_STEP))
			cond_resched();
	}
	shpt_idx_span(first, last, SHPT_IDX_SHIFT, &lo, &hi);
	xa_for_each_range(&m->idx4k, idx, entry, lo, hi) {
		bits = xa_to_value(entry) & shpt_idx_mask(idx, first, last);
		for_each_set_bit(b, &bits, SHPT_IDX_PAGES)
			shpt_verify_entry(m, mm,
					  ((u64)idx << SHPT_IDX_SHIFT) + b, 0, v);
		if (!(++steps % SHPT_IDX_STEP))
			cond_resched();
	}
}

/*
 * Find the ASID's entries in VPNs [first, last) that lie outside every VMA
 * by walking the index: O(entries of the ASID in the range).
 *
 * Such entries are stale, but only once nobody is between removing a VMA
 * and invalidating its range: munmap() (and mremap() or brk() shrinking)
 * detaches the VMAs, downgrades mmap_lock to read and only then zaps the
 * pages and calls the notifier.  So the walk runs under mmap_read_lock,
 * which does not stall the target; if it finds entries outside every VMA,
 * they may be such a munmap's, and the walk is repeated under mmap_lock
 * held for write, when no munmap is in progress.  @m->lock, held through a
 * walk, and op_sem, held for write by the caller, freeze the ASID's entries
 * and index: nothing inserts and no invalidation removes.
 *
 * Over the whole address space, the walk also checks that the index holds
 * all of the ASID's @entries: an entry it lost would be missed by the next
 * invalidation of its page, so each one counts as stale.
 */
static int shpt_verify_outside(struct shpt_mirror *m, bool have_mm,
			       u64 first, u64 last, struct shpt_range_result *r)
{
	bool full = !first && last >= (TASK_SIZE_MAX >> PAGE_SHIFT);
	struct mm_struct *mm = have_mm ? m->mm : NULL;
	struct shpt_verify_idx v;
	bool write = false;
	u64 lost;
	int ret;

	for (;;) {
		memset(&v, 0, sizeof(v));
		if (mm) {
			ret = write ? mmap_write_lock_killable(mm) :
				      mmap_read_lock_killable(mm);
			if (ret)
				return -EINTR;
		}
		mutex_lock(&m->lock);
		shpt_verify_index(m, mm, first, last, &v);
		lost = full && m->entries > v.present ?
		       m->entries - v.present : 0;
		mutex_unlock(&m->lock);
		if (!mm)
			break;
		if (write) {
			mmap_write_unlock(mm);
			break;
		}
		mmap_read_unlock(mm);
		if (!v.outside)
			break;
		write = true;
	}
	r->checked += v.outside + v.ghosts + lost;
	r->stale += v.outside + v.ghosts + lost;
	return 0;
}

static int shpt_verify_vmas(struct shpt_mirror *m, unsigned long start,
			    unsigned long end, struct shpt_range_result *r)
{
	return shpt_snap_range(m, start, end, r, true);
}

/**
 * shpt_mirror_verify() - compare the shadow with the real page tables
 * @asid: the mirror
 * @owner: the caller's file
 * @start: first address (page aligned); 0 with @end 0 means everything
 * @end: end address (exclusive)
 * @r: out: entries checked, stale and missing, retries
 *
 * For each page of each VMA in the range, a fresh snapshot (same protocol
 * as populate) is compared with the shadow: an entry whose page is absent,
 * maps another pfn, or is writable in the shadow but not in the PTE is
 * stale; a present page with no entry is missing.  Then a walk of the
 * ASID's entry index finds its entries that lie outside every VMA: stale
 * too, and so is an index slot without its entry and, when the whole
 * address space is verified, an entry the index lost (index.c: DOC: Entry
 * index).  A read-only entry for a writable PTE is not stale (mirror.c:
 * DOC: Coherence).  On a dead mirror it reports the entries left as stale
 * (0 unless buggy).
 *
 * Verify excludes lookups and populates of the same mirror (it holds
 * op_sem for write), so the result is exact while the process and the
 * core mm keep changing the address space: a page that appears after the
 * snapshot can only be missing, never stale.
 *
 * Return: 0, -EINVAL, -ENOENT, -EAGAIN, -EINTR, -ENOMEM.
 */
int shpt_mirror_verify(u64 asid, struct shpt_mirror_owner *owner,
		       unsigned long start, unsigned long end,
		       struct shpt_range_result *r)
{
	struct shpt_mirror *m;
	bool have_mm;
	int ret;

	ret = shpt_check_range(&start, &end);
	if (ret)
		return ret;
	m = shpt_mirror_get(asid, owner);
	if (!m)
		return -ENOENT;
	/*
	 * Exclusive: with no concurrent fill or populate, the ASID's entries
	 * can only go away while we compare (invalidations), never appear.
	 * A fill racing a verify could insert a page that was faulted in
	 * after the verify's snapshot, which would look stale.
	 */
	down_write(&m->op_sem);
	ret = -ENOENT;
	if (m->gone)
		goto out_unlock;
	ret = 0;
	have_mm = !READ_ONCE(m->dead) && mmget_not_zero(m->mm);
	if (have_mm)
		ret = shpt_verify_vmas(m, start, end, r);
	else if (!READ_ONCE(m->dead))
		ret = -ESRCH;	/* exiting; RELEASE is about to run */
	if (!ret)
		ret = shpt_verify_outside(m, have_mm, start >> PAGE_SHIFT,
					  end >> PAGE_SHIFT, r);
	if (have_mm)
		mmput(m->mm);
out_unlock:
	up_write(&m->op_sem);
	shpt_mirror_put(m);
	return ret;
}
