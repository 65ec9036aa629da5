// SPDX-License-Identifier: GPL-2.0
/*
 * share: frames mapped by two processes.  PAGES private pages, each with
 * its own contents, are touched and the process forks: parent and child
 * share every page copy-on-write until the child gets SIGUSR1 and writes
 * its copy.  With -k every page of both processes gets the same contents
 * after the fork (so each has its own copies) and is MADV_MERGEABLE, for
 * ksmd to merge them all into one frame.
 */
#include <signal.h>
#include <sys/wait.h>

#include "common.h"

static const char usage[] =
	"usage: share [-t SEC] [-p PAGES] [-k] [-v]\n"
	"  touch PAGES pages (default 64) and fork; print both pids; the child\n"
	"  writes its pages on SIGUSR1.  -k: identical, mergeable pages for KSM.\n";

static volatile sig_atomic_t write_requested;

static void on_usr1(int sig)
{
	(void)sig;
	write_requested = 1;
}

/* Page i holds v and i, or only v when @same. */
static void fill(unsigned char *p, unsigned long pages, unsigned char v,
		 int same)
{
	for (unsigned long i = 0; i < pages; i++) {
		memset(p + i * WL_PAGE, v, WL_PAGE);
		if (!same)
			memcpy(p + i * WL_PAGE, &i, sizeof(i));
	}
}

/* Sleep until the deadline; the child writes its pages when asked. */
static void wait_until(double end, unsigned char *p, unsigned long pages,
		       int child)
{
	while (wl_now() < end) {
		if (child && write_requested) {
			write_requested = 0;
			fill(p, pages, 0x77, 0);
			printf("share: child %d wrote %lu pages\n", (int)getpid(),
			       pages);
			fflush(stdout);
		}
		wl_sleep_ms(50);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	unsigned long pages = 64;
	unsigned char *p;
	int c, ksm = 0;
	double end;
	pid_t pid;

	while ((c = wl_getopt(argc, argv, "p:k", usage)) != -1) {
		if (c == 'p')
			pages = strtoul(optarg, NULL, 0);
		else if (c == 'k')
			ksm = 1;
	}
	if (!pages || pages > 65536) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	end = wl_now() + wl_seconds;
	p = mmap(NULL, pages * WL_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	/* 4 KiB pages only: one frame per page. */
	madvise(p, pages * WL_PAGE, MADV_NOHUGEPAGE);
	fill(p, pages, 0x11, 0);
	sigaction(SIGUSR1, &sa, NULL);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		wl_die("fork");
	if (ksm) {
		fill(p, pages, 0x5a, 1);
		if (madvise(p, pages * WL_PAGE, MADV_MERGEABLE))
			wl_die("madvise(MADV_MERGEABLE)");
	}
	if (pid == 0) {
		wait_until(end, p, pages, 1);
		return 0;
	}
	printf("share: parent %d child %d pages %lu at %p%s\n", (int)getpid(),
	       (int)pid, pages, (void *)p, ksm ? " (identical, mergeable)" : "");
	fflush(stdout);
	wait_until(end, p, pages, 0);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (wl_verbose)
		printf("share: done\n");
	return 0;
}
