// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs_test: every file under /sys/kernel/debug/shpt/ parses, and its
 * numbers agree with each other and with what the test did through
 * /dev/shpt:
 *
 *   stats   every line is "name value"; hits + misses == lookups;
 *           misses == fills + faults + not_present + nofill; the deltas match the
 *           lookups this test made
 *   chains  rows sum to buckets, sum(len * count) == entries, alpha == n/B,
 *           max_len is the last counted length, expectations sum to B
 *           and E_0 == B e^-alpha, a chi2 line closes it
 *   asids   lists a live attached process, marks it dead after exit, and
 *           forgets it once detached; its bytes grow with the entries, sum
 *           to the table's bytes_in_use and drop to 0 at exit
 *   config  parses and is self-consistent
 *   reset   writing 1 zeroes the counters, anything else is -EINVAL
 *
 * Needs root and a loaded shpt with debugfs mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/shpt.h>

#include "shpt_harness.h"

#define DBG		"/sys/kernel/debug/shpt/"
#define PAGE		4096UL
#define NPAGES		256	/* touched by the target */
#define NHOLE		16	/* mapped, never touched */
#define MAXSTATS	128
#define MAXROWS		1100

struct stats {
	int n;
	char name[MAXSTATS][48];
	unsigned long long val[MAXSTATS];
};

static int stats_read(struct stats *s)
{
	FILE *f = fopen(DBG "stats", "re");
	char line[256], extra[8];

	if (!f)
		return -errno;
	s->n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (s->n == MAXSTATS)
			return -E2BIG;
		/* Exactly two tokens: a lower-case name and a decimal. */
		if (sscanf(line, "%47[a-z0-9_] %llu %7s", s->name[s->n],
			   &s->val[s->n], extra) != 2 ||
		    line[strlen(line) - 1] != '\n') {
			fprintf(stderr, "# bad stats line: %s", line);
			fclose(f);
			return -EBADMSG;
		}
		s->n++;
	}
	fclose(f);
	return 0;
}

static long long stat_get(const struct stats *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return (long long)s->val[i];
	fprintf(stderr, "# stats: no '%s'\n", name);
	return -1;
}

struct chains {
	unsigned long long n, b, alpha_milli, max_len;
	unsigned long long len[MAXROWS], count[MAXROWS];
	double expected[MAXROWS];
	int rows;
	bool tail, chi2, header_len;
	double chi2_val;
	unsigned int df;
};

static int chains_read(struct chains *c)
{
	FILE *f = fopen(DBG "chains", "re");
	char line[256];
	unsigned int whole, frac;
	int seen = 0;

	if (!f)
		return -errno;
	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long l, cnt;
		double e;

		if (c->chi2) {
			fprintf(stderr, "# chains: line after chi2: %s", line);
			goto bad;
		}
		if (sscanf(line, "# n %llu", &c->n) == 1) {
			seen |= 1;
		} else if (sscanf(line, "# B %llu", &c->b) == 1) {
			seen |= 2;
		} else if (sscanf(line, "# alpha %u.%3u", &whole, &frac) == 2) {
			c->alpha_milli = whole * 1000ULL + frac;
			seen |= 4;
		} else if (sscanf(line, "# max_len %llu", &c->max_len) == 1) {
			seen |= 8;
		} else if (!strcmp(line, "# len count expected\n")) {
			c->header_len = true;
		} else if (line[0] == '#') {
			continue;
		} else if (sscanf(line, "chi2 %lf df %u", &c->chi2_val, &c->df) == 2) {
			c->chi2 = true;
		} else if (c->tail) {
			fprintf(stderr, "# chains: row after the open row: %s", line);
			goto bad;
		} else if (sscanf(line, ">=%llu %llu %lf", &l, &cnt, &e) == 3) {
			c->tail = true;
			goto row;
		} else if (sscanf(line, "%llu %llu %lf", &l, &cnt, &e) == 3) {
			/* Lengths ascend; 0..the Poisson range are all there. */
			if (c->rows ? l <= c->len[c->rows - 1] : l != 0) {
				fprintf(stderr, "# chains: row %d is len %llu\n", c->rows, l);
				goto bad;
			}
			goto row;
		} else {
			fprintf(stderr, "# chains: bad line: %s", line);
			goto bad;
		}
		continue;
row:
		if (c->rows == MAXROWS)
			goto bad;
		c->len[c->rows] = l;
		c->count[c->rows] = cnt;
		c->expected[c->rows] = e;
		c->rows++;
	}
	fclose(f);
	return seen == 15 ? 0 : -EBADMSG;
bad:
	fclose(f);
	return -EBADMSG;
}

/* e^-x by its series; the selftests link no libm. */
static double exp_neg(double x)
{
	double sum = 1, term = 1;

	for (int k = 1; k < 60; k++) {
		term *= -x / k;
		sum += term;
	}
	return sum;
}

/* A process with NPAGES touched pages and NHOLE untouched ones after them. */
static pid_t target_start(unsigned long *base)
{
	unsigned long *shared;
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
		char *m = mmap(NULL, (NPAGES + NHOLE) * PAGE,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		if (m == MAP_FAILED)
			_exit(1);
		madvise(m, (NPAGES + NHOLE) * PAGE, MADV_NOHUGEPAGE);
		for (int i = 0; i < NPAGES; i++)
			m[i * PAGE] = 1;
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
	*base = *shared;
	munmap(shared, PAGE);
	return pid;
}

static void target_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static int do_attach(int fd, pid_t pid, __u64 *asid)
{
	struct shpt_attach a = { .size = sizeof(a), .pid = pid };

	if (ioctl(fd, SHPT_IOC_ATTACH, &a))
		return -errno;
	*asid = a.asid;
	return 0;
}

static int do_detach(int fd, __u64 asid)
{
	struct shpt_detach d = { .size = sizeof(d), .asid = asid };

	return ioctl(fd, SHPT_IOC_DETACH, &d) ? -errno : 0;
}

/* Look up @n pages from @start; counts results by status into @st[4]. */
static int do_lookup(int fd, __u64 asid, unsigned long start, int n,
		     int st[4])
{
	struct shpt_lookup_result res[NPAGES + NHOLE];
	__u64 addrs[NPAGES + NHOLE];
	struct shpt_lookup l = {
		.size = sizeof(l), .asid = asid, .count = n,
		.addrs = (uintptr_t)addrs, .results = (uintptr_t)res,
	};

	for (int i = 0; i < n; i++)
		addrs[i] = start + i * PAGE;
	if (ioctl(fd, SHPT_IOC_LOOKUP, &l))
		return -errno;
	for (int i = 0; i < n; i++)
		if (res[i].status < 4)
			st[res[i].status]++;
	return 0;
}

/* One row of asids. */
struct asid_info {
	int pid;
	char comm[64], state[32];
	unsigned long long entries, bytes, index_bytes;
};

/*
 * The row of @asid in asids: 1 found, 0 not, -errno.  Every row must have
 * exactly the nine columns of the header.
 */
static int asid_get(__u64 asid, struct asid_info *r)
{
	FILE *f = fopen(DBG "asids", "re");
	char line[256];
	int found = 0, first = 1;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, e, fl, inv, b, ib;
		char cm[64], s[32], extra[8];
		int p;

		if (first) {
			first = 0;
			if (strcmp(line, "# asid pid comm entries fills invalidations state bytes index_bytes\n")) {
				fclose(f);
				return -EBADMSG;
			}
			continue;
		}
		if (sscanf(line, "%llu %d %63s %llu %llu %llu %31s %llu %llu %7s",
			   &a, &p, cm, &e, &fl, &inv, s, &b, &ib, extra) != 9) {
			fclose(f);
			return -EBADMSG;
		}
		if (a != asid)
			continue;
		found = 1;
		r->pid = p;
		strcpy(r->comm, cm);
		r->entries = e;
		strcpy(r->state, s);
		r->bytes = b;
		r->index_bytes = ib;
	}
	fclose(f);
	return found;
}

/* The row of @asid in asids: 1 found, 0 not, -errno. */
static int asid_row(__u64 asid, int *pid, char *comm, unsigned long long *entries,
		    char *state)
{
	struct asid_info r;
	int ret = asid_get(asid, &r);

	if (ret == 1) {
		*pid = r.pid;
		strcpy(comm, r.comm);
		*entries = r.entries;
		strcpy(state, r.state);
	}
	return ret;
}

/* Sum of bytes - index_bytes over every row: the ASIDs' share of the table. */
static long long asids_table_bytes(void)
{
	FILE *f = fopen(DBG "asids", "re");
	unsigned long long b, ib, sum = 0;
	char line[256];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' &&
		    sscanf(line, "%*u %*d %*s %*u %*u %*u %*s %llu %llu",
			   &b, &ib) == 2)
			sum += b - ib;
	fclose(f);
	return (long long)sum;
}

FIXTURE(dbg)
{
	int fd;
	pid_t pid;
	unsigned long base;
	__u64 asid;
};

FIXTURE_SETUP(dbg)
{
	self->fd = -1;
	if (access(DBG "stats", R_OK))
		SKIP(return, "no " DBG " (module not loaded or debugfs not mounted)");
	/* The target first: a child that inherits the fd would keep it open. */
	self->fd = -1;
	self->pid = target_start(&self->base);
	ASSERT_LT(0, self->pid);
	self->fd = open("/dev/shpt", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, do_attach(self->fd, self->pid, &self->asid));
}

FIXTURE_TEARDOWN(dbg)
{
	target_stop(self->pid);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dbg, config_parses)
{
	SHPT_RETURN_IF_SKIPPED();
	static const char *const need[] = {
		"version", "hash", "buckets", "min_buckets", "max_buckets",
		"max_load", "min_load", "max_chain", NULL,
	};
	unsigned long long v[8] = { 0 };
	char line[256], name[64], val[64], extra[8];
	int seen = 0;
	FILE *f = fopen(DBG "config", "re");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		ASSERT_EQ(2, sscanf(line, "%63s %63s %7s", name, val, extra)) {
			TH_LOG("bad config line: %s", line);
		}
		for (int i = 0; need[i]; i++) {
			if (strcmp(name, need[i]))
				continue;
			seen |= 1 << i;
			if (i == 1) {
				ASSERT_TRUE(!strcmp(val, "siphash") ||
					    !strcmp(val, "hsiphash") ||
					    !strcmp(val, "modulo"));
			} else if (i > 1) {
				v[i] = strtoull(val, NULL, 10);
			}
		}
	}
	fclose(f);
	ASSERT_EQ(0xff, seen);
	ASSERT_EQ(0ULL, v[2] & (v[2] - 1));	/* buckets: power of two */
	ASSERT_LE(v[3], v[2]);
	ASSERT_LE(v[2], v[4]);
	ASSERT_LT(v[6], v[5]);			/* min_load < max_load */
}

TEST_F(dbg, stats_format)
{
	SHPT_RETURN_IF_SKIPPED();
	static const char *const need[] = {
		"lookups", "hits", "misses", "fills", "faults", "not_present",
		"nofill",
		"table_lookups", "table_hits", "table_misses", "probes",
		"probes_per_lookup_x1000", "max_probes", "restarts", "inserts",
		"replaces", "removes", "inval_unmap", "inval_clear",
		"inval_protection_vma", "inval_protection_page",
		"inval_soft_dirty", "inval_release", "inval_migrate",
		"inval_exclusive", "inval_pages", "grows", "shrinks", "rekeys",
		"rekey_retries",
		"long_chains", "retries", "alloc_fail", "entries", "buckets",
		"load_x1000", "bytes_in_use", "mirrors", NULL,
	};
	struct stats s;

	ASSERT_EQ(0, stats_read(&s));
	for (int i = 0; need[i]; i++)
		ASSERT_LE(0, stat_get(&s, need[i]));
	for (int i = 0; i < s.n; i++)
		for (int j = i + 1; j < s.n; j++)
			ASSERT_NE(0, strcmp(s.name[i], s.name[j]));
	/* This test's own mirror at least. */
	ASSERT_LE(1, stat_get(&s, "mirrors"));
	ASSERT_LT(0, stat_get(&s, "buckets"));
	ASSERT_LT(0, stat_get(&s, "bytes_in_use"));
}

TEST_F(dbg, stats_consistent)
{
	SHPT_RETURN_IF_SKIPPED();
	int st[4] = { 0 };
	struct stats a, b;
	long long d;

	ASSERT_EQ(0, stats_read(&a));
	/* NPAGES misses that fill, NPAGES hits, NHOLE not present. */
	ASSERT_EQ(0, do_lookup(self->fd, self->asid, self->base, NPAGES, st));
	ASSERT_EQ(0, do_lookup(self->fd, self->asid, self->base,
			       NPAGES + NHOLE, st));
	ASSERT_EQ(NPAGES, st[SHPT_LK_HIT]);
	ASSERT_EQ(NPAGES, st[SHPT_LK_FILL]);
	ASSERT_EQ(NHOLE, st[SHPT_LK_NONE]);
	ASSERT_EQ(0, stats_read(&b));

	ASSERT_EQ(stat_get(&b, "lookups"),
		  stat_get(&b, "hits") + stat_get(&b, "misses"));
	ASSERT_EQ(stat_get(&b, "misses"),
		  stat_get(&b, "fills") + stat_get(&b, "faults") +
		  stat_get(&b, "not_present") + stat_get(&b, "nofill"));
	ASSERT_EQ(stat_get(&b, "table_lookups"),
		  stat_get(&b, "table_hits") + stat_get(&b, "table_misses"));
	d = stat_get(&b, "lookups") - stat_get(&a, "lookups");
	ASSERT_EQ(2 * NPAGES + NHOLE, d);
	ASSERT_EQ(NPAGES, stat_get(&b, "hits") - stat_get(&a, "hits"));
	ASSERT_EQ(NPAGES, stat_get(&b, "fills") - stat_get(&a, "fills"));
	ASSERT_EQ(NHOLE, stat_get(&b, "not_present") -
		  stat_get(&a, "not_present"));
	ASSERT_LE(NPAGES, stat_get(&b, "inserts") - stat_get(&a, "inserts"));
	/* Every mirror lookup probes the table at least once. */
	ASSERT_LE(d, stat_get(&b, "table_lookups") -
		  stat_get(&a, "table_lookups"));
	ASSERT_LE(NPAGES, stat_get(&b, "entries"));
	ASSERT_EQ(stat_get(&b, "entries") * 1000 / stat_get(&b, "buckets"),
		  stat_get(&b, "load_x1000"));
	if (stat_get(&b, "table_lookups"))
		ASSERT_EQ(stat_get(&b, "probes") * 1000 /
			  stat_get(&b, "table_lookups"),
			  stat_get(&b, "probes_per_lookup_x1000"));
	ASSERT_LE(1, stat_get(&b, "max_probes"));
}

TEST_F(dbg, chains_consistent)
{
	SHPT_RETURN_IF_SKIPPED();
	static struct chains c;
	int st[4] = { 0 };
	unsigned long long sum_b, sum_n;
	struct stats s1, s2;
	int tries, last_nonzero = 0;
	double sum_e, e0;

	ASSERT_EQ(0, do_lookup(self->fd, self->asid, self->base, NPAGES, st));
	ASSERT_EQ(NPAGES, st[SHPT_LK_FILL] + st[SHPT_LK_HIT]);
	/* A resize may still run from the inserts: wait for a quiet table. */
	for (tries = 0; tries < 50; tries++) {
		ASSERT_EQ(0, stats_read(&s1));
		ASSERT_EQ(0, chains_read(&c));
		ASSERT_EQ(0, stats_read(&s2));
		if (stat_get(&s1, "entries") == stat_get(&s2, "entries") &&
		    stat_get(&s1, "buckets") == stat_get(&s2, "buckets") &&
		    c.b == (unsigned long long)stat_get(&s2, "buckets") &&
		    c.n == (unsigned long long)stat_get(&s2, "entries"))
			break;
		usleep(100000);
	}
	ASSERT_LT(tries, 50) {
		TH_LOG("chains n %llu B %llu never matched stats", c.n, c.b);
	}
	ASSERT_TRUE(c.header_len);
	ASSERT_TRUE(c.chi2);
	ASSERT_TRUE(c.tail);
	ASSERT_LE(2, c.rows);
	ASSERT_LE((unsigned long long)NPAGES, c.n);
	sum_b = 0;
	sum_n = 0;
	sum_e = 0;
	for (int i = 0; i < c.rows; i++) {
		sum_b += c.count[i];
		sum_n += c.len[i] * c.count[i];
		sum_e += c.expected[i];
		if (c.count[i])
			last_nonzero = i;
	}
	/* With alpha <= max_load no chain reaches the open row. */
	ASSERT_EQ(0ULL, c.count[c.rows - 1]);
	ASSERT_EQ(c.b, sum_b);
	ASSERT_EQ(c.n, sum_n);
	/* Expectations sum to B, up to the rounding of each printed row. */
	ASSERT_LT(sum_e - (double)c.b, 0.0005 * c.rows + 1e-9);
	ASSERT_LT((double)c.b - sum_e, 0.0005 * c.rows + 1e-9);
	ASSERT_EQ((c.n * 1000 + c.b / 2) / c.b, c.alpha_milli);
	/* Poisson(alpha) with alpha = n/B: E_0 = B e^-alpha, to 0.001. */
	e0 = c.b * exp_neg((double)c.n / c.b);
	ASSERT_LT(c.expected[0] - e0, 0.0011);
	ASSERT_LT(e0 - c.expected[0], 0.0011);
	/* max_len is the longest counted chain, and rows stop soon after. */
	ASSERT_EQ(c.max_len, c.len[last_nonzero]);
	ASSERT_LE((c.n + c.b - 1) / c.b, c.max_len);
	ASSERT_LE(0, c.chi2_val);
}

TEST_F(dbg, asids_live_dead_detached)
{
	SHPT_RETURN_IF_SKIPPED();
	unsigned long long entries = 0;
	int st[4] = { 0 };
	char comm[64], state[32];
	int pid = 0;

	ASSERT_EQ(0, do_lookup(self->fd, self->asid, self->base, NPAGES, st));
	ASSERT_EQ(1, asid_row(self->asid, &pid, comm, &entries, state));
	ASSERT_EQ(self->pid, pid);
	ASSERT_STREQ("live", state);
	ASSERT_STREQ("debugfs_test", comm);
	ASSERT_LE((unsigned long long)NPAGES, entries);

	/* Exit: the mirror stays until detached, with no entries. */
	target_stop(self->pid);
	self->pid = 0;
	for (int i = 0; i < 50; i++) {
		ASSERT_EQ(1, asid_row(self->asid, &pid, comm, &entries, state));
		if (!strcmp(state, "dead"))
			break;
		usleep(100000);
	}
	ASSERT_STREQ("dead", state);
	ASSERT_EQ(0ULL, entries);

	ASSERT_EQ(0, do_detach(self->fd, self->asid));
	ASSERT_EQ(0, asid_row(self->asid, &pid, comm, &entries, state));
}

/*
 * bytes: an ASID's entries' slab slots, its share of the bucket array and
 * its index.  It grows with the entries, the index is whole xa_nodes, the
 * table part summed over all rows is the table's bytes_in_use (up to the
 * slab-page rounding and the array's header), and a dead mirror costs 0.
 */
TEST_F(dbg, asids_bytes)
{
	SHPT_RETURN_IF_SKIPPED();
	/*
	 * sizeof(struct xa_node) on Debian's 64-bit kernel; a kernel with
	 * CONFIG_BASE_SMALL (the debug kernel) has smaller nodes, so this is
	 * only an upper bound on a node there.
	 */
	const long long node = 576;
	struct asid_info a, b;
	long long used, n, share;
	int st[4] = { 0 };
	struct stats s;

	ASSERT_EQ(0, do_lookup(self->fd, self->asid, self->base, 32, st));
	ASSERT_EQ(1, asid_get(self->asid, &a));
	ASSERT_EQ(0, do_lookup(self->fd, self->asid, self->base, NPAGES, st));
	ASSERT_EQ(1, asid_get(self->asid, &b));
	ASSERT_LE(32ULL, a.entries);
	ASSERT_LE((unsigned long long)NPAGES, b.entries);
	/* At least a 24-byte object per entry, and more for more entries. */
	ASSERT_LE(b.entries * 24 + b.index_bytes, b.bytes);
	ASSERT_LE(a.bytes + (b.entries - a.entries) * 24, b.bytes);
	/* NPAGES contiguous pages: a leaf or two and their parents. */
	ASSERT_LT(0ULL, b.index_bytes);
	ASSERT_EQ(0ULL, b.index_bytes % 64);	/* whole nodes of cache lines */
	ASSERT_GE(16ULL * node, b.index_bytes) {
		TH_LOG("index_bytes %llu for %llu entries", b.index_bytes,
		       b.entries);
	}

	/*
	 * The table resizes in a worker: compare only while the bucket count
	 * is the same before and after reading asids.
	 */
	for (int i = 0; i < 50; i++) {
		long long b0;

		ASSERT_EQ(0, stats_read(&s));
		b0 = stat_get(&s, "buckets");
		share = asids_table_bytes();
		ASSERT_EQ(0, stats_read(&s));
		if (b0 == stat_get(&s, "buckets"))
			break;
		usleep(100000);
	}
	used = stat_get(&s, "bytes_in_use");
	n = stat_get(&s, "entries");
	ASSERT_LT(0, share);
	/* 4096/170 - 24 = 0.094 bytes per entry of slab rounding. */
	ASSERT_GE(share, used - 1024) {
		TH_LOG("asids %lld, bytes_in_use %lld, entries %lld", share,
		       used, n);
	}
	ASSERT_LE(share, used + n / 10 + 1024) {
		TH_LOG("asids %lld, bytes_in_use %lld, entries %lld", share,
		       used, n);
	}

	/* Exit empties the ASID and frees its index. */
	target_stop(self->pid);
	self->pid = 0;
	for (int i = 0; i < 50; i++) {
		ASSERT_EQ(1, asid_get(self->asid, &b));
		if (!strcmp(b.state, "dead"))
			break;
		usleep(100000);
	}
	ASSERT_STREQ("dead", b.state);
	ASSERT_EQ(0ULL, b.entries);
	ASSERT_EQ(0ULL, b.index_bytes);
	ASSERT_EQ(0ULL, b.bytes);
}

TEST_F(dbg, asids_close_forgets)
{
	SHPT_RETURN_IF_SKIPPED();
	unsigned long long entries;
	char comm[64], state[32];
	int pid;

	ASSERT_EQ(1, asid_row(self->asid, &pid, comm, &entries, state));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, asid_row(self->asid, &pid, comm, &entries, state));
}

TEST_F(dbg, reset_zeroes)
{
	SHPT_RETURN_IF_SKIPPED();
	static const char *const zeroed[] = {
		"lookups", "hits", "misses", "fills", "not_present",
		"table_lookups", "probes", "inserts", "max_probes", NULL,
	};
	int st[4] = { 0 };
	struct stats s;
	int fd;

	ASSERT_EQ(0, do_lookup(self->fd, self->asid, self->base, NPAGES, st));
	ASSERT_EQ(0, stats_read(&s));
	ASSERT_LT(0, stat_get(&s, "lookups"));

	fd = open(DBG "reset", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, write(fd, "2", 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(2, write(fd, "1\n", 2));
	close(fd);

	ASSERT_EQ(0, stats_read(&s));
	for (int i = 0; zeroed[i]; i++) {
		ASSERT_EQ(0, stat_get(&s, zeroed[i])) {
			TH_LOG("%s not reset", zeroed[i]);
		}
	}
	/* Levels survive a reset. */
	ASSERT_LE(NPAGES, stat_get(&s, "entries"));
	ASSERT_LE(1, stat_get(&s, "mirrors"));
}

SHPT_HARNESS_MAIN
