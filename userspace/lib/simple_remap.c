// SPDX-License-Identifier: LGPL-2.1-or-later
/* libsimple_remap: see simple_remap.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "simple_remap.h"

int simple_remap_get_info(int fd, struct simple_remap_info *info)
{
	return ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, info) ? -errno : 0;
}

int simple_remap_open(struct simple_remap *sr, const char *path, int flags)
{
	int ret;

	sr->fd = open(path ? path : SIMPLE_REMAP_DEFAULT_PATH, flags | O_CLOEXEC);
	if (sr->fd < 0)
		return -errno;
	ret = simple_remap_get_info(sr->fd, &sr->info);
	if (ret) {
		close(sr->fd);
		sr->fd = -1;
	}
	return ret;
}

void simple_remap_close(struct simple_remap *sr)
{
	if (sr->fd >= 0)
		close(sr->fd);
	sr->fd = -1;
}

int simple_remap_map(const struct simple_remap *sr, uint64_t offset,
		     size_t length, int prot, void **addr)
{
	uint64_t size = sr->info.size;
	void *p;

	if (offset % sr->info.page_size || offset >= size ||
	    length > size - offset)
		return -EINVAL;
	if (!length)
		length = size - offset;
	p = mmap(NULL, length, prot, MAP_SHARED, sr->fd, (off_t)offset);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

int simple_remap_export(const struct simple_remap *sr, uint64_t offset,
			uint64_t length, int flags, int *fd)
{
	struct simple_remap_export req = { .offset = offset, .flags = flags };
	uint64_t size = sr->info.size;

	if (offset >= size || length > size - offset)
		return -EINVAL;
	req.length = length ? length : size - offset;
	if (ioctl(sr->fd, SIMPLE_REMAP_IOC_EXPORT, &req))
		return -errno;
	*fd = req.fd;
	return 0;
}

int simple_remap_unmap(void *addr, size_t length)
{
	return munmap(addr, length) ? -errno : 0;
}

/* NOTIFY and ACK: an ioctl that reports the counter; @seq may be NULL. */
static int simple_remap_ioctl_seq(const struct simple_remap *sr, unsigned long cmd,
				  uint64_t *seq)
{
	__u64 v;

	if (ioctl(sr->fd, cmd, &v))
		return -errno;
	if (seq)
		*seq = v;
	return 0;
}

int simple_remap_notify(const struct simple_remap *sr, uint64_t *seq)
{
	return simple_remap_ioctl_seq(sr, SIMPLE_REMAP_IOC_NOTIFY, seq);
}

int simple_remap_ack(const struct simple_remap *sr, uint64_t *seq)
{
	return simple_remap_ioctl_seq(sr, SIMPLE_REMAP_IOC_ACK, seq);
}

int simple_remap_wait(const struct simple_remap *sr, int timeout_ms)
{
	struct pollfd pfd = { .fd = sr->fd, .events = POLLIN };
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}
