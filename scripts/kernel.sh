#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make a Debian kernel (image + headers) available; print KREL=, KDIR=, VMLINUZ=.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "usage: ${0##*/} KVER" >&2
	echo "KVER: 6.1 (bookworm), 6.12 (bookworm-backports) or 7.3 (trixie-backports," >&2
	echo "whose headers need trixie's toolchain: they live in a debootstrap chroot)." >&2
	echo "Prints KREL=<uname -r>, KDIR=<headers>, VMLINUZ=<image>, CHROOT=<root or empty>." >&2
	exit 2
}

suite_for() {
	case "$1" in
	6.1) echo bookworm ;;
	6.12) echo bookworm-backports ;;
	7.3) echo trixie-backports ;;
	*) die "unknown KVER=$1: 6.1, 6.12 or 7.3" ;;
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

# The machine's own Debian mirror, from its first deb822 stanza.
mirror() {
	awk 'BEGIN { RS = "" } NR == 1' /etc/apt/sources.list.d/debian.sources |
		sed -n 's/^URIs: *\([^ ]*\).*/\1/p'
}

# A trixie root with trixie-backports enabled, made once and cached.
make_chroot() {
	local root=$1 tmp="$1.tmp"
	[ -x "$root/usr/bin/gcc-14" ] && return
	[ "$(id -u)" -eq 0 ] || die "not root: cannot debootstrap $root"
	"$REPO/scripts/deps.sh" debootstrap
	echo "kernel: debootstrap trixie into $root (once)" >&2
	rm -rf "$tmp"
	debootstrap --variant=minbase --include=make,gcc-14,libc6-dev,ca-certificates \
		trixie "$tmp" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed: see $CACHE/debootstrap.log"
	echo "deb $(mirror) trixie-backports main" >"$tmp/etc/apt/sources.list.d/backports.list"
	chroot "$tmp" apt-get update -qq
	mv "$tmp" "$root"
}

# 7.3: headers installed in the chroot, the image's vmlinuz extracted.
chroot_kernel() {
	local root=$1 dir=$2 krel pkg
	make_chroot "$root"
	krel=$(chroot "$root" apt-cache -t trixie-backports depends linux-headers-amd64 |
		sed -n 's/^ *Depends: linux-headers-\(.*\)$/\1/p' | head -n 1)
	[ -n "$krel" ] || die "no linux-headers-amd64 in trixie-backports"
	echo "kernel: 7.3 is $krel, from trixie-backports (chroot $root)" >&2
	DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq \
		--no-install-recommends -t trixie-backports "linux-headers-$krel" >/dev/null
	# The image package holds vmlinuz itself, or (7.x) depends on linux-binary.
	rm -f "$root"/tmp/*.deb
	for pkg in "linux-binary-$krel" "linux-image-$krel"; do
		chroot "$root" sh -c "cd /tmp && apt-get download -qq $pkg" 2>/dev/null && break
	done
	rm -rf "$root/tmp/x"
	dpkg-deb -x "$root"/tmp/*.deb "$root/tmp/x"
	mkdir -p "$dir"
	cp "$(find "$root/tmp/x" -name 'vmlinuz*' | head -n 1)" "$dir/vmlinuz"
	rm -rf "$root/tmp/x" "$root"/tmp/*.deb
	echo "$krel" >"$dir/krel"
}

main() {
	local kver=${1:-} suite krel dir root="$CACHE/trixie-root"
	[ -n "$kver" ] || usage
	suite=$(suite_for "$kver")
	dir="$CACHE/kernels/$kver"
	if [ "$suite" = trixie-backports ]; then
		krel=$(cat "$dir/krel" 2>/dev/null || true)
		if [ -z "$krel" ] || [ ! -f "$dir/vmlinuz" ] ||
			[ ! -f "$root/usr/src/linux-headers-$krel/Makefile" ]; then
			chroot_kernel "$root" "$dir"
			krel=$(cat "$dir/krel")
		fi
		echo "KREL=$krel"
		echo "KDIR=/usr/src/linux-headers-$krel"
		echo "VMLINUZ=$dir/vmlinuz"
		echo "CHROOT=$root"
		return
	fi
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
	echo "CHROOT="
}

main "$@"
