// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: mirroring live address spaces into the shadow hashed page table.
 *
 * Attach, populate, fill on miss, invalidate, verify and detach.  The table
 * itself is table.c; the ioctls that call in here are chardev.c.
 */
#define pr_fmt(fmt) "shpt-mirror: " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hmm.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/rwsem.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/shpt.h>

#include "mirror.h"
#include "table.h"

/**
 * DOC: Coherence
 *
 * Each mirror registers one mmu_interval_notifier over [0, ULONG_MAX).  An
 * interval notifier, rather than a classic mmu_notifier, because it comes
 * with the sequence protocol that every path that inserts needs:
 *
 *   seq = mmu_interval_read_begin(); snapshot the real page tables with
 *   hmm_range_fault() under mmap_read_lock; then, under mirror->lock,
 *   insert only if !mmu_interval_read_retry(seq).
 *
 * The invalidate callback takes mirror->lock, calls mmu_interval_set_seq()
 * and removes the ASID's entries in the range before it returns, that is
 * before the core mm changes the PTEs.  So an insert either happens before
 * the callback (and the callback removes it) or after it (and then the
 * sequence check sees the new seq and the snapshot is thrown away).  A
 * snapshot older than an invalidation is never inserted, and once the
 * callback has returned no entry of the old translation is left: lookups
 * never return a stale translation, they can only miss.
 *
 * When the range is not blockable (the OOM reaper), the callback only
 * trylocks mirror->lock.  If a populate, fill or verify holds it, the
 * callback returns false: the core then returns -EAGAIN to the OOM reaper,
 * which leaves that VMA alone and retries a bounded number of times.  Nothing was changed, so
 * nothing is stale.  These refusals are counted (inval_busy).
 *
 * Cost: each mirror keeps an exact index of its own entries (DOC: Entry
 * index), so an invalidation visits only the index slots of the ASID that
 * overlap the range and removes each entry it finds with one
 * shpt_table_remove(): O(min(pages in range, entries of the ASID in
 * range)) table operations, never a sweep of the table nor a probe per
 * VPN, and it never sleeps.  munmap of a huge sparse reservation costs
 * what the reservation holds; exit (MMU_NOTIFY_RELEASE) costs the ASID's
 * entries, removes them all and marks the mirror dead.
 *
 * A shadow entry may be less permissive than the real PTE: a read fault
 * that later upgrades the PTE to writable (or a write fault that maps a
 * fresh page where none was) sends no invalidation.  The shadow then keeps
 * a read-only entry for a writable PTE; that is not stale, only
 * conservative, and VERIFY does not count it.
 */

/**
 * DOC: Lock rules
 *
 * shpt_mirrors_lock (mutex)
 *	protects shpt_mirrors and each mirror's @node.  Unlinking a mirror
 *	from the list under this lock is what decides who tears it down:
 *	detach, fd close, the release work and module exit each unlink
 *	first and tear down only what they unlinked, so a mirror is torn
 *	down exactly once.  No other shpt lock is taken under it.
 *
 * mirror->op_sem (rw_semaphore)
 *	held for read by the operations that use the mirror (lookup,
 *	populate) and for write by verify (which must see no concurrent
 *	insert) and by teardown, which sets @gone.  After that no operation
 *	can start, so the notifier can be removed.
 *	Order: op_sem -> mmap_lock -> mirror->lock.
 *
 * mirror->lock (mutex)
 *	the lock the invalidate callback takes.  Guards the ASID's entries in
 *	the table (every insert and remove of this ASID is done under it),
 *	their index (@idx4k, @idx2m), @dead and the per-mirror counters.
 *	Callbacks are called with mmap_lock held, from reclaim and with
 *	rmap locks held, so under mirror->lock: no GFP_KERNEL allocation
 *	(inserts and index updates use GFP_NOWAIT and a failure only leaves
 *	an entry missing), no mmap_lock, no mmu_interval_read_begin() and no
 *	mmu_interval_notifier_remove().
 *
 * Release (the process exits) vs detach vs fd close vs rmmod: the RELEASE
 * callback only marks the mirror dead and empties its ASID, under
 * mirror->lock; it never frees anything.  Teardown (from whoever unlinked
 * the mirror) sets @gone under op_sem, then mmu_interval_notifier_remove()
 * waits for callbacks in flight, then the ASID is emptied under
 * mirror->lock (a live mirror still has entries; a dead one has none),
 * and the last kref frees it: operations in flight hold a kref, and the
 * @gone check under op_sem turns them away.  A module-owned mirror whose
 * process exits is detached by a work item, because the callback cannot
 * remove its own notifier; module exit tears the rest down and then drains
 * the work queue.
 */

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
 * @idx2m, keyed by vpn >> 9: xa_mk_value(1) for each order-9 entry.
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
 *
 * Safety net: after RELEASE or teardown has removed every indexed entry,
 * @entries must be 0.  If it is not, the index lost entries (a bug); the
 * ASID is then swept from the table with shpt_table_remove_asid(), which
 * is counted in inval_sweeps and logged.  inval_sweeps therefore stays 0,
 * and the selftests assert it.
 */

#define SHPT_PMD_ORDER		(PMD_SHIFT - PAGE_SHIFT)
#define SHPT_PMD_PAGES		BIT(SHPT_PMD_ORDER)
/* A populate chunk is at most one PMD, so a THP is seen whole. */
#define SHPT_CHUNK_PAGES	SHPT_PMD_PAGES
/* Bound on snapshot retries (-EBUSY or a sequence collision) per chunk. */
#define SHPT_SNAP_RETRIES	32
/* The order-0 index maps 32 pages per xarray slot (DOC: Entry index). */
#define SHPT_IDX_SHIFT		5
#define SHPT_IDX_PAGES		BIT(SHPT_IDX_SHIFT)
/* Index updates happen under the callback lock: never sleep. */
#define SHPT_IDX_GFP		(GFP_NOWAIT | __GFP_NOWARN)
/* Index slots visited between reschedules, where sleeping is allowed. */
#define SHPT_IDX_STEP		64

static bool shpt_allow_user;
module_param_named(allow_user, shpt_allow_user, bool, 0644);
MODULE_PARM_DESC(allow_user,
		 "let a caller without CAP_SYS_PTRACE attach to its own dumpable processes (same real, effective and saved uids and gids); LSM ptrace policy is not consulted (default 0)");

static int shpt_target_pid;
module_param_named(pid, shpt_target_pid, int, 0444);
MODULE_PARM_DESC(pid,
		 "attach to this process (initial pid namespace) at load time and populate it; the mirror lives until rmmod or until the process exits (default 0: none)");

/**
 * struct shpt_mirror - one mirrored address space
 * @asid: address-space id; constant
 * @mm: the mirrored mm, mmgrab()ed for the mirror's life; constant
 * @pid: the process's pid, referenced; constant
 * @comm: the process's command name at attach; constant
 * @owner: the owning open file, NULL for the pid= parameter; constant
 * @node: link in shpt_mirrors, or in a private list of the thread that
 *	unlinked it; shpt_mirrors_lock while @linked
 * @linked: on shpt_mirrors; shpt_mirrors_lock.  Whoever clears it tears
 *	the mirror down.
 * @ref: references: one for the list, one per operation, one for a
 *	queued release work
 * @notifier: whole-space interval notifier
 * @op_sem: see DOC: Lock rules
 * @gone: torn down; set under @op_sem held for write
 * @lock: the callback lock, see DOC: Lock rules
 * @dead: the process has exited, no more inserts; @lock
 * @entries: entries of @asid in the table; @lock (READ_ONCE readers)
 * @fills: lookups resolved by a fill or fault; @lock
 * @invalidations: invalidate callbacks that ran; @lock
 * @inval_pages: pages they covered; @lock
 * @idx4k: order-0 entry index, vpn >> 5 -> value of a 32-page bitmap;
 *	changed and walked only under @lock (the xarray's own spinlock
 *	guards its internals).  See DOC: Entry index.
 * @idx2m: order-9 entry index, vpn >> 9 -> value 1; same rule as @idx4k
 * @release_work: detaches a module-owned mirror after its process exits
 */
struct shpt_mirror {
	u64 asid;
	struct mm_struct *mm;
	struct pid *pid;
	char comm[TASK_COMM_LEN];
	struct shpt_mirror_owner *owner;
	struct list_head node;
	bool linked;
	struct kref ref;
	struct mmu_interval_notifier notifier;
	struct rw_semaphore op_sem;
	bool gone;
	struct mutex lock;		/* the callback lock */
	bool dead;
	u64 entries;
	u64 fills;
	u64 invalidations;
	u64 inval_pages;
	struct xarray idx4k;		/* @lock */
	struct xarray idx2m;		/* @lock */
	struct work_struct release_work;
};

/*
 * Per-CPU counters, written only by the owning CPU with this_cpu_*(); the
 * levels (@mirrors, @attaches) are kept in atomics and stay 0 here.
 */
static DEFINE_PER_CPU(struct shpt_mirror_stats, shpt_mstats);
#define shpt_mstat_inc(field)		this_cpu_inc(shpt_mstats.field)
#define shpt_mstat_add(field, n)	this_cpu_add(shpt_mstats.field, n)

/* The table every mirror inserts into; set by shpt_mirror_init(). */
static struct shpt_table *shpt_mtable;

static DEFINE_MUTEX(shpt_mirrors_lock);
static LIST_HEAD(shpt_mirrors);			/* shpt_mirrors_lock */
static atomic64_t shpt_next_asid = ATOMIC64_INIT(0);
static atomic_t shpt_nr_mirrors = ATOMIC_INIT(0);
static atomic64_t shpt_nr_attaches = ATOMIC64_INIT(0);
static struct workqueue_struct *shpt_mirror_wq;

static const char * const shpt_event_names[SHPT_EV_NR] = {
	[MMU_NOTIFY_UNMAP]		= "unmap",
	[MMU_NOTIFY_CLEAR]		= "clear",
	[MMU_NOTIFY_PROTECTION_VMA]	= "protection_vma",
	[MMU_NOTIFY_PROTECTION_PAGE]	= "protection_page",
	[MMU_NOTIFY_SOFT_DIRTY]		= "soft_dirty",
	[MMU_NOTIFY_RELEASE]		= "release",
	[MMU_NOTIFY_MIGRATE]		= "migrate",
	[MMU_NOTIFY_EXCLUSIVE]		= "exclusive",
};

/**
 * shpt_event_name() - name of an invalidation event type
 * @ev: index into &shpt_mirror_stats.inval (an enum mmu_notifier_event)
 *
 * Return: a lower-case name such as "unmap"; "?" if @ev is out of range.
 */
const char *shpt_event_name(int ev)
{
	if (ev < 0 || ev >= SHPT_EV_NR)
		return "?";
	return shpt_event_names[ev];
}

static void shpt_mirror_free(struct kref *ref)
{
	struct shpt_mirror *m = container_of(ref, struct shpt_mirror, ref);

	/* Empty by now (teardown emptied them); frees nothing else. */
	xa_destroy(&m->idx4k);
	xa_destroy(&m->idx2m);
	mmdrop(m->mm);
	put_pid(m->pid);
	kfree(m);
}

static void shpt_mirror_put(struct shpt_mirror *m)
{
	kref_put(&m->ref, shpt_mirror_free);
}

/* The first and the last (inclusive) index slots of a VPN range. */
static void shpt_idx_span(u64 first, u64 last, unsigned int shift,
			  unsigned long *lo, unsigned long *hi)
{
	*lo = first >> shift;
	*hi = (last - 1) >> shift;
}

/*
 * Index @vpn, about to be inserted at @order (0 or SHPT_PMD_ORDER).
 * Return: 1 if this set its bit (undo with shpt_idx_clear() if the insert
 * fails), 0 if it was set already, or -ENOMEM.
 */
static int shpt_idx_set(struct shpt_mirror *m, u64 vpn, unsigned int order)
{
	unsigned long bit, bits = 0;
	void *old;

	lockdep_assert_held(&m->lock);
	if (order) {
		if (xa_load(&m->idx2m, vpn >> SHPT_PMD_ORDER))
			return 0;
		old = xa_store(&m->idx2m, vpn >> SHPT_PMD_ORDER, xa_mk_value(1),
			       SHPT_IDX_GFP);
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
		xa_erase(&m->idx2m, vpn >> SHPT_PMD_ORDER);
		return;
	}
	old = xa_load(&m->idx4k, vpn >> SHPT_IDX_SHIFT);
	if (old)
		shpt_idx_put_bits(m, vpn >> SHPT_IDX_SHIFT, xa_to_value(old) &
				  ~BIT(vpn & (SHPT_IDX_PAGES - 1)));
}

/* The bits of group @idx that lie in [first, last). */
static unsigned long shpt_idx_mask(unsigned long idx, u64 first, u64 last)
{
	u64 base = (u64)idx << SHPT_IDX_SHIFT;
	unsigned int lo = max(first, base) - base;
	unsigned int hi = min(last, base + SHPT_IDX_PAGES) - base;

	return GENMASK(hi - 1, lo);
}

static void shpt_mirror_sub_entries(struct shpt_mirror *m, unsigned long n)
{
	lockdep_assert_held(&m->lock);
	WRITE_ONCE(m->entries, m->entries > n ? m->entries - n : 0);
}

/*
 * Remove every entry of @m that overlaps VPNs [first, last), found through
 * the index, and its index bit.  Never sleeps unless @can_sleep.
 * Return: the number of table entries removed.
 */
static unsigned long shpt_idx_remove(struct shpt_mirror *m, u64 first,
				     u64 last, bool can_sleep)
{
	unsigned long idx, lo, hi, bits, todo, b, n = 0, steps = 0;
	void *entry;
	u64 base;

	lockdep_assert_held(&m->lock);
	shpt_idx_span(first, last, SHPT_PMD_ORDER, &lo, &hi);
	xa_for_each_range(&m->idx2m, idx, entry, lo, hi) {
		n += shpt_table_remove(shpt_mtable, m->asid,
				       (u64)idx << SHPT_PMD_ORDER,
				       SHPT_PMD_ORDER);
		xa_erase(&m->idx2m, idx);
		if (can_sleep && !(++steps % SHPT_IDX_STEP))
			cond_resched();
	}
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

/*
 * Remove the entries of @m in [start, end) (bytes, clamped to the VPN
 * space).  Return: the number removed.
 */
static unsigned long shpt_mirror_remove_range(struct shpt_mirror *m,
					      unsigned long start,
					      unsigned long end, bool can_sleep)
{
	u64 first = start >> PAGE_SHIFT;
	u64 last = ((end - 1) >> PAGE_SHIFT) + 1;

	if (last > SHPT_VPN_MAX + 1)
		last = SHPT_VPN_MAX + 1;
	if (first >= last)
		return 0;
	return shpt_idx_remove(m, first, last, can_sleep);
}

/*
 * Remove every entry of @m and free its index.  If @m->entries is not 0
 * afterwards the index had lost entries (a bug): sweep them out of the
 * table so that none can outlive the mirror, and count the sweep.
 * Return: the number of entries removed.
 */
static unsigned long shpt_mirror_empty(struct shpt_mirror *m, bool can_sleep)
{
	unsigned long n, lost;

	n = shpt_idx_remove(m, 0, SHPT_VPN_MAX + 1, can_sleep);
	if (m->entries) {
		lost = shpt_table_remove_asid(shpt_mtable, m->asid);
		shpt_mstat_inc(inval_sweeps);
		pr_err("asid %llu: %llu entries missing from the index, %lu swept\n",
		       m->asid, m->entries, lost);
		WRITE_ONCE(m->entries, 0);
		n += lost;
	}
	xa_destroy(&m->idx4k);
	xa_destroy(&m->idx2m);
	return n;
}

static bool shpt_mirror_invalidate(struct mmu_interval_notifier *mni,
				   const struct mmu_notifier_range *range,
				   unsigned long cur_seq)
{
	struct shpt_mirror *m = container_of(mni, struct shpt_mirror, notifier);
	bool release = range->event == MMU_NOTIFY_RELEASE;
	bool blockable = mmu_notifier_range_blockable(range);
	unsigned long pages = 0, n;

	if (range->event < SHPT_EV_NR)
		shpt_mstat_inc(inval[range->event]);
	/*
	 * Exit tears the whole space down with one UNMAP over [0, ULONG_MAX);
	 * counting its 2^44 "pages" would drown every real figure, so only
	 * the event is counted for it.
	 */
	if (!release && range->end != ULONG_MAX && range->start < TASK_SIZE_MAX) {
		pages = (min(range->end, TASK_SIZE_MAX) - range->start) >>
			PAGE_SHIFT;
		shpt_mstat_add(inval_pages, pages);
	}

	if (blockable) {
		mutex_lock(&m->lock);
	} else if (!mutex_trylock(&m->lock)) {
		shpt_mstat_inc(inval_busy);
		return false;
	}

	mmu_interval_set_seq(mni, cur_seq);
	if (release) {
		n = shpt_mirror_empty(m, blockable);
		m->dead = true;
		/* The list's reference keeps @m alive until the work runs. */
		if (!m->owner) {
			kref_get(&m->ref);
			if (!queue_work(shpt_mirror_wq, &m->release_work))
				kref_put(&m->ref, shpt_mirror_free);
		}
	} else {
		n = shpt_mirror_remove_range(m, range->start, range->end,
					     blockable);
	}
	shpt_mstat_add(inval_entries, n);
	WRITE_ONCE(m->invalidations, m->invalidations + 1);
	WRITE_ONCE(m->inval_pages, m->inval_pages + pages);
	mutex_unlock(&m->lock);
	return true;
}

static const struct mmu_interval_notifier_ops shpt_mirror_notifier_ops = {
	.invalidate = shpt_mirror_invalidate,
};

/* The pfn in an hmm_range_fault() output word (6.1 has no helper). */
static inline unsigned long shpt_hmm_pfn(unsigned long hpfn)
{
	return hpfn & ~HMM_PFN_FLAGS;
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

/*
 * Insert or refresh one entry of @m, at order 0 or SHPT_PMD_ORDER.  Called
 * with @m->lock held, so only GFP_NOWAIT allocations; a failure leaves the
 * entry missing, which is allowed.  The index first: an entry in the table
 * must never be missing from it (DOC: Entry index).
 * Return: true if the entry is in the table.
 */
static bool shpt_mirror_insert(struct shpt_mirror *m, u64 vpn, u64 pfn,
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
	if (ret == 0)	/* new, not a replace */
		WRITE_ONCE(m->entries, m->entries + 1);
	return true;
}

/**
 * struct shpt_snap - a consistent snapshot of part of one VMA
 * @start: first address snapshotted
 * @end: end of the snapshot (exclusive); the caller continues from here
 * @vma_start: start of the VMA it lies in
 * @vma_end: end of that VMA
 * @vm_flags: that VMA's flags
 * @anon: vma_is_anonymous()
 * @pfns: hmm_range_fault() output, one per page of [@start, @end)
 */
struct shpt_snap {
	unsigned long start;
	unsigned long end;
	unsigned long vma_start;
	unsigned long vma_end;
	unsigned long vm_flags;
	bool anon;
	unsigned long *pfns;
};

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

/* Look an entry up at order 0 and then as part of a PMD entry. */
static bool shpt_mirror_find(struct shpt_mirror *m, u64 vpn,
			     struct shpt_mapping *out)
{
	u64 base = vpn & ~(u64)(SHPT_PMD_PAGES - 1);

	if (shpt_table_lookup(shpt_mtable, m->asid, vpn, 0, out))
		return true;
	return shpt_table_lookup(shpt_mtable, m->asid, base, SHPT_PMD_ORDER,
				 out);
}

/*
 * Find the mirror @asid that @owner may use and take a reference.
 * Module-owned mirrors (owner NULL) may be used by CAP_SYS_ADMIN; they can
 * be detached only by their owner, the module.
 */
static struct shpt_mirror *shpt_mirror_get(u64 asid,
					   struct shpt_mirror_owner *owner)
{
	struct shpt_mirror *m, *found = NULL;

	mutex_lock(&shpt_mirrors_lock);
	list_for_each_entry(m, &shpt_mirrors, node) {
		if (m->asid != asid)
			continue;
		if (m->owner == owner ||
		    (!m->owner && capable(CAP_SYS_ADMIN))) {
			kref_get(&m->ref);
			found = m;
		}
		break;
	}
	mutex_unlock(&shpt_mirrors_lock);
	return found;
}

/*
 * Start an operation on @m: hold op_sem for read and an mmget.
 * Return: 0, -ENOENT if torn down, -ESRCH if the process has exited.
 */
static int shpt_mirror_op_begin(struct shpt_mirror *m, bool need_mm)
{
	down_read(&m->op_sem);
	if (m->gone) {
		up_read(&m->op_sem);
		return -ENOENT;
	}
	if (need_mm && (READ_ONCE(m->dead) || !mmget_not_zero(m->mm))) {
		up_read(&m->op_sem);
		return -ESRCH;
	}
	return 0;
}

static void shpt_mirror_op_end(struct shpt_mirror *m, bool need_mm)
{
	/* mmput() may run exit_mmap() and our RELEASE callback: no lock held. */
	if (need_mm)
		mmput(m->mm);
	up_read(&m->op_sem);
}

static void shpt_verify_snap(struct shpt_mirror *m, const struct shpt_snap *s,
			     struct shpt_range_result *r);

/*
 * Snapshot [start, end) chunk by chunk; insert each locked snapshot into
 * the shadow, or with @verify compare the shadow with it; then unlock.
 */
static int shpt_snap_range(struct shpt_mirror *m, unsigned long start,
			   unsigned long end, struct shpt_range_result *r,
			   bool verify)
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

static int shpt_populate_range(struct shpt_mirror *m, unsigned long start,
			       unsigned long end, struct shpt_range_result *r)
{
	return shpt_snap_range(m, start, end, r, false);
}

static void shpt_mirror_teardown(struct shpt_mirror *m, bool from_work)
{
	down_write(&m->op_sem);
	m->gone = true;
	up_write(&m->op_sem);

	/* Waits for callbacks in flight; none run after it. */
	mmu_interval_notifier_remove(&m->notifier);

	mutex_lock(&m->lock);
	m->dead = true;
	shpt_mirror_empty(m, true);
	mutex_unlock(&m->lock);

	if (!from_work && cancel_work_sync(&m->release_work))
		shpt_mirror_put(m);	/* the queued work's reference */
	atomic_dec(&shpt_nr_mirrors);
	pr_debug("asid %llu detached\n", m->asid);
	shpt_mirror_put(m);		/* the list's reference */
}

/* Unlink @m if it is still linked.  Return: true if this call unlinked. */
static bool shpt_mirror_unlink(struct shpt_mirror *m)
{
	bool linked;

	mutex_lock(&shpt_mirrors_lock);
	linked = m->linked;
	if (linked) {
		list_del_init(&m->node);
		m->linked = false;
	}
	mutex_unlock(&shpt_mirrors_lock);
	return linked;
}

static void shpt_mirror_release_work(struct work_struct *work)
{
	struct shpt_mirror *m = container_of(work, struct shpt_mirror,
					     release_work);

	if (shpt_mirror_unlink(m)) {
		pr_info("asid %llu: process %s exited, detached\n", m->asid,
			m->comm);
		shpt_mirror_teardown(m, true);
	}
	shpt_mirror_put(m);
}

/* The uid half of ptrace's rule: same ids throughout, and dumpable. */
static bool shpt_same_user(const struct cred *c, const struct cred *t,
			   struct mm_struct *mm)
{
	return uid_eq(c->uid, t->uid) && uid_eq(c->uid, t->euid) &&
	       uid_eq(c->uid, t->suid) && uid_eq(c->euid, c->uid) &&
	       uid_eq(c->suid, c->uid) && gid_eq(c->gid, t->gid) &&
	       gid_eq(c->gid, t->egid) && gid_eq(c->gid, t->sgid) &&
	       gid_eq(c->egid, c->gid) && gid_eq(c->sgid, c->gid) &&
	       get_dumpable(mm) == SUID_DUMP_USER;
}

static int shpt_may_attach(struct task_struct *task, struct mm_struct *mm)
{
	const struct cred *tcred = get_task_cred(task);
	int ret = -EPERM;

	if (ns_capable(tcred->user_ns, CAP_SYS_PTRACE))
		ret = 0;
	else if (READ_ONCE(shpt_allow_user) &&
		 shpt_same_user(current_cred(), tcred, mm))
		ret = 0;
	put_cred(tcred);
	return ret;
}

/* Find the target's task and mm.  Return: 0 or a user-visible errno. */
static int shpt_mirror_find_target(struct pid *pid, bool check_perm,
				   struct task_struct **taskp,
				   struct mm_struct **mmp)
{
	struct task_struct *task;
	struct mm_struct *mm;
	int ret;

	task = get_pid_task(pid, PIDTYPE_PID);
	if (!task)
		return -ESRCH;
	ret = -EINVAL;
	if (task->flags & PF_KTHREAD)
		goto out_put_task;
	ret = -ESRCH;
	if (task->flags & PF_EXITING)
		goto out_put_task;
	mm = get_task_mm(task);
	if (!mm)
		goto out_put_task;
	ret = check_perm ? shpt_may_attach(task, mm) : 0;
	if (ret)
		goto out_put_mm;
	*taskp = task;
	*mmp = mm;
	return 0;

out_put_mm:
	mmput(mm);
out_put_task:
	put_task_struct(task);
	return ret;
}

static struct shpt_mirror *shpt_mirror_alloc(struct task_struct *task,
					     struct mm_struct *mm,
					     struct pid *pid,
					     struct shpt_mirror_owner *owner)
{
	struct shpt_mirror *m;
	u64 asid;

	asid = atomic64_inc_return(&shpt_next_asid);
	if (asid > SHPT_ASID_MAX) {
		atomic64_set(&shpt_next_asid, SHPT_ASID_MAX);
		return ERR_PTR(-ENOSPC);
	}
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->asid = asid;
	m->mm = mm;
	mmgrab(mm);
	m->pid = get_pid(pid);
	get_task_comm(m->comm, task);
	m->owner = owner;
	INIT_LIST_HEAD(&m->node);
	kref_init(&m->ref);
	init_rwsem(&m->op_sem);
	mutex_init(&m->lock);
	xa_init(&m->idx4k);
	xa_init(&m->idx2m);
	INIT_WORK(&m->release_work, shpt_mirror_release_work);
	return m;
}

/*
 * Link @m unless its mm is mirrored already, and take a reference for the
 * caller (the list's reference may be dropped by a concurrent teardown as
 * soon as the lock is released).  Return: 0 or -EEXIST.
 */
static int shpt_mirror_link(struct shpt_mirror *m)
{
	struct shpt_mirror *o;

	mutex_lock(&shpt_mirrors_lock);
	list_for_each_entry(o, &shpt_mirrors, node) {
		if (o->mm == m->mm) {
			mutex_unlock(&shpt_mirrors_lock);
			return -EEXIST;
		}
	}
	list_add_tail(&m->node, &shpt_mirrors);
	m->linked = true;
	kref_get(&m->ref);
	atomic_inc(&shpt_nr_mirrors);
	mutex_unlock(&shpt_mirrors_lock);
	return 0;
}

static int shpt_mirror_populate_new(struct shpt_mirror *m)
{
	struct shpt_range_result r = {};
	int ret;

	ret = shpt_mirror_op_begin(m, true);
	if (ret)
		return ret;
	ret = shpt_populate_range(m, 0, TASK_SIZE_MAX, &r);
	shpt_mirror_op_end(m, true);
	pr_debug("asid %llu: populated %llu entries, %llu retries\n", m->asid,
		 r.inserted, r.retries);
	return ret;
}

/**
 * shpt_mirror_attach() - mirror a process
 * @nr: pid in the caller's pid namespace (> 0)
 * @flags: SHPT_ATTACH_* bits (already validated)
 * @owner: the owning file, or NULL for a module-owned mirror (the pid=
 *	parameter: no permission check, the loader is root)
 * @asid: out: the new ASID
 *
 * Permission: CAP_SYS_PTRACE in the target's user namespace, or, with
 * allow_user=1, the same real/effective/saved uids and gids as a target
 * whose mm is dumpable.  LSM ptrace policy (Yama, SELinux) is not
 * consulted: ptrace_may_access() is not exported to modules.
 *
 * Return: 0, or -EINVAL (pid <= 0, kernel thread), -ESRCH (no such pid,
 * exiting or zombie), -EPERM, -EEXIST (that mm is mirrored already),
 * -ENOSPC (ASIDs used up), -ENOMEM, or a populate error.
 */
int shpt_mirror_attach(pid_t nr, unsigned int flags,
		       struct shpt_mirror_owner *owner, u64 *asid)
{
	struct task_struct *task;
	struct shpt_mirror *m;
	struct mm_struct *mm;
	struct pid *pid;
	int ret;

	if (nr <= 0)
		return -EINVAL;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	ret = shpt_mirror_find_target(pid, !!owner, &task, &mm);
	if (ret)
		goto out_put_pid;

	m = shpt_mirror_alloc(task, mm, pid, owner);
	put_task_struct(task);
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_put_mm;
	}
	/* Insertion needs the mmget that get_task_mm() gave us. */
	ret = mmu_interval_notifier_insert(&m->notifier, mm, 0, ULONG_MAX,
					   &shpt_mirror_notifier_ops);
	if (ret)
		goto out_free;
	ret = shpt_mirror_link(m);
	if (ret)
		goto out_remove_notifier;
	mmput(mm);
	mm = NULL;
	atomic64_inc(&shpt_nr_attaches);

	if (flags & SHPT_ATTACH_POPULATE) {
		ret = shpt_mirror_populate_new(m);
		if (ret && shpt_mirror_unlink(m))
			shpt_mirror_teardown(m, false);
	}
	if (!ret)
		*asid = m->asid;
	shpt_mirror_put(m);	/* shpt_mirror_link()'s reference */
	put_pid(pid);
	return ret;

out_remove_notifier:
	mmu_interval_notifier_remove(&m->notifier);
	mutex_lock(&m->lock);
	shpt_mirror_empty(m, true);	/* nothing was inserted: a no-op */
	mutex_unlock(&m->lock);
	/* A RELEASE callback may have queued the work (module-owned only). */
	if (cancel_work_sync(&m->release_work))
		shpt_mirror_put(m);
out_free:
	shpt_mirror_put(m);
out_put_mm:
	if (mm)
		mmput(mm);
out_put_pid:
	put_pid(pid);
	return ret;
}

/**
 * shpt_mirror_detach() - stop mirroring
 * @asid: the mirror
 * @owner: the caller's file; only the owner may detach
 *
 * Waits for operations on the mirror and for invalidate callbacks in
 * flight, then removes all of the ASID's entries.
 *
 * Return: 0, or -ENOENT if @owner has no mirror @asid (unknown, detached
 * already, or someone else's).
 */
int shpt_mirror_detach(u64 asid, struct shpt_mirror_owner *owner)
{
	struct shpt_mirror *m, *found = NULL;

	if (!owner)
		return -ENOENT;
	mutex_lock(&shpt_mirrors_lock);
	list_for_each_entry(m, &shpt_mirrors, node) {
		if (m->asid == asid && m->owner == owner) {
			list_del_init(&m->node);
			m->linked = false;
			found = m;
			break;
		}
	}
	mutex_unlock(&shpt_mirrors_lock);
	if (!found)
		return -ENOENT;
	shpt_mirror_teardown(found, false);
	return 0;
}

/* Unlink every mirror of @owner (NULL: every mirror) and tear it down. */
static void shpt_mirror_detach_all(struct shpt_mirror_owner *owner, bool all)
{
	struct shpt_mirror *m, *tmp;
	LIST_HEAD(dead);

	mutex_lock(&shpt_mirrors_lock);
	list_for_each_entry_safe(m, tmp, &shpt_mirrors, node) {
		if (all || m->owner == owner) {
			list_move_tail(&m->node, &dead);
			m->linked = false;
		}
	}
	mutex_unlock(&shpt_mirrors_lock);

	/* Unlinked: @dead is ours alone. */
	list_for_each_entry_safe(m, tmp, &dead, node) {
		list_del_init(&m->node);
		shpt_mirror_teardown(m, false);
	}
}

/**
 * shpt_mirror_detach_owner() - detach every mirror of a closing file
 * @owner: the file's owner token
 */
void shpt_mirror_detach_owner(struct shpt_mirror_owner *owner)
{
	shpt_mirror_detach_all(owner, false);
}

static int shpt_check_addr(u64 addr)
{
	if (addr & ~PAGE_MASK || addr >= TASK_SIZE_MAX)
		return -EINVAL;
	return 0;
}

/* Resolve a miss on @vpn.  Return: SHPT_LK_* or a negative errno. */
static int shpt_mirror_fill(struct shpt_mirror *m, u64 vpn, unsigned int lflags,
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

static void shpt_count_lookup(int status)
{
	shpt_mstat_inc(lookups);
	if (status == SHPT_LK_HIT) {
		shpt_mstat_inc(hits);
		return;
	}
	shpt_mstat_inc(misses);
	if (status == SHPT_LK_FILL)
		shpt_mstat_inc(fills);
	else if (status == SHPT_LK_FAULT)
		shpt_mstat_inc(faults);
}

/**
 * shpt_mirror_lookup() - translate a batch of addresses
 * @asid: the mirror
 * @owner: the caller's file
 * @addrs: @count page-aligned user addresses (kernel copy)
 * @res: @count results, filled in
 * @count: 1..SHPT_LOOKUP_MAX (checked by the caller)
 * @flags: SHPT_LOOKUP_* bits
 * @show_pfn: report pfns (the caller has CAP_SYS_ADMIN); else 0
 *
 * Every address is checked before any is looked up.  A hit is an RCU
 * lookup at order 0, then at order 9 (pfn = entry pfn + offset).  A miss
 * is filled from a snapshot of that one page unless SHPT_LOOKUP_NOFILL;
 * with SHPT_LOOKUP_FAULT an absent page is read-faulted in first.
 *
 * Return: 0, -EINVAL (an address unaligned or not below TASK_SIZE_MAX),
 * -ENOENT (no such mirror for @owner), -ESRCH (the process has exited),
 * -EAGAIN (a fill kept colliding with invalidations), -EINTR.
 */
int shpt_mirror_lookup(u64 asid, struct shpt_mirror_owner *owner,
		       const u64 *addrs, struct shpt_lookup_result *res,
		       unsigned int count, unsigned int flags, bool show_pfn)
{
	bool nofill = flags & SHPT_LOOKUP_NOFILL;
	struct shpt_mapping map;
	struct shpt_mirror *m;
	unsigned int i;
	int ret, st;

	/* Entry flags and result flags are the same bits. */
	BUILD_BUG_ON((SHPT_F_VALID ^ SHPT_PF_VALID) |
		     (SHPT_F_WRITE ^ SHPT_PF_WRITE) |
		     (SHPT_F_READ ^ SHPT_PF_READ) |
		     (SHPT_F_EXEC ^ SHPT_PF_EXEC) |
		     (SHPT_F_ANON ^ SHPT_PF_ANON) |
		     (SHPT_F_SHARED ^ SHPT_PF_SHARED) |
		     (SHPT_F_COW ^ SHPT_PF_COW));
	for (i = 0; i < count; i++)
		if (shpt_check_addr(addrs[i]))
			return -EINVAL;
	m = shpt_mirror_get(asid, owner);
	if (!m)
		return -ENOENT;
	ret = shpt_mirror_op_begin(m, !nofill);
	if (ret)
		goto out_put;
	ret = READ_ONCE(m->dead) ? -ESRCH : 0;

	for (i = 0; i < count && !ret; i++) {
		u64 vpn = addrs[i] >> PAGE_SHIFT;

		memset(&res[i], 0, sizeof(res[i]));
		if (shpt_mirror_find(m, vpn, &map)) {
			st = SHPT_LK_HIT;
			map.pfn += vpn & ((1ULL << map.order) - 1);
		} else if (nofill) {
			shpt_mstat_inc(lookups);
			shpt_mstat_inc(misses);
			shpt_mstat_inc(nofill);
			continue;
		} else {
			/* A fill reports the pfn of the page itself. */
			st = shpt_mirror_fill(m, vpn, flags, &map);
			if (st < 0) {
				ret = st;
				break;
			}
			cond_resched();
		}
		shpt_count_lookup(st);
		if (st == SHPT_LK_NONE) {
			shpt_mstat_inc(not_present);
			continue;
		}
		res[i].status = st;
		res[i].pfn = show_pfn ? map.pfn : 0;
		res[i].flags = map.flags;
		res[i].order = map.order;
	}
	shpt_mirror_op_end(m, !nofill);
out_put:
	shpt_mirror_put(m);
	return ret;
}

static int shpt_check_range(unsigned long *start, unsigned long *end)
{
	if (!*start && !*end) {
		*end = TASK_SIZE_MAX;
		return 0;
	}
	if (*start & ~PAGE_MASK || *end & ~PAGE_MASK || *start >= *end ||
	    *end > TASK_SIZE_MAX)
		return -EINVAL;
	return 0;
}

/**
 * shpt_mirror_populate() - snapshot present pages into the shadow
 * @asid: the mirror
 * @owner: the caller's file
 * @start: first address (page aligned); 0 with @end 0 means everything
 * @end: end address (exclusive)
 * @r: out: pages seen (checked), entries inserted, retries
 *
 * Nothing is faulted in.  Each chunk (one VMA, at most one PMD) follows
 * the read_begin / hmm_range_fault / read_retry protocol.
 *
 * Return: 0, -EINVAL (bad range), -ENOENT, -ESRCH (exited), -EAGAIN
 * (retries ran out; what was inserted is correct), -EINTR, -ENOMEM.
 */
int shpt_mirror_populate(u64 asid, struct shpt_mirror_owner *owner,
			 unsigned long start, unsigned long end,
			 struct shpt_range_result *r)
{
	struct shpt_mirror *m;
	int ret;

	ret = shpt_check_range(&start, &end);
	if (ret)
		return ret;
	m = shpt_mirror_get(asid, owner);
	if (!m)
		return -ENOENT;
	ret = shpt_mirror_op_begin(m, true);
	if (!ret) {
		ret = shpt_populate_range(m, start, end, r);
		shpt_mirror_op_end(m, true);
	}
	shpt_mirror_put(m);
	return ret;
}

/* Compare the shadow with one locked snapshot. */
static void shpt_verify_snap(struct shpt_mirror *m, const struct shpt_snap *s,
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
 * address space is verified, an entry the index lost (DOC: Entry index).
 * A read-only entry for a writable PTE is not stale (see DOC: Coherence).
 * On a dead mirror it reports the entries left as stale (0 unless buggy).
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

/**
 * shpt_mirror_get_stats() - sum the module-wide mirroring counters
 * @s: out
 */
void shpt_mirror_get_stats(struct shpt_mirror_stats *s)
{
	u64 *sum = (u64 *)s;
	unsigned int i;
	int cpu;

	/* Summed word by word: the struct is nothing but u64 counters. */
	BUILD_BUG_ON(sizeof(*s) % sizeof(u64));
	memset(s, 0, sizeof(*s));
	for_each_possible_cpu(cpu) {
		const u64 *p = (const u64 *)per_cpu_ptr(&shpt_mstats, cpu);

		for (i = 0; i < sizeof(*s) / sizeof(u64); i++)
			sum[i] += READ_ONCE(p[i]);
	}
	s->mirrors = atomic_read(&shpt_nr_mirrors);
	s->attaches = atomic64_read(&shpt_nr_attaches);
}

/**
 * shpt_mirror_reset_stats() - zero the module-wide mirroring counters
 *
 * Not atomic with respect to concurrent increments, which may be lost;
 * @mirrors and @attaches are not reset.
 */
void shpt_mirror_reset_stats(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&shpt_mstats, cpu), 0,
		       sizeof(struct shpt_mirror_stats));
}

/**
 * shpt_mirror_for_each() - visit every attached mirror
 * @fn: called once per mirror with a copy of its state; may sleep (it is
 *	called with a mutex held) but must not call back into mirror.c
 * @arg: passed to @fn
 */
void shpt_mirror_for_each(void (*fn)(const struct shpt_mirror_info *info,
				     void *arg),
			  void *arg)
{
	struct shpt_mirror_info info;
	struct shpt_mirror *m;

	mutex_lock(&shpt_mirrors_lock);
	list_for_each_entry(m, &shpt_mirrors, node) {
		memset(&info, 0, sizeof(info));
		info.asid = m->asid;
		info.pid = pid_nr(m->pid);
		memcpy(info.comm, m->comm, sizeof(info.comm));
		info.entries = READ_ONCE(m->entries);
		info.fills = READ_ONCE(m->fills);
		info.invalidations = READ_ONCE(m->invalidations);
		info.inval_pages = READ_ONCE(m->inval_pages);
		info.dead = READ_ONCE(m->dead);
		info.module_owned = !m->owner;
		fn(&info, arg);
	}
	mutex_unlock(&shpt_mirrors_lock);
}

/**
 * shpt_mirror_init() - set up mirroring, and attach the pid= target
 * @table: the global table every mirror inserts into; it must outlive
 *	shpt_mirror_exit()
 *
 * Return: 0, -ENOMEM, or the attach error for pid= (-EINVAL, -ESRCH, ...),
 * after a message in the kernel log.
 */
int shpt_mirror_init(struct shpt_table *table)
{
	u64 asid;
	int ret;

	shpt_mtable = table;
	shpt_mirror_wq = alloc_workqueue("shpt_mirror", 0, 0);
	if (!shpt_mirror_wq)
		return -ENOMEM;
	if (!shpt_target_pid)
		return 0;

	ret = shpt_mirror_attach(shpt_target_pid, SHPT_ATTACH_POPULATE, NULL,
				 &asid);
	if (ret) {
		pr_err("pid=%d: cannot attach: %s (%d)\n", shpt_target_pid,
		       ret == -ESRCH ? "no such process, or it is exiting" :
		       ret == -EINVAL ? "invalid pid or kernel thread" :
		       "attach failed", ret);
		destroy_workqueue(shpt_mirror_wq);
		return ret;
	}
	pr_info("pid=%d: attached as asid %llu\n", shpt_target_pid, asid);
	return 0;
}

/**
 * shpt_mirror_exit() - detach every mirror and wait for release work
 *
 * Called at module exit, when no file is open any more: only module-owned
 * mirrors can be left.
 */
void shpt_mirror_exit(void)
{
	shpt_mirror_detach_all(NULL, true);
	destroy_workqueue(shpt_mirror_wq);
	shpt_mirror_wq = NULL;
}
