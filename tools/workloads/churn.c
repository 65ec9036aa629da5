// SPDX-License-Identifier: GPL-2.0
/*
 * churn: mmap, touch, mprotect RO and back, partial munmap, fork (which
 * write-protects the parent's private pages) and exit, in a loop for a
 * bounded time.  Every invalidation type a plain process can cause shows
 * up: unmap, clear, protection_vma, protection_page.
 */
#include <sys/wait.h>

#include "common.h"

static const char usage[] =
	"usage: churn [-t SEC] [-p PAGES] [-v]\n"
	"  loop: mmap PAGES pages (default 64), touch, mprotect RO/RW,\n"
	"  fork a child that writes and exits, CoW in the parent, munmap.\n";

int main(int argc, char **argv)
{
	unsigned long pages = 64, loops = 0;
	double end;
	int c;

	while ((c = wl_getopt(argc, argv, "p:", usage)) != -1)
		if (c == 'p')
			pages = strtoul(optarg, NULL, 0);
	if (pages < 2 || pages > 65536) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	end = wl_now() + wl_seconds;
	while (wl_now() < end) {
		size_t len = pages * WL_PAGE;
		unsigned char *p;
		int status;
		pid_t pid;

		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			wl_die("mmap");
		wl_touch(p, pages, 1);
		wl_sleep_ms(20);		/* let the mirror fill */
		if (mprotect(p, len, PROT_READ) || mprotect(p, len, PROT_READ | PROT_WRITE))
			wl_die("mprotect");
		pid = fork();
		if (pid < 0)
			wl_die("fork");
		if (pid == 0) {
			wl_touch(p, pages / 2, 2);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		wl_touch(p, pages, 3);		/* CoW faults in the parent */
		wl_sleep_ms(20);
		munmap(p + len / 2, len / 2);
		wl_sleep_ms(10);
		munmap(p, len / 2);
		loops++;
	}
	if (wl_verbose)
		printf("churn: %lu loops of %lu pages\n", loops, pages);
	return 0;
}
