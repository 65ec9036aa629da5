#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--path]
#
# Builds (once) the debug test kernel of "make check-debug" and prints the
# directory that holds it:
#
#   DIR/build                    the kernel build tree (KDIR for modules)
#   DIR/build/arch/x86/boot/bzImage
#   DIR/build/lib/test_hmm.ko
#   DIR/ok                       written last: the build is complete
#
# The kernel is Debian's linux-source-6.1 configured as "make ARCH=x86_64
# tinyconfig" plus tools/vm/debug-kernel.config.  DIR is
# $SHPT_CACHE/debug-kernel/<source package version>-<fragment sha256>,
# outside the clone, so CI's fresh clones on one machine share it and a
# changed fragment builds a new one.  SHPT_CACHE defaults to
# /var/cache/shpt (or ~/.cache/shpt when not root).  Concurrent calls
# queue on a lock; an interrupted build is redone from scratch.
#
# --path prints DIR without building (empty output: no such build yet).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug-kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz

if [ "$(id -u)" = 0 ]; then
	: "${SHPT_CACHE:=/var/cache/shpt}"
else
	: "${SHPT_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/shpt}"
fi

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

[ -f "$tarball" ] || die "no $tarball; run 'make deps'"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	die "linux-source-6.1 is not installed; run 'make deps'"
fraghash=$(sha256sum "$frag" | cut -c1-16)
dir=$SHPT_CACHE/debug-kernel/$srcver-$fraghash

if [ "${1:-}" = --path ]; then
	if [ -f "$dir/ok" ]; then echo "$dir"; fi
	exit 0
fi
if [ -f "$dir/ok" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$SHPT_CACHE/debug-kernel"
exec 9>"$SHPT_CACHE/debug-kernel/.lock"
if ! flock -n 9; then
	echo "debug-kernel: waiting for another build ($SHPT_CACHE/debug-kernel/.lock)" >&2
	flock 9
fi
if [ -f "$dir/ok" ]; then
	echo "$dir"
	exit 0
fi

for tool in flex bison bc; do
	command -v $tool >/dev/null || die "$tool is missing; run 'make deps'"
done

# Under the lock, a directory without "ok" is an interrupted or failed
# build: remove it.
for old in "$SHPT_CACHE"/debug-kernel/*/; do
	[ -d "$old" ] && [ ! -f "$old/ok" ] && rm -rf "${old%/}" "${old%/}.log"
done

start=$(date +%s)
jobs=$(($(nproc) + 1))
log=$dir.log
echo "debug-kernel: building $srcver + $(basename "$frag") in $dir" >&2
echo "debug-kernel: about 13 minutes on 2 idle cores; log: $log" >&2
rm -rf "$dir"
mkdir -p "$dir"
{
	tar -xJf "$tarball" -C "$dir"
	mv "$dir/linux-source-6.1" "$dir/src"
	make -C "$dir/src" O="$dir/build" ARCH=x86_64 tinyconfig
	"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/build" \
		"$dir/build/.config" "$frag"
	make -C "$dir/src" O="$dir/build" ARCH=x86_64 olddefconfig
} >"$log" 2>&1 || die "configuring failed; see $log"

# Every line of the fragment must have survived olddefconfig: a dropped
# option means an unmet dependency, and a kernel that silently lacks it.
missing=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) want=$line ;;
	"# CONFIG_"*" is not set") want=$line ;;
	*) continue ;;
	esac
	if ! grep -qxF "$want" "$dir/build/.config"; then
		echo "debug-kernel: not in the final .config: $want" >&2
		missing=1
	fi
done <"$frag"
[ $missing = 0 ] || die "fix the dependencies in $frag"

make -C "$dir/src" O="$dir/build" ARCH=x86_64 -j"$jobs" all >>"$log" 2>&1 ||
	die "build failed; see the end of $log"
[ -f "$dir/build/arch/x86/boot/bzImage" ] || die "no bzImage; see $log"
[ -f "$dir/build/lib/test_hmm.ko" ] || die "no test_hmm.ko; see $log"

secs=$(($(date +%s) - start))
echo "$srcver $fraghash built in ${secs}s with -j$jobs on $(nproc) CPUs" >"$dir/ok"
echo "debug-kernel: built in ${secs}s" >&2
echo "$dir"
