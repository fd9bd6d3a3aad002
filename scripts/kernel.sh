#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make a Debian kernel (image + headers) available; print KREL=, KDIR=, VMLINUZ=.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "usage: ${0##*/} KVER" >&2
	echo "KVER: 6.1 (bookworm) or 6.12 (bookworm-backports)." >&2
	echo "Prints KREL=<uname -r>, KDIR=<headers>, VMLINUZ=<image> for eval." >&2
	exit 2
}

suite_for() {
	case "$1" in
	6.1) echo bookworm ;;
	6.12) echo bookworm-backports ;;
	*) die "unknown KVER=$1: 6.1 or 6.12" ;;
	esac
}

# A suite apt does not know yet: the machine's own first Debian stanza,
# with only its Suites: line changed. No mirror name is written here.
enable_suite() {
	local suite=$1 file="/etc/apt/sources.list.d/simple-remap-$1.sources"
	apt-cache policy 2>/dev/null | grep -q " $suite/main " && return
	[ -f "$file" ] && return
	[ "$(id -u)" -eq 0 ] || die "not root: cannot enable the $suite suite"
	awk 'BEGIN { RS = ""; ORS = "\n" } NR == 1' /etc/apt/sources.list.d/debian.sources |
		sed "s/^Suites:.*/Suites: $suite/" >"$file"
	echo "kernel: enabled $suite in $file" >&2
	apt-get update -qq
}

# The ABI release the suite's linux-image-amd64 points at, e.g. 6.12.48+deb12-amd64.
resolve_release() {
	local suite=$1 target=()
	[ "$suite" = bookworm ] || target=(-t "$suite")
	apt-cache "${target[@]}" depends linux-image-amd64 |
		sed -n 's/^ *Depends: linux-image-\(.*\)$/\1/p' | head -n 1
}

fetch_image() {
	local krel=$1 dir=$2 tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq "linux-image-$krel" 2>/dev/null)
	dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/x"
	mkdir -p "$dir"
	cp "$tmp/x/boot/vmlinuz-$krel" "$dir/vmlinuz"
	rm -rf "$tmp"
}

main() {
	local kver=${1:-} suite krel dir
	[ -n "$kver" ] || usage
	suite=$(suite_for "$kver")
	dir="$CACHE/kernels/$kver"
	krel=$(cat "$dir/krel" 2>/dev/null || true)
	if [ -z "$krel" ] || [ ! -f "$dir/vmlinuz" ] || [ ! -f "/usr/src/linux-headers-$krel/Makefile" ]; then
		[ "$suite" = bookworm ] || enable_suite "$suite"
		krel=$(resolve_release "$suite")
		[ -n "$krel" ] || die "no linux-image-amd64 in $suite"
		echo "kernel: $kver is $krel, from $suite" >&2
		"$REPO/scripts/deps.sh"
		if [ ! -f "/usr/src/linux-headers-$krel/Makefile" ]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				-o DPkg::Lock::Timeout=600 -t "$suite" "linux-headers-$krel" >/dev/null
		fi
		fetch_image "$krel" "$dir"
		echo "$krel" >"$dir/krel"
	fi
	echo "KREL=$krel"
	echo "KDIR=/usr/src/linux-headers-$krel"
	echo "VMLINUZ=$dir/vmlinuz"
}

main "$@"
