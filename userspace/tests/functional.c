// SPDX-License-Identifier: GPL-2.0
/* What simple_remap promises when used as intended. */
#include "sr_test.h"

static bool all_zero(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Like THP's "enabled": every mode, the active one bracketed; load-time only. */
TEST(map_mode_reads_every_mode_with_the_active_one_bracketed)
{
	static const char *const expected[][2] = {
		{ "map_mode=remap", "[remap] pages fault huge\n" },
		{ "map_mode=pages", "remap [pages] fault huge\n" },
		{ "map_mode=fault", "remap pages [fault] huge\n" },
		{ "map_mode=huge", "remap pages fault [huge]\n" },
	};
	char buf[64];
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(expected); i++) {
		sr_reload(_metadata, expected[i][0]);
		fd = open(SR_PARAM "map_mode", O_RDONLY | O_CLOEXEC);
		ASSERT_TRUE(fd >= 0);
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ((ssize_t)strlen(expected[i][1]), read(fd, buf, sizeof(buf) - 1));
		close(fd);
		ASSERT_STREQ(expected[i][1], buf) {
			TH_LOG("after loading with %s", expected[i][0]);
		}
		ASSERT_EQ(0, stat(SR_PARAM "map_mode", &st));
		ASSERT_EQ(0444, st.st_mode & 0777);
		ASSERT_ERRNO(EACCES, open(SR_PARAM "map_mode", O_WRONLY | O_CLOEXEC));
	}
}

/*
 * The driver is the one home of the map_modes ("[remap] pages fault", the
 * loaded one bracketed): a mode without the tests' variant fails here.
 */
TEST(map_modes_of_the_driver_are_the_variants)
{
	char modes[128], listed[128];
	int i, j;

	if (!sr_loaded())
		ASSERT_EQ(0, sr_load(NULL));
	ASSERT_EQ(0, sr_map_mode_param(modes, sizeof(modes)));
	for (i = j = 0; modes[i]; i++)
		if (modes[i] != '[' && modes[i] != ']')
			listed[j++] = modes[i];
	listed[j] = 0;
	ASSERT_STREQ(sr_variants, listed);
}

TEST_F(sr, fresh_buffer_reads_zero)
{
	unsigned char *p, *buf;
	uint64_t size;
	int fd;

	sr_reload(_metadata, NULL);
	fd = sr_open(_metadata, O_RDONLY);
	size = sr_info(_metadata, fd).size;
	buf = malloc(size);
	ASSERT_TRUE(buf);
	ASSERT_EQ(size, read(fd, buf, size));
	ASSERT_TRUE(all_zero(buf, size));
	p = sr_mmap(_metadata, fd, size, PROT_READ, 0);
	ASSERT_TRUE(all_zero(p, size));
}

TEST_F(sr, mmap_write_visible_to_read)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();
	char *p = sr_mmap(_metadata, fd, 2 * ps, PROT_READ | PROT_WRITE, 0);
	char buf[32] = "";

	strcpy(p + ps + 5, "through the mapping");
	ASSERT_EQ(20, pread(fd, buf, 20, ps + 5));
	ASSERT_EQ(0, strcmp(buf, "through the mapping"));
}

TEST_F(sr, write_visible_in_mapping)
{
	int fd = sr_open(_metadata, O_RDWR);
	char *p = sr_mmap(_metadata, fd, sr_page_size(), PROT_READ, 0);

	ASSERT_EQ(17, pwrite(fd, "through pwrite()", 17, 100));
	ASSERT_EQ(0, strcmp(p + 100, "through pwrite()"));
}

/*
 * The other process of two_processes_share_data: this program again
 * (/proc/self/exe --peer), which opens and maps the device itself, checks
 * what the first wrote, answers, and keeps its mapping until told to go.
 */
static int peer_main(int rfd, int wfd, uint64_t off)
{
	int fd = open(SR_DEV, O_RDWR | O_CLOEXEC);
	struct simple_remap_info info;
	char *p, c;

	if (fd < 0 || ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, &info)) {
		printf("# peer: %s: %s\n", SR_DEV, sr_errname(errno));
		return 1;
	}
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || strcmp(p + off, "from the first")) {
		printf("# peer: mmap %s, or no message\n", sr_errname(errno));
		return 1;
	}
	strcpy(p + off + 64, "from the peer");
	if (write(wfd, "!", 1) != 1)
		return 1;
	/* EOF: the first process has looked at our mapping's effects. */
	return read(rfd, &c, 1) != 0;
}

TEST_F(sr, two_processes_share_data)
{
	int fd = sr_open(_metadata, O_RDWR), to_peer[2], from_peer[2], status;
	uint64_t size = sr_info(_metadata, fd).size, off = size - sr_page_size(), before;
	char *p = sr_mmap(_metadata, fd, size, PROT_READ | PROT_WRITE, 0), args[3][24], c;
	pid_t pid;

	before = sr_info(_metadata, fd).mappings;
	strcpy(p + off, "from the first");
	ASSERT_EQ(0, pipe(to_peer));
	ASSERT_EQ(0, pipe(from_peer));
	pid = fork();
	ASSERT_NE(-1, pid);
	if (pid == 0) {
		close(to_peer[1]);
		close(from_peer[0]);
		snprintf(args[0], sizeof(args[0]), "%d", to_peer[0]);
		snprintf(args[1], sizeof(args[1]), "%d", from_peer[1]);
		snprintf(args[2], sizeof(args[2]), "%llu", (unsigned long long)off);
		execl("/proc/self/exe", program_invocation_name, "--peer",
		      args[0], args[1], args[2], (char *)NULL);
		_exit(127);
	}
	close(to_peer[0]);
	close(from_peer[1]);
	ASSERT_EQ(1, read(from_peer[0], &c, 1));
	ASSERT_EQ(0, strcmp(p + off + 64, "from the peer"));
	ASSERT_EQ(before + 1, sr_info(_metadata, fd).mappings);
	close(to_peer[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(before, sr_info(_metadata, fd).mappings);
}

struct inherited {
	int fd;
	char *p;
	uint64_t mappings;
};

static int child_writes(struct __test_metadata *_metadata, void *arg)
{
	struct inherited *in = arg;

	/* fork() copied the parent's VMA: one more live mapping. */
	EXPECT_EQ(in->mappings + 1, sr_info(_metadata, in->fd).mappings);
	strcpy(in->p, "from the child");
	return 0;
}

TEST_F(sr, forked_child_shares_mapping)
{
	struct inherited in = { .fd = sr_open(_metadata, O_RDWR) };
	uint64_t before = sr_info(_metadata, in.fd).mappings;

	in.p = sr_mmap(_metadata, in.fd, sr_page_size(), PROT_READ | PROT_WRITE, 0);
	memset(in.p, 0, 32);
	in.mappings = sr_info(_metadata, in.fd).mappings;
	ASSERT_EQ(before + 1, in.mappings);
	ASSERT_EQ(0, sr_in_child(_metadata, child_writes, &in));
	ASSERT_EQ(0, strcmp(in.p, "from the child"));
	ASSERT_EQ(before + 1, sr_info(_metadata, in.fd).mappings);
}

/* Word @w of page @pg: unique in the buffer. */
static uint64_t page_word(uint64_t pg, uint64_t w)
{
	return pg << 32 | w;
}

TEST_F(sr, offset_mapping_sees_right_pages)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t ps = sr_page_size(), words = ps / 8, pages = sr_info(_metadata, fd).size / ps;
	uint64_t firsts[] = { 0, 1, pages / 2, pages - 1 }, *page = malloc(ps), *p, i, k;

	ASSERT_TRUE(page);
	for (i = 0; i < pages; i++) {
		for (k = 0; k < words; k++)
			page[k] = page_word(i, k);
		ASSERT_EQ(ps, pwrite(fd, page, ps, i * ps));
	}
	for (k = 0; k < ARRAY_SIZE(firsts); k++) {
		uint64_t first = firsts[k], n = pages - first < 3 ? pages - first : 3;

		p = sr_mmap(_metadata, fd, n * ps, PROT_READ, first * ps);
		for (i = 0; i < n * words; i++)
			ASSERT_EQ(page_word(first + i / words, i % words), p[i]);
		ASSERT_EQ(0, munmap(p, n * ps));
	}
}

TEST_F(sr, data_survives_close_and_reopen)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();
	char buf[8] = "";

	ASSERT_EQ(7, pwrite(fd, "persist", 7, ps));
	ASSERT_EQ(0, close(fd));
	fd = sr_open(_metadata, O_RDONLY);
	ASSERT_EQ(7, pread(fd, buf, 7, ps));
	ASSERT_EQ(0, memcmp(buf, "persist", 7));
}

TEST_F(sr, mapping_survives_fd_close)
{
	int fd = sr_open(_metadata, O_RDWR), fd2;
	char *p = sr_mmap(_metadata, fd, sr_page_size(), PROT_READ | PROT_WRITE, 0);
	char buf[16] = "";

	ASSERT_EQ(0, close(fd));
	strcpy(p, "after close");
	fd2 = sr_open(_metadata, O_RDONLY);
	ASSERT_EQ(12, pread(fd2, buf, 12, 0));
	ASSERT_EQ(0, strcmp(buf, "after close"));
	ASSERT_EQ(1, sr_info(_metadata, fd2).mappings);
}

TEST_F(sr, pread_pwrite_at_offsets)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t size = sr_info(_metadata, fd).size;
	char buf[4];

	ASSERT_EQ(4, pwrite(fd, "head", 4, 0));
	ASSERT_EQ(4, pwrite(fd, "midl", 4, size / 2 + 1));
	ASSERT_EQ(4, pwrite(fd, "tail", 4, size - 4));
	ASSERT_EQ(4, pread(fd, buf, 4, size / 2 + 1));
	ASSERT_EQ(0, memcmp(buf, "midl", 4));
	/* pread() and pwrite() leave the file position alone. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(size - 4, lseek(fd, -4, SEEK_END));
	ASSERT_EQ(4, read(fd, buf, 4));
	ASSERT_EQ(0, memcmp(buf, "tail", 4));
	ASSERT_EQ(0, read(fd, buf, 4));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(4, read(fd, buf, 4));
	ASSERT_EQ(0, memcmp(buf, "head", 4));
}

TEST_F(sr, info_reports_buffer_geometry)
{
	int fd = sr_open(_metadata, O_RDONLY);
	struct simple_remap_info info = sr_info(_metadata, fd);
	size_t i;

	ASSERT_EQ(sr_sysfs(_metadata, SR_PARAM, "size"), info.size);
	ASSERT_EQ(sr_page_size(), info.page_size);
	ASSERT_EQ(0, info.size % info.page_size);
	ASSERT_TRUE(info.size > 0);
	ASSERT_EQ(SIMPLE_REMAP_ABI_VERSION, info.abi_version);
	ASSERT_EQ(sr_counter(_metadata, "nr_chunks"), info.nr_chunks);
	ASSERT_TRUE(info.nr_chunks >= 1 && info.nr_chunks <= info.size / info.page_size);
	ASSERT_EQ(0, info.mappings);
	ASSERT_EQ(0, info.__pad);
	/* ABI 3: a page, or a PMD in huge mode (huge.c checks which). */
	ASSERT_EQ(sr_counter(_metadata, "map_granule"), info.map_granule);
	if (strcmp(sr_map_mode(_metadata), "huge"))
		ASSERT_EQ(info.page_size, info.map_granule);
	for (i = 0; i < ARRAY_SIZE(info.__reserved); i++)
		ASSERT_EQ(0, info.__reserved[i]);
}

TEST_F(sr, info_counts_live_mappings)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t before = sr_info(_metadata, fd).mappings;
	long ps = sr_page_size();
	char *p = sr_mmap(_metadata, fd, 3 * ps, PROT_READ, 0), *q;

	ASSERT_EQ(before + 1, sr_info(_metadata, fd).mappings);
	q = sr_mmap(_metadata, fd, ps, PROT_READ, ps);
	ASSERT_EQ(before + 2, sr_info(_metadata, fd).mappings);
	ASSERT_EQ(0, munmap(q, ps));
	ASSERT_EQ(before + 1, sr_info(_metadata, fd).mappings);
	/* A hole in the middle splits the VMA in two. */
	ASSERT_EQ(0, munmap(p + ps, ps));
	ASSERT_EQ(before + 2, sr_info(_metadata, fd).mappings);
	ASSERT_EQ(before + 2, sr_counter(_metadata, "mappings"));
	ASSERT_EQ(0, munmap(p, ps));
	ASSERT_EQ(before + 1, sr_info(_metadata, fd).mappings);
	ASSERT_EQ(0, munmap(p + 2 * ps, ps));
	ASSERT_EQ(before, sr_info(_metadata, fd).mappings);
	ASSERT_EQ(before, sr_counter(_metadata, "mappings"));
}

TEST_F(sr, sysfs_counters_track_activity)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t size = sr_info(_metadata, fd).size;
	long long calls = sr_counter(_metadata, "mmap_calls"), maps = sr_counter(_metadata, "mappings");
	long long rd = sr_counter(_metadata, "bytes_read"), wr = sr_counter(_metadata, "bytes_written");
	long ps = sr_page_size();
	char buf[100] = "";
	void *p;

	p = sr_mmap(_metadata, fd, ps, PROT_READ, 0);
	ASSERT_EQ(calls + 1, sr_counter(_metadata, "mmap_calls"));
	ASSERT_EQ(maps + 1, sr_counter(_metadata, "mappings"));
	/* Only successful calls count. */
	ASSERT_ERRNO(EINVAL, mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, size));
	ASSERT_EQ(calls + 1, sr_counter(_metadata, "mmap_calls"));
	ASSERT_EQ(0, munmap(p, ps));
	ASSERT_EQ(maps, sr_counter(_metadata, "mappings"));
	ASSERT_EQ(calls + 1, sr_counter(_metadata, "mmap_calls"));

	/* Only the bytes moved count: short at the end, none past it. */
	ASSERT_EQ(100, pread(fd, buf, 100, 0));
	ASSERT_EQ(10, pread(fd, buf, 100, size - 10));
	ASSERT_EQ(0, pread(fd, buf, 100, size));
	ASSERT_EQ(rd + 110, sr_counter(_metadata, "bytes_read"));
	ASSERT_EQ(33, pwrite(fd, buf, 33, 0));
	ASSERT_EQ(5, pwrite(fd, buf, 100, size - 5));
	ASSERT_ERRNO(ENOSPC, pwrite(fd, buf, 100, size));
	ASSERT_EQ(wr + 38, sr_counter(_metadata, "bytes_written"));
	ASSERT_EQ(rd + 110, sr_counter(_metadata, "bytes_read"));
}

TEST_F(sr, size_param_rounds_up_to_page)
{
	long ps = sr_page_size();
	long long rounded = (5000 + ps - 1) / ps * ps;

	sr_reload(_metadata, "size=5000");
	ASSERT_EQ(rounded, sr_size(_metadata));
	ASSERT_EQ(rounded, sr_sysfs(_metadata, SR_PARAM, "size"));
	sr_reload(_metadata, "size=1");
	ASSERT_EQ(ps, sr_size(_metadata));
	sr_reload(_metadata, "size=64K");
	ASSERT_EQ((65536 + ps - 1) / ps * ps, sr_size(_metadata));
	ASSERT_EQ(0, sr_unload());
}

/* Word @i of the large buffer. */
static uint64_t large_word(uint64_t i)
{
	return i * 0x9e3779b97f4a7c15ull;
}

TEST_F(sr, large_buffer_loads_and_maps)
{
	const uint64_t size = 64 << 20, step = 1 << 20;
	uint64_t *p, *buf = malloc(step), i, j;
	struct simple_remap_info info;
	int fd;

	ASSERT_TRUE(buf);
	sr_reload(_metadata, "size=64M");
	fd = sr_open(_metadata, O_RDWR);
	info = sr_info(_metadata, fd);
	ASSERT_EQ(size, info.size);
	ASSERT_EQ(size, sr_sysfs(_metadata, SR_PARAM, "size"));
	ASSERT_EQ(info.nr_chunks, sr_counter(_metadata, "nr_chunks"));
	/*
	 * remap: high-order allocations, not a page at a time, 1 MiB a chunk
	 * at least. The struct page modes take tmpfs pages as they come.
	 */
	printf("# 64 MiB in %u chunks\n", info.nr_chunks);
	ASSERT_TRUE(info.nr_chunks >= 1 &&
		    info.nr_chunks <= size / (sr_pfnmap(_metadata) ? step : info.page_size));
	p = sr_mmap(_metadata, fd, size, PROT_READ | PROT_WRITE, 0);
	for (i = 0; i < size / 8; i++)
		p[i] = large_word(i);
	for (i = 0; i < size; i += step) {
		ASSERT_EQ(step, pread(fd, buf, step, i));
		for (j = 0; j < step / 8; j++)
			ASSERT_EQ(large_word(i / 8 + j), buf[j]);
	}
	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, sr_unload());
}

TEST_F(sr, reload_gives_zeroed_buffer)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t size = sr_info(_metadata, fd).size;
	unsigned char *p = sr_mmap(_metadata, fd, size, PROT_READ | PROT_WRITE, 0);

	memset(p, 0xff, size);
	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, close(fd));
	sr_reload(_metadata, NULL);
	fd = sr_open(_metadata, O_RDONLY);
	ASSERT_EQ(size, sr_info(_metadata, fd).size);
	p = sr_mmap(_metadata, fd, size, PROT_READ, 0);
	ASSERT_TRUE(all_zero(p, size));
}

/*
 * A module in use does not unload: delete_module(O_NONBLOCK) fails with
 * EWOULDBLOCK (EAGAIN; EBUSY is for modules others depend on).
 */
TEST_F(sr, rmmod_fails_while_open_then_succeeds)
{
	int fd = sr_open(_metadata, O_RDONLY);

	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	ASSERT_TRUE(sr_loaded());
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, sr_unload());
	ASSERT_TRUE(!sr_loaded());
}

TEST_F(sr, rmmod_fails_while_mapped_then_succeeds)
{
	int fd = sr_open(_metadata, O_RDONLY);
	long ps = sr_page_size();
	char *p = sr_mmap(_metadata, fd, 2 * ps, PROT_READ, 0);

	ASSERT_EQ(0, close(fd));
	/* The mapping holds the file, the file holds the module. */
	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	/* Half of it still does. */
	ASSERT_EQ(0, munmap(p, ps));
	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	ASSERT_EQ(0, munmap(p + ps, ps));
	ASSERT_EQ(0, sr_unload());
	ASSERT_TRUE(!sr_loaded());
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--peer"))
		return peer_main(atoi(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10));
	return sr_main(argc, argv);
}
