// SPDX-License-Identifier: GPL-2.0
/* Every bad input gets its errno, and loses nothing. */
#include "sr_test.h"

/*
 * Mark the first and the last 64 bytes of the buffer, then open it with
 * @flags: assert_unchanged(_metadata) proves later that nothing was lost.
 */
static int marked(struct __test_metadata *_metadata, int flags)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t size = sr_info(_metadata, fd).size;
	char mark[64];

	memset(mark, 'Z', sizeof(mark));
	ASSERT_EQ(sizeof(mark), pwrite(fd, mark, sizeof(mark), 0));
	ASSERT_EQ(sizeof(mark), pwrite(fd, mark, sizeof(mark), size - sizeof(mark)));
	ASSERT_EQ(0, close(fd));
	return sr_open(_metadata, flags);
}

/* The marks are intact and the buffer has @mappings live VMAs. */
static void assert_unchanged(struct __test_metadata *_metadata, int fd, uint64_t mappings)
{
	uint64_t size = sr_info(_metadata, fd).size;
	char buf[64], mark[64];

	memset(mark, 'Z', sizeof(mark));
	ASSERT_EQ(sizeof(buf), pread(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, mark, sizeof(mark)));
	ASSERT_EQ(sizeof(buf), pread(fd, buf, sizeof(buf), size - sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, mark, sizeof(mark)));
	ASSERT_EQ(mappings, sr_info(_metadata, fd).mappings);
}

/* The mmap() fails with @err, and adds neither a VMA nor a counted call. */
#define MMAP_FAILS(err, fd, len, prot, flags, off)				\
	do {									\
		uint64_t _maps = sr_info(_metadata, fd).mappings;				\
		long long _calls = sr_counter(_metadata, "mmap_calls");			\
		__SR_ERRNO(err, mmap(NULL, len, prot, flags, fd, (off_t)(off)), \
			    "mmap(" #len ", " #prot ", " #flags ", " #off ")", 1);	\
		assert_unchanged(_metadata, fd, _maps);				\
		ASSERT_EQ(_calls, sr_counter(_metadata, "mmap_calls"));			\
	} while (0)

TEST_F(sr, mmap_longer_than_buffer_fails)
{
	int fd = marked(_metadata, O_RDWR);

	MMAP_FAILS(EINVAL, fd, sr_info(_metadata, fd).size + sr_page_size(), PROT_READ, MAP_SHARED, 0);
}

TEST_F(sr, mmap_offset_at_end_fails)
{
	int fd = marked(_metadata, O_RDWR);

	MMAP_FAILS(EINVAL, fd, sr_page_size(), PROT_READ, MAP_SHARED, sr_info(_metadata, fd).size);
}

TEST_F(sr, mmap_offset_past_end_fails)
{
	int fd = marked(_metadata, O_RDWR);

	MMAP_FAILS(EINVAL, fd, sr_page_size(), PROT_READ, MAP_SHARED,
		   sr_info(_metadata, fd).size + 16 * sr_page_size());
}

TEST_F(sr, mmap_range_straddling_end_fails)
{
	int fd = marked(_metadata, O_RDWR);

	MMAP_FAILS(EINVAL, fd, 2 * sr_page_size(), PROT_READ, MAP_SHARED,
		   sr_info(_metadata, fd).size - sr_page_size());
}

TEST_F(sr, mmap_huge_offset_fails)
{
	int fd = marked(_metadata, O_RDWR);

	MMAP_FAILS(EINVAL, fd, sr_page_size(), PROT_READ, MAP_SHARED, 1ull << 62);
}

TEST_F(sr, mmap_private_fails)
{
	int fd = marked(_metadata, O_RDWR);

	MMAP_FAILS(EINVAL, fd, sr_page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, 0);
	MMAP_FAILS(EINVAL, fd, sr_page_size(), PROT_READ, MAP_PRIVATE, 0);
}

TEST_F(sr, mmap_prot_exec_fails)
{
	int fd = marked(_metadata, O_RDWR);

	MMAP_FAILS(EPERM, fd, sr_page_size(), PROT_READ | PROT_EXEC, MAP_SHARED, 0);
}

TEST_F(sr, mprotect_exec_fails)
{
	int fd = marked(_metadata, O_RDWR);
	long ps = sr_page_size();
	unsigned char *p = sr_mmap(_metadata, fd, ps, PROT_READ, 0);

	/* No VM_MAYEXEC: the mapping can never become executable. */
	ASSERT_ERRNO(EACCES, mprotect(p, ps, PROT_READ | PROT_EXEC));
	ASSERT_ERRNO(EACCES, mprotect(p, ps, PROT_EXEC));
	/* Still there, still readable, still one VMA. */
	ASSERT_EQ('Z', p[0]);
	assert_unchanged(_metadata, fd, 1);
}

TEST_F(sr, mmap_write_on_readonly_fd_fails)
{
	int fd = marked(_metadata, O_RDONLY);

	MMAP_FAILS(EACCES, fd, sr_page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, 0);
}

TEST_F(sr, readonly_mapping_of_readonly_fd_works)
{
	int fd = marked(_metadata, O_RDONLY);
	unsigned char *p = sr_mmap(_metadata, fd, sr_page_size(), PROT_READ, 0);

	ASSERT_EQ('Z', p[0]);
	/* No VM_MAYWRITE: it can never become writable. */
	ASSERT_ERRNO(EACCES, mprotect(p, sr_page_size(), PROT_READ | PROT_WRITE));
}

TEST_F(sr, read_at_end_returns_zero)
{
	int fd = sr_open(_metadata, O_RDONLY);
	char buf[8];

	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), sr_info(_metadata, fd).size));
	ASSERT_EQ(sr_info(_metadata, fd).size, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
}

TEST_F(sr, read_past_end_returns_zero)
{
	int fd = sr_open(_metadata, O_RDONLY);
	char buf[8];

	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), sr_info(_metadata, fd).size + 1));
	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), 1ll << 62));
}

TEST_F(sr, write_at_end_fails_enospc)
{
	int fd = marked(_metadata, O_RDWR);

	ASSERT_ERRNO(ENOSPC, pwrite(fd, "x", 1, sr_info(_metadata, fd).size));
	assert_unchanged(_metadata, fd, 0);
}

TEST_F(sr, write_past_end_fails_enospc)
{
	int fd = marked(_metadata, O_RDWR);

	ASSERT_ERRNO(ENOSPC, pwrite(fd, "x", 1, sr_info(_metadata, fd).size + 4096));
	ASSERT_ERRNO(ENOSPC, pwrite(fd, "x", 1, 1ll << 62));
	assert_unchanged(_metadata, fd, 0);
}

TEST_F(sr, write_straddling_end_is_short)
{
	int fd = marked(_metadata, O_RDWR);
	uint64_t size = sr_info(_metadata, fd).size;
	char buf[4] = "";

	ASSERT_EQ(2, pwrite(fd, "abcd", 4, size - 2));
	ASSERT_EQ(2, pread(fd, buf, 4, size - 2));
	ASSERT_EQ(0, memcmp(buf, "ab", 2));
	/* Nothing wrapped around to the start. */
	ASSERT_EQ(4, pread(fd, buf, 4, 0));
	ASSERT_EQ(0, memcmp(buf, "ZZZZ", 4));
}

TEST_F(sr, lseek_negative_fails)
{
	int fd = sr_open(_metadata, O_RDONLY);

	ASSERT_EQ(100, lseek(fd, 100, SEEK_SET));
	ASSERT_ERRNO(EINVAL, lseek(fd, -1, SEEK_SET));
	ASSERT_ERRNO(EINVAL, lseek(fd, -101, SEEK_CUR));
	ASSERT_ERRNO(EINVAL, lseek(fd, -(off_t)sr_info(_metadata, fd).size - 1, SEEK_END));
	/* A failed seek leaves the position alone. */
	ASSERT_EQ(100, lseek(fd, 0, SEEK_CUR));
}

TEST_F(sr, lseek_past_end_fails)
{
	int fd = sr_open(_metadata, O_RDONLY);

	ASSERT_ERRNO(EINVAL, lseek(fd, sr_info(_metadata, fd).size + 1, SEEK_SET));
	ASSERT_ERRNO(EINVAL, lseek(fd, 1, SEEK_END));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
}

TEST_F(sr, lseek_end_is_relative_to_size)
{
	int fd = sr_open(_metadata, O_RDONLY);
	uint64_t size = sr_info(_metadata, fd).size;

	ASSERT_EQ(size, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(size - 4096, lseek(fd, -4096, SEEK_END));
	ASSERT_EQ(size - 4000, lseek(fd, 96, SEEK_CUR));
}

TEST_F(sr, unknown_ioctl_fails_enotty)
{
	int fd = sr_open(_metadata, O_RDWR);
	struct simple_remap_info info;

	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IOR('x', 0x00, struct simple_remap_info), &info));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IOR(SIMPLE_REMAP_IOC_MAGIC, 0x7f, __u64), &info));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IOR(SIMPLE_REMAP_IOC_MAGIC, 0x00, __u32), &info));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IOW(SIMPLE_REMAP_IOC_MAGIC, 0x00, struct simple_remap_info), &info));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, 0, 0));
}

TEST_F(sr, info_bad_pointer_fails_efault)
{
	int fd = sr_open(_metadata, O_RDWR);

	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, (void *)1));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, (void *)-4096l));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_ACK, (void *)1));
}

TEST_F(sr, write_to_readonly_fd_fails_ebadf)
{
	int fd = marked(_metadata, O_RDONLY);

	ASSERT_ERRNO(EBADF, pwrite(fd, "x", 1, 0));
	assert_unchanged(_metadata, fd, 0);
}

TEST_F(sr, read_to_bad_pointer_fails_efault)
{
	int fd = sr_open(_metadata, O_RDWR);

	/* Raw syscalls: the libc wrappers are declared never to take NULL. */
	ASSERT_ERRNO(EFAULT, syscall(SYS_pread64, fd, NULL, 16, 0));
	ASSERT_ERRNO(EFAULT, syscall(SYS_pwrite64, fd, (void *)8, 16, 0));
}

TEST_F(sr, insmod_size_zero_fails)
{
	ASSERT_EQ(0, sr_unload());
	ASSERT_EQ(-EINVAL, sr_load("size=0"));
	ASSERT_TRUE(!sr_loaded());
}

TEST_F(sr, insmod_size_too_big_fails)
{
	int kmsg = sr_kmsg_open(_metadata);

	ASSERT_EQ(0, sr_unload());
	ASSERT_EQ(-ENOMEM, sr_load("size=1T"));
	ASSERT_TRUE(sr_kmsg_has(kmsg, "size=1099511627776: more than half of this machine's RAM"));
	/* vmap() counts pages in an unsigned int: 2^32 pages are too many anywhere. */
	ASSERT_EQ(-EINVAL, sr_load("size=16T"));
	ASSERT_TRUE(sr_kmsg_has(kmsg, "size=17592186044416: more than 2^32 pages"));
	ASSERT_EQ(-EINVAL, sr_load("size=18446744073709551615"));
	ASSERT_TRUE(!sr_loaded());
}

/* memparse() would wrap these to one page. */
TEST_F(sr, insmod_size_that_wraps_fails)
{
	int kmsg = sr_kmsg_open(_metadata);

	ASSERT_EQ(0, sr_unload());
	ASSERT_EQ(-EINVAL, sr_load("size=18446744073709555712"));
	ASSERT_TRUE(sr_kmsg_has(kmsg, "size=18446744073709555712: too large"));
	ASSERT_EQ(-EINVAL, sr_load("size=18014398509481985K"));
	ASSERT_TRUE(sr_kmsg_has(kmsg, "size=18014398509481985K: too large"));
	ASSERT_EQ(-EINVAL, sr_load("size=16E"));
	ASSERT_EQ(-EINVAL, sr_load("size=0x10000000000000000"));
	ASSERT_TRUE(!sr_loaded());
	/* The largest suffixed sizes that fit still parse (and are too big). */
	ASSERT_EQ(-EINVAL, sr_load("size=15E"));
	ASSERT_TRUE(sr_kmsg_has(kmsg, "size=17293822569102704640: more than 2^32 pages"));
}

TEST_F(sr, insmod_size_garbage_fails)
{
	ASSERT_EQ(0, sr_unload());
	ASSERT_EQ(-EINVAL, sr_load("size=abc"));
	ASSERT_EQ(-EINVAL, sr_load("size=12Q"));
	ASSERT_EQ(-EINVAL, sr_load("size=-4096"));
	ASSERT_EQ(-EINVAL, sr_load("size=4MK"));
	ASSERT_EQ(-EINVAL, sr_load("size=K"));
	ASSERT_TRUE(!sr_loaded());
	/* Hexadecimal, and suffixes in either case, as memparse() takes them. */
	ASSERT_EQ(0, sr_load("size=0x3000"));
	ASSERT_EQ(0x3000, sr_size(_metadata));
	ASSERT_EQ(0, sr_unload());
	ASSERT_EQ(0, sr_load("size=8k"));
	ASSERT_EQ(8192, sr_size(_metadata));
}

TEST_F(sr, insmod_map_mode_garbage_fails)
{
	ASSERT_EQ(0, sr_unload());
	ASSERT_EQ(-EINVAL, sr_load("map_mode=bogus"));
	ASSERT_TRUE(!sr_loaded());
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
