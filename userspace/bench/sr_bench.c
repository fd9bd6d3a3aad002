// SPDX-License-Identifier: GPL-2.0
/*
 * sr_bench: what mapping the simple_remap buffer costs and buys, measured
 * against what users would otherwise pick (anonymous memory, a memfd, a
 * pipe, a futex), side by side in one run. Absolute numbers under emulation
 * are noise: every result is a ratio of two variants measured alternately
 * (A/B/A/B...) in the same round, reported as the median over the rounds
 * with the spread (min..max). Pinned to CPU 0.
 *
 *	sr_bench [-r ROUNDS] ratios	R1-R4, R6, R7 on the loaded module
 *					(size >= 256M); R5 comes from scale
 *	sr_bench latency		notification round trip vs pipe and futex
 *	sr_bench scale			setup and bandwidth at the loaded size
 *	sr_bench peers			the loaded buffer (1G) beside hugetlbfs,
 *					udmabuf and the dma-buf system heap
 *	sr_bench [-a] ptables		page-table memory, 1 to 64 processes
 *					(-a: the peers' too)
 *	sr_bench consumers		the kernel's consumers into the buffer:
 *					V4L2 DMABUF capture vs MMAP + memcpy,
 *					O_DIRECT into the mapping vs anonymous
 *					(as the kernel gives it; in 4 KiB pages)
 *
 * Besides the table, each result is a line "csv,<fields>" for the plots.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <linux/futex.h>
#include <linux/udmabuf.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simple_remap.h"
#include "vivid.h"

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

/* The last setup's parts: mmap(), touching (seconds). */
static double part_map, part_touch;

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
	munmap(p, len);
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

/* Sparse use: mmap(), touch one page in each MiB, munmap() (seconds). */
static double sparse_use(void *(*map)(void *), void *arg, size_t len)
{
	double t = now_s();
	char *p = map(arg);
	size_t i;

	for (i = 0; i < len; i += MIB)
		sink += ((volatile char *)p)[i];
	munmap(p, len);
	return now_s() - t;
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
	double r[6][MAX_ROUNDS], a, b, c;
	long faults_sr = 0, faults_pop = 0, f;
	int i, k, memfd = memfd_of(len), big = memfd_of(len), big256 = memfd_of(256 * MIB);
	char *anon = map_anon(len), *src = map_anon(len), *mfd_fill;
	char *mfd = map_memfd(memfd, len, MAP_POPULATE);
	char *dev = map_sr(0, len), *buf = malloc(MIB);
	struct map_arg sr64 = { .off = 0, .len = len };
	struct map_arg sr256 = { .off = 0, .len = 256 * MIB };
	struct map_arg pop = { .fd = big, .len = len, .flags = MAP_POPULATE };
	struct map_arg lazy = { .fd = big, .len = len };
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
	 * R7: sparse use of a large buffer, against the lazy memfd (whose
	 * pages exist): a mode that makes every PTE at mmap() time pays for
	 * the pages it never touches.
	 */
	lazy.len = 256 * MIB, lazy.fd = big256;
	for (i = 0; i < rounds; i++)
		r[0][i] = sparse_use(setup_sr, &sr256, 256 * MIB) /
			  sparse_use(setup_memfd, &lazy, 256 * MIB);
	report("R7", "sparse 256M, 1 page per MiB: simple_remap / memfd", r[0], rounds, "",
	       true);

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


/* Rows printed as csv after the table they belong to. */
struct csv_row {
	const char *id, *metric, *peer;
	double median, lo, hi;
};

static struct csv_row csv_rows[64];
static int nr_csv_rows;

/* The largest page-table entry a mapping gets (GET_INFO, ABI 3). */
static unsigned long long sr_granule(void)
{
	return sr.info.map_granule ? sr.info.map_granule : sr.info.page_size;
}

/* ---- peers: the whole buffer beside what else maps a large buffer ---- */

/*
 * Each peer is a file whose mmap() at offset 0 gives @len bytes whose
 * memory exists before the mapping: the device; a MFD_HUGETLB memfd (the
 * guest reserves hugepages= at boot), populated; the kernel's udmabuf over
 * a sealed memfd; a buffer of the system dma-buf heap. @why says why a
 * peer is missing on this kernel.
 */
struct peer {
	const char *name;
	int fd;
	const char *why;
};

enum { P_SR, P_HUGETLB, P_UDMABUF, P_HEAP, NR_PEERS };

static long meminfo_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

/* VmPTE in /proc/self/status, kB: this process's page tables. */
static long vm_pte_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPTE:", 6))
			v = atol(line + 6);
	if (f)
		fclose(f);
	return v;
}

static void touch_all(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		p[i] = 1;
}

static void peer_hugetlb(struct peer *pr, size_t len)
{
	char *p;
	int fd;

	if (meminfo_kb("HugePages_Free") * meminfo_kb("Hugepagesize") < (long)(len / 1024)) {
		pr->why = "too few hugepages= reserved";
		return;
	}
	fd = memfd_create("sr_bench", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd < 0 || ftruncate(fd, (off_t)len))
		die("hugetlb memfd");
	/* Populated: its pages exist before the mappings we time. */
	p = map_memfd(fd, len, 0);
	touch_all(p, len);
	munmap(p, len);
	pr->fd = fd;
}

static void peer_udmabuf(struct peer *pr, size_t len)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);

	if (dev < 0) {
		pr->why = "no /dev/udmabuf (CONFIG_UDMABUF)";
		return;
	}
	c.memfd = memfd_create("sr_bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if ((int)c.memfd < 0 || ftruncate(c.memfd, (off_t)len) ||
	    fcntl(c.memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		die("udmabuf's memfd");
	pr->fd = ioctl(dev, UDMABUF_CREATE, &c);
	if (pr->fd < 0)
		die("UDMABUF_CREATE");
	close(c.memfd);
	close(dev);
}

static void peer_heap(struct peer *pr, size_t len)
{
	struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);

	if (heap < 0) {
		pr->why = "no /dev/dma_heap/system (CONFIG_DMABUF_HEAPS_SYSTEM)";
		return;
	}
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
		die("DMA_HEAP_IOCTL_ALLOC");
	pr->fd = d.fd;
	close(heap);
}

static void peers_open(struct peer *p, size_t len)
{
	static const char *const names[NR_PEERS] = { "simple_remap", "hugetlb-memfd", "udmabuf",
						     "system-heap" };
	int k;

	for (k = 0; k < NR_PEERS; k++)
		p[k] = (struct peer){ .name = names[k], .fd = -1 };
	p[P_SR].fd = sr.fd;
	peer_hugetlb(&p[P_HUGETLB], len);
	peer_udmabuf(&p[P_UDMABUF], len);
	peer_heap(&p[P_HEAP], len);
}

/* The last peer_setup()'s second pass: writing each page again (seconds). */
static double part_touch2;

/*
 * The last peer_setup()'s first two writes alone (seconds): at the
 * mapping's start and at the next 1 GiB boundary, and how many of them
 * there were (1 if the mapping ends before). Each takes a fault: hugetlb's
 * maps one PMD; huge mode's maps every PMD of its page table page, so the
 * two map a whole 1 GiB mapping: 512 PMDs.
 */
static double part_first;
static int part_first_n;

/*
 * The last peer_setup()'s third pass: writing each page again after the
 * whole TLB was flushed (seconds). Under TCG the second pass finds each
 * 4 KiB page in QEMU's software TLB, filled by the first; the third fills
 * it again, as the first did, with every entry in place: no fault.
 */
static double part_touch3;

/*
 * A full TLB flush of this mm, from user space: an mprotect() of more
 * pages than x86 flushes one by one (33) flushes everything, and under
 * TCG that empties QEMU's software TLB too.
 */
static void tlb_flush_all(void)
{
	static char *scratch;
	size_t n = 64 * 4096;

	if (!scratch) {
		scratch = mmap(NULL, n, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (scratch == MAP_FAILED)
			die("mmap scratch");
	}
	if (mprotect(scratch, n, PROT_READ) || mprotect(scratch, n, PROT_READ | PROT_WRITE))
		die("mprotect scratch");
}

/*
 * mmap() + write every page + munmap() of @fd's first @len bytes: the
 * seconds to map and touch (the parts in part_map, part_touch), the minor
 * faults taken and the page-table kB the touched mapping added. Before the
 * munmap(), a second pass writes every page of the same mapping again,
 * with every entry in place: no fault (@faults2 says), the touching alone
 * (part_touch2, not in the setup); then a third after a full TLB flush
 * (part_touch3). The first two writes are timed apart (part_first).
 */
static double peer_setup(int fd, size_t len, long *faults, long *faults2, long *pte_kb)
{
	struct rusage a, b, c;
	double t0 = now_s(), t1, t2, t3, t4, tf;
	long pte = vm_pte_kb();
	size_t span;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap peer");
	t1 = now_s();
	getrusage(RUSAGE_SELF, &a);
	/* The first write, then the first at the next 1 GiB boundary. */
	span = ((((uintptr_t)p >> 30) + 1) << 30) - (uintptr_t)p;
	tf = now_s();
	p[0] = 1;
	if (span < len)
		p[span] = 1;
	part_first = now_s() - tf;
	part_first_n = span < len ? 2 : 1;
	touch_all(p, len);
	getrusage(RUSAGE_SELF, &b);
	t2 = now_s();
	touch_all(p, len);
	t3 = now_s();
	getrusage(RUSAGE_SELF, &c);
	*faults = b.ru_minflt - a.ru_minflt;
	*faults2 = c.ru_minflt - b.ru_minflt;
	*pte_kb = vm_pte_kb() - pte;
	tlb_flush_all();
	t4 = now_s();
	touch_all(p, len);
	part_touch3 = now_s() - t4;
	munmap(p, len);
	part_map = t1 - t0, part_touch = t2 - t1, part_touch2 = t3 - t2;
	return t2 - t0;
}

/*
 * One row of the peers table: each peer's median over the rounds of its
 * ratio to the hugetlb memfd, measured in the same round; a csv line each.
 */
static double peer_row(const char *id, const char *metric, const struct peer *p,
		       double (*v)[MAX_ROUNDS])
{
	double r[MAX_ROUNDS], ours = 0;
	int k, i;

	printf("%-4s %-30s", id, metric);
	for (k = 0; k < NR_PEERS; k++) {
		if (p[k].fd < 0 || p[P_HUGETLB].fd < 0) {
			printf(" %14s", "n/a");
			continue;
		}
		for (i = 0; i < rounds; i++)
			r[i] = v[k][i] / v[P_HUGETLB][i];
		qsort(r, rounds, sizeof(*r), cmp_double);
		printf(" %14.3f", r[rounds / 2]);
		if (k == P_SR)
			ours = r[rounds / 2];
		csv_rows[nr_csv_rows++] = (struct csv_row){ id, metric, p[k].name, r[rounds / 2],
							    r[0], r[rounds - 1] };
	}
	printf("\n");
	return ours;
}

/* A target on the loaded buffer's column, for the map_mode it was set for. */
static void peer_target(const char *id, const char *what, const char *for_mode, double v,
			const char *target, bool met)
{
	if (strcmp(mode, for_mode))
		return;
	printf("%-4s %-52s %7.3f  %-15s  %-10s %s\n", id, what, v, "", target,
	       met ? "met" : "NOT MET");
}

/* A row of counts (faults, page-table kB): the same in every round. */
static void peer_counts(const char *id, const char *metric, const struct peer *p, long *n)
{
	int k;

	printf("%-4s %-30s", id, metric);
	for (k = 0; k < NR_PEERS; k++) {
		if (p[k].fd < 0)
			printf(" %14s", "n/a");
		else
			printf(" %14ld", n[k]);
		if (p[k].fd >= 0)
			csv_rows[nr_csv_rows++] = (struct csv_row){ id, metric, p[k].name, n[k],
								    n[k], n[k] };
	}
	printf("\n");
}

/*
 * P4: what P1's setup is made of, from passes over the same, mapped,
 * mapping (no fault). The third pass, after a full TLB flush, is what a
 * fresh mapping's first pass pays without its faults: hugetlb's faults
 * cost its first pass less that one, and the floor is that pass against
 * its whole setup, the best P1 any mapping could reach. The second pass
 * runs with the TLB the first filled (under TCG, QEMU's software TLB,
 * which can hold every 4 KiB page of 1 GiB): no floor, shown beside.
 * Our setup is set against the floor, and against the fault time
 * hugetlb spends; huge mode's own faults are timed apart.
 */
static void peer_floor(double (*setup)[MAX_ROUNDS], double (*touch)[MAX_ROUNDS],
		       double (*touch2)[MAX_ROUNDS], double (*touch3)[MAX_ROUNDS],
		       const long *faults, double (*first)[MAX_ROUNDS],
		       double (*nfirst)[MAX_ROUNDS], size_t len)
{
	double cost[MAX_ROUNDS], floor_[MAX_ROUNDS], ours[MAX_ROUNDS], saved[MAX_ROUNDS];
	double our_cost[MAX_ROUNDS], our_pmd[MAX_ROUNDS], our_first[MAX_ROUNDS];
	double warm[MAX_ROUNDS], their_first[MAX_ROUNDS];
	double pmds = (double)(len / (2 * MIB));
	long hugetlb_faults = faults[P_HUGETLB];
	int i;

	for (i = 0; i < rounds; i++) {
		our_cost[i] = touch[P_SR][i] - touch3[P_SR][i];
		cost[i] = touch[P_HUGETLB][i] - touch3[P_HUGETLB][i];
		floor_[i] = touch3[P_HUGETLB][i] / setup[P_HUGETLB][i];
		warm[i] = touch2[P_HUGETLB][i] / setup[P_HUGETLB][i];
		ours[i] = setup[P_SR][i] / touch3[P_HUGETLB][i];
		saved[i] = (setup[P_HUGETLB][i] - setup[P_SR][i]) / cost[i];
		/* The 2 timed writes' faults map the whole of a mapping of <= 1 GiB. */
		our_first[i] = first[P_SR][i];
		our_pmd[i] = first[P_SR][i] * 1e6 / (pmds > 0 ? pmds : 1);
		their_first[i] = first[P_HUGETLB][i] / (nfirst[P_HUGETLB][i] > 0 ?
							nfirst[P_HUGETLB][i] : 1);
	}
	printf("P4   hugetlb's %ld faults cost %.2f ms (first pass less the pass after a TLB flush), %.2f us each; its setup %.2f ms, its 2nd pass %.2f ms, 3rd %.2f ms (medians)\n",
	       hugetlb_faults, median(cost, rounds) * 1e3,
	       median(cost, rounds) * 1e6 / (hugetlb_faults ? hugetlb_faults : 1),
	       median(setup[P_HUGETLB], rounds) * 1e3, median(touch2[P_HUGETLB], rounds) * 1e3,
	       median(touch3[P_HUGETLB], rounds) * 1e3);
	printf("P4   simple_remap's %ld faults cost %.2f ms (the same way), its 2nd pass %.2f ms, 3rd %.2f ms (medians)\n",
	       faults[P_SR], median(our_cost, rounds) * 1e3, median(touch2[P_SR], rounds) * 1e3,
	       median(touch3[P_SR], rounds) * 1e3);
	report("P4", "floor: hugetlb's pass after TLB flush / its setup", floor_, rounds,
	       "<= 0.9", median(floor_, rounds) <= 0.9);
	printf("P4   the floor is the best P1 a mapping taking no fault could reach: P1's <= 0.9 is within reach only if it is <= 0.9\n");
	report("P4", "setup: simple_remap / the floor", ours, rounds, "", true);
	report("P4", "not a floor: hugetlb's 2nd pass (TLB warm) / setup", warm, rounds, "",
	       true);
	/*
	 * huge mode's own fault work, timed directly rather than as the
	 * difference of two passes: the writes at the start and at the 1 GiB
	 * boundary take its 2 faults, which map all the PMDs of a 1 GiB
	 * mapping. Against it, the same writes to hugetlb: a fault, one PMD,
	 * each.
	 */
	if (!strcmp(mode, "huge") && len <= 1024 * MIB) {
		printf("P4   the 2 faults' own time: simple_remap %.2f ms for %.0f PMDs; hugetlb %.1f us a fault, for one PMD (medians)\n",
		       median(our_first, rounds) * 1e3, pmds, median(their_first, rounds) * 1e6);
		report("P4", "huge's 2 faults, timed: us a PMD they map", our_pmd, rounds, "",
		       true);
	}
	/* What huge mode's 2 faults for hugetlb's 512 buy: 1 is all of their time. */
	if (!strcmp(mode, "huge"))
		report("P4", "hugetlb's fault time saved: (hugetlb - ours) / cost", saved,
		       rounds, "", true);
}

/*
 * The loaded buffer (its whole size, 1G in make bench) beside the peers, in
 * one run: each round measures every peer in turn. P1 setup (mmap + write
 * every page) and its parts, P2 the faults and page-table memory it takes,
 * P3 sum and memcpy bandwidth over a populated mapping.
 */
static void peers(void)
{
	size_t len = sr.info.size;
	static double setup[NR_PEERS][MAX_ROUNDS], map[NR_PEERS][MAX_ROUNDS],
		touch[NR_PEERS][MAX_ROUNDS], touch2[NR_PEERS][MAX_ROUNDS],
		sum[NR_PEERS][MAX_ROUNDS], cpy[NR_PEERS][MAX_ROUNDS],
		first[NR_PEERS][MAX_ROUNDS], nfirst[NR_PEERS][MAX_ROUNDS],
		touch3[NR_PEERS][MAX_ROUNDS];
	long faults[NR_PEERS] = { 0 }, faults2[NR_PEERS] = { 0 }, pte[NR_PEERS] = { 0 };
	struct peer p[NR_PEERS];
	char *m[NR_PEERS] = { 0 }, *src = map_anon(len);
	double ours;
	int i, k;

	peers_open(p, len);
	printf("\npeers, map_mode=%s, %zu MiB, %d rounds, granule %llu KiB: each / hugetlb-memfd (medians)\n",
	       mode, (size_t)(len / MIB), rounds, sr_granule() / 1024);
	for (k = 0; k < NR_PEERS; k++)
		if (p[k].fd < 0)
			printf("     %s: n/a, %s\n", p[k].name, p[k].why);
	printf("%-4s %-30s", "id", "measure");
	for (k = 0; k < NR_PEERS; k++)
		printf(" %14s", p[k].name);
	printf("\n");

	for (i = 0; i < rounds; i++)
		for (k = 0; k < NR_PEERS; k++) {
			if (p[k].fd < 0)
				continue;
			setup[k][i] = peer_setup(p[k].fd, len, &faults[k], &faults2[k], &pte[k]);
			map[k][i] = part_map, touch[k][i] = part_touch, touch2[k][i] = part_touch2;
			first[k][i] = part_first, nfirst[k][i] = (double)part_first_n;
			touch3[k][i] = part_touch3;
		}
	ours = peer_row("P1", "setup: mmap + write each page", p, setup);
	peer_target("P1", "setup 1G: simple_remap / hugetlb memfd", "huge", ours, "<= 0.9",
		    ours <= 0.9);
	peer_row("P1", "its part: mmap()", p, map);
	peer_row("P1", "its part: writing each page", p, touch);
	peer_row("P1", "writing each page again", p, touch2);
	peer_row("P1", "again, after a full TLB flush", p, touch3);
	peer_counts("P2", "minor faults to touch it all", p, faults);
	peer_counts("P2", "minor faults, writing again", p, faults2);
	peer_counts("P2", "page tables added (KiB)", p, pte);
	if (p[P_HUGETLB].fd >= 0) {
		ours = (double)faults[P_SR] / faults[P_HUGETLB];
		peer_target("P2", "faults: simple_remap / hugetlb memfd", "huge", ours, "<= 1.2",
			    ours <= 1.2);
		ours = (double)pte[P_SR] / (pte[P_HUGETLB] ? pte[P_HUGETLB] : 1);
		peer_target("P2", "page tables: simple_remap / hugetlb memfd", "huge", ours,
			    "<= 2.0", ours <= 2.0);
	}

	if (p[P_HUGETLB].fd >= 0)
		peer_floor(setup, touch, touch2, touch3, faults, first, nfirst, len);

	for (k = 0; k < NR_PEERS; k++)
		if (p[k].fd >= 0) {
			m[k] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, p[k].fd, 0);
			if (m[k] == MAP_FAILED)
				die("mmap peer");
			memset(m[k], 1, len);
		}
	for (i = 0; i < rounds; i++)
		for (k = 0; k < NR_PEERS; k++)
			if (m[k]) {
				sum[k][i] = bw_sum(m[k], len);
				cpy[k][i] = bw_copy(m[k], src, len);
			}
	ours = peer_row("P3", "sum bandwidth", p, sum);
	peer_target("P3", "sum: simple_remap / hugetlb memfd", "huge", ours, ">= 0.95",
		    ours >= 0.95);
	ours = peer_row("P3", "memcpy into it, bandwidth", p, cpy);
	peer_target("P3", "memcpy: simple_remap / hugetlb memfd", "huge", ours, ">= 0.95",
		    ours >= 0.95);
	for (k = 0; k < nr_csv_rows; k++)
		printf("csv,peer,%s,%s,%s,%s,%.4f,%.4f,%.4f\n", mode, csv_rows[k].id,
		       csv_rows[k].metric, csv_rows[k].peer, csv_rows[k].median, csv_rows[k].lo,
		       csv_rows[k].hi);
	for (k = 0; k < NR_PEERS; k++) {
		if (m[k])
			munmap(m[k], len);
		if (k != P_SR && p[k].fd >= 0)
			close(p[k].fd);
	}
	munmap(src, len);
}

/*
 * Page-table memory for 1 to 64 processes each mapping the whole buffer
 * and touching every page, all mapped at once: the change of PageTables in
 * /proc/meminfo (system-wide, so hugetlb's shared page tables count once).
 * The peers too with -a (they do not change with the map_mode).
 */
static bool all_peers;

/*
 * Map @fd and touch it all (fd -1: map nothing, the baseline), say so on
 * @ready, hold the mapping until @go[0] reads EOF.
 */
static void ptables_child(int fd, size_t len, int ready, int go[2])
{
	char *m, c;

	close(go[1]); /* else our own copy would keep the EOF away */
	if (fd >= 0) {
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			_exit(1);
		touch_all(m, len);
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	close(ready); /* a child that died before writing: the parent reads EOF */
	_exit(read(go[0], &c, 1) < 0);
}

/* PageTables kB while @n children hold @fd's @len mapped and touched. */
static long ptables_of(int fd, size_t len, int n)
{
	int ready[2], go[2], status, i;
	long before = meminfo_kb("PageTables"), after;
	char c;

	if (pipe(ready) || pipe(go))
		die("pipe");
	for (i = 0; i < n; i++)
		if (fork() == 0)
			ptables_child(fd, len, ready[1], go);
	close(go[0]), close(ready[1]);
	for (i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			die("ptables: a child failed");
	after = meminfo_kb("PageTables");
	close(go[1]);
	for (i = 0; i < n; i++)
		wait(&status);
	close(ready[0]);
	return after - before;
}

static void ptables(void)
{
	static const int procs[] = { 1, 4, 16, 64 };
	size_t len = sr.info.size;
	struct peer p[NR_PEERS];
	long base, kb;
	int k, j;

	peers_open(p, len);
	for (k = 0; k < NR_PEERS; k++) {
		if (p[k].fd < 0 || (k != P_SR && !all_peers))
			continue;
		for (j = 0; j < (int)(sizeof(procs) / sizeof(procs[0])); j++) {
			/* Less what as many processes that map nothing take. */
			base = ptables_of(-1, len, procs[j]);
			kb = ptables_of(p[k].fd, len, procs[j]) - base;
			printf("ptables %s %s: %d processes, %zu MiB each: page tables %ld KiB\n",
			       mode, p[k].name, procs[j], (size_t)(len / MIB), kb);
			printf("csv,ptables,%s,%s,%d,%zu,%ld\n", mode, p[k].name, procs[j], len, kb);
		}
		if (k != P_SR)
			close(p[k].fd);
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

/* ---- consumers: the kernel's, into the buffer ---- */

/* A row that could not be measured as it should: the run fails. */
static bool failed;

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define CAM_BUFS	3
#define CAM_WARMUP	2
#define CAM_FRAMES	24
/* What a window holds before a frame lands in it. */
#define CAM_POISON	0xa5

/* vivid's capture node and the buffer's windows its frames land in. */
struct camera {
	int cam, bufs[CAM_BUFS];	/* the windows' dma-bufs */
	size_t size, stride;		/* a frame's bytes, a window's */
	char *win;			/* the windows, mapped */
};

/*
 * CAM_FRAMES frames after CAM_WARMUP: @copy false captures with
 * V4L2_MEMORY_DMABUF into the windows' dma-bufs, true into vivid's own
 * V4L2_MEMORY_MMAP buffers and memcpy()s each frame into its window. The
 * wall and the capturing thread's CPU seconds per frame into @wall, @cpu.
 * The windows are poisoned first: a frame must be in one after.
 */
static void camera_run(struct camera *c, bool copy, double *wall, double *cpu)
{
	struct v4l2_requestbuffers req = {
		.count = CAM_BUFS,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = copy ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF,
	};
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, i, ret;
	void *own[CAM_BUFS] = { NULL };
	size_t own_len[CAM_BUFS] = { 0 };
	struct v4l2_buffer b;
	struct pollfd pfd;
	double t = 0, c0 = 0;
	unsigned char *last = (unsigned char *)c->win;

	memset(c->win, CAM_POISON, CAM_BUFS * c->stride);
	if (ioctl(c->cam, VIDIOC_REQBUFS, &req) || req.count < CAM_BUFS)
		die("VIDIOC_REQBUFS");
	for (i = 0; i < CAM_BUFS; i++) {
		if (!copy) {
			if (vivid_qbuf_dmabuf(c->cam, i, c->bufs[i], c->stride))
				die("VIDIOC_QBUF (DMABUF)");
			continue;
		}
		b = (struct v4l2_buffer){ .index = i, .type = req.type, .memory = req.memory };
		if (ioctl(c->cam, VIDIOC_QUERYBUF, &b))
			die("VIDIOC_QUERYBUF");
		own_len[i] = b.length;
		own[i] = mmap(NULL, b.length, PROT_READ, MAP_SHARED, c->cam, b.m.offset);
		if (own[i] == MAP_FAILED || ioctl(c->cam, VIDIOC_QBUF, &b))
			die("vivid's MMAP buffer");
	}
	if (ioctl(c->cam, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON");
	for (i = -CAM_WARMUP; i < CAM_FRAMES; i++) {
		if (!i)
			t = now_s(), c0 = cpu_s();
		pfd = (struct pollfd){ .fd = c->cam, .events = POLLIN };
		if (poll(&pfd, 1, 10 * 1000) != 1)
			die("vivid: no frame in 10 s");
		b = (struct v4l2_buffer){ .type = req.type, .memory = req.memory };
		if (ioctl(c->cam, VIDIOC_DQBUF, &b) || b.index >= CAM_BUFS)
			die("VIDIOC_DQBUF");
		last = (unsigned char *)c->win + b.index * c->stride;
		if (copy)
			memcpy(last, own[b.index], b.bytesused);
		ret = copy ? ioctl(c->cam, VIDIOC_QBUF, &b) :
			     vivid_qbuf_dmabuf(c->cam, b.index, c->bufs[b.index], c->stride);
		if (ret)
			die("VIDIOC_QBUF");
	}
	*cpu = (cpu_s() - c0) / CAM_FRAMES;
	*wall = (now_s() - t) / CAM_FRAMES;
	if (ioctl(c->cam, VIDIOC_STREAMOFF, &type))
		die("VIDIOC_STREAMOFF");
	for (i = 0; i < CAM_BUFS; i++)
		if (own[i])
			munmap(own[i], own_len[i]);
	req.count = 0;
	if (ioctl(c->cam, VIDIOC_REQBUFS, &req))
		die("VIDIOC_REQBUFS 0");
	/* vivid's test pattern, not the poison, in the last frame's window. */
	if (last[0] == CAM_POISON && !memcmp(last, last + 1, c->size - 1)) {
		fprintf(stderr, "sr_bench: %s: no frame landed in the window\n",
			copy ? "MMAP + memcpy" : "DMABUF");
		exit(1);
	}
}

/*
 * V rows: vivid capturing into exported windows of the buffer (DMABUF)
 * against capturing into its own MMAP buffers and copying each frame into
 * the mapping, A/B in each round. vivid paces its frames (webcam input:
 * VIDIOC_S_PARM picks among fixed intervals, 1/60 s at the fastest), so
 * frames per second measure the pacing, not the path: the path's cost is
 * the capturing thread's CPU time per frame (poll, DQBUF, the copy, QBUF).
 * vivid renders each frame in its own kernel thread, into our pages through
 * the export's vmap or into its own vmalloc buffer: the same work in both,
 * not counted here.
 */
static void camera(void)
{
	struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	double fps[MAX_ROUNDS], path[MAX_ROUNDS], cpu_dmabuf[MAX_ROUNDS], cpu_copy[MAX_ROUNDS];
	double wall_dmabuf[MAX_ROUNDS], wall_copy[MAX_ROUNDS];
	struct camera c = { .cam = vivid_capture() };
	long ps = sysconf(_SC_PAGESIZE), size;
	int i, ret;

	if (c.cam < 0) {
		printf("V1   vivid: n/a, no vivid capture node (this kernel ships no vivid)\n");
		return;
	}
	size = vivid_set_format(c.cam, 640, 360);
	if (size < 0) {
		errno = -size;
		die("vivid: VIDIOC_S_FMT 640x360");
	}
	c.size = size;
	c.stride = (c.size + ps - 1) & ~(size_t)(ps - 1);
	/* The fastest interval vivid offers at this size (it rounds down to one). */
	parm.parm.capture.timeperframe = (struct v4l2_fract){ 1, 1000 };
	if (ioctl(c.cam, VIDIOC_S_PARM, &parm))
		die("vivid: VIDIOC_S_PARM");
	c.win = map_sr(0, CAM_BUFS * c.stride);
	for (i = 0; i < CAM_BUFS; i++) {
		ret = simple_remap_export(&sr, i * c.stride, c.stride, O_RDWR | O_CLOEXEC,
					  &c.bufs[i]);
		if (ret) {
			errno = -ret;
			die("SIMPLE_REMAP_IOC_EXPORT");
		}
	}
	/* A round not counted: under TCG a path's first run translates its code. */
	camera_run(&c, false, &wall_dmabuf[0], &cpu_dmabuf[0]);
	camera_run(&c, true, &wall_copy[0], &cpu_copy[0]);
	for (i = 0; i < rounds; i++) {
		camera_run(&c, false, &wall_dmabuf[i], &cpu_dmabuf[i]);
		camera_run(&c, true, &wall_copy[i], &cpu_copy[i]);
		fps[i] = wall_copy[i] / wall_dmabuf[i];
		path[i] = cpu_copy[i] / cpu_dmabuf[i];
	}
	printf("V1   vivid 640x360 YUYV, %zu bytes a frame, paced at %u/%u s (VIDIOC_S_PARM's fastest); %d frames a round each\n",
	       c.size, parm.parm.capture.timeperframe.numerator,
	       parm.parm.capture.timeperframe.denominator, CAM_FRAMES);
	report("V1", "frames/s, paced: DMABUF into windows / MMAP + memcpy", fps, rounds, "",
	       true);
	printf("V2   the path, not the pacing: the capturing thread's CPU time per frame, DMABUF %.1f us, MMAP + memcpy %.1f us\n",
	       median(cpu_dmabuf, rounds) * 1e6, median(cpu_copy, rounds) * 1e6);
	report("V2", "path frames/s (1 / CPU a frame): DMABUF / MMAP+copy", path, rounds, "",
	       true);
	printf("V3   copy avoided: %zu bytes a frame, %.1f MB/s at the %.1f frames/s measured\n",
	       c.size, c.size / median(wall_copy, rounds) / 1e6, 1 / median(wall_copy, rounds));
	printf("csv,camera,%s,%zu,%.4f,%.4f\n", mode, c.size, median(cpu_dmabuf, rounds),
	       median(cpu_copy, rounds));
	for (i = 0; i < CAM_BUFS; i++)
		close(c.bufs[i]);
	munmap(c.win, CAM_BUFS * c.stride);
	close(c.cam);
}

#define DISK "/dev/vda"

#define D_BUFS		3
#define D_PIECES	64
_Static_assert(D_PIECES <= MAX_ROUNDS, "median() takes at most MAX_ROUNDS");

/*
 * O_DIRECT read()s of @len bytes (at most D_PIECES @chunk pieces) from
 * offset 0 of @fd, each piece into its own place in each of the @n
 * buffers @buf in turn: the disk read into each whole buffer, every
 * buffer's piece right after the others'. @bw gets each buffer's bytes
 * per second over its median piece: a loaded host's stalls land on single
 * pieces and drop out, where a sum over the pieces would keep them.
 */
static void bw_read_into(int fd, char **buf, int n, size_t len, size_t chunk, double *bw)
{
	double t[D_BUFS][D_PIECES], t0;
	size_t done;
	int j, k, i;

	for (done = 0, i = 0; done < len && i < D_PIECES; done += chunk, i++)
		for (j = 0; j < n; j++) {
			/* Each buffer first in turn: no place in the order is its own. */
			k = (i + j) % n;
			t0 = now_s();
			if (pread(fd, buf[k] + done, chunk, done) != (ssize_t)chunk)
				die("pread");
			t[k][i] = now_s() - t0;
		}
	for (k = 0; k < n; k++)
		bw[k] = chunk / median(t[k], i);
}

/* The AnonHugePages (kB) of the VMA holding @p, -1 if smaps says none. */
static long anon_huge_kb(const void *p)
{
	unsigned long start, end;
	char line[512];
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		/* A VMA's first line: "start-end perms ...". */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= start && (uintptr_t)p < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

/* Anonymous memory in 4 KiB pages only, populated. */
static void *map_anon_small(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap anon");
	/* EINVAL: a kernel without THP, whose pages are all 4 KiB anyway. */
	if (madvise(p, len, MADV_NOHUGEPAGE) && errno != EINVAL)
		die("madvise(MADV_NOHUGEPAGE)");
	memset(p, 1, len);
	return p;
}

/*
 * D1: O_DIRECT reads of the scratch disk (qemu.sh's 64 MiB /dev/vda) in
 * 1 MiB pieces into the mapping against into anonymous memory, where the
 * map_mode's pages can be pinned (pages, fault); each piece lands in its
 * own MiB of the buffer. The anonymous memory is as the kernel gives it:
 * with THP "always" (Debian's default), 2 MiB folios, where a 1 MiB read
 * pins, dirties and releases one folio against 256 of the buffer's 4 KiB
 * tmpfs pages. D2 compares like with like: anonymous memory in 4 KiB
 * pages (MADV_NOHUGEPAGE). remap and huge are VM_PFNMAP: GUP refuses
 * them, so the read must fail with EFAULT, and it is said rather than
 * measured.
 */
static void direct_io(void)
{
	bool pinnable = !strcmp(mode, "pages") || !strcmp(mode, "fault");
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	double r[MAX_ROUNDS], r4k[MAX_ROUNDS], ours[MAX_ROUNDS], anon[MAX_ROUNDS];
	double small_bw[MAX_ROUNDS], bw[D_BUFS];
	char *dst, *src, *small, *bufs[D_BUFS];
	long huge_kb, small_huge_kb;
	size_t len;
	off_t end;
	int disk, i;

	/* The disk's probe may come a moment after virtio_blk's load. */
	for (i = 0; i < 1000 && access(DISK, F_OK); i++)
		nanosleep(&tick, NULL);
	disk = open(DISK, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (disk < 0) {
		printf("D1   O_DIRECT: n/a, no %s (%s: this kernel ships no virtio_blk)\n", DISK,
		       strerror(errno));
		return;
	}
	end = lseek(disk, 0, SEEK_END);
	len = end < (off_t)(64 * MIB) ? (size_t)end & ~(MIB - 1) : 64 * MIB;
	if (len < MIB || len > sr.info.size)
		die("scratch disk: too small, or larger than the buffer");
	src = map_anon(len);
	dst = map_sr(0, len);
	memset(dst, 0, len);
	for (i = 0; i < (int)MIB; i++)
		src[i] = (char)(i * 131 + (i >> 8));
	if (pwrite(disk, src, MIB, 0) != (ssize_t)MIB)
		die("O_DIRECT pwrite to the scratch disk");
	if (!pinnable) {
		errno = 0;
		if (pread(disk, dst, MIB, 0) == -1 && errno == EFAULT) {
			printf("D1   O_DIRECT into simple_remap: refused, EFAULT (map_mode=%s is VM_PFNMAP: GUP cannot pin it); not measured\n",
			       mode);
		} else {
			printf("D1   O_DIRECT into simple_remap, map_mode=%s: expected EFAULT, got %s: NOT MET\n",
			       mode, errno ? strerror(errno) : "data");
			failed = true;
		}
		goto out;
	}
	/* The disk's bytes must arrive in the mapping. */
	if (pread(disk, dst, MIB, 0) != (ssize_t)MIB || memcmp(dst, src, MIB)) {
		fprintf(stderr, "sr_bench: O_DIRECT read into the mapping: wrong or no data\n");
		exit(1);
	}
	small = map_anon_small(len);
	bufs[0] = dst;
	bufs[1] = src;
	bufs[2] = small;
	/* A pass not counted, as the camera's first round. */
	bw_read_into(disk, bufs, D_BUFS, len, MIB, bw);
	for (i = 0; i < rounds; i++) {
		bw_read_into(disk, bufs, D_BUFS, len, MIB, bw);
		ours[i] = bw[0];
		anon[i] = bw[1];
		small_bw[i] = bw[2];
		r[i] = ours[i] / anon[i];
		r4k[i] = ours[i] / small_bw[i];
	}
	huge_kb = anon_huge_kb(src);
	small_huge_kb = anon_huge_kb(small);
	printf("D1   O_DIRECT read, %zu MiB in 1 MiB pieces, each into the three buffers in turn: into simple_remap %.0f MB/s, into anonymous %.0f MB/s, into 4 KiB anonymous %.0f MB/s (a round: 1 MiB / the median piece; medians)\n",
	       (size_t)(len / MIB), median(ours, rounds) / 1e6, median(anon, rounds) / 1e6,
	       median(small_bw, rounds) / 1e6);
	printf("D1   the anonymous memory as the kernel gives it: %ld of %zu kB in THPs (AnonHugePages); the buffer: tmpfs pages, 4 KiB unless shmem_enabled gives huge folios\n",
	       huge_kb, len / 1024);
	report("D1", "O_DIRECT read MB/s: into simple_remap / anonymous", r, rounds, ">= 0.95",
	       median(r, rounds) >= 0.95);
	printf("D2   like with like: anonymous memory in 4 KiB pages (MADV_NOHUGEPAGE, AnonHugePages %ld kB): a THP is one folio to pin, dirty and release a read, 4 KiB pages are 256\n",
	       small_huge_kb);
	/* D2 is only what it says if no THP came into its anonymous memory. */
	report("D2", "O_DIRECT read MB/s: into simple_remap / anon, 4 KiB", r4k, rounds,
	       ">= 0.95", median(r4k, rounds) >= 0.95 && small_huge_kb <= 0);
	if (small_huge_kb > 0)
		printf("D2   NOT MET: its anonymous memory has THPs after all (%ld kB)\n",
		       small_huge_kb);
	munmap(small, len);
out:
	munmap(dst, len);
	munmap(src, len);
	close(disk);
}

static void consumers(void)
{
	printf("\nconsumers, map_mode=%s, %d rounds: the kernel's consumers into the buffer\n%-4s %-52s %7s  %-15s  %-10s\n",
	       mode, rounds, "id", "ratio", "median", "[min    max]", "target");
	direct_io();
	camera();
}

/* ---- scale: the loaded buffer's whole size ---- */

/*
 * Setup (mmap + touch every page), fill and sum of the whole buffer, and
 * beside it the setup of a populated memfd of the same size mapped with
 * MAP_POPULATE. bench-report.sh's R5 reads linearity off these lines:
 * whole buffer against whole buffer, the same kernel path at each size.
 */
static void scale(void)
{
	size_t len = sr.info.size, i;
	struct map_arg all = { .off = 0, .len = len };
	int memfd = memfd_of(len);
	struct map_arg pop = { .fd = memfd, .len = len, .flags = MAP_POPULATE };
	double setup[MAX_ROUNDS], fill[MAX_ROUNDS], sum[MAX_ROUNDS], ctl[MAX_ROUNDS];
	uint64_t *p;
	int k;

	p = map_memfd(memfd, len, 0);
	memset(p, 1, len);
	munmap(p, len);
	for (k = 0; k < rounds; k++) {
		setup[k] = setup_touch(setup_sr, &all, len, NULL);
		ctl[k] = setup_touch(setup_memfd, &pop, len, NULL);
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
	close(memfd);
	printf("scale %s: %zu bytes in %u chunks: setup %.3f ms (memfd %.3f ms), fill %.0f MB/s, sum %.0f MB/s (verified)\n",
	       mode, len, sr.info.nr_chunks, median(setup, rounds) * 1e3, median(ctl, rounds) * 1e3,
	       median(fill, rounds) / 1e6, median(sum, rounds) / 1e6);
	printf("csv,scale,%s,%zu,%u,%.6f,%.1f,%.1f,%.6f\n", mode, len, sr.info.nr_chunks,
	       median(setup, rounds), median(fill, rounds) / 1e6, median(sum, rounds) / 1e6,
	       median(ctl, rounds));
}

int main(int argc, char **argv)
{
	cpu_set_t cpu;
	FILE *f;
	char m[64] = "";
	int opt;

	while ((opt = getopt(argc, argv, "ar:")) != -1) {
		if (opt == 'a') {
			all_peers = true;
			continue;
		}
		if (opt != 'r' || (rounds = atoi(optarg)) < 3 || rounds > MAX_ROUNDS) {
			fprintf(stderr, "usage: %s [-a] [-r ROUNDS (3..%d)] ratios|latency|scale|peers|ptables|consumers\n",
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
	else if (!strcmp(argv[optind], "peers"))
		peers();
	else if (!strcmp(argv[optind], "ptables"))
		ptables();
	else if (!strcmp(argv[optind], "consumers"))
		consumers();
	else
		return 2;
	return failed;
}
