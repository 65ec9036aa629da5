/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the shpt selftests: /dev/shpt wrappers that return
 * -errno, /proc/PID/pagemap reads, and a "target" child process that maps
 * and touches memory on command, so that a test can change a mirrored
 * address space from the outside and watch the shadow follow.
 *
 * Every wrapper returns 0 or -errno and never asserts: the tests decide
 * what is expected.
 */
#ifndef SHPT_TEST_UTIL_H
#define SHPT_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
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
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/shpt.h>

#define SHPT_DEV		"/dev/shpt"
#define SHPT_DEBUGFS		"/sys/kernel/debug/shpt"
#define SHPT_PARAM_DIR		"/sys/module/shpt/parameters"
#define SHPT_PAGE		4096UL
#define SHPT_HPAGE		(2UL << 20)

#define SHPT_UNUSED		__attribute__((unused))
#define SHPT_NOBODY		65534	/* uid and gid of "nobody" in the VM */
#define SHPT_MPOL_MF_MOVE	(1 << 1)	/* <linux/mempolicy.h> MPOL_MF_MOVE */

/* ---- privileges -------------------------------------------------------- */

/*
 * Become "nobody" for good: no supplementary groups, all uids and gids
 * 65534, and dumpable again (the uid change cleared it), as a plain user
 * process is.  0 or -errno.
 */
static SHPT_UNUSED int shpt_drop_to_nobody(void)
{
	if (setgroups(0, NULL) ||
	    setresgid(SHPT_NOBODY, SHPT_NOBODY, SHPT_NOBODY) ||
	    setresuid(SHPT_NOBODY, SHPT_NOBODY, SHPT_NOBODY))
		return -errno;
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -errno;
	return 0;
}

/* ---- /dev/shpt wrappers ---------------------------------------------- */

static SHPT_UNUSED int shpt_open(void)
{
	return open(SHPT_DEV, O_RDWR | O_CLOEXEC);
}

static SHPT_UNUSED int shpt_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static SHPT_UNUSED int shpt_attach(int fd, pid_t pid, __u32 flags,
				   __u64 *asid)
{
	struct shpt_attach a = {
		.size = sizeof(a), .flags = flags, .pid = pid,
	};
	int ret = shpt_ioctl(fd, SHPT_IOC_ATTACH, &a);

	if (!ret && asid)
		*asid = a.asid;
	return ret;
}

static SHPT_UNUSED int shpt_detach(int fd, __u64 asid)
{
	struct shpt_detach d = { .size = sizeof(d), .asid = asid };

	return shpt_ioctl(fd, SHPT_IOC_DETACH, &d);
}

static SHPT_UNUSED int shpt_lookup(int fd, __u64 asid, const __u64 *addrs,
				   struct shpt_lookup_result *res,
				   unsigned int count, __u32 flags)
{
	struct shpt_lookup l = {
		.size = sizeof(l), .flags = flags, .asid = asid,
		.addrs = (uintptr_t)addrs, .results = (uintptr_t)res,
		.count = count,
	};

	memset(res, 0xa5, count * sizeof(*res));
	return shpt_ioctl(fd, SHPT_IOC_LOOKUP, &l);
}

/* Look up @n consecutive pages starting at @start. */
static SHPT_UNUSED int shpt_lookup_range(int fd, __u64 asid,
					 unsigned long start, unsigned int n,
					 struct shpt_lookup_result *res,
					 __u32 flags)
{
	__u64 addrs[n];
	unsigned int i;

	for (i = 0; i < n; i++)
		addrs[i] = start + i * SHPT_PAGE;
	return shpt_lookup(fd, asid, addrs, res, n, flags);
}

static SHPT_UNUSED int shpt_lookup1(int fd, __u64 asid, unsigned long va,
				    __u32 flags, struct shpt_lookup_result *r)
{
	__u64 addr = va;

	return shpt_lookup(fd, asid, &addr, r, 1, flags);
}

static SHPT_UNUSED int shpt_range(int fd, unsigned long cmd, __u64 asid,
				  unsigned long start, unsigned long end,
				  struct shpt_range_op *op)
{
	memset(op, 0, sizeof(*op));
	op->size = sizeof(*op);
	op->asid = asid;
	op->start = start;
	op->end = end;
	return shpt_ioctl(fd, cmd, op);
}

static SHPT_UNUSED int shpt_populate(int fd, __u64 asid, unsigned long start,
				     unsigned long end,
				     struct shpt_range_op *op)
{
	return shpt_range(fd, SHPT_IOC_POPULATE, asid, start, end, op);
}

static SHPT_UNUSED int shpt_verify(int fd, __u64 asid, unsigned long start,
				   unsigned long end, struct shpt_range_op *op)
{
	return shpt_range(fd, SHPT_IOC_VERIFY, asid, start, end, op);
}

/*
 * Verify the whole mirror; every test ends with this.  Usable inside a
 * TEST/TEST_F body only (it asserts).
 */
#define SHPT_ASSERT_NO_STALE(fd, asid) do {				\
	struct shpt_range_op __op;					\
	ASSERT_EQ(0, shpt_verify(fd, asid, 0, 0, &__op));		\
	TH_LOG("verify asid %llu: checked %llu stale %llu missing %llu", \
	       (unsigned long long)(asid),				\
	       (unsigned long long)__op.checked,			\
	       (unsigned long long)__op.stale,				\
	       (unsigned long long)__op.missing);			\
	ASSERT_EQ(0ULL, __op.stale);					\
} while (0)

/* ---- /proc/PID/pagemap ------------------------------------------------ */

#define SHPT_PM_PRESENT		(1ULL << 63)
#define SHPT_PM_SWAP		(1ULL << 62)
#define SHPT_PM_PFN_MASK	((1ULL << 55) - 1)

/*
 * Return the pfn mapped at @va in @pid, 0 if not present, or -errno.
 * The pfn is only shown to CAP_SYS_ADMIN; others read 0 for present pages.
 */
static SHPT_UNUSED long long shpt_pagemap_pfn(pid_t pid, unsigned long va)
{
	char path[64];
	uint64_t ent;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &ent, sizeof(ent), (va / SHPT_PAGE) * sizeof(ent));
	close(fd);
	if (n != sizeof(ent))
		return n < 0 ? -errno : -EIO;
	if (!(ent & SHPT_PM_PRESENT))
		return 0;
	return ent & SHPT_PM_PFN_MASK;
}

/* ---- small sysfs/debugfs helpers -------------------------------------- */

/* Read the first line of @path into @buf; 0 or -errno. */
static SHPT_UNUSED int shpt_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The value of the debugfs stats line @name, or -1. */
static SHPT_UNUSED long long shpt_stat(const char *name)
{
	char line[256], n[64];
	unsigned long long v;
	long long ret = -1;
	FILE *f;

	f = fopen(SHPT_DEBUGFS "/stats", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu", n, &v) == 2 && !strcmp(n, name)) {
			ret = (long long)v;
			break;
		}
	fclose(f);
	return ret;
}

/* ---- reloading the module (tests that do it leave it loaded) ------- */

static SHPT_UNUSED int shpt_rmmod(void)
{
	return syscall(__NR_delete_module, "shpt", O_NONBLOCK) ? -errno : 0;
}

/* Load the module file @ko with @params ("" for the defaults). */
static SHPT_UNUSED int shpt_insmod(const char *ko, const char *params)
{
	int fd, ret;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Reload the module ($SHPT_KO) with @params: the way to change a load-time
 * parameter such as allow_user.  Every /dev/shpt fd must be closed first;
 * rmmod is retried for a while in case a just-exited child still held one.
 */
static SHPT_UNUSED int shpt_reload(const char *params)
{
	const char *ko = getenv("SHPT_KO");
	int ret, tries = 500;	/* 10 s */

	if (!ko || !*ko)
		return -ENOENT;
	for (;;) {
		ret = shpt_rmmod();
		if ((ret != -EAGAIN && ret != -EBUSY) || !--tries)
			break;
		usleep(20000);
	}
	if (ret && ret != -ENOENT)
		return ret;
	return shpt_insmod(ko, params);
}

/* 1 if the loaded module has allow_user=1, 0 if not, -errno. */
static SHPT_UNUSED int shpt_allow_user(void)
{
	char v[8];
	int ret = shpt_read_file(SHPT_PARAM_DIR "/allow_user", v, sizeof(v));

	return ret ? ret : v[0] == 'Y';
}

static SHPT_UNUSED int shpt_write_file(const char *path, const char *val)
{
	ssize_t n, len = strlen(val);
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	close(fd);
	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

/* One row of debugfs "asids": asid pid comm entries fills invals state. */
struct shpt_asid_row {
	unsigned long long asid, entries, fills, invals;
	int pid;
	char comm[32];
	char state[32];
};

/*
 * Find the debugfs "asids" row of @asid (or, with @asid 0, of @pid).
 * Returns 1 and fills @row if found, 0 if not, -errno without the file.
 * The file is diagnostics, not ABI: rows that do not parse are skipped.
 */
static SHPT_UNUSED int shpt_debugfs_asid_row(__u64 asid, int pid,
					     struct shpt_asid_row *row)
{
	struct shpt_asid_row r;
	char line[512];
	int found = 0;
	FILE *f;

	f = fopen(SHPT_DEBUGFS "/asids", "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		memset(&r, 0, sizeof(r));
		if (line[0] == '#' ||
		    sscanf(line, "%llu %d %31s %llu %llu %llu %31s", &r.asid,
			   &r.pid, r.comm, &r.entries, &r.fills, &r.invals,
			   r.state) < 4)
			continue;
		if (asid ? r.asid == asid : r.pid == pid)
			found = 1;
	}
	fclose(f);
	if (found && row)
		*row = r;
	return found;
}

static SHPT_UNUSED int shpt_debugfs_has_asid(__u64 asid)
{
	return shpt_debugfs_asid_row(asid, 0, NULL);
}

static SHPT_UNUSED double shpt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the target child ------------------------------------------------- */

/*
 * A target is a forked child that serves commands from a pipe.  It runs
 * the same binary, so it shares the parent's layout but gets its own mm.
 * It dies with its parent (PR_SET_PDEATHSIG) and on pipe EOF.
 */
enum shpt_target_op {
	SHPT_T_MMAP = 1,	/* a=addr b=len c=prot d=flags -> address */
	SHPT_T_TOUCH,		/* a=addr b=len c=value: write c to each page */
	SHPT_T_READ,		/* a=addr b=len: read each page, -> sum */
	SHPT_T_FILL,		/* a=addr b=len c=byte: memset every page */
	SHPT_T_MUNMAP,		/* a=addr b=len */
	SHPT_T_MPROTECT,	/* a=addr b=len c=prot */
	SHPT_T_MREMAP,		/* a=old b=oldlen c=newlen d=flags e=new */
	SHPT_T_MADVISE,		/* a=addr b=len c=advice */
	SHPT_T_FORK,		/* -> pid of a grandchild that pauses */
	SHPT_T_KILLCHILD,	/* a=pid: SIGKILL and reap a grandchild */
	SHPT_T_MOVE_PAGES,	/* a=addr b=npages c=node -> pages moved */
	SHPT_T_DUMPABLE,	/* a=0/1: prctl(PR_SET_DUMPABLE) */
	SHPT_T_EXIT,		/* _exit(0), no reply */
};

struct shpt_cmd {
	int op;
	unsigned long a, b, c, d, e;
};

struct shpt_reply {
	long ret;	/* result, or -1 */
	int err;	/* errno when ret == -1 */
};

struct shpt_target {
	pid_t pid;
	int cmd_fd;	/* parent writes commands */
	int rep_fd;	/* parent reads replies */
};

static long shpt_target_do(struct shpt_cmd *c)
{
	unsigned long off;
	long sum = 0;

	switch (c->op) {
	case SHPT_T_MMAP: {
		void *p = mmap((void *)c->a, c->b, c->c, c->d, -1, 0);

		return p == MAP_FAILED ? -1 : (long)p;
	}
	case SHPT_T_TOUCH:
		for (off = 0; off < c->b; off += SHPT_PAGE)
			*(volatile unsigned long *)(c->a + off) = c->c + off;
		return 0;
	case SHPT_T_READ:
		for (off = 0; off < c->b; off += SHPT_PAGE)
			sum += *(volatile unsigned char *)(c->a + off);
		return sum;
	case SHPT_T_FILL:
		memset((void *)c->a, (int)c->c, c->b);
		return 0;
	case SHPT_T_MUNMAP:
		return munmap((void *)c->a, c->b);
	case SHPT_T_MPROTECT:
		return mprotect((void *)c->a, c->b, c->c);
	case SHPT_T_MREMAP: {
		void *p = mremap((void *)c->a, c->b, c->c, c->d, (void *)c->e);

		return p == MAP_FAILED ? -1 : (long)p;
	}
	case SHPT_T_MADVISE:
		return madvise((void *)c->a, c->b, c->c);
	case SHPT_T_FORK: {
		pid_t pid = fork();

		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		return pid;
	}
	case SHPT_T_KILLCHILD:
		kill((pid_t)c->a, SIGKILL);
		return waitpid((pid_t)c->a, NULL, 0) < 0 ? -1 : 0;
	case SHPT_T_MOVE_PAGES: {
		unsigned long i, n = c->b;
		void **pages = calloc(n, sizeof(*pages));
		int *nodes = calloc(n, sizeof(*nodes));
		int *status = calloc(n, sizeof(*status));
		long ret, moved = 0;

		if (!pages || !nodes || !status) {
			errno = ENOMEM;
			return -1;
		}
		for (i = 0; i < n; i++) {
			pages[i] = (void *)(c->a + i * SHPT_PAGE);
			nodes[i] = (int)c->c;
		}
		ret = syscall(__NR_move_pages, 0, n, pages, nodes, status,
			      SHPT_MPOL_MF_MOVE);
		for (i = 0; ret == 0 && i < n; i++)
			moved += status[i] == (int)c->c;
		free(pages);
		free(nodes);
		free(status);
		return ret ? -1 : moved;
	}
	case SHPT_T_DUMPABLE:
		return prctl(PR_SET_DUMPABLE, c->a, 0, 0, 0);
	}
	errno = EINVAL;
	return -1;
}

static SHPT_UNUSED void shpt_target_loop(int cmd_fd, int rep_fd)
{
	struct shpt_cmd c;
	struct shpt_reply r;

	while (read(cmd_fd, &c, sizeof(c)) == sizeof(c)) {
		if (c.op == SHPT_T_EXIT)
			break;
		errno = 0;
		r.ret = shpt_target_do(&c);
		r.err = r.ret == -1 ? errno : 0;
		if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
			break;
	}
	_exit(0);
}

/*
 * Close every fd above stderr but @a and @b.  A forked child must not keep
 * the parent's /dev/shpt file open: the file's mirrors would outlive the
 * parent's close(), and rmmod would see the module in use.
 */
static SHPT_UNUSED void shpt_close_fds_except(int a, int b)
{
	int fd, max = (int)sysconf(_SC_OPEN_MAX);

	if (max <= 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		if (fd != a && fd != b)
			close(fd);
}

/* Fork a target; 0 or -errno. */
static SHPT_UNUSED int shpt_target_start(struct shpt_target *t)
{
	int cmd[2], rep[2];
	pid_t ppid = getpid();

	if (pipe2(cmd, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
		return -errno;
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			_exit(0);
		shpt_close_fds_except(cmd[0], rep[1]);
		shpt_target_loop(cmd[0], rep[1]);
	}
	close(cmd[0]);
	close(rep[1]);
	t->cmd_fd = cmd[1];
	t->rep_fd = rep[0];
	return 0;
}

/* Run one command in the target; returns its result, -1 with errno set. */
static SHPT_UNUSED long shpt_target_cmd(struct shpt_target *t, int op,
					unsigned long a, unsigned long b,
					unsigned long c, unsigned long d,
					unsigned long e)
{
	struct shpt_cmd cmd = { op, a, b, c, d, e };
	struct shpt_reply r;

	if (write(t->cmd_fd, &cmd, sizeof(cmd)) != sizeof(cmd))
		return -1;
	if (read(t->rep_fd, &r, sizeof(r)) != sizeof(r)) {
		errno = EPIPE;
		return -1;
	}
	if (r.ret == -1)
		errno = r.err;
	return r.ret;
}

/* Map @len bytes of anonymous private memory in the target. */
static SHPT_UNUSED unsigned long shpt_target_mmap(struct shpt_target *t,
						  unsigned long addr,
						  unsigned long len, int prot,
						  int flags)
{
	long p = shpt_target_cmd(t, SHPT_T_MMAP, addr, len, prot, flags, 0);

	return p == -1 ? 0 : (unsigned long)p;
}

/* Ask the target to exit and reap it; returns its wait status. */
static SHPT_UNUSED int shpt_target_stop(struct shpt_target *t)
{
	struct shpt_cmd cmd = { .op = SHPT_T_EXIT };
	int status = -1;

	if (t->pid <= 0)
		return -1;
	if (write(t->cmd_fd, &cmd, sizeof(cmd)) != sizeof(cmd))
		kill(t->pid, SIGKILL);
	waitpid(t->pid, &status, 0);
	close(t->cmd_fd);
	close(t->rep_fd);
	t->pid = 0;
	return status;
}

/* Teardown helper: kill without asking. */
static SHPT_UNUSED void shpt_target_kill(struct shpt_target *t)
{
	if (t->pid <= 0)
		return;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	close(t->cmd_fd);
	close(t->rep_fd);
	t->pid = 0;
}

#endif /* SHPT_TEST_UTIL_H */
