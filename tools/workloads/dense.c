// SPDX-License-Identifier: GPL-2.0
/*
 * dense: one large anonymous region, every page touched, then re-read while
 * the mirror looks it up; at the end half of it is dropped with
 * MADV_DONTNEED (a CLEAR-type invalidation) before exit.
 */
#include "common.h"

static const char usage[] =
	"usage: dense [-t SEC] [-m MIB] [-v]\n"
	"  touch one region of MIB MiB (default 32) and keep reading it.\n";

int main(int argc, char **argv)
{
	unsigned long mib = 32, pages, rounds = 0, sum = 0;
	unsigned char *p;
	double end;
	int c;

	while ((c = wl_getopt(argc, argv, "m:", usage)) != -1)
		if (c == 'm')
			mib = strtoul(optarg, NULL, 0);
	if (!mib || mib > 4096) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	pages = mib << 8;
	p = mmap(NULL, pages * WL_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	/* 4 KiB pages only, so the histogram counts pages, not THPs. */
	madvise(p, pages * WL_PAGE, MADV_NOHUGEPAGE);
	wl_touch(p, pages, 1);
	end = wl_now() + wl_seconds;
	while (wl_now() < end) {
		for (unsigned long i = 0; i < pages; i++)
			sum += p[i * WL_PAGE];
		rounds++;
		wl_sleep_ms(100);
	}
	if (madvise(p, pages * WL_PAGE / 2, MADV_DONTNEED))
		wl_die("madvise");
	wl_sleep_ms(200);	/* one more lookup pass sees the hole */
	if (wl_verbose)
		printf("dense: %lu pages, %lu rounds (sum %lu)\n", pages, rounds,
		       sum);
	return 0;
}
