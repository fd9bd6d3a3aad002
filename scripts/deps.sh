#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the harness needs (and any named), if missing.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# QEMU (seabios comes with it), the guest's busybox and initramfs tools, the
# module's and the static user space's toolchain (gcc-multilib: the 32-bit
# ioctl test; liburing-dev: the io_uring test, linked statically), kmod (and
# xz-utils: kernel.sh decompresses the kernel's consumer modules), and apt's
# helpers for kernel.sh.
BASE=(qemu-system-x86 busybox-static cpio gzip make gcc libc6-dev gcc-multilib liburing-dev
	kmod xz-utils coreutils dpkg apt)

usage() {
	echo "usage: ${0##*/} [PACKAGE...]" >&2
	echo "Installs the harness's packages and PACKAGEs that are not installed yet (as root)." >&2
	exit 2
}

missing_packages() {
	local pkg
	for pkg in "$@"; do
		[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] ||
			echo "$pkg"
	done
}

install_missing() {
	[ "$#" -eq 0 ] && return
	need_root "install $*"
	echo "deps: installing $*" >&2
	apt-get update -qq
	apt_install "$@"
}

main() {
	local missing
	case "${1:-}" in -h | --help) usage ;; esac
	mapfile -t missing < <(missing_packages "${BASE[@]}" "$@")
	install_missing "${missing[@]}"
}

main "$@"
