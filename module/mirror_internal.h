/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shpt: what the mirroring files share; not an API (mirror.h is).
 *
 *   mirror.c    a mirror's life: attach, detach, release, the notifier
 *               callback, lookup and populate, stats, init and exit
 *   access.c    who may attach
 *   index.c     each mirror's index of its own entries
 *   snapshot.c  hmm_range_fault() snapshots, for populate and fill
 *   verify.c    the shadow against the real page tables
 *
 * struct shpt_mirror and the lock rules that all of them follow (DOC: Lock
 * rules) are here; the coherence protocol is mirror.c's DOC: Coherence.
 */
#ifndef _SHPT_MIRROR_INTERNAL_H
#define _SHPT_MIRROR_INTERNAL_H

#include <linux/bits.h>
#include <linux/hmm.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/minmax.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "mirror.h"
#include "table.h"

struct pid;

/**
 * DOC: Lock rules
 *
 * shpt_mirrors_lock (mutex, mirror.c)
 *	links and unlinks mirrors: each mirror's @linked, what its ASID's
 *	slot in shpt_asids holds (the mirror while linked, a reservation
 *	after), each owner's list of its mirrors, and the per-user counts
 *	in shpt_users.  Unlinking under this
 *	lock is what decides who tears a mirror down: detach, fd close, the
 *	release work of a module-owned mirror and module exit each unlink
 *	first and tear down only what they unlinked, so a mirror is torn
 *	down exactly once.  No other shpt lock is taken under it.
 *	Finding a mirror by ASID takes no lock: xa_load() under RCU and
 *	kref_get_unless_zero(); a mirror is freed with kfree_rcu().
 *
 * shpt_mms (xarray, mirror.c)
 *	mm -> mirror, for the -EEXIST check; changed with xa_insert() and
 *	xa_cmpxchg() only (its own lock), and a mirror leaves it before its
 *	mm can be freed.
 *
 * mirror->op_sem (rw_semaphore)
 *	held for read by the operations that use the mirror (lookup,
 *	populate) and for write by verify (which must see no concurrent
 *	insert) and by shpt_mirror_drop_mm(), which takes @mm away and, in
 *	teardown, sets @gone.  After that no operation can start, so the
 *	notifier can be removed.
 *	Order: op_sem -> mmap_lock -> mirror->lock.
 *
 * mirror->lock (mutex)
 *	the lock the invalidate callback takes (as does the callback of
 *	each chunk notifier, snapshot.c: DOC: Snapshots).  Guards the
 *	ASID's entries in the table (every insert and remove of this ASID
 *	is done under it), their index (@idx4k, @idx2m), @dead and the
 *	per-mirror counters.
 *	Callbacks are called with mmap_lock held, from reclaim and with
 *	rmap locks held, so under mirror->lock: no GFP_KERNEL allocation
 *	(inserts and index updates use GFP_NOWAIT and a failure only leaves
 *	an entry missing), no mmap_lock, no mmu_interval_read_begin() and no
 *	mmu_interval_notifier_remove().
 *
 * Release (the process exits) vs detach vs fd close vs rmmod: the RELEASE
 * callback only marks the mirror dead, empties its ASID, under
 * mirror->lock, and queues the release work; it never frees anything.
 * The work gives the mm back at once (shpt_mirror_drop_mm(): the mirror
 * leaves shpt_mms, the notifier is removed, which drops its mmgrab), or,
 * for a module-owned mirror, detaches it.  Teardown (from whoever
 * unlinked the mirror) sets @gone under op_sem and drops the mm if the
 * work has not, then waits for a work still running, empties the ASID
 * under mirror->lock (a live mirror still has entries; a dead one has
 * none) and hands the mirror to the ASID reaper, which frees the ASID a
 * grace period later (mirror.c: DOC: ASID recycling) and drops the last
 * link reference.  Operations in flight hold a kref, and the @gone check
 * under op_sem turns them away.  Module exit tears the rest down and then
 * drains the work queue.
 */

#define SHPT_PMD_ORDER		(PMD_SHIFT - PAGE_SHIFT)
#define SHPT_PMD_PAGES		BIT(SHPT_PMD_ORDER)
/* A PUD-mapped (1 GiB hugetlb) page is one entry of this order. */
#define SHPT_PUD_ORDER		(PUD_SHIFT - PAGE_SHIFT)
#define SHPT_PUD_PAGES		BIT_ULL(SHPT_PUD_ORDER)
/*
 * @idx2m holds the order-SHPT_PUD_ORDER entries too, at this base plus
 * vpn >> SHPT_PUD_ORDER: above every vpn >> SHPT_PMD_ORDER, which is below
 * 2^36 even with 57-bit addresses (DOC: Entry index).
 */
#define SHPT_IDX1G_BASE		BIT(40)
/* The order-0 index maps 32 pages per xarray slot (DOC: Entry index). */
#define SHPT_IDX_SHIFT		5
#define SHPT_IDX_PAGES		BIT(SHPT_IDX_SHIFT)
/* Index slots visited between reschedules, where sleeping is allowed. */
#define SHPT_IDX_STEP		64

/**
 * struct shpt_mirror - one mirrored address space
 * @asid: address-space id, from shpt_asids; constant.  It returns to the
 *	pool only a grace period after teardown (DOC: ASID recycling).
 * @mm: the mirrored mm, pinned by the notifier's mmgrab(); set before the
 *	mirror is linked, cleared by shpt_mirror_drop_mm() under @op_sem held
 *	for write when the process exits or at teardown.  Read under @op_sem.
 *	NULL implies @dead or @gone, which every user checks first.
 * @mm_key: @mm's address, the mirror's index in shpt_mms; constant, never
 *	dereferenced
 * @pid_nr: the process's pid in the initial pid namespace at attach;
 *	constant.  No struct pid is held; the number may be reused once the
 *	process has exited.
 * @comm: the process's command name at attach; constant
 * @owner: the owning open file, NULL for the pid= parameter; constant
 * @uid: the attacher's real uid, charged in shpt_users while @charged;
 *	constant
 * @charged: counted against @uid's max_user_mirrors; shpt_mirrors_lock
 * @node: link in a private list of the thread that unlinked the mirror
 * @owner_node: link in @owner's list while @linked; shpt_mirrors_lock
 * @reap_node: link in the ASID reaper's list, after teardown
 * @linked: findable in shpt_asids; shpt_mirrors_lock.  Whoever clears it
 *	tears the mirror down.
 * @ref: references: one for the link (then for the ASID reaper), one per
 *	operation, one for a queued release work
 * @rcu: for kfree_rcu(): lookups by ASID run under RCU
 * @notifier: whole-space interval notifier
 * @op_sem: see DOC: Lock rules
 * @gone: torn down; set under @op_sem held for write
 * @lock: the callback lock, see DOC: Lock rules
 * @dead: the process has exited, no more inserts; @lock (READ_ONCE
 *	readers hold @op_sem)
 * @entries: entries of @asid in the table; @lock (READ_ONCE readers)
 * @nr_pmd: how many of them are of order SHPT_PMD_ORDER; changed with
 *	WRITE_ONCE() under @lock where entries are inserted and removed
 *	(index.c).  Read without a lock by lookup, which skips the order-9
 *	probe while it reads 0: a lookup that races with the insert of
 *	such an entry may miss it anyway, and its miss then goes to the
 *	fill, which takes @lock.
 * @nr_pud: the same for order SHPT_PUD_ORDER, with the same rule
 * @fills: lookups resolved by a fill or fault; @lock
 * @invalidations: invalidate callbacks that ran; @lock
 * @inval_pages: pages they covered; @lock
 * @idx4k: order-0 entry index, vpn >> 5 -> value of a 32-page bitmap;
 *	changed and walked only under @lock (the xarray's own spinlock
 *	guards its internals).  See DOC: Entry index.
 * @idx2m: order-9 entry index, vpn >> 9 -> value 1; same rule as @idx4k
 * @release_work: after the process exits, gives the mm back, or detaches a
 *	module-owned mirror
 */
struct shpt_mirror {
	u64 asid;
	struct mm_struct *mm;
	unsigned long mm_key;
	pid_t pid_nr;
	char comm[TASK_COMM_LEN];
	struct shpt_mirror_owner *owner;
	kuid_t uid;
	bool charged;
	struct list_head node;
	struct list_head owner_node;
	struct llist_node reap_node;
	bool linked;
	struct kref ref;
	struct rcu_head rcu;
	struct mmu_interval_notifier notifier;
	struct rw_semaphore op_sem;
	bool gone;
	struct mutex lock;		/* the callback lock */
	bool dead;
	u64 entries;
	unsigned long nr_pmd;
	unsigned long nr_pud;
	u64 fills;
	u64 invalidations;
	u64 inval_pages;
	struct xarray idx4k;		/* @lock */
	struct xarray idx2m;		/* @lock */
	struct work_struct release_work;
};

/**
 * struct shpt_snap - a consistent snapshot of part of one VMA
 * @start: first address snapshotted
 * @end: end of the snapshot (exclusive); the caller continues from here
 * @vma_start: start of the VMA it lies in
 * @vma_end: end of that VMA
 * @vm_flags: that VMA's flags
 * @anon: vma_is_anonymous()
 * @pfns: hmm_range_fault() output, one per page of [@start, @end)
 * @pud_vpn: first page of the last order-18 entry met (populate inserts
 *	it once, verify counts it once); ~0 for none
 * @pud_pfn: its first pfn
 * @pud_stale: verify found it stale already
 */
struct shpt_snap {
	unsigned long start;
	unsigned long end;
	unsigned long vma_start;
	unsigned long vma_end;
	unsigned long vm_flags;
	bool anon;
	unsigned long *pfns;
	u64 pud_vpn;
	u64 pud_pfn;
	bool pud_stale;
};

/*
 * Module-wide counters, per CPU, defined in mirror.c and summed by
 * shpt_mirror_get_stats().  Written only by the owning CPU with
 * this_cpu_*(); the levels (@mirrors, @mirrors_mm, @attaches) are kept in
 * atomics and stay 0 here.
 */
DECLARE_PER_CPU(struct shpt_mirror_stats, shpt_mstats);
#define shpt_mstat_inc(field)		this_cpu_inc(shpt_mstats.field)
#define shpt_mstat_add(field, n)	this_cpu_add(shpt_mstats.field, n)

/* The table every mirror inserts into; set by shpt_mirror_init(). */
extern struct shpt_table *shpt_mtable;

/* The first and the last (inclusive) index slots of a VPN range. */
static inline void shpt_idx_span(u64 first, u64 last, unsigned int shift,
				 unsigned long *lo, unsigned long *hi)
{
	*lo = first >> shift;
	*hi = (last - 1) >> shift;
}

/* The bits of group @idx that lie in [first, last). */
static inline unsigned long shpt_idx_mask(unsigned long idx, u64 first,
					  u64 last)
{
	u64 base = (u64)idx << SHPT_IDX_SHIFT;
	unsigned int lo = max(first, base) - base;
	unsigned int hi = min(last, base + SHPT_IDX_PAGES) - base;

	return GENMASK(hi - 1, lo);
}

/* The pfn in an hmm_range_fault() output word (6.1 has no helper). */
static inline unsigned long shpt_hmm_pfn(unsigned long hpfn)
{
	return hpfn & ~HMM_PFN_FLAGS;
}

/* mirror.c */
struct shpt_mirror *shpt_mirror_get(u64 asid, struct shpt_mirror_owner *owner);
void shpt_mirror_put(struct shpt_mirror *m);
int shpt_check_range(unsigned long *start, unsigned long *end);

/* access.c */
int shpt_mirror_find_target(struct pid *pid, bool check_perm,
			    struct task_struct **taskp, struct mm_struct **mmp);

/* index.c */
bool shpt_mirror_insert(struct shpt_mirror *m, u64 vpn, u64 pfn,
			unsigned int order, u32 flags);
unsigned long shpt_mirror_remove_range(struct shpt_mirror *m,
				       unsigned long start, unsigned long end,
				       bool can_sleep);
unsigned long shpt_mirror_empty(struct shpt_mirror *m, bool can_sleep);
u64 shpt_mirror_index_bytes(struct shpt_mirror *m);

/* snapshot.c */
int shpt_snap_range(struct shpt_mirror *m, unsigned long start,
		    unsigned long end, struct shpt_range_result *r, bool verify);
unsigned int shpt_hpfn_order(unsigned long hpfn);
int shpt_populate_range(struct shpt_mirror *m, unsigned long start,
			unsigned long end, struct shpt_range_result *r);
int shpt_mirror_fill(struct shpt_mirror *m, u64 vpn, unsigned int lflags,
		     struct shpt_mapping *out);

/* verify.c */
void shpt_verify_snap(struct shpt_mirror *m, struct shpt_snap *s,
		      struct shpt_range_result *r);

#endif /* _SHPT_MIRROR_INTERNAL_H */
