# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# Shared by the scripts in this directory: paths, the cache, stages, errors.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Downloads, extracted kernels, initramfs images and run logs: never in the repo.
CACHE="${SIMPLE_REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/simple_remap}"

die() {
	echo "${0##*/}: $*" >&2
	exit 1
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
