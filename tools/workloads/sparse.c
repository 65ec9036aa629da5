// SPDX-License-Identifier: GPL-2.0
/*
 * sparse: a few pages in each of many distant 1 GiB-aligned regions, the
 * layout that makes a radix page table pay for whole intermediate levels
 * and a hashed one pay only per page.  Half the regions move every round,
 * so munmap invalidations run against a sparse address space.
 */
#include "common.h"

#define GIB (1UL << 30)

static const char usage[] =
	"usage: sparse [-t SEC] [-r REGIONS] [-p PAGES] [-v]\n"
	"  REGIONS regions (default 64) of PAGES pages (default 4), each at a\n"
	"  1 GiB-aligned address, 16 GiB apart from 16 TiB up; half are remapped\n"
	"  elsewhere every round.\n";

int main(int argc, char **argv)
{
	unsigned long regions = 64, pages = 4, rounds = 0, maps = 0;
	uintptr_t base = 0x100000000000UL;	/* 16 TiB */
	void **at;
	double end;
	int c;

	while ((c = wl_getopt(argc, argv, "r:p:", usage)) != -1) {
		if (c == 'r')
			regions = strtoul(optarg, NULL, 0);
		else if (c == 'p')
			pages = strtoul(optarg, NULL, 0);
	}
	if (!regions || regions > 8192 || !pages || pages > 1024) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	at = calloc(regions, sizeof(*at));
	if (!at)
		wl_die("calloc");
	end = wl_now() + wl_seconds;
	while (wl_now() < end) {
		for (unsigned long i = 0; i < regions; i++) {
			/* Odd rounds move odd regions to a different GiB. */
			uintptr_t a = base + (i * 16 + (rounds & 1) * (i & 1)) * GIB;

			if (at[i] && (uintptr_t)at[i] != a) {
				munmap(at[i], pages * WL_PAGE);
				at[i] = NULL;
			}
			if (!at[i]) {
				at[i] = wl_map_at(a, pages);
				if (!at[i])
					wl_die("mmap");
				maps++;
			}
			wl_touch(at[i], pages, (unsigned char)rounds);
		}
		rounds++;
		wl_sleep_ms(150);
	}
	if (wl_verbose)
		printf("sparse: %lu regions x %lu pages, %lu rounds, %lu maps\n",
		       regions, pages, rounds, maps);
	return 0;
}
