// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency and data integrity: more writer processes than CPUs each own a
 * stripe of the buffer and write checksummed records into it, alternately
 * through their mapping and through pwrite(), reading each back the other
 * way; meanwhile other processes map and unmap, seek, read, query and
 * notify in a loop. At the end every record of every stripe must verify.
 * SR_STRESS_SECONDS sets the duration (default 3).
 */
#include <time.h>

#include "sr_test.h"

struct record {
	uint64_t seq;
	uint64_t writer;
	uint64_t payload[5];
	uint64_t sum;
};

static uint64_t record_sum(const struct record *r)
{
	uint64_t h = 0xcbf29ce484222325ull, i;
	const uint64_t *w = (const uint64_t *)r;

	for (i = 0; i < 7; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return h;
}

static void record_make(struct record *r, uint64_t writer, uint64_t seq)
{
	int i;

	r->seq = seq;
	r->writer = writer;
	for (i = 0; i < 5; i++)
		r->payload[i] = seq * 31 + writer * 7 + i;
	r->sum = record_sum(r);
}

static int stress_seconds(void)
{
	const char *s = getenv("SR_STRESS_SECONDS");

	return s ? atoi(s) : 3;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writer @w: its stripe, @nslots records; exit status 0 if all verified. */
static int writer(struct __test_metadata *_metadata, uint64_t w, uint64_t stripe, double deadline, uint64_t *rounds)
{
	uint64_t nslots = stripe / sizeof(struct record), *last, k, slot;
	int fd = sr_open(_metadata, O_RDWR);
	struct record r, back;
	char *p = sr_mmap(_metadata, fd, stripe, PROT_READ | PROT_WRITE, w * stripe);
	struct record *recs = (struct record *)p;
	off_t base = (off_t)(w * stripe);

	last = calloc(nslots, sizeof(*last));
	for (k = 1; now() < deadline || k <= nslots; k++) {
		slot = (k * 7919) % nslots;
		record_make(&r, w, k);
		if (k & 1) {
			memcpy(&recs[slot], &r, sizeof(r));
			if (pread(fd, &back, sizeof(back), base + slot * sizeof(r)) != sizeof(back))
				return 1;
		} else {
			if (pwrite(fd, &r, sizeof(r), base + slot * sizeof(r)) != sizeof(r))
				return 2;
			memcpy(&back, &recs[slot], sizeof(back));
		}
		if (memcmp(&back, &r, sizeof(r)))
			return 3;
		last[slot] = k;
	}
	for (slot = 0; slot < nslots; slot++) {
		back = recs[slot];
		if (last[slot] && (back.writer != w || back.seq != last[slot] ||
				   back.sum != record_sum(&back)))
			return 4;
	}
	*rounds = k;
	return 0;
}

/* Map, unmap, seek, read, query and notify, anywhere, until the deadline. */
static int chaos(struct __test_metadata *_metadata, unsigned int seed, double deadline)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t size = sr_info(_metadata, fd).size, ps = sr_page_size(), pages = size / ps;
	char buf[256];
	__u64 seq;

	while (now() < deadline) {
		uint64_t off = rand_r(&seed) % pages, n = 1 + rand_r(&seed) % (pages - off);
		void *p = mmap(NULL, n * ps, PROT_READ, MAP_SHARED, fd, off * ps);

		if (p == MAP_FAILED)
			return 1;
		munmap(p, n * ps);
		if (lseek(fd, rand_r(&seed) % size, SEEK_SET) < 0 || read(fd, buf, sizeof(buf)) < 0)
			return 2;
		sr_info(_metadata, fd);
		if (ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, &seq) || ioctl(fd, SIMPLE_REMAP_IOC_ACK, &seq))
			return 3;
	}
	return 0;
}

TEST_F(sr, stripes_stay_intact_under_concurrent_abuse)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int writers = 2 * cpus + 2, chaoses = 2, i, status, bad = 0;
	uint64_t size = sr_size(_metadata), stripe;
	double deadline = now() + stress_seconds();
	pid_t pids[64];

	if (writers > 48)
		writers = 48;
	stripe = size / writers / sr_page_size() * sr_page_size();
	ASSERT_TRUE(stripe >= (uint64_t)sr_page_size());
	for (i = 0; i < writers + chaoses; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			uint64_t rounds = 0;
			int ret = i < writers ? writer(_metadata, i, stripe, deadline, &rounds) :
						chaos(_metadata, i, deadline);

			if (i < writers)
				printf("# writer %d: %llu records, %s\n", i,
				       (unsigned long long)rounds, ret ? "CORRUPT" : "verified");
			fflush(stdout);
			_exit(ret);
		}
	}
	for (i = 0; i < writers + chaoses; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# process %d failed with status %#x\n", i, status);
			bad++;
		}
	}
	ASSERT_EQ(0, bad);
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
