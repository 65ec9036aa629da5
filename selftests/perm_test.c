// SPDX-License-Identifier: GPL-2.0
/*
 * shpt permission selftests.  The test runs as root; each case forks an
 * "unprivileged" child that keeps an fd on /dev/shpt opened as root, drops
 * to uid/gid 65534 (nobody) with every capability gone, and then tries to
 * attach.  The child reports each errno through a pipe; the root parent
 * asserts.  allow_user is a load-time parameter: the case that needs it
 * reloads the module ($SHPT_KO) with allow_user=1, and the defaults are
 * restored afterwards.  hostile_test covers user namespaces and exec.
 */
#include "shpt_harness.h"

#include <grp.h>

#include "shpt_test_util.h"

#define ALLOW_USER	SHPT_PARAM_DIR "/allow_user"

/* What the unprivileged child saw. */
struct perm_report {
	int drop;		/* 0, or -errno of the privilege drop */
	long long cap_eff;	/* CapEff from /proc/self/status */
	int attach_root;	/* attach to the root-owned target */
	int attach_own;		/* attach to its own (nobody) target */
	int lookup;		/* lookup on the own mirror, if attached */
	struct shpt_lookup_result res;
	__u64 stale;		/* verify of the own mirror */
	int verify;
	int attach_nodump;	/* attach to its own non-dumpable target */
	int param_write;	/* try to write allow_user */
	pid_t own_pid;		/* the own target, for root to look at */
	unsigned long va;	/* its touched page */
};

static long long cap_eff(void)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * The unprivileged side.  @root_pid is a root-owned target.  Writes the
 * report to @rep_fd, then waits for @go_fd to close so that the parent can
 * inspect the own target while it is alive.
 */
static void unprivileged(int fd, pid_t root_pid, int rep_fd, int go_fd)
{
	struct perm_report r = { 0 };
	struct shpt_target own = { 0 }, nodump = { 0 };
	struct shpt_range_op op;
	__u64 asid;
	char c;

	r.attach_root = r.attach_own = r.lookup = r.verify = 1;
	r.attach_nodump = r.param_write = 1;
	r.drop = shpt_drop_to_nobody();
	r.cap_eff = cap_eff();
	if (r.drop)
		goto out;

	r.attach_root = shpt_attach(fd, root_pid, 0, &asid);

	if (shpt_target_start(&own))
		goto out;
	r.own_pid = own.pid;
	r.va = shpt_target_mmap(&own, 0, SHPT_PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS);
	if (!r.va || shpt_target_cmd(&own, SHPT_T_TOUCH, r.va, SHPT_PAGE, 1,
				     0, 0))
		goto out;
	r.attach_own = shpt_attach(fd, own.pid, SHPT_ATTACH_POPULATE, &asid);
	if (!r.attach_own) {
		r.lookup = shpt_lookup1(fd, asid, r.va, 0, &r.res);
		r.verify = shpt_verify(fd, asid, 0, 0, &op);
		r.stale = op.stale;
		shpt_detach(fd, asid);
	}

	if (!shpt_target_start(&nodump) &&
	    !shpt_target_cmd(&nodump, SHPT_T_DUMPABLE, 0, 0, 0, 0, 0))
		r.attach_nodump = shpt_attach(fd, nodump.pid, 0, &asid);
	shpt_target_kill(&nodump);

	r.param_write = shpt_write_file(ALLOW_USER, "1");
out:
	if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	if (read(go_fd, &c, 1) < 0)
		_exit(1);
	shpt_target_kill(&own);
	_exit(0);
}

FIXTURE(perm)
{
	int fd;
	struct shpt_target root_t;
	unsigned long root_va;
	pid_t child;
	int go_fd;
	struct perm_report r;
};

FIXTURE_SETUP(perm)
{
	self->fd = -1;
	self->go_fd = -1;
	if (geteuid() != 0)
		SKIP(return, "needs root to drop privileges");
	if (shpt_allow_user() != 0)
		ASSERT_EQ(0, shpt_reload(""));
	ASSERT_EQ(0, shpt_allow_user());
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	self->go_fd = -1;
	ASSERT_EQ(0, shpt_target_start(&self->root_t));
	self->root_va = shpt_target_mmap(&self->root_t, 0, SHPT_PAGE,
					 PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, self->root_va);
	ASSERT_EQ(0, shpt_target_cmd(&self->root_t, SHPT_T_TOUCH,
				     self->root_va, SHPT_PAGE, 1, 0, 0));
}

FIXTURE_TEARDOWN(perm)
{
	if (self->go_fd >= 0)
		close(self->go_fd);
	if (self->child > 0)
		waitpid(self->child, NULL, 0);
	shpt_target_kill(&self->root_t);
	if (self->fd >= 0)
		close(self->fd);
	if (shpt_allow_user() == 1 && shpt_reload(""))
		TH_LOG("cannot reload shpt with defaults");
}

/* Fork the unprivileged child and collect its report into self->r. */
static int run_unprivileged(struct __test_metadata *_metadata,
			    FIXTURE_DATA(perm) *self)
{
	int rep[2], go[2];

	if (pipe2(rep, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -errno;
	self->child = fork();
	if (self->child < 0)
		return -errno;
	if (!self->child) {
		close(rep[0]);
		close(go[1]);
		unprivileged(self->fd, self->root_t.pid, rep[1], go[0]);
	}
	close(rep[1]);
	close(go[0]);
	self->go_fd = go[1];
	if (read(rep[0], &self->r, sizeof(self->r)) != sizeof(self->r)) {
		close(rep[0]);
		return -EIO;
	}
	close(rep[0]);
	TH_LOG("drop %d capeff %llx root %d own %d lookup %d status %u pfn %#llx nodump %d param %d",
	       self->r.drop, self->r.cap_eff, self->r.attach_root,
	       self->r.attach_own, self->r.lookup, self->r.res.status,
	       (unsigned long long)self->r.res.pfn, self->r.attach_nodump,
	       self->r.param_write);
	return 0;
}

TEST_F(perm, refused_by_default)
{
	SHPT_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, run_unprivileged(_metadata, self));
	ASSERT_EQ(0, self->r.drop);
	ASSERT_EQ(0, self->r.cap_eff);
	ASSERT_EQ(-EPERM, self->r.attach_root);
	ASSERT_EQ(-EPERM, self->r.attach_own);
	ASSERT_EQ(-EPERM, self->r.attach_nodump);
	ASSERT_NE(0, self->r.param_write);
	/* allow_user is fixed at load time, for root too. */
	ASSERT_NE(0, shpt_write_file(ALLOW_USER, "1"));
	ASSERT_EQ(0, shpt_allow_user());
}

TEST_F(perm, allow_user_own_process)
{
	SHPT_RETURN_IF_SKIPPED();
	struct shpt_lookup_result res;
	long long pm;
	__u64 asid;

	if (!getenv("SHPT_KO"))
		SKIP(return, "SHPT_KO (the path of shpt.ko) is not set");
	/* The root target holds no fd on /dev/shpt: only ours is open. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, shpt_reload("allow_user=1"));
	ASSERT_EQ(1, shpt_allow_user());
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, run_unprivileged(_metadata, self));
	ASSERT_EQ(0, self->r.drop);
	ASSERT_EQ(0, self->r.cap_eff);
	/* Another uid's process and a non-dumpable one stay refused. */
	ASSERT_EQ(-EPERM, self->r.attach_root);
	ASSERT_EQ(-EPERM, self->r.attach_nodump);
	/* Its own: allowed, the page is found, but its pfn is hidden. */
	ASSERT_EQ(0, self->r.attach_own);
	ASSERT_EQ(0, self->r.lookup);
	ASSERT_EQ(SHPT_LK_HIT, self->r.res.status);
	ASSERT_EQ(0ULL, self->r.res.pfn);
	ASSERT_EQ(0, self->r.verify);
	ASSERT_EQ(0ULL, self->r.stale);

	/* Root looking at the same page sees the pfn, as pagemap does. */
	ASSERT_EQ(0, shpt_attach(self->fd, self->r.own_pid,
				 SHPT_ATTACH_POPULATE, &asid));
	ASSERT_EQ(0, shpt_lookup1(self->fd, asid, self->r.va, 0, &res));
	pm = shpt_pagemap_pfn(self->r.own_pid, self->r.va);
	ASSERT_LT(0, pm);
	ASSERT_EQ(pm, (long long)res.pfn);
	SHPT_ASSERT_NO_STALE(self->fd, asid);
}

TEST_F(perm, root_sees_pfn)
{
	SHPT_RETURN_IF_SKIPPED();
	struct shpt_lookup_result res;
	__u64 asid;

	ASSERT_EQ(0, shpt_attach(self->fd, self->root_t.pid,
				 SHPT_ATTACH_POPULATE, &asid));
	ASSERT_EQ(0, shpt_lookup1(self->fd, asid, self->root_va, 0, &res));
	ASSERT_EQ(SHPT_LK_HIT, res.status);
	ASSERT_NE(0ULL, res.pfn);
	ASSERT_EQ(shpt_pagemap_pfn(self->root_t.pid, self->root_va),
		  (long long)res.pfn);
	SHPT_ASSERT_NO_STALE(self->fd, asid);
}

SHPT_HARNESS_MAIN
