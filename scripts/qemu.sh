#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel and initramfs in QEMU in one guest mode, then judge the run.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# A kernel log line matching this is a finding, whatever the tests said.
# Report prefixes, not bare words: every boot logs "Mitigation: usercopy/swapgs
# barriers", "kfence: initialized" and, on the debug kernel, "kmemleak: Kernel
# memory leak detector initialized".
KERNEL_BAD='BUG:|WARNING:|Oops|Call Trace|KFENCE:|usercopy: |Bad page|refcount_t:|list_add corruption|list_del corruption|general protection fault|UBSAN:|KASAN:|kmemleak: .*suspected memory leak|circular locking|Kernel panic'
# Under fault injection, a failed allocation that does not say __GFP_NOWARN
# prints its call trace by design: there, only the checkers' reports count.
KERNEL_BAD_FAULTINJECT=${KERNEL_BAD/'|Call Trace'/}
# Taint bits O (out-of-tree) and E (unsigned) come with any module like ours.
TAINT_EXPECTED=$((0x1000 | 0x2000))
# The guest's scratch disk: room for the tests' direct I/O, not a file system.
SCRATCH_SIZE=64M

usage() {
	cat >&2 <<USAGE
usage: ${0##*/} -m MODE -k VMLINUZ -i INITRAMFS [-a MODULE_ARGS] [-o RUNDIR]
Boots the guest in MODE (a mode_* function of scripts/guest/init: check,
run, shell, stress, bench, control-*, ...), then judges it: one verdict
(TIMEOUT, CRASH, FAIL, KERNEL-WARNING or PASS) into RUNDIR/verdict, the
counts ('passed failed skipped') into RUNDIR/counts; prints the verdict,
the guest's TAP lines and, last, the summary. Exits 0 only on PASS.
  -a  module parameters for insmod in run and shell, space-separated
  -o  where the logs go (default \$CACHE/runs/<timestamp>-<mode>)
The guest gets its parameters as environment variables on the kernel command
line (SR_MODE, SR_ARGS, SR_MAP_MODES, SR_STRESS_SECONDS, SR_ROUNDS, SR_BENCH).
It gets a ${SCRATCH_SIZE} scratch disk too, zeroed at each boot: virtio-blk,
the guest's /dev/vda, RUNDIR/scratch.img on the host.
Environment: ACCEL=tcg|kvm (tcg; /dev/kvm is not trusted by default), MEM (1G),
SMP (2), TIMEOUT seconds (900), MAP_MODES (comma-separated: only these of the
driver's map_modes; default all), STRESS_SECONDS (guest's default 60),
ROUNDS (7): for stress and bench; BENCH (comma-separated: only these parts of
the bench, of ratios, consumers, latency, scale, peers, ptables; default all).
KERNEL_ARGS: more kernel command line (e.g. nopat).
USAGE
	exit 2
}

accel_args() {
	case "${ACCEL:-tcg}" in
	tcg) echo "-accel tcg -cpu max" ;;
	kvm) echo "-accel kvm -cpu host" ;;
	*) die "ACCEL=${ACCEL}: tcg or kvm" ;;
	esac
}

# guest_env MODE ARGS: the guest's parameters, as NAME=value words for the
# kernel command line. The kernel passes a word it does not know, with a
# value and without a dot (a dot makes it a module parameter), to /init as
# an environment variable, which the tests inherit: nothing parses it. A
# value may not hold a double quote; ARGS, quoted, may hold spaces. Unset
# ones are not passed: their defaults are the guest's.
guest_env() {
	local env="SR_MODE=$1"
	[ -z "$2" ] || env+=" SR_ARGS=\"$2\""
	[ -z "${MAP_MODES:-}" ] || env+=" SR_MAP_MODES=$MAP_MODES"
	[ -z "${STRESS_SECONDS:-}" ] || env+=" SR_STRESS_SECONDS=$STRESS_SECONDS"
	[ -z "${ROUNDS:-}" ] || env+=" SR_ROUNDS=$ROUNDS"
	[ -z "${BENCH:-}" ] || env+=" SR_BENCH=$BENCH"
	echo "$env"
}

# boot MODE KERNEL INITRD ARGS RUNDIR: the guest's console on stdio (and in
# console.log), its ttyS1 in results.log, a zeroed scratch disk (the guest's
# virtio-blk /dev/vda, RUNDIR/scratch.img, sparse) for the tests' O_DIRECT
# and io_uring I/O. Returns QEMU's (or timeout's) status.
boot() {
	local mode=$1 kernel=$2 initrd=$3 args=$4 run=$5 rc accel
	local -a cmd
	case "$args" in *'"'*) die "-a '$args': no double quotes" ;; esac
	case "${MAP_MODES:-}" in *[!a-z,]*) die "MAP_MODES=$MAP_MODES: map_mode names, comma-separated" ;; esac
	case "${BENCH:-}" in *[!a-z,]*) die "BENCH=$BENCH: bench parts, comma-separated" ;; esac
	case "${STRESS_SECONDS:-}${ROUNDS:-}" in *[!0-9]*) die "STRESS_SECONDS, ROUNDS: whole numbers" ;; esac
	accel=$(accel_args)
	rm -f "$run/scratch.img"
	truncate -s "$SCRATCH_SIZE" "$run/scratch.img"
	# SeaBIOS's serial console would reset and clear the user's terminal
	# (ESC c, ESC [2J) at every boot: sercon-port=0 turns it off.
	# shellcheck disable=SC2206,SC2054 # $accel: two options, two words each
	cmd=(qemu-system-x86_64 $accel -smp "${SMP:-2}" -m "${MEM:-1G}"
		-nodefaults -no-user-config -nographic -no-reboot
		-fw_cfg name=etc/sercon-port,string=0
		-drive "if=none,id=scratch,format=raw,file=$run/scratch.img"
		-device virtio-blk-pci,drive=scratch
		-kernel "$kernel" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 oops=panic init_on_alloc=0 quiet loglevel=4 $(guest_env "$mode" "$args")${KERNEL_ARGS:+ $KERNEL_ARGS}"
		-serial mon:stdio -serial "file:$run/results.log")
	echo "${cmd[*]}" >"$run/qemu-cmdline"
	if [ "$mode" = shell ]; then
		"${cmd[@]}"
		return 0
	fi
	set +e
	# (QEMU warns that etc/sercon-port is not an opt/ name: it is SeaBIOS's.)
	timeout -k 10 "${TIMEOUT:-900}" "${cmd[@]}" </dev/null 2>&1 |
		grep --line-buffered -v 'fw_cfg item names should be prefixed' |
		tee "$run/console.log"
	rc=${PIPESTATUS[0]}
	set -e
	return "$rc"
}

# Evidence for a KERNEL-WARNING: bad kernel log lines, new taint bits.
kernel_findings() {
	local run=$1 res=$2 before after new
	grep -E "$KERNEL_BAD" "$run/dmesg.log" || true
	before=$(sed -n 's/^SR-TAINT-BEFORE \([0-9]*\).*/\1/p' "$res")
	after=$(sed -n 's/^SR-TAINT-AFTER \([0-9]*\).*/\1/p' "$res")
	new=$(((${after:-0} & ~${before:-0}) & ~TAINT_EXPECTED))
	[ "$new" -eq 0 ] || printf 'new taint: 0x%x (before %s, after %s)\n' "$new" "${before:-?}" "${after:-?}"
}

# judge RUNDIR QEMU_STATUS: the verdict into RUNDIR/verdict, the counts into
# RUNDIR/counts ('passed failed skipped': an 'ok ... # SKIP' is skipped, not
# passed), kernel findings into RUNDIR/kernel-findings; print them. A program
# that failed without a 'not ok' of its own counts as one failure, and so does
# a non-zero guest status (SR-DONE rc=) when nothing else failed.
judge() {
	local run=$1 qrc=$2 res="$1/results.txt" verdict passed failed skipped
	tr -d '\r' <"$run/results.log" >"$res"
	sed -n '/^SR-DMESG-BEGIN/,/^SR-DMESG-END/p' "$res" >"$run/dmesg.log"
	sed '/^SR-DMESG-BEGIN/,/^SR-DMESG-END/d' "$res" |
		grep -E '^(TAP version |[0-9]+\.\.[0-9]+|ok |ok$|not ok|SR-PROG |SR-DONE )' >"$run/tap.log" || true
	passed=$(grep -E '^ok( |$)' "$run/tap.log" | grep -vci '# skip' || true)
	skipped=$(grep -E '^ok( |$)' "$run/tap.log" | grep -ci '# skip' || true)
	failed=$(awk '/^not ok/ { n++; all++ }
		/^SR-PROG .* rc=[1-9]/ { if (!n) all++ }
		/^SR-PROG / { n = 0 }
		/^SR-DONE rc=[1-9]/ { if (!all) all++ }
		END { print all + 0 }' "$run/tap.log")
	kernel_findings "$run" "$res" >"$run/kernel-findings"

	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		verdict=TIMEOUT
	elif ! grep -q '^SR-DONE' "$res"; then
		verdict=CRASH
	elif [ "$failed" -ne 0 ]; then
		verdict=FAIL
	elif [ -s "$run/kernel-findings" ]; then
		verdict=KERNEL-WARNING
	else
		verdict=PASS
	fi
	echo "$verdict" >"$run/verdict"
	echo "$passed $failed $skipped" >"$run/counts"
	report "$run" "$verdict" "$qrc"
	[ "$verdict" = PASS ]
}

report() {
	local run=$1 verdict=$2 qrc=$3
	echo
	echo "verdict: $verdict"
	case "$verdict" in
	TIMEOUT) echo "the guest did not power off within ${TIMEOUT:-900}s" ;;
	CRASH)
		if grep -q '^SR-BEGIN' "$run/results.txt"; then
			echo "no SR-DONE: the guest panicked or rebooted; console lines:"
			grep -E "$KERNEL_BAD|end Kernel panic" "$run/console.log" | head -n 40 || true
		else
			echo "the guest never reached /init (qemu exit status $qrc); the console's end:"
			tail -n 20 "$run/console.log"
		fi
		;;
	FAIL) grep -E '^not ok|^SR-PROG .* rc=[1-9]|^SR-DONE rc=[1-9]' "$run/tap.log" || true ;;
	esac
	if [ -s "$run/kernel-findings" ]; then
		echo "kernel log findings:"
		cat "$run/kernel-findings"
	fi
	echo "logs: $run"
	if [ -s "$run/tap.log" ]; then
		echo "guest TAP lines:"
		cat "$run/tap.log"
	fi
	summary "$run/counts"
}

main() {
	local kernel="" initrd="" args="" run="" opt rc attempt
	MODE=""
	while getopts "m:k:i:a:o:h" opt; do
		case "$opt" in
		m) MODE=$OPTARG ;;
		k) kernel=$OPTARG ;;
		i) initrd=$OPTARG ;;
		a) args=$OPTARG ;;
		o) run=$OPTARG ;;
		*) usage ;;
		esac
	done
	[ -n "$MODE" ] || usage
	accel_args >/dev/null
	[ -f "$kernel" ] || die "no kernel image: '$kernel'"
	[ -f "$initrd" ] || die "no initramfs: '$initrd'"
	[ -n "$run" ] || run="$CACHE/runs/$(date +%Y%m%d-%H%M%S)-$MODE-$$"
	[ "$MODE" != faultinject ] || KERNEL_BAD=$KERNEL_BAD_FAULTINJECT
	echo "qemu: $MODE on ${kernel##*/} (${ACCEL:-tcg}); logs in $run" >&2
	# A kernel that dies before /init has run nothing of ours: under TCG,
	# 7.3 now and then trips over its own boot-time code patching (an
	# int3 Oops in sched_clock_cpu). That one boot, kept, is tried once more.
	for attempt in 1 2; do
		mkdir -p "$run"
		: >"$run/results.log"
		rc=0
		boot "$MODE" "$kernel" "$initrd" "$args" "$run" || rc=$?
		[ "$MODE" = shell ] && return 0
		judge "$run" "$rc" && return 0
		if [ "$attempt" -eq 2 ] || [ "$(cat "$run/verdict")" != CRASH ] ||
			grep -q '^SR-BEGIN' "$run/results.txt"; then
			return 1
		fi
		echo "qemu: the kernel crashed before /init; booting once more (that boot's logs: $run.early-crash)" >&2
		mv "$run" "$run.early-crash"
	done
}

main "$@"
