// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: the debugfs file "frames", the page frames that more than one
 * (asid, vpn) of the table maps, and why they are shared.
 */
#define pr_fmt(fmt) "shpt-frames: " fmt

#include <linux/bits.h>
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/memory_hotplug.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "shpt.h"

/**
 * DOC: Shared frames
 *
 * The table is keyed by (asid, vpn), so it is the one place where a frame
 * mapped by several address spaces, or at several addresses, shows: after
 * fork (anonymous pages shared copy-on-write until one side writes),
 * through shared memory or a file's page cache, or after KSM merged
 * identical pages.
 *
 * Opening /sys/kernel/debug/shpt/frames (CAP_SYS_ADMIN: it shows other
 * processes' frames) takes a snapshot: it walks the table
 * SHPT_FRAMES_CHUNK buckets per RCU read section, cond_resched() between
 * them, copying (pfn, order, asid, vpn) of every entry into one array of
 * at most SHPT_FRAMES_MAX records; sorts it by pfn; and groups it.  The
 * walk holds resizes and rekeys off (shpt_table_walk_all()): a chunked
 * walk racing with a rehash would miss the entries moved behind it, and
 * a frame shared all along would not show.  Inserts, removes and lookups
 * go on; an entry inserted or removed during the walk may or may not be
 * in the snapshot.  A group is a
 * maximal run of entries whose frame ranges [pfn, pfn + 2^order) overlap
 * one another, so an order-9 entry of a THP and the order-0 entries of
 * another process that maps some of its subpages with PTEs form one group
 * over the 512 frames, while two processes mapping different subpages
 * with PTEs share nothing.  A group of more than one entry is a shared
 * frame.  Reads then print the snapshot; nothing is shared with the
 * table any more, and release frees it.
 *
 * The cause is read from the page, not from the entry flags.  The flags
 * describe the VMA at snapshot time: SHPT_F_COW (private, writable, PTE
 * read-only) holds for a KSM page as much as for a page shared since
 * fork, SHPT_F_ANON is false for a copied-on-write page of a private file
 * mapping, and SHPT_F_SHARED is set for MAP_SHARED|MAP_ANONYMOUS, which
 * is shmem.  The page, taken with a reference (pfn_to_online_page(),
 * folio_try_get(), checked against a concurrent split), tells the cause
 * as it is now: a KSM folio is "ksm"; another anonymous folio mapped twice
 * can only be shared since fork, "cow"; a swap-backed page-cache folio is
 * shmem (tmpfs, memfd, MAP_SHARED|MAP_ANONYMOUS, SysV shm), "shmem"; any
 * other page-cache folio "file"; the shared zero page "zero"; the rest
 * (the huge zero page, a truncated folio, a frame no longer online or
 * already freed) "other".  The folio belongs to the first frame of the
 * group.
 */

/* At most this many entries are collected; past it the view is truncated. */
#define SHPT_FRAMES_MAX		(4UL << 20)
/* Buckets visited per rcu_read_lock() section. */
#define SHPT_FRAMES_CHUNK	1024
/* (asid, vpn) pairs printed per shared frame. */
#define SHPT_FRAMES_SHOW	4
/* record.pfn_order: pfn << 8 | order; orders fit in SHPT_ORDER_BITS. */
#define SHPT_FRAMES_ORDER_MASK	0xffULL

enum shpt_frame_cause {
	SHPT_FRAME_COW,
	SHPT_FRAME_SHMEM,
	SHPT_FRAME_FILE,
	SHPT_FRAME_KSM,
	SHPT_FRAME_ZERO,
	SHPT_FRAME_OTHER,
	SHPT_FRAME_NR,
};

static const char *const shpt_frame_cause_names[SHPT_FRAME_NR] = {
	[SHPT_FRAME_COW] = "cow",
	[SHPT_FRAME_SHMEM] = "shmem",
	[SHPT_FRAME_FILE] = "file",
	[SHPT_FRAME_KSM] = "ksm",
	[SHPT_FRAME_ZERO] = "zero",
	[SHPT_FRAME_OTHER] = "other",
};

/**
 * struct shpt_frame_rec - one entry of the snapshot, 16 bytes
 * @pfn_order: first pfn << 8 | order, so that sorting orders by pfn
 * @key: asid << SHPT_VPN_BITS | vpn, as the table packs it
 */
struct shpt_frame_rec {
	u64 pfn_order;
	u64 key;
};

/**
 * struct shpt_frame_group - one shared frame: a run of overlapping entries
 * @first: index of its first record
 * @count: records in the run, at least 2
 * @pages: frames the run covers (1 unless an entry has an order)
 * @cause: &enum shpt_frame_cause
 */
struct shpt_frame_group {
	u32 first;
	u32 count;
	u32 pages;
	u32 cause;
};

/**
 * struct shpt_frames - one open file's snapshot; owned by that file alone
 * @recs: every entry collected, sorted by pfn then key
 * @nrecs: records used
 * @cap: records allocated, at most SHPT_FRAMES_MAX
 * @entries: entries the walk saw, including those past @cap
 * @truncated: the walk saw more than @cap entries
 * @groups: the shared frames, by pfn
 * @ngroups: number of @groups
 * @mappings: records in @groups
 * @pages: frames @groups cover
 * @cause: groups by &enum shpt_frame_cause
 */
struct shpt_frames {
	struct shpt_frame_rec *recs;
	size_t nrecs;
	size_t cap;
	u64 entries;
	bool truncated;
	struct shpt_frame_group *groups;
	size_t ngroups;
	u64 mappings;
	u64 pages;
	u64 cause[SHPT_FRAME_NR];
};

static u64 shpt_rec_pfn(const struct shpt_frame_rec *r)
{
	return r->pfn_order >> 8;
}

static u64 shpt_rec_end(const struct shpt_frame_rec *r)
{
	return shpt_rec_pfn(r) + BIT_ULL(r->pfn_order & SHPT_FRAMES_ORDER_MASK);
}

/* shpt_walk_fn: runs under rcu_read_lock(). */
static void shpt_frames_add(const struct shpt_mapping *m, void *arg)
{
	struct shpt_frames *f = arg;
	struct shpt_frame_rec *r;

	f->entries++;
	if (f->nrecs == f->cap) {
		f->truncated = true;
		return;
	}
	r = &f->recs[f->nrecs++];
	r->pfn_order = m->pfn << 8 | m->order;
	r->key = m->asid << SHPT_VPN_BITS | m->vpn;
}

static int shpt_frame_rec_cmp(const void *a, const void *b)
{
	const struct shpt_frame_rec *x = a, *y = b;

	if (x->pfn_order != y->pfn_order)
		return x->pfn_order < y->pfn_order ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/* The end of the run of overlapping records from @i; its span in @pages. */
static size_t shpt_frames_run(const struct shpt_frames *f, size_t i,
			      u64 *pages)
{
	u64 start = shpt_rec_pfn(&f->recs[i]), end = shpt_rec_end(&f->recs[i]);
	size_t j;

	for (j = i + 1; j < f->nrecs && shpt_rec_pfn(&f->recs[j]) < end; j++)
		end = max(end, shpt_rec_end(&f->recs[j]));
	*pages = end - start;
	return j;
}

/* Why @pfn is mapped more than once: see DOC: Shared frames. */
static enum shpt_frame_cause shpt_frame_cause(unsigned long pfn)
{
	enum shpt_frame_cause cause;
	struct folio *folio;
	struct page *page;

	if (is_zero_pfn(pfn))
		return SHPT_FRAME_ZERO;
	page = pfn_to_online_page(pfn);
	if (!page)
		return SHPT_FRAME_OTHER;
	folio = page_folio(page);
	if (!folio_try_get(folio))
		return SHPT_FRAME_OTHER;	/* free, or being freed */
	if (unlikely(folio != page_folio(page))) {
		/* Split or freed and reused before the reference was taken. */
		folio_put(folio);
		return SHPT_FRAME_OTHER;
	}
	if (folio_test_ksm(folio))
		cause = SHPT_FRAME_KSM;
	else if (folio_test_anon(folio))
		cause = SHPT_FRAME_COW;
	else if (!READ_ONCE(folio->mapping))
		cause = SHPT_FRAME_OTHER;
	else if (folio_test_swapbacked(folio))
		cause = SHPT_FRAME_SHMEM;
	else
		cause = SHPT_FRAME_FILE;
	folio_put(folio);
	return cause;
}

/* Count the shared runs, allocate @groups, then fill and classify them. */
static int shpt_frames_group(struct shpt_frames *f)
{
	size_t i, j, n = 0;
	u64 pages;

	for (i = 0; i < f->nrecs; i = j) {
		j = shpt_frames_run(f, i, &pages);
		n += j - i > 1;
	}
	if (!n)
		return 0;
	f->groups = kvmalloc_array(n, sizeof(*f->groups),
				   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!f->groups)
		return -ENOMEM;
	for (i = 0; i < f->nrecs; i = j) {
		struct shpt_frame_group *g;

		j = shpt_frames_run(f, i, &pages);
		if (j - i < 2)
			continue;
		g = &f->groups[f->ngroups++];
		g->first = i;
		g->count = j - i;
		g->pages = min_t(u64, pages, U32_MAX);
		g->cause = shpt_frame_cause(shpt_rec_pfn(&f->recs[i]));
		f->mappings += g->count;
		f->pages += pages;
		f->cause[g->cause]++;
		if (!(f->ngroups % SHPT_FRAMES_CHUNK))
			cond_resched();
	}
	return 0;
}

static void shpt_frames_free(struct shpt_frames *f)
{
	kvfree(f->groups);
	kvfree(f->recs);
	kfree(f);
}

static struct shpt_frames *shpt_frames_build(void)
{
	struct shpt_table_stats ts;
	struct shpt_frames *f;
	int err = -ENOMEM;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return ERR_PTR(-ENOMEM);
	/* Room for entries inserted while we walk; more is truncated. */
	shpt_table_get_stats(shpt_table, &ts);
	f->cap = min_t(u64, ts.nelems + ts.nelems / 4 + 256, SHPT_FRAMES_MAX);
	f->recs = kvmalloc_array(f->cap, sizeof(*f->recs),
				 GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!f->recs)
		goto out_free;
	/*
	 * With rehashes held off, every entry present throughout the walk is
	 * recorded once: a frame shared all along is never missed.
	 */
	err = shpt_table_walk_all(shpt_table, SHPT_FRAMES_CHUNK,
				  shpt_frames_add, f);
	if (err)
		goto out_free;
	sort(f->recs, f->nrecs, sizeof(*f->recs), shpt_frame_rec_cmp, NULL);
	err = shpt_frames_group(f);
	if (err)
		goto out_free;
	return f;

out_free:
	shpt_frames_free(f);
	return ERR_PTR(err);
}

static void shpt_frames_header(struct seq_file *m, const struct shpt_frames *f)
{
	int c;

	seq_printf(m, "frames_shared %zu pages %llu mappings %llu",
		   f->ngroups, f->pages, f->mappings);
	for (c = 0; c < SHPT_FRAME_NR; c++)
		seq_printf(m, " %s %llu", shpt_frame_cause_names[c],
			   f->cause[c]);
	seq_printf(m, " entries %llu truncated %d\n", f->entries,
		   f->truncated);
	seq_printf(m, "# pfn PFN pages N count N cause CAUSE: the first %d asid:vpn[:order]\n",
		   SHPT_FRAMES_SHOW);
}

static void shpt_frames_line(struct seq_file *m, const struct shpt_frames *f,
			     const struct shpt_frame_group *g)
{
	const struct shpt_frame_rec *r = &f->recs[g->first];
	unsigned int i, order;

	seq_printf(m, "pfn 0x%llx pages %u count %u cause %s:",
		   shpt_rec_pfn(r), g->pages, g->count,
		   shpt_frame_cause_names[g->cause]);
	for (i = 0; i < min_t(u32, g->count, SHPT_FRAMES_SHOW); i++, r++) {
		order = r->pfn_order & SHPT_FRAMES_ORDER_MASK;
		seq_printf(m, " %llu:0x%llx", r->key >> SHPT_VPN_BITS,
			   r->key & SHPT_VPN_MAX);
		if (order)
			seq_printf(m, ":%u", order);
	}
	seq_putc(m, '\n');
}

/* Position 0 is the summary, position k the k-th shared frame. */
static void *shpt_frames_seq_at(struct seq_file *m, loff_t pos)
{
	struct shpt_frames *f = m->private;

	if (pos == 0)
		return SEQ_START_TOKEN;
	if (pos - 1 < f->ngroups)
		return &f->groups[pos - 1];
	return NULL;
}

static void *shpt_frames_start(struct seq_file *m, loff_t *pos)
{
	return shpt_frames_seq_at(m, *pos);
}

static void *shpt_frames_next(struct seq_file *m, void *v, loff_t *pos)
{
	return shpt_frames_seq_at(m, ++*pos);
}

static void shpt_frames_stop(struct seq_file *m, void *v)
{
}

static int shpt_frames_show(struct seq_file *m, void *v)
{
	if (v == SEQ_START_TOKEN)
		shpt_frames_header(m, m->private);
	else
		shpt_frames_line(m, m->private, v);
	return 0;
}

static const struct seq_operations shpt_frames_sops = {
	.start = shpt_frames_start,
	.next = shpt_frames_next,
	.stop = shpt_frames_stop,
	.show = shpt_frames_show,
};

static int shpt_frames_open(struct inode *inode, struct file *file)
{
	struct shpt_frames *f;
	int err;

	/* Mode 0400 is not enough: it shows every mirrored process's frames. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	f = shpt_frames_build();
	if (IS_ERR(f))
		return PTR_ERR(f);
	err = seq_open(file, &shpt_frames_sops);
	if (err) {
		shpt_frames_free(f);
		return err;
	}
	((struct seq_file *)file->private_data)->private = f;
	return 0;
}

static int shpt_frames_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;

	shpt_frames_free(m->private);
	return seq_release(inode, file);
}

static const struct file_operations shpt_frames_fops = {
	.owner = THIS_MODULE,
	.open = shpt_frames_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = shpt_frames_release,
};

/**
 * shpt_frames_debugfs_init() - create the "frames" file
 * @dir: the module's debugfs directory
 *
 * The file is mode 0400 and its open also requires CAP_SYS_ADMIN; see
 * DOC: Shared frames.  Failures are ignored, as for every debugfs file.
 */
void shpt_frames_debugfs_init(struct dentry *dir)
{
	debugfs_create_file("frames", 0400, dir, NULL, &shpt_frames_fops);
}
