// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_test: ATTACH as an attacker would try it (Documentation/access.rst).
 *
 * The test runs as root.  Each case forks an attacker that drops to nobody
 * (65534) with no capabilities, usually keeping an fd on /dev/shpt that
 * root opened, and often makes itself root of a user namespace of its own
 * (unshare(CLONE_NEWUSER), uid and gid 0 mapped to 65534), which gives it
 * every capability there and none anywhere else.  The attacker reports
 * each errno through a pipe; the root parent asserts.  Each case runs with
 * the module's defaults (root_only) and with allow_user=1:
 *
 *   open_as_nobody         the node is 0600: EACCES; chmod 0666 by hand,
 *                          the module still refuses: EPERM; with
 *                          allow_user=1 it opens
 *   userns_root_own_child  attach to its own child from inside its user
 *                          namespace: EPERM (root_only), allowed (same
 *                          uid, allow_user=1)
 *   userns_root_other_uid  attach to a root process that entered the
 *                          attacker's user namespace with setns(), as a
 *                          root tool inspecting a rootless container does,
 *                          and to a plain root process: EPERM
 *   exec_only_binary       attach to its child running a root-owned 0111
 *                          binary, which the kernel makes non-dumpable
 *                          with mm->user_ns = the initial namespace: EPERM
 *   setuid_exec_race       (allow_user=1) attach in a tight loop while its
 *                          child execs a setuid-root binary; a mirror that
 *                          is still live once the exec is done mirrors the
 *                          root image and fails the test
 *
 * Needs root, $SHPT_KO (each case reloads the module with its variant's
 * parameters; the defaults are restored afterwards), the nobody user,
 * user namespaces, a /tmp that honours setuid, and hostile_helper
 * installed next to this program.
 */
#include "shpt_harness.h"

#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <sys/stat.h>

#include "shpt_test_util.h"

#define HELPER		"hostile_helper"
#define USERNS_SYSCTL	"/proc/sys/kernel/unprivileged_userns_clone"
/* How long the setuid race runs, in seconds, times shpt_timeout_scale(). */
#define RACE_SECONDS	10
/* The pre-exec image: its exit_mmap() runs inside exec's critical window. */
#define RACE_MEM	(64UL << 20)
#define RACE_MAX_WON	8
/* An address to look up in the exec'd image: the static helper's base. */
#define RACE_VA		0x400000UL

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

/* ---- messages: longs through pipes ------------------------------------ */

static int put_long(int fd, long v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -EIO;
}

static long get_long(int fd)
{
	long v;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : -EPIPE;
}

/* ---- becoming the attacker -------------------------------------------- */

/*
 * Drop to nobody; with @userns, then become root of a new user namespace
 * (uid and gid 0 inside are 65534 outside).  0 or -errno.
 */
static int become_nobody(bool userns)
{
	char map[32];
	int ret;

	ret = shpt_drop_to_nobody();
	if (ret || !userns)
		return ret;
	if (unshare(CLONE_NEWUSER))
		return -errno;
	snprintf(map, sizeof(map), "0 %d 1", SHPT_NOBODY);
	ret = shpt_write_file("/proc/self/uid_map", map);
	if (!ret)
		ret = shpt_write_file("/proc/self/setgroups", "deny");
	if (!ret)
		ret = shpt_write_file("/proc/self/gid_map", map);
	if (!ret && (getuid() != 0 || geteuid() != 0))
		ret = -EPROTO;
	return ret;
}

/*
 * An attacker: a forked child that runs @fn(fd, in, out, arg) with @fd, an
 * fd on /dev/shpt that root opened, and two pipes to and from root.
 */
struct attacker {
	pid_t pid;
	int to;		/* root -> attacker */
	int from;	/* attacker -> root */
};

typedef void (*attacker_fn)(int fd, int in, int out, const char *arg);

static int attacker_start(struct attacker *a, attacker_fn fn, int fd,
			  const char *arg)
{
	int to[2], from[2];

	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return -errno;
	a->pid = fork();
	if (a->pid < 0)
		return -errno;
	if (!a->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(to[1]);
		close(from[0]);
		fn(fd, to[0], from[1], arg);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	a->to = to[1];
	a->from = from[0];
	return 0;
}

/* Kill and reap: its fd on /dev/shpt must be gone before a reload. */
static void attacker_stop(struct attacker *a)
{
	if (a->pid <= 0)
		return;
	close(a->to);
	close(a->from);
	kill(a->pid, SIGKILL);
	waitpid(a->pid, NULL, 0);
	a->pid = 0;
}

/* ---- the helper binary ------------------------------------------------ */

/* hostile_helper, next to this program. */
static int helper_path(char *buf, size_t len)
{
	char exe[PATH_MAX - sizeof(HELPER) - 1], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	snprintf(buf, len, "%s/%s", exe, HELPER);
	return access(buf, X_OK) ? -errno : 0;
}

/* Copy @src to a root-owned /tmp file @dst with @mode (0111, 04755). */
static int copy_helper(const char *src, char *dst, size_t len,
		       const char *tag, mode_t mode)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	snprintf(dst, len, "/tmp/shpt_hostile_%d_%s", (int)getpid(), tag);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	unlink(dst);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			ret = -EIO;
			break;
		}
	if (n < 0)
		ret = -errno;
	if (!ret && (fchown(out, 0, 0) || fchmod(out, mode)))
		ret = -errno;
	close(in);
	if (close(out) && !ret)
		ret = -errno;
	return ret;
}

/*
 * A child that execs the helper.  Its stdout is @rep (the helper's real
 * and effective uid arrive there once the exec is done) and its stdin is
 * @hold (it exits at EOF).  With @mem, it first maps and populates that
 * much memory, says so on @ready and waits for a byte on @go.
 */
struct helper {
	pid_t pid;
	int rep, hold, ready, go;
	int ids[2];
};

static void helper_child(const char *path, size_t mem, int rep, int hold,
			 int ready, int go)
{
	char c = 'r';
	void *p;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(rep, 1) < 0 || dup2(hold, 0) < 0)
		_exit(126);
	shpt_close_fds_except(ready, go);
	if (mem) {
		p = mmap(NULL, mem, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(125);
		madvise(p, mem, MADV_NOHUGEPAGE);
		if (madvise(p, mem, MADV_POPULATE_WRITE))
			memset(p, 1, mem);
		if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
			_exit(124);
	}
	execl(path, path, (char *)NULL);
	_exit(127);
}

static int helper_spawn(struct helper *h, const char *path, size_t mem)
{
	int rep[2], hold[2], ready[2], go[2];

	memset(h, 0, sizeof(*h));
	if (pipe2(rep, O_CLOEXEC) || pipe2(hold, O_CLOEXEC) ||
	    pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -errno;
	h->pid = fork();
	if (h->pid < 0)
		return -errno;
	if (!h->pid)
		helper_child(path, mem, rep[1], hold[0], ready[1], go[0]);
	close(rep[1]);
	close(hold[0]);
	close(ready[1]);
	close(go[0]);
	h->rep = rep[0];
	h->hold = hold[1];
	h->ready = ready[0];
	h->go = go[1];
	return 0;
}

/* Wait for the exec to be done; 0 once the ids have arrived. */
static int helper_wait_exec(struct helper *h)
{
	return read(h->rep, h->ids, sizeof(h->ids)) == sizeof(h->ids) ?
	       0 : -EPIPE;
}

/* Without waiting: 0 if the exec is done, -EAGAIN if not yet. */
static int helper_exec_done(struct helper *h)
{
	ssize_t n = read(h->rep, h->ids, sizeof(h->ids));

	if (n == sizeof(h->ids))
		return 0;
	return n < 0 && errno == EAGAIN ? -EAGAIN : -EPIPE;
}

static void helper_stop(struct helper *h)
{
	if (h->pid <= 0)
		return;
	close(h->hold);
	close(h->go);
	close(h->ready);
	close(h->rep);
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
	h->pid = 0;
}

/* ---- the attackers ---------------------------------------------------- */

/* Open /dev/shpt as nobody (@arg "userns": as root of its own userns). */
static void atk_open(int fd, int in, int out, const char *arg)
{
	long r = become_nobody(arg != NULL);
	int f;

	put_long(out, r);
	if (r)
		return;
	f = open(SHPT_DEV, O_RDWR | O_CLOEXEC);
	put_long(out, f < 0 ? -errno : 0);
}

/* Attach to its own child from inside its own user namespace. */
static void atk_own_child(int fd, int in, int out, const char *arg)
{
	struct shpt_target t = { 0 };
	long r = become_nobody(true);
	__u64 asid;

	put_long(out, r);
	if (r)
		return;
	r = shpt_target_start(&t);
	if (!r) {
		r = shpt_attach(fd, t.pid, SHPT_ATTACH_POPULATE, &asid);
		if (!r)
			shpt_detach(fd, asid);
	}
	put_long(out, r);
	shpt_target_kill(&t);
}

/* As root of its own userns, attach to each pid root sends (0 ends). */
static void atk_pids(int fd, int in, int out, const char *arg)
{
	long r = become_nobody(true), pid;
	__u64 asid;

	put_long(out, r);
	if (r)
		return;
	while ((pid = get_long(in)) > 0) {
		r = shpt_attach(fd, pid, 0, &asid);
		if (!r)
			shpt_detach(fd, asid);
		put_long(out, r);
	}
}

/* As root of its own userns, exec @arg (0111, root's) and attach to it. */
static void atk_exec_only(int fd, int in, int out, const char *arg)
{
	long r = become_nobody(true);
	struct helper h;
	__u64 asid;

	put_long(out, r);
	if (r)
		return;
	r = helper_spawn(&h, arg, 0);
	if (!r)
		r = helper_wait_exec(&h);
	put_long(out, r);
	if (r)
		return;
	r = shpt_attach(fd, h.pid, 0, &asid);
	if (!r)
		shpt_detach(fd, asid);
	put_long(out, r);
	helper_stop(&h);
}

/* What the setuid race saw. */
struct race_report {
	long drop;		/* become_nobody() */
	long rounds;		/* execs raced */
	long attempts;		/* attaches tried while an exec ran */
	long eperm, eexist;	/* their refusals */
	long other;		/* other errors; the last in @other_err */
	long other_err;
	long first_fail;	/* rounds whose pre-exec attach failed */
	long not_setuid;	/* rounds whose helper did not run as euid 0 */
	long won;		/* attaches after the pre-exec one that worked */
	long live;		/* ... whose mirror was live after the exec */
	long live_status;	/* LOOKUP status in such a live mirror */
	long old_alive;		/* pre-exec mirrors still live after the exec */
};

/* 0 if @asid's mirror is live (its process runs), else -errno. */
static int mirror_live(int fd, __u64 asid, struct shpt_lookup_result *res)
{
	return shpt_lookup1(fd, asid, RACE_VA, 0, res);
}

static void race_count(struct race_report *r, int ret)
{
	if (ret == -EPERM) {
		r->eperm++;
	} else if (ret == -EEXIST) {
		r->eexist++;
	} else if (ret) {
		r->other++;
		r->other_err = ret;
	}
}

/*
 * One exec: attach to the child before it execs (its own process: fine),
 * then attach in a tight loop until the exec is done.  The pre-exec mirror
 * makes attaches to the old mm fail with EEXIST, so any other success is
 * an attach to the new, root-owned image; LOOKUP tells which mm a mirror
 * has: the old one is dead (ESRCH), the new one is live.
 */
static void race_round(int fd, const char *path, struct race_report *r)
{
	struct shpt_lookup_result res;
	__u64 first, asid, won[RACE_MAX_WON];
	int nwon = 0, ret, i;
	struct helper h;
	char c = 'g';

	r->rounds++;
	ret = helper_spawn(&h, path, RACE_MEM);
	if (!ret && read(h.ready, &c, 1) != 1)
		ret = -EPIPE;
	if (!ret)
		ret = shpt_attach(fd, h.pid, 0, &first);
	if (ret) {
		r->first_fail++;
		r->other_err = ret;
		goto out;
	}
	fcntl(h.rep, F_SETFL, O_NONBLOCK);
	if (write(h.go, &c, 1) != 1)
		goto out_detach;
	while ((ret = helper_exec_done(&h)) == -EAGAIN) {
		r->attempts++;
		ret = shpt_attach(fd, h.pid, 0, &asid);
		race_count(r, ret);
		if (!ret && nwon < RACE_MAX_WON) {
			r->won++;
			won[nwon++] = asid;
		}
	}
	if (ret) {
		r->other++;
		r->other_err = ret;
		goto out_detach;
	}
	if (h.ids[1] != 0)
		r->not_setuid++;
	if (!mirror_live(fd, first, &res))
		r->old_alive++;
	for (i = 0; i < nwon; i++)
		if (!mirror_live(fd, won[i], &res)) {
			r->live++;
			r->live_status = res.status;
		}
out_detach:
	for (i = 0; i < nwon; i++)
		shpt_detach(fd, won[i]);
	shpt_detach(fd, first);
out:
	helper_stop(&h);
}

/* As nobody (no userns: setuid works), race attach against @arg's exec. */
static void atk_race(int fd, int in, int out, const char *arg)
{
	double end = shpt_now() + RACE_SECONDS * shpt_timeout_scale();
	struct race_report r = { 0 };

	r.drop = become_nobody(false);
	while (!r.drop && !r.live && !r.first_fail && !r.not_setuid &&
	       shpt_now() < end)
		race_round(fd, arg, &r);
	if (write(out, &r, sizeof(r)) != sizeof(r))
		_exit(1);
}

/* ---- the fixture ------------------------------------------------------ */

FIXTURE(hostile)
{
	int fd;
	char helper[PATH_MAX];
	char copy[64];		/* a /tmp copy of the helper, if made */
	struct attacker atk;
	struct shpt_target root_t;
	pid_t ns_target;	/* a root process in the attacker's userns */
	int userns_sysctl;	/* its value to restore, or -1 */
};

FIXTURE_VARIANT(hostile)
{
	const char *params;
	int allow_user;
};

FIXTURE_VARIANT_ADD(hostile, root_only)
{
	.params = "",
	.allow_user = 0,
};

FIXTURE_VARIANT_ADD(hostile, allow_user)
{
	.params = "allow_user=1",
	.allow_user = 1,
};

FIXTURE_SETUP(hostile)
{
	char v[8];

	self->fd = -1;
	self->userns_sysctl = -1;
	if (geteuid() != 0)
		SKIP(return, "needs root");
	if (!getenv("SHPT_KO"))
		SKIP(return, "SHPT_KO (the path of shpt.ko) is not set");
	ASSERT_EQ(0, helper_path(self->helper, sizeof(self->helper)))
		TH_LOG("%s: %s", self->helper, strerror(errno));
	if (shpt_allow_user() != variant->allow_user)
		ASSERT_EQ(0, shpt_reload(variant->params))
			TH_LOG("insmod %s: %s", variant->params, strerror(errno));
	ASSERT_EQ(variant->allow_user, shpt_allow_user());
	/* Debian's switch for unprivileged user namespaces (default on). */
	if (!shpt_read_file(USERNS_SYSCTL, v, sizeof(v)) && v[0] == '0' &&
	    !shpt_write_file(USERNS_SYSCTL, "1"))
		self->userns_sysctl = 0;
	self->fd = shpt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SHPT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(hostile)
{
	int ret;

	attacker_stop(&self->atk);
	shpt_target_kill(&self->root_t);
	if (self->ns_target > 0) {
		kill(self->ns_target, SIGKILL);
		waitpid(self->ns_target, NULL, 0);
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->copy[0])
		unlink(self->copy);
	if (self->userns_sysctl == 0)
		shpt_write_file(USERNS_SYSCTL, "0");
	/* Back to the defaults for whatever runs next. */
	if (shpt_allow_user() == 1) {
		ret = shpt_reload("");
		if (ret)
			TH_LOG("cannot reload shpt with defaults: %s",
			       strerror(-ret));
	}
}

/* Start an attacker and read its privilege drop's result. */
static int attack(FIXTURE_DATA(hostile) *self, attacker_fn fn,
		  const char *arg)
{
	int ret = attacker_start(&self->atk, fn, self->fd, arg);

	return ret ? ret : (int)get_long(self->atk.from);
}

/* Fork a root process that setns()es into @pid's user namespace. */
static int setns_target_start(pid_t *out, pid_t pid)
{
	char path[64];
	int nsfd, p[2];
	long r;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC)) {
		close(nsfd);
		return -errno;
	}
	*out = fork();
	if (*out < 0)
		return -errno;
	if (!*out) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		r = setns(nsfd, CLONE_NEWUSER) ? -errno : 0;
		shpt_close_fds_except(p[1], -1);
		put_long(p[1], r);
		close(p[1]);
		for (;;)
			pause();
	}
	close(nsfd);
	close(p[1]);
	r = get_long(p[0]);
	close(p[0]);
	return r;
}

TEST_F(hostile, open_as_nobody)
{
	SHPT_RETURN_IF_SKIPPED();
	int want = variant->allow_user ? 0 : -EACCES;
	struct stat st;
	long plain, userns, chmodded;

	ASSERT_EQ(0, stat(SHPT_DEV, &st));
	ASSERT_EQ(0, attack(self, atk_open, NULL));
	plain = get_long(self->atk.from);
	attacker_stop(&self->atk);
	ASSERT_EQ(0, attack(self, atk_open, "userns"));
	userns = get_long(self->atk.from);
	attacker_stop(&self->atk);
	/* An admin's chmod alone does not open the device up. */
	ASSERT_EQ(0, chmod(SHPT_DEV, 0666));
	ASSERT_EQ(0, attack(self, atk_open, NULL));
	chmodded = get_long(self->atk.from);
	attacker_stop(&self->atk);
	ASSERT_EQ(0, chmod(SHPT_DEV, st.st_mode & 07777));

	TH_LOG("%s mode %o; open as nobody %ld, as userns root %ld, after chmod 0666 %ld",
	       SHPT_DEV, st.st_mode & 07777, plain, userns, chmodded);
	ASSERT_EQ(want, plain);
	ASSERT_EQ(want, userns);
	ASSERT_EQ(variant->allow_user ? 0 : -EPERM, chmodded);
	ASSERT_EQ(variant->allow_user ? 0666U : 0600U, st.st_mode & 07777);
}

TEST_F(hostile, userns_root_own_child)
{
	SHPT_RETURN_IF_SKIPPED();
	long r;

	ASSERT_EQ(0, attack(self, atk_own_child, NULL));
	r = get_long(self->atk.from);
	TH_LOG("userns root attaching to its own child: %ld", r);
	/* Root of a user namespace is still nobody to shpt. */
	ASSERT_EQ(variant->allow_user ? 0 : -EPERM, r);
}

TEST_F(hostile, userns_root_other_uid)
{
	SHPT_RETURN_IF_SKIPPED();
	long in_ns, plain;

	ASSERT_EQ(0, attack(self, atk_pids, NULL));
	ASSERT_EQ(0, setns_target_start(&self->ns_target, self->atk.pid));
	ASSERT_EQ(0, shpt_target_start(&self->root_t));
	ASSERT_EQ(0, put_long(self->atk.to, self->ns_target));
	in_ns = get_long(self->atk.from);
	ASSERT_EQ(0, put_long(self->atk.to, self->root_t.pid));
	plain = get_long(self->atk.from);
	put_long(self->atk.to, 0);
	TH_LOG("userns root attaching to root in its userns %ld, to root %ld",
	       in_ns, plain);
	ASSERT_EQ(-EPERM, in_ns);
	ASSERT_EQ(-EPERM, plain);
}

TEST_F(hostile, exec_only_binary)
{
	SHPT_RETURN_IF_SKIPPED();
	long spawn, r;

	ASSERT_EQ(0, copy_helper(self->helper, self->copy, sizeof(self->copy),
				 "xonly", 0111));
	ASSERT_EQ(0, attack(self, atk_exec_only, self->copy));
	spawn = get_long(self->atk.from);
	ASSERT_EQ(0, spawn) TH_LOG("exec %s: %s", self->copy,
				   strerror(-spawn));
	r = get_long(self->atk.from);
	TH_LOG("userns root attaching to its execute-only child: %ld", r);
	ASSERT_EQ(-EPERM, r);
}

TEST_F_TIMEOUT(hostile, setuid_exec_race, 60)
{
	SHPT_RETURN_IF_SKIPPED();
	struct race_report r;

	if (!variant->allow_user)
		SKIP(return, "nobody cannot attach at all without allow_user");
	ASSERT_EQ(0, copy_helper(self->helper, self->copy, sizeof(self->copy),
				 "suid", 04755));
	ASSERT_EQ(0, attacker_start(&self->atk, atk_race, self->fd,
				    self->copy));
	ASSERT_EQ((ssize_t)sizeof(r), read(self->atk.from, &r, sizeof(r)));
	TH_LOG("drop %ld rounds %ld attempts %ld eperm %ld eexist %ld other %ld (last %ld) first_fail %ld not_setuid %ld won %ld live %ld (status %ld) old_alive %ld",
	       r.drop, r.rounds, r.attempts, r.eperm, r.eexist, r.other,
	       r.other_err, r.first_fail, r.not_setuid, r.won, r.live,
	       r.live_status, r.old_alive);
	ASSERT_EQ(0, r.drop);
	ASSERT_EQ(0, r.first_fail);
	ASSERT_EQ(0, r.not_setuid) TH_LOG("%s did not run setuid root", self->copy);
	ASSERT_LT(0, r.rounds);
	/* No mirror of the root image, and no attach to it at all. */
	ASSERT_EQ(0, r.live);
	ASSERT_EQ(0, r.won);
	ASSERT_EQ(0, r.old_alive);
}

SHPT_HARNESS_MAIN
