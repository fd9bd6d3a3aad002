#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What 'make run/check/shell/...' do: install what is missing, fetch the kernel, build, boot the guest, judge it.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# The commands, one a line: name, then what it does. 'make NAME' runs each
# (the Makefile reads them from '-l'); cmd_NAME below does it.
COMMANDS=(
	"run:load the module, run the demo (processes sharing the buffer)"
	"check:the TAP test suite, then the harness's positive controls"
	"check-harness:only the positive controls (timeout, panic, fail, status, a module that cannot load, warn, pass)"
	"shell:a shell on the console with the module loaded"
	"check-debug:check and the sanitizers' controls on each KASAN/lockdep/kmemleak kernel of debug-kernel.sh (linux-source-6.1, -6.12; KVER= one), fault injection on the first"
	"stress:the stress test, stress-ng and trinity aimed at the device"
	"bench:the benchmarks, their tables and plots"
)

# Harness positive controls: guest mode, the verdict it must get, what that
# shows and, optionally, the module parameters (ARGS) to boot it with and an
# extended regex the guest's kernel log must match (the checker's own report).
CONTROLS=(
	"control-timeout:TIMEOUT:a guest that never finishes"
	"control-panic:CRASH:a kernel panic"
	"control-fail:FAIL:a failing test"
	"control-status:FAIL:a failing guest status with no failing TAP line"
	"run:FAIL:a module that cannot load:size=0"
	"control-warn:KERNEL-WARNING:a kernel warning and new taint"
	"control-pass:PASS:a passing run"
)
# The debug kernel's: bugs that only its sanitizers see.
DEBUG_CONTROLS=(
	"control-uaf:KERNEL-WARNING:a use-after-free (KASAN)::BUG: K(ASAN|FENCE): [a-z-]*use-after-free"
	"control-lockdep:KERNEL-WARNING:a lock-order inversion (lockdep)::WARNING: possible circular locking dependency"
)
CONTROL_TIMEOUT=20 # seconds for control-timeout; boot to /init takes about 5
KEEP_RUNS=${KEEP_RUNS:-30}

usage() {
	local entry
	{
		echo "usage: ${0##*/} COMMAND, or -l to list the commands"
		for entry in "${COMMANDS[@]}"; do printf '  %-14s %s\n' "${entry%%:*}" "${entry#*:}"; done
		cat <<USAGE
Environment: KVER ($("$REPO/scripts/kernel.sh" -l | paste -sd'|'); the first is the default;
check-debug: $("$REPO/scripts/debug-kernel.sh" -l | paste -sd'|'), each of them by default),
ARGS="size=64M ..." module parameters for run and shell, KO=/path/simple_remap.ko
a module built for KVER's kernel (DKMS's) to boot instead of building driver/,
ACCEL=kvm to opt in to KVM (default TCG), MEM, SMP, TIMEOUT, MAP_MODES,
STRESS_SECONDS, ROUNDS, BENCH, KERNEL_ARGS (see scripts/qemu.sh -h), SIMPLE_REMAP_CACHE,
KEEP_RUNS (30: older run logs in \$CACHE/runs are removed), ONLY="PROG..."
(stage only these test programs of userspace/tests), SR_COUNTS=FILE
(add this run's counts to FILE too: .ci/run's stages).
USAGE
	} >&2
	exit 2
}

fetch_kernel() {
	local out key value
	if [ "$MODE" = check-debug ]; then
		out=$("$REPO/scripts/debug-kernel.sh" "$KVER")
	else
		out=$("$REPO/scripts/kernel.sh" "$KVER")
	fi || return
	while IFS='=' read -r key value; do
		case "$key" in KREL | KDIR | VMLINUZ | MODULES | CHROOT) printf -v "$key" '%s' "$value" ;; esac
	done <<<"$out"
	[ -n "$KREL" ] || die "kernel $KVER: no KREL from the kernel script"
	[ -f "$VMLINUZ" ] || die "kernel $KVER: no image at $VMLINUZ"
	echo "kernel: $KREL ($VMLINUZ, headers ${CHROOT:+$CHROOT}$KDIR)" >&2
}

# Headers that need another release's toolchain: build in its root, in a
# directory of this run's own (several runs may share the root).
build_module_in_chroot() {
	local dir rc=0
	dir=$(mktemp -d "$CHROOT/build.XXXXXX")
	cp -r "$REPO/driver/." "$REPO/dkms.conf" "$dir/" || return
	mount -t proc proc "$CHROOT/proc" || return
	chroot "$CHROOT" make -s -C "$KDIR" M="/${dir##*/}" modules || rc=$?
	umount "$CHROOT/proc"
	[ "$rc" -ne 0 ] || cp "$dir/simple_remap.ko" "$REPO/driver/simple_remap.ko"
	rm -rf "$dir"
	return "$rc"
}

# KO=: a module built elsewhere (DKMS's), booted as it is, for this kernel only.
prebuilt_module() {
	local vermagic
	[ "$MODE" != check-debug ] || die "KO= is for the stock kernels: check-debug builds its own"
	[ -f "$KO" ] || die "KO=$KO: no such file"
	vermagic=$(modinfo -F vermagic "$KO") || die "KO=$KO: not a module"
	[ "${vermagic%% *}" = "$KREL" ] || die "KO=$KO is for ${vermagic%% *}, the guest runs $KREL"
	echo "module: $KO (prebuilt for $KREL)" >&2
}

build_module() {
	[ -z "${KO:-}" ] || { prebuilt_module; return; }
	make -C "$REPO" --no-print-directory -s clean-module || return
	if [ -n "$CHROOT" ]; then
		build_module_in_chroot || return
	else
		make -C "$REPO" --no-print-directory -s module KDIR="$KDIR" || return
	fi
	[ -f "$REPO/driver/simple_remap.ko" ] || die "the module build made no driver/simple_remap.ko"
	[ "$MODE" != check-debug ] || build_bugs_module
}

build_userspace() {
	make -C "$REPO" --no-print-directory -s userspace
	make -C "$REPO/userspace" --no-print-directory -s tests
}

# The debug tier's positive controls: a test-only module (never the driver)
# whose parameters commit a use-after-free or a lock-order inversion at load.
build_bugs_module() {
	rm -rf "$RUN/kmod"
	mkdir -p "$RUN/kmod"
	cp "$REPO"/userspace/tests/kmod/{Kbuild,*.c} "$RUN/kmod/" || return
	make -C "$KDIR" -s M="$RUN/kmod" modules || return
	BUGS_KO="$RUN/kmod/sr_bugs.ko"
}

# Executables in userspace/build/bin, and the tests that have a source.
make_initramfs() {
	local f
	local -a args=(-o "$INITRAMFS" -k "${KO:-$REPO/driver/simple_remap.ko}" -b "$REPO/scripts/guest/demo.sh"
		-b "$REPO/scripts/guest/load_kmod")
	[ -z "${BUGS_KO:-}" ] || args+=(-b "$BUGS_KO")
	# The kernel's own consumers (vivid, vgem, the scratch disk's virtio
	# modules); the debug kernel has none.
	[ -z "$MODULES" ] || args+=(-m "$MODULES")
	for f in "$REPO"/userspace/build/bin/*; do
		[ -f "$f" ] && [ -x "$f" ] && args+=(-b "$f")
	done
	for f in "$REPO"/userspace/build/tests/*; do
		if [ ! -f "$REPO/userspace/tests/${f##*/}.c" ] || [ ! -x "$f" ]; then
			continue
		fi
		# ONLY="consumers gup": only those test programs (a quick run of one).
		[ -z "${ONLY:-}" ] || [[ " $ONLY " == *" ${f##*/} "* ]] || continue
		args+=(-t "$f")
	done
	if [ "$MODE" = stress ]; then
		args+=(-x "$(command -v stress-ng)" -x "$(command -v trinity)" -x "$(command -v timeout)")
	fi
	"$REPO/scripts/initramfs.sh" "${args[@]}"
}

# The initramfs is the run's own: another clone (CI's) may be booting the
# same kernel from the same cache at the same time. The cache's
# initramfs-<krel>.cpio.gz links to the latest, for booting it by hand.
build_initramfs() {
	INITRAMFS="$RUN/initramfs.cpio.gz"
	make_initramfs || return
	ln -sfn "$INITRAMFS" "$CACHE/initramfs-$KREL.cpio.gz"
}

# Logs and images of all but the newest $KEEP_RUNS runs go.
prune_runs() {
	find "$CACHE/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' |
		sort -rn | tail -n +"$((KEEP_RUNS + 1))" | cut -d' ' -f2- |
		while read -r old; do rm -rf "$old"; done
}

# boot MODE RUNDIR: qemu.sh's verdict on MODE, logs in RUNDIR.
boot() {
	"$REPO/scripts/qemu.sh" -m "$1" -k "$VMLINUZ" -i "$INITRAMFS" -a "${ARGS:-}" -o "$2"
}

# Every verdict the harness can give, made to happen on purpose: each is a
# TAP line, counted into the run's counts.
check_harness() {
	local entry mode expect what args evidence verdict timeout start
	local -a controls=("${CONTROLS[@]}")
	[ "$MODE" != check-debug ] || controls=("${DEBUG_CONTROLS[@]}")
	for entry in "${controls[@]}"; do
		IFS=: read -r mode expect what args evidence <<<"$entry"
		timeout=${TIMEOUT:-300}
		[ "$mode" != control-timeout ] || timeout=$CONTROL_TIMEOUT
		start=$(date +%s)
		ARGS=$args TIMEOUT=$timeout boot "$mode" "$RUN/$mode" >"$RUN/$mode.out" 2>&1 || true
		verdict=$(cat "$RUN/$mode/verdict" 2>/dev/null || echo none)
		if [ -n "$evidence" ] && ! grep -Eq "$evidence" "$RUN/$mode/dmesg.log" 2>/dev/null; then
			verdict="$verdict without /$evidence/"
		fi
		if [ "$verdict" = "$expect" ]; then
			echo "ok - harness detects $what ($mode: $verdict in $(($(date +%s) - start))s)"
			counts_add "$COUNTS" 1 0 0
		else
			echo "not ok - harness detects $what ($mode: $verdict, expected $expect; see $RUN/$mode.out)"
			counts_add "$COUNTS" 0 1 0
		fi
	done
}

# suite MODE: boot MODE (check, faultinject, stress or bench), add its
# counts, and one line more for the kernel's own health during the run.
suite() {
	local mode=$1 verdict
	boot "$mode" "$RUN/$mode" || true
	counts_merge "$COUNTS" "$RUN/$mode/counts"
	verdict=$(cat "$RUN/$mode/verdict" 2>/dev/null || echo none)
	if { [ "$verdict" = PASS ] || [ "$verdict" = FAIL ]; } && [ ! -s "$RUN/$mode/kernel-findings" ]; then
		echo "ok - guest $mode finished with a clean kernel log and no new taint"
		counts_add "$COUNTS" 1 0 0
	else
		echo "not ok - guest $mode: $verdict"
		counts_add "$COUNTS" 0 1 0
	fi
	# /init skips the leak scan where kmemleak is missing: on a debug kernel
	# that is a kernel that lost it (off at boot, or not built), not a pass.
	if [ "$MODE" = check-debug ] && ! grep -q 'kmemleak reports no leak' "$RUN/$mode/tap.log" 2>/dev/null; then
		echo "not ok - guest $mode: kmemleak never scanned"
		counts_add "$COUNTS" 0 1 0
	fi
}

deps() {
	case "$MODE" in
	stress) "$REPO/scripts/deps.sh" stress-ng trinity ;;
	bench) "$REPO/scripts/deps.sh" gnuplot-nox ;;
	*) "$REPO/scripts/deps.sh" ;;
	esac
}

cmd_run() { stage "boot: run" boot run "$RUN/run"; }
cmd_shell() { boot shell "$RUN/shell"; }
cmd_check() {
	stage "boot: test suite" suite check
	# ONLY= is a quick run of some programs: the controls are not theirs.
	[ -n "${ONLY:-}" ] || stage "boot: harness controls" check_harness
}
cmd_check_harness() { stage "boot: harness controls" check_harness; }
cmd_check_debug() {
	local first
	# pci=noacpi: PCI interrupts routed by the BIOS's table, not ACPI's AML.
	# Under KASAN and TCG, enabling the scratch disk's interrupt link through
	# ACPI took 23 s on an idle machine (6.12) and overran ACPI's 30 s loop
	# timeout on a loaded one (AE_AML_LOOP_TIMEOUT, minutes of retries).
	export KERNEL_ARGS="pci=noacpi${KERNEL_ARGS:+ $KERNEL_ARGS}"
	# KASAN and lockdep slow the emulated guest several times over.
	TIMEOUT=${TIMEOUT:-2400} stage "boot: test suite (debug kernel $KVER)" suite check
	# ONLY=: those programs (kmemleak still scans), no fault injection or controls.
	[ -z "${ONLY:-}" ] || return 0
	# Fault injection walks every allocation site of a load in each mode
	# (minutes under KASAN): on the first debug kernel only, for CI's time.
	first=$("$REPO/scripts/debug-kernel.sh" -l | sed -n 1p)
	if [ "$KVER" = "$first" ]; then
		TIMEOUT=${TIMEOUT:-2400} stage "boot: fault injection" suite faultinject
	else
		echo "fault injection: on the $first debug kernel only"
	fi
	stage "boot: debug controls" check_harness
}
cmd_stress() { stage "boot: stress" suite stress; }
cmd_bench() {
	# A 1 GiB buffer and its 1 GiB peers (hugetlb pages reserved at boot,
	# udmabuf's memfd, the system heap) need room; the emulated CPU, time.
	# udmabuf refuses buffers over size_limit_mb (64 by default).
	local args="hugepages=520 udmabuf.size_limit_mb=2048"
	MEM=${MEM:-6G} TIMEOUT=${TIMEOUT:-3600} KERNEL_ARGS="$args${KERNEL_ARGS:+ $KERNEL_ARGS}" \
		stage "boot: bench" suite bench
	# A partial run (some parts, some map_modes) keeps its tables to its
	# run directory: userspace/bench/latest holds whole runs.
	if [ -n "${BENCH:-}${MAP_MODES:-}" ]; then
		stage "tables and plots" "$REPO/scripts/bench-report.sh" -p "$RUN/bench"
	else
		stage "tables and plots" "$REPO/scripts/bench-report.sh" "$RUN/bench"
	fi
}

# check-debug without KVER: itself once per debug kernel, even after one
# fails, each kernel's counts added to one summary (and to $SR_COUNTS). A run
# that failed without counting it (a kernel that did not build) counts one.
check_debug_all() {
	local kver kvers rc counts="$CACHE/runs/check-debug-$$.counts" status=0
	kvers=$("$REPO/scripts/debug-kernel.sh" -l) || return
	[ -n "$kvers" ] || die "scripts/debug-kernel.sh -l listed no debug kernel"
	: >"$counts"
	for kver in $kvers; do
		rc=0
		: >"$counts.$kver"
		KVER=$kver SR_COUNTS="$counts.$kver" stage "check-debug KVER=$kver" \
			"$REPO/scripts/guest.sh" check-debug || rc=$?
		if [ "$rc" -ne 0 ]; then
			status=1
			[ "$(counts_failed "$counts.$kver")" -ne 0 ] || counts_add "$counts.$kver" 0 1 0
		fi
		counts_merge "$counts" "$counts.$kver"
		rm -f "$counts.$kver"
	done
	[ -z "${SR_COUNTS:-}" ] || counts_merge "$SR_COUNTS" "$counts"
	echo "check-debug on ${kvers//$'\n'/ }:"
	summary "$counts"
	rm -f "$counts"
	return "$status"
}

# The run's counts go to $RUN/counts, and are added to $SR_COUNTS too when
# that names a file (.ci/run's stage's).
main() {
	local entry known=n
	MODE=${1:-}
	[ "$#" -eq 1 ] || usage
	if [ "$MODE" = -l ]; then
		for entry in "${COMMANDS[@]}"; do echo "${entry%%:*}"; done
		return
	fi
	for entry in "${COMMANDS[@]}"; do [ "${entry%%:*}" != "$MODE" ] || known=y; done
	[ "$known" = y ] || usage
	if [ "$MODE" = check-debug ] && [ -z "${KVER:-}" ]; then
		mkdir -p "$CACHE/runs"
		check_debug_all
		return
	fi
	KVER=${KVER:-$("$REPO/scripts/kernel.sh" -l | sed -n 1p)}
	KREL="" KDIR="" VMLINUZ="" MODULES="" CHROOT=""
	RUN="$CACHE/runs/$(date +%Y%m%d-%H%M%S)-$MODE-$KVER"
	[ ! -e "$RUN" ] || RUN="$RUN-$$"
	mkdir -p "$RUN"
	COUNTS="$RUN/counts"
	prune_runs

	stage "deps" deps
	stage "kernel $KVER" fetch_kernel
	stage "build module" build_module
	stage "build userspace" build_userspace
	stage "build initramfs" build_initramfs
	"cmd_${MODE//-/_}"
	case "$MODE" in run | shell) return ;; esac
	[ -z "${SR_COUNTS:-}" ] || counts_merge "$SR_COUNTS" "$COUNTS"
	echo "logs: $RUN"
	summary "$COUNTS"
	[ "$(counts_failed "$COUNTS")" -eq 0 ]
}

main "$@"
