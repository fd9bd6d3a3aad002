/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vivid, the kernel's virtual camera, as the examples, the tests and the
 * bench drive it: its capture node, a frame size, a dma-buf queued as a
 * capture buffer.
 */
#ifndef VIVID_H
#define VIVID_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/videodev2.h>

/* vivid's video capture node, opened; -1 if it has none. */
static inline int vivid_capture(void)
{
	struct v4l2_capability cap;
	char path[32];
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) && !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    (cap.device_caps & V4L2_CAP_STREAMING))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * YUYV frames of @width x @height (one of vivid's webcam sizes; 320x180 is
 * the smallest, for the emulated CPU's sake): the frame's bytes, or -errno.
 */
static inline long vivid_set_format(int cam, unsigned int width, unsigned int height)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	if (ioctl(cam, VIDIOC_G_FMT, &fmt))
		return -errno;
	fmt.fmt.pix.width = width;
	fmt.fmt.pix.height = height;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	if (ioctl(cam, VIDIOC_S_FMT, &fmt))
		return -errno;
	return fmt.fmt.pix.sizeimage ? (long)fmt.fmt.pix.sizeimage : -EINVAL;
}

/* Queue the dma-buf @fd, @length bytes, as capture buffer @index: ioctl()'s result. */
static inline int vivid_qbuf_dmabuf(int cam, unsigned int index, int fd, size_t length)
{
	struct v4l2_buffer buf = {
		.index = index,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
		.m.fd = fd,
		.length = length,
	};

	return ioctl(cam, VIDIOC_QBUF, &buf);
}

#endif /* VIVID_H */
