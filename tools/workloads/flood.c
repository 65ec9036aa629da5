// SPDX-License-Identifier: GPL-2.0
/*
 * flood: pages whose VPNs are all congruent modulo a power of two S, so
 * that under hash=modulo (bucket = vpn mod B) every one of them lands in
 * the same chain for any B <= S.  S defaults to max_buckets from
 * /sys/kernel/debug/shpt/config, capped at 2^20 pages (4 GiB) to keep the
 * layout inside the address space; B never exceeds it for this workload,
 * so resizes cannot split the chain.  Under siphash the same pages spread
 * out, and a chain over max_chain triggers a rekey.
 */
#include "common.h"

static const char usage[] =
	"usage: flood [-t SEC] [-n PAGES] [-B STRIDE] [-v]\n"
	"  map PAGES pages (default 1024), one every STRIDE pages; STRIDE\n"
	"  (a power of two) defaults to max_buckets from debugfs, capped at\n"
	"  2^20.\n";

static unsigned long read_max_buckets(void)
{
	FILE *f = fopen("/sys/kernel/debug/shpt/config", "r");
	char name[64];
	unsigned long v, found = 0;

	if (!f)
		return 0;
	while (fscanf(f, "%63s %lu", name, &v) == 2)
		if (!strcmp(name, "max_buckets"))
			found = v;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	unsigned long n = 1024, stride = 0, mapped = 0, rounds = 0;
	uintptr_t base, top = 1UL << 46;	/* stay inside 47-bit user space */
	unsigned char **pg;
	double end;
	int c;

	while ((c = wl_getopt(argc, argv, "n:B:", usage)) != -1) {
		if (c == 'n')
			n = strtoul(optarg, NULL, 0);
		else if (c == 'B')
			stride = strtoul(optarg, NULL, 0);
	}
	if (!stride)
		stride = read_max_buckets();
	if (!stride)
		stride = 1UL << 20;
	if (stride > 1UL << 20)
		stride = 1UL << 20;
	if (!n || n > 65536 || (stride & (stride - 1))) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	/* Start at 1 TiB, aligned to the stride, plus a fixed page offset. */
	base = ((1UL << 40) + stride * WL_PAGE - 1) & ~(stride * WL_PAGE - 1);
	base += 17 * WL_PAGE;
	if (n > (top - base) / (stride * WL_PAGE))
		n = (top - base) / (stride * WL_PAGE);
	pg = calloc(n, sizeof(*pg));
	if (!pg)
		wl_die("calloc");
	for (unsigned long i = 0; i < n; i++) {
		pg[i] = wl_map_at(base + i * stride * WL_PAGE, 1);
		if (!pg[i])
			continue;
		wl_touch(pg[i], 1, 1);
		mapped++;
	}
	end = wl_now() + wl_seconds;
	while (wl_now() < end) {
		for (unsigned long i = 0; i < n; i++)
			if (pg[i])
				wl_touch(pg[i], 1, (unsigned char)rounds);
		rounds++;
		wl_sleep_ms(100);
	}
	if (wl_verbose)
		printf("flood: %lu pages at stride %lu pages, %lu rounds\n",
		       mapped, stride, rounds);
	return 0;
}
