// SPDX-License-Identifier: GPL-2.0
/*
 * shpt resource-limit selftests (DESIGN 3, "Bounded").  Each test reloads
 * shpt from $SHPT_KO with small limits and allow_user=1, and the teardown
 * loads it again with the defaults.  Where it matters the test runs as an
 * attacker: a forked child that keeps /dev/shpt fds opened as root, drops
 * to uid/gid 65534 (nobody) and attaches to its own children.
 *
 *   recycle_unprivileged  10x the ASID space of attach/detach by nobody all
 *                         succeed, within the space; root attaches after
 *   space_full            a full ASID space gives ENOSPC; a detach frees one
 *   recycled_no_stale     a recycled ASID shows none of the previous
 *                         owner's entries: lookups miss, verify is clean
 *   user_limit            max_user_mirrors per real uid, over all fds, dead
 *                         mirrors included: EMFILE; detach and close give
 *                         the count back; root is limited separately
 *   dead_releases_mm      an exited target's mirror gives its mm back while
 *                         the fd stays open (stats mirrors_mm, asids state)
 *   bad_asid_max          asid_max=0 is refused at load
 *
 * Needs root and $SHPT_KO.  Loop bodies that ASSERT are braced: an
 * ASSERT ends in a for statement of its own (its failure handler), which
 * would otherwise run only after the loop.
 */
#include "shpt_harness.h"

#include <grp.h>

#include "shpt_test_util.h"

#define SPACE		16		/* asid_max for the recycling tests */
#define CYCLES		(10 * SPACE)
#define USER_MAX	4		/* max_user_mirrors for user_limit */
#define NTARGETS	(USER_MAX + 2)
#define VICTIM_VA	0x5a5a00000000UL	/* mapped by the victim only */
#define VICTIM_PAGES	16
#define MAP_FIXED_NR	0x100000	/* MAP_FIXED_NOREPLACE */

FIXTURE(limits) {
	int fd;
	pid_t child;
	int go_fd;
	struct shpt_target t[NTARGETS];
};

FIXTURE_SETUP(limits)
{
	const char *ko = getenv("SHPT_KO");

	self->fd = -1;
	self->go_fd = -1;
	if (geteuid() != 0)
		SKIP(return, "needs root");
	if (!ko || !*ko)
		SKIP(return, "SHPT_KO (the path of shpt.ko) is not set");
}

FIXTURE_TEARDOWN(limits)
{
	int i, ret;

	if (_metadata->skip)
		return;
	if (self->go_fd >= 0)
		close(self->go_fd);
	if (self->child > 0)
		waitpid(self->child, NULL, 0);
	for (i = 0; i < NTARGETS; i++)
		shpt_target_kill(&self->t[i]);
	if (self->fd >= 0)
		close(self->fd);
	ret = shpt_reload("");
	if (ret)
		TH_LOG("cannot load shpt with the defaults again: %s",
		       strerror(-ret));
}

/* A target with one touched page, or 0 in t->pid on failure. */
static int start_target(struct shpt_target *t)
{
	unsigned long va;

	if (shpt_target_start(t))
		return -1;
	va = shpt_target_mmap(t, 0, SHPT_PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS);
	if (!va || shpt_target_cmd(t, SHPT_T_TOUCH, va, SHPT_PAGE, 1, 0, 0))
		return -1;
	return 0;
}

/* What the unprivileged child did; the root parent asserts. */
struct report {
	int drop;		/* 0, or -errno of the privilege drop */
	int setup;		/* 0, or what failed before the test proper */
	/* recycle_unprivileged */
	int cycles;		/* attach + lookup + detach cycles that worked */
	int err;		/* the first error, with the step it failed at */
	int err_step;
	__u64 min_asid, max_asid;
	/* recycled_no_stale */
	__u64 asid;
	int lookup_nofill, lookup_fill;
	unsigned int hits, fills;
	int verify;
	__u64 stale;
	/* user_limit: the result of each step, in order */
	int steps[32];
	int nsteps;
};

typedef void (*unpriv_fn)(struct report *r, void *arg);

/*
 * Fork a child that drops to nobody, runs @fn and writes its report to
 * @out through a pipe.  The child then waits until self->go_fd is closed,
 * so that whatever it holds (fds, mirrors, targets) stays while the
 * parent looks.  Fds the child shares with the parent are opened before;
 * @own_fd, if set, points into @arg and receives an fd that the child
 * opens as root before the drop, which only it holds.
 */
static int run_as_nobody(FIXTURE_DATA(limits) *self, unpriv_fn fn, void *arg,
			 int *own_fd, struct report *out)
{
	int rep[2], go[2];
	struct report r;
	char c;

	if (pipe2(rep, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -errno;
	self->child = fork();
	if (self->child < 0)
		return -errno;
	if (!self->child) {
		close(rep[0]);
		close(go[1]);
		memset(&r, 0, sizeof(r));
		if (own_fd)
			*own_fd = shpt_open();
		r.drop = own_fd && *own_fd < 0 ? -errno : shpt_drop_to_nobody();
		if (!r.drop)
			fn(&r, arg);
		if (write(rep[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(rep[1]);
	close(go[0]);
	self->go_fd = go[1];
	if (read(rep[0], out, sizeof(*out)) != sizeof(*out)) {
		close(rep[0]);
		return -EIO;
	}
	close(rep[0]);
	return 0;
}

/* Let the child go and reap it: its fds close, its targets die. */
static void end_child(FIXTURE_DATA(limits) *self)
{
	close(self->go_fd);
	self->go_fd = -1;
	waitpid(self->child, NULL, 0);
	self->child = 0;
}

static void fail_at(struct report *r, int step, int err)
{
	if (!r->err) {
		r->err = err;
		r->err_step = step;
	}
}

/* Nobody: CYCLES attach/lookup/detach cycles on its own target. */
static void cycle_unpriv(struct report *r, void *arg)
{
	int fd = *(int *)arg;
	struct shpt_lookup_result res;
	struct shpt_target t = { 0 };
	unsigned long va;
	__u64 asid;
	int i, ret;

	r->min_asid = ~0ULL;
	if (shpt_target_start(&t)) {
		r->setup = -errno;
		return;
	}
	va = shpt_target_mmap(&t, 0, SHPT_PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS);
	if (!va || shpt_target_cmd(&t, SHPT_T_TOUCH, va, SHPT_PAGE, 1, 0, 0)) {
		r->setup = -EIO;
		goto out;
	}
	for (i = 0; i < CYCLES; i++) {
		ret = shpt_attach(fd, t.pid, SHPT_ATTACH_POPULATE, &asid);
		if (ret) {
			fail_at(r, i, ret);
			continue;
		}
		if (asid < r->min_asid)
			r->min_asid = asid;
		if (asid > r->max_asid)
			r->max_asid = asid;
		ret = shpt_lookup1(fd, asid, va, SHPT_LOOKUP_NOFILL, &res);
		if (!ret && res.status != SHPT_LK_HIT)
			ret = -EBADMSG;
		if (ret)
			fail_at(r, i, ret);
		ret = shpt_detach(fd, asid);
		if (ret)
			fail_at(r, i, ret);
		else if (!r->err)
			r->cycles++;
	}
out:
	shpt_target_kill(&t);
}

/*
 * (a) An unprivileged attach/detach loop over 10 times the ASID space
 * never runs out: ASIDs are recycled.  Before recycling, ASID 17 was
 * handed out (and, with the full space, the loop hit ENOSPC for everyone).
 */
TEST_F_TIMEOUT(limits, recycle_unprivileged, 600)
{
	SHPT_RETURN_IF_SKIPPED();
	struct report r;
	__u64 asid;

	ASSERT_EQ(0, shpt_reload("asid_max=16 allow_user=1"));
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, run_as_nobody(self, cycle_unpriv, &self->fd, NULL, &r));
	end_child(self);
	TH_LOG("nobody: %d/%d cycles, asids %llu..%llu, first error %d at cycle %d",
	       r.cycles, CYCLES, (unsigned long long)r.min_asid,
	       (unsigned long long)r.max_asid, r.err, r.err_step);
	ASSERT_EQ(0, r.drop);
	ASSERT_EQ(0, r.setup);
	ASSERT_EQ(0, r.err);
	ASSERT_EQ(CYCLES, r.cycles);
	ASSERT_LE(1ULL, r.min_asid);
	ASSERT_GE((__u64)SPACE, r.max_asid) TH_LOG("asid_max=16 not honoured");

	/* Root still gets an ASID afterwards. */
	ASSERT_EQ(0, start_target(&self->t[0]));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t[0].pid, SHPT_ATTACH_POPULATE,
				 &asid));
	ASSERT_GE((__u64)SPACE, asid);
	SHPT_ASSERT_NO_STALE(self->fd, asid);
	ASSERT_EQ(0, shpt_detach(self->fd, asid));
}

/*
 * A full space (asid_max=4): 4 live mirrors, the next attach gives ENOSPC; after
 * one detach an attach succeeds at once (it waits for the grace period of
 * the freed ASID rather than failing).
 */
TEST_F_TIMEOUT(limits, space_full, 300)
{
	SHPT_RETURN_IF_SKIPPED();
	__u64 asid[5];
	int i, ret;

	ASSERT_EQ(0, shpt_reload("asid_max=4"));
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, start_target(&self->t[i]));
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, shpt_attach(self->fd, self->t[i].pid, 0, &asid[i]));
	ret = shpt_attach(self->fd, self->t[4].pid, 0, &asid[4]);
	ASSERT_EQ(-ENOSPC, ret) TH_LOG("5th attach with asid_max=4: %d, asid %llu",
				       ret, (unsigned long long)asid[4]);
	ASSERT_EQ(0, shpt_detach(self->fd, asid[1]));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t[4].pid, 0, &asid[4]));
	ASSERT_EQ(asid[1], asid[4]);
}

struct victim {
	int fd;
	__u64 asid;
};

/* Nobody: attach its own fresh target, look at the victim's addresses. */
static void recycled_unpriv(struct report *r, void *arg)
{
	struct victim *v = arg;
	struct shpt_lookup_result res[VICTIM_PAGES];
	struct shpt_target t = { 0 };
	struct shpt_range_op op;
	int i;

	if (shpt_target_start(&t)) {
		r->setup = -errno;
		return;
	}
	r->setup = shpt_attach(v->fd, t.pid, SHPT_ATTACH_POPULATE, &r->asid);
	if (r->setup)
		goto out;
	r->lookup_nofill = shpt_lookup_range(v->fd, r->asid, VICTIM_VA,
					     VICTIM_PAGES, res,
					     SHPT_LOOKUP_NOFILL);
	for (i = 0; !r->lookup_nofill && i < VICTIM_PAGES; i++)
		r->hits += res[i].status == SHPT_LK_HIT;
	r->lookup_fill = shpt_lookup_range(v->fd, r->asid, VICTIM_VA,
					   VICTIM_PAGES, res, 0);
	for (i = 0; !r->lookup_fill && i < VICTIM_PAGES; i++) {
		r->hits += res[i].status == SHPT_LK_HIT;
		r->fills += res[i].status != SHPT_LK_NONE;
	}
	r->verify = shpt_verify(v->fd, r->asid, 0, 0, &op);
	r->stale = op.stale;
	shpt_detach(v->fd, r->asid);
out:
	shpt_target_kill(&t);
}

/*
 * (b) With one ASID, the attacker's mirror gets the victim's ASID as soon
 * as the victim's is detached, and must see none of its entries: the
 * ASID is freed only after every entry is unlinked and a grace period.
 */
TEST_F_TIMEOUT(limits, recycled_no_stale, 300)
{
	SHPT_RETURN_IF_SKIPPED();
	struct shpt_lookup_result res[VICTIM_PAGES];
	struct shpt_target *vt = &self->t[0];
	struct victim v;
	struct report r;
	unsigned long va;
	int i;

	ASSERT_EQ(0, shpt_reload("asid_max=1 allow_user=1"));
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);

	/* The victim, root's: VICTIM_PAGES pages at VICTIM_VA, populated. */
	ASSERT_EQ(0, shpt_target_start(vt));
	va = shpt_target_mmap(vt, VICTIM_VA, VICTIM_PAGES * SHPT_PAGE,
			      PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NR);
	ASSERT_EQ(VICTIM_VA, va);
	ASSERT_EQ(0, shpt_target_cmd(vt, SHPT_T_TOUCH, va,
				     VICTIM_PAGES * SHPT_PAGE, 7, 0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, vt->pid, SHPT_ATTACH_POPULATE,
				 &v.asid));
	ASSERT_EQ(0, shpt_lookup_range(self->fd, v.asid, va, VICTIM_PAGES, res,
				       SHPT_LOOKUP_NOFILL));
	for (i = 0; i < VICTIM_PAGES; i++) {
		ASSERT_EQ(SHPT_LK_HIT, res[i].status);
	}
	ASSERT_EQ(0, shpt_detach(self->fd, v.asid));

	/* The attacker, at once; the victim keeps running. */
	v.fd = self->fd;
	ASSERT_EQ(0, run_as_nobody(self, recycled_unpriv, &v, NULL, &r));
	end_child(self);
	TH_LOG("victim asid %llu, attacker asid %llu: hits %u fills %u stale %llu",
	       (unsigned long long)v.asid, (unsigned long long)r.asid, r.hits,
	       r.fills, (unsigned long long)r.stale);
	ASSERT_EQ(0, r.drop);
	ASSERT_EQ(0, r.setup);
	ASSERT_EQ(v.asid, r.asid) TH_LOG("the ASID was not recycled");
	ASSERT_EQ(0, r.lookup_nofill);
	ASSERT_EQ(0, r.lookup_fill);
	ASSERT_EQ(0U, r.hits);
	ASSERT_EQ(0U, r.fills);
	ASSERT_EQ(0, r.verify);
	ASSERT_EQ(0ULL, r.stale);
}

struct two_fds {
	int fd[2];
};

static void step(struct report *r, int ret)
{
	if (r->nsteps < (int)ARRAY_SIZE(r->steps))
		r->steps[r->nsteps++] = ret;
}

/*
 * Nobody with USER_MAX = 4 and two fds.  The expected results of the
 * steps are in user_limit_expect[].
 */
static void user_limit_unpriv(struct report *r, void *arg)
{
	struct two_fds *f = arg;
	struct shpt_target t[NTARGETS] = { 0 };
	__u64 a[NTARGETS] = { 0 }, x;
	int i, churn = 0;

	for (i = 0; i < NTARGETS; i++)
		if (start_target(&t[i])) {
			r->setup = -EIO;
			return;
		}
	/* 0-3: two mirrors on each fd; 4: one more is refused. */
	step(r, shpt_attach(f->fd[0], t[0].pid, 0, &a[0]));
	step(r, shpt_attach(f->fd[0], t[1].pid, 0, &a[1]));
	step(r, shpt_attach(f->fd[1], t[2].pid, 0, &a[2]));
	step(r, shpt_attach(f->fd[1], t[3].pid, 0, &a[3]));
	step(r, shpt_attach(f->fd[1], t[4].pid, 0, &a[4]));
	/* 5-6: a detach gives one back. */
	step(r, shpt_detach(f->fd[1], a[3]));
	step(r, shpt_attach(f->fd[1], t[4].pid, 0, &a[4]));
	/* 7-8: a dead mirror still counts (it holds an ASID)... */
	shpt_target_stop(&t[0]);
	step(r, shpt_attach(f->fd[0], t[5].pid, 0, &a[5]));
	step(r, shpt_detach(f->fd[0], a[0]));
	/* ...9: until detached. */
	step(r, shpt_attach(f->fd[0], t[5].pid, 0, &a[5]));
	/* 10-12: closing fd 0 gives back its two (t[1], t[5]). */
	close(f->fd[0]);
	step(r, shpt_attach(f->fd[1], t[1].pid, 0, &a[1]));
	step(r, shpt_attach(f->fd[1], t[3].pid, 0, &a[3]));
	step(r, shpt_attach(f->fd[1], t[5].pid, 0, &a[5]));
	/* 13: churn at the limit leaks nothing. */
	for (i = 0; i < 10 * USER_MAX; i++) {
		if (shpt_detach(f->fd[1], a[3]) ||
		    shpt_attach(f->fd[1], t[3].pid, 0, &a[3]))
			churn = -EIO;
	}
	step(r, churn);
	/* 14: still exactly at the limit. */
	step(r, shpt_attach(f->fd[1], t[5].pid, 0, &x));
	/*
	 * The targets stay alive while the child waits for the parent, and
	 * the mirrors of fd 1 with them (fd 1 is shared).
	 */
}

static const int user_limit_expect[] = {
	0, 0, 0, 0, -EMFILE,
	0, 0,
	-EMFILE, 0,
	0,
	0, 0, -EMFILE,
	0,
	-EMFILE,
};

/*
 * (c) max_user_mirrors: per real uid over all of its fds, dead mirrors
 * included, EMFILE beyond it; detach and fd close give the count back.
 * Root is counted apart and is not exempt.
 */
TEST_F_TIMEOUT(limits, user_limit, 300)
{
	SHPT_RETURN_IF_SKIPPED();
	unsigned int n = ARRAY_SIZE(user_limit_expect);
	__u64 asid[USER_MAX + 1];
	struct two_fds f;
	struct report r;
	unsigned int i;
	int ret;

	ASSERT_EQ(0, shpt_reload("max_user_mirrors=4 allow_user=1"));
	/* fd 0 is the child's alone (it closes it); fd 1 is shared. */
	f.fd[0] = -1;
	f.fd[1] = shpt_open();
	ASSERT_LE(0, f.fd[1]);
	self->fd = f.fd[1];
	ASSERT_EQ(0, run_as_nobody(self, user_limit_unpriv, &f, &f.fd[0], &r));
	for (i = 0; i < (unsigned int)r.nsteps; i++)
		TH_LOG("step %u: %d (expected %d)", i, r.steps[i],
		       i < n ? user_limit_expect[i] : 0);
	ASSERT_EQ(0, r.drop);
	ASSERT_EQ(0, r.setup);
	ASSERT_EQ((int)n, r.nsteps);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(user_limit_expect[i], r.steps[i]) TH_LOG("step %u", i);
	}

	/* Nobody holds 4; root has its own count, and its own limit. */
	for (i = 0; i <= USER_MAX; i++) {
		ASSERT_EQ(0, start_target(&self->t[i]));
	}
	for (i = 0; i < USER_MAX; i++)
		ASSERT_EQ(0, shpt_attach(self->fd, self->t[i].pid, 0, &asid[i]));
	ret = shpt_attach(self->fd, self->t[USER_MAX].pid, 0, &asid[USER_MAX]);
	ASSERT_EQ(-EMFILE, ret);
	ASSERT_EQ(2LL * USER_MAX, shpt_stat("mirrors"));

	/* The child exits, its targets die; fd 1 still holds the mirrors. */
	end_child(self);
	ASSERT_EQ(-EMFILE, shpt_attach(self->fd, self->t[USER_MAX].pid, 0,
				       &asid[USER_MAX]));
	ASSERT_EQ(0, shpt_detach(self->fd, asid[0]));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t[USER_MAX].pid, 0,
				 &asid[USER_MAX]));
}

/* Wait up to 10 s for every row of @asid[] to read @state. */
static int wait_state(const __u64 *asid, int n, const char *state)
{
	struct shpt_asid_row row;
	int i, tries, ok = 0;

	for (tries = 0; tries < 100; tries++) {
		for (ok = 0, i = 0; i < n; i++)
			ok += shpt_debugfs_asid_row(asid[i], 0, &row) == 1 &&
			      !strcmp(row.state, state);
		if (ok == n)
			return 0;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

/*
 * (d) A dead mirror gives the mm back when the process exits, not when the
 * fd closes: stats mirrors_mm drops and the asids rows read "dead" (not
 * "exiting").  Lookups give ESRCH, verify is empty, detach works.
 */
TEST_F_TIMEOUT(limits, dead_releases_mm, 300)
{
	SHPT_RETURN_IF_SKIPPED();
	struct shpt_lookup_result res;
	struct shpt_range_op op;
	struct shpt_asid_row row;
	__u64 asid[3];
	long long base;
	int i;

	ASSERT_EQ(0, shpt_reload(""));
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd);
	base = shpt_stat("mirrors_mm");
	ASSERT_LE(0LL, base) TH_LOG("no mirrors_mm in debugfs stats");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, start_target(&self->t[i]));
		ASSERT_EQ(0, shpt_attach(self->fd, self->t[i].pid,
					 SHPT_ATTACH_POPULATE, &asid[i]));
	}
	ASSERT_EQ(base + 3, shpt_stat("mirrors_mm"));
	ASSERT_EQ(0, wait_state(asid, 3, "live"));

	for (i = 0; i < 3; i++)
		shpt_target_stop(&self->t[i]);
	ASSERT_EQ(0, wait_state(asid, 3, "dead"));
	ASSERT_EQ(base, shpt_stat("mirrors_mm"));
	ASSERT_EQ(3LL, shpt_stat("mirrors"));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, shpt_debugfs_asid_row(asid[i], 0, &row));
		ASSERT_EQ(0ULL, row.entries);
		ASSERT_LT(0, row.pid);
		ASSERT_EQ(-ESRCH, shpt_lookup1(self->fd, asid[i], 0x10000, 0,
					       &res));
		ASSERT_EQ(-ESRCH, shpt_lookup1(self->fd, asid[i], 0x10000,
					       SHPT_LOOKUP_NOFILL, &res));
		ASSERT_EQ(-ESRCH, shpt_populate(self->fd, asid[i], 0, 0, &op));
		ASSERT_EQ(0, shpt_verify(self->fd, asid[i], 0, 0, &op));
		ASSERT_EQ(0ULL, op.checked);
		ASSERT_EQ(0ULL, op.stale);
	}
	ASSERT_EQ(0, shpt_detach(self->fd, asid[0]));
	ASSERT_EQ(-ENOENT, shpt_detach(self->fd, asid[0]));
	ASSERT_EQ(0, shpt_debugfs_has_asid(asid[0]));
	ASSERT_EQ(2LL, shpt_stat("mirrors"));
	/* fd close tears the other two down. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0LL, shpt_stat("mirrors"));
}

/* asid_max outside 1..2^20-1 is refused at load. */
TEST_F(limits, bad_asid_max)
{
	SHPT_RETURN_IF_SKIPPED();

	ASSERT_EQ(-EINVAL, shpt_reload("asid_max=0"));
	ASSERT_EQ(-EINVAL, shpt_reload("asid_max=1048576"));
	ASSERT_EQ(0, shpt_reload("asid_max=1"));
}

SHPT_HARNESS_MAIN
