// SPDX-License-Identifier: GPL-2.0
/*
 * basic_test: the module loads, exposes /dev/shpt and its debugfs files,
 * rejects bad parameters, and unloads without leaving anything behind.
 *
 * Needs root.  The reload tests need $SHPT_KO, the path of shpt.ko (the
 * test VM sets it); they skip without it.  Every test leaves the module
 * loaded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <linux/shpt.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shpt_harness.h"
#include "shpt_test_util.h"

#define SHPT_SYSFS	"/sys/module/shpt"
#define SHPT_CONFIG	SHPT_DEBUGFS "/config"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"

#define RELOAD_CYCLES		20
#define RELOAD_CYCLES_KMEMLEAK	100
#define RELOAD_PAGES		16U
/* kmemleak reports only objects older than 5 s. */
#define KMEMLEAK_MIN_AGE	6
/* Report lines worth logging from a kmemleak report. */
#define KMEMLEAK_LOG_LINES	200

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int shpt_load(int ko_fd, const char *params)
{
	return syscall(SYS_finit_module, ko_fd, params, 0);
}

static int shpt_unload(void)
{
	return syscall(SYS_delete_module, "shpt", O_NONBLOCK);
}

/* Read a one-line sysfs/debugfs value without its newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ret = -1;

	if (!f)
		return -1;
	if (fgets(buf, len, f)) {
		buf[strcspn(buf, "\n")] = 0;
		ret = 0;
	}
	fclose(f);
	return ret;
}

TEST(module_loaded)
{
	struct stat st;
	int fd;

	ASSERT_TRUE(path_exists(SHPT_SYSFS)) TH_LOG("shpt is not loaded");
	ASSERT_EQ(0, stat(SHPT_DEV, &st)) TH_LOG("%s: %s", SHPT_DEV, strerror(errno));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	fd = open(SHPT_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", SHPT_DEV, strerror(errno));
	/* nonseekable */
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(0, close(fd));
}

TEST(unknown_ioctl_is_enotty)
{
	const unsigned long cmds[] = {
		_IO(SHPT_IOC_MAGIC, 0x00),
		_IOWR(SHPT_IOC_MAGIC, 0xff, struct shpt_attach),
		_IO('x', 1),
		TCGETS,
	};
	unsigned int i;
	int fd;

	fd = open(SHPT_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmds[i], 0)) TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx: %s", cmds[i], strerror(errno));
	}
	close(fd);
}

struct config_value {
	const char *name;
	char value[64];
	bool seen;
};

enum { CFG_VERSION, CFG_HASH, CFG_BUCKETS, CFG_MIN_BUCKETS, CFG_MAX_BUCKETS,
	CFG_MAX_LOAD, CFG_MIN_LOAD, CFG_MAX_CHAIN, CFG_NR };

static unsigned long cfg_num(struct __test_metadata *_metadata,
			     struct config_value *cfg)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(cfg->value, &end, 10);
	EXPECT_TRUE(!errno && end != cfg->value && !*end)
		TH_LOG("config: %s %s is not a number", cfg->name, cfg->value);
	return v;
}

static bool is_pow2(unsigned long v)
{
	return v && !(v & (v - 1));
}

TEST(debugfs_config)
{
	struct config_value cfg[CFG_NR] = {
		[CFG_VERSION] = { .name = "version" },
		[CFG_HASH] = { .name = "hash" },
		[CFG_BUCKETS] = { .name = "buckets" },
		[CFG_MIN_BUCKETS] = { .name = "min_buckets" },
		[CFG_MAX_BUCKETS] = { .name = "max_buckets" },
		[CFG_MAX_LOAD] = { .name = "max_load" },
		[CFG_MIN_LOAD] = { .name = "min_load" },
		[CFG_MAX_CHAIN] = { .name = "max_chain" },
	};
	/* Parameters whose sysfs value config must show unchanged. */
	const int same[] = { CFG_HASH, CFG_MIN_BUCKETS, CFG_MAX_BUCKETS,
			     CFG_MAX_LOAD, CFG_MIN_LOAD, CFG_MAX_CHAIN };
	unsigned long b, minb, maxb, maxl, minl;
	const char *missing = NULL;
	char line[256], name[64], value[64], extra[2], path[128];
	struct stat st;
	unsigned int i, nlines = 0;
	FILE *f;

	ASSERT_EQ(0, stat(SHPT_DEBUGFS, &st))
		TH_LOG("%s: %s (is debugfs mounted?)", SHPT_DEBUGFS, strerror(errno));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	f = fopen(SHPT_CONFIG, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", SHPT_CONFIG, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		nlines++;
		ASSERT_EQ(2, sscanf(line, "%63s %63s %1s", name, value, extra))
			TH_LOG("config line %u is not \"name value\": %s", nlines, line);
		for (i = 0; i < CFG_NR; i++) {
			if (strcmp(name, cfg[i].name))
				continue;
			EXPECT_FALSE(cfg[i].seen) TH_LOG("config: %s twice", name);
			cfg[i].seen = true;
			strcpy(cfg[i].value, value);
		}
	}
	fclose(f);
	for (i = 0; i < CFG_NR && !missing; i++)
		if (!cfg[i].seen)
			missing = cfg[i].name;
	ASSERT_EQ(NULL, missing) TH_LOG("config: no \"%s\" line", missing);

	EXPECT_TRUE(!strcmp(cfg[CFG_HASH].value, "siphash") ||
		    !strcmp(cfg[CFG_HASH].value, "hsiphash") ||
		    !strcmp(cfg[CFG_HASH].value, "modulo"))
		TH_LOG("config: unknown hash %s", cfg[CFG_HASH].value);
	b = cfg_num(_metadata, &cfg[CFG_BUCKETS]);
	minb = cfg_num(_metadata, &cfg[CFG_MIN_BUCKETS]);
	maxb = cfg_num(_metadata, &cfg[CFG_MAX_BUCKETS]);
	maxl = cfg_num(_metadata, &cfg[CFG_MAX_LOAD]);
	minl = cfg_num(_metadata, &cfg[CFG_MIN_LOAD]);
	cfg_num(_metadata, &cfg[CFG_MAX_CHAIN]);
	EXPECT_TRUE(is_pow2(b) && is_pow2(minb) && is_pow2(maxb))
		TH_LOG("bucket counts %lu %lu %lu: not powers of two", b, minb, maxb);
	EXPECT_TRUE(minb <= b && b <= maxb)
		TH_LOG("buckets %lu outside [%lu, %lu]", b, minb, maxb);
	EXPECT_TRUE(maxl >= 1 && 2 * minl < maxl)
		TH_LOG("load bounds min %lu max %lu", minl, maxl);

	for (i = 0; i < ARRAY_SIZE(same); i++) {
		struct config_value *c = &cfg[same[i]];

		snprintf(path, sizeof(path), SHPT_SYSFS "/parameters/%s", c->name);
		ASSERT_EQ(0, read_line(path, value, sizeof(value)))
			TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_STREQ(value, c->value) TH_LOG("config %s vs %s", c->name, path);
	}
}

/*
 * Slab accounting for the reload test, from /proc/slabinfo.  Objects in
 * per-CPU slabs count as active there, so counts are exact only when every
 * cache is in debug mode (boot with slub_debug; the test VM uses
 * slub_debug=F), which keeps objects off per-CPU slabs.
 */
struct slab_count {
	char name[64];
	long active;
	long per_slab;
};

struct slab_snapshot {
	struct slab_count *c;
	int n;
};

static void slab_settle(void)
{
	int fd, i;

	/*
	 * Let deferred frees finish: drop_caches=2 runs the slab shrinkers,
	 * kfree_rcu's included (it batches for up to 5 s otherwise), and
	 * frees unused dentries and inodes; a global membarrier waits for an
	 * RCU grace period, the sleep for the callbacks after it.
	 */
	for (i = 0; i < 3; i++) {
		fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "3", 1) < 0)
				perror("drop_caches");
			close(fd);
		}
		syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
		usleep(100 * 1000);
	}
}

static int slab_snapshot(struct slab_snapshot *s)
{
	char line[512];
	FILE *f;

	slab_settle();
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	s->n = 0;
	s->c = NULL;
	while (fgets(line, sizeof(line), f)) {
		struct slab_count c;
		long total, size;

		if (sscanf(line, "%63s %ld %ld %ld %ld", c.name, &c.active,
			   &total, &size, &c.per_slab) != 5)
			continue;	/* the two header lines */
		s->c = realloc(s->c, (s->n + 1) * sizeof(*s->c));
		if (!s->c)
			break;
		s->c[s->n++] = c;
	}
	fclose(f);
	return s->c ? 0 : -1;
}

static long slab_active(struct slab_snapshot *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->c[i].name, name))
			return s->c[i].active;
	return 0;
}

static bool slab_counts_exact(void)
{
	char v[8];

	/* "sanity_checks" is 1 for caches in debug mode (slub_debug=F). */
	return !read_line("/sys/kernel/slab/kmalloc-64/sanity_checks", v, sizeof(v)) &&
	       !strcmp(v, "1");
}

FIXTURE(reload) {
	int ko_fd;
};

FIXTURE_SETUP(reload)
{
	const char *ko = getenv("SHPT_KO");

	self->ko_fd = -1;
	if (geteuid() != 0)
		SKIP(return, "needs root");
	if (!ko || !*ko)
		SKIP(return, "SHPT_KO (the path of shpt.ko) is not set");
	self->ko_fd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->ko_fd) TH_LOG("%s: %s", ko, strerror(errno));
	ASSERT_TRUE(path_exists(SHPT_SYSFS)) TH_LOG("shpt is not loaded");
}

/*
 * The 6.1 harness runs the test body even when the setup SKIPs, so each
 * body starts with this.
 */
#define RELOAD_SKIP_IF_SKIPPED()			\
	do {						\
		if (_metadata->skip || self->ko_fd < 0)	\
			return;				\
	} while (0)

FIXTURE_TEARDOWN(reload)
{
	if (self->ko_fd < 0)
		return;
	if (!path_exists(SHPT_SYSFS) && shpt_load(self->ko_fd, ""))
		TH_LOG("cannot reload shpt: %s", strerror(errno));
	close(self->ko_fd);
}

static void assert_gone(struct __test_metadata *_metadata, int cycle)
{
	ASSERT_FALSE(path_exists(SHPT_SYSFS)) TH_LOG("cycle %d: %s remains", cycle, SHPT_SYSFS);
	ASSERT_FALSE(path_exists(SHPT_DEV)) TH_LOG("cycle %d: %s remains", cycle, SHPT_DEV);
	ASSERT_FALSE(path_exists(SHPT_DEBUGFS)) TH_LOG("cycle %d: %s remains", cycle, SHPT_DEBUGFS);
}

static void assert_there(struct __test_metadata *_metadata, int cycle)
{
	ASSERT_TRUE(path_exists(SHPT_SYSFS)) TH_LOG("cycle %d: no %s", cycle, SHPT_SYSFS);
	ASSERT_TRUE(path_exists(SHPT_DEV)) TH_LOG("cycle %d: no %s", cycle, SHPT_DEV);
	ASSERT_TRUE(path_exists(SHPT_CONFIG)) TH_LOG("cycle %d: no %s", cycle, SHPT_CONFIG);
}

/*
 * One cycle's use of the loaded module: attach with POPULATE to a fresh
 * target, look its pages up (hits for the populated half, fills for the
 * other), and with @dead let the target exit first, so that closing the
 * file tears down a dead mirror rather than a live one.
 */
static void reload_use(struct __test_metadata *_metadata, int cycle,
		       bool dead)
{
	const unsigned long half = RELOAD_PAGES / 2 * SHPT_PAGE;
	struct shpt_lookup_result res[RELOAD_PAGES];
	struct shpt_target t;
	unsigned long va;
	unsigned int i;
	__u64 asid;
	int fd;

	ASSERT_EQ(0, shpt_target_start(&t));
	va = shpt_target_mmap(&t, 0, 2 * half, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_target_cmd(&t, SHPT_T_TOUCH, va, half, 1, 0, 0));
	fd = shpt_open();
	ASSERT_LE(0, fd) TH_LOG("cycle %d: open: %s", cycle, strerror(errno));
	ASSERT_EQ(0, shpt_attach(fd, t.pid, SHPT_ATTACH_POPULATE, &asid))
		TH_LOG("cycle %d: attach", cycle);
	ASSERT_EQ(0, shpt_target_cmd(&t, SHPT_T_TOUCH, va + half, half, 2, 0,
				     0));
	ASSERT_EQ(0, shpt_lookup_range(fd, asid, va, RELOAD_PAGES, res, 0));
	for (i = 0; i < RELOAD_PAGES; i++)
		if (res[i].status != (i < RELOAD_PAGES / 2 ? SHPT_LK_HIT :
							     SHPT_LK_FILL))
			break;
	EXPECT_EQ(RELOAD_PAGES, i) TH_LOG("cycle %d: page %u", cycle, i);
	if (dead)
		shpt_target_stop(&t);
	EXPECT_EQ(0, close(fd));
	shpt_target_kill(&t);
}

static bool kmemleak_on(void)
{
	return !access(KMEMLEAK, W_OK);
}

/*
 * Wait until everything freed is old enough for kmemleak, scan twice (a
 * pointer in flight can hide an object from one scan) and fail on any
 * unreferenced object, with the report in the log.
 */
static void kmemleak_check(struct __test_metadata *_metadata, int cycles)
{
	int leaks = 0, lines = 0;
	char line[512];
	FILE *f;

	sleep(KMEMLEAK_MIN_AGE);
	ASSERT_EQ(0, shpt_write_file(KMEMLEAK, "scan"));
	ASSERT_EQ(0, shpt_write_file(KMEMLEAK, "scan"));
	f = fopen(KMEMLEAK, "re");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", KMEMLEAK, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		leaks += !!strstr(line, "unreferenced object");
		if (lines++ < KMEMLEAK_LOG_LINES)
			TH_LOG("kmemleak: %s", strtok(line, "\n") ?: "");
	}
	fclose(f);
	TH_LOG("kmemleak after %d cycles: %d unreferenced objects", cycles,
	       leaks);
	EXPECT_EQ(0, leaks);
}

/*
 * Load/unload cycles leave nothing behind: no device, debugfs or sysfs
 * entry while unloaded, and no leaked object.  Each cycle uses the module
 * (reload_use(): a live mirror, or every third cycle a dead one, torn
 * down by the close before the unload).
 *
 * With kmemleak (a debug kernel), RELOAD_CYCLES_KMEMLEAK cycles and then
 * a kmemleak scan, which must find no unreferenced object.  KASAN's
 * quarantine keeps freed objects active in /proc/slabinfo, so slab counts
 * mean nothing there.
 *
 * Without it, RELOAD_CYCLES cycles and no slab cache may grow.
 * Tolerance: with exact counts (see struct slab_count) an idle VM moves a
 * cache by a few objects over the run (timers, workqueues).  A leak of one
 * object per cycle grows its cache by RELOAD_CYCLES = 20, so a cache may
 * grow by at most RELOAD_CYCLES / 2 - 1 = 9.  Without slub_debug the counts
 * move in whole slabs per CPU, so the test then allows two slabs per CPU
 * on top, and can only catch bigger leaks; it says so in its log.
 */
TEST_F_TIMEOUT(reload, cycles, 300)
{
	bool leakcheck = kmemleak_on();
	int cycles = leakcheck ? RELOAD_CYCLES_KMEMLEAK : RELOAD_CYCLES;
	struct slab_snapshot before, after;
	long tolerance = cycles / 2 - 1, grew, max_grew = 0;
	const char *max_name = NULL;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool exact = slab_counts_exact();
	double t0 = shpt_now();
	int i, bad = 0;

	RELOAD_SKIP_IF_SKIPPED();
	if (!leakcheck && !exact)
		TH_LOG("slab counts are per-slab only (boot with slub_debug=F for an exact check)");

	/* One warm-up cycle: first-use allocations are not leaks. */
	ASSERT_EQ(0, shpt_unload()) TH_LOG("unload: %s", strerror(errno));
	ASSERT_EQ(0, shpt_load(self->ko_fd, "")) TH_LOG("load: %s", strerror(errno));
	reload_use(_metadata, -1, false);
	if (leakcheck) {
		ASSERT_EQ(0, shpt_write_file(KMEMLEAK, "clear"));
	} else {
		ASSERT_EQ(0, slab_snapshot(&before));
	}

	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, shpt_unload()) TH_LOG("cycle %d: unload: %s", i, strerror(errno));
		assert_gone(_metadata, i);
		ASSERT_EQ(0, shpt_load(self->ko_fd, "")) TH_LOG("cycle %d: load: %s", i, strerror(errno));
		assert_there(_metadata, i);
		reload_use(_metadata, i, i % 3 == 2);
	}
	TH_LOG("%d cycles in %.1f s", cycles, shpt_now() - t0);

	if (leakcheck) {
		/* Unloaded, so that everything the module held is freed. */
		ASSERT_EQ(0, shpt_unload());
		kmemleak_check(_metadata, cycles);
		ASSERT_EQ(0, shpt_load(self->ko_fd, ""));
		return;
	}
	ASSERT_EQ(0, slab_snapshot(&after));
	for (i = 0; i < after.n; i++) {
		struct slab_count *c = &after.c[i];
		long allowed = tolerance + (exact ? 0 : 2 * ncpus * c->per_slab);

		/*
		 * vfree() is lazy: a freed area keeps its vmap_area until a
		 * purge, which comes only after megabytes of lazy frees, and
		 * every unload vfree()s the module's own text.  So this cache
		 * grows with the cycles whatever shpt does (10 seen after 20);
		 * a vmalloc leak of shpt's is kmemleak's to find (check-debug).
		 */
		if (!strcmp(c->name, "vmap_area"))
			continue;
		grew = c->active - slab_active(&before, c->name);
		if (grew > max_grew) {
			max_grew = grew;
			max_name = c->name;
		}
		if (grew > allowed) {
			TH_LOG("slab %s: %ld more active objects after %d cycles (allowed %ld)",
			       c->name, grew, cycles, allowed);
			bad++;
		}
	}
	TH_LOG("%d caches; largest growth: %s, %ld objects", after.n,
	       max_name ? max_name : "none", max_grew);
	EXPECT_EQ(0, bad);
	free(before.c);
	free(after.c);
}

/* Each of these must make the load fail with EINVAL and leave no trace. */
static const char * const bad_params[] = {
	"hash=bogus",
	"hash=",
	"max_load=0",
	"max_load=1001",
	"min_load=75",			/* 2 * 75 >= max_load 150 */
	"min_buckets=0",
	"min_buckets=3",
	"max_buckets=1000",
	"max_buckets=134217728",	/* 2^27 */
	"buckets=0",
	"buckets=32",			/* below min_buckets 64 */
	"buckets=33554432",		/* above max_buckets 2^24 */
	"min_buckets=128 max_buckets=64 buckets=64",
	"max_chain=65537",
};

TEST_F(reload, bad_params)
{
	unsigned int i;

	RELOAD_SKIP_IF_SKIPPED();
	ASSERT_EQ(0, shpt_unload()) TH_LOG("unload: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(bad_params); i++) {
		errno = 0;
		EXPECT_EQ(-1, shpt_load(self->ko_fd, bad_params[i]))
			TH_LOG("\"%s\" loaded", bad_params[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("\"%s\": %s", bad_params[i], strerror(errno));
		if (path_exists(SHPT_SYSFS))
			ASSERT_EQ(0, shpt_unload());
		assert_gone(_metadata, i);
	}
	/* The limits themselves are fine, and show up in config. */
	ASSERT_EQ(0, shpt_load(self->ko_fd,
			       "hash=modulo buckets=100 min_buckets=1 max_buckets=67108864 max_load=1000 min_load=0 max_chain=0"))
		TH_LOG("load with boundary values: %s", strerror(errno));
	EXPECT_EQ(0, shpt_unload());
	ASSERT_EQ(0, shpt_load(self->ko_fd, "")) TH_LOG("reload: %s", strerror(errno));
}

TEST_F(reload, rounded_buckets)
{
	char v[64];

	RELOAD_SKIP_IF_SKIPPED();
	ASSERT_EQ(0, shpt_unload());
	ASSERT_EQ(0, shpt_load(self->ko_fd, "buckets=100 hash=hsiphash"));
	ASSERT_EQ(0, read_line(SHPT_SYSFS "/parameters/buckets", v, sizeof(v)));
	EXPECT_STREQ("128", v);
	ASSERT_EQ(0, read_line(SHPT_SYSFS "/parameters/hash", v, sizeof(v)));
	EXPECT_STREQ("hsiphash", v);
	ASSERT_EQ(0, shpt_unload());
	ASSERT_EQ(0, shpt_load(self->ko_fd, ""));
}

SHPT_HARNESS_MAIN
