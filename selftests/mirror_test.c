// SPDX-License-Identifier: GPL-2.0
/*
 * shpt mirroring selftests: a target child changes its address space on
 * command (mmap, touch, munmap, mprotect, mremap, madvise, fork, migrate,
 * KSM, exit) and the tests check that the shadow table follows, against
 * /proc/PID/pagemap as the reference.  Every case ends with VERIFY
 * reporting no stale entry.
 *
 * Runs as root in the test VM, with shpt.ko loaded.
 */
#include "shpt_harness.h"

#include <poll.h>

#include <pthread.h>
#include <sched.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "shpt_test_util.h"

#define NPAGES		32
#define LK_MASK(s)	(1U << (s))
#define LK_PRESENT	(LK_MASK(SHPT_LK_HIT) | LK_MASK(SHPT_LK_FILL))
#define ANY_ORDER	-1

/*
 * Check the lookup results of @n pages from @start in @asid against the
 * target's pagemap:
 *  - the status must be in @status_mask;
 *  - a present answer carries the pagemap pfn, VALID, the @need flags, none
 *    of the @forbid flags, and order @order (or any with ANY_ORDER);
 *  - without SHPT_LOOKUP_NOFILL, NONE is only allowed when pagemap agrees
 *    that nothing is mapped.
 * The pfns seen are stored in @pfns when it is not NULL.
 * Returns the number of bad pages, each logged.
 */
static int check_pages(struct __test_metadata *_metadata, int fd, __u64 asid,
		       pid_t pid, unsigned long start, unsigned int n,
		       __u32 lkflags, unsigned int status_mask, __u32 need,
		       __u32 forbid, int order, __u64 *pfns)
{
	struct shpt_lookup_result res[n];
	unsigned int i, bad = 0;
	int ret;

	ret = shpt_lookup_range(fd, asid, start, n, res, lkflags);
	if (ret) {
		TH_LOG("lookup of %u pages at %#lx: %s", n, start,
		       strerror(-ret));
		return n;
	}
	for (i = 0; i < n; i++) {
		unsigned long va = start + i * SHPT_PAGE;
		struct shpt_lookup_result *r = &res[i];
		long long pm = shpt_pagemap_pfn(pid, va);
		const char *why = NULL;

		if (pfns)
			pfns[i] = r->pfn;
		if (r->status > SHPT_LK_FAULT ||
		    !(status_mask & LK_MASK(r->status)))
			why = "unexpected status";
		else if (r->status == SHPT_LK_NONE) {
			if (!(lkflags & SHPT_LOOKUP_NOFILL) && pm > 0)
				why = "NONE but pagemap shows a page";
			else if (r->pfn)
				why = "NONE with a pfn";
		} else if (pm <= 0 || (long long)r->pfn != pm)
			why = "pfn differs from pagemap";
		else if (!(r->flags & SHPT_PF_VALID))
			why = "no VALID flag";
		else if ((r->flags & need) != need)
			why = "missing flag";
		else if (r->flags & forbid)
			why = "forbidden flag";
		else if (order != ANY_ORDER && r->order != order)
			why = "wrong order";
		if (why) {
			TH_LOG("page %u va %#lx: %s: status %u pfn %#llx pagemap %#llx flags %#x order %u",
			       i, va, why, r->status,
			       (unsigned long long)r->pfn, pm, r->flags,
			       r->order);
			bad++;
		}
	}
	return bad;
}

FIXTURE(mirror)
{
	int fd;
	struct shpt_target t;
	struct shpt_target t2;
	__u64 asid;
	__u64 asid2;
};

FIXTURE_SETUP(mirror)
{
	self->fd = shpt_open();
	if (self->fd < 0)
		TH_LOG("open %s: %s", SHPT_DEV, strerror(errno));
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, shpt_target_start(&self->t));
}

FIXTURE_TEARDOWN(mirror)
{
	shpt_target_kill(&self->t);
	shpt_target_kill(&self->t2);
	if (self->fd >= 0)
		close(self->fd);
}

/* Map @n pages RW in target @t, optionally writing to them. */
static unsigned long map_pages(struct shpt_target *t, unsigned int n,
			       bool touch)
{
	unsigned long va = shpt_target_mmap(t, 0, n * SHPT_PAGE,
					    PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS);

	if (va && touch &&
	    shpt_target_cmd(t, SHPT_T_TOUCH, va, n * SHPT_PAGE, 1, 0, 0))
		return 0;
	return va;
}

#define CHECK(start, n, lkf, mask, need, forbid, order, pfns)		\
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid,	\
				 self->t.pid, start, n, lkf, mask, need,	\
				 forbid, order, pfns))

TEST_F(mirror, populate_and_fill)
{
	struct shpt_lookup_result r;
	unsigned long va;
	long long pm;

	va = map_pages(&self->t, 2 * NPAGES + 1, false);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va,
				     NPAGES * SHPT_PAGE, 7, 0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));

	/* Populated: hits with the pagemap pfn and the write bit. */
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT),
	      SHPT_PF_WRITE | SHPT_PF_READ, 0, 0, NULL);
	/* Never touched: not in the shadow, not present. */
	CHECK(va + NPAGES * SHPT_PAGE, NPAGES, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	CHECK(va + NPAGES * SHPT_PAGE, NPAGES, 0, LK_MASK(SHPT_LK_NONE),
	      0, 0, 0, NULL);

	/* The target touches them: the first lookup fills, the next hits. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH,
				     va + NPAGES * SHPT_PAGE,
				     NPAGES * SHPT_PAGE, 9, 0, 0));
	CHECK(va + NPAGES * SHPT_PAGE, NPAGES, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	CHECK(va + NPAGES * SHPT_PAGE, NPAGES, 0, LK_MASK(SHPT_LK_FILL),
	      SHPT_PF_WRITE, 0, 0, NULL);
	CHECK(va + NPAGES * SHPT_PAGE, NPAGES, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_HIT), SHPT_PF_WRITE, 0, 0, NULL);

	/* The last page was never touched: FAULT brings it in. */
	va += 2 * NPAGES * SHPT_PAGE;
	ASSERT_EQ(0, shpt_pagemap_pfn(self->t.pid, va));
	ASSERT_EQ(0, shpt_lookup1(self->fd, self->asid, va,
				  SHPT_LOOKUP_FAULT, &r));
	ASSERT_EQ(SHPT_LK_FAULT, r.status);
	pm = shpt_pagemap_pfn(self->t.pid, va);
	ASSERT_LT(0, pm);
	ASSERT_EQ(pm, (long long)r.pfn);
	CHECK(va, 1, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0, NULL);

	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

TEST_F(mirror, populate_ioctl)
{
	struct shpt_range_op op;
	unsigned long va;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, 0, &self->asid));
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_NONE),
	      0, 0, 0, NULL);
	/* A range populates that range only. */
	ASSERT_EQ(0, shpt_populate(self->fd, self->asid, va,
				   va + NPAGES / 2 * SHPT_PAGE, &op));
	ASSERT_EQ(NPAGES / 2ULL, op.inserted);
	CHECK(va, NPAGES / 2, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT),
	      SHPT_PF_WRITE, 0, 0, NULL);
	CHECK(va + NPAGES / 2 * SHPT_PAGE, NPAGES / 2, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	/* 0, 0 populates everything. */
	ASSERT_EQ(0, shpt_populate(self->fd, self->asid, 0, 0, &op));
	ASSERT_LE(NPAGES / 2ULL, op.inserted);
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT),
	      SHPT_PF_WRITE, 0, 0, NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

TEST_F(mirror, munmap_full)
{
	unsigned long a, b;
	__u64 before[NPAGES], after[NPAGES];

	a = map_pages(&self->t, NPAGES, true);
	b = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, a);
	ASSERT_NE(0UL, b);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(a, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      NULL);
	CHECK(b, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      before);

	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MUNMAP, a,
				     NPAGES * SHPT_PAGE, 0, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(a, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_NONE), 0, 0, 0,
	      NULL);
	CHECK(a, NPAGES, 0, LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	CHECK(b, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      after);
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

TEST_F(mirror, munmap_partial)
{
	const unsigned int lo = 8, hi = 16;
	__u64 before[NPAGES], after[NPAGES];
	unsigned long va;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      before);

	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MUNMAP,
				     va + lo * SHPT_PAGE,
				     (hi - lo) * SHPT_PAGE, 0, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	/* The hole is gone; both neighbours are still hits. */
	CHECK(va, lo, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      after);
	CHECK(va + lo * SHPT_PAGE, hi - lo, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	CHECK(va + lo * SHPT_PAGE, hi - lo, 0, LK_MASK(SHPT_LK_NONE),
	      0, 0, 0, NULL);
	CHECK(va + hi * SHPT_PAGE, NPAGES - hi, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_HIT), 0, 0, 0, after + hi);
	ASSERT_EQ(0, memcmp(before, after, lo * sizeof(__u64)));
	ASSERT_EQ(0, memcmp(before + hi, after + hi,
			    (NPAGES - hi) * sizeof(__u64)));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

/*
 * Dropping write permission must drop the shadow's WRITE bit.  With
 * PROTECTION_VMA ignored by the notifier, the VERIFY after the RO
 * mprotect reports every page stale and the lookup returns WRITE hits.
 */
TEST_F(mirror, mprotect)
{
	unsigned long va, len = NPAGES * SHPT_PAGE;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT),
	      SHPT_PF_WRITE, 0, 0, NULL);

	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MPROTECT, va, len,
				     PROT_READ, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	/* Whatever is still in the shadow must have lost WRITE. */
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_NONE) | LK_MASK(SHPT_LK_HIT), 0, SHPT_PF_WRITE,
	      0, NULL);
	CHECK(va, NPAGES, 0, LK_PRESENT, SHPT_PF_READ, SHPT_PF_WRITE, 0, NULL);
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0,
	      SHPT_PF_WRITE, 0, NULL);

	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MPROTECT, va, len,
				     PROT_READ | PROT_WRITE, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va, len, 3,
				     0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, NPAGES, 0, LK_PRESENT, SHPT_PF_WRITE, 0, 0, NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

TEST_F(mirror, mremap_move)
{
	unsigned long old, new, len = NPAGES * SHPT_PAGE;
	__u64 before[NPAGES], after[NPAGES];
	long ret;

	old = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, old);
	new = shpt_target_mmap(&self->t, 0, len, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, new);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(old, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      before);

	ret = shpt_target_cmd(&self->t, SHPT_T_MREMAP, old, len, len,
			      MREMAP_MAYMOVE | MREMAP_FIXED, new);
	ASSERT_EQ((long)new, ret);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(old, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_NONE), 0, 0,
	      0, NULL);
	CHECK(old, NPAGES, 0, LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	/* Nothing was inserted at the new place: it fills, same frames. */
	CHECK(new, NPAGES, 0, LK_MASK(SHPT_LK_FILL), SHPT_PF_WRITE, 0, 0,
	      after);
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

TEST_F(mirror, madvise_dontneed)
{
	const unsigned int half = NPAGES / 2;
	__u64 before[NPAGES], after[NPAGES];
	unsigned long va;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      before);

	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE,
				     va + half * SHPT_PAGE, half * SHPT_PAGE,
				     MADV_DONTNEED, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, half, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      after);
	ASSERT_EQ(0, memcmp(before, after, half * sizeof(__u64)));
	CHECK(va + half * SHPT_PAGE, half, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	CHECK(va + half * SHPT_PAGE, half, 0, LK_MASK(SHPT_LK_NONE), 0, 0, 0,
	      NULL);
	/* Touched again: new zeroed frames, filled on lookup. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH,
				     va + half * SHPT_PAGE, half * SHPT_PAGE,
				     5, 0, 0));
	CHECK(va + half * SHPT_PAGE, half, 0, LK_MASK(SHPT_LK_FILL),
	      SHPT_PF_WRITE, 0, 0, NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

/* Count the pages of [va, va + n pages) that pagemap shows present. */
static unsigned int count_present(pid_t pid, unsigned long va, unsigned int n)
{
	unsigned int i, present = 0;

	for (i = 0; i < n; i++)
		present += shpt_pagemap_pfn(pid, va + i * SHPT_PAGE) > 0;
	return present;
}

/*
 * MADV_FREE makes the pages lazily freeable (clean, write-protected or
 * cleared, depending on the path); MADV_PAGEOUT then reclaims them, which
 * works without swap because lazyfree anonymous pages are discarded, not
 * swapped.  Reclaimed pages must read NONE; any that survived must match.
 */
TEST_F(mirror, madvise_free)
{
	unsigned long va, len = NPAGES * SHPT_PAGE;
	unsigned int present;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      NULL);

	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE, va, len,
				     MADV_FREE, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, NPAGES, 0, LK_PRESENT | LK_MASK(SHPT_LK_NONE), 0, 0, 0,
	      NULL);

	if (shpt_target_cmd(&self->t, SHPT_T_MADVISE, va, len, MADV_PAGEOUT,
			    0, 0))
		TH_LOG("MADV_PAGEOUT: %s", strerror(errno));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	present = count_present(self->t.pid, va, NPAGES);
	TH_LOG("%u of %u lazyfree pages reclaimed", NPAGES - present, NPAGES);
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_HIT) | LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	CHECK(va, NPAGES, 0, LK_PRESENT | LK_MASK(SHPT_LK_NONE), 0, 0, 0,
	      NULL);
	if (present == 0)
		CHECK(va, NPAGES, 0, LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

/*
 * The VM has no swap, so MADV_PAGEOUT cannot reclaim dirty anonymous
 * pages: they stay mapped (shrink_folio_list fails add_to_swap and keeps
 * them).  What this checks is therefore consistency, not reclaim: after
 * the call, every page is either NONE with pagemap agreeing, or carries
 * the pagemap pfn.  The number reclaimed is logged, not faked.
 */
TEST_F(mirror, madvise_pageout)
{
	unsigned long va, len = NPAGES * SHPT_PAGE;
	unsigned int present;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	if (shpt_target_cmd(&self->t, SHPT_T_MADVISE, va, len, MADV_PAGEOUT,
			    0, 0))
		TH_LOG("MADV_PAGEOUT: %s", strerror(errno));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	present = count_present(self->t.pid, va, NPAGES);
	TH_LOG("%u of %u pages reclaimed (no swap: 0 expected)",
	       NPAGES - present, NPAGES);
	CHECK(va, NPAGES, 0, LK_PRESENT | LK_MASK(SHPT_LK_NONE), 0, 0, 0,
	      NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

TEST_F(mirror, fork_cow)
{
	__u64 before[NPAGES], shared[NPAGES], after[NPAGES];
	unsigned long va, len = NPAGES * SHPT_PAGE;
	unsigned int i;
	long child;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT),
	      SHPT_PF_WRITE, 0, 0, before);

	/* fork write-protects the parent's PTEs: WRITE must go. */
	child = shpt_target_cmd(&self->t, SHPT_T_FORK, 0, 0, 0, 0, 0);
	ASSERT_LT(0, child);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, NPAGES, 0, LK_PRESENT, SHPT_PF_COW, SHPT_PF_WRITE, 0,
	      shared);
	ASSERT_EQ(0, memcmp(before, shared, sizeof(before)));

	/* The parent writes: it gets copies, the child keeps the old. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va, len, 11,
				     0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, NPAGES, 0, LK_PRESENT, SHPT_PF_WRITE, SHPT_PF_COW, 0,
	      after);
	for (i = 0; i < NPAGES; i++) {
		ASSERT_NE(before[i], after[i]);
		ASSERT_EQ((long long)before[i], shpt_pagemap_pfn(child,
						va + i * SHPT_PAGE));
	}
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_KILLCHILD, child, 0, 0,
				     0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

static bool thp_disabled(void)
{
	char buf[128];

	if (shpt_read_file("/sys/kernel/mm/transparent_hugepage/enabled",
			   buf, sizeof(buf)))
		return true;
	return strstr(buf, "[never]") != NULL;
}

TEST_F(mirror, thp)
{
	const unsigned int n = SHPT_HPAGE / SHPT_PAGE, half = n / 2;
	unsigned long map, va;
	__u64 pfns[n];
	long long pm0;
	unsigned int i;

	if (thp_disabled())
		SKIP(return, "transparent hugepages disabled");
	map = shpt_target_mmap(&self->t, 0, 2 * SHPT_HPAGE,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, map);
	va = (map + SHPT_HPAGE - 1) & ~(SHPT_HPAGE - 1);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE, va,
				     SHPT_HPAGE, MADV_HUGEPAGE, 0, 0));
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va, SHPT_HPAGE,
				     1, 0, 0));
	pm0 = shpt_pagemap_pfn(self->t.pid, va);
	ASSERT_LT(0, pm0);
	for (i = 0; i < n; i++)
		if (shpt_pagemap_pfn(self->t.pid, va + i * SHPT_PAGE) !=
		    pm0 + i)
			break;
	if (i < n || (pm0 & (n - 1)))
		SKIP(return, "the kernel did not back the region with a THP");

	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, n, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), SHPT_PF_WRITE,
	      0, 9, pfns);
	for (i = 0; i < n; i++)
		ASSERT_EQ(pm0 + i, (long long)pfns[i]);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);

	/* Write-protecting half splits the PMD: entries become order 0. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MPROTECT,
				     va + half * SHPT_PAGE,
				     half * SHPT_PAGE, PROT_READ, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, half, 0, LK_PRESENT, SHPT_PF_WRITE, 0, 0, NULL);
	CHECK(va + half * SHPT_PAGE, half, 0, LK_PRESENT, 0, SHPT_PF_WRITE,
	      0, NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);

	/* Unmap the last 64 pages of the writable half. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MUNMAP,
				     va + (half - 64) * SHPT_PAGE,
				     64 * SHPT_PAGE, 0, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, half - 64, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT),
	      SHPT_PF_WRITE, 0, 0, NULL);
	CHECK(va + (half - 64) * SHPT_PAGE, 64, 0, LK_MASK(SHPT_LK_NONE), 0,
	      0, 0, NULL);
	CHECK(va + half * SHPT_PAGE, half, SHPT_LOOKUP_NOFILL,
	      LK_MASK(SHPT_LK_HIT), 0, SHPT_PF_WRITE, 0, NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

/* The highest online NUMA node, 0 if one node (or unknown). */
static int max_online_node(void)
{
	char buf[64], *p;
	int max = 0;

	if (shpt_read_file("/sys/devices/system/node/online", buf,
			   sizeof(buf)))
		return 0;
	for (p = buf; *p; p++)
		if (*p >= '0' && *p <= '9') {
			int v = strtol(p, &p, 10);

			if (v > max)
				max = v;
			p--;
		}
	return max;
}

TEST_F(mirror, migration)
{
	__u64 before[NPAGES], after[NPAGES];
	unsigned long va;
	unsigned int i;
	long long pm;
	long moved;
	int node;

	if (max_online_node() < 1)
		SKIP(return, "one NUMA node online: boot the VM with -numa");
	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      before);

	/* Move everything to node 1; if it was all there, to node 0. */
	for (node = 1; node >= 0; node--) {
		moved = shpt_target_cmd(&self->t, SHPT_T_MOVE_PAGES, va,
					NPAGES, node, 0, 0);
		ASSERT_LE(0, moved) TH_LOG("move_pages: %s", strerror(errno));
		pm = shpt_pagemap_pfn(self->t.pid, va);
		if (pm > 0 && (__u64)pm != before[0])
			break;
	}
	ASSERT_LE(0, node) TH_LOG("move_pages moved nothing");
	TH_LOG("moved %ld pages to node %d", moved, node);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, NPAGES, 0, LK_PRESENT, SHPT_PF_WRITE, 0, 0, after);
	for (i = 0; i < NPAGES; i++)
		if (after[i] == before[i])
			TH_LOG("page %u did not move", i);
	ASSERT_NE(before[0], after[0]);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

#define KSM_DIR		"/sys/kernel/mm/ksm/"

TEST_F_TIMEOUT(mirror, ksm, 45)
{
	char run[16] = "0", scan[32] = "100", sleep_ms[32] = "20";
	unsigned long va, len = 2 * SHPT_PAGE;
	long long pm0 = 0, pm1 = 0, pm;
	__u64 pfns[2];
	double t0;

	if (access(KSM_DIR "run", W_OK))
		SKIP(return, "no writable %srun", KSM_DIR);
	shpt_read_file(KSM_DIR "run", run, sizeof(run));
	shpt_read_file(KSM_DIR "pages_to_scan", scan, sizeof(scan));
	shpt_read_file(KSM_DIR "sleep_millisecs", sleep_ms, sizeof(sleep_ms));

	va = map_pages(&self->t, 2, false);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_FILL, va, len, 0x5a,
				     0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, 2, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), SHPT_PF_WRITE,
	      0, 0, pfns);
	ASSERT_NE(pfns[0], pfns[1]);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE, va, len,
				     MADV_MERGEABLE, 0, 0));

	ASSERT_EQ(0, shpt_write_file(KSM_DIR "pages_to_scan", "10000"));
	ASSERT_EQ(0, shpt_write_file(KSM_DIR "sleep_millisecs", "0"));
	ASSERT_EQ(0, shpt_write_file(KSM_DIR "run", "1"));
	for (t0 = shpt_now(); shpt_now() - t0 < 20; usleep(100000)) {
		pm0 = shpt_pagemap_pfn(self->t.pid, va);
		pm1 = shpt_pagemap_pfn(self->t.pid, va + SHPT_PAGE);
		if (pm0 > 0 && pm0 == pm1)
			break;
	}
	/* Stop ksmd (run=0 keeps merged pages) and restore its knobs. */
	shpt_write_file(KSM_DIR "run", "0");
	shpt_write_file(KSM_DIR "pages_to_scan", scan);
	shpt_write_file(KSM_DIR "sleep_millisecs", sleep_ms);
	if (run[0] != '0')
		shpt_write_file(KSM_DIR "run", run);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	if (pm0 <= 0 || pm0 != pm1)
		SKIP(return, "ksmd did not merge the pages within 20 s");
	TH_LOG("merged into pfn %#llx after %.1f s", pm0, shpt_now() - t0);

	/* Both translations follow to the KSM page, read-only. */
	CHECK(va, 2, 0, LK_PRESENT, SHPT_PF_COW, SHPT_PF_WRITE, 0, pfns);
	ASSERT_EQ(pfns[0], pfns[1]);
	ASSERT_EQ(pm0, (long long)pfns[0]);

	/* A write breaks the merge for that page only. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va, SHPT_PAGE,
				     2, 0, 0));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	CHECK(va, 2, 0, LK_PRESENT, 0, 0, 0, pfns);
	pm = shpt_pagemap_pfn(self->t.pid, va);
	ASSERT_NE(pm0, pm);
	ASSERT_EQ(pm, (long long)pfns[0]);
	ASSERT_EQ(pm0, (long long)pfns[1]);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

/* The value of "name value" line @name in debugfs stats, or -1. */
static long long debugfs_stat(const char *name)
{
	char line[256], key[128];
	long long val, ret = -1;
	FILE *f;

	f = fopen(SHPT_DEBUGFS "/stats", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %lld", key, &val) == 2 &&
		    !strcmp(key, name)) {
			ret = val;
			break;
		}
	fclose(f);
	return ret;
}

/*
 * On exit the RELEASE invalidation drops every entry of the ASID.  The
 * dead mirror stays attached to its fd until detached (mirror.h: lookups
 * then fail with ESRCH, VERIFY succeeds with nothing checked), so the
 * ASID is never reused and no stale answer is possible.
 */
TEST_F(mirror, exit)
{
	struct shpt_lookup_result r;
	struct shpt_asid_row row;
	struct shpt_range_op op;
	long long entries0;
	unsigned long va;
	int ret;

	entries0 = debugfs_stat("entries");
	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	CHECK(va, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0, 0, 0,
	      NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	ret = shpt_debugfs_asid_row(self->asid, 0, &row);
	if (ret >= 0) {
		ASSERT_EQ(1, ret);
		ASSERT_EQ(self->t.pid, row.pid);
		ASSERT_LE((unsigned long long)NPAGES, row.entries);
	}
	if (entries0 >= 0)
		ASSERT_LE(entries0 + NPAGES, debugfs_stat("entries"));

	/* exit_mmap runs before the parent can reap: no waiting needed. */
	ASSERT_EQ(0, shpt_target_stop(&self->t));
	ASSERT_EQ(-ESRCH, shpt_lookup1(self->fd, self->asid, va, 0, &r));
	ASSERT_EQ(-ESRCH, shpt_lookup1(self->fd, self->asid, va,
				       SHPT_LOOKUP_NOFILL, &r));
	ASSERT_EQ(-ESRCH, shpt_populate(self->fd, self->asid, 0, 0, &op));
	/* VERIFY counts what the dead ASID still holds as stale. */
	ASSERT_EQ(0, shpt_verify(self->fd, self->asid, 0, 0, &op));
	ASSERT_EQ(0ULL, op.stale);
	ASSERT_EQ(0ULL, op.checked);
	ret = shpt_debugfs_asid_row(self->asid, 0, &row);
	if (ret >= 0) {
		ASSERT_EQ(1, ret);
		ASSERT_EQ(0ULL, row.entries);
		TH_LOG("dead mirror row: pid %d state %s", row.pid,
		       row.state);
	} else {
		TH_LOG("no debugfs asids file: entry check skipped");
	}
	if (entries0 >= 0) {
		ASSERT_EQ(entries0, debugfs_stat("entries"));
	} else {
		TH_LOG("no debugfs stats 'entries': count check skipped");
	}

	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
	ASSERT_EQ(-ENOENT, shpt_detach(self->fd, self->asid));
	ASSERT_EQ(-ENOENT, shpt_lookup1(self->fd, self->asid, va, 0, &r));
	if (ret >= 0)
		ASSERT_EQ(0, shpt_debugfs_has_asid(self->asid));
}

TEST_F(mirror, homonyms)
{
	__u64 p1[NPAGES], p2[NPAGES];
	unsigned long va, va2;
	unsigned int i;

	ASSERT_EQ(0, shpt_target_start(&self->t2));
	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	va2 = shpt_target_mmap(&self->t2, va, NPAGES * SHPT_PAGE,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS |
			       MAP_FIXED_NOREPLACE);
	ASSERT_EQ(va, va2);
	ASSERT_EQ(0, shpt_target_cmd(&self->t2, SHPT_T_TOUCH, va,
				     NPAGES / 2 * SHPT_PAGE, 2, 0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t2.pid,
				 SHPT_ATTACH_POPULATE, &self->asid2));
	ASSERT_NE(self->asid, self->asid2);

	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid, self->t.pid,
				 va, NPAGES, SHPT_LOOKUP_NOFILL,
				 LK_MASK(SHPT_LK_HIT), 0, 0, 0, p1));
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid2,
				 self->t2.pid, va, NPAGES / 2,
				 SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT),
				 0, 0, 0, p2));
	/* t2's upper half is untouched although t's is mapped. */
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid2,
				 self->t2.pid, va + NPAGES / 2 * SHPT_PAGE,
				 NPAGES / 2, 0, LK_MASK(SHPT_LK_NONE),
				 0, 0, 0, NULL));
	ASSERT_EQ(0, shpt_target_cmd(&self->t2, SHPT_T_TOUCH,
				     va + NPAGES / 2 * SHPT_PAGE,
				     NPAGES / 2 * SHPT_PAGE, 3, 0, 0));
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid2,
				 self->t2.pid, va, NPAGES, 0, LK_PRESENT,
				 SHPT_PF_WRITE, 0, 0, p2));
	for (i = 0; i < NPAGES; i++)
		ASSERT_NE(p1[i], p2[i]);

	/* Unmapping in one leaves the homonym alone. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MUNMAP, va,
				     NPAGES * SHPT_PAGE, 0, 0, 0));
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid, self->t.pid,
				 va, NPAGES, SHPT_LOOKUP_NOFILL,
				 LK_MASK(SHPT_LK_NONE), 0, 0, 0, NULL));
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid2,
				 self->t2.pid, va, NPAGES, SHPT_LOOKUP_NOFILL,
				 LK_MASK(SHPT_LK_HIT), 0, 0, 0, NULL));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid2);
}

TEST_F(mirror, shared_memory)
{
	const unsigned int n = 4;
	unsigned long len = n * SHPT_PAGE;
	__u64 p1[n], p2[n];
	unsigned long va;
	unsigned int i;
	void *shm;

	/* Shared before the fork of both targets. */
	shm = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shm);
	va = (unsigned long)shm;
	memset(shm, 0x11, len);
	shpt_target_kill(&self->t);
	ASSERT_EQ(0, shpt_target_start(&self->t));
	ASSERT_EQ(0, shpt_target_start(&self->t2));
	munmap(shm, len);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va, len, 4, 0,
				     0));
	ASSERT_LE(0, shpt_target_cmd(&self->t2, SHPT_T_READ, va, len, 0, 0,
				     0));

	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, 0, &self->asid));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t2.pid, 0, &self->asid2));
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid, self->t.pid,
				 va, n, 0, LK_MASK(SHPT_LK_FILL),
				 SHPT_PF_WRITE, 0, 0, p1));
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid2,
				 self->t2.pid, va, n, 0, LK_MASK(SHPT_LK_FILL),
				 0, 0, 0, p2));
	for (i = 0; i < n; i++) {
		if (!(p1[i] && p1[i] == p2[i]))
			TH_LOG("page %u: pfn %#llx vs %#llx", i,
			       (unsigned long long)p1[i],
			       (unsigned long long)p2[i]);
		ASSERT_NE(0ULL, p1[i]);
		ASSERT_EQ(p1[i], p2[i]);
	}
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid2);
}

TEST_F(mirror, pid_reuse)
{
	struct shpt_lookup_result r;
	unsigned long va, va2;
	pid_t old_pid;
	int ret;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	old_pid = self->t.pid;
	ASSERT_EQ(0, shpt_target_stop(&self->t));

	/* A new process, mapping the same VA: a new ASID, its own pfns. */
	ASSERT_EQ(0, shpt_target_start(&self->t));
	TH_LOG("old pid %d asid %llu, new pid %d", old_pid,
	       (unsigned long long)self->asid, self->t.pid);
	va2 = shpt_target_mmap(&self->t, va, NPAGES * SHPT_PAGE,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS |
			       MAP_FIXED_NOREPLACE);
	ASSERT_EQ(va, va2);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va,
				     NPAGES * SHPT_PAGE, 8, 0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid2));
	ASSERT_NE(self->asid, self->asid2);
	ASSERT_LT(self->asid, self->asid2);

	ret = shpt_lookup1(self->fd, self->asid, va, 0, &r);
	ASSERT_EQ(-ESRCH, ret);
	ret = shpt_lookup1(self->fd, self->asid, va, SHPT_LOOKUP_NOFILL, &r);
	ASSERT_EQ(-ESRCH, ret);
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid2,
				 self->t.pid, va, NPAGES, SHPT_LOOKUP_NOFILL,
				 LK_MASK(SHPT_LK_HIT), SHPT_PF_WRITE, 0, 0,
				 NULL));
	/* Detaching the old one leaves the new one alone. */
	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
	ASSERT_EQ(-ENOENT, shpt_lookup1(self->fd, self->asid, va, 0, &r));
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid2,
				 self->t.pid, va, NPAGES, SHPT_LOOKUP_NOFILL,
				 LK_MASK(SHPT_LK_HIT), 0, 0, 0, NULL));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid2);
}

TEST_F(mirror, fd_close_detaches)
{
	struct shpt_lookup_result r;
	unsigned long va;
	__u64 asid_b;
	int fd_b;

	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	fd_b = shpt_open();
	ASSERT_LE(0, fd_b);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	ASSERT_EQ(-EEXIST, shpt_attach(fd_b, self->t.pid, 0, &asid_b));
	/* The mirror belongs to the first fd. */
	ASSERT_EQ(-ENOENT, shpt_lookup1(fd_b, self->asid, va, 0, &r));
	ASSERT_EQ(-ENOENT, shpt_detach(fd_b, self->asid));

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, shpt_attach(fd_b, self->t.pid, SHPT_ATTACH_POPULATE,
				 &asid_b));
	ASSERT_NE(self->asid, asid_b);
	ASSERT_EQ(-ENOENT, shpt_lookup1(fd_b, self->asid, va, 0, &r));
	if (shpt_debugfs_has_asid(self->asid) >= 0)
		ASSERT_EQ(0, shpt_debugfs_has_asid(self->asid));
	ASSERT_EQ(0, check_pages(_metadata, fd_b, asid_b, self->t.pid, va,
				 NPAGES, SHPT_LOOKUP_NOFILL,
				 LK_MASK(SHPT_LK_HIT), SHPT_PF_WRITE, 0, 0,
				 NULL));
	SHPT_ASSERT_NO_STALE(fd_b, asid_b);
	close(fd_b);
}

/* ---- issue 9: busy processes, non-readable VMAs, 1 GiB pages -------- */

#define CHURN_PAGES	16384	/* 64 MiB that stays put while the rest churns */

/*
 * Turn automatic NUMA balancing off (its hinting faults make pages look
 * absent for a while) or back to what it was.
 */
static void numa_balancing(bool restore)
{
	static char saved[16];

	if (!restore) {
		if (shpt_read_file("/proc/sys/kernel/numa_balancing", saved,
				   sizeof(saved)))
			saved[0] = 0;
		shpt_write_file("/proc/sys/kernel/numa_balancing", "0");
	} else if (saved[0]) {
		shpt_write_file("/proc/sys/kernel/numa_balancing", saved);
	}
}

/* Run on CPU @cpu only: the churn and the ioctl must really overlap. */
static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * A child that maps CHURN_PAGES pages (2 MiB aligned), touches them, sends
 * their address on @wfd, and then changes one page of a separate 2 MiB
 * window for ever: MADV_DONTNEED, and now and then mmap(MAP_FIXED) over it
 * and a write.  Every loop invalidates, so the whole-space notifier
 * sequence never rests.
 */
static void churn_child(int wfd)
{
	size_t len = CHURN_PAGES * SHPT_PAGE;
	char *res, *big, *churn;
	unsigned long i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pin_cpu(1);
	res = mmap(NULL, len + 4 * SHPT_HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		_exit(1);
	big = (char *)(((unsigned long)res + SHPT_HPAGE - 1) &
		       ~(SHPT_HPAGE - 1));
	churn = big + len + SHPT_HPAGE;
	for (i = 0; i < len; i += SHPT_PAGE)
		big[i] = 1;
	if (write(wfd, &big, sizeof(big)) != sizeof(big))
		_exit(1);
	close(wfd);
	/* madvise() invalidates even an empty page: the tightest loop. */
	for (i = 0;; i++) {
		madvise(churn, SHPT_PAGE, MADV_DONTNEED);
		if (i % 64 == 0) {
			mmap(churn, SHPT_PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			*(volatile char *)churn = (char)i;
		}
	}
}

/*
 * POPULATE of a process that never stops changing its address space:
 * only the chunk that changes may be skipped; everything else is
 * inserted, and ATTACH|POPULATE keeps the mirror.  The old code retried
 * the whole-space sequence, failed with -EAGAIN and tore the mirror down.
 */
TEST_F(mirror, populate_churning)
{
	struct shpt_range_op op;
	cpu_set_t old;
	unsigned long big;
	int pfd[2], i, ret = 0;
	pid_t pid;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(old), &old));
	ASSERT_EQ(0, pin_cpu(0));
	numa_balancing(false);
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[0]);
		churn_child(pfd[1]);
	}
	close(pfd[1]);
	ASSERT_EQ((ssize_t)sizeof(big), read(pfd[0], &big, sizeof(big)));
	close(pfd[0]);
	usleep(100000);		/* let the churn get going */

	/* A few tries: the old code fails each with -EAGAIN. */
	for (i = 0; i < 3; i++) {
		ret = shpt_attach(self->fd, pid, SHPT_ATTACH_POPULATE,
				  &self->asid);
		if (ret != -EAGAIN)
			break;
		TH_LOG("attach|populate try %d: %s", i, strerror(-ret));
	}
	ASSERT_EQ(0, ret);
	/*
	 * Nothing changes in the quiet part, so populating it never has to
	 * retry; the old whole-space sequence retried on every collision
	 * with the churn elsewhere.
	 */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, shpt_populate(self->fd, self->asid, big,
					   big + CHURN_PAGES * SHPT_PAGE, &op));
		TH_LOG("populate of the quiet part: checked %llu inserted %llu retries %llu skipped %llu",
		       (unsigned long long)op.checked,
		       (unsigned long long)op.inserted,
		       (unsigned long long)op.retries,
		       (unsigned long long)op.missing);
		ASSERT_EQ((__u64)CHURN_PAGES, op.inserted);
		ASSERT_EQ(0ULL, op.missing);
		ASSERT_EQ(0ULL, op.retries);
	}
	ASSERT_EQ(0, shpt_populate(self->fd, self->asid, 0, 0, &op));
	TH_LOG("populate of everything: checked %llu inserted %llu retries %llu skipped %llu",
	       (unsigned long long)op.checked,
	       (unsigned long long)op.inserted,
	       (unsigned long long)op.retries,
	       (unsigned long long)op.missing);
	ASSERT_LT((__u64)CHURN_PAGES, op.inserted);
	kill(pid, SIGSTOP);
	for (i = 0; i < CHURN_PAGES; i += SHPT_LOOKUP_MAX)
		ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid, pid,
					 big + i * SHPT_PAGE, SHPT_LOOKUP_MAX,
					 SHPT_LOOKUP_NOFILL,
					 LK_MASK(SHPT_LK_HIT), SHPT_PF_WRITE,
					 0, 0, NULL));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	sched_setaffinity(0, sizeof(old), &old);
	numa_balancing(true);
}

#define COW_PAGES	512	/* one 2 MiB window: one populate chunk */
#define COW_ROUNDS	200	/* about 17 s under TCG on the Debian kernel */
#define COW_SECONDS	25	/* and never longer (a debug kernel is slower) */

/*
 * The target of populate_vs_cow: maps COW_PAGES pages in one 2 MiB
 * window (no THP), writes them, sends their address on @wfd; then, for
 * each byte read from @rfd, forks a child that keeps every page shared
 * copy-on-write, says 'r', writes each page once (a copy and an
 * invalidation per page), kills the child and says 'd'.
 */
static void cow_child(int rfd, int wfd)
{
	char *res, *p, c;
	unsigned int i, round = 0;
	pid_t g;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Not the test's /dev/shpt: a failed test must not pin the module. */
	shpt_close_fds_except(rfd, wfd);
	pin_cpu(1);
	res = mmap(NULL, 2 * SHPT_HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		_exit(1);
	p = (char *)(((unsigned long)res + SHPT_HPAGE - 1) & ~(SHPT_HPAGE - 1));
	madvise(p, SHPT_HPAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < COW_PAGES; i++)
		p[i * SHPT_PAGE] = 1;
	if (write(wfd, &p, sizeof(p)) != sizeof(p))
		_exit(1);
	while (read(rfd, &c, 1) == 1) {
		g = fork();
		if (g == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (g < 0 || write(wfd, "r", 1) != 1)
			_exit(1);
		round++;
		for (i = 0; i < COW_PAGES; i++)
			p[i * SHPT_PAGE] = (char)round;
		kill(g, SIGKILL);
		waitpid(g, NULL, 0);
		if (write(wfd, "d", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

/*
 * POPULATE of pages that are being copied on write.  One invalidation
 * runs the whole-space notifier's callback and the populate chunk's one
 * after the other, each under its own hold of the mirror lock; a populate
 * that takes the lock between the two must not leave an entry for the
 * page being copied.  The target writes its CoW-shared pages one by one
 * while the test populates them over and over, and after each round
 * verify finds nothing stale (up to COW_ROUNDS rounds, or COW_SECONDS on
 * a slow kernel).  The chunk callback used to move its
 * sequence only: this test then failed in 3 runs of 5 (1 stale entry in
 * one of the rounds), as stress_test did now and then.
 */
TEST_F_TIMEOUT(mirror, populate_vs_cow, 120)
{
	unsigned long populates = 0, retries = 0, inserted = 0, p;
	int cmd[2], rep[2], round;
	double t0;
	struct shpt_range_op op;
	struct pollfd pfd;
	cpu_set_t old;
	pid_t pid;
	char c;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(old), &old));
	ASSERT_EQ(0, pin_cpu(0));
	numa_balancing(false);
	ASSERT_EQ(0, pipe(cmd));
	ASSERT_EQ(0, pipe(rep));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		cow_child(cmd[0], rep[1]);
	}
	close(cmd[0]);
	close(rep[1]);
	ASSERT_EQ((ssize_t)sizeof(p), read(rep[0], &p, sizeof(p)));
	ASSERT_EQ(0, shpt_attach(self->fd, pid, 0, &self->asid));
	pfd.fd = rep[0];
	pfd.events = POLLIN;
	t0 = shpt_now();
	for (round = 0; round < COW_ROUNDS &&
	     shpt_now() - t0 < COW_SECONDS; round++) {
		ASSERT_EQ(1, write(cmd[1], "g", 1));
		ASSERT_EQ(1, read(rep[0], &c, 1));
		ASSERT_EQ('r', c);
		/* Populate while the pages are copied, until the round ends. */
		do {
			ASSERT_EQ(0, shpt_populate(self->fd, self->asid, p,
						   p + COW_PAGES * SHPT_PAGE,
						   &op));
			populates++;
			retries += op.retries;
			inserted += op.inserted;
		} while (poll(&pfd, 1, 0) == 0);
		ASSERT_EQ(1, read(rep[0], &c, 1));
		ASSERT_EQ('d', c);
		ASSERT_EQ(0, shpt_verify(self->fd, self->asid, p,
					 p + COW_PAGES * SHPT_PAGE, &op));
		if (op.stale)
			TH_LOG("round %d: %llu stale of %llu", round,
			       (unsigned long long)op.stale,
			       (unsigned long long)op.checked);
		ASSERT_EQ(0ULL, op.stale);
	}
	TH_LOG("%d rounds of %d CoW copies in %.1f s: %lu populates, %lu entries inserted, %lu retries",
	       round, COW_PAGES, shpt_now() - t0, populates, inserted,
	       retries);
	ASSERT_LT(0, round);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	close(cmd[1]);
	close(rep[0]);
	waitpid(pid, NULL, 0);
	sched_setaffinity(0, sizeof(old), &old);
	numa_balancing(true);
}

/*
 * A present page of a VMA without VM_READ (PROT_NONE, write-only) is
 * present: FILL, then HIT, with its pfn and without SHPT_PF_READ.  The old
 * code took hmm_range_fault()'s HMM_PFN_ERROR for such a VMA as absent.
 */
TEST_F(mirror, noread_present)
{
	unsigned long none, wonly;

	none = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, none);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MPROTECT, none,
				     NPAGES * SHPT_PAGE, PROT_NONE, 0, 0));
	wonly = shpt_target_mmap(&self->t, 0, NPAGES * SHPT_PAGE, PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, wonly);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, wonly,
				     NPAGES * SHPT_PAGE, 1, 0, 0));

	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, 0, &self->asid));
	CHECK(none, NPAGES, 0, LK_MASK(SHPT_LK_FILL), SHPT_PF_ANON,
	      SHPT_PF_READ | SHPT_PF_WRITE, 0, NULL);
	CHECK(wonly, NPAGES, 0, LK_MASK(SHPT_LK_FILL),
	      SHPT_PF_WRITE | SHPT_PF_ANON, SHPT_PF_READ, 0, NULL);
	CHECK(none, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0,
	      SHPT_PF_READ, 0, NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);

	/* Populate sees them too, and unmapping removes them. */
	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid));
	CHECK(none, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0,
	      SHPT_PF_READ, 0, NULL);
	CHECK(wonly, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_HIT), 0,
	      SHPT_PF_READ, 0, NULL);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MUNMAP, none,
				     NPAGES * SHPT_PAGE, 0, 0, 0));
	CHECK(none, NPAGES, SHPT_LOOKUP_NOFILL, LK_MASK(SHPT_LK_NONE), 0, 0,
	      0, NULL);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

#define GIB		(1UL << 30)
#define MAP_HUGE_1GB_	(30U << 26)	/* MAP_HUGE_1GB, <linux/mman.h> */

#define GIGANTIC_DIR	"/sys/kernel/mm/hugepages/hugepages-1048576kB/"

static long free_gigantic_pages(void)
{
	char buf[32];

	if (shpt_read_file(GIGANTIC_DIR "free_hugepages", buf, sizeof(buf)))
		return 0;
	return atol(buf);
}

/*
 * A free 1 GiB page: reserved at boot (run.sh), or else allocated now.
 * Return: true if this allocated one (give it back with "0").
 */
static bool get_gigantic_page(void)
{
	if (free_gigantic_pages() >= 1)
		return false;
	shpt_write_file(GIGANTIC_DIR "nr_hugepages", "1");
	return free_gigantic_pages() >= 1;
}

/*
 * A PUD-mapped 1 GiB hugetlb page is one entry of order 18, found (HIT,
 * the right pfn) at any offset inside it, by fill and by populate.  The
 * old code made 262,144 order-0 entries of it.
 */
TEST_F_TIMEOUT(mirror, hugetlb_1g, 120)
{
	static const unsigned long offs[] = {
		0, SHPT_PAGE, SHPT_HPAGE + 5 * SHPT_PAGE, GIB / 2,
		GIB - SHPT_PAGE,
	};
	struct shpt_lookup_result r;
	struct shpt_range_op op;
	unsigned long va;
	long long pm;
	unsigned int i;

	if (get_gigantic_page())
		TH_LOG("allocated a 1 GiB page at run time");
	if (free_gigantic_pages() < 1)
		SKIP(return, "no free 1 GiB hugetlb page (boot with hugepagesz=1G hugepages=1)");
	va = shpt_target_mmap(&self->t, 0, GIB, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			      MAP_HUGE_1GB_);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0UL, va & (GIB - 1));
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va, SHPT_PAGE,
				     1, 0, 0));

	/* Fill: one lookup inserts the whole page. */
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, 0, &self->asid));
	ASSERT_EQ(0, shpt_lookup1(self->fd, self->asid, va + GIB / 4, 0, &r));
	ASSERT_EQ(SHPT_LK_FILL, r.status);
	ASSERT_EQ(18, r.order);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		pm = shpt_pagemap_pfn(self->t.pid, va + offs[i]);
		ASSERT_LT(0, pm);
		ASSERT_EQ(0, shpt_lookup1(self->fd, self->asid, va + offs[i],
					  SHPT_LOOKUP_NOFILL, &r));
		TH_LOG("offset %#lx: status %u order %u", offs[i], r.status,
		       r.order);
		ASSERT_EQ(SHPT_LK_HIT, r.status);
		ASSERT_EQ(18, r.order);
		ASSERT_EQ(pm, (long long)r.pfn);
	}
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);

	/* Populate: one entry. */
	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, 0, &self->asid));
	ASSERT_EQ(0, shpt_populate(self->fd, self->asid, va, va + GIB, &op));
	TH_LOG("populate: checked %llu inserted %llu",
	       (unsigned long long)op.checked,
	       (unsigned long long)op.inserted);
	ASSERT_EQ(1ULL, op.inserted);
	ASSERT_EQ(GIB / SHPT_PAGE, op.checked);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		ASSERT_EQ(0, shpt_lookup1(self->fd, self->asid, va + offs[i],
					  SHPT_LOOKUP_NOFILL, &r));
		ASSERT_EQ(SHPT_LK_HIT, r.status);
		ASSERT_EQ(18, r.order);
	}
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);

	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MUNMAP, va, GIB, 0, 0,
				     0));
	ASSERT_EQ(0, shpt_lookup1(self->fd, self->asid, va + GIB / 2,
				  SHPT_LOOKUP_NOFILL, &r));
	ASSERT_EQ(SHPT_LK_NONE, r.status);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

#define BIG_PAGES	131072	/* 512 MiB */
#define UNMAP_STEP	64	/* munmap one page in each 64 */

struct unmapper {
	struct shpt_target *t;
	unsigned long va;
	volatile int *verifying;
	double max_lat;
	unsigned int during;
	int err;
};

/* Unmap one page in UNMAP_STEP while VERIFY runs, timing each munmap. */
static void *unmapper_thread(void *arg)
{
	struct unmapper *u = arg;
	unsigned int i;
	double t0, lat;

	while (!*u->verifying)
		;
	for (i = 0; i < BIG_PAGES / UNMAP_STEP && *u->verifying == 1; i++) {
		t0 = shpt_now();
		if (shpt_target_cmd(u->t, SHPT_T_MUNMAP,
				    u->va + (i * UNMAP_STEP + 7) * SHPT_PAGE,
				    SHPT_PAGE, 0, 0, 0)) {
			u->err = 1;
			break;
		}
		/* Issued during VERIFY: counts even if it ends after it. */
		lat = shpt_now() - t0;
		u->during++;
		if (lat > u->max_lat)
			u->max_lat = lat;
		usleep(1000);
	}
	return NULL;
}

/*
 * VERIFY of a big mirror while the process munmaps pieces of it: it
 * finds nothing stale, and it holds neither mmap_lock nor the mirror lock
 * (which every invalidation takes) for its whole length, so each munmap
 * finishes long before VERIFY does.  The old code walked the whole index
 * under both locks: a munmap issued then waited for the whole walk.
 */
TEST_F_TIMEOUT(mirror, verify_not_blocking, 180)
{
	volatile int verifying = 0;
	struct unmapper u = { .t = &self->t, .verifying = &verifying };
	struct shpt_range_op op;
	double t0, dur;
	pthread_t th;
	int ret;

	/* NUMA hinting would unmap (PROT_NONE) pages under us. */
	numa_balancing(false);
	u.va = map_pages(&self->t, BIG_PAGES, true);
	ASSERT_NE(0UL, u.va);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid));
	ASSERT_EQ(0, shpt_populate(self->fd, self->asid, u.va,
				   u.va + BIG_PAGES * SHPT_PAGE, &op));
	TH_LOG("populate again: checked %llu inserted %llu missing %llu",
	       (unsigned long long)op.checked,
	       (unsigned long long)op.inserted,
	       (unsigned long long)op.missing);
	ASSERT_EQ((__u64)BIG_PAGES, op.checked);
	ASSERT_EQ(0, pthread_create(&th, NULL, unmapper_thread, &u));
	t0 = shpt_now();
	verifying = 1;
	ret = shpt_verify(self->fd, self->asid, 0, 0, &op);
	verifying = 2;
	dur = shpt_now() - t0;
	pthread_join(th, NULL);
	TH_LOG("verify %.3f s: ret %d checked %llu stale %llu missing %llu retries %llu; %u munmaps during it, the slowest %.3f s",
	       dur, ret, (unsigned long long)op.checked,
	       (unsigned long long)op.stale, (unsigned long long)op.missing,
	       (unsigned long long)op.retries, u.during, u.max_lat);
	ASSERT_EQ(0, u.err);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0ULL, op.stale);
	/*
	 * Ordering, not timing: under a VERIFY that held the callback lock
	 * for its whole walk, the first munmap would wait for all of it, so
	 * only one would be issued during it.  The latency is only logged.
	 */
	ASSERT_LE(4U, u.during);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	numa_balancing(true);
}

/* ---- load-time target: reloads the module, so it runs last ---------- */

/*
 * Whether the kernel log after the last @marker line has a "shpt" message
 * containing @needle.
 */
static bool kmsg_has_after(const char *marker, const char *needle)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *p, *m = NULL;
	bool found = false;

	if (len <= 0)
		return false;
	buf = calloc(1, len + 1);
	if (!buf)
		return false;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len > 0) {
		buf[len] = '\0';
		for (p = strstr(buf, marker); p; p = strstr(p + 1, marker))
			m = p + strlen(marker);
		for (p = m ? strstr(m, "shpt") : NULL; p && !found;
		     p = strstr(p + 1, "shpt")) {
			char *eol = strchrnul(p, '\n'), *n = strstr(p, needle);

			found = n && n < eol;
		}
	}
	free(buf);
	return found;
}

static void kmsg_mark(const char *marker)
{
	shpt_write_file("/dev/kmsg", marker);
}

TEST_F_TIMEOUT(mirror, load_time_pid, 60)
{
	const char *ko = getenv("SHPT_KO");
	char params[64];
	unsigned long va;
	__u64 asid;
	int ret;

	if (!ko)
		SKIP(return, "SHPT_KO is not set");
	va = map_pages(&self->t, NPAGES, true);
	ASSERT_NE(0UL, va);
	close(self->fd);
	self->fd = -1;

	ret = shpt_rmmod();
	ASSERT_EQ(0, ret) TH_LOG("rmmod: %s", strerror(-ret));
	snprintf(params, sizeof(params), "pid=%d", self->t.pid);
	ret = shpt_insmod(ko, params);
	ASSERT_EQ(0, ret) TH_LOG("insmod %s: %s", params, strerror(-ret));

	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	/* The module owns a mirror of the target: a second attach fails. */
	ASSERT_EQ(-EEXIST, shpt_attach(self->fd, self->t.pid, 0, &asid));
	if (!access(SHPT_DEBUGFS "/asids", R_OK)) {
		struct shpt_asid_row row;

		ASSERT_EQ(1, shpt_debugfs_asid_row(0, self->t.pid, &row));
		TH_LOG("module-owned: asid %llu entries %llu state %s",
		       row.asid, row.entries, row.state);
		ASSERT_LE((unsigned long long)NPAGES, row.entries);
		/* Usable by CAP_SYS_ADMIN from any fd, never detachable. */
		ASSERT_EQ(0, check_pages(_metadata, self->fd, row.asid,
					 self->t.pid, va, NPAGES,
					 SHPT_LOOKUP_NOFILL,
					 LK_MASK(SHPT_LK_HIT), SHPT_PF_WRITE,
					 0, 0, NULL));
		SHPT_ASSERT_NO_STALE(self->fd, row.asid);
		ASSERT_EQ(-ENOENT, shpt_detach(self->fd, row.asid));
	}
	/* rmmod drops the module-owned mirror of a live process. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, shpt_rmmod());
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va,
				     NPAGES * SHPT_PAGE, 2, 0, 0));

	/* Bad targets fail the load, with a message naming the pid. */
	kmsg_mark("selftest: insmod pid=-1");
	ret = shpt_insmod(ko, "pid=-1");
	TH_LOG("insmod pid=-1: %s", strerror(-ret));
	ASSERT_NE(0, ret);
	ASSERT_NE(0, access("/sys/module/shpt", F_OK));
	ASSERT_TRUE(kmsg_has_after("selftest: insmod pid=-1", "pid=-1"));

	kmsg_mark("selftest: insmod pid=999999");
	ret = shpt_insmod(ko, "pid=999999");
	TH_LOG("insmod pid=999999: %s", strerror(-ret));
	ASSERT_NE(0, ret);
	ASSERT_NE(0, access("/sys/module/shpt", F_OK));
	ASSERT_TRUE(kmsg_has_after("selftest: insmod pid=999999",
				   "pid=999999"));

	/* Leave it loaded with the defaults; the target is free again. */
	ret = shpt_insmod(ko, "");
	ASSERT_EQ(0, ret) TH_LOG("insmod: %s", strerror(-ret));
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid));
	ASSERT_EQ(0, check_pages(_metadata, self->fd, self->asid, self->t.pid,
				 va, NPAGES, SHPT_LOOKUP_NOFILL,
				 LK_MASK(SHPT_LK_HIT), SHPT_PF_WRITE, 0, 0,
				 NULL));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
}

SHPT_HARNESS_MAIN
