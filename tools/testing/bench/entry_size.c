// SPDX-License-Identifier: GPL-2.0
/*
 * Print sizeof(struct shpt_entry) and the size of one bucket head, as
 * table.c defines them, for the kernel-side bytes-per-entry figure of
 * make bench.  Includes table.c so that the figure follows the code.
 */
#include "table.c"

#include <stdio.h>

int main(void)
{
	struct shpt_bucket_table *b = NULL;

	printf("%zu %zu %zu\n", sizeof(struct shpt_entry),
	       sizeof(b->buckets[0]), __alignof__(struct shpt_entry));
	return 0;
}
