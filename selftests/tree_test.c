// SPDX-License-Identifier: GPL-2.0
/*
 * tree_test: "shptctl run -f" follows a tree of processes.  Each case runs
 * the installed tool (SHPTCTL overrides /usr/bin/shptctl) on this very
 * binary, re-executed through /proc/self/exe with a --tree-* argument
 * that makes it a workload instead of a test, and reads the --json
 * report:
 *
 *   generations   fork, exec, vfork and a thread over three generations:
 *                 every process has a record with an ASID, an exec gets a
 *                 new ASID, a vfork child shares its parent's, every
 *                 member verifies OK with 0 stale at its exit (an image
 *                 that execs: at its execve() entry)
 *   pid reuse     a pid that exits and comes back (ns_last_pid, or
 *                 clone3's set_tid where there is none) inside the tree
 *                 gets a second record, with its own ASID
 *   skipped       members over max_user_mirrors are reported with EMFILE
 *                 and run unmirrored; the run goes on and exits 0
 *   signals       a handled signal, SIGSTOP seen by the real parent and
 *                 continued, a death by signal: all as without the tool
 *   SIGTERM       sent to the tool alone, it reaches CMD (with -f, the
 *                 whole tree), and the report still comes
 *   stress-ng     "stress-ng --vm 2 --fork 2 -t 3" when installed (SKIP
 *                 otherwise): the workers are mirrored and verify OK
 *
 * The workloads never write to stdout: it is the tool's report.  Needs
 * root, a loaded shpt and debugfs.
 */
#include "shpt_harness.h"

#include <pthread.h>
#include <sys/mman.h>
#include <linux/sched.h>	/* struct clone_args */

#include "shpt_test_util.h"
#include "shpt_json.h"

#define RUN_TIMEOUT	60	/* seconds per tool run, scaled */
#define OUT_MAX		(4 << 20)
#define TOUCH_PAGES	16
#define GENERATIONS	2	/* the root is generation 2; 0 forks nothing */
#define HOLD_CHILDREN	3
#define USER_MAX	2	/* max_user_mirrors for the skipped case */
#define MAX_USER_PARAM	SHPT_PARAM_DIR "/max_user_mirrors"
#define STRESS_NG	"/usr/bin/stress-ng"

/* ---- the workloads (this binary with --tree-*) ------------------------- */

static void touch_memory(void)
{
	size_t len = TOUCH_PAGES * SHPT_PAGE;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m != MAP_FAILED)
		memset(m, 0x5a, len);
}

static void *thread_fn(void *arg)
{
	touch_memory();
	return arg;
}

static int reap(pid_t pid, int want)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) == want ? 0 : -1;
}

/*
 * Generation @gen: fork a child that re-executes this binary as
 * generation @gen - 1, fork one that exits 7, vfork one that exits 0, and
 * run a thread.  Generation 0 only touches memory.
 */
static int wl_gen(int gen)
{
	pid_t exec_child, plain, vf;
	char arg[16];
	pthread_t th;

	touch_memory();
	if (gen <= 0)
		return 0;
	snprintf(arg, sizeof(arg), "%d", gen - 1);
	exec_child = fork();
	if (exec_child == 0) {
		execl("/proc/self/exe", "tree_test", "--tree-gen", arg, NULL);
		_exit(99);
	}
	plain = fork();
	if (plain == 0) {
		touch_memory();
		_exit(7);
	}
	vf = vfork();
	if (vf == 0)
		_exit(0);
	if (pthread_create(&th, NULL, thread_fn, NULL) || pthread_join(th, NULL))
		return 10;
	if (exec_child < 0 || plain < 0 || vf < 0)
		return 11;
	if (reap(exec_child, 0) || reap(plain, 7) || reap(vf, 0))
		return 12;
	return 0;
}

static pid_t fork_touch_exit(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		touch_memory();
		_exit(0);
	}
	return pid;
}

/*
 * A child with pid @want, by clone3()'s set_tid (CAP_CHECKPOINT_RESTORE,
 * any config), for kernels without ns_last_pid.  Reported as a fork.
 */
static pid_t fork_touch_exit_at(pid_t want)
{
	struct clone_args a = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&want,
		.set_tid_size = 1,
	};
	pid_t pid = syscall(SYS_clone3, &a, sizeof(a));

	if (pid == 0) {
		touch_memory();
		_exit(0);
	}
	return pid;
}

/* Make the next fork get pid @want; false without ns_last_pid. */
static bool set_last_pid(pid_t want)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	char buf[16];
	int len;
	bool ok;

	if (fd < 0)
		return false;
	len = snprintf(buf, sizeof(buf), "%d", want - 1);
	ok = write(fd, buf, len) == len;
	close(fd);
	return ok;
}

/* Two children with the same pid, one after the other: 0, or 3 if not. */
static int wl_reuse(void)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		pid_t first = fork_touch_exit(), second;

		if (first < 0 || reap(first, 0))
			return 10;
		if (set_last_pid(first))
			second = fork_touch_exit();
		else
			second = fork_touch_exit_at(first);
		if (second < 0 || reap(second, 0))
			return 13;
		if (second == first)
			return 0;
	}
	return 3;
}

/* HOLD_CHILDREN children alive at once, released together. */
static int wl_hold(void)
{
	pid_t kids[HOLD_CHILDREN];
	int p[2], ret = 0;
	char c;

	if (pipe(p))
		return 10;
	for (int i = 0; i < HOLD_CHILDREN; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			close(p[1]);
			touch_memory();
			_exit(read(p[0], &c, 1) == 0 ? 0 : 1);
		}
	}
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < HOLD_CHILDREN; i++)
		if (kids[i] < 0 || reap(kids[i], 0))
			ret = 11;
	return ret;
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	got_usr1 = sig;
}

/*
 * Signals behave as without a tracer: a handled SIGUSR1 runs its
 * handler, a child's SIGSTOP is seen by its parent and undone by
 * SIGCONT, a SIGTERM kills.  0, or the step that went wrong.
 */
static int wl_signals(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	pid_t stopper, victim;
	int st;

	if (sigaction(SIGUSR1, &sa, NULL) || raise(SIGUSR1) || got_usr1 != SIGUSR1)
		return 20;
	stopper = fork();
	if (stopper == 0) {
		raise(SIGSTOP);
		_exit(5);
	}
	if (stopper < 0 || waitpid(stopper, &st, WUNTRACED) != stopper ||
	    !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
		return 21;
	if (kill(stopper, SIGCONT) || reap(stopper, 5))
		return 22;
	victim = fork();
	if (victim == 0) {
		raise(SIGTERM);
		_exit(0);
	}
	if (victim < 0 || waitpid(victim, &st, 0) != victim ||
	    !WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
		return 23;
	return 0;
}

/*
 * With @child, fork a child that waits too; wait for a signal.  The child
 * has no PR_SET_PDEATHSIG: it must die of the signal it is sent, not of
 * its parent's death; if none comes, both end after RUN_TIMEOUT.
 */
static int wl_wait(bool child)
{
	if (child)
		fork();
	for (int i = 0; i < RUN_TIMEOUT * shpt_timeout_scale(); i++)
		sleep(1);
	return 24;	/* no signal came */
}

static int tree_workload(int argc, char **argv)
{
	if (!strcmp(argv[1], "--tree-gen") && argc > 2)
		return wl_gen(atoi(argv[2]));
	if (!strcmp(argv[1], "--tree-reuse"))
		return wl_reuse();
	if (!strcmp(argv[1], "--tree-hold"))
		return wl_hold();
	if (!strcmp(argv[1], "--tree-signals"))
		return wl_signals();
	if (!strcmp(argv[1], "--tree-wait") && argc > 2)
		return wl_wait(atoi(argv[2]));
	return 2;
}

/* ---- running the tool -------------------------------------------------- */

struct tool_out {
	int status;		/* exit code, 128 + signal, -1: killed at deadline */
	char *out;
	size_t len;
	int sig;		/* in: send it to the tool once, after... */
	double sig_after;	/* ...this many seconds */
};

static const char *tool(void)
{
	const char *t = getenv("SHPTCTL");

	return t && *t ? t : "/usr/bin/shptctl";
}

/* Run the tool with @argv (argv[0] is ignored); stdout in @r->out. */
static int run_tool(struct tool_out *r, char *const argv[])
{
	double t0 = shpt_now(), deadline = t0 + RUN_TIMEOUT * shpt_timeout_scale();
	int fd = memfd_create("tree_test-out", MFD_CLOEXEC), st, sig = r->sig;
	double sig_at = t0 + r->sig_after;
	ssize_t n;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (fd < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(fd, 1) < 0)
			_exit(125);
		execv(tool(), argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (sig && shpt_now() > sig_at) {
			kill(pid, sig);		/* SI_USER: to the tool alone */
			sig = 0;
		}
		if (shpt_now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			r->status = -1;
			break;
		}
		usleep(20000);
	}
	if (r->status == 0)
		r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = calloc(1, OUT_MAX + 1);
	if (!r->out) {
		close(fd);
		return -ENOMEM;
	}
	n = pread(fd, r->out, OUT_MAX, 0);
	close(fd);
	r->len = n > 0 ? (size_t)n : 0;
	return 0;
}

static void tool_log(const struct tool_out *r)
{
	const char *p = r->out;

	fprintf(stderr, "# tool exit status %d\n", r->status);
	for (int n = 0; p && *p && n < 80; n++) {
		const char *nl = strchrnul(p, '\n');

		fprintf(stderr, "# out| %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/* Run "shptctl run -f --json -- SELF ARGS..." and parse the report. */
#define RUN_TREE(r, v, ...) do {					\
	char __self[512], __why[192] = "";				\
	ssize_t __n = readlink("/proc/self/exe", __self,		\
			       sizeof(__self) - 1);			\
	ASSERT_LT(0, __n);						\
	__self[__n] = '\0';						\
	ASSERT_EQ(0, run_tool(r, (char *const []){ "shptctl", "run",	\
			"-f", "--json", "--", __self, __VA_ARGS__, NULL }));	\
	(v) = json_parse((r)->out, (r)->len, __why, sizeof(__why));	\
	ASSERT_NE(NULL, (v)) {						\
		TH_LOG("not JSON: %s", __why);				\
		tool_log(r);						\
	}								\
} while (0)

static const struct jv *procs_of(const struct jv *v)
{
	const struct jv *p = jget(v, "processes");

	return p && p->t == J_ARR ? p : NULL;
}

/* verify.ok is true and verify.stale is 0 (and it was taken at @at). */
static bool verified_ok(const struct jv *p, const char *at)
{
	const struct jv *ver = jget(p, "verify"), *ok = jget(ver, "ok");

	if (!ver || ver->t != J_OBJ || !ok || ok->t != J_BOOL || !ok->b ||
	    jint(ver, "stale") != 0)
		return false;
	return !at || (jstr(ver, "at") && !strcmp(jstr(ver, "at"), at));
}

static bool str_is(const struct jv *o, const char *key, const char *want)
{
	const char *s = jstr(o, key);

	return s && !strcmp(s, want);
}

/*
 * Can this kernel stop the tree at execve() (CONFIG_SECCOMP_FILTER)?  A
 * NULL program is EFAULT where filters exist, EINVAL where they do not.
 */
static bool seccomp_filters(void)
{
	return prctl(PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, NULL) &&
	       errno == EFAULT;
}

static bool shpt_ready(void)
{
	return !access(SHPT_DEV, F_OK) && !access(SHPT_DEBUGFS "/stats", R_OK) &&
	       !access(tool(), X_OK);
}

/* ---- the cases --------------------------------------------------------- */

FIXTURE(tree)
{
	struct tool_out r;
	struct jv *v;
	char saved_max[32];	/* max_user_mirrors to restore, or "" */
};

FIXTURE_SETUP(tree)
{
	memset(self, 0, sizeof(*self));
	if (!shpt_ready())
		SKIP(return, "shpt not loaded, debugfs not mounted or no %s",
		     tool());
}

FIXTURE_TEARDOWN(tree)
{
	if (self->saved_max[0]) {
		int fd = open(MAX_USER_PARAM, O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, self->saved_max, strlen(self->saved_max)) < 0)
				perror("restore max_user_mirrors");
			close(fd);
		}
	}
	jv_free(self->v);
	free(self->r.out);
}

/*
 * Generation 2 makes: itself (spawn), a fork that execs (two records:
 * fork, exec), a fork that exits 7, a vfork; generation 1, the exec'd
 * one, the same less nothing; generation 0 nothing.  9 records, 2 threads.
 */
#define GEN_RECORDS	9
#define GEN_THREADS	2

TEST_F_TIMEOUT(tree, generations_are_all_mirrored, 120)
{
	SHPT_RETURN_IF_SKIPPED();
	const struct jv *procs, *tot;
	int execs = 0, vforks = 0, sevens = 0;

	RUN_TREE(&self->r, self->v, "--tree-gen", "2");
	ASSERT_EQ(0, self->r.status) tool_log(&self->r);
	procs = procs_of(self->v);
	ASSERT_NE(NULL, procs);
	ASSERT_EQ(GEN_RECORDS, procs->n) tool_log(&self->r);
	tot = jget(self->v, "totals");
	ASSERT_EQ(GEN_RECORDS, jint(tot, "processes"));
	ASSERT_EQ(GEN_THREADS, jint(tot, "threads")) tool_log(&self->r);
	ASSERT_EQ(0, jint(tot, "skipped"));
	ASSERT_EQ(0, jint(tot, "stale"));
	for (int i = 0; i < procs->n; i++) {
		const struct jv *p = procs->kids[i];
		long long asid = jint(p, "asid");

		ASSERT_LT(0, jint(p, "pid"));
		/* every member mirrored, from its first instruction */
		ASSERT_LT(0, asid) tool_log(&self->r);
		ASSERT_EQ(0, jint(p, "errno"));
		if (str_is(p, "end", "exec")) {
			/* verified at its execve() entry, before the mm went */
			if (seccomp_filters()) {
				ASSERT_TRUE(verified_ok(p, "exec")) tool_log(&self->r);
			} else if (jget(p, "verify")->t != J_NULL) {
				ASSERT_TRUE(verified_ok(p, NULL));
			}
			continue;
		}
		ASSERT_TRUE(verified_ok(p, "exit")) tool_log(&self->r);
		ASSERT_LE(0, jint(p, "exit_status"));
		if (str_is(p, "how", "exec")) {
			long long prev = jint(p, "prev_asid");
			bool found = false;

			execs++;
			ASSERT_LT(0, prev);
			ASSERT_NE(prev, asid);
			/* the image it replaced: same pid, ended by exec */
			for (int j = 0; j < i; j++)
				found |= jint(procs->kids[j], "asid") == prev &&
					 jint(procs->kids[j], "pid") == jint(p, "pid") &&
					 str_is(procs->kids[j], "end", "exec");
			ASSERT_TRUE(found) tool_log(&self->r);
		}
		if (str_is(p, "how", "vfork")) {
			bool parent_asid = false;

			vforks++;
			/* shares its parent's mm, hence its ASID */
			ASSERT_EQ(jint(p, "ppid"), jint(p, "shares_with"));
			for (int j = 0; j < procs->n; j++)
				parent_asid |= jint(procs->kids[j], "pid") ==
					       jint(p, "ppid") &&
					       jint(procs->kids[j], "asid") == asid;
			ASSERT_TRUE(parent_asid);
		}
		if (str_is(p, "how", "fork") && jint(p, "exit_status") == 7)
			sevens++;
	}
	ASSERT_EQ(GENERATIONS, execs);
	ASSERT_EQ(GENERATIONS, vforks);
	ASSERT_EQ(GENERATIONS, sevens);
}

TEST_F_TIMEOUT(tree, reused_pid_gets_a_new_record, 120)
{
	SHPT_RETURN_IF_SKIPPED();
	const struct jv *procs;
	bool reused = false;

	RUN_TREE(&self->r, self->v, "--tree-reuse");
	if (self->r.status == 3)
		SKIP(return, "the pid was not reused in 20 attempts");
	ASSERT_EQ(0, self->r.status) tool_log(&self->r);
	procs = procs_of(self->v);
	ASSERT_NE(NULL, procs);
	for (int i = 0; i < procs->n; i++) {
		const struct jv *a = procs->kids[i];

		ASSERT_LT(0, jint(a, "asid"));
		ASSERT_TRUE(verified_ok(a, "exit")) tool_log(&self->r);
		for (int j = i + 1; j < procs->n; j++) {
			const struct jv *b = procs->kids[j];

			if (jint(a, "pid") != jint(b, "pid"))
				continue;
			/* two lives of one pid: two records, two ASIDs */
			ASSERT_TRUE(str_is(a, "how", "fork") &&
				    str_is(b, "how", "fork")) tool_log(&self->r);
			ASSERT_NE(jint(a, "asid"), jint(b, "asid"));
			ASSERT_TRUE(str_is(a, "end", "exit"));
			ASSERT_TRUE(str_is(b, "end", "exit"));
			reused = true;
		}
	}
	ASSERT_TRUE(reused) tool_log(&self->r);
}

TEST_F_TIMEOUT(tree, unmirrorable_member_is_skipped, 120)
{
	SHPT_RETURN_IF_SKIPPED();
	int skipped = 0, mirrored = 0, fd;
	const struct jv *procs;
	char v[8];

	ASSERT_EQ(0, shpt_read_file(MAX_USER_PARAM, self->saved_max,
				    sizeof(self->saved_max)));
	fd = open(MAX_USER_PARAM, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	snprintf(v, sizeof(v), "%d", USER_MAX);
	ASSERT_EQ((ssize_t)strlen(v), write(fd, v, strlen(v)));
	close(fd);

	RUN_TREE(&self->r, self->v, "--tree-hold");
	/* skipping is not a failure: the run exits with CMD's status */
	ASSERT_EQ(0, self->r.status) tool_log(&self->r);
	procs = procs_of(self->v);
	ASSERT_NE(NULL, procs);
	ASSERT_EQ(1 + HOLD_CHILDREN, procs->n) tool_log(&self->r);
	for (int i = 0; i < procs->n; i++) {
		const struct jv *p = procs->kids[i];

		/* every member ran to its end, mirrored or not */
		ASSERT_TRUE(str_is(p, "end", "exit")) tool_log(&self->r);
		ASSERT_EQ(0, jint(p, "exit_status"));
		if (jint(p, "errno")) {
			skipped++;
			ASSERT_EQ(EMFILE, jint(p, "errno"));
			ASSERT_TRUE(str_is(p, "error", "EMFILE"));
			ASSERT_EQ(0, jint(p, "asid"));
			ASSERT_EQ(J_NULL, jget(p, "verify")->t);
		} else {
			mirrored++;
			ASSERT_TRUE(verified_ok(p, "exit")) tool_log(&self->r);
		}
	}
	ASSERT_EQ(USER_MAX, mirrored) tool_log(&self->r);
	ASSERT_EQ(1 + HOLD_CHILDREN - USER_MAX, skipped);
	ASSERT_EQ(skipped, jint(jget(self->v, "totals"), "skipped"));
}

TEST_F_TIMEOUT(tree, signals_reach_the_tree_unchanged, 120)
{
	SHPT_RETURN_IF_SKIPPED();
	bool stopped_child = false, killed_child = false;
	const struct jv *procs;

	RUN_TREE(&self->r, self->v, "--tree-signals");
	/* the workload checks what it sees; non-zero names the step */
	ASSERT_EQ(0, self->r.status) tool_log(&self->r);
	procs = procs_of(self->v);
	ASSERT_NE(NULL, procs);
	ASSERT_EQ(3, procs->n) tool_log(&self->r);
	for (int i = 0; i < procs->n; i++) {
		const struct jv *p = procs->kids[i];

		stopped_child |= str_is(p, "end", "exit") &&
				 jint(p, "exit_status") == 5;
		killed_child |= str_is(p, "end", "signal") &&
				jint(p, "exit_status") == 128 + SIGTERM;
	}
	ASSERT_TRUE(stopped_child) tool_log(&self->r);
	ASSERT_TRUE(killed_child) tool_log(&self->r);
}

/*
 * SIGTERM sent to the tool alone (kill(1), not the terminal) is passed on
 * to CMD, with -f to every live process of the tree, and the tool still
 * prints its report when they are gone and exits with CMD's status.  A
 * tool that died of the signal would print nothing.
 */
TEST_F_TIMEOUT(tree, sigterm_to_the_tool_reaches_cmd, 120)
{
	SHPT_RETURN_IF_SKIPPED();
	char self_exe[512], why[192] = "";
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

	ASSERT_LT(0, n);
	self_exe[n] = '\0';
	for (int follow = 0; follow < 2; follow++) {
		char *const plain[] = { "shptctl", "run", "--json", "--",
					self_exe, "--tree-wait", "0", NULL };
		char *const tree[] = { "shptctl", "run", "-f", "--json", "--",
				       self_exe, "--tree-wait", "1", NULL };
		const struct jv *procs;

		jv_free(self->v);
		free(self->r.out);
		self->r.sig = SIGTERM;
		self->r.sig_after = 1.0 * shpt_timeout_scale();
		ASSERT_EQ(0, run_tool(&self->r, follow ? tree : plain));
		self->v = json_parse(self->r.out, self->r.len, why,
				     sizeof(why));
		ASSERT_NE(NULL, self->v) {
			TH_LOG("%s: no report: %s", follow ? "-f" : "plain",
			       why);
			tool_log(&self->r);
		}
		ASSERT_EQ(128 + SIGTERM, self->r.status) tool_log(&self->r);
		if (!follow) {
			ASSERT_EQ(128 + SIGTERM,
				  jint(self->v, "exit_status"));
			continue;
		}
		procs = procs_of(self->v);
		ASSERT_NE(NULL, procs);
		ASSERT_EQ(2, procs->n) tool_log(&self->r);
		for (int i = 0; i < procs->n; i++) {
			ASSERT_TRUE(str_is(procs->kids[i], "end", "signal"))
				tool_log(&self->r);
			ASSERT_EQ(128 + SIGTERM,
				  jint(procs->kids[i], "exit_status"));
		}
	}
}

TEST_F_TIMEOUT(tree, stress_ng_workers_verify_ok, 180)
{
	SHPT_RETURN_IF_SKIPPED();
	int vm = 0, forks = 0, verified = 0;
	const struct jv *procs;
	char why[192] = "", secs[16];

	if (access(STRESS_NG, X_OK))
		SKIP(return, "no %s (Debian package stress-ng)", STRESS_NG);
	/*
	 * stress-ng starts its workers within its own time limit: on a slow
	 * (debug) kernel, 3 s can run out before the last one has started.
	 */
	snprintf(secs, sizeof(secs), "%d", 3 * shpt_timeout_scale());
	ASSERT_EQ(0, run_tool(&self->r, (char *const []){
		"shptctl", "run", "-f", "--json", "--", STRESS_NG, "-q",
		"--fork", "2", "--vm", "2", "--vm-bytes", "16M", "-t", secs,
		NULL }));
	self->v = json_parse(self->r.out, self->r.len, why, sizeof(why));
	ASSERT_NE(NULL, self->v) {
		TH_LOG("not JSON: %s", why);
		tool_log(&self->r);
	}
	ASSERT_EQ(0, self->r.status) tool_log(&self->r);
	procs = procs_of(self->v);
	ASSERT_NE(NULL, procs);
	for (int i = 0; i < procs->n; i++) {
		const struct jv *p = procs->kids[i];
		const char *comm = jstr(p, "comm");

		ASSERT_EQ(0, jint(p, "errno")) tool_log(&self->r);
		ASSERT_LT(0, jint(p, "asid"));
		if (jget(p, "verify")->t != J_NULL) {
			ASSERT_TRUE(verified_ok(p, NULL)) tool_log(&self->r);
			verified++;
		}
		if (comm && strstr(comm, "-vm"))
			vm += verified_ok(p, NULL);
		if (comm && strstr(comm, "-fork"))
			forks += verified_ok(p, NULL);
	}
	fprintf(stderr, "# stress-ng: %d records, %d verified, %d vm, %d fork; %lld ptrace events, %lld lookup passes, %.1f s\n",
		procs->n, verified, vm, forks, jint(self->v, "ptrace_events"),
		jint(self->v, "passes"),
		jget(self->v, "seconds") ? jget(self->v, "seconds")->d : -1.0);
	/* the root, 2 vm and 2 fork workers at least, their children too */
	ASSERT_LE(5, procs->n);
	ASSERT_LE(2, vm) tool_log(&self->r);
	ASSERT_LE(2, forks) tool_log(&self->r);
	ASSERT_EQ(0, jint(jget(self->v, "totals"), "stale"));
}

static void __attribute__((constructor)) tree_constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strncmp(argv[1], "--tree-", 7))
		return tree_workload(argc, argv);
	shpt_harness_args(argc, argv);
	shpt_harness_scale_timeouts();
	return test_harness_run(argc, argv);
}
