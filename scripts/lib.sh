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

# stage NAME CMD...: run CMD, saying what runs, whether it passed and how
# long it took; CMD's status is returned. (CMD runs where errexit is off:
# a CMD must check its own steps.)
stage() {
	local name=$1 start rc=0
	shift
	start=$(date +%s)
	echo "==> $name" >&2
	"$@" || rc=$?
	echo "==> $name: $([ "$rc" -eq 0 ] && echo ok || echo "FAILED ($rc)") in $(($(date +%s) - start))s" >&2
	return "$rc"
}

# wait_showing PID CMD...: wait for the background job PID, running CMD
# (a line of progress) every 30 s meanwhile; PID's exit status.
wait_showing() {
	local pid=$1 tick=0
	shift
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		tick=$((tick + 1))
		[ $((tick % 30)) -ne 0 ] || "$@"
	done
	wait "$pid"
}

# The one counter: a counts file holds one line, 'PASSED FAILED SKIPPED'.
# qemu.sh writes one per guest boot, from the guest's TAP lines; guest.sh
# adds those of its boots (and its own lines) into its run's; .ci/run adds
# those of its stages. Nobody reads the printed summaries.

# counts_of FILE: its 'PASSED FAILED SKIPPED' (a missing or empty file: 0 0 0).
counts_of() {
	local passed=0 failed=0 skipped=0
	[ ! -s "$1" ] || read -r passed failed skipped <"$1"
	echo "$passed $failed $skipped"
}

# counts_add FILE PASSED FAILED SKIPPED: add to FILE.
counts_add() {
	local passed failed skipped
	read -r passed failed skipped <<<"$(counts_of "$1")"
	echo "$((passed + $2)) $((failed + $3)) $((skipped + $4))" >"$1"
}

# counts_merge FILE FROM: add FROM's counts to FILE.
counts_merge() {
	# shellcheck disable=SC2046 # three numbers, three words
	counts_add "$1" $(counts_of "$2")
}

# counts_failed FILE: its failures.
counts_failed() {
	counts_of "$1" | cut -d' ' -f2
}

# summary FILE: the one summary line, 'N passed, N failed, N skipped'.
summary() {
	local passed failed skipped
	read -r passed failed skipped <<<"$(counts_of "$1")"
	echo "$passed passed, $failed failed, $skipped skipped"
}

# from_linux_source DIR PATH...: these files of Debian's linux-source-6.1
# (installed if missing; PATHs from the top of its tree) into DIR, anew.
from_linux_source() {
	local dir=$1
	shift
	"$REPO/scripts/deps.sh" linux-source-6.1 >&2 || return
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" || return
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$dir.tmp" --strip-components=1 \
		"${@/#/linux-source-6.1/}" || return
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
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
