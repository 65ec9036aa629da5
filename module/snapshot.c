// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: snapshots of the real page tables with hmm_range_fault().
 *
 * A snapshot covers the part of one VMA that lies in one PMD, and is taken
 * with the read_begin / hmm_range_fault / read_retry protocol of DOC:
 * Coherence (mirror.c).  Populate inserts the present pages of each
 * snapshot, a fill (a lookup miss) those of one page, and verify
 * (verify.c) compares the shadow with them.
 *
 * Locks: callers hold mirror->op_sem (for read; verify for write) and an
 * mmget on the mm.  A snapshot is taken under mmap_read_lock and returned
 * with mirror->lock held, in the order of DOC: Lock rules
 * (mirror_internal.h); inserts under mirror->lock never sleep.
 */
#define pr_fmt(fmt) "shpt-snapshot: " fmt

#include <linux/hmm.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/shpt.h>

#include "mirror_internal.h"

/* A populate chunk is at most one PMD, so a THP is seen whole. */
#define SHPT_CHUNK_PAGES	SHPT_PMD_PAGES
/* Bound on snapshot retries (-EBUSY or a sequence collision) per chunk. */
#define SHPT_SNAP_RETRIES	32

/* The entry flags of a present page: what is cheap and true. */
static u32 shpt_entry_flags(unsigned long hpfn, unsigned long vm_flags,
			    bool anon)
{
	u32 f = SHPT_F_VALID;

	if (hpfn & HMM_PFN_WRITE)
		f |= SHPT_F_WRITE;
	if (vm_flags & VM_READ)
		f |= SHPT_F_READ;
	if (vm_flags & VM_EXEC)
		f |= SHPT_F_EXEC;
	if (vm_flags & VM_SHARED)
		f |= SHPT_F_SHARED;
	if (anon)
		f |= SHPT_F_ANON;
	if (!(vm_flags & VM_SHARED) && (vm_flags & VM_WRITE) &&
	    !(hpfn & HMM_PFN_WRITE))
		f |= SHPT_F_COW;
	return f;
}

/*
 * Snapshot the part of [start, end) that lies in the first VMA at or after
 * @start, at most up to the next PMD boundary.  The caller holds @m->op_sem
 * for read and an mmget on @m->mm.
 *
 * Return: 0 with @m->lock held and s->pfns consistent with the notifier
 * sequence (no invalidation since the snapshot); 1 if no VMA meets
 * [start, end) (s->end = end); -ESRCH if the mirror is dead; -EAGAIN when
 * the retries ran out; -EINTR on a fatal signal; or hmm_range_fault()'s
 * error (-EFAULT when a fault was asked for and is impossible).
 */
static int shpt_snapshot_lock(struct shpt_mirror *m, struct shpt_snap *s,
			      unsigned long start, unsigned long end,
			      unsigned long fault, u64 *retries)
{
	struct hmm_range range = {
		.notifier = &m->notifier,
		.hmm_pfns = s->pfns,
		.default_flags = fault,
		.pfn_flags_mask = 0,
	};
	struct mm_struct *mm = m->mm;
	struct vm_area_struct *vma;
	int tries, ret;

	for (tries = 0; tries < SHPT_SNAP_RETRIES; tries++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		range.notifier_seq = mmu_interval_read_begin(&m->notifier);
		mmap_read_lock(mm);
		vma = find_vma(mm, start);
		if (!vma || vma->vm_start >= end) {
			mmap_read_unlock(mm);
			s->start = end;
			s->end = end;
			return 1;
		}
		s->start = max(start, vma->vm_start);
		s->end = min3(end, vma->vm_end,
			      ALIGN_DOWN(s->start, PMD_SIZE) + PMD_SIZE);
		s->vma_start = vma->vm_start;
		s->vma_end = vma->vm_end;
		s->vm_flags = vma->vm_flags;
		s->anon = vma_is_anonymous(vma);
		range.start = s->start;
		range.end = s->end;
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret == -EBUSY)
			goto retry;
		if (ret)
			return ret;

		mutex_lock(&m->lock);
		if (m->dead) {
			mutex_unlock(&m->lock);
			return -ESRCH;
		}
		if (!mmu_interval_read_retry(&m->notifier, range.notifier_seq))
			return 0;
		mutex_unlock(&m->lock);
retry:
		(*retries)++;
		shpt_mstat_inc(retries);
		cond_resched();
	}
	return -EAGAIN;
}

/*
 * Insert the present pages of a locked snapshot.  A page that the CPU maps
 * with a PMD (hmm_pfn_to_map_order() == 9) goes in as one order-9 entry
 * for the whole aligned 2 MiB; everything else as order-0 entries.
 */
static void shpt_snap_insert(struct shpt_mirror *m, const struct shpt_snap *s,
			     struct shpt_range_result *r)
{
	unsigned long npages = (s->end - s->start) >> PAGE_SHIFT;
	u64 vpn0 = s->start >> PAGE_SHIFT;
	unsigned long i = 0;

	lockdep_assert_held(&m->lock);
	while (i < npages) {
		unsigned long hpfn = s->pfns[i];
		u64 vpn = vpn0 + i, base;
		u32 flags;

		if (!(hpfn & HMM_PFN_VALID)) {
			i++;
			continue;
		}
		flags = shpt_entry_flags(hpfn, s->vm_flags, s->anon);
		if (hmm_pfn_to_map_order(hpfn) == SHPT_PMD_ORDER) {
			base = vpn & ~(u64)(SHPT_PMD_PAGES - 1);
			if (shpt_mirror_insert(m, base,
					       shpt_hmm_pfn(hpfn) - (vpn - base),
					       SHPT_PMD_ORDER, flags))
				r->inserted++;
			/* The chunk never crosses a PMD boundary. */
			r->checked += npages - i;
			break;
		}
		if (shpt_mirror_insert(m, vpn, shpt_hmm_pfn(hpfn), 0, flags))
			r->inserted++;
		r->checked++;
		i++;
	}
}

/**
 * shpt_snap_range() - snapshot a range, and insert or verify each chunk
 * @m: the mirror; @m->op_sem held and an mmget on @m->mm
 * @start: first address (page aligned)
 * @end: end address (exclusive)
 * @r: out: counts added to
 * @verify: compare the shadow with each snapshot (shpt_verify_snap())
 *	instead of inserting it
 *
 * Snapshot [@start, @end) chunk by chunk; insert each locked snapshot
 * into the shadow, or with @verify compare the shadow with it; then
 * unlock.
 *
 * Return: 0, -ENOMEM, or shpt_snapshot_lock()'s error: -ESRCH (the mirror
 * is dead), -EAGAIN (retries ran out), -EINTR, or hmm_range_fault()'s.
 */
int shpt_snap_range(struct shpt_mirror *m, unsigned long start,
		    unsigned long end, struct shpt_range_result *r, bool verify)
{
	struct shpt_snap s = {};
	int ret = 0;

	s.pfns = kvmalloc_array(SHPT_CHUNK_PAGES, sizeof(*s.pfns), GFP_KERNEL);
	if (!s.pfns)
		return -ENOMEM;
	while (start < end) {
		ret = shpt_snapshot_lock(m, &s, start, end, 0, &r->retries);
		if (ret < 0)
			break;
		if (ret == 0) {
			if (verify)
				shpt_verify_snap(m, &s, r);
			else
				shpt_snap_insert(m, &s, r);
			mutex_unlock(&m->lock);
		}
		ret = 0;
		start = s.end;
		cond_resched();
	}
	kvfree(s.pfns);
	return ret;
}

/**
 * shpt_populate_range() - insert the present pages of a range
 * @m: the mirror; @m->op_sem held for read and an mmget on @m->mm
 * @start: first address (page aligned)
 * @end: end address (exclusive)
 * @r: out: pages seen (checked), entries inserted, retries; added to
 *
 * Nothing is faulted in.
 *
 * Return: as shpt_snap_range().
 */
int shpt_populate_range(struct shpt_mirror *m, unsigned long start,
			unsigned long end, struct shpt_range_result *r)
{
	return shpt_snap_range(m, start, end, r, false);
}

/**
 * shpt_mirror_fill() - resolve a lookup miss from a snapshot of its page
 * @m: the mirror; @m->op_sem held for read and an mmget on @m->mm
 * @vpn: the page that missed
 * @lflags: SHPT_LOOKUP_* bits; SHPT_LOOKUP_FAULT read-faults an absent
 *	page in
 * @out: the translation, filled in unless SHPT_LK_NONE is returned
 *
 * Return: SHPT_LK_FILL, SHPT_LK_FAULT, SHPT_LK_NONE (the page is not
 * present, or cannot be faulted in), or a negative errno as
 * shpt_snap_range().
 */
int shpt_mirror_fill(struct shpt_mirror *m, u64 vpn, unsigned int lflags,
		     struct shpt_mapping *out)
{
	unsigned long addr = vpn << PAGE_SHIFT, hpfn = 0;
	struct shpt_snap s = { .pfns = &hpfn };
	struct shpt_range_result r = {};
	unsigned long fault = 0;
	int status = SHPT_LK_FILL;
	int ret;

again:
	ret = shpt_snapshot_lock(m, &s, addr, addr + PAGE_SIZE, fault,
				 &r.retries);
	if (ret == 1 || ret == -EFAULT)
		return SHPT_LK_NONE;
	if (ret)
		return ret;
	if (!(hpfn & HMM_PFN_VALID)) {
		mutex_unlock(&m->lock);
		if ((lflags & SHPT_LOOKUP_FAULT) && !fault) {
			/* Read fault only: never break CoW on the target. */
			fault = HMM_PFN_REQ_FAULT;
			status = SHPT_LK_FAULT;
			goto again;
		}
		return SHPT_LK_NONE;
	}
	shpt_snap_insert(m, &s, &r);
	WRITE_ONCE(m->fills, m->fills + 1);
	mutex_unlock(&m->lock);

	/* Report the translation even if the GFP_NOWAIT insert failed. */
	out->pfn = shpt_hmm_pfn(hpfn);
	out->order = hmm_pfn_to_map_order(hpfn) == SHPT_PMD_ORDER ?
		     SHPT_PMD_ORDER : 0;
	out->flags = shpt_entry_flags(hpfn, s.vm_flags, s.anon);
	return status;
}
