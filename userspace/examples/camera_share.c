// SPDX-License-Identifier: GPL-2.0
/*
 * camera_share: a camera writes its frames straight into the buffer while
 * two other processes read them in place. The camera is vivid (the kernel's
 * virtual V4L2 device, loaded beforehand), capturing with V4L2_MEMORY_DMABUF
 * into windows of the buffer that SIMPLE_REMAP_IOC_EXPORT made: one window
 * per capture buffer, after a header page. For each frame the capturing
 * process writes which window holds it into the header and notifies; each
 * reader, with its own open file and mapping of /dev/simple_remap,
 * checksums the frame where it lies and reports the sum in the header; the
 * frame is requeued once both have. One line per frame shows the three
 * sums, which must be equal.
 *
 *	camera_share [-n FRAMES]	(default 8)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "simple_remap.h"
#include "vivid.h"

#define NR_BUFS 3
#define NR_READERS 2

/* The buffer's first page: what the camera tells the readers. */
struct header {
	_Atomic uint32_t frame;		/* frames published; 0: none yet */
	uint32_t index;			/* the window of the latest */
	uint64_t offset;		/* its byte offset in the buffer */
	uint64_t bytes;			/* the frame's bytes */
	_Atomic uint32_t done[NR_READERS]; /* the last frame each reader summed */
	uint32_t sum[NR_READERS];	/* and its checksum */
};

/* FNV-1a over the frame, where it lies. */
static uint32_t checksum(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "camera_share: %s: %s\n", what, strerror(err));
	return 1;
}

/* A reader: its own open file and mapping; sums each frame in place. */
static int reader(int id, int frames)
{
	struct simple_remap sr;
	struct header *h;
	unsigned char *p;
	uint32_t seen = 0, now;

	int ret;

	/* The frames read-only; the header, where it reports, writable. */
	ret = simple_remap_open(&sr, NULL, O_RDWR);
	if (!ret)
		ret = simple_remap_map(&sr, 0, 0, PROT_READ, (void **)&p);
	if (!ret)
		ret = simple_remap_map(&sr, 0, sysconf(_SC_PAGESIZE),
				       PROT_READ | PROT_WRITE, (void **)&h);
	if (ret)
		return fail("reader: open and map /dev/simple_remap", -ret);
	while ((int)seen < frames) {
		now = atomic_load(&h->frame);
		if (now == seen) {
			simple_remap_wait(&sr, 1000);
			simple_remap_ack(&sr, NULL);
			continue;
		}
		seen = now;
		h->sum[id] = checksum(p + h->offset, h->bytes);
		atomic_store(&h->done[id], seen);
	}
	printf("reader %c (pid %d): %d frames read in place through its own mapping\n",
	       'A' + id, getpid(), frames);
	return 0;
}

/* Until every reader has summed @frame. */
static void wait_readers(struct header *h, uint32_t frame)
{
	struct timespec tick = { 0, 1000 * 1000 };
	int i;

	for (i = 0; i < NR_READERS; i++)
		while (atomic_load(&h->done[i]) != frame)
			nanosleep(&tick, NULL);
}

/* @h: the header, at the start of a mapping of the whole buffer. */
static int capture(struct simple_remap *sr, int cam, struct header *h,
		   int frames)
{
	struct v4l2_requestbuffers req = {
		.count = NR_BUFS,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, bufs[NR_BUFS], i, bad = 0, ret;
	long ps = sysconf(_SC_PAGESIZE), size;
	struct v4l2_buffer buf;
	struct pollfd pfd;
	uint32_t sum;
	size_t stride;
	uint64_t off;

	size = vivid_set_format(cam, 320, 180);
	if (size < 0)
		return fail("VIDIOC_S_FMT", -size);
	stride = (size + ps - 1) & ~(size_t)(ps - 1);
	if (ps + NR_BUFS * stride > sr->info.size)
		return fail("the buffer is too small for the frames", ENOSPC);
	if (ioctl(cam, VIDIOC_REQBUFS, &req))
		return fail("VIDIOC_REQBUFS (DMABUF)", errno);
	for (i = 0; i < NR_BUFS; i++) {
		off = ps + i * stride;
		ret = simple_remap_export(sr, off, stride, O_RDWR | O_CLOEXEC, &bufs[i]);
		if (ret)
			return fail("SIMPLE_REMAP_IOC_EXPORT", -ret);
		if (vivid_qbuf_dmabuf(cam, i, bufs[i], stride))
			return fail("VIDIOC_QBUF", errno);
		printf("camera: buffer %d is the dma-buf of the window at %#llx, %zu bytes\n",
		       i, (unsigned long long)off, stride);
	}
	if (ioctl(cam, VIDIOC_STREAMON, &type))
		return fail("VIDIOC_STREAMON", errno);
	for (i = 1; i <= frames; i++) {
		pfd = (struct pollfd){ .fd = cam, .events = POLLIN };
		if (poll(&pfd, 1, 30 * 1000) != 1)
			return fail("waiting for a frame", ETIMEDOUT);
		memset(&buf, 0, sizeof(buf));
		buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		buf.memory = V4L2_MEMORY_DMABUF;
		if (ioctl(cam, VIDIOC_DQBUF, &buf))
			return fail("VIDIOC_DQBUF", errno);
		h->index = buf.index;
		h->offset = ps + buf.index * stride;
		h->bytes = buf.bytesused;
		sum = checksum((unsigned char *)h + h->offset, h->bytes);
		atomic_store(&h->frame, i);
		simple_remap_notify(sr, NULL);
		wait_readers(h, i);
		bad += h->sum[0] != sum || h->sum[1] != sum;
		printf("frame %d: window %u at %#llx, %llu bytes: camera %08x, reader A %08x, reader B %08x: %s\n",
		       i, buf.index, (unsigned long long)h->offset,
		       (unsigned long long)h->bytes, sum, h->sum[0], h->sum[1],
		       h->sum[0] == sum && h->sum[1] == sum ? "same" : "DIFFERENT");
		fflush(stdout);
		if (vivid_qbuf_dmabuf(cam, buf.index, bufs[buf.index], stride))
			return fail("VIDIOC_QBUF", errno);
	}
	ioctl(cam, VIDIOC_STREAMOFF, &type);
	req.count = 0;
	ioctl(cam, VIDIOC_REQBUFS, &req);
	for (i = 0; i < NR_BUFS; i++)
		close(bufs[i]);
	return bad != 0;
}

int main(int argc, char **argv)
{
	int frames = 8, opt, cam, i, ret, status;
	pid_t pids[NR_READERS];
	struct simple_remap sr;
	struct header *h;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || atoi(optarg) <= 0) {
			fprintf(stderr, "usage: camera_share [-n FRAMES]\n");
			return 2;
		}
		frames = atoi(optarg);
	}
	cam = vivid_capture();
	if (cam < 0) {
		fprintf(stderr, "camera_share: no vivid capture device (modprobe vivid)\n");
		return 1;
	}
	ret = simple_remap_open(&sr, NULL, O_RDWR);
	if (!ret)
		ret = simple_remap_map(&sr, 0, 0, PROT_READ | PROT_WRITE,
				       (void **)&h);
	if (ret)
		return fail("open and map /dev/simple_remap", -ret);
	memset(h, 0, sizeof(*h));
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < NR_READERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			/* A reader does not outlive the camera. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(cam);
			simple_remap_close(&sr);
			fflush(stdout);
			_exit(reader(i, frames));
		}
		if (pids[i] < 0)
			return fail("fork", errno);
	}
	ret = capture(&sr, cam, h, frames);
	if (ret)
		for (i = 0; i < NR_READERS; i++)
			kill(pids[i], SIGKILL);
	for (i = 0; i < NR_READERS; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ret = 1;
	close(cam);
	simple_remap_close(&sr);
	return ret;
}
