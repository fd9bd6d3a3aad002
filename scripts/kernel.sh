#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make a Debian kernel available (headers to build against, a vmlinuz to boot, the modules the tests consume); print KREL=, KDIR=, VMLINUZ=, MODULES=, CHROOT=.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# The supported kernels, the one list of them (guest.sh, the Makefile's
# check-all, .ci/run and lint.sh read it through '-l'): KVER -> the Debian
# suite whose linux-image-amd64/linux-headers-amd64 are that kernel. A new
# kernel is one more line here. The oldest is the default.
declare -A SUITE=(
	[6.1]=bookworm
	[6.12]=bookworm-backports
	[7.3]=trixie-backports
)
# Suites whose headers need a newer toolchain or libc than the host has: their
# apt, headers and module builds live in a debootstrap root of this release.
declare -A CHROOT_RELEASE=(
	[trixie-backports]=trixie
)

# The kernel's own modules the guest's tests drive, taken from its packages
# with their dependencies: vivid (V4L2) and vgem (DRM) are real consumers of
# the buffer; virtio_pci and virtio_blk give the scratch disk for O_DIRECT
# and io_uring (modules in 6.1, virtio_pci built in from 6.12 on).
CONSUMERS=(vivid vgem virtio_pci virtio_blk)

ROOT=""  # that root, or empty: apt runs on the host
KREL=""  # the kernel's uname -r, e.g. 6.12.95+deb12-amd64

usage() {
	cat >&2 <<USAGE
usage: ${0##*/} KVER | -l [host]
-l: the KVERs, oldest first, one a line; with 'host', only those whose
module the host's toolchain builds (no chroot).
KVER: $(list "" | while read -r v; do printf '%s (%s) ' "$v" "${SUITE[$v]}"; done)
Installs the headers (in a chroot for suites newer than the host), extracts
the image's vmlinuz into \$CACHE/kernels/<krel>/, and the modules of
${CONSUMERS[*]} with their dependencies, decompressed, into
\$CACHE/kernels/<krel>/modules/ (NAME.load: its files in load order; none
for a module the kernel lacks; empty for one built in), and prints, for eval:
KREL=<uname -r>, KDIR=<headers>, VMLINUZ=<image>, MODULES=<that directory>,
CHROOT=<root or empty>.
Cached: once all are there, no network and no apt.
USAGE
	exit 2
}

# in_root CMD...: CMD on the host, or in ROOT.
in_root() {
	if [ -n "$ROOT" ]; then
		chroot "$ROOT" "$@"
	else
		"$@"
	fi
}

suite_known() {
	local policy
	policy=$(in_root apt-cache policy 2>/dev/null)
	grep -q " $1/main " <<<"$policy"
}

# A suite apt does not know yet: the machine's first Debian stanza with only
# its Suites: line changed, so no mirror name is ever written down by hand.
enable_suite() {
	local suite=$1 file="/etc/apt/sources.list.d/simple-remap-$1.sources"
	suite_known "$suite" && return
	need_root "enable the $suite suite"
	if [ ! -f "$ROOT$file" ]; then
		debian_stanza | sed "s/^Suites:.*/Suites: $suite/" >"$ROOT$file"
		echo "kernel: enabled $suite in $ROOT$file" >&2
	fi
	in_root apt-get update -qq
	suite_known "$suite" || die "apt does not know $suite even with $ROOT$file"
}

# A root of RELEASE for suites the host's toolchain cannot build for.
make_root() {
	local release=$1 tmp="$ROOT.tmp"
	[ -d "$ROOT/usr" ] && return
	need_root "debootstrap $ROOT"
	"$REPO/scripts/deps.sh" debootstrap
	mkdir -p "$CACHE"
	echo "kernel: debootstrap $release into $ROOT (once, a few minutes)" >&2
	rm -rf "$tmp"
	debootstrap --variant=minbase --include=make,gcc,libc6-dev,ca-certificates \
		"$release" "$tmp" "$(debian_mirror)" >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed: see $CACHE/debootstrap.log"
	mv "$tmp" "$ROOT"
}

# meta_release PKG SUITE: the uname -r that SUITE's metapackage PKG depends on.
# Asked of that suite's own newest version (a release's -security and -updates
# count as the release), not of apt's candidate: an installed newer
# metapackage (6.12's headers on a 6.1 host) would win that.
meta_release() {
	local pkg=$1 suite=$2 versions version
	versions=$(in_root apt-cache madison "$pkg")
	version=$(awk -F'|' -v s="$suite" '{
		gsub(/ /, "", $2); split($3, where, " "); sub("/.*", "", where[2])
		if (where[2] == s || where[2] == s "-security" || where[2] == s "-updates") print $2
	}' <<<"$versions" | sed -n 1p)
	[ -n "$version" ] || die "no $pkg in $suite"
	in_root apt-cache show "$pkg=$version" | sed -n 's/^Depends:.*\<'"${pkg%-amd64}"'-\([^ ,]*\).*/\1/p' | head -n 1
}

resolve_release() {
	local suite=$1 image headers
	image=$(meta_release linux-image-amd64 "$suite")
	headers=$(meta_release linux-headers-amd64 "$suite")
	[ -n "$image" ] || die "cannot tell which kernel linux-image-amd64 is in $suite"
	[ "$image" = "$headers" ] || die "$suite: linux-image-amd64 is $image, linux-headers-amd64 is $headers"
	KREL=$image
}

install_headers() {
	local suite=$1 target=()
	[ -f "$ROOT/usr/src/linux-headers-$KREL/Makefile" ] && return
	need_root "install linux-headers-$KREL"
	echo "kernel: installing linux-headers-$KREL from $suite${ROOT:+ in $ROOT}" >&2
	# Backports' dependencies need -t; a release must not have it: its
	# -security headers would then get the point release's older kbuild.
	[[ $suite == *-backports ]] && target=(-t "$suite")
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "${target[@]}" "linux-headers-$KREL" >/dev/null
	[ -f "$ROOT/usr/src/linux-headers-$KREL/Makefile" ] ||
		die "linux-headers-$KREL installed no $ROOT/usr/src/linux-headers-$KREL/Makefile"
}

# download PKG DIR: apt-get download PKG into DIR; print the .deb's path.
download() {
	local pkg=$1 dir=$2 tmp
	if [ -n "$ROOT" ]; then
		tmp=$(mktemp -d "$ROOT/tmp/sr-download.XXXXXX")
		# shellcheck disable=SC2016 # expanded by the chroot's sh
		chroot "$ROOT" sh -c 'cd "$1" && apt-get download -q -o APT::Sandbox::User=root "$2"' sh "${tmp#"$ROOT"}" "$pkg" >&2
		mv "$tmp"/*.deb "$dir/"
		rmdir "$tmp"
	else
		(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >&2
	fi
	find "$dir" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1
}

find_vmlinuz() {
	find "$1" -type f -name 'vmlinuz*' | head -n 1
}

# The image's module tree, lib/modules/<krel> (usr/lib/modules in 7.x).
find_moddir() {
	find "$1" -type d -path "*/lib/modules/$KREL" | head -n 1
}

# extract_dependency DEB KIND ROOT: DEB's dependency linux-KIND-<krel> (7.x
# splits the image into linux-binary, the vmlinuz, linux-modules, and
# linux-base, which has modules.builtin), downloaded and extracted into ROOT.
extract_dependency() {
	local deb=$1 kind=$2 root=$3 pkg
	pkg=$(dpkg-deb -f "$deb" Depends | grep -o "linux-$kind-[^ ,]*" | head -n 1 || true)
	[ -n "$pkg" ] || die "$deb has no linux-$kind dependency"
	echo "kernel: downloading $pkg" >&2
	deb=$(download "$pkg" "${root%/root}")
	dpkg-deb -x "$deb" "$root"
}

# module_of MODDIR NAME: NAME's file in modules.dep (dashes and underscores
# are one to the kernel), relative to MODDIR, or nothing.
module_of() {
	awk -F: -v want="$2" '{
		name = $1; sub(".*/", "", name); sub("[.]ko([.][a-z]+)?$", "", name)
		gsub("-", "_", name)
		if (name == want) { print $1; exit }
	}' "$1/modules.dep"
}

# take_modules MODDIR DIR: each of CONSUMERS into DIR: its dependencies
# (which modules.dep lists in reverse load order) and itself, decompressed
# (the guest then loads them the same way on every kernel, with or without
# MODULE_DECOMPRESS), their names in DIR/NAME.load in the order to load them.
# A module built in gets an empty list; one the kernel lacks, none: the
# tests skip what the kernel does not offer.
take_modules() {
	local moddir=$1 dir=$2 name file ko i
	local -a files
	depmod -b "${moddir%/lib/modules/*}" "$KREL" || die "depmod on $moddir failed"
	mkdir -p "$dir"
	for name in "${CONSUMERS[@]}"; do
		if grep -Eq "/${name//_/[_-]}[.]ko\$" "$moddir/modules.builtin"; then
			: >"$dir/$name.load"
			continue
		fi
		file=$(module_of "$moddir" "$name")
		if [ -z "$file" ]; then
			echo "kernel: $KREL has no $name module: the tests that need it skip" >&2
			continue
		fi
		read -ra files <<<"$(grep "^$file:" "$moddir/modules.dep" | cut -d: -f2)"
		files=("$file" "${files[@]}")
		for ((i = ${#files[@]} - 1; i >= 0; i--)); do
			file=${files[i]}
			ko=${file##*/}
			case "$ko" in
			*.ko.xz) xz -dc "$moddir/$file" >"$dir/${ko%.xz}" ;;
			*.ko) cp "$moddir/$file" "$dir/$ko" ;;
			*) die "$file: not a module file this script can take" ;;
			esac
			echo "${ko%.xz}" >>"$dir/$name.load"
		done
	done
	echo "${CONSUMERS[*]}" >"$dir/consumers"
}

# What the guest needs of the image: vmlinuz and config into DIR (unless
# there), the consumers' modules into DIR/modules. The image package holds
# boot/vmlinuz-<krel> and lib/modules itself (6.1 and 6.12; 6.1 also has an
# -unsigned twin), or depends on linux-binary-<krel>, linux-modules-<krel>
# and linux-base-<krel>, which hold them (7.x).
fetch_image() {
	local dir=$1 work="$1/extract" pkg deb vmlinuz moddir
	rm -rf "$work" "$dir/modules.tmp"
	mkdir -p "$work/root"
	pkg="linux-image-$KREL"
	in_root apt-cache show "$pkg" >/dev/null 2>&1 || pkg="linux-image-$KREL-unsigned"
	echo "kernel: downloading $pkg" >&2
	deb=$(download "$pkg" "$work")
	[ -n "$deb" ] || die "apt-get download $pkg gave no .deb"
	dpkg-deb -x "$deb" "$work/root"
	if [ ! -f "$dir/vmlinuz" ]; then
		[ -n "$(find_vmlinuz "$work/root")" ] || extract_dependency "$deb" binary "$work/root"
		vmlinuz=$(find_vmlinuz "$work/root")
		[ -n "$vmlinuz" ] || die "no vmlinuz in $pkg"
		cp "$vmlinuz" "$dir/vmlinuz"
		find "$work/root" -type f -name "config-$KREL" -exec cp {} "$dir/config" \; -quit
	fi
	[ -n "$(find_moddir "$work/root")" ] || extract_dependency "$deb" modules "$work/root"
	moddir=$(find_moddir "$work/root")
	[ -n "$moddir" ] || die "no lib/modules/$KREL in $pkg"
	# Which modules are built in: without the list, one would look missing.
	[ -f "$moddir/modules.builtin" ] || extract_dependency "$deb" base "$work/root"
	[ -f "$moddir/modules.builtin" ] || die "no modules.builtin for $KREL"
	take_modules "$moddir" "$dir/modules.tmp"
	rm -rf "$dir/modules"
	mv "$dir/modules.tmp" "$dir/modules"
	rm -rf "$work"
}

# Whether DIR/modules holds today's CONSUMERS (a cache made before has
# none, or others).
modules_cached() {
	[ "$(cat "$1/modules/consumers" 2>/dev/null)" = "${CONSUMERS[*]}" ]
}

# KVER's cached kernel: $CACHE/kernels/KVER links to the <krel> directory.
cached() {
	local link=$1
	KREL=$(readlink "$link" 2>/dev/null) || return 1
	[ -f "$CACHE/kernels/$KREL/vmlinuz" ] && modules_cached "$CACHE/kernels/$KREL" &&
		[ -f "$ROOT/usr/src/linux-headers-$KREL/Makefile" ]
}

fetch() {
	local suite=$1 link=$2 release=${CHROOT_RELEASE[$1]:-}
	"$REPO/scripts/deps.sh"
	[ -z "$release" ] || make_root "$release"
	enable_suite "$suite"
	resolve_release "$suite"
	echo "kernel: ${link##*/} is $KREL, from $suite${ROOT:+ (root $ROOT)}" >&2
	install_headers "$suite"
	mkdir -p "$CACHE/kernels/$KREL"
	{ [ -f "$CACHE/kernels/$KREL/vmlinuz" ] && modules_cached "$CACHE/kernels/$KREL"; } ||
		fetch_image "$CACHE/kernels/$KREL"
	# An old cache had a directory per KVER: the link replaces it.
	[ -L "$link" ] || rm -rf "$link"
	ln -sfn "$KREL" "$link"
}

# list [host]: the KVERs, oldest first (host: only those built on the host).
list() {
	local kver
	case "$1" in "" | host) ;; *) usage ;; esac
	printf '%s\n' "${!SUITE[@]}" | sort -V | while read -r kver; do
		[ "$1" != host ] || [ -z "${CHROOT_RELEASE[${SUITE[$kver]}]:-}" ] || continue
		echo "$kver"
	done
}

main() {
	local kver=${1:-} suite link
	case "$kver" in "" | -h | --help) usage ;; esac
	if [ "$kver" = -l ]; then
		list "${2:-}"
		return
	fi
	suite=${SUITE[$kver]:-}
	[ -n "$suite" ] || die "unknown KVER=$kver: known are $(printf '%s ' "${!SUITE[@]}")"
	[ -z "${CHROOT_RELEASE[$suite]:-}" ] || ROOT="$CACHE/${CHROOT_RELEASE[$suite]}-root"
	link="$CACHE/kernels/$kver"
	cached "$link" || fetch "$suite" "$link"
	echo "KREL=$KREL"
	echo "KDIR=/usr/src/linux-headers-$KREL"
	echo "VMLINUZ=$CACHE/kernels/$KREL/vmlinuz"
	echo "MODULES=$CACHE/kernels/$KREL/modules"
	echo "CHROOT=$ROOT"
}

main "$@"
