// SPDX-License-Identifier: GPL-2.0
/*
 * cost_test: an invalidation costs what the invalidated ASID holds in the
 * range, never the table.
 *
 * Each mirror indexes its own entries (module/mirror.c: DOC: Entry index),
 * so munmap of a huge sparse reservation and process exit must neither
 * sweep the global table nor touch another ASID's entries:
 *
 * own_entries_only   a big target (BIG_PAGES entries) and a small one; the
 *                    small one munmaps a 64 GiB (4 GiB on a debug
 *                    kernel) sparse PROT_NONE reservation (a THP and a few pages touched in it),
 *                    then exits.  The table's removes, the mirror's
 *                    inval_entries and the small ASID's entry count agree
 *                    exactly, inval_sweeps does not move, and the big
 *                    target keeps every entry (all HIT, 0 stale).
 *
 * Cost is shown by counts, not by timing: tests never assert on time.
 * (By hand, under TCG with a 2^22-bucket table, the old sweeping code took
 * 167 ms per munmap and 320 ms per exit of such a target, against 1 ms
 * unmirrored; with the index the difference is below 1 ms.)
 *
 * Needs root.
 */
#include "shpt_harness.h"

#include <sys/syscall.h>

#include "shpt_test_util.h"

#define BIG_PAGES	4096UL
#define NSCATTER	8		/* single pages touched in it */

/*
 * The sparse reservation: 64 GiB, with the scattered pages 7 GiB apart.
 * A debug kernel (SHPT_TIMEOUT_SCALE > 1) gets 4 GiB: VERIFY snapshots
 * the reservation's VMA, which costs its length, and KASAN under
 * emulation makes 64 GiB take many minutes.  The counts asserted are
 * the same at either size.
 */
static unsigned long reserve_bytes(void)
{
	return shpt_timeout_scale() > 1 ? 4UL << 30 : 64UL << 30;
}

#define RESERVE		reserve_bytes()
#define SCATTER_STEP	(RESERVE / 64 * 7)

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"

struct costs {
	long long sweeps, inval_entries, removes;
};

static int costs_read(struct costs *c)
{
	c->sweeps = shpt_stat("inval_sweeps");
	c->inval_entries = shpt_stat("inval_entries");
	c->removes = shpt_stat("removes");
	return c->sweeps < 0 || c->inval_entries < 0 || c->removes < 0 ?
	       -1 : 0;
}

/* Entries of @asid from debugfs "asids", or -1. */
static long long asid_entries(__u64 asid)
{
	struct shpt_asid_row row = { 0 };

	if (shpt_debugfs_asid_row(asid, 0, &row) != 1)
		return -1;
	return (long long)row.entries;
}

/*
 * In @t: reserve RESERVE bytes PROT_NONE, then make NSCATTER single pages
 * and, if @thp, one aligned 2 MiB block (MADV_HUGEPAGE) writable and touch
 * them.  Returns the reservation, 0 on failure; *@thp_va gets the block.
 */
static unsigned long sparse_setup(struct shpt_target *t, bool thp,
				  unsigned long *thp_va)
{
	unsigned long res, va;
	int i;

	res = shpt_target_mmap(t, 0, RESERVE, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	if (!res)
		return 0;
	for (i = 0; i < NSCATTER; i++) {
		va = res + SHPT_PAGE + i * SCATTER_STEP;
		if (shpt_target_cmd(t, SHPT_T_MPROTECT, va, SHPT_PAGE,
				    PROT_READ | PROT_WRITE, 0, 0) ||
		    shpt_target_cmd(t, SHPT_T_TOUCH, va, SHPT_PAGE, i + 1, 0, 0))
			return 0;
	}
	*thp_va = 0;
	if (!thp)
		return res;
	va = (res + (3UL << 30) + SHPT_HPAGE - 1) & ~(SHPT_HPAGE - 1);
	if (shpt_target_cmd(t, SHPT_T_MPROTECT, va, SHPT_HPAGE,
			    PROT_READ | PROT_WRITE, 0, 0) ||
	    shpt_target_cmd(t, SHPT_T_MADVISE, va, SHPT_HPAGE, MADV_HUGEPAGE,
			    0, 0) ||
	    shpt_target_cmd(t, SHPT_T_TOUCH, va, SHPT_HPAGE, 7, 0, 0))
		return 0;
	*thp_va = va;
	return res;
}

/* Populate what sparse_setup() touched.  0 or -errno. */
static int sparse_populate(int fd, __u64 asid, unsigned long res,
			   unsigned long thp_va)
{
	struct shpt_range_op op;
	unsigned long va;
	int i, ret;

	for (i = 0; i < NSCATTER; i++) {
		va = res + SHPT_PAGE + i * SCATTER_STEP;
		ret = shpt_populate(fd, asid, va, va + SHPT_PAGE, &op);
		if (ret)
			return ret;
	}
	if (thp_va)
		return shpt_populate(fd, asid, thp_va, thp_va + SHPT_HPAGE,
				     &op);
	return 0;
}

FIXTURE(cost) {
	int fd;
	struct shpt_target big, small;
	char numa[16];		/* numa_balancing to restore, "" if none */
};

FIXTURE_SETUP(cost)
{
	memset(&self->big, 0, sizeof(self->big));
	memset(&self->small, 0, sizeof(self->small));
	self->numa[0] = '\0';
	/*
	 * NUMA balancing would unmap the idle big target's pages now and
	 * then (PROTECTION_VMA), which is an invalidation of the big ASID
	 * this test does not expect.
	 */
	if (!shpt_read_file(NUMA_BALANCING, self->numa, sizeof(self->numa)))
		shpt_write_file(NUMA_BALANCING, "0");
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SHPT_DEV,
				      strerror(errno));
	if (shpt_stat("inval_sweeps") < 0)
		SKIP(return, "debugfs stats without inval_sweeps");
}

FIXTURE_TEARDOWN(cost)
{
	shpt_target_kill(&self->small);
	shpt_target_kill(&self->big);
	if (self->fd >= 0)
		close(self->fd);
	if (self->numa[0])
		shpt_write_file(NUMA_BALANCING, self->numa);
}

TEST_F_TIMEOUT(cost, own_entries_only, 90)
{
	unsigned long big_va, res, thp_va, i;
	long long big_n, small_n, small_after, small_gone, n;
	struct shpt_lookup_result *lr;
	struct costs c0, c1, c2;
	struct shpt_range_op op;
	__u64 big_asid, small_asid;
	unsigned int hits = 0, thp_order = 0;

	SHPT_RETURN_IF_SKIPPED();
	/*
	 * The small target first: its THP fault may compact memory, which
	 * would migrate (invalidate) the big target's pages.
	 */
	ASSERT_EQ(0, shpt_target_start(&self->small));
	res = sparse_setup(&self->small, true, &thp_va);
	ASSERT_NE(0UL, res);

	ASSERT_EQ(0, shpt_target_start(&self->big));
	big_va = shpt_target_mmap(&self->big, 0, BIG_PAGES * SHPT_PAGE,
				  PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, big_va);
	/* No khugepaged collapse (an invalidation) behind the test's back. */
	ASSERT_EQ(0, shpt_target_cmd(&self->big, SHPT_T_MADVISE, big_va,
				     BIG_PAGES * SHPT_PAGE, MADV_NOHUGEPAGE,
				     0, 0));
	ASSERT_EQ(0, shpt_target_cmd(&self->big, SHPT_T_TOUCH, big_va,
				     BIG_PAGES * SHPT_PAGE, 1, 0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, self->big.pid, SHPT_ATTACH_POPULATE,
				 &big_asid));
	big_n = asid_entries(big_asid);
	ASSERT_LE((long long)BIG_PAGES, big_n);

	ASSERT_EQ(0, shpt_attach(self->fd, self->small.pid, 0, &small_asid));
	ASSERT_EQ(0, sparse_populate(self->fd, small_asid, res, thp_va));
	lr = calloc(BIG_PAGES, sizeof(*lr));
	ASSERT_NE(NULL, lr);
	ASSERT_EQ(0, shpt_lookup1(self->fd, small_asid, thp_va,
				  SHPT_LOOKUP_NOFILL, lr));
	ASSERT_EQ(SHPT_LK_HIT, lr->status);
	thp_order = lr->order;
	small_n = asid_entries(small_asid);
	TH_LOG("big asid %llu: %lld entries; small asid %llu: %lld entries (THP block at order %u)",
	       (unsigned long long)big_asid, big_n,
	       (unsigned long long)small_asid, small_n, thp_order);
	ASSERT_EQ((long long)NSCATTER + (thp_order ? 1 : 512), small_n);
	SHPT_ASSERT_NO_STALE(self->fd, small_asid);

	/* munmap of the whole reservation: its entries, nothing else. */
	ASSERT_EQ(0, costs_read(&c0));
	ASSERT_EQ(0, shpt_target_cmd(&self->small, SHPT_T_MUNMAP, res, RESERVE,
				     0, 0, 0));
	ASSERT_EQ(0, costs_read(&c1));
	small_after = asid_entries(small_asid);
	TH_LOG("munmap: removes +%lld inval_entries +%lld inval_sweeps +%lld; small now %lld",
	       c1.removes - c0.removes, c1.inval_entries - c0.inval_entries,
	       c1.sweeps - c0.sweeps, small_after);
	ASSERT_EQ(0, small_after);
	ASSERT_EQ(small_n, c1.removes - c0.removes);
	ASSERT_EQ(small_n, c1.inval_entries - c0.inval_entries);
	ASSERT_EQ(c0.sweeps, c1.sweeps);
	SHPT_ASSERT_NO_STALE(self->fd, small_asid);

	/* Exit: the rest of the small ASID goes, in callbacks. */
	ASSERT_EQ(0, shpt_populate(self->fd, small_asid, 0, 0, &op));
	small_n = asid_entries(small_asid);
	ASSERT_LT(0, small_n);
	ASSERT_EQ(0, costs_read(&c1));
	shpt_target_stop(&self->small);
	ASSERT_EQ(0, costs_read(&c2));
	small_gone = small_n - asid_entries(small_asid);
	TH_LOG("exit: %lld entries; removes +%lld, inval_entries +%lld, inval_sweeps +%lld",
	       small_n, c2.removes - c1.removes,
	       c2.inval_entries - c1.inval_entries, c2.sweeps - c1.sweeps);
	ASSERT_EQ(small_n, small_gone);
	ASSERT_EQ(small_n, c2.removes - c1.removes);
	ASSERT_EQ(small_n, c2.inval_entries - c1.inval_entries);
	ASSERT_EQ(c0.sweeps, c2.sweeps);
	SHPT_ASSERT_NO_STALE(self->fd, small_asid);
	ASSERT_EQ(0, shpt_detach(self->fd, small_asid));

	/* The big ASID lost nothing: every page still answers from it. */
	n = asid_entries(big_asid);
	ASSERT_EQ(big_n, n);
	ASSERT_EQ(0, shpt_lookup_range(self->fd, big_asid, big_va, BIG_PAGES,
				       lr, SHPT_LOOKUP_NOFILL));
	for (i = 0; i < BIG_PAGES; i++)
		hits += lr[i].status == SHPT_LK_HIT;
	free(lr);
	TH_LOG("big asid: %u of %lu pages HIT", hits, BIG_PAGES);
	ASSERT_EQ(BIG_PAGES, hits);
	SHPT_ASSERT_NO_STALE(self->fd, big_asid);
	ASSERT_EQ(c0.sweeps, shpt_stat("inval_sweeps"));
}

SHPT_HARNESS_MAIN
