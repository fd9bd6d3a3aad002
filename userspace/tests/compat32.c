// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctls from a 32-bit process, through compat_ptr_ioctl: built with
 * -m32 (gcc-multilib), run on the 64-bit guest kernel.
 */
#include "sr_test.h"

TEST_F(sr, compat_get_info_matches_sysfs)
{
	int fd = sr_open(_metadata, O_RDWR);
	struct simple_remap_info info = sr_info(_metadata, fd);

	ASSERT_EQ(4, sizeof(long));
	ASSERT_EQ(sr_sysfs(_metadata, SR_PARAM, "size"), info.size);
	ASSERT_EQ(sr_page_size(), info.page_size);
	ASSERT_EQ(SIMPLE_REMAP_ABI_VERSION, info.abi_version);
	ASSERT_EQ(sr_sysfs(_metadata, SR_SYSFS, "nr_chunks"), info.nr_chunks);
}

TEST_F(sr, compat_notify_and_ack)
{
	int fd = sr_open(_metadata, O_RDWR);
	__u64 a = 0, b = 0;

	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, &a));
	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_ACK, &b));
	ASSERT_EQ(a, b);
	ASSERT_EQ(a, sr_info(_metadata, fd).seq);
}

TEST_F(sr, compat_bad_pointer_and_unknown_ioctl_fail)
{
	int fd = sr_open(_metadata, O_RDWR);

	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, (void *)1));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IOR(SIMPLE_REMAP_IOC_MAGIC, 0x7f, __u64), 0));
}

TEST_F(sr, compat_mapping_shares_data)
{
	int fd = sr_open(_metadata, O_RDWR);
	char *p = sr_mmap(_metadata, fd, sr_page_size(), PROT_READ | PROT_WRITE, 0);
	char buf[8] = "";

	strcpy(p, "32-bit");
	ASSERT_EQ(7, pread(fd, buf, 7, 0));
	ASSERT_EQ(0, strcmp(buf, "32-bit"));
}

/* The same layout in both ABIs: the window maps at its offset from 32 bits. */
TEST_F(sr, compat_export_maps_the_window)
{
	struct simple_remap_export req = {
		.offset = 2 * sr_page_size(), .length = sr_page_size(), .flags = O_RDWR, .fd = -1,
	};
	int fd = sr_open(_metadata, O_RDWR);
	char *p;

	ASSERT_EQ(24, sizeof(req));
	ASSERT_EQ(7, pwrite(fd, "32-bit", 7, 2 * sr_page_size()));
	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_EXPORT, &req));
	p = sr_mmap(_metadata, req.fd, sr_page_size(), PROT_READ, 0);
	ASSERT_EQ(0, strcmp(p, "32-bit"));
	req.offset = 1;
	ASSERT_ERRNO(EINVAL, ioctl(fd, SIMPLE_REMAP_IOC_EXPORT, &req));
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
