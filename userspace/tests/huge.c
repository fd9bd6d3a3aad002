// SPDX-License-Identifier: GPL-2.0
/*
 * map_mode=huge: what a mapping gets (GET_INFO's map_granule: 2 MiB PMDs
 * where the kernel maps PFNs with them, else pages) and what it costs
 * (faults, page table bytes), and that every operation that splits or
 * drops a PMD (mprotect, munmap, mremap, fork, madvise, an odd offset,
 * each THP setting) leaves the bytes where read() sees them. The data
 * tests run in every map_mode: they hold for all.
 */
#include <sys/resource.h>
#include <sys/uio.h>

#include "sr_test.h"

#define SZ_2M (2UL << 20)
#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"
/* Faults besides the mapping's: the stack, the test's own pages. */
#define FAULT_SLACK 16

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* VmPTE of /proc/self/status: this process's page table bytes, in KiB. */
static long long vmpte_kib(struct __test_metadata *_metadata)
{
	return sr_proc_kib(_metadata, "/proc/self/status", "VmPTE: %lld kB");
}

static uint64_t granule(struct __test_metadata *_metadata)
{
	int fd = sr_open(_metadata, O_RDONLY);
	struct simple_remap_info info = sr_info(_metadata, fd);

	close(fd);
	ASSERT_TRUE(info.map_granule == info.page_size || info.map_granule == SZ_2M);
	if (strcmp(sr_map_mode(_metadata), "huge"))
		ASSERT_EQ(info.page_size, info.map_granule);
	return info.map_granule;
}

/* Word j of buffer page i holds i * 4096 + j + @seed: misplaced bytes show. */
static void tag_buffer(struct __test_metadata *_metadata, int fd, uint64_t size, uint64_t seed)
{
	size_t chunk = 1 << 20, n, j;
	uint64_t *buf = malloc(chunk), off;

	ASSERT_TRUE(buf);
	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		for (j = 0; j < n / 8; j++)
			buf[j] = (off + j * 8) / 8 + seed;
		ASSERT_EQ((ssize_t)n, pwrite(fd, buf, n, off));
	}
	free(buf);
}

/* @len bytes at @p are the buffer's bytes at @off, as read() sees them. */
static void assert_same(struct __test_metadata *_metadata, int fd, const volatile char *p,
			uint64_t off, size_t len)
{
	char *buf = malloc(len);

	ASSERT_TRUE(buf);
	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, off));
	ASSERT_EQ(0, memcmp(buf, (const char *)p, len)) {
		TH_LOG("mapping at offset %llu differs from read()", (unsigned long long)off);
	}
	free(buf);
}

/* Touch every page of @p (a read), then write one word per page. */
static void touch_pages(volatile char *p, size_t len, bool write)
{
	long ps = sr_page_size();
	size_t i;

	for (i = 0; i < len; i += ps) {
		if (write)
			*(volatile uint64_t *)(p + i) = *(volatile uint64_t *)(p + i) + 1;
		else
			(void)p[i];
	}
}

/* The THP "enabled" setting, the bracketed word; "" without THP. */
static void thp_get(char *out, size_t len)
{
	char buf[128] = "", *lb, *rb;
	int fd = open(THP_ENABLED, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	*out = 0;
	if (n <= 0)
		return;
	buf[n] = 0;
	lb = strchr(buf, '[');
	rb = lb ? strchr(lb, ']') : NULL;
	if (rb) {
		*rb = 0;
		snprintf(out, len, "%s", lb + 1);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Map @len bytes at offset 0, touch every page; the faults it took and
 * the page table KiB it added (and, printed, the time: TCG's, only to
 * compare modes). Bytes checked against read().
 */
static void map_touch_measure(struct __test_metadata *_metadata, int fd, size_t len,
			      long *faults, long long *pte_kib)
{
	long long pte_before = vmpte_kib(_metadata);
	long before = minflt();
	double t = now_ms();
	char *p = sr_mmap(_metadata, fd, len, PROT_READ | PROT_WRITE, 0);

	touch_pages(p, len, true);
	t = now_ms() - t;
	*faults = minflt() - before;
	*pte_kib = vmpte_kib(_metadata) - pte_before;
	printf("# %s: mmap + touching %zu MiB: %.1f ms\n", sr_map_mode(_metadata), len >> 20, t);
	assert_same(_metadata, fd, p, 0, len);
	ASSERT_EQ(0, munmap(p, len));
}

/*
 * A huge-mode mapping's address is 2 MiB-aligned, as its PMDs need, and
 * at an offset as aligned as the offset. Lengths that are not a multiple
 * of 2 MiB: the kernel aligns those itself (6.12 and later).
 */
TEST_F(sr, huge_mapping_address_is_2m_aligned)
{
	long ps = sr_page_size();
	size_t len = 8 * SZ_2M - ps;
	int fd;
	char *p;

	sr_reload(_metadata, "size=16M");
	fd = sr_open(_metadata, O_RDWR);
	p = sr_mmap(_metadata, fd, len, PROT_READ, 0);
	printf("# %s: mmap(NULL, 16M - 4K) = %p\n", sr_map_mode(_metadata), p);
	if (!strcmp(sr_map_mode(_metadata), "huge"))
		ASSERT_EQ(0, (uintptr_t)p % SZ_2M);
	ASSERT_EQ(0, munmap(p, len));
	len = 8 * SZ_2M - 3 * ps;
	p = sr_mmap(_metadata, fd, len, PROT_READ, 3 * ps);
	printf("# %s: mmap(NULL, 16M - 12K, offset 12K) = %p\n", sr_map_mode(_metadata), p);
	if (!strcmp(sr_map_mode(_metadata), "huge"))
		ASSERT_EQ(3 * ps, (uintptr_t)p % SZ_2M);
	ASSERT_EQ(0, munmap(p, len));
}

/*
 * GET_INFO is honest: where it says 2 MiB, touching 64 MiB takes a fault
 * or so per GiB (the PMDs around a fault are made with it), at most one
 * per PMD; where it says a page, one fault per page (huge mode) or none
 * (the modes that map everything at mmap() time), never fewer than it
 * implies. In a child, under THP "always", which the test restores after.
 */
static int faults_as_granule_says(struct __test_metadata *_metadata, void *arg)
{
	size_t len = 64UL << 20;
	long ps = sr_page_size(), faults;
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t g = granule(_metadata);
	long long pte;

	(void)arg;
	map_touch_measure(_metadata, fd, len, &faults, &pte);
	printf("# %s: map_granule %llu, 64M touched: %ld faults, VmPTE +%lld kB\n",
	       sr_map_mode(_metadata), (unsigned long long)g, faults, pte);
	if (g == SZ_2M) {
		ASSERT_LE(faults, (long)(len / SZ_2M) + FAULT_SLACK);
		/* Fewer than hugetlb's one per 2 MiB: the PMDs around a fault. */
		ASSERT_LE(faults, 2 + FAULT_SLACK);
	} else if (!strcmp(sr_map_mode(_metadata), "huge") ||
		   !strcmp(sr_map_mode(_metadata), "fault")) {
		ASSERT_LE((long)(len / ps), faults);
		ASSERT_GE((long)(len / ps) + FAULT_SLACK, faults);
	} else {
		ASSERT_GE(FAULT_SLACK, faults);
	}
	return 0;
}

TEST_F(sr, touching_takes_the_faults_map_granule_says)
{
	char thp[32];
	int ret;

	sr_reload(_metadata, "size=64M");
	thp_get(thp, sizeof(thp));
	if (*thp)
		ASSERT_EQ(0, sr_write_file(THP_ENABLED, "always"));
	ret = sr_in_child(_metadata, faults_as_granule_says, NULL);
	if (*thp)
		ASSERT_EQ(0, sr_write_file(THP_ENABLED, thp));
	ASSERT_EQ(0, ret);
}

/*
 * Page tables of 256 MiB touched: PTEs cost 8 bytes a page (512 KiB);
 * PMDs need no PTE tables, only the PMD table itself (4 KiB or two).
 */
TEST_F(sr, page_tables_of_256m_are_what_map_granule_says)
{
	size_t len = 256UL << 20;
	long ps = sr_page_size(), faults;
	long long pte;
	uint64_t g;
	int fd;

	sr_reload(_metadata, "size=256M");
	g = granule(_metadata);
	fd = sr_open(_metadata, O_RDWR);
	map_touch_measure(_metadata, fd, len, &faults, &pte);
	printf("# %s: map_granule %llu, 256M touched: %ld faults, VmPTE +%lld kB\n",
	       sr_map_mode(_metadata), (unsigned long long)g, faults, pte);
	if (g == SZ_2M) {
		ASSERT_GE(16, pte);
	} else {
		ASSERT_LE((long long)(len / ps * 8 / 1024), pte);
	}
	/* Back to the default size for the tests that follow. */
	close(fd);
	sr_reload(_metadata, NULL);
}

/* Under each THP setting the mapping works; how it maps is reported. */
static int every_thp_setting(struct __test_metadata *_metadata, void *arg)
{
	static const char *const settings[] = { "always", "madvise", "never" };
	size_t len = 16UL << 20, i;
	long ps = sr_page_size(), faults;
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t g = granule(_metadata);
	long long pte;

	(void)arg;
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		ASSERT_EQ(0, sr_write_file(THP_ENABLED, settings[i]));
		tag_buffer(_metadata, fd, len, i);
		map_touch_measure(_metadata, fd, len, &faults, &pte);
		printf("# %s: THP %s: 16M touched: %ld faults, VmPTE +%lld kB\n",
		       sr_map_mode(_metadata), settings[i], faults, pte);
		/* VM_HUGEPAGE: "madvise" maps PMDs as "always" does. */
		if (g == SZ_2M && strcmp(settings[i], "never"))
			ASSERT_GE((long)(len / SZ_2M) + FAULT_SLACK, faults);
		/* "never": PMDs (6.12.114 and later), or PTEs before. */
		if (g == SZ_2M && !strcmp(settings[i], "never"))
			ASSERT_TRUE(faults <= (long)(len / SZ_2M) + FAULT_SLACK ||
				    faults >= (long)(len / ps));
	}
	return 0;
}

TEST_F(sr, mapping_works_under_every_thp_setting)
{
	char thp[32];
	int ret;

	thp_get(thp, sizeof(thp));
	if (!*thp)
		SKIP(return, "no transparent huge pages in this kernel");
	sr_reload(_metadata, "size=16M");
	ret = sr_in_child(_metadata, every_thp_setting, NULL);
	ASSERT_EQ(0, sr_write_file(THP_ENABLED, thp));
	ASSERT_EQ(0, ret);
	sr_reload(_metadata, NULL);
}

/*
 * The default buffer (4 MiB: two PMDs), tagged, mapped whole and touched:
 * what the tests below split.
 */
static char *map_tagged(struct __test_metadata *_metadata, int fd, size_t *len)
{
	char *p;

	*len = sr_size(_metadata);
	tag_buffer(_metadata, fd, *len, 0);
	p = sr_mmap(_metadata, fd, *len, PROT_READ | PROT_WRITE, 0);
	touch_pages(p, *len, false);
	assert_same(_metadata, fd, p, 0, *len);
	return p;
}

TEST_F(sr, mprotect_of_part_of_a_pmd_keeps_the_bytes)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();
	size_t len;
	char *p = map_tagged(_metadata, fd, &len);

	ASSERT_EQ(0, mprotect(p + 5 * ps, 3 * ps, PROT_READ));
	assert_same(_metadata, fd, p, 0, len);
	touch_pages(p, 5 * ps, true);
	touch_pages(p + 8 * ps, len - 8 * ps, true);
	assert_same(_metadata, fd, p, 0, len);
	ASSERT_EQ(0, mprotect(p + 5 * ps, 3 * ps, PROT_READ | PROT_WRITE));
	touch_pages(p, len, true);
	assert_same(_metadata, fd, p, 0, len);
}

TEST_F(sr, munmap_of_part_of_a_pmd_keeps_the_rest)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();
	size_t len;
	char *p = map_tagged(_metadata, fd, &len);

	ASSERT_EQ(0, munmap(p + SZ_2M / 2, ps));
	assert_same(_metadata, fd, p, 0, SZ_2M / 2);
	assert_same(_metadata, fd, p + SZ_2M / 2 + ps, SZ_2M / 2 + ps, len - SZ_2M / 2 - ps);
	touch_pages(p, SZ_2M / 2, true);
	touch_pages(p + SZ_2M / 2 + ps, len - SZ_2M / 2 - ps, true);
	assert_same(_metadata, fd, p, 0, SZ_2M / 2);
	assert_same(_metadata, fd, p + SZ_2M / 2 + ps, SZ_2M / 2 + ps, len - SZ_2M / 2 - ps);
}

TEST_F(sr, mremap_that_splits_or_moves_a_pmd_keeps_the_bytes)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();
	size_t len;
	char *p = map_tagged(_metadata, fd, &len), *q, *hole;

	/* Shrunk to the middle of the second PMD. */
	q = mremap(p, len, len - SZ_2M / 2, 0);
	ASSERT_EQ(p, q);
	assert_same(_metadata, fd, q, 0, len - SZ_2M / 2);
	/* Moved to an address that is not 2 MiB-aligned. */
	hole = mmap(NULL, len + SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	hole = (char *)(((uintptr_t)hole + SZ_2M - 1) & ~(SZ_2M - 1)) + ps;
	q = mremap(p, len - SZ_2M / 2, len - SZ_2M / 2, MREMAP_MAYMOVE | MREMAP_FIXED, hole);
	ASSERT_EQ(hole, q);
	assert_same(_metadata, fd, q, 0, len - SZ_2M / 2);
	touch_pages(q, len - SZ_2M / 2, true);
	assert_same(_metadata, fd, q, 0, len - SZ_2M / 2);
	/* Growing stays refused (VM_DONTEXPAND). */
	ASSERT_ERRNO(EFAULT, mremap(q, len - SZ_2M / 2, len, 0));
}

static int child_writes(struct __test_metadata *_metadata, void *arg)
{
	int fd = sr_open(_metadata, O_RDWR);
	size_t len = sr_size(_metadata);
	char *p = arg;

	assert_same(_metadata, fd, p, 0, len);
	touch_pages(p, len, true);
	assert_same(_metadata, fd, p, 0, len);
	return 0;
}

TEST_F(sr, fork_child_sees_and_writes_the_same_bytes)
{
	int fd = sr_open(_metadata, O_RDWR);
	size_t len;
	char *p = map_tagged(_metadata, fd, &len);

	ASSERT_EQ(0, sr_in_child(_metadata, child_writes, p));
	assert_same(_metadata, fd, p, 0, len);
	touch_pages(p, len, true);
	assert_same(_metadata, fd, p, 0, len);
}

/* VM_PFNMAP refuses MADV_DONTNEED (EINVAL); elsewhere the next touch maps again. */
TEST_F(sr, madv_dontneed_then_touch_keeps_the_bytes)
{
	int fd = sr_open(_metadata, O_RDWR);
	size_t len;
	char *p = map_tagged(_metadata, fd, &len);

	if (sr_pfnmap(_metadata)) {
		ASSERT_ERRNO(EINVAL, madvise(p, len, MADV_DONTNEED));
	} else {
		ASSERT_EQ(0, madvise(p, len, MADV_DONTNEED));
	}
	touch_pages(p, len, true);
	assert_same(_metadata, fd, p, 0, len);
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	touch_pages(p, len, true);
	assert_same(_metadata, fd, p, 0, len);
}

/*
 * At an odd page offset the address is as odd (thp_get_unmapped_area()),
 * so the 2 MiB-aligned blocks of the buffer still get PMDs and the pages
 * around them PTEs; at an odd address too (MAP_FIXED), only PTEs.
 */
TEST_F(sr, mapping_at_an_odd_page_offset_maps_the_right_bytes)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();
	size_t size = sr_size(_metadata), len = size - 3 * ps;
	char *p, *hole;

	tag_buffer(_metadata, fd, size, 7);
	p = sr_mmap(_metadata, fd, len, PROT_READ | PROT_WRITE, 3 * ps);
	touch_pages(p, len, false);
	assert_same(_metadata, fd, p, 3 * ps, len);
	touch_pages(p, len, true);
	assert_same(_metadata, fd, p, 3 * ps, len);
	ASSERT_EQ(0, munmap(p, len));

	hole = mmap(NULL, size + SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	hole = (char *)(((uintptr_t)hole + SZ_2M - 1) & ~(SZ_2M - 1)) + 5 * ps;
	p = mmap(hole, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(hole, p);
	touch_pages(p, size, true);
	assert_same(_metadata, fd, p, 0, size);
}

/* GUP of a touched mapping (PMDs in place) is refused as in remap mode. */
TEST_F(sr, gup_on_a_touched_pfn_mapping_is_refused)
{
	int fd = sr_open(_metadata, O_RDWR), pipefd[2];
	size_t len;
	char *p = map_tagged(_metadata, fd, &len);
	struct iovec iov = { p + SZ_2M, 64 }, local = { malloc(64), 64 };

	if (!sr_pfnmap(_metadata))
		SKIP(return, "struct page modes: GUP works (hardening.c)");
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_ERRNO(EFAULT, vmsplice(pipefd[1], &iov, 1, 0));
	ASSERT_ERRNO(EFAULT, process_vm_readv(getpid(), &local, 1, &iov, 1, 0));
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
