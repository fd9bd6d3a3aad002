/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A single-producer, single-consumer ring of variable-sized messages laid
 * out in the simple_remap buffer, for two unrelated processes that each map
 * the device. Head and tail are C11 atomics; a side that finds nothing to do
 * sleeps in poll() on the device, and the other side wakes it with
 * SIMPLE_REMAP_IOC_NOTIFY only when it announced that it sleeps.
 *
 * Layout at offset 0 of the buffer:
 *
 *	struct ring_hdr		magic, version, capacity, head, tail, sleepers
 *	data[capacity]		records: struct ring_rec + payload, 8-byte aligned
 *
 * The producer creates the ring and, when done and drained, closes it (magic
 * cleared), so a later consumer never reads a stale ring.
 */
#ifndef RING_H
#define RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC	0x53524e47u	/* "SRNG" */
#define RING_VERSION	1u
#define RING_WRAP	0xffffffffu	/* record length: continue at data[0] */
#define RING_EOF	0xfffffffeu	/* record length: the producer is done */
#define RING_MAX_MSG	65536u

/* Who sleeps in poll(), so that the other side knows to notify. */
#define RING_PRODUCER_SLEEPS	1u
#define RING_CONSUMER_SLEEPS	2u

struct ring_hdr {
	_Atomic uint32_t magic;		/* RING_MAGIC once the ring is set up */
	uint32_t version;
	uint64_t capacity;		/* bytes in data[], a multiple of 8 */
	_Alignas(64) _Atomic uint64_t head;	/* bytes produced, written by the producer */
	_Alignas(64) _Atomic uint64_t tail;	/* bytes consumed, written by the consumer */
	_Alignas(64) _Atomic uint32_t sleepers;	/* RING_*_SLEEPS */
	_Alignas(64) unsigned char data[];
};

/* One message: its header, then @len bytes, padded to 8. */
struct ring_rec {
	uint32_t len;
	uint32_t sum;			/* ring_sum() of the payload */
};

static inline uint64_t ring_rec_size(uint32_t len)
{
	return (sizeof(struct ring_rec) + len + 7) & ~7ull;
}

/* FNV-1a: cheap, and it notices a torn or misplaced record. */
static inline uint32_t ring_sum(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* The test message @seq: a length and bytes that depend on @seq alone. */
static inline uint32_t ring_msg_len(uint64_t seq)
{
	return 8 + (uint32_t)((seq * 2654435761u) % 249);
}

static inline void ring_msg_fill(unsigned char *p, uint64_t seq, uint32_t len)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull + 1;
	uint32_t i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(seq >> (8 * i));
	for (; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

#endif /* RING_H */
