// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_helper: the program hostile_test copies to /tmp and runs as an
 * execute-only (0111) and as a setuid-root (4755) binary.  Once its exec
 * is complete it writes its real and effective uid, two ints, to stdout;
 * then it waits for EOF on stdin and exits.  Built static, like the tests.
 */
#include <unistd.h>

int main(void)
{
	int ids[2] = { (int)getuid(), (int)geteuid() };
	char c;

	if (write(1, ids, sizeof(ids)) != sizeof(ids))
		return 1;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
