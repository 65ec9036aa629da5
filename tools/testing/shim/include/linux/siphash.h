/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: siphash_*() is libsodium's SipHash-2-4, byte for byte what the
 * kernel computes on a little-endian machine.  hsiphash_*() is SipHash-1-3
 * as on a 64-bit kernel, from the shim's own SipHash core (checked against
 * libsodium for 2-4 in table_test).
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

/* SipHash-c-d over @data; for tests of the shim itself */
u64 shim_siphash_cd(int c, int d, const void *data, size_t len,
		    const u64 key[2]);

#endif
