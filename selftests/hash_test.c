// SPDX-License-Identifier: GPL-2.0
/*
 * The table inside the kernel, under each bucket hash (siphash, hsiphash,
 * modulo): the module is reloaded with a small table, a target with a few
 * thousand pages is mirrored, and the table must grow behind it, answer
 * every page with the pfn that /proc/PID/pagemap gives, stay coherent
 * through a munmap, and shrink back once the mirror is gone.
 *
 * The host tests cover the table's logic; this covers it as built for and
 * run by the kernel: the resize worker, RCU, the per-CPU statistics, and
 * each hash's kernel implementation.
 */
#include "shpt_harness.h"
#include "shpt_test_util.h"

#define NPAGES		4096UL
#define LOOKUP_BATCH	512U
#define SETTLE_SECONDS	20

/* Wait until entries * 100 <= max_load * buckets (the worker caught up). */
static bool wait_load_within(long long max_load_pct)
{
	double end = shpt_now() + SETTLE_SECONDS;

	do {
		if (shpt_stat("entries") * 100 <= max_load_pct * shpt_stat("buckets"))
			return true;
		usleep(50000);
	} while (shpt_now() < end);
	return false;
}

static bool wait_buckets(long long want)
{
	double end = shpt_now() + SETTLE_SECONDS;

	do {
		if (shpt_stat("buckets") == want)
			return true;
		usleep(50000);
	} while (shpt_now() < end);
	return false;
}

FIXTURE(hash)
{
	struct shpt_target t;
	unsigned long va;
	int fd;
	__u64 asid;
};

FIXTURE_VARIANT(hash)
{
	const char *name;
};

FIXTURE_VARIANT_ADD(hash, siphash) { .name = "siphash" };
FIXTURE_VARIANT_ADD(hash, hsiphash) { .name = "hsiphash" };
FIXTURE_VARIANT_ADD(hash, modulo) { .name = "modulo" };

FIXTURE_SETUP(hash)
{
	char params[128], v[64];

	self->fd = -1;
	if (geteuid() != 0)
		SKIP(return, "needs root to reload the module");
	if (!getenv("SHPT_KO"))
		SKIP(return, "SHPT_KO (the path of shpt.ko) is not set");
	/* The target first: it must not inherit a /dev/shpt fd. */
	ASSERT_EQ(0, shpt_target_start(&self->t));
	snprintf(params, sizeof(params),
		 "hash=%s buckets=64 min_buckets=64 max_load=75 min_load=25",
		 variant->name);
	ASSERT_EQ(0, shpt_reload(params)) TH_LOG("insmod %s", params);
	ASSERT_EQ(0, shpt_read_file(SHPT_PARAM_DIR "/hash", v, sizeof(v)));
	ASSERT_EQ(0, strncmp(v, variant->name, strlen(variant->name)));
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	self->va = shpt_target_mmap(&self->t, 0, NPAGES * SHPT_PAGE,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, self->va);
	/* No THP: this test wants NPAGES order-0 entries. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE, self->va,
				     NPAGES * SHPT_PAGE, MADV_NOHUGEPAGE, 0, 0));
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, self->va,
				     NPAGES * SHPT_PAGE, 1, 0, 0));
}

FIXTURE_TEARDOWN(hash)
{
	if (self->fd >= 0)
		close(self->fd);
	shpt_target_kill(&self->t);
	if (getenv("SHPT_KO") && shpt_reload(""))
		TH_LOG("cannot reload shpt with default parameters");
}

TEST_F_TIMEOUT(hash, grow_answer_shrink, 120)
{
	struct shpt_lookup_result res[LOOKUP_BATCH];
	unsigned long i, j, bad = 0;
	long long pfn;

	SHPT_RETURN_IF_SKIPPED();
	ASSERT_EQ(64, shpt_stat("buckets"));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid));
	ASSERT_LE((long long)NPAGES, shpt_stat("entries"));

	/* 4096+ entries in 64 buckets: the worker must grow the table. */
	ASSERT_TRUE(wait_load_within(75))
		TH_LOG("entries %lld buckets %lld after %d s",
		       shpt_stat("entries"), shpt_stat("buckets"), SETTLE_SECONDS);
	EXPECT_LE(1, shpt_stat("grows"));

	/* Every page answers from the table with the real frame. */
	for (i = 0; i < NPAGES; i += LOOKUP_BATCH) {
		ASSERT_EQ(0, shpt_lookup_range(self->fd, self->asid,
					       self->va + i * SHPT_PAGE,
					       LOOKUP_BATCH, res,
					       SHPT_LOOKUP_NOFILL));
		for (j = 0; j < LOOKUP_BATCH; j++) {
			pfn = shpt_pagemap_pfn(self->t.pid,
					       self->va + (i + j) * SHPT_PAGE);
			if (res[j].status != SHPT_LK_HIT ||
			    (long long)res[j].pfn != pfn)
				bad++;
		}
	}
	EXPECT_EQ(0UL, bad) TH_LOG("%lu of %lu pages not a hit with the pagemap pfn",
				   bad, NPAGES);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);

	/*
	 * Unmap the upper half: its entries go.  The lower half may lose
	 * entries too (the kernel may invalidate more than it unmaps, e.g.
	 * a whole PMD when it splits one), but whatever it holds, or fills
	 * again, is the real frame.
	 */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MUNMAP,
				     self->va + NPAGES / 2 * SHPT_PAGE,
				     NPAGES / 2 * SHPT_PAGE, 0, 0, 0));
	for (i = NPAGES / 2; i < NPAGES; i += LOOKUP_BATCH) {
		ASSERT_EQ(0, shpt_lookup_range(self->fd, self->asid,
					       self->va + i * SHPT_PAGE,
					       LOOKUP_BATCH, res,
					       SHPT_LOOKUP_NOFILL));
		for (j = 0; j < LOOKUP_BATCH; j++)
			if (res[j].status != SHPT_LK_NONE)
				bad++;
	}
	EXPECT_EQ(0UL, bad) TH_LOG("%lu unmapped pages still answer", bad);
	for (i = 0; i < NPAGES / 2; i += LOOKUP_BATCH) {
		ASSERT_EQ(0, shpt_lookup_range(self->fd, self->asid,
					       self->va + i * SHPT_PAGE,
					       LOOKUP_BATCH, res, 0));
		for (j = 0; j < LOOKUP_BATCH; j++) {
			pfn = shpt_pagemap_pfn(self->t.pid,
					       self->va + (i + j) * SHPT_PAGE);
			if ((res[j].status != SHPT_LK_HIT &&
			     res[j].status != SHPT_LK_FILL) ||
			    (long long)res[j].pfn != pfn)
				bad++;
		}
	}
	EXPECT_EQ(0UL, bad) TH_LOG("%lu mapped pages wrong after the munmap",
				   bad);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);

	/* Gone with the mirror; the table shrinks back to min_buckets. */
	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
	EXPECT_EQ(0, shpt_stat("entries"));
	EXPECT_TRUE(wait_buckets(64))
		TH_LOG("buckets %lld after %d s", shpt_stat("buckets"),
		       SETTLE_SECONDS);
	EXPECT_LE(1, shpt_stat("shrinks"));
	EXPECT_EQ(0, shpt_stat("alloc_fail"));
}

SHPT_HARNESS_MAIN
