# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# Shared by the scripts in this directory: paths, the cache, stages, errors, apt.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Downloads, extracted kernels, initramfs images and run logs: never in the repo.
CACHE="${SIMPLE_REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/simple_remap}"
# The machine's own Debian sources (deb822): mirrors are taken from here only.
DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "not root: cannot $*"
}

# stage NAME CMD...: run CMD, saying what runs and how long it took.
stage() {
	local name=$1 start
	shift
	start=$(date +%s)
	echo "==> $name" >&2
	"$@"
	echo "==> $name: done in $(($(date +%s) - start))s" >&2
}

# apt_install [APT-GET OPTION...] PACKAGE...: install without questions or extras.
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

# The first deb822 stanza of the machine's Debian sources, as it is.
debian_stanza() {
	[ -r "$DEBIAN_SOURCES" ] || die "no $DEBIAN_SOURCES: cannot derive a Debian mirror"
	awk 'BEGIN { RS = ""; ORS = "\n" } NR == 1' "$DEBIAN_SOURCES"
}

# The machine's Debian mirror (first URI of that stanza), for debootstrap.
debian_mirror() {
	debian_stanza | sed -n 's/^URIs: *\([^ ]*\).*/\1/p'
}

# add_dynamic ROOT PROGRAM: a dynamically linked program into ROOT/usr/bin,
# with its ldd closure (and the loader) at the same paths as on the host.
add_dynamic() {
	local root=$1 prog=$2 lib
	[ -x "$prog" ] || die "not an executable: $prog"
	install -D -m 0755 "$prog" "$root/usr/bin/${prog##*/}"
	for lib in $(ldd "$prog" | awk '/=> \// { print $3 } /^\t\// { print $1 }') \
		/lib64/ld-linux-x86-64.so.2; do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}
