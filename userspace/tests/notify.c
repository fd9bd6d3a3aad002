// SPDX-License-Identifier: GPL-2.0
/* Notifications: poll() on the device, NOTIFY and ACK, and the ring example. */
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/epoll.h>

#include "simple_remap.h"
#include "sr_test.h"

static int readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, timeout_ms);

	return n < 0 ? -errno : n == 1 && (pfd.revents & POLLIN);
}

static uint64_t notify(int fd)
{
	__u64 seq = 0;

	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, &seq));
	return seq;
}

static uint64_t ack(int fd)
{
	__u64 seq = 0;

	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_ACK, &seq));
	return seq;
}

TEST(new_file_is_not_readable)
{
	int fd1 = sr_open(O_RDWR), fd2;

	notify(fd1);
	fd2 = sr_open(O_RDWR);
	/* Started acknowledged: only the next notification counts. */
	ASSERT_EQ(0, readable(fd2, 0));
	struct pollfd pfd = { .fd = fd2, .events = POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
}

TEST(notify_wakes_other_files_not_the_notifier)
{
	int fd1 = sr_open(O_RDWR), fd2 = sr_open(O_RDONLY);

	notify(fd1);
	ASSERT_EQ(1, readable(fd2, 0));
	ASSERT_EQ(0, readable(fd1, 0));
}

TEST(notify_advances_counter_and_info_reports_it)
{
	int fd = sr_open(O_RDWR);
	uint64_t a = notify(fd), b = notify(fd);

	ASSERT_EQ(a + 1, b);
	ASSERT_EQ(b, sr_info(fd).seq);
}

TEST(ack_clears_pending_and_returns_counter)
{
	int fd1 = sr_open(O_RDWR), fd2 = sr_open(O_RDWR);
	uint64_t seq = notify(fd1);

	ASSERT_EQ(1, readable(fd2, 0));
	ASSERT_EQ(seq, ack(fd2));
	ASSERT_EQ(0, readable(fd2, 0));
	/* GET_INFO only reports the counter; it does not acknowledge. */
	notify(fd1);
	sr_info(fd2);
	ASSERT_EQ(1, readable(fd2, 0));
}

TEST(write_notifies)
{
	int fd1 = sr_open(O_RDWR), fd2 = sr_open(O_RDONLY);

	ASSERT_EQ(1, pwrite(fd1, "x", 1, 0));
	ASSERT_EQ(1, readable(fd2, 0));
}

TEST(notify_before_wait_is_not_lost)
{
	struct simple_remap sr;
	int fd1 = sr_open(O_RDWR);

	ASSERT_EQ(0, simple_remap_open(&sr, NULL, O_RDONLY));
	notify(fd1);
	ASSERT_EQ(0, simple_remap_wait(&sr, 10000));
}

TEST(wait_times_out_without_notification)
{
	struct simple_remap sr;

	ASSERT_EQ(0, simple_remap_open(&sr, NULL, O_RDONLY));
	ASSERT_EQ(-ETIMEDOUT, simple_remap_wait(&sr, 100));
	ASSERT_EQ(0, simple_remap_ack(&sr, NULL));
	ASSERT_EQ(-ETIMEDOUT, simple_remap_wait(&sr, 0));
}

#define WAITERS 8

TEST(many_waiters_all_woken)
{
	int fd = sr_open(O_RDWR), ready[2], i, status;
	pid_t pids[WAITERS];
	char c;

	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < WAITERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int mine = sr_open(O_RDONLY);

			ASSERT_EQ(1, write(ready[1], "r", 1));
			_exit(readable(mine, 20000) == 1 ? 0 : 1);
		}
	}
	for (i = 0; i < WAITERS; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1));
	notify(fd);
	for (i = 0; i < WAITERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

TEST(waiter_killed_while_sleeping)
{
	int fd = sr_open(O_RDWR), ready[2], status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	if (pid == 0) {
		int mine = sr_open(O_RDONLY);

		ASSERT_EQ(1, write(ready[1], "r", 1));
		readable(mine, -1);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	usleep(100 * 1000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The dead waiter left the wait queue: notifying still works. */
	notify(fd);
	notify(fd);
}

TEST(epoll_edge_triggered)
{
	int fd1 = sr_open(O_RDWR), fd2 = sr_open(O_RDONLY), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out;

	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd2, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	notify(fd1);
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
	ASSERT_TRUE(out.events & EPOLLIN);
	/* Edge-triggered: no new edge until the next notification. */
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	notify(fd1);
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
}

static int polled_fd;

static void *poll_thread(void *arg)
{
	struct pollfd pfd = { .fd = polled_fd, .events = POLLIN };

	(void)arg;
	if (poll(&pfd, 1, 20000) != 1)
		return (void *)0L;
	return (void *)(long)pfd.revents;
}

TEST(close_while_another_thread_polls)
{
	int fd1 = sr_open(O_RDWR);
	pthread_t t;
	void *ret;

	polled_fd = sr_open(O_RDONLY);
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, NULL));
	usleep(100 * 1000);
	ASSERT_EQ(0, close(polled_fd));
	/* The wake-up reaches the sleeper, which finds its fd gone. */
	notify(fd1);
	ASSERT_EQ(0, pthread_join(t, &ret));
	ASSERT_EQ(POLLNVAL, (long)ret);
}

static pid_t spawn(char *const argv[])
{
	pid_t pid;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, NULL))
		return -1;
	return pid;
}

static void ring_messages(const char *count)
{
	char *consumer[] = { "ring_consumer", "-n", (char *)count, NULL };
	char *producer[] = { "ring_producer", "-n", (char *)count, NULL };
	pid_t c = spawn(consumer), p = spawn(producer);
	int status;

	ASSERT_TRUE(c > 0 && p > 0);
	ASSERT_EQ(p, waitpid(p, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(c, waitpid(c, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(ring_passes_a_million_messages_in_order)
{
	ring_messages("1000000");
}

int main(void)
{
	return sr_main();
}
