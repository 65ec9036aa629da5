// SPDX-License-Identifier: GPL-2.0
/*
 * bench_test: the in-kernel benchmark, /sys/kernel/debug/shpt/bench.
 *
 * Runs a tiny configuration of every case and checks that the output is
 * well formed (a note line, then one JSON object per result with every
 * field) and consistent (values positive, ratio == value / baseline_value,
 * p50 == value, percentiles in order, figures that two lines share are
 * equal, a walk and a populate see the pages the target touched).  Never a
 * timing assertion.  Then the errors: bad commands (EINVAL), a pid that
 * does not exist (ESRCH) or is not mirrored (ENOENT), a kernel thread
 * (EINVAL), non-root (EACCES or EPERM at open, EPERM at write), a second
 * run (EBUSY) and a killed run.
 *
 * Needs root and a loaded shpt with debugfs mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shpt_harness.h"
#include "shpt_test_util.h"

#define BENCH		SHPT_DEBUGFS "/bench"
#define OUT_MAX		(256 * 1024)
#define MAX_LINES	256
#define NPAGES		64	/* the target's touched pages */

/* Write @cmd as one write(); 0 or -errno. */
static int bench_cmd(const char *cmd)
{
	ssize_t n;
	int fd;

	fd = open(BENCH, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

struct bench_out {
	char buf[OUT_MAX];
	int n;
	char *line[MAX_LINES];
};

/* Read the results and split them into lines; 0 or -errno. */
static int bench_read(struct bench_out *o)
{
	ssize_t n, len = 0;
	char *p, *save;
	int fd;

	fd = open(BENCH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, o->buf + len, OUT_MAX - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -errno;
	o->buf[len] = '\0';
	o->n = 0;
	for (p = strtok_r(o->buf, "\n", &save); p && o->n < MAX_LINES;
	     p = strtok_r(NULL, "\n", &save))
		o->line[o->n++] = p;
	return 0;
}

/* The text after "KEY": in @line, or NULL. */
static const char *json_at(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	return p ? p + strlen(pat) : NULL;
}

/* A string field into @buf; 0, or -1 if absent or not a string. */
static int json_str(const char *line, const char *key, char *buf, size_t len)
{
	const char *p = json_at(line, key), *e;

	if (!p || *p != '"')
		return -1;
	e = strchr(p + 1, '"');
	if (!e || (size_t)(e - p - 1) >= len)
		return -1;
	memcpy(buf, p + 1, e - p - 1);
	buf[e - p - 1] = '\0';
	return 0;
}

/* A number field; 0, or -1 if absent, null or not a number. */
static int json_num(const char *line, const char *key, double *v)
{
	const char *p = json_at(line, key);
	char *end;

	if (!p)
		return -1;
	*v = strtod(p, &end);
	return end == p || (*end != ',' && *end != '}') ? -1 : 0;
}

/* Every line but the first is a well-formed, consistent result. */
static int check_result(struct __test_metadata *_metadata, const char *l)
{
	static const char * const nums[] = {
		"value", "baseline_value", "ratio", "p50", "p99",
		"baseline_p50", "baseline_p99", "samples", "ops_per_sample",
	};
	char kase[64], metric[32], unit[32], base[32];
	double v[9], ratio;
	unsigned int i;

	EXPECT_EQ('{', l[0]);
	EXPECT_EQ('}', l[strlen(l) - 1]);
	EXPECT_EQ(0, json_str(l, "case", kase, sizeof(kase)));
	EXPECT_EQ(0, json_str(l, "metric", metric, sizeof(metric)));
	EXPECT_EQ(0, json_str(l, "unit", unit, sizeof(unit)));
	EXPECT_EQ(0, json_str(l, "baseline", base, sizeof(base)));
	for (i = 0; i < 9; i++) {
		EXPECT_EQ(0, json_num(l, nums[i], &v[i]))
			TH_LOG("%s: no number %s", l, nums[i]);
		EXPECT_GT(v[i], 0) TH_LOG("%s: %s <= 0", l, nums[i]);
	}
	if (_metadata->passed == 0)
		return -1;
	/* ratio == value / baseline_value, printed to 6 decimals */
	ratio = v[0] / v[1];
	EXPECT_LT(fabs(v[2] - ratio), 2e-6) TH_LOG("%s: ratio", l);
	EXPECT_EQ(v[0], v[3]) TH_LOG("%s: p50 != value", l);
	EXPECT_EQ(v[1], v[5]) TH_LOG("%s: baseline_p50 != baseline_value", l);
	if (!strcmp(metric, "ns_per_op")) {
		EXPECT_STREQ("ns", unit);
		/* p99 is a slower sample: more ns */
		EXPECT_GE(v[4], v[3]) TH_LOG("%s: p99 < p50", l);
		EXPECT_GE(v[6], v[5]) TH_LOG("%s: baseline p99 < p50", l);
	} else {
		EXPECT_STREQ("pages_per_s", metric);
		EXPECT_STREQ("pages/s", unit);
		/* p99 is a slower sample: a lower rate */
		EXPECT_LE(v[4], v[3]) TH_LOG("%s: p99 > p50", l);
		EXPECT_LE(v[6], v[5]) TH_LOG("%s: baseline p99 > p50", l);
	}
	return _metadata->passed ? 0 : -1;
}

/*
 * Run @cmd, read the output, check the note line, every result line, the
 * count and the cases; @cases lists the expected "case/baseline" pairs in
 * order.
 */
static void run_and_check(struct __test_metadata *_metadata,
			  struct bench_out *o, const char *cmd,
			  const char * const *cases, int ncases)
{
	char kase[64], base[32], want[128];
	double d;
	int i;

	ASSERT_EQ(0, bench_cmd(cmd)) TH_LOG("%s", cmd);
	ASSERT_EQ(0, bench_read(o));
	ASSERT_EQ(ncases + 1, o->n) TH_LOG("%s: %d lines", cmd, o->n);
	ASSERT_NE(NULL, json_at(o->line[0], "note"));
	ASSERT_EQ(0, json_num(o->line[0], "results", &d));
	ASSERT_EQ(ncases, (int)d);
	ASSERT_EQ(0, json_num(o->line[0], "error", &d));
	ASSERT_EQ(0, (int)d);
	for (i = 1; i < o->n; i++) {
		TH_LOG("%s", o->line[i]);
		ASSERT_EQ(0, check_result(_metadata, o->line[i]));
		ASSERT_EQ(0, json_str(o->line[i], "case", kase, sizeof(kase)));
		ASSERT_EQ(0, json_str(o->line[i], "baseline", base,
				      sizeof(base)));
		snprintf(want, sizeof(want), "%s/%s", kase, base);
		EXPECT_STREQ(cases[i - 1], want);
	}
}

static double field(struct bench_out *o, int line, const char *key)
{
	double v = -1;

	json_num(o->line[line], key, &v);
	return v;
}

TEST(lookup_one_thread)
{
	static const char * const cases[] = {
		"lookup_hit/1K/1t/rhashtable", "lookup_miss/1K/1t/rhashtable",
	};
	struct bench_out *o = malloc(sizeof(*o));

	ASSERT_NE(NULL, o);
	run_and_check(_metadata, o, "lookup sizes=1K threads=1 samples=20",
		      cases, 2);
	EXPECT_EQ(20, field(o, 1, "samples"));
	EXPECT_EQ(1024, field(o, 1, "ops_per_sample"));
	EXPECT_EQ(1, field(o, 1, "threads"));
	EXPECT_EQ(1024, field(o, 1, "entries"));
	free(o);
}

/* threads=all: one thread per online CPU, samples of every thread pooled. */
TEST(lookup_all_threads)
{
	int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct bench_out *o = malloc(sizeof(*o));
	char c[4][64];
	const char *cases[4] = { c[0], c[1], c[2], c[3] };

	ASSERT_NE(NULL, o);
	if (cpus < 2)
		SKIP(free(o); return, "one CPU");
	snprintf(c[0], 64, "lookup_hit/1K/1t/rhashtable");
	snprintf(c[1], 64, "lookup_miss/1K/1t/rhashtable");
	snprintf(c[2], 64, "lookup_hit/1K/%dt/rhashtable", cpus);
	snprintf(c[3], 64, "lookup_miss/1K/%dt/rhashtable", cpus);
	run_and_check(_metadata, o, "lookup sizes=1K threads=1,all samples=10",
		      cases, 4);
	EXPECT_EQ(cpus, field(o, 3, "threads"));
	EXPECT_EQ(10 * cpus, field(o, 3, "samples"));
	free(o);
}

/* Two figures of the bulk case compare the same bulk samples. */
TEST(bulk)
{
	static const char * const cases[] = {
		"bulk/1K/single", "bulk/1K/rhashtable",
	};
	struct bench_out *o = malloc(sizeof(*o));

	ASSERT_NE(NULL, o);
	run_and_check(_metadata, o, "bulk sizes=1K samples=20", cases, 2);
	EXPECT_EQ(field(o, 1, "value"), field(o, 2, "value"));
	EXPECT_EQ(field(o, 1, "p99"), field(o, 2, "p99"));
	free(o);
}

/* 1K entries is one sample per round: rounds make up the samples asked. */
TEST(insert)
{
	static const char * const cases[] = {
		"insert/1K/rhashtable", "remove/1K/rhashtable",
	};
	struct bench_out *o = malloc(sizeof(*o));

	ASSERT_NE(NULL, o);
	run_and_check(_metadata, o, "insert sizes=1K samples=8", cases, 2);
	EXPECT_EQ(8, field(o, 1, "samples"));
	EXPECT_EQ(8, field(o, 2, "samples"));
	free(o);
}

/* hsiphash and modulo are both compared with the same siphash samples. */
TEST(hash)
{
	static const char * const cases[] = {
		"hash/hsiphash/siphash", "hash/modulo/siphash",
	};
	struct bench_out *o = malloc(sizeof(*o));

	ASSERT_NE(NULL, o);
	run_and_check(_metadata, o, "hash samples=20", cases, 2);
	EXPECT_EQ(field(o, 1, "baseline_value"), field(o, 2, "baseline_value"));
	EXPECT_EQ(field(o, 1, "baseline_p99"), field(o, 2, "baseline_p99"));
	free(o);
}

/* A quiescent target with NPAGES touched pages, mirrored and populated. */
FIXTURE(target)
{
	int fd;
	struct shpt_target t;
	unsigned long va;
	__u64 asid;
};

FIXTURE_SETUP(target)
{
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, shpt_target_start(&self->t));
	self->va = shpt_target_mmap(&self->t, 0, NPAGES * SHPT_PAGE,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, self->va);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, self->va,
				     NPAGES * SHPT_PAGE, 1, 0, 0));
}

FIXTURE_TEARDOWN(target)
{
	shpt_target_kill(&self->t);
	close(self->fd);
}

/*
 * Every collected address is present, so the page walk translates each
 * one, and so does the shadow of a populated, quiescent process.
 */
TEST_F(target, walk)
{
	static const char * const cases[] = { "walk/page_walk" };
	struct bench_out *o = malloc(sizeof(*o));
	char cmd[64];
	double ops;

	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid));
	snprintf(cmd, sizeof(cmd), "walk pid=%d samples=10", self->t.pid);
	run_and_check(_metadata, o, cmd, cases, 1);
	ops = field(o, 1, "samples") * field(o, 1, "ops_per_sample");
	EXPECT_GE(field(o, 1, "entries"), NPAGES);
	EXPECT_EQ(ops, field(o, 1, "baseline_hits"));
	EXPECT_EQ(ops, field(o, 1, "hits"));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	free(o);
}

/* shpt's populate sees the NPAGES present pages of the range. */
TEST_F(target, populate)
{
	static const char * const cases[] = { "populate/hmm_range_fault" };
	struct bench_out *o = malloc(sizeof(*o));
	char cmd[128];

	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid));
	snprintf(cmd, sizeof(cmd), "populate pid=%d start=0x%lx len=%lu samples=3",
		 self->t.pid, self->va, NPAGES * SHPT_PAGE);
	run_and_check(_metadata, o, cmd, cases, 1);
	EXPECT_EQ(NPAGES, field(o, 1, "ops_per_sample"));
	EXPECT_EQ(NPAGES, field(o, 1, "hits"));
	EXPECT_EQ(3, field(o, 1, "samples"));
	SHPT_ASSERT_NO_STALE(self->fd, self->asid);
	free(o);
}

/* Not attached: ENOENT, for walk and populate alike. */
TEST_F(target, not_mirrored)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "walk pid=%d", self->t.pid);
	EXPECT_EQ(-ENOENT, bench_cmd(cmd));
	snprintf(cmd, sizeof(cmd), "populate pid=%d start=0x%lx len=4096",
		 self->t.pid, self->va);
	EXPECT_EQ(-ENOENT, bench_cmd(cmd));
}

TEST(bad_commands)
{
	static const char * const bad[] = {
		"\n", "frobnicate", "lookup bogus=1", "lookup sizes=",
		"lookup sizes=0", "lookup sizes=1K,", "lookup sizes=32M",
		"lookup sizes=1,2,3,4,5,6,7,8,9", "lookup sizes=1K sizes=2K",
		"lookup threads=0", "lookup threads=9999", "lookup samples=0",
		"lookup sizes", "hash sizes=1K", "insert threads=1",
		"walk", "walk pid=0", "walk pid=-1", "walk pid=x",
		"walk pid=1 sizes=1K", "populate pid=1", "populate pid=1 start=0",
		"populate pid=1 start=0x1001 len=4096",
		"populate pid=1 start=0x1000 len=100",
		"populate pid=1 start=0x1000 len=0",
		"populate pid=1 start=0xfffffffffffff000 len=0x2000",
		"all sizes=1K",
	};
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = bench_cmd(bad[i]);
		if (ret != -EINVAL)
			TH_LOG("'%s': %d", bad[i], ret);
		EXPECT_EQ(-EINVAL, ret);
	}
}

TEST(bad_pids)
{
	pid_t pid = fork();
	char cmd[64];

	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	/* Reaped: no such process (unless the pid was reused at once). */
	snprintf(cmd, sizeof(cmd), "walk pid=%d", pid);
	EXPECT_EQ(-ESRCH, bench_cmd(cmd));
	/* kthreadd has no mm. */
	EXPECT_EQ(-EINVAL, bench_cmd("walk pid=2"));
}

/* In a child that drops to nobody: @fd (opened as root) and a new open. */
static int nobody_child(int fd)
{
	int nfd;

	if (shpt_drop_to_nobody())
		return 10;
	nfd = open(BENCH, O_RDONLY | O_CLOEXEC);
	if (nfd >= 0 || (errno != EACCES && errno != EPERM))
		return 11;
	nfd = open(BENCH, O_WRONLY | O_CLOEXEC);
	if (nfd >= 0 || (errno != EACCES && errno != EPERM))
		return 12;
	/* A file root opened: the write still checks CAP_SYS_ADMIN. */
	if (write(fd, "hash", 4) >= 0 || errno != EPERM)
		return 13;
	return 0;
}

TEST(non_root)
{
	int fd, status;
	pid_t pid;

	fd = open(BENCH, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(nobody_child(fd));
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * A long run in a child: a second writer gets EBUSY; SIGKILL stops the run
 * between samples, and the next run works.
 */
TEST(busy_and_killed)
{
	bool busy = false;
	int status, i, ret;
	double t0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(bench_cmd("lookup sizes=256K threads=1 samples=100000") ==
		      0 ? 0 : 1);
	for (i = 0; i < 600 && !busy; i++) {
		usleep(50000);
		ret = bench_cmd("hash samples=1");
		busy = ret == -EBUSY;
		if (!busy && waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	EXPECT_TRUE(busy);
	t0 = shpt_now();
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("killed run ended in %.2f s", shpt_now() - t0);
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, bench_cmd("hash samples=2"));
}

SHPT_HARNESS_MAIN
