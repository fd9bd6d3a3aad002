// SPDX-License-Identifier: GPL-2.0
/*
 * ring_producer: create a message ring in the simple_remap buffer and send
 * COUNT variable-sized, checksummed messages through it to ring_consumer,
 * then an end marker; wait until all is consumed and close the ring.
 *
 *	ring_consumer -n 1000000 & ring_producer -n 1000000; wait
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "ring_common.h"

static struct ring_hdr *ring;
static uint64_t head;	/* the producer alone moves ring->head: its copy */
static uint64_t need;	/* room the next record takes, wrap included */

static bool ring_has_room(struct ring_hdr *r)
{
	return r->capacity - (atomic_load(&r->head) - atomic_load(&r->tail)) >= need;
}

static bool ring_drained(struct ring_hdr *r)
{
	return atomic_load(&r->tail) == atomic_load(&r->head);
}

/* Reserve room for a @len-byte message; its record, or NULL on error. */
static struct ring_rec *ring_reserve(struct simple_remap *sr, uint32_t len)
{
	uint64_t pos = head % ring->capacity, rest = ring->capacity - pos;
	struct ring_rec *rec;

	/* A record never wraps: if it does not fit before the end, skip there. */
	need = ring_rec_size(len);
	if (rest < need)
		need += rest;
	if (ring_sleep_until(ring, sr, RING_PRODUCER_SLEEPS, ring_has_room))
		return NULL;
	if (rest < ring_rec_size(len)) {
		rec = (struct ring_rec *)(ring->data + pos);
		rec->len = RING_WRAP;
		head += rest;
		pos = 0;
	}
	return (struct ring_rec *)(ring->data + pos);
}

/*
 * Make the record (and a wrap marker before it) visible: both are fully
 * written before head moves past them.
 */
static int ring_publish(struct simple_remap *sr, uint32_t len)
{
	head += ring_rec_size(len);
	atomic_store(&ring->head, head);
	return ring_wake(ring, sr, RING_CONSUMER_SLEEPS);
}

static int ring_send(struct simple_remap *sr, uint64_t seq)
{
	uint32_t len = ring_msg_len(seq);
	struct ring_rec *rec = ring_reserve(sr, len);

	if (!rec)
		return -1;
	ring_msg_fill((unsigned char *)(rec + 1), seq, len);
	rec->sum = ring_sum((unsigned char *)(rec + 1), len);
	rec->len = len;
	return ring_publish(sr, len);
}

static int ring_create(struct simple_remap *sr)
{
	atomic_store(&ring->magic, 0);
	ring->version = RING_VERSION;
	ring->capacity = (sr->info.size - sizeof(*ring)) & ~7ull;
	head = 0;
	atomic_store(&ring->head, 0);
	atomic_store(&ring->tail, 0);
	atomic_store(&ring->sleepers, 0);
	atomic_store(&ring->magic, RING_MAGIC);
	return simple_remap_notify(sr, NULL);
}

static int ring_close(struct simple_remap *sr)
{
	struct ring_rec *rec = ring_reserve(sr, 0);

	if (!rec)
		return -1;
	rec->len = RING_EOF;
	if (ring_publish(sr, 0))
		return -1;
	need = 0;
	if (ring_sleep_until(ring, sr, RING_PRODUCER_SLEEPS, ring_drained))
		return -1;
	atomic_store(&ring->magic, 0);
	return simple_remap_notify(sr, NULL);
}

int main(int argc, char **argv)
{
	const char *dev = NULL;
	unsigned long long count = 1000, seq = 0;
	struct simple_remap sr;

	ring_args(argc, argv, &dev, &count);
	ring = ring_map(&sr, dev, "ring_producer");
	if (!ring)
		return 1;
	if (ring_create(&sr))
		goto fail;
	for (seq = 0; seq < count; seq++)
		if (ring_send(&sr, seq))
			goto fail;
	if (ring_close(&sr))
		goto fail;
	printf("ring_producer: sent %llu messages\n", count);
	return 0;
fail:
	fprintf(stderr, "ring_producer: stopped after %llu messages: %s\n",
		seq, errno ? strerror(errno) : "consumer gone");
	return 1;
}
