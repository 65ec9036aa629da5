// SPDX-License-Identifier: GPL-2.0
/*
 * siphash_test - the shim's SipHash against references
 *
 * The shim (shim/shim.c) computes siphash_*() and hsiphash_*() itself, as
 * the kernel's lib/siphash.c does on 64-bit, so that host benchmarks pay
 * for the hash what the kernel pays.  Here every one of those functions
 * is held to something it does not share code with:
 *
 *   - the published SipHash-2-4 vectors (key 00..0f, message 00 01 ..
 *     of each length; Aumasson and Bernstein's reference code, also in
 *     the kernel's lib/test_siphash.c) and libsodium's
 *     crypto_shorthash_siphash24(), the reference SipHash-2-4;
 *   - for hsiphash (SipHash-1-3 on a 64-bit kernel), a byte-at-a-time
 *     SipHash-c-d below, itself checked against libsodium at c=2, d=4,
 *     the kernel's published 64-bit hsiphash vectors (32-bit outputs)
 *     and published full 64-bit SipHash-1-3 outputs.
 *
 * The random cases use a fixed seed (SHPT_SIP_SEED), so a failure repeats.
 */
#include <linux/types.h>
#include <linux/siphash.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"

#define SHPT_SIP_SEED	0x5eed5eed12345678ULL
#define SHPT_SIP_RANDOM	100000

/* key 00 01 .. 0f, as the kernel's test_siphash.c writes it */
static const siphash_key_t shpt_vec_key = {
	{ 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL }
};

/* SipHash-2-4, key 00..0f, message 00 01 .. (len - 1): a few lengths */
static const struct {
	unsigned int len;
	u64 h;
} shpt_vec24[] = {
	{ 0, 0x726fdb47dd0e0e31ULL },
	{ 1, 0x74f839c593dc67fdULL },
	{ 7, 0xab0200f58b01d137ULL },
	{ 8, 0x93f5f5799a932462ULL },
	{ 15, 0xa129ca6149be45e5ULL },	/* the paper's appendix A */
	{ 16, 0x3f2acc7f57c29bdbULL },
	{ 24, 0xb8ad50c6f649af94ULL },
	{ 63, 0x958a324ceb064572ULL },
};

/* 64-bit hsiphash (SipHash-1-3, low 32 bits), same key and messages */
static const struct {
	unsigned int len;
	u32 h;
} shpt_vec13[] = {
	{ 0, 0x050fc4dcU },
	{ 4, 0x88d38328U },
	{ 8, 0x8d299a8eU },
	{ 12, 0x57b4d9a2U },
	{ 15, 0x2a519956U },
	{ 16, 0x7d908b66U },
	{ 63, 0xb7bbb3a8U },
};

/*
 * Full 64-bit SipHash-1-3, key all zero, message 00 01 .. (len - 1): the
 * values the reference code's SipHash-1-3 gives, as published with
 * OCaml's test suite (its sip13 hash test).
 */
static const struct {
	unsigned int len;
	u64 h;
} shpt_vec13_zero[] = {
	{ 0, 0xd1fba762150c532cULL },
	{ 1, 0x68a914128e01e473ULL },
	{ 8, 0xead411e67ebe2eeaULL },
	{ 12, 0xa6baf4fb0f9fe1c2ULL },
	{ 15, 0xf30eb725bb91c9eaULL },
	{ 16, 0x8972188433a5c5b7ULL },
	{ 63, 0x385d3e39e5f37359ULL },
};

static u64 shpt_sip_rng = SHPT_SIP_SEED;

/* splitmix64 */
static u64 shpt_rand64(void)
{
	u64 z = (shpt_sip_rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A random word, biased towards the edges (0, ~0, one bit, small). */
static u64 shpt_rand_word(void)
{
	u64 r = shpt_rand64();

	switch (r & 15) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return 1ULL << (r >> 58);
	case 3:
		return r >> 59;
	default:
		return shpt_rand64();
	}
}

static void shpt_put_le(u8 *p, u64 v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

static u64 shpt_get_le(const u8 *p, unsigned int n)
{
	u64 v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static u64 shpt_sodium24(const void *msg, size_t len, const siphash_key_t *k)
{
	u8 kb[16], out[crypto_shorthash_siphash24_BYTES];

	shpt_put_le(kb, k->key[0], 8);
	shpt_put_le(kb + 8, k->key[1], 8);
	crypto_shorthash_siphash24(out, msg, len, kb);
	return shpt_get_le(out, 8);
}

/*
 * The reference: SipHash-c-d as the paper states it, one message byte at
 * a time into a 64-bit buffer, the length byte appended as the last byte
 * of the final block.
 */
#define ROTL(x, b)	(u64)(((x) << (b)) | ((x) >> (64 - (b))))

static void shpt_ref_round(u64 v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

static void shpt_ref_block(u64 v[4], u64 m, int c)
{
	int r;

	v[3] ^= m;
	for (r = 0; r < c; r++)
		shpt_ref_round(v);
	v[0] ^= m;
}

static u64 shpt_ref_sip(int c, int d, const u8 *msg, size_t len,
			const u8 key[16])
{
	u64 k0 = shpt_get_le(key, 8), k1 = shpt_get_le(key + 8, 8);
	u64 v[4] = {
		k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
	};
	u64 m = 0;
	size_t i;
	int r;

	for (i = 0; i < len; i++) {
		m |= (u64)msg[i] << (8 * (i % 8));
		if (i % 8 == 7) {
			shpt_ref_block(v, m, c);
			m = 0;
		}
	}
	m |= (u64)(len & 0xff) << 56;
	shpt_ref_block(v, m, c);
	v[2] ^= 0xff;
	for (r = 0; r < d; r++)
		shpt_ref_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void shpt_key_bytes(u8 kb[16], u64 k0, u64 k1)
{
	shpt_put_le(kb, k0, 8);
	shpt_put_le(kb + 8, k1, 8);
}

FIXTURE(sip) {
	u8 msg[64];
	u8 kb[16];
};

FIXTURE_SETUP(sip)
{
	unsigned int i;

	ASSERT_LE(0, sodium_init());
	for (i = 0; i < sizeof(self->msg); i++)
		self->msg[i] = i;
	shpt_key_bytes(self->kb, shpt_vec_key.key[0], shpt_vec_key.key[1]);
	shpt_sip_rng = SHPT_SIP_SEED;
}

FIXTURE_TEARDOWN(sip)
{
}

/* The published SipHash-2-4 vectors, through every 2-4 entry point. */
TEST_F(sip, vectors_2_4)
{
	const siphash_key_t *k = &shpt_vec_key;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shpt_vec24); i++) {
		unsigned int len = shpt_vec24[i].len;

		EXPECT_EQ(shpt_vec24[i].h, shpt_sodium24(self->msg, len, k));
		EXPECT_EQ(shpt_vec24[i].h,
			  shpt_ref_sip(2, 4, self->msg, len, self->kb));
		EXPECT_EQ(shpt_vec24[i].h, siphash(self->msg, len, k));
	}
	/* the words are the little-endian bytes 00 01 .. */
	EXPECT_EQ(0x93f5f5799a932462ULL,
		  siphash_1u64(0x0706050403020100ULL, k));
	EXPECT_EQ(0x3f2acc7f57c29bdbULL,
		  siphash_2u64(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, k));
	EXPECT_EQ(0xb8ad50c6f649af94ULL,
		  siphash_3u64(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL,
			       0x1716151413121110ULL, k));
}

/* The kernel's published 64-bit hsiphash vectors. */
TEST_F(sip, vectors_1_3)
{
	const hsiphash_key_t hk = { { shpt_vec_key.key[0], shpt_vec_key.key[1] } };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shpt_vec13); i++) {
		unsigned int len = shpt_vec13[i].len;

		EXPECT_EQ(shpt_vec13[i].h,
			  (u32)shpt_ref_sip(1, 3, self->msg, len, self->kb));
		EXPECT_EQ(shpt_vec13[i].h, hsiphash(self->msg, len, &hk));
	}
	EXPECT_EQ(0x57b4d9a2U, hsiphash_3u32(0x03020100U, 0x07060504U,
					     0x0b0a0908U, &hk));
}

/* The full 64-bit SipHash-1-3 vectors (zero key). */
TEST_F(sip, vectors_1_3_zero_key)
{
	const hsiphash_key_t hk = { { 0, 0 } };
	const u64 k[2] = { 0, 0 };
	u8 kb[16] = { 0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shpt_vec13_zero); i++) {
		unsigned int len = shpt_vec13_zero[i].len;
		u64 h = shpt_vec13_zero[i].h;

		EXPECT_EQ(h, shpt_ref_sip(1, 3, self->msg, len, kb));
		EXPECT_EQ(h, shim_siphash_cd(1, 3, self->msg, len, k));
		EXPECT_EQ((u32)h, hsiphash(self->msg, len, &hk));
	}
	EXPECT_EQ(0x0f9fe1c2U, hsiphash_3u32(0x03020100U, 0x07060504U,
					     0x0b0a0908U, &hk));
}

/* Generic paths at every length 0..64, random keys and bytes. */
TEST_F(sip, every_length)
{
	u8 msg[64];
	unsigned int len, rep;
	siphash_key_t k;
	hsiphash_key_t hk;
	u64 h;

	for (rep = 0; rep < 64; rep++) {
		k.key[0] = shpt_rand64();
		k.key[1] = shpt_rand64();
		hk.key[0] = k.key[0];
		hk.key[1] = k.key[1];
		shpt_key_bytes(self->kb, k.key[0], k.key[1]);
		for (len = 0; len < sizeof(msg); len++)
			msg[len] = shpt_rand64();
		for (len = 0; len <= sizeof(msg); len++) {
			h = shpt_sodium24(msg, len, &k);
			ASSERT_EQ(h, shpt_ref_sip(2, 4, msg, len, self->kb));
			ASSERT_EQ(h, siphash(msg, len, &k));
			ASSERT_EQ((u32)shpt_ref_sip(1, 3, msg, len, self->kb),
				  hsiphash(msg, len, &hk));
		}
	}
}

/*
 * siphash_2u64(a, b) is SipHash-2-4 of the 16 little-endian bytes of a
 * then b: 100000 random (key, a, b), against libsodium.  The 1- and
 * 3-word forms ride along.
 */
TEST_F(sip, random_words_2_4)
{
	siphash_key_t k;
	u8 m[24];
	u64 a, b, c;
	int i;

	for (i = 0; i < SHPT_SIP_RANDOM; i++) {
		k.key[0] = shpt_rand64();
		k.key[1] = shpt_rand64();
		a = shpt_rand_word();
		b = shpt_rand_word();
		c = shpt_rand_word();
		shpt_put_le(m, a, 8);
		shpt_put_le(m + 8, b, 8);
		shpt_put_le(m + 16, c, 8);
		ASSERT_EQ(shpt_sodium24(m, 16, &k), siphash_2u64(a, b, &k))
			TH_LOG("case %d: a=%#llx b=%#llx", i,
			       (unsigned long long)a, (unsigned long long)b);
		if (i % 16)
			continue;
		ASSERT_EQ(shpt_sodium24(m, 8, &k), siphash_1u64(a, &k));
		ASSERT_EQ(shpt_sodium24(m, 24, &k), siphash_3u64(a, b, c, &k));
	}
}

/*
 * hsiphash_3u32(a, b, c) is the low 32 bits of SipHash-1-3 of the 12
 * little-endian bytes of a, b, c: 100000 random cases against the
 * byte-at-a-time reference.
 */
TEST_F(sip, random_words_1_3)
{
	hsiphash_key_t hk;
	u32 a, b, c;
	u8 m[12];
	int i;

	for (i = 0; i < SHPT_SIP_RANDOM; i++) {
		hk.key[0] = shpt_rand64();
		hk.key[1] = shpt_rand64();
		shpt_key_bytes(self->kb, hk.key[0], hk.key[1]);
		a = shpt_rand_word();
		b = shpt_rand_word();
		c = shpt_rand_word() >> (i & 31);
		shpt_put_le(m, a, 4);
		shpt_put_le(m + 4, b, 4);
		shpt_put_le(m + 8, c, 4);
		ASSERT_EQ((u32)shpt_ref_sip(1, 3, m, 12, self->kb),
			  hsiphash_3u32(a, b, c, &hk))
			TH_LOG("case %d: a=%#x b=%#x c=%#x", i, a, b, c);
	}
}

TEST_HARNESS_MAIN
