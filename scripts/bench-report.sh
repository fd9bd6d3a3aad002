#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn a bench run's results into bench.csv, bench.txt and two PNG plots,
# in the run directory and in userspace/bench/latest/ for the README.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "usage: ${0##*/} RUNDIR" >&2
	echo "RUNDIR: a 'make bench' guest run (holds results.txt)." >&2
	exit 2
}

extract() {
	local run=$1
	sed -n 's/^csv,//p' "$run/results.txt" >"$run/bench.csv"
	grep -E '^(ratios,|id |R[0-9] |L[0-9] |scale |round trip|  device)' "$run/results.txt" >"$run/bench.txt" || true
	[ -s "$run/bench.csv" ] || die "no bench results in $run"
}

# Setup time and fill bandwidth against buffer size, one line per map_mode
# the run measured.
plot_scale() {
	local run=$1 mode
	local -a modes setup=() fill=()
	mapfile -t modes < <(awk -F, '$1 == "scale" && !seen[$2]++ { print $2 }' "$run/bench.csv")
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
	local run=${1:-} latest="$REPO/userspace/bench/latest"
	[ -d "$run" ] || usage
	extract "$run"
	plot_scale "$run"
	plot_ratios "$run"
	mkdir -p "$latest"
	cp "$run/bench.csv" "$run/bench.txt" "$run/scale.png" "$run/ratios.png" "$latest/"
	cat "$run/bench.txt"
	echo "bench: tables and plots in $latest (and $run)"
}

main "$@"
