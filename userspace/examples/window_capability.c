// SPDX-License-Identifier: GPL-2.0
/*
 * window_capability: a window of the buffer handed out as a capability.
 *
 * The device node is root's (0600). A process that may open it exports one
 * window read-only as a dma-buf (simple_remap_export()) and passes the
 * descriptor over a Unix socket (SCM_RIGHTS) to a process running as a
 * user that may not open the node. That process can map and read exactly
 * that window, and nothing else: not the node, not the rest of the buffer,
 * and not the window for writing.
 *
 *	window_capability [-o OFFSET] [-u UID]
 *
 * Run as root (the guest's 'make shell' is); it exits 0 when the reader saw
 * the message and every write was refused as it should be.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simple_remap.h"

#define MESSAGE "a window handed out as a capability"

static int fail(const char *what, int err)
{
	fprintf(stderr, "window_capability: %s: %s\n", what, strerror(err));
	return 1;
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The reader: @uid, with nothing but what comes over @sock. */
static int reader(int sock, uid_t uid, size_t len)
{
	gid_t gid = uid;
	char *p;
	int fd;

	if (setgroups(1, &gid) || setgid(gid) || setuid(uid))
		return fail("dropping privileges", errno);
	fd = open(SIMPLE_REMAP_DEFAULT_PATH, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		return fail("uid may open " SIMPLE_REMAP_DEFAULT_PATH " (expected EACCES)",
			    fd >= 0 ? 0 : errno);
	printf("reader (uid %d): open(%s): %s, as it should\n", (int)uid,
	       SIMPLE_REMAP_DEFAULT_PATH, strerror(errno));
	fd = recv_fd(sock);
	if (fd < 0)
		return fail("receiving the window", -fd);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mapping the window", errno);
	printf("reader (uid %d): the window reads \"%s\"\n", (int)uid, p);
	if (strcmp(p, MESSAGE))
		return fail("the window holds something else", EBADMSG);
	if (mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) != MAP_FAILED ||
	    errno != EACCES)
		return fail("a writable mapping was not refused with EACCES", errno);
	if (!mprotect(p, len, PROT_READ | PROT_WRITE) || errno != EACCES)
		return fail("mprotect(PROT_WRITE) was not refused with EACCES", errno);
	printf("reader (uid %d): mapping it writable: %s, as it should\n", (int)uid,
	       strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t offset = 1 << 16;
	struct simple_remap sr;
	int opt, sv[2], buf, ret, status;
	uid_t uid = 65534;
	size_t len;
	pid_t pid;
	char *p;

	while ((opt = getopt(argc, argv, "o:u:")) != -1) {
		switch (opt) {
		case 'o':
			offset = strtoull(optarg, NULL, 0);
			break;
		case 'u':
			uid = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: window_capability [-o OFFSET] [-u UID]\n");
			return 2;
		}
	}

	ret = simple_remap_open(&sr, NULL, O_RDWR);
	if (ret)
		return fail("opening " SIMPLE_REMAP_DEFAULT_PATH, -ret);
	len = sr.info.page_size;
	/* The owner writes the message through its own mapping of the device. */
	ret = simple_remap_map(&sr, offset, len, PROT_READ | PROT_WRITE, (void **)&p);
	if (ret)
		return fail("mapping the buffer", -ret);
	strcpy(p, MESSAGE);
	ret = simple_remap_export(&sr, offset, len, O_RDONLY | O_CLOEXEC, &buf);
	if (ret)
		return fail("exporting the window", -ret);
	printf("owner: exported %zu bytes at offset %llu read-only as dma-buf fd %d\n", len,
	       (unsigned long long)offset, buf);
	fflush(stdout);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return fail("socketpair", errno);
	pid = fork();
	if (pid < 0)
		return fail("fork", errno);
	if (pid == 0) {
		/* Nothing of the owner's but the socket. */
		simple_remap_close(&sr);
		close(buf);
		close(sv[0]);
		ret = reader(sv[1], uid, len);
		fflush(stdout);
		_exit(ret);
	}
	close(sv[1]);
	ret = send_fd(sv[0], buf);
	if (ret)
		return fail("sending the window", -ret);
	/* The window is the reader's now; the owner keeps no copy. */
	close(buf);
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid", errno);
	simple_remap_close(&sr);
	return !WIFEXITED(status) || WEXITSTATUS(status);
}
