// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's own users of get_user_pages() on the mapping, each against
 * a real consumer in the guest: O_DIRECT and io_uring fixed buffers between
 * the scratch disk (qemu.sh's /dev/vda) and the mapping, and V4L2 USERPTR
 * capture from vivid into it. Where the map_mode's pages can be pinned
 * (sr_mode_pinnable()) the data must arrive, checked through the mapping
 * and through read() of the device; elsewhere each consumer gets the
 * kernel's refusal, and nothing moves.
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/uio.h>

#include <liburing.h>
#include <linux/videodev2.h>

#include "sr_test.h"
#include "vivid.h"

#define DISK "/dev/vda"
/* A transfer: several pages, so that a bio or a pin spans more than one. */
#define LEN (256 * 1024)

/* Every byte its own, per test: a stale or misplaced page shows. */
static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((i * 131 + seed) ^ (i >> 8));
}

static bool filled(const unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)((i * 131 + seed) ^ (i >> 8)))
			return false;
	return true;
}

static bool zeroed(const unsigned char *p, size_t len)
{
	return !p[0] && !memcmp(p, p + 1, len - 1);
}

/* Page-aligned memory of the process's own: the disk's side of a check. */
static unsigned char *anon(struct __test_metadata *_metadata, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	return p;
}

/* What read() of the device returns at @off: the buffer, not the mapping. */
static unsigned char *device_bytes(struct __test_metadata *_metadata, int fd, off_t off,
				   size_t len)
{
	unsigned char *buf = anon(_metadata, len);

	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, off));
	return buf;
}

/* The disk's bytes at @off, read with O_DIRECT into memory of our own. */
static bool disk_filled(struct __test_metadata *_metadata, int disk, off_t off, unsigned int seed)
{
	unsigned char *buf = anon(_metadata, LEN);
	bool ok;

	ASSERT_EQ(LEN, pread(disk, buf, LEN, off));
	ok = filled(buf, LEN, seed);
	munmap(buf, LEN);
	return ok;
}

/* Put @seed's bytes on the disk at @off from memory of our own. */
static void disk_fill(struct __test_metadata *_metadata, int disk, off_t off, unsigned int seed)
{
	unsigned char *buf = anon(_metadata, LEN);

	fill(buf, LEN, seed);
	ASSERT_EQ(LEN, pwrite(disk, buf, LEN, off));
	munmap(buf, LEN);
}

/*
 * The scratch disk, opened for direct I/O, into *@disk. Debian builds
 * virtio_blk (and in 6.1 virtio_pci) as modules: loaded first. 1 when the
 * kernel ships no virtio_blk (the debug kernel), for the test to skip.
 */
static int disk_open(struct __test_metadata *_metadata, int *disk)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int ret = 0, i;

	if (access(DISK, F_OK))
		ret = sr_kmod_load("virtio_pci") ?: sr_kmod_load("virtio_blk");
	ASSERT_LE(0, ret);
	if (ret)
		return ret;
	/* The disk's probe may come a moment after the load: up to 10 s. */
	for (i = 0; i < 1000 && access(DISK, F_OK); i++)
		nanosleep(&tick, NULL);
	*disk = open(DISK, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, *disk) {
		TH_LOG("%s (qemu.sh's scratch disk): %s", DISK, sr_errname(errno));
	}
	return 0;
}

/*
 * Before 6.5's 34ed8d0dcd69 ("io_uring: rsrc: delegate VMA file-backed
 * check to GUP"), IORING_REGISTER_BUFFERS refused every file mapping but
 * shmem's and hugetlbfs's with EOPNOTSUPP: our page modes' VMA is the
 * device's (its vm_ops are ours), although its pages are tmpfs's.
 */
static bool io_uring_refuses_file_mappings(void)
{
	return sr_kernel_before(6, 5);
}

/* IORING_REGISTER_BUFFERS of a mapping in @map_mode: 0 or -errno, as liburing says. */
static int io_uring_register_result(const char *map_mode)
{
	if (!sr_mode_pinnable(map_mode))
		return -EFAULT;
	return io_uring_refuses_file_mappings() ? -EOPNOTSUPP : 0;
}

TEST_F(sr, o_direct_moves_data_between_disk_and_mapping)
{
	int fd = sr_open(_metadata, O_RDWR), disk;
	unsigned char *p = sr_mmap(_metadata, fd, 2 * LEN, PROT_READ | PROT_WRITE, 0);
	unsigned char *out = p, *in = p + LEN;

	if (disk_open(_metadata, &disk))
		SKIP(return, "this kernel ships no virtio_blk for the scratch disk");
	/* What the disk holds before: a refused write must leave it. */
	disk_fill(_metadata, disk, 0, 1);
	fill(out, LEN, 2);
	memset(in, 0, LEN);
	if (!sr_mode_pinnable(variant->map_mode)) {
		ASSERT_ERRNO(EFAULT, pwrite(disk, out, LEN, 0));
		ASSERT_ERRNO(EFAULT, pread(disk, in, LEN, 0));
		ASSERT_TRUE(disk_filled(_metadata, disk, 0, 1));
		ASSERT_TRUE(zeroed(in, LEN));
		return;
	}
	/* The mapping to the disk, then back into another part of it. */
	ASSERT_EQ(LEN, pwrite(disk, out, LEN, 0));
	ASSERT_TRUE(disk_filled(_metadata, disk, 0, 2));
	ASSERT_EQ(LEN, pread(disk, in, LEN, 0));
	ASSERT_TRUE(filled(in, LEN, 2));
	ASSERT_TRUE(filled(device_bytes(_metadata, fd, LEN, LEN), LEN, 2));
}

TEST_F(sr, io_uring_fixed_buffers_move_data_between_disk_and_mapping)
{
	int fd = sr_open(_metadata, O_RDWR), disk, err, ret, i;
	unsigned char *p = sr_mmap(_metadata, fd, 2 * LEN, PROT_READ | PROT_WRITE, 0);
	unsigned char *out = p, *in = p + LEN;
	struct iovec iov = { p, 2 * LEN };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;

	if (disk_open(_metadata, &disk))
		SKIP(return, "this kernel ships no virtio_blk for the scratch disk");
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret == -ENOSYS)
		SKIP(return, "this kernel has no io_uring");
	ASSERT_EQ(0, ret) {
		TH_LOG("io_uring_queue_init: %s", sr_errname(-ret));
	}
	disk_fill(_metadata, disk, LEN, 3);
	fill(out, LEN, 4);
	memset(in, 0, LEN);
	err = io_uring_register_result(variant->map_mode);
	ksft_print_msg("IORING_REGISTER_BUFFERS of a %s mapping on this kernel: %s expected\n",
		       variant->map_mode, sr_errname(-err));
	ret = io_uring_register_buffers(&ring, &iov, 1);
	ASSERT_EQ(err, ret) {
		TH_LOG("IORING_REGISTER_BUFFERS of the mapping: expected %s, got %s",
		       sr_errname(-err), sr_errname(-ret));
	}
	/* A fixed write, then a fixed read, of the registered mapping; refused: none there. */
	for (i = 0; i < 2; i++) {
		sqe = io_uring_get_sqe(&ring);
		ASSERT_NE(NULL, sqe);
		if (i == 0)
			io_uring_prep_write_fixed(sqe, disk, out, LEN, LEN, 0);
		else
			io_uring_prep_read_fixed(sqe, disk, in, LEN, LEN, 0);
		ASSERT_EQ(1, io_uring_submit(&ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		ASSERT_EQ(err ? -EFAULT : LEN, ret) {
			TH_LOG("fixed %s: %s", i ? "read" : "write", sr_errname(-ret));
		}
	}
	if (err) {
		ASSERT_TRUE(disk_filled(_metadata, disk, LEN, 3));
		ASSERT_TRUE(zeroed(in, LEN));
	} else {
		ASSERT_TRUE(disk_filled(_metadata, disk, LEN, 4));
		ASSERT_TRUE(filled(in, LEN, 4));
		ASSERT_TRUE(filled(device_bytes(_metadata, fd, LEN, LEN), LEN, 4));
		ASSERT_EQ(0, io_uring_unregister_buffers(&ring));
	}
	io_uring_queue_exit(&ring);
}

/*
 * vivid's default allocator is vmalloc, which takes USERPTR buffers by
 * pinning them (vb2_create_framevec(): pin_user_pages_fast(FOLL_LONGTERM)).
 * Two buffers in the mapping, as vivid may want two queued to stream.
 */
TEST_F(sr, v4l2_userptr_capture_lands_in_mapping)
{
	int fd = sr_open(_metadata, O_RDWR), cam, ret, i, type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_requestbuffers req = {
		.count = 2,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_USERPTR,
	};
	struct v4l2_buffer buf;
	size_t stride, size, distinct = 0;
	bool seen[256] = { false };
	struct pollfd pfd;
	unsigned char *p, *frame;
	long fmt;

	ret = sr_kmod_load("vivid");
	ASSERT_LE(0, ret);
	if (ret)
		SKIP(return, "this kernel ships no vivid");
	cam = vivid_capture();
	ASSERT_LE(0, cam);
	/* The smallest webcam frame, for the emulated CPU's sake. */
	fmt = vivid_set_format(cam, 320, 180);
	ASSERT_LT(0, fmt) {
		TH_LOG("VIDIOC_S_FMT: %s", sr_errname(-fmt));
	}
	size = fmt;
	stride = (size + sr_page_size() - 1) & ~(size_t)(sr_page_size() - 1);
	p = sr_mmap(_metadata, fd, 2 * stride, PROT_READ | PROT_WRITE, 0);
	memset(p, 0, 2 * stride);
	ASSERT_EQ(0, ioctl(cam, VIDIOC_REQBUFS, &req));
	ASSERT_LE(2, req.count);
	for (i = 0; i < 2; i++) {
		memset(&buf, 0, sizeof(buf));
		buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		buf.memory = V4L2_MEMORY_USERPTR;
		buf.index = i;
		buf.m.userptr = (unsigned long)(p + i * stride);
		buf.length = size;
		if (!sr_mode_pinnable(variant->map_mode)) {
			ASSERT_ERRNO(EFAULT, ioctl(cam, VIDIOC_QBUF, &buf));
			continue;
		}
		ASSERT_EQ(0, ioctl(cam, VIDIOC_QBUF, &buf)) {
			TH_LOG("VIDIOC_QBUF %d: %s", i, sr_errname(errno));
		}
	}
	if (!sr_mode_pinnable(variant->map_mode)) {
		ASSERT_TRUE(zeroed(p, 2 * stride));
		return;
	}
	ASSERT_EQ(0, ioctl(cam, VIDIOC_STREAMON, &type));
	pfd = (struct pollfd){ .fd = cam, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 30 * 1000));
	memset(&buf, 0, sizeof(buf));
	buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	buf.memory = V4L2_MEMORY_USERPTR;
	ASSERT_EQ(0, ioctl(cam, VIDIOC_DQBUF, &buf));
	ASSERT_EQ(size, buf.bytesused);
	ASSERT_GT(2U, buf.index);
	ASSERT_EQ((unsigned long)(p + buf.index * stride), buf.m.userptr);
	/* The frame as read() of the device sees it: vivid's pattern, the mapping's bytes. */
	frame = device_bytes(_metadata, fd, buf.index * stride, size);
	ASSERT_EQ(0, memcmp(frame, p + buf.index * stride, size));
	for (i = 0; i < (int)size; i++) {
		distinct += !seen[frame[i]];
		seen[frame[i]] = true;
	}
	ASSERT_LE(8, distinct) {
		TH_LOG("the frame has %zu distinct byte values: no test pattern", distinct);
	}
	ASSERT_EQ(0, ioctl(cam, VIDIOC_STREAMOFF, &type));
	req.count = 0;
	ASSERT_EQ(0, ioctl(cam, VIDIOC_REQBUFS, &req));
	close(cam);
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
