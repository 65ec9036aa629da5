// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: a mirror's life.
 *
 * Attach, detach, fd close, the release work and module exit; the
 * invalidate callback; lookup and populate, the operations that run under
 * op_sem; the module-wide counters.  The rest of mirroring is split by
 * concern: access.c decides who may attach, index.c keeps the entry
 * index, snapshot.c takes snapshots for populate and fill, and verify.c
 * compares the shadow with the real page tables.  The table itself is
 * table.c; the ioctls that call in here are chardev.c.
 *
 * Locks: DOC: Lock rules (mirror_internal.h).  shpt_mirrors_lock is this
 * file's alone.  Teardown takes op_sem for write, then mirror->lock after
 * the notifier is removed; the invalidate callback takes only
 * mirror->lock, and only trylocks it when the range is not blockable.
 * Finding a mirror by ASID takes no lock (RCU).
 */
#define pr_fmt(fmt) "shpt-mirror: " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/shpt.h>

#include "mirror_internal.h"

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
 * Cost: each mirror keeps an exact index of its own entries (index.c: DOC:
 * Entry index), so an invalidation visits only the index slots of the ASID
 * that overlap the range and removes each entry it finds with one
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
 * DOC: ASID recycling
 *
 * ASIDs are a finite space (20 bits of the entry's key word, or the
 * asid_max parameter), so they are recycled, as CPUs recycle PCIDs.
 * shpt_asids, an allocating xarray (0 is never an ASID), hands them out
 * with xa_alloc_cyclic() and maps each one to its mirror, so that finding
 * a mirror by ASID is an RCU lookup.  A slot holds the mirror while it is
 * linked and a reservation (XA_ZERO_ENTRY) from unlink until the ASID is
 * freed.
 *
 * An ASID is freed only when no lookup can see a previous owner's entry
 * under it.  Teardown first stops every insert (@gone under op_sem: no
 * populate or fill is running or can start), removes the notifier (no
 * callback runs any more) and removes every entry of the ASID from the
 * table (the entry index, and the safety-net sweep behind it).  Each of
 * those entries was unlinked from its chain, and retired to the table's
 * graveyard, before teardown returned.  Only then is the mirror pushed onto
 * the ASID reaper's list; the reaper waits for a grace period that starts
 * after the push, then erases the slot.  A reader that could still hold a
 * pointer to one of the old entries found it inside an RCU read-side
 * section that began before the entry's unlink, so that section has ended
 * when synchronize_rcu() returns.  The next owner's lookups start after
 * xa_alloc_cyclic() returned the ASID, so after the grace period: the
 * chains they walk no longer lead to any old entry (an unlinked entry is
 * reachable only from entries unlinked before it, which no new reader
 * reaches either), and the graveyard is not walked by lookups at all.
 * Entries in the graveyard keep the old key until the table frees them
 * after its own grace period; that does not matter, because nothing finds
 * them.  A rehash moves only linked entries.
 *
 * One synchronize_rcu() is paid per batch of torn-down mirrors, in a
 * work item, so detach does not wait for it.  Cyclic allocation hands
 * out every other free ASID before a recycled one.  When the space is
 * full, attach waits for the reaper once (ASIDs waiting for their grace
 * period are not in use) and only then fails with -ENOSPC.  An attach that
 * fails before its mirror is linked frees its ASID at once: nothing was
 * ever inserted under it.
 */

static int shpt_target_pid;
module_param_named(pid, shpt_target_pid, int, 0444);
MODULE_PARM_DESC(pid,
		 "attach to this process (initial pid namespace) at load time and populate it; the mirror lives until rmmod or until the process exits (default 0: none)");

static unsigned int shpt_asid_max = SHPT_ASID_MAX;
module_param_named(asid_max, shpt_asid_max, uint, 0444);
MODULE_PARM_DESC(asid_max,
		 "largest ASID, 1..1048575 (default 1048575): at most this many mirrors exist at once; ASIDs are recycled");

static unsigned int shpt_max_user_mirrors = 64;
module_param_named(max_user_mirrors, shpt_max_user_mirrors, uint, 0644);
MODULE_PARM_DESC(max_user_mirrors,
		 "mirrors one real uid may have attached at once, dead ones included, over all its fds; attach fails with EMFILE beyond it (default 64, 0: no limit)");

/* See mirror_internal.h; summed by shpt_mirror_get_stats(). */
DEFINE_PER_CPU(struct shpt_mirror_stats, shpt_mstats);

struct shpt_table *shpt_mtable;

static DEFINE_MUTEX(shpt_mirrors_lock);
/* ASID -> mirror; see DOC: ASID recycling and DOC: Lock rules. */
static DEFINE_XARRAY_ALLOC1(shpt_asids);
static u32 shpt_asid_next;			/* shpt_asids' xa_lock */
/* mm address -> mirror, for -EEXIST; see DOC: Lock rules. */
static DEFINE_XARRAY(shpt_mms);
/* kuid -> xa_mk_value(mirrors charged to it); shpt_mirrors_lock. */
static DEFINE_XARRAY(shpt_users);
static atomic_t shpt_nr_mirrors = ATOMIC_INIT(0);
static atomic_t shpt_nr_mms = ATOMIC_INIT(0);	/* mirrors with an @mm */
static atomic64_t shpt_nr_attaches = ATOMIC64_INIT(0);
static struct workqueue_struct *shpt_mirror_wq;

/* Torn-down mirrors whose ASIDs wait for a grace period. */
static LLIST_HEAD(shpt_asid_graveyard);
static void shpt_asid_reap_worker(struct work_struct *work);
static DECLARE_WORK(shpt_asid_reap_work, shpt_asid_reap_worker);

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

	/* Empty by now (teardown emptied them); the mm went with the notifier. */
	xa_destroy(&m->idx4k);
	xa_destroy(&m->idx2m);
	/* shpt_mirror_get() may still be looking at @m under RCU. */
	kfree_rcu(m, rcu);
}

/**
 * shpt_mirror_put() - drop a reference to a mirror
 * @m: the mirror; the last reference frees it, after teardown has emptied
 *	its ASID
 */
void shpt_mirror_put(struct shpt_mirror *m)
{
	kref_put(&m->ref, shpt_mirror_free);
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
		WRITE_ONCE(m->dead, true);
		/*
		 * The work gives the mm back (it cannot be done here: the
		 * notifier cannot remove itself).  The link reference keeps
		 * @m alive until the work has its own.
		 */
		kref_get(&m->ref);
		if (!queue_work(shpt_mirror_wq, &m->release_work))
			kref_put(&m->ref, shpt_mirror_free);
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

/*
 * Look an entry up at order 0, then as part of a PMD and a PUD entry; an
 * order of which the mirror holds no entry is not probed (@nr_pmd,
 * @nr_pud).
 */
static bool shpt_mirror_find(struct shpt_mirror *m, u64 vpn,
			     struct shpt_mapping *out)
{
	if (shpt_table_lookup(shpt_mtable, m->asid, vpn, 0, out))
		return true;
	if (READ_ONCE(m->nr_pmd) &&
	    shpt_table_lookup(shpt_mtable, m->asid,
			      vpn & ~(u64)(SHPT_PMD_PAGES - 1), SHPT_PMD_ORDER,
			      out))
		return true;
	return READ_ONCE(m->nr_pud) &&
	       shpt_table_lookup(shpt_mtable, m->asid,
				 vpn & ~(SHPT_PUD_PAGES - 1), SHPT_PUD_ORDER,
				 out);
}

/*
 * Addresses whose hit phase is looked up together: one group of the
 * table's bulk pipeline (table.c: DOC: Bulk lookup), small enough for the
 * stack.
 */
#define SHPT_LOOKUP_CHUNK	16

/*
 * shpt_mirror_find() for @n <= SHPT_LOOKUP_CHUNK addresses at once: every
 * address at order 0 in one bulk lookup, then those that missed at the PMD
 * order, then at the PUD order, each order only if the mirror holds an
 * entry of it.  A key already found is passed as an invalid key (ASID 0),
 * which the table neither looks up nor counts, so @map[i] is written once.
 * Return: the bitmap of the addresses found; @map[i] holds their entries.
 */
static unsigned long shpt_mirror_find_bulk(struct shpt_mirror *m,
					   const u64 *addrs, unsigned int n,
					   struct shpt_mapping *map)
{
	static const unsigned int orders[] = {
		0, SHPT_PMD_ORDER, SHPT_PUD_ORDER,
	};
	struct shpt_key keys[SHPT_LOOKUP_CHUNK];
	unsigned long hit = 0, got;
	unsigned int i, o;

	BUILD_BUG_ON(SHPT_LOOKUP_CHUNK > BITS_PER_LONG);
	for (o = 0; o < ARRAY_SIZE(orders); o++) {
		if ((orders[o] == SHPT_PMD_ORDER && !READ_ONCE(m->nr_pmd)) ||
		    (orders[o] == SHPT_PUD_ORDER && !READ_ONCE(m->nr_pud)))
			continue;
		for (i = 0; i < n; i++) {
			keys[i].asid = hit & BIT(i) ? 0 : m->asid;
			keys[i].vpn = (addrs[i] >> PAGE_SHIFT) &
				      ~(BIT_ULL(orders[o]) - 1);
			keys[i].order = orders[o];
		}
		got = 0;	/* the table writes bits 0..n - 1 only */
		shpt_table_lookup_bulk(shpt_mtable, keys, n, map, &got);
		hit |= got;
		if (hit == GENMASK(n - 1, 0))
			break;
	}
	return hit;
}

/**
 * shpt_mirror_get() - find a mirror that a caller may use
 * @asid: the mirror's ASID
 * @owner: the caller's file
 *
 * Module-owned mirrors (owner NULL) may be used by CAP_SYS_ADMIN; they can
 * be detached only by their owner, the module.  Takes no lock: an RCU
 * lookup in shpt_asids (DOC: Lock rules).
 *
 * Return: the mirror, with a reference for the caller to drop with
 * shpt_mirror_put(); NULL if @owner may use no mirror @asid.
 */
struct shpt_mirror *shpt_mirror_get(u64 asid, struct shpt_mirror_owner *owner)
{
	struct shpt_mirror *m;

	if (!asid || asid > SHPT_ASID_MAX)
		return NULL;
	rcu_read_lock();
	m = xa_load(&shpt_asids, asid);
	/* An unlinked mirror may still be found; op_begin sees @gone. */
	if (m && ((m->owner && m->owner != owner) ||
		  !kref_get_unless_zero(&m->ref)))
		m = NULL;
	rcu_read_unlock();
	if (m && m->owner != owner && !capable(CAP_SYS_ADMIN)) {
		shpt_mirror_put(m);
		m = NULL;
	}
	return m;
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
	/* @mm is NULL only once @dead is set. */
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

/* Leave shpt_mms if @m is still what it holds for its mm. */
static void shpt_mms_forget(struct shpt_mirror *m)
{
	xa_cmpxchg(&shpt_mms, m->mm_key, m, NULL, 0);
}

/* Count a mirror against @uid.  Return: 0, -EMFILE or -ENOMEM. */
static int shpt_user_charge(kuid_t uid)
{
	unsigned int max = READ_ONCE(shpt_max_user_mirrors);
	unsigned long idx = __kuid_val(uid);
	unsigned long n = 0;
	void *old;

	lockdep_assert_held(&shpt_mirrors_lock);
	old = xa_load(&shpt_users, idx);
	if (old)
		n = xa_to_value(old);
	if (max && n >= max)
		return -EMFILE;
	old = xa_store(&shpt_users, idx, xa_mk_value(n + 1),
		       GFP_KERNEL_ACCOUNT);
	return xa_err(old);
}

static void shpt_user_uncharge(struct shpt_mirror *m)
{
	unsigned long idx = __kuid_val(m->uid);
	unsigned long n;

	lockdep_assert_held(&shpt_mirrors_lock);
	if (!m->charged)
		return;
	m->charged = false;
	n = xa_to_value(xa_load(&shpt_users, idx));
	if (n > 1)	/* overwrites a present slot: allocates nothing */
		xa_store(&shpt_users, idx, xa_mk_value(n - 1), GFP_KERNEL);
	else
		xa_erase(&shpt_users, idx);
}

/*
 * Give @m's mm back, once: take it away under op_sem (with @gone set if
 * @gone), so that no operation uses it any more, then leave shpt_mms,
 * remove the notifier (which waits for callbacks in flight and drops the
 * notifier's mmgrab) and empty the ASID.  Not from a notifier callback.
 */
static void shpt_mirror_drop_mm(struct shpt_mirror *m, bool gone)
{
	struct mm_struct *mm;

	down_write(&m->op_sem);
	if (gone)
		m->gone = true;
	mm = m->mm;
	if (mm) {
		/* @dead before @mm is NULL: see struct shpt_mirror. */
		mutex_lock(&m->lock);
		WRITE_ONCE(m->dead, true);
		mutex_unlock(&m->lock);
		WRITE_ONCE(m->mm, NULL);
	}
	up_write(&m->op_sem);
	if (!mm)
		return;

	atomic_dec(&shpt_nr_mms);
	/* Before the mm can be freed and its address reused. */
	shpt_mms_forget(m);
	/* Waits for callbacks in flight; none run after it. */
	mmu_interval_notifier_remove(&m->notifier);
	mutex_lock(&m->lock);
	shpt_mirror_empty(m, true);
	mutex_unlock(&m->lock);
}

/*
 * Free the ASIDs of torn-down mirrors a grace period after their entries
 * were unlinked (DOC: ASID recycling), and drop their link references.
 */
static void shpt_asid_reap_worker(struct work_struct *work)
{
	struct shpt_mirror *m, *next;
	struct llist_node *batch;

	while ((batch = llist_del_all(&shpt_asid_graveyard))) {
		/* Lookups that found the old owners' entries before unlink. */
		synchronize_rcu();
		llist_for_each_entry_safe(m, next, batch, reap_node) {
			xa_erase(&shpt_asids, m->asid);
			shpt_mirror_put(m);
		}
		cond_resched();
	}
}

/* Hand @m, emptied, and its link reference to the ASID reaper. */
static void shpt_asid_retire(struct shpt_mirror *m)
{
	if (llist_add(&m->reap_node, &shpt_asid_graveyard))
		queue_work(shpt_mirror_wq, &shpt_asid_reap_work);
}

static void shpt_mirror_teardown(struct shpt_mirror *m, bool from_work)
{
	shpt_mirror_drop_mm(m, true);
	/*
	 * A release work that is queued is cancelled; one that is running
	 * may be dropping the mm: wait for it.
	 */
	if (!from_work && cancel_work_sync(&m->release_work))
		shpt_mirror_put(m);	/* the queued work's reference */

	/* Nothing inserts once @gone is set: this is the last word. */
	mutex_lock(&m->lock);
	shpt_mirror_empty(m, true);
	mutex_unlock(&m->lock);

	atomic_dec(&shpt_nr_mirrors);
	pr_debug("asid %llu detached\n", m->asid);
	shpt_asid_retire(m);		/* the link reference */
}

/* Under shpt_mirrors_lock: make @m unfindable and uncount it. */
static void shpt_mirror_unlink_locked(struct shpt_mirror *m)
{
	lockdep_assert_held(&shpt_mirrors_lock);
	m->linked = false;
	if (m->owner)
		list_del_init(&m->owner_node);
	/* The slot stays reserved until the reaper frees it; no allocation. */
	xa_store(&shpt_asids, m->asid, NULL, GFP_KERNEL);
	shpt_mms_forget(m);
	shpt_user_uncharge(m);
}

/* Unlink @m if it is still linked.  Return: true if this call unlinked. */
static bool shpt_mirror_unlink(struct shpt_mirror *m)
{
	bool linked;

	mutex_lock(&shpt_mirrors_lock);
	linked = m->linked;
	if (linked)
		shpt_mirror_unlink_locked(m);
	mutex_unlock(&shpt_mirrors_lock);
	return linked;
}

static void shpt_mirror_release_work(struct work_struct *work)
{
	struct shpt_mirror *m = container_of(work, struct shpt_mirror,
					     release_work);

	if (m->owner) {
		/* The fd keeps the mirror, dead; the mm goes now. */
		shpt_mirror_drop_mm(m, false);
	} else if (shpt_mirror_unlink(m)) {
		pr_info("asid %llu: process %s exited, detached\n", m->asid,
			m->comm);
		shpt_mirror_teardown(m, true);
	}
	shpt_mirror_put(m);
}

/* Allocate an ASID for @m, reserved until linked.  0, -ENOSPC, -ENOMEM. */
static int shpt_asid_alloc(struct shpt_mirror *m)
{
	struct xa_limit limit = XA_LIMIT(1, shpt_asid_max);
	bool waited = false;
	u32 id;
	int ret;

	for (;;) {
		ret = xa_alloc_cyclic(&shpt_asids, &id, NULL, limit,
				      &shpt_asid_next, GFP_KERNEL_ACCOUNT);
		if (ret != -EBUSY || waited)
			break;
		/* ASIDs waiting for their grace period are not in use. */
		flush_work(&shpt_asid_reap_work);
		waited = true;
	}
	if (ret < 0)
		return ret == -EBUSY ? -ENOSPC : ret;
	m->asid = id;
	return 0;
}

/* Undo shpt_mirror_alloc() for a mirror that was never linked. */
static void shpt_mirror_discard(struct shpt_mirror *m)
{
	/* Nothing was ever inserted under the ASID: no grace period. */
	if (m->asid)
		xa_erase(&shpt_asids, m->asid);
	mutex_lock(&shpt_mirrors_lock);
	shpt_user_uncharge(m);
	mutex_unlock(&shpt_mirrors_lock);
	shpt_mirror_put(m);
}

/*
 * A mirror of @task's @mm, not linked yet, with an ASID and, if @owner is
 * set, counted against the caller's real uid.
 */
static struct shpt_mirror *shpt_mirror_alloc(struct task_struct *task,
					     struct pid *pid,
					     struct shpt_mirror_owner *owner)
{
	struct shpt_mirror *m;
	int ret = 0;

	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->pid_nr = pid_nr(pid);
	get_task_comm(m->comm, task);
	m->owner = owner;
	m->uid = current_uid();
	INIT_LIST_HEAD(&m->node);
	INIT_LIST_HEAD(&m->owner_node);
	kref_init(&m->ref);
	init_rwsem(&m->op_sem);
	mutex_init(&m->lock);
	xa_init(&m->idx4k);
	xa_init(&m->idx2m);
	INIT_WORK(&m->release_work, shpt_mirror_release_work);

	if (owner) {
		mutex_lock(&shpt_mirrors_lock);
		ret = shpt_user_charge(m->uid);
		m->charged = !ret;
		mutex_unlock(&shpt_mirrors_lock);
	}
	if (!ret)
		ret = shpt_asid_alloc(m);
	if (ret) {
		shpt_mirror_discard(m);
		return ERR_PTR(ret);
	}
	return m;
}

/*
 * Link @m unless its mm is mirrored already, and take a reference for the
 * caller (the link reference may be dropped by a concurrent teardown as
 * soon as the lock is released).  Return: 0, -EEXIST or -ENOMEM.
 */
static int shpt_mirror_link(struct shpt_mirror *m)
{
	void *old;
	int ret;

	ret = xa_insert(&shpt_mms, m->mm_key, m, GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret == -EBUSY ? -EEXIST : ret;
	mutex_lock(&shpt_mirrors_lock);
	/* The slot is reserved: storing into it allocates nothing. */
	old = xa_store(&shpt_asids, m->asid, m, GFP_KERNEL);
	if (xa_is_err(old)) {
		mutex_unlock(&shpt_mirrors_lock);
		shpt_mms_forget(m);
		return xa_err(old);
	}
	m->linked = true;
	if (m->owner)
		list_add_tail(&m->owner_node, &m->owner->mirrors);
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
 * Permission (unless module-owned): shpt_mirror_find_target(), the rule
 * of Documentation/access.rst.
 *
 * Limits: at most max_user_mirrors mirrors per real uid of the caller
 * (module-owned mirrors are not counted), and at most asid_max mirrors in
 * all.  The mirror struct, its index and the table entries it inserts are
 * charged to the caller's memory cgroup.
 *
 * Return: 0, or -EINVAL (pid <= 0, kernel thread), -ESRCH (no such pid,
 * exiting or zombie), -EINTR (killed waiting for the target's exec),
 * -EPERM, -EEXIST (that mm is mirrored already),
 * -EMFILE (the caller's uid has max_user_mirrors mirrors), -ENOSPC (every
 * ASID is in use), -ENOMEM, or a populate error.
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
	if (ret) {
		put_pid(pid);
		return ret;
	}
	m = shpt_mirror_alloc(task, pid, owner);
	put_task_struct(task);
	put_pid(pid);
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_put_mm;
	}
	/* Insertion needs the mmget that get_task_mm() gave us. */
	ret = mmu_interval_notifier_insert(&m->notifier, mm, 0, ULONG_MAX,
					   &shpt_mirror_notifier_ops);
	if (ret)
		goto out_discard;
	m->mm = mm;
	m->mm_key = (unsigned long)mm;
	atomic_inc(&shpt_nr_mms);
	ret = shpt_mirror_link(m);
	if (ret)
		goto out_drop_mm;
	mmput(mm);
	atomic64_inc(&shpt_nr_attaches);

	if (flags & SHPT_ATTACH_POPULATE) {
		ret = shpt_mirror_populate_new(m);
		if (ret && shpt_mirror_unlink(m))
			shpt_mirror_teardown(m, false);
	}
	if (!ret)
		*asid = m->asid;
	shpt_mirror_put(m);	/* shpt_mirror_link()'s reference */
	return ret;

out_drop_mm:
	/* Never linked: nothing was inserted (drop_mm empties anyway). */
	shpt_mirror_drop_mm(m, true);
	/* A RELEASE callback may have queued the work. */
	if (cancel_work_sync(&m->release_work))
		shpt_mirror_put(m);
out_discard:
	shpt_mirror_discard(m);
out_put_mm:
	mmput(mm);
	return ret;
}

/**
 * shpt_mirror_detach() - stop mirroring
 * @asid: the mirror
 * @owner: the caller's file; only the owner may detach
 *
 * Waits for operations on the mirror and for invalidate callbacks in
 * flight, then removes all of the ASID's entries.  The ASID itself is
 * freed a grace period later (DOC: ASID recycling); the caller's
 * max_user_mirrors count drops at once.
 *
 * Return: 0, or -ENOENT if @owner has no mirror @asid (unknown, detached
 * already, or someone else's).
 */
int shpt_mirror_detach(u64 asid, struct shpt_mirror_owner *owner)
{
	struct shpt_mirror *m;

	if (!owner || !asid || asid > SHPT_ASID_MAX)
		return -ENOENT;
	mutex_lock(&shpt_mirrors_lock);
	/* Linked mirrors only (a reserved slot loads as NULL). */
	m = xa_load(&shpt_asids, asid);
	if (m && m->owner == owner)
		shpt_mirror_unlink_locked(m);
	else
		m = NULL;
	mutex_unlock(&shpt_mirrors_lock);
	if (!m)
		return -ENOENT;
	shpt_mirror_teardown(m, false);
	return 0;
}

/*
 * Unlink every mirror of @owner, or with @owner NULL every mirror (module
 * exit), and tear them down.
 */
static void shpt_mirror_detach_all(struct shpt_mirror_owner *owner)
{
	struct shpt_mirror *m, *tmp;
	unsigned long idx;
	LIST_HEAD(dead);

	mutex_lock(&shpt_mirrors_lock);
	if (owner) {
		list_for_each_entry_safe(m, tmp, &owner->mirrors, owner_node) {
			shpt_mirror_unlink_locked(m);
			list_add_tail(&m->node, &dead);
		}
	} else {
		xa_for_each(&shpt_asids, idx, m) {
			shpt_mirror_unlink_locked(m);
			list_add_tail(&m->node, &dead);
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
 * shpt_mirror_owner_init() - set up the owner token of a new open file
 * @owner: the token, embedded in the file's private data
 */
void shpt_mirror_owner_init(struct shpt_mirror_owner *owner)
{
	INIT_LIST_HEAD(&owner->mirrors);
}

/**
 * shpt_mirror_detach_owner() - detach every mirror of a closing file
 * @owner: the file's owner token
 *
 * Costs the file's own mirrors: it walks @owner's list, not the table of
 * ASIDs.
 */
void shpt_mirror_detach_owner(struct shpt_mirror_owner *owner)
{
	shpt_mirror_detach_all(owner);
}

static int shpt_check_addr(u64 addr)
{
	if (addr & ~PAGE_MASK || addr >= TASK_SIZE_MAX)
		return -EINVAL;
	return 0;
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
 * lookup at order 0, then 9, then 18 (pfn = entry pfn + offset), done in
 * bulk for SHPT_LOOKUP_CHUNK addresses at a time, and skipping an order of
 * which the mirror holds no entry.  A miss is filled from a snapshot of
 * that one page unless SHPT_LOOKUP_NOFILL; with SHPT_LOOKUP_FAULT an absent
 * page is read-faulted in first.  A miss after a fill in the same chunk is
 * looked up again first, as the fill may have inserted a huge entry that
 * covers it.
 *
 * Return: 0, -EINVAL (an address unaligned or not below TASK_SIZE_MAX),
 * -ENOENT (no such mirror for @owner), -ESRCH (the process has exited),
 * -EAGAIN (a fill kept colliding with invalidations), -EINTR.
 */
int shpt_mirror_lookup(u64 asid, struct shpt_mirror_owner *owner,
		       const u64 *addrs, struct shpt_lookup_result *res,
		       unsigned int count, unsigned int flags, bool show_pfn)
{
	struct shpt_mapping map[SHPT_LOOKUP_CHUNK];
	bool nofill = flags & SHPT_LOOKUP_NOFILL;
	unsigned int c, i, j, n;
	struct shpt_mirror *m;
	unsigned long hit;
	bool filled;
	int ret, st;
	u64 vpn;

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

	for (c = 0; c < count && !ret; c += SHPT_LOOKUP_CHUNK) {
		n = min_t(unsigned int, count - c, SHPT_LOOKUP_CHUNK);
		hit = shpt_mirror_find_bulk(m, addrs + c, n, map);
		filled = false;
		for (j = 0; j < n; j++) {
			i = c + j;
			vpn = addrs[i] >> PAGE_SHIFT;
			memset(&res[i], 0, sizeof(res[i]));
			/*
			 * A fill since the bulk phase may have inserted a
			 * huge entry that covers this address: look again,
			 * as a lookup of one address at a time would.
			 */
			if ((hit & BIT(j)) ||
			    (filled && shpt_mirror_find(m, vpn, &map[j]))) {
				st = SHPT_LK_HIT;
				map[j].pfn += vpn & ((1ULL << map[j].order) - 1);
			} else if (nofill) {
				shpt_mstat_inc(lookups);
				shpt_mstat_inc(misses);
				shpt_mstat_inc(nofill);
				continue;
			} else {
				/* A fill reports the pfn of the page itself. */
				st = shpt_mirror_fill(m, vpn, flags, &map[j]);
				if (st < 0) {
					ret = st;
					break;
				}
				filled = true;
				cond_resched();
			}
			shpt_count_lookup(st);
			if (st == SHPT_LK_NONE) {
				shpt_mstat_inc(not_present);
				continue;
			}
			res[i].status = st;
			res[i].pfn = show_pfn ? map[j].pfn : 0;
			res[i].flags = map[j].flags;
			res[i].order = map[j].order;
		}
	}
	shpt_mirror_op_end(m, !nofill);
out_put:
	shpt_mirror_put(m);
	return ret;
}

/**
 * shpt_check_range() - check the range of a POPULATE or VERIFY
 * @start: first address
 * @end: end address (exclusive); set to TASK_SIZE_MAX if @start and @end
 *	are both 0 (everything)
 *
 * Return: 0, or -EINVAL if a bound is not page aligned, @start >= @end or
 * @end > TASK_SIZE_MAX.
 */
int shpt_check_range(unsigned long *start, unsigned long *end)
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

/*
 * Populate [@start, @end) of @m, whose reference the caller passes on.
 * Return: as shpt_mirror_populate().
 */
static int shpt_mirror_populate_put(struct shpt_mirror *m,
				    unsigned long start, unsigned long end,
				    struct shpt_range_result *r)
{
	int ret = shpt_mirror_op_begin(m, true);

	if (!ret) {
		ret = shpt_populate_range(m, start, end, r);
		shpt_mirror_op_end(m, true);
	}
	shpt_mirror_put(m);
	return ret;
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
	return shpt_mirror_populate_put(m, start, end, r);
}

/* The mirror of @mm, with a reference for the caller, or NULL. */
static struct shpt_mirror *shpt_mirror_get_mm(struct mm_struct *mm)
{
	struct shpt_mirror *m;

	rcu_read_lock();
	m = xa_load(&shpt_mms, (unsigned long)mm);
	if (m && !kref_get_unless_zero(&m->ref))
		m = NULL;
	rcu_read_unlock();
	return m;
}

/**
 * shpt_mirror_asid_of_mm() - the ASID that mirrors an address space
 * @mm: the address space; the caller holds an mmget or an mmgrab on it
 *
 * For the in-kernel benchmark (bench.c, root only), which looks the
 * ASID's entries up in the table itself.  No owner check: the caller has
 * CAP_SYS_ADMIN.  The mirror may be detached as soon as this returns;
 * lookups of its ASID then only miss.
 *
 * Return: the ASID, or 0 if @mm is not mirrored or its process has exited.
 */
u64 shpt_mirror_asid_of_mm(struct mm_struct *mm)
{
	struct shpt_mirror *m = shpt_mirror_get_mm(mm);
	u64 asid = 0;

	if (!m)
		return 0;
	if (!READ_ONCE(m->dead))
		asid = m->asid;
	shpt_mirror_put(m);
	return asid;
}

/**
 * shpt_mirror_populate_mm() - shpt_mirror_populate() for the mirror of an mm
 * @mm: the address space; the caller holds an mmget or an mmgrab on it
 * @start: first address (page aligned)
 * @end: end address (exclusive)
 * @r: out: as for shpt_mirror_populate()
 *
 * For the in-kernel benchmark (bench.c, root only): no owner check.
 *
 * Return: as shpt_mirror_populate(); -ENOENT if @mm is not mirrored.
 */
int shpt_mirror_populate_mm(struct mm_struct *mm, unsigned long start,
			    unsigned long end, struct shpt_range_result *r)
{
	struct shpt_mirror *m;
	int ret;

	ret = shpt_check_range(&start, &end);
	if (ret)
		return ret;
	m = shpt_mirror_get_mm(mm);
	if (!m)
		return -ENOENT;
	return shpt_mirror_populate_put(m, start, end, r);
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
	s->mirrors_mm = atomic_read(&shpt_nr_mms);
	s->attaches = atomic64_read(&shpt_nr_attaches);
}

/**
 * shpt_mirror_reset_stats() - zero the module-wide mirroring counters
 *
 * Not atomic with respect to concurrent increments, which may be lost;
 * @mirrors, @mirrors_mm and @attaches are not reset.
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
	unsigned long idx;

	/* Linked mirrors stay linked, hence alive, under the lock. */
	mutex_lock(&shpt_mirrors_lock);
	xa_for_each(&shpt_asids, idx, m) {
		memset(&info, 0, sizeof(info));
		info.asid = m->asid;
		info.pid = m->pid_nr;
		memcpy(info.comm, m->comm, sizeof(info.comm));
		info.entries = READ_ONCE(m->entries);
		info.fills = READ_ONCE(m->fills);
		info.invalidations = READ_ONCE(m->invalidations);
		info.inval_pages = READ_ONCE(m->inval_pages);
		info.index_bytes = shpt_mirror_index_bytes(m);
		info.dead = READ_ONCE(m->dead);
		info.has_mm = !!READ_ONCE(m->mm);
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
 * Return: 0, -EINVAL (asid_max out of range), -ENOMEM, or the attach error
 * for pid= (-EINVAL, -ESRCH, ...), after a message in the kernel log.
 */
int shpt_mirror_init(struct shpt_table *table)
{
	u64 asid;
	int ret;

	if (shpt_asid_max < 1 || shpt_asid_max > SHPT_ASID_MAX) {
		pr_err("asid_max=%u: must be 1..%llu\n", shpt_asid_max,
		       SHPT_ASID_MAX);
		return -EINVAL;
	}
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
 * mirrors can be left.  Draining the work queue runs the ASID reaper too;
 * mirrors are freed with kfree_rcu(), which needs no module code.
 */
void shpt_mirror_exit(void)
{
	shpt_mirror_detach_all(NULL);
	destroy_workqueue(shpt_mirror_wq);
	shpt_mirror_wq = NULL;
	WARN_ON_ONCE(!xa_empty(&shpt_asids) || !xa_empty(&shpt_mms) ||
		     !xa_empty(&shpt_users));
	xa_destroy(&shpt_asids);
	xa_destroy(&shpt_mms);
	xa_destroy(&shpt_users);
}
