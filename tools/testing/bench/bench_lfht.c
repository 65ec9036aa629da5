// SPDX-License-Identifier: GPL-2.0
/*
 * shpt bench: liburcu's lock-free resizable hash table (cds_lfht), the
 * baseline of `make bench-host`.
 *
 * The node stores the same packed key and value words as a shpt entry
 * (asid:20 | vpn:44, and pfn:40 | order:6 | flags:16), a lookup returns
 * a copy of the value, and the bucket hash is the same SipHash-2-4 code
 * over the same (asid, vpn, order) words, so the comparison is about the
 * table and not about the hash.
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include "bench_lfht.h"

#define SHPT_BL_VPN_BITS	44
#define SHPT_BL_PFN_BITS	40
#define SHPT_BL_ORDER_BITS	6

struct shpt_bl {
	struct cds_lfht *ht;
	unsigned char key[16] __attribute__((aligned(8)));
};

struct shpt_bl_node {
	struct cds_lfht_node node;
	uint64_t key;		/* asid:20 | vpn:44 */
	uint64_t val;		/* pfn:40 | order:6 | flags:16 */
	struct rcu_head rcu;
};

struct shpt_bl_key {
	uint64_t key;
	unsigned int order;
};

static inline uint64_t shpt_bl_pack_key(uint64_t asid, uint64_t vpn)
{
	return asid << SHPT_BL_VPN_BITS | vpn;
}

static inline unsigned int shpt_bl_val_order(uint64_t val)
{
	return (val >> SHPT_BL_PFN_BITS) & ((1U << SHPT_BL_ORDER_BITS) - 1);
}

/*
 * The shim's siphash_2u64() (libsodium's SipHash-2-4), called exactly as
 * table.c calls it: siphash_2u64(asid << 44 | vpn, order, key).  Declared
 * here with a layout-identical key type so that the shim's headers stay
 * out of this file.
 */
struct shpt_bl_sipkey {
	uint64_t key[2];
};

uint64_t siphash_2u64(uint64_t a, uint64_t b, const struct shpt_bl_sipkey *key);

/**
 * shpt_bl_hash() - the bucket hash of the shpt table, for cds_lfht
 * @key: 128-bit SipHash key
 * @asid: address-space id
 * @vpn: virtual page number
 * @order: page order
 *
 * Return: siphash_2u64(packed key, order).
 */
uint64_t shpt_bl_hash(const unsigned char key[16], uint64_t asid,
		      uint64_t vpn, unsigned int order)
{
	return siphash_2u64(shpt_bl_pack_key(asid, vpn), order,
			    (const struct shpt_bl_sipkey *)key);
}

static int shpt_bl_match(struct cds_lfht_node *node, const void *key)
{
	const struct shpt_bl_node *n =
		caa_container_of(node, struct shpt_bl_node, node);
	const struct shpt_bl_key *k = key;

	return n->key == k->key && shpt_bl_val_order(n->val) == k->order;
}

static void shpt_bl_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct shpt_bl_node, rcu));
}

/**
 * shpt_bl_create() - a cds_lfht that resizes by itself, as shpt does
 * @key: 128-bit SipHash key
 * @init_size: initial bucket count, a power of two
 *
 * Return: the table, or NULL.
 */
struct shpt_bl *shpt_bl_create(const unsigned char key[16],
			       unsigned long init_size)
{
	struct shpt_bl *bl = calloc(1, sizeof(*bl));

	if (!bl)
		return NULL;
	memcpy(bl->key, key, 16);
	bl->ht = cds_lfht_new_flavor(init_size, 64, 0,
				     CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				     &urcu_memb_flavor, NULL);
	if (!bl->ht) {
		free(bl);
		return NULL;
	}
	return bl;
}

/**
 * shpt_bl_destroy() - free every node and the table
 * @bl: the table
 */
void shpt_bl_destroy(struct shpt_bl *bl)
{
	struct cds_lfht_iter iter;
	struct shpt_bl_node *n;

	urcu_memb_read_lock();
	cds_lfht_for_each_entry(bl->ht, &iter, n, node) {
		if (!cds_lfht_del(bl->ht, &n->node))
			urcu_memb_call_rcu(&n->rcu, shpt_bl_free_rcu);
	}
	urcu_memb_read_unlock();
	urcu_memb_barrier();
	cds_lfht_destroy(bl->ht, NULL);
	free(bl);
}

/**
 * shpt_bl_insert() - insert or replace, like shpt_table_insert()
 * @bl: the table
 * @asid: address-space id
 * @vpn: virtual page number
 * @order: page order
 * @pfn: page frame number
 * @flags: flag bits
 *
 * Return: 0, or -ENOMEM.
 */
int shpt_bl_insert(struct shpt_bl *bl, uint64_t asid, uint64_t vpn,
		   unsigned int order, uint64_t pfn, unsigned int flags)
{
	struct shpt_bl_key k = { shpt_bl_pack_key(asid, vpn), order };
	struct shpt_bl_node *n = malloc(sizeof(*n));
	struct cds_lfht_node *old;

	if (!n)
		return -ENOMEM;
	cds_lfht_node_init(&n->node);
	n->key = k.key;
	n->val = pfn | (uint64_t)order << SHPT_BL_PFN_BITS |
		 (uint64_t)flags << (SHPT_BL_PFN_BITS + SHPT_BL_ORDER_BITS);
	urcu_memb_read_lock();
	old = cds_lfht_add_replace(bl->ht, shpt_bl_hash(bl->key, asid, vpn, order),
				   shpt_bl_match, &k, &n->node);
	urcu_memb_read_unlock();
	if (old)
		urcu_memb_call_rcu(&caa_container_of(old, struct shpt_bl_node,
						     node)->rcu,
				   shpt_bl_free_rcu);
	return 0;
}

/**
 * shpt_bl_lookup() - copy out the value of one key
 * @bl: the table
 * @asid: address-space id
 * @vpn: virtual page number
 * @order: page order
 * @pfn: out: page frame number
 * @flags: out: flag bits
 *
 * Return: true if found.
 */
bool shpt_bl_lookup(struct shpt_bl *bl, uint64_t asid, uint64_t vpn,
		    unsigned int order, uint64_t *pfn, unsigned int *flags)
{
	struct shpt_bl_key k = { shpt_bl_pack_key(asid, vpn), order };
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	uint64_t val = 0;

	urcu_memb_read_lock();
	cds_lfht_lookup(bl->ht, shpt_bl_hash(bl->key, asid, vpn, order),
			shpt_bl_match, &k, &iter);
	node = cds_lfht_iter_get_node(&iter);
	if (node)
		val = CMM_LOAD_SHARED(caa_container_of(node, struct shpt_bl_node,
						       node)->val);
	urcu_memb_read_unlock();
	if (!node)
		return false;
	*pfn = val & ((1ULL << SHPT_BL_PFN_BITS) - 1);
	*flags = val >> (SHPT_BL_PFN_BITS + SHPT_BL_ORDER_BITS);
	return true;
}

/**
 * shpt_bl_remove() - remove one key
 * @bl: the table
 * @asid: address-space id
 * @vpn: virtual page number
 * @order: page order
 *
 * Return: true if this call removed it.
 */
bool shpt_bl_remove(struct shpt_bl *bl, uint64_t asid, uint64_t vpn,
		    unsigned int order)
{
	struct shpt_bl_key k = { shpt_bl_pack_key(asid, vpn), order };
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	bool removed = false;

	urcu_memb_read_lock();
	cds_lfht_lookup(bl->ht, shpt_bl_hash(bl->key, asid, vpn, order),
			shpt_bl_match, &k, &iter);
	node = cds_lfht_iter_get_node(&iter);
	if (node && !cds_lfht_del(bl->ht, node)) {
		urcu_memb_call_rcu(&caa_container_of(node, struct shpt_bl_node,
						     node)->rcu,
				   shpt_bl_free_rcu);
		removed = true;
	}
	urcu_memb_read_unlock();
	return removed;
}

/**
 * shpt_bl_count() - nodes in the table, by traversal
 * @bl: the table
 *
 * Return: the count.
 */
unsigned long shpt_bl_count(struct shpt_bl *bl)
{
	long before, after;
	unsigned long count;

	urcu_memb_read_lock();
	cds_lfht_count_nodes(bl->ht, &before, &count, &after);
	urcu_memb_read_unlock();
	return count;
}

/**
 * shpt_bl_resize() - set the bucket count, and wait until it is done
 * @bl: the table
 * @size: bucket count, a power of two
 *
 * Synchronous, like shpt_table_rehash(): the "grow" case times both.
 */
void shpt_bl_resize(struct shpt_bl *bl, unsigned long size)
{
	cds_lfht_resize(bl->ht, size);
}

/** shpt_bl_node_size() - bytes malloc()ed per node */
size_t shpt_bl_node_size(void)
{
	return sizeof(struct shpt_bl_node);
}

/** shpt_bl_bucket_size() - bytes per bucket (a dummy node) */
size_t shpt_bl_bucket_size(void)
{
	return sizeof(struct cds_lfht_node);
}

/** shpt_bl_thread_online() - register the calling thread as an RCU reader */
void shpt_bl_thread_online(void)
{
	urcu_memb_register_thread();
}

/** shpt_bl_thread_offline() - unregister the calling thread */
void shpt_bl_thread_offline(void)
{
	urcu_memb_unregister_thread();
}

/** shpt_bl_barrier() - wait for every queued RCU callback */
void shpt_bl_barrier(void)
{
	urcu_memb_barrier();
}
