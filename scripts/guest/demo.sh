#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# 'make run' in the guest (module loaded): separate processes sharing the simple_remap buffer.
set -e

say() {
	printf '\n### %s\n' "$*"
}

show_device() {
	say "the device and its buffer"
	ls -l /dev/simple_remap
	srctl info
}

# Three processes, three open files, two mappings and one read(): one buffer.
write_then_read() {
	msg="hello from process $$, written through its own mapping"
	say "process A writes through its mapping: srctl write -o 0 '$msg'"
	srctl write -o 0 "$msg"

	say "process B reads through its own mapping: srctl read -o 0 -l ${#msg}"
	srctl read -o 0 -l "${#msg}"
	echo

	say "process C uses read(): dd if=/dev/simple_remap bs=${#msg} count=1"
	dd if=/dev/simple_remap bs="${#msg}" count=1 2>/dev/null
	echo
}

share_demo_run() {
	command -v share_demo >/dev/null || return 0
	say "a parent and a child, each with its own open file and mapping: share_demo"
	share_demo
}

ring_demo() {
	command -v ring_producer >/dev/null && command -v ring_consumer >/dev/null || return 0
	say "a producer and a consumer pass 100000 messages through a ring in the buffer"
	ring_consumer -n 100000 &
	consumer=$!
	ring_producer -n 100000
	wait "$consumer"
}

camera_demo() {
	command -v camera_share >/dev/null || return 0
	if ! load_kmod vivid; then
		say "no camera: this kernel ships no vivid"
		return 0
	fi
	say "a camera (vivid) captures into dma-bufs of the buffer's windows; two processes read each frame in place: camera_share"
	camera_share -n 8
}

show_counters() {
	dir=/sys/class/misc/simple_remap
	say "counters: $dir/"
	for f in mappings mmap_calls bytes_read bytes_written nr_chunks; do
		[ -r "$dir/$f" ] && echo "$f: $(cat "$dir/$f")"
	done
	return 0
}

show_device
write_then_read
share_demo_run
ring_demo
camera_demo
show_counters
