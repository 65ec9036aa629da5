#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh ROOT KO OUT
#
# Completes the staging tree ROOT (the Makefile has already installed the
# selftests into ROOT/usr/lib/shpt/selftests and, if any, the tools) and
# packs it as an uncompressed newc cpio OUT.  Adds busybox-static and its
# applet links, /init, the demo script, the module KO as /lib/modules/shpt.ko,
# /etc/passwd and /etc/group with root and nobody, and
#   $VM_EXTRA_BINS   host programs, copied to /usr/bin
#   $VM_EXTRA_FILES  host:guest pairs, copied to the guest path
# Dynamically linked programs get their shared libraries (from ldd).
set -eu

root=$1
ko=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

[ -d "$root" ] || die "no staging directory $root"
[ -f "$ko" ] || die "no module $ko"
file_is_static() {
	! LC_ALL=C ldd "$1" >/dev/null 2>&1
}
file_is_static "$busybox" || die "$busybox is not static: install busybox-static"

mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
	"$root/etc" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" \
	"$root/tmp" "$root/run" "$root/root" "$root/usr/lib/shpt"

cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

install -m 0755 "$here/init.sh" "$root/init"
install -m 0755 "$here/demo-guest.sh" "$root/usr/lib/shpt/demo-guest.sh"
install -m 0644 "$ko" "$root/lib/modules/shpt.ko"

cat >"$root/etc/passwd" <<'EOT'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOT
cat >"$root/etc/group" <<'EOT'
root:x:0:
nogroup:x:65534:
EOT
echo "/bin/sh" >"$root/etc/shells"
echo 'PS1="shpt-vm:\w# "' >"$root/etc/profile"

# copy_libs PROGRAM: the shared objects PROGRAM needs, at their host paths.
copy_libs() {
	LC_ALL=C ldd "$1" 2>/dev/null |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
	while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

for bin in ${VM_EXTRA_BINS:-}; do
	[ -f "$bin" ] || die "VM_EXTRA_BINS: no file $bin"
	install -m 0755 "$bin" "$root/usr/bin/$(basename "$bin")"
done
for pair in ${VM_EXTRA_FILES:-}; do
	src=${pair%%:*}
	dst=${pair#*:}
	[ -e "$src" ] || die "VM_EXTRA_FILES: no file $src"
	case $dst in /*) ;; *) die "VM_EXTRA_FILES: $pair: guest path must be absolute" ;; esac
	mkdir -p "$root$(dirname "$dst")"
	cp -R "$src" "$root$dst"
done

# Every executable that is not busybox gets its libraries.
find "$root" -path "$root/lib/modules" -prune -o -type f -perm -u+x -print |
while read -r f; do
	[ "$f" = "$root/bin/busybox" ] && continue
	head -c 4 "$f" | grep -q 'ELF' && copy_libs "$f"
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
