// SPDX-License-Identifier: GPL-2.0
/*
 * shptctl - control and inspect the shpt shadow hashed page table.
 *
 * The control path is /dev/shpt (include/uapi/linux/shpt.h); the
 * measurements come from /sys/kernel/debug/shpt/.  A mirror lives as long
 * as the file descriptor that attached it, so every subcommand that
 * attaches keeps its fd open for as long as the mirror is wanted.
 * See Documentation/shptctl.rst.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/shpt.h>

#define SHPT_DEV	"/dev/shpt"
#define SHPT_DBG	"/sys/kernel/debug/shpt"
#define SHPT_PAGE	4096ULL
#define SHPT_USER_TOP	(1ULL << 56)	/* above any user address */

#define MAX_STATS	96
#define MAX_ROWS	1100
#define PASS_CAP	65536		/* addresses looked up per pass, at most */

static const char *prog = "shptctl";
static const char *dbg_dir = SHPT_DBG;
static volatile sig_atomic_t stop_requested;

/* ---------------------------------------------------------------- errors */

static void warnx_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One clear sentence per errno a user can cause. */
static const char *shpt_strerror(int err)
{
	switch (err) {
	case ENOENT:
		return "not found";
	case EPERM:
	case EACCES:
		return "permission denied: need CAP_SYS_PTRACE (or shpt.ko loaded with allow_user=1, and a dumpable process of your own uid)";
	case ESRCH:
		return "no such process (or it is exiting)";
	case EEXIST:
		return "that process is already mirrored (one mirror per mm)";
	case EINVAL:
		return "invalid argument (a kernel thread, a bad address, or an ABI mismatch)";
	case ENOSPC:
		return "out of ASIDs: reload the module";
	case ENOMEM:
		return "out of memory";
	case ENOTTY:
		return "ioctl not supported by this shpt.ko (ABI mismatch)";
	default:
		return strerror(err);
	}
}

static int open_dev(void)
{
	int fd = open(SHPT_DEV, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		warnx_("%s: module not loaded: insmod shpt.ko", SHPT_DEV);
	else if (errno == EACCES || errno == EPERM)
		warnx_("%s: permission denied: run as root (or load shpt.ko allow_user=1)",
		       SHPT_DEV);
	else
		warnx_("%s: %s", SHPT_DEV, strerror(errno));
	return -1;
}

static FILE *open_dbg(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dbg_dir, name);
	f = fopen(path, "re");
	if (f)
		return f;
	if (errno == ENOENT) {
		if (access(SHPT_DEV, F_OK) != 0)
			warnx_("%s: module not loaded: insmod shpt.ko", path);
		else
			warnx_("%s: debugfs not mounted: mount -t debugfs none /sys/kernel/debug",
			       path);
	} else if (errno == EACCES || errno == EPERM) {
		warnx_("%s: permission denied: debugfs needs root", path);
	} else {
		warnx_("%s: %s", path, strerror(errno));
	}
	return NULL;
}

/* ----------------------------------------------------------- parsing */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || end == s || *end) ? -1 : 0;
}

static int parse_pid(const char *s, pid_t *pid)
{
	uint64_t v;

	if (parse_u64(s, &v) || v == 0 || v > INT32_MAX) {
		warnx_("bad pid '%s'", s);
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

/* True when argv holds --help or -h; every subcommand answers it. */
static bool want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------- stats */

struct stats {
	int n;
	char name[MAX_STATS][40];
	uint64_t val[MAX_STATS];
};

static int stats_read(struct stats *s)
{
	FILE *f = open_dbg("stats");
	char line[256];

	if (!f)
		return -1;
	s->n = 0;
	while (fgets(line, sizeof(line), f) && s->n < MAX_STATS) {
		if (sscanf(line, "%39s %" SCNu64, s->name[s->n], &s->val[s->n]) == 2)
			s->n++;
	}
	fclose(f);
	return 0;
}

static uint64_t stat_get(const struct stats *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return s->val[i];
	return 0;
}

/* Values that are levels, not counters: a delta makes no sense. */
static bool stat_is_gauge(const char *name)
{
	static const char *const gauges[] = {
		"entries", "buckets", "load_x1000", "bytes_in_use", "mirrors",
		"max_probes", "probes_per_lookup_x1000", NULL,
	};

	for (int i = 0; gauges[i]; i++)
		if (!strcmp(name, gauges[i]))
			return true;
	return false;
}

static uint64_t stat_delta(const struct stats *a, const struct stats *b,
			   const char *name)
{
	uint64_t x = stat_get(a, name), y = stat_get(b, name);

	if (stat_is_gauge(name))
		return y;
	return y >= x ? y - x : y;	/* a reset in between: show since reset */
}

static void stats_print(const struct stats *s, bool json)
{
	if (json) {
		printf("{");
		for (int i = 0; i < s->n; i++)
			printf("%s\n  \"%s\": %" PRIu64, i ? "," : "", s->name[i],
			       s->val[i]);
		printf("\n}\n");
		return;
	}
	for (int i = 0; i < s->n; i++)
		printf("%-26s %" PRIu64 "\n", s->name[i], s->val[i]);
}

/* -------------------------------------------------------------- chains */

struct chains {
	uint64_t n, buckets;
	char alpha[64], chi2[64], max_len[64];
	unsigned int df;
	int rows;			/* rows[] includes the tail row */
	uint64_t len[MAX_ROWS];		/* the tail row holds its lower bound */
	uint64_t count[MAX_ROWS];
	double expected[MAX_ROWS];
	bool has_tail;
};

static int chains_read(struct chains *c)
{
	FILE *f = open_dbg("chains");
	char line[256], key[32], val[64];

	if (!f)
		return -1;
	memset(c, 0, sizeof(*c));
	strcpy(c->alpha, "0");
	strcpy(c->chi2, "0");
	strcpy(c->max_len, "0");
	while (fgets(line, sizeof(line), f)) {
		uint64_t l, cnt;
		double e;

		if (line[0] == '#') {
			if (sscanf(line, "# %31s %63s", key, val) != 2)
				continue;
			if (!strcmp(key, "n"))
				parse_u64(val, &c->n);
			else if (!strcmp(key, "B"))
				parse_u64(val, &c->buckets);
			else if (!strcmp(key, "alpha"))
				snprintf(c->alpha, sizeof(c->alpha), "%s", val);
			else if (!strcmp(key, "max_len"))
				snprintf(c->max_len, sizeof(c->max_len), "%s", val);
			continue;
		}
		if (sscanf(line, "chi2 %63s df %u", c->chi2, &c->df) == 2)
			continue;
		if (c->rows >= MAX_ROWS)
			continue;
		if (sscanf(line, ">=%" SCNu64 " %" SCNu64 " %lf", &l, &cnt, &e) == 3)
			c->has_tail = true;
		else if (sscanf(line, "%" SCNu64 " %" SCNu64 " %lf", &l, &cnt, &e) != 3)
			continue;
		c->len[c->rows] = l;
		c->count[c->rows] = cnt;
		c->expected[c->rows] = e;
		c->rows++;
	}
	fclose(f);
	return 0;
}

/* bpftrace hist() bins: [0], [1], [2, 4), [4, 8), ... */
static int hist_bin(uint64_t len)
{
	int b = 0;

	if (len < 2)
		return (int)len;
	while (len >> (b + 1))
		b++;
	return b + 1;
}

static void bin_label(int b, bool open_end, char *buf, size_t sz)
{
	uint64_t lo, hi;

	if (b < 2 && !open_end) {
		snprintf(buf, sz, "[%d]", b);
		return;
	}
	lo = b < 2 ? (uint64_t)b : 1ULL << (b - 1);
	hi = b < 2 ? (uint64_t)b + 1 : 1ULL << b;
	if (open_end)
		snprintf(buf, sz, "[%" PRIu64 ", ...)", lo);
	else
		snprintf(buf, sz, "[%" PRIu64 ", %" PRIu64 ")", lo, hi);
}

#define NBINS 66
#define BAR 40

static void hist_print(const struct chains *c, bool json, const char *indent)
{
	uint64_t cnt[NBINS] = { 0 }, max = 0;
	double exp[NBINS] = { 0 };
	int last = 0, tail_bin = -1;

	if (json) {
		printf("{\"n\": %" PRIu64 ", \"buckets\": %" PRIu64
		       ", \"alpha\": %s, \"max_len\": \"%s\", \"chi2\": %s"
		       ", \"df\": %u, \"rows\": [",
		       c->n, c->buckets, c->alpha, c->max_len, c->chi2, c->df);
		for (int i = 0; i < c->rows; i++)
			printf("%s{\"len\": %" PRIu64 ", \"count\": %" PRIu64
			       ", \"expected\": %.3f%s}", i ? ", " : "",
			       c->len[i], c->count[i], c->expected[i],
			       (c->has_tail && i == c->rows - 1) ?
			       ", \"at_least\": true" : "");
		printf("]}");
		return;
	}
	for (int i = 0; i < c->rows; i++) {
		int b = hist_bin(c->len[i]);

		if (b >= NBINS)
			b = NBINS - 1;
		cnt[b] += c->count[i];
		exp[b] += c->expected[i];
		if (c->has_tail && i == c->rows - 1) {
			if (c->count[i])
				tail_bin = b;
		}
		if (c->count[i] || c->expected[i] >= 0.5)
			last = b > last ? b : last;
	}
	for (int b = 0; b <= last; b++)
		max = cnt[b] > max ? cnt[b] : max;
	printf("%schains: n %" PRIu64 ", B %" PRIu64 ", alpha %s, max_len %s, chi2 %s, df %u\n",
	       indent, c->n, c->buckets, c->alpha, c->max_len, c->chi2, c->df);
	printf("%s%-14s %8s  %-*s  %10s\n", indent, "len", "buckets", BAR + 2, "",
	       "poisson");
	for (int b = 0; b <= last; b++) {
		char label[48], bar[BAR + 1];
		int w = max ? (int)((cnt[b] * BAR + max - 1) / max) : 0;

		/* Empty, unexpected bins between two populated ones: one "...". */
		if (!cnt[b] && exp[b] < 0.05 && b > 0 && b < last) {
			if (cnt[b - 1] || exp[b - 1] >= 0.05)
				printf("%s...\n", indent);
			continue;
		}

		bin_label(b, b == tail_bin && b == last, label, sizeof(label));
		memset(bar, '@', w);
		memset(bar + w, ' ', BAR - w);
		bar[BAR] = 0;
		printf("%s%-14s %8" PRIu64 " |%s| %10.1f\n", indent, label, cnt[b],
		       bar, exp[b]);
	}
}

/* --------------------------------------------------------------- asids */

struct asid_row {
	uint64_t asid, entries, fills, inval;
	int pid;
	char comm[32], state[16];
	bool found;
};

static int asid_read(uint64_t asid, struct asid_row *r)
{
	FILE *f = open_dbg("asids");
	char line[256];

	memset(r, 0, sizeof(*r));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct asid_row t = { 0 };

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%" SCNu64 " %d %31s %" SCNu64 " %" SCNu64
			   " %" SCNu64 " %15s", &t.asid, &t.pid, t.comm,
			   &t.entries, &t.fills, &t.inval, t.state) == 7 &&
		    t.asid == asid) {
			*r = t;
			r->found = true;
		}
	}
	fclose(f);
	return 0;
}

/* ------------------------------------------------------------- ioctls */

static int do_attach(int fd, pid_t pid, bool populate, uint64_t *asid)
{
	struct shpt_attach a = {
		.size = sizeof(a),
		.flags = populate ? SHPT_ATTACH_POPULATE : 0,
		.pid = pid,
	};

	if (ioctl(fd, SHPT_IOC_ATTACH, &a)) {
		int err = errno;

		warnx_("attach %d: %s", pid, shpt_strerror(err));
		return -err;
	}
	*asid = a.asid;
	return 0;
}

static int do_verify(int fd, uint64_t asid, struct shpt_range_op *op)
{
	memset(op, 0, sizeof(*op));
	op->size = sizeof(*op);
	op->asid = asid;
	return ioctl(fd, SHPT_IOC_VERIFY, op) ? -errno : 0;
}

static const char *status_name(unsigned int st)
{
	static const char *const names[] = { "none", "hit", "fill", "fault" };

	return st < 4 ? names[st] : "?";
}

static void flags_str(uint32_t f, char *buf)
{
	static const char letters[] = "vwrxasc";
	int i;

	for (i = 0; i < 7; i++)
		buf[i] = (f & (1U << i)) ? letters[i] : '-';
	buf[i] = 0;
}

/* ------------------------------------------------------------ commands */

static int usage_main(FILE *out)
{
	fprintf(out,
		"usage: shptctl [--debugfs DIR] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  attach PID [--populate] [--hold]   mirror PID, print its ASID\n"
		"  detach ASID                        stop a mirror held by 'attach --hold'\n"
		"  lookup PID [--fault|--nofill] [--json] ADDR...\n"
		"  stats [--json]                     counters from debugfs\n"
		"  hist [--json]                      chain-length histogram vs Poisson\n"
		"  frames [--json] [-n MAX]           frames mapped by several (asid, vpn)\n"
		"  watch [-i SEC] [-n COUNT]          counters as deltas per second\n"
		"  verify PID                         attach, populate, verify\n"
		"  run [-f] [--populate] [--json] [-i MS] -- CMD [ARGS...]\n"
		"                                     mirror CMD (-f: and its children) from\n"
		"                                     the first instruction\n"
		"\n"
		"'shptctl COMMAND --help' describes each command; see shptctl(1).\n");
	return out == stdout ? 0 : 2;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Handle SIGINT, SIGTERM and SIGHUP with @sa. */
static void catch_signals_with(const struct sigaction *sa)
{
	sigaction(SIGINT, sa, NULL);
	sigaction(SIGTERM, sa, NULL);
	sigaction(SIGHUP, sa, NULL);
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	catch_signals_with(&sa);
}

/*
 * run: SIGINT, SIGTERM and SIGHUP do not kill shptctl, which would lose
 * the report (and, with -f, take the tree down through EXITKILL).  One
 * sent by the terminal (si_code SI_KERNEL) reached CMD's process group
 * already; one sent to shptctl alone (kill(1), SI_USER) is passed on to
 * CMD (with -f, to every live process of the tree) by the run loop.
 * Either way the report comes when CMD exits.
 */
static volatile sig_atomic_t run_fwd_sig;

static void run_on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_code != SI_KERNEL)
		run_fwd_sig = sig;
}

static void run_catch_signals(void)
{
	struct sigaction sa = { .sa_sigaction = run_on_signal,
				.sa_flags = SA_SIGINFO };

	catch_signals_with(&sa);
}

/* The signal to pass on to CMD, or 0; clears it. */
static int run_take_signal(void)
{
	int sig = run_fwd_sig;

	run_fwd_sig = 0;
	return sig;
}

static void hold_path(uint64_t asid, char *buf, size_t sz)
{
	const char *dir = getenv("SHPT_RUNDIR");

	snprintf(buf, sz, "%s/shptctl-hold.%" PRIu64, dir ? dir : "/tmp", asid);
}

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "populate", no_argument, NULL, 'p' },
		{ "hold", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	bool populate = false, hold = false;
	char path[256];
	uint64_t asid;
	pid_t pid;
	int fd, c;

	if (want_help(argc, argv)) {
		printf("usage: shptctl attach PID [--populate] [--hold]\n\n"
		       "Mirror PID and print its ASID.  A mirror belongs to the file\n"
		       "descriptor that attached it: without --hold it is detached as\n"
		       "soon as shptctl exits, which is only useful to test permissions\n"
		       "and errors.  With --hold, shptctl keeps the fd open until\n"
		       "Ctrl-C, SIGTERM, 'shptctl detach ASID' or the target's exit;\n"
		       "meanwhile debugfs shows the mirror.\n"
		       "  --populate  snapshot every present page now (else lazy)\n"
		       "  --hold      keep the mirror until interrupted\n");
		return 0;
	}
	while ((c = getopt_long(argc, argv, "pH", opts, NULL)) != -1) {
		if (c == 'p')
			populate = true;
		else if (c == 'H')
			hold = true;
		else
			return 2;
	}
	if (optind != argc - 1) {
		warnx_("attach: need exactly one PID");
		return 2;
	}
	if (parse_pid(argv[optind], &pid))
		return 2;
	fd = open_dev();
	if (fd < 0)
		return 1;
	if (do_attach(fd, pid, populate, &asid)) {
		close(fd);
		return 1;
	}
	printf("asid %" PRIu64 "\n", asid);
	fflush(stdout);
	if (!hold) {
		close(fd);
		return 0;
	}
	hold_path(asid, path, sizeof(path));
	{
		FILE *f = fopen(path, "we");

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	catch_signals();
	fprintf(stderr, "%s: holding asid %" PRIu64 " for pid %d; Ctrl-C to detach\n",
		prog, asid, pid);
	while (!stop_requested && (kill(pid, 0) == 0 || errno == EPERM))
		sleep(1);
	{
		struct shpt_detach d = { .size = sizeof(d), .asid = asid };

		/* The target may be gone already: its mirror died with it. */
		if (ioctl(fd, SHPT_IOC_DETACH, &d) && errno != ENOENT &&
		    errno != ESRCH)
			warnx_("detach %" PRIu64 ": %s", asid, shpt_strerror(errno));
	}
	unlink(path);
	close(fd);
	fprintf(stderr, "%s: asid %" PRIu64 " detached\n", prog, asid);
	return 0;
}

static int cmd_detach(int argc, char **argv)
{
	char path[256];
	uint64_t asid;
	FILE *f;
	int holder = 0;

	if (want_help(argc, argv)) {
		printf("usage: shptctl detach ASID\n\n"
		       "Mirrors belong to the file descriptor that attached them, and\n"
		       "another process cannot detach them through its own fd.  detach\n"
		       "therefore asks the 'shptctl attach --hold' process holding ASID\n"
		       "to detach it and exit (it finds it through\n"
		       "$SHPT_RUNDIR/shptctl-hold.ASID, default /tmp).\n");
		return 0;
	}
	if (argc != 2 || parse_u64(argv[1], &asid) || !asid) {
		warnx_("detach: need exactly one ASID");
		return 2;
	}
	hold_path(asid, path, sizeof(path));
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%d", &holder) != 1)
			holder = 0;
		fclose(f);
	}
	if (holder <= 0 || kill(holder, SIGTERM)) {
		warnx_("asid %" PRIu64 " is not held by 'shptctl attach --hold'; a mirror is detached when the fd that attached it is closed",
		       asid);
		return 1;
	}
	for (int i = 0; i < 50 && kill(holder, 0) == 0; i++)
		usleep(100000);
	printf("asid %" PRIu64 " detached (holder pid %d)\n", asid, holder);
	return 0;
}

static int cmd_lookup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fault", no_argument, NULL, 'f' },
		{ "nofill", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct shpt_lookup_result *res;
	struct shpt_lookup lk = { .size = sizeof(lk) };
	uint64_t *addrs, asid;
	bool json = false;
	int fd, c, n, rc = 0;
	pid_t pid;

	if (want_help(argc, argv)) {
		printf("usage: shptctl lookup PID [--fault|--nofill] [--json] ADDR...\n\n"
		       "Attach to PID (lazily), translate each address (rounded down to\n"
		       "its page) and print status (hit, fill, fault, none), pfn (0 unless\n"
		       "CAP_SYS_ADMIN), flags (v=valid w=write r=read x=exec a=anon\n"
		       "s=shared c=cow) and order.  The mirror is detached on exit, so\n"
		       "the first lookup of a page is a fill, the second a hit.\n"
		       "  --fault   fault missing pages in (HMM_PFN_REQ_FAULT)\n"
		       "  --nofill  a miss stays a miss\n");
		return 0;
	}
	while ((c = getopt_long(argc, argv, "fNj", opts, NULL)) != -1) {
		if (c == 'f')
			lk.flags |= SHPT_LOOKUP_FAULT;
		else if (c == 'N')
			lk.flags |= SHPT_LOOKUP_NOFILL;
		else if (c == 'j')
			json = true;
		else
			return 2;
	}
	n = argc - optind - 1;
	if (n < 1 || n > SHPT_LOOKUP_MAX) {
		warnx_("lookup: need PID and 1..%d addresses", SHPT_LOOKUP_MAX);
		return 2;
	}
	if (parse_pid(argv[optind], &pid))
		return 2;
	addrs = calloc(n, sizeof(*addrs));
	res = calloc(n, sizeof(*res));
	if (!addrs || !res)
		return 1;
	for (int i = 0; i < n; i++) {
		if (parse_u64(argv[optind + 1 + i], &addrs[i])) {
			warnx_("bad address '%s'", argv[optind + 1 + i]);
			return 2;
		}
		addrs[i] &= ~(SHPT_PAGE - 1);
	}
	fd = open_dev();
	if (fd < 0)
		return 1;
	if (do_attach(fd, pid, false, &asid))
		return 1;
	lk.asid = asid;
	lk.addrs = (uintptr_t)addrs;
	lk.results = (uintptr_t)res;
	lk.count = n;
	if (ioctl(fd, SHPT_IOC_LOOKUP, &lk)) {
		warnx_("lookup: %s", shpt_strerror(errno));
		close(fd);
		return 1;
	}
	if (json)
		printf("{\"pid\": %d, \"asid\": %" PRIu64 ", \"results\": [", pid, asid);
	else
		printf("%-18s %-6s %12s %-8s %s\n", "addr", "status", "pfn", "flags",
		       "order");
	for (int i = 0; i < n; i++) {
		char fl[8];

		flags_str(res[i].flags, fl);
		if (json)
			printf("%s\n  {\"addr\": %" PRIu64 ", \"status\": \"%s\", \"pfn\": %"
			       PRIu64 ", \"flags\": %u, \"order\": %u}", i ? "," : "",
			       addrs[i], status_name(res[i].status),
			       (uint64_t)res[i].pfn, res[i].flags, res[i].order);
		else
			printf("0x%016" PRIx64 " %-6s %12" PRIu64 " %-8s %u\n", addrs[i],
			       status_name(res[i].status), (uint64_t)res[i].pfn, fl,
			       res[i].order);
	}
	if (json)
		printf("\n]}\n");
	close(fd);
	free(addrs);
	free(res);
	return rc;
}

static int cmd_stats(int argc, char **argv)
{
	struct stats s;
	bool json = false;

	if (want_help(argc, argv)) {
		printf("usage: shptctl stats [--json]\n\n"
		       "Print %s/stats: counters summed over all CPUs.\n", SHPT_DBG);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json")) {
			warnx_("stats: unknown argument '%s'", argv[i]);
			return 2;
		}
		json = true;
	}
	if (stats_read(&s))
		return 1;
	stats_print(&s, json);
	return 0;
}

static int cmd_hist(int argc, char **argv)
{
	static struct chains c;
	bool json = false;

	if (want_help(argc, argv)) {
		printf("usage: shptctl hist [--json]\n\n"
		       "Draw the chain-length histogram of %s/chains in the style of\n"
		       "bpftrace's hist(): power-of-two bins, the bucket count, a bar,\n"
		       "and the count Poisson(alpha) expects for the same n and B.\n"
		       "--json prints every length (no binning).\n", SHPT_DBG);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json")) {
			warnx_("hist: unknown argument '%s'", argv[i]);
			return 2;
		}
		json = true;
	}
	if (chains_read(&c))
		return 1;
	hist_print(&c, json, "");
	if (json)
		printf("\n");
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_watch(int argc, char **argv)
{
	static const char *const cols[] = {
		"lookups", "hits", "misses", "fills", "inserts", "removes",
		"inval_pages", "rekeys", NULL,
	};
	static struct stats prev, cur;
	double interval = 1, t0, t1;
	long count = -1, row = 0;
	int c;

	if (want_help(argc, argv)) {
		printf("usage: shptctl watch [-i SEC] [-n COUNT]\n\n"
		       "Print the main counters as deltas per second every SEC seconds\n"
		       "(default 1), COUNT times (default: until Ctrl-C), like vmstat.\n"
		       "entries and buckets are levels, not rates.\n");
		return 0;
	}
	while ((c = getopt(argc, argv, "i:n:")) != -1) {
		if (c == 'i')
			interval = atof(optarg);
		else if (c == 'n')
			count = atol(optarg);
		else
			return 2;
	}
	if (interval <= 0 || optind != argc) {
		warnx_("watch: bad arguments");
		return 2;
	}
	catch_signals();
	if (stats_read(&prev))
		return 1;
	t0 = now_s();
	while (!stop_requested && count != 0) {
		usleep((useconds_t)(interval * 1e6));
		if (stop_requested || stats_read(&cur))
			break;
		t1 = now_s();
		if (row++ % 20 == 0) {
			for (int i = 0; cols[i]; i++)
				printf("%12s", cols[i]);
			printf("%10s%10s\n", "entries", "buckets");
		}
		for (int i = 0; cols[i]; i++)
			printf("%12.0f", stat_delta(&prev, &cur, cols[i]) / (t1 - t0));
		printf("%10" PRIu64 "%10" PRIu64 "\n", stat_get(&cur, "entries"),
		       stat_get(&cur, "buckets"));
		fflush(stdout);
		prev = cur;
		t0 = t1;
		if (count > 0)
			count--;
	}
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct shpt_range_op op;
	uint64_t asid;
	pid_t pid;
	int fd, err;

	if (want_help(argc, argv)) {
		printf("usage: shptctl verify PID\n\n"
		       "Attach to PID, populate, and compare every shadow entry with a\n"
		       "fresh snapshot of the real page tables.  ASIDs belong to the\n"
		       "fd that attached them, so verify takes a PID rather than an\n"
		       "ASID.  Exit status 1 when any entry is stale (a bug in shpt).\n");
		return 0;
	}
	if (argc != 2) {
		warnx_("verify: need exactly one PID");
		return 2;
	}
	if (parse_pid(argv[1], &pid))
		return 2;
	fd = open_dev();
	if (fd < 0)
		return 1;
	if (do_attach(fd, pid, true, &asid))
		return 1;
	err = do_verify(fd, asid, &op);
	close(fd);
	if (err) {
		warnx_("verify: %s", shpt_strerror(-err));
		return 1;
	}
	printf("verify pid %d asid %" PRIu64 ": %s (checked %llu, stale %llu, missing %llu, retries %llu)\n",
	       pid, asid, op.stale ? "STALE" : "OK",
	       (unsigned long long)op.checked, (unsigned long long)op.stale,
	       (unsigned long long)op.missing, (unsigned long long)op.retries);
	return op.stale ? 1 : 0;
}

/* -------------------------------------------------------------- frames */

#define FRAME_PAIRS	4	/* (asid, vpn) pairs debugfs prints per frame */

struct frame_row {
	uint64_t pfn, pages, count;
	char cause[16];
	int npairs;
	uint64_t asid[FRAME_PAIRS], vpn[FRAME_PAIRS];
	unsigned int order[FRAME_PAIRS];
};

static const char *const frame_keys[] = {
	"frames_shared", "pages", "mappings", "cow", "shmem", "file", "ksm",
	"zero", "other", "entries", "truncated", NULL,
};
#define FRAME_NKEYS	11

struct frames_data {
	uint64_t sum[FRAME_NKEYS];	/* frame_keys order */
	size_t n;
	struct frame_row *rows;
};

/* "pfn 0x.. pages N count N cause C: asid:0xvpn[:order]..." */
static int frame_parse(char *line, struct frame_row *r)
{
	char *tok, *save;
	int off;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "pfn %" SCNx64 " pages %" SCNu64 " count %" SCNu64
		   " cause %15[a-z]:%n", &r->pfn, &r->pages, &r->count, r->cause,
		   &off) != 4)
		return -1;
	for (tok = strtok_r(line + off, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (r->npairs == FRAME_PAIRS)
			break;
		r->order[r->npairs] = 0;
		if (sscanf(tok, "%" SCNu64 ":%" SCNx64 ":%u", &r->asid[r->npairs],
			   &r->vpn[r->npairs], &r->order[r->npairs]) < 2)
			return -1;
		r->npairs++;
	}
	return 0;
}

/* The summary line: "name value" pairs in frame_keys order. */
static int frames_summary_parse(char *line, struct frames_data *d)
{
	char *tok, *save, *name = NULL;
	int k;

	for (tok = strtok_r(line, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (!name) {
			name = tok;
			continue;
		}
		for (k = 0; frame_keys[k]; k++)
			if (!strcmp(name, frame_keys[k]))
				parse_u64(tok, &d->sum[k]);
		name = NULL;
	}
	return 0;
}

static int frames_read(struct frames_data *d)
{
	FILE *f = open_dbg("frames");
	char line[1024];
	size_t cap = 0;

	memset(d, 0, sizeof(*d));
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f) || strncmp(line, "frames_shared ", 14)) {
		warnx_("%s/frames: unexpected format", dbg_dir);
		fclose(f);
		return -1;
	}
	frames_summary_parse(line, d);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (d->n == cap) {
			struct frame_row *nr;

			cap = cap ? cap * 2 : 1024;
			nr = realloc(d->rows, cap * sizeof(*nr));
			if (!nr) {
				warnx_("frames: out of memory");
				fclose(f);
				return -1;
			}
			d->rows = nr;
		}
		if (frame_parse(line, &d->rows[d->n]) == 0)
			d->n++;
	}
	fclose(f);
	return 0;
}

/* Most mappings first, then by pfn. */
static int frame_cmp(const void *a, const void *b)
{
	const struct frame_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static void frames_print_json(const struct frames_data *d, size_t shown)
{
	printf("{\"summary\": {");
	for (int k = 0; frame_keys[k]; k++)
		printf("%s\"%s\": %" PRIu64, k ? ", " : "", frame_keys[k],
		       d->sum[k]);
	printf("},\n \"shown\": %zu, \"frames\": [", shown);
	for (size_t i = 0; i < shown; i++) {
		const struct frame_row *r = &d->rows[i];

		printf("%s\n  {\"pfn\": %" PRIu64 ", \"pages\": %" PRIu64
		       ", \"count\": %" PRIu64 ", \"cause\": \"%s\", \"mappings\": [",
		       i ? "," : "", r->pfn, r->pages, r->count, r->cause);
		for (int j = 0; j < r->npairs; j++)
			printf("%s{\"asid\": %" PRIu64 ", \"vpn\": %" PRIu64
			       ", \"order\": %u}", j ? ", " : "", r->asid[j],
			       r->vpn[j], r->order[j]);
		printf("]}");
	}
	printf("\n]}\n");
}

static void frames_print_text(const struct frames_data *d, size_t shown)
{
	printf("shared frames %" PRIu64 " (%" PRIu64 " pages), mappings %" PRIu64
	       ", table entries %" PRIu64 "%s\n", d->sum[0], d->sum[1], d->sum[2],
	       d->sum[9], d->sum[10] ? " (TRUNCATED: over the snapshot's cap)" : "");
	printf("by cause: cow %" PRIu64 ", shmem %" PRIu64 ", file %" PRIu64
	       ", ksm %" PRIu64 ", zero %" PRIu64 ", other %" PRIu64 "\n",
	       d->sum[3], d->sum[4], d->sum[5], d->sum[6], d->sum[7], d->sum[8]);
	if (!shown)
		return;
	printf("%-14s %6s %6s %-6s %s\n", "pfn", "pages", "maps", "cause",
	       "mapped by asid:address (the first 4)");
	for (size_t i = 0; i < shown; i++) {
		const struct frame_row *r = &d->rows[i];

		printf("0x%-12" PRIx64 " %6" PRIu64 " %6" PRIu64 " %-6s", r->pfn,
		       r->pages, r->count, r->cause);
		for (int j = 0; j < r->npairs; j++) {
			printf(" %" PRIu64 ":0x%" PRIx64, r->asid[j],
			       (uint64_t)(r->vpn[j] * SHPT_PAGE));
			if (r->order[j])
				printf("/%u", r->order[j]);
		}
		printf("%s\n", r->count > (uint64_t)r->npairs ? " ..." : "");
	}
	if (shown < d->n)
		printf("(%zu more shared frames; -n to show more)\n", d->n - shown);
}

static int cmd_frames(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct frames_data d;
	uint64_t max = 20;
	bool json = false;
	size_t shown;
	int c;

	if (want_help(argc, argv)) {
		printf("usage: shptctl frames [--json] [-n MAX]\n\n"
		       "Show the page frames that more than one (asid, vpn) of the table\n"
		       "maps, from %s/frames (root with CAP_SYS_ADMIN): a\n"
		       "summary by cause (cow: anonymous, shared since fork; shmem;\n"
		       "file; ksm; zero: the zero page; other), then the MAX frames with\n"
		       "the most mappings (default 20, 0 for all), each with its first\n"
		       "four mappings as asid:address[/order].\n"
		       "  --json  the summary and the same frames as one JSON object\n",
		       SHPT_DBG);
		return 0;
	}
	while ((c = getopt_long(argc, argv, "jn:", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'n') {
			if (parse_u64(optarg, &max)) {
				warnx_("frames: bad -n '%s'", optarg);
				return 2;
			}
		} else {
			return 2;
		}
	}
	if (optind != argc) {
		warnx_("frames: unknown argument '%s'", argv[optind]);
		return 2;
	}
	if (frames_read(&d))
		return 1;
	qsort(d.rows, d.n, sizeof(*d.rows), frame_cmp);
	shown = max && max < d.n ? (size_t)max : d.n;
	if (json)
		frames_print_json(&d, shown);
	else
		frames_print_text(&d, shown);
	free(d.rows);
	return 0;
}

/* ------------------------------------------------------------------ run */

struct run_state {
	int fd;
	pid_t pid;
	uint64_t asid;
	uint64_t *addrs;
	struct shpt_lookup_result *res;
	unsigned long passes, looked_up, errors;
	bool verified;
	struct shpt_range_op ver;
	struct asid_row row;
	struct chains chains, chains_tmp;
	bool have_chains;
	/* run -f: called between lookup batches, so tracees never wait long */
	void (*poll)(struct run_state *st, void *ctx);
	void *poll_ctx;
};

/* Look up up to @n pages from @start; false when the mirror is gone. */
static bool run_lookup_range(struct run_state *st, uint64_t asid,
			     uint64_t start, uint64_t n)
{
	while (n) {
		struct shpt_lookup lk = { .size = sizeof(lk), .asid = asid };
		uint32_t k = n > SHPT_LOOKUP_MAX ? SHPT_LOOKUP_MAX : (uint32_t)n;

		for (uint32_t i = 0; i < k; i++)
			st->addrs[i] = start + i * SHPT_PAGE;
		lk.addrs = (uintptr_t)st->addrs;
		lk.results = (uintptr_t)st->res;
		lk.count = k;
		if (ioctl(st->fd, SHPT_IOC_LOOKUP, &lk)) {
			st->errors++;
			/* A dead mirror: the target has exited. */
			return errno != ESRCH && errno != ENOENT;
		}
		st->looked_up += k;
		if (st->poll)
			st->poll(st, st->poll_ctx);
		start += k * SHPT_PAGE;
		n -= k;
	}
	return true;
}

/*
 * Look up the pages @pid maps (at most @budget) in mirror @asid.
 * Return: 1, 0 when the mirror is gone, -1 when @pid has no maps (gone).
 */
static int run_lookup_maps(struct run_state *st, pid_t pid, uint64_t asid,
			   uint64_t budget)
{
	char path[64], line[512];
	bool alive = true;
	uint64_t lo, hi;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (alive && budget && fgets(line, sizeof(line), f)) {
		uint64_t n;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) != 2)
			continue;
		/* [vvar] is VM_PFNMAP, [vsyscall] is a kernel address. */
		if (hi > SHPT_USER_TOP || strstr(line, "[vvar]") ||
		    strstr(line, "[vsyscall]"))
			continue;
		n = (hi - lo) / SHPT_PAGE;
		if (n > budget)
			n = budget;
		budget -= n;
		alive = run_lookup_range(st, asid, lo, n);
	}
	fclose(f);
	return alive;
}

/* True when debugfs shows mirror @asid live (not dead, not exiting). */
static bool run_mirror_live(uint64_t asid, struct asid_row *r)
{
	return !asid_read(asid, r) && r->found && strcmp(r->state, "dead") &&
	       strcmp(r->state, "exiting");
}

static void run_pass(struct run_state *st)
{
	struct shpt_range_op op;
	struct asid_row r;
	int alive;

	alive = run_lookup_maps(st, st->pid, st->asid, PASS_CAP);
	if (alive < 0)
		return;
	st->passes++;
	/*
	 * Keep this pass's verdict and histogram only if the mirror was still
	 * live after they were taken: a dead mirror (or one whose process is
	 * exiting) verifies as empty.
	 */
	if (!alive || do_verify(st->fd, st->asid, &op) ||
	    chains_read(&st->chains_tmp) || !run_mirror_live(st->asid, &r))
		return;
	st->ver = op;
	st->verified = true;
	st->row = r;
	memcpy(&st->chains, &st->chains_tmp, sizeof(st->chains));
	st->have_chains = true;
}

static const char *const inval_names[] = {
	"unmap", "clear", "protection_vma", "protection_page", "soft_dirty",
	"release", "migrate", "exclusive", NULL,
};

/*
 * The members of the "stats_delta" object (already opened) and a whole
 * "inval" member: every counter's change from @s0 to @s1.
 */
static void json_deltas(const struct stats *s0, const struct stats *s1)
{
	char name[48];

	for (int i = 0; i < s1->n; i++)
		printf("%s\"%s\": %" PRIu64, i ? ", " : "", s1->name[i],
		       stat_delta(s0, s1, s1->name[i]));
	printf("},\n \"inval\": {");
	for (int i = 0; inval_names[i]; i++) {
		snprintf(name, sizeof(name), "inval_%s", inval_names[i]);
		printf("%s\"%s\": %" PRIu64, i ? ", " : "", inval_names[i],
		       stat_delta(s0, s1, name));
	}
}

static void run_report_text(const char *cmd, struct run_state *st,
			    const struct stats *s0, const struct stats *s1,
			    int status, double secs)
{
#define D(x) stat_delta(s0, s1, x)
	char name[48];

	printf("== %s: pid %d asid %" PRIu64 ", exit %d, %.1f s, %lu lookup passes\n",
	       cmd, st->pid, st->asid, status, secs, st->passes);
	printf("  lookups %" PRIu64 " = hits %" PRIu64 " + misses %" PRIu64
	       " (fills %" PRIu64 ", faults %" PRIu64 ", not_present %" PRIu64 ")\n",
	       D("lookups"), D("hits"), D("misses"), D("fills"), D("faults"),
	       D("not_present"));
	printf("  table: probes/lookup %.3f, inserts %" PRIu64 ", removes %" PRIu64
	       ", grows %" PRIu64 ", shrinks %" PRIu64 ", rekeys %" PRIu64
	       ", long_chains %" PRIu64 "\n",
	       D("table_lookups") ? (double)D("probes") / D("table_lookups") : 0.0,
	       D("inserts"), D("removes"), D("grows"), D("shrinks"), D("rekeys"),
	       D("long_chains"));
	printf("  inval:");
	for (int i = 0; inval_names[i]; i++) {
		snprintf(name, sizeof(name), "inval_%s", inval_names[i]);
		printf(" %s %" PRIu64, inval_names[i], D(name));
	}
	printf("; pages %" PRIu64 "\n", D("inval_pages"));
	if (st->verified)
		printf("  verify (last pass): %s, checked %llu, stale %llu, missing %llu; mirror entries %" PRIu64 "\n",
		       st->ver.stale ? "STALE" : "OK",
		       (unsigned long long)st->ver.checked,
		       (unsigned long long)st->ver.stale,
		       (unsigned long long)st->ver.missing, st->row.entries);
	else
		printf("  verify: not run (the command exited before the first pass)\n");
	if (st->have_chains)
		hist_print(&st->chains, false, "  ");
#undef D
}

static void run_report_json(const char *cmd, struct run_state *st,
			    const struct stats *s0, const struct stats *s1,
			    int status, double secs)
{
	printf("{\"command\": \"");
	for (const char *p = cmd; *p; p++)
		printf((*p == '"' || *p == '\\') ? "\\%c" :
		       ((unsigned char)*p < 0x20 ? "?" : "%c"), *p);
	printf("\", \"pid\": %d, \"asid\": %" PRIu64 ", \"exit_status\": %d"
	       ", \"seconds\": %.3f, \"passes\": %lu, \"addresses\": %lu"
	       ", \"lookup_errors\": %lu,\n \"stats_delta\": {",
	       st->pid, st->asid, status, secs, st->passes, st->looked_up,
	       st->errors);
	json_deltas(s0, s1);
	printf("},\n \"verify\": ");
	if (st->verified)
		printf("{\"ok\": %s, \"checked\": %llu, \"stale\": %llu, \"missing\": %llu}",
		       st->ver.stale ? "false" : "true",
		       (unsigned long long)st->ver.checked,
		       (unsigned long long)st->ver.stale,
		       (unsigned long long)st->ver.missing);
	else
		printf("null");
	printf(",\n \"mirror\": {\"entries\": %" PRIu64 ", \"fills\": %" PRIu64
	       ", \"invalidations\": %" PRIu64 "},\n \"hist\": ",
	       st->row.entries, st->row.fills, st->row.inval);
	if (st->have_chains)
		hist_print(&st->chains, true, "");
	else
		printf("null");
	printf("}\n");
}

/* Start @argv traced: it stops at the exec SIGTRAP, before its first instruction. */
static pid_t run_spawn(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		warnx_("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s: %s\n", prog, argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
		warnx_("%s did not start", argv[0]);
		return -1;
	}
	return pid;
}

/* ------------------------------------------------------------- run -f */

/*
 * run -f follows the tree of processes CMD starts.  Every member is a
 * tracee of shptctl (PTRACE_SEIZE on CMD, then auto-attach through the
 * fork, vfork and clone events); each new address space is attached while
 * its first task sits in its first ptrace stop, before it runs a user
 * instruction.  A record is one address space a member ran in: a fork
 * opens one, an exec closes the old image's and opens the new one's (same
 * pid, new ASID).  Live tasks are keyed by tid; a tid that exits leaves
 * the table, so a reused pid starts a new record.
 */

#define TREE_OPTS	(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
			 PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | \
			 PTRACE_O_TRACEEXIT | PTRACE_O_TRACESECCOMP | \
			 PTRACE_O_EXITKILL)
#define TREE_PASS_MIN	1024	/* pages per member per pass, at least */

struct tree_proc {
	pid_t pid, ppid;
	uint64_t asid;		/* 0: not mirrored (@err says why) */
	uint64_t prev_asid;	/* how == "exec": the image it replaced */
	pid_t shares_with;	/* the mm is @asid of this pid's record */
	bool owns;		/* @asid was attached for this record */
	bool live;
	int err;		/* ATTACH's errno, 0 */
	const char *how;	/* spawn, fork, vfork, clone, exec */
	const char *end;	/* exit, signal, exec, lost; NULL while live */
	int code;		/* exit status, or 128 + signal */
	bool verified;
	const char *at;		/* where the verdict comes from: exit, pass */
	struct shpt_range_op ver;
	unsigned long threads, passes;
	char comm[32];
};

struct tree_task {
	pid_t tid;
	int proc;		/* its record, -1 before CMD's first exec */
	bool announced;		/* its creator's event was seen */
	bool stopped;		/* its first stop was seen, resume pending */
	int first_sig;		/* the signal of that first stop */
};

struct tree {
	struct tree_proc *procs;
	struct tree_task *tasks;
	size_t nprocs, cap_procs, ntasks, cap_tasks;
	pid_t root;
	int root_code;
	bool root_exited, populate;
	unsigned long events, threads;
};

static void *tree_grow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * sz);
	if (!p) {
		warnx_("run: out of memory");
		exit(1);	/* EXITKILL takes the tree with us */
	}
	return p;
}

static int tree_task_find(struct tree *t, pid_t tid)
{
	for (size_t i = 0; i < t->ntasks; i++)
		if (t->tasks[i].tid == tid)
			return (int)i;
	return -1;
}

static int tree_task_add(struct tree *t, pid_t tid)
{
	t->tasks = tree_grow(t->tasks, &t->cap_tasks, t->ntasks,
			     sizeof(*t->tasks));
	t->tasks[t->ntasks] = (struct tree_task){ .tid = tid, .proc = -1 };
	return (int)t->ntasks++;
}

static void tree_task_del(struct tree *t, int i)
{
	t->tasks[i] = t->tasks[--t->ntasks];
}

static void tree_read_comm(pid_t pid, char *buf, size_t sz)
{
	char path[64], tmp[32];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (f && fgets(tmp, sizeof(tmp), f)) {
		tmp[strcspn(tmp, "\n")] = 0;
		snprintf(buf, sz, "%s", tmp);
	} else if (!buf[0]) {
		snprintf(buf, sz, "?");	/* keep what was read before */
	}
	if (f)
		fclose(f);
}

/* The Tgid of @tid from /proc, or 0. */
static pid_t tree_tgid(pid_t tid)
{
	char path[64], line[128];
	pid_t tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/*
 * A new record for @pid, attached now (the caller holds its first task in
 * a ptrace stop).  An mm that is mirrored already (vfork, CLONE_VM) is
 * @creator's: the record shares that ASID.  Any other failure is kept in
 * the record and the member runs unmirrored.
 */
static int tree_proc_new(struct run_state *st, struct tree *t, pid_t pid,
			 pid_t ppid, const char *how, int creator)
{
	struct shpt_attach a = {
		.size = sizeof(a), .pid = pid,
		.flags = t->populate ? SHPT_ATTACH_POPULATE : 0,
	};
	struct tree_proc *p;

	t->procs = tree_grow(t->procs, &t->cap_procs, t->nprocs,
			     sizeof(*t->procs));
	p = &t->procs[t->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->how = how;
	p->live = true;
	tree_read_comm(pid, p->comm, sizeof(p->comm));
	if (!ioctl(st->fd, SHPT_IOC_ATTACH, &a)) {
		p->asid = a.asid;
		p->owns = true;
	} else if (errno == EEXIST && creator >= 0 &&
		   t->procs[creator].asid) {
		p->asid = t->procs[creator].asid;
		p->shares_with = t->procs[creator].shares_with ?
				 t->procs[creator].shares_with :
				 t->procs[creator].pid;
	} else {
		p->err = errno;
	}
	return (int)t->nprocs++;
}

static void tree_verify(struct run_state *st, struct tree_proc *p,
			const char *at)
{
	struct shpt_range_op op;

	if (!p->asid || do_verify(st->fd, p->asid, &op))
		return;
	p->ver = op;
	p->verified = true;
	p->at = at;
}

/*
 * Record @i is over (@end): give its mirror to a live record that shares
 * the mm, or detach it, so that a dead mirror does not count against
 * max_user_mirrors for the rest of the run.
 */
static void tree_proc_end(struct run_state *st, struct tree *t, int i,
			  const char *end, int code)
{
	struct tree_proc *p = &t->procs[i];
	struct shpt_detach d = { .size = sizeof(d), .asid = p->asid };

	if (!p->live)
		return;
	p->live = false;
	p->end = end;
	p->code = code;
	if (!p->owns)
		return;
	for (size_t j = 0; j < t->nprocs; j++) {
		struct tree_proc *q = &t->procs[j];

		if (q->live && !q->owns && q->asid == p->asid) {
			q->owns = true;
			q->shares_with = 0;
			return;
		}
	}
	ioctl(st->fd, SHPT_IOC_DETACH, &d);
}

static void tree_resume(pid_t tid, int sig, bool group_stop)
{
	if (group_stop)
		ptrace(PTRACE_LISTEN, tid, NULL, NULL);
	else
		ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig);
}

static bool tree_is_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* PTRACE_EVENT_FORK, _VFORK or _CLONE in @parent (index of a task). */
static void tree_on_new(struct run_state *st, struct tree *t, int parent,
			int ev)
{
	static const char *const how[] = {
		[PTRACE_EVENT_FORK] = "fork", [PTRACE_EVENT_VFORK] = "vfork",
		[PTRACE_EVENT_CLONE] = "clone",
	};
	int creator = t->tasks[parent].proc, c;
	unsigned long msg = 0;
	pid_t tid, tgid;

	if (ptrace(PTRACE_GETEVENTMSG, t->tasks[parent].tid, NULL, &msg))
		return;
	tid = (pid_t)msg;
	c = tree_task_find(t, tid);
	if (c < 0)
		c = tree_task_add(t, tid);
	t->tasks[c].announced = true;
	tgid = tree_tgid(tid);
	if (ev == PTRACE_EVENT_CLONE && tgid && tgid != tid) {
		/* A thread: same mm, same record. */
		t->tasks[c].proc = creator;
		t->threads++;
		if (creator >= 0)
			t->procs[creator].threads++;
	} else {
		t->tasks[c].proc = tree_proc_new(st, t, tid,
						 creator >= 0 ? t->procs[creator].pid : 0,
						 how[ev], creator);
	}
	/* Reported its first stop before this event: it may go now. */
	if (t->tasks[c].stopped) {
		t->tasks[c].stopped = false;
		tree_resume(tid, 0, tree_is_stop_sig(t->tasks[c].first_sig));
	}
}

/* PTRACE_EVENT_EXEC in task @i: the old image's record ends, a new one starts. */
static void tree_on_exec(struct run_state *st, struct tree *t, int i)
{
	pid_t tid = t->tasks[i].tid;
	unsigned long former = 0;
	int old = t->tasks[i].proc;
	pid_t ppid;

	/* A non-leader that execs takes the leader's pid. */
	if (!ptrace(PTRACE_GETEVENTMSG, tid, NULL, &former) &&
	    (pid_t)former != tid) {
		int j = tree_task_find(t, (pid_t)former);

		if (j >= 0 && j != i) {
			tree_task_del(t, j);
			i = tree_task_find(t, tid);
		}
	}
	ppid = old >= 0 ? t->procs[old].ppid : getpid();
	if (old >= 0)
		tree_proc_end(st, t, old, "exec", 0);
	t->tasks[i].proc = tree_proc_new(st, t, tid, ppid,
					 old >= 0 ? "exec" : "spawn", -1);
	if (old >= 0)
		t->procs[t->tasks[i].proc].prev_asid = t->procs[old].asid;
}

/* @tid is gone (@status from waitpid). */
static void tree_on_gone(struct run_state *st, struct tree *t, pid_t tid,
			 int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) :
		   128 + WTERMSIG(status);
	int i = tree_task_find(t, tid), p;

	if (tid == t->root) {
		t->root_code = code;
		t->root_exited = true;
	}
	if (i < 0)
		return;
	p = t->tasks[i].proc;
	if (p >= 0 && t->procs[p].pid == tid)
		tree_proc_end(st, t, p, WIFEXITED(status) ? "exit" : "signal",
			      code);
	tree_task_del(t, i);
}

/* One waitpid() report of a tracee. */
static void tree_event(struct run_state *st, struct tree *t, pid_t tid,
		       int status)
{
	int sig = WSTOPSIG(status), ev = status >> 16, i;

	t->events++;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		tree_on_gone(st, t, tid, status);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	i = tree_task_find(t, tid);
	if (i < 0) {
		/* A new task, before its creator's event: hold it. */
		i = tree_task_add(t, tid);
		t->tasks[i].stopped = true;
		t->tasks[i].first_sig = sig;
		return;
	}
	switch (ev) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		tree_on_new(st, t, i, ev);
		tree_resume(tid, 0, false);
		return;
	case PTRACE_EVENT_EXEC:
		tree_on_exec(st, t, i);
		tree_resume(tid, 0, false);
		return;
	case PTRACE_EVENT_SECCOMP: {
		int p = t->tasks[i].proc;

		/* execve() entry (tree_exec_filter): the old mm's last look. */
		if (p >= 0)
			tree_verify(st, &t->procs[p], "exec");
		tree_resume(tid, 0, false);
		return;
	}
	case PTRACE_EVENT_EXIT: {
		int p = t->tasks[i].proc;

		/* The mm is still there: the last word on this image. */
		if (p >= 0 && t->procs[p].pid == tid) {
			tree_verify(st, &t->procs[p], "exit");
			/* It may have renamed itself (PR_SET_NAME). */
			tree_read_comm(tid, t->procs[p].comm,
				       sizeof(t->procs[p].comm));
		}
		tree_resume(tid, 0, false);
		return;
	}
	case PTRACE_EVENT_STOP:
		/* The first stop of a new task, a group-stop, or a re-trap. */
		if (!t->tasks[i].announced && tid != t->root) {
			t->tasks[i].stopped = true;
			t->tasks[i].first_sig = sig;
			return;
		}
		tree_resume(tid, 0, tree_is_stop_sig(sig));
		return;
	default:
		/* Signal-delivery-stop: deliver the signal unchanged. */
		tree_resume(tid, sig, false);
	}
}

/* Handle every report that is waiting: no tracee waits for a pass. */
static void tree_drain(struct run_state *st, void *ctx)
{
	struct tree *t = ctx;
	int status;
	pid_t tid;

	while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
		tree_event(st, t, tid, status);
}

/*
 * Lookups and a verify over every live mirrored member.  Reports are
 * handled between lookup batches (tree_drain()), which may end records
 * and add new ones: members are addressed by index, never by pointer.
 */
static void tree_pass(struct run_state *st, struct tree *t)
{
	uint64_t budget;
	size_t n = 0;

	for (size_t i = 0; i < t->nprocs; i++)
		n += t->procs[i].live && t->procs[i].owns;
	budget = n ? PASS_CAP / n : PASS_CAP;
	if (budget < TREE_PASS_MIN)
		budget = TREE_PASS_MIN;
	for (size_t i = 0; i < t->nprocs; i++) {
		struct tree_proc *p = &t->procs[i];
		struct shpt_range_op op;
		struct asid_row r;
		int alive;

		/* A verdict taken at exit is final; a sharer is its owner's. */
		if (!p->live || !p->owns || (p->verified && !strcmp(p->at, "exit")))
			continue;
		alive = run_lookup_maps(st, p->pid, p->asid, budget);
		p = &t->procs[i];	/* tree_drain() may have moved it */
		if (alive < 0)
			continue;
		p->passes++;
		if (alive && p->live && !do_verify(st->fd, p->asid, &op) &&
		    run_mirror_live(p->asid, &r) &&
		    !(p->verified && !strcmp(p->at, "exit"))) {
			p->ver = op;
			p->verified = true;
			p->at = "pass";
		}
	}
	st->passes++;
	if (!chains_read(&st->chains_tmp)) {
		memcpy(&st->chains, &st->chains_tmp, sizeof(st->chains));
		st->have_chains = true;
	}
}

/*
 * Make every execve() and execveat() of the tree stop at its entry
 * (PTRACE_EVENT_SECCOMP), while the old image is still there to verify.
 * Without CAP_SYS_ADMIN a filter needs no_new_privs, which changes
 * nothing more for a tree whose tracer lacks CAP_SYS_PTRACE: set-id bits
 * are ignored under such a tracer anyway.  Best effort: without the
 * filter, an image that execs before the first pass is not verified.
 */
static void tree_exec_filter(void)
{
#ifdef __x86_64__
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
	};
	struct sock_fprog prog = {
		.len = sizeof(f) / sizeof(f[0]), .filter = f,
	};

	if (!prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return;
	if (errno == EACCES && !prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#endif
}

/*
 * Start @argv seized: it stops itself before exec, is seized with the
 * tree options, and is continued; its exec is then PTRACE_EVENT_EXEC.
 */
static pid_t tree_spawn(char **argv, const sigset_t *mask)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		warnx_("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, mask, NULL);
		tree_exec_filter();
		raise(SIGSTOP);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s: %s\n", prog, argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status) ||
	    ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)TREE_OPTS)) {
		warnx_("%s did not start: %s", argv[0], strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	kill(pid, SIGCONT);
	return pid;
}

/* Follow the tree until no tracee is left; passes every @interval_ms. */
static void tree_follow(struct run_state *st, struct tree *t,
			long interval_ms, const sigset_t *chld)
{
	double next = now_s() + interval_ms / 1e3;

	for (;;) {
		struct timespec ts;
		int status, sig;
		double left;
		pid_t tid;

		sig = run_take_signal();
		for (size_t i = 0; sig && i < t->nprocs; i++)
			if (t->procs[i].live)
				kill(t->procs[i].pid, sig);
		if (sig && !t->nprocs)
			kill(t->root, sig);	/* before CMD's exec */
		while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
			tree_event(st, t, tid, status);
		if (tid < 0 && errno == ECHILD)
			break;
		left = next - now_s();
		if (left <= 0) {
			tree_pass(st, t);
			next = now_s() + interval_ms / 1e3;
			continue;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		sigtimedwait(chld, NULL, &ts);
	}
	/* Nothing is traced any more: what is still open was lost to us. */
	for (size_t i = 0; i < t->nprocs; i++)
		tree_proc_end(st, t, (int)i, "lost", 0);
}

static const char *tree_errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "E?";
}

static void tree_totals(const struct tree *t, size_t *mirrored, size_t *shared,
			size_t *skipped, size_t *ok, size_t *stale,
			size_t *unverified)
{
	*mirrored = *shared = *skipped = *ok = *stale = *unverified = 0;
	for (size_t i = 0; i < t->nprocs; i++) {
		const struct tree_proc *p = &t->procs[i];

		if (p->err)
			(*skipped)++;
		else if (p->shares_with)
			(*shared)++;
		else
			(*mirrored)++;
		if (!p->verified)
			(*unverified)++;
		else if (p->ver.stale)
			(*stale)++;
		else
			(*ok)++;
	}
}

static void tree_report_text(const char *cmd, struct run_state *st,
			     const struct tree *t, const struct stats *s0,
			     const struct stats *s1, double secs)
{
#define D(x) stat_delta(s0, s1, x)
	size_t mir, sh, sk, ok, stale, unv;
	char name[48];

	tree_totals(t, &mir, &sh, &sk, &ok, &stale, &unv);
	printf("== %s: %zu processes (%zu mirrored, %zu sharing an mm, %zu skipped), %lu threads, exit %d, %.1f s, %lu lookup passes\n",
	       cmd, t->nprocs, mir, sh, sk, t->threads, t->root_code, secs,
	       st->passes);
	printf("  lookups %" PRIu64 " = hits %" PRIu64 " + misses %" PRIu64
	       " (fills %" PRIu64 ", faults %" PRIu64 ", not_present %" PRIu64 ")\n",
	       D("lookups"), D("hits"), D("misses"), D("fills"), D("faults"),
	       D("not_present"));
	printf("  inval:");
	for (int i = 0; inval_names[i]; i++) {
		snprintf(name, sizeof(name), "inval_%s", inval_names[i]);
		printf(" %s %" PRIu64, inval_names[i], D(name));
	}
	printf("; pages %" PRIu64 "\n", D("inval_pages"));
	printf("  verify: %zu OK, %zu STALE, %zu not verified\n", ok, stale, unv);
	for (size_t i = 0; i < t->nprocs; i++) {
		const struct tree_proc *p = &t->procs[i];

		printf("  pid %d ppid %d asid %" PRIu64 " %s %s:", p->pid,
		       p->ppid, p->asid, p->how, p->comm);
		if (p->err)
			printf(" skipped (%s: %s),", tree_errname(p->err),
			       shpt_strerror(p->err));
		else if (p->shares_with)
			printf(" shares the mm of pid %d,", p->shares_with);
		if (!strcmp(p->end, "exec"))
			printf(" exec'd");
		else if (!strcmp(p->end, "lost"))
			printf(" lost");
		else
			printf(" %s %d", p->end, p->code);
		if (p->verified)
			printf(", verify %s (checked %llu, stale %llu, missing %llu, at %s)\n",
			       p->ver.stale ? "STALE" : "OK",
			       (unsigned long long)p->ver.checked,
			       (unsigned long long)p->ver.stale,
			       (unsigned long long)p->ver.missing, p->at);
		else
			printf(", not verified\n");
	}
	if (st->have_chains)
		hist_print(&st->chains, false, "  ");
#undef D
}

static void json_string(const char *s)
{
	putchar('"');
	for (const char *p = s; *p; p++)
		printf((*p == '"' || *p == '\\') ? "\\%c" :
		       ((unsigned char)*p < 0x20 ? "?" : "%c"), *p);
	putchar('"');
}

static void tree_report_json(const char *cmd, struct run_state *st,
			     const struct tree *t, const struct stats *s0,
			     const struct stats *s1, double secs)
{
	size_t mir, sh, sk, ok, stale, unv;

	tree_totals(t, &mir, &sh, &sk, &ok, &stale, &unv);
	printf("{\"command\": ");
	json_string(cmd);
	printf(", \"follow\": true, \"pid\": %d, \"exit_status\": %d"
	       ", \"seconds\": %.3f, \"passes\": %lu, \"addresses\": %lu"
	       ", \"lookup_errors\": %lu, \"ptrace_events\": %lu,\n"
	       " \"totals\": {\"processes\": %zu, \"mirrored\": %zu"
	       ", \"shared\": %zu, \"skipped\": %zu, \"threads\": %lu"
	       ", \"verified_ok\": %zu, \"stale\": %zu, \"not_verified\": %zu},\n"
	       " \"stats_delta\": {",
	       t->root, t->root_code, secs, st->passes, st->looked_up,
	       st->errors, t->events, t->nprocs, mir, sh, sk, t->threads, ok,
	       stale, unv);
	json_deltas(s0, s1);
	printf("},\n \"processes\": [");
	for (size_t i = 0; i < t->nprocs; i++) {
		const struct tree_proc *p = &t->procs[i];

		printf("%s\n  {\"pid\": %d, \"ppid\": %d, \"asid\": %" PRIu64
		       ", \"prev_asid\": %" PRIu64 ", \"how\": \"%s\", \"comm\": ",
		       i ? "," : "", p->pid, p->ppid, p->asid, p->prev_asid,
		       p->how);
		json_string(p->comm);
		printf(", \"shares_with\": %d, \"errno\": %d, \"error\": ",
		       p->shares_with, p->err);
		if (p->err)
			printf("\"%s\"", tree_errname(p->err));
		else
			printf("null");
		printf(", \"end\": \"%s\", \"exit_status\": ", p->end);
		if (!strcmp(p->end, "exit") || !strcmp(p->end, "signal"))
			printf("%d", p->code);
		else
			printf("null");
		printf(", \"threads\": %lu, \"passes\": %lu, \"verify\": ",
		       p->threads, p->passes);
		if (p->verified)
			printf("{\"ok\": %s, \"checked\": %llu, \"stale\": %llu, \"missing\": %llu, \"at\": \"%s\"}}",
			       p->ver.stale ? "false" : "true",
			       (unsigned long long)p->ver.checked,
			       (unsigned long long)p->ver.stale,
			       (unsigned long long)p->ver.missing, p->at);
		else
			printf("null}");
	}
	printf("\n ],\n \"hist\": ");
	if (st->have_chains)
		hist_print(&st->chains, true, "");
	else
		printf("null");
	printf("}\n");
}

/* run -f: CMD and every process it starts.  Returns the exit status. */
static int tree_run(struct run_state *st, char **argv, const char *cmd,
		    bool populate, bool json, long interval_ms)
{
	static struct stats s0, s1;
	static struct tree t;
	sigset_t chld, old;
	int i, stale = 0;
	double t0;

	t.populate = populate;
	st->poll = tree_drain;
	st->poll_ctx = &t;
	if (stats_read(&s0))
		return 1;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	t.root = tree_spawn(argv, &old);
	if (t.root < 0)
		return 1;
	i = tree_task_add(&t, t.root);
	t.tasks[i].announced = true;
	t0 = now_s();
	tree_follow(st, &t, interval_ms, &chld);
	if (!t.nprocs) {
		/* CMD never reached its exec. */
		return t.root_code ? t.root_code : 1;
	}
	if (stats_read(&s1))
		return 1;
	if (json)
		tree_report_json(cmd, st, &t, &s0, &s1, now_s() - t0);
	else
		tree_report_text(cmd, st, &t, &s0, &s1, now_s() - t0);
	for (size_t j = 0; j < t.nprocs; j++)
		stale |= t.procs[j].verified && t.procs[j].ver.stale;
	if (t.root_code)
		return t.root_code;
	return stale ? 1 : 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "populate", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static struct stats s0, s1;
	static struct run_state st;
	bool populate = false, json = false, follow = false;
	int c, status = 0, code, rc;
	long interval_ms = 100;
	char cmd[256] = "";
	double t0;

	if (want_help(argc, argv)) {
		printf("usage: shptctl run [-f] [--populate] [--json] [-i MS] -- CMD [ARGS...]\n\n"
		       "Start CMD stopped (PTRACE_TRACEME: it stops after exec, before\n"
		       "its first instruction), attach to it, let it go, and every MS\n"
		       "milliseconds (default 100) look up all its mapped pages from\n"
		       "/proc/PID/maps (at most %d per pass), verify the mirror and\n"
		       "snapshot the chain histogram.  When CMD exits, print the stats\n"
		       "deltas, invalidations by type, the last verify verdict and the\n"
		       "histogram of the last pass (the mirror dies with the process).\n"
		       "  -f, --follow  mirror every process CMD forks, vforks or\n"
		       "              clones too, each from its first instruction with\n"
		       "              its own ASID (a new one after each exec); verify\n"
		       "              each at its exit and at its execs; one report\n"
		       "              line per process.  CMD and its tree are ptraced\n"
		       "              by shptctl meanwhile (and run under a seccomp\n"
		       "              filter that stops execve for the tracer).\n"
		       "  --populate  snapshot all present pages at attach\n"
		       "  --json      print the report as one JSON object\n"
		       "Ctrl-C reaches CMD (and its tree) from the terminal; SIGINT,\n"
		       "SIGTERM or SIGHUP sent to shptctl alone is passed on to CMD (to\n"
		       "every live process of the tree with -f).  The report comes when\n"
		       "CMD exits.\n"
		       "Exit status: CMD's if non-zero, else 1 when verify found stale\n"
		       "entries (in any process, with -f), else 0.\n", PASS_CAP);
		return 0;
	}
	while ((c = getopt_long(argc, argv, "+pji:f", opts, NULL)) != -1) {
		if (c == 'f')
			follow = true;
		else if (c == 'p')
			populate = true;
		else if (c == 'j')
			json = true;
		else if (c == 'i')
			interval_ms = atol(optarg);
		else
			return 2;
	}
	if (optind >= argc || interval_ms <= 0) {
		warnx_("run: need a command after --");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		const char *a = argv[i], *slash = strrchr(a, '/');
		size_t l = strlen(cmd);

		if (i == optind && slash && !json)
			a = slash + 1;
		snprintf(cmd + l, sizeof(cmd) - l, "%s%s", l ? " " : "", a);
	}
	st.addrs = calloc(SHPT_LOOKUP_MAX, sizeof(*st.addrs));
	st.res = calloc(SHPT_LOOKUP_MAX, sizeof(*st.res));
	if (!st.addrs || !st.res)
		return 1;
	st.fd = open_dev();
	if (st.fd < 0)
		return 1;
	run_catch_signals();
	if (follow)
		return tree_run(&st, argv + optind, cmd, populate, json,
				interval_ms);
	if (stats_read(&s0))
		return 1;
	st.pid = run_spawn(argv + optind);
	if (st.pid < 0)
		return 1;
	rc = do_attach(st.fd, st.pid, populate, &st.asid);
	ptrace(PTRACE_DETACH, st.pid, NULL, NULL);
	if (rc) {
		kill(st.pid, SIGKILL);
		waitpid(st.pid, NULL, 0);
		return 1;
	}
	t0 = now_s();
	while (waitpid(st.pid, &status, WNOHANG) == 0) {
		c = run_take_signal();
		if (c)
			kill(st.pid, c);
		run_pass(&st);
		usleep(interval_ms * 1000);
	}
	if (stats_read(&s1))
		return 1;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (json)
		run_report_json(cmd, &st, &s0, &s1, code, now_s() - t0);
	else
		run_report_text(cmd, &st, &s0, &s1, code, now_s() - t0);
	close(st.fd);
	if (code)
		return code;
	return st.verified && st.ver.stale ? 1 : 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} shpt_cmds[] = {
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "lookup", cmd_lookup },
	{ "stats", cmd_stats },
	{ "hist", cmd_hist },
	{ "frames", cmd_frames },
	{ "watch", cmd_watch },
	{ "verify", cmd_verify },
	{ "run", cmd_run },
};

int main(int argc, char **argv)
{
	const char *env = getenv("SHPT_DEBUGFS");

	if (env)
		dbg_dir = env;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (argc > 1 && !strcmp(argv[1], "--debugfs") && argc > 2) {
		dbg_dir = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return usage_main(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help"))
		return usage_main(stdout);
	for (size_t i = 0; i < sizeof(shpt_cmds) / sizeof(shpt_cmds[0]); i++) {
		if (!strcmp(argv[1], shpt_cmds[i].name)) {
			optind = 1;
			return shpt_cmds[i].fn(argc - 1, argv + 1);
		}
	}
	warnx_("unknown command '%s'", argv[1]);
	return usage_main(stderr);
}
