// SPDX-License-Identifier: GPL-2.0
/*
 * shpt concurrency selftest.  Two lookup threads hammer SHPT_IOC_LOOKUP
 * while "churner" processes change their address spaces as fast as they
 * can (mmap, write, mprotect, fork, munmap, MADV_DONTNEED) and exit after
 * a short random life; the main thread respawns and re-attaches them, and
 * verifies the live ones.  It fails on any unexpected errno, any
 * malformed result, and any stale entry; the VM runner fails it on any
 * WARNING/BUG in dmesg.
 *
 * SHPT_RACE_SECONDS sets the duration (default 5).
 */
#include "shpt_harness.h"

#include <pthread.h>
#include <stdatomic.h>

#include "shpt_test_util.h"

#define NSLOTS		2
#define NTHREADS	2
#define RPAGES		64
#define RSIZE		(RPAGES * SHPT_PAGE)
#define BATCH		16

struct race_slot {
	pid_t pid;
	_Atomic __u64 asid;	/* 0 while respawning */
};

struct race {
	int fd;
	unsigned long region;	/* reserved in every churner, same VA */
	struct race_slot slot[NSLOTS];
	atomic_bool stop;
	atomic_long lookups, errs_expected, unexpected, bad_results;
	atomic_int last_unexpected;
	atomic_long statuses[4];
};

static volatile sig_atomic_t churn_stop;

static void churn_stop_handler(int sig)
{
	churn_stop = 1;
}

static void touch(unsigned long va, unsigned long len, unsigned long v)
{
	unsigned long off;

	for (off = 0; off < len; off += SHPT_PAGE)
		*(volatile unsigned long *)(va + off) = v + off;
}

/*
 * A churner: syscalls only (it is forked from a threaded process).  Lives
 * for @iters iterations unless told to stop, then exits; on SIGUSR1 it
 * leaves the region mapped and waits to be killed.
 */
static void churn(unsigned long r, unsigned int iters, unsigned int seed)
{
	unsigned int i, a, b;
	pid_t pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Not the test's /dev/shpt: its close must detach. */
	shpt_close_fds_except(-1, -1);
	signal(SIGUSR1, churn_stop_handler);
	for (i = 0; i < iters && !churn_stop; i++) {
		seed = seed * 1103515245 + 12345;
		a = (seed >> 8) % (RPAGES / 2);
		b = a + 1 + (seed >> 16) % (RPAGES / 2);
		if (mmap((void *)r, RSIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			_exit(2);
		touch(r, RSIZE, i);
		mprotect((void *)(r + a * SHPT_PAGE), (b - a) * SHPT_PAGE,
			 PROT_READ);
		pid = fork();
		if (pid == 0) {
			touch(r, a * SHPT_PAGE, 1);
			_exit(0);
		}
		mprotect((void *)r, RSIZE, PROT_READ | PROT_WRITE);
		touch(r, RSIZE, i + 1);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		madvise((void *)(r + a * SHPT_PAGE), SHPT_PAGE, MADV_DONTNEED);
		munmap((void *)(r + b * SHPT_PAGE), (RPAGES - b) * SHPT_PAGE);
		touch(r, b * SHPT_PAGE, i + 2);
	}
	if (churn_stop) {
		/* Quiesce with something mapped, for the final verify. */
		mmap((void *)r, RSIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		touch(r, RSIZE, 3);
		for (;;)
			pause();
	}
	_exit(0);
}

static void *lookup_thread(void *arg)
{
	struct race *rc = arg;
	struct shpt_lookup_result res[BATCH];
	unsigned int seed = (uintptr_t)&res, i;
	__u64 addrs[BATCH], asid;
	const __u32 flags[] = { 0, SHPT_LOOKUP_NOFILL, SHPT_LOOKUP_FAULT };
	__u32 f;
	int ret;

	while (!atomic_load(&rc->stop)) {
		seed = seed * 1103515245 + 12345;
		asid = atomic_load(&rc->slot[(seed >> 4) % NSLOTS].asid);
		if (!asid)
			continue;
		for (i = 0; i < BATCH; i++) {
			seed = seed * 1103515245 + 12345;
			addrs[i] = rc->region + ((seed >> 8) % RPAGES) *
				   SHPT_PAGE;
		}
		f = flags[(seed >> 20) % 3];
		ret = shpt_lookup(rc->fd, asid, addrs, res, BATCH, f);
		atomic_fetch_add(&rc->lookups, 1);
		/* Exited, detached, or a fill that kept colliding. */
		if (ret == -ESRCH || ret == -ENOENT || ret == -EAGAIN) {
			atomic_fetch_add(&rc->errs_expected, 1);
			continue;
		}
		if (ret) {
			atomic_fetch_add(&rc->unexpected, 1);
			atomic_store(&rc->last_unexpected, -ret);
			continue;
		}
		for (i = 0; i < BATCH; i++) {
			struct shpt_lookup_result *r = &res[i];
			bool bad = r->status > SHPT_LK_FAULT ||
				   (r->order != 0 && r->order != 9);

			if (!bad && r->status != SHPT_LK_NONE)
				bad = !r->pfn || !(r->flags & SHPT_PF_VALID);
			if (!bad && r->status == SHPT_LK_FAULT &&
			    !(f & SHPT_LOOKUP_FAULT))
				bad = true;
			if (bad)
				atomic_fetch_add(&rc->bad_results, 1);
			else
				atomic_fetch_add(&rc->statuses[r->status], 1);
		}
	}
	return NULL;
}

/* (Re)spawn the churner of @s and attach it; returns an errno or 0. */
static int respawn(struct race *rc, struct race_slot *s, unsigned int seed)
{
	unsigned int iters = 2 + seed % 12;
	__u64 asid;
	int ret;

	s->pid = fork();
	if (s->pid < 0)
		return errno;
	if (!s->pid)
		churn(rc->region, iters, seed);
	ret = shpt_attach(rc->fd, s->pid, SHPT_ATTACH_POPULATE, &asid);
	if (!ret)
		atomic_store(&s->asid, asid);
	/*
	 * It may already be gone (its short life is the point), or populate
	 * may have run out of retries against it (documented -EAGAIN; the
	 * mirror is then not attached).
	 */
	return ret == -ESRCH || ret == -EAGAIN ? 0 : -ret;
}

/* Reap the churner of @s if it exited, and detach its mirror. */
static int reap(struct race *rc, struct race_slot *s, long *detach_bad)
{
	__u64 asid;
	int ret;

	if (waitpid(s->pid, NULL, WNOHANG) != s->pid)
		return 0;
	asid = atomic_exchange(&s->asid, 0);
	if (asid) {
		ret = shpt_detach(rc->fd, asid);
		if (ret && ret != -ENOENT)
			(*detach_bad)++;
	}
	return 1;
}

static struct race rc;

FIXTURE(race)
{
	int unused;
};

FIXTURE_SETUP(race)
{
}

FIXTURE_TEARDOWN(race)
{
	unsigned int i;

	atomic_store(&rc.stop, true);
	for (i = 0; i < NSLOTS; i++)
		if (rc.slot[i].pid > 0) {
			kill(rc.slot[i].pid, SIGKILL);
			waitpid(rc.slot[i].pid, NULL, 0);
		}
}

TEST_F_TIMEOUT(race, lookups_vs_churn, 60)
{
	const char *env = getenv("SHPT_RACE_SECONDS");
	double secs = env ? atof(env) : 5, t0, last_verify = 0;
	long detach_bad = 0, verifies = 0, respawns = 0, stale = 0;
	long verify_bad = 0;
	pthread_t th[NTHREADS];
	struct shpt_range_op op;
	unsigned int i, seed = getpid();
	int ret;

	rc.fd = shpt_open();
	ASSERT_LE(0, rc.fd) TH_LOG("open %s: %s", SHPT_DEV, strerror(errno));
	rc.region = (unsigned long)mmap(NULL, RSIZE, PROT_NONE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE((unsigned long)MAP_FAILED, rc.region);
	for (i = 0; i < NSLOTS; i++)
		ASSERT_EQ(0, respawn(&rc, &rc.slot[i], seed + i));
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, lookup_thread, &rc));

	for (t0 = shpt_now(); shpt_now() - t0 < secs; usleep(2000)) {
		for (i = 0; i < NSLOTS; i++) {
			struct race_slot *s = &rc.slot[i];
			__u64 asid;

			if (reap(&rc, s, &detach_bad)) {
				seed = seed * 1103515245 + 12345;
				ret = respawn(&rc, s, seed >> 8);
				if (ret)
					TH_LOG("attach: %s", strerror(ret));
				ASSERT_EQ(0, ret);
				respawns++;
				continue;
			}
			if (shpt_now() - last_verify < 0.05)
				continue;
			asid = atomic_load(&s->asid);
			if (!asid)
				continue;
			/* Verify while the churner runs: still no stale. */
			ret = shpt_verify(rc.fd, asid, 0, 0, &op);
			if (!ret) {
				verifies++;
				stale += op.stale;
			} else if (ret != -ESRCH && ret != -EAGAIN) {
				verify_bad++;
				TH_LOG("verify: %s", strerror(-ret));
			}
		}
		if (shpt_now() - last_verify >= 0.05)
			last_verify = shpt_now();
	}

	/* Quiesce the live churners, then verify them at rest. */
	for (i = 0; i < NSLOTS; i++)
		kill(rc.slot[i].pid, SIGUSR1);
	usleep(200000);
	atomic_store(&rc.stop, true);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NSLOTS; i++) {
		struct race_slot *s = &rc.slot[i];
		__u64 asid = atomic_load(&s->asid);

		if (waitpid(s->pid, NULL, WNOHANG) == s->pid || !asid)
			continue;
		ret = shpt_verify(rc.fd, asid, 0, 0, &op);
		ASSERT_EQ(0, ret);
		TH_LOG("final verify slot %u: checked %llu stale %llu", i,
		       (unsigned long long)op.checked,
		       (unsigned long long)op.stale);
		ASSERT_EQ(0ULL, op.stale);
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		ASSERT_EQ(0, shpt_detach(rc.fd, asid));
	}

	TH_LOG("%.1f s: %ld lookups (%ld ESRCH/ENOENT/EAGAIN), none %ld hit %ld fill %ld fault %ld; %ld respawns, %ld verifies",
	       shpt_now() - t0, atomic_load(&rc.lookups),
	       atomic_load(&rc.errs_expected),
	       atomic_load(&rc.statuses[SHPT_LK_NONE]),
	       atomic_load(&rc.statuses[SHPT_LK_HIT]),
	       atomic_load(&rc.statuses[SHPT_LK_FILL]),
	       atomic_load(&rc.statuses[SHPT_LK_FAULT]), respawns, verifies);
	if (atomic_load(&rc.unexpected))
		TH_LOG("%ld lookups failed, last with %s",
		       atomic_load(&rc.unexpected),
		       strerror(atomic_load(&rc.last_unexpected)));
	ASSERT_EQ(0, atomic_load(&rc.unexpected));
	ASSERT_EQ(0, atomic_load(&rc.bad_results));
	ASSERT_EQ(0, detach_bad);
	ASSERT_EQ(0, verify_bad);
	ASSERT_EQ(0, stale);
	/* The test must have exercised something. */
	ASSERT_LT(0, verifies);
	ASSERT_LT(0, atomic_load(&rc.statuses[SHPT_LK_HIT]) +
		     atomic_load(&rc.statuses[SHPT_LK_FILL]));
	close(rc.fd);
}

SHPT_HARNESS_MAIN
