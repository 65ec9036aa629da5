/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shpt: mirroring live address spaces into the shadow table.
 *
 * A mirror ties one mm_struct to one ASID, recycled only a grace period
 * after the mirror is torn down (mirror.c: DOC: ASID recycling).  An
 * mmu_interval_notifier over the whole user address space keeps the ASID's
 * entries in the global table coherent with the real page tables; see
 * mirror.c (DOC: Coherence) for the protocol and mirror_internal.h (DOC:
 * Lock rules) for the lock rules.  The implementation is split by concern:
 * mirror.c, access.c, index.c, snapshot.c and verify.c.
 */
#ifndef _SHPT_MIRROR_H
#define _SHPT_MIRROR_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/sched.h>

struct mm_struct;
struct shpt_lookup_result;
struct shpt_table;

/**
 * DOC: Errors a user can cause
 *
 * Every failure a caller of /dev/shpt can provoke returns a specific errno
 * and never WARNs.  The one table of them, with what causes each and the
 * order of the checks, is Documentation/usage.rst ("Errors"): a new errno
 * gets its row there, and the kernel-doc Return: sections here and in
 * mirror.c, access.c and chardev.c say which function returns which.
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
 * @mirrors_mm: mirrors that still hold their process's mm: the live ones,
 *	and a dead one only until its release work has run
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
	u64 mirrors_mm;
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
 * @index_bytes: memory its entry index holds now: xa_nodes counted from
 *	the indexed slots, times sizeof(struct xa_node) (index.c:
 *	shpt_mirror_index_bytes())
 * @dead: the process has exited; the mirror stays until detached
 * @has_mm: the mirror still holds the mm; false soon after @dead, when
 *	the release work has given it back
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
	u64 index_bytes;
	bool dead;
	bool has_mm;
	bool module_owned;
};

/**
 * struct shpt_mirror_owner - who may use and detach a set of mirrors
 * @mirrors: the linked mirrors attached through this owner, so that
 *	closing a file costs its own mirrors, not all of them; mirror.c's
 *	shpt_mirrors_lock
 *
 * chardev.c embeds one per open file and sets it up with
 * shpt_mirror_owner_init().  Mirrors attached by the pid= module parameter
 * have no owner (NULL).
 */
struct shpt_mirror_owner {
	struct list_head mirrors;
};

/**
 * struct shpt_range_result - what POPULATE and VERIFY report
 * @checked: VERIFY: shadow entries compared; POPULATE: present pages seen
 * @stale: VERIFY: shadow entries absent or different in the real tables
 * @missing: VERIFY: present pages without a shadow entry; POPULATE: pages
 *	of the chunks skipped because they kept changing
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
void shpt_mirror_owner_init(struct shpt_mirror_owner *owner);
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

u64 shpt_mirror_asid_of_mm(struct mm_struct *mm);
int shpt_mirror_populate_mm(struct mm_struct *mm, unsigned long start,
			    unsigned long end, struct shpt_range_result *r);

int shpt_mirror_init(struct shpt_table *table);
void shpt_mirror_exit(void);

#endif /* _SHPT_MIRROR_H */
