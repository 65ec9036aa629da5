#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages named in $DEPS_PKGS that are not installed.
# Fast and silent (one dpkg-query) when everything is present; runs
# "apt-get update" only when something has to be installed.  When not root,
# prints the exact command to run and fails.
set -eu

: "${DEPS_PKGS:?DEPS_PKGS is empty}"

installed=$(dpkg-query -W -f='${Package} ${Status}\n' $DEPS_PKGS 2>/dev/null |
	awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }') || true

missing=
for p in $DEPS_PKGS; do
	case " $(echo $installed) " in
	*" $p "*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all $(echo $DEPS_PKGS | wc -w) packages installed"
	exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing" >&2
	echo "deps: run as root:" >&2
	echo "  sudo sh -c '$cmd'" >&2
	exit 1
fi
echo "deps: installing:$missing"
sh -c "$cmd"
