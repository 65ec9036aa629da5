// SPDX-License-Identifier: GPL-2.0
/*
 * shpt table core: a hashed page table with RCU readers, per-bucket bit
 * locks, batched freeing, and resize/rekey through a future bucket array.
 *
 * This file compiles unchanged in the kernel and, against the shim in
 * tools/testing/shim/, in userspace.  Keep it to kernel APIs the shim
 * provides.
 */
#define pr_fmt(fmt) "shpt-table: " fmt

#include <linux/atomic.h>
#include <linux/bit_spinlock.h>
#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/prefetch.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "table.h"

/**
 * DOC: Chains
 *
 * A bucket is one word.  It holds the first entry of a singly linked chain,
 * or, when the chain is empty, the chain's nulls marker: the address of the
 * bucket word itself with bit 0 set.  Every chain ends in its bucket's
 * marker, so a reader that reaches the end of a chain knows which chain it
 * walked.  Markers are unique across all bucket arrays alive at one time,
 * because an old array is freed only after a grace period that follows the
 * allocation of its successor.
 *
 * Bit 1 of the bucket word is the bucket's writer lock (bit_spin_lock()).
 * Entries are at least 8-byte aligned, so neither bit is ever part of an
 * entry pointer.  Readers mask the lock bit off; writers that change the
 * head while they hold the lock keep it set (shpt_link_locked()).
 *
 * An entry is 24 bytes: the chain link, the key word (asid | vpn) and the
 * value word (pfn | order | flags).  The key is immutable while the entry
 * is linked.  The value word is either live, with SHPT_VAL_DEAD clear, or,
 * once the entry has been unlinked, a graveyard link with SHPT_VAL_DEAD set
 * (see DOC: Freeing).  A replace rewrites a live value in place.
 *
 * A reader walks a chain without a lock.  It reads the key; on a match it
 * reads the value word once with READ_ONCE().  A live value is a value the
 * entry held while the reader was inside its RCU section, so key and value
 * form a consistent copy.  A dead value means the entry was removed
 * concurrently: the reader treats it as not matching and follows @next,
 * which retiring never touches, so it still leads along the chain the entry
 * was unlinked from (and, as for any unlinked entry, to that chain's nulls
 * marker or into a chain a rehash moved it to).  A miss is then correct:
 * the key was absent at some instant of the lookup, between the unlink and
 * the read of the dead value.
 *
 * Writers hold the bucket lock and only ever see linked entries, and a
 * linked entry is always live: an entry is unlinked under the bucket lock
 * before its value word is overwritten, and the rehash unlinks a moved
 * entry from its old chain before another writer can find it in its new
 * one.  So the order bits that writers read from the value word are always
 * real.
 */

/**
 * DOC: Freeing
 *
 * An unlinked entry goes onto the table's graveyard, a lock-free stack
 * (Treiber) whose links live in the value words of the dead entries: a
 * link is the next entry's address shifted right by one, with
 * SHPT_VAL_DEAD set (shpt_dead_val()).  Entries are 8-byte aligned, so the
 * shift loses only a zero bit 0, and shifting back restores bit 63 of the
 * address from bit 62 (kernel and user addresses alike) and drops
 * SHPT_VAL_DEAD.  The graveyard is only ever pushed onto and emptied whole,
 * so the push needs no ABA protection: a push that succeeds links its
 * entry to the stack top it compared against.  A sweep that unlinks
 * several entries links them to one another first and pushes the batch
 * with one cmpxchg().
 *
 * The push that finds the graveyard empty queues the reaper, which takes
 * the whole stack with xchg(), waits for one grace period, and frees the
 * batch to the entry kmem_cache; it loops until the graveyard stays empty.
 * Every entry in a batch was unlinked before it was pushed, hence before
 * the grace period began, so no reader that can still reach it is left.
 * One grace period is paid per batch rather than one call_rcu() per entry:
 * per-element call_rcu is 7-10 times slower under churn, and kfree_rcu()
 * needs a 16-byte rcu_head, a 40-byte entry.  SLAB_TYPESAFE_BY_RCU was
 * rejected: entries would be reused under readers, so the two-word copy
 * would need a re-check protocol, and SLUB would add an 8-byte free pointer
 * outside the object.  shpt_table_flush() waits for the reaper.
 */

/**
 * DOC: Resize
 *
 * Resize and rekey share one path, shpt_table_rehash(), modelled on
 * rhashtable's future table.  The relativistic "unzip" of Triplett,
 * McKenney and Walpole only works when the new bucket of every entry is
 * determined by its old bucket (power-of-two resize, same hash function);
 * a rekey scatters each chain over arbitrary buckets, so it cannot be
 * unzipped.
 *
 * Under @resize_mutex the rehash allocates the new array, publishes it as
 * the old array's @future, and then empties the old buckets one by one.
 * Each move takes the *last* entry of an old chain, links it at the head of
 * its new chain, and only then unlinks it from the old chain.  An entry is
 * therefore always reachable from its old chain, its new chain, or both,
 * and entries before it in the old chain are untouched.  A reader that
 * follows a moved entry ends on a nulls marker of the new array, sees that
 * it is not its bucket's marker, and restarts.  A reader that misses in the
 * old array looks in @future.  When every bucket is empty the new array is
 * published as the table's array, and the old one is freed after a grace
 * period.
 *
 * Writers lock the old bucket first.  If the key is there they work there;
 * otherwise, if @future is set, they also lock the key's new bucket and
 * work there (an insert then always goes into the new array).  Because the
 * rehash moves an entry only while holding the old bucket lock, a writer
 * sees every key in exactly one place.
 *
 * Lock order: resize_mutex, then a bucket of the older array, then a bucket
 * of the newer array.  At most two arrays exist, and no thread ever holds
 * two buckets of the same array.  The second array cannot gain a @future of
 * its own while any RCU reader still sees the first one: the next rehash
 * needs @resize_mutex, which the current one holds until after
 * synchronize_rcu().
 */

/**
 * DOC: Bulk lookup
 *
 * shpt_table_lookup_bulk() looks keys up in groups of SHPT_BULK_GROUP, in
 * the manner of DPDK's rte_hash_lookup_bulk(): one pass hashes every key of
 * the group and prefetches its bucket word, a second reads every bucket
 * word and prefetches the first entry of the chain, and a third walks the
 * chains.  On a large table each lookup is two or three dependent cache
 * misses (bucket, entry, next entry); issuing the first two for sixteen
 * keys before waiting on any of them lets the misses overlap.
 *
 * Each key's walk is the one shpt_table_lookup() does: restart on a foreign
 * nulls marker, dead entries and entries of another order skipped, and
 * after a miss an smp_rmb() and a look into @future.  The group reads the
 * table's array once, under one rcu_read_lock(), and issues one smp_rmb()
 * after all its walks in that array, before it reads @future for the keys
 * that missed, so every miss is ordered as a single lookup's is.  The
 * statistics are the ones @n single lookups would count, added once per
 * group; keys out of range are not counted, as in shpt_table_lookup().
 */

#define SHPT_NULLS_BIT		1UL
#define SHPT_LOCK_NR		1
#define SHPT_LOCK_BIT		BIT(SHPT_LOCK_NR)

/*
 * Buckets visited between cond_resched() calls by shpt_table_chain_hist()
 * and by a sleepable sweep (one rcu_read_lock() section each), and by
 * bucket-array initialization.
 */
#define SHPT_HIST_CHUNK		1024
/*
 * A rekey whose new bucket array cannot be allocated stays pending and is
 * retried this many times, SHPT_REKEY_RETRY_MS, 2x, 4x... apart.
 */
#define SHPT_REKEY_RETRIES	5
#define SHPT_REKEY_RETRY_MS	20
/* Tail entries moved per hold of an old bucket lock during a rehash. */
#define SHPT_REHASH_BATCH	64

#define SHPT_VAL_ORDER_SHIFT	SHPT_PFN_BITS
#define SHPT_VAL_FLAGS_SHIFT	(SHPT_PFN_BITS + SHPT_ORDER_BITS)
#define SHPT_FLAGS_MAX		((1U << SHPT_FLAG_BITS) - 1)
/*
 * Set in the value word of an unlinked entry, whose other bits are then a
 * graveyard link; see DOC: Freeing.  Bit 63 is above the live fields
 * (pfn:40 | order:6 | flags:16 use bits 0-61), so it costs no flag bit.
 */
#define SHPT_VAL_DEAD		BIT_ULL(63)

/* Bits of shpt_table.flags */
#define SHPT_REKEY_PENDING	0

/**
 * struct shpt_entry - one translation
 * @next: next entry in the chain, or the chain's nulls marker.  Written
 *	under the bucket lock, read under RCU.
 * @key: asid << SHPT_VPN_BITS | vpn.  Immutable once published.
 * @val: pfn | order << 40 | flags << 46 while linked: written with
 *	WRITE_ONCE() under the bucket lock (replace), and the order bits never
 *	change.  Once unlinked, a graveyard link with SHPT_VAL_DEAD set.
 *	Read under RCU.  See DOC: Chains.
 */
struct shpt_entry {
	struct shpt_entry __rcu *next;
	u64 key;
	u64 val;
};

union shpt_hash_key {
	siphash_key_t sip;
	hsiphash_key_t hsip;
};

/**
 * struct shpt_bucket_table - one bucket array
 * @size: number of buckets, a power of two.  Immutable.
 * @key: hash key.  Immutable once the array is published.
 * @future: the array a running rehash moves entries into.  Set under
 *	&shpt_table.resize_mutex, read under RCU; never cleared.
 * @buckets: chain heads; see DOC: Chains.
 */
struct shpt_bucket_table {
	unsigned int size;
	union shpt_hash_key key;
	struct shpt_bucket_table __rcu *future;
	struct shpt_entry __rcu *buckets[];
};

/* lookups are not counted apart: they are hits + misses. */
enum shpt_stat {
	SHPT_STAT_HITS,
	SHPT_STAT_MISSES,
	SHPT_STAT_PROBES,
	SHPT_STAT_MAX_PROBES,
	SHPT_STAT_RESTARTS,
	SHPT_STAT_INSERTS,
	SHPT_STAT_REPLACES,
	SHPT_STAT_REMOVES,
	SHPT_STAT_GROWS,
	SHPT_STAT_SHRINKS,
	SHPT_STAT_REKEYS,
	SHPT_STAT_LONG_CHAINS,
	SHPT_STAT_ALLOC_FAIL,
	SHPT_STAT_REKEY_RETRIES,
	SHPT_STAT_NR,
};

/* Per-CPU counters; written only with this_cpu_*() by the owning CPU. */
struct shpt_pcpu_stats {
	u64 c[SHPT_STAT_NR];
};

/**
 * struct shpt_table - the table
 * @tbl: current bucket array.  Written under @resize_mutex, read under RCU.
 * @p: parameters, normalized by shpt_table_create().  Immutable.
 * @nelems: linked entries.  Changed by writers only, never by lookups.
 * @orders: bit o is set once an entry of order o was inserted; never
 *	cleared.  Lets shpt_table_remove_range() probe only live orders.
 * @flags: SHPT_REKEY_PENDING; atomic bitops.
 * @stats: per-CPU counters.
 * @cache: entry allocator.
 * @resize_mutex: serializes rehashes; shpt_table_walk_all() holds it to
 *	keep them off for a whole walk.
 * @resize_work: runs automatic resizes and rekeys.
 * @rehashes: completed rehashes; bumped under @resize_mutex after the new
 *	array is published and before the old one's grace period, read
 *	under RCU by sweeps (shpt_sweep()).
 * @graveyard: top of the stack of unlinked entries waiting for a grace
 *	period; see DOC: Freeing.  Pushed with cmpxchg(), emptied with xchg().
 * @reap_work: frees the graveyard.
 */
struct shpt_table {
	struct shpt_bucket_table __rcu *tbl;
	struct shpt_table_params p;
	atomic_long_t nelems;
	unsigned long orders;
	unsigned long flags;
	struct shpt_pcpu_stats __percpu *stats;
	struct kmem_cache *cache;
	struct mutex resize_mutex;	/* rehashes; whole-table walks */
	struct work_struct resize_work;
	unsigned long rehashes;
	struct shpt_entry *graveyard;
	struct work_struct reap_work;
};

#define shpt_stat_inc(t, i)	this_cpu_inc((t)->stats->c[i])
#define shpt_stat_add(t, i, v)	this_cpu_add((t)->stats->c[i], v)

/* ---- keys, values and hashing ---- */

static inline u64 shpt_pack_key(u64 asid, u64 vpn)
{
	return asid << SHPT_VPN_BITS | vpn;
}

static inline u64 shpt_pack_val(u64 pfn, unsigned int order,
				unsigned int flags)
{
	return pfn | (u64)order << SHPT_VAL_ORDER_SHIFT |
	       (u64)flags << SHPT_VAL_FLAGS_SHIFT;
}

static inline bool shpt_val_dead(u64 val)
{
	return val & SHPT_VAL_DEAD;
}

/* The value word of a dead entry whose graveyard link is @next. */
static inline u64 shpt_dead_val(const struct shpt_entry *next)
{
	/* bit 0 of an entry address is free; bits 62-63 of a value are */
	BUILD_BUG_ON(__alignof__(struct shpt_entry) < 2);
	BUILD_BUG_ON(SHPT_VAL_FLAGS_SHIFT + SHPT_FLAG_BITS > 62);
	BUILD_BUG_ON(sizeof(struct shpt_entry) != SHPT_ENTRY_BYTES);
	return (u64)(unsigned long)next >> 1 | SHPT_VAL_DEAD;
}

/* The graveyard link held by the dead value word @val. */
static inline struct shpt_entry *shpt_dead_next(u64 val)
{
	return (struct shpt_entry *)(unsigned long)(val << 1);
}

static inline unsigned int shpt_val_order(u64 val)
{
	return (val >> SHPT_VAL_ORDER_SHIFT) & SHPT_ORDER_MAX;
}

static void shpt_unpack(u64 key, u64 val, struct shpt_mapping *m)
{
	m->asid = key >> SHPT_VPN_BITS;
	m->vpn = key & SHPT_VPN_MAX;
	m->pfn = val & SHPT_PFN_MAX;
	m->order = shpt_val_order(val);
	m->flags = (val >> SHPT_VAL_FLAGS_SHIFT) & SHPT_FLAGS_MAX;
}

static inline bool shpt_key_valid(u64 asid, u64 vpn, unsigned int order)
{
	u64 mask;

	/* asid in 1..SHPT_ASID_MAX: asid - 1 wraps for 0 */
	if (asid - 1 >= SHPT_ASID_MAX || order > SHPT_ORDER_MAX)
		return false;
	/*
	 * Aligned, and the whole page inside the address space: for an
	 * aligned vpn, vpn | mask is its last page (and vpn > SHPT_VPN_MAX
	 * fails too).
	 */
	mask = BIT_ULL(order) - 1;
	return !(vpn & mask) && (vpn | mask) <= SHPT_VPN_MAX;
}

static __always_inline unsigned int
shpt_hash(const struct shpt_table *t, const struct shpt_bucket_table *tbl,
	  u64 key, unsigned int order)
{
	u64 h;

	if (likely(t->p.hash == SHPT_HASH_SIPHASH))
		h = siphash_2u64(key, order, &tbl->key.sip);
	else if (t->p.hash == SHPT_HASH_HSIPHASH)
		h = hsiphash_3u32((u32)key, (u32)(key >> 32), order,
				  &tbl->key.hsip);
	else	/* modulo: B is a power of two, the mask is exactly vpn mod B */
		h = key & SHPT_VPN_MAX;
	return h & (tbl->size - 1);
}

static inline struct shpt_entry __rcu **
shpt_slot(const struct shpt_table *t, struct shpt_bucket_table *tbl, u64 key,
	  unsigned int order)
{
	return &tbl->buckets[shpt_hash(t, tbl, key, order)];
}

/* ---- nulls markers and bucket locks ---- */

static inline bool shpt_is_nulls(const struct shpt_entry *p)
{
	return (unsigned long)p & SHPT_NULLS_BIT;
}

static inline struct shpt_entry *shpt_nulls(struct shpt_entry __rcu **slot)
{
	return (struct shpt_entry *)((unsigned long)slot | SHPT_NULLS_BIT);
}

static inline void shpt_bkt_lock(struct shpt_entry __rcu **slot)
	__acquires(bitlock)
{
	bit_spin_lock(SHPT_LOCK_NR, (unsigned long *)slot);
}

static inline void shpt_bkt_unlock(struct shpt_entry __rcu **slot)
	__releases(bitlock)
{
	bit_spin_unlock(SHPT_LOCK_NR, (unsigned long *)slot);
}

static inline bool shpt_bkt_locked(struct shpt_entry __rcu **slot)
{
	return test_bit(SHPT_LOCK_NR, (unsigned long *)slot);
}

/* Under RCU: the entry or marker that the chain of @slot starts with. */
static inline struct shpt_entry *shpt_head_rcu(struct shpt_entry __rcu **slot)
{
	unsigned long v = (unsigned long)rcu_dereference(*slot);

	return (struct shpt_entry *)(v & ~SHPT_LOCK_BIT);
}

/* Holding the lock of @slot: what the link @pprev of its chain points to. */
static inline struct shpt_entry *
shpt_deref_locked(struct shpt_entry __rcu **slot,
		  struct shpt_entry __rcu **pprev)
{
	unsigned long v = (unsigned long)
		rcu_dereference_protected(*pprev, shpt_bkt_locked(slot));

	return (struct shpt_entry *)(v & ~SHPT_LOCK_BIT);
}

/* Holding the lock of @slot: make the link @pprev of its chain point to @p. */
static inline void shpt_link_locked(struct shpt_entry __rcu **slot,
				    struct shpt_entry __rcu **pprev,
				    struct shpt_entry *p)
{
	if (pprev == slot)
		p = (struct shpt_entry *)((unsigned long)p | SHPT_LOCK_BIT);
	rcu_assign_pointer(*pprev, p);
}

/*
 * Holding the lock of @slot: find (@key, @order) in its chain.  On a hit
 * *@pprevp is the link that points to the entry.  *@lenp is the number of
 * entries visited (the chain length on a miss).
 */
static struct shpt_entry *shpt_find_locked(struct shpt_entry __rcu **slot,
					   u64 key, unsigned int order,
					   struct shpt_entry __rcu ***pprevp,
					   unsigned int *lenp)
{
	struct shpt_entry __rcu **pprev = slot;
	struct shpt_entry *p;
	unsigned int len = 0;

	for (p = shpt_deref_locked(slot, slot); !shpt_is_nulls(p);
	     p = shpt_deref_locked(slot, pprev)) {
		len++;
		if (p->key == key && shpt_val_order(READ_ONCE(p->val)) == order)
			break;
		pprev = &p->next;
	}
	*lenp = len;
	*pprevp = pprev;
	return shpt_is_nulls(p) ? NULL : p;
}

/* ---- allocation and freeing ---- */

static struct shpt_bucket_table *shpt_alloc_tbl(unsigned int size)
{
	struct shpt_bucket_table *tbl;
	unsigned int i;

	tbl = kvmalloc(struct_size(tbl, buckets, size), GFP_KERNEL);
	if (!tbl)
		return NULL;
	tbl->size = size;
	RCU_INIT_POINTER(tbl->future, NULL);
	for (i = 0; i < size; i++) {
		RCU_INIT_POINTER(tbl->buckets[i], shpt_nulls(&tbl->buckets[i]));
		if (!((i + 1) % SHPT_HIST_CHUNK))
			cond_resched();
	}
	return tbl;
}

/*
 * Hand unlinked entries to the reaper: @first to @last, already linked to
 * one another through their value words (a single entry: @first == @last,
 * not yet linked).  Every entry must be unlinked from every chain: this is
 * the point after which readers see it as dead.  See DOC: Freeing.
 */
static void shpt_retire(struct shpt_table *t, struct shpt_entry *first,
			struct shpt_entry *last)
{
	struct shpt_entry *old;

	do {
		old = READ_ONCE(t->graveyard);
		WRITE_ONCE(last->val, shpt_dead_val(old));
	} while (cmpxchg(&t->graveyard, old, first) != old);
	if (!old)
		queue_work(system_unbound_wq, &t->reap_work);
}

/* Entries freed between two cond_resched() of the reaper. */
#define SHPT_REAP_STEP		4096

static void shpt_reap_worker(struct work_struct *work)
{
	struct shpt_table *t = container_of(work, struct shpt_table,
					    reap_work);
	struct shpt_entry *e, *next;
	unsigned long n = 0;

	while ((e = xchg(&t->graveyard, NULL))) {
		/* Readers that found these entries before the unlink. */
		synchronize_rcu();
		for (; e; e = next) {
			next = shpt_dead_next(READ_ONCE(e->val));
			kmem_cache_free(t->cache, e);
			/* An exit or munmap retires its whole range at once. */
			if (!(++n % SHPT_REAP_STEP))
				cond_resched();
		}
		cond_resched();
	}
}

/* ---- automatic resize ---- */

/* The bucket count the load factor asks for, starting from @size. */
static unsigned int shpt_target_size(const struct shpt_table *t,
				     unsigned long n, unsigned int size)
{
	while (size < t->p.max_buckets &&
	       (u64)n * 100 > (u64)t->p.max_load_pct * size)
		size <<= 1;
	while (size > t->p.min_buckets &&
	       (u64)n * 100 < (u64)t->p.min_load_pct * size)
		size >>= 1;
	return size;
}

static void shpt_maybe_resize(struct shpt_table *t, unsigned long n,
			      unsigned int size)
{
	if (shpt_target_size(t, n, size) != size)
		queue_work(system_unbound_wq, &t->resize_work);
}

/*
 * An insert walked @len entries of a chain.  A chain longer than max_chain
 * in a table that is not far over its load factor means the keys are
 * attacking the hash: rekey.  An overloaded table (max_buckets reached, or a
 * grow still pending) has long chains by construction and is not rekeyed.
 */
static void shpt_check_chain(struct shpt_table *t, unsigned int len,
			     unsigned long n, unsigned int size)
{
	if (!t->p.max_chain || len <= t->p.max_chain)
		return;
	shpt_stat_inc(t, SHPT_STAT_LONG_CHAINS);
	if (t->p.hash == SHPT_HASH_MODULO ||
	    (u64)n * 100 > 2 * (u64)t->p.max_load_pct * size)
		return;
	/*
	 * Queue even if the request is pending already: it may be one whose
	 * retries ran out (shpt_resize_worker()).  A queued work is not
	 * queued twice.
	 */
	set_bit(SHPT_REKEY_PENDING, &t->flags);
	queue_work(system_unbound_wq, &t->resize_work);
}

/*
 * Resize to what the load factor asks for, and rekey if a rekey is pending.
 * A rekey that fails for lack of memory for the new array is not dropped:
 * the request is set pending again (a chain is still too long) and retried
 * after a growing delay, up to SHPT_REKEY_RETRIES times, each counted in
 * rekey_retries.  After that it stays pending, and the next insert that
 * finds a long chain queues the worker again.  A plain resize that fails
 * is retried by the next insert or remove that asks for one.
 */
static void shpt_resize_worker(struct work_struct *work)
{
	struct shpt_table *t = container_of(work, struct shpt_table,
					    resize_work);
	unsigned int size, target, tries = 0;
	bool rekey;

	for (;;) {
		rekey = test_and_clear_bit(SHPT_REKEY_PENDING, &t->flags);
		rcu_read_lock();
		size = rcu_dereference(t->tbl)->size;
		rcu_read_unlock();
		target = shpt_target_size(t, atomic_long_read(&t->nelems),
					  size);
		if (target == size && !rekey)
			return;
		if (!shpt_table_rehash(t, target, rekey))
			break;
		if (!rekey)
			return;
		set_bit(SHPT_REKEY_PENDING, &t->flags);
		if (tries == SHPT_REKEY_RETRIES)
			return;
		shpt_stat_inc(t, SHPT_STAT_REKEY_RETRIES);
		msleep(SHPT_REKEY_RETRY_MS << tries++);
	}
	if (rekey)
		pr_info_ratelimited("chain longer than %u: rekeyed %u buckets\n",
				    t->p.max_chain, target);
}

/* ---- public API ---- */

/**
 * shpt_table_default_params() - fill in the default parameters
 * @p: parameters to fill
 *
 * 1024 initial buckets, 16 to SHPT_MAX_BUCKETS, load factor 0.55 to 1.5
 * (so that an entry costs at most 40 bytes at every load factor the table
 * runs at, see Documentation/table.rst), max_chain 16, SipHash.
 *
 * Context: any.
 */
void shpt_table_default_params(struct shpt_table_params *p)
{
	p->init_buckets = 1024;
	p->min_buckets = 16;
	p->max_buckets = SHPT_MAX_BUCKETS;
	p->max_load_pct = 150;
	p->min_load_pct = 55;
	p->max_chain = 16;
	p->hash = SHPT_HASH_SIPHASH;
}

static int shpt_normalize_params(struct shpt_table_params *p)
{
	if (p->hash >= SHPT_HASH_NR || !p->min_buckets || !p->max_buckets ||
	    p->max_buckets > SHPT_MAX_BUCKETS ||
	    p->min_buckets > p->max_buckets)
		return -EINVAL;
	if (!p->max_load_pct || p->max_load_pct > 100000 ||
	    2 * p->min_load_pct >= p->max_load_pct)
		return -EINVAL;
	p->min_buckets = roundup_pow_of_two(p->min_buckets);
	p->max_buckets = roundup_pow_of_two(p->max_buckets);
	p->init_buckets = roundup_pow_of_two(max(p->init_buckets, 1U));
	p->init_buckets = clamp(p->init_buckets, p->min_buckets,
				p->max_buckets);
	return 0;
}

/**
 * shpt_table_create() - allocate an empty table
 * @params: sizing and hash; see &struct shpt_table_params
 *
 * Context: process context, may sleep.
 * Return: the table, ERR_PTR(-EINVAL) for inconsistent @params, or
 * ERR_PTR(-ENOMEM).
 */
struct shpt_table *shpt_table_create(const struct shpt_table_params *params)
{
	struct shpt_bucket_table *tbl;
	struct shpt_table *t;
	int err;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return ERR_PTR(-ENOMEM);
	t->p = *params;
	err = shpt_normalize_params(&t->p);
	if (err)
		goto out_free_table;

	err = -ENOMEM;
	/*
	 * Entries are allocated by inserts, in the inserting task's context:
	 * charge them to its memory cgroup.
	 */
	t->cache = kmem_cache_create("shpt_entry", sizeof(struct shpt_entry),
				     __alignof__(struct shpt_entry),
				     SLAB_ACCOUNT, NULL);
	if (!t->cache)
		goto out_free_table;
	t->stats = alloc_percpu(struct shpt_pcpu_stats);
	if (!t->stats)
		goto out_destroy_cache;
	tbl = shpt_alloc_tbl(t->p.init_buckets);
	if (!tbl)
		goto out_free_stats;
	get_random_bytes(&tbl->key, sizeof(tbl->key));
	RCU_INIT_POINTER(t->tbl, tbl);

	atomic_long_set(&t->nelems, 0);
	mutex_init(&t->resize_mutex);
	INIT_WORK(&t->resize_work, shpt_resize_worker);
	t->graveyard = NULL;
	INIT_WORK(&t->reap_work, shpt_reap_worker);
	return t;

out_free_stats:
	free_percpu(t->stats);
out_destroy_cache:
	kmem_cache_destroy(t->cache);
out_free_table:
	kfree(t);
	return ERR_PTR(err);
}

/**
 * shpt_table_destroy() - free a table and every entry in it
 * @t: table from shpt_table_create(); NULL is ignored
 *
 * The caller guarantees that no other call on @t is running or will start.
 * Readers that found the table before that point may still be inside an
 * RCU read-side section; destroy waits for them.
 *
 * Context: process context, may sleep.
 */
void shpt_table_destroy(struct shpt_table *t)
{
	struct shpt_bucket_table *tbl;
	struct shpt_entry *p, *next;
	unsigned int i;

	if (!t)
		return;
	cancel_work_sync(&t->resize_work);
	flush_work(&t->reap_work);
	synchronize_rcu();

	/* No reader, writer or rehash is left: the table is private. */
	tbl = rcu_dereference_protected(t->tbl, true);
	for (i = 0; i < tbl->size; i++) {
		p = rcu_dereference_protected(tbl->buckets[i], true);
		for (; !shpt_is_nulls(p); p = next) {
			next = rcu_dereference_protected(p->next, true);
			kmem_cache_free(t->cache, p);
		}
		/* Millions of entries take seconds (soft lockup otherwise). */
		if (!((i + 1) % SHPT_HIST_CHUNK))
			cond_resched();
	}
	kvfree(tbl);
	free_percpu(t->stats);
	kmem_cache_destroy(t->cache);
	mutex_destroy(&t->resize_mutex);
	kfree(t);
}

/*
 * Under RCU: walk the chain of @slot, starting at @p, which the caller read
 * from @slot (shpt_head_rcu()), for (@key, @order).  Restarts from the head
 * when the walk ends in another chain because a rehash moved an entry under
 * us.  Dead entries (removed under us) and entries of another order do not
 * match; @next still leads on.
 */
static __always_inline bool shpt_walk(struct shpt_entry __rcu **slot,
				      struct shpt_entry *p, u64 key,
				      unsigned int order, u64 *valp,
				      unsigned int *probes,
				      unsigned int *restarts)
{
	u64 val;

restart:
	for (; !shpt_is_nulls(p); p = rcu_dereference(p->next)) {
		(*probes)++;
		if (READ_ONCE(p->key) != key)
			continue;
		val = READ_ONCE(p->val);
		if (shpt_val_dead(val) || shpt_val_order(val) != order)
			continue;
		*valp = val;
		return true;
	}
	if (unlikely(p != shpt_nulls(slot))) {
		(*restarts)++;
		p = shpt_head_rcu(slot);
		goto restart;
	}
	return false;
}

/* Under RCU: look (@key, @order) up in one array. */
static __always_inline bool shpt_lookup_tbl(struct shpt_table *t,
					    struct shpt_bucket_table *tbl,
					    u64 key, unsigned int order,
					    u64 *valp, unsigned int *probes,
					    unsigned int *restarts)
{
	struct shpt_entry __rcu **slot = shpt_slot(t, tbl, key, order);

	return shpt_walk(slot, shpt_head_rcu(slot), key, order, valp, probes,
			 restarts);
}

/*
 * Under RCU: after a miss in @tbl, look in the arrays a running rehash is
 * moving entries into.
 */
static bool shpt_lookup_future(struct shpt_table *t,
			       struct shpt_bucket_table *tbl, u64 key,
			       unsigned int order, u64 *valp,
			       unsigned int *probes, unsigned int *restarts)
{
	for (;;) {
		/*
		 * A rehash sets @future before it moves anything; seeing the
		 * old chain without an entry that it moved implies seeing
		 * @future.  Pairs with rcu_assign_pointer(old->future, ...).
		 */
		smp_rmb();
		tbl = rcu_dereference(tbl->future);
		if (!tbl)
			return false;
		if (shpt_lookup_tbl(t, tbl, key, order, valp, probes,
				    restarts))
			return true;
	}
}

/* Fold one lookup call's counts into the per-CPU statistics. */
static void shpt_count_lookups(struct shpt_table *t, unsigned int lookups,
			       unsigned int hits, unsigned int probes,
			       unsigned int max_probes, unsigned int restarts)
{
	shpt_stat_add(t, SHPT_STAT_HITS, hits);
	shpt_stat_add(t, SHPT_STAT_MISSES, lookups - hits);
	shpt_stat_add(t, SHPT_STAT_PROBES, probes);
	if (unlikely(restarts))
		shpt_stat_add(t, SHPT_STAT_RESTARTS, restarts);
	/* Racy against preemption; a lost maximum is acceptable. */
	if (max_probes > this_cpu_read(t->stats->c[SHPT_STAT_MAX_PROBES]))
		this_cpu_write(t->stats->c[SHPT_STAT_MAX_PROBES], max_probes);
}

/**
 * shpt_table_lookup() - find one translation
 * @t: table
 * @asid: address-space id
 * @vpn: virtual page number, aligned to 1 << @order
 * @order: page order the entry was inserted with
 * @out: receives a consistent copy of the entry on a hit; may be NULL
 *
 * Lock-free.  Never misses an entry that was present both before and after
 * a concurrent resize or rekey.
 *
 * Context: any context, including hard interrupts; takes rcu_read_lock()
 * itself, so the caller need not hold it.
 * Return: true if the key was found, false if not or if the arguments are
 * out of range.
 */
bool shpt_table_lookup(struct shpt_table *t, u64 asid, u64 vpn,
		       unsigned int order, struct shpt_mapping *out)
{
	unsigned int probes = 0, restarts = 0;
	struct shpt_bucket_table *tbl;
	bool found = false;
	u64 key, val = 0;

	if (!shpt_key_valid(asid, vpn, order))
		return false;
	key = shpt_pack_key(asid, vpn);

	rcu_read_lock();
	tbl = rcu_dereference(t->tbl);
	do {
		found = shpt_lookup_tbl(t, tbl, key, order, &val, &probes,
					&restarts);
		if (found)
			break;
		/*
		 * A rehash sets @future before it moves anything; seeing the
		 * old chain without an entry that it moved implies seeing
		 * @future.  Pairs with rcu_assign_pointer(old->future, ...).
		 */
		smp_rmb();
		tbl = rcu_dereference(tbl->future);
	} while (tbl);
	rcu_read_unlock();

	shpt_stat_inc(t, found ? SHPT_STAT_HITS : SHPT_STAT_MISSES);
	shpt_stat_add(t, SHPT_STAT_PROBES, probes);
	if (unlikely(restarts))
		shpt_stat_add(t, SHPT_STAT_RESTARTS, restarts);
	/* Racy against preemption; a lost maximum is acceptable. */
	if (probes > this_cpu_read(t->stats->c[SHPT_STAT_MAX_PROBES]))
		this_cpu_write(t->stats->c[SHPT_STAT_MAX_PROBES], probes);

	if (found && out)
		shpt_unpack(key, val, out);
	return found;
}

/*
 * Keys per group of a bulk lookup.  A group's bucket heads and first
 * entries are prefetched together, so up to this many cache misses
 * overlap; 16 keys keep the group's state (below) in a few cache lines.
 */
#define SHPT_BULK_GROUP		16

/**
 * struct shpt_bulk_state - one key of a bulk lookup group
 * @key: packed key word
 * @slot: its bucket in the array the group started in; NULL if the key is
 *	out of range (never looked up, not counted)
 * @head: what @slot held when the group read it
 * @val: the entry's value word, on a hit
 * @order: the key's order
 * @probes: entries visited for this key, restarts and @future included
 */
struct shpt_bulk_state {
	u64 key;
	struct shpt_entry __rcu **slot;
	struct shpt_entry *head;
	u64 val;
	unsigned int order;
	unsigned int probes;
};

/*
 * Under RCU: look up one group of at most SHPT_BULK_GROUP keys in three
 * passes, so that their cache misses overlap: hash every key and prefetch
 * its bucket head; read every head and prefetch the first entry; walk every
 * chain.  Each key then gets exactly what shpt_table_lookup() would do:
 * the same walk (restart on a foreign nulls marker, dead entries and other
 * orders skipped) and, after a miss, the same smp_rmb() before reading
 * @future.  One barrier serves every key of the group: all the group's
 * walks in @tbl come before it.
 */
static unsigned int shpt_lookup_group(struct shpt_table *t,
				      const struct shpt_key *keys,
				      unsigned int n,
				      struct shpt_mapping *out,
				      unsigned long *hits, unsigned int base)
{
	struct shpt_bulk_state st[SHPT_BULK_GROUP];
	unsigned int probes = 0, restarts = 0, max_probes = 0;
	unsigned int i, lookups = 0, found = 0;
	struct shpt_bucket_table *tbl, *future;
	unsigned long missed = 0;

	rcu_read_lock();
	tbl = rcu_dereference(t->tbl);
	for (i = 0; i < n; i++) {
		st[i].slot = NULL;
		if (!shpt_key_valid(keys[i].asid, keys[i].vpn, keys[i].order))
			continue;
		st[i].key = shpt_pack_key(keys[i].asid, keys[i].vpn);
		st[i].order = keys[i].order;
		st[i].probes = 0;
		st[i].slot = shpt_slot(t, tbl, st[i].key, st[i].order);
		prefetch(st[i].slot);
		lookups++;
	}
	for (i = 0; i < n; i++) {
		if (!st[i].slot)
			continue;
		st[i].head = shpt_head_rcu(st[i].slot);
		if (!shpt_is_nulls(st[i].head))
			prefetch(&st[i].head->key);
	}
	for (i = 0; i < n; i++) {
		if (!st[i].slot)
			continue;
		if (shpt_walk(st[i].slot, st[i].head, st[i].key, st[i].order,
			      &st[i].val, &st[i].probes, &restarts))
			found++;
		else
			missed |= BIT(i);
	}
	if (missed) {
		/* Pairs with rcu_assign_pointer(old->future, ...); as above. */
		smp_rmb();
		future = rcu_dereference(tbl->future);
		for (i = 0; future && i < n; i++) {
			if (!(missed & BIT(i)))
				continue;
			if (shpt_lookup_tbl(t, future, st[i].key, st[i].order,
					    &st[i].val, &st[i].probes,
					    &restarts) ||
			    shpt_lookup_future(t, future, st[i].key,
					       st[i].order, &st[i].val,
					       &st[i].probes, &restarts)) {
				missed &= ~BIT(i);
				found++;
			}
		}
	}
	rcu_read_unlock();

	for (i = 0; i < n; i++) {
		if (!st[i].slot) {
			__clear_bit(base + i, hits);
			continue;
		}
		probes += st[i].probes;
		max_probes = max(max_probes, st[i].probes);
		if (missed & BIT(i)) {
			__clear_bit(base + i, hits);
			continue;
		}
		__set_bit(base + i, hits);
		if (out)
			shpt_unpack(st[i].key, st[i].val, &out[i]);
	}
	if (lookups)
		shpt_count_lookups(t, lookups, found, probes, max_probes,
				   restarts);
	return found;
}

/**
 * shpt_table_lookup_bulk() - find many translations at once
 * @t: table
 * @keys: the keys to look up
 * @n: number of keys
 * @out: receives a copy of the entry for each key found, at the key's index;
 *	may be NULL.  Entries for keys not found are left untouched.
 * @hits: bitmap of @n bits; bit i is set if @keys[i] was found, cleared if
 *	not
 *
 * Same semantics and statistics as @n calls of shpt_table_lookup(): a key
 * out of range is a miss that is not counted, and an entry present both
 * before and after a concurrent resize or rekey is never missed.  The keys
 * are looked up in groups whose cache misses overlap (DOC: Bulk lookup).
 *
 * Context: any context; takes rcu_read_lock() itself, once per group of
 * SHPT_BULK_GROUP keys.
 * Return: the number of keys found.
 */
unsigned int shpt_table_lookup_bulk(struct shpt_table *t,
				    const struct shpt_key *keys,
				    unsigned int n, struct shpt_mapping *out,
				    unsigned long *hits)
{
	unsigned int i, found = 0;

	for (i = 0; i < n; i += SHPT_BULK_GROUP)
		found += shpt_lookup_group(t, keys + i,
					   min_t(unsigned int, n - i,
						 SHPT_BULK_GROUP),
					   out ? out + i : NULL, hits, i);
	return found;
}

/*
 * Holding the lock of @slot: replace (@key, @val) in place, or link @new at
 * the head of the chain.  Return: 1 if replaced, 0 if @new was linked.
 */
static int shpt_insert_locked(struct shpt_entry __rcu **slot, u64 key,
			      u64 val, struct shpt_entry *new,
			      unsigned int *lenp)
{
	struct shpt_entry __rcu **pprev;
	struct shpt_entry *p;

	p = shpt_find_locked(slot, key, shpt_val_order(val), &pprev, lenp);
	if (p) {
		WRITE_ONCE(p->val, val);
		return 1;
	}
	RCU_INIT_POINTER(new->next, shpt_deref_locked(slot, slot));
	shpt_link_locked(slot, slot, new);
	return 0;
}

/**
 * shpt_table_insert() - add a translation or replace the existing one
 * @t: table
 * @m: the translation; @m->asid, @m->vpn and @m->order form the key
 * @gfp: allocation flags for the entry: GFP_KERNEL where sleeping is
 *	allowed, GFP_NOWAIT in atomic context
 *
 * A replace rewrites pfn and flags in place; concurrent readers see either
 * the old or the new value.  Any resize the insert makes necessary runs
 * later in a worker.
 *
 * Context: process context; may sleep if @gfp allows it, else may be
 * called in atomic context (under a spinlock, in a non-blockable notifier).
 * Not from hard or soft interrupts: bucket locks do not disable BH.  Takes
 * rcu_read_lock() itself.
 * Return: 0 if a new entry was added, 1 if an existing one was replaced,
 * -EINVAL for an out-of-range or misaligned field, -ENOMEM if no entry
 * could be allocated.
 */
int shpt_table_insert(struct shpt_table *t, const struct shpt_mapping *m,
		      gfp_t gfp)
{
	struct shpt_entry __rcu **slot, **fslot, **pprev;
	struct shpt_bucket_table *tbl, *ftbl;
	struct shpt_entry *new;
	unsigned int len, size;
	u64 key, val;
	int ret;

	if (!shpt_key_valid(m->asid, m->vpn, m->order) ||
	    m->pfn > SHPT_PFN_MAX || m->flags > SHPT_FLAGS_MAX)
		return -EINVAL;
	might_sleep_if(gfpflags_allow_blocking(gfp));

	new = kmem_cache_alloc(t->cache, gfp);
	if (!new) {
		shpt_stat_inc(t, SHPT_STAT_ALLOC_FAIL);
		return -ENOMEM;
	}
	key = shpt_pack_key(m->asid, m->vpn);
	val = shpt_pack_val(m->pfn, m->order, m->flags);
	new->key = key;
	new->val = val;
	if (!test_bit(m->order, &t->orders))
		set_bit(m->order, &t->orders);

	rcu_read_lock();
	tbl = rcu_dereference(t->tbl);
	size = tbl->size;
	slot = shpt_slot(t, tbl, key, m->order);
	shpt_bkt_lock(slot);
	/*
	 * Seeing no @future here means the rehash has not reached this
	 * bucket yet (it locks the bucket after setting @future), so an
	 * entry linked here will still be moved.
	 */
	ftbl = rcu_dereference(tbl->future);
	if (!ftbl || shpt_find_locked(slot, key, m->order, &pprev, &len)) {
		ret = shpt_insert_locked(slot, key, val, new, &len);
	} else {
		size = ftbl->size;
		fslot = shpt_slot(t, ftbl, key, m->order);
		shpt_bkt_lock(fslot);	/* nested: old array before new */
		ret = shpt_insert_locked(fslot, key, val, new, &len);
		shpt_bkt_unlock(fslot);
	}
	shpt_bkt_unlock(slot);
	rcu_read_unlock();

	if (ret) {
		/* never published */
		kmem_cache_free(t->cache, new);
		shpt_stat_inc(t, SHPT_STAT_REPLACES);
		return 1;
	}
	shpt_stat_inc(t, SHPT_STAT_INSERTS);
	shpt_check_chain(t, len, atomic_long_read(&t->nelems), size);
	shpt_maybe_resize(t, atomic_long_inc_return(&t->nelems), size);
	return 0;
}

/*
 * Under RCU: unlink (@key, @order) from @tbl, or from its @future if the
 * rehash has moved it there.  Return: the unlinked entry, or NULL.
 */
static struct shpt_entry *shpt_unlink_key(struct shpt_table *t,
					  struct shpt_bucket_table *tbl,
					  u64 key, unsigned int order)
{
	struct shpt_entry __rcu **slot, **pprev;
	struct shpt_bucket_table *ftbl;
	struct shpt_entry *p;
	unsigned int len;

	slot = shpt_slot(t, tbl, key, order);
	shpt_bkt_lock(slot);
	p = shpt_find_locked(slot, key, order, &pprev, &len);
	if (p) {
		shpt_link_locked(slot, pprev, shpt_deref_locked(slot, &p->next));
	} else {
		ftbl = rcu_dereference(tbl->future);
		if (ftbl) {
			struct shpt_entry __rcu **fslot;

			fslot = shpt_slot(t, ftbl, key, order);
			shpt_bkt_lock(fslot);
			p = shpt_find_locked(fslot, key, order, &pprev, &len);
			if (p)
				shpt_link_locked(fslot, pprev,
						 shpt_deref_locked(fslot,
								   &p->next));
			shpt_bkt_unlock(fslot);
		}
	}
	shpt_bkt_unlock(slot);
	return p;
}

/* Account for @n entries removed from a table of @size buckets. */
static void shpt_removed(struct shpt_table *t, unsigned long n,
			 unsigned int size)
{
	if (!n)
		return;
	shpt_stat_add(t, SHPT_STAT_REMOVES, n);
	shpt_maybe_resize(t, atomic_long_sub_return(n, &t->nelems), size);
}

/**
 * shpt_table_remove() - remove one translation
 * @t: table
 * @asid: address-space id
 * @vpn: virtual page number
 * @order: page order the entry was inserted with
 *
 * The entry is freed after a grace period; readers that already hold it
 * keep a valid copy.
 *
 * Context: process context, atomic allowed; never sleeps.  Not from hard
 * or soft interrupts (bucket locks do not disable BH).  Takes
 * rcu_read_lock() itself.
 * Return: true if the entry was present and is now unlinked.
 */
bool shpt_table_remove(struct shpt_table *t, u64 asid, u64 vpn,
		       unsigned int order)
{
	struct shpt_bucket_table *tbl;
	struct shpt_entry *p;
	unsigned int size;

	if (!shpt_key_valid(asid, vpn, order))
		return false;
	rcu_read_lock();
	tbl = rcu_dereference(t->tbl);
	size = tbl->size;
	p = shpt_unlink_key(t, tbl, shpt_pack_key(asid, vpn), order);
	rcu_read_unlock();
	if (!p)
		return false;
	shpt_retire(t, p, p);
	shpt_removed(t, 1, size);
	return true;
}

/* Does entry @p belong to @asid and overlap [@start, @end)? */
static bool shpt_entry_in_range(const struct shpt_entry *p, u64 asid,
				u64 start, u64 end)
{
	u64 vpn = p->key & SHPT_VPN_MAX;

	return p->key >> SHPT_VPN_BITS == asid && vpn < end &&
	       vpn + BIT_ULL(shpt_val_order(READ_ONCE(p->val))) > start;
}

/*
 * A list of unlinked entries on its way to the graveyard, linked through
 * their value words; @last is linked by shpt_retire().
 */
struct shpt_batch {
	struct shpt_entry *first;
	struct shpt_entry *last;
	unsigned long n;
};

/* Add @p, already unlinked, to @b. */
static void shpt_batch_add(struct shpt_batch *b, struct shpt_entry *p)
{
	if (b->first)
		WRITE_ONCE(p->val, shpt_dead_val(b->first));
	else
		b->last = p;
	b->first = p;
	b->n++;
}

/* Unlink from the chain of @slot every entry of @asid in [@start, @end). */
static void shpt_sweep_bucket(struct shpt_entry __rcu **slot, u64 asid,
			      u64 start, u64 end, struct shpt_batch *b)
{
	struct shpt_entry __rcu **pprev = slot;
	struct shpt_entry *p, *next;

	shpt_bkt_lock(slot);
	for (p = shpt_deref_locked(slot, slot); !shpt_is_nulls(p); p = next) {
		next = shpt_deref_locked(slot, &p->next);
		if (shpt_entry_in_range(p, asid, start, end)) {
			shpt_link_locked(slot, pprev, next);
			shpt_batch_add(b, p);
		} else {
			pprev = &p->next;
		}
	}
	shpt_bkt_unlock(slot);
}

/*
 * Sweep every bucket of the current array, then of its @future.  Reading
 * @future after the last old bucket was locked is enough: an entry the
 * rehash moved out of a bucket before the sweep locked it was moved after
 * @future was set, and the bucket lock orders the two.
 *
 * The buckets go in chunks of SHPT_HIST_CHUNK, one rcu_read_lock() section
 * each, with cond_resched() between them if @can_sleep.  Between chunks a
 * rehash may complete and free the array being swept (and a new one may
 * be allocated at the same address, so the pointer proves nothing).  So
 * each chunk first reads @rehashes: if a rehash completed since the last
 * chunk, every entry is now in the current array, which is swept again
 * from its first bucket.  If none did, the array is not freed before this
 * chunk's rcu_read_unlock(): @rehashes is bumped before the grace period
 * that precedes the free.  A restart happens at most once per rehash that
 * completes during the sweep (they are serialized and rare).
 */
static unsigned long shpt_sweep(struct shpt_table *t, u64 asid, u64 start,
				u64 end, bool can_sleep)
{
	struct shpt_batch b = { NULL, NULL, 0 };
	struct shpt_bucket_table *tbl;
	unsigned int i = 0, n, size;
	unsigned long gen;

	rcu_read_lock();
	gen = READ_ONCE(t->rehashes);
	smp_rmb();	/* an array no older than @gen; pairs with the rehash */
	tbl = rcu_dereference(t->tbl);
	size = tbl->size;
	while (tbl) {
		if (READ_ONCE(t->rehashes) != gen) {
			gen = READ_ONCE(t->rehashes);
			smp_rmb();	/* as above */
			tbl = rcu_dereference(t->tbl);
			i = 0;
		}
		for (n = 0; i < tbl->size && n < SHPT_HIST_CHUNK; i++, n++)
			shpt_sweep_bucket(&tbl->buckets[i], asid, start, end,
					  &b);
		if (i == tbl->size) {
			tbl = rcu_dereference(tbl->future);
			i = 0;
		}
		if (!tbl)
			break;
		rcu_read_unlock();
		if (can_sleep)
			cond_resched();
		rcu_read_lock();
	}
	rcu_read_unlock();

	if (b.n)
		shpt_retire(t, b.first, b.last);
	shpt_removed(t, b.n, size);
	return b.n;
}

/* Blocks of order @order that overlap [@start, @end) */
static u64 shpt_blocks(u64 start, u64 end, unsigned int order)
{
	return ((end - 1) >> order) - (start >> order) + 1;
}

/**
 * shpt_table_remove_range() - remove every translation of an ASID in a range
 * @t: table
 * @asid: address-space id
 * @start_vpn: first page of the range
 * @end_vpn: first page after the range (exclusive)
 *
 * Removes every entry of @asid that overlaps [@start_vpn, @end_vpn),
 * including a large-order entry that only partly overlaps.  When the range
 * has no more pages (summed over the orders ever inserted) than the table
 * has buckets, each candidate page is probed; otherwise every bucket is
 * swept.  The cost is O(min(pages in range, buckets + entries)).
 *
 * Context: process context, atomic allowed; never sleeps, so it can run in
 * a non-blockable mmu notifier callback.  Not from hard or soft interrupts
 * (bucket locks do not disable BH).  Takes rcu_read_lock() itself; a sweep
 * holds it for SHPT_HIST_CHUNK buckets at a time but, as it cannot sleep,
 * does not let the CPU go between them.
 * Return: the number of entries removed; 0 for an empty or invalid range.
 */
unsigned long shpt_table_remove_range(struct shpt_table *t, u64 asid,
				      u64 start_vpn, u64 end_vpn)
{
	unsigned long orders = READ_ONCE(t->orders);
	unsigned long n = 0;
	unsigned int o, size;
	u64 probes = 0, v;

	end_vpn = min_t(u64, end_vpn, SHPT_VPN_MAX + 1);
	if (!asid || asid > SHPT_ASID_MAX || start_vpn >= end_vpn)
		return 0;

	for (o = 0; o <= SHPT_ORDER_MAX; o++)
		if (orders & BIT_ULL(o))
			probes += shpt_blocks(start_vpn, end_vpn, o);
	rcu_read_lock();
	size = rcu_dereference(t->tbl)->size;
	rcu_read_unlock();
	if (probes > size)
		return shpt_sweep(t, asid, start_vpn, end_vpn, false);

	for (o = 0; o <= SHPT_ORDER_MAX; o++) {
		if (!(orders & BIT_ULL(o)))
			continue;
		v = start_vpn & ~(BIT_ULL(o) - 1);
		for (; v < end_vpn; v += BIT_ULL(o))
			n += shpt_table_remove(t, asid, v, o);
	}
	return n;
}

/**
 * shpt_table_remove_asid() - remove every translation of an ASID
 * @t: table
 * @asid: address-space id
 *
 * Sweeps every bucket: O(buckets + entries).
 *
 * Context: process context, atomic allowed; never sleeps.  Not from hard
 * or soft interrupts (bucket locks do not disable BH).  Takes
 * rcu_read_lock() itself, SHPT_HIST_CHUNK buckets at a time; where the
 * caller may sleep, shpt_table_remove_asid_sleepable() also lets the CPU
 * go between chunks.
 * Return: the number of entries removed; 0 for an invalid @asid.
 */
unsigned long shpt_table_remove_asid(struct shpt_table *t, u64 asid)
{
	if (!asid || asid > SHPT_ASID_MAX)
		return 0;
	return shpt_sweep(t, asid, 0, SHPT_VPN_MAX + 1, false);
}

/**
 * shpt_table_remove_asid_sleepable() - shpt_table_remove_asid(), rescheduling
 * @t: table
 * @asid: address-space id
 *
 * As shpt_table_remove_asid(), with cond_resched() between chunks of
 * SHPT_HIST_CHUNK buckets, so that a sweep of a big table neither holds
 * the CPU nor delays a grace period for long.
 *
 * Context: process context, may sleep; not under rcu_read_lock() or a
 * spinlock.  Holding a mutex is fine: no lock is taken but bucket locks.
 * Return: the number of entries removed; 0 for an invalid @asid.
 */
unsigned long shpt_table_remove_asid_sleepable(struct shpt_table *t, u64 asid)
{
	might_sleep();
	if (!asid || asid > SHPT_ASID_MAX)
		return 0;
	return shpt_sweep(t, asid, 0, SHPT_VPN_MAX + 1, true);
}

/*
 * Holding the lock of old bucket @slot: move @p, the last entry of its
 * chain, reached through @pprev, to the head of its bucket in @new.  @p is
 * linked into the new chain before it leaves the old one, so a reader
 * always finds it in one of the two; see DOC: Resize.  The new bucket stays
 * locked until @p has left the old chain: a sweep of @new that unlinks and
 * retires @p must not find it while it is still linked in the old chain,
 * where a reader could reach it after the reaper's grace period began.
 */
static void shpt_move_tail(struct shpt_table *t,
			   struct shpt_entry __rcu **slot,
			   struct shpt_entry __rcu **pprev,
			   struct shpt_entry *p, struct shpt_bucket_table *new)
{
	struct shpt_entry __rcu **nslot;

	nslot = shpt_slot(t, new, p->key, shpt_val_order(READ_ONCE(p->val)));
	shpt_bkt_lock(nslot);	/* nested: old array before new */
	rcu_assign_pointer(p->next, shpt_deref_locked(nslot, nslot));
	shpt_link_locked(nslot, nslot, p);
	shpt_link_locked(slot, pprev, shpt_nulls(slot));
	shpt_bkt_unlock(nslot);
}

/*
 * Empty old bucket @slot into @new, moving the tail each time.  The last
 * SHPT_REHASH_BATCH links of the chain are remembered in one walk, so a
 * chain of n entries costs about n^2 / (2 * SHPT_REHASH_BATCH) steps.  The
 * lock is dropped between batches, so a flooded chain under the modulo hash
 * does not hold a bucket lock for long.
 */
static void shpt_rehash_bucket(struct shpt_table *t,
			       struct shpt_entry __rcu **slot,
			       struct shpt_bucket_table *new)
{
	struct shpt_entry __rcu **pprevs[SHPT_REHASH_BATCH];
	struct shpt_entry __rcu **pprev;
	unsigned int n, i, moves;
	struct shpt_entry *p;

	do {
		shpt_bkt_lock(slot);
		n = 0;
		pprev = slot;
		for (p = shpt_deref_locked(slot, slot); !shpt_is_nulls(p);
		     p = shpt_deref_locked(slot, pprev)) {
			pprevs[n++ % SHPT_REHASH_BATCH] = pprev;
			pprev = &p->next;
		}
		moves = min_t(unsigned int, n, SHPT_REHASH_BATCH);
		for (i = 0; i < moves; i++) {
			pprev = pprevs[(n - 1 - i) % SHPT_REHASH_BATCH];
			p = shpt_deref_locked(slot, pprev);
			shpt_move_tail(t, slot, pprev, p, new);
		}
		shpt_bkt_unlock(slot);
		if (n > moves)
			cond_resched();
	} while (n > moves);
}

/**
 * shpt_table_rehash() - move every entry into a new bucket array
 * @t: table
 * @nbuckets: new bucket count, rounded up to a power of two and clamped to
 *	[min_buckets, max_buckets]; 0 keeps the current count
 * @rekey: draw a new random hash key (ignored for SHPT_HASH_MODULO)
 *
 * Used by the resize worker and by tests.  Readers are never blocked and
 * never miss an entry present before and after; writers keep working.  See
 * DOC: Resize.
 *
 * Context: process context, may sleep; must not be called under
 * rcu_read_lock().  Serialized against other rehashes.
 * Return: 0, or -ENOMEM if the new array could not be allocated (the table
 * is unchanged).
 */
int shpt_table_rehash(struct shpt_table *t, unsigned int nbuckets,
		      bool rekey)
{
	struct shpt_bucket_table *old, *new;
	unsigned int size, old_size, i;

	might_sleep();
	rekey = rekey && t->p.hash != SHPT_HASH_MODULO;

	mutex_lock(&t->resize_mutex);
	old = rcu_dereference_protected(t->tbl,
					lockdep_is_held(&t->resize_mutex));
	old_size = old->size;
	size = old_size;
	if (nbuckets) {
		size = roundup_pow_of_two(min(nbuckets, t->p.max_buckets));
		size = clamp(size, t->p.min_buckets, t->p.max_buckets);
	}
	new = shpt_alloc_tbl(size);
	if (!new) {
		mutex_unlock(&t->resize_mutex);
		shpt_stat_inc(t, SHPT_STAT_ALLOC_FAIL);
		return -ENOMEM;
	}
	if (rekey)
		get_random_bytes(&new->key, sizeof(new->key));
	else
		new->key = old->key;

	/* From here on, readers that miss in @old look in @new. */
	rcu_assign_pointer(old->future, new);
	for (i = 0; i < old_size; i++) {
		shpt_rehash_bucket(t, &old->buckets[i], new);
		cond_resched();
	}
	rcu_assign_pointer(t->tbl, new);
	/* Sweeps between two chunks start over in @new (shpt_sweep()). */
	smp_wmb();	/* @new before the count; pairs with shpt_sweep() */
	WRITE_ONCE(t->rehashes, t->rehashes + 1);
	/* Wait for every reader and writer that may still hold @old. */
	synchronize_rcu();
	kvfree(old);
	mutex_unlock(&t->resize_mutex);

	if (size > old_size)
		shpt_stat_inc(t, SHPT_STAT_GROWS);
	else if (size < old_size)
		shpt_stat_inc(t, SHPT_STAT_SHRINKS);
	if (rekey)
		shpt_stat_inc(t, SHPT_STAT_REKEYS);
	return 0;
}

/**
 * shpt_table_flush() - wait for queued resizes and deferred frees
 * @t: table
 *
 * Waits for a queued or running resize, then for every entry removed so far
 * to be freed.  Tests use it to reach a quiescent table.
 *
 * Context: process context, may sleep.
 */
void shpt_table_flush(struct shpt_table *t)
{
	flush_work(&t->resize_work);
	flush_work(&t->reap_work);
}

/**
 * shpt_table_walk() - visit the entries of a range of buckets
 * @t: table
 * @pos: first bucket to visit; 0 to start
 * @nbuckets: number of buckets to visit in this call
 * @fn: called with a copy of each entry
 * @arg: passed to @fn
 *
 * The buckets are those of the current array, all visited under one
 * rcu_read_lock(), so keep @nbuckets small (a few thousand).  A walk that
 * races with a rehash may miss entries or see some twice; an entry present
 * throughout a walk with no concurrent rehash is seen exactly once
 * (shpt_table_walk_all() holds rehashes off for a whole walk).  An
 * entry removed before the walk reads it is never reported, even if the
 * walk is standing on it (see DOC: Chains).
 *
 * Context: any context but hard interrupts; never sleeps.  @fn runs under
 * rcu_read_lock() and must not sleep.
 * Return: the bucket to continue from, or 0 when the walk reached the end.
 */
unsigned long shpt_table_walk(struct shpt_table *t, unsigned long pos,
			      unsigned long nbuckets, shpt_walk_fn fn,
			      void *arg)
{
	struct shpt_bucket_table *tbl;
	struct shpt_mapping m;
	unsigned long end, size;
	struct shpt_entry *p;
	u64 key, val;

	rcu_read_lock();
	tbl = rcu_dereference(t->tbl);
	size = tbl->size;	/* @tbl may be freed after rcu_read_unlock() */
	end = pos + min_t(unsigned long, nbuckets, size);
	end = min_t(unsigned long, end, size);
	for (; pos < end; pos++) {
		for (p = shpt_head_rcu(&tbl->buckets[pos]); !shpt_is_nulls(p);
		     p = rcu_dereference(p->next)) {
			key = READ_ONCE(p->key);
			val = READ_ONCE(p->val);
			if (shpt_val_dead(val))	/* removed under us */
				continue;
			shpt_unpack(key, val, &m);
			fn(&m, arg);
		}
	}
	rcu_read_unlock();
	return end < size ? end : 0;
}

/**
 * shpt_table_walk_all() - visit every entry of the table, rehashes held off
 * @t: table
 * @nbuckets: buckets visited per rcu_read_lock() section (a few thousand)
 * @fn: called with a copy of each entry
 * @arg: passed to @fn
 *
 * Walks the whole array with shpt_table_walk(), @nbuckets at a time, with
 * cond_resched() between the chunks.  @resize_mutex is held throughout, so
 * no rehash runs during the walk: an entry present throughout is seen
 * exactly once, which a chunked walk that races with a rehash cannot
 * promise (entries move between arrays and buckets under it).  Lookups,
 * inserts and removes go on as usual; a resize or rekey that falls due
 * waits for the walk to end, so keep the walk to diagnostics.
 *
 * Context: process context, may sleep; must not be called under
 * rcu_read_lock() or from a rehash.  @fn runs under rcu_read_lock() and
 * must not sleep.
 * Return: 0, or -EINTR when a fatal signal cut the walk short (the entries
 * reported so far are then only part of the table).
 */
int shpt_table_walk_all(struct shpt_table *t, unsigned long nbuckets,
			shpt_walk_fn fn, void *arg)
{
	unsigned long pos = 0;
	int err = 0;

	might_sleep();
	if (mutex_lock_killable(&t->resize_mutex))
		return -EINTR;
	do {
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		pos = shpt_table_walk(t, pos, nbuckets, fn, arg);
		cond_resched();
	} while (pos);
	mutex_unlock(&t->resize_mutex);
	return err;
}

/**
 * shpt_table_chain_hist() - histogram of chain lengths
 * @t: table
 * @hist: receives, in bin k, the number of buckets with chains of length k;
 *	the last bin counts every chain of length >= @nbins - 1
 * @nbins: number of bins, at least 1
 *
 * Counts SHPT_HIST_CHUNK buckets per rcu_read_lock() section, with
 * cond_resched() between sections, so the result is a snapshot only when
 * nothing writes concurrently; under writes or a resize the bins may not sum
 * to the returned count.  Lengths count every entry the walk passes,
 * including one removed concurrently (its value word is not read), so they
 * are approximate under writes in any case.
 *
 * Context: process context, may sleep.
 * Return: the number of buckets of the array counted last.
 */
unsigned long shpt_table_chain_hist(struct shpt_table *t, u64 *hist,
				    unsigned int nbins)
{
	struct shpt_bucket_table *tbl;
	unsigned long b = 0, end, size;
	struct shpt_entry *p;
	unsigned int len;

	if (!nbins)
		return 0;
	memset(hist, 0, nbins * sizeof(*hist));
	do {
		rcu_read_lock();
		tbl = rcu_dereference(t->tbl);
		size = tbl->size;
		end = min_t(unsigned long, b + SHPT_HIST_CHUNK, size);
		for (; b < end; b++) {
			len = 0;
			for (p = shpt_head_rcu(&tbl->buckets[b]);
			     !shpt_is_nulls(p); p = rcu_dereference(p->next))
				len++;
			hist[min(len, nbins - 1)]++;
		}
		rcu_read_unlock();
		cond_resched();
	} while (b < size);
	return size;
}

/**
 * shpt_table_get_stats() - sum the counters
 * @t: table
 * @s: receives the sums
 *
 * Counters of different CPUs are read at slightly different times, so
 * identities like hits <= probes hold exactly only when no operation runs
 * concurrently.  @lookups is hits + misses, always.
 *
 * Context: any context but hard interrupts.
 */
void shpt_table_get_stats(struct shpt_table *t, struct shpt_table_stats *s)
{
	u64 sum[SHPT_STAT_NR] = { 0 };
	struct shpt_bucket_table *tbl;
	struct shpt_pcpu_stats *pc;
	unsigned int i;
	int cpu;
	u64 v;

	for_each_possible_cpu(cpu) {
		pc = per_cpu_ptr(t->stats, cpu);
		for (i = 0; i < SHPT_STAT_NR; i++) {
			v = READ_ONCE(pc->c[i]);
			if (i == SHPT_STAT_MAX_PROBES)
				sum[i] = max(sum[i], v);
			else
				sum[i] += v;
		}
	}
	s->hits = sum[SHPT_STAT_HITS];
	s->misses = sum[SHPT_STAT_MISSES];
	s->lookups = s->hits + s->misses;
	s->probes = sum[SHPT_STAT_PROBES];
	s->max_probes = sum[SHPT_STAT_MAX_PROBES];
	s->restarts = sum[SHPT_STAT_RESTARTS];
	s->inserts = sum[SHPT_STAT_INSERTS];
	s->replaces = sum[SHPT_STAT_REPLACES];
	s->removes = sum[SHPT_STAT_REMOVES];
	s->grows = sum[SHPT_STAT_GROWS];
	s->shrinks = sum[SHPT_STAT_SHRINKS];
	s->rekeys = sum[SHPT_STAT_REKEYS];
	s->long_chains = sum[SHPT_STAT_LONG_CHAINS];
	s->alloc_fail = sum[SHPT_STAT_ALLOC_FAIL];
	s->rekey_retries = sum[SHPT_STAT_REKEY_RETRIES];
	s->nelems = atomic_long_read(&t->nelems);
	rcu_read_lock();
	tbl = rcu_dereference(t->tbl);
	s->nbuckets = tbl->size;
	s->bytes = s->nelems * sizeof(struct shpt_entry) +
		   struct_size(tbl, buckets, tbl->size);
	rcu_read_unlock();
}

/**
 * shpt_table_reset_stats() - zero the counters
 * @t: table
 *
 * Zeroes every per-CPU counter; @nelems and @nbuckets describe the table
 * and are not counters.  Increments that race with the reset may survive.
 *
 * Context: any context but hard interrupts.
 */
void shpt_table_reset_stats(struct shpt_table *t)
{
	struct shpt_pcpu_stats *pc;
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu) {
		pc = per_cpu_ptr(t->stats, cpu);
		for (i = 0; i < SHPT_STAT_NR; i++)
			WRITE_ONCE(pc->c[i], 0);
	}
}

/**
 * shpt_table_get_params() - the parameters in effect
 * @t: table
 * @p: receives the parameters as normalized by shpt_table_create()
 *
 * Context: any.
 */
void shpt_table_get_params(struct shpt_table *t, struct shpt_table_params *p)
{
	*p = t->p;
}

/**
 * shpt_hash_name() - the name of a hash function
 * @fn: hash function
 *
 * Context: any.
 * Return: "siphash", "hsiphash", "modulo", or "unknown".
 */
const char *shpt_hash_name(enum shpt_hash_fn fn)
{
	switch (fn) {
	case SHPT_HASH_SIPHASH:
		return "siphash";
	case SHPT_HASH_HSIPHASH:
		return "hsiphash";
	case SHPT_HASH_MODULO:
		return "modulo";
	default:
		return "unknown";
	}
}
