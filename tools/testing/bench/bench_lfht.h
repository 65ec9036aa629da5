/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shpt bench: the baseline, liburcu's cds_lfht, behind a small API so that
 * its headers never meet the kernel shim's in one translation unit.
 */
#ifndef _SHPT_BENCH_LFHT_H
#define _SHPT_BENCH_LFHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shpt_bl;

struct shpt_bl *shpt_bl_create(const unsigned char key[16],
			       unsigned long init_size);
void shpt_bl_destroy(struct shpt_bl *bl);
int shpt_bl_insert(struct shpt_bl *bl, uint64_t asid, uint64_t vpn,
		   unsigned int order, uint64_t pfn, unsigned int flags);
bool shpt_bl_lookup(struct shpt_bl *bl, uint64_t asid, uint64_t vpn,
		    unsigned int order, uint64_t *pfn, unsigned int *flags);
bool shpt_bl_remove(struct shpt_bl *bl, uint64_t asid, uint64_t vpn,
		    unsigned int order);
unsigned long shpt_bl_count(struct shpt_bl *bl);
void shpt_bl_resize(struct shpt_bl *bl, unsigned long size);
size_t shpt_bl_node_size(void);
size_t shpt_bl_bucket_size(void);
void shpt_bl_thread_online(void);
void shpt_bl_thread_offline(void);
void shpt_bl_barrier(void);
uint64_t shpt_bl_hash(const unsigned char key[16], uint64_t asid,
		      uint64_t vpn, unsigned int order);

#endif /* _SHPT_BENCH_LFHT_H */
