#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What 'make deb' does: simple-remap-dkms and simple-remap-tools, built by
# dpkg-buildpackage in a tree assembled under $CACHE/deb (never in the repo)
# from dkms.conf, driver/, userspace/ and scripts/deb/ as debian/.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

OUT="$CACHE/deb"

usage() {
	echo "usage: ${0##*/}" >&2
	echo "Builds the .debs into $OUT and prints their paths." >&2
	exit 2
}

# The one version: dkms.conf's PACKAGE_VERSION.
version() {
	sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/dkms.conf"
}

# assemble DIR VERSION: the source tree, without build output, and debian/.
assemble() {
	local dir=$1 version=$2 date
	mkdir -p "$dir"
	tar -C "$REPO" -c --exclude=userspace/build --exclude="*.mod.c" dkms.conf driver/Kbuild driver/*.c \
		driver/*.h driver/*.rules driver/include userspace | tar -C "$dir" -x
	cp -r "$REPO/scripts/deb" "$dir/debian"
	date=$(git -C "$REPO" log -1 --format=%cD 2>/dev/null || date -R)
	cat >"$dir/debian/changelog" <<CHANGELOG
simple-remap ($version) unstable; urgency=medium

  * Built from the simple_remap tree by 'make deb'.

 -- simple_remap project <simple_remap@invalid>  $date
CHANGELOG
}

main() {
	local version build deb
	[ "$#" -eq 0 ] || usage
	"$REPO/scripts/deps.sh" debhelper dh-dkms dpkg-dev
	version=$(version)
	[ -n "$version" ] || die "no PACKAGE_VERSION in $REPO/dkms.conf"
	build="$OUT/build"
	rm -rf "$build" "$OUT"/*.deb
	assemble "$build/simple-remap-$version" "$version"
	(cd "$build/simple-remap-$version" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1 ||
		{ tail -n 30 "$OUT/build.log" >&2; die "dpkg-buildpackage failed: see $OUT/build.log"; }
	mv "$build"/*.deb "$OUT/"
	rm -rf "$build"
	for deb in "$OUT"/*.deb; do
		echo "$deb"
	done
}

main "$@"
