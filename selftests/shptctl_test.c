// SPDX-License-Identifier: GPL-2.0
/*
 * shptctl_test: what a user of tools/shptctl sees.  Every case runs the
 * installed tool (fork + exec, stdout and stderr through separate pipes,
 * killed after a deadline so a hang fails instead of stalling) and checks
 * its exit status and output:
 *
 *   --json       stats, hist, lookup and run print one strict JSON
 *                document (checked by the small parser below, which
 *                rejects trailing garbage), and its numbers agree:
 *                hits + misses == lookups, rows sum to buckets, one
 *                lookup result per address with the right status
 *   text         stats is "name value" lines; hist draws |@ bars beside
 *                a Poisson column; lookup prints one row per address
 *   verify, run  a live child verifies with 0 stale; a bounded workload
 *                under "run" exits 0 and reports verify's verdict; "run -f"
 *                prints one line (or JSON record) per process, passes
 *                CMD's exit status on (trees: tree_test.c)
 *   errors       no such process, no permission (as nobody), unknown
 *                command, module not loaded; --help on every command
 *
 * SHPTCTL overrides the tool's path (default /usr/bin/shptctl) and
 * SHPT_WORKLOADS the workloads' directory.  Needs root, a loaded shpt,
 * debugfs mounted and the nobody user (65534); the module-not-loaded case
 * also needs $SHPT_KO and reloads the module, so it runs last.
 */
#include "shpt_harness.h"

#include <ctype.h>
#include <grp.h>
#include <poll.h>

#include "shpt_test_util.h"
#include "shpt_json.h"

#define NOBODY		65534
#define NPAGES		16	/* touched by the target */
#define NHOLE		4	/* mapped after them, never touched */
#define TOOL_TIMEOUT	15	/* seconds, per invocation */
#define RUN_TIMEOUT	25	/* seconds, for "shptctl run" */
#define OUT_MAX		(256 << 10)

static const char *tool(void)
{
	const char *t = getenv("SHPTCTL");

	return t && *t ? t : "/usr/bin/shptctl";
}

static const char *workload(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("SHPT_WORKLOADS");

	snprintf(buf, len, "%s/%s", dir && *dir ? dir : "/usr/lib/shpt/workloads",
		 name);
	return buf;
}

/* ---- running the tool -------------------------------------------------- */

struct tool_run {
	int status;		/* exit code, 128 + signal, or -1: timed out */
	char out[OUT_MAX];
	char err[OUT_MAX / 16];
	size_t out_len, err_len;
};

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return 0;
}

/*
 * Run argv (argv[0] is the program's path) with stdout and stderr captured,
 * as nobody if @as_nobody.  Returns 0 once it has exited or been killed at
 * the deadline (r->status -1), or -errno when it could not be started.
 */
static int run_argv(struct tool_run *r, bool as_nobody, int timeout_s,
		    char *const argv[])
{
	int out[2], err[2], status, n_open = 2;
	struct pollfd pfd[2];
	double deadline;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(125);
		if (as_nobody && drop_to_nobody()) {
			dprintf(2, "drop to nobody: %s\n", strerror(errno));
			_exit(125);
		}
		execv(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	deadline = shpt_now() + timeout_s * shpt_timeout_scale();
	while (n_open) {
		int left = (int)((deadline - shpt_now()) * 1000), k;

		if (left <= 0)
			break;
		k = poll(pfd, 2, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t *len = i ? &r->err_len : &r->out_len;
			size_t cap = (i ? sizeof(r->err) : sizeof(r->out)) - 1;
			char scratch[4096];
			ssize_t k;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (*len < cap)
				k = read(pfd[i].fd, buf + *len, cap - *len);
			else
				k = read(pfd[i].fd, scratch, sizeof(scratch));
			if (k <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				n_open--;
			} else if (*len < cap) {
				*len += k;
			}
		}
	}
	r->out[r->out_len] = '\0';
	r->err[r->err_len] = '\0';
	/* Pipes closed: the tool is exiting; give it until the deadline. */
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (shpt_now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			r->status = -1;
			goto out;
		}
		usleep(10000);
	}
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
out:
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	return 0;
}

/* run_argv() on the tool: run_tool(r, as_nobody, "stats", "--json", NULL). */
#define run_tool(r, nobody, ...)					\
	run_argv(r, nobody, TOOL_TIMEOUT,				\
		 (char *const []){ (char *)tool(), __VA_ARGS__ })

/* Print @text as "# @tag| line" diagnostics, at most @max lines. */
static void log_lines(const char *tag, const char *text, int max)
{
	const char *p = text;

	for (int n = 0; *p && n < max; n++) {
		const char *nl = strchrnul(p, '\n');

		fprintf(stderr, "# %s| %.*s\n", tag, (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static void tool_log(const struct tool_run *r)
{
	if (r->status < 0)
		fprintf(stderr, "# tool killed after its deadline (hung)\n");
	else
		fprintf(stderr, "# tool exit status %d\n", r->status);
	log_lines("stdout", r->out, 60);
	log_lines("stderr", r->err, 20);
}

/* Log what the tool said, for a failing assertion's context. */
#define TOOL_LOG(r)	tool_log(r)

/* Parse the tool's stdout; asserts it is one JSON document. */
#define PARSE_JSON(r, v) do {						\
	char __why[192] = "";						\
	(v) = json_parse((r)->out, (r)->out_len, __why, sizeof(__why));	\
	ASSERT_NE(NULL, (v)) {						\
		TH_LOG("not JSON: %s", __why);				\
		TOOL_LOG(r);						\
	}								\
} while (0)

/* ---- a target child with known pages ----------------------------------- */

struct target {
	pid_t pid;
	unsigned long base;	/* NPAGES touched, then NHOLE untouched */
	unsigned long unmapped;	/* a page just past them, unmapped */
};

static int target_start(struct target *t)
{
	unsigned long *shared;
	int p[2];
	char c;

	shared = mmap(NULL, SHPT_PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED || pipe2(p, O_CLOEXEC))
		return -1;
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (t->pid == 0) {
		unsigned long len = (NPAGES + NHOLE + 1) * SHPT_PAGE;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (m == MAP_FAILED)
			_exit(1);
		madvise(m, len, MADV_NOHUGEPAGE);
		munmap(m + (NPAGES + NHOLE) * SHPT_PAGE, SHPT_PAGE);
		for (int i = 0; i < NPAGES; i++)
			m[i * SHPT_PAGE] = 1;
		*shared = (unsigned long)m;
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	t->base = *shared;
	t->unmapped = t->base + (NPAGES + NHOLE) * SHPT_PAGE;
	munmap(shared, SHPT_PAGE);
	return 0;
}

static void target_stop(struct target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void hex(char *buf, size_t len, unsigned long v)
{
	snprintf(buf, len, "0x%lx", v);
}

/* Split @s into lines in place; returns the count (at most @max). */
static int split_lines(char *s, char **lines, int max)
{
	int n = 0;

	while (*s && n < max) {
		char *nl = strchr(s, '\n');

		lines[n++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	return n;
}

/* The command line alone: these need no module. */
FIXTURE(cli)
{
	struct tool_run *r;
};

FIXTURE_SETUP(cli)
{
	self->r = calloc(1, sizeof(*self->r));
	ASSERT_NE(NULL, self->r);
	if (access(tool(), X_OK))
		SKIP(return, "no %s", tool());
}

FIXTURE_TEARDOWN(cli)
{
	free(self->r);
}

FIXTURE(tool)
{
	struct tool_run *r;
	struct target t;
	int fd;		/* /dev/shpt, for a mirror held by the test */
};

FIXTURE_SETUP(tool)
{
	self->t.pid = 0;
	self->fd = -1;
	self->r = calloc(1, sizeof(*self->r));
	ASSERT_NE(NULL, self->r);
	if (access(tool(), X_OK))
		SKIP(return, "no %s", tool());
	if (access(SHPT_DEV, F_OK) || access(SHPT_DEBUGFS "/stats", R_OK))
		SKIP(return, "shpt not loaded or debugfs not mounted");
}

FIXTURE_TEARDOWN(tool)
{
	if (self->fd >= 0)
		close(self->fd);
	target_stop(&self->t);
	free(self->r);
}

/*
 * Start the target and mirror it, populated, through the test's own fd
 * (close-on-exec: the tool does not inherit it), so that the table holds
 * at least NPAGES entries while the tool looks at it.
 */
static int hold_mirror(struct target *t, int *fd)
{
	__u64 asid;

	if (target_start(t))
		return -1;
	*fd = shpt_open();
	if (*fd < 0)
		return -1;
	return shpt_attach(*fd, t->pid, SHPT_ATTACH_POPULATE, &asid);
}

/* ---- the parser itself ------------------------------------------------- */

TEST(json_parser_is_strict)
{
	static const char *const good[] = {
		"{}", " [ ] ", "0", "-0.5e+3", "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"",
		"{\"a\": [1, 2.5, true, false, null, {\"b\": \"c\"}]}\n",
		"[[[[]]]]", "1E9", "{\"n\": 18446744073709551615}",
	};
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}",
		"{a: 1}", "{'a': 1}", "[01]", "[1.]", "[.5]", "[+1]", "[1e]",
		"[-]", "[nul]", "[True]", "\"abc", "\"a\\x\"", "\"\\u12g4\"",
		"\"tab\there\"", "{} {}", "[1] x", "{\"a\": 1, \"a\": 2}",
		"[1 2]", "[nan]", "[inf]", "{\"a\": }",
	};
	static const char doc[] =
		"{\"k\": [7, \"s\"], \"big\": 18446744073709551615}";
	static const char esc[] = "\"x\\n\\t\\\"\\/\"";
	char deep[2 * J_MAX_DEPTH + 8];
	struct jv *v;
	char why[192];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		v = json_parse(good[i], strlen(good[i]), why, sizeof(why));
		EXPECT_NE(NULL, v) TH_LOG("rejected %s: %s", good[i], why);
		jv_free(v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = json_parse(bad[i], strlen(bad[i]), why, sizeof(why));
		EXPECT_EQ(NULL, v) TH_LOG("accepted '%s'", bad[i]);
		jv_free(v);
	}
	/* An embedded NUL is trailing garbage. */
	EXPECT_EQ(NULL, json_parse("{}\0", 3, why, sizeof(why)));
	memset(deep, '[', J_MAX_DEPTH + 1);
	memset(deep + J_MAX_DEPTH + 1, ']', J_MAX_DEPTH + 1);
	EXPECT_EQ(NULL, json_parse(deep, 2 * J_MAX_DEPTH + 2, why, sizeof(why)));
	/* and what it parses, it parses right */
	v = json_parse(doc, strlen(doc), why, sizeof(why));
	ASSERT_NE(NULL, v) TH_LOG("%s", why);
	ASSERT_EQ(2, v->n);
	ASSERT_EQ(J_ARR, jget(v, "k")->t);
	ASSERT_EQ(7ULL, jget(v, "k")->kids[0]->u);
	ASSERT_STREQ("s", jget(v, "k")->kids[1]->s);
	ASSERT_EQ(18446744073709551615ULL, jget(v, "big")->u);
	jv_free(v);
	v = json_parse(esc, strlen(esc), why, sizeof(why));
	ASSERT_NE(NULL, v) TH_LOG("%s", why);
	ASSERT_STREQ("x\n\t\"/", v->s);
	jv_free(v);
}

/* ---- stats ------------------------------------------------------------- */

TEST_F(tool, stats_json_is_valid_and_consistent)
{
	SHPT_RETURN_IF_SKIPPED();
	char a0[32], a1[32];
	long long lookups, hits, misses;
	struct jv *v;
	FILE *f;
	char line[256];
	int lines = 0;

	/* Make some lookups first: 1 fill, 1 hit, 1 not present. */
	ASSERT_EQ(0, target_start(&self->t));
	hex(a0, sizeof(a0), self->t.base);
	hex(a1, sizeof(a1), self->t.base + NPAGES * SHPT_PAGE);
	{
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", self->t.pid);
		ASSERT_EQ(0, run_tool(self->r, false, "lookup", pid, a0, a0,
				      a1, NULL));
		ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	}

	ASSERT_EQ(0, run_tool(self->r, false, "stats", "--json", NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(0UL, self->r->err_len) TOOL_LOG(self->r);
	PARSE_JSON(self->r, v);
	ASSERT_EQ(J_OBJ, v->t);
	lookups = jint(v, "lookups");
	hits = jint(v, "hits");
	misses = jint(v, "misses");
	TH_LOG("lookups %lld hits %lld misses %lld", lookups, hits, misses);
	ASSERT_LE(3, lookups);
	ASSERT_LE(1, hits);
	ASSERT_LE(2, misses);
	ASSERT_EQ(lookups, hits + misses);
	/* Every value is a counter; every debugfs line is a key. */
	for (int i = 0; i < v->n; i++) {
		ASSERT_TRUE(v->kids[i]->t == J_NUM && v->kids[i]->is_uint)
			TH_LOG("\"%s\" is not a non-negative integer", v->keys[i]);
	}
	f = fopen(SHPT_DEBUGFS "/stats", "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		char name[64];

		ASSERT_EQ(1, sscanf(line, "%63s", name));
		EXPECT_NE(NULL, jget(v, name)) TH_LOG("no \"%s\" in the JSON", name);
		lines++;
	}
	fclose(f);
	ASSERT_EQ(lines, v->n);
	jv_free(v);
}

TEST_F(tool, stats_text_is_name_value_lines)
{
	SHPT_RETURN_IF_SKIPPED();
	static char *lines[256];
	char names[256][64];
	int n, m = 0;
	char line[256];
	FILE *f;

	ASSERT_EQ(0, run_tool(self->r, false, "stats", NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	ASSERT_LT(0UL, self->r->out_len);
	ASSERT_EQ('\n', self->r->out[self->r->out_len - 1]);
	n = split_lines(strdup(self->r->out), lines, 256);
	ASSERT_LE(10, n);
	for (int i = 0; i < n; i++) {
		char name[64], extra[8];
		unsigned long long val;
		const char *p = lines[i];

		/* name, spaces, a decimal, nothing else */
		ASSERT_EQ(2, sscanf(p, "%63[a-z0-9_] %llu %7s", name, &val, extra))
			TH_LOG("line %d: '%s'", i, p);
		p += strlen(name);
		ASSERT_EQ(' ', *p);
		while (*p == ' ')
			p++;
		ASSERT_TRUE(isdigit((unsigned char)*p));
		while (isdigit((unsigned char)*p))
			p++;
		ASSERT_EQ('\0', *p) TH_LOG("line %d: '%s'", i, lines[i]);
		strcpy(names[i], name);
	}
	/* The same names, in the same order, as debugfs. */
	f = fopen(SHPT_DEBUGFS "/stats", "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f) && m < n) {
		char name[64];

		ASSERT_EQ(1, sscanf(line, "%63s", name));
		EXPECT_STREQ(name, names[m]);
		m++;
	}
	fclose(f);
	ASSERT_EQ(n, m);
}

/* ---- hist -------------------------------------------------------------- */

TEST_F(tool, hist_json_rows_sum_to_buckets)
{
	SHPT_RETURN_IF_SKIPPED();
	unsigned long long sum_b = 0, sum_n = 0;
	long long n, b;
	bool open_used = false;
	struct jv *v, *rows;

	ASSERT_EQ(0, hold_mirror(&self->t, &self->fd));
	ASSERT_EQ(0, run_tool(self->r, false, "hist", "--json", NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	PARSE_JSON(self->r, v);
	ASSERT_EQ(J_OBJ, v->t);
	n = jint(v, "n");
	b = jint(v, "buckets");
	rows = jget(v, "rows");
	ASSERT_LE(NPAGES, n) TOOL_LOG(self->r);
	ASSERT_LT(0, b) TOOL_LOG(self->r);
	ASSERT_NE(NULL, jget(v, "alpha"));
	ASSERT_EQ(J_NUM, jget(v, "alpha")->t);
	ASSERT_NE(NULL, jget(v, "chi2"));
	ASSERT_EQ(J_NUM, jget(v, "chi2")->t);
	ASSERT_LE(0, jint(v, "df"));
	ASSERT_NE(NULL, rows);
	ASSERT_EQ(J_ARR, rows->t);
	ASSERT_LE(2, rows->n);
	for (int i = 0; i < rows->n; i++) {
		struct jv *row = rows->kids[i];
		long long len = jint(row, "len"), cnt = jint(row, "count");

		ASSERT_EQ(J_OBJ, row->t);
		ASSERT_LE(0, len);
		ASSERT_LE(0, cnt);
		ASSERT_NE(NULL, jget(row, "expected"));
		ASSERT_EQ(J_NUM, jget(row, "expected")->t);
		if (jget(row, "at_least"))
			open_used = cnt > 0;
		sum_b += cnt;
		sum_n += len * cnt;
	}
	TH_LOG("n %lld B %lld rows %d", n, b, rows->n);
	ASSERT_EQ((unsigned long long)b, sum_b);
	if (!open_used)
		ASSERT_EQ((unsigned long long)n, sum_n);
	jv_free(v);
}

TEST_F(tool, hist_text_draws_bars_and_poisson)
{
	SHPT_RETURN_IF_SKIPPED();
	static char *lines[128];
	unsigned long long n, b, sum = 0;
	int nl, bars = 0;

	ASSERT_EQ(0, hold_mirror(&self->t, &self->fd));
	ASSERT_EQ(0, run_tool(self->r, false, "hist", NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	nl = split_lines(strdup(self->r->out), lines, 128);
	ASSERT_LE(3, nl) TOOL_LOG(self->r);
	ASSERT_EQ(2, sscanf(lines[0], "chains: n %llu, B %llu,", &n, &b))
		TH_LOG("header: '%s'", lines[0]);
	ASSERT_LE((unsigned long long)NPAGES, n);
	ASSERT_NE(NULL, strstr(lines[0], ", alpha "));
	ASSERT_NE(NULL, strstr(lines[0], ", chi2 "));
	ASSERT_EQ(0, strncmp(lines[1], "len ", 4)) TH_LOG("'%s'", lines[1]);
	ASSERT_NE(NULL, strstr(lines[1], "buckets"));
	ASSERT_NE(NULL, strstr(lines[1], "poisson"));
	ASSERT_EQ(0, strncmp(lines[2], "[0] ", 4)) TH_LOG("'%s'", lines[2]);
	for (int i = 2; i < nl; i++) {
		char *open, *close, *end, *p;
		unsigned long long cnt;
		int w = 0;
		double exp;

		if (!strcmp(lines[i], "..."))
			continue;
		/* "[lo, hi)   count |@@@@      |   expected" */
		ASSERT_EQ('[', lines[i][0]) TH_LOG("'%s'", lines[i]);
		open = strchr(lines[i], '|');
		ASSERT_NE(NULL, open) TH_LOG("no bar: '%s'", lines[i]);
		close = strchr(open + 1, '|');
		ASSERT_NE(NULL, close) TH_LOG("'%s'", lines[i]);
		ASSERT_EQ(40, close - open - 1) TH_LOG("'%s'", lines[i]);
		while (open[1 + w] == '@')
			w++;
		for (p = open + 1 + w; p < close; p++) {
			ASSERT_EQ(' ', *p) TH_LOG("'%s'", lines[i]);
		}
		for (p = open - 1; p > lines[i] && *p == ' '; p--)
			;
		while (p > lines[i] && isdigit((unsigned char)p[-1]))
			p--;
		ASSERT_TRUE(isdigit((unsigned char)*p)) TH_LOG("'%s'", lines[i]);
		cnt = strtoull(p, NULL, 10);
		ASSERT_EQ(cnt > 0, w > 0) TH_LOG("'%s'", lines[i]);
		bars += w > 0;
		exp = strtod(close + 1, &end);
		ASSERT_NE(close + 1, end) TH_LOG("no Poisson column: '%s'", lines[i]);
		ASSERT_EQ('\0', *end) TH_LOG("'%s'", lines[i]);
		ASSERT_LE(0.0, exp);
		sum += cnt;
	}
	ASSERT_LE(1, bars);
	ASSERT_EQ(b, sum) TOOL_LOG(self->r);
}

/* ---- lookup ------------------------------------------------------------ */

TEST_F(tool, lookup_json_one_result_per_address)
{
	SHPT_RETURN_IF_SKIPPED();
	static const char *const want[] = { "fill", "fill", "hit", "none", "none" };
	unsigned long addr[5];
	char a[5][32], pid[16];
	struct jv *v, *res;

	ASSERT_EQ(0, target_start(&self->t));
	addr[0] = self->t.base;				/* touched */
	addr[1] = self->t.base + 3 * SHPT_PAGE + 123;	/* touched, unaligned */
	addr[2] = self->t.base;				/* again: the hit */
	addr[3] = self->t.base + (NPAGES + 1) * SHPT_PAGE;	/* untouched */
	addr[4] = self->t.unmapped;			/* unmapped */
	for (int i = 0; i < 5; i++)
		hex(a[i], sizeof(a[i]), addr[i]);
	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	ASSERT_EQ(0, run_tool(self->r, false, "lookup", pid, "--json", a[0],
			      a[1], a[2], a[3], a[4], NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	PARSE_JSON(self->r, v);
	ASSERT_EQ(J_OBJ, v->t);
	ASSERT_EQ(self->t.pid, jint(v, "pid"));
	ASSERT_LT(0, jint(v, "asid"));
	res = jget(v, "results");
	ASSERT_NE(NULL, res);
	ASSERT_EQ(J_ARR, res->t);
	ASSERT_EQ(5, res->n) TOOL_LOG(self->r);
	for (int i = 0; i < 5; i++) {
		struct jv *r = res->kids[i];
		long long flags = jint(r, "flags");

		ASSERT_EQ((long long)(addr[i] & ~(SHPT_PAGE - 1)), jint(r, "addr"));
		ASSERT_NE(NULL, jstr(r, "status"));
		EXPECT_STREQ(want[i], jstr(r, "status")) TH_LOG("address %d", i);
		ASSERT_LE(0, jint(r, "pfn"));
		ASSERT_LE(0, flags);
		ASSERT_EQ(0, jint(r, "order"));
		if (i < 3) {	/* a private anonymous page written to */
			ASSERT_TRUE(flags & SHPT_PF_VALID);
			ASSERT_TRUE(flags & SHPT_PF_WRITE);
			ASSERT_TRUE(flags & SHPT_PF_ANON);
			/* root has CAP_SYS_ADMIN: the real pfn */
			ASSERT_EQ(shpt_pagemap_pfn(self->t.pid, addr[i]),
				  jint(r, "pfn"));
		} else {
			ASSERT_EQ(0, jint(r, "pfn"));
		}
	}
	jv_free(v);
}

TEST_F(tool, lookup_text_one_row_per_address)
{
	SHPT_RETURN_IF_SKIPPED();
	static const char *const want[] = { "fill", "hit", "none" };
	static const char *const want_fl[] = { "vwr-a--", "vwr-a--", "-------" };
	static char *lines[16];
	char a0[32], a1[32], pid[16];
	int n;

	ASSERT_EQ(0, target_start(&self->t));
	hex(a0, sizeof(a0), self->t.base);
	hex(a1, sizeof(a1), self->t.unmapped);
	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	ASSERT_EQ(0, run_tool(self->r, false, "lookup", pid, a0, a0, a1, NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	n = split_lines(strdup(self->r->out), lines, 16);
	ASSERT_EQ(4, n) TOOL_LOG(self->r);
	ASSERT_EQ(0, strncmp(lines[0], "addr ", 5));
	ASSERT_NE(NULL, strstr(lines[0], "status"));
	for (int i = 0; i < 3; i++) {
		unsigned long long addr, pfn;
		char st[16], flags[16];
		unsigned int order;

		ASSERT_EQ(5, sscanf(lines[i + 1], "%llx %15s %llu %15s %u", &addr,
				    st, &pfn, flags, &order))
			TH_LOG("'%s'", lines[i + 1]);
		EXPECT_EQ(i < 2 ? self->t.base : self->t.unmapped, addr);
		EXPECT_STREQ(want[i], st);
		EXPECT_STREQ(want_fl[i], flags);
		EXPECT_EQ(0U, order);
	}
}

/* ---- verify and run ---------------------------------------------------- */

TEST_F(tool, verify_live_child_has_no_stale)
{
	SHPT_RETURN_IF_SKIPPED();
	unsigned long long asid, checked, stale, missing, retries;
	char pid[16], ok[16];
	int p;

	ASSERT_EQ(0, target_start(&self->t));
	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	ASSERT_EQ(0, run_tool(self->r, false, "verify", pid, NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(7, sscanf(self->r->out,
			    "verify pid %d asid %llu: %15s (checked %llu, stale %llu, missing %llu, retries %llu)",
			    &p, &asid, ok, &checked, &stale, &missing, &retries))
		TOOL_LOG(self->r);
	log_lines("verify", self->r->out, 2);
	ASSERT_EQ(self->t.pid, p);
	ASSERT_STREQ("OK", ok);
	ASSERT_EQ(0ULL, stale);
	/* populate took every touched page at least */
	ASSERT_LE((unsigned long long)NPAGES, checked);
}

TEST_F_TIMEOUT(tool, run_workload_reports_verify_ok, 60)
{
	SHPT_RETURN_IF_SKIPPED();
	unsigned long long lk, hits, misses, checked, stale;
	char wl[256], ok[16], *p;

	workload("dense", wl, sizeof(wl));
	ASSERT_EQ(0, access(wl, X_OK)) TH_LOG("no workload %s", wl);
	ASSERT_EQ(0, run_argv(self->r, false, RUN_TIMEOUT,
			      (char *const []){ (char *)tool(), "run", "--",
						wl, "-t", "1", "-m", "4", NULL }));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	log_lines("run", self->r->out, 12);
	ASSERT_EQ(0, strncmp(self->r->out, "== dense -t 1 -m 4: pid ", 24))
		TOOL_LOG(self->r);
	p = strstr(self->r->out, "  lookups ");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(3, sscanf(p, "  lookups %llu = hits %llu + misses %llu", &lk,
			    &hits, &misses));
	ASSERT_EQ(lk, hits + misses);
	/* 4 MiB read for a second, 100 ms passes: a few thousand lookups */
	ASSERT_LE(1024ULL, lk);
	ASSERT_LE(1ULL, hits);
	ASSERT_NE(NULL, strstr(self->r->out, "  inval: unmap "));
	p = strstr(self->r->out, "  verify (last pass): ");
	ASSERT_NE(NULL, p) TOOL_LOG(self->r);
	ASSERT_EQ(3, sscanf(p, "  verify (last pass): %15[A-Z], checked %llu, stale %llu",
			    ok, &checked, &stale));
	ASSERT_STREQ("OK", ok);
	ASSERT_EQ(0ULL, stale);
	/* at least the half of the region that survives the MADV_DONTNEED */
	ASSERT_LE(512ULL, checked);
	/* the histogram of the last pass, indented */
	ASSERT_NE(NULL, strstr(self->r->out, "\n  chains: n "));
	ASSERT_NE(NULL, strstr(self->r->out, "|@"));
}

TEST_F_TIMEOUT(tool, run_json_report_is_valid, 60)
{
	SHPT_RETURN_IF_SKIPPED();
	struct jv *v, *ver, *d, *h, *rows;
	unsigned long long sum = 0;
	char wl[256];

	workload("dense", wl, sizeof(wl));
	ASSERT_EQ(0, run_argv(self->r, false, RUN_TIMEOUT,
			      (char *const []){ (char *)tool(), "run", "--json",
						"--", wl, "-t", "1", "-m", "4",
						NULL }));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	PARSE_JSON(self->r, v);
	ASSERT_EQ(J_OBJ, v->t);
	ASSERT_NE(NULL, jstr(v, "command"));
	ASSERT_NE(NULL, strstr(jstr(v, "command"), "dense -t 1 -m 4"));
	ASSERT_EQ(0, jint(v, "exit_status"));
	ASSERT_LT(0, jint(v, "pid"));
	ASSERT_LT(0, jint(v, "asid"));
	ASSERT_LE(1, jint(v, "passes"));
	ASSERT_LE(1024, jint(v, "addresses"));
	d = jget(v, "stats_delta");
	ASSERT_NE(NULL, d);
	ASSERT_EQ(jint(d, "lookups"), jint(d, "hits") + jint(d, "misses"));
	ASSERT_NE(NULL, jget(v, "inval"));
	ASSERT_LE(0, jint(jget(v, "inval"), "clear"));
	ver = jget(v, "verify");
	ASSERT_NE(NULL, ver);
	ASSERT_EQ(J_OBJ, ver->t) TOOL_LOG(self->r);
	ASSERT_NE(NULL, jget(ver, "ok"));
	ASSERT_EQ(J_BOOL, jget(ver, "ok")->t);
	ASSERT_TRUE(jget(ver, "ok")->b);
	ASSERT_EQ(0, jint(ver, "stale"));
	ASSERT_LE(512, jint(ver, "checked"));
	ASSERT_NE(NULL, jget(v, "mirror"));
	ASSERT_LE(0, jint(jget(v, "mirror"), "entries"));
	h = jget(v, "hist");
	ASSERT_NE(NULL, h);
	ASSERT_EQ(J_OBJ, h->t);
	rows = jget(h, "rows");
	ASSERT_NE(NULL, rows);
	for (int i = 0; i < rows->n; i++)
		sum += jint(rows->kids[i], "count");
	ASSERT_LT(0, jint(h, "buckets"));
	ASSERT_EQ((unsigned long long)jint(h, "buckets"), sum);
	jv_free(v);
}

/* run -f on a process that forks nothing: one record, verified at exit. */
TEST_F_TIMEOUT(tool, run_follow_one_process_text, 60)
{
	SHPT_RETURN_IF_SKIPPED();
	static const char head[] =
		"== dense -t 1 -m 4: 1 processes (1 mirrored, 0 sharing an mm, 0 skipped), 0 threads, exit 0,";
	unsigned long long checked, stale;
	int pid, ppid, code;
	char wl[256], ok[16], at[16], *p;
	unsigned long asid;

	workload("dense", wl, sizeof(wl));
	ASSERT_EQ(0, run_argv(self->r, false, RUN_TIMEOUT,
			      (char *const []){ (char *)tool(), "run", "-f",
						"--", wl, "-t", "1", "-m", "4",
						NULL }));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	log_lines("run -f", self->r->out, 8);
	ASSERT_EQ(0, strncmp(self->r->out, head, strlen(head))) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->out, "\n  verify: 1 OK, 0 STALE, 0 not verified\n"))
		TOOL_LOG(self->r);
	p = strstr(self->r->out, "\n  pid ");
	ASSERT_NE(NULL, p) TOOL_LOG(self->r);
	ASSERT_EQ(8, sscanf(p, "\n  pid %d ppid %d asid %lu spawn dense: exit %d, verify %15[A-Z] (checked %llu, stale %llu, missing %*u, at %15[a-z])",
			    &pid, &ppid, &asid, &code, ok, &checked, &stale, at))
		TOOL_LOG(self->r);
	ASSERT_LT(0, pid);
	ASSERT_LT(0UL, asid);
	ASSERT_EQ(0, code);
	ASSERT_STREQ("OK", ok);
	ASSERT_EQ(0ULL, stale);
	ASSERT_STREQ("exit", at);
	/* at exit, the last half of the region is still mapped and read */
	ASSERT_LE(512ULL, checked);
	ASSERT_NE(NULL, strstr(self->r->out, "\n  chains: n ")) TOOL_LOG(self->r);
}

/* run -f and --follow are one option; CMD's exit status is passed on. */
TEST_F_TIMEOUT(tool, run_follow_json_passes_exit_status, 60)
{
	SHPT_RETURN_IF_SKIPPED();
	const struct jv *procs;
	struct jv *v;

	ASSERT_EQ(0, run_argv(self->r, false, RUN_TIMEOUT,
			      (char *const []){ (char *)tool(), "run",
						"--follow", "--json", "--",
						"/bin/sh", "-c",
						"/bin/true; exit 3", NULL }));
	ASSERT_EQ(3, self->r->status) TOOL_LOG(self->r);
	PARSE_JSON(self->r, v);
	ASSERT_EQ(3, jint(v, "exit_status"));
	ASSERT_NE(NULL, jget(v, "follow"));
	ASSERT_TRUE(jget(v, "follow")->b);
	procs = jget(v, "processes");
	ASSERT_NE(NULL, procs);
	ASSERT_EQ(J_ARR, procs->t);
	/* sh (busybox: a fork that execs true, or an exec in place) */
	ASSERT_LE(1, procs->n) TOOL_LOG(self->r);
	ASSERT_EQ(procs->n, jint(jget(v, "totals"), "processes"));
	for (int i = 0; i < procs->n; i++) {
		ASSERT_LT(0, jint(procs->kids[i], "asid")) TOOL_LOG(self->r);
		ASSERT_NE(NULL, jstr(procs->kids[i], "comm"));
		ASSERT_NE(NULL, jstr(procs->kids[i], "end"));
	}
	ASSERT_EQ(3, jint(procs->kids[0], "exit_status")) TOOL_LOG(self->r);
	jv_free(v);
}

/* A command that cannot be executed: no report, exit 127 as a shell. */
TEST_F(tool, run_follow_missing_command)
{
	SHPT_RETURN_IF_SKIPPED();

	ASSERT_EQ(0, run_tool(self->r, false, "run", "-f", "--",
			      "/nonexistent/cmd", NULL));
	ASSERT_EQ(127, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "/nonexistent/cmd")) TOOL_LOG(self->r);
	ASSERT_EQ(0, (int)self->r->out_len) TOOL_LOG(self->r);
}

TEST_F(tool, watch_prints_header_and_rows)
{
	SHPT_RETURN_IF_SKIPPED();
	static char *lines[16];
	int n;

	ASSERT_EQ(0, run_tool(self->r, false, "watch", "-i", "0.2", "-n", "2",
			      NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	n = split_lines(strdup(self->r->out), lines, 16);
	ASSERT_EQ(3, n) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(lines[0], "lookups"));
	ASSERT_NE(NULL, strstr(lines[0], "buckets"));
	for (int i = 1; i < 3; i++) {
		unsigned long long v[10];

		ASSERT_EQ(10, sscanf(lines[i], "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
				     &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
				     &v[6], &v[7], &v[8], &v[9])) TH_LOG("'%s'", lines[i]);
		ASSERT_LT(0ULL, v[9]);	/* buckets */
	}
}

/* ---- errors ------------------------------------------------------------ */

TEST_F(tool, lookup_no_such_process)
{
	SHPT_RETURN_IF_SKIPPED();

	ASSERT_EQ(-1, kill(999999, 0));
	ASSERT_EQ(ESRCH, errno);
	ASSERT_EQ(0, run_tool(self->r, false, "lookup", "999999", "0x1000", NULL));
	ASSERT_EQ(1, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(0UL, self->r->out_len) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "no such process")) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "999999")) TOOL_LOG(self->r);
	ASSERT_EQ(0, run_tool(self->r, false, "verify", "999999", NULL));
	ASSERT_EQ(1, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "no such process")) TOOL_LOG(self->r);
}

TEST_F(tool, nobody_cannot_attach_to_root)
{
	SHPT_RETURN_IF_SKIPPED();
	char pid[16], a0[32];

	ASSERT_EQ(0, target_start(&self->t));
	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	hex(a0, sizeof(a0), self->t.base);
	/* By default /dev/shpt is root's (0600): nobody cannot open it. */
	ASSERT_EQ(0, run_tool(self->r, true, "attach", pid, NULL));
	ASSERT_EQ(1, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(0UL, self->r->out_len) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "permission denied")) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, SHPT_DEV)) TOOL_LOG(self->r);
	ASSERT_EQ(0, run_tool(self->r, true, "lookup", pid, a0, NULL));
	ASSERT_EQ(1, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "permission denied")) TOOL_LOG(self->r);
	/* debugfs is root's */
	ASSERT_EQ(0, run_tool(self->r, true, "stats", NULL));
	ASSERT_EQ(1, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "permission denied")) TOOL_LOG(self->r);
	/* and root can, so the refusal above was about the user */
	ASSERT_EQ(0, run_tool(self->r, false, "attach", pid, NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(0, strncmp(self->r->out, "asid ", 5)) TOOL_LOG(self->r);
}

/* A process of nobody's own, dumpable, that pauses until killed. */
static pid_t nobody_target_start(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (drop_to_nobody() || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
			_exit(1);
		for (;;)
			pause();
	}
	return pid;
}

/*
 * With allow_user=1 (load time: the module is reloaded, then the defaults
 * restored) nobody opens the device: it may attach to its own process,
 * and the refusal for root's names the capability.
 */
TEST_F_TIMEOUT(tool, nobody_with_allow_user, 60)
{
	SHPT_RETURN_IF_SKIPPED();
	static struct tool_run other, own;
	char pid[16], own_pid[16];
	int reload, back, ro = -1, rw = -1;
	pid_t nb;

	if (!getenv("SHPT_KO"))
		SKIP(return, "SHPT_KO (the path of shpt.ko) is not set");
	ASSERT_EQ(0, target_start(&self->t));
	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	nb = nobody_target_start();
	ASSERT_LT(0, nb);
	snprintf(own_pid, sizeof(own_pid), "%d", nb);

	reload = shpt_reload("allow_user=1");
	/* No assertion until the defaults are back. */
	if (!reload) {
		ro = run_tool(&other, true, "attach", pid, NULL);
		rw = run_tool(&own, true, "attach", own_pid, NULL);
	}
	back = shpt_reload("");
	kill(nb, SIGKILL);
	waitpid(nb, NULL, 0);
	ASSERT_EQ(0, reload) TH_LOG("insmod allow_user=1: %s", strerror(-reload));
	ASSERT_EQ(0, back) TH_LOG("insmod: %s", strerror(-back));

	ASSERT_EQ(0, ro);
	ASSERT_EQ(1, other.status) TOOL_LOG(&other);
	ASSERT_EQ(0UL, other.out_len) TOOL_LOG(&other);
	ASSERT_NE(NULL, strstr(other.err, "permission denied")) TOOL_LOG(&other);
	ASSERT_NE(NULL, strstr(other.err, "CAP_SYS_PTRACE")) TOOL_LOG(&other);
	ASSERT_EQ(0, rw);
	ASSERT_EQ(0, own.status) TOOL_LOG(&own);
	ASSERT_EQ(0, strncmp(own.out, "asid ", 5)) TOOL_LOG(&own);
}

TEST_F(cli, unknown_command_and_bad_usage_fail)
{
	SHPT_RETURN_IF_SKIPPED();

	ASSERT_EQ(0, run_tool(self->r, false, "frobnicate", NULL));
	ASSERT_EQ(2, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(0UL, self->r->out_len) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "unknown command 'frobnicate'"))
		TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "usage: shptctl")) TOOL_LOG(self->r);

	ASSERT_EQ(0, run_tool(self->r, false, NULL));
	ASSERT_EQ(2, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "usage: shptctl")) TOOL_LOG(self->r);

	ASSERT_EQ(0, run_tool(self->r, false, "stats", "--bogus", NULL));
	ASSERT_EQ(2, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(0UL, self->r->out_len) TOOL_LOG(self->r);
	ASSERT_EQ(0, run_tool(self->r, false, "lookup", "1", NULL));
	ASSERT_EQ(2, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(0, run_tool(self->r, false, "lookup", "1", "0xzz", NULL));
	ASSERT_EQ(2, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "bad address")) TOOL_LOG(self->r);
	ASSERT_EQ(0, run_tool(self->r, false, "run", NULL));
	ASSERT_EQ(2, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "run: need a command")) TOOL_LOG(self->r);
	/* every usage error says what is wrong */
	ASSERT_EQ(0, run_tool(self->r, false, "verify", NULL));
	ASSERT_EQ(2, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "verify: need exactly one PID"))
		TOOL_LOG(self->r);
	ASSERT_EQ(0, run_tool(self->r, false, "attach", NULL));
	ASSERT_EQ(2, self->r->status) TOOL_LOG(self->r);
	ASSERT_NE(NULL, strstr(self->r->err, "attach: need exactly one PID"))
		TOOL_LOG(self->r);
}

TEST_F(cli, help_on_every_command)
{
	SHPT_RETURN_IF_SKIPPED();
	static const char *const cmds[] = {
		"attach", "detach", "lookup", "stats", "hist", "watch",
		"verify", "run", NULL,
	};
	char want[64];

	ASSERT_EQ(0, run_tool(self->r, false, "--help", NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
	ASSERT_EQ(0, strncmp(self->r->out, "usage: shptctl", 14)) TOOL_LOG(self->r);
	for (int i = 0; cmds[i]; i++) {
		snprintf(want, sizeof(want), "\n  %s ", cmds[i]);
		EXPECT_NE(NULL, strstr(self->r->out, want)) TH_LOG("%s not listed", cmds[i]);
	}
	for (int i = 0; cmds[i]; i++) {
		for (int h = 0; h < 2; h++) {
			ASSERT_EQ(0, run_tool(self->r, false, (char *)cmds[i],
					      h ? "-h" : "--help", NULL));
			ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
			ASSERT_EQ(0UL, self->r->err_len) TOOL_LOG(self->r);
			snprintf(want, sizeof(want), "usage: shptctl %s", cmds[i]);
			ASSERT_EQ(0, strncmp(self->r->out, want, strlen(want)))
				TOOL_LOG(self->r);
			/* a description follows the synopsis */
			ASSERT_NE(NULL, strstr(self->r->out, "\n\n")) TOOL_LOG(self->r);
			ASSERT_LE(3, count_lines(self->r->out)) TOOL_LOG(self->r);
		}
	}
}

/* ---- module not loaded: reloads the module, so it runs last ------------ */

TEST_F_TIMEOUT(tool, module_not_loaded, 60)
{
	SHPT_RETURN_IF_SKIPPED();
	static struct tool_run lk, st;
	const char *ko = getenv("SHPT_KO");
	char pid[16], a0[32];
	int ret, rl, rs, reload;

	if (!ko || access(ko, R_OK))
		SKIP(return, "SHPT_KO (the path of shpt.ko) is not set");
	ASSERT_EQ(0, target_start(&self->t));
	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	hex(a0, sizeof(a0), self->t.base);

	ret = shpt_rmmod();
	ASSERT_EQ(0, ret) TH_LOG("rmmod: %s", strerror(-ret));
	/* No assertion until the module is back. */
	rl = run_tool(&lk, false, "lookup", pid, a0, NULL);
	rs = run_tool(&st, false, "stats", NULL);
	reload = shpt_insmod(ko, "");
	ASSERT_EQ(0, reload) TH_LOG("insmod: %s", strerror(-reload));

	ASSERT_EQ(0, rl);
	ASSERT_EQ(1, lk.status) TOOL_LOG(&lk);
	ASSERT_NE(NULL, strstr(lk.err, "module not loaded")) TOOL_LOG(&lk);
	ASSERT_EQ(0, rs);
	ASSERT_EQ(1, st.status) TOOL_LOG(&st);
	ASSERT_NE(NULL, strstr(st.err, "module not loaded")) TOOL_LOG(&st);

	/* Back to work: the reloaded module answers. */
	ASSERT_EQ(0, run_tool(self->r, false, "lookup", pid, a0, NULL));
	ASSERT_EQ(0, self->r->status) TOOL_LOG(self->r);
}

SHPT_HARNESS_MAIN
