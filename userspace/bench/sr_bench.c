// SPDX-License-Identifier: GPL-2.0
/*
 * sr_bench: what mapping the simple_remap buffer costs and buys, measured
 * against what users would otherwise pick (anonymous memory, a memfd, a
 * pipe, a futex), side by side in one run. Absolute numbers under emulation
 * are noise: every result is a ratio of two variants measured alternately
 * (A/B/A/B...) in the same round, reported as the median over the rounds
 * with the spread (min..max). Pinned to CPU 0.
 *
 *	sr_bench [-r ROUNDS] ratios	R1-R6 on the loaded module (size >= 256M)
 *	sr_bench latency		notification round trip vs pipe and futex
 *	sr_bench scale			setup and bandwidth at the loaded size
 *
 * Besides the table, each result is a line "csv,<fields>" for the plots.
 */
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simple_remap.h"

#define MIB		(1024ull * 1024)
#define MAX_ROUNDS	64

static int rounds = 7;
static struct simple_remap sr;
static const char *mode = "?";
static volatile uint64_t sink;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median, min and max of @n ratios; one table row and one csv line. */
static void report(const char *id, const char *what, double *r, int n,
		   const char *target, bool met)
{
	double s[MAX_ROUNDS];

	memcpy(s, r, n * sizeof(*r));
	qsort(s, n, sizeof(*s), cmp_double);
	printf("%-4s %-52s %7.3f  [%6.3f %6.3f]  %-10s %s\n", id, what, s[n / 2],
	       s[0], s[n - 1], target, !*target ? "" : met ? "met" : "NOT MET");
	printf("csv,ratio,%s,%s,%s,%.4f,%.4f,%.4f\n", mode, id, what, s[n / 2], s[0], s[n - 1]);
}

static double median(double *r, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, r, n * sizeof(*r));
	qsort(s, n, sizeof(*s), cmp_double);
	return s[n / 2];
}

/* ---- memory under test ---- */

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap anon");
	memset(p, 1, len);
	return p;
}

static int memfd_of(size_t len)
{
	int fd = memfd_create("sr_bench", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)len))
		die("memfd");
	return fd;
}

static void *map_memfd_at(int fd, size_t off, size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | flags, fd, (off_t)off);

	if (p == MAP_FAILED)
		die("mmap memfd");
	return p;
}

static void *map_memfd(int fd, size_t len, int flags)
{
	return map_memfd_at(fd, 0, len, flags);
}

static void *map_sr(size_t off, size_t len)
{
	void *p;
	int ret = simple_remap_map(&sr, off, len, PROT_READ | PROT_WRITE, &p);

	if (ret) {
		fprintf(stderr, "sr_bench: map: %s\n", strerror(-ret));
		exit(1);
	}
	return p;
}

/* ---- kernels: each returns bytes per second ---- */

static double bw_sum(const void *p, size_t len)
{
	const uint64_t *w = p;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	double t = now_s();
	size_t i;

	for (i = 0; i < len / 8; i += 4) {
		s0 += w[i];
		s1 += w[i + 1];
		s2 += w[i + 2];
		s3 += w[i + 3];
	}
	t = now_s() - t;
	sink += s0 + s1 + s2 + s3;
	return len / t;
}

static double bw_copy(void *dst, const void *src, size_t len)
{
	double t = now_s();

	memcpy(dst, src, len);
	t = now_s() - t;
	sink += ((volatile char *)dst)[len - 1];
	return len / t;
}

/* The last setup_touch()'s parts: mmap(), touching, munmap() (seconds). */
static double part_map, part_touch, part_unmap;

/* mmap() + touch every page; the seconds it took, and the minor faults. */
static double setup_touch(void *(*map)(void *), void *arg, size_t len, long *faults)
{
	struct rusage a, b;
	double t = now_s();
	char *p = map(arg);
	size_t i;

	part_map = now_s() - t;
	getrusage(RUSAGE_SELF, &a);
	for (i = 0; i < len; i += 4096)
		sink += ((volatile char *)p)[i];
	getrusage(RUSAGE_SELF, &b);
	t = now_s() - t;
	if (faults)
		*faults = b.ru_minflt - a.ru_minflt;
	part_touch = t - part_map;
	part_unmap = now_s();
	munmap(p, len);
	part_unmap = now_s() - part_unmap;
	return t;
}

struct map_arg {
	int fd;
	size_t off, len;
	int flags;
};

static void *setup_sr(void *a)
{
	struct map_arg *m = a;

	return map_sr(m->off, m->len);
}

static void *setup_memfd(void *a)
{
	struct map_arg *m = a;

	return map_memfd_at(m->fd, m->off, m->len, m->flags);
}

/* read() or write() of @len bytes in @chunk pieces at offset 0 of @fd. */
static double bw_rw(int fd, char *buf, size_t len, size_t chunk, bool write_it)
{
	double t = now_s();
	size_t done;

	for (done = 0; done < len; done += chunk) {
		ssize_t n = write_it ? pwrite(fd, buf, chunk, done) : pread(fd, buf, chunk, done);

		if (n != (ssize_t)chunk)
			die(write_it ? "pwrite" : "pread");
	}
	return len / (now_s() - t);
}

/* Reading in place through the mapping, @chunk at a time (sum it). */
static double bw_inplace(const char *p, size_t len, size_t chunk)
{
	double t = now_s();
	size_t done;

	for (done = 0; done < len; done += chunk)
		bw_sum(p + done, chunk);
	return len / (now_s() - t);
}

static void ratios(void)
{
	size_t len = 64 * MIB;
	double r[6][MAX_ROUNDS], a, b, c, d;
	long faults_sr = 0, faults_pop = 0, f;
	int i, k, memfd = memfd_of(len), big = memfd_of(len), big256 = memfd_of(256 * MIB);
	char *anon = map_anon(len), *src = map_anon(len), *mfd_fill;
	char *mfd = map_memfd(memfd, len, MAP_POPULATE);
	char *dev = map_sr(0, len), *buf = malloc(MIB);
	struct map_arg sr64 = { .off = 0, .len = len }, sr4 = { .off = 0, .len = 4 * MIB };
	struct map_arg sr256 = { .off = 0, .len = 256 * MIB };
	struct map_arg pop = { .fd = big, .len = len, .flags = MAP_POPULATE };
	struct map_arg lazy = { .fd = big, .len = len };
	struct map_arg pop256 = { .fd = big256, .len = 256 * MIB, .flags = MAP_POPULATE };
	struct map_arg pop4 = { .fd = big256, .len = 4 * MIB, .flags = MAP_POPULATE };
	static const size_t chunks[] = { 4096, 64 * 1024, MIB };

	memset(mfd, 1, len);
	memset(dev, 1, len);
	memset(buf, 2, MIB);
	printf("\nratios, map_mode=%s, %d rounds, buffer in %u chunks\n%-4s %-52s %7s  %-15s  %-10s\n",
	       mode, rounds, sr.info.nr_chunks, "id", "ratio", "median", "[min    max]", "target");

	for (i = 0; i < rounds; i++) {
		r[0][i] = bw_sum(dev, len) / bw_sum(anon, len);
		r[4][i] = bw_sum(dev, len) / bw_sum(mfd, len);
		r[1][i] = bw_copy(dev, src, len) / bw_copy(anon, src, len);
		r[5][i] = bw_copy(src, dev, len) / bw_copy(src, anon, len);
		r[3][i] = bw_copy(dev, src, len) / bw_copy(mfd, src, len);
		r[2][i] = bw_copy(src, dev, len) / bw_copy(src, mfd, len);
	}
	report("R1", "sum loop: simple_remap / anonymous", r[0], rounds, ">= 0.95",
	       median(r[0], rounds) >= 0.95);
	report("R1", "sum loop: simple_remap / memfd", r[4], rounds, "", true);
	report("R2", "memcpy into simple_remap / into anonymous", r[1], rounds, ">= 0.95",
	       median(r[1], rounds) >= 0.95);
	report("R2", "memcpy out of simple_remap / out of anonymous", r[5], rounds, ">= 0.95",
	       median(r[5], rounds) >= 0.95);
	report("R2", "memcpy into simple_remap / into memfd", r[3], rounds, ">= 0.95",
	       median(r[3], rounds) >= 0.95);
	report("R2", "memcpy out of simple_remap / out of memfd", r[2], rounds, ">= 0.95",
	       median(r[2], rounds) >= 0.95);

	/*
	 * R3, R4: setup of 64 MiB, mmap + touch every page. The memfd's pages
	 * exist (filled once, here): its first-touch faults only map them.
	 */
	mfd_fill = map_memfd(big, len, 0);
	memset(mfd_fill, 3, len);
	munmap(mfd_fill, len);
	mfd_fill = map_memfd(big256, 256 * MIB, 0);
	memset(mfd_fill, 3, 256 * MIB);
	munmap(mfd_fill, 256 * MIB);
	for (i = 0; i < rounds; i++) {
		a = setup_touch(setup_sr, &sr64, len, &f);
		faults_sr += f;
		b = setup_touch(setup_memfd, &pop, len, &f);
		faults_pop += f;
		r[0][i] = a / b;
		c = setup_touch(setup_memfd, &lazy, len, NULL);
		r[1][i] = a / c;
	}
	report("R3", "setup 64M: simple_remap / memfd MAP_POPULATE", r[0], rounds, "<= 1.0",
	       median(r[0], rounds) <= 1.0);
	printf("R3   minor faults while touching 64M, per round: simple_remap %ld, memfd MAP_POPULATE %ld\n",
	       faults_sr / rounds, faults_pop / rounds);
	printf("csv,faults,%s,%ld,%ld\n", mode, faults_sr / rounds, faults_pop / rounds);
	report("R4", "setup 64M: simple_remap / memfd first-touch faults", r[1], rounds, "<= 0.7",
	       median(r[1], rounds) <= 0.7);
	if (!strcmp(mode, "fault"))
		printf("R3   R4: map_mode=fault maps each page on first touch, by design: it is the lazy mode\n");

	/*
	 * R5: linear setup cost. The 4M setup is timed at 16 windows spread
	 * over the 256M (one alone is within timer noise, and one window
	 * timed again and again would be hot in the caches where the 256M
	 * run is cold). The control is the same ratio for a populated memfd
	 * mapped with MAP_POPULATE: what this machine makes of linear work.
	 */
	for (i = 0; i < rounds; i++) {
		double parts[3], parts4[3] = { 0 };

		a = setup_touch(setup_sr, &sr256, 256 * MIB, NULL);
		parts[0] = part_map, parts[1] = part_touch, parts[2] = part_unmap;
		c = setup_touch(setup_memfd, &pop256, 256 * MIB, NULL);
		for (b = 0, d = 0, k = 0; k < 16; k++) {
			sr4.off = pop4.off = k * 16 * MIB;
			b += setup_touch(setup_sr, &sr4, 4 * MIB, NULL) / 16;
			parts4[0] += part_map / 16, parts4[1] += part_touch / 16;
			parts4[2] += part_unmap / 16;
			d += setup_touch(setup_memfd, &pop4, 4 * MIB, NULL) / 16;
		}
		r[0][i] = a / b;
		r[1][i] = c / d;
		for (k = 0; k < 3; k++)
			r[2 + k][i] = parts[k] / parts4[k];
	}
	report("R5", "setup 256M / setup 4M (64 is linear)", r[0], rounds, "51..77",
	       median(r[0], rounds) >= 51.2 && median(r[0], rounds) <= 76.8);
	report("R5", "control: the same for memfd MAP_POPULATE", r[1], rounds, "", true);
	report("R5", "its parts: mmap() 256M / 4M", r[2], rounds, "", true);
	report("R5", "its parts: touching 256M / 4M", r[3], rounds, "", true);
	report("R5", "its parts: munmap() 256M / 4M (not in setup)", r[4], rounds, "", true);

	/* R6: read()/write() on the device vs on a memfd, 1 MiB chunks. */
	for (i = 0; i < rounds; i++) {
		r[0][i] = bw_rw(sr.fd, buf, len, MIB, false) / bw_rw(memfd, buf, len, MIB, false);
		r[1][i] = bw_rw(sr.fd, buf, len, MIB, true) / bw_rw(memfd, buf, len, MIB, true);
	}
	report("R6", "read() 1M chunks: device / memfd", r[0], rounds, ">= 0.8",
	       median(r[0], rounds) >= 0.8);
	report("R6", "write() 1M chunks: device / memfd", r[1], rounds, ">= 0.8",
	       median(r[1], rounds) >= 0.8);
	for (k = 0; k < 3; k++) {
		char what[64];

		for (i = 0; i < rounds; i++)
			r[0][i] = bw_inplace(dev, len, chunks[k]) /
				  bw_rw(sr.fd, buf, len, chunks[k], false);
		snprintf(what, sizeof(what), "in place via mapping / read() in %zuK chunks",
			 chunks[k] / 1024);
		report("R6", what, r[0], rounds, "", true);
	}
}

/* ---- latency: a ping-pong round trip between two processes ---- */

#define TRIPS 2000

static void futex_wait(uint32_t *w, uint32_t v)
{
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == v)
		syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0);
}

static void futex_post(uint32_t *w)
{
	__atomic_add_fetch(w, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* The seconds per round trip; kind 0: device, 1: pipe, 2: futex. */
static double pingpong(int kind)
{
	int p2c[2], c2p[2], memfd = memfd_of(4096), i, status;
	uint32_t *w = map_memfd(memfd, 4096, MAP_POPULATE);
	struct simple_remap me, peer;
	double t;
	pid_t pid;
	char c = 0;

	if (pipe(p2c) || pipe(c2p))
		die("pipe");
	w[0] = w[1] = 0;
	if (kind == 0 && (simple_remap_open(&me, NULL, O_RDWR) || simple_remap_open(&peer, NULL, O_RDWR)))
		die("open");
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < TRIPS; i++) {
			if (kind == 0) {
				simple_remap_wait(&peer, -1);
				simple_remap_ack(&peer, NULL);
				simple_remap_notify(&peer, NULL);
			} else if (kind == 1) {
				if (read(p2c[0], &c, 1) != 1 || write(c2p[1], &c, 1) != 1)
					_exit(1);
			} else {
				futex_wait(&w[0], (uint32_t)i);
				futex_post(&w[1]);
			}
		}
		_exit(0);
	}
	t = now_s();
	for (i = 0; i < TRIPS; i++) {
		if (kind == 0) {
			simple_remap_notify(&me, NULL);
			simple_remap_wait(&me, -1);
			simple_remap_ack(&me, NULL);
		} else if (kind == 1) {
			if (write(p2c[1], &c, 1) != 1 || read(c2p[0], &c, 1) != 1)
				die("pipe ping");
		} else {
			futex_post(&w[0]);
			futex_wait(&w[1], (uint32_t)i);
		}
	}
	t = (now_s() - t) / TRIPS;
	waitpid(pid, &status, 0);
	if (kind == 0) {
		simple_remap_close(&me);
		simple_remap_close(&peer);
	}
	close(p2c[0]), close(p2c[1]), close(c2p[0]), close(c2p[1]);
	munmap(w, 4096);
	close(memfd);
	return t;
}

static void latency(void)
{
	double dev[MAX_ROUNDS], pipe_[MAX_ROUNDS], fut[MAX_ROUNDS], r1[MAX_ROUNDS], r2[MAX_ROUNDS];
	int i;

	for (i = 0; i < rounds; i++) {
		dev[i] = pingpong(0);
		pipe_[i] = pingpong(1);
		fut[i] = pingpong(2);
		r1[i] = dev[i] / fut[i];
		r2[i] = dev[i] / pipe_[i];
	}
	printf("\nround trip between two processes on one CPU, %d trips a round:\n", TRIPS);
	printf("  device notify+poll %.1f us, pipe %.1f us, memfd futex %.1f us (medians; absolute times are emulation noise)\n",
	       median(dev, rounds) * 1e6, median(pipe_, rounds) * 1e6, median(fut, rounds) * 1e6);
	report("L1", "round trip: device notification / memfd futex", r1, rounds, "<= 2.0",
	       median(r1, rounds) <= 2.0);
	report("L1", "round trip: device notification / pipe", r2, rounds, "", true);
}

/* ---- scale: the loaded buffer's whole size ---- */

static void scale(void)
{
	size_t len = sr.info.size, i;
	struct map_arg all = { .off = 0, .len = len };
	double setup[MAX_ROUNDS], fill[MAX_ROUNDS], sum[MAX_ROUNDS];
	uint64_t *p;
	int k;

	for (k = 0; k < rounds; k++) {
		setup[k] = setup_touch(setup_sr, &all, len, NULL);
		p = map_sr(0, len);
		fill[k] = now_s();
		for (i = 0; i < len / 8; i++)
			p[i] = i;
		fill[k] = len / (now_s() - fill[k]);
		sum[k] = bw_sum(p, len);
		for (i = 0; i < len / 8; i += 4099)
			if (p[i] != i) {
				fprintf(stderr, "sr_bench: verify failed at word %zu\n", i);
				exit(1);
			}
		munmap(p, len);
	}
	printf("scale %s: %zu bytes in %u chunks: setup %.3f ms, fill %.0f MB/s, sum %.0f MB/s (verified)\n",
	       mode, len, sr.info.nr_chunks, median(setup, rounds) * 1e3,
	       median(fill, rounds) / 1e6, median(sum, rounds) / 1e6);
	printf("csv,scale,%s,%zu,%u,%.6f,%.1f,%.1f\n", mode, len, sr.info.nr_chunks,
	       median(setup, rounds), median(fill, rounds) / 1e6, median(sum, rounds) / 1e6);
}

int main(int argc, char **argv)
{
	cpu_set_t cpu;
	FILE *f;
	char m[64] = "";
	int opt;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r' || (rounds = atoi(optarg)) < 3 || rounds > MAX_ROUNDS) {
			fprintf(stderr, "usage: %s [-r ROUNDS (3..%d)] ratios|latency|scale\n",
				argv[0], MAX_ROUNDS);
			return 2;
		}
	}
	if (optind >= argc)
		return 2;
	CPU_ZERO(&cpu);
	CPU_SET(0, &cpu);
	if (sched_setaffinity(0, sizeof(cpu), &cpu))
		die("sched_setaffinity");
	f = fopen("/sys/module/simple_remap/parameters/map_mode", "r");
	/* "[remap] pages fault": the active mode is bracketed. */
	if (f && fgets(m, sizeof(m), f) && strchr(m, '[') && strchr(m, ']'))
		*strchr(m, ']') = 0, mode = strchr(m, '[') + 1;
	if (f)
		fclose(f);
	if (simple_remap_open(&sr, NULL, O_RDWR))
		die("open /dev/simple_remap");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[optind], "ratios"))
		ratios();
	else if (!strcmp(argv[optind], "latency"))
		latency();
	else if (!strcmp(argv[optind], "scale"))
		scale();
	else
		return 2;
	return 0;
}
