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
 */
#define pr_fmt(fmt) "shpt-mirror: " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
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

static int shpt_target_pid;
module_param_named(pid, shpt_target_pid, int, 0444);
MODULE_PARM_DESC(pid,
		 "attach to this process (initial pid namespace) at load time and populate it; the mirror lives until rmmod or until the process exits (default 0: none)");

/* See mirror_internal.h; summed by shpt_mirror_get_stats(). */
DEFINE_PER_CPU(struct shpt_mirror_stats, shpt_mstats);

struct shpt_table *shpt_mtable;

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

/**
 * shpt_mirror_get() - find a mirror that a caller may use
 * @asid: the mirror's ASID
 * @owner: the caller's file
 *
 * Module-owned mirrors (owner NULL) may be used by CAP_SYS_ADMIN; they can
 * be detached only by their owner, the module.  Takes shpt_mirrors_lock.
 *
 * Return: the mirror, with a reference for the caller to drop with
 * shpt_mirror_put(); NULL if @owner may use no mirror @asid.
 */
struct shpt_mirror *shpt_mirror_get(u64 asid, struct shpt_mirror_owner *owner)
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
