#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What 'make run', 'make check', 'make shell' do: install what is missing,
# fetch the kernel, build module and user space, boot the guest, judge it.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat >&2 <<USAGE
usage: ${0##*/} run|check|check-debug|stress|bench|shell|check-harness
Environment: KVER=6.1|6.12|7.3|debug (6.1; check-debug sets debug), ARGS="size=64M ..." module parameters for
run and shell, ACCEL=kvm to opt in to KVM, MEM, SMP, TIMEOUT (see qemu.sh).
USAGE
	exit 2
}

fetch_kernel() {
	local out
	if [ "$KVER" = debug ]; then
		out=$("$REPO/scripts/debug-kernel.sh")
	else
		out=$("$REPO/scripts/kernel.sh" "$KVER")
	fi
	KREL=$(sed -n 's/^KREL=//p' <<<"$out")
	KDIR=$(sed -n 's/^KDIR=//p' <<<"$out")
	VMLINUZ=$(sed -n 's/^VMLINUZ=//p' <<<"$out")
	CHROOT=$(sed -n 's/^CHROOT=//p' <<<"$out")
}

# Headers that need another distribution's toolchain: build in its chroot.
build_module_in_chroot() {
	rm -rf "$CHROOT/build"
	mkdir -p "$CHROOT/build"
	cp -r "$REPO/Kbuild" "$REPO/driver" "$CHROOT/build/"
	mount -t proc proc "$CHROOT/proc"
	chroot "$CHROOT" make -s -C "$KDIR" M=/build modules || { umount "$CHROOT/proc"; return 1; }
	umount "$CHROOT/proc"
	cp "$CHROOT/build/simple_remap.ko" "$REPO/simple_remap.ko"
}

build() {
	make -C "$REPO" --no-print-directory -s clean-module
	if [ -n "$CHROOT" ]; then
		build_module_in_chroot
	else
		make -C "$REPO" --no-print-directory -s module KDIR="$KDIR"
	fi
	make -C "$REPO" --no-print-directory -s userspace
	if [ "$KVER" = debug ]; then
		build_buggy
	fi
}

# The debug tier's positive controls: the module with its bugs compiled in,
# built in a copy so that the real build stays as it is.
build_buggy() {
	rm -rf "$RUN/buggy"
	mkdir -p "$RUN/buggy"
	cp -r "$REPO/Kbuild" "$REPO/driver" "$RUN/buggy/"
	make -C "$KDIR" -s M="$RUN/buggy" SIMPLE_REMAP_BUGGY=y modules
	BUGGY_KO="$RUN/buggy/simple_remap.ko"
}

make_initramfs() {
	local -a args=(-o "$INITRAMFS" -k "$REPO/simple_remap.ko" -b "$REPO/scripts/guest/demo.sh")
	[ -z "${BUGGY_KO:-}" ] || args+=(-b "$BUGGY_KO")
	local f
	for f in "$REPO"/userspace/build/bin/*; do [ -x "$f" ] && args+=(-b "$f"); done
	for f in "$REPO"/userspace/build/tests/*; do [ -x "$f" ] && args+=(-t "$f"); done
	if [ "$MODE" = stress ]; then
		args+=(-x "$(command -v stress-ng)" -x "$(command -v trinity)" -x "$(command -v timeout)")
	fi
	"$REPO/scripts/initramfs.sh" "${args[@]}"
}

boot() {
	"$REPO/scripts/qemu.sh" -m "$1" -k "$VMLINUZ" -i "$INITRAMFS" -a "$(tr ' ' , <<<"${ARGS:-}")" -o "$2"
}

# Every verdict the harness can give, made to happen on purpose; with the
# debug kernel, also a use-after-free and a lock-order inversion.
check_harness() {
	local control expect verdict n=0
	local controls=(pass:PASS fail:FAIL timeout:TIMEOUT panic:CRASH warn:KERNEL-WARNING)
	[ "$KVER" != debug ] || controls=(uaf:KERNEL-WARNING lockdep:KERNEL-WARNING)
	for control in "${controls[@]}"; do
		expect=${control#*:}
		control=${control%:*}
		n=$((n + 1))
		TIMEOUT=$([ "$KVER" = debug ] && echo 120 || echo 20) boot "control-$control" "$RUN/control-$control" >/dev/null 2>&1 || true
		verdict=$(cat "$RUN/control-$control/verdict" 2>/dev/null || echo none)
		if [ "$verdict" = "$expect" ]; then
			echo "ok $n - harness reports $expect for control-$control"
			PASSED=$((PASSED + 1))
		else
			echo "not ok $n - harness reports $expect for control-$control (got $verdict)"
			FAILED=$((FAILED + 1))
		fi
	done
}

# suite MODE: boot MODE (check or stress) and count its TAP lines.
suite() {
	local mode=$1 passed failed skipped verdict
	boot "$mode" "$RUN/$mode" || true
	read -r passed failed skipped 2>/dev/null <"$RUN/$mode/counts" || true
	PASSED=$((PASSED + ${passed:-0}))
	FAILED=$((FAILED + ${failed:-0}))
	SKIPPED=$((SKIPPED + ${skipped:-0}))
	verdict=$(cat "$RUN/$mode/verdict" 2>/dev/null || echo none)
	case "$verdict" in
	PASS | FAIL)
		echo "ok - guest finished with a clean kernel log and no new taint"
		PASSED=$((PASSED + 1))
		;;
	*)
		echo "not ok - guest run: $verdict"
		FAILED=$((FAILED + 1))
		;;
	esac
}

main() {
	local mode=${1:-}
	case "$mode" in run | check | check-debug | stress | bench | shell | check-harness) ;; *) usage ;; esac
	MODE=$mode
	KVER=${KVER:-6.1}
	[ "$mode" != check-debug ] || KVER=debug
	PASSED=0
	FAILED=0
	SKIPPED=0
	RUN="$CACHE/runs/$(date +%Y%m%d-%H%M%S)-$mode-$KVER"
	mkdir -p "$RUN"

	if [ "$mode" = stress ]; then
		stage "deps" "$REPO/scripts/deps.sh" stress-ng trinity
	elif [ "$mode" = bench ]; then
		stage "deps" "$REPO/scripts/deps.sh" gnuplot-nox
	else
		stage "deps" "$REPO/scripts/deps.sh"
	fi
	stage "kernel $KVER" fetch_kernel
	echo "kernel: $KREL ($VMLINUZ, headers $KDIR)" >&2
	INITRAMFS="$RUN/initramfs.cpio.gz"
	stage "build" build
	stage "initramfs" make_initramfs
	case "$mode" in
	run) stage "guest: run" boot run "$RUN/run" ;;
	stress) stage "guest: stress" suite stress ;;
	bench)
		# A 1 GiB buffer needs room; the emulated CPU needs time.
		MEM=${MEM:-3G} TIMEOUT=${TIMEOUT:-2400} stage "guest: bench" suite bench
		stage "tables and plots" "$REPO/scripts/bench-report.sh" "$RUN/bench"
		;;
	shell) boot shell "$RUN/shell" ;;
	check)
		stage "guest: test suite" suite check
		stage "guest: harness controls" check_harness
		;;
	check-harness) stage "guest: harness controls" check_harness ;;
	check-debug)
		# KASAN and lockdep slow the emulated guest several times over.
		TIMEOUT=${TIMEOUT:-2400} stage "guest: test suite (debug kernel)" suite check
		TIMEOUT=${TIMEOUT:-2400} stage "guest: fault injection" suite faultinject
		stage "guest: debug controls" check_harness
		;;
	esac
	if [ "$mode" != run ] && [ "$mode" != shell ]; then
		echo "logs: $RUN"
		if [ "$SKIPPED" -eq 0 ]; then
			echo "$PASSED passed, $FAILED failed"
		else
			echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
		fi
		[ "$FAILED" -eq 0 ]
	fi
}

main "$@"
