// SPDX-License-Identifier: GPL-2.0
/*
 * frames_test: /sys/kernel/debug/shpt/frames lists the frames that more
 * than one (asid, vpn) of the table maps, and tells why:
 *
 *   fork_shares_cow      after fork, before any write, every page of a
 *                        private anonymous region is one frame mapped by
 *                        the parent's and the child's ASID, cause cow
 *   cow_break_unshares   once the child writes, none of them is shared,
 *                        and after a re-populate the child's pfns differ
 *   shmem_is_shmem       a memfd and a MAP_SHARED|MAP_ANONYMOUS region
 *                        mapped by two mirrored processes: cause shmem
 *   ksm_is_ksm           identical pages merged by ksmd: one frame mapped
 *                        at every address, cause ksm (SKIP without KSM)
 *   thp_counts_once      a THP both processes map with a PMD is one line
 *                        of 512 pages and 2 mappings of order 9; once
 *                        the child maps it with PTEs, its 512 order-0
 *                        entries join the parent's order-9 one: 513
 *   summary_consistent   the summary line agrees with the frame lines
 *   many_pages_cost      NCOST pages after fork: all listed, over many
 *                        walk chunks; logs how long the open took (a
 *                        measurement for Documentation/usage.rst, not a
 *                        timed assertion)
 *   not_root_refused     nobody gets EACCES or EPERM; root without
 *                        CAP_SYS_ADMIN gets EPERM (the open's own check)
 *   shptctl_frames_*     "shptctl frames" draws the same view: a summary,
 *                        rows by mappings, the region's frames as cow with
 *                        both ASIDs; --json carries the same frames; -n
 *                        bounds the rows; as nobody it fails with exit 1
 *
 * SHPTCTL overrides the tool's path (default /usr/bin/shptctl).
 *
 * Regions are MADV_NOHUGEPAGE, so every entry is order 0.  Runs as root
 * in the test VM, with shpt.ko loaded and debugfs mounted.
 */
#include "shpt_harness.h"

#include <linux/capability.h>
#include <spawn.h>
#include <sys/stat.h>

#include "shpt_test_util.h"

#define FRAMES		SHPT_DEBUGFS "/frames"
#define KSM_DIR		"/sys/kernel/mm/ksm/"
#define NPAGES		64
#define NSHM		16
#define NKSM		16
#define NCOST		32768	/* 128 MiB */
#define SHOW		4	/* pairs per line, as the module prints */

struct frame {
	unsigned long long pfn, pages, count;
	char cause[16];
	int npairs;
	unsigned long long asid[SHOW], vpn[SHOW];
	unsigned int order[SHOW];
};

struct frames_view {
	unsigned long long shared, pages, mappings, entries, truncated;
	unsigned long long cow, shmem, file, ksm, zero, other;
	size_t n;
	struct frame *f;
};

static void view_free(struct frames_view *v)
{
	free(v->f);
	memset(v, 0, sizeof(*v));
}

/* Parse one "pfn ... cause C: a:v[:o] ..." line; 0 or -EBADMSG. */
static int parse_frame(char *line, struct frame *fr)
{
	char *p, *tok, *save;
	int n;

	memset(fr, 0, sizeof(*fr));
	if (sscanf(line, "pfn %llx pages %llu count %llu cause %15[a-z]:%n",
		   &fr->pfn, &fr->pages, &fr->count, fr->cause, &n) != 4)
		return -EBADMSG;
	p = line + n;
	for (tok = strtok_r(p, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		unsigned long long a, vpn;
		unsigned int o = 0;

		if (fr->npairs == SHOW ||
		    sscanf(tok, "%llu:%llx:%u", &a, &vpn, &o) < 2)
			return -EBADMSG;
		fr->asid[fr->npairs] = a;
		fr->vpn[fr->npairs] = vpn;
		fr->order[fr->npairs++] = o;
	}
	return 0;
}

/* Read the whole view; 0 or -errno (the open's errno). */
static int view_read(struct frames_view *v)
{
	char line[1024];
	size_t cap = 0;
	FILE *f;

	memset(v, 0, sizeof(*v));
	f = fopen(FRAMES, "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "frames_shared %llu pages %llu mappings %llu cow %llu shmem %llu file %llu ksm %llu zero %llu other %llu entries %llu truncated %llu",
		   &v->shared, &v->pages, &v->mappings, &v->cow, &v->shmem,
		   &v->file, &v->ksm, &v->zero, &v->other, &v->entries,
		   &v->truncated) != 11) {
		fprintf(stderr, "# frames: bad summary: %s", line);
		fclose(f);
		return -EBADMSG;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (v->n == cap) {
			struct frame *nf;

			cap = cap ? 2 * cap : 256;
			nf = realloc(v->f, cap * sizeof(*nf));
			if (!nf) {
				fclose(f);
				return -ENOMEM;
			}
			v->f = nf;
		}
		if (parse_frame(line, &v->f[v->n])) {
			fprintf(stderr, "# frames: bad line: %s", line);
			fclose(f);
			return -EBADMSG;
		}
		v->n++;
	}
	fclose(f);
	return 0;
}

/* The shared frame that covers @pfn, or NULL. */
static const struct frame *view_find(const struct frames_view *v,
				     unsigned long long pfn)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->f[i].pfn <= pfn && pfn < v->f[i].pfn + v->f[i].pages)
			return &v->f[i];
	return NULL;
}

static bool frame_has(const struct frame *fr, __u64 asid,
		      unsigned long long vpn)
{
	for (int i = 0; i < fr->npairs; i++)
		if (fr->asid[i] == asid && fr->vpn[i] == vpn)
			return true;
	return false;
}

/* Does @asid's entry for @va hold @pfn now?  NOFILL: nothing is inserted. */
static bool entry_is(int fd, __u64 asid, unsigned long va, long long pfn)
{
	struct shpt_lookup_result r;

	return !shpt_lookup1(fd, asid, va, SHPT_LOOKUP_NOFILL, &r) &&
	       r.status == SHPT_LK_HIT && (long long)r.pfn == pfn;
}

/*
 * Every page of [va, va + n pages) must be a shared frame of cause @cause
 * listing both (@a1, vpn) and (@a2, vpn).  A page that is not listed is
 * excused when one of the two entries is gone now: compaction or
 * reclaim may migrate a page and invalidate its entries after populate.
 * Fewer than half may be excused.  Returns the pages that fail, each
 * logged.
 */
static int check_shared(struct __test_metadata *_metadata, int fd,
			const struct frames_view *v, pid_t pid,
			unsigned long va, unsigned int n, const char *cause,
			__u64 a1, __u64 a2)
{
	unsigned int excused = 0;
	int bad = 0;

	for (unsigned int i = 0; i < n; i++) {
		unsigned long addr = va + i * SHPT_PAGE;
		long long pfn = shpt_pagemap_pfn(pid, addr);
		const struct frame *fr = pfn > 0 ? view_find(v, pfn) : NULL;
		const char *why = NULL;

		if (pfn <= 0)
			why = "not present";
		else if (!fr && !(entry_is(fd, a1, addr, pfn) &&
				  entry_is(fd, a2, addr, pfn)))
			excused++;
		else if (!fr)
			why = "not listed as shared";
		else if (fr->count < 2)
			why = "count below 2";
		else if (strcmp(fr->cause, cause))
			why = "wrong cause";
		else if (!frame_has(fr, a1, addr / SHPT_PAGE) ||
			 !frame_has(fr, a2, addr / SHPT_PAGE))
			why = "(asid, vpn) pair missing";
		if (why) {
			TH_LOG("page %u pfn %#llx: %s (count %llu cause %s)",
			       i, pfn, why, fr ? fr->count : 0,
			       fr ? fr->cause : "-");
			bad++;
		}
	}
	if (excused)
		TH_LOG("%u of %u pages excused: an entry was invalidated since populate (so far: migrate %lld clear %lld unmap %lld protection %lld+%lld)",
		       excused, n, shpt_stat("inval_migrate"),
		       shpt_stat("inval_clear"), shpt_stat("inval_unmap"),
		       shpt_stat("inval_protection_vma"),
		       shpt_stat("inval_protection_page"));
	return excused * 2 >= n ? (int)n : bad;
}

/* Pages of [va, va + n pages) of @pid listed as shared, each logged. */
static int count_listed(struct __test_metadata *_metadata,
			const struct frames_view *v, pid_t pid,
			unsigned long va, unsigned int n)
{
	int listed = 0;

	for (unsigned int i = 0; i < n; i++) {
		long long pfn = shpt_pagemap_pfn(pid, va + i * SHPT_PAGE);
		const struct frame *fr = pfn > 0 ? view_find(v, pfn) : NULL;

		if (fr) {
			TH_LOG("page %u pfn %#llx still shared: count %llu cause %s",
			       i, pfn, fr->count, fr->cause);
			listed++;
		}
	}
	return listed;
}

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"

FIXTURE(frames)
{
	int fd;
	struct shpt_target t;
	__u64 asid_p, asid_c;
	char numa[16];
};

FIXTURE_SETUP(frames)
{
	self->fd = shpt_open();
	if (self->fd < 0)
		TH_LOG("open %s: %s", SHPT_DEV, strerror(errno));
	ASSERT_LE(0, self->fd);
	/*
	 * NUMA balancing (the VM has two nodes) makes this running, mirrored
	 * process's pages PROT_NONE now and then, and the invalidation
	 * removes their entries: a test would race with it.  Off while the
	 * test runs.
	 */
	if (!shpt_read_file(NUMA_BALANCING, self->numa, sizeof(self->numa)))
		shpt_write_file(NUMA_BALANCING, "0");
	if (access(FRAMES, F_OK))
		TH_LOG("%s: %s", FRAMES, strerror(errno));
	ASSERT_EQ(0, access(FRAMES, F_OK));
}

FIXTURE_TEARDOWN(frames)
{
	if (self->numa[0])
		shpt_write_file(NUMA_BALANCING, self->numa);
	shpt_target_kill(&self->t);
	if (self->fd >= 0)
		close(self->fd);
}

/* n private anonymous 4 KiB pages, each with its own contents. */
static unsigned long map_private(unsigned int n)
{
	char *p = mmap(NULL, n * SHPT_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	madvise(p, n * SHPT_PAGE, MADV_NOHUGEPAGE);
	for (unsigned int i = 0; i < n; i++)
		snprintf(p + i * SHPT_PAGE, 64, "frames_test %d page %u",
			 (int)getpid(), i);
	return (unsigned long)p;
}

/*
 * Fork the target now, so that it inherits the caller's memory, and
 * mirror both with a populate.
 */
static int fork_and_attach(FIXTURE_DATA(frames) *self)
{
	int ret = shpt_target_start(&self->t);

	if (!ret)
		ret = shpt_attach(self->fd, getpid(), SHPT_ATTACH_POPULATE,
				  &self->asid_p);
	if (!ret)
		ret = shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				  &self->asid_c);
	return ret;
}

TEST_F(frames, fork_shares_cow)
{
	unsigned long va = map_private(NPAGES);
	struct frames_view v;

	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, fork_and_attach(self));
	ASSERT_EQ(0, view_read(&v));
	TH_LOG("frames_shared %llu mappings %llu cow %llu shmem %llu file %llu entries %llu",
	       v.shared, v.mappings, v.cow, v.shmem, v.file, v.entries);
	ASSERT_EQ(0, check_shared(_metadata, self->fd, &v, getpid(), va, NPAGES, "cow",
				  self->asid_p, self->asid_c));
	ASSERT_LE((unsigned long long)NPAGES, v.cow);
	view_free(&v);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_p);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_c);
}

TEST_F(frames, cow_break_unshares)
{
	unsigned long va = map_private(NPAGES), len = NPAGES * SHPT_PAGE;
	struct frames_view v;
	struct shpt_range_op op;
	unsigned int i;

	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, fork_and_attach(self));
	ASSERT_EQ(0, view_read(&v));
	ASSERT_EQ(0, check_shared(_metadata, self->fd, &v, getpid(), va, NPAGES, "cow",
				  self->asid_p, self->asid_c));
	view_free(&v);

	/* The child writes: its copies replace the shared frames. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_TOUCH, va, len, 7, 0,
				     0));
	ASSERT_EQ(0, view_read(&v));
	ASSERT_EQ(0, count_listed(_metadata, &v, getpid(), va, NPAGES));
	view_free(&v);

	ASSERT_EQ(0, shpt_populate(self->fd, self->asid_c, va, va + len, &op));
	ASSERT_EQ((__u64)NPAGES, op.inserted);
	ASSERT_EQ(0, view_read(&v));
	ASSERT_EQ(0, count_listed(_metadata, &v, getpid(), va, NPAGES));
	ASSERT_EQ(0, count_listed(_metadata, &v, self->t.pid, va, NPAGES));
	view_free(&v);
	for (i = 0; i < NPAGES; i++) {
		long long pp = shpt_pagemap_pfn(getpid(), va + i * SHPT_PAGE);
		long long pc = shpt_pagemap_pfn(self->t.pid,
						va + i * SHPT_PAGE);

		ASSERT_LT(0, pp);
		ASSERT_LT(0, pc);
		ASSERT_NE(pp, pc);
	}
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_p);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_c);
}

TEST_F(frames, shmem_is_shmem)
{
	unsigned long len = NSHM * SHPT_PAGE, memfd_va, anon_va;
	struct frames_view v;
	int mfd;
	char *p;

	mfd = memfd_create("frames_test", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, len));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(mfd);
	memfd_va = (unsigned long)p;
	memset(p, 0x33, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	anon_va = (unsigned long)p;
	memset(p, 0x44, len);

	ASSERT_EQ(0, shpt_target_start(&self->t));
	/* fork copies no PTEs of a shared mapping: the child faults them in. */
	ASSERT_LE(0, shpt_target_cmd(&self->t, SHPT_T_READ, memfd_va, len, 0,
				     0, 0));
	ASSERT_LE(0, shpt_target_cmd(&self->t, SHPT_T_READ, anon_va, len, 0,
				     0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, getpid(), SHPT_ATTACH_POPULATE,
				 &self->asid_p));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid_c));
	ASSERT_EQ(0, view_read(&v));
	TH_LOG("frames_shared %llu cow %llu shmem %llu file %llu",
	       v.shared, v.cow, v.shmem, v.file);
	ASSERT_EQ(0, check_shared(_metadata, self->fd, &v, getpid(), memfd_va, NSHM,
				  "shmem", self->asid_p, self->asid_c));
	ASSERT_EQ(0, check_shared(_metadata, self->fd, &v, getpid(), anon_va, NSHM,
				  "shmem", self->asid_p, self->asid_c));
	ASSERT_LE(2ULL * NSHM, v.shmem);
	view_free(&v);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_p);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_c);
}

struct ksm_saved {
	char run[16], scan[32], sleep_ms[32];
};

static void ksm_restore(const struct ksm_saved *s)
{
	/* run=2 unmerges every page, then the old settings come back. */
	shpt_write_file(KSM_DIR "run", "2");
	shpt_write_file(KSM_DIR "pages_to_scan", s->scan);
	shpt_write_file(KSM_DIR "sleep_millisecs", s->sleep_ms);
	shpt_write_file(KSM_DIR "run", s->run[0] == '1' ? "1" : "0");
}

static long long ksm_counter(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	if (shpt_read_file(path, buf, sizeof(buf)))
		return -1;
	return atoll(buf);
}

TEST_F_TIMEOUT(frames, ksm_is_ksm, 60)
{
	unsigned long va, len = NKSM * SHPT_PAGE;
	double t0, limit = 20.0 * shpt_timeout_scale();
	long long pm0 = 0, pm;
	struct frames_view v;
	struct ksm_saved s = { "0", "100", "20" };
	const struct frame *fr;
	unsigned int i, merged = 0;

	if (access(KSM_DIR "run", W_OK))
		SKIP(return, "no writable %srun (no CONFIG_KSM?)", KSM_DIR);
	shpt_read_file(KSM_DIR "run", s.run, sizeof(s.run));
	shpt_read_file(KSM_DIR "pages_to_scan", s.scan, sizeof(s.scan));
	shpt_read_file(KSM_DIR "sleep_millisecs", s.sleep_ms,
		       sizeof(s.sleep_ms));

	ASSERT_EQ(0, shpt_target_start(&self->t));
	va = shpt_target_mmap(&self->t, 0, len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE, va, len,
				     MADV_NOHUGEPAGE, 0, 0));
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_FILL, va, len, 0x5a,
				     0, 0));
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MADVISE, va, len,
				     MADV_MERGEABLE, 0, 0));
	ASSERT_EQ(0, shpt_write_file(KSM_DIR "pages_to_scan", "10000"));
	ASSERT_EQ(0, shpt_write_file(KSM_DIR "sleep_millisecs", "0"));
	ASSERT_EQ(0, shpt_write_file(KSM_DIR "run", "1"));
	for (t0 = shpt_now(); shpt_now() - t0 < limit; usleep(100000)) {
		pm0 = shpt_pagemap_pfn(self->t.pid, va);
		for (merged = 0, i = 0; i < NKSM; i++) {
			pm = shpt_pagemap_pfn(self->t.pid, va + i * SHPT_PAGE);
			merged += pm > 0 && pm == pm0;
		}
		if (ksm_counter("pages_shared") > 0 && merged == NKSM)
			break;
	}
	/* run=0 stops ksmd but keeps the merged pages for the check. */
	shpt_write_file(KSM_DIR "run", "0");
	if (merged != NKSM) {
		ksm_restore(&s);
		SKIP(return, "ksmd merged %u of %u pages in %.0f s", merged,
		     NKSM, limit);
	}
	TH_LOG("merged into pfn %#llx after %.1f s", pm0, shpt_now() - t0);

	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid_c));
	ASSERT_EQ(0, view_read(&v));
	fr = view_find(&v, pm0);
	if (fr)
		TH_LOG("pfn %#llx: count %llu cause %s; summary ksm %llu",
		       fr->pfn, fr->count, fr->cause, v.ksm);
	ksm_restore(&s);
	ASSERT_NE(NULL, fr);
	ASSERT_EQ((unsigned long long)NKSM, fr->count);
	ASSERT_STREQ("ksm", fr->cause);
	ASSERT_EQ(SHOW, fr->npairs);
	for (i = 0; i < SHOW; i++) {
		ASSERT_EQ(self->asid_c, fr->asid[i]);
		ASSERT_EQ(va / SHPT_PAGE + i, fr->vpn[i]);
	}
	ASSERT_LE(1ULL, v.ksm);
	view_free(&v);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_c);
}

static bool thp_disabled(void)
{
	char buf[128];

	if (shpt_read_file("/sys/kernel/mm/transparent_hugepage/enabled",
			   buf, sizeof(buf)))
		return true;
	return strstr(buf, "[never]") != NULL;
}

TEST_F(frames, thp_counts_once)
{
	const unsigned int n = SHPT_HPAGE / SHPT_PAGE;
	unsigned long map, va;
	const struct frame *fr;
	struct shpt_range_op op;
	struct frames_view v;
	long long pm0;
	unsigned int i;
	int huge = 0;

	if (thp_disabled())
		SKIP(return, "transparent hugepages disabled");
	map = (unsigned long)mmap(NULL, 2 * SHPT_HPAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE((unsigned long)MAP_FAILED, map);
	va = (map + SHPT_HPAGE - 1) & ~(SHPT_HPAGE - 1);
	ASSERT_EQ(0, madvise((void *)va, SHPT_HPAGE, MADV_HUGEPAGE));
	memset((void *)va, 0x21, SHPT_HPAGE);
	pm0 = shpt_pagemap_pfn(getpid(), va);
	for (i = 0; pm0 > 0 && i < n; i++)
		if (shpt_pagemap_pfn(getpid(), va + i * SHPT_PAGE) != pm0 + i)
			break;
	if (pm0 <= 0 || i < n || (pm0 & (n - 1)))
		SKIP(return, "the kernel did not back the region with a THP");

	ASSERT_EQ(0, fork_and_attach(self));
	ASSERT_EQ(0, view_read(&v));
	fr = view_find(&v, pm0 + n - 1);
	ASSERT_NE(NULL, fr);
	TH_LOG("PMD in both: pfn %#llx pages %llu count %llu cause %s",
	       fr->pfn, fr->pages, fr->count, fr->cause);
	ASSERT_EQ((unsigned long long)pm0, fr->pfn);
	ASSERT_EQ((unsigned long long)n, fr->pages);
	ASSERT_EQ(2ULL, fr->count);
	ASSERT_STREQ("cow", fr->cause);
	for (i = 0; i < (unsigned int)fr->npairs; i++)
		ASSERT_EQ(9U, fr->order[i]);
	view_free(&v);

	/* The child write-protects half: its PMD splits into PTEs. */
	ASSERT_EQ(0, shpt_target_cmd(&self->t, SHPT_T_MPROTECT,
				     va + SHPT_HPAGE / 2, SHPT_HPAGE / 2,
				     PROT_READ, 0, 0));
	ASSERT_EQ(0, shpt_populate(self->fd, self->asid_c, va,
				   va + SHPT_HPAGE, &op));
	ASSERT_EQ(0, view_read(&v));
	fr = view_find(&v, pm0);
	ASSERT_NE(NULL, fr);
	TH_LOG("PMD in the parent, PTEs in the child: pfn %#llx pages %llu count %llu cause %s",
	       fr->pfn, fr->pages, fr->count, fr->cause);
	ASSERT_EQ((unsigned long long)pm0, fr->pfn);
	ASSERT_EQ((unsigned long long)n, fr->pages);
	ASSERT_EQ(n + 1ULL, fr->count);
	ASSERT_STREQ("cow", fr->cause);
	for (i = 0; i < (unsigned int)fr->npairs; i++)
		huge += fr->order[i] == 9 && fr->asid[i] == self->asid_p;
	ASSERT_EQ(1, huge);
	view_free(&v);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_p);
	SHPT_ASSERT_NO_STALE(self->fd, self->asid_c);
}

TEST_F(frames, summary_consistent)
{
	unsigned long va = map_private(NPAGES);
	unsigned long long mappings = 0, pages = 0, cause_sum;
	unsigned long long prev_end = 0;
	struct frames_view v;
	struct stat st;

	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, stat(FRAMES, &st));
	ASSERT_EQ(0400U, st.st_mode & 07777);
	ASSERT_EQ(0, fork_and_attach(self));
	ASSERT_EQ(0, view_read(&v));
	ASSERT_EQ(0ULL, v.truncated);
	ASSERT_EQ(v.shared, (unsigned long long)v.n);
	for (size_t i = 0; i < v.n; i++) {
		const struct frame *fr = &v.f[i];

		/* By pfn, not overlapping, each shared, pairs as counted. */
		ASSERT_LE(prev_end, fr->pfn);
		ASSERT_LE(2ULL, fr->count);
		ASSERT_LE(1ULL, fr->pages);
		ASSERT_EQ(fr->count < SHOW ? (int)fr->count : SHOW,
			  fr->npairs);
		prev_end = fr->pfn + fr->pages;
		mappings += fr->count;
		pages += fr->pages;
	}
	cause_sum = v.cow + v.shmem + v.file + v.ksm + v.zero + v.other;
	ASSERT_EQ(v.shared, cause_sum);
	ASSERT_EQ(v.mappings, mappings);
	ASSERT_EQ(v.pages, pages);
	ASSERT_LE(v.mappings, v.entries);
	view_free(&v);
}

TEST_F_TIMEOUT(frames, many_pages_cost, 300)
{
	unsigned long va = map_private(NCOST);
	struct shpt_range_op op;
	struct frames_view v;
	double t0, t1, t2;
	int fd, i;

	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, fork_and_attach(self));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, shpt_populate(self->fd, i ? self->asid_c :
					   self->asid_p, va,
					   va + NCOST * SHPT_PAGE, &op));
		TH_LOG("populate %s: checked %llu inserted %llu missing %llu",
		       i ? "child" : "parent", (unsigned long long)op.checked,
		       (unsigned long long)op.inserted,
		       (unsigned long long)op.missing);
	}
	/* The open builds the snapshot; time it apart from the reads. */
	t0 = shpt_now();
	fd = open(FRAMES, O_RDONLY | O_CLOEXEC);
	t1 = shpt_now();
	ASSERT_LE(0, fd);
	close(fd);
	t2 = shpt_now();
	ASSERT_EQ(0, view_read(&v));
	TH_LOG("entries %llu shared %llu: open %.1f ms, open and read %.1f ms (%.2f us per entry)",
	       v.entries, v.shared, (t1 - t0) * 1e3, (shpt_now() - t2) * 1e3,
	       (t1 - t0) * 1e6 / v.entries);
	ASSERT_EQ(0ULL, v.truncated);
	ASSERT_EQ(0, check_shared(_metadata, self->fd, &v, getpid(), va, NCOST, "cow",
				  self->asid_p, self->asid_c));
	view_free(&v);
}

/* Clear CAP_SYS_ADMIN from the effective set; uid stays 0. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1U << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/* In a child: -errno of opening the view after @drop, or 0 if it opened. */
static int open_as(int (*drop)(void))
{
	int status, fd, ret;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (drop())
			_exit(255);
		fd = open(FRAMES, O_RDONLY | O_CLOEXEC);
		_exit(fd >= 0 ? 0 : errno);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	ret = WEXITSTATUS(status);
	return ret == 255 ? -ECHILD : -ret;
}

TEST_F(frames, not_root_refused)
{
	int ret;

	ret = open_as(shpt_drop_to_nobody);
	TH_LOG("nobody: %s", strerror(-ret));
	ASSERT_TRUE(ret == -EACCES || ret == -EPERM);
	/* DAC lets uid 0 in: only the capability check stops it. */
	ret = open_as(drop_sys_admin);
	TH_LOG("root without CAP_SYS_ADMIN: %s", strerror(-ret));
	ASSERT_EQ(-EPERM, ret);
}

/* ---- shptctl frames ------------------------------------------------ */

#define OUT_MAX		(1 << 20)

static const char *tool(void)
{
	const char *t = getenv("SHPTCTL");

	return t && *t ? t : "/usr/bin/shptctl";
}

/*
 * Run "shptctl frames ARGS" (as nobody if @nobody) with stdout in @out
 * (NUL-terminated); returns its exit status, or -1.  As root it is
 * started with posix_spawn(), which shares the mm until the exec: a fork
 * would write-protect this mirrored process's pages and so remove its
 * entries (the CoW invalidation) just before the tool reads the view.
 */
static int run_frames(char *out, bool nobody, const char *a1,
		      const char *a2, const char *a3)
{
	char *argv[] = { "shptctl", "frames", (char *)a1, (char *)a2,
			 (char *)a3, NULL };
	posix_spawn_file_actions_t fa;
	int pfd[2], status;
	size_t len = 0;
	ssize_t k;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	if (nobody) {
		pid = fork();
		if (pid == 0) {
			dup2(pfd[1], 1);
			alarm(60);	/* a hung tool dies */
			if (shpt_drop_to_nobody())
				_exit(125);
			execv(tool(), argv);
			_exit(126);
		}
	} else {
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
		if (posix_spawn(&pid, tool(), &fa, NULL, argv, environ))
			pid = -1;
		posix_spawn_file_actions_destroy(&fa);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	while (len < OUT_MAX - 1 &&
	       (k = read(pfd[0], out + len, OUT_MAX - 1 - len)) > 0)
		len += k;
	out[len] = '\0';
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The text rows (lines starting "0x"), in order. */
static int text_rows(char *out, unsigned long long *pfn,
		     unsigned long long *maps, char (*cause)[16],
		     char **line, int max)
{
	char *save, *l;
	int n = 0;

	for (l = strtok_r(out, "\n", &save); l && n < max;
	     l = strtok_r(NULL, "\n", &save)) {
		unsigned long long pages;

		if (strncmp(l, "0x", 2))
			continue;
		if (sscanf(l, "%llx %llu %llu %15s", &pfn[n], &pages, &maps[n],
			   cause[n]) != 4)
			return -1;
		line[n++] = l;
	}
	return n;
}

TEST_F_TIMEOUT(frames, shptctl_frames_text, 60)
{
	unsigned long va = map_private(NPAGES);
	static unsigned long long pfn[4096], maps[4096];
	static char cause[4096][16], out[OUT_MAX];
	static char *line[4096];
	unsigned long long shared, pages, mappings, entries;
	char want_p[64], want_c[64];
	int n, i, mfd, found = 0;
	void *twice[2];

	ASSERT_NE(0UL, va);
	/* One memfd page at two addresses: 4 mappings after the fork. */
	mfd = memfd_create("frames_test", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, SHPT_PAGE));
	for (i = 0; i < 2; i++) {
		twice[i] = mmap(NULL, SHPT_PAGE, PROT_READ | PROT_WRITE,
				MAP_SHARED, mfd, 0);
		ASSERT_NE(MAP_FAILED, twice[i]);
		*(volatile char *)twice[i] = 1;
	}
	close(mfd);
	ASSERT_EQ(0, shpt_target_start(&self->t));
	for (i = 0; i < 2; i++)
		ASSERT_LE(0, shpt_target_cmd(&self->t, SHPT_T_READ,
					     (unsigned long)twice[i], SHPT_PAGE,
					     0, 0, 0));
	ASSERT_EQ(0, shpt_attach(self->fd, getpid(), SHPT_ATTACH_POPULATE,
				 &self->asid_p));
	ASSERT_EQ(0, shpt_attach(self->fd, self->t.pid, SHPT_ATTACH_POPULATE,
				 &self->asid_c));
	ASSERT_EQ(0, run_frames(out, false, "-n", "0", NULL));
	ASSERT_EQ(4, sscanf(out, "shared frames %llu (%llu pages), mappings %llu, table entries %llu",
			    &shared, &pages, &mappings, &entries));
	ASSERT_NE(NULL, strstr(out, "\nby cause: cow "));
	n = text_rows(out, pfn, maps, cause, line, 4096);
	ASSERT_EQ((int)shared, n);
	for (i = 0; i < n; i++) {
		if (i)
			ASSERT_GE(maps[i - 1], maps[i]);	/* most first */
		ASSERT_LE(2ULL, maps[i]);
	}
	/* The memfd page comes first, with its four mappings. */
	ASSERT_LE(1, n);
	ASSERT_EQ(4ULL, maps[0]) TH_LOG("first row: %s", line[0]);
	ASSERT_EQ((unsigned long long)shpt_pagemap_pfn(getpid(),
				(unsigned long)twice[0]), pfn[0]);
	ASSERT_STREQ("shmem", cause[0]);
	/* The region's pages: cow, both ASIDs at the page's address. */
	for (unsigned int p = 0; p < NPAGES; p++) {
		unsigned long addr = va + p * SHPT_PAGE;
		long long f = shpt_pagemap_pfn(getpid(), addr);

		snprintf(want_p, sizeof(want_p), " %llu:%#lx",
			 (unsigned long long)self->asid_p, addr);
		snprintf(want_c, sizeof(want_c), " %llu:%#lx",
			 (unsigned long long)self->asid_c, addr);
		for (i = 0; i < n; i++) {
			if (pfn[i] != (unsigned long long)f)
				continue;
			if (!strcmp(cause[i], "cow") && strstr(line[i], want_p) &&
			    strstr(line[i], want_c))
				found++;
			else
				TH_LOG("row: %s", line[i]);
		}
	}
	ASSERT_EQ(NPAGES, found);

	ASSERT_EQ(0, run_frames(out, false, "-n", "3", NULL));
	ASSERT_EQ(3, text_rows(out, pfn, maps, cause, line, 4096));
	ASSERT_EQ(0, run_frames(out, false, "-n", "3", NULL));
	ASSERT_NE(NULL, strstr(out, "more shared frames; -n to show more)"));
	ASSERT_EQ(2, run_frames(out, false, "-n", "x", NULL));
}

TEST_F_TIMEOUT(frames, shptctl_frames_json, 60)
{
	unsigned long va = map_private(NPAGES);
	static char out[OUT_MAX];
	unsigned long long shared, shown, cow;
	char want[128];
	const char *p;
	int objs = 0;

	ASSERT_NE(0UL, va);
	ASSERT_EQ(0, fork_and_attach(self));
	ASSERT_EQ(0, run_frames(out, false, "--json", "-n", "0"));
	ASSERT_EQ('{', out[0]);
	p = strstr(out, "\"frames_shared\": ");
	ASSERT_NE(NULL, p);
	shared = strtoull(p + 17, NULL, 10);
	p = strstr(out, "\"cow\": ");
	ASSERT_NE(NULL, p);
	cow = strtoull(p + 7, NULL, 10);
	p = strstr(out, "\"shown\": ");
	ASSERT_NE(NULL, p);
	shown = strtoull(p + 9, NULL, 10);
	ASSERT_EQ(shared, shown);
	ASSERT_LE((unsigned long long)NPAGES, cow);
	for (p = out; (p = strstr(p, "{\"pfn\": ")); p++)
		objs++;
	ASSERT_EQ((int)shown, objs);
	for (unsigned int i = 0; i < NPAGES; i++) {
		long long f = shpt_pagemap_pfn(getpid(), va + i * SHPT_PAGE);

		snprintf(want, sizeof(want),
			 "{\"pfn\": %lld, \"pages\": 1, \"count\": 2, \"cause\": \"cow\"",
			 f);
		if (!strstr(out, want))
			TH_LOG("page %u: no %s", i, want);
		ASSERT_NE(NULL, strstr(out, want));
	}
	ASSERT_EQ(0, strcmp(out + strlen(out) - 4, "\n]}\n"));
}

TEST_F(frames, shptctl_frames_as_nobody)
{
	static char out[OUT_MAX];

	ASSERT_EQ(1, run_frames(out, true, NULL, NULL, NULL));
	ASSERT_EQ(0UL, strlen(out));
}

SHPT_HARNESS_MAIN
