#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn a bench run's results into bench.csv, bench.txt and the PNG plots,
# in the run directory and, unless -p (a partial run: some parts or
# map_modes), in userspace/bench/latest/ for the README.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "usage: ${0##*/} [-p] RUNDIR" >&2
	echo "RUNDIR: a 'make bench' guest run (holds results.txt)." >&2
	echo "-p: a partial run: its tables and plots stay in RUNDIR." >&2
	exit 2
}

extract() {
	local run=$1
	sed -n 's/^csv,//p' "$run/results.txt" >"$run/bench.csv"
	grep -E '^(ratios,|peers,|consumers,|id |[RLPVD][0-9] |scale |ptables |round trip|  device|     [a-z-]+: n/a)' \
		"$run/results.txt" >"$run/bench.txt" || true
	[ -s "$run/bench.csv" ] || die "no bench results in $run"
}

# Rows read off several lines: R5, linearity, from the scale run's whole
# buffers of 256M and 1G (the same kernel path at both sizes, unlike a
# small window inside one chunk), with a memfd of each size as control; X1
# and X2, huge against remap, each measured against the same hugetlb memfd
# in its own rounds (P1), or as counts (P2).
derive() {
	local run=$1 out
	out=$(awk -F, '
	$1 == "peer" && $5 == "simple_remap" && $3 == "P1" && $4 ~ /^setup/ { setup[$2] = $6 }
	$1 == "peer" && $5 == "simple_remap" && $4 ~ /^page tables/ { pte[$2] = $6 }
	$1 == "scale" && ($3 == 268435456 || $3 == 1073741824) {
		if (!($2 in order)) order[$2] = ++modes
		t[$2, $3] = $5; ctl[$2, $3] = $8; chunks[$2, $3] = $4
	}
	END {
		for (m in order) name[order[m]] = m
		for (i = 1; i <= modes; i++) {
			m = name[i]; g = 1073741824; q = 268435456
			if (!((m, g) in t) || !((m, q) in t) || t[m, q] <= 0 || ctl[m, q] <= 0) continue
			r = t[m, g] / t[m, q]
			what = sprintf("%s: setup 1G / 256M, whole buffer (4 is linear)", m)
			printf "R5   %-52s %7.3f  %-15s  %-10s %s\n", what, r, "", "3.2..4.8", ((r >= 3.2 && r <= 4.8) ? "met" : "NOT MET")
			printf "R5   %-52s %7.3f\n", sprintf("%s: control, memfd MAP_POPULATE 1G / 256M", m), ctl[m, g] / ctl[m, q]
			printf "R5   %-52s %d and %d\n", sprintf("%s: buffer chunks at 256M and 1G", m), chunks[m, q], chunks[m, g]
			printf "csv,ratio,%s,R5,setup 1G / 256M,%.4f,%.4f,%.4f\n", m, r, r, r
		}
		if (("huge" in setup) && ("remap" in setup)) {
			r = setup["huge"] / setup["remap"]
			printf "X1   %-52s %7.3f  %-15s  %-10s %s\n", "setup 1G: huge / remap (each against hugetlb)", r, "", "<= 0.3", ((r <= 0.3) ? "met" : "NOT MET")
			printf "csv,ratio,huge,X1,setup 1G: huge / remap,%.4f,%.4f,%.4f\n", r, r, r
		}
		if (("huge" in pte) && ("remap" in pte) && pte["remap"] > 0) {
			r = pte["huge"] / pte["remap"]
			printf "X2   %-52s %7.4f  %-15s  %-10s %s\n", "page tables 1G: huge / remap", r, "", "<= 1/64", ((r <= 1 / 64) ? "met" : "NOT MET")
		}
	}' "$run/bench.csv")
	[ -n "$out" ] || return 0
	grep -v '^csv,' <<<"$out" >>"$run/bench.txt" || true
	sed -n 's/^csv,//p' <<<"$out" >>"$run/bench.csv"
}

# Page-table memory against the number of processes mapping the 1 GiB,
# one line per map_mode and per peer.
plot_ptables() {
	local run=$1 s
	local -a series plots=()
	mapfile -t series < <(awk -F, '$1 == "ptables" && !seen[$2 "," $3]++ { print $2 "," $3 }' "$run/bench.csv")
	[ "${#series[@]}" -gt 0 ] || return 0
	for s in "${series[@]}"; do
		grep "^ptables,$s," "$run/bench.csv" | cut -d, -f4- | tr , ' ' >"$run/ptables-${s/,/-}.dat"
		plots+=("'$run/ptables-${s/,/-}.dat' using 1:(\$3/1024/(\$2/1073741824)) with linespoints title '$(label_of "$s")'")
	done
	gnuplot <<GNUPLOT
set terminal pngcairo size 900,600 background rgb 'white'
set output '$run/ptables.png'
set termoption noenhanced
set title 'page tables for 1 GiB mapped and touched by N processes (TCG guest)'
set logscale xy
set grid
set xlabel 'processes mapping the buffer'
set ylabel 'page-table MiB per mapped GiB (all processes)'
set key top left
plot $(IFS=,; echo "${plots[*]}")
GNUPLOT
}

# "huge,simple_remap" reads "simple_remap huge"; "remap,udmabuf" "udmabuf".
label_of() {
	case "$1" in
	*,simple_remap) echo "simple_remap ${1%%,*}" ;;
	*) echo "${1#*,}" ;;
	esac
}

# Setup time and fill bandwidth against buffer size, one line per map_mode
# the run measured.
plot_scale() {
	local run=$1 mode
	local -a modes setup=() fill=()
	mapfile -t modes < <(awk -F, '$1 == "scale" && !seen[$2]++ { print $2 }' "$run/bench.csv")
	[ "${#modes[@]}" -gt 0 ] || return 0
	for mode in "${modes[@]}"; do
		grep "^scale,$mode," "$run/bench.csv" | cut -d, -f3- | tr , ' ' >"$run/scale-$mode.dat"
		setup+=("'$run/scale-$mode.dat' using (\$1/1048576):(\$3*1000) with linespoints title '$mode'")
		fill+=("'$run/scale-$mode.dat' using (\$1/1048576):4 with linespoints title '$mode'")
	done
	gnuplot <<GNUPLOT
set terminal pngcairo size 1200,500 background rgb 'white'
set output '$run/scale.png'
set termoption noenhanced
set multiplot layout 1,2 title 'simple_remap: load, map and fill, 4 KiB to 1 GiB (TCG guest, medians)'
set logscale xy
set grid
set xlabel 'buffer size (MiB)'
set ylabel 'mmap + touch every page (ms)'
set key top left
plot $(IFS=,; echo "${setup[*]}")
unset logscale y
set logscale x
set ylabel 'fill through the mapping (MB/s)'
plot $(IFS=,; echo "${fill[*]}")
unset multiplot
GNUPLOT
}

# Each ratio's median with its min..max, per map_mode.
plot_ratios() {
	local run=$1
	awk -F, '$1 == "ratio" { printf "%d \"%s %s [%s]\" %s %s %s\n", ++n, $3, $4, $2, $5, $6, $7 }' \
		"$run/bench.csv" >"$run/ratios.dat"
	[ -s "$run/ratios.dat" ] || return 0
	gnuplot <<GNUPLOT
set terminal pngcairo size 1200,$((200 + 16 * $(wc -l <"$run/ratios.dat"))) background rgb 'white'
set output '$run/ratios.png'
set termoption noenhanced
set title 'simple_remap / alternative: medians, min..max over rounds (1 = same)'
set xlabel 'ratio (log scale)'
set logscale x
set xrange [0.05:200]
set arrow from 1, graph 0 to 1, graph 1 nohead dashtype 2
set grid x
set ytics font ',8'
set yrange [*:*] reverse
set offsets 0, 0, 1, 1
plot '$run/ratios.dat' using 3:1:4:5:ytic(2) with xerrorbars notitle pt 7
GNUPLOT
}

main() {
	local run latest="$REPO/userspace/bench/latest" png
	if [ "${1:-}" = -p ]; then
		latest=""
		shift
	fi
	run=${1:-}
	[ -d "$run" ] || usage
	extract "$run"
	derive "$run"
	plot_scale "$run"
	plot_ratios "$run"
	plot_ptables "$run"
	cat "$run/bench.txt"
	if [ -z "$latest" ]; then
		echo "bench: a partial run: tables and plots in $run only"
		return
	fi
	mkdir -p "$latest"
	cp "$run/bench.csv" "$run/bench.txt" "$latest/"
	for png in scale ratios ptables; do
		[ ! -f "$run/$png.png" ] || cp "$run/$png.png" "$latest/"
	done
	echo "bench: tables and plots in $latest (and $run)"
}

main "$@"
