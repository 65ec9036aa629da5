// SPDX-License-Identifier: GPL-2.0
/*
 * shpt bounded stress.  Target processes change their address spaces in
 * a loop (mmap, write, mprotect, fork with a grandchild that writes to the
 * CoW pages, mremap, madvise DONTNEED/FREE/PAGEOUT, munmap) and exit after
 * a short random life; the main thread respawns them, attaches and
 * detaches their mirrors over and over, and verifies them; one lookup
 * thread per CPU, pinned to it, sends LOOKUP batches against their ASIDs.
 * The module is reloaded with a 64-bucket table and max_chain=2, so the
 * table grows and shrinks behind the mirrors and rekeys under them.
 *
 * At the end every live mirror verifies with 0 stale entries, and the
 * debugfs counters agree: lookups == hits + misses, misses == fills +
 * faults + not_present + nofill, table_lookups == table_hits +
 * table_misses, no sweep, and no entry or mirror left once all detach.
 *
 * SHPT_STRESS_SECONDS sets the duration (default 15 s, 60 s when
 * SHPT_TIMEOUT_SCALE is above 1, i.e. on the debug kernel).  Without
 * $SHPT_KO the module is not reloaded and resize and rekey are not
 * required.
 */
#include "shpt_harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "shpt_test_util.h"

#define NSLOTS		3
#define RPAGES		128
#define RSIZE		(RPAGES * SHPT_PAGE)
#define BATCH		32
#define STRESS_PARAMS	"buckets=64 min_buckets=64 max_chain=2"
#define MAX_CPUS	64
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif

struct stress_slot {
	pid_t pid;
	_Atomic __u64 asid;	/* 0 while unattached */
};

struct stress {
	int fd;
	unsigned long region;	/* reserved at the same VA in every target */
	unsigned long region2;	/* where mremap moves part of it */
	struct stress_slot slot[NSLOTS];
	volatile pid_t *quiet;	/* shared: a target stores its pid when quiet */
	atomic_bool stop;
	atomic_long batches, addrs, errs_expected, unexpected, bad_results;
	atomic_int last_unexpected;
	atomic_long statuses[4];
};

struct stress_cpu {
	struct stress *s;
	int cpu;
	bool pinned;
};

static struct stress st;
static volatile sig_atomic_t churn_stop;

static void churn_stop_handler(int sig)
{
	churn_stop = 1;
}

static unsigned int rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 8;
}

static void touch(unsigned long va, unsigned long len, unsigned long v)
{
	unsigned long off;

	for (off = 0; off < len; off += SHPT_PAGE)
		*(volatile unsigned long *)(va + off) = v + off;
}

static void *map_fixed(unsigned long va, unsigned long len)
{
	return mmap((void *)va, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/*
 * One round of a target.  Writes only go to pages this round mapped
 * read-write, so that no operation order can fault the target.
 */
static void churn_round(unsigned long r, unsigned long r2, unsigned int i,
			unsigned int *seed)
{
	static const int advice[] = { MADV_DONTNEED, MADV_FREE, MADV_PAGEOUT };
	unsigned int a = rnd(seed) % (RPAGES / 2);
	unsigned int b = a + 1 + rnd(seed) % (RPAGES / 2);
	unsigned long len = (RPAGES - b) * SHPT_PAGE;
	pid_t pid;

	if (map_fixed(r, RSIZE) == MAP_FAILED)
		_exit(2);
	touch(r, RSIZE, i);
	/* Read-only in the middle while a grandchild writes the CoW pages. */
	mprotect((void *)(r + a * SHPT_PAGE), (b - a) * SHPT_PAGE, PROT_READ);
	pid = fork();
	if (pid == 0) {
		touch(r, a * SHPT_PAGE, i + 7);
		touch(r + b * SHPT_PAGE, len, i + 8);
		_exit(0);
	}
	mprotect((void *)r, RSIZE, PROT_READ | PROT_WRITE);
	touch(r, RSIZE, i + 1);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	madvise((void *)(r + a * SHPT_PAGE), (b - a) * SHPT_PAGE,
		advice[rnd(seed) % 3]);
	/* Move the tail to region2, write it there, and maybe move it back. */
	if (mremap((void *)(r + b * SHPT_PAGE), len, len,
		   MREMAP_MAYMOVE | MREMAP_FIXED,
		   (void *)(r2 + b * SHPT_PAGE)) != MAP_FAILED) {
		touch(r2 + b * SHPT_PAGE, len, i + 2);
		if (rnd(seed) & 1)
			mremap((void *)(r2 + b * SHPT_PAGE), len, len,
			       MREMAP_MAYMOVE | MREMAP_FIXED,
			       (void *)(r + b * SHPT_PAGE));
		else
			munmap((void *)(r2 + b * SHPT_PAGE), len);
	}
	madvise((void *)r, a * SHPT_PAGE, advice[rnd(seed) % 3]);
	touch(r, a * SHPT_PAGE, i + 3);
	munmap((void *)(r + a * SHPT_PAGE), SHPT_PAGE);
}

/*
 * A target: syscalls only (it is forked from a threaded process).  Runs
 * @iters rounds and exits, unless told to stop (SIGUSR1): then it maps
 * both regions, writes them, reports itself quiet and waits to be killed.
 * With @iters 0 it goes quiet at once.
 */
static void churn(struct stress *s, int slot, unsigned int iters,
		  unsigned int seed)
{
	unsigned int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Not the test's /dev/shpt: its close must detach. */
	shpt_close_fds_except(-1, -1);
	signal(SIGUSR1, churn_stop_handler);
	if (!iters)
		churn_stop = 1;
	for (i = 0; i < iters && !churn_stop; i++)
		churn_round(s->region, s->region2, i, &seed);
	if (!churn_stop)
		_exit(0);
	map_fixed(s->region, RSIZE);
	map_fixed(s->region2, RSIZE);
	touch(s->region, RSIZE, 5);
	touch(s->region2, RSIZE / 2, 6);
	s->quiet[slot] = getpid();
	for (;;)
		pause();
}

static void check_results(struct stress *s, struct shpt_lookup_result *res,
			  __u32 f)
{
	unsigned int i;

	for (i = 0; i < BATCH; i++) {
		struct shpt_lookup_result *r = &res[i];
		bool bad = r->status > SHPT_LK_FAULT ||
			   (r->order != 0 && r->order != 9);

		if (!bad && r->status != SHPT_LK_NONE)
			bad = !r->pfn || !(r->flags & SHPT_PF_VALID);
		if (!bad && r->status == SHPT_LK_FAULT &&
		    !(f & SHPT_LOOKUP_FAULT))
			bad = true;
		if (!bad && r->status == SHPT_LK_NONE && r->pfn)
			bad = true;
		if (bad)
			atomic_fetch_add(&s->bad_results, 1);
		else
			atomic_fetch_add(&s->statuses[r->status], 1);
	}
}

static void *lookup_thread(void *arg)
{
	static const __u32 flags[] = { 0, SHPT_LOOKUP_NOFILL, SHPT_LOOKUP_FAULT };
	struct stress_cpu *c = arg;
	struct stress *s = c->s;
	struct shpt_lookup_result res[BATCH];
	unsigned int seed = c->cpu * 7919 + getpid(), i;
	__u64 addrs[BATCH], asid;
	cpu_set_t set;
	__u32 f;
	int ret;

	CPU_ZERO(&set);
	CPU_SET(c->cpu, &set);
	c->pinned = !pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!atomic_load(&s->stop)) {
		asid = atomic_load(&s->slot[rnd(&seed) % NSLOTS].asid);
		if (!asid) {
			sched_yield();
			continue;
		}
		for (i = 0; i < BATCH; i++) {
			unsigned int p = rnd(&seed) % (2 * RPAGES);

			addrs[i] = (p < RPAGES ? s->region : s->region2) +
				   (p % RPAGES) * SHPT_PAGE;
		}
		f = flags[rnd(&seed) % 3];
		ret = shpt_lookup(s->fd, asid, addrs, res, BATCH, f);
		atomic_fetch_add(&s->batches, 1);
		/* Exited, detached, or a fill that kept colliding. */
		if (ret == -ESRCH || ret == -ENOENT || ret == -EAGAIN) {
			atomic_fetch_add(&s->errs_expected, 1);
			continue;
		}
		if (ret) {
			atomic_fetch_add(&s->unexpected, 1);
			atomic_store(&s->last_unexpected, -ret);
			continue;
		}
		atomic_fetch_add(&s->addrs, BATCH);
		check_results(s, res, f);
	}
	return NULL;
}

/* Attach the target of @sl, populating or not; 0 or a negative errno. */
static int stress_attach(struct stress *s, struct stress_slot *sl,
			 unsigned int seed, long *attaches)
{
	__u64 asid;
	int ret;

	ret = shpt_attach(s->fd, sl->pid, seed & 1 ? SHPT_ATTACH_POPULATE : 0,
			  &asid);
	if (!ret) {
		atomic_store(&sl->asid, asid);
		(*attaches)++;
	}
	/*
	 * It may be gone already (a short life is the point), or populate
	 * may have run out of retries against it (documented -EAGAIN; the
	 * mirror is then not attached).
	 */
	return ret == -ESRCH || ret == -EAGAIN ? 0 : ret;
}

/* Fork the target of slot @i for @iters rounds, and attach it. */
static int stress_spawn(struct stress *s, int i, unsigned int iters,
			unsigned int seed, long *attaches)
{
	struct stress_slot *sl = &s->slot[i];

	sl->pid = fork();
	if (sl->pid < 0)
		return -errno;
	if (!sl->pid)
		churn(s, i, iters, seed);
	return stress_attach(s, sl, seed >> 4, attaches);
}

/* Detach the mirror of @sl if it has one; 0 or a negative errno. */
static int stress_detach(struct stress *s, struct stress_slot *sl)
{
	__u64 asid = atomic_exchange(&sl->asid, 0);

	return asid ? shpt_detach(s->fd, asid) : 0;
}

static int stress_reload(const char *params)
{
	int ret = shpt_rmmod();

	if (ret && ret != -ENOENT)
		return ret;
	return shpt_insmod(getenv("SHPT_KO"), params);
}

static double stress_seconds(void)
{
	const char *env = getenv("SHPT_STRESS_SECONDS");

	if (env && atof(env) > 0)
		return atof(env);
	return shpt_timeout_scale() > 1 ? 60 : 15;
}

FIXTURE(stress)
{
	bool reloaded;
	int ncpu;
	pthread_t th[MAX_CPUS];
	struct stress_cpu cpu[MAX_CPUS];
};

FIXTURE_SETUP(stress)
{
	st.fd = -1;
	if (geteuid() != 0)
		SKIP(return, "needs root");
	if (getenv("SHPT_KO")) {
		ASSERT_EQ(0, stress_reload(STRESS_PARAMS))
			TH_LOG("insmod %s", STRESS_PARAMS);
		self->reloaded = true;
	}
	st.fd = shpt_open();
	ASSERT_LE(0, st.fd) TH_LOG("open %s: %s", SHPT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(stress)
{
	unsigned int i;

	atomic_store(&st.stop, true);
	for (i = 0; i < NSLOTS; i++)
		if (st.slot[i].pid > 0) {
			kill(st.slot[i].pid, SIGKILL);
			waitpid(st.slot[i].pid, NULL, 0);
		}
	if (st.fd >= 0)
		close(st.fd);
	if (self->reloaded && stress_reload(""))
		TH_LOG("cannot reload shpt with default parameters");
}

/*
 * Wait until every target is quiet or has exited; reap the exited.  With
 * @tell, tell them first (a target forked a moment ago may die of the
 * signal instead: that is an exit too).
 */
static void stress_quiesce(struct stress *s, bool tell, double timeout)
{
	double end = shpt_now() + timeout;
	unsigned int i, busy;

	for (i = 0; tell && i < NSLOTS; i++)
		if (s->slot[i].pid > 0)
			kill(s->slot[i].pid, SIGUSR1);
	do {
		busy = 0;
		for (i = 0; i < NSLOTS; i++) {
			struct stress_slot *sl = &s->slot[i];

			if (sl->pid <= 0 || s->quiet[i] == sl->pid)
				continue;
			if (waitpid(sl->pid, NULL, WNOHANG) == sl->pid)
				sl->pid = 0;
			else
				busy++;
		}
		if (busy)
			usleep(10000);
	} while (busy && shpt_now() < end);
}

static void stress_log_stats(struct __test_metadata *_metadata)
{
	static const char * const names[] = {
		"lookups", "hits", "misses", "fills", "faults", "not_present",
		"nofill", "inserts", "removes", "grows", "shrinks", "rekeys",
		"long_chains", "restarts", "retries", "inval_busy",
		"alloc_fail", "mirror_alloc_fail", "attaches",
	};
	char line[1024];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(names) && n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - n, " %s %lld", names[i],
			      shpt_stat(names[i]));
	TH_LOG("stats:%s", line);
}

TEST_F_TIMEOUT(stress, churn_attach_lookup, 150)
{
	double secs = stress_seconds(), t0, last_verify = 0;
	long attaches = 0, detaches = 0, respawns = 0, verifies = 0;
	long stale = 0, op_bad = 0, pinned = 0, final_verifies = 0;
	unsigned int i, r, seed = getpid();
	struct shpt_range_op op;
	cpu_set_t online;
	int ret, c;

	SHPT_RETURN_IF_SKIPPED();
	st.region = (unsigned long)mmap(NULL, 2 * RSIZE, PROT_NONE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE((unsigned long)MAP_FAILED, st.region);
	st.region2 = st.region + RSIZE;
	st.quiet = mmap(NULL, SHPT_PAGE, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st.quiet);
	for (i = 0; i < NSLOTS; i++) {
		r = rnd(&seed);
		ret = stress_spawn(&st, i, 2 + r % 24, r, &attaches);
		ASSERT_EQ(0, ret) TH_LOG("attach: %s", strerror(-ret));
	}

	/* One lookup thread per CPU this test may run on, pinned to it. */
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(online), &online));
	for (c = 0; c < CPU_SETSIZE && self->ncpu < MAX_CPUS; c++) {
		if (!CPU_ISSET(c, &online))
			continue;
		self->cpu[self->ncpu].s = &st;
		self->cpu[self->ncpu].cpu = c;
		ASSERT_EQ(0, pthread_create(&self->th[self->ncpu], NULL,
					    lookup_thread,
					    &self->cpu[self->ncpu]));
		self->ncpu++;
	}

	for (t0 = shpt_now(); shpt_now() - t0 < secs; usleep(2000)) {
		bool verify_now = shpt_now() - last_verify >= 0.05;

		for (i = 0; i < NSLOTS; i++) {
			struct stress_slot *sl = &st.slot[i];
			unsigned int r = rnd(&seed);
			__u64 asid;

			if (waitpid(sl->pid, NULL, WNOHANG) == sl->pid) {
				/* Exited: its mirror is dead; detach, respawn. */
				ret = stress_detach(&st, sl);
				op_bad += ret != 0;
				if (ret)
					TH_LOG("detach dead: %s", strerror(-ret));
				ret = stress_spawn(&st, i, 2 + r % 24, r,
						   &attaches);
				op_bad += ret != 0;
				if (ret)
					TH_LOG("attach: %s", strerror(-ret));
				respawns++;
				continue;
			}
			asid = atomic_load(&sl->asid);
			if (!asid || r % 16 == 0) {
				/* Detach a live mirror and attach it again. */
				ret = stress_detach(&st, sl);
				op_bad += ret != 0;
				detaches += asid != 0;
				ret = stress_attach(&st, sl, r >> 4, &attaches);
				op_bad += ret != 0;
				if (ret)
					TH_LOG("re-attach: %s", strerror(-ret));
				continue;
			}
			if (!verify_now)
				continue;
			/* Verify while the target runs: still no stale. */
			ret = shpt_verify(st.fd, asid, 0, 0, &op);
			if (!ret) {
				verifies++;
				stale += op.stale;
			} else if (ret != -ESRCH && ret != -EAGAIN) {
				op_bad++;
				TH_LOG("verify: %s", strerror(-ret));
			}
		}
		if (verify_now)
			last_verify = shpt_now();
	}

	/* Quiesce the targets, stop the lookups, verify at rest. */
	stress_quiesce(&st, true, 30);
	atomic_store(&st.stop, true);
	for (c = 0; c < self->ncpu; c++) {
		pthread_join(self->th[c], NULL);
		pinned += self->cpu[c].pinned;
	}
	for (i = 0; i < NSLOTS; i++) {
		struct stress_slot *sl = &st.slot[i];
		__u64 asid = atomic_load(&sl->asid);

		/* Verify a dead mirror; then give the slot a quiet target. */
		if (sl->pid <= 0 && asid) {
			ASSERT_EQ(0, shpt_verify(st.fd, asid, 0, 0, &op));
			ASSERT_EQ(0ULL, op.stale);
			ASSERT_EQ(0, stress_detach(&st, sl));
		}
		if (sl->pid <= 0) {
			/* Quiet at once, attached with POPULATE. */
			ASSERT_EQ(0, stress_spawn(&st, i, 0, 1 << 4,
						  &attaches));
			stress_quiesce(&st, false, 30);
		}
		if (!atomic_load(&sl->asid))
			ASSERT_EQ(0, stress_attach(&st, sl, 1, &attaches));
		asid = atomic_load(&sl->asid);
		ASSERT_NE(0ULL, asid);
		ret = shpt_verify(st.fd, asid, 0, 0, &op);
		ASSERT_EQ(0, ret) TH_LOG("final verify: %s", strerror(-ret));
		TH_LOG("final verify slot %u: checked %llu stale %llu missing %llu",
		       i, (unsigned long long)op.checked,
		       (unsigned long long)op.stale,
		       (unsigned long long)op.missing);
		ASSERT_EQ(0ULL, op.stale);
		final_verifies++;
	}
	for (i = 0; i < NSLOTS; i++) {
		if (st.slot[i].pid > 0) {
			kill(st.slot[i].pid, SIGKILL);
			waitpid(st.slot[i].pid, NULL, 0);
			st.slot[i].pid = 0;
		}
		ASSERT_EQ(0, stress_detach(&st, &st.slot[i]));
	}

	TH_LOG("%.1f s, %d lookup threads (%ld pinned): %ld batches (%ld ESRCH/ENOENT/EAGAIN), none %ld hit %ld fill %ld fault %ld",
	       shpt_now() - t0, self->ncpu, pinned, atomic_load(&st.batches),
	       atomic_load(&st.errs_expected),
	       atomic_load(&st.statuses[SHPT_LK_NONE]),
	       atomic_load(&st.statuses[SHPT_LK_HIT]),
	       atomic_load(&st.statuses[SHPT_LK_FILL]),
	       atomic_load(&st.statuses[SHPT_LK_FAULT]));
	TH_LOG("%ld attaches, %ld detaches of live mirrors, %ld respawns, %ld verifies",
	       attaches, detaches, respawns, verifies);
	stress_log_stats(_metadata);
	if (atomic_load(&st.unexpected))
		TH_LOG("%ld lookups failed, last with %s",
		       atomic_load(&st.unexpected),
		       strerror(atomic_load(&st.last_unexpected)));
	EXPECT_EQ(0, atomic_load(&st.unexpected));
	EXPECT_EQ(0, atomic_load(&st.bad_results));
	EXPECT_EQ(0, op_bad);
	EXPECT_EQ(0, stale);
	EXPECT_EQ(self->ncpu, pinned);
	/* It must have exercised something. */
	EXPECT_LT(0, verifies);
	EXPECT_EQ(NSLOTS, final_verifies);
	EXPECT_LT(0, respawns);
	EXPECT_LT(0, detaches);
	EXPECT_LT(0, atomic_load(&st.statuses[SHPT_LK_HIT]));
	EXPECT_LT(0, atomic_load(&st.statuses[SHPT_LK_FILL]));

	/* The counters agree with each other, and with what we saw. */
	EXPECT_EQ(shpt_stat("lookups"), shpt_stat("hits") + shpt_stat("misses"));
	EXPECT_EQ(shpt_stat("misses"),
		  shpt_stat("fills") + shpt_stat("faults") +
		  shpt_stat("not_present") + shpt_stat("nofill"));
	EXPECT_EQ(shpt_stat("table_lookups"),
		  shpt_stat("table_hits") + shpt_stat("table_misses"));
	EXPECT_LE(shpt_stat("lookups"), shpt_stat("table_lookups"));
	EXPECT_EQ(0, shpt_stat("inval_sweeps"));
	EXPECT_EQ(0, shpt_stat("mirrors"));
	if (self->reloaded) {
		EXPECT_LE(atomic_load(&st.addrs), shpt_stat("lookups"));
		EXPECT_LE(atomic_load(&st.statuses[SHPT_LK_HIT]),
			  shpt_stat("hits"));
		EXPECT_LE(atomic_load(&st.statuses[SHPT_LK_FILL]),
			  shpt_stat("fills"));
		EXPECT_LE(attaches, shpt_stat("attaches"));
		EXPECT_EQ(0, shpt_stat("entries"));
		EXPECT_LE(1, shpt_stat("grows"));
		EXPECT_LE(1, shpt_stat("rekeys"));
	}
}

SHPT_HARNESS_MAIN
