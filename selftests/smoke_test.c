// SPDX-License-Identifier: GPL-2.0
/*
 * smoke_test: the mirror's main paths in one quick pass, on the test's own
 * address space: attach with populate, lookups (hit, fill, fault, nofill)
 * checked against /proc/self/pagemap, mprotect and munmap followed by the
 * shadow, THP, a target that exits, and detach.  Every case ends with
 * VERIFY reporting 0 stale entries.  Needs root (CAP_SYS_PTRACE for the
 * attach, CAP_SYS_ADMIN for the pfns).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/shpt.h>

#include "shpt_harness.h"

#define PG		4096UL
#define HPG		(2UL << 20)
#define NPAGES		64

static int smoke_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int smoke_attach(int fd, pid_t pid, __u32 flags, __u64 *asid)
{
	struct shpt_attach a = { .size = sizeof(a), .flags = flags, .pid = pid };
	int ret = smoke_ioctl(fd, SHPT_IOC_ATTACH, &a);

	if (!ret)
		*asid = a.asid;
	return ret;
}

static int smoke_detach(int fd, __u64 asid)
{
	struct shpt_detach d = { .size = sizeof(d), .asid = asid };

	return smoke_ioctl(fd, SHPT_IOC_DETACH, &d);
}

static int smoke_lookup(int fd, __u64 asid, unsigned long va,
			unsigned int n, __u32 flags,
			struct shpt_lookup_result *res)
{
	__u64 addrs[NPAGES];
	struct shpt_lookup l = {
		.size = sizeof(l), .flags = flags, .asid = asid,
		.addrs = (uintptr_t)addrs, .results = (uintptr_t)res,
		.count = n,
	};
	unsigned int i;

	for (i = 0; i < n; i++)
		addrs[i] = va + i * PG;
	return smoke_ioctl(fd, SHPT_IOC_LOOKUP, &l);
}

static int smoke_range(int fd, unsigned long cmd, __u64 asid,
		       struct shpt_range_op *op)
{
	memset(op, 0, sizeof(*op));
	op->size = sizeof(*op);
	op->asid = asid;
	return smoke_ioctl(fd, cmd, op);
}

/* The pfn of a present page, 0 if absent, from /proc/self/pagemap. */
static __u64 pagemap_pfn(unsigned long va)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	__u64 e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (va / PG) * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	return (e >> 63) ? (e & ((1ULL << 55) - 1)) : 0;
}

FIXTURE(smoke) {
	int fd;
	__u64 asid;
	char *buf;
};

FIXTURE_SETUP(smoke)
{
	unsigned int i;

	self->fd = open("/dev/shpt", O_RDWR);
	ASSERT_LE(0, self->fd);
	self->buf = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	for (i = 0; i < NPAGES; i++)
		self->buf[i * PG] = i + 1;
	ASSERT_EQ(0, smoke_attach(self->fd, getpid(), SHPT_ATTACH_POPULATE,
				  &self->asid));
	ASSERT_NE(0ULL, self->asid);
}

FIXTURE_TEARDOWN(smoke)
{
	close(self->fd);
}

#define ASSERT_VERIFY_CLEAN(self) do {					\
	struct shpt_range_op __op;					\
	ASSERT_EQ(0, smoke_range((self)->fd, SHPT_IOC_VERIFY,		\
				 (self)->asid, &__op));			\
	TH_LOG("verify: checked %llu stale %llu missing %llu retries %llu", \
	       (unsigned long long)__op.checked,			\
	       (unsigned long long)__op.stale,				\
	       (unsigned long long)__op.missing,			\
	       (unsigned long long)__op.retries);			\
	ASSERT_EQ(0ULL, __op.stale);					\
} while (0)

TEST_F(smoke, populate_hits_match_pagemap)
{
	struct shpt_lookup_result res[NPAGES];
	unsigned int i;

	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, (unsigned long)self->buf,
				  NPAGES, SHPT_LOOKUP_NOFILL, res));
	for (i = 0; i < NPAGES; i++) {
		ASSERT_EQ(SHPT_LK_HIT, res[i].status);
		ASSERT_TRUE(!!(res[i].flags & SHPT_PF_VALID));
		ASSERT_TRUE(!!(res[i].flags & SHPT_PF_WRITE));
		ASSERT_TRUE(!!(res[i].flags & SHPT_PF_ANON));
		ASSERT_EQ(pagemap_pfn((unsigned long)self->buf + i * PG),
			  res[i].pfn);
	}
	ASSERT_VERIFY_CLEAN(self);
}

TEST_F(smoke, mprotect_and_munmap_follow)
{
	struct shpt_lookup_result res[NPAGES];
	unsigned long va = (unsigned long)self->buf;
	unsigned int i;

	ASSERT_EQ(0, mprotect(self->buf, 16 * PG, PROT_READ));
	/* Ignoring PROTECTION_VMA in the callback leaves 16 stale here. */
	ASSERT_VERIFY_CLEAN(self);
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va, 16,
				  SHPT_LOOKUP_NOFILL, res));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(SHPT_LK_NONE, res[i].status);
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va, 16, 0, res));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(SHPT_LK_FILL, res[i].status);
		ASSERT_FALSE(!!(res[i].flags & SHPT_PF_WRITE));
	}
	ASSERT_VERIFY_CLEAN(self);

	ASSERT_EQ(0, mprotect(self->buf, 16 * PG, PROT_READ | PROT_WRITE));
	for (i = 0; i < 16; i++)
		self->buf[i * PG]++;
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va, 16, 0, res));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(SHPT_LK_FILL, res[i].status);
		ASSERT_TRUE(!!(res[i].flags & SHPT_PF_WRITE));
	}

	ASSERT_EQ(0, munmap(self->buf + 32 * PG, 16 * PG));
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va + 32 * PG, 16, 0,
				  res));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(SHPT_LK_NONE, res[i].status);
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va + 48 * PG, 16,
				  SHPT_LOOKUP_NOFILL, res));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(SHPT_LK_HIT, res[i].status);
	ASSERT_VERIFY_CLEAN(self);
}

TEST_F(smoke, fill_and_fault)
{
	struct shpt_lookup_result res[4];
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long va = (unsigned long)p;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va, 4, 0, res));
	ASSERT_EQ(SHPT_LK_NONE, res[0].status);
	p[0] = 1;
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va, 1, 0, res));
	ASSERT_EQ(SHPT_LK_FILL, res[0].status);
	ASSERT_EQ(pagemap_pfn(va), res[0].pfn);
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va, 1, 0, res));
	ASSERT_EQ(SHPT_LK_HIT, res[0].status);
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va + PG, 1,
				  SHPT_LOOKUP_FAULT, res));
	ASSERT_EQ(SHPT_LK_FAULT, res[0].status);
	ASSERT_NE(0ULL, res[0].pfn);
	ASSERT_EQ(pagemap_pfn(va + PG), res[0].pfn);
	ASSERT_VERIFY_CLEAN(self);
	munmap(p, 4 * PG);
	ASSERT_VERIFY_CLEAN(self);
}

TEST_F(smoke, thp)
{
	struct shpt_lookup_result res[2];
	char *raw = mmap(NULL, 2 * HPG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;
	unsigned long va;
	struct shpt_range_op op;
	unsigned int order;

	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((unsigned long)raw + HPG - 1) & ~(HPG - 1));
	va = (unsigned long)p;
	madvise(p, HPG, MADV_HUGEPAGE);
	memset(p, 1, HPG);
	ASSERT_EQ(0, smoke_range(self->fd, SHPT_IOC_POPULATE, self->asid, &op));
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va + 5 * PG, 1,
				  SHPT_LOOKUP_NOFILL, res));
	ASSERT_EQ(SHPT_LK_HIT, res[0].status);
	order = res[0].order;
	TH_LOG("order %u", order);
	ASSERT_EQ(pagemap_pfn(va + 5 * PG), res[0].pfn);
	ASSERT_VERIFY_CLEAN(self);
	/*
	 * Split it: a PMD entry goes, and the untouched part fills as
	 * 4 KiB; 4 KiB entries outside the mprotect stay.
	 */
	ASSERT_EQ(0, mprotect(p, PG, PROT_READ));
	ASSERT_EQ(0, smoke_lookup(self->fd, self->asid, va + 5 * PG, 1, 0,
				  res));
	ASSERT_EQ(order ? SHPT_LK_FILL : SHPT_LK_HIT, res[0].status);
	ASSERT_EQ(0U, res[0].order);
	ASSERT_EQ(pagemap_pfn(va + 5 * PG), res[0].pfn);
	ASSERT_VERIFY_CLEAN(self);
	munmap(raw, 2 * HPG);
	ASSERT_VERIFY_CLEAN(self);
}

TEST_F(smoke, exit_and_detach)
{
	struct shpt_lookup_result res[1];
	struct shpt_range_op op;
	int pfd[2], status;
	__u64 asid;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[1]);
		if (read(pfd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pfd[0]);
	ASSERT_EQ(0, smoke_attach(self->fd, pid, SHPT_ATTACH_POPULATE, &asid));
	ASSERT_EQ(-EEXIST, smoke_attach(self->fd, pid, 0, &asid));
	ASSERT_EQ(0, smoke_lookup(self->fd, asid, (unsigned long)self->buf, 1,
				  0, res));
	ASSERT_EQ(SHPT_LK_HIT, res[0].status);	/* inherited by fork */
	close(pfd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(-ESRCH, smoke_lookup(self->fd, asid,
				       (unsigned long)self->buf, 1, 0, res));
	ASSERT_EQ(0, smoke_range(self->fd, SHPT_IOC_VERIFY, asid, &op));
	ASSERT_EQ(0ULL, op.stale);
	ASSERT_EQ(0, smoke_detach(self->fd, asid));
	ASSERT_EQ(-ENOENT, smoke_detach(self->fd, asid));
	ASSERT_EQ(0, smoke_detach(self->fd, self->asid));
	ASSERT_EQ(-ENOENT, smoke_detach(self->fd, self->asid));
}

SHPT_HARNESS_MAIN
