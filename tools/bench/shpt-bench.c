// SPDX-License-Identifier: GPL-2.0
/*
 * shpt-bench: the guest half of "make bench".  Each subcommand measures one
 * group of cases on real processes in the test VM and prints one line
 * "@bench {json}" per result (the fields of bench/results-host.json), or,
 * for the in-kernel benchmark, "@kbench " and the line the kernel wrote.
 * tools/bench/report.py collects them from the serial log.
 *
 *   memory  [-p PAGES] [-d D1,D2,...]  shpt bytes/page vs the page tables
 *   munmap  [-m MIB] [-r REPS]         munmap, mirrored vs not
 *   exit    [-m MIB] [-r REPS]         exit teardown, mirrored vs not
 *   kernel  CMD...                     write CMD to debugfs shpt/bench
 *   kwalk   dense|sparse               "walk pid=" on an attached layout
 *   kpopulate [-m MIB]                 "populate pid= start= len="
 *
 * Needs root and a loaded shpt.  Exits 1 if any case failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/shpt.h>

#define PAGE		4096UL
#define GIB		(1UL << 30)
#define MIB		(1UL << 20)
#define DBG		"/sys/kernel/debug/shpt/"
#define MAX_REPS	64

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "@bench-fail ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
	fflush(stdout);
	failures++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One result line; @extra is more JSON members (",\"k\": v..."), or "". */
static void result(const char *name, const char *metric, double value,
		   const char *unit, const char *baseline, double base_value,
		   const char *extra)
{
	printf("@bench {\"case\": \"%s\", \"metric\": \"%s\", \"value\": %.6g, "
	       "\"unit\": \"%s\", \"baseline\": ", name, metric, value, unit);
	if (baseline)
		printf("\"%s\", \"baseline_value\": %.6g, \"ratio\": %.6g",
		       baseline, base_value,
		       base_value ? value / base_value : 0.0);
	else
		printf("null, \"baseline_value\": null, \"ratio\": null");
	printf("%s}\n", extra);
	fflush(stdout);
}

/* ---- debugfs and /proc ------------------------------------------------ */

static long long stat_get(const char *name)
{
	FILE *f = fopen(DBG "stats", "re");
	char line[256], n[64];
	unsigned long long v;
	long long ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu", n, &v) == 2 && !strcmp(n, name))
			ret = (long long)v;
	fclose(f);
	return ret;
}

struct asid_row {
	unsigned long long entries, bytes, index_bytes;
	char state[32];
};

/* 1 and @r if debugfs asids has @asid, 0 if not, -1 without the file. */
static int asid_get(__u64 asid, struct asid_row *r)
{
	FILE *f = fopen(DBG "asids", "re");
	unsigned long long a;
	char line[256];
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct asid_row t = { 0 };

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%llu %*d %*s %llu %*u %*u %31s %llu %llu", &a,
			   &t.entries, t.state, &t.bytes, &t.index_bytes) == 5 &&
		    a == asid) {
			*r = t;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* VmPTE of @pid ("self" for 0), in bytes, or -1. */
static long long vmpte(pid_t pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* ---- /dev/shpt -------------------------------------------------------- */

static int shpt_open(void)
{
	int fd = open("/dev/shpt", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fail("open /dev/shpt: %s", strerror(errno));
	return fd;
}

static int attach(int fd, pid_t pid, bool populate, __u64 *asid)
{
	struct shpt_attach a = {
		.size = sizeof(a), .pid = pid,
		.flags = populate ? SHPT_ATTACH_POPULATE : 0,
	};

	if (ioctl(fd, SHPT_IOC_ATTACH, &a)) {
		fail("attach %d: %s", (int)pid, strerror(errno));
		return -1;
	}
	*asid = a.asid;
	return 0;
}

static void detach(int fd, __u64 asid)
{
	struct shpt_detach d = { .size = sizeof(d), .asid = asid };

	if (ioctl(fd, SHPT_IOC_DETACH, &d))
		fail("detach %llu: %s", (unsigned long long)asid,
		     strerror(errno));
}

static int populate(int fd, __u64 asid, unsigned long start,
		    unsigned long len, struct shpt_range_op *op)
{
	memset(op, 0, sizeof(*op));
	op->size = sizeof(*op);
	op->asid = asid;
	op->start = start;
	op->end = start + len;
	if (ioctl(fd, SHPT_IOC_POPULATE, op)) {
		fail("populate: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- memory ----------------------------------------------------------- */

/* @len bytes of anonymous memory at a @align-aligned address, 4 KiB pages. */
static char *map_aligned(unsigned long len, unsigned long align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + align - 1) & ~(align - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((char *)a + len, (uintptr_t)p + align - a);
	/* THP off: both sides count 4 KiB mappings. */
	madvise((char *)a, len, MADV_NOHUGEPAGE);
	return (char *)a;
}

static void touch(char *p, unsigned long npages, unsigned long stride)
{
	for (unsigned long i = 0; i < npages; i++)
		p[i * stride * PAGE] = 1;
}

/*
 * One density, one page in @stride: map the region, touch it, read our
 * own VmPTE growth, mirror ourselves, populate only the region, read the
 * ASID's bytes, detach, unmap.
 */
static void memory_one(int fd, unsigned long stride, unsigned long max_pages,
		       unsigned long max_region)
{
	unsigned long region = max_region, npages, len;
	long long pte0, pte1;
	struct shpt_range_op op;
	struct asid_row row;
	char name[64], extra[512];
	__u64 asid;
	double shpt_pp, pte_pp;
	char *p;

	if (region / PAGE / stride > max_pages)
		region = max_pages * stride * PAGE;
	npages = region / PAGE / stride;
	len = region;
	pte0 = vmpte(0);
	p = map_aligned(len, GIB);
	if (!p) {
		fail("memory 1/%lu: mmap %lu MiB: %s", stride, len >> 20,
		     strerror(errno));
		return;
	}
	touch(p, npages, stride);
	pte1 = vmpte(0);
	if (attach(fd, getpid(), false, &asid))
		goto out_unmap;
	if (populate(fd, asid, (uintptr_t)p, len, &op))
		goto out_detach;
	if (asid_get(asid, &row) != 1) {
		fail("memory 1/%lu: no asids row", stride);
		goto out_detach;
	}
	if (op.inserted != npages || row.entries != npages)
		fail("memory 1/%lu: %lu pages touched, %llu inserted, %llu entries",
		     stride, npages, (unsigned long long)op.inserted,
		     row.entries);
	shpt_pp = (double)row.bytes / npages;
	pte_pp = (double)(pte1 - pte0) / npages;
	snprintf(name, sizeof(name), "memory/1:%lu", stride);
	snprintf(extra, sizeof(extra),
		 ", \"density\": %.9g, \"pages\": %lu, \"region_bytes\": %lu, "
		 "\"shpt_bytes\": %llu, \"index_bytes\": %llu, "
		 "\"vmpte_bytes\": %lld, \"table_entries\": %lld, "
		 "\"table_buckets\": %lld, \"thp\": false",
		 1.0 / stride, npages, len, row.bytes, row.index_bytes,
		 pte1 - pte0, stat_get("entries"), stat_get("buckets"));
	result(name, "bytes_per_page", shpt_pp, "B", "radix_vmpte", pte_pp,
	       extra);
out_detach:
	detach(fd, asid);
out_unmap:
	munmap(p, len);
}

static int cmd_memory(int argc, char **argv)
{
	unsigned long max_pages = 131072, max_region = 64 * GIB;
	char *dens = strdup("262144,32768,4096,512,64,8,1"), *tok, *save = NULL;
	int c, fd;

	while ((c = getopt(argc, argv, "p:d:g:")) != -1) {
		if (c == 'p')
			max_pages = strtoul(optarg, NULL, 0);
		else if (c == 'd')
			free(dens), dens = strdup(optarg);
		else if (c == 'g')
			max_region = strtoul(optarg, NULL, 0) * GIB;
		else
			return 2;
	}
	fd = shpt_open();
	if (fd < 0)
		return 1;
	for (tok = strtok_r(dens, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		memory_one(fd, strtoul(tok, NULL, 0), max_pages, max_region);
	close(fd);
	free(dens);
	return 0;
}

/* ---- munmap ----------------------------------------------------------- */

/*
 * Map @len, touch every page; if @fd >= 0, mirror ourselves and populate
 * the region.  Time the munmap.  Returns seconds, or -1.
 */
static double munmap_once(int fd, unsigned long len, unsigned long long *ents,
			  long long *pages, long long *removed)
{
	long long p0 = 0, e0 = 0;
	struct shpt_range_op op;
	__u64 asid = 0;
	double t0, t1;
	char *p;

	p = map_aligned(len, 2 * MIB);
	if (!p) {
		fail("munmap: mmap: %s", strerror(errno));
		return -1;
	}
	touch(p, len / PAGE, 1);
	if (fd >= 0) {
		if (attach(fd, getpid(), false, &asid) ||
		    populate(fd, asid, (uintptr_t)p, len, &op)) {
			munmap(p, len);
			return -1;
		}
		*ents = op.inserted;
		p0 = stat_get("inval_pages");
		e0 = stat_get("inval_entries");
	}
	t0 = now();
	munmap(p, len);
	t1 = now();
	if (fd >= 0) {
		*pages = stat_get("inval_pages") - p0;
		*removed = stat_get("inval_entries") - e0;
		detach(fd, asid);
	}
	return t1 - t0;
}

static int cmd_munmap(int argc, char **argv)
{
	double plain[MAX_REPS], mirr[MAX_REPS], rate[MAX_REPS], erate[MAX_REPS];
	unsigned long mib = 1024, reps = 5;
	unsigned long long ents = 0;
	long long pages = 0, removed = 0;
	char extra[512];
	double mp, mm;
	int c, fd;

	while ((c = getopt(argc, argv, "m:r:")) != -1) {
		if (c == 'm')
			mib = strtoul(optarg, NULL, 0);
		else if (c == 'r')
			reps = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (!reps || reps > MAX_REPS)
		return 2;
	fd = shpt_open();
	if (fd < 0)
		return 1;
	/*
	 * Interleaved, and each pair in the opposite order of the last, so
	 * that drift in the machine's load and order effects hit both.
	 */
	for (unsigned long r = 0; r < reps; r++) {
		if (r % 2)
			mirr[r] = munmap_once(fd, mib * MIB, &ents, &pages,
					      &removed);
		plain[r] = munmap_once(-1, mib * MIB, NULL, NULL, NULL);
		if (!(r % 2))
			mirr[r] = munmap_once(fd, mib * MIB, &ents, &pages,
					      &removed);
		if (plain[r] <= 0 || mirr[r] <= 0) {
			close(fd);
			return 1;
		}
		if (ents != mib * MIB / PAGE || removed != (long long)ents)
			fail("munmap: %llu entries populated, %lld removed, %lu pages",
			     ents, removed, mib * MIB / PAGE);
		rate[r] = pages / mirr[r];
		erate[r] = removed / mirr[r];
	}
	close(fd);
	mp = median(plain, reps);
	mm = median(mirr, reps);
	snprintf(extra, sizeof(extra),
		 ", \"samples\": %lu, \"bytes\": %lu, \"entries\": %llu, "
		 "\"min\": %.6g, \"max\": %.6g, \"baseline_min\": %.6g, "
		 "\"baseline_max\": %.6g, \"ratio_of_min\": %.6g, "
		 "\"target_ratio_max\": 1.10",
		 reps, mib * MIB, ents, mirr[0], mirr[reps - 1], plain[0],
		 plain[reps - 1], mirr[0] / plain[0]);
	result("munmap/populated", "seconds", mm, "s", "munmap_unmirrored", mp,
	       extra);
	snprintf(extra, sizeof(extra),
		 ", \"samples\": %lu, \"entries_per_s\": %.6g, "
		 "\"target_min\": 2e7", reps, median(erate, reps));
	result("munmap/inval_rate", "pages_per_s", median(rate, reps), "pages/s",
	       NULL, 0, extra);
	return 0;
}

/* ---- exit ------------------------------------------------------------- */

/* A child with @len bytes touched; returns its pid once it is ready. */
static pid_t layout_child(unsigned long len, int kind, uintptr_t *base)
{
	uintptr_t *shared;
	int p[2];
	pid_t pid;
	char c;

	shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED || pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *m = NULL;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		if (kind == 0) {	/* dense: one region, every page */
			m = map_aligned(len, 2 * MIB);
			if (!m)
				_exit(1);
			touch(m, len / PAGE, 1);
		} else {		/* sparse: tools/workloads/sparse.c */
			for (unsigned long i = 0; i < 64; i++) {
				uintptr_t a = 0x100000000000UL + i * 16 * GIB;
				char *r = mmap((void *)a, 4 * PAGE,
					       PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS |
					       MAP_FIXED_NOREPLACE, -1, 0);

				if (r == MAP_FAILED || (uintptr_t)r != a)
					_exit(1);
				touch(r, 4, 1);
				if (!m)
					m = r;
			}
		}
		*shared = (uintptr_t)m;
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(p[0]);
	*base = *shared;
	munmap(shared, PAGE);
	return pid;
}

/*
 * Kill a child with @len touched, mirrored and populated if @fd >= 0.
 * *@t_wait: kill to waitpid; *@t_dead: kill to the asids row "dead".
 */
static int exit_once(int fd, unsigned long len, double *t_wait, double *t_dead,
		     unsigned long long *ents)
{
	struct asid_row row;
	uintptr_t base;
	__u64 asid = 0;
	double t0;
	pid_t pid;

	pid = layout_child(len, 0, &base);
	if (pid < 0) {
		fail("exit: child: %s", strerror(errno));
		return -1;
	}
	if (fd >= 0) {
		if (attach(fd, pid, true, &asid)) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		if (asid_get(asid, &row) == 1)
			*ents = row.entries;
	}
	t0 = now();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	*t_wait = now() - t0;
	*t_dead = *t_wait;
	if (fd >= 0) {
		for (int i = 0; i < 100000; i++) {
			if (asid_get(asid, &row) != 1 ||
			    !strcmp(row.state, "dead"))
				break;
			usleep(100);
		}
		*t_dead = now() - t0;
		if (strcmp(row.state, "dead") || row.entries || row.bytes)
			fail("exit: asid %llu: state %s, %llu entries, %llu bytes",
			     (unsigned long long)asid, row.state, row.entries,
			     row.bytes);
		detach(fd, asid);
	}
	return 0;
}

static int cmd_exit(int argc, char **argv)
{
	double plain[MAX_REPS], mirr[MAX_REPS], dead[MAX_REPS], unused;
	unsigned long mib = 1024, reps = 5;
	unsigned long long ents = 0;
	char extra[512];
	double mp, mm;
	int c, fd;

	while ((c = getopt(argc, argv, "m:r:")) != -1) {
		if (c == 'm')
			mib = strtoul(optarg, NULL, 0);
		else if (c == 'r')
			reps = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (!reps || reps > MAX_REPS)
		return 2;
	fd = shpt_open();
	if (fd < 0)
		return 1;
	for (unsigned long r = 0; r < reps; r++) {
		if ((r % 2 && exit_once(fd, mib * MIB, &mirr[r], &dead[r], &ents)) ||
		    exit_once(-1, mib * MIB, &plain[r], &unused, NULL) ||
		    (!(r % 2) && exit_once(fd, mib * MIB, &mirr[r], &dead[r], &ents))) {
			close(fd);
			return 1;
		}
	}
	close(fd);
	mp = median(plain, reps);
	mm = median(mirr, reps);
	snprintf(extra, sizeof(extra),
		 ", \"samples\": %lu, \"bytes\": %lu, \"entries\": %llu, "
		 "\"ns_per_entry\": %.6g, \"to_dead_s\": %.6g, "
		 "\"min\": %.6g, \"baseline_min\": %.6g, \"ratio_of_min\": %.6g",
		 reps, mib * MIB, ents, ents ? (mm - mp) * 1e9 / ents : 0.0,
		 median(dead, reps), mirr[0], plain[0], mirr[0] / plain[0]);
	result("exit/populated", "seconds", mm, "s", "exit_unmirrored", mp,
	       extra);
	return 0;
}

/* ---- the in-kernel benchmark ------------------------------------------ */

/* Write @cmd to debugfs shpt/bench and print what it returns. */
static int kernel_cmd(const char *cmd)
{
	char line[4096];
	FILE *f;
	int fd;

	fd = open(DBG "bench", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("@kbench {\"note\": \"%s: not available (%s)\"}\n", cmd,
		       strerror(errno));
		fflush(stdout);
		return errno == ENOENT ? 0 : -1;
	}
	fprintf(stderr, "-- kernel bench: %s\n", cmd);
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		fail("kernel bench '%s': %s", cmd, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	f = fopen(DBG "bench", "re");
	if (!f) {
		fail("kernel bench: read: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			printf("@kbench %s\n", line);
	}
	fclose(f);
	fflush(stdout);
	return 0;
}

static int cmd_kernel(int argc, char **argv)
{
	char cmd[1024] = "";

	for (int i = 1; i < argc; i++) {
		strncat(cmd, argv[i], sizeof(cmd) - strlen(cmd) - 2);
		if (i + 1 < argc)
			strcat(cmd, " ");
	}
	return kernel_cmd(cmd) ? 1 : 0;
}

/* A layout in a child, attached and populated, for a "walk pid=". */
static int cmd_kwalk(int argc, char **argv)
{
	int kind = argc > 1 && !strcmp(argv[1], "sparse");
	char cmd[128];
	uintptr_t base;
	__u64 asid;
	pid_t pid;
	int fd, ret = 1;

	if (access(DBG "bench", F_OK))
		return kernel_cmd("walk");
	fd = shpt_open();
	if (fd < 0)
		return 1;
	/* dense: 32 MiB, tools/workloads/dense.c's default. */
	pid = layout_child(32 * MIB, kind, &base);
	if (pid < 0) {
		fail("kwalk: child: %s", strerror(errno));
		close(fd);
		return 1;
	}
	if (!attach(fd, pid, true, &asid)) {
		snprintf(cmd, sizeof(cmd), "walk pid=%d", (int)pid);
		ret = kernel_cmd(cmd) ? 1 : 0;
		detach(fd, asid);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	return ret;
}

/*
 * A child with @mib touched (default 1 GiB) and attached (the kernel's
 * populate case needs a mirror and populates it itself), for
 * "populate pid=".
 */
static int cmd_kpopulate(int argc, char **argv)
{
	unsigned long mib = 1024;
	char cmd[160];
	uintptr_t base;
	int c, fd, ret = 1;
	__u64 asid;
	pid_t pid;

	while ((c = getopt(argc, argv, "m:")) != -1) {
		if (c == 'm')
			mib = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (access(DBG "bench", F_OK))
		return kernel_cmd("populate");
	fd = shpt_open();
	if (fd < 0)
		return 1;
	pid = layout_child(mib * MIB, 0, &base);
	if (pid < 0) {
		fail("kpopulate: child: %s", strerror(errno));
		close(fd);
		return 1;
	}
	if (!attach(fd, pid, false, &asid)) {
		snprintf(cmd, sizeof(cmd), "populate pid=%d start=%#lx len=%lu",
			 (int)pid, (unsigned long)base, mib * MIB);
		ret = kernel_cmd(cmd) ? 1 : 0;
		detach(fd, asid);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "memory", cmd_memory }, { "munmap", cmd_munmap },
		{ "exit", cmd_exit }, { "kernel", cmd_kernel },
		{ "kwalk", cmd_kwalk }, { "kpopulate", cmd_kpopulate },
	};
	int ret;

	if (argc < 2)
		goto usage;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		ret = cmds[i].fn(argc - 1, argv + 1);
		return ret ? ret : failures ? 1 : 0;
	}
usage:
	fprintf(stderr, "usage: shpt-bench memory|munmap|exit|kernel|kwalk|kpopulate ...\n");
	return 2;
}
