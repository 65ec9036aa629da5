// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_table - libFuzzer target for the shpt table
 *
 * The input is a table configuration byte followed by a sequence of
 * operations on a small key space: three ASIDs and the largest one, a
 * dozen VPNs including 0, SHPT_VPN_MAX and both sides of a 2 MiB boundary,
 * orders 0 and 9, and invalid values of each (ASID 0, ASID and VPN out of
 * range, a misaligned VPN, a bad order, pfn and flags too wide).  Every
 * operation runs on the table and on a plain array that is obviously
 * right, and every result is compared: return codes, found or not, the
 * whole mapping (single and bulk lookups), the number of entries removed, and the counters that
 * shpt_table_get_stats() reports.  At the end (and on a "check" op) the
 * table is walked and must hold exactly the reference's mappings, and the
 * chain histogram must add up.  Any difference aborts, so libFuzzer saves
 * the input.
 *
 * Build: make -C tools/testing fuzz; run: build/fuzz_table CORPUS_DIR.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <shim.h>
#include "table.h"

#define SHPT_FZ_MAX_REF		1024
#define SHPT_FZ_HIST_BINS	(SHPT_FZ_MAX_REF + 2)
#define SHPT_FZ_MAX_OPS		2048

static const u64 shpt_fz_asids[] = {
	1, 2, 3, SHPT_ASID_MAX, 1, 2,
	0, SHPT_ASID_MAX + 1,			/* invalid */
};

static const u64 shpt_fz_vpns[] = {
	0, 1, 2, 511, 512, 513, 1023, 1024,
	0x7ffffffff, 0x800000000, 0x800000200,
	SHPT_VPN_MAX + 1 - 512,			/* the last 2 MiB page */
	SHPT_VPN_MAX - 1, SHPT_VPN_MAX,
	SHPT_VPN_MAX + 1, ~0ULL,		/* invalid */
};

static const u64 shpt_fz_pfns[] = {
	0, 1, 0x12345, 0xfffff, SHPT_PFN_MAX - 1, SHPT_PFN_MAX,
	1ULL << 30, SHPT_PFN_MAX + 1,		/* the last is invalid */
};

/*
 * Mostly 4 KiB and 2 MiB; then 1 and 10 (valid where aligned), 44 (the
 * whole space: valid only at vpn 0), 45 and 63 (never fit), 64 (too wide).
 */
static const unsigned int shpt_fz_orders[] = {
	0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 1, 10, 44, 45, 63, SHPT_ORDER_MAX + 1,
};

static const unsigned int shpt_fz_nbuckets[] = {
	0, 1, 2, 3, 5, 7, 8, 64, 100, 1000, 4096, SHPT_MAX_BUCKETS + 1,
	SHPT_MAX_BUCKETS, 1U << 31, 0xffffffffU, 33,
};

struct shpt_fz_in {
	const u8 *p;
	size_t len;
};

static u8 shpt_fz_byte(struct shpt_fz_in *in)
{
	u8 b;

	if (!in->len)
		return 0;
	b = *in->p++;
	in->len--;
	return b;
}

#define SHPT_FZ_PICK(in, arr) ((arr)[shpt_fz_byte(in) % ARRAY_SIZE(arr)])

/* ---- the reference: an unsorted array, searched linearly --------------- */

struct shpt_fz_ref {
	struct shpt_mapping e[SHPT_FZ_MAX_REF];
	unsigned int n;
};

/* Written from table.h's field widths, not from table.c. */
static bool shpt_fz_key_valid(u64 asid, u64 vpn, unsigned int order)
{
	u64 size;

	if (asid < 1 || asid > SHPT_ASID_MAX || vpn > SHPT_VPN_MAX ||
	    order > SHPT_ORDER_MAX)
		return false;
	size = 1ULL << order;
	if (vpn % size)
		return false;
	/* the whole page lies inside the address space */
	return size <= SHPT_VPN_MAX + 1 - vpn;
}

static int shpt_fz_ref_find(struct shpt_fz_ref *r, u64 asid, u64 vpn,
			    unsigned int order)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (r->e[i].asid == asid && r->e[i].vpn == vpn &&
		    r->e[i].order == order)
			return i;
	return -1;
}

static void shpt_fz_ref_del(struct shpt_fz_ref *r, unsigned int i)
{
	r->e[i] = r->e[--r->n];
}

/* ---- comparisons -------------------------------------------------------- */

static void shpt_fz_fail(const char *what, unsigned long long got,
			 unsigned long long want)
{
	fprintf(stderr, "shpt fuzz: %s: table says %llu (%#llx), reference %llu (%#llx)\n",
		what, got, got, want, want);
	abort();
}

#define SHPT_FZ_EQ(what, got, want) do {				\
	unsigned long long __g = (got), __w = (want);			\
	if (__g != __w)							\
		shpt_fz_fail(what, __g, __w);				\
} while (0)

struct shpt_fz_state {
	struct shpt_table *t;
	struct shpt_fz_ref ref;
	struct shpt_table_stats want;	/* what the counters must read */
	struct shpt_table_params params;
};

static void shpt_fz_check_stats(struct shpt_fz_state *s)
{
	struct shpt_table_stats st;

	shpt_table_get_stats(s->t, &st);
	SHPT_FZ_EQ("stats.nelems", st.nelems, s->ref.n);
	SHPT_FZ_EQ("stats.lookups", st.lookups, s->want.lookups);
	SHPT_FZ_EQ("stats.hits", st.hits, s->want.hits);
	SHPT_FZ_EQ("stats.misses", st.misses, s->want.misses);
	SHPT_FZ_EQ("stats.inserts", st.inserts, s->want.inserts);
	SHPT_FZ_EQ("stats.replaces", st.replaces, s->want.replaces);
	SHPT_FZ_EQ("stats.removes", st.removes, s->want.removes);
	SHPT_FZ_EQ("stats.alloc_fail", st.alloc_fail, s->want.alloc_fail);
	if (!st.nbuckets || (st.nbuckets & (st.nbuckets - 1)))
		shpt_fz_fail("nbuckets is not a power of two", st.nbuckets, 0);
	if (st.nbuckets < s->params.min_buckets ||
	    st.nbuckets > s->params.max_buckets)
		shpt_fz_fail("nbuckets outside [min_buckets, max_buckets]",
			     st.nbuckets, s->params.max_buckets);
}

struct shpt_fz_walk {
	struct shpt_fz_ref *ref;
	u8 seen[SHPT_FZ_MAX_REF];
	unsigned long count;
};

static void shpt_fz_walk_fn(const struct shpt_mapping *m, void *arg)
{
	struct shpt_fz_walk *w = arg;
	int i = shpt_fz_ref_find(w->ref, m->asid, m->vpn, m->order);

	w->count++;
	if (i < 0)
		shpt_fz_fail("walk found an entry the reference lacks (vpn, asid)",
			     m->vpn, m->asid);
	if (w->seen[i]++)
		shpt_fz_fail("walk visited an entry twice (vpn, asid)", m->vpn,
			     m->asid);
	SHPT_FZ_EQ("walk pfn", m->pfn, w->ref->e[i].pfn);
	SHPT_FZ_EQ("walk flags", m->flags, w->ref->e[i].flags);
}

/* Quiesce, then the whole table by walking it in chunks, and its histogram. */
static void shpt_fz_check_all(struct shpt_fz_state *s, unsigned int chunk)
{
	static u64 hist[SHPT_FZ_HIST_BINS];
	static struct shpt_fz_walk w;
	unsigned long pos = 0, buckets, sum = 0, weighted = 0;
	unsigned int i, guard = 0;

	shpt_table_flush(s->t);
	memset(&w, 0, sizeof(w));
	w.ref = &s->ref;
	do {
		pos = shpt_table_walk(s->t, pos, chunk ? chunk : 1,
				      shpt_fz_walk_fn, &w);
		if (++guard > s->params.max_buckets + 1)
			shpt_fz_fail("walk does not end", pos, 0);
	} while (pos);
	SHPT_FZ_EQ("walk count", w.count, s->ref.n);

	buckets = shpt_table_chain_hist(s->t, hist, SHPT_FZ_HIST_BINS);
	for (i = 0; i < SHPT_FZ_HIST_BINS; i++) {
		sum += hist[i];
		weighted += (unsigned long)i * hist[i];
	}
	SHPT_FZ_EQ("hist buckets", sum, buckets);
	SHPT_FZ_EQ("hist entries", weighted, s->ref.n);
	shpt_fz_check_stats(s);
}

/* ---- operations ----------------------------------------------------------- */

static void shpt_fz_insert(struct shpt_fz_state *s, struct shpt_fz_in *in,
			   bool fail_alloc)
{
	struct shpt_mapping m = {
		.asid = SHPT_FZ_PICK(in, shpt_fz_asids),
		.vpn = SHPT_FZ_PICK(in, shpt_fz_vpns),
		.order = SHPT_FZ_PICK(in, shpt_fz_orders),
		.pfn = SHPT_FZ_PICK(in, shpt_fz_pfns),
	};
	u8 f = shpt_fz_byte(in);
	int want, got, i;

	/* Mostly valid flags; 0xff sets a bit above the 16 allowed. */
	m.flags = f == 0xff ? 1U << SHPT_FLAG_BITS : f | (f & 1) << 15;
	i = shpt_fz_ref_find(&s->ref, m.asid, m.vpn, m.order);
	if (!shpt_fz_key_valid(m.asid, m.vpn, m.order) ||
	    m.pfn > SHPT_PFN_MAX || m.flags >= 1U << SHPT_FLAG_BITS)
		want = -EINVAL;
	else if (fail_alloc)
		want = -ENOMEM;		/* the entry is allocated first */
	else
		want = i >= 0;		/* 1: replaced */

	if (fail_alloc) {
		/* No worker may take the injected failure. */
		shpt_table_flush(s->t);
		shim_fail_allocs(1);
	}
	got = shpt_table_insert(s->t, &m, GFP_KERNEL);
	shim_fail_allocs(0);
	SHPT_FZ_EQ("insert return", got, want);
	if (want == -ENOMEM)
		s->want.alloc_fail++;
	if (want < 0)
		return;
	if (i >= 0) {
		s->ref.e[i] = m;
		s->want.replaces++;
	} else {
		s->ref.e[s->ref.n++] = m;
		s->want.inserts++;
	}
}

static void shpt_fz_lookup(struct shpt_fz_state *s, struct shpt_fz_in *in)
{
	u64 asid = SHPT_FZ_PICK(in, shpt_fz_asids);
	u64 vpn = SHPT_FZ_PICK(in, shpt_fz_vpns);
	unsigned int order = SHPT_FZ_PICK(in, shpt_fz_orders);
	bool want_out = shpt_fz_byte(in) & 1;
	struct shpt_mapping out;
	int i = shpt_fz_ref_find(&s->ref, asid, vpn, order);
	bool found;

	memset(&out, 0xa5, sizeof(out));
	found = shpt_table_lookup(s->t, asid, vpn, order,
				  want_out ? &out : NULL);
	SHPT_FZ_EQ("lookup found", found, i >= 0);
	/* Invalid arguments are rejected before they count as lookups. */
	if (shpt_fz_key_valid(asid, vpn, order)) {
		s->want.lookups++;
		if (found)
			s->want.hits++;
		else
			s->want.misses++;
	}
	if (!found || !want_out)
		return;
	SHPT_FZ_EQ("lookup asid", out.asid, asid);
	SHPT_FZ_EQ("lookup vpn", out.vpn, vpn);
	SHPT_FZ_EQ("lookup order", out.order, order);
	SHPT_FZ_EQ("lookup pfn", out.pfn, s->ref.e[i].pfn);
	SHPT_FZ_EQ("lookup flags", out.flags, s->ref.e[i].flags);
}

/* Keys in one bulk lookup: more than two groups of the table's pipeline. */
#define SHPT_FZ_MAX_BULK	40

/*
 * A bulk lookup of up to SHPT_FZ_MAX_BULK keys picked like single lookups:
 * each key's bit, copy and count must be what the reference says, entries
 * of keys not found untouched.
 */
static void shpt_fz_lookup_bulk(struct shpt_fz_state *s, struct shpt_fz_in *in)
{
	static struct shpt_mapping out[SHPT_FZ_MAX_BULK];
	static struct shpt_key keys[SHPT_FZ_MAX_BULK];
	unsigned int n = shpt_fz_byte(in) % (SHPT_FZ_MAX_BULK + 1);
	bool want_out = shpt_fz_byte(in) & 1;
	unsigned long hits = ~0UL;
	unsigned int k, want = 0, got;
	bool found;
	int i;

	for (k = 0; k < n; k++) {
		keys[k].asid = SHPT_FZ_PICK(in, shpt_fz_asids);
		keys[k].vpn = SHPT_FZ_PICK(in, shpt_fz_vpns);
		keys[k].order = SHPT_FZ_PICK(in, shpt_fz_orders);
	}
	memset(out, 0xa5, sizeof(out));
	got = shpt_table_lookup_bulk(s->t, keys, n, want_out ? out : NULL,
				     &hits);
	for (k = 0; k < n; k++) {
		i = shpt_fz_ref_find(&s->ref, keys[k].asid, keys[k].vpn,
				     keys[k].order);
		found = hits & (1UL << k);
		SHPT_FZ_EQ("bulk found", found, i >= 0);
		want += found;
		if (shpt_fz_key_valid(keys[k].asid, keys[k].vpn,
				      keys[k].order)) {
			s->want.lookups++;
			if (found)
				s->want.hits++;
			else
				s->want.misses++;
		}
		if (!found) {
			SHPT_FZ_EQ("bulk miss leaves its entry", out[k].pfn,
				   0xa5a5a5a5a5a5a5a5ULL);
			continue;
		}
		if (!want_out)
			continue;
		SHPT_FZ_EQ("bulk asid", out[k].asid, keys[k].asid);
		SHPT_FZ_EQ("bulk vpn", out[k].vpn, keys[k].vpn);
		SHPT_FZ_EQ("bulk order", out[k].order, keys[k].order);
		SHPT_FZ_EQ("bulk pfn", out[k].pfn, s->ref.e[i].pfn);
		SHPT_FZ_EQ("bulk flags", out[k].flags, s->ref.e[i].flags);
	}
	SHPT_FZ_EQ("bulk return", got, want);
	if (n < 8 * sizeof(hits))
		SHPT_FZ_EQ("bulk bits past n", hits >> n, ~0UL >> n);
}

static void shpt_fz_remove(struct shpt_fz_state *s, struct shpt_fz_in *in)
{
	u64 asid = SHPT_FZ_PICK(in, shpt_fz_asids);
	u64 vpn = SHPT_FZ_PICK(in, shpt_fz_vpns);
	unsigned int order = SHPT_FZ_PICK(in, shpt_fz_orders);
	int i = shpt_fz_ref_find(&s->ref, asid, vpn, order);

	SHPT_FZ_EQ("remove return", shpt_table_remove(s->t, asid, vpn, order),
		   i >= 0);
	if (i >= 0) {
		shpt_fz_ref_del(&s->ref, i);
		s->want.removes++;
	}
}

/*
 * Remove what the API promises to: entries of @asid whose pages
 * [vpn, vpn + 2^order) overlap [start, end), with end clamped to the
 * address space; nothing for an invalid asid or an empty range.
 */
static unsigned long shpt_fz_ref_remove_range(struct shpt_fz_state *s,
					      u64 asid, u64 start, u64 end)
{
	unsigned long n = 0;
	unsigned int i = 0;

	if (end > SHPT_VPN_MAX + 1)
		end = SHPT_VPN_MAX + 1;
	if (asid < 1 || asid > SHPT_ASID_MAX || start >= end)
		return 0;
	while (i < s->ref.n) {
		const struct shpt_mapping *e = &s->ref.e[i];

		if (e->asid == asid && e->vpn < end &&
		    e->vpn + (1ULL << e->order) - 1 >= start) {
			shpt_fz_ref_del(&s->ref, i);
			n++;
		} else {
			i++;
		}
	}
	s->want.removes += n;
	return n;
}

static void shpt_fz_remove_range(struct shpt_fz_state *s,
				 struct shpt_fz_in *in)
{
	u64 asid = SHPT_FZ_PICK(in, shpt_fz_asids);
	u64 start = SHPT_FZ_PICK(in, shpt_fz_vpns);
	u64 end = SHPT_FZ_PICK(in, shpt_fz_vpns);
	u8 adj = shpt_fz_byte(in);
	unsigned long got, want;

	/* Nudge the ends off the listed values now and then. */
	if (adj & 1)
		start += (adj >> 1) & 3;
	if (adj & 8)
		end += (adj >> 4) & 3;
	got = shpt_table_remove_range(s->t, asid, start, end);
	want = shpt_fz_ref_remove_range(s, asid, start, end);
	SHPT_FZ_EQ("remove_range count", got, want);
}

static void shpt_fz_remove_asid(struct shpt_fz_state *s,
				struct shpt_fz_in *in)
{
	u64 asid = SHPT_FZ_PICK(in, shpt_fz_asids);
	unsigned long got = shpt_table_remove_asid(s->t, asid);

	SHPT_FZ_EQ("remove_asid count", got,
		   shpt_fz_ref_remove_range(s, asid, 0, ~0ULL));
}

static unsigned int shpt_fz_pow2(u64 n)
{
	u64 p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Forced rehash or rekey; with @fail_alloc its array allocation fails. */
static void shpt_fz_rehash(struct shpt_fz_state *s, struct shpt_fz_in *in,
			   bool fail_alloc)
{
	unsigned int nb = SHPT_FZ_PICK(in, shpt_fz_nbuckets);
	bool rekey = shpt_fz_byte(in) & 1;
	struct shpt_table_stats st;
	u64 want = 0, before;
	int got;

	/* Quiesce, so no automatic resize runs between us and the check. */
	shpt_table_flush(s->t);
	shpt_table_get_stats(s->t, &st);
	before = st.nbuckets;
	if (nb) {
		want = shpt_fz_pow2(nb < s->params.max_buckets ? nb :
				    s->params.max_buckets);
		if (want < s->params.min_buckets)
			want = s->params.min_buckets;
		if (want > s->params.max_buckets)
			want = s->params.max_buckets;
	}
	if (fail_alloc)
		shim_fail_allocs(1);
	got = shpt_table_rehash(s->t, nb, rekey);
	shim_fail_allocs(0);
	SHPT_FZ_EQ("rehash return", got, fail_alloc ? -ENOMEM : 0);
	shpt_table_get_stats(s->t, &st);
	if (fail_alloc) {
		s->want.alloc_fail++;
		SHPT_FZ_EQ("nbuckets after a failed rehash", st.nbuckets,
			   before);
	} else {
		SHPT_FZ_EQ("nbuckets after rehash", st.nbuckets,
			   nb ? want : before);
	}
}

/* Parameters from one byte; shpt_table_create() normalizes them. */
static void shpt_fz_config(struct shpt_fz_state *s, struct shpt_fz_in *in)
{
	static const unsigned int init[] = { 1, 2, 4, 64, 1000, 3, 0, 16 };
	static const unsigned int chain[] = { 0, 1, 2, 16 };
	static const unsigned int load[][2] = {
		{ 75, 25 }, { 1, 0 }, { 100000, 0 }, { 200, 50 },
	};
	static const unsigned int minb[] = { 1, 2, 16, 3 };
	u8 a = shpt_fz_byte(in), b = shpt_fz_byte(in);

	shpt_table_default_params(&s->params);
	s->params.hash = (a & 3) % SHPT_HASH_NR;
	s->params.max_chain = chain[(a >> 2) & 3];
	s->params.init_buckets = init[(a >> 4) & 7];
	s->params.max_buckets = a & 0x80 ? 1024 : 5;
	if ((a & 0xc0) == 0x40 && (b & 0xf0) == 0xf0)
		s->params.max_buckets = SHPT_MAX_BUCKETS + 1;	/* refused */
	s->params.min_buckets = minb[b & 3];
	s->params.max_load_pct = load[(b >> 2) & 3][0];
	s->params.min_load_pct = load[(b >> 2) & 3][1];
}

/* What shpt_table_create() must do with the parameters. */
static void shpt_fz_normalize(struct shpt_table_params *p)
{
	p->min_buckets = shpt_fz_pow2(p->min_buckets);
	p->max_buckets = shpt_fz_pow2(p->max_buckets);
	p->init_buckets = shpt_fz_pow2(p->init_buckets ? p->init_buckets : 1);
	if (p->init_buckets < p->min_buckets)
		p->init_buckets = p->min_buckets;
	if (p->init_buckets > p->max_buckets)
		p->init_buckets = p->max_buckets;
}

/* Does shpt_table_create() have to refuse @p? (table.h's rules) */
static bool shpt_fz_params_bad(const struct shpt_table_params *p)
{
	return p->hash >= SHPT_HASH_NR || !p->min_buckets || !p->max_buckets ||
	       p->max_buckets > SHPT_MAX_BUCKETS ||
	       p->min_buckets > p->max_buckets || !p->max_load_pct ||
	       p->max_load_pct > 100000 ||
	       2 * p->min_load_pct >= p->max_load_pct;
}

static void shpt_fz_create(struct shpt_fz_state *s)
{
	struct shpt_table_params bad = s->params, got;
	struct shpt_table *t;

	/* An inconsistent set is refused. */
	bad.min_load_pct = bad.max_load_pct;
	t = shpt_table_create(&bad);
	if (!IS_ERR(t) || PTR_ERR(t) != -EINVAL)
		shpt_fz_fail("create with min_load >= max_load / 2", 0, 1);

	if (shpt_fz_params_bad(&s->params)) {
		t = shpt_table_create(&s->params);
		if (!IS_ERR(t) || PTR_ERR(t) != -EINVAL)
			shpt_fz_fail("create with bad parameters", 0, 1);
		s->params.min_buckets = 1;
		s->params.max_buckets = 1024;
	}
	s->t = shpt_table_create(&s->params);
	if (IS_ERR_OR_NULL(s->t))
		shpt_fz_fail("create failed", PTR_ERR(s->t), 0);
	shpt_fz_normalize(&s->params);
	shpt_table_get_params(s->t, &got);
	SHPT_FZ_EQ("params.init_buckets", got.init_buckets,
		   s->params.init_buckets);
	SHPT_FZ_EQ("params.min_buckets", got.min_buckets,
		   s->params.min_buckets);
	SHPT_FZ_EQ("params.max_buckets", got.max_buckets,
		   s->params.max_buckets);
	shpt_fz_check_stats(s);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct shpt_fz_state s;
	static bool registered;
	struct shpt_fz_in in = { data, size };
	unsigned int nops = 0;
	long blocks = shim_kmalloc_live();

	if (!registered) {
		shim_thread_init();
		shim_set_quiet(1);
		registered = true;
	}
	memset(&s, 0, sizeof(s));
	shpt_fz_config(&s, &in);
	shpt_fz_create(&s);
	while (in.len && nops++ < SHPT_FZ_MAX_OPS) {
		u8 op = shpt_fz_byte(&in);

		switch (op % 16) {
		case 0: case 1: case 2: case 3: case 4:
			shpt_fz_insert(&s, &in, false);
			break;
		case 5: case 6:
			shpt_fz_lookup(&s, &in);
			break;
		case 7:
			if (op & 0x80)
				shpt_fz_lookup_bulk(&s, &in);
			else
				shpt_fz_lookup(&s, &in);
			break;
		case 8: case 9:
			shpt_fz_remove(&s, &in);
			break;
		case 10: case 11:
			shpt_fz_remove_range(&s, &in);
			break;
		case 12:
			shpt_fz_remove_asid(&s, &in);
			break;
		case 13:
			shpt_fz_rehash(&s, &in, op & 0x80);
			break;
		case 14:
			if (op & 0x10)
				shpt_fz_insert(&s, &in, true);
			else
				shpt_fz_check_all(&s, op >> 5);
			break;
		case 15:
			if (op & 0x10) {
				shpt_table_flush(s.t);
			} else {
				shpt_table_reset_stats(s.t);
				memset(&s.want, 0, sizeof(s.want));
			}
			break;
		}
		shpt_fz_check_stats(&s);
	}
	shpt_fz_check_all(&s, 3);
	shpt_table_destroy(s.t);
	SHPT_FZ_EQ("kmem_cache objects left after destroy", shim_kmem_live(),
		   0);
	SHPT_FZ_EQ("kmalloc blocks left after destroy", shim_kmalloc_live(),
		   blocks);
	return 0;
}
