/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the shpt demo workloads.  Each workload runs for a
 * bounded time (-t SEC, default 2), prints one summary line with -v, and
 * exits 0 unless the system refuses it memory.
 */
#ifndef SHPT_WORKLOAD_COMMON_H
#define SHPT_WORKLOAD_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#define WL_PAGE 4096UL

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static double wl_seconds = 2.0;
static int wl_verbose;

static inline double wl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void wl_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Touch @n pages from @p by writing one byte each. */
static inline void wl_touch(void *p, unsigned long n, unsigned char v)
{
	volatile unsigned char *c = p;

	for (unsigned long i = 0; i < n; i++)
		c[i * WL_PAGE] = v;
}

/* Map @n pages exactly at @addr; NULL if that range is taken or refused. */
static inline void *wl_map_at(uintptr_t addr, unsigned long n)
{
	void *p = mmap((void *)addr, n * WL_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if ((uintptr_t)p != addr) {	/* kernel without FIXED_NOREPLACE */
		munmap(p, n * WL_PAGE);
		return NULL;
	}
	return p;
}

static inline void wl_die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Parse -t SEC, -v and the workload's own options (@extra: getopt letters). */
static inline int wl_getopt(int argc, char **argv, const char *extra,
			    const char *usage)
{
	static char opts[64];
	int c;

	snprintf(opts, sizeof(opts), "ht:v%s", extra);
	c = getopt(argc, argv, opts);
	if (c == 't')
		wl_seconds = atof(optarg);
	else if (c == 'v')
		wl_verbose = 1;
	else if (c == 'h' || c == '?') {
		printf("%s", usage);
		exit(c == 'h' ? 0 : 2);
	}
	return c;
}

#endif
