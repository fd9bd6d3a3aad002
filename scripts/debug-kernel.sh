#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once per config) the debug kernel of 'make check-debug' from Debian's
# linux-source-6.1 with scripts/debug.config; print KREL=, KDIR=, VMLINUZ=.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

FRAGMENT="$REPO/scripts/debug.config"
DIR="$CACHE/debug"
TREE="$DIR/linux-source-6.1"

usage() {
	echo "usage: ${0##*/}" >&2
	echo "Builds \$CACHE/debug/linux-source-6.1 with KASAN, lockdep, kmemleak, DEBUG_VM, UBSAN, fault injection." >&2
	exit 2
}

extract() {
	[ -f "$TREE/Makefile" ] && return
	"$REPO/scripts/deps.sh" linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils
	mkdir -p "$DIR"
	echo "debug-kernel: extracting linux-source-6.1" >&2
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$DIR"
}

# Every option asked for must be in the merged .config: Kconfig silently
# drops what a dependency blocks.
configure() {
	local opt wanted missing=()
	{
		make -C "$TREE" -s tinyconfig
		"$TREE/scripts/kconfig/merge_config.sh" -m -O "$TREE" "$TREE/.config" "$FRAGMENT"
		make -C "$TREE" -s olddefconfig
	} >"$DIR/config.log" 2>&1 || die "configuring failed: $DIR/config.log"
	mapfile -t wanted < <(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p' "$FRAGMENT")
	for opt in "${wanted[@]}"; do
		grep -q "^$opt=y" "$TREE/.config" || missing+=("$opt")
	done
	[ "${#missing[@]}" -eq 0 ] || die "the debug config lost: ${missing[*]}"
}

build() {
	echo "debug-kernel: building bzImage (about 4 minutes on 2 cores)" >&2
	make -C "$TREE" -s -j"$(nproc)" bzImage modules_prepare >"$DIR/build.log" 2>&1 ||
		{ tail -n 30 "$DIR/build.log" >&2; die "kernel build failed: $DIR/build.log"; }
}

main() {
	local sum
	[ $# -eq 0 ] || usage
	extract
	sum=$(sha256sum "$FRAGMENT" | cut -d' ' -f1)
	if [ "$(cat "$DIR/config.sha256" 2>/dev/null)" != "$sum" ] ||
		[ ! -f "$TREE/arch/x86/boot/bzImage" ]; then
		configure
		build
		echo "$sum" >"$DIR/config.sha256"
	fi
	echo "KREL=$(make -C "$TREE" -s kernelrelease)"
	echo "KDIR=$TREE"
	echo "VMLINUZ=$TREE/arch/x86/boot/bzImage"
	echo "CHROOT="
}

main "$@"
