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
 * Lock rules, mirror_internal.h), both only for one chunk at a time (one
 * snapshot, or SHPT_VERIFY_CHUNK index slots).  Invalidations still run,
 * between chunks, and can only remove entries.
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
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "mirror_internal.h"

/* Does a shadow entry (pfn @pfn for this page) differ from @hpfn? */
static bool shpt_verify_differs(const struct shpt_mapping *map, u64 pfn,
				unsigned long hpfn)
{
	return !(hpfn & HMM_PFN_VALID) || pfn != shpt_hmm_pfn(hpfn) ||
	       ((map->flags & SHPT_F_WRITE) && !(hpfn & HMM_PFN_WRITE));
}

/*
 * Say which entry is stale and why: a stale entry is a bug (mirror.c: DOC:
 * Coherence), and the count alone does not tell where to look.  @hpfn is
 * the page's hmm_pfns[] word, 0 when the entry lies outside every VMA.
 */
static void shpt_verify_report(const struct shpt_mirror *m, const char *why,
			       const struct shpt_mapping *map,
			       unsigned long hpfn)
{
	pr_warn_ratelimited("asid %llu: stale entry (%s): vpn %#llx order %u pfn %#llx flags %#x; page table %s pfn %#llx%s\n",
			    m->asid, why, map->vpn, map->order, map->pfn,
			    map->flags,
			    hpfn & HMM_PFN_VALID ? "maps" : "has no",
			    hpfn & HMM_PFN_VALID ? (u64)shpt_hmm_pfn(hpfn) : 0,
			    hpfn & HMM_PFN_WRITE ? " writable" : "");
}

/*
 * The order-18 entry at @base was met in chunk @s; @stale if it is stale
 * there.  Every chunk inside it meets it: count it once, and once stale.
 */
static void shpt_verify_pud(struct shpt_snap *s, u64 base, u64 pfn,
			    bool stale, struct shpt_range_result *r)
{
	if (s->vma_start > (base << PAGE_SHIFT) ||
	    s->vma_end < ((base + SHPT_PUD_PAGES) << PAGE_SHIFT))
		stale = true;
	if (s->pud_vpn != base || s->pud_pfn != pfn) {
		s->pud_vpn = base;
		s->pud_pfn = pfn;
		s->pud_stale = false;
		r->checked++;
	}
	if (stale && !s->pud_stale) {
		s->pud_stale = true;
		r->stale++;
	}
}

/**
 * shpt_verify_snap() - compare the shadow with one locked snapshot
 * @m: the mirror; @m->lock held
 * @s: the snapshot, from shpt_snap_range()
 * @r: out: entries checked, stale and missing; added to
 */
void shpt_verify_snap(struct shpt_mirror *m, struct shpt_snap *s,
		      struct shpt_range_result *r)
{
	unsigned long npages = (s->end - s->start) >> PAGE_SHIFT, i;
	u64 vpn0 = s->start >> PAGE_SHIFT, base, base1g, pud_pfn = 0;
	bool huge_seen = false, huge_stale = false;
	bool pud_seen = false, pud_stale = false;
	struct shpt_mapping map;

	lockdep_assert_held(&m->lock);
	base = vpn0 & ~(u64)(SHPT_PMD_PAGES - 1);
	base1g = vpn0 & ~(SHPT_PUD_PAGES - 1);
	for (i = 0; i < npages; i++) {
		unsigned long hpfn = s->pfns[i];
		bool real = hpfn & HMM_PFN_VALID, shadow = false;
		u64 vpn = vpn0 + i;

		if (shpt_table_lookup(shpt_mtable, m->asid, vpn, 0, &map)) {
			shadow = true;
			r->checked++;
			if (shpt_verify_differs(&map, map.pfn, hpfn)) {
				r->stale++;
				shpt_verify_report(m, "pte", &map, hpfn);
			}
		}
		if (shpt_table_lookup(shpt_mtable, m->asid, base,
				      SHPT_PMD_ORDER, &map)) {
			shadow = true;
			huge_seen = true;
			if (!huge_stale &&
			    shpt_verify_differs(&map, map.pfn + (vpn - base),
						hpfn)) {
				huge_stale = true;
				shpt_verify_report(m, "pmd", &map, hpfn);
			}
		}
		if (shpt_table_lookup(shpt_mtable, m->asid, base1g,
				      SHPT_PUD_ORDER, &map)) {
			shadow = true;
			pud_seen = true;
			pud_pfn = map.pfn;
			if (!pud_stale &&
			    shpt_verify_differs(&map, map.pfn + (vpn - base1g),
						hpfn)) {
				pud_stale = true;
				shpt_verify_report(m, "pud", &map, hpfn);
			}
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
	if (pud_seen)
		shpt_verify_pud(s, base1g, pud_pfn, pud_stale, r);
}

/**
 * struct shpt_verify_idx - what VERIFY's walk of the entry index found
 * @outside: indexed entries in the range that the table holds and that
 *	lie in no VMA (every one, in a dead mirror): stale
 * @ghosts: indexed entries in the range that the table does not hold: the
 *	index is inexact, a bug
 * @present: indexed entries that the table holds
 * @write: the walk holds mmap_lock for write (or the mirror is dead), so
 *	an entry outside every VMA is not a munmap's in progress
 */
struct shpt_verify_idx {
	u64 outside;
	u64 ghosts;
	u64 present;
	bool write;
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
		pr_warn_ratelimited("asid %llu: index slot without its entry: vpn %#llx order %u\n",
				    m->asid, vpn, order);
		return;
	}
	v->present++;
	if (shpt_outside_vmas(mm, vpn, order)) {
		v->outside++;
		/* The first, read-locked walk may meet a munmap's entries. */
		if (v->write)
			shpt_verify_report(m, "outside every VMA", &map, 0);
	}
}

/* Index slots of one walk visited per hold of the locks. */
#define SHPT_VERIFY_CHUNK	64

/**
 * struct shpt_verify_pos - where a chunked walk of the index stands
 * @kind: 0: the order-18 slots, 1: the order-9 slots, 2: the order-0 groups
 * @next: the next slot of that kind to visit
 * @hi: the last slot of that kind in the range
 */
struct shpt_verify_pos {
	unsigned int kind;
	unsigned long next;
	unsigned long hi;
};

/* Set @pos to the first slot of @kind (3: the end) for VPNs [first, last). */
static void shpt_verify_pos_set(struct shpt_verify_pos *pos,
				unsigned int kind, u64 first, u64 last)
{
	pos->kind = kind;
	if (kind == 0) {
		shpt_idx_span(first, last, SHPT_PUD_ORDER, &pos->next,
			      &pos->hi);
		pos->next += SHPT_IDX1G_BASE;
		pos->hi += SHPT_IDX1G_BASE;
	} else if (kind == 1) {
		shpt_idx_span(first, last, SHPT_PMD_ORDER, &pos->next,
			      &pos->hi);
	} else if (kind == 2) {
		shpt_idx_span(first, last, SHPT_IDX_SHIFT, &pos->next,
			      &pos->hi);
	}
}

/* Check one index slot @idx (value @entry) of kind @kind. */
static void shpt_verify_slot(struct shpt_mirror *m, struct mm_struct *mm,
			     unsigned int kind, unsigned long idx, void *entry,
			     u64 first, u64 last, struct shpt_verify_idx *v)
{
	unsigned long bits, b;

	if (kind == 0) {
		shpt_verify_entry(m, mm, (u64)(idx - SHPT_IDX1G_BASE) <<
				  SHPT_PUD_ORDER, SHPT_PUD_ORDER, v);
		return;
	}
	if (kind == 1) {
		shpt_verify_entry(m, mm, (u64)idx << SHPT_PMD_ORDER,
				  SHPT_PMD_ORDER, v);
		return;
	}
	bits = xa_to_value(entry) & shpt_idx_mask(idx, first, last);
	for_each_set_bit(b, &bits, SHPT_IDX_PAGES)
		shpt_verify_entry(m, mm, ((u64)idx << SHPT_IDX_SHIFT) + b, 0, v);
}

/*
 * Check up to SHPT_VERIFY_CHUNK indexed slots of @m that overlap VPNs
 * [first, last), from @pos on, and advance @pos past them; with @m->lock
 * held and, if @mm is not NULL, its mmap_lock.
 * Return: true when the walk is complete.
 */
static bool shpt_verify_index(struct shpt_mirror *m, struct mm_struct *mm,
			      u64 first, u64 last, struct shpt_verify_pos *pos,
			      struct shpt_verify_idx *v)
{
	struct xarray *xa;
	unsigned int n = 0;
	unsigned long idx;
	void *entry;

	lockdep_assert_held(&m->lock);
	while (pos->kind < 3) {
		xa = pos->kind == 2 ? &m->idx4k : &m->idx2m;
		xa_for_each_range(xa, idx, entry, pos->next, pos->hi) {
			if (n++ == SHPT_VERIFY_CHUNK) {
				pos->next = idx;
				return false;
			}
			shpt_verify_slot(m, mm, pos->kind, idx, entry, first,
					 last, v);
		}
		shpt_verify_pos_set(pos, pos->kind + 1, first, last);
	}
	return true;
}

/* Take the locks of one chunk of the walk.  Return: 0 or -EINTR. */
static int shpt_verify_lock(struct shpt_mirror *m, struct mm_struct *mm,
			    bool write)
{
	if (mm && (write ? mmap_write_lock_killable(mm) :
			   mmap_read_lock_killable(mm)))
		return -EINTR;
	mutex_lock(&m->lock);
	return 0;
}

static void shpt_verify_unlock(struct shpt_mirror *m, struct mm_struct *mm,
			       bool write)
{
	mutex_unlock(&m->lock);
	if (mm && write)
		mmap_write_unlock(mm);
	else if (mm)
		mmap_read_unlock(mm);
}

/*
 * One walk of the index over VPNs [first, last), in chunks of
 * SHPT_VERIFY_CHUNK slots; the locks are dropped between chunks.  With
 * @lost, also find how many of the ASID's entries the index lacks.
 * Return: 0 or -EINTR.
 */
static int shpt_verify_walk(struct shpt_mirror *m, struct mm_struct *mm,
			    bool write, u64 first, u64 last,
			    struct shpt_verify_idx *v, u64 *lost)
{
	struct shpt_verify_pos pos;
	bool done;

	memset(v, 0, sizeof(*v));
	v->write = write || !mm;
	shpt_verify_pos_set(&pos, 0, first, last);
	do {
		if (fatal_signal_pending(current) ||
		    shpt_verify_lock(m, mm, write))
			return -EINTR;
		done = shpt_verify_index(m, mm, first, last, &pos, v);
		if (done && lost)
			*lost = m->entries > v->present ?
				m->entries - v->present : 0;
		shpt_verify_unlock(m, mm, write);
		cond_resched();
	} while (!done);
	return 0;
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
 * held for write, when no munmap is in progress.
 *
 * The walk goes in chunks of SHPT_VERIFY_CHUNK index slots, and drops
 * mmap_lock and @m->lock between them, so that neither the target nor an
 * invalidation (the OOM reaper's cannot wait) is held up for the whole
 * walk.  Each chunk continues at the slot after the last one visited.
 * Between chunks invalidations may remove entries, but nothing inserts
 * (the caller holds op_sem for write), so the result stays sound:
 *  - an entry is counted only if, at the moment its chunk looked at it
 *    (under both locks), it was in the table and outside every VMA with
 *    no munmap in progress: a concurrent invalidation can make the walk
 *    miss an entry it removed, never count one that was not stale;
 *  - an entry that stays in the table and outside every VMA throughout
 *    keeps its index slot (the index is exact under @m->lock), and every
 *    slot of the range is visited once, in order: it is counted.
 *
 * Over the whole address space, the walk also checks that the index holds
 * all of the ASID's @entries: an entry it lost would be missed by the next
 * invalidation of its page, so each one counts as stale.  @entries is read
 * after the last chunk; it can only have dropped since the first, and
 * every entry still indexed then was visited, so this never over-counts.
 */
static int shpt_verify_outside(struct shpt_mirror *m, bool have_mm,
			       u64 first, u64 last, struct shpt_range_result *r)
{
	bool full = !first && last >= (TASK_SIZE_MAX >> PAGE_SHIFT);
	struct mm_struct *mm = have_mm ? m->mm : NULL;
	struct shpt_verify_idx v;
	u64 lost = 0;
	int ret;

	ret = shpt_verify_walk(m, mm, false, first, last, &v,
			       full ? &lost : NULL);
	if (!ret && mm && v.outside)
		ret = shpt_verify_walk(m, mm, true, first, last, &v,
				       full ? &lost : NULL);
	if (ret)
		return ret;
	if (lost)
		pr_warn_ratelimited("asid %llu: %llu entries missing from the index\n",
				    m->asid, lost);
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
