// SPDX-License-Identifier: GPL-2.0
/*
 * SIMPLE_REMAP_IOC_EXPORT: a window of the buffer as a dma-buf. What it
 * refuses (with no descriptor made and no module reference kept), how the
 * dma-buf maps, its sync and name ioctls, its lifetime, and handing a
 * read-only window to a process that cannot open the node.
 */
#include <grp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/dma-buf.h>

#include "sr_test.h"

/* A uid and gid that may not open the node (0600 root). */
#define SR_NOBODY 65534

/* The export fails with @err and leaves no descriptor and no reference behind. */
static void assert_export_fails(struct __test_metadata *_metadata, int err, int fd,
				uint64_t offset, uint64_t length, uint32_t flags)
{
	int fds = sr_fd_count(_metadata);
	long long refs = sr_refcnt(_metadata);

	ASSERT_ERRNO(err, sr_export(fd, offset, length, flags)) {
		TH_LOG("export %#llx bytes at %#llx, flags %#x", (unsigned long long)length,
		       (unsigned long long)offset, flags);
	}
	ASSERT_EQ(fds, sr_fd_count(_metadata));
	ASSERT_EQ(refs, sr_refcnt(_metadata));
}

TEST_F(sr, export_of_unaligned_offset_or_length_fails_einval)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();

	assert_export_fails(_metadata, EINVAL, fd, 1, ps, O_RDWR);
	assert_export_fails(_metadata, EINVAL, fd, ps / 2, ps, O_RDONLY);
	assert_export_fails(_metadata, EINVAL, fd, 0, ps + 1, O_RDWR);
	assert_export_fails(_metadata, EINVAL, fd, ps, ps - 1, O_RDONLY);
}

TEST_F(sr, export_of_zero_length_fails_einval)
{
	int fd = sr_open(_metadata, O_RDWR);

	assert_export_fails(_metadata, EINVAL, fd, 0, 0, O_RDWR);
	assert_export_fails(_metadata, EINVAL, fd, sr_page_size(), 0, O_RDONLY);
}

/* Checked without overflow: offset + length never wraps into the buffer. */
TEST_F(sr, export_past_the_end_fails_einval)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t size = sr_size(_metadata), ps = sr_page_size();

	assert_export_fails(_metadata, EINVAL, fd, 0, size + ps, O_RDWR);
	assert_export_fails(_metadata, EINVAL, fd, ps, size, O_RDWR);
	assert_export_fails(_metadata, EINVAL, fd, size, ps, O_RDONLY);
	assert_export_fails(_metadata, EINVAL, fd, 1ull << 62, ps, O_RDONLY);
	assert_export_fails(_metadata, EINVAL, fd, ps, -ps, O_RDONLY);
	assert_export_fails(_metadata, EINVAL, fd, -ps, 2 * ps, O_RDONLY);
}

TEST_F(sr, export_with_unknown_flags_fails_einval)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();

	assert_export_fails(_metadata, EINVAL, fd, 0, ps, O_WRONLY);
	assert_export_fails(_metadata, EINVAL, fd, 0, ps, O_ACCMODE);
	assert_export_fails(_metadata, EINVAL, fd, 0, ps, O_RDWR | O_NONBLOCK);
	assert_export_fails(_metadata, EINVAL, fd, 0, ps, O_RDONLY | O_APPEND);
	assert_export_fails(_metadata, EINVAL, fd, 0, ps, O_RDWR | 0x80000000u);
}

/* An export never grants more than its maker has. */
TEST_F(sr, writable_export_of_readonly_file_fails_eacces)
{
	int fd = sr_open(_metadata, O_RDONLY);

	assert_export_fails(_metadata, EACCES, fd, 0, sr_page_size(), O_RDWR);
	assert_export_fails(_metadata, EACCES, fd, 0, sr_page_size(), O_RDWR | O_CLOEXEC);
}

TEST_F(sr, export_with_bad_pointer_fails_efault)
{
	int fd = sr_open(_metadata, O_RDWR), fds = sr_fd_count(_metadata);
	long long refs = sr_refcnt(_metadata);

	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_EXPORT, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_EXPORT, (void *)8));
	ASSERT_EQ(fds, sr_fd_count(_metadata));
	ASSERT_EQ(refs, sr_refcnt(_metadata));
}

/*
 * A request the driver can read but not answer (read-only memory): the
 * dma-buf was made, but its descriptor must not be left installed where
 * the caller cannot learn its number.
 */
TEST_F(sr, export_whose_result_cannot_be_stored_fails_efault_with_no_fd)
{
	int fd = sr_open(_metadata, O_RDWR), fds = sr_fd_count(_metadata);
	struct simple_remap_export *req;
	long long refs = sr_refcnt(_metadata);

	req = mmap(NULL, sr_page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, req);
	*req = (struct simple_remap_export){ .length = sr_page_size(), .flags = O_RDWR, .fd = -1 };
	ASSERT_EQ(0, mprotect(req, sr_page_size(), PROT_READ));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_EXPORT, req));
	ASSERT_EQ(-1, req->fd);
	ASSERT_EQ(fds, sr_fd_count(_metadata));
	ASSERT_EQ(refs, sr_refcnt(_metadata));
}

TEST_F(sr, export_fd_has_the_access_and_cloexec_asked_for)
{
	int fd = sr_open(_metadata, O_RDWR), ro, rw;
	long ps = sr_page_size();

	ro = sr_export_ok(_metadata, fd, 0, ps, O_RDONLY);
	rw = sr_export_ok(_metadata, fd, ps, ps, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(O_RDONLY, fcntl(ro, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(O_RDWR, fcntl(rw, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, fcntl(ro, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(FD_CLOEXEC, fcntl(rw, F_GETFD) & FD_CLOEXEC);
	/* A read-only file may export read-only. */
	close(fd);
	fd = sr_open(_metadata, O_RDONLY);
	close(sr_export_ok(_metadata, fd, 0, ps, O_RDONLY));
	ASSERT_EQ(ps, lseek(ro, 0, SEEK_END));
}

/* Bytes written through one mapping are read through the other, both ways. */
TEST_F(sr, export_maps_its_window_of_the_buffer)
{
	int fd = sr_open(_metadata, O_RDWR), buf;
	long ps = sr_page_size();
	char *dev = sr_mmap(_metadata, fd, 8 * ps, PROT_READ | PROT_WRITE, 0), *win, *part;

	buf = sr_export_ok(_metadata, fd, 2 * ps, 4 * ps, O_RDWR);
	win = sr_mmap(_metadata, buf, 4 * ps, PROT_READ | PROT_WRITE, 0);
	strcpy(dev + 2 * ps + 10, "device to dma-buf");
	ASSERT_STREQ("device to dma-buf", win + 10);
	strcpy(win + 3 * ps + 20, "dma-buf to device");
	ASSERT_STREQ("dma-buf to device", dev + 5 * ps + 20);
	/* An mmap() offset counts from the window's start. */
	part = sr_mmap(_metadata, buf, ps, PROT_READ | PROT_WRITE, 3 * ps);
	ASSERT_STREQ("dma-buf to device", part + 20);
	strcpy(part + 100, "at an offset");
	ASSERT_STREQ("at an offset", dev + 5 * ps + 100);
	/* And the mappings are the device's: GET_INFO counts them. */
	ASSERT_EQ(3, sr_info(_metadata, fd).mappings);
}

/* In each map_mode the export maps the way that mode maps the device. */
TEST_F(sr, export_mapping_pins_like_the_device_mapping)
{
	int fd = sr_open(_metadata, O_RDWR), buf;
	char *p, out[16] = "";
	struct iovec local = { out, 12 }, remote;

	buf = sr_export_ok(_metadata, fd, 0, sr_page_size(), O_RDWR);
	p = sr_mmap(_metadata, buf, sr_page_size(), PROT_READ | PROT_WRITE, 0);
	strcpy(p, "remote read");
	remote = (struct iovec){ p, 12 };
	if (sr_pfnmap(_metadata)) {
		ASSERT_ERRNO(EFAULT, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	} else {
		ASSERT_EQ(12, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
		ASSERT_STREQ("remote read", out);
	}
}

TEST_F(sr, export_mmap_private_fails_einval)
{
	int fd = sr_open(_metadata, O_RDWR);
	int buf = sr_export_ok(_metadata, fd, 0, sr_page_size(), O_RDWR);

	ASSERT_ERRNO(EINVAL, (long)mmap(NULL, sr_page_size(), PROT_READ, MAP_PRIVATE, buf, 0));
}

TEST_F(sr, export_mmap_exec_fails_eperm_and_mprotect_exec_eacces)
{
	int fd = sr_open(_metadata, O_RDWR);
	int buf = sr_export_ok(_metadata, fd, 0, sr_page_size(), O_RDWR);
	char *p;

	ASSERT_ERRNO(EPERM, (long)mmap(NULL, sr_page_size(), PROT_READ | PROT_EXEC, MAP_SHARED,
				      buf, 0));
	p = sr_mmap(_metadata, buf, sr_page_size(), PROT_READ, 0);
	ASSERT_ERRNO(EACCES, mprotect(p, sr_page_size(), PROT_READ | PROT_EXEC));
}

TEST_F(sr, export_mmap_past_its_window_fails_einval)
{
	int fd = sr_open(_metadata, O_RDWR);
	long ps = sr_page_size();
	int buf = sr_export_ok(_metadata, fd, ps, 2 * ps, O_RDWR);

	/* The buffer goes on past the window; the mapping may not. */
	ASSERT_ERRNO(EINVAL, (long)mmap(NULL, 3 * ps, PROT_READ, MAP_SHARED, buf, 0));
	ASSERT_ERRNO(EINVAL, (long)mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, buf, ps));
	ASSERT_ERRNO(EINVAL, (long)mmap(NULL, ps, PROT_READ, MAP_SHARED, buf, 2 * ps));
	ASSERT_ERRNO(EINVAL, (long)mmap(NULL, ps, PROT_READ, MAP_SHARED, buf, 1ll << 62));
	ASSERT_EQ(0, sr_info(_metadata, fd).mappings);
}

TEST_F(sr, readonly_export_cannot_be_mapped_or_made_writable_eacces)
{
	int fd = sr_open(_metadata, O_RDWR);
	int buf = sr_export_ok(_metadata, fd, 0, sr_page_size(), O_RDONLY);
	char *p;

	ASSERT_ERRNO(EACCES, (long)mmap(NULL, sr_page_size(), PROT_READ | PROT_WRITE, MAP_SHARED,
				       buf, 0));
	p = sr_mmap(_metadata, buf, sr_page_size(), PROT_READ, 0);
	ASSERT_ERRNO(EACCES, mprotect(p, sr_page_size(), PROT_READ | PROT_WRITE));
}

TEST_F(sr, export_sync_start_and_end_work_and_bad_flags_fail_einval)
{
	static const uint64_t ok[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
	};
	int fd = sr_open(_metadata, O_RDWR);
	int buf = sr_export_ok(_metadata, fd, 0, sr_page_size(), O_RDWR);
	struct dma_buf_sync sync;
	size_t i;
	char *p;

	p = sr_mmap(_metadata, buf, sr_page_size(), PROT_READ | PROT_WRITE, 0);
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		sync.flags = ok[i];
		ASSERT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync)) {
			TH_LOG("DMA_BUF_IOCTL_SYNC %#llx: %s", (unsigned long long)ok[i],
			       sr_errname(errno));
		}
		p[i] = 'a' + i;
	}
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW | 0x100;
	ASSERT_ERRNO(EINVAL, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync));
	sync.flags = DMA_BUF_SYNC_START;
	ASSERT_ERRNO(EINVAL, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync));
	ASSERT_EQ(0, memcmp(p, "abcdef", 6));
}

/* A line of @path holding every one of @needles, or -1 if @path cannot be read. */
static int file_has_line(const char *path, const char *const *needles, size_t n)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int found = 0;
	size_t i;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		for (i = 0; i < n && strstr(line, needles[i]); i++)
			;
		found = i == n;
	}
	fclose(f);
	return found;
}

TEST_F(sr, export_name_shows_in_fdinfo_and_bufinfo)
{
	int fd = sr_open(_metadata, O_RDWR), buf;
	char name[32], path[64], size[32], tail[48];
	long ps = sr_page_size();

	buf = sr_export_ok(_metadata, fd, ps, 3 * ps, O_RDWR);
	snprintf(name, sizeof(name), "sr-window-%d", getpid());
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_SET_NAME, name)) {
		TH_LOG("DMA_BUF_SET_NAME: %s", sr_errname(errno));
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", buf);
	snprintf(tail, sizeof(tail), "name:\t%s\n", name);
	ASSERT_EQ(1, file_has_line(path, (const char *[]){ "exp_name:\tsimple_remap\n" }, 1));
	ASSERT_EQ(1, file_has_line(path, (const char *[]){ tail }, 1));
	snprintf(tail, sizeof(tail), "size:\t%ld\n", 3 * ps);
	ASSERT_EQ(1, file_has_line(path, (const char *[]){ tail }, 1));

	sr_mount_debugfs();
	/* "<size>\t<flags>\t<mode>\t<count>\tsimple_remap\t<ino>\t<name>" */
	snprintf(size, sizeof(size), "%08ld\t", 3 * ps);
	snprintf(tail, sizeof(tail), "\t%s\n", name);
	ASSERT_EQ(1, file_has_line(SR_BUFINFO, (const char *[]){ size, "\tsimple_remap\t", tail },
				   3)) {
		TH_LOG("no line '%s...simple_remap...%s' in %s", size, name, SR_BUFINFO);
	}
	close(buf);
	ASSERT_EQ(0, file_has_line(SR_BUFINFO, (const char *[]){ "\tsimple_remap\t", tail }, 2));
}

/* The dma-buf keeps what it needs: the device file that made it may go. */
TEST_F(sr, export_outlives_the_device_file_that_made_it)
{
	int fd = sr_open(_metadata, O_RDWR), buf;
	long ps = sr_page_size();
	char *p;

	ASSERT_EQ(5, pwrite(fd, "alive", 5, 3 * ps));
	buf = sr_export_ok(_metadata, fd, 2 * ps, 2 * ps, O_RDWR);
	ASSERT_EQ(0, close(fd));
	p = sr_mmap(_metadata, buf, 2 * ps, PROT_READ | PROT_WRITE, 0);
	ASSERT_EQ(0, memcmp(p + ps, "alive", 5));
	ASSERT_EQ(0, close(buf));
	ASSERT_EQ(0, memcmp(p + ps, "alive", 5));
	memcpy(p, "still", 5);
	fd = sr_open(_metadata, O_RDONLY);
	ASSERT_EQ(1, sr_info(_metadata, fd).mappings);
	ASSERT_EQ(0, munmap(p, 2 * ps));
	ASSERT_EQ(0, sr_info(_metadata, fd).mappings);
}

/*
 * The module stays while an export lives, through its descriptor or a
 * mapping of it, with the device itself closed; it unloads after.
 */
TEST_F(sr, rmmod_fails_while_an_export_lives_then_succeeds)
{
	int fd = sr_open(_metadata, O_RDWR), buf;
	long ps = sr_page_size();
	char *p;

	buf = sr_export_ok(_metadata, fd, 0, 2 * ps, O_RDONLY);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	p = sr_mmap(_metadata, buf, 2 * ps, PROT_READ, 0);
	ASSERT_EQ(0, close(buf));
	/* The mapping holds the dma-buf, the dma-buf the module. */
	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	ASSERT_EQ(0, munmap(p, ps));
	ASSERT_EQ(-EWOULDBLOCK, sr_unload());
	ASSERT_EQ(0, munmap(p + ps, ps));
	ASSERT_EQ(0, sr_unload());
	ASSERT_FALSE(sr_loaded());
}

/* Many exports, overlapping, each with its reference, all gone after. */
TEST_F(sr, every_export_holds_the_module_once)
{
	int fd = sr_open(_metadata, O_RDWR), bufs[16], i;
	long long refs = sr_refcnt(_metadata);
	long ps = sr_page_size();

	for (i = 0; i < 16; i++)
		bufs[i] = sr_export_ok(_metadata, fd, i * ps, (16 - i) * ps, i % 2 ? O_RDONLY : O_RDWR);
	ASSERT_EQ(refs + 16, sr_refcnt(_metadata));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, close(bufs[i]));
	ASSERT_EQ(refs, sr_refcnt(_metadata));
}

/*
 * Unix sockets: a kernel without CONFIG_NET (the debug tier's) has no
 * socket() at all (ENOSYS), one without CONFIG_UNIX no AF_UNIX.
 */
static bool have_unix_sockets(void)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (s >= 0)
		close(s);
	return s >= 0 || (errno != ENOSYS && errno != EAFNOSUPPORT);
}

/* A descriptor over a Unix socket: SCM_RIGHTS. */
static void send_fd(struct __test_metadata *_metadata, int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ASSERT_EQ(1, sendmsg(sock, &msg, 0));
}

static int recv_fd(struct __test_metadata *_metadata, int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	ASSERT_EQ(1, recvmsg(sock, &msg, MSG_CMSG_CLOEXEC));
	c = CMSG_FIRSTHDR(&msg);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(SCM_RIGHTS, c->cmsg_type);
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

struct unprivileged {
	int sock;
	size_t len;
};

/* In a child: drop to nobody, take the dma-buf from the socket, read it. */
static int read_window_as_nobody(struct __test_metadata *_metadata, void *arg)
{
	struct unprivileged *u = arg;
	gid_t none = SR_NOBODY;
	int buf;
	char *p;

	ASSERT_EQ(0, setgroups(1, &none));
	ASSERT_EQ(0, setgid(SR_NOBODY));
	ASSERT_EQ(0, setuid(SR_NOBODY));
	/* The node is not this process's to open. */
	ASSERT_ERRNO(EACCES, open(SR_DEV, O_RDONLY | O_CLOEXEC));
	buf = recv_fd(_metadata, u->sock);
	ASSERT_EQ(O_RDONLY, fcntl(buf, F_GETFL) & O_ACCMODE);
	p = sr_mmap(_metadata, buf, u->len, PROT_READ, 0);
	ASSERT_STREQ("for nobody's eyes", p + 64);
	ASSERT_ERRNO(EACCES, (long)mmap(NULL, u->len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0));
	ASSERT_ERRNO(EACCES, mprotect(p, u->len, PROT_READ | PROT_WRITE));
	return 0;
}

TEST_F(sr, readonly_export_over_unix_socket_is_readable_not_writable_by_any_uid)
{
	int fd = sr_open(_metadata, O_RDWR), buf, sv[2];
	struct unprivileged u = { .len = 2 * sr_page_size() };

	if (!have_unix_sockets())
		SKIP(return, "this kernel has no Unix sockets (CONFIG_NET, CONFIG_UNIX)");
	ASSERT_EQ(18, pwrite(fd, "for nobody's eyes", 18, 2 * u.len + 64));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	buf = sr_export_ok(_metadata, fd, 2 * u.len, u.len, O_RDONLY | O_CLOEXEC);
	send_fd(_metadata, sv[0], buf);
	/* What the child gets is the socket's: the sender keeps nothing open. */
	ASSERT_EQ(0, close(buf));
	ASSERT_EQ(0, close(fd));
	u.sock = sv[1];
	ASSERT_EQ(0, sr_in_child(_metadata, read_window_as_nobody, &u));
}

/* userspace/examples/window_capability: the same, as an example program. */
TEST_F(sr, window_capability_example_runs)
{
	char *argv[] = { "window_capability", NULL };

	if (!have_unix_sockets())
		SKIP(return, "this kernel has no Unix sockets (CONFIG_NET, CONFIG_UNIX)");
	sr_run_ok(_metadata, argv);
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
