// SPDX-License-Identifier: GPL-2.0
/*
 * ring_consumer: wait for ring_producer's ring in the simple_remap buffer
 * and receive its messages until the end marker, checking that each one
 * arrives once, in order, with the bytes and checksum it was sent with.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "ring_common.h"

static bool ring_is_open(struct ring_hdr *r)
{
	return atomic_load(&r->magic) == RING_MAGIC;
}

static bool ring_has_data(struct ring_hdr *r)
{
	return atomic_load(&r->head) != atomic_load(&r->tail);
}

/* The message @seq as ring_producer makes it, or why @rec is not it. */
static const char *ring_check(const struct ring_rec *rec, uint64_t seq)
{
	static unsigned char want[RING_MAX_MSG];
	uint32_t len = ring_msg_len(seq);

	if (rec->len != len)
		return "wrong length (lost, duplicated or reordered)";
	if (ring_sum((const unsigned char *)(rec + 1), len) != rec->sum)
		return "checksum mismatch (torn record)";
	ring_msg_fill(want, seq, len);
	if (memcmp(want, rec + 1, len))
		return "wrong contents (lost, duplicated or reordered)";
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long long expect = 0, seq = 0, bytes = 0;
	const char *dev = NULL, *why = NULL;
	struct ring_hdr *ring;
	struct simple_remap sr;
	struct ring_rec *rec;
	uint64_t tail;

	ring_args(argc, argv, &dev, &expect);
	ring = ring_map(&sr, dev, "ring_consumer");
	if (!ring)
		return 1;
	if (ring_sleep_until(ring, &sr, RING_CONSUMER_SLEEPS, ring_is_open) ||
	    ring->version != RING_VERSION) {
		fprintf(stderr, "ring_consumer: no ring (version %u) appeared\n",
			RING_VERSION);
		return 1;
	}

	for (;;) {
		if (ring_sleep_until(ring, &sr, RING_CONSUMER_SLEEPS,
				     ring_has_data)) {
			why = "producer gone";
			break;
		}
		tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
		rec = (struct ring_rec *)(ring->data + tail % ring->capacity);
		if (rec->len == RING_EOF) {
			atomic_store(&ring->tail, tail + ring_rec_size(0));
			ring_wake(ring, &sr, RING_PRODUCER_SLEEPS);
			break;
		}
		if (rec->len == RING_WRAP) {
			tail += ring->capacity - tail % ring->capacity;
		} else {
			why = ring_check(rec, seq);
			if (why)
				break;
			bytes += rec->len;
			seq++;
			tail += ring_rec_size(rec->len);
		}
		/* Done with the record before the producer may reuse its room. */
		atomic_store(&ring->tail, tail);
		if (ring_wake(ring, &sr, RING_PRODUCER_SLEEPS)) {
			why = "notify failed";
			break;
		}
	}
	if (!why && expect && seq != expect)
		why = "message count differs from -n";
	if (why) {
		fprintf(stderr, "ring_consumer: at message %llu: %s\n", seq, why);
		return 1;
	}
	printf("ring_consumer: %llu messages, %llu payload bytes, in order, checksums ok\n",
	       seq, bytes);
	return 0;
}
