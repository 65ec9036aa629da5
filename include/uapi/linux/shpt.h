/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shpt - shadow hashed page table: the /dev/shpt ABI.
 *
 * Every argument struct starts with @size (the caller's sizeof) and @flags.
 * The kernel rejects a size it does not know with -EINVAL and unknown flag
 * bits with -EINVAL, so fields can be appended later without breaking old
 * binaries.  All pointers are passed as __u64.  Every errno is listed in
 * Documentation/usage.rst.
 */
#ifndef _UAPI_LINUX_SHPT_H
#define _UAPI_LINUX_SHPT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SHPT_ABI_VERSION	1
#define SHPT_IOC_MAGIC		0xB8

/* The most addresses one SHPT_IOC_LOOKUP may carry. */
#define SHPT_LOOKUP_MAX		4096

/**
 * struct shpt_attach - mirror a process
 * @size: sizeof(struct shpt_attach)
 * @flags: SHPT_ATTACH_* bits
 * @pid: target process, in the caller's pid namespace
 * @__pad: must be zero
 * @asid: out: the new address-space id; reused only after a detach, once
 *	none of the old mirror's entries can be seen
 */
struct shpt_attach {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 __pad;
	__u64 asid;
};

/*
 * Snapshot present pages now, as SHPT_IOC_POPULATE: parts that keep changing
 * are skipped (left to lookups) and the attach succeeds all the same.
 */
#define SHPT_ATTACH_POPULATE	(1U << 0)

/**
 * struct shpt_detach - stop mirroring
 * @size: sizeof(struct shpt_detach)
 * @flags: must be zero
 * @asid: a mirror attached through this file descriptor
 */
struct shpt_detach {
	__u32 size;
	__u32 flags;
	__u64 asid;
};

/**
 * struct shpt_lookup_result - one translation
 * @pfn: page frame number of the 4 KiB page asked for; 0 when @status is
 *	SHPT_LK_NONE, and 0 unless both the opener of the file and the caller
 *	have CAP_SYS_ADMIN (as /proc/PID/pagemap)
 * @flags: SHPT_PF_* bits of the entry
 * @order: order of the entry that answered: 0, 9 (THP or 2 MiB hugetlb) or
 *	18 (1 GiB hugetlb, one entry for the whole page)
 * @status: SHPT_LK_*.  A present page of a VMA without read permission
 *	(PROT_NONE, write-only, exec-only) is present (HIT, FILL), with
 *	SHPT_PF_READ clear.
 */
struct shpt_lookup_result {
	__u64 pfn;
	__u32 flags;
	__u16 order;
	__u16 status;
};

#define SHPT_LK_NONE		0	/* not present in the real page tables */
#define SHPT_LK_HIT		1	/* found in the shadow table */
#define SHPT_LK_FILL		2	/* missed; snapshotted and inserted */
#define SHPT_LK_FAULT		3	/* missed; faulted in, then inserted */

#define SHPT_PF_VALID		(1U << 0)
#define SHPT_PF_WRITE		(1U << 1)
#define SHPT_PF_READ		(1U << 2)
#define SHPT_PF_EXEC		(1U << 3)
#define SHPT_PF_ANON		(1U << 4)
#define SHPT_PF_SHARED		(1U << 5)
#define SHPT_PF_COW		(1U << 6)

/**
 * struct shpt_lookup - translate a batch of user addresses
 * @size: sizeof(struct shpt_lookup)
 * @flags: SHPT_LOOKUP_* bits
 * @asid: the mirror to look in
 * @addrs: user pointer to @count page-aligned __u64 virtual addresses
 * @results: user pointer to @count struct shpt_lookup_result
 * @count: 1..SHPT_LOOKUP_MAX
 * @__pad: must be zero
 */
struct shpt_lookup {
	__u32 size;
	__u32 flags;
	__u64 asid;
	__u64 addrs;
	__u64 results;
	__u32 count;
	__u32 __pad;
};

/* At most one of these; both together is -EINVAL. */
#define SHPT_LOOKUP_NOFILL	(1U << 0)	/* a miss stays a miss */
#define SHPT_LOOKUP_FAULT	(1U << 1)	/* a miss faults the page in */

/**
 * struct shpt_range_op - populate or verify a range of a mirror
 * @size: sizeof(struct shpt_range_op)
 * @flags: must be zero
 * @asid: the mirror
 * @start: first address, page aligned; 0 with @end 0 means everything
 * @end: end address (exclusive), page aligned
 * @checked: out: entries (VERIFY) or pages (POPULATE) examined
 * @stale: out, VERIFY: shadow entries absent or different in the real
 *	tables; always 0 unless shpt has a bug
 * @missing: out, VERIFY: present pages not in the shadow (lazy, allowed);
 *	POPULATE: pages of chunks skipped because they kept changing (their
 *	bounded retries ran out): 0 if the populate is complete.  POPULATE
 *	returns 0 either way, never -EAGAIN.
 * @inserted: out, POPULATE: entries inserted or refreshed
 * @retries: out: hmm_range_fault -EBUSY or notifier-sequence retries
 */
struct shpt_range_op {
	__u32 size;
	__u32 flags;
	__u64 asid;
	__u64 start;
	__u64 end;
	__u64 checked;
	__u64 stale;
	__u64 missing;
	__u64 inserted;
	__u64 retries;
};

#define SHPT_IOC_ATTACH		_IOWR(SHPT_IOC_MAGIC, 0x01, struct shpt_attach)
#define SHPT_IOC_DETACH		_IOWR(SHPT_IOC_MAGIC, 0x02, struct shpt_detach)
#define SHPT_IOC_LOOKUP		_IOWR(SHPT_IOC_MAGIC, 0x03, struct shpt_lookup)
#define SHPT_IOC_POPULATE	_IOWR(SHPT_IOC_MAGIC, 0x04, struct shpt_range_op)
#define SHPT_IOC_VERIFY		_IOWR(SHPT_IOC_MAGIC, 0x05, struct shpt_range_op)

#endif /* _UAPI_LINUX_SHPT_H */
