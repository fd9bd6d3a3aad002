// SPDX-License-Identifier: GPL-2.0
/*
 * share_demo: two processes, each with its own open file and its own
 * mapping of /dev/simple_remap, see the same bytes. The parent writes a
 * message through its mapping; the child reads it through its mapping and
 * through pread(), and both must match.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simple_remap.h"

#define MSG_OFFSET 8192

static int child(size_t len, const char *sent)
{
	struct simple_remap sr;
	char via_map[128] = "", via_read[128] = "";
	char *p;

	if (simple_remap_open(&sr, NULL, O_RDONLY) ||
	    simple_remap_map(&sr, 0, 0, PROT_READ, (void **)&p))
		return 1;
	memcpy(via_map, p + MSG_OFFSET, len);
	if (pread(sr.fd, via_read, len, MSG_OFFSET) != (ssize_t)len)
		return 1;
	printf("child  %d: through its mapping: \"%s\"\n", getpid(), via_map);
	printf("child  %d: through pread():     \"%s\"\n", getpid(), via_read);
	fflush(stdout);
	return strcmp(via_map, sent) || strcmp(via_read, sent);
}

int main(void)
{
	struct simple_remap sr;
	char msg[128];
	int ret, status;
	pid_t pid;
	char *p;

	ret = simple_remap_open(&sr, NULL, O_RDWR);
	if (!ret)
		ret = simple_remap_map(&sr, 0, 0, PROT_READ | PROT_WRITE, (void **)&p);
	if (ret) {
		fprintf(stderr, "share_demo: %s: %s\n", SIMPLE_REMAP_DEFAULT_PATH, strerror(-ret));
		return 1;
	}
	snprintf(msg, sizeof(msg), "written by process %d at offset %d", getpid(), MSG_OFFSET);
	memcpy(p + MSG_OFFSET, msg, strlen(msg) + 1);
	printf("parent %d: wrote \"%s\" through its mapping\n", getpid(), msg);
	fflush(stdout);

	pid = fork();
	if (pid == 0)
		_exit(child(strlen(msg) + 1, msg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "share_demo: the child did not see the message\n");
		return 1;
	}
	printf("share_demo: both processes saw the same bytes\n");
	return 0;
}
