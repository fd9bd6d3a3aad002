#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel and initramfs in QEMU in one guest mode, then judge the run.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# A kernel log line matching this is a finding, whatever the tests said.
KERNEL_BAD='BUG:|WARNING:|Oops|Call Trace|KFENCE:|usercopy: |Bad page|refcount_t:|list_add corruption|list_del corruption|general protection fault|UBSAN:|KASAN:|suspected memory leak|circular locking|Kernel panic'
# Under fault injection, a failed allocation that does not say __GFP_NOWARN
# prints its call trace by design: there, only the checkers' reports count.
KERNEL_BAD_FAULTINJECT='BUG:|WARNING:|Oops|KFENCE:|usercopy: |Bad page|refcount_t:|list_add corruption|list_del corruption|general protection fault|UBSAN:|KASAN:|suspected memory leak|circular locking|Kernel panic'
# Taint bits O (out-of-tree) and E (unsigned) come with any module like ours.
TAINT_EXPECTED=$((0x1000 | 0x2000))

usage() {
	cat >&2 <<USAGE
usage: ${0##*/} -m MODE -k VMLINUZ -i INITRAMFS [-a MODULE_ARGS] [-o RUNDIR]
Boots the guest in MODE (check, run, shell, control-*), then prints a verdict:
PASS, FAIL, KERNEL-WARNING, CRASH or TIMEOUT; exits 0 only on PASS.
Environment: ACCEL=tcg|kvm (tcg), MEM (1G), SMP (2), TIMEOUT seconds (900),
MAP_MODES: the map_mode values 'check' runs the suite in (remap,pages,fault),
STRESS_SECONDS: how long 'stress' runs each stressor (60).
USAGE
	exit 2
}

boot() {
	local mode=$1 kernel=$2 initrd=$3 args=$4 run=$5 rc
	local -a accel=(-accel tcg -cpu max) cmd
	[ "${ACCEL:-tcg}" = kvm ] && accel=(-accel kvm -cpu host)
	cmd=(qemu-system-x86_64 "${accel[@]}" -smp "${SMP:-2}" -m "${MEM:-1G}"
		-nodefaults -no-user-config -display none -no-reboot
		-kernel "$kernel" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 oops=panic init_on_alloc=0 quiet loglevel=4 sr.mode=$mode sr.args=$args sr.map_modes=${MAP_MODES:-remap,pages,fault} sr.seconds=${STRESS_SECONDS:-60} sr.rounds=${ROUNDS:-7}"
		-serial mon:stdio -serial "file:$run/results.log")
	if [ "$mode" = shell ]; then
		"${cmd[@]}"
		return 0
	fi
	set +e
	timeout -k 10 "${TIMEOUT:-900}" "${cmd[@]}" </dev/null 2>&1 | tee "$run/console.log"
	rc=${PIPESTATUS[0]}
	set -e
	return "$rc"
}

# judge RUNDIR QEMU_RC: print the verdict, record it and the TAP counts.
judge() {
	local run=$1 qrc=$2 res="$1/results.log" verdict=PASS before after new bad=$KERNEL_BAD
	local passed failed skipped
	tr -d '\r' <"$res" >"$res.txt" 2>/dev/null || : >"$res.txt"
	passed=$(grep '^ok ' "$res.txt" | grep -vc '# SKIP' || true)
	skipped=$(grep '^ok ' "$res.txt" | grep -c '# SKIP' || true)
	# A program that failed without a 'not ok' of its own counts once.
	failed=$(awk '/^not ok / { n++; all++ }
		/^SR-PROG .* rc=[1-9]/ { if (!n) all++ }
		/^SR-PROG / { n = 0 }
		END { print all + 0 }' "$res.txt")
	sed -n '/^SR-DMESG-BEGIN/,/^SR-DMESG-END/p' "$res.txt" >"$run/dmesg.log"
	before=$(sed -n 's/^SR-TAINT-BEFORE //p' "$res.txt")
	after=$(sed -n 's/^SR-TAINT-AFTER //p' "$res.txt")
	new=$(((${after:-0} & ~${before:-0}) & ~TAINT_EXPECTED))

	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		verdict=TIMEOUT
	elif ! grep -q '^SR-DONE' "$res.txt"; then
		verdict=CRASH
		grep -E "$KERNEL_BAD" "$run/console.log" | head -n 20 >&2 || true
	elif grep -E "$bad" "$run/dmesg.log" >&2 || [ "$new" -ne 0 ]; then
		verdict=KERNEL-WARNING
		[ "$new" -eq 0 ] || echo "new taint: $new (before ${before:-?}, after ${after:-?})" >&2
	elif [ "$failed" -ne 0 ]; then
		verdict=FAIL
		grep -E '^not ok |^SR-PROG .* rc=[1-9]' "$res.txt" >&2 || true
	fi
	echo "$verdict" >"$run/verdict"
	echo "$passed $failed $skipped" >"$run/counts"
	echo "verdict: $verdict ($passed passed, $failed failed, $skipped skipped; logs in $run)" >&2
	[ "$verdict" = PASS ]
}

main() {
	local mode="" kernel="" initrd="" args="" run="" opt rc=0
	while getopts "m:k:i:a:o:h" opt; do
		case "$opt" in
		m) mode=$OPTARG ;;
		k) kernel=$OPTARG ;;
		i) initrd=$OPTARG ;;
		a) args=$OPTARG ;;
		o) run=$OPTARG ;;
		*) usage ;;
		esac
	done
	if [ -z "$mode" ] || [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then usage; fi
	[ -n "$run" ] || run="$CACHE/runs/$(date +%Y%m%d-%H%M%S)-$mode-$$"
	mkdir -p "$run"
	: >"$run/results.log"
	boot "$mode" "$kernel" "$initrd" "$args" "$run" || rc=$?
	[ "$mode" = shell ] && return 0
	[ "$mode" != faultinject ] || KERNEL_BAD=$KERNEL_BAD_FAULTINJECT
	judge "$run" "$rc"
}

main "$@"
