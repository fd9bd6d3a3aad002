#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the directory holding the kernel's test harness (kselftest_harness.h,
# kselftest.h) for the test build's -I: taken once from Debian's
# linux-source-6.1 (installed if missing) into the cache, never into the repo.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DIR="$CACHE/kselftest"
HEADERS=(kselftest_harness.h kselftest.h)

main() {
	case "${1:-}" in -h | --help)
		echo "usage: ${0##*/}" >&2
		echo "Prints \$CACHE/kselftest, extracting the kselftest headers there first if needed." >&2
		exit 2
		;;
	esac
	if [ ! -f "$DIR/kselftest_harness.h" ] || [ ! -f "$DIR/kselftest.h" ]; then
		"$REPO/scripts/deps.sh" linux-source-6.1 >&2
		rm -rf "$DIR.tmp" && mkdir -p "$DIR.tmp"
		tar -xf /usr/src/linux-source-6.1.tar.xz -C "$DIR.tmp" --strip-components=4 \
			"${HEADERS[@]/#/linux-source-6.1/tools/testing/selftests/}"
		rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
	fi
	echo "$DIR"
}

main "$@"
