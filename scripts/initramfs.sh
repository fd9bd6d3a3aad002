#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the guest's initramfs: busybox, /init, the module, programs and tests.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat >&2 <<USAGE
usage: ${0##*/} -o OUT.cpio.gz -k MODULE.ko [-b PROGRAM]... [-t TEST]... [-x DYNAMIC]...
  -b  a static program, into /opt/sr/bin
  -t  a TAP test program, into /opt/sr/tests (run in name order by 'check')
  -x  a dynamically linked program, into /usr/bin with its shared libraries
USAGE
	exit 2
}

add_busybox() {
	local root=$1 applet
	install -D -m 0755 /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
	done
}

# A dynamic program and its ldd closure, at the same paths as on the host.
add_dynamic() {
	local root=$1 prog=$2 lib
	install -D -m 0755 "$prog" "$root/usr/bin/${prog##*/}"
	for lib in $(ldd "$prog" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

main() {
	local out="" ko="" opt
	local -a bins=() tests=() dyns=()
	while getopts "o:k:b:t:x:h" opt; do
		case "$opt" in
		o) out=$OPTARG ;;
		k) ko=$OPTARG ;;
		b) bins+=("$OPTARG") ;;
		t) tests+=("$OPTARG") ;;
		x) dyns+=("$OPTARG") ;;
		*) usage ;;
		esac
	done
	if [ -z "$out" ] || [ ! -f "$ko" ]; then usage; fi

	root=$(mktemp -d) # global: the EXIT trap removes it
	chmod 0755 "$root"
	trap 'rm -rf "$root"' EXIT
	mkdir -p "$root"/{dev,proc,sys,tmp,etc,root,opt/sr/bin,opt/sr/tests}
	add_busybox "$root"
	install -m 0755 "$REPO/scripts/guest/init" "$root/init"
	install -m 0644 "$ko" "$root/opt/sr/simple_remap.ko"
	for f in "${bins[@]}"; do install -m 0755 "$f" "$root/opt/sr/bin/"; done
	for f in "${tests[@]}"; do install -m 0755 "$f" "$root/opt/sr/tests/"; done
	for f in "${dyns[@]}"; do add_dynamic "$root" "$f"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"
}

main "$@"
