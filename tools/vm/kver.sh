#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the release of the kernel the test VM boots: the newest Debian
# linux-headers-*-amd64 tree under /usr/src that has a matching
# /boot/vmlinuz-*.  Prints nothing when there is none.
set -eu

for d in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -rV); do
	v=${d#/usr/src/linux-headers-}
	if [ -f "$d/Makefile" ] && [ -f "/boot/vmlinuz-$v" ]; then
		echo "$v"
		exit 0
	fi
done
exit 0
