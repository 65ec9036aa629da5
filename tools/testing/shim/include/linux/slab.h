/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: allocations are malloc()s.  Every kmem_cache and the shim as
 * a whole count live objects, so tests can assert that nothing leaks, and
 * shim_fail_allocs() makes the next allocations fail.
 */
#ifndef _SHIM_LINUX_SLAB_H
#define _SHIM_LINUX_SLAB_H

#include <linux/gfp.h>
#include <linux/kernel.h>

struct kmem_cache;

/* kmem_cache_create() flags: accepted and ignored (no memory cgroups here). */
#define SLAB_ACCOUNT		0x04000000UL

void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);
void kfree(const void *p);
void *kvmalloc(size_t size, gfp_t gfp);
void *kvzalloc(size_t size, gfp_t gfp);
void kvfree(const void *p);

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
				     unsigned int align, unsigned long flags,
				     void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *c);
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp);
void kmem_cache_free(struct kmem_cache *c, void *p);

#endif
