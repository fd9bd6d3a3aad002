// SPDX-License-Identifier: GPL-2.0
/* What simple_remap promises when used as intended. */
#include "sr_test.h"

static int all_zero(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

TEST(fresh_buffer_reads_zero)
{
	uint64_t size, i;
	unsigned char *p, *buf;
	int fd;

	sr_reload(NULL);
	fd = sr_open(O_RDONLY);
	size = sr_info(fd).size;
	buf = malloc(size);
	ASSERT_EQ(size, read(fd, buf, size));
	ASSERT_TRUE(all_zero(buf, size));
	p = sr_mmap(fd, size, PROT_READ, 0);
	for (i = 0; i < size; i++)
		ASSERT_EQ(0, p[i]);
}

TEST(mmap_write_visible_to_read)
{
	int fd = sr_open(O_RDWR);
	char *p = sr_mmap(fd, sr_page_size() * 2, PROT_READ | PROT_WRITE, 0);
	char buf[32] = "";

	strcpy(p + sr_page_size() + 5, "through the mapping");
	ASSERT_EQ(20, pread(fd, buf, 20, sr_page_size() + 5));
	ASSERT_EQ(0, strcmp(buf, "through the mapping"));
}

TEST(write_visible_in_mapping)
{
	int fd = sr_open(O_RDWR);
	char *p = sr_mmap(fd, sr_page_size(), PROT_READ, 0);

	ASSERT_EQ(17, pwrite(fd, "through pwrite()", 17, 100));
	ASSERT_EQ(0, strcmp(p + 100, "through pwrite()"));
}

static int write_tag(void *tag)
{
	struct simple_remap sr;
	char *p;

	if (simple_remap_open(&sr, NULL, O_RDWR) ||
	    simple_remap_map(&sr, 0, 0, PROT_READ | PROT_WRITE, (void **)&p))
		return 1;
	strcpy(p + sr.info.size - 64, tag);
	return 0;
}

static int check_tag(void *tag)
{
	struct simple_remap sr;
	char *p;

	if (simple_remap_open(&sr, NULL, O_RDONLY) ||
	    simple_remap_map(&sr, 0, 0, PROT_READ, (void **)&p))
		return 1;
	return strcmp(p + sr.info.size - 64, tag) != 0;
}

TEST(two_processes_share_data)
{
	char tag[32];

	snprintf(tag, sizeof(tag), "tag %d", getpid());
	ASSERT_EQ(0, sr_in_child(write_tag, tag));
	ASSERT_EQ(0, sr_in_child(check_tag, tag));
}

static char *inherited;

static int child_writes(void *arg)
{
	int fd = *(int *)arg;

	/* The inherited VMA counts as one more live mapping. */
	if (sr_info(fd).mappings < 2)
		return 2;
	strcpy(inherited, "from the child");
	return 0;
}

TEST(forked_child_shares_mapping)
{
	int fd = sr_open(O_RDWR);
	uint64_t before = sr_info(fd).mappings;

	inherited = sr_mmap(fd, sr_page_size(), PROT_READ | PROT_WRITE, 0);
	memset(inherited, 0, 32);
	ASSERT_EQ(before + 1, sr_info(fd).mappings);
	ASSERT_EQ(0, sr_in_child(child_writes, &fd));
	ASSERT_EQ(0, strcmp(inherited, "from the child"));
	ASSERT_EQ(before + 1, sr_info(fd).mappings);
}

TEST(offset_mapping_sees_right_pages)
{
	int fd = sr_open(O_RDWR);
	uint64_t size = sr_info(fd).size, ps = sr_page_size(), pages = size / ps, i;
	uint64_t offsets[] = { 0, 1, pages / 2, pages - 1 };
	uint64_t *p;
	size_t k;

	for (i = 0; i < pages; i++)
		ASSERT_EQ(8, pwrite(fd, &i, 8, i * ps));
	for (k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
		uint64_t first = offsets[k], n = pages - first < 3 ? pages - first : 3;

		p = sr_mmap(fd, n * ps, PROT_READ, first * ps);
		for (i = 0; i < n; i++)
			ASSERT_EQ(first + i, p[i * ps / 8]);
		munmap(p, n * ps);
	}
}

TEST(data_survives_close_and_reopen)
{
	char buf[8] = "";
	int fd = sr_open(O_RDWR);

	ASSERT_EQ(7, pwrite(fd, "persist", 7, 4096));
	close(fd);
	fd = sr_open(O_RDONLY);
	ASSERT_EQ(7, pread(fd, buf, 7, 4096));
	ASSERT_EQ(0, memcmp(buf, "persist", 7));
}

TEST(mapping_survives_fd_close)
{
	int fd = sr_open(O_RDWR), fd2;
	char *p = sr_mmap(fd, sr_page_size(), PROT_READ | PROT_WRITE, 0);
	char buf[16] = "";

	close(fd);
	strcpy(p, "after close");
	fd2 = sr_open(O_RDONLY);
	ASSERT_EQ(12, pread(fd2, buf, 12, 0));
	ASSERT_EQ(0, strcmp(buf, "after close"));
	ASSERT_EQ(1, sr_info(fd2).mappings);
}

TEST(pread_pwrite_at_offsets)
{
	int fd = sr_open(O_RDWR);
	uint64_t size = sr_info(fd).size;
	char buf[4];

	ASSERT_EQ(4, pwrite(fd, "head", 4, 0));
	ASSERT_EQ(4, pwrite(fd, "tail", 4, size - 4));
	ASSERT_EQ(4, pread(fd, buf, 4, size - 4));
	ASSERT_EQ(0, memcmp(buf, "tail", 4));
	ASSERT_EQ(size - 4, lseek(fd, -4, SEEK_END));
	ASSERT_EQ(4, read(fd, buf, 4));
	ASSERT_EQ(0, memcmp(buf, "tail", 4));
	ASSERT_EQ(0, read(fd, buf, 4));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(4, read(fd, buf, 4));
	ASSERT_EQ(0, memcmp(buf, "head", 4));
}

TEST(info_reports_buffer_geometry)
{
	int fd = sr_open(O_RDONLY);
	struct simple_remap_info info = sr_info(fd);
	int i;

	ASSERT_EQ(sr_sysfs(SR_PARAM, "size"), info.size);
	ASSERT_EQ(sr_page_size(), info.page_size);
	ASSERT_EQ(0, info.size % info.page_size);
	ASSERT_EQ(SIMPLE_REMAP_ABI_VERSION, info.abi_version);
	ASSERT_EQ(sr_sysfs(SR_SYSFS, "nr_chunks"), info.nr_chunks);
	ASSERT_TRUE(info.nr_chunks >= 1 && info.nr_chunks <= info.size / info.page_size);
	ASSERT_EQ(0, info.__pad);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, info.__reserved[i]);
}

TEST(info_counts_live_mappings)
{
	int fd = sr_open(O_RDWR);
	uint64_t before = sr_info(fd).mappings;
	long ps = sr_page_size();
	char *p = sr_mmap(fd, 3 * ps, PROT_READ, 0);

	ASSERT_EQ(before + 1, sr_info(fd).mappings);
	ASSERT_EQ(before + 1, sr_sysfs(SR_SYSFS, "mappings"));
	/* A hole in the middle splits the VMA in two. */
	ASSERT_EQ(0, munmap(p + ps, ps));
	ASSERT_EQ(before + 2, sr_info(fd).mappings);
	ASSERT_EQ(0, munmap(p, ps));
	ASSERT_EQ(0, munmap(p + 2 * ps, ps));
	ASSERT_EQ(before, sr_info(fd).mappings);
}

TEST(sysfs_counters_track_activity)
{
	int fd = sr_open(O_RDWR);
	long long calls = sr_sysfs(SR_SYSFS, "mmap_calls");
	long long rd = sr_sysfs(SR_SYSFS, "bytes_read");
	long long wr = sr_sysfs(SR_SYSFS, "bytes_written");
	char buf[100] = "";

	sr_mmap(fd, sr_page_size(), PROT_READ, 0);
	ASSERT_EQ(calls + 1, sr_sysfs(SR_SYSFS, "mmap_calls"));
	ASSERT_EQ(100, pread(fd, buf, 100, 0));
	ASSERT_EQ(rd + 100, sr_sysfs(SR_SYSFS, "bytes_read"));
	ASSERT_EQ(33, pwrite(fd, buf, 33, 0));
	ASSERT_EQ(wr + 33, sr_sysfs(SR_SYSFS, "bytes_written"));
}

TEST(size_param_rounds_up_to_page)
{
	long ps = sr_page_size();

	sr_reload("size=5000");
	ASSERT_EQ((5000 + ps - 1) / ps * ps, sr_size());
	ASSERT_EQ((5000 + ps - 1) / ps * ps, sr_sysfs(SR_PARAM, "size"));
	sr_reload("size=64K");
	ASSERT_EQ(65536, sr_size());
	sr_reload("size=1");
	ASSERT_EQ(ps, sr_size());
	ASSERT_EQ(0, sr_unload());
}

TEST(large_buffer_loads_and_maps)
{
	uint64_t size = 64 << 20, i;
	uint64_t *p, v;
	int fd;

	sr_reload("size=64M");
	fd = sr_open(O_RDWR);
	ASSERT_EQ(size, sr_info(fd).size);
	/* Contiguous chunks: far fewer remap_pfn_range() calls than pages. */
	ASSERT_TRUE(sr_info(fd).nr_chunks <= 64);
	printf("# 64 MiB in %u chunks\n", sr_info(fd).nr_chunks);
	p = sr_mmap(fd, size, PROT_READ | PROT_WRITE, 0);
	for (i = 0; i < size / 8; i++)
		p[i] = i * 8;
	for (i = 0; i < size; i += 4096 * 7 + 8) {
		ASSERT_EQ(8, pread(fd, &v, 8, i & ~7ull));
		ASSERT_EQ(i & ~7ull, v);
	}
	munmap(p, size);
	close(fd);
	ASSERT_EQ(0, sr_unload());
}

TEST(reload_gives_zeroed_buffer)
{
	int fd = sr_open(O_RDWR);
	uint64_t size = sr_info(fd).size;
	unsigned char *p = sr_mmap(fd, size, PROT_READ | PROT_WRITE, 0);

	memset(p, 0xff, size);
	munmap(p, size);
	close(fd);
	sr_reload(NULL);
	fd = sr_open(O_RDONLY);
	p = sr_mmap(fd, size, PROT_READ, 0);
	ASSERT_TRUE(all_zero(p, size));
}

/*
 * The kernel refuses to unload a module in use with EWOULDBLOCK (EAGAIN);
 * kmod's rmmod says "Module simple_remap is in use".
 */
TEST(rmmod_fails_while_open_then_succeeds)
{
	int fd = sr_open(O_RDONLY);

	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	close(fd);
	ASSERT_EQ(0, sr_unload());
}

TEST(rmmod_fails_while_mapped_then_succeeds)
{
	int fd = sr_open(O_RDONLY);
	void *p = sr_mmap(fd, sr_page_size(), PROT_READ, 0);

	close(fd);
	/* The mapping holds the file, the file holds the module. */
	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	ASSERT_EQ(0, munmap(p, sr_page_size()));
	ASSERT_EQ(0, sr_unload());
}

int main(void)
{
	return sr_main();
}
