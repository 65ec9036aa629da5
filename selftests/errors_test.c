// SPDX-License-Identifier: GPL-2.0
/*
 * shpt error selftests: every failure a user can cause through /dev/shpt
 * returns its documented errno (see the table at the top of
 * module/chardev.c and Documentation/usage.rst), never a WARN or an oops.
 * One TEST per error.
 */
#include "shpt_harness.h"

#include "shpt_test_util.h"

FIXTURE(err)
{
	int fd;
	struct shpt_target t;
	unsigned long va;	/* one mapped, touched page in the target */
	__u64 asid;		/* the target, attached through fd */
	struct shpt_lookup_result res[2];
	__u64 addrs[2];
};

FIXTURE_SETUP(err)
{
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SHPT_DEV,
				       strerror(errno));
	ASSERT_EQ(0, shpt_target_start(&self->t));
	self->va = shpt_target_mmap(&self->t, 0, 2 * SHPT_PAGE,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, self->va);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, self->va,
				     2 * SHPT_PAGE, 1, 0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid,
				 SHPT_ATTACH_POPULATE, &self->asid));
	self->addrs[0] = self->va;
	self->addrs[1] = self->va + SHPT_PAGE;
}

FIXTURE_TEARDOWN(err)
{
	shpt_target_kill(&self->t);
	if (self->fd >= 0)
		close(self->fd);
}

/* A lookup of the fixture's two pages, ready to be broken by a test. */
static struct shpt_lookup lk(FIXTURE_DATA(err) *self)
{
	struct shpt_lookup l = {
		.size = sizeof(l), .asid = self->asid,
		.addrs = (uintptr_t)self->addrs,
		.results = (uintptr_t)self->res, .count = 2,
	};
	return l;
}

static struct shpt_range_op rop(FIXTURE_DATA(err) *self)
{
	struct shpt_range_op op = { .size = sizeof(op), .asid = self->asid };

	return op;
}

static int lookup_addr(FIXTURE_DATA(err) *self, __u64 addr)
{
	struct shpt_lookup l = lk(self);

	self->addrs[1] = addr;
	return shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l);
}

/* The baseline the error cases are broken from works. */
TEST_F(err, baseline_ok)
{
	struct shpt_lookup l = lk(self);
	struct shpt_range_op op = rop(self);

	ASSERT_EQ(0, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	ASSERT_EQ(SHPT_LK_HIT, self->res[0].status);
	ASSERT_EQ(SHPT_LK_HIT, self->res[1].status);
	ASSERT_EQ(0, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	/* The fixture populated everything; its two pages are checked. */
	op = rop(self);
	op.start = self->va;
	op.end = self->va + 2 * SHPT_PAGE;
	ASSERT_EQ(0, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
	ASSERT_EQ(0ULL, op.stale);
	ASSERT_EQ(2ULL, op.checked);
}

/* ---- attach --------------------------------------------------------- */

TEST_F(err, attach_pid_zero)
{
	ASSERT_EQ(-EINVAL, shpt_attach(self->fd, 0, 0, NULL));
}

TEST_F(err, attach_pid_negative)
{
	ASSERT_EQ(-EINVAL, shpt_attach(self->fd, -1, 0, NULL));
	ASSERT_EQ(-EINVAL, shpt_attach(self->fd, INT32_MIN, 0, NULL));
}

TEST_F(err, attach_unknown_pid)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	/* Reaped and (this soon, with sequential pids) not reused. */
	ASSERT_EQ(-ESRCH, shpt_attach(self->fd, pid, 0, NULL));
	ASSERT_EQ(-ESRCH, shpt_attach(self->fd, INT32_MAX, 0, NULL));
}

TEST_F(err, attach_kernel_thread)
{
	char comm[32] = "";

	shpt_read_file("/proc/2/comm", comm, sizeof(comm));
	ASSERT_EQ(0, strncmp(comm, "kthreadd", 8));
	ASSERT_EQ(-EINVAL, shpt_attach(self->fd, 2, 0, NULL));
}

TEST_F(err, attach_zombie)
{
	siginfo_t si;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	/* Wait for the exit without reaping: pid is a zombie. */
	ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	ASSERT_EQ(-ESRCH, shpt_attach(self->fd, pid, 0, NULL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
}

TEST_F(err, attach_twice)
{
	int fd2 = shpt_open();

	ASSERT_EQ(-EEXIST, shpt_attach(self->fd, self->t.pid, 0, NULL));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(-EEXIST, shpt_attach(fd2, self->t.pid, 0, NULL));
	close(fd2);
}

TEST_F(err, attach_unknown_flags)
{
	struct shpt_target t2;

	ASSERT_EQ(0, shpt_target_start(&t2));
	ASSERT_EQ(-EINVAL, shpt_attach(self->fd, t2.pid, 1U << 31, NULL));
	ASSERT_EQ(-EINVAL, shpt_attach(self->fd, t2.pid,
				       SHPT_ATTACH_POPULATE << 1, NULL));
	/* Nothing was attached by the failed calls. */
	ASSERT_EQ(0, shpt_attach(self->fd, t2.pid, 0, NULL));
	shpt_target_kill(&t2);
}

TEST_F(err, attach_bad_size)
{
	struct shpt_attach a = { .pid = getpid() };

	a.size = 0;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_ATTACH, &a));
	a.size = sizeof(a) - 8;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_ATTACH, &a));
	a.size = sizeof(a) + 8;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_ATTACH, &a));
}

TEST_F(err, attach_nonzero_pad)
{
	struct shpt_attach a = {
		.size = sizeof(a), .pid = getpid(), .__pad = 1,
	};

	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_ATTACH, &a));
}

TEST_F(err, attach_bad_pointer)
{
	void *ro = mmap(NULL, SHPT_PAGE, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_ATTACH, NULL));
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_ATTACH,
				      (void *)0xffff888000000000UL));
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_ATTACH, ro));
	munmap(ro, SHPT_PAGE);
}

/* ---- detach --------------------------------------------------------- */

TEST_F(err, detach_unknown_asid)
{
	ASSERT_EQ(-ENOENT, shpt_detach(self->fd, 0));
	ASSERT_EQ(-ENOENT, shpt_detach(self->fd, self->asid + 1000000));
	ASSERT_EQ(-ENOENT, shpt_detach(self->fd, ~0ULL));
}

TEST_F(err, detach_twice)
{
	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
	ASSERT_EQ(-ENOENT, shpt_detach(self->fd, self->asid));
}

TEST_F(err, detach_other_fd)
{
	int fd2 = shpt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(-ENOENT, shpt_detach(fd2, self->asid));
	close(fd2);
	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
}

TEST_F(err, detach_bad_flags_size)
{
	struct shpt_detach d = { .size = sizeof(d), .flags = 1,
				 .asid = self->asid };

	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_DETACH, &d));
	d.flags = 0;
	d.size = sizeof(d) + 4;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_DETACH, &d));
	d.size = 4;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_DETACH, &d));
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_DETACH, NULL));
	/* Still attached after all that. */
	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
}

/* ---- lookup --------------------------------------------------------- */

TEST_F(err, lookup_unknown_asid)
{
	struct shpt_lookup l = lk(self);

	l.asid = self->asid + 1000000;
	ASSERT_EQ(-ENOENT, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	l.asid = 0;
	ASSERT_EQ(-ENOENT, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
}

TEST_F(err, lookup_detached_asid)
{
	struct shpt_lookup l = lk(self);

	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
	ASSERT_EQ(-ENOENT, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
}

TEST_F(err, lookup_other_fd)
{
	struct shpt_lookup l = lk(self);
	int fd2 = shpt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(-ENOENT, shpt_ioctl(fd2, SHPT_IOC_LOOKUP, &l));
	close(fd2);
}

TEST_F(err, lookup_unaligned)
{
	ASSERT_EQ(-EINVAL, lookup_addr(self, self->va + 1));
	ASSERT_EQ(-EINVAL, lookup_addr(self, self->va + SHPT_PAGE - 8));
}

/*
 * Non-canonical with 4- and 5-level paging alike: the TCG VM has LA57, so
 * 0x0000800000000000 is a valid user address there (TASK_SIZE_MAX is
 * 0x00fffffffffff000).
 */
TEST_F(err, lookup_noncanonical)
{
	ASSERT_EQ(-EINVAL, lookup_addr(self, 0x0100000000000000ULL));
	ASSERT_EQ(-EINVAL, lookup_addr(self, 0x8000000000000000ULL));
}

TEST_F(err, lookup_kernel_address)
{
	ASSERT_EQ(-EINVAL, lookup_addr(self, 0xffff888000000000ULL));
	ASSERT_EQ(-EINVAL, lookup_addr(self, 0xfffffffffffff000ULL));
}

TEST_F(err, lookup_count_zero)
{
	struct shpt_lookup l = lk(self);

	l.count = 0;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
}

TEST_F(err, lookup_count_over_max)
{
	struct shpt_lookup l = lk(self);

	l.count = SHPT_LOOKUP_MAX + 1;
	ASSERT_EQ(-E2BIG, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	l.count = UINT32_MAX;
	ASSERT_EQ(-E2BIG, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
}

TEST_F(err, lookup_count_max_ok)
{
	const unsigned int n = SHPT_LOOKUP_MAX;
	struct shpt_lookup_result *res = calloc(n, sizeof(*res));
	__u64 *addrs = calloc(n, sizeof(*addrs));
	unsigned int i;

	ASSERT_NE(NULL, res);
	ASSERT_NE(NULL, addrs);
	for (i = 0; i < n; i++)
		addrs[i] = self->va + (i % 2) * SHPT_PAGE;
	ASSERT_EQ(0, shpt_lookup(self->fd, self->asid, addrs, res, n, 0));
	for (i = 0; i < n; i++)
		ASSERT_EQ(SHPT_LK_HIT, res[i].status);
	free(res);
	free(addrs);
}

TEST_F(err, lookup_bad_addrs_pointer)
{
	struct shpt_lookup l = lk(self);

	l.addrs = 0;
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	l.addrs = 0xffff888000000000ULL;
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
}

TEST_F(err, lookup_bad_results_pointer)
{
	struct shpt_lookup l = lk(self);
	void *ro = mmap(NULL, SHPT_PAGE, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, ro);
	l.results = 0;
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	l.results = (uintptr_t)ro;
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	munmap(ro, SHPT_PAGE);
}

TEST_F(err, lookup_bad_arg_pointer)
{
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, NULL));
}

TEST_F(err, lookup_unknown_flags)
{
	struct shpt_lookup l = lk(self);

	l.flags = 1U << 31;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	l.flags = SHPT_LOOKUP_FAULT << 1;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	/* Contradictory: a miss cannot both stay a miss and fault. */
	l.flags = SHPT_LOOKUP_NOFILL | SHPT_LOOKUP_FAULT;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
}

TEST_F(err, lookup_bad_size)
{
	struct shpt_lookup l = lk(self);

	l.size = sizeof(l) - 8;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
	l.size = sizeof(l) + 8;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
}

TEST_F(err, lookup_nonzero_pad)
{
	struct shpt_lookup l = lk(self);

	l.__pad = 1;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_LOOKUP, &l));
}

/* ---- populate / verify ---------------------------------------------- */

TEST_F(err, range_unknown_asid)
{
	struct shpt_range_op op = rop(self);

	op.asid = self->asid + 1000000;
	ASSERT_EQ(-ENOENT, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-ENOENT, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
	ASSERT_EQ(0, shpt_detach(self->fd, self->asid));
	op.asid = self->asid;
	ASSERT_EQ(-ENOENT, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-ENOENT, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
}

TEST_F(err, range_unaligned)
{
	struct shpt_range_op op = rop(self);

	op.start = self->va + 1;
	op.end = self->va + SHPT_PAGE;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
	op.start = self->va;
	op.end = self->va + SHPT_PAGE + 1;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
}

TEST_F(err, range_inverted)
{
	struct shpt_range_op op = rop(self);

	op.start = self->va + SHPT_PAGE;
	op.end = self->va;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
	/* Empty, other than the 0, 0 "everything" range. */
	op.end = op.start;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
}

TEST_F(err, range_kernel_address)
{
	struct shpt_range_op op = rop(self);

	op.start = 0xffff888000000000ULL;
	op.end = 0xffff888000001000ULL;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
}

TEST_F(err, range_flags_size)
{
	struct shpt_range_op op = rop(self);

	op.flags = 1;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
	op = rop(self);
	op.size = sizeof(op) - 8;
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, &op));
	ASSERT_EQ(-EINVAL, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, &op));
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_POPULATE, NULL));
	ASSERT_EQ(-EFAULT, shpt_ioctl(self->fd, SHPT_IOC_VERIFY, NULL));
}

TEST_F(err, unknown_ioctl)
{
	char buf[64] = "";

	ASSERT_EQ(-ENOTTY, shpt_ioctl(self->fd,
				      _IOWR(SHPT_IOC_MAGIC, 0x7f, buf), buf));
	ASSERT_EQ(-ENOTTY, shpt_ioctl(self->fd, _IO('x', 1), NULL));
}

SHPT_HARNESS_MAIN
