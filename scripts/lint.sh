#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lint everything: checkpatch --strict, sparse and W=1 on the driver,
# clang-format with the kernel's style, shellcheck on every script.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

LINT="$CACHE/lint"
# Globbed from the repository, wherever the script is run from.
DRIVER_FILES=("$REPO"/driver/simple_remap_*.c "$REPO"/driver/simple_remap_*.h
	"$REPO"/driver/include/uapi/linux/simple_remap.h)
# The test-only module of the debug tier's positive controls.
KMOD_FILES=(userspace/tests/kmod/sr_bugs.c)
findings=0

usage() {
	echo "usage: $0" >&2
	echo "Runs checkpatch, sparse, W=1, clang-format and shellcheck; fails on any finding." >&2
	exit 2
}

# checkpatch.pl and .clang-format come from Debian's linux-source package.
fetch_kernel_tools() {
	[ -x "$LINT/scripts/checkpatch.pl" ] && [ -f "$LINT/.clang-format" ] && return
	from_linux_source "$LINT" scripts/checkpatch.pl scripts/spelling.txt \
		scripts/const_structs.checkpatch .clang-format
}

finding() {
	echo "lint: $1: findings above" >&2
	findings=$((findings + 1))
}

run_checkpatch() {
	"$LINT/scripts/checkpatch.pl" --strict --no-tree --quiet -f "${DRIVER_FILES[@]}" "${KMOD_FILES[@]}" ||
		finding checkpatch
}

run_clang_format() {
	clang-format --style="file:$LINT/.clang-format" --dry-run --Werror \
		"${DRIVER_FILES[@]}" "${KMOD_FILES[@]}" || finding clang-format
}

# warning_free WHAT CMD...: a build whose failure or any warning is a finding.
warning_free() {
	local what=$1 log
	shift
	log=$("$@" 2>&1) || { echo "$log"; finding "$what: the build failed"; return 1; }
	! grep -E 'warning:|error:' <<<"$log" || finding "$what"
}

# The module, and the test module in a copy, built with sparse (C=2: every
# file) and W=1 against the headers of each kernel the host builds for (the
# others need a chroot's toolchain); any warning counts.
run_sparse_w1() {
	local kvers kver kdir
	kvers=$("$REPO/scripts/kernel.sh" -l host) || true
	if [ -z "$kvers" ]; then
		finding "kernel.sh -l host (no kernel)"
		return
	fi
	for kver in $kvers; do
		kdir=$("$REPO/scripts/kernel.sh" "$kver" | sed -n 's/^KDIR=//p')
		warning_free "sparse/W=1 on $kver" \
			make -C "$REPO" --no-print-directory clean-module module KDIR="$kdir" C=2 W=1 || continue
		rm -rf "$LINT/kmod" && mkdir -p "$LINT/kmod" && cp userspace/tests/kmod/{Kbuild,*.c} "$LINT/kmod/"
		warning_free "sparse/W=1 (test module) on $kver" \
			make -C "$kdir" --no-print-directory M="$LINT/kmod" C=2 W=1 modules
	done
}

run_shellcheck() {
	shellcheck -x -P SCRIPTDIR "$REPO"/scripts/*.sh "$REPO"/scripts/guest/* "$REPO/.ci/run" ||
		finding shellcheck
}

main() {
	[ $# -eq 0 ] || usage
	cd "$REPO"
	"$REPO/scripts/deps.sh" shellcheck clang-format sparse
	fetch_kernel_tools
	run_checkpatch
	run_clang_format
	run_sparse_w1
	run_shellcheck
	[ "$findings" -eq 0 ] || { echo "lint: $findings tool(s) had findings" >&2; exit 1; }
	echo "lint: clean (checkpatch --strict, clang-format, sparse, W=1, shellcheck)"
}

main "$@"
