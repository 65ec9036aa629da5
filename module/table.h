/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shpt: the shadow hashed page table.
 *
 * One global table maps (asid, vpn, order) to a pfn and protection flags.
 * Buckets are singly linked RCU chains that end in a per-bucket "nulls"
 * marker; readers take no lock, writers take a per-bucket bit lock.
 * Resize and rekey move entries into a new bucket array while readers keep
 * going (see table.c: DOC: Resize).
 *
 * This header and table.c compile unchanged in the kernel and, against the
 * shim in tools/testing/shim/, in userspace.
 */
#ifndef _SHPT_TABLE_H
#define _SHPT_TABLE_H

#include <linux/types.h>
#include <linux/bits.h>

/*
 * Field widths.  An entry packs its key into one 64-bit word (asid:20 |
 * vpn:44) and its value into another (pfn:40 | order:6 | flags:16), so a
 * reader's copy of an entry is two single-copy-atomic loads.  The value
 * word's bits 62 and 63 are not fields: table.c marks a removed entry with
 * bit 63 (SHPT_VAL_DEAD), so all 16 flag bits stay usable.
 *
 * 44 VPN bits cover a 56-bit user address space (5-level paging); 40 PFN
 * bits cover 52 bits of physical address (MAX_PHYSMEM_BITS with LA57).
 * 20 ASID bits allow about a million mirrors at once; ASIDs are recycled,
 * a grace period after their mirror's entries were all removed (mirror.c:
 * DOC: ASID recycling), so the table itself never sees two owners of one.
 */
#define SHPT_ASID_BITS		20
#define SHPT_VPN_BITS		44
#define SHPT_PFN_BITS		40
#define SHPT_ORDER_BITS		6
#define SHPT_FLAG_BITS		16

#define SHPT_ASID_MAX		((1ULL << SHPT_ASID_BITS) - 1)	/* 0 is never an ASID */
#define SHPT_VPN_MAX		((1ULL << SHPT_VPN_BITS) - 1)
#define SHPT_PFN_MAX		((1ULL << SHPT_PFN_BITS) - 1)
#define SHPT_ORDER_MAX		((1U << SHPT_ORDER_BITS) - 1)

/*
 * The largest bucket array: 2^26 heads of 8 bytes is 512 MiB, below the
 * INT_MAX bytes that kvmalloc() accepts.
 */
#define SHPT_MAX_BUCKETS	BIT(26)

/*
 * sizeof(struct shpt_entry), which table.c keeps private and checks against
 * this: debugfs charges each ASID its entries' share of the entry cache.
 */
#define SHPT_ENTRY_BYTES	24

/* Entry flags.  Only what is cheap and true at snapshot time. */
#define SHPT_F_VALID		BIT(0)	/* the translation is present */
#define SHPT_F_WRITE		BIT(1)	/* the PTE is writable */
#define SHPT_F_READ		BIT(2)	/* VM_READ */
#define SHPT_F_EXEC		BIT(3)	/* VM_EXEC */
#define SHPT_F_ANON		BIT(4)	/* anonymous VMA */
#define SHPT_F_SHARED		BIT(5)	/* VM_SHARED */
#define SHPT_F_COW		BIT(6)	/* private, VM_WRITE, PTE read-only */

/**
 * enum shpt_hash_fn - how a key picks its bucket
 * @SHPT_HASH_SIPHASH: SipHash-2-4 with a random 128-bit key (default).
 * @SHPT_HASH_HSIPHASH: hsiphash (SipHash-1-3 on 64-bit); faster, weaker.
 * @SHPT_HASH_MODULO: vpn mod B, the naive hash; no key, never rekeys.
 * @SHPT_HASH_NR: number of hash functions; not a valid value.
 */
enum shpt_hash_fn {
	SHPT_HASH_SIPHASH,
	SHPT_HASH_HSIPHASH,
	SHPT_HASH_MODULO,
	SHPT_HASH_NR,
};

/**
 * struct shpt_mapping - a caller's copy of one translation
 * @asid: address-space id, 1..SHPT_ASID_MAX
 * @vpn: virtual page number in units of 4 KiB, aligned to 1 << @order
 * @order: page order: 0 for 4 KiB, 9 for a PMD-mapped 2 MiB page
 * @pfn: first page frame number of the mapping
 * @flags: SHPT_F_* bits
 */
struct shpt_mapping {
	u64 asid;
	u64 vpn;
	u64 pfn;
	u32 order;
	u32 flags;
};

/**
 * struct shpt_table_params - how a table is sized and hashed
 * @init_buckets: starting bucket count, rounded up to a power of two and
 *	clamped to [@min_buckets, @max_buckets]
 * @min_buckets: never shrink below this (rounded up to a power of two, >= 1)
 * @max_buckets: never grow above this (rounded up to a power of two,
 *	<= SHPT_MAX_BUCKETS)
 * @max_load_pct: grow when 100 * n / B exceeds this (default 150)
 * @min_load_pct: shrink when 100 * n / B falls below this (default 55);
 *	0 never shrinks; must be below @max_load_pct / 2 so that a resize
 *	cannot trigger the opposite one
 * @max_chain: an insert that finds a longer chain rekeys the table (16);
 *	0 disables the flood defence
 * @hash: bucket hash, see &enum shpt_hash_fn
 */
struct shpt_table_params {
	unsigned int init_buckets;
	unsigned int min_buckets;
	unsigned int max_buckets;
	unsigned int max_load_pct;
	unsigned int min_load_pct;
	unsigned int max_chain;
	enum shpt_hash_fn hash;
};

/**
 * struct shpt_table_stats - counters summed over all CPUs
 * @lookups: calls to shpt_table_lookup()
 * @hits: lookups that found the key
 * @misses: lookups that did not
 * @probes: chain entries visited by lookups, restarts included
 * @max_probes: the most entries one lookup visited
 * @restarts: lookups that restarted because a resize moved their chain
 * @inserts: new entries linked
 * @replaces: inserts that updated an existing entry in place
 * @removes: entries unlinked, by any remove operation
 * @grows: resizes that doubled (or more) the bucket array
 * @shrinks: resizes that halved (or more) it
 * @rekeys: rehashes into a fresh random key (flood defence or forced)
 * @long_chains: inserts that found a chain longer than max_chain
 * @alloc_fail: entry or bucket-array allocations that failed
 * @rekey_retries: rekeys retried because their bucket array could not be
 *	allocated (the request stays pending)
 * @nelems: entries in the table now
 * @nbuckets: buckets in the current array
 * @bytes: memory the table holds now: entries (a 24-byte object each, 170
 *	to a slab page) plus the current bucket array
 */
struct shpt_table_stats {
	u64 lookups;
	u64 hits;
	u64 misses;
	u64 probes;
	u64 max_probes;
	u64 restarts;
	u64 inserts;
	u64 replaces;
	u64 removes;
	u64 grows;
	u64 shrinks;
	u64 rekeys;
	u64 long_chains;
	u64 alloc_fail;
	u64 rekey_retries;
	u64 nelems;
	u64 nbuckets;
	u64 bytes;
};

/**
 * struct shpt_key - one key of a bulk lookup
 * @asid: address-space id
 * @vpn: virtual page number, aligned to 1 << @order
 * @order: page order the entry was inserted with
 */
struct shpt_key {
	u64 asid;
	u64 vpn;
	unsigned int order;
};

struct shpt_table;

void shpt_table_default_params(struct shpt_table_params *p);
struct shpt_table *shpt_table_create(const struct shpt_table_params *params);
void shpt_table_destroy(struct shpt_table *t);

bool shpt_table_lookup(struct shpt_table *t, u64 asid, u64 vpn,
		       unsigned int order, struct shpt_mapping *out);
unsigned int shpt_table_lookup_bulk(struct shpt_table *t,
				    const struct shpt_key *keys,
				    unsigned int n, struct shpt_mapping *out,
				    unsigned long *hits);
int shpt_table_insert(struct shpt_table *t, const struct shpt_mapping *m,
		      gfp_t gfp);
bool shpt_table_remove(struct shpt_table *t, u64 asid, u64 vpn,
		       unsigned int order);
unsigned long shpt_table_remove_range(struct shpt_table *t, u64 asid,
				      u64 start_vpn, u64 end_vpn);
unsigned long shpt_table_remove_asid(struct shpt_table *t, u64 asid);
unsigned long shpt_table_remove_asid_sleepable(struct shpt_table *t, u64 asid);

int shpt_table_rehash(struct shpt_table *t, unsigned int nbuckets,
		      bool rekey);
void shpt_table_flush(struct shpt_table *t);

/**
 * typedef shpt_walk_fn - visitor for shpt_table_walk()
 * @m: a copy of the entry; valid only during the call
 * @arg: the caller's cookie
 *
 * Called under rcu_read_lock(); must not sleep.
 */
typedef void (*shpt_walk_fn)(const struct shpt_mapping *m, void *arg);

unsigned long shpt_table_walk(struct shpt_table *t, unsigned long pos,
			      unsigned long nbuckets, shpt_walk_fn fn,
			      void *arg);
int shpt_table_walk_all(struct shpt_table *t, unsigned long nbuckets,
			shpt_walk_fn fn, void *arg);
unsigned long shpt_table_chain_hist(struct shpt_table *t, u64 *hist,
				    unsigned int nbins);

void shpt_table_get_stats(struct shpt_table *t, struct shpt_table_stats *s);
void shpt_table_reset_stats(struct shpt_table *t);
void shpt_table_get_params(struct shpt_table *t,
			   struct shpt_table_params *p);
const char *shpt_hash_name(enum shpt_hash_fn fn);

#endif /* _SHPT_TABLE_H */
