#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the directory holding the kernel's test harness (kselftest_harness.h,
# kselftest.h) for the test build's -I: taken once from Debian's
# linux-source-6.1 (installed if missing) into the cache, never into the repo.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DIR="$CACHE/kselftest"
SELFTESTS=tools/testing/selftests
HEADERS=("$SELFTESTS/kselftest_harness.h" "$SELFTESTS/kselftest.h")

main() {
	local header missing=n
	case "${1:-}" in -h | --help)
		echo "usage: ${0##*/}" >&2
		echo "Prints the directory of the kselftest headers in \$CACHE/kselftest, extracting them first if needed." >&2
		exit 2
		;;
	esac
	for header in "${HEADERS[@]}"; do
		[ -f "$DIR/$header" ] || missing=y
	done
	if [ "$missing" = y ]; then
		from_linux_source "$DIR" "${HEADERS[@]}"
	fi
	echo "$DIR/$SELFTESTS"
}

main "$@"
