// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: snapshots of the real page tables with hmm_range_fault().
 *
 * A snapshot covers the part of one VMA that lies in one PMD, and is taken
 * with the read_begin / hmm_range_fault / read_retry protocol of DOC:
 * Coherence (mirror.c).  Populate inserts the present pages of each
 * snapshot, a fill (a lookup miss) those of one page, and verify
 * (verify.c) compares the shadow with them.  See DOC: Snapshots.
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
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/shpt.h>

#include "mirror_internal.h"

/**
 * DOC: Snapshots
 *
 * Populate and verify go chunk by chunk; a chunk is the part of one VMA
 * inside one 2 MiB-aligned window.  Each chunk gets its own interval
 * notifier over its window, inserted before the snapshot and removed after
 * (nouveau does the same per fault), and the sequence check is made on it:
 * only an invalidation that overlaps the chunk forces a retry, not one
 * anywhere in the process, so a process that keeps changing one part of
 * its address space does not stall the snapshot of the rest.  The chunk
 * notifier's callback takes mirror->lock to move the sequence, as the
 * whole-space one does, and removes the entries in its window too: the
 * two callbacks of one invalidation run one after the other, and an
 * insert that slips between them must not survive it (see
 * shpt_chunk_invalidate()).  A fill (one page) uses the whole-space
 * notifier.
 *
 * Retries are bounded per chunk (SHPT_SNAP_RETRIES).  When they run out,
 * populate skips the chunk, counts its pages (@missing of the result),
 * and goes on: what it inserted is correct, and the skipped pages are
 * left to lookups, which fill them.  Verify cannot skip, and returns
 * -EAGAIN.
 *
 * hmm_range_fault() does not report the pages of a VMA without VM_READ
 * (PROT_NONE, write-only, exec-only): it fills them with HMM_PFN_ERROR.
 * They are present all the same, so for such a VMA the snapshot reads the
 * page tables itself (shpt_noread_snap()), under the same mmap_read_lock
 * and sequence check.  Their entries lack SHPT_F_READ.
 *
 * A PUD-mapped hugetlb page (1 GiB) is one entry of order 18, inserted
 * once although every chunk inside it sees it.
 */

/* A populate chunk is at most one PMD, so a THP is seen whole. */
#define SHPT_CHUNK_PAGES	SHPT_PMD_PAGES
/* Bound on snapshot retries (-EBUSY or a sequence collision) per chunk. */
#define SHPT_SNAP_RETRIES	32

/**
 * shpt_hpfn_order() - the order of the entry for a snapshotted page
 * @hpfn: an hmm_range_fault() output word with HMM_PFN_VALID
 *
 * Return: SHPT_PUD_ORDER for a PUD mapping, SHPT_PMD_ORDER for a PMD
 * mapping, else 0.
 */
unsigned int shpt_hpfn_order(unsigned long hpfn)
{
	unsigned int order = hmm_pfn_to_map_order(hpfn);

	if (order == SHPT_PUD_ORDER || order == SHPT_PMD_ORDER)
		return order;
	return 0;
}

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

/* hmm_range_fault() output for a page mapped at @order. */
static unsigned long shpt_mk_hpfn(unsigned long pfn, bool write,
				  unsigned int order)
{
	return pfn | HMM_PFN_VALID | (write ? HMM_PFN_WRITE : 0) |
	       (unsigned long)order << HMM_PFN_ORDER_SHIFT;
}

/*
 * The hmm_range_fault() output for one page of a VMA without VM_READ, or
 * 0 if nothing is mapped there.  Called with mmap_read_lock held: the VMA
 * is there, so its page tables are not freed, and a PMD that points to a
 * page table stays one (khugepaged and MADV_COLLAPSE replace it only under
 * mmap_write_lock), which is what follow_pte() needs.  A PMD or PUD leaf
 * (THP, hugetlb) is read once, as hmm_range_fault() reads them.
 */
static unsigned long shpt_noread_hpfn(struct mm_struct *mm,
				      unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	unsigned long hpfn;
	spinlock_t *ptl;	/* the PTE lock follow_pte() takes */
	pte_t *ptep;
	p4d_t *p4d;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;

	if (pgd_none(*pgd) || pgd_bad(*pgd))
		return 0;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		return 0;
	pudp = pud_offset(p4d, addr);
	pud = READ_ONCE(*pudp);
	if (pud_none(pud))
		return 0;
	if (pud_leaf(pud))
		return shpt_mk_hpfn(pud_pfn(pud) +
				    ((addr & ~PUD_MASK) >> PAGE_SHIFT),
				    pud_write(pud), SHPT_PUD_ORDER);
	if (pud_bad(pud))
		return 0;
	pmdp = pmd_offset(pudp, addr);
	pmd = pmd_read_atomic(pmdp);
	if (pmd_none(pmd))
		return 0;
	if (pmd_leaf(pmd))
		return pmd_present(pmd) ?
		       shpt_mk_hpfn(pmd_pfn(pmd) +
				    ((addr & ~PMD_MASK) >> PAGE_SHIFT),
				    pmd_write(pmd), SHPT_PMD_ORDER) : 0;
	if (pmd_bad(pmd) || follow_pte(mm, addr, &ptep, &ptl))
		return 0;
	__acquire(ptl);		/* follow_pte() returned it locked */
	hpfn = shpt_mk_hpfn(pte_pfn(*ptep), pte_write(*ptep), 0);
	pte_unmap_unlock(ptep, ptl);
	return hpfn;
}

/*
 * hmm_range_fault() for a VMA without VM_READ, which it does not report:
 * read the page tables instead.  Return: 0, or -EFAULT if a fault was
 * asked for (such a page cannot be faulted in for reading).
 */
static int shpt_noread_snap(struct mm_struct *mm, struct hmm_range *range)
{
	unsigned long addr, *hpfn = range->hmm_pfns;

	for (addr = range->start; addr < range->end; addr += PAGE_SIZE) {
		*hpfn = shpt_noread_hpfn(mm, addr);
		if (!*hpfn && range->default_flags)
			return -EFAULT;
		hpfn++;
	}
	return 0;
}

static bool shpt_vma_noread(const struct vm_area_struct *vma)
{
	return !(vma->vm_flags & (VM_READ | VM_IO | VM_PFNMAP | VM_MIXEDMAP));
}

/*
 * Snapshot the part of [start, end) that lies in the first VMA at or after
 * @start, at most up to the next PMD boundary, checking it against the
 * sequence of @mni (@m's whole-space notifier, or a chunk notifier whose
 * interval holds [start, next PMD boundary or @end)).  The caller holds
 * @m->op_sem for read and an mmget on @m->mm.
 *
 * Return: 0 with @m->lock held and s->pfns consistent with the notifier
 * sequence (no invalidation since the snapshot); 1 if no VMA meets
 * [start, next PMD boundary or end) (s->end is then where the next VMA
 * starts, or @end); -ESRCH if the mirror is dead; -EAGAIN when the
 * retries ran out (s->start and s->end then hold the chunk of the last
 * try); -EINTR on a fatal signal; or hmm_range_fault()'s error (-EFAULT
 * when a fault was asked for and is impossible).
 */
static int shpt_snapshot_lock(struct shpt_mirror *m,
			      struct mmu_interval_notifier *mni,
			      struct shpt_snap *s, unsigned long start,
			      unsigned long end, unsigned long fault,
			      u64 *retries)
{
	unsigned long win = min(end, ALIGN_DOWN(start, PMD_SIZE) + PMD_SIZE);
	struct hmm_range range = {
		.notifier = mni,
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
		range.notifier_seq = mmu_interval_read_begin(mni);
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		vma = find_vma(mm, start);
		if (!vma || vma->vm_start >= win) {
			mmap_read_unlock(mm);
			s->start = start;
			s->end = vma ? min(end, vma->vm_start) : end;
			return 1;
		}
		s->start = max(start, vma->vm_start);
		s->end = min3(win, vma->vm_end,
			      ALIGN_DOWN(s->start, PMD_SIZE) + PMD_SIZE);
		s->vma_start = vma->vm_start;
		s->vma_end = vma->vm_end;
		s->vm_flags = vma->vm_flags;
		s->anon = vma_is_anonymous(vma);
		range.start = s->start;
		range.end = s->end;
		if (shpt_vma_noread(vma))
			ret = shpt_noread_snap(mm, &range);
		else
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
		if (!mmu_interval_read_retry(mni, range.notifier_seq))
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
 * with a PMD or a PUD (shpt_hpfn_order() 9 or 18) goes in as one entry of
 * that order for the whole aligned 2 MiB or 1 GiB, the latter only once
 * for all the chunks inside it; everything else as order-0 entries.
 */
static void shpt_snap_insert(struct shpt_mirror *m, struct shpt_snap *s,
			     struct shpt_range_result *r)
{
	unsigned long npages = (s->end - s->start) >> PAGE_SHIFT;
	u64 vpn0 = s->start >> PAGE_SHIFT;
	unsigned long i = 0;
	unsigned int order;

	lockdep_assert_held(&m->lock);
	while (i < npages) {
		unsigned long hpfn = s->pfns[i];
		u64 vpn = vpn0 + i, base, pfn;
		u32 flags;

		if (!(hpfn & HMM_PFN_VALID)) {
			i++;
			continue;
		}
		flags = shpt_entry_flags(hpfn, s->vm_flags, s->anon);
		order = shpt_hpfn_order(hpfn);
		if (order) {
			base = vpn & ~(BIT_ULL(order) - 1);
			pfn = shpt_hmm_pfn(hpfn) - (vpn - base);
			/* The chunk never crosses a PMD boundary. */
			r->checked += npages - i;
			if (order == SHPT_PUD_ORDER) {
				if (s->pud_vpn == base && s->pud_pfn == pfn)
					break;
				s->pud_vpn = base;
				s->pud_pfn = pfn;
			}
			if (shpt_mirror_insert(m, base, pfn, order, flags))
				r->inserted++;
			break;
		}
		if (shpt_mirror_insert(m, vpn, shpt_hmm_pfn(hpfn), 0, flags))
			r->inserted++;
		r->checked++;
		i++;
	}
}

static bool shpt_chunk_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *range,
				  unsigned long cur_seq);

static const struct mmu_interval_notifier_ops shpt_chunk_ops = {
	.invalidate = shpt_chunk_invalidate,
};

/**
 * struct shpt_chunk_notifier - the interval notifier of one chunk
 * @mni: covers the chunk's window (DOC: Snapshots)
 * @m: the mirror whose lock orders its sequence
 * @start: first address of the window
 * @end: end of the window (exclusive)
 */
struct shpt_chunk_notifier {
	struct mmu_interval_notifier mni;
	struct shpt_mirror *m;
	unsigned long start;
	unsigned long end;
};

/*
 * Move the sequence and remove the mirror's entries in the part of the
 * range inside the window, under mirror->lock; trylock when not blockable.
 *
 * Moving the sequence alone would not do.  One invalidation calls the
 * whole-space notifier and this one in turn, each under its own hold of
 * mirror->lock, and the chunk's snapshot is checked against this one's
 * sequence only.  If the whole-space callback runs first, the snapshot
 * can take mirror->lock between the two callbacks, find this sequence
 * unmoved, and insert entries from page tables that are about to change,
 * after the whole-space callback has removed what was there.  Removing
 * again here, where the sequence moves, takes those entries out before
 * the core mm changes the PTEs.  Entries removed here are counted in
 * inval_entries, as the whole-space callback counts its own.
 */
static bool shpt_chunk_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *range,
				  unsigned long cur_seq)
{
	struct shpt_chunk_notifier *c = container_of(mni,
						     struct shpt_chunk_notifier,
						     mni);
	bool blockable = mmu_notifier_range_blockable(range);
	struct shpt_mirror *m = c->m;
	unsigned long n;

	if (blockable) {
		mutex_lock(&m->lock);
	} else if (!mutex_trylock(&m->lock)) {
		shpt_mstat_inc(inval_busy);
		return false;
	}
	mmu_interval_set_seq(mni, cur_seq);
	n = shpt_mirror_remove_range(m, max(range->start, c->start),
				     min(range->end, c->end), blockable);
	shpt_mstat_add(inval_entries, n);
	mutex_unlock(&m->lock);
	return true;
}

/*
 * Snapshot the first chunk of [start, end) under a chunk notifier over its
 * window, and insert or verify it.  Return: as shpt_snapshot_lock(), but
 * with @m->lock released; -ENOMEM if the notifier cannot be inserted.
 */
static int shpt_snap_chunk(struct shpt_mirror *m, struct shpt_snap *s,
			   unsigned long start, unsigned long end,
			   struct shpt_range_result *r, bool verify)
{
	unsigned long win = min(end, ALIGN_DOWN(start, PMD_SIZE) + PMD_SIZE);
	struct shpt_chunk_notifier c = { .m = m, .start = start, .end = win };
	int ret;

	/* Not under mmap_lock nor mirror->lock: it may take both. */
	ret = mmu_interval_notifier_insert(&c.mni, m->mm, start, win - start,
					   &shpt_chunk_ops);
	if (ret)
		return ret;
	ret = shpt_snapshot_lock(m, &c.mni, s, start, end, 0, &r->retries);
	if (ret == 0) {
		if (verify)
			shpt_verify_snap(m, s, r);
		else
			shpt_snap_insert(m, s, r);
		mutex_unlock(&m->lock);
	}
	/* Waits for its callbacks in flight: @c is on our stack. */
	mmu_interval_notifier_remove(&c.mni);
	return ret;
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
 * unlock.  Without @verify, a chunk whose retries run out is skipped and
 * its pages are added to @r->missing (DOC: Snapshots).
 *
 * Return: 0, -ENOMEM, or shpt_snapshot_lock()'s error: -ESRCH (the mirror
 * is dead), -EAGAIN (@verify only: retries ran out), -EINTR, or
 * hmm_range_fault()'s.
 */
int shpt_snap_range(struct shpt_mirror *m, unsigned long start,
		    unsigned long end, struct shpt_range_result *r, bool verify)
{
	struct shpt_snap s = { .pud_vpn = ~0ULL };
	int ret = 0;

	s.pfns = kvmalloc_array(SHPT_CHUNK_PAGES, sizeof(*s.pfns), GFP_KERNEL);
	if (!s.pfns)
		return -ENOMEM;
	while (start < end) {
		ret = shpt_snap_chunk(m, &s, start, end, r, verify);
		if (ret == -EAGAIN && !verify) {
			r->missing += (s.end - s.start) >> PAGE_SHIFT;
			ret = 0;
		}
		if (ret < 0)
			break;
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
 * @r: out: pages seen (checked), entries inserted, retries, pages of
 *	chunks skipped because they kept changing (missing); added to
 *
 * Nothing is faulted in.  A chunk that keeps changing is skipped, not an
 * error (DOC: Snapshots).
 *
 * Return: as shpt_snap_range(); never -EAGAIN.
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
	struct shpt_snap s = { .pfns = &hpfn, .pud_vpn = ~0ULL };
	struct shpt_range_result r = {};
	unsigned long fault = 0;
	int status = SHPT_LK_FILL;
	int ret;

again:
	ret = shpt_snapshot_lock(m, &m->notifier, &s, addr, addr + PAGE_SIZE,
				 fault, &r.retries);
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
	out->order = shpt_hpfn_order(hpfn);
	out->flags = shpt_entry_flags(hpfn, s.vm_flags, s.anon);
	return status;
}
