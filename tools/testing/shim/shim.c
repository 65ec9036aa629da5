// SPDX-License-Identifier: GPL-2.0
/*
 * Host shim: the out-of-line parts of the fake kernel API that
 * module/table.c is built against in userspace.  Nothing here knows about
 * the table.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/shim.h"

__thread int shim_preempt_depth;
int shim_printk_quiet;
unsigned int shim_jitter_n;
static __thread u64 shim_jitter_x;
#ifdef SHIM_TSAN
char shim_rcu_gp_token;
#endif

void shim_bug(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shim: BUG: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void shim_might_sleep(const char *file, int line)
{
	if (shim_preempt_depth)
		shim_bug("%s:%d: sleeping function called in atomic context (depth %d)",
			 file, line, shim_preempt_depth);
	if (urcu_memb_read_ongoing())
		shim_bug("%s:%d: sleeping function called under rcu_read_lock()",
			 file, line);
}

void shim_thread_init(void)
{
	rcu_register_thread();
}

void shim_thread_exit(void)
{
	rcu_unregister_thread();
}

void shim_set_quiet(int quiet)
{
	shim_printk_quiet = quiet;
}

void shim_set_jitter(unsigned int n)
{
	__atomic_store_n(&shim_jitter_n, n, __ATOMIC_RELAXED);
}

void shim_jitter_slow(void)
{
	unsigned int n = __atomic_load_n(&shim_jitter_n, __ATOMIC_RELAXED);
	u64 x = shim_jitter_x;

	if (!x)
		x = (u64)(unsigned long)&shim_jitter_x | 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	shim_jitter_x = x;
	if (n && x % n == 0)
		sched_yield();
}

/* ---- allocation ---- */

struct kmem_cache {
	const char *name;
	unsigned int size;
	unsigned int align;
	long live;
};

static long shim_kmem_objs;
static long shim_kmalloc_blocks;
static int shim_fail_count;

long shim_kmem_live(void)
{
	return __atomic_load_n(&shim_kmem_objs, __ATOMIC_RELAXED);
}

long shim_kmalloc_live(void)
{
	return __atomic_load_n(&shim_kmalloc_blocks, __ATOMIC_RELAXED);
}

void shim_fail_allocs(int n)
{
	__atomic_store_n(&shim_fail_count, n, __ATOMIC_RELAXED);
}

static bool shim_should_fail(void)
{
	int n = __atomic_load_n(&shim_fail_count, __ATOMIC_RELAXED);

	while (n > 0) {
		if (__atomic_compare_exchange_n(&shim_fail_count, &n, n - 1,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static void *shim_alloc(size_t size, gfp_t gfp, bool may_fail)
{
	void *p;

	might_sleep_if(gfpflags_allow_blocking(gfp));
	if (may_fail && shim_should_fail())
		return NULL;
	p = (gfp & __GFP_ZERO) ? calloc(1, size) : malloc(size);
	if (p)
		__atomic_add_fetch(&shim_kmalloc_blocks, 1, __ATOMIC_RELAXED);
	return p;
}

void *kmalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, gfp, false);
}

void *kzalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, gfp | __GFP_ZERO, false);
}

void kfree(const void *p)
{
	if (!p)
		return;
	__atomic_sub_fetch(&shim_kmalloc_blocks, 1, __ATOMIC_RELAXED);
	free((void *)p);
}

void *kvmalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, gfp, true);
}

void *kvzalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, gfp | __GFP_ZERO, true);
}

void kvfree(const void *p)
{
	kfree(p);
}

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
				     unsigned int align, unsigned long flags,
				     void (*ctor)(void *))
{
	struct kmem_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->name = name;
	c->size = size;
	c->align = align ? align : sizeof(void *);
	return c;
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	if (!c)
		return;
	if (c->live)
		shim_bug("kmem_cache_destroy(%s): %ld objects remaining",
			 c->name, c->live);
	free(c);
}

void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	void *p;

	might_sleep_if(gfpflags_allow_blocking(gfp));
	if (shim_should_fail())
		return NULL;
	if (posix_memalign(&p, c->align, c->size))
		return NULL;
	if (gfp & __GFP_ZERO)
		memset(p, 0, c->size);
	__atomic_add_fetch(&c->live, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&shim_kmem_objs, 1, __ATOMIC_RELAXED);
	return p;
}

void kmem_cache_free(struct kmem_cache *c, void *p)
{
	if (!p)
		return;
	__atomic_sub_fetch(&c->live, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&shim_kmem_objs, 1, __ATOMIC_RELAXED);
	free(p);
}

/* ---- per-CPU ---- */

static int shim_next_cpu;
static __thread int shim_my_cpu = -1;

int shim_cpu(void)
{
	if (shim_my_cpu < 0)
		shim_my_cpu = __atomic_fetch_add(&shim_next_cpu, 1,
						 __ATOMIC_RELAXED) % SHIM_NR_CPUS;
	return shim_my_cpu;
}

void *shim_alloc_percpu(size_t size)
{
	BUG_ON(size > SHIM_PCPU_UNIT);
	return calloc(SHIM_NR_CPUS, SHIM_PCPU_UNIT);
}

void free_percpu(void *p)
{
	free(p);
}

/* ---- random and SipHash ---- */

static pthread_once_t shim_sodium_once = PTHREAD_ONCE_INIT;

static void shim_sodium_init(void)
{
	if (sodium_init() < 0)
		shim_bug("sodium_init failed");
}

void get_random_bytes(void *buf, size_t len)
{
	pthread_once(&shim_sodium_once, shim_sodium_init);
	randombytes_buf(buf, len);
}

u32 get_random_u32(void)
{
	u32 v;

	get_random_bytes(&v, sizeof(v));
	return v;
}

/*
 * SipHash as the kernel's lib/siphash.c computes it on a 64-bit
 * little-endian machine: siphash_*() is SipHash-2-4, hsiphash_*() is
 * SipHash-1-3 truncated to 32 bits.  The word functions take their words
 * as the little-endian bytes of the message, as the kernel's do, so that
 * a lookup costs here what it costs in the kernel (no byte packing, no
 * library call).  siphash_test checks them against libsodium and against
 * the published vectors.
 */
struct shim_sip {
	u64 v0, v1, v2, v3;
};

static inline u64 shim_rol64(u64 x, unsigned int s)
{
	return x << s | x >> (64 - s);
}

/* one SipRound (Aumasson and Bernstein, 2012, section 2.2) */
static inline void shim_sipround(struct shim_sip *s)
{
	s->v0 += s->v1;
	s->v2 += s->v3;
	s->v1 = shim_rol64(s->v1, 13) ^ s->v0;
	s->v3 = shim_rol64(s->v3, 16) ^ s->v2;
	s->v0 = shim_rol64(s->v0, 32);
	s->v2 += s->v1;
	s->v0 += s->v3;
	s->v1 = shim_rol64(s->v1, 17) ^ s->v2;
	s->v3 = shim_rol64(s->v3, 21) ^ s->v0;
	s->v2 = shim_rol64(s->v2, 32);
}

static inline void shim_sip_init(struct shim_sip *s, u64 k0, u64 k1)
{
	s->v0 = 0x736f6d6570736575ULL ^ k0;
	s->v1 = 0x646f72616e646f6dULL ^ k1;
	s->v2 = 0x6c7967656e657261ULL ^ k0;
	s->v3 = 0x7465646279746573ULL ^ k1;
}

/*
 * Absorb one 64-bit message word with @c rounds.  The word functions pass
 * a constant @c and @d; the loops are unrolled so that they run straight
 * through, as the kernel's do.
 */
static inline void shim_sip_word(struct shim_sip *s, u64 m, int c)
{
	s->v3 ^= m;
#pragma GCC unroll 4
	while (c--)
		shim_sipround(s);
	s->v0 ^= m;
}

/* @last: the final word, the length byte (mod 256) in its top byte */
static inline u64 shim_sip_final(struct shim_sip *s, u64 last, int c, int d)
{
	shim_sip_word(s, last, c);
	s->v2 ^= 0xff;
#pragma GCC unroll 4
	while (d--)
		shim_sipround(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static inline u64 shim_get_le64(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* SipHash-c-d over @len bytes of @data: the generic (byte) path. */
u64 shim_siphash_cd(int c, int d, const void *data, size_t len,
		    const u64 key[2])
{
	const u8 *p = data;
	size_t i, left = len & 7;
	struct shim_sip s;
	u64 last = 0;

	shim_sip_init(&s, key[0], key[1]);
	for (i = 0; i + 8 <= len; i += 8)
		shim_sip_word(&s, shim_get_le64(p + i), c);
	while (left--)
		last |= (u64)p[i + left] << (8 * left);
	return shim_sip_final(&s, last | (u64)len << 56, c, d);
}

u64 siphash(const void *data, size_t len, const siphash_key_t *key)
{
	return shim_siphash_cd(2, 4, data, len, key->key);
}

u64 siphash_1u64(u64 a, const siphash_key_t *key)
{
	struct shim_sip s;

	shim_sip_init(&s, key->key[0], key->key[1]);
	shim_sip_word(&s, a, 2);
	return shim_sip_final(&s, 8ULL << 56, 2, 4);
}

u64 siphash_2u64(u64 a, u64 b, const siphash_key_t *key)
{
	struct shim_sip s;

	shim_sip_init(&s, key->key[0], key->key[1]);
	shim_sip_word(&s, a, 2);
	shim_sip_word(&s, b, 2);
	return shim_sip_final(&s, 16ULL << 56, 2, 4);
}

u64 siphash_3u64(u64 a, u64 b, u64 c, const siphash_key_t *key)
{
	struct shim_sip s;

	shim_sip_init(&s, key->key[0], key->key[1]);
	shim_sip_word(&s, a, 2);
	shim_sip_word(&s, b, 2);
	shim_sip_word(&s, c, 2);
	return shim_sip_final(&s, 24ULL << 56, 2, 4);
}

u32 hsiphash(const void *data, size_t len, const hsiphash_key_t *key)
{
	u64 k[2] = { key->key[0], key->key[1] };

	return shim_siphash_cd(1, 3, data, len, k);
}

/* 12 message bytes: one word (a, b), then c beside the length byte */
u32 hsiphash_3u32(u32 a, u32 b, u32 c, const hsiphash_key_t *key)
{
	struct shim_sip s;

	shim_sip_init(&s, key->key[0], key->key[1]);
	shim_sip_word(&s, (u64)b << 32 | a, 1);
	return shim_sip_final(&s, 12ULL << 56 | c, 1, 3);
}

/* ---- workqueue: one worker thread, FIFO ---- */

struct workqueue_struct {
	int unused;
};

static struct workqueue_struct shim_wq;
struct workqueue_struct *system_wq = &shim_wq;
struct workqueue_struct *system_unbound_wq = &shim_wq;

static pthread_mutex_t shim_wq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t shim_wq_cond = PTHREAD_COND_INITIALIZER;
static pthread_once_t shim_wq_once = PTHREAD_ONCE_INIT;
static struct work_struct *shim_wq_head, *shim_wq_tail;
static struct work_struct *shim_wq_running;

static void *shim_worker(void *arg)
{
	struct work_struct *w;

	rcu_register_thread();
	pthread_mutex_lock(&shim_wq_lock);
	for (;;) {
		while (!shim_wq_head)
			pthread_cond_wait(&shim_wq_cond, &shim_wq_lock);
		w = shim_wq_head;
		shim_wq_head = w->next;
		if (!shim_wq_head)
			shim_wq_tail = NULL;
		w->next = NULL;
		w->pending = false;
		shim_wq_running = w;
		pthread_mutex_unlock(&shim_wq_lock);

		w->func(w);

		pthread_mutex_lock(&shim_wq_lock);
		shim_wq_running = NULL;
		pthread_cond_broadcast(&shim_wq_cond);
	}
	return NULL;
}

static void shim_wq_start(void)
{
	pthread_t th;

	if (pthread_create(&th, NULL, shim_worker, NULL))
		shim_bug("cannot start the workqueue thread");
	pthread_detach(th);
}

bool queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	bool queued = false;

	pthread_once(&shim_wq_once, shim_wq_start);
	pthread_mutex_lock(&shim_wq_lock);
	if (!work->pending) {
		work->pending = true;
		work->next = NULL;
		if (shim_wq_tail)
			shim_wq_tail->next = work;
		else
			shim_wq_head = work;
		shim_wq_tail = work;
		queued = true;
		pthread_cond_broadcast(&shim_wq_cond);
	}
	pthread_mutex_unlock(&shim_wq_lock);
	return queued;
}

bool flush_work(struct work_struct *work)
{
	bool waited = false;

	might_sleep();
	pthread_mutex_lock(&shim_wq_lock);
	while (work->pending || shim_wq_running == work) {
		waited = true;
		pthread_cond_wait(&shim_wq_cond, &shim_wq_lock);
	}
	pthread_mutex_unlock(&shim_wq_lock);
	return waited;
}

bool cancel_work_sync(struct work_struct *work)
{
	struct work_struct **pp;
	bool was_pending = false;

	might_sleep();
	pthread_mutex_lock(&shim_wq_lock);
	if (work->pending) {
		for (pp = &shim_wq_head; *pp; pp = &(*pp)->next) {
			if (*pp != work)
				continue;
			*pp = work->next;
			break;
		}
		shim_wq_tail = NULL;
		for (pp = &shim_wq_head; *pp; pp = &(*pp)->next)
			shim_wq_tail = *pp;
		work->pending = false;
		work->next = NULL;
		was_pending = true;
	}
	while (shim_wq_running == work)
		pthread_cond_wait(&shim_wq_cond, &shim_wq_lock);
	pthread_mutex_unlock(&shim_wq_lock);
	return was_pending;
}
