#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once per source version and config) a debug kernel of 'make
# check-debug' from Debian's linux-source-KVER with scripts/debug.config (and
# scripts/debug-KVER.config); print KREL=, KDIR=, VMLINUZ=, CHROOT=.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# The debug kernels, the one list of them (guest.sh's check-debug and .ci/run
# read it through '-l'), oldest first: each is Debian's linux-source-KVER,
# installable on the host's release. 6.1 is the default kernel's source; 6.12
# is the oldest with huge PFN mappings (.huge_fault, vmf_insert_pfn_pmd()).
KVERS=(6.1 6.12)
DIR="$CACHE/debug"
FRESH=n # y: the tree was extracted by this run

usage() {
	cat >&2 <<USAGE
usage: ${0##*/} KVER | -l | -d
-l: the KVERs make check-debug and CI run ($(printf '%s ' "${KVERS[@]}")), one a line.
-d: installs what building them needs (and builds nothing).
KVER: builds \$CACHE/debug/linux-source-KVER (tinyconfig, scripts/debug.config
and scripts/debug-KVER.config: KASAN, lockdep, kmemleak, DEBUG_VM, UBSAN,
fault injection) once per linux-source-KVER version and config, and prints,
for eval: KREL=, KDIR=<the tree>, VMLINUZ=<its bzImage>, CHROOT= (empty).
USAGE
	exit 2
}

# The fragments for KVER: the shared one, then the version's own, if any.
fragments() {
	echo "$REPO/scripts/debug.config"
	[ ! -f "$REPO/scripts/debug-$KVER.config" ] || echo "$REPO/scripts/debug-$KVER.config"
}

# The cache key: the source package's version and the fragments' contents.
# A new linux-source-KVER (a security update) is a new tree, a new fragment a
# new config in the same tree.
cache_key() {
	local version
	version=$(dpkg-query -W -f='${Version}' "linux-source-$KVER") || return
	echo "linux-source-$KVER $version $(cat "${FRAGMENTS[@]}" | sha256sum | cut -d' ' -f1)"
}

extract() {
	[ -f "$TREE/Makefile" ] && return
	FRESH=y
	mkdir -p "$DIR"
	echo "debug-kernel $KVER: extracting linux-source-$KVER" >&2
	rm -rf "$TREE"
	tar -xf "/usr/src/linux-source-$KVER.tar.xz" -C "$DIR"
}

# Every option asked for must be =y in the merged .config: Kconfig silently
# drops what a dependency blocks, and a derived option (ARCH_SUPPORTS_PMD_PFNMAP)
# is only checked here.
configure() {
	local opt wanted missing=()
	{
		make -C "$TREE" -s tinyconfig
		"$TREE/scripts/kconfig/merge_config.sh" -m -O "$TREE" "$TREE/.config" "${FRAGMENTS[@]}"
		make -C "$TREE" -s olddefconfig
	} >"$DIR/$KVER-config.log" 2>&1 || die "configuring $KVER failed: $DIR/$KVER-config.log"
	mapfile -t wanted < <(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p' "${FRAGMENTS[@]}")
	for opt in "${wanted[@]}"; do
		grep -q "^$opt=y$" "$TREE/.config" || missing+=("$opt")
	done
	[ "${#missing[@]}" -eq 0 ] ||
		die "the $KVER debug config lost ${missing[*]} (a dependency is off: see $TREE/.config)"
}

# progress LOG TOTAL START: a line of the build's progress.
progress() {
	echo "debug-kernel $KVER: $(($(date +%s) - $3))s, $(grep -c '^  CC ' "$1") of $2 files compiled" >&2
}

# The build in the background, a line of progress every 30 s: the files
# compiled so far against the count of the last build in a fresh tree (kept
# in the cache; a new config in an old tree compiles only what it changed).
# 'modules' builds next to nothing (all is built in) but writes Module.symvers,
# without which 6.12's modpost fails an out-of-tree module on every symbol of
# vmlinux (6.1's only warned).
build() {
	local log="$DIR/$KVER-build.log" total pid rc=0
	total=$(cat "$DIR/$KVER.compiled" 2>/dev/null || echo "?")
	echo "debug-kernel $KVER: building bzImage (about $total files; 5 to 10 minutes on 2 cores)" >&2
	make -C "$TREE" -j"$(nproc)" bzImage modules >"$log" 2>&1 &
	pid=$!
	wait_showing "$pid" progress "$log" "$total" "$(date +%s)" || rc=$?
	[ "$rc" -eq 0 ] || { tail -n 30 "$log" >&2; die "kernel build failed: $log"; }
	[ "$FRESH" = n ] || grep -c '^  CC ' "$log" >"$DIR/$KVER.compiled" || true
}

# deps KVER...: the packages building these debug kernels needs.
deps() {
	"$REPO/scripts/deps.sh" "${@/#/linux-source-}" bc bison flex libelf-dev libssl-dev xz-utils
}

main() {
	local key
	[ $# -eq 1 ] || usage
	if [ "$1" = -l ]; then
		printf '%s\n' "${KVERS[@]}"
		return
	fi
	if [ "$1" = -d ]; then
		deps "${KVERS[@]}"
		return
	fi
	KVER=$1
	printf '%s\n' "${KVERS[@]}" | grep -qxF -- "$KVER" ||
		die "no debug kernel $KVER: known are ${KVERS[*]}"
	TREE="$DIR/linux-source-$KVER"
	mapfile -t FRAGMENTS < <(fragments)
	deps "$KVER"
	key=$(cache_key)
	if [ "$(cat "$DIR/$KVER.key" 2>/dev/null)" != "$key" ] || [ ! -f "$TREE/arch/x86/boot/bzImage" ] ||
		[ ! -f "$TREE/Module.symvers" ]; then
		# Another source version: its tree is extracted anew.
		[ "$(cut -d' ' -f1-2 "$DIR/$KVER.key" 2>/dev/null)" = "$(cut -d' ' -f1-2 <<<"$key")" ] ||
			rm -rf "$TREE"
		rm -f "$DIR/$KVER.key"
		extract
		configure
		build
		echo "$key" >"$DIR/$KVER.key"
	fi
	echo "KREL=$(make -C "$TREE" -s kernelrelease)"
	echo "KDIR=$TREE"
	echo "VMLINUZ=$TREE/arch/x86/boot/bzImage"
	echo "CHROOT="
}

main "$@"
