// SPDX-License-Identifier: GPL-2.0
/*
 * shpt under allocation failures.  Each path that allocates (ATTACH,
 * ATTACH|POPULATE, POPULATE, LOOKUP fills in small and large batches, with
 * them the per-ASID index, the resize worker, and the debugfs "frames"
 * view) runs again and again
 * with one allocation failing: the 1st, then the 2nd, and so on until the
 * path completes without reaching the armed one, so every allocation on it
 * fails once.  Every failure must come back as -ENOMEM or as an entry
 * left out (counted in alloc_fail / mirror_alloc_fail), never as a crash,
 * a WARN, a leak (the VM's kmemleak scan after rmmod) or a stale entry:
 * after each run the mirror, if any, verifies with 0 stale, no page that
 * was unmapped still answers, and detach leaves no entry behind.
 *
 * The ioctl paths use /proc/thread-self/fail-nth, which counts every
 * failslab and fail_page_alloc check of this thread alone; the knobs are
 * set so that GFP_KERNEL and order-0 allocations count too, and so that an
 * injected failure prints nothing (verbose=0: a stack would read as a
 * kernel bug).  The resize runs in a kworker, so that test uses failslab's
 * task filter with make-it-fail on the unbound kworkers, and times=1.
 *
 * Needs root, debugfs and a kernel with CONFIG_FAULT_INJECTION and
 * CONFIG_FAILSLAB (the debug kernel of "make check-debug"); skips
 * otherwise.  The resize test also needs $SHPT_KO.
 */
#include "shpt_harness.h"

#include <dirent.h>

#include "shpt_test_util.h"

#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAILPAGE	"/sys/kernel/debug/fail_page_alloc/"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define NPAGES		32U
#define BIG_BATCH	1024	/* 8 KiB and 16 KiB buffers: the vmalloc fallback */
#define SWEEP_MAX	5000U

struct fi_knob {
	const char *path;
	const char *val;
	char saved[64];
	bool set;
};

/* What every test here needs; restored by the teardown. */
static struct fi_knob fi_knobs[] = {
	{ .path = FAILSLAB "verbose", .val = "0" },
	{ .path = FAILSLAB "probability", .val = "0" },
	{ .path = FAILSLAB "ignore-gfp-wait", .val = "N" },
	{ .path = FAILSLAB "cache-filter", .val = "N" },
	{ .path = FAILSLAB "task-filter", .val = "N" },
	{ .path = FAILSLAB "times", .val = "-1" },
	{ .path = FAILSLAB "interval", .val = "1" },
	{ .path = FAILSLAB "space", .val = "0" },
	{ .path = FAILPAGE "verbose", .val = "0" },
	{ .path = FAILPAGE "probability", .val = "0" },
	{ .path = FAILPAGE "ignore-gfp-wait", .val = "N" },
	{ .path = FAILPAGE "ignore-gfp-highmem", .val = "Y" },
	{ .path = FAILPAGE "min-order", .val = "0" },
	/*
	 * NUMA balancing makes PTEs PROT_NONE behind the test's back, and
	 * hmm_range_fault() does not report those pages without a fault: a
	 * fill would find a page "absent" that pagemap shows present.
	 */
	{ .path = "/proc/sys/kernel/numa_balancing", .val = "0" },
};

static int fi_knobs_set(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(fi_knobs); i++) {
		struct fi_knob *k = &fi_knobs[i];

		if (shpt_read_file(k->path, k->saved, sizeof(k->saved)))
			continue;	/* no fail_page_alloc: failslab only */
		k->saved[strcspn(k->saved, "\n")] = '\0';
		ret = shpt_write_file(k->path, k->val);
		if (ret)
			return ret;
		k->set = true;
	}
	return 0;
}

static void fi_knobs_restore(void)
{
	int i;

	/* Backwards: verbose comes back last, after probability. */
	for (i = ARRAY_SIZE(fi_knobs) - 1; i >= 0; i--)
		if (fi_knobs[i].set) {
			shpt_write_file(fi_knobs[i].path, fi_knobs[i].saved);
			fi_knobs[i].set = false;
		}
}

/* The outcome of one sweep, for the log. */
struct fi_sweep {
	const char *name;
	unsigned int calls;	/* allocation checks the path made */
	long injected;		/* runs in which the armed failure fired */
	long enomem;		/* runs that returned -ENOMEM */
	long long alloc_fail;	/* table alloc_fail, this sweep */
	long long mirror_alloc_fail;	/* mirror_alloc_fail, this sweep */
};

FIXTURE(fault)
{
	int fd;
	int nth_fd;
	struct shpt_target t;
	unsigned long va;
	bool reloaded;
};

FIXTURE_SETUP(fault)
{
	int ret;

	self->fd = -1;
	self->nth_fd = -1;
	if (geteuid() != 0)
		SKIP(return, "needs root");
	if (access(FAIL_NTH, W_OK))
		SKIP(return, "no %s (kernel without CONFIG_FAULT_INJECTION)",
		     FAIL_NTH);
	if (access(FAILSLAB "probability", W_OK))
		SKIP(return, "no %s (kernel without CONFIG_FAILSLAB or debugfs)",
		     FAILSLAB);
	ret = fi_knobs_set();
	ASSERT_EQ(0, ret) TH_LOG("fault injection knobs: %s", strerror(-ret));
	/* The target first: it must not inherit a /dev/shpt fd. */
	ASSERT_EQ(0, shpt_target_start(&self->t));
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	self->nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth_fd);
}

FIXTURE_TEARDOWN(fault)
{
	if (self->nth_fd >= 0) {
		if (pwrite(self->nth_fd, "0", 1, 0) != 1)
			TH_LOG("cannot disarm fail-nth");
		close(self->nth_fd);
	}
	fi_knobs_restore();
	if (self->fd >= 0)
		close(self->fd);
	shpt_target_kill(&self->t);
	if (self->reloaded && (shpt_rmmod() ||
			       shpt_insmod(getenv("SHPT_KO"), "")))
		TH_LOG("cannot reload shpt with default parameters");
}

/* Make the @n-th allocation check of this thread fail. */
static int fi_arm(int nth_fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth_fd, buf, len, 0) == len ? 0 : -errno;
}

/* Disarm; return true if the armed failure was injected. */
static bool fi_disarm(int nth_fd)
{
	char buf[16] = "";

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) > 0 && atoi(buf) == 0)
		return true;
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		abort();	/* an armed thread would fail at random */
	return false;
}

/* (Re)map and write the test region of the target. */
static int region_reset(struct shpt_target *t, unsigned long *va)
{
	unsigned long p;

	p = shpt_target_mmap(t, *va, NPAGES * SHPT_PAGE,
			     PROT_READ | PROT_WRITE, MAP_PRIVATE |
			     MAP_ANONYMOUS | (*va ? MAP_FIXED : 0));
	if (!p)
		return -errno;
	*va = p;
	return shpt_target_cmd(t, SHPT_T_TOUCH, p, NPAGES * SHPT_PAGE, 1, 0, 0)
	       ? -errno : 0;
}

/*
 * After an injected failure, the mirror is coherent: it verifies with 0
 * stale, every page of the region answers once filled, and once the
 * target unmaps half of it none of that half answers any more (an entry
 * that a failure left out of the index would).  Then detach, and nothing
 * of the mirror may remain.
 */
static void check_mirror(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fault) *self, __u64 asid, unsigned int n)
{
	struct shpt_lookup_result res[NPAGES];
	struct shpt_range_op op;
	unsigned int i;

	ASSERT_EQ(0, shpt_verify(self->fd, asid, 0, 0, &op));
	ASSERT_EQ(0ULL, op.stale) TH_LOG("n=%u: %llu stale after the failure",
					 n, (unsigned long long)op.stale);
	ASSERT_EQ(0, shpt_lookup_range(self->fd, asid, self->va, NPAGES, res,
				       0));
	for (i = 0; i < NPAGES; i++)
		if (res[i].status != SHPT_LK_HIT &&
		    res[i].status != SHPT_LK_FILL)
			break;
	ASSERT_EQ(NPAGES, i)
		TH_LOG("n=%u: page %u does not answer: status %u flags %#x, pagemap pfn %lld",
		       n, i, res[i % NPAGES].status, res[i % NPAGES].flags,
		       shpt_pagemap_pfn(self->t.pid, self->va + i * SHPT_PAGE));
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MUNMAP, self->va,
				     NPAGES / 2 * SHPT_PAGE, 0, 0, 0));
	ASSERT_EQ(0, shpt_lookup_range(self->fd, asid, self->va, NPAGES / 2,
				       res, SHPT_LOOKUP_NOFILL));
	for (i = 0; i < NPAGES / 2; i++)
		if (res[i].status != SHPT_LK_NONE)
			break;
	ASSERT_EQ(NPAGES / 2, i)
		TH_LOG("n=%u: unmapped page %u still answers", n, i);
	ASSERT_EQ(0, shpt_verify(self->fd, asid, 0, 0, &op));
	ASSERT_EQ(0ULL, op.stale);
	ASSERT_EQ(0, shpt_detach(self->fd, asid));
}

/* Nothing of any mirror is left: no entry, no mirror, no sweep. */
static void check_clean(struct __test_metadata *_metadata, unsigned int n)
{
	ASSERT_EQ(0, shpt_stat("mirrors")) TH_LOG("n=%u: a mirror remains", n);
	ASSERT_EQ(0, shpt_stat("entries")) TH_LOG("n=%u: entries remain", n);
	ASSERT_EQ(0, shpt_stat("inval_sweeps"))
		TH_LOG("n=%u: the index lost entries", n);
}

static void sweep_begin(struct fi_sweep *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->alloc_fail = -shpt_stat("alloc_fail");
	s->mirror_alloc_fail = -shpt_stat("mirror_alloc_fail");
}

/* Count one run; return true if the sweep goes on. */
static bool sweep_step(struct fi_sweep *s, unsigned int n, bool injected,
		       int ret)
{
	if (ret == -ENOMEM)
		s->enomem++;
	if (!injected) {
		s->calls = n - 1;
		return false;
	}
	s->injected++;
	return true;
}

static void sweep_end(struct __test_metadata *_metadata, struct fi_sweep *s,
		      unsigned int n)
{
	s->alloc_fail += shpt_stat("alloc_fail");
	s->mirror_alloc_fail += shpt_stat("mirror_alloc_fail");
	TH_LOG("%s: %u allocation checks, %ld failures injected: %ld -ENOMEM, alloc_fail +%lld, mirror_alloc_fail +%lld",
	       s->name, s->calls, s->injected, s->enomem, s->alloc_fail,
	       s->mirror_alloc_fail);
	/* The sweep must have run to the end of the path. */
	ASSERT_GT(SWEEP_MAX, n) TH_LOG("%s: more than %u allocations", s->name,
				       SWEEP_MAX);
	ASSERT_LT(0, s->injected);
}

/* ATTACH with @flags of a fresh target, with each allocation failing once. */
static void sweep_attach(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fault) *self, __u32 flags,
			 struct fi_sweep *s)
{
	unsigned int n;
	bool injected;
	__u64 asid;
	int ret;

	for (n = 1; n < SWEEP_MAX; n++) {
		/* A fresh mm: the first attach of one allocates more. */
		shpt_target_kill(&self->t);
		ASSERT_EQ(0, shpt_target_start(&self->t));
		self->va = 0;
		ASSERT_EQ(0, region_reset(&self->t, &self->va));
		ASSERT_EQ(0, fi_arm(self->nth_fd, n));
		ret = shpt_attach(self->fd, self->t.pid, flags, &asid);
		injected = fi_disarm(self->nth_fd);
		ASSERT_TRUE(ret == 0 || ret == -ENOMEM)
			TH_LOG("n=%u: attach: %s", n, strerror(-ret));
		if (!ret)
			check_mirror(_metadata, self, asid, n);
		check_clean(_metadata, n);
		if (!sweep_step(s, n, injected, ret))
			break;
	}
	sweep_end(_metadata, s, n);
}

TEST_F_TIMEOUT(fault, attach, 300)
{
	struct fi_sweep s;

	SHPT_RETURN_IF_SKIPPED();
	sweep_begin(&s, "ATTACH");
	sweep_attach(_metadata, self, 0, &s);
}

TEST_F_TIMEOUT(fault, attach_populate, 300)
{
	struct fi_sweep s;

	SHPT_RETURN_IF_SKIPPED();
	sweep_begin(&s, "ATTACH|POPULATE");
	sweep_attach(_metadata, self, SHPT_ATTACH_POPULATE, &s);
	/* Inserts into the table and the index failed, and were counted. */
	EXPECT_LT(0, s.mirror_alloc_fail);
}

TEST_F_TIMEOUT(fault, populate, 300)
{
	struct shpt_range_op op;
	struct fi_sweep s;
	unsigned int n;
	bool injected;
	__u64 asid;
	int ret;

	SHPT_RETURN_IF_SKIPPED();
	sweep_begin(&s, "POPULATE");
	self->va = 0;
	for (n = 1; n < SWEEP_MAX; n++) {
		ASSERT_EQ(0, region_reset(&self->t, &self->va));
		ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, 0, &asid));
		ASSERT_EQ(0, fi_arm(self->nth_fd, n));
		ret = shpt_populate(self->fd, asid, self->va,
				    self->va + NPAGES * SHPT_PAGE, &op);
		injected = fi_disarm(self->nth_fd);
		ASSERT_TRUE(ret == 0 || ret == -ENOMEM)
			TH_LOG("n=%u: populate: %s", n, strerror(-ret));
		check_mirror(_metadata, self, asid, n);
		check_clean(_metadata, n);
		if (!sweep_step(&s, n, injected, ret))
			break;
	}
	sweep_end(_metadata, &s, n);
	/* Entry allocations failed, and were counted. */
	EXPECT_LT(0, s.alloc_fail);
	EXPECT_LE(s.alloc_fail, s.mirror_alloc_fail);
}

/* LOOKUP of @count addresses (the region, repeated) with @flags. */
static void sweep_lookup(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fault) *self, unsigned int count,
			 __u32 flags, struct fi_sweep *s)
{
	struct shpt_lookup_result *res = calloc(count, sizeof(*res));
	__u64 *addrs = calloc(count, sizeof(*addrs));
	unsigned int n, i;
	bool injected;
	__u64 asid;
	int ret;

	ASSERT_TRUE(res && addrs);
	self->va = 0;
	for (n = 1; n < SWEEP_MAX; n++) {
		ASSERT_EQ(0, region_reset(&self->t, &self->va));
		for (i = 0; i < count; i++)
			addrs[i] = self->va + (i % NPAGES) * SHPT_PAGE;
		ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, 0, &asid));
		/* With FAULT, absent pages: the lookup faults them in. */
		if (flags & SHPT_LOOKUP_FAULT)
			ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE,
						     self->va,
						     NPAGES * SHPT_PAGE,
						     MADV_DONTNEED, 0, 0));
		/* Fault the results buffer in before arming. */
		memset(res, 0, count * sizeof(*res));
		ASSERT_EQ(0, fi_arm(self->nth_fd, n));
		ret = shpt_lookup(self->fd, asid, addrs, res, count, flags);
		injected = fi_disarm(self->nth_fd);
		ASSERT_TRUE(ret == 0 || ret == -ENOMEM)
			TH_LOG("n=%u: lookup: %s", n, strerror(-ret));
		/* What the lookup did not fault in, check_mirror() wants. */
		if (flags & SHPT_LOOKUP_FAULT)
			ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH,
						     self->va,
						     NPAGES * SHPT_PAGE, 3, 0,
						     0));
		/*
		 * A fill reports the translation even if its insert failed;
		 * a fault that could not get memory reports the page absent.
		 */
		for (i = 0; !ret && i < count; i++) {
			__u16 st = res[i].status;

			if (flags & SHPT_LOOKUP_FAULT ?
			    st == SHPT_LK_FILL :
			    st != SHPT_LK_HIT && st != SHPT_LK_FILL)
				break;
		}
		ASSERT_TRUE(ret || i == count)
			TH_LOG("n=%u: address %u does not answer", n, i);
		check_mirror(_metadata, self, asid, n);
		check_clean(_metadata, n);
		if (!sweep_step(s, n, injected, ret))
			break;
	}
	sweep_end(_metadata, s, n);
	free(res);
	free(addrs);
}

TEST_F_TIMEOUT(fault, lookup_fill, 300)
{
	struct fi_sweep s;

	SHPT_RETURN_IF_SKIPPED();
	sweep_begin(&s, "LOOKUP fill");
	sweep_lookup(_metadata, self, NPAGES, 0, &s);
	EXPECT_LT(0, s.mirror_alloc_fail);
}

TEST_F_TIMEOUT(fault, lookup_fault, 300)
{
	struct fi_sweep s;

	SHPT_RETURN_IF_SKIPPED();
	sweep_begin(&s, "LOOKUP fault");
	sweep_lookup(_metadata, self, NPAGES, SHPT_LOOKUP_FAULT, &s);
}

/*
 * The 8 and 16 KiB buffers of a big batch: a failed kmalloc falls back to
 * vmalloc, so a single failure never reaches the caller, but the fallback
 * runs for real.
 */
TEST_F_TIMEOUT(fault, lookup_big_batch, 300)
{
	struct fi_sweep s;

	SHPT_RETURN_IF_SKIPPED();
	sweep_begin(&s, "LOOKUP 1024");
	sweep_lookup(_metadata, self, BIG_BATCH, 0, &s);
	EXPECT_EQ(0, s.enomem);
}

/* ---- the per-ASID index ---------------------------------------------- */

#define MAKE_IT_FAIL	"/proc/thread-self/make-it-fail"

/*
 * The index is an xarray, which retries a failed node allocation once, so
 * one injected failure never shows there.  Here failslab lets this
 * thread's slab allocations in the ioctl through until @space bytes have
 * been allocated, and fails every one after that (make-it-fail,
 * task-filter, times=-1): index stores then fail for good.  An entry
 * whose index store failed must stay out of the table.  @space moves the
 * point where failures begin from before the buffers of the ioctl (which
 * then fails with -ENOMEM) to past its last allocation.
 */
/*
 * Open and read debugfs "frames" (the shared-frame view) with each of its
 * allocations failing once: the path lookup, the file, the seq_file, the
 * snapshot's records and groups, the read buffer.  Each must come back as
 * ENOMEM from open() or read(), never as another error or a partial view;
 * kmemleak after rmmod finds what a failed open left behind.  The
 * fixture's target and this process share their pages since the fork, so
 * the view has shared frames, and groups to allocate.
 */
TEST_F_TIMEOUT(fault, frames, 300)
{
	static char buf[1 << 16];
	struct fi_sweep s;
	__u64 asid_t, asid_me;
	long views = 0;
	unsigned int n;
	bool injected;
	int ret, fd;
	ssize_t k;

	SHPT_RETURN_IF_SKIPPED();
	if (access(SHPT_DEBUGFS "/frames", R_OK))
		SKIP(return, "no %s/frames", SHPT_DEBUGFS);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &asid_t));
	ASSERT_EQ(0, shpt_attach(self->fd, getpid(), SHPT_ATTACH_POPULATE,
				 &asid_me));
	memset(buf, 0, sizeof(buf));	/* no page fault while armed */
	sweep_begin(&s, "frames open and read");
	for (n = 1; n < SWEEP_MAX; n++) {
		size_t len = 0;

		ASSERT_EQ(0, fi_arm(self->nth_fd, n));
		ret = 0;
		fd = open(SHPT_DEBUGFS "/frames", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
		} else {
			while ((k = read(fd, buf + len,
					 sizeof(buf) - 1 - len)) > 0)
				len += k;
			if (k < 0)
				ret = -errno;
			close(fd);
		}
		injected = fi_disarm(self->nth_fd);
		ASSERT_TRUE(ret == 0 || ret == -ENOMEM)
			TH_LOG("n=%u: frames: %s", n, strerror(-ret));
		if (!ret) {
			buf[len] = '\0';
			ASSERT_EQ(0, strncmp(buf, "frames_shared ", 14))
				TH_LOG("n=%u: a partial view: %.60s", n, buf);
			ASSERT_EQ(NULL, strstr(buf, "frames_shared 0 "))
				TH_LOG("n=%u: no shared frame", n);
			views++;
		}
		if (!sweep_step(&s, n, injected, ret))
			break;
	}
	sweep_end(_metadata, &s, n);
	TH_LOG("%ld whole views", views);
	EXPECT_LT(0, s.enomem);
	ASSERT_EQ(0, shpt_detach(self->fd, asid_me));
	ASSERT_EQ(0, shpt_detach(self->fd, asid_t));
	check_clean(_metadata, n);
}

TEST_F_TIMEOUT(fault, index, 300)
{
	static const unsigned int space[] = {
		0, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 2560,
		2816, 3072, 3584, 4096, 5120, 6144, 8192, 12288, 16384, 32768,
	};
	long long af0, maf0, af, maf, idx_fail;
	long runs = 0, enomem = 0, failing = 0;
	struct shpt_lookup_result res[NPAGES];
	unsigned int k, op;
	char v[16];
	__u64 asid;
	int mif, ret;

	SHPT_RETURN_IF_SKIPPED();
	mif = open(MAKE_IT_FAIL, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, mif);
	ASSERT_EQ(0, shpt_write_file(FAILSLAB "task-filter", "Y"));
	ASSERT_EQ(0, shpt_write_file(FAILSLAB "interval", "1"));
	ASSERT_EQ(0, shpt_write_file(FAILSLAB "times", "-1"));
	af0 = shpt_stat("alloc_fail");
	maf0 = shpt_stat("mirror_alloc_fail");
	self->va = 0;
	for (k = 0; k < ARRAY_SIZE(space); k++) {
		for (op = 0; op < 2; op++) {
			/* A new mirror: its index starts empty. */
			ASSERT_EQ(0, region_reset(&self->t, &self->va));
			ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, 0,
						 &asid));
			af = shpt_stat("alloc_fail");
			maf = shpt_stat("mirror_alloc_fail");
			memset(res, 0, sizeof(res));
			snprintf(v, sizeof(v), "%u", space[k]);
			ASSERT_EQ(0, shpt_write_file(FAILSLAB "space", v));
			ASSERT_EQ(0, shpt_write_file(FAILSLAB "probability",
						     "100"));
			ASSERT_EQ(1, pwrite(mif, "1", 1, 0));
			if (op == 0)
				ret = shpt_populate(self->fd, asid, 0, 0,
						    &(struct shpt_range_op){ 0 });
			else
				ret = shpt_lookup_range(self->fd, asid,
							self->va, NPAGES, res,
							0);
			ASSERT_EQ(1, pwrite(mif, "0", 1, 0));
			ASSERT_EQ(0, shpt_write_file(FAILSLAB "probability",
						     "0"));
			ASSERT_TRUE(ret == 0 || ret == -ENOMEM)
				TH_LOG("space %u %s: %s", space[k],
				       op ? "LOOKUP" : "POPULATE",
				       strerror(-ret));
			runs++;
			enomem += ret == -ENOMEM;
			failing += shpt_stat("mirror_alloc_fail") > maf ||
				   shpt_stat("alloc_fail") > af;
			check_mirror(_metadata, self, asid, k);
			check_clean(_metadata, k);
		}
	}
	close(mif);
	idx_fail = shpt_stat("mirror_alloc_fail") - maf0 -
		   (shpt_stat("alloc_fail") - af0);
	TH_LOG("index: %ld runs failing every slab allocation past a budget of 0..%u bytes: %ld -ENOMEM, %ld with entries left out; %lld index stores failed (mirror_alloc_fail - alloc_fail), %lld entry allocations failed (alloc_fail)",
	       runs, space[ARRAY_SIZE(space) - 1], enomem, failing,
	       idx_fail, shpt_stat("alloc_fail") - af0);
	EXPECT_LT(0, enomem);
	EXPECT_LT(0, idx_fail);
	EXPECT_LT(0, shpt_stat("alloc_fail") - af0);
}

/* ---- the resize worker ------------------------------------------------ */

#define RESIZE_PAGES	512
#define RESIZE_PARAMS	"buckets=64 min_buckets=64 max_buckets=256"
#define RESIZE_TRIES	8
#define MAX_KWORKERS	256

/* Set make-it-fail to @val on every unbound kworker; return how many. */
static int kworkers_make_it_fail(const char *val)
{
	char path[64], comm[64];
	struct dirent *d;
	int n = 0, pid;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		pid = atoi(d->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (shpt_read_file(path, comm, sizeof(comm)) ||
		    strncmp(comm, "kworker/u", 9))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/make-it-fail", pid);
		n += !shpt_write_file(path, val);
	}
	closedir(dir);
	return n;
}

/*
 * Fail the next slab allocation of the unbound kworkers, which run the
 * resize work.  (6.1 cannot restrict failslab to one cache at run time:
 * /sys/kernel/slab/<cache>/failslab is read-only.)  Return how many
 * kworkers were armed.
 */
static int resize_arm(void)
{
	if (shpt_write_file(FAILSLAB "task-filter", "Y") ||
	    shpt_write_file(FAILSLAB "interval", "1") ||
	    shpt_write_file(FAILSLAB "space", "0") ||
	    shpt_write_file(FAILSLAB "times", "1") ||
	    shpt_write_file(FAILSLAB "probability", "100"))
		return -EIO;
	return kworkers_make_it_fail("1");
}

static void resize_disarm(void)
{
	shpt_write_file(FAILSLAB "probability", "0");
	kworkers_make_it_fail("0");
	shpt_write_file(FAILSLAB "task-filter", "N");
}

static long long failslab_times(void)
{
	char v[32];

	return shpt_read_file(FAILSLAB "times", v, sizeof(v)) ? -1 : atoll(v);
}

/* Wait until a resize failed (alloc_fail above @af0) or succeeded. */
static void wait_resize(long long af0, double secs)
{
	double end = shpt_now() + secs;

	while (shpt_stat("alloc_fail") == af0 && shpt_stat("buckets") == 64 &&
	       shpt_now() < end)
		usleep(20000);
}

static bool wait_buckets(long long want, double secs)
{
	double end = shpt_now() + secs;

	do {
		if (shpt_stat("buckets") == want)
			return true;
		usleep(20000);
	} while (shpt_now() < end);
	return false;
}

/*
 * A grow whose bucket array cannot be allocated leaves the table as it
 * was, counts alloc_fail, and happens at the next insert that finds the
 * table overloaded; readers and the mirror never notice.
 */
TEST_F_TIMEOUT(fault, resize, 300)
{
	struct shpt_lookup_result res[RESIZE_PAGES / 4];
	double settle = 10.0 * shpt_timeout_scale();
	long long af0, times = -1, injected = 0;
	unsigned long va, i, bad;
	int try, armed = 0;
	__u64 asid;
	long long pfn;

	SHPT_RETURN_IF_SKIPPED();
	if (!getenv("SHPT_KO"))
		SKIP(return, "SHPT_KO (the path of shpt.ko) is not set");
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, shpt_rmmod());
	self->reloaded = true;
	ASSERT_EQ(0, shpt_insmod(getenv("SHPT_KO"), RESIZE_PARAMS));
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	va = shpt_target_mmap(&self->t, 0, RESIZE_PAGES * SHPT_PAGE,
			      PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE, va,
				     RESIZE_PAGES * SHPT_PAGE,
				     MADV_NOHUGEPAGE, 0, 0));
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va,
				     RESIZE_PAGES * SHPT_PAGE, 1, 0, 0));

	af0 = shpt_stat("alloc_fail");
	for (try = 0; try < RESIZE_TRIES && !injected; try++) {
		ASSERT_TRUE(wait_buckets(64, settle));
		armed = resize_arm();
		ASSERT_LT(0, armed) TH_LOG("no unbound kworker to arm");
		/* 512+ entries in 64 buckets: the worker must grow it. */
		ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
					 SHPT_ATTACH_POPULATE, &asid));
		wait_resize(af0, settle);
		times = failslab_times();
		resize_disarm();
		injected = shpt_stat("alloc_fail") - af0;
		TH_LOG("try %d: %d kworkers armed, failslab times left %lld, table alloc_fail +%lld",
		       try, armed, times, injected);
		if (injected)
			break;
		/* The failure went elsewhere, or no armed worker ran it. */
		ASSERT_EQ(0, shpt_detach(self->fd, asid));
	}
	ASSERT_LT(0, injected) TH_LOG("no resize allocation failed in %d tries",
				      RESIZE_TRIES);

	/*
	 * The grow is retried at the next insert that finds the table
	 * overloaded: later in the same populate, or in this one.
	 */
	ASSERT_EQ(0, shpt_detach(self->fd, asid));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &asid));
	ASSERT_TRUE(wait_buckets(256, settle))
		TH_LOG("buckets %lld after the failed grow", shpt_stat("buckets"));
	EXPECT_LE(1, shpt_stat("grows"));
	SHPT_ASSERT_NO_STALE(self->fd, asid);
	for (i = 0, bad = 0; i < RESIZE_PAGES; i += ARRAY_SIZE(res)) {
		unsigned int j;

		ASSERT_EQ(0, shpt_lookup_range(self->fd, asid,
					       va + i * SHPT_PAGE,
					       ARRAY_SIZE(res), res,
					       SHPT_LOOKUP_NOFILL));
		for (j = 0; j < ARRAY_SIZE(res); j++) {
			pfn = shpt_pagemap_pfn(self->t.pid,
					       va + (i + j) * SHPT_PAGE);
			if (res[j].status != SHPT_LK_HIT ||
			    (long long)res[j].pfn != pfn)
				bad++;
		}
	}
	EXPECT_EQ(0UL, bad) TH_LOG("%lu of %u pages wrong after the failed grow",
				   bad, RESIZE_PAGES);
	ASSERT_EQ(0, shpt_detach(self->fd, asid));
	EXPECT_EQ(0, shpt_stat("entries"));
	TH_LOG("resize: %lld bucket-array allocation failures injected", injected);
}

SHPT_HARNESS_MAIN
