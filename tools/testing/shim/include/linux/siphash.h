/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: SipHash as lib/siphash.c computes it on a 64-bit
 * little-endian kernel.  siphash_*() is SipHash-2-4; hsiphash_*() is
 * SipHash-1-3 truncated to 32 bits (the kernel's 64-bit hsiphash, not
 * HalfSipHash).  The word functions (siphash_2u64() is table.c's lookup
 * hash) absorb their words directly, as the kernel's do, so a host lookup
 * pays for the hash what a kernel lookup pays.  tools/testing/siphash_test
 * checks every function here against libsodium's SipHash-2-4, a
 * byte-at-a-time SipHash-1-3 of its own, and the published vectors.
 */
#ifndef _SHIM_LINUX_SIPHASH_H
#define _SHIM_LINUX_SIPHASH_H

#include <linux/types.h>

typedef struct {
	u64 key[2];
} siphash_key_t;

typedef struct {
	unsigned long key[2];
} hsiphash_key_t;

u64 siphash(const void *data, size_t len, const siphash_key_t *key);
u64 siphash_1u64(u64 a, const siphash_key_t *key);
u64 siphash_2u64(u64 a, u64 b, const siphash_key_t *key);
u64 siphash_3u64(u64 a, u64 b, u64 c, const siphash_key_t *key);
u32 hsiphash(const void *data, size_t len, const hsiphash_key_t *key);
u32 hsiphash_3u32(u32 a, u32 b, u32 c, const hsiphash_key_t *key);

/* SipHash-c-d over @len bytes of @data (the generic path; for tests too) */
u64 shim_siphash_cd(int c, int d, const void *data, size_t len,
		    const u64 key[2]);

#endif
