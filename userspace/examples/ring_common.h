/* SPDX-License-Identifier: GPL-2.0 */
/* What ring_producer and ring_consumer share beyond the layout in ring.h. */
#ifndef RING_COMMON_H
#define RING_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"
#include "simple_remap.h"

/* A peer silent for this long is taken to be gone. */
#define RING_PEER_TIMEOUT_MS	10000

/* Both programs' options, [-d DEVICE] [-n COUNT]; exits 2 on bad ones. */
static inline void ring_args(int argc, char **argv, const char **dev,
			     unsigned long long *count)
{
	char *end;
	int opt;

	while ((opt = getopt(argc, argv, "d:n:h")) != -1) {
		if (opt == 'd') {
			*dev = optarg;
			continue;
		}
		if (opt == 'n') {
			*count = strtoull(optarg, &end, 0);
			if (*optarg && !*end)
				continue;
		}
		fprintf(stderr, "usage: %s [-d DEVICE] [-n COUNT]\n", argv[0]);
		exit(2);
	}
}

static inline struct ring_hdr *ring_map(struct simple_remap *sr,
					const char *dev, const char *who)
{
	void *p;
	int ret;

	ret = simple_remap_open(sr, dev, O_RDWR);
	if (!ret)
		ret = simple_remap_map(sr, 0, 0, PROT_READ | PROT_WRITE, &p);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", who, dev ? dev : SIMPLE_REMAP_DEFAULT_PATH,
			strerror(-ret));
		return NULL;
	}
	return p;
}

/*
 * Sleep until ready(r) holds. Announce the sleep in r->sleepers and look
 * once more before poll(): the other side either sees the announcement and
 * notifies, or published before our second look. The acknowledgement comes
 * first, so a notification between the look and poll() still wakes us.
 */
static inline int ring_sleep_until(struct ring_hdr *r, struct simple_remap *sr,
				   uint32_t me,
				   bool (*ready)(struct ring_hdr *r))
{
	int ret = 0;

	while (!ready(r)) {
		ret = simple_remap_ack(sr, NULL);
		if (ret)
			break;
		atomic_fetch_or(&r->sleepers, me);
		if (!ready(r))
			ret = simple_remap_wait(sr, RING_PEER_TIMEOUT_MS);
		atomic_fetch_and(&r->sleepers, ~me);
		if (ret)
			break;
	}
	return ret;
}

/* Wake the other side if it announced that it sleeps. */
static inline int ring_wake(struct ring_hdr *r, struct simple_remap *sr,
			    uint32_t other)
{
	if (!(atomic_load(&r->sleepers) & other))
		return 0;
	if (!(atomic_fetch_and(&r->sleepers, ~other) & other))
		return 0;
	return simple_remap_notify(sr, NULL);
}

#endif /* RING_COMMON_H */
