#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the harness needs (and any named), if missing.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BASE=(qemu-system-x86 busybox-static cpio gzip make gcc libc6-dev gcc-multilib kmod)

usage() {
	echo "usage: ${0##*/} [PACKAGE...]" >&2
	echo "Installs the harness's packages and PACKAGEs that are not installed yet." >&2
	exit 2
}

missing_packages() {
	local pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$pkg"
	done
}

main() {
	local missing
	case "${1:-}" in -h | --help) usage ;; esac
	mapfile -t missing < <(missing_packages "${BASE[@]}" "$@")
	[ "${#missing[@]}" -eq 0 ] && return
	[ "$(id -u)" -eq 0 ] || die "not root: install these first: ${missing[*]}"
	echo "deps: installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
}

main "$@"
