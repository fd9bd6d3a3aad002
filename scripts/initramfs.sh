#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the guest's initramfs (gzip'd newc cpio, no root needed): busybox, /init, the module, programs, tests, the kernel's consumer modules.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BUSYBOX=/bin/busybox # busybox-static's

usage() {
	cat >&2 <<USAGE
usage: ${0##*/} -o OUT.cpio.gz -k MODULE.ko [-m MODULES] [-b PROGRAM]... [-t TEST]... [-x DYNAMIC]...
  -k  the module, as /opt/sr/simple_remap.ko
  -m  the kernel's modules the tests consume (kernel.sh's MODULES: *.ko and
      NAME.load lists), into /opt/sr/modules
  -b  a static program or script, into /opt/sr/bin (on the guest's PATH)
  -t  a TAP test program, into /opt/sr/tests (run in name order by SR_MODE=check)
  -x  a dynamically linked program, into /usr/bin with its ldd closure and loader
USAGE
	exit 2
}

add_skeleton() {
	local root=$1
	mkdir -p "$root"/{dev,proc,sys,tmp,etc,root,opt/sr/bin,opt/sr/tests,opt/sr/modules}
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	install -m 0755 "$REPO/scripts/guest/init" "$root/init"
}

add_busybox() {
	local root=$1 applet
	[ -x "$BUSYBOX" ] || die "no $BUSYBOX: run scripts/deps.sh (busybox-static)"
	install -D -m 0755 "$BUSYBOX" "$root/bin/busybox"
	for applet in $("$BUSYBOX" --list); do
		[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
	done
}

# add_files ROOT DIR FILE...: each FILE, executable, into ROOT/DIR.
add_files() {
	local root=$1 dir=$2 f
	shift 2
	for f in "$@"; do
		[ -f "$f" ] || die "no such file: $f"
		install -D -m 0755 "$f" "$root/$dir/${f##*/}"
	done
}

# add_modules ROOT DIR: the consumer modules and their load lists.
add_modules() {
	local root=$1 dir=$2 f
	[ -d "$dir" ] || die "no such directory: $dir"
	for f in "$dir"/*.ko "$dir"/*.load; do
		[ ! -f "$f" ] || install -m 0644 "$f" "$root/opt/sr/modules/"
	done
}

# Sorted names and uid/gid 0 make the archive the same for the same inputs.
pack() {
	local root=$1 out=$2
	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
}

main() {
	local out="" ko="" modules="" opt f
	local -a bins=() tests=() dyns=()
	while getopts "o:k:m:b:t:x:h" opt; do
		case "$opt" in
		o) out=$OPTARG ;;
		k) ko=$OPTARG ;;
		m) modules=$OPTARG ;;
		b) bins+=("$OPTARG") ;;
		t) tests+=("$OPTARG") ;;
		x) dyns+=("$OPTARG") ;;
		*) usage ;;
		esac
	done
	[ "$OPTIND" -gt "$#" ] || usage
	[ -n "$out" ] || usage
	[ -n "$ko" ] || usage
	[ -f "$ko" ] || die "no such module: $ko"

	STAGING=$(mktemp -d) # global: the EXIT trap removes it
	trap 'rm -rf "$STAGING"' EXIT
	chmod 0755 "$STAGING"
	add_skeleton "$STAGING"
	add_busybox "$STAGING"
	install -m 0644 "$ko" "$STAGING/opt/sr/simple_remap.ko"
	[ -z "$modules" ] || add_modules "$STAGING" "$modules"
	add_files "$STAGING" opt/sr/bin "${bins[@]}"
	add_files "$STAGING" opt/sr/tests "${tests[@]}"
	for f in "${dyns[@]}"; do add_dynamic "$STAGING" "$f"; done
	pack "$STAGING" "$out"
}

main "$@"
