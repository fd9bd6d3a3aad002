// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's own importers of an exported window (SIMPLE_REMAP_IOC_EXPORT),
 * in every map_mode: V4L2 vivid capturing with V4L2_MEMORY_DMABUF into
 * windows of the buffer (videobuf2-vmalloc imports through vmap), and DRM
 * vgem importing one with PRIME (attach and map_dma_buf). The frames must
 * land in the buffer, seen through the device's mapping, read() and another
 * process's mapping; vgem's attachment must show in debugfs's bufinfo while
 * imported and be gone after GEM_CLOSE, after which the module unloads.
 */
#include <dirent.h>
#include <poll.h>
#include <stdlib.h>

#include <drm/drm.h>
#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "sr_test.h"
#include "vivid.h"

/* Capture buffers, each a window of its own. */
#define NR_BUFS 3
/* Frames dequeued: every buffer more than once. */
#define NR_FRAMES 7
/* What a window holds before vivid writes it: a frame must replace it. */
#define POISON 0xa5

static size_t page_round(size_t n)
{
	return (n + sr_page_size() - 1) & ~(size_t)(sr_page_size() - 1);
}

/* FNV-1a: what two readers compare. */
static uint32_t checksum(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static size_t distinct_bytes(const unsigned char *p, size_t len)
{
	bool seen[256] = { false };
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		n += !seen[p[i]];
		seen[p[i]] = true;
	}
	return n;
}

/*
 * vivid loaded and its capture node set to the smallest webcam frame (the
 * emulated CPU's sake); the frame's size into *@size. 1: this kernel ships
 * no vivid.
 */
static int vivid_open(struct __test_metadata *_metadata, int *cam, size_t *size)
{
	long fmt;
	int ret = 0;

	/* Built in (the debug kernels) or loaded already, it is there. */
	*cam = vivid_capture();
	if (*cam < 0)
		ret = sr_kmod_load("vivid");
	ASSERT_LE(0, ret);
	if (ret)
		return ret;
	if (*cam < 0)
		*cam = vivid_capture();
	ASSERT_LE(0, *cam);
	fmt = vivid_set_format(*cam, 320, 180);
	ASSERT_LT(0, fmt) {
		TH_LOG("VIDIOC_S_FMT: %s", sr_errname(-fmt));
	}
	*size = fmt;
	return 0;
}

static int dmabuf_reqbufs(int cam, unsigned int count)
{
	struct v4l2_requestbuffers req = {
		.count = count,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};

	return ioctl(cam, VIDIOC_REQBUFS, &req) ? -1 : (int)req.count;
}

/* In another process: its own open file and mapping of the device. */
struct reader {
	off_t off;
	size_t len;
	uint32_t sum;
};

static int read_in_place(struct __test_metadata *_metadata, void *arg)
{
	struct reader *r = arg;
	int fd = sr_open(_metadata, O_RDONLY);
	unsigned char *p = sr_mmap(_metadata, fd, r->len, PROT_READ, r->off);

	ASSERT_EQ(r->sum, checksum(p, r->len));
	return 0;
}

/*
 * NR_BUFS windows at a page's offset into the buffer, one a buffer, each
 * poisoned; NR_FRAMES frames dequeued. Each must hold vivid's pattern in
 * place of the poison, the same through this process's mapping, read()
 * and another process's mapping; it is poisoned again and requeued.
 */
TEST_F(sr, v4l2_dmabuf_capture_lands_in_exported_windows)
{
	int fd = sr_open(_metadata, O_RDWR), cam, bufs[NR_BUFS], i, type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	size_t size, stride;
	off_t base = sr_page_size();
	unsigned char *p, *frame, *copy;
	struct v4l2_buffer buf;
	struct pollfd pfd;
	struct reader r;

	if (vivid_open(_metadata, &cam, &size))
		SKIP(return, "this kernel ships no vivid");
	stride = page_round(size);
	ASSERT_LE(base + NR_BUFS * stride, sr_size(_metadata));
	p = sr_mmap(_metadata, fd, base + NR_BUFS * stride, PROT_READ | PROT_WRITE, 0);
	memset(p, POISON, base + NR_BUFS * stride);
	copy = malloc(size);
	ASSERT_NE(NULL, copy);
	ASSERT_LE(NR_BUFS, dmabuf_reqbufs(cam, NR_BUFS));
	for (i = 0; i < NR_BUFS; i++) {
		bufs[i] = sr_export_ok(_metadata, fd, base + i * stride, stride, O_RDWR);
		ASSERT_EQ(0, vivid_qbuf_dmabuf(cam, i, bufs[i], stride)) {
			TH_LOG("VIDIOC_QBUF %d (DMABUF): %s", i, sr_errname(errno));
		}
	}
	ASSERT_EQ(0, ioctl(cam, VIDIOC_STREAMON, &type));
	for (i = 0; i < NR_FRAMES; i++) {
		pfd = (struct pollfd){ .fd = cam, .events = POLLIN };
		ASSERT_EQ(1, poll(&pfd, 1, 30 * 1000));
		memset(&buf, 0, sizeof(buf));
		buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		buf.memory = V4L2_MEMORY_DMABUF;
		ASSERT_EQ(0, ioctl(cam, VIDIOC_DQBUF, &buf));
		ASSERT_GT(NR_BUFS, buf.index);
		ASSERT_EQ(bufs[buf.index], buf.m.fd);
		ASSERT_EQ(size, buf.bytesused);
		ASSERT_EQ(0, buf.flags & V4L2_BUF_FLAG_ERROR);
		frame = p + base + buf.index * stride;
		ASSERT_LE(8, distinct_bytes(frame, size)) {
			TH_LOG("frame %d: %zu distinct byte values: no test pattern", i,
			       distinct_bytes(frame, size));
		}
		/* The poison past the frame's end is the window's, untouched. */
		if (stride > size) {
			ASSERT_EQ(1, distinct_bytes(frame + size, stride - size));
			ASSERT_EQ(POISON, frame[size]);
		}
		ASSERT_EQ((ssize_t)size, pread(fd, copy, size, base + buf.index * stride));
		ASSERT_EQ(0, memcmp(copy, frame, size));
		r = (struct reader){ base + buf.index * stride, size, checksum(frame, size) };
		ASSERT_EQ(0, sr_in_child(_metadata, read_in_place, &r));
		memset(frame, POISON, stride);
		ASSERT_EQ(0, vivid_qbuf_dmabuf(cam, buf.index, bufs[buf.index], stride));
	}
	ASSERT_EQ(0, ioctl(cam, VIDIOC_STREAMOFF, &type));
	/* Nothing outside the windows was written. */
	ASSERT_EQ(1, distinct_bytes(p, base));
	ASSERT_EQ(POISON, p[0]);
	ASSERT_EQ(0, dmabuf_reqbufs(cam, 0));
	close(cam);
	for (i = 0; i < NR_BUFS; i++)
		ASSERT_EQ(0, close(bufs[i]));
	ASSERT_EQ(0, munmap(p, base + NR_BUFS * stride));
	ASSERT_EQ(0, close(fd));
	free(copy);
	/* vivid let go of every window: nothing holds the module. */
	ASSERT_EQ(0, sr_unload());
}

/* videobuf2 checks a DMABUF plane against the frame: a short window is refused. */
TEST_F(sr, v4l2_dmabuf_window_smaller_than_a_frame_fails_einval)
{
	int fd = sr_open(_metadata, O_RDWR), cam, buf;
	size_t size;

	if (vivid_open(_metadata, &cam, &size))
		SKIP(return, "this kernel ships no vivid");
	ASSERT_LE(1, dmabuf_reqbufs(cam, 1));
	buf = sr_export_ok(_metadata, fd, 0, page_round(size) - sr_page_size(), O_RDWR);
	ASSERT_ERRNO(EINVAL, vivid_qbuf_dmabuf(cam, 0, buf, 0));
	ASSERT_EQ(0, dmabuf_reqbufs(cam, 0));
	close(cam);
	ASSERT_EQ(0, close(buf));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, sr_unload());
}

/* The vgem card, opened, and its device's name into @dev; -1 if none. */
static int vgem_card(char *dev, size_t len)
{
	char name[32], path[300], link[200];
	struct drm_version v;
	struct dirent *d;
	ssize_t n;
	DIR *dir;
	int fd;

	dir = opendir("/dev/dri");
	while (dir && (d = readdir(dir))) {
		if (strncmp(d->d_name, "card", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", d->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		snprintf(path, sizeof(path), "/sys/class/drm/%s/device", d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem") && n > 0) {
			link[n] = 0;
			snprintf(dev, len, "%s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
			closedir(dir);
			return fd;
		}
		close(fd);
	}
	if (dir)
		closedir(dir);
	return -1;
}

/*
 * The devices attached to the dma-buf named @name, from bufinfo: their
 * number, -1 if no such dma-buf; each "\t<device>" line after it, up to
 * "Total N devices attached", must name @dev.
 */
static int bufinfo_attachments(struct __test_metadata *_metadata, const char *name,
			       const char *dev)
{
	char line[512], tail[64], want[300];
	int found = -1, listed = 0, total;
	bool in = false;
	FILE *f;

	sr_mount_debugfs();
	f = fopen(SR_BUFINFO, "re");
	ASSERT_NE(NULL, f) {
		TH_LOG("%s: %s", SR_BUFINFO, sr_errname(errno));
	}
	snprintf(tail, sizeof(tail), "\t%s\n", name);
	snprintf(want, sizeof(want), "\t%s\n", dev);
	while (found < 0 && fgets(line, sizeof(line), f)) {
		if (!in) {
			in = strstr(line, "\tsimple_remap\t") && strlen(line) > strlen(tail) &&
			     !strcmp(line + strlen(line) - strlen(tail), tail);
		} else if (sscanf(line, "Total %d devices attached", &total) == 1) {
			found = total;
		} else if (line[0] == '\t' && strcmp(line, "\tAttached Devices:\n") &&
			   !strchr(line + 1, '\t')) {
			/* An attached device's line; fences have more fields. */
			EXPECT_STREQ(want, line);
			listed++;
		}
	}
	fclose(f);
	if (found >= 0)
		EXPECT_EQ(found, listed);
	return found;
}

/*
 * vgem imports a window with PRIME (dma_buf_attach, then map_dma_buf for
 * its device); the attachment shows in bufinfo and holds the module with
 * every descriptor of ours closed. GEM_CLOSE detaches and frees the
 * dma-buf; the module then unloads.
 */
TEST_F(sr, vgem_prime_import_attaches_until_gem_close)
{
	int fd = sr_open(_metadata, O_RDWR), card, buf, ret;
	struct drm_prime_handle prime = { .flags = 0 };
	struct drm_gem_close gem = { 0 };
	long ps = sr_page_size();
	char name[32], dev[256];

	/* Built in (the debug kernels: no /sys/module/vgem) or loaded already. */
	card = vgem_card(dev, sizeof(dev));
	ret = card < 0 ? sr_kmod_load("vgem") : 0;
	ASSERT_LE(0, ret);
	if (ret)
		SKIP(return, "this kernel ships no vgem");
	if (card < 0)
		card = vgem_card(dev, sizeof(dev));
	ASSERT_LE(0, card) {
		TH_LOG("no /dev/dri/card* whose DRM_IOCTL_VERSION says vgem");
	}
	buf = sr_export_ok(_metadata, fd, 2 * ps, 4 * ps, O_RDWR);
	snprintf(name, sizeof(name), "sr-vgem-%d", getpid());
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_SET_NAME, name));
	ASSERT_EQ(0, bufinfo_attachments(_metadata, name, dev));

	prime.fd = buf;
	ASSERT_EQ(0, ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime)) {
		TH_LOG("DRM_IOCTL_PRIME_FD_TO_HANDLE: %s", sr_errname(errno));
	}
	ASSERT_NE(0, prime.handle);
	ASSERT_EQ(1, bufinfo_attachments(_metadata, name, dev));

	/* The import alone holds the dma-buf, and it the module. */
	ASSERT_EQ(0, close(buf));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	ASSERT_EQ(1, bufinfo_attachments(_metadata, name, dev));

	gem.handle = prime.handle;
	ASSERT_EQ(0, ioctl(card, DRM_IOCTL_GEM_CLOSE, &gem));
	ASSERT_ERRNO(EINVAL, ioctl(card, DRM_IOCTL_GEM_CLOSE, &gem));
	/* The dma-buf is gone with its attachment. */
	ASSERT_EQ(-1, bufinfo_attachments(_metadata, name, dev));
	ASSERT_EQ(0, close(card));
	ASSERT_EQ(0, sr_unload());
	ASSERT_FALSE(sr_loaded());
}

/* userspace/examples/camera_share (make run's camera): it runs in every mode. */
TEST_F(sr, camera_share_example_runs)
{
	char *argv[] = { "camera_share", "-n", "4", NULL };
	size_t size;
	int cam;

	if (vivid_open(_metadata, &cam, &size))
		SKIP(return, "this kernel ships no vivid");
	close(cam);
	sr_run_ok(_metadata, argv);
	ASSERT_EQ(0, sr_unload());
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
