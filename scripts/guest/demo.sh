#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# 'make run' in the guest: processes sharing the simple_remap buffer.
set -e

say() {
	printf '\n### %s\n' "$*"
}

say "the device and its buffer"
ls -l /dev/simple_remap
srctl info

msg="hello from process $$ through its mapping"
say "process A writes through its own mapping: srctl write -o 4096 '$msg'"
srctl write -o 4096 "$msg"

say "process B reads through its own mapping: srctl read -o 4096 -l ${#msg}"
srctl read -o 4096 -l "${#msg}"
echo

say "process C reads with read(): dd if=/dev/simple_remap bs=1 skip=4096 count=${#msg}"
dd if=/dev/simple_remap bs=1 skip=4096 count="${#msg}" 2>/dev/null
echo

say "a parent and a child, each with its own open file and mapping"
share_demo

if [ -x /opt/sr/bin/ring_producer ]; then
	say "a producer and a consumer pass 100000 messages through a ring in the buffer"
	ring_consumer -n 100000 &
	consumer=$!
	ring_producer -n 100000
	wait "$consumer"
fi

say "counters: /sys/class/misc/simple_remap/"
for f in mappings mmap_calls bytes_read bytes_written nr_chunks; do
	echo "$f: $(cat "/sys/class/misc/simple_remap/$f")"
done
