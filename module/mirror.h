/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shpt: mirroring live address spaces into the shadow table.
 *
 * A mirror ties one mm_struct to one never-reused ASID.  An
 * mmu_interval_notifier over the whole user address space keeps the ASID's
 * entries in the global table coherent with the real page tables; see
 * mirror.c (DOC: Coherence) for the protocol and mirror_internal.h (DOC:
 * Lock rules) for the lock rules.  The implementation is split by concern:
 * mirror.c, access.c, index.c, snapshot.c and verify.c.
 */
#ifndef _SHPT_MIRROR_H
#define _SHPT_MIRROR_H

#include <linux/types.h>
#include <linux/sched.h>

struct shpt_lookup_result;
struct shpt_table;

/**
 * DOC: Errors a user can cause
 *
 * Every failure a caller of /dev/shpt can provoke returns one of these and
 * never WARNs.  The same table is in chardev.c.
 *
 * ==================  =====================================================
 * -ENOTTY             unknown ioctl command
 * -EFAULT             the argument struct is not readable and writable,
 *                     @addrs not readable or @results not writable (NULL
 *                     included); checked before any work is done
 * -EINVAL             @size is not sizeof() of the struct; unknown @flags
 *                     bits; nonzero @__pad; pid <= 0; the target is a kernel
 *                     thread; LOOKUP @count == 0; an address (LOOKUP) or a
 *                     range bound (POPULATE/VERIFY) that is not page aligned,
 *                     not below TASK_SIZE_MAX (kernel or non-canonical), or
 *                     a range with @start >= @end (except 0, 0 = all)
 * -E2BIG              LOOKUP @count > SHPT_LOOKUP_MAX
 * -ESRCH              ATTACH: no such pid in the caller's namespace, or the
 *                     task is exiting or a zombie; LOOKUP/POPULATE: the
 *                     mirrored process has exited (the mirror is dead; its
 *                     entries are already gone)
 * -EPERM              ATTACH: no CAP_SYS_PTRACE over the target's user
 *                     namespace and the allow_user rule does not apply
 * -EEXIST             ATTACH: that mm is already mirrored
 * -ENOENT             DETACH/LOOKUP/POPULATE/VERIFY: no such ASID, already
 *                     detached, or owned by another file descriptor
 * -ENOSPC             ATTACH: the ASID space (SHPT_ASID_MAX) is used up
 * -ENOMEM             out of memory for the mirror or a snapshot buffer
 * -EAGAIN             LOOKUP fill, POPULATE or VERIFY: the address space
 *                     kept changing and the bounded snapshot retries ran
 *                     out; nothing wrong was inserted, try again
 * -EINTR              POPULATE/VERIFY interrupted by a fatal signal
 * ==================  =====================================================
 *
 * VERIFY on a dead mirror succeeds: it reports checked = missing = 0 and,
 * as stale, the entries the ASID still has (always 0).
 */

/* Invalidation event types, indexes into &shpt_mirror_stats.inval. */
#define SHPT_EV_NR	8

/**
 * struct shpt_mirror_stats - module-wide mirroring counters
 * @lookups: addresses looked up through LOOKUP
 * @hits: lookups answered by the shadow table
 * @misses: lookups not answered by it; misses == fills + faults +
 *	not_present + nofill
 * @fills: misses resolved by a software walk (snapshot and insert)
 * @faults: misses resolved by faulting the page in (SHPT_LOOKUP_FAULT)
 * @not_present: misses for pages absent from the real page tables
 * @nofill: misses left unresolved because of SHPT_LOOKUP_NOFILL
 * @inval: invalidation callbacks by event type (MMU_NOTIFY_*, see
 *	shpt_event_name())
 * @inval_pages: pages covered by invalidation callbacks (RELEASE and the
 *	exit-time UNMAP over [0, ULONG_MAX) excluded: they cover everything)
 * @inval_busy: non-blockable invalidations refused because the mirror
 *	lock was busy (the callback returned false)
 * @inval_entries: table entries removed by invalidation callbacks
 *	(RELEASE included; detach's removals are not invalidations)
 * @inval_sweeps: full-table sweeps issued by mirroring; 0 unless a
 *	mirror's entry index lost entries, a bug (index.c: DOC: Entry index)
 * @retries: hmm_range_fault -EBUSY and notifier-sequence retries
 * @alloc_fail: entries not inserted because a GFP_NOWAIT allocation failed
 * @mirrors: mirrors currently attached (dead ones included)
 * @attaches: successful attaches since load
 *
 * Counters are per-CPU and summed on read, so the sums are not a snapshot
 * of one instant.  mirror.c keeps one of these per CPU and sums them word
 * by word: add only u64 fields.
 */
struct shpt_mirror_stats {
	u64 lookups;
	u64 hits;
	u64 misses;
	u64 fills;
	u64 faults;
	u64 not_present;
	u64 nofill;
	u64 inval[SHPT_EV_NR];
	u64 inval_pages;
	u64 inval_busy;
	u64 inval_entries;
	u64 inval_sweeps;
	u64 retries;
	u64 alloc_fail;
	u64 mirrors;
	u64 attaches;
};

/**
 * struct shpt_mirror_info - one mirror, as shown by debugfs
 * @asid: its address-space id
 * @pid: pid of the mirrored process in the initial pid namespace; it
 *	stays after the process exits (see @dead), when it may be reused
 * @comm: its command name at attach time
 * @entries: shadow entries the ASID has now
 * @fills: lookups of this ASID resolved by a fill or a fault
 * @invalidations: invalidation callbacks received
 * @inval_pages: pages those callbacks covered
 * @dead: the process has exited; the mirror stays until detached
 * @module_owned: attached by the pid= module parameter
 */
struct shpt_mirror_info {
	u64 asid;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	u64 entries;
	u64 fills;
	u64 invalidations;
	u64 inval_pages;
	bool dead;
	bool module_owned;
};

/**
 * struct shpt_mirror_owner - who may use and detach a set of mirrors
 * @id: unused; an owner is identified by its address
 *
 * chardev.c embeds one per open file.  Mirrors attached by the pid=
 * module parameter have no owner (NULL).
 */
struct shpt_mirror_owner {
	int id;
};

/**
 * struct shpt_range_result - what POPULATE and VERIFY report
 * @checked: VERIFY: shadow entries compared; POPULATE: present pages seen
 * @stale: VERIFY: shadow entries absent or different in the real tables
 * @missing: VERIFY: present pages without a shadow entry
 * @inserted: POPULATE: entries inserted or refreshed
 * @retries: snapshot retries (-EBUSY or notifier sequence)
 */
struct shpt_range_result {
	u64 checked;
	u64 stale;
	u64 missing;
	u64 inserted;
	u64 retries;
};

const char *shpt_event_name(int ev);
void shpt_mirror_get_stats(struct shpt_mirror_stats *s);
void shpt_mirror_reset_stats(void);
void shpt_mirror_for_each(void (*fn)(const struct shpt_mirror_info *info,
				     void *arg),
			  void *arg);

int shpt_mirror_attach(pid_t nr, unsigned int flags,
		       struct shpt_mirror_owner *owner, u64 *asid);
int shpt_mirror_detach(u64 asid, struct shpt_mirror_owner *owner);
void shpt_mirror_detach_owner(struct shpt_mirror_owner *owner);
int shpt_mirror_lookup(u64 asid, struct shpt_mirror_owner *owner,
		       const u64 *addrs, struct shpt_lookup_result *res,
		       unsigned int count, unsigned int flags, bool show_pfn);
int shpt_mirror_populate(u64 asid, struct shpt_mirror_owner *owner,
			 unsigned long start, unsigned long end,
			 struct shpt_range_result *r);
int shpt_mirror_verify(u64 asid, struct shpt_mirror_owner *owner,
		       unsigned long start, unsigned long end,
		       struct shpt_range_result *r);

int shpt_mirror_init(struct shpt_table *table);
void shpt_mirror_exit(void);

#endif /* _SHPT_MIRROR_H */
